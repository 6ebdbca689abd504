/* toxic_bandwidth.c — Toxiproxy's bandwidth toxic: pass data at most at
 * `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts). */
#include "toxic.h"
#include "txq.h"

#include <string.h>

typedef struct bandwidth_attrs {
    int64_t rate; /* KB/s; 0 = unlimited */
} bandwidth_attrs;

typedef struct bandwidth_state {
    txq q; /* first: the txq_toxic_* callbacks use the state as a txq */
    uint64_t next_free_us; /* when the simulated link finishes what it has */
} bandwidth_state;

static void defaults(void *a)
{
    memset(a, 0, sizeof(bandwidth_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    bandwidth_attrs *ba = a;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "rate") == 0) {
            if (tx_attr_int(v, k, 0, INT64_C(1) << 40, &ba->rate, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("bandwidth", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    return json_pack("{s:I}", "rate", (json_int_t)((const bandwidth_attrs *)a)->rate);
}

/* Data is cut into pieces of about 20 ms of transmission each; a piece is
 * released when the simulated link would have finished sending it. */
static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    bandwidth_state *st = s;
    int64_t rate = ((const bandwidth_attrs *)a)->rate;
    if (rate <= 0 && st->q.head == NULL) {
        env->emit(env->u, d, n);
        return;
    }
    size_t piece = rate > 0 ? (size_t)rate * 20 : n;
    if (piece < 64)
        piece = 64;
    if (st->next_free_us < env->now_us)
        st->next_free_us = env->now_us;
    while (n > 0) {
        size_t k = n < piece ? n : piece;
        if (rate > 0)
            st->next_free_us += (uint64_t)k * 1000 / (uint64_t)rate;
        if (txq_push(&st->q, st->next_free_us, d, k) < 0) {
            env->close(env->u, TX_CLOSE_RST);
            return;
        }
        d += k;
        n -= k;
    }
}

static void eof(void *s, const void *a, tx_env *env)
{
    (void)a;
    bandwidth_state *st = s;
    if (txq_push_eof(&st->q, st->q.last_due_us) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

const toxic_type toxic_bandwidth_type = {
    .name = "bandwidth",
    .attrs_size = sizeof(bandwidth_attrs),
    .state_size = sizeof(bandwidth_state),
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
