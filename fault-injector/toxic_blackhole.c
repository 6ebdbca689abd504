/* toxic_blackhole.c — a half-open link: stop forwarding this direction, keep
 * both sockets open, send nothing (not even the end of stream). */
#include "toxic.h"

#include <string.h>

typedef struct blackhole_attrs {
    int unused;
} blackhole_attrs;

typedef struct blackhole_state {
    uint64_t dropped;
    int recorded;
    int eof_swallowed;
} blackhole_state;

static void defaults(void *a)
{
    memset(a, 0, sizeof(blackhole_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    (void)a;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        (void)v;
        return tx_attr_unknown("blackhole", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    (void)a;
    return json_object();
}

static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    (void)a;
    (void)d;
    blackhole_state *st = s;
    st->dropped += n;
    if (!st->recorded) { /* one event per connection, not one per read */
        st->recorded = 1;
        env->record(env->u, "blackhole_drop", NULL);
    }
}

static void eof(void *s, const void *a, tx_env *env)
{
    (void)a;
    ((blackhole_state *)s)->eof_swallowed = 1;
    env->record(env->u, "blackhole_eof_swallowed", NULL);
}

/* Removed or switched off: dropped data stays lost (a real half-open link
 * loses it too), but a swallowed FIN is delivered so the peer can finish. */
static void flush(void *s, const void *a, tx_env *env)
{
    (void)a;
    blackhole_state *st = s;
    if (st->eof_swallowed) {
        st->eof_swallowed = 0;
        env->emit_eof(env->u);
    }
}

const toxic_type toxic_blackhole_type = {
    .name = "blackhole",
    .attrs_size = sizeof(blackhole_attrs),
    .state_size = sizeof(blackhole_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .data = data,
    .eof = eof,
    .flush = flush,
};
