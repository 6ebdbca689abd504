/* toxic_sse.c — Server-Sent-Events-aware faults: read the server's
 * response (head, then the event-stream body, chunked or not) and act on
 * whole events (drop, duplicate, delay, reorder, burst, corrupt) or on the
 * protocol (strip id: lines, inject retry:, cut an event mid-line, suppress
 * heartbeat comments). Events are re-chunked when the body is chunked, so
 * the client's parser stays in step. */
#include "msgfault.h"
#include "msgq.h"
#include "sse_stream.h"
#include "toxic.h"
#include "track.h"

#include <stdio.h>
#include <string.h>

enum {
    SSE_DROP, SSE_DUPLICATE, SSE_DELAY, SSE_REORDER, SSE_BURST, SSE_CORRUPT,
    SSE_STRIP_ID, SSE_INJECT_RETRY, SSE_CUT, SSE_SUPPRESS_HEARTBEAT,
};
static const char *const ACTIONS[] = {
    "drop", "duplicate", "delay", "reorder", "burst", "corrupt",
    "strip_id", "inject_retry", "cut", "suppress_heartbeat", NULL,
};

typedef struct sse_attrs {
    msgfault m;
    int64_t retry_ms; /* inject_retry: the value sent */
} sse_attrs;

typedef struct sse_state {
    int started;      /* reader initialised */
    int closed;
    sse_reader rd;
    msgq mq;
    delay_state ds;
    uint64_t messages;
    bytebuf tmp, text;
    tx_env *env;
    const sse_attrs *a;
} sse_state;

static void defaults(void *p)
{
    sse_attrs *a = p;
    memset(a, 0, sizeof *a);
    msgfault_defaults(&a->m);
    a->retry_ms = 1000;
}

static int parse(void *p, json_t *obj, char *err, size_t errlen)
{
    sse_attrs *a = p;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int rc = msgfault_parse_key(&a->m, k, v, ACTIONS, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        if (strcmp(k, "retry_ms") == 0) {
            if (tx_attr_int(v, k, 0, 24LL * 3600 * 1000, &a->retry_ms, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("sse", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *p)
{
    const sse_attrs *a = p;
    json_t *o = json_object();
    msgfault_to_json(&a->m, ACTIONS, o);
    json_object_set_new(o, "retry_ms", json_integer(a->retry_ms));
    return o;
}

static int protocol(const void *a)
{
    (void)a;
    return TX_PROTO_SSE;
}

/* Queues bytes; message 1 when they are an event (counts toward a
 * reorder gap). Nothing goes out after a cut closed the connection. */
static void send_bytes(sse_state *st, const unsigned char *d, size_t n, int message)
{
    if (!n || st->closed)
        return;
    int rc = message ? msgq_send(&st->mq, st->env, d, n) : msgq_pass(&st->mq, st->env, d, n);
    if (rc < 0)
        st->env->close(st->env->u, TX_CLOSE_RST);
}

/* Frames text for the wire (a chunk when the body is chunked) and queues it. */
static void send_text(sse_state *st, const unsigned char *text, size_t len, int message)
{
    bytebuf_reset(&st->tmp);
    sse_write(&st->rd, &st->tmp, text, len);
    send_bytes(st, st->tmp.p, st->tmp.len, message);
}

static void cb_raw(void *arg, const unsigned char *d, size_t n)
{
    send_bytes(arg, d, n, 0);
}

static void cb_body_end(void *arg)
{
    sse_state *st = arg;
    msgq_unhold(&st->mq, st->env); /* no event may follow the last chunk */
    send_bytes(arg, (const unsigned char *)"0\r\n\r\n", 5, 0);
}

/* Length of the line starting at p (without its end) and of its end. */
static size_t line_len(const unsigned char *p, size_t n, size_t *term)
{
    size_t i = 0;
    while (i < n && p[i] != '\n' && p[i] != '\r')
        i++;
    *term = 0;
    if (i < n)
        *term = (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
    return i;
}

static int field_is(const unsigned char *l, size_t len, const char *name)
{
    size_t k = strlen(name);
    return len >= k && memcmp(l, name, k) == 0 && (len == k || l[k] == ':');
}

static json_t *detail(const sse_state *st, const sse_block *b)
{
    return json_pack("{s:I,s:I}", "msg", (json_int_t)st->messages, "len", (json_int_t)b->len);
}

static void act(sse_state *st, const sse_block *b)
{
    tx_env *env = st->env;
    const sse_attrs *a = st->a;
    bytebuf *t = &st->text;
    switch (a->m.action) {
    case SSE_DROP:
        env->record(env->u, "drop", detail(st, b));
        return;
    case SSE_DUPLICATE:
        env->record(env->u, "duplicate", detail(st, b));
        send_text(st, b->text, b->len, 1);
        send_text(st, b->text, b->len, 1);
        return;
    case SSE_DELAY: {
        uint64_t d = (uint64_t)delay_sample_us(&a->m.delay, &st->ds, env->rng);
        json_t *j = detail(st, b);
        json_object_set_new(j, "delay_us", json_integer((json_int_t)d));
        env->record(env->u, "delay", j);
        bytebuf_reset(&st->tmp);
        sse_write(&st->rd, &st->tmp, b->text, b->len);
        if (msgq_send_delayed(&st->mq, env, st->tmp.p, st->tmp.len, d) < 0)
            env->close(env->u, TX_CLOSE_RST);
        return;
    }
    case SSE_REORDER: {
        bytebuf_reset(&st->tmp);
        sse_write(&st->rd, &st->tmp, b->text, b->len);
        int rc = msgq_hold(&st->mq, env, st->tmp.p, st->tmp.len, a->m.gap, (uint64_t)a->m.hold_ms * 1000);
        if (rc == 0)
            env->record(env->u, "reorder_hold", detail(st, b));
        else if (rc < 0)
            env->close(env->u, TX_CLOSE_RST);
        return;
    }
    case SSE_BURST:
        if (msgq_burst(&st->mq, env, (uint64_t)a->m.hold_ms * 1000))
            env->record(env->u, "burst_start", json_pack("{s:I,s:I}", "msg", (json_int_t)st->messages,
                                                         "hold_ms", (json_int_t)a->m.hold_ms));
        send_text(st, b->text, b->len, 1);
        return;
    default:
        break;
    }
    /* The rest rewrite the event line by line. */
    bytebuf_reset(t);
    const unsigned char *p = b->text;
    size_t n = b->len;
    int done = 0;
    if (a->m.action == SSE_INJECT_RETRY) {
        char line[48];
        int k = snprintf(line, sizeof line, "retry: %lld\n", (long long)a->retry_ms);
        bytebuf_add(t, line, (size_t)k);
        done = 1;
    }
    size_t data_chars = 0;
    if (a->m.action == SSE_CORRUPT || a->m.action == SSE_CUT) {
        /* count the characters eligible for the change: data values, or
         * any non-empty line for a cut */
        for (size_t off = 0; off < n;) {
            size_t term, l = line_len(p + off, n - off, &term);
            if (a->m.action == SSE_CUT ? l > 1 : field_is(p + off, l, "data"))
                data_chars += a->m.action == SSE_CUT ? l - 1 : (l > 5 ? l - 5 : 0);
            off += l + term;
            if (!term)
                break;
        }
    }
    size_t pick = data_chars ? (size_t)prng_below(env->rng, data_chars) : 0;
    for (size_t off = 0; off < n;) {
        size_t term, l = line_len(p + off, n - off, &term);
        const unsigned char *line = p + off;
        if (a->m.action == SSE_STRIP_ID && field_is(line, l, "id")) {
            done = 1;
        } else if (a->m.action == SSE_CORRUPT && data_chars && field_is(line, l, "data") && l > 5) {
            size_t span = l - 5;
            size_t at0 = t->len;
            bytebuf_add(t, line, l + term);
            if (pick < span && !done) {
                unsigned char *c = &t->p[at0 + 5 + pick];
                unsigned char r = (unsigned char)('A' + prng_below(env->rng, 26));
                *c = *c == r ? '#' : r;
                done = 1;
            }
            pick = pick >= span ? pick - span : (size_t)-1 / 2;
        } else if (a->m.action == SSE_CUT && data_chars && l > 1) {
            size_t span = l - 1;
            if (pick < span && !done) {
                bytebuf_add(t, line, 1 + pick); /* stops inside the line */
                done = 2;
                break;
            }
            bytebuf_add(t, line, l + term);
            pick -= span;
        } else {
            bytebuf_add(t, line, l + term);
        }
        off += l + term;
        if (!term)
            break;
    }
    static const char *const NAMES[] = {
        [SSE_CORRUPT] = "corrupt", [SSE_STRIP_ID] = "strip_id",
        [SSE_INJECT_RETRY] = "inject_retry", [SSE_CUT] = "cut",
    };
    if (!done) { /* nothing to change in this event (no id:, no data) */
        send_text(st, b->text, b->len, 1);
        return;
    }
    env->record(env->u, NAMES[a->m.action], detail(st, b));
    send_text(st, t->p, t->len, 1);
    if (done == 2) {
        /* cut: the client gets half an event, then the connection ends
         * without the end of the body */
        st->closed = 1;
        msgq_flush(&st->mq, env);
        env->close(env->u, TX_CLOSE_FIN);
    }
}

static void cb_block(void *arg, const sse_block *b)
{
    sse_state *st = arg;
    tx_env *env = st->env;
    const sse_attrs *a = st->a;
    if (st->closed)
        return;
    if (b->comment_only || !b->complete) {
        if (b->comment_only && b->complete && a->m.action == SSE_SUPPRESS_HEARTBEAT && env->active &&
            prng_chance(env->rng, a->m.probability)) {
            env->record(env->u, "suppress_heartbeat", json_pack("{s:I}", "len", (json_int_t)b->len));
            return;
        }
        send_text(st, b->text, b->len, 0);
        return;
    }
    st->messages++;
    if (a->m.action == SSE_SUPPRESS_HEARTBEAT || !env->active || !prng_chance(env->rng, a->m.probability)) {
        send_text(st, b->text, b->len, 1);
        return;
    }
    act(st, b);
}

static const sse_callbacks CBS = {cb_raw, cb_block, cb_body_end};

static void ensure_started(sse_state *st)
{
    if (!st->started) {
        sse_reader_init(&st->rd, &CBS, st);
        st->started = 1;
    }
}

static void data(void *p, const void *attrs, tx_env *env, const unsigned char *d, size_t n)
{
    sse_state *st = p;
    st->env = env;
    st->a = attrs;
    if (st->closed)
        return;
    ensure_started(st);
    sse_reader_feed(&st->rd, d, n);
}

static void eof(void *p, const void *attrs, tx_env *env)
{
    sse_state *st = p;
    st->env = env;
    st->a = attrs;
    if (st->closed)
        return;
    ensure_started(st);
    sse_reader_eof(&st->rd);
    if (msgq_eof(&st->mq, env) < 0)
        env->close(env->u, TX_CLOSE_RST);
}

static uint64_t tick(void *p, const void *attrs, tx_env *env)
{
    (void)attrs;
    return msgq_tick(&((sse_state *)p)->mq, env);
}

/* Removed: everything queued goes out. The link removes this toxic only at
 * a boundary of its reader (see at_boundary), so nothing half-read is left. */
static void flush(void *p, const void *attrs, tx_env *env)
{
    (void)attrs;
    sse_state *st = p;
    st->env = env;
    msgq_flush(&st->mq, env);
    if (st->started && st->rd.mode == SSE_HEAD && st->rd.head.len) {
        send_bytes(st, st->rd.head.p, st->rd.head.len, 0);
        bytebuf_reset(&st->rd.head);
    }
}

static void resume(void *p, const void *attrs, tx_env *env, const void *trk)
{
    (void)attrs;
    (void)env;
    sse_state *st = p;
    const track *t = trk;
    if (t->seen == 0)
        return;
    sse_reader_clone(&st->rd, &t->sr, &CBS, st);
    st->started = 1;
    st->messages = t->sr.messages; /* events number messages per connection */
}

static int at_boundary(const void *p)
{
    const sse_state *st = p;
    return !st->started || st->closed || st->rd.mode == SSE_PASSTHROUGH || sse_reader_at_boundary(&st->rd);
}

static void stop(void *p)
{
    sse_state *st = p;
    if (st->started)
        sse_reader_free(&st->rd);
    msgq_free(&st->mq);
    bytebuf_free(&st->tmp);
    bytebuf_free(&st->text);
}

static size_t held(const void *p)
{
    const sse_state *st = p;
    return msgq_bytes(&st->mq) + (st->started ? st->rd.acc.len : 0);
}

const toxic_type toxic_sse_type = {
    .name = "sse",
    .attrs_size = sizeof(sse_attrs),
    .state_size = sizeof(sse_state),
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
