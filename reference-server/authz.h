/* authz.h — THE authorization hook: every connect, subscribe and publish is
 * decided here, so authentication (JWT), per-channel RBAC, tenant isolation
 * and rate limits plug in without touching the transports. The decisions
 * themselves are in sec/sec_gate.h; this is the libwebsockets side (headers,
 * peer address, timers) and the mapping to HTTP statuses and close codes.
 * docs/security.md describes the model and the codes clients see. */
#ifndef RTCHAOS_SERVER_AUTHZ_H
#define RTCHAOS_SERVER_AUTHZ_H
#include <stddef.h>
#include <stdint.h>

#include "twheel.h"

struct lws;
struct server_cfg;

typedef enum authz_action {
    AUTHZ_CONNECT = 0, /* a WS upgrade, SSE stream, poll or publish request arrives */
    AUTHZ_SUBSCRIBE,   /* a stream subscribes to (or a poll reads) channel */
    AUTHZ_PUBLISH,     /* an event is published to channel */
} authz_action;

typedef enum authz_verdict {
    AUTHZ_ALLOW = 0,
    AUTHZ_UNAUTHORIZED, /* who you are is unknown: HTTP 401, WS close 4401 / error "unauthorized" */
    AUTHZ_FORBIDDEN,    /* known, not allowed: HTTP 403, error "forbidden" (4403 at connect) */
    AUTHZ_RATE_LIMITED, /* HTTP 429, error "rate_limited" (4429 at connect) */
} authz_verdict;

typedef enum authz_transport { AUTHZ_T_WS = 0, AUTHZ_T_SSE, AUTHZ_T_POLL, AUTHZ_T_HTTP } authz_transport;

/* What is being asked. wsi gives access to the request (headers such as
 * Authorization, the peer address) while it is being handled; principal
 * points at the connection's slot: NULL until the first call for the
 * connection authenticates it (whatever the action), then passed back on
 * every later call for the same connection (a WS connection keeps it for its
 * life; it is freed with free_principal). */
typedef struct authz_request {
    authz_action action;
    authz_transport transport;
    const char *channel;          /* NULL for AUTHZ_CONNECT */
    struct lws *wsi;
    void **principal;
    void (**free_principal)(void *);
} authz_request;

/* Sets up authentication, the channel policy, rate limits, the storm guard
 * and the audit log from cfg (the --jwt-*, --authz-policy, --audit-log,
 * --rate-*, --storm-* flags). With none of them set every check allows.
 * Call once before the server starts. Returns 0, or -1 with a message in err
 * (a key or policy that does not load: the server must not start open). */
int authz_init(const struct server_cfg *cfg, char *err, size_t errlen);
/* Frees what authz_init made (after the server has stopped). */
void authz_shutdown(void);

/* Decides req. Returns AUTHZ_ALLOW, or another verdict with a human message
 * in err. Called on the event loop; never blocks. */
authz_verdict authz_check(const authz_request *req, char *err, size_t errlen);

/* "unauthorized" … as used in error envelopes. */
const char *authz_code(authz_verdict v);

/* Connection-storm guard: whether a stream or request arriving on wsi may
 * start now. Only a connection's first request counts as new: later
 * requests on a kept-alive connection are the server's own and always pass.
 * Returns 1, or 0 when the server is shedding new connections (answer 503
 * with Retry-After: authz_retry_after_s()). */
int authz_admit(struct lws *wsi);

/* The Retry-After hint, in whole seconds (at least 1), of the most recent
 * rate-limited or shed request on this event loop. */
uint32_t authz_retry_after_s(void);

/* Counts one inbound WebSocket message of the connection whose slot is
 * principal (a message flood gives AUTHZ_RATE_LIMITED: error + close 4429). */
authz_verdict authz_ws_message(void *principal, char *err, size_t errlen);

/* {"op":"auth","token":…}: replaces the connection's token (same subject and
 * tenant only). Returns AUTHZ_ALLOW and writes the reply envelope
 * ({"type":"authed","sub":…,"exp":…}) into reply, or a verdict with err. */
authz_verdict authz_refresh(void **principal, void (**free_principal)(void *), struct lws *wsi,
                            const char *token, size_t token_len, char *reply, size_t reply_cap,
                            char *err, size_t errlen);

/* Whether the connection's token has expired (it must be closed: WS 4401). */
int authz_expired(void *principal);

/* Arms the connection's token-expiry timer on wheel w to fire a little after
 * the token's exp (re-arms it after a refresh; disarms it for a token without
 * exp; no-op for anonymous connections). The timer lives in the principal
 * (allocated only for connections that carry credentials), so anonymous
 * connections pay nothing for it, and freeing the principal disarms it. The
 * wheel's callback gets the connection back with authz_expiry_wsi. Not lws's
 * per-connection timer: lws 4.1 keeps those in one sorted list with a linear
 * insert, O(connections) per arm. */
void authz_arm_expiry(twheel *w, struct lws *wsi, void *principal);
/* The connection whose expiry timer t (armed by authz_arm_expiry) fired. */
struct lws *authz_expiry_wsi(twheel_timer *t);

/* Authorizes an admin request (path, with detail such as the request body
 * for the audit log). Returns AUTHZ_ALLOW or UNAUTHORIZED/FORBIDDEN. */
authz_verdict authz_admin(struct lws *wsi, void **principal, void (**free_principal)(void *),
                          const char *path, const char *detail, char *err, size_t errlen);

/* What a reload loaded. */
typedef struct authz_summary {
    int keys, rules;
    size_t revoked_jti, revoked_sub;
} authz_summary;

/* Reloads the JWT key files, the channel policy and the revocation list from
 * the files named at start-up (origin, "SIGHUP" or "admin", is audited).
 * All or nothing: on error the old ones stay in force and err names the
 * file and the reason. Returns 0 (with *out) or -1. Open connections are
 * re-checked by the caller with authz_revalidate and authz_reauthorize. */
int authz_reload(const char *origin, authz_summary *out, char *err, size_t errlen);

/* After a reload: whether the connection whose slot is principal may stay
 * (AUTHZ_ALLOW), or must be closed (AUTHZ_UNAUTHORIZED: revoked token, its
 * key removed, anonymous no longer allowed; WS close 4401). */
authz_verdict authz_revalidate(void *principal, char *err, size_t errlen);

/* After a reload: whether the connection's subscription to channel still
 * stands under the new policy; a refusal (forbidden/unauthorized) ends it. */
authz_verdict authz_reauthorize(void *principal, const char *channel, char *err, size_t errlen);

/* Appends the process's resident memory and the security metrics
 * (Prometheus text) to *text (malloc'd, *len bytes), reallocating it.
 * Returns 0, or -1 when out of memory. */
int authz_metrics_append(char **text, size_t *len);

#endif
