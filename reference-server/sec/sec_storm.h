/* sec_storm.h — connection-storm guard: admits new connections at a bounded
 * rate and with a bounded number still in their handshake, and tells the
 * ones it turns away when to come back (spread out, so they do not return as
 * one wave). */
#ifndef RTCHAOS_SEC_STORM_H
#define RTCHAOS_SEC_STORM_H
#include <stdint.h>

#include "prng.h"
#include "sec_ratelimit.h"

typedef struct sec_storm_cfg {
    sec_rate new_conns;       /* new connections admitted per second (0 = no limit) */
    uint32_t max_pending;     /* most connections between accept and handshake done (0 = no limit) */
    uint32_t retry_min_ms;    /* shortest retry hint given */
    uint32_t retry_spread_ms; /* uniform random extra on top, 0..spread */
} sec_storm_cfg;

/* One per server; not thread-safe (the event loop owns it). */
typedef struct sec_storm {
    sec_storm_cfg cfg;
    sec_bucket bucket;
    uint32_t pending;
    uint64_t admitted, rejected_rate, rejected_pending;
    prng rng;
} sec_storm;

/* Initializes g; seed feeds the retry-hint jitter (reproducible runs). */
void sec_storm_init(sec_storm *g, const sec_storm_cfg *cfg, uint64_t seed);

/* Asks to admit one new connection at now_us (monotonic). Returns 1 and counts
 * it as pending (call sec_storm_settled once when its handshake completes or
 * it closes before that), or 0 and sets *retry_after_ms to the hint the client
 * should get (HTTP 503 Retry-After rounded up to seconds; SSE `retry:`). */
int sec_storm_admit(sec_storm *g, uint64_t now_us, uint32_t *retry_after_ms);

/* A connection admitted by sec_storm_admit finished its handshake or closed. */
void sec_storm_settled(sec_storm *g);

#endif
