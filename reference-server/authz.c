/* authz.c — the authorization hook: reads credentials and the peer address
 * from libwebsockets and asks the security gate (sec/sec_gate.h). */
#include "authz.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "envelope.h"
#include "log.h"
#include "sec_gate.h"

/* One gate for the process: the server is one event loop. NULL = open. */
static sec_gate *g_gate;
static uint32_t g_retry_ms = 1000;

static int parse_rate(const char *flag, const char *text, sec_rate *out, char *err, size_t errlen)
{
    char e[160];
    if (!text[0]) {
        *out = (sec_rate){ 0, 0 };
        return 0;
    }
    if (sec_rate_parse(text, out, e, sizeof e) < 0) {
        snprintf(err, errlen, "--%s: %s", flag, e);
        return -1;
    }
    return 0;
}

int authz_init(const server_cfg *cfg, char *err, size_t errlen)
{
    sec_gate_cfg g = { 0 };
    g.jwt_secret_file = cfg->jwt_secret_file[0] ? cfg->jwt_secret_file : NULL;
    g.jwt_public_key = cfg->jwt_public_key[0] ? cfg->jwt_public_key : NULL;
    g.jwt_issuer = cfg->jwt_issuer[0] ? cfg->jwt_issuer : NULL;
    g.jwt_audience = cfg->jwt_audience[0] ? cfg->jwt_audience : NULL;
    g.jwt_leeway_s = cfg->jwt_leeway_s;
    g.policy_file = cfg->authz_policy[0] ? cfg->authz_policy : NULL;
    g.revoked_file = cfg->jwt_revoked[0] ? cfg->jwt_revoked : NULL;
    g.audit_file = cfg->audit_log[0] ? cfg->audit_log : NULL;
    g.audit_budget = (sec_rate){ (uint32_t)cfg->audit_max_per_s, (uint32_t)cfg->audit_max_per_s };
    if (parse_rate("rate-conn-per-addr", cfg->rate_conn_per_addr, &g.conn_per_addr, err, errlen) ||
        parse_rate("rate-msg-per-conn", cfg->rate_msg_per_conn, &g.msg_per_conn, err, errlen) ||
        parse_rate("rate-pub-per-account", cfg->rate_pub_per_account, &g.pub_per_account, err,
                   errlen) ||
        parse_rate("storm-new-conns", cfg->storm_new_conns, &g.storm.new_conns, err, errlen))
        return -1;
    g.storm.retry_min_ms = 1000;
    g.storm.retry_spread_ms = 4000;
    if (!g.jwt_secret_file && !g.jwt_public_key && !g.policy_file && !g.audit_file && !g.revoked_file &&
        !g.conn_per_addr.rate_per_s && !g.msg_per_conn.rate_per_s && !g.pub_per_account.rate_per_s &&
        !g.storm.new_conns.rate_per_s)
        return 0; /* nothing configured: every check allows, at no cost */
    sec_gate *gate = sec_gate_new(&g, (uint64_t)clock_wall_us(), err, errlen);
    if (!gate)
        return -1;
    sec_gate_free(g_gate);
    g_gate = gate;
    log_info("security auth=%s policy=%s revoked=%s audit=%s",
             sec_gate_auth_enabled(gate) ? "jwt" : "off", g.policy_file ? g.policy_file : "off",
             g.revoked_file ? g.revoked_file : "off", g.audit_file ? g.audit_file : "off");
    return 0;
}

void authz_shutdown(void)
{
    sec_gate_free(g_gate);
    g_gate = NULL;
}

const char *authz_code(authz_verdict v)
{
    switch (v) {
    case AUTHZ_ALLOW: return "ok";
    case AUTHZ_UNAUTHORIZED: return "unauthorized";
    case AUTHZ_FORBIDDEN: return "forbidden";
    case AUTHZ_RATE_LIMITED: return "rate_limited";
    }
    return "forbidden";
}

static authz_verdict verdict_of(sec_verdict v)
{
    switch (v) {
    case SEC_ALLOW: return AUTHZ_ALLOW;
    case SEC_UNAUTHORIZED: return AUTHZ_UNAUTHORIZED;
    case SEC_RATE_LIMITED:
    case SEC_OVERLOADED: return AUTHZ_RATE_LIMITED;
    case SEC_FORBIDDEN: break;
    }
    return AUTHZ_FORBIDDEN;
}

static int64_t now_s(void)
{
    return clock_wall_us() / 1000000;
}

/* A principal: the gate's per-connection state, and the token-expiry timer
 * of a WebSocket connection (authz_arm_expiry). sec_conn is first: the
 * principal pointer handed out is the authz_conn's address. */
typedef struct authz_conn {
    sec_conn c;
    twheel_timer expiry;
    twheel *wheel;       /* where expiry is (or was) armed; NULL never armed */
    struct lws *wsi;
} authz_conn;

static void conn_free(void *p)
{
    authz_conn *ac = p;
    if (ac->wheel)
        twheel_cancel(ac->wheel, &ac->expiry);
    if (g_gate)
        sec_gate_disconnect(g_gate, &ac->c);
    free(ac);
}

static sec_transport transport_of(authz_transport t)
{
    switch (t) {
    case AUTHZ_T_WS: return SEC_T_WS;
    case AUTHZ_T_SSE: return SEC_T_SSE;
    case AUTHZ_T_POLL: return SEC_T_POLL;
    case AUTHZ_T_HTTP: break;
    }
    return SEC_T_HTTP;
}

/* The credential the request carries: "Authorization: Bearer …", else the
 * token= query argument (browsers' EventSource and WebSocket cannot set
 * headers). Copies it into buf; returns its length, 0 when there is none. */
static size_t request_token(struct lws *wsi, char *buf, size_t cap)
{
    char hdr[SEC_JWT_TOKEN_MAX + 64];
    int n = lws_hdr_copy(wsi, hdr, (int)sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
    const char *tok;
    size_t tok_len;
    if (n > 0) {
        if (sec_jwt_bearer(hdr, (size_t)n, &tok, &tok_len) < 0 || tok_len >= cap) {
            /* a credential that is not a usable bearer token is still a
             * credential: let it fail verification rather than pass as none */
            snprintf(buf, cap, "invalid");
            return strlen(buf);
        }
        memcpy(buf, tok, tok_len);
        buf[tok_len] = 0;
        return tok_len;
    }
    const char *v = lws_get_urlarg_by_name(wsi, "token=", hdr, (int)sizeof hdr);
    if (!v)
        return 0;
    size_t len = strlen(v);
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, v, len);
    buf[len] = 0;
    return len ? len : 0;
}

/* What this file remembers about a TCP connection across its keep-alive
 * requests (lws re-allocates the session per HTTP transaction, but the wsi
 * and its opaque user data live as long as the connection): the pointer is
 * &g_marks[bits]. */
#define MARK_ADMITTED 1u /* let in by the storm guard */
#define MARK_COUNTED  2u /* counted against the per-address connection attempts */
static char g_marks[4];

static unsigned marks_of(struct lws *wsi)
{
    const char *p = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    return p >= g_marks && p < g_marks + sizeof g_marks ? (unsigned)(p - g_marks) : 0;
}

static void mark(struct lws *wsi, unsigned bit)
{
    if (wsi)
        lws_set_opaque_user_data(wsi, &g_marks[(marks_of(wsi) | bit) & 3u]);
}

/* Authenticates the connection behind wsi into a new slot. Only the first
 * request of a connection is a connection attempt (conn_per_addr); later
 * keep-alive requests on it are authenticated without being counted. */
static authz_verdict authenticate(struct lws *wsi, authz_transport t, void **principal,
                                  void (**free_principal)(void *), char *err, size_t errlen)
{
    authz_conn *ac = calloc(1, sizeof *ac);
    sec_conn *c = ac ? &ac->c : NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return AUTHZ_FORBIDDEN;
    }
    char remote[SEC_REMOTE_MAX] = "";
    if (wsi)
        lws_get_peer_simple(wsi, remote, sizeof remote);
    static char token[SEC_JWT_TOKEN_MAX + 1];
    size_t tlen = wsi ? request_token(wsi, token, sizeof token) : 0;
    uint32_t retry_ms = 0;
    sec_verdict v;
    if (marks_of(wsi) & MARK_COUNTED) {
        v = sec_gate_request(g_gate, c, transport_of(t), remote, tlen ? token : NULL, tlen, now_s(),
                             clock_mono_us(), err, errlen);
    } else {
        v = sec_gate_connect(g_gate, c, transport_of(t), remote, tlen ? token : NULL, tlen, now_s(),
                             clock_mono_us(), &retry_ms, err, errlen);
        if (v != SEC_RATE_LIMITED) /* a refused attempt is counted again next time */
            mark(wsi, MARK_COUNTED);
    }
    memset(token, 0, tlen);
    /* kept even when refused, so that the session frees it */
    *principal = c;
    *free_principal = conn_free;
    if (v == SEC_RATE_LIMITED)
        g_retry_ms = retry_ms;
    return verdict_of(v);
}

authz_verdict authz_check(const authz_request *req, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!g_gate)
        return AUTHZ_ALLOW;
    if (!*req->principal) {
        authz_verdict v = authenticate(req->wsi, req->transport, req->principal,
                                       req->free_principal, err, errlen);
        if (v != AUTHZ_ALLOW)
            return v;
    }
    sec_conn *c = *req->principal;
    uint32_t retry_ms = 0;
    sec_verdict v = SEC_ALLOW;
    switch (req->action) {
    case AUTHZ_CONNECT:
        break;
    case AUTHZ_SUBSCRIBE:
        v = sec_gate_subscribe(g_gate, c, req->channel ? req->channel : "", now_s(), clock_mono_us(),
                               err, errlen);
        break;
    case AUTHZ_PUBLISH:
        v = sec_gate_publish(g_gate, c, req->channel ? req->channel : "", now_s(), clock_mono_us(),
                             &retry_ms, err, errlen);
        break;
    }
    if (v == SEC_RATE_LIMITED)
        g_retry_ms = retry_ms;
    return verdict_of(v);
}

int authz_admit(struct lws *wsi)
{
    if (!g_gate || (marks_of(wsi) & MARK_ADMITTED))
        return 1;
    uint32_t retry_ms = 0;
    if (sec_gate_admit(g_gate, clock_mono_us(), &retry_ms) != SEC_ALLOW) {
        g_retry_ms = retry_ms;
        return 0;
    }
    /* admitted connections are settled at once: lws bounds the handshake
     * itself (timeouts, header pool), so only the arrival rate is shed here */
    sec_gate_settled(g_gate);
    mark(wsi, MARK_ADMITTED);
    return 1;
}

uint32_t authz_retry_after_s(void)
{
    uint32_t s = (g_retry_ms + 999) / 1000;
    return s ? s : 1;
}

authz_verdict authz_ws_message(void *principal, char *err, size_t errlen)
{
    if (!g_gate || !principal)
        return AUTHZ_ALLOW;
    uint32_t retry_ms = 0;
    sec_verdict v = sec_gate_message(g_gate, principal, clock_mono_us(), &retry_ms, err, errlen);
    if (v == SEC_RATE_LIMITED)
        g_retry_ms = retry_ms;
    return verdict_of(v);
}

authz_verdict authz_refresh(void **principal, void (**free_principal)(void *), struct lws *wsi,
                            const char *token, size_t token_len, char *reply, size_t reply_cap,
                            char *err, size_t errlen)
{
    if (!g_gate || !sec_gate_auth_enabled(g_gate)) {
        snprintf(err, errlen, "authentication is not configured on this server");
        return AUTHZ_FORBIDDEN;
    }
    if (!*principal) {
        authz_verdict v = authenticate(wsi, AUTHZ_T_WS, principal, free_principal, err, errlen);
        if (v != AUTHZ_ALLOW)
            return v;
    }
    sec_conn *c = *principal;
    sec_verdict v = sec_gate_refresh(g_gate, c, token, token_len, now_s(), clock_mono_us(), err, errlen);
    if (v != SEC_ALLOW)
        return verdict_of(v);
    char sub[SEC_SUB_MAX * 6 + 3];
    if (envelope_json_str(sub, sizeof sub, c->who.sub, strlen(c->who.sub)) < 0)
        snprintf(sub, sizeof sub, "null");
    snprintf(reply, reply_cap, "{\"type\":\"authed\",\"sub\":%s,\"exp\":%lld}", sub,
             (long long)c->who.exp_s);
    return AUTHZ_ALLOW;
}

int authz_expired(void *principal)
{
    if (!g_gate || !principal)
        return 0;
    return sec_gate_expired(g_gate, principal, now_s(), clock_mono_us());
}

void authz_arm_expiry(twheel *w, struct lws *wsi, void *principal)
{
    authz_conn *ac = principal;
    if (!g_gate || !ac)
        return;
    if (!ac->c.who.authenticated || !ac->c.who.exp_s) {
        if (ac->wheel)
            twheel_cancel(ac->wheel, &ac->expiry);
        return;
    }
    int64_t left_us = ac->c.who.exp_s * 1000000 - clock_wall_us();
    ac->wheel = w;
    ac->wsi = wsi;
    /* a little after the instant, so that the check at the timer sees it
     * (exp is wall-clock seconds; the wheel runs on the monotonic clock) */
    twheel_arm(w, &ac->expiry, clock_mono_us() + (uint64_t)(left_us > 0 ? left_us : 0) + 50000);
}

struct lws *authz_expiry_wsi(twheel_timer *t)
{
    return lws_container_of(t, authz_conn, expiry)->wsi;
}

authz_verdict authz_admin(struct lws *wsi, void **principal, void (**free_principal)(void *),
                          const char *path, const char *detail, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!g_gate)
        return AUTHZ_ALLOW;
    if (!*principal) {
        authz_verdict v = authenticate(wsi, AUTHZ_T_HTTP, principal, free_principal, err, errlen);
        if (v != AUTHZ_ALLOW)
            return v;
    }
    char what[200];
    snprintf(what, sizeof what, "admin %s", path);
    return verdict_of(sec_gate_admin(g_gate, *principal, what, detail, clock_mono_us(), err, errlen));
}

int authz_reload(const char *origin, authz_summary *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!g_gate) {
        snprintf(err, errlen, "no security files are configured (--jwt-*, --authz-policy, --jwt-revoked)");
        return -1;
    }
    if (sec_gate_reload(g_gate, origin, clock_mono_us(), err, errlen) < 0)
        return -1;
    sec_gate_summary sum;
    sec_gate_describe(g_gate, &sum);
    *out = (authz_summary){ .keys = sum.keys, .rules = sum.rules, .revoked_jti = sum.revoked_jti,
                            .revoked_sub = sum.revoked_sub };
    return 0;
}

authz_verdict authz_revalidate(void *principal, char *err, size_t errlen)
{
    if (!g_gate || !principal)
        return AUTHZ_ALLOW;
    return verdict_of(sec_gate_revalidate(g_gate, principal, clock_mono_us(), err, errlen));
}

authz_verdict authz_reauthorize(void *principal, const char *channel, char *err, size_t errlen)
{
    if (!g_gate || !principal)
        return AUTHZ_ALLOW;
    return verdict_of(
        sec_gate_reauthorize(g_gate, principal, channel, now_s(), clock_mono_us(), err, errlen));
}

/* Resident set size of this process in bytes (0 when /proc is not there):
 * the abuse suite checks that floods and storms leave memory bounded. */
static uint64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages_total = 0, pages_res = 0;
    if (!f)
        return 0;
    int ok = fscanf(f, "%llu %llu", &pages_total, &pages_res) == 2;
    fclose(f);
    return ok ? (uint64_t)pages_res * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

int authz_metrics_append(char **text, size_t *len)
{
    size_t cap = g_gate ? 256 * 1024 : 512;
    char *nb = realloc(*text, *len + cap);
    if (!nb)
        return -1;
    *text = nb;
    int n = snprintf(nb + *len, cap,
                     "# HELP process_resident_memory_bytes Resident memory of the server process.\n"
                     "# TYPE process_resident_memory_bytes gauge\n"
                     "process_resident_memory_bytes %llu\n",
                     (unsigned long long)resident_bytes());
    if (n < 0 || (size_t)n >= cap)
        return -1;
    *len += (size_t)n;
    if (!g_gate)
        return 0;
    n = sec_gate_metrics(g_gate, nb + *len, cap - (size_t)n);
    if (n < 0)
        return -1;
    *len += (size_t)n;
    return 0;
}
