/* toxic_latency.c — Toxiproxy's latency toxic (latency ± jitter per chunk,
 * order kept), plus netem's distributions and correlation. */
#include "delay.h"
#include "toxic.h"
#include "txq.h"

#include <string.h>

typedef struct latency_attrs {
    delay_spec d;
} latency_attrs;

typedef struct latency_state {
    txq q; /* first: the txq_toxic_* callbacks use the state as a txq */
    delay_state ds;
} latency_state;

static void defaults(void *a)
{
    memset(a, 0, sizeof(latency_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    latency_attrs *la = a;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int rc = delay_parse_key(&la->d, k, v, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return tx_attr_unknown("latency", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    json_t *o = json_object();
    delay_to_json(&((const latency_attrs *)a)->d, o);
    return o;
}

/* Each chunk is due at arrival + a fresh delay, but never before the chunk
 * ahead of it: like Toxiproxy, latency never reorders bytes of a stream. */
static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    latency_state *st = s;
    uint64_t due = env->now_us + (uint64_t)delay_sample_us(&((const latency_attrs *)a)->d, &st->ds, env->rng);
    if (due < st->q.last_due_us)
        due = st->q.last_due_us;
    if (txq_push(&st->q, due, d, n) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

static void eof(void *s, const void *a, tx_env *env)
{
    (void)a;
    latency_state *st = s;
    uint64_t due = st->q.last_due_us > env->now_us ? st->q.last_due_us : env->now_us;
    if (txq_push_eof(&st->q, due) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

const toxic_type toxic_latency_type = {
    .name = "latency",
    .attrs_size = sizeof(latency_attrs),
    .state_size = sizeof(latency_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .data = data,
    .eof = eof,
    .tick = txq_toxic_tick,
    .flush = txq_toxic_flush,
    .stop = txq_toxic_stop,
    .held = txq_toxic_held,
};
