/* handshake.h — the handshake deadline: every accepted connection must send
 * a complete request head (HTTP request or WebSocket upgrade) within a
 * deadline, or it is cut (the slowloris defence). Transport-free: a
 * connection is an opaque pointer, the clock is passed in, and cutting is a
 * callback, so the bookkeeping is unit-tested without sockets. */
#ifndef RTCHAOS_SERVER_HANDSHAKE_H
#define RTCHAOS_SERVER_HANDSHAKE_H
#include <stddef.h>
#include <stdint.h>

typedef struct handshake_table handshake_table;

/* Tallies, read by /metrics. */
typedef struct handshake_stats {
    uint64_t started;        /* connections whose head was awaited */
    uint64_t completed;      /* heads that arrived in time */
    uint64_t timeouts;       /* connections cut at the deadline */
    uint64_t untracked;      /* accepted while the table was full (left to lws's own bound) */
    uint64_t pending;        /* gauge: heads awaited right now */
} handshake_stats;

/* A table of at most cap pending handshakes, each cut timeout_us after it
 * began. Returns NULL when out of memory. Free with handshake_free. */
handshake_table *handshake_new(size_t cap, uint64_t timeout_us);
void handshake_free(handshake_table *t);

/* A connection was accepted at now_us: start awaiting its head. Returns a
 * token to keep with the connection (lws: its opaque user data) and pass to
 * handshake_end, or NULL when the table is full (counted as untracked). */
void *handshake_begin(handshake_table *t, void *conn, uint64_t now_us);

/* Whether token is a live token of t (so other users of the same slot,
 * e.g. a marker stored after the handshake, are told apart). */
int handshake_owns(const handshake_table *t, const void *token);

/* The head of conn arrived (completed = 1) or conn went away before it did
 * (completed = 0): forget token. A token t does not own, or that now stands
 * for another connection, is ignored. */
void handshake_end(handshake_table *t, void *token, const void *conn, int completed);

/* Calls cut(conn, ud) for every connection whose deadline has passed at
 * now_us, oldest first, forgets them and counts them as timeouts. Returns
 * how many were cut. The callback must not call back into t. */
size_t handshake_expire(handshake_table *t, uint64_t now_us, void (*cut)(void *conn, void *ud), void *ud);

/* The oldest pending handshake's age at now_us in µs (0 when none). */
uint64_t handshake_oldest_us(const handshake_table *t, uint64_t now_us);

void handshake_get_stats(const handshake_table *t, handshake_stats *out);

#endif
