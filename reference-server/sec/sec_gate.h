/* sec_gate.h — the reference server's security decisions in one place,
 * free of any transport: authentication at connect (JWT), per-channel
 * authorization (policy), token expiry and refresh, rate limits, the
 * connection-storm guard, audit records and the security metrics. The
 * server's authz hook (reference-server/authz.c) feeds it what it reads from
 * libwebsockets and maps its verdicts to HTTP statuses and close codes. */
#ifndef RTCHAOS_SEC_GATE_H
#define RTCHAOS_SEC_GATE_H
#include <stddef.h>
#include <stdint.h>

#include "sec_audit.h"
#include "sec_jwt.h"
#include "sec_policy.h"
#include "sec_ratelimit.h"
#include "sec_revoke.h"
#include "sec_storm.h"

#define SEC_GATE_TENANTS_MAX 1024 /* tenants counted one by one; the rest as "_other" */
#define SEC_REMOTE_MAX 64

/* What the operator configured (all optional). Strings are copied by
 * sec_gate_new (the file names are kept for sec_gate_reload). */
typedef struct sec_gate_cfg {
    const char *jwt_secret_file; /* HS256 shared secret */
    const char *jwt_public_key;  /* PEM: RS256 or ES256 (by key type) */
    const char *jwt_issuer, *jwt_audience;
    int64_t jwt_leeway_s;
    const char *policy_file;     /* channel policy (JSON) */
    const char *revoked_file;    /* token revocation list (sec_revoke.h); needs a JWT key */
    const char *audit_file;      /* JSON lines; "-" = stderr */
    sec_rate audit_budget;       /* audit lines per second (0 = unlimited) */
    sec_rate conn_per_addr;      /* new connections per source address */
    sec_rate msg_per_conn;       /* inbound WS messages (any op) per connection */
    sec_rate pub_per_account;    /* publishes per token subject (anonymous: per address) */
    sec_storm_cfg storm;         /* new connections overall, pending handshakes */
} sec_gate_cfg;

typedef enum sec_verdict {
    SEC_ALLOW = 0,
    SEC_UNAUTHORIZED, /* HTTP 401, WS close 4401, error "unauthorized" */
    SEC_FORBIDDEN,    /* HTTP 403, WS close 4403, error "forbidden" */
    SEC_RATE_LIMITED, /* HTTP 429 + Retry-After, WS close 4429, error "rate_limited" */
    SEC_OVERLOADED,   /* connection storm: HTTP 503 + Retry-After (SSE: retry:) */
} sec_verdict;

typedef enum sec_transport { SEC_T_WS = 0, SEC_T_SSE, SEC_T_POLL, SEC_T_HTTP } sec_transport;

/* Per-connection security state; the server keeps one per session (its
 * principal slot) from the first check until the connection ends, then
 * hands it to sec_gate_disconnect. */
typedef struct sec_conn {
    sec_principal who;
    sec_transport transport;
    char remote[SEC_REMOTE_MAX];
    sec_bucket msgs;   /* msg_per_conn */
    int tenant_slot;   /* index counted in the per-tenant gauge, -1 none */
    int admitted;      /* counted as pending by the storm guard */
} sec_conn;

typedef struct sec_gate sec_gate;

/* Loads keys, policy and audit log per cfg; seed varies the hash of the rate
 * tables and the retry-hint jitter. Returns a gate the caller frees with
 * sec_gate_free, or NULL with a message in err (unreadable key, bad policy:
 * the server must refuse to start rather than run open). Not thread-safe:
 * one event loop owns the gate. */
sec_gate *sec_gate_new(const sec_gate_cfg *cfg, uint64_t seed, char *err, size_t errlen);
void sec_gate_free(sec_gate *g);

/* Whether tokens are checked (a key is configured) / a policy is loaded. With
 * neither, every check allows (only the rate limits that were set apply). */
int sec_gate_auth_enabled(const sec_gate *g);
int sec_gate_policy_enabled(const sec_gate *g);

/* Connection-storm guard, asked before anything else for every new stream or
 * request: SEC_ALLOW (then call sec_gate_settled once its handshake is over),
 * or SEC_OVERLOADED with *retry_after_ms. */
sec_verdict sec_gate_admit(sec_gate *g, uint64_t mono_us, uint32_t *retry_after_ms);
void sec_gate_settled(sec_gate *g);

/* Authenticates a new connection: token[0..token_len) is the credential it
 * presented (NULL/0: none), remote its peer address. Checks the per-address
 * connection rate, verifies the token at wall time now_s, and fills c.
 * Without a token the connection is anonymous, which is allowed only when
 * authentication is off or the policy grants something to @anyone. A token
 * that is present but invalid is always refused. On SEC_RATE_LIMITED
 * *retry_after_ms says when to come back. Writes an audit record for every
 * refusal. */
sec_verdict sec_gate_connect(sec_gate *g, sec_conn *c, sec_transport t, const char *remote,
                             const char *token, size_t token_len, int64_t now_s, uint64_t mono_us,
                             uint32_t *retry_after_ms, char *err, size_t errlen);

/* Authenticates another request on a connection that sec_gate_connect has
 * already counted (an HTTP keep-alive connection's later requests): the same
 * checks without the per-address connection-attempt count, so that one
 * client polling over a kept-alive connection is not taken for a storm of
 * connections. */
sec_verdict sec_gate_request(sec_gate *g, sec_conn *c, sec_transport t, const char *remote,
                             const char *token, size_t token_len, int64_t now_s, uint64_t mono_us,
                             char *err, size_t errlen);

/* Authorizes a subscription (also a replay, a resume or a poll read) of c to
 * channel: the token must not have expired and, when a policy is loaded, the
 * name must pass sec_channel_check and the policy must grant it (without a
 * policy any name is allowed here: the server validates names itself).
 * Audits denials and subscriptions to sensitive channels. */
sec_verdict sec_gate_subscribe(sec_gate *g, sec_conn *c, const char *channel, int64_t now_s,
                               uint64_t mono_us, char *err, size_t errlen);

/* Authorizes a publish by c to channel: expiry, policy, and the per-account
 * publish rate (keyed by subject, or by address when anonymous). */
sec_verdict sec_gate_publish(sec_gate *g, sec_conn *c, const char *channel, int64_t now_s,
                             uint64_t mono_us, uint32_t *retry_after_ms, char *err, size_t errlen);

/* Counts one inbound WebSocket message of c against msg_per_conn. */
sec_verdict sec_gate_message(sec_gate *g, sec_conn *c, uint64_t mono_us, uint32_t *retry_after_ms,
                             char *err, size_t errlen);

/* Replaces c's token ({"op":"auth","token":…}): the new token must verify and
 * name the same subject and tenant (a connection never changes identity);
 * roles and expiry are taken from it. On refusal c keeps its old identity. */
sec_verdict sec_gate_refresh(sec_gate *g, sec_conn *c, const char *token, size_t token_len,
                             int64_t now_s, uint64_t mono_us, char *err, size_t errlen);

/* Whether c's token has expired at now_s (then the server closes it with
 * 4401); writes an audit record when it has. 0 for anonymous connections. */
int sec_gate_expired(sec_gate *g, sec_conn *c, int64_t now_s, uint64_t mono_us);

/* Authorizes an admin action (e.g. "flags" for POST /admin/flags) and audits
 * it either way. With no policy loaded admin is open (the server's --admin
 * switch governs it). */
sec_verdict sec_gate_admin(sec_gate *g, sec_conn *c, const char *action, const char *detail,
                           uint64_t mono_us, char *err, size_t errlen);

/* Reloads the key files, the policy and the revocation list from the files
 * the gate was made with, atomically: all three load, or none is replaced
 * and the old ones stay in force. origin ("SIGHUP", "admin") goes into the
 * audit record written either way. Returns 0, or -1 with the reason (file
 * and line) in err. Open connections are not touched: the caller then asks
 * sec_gate_revalidate and sec_gate_reauthorize about each. */
int sec_gate_reload(sec_gate *g, const char *origin, uint64_t mono_us, char *err, size_t errlen);

/* What the gate holds now (for a reload's answer). */
typedef struct sec_gate_summary {
    int keys, rules;
    size_t revoked_jti, revoked_sub;
} sec_gate_summary;
void sec_gate_describe(const sec_gate *g, sec_gate_summary *out);

/* After a reload: whether c may stay connected. SEC_UNAUTHORIZED (close
 * 4401 / end the stream) when its token is now revoked, the key that
 * verified it is no longer configured, or it is anonymous and the policy no
 * longer grants anything to @anyone; counted and audited. SEC_ALLOW
 * otherwise (also when authentication is off). */
sec_verdict sec_gate_revalidate(sec_gate *g, sec_conn *c, uint64_t mono_us, char *err,
                                size_t errlen);

/* After a reload: whether c's existing subscription to channel still
 * stands under the new policy (as sec_gate_subscribe, but allowed
 * subscriptions to sensitive channels are not audited again). A refusal is
 * counted (reload_ends forbidden) and audited with detail "reload"; the
 * caller ends the subscription with the verdict's error code. */
sec_verdict sec_gate_reauthorize(sec_gate *g, sec_conn *c, const char *channel, int64_t now_s,
                                 uint64_t mono_us, char *err, size_t errlen);

/* The connection ended: releases its per-tenant count. c stays valid. */
void sec_gate_disconnect(sec_gate *g, sec_conn *c);

/* Appends the security metrics in Prometheus text format to buf (at most cap
 * bytes, NUL-terminated). Returns the length written, or -1 if it did not
 * fit. */
int sec_gate_metrics(const sec_gate *g, char *buf, size_t cap);

/* Stable names: "unauthorized", "forbidden", "rate_limited", "overloaded". */
const char *sec_verdict_code(sec_verdict v);

#endif
