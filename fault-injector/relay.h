/* relay.h — internal to fault-injector/: a proxied connection's bytes (see
 * relay.c), as proxy.c drives them. Loop thread only. */
#ifndef RTCHAOS_RELAY_H
#define RTCHAOS_RELAY_H

#include "proxy_int.h"

/* Records an action in the proxy's event log (and the toxic's counters
 * when t is not NULL). detail is stolen. */
void relay_record(proxy *p, uint64_t conn_id, toxic *t, const char *action, json_t *detail);
/* Starts an accepted connection (see relay.c); on failure fd is closed
 * and c freed. */
void relay_conn_start(conn *c, evutil_socket_t fd);
/* Frees c now (its sockets closed, with RST when c->rst). */
void relay_conn_free(conn *c);
/* Around anything done to c from outside its callbacks: leave frees a
 * finished connection, or runs its stages and re-arms its deadline. */
void relay_conn_enter(conn *c);
void relay_conn_leave(conn *c);
/* Closes c: TX_CLOSE_FIN drains what is queued first (within a deadline),
 * TX_CLOSE_RST aborts. Takes effect at relay_conn_leave. */
void relay_conn_close(conn *c, tx_close how);
/* Adds a stage of toxic t to direction l (message-aware ones first, started
 * at the tracker's next boundary). 0 / -1 when out of memory. */
int relay_add_stage(dlink *l, toxic *t);
/* Takes t's stage out of l (at the next message boundary when it must). */
void relay_remove_toxic(dlink *l, toxic *t);
/* The server's deadline heap fired (its timerfd is readable): arg is the
 * proxy_server. */
void relay_on_timers(evutil_socket_t fd, short what, void *arg);

#endif
