/* reports_render.c — report.json → report.md, report.html and plots; the
 * one-screen text summary. */
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rdoc.h"
#include "rout.h"
#include "rplot.h"
#include "rplot_server.h"
#include "version.h"

/* Anomaly examples shown per kind, and in all. */
#define RENDER_EXAMPLES_PER_KIND 10
#define RENDER_EXAMPLES_MAX 60

static const char *const anomaly_kinds[] = {"lost", "duplicated", "reordered", "resync_failed", "epoch_changed",
                                            "delta_mismatch", "corrupted", "misrouted", "ts_altered"};
#define N_ANOMALY_KINDS (sizeof anomaly_kinds / sizeof anomaly_kinds[0])

static const char *pass_word(int pass)
{
    return pass ? "pass" : "FAIL";
}

static void section_run(rout *o, const json_t *rep)
{
    char buf[128];
    const char *cols[] = {"run", "value"};
    rout_table_begin(o, "run", cols, 2);
    const char *row[2];
    row[0] = "scenario"; row[1] = rdoc_str_or(rep, "scenario", "?");
    rout_table_row(o, NULL, row, 2);
    const json_t *seed = json_object_get(rep, "seed");
    if (json_is_integer(seed)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(seed));
        row[0] = "seed"; row[1] = buf;
        rout_table_row(o, NULL, row, 2);
    }
    row[0] = "target"; row[1] = rdoc_str_or(rep, "target", "(not recorded)");
    rout_table_row(o, NULL, row, 2);
    /* the protocol and what it promises a client that comes back: the
     * reader needs it to read resync and loss figures right */
    const json_t *proto = json_object_get(rep, "protocol");
    if (json_is_object(proto)) {
        char pbuf[512];
        snprintf(pbuf, sizeof pbuf, "%s (resume: %s; sequence numbers: %s)", rdoc_str_or(proto, "name", "?"),
                 rdoc_str_or(proto, "resume", "?"), rdoc_str_or(proto, "seq", "?"));
        row[0] = "protocol"; row[1] = pbuf;
        rout_table_row(o, NULL, row, 2);
        const char *promise = rdoc_str_or(proto, "promise", NULL);
        if (promise) {
            row[0] = "resume promise"; row[1] = promise;
            rout_table_row(o, NULL, row, 2);
        }
    }
    row[0] = "started"; row[1] = rdoc_str_or(rep, "started", "(not recorded)");
    rout_table_row(o, NULL, row, 2);
    snprintf(buf, sizeof buf, "%.1f s", rdoc_num_or(rep, "duration_s", 0));
    row[0] = "duration"; row[1] = buf;
    rout_table_row(o, NULL, row, 2);
    /* the rtchaos that ran it, and this one when it renders another's report */
    const char *ran = rdoc_str_or(rep, "rtchaos_version", "(not recorded)");
    char ver[160];
    if (strcmp(ran, rtchaos_version))
        snprintf(ver, sizeof ver, "%s (rendered by %s)", ran, rtchaos_version);
    else
        snprintf(ver, sizeof ver, "%s", ran);
    row[0] = "rtchaos"; row[1] = ver;
    rout_table_row(o, NULL, row, 2);
    const json_t *merge = json_object_get(rep, "merge");
    if (json_is_object(merge)) {
        snprintf(buf, sizeof buf, "merged from %lld shard reports",
                 (long long)json_integer_value(json_object_get(merge, "shards")));
        row[0] = "shards"; row[1] = buf;
        rout_table_row(o, NULL, row, 2);
        const char *note = rdoc_str_or(merge, "timeline_p95", NULL);
        if (note) {
            row[0] = "timeline p95"; row[1] = note;
            rout_table_row(o, NULL, row, 2);
        }
    }
    /* a run that broke says why, first thing: its figures are partial */
    const char *error = rdoc_str_or(rep, "error", NULL);
    if (error) {
        row[0] = "run broke"; row[1] = error;
        rout_table_row(o, "fail", row, 2);
    }
    if (json_is_true(json_object_get(rep, "partial"))) {
        row[0] = "partial"; row[1] = "yes: the run ended early, figures cover only part of it";
        rout_table_row(o, "fail", row, 2);
    }
    int pass = json_is_true(json_object_get(rep, "pass"));
    row[0] = "result"; row[1] = pass ? "PASS" : error ? "BROKEN" : "FAIL";
    rout_table_row(o, pass ? "pass" : "fail", row, 2);
    rout_table_end(o);
}

static void section_verdicts(rout *o, const json_t *rep)
{
    rout_heading(o, 2, "Verdicts", NULL);
    const json_t *vs = json_object_get(rep, "verdicts");
    const char *cols[] = {"verdict", "budget", "measured", "result"};
    rout_table_begin(o, "verdicts", cols, 4);
    size_t i;
    const json_t *v;
    json_array_foreach(vs, i, v) {
        char budget[96], measured[64], b[64];
        rdoc_fmt_num(b, sizeof b, rdoc_num_or(v, "budget", NAN));
        snprintf(budget, sizeof budget, "%s %s", rdoc_str_or(v, "op", "?"), b);
        rdoc_fmt_num(measured, sizeof measured, rdoc_num_or(v, "value", NAN));
        int pass = json_is_true(json_object_get(v, "pass"));
        /* why it failed, when the verdict says: not measured, or measured
         * while the harness itself stalled (verdict_metric.h) */
        const char *why = rdoc_str_or(v, "error", rdoc_str_or(v, "note", NULL));
        char result[320];
        snprintf(result, sizeof result, "%s%s%s", pass_word(pass), why ? ": " : "", why ? why : "");
        const char *row[] = {rdoc_str_or(v, "name", "?"), budget, measured, result};
        rout_table_row(o, pass ? "pass" : "fail", row, 4);
    }
    if (json_array_size(vs) == 0) {
        const char *row[] = {"(no budgets in this scenario)", "", "", ""};
        rout_table_row(o, NULL, row, 4);
    }
    rout_table_end(o);
}

static void section_totals(rout *o, const json_t *rep)
{
    rout_heading(o, 2, "Totals", NULL);
    const json_t *totals = json_object_get(rep, "totals");
    const char *cols[] = {"counter", "value"};
    rout_table_begin(o, "totals", cols, 2);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)totals, key, v) {
        if (!json_is_number(v))
            continue;
        char buf[64];
        rdoc_fmt_num(buf, sizeof buf, json_number_value(v));
        const char *row[] = {key, buf};
        int bad = json_number_value(v) > 0 && (strcmp(key, "lost") == 0 || strcmp(key, "duplicated") == 0 ||
                                               strcmp(key, "reordered") == 0 || strcmp(key, "resync_failed") == 0 ||
                                               strcmp(key, "delta_mismatch") == 0 || strcmp(key, "corrupted") == 0 ||
                                               strcmp(key, "misrouted") == 0 || strcmp(key, "ts_altered") == 0);
        rout_table_row(o, bad ? "fail" : NULL, row, 2);
    }
    double ratio;
    if (rdoc_ratio(totals, &ratio) == 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.6f", ratio);
        const char *row[] = {"delivered / expected", buf};
        rout_table_row(o, NULL, row, 2);
    }
    rout_table_end(o);
}

/* The attacker groups (report.json groups.<g>.attack): how the server
 * answered each one's attempts. Only when the run had attackers. */
static void section_attacks(rout *o, const json_t *rep)
{
    if (!json_is_object(json_object_get(rep, "attacks")))
        return;
    rout_heading(o, 2, "Attacks", NULL);
    const char *cols[] = {"group", "behavior", "attempts", "rejected", "not rejected", "other answer",
                          "in flight", "outcomes", "refused after p50 / p99 ms", "accepted first"};
    rout_table_begin(o, "attacks", cols, 10);
    const char *name;
    const json_t *g;
    json_object_foreach(json_object_get(rep, "groups"), name, g) {
        const json_t *a = json_object_get(g, "attack");
        if (!json_is_object(a))
            continue;
        char n[5][32], outcomes[256] = "", cut[64];
        static const char *const keys[] = {"attempts", "rejected", "not_rejected", "unexpected", "in_flight"};
        for (int k = 0; k < 5; k++)
            rdoc_fmt_num(n[k], sizeof n[k], rdoc_num_or(a, keys[k], 0));
        size_t off = 0;
        const char *ok;
        const json_t *ov;
        json_object_foreach(json_object_get(a, "by_outcome"), ok, ov) {
            int w = snprintf(outcomes + off, sizeof outcomes - off, "%s%s: %lld", off ? ", " : "", ok,
                             (long long)json_integer_value(ov));
            if (w < 0 || (size_t)w >= sizeof outcomes - off)
                break;
            off += (size_t)w;
        }
        const json_t *c = json_object_get(a, "cut_us");
        snprintf(cut, sizeof cut, "%.1f / %.1f", rdoc_num_or(c, "p50", 0) / 1000.0, rdoc_num_or(c, "p99", 0) / 1000.0);
        char acc[32];
        rdoc_fmt_num(acc, sizeof acc, rdoc_num_or(a, "accepted", 0));
        const char *row[] = {name, rdoc_str_or(a, "behavior", "?"), n[0], n[1], n[2], n[3], n[4], outcomes, cut, acc};
        int bad = rdoc_num_or(a, "not_rejected", 0) > 0 || rdoc_num_or(a, "unexpected", 0) > 0;
        rout_table_row(o, bad ? "fail" : NULL, row, 10);
    }
    rout_table_end(o);
}

static void section_latency(rout *o, const json_t *rep)
{
    rout_heading(o, 2, "Latency (ms)", NULL);
    const char *cols[] = {"kind", "count", "p50", "p95", "p99", "p99.9", "max", "mean"};
    static const char *const fields[] = {"p50", "p95", "p99", "p999", "max", "mean"};
    rout_table_begin(o, "latency", cols, 8);
    /* The four kinds of the schema always, then any other the report has
     * (e.g. "reconnect"). */
    const json_t *all = json_object_get(rep, "latency_us");
    size_t nextra = json_is_object(all) ? json_object_size(all) : 0;
    const char **kinds = calloc(RDOC_NKINDS + nextra, sizeof *kinds);
    if (!kinds)
        return;
    size_t nk = 0;
    for (int k = 0; k < RDOC_NKINDS; k++)
        kinds[nk++] = rdoc_latency_kinds[k];
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)all, key, val) {
        int std = 0;
        for (int k = 0; k < RDOC_NKINDS; k++)
            std |= strcmp(key, rdoc_latency_kinds[k]) == 0;
        if (!std && json_is_object(val))
            kinds[nk++] = key;
    }
    for (size_t k = 0; k < nk; k++) {
        const json_t *lk = rdoc_latency(rep, kinds[k]);
        char cells[7][32];
        const char *row[8] = {kinds[k]};
        double count = rdoc_num_or(lk, "count", 0);
        rdoc_fmt_num(cells[0], sizeof cells[0], count);
        row[1] = cells[0];
        for (int j = 0; j < 6; j++) {
            if (count > 0)
                rdoc_fmt_ms(cells[j + 1], sizeof cells[j + 1], rdoc_num_or(lk, fields[j], NAN));
            else
                snprintf(cells[j + 1], sizeof cells[j + 1], "-");
            row[j + 2] = cells[j + 1];
        }
        rout_table_row(o, NULL, row, 8);
    }
    free(kinds);
    rout_table_end(o);
}

static int html_plot(rout *o, const char *plots_dir, const rplot_info *p, char *err, size_t errlen);

/* A plot in the document: inline SVG in HTML, an image link in Markdown. */
static int embed_plot(rout *o, const char *plots_dir, const rplot_info *p, char *err, size_t errlen)
{
    if (o->html)
        return html_plot(o, plots_dir, p, err, errlen);
    fprintf(o->f, "![");
    rout_text(o, p->title);
    fprintf(o->f, "](plots/%s.png)\n\n", p->name);
    return 0;
}

/* What the server's own /metrics said (report.json "server"), beside the
 * clients' figures, and the flag when they disagree; then its samples
 * plotted beside the clients' lines (rplot_server.c). Only when the run
 * scraped the server. */
static int section_server(rout *o, const json_t *rep, const char *plots_dir, char *err, size_t errlen)
{
    const json_t *srv = json_object_get(rep, "server");
    if (!json_is_object(srv))
        return 0;
    rout_heading(o, 2, "Server's view", "server");
    const json_t *flag = json_object_get(srv, "flag");
    if (json_is_string(flag))
        rout_para(o, "DISAGREEMENT: %s", json_string_value(flag));
    rout_para(o, "From %s, scraped every %.0f ms (%.0f samples, %.0f failed).", rdoc_str_or(srv, "url", "?"),
              rdoc_num_or(srv, "interval_ms", 0), (double)json_array_size(json_object_get(srv, "samples")),
              rdoc_num_or(srv, "scrape_errors", 0));
    const char *cols[] = {"figure", "server", "clients"};
    rout_table_begin(o, "server-view", cols, 3);
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(srv, "compare"), i, r) {
        char a[64] = "-", b[64] = "-";
        if (json_is_number(json_object_get(r, "server")))
            rdoc_fmt_num(a, sizeof a, json_number_value(json_object_get(r, "server")));
        if (json_is_number(json_object_get(r, "clients")))
            rdoc_fmt_num(b, sizeof b, json_number_value(json_object_get(r, "clients")));
        const char *row[] = {rdoc_str_or(r, "figure", "?"), a, b};
        rout_table_row(o, NULL, row, 3);
    }
    rout_table_end(o);
    for (int k = 0; k < RPLOT_SERVER_N; k++) {
        const rplot_info *p = &rplot_server_plots[k];
        if (!rplot_server_has(rep, k))
            continue;
        if (embed_plot(o, plots_dir, p, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* server: {nodes: N} (report.json "nodes"): per node its clients and
 * broker lag, the clients of every node over the run, and where a dead
 * node's clients landed. */
static void fmt_us_ms(char *buf, size_t cap, const json_t *v)
{
    if (json_is_number(v))
        snprintf(buf, cap, "%.2f", json_number_value(v) / 1000.0);
    else
        snprintf(buf, cap, "-");
}

static void section_nodes(rout *o, const json_t *rep)
{
    const json_t *nodes = json_object_get(rep, "nodes");
    if (!json_is_object(nodes))
        return;
    rout_heading(o, 2, "Nodes", "nodes");
    const json_t *lag = json_object_get(nodes, "broker_lag_us");
    char p50[32], p95[32], p99[32], cnt[32];
    fmt_us_ms(p50, sizeof p50, json_object_get(lag, "p50"));
    fmt_us_ms(p95, sizeof p95, json_object_get(lag, "p95"));
    fmt_us_ms(p99, sizeof p99, json_object_get(lag, "p99"));
    rdoc_fmt_num(cnt, sizeof cnt, rdoc_num_or(lag, "count", 0));
    if (!strcmp(rdoc_str_or(nodes, "broker", "redis"), "none")) {
        const json_t *pm = json_object_get(nodes, "publish_mirrors");
        char ma[32], mf[32];
        rdoc_fmt_num(ma, sizeof ma, rdoc_num_or(pm, "acked", 0));
        rdoc_fmt_num(mf, sizeof mf, rdoc_num_or(pm, "failed", 0));
        rout_para(o, "%.0f independent nodes, no broker (balance %s): the publisher posted every event to every "
                     "node; the nodes other than node 0 acknowledged %s and never acknowledged %s.",
                  rdoc_num_or(nodes, "count", 0), rdoc_str_or(nodes, "balance", "?"), ma, mf);
    } else
        rout_para(o, "%.0f brokered nodes (balance %s). Broker lag, publish accepted by Redis to event received "
                     "by a node, over %s deliveries to nodes: p50 %s ms, p95 %s ms, p99 %s ms (bucket upper bounds).",
                  rdoc_num_or(nodes, "count", 0), rdoc_str_or(nodes, "balance", "?"), cnt, p50, p95, p99);
    const char *cols[] = {"node", "clients at the end (ws/sse/poll)", "peak clients", "broker events",
                          "lag p50 ms", "lag p95 ms", "lag p99 ms"};
    rout_table_begin(o, "nodes", cols, 7);
    size_t i;
    const json_t *n;
    const json_t *per = json_object_get(nodes, "per_node");
    json_array_foreach(per, i, n) {
        char id[16], conns[96] = "-", peak[32] = "-", ev[32] = "-", a[32], b[32], c[32];
        snprintf(id, sizeof id, "%.0f", rdoc_num_or(n, "node", (double)i));
        const json_t *cn = json_object_get(n, "connections");
        if (json_is_object(cn))
            snprintf(conns, sizeof conns, "%.0f (%.0f/%.0f/%.0f)",
                     rdoc_num_or(cn, "ws", 0) + rdoc_num_or(cn, "sse", 0) + rdoc_num_or(cn, "poll", 0),
                     rdoc_num_or(cn, "ws", 0), rdoc_num_or(cn, "sse", 0), rdoc_num_or(cn, "poll", 0));
        else if (json_is_string(json_object_get(n, "error")))
            snprintf(conns, sizeof conns, "%s", json_string_value(json_object_get(n, "error")));
        if (json_is_number(json_object_get(n, "clients_peak")))
            rdoc_fmt_num(peak, sizeof peak, rdoc_num_or(n, "clients_peak", 0));
        if (json_is_number(json_object_get(n, "broker_lag_count")))
            rdoc_fmt_num(ev, sizeof ev, rdoc_num_or(n, "broker_lag_count", 0));
        const json_t *nl = json_object_get(n, "broker_lag_us");
        fmt_us_ms(a, sizeof a, json_object_get(nl, "p50"));
        fmt_us_ms(b, sizeof b, json_object_get(nl, "p95"));
        fmt_us_ms(c, sizeof c, json_object_get(nl, "p99"));
        const char *row[] = {id, conns, peak, ev, a, b, c};
        rout_table_row(o, NULL, row, 7);
    }
    rout_table_end(o);

    /* clients per node over time: at most ~30 rows (every k-th second) */
    size_t nn = json_array_size(per), rows = 0;
    for (size_t k = 0; k < nn; k++) {
        size_t l = json_array_size(json_object_get(json_array_get(per, k), "timeline"));
        if (l > rows)
            rows = l;
    }
    if (rows && nn <= 16) {
        rout_para(o, "Clients on each node over the run (from each node's /metrics, once a second; - = the node "
                     "did not answer):");
        const char *tcols[17];
        char names[17][32];
        snprintf(names[0], sizeof names[0], "t (s)");
        tcols[0] = names[0];
        for (size_t k = 0; k < nn; k++) {
            snprintf(names[k + 1], sizeof names[k + 1], "node %u", (unsigned)k);
            tcols[k + 1] = names[k + 1];
        }
        rout_table_begin(o, "nodes-timeline", tcols, (int)nn + 1);
        size_t step = rows > 30 ? (rows + 29) / 30 : 1;
        for (size_t r = 0; r < rows; r += step) {
            char cells[17][32];
            const char *row[17];
            double t = NAN;
            for (size_t k = 0; k < nn; k++) {
                const json_t *pt = json_array_get(json_object_get(json_array_get(per, k), "timeline"), r);
                if (isnan(t) && json_is_number(json_array_get(pt, 0)))
                    t = json_number_value(json_array_get(pt, 0));
                if (json_is_number(json_array_get(pt, 1)))
                    rdoc_fmt_num(cells[k + 1], sizeof cells[k + 1], json_number_value(json_array_get(pt, 1)));
                else
                    snprintf(cells[k + 1], sizeof cells[k + 1], "-");
                row[k + 1] = cells[k + 1];
            }
            snprintf(cells[0], sizeof cells[0], "%.0f", t);
            row[0] = cells[0];
            rout_table_row(o, NULL, row, (int)nn + 1);
        }
        rout_table_end(o);
    }

    const json_t *fo = json_object_get(nodes, "failover");
    if (json_array_size(fo) == 0)
        return;
    rout_para(o, "Where the clients of a node that went away landed (each node's clients when it went, against "
                 "just before it was back, or %s s later):", "10");
    const char *fcols[] = {"fault", "node", "at (s)", "its clients", "landed on", "not back", "all back after (s)"};
    rout_table_begin(o, "nodes-failover", fcols, 7);
    const json_t *f;
    json_array_foreach(fo, i, f) {
        char node[16], at[32], before[32], landed[512] = "", nb[32], back[32] = "never";
        snprintf(node, sizeof node, "%.0f", rdoc_num_or(f, "node", 0));
        snprintf(at, sizeof at, "%.1f", rdoc_num_or(f, "at_s", 0));
        rdoc_fmt_num(before, sizeof before, rdoc_num_or(f, "clients_before", 0));
        rdoc_fmt_num(nb, sizeof nb, rdoc_num_or(f, "not_back", 0));
        if (json_is_number(json_object_get(f, "all_back_after_s")))
            snprintf(back, sizeof back, "%.1f", rdoc_num_or(f, "all_back_after_s", 0));
        size_t k;
        const json_t *l;
        json_array_foreach(json_object_get(f, "landed"), k, l) {
            size_t used = strlen(landed);
            if (used + 40 >= sizeof landed)
                break;
            int same = rdoc_num_or(l, "node", -1) == rdoc_num_or(f, "node", -2);
            snprintf(landed + used, sizeof landed - used, "%snode %.0f%s: +%.0f", k ? ", " : "",
                     rdoc_num_or(l, "node", 0), same ? " (back)" : "", rdoc_num_or(l, "clients", 0));
        }
        const char *row[] = {rdoc_str_or(f, "fault", "?"), node, at, before, landed[0] ? landed : "-", nb, back};
        rout_table_row(o, NULL, row, 7);
    }
    rout_table_end(o);
}

static void section_faults(rout *o, const json_t *rep)
{
    rout_heading(o, 2, "Fault timeline", NULL);
    const json_t *faults = json_object_get(rep, "faults");
    if (json_array_size(faults) == 0) {
        rout_para(o, "No faults were injected.");
        return;
    }
    const char *cols[] = {"fault", "from (s)", "to (s)", "attributes"};
    rout_table_begin(o, "faults", cols, 4);
    size_t i;
    const json_t *f;
    json_array_foreach(faults, i, f) {
        char label[160], from[32], to[32];
        rdoc_fault_label(f, label, sizeof label);
        snprintf(from, sizeof from, "%.1f", rdoc_num_or(f, "from_s", NAN));
        double t = rdoc_num_or(f, "to_s", NAN);
        if (isnan(t))
            snprintf(to, sizeof to, "(instant)");
        else
            snprintf(to, sizeof to, "%.1f", t);
        const json_t *attrs = json_object_get(f, "attributes");
        char *a = attrs ? json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        const char *row[] = {label, from, to, a ? a : ""};
        rout_table_row(o, NULL, row, 4);
        free(a);
    }
    rout_table_end(o);
}

/* network: {namespaces: true} (docs/network.md): how each kernel fault was
 * applied and what it did, and the TCP figures of both sides. */
static void section_network(rout *o, const json_t *rep)
{
    const json_t *net = json_object_get(rep, "network");
    if (!json_is_object(net))
        return;
    rout_heading(o, 2, "Network (kernel faults)", "network");
    const json_t *k = json_object_get(net, "kernel");
    rout_para(o, "Server side in namespace %s (%s), clients in %s; kernel: nftables %s, htb %s, netem %s.",
              rdoc_str_or(net, "server_ns", "?"), rdoc_str_or(net, "server_addr", "?"), rdoc_str_or(net, "client_ns", "?"),
              json_is_true(json_object_get(k, "nftables")) ? "yes" : "no",
              json_is_true(json_object_get(k, "htb")) ? "yes" : "no",
              json_is_true(json_object_get(k, "netem")) ? "yes" : "no");
    const char *cols[] = {"fault", "mechanism", "direction", "packets seen", "acted on", "acted %",
                          "server let go after (s)"};
    rout_table_begin(o, "network-faults", cols, 7);
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(rep, "faults"), i, f) {
        if (!json_is_string(json_object_get(f, "mechanism")))
            continue;
        char seen[32] = "-", acted[32] = "-", pct[32] = "-", gone[32] = "-", dir[96];
        if (json_is_number(json_object_get(f, "packets_seen"))) {
            rdoc_fmt_num(seen, sizeof seen, json_number_value(json_object_get(f, "packets_seen")));
            rdoc_fmt_num(acted, sizeof acted, json_number_value(json_object_get(f, "packets_acted")));
            snprintf(pct, sizeof pct, "%.2f", rdoc_num_or(f, "acted_pct", 0));
        }
        if (json_is_number(json_object_get(f, "server_link_closed_after_s")))
            snprintf(gone, sizeof gone, "%.1f", rdoc_num_or(f, "server_link_closed_after_s", 0));
        const char *g = rdoc_str_or(f, "group", NULL);
        snprintf(dir, sizeof dir, "%s%s%s", rdoc_str_or(f, "direction", "?"), g ? ", group " : "", g ? g : "");
        const char *row[] = {rdoc_str_or(f, "name", "?"), rdoc_str_or(f, "mechanism", "?"), dir, seen, acted, pct,
                             gone};
        rout_table_row(o, NULL, row, 7);
    }
    rout_table_end(o);
    const char *tcols[] = {"side", "segments sent", "retransmitted", "retrans %", "RTO timeouts", "resets sent"};
    rout_table_begin(o, "network-tcp", tcols, 6);
    const char *sides[] = {"server", "client"};
    for (int s = 0; s < 2; s++) {
        const json_t *t = json_object_get(json_object_get(net, "tcp"), sides[s]);
        char a[32], b[32], c[32], d[32], e[32];
        rdoc_fmt_num(a, sizeof a, rdoc_num_or(t, "out_segs", 0));
        rdoc_fmt_num(b, sizeof b, rdoc_num_or(t, "retrans_segs", 0));
        snprintf(c, sizeof c, "%.2f", rdoc_num_or(t, "retrans_pct", 0));
        rdoc_fmt_num(d, sizeof d, rdoc_num_or(t, "timeouts", 0));
        rdoc_fmt_num(e, sizeof e, rdoc_num_or(t, "out_rsts", 0));
        const char *row[] = {s ? "clients" : "server side", a, b, c, d, e};
        rout_table_row(o, NULL, row, 6);
    }
    rout_table_end(o);
}

static void section_anomalies(rout *o, const json_t *rep)
{
    rout_heading(o, 2, "Anomalies", NULL);
    const json_t *totals = json_object_get(rep, "totals");
    char line[512];
    size_t off = 0;
    double sum = 0;
    for (size_t k = 0; k < N_ANOMALY_KINDS; k++) {
        double n = rdoc_num_or(totals, anomaly_kinds[k], 0);
        sum += n;
        off += (size_t)snprintf(line + off, sizeof line - off, "%s%s %.0f", k ? ", " : "", anomaly_kinds[k], n);
        if (off >= sizeof line)
            break;
    }
    const json_t *list = json_object_get(rep, "anomalies");
    if (sum == 0 && json_array_size(list) == 0) {
        rout_para(o, "No anomalies: %s.", line);
        return;
    }
    rout_para(o, "Counts: %s. Examples (the first %d of each kind, with the fault active at that time):", line,
              RENDER_EXAMPLES_PER_KIND);
    const char *cols[] = {"t (s)", "kind", "client", "channel", "seq", "fault at that time"};
    rout_table_begin(o, "anomalies", cols, 6);
    int shown = 0, per_kind[N_ANOMALY_KINDS + 1] = {0};
    size_t i;
    const json_t *a;
    json_array_foreach(list, i, a) {
        const char *kind = rdoc_str_or(a, "kind", "?");
        size_t k = 0;
        while (k < N_ANOMALY_KINDS && strcmp(kind, anomaly_kinds[k]) != 0)
            k++;
        if (per_kind[k] >= RENDER_EXAMPLES_PER_KIND || shown >= RENDER_EXAMPLES_MAX)
            continue;
        per_kind[k]++;
        shown++;
        char t[32], client[32], seq[32], fault[256];
        double ts = rdoc_num_or(a, "t_s", NAN);
        snprintf(t, sizeof t, "%.2f", ts);
        rdoc_fmt_num(client, sizeof client, rdoc_num_or(a, "client", NAN));
        const json_t *shard = json_object_get(a, "shard");
        if (json_is_integer(shard)) {
            size_t n = strlen(client);
            snprintf(client + n, sizeof client - n, " (shard %lld)", (long long)json_integer_value(shard));
        }
        rdoc_fmt_num(seq, sizeof seq, rdoc_num_or(a, "seq", NAN));
        if (isnan(ts))
            snprintf(fault, sizeof fault, "(time not recorded)");
        else
            rdoc_faults_at(rep, ts, fault, sizeof fault);
        const char *row[] = {t, kind, client, rdoc_str_or(a, "ch", "?"), seq, fault};
        rout_table_row(o, NULL, row, 6);
    }
    rout_table_end(o);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
static const char html_style[] =
    "</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1000px;"
    "padding:0 1em;color:#222}\n"
    "h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n"
    "table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .6em;"
    "text-align:left;font-variant-numeric:tabular-nums}\n"
    "th{background:#f3f3f3}tr.pass td:last-child{color:#1a7f37;font-weight:600}"
    "tr.fail td{background:#fff0f0}tr.fail td:last-child{color:#c00;font-weight:700}\n"
    ".badge{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff}"
    ".badge.pass{background:#1a7f37}.badge.fail{background:#c00}\n"
    "figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}"
    "figcaption{color:#555;font-size:.9em}\n</style>\n</head>\n<body>\n";

/* Embeds plots_dir/<name>.svg as a data: URI image. */
static int html_plot(rout *o, const char *plots_dir, const rplot_info *p, char *err, size_t errlen)
{
    char path[4096], file[128];
    size_t len;
    snprintf(file, sizeof file, "%s.svg", p->name);
    rdoc_path(path, sizeof path, plots_dir, file);
    char *svg = rdoc_read_file(path, &len, err, errlen);
    if (!svg)
        return -1;
    fprintf(o->f, "<figure id=\"plot-%s\"><img class=\"plot\" width=\"900\" height=\"400\" alt=\"", p->name);
    rout_text(o, p->title);
    fputs("\" src=\"data:image/svg+xml;base64,", o->f);
    rout_base64(o->f, (const unsigned char *)svg, len);
    fputs("\"><figcaption>", o->f);
    rout_text(o, p->title);
    fputs("</figcaption></figure>\n", o->f);
    free(svg);
    return 0;
}

/* Writes the report body (all sections) in o's format. */
static int write_doc(rout *o, const json_t *rep, const char *plots_dir, char *err, size_t errlen)
{
    int pass = json_is_true(json_object_get(rep, "pass"));
    char title[300];
    snprintf(title, sizeof title, "rtchaos report: %s", rdoc_str_or(rep, "scenario", "?"));
    if (o->html) {
        fputs(html_head, o->f);
        rout_text(o, title);
        fputs(html_style, o->f);
        fputs("<h1>", o->f);
        rout_text(o, title);
        fprintf(o->f, " <span class=\"badge %s\" id=\"result\">%s</span></h1>\n", pass ? "pass" : "fail",
                pass ? "PASS" : "FAIL");
    } else {
        fprintf(o->f, "# ");
        rout_text(o, title);
        fprintf(o->f, " — %s\n\n", pass ? "PASS" : "FAIL");
    }
    /* What a reader needs first: the verdicts and why; the long counter
     * table goes last. */
    section_run(o, rep);
    section_verdicts(o, rep);
    section_attacks(o, rep);
    section_latency(o, rep);
    if (section_server(o, rep, plots_dir, err, errlen) != 0)
        return -1;
    section_nodes(o, rep);
    section_anomalies(o, rep);
    section_faults(o, rep);
    section_network(o, rep);
    rout_heading(o, 2, "Plots", NULL);
    for (int i = 0; i < RPLOT_REPORT_N; i++) {
        const rplot_info *p = &rplot_report_plots[i];
        if (embed_plot(o, plots_dir, p, err, errlen) != 0)
            return -1;
    }
    section_totals(o, rep);
    if (o->html)
        fputs("<p>Files: report.json (canonical), junit.xml, report.md, plots/ (SVG, PNG, gnuplot data and "
              "script), events.jsonl.</p>\n</body></html>\n", o->f);
    else
        fputs("Files: [report.json](report.json) (canonical), [junit.xml](junit.xml), "
              "[events.jsonl](events.jsonl), [plots/](plots/) (SVG, PNG, gnuplot data and script).\n", o->f);
    return 0;
}

static int write_one(const char *run_dir, const char *name, int html, const json_t *rep, const char *plots_dir,
                     char *err, size_t errlen)
{
    rout o = {rdoc_fopen(run_dir, name, err, errlen), html};
    if (!o.f)
        return -1;
    if (write_doc(&o, rep, plots_dir, err, errlen) != 0) {
        fclose(o.f);
        return -1;
    }
    return rdoc_fclose(o.f, name, err, errlen);
}

int reports_render(const char *run_dir, char *err, size_t errlen)
{
    char path[4096], plots_dir[4096];
    rdoc_path(path, sizeof path, run_dir, "report.json");
    json_t *rep = rdoc_load(path, err, errlen);
    if (!rep)
        return -1;
    rdoc_path(plots_dir, sizeof plots_dir, run_dir, "plots");
    int rc = -1;
    if (rplot_report(rep, plots_dir, err, errlen) == 0 &&
        write_one(run_dir, "report.md", 0, rep, plots_dir, err, errlen) == 0 &&
        write_one(run_dir, "report.html", 1, rep, plots_dir, err, errlen) == 0)
        rc = 0;
    json_decref(rep);
    return rc;
}

int reports_print_summary(const char *run_dir, FILE *out, char *err, size_t errlen)
{
    char path[4096];
    rdoc_path(path, sizeof path, run_dir, "report.json");
    json_t *rep = rdoc_load(path, err, errlen);
    if (!rep)
        return -1;
    int pass = json_is_true(json_object_get(rep, "pass"));
    const json_t *t = json_object_get(rep, "totals");
    const char *error = rdoc_str_or(rep, "error", NULL);
    fprintf(out, "%s  %s  (seed %lld, %.1f s)\n", pass ? "PASS" : error ? "BROKEN" : "FAIL",
            rdoc_str_or(rep, "scenario", "?"), (long long)json_integer_value(json_object_get(rep, "seed")),
            rdoc_num_or(rep, "duration_s", 0));
    if (error)
        fprintf(out, "  run broke: %s\n", error);
    const json_t *vs = json_object_get(rep, "verdicts");
    size_t i;
    const json_t *v;
    json_array_foreach(vs, i, v) {
        char b[64], m[64];
        rdoc_fmt_num(b, sizeof b, rdoc_num_or(v, "budget", NAN));
        rdoc_fmt_num(m, sizeof m, rdoc_num_or(v, "value", NAN));
        int vp = json_is_true(json_object_get(v, "pass"));
        fprintf(out, "  %-4s %-22s measured %-12s budget %s %s\n", pass_word(vp), rdoc_str_or(v, "name", "?"), m,
                rdoc_str_or(v, "op", "?"), b);
        const char *why = rdoc_str_or(v, "error", rdoc_str_or(v, "note", NULL));
        if (!vp && why)
            fprintf(out, "       %s\n", why);
    }
    fprintf(out, "  clients %.0f  published %.0f  delivered %.0f  reconnects %.0f  errors %.0f",
            rdoc_num_or(t, "clients", 0), rdoc_num_or(t, "published", 0), rdoc_num_or(t, "delivered", 0),
            rdoc_num_or(t, "reconnects", 0), rdoc_num_or(t, "errors", 0));
    if (rdoc_num_or(t, "fallbacks", 0) > 0)
        fprintf(out, "  fallbacks %.0f", rdoc_num_or(t, "fallbacks", 0));
    fputc('\n', out);
    fprintf(out, "  lost %.0f  duplicated %.0f  reordered %.0f  resync ok %.0f / failed %.0f\n",
            rdoc_num_or(t, "lost", 0), rdoc_num_or(t, "duplicated", 0), rdoc_num_or(t, "reordered", 0),
            rdoc_num_or(t, "resync_ok", 0), rdoc_num_or(t, "resync_failed", 0));
    if (rdoc_num_or(t, "corrupted", 0) > 0)
        fprintf(out, "  corrupted %.0f (events whose data is not what was published)\n", rdoc_num_or(t, "corrupted", 0));
    if (rdoc_num_or(t, "misrouted", 0) > 0)
        fprintf(out, "  misrouted %.0f (events on a channel the client did not subscribe to)\n",
                rdoc_num_or(t, "misrouted", 0));
    if (rdoc_num_or(t, "ts_altered", 0) > 0)
        fprintf(out, "  ts_altered %.0f (events whose ts is not the publisher's: latency measured from the publisher's)\n",
                rdoc_num_or(t, "ts_altered", 0));
    const json_t *live = rdoc_latency(rep, "live");
    char p50[32], p95[32], p99[32], mx[32];
    rdoc_fmt_ms(p50, sizeof p50, rdoc_num_or(live, "p50", NAN));
    rdoc_fmt_ms(p95, sizeof p95, rdoc_num_or(live, "p95", NAN));
    rdoc_fmt_ms(p99, sizeof p99, rdoc_num_or(live, "p99", NAN));
    rdoc_fmt_ms(mx, sizeof mx, rdoc_num_or(live, "max", NAN));
    fprintf(out, "  live latency ms: p50 %s  p95 %s  p99 %s  max %s\n", p50, p95, p99, mx);
    char html[4096];
    rdoc_path(html, sizeof html, run_dir, "report.html");
    struct stat st;
    if (stat(html, &st) == 0)
        fprintf(out, "  report: %s\n", html);
    json_decref(rep);
    return 0;
}
