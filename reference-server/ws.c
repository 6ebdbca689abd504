/* ws.c — the WebSocket side (/ws): ops sub, unsub, pub, ping; message
 * reassembly under the payload cap (close 1009); writes from
 * SERVER_WRITEABLE, and live events directly at the end of the loop pass
 * that queued them (ws_write_direct, wflush.c). Protocol pings and the idle close are ours, on
 * the timer wheel (ws_timer): lws 4.1's own (retry_and_idle_policy) re-arm
 * a sorted per-connection timer on every pong, O(connections) each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "clock.h"
#include "http_conn.h"
#include "log.h"
#include "pmd.h"
#include "rawtarget.h"
#include "server.h"

/* Frames written per WRITEABLE callback at most (one write of at most the
 * vhost's out buffer), so one busy connection cannot starve the others. */
#define WS_FRAMES_PER_WRITEABLE 256

static void error_reply(session *s, const char *code, const char *m, const char *ch)
{
    if (conn_ctrl_error(s, code, m, ch))
        conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
    lws_callback_on_writable(s->wsi);
}

static metrics_reject reject_of(authz_verdict v)
{
    return v == AUTHZ_UNAUTHORIZED ? MR_UNAUTHORIZED : v == AUTHZ_RATE_LIMITED ? MR_RATE_LIMITED
                                                                               : MR_FORBIDDEN;
}

static void op_sub(srv *S, session *s, json_t *o, const char *name)
{
    char err[256];
    json_t *jsince = json_object_get(o, "since"), *jepoch = json_object_get(o, "epoch");
    if ((jsince && !json_is_null(jsince) && (!json_is_integer(jsince) || json_integer_value(jsince) < 0)) ||
        (jepoch && !json_is_null(jepoch) &&
         (!json_is_string(jepoch) || strlen(json_string_value(jepoch)) > ENV_EPOCH_MAX))) {
        S->m.rejections[MR_BAD_REQUEST]++;
        error_reply(s, "bad_request", "\"since\" must be a non-negative integer and \"epoch\" a string", name);
        return;
    }
    authz_request rq = {AUTHZ_SUBSCRIBE, AUTHZ_T_WS, name, s->wsi, &s->principal, &s->free_principal};
    authz_verdict v = authz_check(&rq, err, sizeof(err));
    if (v != AUTHZ_ALLOW) {
        S->m.rejections[reject_of(v)]++;
        error_reply(s, authz_code(v), err, name);
        return;
    }
    channel *ch = channels_get(S, name, 1, err, sizeof(err));
    if (!ch) {
        S->m.rejections[MR_OVERLOADED]++;
        error_reply(s, "overloaded", err, name);
        return;
    }
    if (!ch->fl.enabled) {
        S->m.rejections[MR_DISABLED]++;
        error_reply(s, "overloaded", "channel disabled by a feature flag; use /poll", name);
        return;
    }
    int has_since = jsince && json_is_integer(jsince);
    const char *epoch = jepoch && json_is_string(jepoch) ? json_string_value(jepoch) : NULL;
    conn_sub *sub = conn_subscribe(s, ch, has_since, has_since ? (uint64_t)json_integer_value(jsince) : 0,
                                   epoch ? 1 : 0, epoch, 0, err, sizeof(err));
    if (!sub) {
        S->m.rejections[MR_OVERLOADED]++;
        error_reply(s, "overloaded", err, name);
        return;
    }
    /* capabilities (docs/wire-contract.md §4.1): "batch" says the client
     * takes batch messages, for the whole connection; "delta" asks for
     * merge-patch deltas on this channel. Servers without them ignore the
     * keys, so a client may always send them. */
    if (json_is_true(json_object_get(o, "batch")))
        s->ws_batch = 1;
    sub->want_delta = json_is_true(json_object_get(o, "delta"));
    lws_callback_on_writable(s->wsi);
}

static void op_pub(srv *S, session *s, json_t *o, const char *name)
{
    json_t *ev = json_deep_copy(o), *resp;
    json_t *ack = json_object_get(o, "ack");
    json_object_del(ev, "op");
    json_object_del(ev, "ch");
    json_object_del(ev, "ack");
    int status;
    const char *code;
    char err[512];
    int rc = publish_body(S, s, name, ev, MT_WS, json_is_true(ack), &resp, &status, &code, err,
                          sizeof(err));
    if (rc == PUBLISH_DEFERRED) {
        /* --redis: publish_answer acks later */
    } else if (rc) {
        error_reply(s, code, err, name);
    } else if (json_is_true(ack)) {
        char buf[256];
        int n = snprintf(buf, sizeof(buf), "{\"type\":\"published\",\"ch\":\"%s\",\"seq\":%lld}", name,
                         (long long)json_integer_value(json_object_get(resp, "seq")));
        if (conn_ctrl(s, ENV_T_UNKNOWN, buf, (size_t)n))
            conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
        lws_callback_on_writable(s->wsi);
    }
    json_decref(resp);
    json_decref(ev);
}

/* {"op":"auth","token":…}: a fresh token for this connection (docs/security.md). */
static void op_auth(srv *S, session *s, json_t *o)
{
    char err[256], reply[512];
    json_t *jt = json_object_get(o, "token");
    if (!json_is_string(jt)) {
        S->m.rejections[MR_BAD_REQUEST]++;
        error_reply(s, "bad_request", "\"token\" must be a string", NULL);
        return;
    }
    authz_verdict v = authz_refresh(&s->principal, &s->free_principal, s->wsi, json_string_value(jt),
                                    json_string_length(jt), reply, sizeof(reply), err, sizeof(err));
    if (v != AUTHZ_ALLOW) {
        S->m.rejections[reject_of(v)]++;
        error_reply(s, authz_code(v), err, NULL);
        if (authz_expired(s->principal))
            conn_close_soon(s, 4401, "token expired", 0);
        return;
    }
    authz_arm_expiry(&S->exp_wheel, s->wsi, s->principal);
    if (conn_ctrl(s, ENV_T_UNKNOWN, reply, strlen(reply)))
        conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
    /* the new token's roles may grant less: re-authorize every subscription
     * and end the ones it no longer allows */
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&s->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, conn_node);
        authz_request rq = {AUTHZ_SUBSCRIBE, AUTHZ_T_WS, sub->ch->hist.name, s->wsi, &s->principal,
                            &s->free_principal};
        authz_verdict sv = authz_check(&rq, err, sizeof(err));
        if (sv != AUTHZ_ALLOW) {
            S->m.rejections[reject_of(sv)]++;
            error_reply(s, authz_code(sv), err, sub->ch->hist.name);
            conn_unsubscribe(s, sub);
        }
    } lws_end_foreach_dll_safe(d, d1);
    lws_callback_on_writable(s->wsi);
}

static void handle_message(srv *S, session *s, const char *in, size_t len)
{
    char lim[160];
    if (authz_ws_message(s->principal, lim, sizeof(lim)) != AUTHZ_ALLOW) {
        /* a flood: say why, then close once the reply is out */
        S->m.rejections[MR_RATE_LIMITED]++;
        error_reply(s, "rate_limited", lim, NULL);
        conn_close_soon(s, 4429, "rate_limited", 0);
        return;
    }
    json_error_t je;
    json_t *o = json_loadb(in, len, JSON_REJECT_DUPLICATES, &je);
    char m[320];
    if (!o || !json_is_object(o)) {
        snprintf(m, sizeof(m), o ? "a message must be a JSON object"
                                 : "invalid JSON at column %d: %s", je.column, je.text);
        S->m.rejections[MR_BAD_REQUEST]++;
        error_reply(s, "bad_request", m, NULL);
        json_decref(o);
        return;
    }
    const char *op = json_string_value(json_object_get(o, "op"));
    const char *name = json_string_value(json_object_get(o, "ch"));
    if (!op) {
        S->m.rejections[MR_BAD_REQUEST]++;
        error_reply(s, "bad_request", "missing \"op\" (sub, unsub, pub, ping)", NULL);
    } else if (strcmp(op, "ping") == 0) {
        static const char pong[] = "{\"type\":\"pong\"}";
        if (conn_ctrl(s, ENV_T_PONG, pong, sizeof(pong) - 1))
            conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
        lws_callback_on_writable(s->wsi);
    } else if (strcmp(op, "auth") == 0) {
        op_auth(S, s, o);
    } else if (strcmp(op, "sub") && strcmp(op, "unsub") && strcmp(op, "pub")) {
        snprintf(m, sizeof(m), "unknown op \"%.32s\" (sub, unsub, pub, ping)", op);
        S->m.rejections[MR_BAD_REQUEST]++;
        error_reply(s, "bad_request", m, NULL);
    } else if (!name || !envelope_channel_valid(name, strlen(name))) {
        S->m.rejections[MR_BAD_REQUEST]++;
        error_reply(s, "bad_request", "missing or invalid \"ch\"", NULL);
    } else if (strcmp(op, "sub") == 0) {
        op_sub(S, s, o, name);
    } else if (strcmp(op, "unsub") == 0) {
        char err[64];
        channel *ch = channels_get(S, name, 0, err, sizeof(err));
        conn_sub *sub = ch ? conn_find_sub(s, ch) : NULL;
        if (sub)
            conn_unsubscribe(s, sub);
    } else {
        op_pub(S, s, o, name);
    }
    json_decref(o);
}

static int on_receive(srv *S, session *s, struct lws *wsi, const char *in, size_t len)
{
    size_t cap = (size_t)S->cfg->max_payload_bytes;
    int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi) &&
                                                     !lws_remaining_packet_payload(wsi);
    if (first) {
        free(s->rx);
        s->rx = NULL;
        s->rx_len = 0;
    }
    if (s->rx_len + len > cap) {
        S->m.rejections[MR_TOO_LARGE]++;
        char reason[64];
        int n = snprintf(reason, sizeof(reason), "message over %zu bytes", cap);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)reason, (size_t)n);
        return -1;
    }
    if (lws_frame_is_binary(wsi)) {
        if (final) {
            S->m.rejections[MR_BAD_REQUEST]++;
            error_reply(s, "bad_request", "binary messages are not part of the contract", NULL);
        }
        return 0;
    }
    if (first && final) { /* the common case: one frame, no copy */
        handle_message(S, s, in, len);
        return 0;
    }
    char *nb = realloc(s->rx, s->rx_len + len + 1);
    if (!nb)
        return -1;
    memcpy(nb + s->rx_len, in, len);
    s->rx = nb;
    s->rx_len += len;
    if (final) {
        handle_message(S, s, s->rx, s->rx_len);
        free(s->rx);
        s->rx = NULL;
        s->rx_len = 0;
    }
    return 0;
}

/* Writes an RFC 6455 server frame header (FIN, text, unmasked) for a payload
 * of len bytes into p; returns its size. Done here rather than by lws_write's
 * LWS_WRITE_TEXT so that many small frames go out in one write(2): with
 * fan-out to thousands of clients the per-frame syscall (and lws's per-call
 * poll for "choked") is the server's main cost. lws still owns the socket:
 * the batch goes through lws_write(LWS_WRITE_HTTP), which the ws role sends
 * raw and buffers whole on a partial write, so frames are never split by
 * lws's own control frames. */
static size_t ws_frame_header(unsigned char *p, size_t len)
{
    p[0] = 0x81;
    if (len < 126) {
        p[1] = (unsigned char)len;
        return 2;
    }
    if (len < 65536) {
        p[1] = 126;
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
        return 4;
    }
    p[1] = 127;
    for (int i = 0; i < 8; i++)
        p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

/* The most bytes one frame of a len-byte message takes in out. */
static size_t frame_room(const session *s, size_t len)
{
    return (s->pmd ? pmd_frame_bound(len) : len) + 16;
}

/* Writes one text message (compressed when permessage-deflate is on) at
 * out + *pos. 0, or -1 when the compressor failed (close the connection). */
static int ws_emit(session *s, const char *text, size_t len, unsigned char *out, size_t *pos)
{
    if (s->pmd) {
        size_t n = pmd_frame(s, text, len, out + *pos);
        if (!n) {
            log_warn("ws: permessage-deflate failed; closing");
            return -1;
        }
        *pos += n;
        return 0;
    }
    *pos += ws_frame_header(out + *pos, len);
    memcpy(out + *pos, text, len);
    *pos += len;
    return 0;
}

/* Ends the batch message in S->bat ("[e1,e2,…", blen bytes, bn envelopes)
 * and writes it: a single envelope goes as a plain message (no array). */
static int ws_emit_batch(srv *S, session *s, unsigned char *out, size_t *pos, size_t blen, unsigned bn)
{
    if (bn == 1)
        return ws_emit(s, S->bat + 1, blen - 1, out, pos);
    S->bat[blen++] = ']';
    S->m.ws_batch_msgs++;
    S->m.ws_batch_events += bn;
    return ws_emit(s, S->bat, blen, out, pos);
}

void ws_arm_first_ping(srv *S, session *s)
{
    twheel_arm(&S->wheel, &s->tmr, s->last_pong_us + (uint64_t)S->cfg->ws_ping_s * 1000000);
}

/* The silence after which a peer is closed: the idle timeout, and always
 * more than the ping interval (a ping must get its chance). */
static uint64_t idle_us(const srv *S)
{
    int64_t s = S->cfg->idle_timeout_s > S->cfg->ws_ping_s ? S->cfg->idle_timeout_s : S->cfg->ws_ping_s + 1;
    return (uint64_t)s * 1000000;
}

/* Armed once at ESTABLISHED, then re-armed only from here: a pong just
 * records its time (no timer work per message). Each firing either closes
 * a peer silent for the idle timeout, pings one silent for the ping
 * interval, or sleeps until the ping interval after the last pong. */
void ws_timer(srv *S, session *s)
{
    if (!s->wsi || s->close_now)
        return;
    uint64_t now = clock_mono_us(), ping_us = (uint64_t)S->cfg->ws_ping_s * 1000000;
    uint64_t silent = now - s->last_pong_us, idle = idle_us(S);
    if (silent >= idle) {
        S->m.idle_closes[MT_WS]++;
        log_info("ws idle close: no pong for %llds", (long long)(idle / 1000000));
        s->close_now = 1;
        s->closing = 1;
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    uint64_t next = s->last_pong_us + ping_us;
    if (next <= now) {
        s->ping_due = 1;
        lws_callback_on_writable(s->wsi);
        next = now + ping_us;
        if (next > s->last_pong_us + idle)
            next = s->last_pong_us + idle;
    }
    twheel_arm(&S->wheel, &s->tmr, next);
}

void ws_expiry(srv *S, session *s)
{
    /* armed by authz_arm_expiry: the token's exp has come */
    if (!s->wsi || s->closing)
        return;
    if (authz_expired(s->principal)) {
        error_reply(s, "unauthorized", "token expired; reconnect with a fresh token", NULL);
        conn_close_soon(s, 4401, "token expired", 0);
    } else {
        authz_arm_expiry(&S->exp_wheel, s->wsi, s->principal); /* refreshed meanwhile */
    }
}

/* Writes what the connection has queued: every frame that fits in one
 * write (WRITE_BATCH_BYTES, WS_FRAMES_PER_WRITEABLE), built into the
 * vhost's out buffer and sent with one raw lws_write; asks for WRITEABLE
 * again when more is left. 0, or -1 when the connection must close. Called
 * from SERVER_WRITEABLE and from the end of a loop pass (ws_write_direct). */
static int write_queue(srv *S, session *s, struct lws *wsi, int direct)
{
    unsigned char *out = (unsigned char *)S->out + LWS_PRE;
    size_t pos = 0, blen = 0;
    unsigned bn = 0; /* events in the batch message being built in S->bat */
    conn_frame f;
    int frames = 0, events = 0;
    /* room: the batch so far, plus one more frame of the largest size,
     * always fits in out (and so the batch in bat, which is as big) */
    while (pos + blen < WRITE_BATCH_BYTES && pos + frame_room(s, blen) + frame_room(s, S->gen_cap) <= S->out_cap &&
           frames < WS_FRAMES_PER_WRITEABLE && conn_next(s, &f)) {
        if (s->ws_batch && f.type == ENV_T_EVENT && ((const channel *)f.hold->chan)->batch) {
            /* one more envelope of the batch message: "[e1,e2,…]" (only
             * events of channels with the window: without --batch-ms every
             * client gets one message per event, as before) */
            S->bat[blen++] = bn ? ',' : '[';
            memcpy(S->bat + blen, f.text, f.len);
            blen += f.len;
            bn++;
        } else {
            if (bn && ws_emit_batch(S, s, out, &pos, blen, bn) < 0) {
                msg_unref(f.hold);
                return -1;
            }
            blen = bn = 0;
            if (ws_emit(s, f.text, f.len, out, &pos) < 0) {
                msg_unref(f.hold);
                return -1;
            }
        }
        frames++;
        if (f.type == ENV_T_EVENT) {
            events++;
            if (f.delta) {
                S->m.delta_sent[MT_WS]++;
                S->m.delta_bytes_saved += (uint64_t)(f.hold->len - f.hold->delta_len); /* delta_len < len (delta.c) */
            }
            if (f.live) {
                S->m.delivered_live[MT_WS]++;
                metrics_latency(&S->m, clock_wall_us() - f.hold->ts_us);
            } else {
                S->m.delivered_replay[MT_WS]++;
            }
        }
        msg_unref(f.hold);
    }
    if (bn && ws_emit_batch(S, s, out, &pos, blen, bn) < 0)
        return -1;
    /* whatever the window held went out now */
    batch_release(s);
    if (pos && !(direct && wflush_defer(S, s, wsi, out, pos, (unsigned)events))) {
        if (lws_write(wsi, out, pos, LWS_WRITE_HTTP) < (int)pos)
            return -1;
        s->last_progress_us = clock_mono_us();
        if (events) {
            S->m.stream_writes[MT_WS]++;
            S->m.ws_direct_writes += (uint64_t)direct;
        }
    }
    if (conn_pending(s) || s->closing)
        lws_callback_on_writable(wsi);
    return 0;
}

static int on_writeable(srv *S, session *s, struct lws *wsi)
{
    if (s->close_now || (s->closing && !conn_pending(s))) {
        const char *r = s->close_reason ? s->close_reason : "";
        lws_close_reason(wsi, (enum lws_close_status)(s->close_code ? s->close_code : 1000),
                         (unsigned char *)r, strlen(r));
        return -1;
    }
    if (s->ping_due) {
        /* its own write: lws frames the ping (a batch below goes raw). Not
         * empty: lws 4.1 does not report an empty pong (RECEIVE_PONG); and
         * ASCII: with VALIDATE_UTF8 lws checks the echoed pong payload as
         * text and closes 1007 on binary. */
        unsigned char ping[LWS_PRE + 4];
        memcpy(ping + LWS_PRE, "rtc!", 4);
        s->ping_due = 0;
        if (lws_write(wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 0)
            return -1;
        if (conn_pending(s) || s->closing)
            lws_callback_on_writable(wsi);
        return 0;
    }
    return write_queue(S, s, wsi, 0);
}

/* The direct write (wflush.c): the connection got live events during this
 * loop pass and is written now, outside WRITEABLE, instead of asking lws
 * for POLLOUT (with lws 4.1's libev glue that is an epoll_ctl to arm it, a
 * wake-up, and another epoll_ctl to disarm it, per connection per event).
 * Safe only where lws would hand the connection to our WRITEABLE with
 * nothing of its own to send first (lws 4.1 lib/core-net/output.c
 * lws_issue_raw, roles/ws/ops-ws.c rops_handle_POLLOUT_ws):
 * - no partial write pending (lws_partial_buffered): lws would append
 *   ours behind it, in order, but the queue should wait with its backlog
 *   as on the WRITEABLE path; a connection lws is flushing before a close
 *   (LRS_FLUSHING_BEFORE_CLOSE) always has one;
 * - not closing: once we asked to close (closing, close_now) or the peer
 *   sent its close (WS_PEER_INITIATED_CLOSE sets closing), only
 *   WRITEABLE writes, so nothing follows a close frame; a close lws starts
 *   itself releases the session first (WS_SERVER_DROP_PROTOCOL);
 * - outside any lws callback (the end of the loop pass), so never inside
 *   another write of the same connection;
 * - our frames go raw (LWS_WRITE_HTTP), never through lws's extensions:
 *   permessage-deflate is ours (pmd.c) and per connection, in order.
 * Everything else (pings, closes, backlog past one write, a partial write's
 * rest) stays on the WRITEABLE path, which lws_callback_on_writable asks
 * for. 0 written (or handed to WRITEABLE), -1 when the connection must
 * close (the caller closes it). */
int ws_write_direct(srv *S, session *s)
{
    struct lws *wsi = s->wsi;
    if (!wsi || s->kind != SESS_WS)
        return 0;
    if (s->closing || s->close_now || lws_partial_buffered(wsi)) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (!conn_pending(s))
        return 0;
    return write_queue(S, s, wsi, 1);
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, session *s, void *in, size_t len)
{
    srv *S = server_of(wsi);
    char path[32], err[256];
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* Only /ws upgrades; none while draining. */
        if (!S || S->draining || lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0 ||
            strcmp(path, "/ws") != 0) {
            if (S)
                S->m.rejections[S->draining ? MR_DRAINING : MR_NOT_FOUND]++;
            return 1;
        }
        if (!authz_admit(wsi)) {
            /* connection storm: refuse the upgrade with 503 + Retry-After */
            S->m.rejections[MR_OVERLOADED]++;
            unsigned char hdr[LWS_PRE + 256], *start = hdr + LWS_PRE, *p = start,
                                             *end = hdr + sizeof(hdr) - 1;
            char ra[16];
            int n = snprintf(ra, sizeof(ra), "%u", authz_retry_after_s());
            if (!lws_add_http_header_status(wsi, 503, &p, end) &&
                !lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
                                             (const unsigned char *)ra, n, &p, end) &&
                !lws_add_http_header_content_length(wsi, 0, &p, end) &&
                !lws_finalize_http_header(wsi, &p, end))
                lws_write(wsi, start, (size_t)lws_ptr_diff(p, start), LWS_WRITE_HTTP_HEADERS);
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        http_conn_upgraded(wsi); /* its HTTP keep-alive entry: not needed any more */
        rawtarget_passthrough(lws_get_socket_fd(wsi), wsi);
        conn_init(s, S, SESS_WS, wsi);
        s->last_pong_us = clock_mono_us();
        log_debug("ws open conns=%llu", (unsigned long long)S->m.conns_open[MT_WS] + 1);
        lws_dll2_add_tail(&s->node, &S->sessions);
        S->m.conns_open[MT_WS]++;
        S->m.conns_total[MT_WS]++;
        ws_arm_first_ping(S, s);
        if (server_fd_refused(wsi)) {
            /* admitted over the descriptor budget only to say so */
            conn_close_soon(s, WS_CLOSE_TRY_AGAIN_LATER, "descriptor limit reached, try again later", 1);
            return 0;
        }
        if (S->cfg->ws_deflate && pmd_start(s, wsi) < 0) {
            conn_close_soon(s, 1011, "out of memory", 1);
            return 0;
        }
        if (S->cfg->sndbuf_bytes) {
            int b = (int)S->cfg->sndbuf_bytes;
            setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
        }
        /* A peer gone silent (no FIN, no RST) is otherwise noticed only by
         * the next unanswered ping (--ws-ping-s, 20 s by default) plus the
         * idle timeout; the kernel aborts the connection once sent data
         * stays unacknowledged for the idle timeout (see sse.c). */
        unsigned user_timeout_ms = (unsigned)S->cfg->idle_timeout_s * 1000u;
        setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
                   sizeof(user_timeout_ms));
        authz_request rq = {AUTHZ_CONNECT, AUTHZ_T_WS, NULL, wsi, &s->principal, &s->free_principal};
        authz_verdict v = authz_check(&rq, err, sizeof(err));
        if (v != AUTHZ_ALLOW) {
            S->m.rejections[reject_of(v)]++;
            conn_close_soon(s, v == AUTHZ_UNAUTHORIZED ? 4401 : v == AUTHZ_RATE_LIMITED ? 4429 : 4403,
                            authz_code(v), 1);
        } else {
            authz_arm_expiry(&S->exp_wheel, wsi, s->principal);
        }
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        if (s->closing)
            return 0;
        return on_receive(S, s, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(S, s, wsi);
    case LWS_CALLBACK_RECEIVE_PONG:
        s->last_pong_us = clock_mono_us();
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* lws answers the close at the next POLLOUT and then ends the
         * connection: nothing more of ours goes out (fan-out skips it, and
         * the direct write never writes after the peer's close) */
        if (s->wsi)
            s->closing = 1;
        return 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
        /* (whichever lws calls first; the session is released once; idle
         * closes were counted by ws_timer) */
        session_release(s);
        return 0;
    default:
        return 0;
    }
}
