/* orch_report.c — report.json built from what one run measured and
 * recorded (the fleet's figures, fault windows, the proxy's action log, the
 * server's metrics, network namespaces, how the children ended), the
 * verdicts judged on it, and events.jsonl. orch.c runs; this file reports. */
#include "orch_report.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "proto.h"
#include "server_scrape.h"
#include "verdict.h"
#include "version.h"
#include "windows.h"

/* The run broke while its report was built: the first cause is kept. */
static void fail(orch_report_in *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(orch_report_in *r, const char *fmt, ...)
{
    if (r->error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, r->error_cap, fmt, ap);
    va_end(ap);
}

/* ---- network namespaces --------------------------------------------------------------- */

/* last - first for every counter; states as seen last and their maximum
 * over every sample; retrans_pct = retransmitted / sent segments. */
static json_t *tcp_delta(orch_report_in *r, int side)
{
    json_t *first = r->tcp_first[side], *last = r->tcp_last[side];
    json_t *o = json_object();
    if (!first || !last)
        return o;
    const char *k;
    json_t *v;
    json_object_foreach(last, k, v) {
        if (!json_is_integer(v) || !strcmp(k, "sockets_retransmitting"))
            continue;
        json_object_set_new(o, k, json_integer(json_integer_value(v) -
                                               json_integer_value(json_object_get(first, k))));
    }
    json_int_t out = json_integer_value(json_object_get(o, "out_segs"));
    json_object_set_new(o, "retrans_pct",
                        json_real(out > 0 ? 100.0 * (double)json_integer_value(json_object_get(o, "retrans_segs")) /
                                                (double)out
                                          : 0.0));
    json_t *mx = json_object();
    size_t i;
    json_t *smp;
    json_int_t retr_max = 0;
    json_array_foreach(r->net_samples, i, smp) {
        json_t *sd = json_object_get(smp, side ? "client" : "server");
        json_object_foreach(json_object_get(sd, "states"), k, v) {
            if (json_integer_value(v) > json_integer_value(json_object_get(mx, k)))
                json_object_set_new(mx, k, json_integer(json_integer_value(v)));
        }
        json_int_t rt = json_integer_value(json_object_get(sd, "sockets_retransmitting"));
        if (rt > retr_max)
            retr_max = rt;
    }
    json_object_set_new(o, "states_max", mx);
    json_object_set_new(o, "states_end", json_deep_copy(json_object_get(last, "states")));
    json_object_set_new(o, "sockets_retransmitting_max", json_integer(retr_max));
    return o;
}

static json_t *network_json(orch_report_in *r, const json_t *faults)
{
    const scenario *s = r->s;
    json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "namespaces", 1, "server_ns", r->ns->srv, "client_ns",
                          r->ns->cli, "server_if", r->ns->srv_if, "client_if", r->ns->cli_if, "server_addr",
                          NETNS_SERVER_ADDR);
    json_t *ga = json_object();
    for (size_t g = 0; g < s->nclients; g++) {
        char a[32];
        netns_group_addr((unsigned)g, a, sizeof a);
        json_object_set_new(ga, s->clients[g].name, json_string(a));
    }
    json_object_set_new(o, "group_addrs", ga);
    if (r->net_support)
        json_object_set_new(o, "kernel", json_pack("{s:b, s:b, s:b, s:b}", "nftables", r->net_support->nft, "htb",
                                                   r->net_support->htb, "tbf", r->net_support->tbf, "netem",
                                                   r->net_support->netem));
    json_object_set_new(o, "tcp", json_pack("{s:o, s:o}", "server", tcp_delta(r, 0), "client", tcp_delta(r, 1)));
    /* Over the partitions: the longest time the server took to close the
     * connections they cut (budget metric server_idle_close_s); absent
     * when one partition ended with the server still holding some. */
    double worst = -1;
    int all = 1, anyp = 0;
    size_t i;
    json_t *fj;
    json_array_foreach(faults, i, fj) {
        const char *ty = json_string_value(json_object_get(fj, "toxic"));
        if (!ty || (strcmp(ty, "partition") && strcmp(ty, "partition_oneway")) ||
            !json_object_get(fj, "tcp_at_apply"))
            continue;
        anyp = 1;
        json_t *c = json_object_get(fj, "server_link_closed_after_s");
        if (!c)
            all = 0;
        else if (json_real_value(c) > worst)
            worst = json_real_value(c);
    }
    if (anyp && all && worst >= 0)
        json_object_set_new(o, "server_idle_close_s", json_real(worst));
    json_object_set(o, "samples", r->net_samples);
    return o;
}

/* A kernel fault's part of report.json's faults[]. */
static void net_fault_json(orch_report_in *r, size_t i, json_t *o)
{
    const scn_fault *f = &r->s->faults[i];
    json_object_set_new(o, "mechanism", json_string(netfault_mechanism(f)));
    json_object_set_new(o, "direction", json_string(scenario_direction_str(f->net.direction)));
    if (f->group)
        json_object_set_new(o, "group", json_string(f->group));
    json_t *at = json_object_get(o, "attributes");
    if (f->net.percent > 0)
        json_object_set_new(at, "percent", json_real(f->net.percent));
    if (f->net.rate_kbit_per_s)
        json_object_set_new(at, "kbit_per_s", json_integer((json_int_t)f->net.rate_kbit_per_s));
    if (f->net.mtu_bytes)
        json_object_set_new(at, "bytes", json_integer(f->net.mtu_bytes));
    if (f->net.delay_us)
        json_object_set_new(at, "delay_ms", json_real(f->net.delay_us / 1e3));
    if (f->net.jitter_us)
        json_object_set_new(at, "jitter_ms", json_real(f->net.jitter_us / 1e3));
    /* Connections by state on both sides the moment it was applied and
     * lifted: a silent partition longer than the server's idle timeout
     * shows the server's ESTABLISHED gone by the lift while nothing ever
     * reached the clients. */
    size_t k;
    json_t *smp;
    double apply_t = -1;
    json_int_t est_at_apply = 0;
    json_array_foreach(r->net_samples, k, smp) {
        const char *why = json_string_value(json_object_get(smp, "at"));
        const char *colon = why ? strchr(why, ':') : NULL;
        double ts = json_real_value(json_object_get(smp, "t_s"));
        json_int_t est = json_integer_value(
            json_object_get(json_object_get(json_object_get(smp, "server"), "link_states"), "ESTABLISHED"));
        if (colon && !strcmp(colon + 1, f->name)) {
            int applied = !strncmp(why, "apply:", 6);
            json_t *st = json_pack("{s:f, s:O, s:O}", "t_s", ts, "server",
                                   json_object_get(json_object_get(smp, "server"), "link_states"), "client",
                                   json_object_get(json_object_get(smp, "client"), "link_states"));
            json_object_set_new(o, applied ? "tcp_at_apply" : "tcp_at_lift", st);
            if (applied && apply_t < 0) {
                apply_t = ts;
                est_at_apply = est;
            } else if (!applied)
                break;
            continue;
        }
        /* The first sample inside the window where the server holds no
         * connection across the link any more: when it had closed every
         * connection the fault cut (resolution: the 500 ms sampling). */
        if (apply_t >= 0 && est_at_apply > 0 && est == 0 && !json_object_get(o, "server_link_closed_after_s"))
            json_object_set_new(o, "server_link_closed_after_s", json_real(ts - apply_t));
    }
    if (r->net_counts && !strcmp(netfault_mechanism(f), "nftables")) {
        const netfault_count *c = &r->net_counts[i];
        json_object_set_new(o, "packets_seen", json_integer((json_int_t)c->seen));
        json_object_set_new(o, "packets_acted", json_integer((json_int_t)c->acted));
        json_object_set_new(o, "acted_pct", json_real(c->seen ? 100.0 * (double)c->acted / (double)c->seen : 0.0));
    }
}

/* ---- faults, sanity, the report --------------------------------------------------------- */

/* Fault windows for report.json: the harness's own record, refined with the
 * proxy's action log (the exact instants toxics were added and removed). */
static json_t *faults_json(orch_report_in *r, const json_t *proxy_events)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->s->nfaults; i++) {
        const scn_fault *f = &r->s->faults[i];
        json_t *w = json_array_get(r->windows, i);
        const char *type = f->kind == SCN_FAULT_TOXIC ? f->toxic.type
                           : f->kind == SCN_FAULT_NETWORK ? scenario_net_kind_str(f->net.kind)
                           : f->kind == SCN_FAULT_DISCONNECT ? "disconnect"
                           : f->kind == SCN_FAULT_SERVER_KILL ? "server_kill"
                           : f->kind == SCN_FAULT_SERVER_PAUSE ? "server_pause"
                                                               : "server_restart";
        json_t *o = json_pack("{s:s, s:s, s:s}", "name", f->name, "toxic", type, "kind", scenario_fault_kind_str(f->kind));
        json_object_set(o, "from_s", json_object_get(w, "from_s") ? json_object_get(w, "from_s") : json_null());
        json_object_set(o, "to_s", json_object_get(w, "to_s") ? json_object_get(w, "to_s") : json_null());
        json_object_set_new(o, "planned_from_s", json_real((r->warmup_us + f->at_us) / 1e6));
        if (f->has_for)
            json_object_set_new(o, "planned_to_s", json_real((r->warmup_us + f->at_us + f->for_us) / 1e6));
        if (f->kind == SCN_FAULT_TOXIC) {
            json_object_set(o, "attributes", f->toxic.attributes);
            json_object_set_new(o, "stream", json_string(f->toxic.stream));
            json_object_set_new(o, "toxicity", json_real(f->toxic.toxicity));
        } else
            json_object_set_new(o, "attributes", json_object());
        if (f->kind == SCN_FAULT_DISCONNECT)
            json_object_set_new(json_object_get(o, "attributes"), "fraction", json_real(f->fraction));
        if (f->kind == SCN_FAULT_NETWORK)
            net_fault_json(r, i, o);
        json_t *on = json_object_get(w, "on");
        if (on && json_array_size(on) > 1)
            json_object_set(o, "windows", on);
        if (f->kind == SCN_FAULT_TOXIC && proxy_events) {
            /* The proxy's clock is the same wall clock: its instants, in t_s. */
            size_t k;
            json_t *e;
            double pfrom = -1, pto = -1;
            uint64_t actions = 0;
            json_array_foreach(proxy_events, k, e) {
                const char *tox = json_string_value(json_object_get(e, "toxic"));
                const char *act = json_string_value(json_object_get(e, "action"));
                if (!tox || !act || strcmp(tox, f->toxic.name))
                    continue;
                double ts = (double)(json_integer_value(json_object_get(e, "t_us")) - r->t0_wall_us) / 1e6;
                if (!strcmp(act, "toxic_add") && pfrom < 0)
                    pfrom = ts;
                else if (!strcmp(act, "toxic_remove"))
                    pto = ts;
                else if (strcmp(act, "toxic_update"))
                    actions++;
            }
            if (pfrom >= 0)
                json_object_set_new(o, "from_s", json_real(pfrom));
            if (pto >= 0)
                json_object_set_new(o, "to_s", json_real(pto));
            json_object_set_new(o, "proxy_actions", json_integer((json_int_t)actions));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static int by_t_us(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "t_us"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "t_us"));
    return x < y ? -1 : x > y;
}

/* events.jsonl: harness and proxy events merged in time order. */
int orch_report_write_events(orch_report_in *r, const json_t *proxy_events, char *err, size_t errlen)
{
    size_t n = json_array_size(r->events) + (proxy_events ? json_array_size(proxy_events) : 0);
    json_t **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0, i;
    json_t *e;
    json_array_foreach(r->events, i, e) {
        /* Time zero is the fleet's start (the report's timeline); earlier
         * events (children starting) get negative times. */
        if (r->t0_wall_us)
            json_object_set_new(e, "t_s",
                                json_real((double)(json_integer_value(json_object_get(e, "t_us")) - r->t0_wall_us) / 1e6));
        v[k++] = e;
    }
    if (proxy_events)
        json_array_foreach(proxy_events, i, e) {
            json_object_set_new(e, "source", json_string("proxy"));
            json_object_set_new(e, "t_s",
                                json_real((double)(json_integer_value(json_object_get(e, "t_us")) - r->t0_wall_us) / 1e6));
            v[k++] = e;
        }
    qsort(v, k, sizeof *v, by_t_us);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/events.jsonl", r->dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(v);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    for (i = 0; i < k; i++) {
        char *line = json_dumps(v[i], JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        if (line) {
            fputs(line, f);
            fputc('\n', f);
            free(line);
        }
    }
    free(v);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The most frequent reason in totals.errors_by_reason starting with prefix
 * (or any, prefix ""), or "". */
static const char *top_reason_of(const json_t *totals, const char *prefix)
{
    const char *best = "", *k;
    json_int_t n = 0;
    json_t *v;
    size_t pl = strlen(prefix);
    json_object_foreach(json_object_get(totals, "errors_by_reason"), k, v)
        if (json_integer_value(v) > n && !strncmp(k, prefix, pl)) {
            n = json_integer_value(v);
            best = k;
        }
    return best;
}

static const char *top_reason(const json_t *totals)
{
    return top_reason_of(totals, "");
}

/* A server that does not speak the target protocol at all (an HTML page, a
 * port that closes at once, the wrong locations) must not look like a quiet
 * run: with no publish acknowledged, or (adapters with the publisher's
 * record) no event delivered to anyone while every client failed, the run
 * broke (exit 3) and says why. A contract v1 target whose subscribers all
 * fail keeps its verdicts (a run of refused clients can be the point), but
 * one that acknowledged none of its publishes measured nothing: a file
 * server answering 404 to everything once passed "lost == 0". */
static void target_sanity(orch_report_in *r, const json_t *rep)
{
    const scenario *s = r->s;
    const proto *pr = proto_find(s->target.protocol ? s->target.protocol : "v1");
    if (!pr || s->publishers.rate_per_s <= 0)
        return;
    const json_t *t = json_object_get(rep, "totals");
    json_int_t published = json_integer_value(json_object_get(t, "published"));
    json_int_t failed = json_integer_value(json_object_get(t, "publish_failed"));
    json_int_t delivered = json_integer_value(json_object_get(t, "delivered"));
    json_int_t errors = json_integer_value(json_object_get(t, "errors"));
    const char *pub = s->target.pub_path ? s->target.pub_path : pr->def_pub_path;
    const char *sub = s->target.sub_path ? s->target.sub_path : pr->def_sub_path;
    if (pr->server_seq) {
        /* the fleet's publisher says "publish status N" (fleet_pub.c) */
        const char *why = top_reason_of(t, "publish ");
        if (published == 0 && failed > 0)
            fail(r, "the target acknowledged none of %lld publishes to %s/publish/<channel> (most often '%s'): is "
                    "it a contract v1 server?",
                 (long long)failed, r->target_url, why[0] ? why : top_reason(t));
        return;
    }
    if (published == 0 && failed > 0 && pr->fixed_paths)
        /* the locations are the protocol's: the adapter's reason says more */
        fail(r, "the target acknowledged none of %lld publishes to %s (most often '%s'): is it a %s server, with "
                "these credentials?",
             (long long)failed, r->target_url, top_reason(t), pr->name);
    else if (published == 0 && failed > 0 && s->publishers.transport == SCN_PUB_WS)
        fail(r, "none of %lld publishes went out over the WebSocket at %s%s: is it a %s server, and does it "
                "take pub_message there?",
             (long long)failed, r->target_url, sub, pr->name);
    else if (published == 0 && failed > 0)
        fail(r, "the target acknowledged none of %lld publishes to %s: is it a %s server, and is pub_path "
                "'%s' its publisher location?",
             (long long)failed, r->target_url, pr->name, pub);
    else if (delivered == 0 && errors > 0 && pr->fixed_paths)
        fail(r, "no subscriber received anything from %s (%lld errors, most often '%s'): is it a %s server, with "
                "these credentials?",
             r->target_url, (long long)errors, top_reason(t), pr->name);
    else if (delivered == 0 && errors > 0)
        fail(r, "no subscriber received anything from %s (%lld errors, most often '%s'): is it a %s server, and "
                "is sub_path '%s' its subscriber location?",
             r->target_url, (long long)errors, top_reason(t), pr->name, sub);
}

/* Whether the scenario budgets metric itself (whole run). */
static int budgeted(const scenario *s, const char *metric)
{
    for (size_t i = 0; i < s->nbudgets; i++)
        if (!strcmp(s->budgets[i].metric, metric))
            return 1;
    return 0;
}

json_t *orch_report_build(orch_report_in *r, const json_t *proxy_events)
{
    const scenario *s = r->s;
    json_t *rep = json_object();
    json_object_set_new(rep, "schema", json_string("rtchaos.report/1"));
    json_object_set_new(rep, "rtchaos_version", json_string(rtchaos_version));
    json_object_set_new(rep, "scenario", json_string(s->name));
    json_object_set_new(rep, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(rep, "target", json_string(r->target_url));
    /* "target" is a string in rtchaos.report/1; the protocol and its
     * promise sit beside it (docs/report-schema.md) */
    const proto *pr = proto_find(s->target.protocol ? s->target.protocol : "v1");
    if (pr) {
        json_t *po = json_object();
        json_object_set_new(po, "name", json_string(pr->name));
        /* ws-json without a resume message cannot resume: say so */
        int no_resume = pr == &proto_ws_json && !s->target.resume_message;
        json_object_set_new(po, "resume", json_string(proto_resume_str(no_resume ? PROTO_RESUME_NONE : pr->resume)));
        json_object_set_new(po, "promise",
                            json_string(no_resume ? "none: no resume_message, so a reconnect subscribes afresh; what "
                                                    "was published meanwhile is missed_by_design, not lost"
                                                  : pr->promise));
        if (!pr->server_seq) {
            json_object_set_new(po, "sub_path", json_string(s->target.sub_path ? s->target.sub_path : pr->def_sub_path));
            json_object_set_new(po, "pub_path", json_string(s->target.pub_path ? s->target.pub_path : pr->def_pub_path));
            json_object_set_new(po, "seq", json_string("publisher record"));
        } else {
            json_object_set_new(po, "seq", json_string("server"));
        }
        json_object_set_new(rep, "protocol", po);
    }
    json_object_set_new(rep, "started", json_string(r->started));
    json_object_set_new(rep, "duration_s", json_real(r->elapsed_s));
    json_object_set_new(rep, "pass", json_false());
    if (r->fl) {
        char err[512];
        if (fleet_report(r->fl, rep, err, sizeof err) < 0)
            fail(r, "the fleet's results could not be read: %s", err);
        /* a worker process that sent no results (it died, or did not
         * answer the stop within its deadline and was killed) leaves its
         * clients out of every count: the run broke, whatever the budgets */
        json_t *tot = json_object_get(rep, "totals");
        json_int_t lost = json_integer_value(json_object_get(tot, "workers_failed"));
        if (lost > 0) {
            char why[600] = "";
            size_t n = 0, i;
            json_t *e;
            json_array_foreach(json_object_get(tot, "workers_lost"), i, e) {
                if (n < sizeof why)
                    n += (size_t)snprintf(why + n, sizeof why - n, "; worker %lld: %s",
                                          (long long)json_integer_value(json_object_get(e, "worker")),
                                          json_string_value(json_object_get(e, "why")));
            }
            fail(r, "%lld of the fleet's %lld worker processes sent no results (died, or killed after not "
                 "answering the stop): their clients are missing from every count%s",
                 (long long)lost, (long long)json_integer_value(json_object_get(tot, "workers")), why);
        }
    }
    if (r->fl)
        target_sanity(r, rep);
    json_object_set_new(rep, "faults", faults_json(r, proxy_events));
    if (r->fl) {
        char err[256];
        if (windows_add_live(rep, err, sizeof err) < 0)
            fail(r, "latency inside/outside the fault windows: %s", err);
    }
    if (!json_object_get(rep, "anomalies"))
        json_object_set_new(rep, "anomalies", json_array());
    if (r->proxy_metrics)
        json_object_set(rep, "proxy_metrics", r->proxy_metrics);
    if (r->nodes_report)
        json_object_set(rep, "nodes", r->nodes_report);
    if (r->server_metrics) {
        json_object_set(rep, "server", r->server_metrics);
        sscrape_compare(rep);
    }
    /* before the verdicts: budgets may read network.* */
    if (r->have_netns)
        json_object_set_new(rep, "network", network_json(r, json_object_get(rep, "faults")));
    json_t *verdicts = verdict_eval(s->budgets, s->nbudgets, rep);
    int rebuilds = 0;
    for (size_t g = 0; g < s->nclients; g++)
        rebuilds |= s->clients[g].delta;
    if (rebuilds && verdicts && !budgeted(s, "delta_mismatch")) {
        /* a group rebuilds delta payloads: a wrong rebuild fails the run
         * whether or not the scenario budgets it */
        scn_budget b = {.metric = "delta_mismatch", .op = SCN_OP_EQ, .value = 0,
                        .text = "delta_mismatch == 0 (implicit: a client group rebuilds delta payloads)"};
        json_t *more = verdict_eval(&b, 1, rep);
        json_array_extend(verdicts, more);
        json_decref(more);
    }
    /* data not as published, an event delivered on a channel the client
     * never subscribed to (another channel's or tenant's), or a ts not the
     * publisher's (latency would be measured from the server's clock) is a
     * defect whatever the scenario budgets: a run that found one fails
     * (the verdict exists only then, so scenarios' verdict counts stay as
     * they were) */
    static const scn_budget always[] = {
        {.metric = "corrupted", .op = SCN_OP_EQ, .value = 0,
         .text = "corrupted == 0 (implicit: every event's data is checked)"},
        {.metric = "misrouted", .op = SCN_OP_EQ, .value = 0,
         .text = "misrouted == 0 (implicit: every event's channel is checked)"},
        {.metric = "ts_altered", .op = SCN_OP_EQ, .value = 0,
         .text = "ts_altered == 0 (implicit: latency is measured from the publisher's ts)"},
    };
    for (size_t i = 0; verdicts && i < sizeof always / sizeof always[0]; i++) {
        if (json_integer_value(json_object_get(json_object_get(rep, "totals"), always[i].metric)) <= 0 ||
            budgeted(s, always[i].metric))
            continue;
        json_t *more = verdict_eval(&always[i], 1, rep);
        json_array_extend(verdicts, more);
        json_decref(more);
    }
    json_object_set_new(rep, "verdicts", verdicts);
    int pass = verdict_all_pass(json_object_get(rep, "verdicts")) && !r->error[0] && !r->partial;
    json_object_set_new(rep, "pass", json_boolean(pass));
    /* Additions beyond the schema's fields. */
    json_object_set_new(rep, "warmup_s", json_real(r->warmup_us / 1e6));
    json_object_set_new(rep, "planned_duration_s", json_real(s->duration_us / 1e6));
    json_object_set_new(rep, "scenario_file", json_string(s->path));
    json_object_set_new(rep, "run_dir", json_string(r->dir));
    json_object_set_new(rep, "command", json_string(r->command ? r->command : ""));
    if (r->start_at_us) {
        char when[40];
        clock_format_utc(r->start_at_us, when, sizeof when);
        json_object_set_new(rep, "start_at", json_pack("{s:s, s:f}", "at", when, "late_ms", r->start_late_us / 1e3));
    }
    if (r->shard_count > 1)
        json_object_set_new(rep, "shard", json_pack("{s:i, s:i}", "index", (int)r->shard_index, "count",
                                                    (int)r->shard_count));
    json_object_set_new(rep, "proxy", json_boolean(r->have_proxy));
    if (json_object_size(r->children) > 0)
        json_object_set(rep, "children", r->children);
    if (r->error[0])
        json_object_set_new(rep, "error", json_string(r->error));
    if (r->partial)
        json_object_set_new(rep, "partial", json_true());
    int code = r->error[0] || r->partial ? ORCH_EXIT_BROKEN : pass ? ORCH_EXIT_PASS : ORCH_EXIT_FAILED;
    json_object_set_new(rep, "exit_code", json_integer(code));
    return rep;
}

