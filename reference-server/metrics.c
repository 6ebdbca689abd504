/* metrics.c — Prometheus text exposition of the server's counters. */
#include "metrics.h"

#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>

static const char *const transport_names[MT_COUNT] = {"ws", "sse", "poll", "http"};
static const char *const reject_names[MR_COUNT] = {
    "bad_request", "too_large", "unauthorized", "forbidden", "rate_limited",
    "disabled", "overloaded", "not_found", "draining",
};
/* Upper bounds of the latency buckets, seconds (the last is +Inf). */
static const double lat_le_s[METRICS_LAT_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

const char *metrics_transport_name(metrics_transport t)
{
    return (unsigned)t < MT_COUNT ? transport_names[t] : "?";
}

const char *metrics_reject_name(metrics_reject r)
{
    return (unsigned)r < MR_COUNT ? reject_names[r] : "?";
}

/* Upper bounds of a loop pass's busy-time buckets, seconds (the last is
 * +Inf): a pass of 10 ms or more holds every event behind it that long. */
static const double pass_le_s[METRICS_PASS_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
};

/* The bucket of a histogram with these n - 1 upper bounds that holds s. */
static int bucket_of(const double *le, int n, double s)
{
    int i = 0;
    while (i < n - 1 && s > le[i])
        i++;
    return i;
}

void metrics_pass(metrics *m, uint64_t dispatch_us, uint64_t flush_us)
{
    m->pass_buckets[bucket_of(pass_le_s, METRICS_PASS_BUCKETS, (double)(dispatch_us + flush_us) / 1e6)]++;
    m->pass_count++;
    m->loop_dispatch_us += dispatch_us;
    m->loop_flush_us += flush_us;
}

void metrics_latency(metrics *m, int64_t lat_us)
{
    double s = lat_us > 0 ? (double)lat_us / 1e6 : 0.0;
    m->lat_buckets[bucket_of(lat_le_s, METRICS_LAT_BUCKETS, s)]++;
    m->lat_count++;
    m->lat_sum_s += s;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A histogram's lines: n buckets (non-cumulative counts, the last +Inf)
 * rendered cumulative with their upper bounds le, then _sum and _count. */
static void histogram(FILE *f, const char *name, const double *le, const uint64_t *buckets, int n, double sum,
                      uint64_t count)
{
    uint64_t cum = 0;
    for (int i = 0; i < n; i++) {
        cum += buckets[i];
        if (i < n - 1)
            fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], (unsigned long long)cum);
        else
            fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    fprintf(f, "%s_sum %.6f\n", name, sum);
    fprintf(f, "%s_count %llu\n", name, (unsigned long long)count);
}

static void by_transport(FILE *f, const char *name, const char *type, const char *help,
                         const uint64_t *v, int n)
{
    family(f, name, type, help);
    for (int t = 0; t < n; t++)
        fprintf(f, "%s{transport=\"%s\"} %llu\n", name, transport_names[t],
                (unsigned long long)v[t]);
}

int metrics_render(const metrics *m, const metrics_gauges *g, char **out, size_t *len)
{
    FILE *f = open_memstream(out, len);
    if (!f)
        return -1;
    by_transport(f, "rtchaos_connections", "gauge", "Open connections by transport.",
                 m->conns_open, MT_POLL + 1);
    by_transport(f, "rtchaos_connections_total", "counter", "Connections accepted by transport.",
                 m->conns_total, MT_POLL + 1);
    family(f, "rtchaos_messages_in_total", "counter",
           "Events published, by the transport they arrived on.");
    fprintf(f, "rtchaos_messages_in_total{transport=\"http\"} %llu\n",
            (unsigned long long)m->published[MT_HTTP]);
    fprintf(f, "rtchaos_messages_in_total{transport=\"ws\"} %llu\n",
            (unsigned long long)m->published[MT_WS]);
    family(f, "rtchaos_publish_duplicates_total", "counter",
           "Idempotent publish repeats answered with the original seq (not fanned out).");
    fprintf(f, "rtchaos_publish_duplicates_total %llu\n", (unsigned long long)m->publish_dups);
    family(f, "rtchaos_messages_out_total", "counter",
           "Event envelopes written to clients, live or replayed from history.");
    for (int t = 0; t <= MT_POLL; t++) {
        fprintf(f, "rtchaos_messages_out_total{transport=\"%s\",kind=\"live\"} %llu\n",
                transport_names[t], (unsigned long long)m->delivered_live[t]);
        fprintf(f, "rtchaos_messages_out_total{transport=\"%s\",kind=\"replay\"} %llu\n",
                transport_names[t], (unsigned long long)m->delivered_replay[t]);
    }
    family(f, "rtchaos_snapshots_sent_total", "counter", "Snapshot envelopes written.");
    fprintf(f, "rtchaos_snapshots_sent_total %llu\n", (unsigned long long)m->snapshots_sent);
    family(f, "rtchaos_gaps_sent_total", "counter", "Gap envelopes written.");
    fprintf(f, "rtchaos_gaps_sent_total %llu\n", (unsigned long long)m->gaps_sent);
    family(f, "rtchaos_resyncs_total", "counter",
           "Resumes (since/Last-Event-ID) answered from history or with a snapshot.");
    fprintf(f, "rtchaos_resyncs_total{result=\"recovered\"} %llu\n",
            (unsigned long long)m->resync_recovered);
    fprintf(f, "rtchaos_resyncs_total{result=\"snapshot\"} %llu\n",
            (unsigned long long)m->resync_snapshot);
    family(f, "rtchaos_backpressure_total", "counter",
           "Backpressure actions on full send queues, by policy.");
    fprintf(f, "rtchaos_backpressure_total{policy=\"drop\",action=\"event_dropped\"} %llu\n",
            (unsigned long long)m->bp_events[SENDQ_DROP]);
    fprintf(f, "rtchaos_backpressure_total{policy=\"coalesce\",action=\"event_coalesced\"} %llu\n",
            (unsigned long long)m->bp_events[SENDQ_COALESCE]);
    fprintf(f, "rtchaos_backpressure_total{policy=\"snapshot\",action=\"event_dropped\"} %llu\n",
            (unsigned long long)m->bp_events[SENDQ_SNAPSHOT]);
    fprintf(f, "rtchaos_backpressure_total{policy=\"snapshot\",action=\"snapshot_queued\"} %llu\n",
            (unsigned long long)m->bp_snapshots);
    fprintf(f, "rtchaos_backpressure_total{policy=\"disconnect\",action=\"disconnect\"} %llu\n",
            (unsigned long long)m->bp_disconnects);
    family(f, "rtchaos_rejections_total", "counter", "Rejected requests and messages by reason.");
    for (int r = 0; r < MR_COUNT; r++)
        fprintf(f, "rtchaos_rejections_total{reason=\"%s\"} %llu\n", reject_names[r],
                (unsigned long long)m->rejections[r]);
    by_transport(f, "rtchaos_idle_closes_total", "counter",
                 "Connections closed for idleness (no pong, or no write progress).",
                 m->idle_closes, MT_POLL + 1);
    family(f, "rtchaos_heartbeats_total", "counter", "SSE heartbeat comments written.");
    fprintf(f, "rtchaos_heartbeats_total %llu\n", (unsigned long long)m->heartbeats_sent);
    by_transport(f, "rtchaos_stream_writes_total", "counter",
                 "Socket writes that carried event envelopes (one write holds every frame queued when the "
                 "connection was writable; --batch-ms makes them fewer).",
                 m->stream_writes, MT_SSE + 1);
    family(f, "rtchaos_ws_direct_writes_total", "counter",
           "WebSocket writes of live events made at the end of the loop pass that queued them, without "
           "a writable round trip through the event loop (--ws-write-direct); part of "
           "rtchaos_stream_writes_total{transport=\"ws\"}.");
    fprintf(f, "rtchaos_ws_direct_writes_total %llu\n", (unsigned long long)m->ws_direct_writes);
    family(f, "rtchaos_ws_send_split_passes_total", "counter",
           "Event-loop passes whose direct writes the sender threads could help send (--send-threads; "
           "a pass with fewer than 32 writes is sent by the loop's thread alone).");
    fprintf(f, "rtchaos_ws_send_split_passes_total %llu\n", (unsigned long long)m->ws_send_split_passes);
    family(f, "rtchaos_ws_sender_writes_total", "counter",
           "Direct writes a sender thread sent (--send-threads), not the event loop's thread.");
    fprintf(f, "rtchaos_ws_sender_writes_total %llu\n", (unsigned long long)m->ws_sender_writes);
    family(f, "rtchaos_ws_batch_messages_total", "counter",
           "WebSocket batch messages written (a JSON array of several envelopes; clients that asked, --batch-ms).");
    fprintf(f, "rtchaos_ws_batch_messages_total %llu\n", (unsigned long long)m->ws_batch_msgs);
    family(f, "rtchaos_ws_batch_events_total", "counter",
           "Event envelopes carried in WebSocket batch messages (events per message = this / messages).");
    fprintf(f, "rtchaos_ws_batch_events_total %llu\n", (unsigned long long)m->ws_batch_events);
    family(f, "rtchaos_delta_events_total", "counter",
           "Published events given a merge-patch delta form (--delta-channels).");
    fprintf(f, "rtchaos_delta_events_total %llu\n", (unsigned long long)m->delta_events_made);
    by_transport(f, "rtchaos_delta_sent_total", "counter",
                 "Delta envelopes written instead of the whole event.", m->delta_sent, MT_SSE + 1);
    family(f, "rtchaos_delta_bytes_saved_total", "counter",
           "Envelope bytes not written because a delta replaced the whole event.");
    fprintf(f, "rtchaos_delta_bytes_saved_total %llu\n", (unsigned long long)m->delta_bytes_saved);
    /* the standard process metric, for CPU per delivery (the cost suite) */
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        family(f, "process_cpu_seconds_total", "counter", "User and system CPU time spent, seconds.");
        fprintf(f, "process_cpu_seconds_total %.6f\n",
                (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    }
    family(f, "rtchaos_kicked_total", "counter", "Connections closed through /admin/kick.");
    fprintf(f, "rtchaos_kicked_total %llu\n", (unsigned long long)m->kicked);
    family(f, "rtchaos_fds_in_use", "gauge", "File descriptors held: connections and the server's own.");
    fprintf(f, "rtchaos_fds_in_use %llu\n", (unsigned long long)m->fds_in_use);
    family(f, "rtchaos_fds_limit", "gauge", "RLIMIT_NOFILE in force (soft, raised to the hard limit at start).");
    fprintf(f, "rtchaos_fds_limit %llu\n", (unsigned long long)m->fds_limit);
    family(f, "rtchaos_fds_reserve", "gauge",
           "Descriptors kept free below the limit; past limit - reserve new connections are refused.");
    fprintf(f, "rtchaos_fds_reserve %llu\n", (unsigned long long)m->fds_reserve);
    family(f, "rtchaos_fd_refusals_total", "counter",
           "Connections refused at the descriptor budget: answered (HTTP 503 + Retry-After, WebSocket "
           "close 1013) or closed unanswered when the reserve was used up too.");
    fprintf(f, "rtchaos_fd_refusals_total{how=\"answered\"} %llu\n", (unsigned long long)m->fd_refused);
    fprintf(f, "rtchaos_fd_refusals_total{how=\"closed\"} %llu\n", (unsigned long long)m->fd_dropped);

    family(f, "rtchaos_delivery_latency_seconds", "histogram",
           "Publish ts to written, live events (publisher and server clocks).");
    histogram(f, "rtchaos_delivery_latency_seconds", lat_le_s, m->lat_buckets, METRICS_LAT_BUCKETS, m->lat_sum_s,
              m->lat_count);

    family(f, "rtchaos_loop_busy_seconds_total", "counter",
           "The event loop thread's time in its passes: dispatch (callbacks: requests, frames read, "
           "fan-out, timers) and flush (the pass's WebSocket writes); the rest of the wall time it waited.");
    fprintf(f, "rtchaos_loop_busy_seconds_total{phase=\"dispatch\"} %.6f\n", (double)m->loop_dispatch_us / 1e6);
    fprintf(f, "rtchaos_loop_busy_seconds_total{phase=\"flush\"} %.6f\n", (double)m->loop_flush_us / 1e6);
    family(f, "rtchaos_loop_pass_seconds", "histogram",
           "Busy time of one event loop pass (dispatch + flush): what an event waits behind at most.");
    histogram(f, "rtchaos_loop_pass_seconds", pass_le_s, m->pass_buckets, METRICS_PASS_BUCKETS,
              (double)(m->loop_dispatch_us + m->loop_flush_us) / 1e6, m->pass_count);

    family(f, "rtchaos_channels", "gauge", "Channels known to the server.");
    fprintf(f, "rtchaos_channels %llu\n", (unsigned long long)g->channels);
    family(f, "rtchaos_subscriptions", "gauge", "Open stream subscriptions.");
    fprintf(f, "rtchaos_subscriptions %llu\n", (unsigned long long)g->subscriptions);
    family(f, "rtchaos_sendq_messages", "gauge", "Messages queued over all connections.");
    fprintf(f, "rtchaos_sendq_messages %llu\n", (unsigned long long)g->sendq_msgs);
    family(f, "rtchaos_sendq_bytes", "gauge", "Bytes queued over all connections.");
    fprintf(f, "rtchaos_sendq_bytes %llu\n", (unsigned long long)g->sendq_bytes);
    family(f, "rtchaos_sendq_max_messages", "gauge", "Deepest connection send queue, messages.");
    fprintf(f, "rtchaos_sendq_max_messages %llu\n", (unsigned long long)g->sendq_max_msgs);
    family(f, "rtchaos_draining", "gauge", "1 while the server drains after SIGTERM.");
    fprintf(f, "rtchaos_draining %d\n", g->draining);
    family(f, "rtchaos_handshake_timeouts_total", "counter",
           "Connections cut because their request head was not complete in --handshake-timeout-ms.");
    fprintf(f, "rtchaos_handshake_timeouts_total %llu\n", (unsigned long long)g->hs_timeouts);
    family(f, "rtchaos_handshakes_pending", "gauge", "Accepted connections whose request head is awaited.");
    fprintf(f, "rtchaos_handshakes_pending %llu\n", (unsigned long long)g->hs_pending);
    family(f, "rtchaos_handshakes_untracked_total", "counter",
           "Connections accepted while the handshake table was full (left to libwebsockets' own bound).");
    fprintf(f, "rtchaos_handshakes_untracked_total %llu\n", (unsigned long long)g->hs_untracked);
    family(f, "rtchaos_http_pipelined_refused_total", "counter",
           "Requests with a body pipelined behind another request: answered 400 and the connection closed.");
    fprintf(f, "rtchaos_http_pipelined_refused_total %llu\n", (unsigned long long)g->http_pipelined_refused);
    family(f, "rtchaos_http_bad_targets_total", "counter",
           "Connections condemned for a request path with an encoded separator or a dot segment: 400 and closed.");
    fprintf(f, "rtchaos_http_bad_targets_total %llu\n", (unsigned long long)g->http_bad_targets);
    family(f, "rtchaos_http_unframed_total", "counter",
           "Connections condemned for a request stream that could not be framed as HTTP/1.1: 400 and closed.");
    fprintf(f, "rtchaos_http_unframed_total %llu\n", (unsigned long long)g->http_unframed);
    family(f, "rtchaos_http_request_timeouts_total", "counter",
           "Connections cut because a later keep-alive request or a request body was not whole in --handshake-timeout-ms.");
    fprintf(f, "rtchaos_http_request_timeouts_total %llu\n", (unsigned long long)g->http_request_timeouts);
    family(f, "rtchaos_http_stuck_streams_closed_total", "counter",
           "SSE / long-poll connections closed because the client sent bytes behind the request head.");
    fprintf(f, "rtchaos_http_stuck_streams_closed_total %llu\n", (unsigned long long)g->http_stuck_closed);
    family(f, "rtchaos_http_lingering_closes", "gauge",
           "Connections answered before their body was read, now discarding the rest before closing.");
    fprintf(f, "rtchaos_http_lingering_closes %llu\n", (unsigned long long)g->http_lingering);
    family(f, "rtchaos_http_lingering_closes_total", "counter",
           "Connections closed by lingering (write side shut, input discarded) after an early answer.");
    fprintf(f, "rtchaos_http_lingering_closes_total %llu\n", (unsigned long long)g->http_lingered);
    family(f, "rtchaos_http_lingering_cut_total", "counter",
           "Lingering connections closed by the time or byte bound rather than by the client's EOF.");
    fprintf(f, "rtchaos_http_lingering_cut_total %llu\n", (unsigned long long)g->http_linger_cut);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
