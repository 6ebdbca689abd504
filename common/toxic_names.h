/* toxic_names.h — the one list of rtchaos-proxy's fault types, shared by the
 * proxy (its registry) and the harness (which refuses a scenario naming any
 * other before a run). Adding a fault: one fault-injector/toxic_<name>.c file
 * that defines `toxic_<name>_type` with .name "<name>", and X(<name>) in
 * TOXIC_TYPES; a per-action name for it is one A(…) entry in TOXIC_ALIASES. */
#ifndef RTCHAOS_TOXIC_NAMES_H
#define RTCHAOS_TOXIC_NAMES_H

/* X-macro: TOXIC_TYPES(X) expands X(name) once per fault type, in registry
 * order; each is a file fault-injector/toxic_<name>.c. */
#define TOXIC_TYPES(X)                                                                        \
    X(latency) X(bandwidth) X(slow_close) X(timeout) X(reset_peer) X(slicer) X(limit_data)   \
    X(blackhole) X(refuse) X(ws) X(sse) X(disconnect)

/* The per-action names of the message-aware faults, for scenario files that
 * name the fault directly: A(X, name, type, action) is `type` with its
 * "action" attribute preset (the registry builds them from this table). */
#define TOXIC_ALIASES(A, X)                                                                   \
    A(X, ws_drop, ws, drop) A(X, ws_duplicate, ws, duplicate) A(X, ws_delay, ws, delay)       \
    A(X, ws_reorder, ws, reorder) A(X, ws_burst, ws, burst) A(X, ws_corrupt, ws, corrupt)     \
    A(X, ws_fragment, ws, split) A(X, ws_split, ws, split) A(X, ws_close, ws, close)          \
    A(X, ws_swallow_ping, ws, swallow_ping) A(X, ws_swallow_pong, ws, swallow_pong)           \
    A(X, sse_drop, sse, drop) A(X, sse_duplicate, sse, duplicate) A(X, sse_delay, sse, delay) \
    A(X, sse_reorder, sse, reorder) A(X, sse_burst, sse, burst)                               \
    A(X, sse_corrupt, sse, corrupt) A(X, sse_strip_id, sse, strip_id)                         \
    A(X, sse_inject_retry, sse, inject_retry) A(X, sse_cut, sse, cut)                         \
    A(X, sse_suppress_heartbeat, sse, suppress_heartbeat)

#define TOXIC_ALIAS_NAME(X, name, type, action) X(name)
/* Every name a toxic may have: TOXIC_NAMES(X) expands X(name) for each type,
 * then each per-action name. */
#define TOXIC_NAMES(X) TOXIC_TYPES(X) TOXIC_ALIASES(TOXIC_ALIAS_NAME, X)

#endif
