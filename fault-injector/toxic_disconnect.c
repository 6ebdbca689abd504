/* toxic_disconnect.c — end the connection after N bytes or N whole
 * messages (WebSocket messages or SSE events, read with the protocol
 * readers), or as soon as the toxic is active (so "after T ms" is the common
 * schedule: after_ms, with schedule_from "connection" for a per-connection
 * clock), with a FIN or a RST. */
#include "sse_stream.h"
#include "toxic.h"
#include "track.h"
#include "ws_frame.h"

#include <stdio.h>
#include <string.h>

static const char *const PROTOCOLS[] = {"none", "ws", "sse", NULL};
static const char *const MODES[] = {"close", "reset", NULL};

typedef struct disconnect_attrs {
    int64_t after_bytes;     /* -1: not set */
    int64_t after_messages;  /* -1: not set; needs protocol */
    int protocol;            /* TX_PROTO_* */
    int mode;                /* 0 FIN, 1 RST */
} disconnect_attrs;

typedef struct disconnect_state {
    uint64_t bytes, messages;
    int done;
    int phase;               /* ws: 0 head, 1 frames, 2 raw */
    ws_head head;
    ws_reader wr;
    int sse_started;
    sse_reader sr;
    bytebuf tmp;
    tx_env *env;
    const disconnect_attrs *a;
} disconnect_state;

static void defaults(void *p)
{
    disconnect_attrs *a = p;
    memset(a, 0, sizeof *a);
    a->after_bytes = a->after_messages = -1;
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
        else if (strcmp(k, "after_messages") == 0)
            rc = tx_attr_int(v, k, 0, INT64_MAX, &a->after_messages, err, errlen);
        else if (strcmp(k, "protocol") == 0)
            rc = tx_attr_enum(v, k, PROTOCOLS, &a->protocol, err, errlen);
        else if (strcmp(k, "mode") == 0)
            rc = tx_attr_enum(v, k, MODES, &a->mode, err, errlen);
        else
            return tx_attr_unknown("disconnect", k, err, errlen);
        if (rc < 0)
            return -1;
    }
    if (a->after_messages >= 0 && a->protocol == TX_PROTO_NONE) {
        snprintf(err, errlen, "after_messages needs protocol \"ws\" or \"sse\"");
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
    if (a->after_messages >= 0)
        json_object_set_new(o, "after_messages", json_integer(a->after_messages));
    return o;
}

static int protocol(const void *p)
{
    return ((const disconnect_attrs *)p)->protocol;
}

static void trigger(disconnect_state *st, tx_env *env, const char *why)
{
    if (st->done)
        return;
    st->done = 1;
    env->record(env->u, "disconnect", json_pack("{s:s,s:I,s:I}", "after", why, "bytes", (json_int_t)st->bytes,
                                                "messages", (json_int_t)st->messages));
    env->close(env->u, st->a->mode ? TX_CLOSE_RST : TX_CLOSE_FIN);
}

/* Passes bytes on, counting them against after_bytes. */
static void pass(disconnect_state *st, const unsigned char *d, size_t n)
{
    tx_env *env = st->env;
    const disconnect_attrs *a = st->a;
    if (st->done || n == 0)
        return;
    if (env->active && a->after_bytes >= 0 && st->bytes + n >= (uint64_t)a->after_bytes) {
        size_t k = (size_t)((uint64_t)a->after_bytes - st->bytes);
        env->emit(env->u, d, k);
        st->bytes += k;
        trigger(st, env, "bytes");
        return;
    }
    env->emit(env->u, d, n);
    st->bytes += n;
}

static void count_message(disconnect_state *st)
{
    st->messages++;
    if (st->env->active && st->a->after_messages >= 0 && st->messages >= (uint64_t)st->a->after_messages)
        trigger(st, st->env, "messages");
}

static void on_ws_unit(void *arg, const ws_unit *u)
{
    disconnect_state *st = arg;
    pass(st, u->raw, u->raw_len);
    if (!u->control && !st->done)
        count_message(st);
}

static void on_sse_raw(void *arg, const unsigned char *d, size_t n)
{
    pass(arg, d, n);
}

static void on_sse_block(void *arg, const sse_block *b)
{
    disconnect_state *st = arg;
    bytebuf_reset(&st->tmp);
    sse_write(&st->sr, &st->tmp, b->text, b->len);
    pass(st, st->tmp.p, st->tmp.len);
    if (!b->comment_only && b->complete && !st->done)
        count_message(st);
}

static void on_sse_end(void *arg)
{
    pass(arg, (const unsigned char *)"0\r\n\r\n", 5);
}

static const sse_callbacks SSE_CBS = {on_sse_raw, on_sse_block, on_sse_end};

static void begin(disconnect_state *st, tx_env *env, const void *a)
{
    st->env = env;
    st->a = a;
    if (st->a->protocol == TX_PROTO_SSE && !st->sse_started) {
        sse_reader_init(&st->sr, &SSE_CBS, st);
        st->sse_started = 1;
    }
}

static void data(void *p, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    disconnect_state *st = p;
    begin(st, env, a);
    if (st->done)
        return;
    if (st->a->protocol == TX_PROTO_SSE) {
        sse_reader_feed(&st->sr, d, n);
        return;
    }
    if (st->a->protocol == TX_PROTO_WS && st->phase == 0) {
        size_t k = ws_head_feed(&st->head, d, n);
        pass(st, d, k);
        d += k;
        n -= k;
        if (st->head.done)
            st->phase = st->head.is_ws ? 1 : 2;
    }
    if (st->a->protocol == TX_PROTO_WS && st->phase == 1 && n > 0) {
        char err[64];
        if (ws_reader_feed(&st->wr, d, n, on_ws_unit, st, err, sizeof err) < 0) {
            bytebuf_reset(&st->tmp);
            ws_reader_pending(&st->wr, &st->tmp);
            pass(st, st->tmp.p, st->tmp.len);
            st->phase = 2;
        }
        return;
    }
    pass(st, d, n);
}

static void eof(void *p, const void *a, tx_env *env)
{
    disconnect_state *st = p;
    begin(st, env, a);
    if (st->done)
        return;
    if (st->sse_started)
        sse_reader_eof(&st->sr);
    env->emit_eof(env->u);
}

/* With no byte or message count, the toxic disconnects as soon as it is
 * active: at once, or when its schedule (after_ms …) switches it on. */
static uint64_t tick(void *p, const void *a, tx_env *env)
{
    disconnect_state *st = p;
    begin(st, env, a);
    if (!st->done && env->active && st->a->after_bytes < 0 && st->a->after_messages < 0)
        trigger(st, env, "schedule");
    return 0;
}

static void flush(void *p, const void *a, tx_env *env)
{
    disconnect_state *st = p;
    begin(st, env, a);
    bytebuf_reset(&st->tmp);
    if (st->phase == 0)
        bytebuf_add(&st->tmp, st->head.buf.p, st->head.buf.len);
    else if (st->phase == 1)
        ws_reader_pending(&st->wr, &st->tmp);
    if (st->tmp.len && !st->done)
        env->emit(env->u, st->tmp.p, st->tmp.len);
    st->phase = 2;
}

static void resume(void *p, const void *a, tx_env *env, const void *trk)
{
    disconnect_state *st = p;
    const track *t = trk;
    begin(st, env, a);
    if (t->seen == 0)
        return;
    if (st->a->protocol == TX_PROTO_WS)
        st->phase = 1;
    else if (st->a->protocol == TX_PROTO_SSE) {
        sse_reader_free(&st->sr);
        sse_reader_clone(&st->sr, &t->sr, &SSE_CBS, st);
    }
}

static int at_boundary(const void *p)
{
    const disconnect_state *st = p;
    return !st->sse_started || st->done || st->sr.mode == SSE_PASSTHROUGH || sse_reader_at_boundary(&st->sr);
}

static void stop(void *p)
{
    disconnect_state *st = p;
    ws_head_free(&st->head);
    ws_reader_free(&st->wr);
    if (st->sse_started)
        sse_reader_free(&st->sr);
    bytebuf_free(&st->tmp);
}

const toxic_type toxic_disconnect_type = {
    .name = "disconnect",
    .attrs_size = sizeof(disconnect_attrs),
    .state_size = sizeof(disconnect_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .data = data,
    .eof = eof,
    .tick = tick,
    .flush = flush,
    .stop = stop,
    .protocol = protocol,
    .resume = resume,
    .at_boundary = at_boundary,
};
