/* toxic_timeout.c — Toxiproxy's timeout: swallow all data; close the
 * connection `timeout` ms after the toxic starts on it (0: never). As in
 * Toxiproxy, removing the toxic closes the connections it held, since their
 * streams have lost data. */
#include "toxic.h"

#include <string.h>

typedef struct timeout_attrs {
    int64_t timeout; /* ms */
} timeout_attrs;

typedef struct timeout_state {
    uint64_t start_us;
    uint64_t dropped;
    int closed;
} timeout_state;

static void defaults(void *a)
{
    memset(a, 0, sizeof(timeout_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "timeout") == 0) {
            if (tx_attr_int(v, k, 0, 24LL * 3600 * 1000, &((timeout_attrs *)a)->timeout, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("timeout", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    return json_pack("{s:I}", "timeout", (json_int_t)((const timeout_attrs *)a)->timeout);
}

static void start(void *s, const void *a, tx_env *env)
{
    (void)a;
    ((timeout_state *)s)->start_us = env->now_us;
}

static void close_once(timeout_state *st, tx_env *env, const char *why)
{
    if (st->closed)
        return;
    st->closed = 1;
    env->record(env->u, why, json_pack("{s:I}", "dropped_bytes", (json_int_t)st->dropped));
    env->close(env->u, TX_CLOSE_FIN);
}

static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    (void)a;
    (void)env;
    (void)d;
    ((timeout_state *)s)->dropped += n;
}

static void eof(void *s, const void *a, tx_env *env)
{
    (void)a;
    close_once(s, env, "close");
}

static uint64_t tick(void *s, const void *a, tx_env *env)
{
    timeout_state *st = s;
    int64_t t = ((const timeout_attrs *)a)->timeout;
    if (t <= 0 || st->closed)
        return 0;
    uint64_t due = st->start_us + (uint64_t)t * 1000;
    if (env->now_us < due)
        return due;
    close_once(st, env, "timeout_close");
    return 0;
}

static void flush(void *s, const void *a, tx_env *env)
{
    (void)a;
    close_once(s, env, "close_on_remove");
}

const toxic_type toxic_timeout_type = {
    .name = "timeout",
    .attrs_size = sizeof(timeout_attrs),
    .state_size = sizeof(timeout_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .start = start,
    .data = data,
    .eof = eof,
    .tick = tick,
    .flush = flush,
};
