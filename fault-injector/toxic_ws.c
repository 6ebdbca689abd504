/* toxic_ws.c — WebSocket-aware faults: read RFC 6455 frames in one
 * direction and act on whole messages (drop, duplicate, delay, reorder,
 * burst, corrupt, split into continuation frames) or on the protocol (close
 * with a code, swallow pings or pongs). Untouched units go out byte for byte;
 * changed ones are framed again (masked when the original was).
 *
 * permessage-deflate: compressed messages are decompressed (ws_deflate.h);
 * corrupt changes the text, not the compressed bytes. From the first
 * compressed message a fault drops, repeats, reorders or changes, while the
 * sender keeps its context, the peer's window is no longer the sender's:
 * from then on every compressed message goes out compressed again by the
 * proxy, standing alone, until the connection ends (so this toxic, even
 * removed, stays on the connection: see at_boundary). */
#include "msgfault.h"
#include "msgq.h"
#include "toxic.h"
#include "track.h"
#include "ws_deflate.h"
#include "ws_frame.h"

#include <stdio.h>
#include <string.h>

enum {
    WS_DROP, WS_DUPLICATE, WS_DELAY, WS_REORDER, WS_BURST, WS_CORRUPT, WS_SPLIT,
    WS_CLOSE, WS_SWALLOW_PING, WS_SWALLOW_PONG,
};
static const char *const ACTIONS[] = {
    "drop", "duplicate", "delay", "reorder", "burst", "corrupt", "split",
    "close", "swallow_ping", "swallow_pong", NULL,
};

typedef struct ws_attrs {
    msgfault m;
    int64_t code;           /* close: status code (1006: no close frame, just the drop) */
    char reason[124];       /* close: reason text */
    int64_t fragment_size;  /* split: payload bytes per frame */
} ws_attrs;

typedef struct ws_state {
    int phase;              /* 0 upgrade head, 1 frames, 2 pass-through */
    int closed;
    ws_head head;
    ws_reader rd;
    msgq mq;
    delay_state ds;
    uint64_t messages;      /* data messages seen */
    bytebuf tmp;
    tx_env *env;            /* valid during a call, for the reader callback */
    const ws_attrs *a;
    /* permessage-deflate */
    ws_inflater inf;        /* the sender's window */
    z_stream dz;            /* compresses messages again, each standing alone */
    int dz_init;
    int rewrite;            /* every compressed message is compressed again */
    int blind;              /* the sender's window is unknown: compressed
                             * messages cannot be changed, only passed */
    int blind_noted;
    bytebuf plain, enc;     /* the current message decompressed / again */
} ws_state;

static void defaults(void *p)
{
    ws_attrs *a = p;
    memset(a, 0, sizeof *a);
    msgfault_defaults(&a->m);
    a->code = 1011;
    a->fragment_size = 16;
}

static int code_ok(int64_t c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1006 && c <= 1014) || (c >= 3000 && c <= 4999);
}

static int parse(void *p, json_t *obj, char *err, size_t errlen)
{
    ws_attrs *a = p;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int rc = msgfault_parse_key(&a->m, k, v, ACTIONS, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        if (strcmp(k, "code") == 0) {
            if (tx_attr_int(v, k, 1000, 4999, &a->code, err, errlen) < 0)
                return -1;
            if (!code_ok(a->code)) {
                snprintf(err, errlen, "attribute code: %lld is not a close code a peer may receive",
                         (long long)a->code);
                return -1;
            }
        } else if (strcmp(k, "reason") == 0) {
            if (!json_is_string(v) || json_string_length(v) > 123) {
                snprintf(err, errlen, "attribute reason: a string of at most 123 bytes");
                return -1;
            }
            snprintf(a->reason, sizeof a->reason, "%s", json_string_value(v));
        } else if (strcmp(k, "fragment_size") == 0) {
            if (tx_attr_int(v, k, 1, 1 << 24, &a->fragment_size, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("ws", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *p)
{
    const ws_attrs *a = p;
    json_t *o = json_object();
    msgfault_to_json(&a->m, ACTIONS, o);
    json_object_set_new(o, "code", json_integer(a->code));
    json_object_set_new(o, "reason", json_string(a->reason));
    json_object_set_new(o, "fragment_size", json_integer(a->fragment_size));
    return o;
}

static int protocol(const void *a)
{
    (void)a;
    return TX_PROTO_WS;
}

/* Queues a data message (counts toward a reorder gap). */
static void send_or_close(ws_state *st, tx_env *env, const unsigned char *d, size_t n)
{
    if (msgq_send(&st->mq, env, d, n) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

/* Queues bytes that are not a data message (head, control frames, raw). */
static void pass_or_close(ws_state *st, tx_env *env, const unsigned char *d, size_t n)
{
    if (msgq_pass(&st->mq, env, d, n) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

static json_t *detail(const ws_state *st, const ws_unit *u)
{
    return json_pack("{s:I,s:i,s:I}", "msg", (json_int_t)st->messages, "opcode", u->opcode, "len",
                     (json_int_t)u->payload_len);
}

static void on_control(ws_state *st, const ws_unit *u)
{
    tx_env *env = st->env;
    const ws_attrs *a = st->a;
    int target = (a->m.action == WS_SWALLOW_PING && u->opcode == WS_OP_PING) ||
                 (a->m.action == WS_SWALLOW_PONG && u->opcode == WS_OP_PONG);
    if (target && env->active && prng_chance(env->rng, a->m.probability)) {
        env->record(env->u, u->opcode == WS_OP_PING ? "swallow_ping" : "swallow_pong",
                    json_pack("{s:I}", "len", (json_int_t)u->payload_len));
        return;
    }
    if (u->opcode == WS_OP_CLOSE)
        msgq_unhold(&st->mq, env); /* no message may follow a close frame */
    pass_or_close(st, env, u->raw, u->raw_len);
}

static void reframe(ws_state *st, const ws_unit *u, const unsigned char *payload, size_t len,
                    size_t fragment)
{
    bytebuf_reset(&st->tmp);
    if (ws_write_message(&st->tmp, u->opcode, u->rsv, u->masked, payload, len, fragment, st->env->rng) < 0)
        st->env->close(st->env->u, TX_CLOSE_RST);
    else
        send_or_close(st, st->env, st->tmp.p, st->tmp.len);
}

/* One message as it goes out: its original frames, or, for a compressed
 * message the proxy compresses again (fresh: st->rewrite or this message is
 * changed), new frames around text compressed standing alone. */
typedef struct outmsg {
    const unsigned char *d;
    size_t n;
} outmsg;

static int pmd_dir(const ws_unit *u)
{
    return u->masked ? TX_UPSTREAM : TX_DOWNSTREAM; /* only clients mask */
}

/* Compresses text as a standalone message into st->enc (payload only). */
static int pmd_encode(ws_state *st, const ws_unit *u, const unsigned char *text, size_t len)
{
    bytebuf_reset(&st->enc);
    return ws_deflate_message(&st->dz, &st->dz_init, st->env->pmd->window_bits[pmd_dir(u)], text, len,
                              &st->enc);
}

/* The frames for u: raw, or (fresh) text compressed again, split into
 * fragments of `fragment` bytes (0: one frame). In st->tmp unless raw. */
static int frames(ws_state *st, const ws_unit *u, int fresh, const unsigned char *text, size_t len,
                  size_t fragment, outmsg *o)
{
    if (!fresh && !fragment) {
        o->d = u->raw;
        o->n = u->raw_len;
        return 0;
    }
    const unsigned char *pl = u->payload;
    size_t pn = u->payload_len;
    if (fresh) {
        if (pmd_encode(st, u, text, len) < 0)
            return -1;
        pl = st->enc.p;
        pn = st->enc.len;
    }
    bytebuf_reset(&st->tmp);
    if (ws_write_message(&st->tmp, u->opcode, u->rsv, u->masked, pl, pn, fragment, st->env->rng) < 0)
        return -1;
    o->d = st->tmp.p;
    o->n = st->tmp.len;
    return 0;
}

/* Frames u (as frames() does) and queues it; a failure resets the
 * connection. */
static void send_frames(ws_state *st, const ws_unit *u, int fresh, const unsigned char *text, size_t len,
                        size_t fragment)
{
    outmsg o;
    if (frames(st, u, fresh, text, len, fragment, &o) < 0)
        st->env->close(st->env->u, TX_CLOSE_RST);
    else
        send_or_close(st, st->env, o.d, o.n);
}

/* Decompresses u into st->plain with the sender's window. -1 when that is
 * impossible (the window was lost or the data is bad): st->blind. */
static int pmd_decode(ws_state *st, const ws_unit *u)
{
    char err[128];
    bytebuf_reset(&st->plain);
    if (st->blind)
        return -1;
    if (ws_inflate_feed(&st->inf, u->payload, u->payload_len, &st->plain, 16u << 20, err, sizeof err) == 0 &&
        ws_inflate_end(&st->inf, &st->plain, 0, err, sizeof err) == 0)
        return 0;
    st->blind = 1;
    ws_inflater_free(&st->inf);
    st->env->record(st->env->u, "pmd_error", json_pack("{s:I,s:s}", "msg", (json_int_t)st->messages, "error", err));
    return -1;
}

static void on_unit(void *arg, const ws_unit *u)
{
    ws_state *st = arg;
    tx_env *env = st->env;
    const ws_attrs *a = st->a;
    if (st->closed)
        return;
    if (u->control) {
        on_control(st, u);
        return;
    }
    st->messages++;
    const ws_pmd *pm = env->pmd;
    int compressed = pm && pm->on && (u->rsv & 4);
    int known = compressed && pmd_decode(st, u) == 0;
    if (compressed && !known && st->rewrite) {
        /* compressed again so far, and now impossible: the peer would get
         * text compressed against a window it does not have */
        st->closed = 1;
        env->close(env->u, TX_CLOSE_RST);
        return;
    }
    /* a change to a compressed message leaves the peer's window behind the
     * sender's when the sender keeps its context */
    int takeover = compressed && !pm->no_takeover[pmd_dir(u)];
    const unsigned char *text = known ? st->plain.p : u->payload;
    size_t text_len = known ? st->plain.len : u->payload_len;
    outmsg o;
    int message_action = a->m.action < WS_SWALLOW_PING;
    int acts = message_action && env->active && prng_chance(env->rng, a->m.probability);
    int changes = a->m.action == WS_DROP || a->m.action == WS_DUPLICATE || a->m.action == WS_REORDER ||
                  a->m.action == WS_CORRUPT;
    if (acts && changes && compressed && !known) {
        if (!st->blind_noted)
            env->record(env->u, "pmd_skip", json_pack("{s:I,s:s}", "msg", (json_int_t)st->messages, "why",
                                                      "the sender's compression window is unknown"));
        st->blind_noted = 1;
        acts = 0;
    }
    int fresh = known && st->rewrite;
    if (!acts) {
        send_frames(st, u, fresh, text, text_len, 0);
        return;
    }
    switch (a->m.action) {
    case WS_DROP:
        env->record(env->u, "drop", detail(st, u));
        st->rewrite |= takeover;
        break;
    case WS_DUPLICATE:
        env->record(env->u, "duplicate", detail(st, u));
        /* the second copy stands alone: the peer's window now has the
         * text twice */
        send_frames(st, u, fresh, text, text_len, 0);
        send_frames(st, u, fresh || known, text, text_len, 0);
        st->rewrite |= takeover;
        break;
    case WS_DELAY: {
        uint64_t d = (uint64_t)delay_sample_us(&a->m.delay, &st->ds, env->rng);
        json_t *j = detail(st, u);
        json_object_set_new(j, "delay_us", json_integer((json_int_t)d));
        env->record(env->u, "delay", j);
        if (frames(st, u, fresh, text, text_len, 0, &o) < 0 || msgq_send_delayed(&st->mq, env, o.d, o.n, d) < 0)
            env->close(env->u, TX_CLOSE_RST);
        break;
    }
    case WS_REORDER: {
        /* held, it will reach the peer after later messages: it must stand
         * alone, and so must they */
        if (frames(st, u, known, text, text_len, 0, &o) < 0) {
            env->close(env->u, TX_CLOSE_RST);
            break;
        }
        int rc = msgq_hold(&st->mq, env, o.d, o.n, a->m.gap, (uint64_t)a->m.hold_ms * 1000);
        if (rc == 0) {
            env->record(env->u, "reorder_hold", detail(st, u));
            st->rewrite |= takeover;
        } else if (rc < 0) {
            env->close(env->u, TX_CLOSE_RST);
        }
        break;
    }
    case WS_BURST:
        if (msgq_burst(&st->mq, env, (uint64_t)a->m.hold_ms * 1000))
            env->record(env->u, "burst_start", json_pack("{s:I,s:I}", "msg", (json_int_t)st->messages,
                                                          "hold_ms", (json_int_t)a->m.hold_ms));
        send_frames(st, u, fresh, text, text_len, 0);
        break;
    case WS_CORRUPT: {
        if (text_len == 0) {
            send_frames(st, u, fresh, text, text_len, 0);
            break;
        }
        bytebuf c = {0};
        bytebuf_add(&c, text, text_len);
        size_t pos = (size_t)prng_below(env->rng, text_len);
        c.p[pos] ^= (unsigned char)(1u << prng_below(env->rng, 8));
        json_t *j = detail(st, u);
        json_object_set_new(j, "at", json_integer((json_int_t)pos));
        env->record(env->u, "corrupt", j);
        if (known) {
            send_frames(st, u, 1, c.p, c.len, 0);
            st->rewrite |= takeover;
        } else {
            reframe(st, u, c.p, c.len, 0);
        }
        bytebuf_free(&c);
        break;
    }
    case WS_SPLIT:
        env->record(env->u, "split", detail(st, u));
        send_frames(st, u, fresh, text, text_len, (size_t)a->fragment_size);
        break;
    case WS_CLOSE: {
        json_t *j = detail(st, u);
        json_object_set_new(j, "code", json_integer(a->code));
        env->record(env->u, "close", j);
        st->closed = 1;
        msgq_flush(&st->mq, env);
        if (a->code != 1006) { /* 1006 is never sent: the connection just drops */
            bytebuf_reset(&st->tmp);
            ws_write_close(&st->tmp, u->masked, (unsigned)a->code, a->reason, env->rng);
            env->emit(env->u, st->tmp.p, st->tmp.len);
        }
        env->close(env->u, TX_CLOSE_FIN);
        break;
    }
    default:
        send_or_close(st, env, u->raw, u->raw_len);
    }
}

static void data(void *p, const void *attrs, tx_env *env, const unsigned char *d, size_t n)
{
    ws_state *st = p;
    st->env = env;
    st->a = attrs;
    if (st->closed)
        return;
    if (st->phase == 0) {
        size_t k = ws_head_feed(&st->head, d, n);
        pass_or_close(st, env, d, k);
        d += k;
        n -= k;
        if (st->head.done) {
            st->phase = st->head.is_ws ? 1 : 2;
            ws_head_free(&st->head);
        }
    }
    if (n == 0)
        return;
    if (st->phase == 2) {
        pass_or_close(st, env, d, n);
        return;
    }
    char err[128];
    if (ws_reader_feed(&st->rd, d, n, on_unit, st, err, sizeof err) < 0) {
        /* Not (or no longer) WebSocket: forward the rest as it is. */
        env->record(env->u, "ws_parse_error", json_pack("{s:s}", "error", err));
        bytebuf_reset(&st->tmp);
        ws_reader_pending(&st->rd, &st->tmp);
        pass_or_close(st, env, st->tmp.p, st->tmp.len);
        st->phase = 2;
    }
}

/* Forwards what the reader holds of an unfinished unit, raw. */
static void pass_pending(ws_state *st, tx_env *env)
{
    bytebuf_reset(&st->tmp);
    if (st->phase == 0)
        bytebuf_add(&st->tmp, st->head.buf.p, st->head.buf.len);
    else if (st->phase == 1)
        ws_reader_pending(&st->rd, &st->tmp);
    if (st->tmp.len)
        pass_or_close(st, env, st->tmp.p, st->tmp.len);
    ws_reader_free(&st->rd);
    memset(&st->rd, 0, sizeof st->rd);
    bytebuf_reset(&st->head.buf);
    st->phase = 2;
}

static void eof(void *p, const void *attrs, tx_env *env)
{
    ws_state *st = p;
    st->env = env;
    st->a = attrs;
    if (st->closed)
        return;
    pass_pending(st, env);
    if (msgq_eof(&st->mq, env) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

static uint64_t tick(void *p, const void *attrs, tx_env *env)
{
    (void)attrs;
    return msgq_tick(&((ws_state *)p)->mq, env);
}

static void flush(void *p, const void *attrs, tx_env *env)
{
    ws_state *st = p;
    (void)attrs;
    msgq_flush(&st->mq, env);
    if (!st->closed)
        pass_pending(st, env);
}

static void resume(void *p, const void *attrs, tx_env *env, const void *trk)
{
    (void)attrs;
    (void)env;
    const track *t = trk;
    ws_state *st = p;
    if (t->seen == 0)
        return;
    st->phase = 1; /* the tracker stands between messages after the upgrade */
    st->messages = t->wr.messages; /* events number messages per connection */
    /* go on decompressing where the tracker is (its window); without one
     * (lost, or a direction the tracker does not inflate because its
     * sender resets its context) a fresh inflater does, when the sender
     * keeps no context */
    if (ws_inflater_copy(&st->inf, &t->inf) < 0 || st->inf.failed)
        st->blind = 1;
}

/* Removal waits while the toxic compresses messages again: the peer's
 * window differs from the sender's for the rest of the connection. */
static int at_boundary(const void *p)
{
    const ws_state *st = p;
    return !st->rewrite || st->closed || st->phase == 2;
}

static void stop(void *p)
{
    ws_state *st = p;
    ws_head_free(&st->head);
    ws_reader_free(&st->rd);
    msgq_free(&st->mq);
    bytebuf_free(&st->tmp);
    ws_inflater_free(&st->inf);
    ws_deflater_free(&st->dz, &st->dz_init);
    bytebuf_free(&st->plain);
    bytebuf_free(&st->enc);
}

static size_t held(const void *p)
{
    const ws_state *st = p;
    return msgq_bytes(&st->mq) + st->rd.m_raw.len;
}

const toxic_type toxic_ws_type = {
    .name = "ws",
    .attrs_size = sizeof(ws_attrs),
    .state_size = sizeof(ws_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .data = data,
    .eof = eof,
    .tick = tick,
    .flush = flush,
    .stop = stop,
    .held = held,
    .protocol = protocol,
    .resume = resume,
    .at_boundary = at_boundary,
};
