/* toxic_slow_close.c — Toxiproxy's slow_close: hold the end of stream back
 * for `delay` ms after it arrives. */
#include "toxic.h"

#include <string.h>

typedef struct slow_close_attrs {
    int64_t delay; /* ms */
} slow_close_attrs;

typedef struct slow_close_state {
    int eof_pending;
    uint64_t eof_due_us;
} slow_close_state;

static void defaults(void *a)
{
    memset(a, 0, sizeof(slow_close_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "delay") == 0) {
            if (tx_attr_int(v, k, 0, 3600 * 1000, &((slow_close_attrs *)a)->delay, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("slow_close", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    return json_pack("{s:I}", "delay", (json_int_t)((const slow_close_attrs *)a)->delay);
}

static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    (void)s;
    (void)a;
    env->emit(env->u, d, n);
}

static void eof(void *s, const void *a, tx_env *env)
{
    slow_close_state *st = s;
    st->eof_pending = 1;
    st->eof_due_us = env->now_us + (uint64_t)((const slow_close_attrs *)a)->delay * 1000;
    env->record(env->u, "close_delayed",
                json_pack("{s:I}", "delay_ms", (json_int_t)((const slow_close_attrs *)a)->delay));
}

static uint64_t tick(void *s, const void *a, tx_env *env)
{
    (void)a;
    slow_close_state *st = s;
    if (!st->eof_pending)
        return 0;
    if (env->now_us < st->eof_due_us)
        return st->eof_due_us;
    st->eof_pending = 0;
    env->emit_eof(env->u);
    return 0;
}

static void flush(void *s, const void *a, tx_env *env)
{
    (void)a;
    slow_close_state *st = s;
    if (st->eof_pending) {
        st->eof_pending = 0;
        env->emit_eof(env->u);
    }
}

const toxic_type toxic_slow_close_type = {
    .name = "slow_close",
    .attrs_size = sizeof(slow_close_attrs),
    .state_size = sizeof(slow_close_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .data = data,
    .eof = eof,
    .tick = tick,
    .flush = flush,
};
