/* http_api.c — the HTTP side of the server: routing, request bodies, and the
 * plain endpoints (/publish, /poll, /metrics, /healthz, /admin/...); /sse lives
 * in sse.c. Responses are prepared here and written from HTTP_WRITEABLE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http_conn.h"
#include "rawtarget.h"
#include "linger.h"
#include "log.h"
#include "broker.h"
#include "server.h"
#include "version.h"

#define POLL_MAX_EVENTS 1000

int http_respond(session *s, int status, const char *ctype, const char *body, size_t len)
{
    free(s->h->resp);
    s->h->resp = malloc(LWS_PRE + len + 1);
    if (!s->h->resp)
        return -1;
    memcpy(s->h->resp + LWS_PRE, body, len);
    s->h->resp_len = len;
    s->h->resp_status = status;
    s->h->resp_retry_after_s = status == 429 || status == 503 ? authz_retry_after_s() : 0;
    s->h->resp_ctype = ctype;
    s->h->resp_ready = 1;
    lws_callback_on_writable(s->wsi);
    return 0;
}

static int respond_json(session *s, int status, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return -1;
    int rc = http_respond(s, status, "application/json", text, strlen(text));
    free(text);
    return rc;
}

int http_respond_error(session *s, int status, const char *code, const char *msg_text)
{
    char buf[1024];
    int n = envelope_format_error(buf, sizeof(buf), code, msg_text, NULL);
    if (n < 0)
        n = envelope_format_error(buf, sizeof(buf), code, "(message too long)", NULL);
    return http_respond(s, status, "application/json", buf, (size_t)(n < 0 ? 0 : n));
}

static int add_common_headers(srv *S, struct lws *wsi, unsigned char **p, unsigned char *end)
{
    if (S->cfg->cors_origin[0] &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-origin:",
                                    (const unsigned char *)S->cfg->cors_origin,
                                    (int)strlen(S->cfg->cors_origin), p, end))
        return -1;
    return lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                       (const unsigned char *)"no-store", 8, p, end);
}

/* Writes the prepared response; returns -1 to close the connection. */
static int write_response(srv *S, session *s, struct lws *wsi)
{
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof(hdr) - 1;
    if (lws_add_http_common_headers(wsi, (unsigned int)s->h->resp_status, s->h->resp_ctype,
                                    (lws_filepos_t)s->h->resp_len, &p, end) ||
        add_common_headers(S, wsi, &p, end))
        return -1;
    if (s->h->resp_retry_after_s) {
        char ra[16];
        int n = snprintf(ra, sizeof(ra), "%u", s->h->resp_retry_after_s);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
                                        (const unsigned char *)ra, n, &p, end))
            return -1;
    }
    if (s->h->resp_close &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                    (const unsigned char *)"close", 5, &p, end))
        return -1;
    if (s->h->resp_status == 401 &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                    (const unsigned char *)"Bearer", 6, &p, end))
        return -1;
    if (s->h->method == 'O') {
        static const char allow_m[] = "GET, POST, OPTIONS";
        static const char allow_h[] = "content-type, last-event-id";
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-methods:",
                                        (const unsigned char *)allow_m, sizeof(allow_m) - 1, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-headers:",
                                        (const unsigned char *)allow_h, sizeof(allow_h) - 1, &p, end))
            return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (s->h->resp_len &&
        lws_write(wsi, (unsigned char *)s->h->resp + LWS_PRE, s->h->resp_len, LWS_WRITE_HTTP_FINAL) !=
            (int)s->h->resp_len)
        return -1;
    free(s->h->resp);
    s->h->resp = NULL;
    s->h->resp_ready = 0;
    if (s->h->resp_close) {
        /* the peer may still be sending the body we never read: close by
         * lingering (linger.h) so its kernel is not told RST before it has
         * read this answer; only once lws holds none of the answer back */
        if (!lws_partial_buffered(wsi))
            (void)linger_adopt(lws_get_socket_fd(wsi), LINGER_MAX_MS);
        return -1;
    }
    /* the next request on this connection: its deadline starts now, and
     * what has been read so far tells a pipelined head (http_conn.h) */
    http_conn_answered(wsi);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- query arguments --------------------------------------------------- */

/* Copies the value of the idx-th "name=" argument (0-based among those with
 * that name) into buf; returns its length or -1. */
static int query_arg(struct lws *wsi, const char *name, int idx, char *buf, int len)
{
    char frag[600];
    size_t nl = strlen(name);
    for (int i = 0, seen = 0; i < 64; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            return -1;
        if ((size_t)n > nl && strncmp(frag, name, nl) == 0 && frag[nl] == '=') {
            if (seen++ == idx) {
                snprintf(buf, (size_t)len, "%s", frag + nl + 1);
                return (int)strlen(buf);
            }
        }
    }
    return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

/* ---- /poll --------------------------------------------------------------- */

static void poll_unwait(session *s)
{
    if (s->h)
        lws_dll2_remove(&s->h->poll_node);
}

/* Builds the answer from the channel's state now. */
int poll_respond_now(srv *S, session *s)
{
    channel *ch = s->h->poll_ch;
    history *h = &ch->hist;
    poll_unwait(s);
    if (!ch->bk_ready) {
        S->m.rejections[MR_OVERLOADED]++;
        return http_respond_error(s, 503, "overloaded",
                                  "the channel's state has not come from Redis yet; retry later");
    }
    history_resync d = history_resync_decide(h, s->h->poll_has_since, s->h->poll_since,
                                             s->h->poll_epoch[0] ? s->h->poll_epoch : NULL,
                                             clock_mono_us());
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return http_respond_error(s, 503, "overloaded", "out of memory");
    fputc('[', f);
    if (d == HISTORY_SNAPSHOT) {
        msg *last = h->last;
        size_t cap = (last ? last->data_len : 0) + strlen(h->name) * 6 + 256;
        char *tmp = malloc(cap);
        int n = tmp ? envelope_format(tmp, cap, ENV_T_SNAPSHOT, h->name, h->head,
                                      last ? last->ts_us : clock_wall_us(), h->epoch,
                                      last ? msg_data(last) : NULL, last ? last->data_len : 0)
                    : -1;
        if (n > 0)
            fwrite(tmp, 1, (size_t)n, f);
        free(tmp);
        S->m.snapshots_sent++;
        S->m.resync_snapshot++;
    } else if (d == HISTORY_REPLAY) {
        size_t count = 0, bytes = 0;
        for (uint64_t seq = s->h->poll_since + 1; seq <= h->head && count < POLL_MAX_EVENTS &&
                                               bytes < (size_t)S->cfg->sendq_max_bytes; seq++) {
            msg *m = history_get(h, seq);
            if (!m)
                break;
            if (count++)
                fputc(',', f);
            fwrite(msg_env(m), 1, m->len, f);
            bytes += m->len;
            if (s->poll_wake)
                S->m.delivered_live[MT_POLL]++;
            else
                S->m.delivered_replay[MT_POLL]++;
            if (s->poll_wake)
                metrics_latency(&S->m, clock_wall_us() - m->ts_us);
        }
    }
    fputc(']', f);
    if (fclose(f)) {
        free(buf);
        return http_respond_error(s, 503, "overloaded", "out of memory");
    }
    int rc = http_respond(s, 200, "application/json", buf, len);
    free(buf);
    return rc;
}

/* --redis: how long a poll waits at least for its channel's state to come
 * from Redis (broker.c) before it is answered 503. */
#define POLL_LOAD_WAIT_MS 2000

static int poll_start(srv *S, session *s, struct lws *wsi)
{
    char name[ENV_CH_MAX + 2], arg[64], err[256];
    uint64_t timeout_ms = 0;
    if (query_arg(wsi, "ch", 0, name, sizeof(name)) < 0 || query_arg(wsi, "ch", 1, arg, sizeof(arg)) >= 0) {
        S->m.rejections[MR_BAD_REQUEST]++;
        return http_respond_error(s, 400, "bad_request", "/poll takes exactly one ch=");
    }
    s->h->poll_has_since = query_arg(wsi, "since", 0, arg, sizeof(arg)) >= 0;
    if ((s->h->poll_has_since && parse_u64(arg, &s->h->poll_since)) ||
        (query_arg(wsi, "timeout_ms", 0, arg, sizeof(arg)) >= 0 && parse_u64(arg, &timeout_ms))) {
        S->m.rejections[MR_BAD_REQUEST]++;
        return http_respond_error(s, 400, "bad_request", "since and timeout_ms must be non-negative integers");
    }
    char epoch[ENV_EPOCH_MAX + 8];
    int elen = query_arg(wsi, "epoch", 0, epoch, sizeof(epoch));
    if (elen > ENV_EPOCH_MAX) {
        S->m.rejections[MR_BAD_REQUEST]++;
        return http_respond_error(s, 400, "bad_request", "epoch too long");
    }
    if (elen > 0)
        memcpy(s->h->poll_epoch, epoch, (size_t)elen + 1);
    authz_request rq = {AUTHZ_SUBSCRIBE, AUTHZ_T_POLL, name, wsi, &s->principal, &s->free_principal};
    authz_verdict v = authz_check(&rq, err, sizeof(err));
    if (v != AUTHZ_ALLOW) {
        S->m.rejections[v == AUTHZ_UNAUTHORIZED ? MR_UNAUTHORIZED : v == AUTHZ_RATE_LIMITED ? MR_RATE_LIMITED : MR_FORBIDDEN]++;
        return http_respond_error(s, v == AUTHZ_UNAUTHORIZED ? 401 : v == AUTHZ_RATE_LIMITED ? 429 : 403,
                                  authz_code(v), err);
    }
    channel *ch = channels_get(S, name, 1, err, sizeof(err));
    if (!ch) {
        S->m.rejections[MR_BAD_REQUEST]++;
        return http_respond_error(s, 400, "bad_request", err);
    }
    s->kind = SESS_POLL;
    s->srv = S;
    s->wsi = wsi;
    s->h->poll_ch = ch;
    lws_dll2_add_tail(&s->node, &S->sessions);
    conn_watch_hangup(s);
    S->m.conns_open[MT_POLL]++;
    S->m.conns_total[MT_POLL]++;
    if (timeout_ms > (uint64_t)S->cfg->poll_max_ms)
        timeout_ms = (uint64_t)S->cfg->poll_max_ms;
    if (!ch->bk_ready) {
        /* --redis: the channel's state is still coming from Redis; the
         * answer is decided once it is in (broker.c wakes the pollers), or
         * 503 if it does not come within the wait */
        lws_dll2_add_tail(&s->h->poll_node, &ch->pollers);
        twheel_arm(&S->wheel, &s->tmr,
                   clock_mono_us() + (timeout_ms > POLL_LOAD_WAIT_MS ? timeout_ms : POLL_LOAD_WAIT_MS) * 1000);
        return 0;
    }
    if (!s->h->poll_has_since) { /* no position: wait for what comes next */
        s->h->poll_has_since = 1;
        s->h->poll_since = ch->hist.head;
    }
    history_resync d = history_resync_decide(&ch->hist, 1, s->h->poll_since,
                                             s->h->poll_epoch[0] ? s->h->poll_epoch : NULL, clock_mono_us());
    if (d != HISTORY_UP_TO_DATE || !timeout_ms || S->draining)
        return poll_respond_now(S, s);
    lws_dll2_add_tail(&s->h->poll_node, &ch->pollers);
    /* the wait's end, on the session's wheel timer (poll_timer) */
    twheel_arm(&S->wheel, &s->tmr, clock_mono_us() + timeout_ms * 1000);
    return 0;
}

void poll_timer(srv *S, session *s)
{
    (void)S;
    if (s->h && !s->h->resp_ready) { /* waited the whole timeout */
        s->poll_wake = 1;
        lws_callback_on_writable(s->wsi);
    }
}

/* ---- admin ------------------------------------------------------------- */

static int admin_kick(srv *S, session *s, struct lws *wsi)
{
    char t[16] = "all";
    query_arg(wsi, "transport", 0, t, sizeof(t));
    int ws = !strcmp(t, "all") || !strcmp(t, "ws"), sse = !strcmp(t, "all") || !strcmp(t, "sse");
    if (!ws && !sse)
        return http_respond_error(s, 400, "bad_request", "transport must be ws, sse or all");
    uint64_t n = 0;
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&S->sessions)) {
        session *o = lws_container_of(d, session, node);
        if ((o->kind == SESS_WS && ws) || (o->kind == SESS_SSE && sse)) {
            conn_close_soon(o, LWS_CLOSE_STATUS_GOINGAWAY, "kicked", 1);
            n++;
        }
    } lws_end_foreach_dll(d);
    S->m.kicked += n;
    log_info("admin kick transport=%s closed=%llu", t, (unsigned long long)n);
    return respond_json(s, 200, json_pack("{s:I}", "kicked", (json_int_t)n));
}

static int admin_reset(srv *S, session *s, struct lws *wsi)
{
    char name[ENV_CH_MAX + 2], err[256];
    if (query_arg(wsi, "ch", 0, name, sizeof(name)) < 0)
        return http_respond_error(s, 400, "bad_request", "/admin/reset needs ch=");
    channel *ch = channels_get(S, name, 0, err, sizeof(err));
    if (!ch)
        return http_respond_error(s, 404, "bad_request", err);
    char epoch[ENV_EPOCH_MAX + 1];
    channels_new_epoch(S, epoch);
    history_reset(&ch->hist, epoch);
    log_info("admin reset ch=%s epoch=%s", name, epoch);
    return respond_json(s, 200, json_pack("{s:s,s:s,s:I}", "ch", name, "epoch", epoch, "seq",
                                          (json_int_t)ch->hist.head));
}

static int admin_flags_post(srv *S, session *s, const json_t *body)
{
    char err[256];
    if (flags_apply_json(&S->fl, body, err, sizeof(err))) {
        S->m.rejections[MR_BAD_REQUEST]++;
        return http_respond_error(s, 400, "bad_request", err);
    }
    channels_flags_changed(S);
    char *text = json_dumps(body, JSON_COMPACT);
    log_info("admin flags change=%s", text ? text : "?");
    free(text);
    return respond_json(s, 200, flags_to_json(&S->fl));
}

/* ---- request bodies ------------------------------------------------------ */

/* POST /admin/reload: the security files, as SIGHUP does (reload.c). */
static int admin_reload(srv *S, session *s)
{
    server_reload_result r;
    char err[512];
    int rc = server_reload(S, "admin", &r, err, sizeof(err));
    server_reload_log("admin", rc, &r, err);
    if (rc < 0)
        return http_respond_error(s, 422, "bad_request", err);
    return respond_json(s, 200,
                        json_pack("{s:b,s:i,s:i,s:I,s:I,s:I,s:I}", "reloaded", 1, "keys", r.files.keys,
                                  "rules", r.files.rules, "revoked_jti", (json_int_t)r.files.revoked_jti,
                                  "revoked_sub", (json_int_t)r.files.revoked_sub, "connections_closed",
                                  (json_int_t)r.connections_closed, "subscriptions_ended",
                                  (json_int_t)r.subscriptions_ended));
}

static int handle_post(srv *S, session *s, struct lws *wsi)
{
    if (s->h->refused_early) /* the answer is already on its way */
        return 0;
    if (s->h->body_too_large) {
        S->m.rejections[MR_TOO_LARGE]++;
        char m[128];
        snprintf(m, sizeof(m), "request body over %lld bytes", (long long)S->cfg->max_payload_bytes);
        return http_respond_error(s, 413, "too_large", m);
    }
    json_t *body = NULL;
    if (s->h->body_len || strncmp(s->h->path, "/admin/", 7) != 0) {
        json_error_t je;
        body = json_loadb(s->h->body ? s->h->body : "", s->h->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!body) {
            char m[300];
            snprintf(m, sizeof(m), "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
            S->m.rejections[MR_BAD_REQUEST]++;
            return http_respond_error(s, 400, "bad_request", m);
        }
    }
    int rc;
    if (strncmp(s->h->path, "/publish/", 9) == 0) {
        json_t *resp;
        int status;
        const char *code;
        char err[512];
        int prc = publish_body(S, s, s->h->path + 9, body, MT_HTTP, 0, &resp, &status, &code, err,
                               sizeof(err));
        if (prc == PUBLISH_DEFERRED)
            rc = 0; /* --redis: publish_answer responds once Redis has replied */
        else if (prc)
            rc = http_respond_error(s, status, code, err);
        else
            rc = respond_json(s, 200, resp);
    } else if (strcmp(s->h->path, "/admin/flags") == 0) {
        rc = body ? admin_flags_post(S, s, body)
                  : http_respond_error(s, 400, "bad_request", "POST /admin/flags needs a JSON body");
    } else if (strcmp(s->h->path, "/admin/kick") == 0) {
        rc = admin_kick(S, s, wsi);
    } else if (strcmp(s->h->path, "/admin/reset") == 0) {
        rc = admin_reset(S, s, wsi);
    } else if (strcmp(s->h->path, "/admin/reload") == 0) {
        rc = admin_reload(S, s);
    } else {
        rc = http_respond_error(s, 404, "bad_request", "no such endpoint");
    }
    json_decref(body);
    return rc;
}

/* ---- routing ----------------------------------------------------------- */

static int handle_get(srv *S, session *s, struct lws *wsi)
{
    if (strcmp(s->h->path, "/sse") == 0)
        return sse_start(S, s, wsi);
    if (strcmp(s->h->path, "/poll") == 0)
        return poll_start(S, s, wsi);
    if (strcmp(s->h->path, "/healthz") == 0)
        return respond_json(s, S->draining ? 503 : 200,
                            json_pack("{s:b,s:b,s:I,s:s}", "ok", !S->draining, "draining", S->draining,
                                      "channels", (json_int_t)S->nchannels, "version", rtchaos_version));
    if (strcmp(s->h->path, "/metrics") == 0) {
        /* kept as they change (conn.c, sendq.c): a scrape costs the same
         * at 10 connections and at 19,000 */
        metrics_gauges g = {.channels = S->nchannels, .draining = S->draining,
                            .sendq_msgs = S->qs.msgs, .sendq_bytes = S->qs.bytes,
                            .sendq_max_msgs = S->qs.max_depth, .subscriptions = S->nsubs};
        handshake_stats hs;
        server_handshake_stats(&hs);
        g.hs_pending = hs.pending;
        g.hs_timeouts = hs.timeouts;
        g.hs_untracked = hs.untracked;
        http_conn_stats hc;
        http_conn_get_stats(&hc);
        g.http_pipelined_refused = hc.pipelined_refused;
        g.http_request_timeouts = hc.request_timeouts;
        g.http_stuck_closed = hc.stuck_closed;
        rawtarget_stats rt;
        rawtarget_get_stats(&rt);
        g.http_bad_targets = rt.refused_targets;
        g.http_unframed = rt.unframed;
        g.http_lingering = linger_active();
        g.http_lingered = linger_total();
        g.http_linger_cut = linger_cut_total();
        char *text;
        size_t len;
        if (metrics_render(&S->m, &g, &text, &len))
            return http_respond_error(s, 503, "overloaded", "out of memory");
        if (authz_metrics_append(&text, &len) || (S->bk && broker_metrics_append(S->bk, &text, &len))) {
            free(text);
            return http_respond_error(s, 503, "overloaded", "out of memory");
        }
        int rc = http_respond(s, 200, "text/plain; version=0.0.4", text, len);
        free(text);
        return rc;
    }
    if (strcmp(s->h->path, "/admin/flags") == 0 && S->cfg->admin)
        return respond_json(s, 200, flags_to_json(&S->fl));
    S->m.rejections[MR_NOT_FOUND]++;
    return http_respond_error(s, 404, "bad_request", "no such endpoint");
}

/* The request's body framing, checked before anything else looks at the
 * request: lws 4.1 reads a body by Content-Length only (it does not de-chunk,
 * and takes a POST without a length as 100 MB of body), and a body it has
 * started to read cannot be given back. So every request whose body this
 * server will not read is answered at once and its connection closed: the
 * bytes after the head are never parsed as anything. Sets *content_len.
 * Returns 0 to go on, or 1 when an answer (with close) has been prepared. */
static int check_framing(srv *S, session *s, struct lws *wsi, uint64_t *content_len)
{
    char cl[32] = "";
    int has_cl = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    int has_te = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    *content_len = 0;
    const char *bad = rawtarget_verdict(lws_get_socket_fd(wsi));
    if (bad) {
        S->m.rejections[MR_BAD_REQUEST]++;
        s->h->resp_close = 1;
        char m[160];
        snprintf(m, sizeof(m), "refused: %s (the connection is closed)", bad);
        http_respond_error(s, 400, "bad_request", m);
        return 1;
    }
    if (s->h->pipelined) {
        S->m.rejections[MR_BAD_REQUEST]++;
        s->h->resp_close = 1;
        http_respond_error(s, 400, "bad_request",
                           "a request with a body was pipelined behind another request; send it "
                           "once the previous answer has arrived (the connection is closed)");
        return 1;
    }
    if (has_cl && (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
                   parse_u64(cl, content_len))) {
        S->m.rejections[MR_BAD_REQUEST]++;
        s->h->resp_close = 1;
        http_respond_error(s, 400, "bad_request", "bad content-length");
        return 1;
    }
    if (has_cl && has_te) { /* RFC 9112 6.3: a request smuggling shape */
        S->m.rejections[MR_BAD_REQUEST]++;
        s->h->resp_close = 1;
        http_respond_error(s, 400, "bad_request", "both content-length and transfer-encoding");
        return 1;
    }
    if (s->h->method != 'P') {
        if (has_te || *content_len) {
            S->m.rejections[MR_BAD_REQUEST]++;
            s->h->resp_close = 1;
            http_respond_error(s, 400, "bad_request", "only POST takes a request body");
            return 1;
        }
        return 0;
    }
    if (!has_cl) {
        S->m.rejections[MR_BAD_REQUEST]++;
        s->h->resp_close = 1;
        http_respond_error(s, 411, "bad_request",
                           "send the body with a Content-Length (chunked bodies are not accepted)");
        return 1;
    }
    if (*content_len > (uint64_t)S->cfg->max_payload_bytes) {
        /* refused before a byte of it is read; the connection is closed
         * so that the body is not read as the next request either */
        S->m.rejections[MR_TOO_LARGE]++;
        s->h->resp_close = 1;
        char m[128];
        snprintf(m, sizeof(m), "request body of %llu bytes is over %lld bytes",
                 (unsigned long long)*content_len, (long long)S->cfg->max_payload_bytes);
        http_respond_error(s, 413, "too_large", m);
        return 1;
    }
    return 0;
}

/* ---- bytes behind a streaming request ------------------------------------
 * A client that sends anything after the head of an SSE or long-poll request
 * in the same read leaves those bytes on lws 4.1's buflist. lws will not parse
 * them while the response is under way, yet a buffered connection that is not
 * flow-controlled makes lws_service_adjust_timeout() say "do not wait": the
 * event loop polls with a zero timeout for as long as the stream lasts (a
 * busy loop; a waiting poll's bound is its timeout, an SSE stream's none).
 * lws exposes neither the buflist nor which connection holds it, only that
 * adjust_timeout answer; so when the loop is found in that state at a timer
 * tick, the streaming connections are rx-flow-controlled one by one (which
 * takes a connection out of that check) until the answer changes, the ones
 * that turn it are the culprits and are closed, and the rest are turned back
 * on. Normal clients never send behind a streaming head, so they are never
 * closed by this; an attacker's stream is cut within a tick. */
static int loop_spins(srv *S)
{
    return lws_service_adjust_timeout(S->ctx, 1, 0) == 0;
}

static int streaming(const session *s)
{
    return s->wsi && ((s->kind == SESS_SSE) ||
                      (s->kind == SESS_POLL && s->h && !lws_dll2_is_detached(&s->h->poll_node)));
}

/* The search is bounded: a busy server has connections with buffered input
 * at any instant (WebSocket frames waiting for the next loop pass), so the
 * loop must be seen in that state at STUCK_TICKS ticks in a row, and only
 * streams whose head arrived since the loop was last seen calm (a stuck
 * stream starts the spin) are candidates, at most STUCK_CANDIDATES a tick. */
#define STUCK_TICKS 3
#define STUCK_CANDIDATES 16
#define STUCK_SLACK_US (500 * 1000)
static uint64_t g_calm_us;
static unsigned g_spin_ticks;

static void sweep_stuck(void *ud)
{
    srv *S = ud;
    uint64_t now = clock_mono_us();
    if (!S || !loop_spins(S)) {
        g_calm_us = now;
        g_spin_ticks = 0;
        return;
    }
    if (++g_spin_ticks < STUCK_TICKS)
        return;
    uint64_t since = g_calm_us > STUCK_SLACK_US ? g_calm_us - STUCK_SLACK_US : 0;
    session *cand[STUCK_CANDIDATES];
    size_t n = 0;
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&S->sessions)) {
        session *o = lws_container_of(d, session, node);
        if (n < STUCK_CANDIDATES && streaming(o) && http_conn_head_us(o->wsi) >= since)
            cand[n++] = o;
    } lws_end_foreach_dll(d);
    /* off, one by one, until the loop would wait again */
    size_t off = 0;
    while (off < n) {
        lws_rx_flow_control(cand[off++]->wsi, 0);
        if (!loop_spins(S))
            break;
    }
    int found = off && !loop_spins(S);
    /* back on, one by one: one that makes the loop spin again holds bytes
     * behind its head */
    for (size_t i = 0; i < off; i++) {
        session *o = cand[i];
        lws_rx_flow_control(o->wsi, 1);
        if (found && loop_spins(S)) {
            lws_rx_flow_control(o->wsi, 0);
            lws_set_timeout(o->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            http_conn_count_stuck();
            S->m.rejections[MR_BAD_REQUEST]++;
            log_info("closed a %s stream: the client sent bytes behind its request head",
                     o->kind == SESS_SSE ? "SSE" : "poll");
        }
    }
    if (found)
        g_spin_ticks = 0;
}

void http_api_start(srv *S)
{
    http_conn_on_tick(sweep_stuck, S);
}

int http_api_filter(struct lws *wsi)
{
    char cl[32] = "";
    int has_body = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        uint64_t n = 1;
        if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 || parse_u64(cl, &n))
            n = 1; /* unreadable: refused later, and may be anything to lws */
        has_body |= n > 0;
    } else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) {
        has_body = 1; /* lws reads a POST without a length as a 100 MB body */
    }
    int pipelined = 0;
    http_conn_head(wsi, has_body, &pipelined);
    /* /static/ is served by lws's file mount, which never calls
     * LWS_CALLBACK_HTTP: a pipelined request there is closed unanswered */
    char uri[16] = "";
    if ((pipelined | !!rawtarget_head(lws_get_socket_fd(wsi))) &&
        lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) > 0 && strncmp(uri, "/static/", 8) == 0)
        return -1;
    return 0;
}

static int on_http(srv *S, session *s, struct lws *wsi, const char *path)
{
    /* lws re-allocates the session per transaction; start clean anyway. */
    s->wsi = wsi;
    s->srv = S;
    if (!s->h && !(s->h = calloc(1, sizeof(*s->h)))) {
        log_error("http: out of memory for a request");
        return -1;
    }
    s->h->s = s;
    snprintf(s->h->path, sizeof(s->h->path), "%s", path);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        s->h->method = 'G';
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
        s->h->method = 'P';
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI))
        s->h->method = 'O';
    else {
        s->h->resp_close = 1;
        return http_respond_error(s, 405, "bad_request", "method not allowed");
    }
    uint64_t content_len = 0;
    http_conn_request(wsi, &s->h->has_body, &s->h->pipelined);
    if (check_framing(S, s, wsi, &content_len))
        return 0;
    if (S->draining) {
        S->m.rejections[MR_DRAINING]++;
        s->h->resp_close = 1;
        return http_respond_error(s, 503, "overloaded", "server is shutting down");
    }
    if (s->h->method == 'O')
        return http_respond(s, 204, "text/plain", "", 0);
    if (strncmp(path, "/admin/", 7) == 0 && !S->cfg->admin) {
        S->m.rejections[MR_NOT_FOUND]++;
        return http_respond_error(s, 404, "bad_request", "admin endpoints are disabled");
    }
    if ((!strcmp(path, "/sse") || !strcmp(path, "/poll") || !strncmp(path, "/publish/", 9)) &&
        !authz_admit(wsi)) {
        /* connection storm: shed new work, keep what is connected */
        S->m.rejections[MR_OVERLOADED]++;
        s->h->resp_close = 1;
        s->h->refused_early = 1;
        if (!strcmp(path, "/sse")) {
            char ev[96];
            int n = snprintf(ev, sizeof(ev), "retry: %u\n\n", authz_retry_after_s() * 1000);
            return http_respond(s, 503, "text/event-stream", ev, (size_t)n);
        }
        return http_respond_error(s, 503, "overloaded", "too many new connections; retry later");
    }
    if (strncmp(path, "/admin/", 7) == 0) {
        char err[256];
        authz_verdict v = authz_admin(wsi, &s->principal, &s->free_principal, path,
                                      s->h->method == 'P' ? "POST" : "GET", err, sizeof(err));
        if (v != AUTHZ_ALLOW) {
            S->m.rejections[v == AUTHZ_UNAUTHORIZED ? MR_UNAUTHORIZED : MR_FORBIDDEN]++;
            s->h->resp_close = 1;
            s->h->refused_early = 1;
            return http_respond_error(s, v == AUTHZ_UNAUTHORIZED ? 401 : 403, authz_code(v), err);
        }
    }
    if (s->h->method == 'G')
        return handle_get(S, s, wsi);

    /* POST: the body follows in HTTP_BODY callbacks. With an explicit
     * "Content-Length: 0" lws itself calls HTTP_BODY and BODY_COMPLETION
     * right after this callback; the answer is made there, once. */
    (void)content_len;
    return 0;
}

static int on_body(srv *S, session *s, const char *in, size_t len)
{
    if (s->h->refused_early)
        return 0;
    if (s->h->body_too_large || s->h->body_len + len > (size_t)S->cfg->max_payload_bytes) {
        s->h->body_too_large = 1; /* keep reading, discard, answer 413 at the end */
        free(s->h->body);
        s->h->body = NULL;
        s->h->body_len = 0;
        return 0;
    }
    char *nb = realloc(s->h->body, s->h->body_len + len + 1);
    if (!nb)
        return -1;
    if (len)
        memcpy(nb + s->h->body_len, in, len);
    s->h->body = nb;
    s->h->body_len += len;
    return 0;
}

/* A plain request/response answer is written in the request's own callback,
 * as lws_return_http_status() does: lws parses a pipelined next request right
 * after this one, so an answer left for WRITEABLE would be overtaken by it.
 * Streams (SSE), waiting polls and all fan-out write from WRITEABLE. */
static int answer_now(srv *S, session *s, struct lws *wsi)
{
    if (!s->h->resp_ready || s->kind == SESS_SSE)
        return 0;
    return write_response(S, s, wsi);
}

/* An answer made in LWS_CALLBACK_HTTP, before the request's body: the
 * connection closes after it, so the unread body is never parsed (nor
 * discarded under keep-alive, which lws 4.1 cannot do safely when the
 * request was pipelined). */
static int answer_before_body(srv *S, session *s, struct lws *wsi)
{
    if (s->h->resp_ready && s->h->has_body)
        s->h->resp_close = 1;
    return answer_now(S, s, wsi);
}

int http_api_callback(struct lws *wsi, enum lws_callback_reasons reason, session *s, void *in,
                      size_t len)
{
    srv *S = server_of(wsi);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (!S || !s)
            return -1;
        if (on_http(S, s, wsi, (const char *)in))
            return -1;
        return answer_before_body(S, s, wsi);
    case LWS_CALLBACK_HTTP_BODY:
        if (!S || !s || !s->h || s->h->method != 'P') /* answered before the body (closing) */
            return 0;
        return on_body(S, s, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!S || !s || !s->h || s->h->method != 'P' || s->h->resp_ready)
            return 0;
        http_conn_body_done(wsi);
        if (handle_post(S, s, wsi))
            return -1;
        return answer_now(S, s, wsi);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s)
            return 0;
        if (s->kind == SESS_SSE)
            return sse_writeable(S, s);
        if (!s->h) /* no request seen on this transaction */
            return 0;
        if (s->kind == SESS_POLL && !s->h->resp_ready && s->poll_wake && poll_respond_now(S, s))
            return -1;
        if (s->h->resp_ready)
            return write_response(S, s, wsi);
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        session_release(s);
        return 0;
    default:
        return 0;
    }
}
