/* sec_gate.c — authentication, authorization, rate limits, storm guard,
 * audit and metrics for the reference server, independent of transports. */
#include "sec_gate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define JWT_RESULTS (SEC_JWT_REVOKED + 1)
#define POLICY_REASONS (SEC_POLICY_ANONYMOUS + 1)
#define RATE_TABLE_SLOTS 16384 /* per table: 2.2 MB; beyond that the idlest keys are reused */

enum { LIM_CONN_ADDR = 0, LIM_MSG_CONN, LIM_PUB_ACCOUNT, LIM_COUNT };
static const char *const LIMIT_NAMES[LIM_COUNT] = { "conn_per_addr", "msg_per_conn",
                                                    "pub_per_account" };

typedef struct tenant_count {
    char name[SEC_TENANT_MAX + 1];
    uint64_t conns;
} tenant_count;

enum { END_REVOKED = 0, END_KEY_REMOVED, END_ANONYMOUS, END_FORBIDDEN, END_COUNT };
static const char *const END_NAMES[END_COUNT] = { "revoked", "key_removed", "anonymous",
                                                  "forbidden" };

/* The files the gate was made from, kept for sec_gate_reload. */
typedef struct gate_files {
    char *jwt_secret_file, *jwt_public_key, *jwt_issuer, *jwt_audience, *policy_file,
        *revoked_file;
} gate_files;

struct sec_gate {
    sec_jwt *jwt;        /* NULL: authentication off */
    sec_policy *policy;  /* NULL: no channel policy */
    sec_revoke *revoked; /* NULL: no revocation list */
    sec_audit *audit;    /* NULL: no audit log */
    gate_files files;
    int anyone;          /* the policy grants something to @anyone */
    int64_t leeway_s;
    sec_rate msg_per_conn;
    sec_ratetab *conn_addr, *pub_account;
    sec_storm storm;
    /* metrics */
    uint64_t auth_rejects[JWT_RESULTS];
    uint64_t denials[2][POLICY_REASONS];
    uint64_t limited[LIM_COUNT];
    uint64_t expired_closes, refresh_ok, refresh_denied, admin_ok, admin_denied, audit_errors;
    uint64_t anonymous_rejects;
    uint64_t reloads_ok, reloads_failed;
    uint64_t reload_ends[END_COUNT]; /* connections closed / subscriptions ended at a reload */
    tenant_count tenants[SEC_GATE_TENANTS_MAX + 1]; /* last: "_other" */
};

const char *sec_verdict_code(sec_verdict v)
{
    switch (v) {
    case SEC_ALLOW: return "ok";
    case SEC_UNAUTHORIZED: return "unauthorized";
    case SEC_FORBIDDEN: return "forbidden";
    case SEC_RATE_LIMITED: return "rate_limited";
    case SEC_OVERLOADED: return "overloaded";
    }
    return "forbidden";
}

static const char *transport_name(sec_transport t)
{
    switch (t) {
    case SEC_T_WS: return "ws";
    case SEC_T_SSE: return "sse";
    case SEC_T_POLL: return "poll";
    case SEC_T_HTTP: return "http";
    }
    return "?";
}

static void files_free(gate_files *f)
{
    free(f->jwt_secret_file);
    free(f->jwt_public_key);
    free(f->jwt_issuer);
    free(f->jwt_audience);
    free(f->policy_file);
    free(f->revoked_file);
    memset(f, 0, sizeof *f);
}

/* *dst = a copy of src (NULL stays NULL). Returns 0, or -1 out of memory. */
static int dup_opt(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

/* Loads the key set, policy and revocation list the files name into *jwt,
 * *policy, *revoked (each NULL when its file is not configured). Returns 0,
 * or -1 with err and nothing allocated. */
static int load_files(const gate_files *f, int64_t leeway_s, sec_jwt **jwt, sec_policy **policy,
                      sec_revoke **revoked, char *err, size_t errlen)
{
    *jwt = NULL;
    *policy = NULL;
    *revoked = NULL;
    if (f->jwt_secret_file || f->jwt_public_key) {
        sec_jwt_opts o = { .issuer = f->jwt_issuer, .audience = f->jwt_audience,
                           .leeway_s = leeway_s };
        if (!(*jwt = sec_jwt_new(&o, err, errlen)))
            goto fail;
        if (f->jwt_secret_file && sec_jwt_add_secret_file(*jwt, f->jwt_secret_file, err, errlen) < 0)
            goto fail;
        if (f->jwt_public_key &&
            sec_jwt_add_public_key_file(*jwt, f->jwt_public_key, NULL, err, errlen) < 0)
            goto fail;
    }
    if (f->policy_file && !(*policy = sec_policy_load_file(f->policy_file, err, errlen)))
        goto fail;
    if (f->revoked_file && !(*revoked = sec_revoke_load_file(f->revoked_file, err, errlen)))
        goto fail;
    return 0;
fail:
    sec_jwt_free(*jwt);
    sec_policy_free(*policy);
    sec_revoke_free(*revoked);
    *jwt = NULL;
    *policy = NULL;
    *revoked = NULL;
    return -1;
}

sec_gate *sec_gate_new(const sec_gate_cfg *cfg, uint64_t seed, char *err, size_t errlen)
{
    sec_gate *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    strcpy(g->tenants[SEC_GATE_TENANTS_MAX].name, "_other");
    g->leeway_s = cfg->jwt_leeway_s > 0 ? cfg->jwt_leeway_s : 0;
    gate_files *f = &g->files;
    if (dup_opt(&f->jwt_secret_file, cfg->jwt_secret_file) ||
        dup_opt(&f->jwt_public_key, cfg->jwt_public_key) ||
        dup_opt(&f->jwt_issuer, cfg->jwt_issuer) || dup_opt(&f->jwt_audience, cfg->jwt_audience) ||
        dup_opt(&f->policy_file, cfg->policy_file) || dup_opt(&f->revoked_file, cfg->revoked_file)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (f->revoked_file && !f->jwt_secret_file && !f->jwt_public_key) {
        snprintf(err, errlen, "a revocation list needs token authentication (a JWT key)");
        goto fail;
    }
    if (load_files(f, g->leeway_s, &g->jwt, &g->policy, &g->revoked, err, errlen) < 0)
        goto fail;
    g->anyone = g->policy ? sec_policy_anyone(g->policy) : 0;
    if (cfg->audit_file && !(g->audit = sec_audit_open(cfg->audit_file, cfg->audit_budget, err, errlen)))
        goto fail;
    g->msg_per_conn = cfg->msg_per_conn;
    /* tables only for the limits that are set: 2 MB each */
    if (cfg->conn_per_addr.rate_per_s &&
        !(g->conn_addr = sec_ratetab_new(RATE_TABLE_SLOTS, cfg->conn_per_addr, seed, err, errlen)))
        goto fail;
    if (cfg->pub_per_account.rate_per_s &&
        !(g->pub_account = sec_ratetab_new(RATE_TABLE_SLOTS, cfg->pub_per_account, seed ^ 0x9e37,
                                           err, errlen)))
        goto fail;
    sec_storm_init(&g->storm, &cfg->storm, seed);
    return g;
fail:
    sec_gate_free(g);
    return NULL;
}

void sec_gate_free(sec_gate *g)
{
    if (!g)
        return;
    sec_jwt_free(g->jwt);
    sec_policy_free(g->policy);
    sec_revoke_free(g->revoked);
    files_free(&g->files);
    sec_audit_close(g->audit);
    sec_ratetab_free(g->conn_addr);
    sec_ratetab_free(g->pub_account);
    free(g);
}

int sec_gate_auth_enabled(const sec_gate *g)
{
    return g && g->jwt != NULL;
}

int sec_gate_policy_enabled(const sec_gate *g)
{
    return g && g->policy != NULL;
}

/* One audit record; a write error is counted, never fatal to the request. */
static void audit(sec_gate *g, uint64_t mono_us, const sec_conn *c, const char *action,
                  const char *outcome, const char *reason, const char *channel, const char *detail)
{
    if (!g->audit)
        return;
    sec_audit_event ev = { .action = action, .outcome = outcome, .reason = reason,
                           .who = c ? &c->who : NULL, .channel = channel,
                           .remote = c && c->remote[0] ? c->remote : NULL,
                           .transport = c ? transport_name(c->transport) : NULL, .detail = detail };
    char e[128];
    if (sec_audit_write(g->audit, clock_wall_us(), mono_us, &ev, e, sizeof e) < 0)
        g->audit_errors++;
}

static uint32_t ms_of(uint64_t us)
{
    uint64_t ms = us == UINT64_MAX ? 60000 : (us + 999) / 1000;
    return ms > 3600000 ? 3600000 : (uint32_t)(ms ? ms : 1);
}

sec_verdict sec_gate_admit(sec_gate *g, uint64_t mono_us, uint32_t *retry_after_ms)
{
    return sec_storm_admit(&g->storm, mono_us, retry_after_ms) ? SEC_ALLOW : SEC_OVERLOADED;
}

void sec_gate_settled(sec_gate *g)
{
    sec_storm_settled(&g->storm);
}

static void tenant_count_up(sec_gate *g, sec_conn *c)
{
    c->tenant_slot = -1;
    if (!c->who.authenticated || !c->who.tenant[0])
        return;
    int free_slot = -1;
    for (int i = 0; i < SEC_GATE_TENANTS_MAX; i++) {
        if (g->tenants[i].name[0] == 0 || g->tenants[i].conns == 0) {
            if (free_slot < 0)
                free_slot = i;
            if (g->tenants[i].name[0] == 0)
                break; /* slots are filled in order: nothing named after this */
            continue;
        }
        if (strcmp(g->tenants[i].name, c->who.tenant) == 0) {
            c->tenant_slot = i;
            break;
        }
    }
    if (c->tenant_slot < 0) {
        /* a zero-count slot may still hold this tenant's name */
        for (int i = 0; i < SEC_GATE_TENANTS_MAX && g->tenants[i].name[0]; i++)
            if (strcmp(g->tenants[i].name, c->who.tenant) == 0)
                c->tenant_slot = i;
    }
    if (c->tenant_slot < 0) {
        c->tenant_slot = free_slot >= 0 ? free_slot : SEC_GATE_TENANTS_MAX;
        if (free_slot >= 0)
            strcpy(g->tenants[free_slot].name, c->who.tenant);
    }
    g->tenants[c->tenant_slot].conns++;
}

void sec_gate_disconnect(sec_gate *g, sec_conn *c)
{
    if (c->tenant_slot >= 0 && c->tenant_slot <= SEC_GATE_TENANTS_MAX &&
        g->tenants[c->tenant_slot].conns > 0)
        g->tenants[c->tenant_slot].conns--;
    c->tenant_slot = -1;
}

/* Refuses a verified principal whose token is on the revocation list
 * (counted and audited as `action`). Returns SEC_ALLOW or SEC_UNAUTHORIZED. */
static sec_verdict check_revoked(sec_gate *g, sec_conn *c, const sec_principal *who,
                                 const char *action, uint64_t mono_us, char *err, size_t errlen)
{
    sec_revoke_hit hit = sec_revoke_check(g->revoked, who);
    if (hit == SEC_REVOKE_NONE)
        return SEC_ALLOW;
    g->auth_rejects[SEC_JWT_REVOKED]++;
    snprintf(err, errlen, "token revoked (its %s is on the revocation list)", sec_revoke_hit_str(hit));
    sec_conn shown = *c;
    shown.who = *who;
    audit(g, mono_us, &shown, action, "deny", "revoked", NULL, sec_revoke_hit_str(hit));
    return SEC_UNAUTHORIZED;
}

/* sec_gate_connect and sec_gate_request: count_attempt says whether this is
 * a new connection (counted against conn_per_addr). */
static sec_verdict authenticate(sec_gate *g, sec_conn *c, sec_transport t, const char *remote,
                                const char *token, size_t token_len, int64_t now_s,
                                uint64_t mono_us, int count_attempt, uint32_t *retry_after_ms,
                                char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->tenant_slot = -1;
    c->transport = t;
    snprintf(c->remote, sizeof c->remote, "%s", remote ? remote : "");
    uint64_t retry_us = 0;
    if (count_attempt && g->conn_addr &&
        !sec_ratetab_take(g->conn_addr, c->remote[0] ? c->remote : "?", mono_us, 1, &retry_us)) {
        g->limited[LIM_CONN_ADDR]++;
        *retry_after_ms = ms_of(retry_us);
        snprintf(err, errlen, "too many connections from this address; retry in %u ms",
                 *retry_after_ms);
        audit(g, mono_us, c, "connect", "deny", "rate_limited", NULL, "conn_per_addr");
        return SEC_RATE_LIMITED;
    }
    if (token && token_len && g->jwt) {
        char why[200];
        sec_principal who;
        sec_jwt_result r = sec_jwt_verify(g->jwt, token, token_len, now_s, &who, why, sizeof why);
        if (r != SEC_JWT_OK) {
            g->auth_rejects[r]++;
            snprintf(err, errlen, "invalid token (%s): %s", sec_jwt_result_str(r), why);
            audit(g, mono_us, c, "connect", "deny", sec_jwt_result_str(r), NULL, why);
            return SEC_UNAUTHORIZED;
        }
        if (check_revoked(g, c, &who, "connect", mono_us, err, errlen) != SEC_ALLOW)
            return SEC_UNAUTHORIZED;
        c->who = who;
    } else if (g->jwt && !g->anyone) {
        g->auth_rejects[SEC_JWT_MISSING]++;
        snprintf(err, errlen, "a bearer token is required (Authorization header or ?token=)");
        audit(g, mono_us, c, "connect", "deny", "missing_token", NULL, NULL);
        return SEC_UNAUTHORIZED;
    }
    tenant_count_up(g, c);
    return SEC_ALLOW;
}

sec_verdict sec_gate_connect(sec_gate *g, sec_conn *c, sec_transport t, const char *remote,
                             const char *token, size_t token_len, int64_t now_s, uint64_t mono_us,
                             uint32_t *retry_after_ms, char *err, size_t errlen)
{
    return authenticate(g, c, t, remote, token, token_len, now_s, mono_us, 1, retry_after_ms, err,
                        errlen);
}

sec_verdict sec_gate_request(sec_gate *g, sec_conn *c, sec_transport t, const char *remote,
                             const char *token, size_t token_len, int64_t now_s, uint64_t mono_us,
                             char *err, size_t errlen)
{
    uint32_t unused = 0;
    return authenticate(g, c, t, remote, token, token_len, now_s, mono_us, 0, &unused, err, errlen);
}

static int expired(const sec_gate *g, const sec_conn *c, int64_t now_s)
{
    return c->who.authenticated && c->who.exp_s && now_s >= c->who.exp_s + g->leeway_s;
}

int sec_gate_expired(sec_gate *g, sec_conn *c, int64_t now_s, uint64_t mono_us)
{
    if (!expired(g, c, now_s))
        return 0;
    g->expired_closes++;
    audit(g, mono_us, c, "expire", "close", "expired", NULL, NULL);
    return 1;
}

/* The policy decision for c on channel, with metrics and audit. */
static sec_verdict decide(sec_gate *g, sec_conn *c, const char *channel, sec_action act,
                          int64_t now_s, uint64_t mono_us, const char *detail, int audit_allow,
                          char *err, size_t errlen)
{
    const char *action = act == SEC_ACT_PUBLISH ? "publish" : "subscribe";
    if (expired(g, c, now_s)) {
        g->auth_rejects[SEC_JWT_EXPIRED]++;
        snprintf(err, errlen, "token expired; send {\"op\":\"auth\",\"token\":…} or reconnect");
        audit(g, mono_us, c, action, "deny", "expired", channel, detail);
        return SEC_UNAUTHORIZED;
    }
    if (!g->policy)
        return SEC_ALLOW; /* names are the server's to validate (400) */
    sec_policy_decision d;
    sec_policy_check(g->policy, &c->who, channel, strlen(channel), act, &d);
    if (d.allow) {
        if (d.sensitive && audit_allow)
            audit(g, mono_us, c, action, "allow", NULL, channel, "sensitive");
        return SEC_ALLOW;
    }
    g->denials[act][d.reason]++;
    audit(g, mono_us, c, action, "deny", sec_policy_reason_str(d.reason), channel, detail);
    switch (d.reason) {
    case SEC_POLICY_ANONYMOUS:
        snprintf(err, errlen, "%s to this channel needs a token", action);
        return SEC_UNAUTHORIZED;
    case SEC_POLICY_BAD_CHANNEL:
        snprintf(err, errlen, "invalid channel name");
        return SEC_FORBIDDEN;
    case SEC_POLICY_NO_ROLE:
        snprintf(err, errlen, "your roles do not allow %s on this channel", action);
        return SEC_FORBIDDEN;
    default:
        snprintf(err, errlen, "no policy rule allows %s on this channel", action);
        return SEC_FORBIDDEN;
    }
}

sec_verdict sec_gate_subscribe(sec_gate *g, sec_conn *c, const char *channel, int64_t now_s,
                               uint64_t mono_us, char *err, size_t errlen)
{
    return decide(g, c, channel, SEC_ACT_SUBSCRIBE, now_s, mono_us, NULL, 1, err, errlen);
}

sec_verdict sec_gate_publish(sec_gate *g, sec_conn *c, const char *channel, int64_t now_s,
                             uint64_t mono_us, uint32_t *retry_after_ms, char *err, size_t errlen)
{
    sec_verdict v = decide(g, c, channel, SEC_ACT_PUBLISH, now_s, mono_us, NULL, 1, err, errlen);
    if (v != SEC_ALLOW || !g->pub_account)
        return v;
    char key[SEC_RATETAB_KEY_MAX + 1];
    size_t sub_len = strlen(c->who.sub);
    if (c->who.authenticated && sub_len + 2 <= SEC_RATETAB_KEY_MAX) {
        key[0] = 's';
        key[1] = ':';
        memcpy(key + 2, c->who.sub, sub_len + 1);
    } else if (c->who.authenticated) {
        /* too long to be a key: its FNV-1a hash stands in for it */
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < sub_len; i++)
            h = (h ^ (unsigned char)c->who.sub[i]) * 0x100000001b3ULL;
        snprintf(key, sizeof key, "h:%016llx", (unsigned long long)h);
    } else {
        snprintf(key, sizeof key, "a:%.60s", c->remote[0] ? c->remote : "?");
    }
    uint64_t retry_us = 0;
    if (!sec_ratetab_take(g->pub_account, key, mono_us, 1, &retry_us)) {
        g->limited[LIM_PUB_ACCOUNT]++;
        *retry_after_ms = ms_of(retry_us);
        snprintf(err, errlen, "publish rate limit of this account; retry in %u ms", *retry_after_ms);
        audit(g, mono_us, c, "publish", "deny", "rate_limited", channel, "pub_per_account");
        return SEC_RATE_LIMITED;
    }
    return SEC_ALLOW;
}

sec_verdict sec_gate_message(sec_gate *g, sec_conn *c, uint64_t mono_us, uint32_t *retry_after_ms,
                             char *err, size_t errlen)
{
    uint64_t retry_us = 0;
    if (sec_bucket_take(&c->msgs, &g->msg_per_conn, mono_us, 1, &retry_us))
        return SEC_ALLOW;
    g->limited[LIM_MSG_CONN]++;
    *retry_after_ms = ms_of(retry_us);
    snprintf(err, errlen, "too many messages on this connection; retry in %u ms", *retry_after_ms);
    audit(g, mono_us, c, "message", "deny", "rate_limited", NULL, "msg_per_conn");
    return SEC_RATE_LIMITED;
}

sec_verdict sec_gate_refresh(sec_gate *g, sec_conn *c, const char *token, size_t token_len,
                             int64_t now_s, uint64_t mono_us, char *err, size_t errlen)
{
    if (!g->jwt) {
        g->refresh_denied++;
        snprintf(err, errlen, "authentication is not configured on this server");
        return SEC_FORBIDDEN;
    }
    sec_principal next;
    char why[200];
    sec_jwt_result r = sec_jwt_verify(g->jwt, token, token_len, now_s, &next, why, sizeof why);
    if (r != SEC_JWT_OK) {
        g->refresh_denied++;
        g->auth_rejects[r]++;
        snprintf(err, errlen, "invalid token (%s): %s", sec_jwt_result_str(r), why);
        audit(g, mono_us, c, "auth", "deny", sec_jwt_result_str(r), NULL, why);
        return SEC_UNAUTHORIZED;
    }
    if (check_revoked(g, c, &next, "auth", mono_us, err, errlen) != SEC_ALLOW) {
        g->refresh_denied++;
        return SEC_UNAUTHORIZED;
    }
    if (c->who.authenticated &&
        (strcmp(next.sub, c->who.sub) != 0 || strcmp(next.tenant, c->who.tenant) != 0)) {
        g->refresh_denied++;
        snprintf(err, errlen, "the new token names another subject or tenant");
        audit(g, mono_us, c, "auth", "deny", "identity_change", NULL, next.sub);
        return SEC_FORBIDDEN;
    }
    int was_anonymous = !c->who.authenticated;
    if (was_anonymous)
        sec_gate_disconnect(g, c);
    c->who = next;
    if (was_anonymous)
        tenant_count_up(g, c);
    g->refresh_ok++;
    audit(g, mono_us, c, "auth", "allow", NULL, NULL, NULL);
    return SEC_ALLOW;
}

int sec_gate_reload(sec_gate *g, const char *origin, uint64_t mono_us, char *err, size_t errlen)
{
    sec_jwt *jwt;
    sec_policy *policy;
    sec_revoke *revoked;
    char why[512];
    if (load_files(&g->files, g->leeway_s, &jwt, &policy, &revoked, why, sizeof why) < 0) {
        g->reloads_failed++;
        snprintf(err, errlen, "%s", why);
        audit(g, mono_us, NULL, "reload", "deny", "bad_file", NULL, why);
        return -1;
    }
    sec_jwt_free(g->jwt);
    sec_policy_free(g->policy);
    sec_revoke_free(g->revoked);
    g->jwt = jwt;
    g->policy = policy;
    g->revoked = revoked;
    g->anyone = policy ? sec_policy_anyone(policy) : 0;
    g->reloads_ok++;
    char detail[200];
    snprintf(detail, sizeof detail, "%s: keys=%d rules=%d revoked_jti=%zu revoked_sub=%zu",
             origin ? origin : "reload", sec_jwt_nkeys(jwt), policy ? sec_policy_nrules(policy) : 0,
             sec_revoke_count(revoked, SEC_REVOKE_JTI), sec_revoke_count(revoked, SEC_REVOKE_SUB));
    audit(g, mono_us, NULL, "reload", "allow", NULL, NULL, detail);
    return 0;
}

void sec_gate_describe(const sec_gate *g, sec_gate_summary *out)
{
    memset(out, 0, sizeof *out);
    out->keys = sec_jwt_nkeys(g->jwt);
    out->rules = g->policy ? sec_policy_nrules(g->policy) : 0;
    out->revoked_jti = sec_revoke_count(g->revoked, SEC_REVOKE_JTI);
    out->revoked_sub = sec_revoke_count(g->revoked, SEC_REVOKE_SUB);
}

sec_verdict sec_gate_revalidate(sec_gate *g, sec_conn *c, uint64_t mono_us, char *err,
                                size_t errlen)
{
    if (!g->jwt)
        return SEC_ALLOW;
    int end = -1;
    const char *detail = NULL;
    if (!c->who.authenticated) {
        if (!g->anyone) {
            end = END_ANONYMOUS;
            snprintf(err, errlen, "the policy no longer grants anything without a token");
        }
    } else {
        sec_revoke_hit hit = sec_revoke_check(g->revoked, &c->who);
        if (hit != SEC_REVOKE_NONE) {
            end = END_REVOKED;
            detail = sec_revoke_hit_str(hit);
            snprintf(err, errlen, "token revoked (its %s is on the revocation list)", detail);
        } else if (!sec_jwt_has_key_id(g->jwt, c->who.key_id)) {
            end = END_KEY_REMOVED;
            snprintf(err, errlen, "the key that signed this token is no longer accepted");
        }
    }
    if (end < 0)
        return SEC_ALLOW;
    g->reload_ends[end]++;
    audit(g, mono_us, c, "revalidate", "close", END_NAMES[end], NULL, detail);
    return SEC_UNAUTHORIZED;
}

sec_verdict sec_gate_reauthorize(sec_gate *g, sec_conn *c, const char *channel, int64_t now_s,
                                 uint64_t mono_us, char *err, size_t errlen)
{
    sec_verdict v = decide(g, c, channel, SEC_ACT_SUBSCRIBE, now_s, mono_us, "reload", 0, err, errlen);
    if (v != SEC_ALLOW)
        g->reload_ends[END_FORBIDDEN]++;
    return v;
}

sec_verdict sec_gate_admin(sec_gate *g, sec_conn *c, const char *action, const char *detail,
                           uint64_t mono_us, char *err, size_t errlen)
{
    if (g->policy && !sec_policy_admin_allowed(g->policy, &c->who)) {
        g->admin_denied++;
        audit(g, mono_us, c, action, "deny", c->who.authenticated ? "no_role" : "anonymous", NULL,
              detail);
        snprintf(err, errlen, "admin actions need a token with an admin role");
        return c->who.authenticated ? SEC_FORBIDDEN : SEC_UNAUTHORIZED;
    }
    g->admin_ok++;
    audit(g, mono_us, c, action, "allow", NULL, NULL, detail);
    return SEC_ALLOW;
}

/* printf into buf at *off, failing (returning -1) once it does not fit. */
static int put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
    if (*off >= cap)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, cap - *off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *off)
        return -1;
    *off += (size_t)n;
    return 0;
}

int sec_gate_metrics(const sec_gate *g, char *buf, size_t cap)
{
    size_t off = 0;
    int bad = 0;
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_auth_rejections_total Tokens refused, by reason.\n"
               "# TYPE rtchaos_sec_auth_rejections_total counter\n");
    for (int r = 1; r < JWT_RESULTS; r++)
        bad |= put(buf, cap, &off, "rtchaos_sec_auth_rejections_total{reason=\"%s\"} %llu\n",
                   sec_jwt_result_str((sec_jwt_result)r), (unsigned long long)g->auth_rejects[r]);
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_authz_denials_total Subscribes and publishes refused by the channel policy.\n"
               "# TYPE rtchaos_sec_authz_denials_total counter\n");
    for (int a = 0; a < 2; a++)
        for (int r = 1; r < POLICY_REASONS; r++)
            bad |= put(buf, cap, &off,
                       "rtchaos_sec_authz_denials_total{action=\"%s\",reason=\"%s\"} %llu\n",
                       a ? "publish" : "subscribe", sec_policy_reason_str((sec_policy_reason)r),
                       (unsigned long long)g->denials[a][r]);
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_rate_limited_total Requests refused by a rate limit.\n"
               "# TYPE rtchaos_sec_rate_limited_total counter\n");
    for (int l = 0; l < LIM_COUNT; l++)
        bad |= put(buf, cap, &off, "rtchaos_sec_rate_limited_total{limit=\"%s\"} %llu\n",
                   LIMIT_NAMES[l], (unsigned long long)g->limited[l]);
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_storm_rejections_total New connections refused with 503 by the storm guard.\n"
               "# TYPE rtchaos_sec_storm_rejections_total counter\n"
               "rtchaos_sec_storm_rejections_total{cause=\"rate\"} %llu\n"
               "rtchaos_sec_storm_rejections_total{cause=\"pending\"} %llu\n"
               "# HELP rtchaos_sec_expired_closes_total Connections closed because their token expired.\n"
               "# TYPE rtchaos_sec_expired_closes_total counter\n"
               "rtchaos_sec_expired_closes_total %llu\n"
               "# HELP rtchaos_sec_token_refresh_total In-band token refreshes ({\"op\":\"auth\"}).\n"
               "# TYPE rtchaos_sec_token_refresh_total counter\n"
               "rtchaos_sec_token_refresh_total{outcome=\"allow\"} %llu\n"
               "rtchaos_sec_token_refresh_total{outcome=\"deny\"} %llu\n"
               "# HELP rtchaos_sec_admin_actions_total Admin requests, by outcome.\n"
               "# TYPE rtchaos_sec_admin_actions_total counter\n"
               "rtchaos_sec_admin_actions_total{outcome=\"allow\"} %llu\n"
               "rtchaos_sec_admin_actions_total{outcome=\"deny\"} %llu\n",
               (unsigned long long)g->storm.rejected_rate, (unsigned long long)g->storm.rejected_pending,
               (unsigned long long)g->expired_closes,
               (unsigned long long)g->refresh_ok, (unsigned long long)g->refresh_denied,
               (unsigned long long)g->admin_ok, (unsigned long long)g->admin_denied);
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_audit_lines_total Audit log lines, written or suppressed by the line budget.\n"
               "# TYPE rtchaos_sec_audit_lines_total counter\n"
               "rtchaos_sec_audit_lines_total{state=\"written\"} %llu\n"
               "rtchaos_sec_audit_lines_total{state=\"suppressed\"} %llu\n"
               "rtchaos_sec_audit_lines_total{state=\"error\"} %llu\n",
               (unsigned long long)(g->audit ? sec_audit_written(g->audit) : 0),
               (unsigned long long)(g->audit ? sec_audit_suppressed(g->audit) : 0),
               (unsigned long long)g->audit_errors);
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_reloads_total Reloads of the policy, key files and revocation list.\n"
               "# TYPE rtchaos_sec_reloads_total counter\n"
               "rtchaos_sec_reloads_total{outcome=\"ok\"} %llu\n"
               "rtchaos_sec_reloads_total{outcome=\"error\"} %llu\n"
               "# HELP rtchaos_sec_reload_ends_total Connections closed (revoked, key_removed, anonymous) and subscriptions ended (forbidden) when a reload re-checked them.\n"
               "# TYPE rtchaos_sec_reload_ends_total counter\n",
               (unsigned long long)g->reloads_ok, (unsigned long long)g->reloads_failed);
    for (int e = 0; e < END_COUNT; e++)
        bad |= put(buf, cap, &off, "rtchaos_sec_reload_ends_total{reason=\"%s\"} %llu\n",
                   END_NAMES[e], (unsigned long long)g->reload_ends[e]);
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_revoked_entries Entries of the token revocation list.\n"
               "# TYPE rtchaos_sec_revoked_entries gauge\n"
               "rtchaos_sec_revoked_entries{kind=\"jti\"} %zu\n"
               "rtchaos_sec_revoked_entries{kind=\"sub\"} %zu\n",
               sec_revoke_count(g->revoked, SEC_REVOKE_JTI), sec_revoke_count(g->revoked, SEC_REVOKE_SUB));
    bad |= put(buf, cap, &off,
               "# HELP rtchaos_sec_tenant_connections Open authenticated connections per tenant.\n"
               "# TYPE rtchaos_sec_tenant_connections gauge\n");
    for (int i = 0; i <= SEC_GATE_TENANTS_MAX; i++)
        if (g->tenants[i].conns || (i < SEC_GATE_TENANTS_MAX && g->tenants[i].name[0]))
            bad |= put(buf, cap, &off, "rtchaos_sec_tenant_connections{tenant=\"%s\"} %llu\n",
                       g->tenants[i].name, (unsigned long long)g->tenants[i].conns);
    return bad ? -1 : (int)off;
}
