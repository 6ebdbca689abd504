/* msgq.c — ordered, timed release of whole messages. */
#include "msgq.h"

static uint64_t due_now(const msgq *m, const tx_env *env)
{
    uint64_t due = env->now_us;
    if (m->burst_until_us > due)
        due = m->burst_until_us;
    return due;
}

static int release_held(msgq *m, tx_env *env)
{
    if (!m->holding)
        return 0;
    m->holding = 0;
    int rc = txq_push(&m->q, due_now(m, env), m->held.p, m->held.len);
    bytebuf_reset(&m->held);
    return rc;
}

int msgq_unhold(msgq *m, tx_env *env)
{
    return release_held(m, env);
}

int msgq_pass(msgq *m, tx_env *env, const unsigned char *d, size_t n)
{
    if (!m->q.head && m->burst_until_us <= env->now_us) {
        env->emit(env->u, d, n); /* nothing ahead of it: no copy */
        return 0;
    }
    return txq_push(&m->q, due_now(m, env), d, n);
}

int msgq_send(msgq *m, tx_env *env, const unsigned char *d, size_t n)
{
    if (msgq_pass(m, env, d, n) < 0)
        return -1;
    if (m->holding && --m->held_left <= 0)
        return release_held(m, env);
    return 0;
}

int msgq_send_delayed(msgq *m, tx_env *env, const unsigned char *d, size_t n, uint64_t delay_us)
{
    uint64_t due = env->now_us + delay_us;
    if (due < due_now(m, env))
        due = due_now(m, env);
    if (txq_push(&m->q, due, d, n) < 0)
        return -1;
    if (m->holding && --m->held_left <= 0)
        return release_held(m, env);
    return 0;
}

int msgq_hold(msgq *m, tx_env *env, const unsigned char *d, size_t n, int64_t gap, uint64_t max_hold_us)
{
    if (m->holding)
        return msgq_send(m, env, d, n) < 0 ? -1 : 1;
    /* the bytes stay in order behind anything queued, then wait */
    bytebuf_reset(&m->held);
    if (bytebuf_add(&m->held, d, n) < 0)
        return -1;
    m->holding = 1;
    m->held_left = gap > 0 ? gap : 1;
    m->held_until_us = env->now_us + max_hold_us;
    return 0;
}

int msgq_burst(msgq *m, tx_env *env, uint64_t hold_us)
{
    if (m->burst_until_us > env->now_us)
        return 0;
    m->burst_until_us = env->now_us + hold_us;
    return 1;
}

int msgq_eof(msgq *m, tx_env *env)
{
    if (release_held(m, env) < 0)
        return -1;
    return txq_push_eof(&m->q, due_now(m, env));
}

uint64_t msgq_tick(msgq *m, tx_env *env)
{
    if (m->holding && env->now_us >= m->held_until_us)
        release_held(m, env);
    uint64_t next = txq_release(&m->q, env);
    if (m->holding && (next == 0 || m->held_until_us < next))
        next = m->held_until_us;
    return next;
}

void msgq_flush(msgq *m, tx_env *env)
{
    m->burst_until_us = 0;
    release_held(m, env);
    txq_flush(&m->q, env);
}

size_t msgq_bytes(const msgq *m)
{
    return m->q.bytes + m->held.len;
}

void msgq_free(msgq *m)
{
    txq_clear(&m->q);
    bytebuf_free(&m->held);
}
