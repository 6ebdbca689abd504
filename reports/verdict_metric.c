/* verdict_metric.c — the one table of budget metrics, their values read
 * from report.json, and the judging of one verdict (verdict_metric.h). */
#include "verdict_metric.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAT(kind, stat, doc)                                                                  \
    {"p" #stat "_" #kind "_ms", "latency_us." #kind ".p" #stat, NULL, 0.001, doc,            \
     "latency_us." #kind ".count"},                                                           \
    {#kind "_p" #stat "_ms", "latency_us." #kind ".p" #stat, NULL, 0.001, doc,                \
     "latency_us." #kind ".count"}
#define LATMAX(kind, doc)                                                                     \
    {"max_" #kind "_ms", "latency_us." #kind ".max", NULL, 0.001, doc,                        \
     "latency_us." #kind ".count"},                                                           \
    {#kind "_max_ms", "latency_us." #kind ".max", NULL, 0.001, doc, "latency_us." #kind ".count"}
#define LATKIND(kind, doc)                                                                    \
    LAT(kind, 50, doc), LAT(kind, 95, doc), LAT(kind, 99, doc), LAT(kind, 999, doc), LATMAX(kind, doc)
#define TOTAL(name, doc) {#name, "totals." #name, NULL, 1.0, doc}
/* A correctness count ("lost == 0") over a run that checked no event is no
 * measurement: nothing published, or no client ever subscribed, would pass
 * it (a target that answers every request 404 did). */
#define CHECKED(name, doc) {#name, "totals." #name, NULL, 1.0, doc, "totals.expected", 1}
/* The attackers' outcomes (report.json "attacks" for the whole run, or a
 * group's "attack"): base is the path of that object, with its dot. */
#define ATTACK_METRICS(base)                                                                \
    {"attack_attempts", base "attempts", NULL, 1.0, "abusive attempts settled (attackers)"},   \
    {"attack_rejected", base "rejected", NULL, 1.0, "attempts refused with an expected code"}, \
    {"attack_unexpected", base "unexpected", NULL, 1.0, "attempts answered with another code"},\
    {"attack_not_rejected", base "not_rejected", NULL, 1.0,                                   \
     "attempts the server let be for the attack's patience"},                                  \
    {"attack_in_flight", base "in_flight", NULL, 1.0, "attempts unsettled when the run ended"},\
    {"attack_connect_failed", base "connect_failed", NULL, 1.0, "attackers' failed connects"}, \
    {"attack_sent", base "sent", NULL, 1.0, "flood messages / oversized or trickled bytes sent"},\
    {"attack_accepted", base "accepted", NULL, 1.0,                                           \
     "flood messages the server answered before refusing"},                                    \
    {"attack_accepted_per_attempt", base "accepted", base "attempts", 1.0,                     \
     "flood messages the server answered per attempt before refusing"},                        \
    {"attack_rejected_ratio", base "rejected", base "attempts", 1.0,                           \
     "rejected / attempts (0..1): every abusive attempt refused as documented"},               \
    {"attack_cut_p50_ms", base "cut_us.p50", NULL, 0.001, "connected → the server's refusal, ms", base "cut_us.count"}, \
    {"attack_cut_p95_ms", base "cut_us.p95", NULL, 0.001, "connected → the server's refusal, ms", base "cut_us.count"}, \
    {"attack_cut_p99_ms", base "cut_us.p99", NULL, 0.001, "connected → the server's refusal, ms", base "cut_us.count"}, \
    {"attack_cut_max_ms", base "cut_us.max", NULL, 0.001, "connected → the server's refusal, ms", base "cut_us.count"}

static const verdict_metric metrics[] = {
    LATKIND(live, "live delivery latency (publish schedule → receive), ms"),
    LATKIND(replay, "replayed (catch-up) event latency, ms"),
    LATKIND(connect, "connect time (TCP connect → subscribed), ms"),
    LATKIND(resync, "resync time (reconnect → caught up with head), ms"),
    LATKIND(reconnect, "reconnect time (connection lost → subscribed again), ms"),
    LATKIND(live_outside_faults, "live latency in the seconds outside every fault window (+0.5 s grace), ms"),
    LATKIND(live_during_faults, "live latency in the seconds a fault window (+0.5 s grace) overlaps, ms"),
    TOTAL(clients, "clients started"),
    TOTAL(published, "events acknowledged by the server"),
    TOTAL(delivered, "events received (live and replayed, first copies)"),
    TOTAL(expected, "events the clients were accountable for"),
    CHECKED(lost, "events never received nor covered by a snapshot or gap"),
    CHECKED(duplicated, "events received twice (a seq again, or the same published event under a later seq)"),
    CHECKED(reordered, "events received out of order without a re-subscribe"),
    TOTAL(resync_ok, "reconnects that resumed correctly"),
    CHECKED(resync_failed, "reconnects whose resume was wrong"),
    TOTAL(snapshots, "snapshots received"),
    TOTAL(gaps, "gaps declared by the server"),
    TOTAL(reconnects, "reconnects"),
    TOTAL(errors, "error replies and failed connects"),
    TOTAL(epoch_changed, "stream resets detected"),
    CHECKED(delta_mismatch, "delta events whose rebuilt value differs from what was published (or had no base)"),
    CHECKED(corrupted, "events whose payload is not the string payload published on their channel (fleet/payload.h)"),
    CHECKED(misrouted, "events delivered to a client on a channel it did not subscribe to (another channel's or tenant's)"),
    CHECKED(ts_altered, "events whose ts is not the publisher's (contract v1 passes it through; string payloads)"),
    TOTAL(fallbacks, "transport switches (WebSocket → SSE → poll)"),
    TOTAL(resync_signalled, "resumes the server refused and said so (Socket.IO: a new session); not counted as lost"),
    TOTAL(missed_by_design, "events published while a client was away, on a protocol that promises no resume; not lost"),
    {"delivered_ratio", "totals.delivered", "totals.expected", 1.0,
     "delivered / expected (0..1)"},
    {"rx_bytes_per_event", "totals.bytes_rx", "totals.delivered", 1.0,
     "bytes the subscribers received per delivered event (framing, heartbeats, handshakes included)"},
    {"tx_bytes_per_event", "totals.bytes_tx", "totals.delivered", 1.0,
     "bytes the subscribers sent per delivered event (requests, subscribes, pongs)"},
    {"rx_bytes_per_client_min", "totals.bytes_rx", "totals.client_open_ms", 60000.0,
     "bytes received per client per minute connected (with publishing off: the idle/heartbeat cost)"},
    {"server_idle_close_s", "network.server_idle_close_s", NULL, 1.0,
     "network namespaces: the longest a partition left the server holding the connections it cut, s"},
    {"server_retrans_pct", "network.tcp.server.retrans_pct", NULL, 1.0,
     "network namespaces: segments the server side retransmitted, % of those it sent"},
    {"client_retrans_pct", "network.tcp.client.retrans_pct", NULL, 1.0,
     "network namespaces: segments the clients retransmitted, % of those they sent"},
    {"server_loop_busy_mean", "server.loop_busy_mean", NULL, 1.0,
     "rtchaos-server targets: its event loop thread's busy share after the warm-up (0..1; "
     "rtchaos_loop_busy_seconds_total): headroom left at this load"},
    {"server_loop_busy_peak", "server.loop_busy_peak", NULL, 1.0,
     "the same, in the busiest scrape interval (0..1)"},
    {"broker_lag_p50_ms", "nodes.broker_lag_us.p50", NULL, 0.001,
     "server: {nodes: N}: publish accepted by Redis → event received by a node (the nodes' histograms summed; "
     "bucket upper bound), ms", "nodes.broker_lag_us.count"},
    {"broker_lag_p95_ms", "nodes.broker_lag_us.p95", NULL, 0.001, "the same, p95, ms", "nodes.broker_lag_us.count"},
    {"broker_lag_p99_ms", "nodes.broker_lag_us.p99", NULL, 0.001, "the same, p99, ms", "nodes.broker_lag_us.count"},
    ATTACK_METRICS("attacks."),
};

#define GLAT(stat)                                                                            \
    {"p" #stat "_live_ms", "live_p" #stat "_us", NULL, 0.001, "the group's live latency, ms", "live"}, \
    {"live_p" #stat "_ms", "live_p" #stat "_us", NULL, 0.001, "the group's live latency, ms", "live"}
#define GTOTAL(name) {#name, #name, NULL, 1.0, "the group's " #name}
/* a group's correctness count over a group that received nothing: no
 * measurement (groups carry no expected count of their own) */
#define GCHECKED(name) {#name, #name, NULL, 1.0, "the group's " #name, "delivered", 1}

static const verdict_metric group_metrics[] = {
    GLAT(50), GLAT(95), GLAT(99),
    GTOTAL(clients), GTOTAL(delivered), GCHECKED(lost), GCHECKED(duplicated), GCHECKED(reordered),
    GTOTAL(resync_ok), GCHECKED(resync_failed), GTOTAL(epoch_changed), GCHECKED(delta_mismatch), GCHECKED(corrupted), GCHECKED(misrouted), GCHECKED(ts_altered), GTOTAL(fallbacks), GTOTAL(resync_signalled),
    GTOTAL(missed_by_design),
    ATTACK_METRICS("attack."),
};

const verdict_metric *verdict_group_metrics(size_t *n)
{
    *n = sizeof group_metrics / sizeof *group_metrics;
    return group_metrics;
}

const verdict_metric *verdict_group_metric_find(const char *name)
{
    for (size_t i = 0; i < sizeof group_metrics / sizeof *group_metrics; i++)
        if (!strcmp(group_metrics[i].name, name))
            return &group_metrics[i];
    return NULL;
}

const verdict_metric *verdict_resolve(const char *name, char *group, size_t groupcap)
{
    const char *dot = strrchr(name, '.');
    if (!dot) {
        if (groupcap)
            group[0] = '\0';
        return verdict_metric_find(name);
    }
    size_t gl = (size_t)(dot - name);
    if (gl == 0 || gl >= groupcap)
        return NULL;
    memcpy(group, name, gl);
    group[gl] = '\0';
    return verdict_group_metric_find(dot + 1);
}

static int metric_value_at(const verdict_metric *m, const json_t *root, const char *prefix, double *out,
                           char *err, size_t errlen);

int verdict_group_metric_value(const verdict_metric *m, const char *group, const json_t *report, double *out,
                               char *err, size_t errlen)
{
    const json_t *g = json_object_get(json_object_get(report, "groups"), group);
    if (!g) {
        snprintf(err, errlen, "not measured (report.json has no groups.%s)", group);
        return -1;
    }
    char prefix[160];
    snprintf(prefix, sizeof prefix, "groups.%s.", group);
    return metric_value_at(m, g, prefix, out, err, errlen);
}

const verdict_metric *verdict_metrics(size_t *n)
{
    *n = sizeof metrics / sizeof *metrics;
    return metrics;
}

const verdict_metric *verdict_metric_find(const char *name)
{
    for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++)
        if (!strcmp(metrics[i].name, name))
            return &metrics[i];
    return NULL;
}

/* Follows a dotted path through objects. */
static const json_t *lookup(const json_t *root, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = root;
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save))
        cur = json_is_object(cur) ? json_object_get(cur, seg) : NULL;
    return cur;
}

/* The number at path below root; prefix names root in messages. */
static int number_at(const json_t *root, const char *prefix, const char *path, double *out, char *err,
                     size_t errlen)
{
    const json_t *v = lookup(root, path);
    if (!v) {
        snprintf(err, errlen, "not measured (report.json has no %s%s)", prefix, path);
        return -1;
    }
    if (!json_is_number(v)) {
        snprintf(err, errlen, "report.json's %s%s is not a number", prefix, path);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

static int metric_value_at(const verdict_metric *m, const json_t *root, const char *prefix, double *out,
                           char *err, size_t errlen)
{
    double num, den, count;
    if (number_at(root, prefix, m->path, &num, err, errlen) < 0)
        return -1;
    if (m->count_path) {
        /* A latency figure of an empty histogram is no measurement: the
         * summary says 0, which would pass every upper bound. Nor is a
         * correctness count of 0 over no event checked (a group's lost
         * events with nothing delivered are a measurement, and judged). */
        if (number_at(root, prefix, m->count_path, &count, err, errlen) < 0)
            return -1;
        if (count <= 0 && (!m->correctness || num == 0)) {
            snprintf(err, errlen, "not measured (%s%s is 0: %s)", prefix, m->count_path,
                     m->correctness ? "no event was checked" : "no samples");
            return -1;
        }
    }
    if (!m->denom_path) {
        *out = num * m->scale;
        return 0;
    }
    if (number_at(root, prefix, m->denom_path, &den, err, errlen) < 0)
        return -1;
    if (den <= 0) {
        snprintf(err, errlen, "undefined: %s%s is 0 (nothing was expected, so nothing was checked)", prefix,
                 m->denom_path);
        return -1;
    }
    *out = num / den * m->scale;
    return 0;
}

int verdict_metric_value(const verdict_metric *m, const json_t *report, double *out, char *err,
                         size_t errlen)
{
    return metric_value_at(m, report, "", out, err, errlen);
}


int verdict_op_holds(const char *op, double value, double budget, int *holds)
{
    if (!strcmp(op, "<="))
        *holds = value <= budget;
    else if (!strcmp(op, "<"))
        *holds = value < budget;
    else if (!strcmp(op, ">="))
        *holds = value >= budget;
    else if (!strcmp(op, ">"))
        *holds = value > budget;
    else if (!strcmp(op, "=="))
        *holds = value == budget;
    else if (!strcmp(op, "!="))
        *holds = value != budget;
    else
        return -1;
    return 0;
}

int verdict_value(const char *name, const json_t *report, double *out, char *err, size_t errlen)
{
    char group[128];
    const verdict_metric *m = verdict_resolve(name, group, sizeof group);
    if (!m) {
        snprintf(err, errlen, "unknown metric");
        return -1;
    }
    return group[0] ? verdict_group_metric_value(m, group, report, out, err, errlen)
                    : verdict_metric_value(m, report, out, err, errlen);
}

#define VERDICT_LOOP_SATURATED 0.9 /* server.loop_busy_peak from which a failed latency says so */

/* A latency budget that failed while the harness's own loops stalled
 * (totals.harness_stalls: a client-loop or publisher timer > 50 ms late)
 * may be measuring the harness, not the server: the verdict stays failed
 * (nothing is passed on a doubt) but says so in "note", so a loaded CI
 * runner is not silently blamed on the server. */
static void latency_note(json_t *v, const char *name, int holds, const json_t *report)
{
    char group[128];
    const verdict_metric *m = verdict_resolve(name, group, sizeof group);
    if (holds || !m || !m->count_path || m->correctness)
        return; /* not a latency metric */
    const json_t *tot = json_object_get(report, "totals");
    json_int_t n = json_integer_value(json_object_get(tot, "harness_stalls"));
    /* and the other side: an rtchaos-server whose event loop was busy
     * nearly all of some scrape interval (server.loop_busy_peak) was at its
     * own ceiling, which explains the latency without any doubt */
    double busy = json_number_value(json_object_get(json_object_get(report, "server"), "loop_busy_peak"));
    char note[400];
    int k = 0;
    if (n > 0)
        k = snprintf(note, sizeof note,
                     "the harness itself stalled %lld time%s (worst %.0f ms): this latency may be the harness's, "
                     "not the server's",
                     (long long)n, n == 1 ? "" : "s",
                     (double)json_integer_value(json_object_get(tot, "harness_stall_max_us")) / 1000.0);
    if (busy >= VERDICT_LOOP_SATURATED)
        k += snprintf(note + k, sizeof note - (size_t)k,
                      "%sthe server's event loop was %.0f%% busy in its busiest scrape interval: the server was at "
                      "its own ceiling",
                      k ? "; " : "", busy * 100);
    if (k > 0)
        json_object_set_new(v, "note", json_string(note));
}

json_t *verdict_judge(const char *name, const char *op, double budget, const char *text, const json_t *report)
{
    json_t *v = json_object();
    if (!v)
        return NULL;
    json_object_set_new(v, "name", json_string(name));
    json_object_set_new(v, "op", json_string(op));
    json_object_set_new(v, "budget", json_real(budget));
    char err[256];
    double val;
    int holds = 0;
    if (verdict_value(name, report, &val, err, sizeof err) < 0) {
        json_object_set_new(v, "value", json_null());
        json_object_set_new(v, "pass", json_false());
        json_object_set_new(v, "error", json_string(err));
    } else {
        /* Three decimals are what people read; compare on the same rounded
         * value so the report never shows 50.000 failing <= 50. */
        double shown = round(val * 1000.0) / 1000.0;
        json_object_set_new(v, "value", json_real(shown));
        if (verdict_op_holds(op, shown, budget, &holds) < 0) {
            holds = 0;
            json_object_set_new(v, "error", json_string("unknown operator"));
        }
        json_object_set_new(v, "pass", json_boolean(holds));
        latency_note(v, name, holds, report);
    }
    json_object_set_new(v, "text", json_string(text ? text : name));
    return v;
}
