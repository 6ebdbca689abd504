/* server.c — the lws context, the one protocol that serves HTTP, SSE and
 * WebSocket, the per-vhost data, the event loop, the descriptor budget and
 * the SIGTERM drain.
 *
 * The event loop is libev (epoll) driven through lws 4.1's libev event-lib
 * plugin (Debian: libwebsockets-evlib-ev) on a loop we own (a "foreign"
 * loop): lws's default poll(2) loop hands the kernel every descriptor on
 * every wake-up, so at 10,000 connections most of the CPU went to
 * sock_poll/tcp_poll. With epoll a wake-up costs what is ready. libev rather
 * than libuv: a foreign libuv loop in lws 4.1 needs the loop run again to
 * close its handles at teardown; a libev loop is destroyed in one call. */
#include <arpa/inet.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker.h"
#include "clock.h"
#include "fdbudget.h"
#include "handshake.h"
#include "http_conn.h"
#include "linger.h"
#include "log.h"
#include "pmd.h"
#include "rawtarget.h"
#include "recvtap.h"
#include "server.h"
#include "sse_id.h"

static volatile sig_atomic_t g_stop, g_reload;
static struct lws_context *g_ctx;
/* The vhost data, once lws has run PROTOCOL_INIT (which it defers until the
 * event loop first runs). */
static srv *g_srv;
/* Pending request heads and their deadline (--handshake-timeout-ms). */
static handshake_table *g_hs;
/* The descriptor budget, and per descriptor number whether the connection
 * on it was admitted over the budget (to be refused once its request head
 * is in). Set at accept, so a reused descriptor number never inherits. */
static fdbudget g_fdb;
static unsigned char *g_fd_refused;
static size_t g_fd_refused_len;

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

int server_fd_refused(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    return fd >= 0 && (size_t)fd < g_fd_refused_len && g_fd_refused[fd];
}

static void fdb_publish(void)
{
    if (!g_srv)
        return;
    g_srv->m.fds_in_use = fdbudget_in_use(&g_fdb);
    g_srv->m.fds_limit = g_fdb.limit;
    g_srv->m.fds_reserve = g_fdb.reserve;
    g_srv->m.fd_refused = g_fdb.refused;
    g_srv->m.fd_dropped = g_fdb.dropped;
}

/* Counts a refusal and logs one line a second at most. */
static void fdb_refusal(fdbudget_verdict v)
{
    uint64_t n;
    if (fdbudget_note_refusal(&g_fdb, v, clock_mono_us(), &n))
        log_warn("descriptor budget: refused %llu connection(s) (in use %llu, limit %llu, reserve %llu; "
                 "%llu answered 503/1013 and %llu closed unanswered so far)",
                 (unsigned long long)n, (unsigned long long)fdbudget_in_use(&g_fdb),
                 (unsigned long long)g_fdb.limit, (unsigned long long)g_fdb.reserve,
                 (unsigned long long)g_fdb.refused, (unsigned long long)g_fdb.dropped);
    fdb_publish();
}

/* A new TCP connection, accepted but not yet adopted by lws: the budget's
 * verdict. Returns nonzero to have lws close it at once. */
static int fdb_on_accept(int fd)
{
    fdbudget_verdict v = fdbudget_check(&g_fdb);
    if (v == FDB_DROP || fd < 0 || (size_t)fd >= g_fd_refused_len) {
        fdb_refusal(FDB_DROP);
        return 1;
    }
    g_fd_refused[fd] = v == FDB_REFUSE;
    return 0;
}

/* Answers a request on a connection admitted over the budget: 503 with
 * Retry-After, then close. Returns what the lws callback returns. */
static int fdb_refuse_http(struct lws *wsi)
{
    static const char body[] =
        "{\"type\":\"error\",\"code\":\"overloaded\",\"msg\":\"descriptor limit reached, try again later\"}";
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    char ra[16];
    int n = snprintf(ra, sizeof(ra), "%u", FDBUDGET_RETRY_AFTER_S);
    fdb_refusal(FDB_REFUSE);
    if (lws_add_http_header_status(wsi, 503, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:", (const unsigned char *)ra,
                                    n, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)"application/json", 16, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p,
                                     end) ||
        lws_add_http_header_content_length(wsi, sizeof(body) - 1, &p, end) ||
        lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < sizeof(body))
        return -1;
    memcpy(p, body, sizeof(body) - 1);
    p += sizeof(body) - 1;
    lws_write(wsi, start, (size_t)lws_ptr_diff(p, start), LWS_WRITE_HTTP_FINAL);
    return -1;
}

/* Every upgrade request (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE): the path rule
 * (rawtarget.h) holds for WebSocket handshakes too, and only WebSocket is an
 * upgrade this server makes: lws 4.1 would take "h2c" and then serve HTTP/2
 * streams, which none of the request checks of http_api.c see. Returns 0 to
 * go on, -1 to close after the 400. */
static int confirm_upgrade(struct lws *wsi, const char *up)
{
    const char *bad = rawtarget_head(lws_get_socket_fd(wsi));
    if (!bad && up && strcasecmp(up, "websocket"))
        bad = "only WebSocket upgrades are served";
    if (!bad)
        return 0;
    char m[160];
    snprintf(m, sizeof(m), "refused: %s", bad);
    lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, m);
    return -1;
}

/* Paths still served over the budget: an operator must see why. */
static int fdb_exempt(struct lws *wsi)
{
    char path[32];
    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0)
        return 0;
    return !strcmp(path, "/healthz") || !strcmp(path, "/metrics");
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
    broker_session_gone(s);
    if (S && (s->kind == SESS_WS || s->kind == SESS_SSE)) {
        S->m.conns_open[s->kind == SESS_WS ? MT_WS : MT_SSE]--;
        conn_release(s);
    }
    if (S && s->kind == SESS_POLL)
        S->m.conns_open[MT_POLL]--;
    if (S)
        twheel_cancel(&S->wheel, &s->tmr);
    lws_dll2_remove(&s->node);
    batch_release(s);
    wflush_forget(s);
    pmd_free(s);
    free(s->rx);
    if (s->h) {
        lws_dll2_remove(&s->h->poll_node);
        lws_dll2_remove(&s->h->watch_node);
        free(s->h->body);
        free(s->h->resp);
        free(s->h);
    }
    if (s->principal && s->free_principal)
        s->free_principal(s->principal);
    memset(s, 0, sizeof(*s));
}

/* A session's wheel timer came due. */
static void on_session_timer(twheel_timer *t, void *ud)
{
    srv *S = ud;
    session *s = lws_container_of(t, session, tmr);
    if (s->kind == SESS_WS)
        ws_timer(S, s);
    else if (s->kind == SESS_SSE && s->wsi && sse_timer(S, s) < 0)
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    else if (s->kind == SESS_POLL && s->wsi)
        poll_timer(S, s);
}

/* A WebSocket connection's token-expiry timer came due. The timer lives in
 * the principal, which the session owns (and frees, disarming it). */
static void on_expiry_timer(twheel_timer *t, void *ud)
{
    struct lws *wsi = authz_expiry_wsi(t);
    session *s = wsi ? lws_wsi_user(wsi) : NULL;
    if (s && s->kind == SESS_WS)
        ws_expiry(ud, s);
}

/* The wheel: TICK_MS slots, one turn = 4096 ticks (about 3.4 minutes; longer
 * timers wait their turn). Heartbeats (>= 50 ms) and pings (>= 1 s) are
 * late by at most one tick. */
#define TICK_MS 50
#define WHEEL_SLOTS 4096

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
    /* later keep-alive requests and request bodies: the same deadline */
    if (http_conn_init(S->ctx, (uint64_t)S->cfg->handshake_timeout_ms * 1000, 1u << 20))
        return -1;
    http_api_start(S);
    if (conn_srv_init(S)) {
        log_error("cannot start: out of memory for the send queues' table");
        return -1;
    }
    S->gen = malloc(LWS_PRE + S->gen_cap);
    S->out = malloc(LWS_PRE + S->out_cap);
    S->bat = malloc(S->out_cap);
    if (!S->gen || !S->out || !S->bat)
        return -1;
    char err[256];
    if (twheel_init(&S->wheel, WHEEL_SLOTS, TICK_MS * 1000, clock_mono_us(), on_session_timer, S, err,
                    sizeof(err)) ||
        twheel_init(&S->exp_wheel, WHEEL_SLOTS, TICK_MS * 1000, clock_mono_us(), on_expiry_timer, S, err,
                    sizeof(err))) {
        log_error("%s", err);
        return -1;
    }
    if (S->cfg->ws_write_direct)
        S->write_direct = ws_write_direct;
    if (wflush_init(S, (unsigned)S->cfg->send_threads) < 0)
        return -1;
    g_srv = S;
    fdb_publish();
    return 0;
}

static void vhost_destroy(struct lws *wsi)
{
    srv *S = server_of(wsi);
    if (!S)
        return;
    batch_stop(S);
    wflush_free(S);
    channels_free_all(S);
    twheel_free(&S->wheel);
    twheel_free(&S->exp_wheel);
    conn_srv_free(S);
    http_conn_shutdown();
    free(S->gen);
    free(S->out);
    free(S->bat);
    S->gen = S->out = S->bat = NULL;
}

static int callback_rtc(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    session *s = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        /* wsi is the listener here; in is the accepted descriptor */
        if (fdb_on_accept((int)(lws_intptr_t)in))
            return 1;
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        fdbudget_accepted(&g_fdb);
        fdb_publish();
        if (g_hs) {
            void *tok = handshake_begin(g_hs, wsi, clock_mono_us());
            if (tok)
                lws_set_opaque_user_data(wsi, tok);
        }
        http_conn_open(wsi);
        rawtarget_open(lws_get_socket_fd(wsi), wsi);
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(wsi, (const char *)in);
    case LWS_CALLBACK_WSI_DESTROY:
        /* (only accepted connections come and go while serving: the
         * listener and lws's wake-up pipe are destroyed at exit) */
        fdbudget_closed(&g_fdb);
        fdb_publish();
        hs_settle(wsi, 0);
        http_conn_gone(wsi);
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
        hs_settle(wsi, 1);
        if (http_api_filter(wsi))
            return -1;
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_PROTOCOL_INIT:
        return vhost_init(wsi);
    case LWS_CALLBACK_PROTOCOL_DESTROY:
        vhost_destroy(wsi);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        hs_settle(wsi, 1);
        if (server_fd_refused(wsi)) /* upgraded, then closed 1013 at ESTABLISHED (ws.c) */
            fdb_refusal(FDB_REFUSE);
        return ws_callback(wsi, reason, s, in, len);
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_RECEIVE_PONG:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
        return ws_callback(wsi, reason, s, in, len);
    case LWS_CALLBACK_HTTP:
        hs_settle(wsi, 1);
        if (server_fd_refused(wsi) && !fdb_exempt(wsi))
            return fdb_refuse_http(wsi);
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
    /* rx_buffer_size is allocated for every WebSocket connection, and lws
     * 4.1 also reads a WebSocket at most that many bytes per wake-up
     * (ops-ws.c: "restrict the amount of rx to the size the protocol
     * reported"), so it trades memory per idle connection against inbound
     * throughput. Measured with bench/server_fanout.sh's client (1,000
     * subscribers, a WebSocket publisher, 5,000 idle connections): 128 B ->
     * ~210k deliveries/s, 1,790 B/conn; 256 -> ~395k, 1,902 B; 512 ->
     * ~615k, 2,164 B. 256 keeps both issue 13's <= 2 KB per idle connection
     * and >= 2x Node's fan-out; larger messages arrive in fragments and ws.c
     * reassembles them up to max-payload-bytes. tx_packet_size caps each
     * send(2) lws makes; it is large so a batch of frames (or SSE messages)
     * goes out whole. */
    {"rtchaos", callback_rtc, sizeof(session), 256, 0, NULL, 1 << 18},
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

/* One periodic lws timer for the whole server (never one per connection):
 * advances the session timer wheel every TICK_MS, and every CONN_SWEEP_MS
 * runs the hang-up sweep and the handshake deadline. It is an lws timer, not
 * a libev one, so that what it schedules on lws (an async close) is
 * serviced in the same pass. */
static lws_sorted_usec_list_t sweep_tick;

/* A loop pass starts when libev's wait returns (check watcher) and ends
 * before it waits again (prepare watcher): rtchaos_loop_busy_seconds_total
 * and rtchaos_loop_pass_seconds (metrics.c). */
static uint64_t g_woke_us;
static void on_loop_check(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    g_woke_us = clock_mono_us();
}

/* The end of every loop pass, before libev waits again: the direct writes
 * of the WebSocket connections that got live events in it (wflush.c). */
static void on_loop_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    if (!g_srv)
        return;
    uint64_t flush_us = clock_mono_us();
    wflush_run(g_srv);
    if (g_woke_us) {
        uint64_t end = clock_mono_us();
        metrics_pass(&g_srv->m, flush_us - g_woke_us, end - flush_us);
        g_woke_us = 0;
    }
}
static unsigned g_ticks;
static void on_sweep_tick(lws_sorted_usec_list_t *sul)
{
    if (g_srv) {
        uint64_t now = clock_mono_us();
        twheel_advance(&g_srv->wheel, now);
        twheel_advance(&g_srv->exp_wheel, now);
    }
    if (++g_ticks % (CONN_SWEEP_MS / TICK_MS) != 0) {
        if (g_ctx)
            lws_sul_schedule(g_ctx, 0, sul, on_sweep_tick, TICK_MS * LWS_US_PER_MS);
        return;
    }
    if (g_srv)
        conn_sweep_hangups(g_srv);
    if (g_hs) {
        size_t n = handshake_expire(g_hs, clock_mono_us(), hs_cut, NULL);
        if (n)
            log_debug("cut %zu connection(s) that sent no complete request head in time", n);
    }
    if (g_ctx)
        lws_sul_schedule(g_ctx, 0, sul, on_sweep_tick, TICK_MS * LWS_US_PER_MS);
}

/* SIGHUP: reload the security files, on the event loop. */
static void reload_on_signal(srv *S)
{
    server_reload_result r;
    char err[512];
    server_reload_log("SIGHUP", server_reload(S, "SIGHUP", &r, err, sizeof(err)), &r, err);
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

#define DRAIN_FLUSH_MS 200

/* The tables sized by the descriptor limit, freed on every way out. */
static void tables_free(void)
{
    handshake_free(g_hs);
    g_hs = NULL;
    free(g_fd_refused);
    g_fd_refused = NULL;
    g_fd_refused_len = 0;
    rawtarget_shutdown();
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
    /* permessage-deflate: lws negotiates it (and inflates what clients
     * send); pmd.c compresses the server's frames (see pmd.h) */
    static const struct lws_extension exts[] = {
        {"permessage-deflate", lws_extension_callback_pm_deflate, "permessage-deflate"},
        {NULL, NULL, NULL}};
    if (cfg->ws_deflate)
        info.extensions = exts;
    info.user = (void *)cfg;
    info.max_http_header_data = 8192;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    /* lws 4.1 built with IPv6 binds an IPv4 literal such as 127.0.0.1 to the
     * IPv6 wildcard (every interface); an IPv4 address gets an IPv4 socket. */
    struct in_addr v4;
    if (inet_pton(AF_INET, cfg->host, &v4) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    /* lws's own ping/hang-up ("validity") stays off: lws 4.1 re-inserts a
     * per-connection timer into its sorted list on every pong, an O(n)
     * insert. WebSocket pings and the idle close are ours (ws_timer, on the
     * timer wheel); a zeroed policy disables lws's. */
    info.retry_and_idle_policy = &retry;
    /* The handshake deadline is ours (swept with the hang-ups, counted on
     * /metrics); lws's own header-wait timeout stays a few seconds behind
     * it as a backstop. */
    info.timeout_secs_ah_idle = (unsigned)((cfg->handshake_timeout_ms + 999) / 1000 + 5);
    /* the same for later keep-alive requests (http_conn.c has the deadline) */
    info.keepalive_timeout = (int)info.timeout_secs_ah_idle;
    /* The descriptor budget: the soft limit goes up to the hard one before
     * lws sizes its tables from it. */
    uint64_t nofile = 1024;
    char err[256];
    if (fdbudget_raise_nofile(&nofile, err, sizeof(err)))
        log_warn("descriptor limit stays at %llu: %s", (unsigned long long)nofile, err);
    g_fd_refused_len = (size_t)nofile;
    g_fd_refused = calloc(g_fd_refused_len, 1);
    if (!g_fd_refused) {
        log_error("cannot start: out of memory for the descriptor table");
        return 3;
    }
    size_t hs_cap = (size_t)nofile;
    g_hs = handshake_new(hs_cap, (uint64_t)cfg->handshake_timeout_ms * 1000);
    if (!g_hs || rawtarget_init((size_t)nofile)) {
        log_error("cannot start: out of memory for the handshake table");
        tables_free();
        return 3;
    }
    if (!recvtap_active()) {
        /* without it the path rule (rawtarget.h) would pass every request */
        log_error("cannot start: the server's recv() is not the one libwebsockets calls (was it "
                  "linked without the executable exporting recv?)");
        tables_free();
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

    /* EVFLAG_NOSIGMASK: our own sigaction handlers stay in charge of the
     * signals (they wake the loop through lws_cancel_service). */
    struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (!loop)
        loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    void *foreign_loops[1] = {loop};
    info.options |= LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign_loops;
    struct lws_context *ctx = loop ? lws_create_context(&info) : NULL;
    if (!ctx) {
        log_error("cannot start: lws_create_context failed (is %s:%lld free? is the libev event "
                  "library plugin, libwebsockets-evlib-ev, installed?)",
                  cfg->host, (long long)cfg->port);
        if (loop)
            ev_loop_destroy(loop);
        tables_free();
        return 3;
    }
    g_ctx = ctx;
    linger_init(loop);
    ev_prepare flush_prep;
    ev_prepare_init(&flush_prep, on_loop_prepare);
    ev_prepare_start(loop, &flush_prep);
    ev_check pass_check;
    ev_check_init(&pass_check, on_loop_check);
    ev_check_start(loop, &pass_check);
    struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "rtchaos");
    /* The periodic tick starts now; it also makes every ev_run(EVRUN_ONCE)
     * below return within TICK_MS, so the loop sees the signal flags. lws 4.1
     * only re-arms its libev timer from inside its own callbacks: the wake-up
     * pipe (lws_cancel_service) gets it to look at a timer scheduled here. */
    lws_sul_schedule(ctx, 0, &sweep_tick, on_sweep_tick, TICK_MS * LWS_US_PER_MS);
    lws_cancel_service(ctx);
    uint64_t init_deadline = clock_mono_us() + 5000000;
    while (!g_srv && !g_stop && clock_mono_us() < init_deadline)
        ev_run(loop, EVRUN_ONCE);
    srv *S = g_srv;
    if (!S || !vh) {
        log_error("cannot start: the server state was not initialized");
        lws_sul_cancel(&sweep_tick);
        ev_prepare_stop(loop, &flush_prep);
        ev_check_stop(loop, &pass_check);
        lws_context_destroy(ctx);
        ev_loop_destroy(loop);
        tables_free();
        return 3;
    }
    if (cfg->redis_url[0]) {
        char berr[256];
        if (broker_start(S, loop, cfg->redis_url, berr, sizeof(berr))) {
            log_error("cannot start: %s", berr);
            lws_sul_cancel(&sweep_tick);
            g_ctx = NULL;
            ev_prepare_stop(loop, &flush_prep);
            ev_check_stop(loop, &pass_check);
            lws_context_destroy(ctx);
            ev_loop_destroy(loop);
            tables_free();
            g_srv = NULL;
            return 2;
        }
    }
    long base = fdbudget_count_open();
    fdbudget_init(&g_fdb, nofile, cfg->fd_reserve, base > 0 ? (uint64_t)base : 16);
    fdb_publish();
    int port = lws_get_vhost_listen_port(vh);
    printf("listening %s:%d\n", cfg->host, port);
    fflush(stdout);
    log_info("listening addr=%s:%d history_max=%lld history_max_age_ms=%lld policy=%s "
             "loop=libev/%s fds_limit=%llu fds_reserve=%llu fds_in_use=%llu",
             cfg->host, port, (long long)cfg->history_max, (long long)cfg->history_max_age_ms,
             sendq_policy_name(cfg->default_policy),
             ev_backend(loop) == EVBACKEND_EPOLL ? "epoll" : "other", (unsigned long long)g_fdb.limit,
             (unsigned long long)g_fdb.reserve, (unsigned long long)fdbudget_in_use(&g_fdb));

    uint64_t deadline = 0;
    for (;;) {
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
        if (S->draining && (!S->sessions.count || clock_mono_us() >= deadline))
            break;
        ev_run(loop, EVRUN_ONCE);
    }
    /* lws lets go of a WebSocket session (WS_SERVER_DROP_PROTOCOL) before it
     * writes the close frame, at the next POLLOUT: give those writes (and
     * the last SSE/poll flushes) a moment, until every connection is gone
     * or DRAIN_FLUSH_MS has passed. */
    uint64_t flush_end = clock_mono_us() + DRAIN_FLUSH_MS * 1000;
    while (S->draining && g_fdb.conns && clock_mono_us() < flush_end && clock_mono_us() < deadline)
        ev_run(loop, EVRUN_ONCE);
    if (S->sessions.count)
        log_warn("drain deadline passed with %u connection(s) open", S->sessions.count);
    lws_sul_cancel(&sweep_tick);
    linger_shutdown();
    broker_stop(S);
    g_ctx = NULL;
    /* (no direct writes while lws tears the connections down) */
    ev_prepare_stop(loop, &flush_prep);
    ev_check_stop(loop, &pass_check);
    lws_context_destroy(ctx);
    ev_loop_destroy(loop);
    tables_free();
    g_srv = NULL;
    log_info("stopped");
    return 0;
}
