/* toxic_disconnect.c — end the connection, with a FIN or a RST, after N bytes
 * in this direction, or as soon as the toxic is active: "after N messages"
 * and "after T ms" are the common schedule (after_messages, after_ms with
 * schedule_from "connection" for a per-connection clock), which every toxic
 * has. */
#include "toxic.h"

#include <stdio.h>
#include <string.h>

/* protocol is accepted for compatibility with configurations written when
 * this toxic counted messages itself: the link now counts the messages of
 * whichever protocol the connection carries. */
static const char *const PROTOCOLS[] = {"none", "ws", "sse", NULL};
static const char *const MODES[] = {"close", "reset", NULL};

typedef struct disconnect_attrs {
    int64_t after_bytes;     /* -1: not set */
    int protocol;            /* TX_PROTO_*: informative only */
    int mode;                /* 0 FIN, 1 RST */
} disconnect_attrs;

typedef struct disconnect_state {
    uint64_t bytes;
    int done;
} disconnect_state;

static void defaults(void *p)
{
    disconnect_attrs *a = p;
    memset(a, 0, sizeof *a);
    a->after_bytes = -1;
}

static int parse(void *p, json_t *obj, char *err, size_t errlen)
{
    disconnect_attrs *a = p;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int rc;
        if (strcmp(k, "after_bytes") == 0)
            rc = tx_attr_int(v, k, 0, INT64_MAX, &a->after_bytes, err, errlen);
        else if (strcmp(k, "protocol") == 0)
            rc = tx_attr_enum(v, k, PROTOCOLS, &a->protocol, err, errlen);
        else if (strcmp(k, "mode") == 0)
            rc = tx_attr_enum(v, k, MODES, &a->mode, err, errlen);
        else
            return tx_attr_unknown("disconnect", k, err, errlen);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static json_t *to_json(const void *p)
{
    const disconnect_attrs *a = p;
    json_t *o = json_pack("{s:s,s:s}", "protocol", PROTOCOLS[a->protocol], "mode", MODES[a->mode]);
    if (a->after_bytes >= 0)
        json_object_set_new(o, "after_bytes", json_integer(a->after_bytes));
    return o;
}

static void trigger(disconnect_state *st, const disconnect_attrs *a, tx_env *env, const char *why)
{
    if (st->done)
        return;
    st->done = 1;
    env->record(env->u, "disconnect", json_pack("{s:s,s:I}", "after", why, "bytes", (json_int_t)st->bytes));
    env->close(env->u, a->mode ? TX_CLOSE_RST : TX_CLOSE_FIN);
}

/* The schedule switched the toxic on (at once, after_ms, after_messages …):
 * with no byte count, that is the moment to disconnect. */
static void start(void *p, const void *attrs, tx_env *env)
{
    const disconnect_attrs *a = attrs;
    if (a->after_bytes < 0)
        trigger(p, a, env, "schedule");
}

static void data(void *p, const void *attrs, tx_env *env, const unsigned char *d, size_t n)
{
    disconnect_state *st = p;
    const disconnect_attrs *a = attrs;
    if (st->done)
        return;
    if (a->after_bytes < 0) { /* changed to "no byte count" while on */
        trigger(st, a, env, "schedule");
        return;
    }
    if (st->bytes + n >= (uint64_t)a->after_bytes) {
        size_t k = (size_t)((uint64_t)a->after_bytes - st->bytes);
        env->emit(env->u, d, k);
        st->bytes += k;
        trigger(st, a, env, "bytes");
        return;
    }
    env->emit(env->u, d, n);
    st->bytes += n;
}

static void eof(void *p, const void *attrs, tx_env *env)
{
    (void)attrs;
    if (!((disconnect_state *)p)->done)
        env->emit_eof(env->u);
}

const toxic_type toxic_disconnect_type = {
    .name = "disconnect",
    .attrs_size = sizeof(disconnect_attrs),
    .state_size = sizeof(disconnect_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .start = start,
    .data = data,
    .eof = eof,
};
