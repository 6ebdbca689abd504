/* toxic_blackhole.c — a half-open link: this direction forwards nothing
 * (not even the end of stream) while both sockets stay open. As on a real
 * black-holed TCP path, what the sender wrote is not lost: it waits (up to
 * `hold_bytes`, then the sender is held back like a full TCP window) and is
 * delivered, in order, when the blackhole goes — a byte stream never gets a
 * hole in the middle, which TCP itself could never produce. */
#include "toxic.h"
#include "txq.h"

#include <stdint.h>
#include <string.h>

typedef struct blackhole_attrs {
    int64_t hold_bytes; /* bytes kept before reading from the sender stops */
} blackhole_attrs;

typedef struct blackhole_state {
    txq q;
    int recorded;
    int eof_swallowed;
    uint64_t limit;
} blackhole_state;

static void defaults(void *a)
{
    ((blackhole_attrs *)a)->hold_bytes = 4 * 1024 * 1024;
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "hold_bytes") == 0) {
            if (tx_attr_int(v, k, 1, 64LL << 20, &((blackhole_attrs *)a)->hold_bytes, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("blackhole", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    return json_pack("{s:I}", "hold_bytes", (json_int_t)((const blackhole_attrs *)a)->hold_bytes);
}

static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    blackhole_state *st = s;
    st->limit = (uint64_t)((const blackhole_attrs *)a)->hold_bytes;
    if (!st->recorded) { /* one event per connection, not one per read */
        st->recorded = 1;
        env->record(env->u, "blackhole_hold", NULL);
    }
    if (txq_push(&st->q, 0, d, n) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

static void eof(void *s, const void *a, tx_env *env)
{
    (void)a;
    ((blackhole_state *)s)->eof_swallowed = 1;
    env->record(env->u, "blackhole_eof_held", NULL);
}

/* Removed or switched off: the path is back, so what waited goes through,
 * then a held end of stream. */
static void flush(void *s, const void *a, tx_env *env)
{
    (void)a;
    blackhole_state *st = s;
    if (st->q.bytes)
        env->record(env->u, "blackhole_release", json_pack("{s:I}", "bytes", (json_int_t)st->q.bytes));
    txq_flush(&st->q, env);
    if (st->eof_swallowed) {
        st->eof_swallowed = 0;
        env->emit_eof(env->u);
    }
}

static void stop(void *s)
{
    txq_clear(&((blackhole_state *)s)->q);
}

/* A full blackhole reports a huge hold, so the link stops reading from the
 * sender (back-pressure, like a TCP window that never opens). */
static size_t held(const void *s)
{
    const blackhole_state *st = s;
    return st->q.bytes >= st->limit && st->limit > 0 ? SIZE_MAX / 2 : st->q.bytes;
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
    .stop = stop,
    .held = held,
};
