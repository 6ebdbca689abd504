/* proxy.h — named TCP proxies (listen address → upstream) on one libevent
 * loop, their connections, and the chain of toxic stages each connection
 * runs in each direction. Everything here runs on the loop's thread, which
 * is what makes adding or removing a toxic atomic for every connection. */
#ifndef RTCHAOS_PROXY_H
#define RTCHAOS_PROXY_H
#include <stddef.h>
#include <stdint.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include "evlog.h"
#include "toxic.h"

#define PROXY_NAME_MAX 128
#define PROXY_ADDR_MAX 256

typedef struct proxy proxy;
typedef struct proxy_server proxy_server;

/* Creates the proxy registry on base. seed drives every random decision;
 * log (owned by the caller, outlives the server) records actions. Returns
 * NULL when out of memory or descriptors (it holds one timerfd). */
proxy_server *proxy_server_new(struct event_base *base, uint64_t seed, evlog *log);
/* Whether directions without toxics move bytes with splice(2) (default on;
 * off gives the plain bufferevent path, for comparison). */
void proxy_server_set_splice(proxy_server *s, int on);
/* Closes every proxy and connection and frees the registry. */
void proxy_server_free(proxy_server *s);

/* Creates and (when enabled) starts a proxy. Returns 0; or -1 with err and
 * *status set to the HTTP status the API should answer (400 bad input,
 * 409 name taken, 500 cannot listen). */
int proxy_create(proxy_server *s, const char *name, const char *listen, const char *upstream,
                 int enabled, proxy **out, int *status, char *err, size_t errlen);
/* Toxiproxy's populate step for one proxy: an existing proxy of that name
 * with the same listen and upstream is kept as it is; one that differs is
 * replaced. Same return and *status as proxy_create. */
int proxy_populate_one(proxy_server *s, const char *name, const char *listen, const char *upstream,
                       int enabled, proxy **out, int *status, char *err, size_t errlen);
proxy *proxy_find(proxy_server *s, const char *name);
/* Calls fn for every proxy, in creation order. */
void proxy_foreach(proxy_server *s, void (*fn)(proxy *p, void *arg), void *arg);
size_t proxy_count(const proxy_server *s);

/* Changes listen/upstream (NULL: unchanged) and enabled. A changed address
 * restarts the proxy (dropping its connections); enabled 0 closes the
 * listener and every connection. Returns 0 or -1 with err and *status. */
int proxy_update(proxy *p, const char *listen, const char *upstream, int enabled,
                 int *status, char *err, size_t errlen);
/* Closes and frees p and its connections and toxics. */
void proxy_delete(proxy *p);
const char *proxy_name(const proxy *p);
const char *proxy_listen(const proxy *p);
const char *proxy_upstream(const proxy *p);
/* The upstream pool (rtchaos extension, docs/faults.md): addrs (n, <=
 * UPOOL_MAX; NULL = keep the addresses, change balance only) become the
 * pool, the first also the Toxiproxy-visible "upstream"; balance
 * "roundrobin" | "leastconn" | "source" or NULL (unchanged). n == 0 with
 * addrs removes the pool. Returns 0, or -1 with err (nothing changed). */
int proxy_set_pool(proxy *p, const char *const *addrs, size_t n, const char *balance, char *err,
                   size_t errlen);
int proxy_enabled(const proxy *p);

/* {"name","listen","upstream","enabled","toxics":[…]} — new reference. */
json_t *proxy_to_json(const proxy *p);
/* The proxy's toxics as a JSON array — new reference. */
json_t *proxy_toxics_json(const proxy *p);

/* Adds t (ownership passes to p on success) to the proxy and, in the same
 * loop iteration, to every open connection of p. -1 with err when a toxic
 * of that name exists (the API answers 409). */
int proxy_toxic_add(proxy *p, toxic *t, char *err, size_t errlen);
toxic *proxy_toxic_find(proxy *p, const char *name);
/* Applies an update body to a toxic of p; open connections see the new
 * attributes at once (a changed toxicity is drawn again). */
int proxy_toxic_update(proxy *p, toxic *t, json_t *body, char *err, size_t errlen);
/* Removes t from the proxy and every connection: what its stages hold is
 * passed on first. Never waits on traffic. */
void proxy_toxic_remove(proxy *p, toxic *t);
/* Toxiproxy's POST /reset: enable every proxy, remove every toxic. Returns
 * 0 or -1 with err when a proxy cannot listen again. */
int proxy_reset_all(proxy_server *s, char *err, size_t errlen);

/* Appends the Prometheus text exposition of every counter to out. */
void proxy_metrics_write(proxy_server *s, struct evbuffer *out);

#endif
