/* sse.c — Server-Sent Events streams: GET /sse?ch=a&ch=b with resume by
 * Last-Event-ID (or ?last_event_id=), an opaque id on every message,
 * heartbeat comments, and idle detection by write progress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "clock.h"
#include "log.h"
#include "rawtarget.h"
#include "server.h"
#include "sse_id.h"

/* The id after the messages written so far: every subscription's position. */
static int make_id(session *s, char *out, size_t cap)
{
    sse_pos pos[SSE_ID_MAX_CHANNELS];
    size_t n = 0;
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&s->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, conn_node);
        history *h = &sub->ch->hist;
        if (n == SSE_ID_MAX_CHANNELS)
            break;
        /* (no `continue` in lws_start_foreach_dll: it would skip the step) */
        pos[n].ch_hash = sse_id_hash(h->name, strlen(h->name));
        if (sub->phase == SUB_PENDING) {
            /* not answered yet: keep what the client asked for, if anything */
            pos[n].seq = sub->since;
            pos[n].epoch_hash = sub->epoch_hash;
            n += sub->has_since;
        } else {
            pos[n].seq = sub->last_sent;
            pos[n].epoch_hash = sse_id_hash(h->epoch, strlen(h->epoch));
            n++;
        }
    } lws_end_foreach_dll(d);
    return sse_id_encode(pos, n, out, cap);
}

/* Collects the channel names of ch= arguments (repeated, or comma lists). */
static int collect_channels(struct lws *wsi, char names[][ENV_CH_MAX + 1], size_t max,
                            size_t *n, char *err, size_t errlen)
{
    char frag[1024];
    *n = 0;
    for (int i = 0; i < 256; i++) {
        int len = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len < 0)
            break;
        if (strncmp(frag, "ch=", 3) != 0)
            continue;
        char *save = NULL;
        for (char *t = strtok_r(frag + 3, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!envelope_channel_valid(t, strlen(t))) {
                snprintf(err, errlen, "invalid channel name \"%.64s\"", t);
                return -1;
            }
            size_t k = 0;
            while (k < *n && strcmp(names[k], t) != 0)
                k++;
            if (k < *n)
                continue;
            if (*n == max) {
                snprintf(err, errlen, "at most %zu channels per stream", max);
                return -1;
            }
            snprintf(names[(*n)++], ENV_CH_MAX + 1, "%s", t);
        }
    }
    if (!*n) {
        snprintf(err, errlen, "/sse needs at least one ch=");
        return -1;
    }
    return 0;
}

static int reject(srv *S, session *s, metrics_reject r, int status, const char *code, const char *m)
{
    S->m.rejections[r]++;
    return http_respond_error(s, status, code, m);
}

int sse_start(srv *S, session *s, struct lws *wsi)
{
    static char names[SSE_ID_MAX_CHANNELS][ENV_CH_MAX + 1];
    char err[256], idbuf[SSE_ID_MAX_LEN + 2];
    size_t n, max = (size_t)S->cfg->max_subs;
    if (max > SSE_ID_MAX_CHANNELS)
        max = SSE_ID_MAX_CHANNELS;
    if (collect_channels(wsi, names, max, &n, err, sizeof(err)))
        return reject(S, s, MR_BAD_REQUEST, 400, "bad_request", err);

    /* Resume position: the header wins over the query argument. */
    sse_pos pos[SSE_ID_MAX_CHANNELS];
    size_t npos = 0;
    int idlen = lws_hdr_custom_length(wsi, "last-event-id:", 14);
    if (idlen > 0) {
        if (idlen > SSE_ID_MAX_LEN ||
            lws_hdr_custom_copy(wsi, idbuf, sizeof(idbuf), "last-event-id:", 14) < 0)
            return reject(S, s, MR_BAD_REQUEST, 400, "bad_request", "Last-Event-ID too long");
    } else {
        char frag[SSE_ID_MAX_LEN + 20];
        idbuf[0] = '\0';
        for (int i = 0; i < 256; i++) {
            int len = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
            if (len < 0)
                break;
            if (strncmp(frag, "last_event_id=", 14) == 0) {
                if ((size_t)len - 14 >= sizeof(idbuf))
                    return reject(S, s, MR_BAD_REQUEST, 400, "bad_request", "last_event_id too long");
                memcpy(idbuf, frag + 14, (size_t)len - 14 + 1);
                break;
            }
        }
    }
    size_t idl = strlen(idbuf);
    while (idl && (idbuf[idl - 1] == ' ' || idbuf[idl - 1] == '\t'))
        idbuf[--idl] = '\0';
    if (idl && sse_id_decode(idbuf, idl, pos, SSE_ID_MAX_CHANNELS, &npos, err, sizeof(err)))
        return reject(S, s, MR_BAD_REQUEST, 400, "bad_request", err);

    authz_request rq = {AUTHZ_CONNECT, AUTHZ_T_SSE, NULL, wsi, &s->principal, &s->free_principal};
    authz_verdict v = authz_check(&rq, err, sizeof(err));
    for (size_t i = 0; i < n && v == AUTHZ_ALLOW; i++) {
        rq.action = AUTHZ_SUBSCRIBE;
        rq.channel = names[i];
        v = authz_check(&rq, err, sizeof(err));
    }
    if (v != AUTHZ_ALLOW)
        return reject(S, s, v == AUTHZ_UNAUTHORIZED ? MR_UNAUTHORIZED : v == AUTHZ_RATE_LIMITED ? MR_RATE_LIMITED : MR_FORBIDDEN,
                      v == AUTHZ_UNAUTHORIZED ? 401 : v == AUTHZ_RATE_LIMITED ? 429 : 403,
                      authz_code(v), err);

    channel *chans[SSE_ID_MAX_CHANNELS];
    size_t enabled = 0;
    for (size_t i = 0; i < n; i++) {
        chans[i] = channels_get(S, names[i], 1, err, sizeof(err));
        if (!chans[i])
            return reject(S, s, MR_OVERLOADED, 503, "overloaded", err);
        enabled += chans[i]->fl.enabled;
    }
    if (!enabled)
        return reject(S, s, MR_DISABLED, 503, "overloaded",
                      "every requested channel is disabled by a feature flag; use /poll");

    /* ?delta=1: merge-patch deltas on the channels that have them
     * (docs/wire-contract.md §5.3) */
    int delta = 0;
    for (int i = 0; i < 256; i++) {
        char frag[32];
        int len = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len < 0)
            break;
        if (strcmp(frag, "delta=1") == 0 || strcmp(frag, "delta=true") == 0)
            delta = 1;
    }
    conn_init(s, S, SESS_SSE, wsi);
    rawtarget_passthrough(lws_get_socket_fd(wsi), wsi); /* no request follows on a stream */
    log_debug("sse open channels=%zu resume=%s", n, npos ? "yes" : "no");
    lws_dll2_add_tail(&s->node, &S->sessions);
    conn_watch_hangup(s);
    S->m.conns_open[MT_SSE]++;
    S->m.conns_total[MT_SSE]++;
    for (size_t i = 0; i < n; i++) {
        if (!chans[i]->fl.enabled) {
            S->m.rejections[MR_DISABLED]++;
            conn_ctrl_error(s, "overloaded", "channel disabled by a feature flag; use /poll", names[i]);
            continue;
        }
        const sse_pos *p = sse_id_find(pos, npos, sse_id_hash(names[i], strlen(names[i])));
        conn_sub *sub = conn_subscribe(s, chans[i], p != NULL, p ? p->seq : 0, p ? 2 : 0, NULL,
                                       p ? p->epoch_hash : 0, err, sizeof(err));
        if (!sub)
            conn_ctrl_error(s, "overloaded", err, names[i]);
        else
            sub->want_delta = delta;
    }
    if (S->cfg->sndbuf_bytes) {
        int b = (int)S->cfg->sndbuf_bytes;
        setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
    }
    /* A peer that vanished without FIN or RST (a silent partition) still
     * takes our writes until the send buffer fills, so "no write progress"
     * alone notices it only after buffer-size / stream-rate + the idle
     * timeout (measured: 9 s with a 4 s timeout, scenarios/silent-partition).
     * TCP_USER_TIMEOUT makes the kernel abort the connection once sent data
     * (the heartbeats at least) stays unacknowledged for the idle timeout. */
    unsigned user_timeout_ms = (unsigned)S->cfg->idle_timeout_s * 1000u;
    setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
    lws_callback_on_writable(wsi);
    return 0;
}

static int write_headers(srv *S, session *s)
{
    struct lws *wsi = s->wsi;
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof(hdr) - 1;
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/event-stream",
                                    LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end))
        return -1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-cache", 8, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-accel-buffering:",
                                    (const unsigned char *)"no", 2, &p, end))
        return -1;
    if (S->cfg->cors_origin[0] &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-origin:",
                                    (const unsigned char *)S->cfg->cors_origin,
                                    (int)strlen(S->cfg->cors_origin), &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    /* From here on this is a long-lived stream: free the header table and
     * drop HTTP timeouts (lws_http_mark_sse does the same but only for h2
     * and logs an error on h1). Idleness is ours: sse_timer(). */
    lws_http_headers_detach(wsi);
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    twheel_arm(&S->wheel, &s->tmr, clock_mono_us() + (uint64_t)S->cfg->heartbeat_ms * 1000);
    return 0;
}

int sse_writeable(srv *S, session *s)
{
    struct lws *wsi = s->wsi;
    if (s->close_now)
        return -1;
    if (!s->sse_started) {
        if (write_headers(S, s))
            return -1;
        s->sse_started = 1;
        /* The headers went out in their own write; the body follows on the
         * next WRITEABLE so each callback makes one write. */
        lws_callback_on_writable(wsi);
        return 0;
    }
    char *out = S->out + LWS_PRE;
    size_t pos = 0;
    /* room one more message needs at most: id line, data line, a frame */
    size_t need = S->gen_cap + SSE_ID_MAX_LEN + 32;
    int frames = 0, events = 0;
    if (s->sse_started == 1) {
        pos += (size_t)snprintf(out, S->out_cap, "retry: %lld\n\n", (long long)S->cfg->sse_retry_ms);
        s->sse_started = 2;
    }
    conn_frame f;
    while (pos < WRITE_BATCH_BYTES && pos + need <= S->out_cap && frames < 256 &&
           conn_next(s, &f)) {
        memcpy(out + pos, "id: ", 4);
        pos += 4;
        int idn = make_id(s, out + pos, S->out_cap - pos);
        pos += idn > 0 ? (size_t)idn : 0;
        memcpy(out + pos, "\ndata: ", 7);
        pos += 7;
        memcpy(out + pos, f.text, f.len);
        pos += f.len;
        out[pos++] = '\n';
        out[pos++] = '\n';
        if (f.type == ENV_T_EVENT) {
            events++;
            if (f.delta) {
                S->m.delta_sent[MT_SSE]++;
                S->m.delta_bytes_saved += (uint64_t)(f.hold->len - f.hold->delta_len); /* delta_len < len (delta.c) */
            }
            if (f.live) {
                S->m.delivered_live[MT_SSE]++;
                metrics_latency(&S->m, clock_wall_us() - f.hold->ts_us);
            } else {
                S->m.delivered_replay[MT_SSE]++;
            }
        }
        msg_unref(f.hold);
        frames++;
    }
    if (!pos && s->sse_hb_due) {
        memcpy(out, ": hb\n\n", 6);
        pos = 6;
        S->m.heartbeats_sent++;
    }
    batch_release(s); /* whatever the window held goes out now */
    if (pos) {
        s->sse_hb_due = 0;
        if (lws_write(wsi, (unsigned char *)out, pos, LWS_WRITE_HTTP) != (int)pos)
            return -1;
        s->last_progress_us = clock_mono_us();
        if (events)
            S->m.stream_writes[MT_SSE]++;
    }
    if (conn_pending(s)) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    /* Flushed: a stream asked to close (drain, kick, all channels disabled)
     * ends here; the client reconnects with its Last-Event-ID. */
    return s->closing ? -1 : 0;
}

int sse_timer(srv *S, session *s)
{
    uint64_t now = clock_mono_us();
    if (authz_expired(s->principal)) {
        /* the token expired: end the stream; the client reconnects with a
         * fresh one (checked within one heartbeat interval) */
        S->m.rejections[MR_UNAUTHORIZED]++;
        return -1;
    }
    if ((conn_pending(s) || s->sse_hb_due) &&
        now - s->last_progress_us > (uint64_t)S->cfg->idle_timeout_s * 1000000) {
        S->m.idle_closes[MT_SSE]++;
        log_info("sse idle close: no write progress for %llds", (long long)S->cfg->idle_timeout_s);
        conn_close_soon(s, 0, "idle", 1); /* frees the queue now; lws may linger */
        return -1;
    }
    s->sse_hb_due = 1;
    lws_callback_on_writable(s->wsi);
    /* The next heartbeat is due one interval after this one was due, not
     * after now: the wheel fires up to a tick late, and counting from now
     * stretched a 100 ms interval to 150 ms on a 50 ms wheel. After a stall
     * (the next due time already passed) it counts from now, so a late loop
     * does not send a burst of heartbeats. */
    uint64_t hb_us = (uint64_t)S->cfg->heartbeat_ms * 1000;
    uint64_t next = s->tmr.due_us + hb_us;
    if (next <= now)
        next = now + hb_us;
    twheel_arm(&S->wheel, &s->tmr, next);
    return 0;
}
