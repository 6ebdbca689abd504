/* toxic_names.h — the one list of rtchaos-proxy's fault types, shared by the
 * proxy (its registry) and the harness (which refuses a scenario naming any
 * other before a run). Adding a fault: one fault-injector/toxic_<name>.c file
 * that defines `toxic_<name>_type` with .name "<name>", and one X(<name>)
 * line here. */
#ifndef RTCHAOS_TOXIC_NAMES_H
#define RTCHAOS_TOXIC_NAMES_H

/* X-macro: TOXIC_NAMES(X) expands X(name) once per type, in registry order. */
#define TOXIC_NAMES(X)                                                                        \
    X(latency) X(bandwidth) X(slow_close) X(timeout) X(reset_peer) X(slicer) X(limit_data)   \
    X(blackhole) X(refuse)                                                                    \
    X(ws) X(ws_drop) X(ws_duplicate) X(ws_delay) X(ws_reorder) X(ws_burst) X(ws_corrupt)     \
    X(ws_fragment) X(ws_split) X(ws_close) X(ws_swallow_ping) X(ws_swallow_pong)              \
    X(sse) X(sse_drop) X(sse_duplicate) X(sse_delay) X(sse_reorder) X(sse_burst)             \
    X(sse_corrupt) X(sse_strip_id) X(sse_inject_retry) X(sse_cut) X(sse_suppress_heartbeat)  \
    X(disconnect)

#endif
