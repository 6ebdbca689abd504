/* live_metrics.c — the harness's Prometheus endpoint: renders the fleet's live figures, serves them from its own thread. */
#include "live_metrics.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "scenario.h"

/* ---- rendering ----------------------------------------------------------------- */

/* A label value with \, " and newline escaped as the text format wants. */
static void label(FILE *o, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', o), fputc(*v, o);
        else if (*v == '\n')
            fputs("\\n", o);
        else
            fputc(*v, o);
    }
}

static void head(FILE *o, const char *name, const char *type, const char *help)
{
    fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *o, const char *name, const char *type, const char *help, double v)
{
    head(o, name, type, help);
    fprintf(o, "%s %.17g\n", name, v);
}

/* name{group="g"} v for every group. */
static void per_group(FILE *o, const fleet_live *fl, const char *name, const char *type, const char *help,
                      size_t off)
{
    head(o, name, type, help);
    for (size_t g = 0; g < fl->n_groups; g++) {
        uint64_t v;
        memcpy(&v, (const char *)&fl->g[g] + off, sizeof v);
        fprintf(o, "%s{group=\"", name);
        label(o, fl->group_names[g]);
        fprintf(o, "\"} %llu\n", (unsigned long long)v);
    }
}

int livem_render(const fleet_live *fl, const livem_info *info, const int *active, int exit_code, char **out,
                 size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *o = open_memstream(&buf, &n);
    if (!o)
        return -1;

    head(o, "rtchaos_harness_info", "gauge", "The run this endpoint belongs to (value always 1).");
    fputs("rtchaos_harness_info{scenario=\"", o);
    label(o, info->scenario ? info->scenario : "");
    fputs("\",target=\"", o);
    label(o, info->target ? info->target : "");
    fprintf(o, "\",seed=\"%llu\"} 1\n", (unsigned long long)info->seed);
    one(o, "rtchaos_harness_elapsed_seconds", "gauge", "Seconds since the fleet started.", fl->elapsed_s);
    one(o, "rtchaos_harness_publishing", "gauge", "1 while the publisher's schedule runs.", fl->publishing);
    one(o, "rtchaos_harness_finished", "gauge", "1 once the fleet stopped: every figure is final.", fl->stopped);
    if (exit_code >= 0)
        one(o, "rtchaos_harness_exit_code", "gauge",
            "The run's exit code (0 pass, 1 a verdict failed, 3 the run broke), once the report is written.",
            exit_code);

    head(o, "rtchaos_harness_clients", "gauge", "Clients of each group in this fleet (configured).");
    for (size_t g = 0; g < fl->n_groups; g++) {
        fputs("rtchaos_harness_clients{group=\"", o);
        label(o, fl->group_names[g]);
        fprintf(o, "\"} %llu\n", (unsigned long long)fl->group_clients[g]);
    }
    head(o, "rtchaos_harness_clients_connected", "gauge", "Clients subscribed now, by group and transport in use.");
    for (size_t g = 0; g < fl->n_groups; g++)
        for (int t = 0; t < FLEET_TRANSPORTS; t++) {
            fputs("rtchaos_harness_clients_connected{group=\"", o);
            label(o, fl->group_names[g]);
            fprintf(o, "\",transport=\"%s\"} %llu\n", fleet_transport_name((fleet_transport)t),
                    (unsigned long long)fl->g[g].connected[t]);
        }
    head(o, "rtchaos_harness_deliveries_total", "counter",
         "Distinct events received and checked, by group; kind=live (measured latency) or replay (catch-up).");
    for (size_t g = 0; g < fl->n_groups; g++) {
        const fleet_live_group *s = &fl->g[g];
        for (int k = 0; k < 2; k++) {
            fputs("rtchaos_harness_deliveries_total{group=\"", o);
            label(o, fl->group_names[g]);
            fprintf(o, "\",kind=\"%s\"} %llu\n", k ? "replay" : "live",
                    (unsigned long long)(k ? s->delivered - s->live : s->live));
        }
    }

    head(o, "rtchaos_harness_live_latency_seconds", "histogram",
         "Live delivery latency: receive time minus the event's scheduled publish time (bounds within ~3 %).");
    for (int k = 0; k < FLEET_LAT_BOUNDS; k++)
        fprintf(o, "rtchaos_harness_live_latency_seconds_bucket{le=\"%g\"} %llu\n", fleet_lat_bounds_us[k] / 1e6,
                (unsigned long long)fl->lat_le[k]);
    fprintf(o, "rtchaos_harness_live_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)fl->lat_count);
    fprintf(o, "rtchaos_harness_live_latency_seconds_sum %.6f\n", fl->lat_sum_us / 1e6);
    fprintf(o, "rtchaos_harness_live_latency_seconds_count %llu\n", (unsigned long long)fl->lat_count);

    head(o, "rtchaos_harness_anomalies_total", "counter",
         "Checker anomalies by group and kind; lost is settled at the end of the run (see missing_events).");
    for (size_t g = 0; g < fl->n_groups; g++)
        for (unsigned k = 0; k < FLEET_ANOMALY_KINDS; k++) {
            fputs("rtchaos_harness_anomalies_total{group=\"", o);
            label(o, fl->group_names[g]);
            fprintf(o, "\",kind=\"%s\"} %llu\n", fleet_anomaly_kind_name(k), (unsigned long long)fl->g[g].anomalies[k]);
        }
    one(o, "rtchaos_harness_missing_events", "gauge",
        "Sequence holes seen and not (yet) filled by a replay, snapshot or gap: lost so far.", (double)fl->missing_now);
    per_group(o, fl, "rtchaos_harness_reconnects_total", "counter",
              "Open connections lost (or cut by a storm) after which the client reconnects.",
              offsetof(fleet_live_group, reconnects));
    head(o, "rtchaos_harness_resyncs_total", "counter",
         "Resumes after a reconnect: ok (next event was since+1 or a snapshot) or failed.");
    for (size_t g = 0; g < fl->n_groups; g++)
        for (int k = 0; k < 2; k++) {
            fputs("rtchaos_harness_resyncs_total{group=\"", o);
            label(o, fl->group_names[g]);
            fprintf(o, "\",result=\"%s\"} %llu\n", k ? "failed" : "ok",
                    (unsigned long long)(k ? fl->g[g].anomalies[3] : fl->g[g].resync_ok));
        }
    per_group(o, fl, "rtchaos_harness_fallbacks_total", "counter", "Transport fallbacks (refused transport).",
              offsetof(fleet_live_group, fallbacks));
    one(o, "rtchaos_harness_snapshots_total", "counter", "Snapshot envelopes received.", (double)fl->snapshots);
    one(o, "rtchaos_harness_gaps_total", "counter", "Gap envelopes received (events dropped on purpose).",
        (double)fl->gaps);
    one(o, "rtchaos_harness_client_errors_total", "counter", "Client connection errors (all reasons).",
        (double)fl->errors);
    one(o, "rtchaos_harness_connect_failures_total", "counter", "Connect attempts that failed.",
        (double)fl->connects_failed);
    one(o, "rtchaos_harness_gave_up_total", "counter", "Clients that stopped reconnecting (max_attempts).",
        (double)fl->gave_up);

    head(o, "rtchaos_harness_publish_events_total", "counter",
         "Events the publisher sent, by outcome: acked (the server assigned a seq) or failed (given up on).");
    fprintf(o, "rtchaos_harness_publish_events_total{outcome=\"acked\"} %llu\n", (unsigned long long)fl->pub_acked);
    fprintf(o, "rtchaos_harness_publish_events_total{outcome=\"failed\"} %llu\n", (unsigned long long)fl->pub_failed);
    one(o, "rtchaos_harness_publish_retries_total", "counter", "Publish requests resent (same idempotency id).",
        (double)fl->pub_retries);
    one(o, "rtchaos_harness_publish_errors_total", "counter", "Publish requests that failed (status, reset, timeout).",
        (double)fl->pub_errors);

    head(o, "rtchaos_harness_wire_bytes_total", "counter",
         "Bytes read (rx) and written (tx) on subscriber sockets by transport: handshakes, framing, heartbeats included.");
    for (int t = 0; t < FLEET_TRANSPORTS; t++)
        for (int d = 0; d < 2; d++)
            fprintf(o, "rtchaos_harness_wire_bytes_total{direction=\"%s\",transport=\"%s\"} %llu\n", d ? "tx" : "rx",
                    fleet_transport_name((fleet_transport)t),
                    (unsigned long long)(d ? fl->tx_bytes[t] : fl->rx_bytes[t]));
    head(o, "rtchaos_harness_fault_active", "gauge", "1 while the scenario's fault is applied, by fault name and kind.");
    for (size_t i = 0; i < info->n_faults; i++) {
        fputs("rtchaos_harness_fault_active{fault=\"", o);
        label(o, info->fault_names[i]);
        fputs("\",kind=\"", o);
        label(o, info->fault_kinds[i]);
        fprintf(o, "\"} %d\n", active ? __atomic_load_n(&active[i], __ATOMIC_RELAXED) != 0 : 0);
    }
    one(o, "rtchaos_harness_stalls_total", "counter",
        "Fleet event-loop ticks late by more than 50 ms (the harness, not the server, was slow).", (double)fl->stalls);
    one(o, "rtchaos_harness_stall_max_seconds", "gauge", "The longest harness stall so far.", fl->stall_max_us / 1e6);

    if (fclose(o) != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- serving -------------------------------------------------------------------- */

struct livem {
    fleet *f;
    livem_info info;
    char *scenario, *target;
    char **fault_names, **fault_kinds;
    int *active;               /* [n_faults], atomic */
    int exit_code;             /* atomic; -1 until known */
    struct event_base *base;
    struct evhttp *http;
    pthread_t th;
    int running;
};

static void on_metrics(struct evhttp_request *req, void *arg)
{
    livem *m = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
        evhttp_send_error(req, 405, "only GET");
        return;
    }
    fleet_live *fl = malloc(sizeof *fl);
    char *text = NULL;
    size_t len = 0;
    if (!fl) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    fleet_live_get(m->f, fl);
    int rc = livem_render(fl, &m->info, m->active, __atomic_load_n(&m->exit_code, __ATOMIC_RELAXED), &text, &len);
    free(fl);
    if (rc < 0) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        free(text);
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evbuffer_add(b, text, len);
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    if (uri && strcmp(uri, "/") == 0) {
        struct evbuffer *b = evbuffer_new();
        if (b) {
            evbuffer_add_printf(b, "rtchaos harness: metrics at /metrics\n");
            evhttp_send_reply(req, 200, "OK", b);
            evbuffer_free(b);
            return;
        }
    }
    evhttp_send_error(req, 404, "not found (try /metrics)");
}

static void *serve_main(void *arg)
{
    livem *m = arg;
    event_base_dispatch(m->base);
    return NULL;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

livem *livem_start(const char *addr, fleet *f, const livem_info *info, char *bound, size_t boundcap, char *err,
                   size_t errlen)
{
    char host[256];
    uint16_t port;
    if (scenario_parse_hostport(addr, host, sizeof host, &port, err, errlen) < 0)
        return NULL;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))evthread_use_pthreads);
    livem *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->f = f;
    m->exit_code = -1;
    m->info = *info;
    m->scenario = dup_or_empty(info->scenario);
    m->target = dup_or_empty(info->target);
    m->info.scenario = m->scenario;
    m->info.target = m->target;
    size_t nf = info->n_faults;
    m->fault_names = calloc(nf + 1, sizeof *m->fault_names);
    m->fault_kinds = calloc(nf + 1, sizeof *m->fault_kinds);
    m->active = calloc(nf + 1, sizeof *m->active);
    int ok = m->scenario && m->target && m->fault_names && m->fault_kinds && m->active;
    for (size_t i = 0; ok && i < nf; i++) {
        m->fault_names[i] = dup_or_empty(info->fault_names[i]);
        m->fault_kinds[i] = dup_or_empty(info->fault_kinds[i]);
        ok = m->fault_names[i] && m->fault_kinds[i];
    }
    m->info.fault_names = (const char *const *)m->fault_names;
    m->info.fault_kinds = (const char *const *)m->fault_kinds;
    if (!ok) {
        snprintf(err, errlen, "out of memory");
        livem_stop(m);
        return NULL;
    }
    m->base = event_base_new();
    m->http = m->base ? evhttp_new(m->base) : NULL;
    if (!m->http) {
        snprintf(err, errlen, "cannot create the HTTP server");
        livem_stop(m);
        return NULL;
    }
    evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(m->http, 10);
    evhttp_set_max_headers_size(m->http, 16384);
    evhttp_set_cb(m->http, "/metrics", on_metrics, m);
    evhttp_set_gencb(m->http, on_other, m);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(m->http, host, port);
    if (!bs) {
        snprintf(err, errlen, "metrics address %s: cannot listen (address in use or not local?)", addr);
        livem_stop(m);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned bport = port;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
            bport = ntohs(s6->sin6_port);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
            bport = ntohs(s4->sin_port);
        }
    }
    snprintf(bound, boundcap, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, bport);
    if (pthread_create(&m->th, NULL, serve_main, m) != 0) {
        snprintf(err, errlen, "cannot start the metrics thread");
        livem_stop(m);
        return NULL;
    }
    m->running = 1;
    return m;
}

void livem_fault_set(livem *m, size_t fault, int active)
{
    if (m && fault < m->info.n_faults)
        __atomic_store_n(&m->active[fault], active ? 1 : 0, __ATOMIC_RELAXED);
}

void livem_set_exit_code(livem *m, int code)
{
    if (m)
        __atomic_store_n(&m->exit_code, code, __ATOMIC_RELAXED);
}

void livem_stop(livem *m)
{
    if (!m)
        return;
    if (m->running) {
        event_base_loopbreak(m->base); /* thread-safe: evthread_use_pthreads is on */
        pthread_join(m->th, NULL);
    }
    if (m->http)
        evhttp_free(m->http);
    if (m->base)
        event_base_free(m->base);
    for (size_t i = 0; m->fault_names && i < m->info.n_faults; i++)
        free(m->fault_names[i]);
    for (size_t i = 0; m->fault_kinds && i < m->info.n_faults; i++)
        free(m->fault_kinds[i]);
    free(m->fault_names);
    free(m->fault_kinds);
    free(m->active);
    free(m->scenario);
    free(m->target);
    free(m);
}
