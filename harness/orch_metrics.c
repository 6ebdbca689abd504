/* orch_metrics.c — one run's observability: its own live /metrics endpoint and Pushgateway push, the scrape of the server's and the proxy's /metrics, the live status line. */
#include "orch_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "httpc.h"

/* Starts the Prometheus endpoint when asked (after fleet_start: it runs a
 * thread, and the fleet may fork). Returns 0, or -1 with a message in err. */
int orch_metrics_start(run *r, char *err, size_t errlen)
{
    const char *addr = r->o->metrics_addr ? r->o->metrics_addr : r->s->harness.metrics_addr;
    /* recording the run's series needs the harness's own page: served on
     * any free loopback port when nobody asked for an endpoint */
    if (!addr && r->s->harness.record_series && !r->have_netns)
        addr = "127.0.0.1:0";
    if (!addr)
        return 0;
    size_t nf = r->s->nfaults;
    const char **names = calloc(nf + 1, sizeof *names), **kinds = calloc(nf + 1, sizeof *kinds);
    if (!names || !kinds) {
        free(names);
        free(kinds);
        orch_sfmt(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nf; i++) {
        const scn_fault *f = &r->s->faults[i];
        names[i] = f->name;
        kinds[i] = f->kind == SCN_FAULT_TOXIC && f->toxic.type ? f->toxic.type : scenario_fault_kind_str(f->kind);
    }
    livem_info info = {.scenario = r->s->name, .target = r->target_url, .seed = r->seed, .n_faults = nf,
                       .fault_names = names, .fault_kinds = kinds};
    char bound[300], e[512];
    /* With namespaces this thread lives on the server side; the endpoint
     * is for scrapers on the host, so it is made (socket and thread) back
     * in the harness's own namespace. */
    int prev_ns = -1;
    if (r->have_netns && netns_enter(r->ns.orig_fd, &prev_ns, e, sizeof e) < 0) {
        free(names);
        free(kinds);
        orch_sfmt(err, errlen, "--metrics-addr: %s", e);
        return -1;
    }
    r->lm = livem_start(addr, r->fl, &info, bound, sizeof bound, e, sizeof e);
    if (prev_ns >= 0 && netns_leave(prev_ns, e, sizeof e) < 0) {
        free(names);
        free(kinds);
        orch_sfmt(err, errlen, "network namespaces: %s", e);
        return -1; /* this thread is on the wrong side now: the run cannot go on */
    }
    free(names);
    free(kinds);
    if (!r->lm) {
        orch_sfmt(err, errlen, "--metrics-addr: %s", e);
        return -1;
    }
    orch_sfmt(r->lm_bound, sizeof r->lm_bound, "%s", bound);
    orch_event(r, "metrics_listening", json_pack("{s:s}", "addr", bound));
    if (r->o->output == ORCH_OUT_NORMAL)
        fprintf(stderr, "rtchaos: live metrics at http://%s/metrics\n", bound);
    return 0;
}

/* Starts scraping the server's /metrics: our own rtchaos-server unless
 * harness.server_metrics is "off", or the URL harness.server_metrics names
 * (a foreign server's exporter). Returns 0, or -1 with a message in err. */
int orch_metrics_scrape_start(run *r, char *err, size_t errlen)
{
    const char *want = r->s->harness.server_metrics;
    char host[256], path[256] = "/metrics";
    uint16_t port = 0;
    char e[256];
    if (want && !strcmp(want, "off")) {
        host[0] = '\0';
    } else if (!want || !strcmp(want, "auto")) {
        if (r->have_server)
            orch_sfmt(host, sizeof host, "%s", r->up_host);
        else
            host[0] = '\0';
        port = r->up_port;
    } else if (scenario_parse_url(want, host, sizeof host, &port, path, sizeof path, err, errlen) < 0) {
        return -1;
    }
    if (host[0] && !(r->ss = sscrape_start(host, port, path, r->t0_us, 1000, e, sizeof e))) {
        orch_sfmt(err, errlen, "server metrics: %s", e);
        return -1;
    }
    /* server: {nodes: N}: every node over the run (report.json "nodes") */
    for (unsigned i = 0; r->have_server && (!want || !strcmp(want, "auto")) && i < r->nnodes; i++)
        if (!(r->node_ss[i] = sscrape_start(r->up_host, r->node_port[i], "/metrics", r->t0_us, 1000, e, sizeof e))) {
            orch_sfmt(err, errlen, "node %u metrics: %s", i, e);
            return -1;
        }
    /* the proxy we run: its own count of what its toxics did */
    if (host[0] && r->have_proxy &&
        !(r->ps = sscrape_start(r->api.host, r->api.port, "/metrics", r->t0_us, 1000, e, sizeof e))) {
        orch_sfmt(err, errlen, "proxy metrics: %s", e);
        return -1;
    }
    if (!r->s->harness.record_series)
        return 0;
    /* every page as time series (series.yml), for alert rules evaluated
     * afterwards; the harness's own page only without namespaces (this
     * thread is on the server's side then, the endpoint on the host's) */
    srec_source src[3];
    size_t n = 0;
    char lmhost[256] = "";
    uint16_t lmport = 0;
    if (host[0])
        src[n++] = (srec_source){.job = "rtchaos-server", .host = host, .port = port, .path = path};
    if (host[0] && r->have_proxy)
        src[n++] = (srec_source){.job = "rtchaos-proxy", .host = r->api.host, .port = r->api.port};
    if (r->lm_bound[0] && scenario_parse_hostport(r->lm_bound, lmhost, sizeof lmhost, &lmport, e, sizeof e) == 0)
        src[n++] = (srec_source){.job = "rtchaos-harness", .host = lmhost, .port = lmport};
    if (!(r->sr = srec_start(src, n, r->t0_us, 1000, e, sizeof e))) {
        orch_sfmt(err, errlen, "record_series: %s", e);
        return -1;
    }
    return 0;
}

/* Pushes the final figures (the live endpoint's page, exit code included)
 * to a Prometheus Pushgateway: POST URL/metrics/job/rtchaos/scenario/<name>,
 * so CI systems keep a history of runs. A failed push is reported on stderr
 * and in events.jsonl; it does not change the exit code (report.json is the
 * canonical result). */
void orch_metrics_push(run *r, int code)
{
    const char *url = r->o->push_url ? r->o->push_url : r->s->harness.push_url;
    if (!url || !r->fl)
        return;
    char host[256], base[256], path[1024], err[512] = "";
    uint16_t port;
    if (scenario_parse_url(url, host, sizeof host, &port, base, sizeof base, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: --push-url: %s\n", err);
        return;
    }
    /* the scenario name as one path segment (percent-encoded) */
    char seg[512];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)r->s->name; *p && k + 4 < sizeof seg; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.')
            seg[k++] = (char)*p;
        else
            k += (size_t)snprintf(seg + k, sizeof seg - k, "%%%02X", *p);
    }
    seg[k] = '\0';
    size_t bl = strlen(base);
    orch_sfmt(path, sizeof path, "%.*s/metrics/job/rtchaos/scenario/%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl),
         strcmp(base, "/metrics") == 0 ? "" : base, seg);
    fleet_live *fl = malloc(sizeof *fl);
    char *text = NULL;
    size_t len = 0;
    livem_info info = {.scenario = r->s->name, .target = r->target_url, .seed = r->seed};
    int status = 0;
    if (!fl) {
        orch_sfmt(err, sizeof err, "out of memory");
    } else {
        fleet_live_get(r->fl, fl);
        if (livem_render(fl, &info, NULL, code, &text, &len) < 0)
            orch_sfmt(err, sizeof err, "out of memory");
        else if (httpc_request(host, port, "POST", path, text, 10000, &status, NULL, err, sizeof err) == 0 &&
                 (status < 200 || status > 299))
            orch_sfmt(err, sizeof err, "the Pushgateway answered HTTP %d", status);
    }
    free(fl);
    free(text);
    if (err[0]) {
        fprintf(stderr, "rtchaos: pushing the final figures to %s failed: %s\n", url, err);
        orch_event(r, "push_failed", json_pack("{s:s, s:s}", "url", url, "error", err));
    } else {
        orch_event(r, "pushed", json_pack("{s:s, s:s}", "url", url, "path", path));
    }
}

/* After the report: exposes the exit code, keeps serving the final figures
 * for the linger time (so a scraper's last sample holds them; a signal
 * ends it early), then stops the endpoint. Before fleet_free: it reads the
 * fleet. */
void orch_metrics_finish(run *r, int code)
{
    if (!r->lm)
        return;
    livem_set_exit_code(r->lm, code);
    uint64_t linger_us = r->o->has_metrics_linger ? r->o->metrics_linger_us : r->s->harness.metrics_linger_us;
    uint64_t end = clock_mono_us() + linger_us;
    while (!orch_sig && clock_mono_us() < end)
        clock_nap_ms(20);
    livem_stop(r->lm);
    r->lm = NULL;
}

void orch_metrics_status_line(run *r, int final)
{
    fleet_status st;
    fleet_status_get(r->fl, &st);
    double total = (r->warmup_us + r->s->duration_us) / 1e6;
    /* The faults active right now, so a latency jump reads next to its cause. */
    char active[160] = "";
    size_t off = 0;
    for (size_t i = 0; i < r->s->nfaults && off < sizeof active - 1; i++) {
        json_t *on = json_object_get(orch_faults_window(r, i), "on");
        json_t *last = on ? json_array_get(on, json_array_size(on) - 1) : NULL;
        if (last && json_array_size(last) == 1 && r->s->faults[i].kind != SCN_FAULT_DISCONNECT) {
            int w = orch_sfmt(active + off, sizeof active - off, "%s%s", off ? "," : "  [fault ", r->s->faults[i].name);
            if (w > 0)
                off += (size_t)w;
        }
    }
    if (off && off < sizeof active - 1)
        orch_sfmt(active + off, sizeof active - off, "]");
    fprintf(stderr, "\r%6.1fs/%.0fs  connected %llu/%llu  msgs/s %.0f  p95 %.1fms  anomalies %llu  reconnects %llu%s\033[K",
            st.elapsed_s, total, (unsigned long long)st.connected, (unsigned long long)st.clients,
            st.delivered_per_s, st.p95_live_us / 1000.0, (unsigned long long)st.anomalies,
            (unsigned long long)st.reconnects, active);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}
