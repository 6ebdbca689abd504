/* history.h — one channel's stream: sequence numbers, epoch, a history ring
 * bounded by count and by age, the snapshot value, idempotency keys, and the
 * resync decision for a client that resumes from a position. */
#ifndef RTCHAOS_SERVER_HISTORY_H
#define RTCHAOS_SERVER_HISTORY_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "msg.h"

/* Slots a channel's history ring starts with (it doubles up to max_events). */
#define HISTORY_FIRST_CAP 16

typedef struct history_cfg {
    uint32_t max_events;  /* history ring size (>= 1) */
    uint64_t max_age_us;  /* events older than this leave the ring; 0 = no age bound */
} history_cfg;

/* Lifetime: owned by its channel (channels.c), for the life of the server.
 * Not thread-safe (the server is one event loop). */
typedef struct history {
    char name[ENV_CH_MAX + 1];
    char epoch[ENV_EPOCH_MAX + 1];
    uint64_t head;         /* last assigned seq; 0 = nothing published yet */
    msg **ring;            /* cap slots: grows by doubling up to cfg.max_events */
    uint32_t start, count; /* oldest slot, events held */
    uint32_t cap;          /* slots allocated */
    msg *last;             /* the snapshot value: last published event, kept
                              after it leaves the ring; NULL when head == 0 */
    history_cfg cfg;
} history;

typedef enum history_resync {
    HISTORY_UP_TO_DATE = 0, /* since == head: nothing missed (recovered) */
    HISTORY_REPLAY,         /* since+1 .. head are all in the ring (recovered) */
    HISTORY_SNAPSHOT,       /* history does not reach back, the epoch changed,
                               or since is ahead of head: not recovered */
} history_resync;

/* Initializes h for channel name with the given epoch (an opaque string the
 * caller makes unique per history lifetime). Returns 0, or -1 with err. */
int history_init(history *h, const char *name, const char *epoch, const history_cfg *cfg,
                 char *err, size_t errlen);
/* Drops every reference h holds. */
void history_free(history *h);

/* Removes events stored before now_us - max_age_us from the ring. */
void history_evict_aged(history *h, uint64_t now_us);

/* Publishes one event: data (data_len bytes of compact JSON) with publisher
 * timestamp ts_us, optional idempotency key idem, at server time now_us.
 * When idem repeats a key still in the history window, nothing is stored,
 * *dup is set to 1 and *out is the original event. Otherwise the event gets
 * seq head+1, enters the ring (evicting the oldest when full) and becomes the
 * snapshot value; *dup = 0. *out is borrowed (take msg_ref to keep it).
 * Returns 0, or -1 with err (out of memory). */
int history_publish(history *h, const char *data, size_t data_len, int64_t ts_us,
                    const char *idem, uint64_t now_us, msg **out, int *dup,
                    char *err, size_t errlen);

/* Decides how to answer a client that has everything up to since.
 * has_since = 0 means a fresh subscription (answer: HISTORY_UP_TO_DATE, live
 * from head). epoch is the one the client last saw, or NULL when it did not
 * say (older clients): then only the seq is checked. Ages the ring first. */
history_resync history_resync_decide(history *h, int has_since, uint64_t since,
                                     const char *epoch, uint64_t now_us);

/* The event with this seq if still in the ring, else NULL (borrowed). */
msg *history_get(const history *h, uint64_t seq);
/* Seq of the oldest event in the ring, or head+1 when the ring is empty. */
uint64_t history_oldest(const history *h);

/* Loses the history on purpose (admin reset): empties the ring, forgets the
 * snapshot value and the idempotency keys, keeps head (so seqs never repeat)
 * and switches to new_epoch. */
void history_reset(history *h, const char *new_epoch);

/* history_reset, and head set to the given seq: the channel's stream is
 * kept elsewhere (Redis, broker.c), which decides the next seq (head + 1). */
void history_rebase(history *h, const char *new_epoch, uint64_t head);

#endif
