/* server.c — the lws context, the one protocol that serves HTTP, SSE and
 * WebSocket, the per-vhost data, the event loop, and the SIGTERM drain. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "handshake.h"
#include "log.h"
#include "server.h"
#include "sse_id.h"

static volatile sig_atomic_t g_stop, g_reload;
static struct lws_context *g_ctx;
/* The vhost data, once lws has run PROTOCOL_INIT (which it defers until the
 * event loop first runs). */
static srv *g_srv;
/* Pending request heads and their deadline (--handshake-timeout-ms). */
static handshake_table *g_hs;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reload = 1;
    else
        g_stop = 1;
    if (g_ctx)
        lws_cancel_service(g_ctx); /* wakes the poll(2) of the event loop */
}

/* Ends the wait for wsi's request head: it arrived (completed) or the
 * connection went away. The token lives in the wsi's opaque user data until
 * then; afterwards that slot is free for authz.c's admission mark. */
static void hs_settle(struct lws *wsi, int completed)
{
    void *tok = lws_get_opaque_user_data(wsi);
    if (!g_hs || !handshake_owns(g_hs, tok))
        return;
    handshake_end(g_hs, tok, wsi, completed);
    lws_set_opaque_user_data(wsi, NULL);
}

static void hs_cut(void *conn, void *ud)
{
    (void)ud;
    struct lws *wsi = conn;
    lws_set_opaque_user_data(wsi, NULL);
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void server_handshake_stats(handshake_stats *out)
{
    if (g_hs)
        handshake_get_stats(g_hs, out);
    else
        memset(out, 0, sizeof(*out));
}

srv *server_of(struct lws *wsi)
{
    return lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
}

void session_release(session *s)
{
    if (!s)
        return;
    srv *S = s->srv;
    if (S && (s->kind == SESS_WS || s->kind == SESS_SSE)) {
        S->m.conns_open[s->kind == SESS_WS ? MT_WS : MT_SSE]--;
        conn_release(s);
    }
    if (S && s->kind == SESS_POLL) {
        S->m.conns_open[MT_POLL]--;
        lws_dll2_remove(&s->poll_node);
    }
    if (s->wsi && (s->kind == SESS_SSE || s->kind == SESS_POLL))
        lws_set_timer_usecs(s->wsi, LWS_SET_TIMER_USEC_CANCEL);
    lws_dll2_remove(&s->node);
    free(s->rx);
    free(s->body);
    free(s->resp);
    if (s->principal && s->free_principal)
        s->free_principal(s->principal);
    memset(s, 0, sizeof(*s));
}

static int vhost_init(struct lws *wsi)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    const struct lws_protocols *prot = lws_get_protocol(wsi);
    srv *S = lws_protocol_vh_priv_zalloc(vh, prot, sizeof(srv));
    if (!S)
        return -1;
    S->cfg = lws_context_user(lws_get_context(wsi));
    S->ctx = lws_get_context(wsi);
    S->vh = vh;
    flags_init(&S->fl, S->cfg->default_policy);
    if (S->cfg->channels) {
        char err[256];
        if (flags_apply_json(&S->fl, S->cfg->channels, err, sizeof(err))) {
            log_error("config \"channels\": %s", err);
            return -1;
        }
    }
    /* The epoch base is the start time: every restart (which loses the
     * in-memory history) gives every channel a new epoch. */
    uint64_t t = (uint64_t)clock_wall_us();
    char tmp[16];
    int i = (int)sizeof(tmp) - 1;
    tmp[i] = '\0';
    do {
        tmp[--i] = "0123456789abcdefghijklmnopqrstuvwxyz"[t % 36];
        t /= 36;
    } while (t && i > 0);
    snprintf(S->epoch_base, sizeof(S->epoch_base), "%s", tmp + i);
    S->gen_cap = (size_t)S->cfg->max_payload_bytes + 2 * ENV_CH_MAX * 6 + 1024;
    S->out_cap = 4 * (S->gen_cap + SSE_ID_MAX_LEN + 64);
    S->gen = malloc(LWS_PRE + S->gen_cap);
    S->out = malloc(LWS_PRE + S->out_cap);
    if (!S->gen || !S->out)
        return -1;
    g_srv = S;
    return 0;
}

static void vhost_destroy(struct lws *wsi)
{
    srv *S = server_of(wsi);
    if (!S)
        return;
    channels_free_all(S);
    free(S->gen);
    free(S->out);
    S->gen = S->out = NULL;
}

static int callback_rtc(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    session *s = user;
    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        if (g_hs) {
            void *tok = handshake_begin(g_hs, wsi, clock_mono_us());
            if (tok)
                lws_set_opaque_user_data(wsi, tok);
        }
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_WSI_DESTROY:
        hs_settle(wsi, 0);
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
        hs_settle(wsi, 1);
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_PROTOCOL_INIT:
        return vhost_init(wsi);
    case LWS_CALLBACK_PROTOCOL_DESTROY:
        vhost_destroy(wsi);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        hs_settle(wsi, 1);
        return ws_callback(wsi, reason, s, in, len);
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_RECEIVE_PONG:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
        return ws_callback(wsi, reason, s, in, len);
    case LWS_CALLBACK_TIMER:
        if (s && s->kind == SESS_WS) /* WS timers: token expiry (authz.c) */
            return ws_callback(wsi, reason, s, in, len);
        return http_api_callback(wsi, reason, s, in, len);
    case LWS_CALLBACK_HTTP:
        hs_settle(wsi, 1);
        return http_api_callback(wsi, reason, s, in, len);
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    case LWS_CALLBACK_HTTP_WRITEABLE:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        return http_api_callback(wsi, reason, s, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static struct lws_protocols protocols[] = {
    /* rx_buffer_size is allocated for every WebSocket connection, so it is
     * small: larger messages arrive in fragments and ws.c reassembles them
     * up to max-payload-bytes. tx_packet_size caps each send(2) lws makes;
     * it is large so a batch of frames (or SSE messages) goes out whole. */
    {"rtchaos", callback_rtc, sizeof(session), 512, 0, NULL, 1 << 18},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_msg(level & LLL_ERR ? LOG_ERROR : level & LLL_WARN ? LOG_WARN : LOG_INFO, "lws: %.*s",
            (int)n, line);
}

static lws_sorted_usec_list_t sweep_tick;
static void on_sweep_tick(lws_sorted_usec_list_t *sul)
{
    if (g_srv)
        conn_sweep_hangups(g_srv);
    if (g_hs) {
        size_t n = handshake_expire(g_hs, clock_mono_us(), hs_cut, NULL);
        if (n)
            log_debug("cut %zu connection(s) that sent no complete request head in time", n);
    }
    if (g_ctx)
        lws_sul_schedule(g_ctx, 0, sul, on_sweep_tick, CONN_SWEEP_MS * LWS_US_PER_MS);
}

/* SIGHUP: reload the security files, on the event loop. */
static void reload_on_signal(srv *S)
{
    server_reload_result r;
    char err[512];
    server_reload_log("SIGHUP", server_reload(S, "SIGHUP", &r, err, sizeof(err)), &r, err);
}

static lws_sorted_usec_list_t drain_tick;
static void on_drain_tick(lws_sorted_usec_list_t *sul)
{
    /* Nothing to do: firing makes lws_service() return so the loop can check
     * the drain deadline. Re-armed by the loop. */
    (void)sul;
}

static void start_drain(srv *S)
{
    S->draining = 1;
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&S->sessions)) {
        session *s = lws_container_of(d, session, node);
        if (s->kind == SESS_POLL) {
            s->poll_wake = 1;
            lws_callback_on_writable(s->wsi);
        } else {
            conn_close_soon(s, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down", 0);
        }
    } lws_end_foreach_dll(d);
}

int server_run(const server_cfg *cfg)
{
    struct lws_context_creation_info info;
    struct lws_http_mount mount;
    lws_retry_bo_t retry = {0};

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

    memset(&info, 0, sizeof(info));
    info.port = (int)cfg->port;
    info.iface = cfg->host;
    info.vhost_name = "rtchaos";
    info.protocols = protocols;
    info.user = (void *)cfg;
    info.max_http_header_data = 8192;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    /* lws 4.1 built with IPv6 binds an IPv4 literal such as 127.0.0.1 to the
     * IPv6 wildcard (every interface); an IPv4 address gets an IPv4 socket. */
    struct in_addr v4;
    if (inet_pton(AF_INET, cfg->host, &v4) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    retry.secs_since_valid_ping = (uint16_t)cfg->ws_ping_s;
    retry.secs_since_valid_hangup = (uint16_t)(cfg->idle_timeout_s > cfg->ws_ping_s
                                                   ? cfg->idle_timeout_s : cfg->ws_ping_s + 1);
    info.retry_and_idle_policy = &retry;
    /* The handshake deadline is ours (swept with the hang-ups, counted on
     * /metrics); lws's own header-wait timeout stays a few seconds behind
     * it as a backstop. */
    info.timeout_secs_ah_idle = (unsigned)((cfg->handshake_timeout_ms + 999) / 1000 + 5);
    struct rlimit nofile;
    size_t hs_cap = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
                            nofile.rlim_cur < (1u << 20)
                        ? (size_t)nofile.rlim_cur
                        : (1u << 20);
    g_hs = handshake_new(hs_cap, (uint64_t)cfg->handshake_timeout_ms * 1000);
    if (!g_hs) {
        log_error("cannot start: out of memory for the handshake table");
        return 3;
    }
    if (cfg->static_dir[0]) {
        memset(&mount, 0, sizeof(mount));
        mount.mountpoint = "/static";
        mount.mountpoint_len = 7;
        mount.origin = cfg->static_dir;
        mount.def = "index.html";
        mount.origin_protocol = LWSMPRO_FILE;
        info.mounts = &mount;
    }

    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        log_error("cannot start: lws_create_context failed (is %s:%lld free?)", cfg->host,
                  (long long)cfg->port);
        handshake_free(g_hs);
        g_hs = NULL;
        return 3;
    }
    g_ctx = ctx;
    struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "rtchaos");
    uint64_t init_deadline = clock_mono_us() + 5000000;
    while (!g_srv && !g_stop && clock_mono_us() < init_deadline) {
        lws_sul_schedule(ctx, 0, &drain_tick, on_drain_tick, 10 * LWS_US_PER_MS);
        lws_service(ctx, 0);
    }
    srv *S = g_srv;
    if (!S || !vh) {
        log_error("cannot start: the server state was not initialized");
        lws_context_destroy(ctx);
        handshake_free(g_hs);
        g_hs = NULL;
        return 3;
    }
    int port = lws_get_vhost_listen_port(vh);
    printf("listening %s:%d\n", cfg->host, port);
    fflush(stdout);
    log_info("listening addr=%s:%d history_max=%lld history_max_age_ms=%lld policy=%s",
             cfg->host, port, (long long)cfg->history_max, (long long)cfg->history_max_age_ms,
             sendq_policy_name(cfg->default_policy));

    lws_sul_schedule(ctx, 0, &sweep_tick, on_sweep_tick, CONN_SWEEP_MS * LWS_US_PER_MS);
    uint64_t deadline = 0;
    int n = 0;
    while (n >= 0) {
        if (g_reload && !S->draining) {
            g_reload = 0;
            reload_on_signal(S);
        }
        if (g_stop && !S->draining) {
            log_info("SIGTERM: draining %u connection(s) for at most %lld ms",
                     S->sessions.count, (long long)cfg->drain_ms);
            start_drain(S);
            deadline = clock_mono_us() + (uint64_t)cfg->drain_ms * 1000;
        }
        if (S->draining) {
            if (!S->sessions.count || clock_mono_us() >= deadline)
                break;
            lws_sul_schedule(ctx, 0, &drain_tick, on_drain_tick, 50 * LWS_US_PER_MS);
        }
        n = lws_service(ctx, 0);
    }
    if (S->sessions.count)
        log_warn("drain deadline passed with %u connection(s) open", S->sessions.count);
    lws_sul_cancel(&drain_tick);
    lws_sul_cancel(&sweep_tick);
    g_ctx = NULL;
    lws_context_destroy(ctx);
    handshake_free(g_hs);
    g_hs = NULL;
    g_srv = NULL;
    log_info("stopped");
    return 0;
}
