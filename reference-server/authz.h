/* authz.h — THE authorization hook: every connect, subscribe and publish is
 * decided here, so authentication (JWT), per-channel RBAC, tenant isolation
 * and rate limits plug in without touching the transports. */
#ifndef RTCHAOS_SERVER_AUTHZ_H
#define RTCHAOS_SERVER_AUTHZ_H
#include <stddef.h>

struct lws;

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
 * points at the connection's slot: NULL until a verdict at AUTHZ_CONNECT sets
 * it, then passed back on every later call for the same connection (a WS
 * connection keeps it for its life; it is freed with free_principal). */
typedef struct authz_request {
    authz_action action;
    authz_transport transport;
    const char *channel;          /* NULL for AUTHZ_CONNECT */
    struct lws *wsi;
    void **principal;
    void (**free_principal)(void *);
} authz_request;

/* Decides req. Returns AUTHZ_ALLOW, or another verdict with a human message
 * in err. Called on the event loop; must not block.
 * Today it allows everything (the reference server has no identities yet);
 * the auth issue replaces the body, not the call sites. */
authz_verdict authz_check(const authz_request *req, char *err, size_t errlen);

/* "unauthorized" … as used in error envelopes. */
const char *authz_code(authz_verdict v);

#endif
