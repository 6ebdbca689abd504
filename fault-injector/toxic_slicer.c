/* toxic_slicer.c — Toxiproxy's slicer: cut each chunk into pieces of about
 * average_size ± size_variation bytes, `delay` µs apart. */
#include "toxic.h"
#include "txq.h"

#include <stdio.h>
#include <string.h>

typedef struct slicer_attrs {
    int64_t average_size;
    int64_t size_variation;
    int64_t delay; /* µs between pieces */
} slicer_attrs;

typedef struct slicer_state {
    txq q; /* first: the txq_toxic_* callbacks use the state as a txq */
} slicer_state;

static void defaults(void *a)
{
    slicer_attrs *sa = a;
    sa->average_size = 1;
    sa->size_variation = 0;
    sa->delay = 0;
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    slicer_attrs *sa = a;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int rc;
        if (strcmp(k, "average_size") == 0)
            rc = tx_attr_int(v, k, 1, 1 << 30, &sa->average_size, err, errlen);
        else if (strcmp(k, "size_variation") == 0)
            rc = tx_attr_int(v, k, 0, 1 << 30, &sa->size_variation, err, errlen);
        else if (strcmp(k, "delay") == 0)
            rc = tx_attr_int(v, k, 0, 60LL * 1000 * 1000, &sa->delay, err, errlen);
        else
            return tx_attr_unknown("slicer", k, err, errlen);
        if (rc < 0)
            return -1;
    }
    if (sa->size_variation >= sa->average_size) {
        snprintf(err, errlen, "attribute size_variation must be smaller than average_size");
        return -1;
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    const slicer_attrs *sa = a;
    return json_pack("{s:I,s:I,s:I}", "average_size", (json_int_t)sa->average_size,
                     "size_variation", (json_int_t)sa->size_variation, "delay",
                     (json_int_t)sa->delay);
}

/* Splits [start,end) the way Toxiproxy does: halve (± variation) until a
 * part is within the variation of the average, so pieces vary evenly. The
 * recursion depth is log2(len / average). */
static int cut(const slicer_attrs *sa, tx_env *env, slicer_state *st, const unsigned char *d,
               size_t start, size_t end, uint64_t *due)
{
    if ((int64_t)(end - start) - sa->average_size <= sa->size_variation) {
        if (txq_push(&st->q, *due, d + start, end - start) < 0)
            return -1;
        *due += (uint64_t)sa->delay;
        return 0;
    }
    size_t mid = start + (end - start) / 2;
    if (sa->size_variation > 0)
        mid = (size_t)((int64_t)mid + (int64_t)prng_below(env->rng, (uint64_t)sa->size_variation * 2) -
                       sa->size_variation);
    if (cut(sa, env, st, d, start, mid, due) < 0)
        return -1;
    return cut(sa, env, st, d, mid, end, due);
}

static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    slicer_state *st = s;
    uint64_t due = st->q.last_due_us > env->now_us ? st->q.last_due_us : env->now_us;
    if (cut(a, env, st, d, 0, n, &due) < 0)
        env->close(env->u, TX_CLOSE_RST); /* out of memory: a cut stream cannot go on */
}

static void eof(void *s, const void *a, tx_env *env)
{
    (void)a;
    slicer_state *st = s;
    if (txq_push_eof(&st->q, st->q.last_due_us > env->now_us ? st->q.last_due_us : env->now_us) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

const toxic_type toxic_slicer_type = {
    .name = "slicer",
    .attrs_size = sizeof(slicer_attrs),
    .state_size = sizeof(slicer_state),
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
