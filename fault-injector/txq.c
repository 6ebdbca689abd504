/* txq.c — FIFO of timed byte runs for the time-shaping toxics. */
#include "txq.h"

#include <stdlib.h>
#include <string.h>

static int push(txq *q, uint64_t due_us, const unsigned char *d, size_t n, int eof)
{
    txq_item *it = malloc(sizeof *it + n);
    if (!it)
        return -1;
    it->next = NULL;
    it->due_us = due_us;
    it->len = n;
    it->eof = eof;
    if (n)
        memcpy(it->data, d, n);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->bytes += n;
    if (due_us > q->last_due_us)
        q->last_due_us = due_us;
    return 0;
}

int txq_push(txq *q, uint64_t due_us, const unsigned char *d, size_t n)
{
    return push(q, due_us, d, n, 0);
}

int txq_push_eof(txq *q, uint64_t due_us)
{
    return push(q, due_us, NULL, 0, 1);
}

/* Pops the head before emitting, because emitting may re-enter the toxic
 * (an emit can end the connection and flush this very queue). */
static void pop_emit(txq *q, tx_env *env)
{
    txq_item *it = q->head;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= it->len;
    if (it->eof)
        env->emit_eof(env->u);
    else
        env->emit(env->u, it->data, it->len);
    free(it);
}

uint64_t txq_release(txq *q, tx_env *env)
{
    while (q->head && q->head->due_us <= env->now_us) {
        if (env->lateness && q->head->due_us)
            env->lateness(env->u, env->now_us - q->head->due_us);
        pop_emit(q, env);
    }
    return q->head ? (q->head->due_us ? q->head->due_us : 1) : 0;
}

void txq_flush(txq *q, tx_env *env)
{
    while (q->head)
        pop_emit(q, env);
}

void txq_clear(txq *q)
{
    while (q->head) {
        txq_item *it = q->head;
        q->head = it->next;
        free(it);
    }
    q->tail = NULL;
    q->bytes = 0;
}

uint64_t txq_toxic_tick(void *state, const void *attrs, tx_env *env)
{
    (void)attrs;
    return txq_release((txq *)state, env);
}

void txq_toxic_flush(void *state, const void *attrs, tx_env *env)
{
    (void)attrs;
    txq_flush((txq *)state, env);
}

void txq_toxic_stop(void *state)
{
    txq_clear((txq *)state);
}

size_t txq_toxic_held(const void *state)
{
    return ((const txq *)state)->bytes;
}
