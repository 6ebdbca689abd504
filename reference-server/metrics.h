/* metrics.h — the server's counters and gauges, rendered in the Prometheus
 * text exposition format for GET /metrics. */
#ifndef RTCHAOS_SERVER_METRICS_H
#define RTCHAOS_SERVER_METRICS_H
#include <stddef.h>
#include <stdint.h>

#include "sendq.h"

typedef enum metrics_transport { MT_WS = 0, MT_SSE, MT_POLL, MT_HTTP, MT_COUNT } metrics_transport;

typedef enum metrics_reject {
    MR_BAD_REQUEST = 0, MR_TOO_LARGE, MR_UNAUTHORIZED, MR_FORBIDDEN, MR_RATE_LIMITED,
    MR_DISABLED, MR_OVERLOADED, MR_NOT_FOUND, MR_DRAINING, MR_COUNT
} metrics_reject;

#define METRICS_LAT_BUCKETS 17
#define METRICS_PASS_BUCKETS 10

/* Lifetime: one per server (vhost data). Plain counters: the server is one
 * event loop, so nothing here is atomic. */
typedef struct metrics {
    uint64_t conns_open[MT_COUNT];      /* gauge */
    uint64_t conns_total[MT_COUNT];
    uint64_t published[MT_COUNT];       /* events accepted, by the transport they came in on */
    uint64_t publish_dups;              /* idempotent repeats answered with the original seq */
    uint64_t delivered_live[MT_COUNT];  /* event envelopes written, live */
    uint64_t delivered_replay[MT_COUNT];/* event envelopes written from history (resync) */
    uint64_t snapshots_sent;
    uint64_t gaps_sent;
    uint64_t resync_recovered, resync_snapshot;
    uint64_t bp_events[SENDQ_POLICY_COUNT]; /* events dropped / coalesced away by policy */
    uint64_t bp_snapshots;              /* snapshot markers that replaced queued events */
    uint64_t bp_disconnects;            /* connections shed by the disconnect policy */
    uint64_t rejections[MR_COUNT];
    uint64_t idle_closes[MT_COUNT];
    uint64_t heartbeats_sent;
    /* cost options (batch.c, delta.c) */
    uint64_t stream_writes[MT_COUNT];   /* writes that carried event envelopes (WS, SSE) */
    uint64_t ws_direct_writes;          /* WS queues written at the end of a loop pass, not from WRITEABLE (wflush.c) */
    uint64_t ws_send_split_passes;      /* loop passes whose direct writes the sender threads could help with (--send-threads, wflush.c) */
    uint64_t ws_sender_writes;          /* of those writes, the ones a sender thread sent */
    uint64_t ws_batch_msgs;             /* WebSocket batch messages (several events in one) */
    uint64_t ws_batch_events;           /* events carried in them */
    uint64_t delta_events_made;         /* events that got a delta form at publish */
    uint64_t delta_sent[MT_COUNT];      /* delta envelopes written */
    uint64_t delta_bytes_saved;         /* whole envelope bytes - delta envelope bytes, over those */
    uint64_t kicked;                    /* closed through /admin/kick */
    /* the descriptor budget (fdbudget.h) */
    uint64_t fds_in_use, fds_limit, fds_reserve; /* gauges */
    uint64_t fd_refused;                /* answered 503 / WS close 1013 at the budget */
    uint64_t fd_dropped;                /* closed unanswered: the reserve was used up too */
    /* the event loop's thread (server.c): its passes, and its time in them
     * (idle = wall time - dispatch - flush; a thread near 100% busy is
     * the server's ceiling, whatever the CPU left on other cores) */
    uint64_t loop_dispatch_us;          /* from the wake-up to the end of the callbacks */
    uint64_t loop_flush_us;             /* the pass's direct writes (wflush.c) */
    uint64_t pass_buckets[METRICS_PASS_BUCKETS]; /* busy time of a pass, non-cumulative, last is +Inf */
    uint64_t pass_count;
    /* delivery latency (publish ts -> written), live events only */
    uint64_t lat_buckets[METRICS_LAT_BUCKETS]; /* non-cumulative, last is +Inf */
    uint64_t lat_count;
    double lat_sum_s;
} metrics;

/* Gauges computed when rendering (walked over the live connections). */
typedef struct metrics_gauges {
    uint64_t channels;
    uint64_t sendq_msgs, sendq_bytes, sendq_max_msgs;
    uint64_t subscriptions;
    int draining;
    /* the handshake deadline (handshake.h) */
    uint64_t hs_pending, hs_timeouts, hs_untracked;
    /* HTTP/1.1 hardening (http_conn.h) */
    uint64_t http_pipelined_refused, http_request_timeouts, http_stuck_closed;
    uint64_t http_bad_targets, http_unframed; /* rawtarget.c */
    uint64_t http_lingering, http_lingered, http_linger_cut; /* linger.h */
} metrics_gauges;

/* Records one live delivery latency in µs (negative: publisher clock ahead,
 * recorded as 0). */
/* One loop pass: its callbacks' time and its direct writes' time. */
void metrics_pass(metrics *m, uint64_t dispatch_us, uint64_t flush_us);
void metrics_latency(metrics *m, int64_t lat_us);

/* Renders everything as Prometheus text into a malloc'd NUL-terminated
 * buffer (*out, caller frees) of *len bytes. Returns 0 or -1 (out of memory). */
int metrics_render(const metrics *m, const metrics_gauges *g, char **out, size_t *len);

const char *metrics_transport_name(metrics_transport t);
const char *metrics_reject_name(metrics_reject r);

#endif
