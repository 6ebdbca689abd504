/* txq.h — a FIFO of byte runs (and an end-of-stream mark) each released at
 * its due time: the holding queue of the time-shaping toxics. */
#ifndef RTCHAOS_TXQ_H
#define RTCHAOS_TXQ_H
#include <stddef.h>
#include <stdint.h>
#include "toxic.h"

typedef struct txq_item {
    struct txq_item *next;
    uint64_t due_us;
    size_t len;
    int eof;
    unsigned char data[];
} txq_item;

/* Zero-initialised is empty. Owns its items; not thread-safe. */
typedef struct txq {
    txq_item *head, *tail;
    size_t bytes;
    uint64_t last_due_us;
} txq;

/* Appends n bytes due at due_us (copied). FIFO: an item is never released
 * before the one ahead of it, whatever its due time. Returns 0 or -1 (no
 * memory). */
int txq_push(txq *q, uint64_t due_us, const unsigned char *d, size_t n);
/* Appends the end-of-stream mark, released through env->emit_eof. */
int txq_push_eof(txq *q, uint64_t due_us);
/* Emits every item at the head that is due at env->now_us. Returns the due
 * time of the next item, or 0 when the queue is empty. */
uint64_t txq_release(txq *q, tx_env *env);
/* Emits everything now, in order. */
void txq_flush(txq *q, tx_env *env);
/* Frees every item without emitting. */
void txq_clear(txq *q);

/* Toxic callbacks for a toxic whose state begins with a `txq` (latency,
 * bandwidth, slicer): release what is due, flush all, drop all, bytes held.
 * The state must have the txq as its first member. */
uint64_t txq_toxic_tick(void *state, const void *attrs, tx_env *env);
void txq_toxic_flush(void *state, const void *attrs, tx_env *env);
void txq_toxic_stop(void *state);
size_t txq_toxic_held(const void *state);

#endif
