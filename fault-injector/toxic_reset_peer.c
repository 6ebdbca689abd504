/* toxic_reset_peer.c — Toxiproxy's reset_peer: when data (or the end of
 * stream) first arrives, wait `timeout` ms, then abort the connection with a
 * TCP RST. Data after the trigger is not forwarded. */
#include "toxic.h"

#include <string.h>

typedef struct reset_peer_attrs {
    int64_t timeout; /* ms */
} reset_peer_attrs;

typedef struct reset_peer_state {
    int armed, done;
    uint64_t due_us;
} reset_peer_state;

static void defaults(void *a)
{
    memset(a, 0, sizeof(reset_peer_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "timeout") == 0) {
            if (tx_attr_int(v, k, 0, 24LL * 3600 * 1000, &((reset_peer_attrs *)a)->timeout, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("reset_peer", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    return json_pack("{s:I}", "timeout", (json_int_t)((const reset_peer_attrs *)a)->timeout);
}

static uint64_t tick(void *s, const void *a, tx_env *env)
{
    (void)a;
    reset_peer_state *st = s;
    if (!st->armed || st->done)
        return 0;
    if (env->now_us < st->due_us)
        return st->due_us;
    st->done = 1;
    env->record(env->u, "reset", NULL);
    env->close(env->u, TX_CLOSE_RST);
    return 0;
}

static void arm(reset_peer_state *st, const void *a, tx_env *env)
{
    if (st->armed)
        return;
    st->armed = 1;
    st->due_us = env->now_us + (uint64_t)((const reset_peer_attrs *)a)->timeout * 1000;
    tick(st, a, env);
}

static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    (void)d;
    (void)n;
    arm(s, a, env);
}

static void eof(void *s, const void *a, tx_env *env)
{
    arm(s, a, env);
}

const toxic_type toxic_reset_peer_type = {
    .name = "reset_peer",
    .attrs_size = sizeof(reset_peer_attrs),
    .state_size = sizeof(reset_peer_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .data = data,
    .eof = eof,
    .tick = tick,
};
