/* msgq.h — the release queue of the message-aware toxics: whole messages
 * (already framed for the wire) go out in order, each no earlier than its
 * due time; one message can be held back to be released out of order
 * (reorder), and a burst window holds everything then lets it go at once. */
#ifndef RTCHAOS_MSGQ_H
#define RTCHAOS_MSGQ_H
#include <stddef.h>
#include <stdint.h>
#include "bytebuf.h"
#include "toxic.h"
#include "txq.h"

typedef struct msgq {
    txq q;
    bytebuf held;            /* the message held for reordering */
    int holding;
    int64_t held_left;       /* messages still to pass before it */
    uint64_t held_until_us;  /* … or this time, whichever first */
    uint64_t burst_until_us; /* while now < this, everything waits for it */
} msgq;

/* Queues a message for release at env->now_us (or the end of a burst
 * window); releases the held message after the gap. 0 or -1 (memory). */
int msgq_send(msgq *m, tx_env *env, const unsigned char *d, size_t n);
/* Like msgq_send for bytes that are not a message (protocol heads, control
 * frames, comments): they do not count toward a reorder gap. */
int msgq_pass(msgq *m, tx_env *env, const unsigned char *d, size_t n);
/* Queues a message for release delay_us from now (order is kept: later
 * messages wait behind it, as on one TCP stream). */
int msgq_send_delayed(msgq *m, tx_env *env, const unsigned char *d, size_t n, uint64_t delay_us);
/* Holds a message until `gap` later messages have gone, or max_hold_us. If a
 * message is already held, this one is sent normally (returns 1). */
int msgq_hold(msgq *m, tx_env *env, const unsigned char *d, size_t n, int64_t gap, uint64_t max_hold_us);
/* Queues the held message now (before an end of body or a close frame,
 * which nothing may follow). */
int msgq_unhold(msgq *m, tx_env *env);
/* Opens a burst window of hold_us (no-op while one is open). Returns 1 when
 * a window was opened. */
int msgq_burst(msgq *m, tx_env *env, uint64_t hold_us);
/* Queues the end of stream after everything (a held message goes first). */
int msgq_eof(msgq *m, tx_env *env);
/* Releases what is due; returns the next deadline or 0. */
uint64_t msgq_tick(msgq *m, tx_env *env);
/* Releases everything now, in order (held message included). */
void msgq_flush(msgq *m, tx_env *env);
size_t msgq_bytes(const msgq *m);
void msgq_free(msgq *m);

#endif
