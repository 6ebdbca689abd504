/* server_scrape.c — scrapes the server's /metrics during a run and sets its figures beside the clients' in the report. */
#include "server_scrape.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "httpc.h"

/* ---- parsing ------------------------------------------------------------------- */

/* The value of label `name` in a label set like {a="x",b="y"}, copied into
 * out; "" when absent. */
static void label_of(const char *labels, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    if (!labels)
        return;
    char pat[64];
    snprintf(pat, sizeof pat, "%s=\"", name);
    const char *p = strstr(labels, pat);
    if (!p || (p != labels + 1 && p[-1] != ',' && p[-1] != '{'))
        return;
    p += strlen(pat);
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < cap)
        out[i++] = *p++;
    out[i] = '\0';
}

static void add(json_t *o, const char *key, double v)
{
    json_t *cur = json_object_get(o, key);
    json_object_set_new(o, key, json_real(json_number_value(cur) + v));
}

/* Integers where the figures are whole (every counter and gauge here). */
static void integerize(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (json_is_object(v))
            integerize(v);
        else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                 fabs(json_real_value(v)) < 9e15)
            json_object_set_new(o, k, json_integer((json_int_t)json_real_value(v)));
    }
}

json_t *sscrape_parse(const char *text)
{
    json_t *o = json_object(), *conns = json_object(), *lat = json_array();
    if (!o || !conns || !lat) {
        json_decref(o);
        json_decref(conns);
        json_decref(lat);
        return NULL;
    }
    int any = 0;
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[512];
        /* process_cpu_seconds_total: the standard name every Prometheus
         * client library exports (rtchaos-server too) */
        if (len < sizeof buf && line[0] != '#' &&
            (strncmp(line, "rtchaos_", 8) == 0 || strncmp(line, "process_cpu_seconds_total ", 26) == 0)) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            char *sp = strrchr(buf, ' ');
            if (sp) {
                *sp = '\0';
                char *end;
                double v = strtod(sp + 1, &end);
                const char *brace = strchr(buf, '{'), *labels = brace; /* "{a=\"x\",…}" or NULL */
                char name[256];
                size_t nlen = brace ? (size_t)(brace - buf) : strlen(buf);
                if (nlen < sizeof name && end != sp + 1) {
                    memcpy(name, buf, nlen);
                    name[nlen] = '\0';
                    char a[64], b[64];
                    any = 1;
                    if (!strcmp(name, "rtchaos_connections")) {
                        label_of(labels, "transport", a, sizeof a);
                        if (a[0])
                            add(conns, a, v);
                    } else if (!strcmp(name, "rtchaos_subscriptions")) {
                        add(o, "subscriptions", v);
                    } else if (!strcmp(name, "rtchaos_sendq_messages")) {
                        add(o, "sendq_messages", v);
                    } else if (!strcmp(name, "rtchaos_sendq_max_messages")) {
                        add(o, "sendq_max_messages", v);
                    } else if (!strcmp(name, "rtchaos_sendq_bytes")) {
                        add(o, "sendq_bytes", v);
                    } else if (!strcmp(name, "rtchaos_messages_out_total")) {
                        label_of(labels, "kind", a, sizeof a);
                        add(o, !strcmp(a, "replay") ? "written_replay" : "written_live", v);
                    } else if (!strcmp(name, "rtchaos_messages_in_total")) {
                        add(o, "published", v);
                    } else if (!strcmp(name, "rtchaos_backpressure_total")) {
                        /* by policy too ("drop/event_dropped", …): the
                         * report plots each policy's actions per second */
                        label_of(labels, "policy", b, sizeof b);
                        label_of(labels, "action", a, sizeof a);
                        if (b[0] && a[0]) {
                            char key[140];
                            snprintf(key, sizeof key, "%s/%s", b, a);
                            json_t *bp = json_object_get(o, "backpressure");
                            if (!bp)
                                json_object_set_new(o, "backpressure", bp = json_object());
                            add(bp, key, v);
                        }
                        if (!strcmp(a, "event_dropped"))
                            add(o, "dropped", v);
                        else if (!strcmp(a, "event_coalesced"))
                            add(o, "coalesced", v);
                        else if (!strcmp(a, "disconnect"))
                            add(o, "shed", v);
                    } else if (!strcmp(name, "rtchaos_gaps_sent_total")) {
                        add(o, "gaps_sent", v);
                    } else if (!strcmp(name, "rtchaos_snapshots_sent_total")) {
                        add(o, "snapshots_sent", v);
                    } else if (!strcmp(name, "rtchaos_rejections_total")) {
                        add(o, "rejections", v);
                    } else if (!strcmp(name, "process_cpu_seconds_total")) {
                        add(o, "cpu_s", v);
                    } else if (!strcmp(name, "rtchaos_stream_writes_total")) {
                        add(o, "stream_writes", v); /* the cost options (docs/server.md) */
                    } else if (!strcmp(name, "rtchaos_ws_batch_messages_total")) {
                        add(o, "ws_batch_messages", v);
                    } else if (!strcmp(name, "rtchaos_ws_batch_events_total")) {
                        add(o, "ws_batch_events", v);
                    } else if (!strcmp(name, "rtchaos_delta_sent_total")) {
                        add(o, "delta_sent", v);
                    } else if (!strcmp(name, "rtchaos_delta_bytes_saved_total")) {
                        add(o, "delta_bytes_saved", v);
                    } else if (!strcmp(name, "rtchaos_loop_busy_seconds_total")) {
                        add(o, "loop_busy_s", v); /* every phase: the event loop thread's busy time */
                    } else if (!strcmp(name, "rtchaos_heartbeats_total")) {
                        add(o, "heartbeats", v);
                    } else if (!strcmp(name, "rtchaos_proxy_connections_active")) {
                        add(o, "proxy_connections", v);
                    } else if (!strcmp(name, "rtchaos_proxy_connections_total")) {
                        add(o, "proxy_connections_total", v);
                    } else if (!strcmp(name, "rtchaos_proxy_received_bytes_total")) {
                        label_of(labels, "direction", a, sizeof a);
                        add(o, !strcmp(a, "upstream") ? "proxy_bytes_upstream" : "proxy_bytes_downstream", v);
                    } else if (!strcmp(name, "rtchaos_toxic_actions_total")) {
                        label_of(labels, "action", a, sizeof a);
                        if (a[0]) {
                            json_t *ta = json_object_get(o, "toxic_actions");
                            if (!ta)
                                json_object_set_new(o, "toxic_actions", ta = json_object());
                            add(ta, a, v);
                        }
                    } else if (!strcmp(name, "rtchaos_broker_lag_seconds_bucket")) {
                        /* --redis nodes: publish accepted by Redis -> received here */
                        label_of(labels, "le", b, sizeof b);
                        double le = !strcmp(b, "+Inf") ? INFINITY : strtod(b, NULL);
                        json_t *bl = json_object_get(o, "broker_lag_le");
                        if (!bl)
                            json_object_set_new(o, "broker_lag_le", bl = json_array());
                        if (isfinite(le))
                            json_array_append_new(bl, json_pack("[f,f]", le, v));
                        else
                            add(o, "broker_lag_count", v);
                    } else if (!strcmp(name, "rtchaos_delivery_latency_seconds_bucket")) {
                        label_of(labels, "le", b, sizeof b);
                        double le = !strcmp(b, "+Inf") ? INFINITY : strtod(b, NULL);
                        if (isfinite(le))
                            json_array_append_new(lat, json_pack("[f,f]", le, v));
                        else
                            add(o, "latency_count", v);
                    }
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!any) {
        json_decref(o);
        json_decref(conns);
        json_decref(lat);
        return NULL;
    }
    if (json_object_size(conns))
        json_object_set_new(o, "connections", conns);
    else
        json_decref(conns);
    /* CPU per event written (live + replay), in microseconds: the cost
     * suite's server-side figure (start-up and idle time included) */
    json_t *cpu = json_object_get(o, "cpu_s");
    double written = json_number_value(json_object_get(o, "written_live")) +
                     json_number_value(json_object_get(o, "written_replay"));
    if (cpu && written > 0)
        json_object_set_new(o, "cpu_us_per_written", json_real(round(json_number_value(cpu) * 1e7 / written) / 10.0));
    /* batching: events carried per socket write, and per batch message */
    double writes = json_number_value(json_object_get(o, "stream_writes"));
    if (writes > 0 && written > 0)
        json_object_set_new(o, "events_per_write", json_real(round(written * 100 / writes) / 100.0));
    double bm = json_number_value(json_object_get(o, "ws_batch_messages"));
    if (bm > 0)
        json_object_set_new(o, "events_per_batch_message",
                            json_real(round(json_number_value(json_object_get(o, "ws_batch_events")) * 100 / bm) / 100.0));
    integerize(o);
    if (json_array_size(lat))
        json_object_set_new(o, "lat_le", lat);
    else
        json_decref(lat);
    return o;
}

/* ---- the scraping thread --------------------------------------------------------- */

struct sscrape {
    char host[256];
    uint16_t port;
    char path[256];
    uint64_t t0_us;
    unsigned interval_ms;
    json_t *samples;
    uint64_t errors;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int stop;
};

static void take_sample(sscrape *s)
{
    int status = 0;
    char *body = NULL, err[256];
    double t = (double)(clock_mono_us() - s->t0_us) / 1e6;
    json_t *smp = NULL;
    if (httpc_request(s->host, s->port, "GET", s->path, NULL, s->interval_ms, &status, &body, err, sizeof err) < 0) {
        smp = json_pack("{s:f, s:s}", "t_s", t, "error", err);
    } else if (status != 200) {
        snprintf(err, sizeof err, "HTTP %d", status);
        smp = json_pack("{s:f, s:s}", "t_s", t, "error", err);
    } else {
        smp = sscrape_parse(body);
        if (smp)
            json_object_set_new(smp, "t_s", json_real(round(t * 1000.0) / 1000.0));
        else
            smp = json_pack("{s:f, s:s}", "t_s", t, "error", "no rtchaos_ metrics on the page");
    }
    free(body);
    pthread_mutex_lock(&s->mu);
    if (smp && json_object_get(smp, "error"))
        s->errors++;
    if (smp)
        json_array_append_new(s->samples, smp);
    pthread_mutex_unlock(&s->mu);
}

static void *scrape_main(void *arg)
{
    sscrape *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        take_sample(s);
        pthread_mutex_lock(&s->mu);
        uint64_t until = clock_mono_us() + (uint64_t)s->interval_ms * 1000u;
        while (!s->stop && clock_mono_us() < until)
            clock_cond_wait_us(&s->cond, &s->mu, until - clock_mono_us());
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

sscrape *sscrape_start(const char *host, uint16_t port, const char *path, uint64_t t0_mono_us,
                       unsigned interval_ms, char *err, size_t errlen)
{
    sscrape *s = calloc(1, sizeof *s);
    if (!s || !(s->samples = json_array())) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->host, sizeof s->host, "%s", host);
    snprintf(s->path, sizeof s->path, "%s", path && *path ? path : "/metrics");
    s->port = port;
    s->t0_us = t0_mono_us;
    s->interval_ms = interval_ms ? interval_ms : 1000;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->th, NULL, scrape_main, s) != 0) {
        snprintf(err, errlen, "cannot start the server-metrics thread");
        json_decref(s->samples);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cond);
        free(s);
        return NULL;
    }
    return s;
}

json_t *sscrape_finish(sscrape *s)
{
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    take_sample(s); /* the figures at the end of the drain */
    json_t *fin = NULL;
    for (size_t i = json_array_size(s->samples); i-- > 0;) {
        json_t *smp = json_array_get(s->samples, i);
        if (!json_object_get(smp, "error")) {
            fin = smp;
            break;
        }
    }
    char url[600];
    snprintf(url, sizeof url, "http://%s:%u%s", s->host, s->port, s->path);
    json_t *o = json_pack("{s:s, s:i, s:I, s:O, s:O}", "url", url, "interval_ms", (int)s->interval_ms,
                          "scrape_errors", (json_int_t)s->errors, "final", fin ? fin : json_null(), "samples",
                          s->samples);
    json_decref(s->samples);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
    return o;
}

/* ---- beside the clients ------------------------------------------------------------ */

static double fnum(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* Upper bound (µs) of the server histogram's bucket holding its p95, or
 * -1 when it holds nothing. */
static double server_p95_us(const json_t *fin)
{
    double count = fnum(fin, "latency_count");
    const json_t *le = json_object_get(fin, "lat_le");
    if (count <= 0 || !json_is_array(le))
        return -1;
    size_t i;
    json_t *b;
    json_array_foreach(le, i, b) {
        if (json_number_value(json_array_get(b, 1)) >= 0.95 * count)
            return json_number_value(json_array_get(b, 0)) * 1e6;
    }
    return INFINITY;
}

static void row(json_t *rows, const char *what, json_t *server, json_t *clients)
{
    json_array_append_new(rows, json_pack("{s:s, s:o, s:o}", "figure", what, "server", server ? server : json_null(),
                                          "clients", clients ? clients : json_null()));
}

int sscrape_compare(json_t *report)
{
    json_t *srv = json_object_get(report, "server");
    if (!json_is_object(srv))
        return 0;
    const json_t *fin = json_object_get(srv, "final");
    const json_t *tot = json_object_get(report, "totals");
    json_t *rows = json_array();
    if (!rows)
        return -1;
    if (!json_is_object(fin)) {
        json_object_set_new(srv, "compare", rows);
        json_object_set_new(srv, "flag", json_null());
        return 0;
    }
    /* peak connections the server held vs the clients connected */
    double peak = 0, peak_q = 0, peak_bytes = 0;
    size_t i;
    json_t *smp;
    json_array_foreach(json_object_get(srv, "samples"), i, smp) {
        const char *k;
        json_t *v;
        double c = 0;
        json_object_foreach(json_object_get(smp, "connections"), k, v) c += json_number_value(v);
        peak = fmax(peak, c);
        peak_q = fmax(peak_q, fnum(smp, "sendq_max_messages"));
        peak_bytes = fmax(peak_bytes, fnum(smp, "sendq_bytes"));
    }
    double cpeak = 0;
    json_array_foreach(json_object_get(report, "timeline"), i, smp) cpeak = fmax(cpeak, fnum(smp, "connected"));
    double written = fnum(fin, "written_live") + fnum(fin, "written_replay");
    double delivered = fnum(tot, "delivered"), lost = fnum(tot, "lost");
    double said = fnum(fin, "dropped") + fnum(fin, "gaps_sent") + fnum(fin, "snapshots_sent") + fnum(fin, "shed");
    row(rows, "peak connections", json_real(peak), json_real(cpeak));
    row(rows, "events accepted / acknowledged", json_real(fnum(fin, "published")), json_real(fnum(tot, "published")));
    row(rows, "events written / delivered", json_real(written), json_real(delivered));
    row(rows, "replayed (resync)", json_real(fnum(fin, "written_replay")), json_real(fnum(tot, "replayed")));
    row(rows, "dropped by backpressure / lost", json_real(fnum(fin, "dropped")), json_real(lost));
    row(rows, "gaps sent / received", json_real(fnum(fin, "gaps_sent")), json_real(fnum(tot, "gaps")));
    row(rows, "snapshots sent / received", json_real(fnum(fin, "snapshots_sent")), json_real(fnum(tot, "snapshots")));
    row(rows, "slow consumers shed / reconnects", json_real(fnum(fin, "shed")), json_real(fnum(tot, "reconnects")));
    row(rows, "peak send-queue depth (msgs, deepest connection)", json_real(peak_q), NULL);
    row(rows, "peak queued bytes (all connections)", json_real(peak_bytes), NULL);
    /* rtchaos-server's event loop thread: its busy share of each scrape
     * interval after the warm-up (rtchaos_loop_busy_seconds_total), the
     * mean and the highest; near 1 the server is its own ceiling */
    double warm = fnum(report, "warmup_s"), busy_peak = -1, busy_s = 0, span_s = 0;
    const json_t *prev = NULL;
    json_array_foreach(json_object_get(srv, "samples"), i, smp) {
        if (json_object_get(smp, "error") || !json_object_get(smp, "loop_busy_s"))
            continue;
        if (prev && fnum(prev, "t_s") >= warm) {
            double dt = fnum(smp, "t_s") - fnum(prev, "t_s"), db = fnum(smp, "loop_busy_s") - fnum(prev, "loop_busy_s");
            if (dt >= 0.2 && db >= 0) {
                busy_peak = fmax(busy_peak, fmin(db / dt, 1.0));
                busy_s += db;
                span_s += dt;
            }
        }
        prev = smp;
    }
    if (busy_peak >= 0) {
        double busy_mean = round(fmin(busy_s / span_s, 1.0) * 1000) / 1000, busy_top = round(busy_peak * 1000) / 1000;
        json_object_set_new(srv, "loop_busy_mean", json_real(busy_mean));
        json_object_set_new(srv, "loop_busy_peak", json_real(busy_top));
        row(rows, "event loop busy share after the warm-up, mean (0..1)", json_real(busy_mean), NULL);
        row(rows, "event loop busy share, busiest scrape interval (0..1)", json_real(busy_top), NULL);
    }
    double sp95 = server_p95_us(fin);
    const json_t *cp95 = json_object_get(json_object_get(json_object_get(report, "latency_us"), "live"), "p95");
    row(rows, "p95 live latency, µs (server: publish → written, bucket bound; clients: → received)",
        sp95 >= 0 && isfinite(sp95) ? json_real(sp95) : NULL, cp95 ? json_deep_copy(cp95) : NULL);
    /* round what was built from reals */
    json_array_foreach(rows, i, smp) integerize(smp);
    json_object_set_new(srv, "compare", rows);

    /* the proxy's own count of messages its toxics dropped (rtchaos-proxy):
     * a toxic's counters leave the page with the toxic, so the largest value
     * seen in any sample (at least what was dropped) */
    const json_t *pm = json_object_get(report, "proxy_metrics");
    double pdrop = -1;
    if (json_is_object(json_object_get(pm, "final"))) {
        pdrop = 0;
        json_array_foreach(json_object_get(pm, "samples"), i, smp)
            pdrop = fmax(pdrop, fnum(json_object_get(smp, "toxic_actions"), "drop"));
        row(rows, "messages dropped by the proxy's toxics (at least) / lost", json_real(pdrop), json_real(lost));
        integerize(json_array_get(rows, json_array_size(rows) - 1));
    }
    char flag[480] = "";
    if (lost > 0 && said == 0)
        snprintf(flag, sizeof flag,
                 "server_says_delivered: the clients lost %.0f events while the server reports dropping none and "
                 "sending no gap or snapshot: they were lost after the server wrote them (network, proxy, "
                 "client), or its accounting is wrong%s",
                 lost, pdrop > 0 ? " (the proxy's toxics report dropping messages)" : "");
    else if (written < delivered)
        snprintf(flag, sizeof flag,
                 "server_undercounts: the server reports writing %.0f events, fewer than the %.0f the clients "
                 "received",
                 written, delivered);
    json_object_set_new(srv, "flag", flag[0] ? json_string(flag) : json_null());
    return 0;
}
