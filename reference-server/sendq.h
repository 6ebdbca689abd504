/* sendq.h — one connection's bounded send queue (messages and bytes) and the
 * backpressure policies applied when it is full. */
#ifndef RTCHAOS_SERVER_SENDQ_H
#define RTCHAOS_SERVER_SENDQ_H
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

typedef enum sendq_policy {
    SENDQ_DROP = 0,    /* drop the oldest queued events (the client sees a gap) */
    SENDQ_COALESCE,    /* keep only the newest queued event per channel */
    SENDQ_SNAPSHOT,    /* discard the queue; a snapshot per channel replaces it */
    SENDQ_DISCONNECT,  /* shed the connection (WebSocket close 1013) */
    SENDQ_POLICY_COUNT
} sendq_policy;

/* "drop" … → policy; returns -1 for an unknown name. */
int sendq_policy_parse(const char *s, sendq_policy *out);
const char *sendq_policy_name(sendq_policy p);

/* One queued item: an event (m != NULL) or a snapshot marker (m == NULL: "send
 * the channel's snapshot here"). tag identifies the subscription it belongs
 * to (the caller's conn_sub); the queue only compares it. */
typedef struct sendq_item {
    msg *m;
    void *tag;
} sendq_item;

/* What sendq_push did beyond queueing (counted by the caller). */
typedef struct sendq_outcome {
    uint32_t dropped;    /* events removed (drop and coalesce) */
    uint32_t snapshots;  /* snapshot markers that replaced events */
    int disconnect;      /* the policy says: shed this connection */
} sendq_outcome;

/* Called for each event the queue discards, before its reference is dropped,
 * so the owner can note the gap per subscription. */
typedef void (*sendq_drop_fn)(void *tag, const msg *m, void *ctx);

/* What all the queues of a server share: their limits and drop hook (the
 * same for every connection, so not repeated in each), and the totals over
 * all of them, kept up to date as each queue changes so that /metrics reads
 * them in O(1) instead of walking every connection. The deepest queue is
 * tracked exactly with a count of queues per depth: a depth only moves by
 * what was pushed or removed, so finding the new deepest after a queue
 * shrinks costs at most the depth it lost (amortised O(1) per item). */
typedef struct sendq_shared {
    uint32_t max_msgs;
    size_t max_bytes;
    sendq_drop_fn on_drop;
    void *drop_ctx;
    /* totals over every queue initialised with this */
    uint64_t msgs, bytes;
    uint32_t max_depth;       /* items in the deepest queue */
    uint32_t *at_depth;       /* [d]: queues holding d items, d <= max_msgs + 1
                               * (calloc'ed: pages are touched only as deep
                               * as queues actually get) */
} sendq_shared;

/* max_msgs >= 2, max_bytes >= 1 (raised to those). Returns 0, or -1 when
 * out of memory. */
int sendq_shared_init(sendq_shared *sh, uint32_t max_msgs, size_t max_bytes, sendq_drop_fn on_drop,
                      void *ctx);
/* Call after every queue using it is freed. */
void sendq_shared_free(sendq_shared *sh);

/* Lifetime: embedded in its connection; the item array is allocated on first
 * use and grows (doubling) up to max_msgs, so an idle connection costs no
 * queue memory. Not thread-safe. */
typedef struct sendq {
    sendq_item *items;
    uint32_t cap, head, count;
    size_t bytes;
    sendq_shared *sh;
} sendq;

void sendq_init(sendq *q, sendq_shared *sh);
/* Drops every reference and the array. */
void sendq_free(sendq *q);

/* Queues m (takes its own reference) for subscription tag. When the queue
 * would exceed max_msgs or max_bytes, applies policy first and reports what
 * it did in *out (zeroed otherwise):
 *   drop: removes the oldest events until m fits (m itself when nothing else
 *         can go); coalesce: keeps only the newest queued event of each tag,
 *         then drops the oldest if that is not enough; snapshot: replaces all
 *         queued items with one snapshot marker per tag (m's tag included) and
 *         does not queue m; disconnect: queues nothing, sets out->disconnect.
 * Returns 0 on success, -1 when out of memory (m not queued). */
int sendq_push(sendq *q, msg *m, void *tag, sendq_policy policy, sendq_outcome *out);

/* Queues a snapshot marker for tag (replacing that tag's queued items). */
int sendq_push_snapshot(sendq *q, void *tag);

/* The oldest item, without removing it; NULL when empty. */
const sendq_item *sendq_peek(const sendq *q);
/* Removes the oldest item and drops its reference. */
void sendq_pop(sendq *q);
/* Removes every item of tag (an unsubscribe). */
void sendq_remove_tag(sendq *q, void *tag);

static inline uint32_t sendq_len(const sendq *q) { return q->count; }
static inline size_t sendq_bytes(const sendq *q) { return q->bytes; }

#endif
