/* nodes_report.c — report.json "nodes": clients per node over time, broker
 * lag, where a dead node's clients went (nodes_report.h). */
#include "nodes_report.h"

#include <math.h>
#include <string.h>

#define LAG_NB 64

/* cumulative lag histogram [[le_s, n]…] summed over samples/nodes */
typedef struct lag_acc {
    double le_s[LAG_NB], cum[LAG_NB], count;
    size_t nb;
} lag_acc;

static void lag_add(lag_acc *a, const json_t *smp)
{
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(smp, "broker_lag_le"), k, b) {
        if (k >= LAG_NB)
            break;
        if (k >= a->nb) {
            a->le_s[k] = json_number_value(json_array_get(b, 0));
            a->cum[k] = 0;
            a->nb = k + 1;
        }
        a->cum[k] += json_number_value(json_array_get(b, 1));
    }
    a->count += json_number_value(json_object_get(smp, "broker_lag_count"));
}

static json_t *lag_json(const lag_acc *a)
{
    json_t *o = json_pack("{s:f}", "count", a->count);
    if (a->count <= 0)
        return o;
    static const struct { const char *k; double q; } qs[] = {{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_null();
        for (size_t k = 0; k < a->nb; k++)
            if (a->cum[k] >= qs[i].q * a->count) {
                v = json_real(a->le_s[k] * 1e6);
                break;
            }
        json_object_set_new(o, qs[i].k, v);
    }
    return o;
}

static int good(const json_t *smp)
{
    return json_is_object(smp) && !json_object_get(smp, "error") && json_object_get(smp, "connections");
}

static double clients_of(const json_t *smp)
{
    double c = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(smp, "connections"), k, v) c += json_number_value(v);
    return c;
}

/* A node's clients at its last sample at or before t (-1: none). A failed
 * sample (the node was down then) counts as -1 with last_good 0 and is
 * passed over with last_good 1: the clients before a fault (a sample taken
 * in the instant the node died has failed already). */
static double clients_upto(const json_t *scrape, double t, int last_good)
{
    double c = -1;
    size_t k;
    json_t *smp;
    json_array_foreach(json_object_get(scrape, "samples"), k, smp) {
        if (json_number_value(json_object_get(smp, "t_s")) > t)
            break;
        if (good(smp))
            c = clients_of(smp);
        else if (!last_good)
            c = -1;
    }
    return c;
}

static double clients_at(const json_t *scrape, double t)
{
    return clients_upto(scrape, t, 0);
}

static double clients_before(const json_t *scrape, double t)
{
    return clients_upto(scrape, t, 1);
}

static json_t *per_node(unsigned i, const json_t *scrape, lag_acc *all)
{
    json_t *tl = json_array();
    lag_acc mine = {0};
    const json_t *prev = NULL, *last = NULL;
    double peak = 0;
    size_t k;
    json_t *smp;
    json_array_foreach(json_object_get(scrape, "samples"), k, smp) {
        double t = json_number_value(json_object_get(smp, "t_s"));
        if (!good(smp)) {
            json_array_append_new(tl, json_pack("[f,n]", t));
            continue;
        }
        double c = clients_of(smp);
        if (c > peak)
            peak = c;
        json_array_append_new(tl, json_pack("[f,f]", t, c));
        /* a node restarted counts from 0 again: keep what its last life
         * saw before the counter fell */
        if (prev && json_number_value(json_object_get(smp, "broker_lag_count")) <
                        json_number_value(json_object_get(prev, "broker_lag_count")))
            lag_add(&mine, prev);
        prev = last = smp;
    }
    if (last)
        lag_add(&mine, last);
    for (size_t b = 0; b < mine.nb; b++) {
        if (b >= all->nb) {
            all->le_s[b] = mine.le_s[b];
            all->cum[b] = 0;
            all->nb = b + 1;
        }
        all->cum[b] += mine.cum[b];
    }
    all->count += mine.count;
    json_t *conns = last ? json_object_get(last, "connections") : NULL;
    return json_pack("{s:i, s:O, s:f, s:f, s:o, s:o}", "node", (int)i, "connections", conns ? conns : json_null(),
                     "clients_peak", peak, "broker_lag_count", mine.count, "broker_lag_us", lag_json(&mine),
                     "timeline", tl);
}

static json_t *failover(unsigned n, json_t *const *scrapes, const nodes_fault *f, double end_s)
{
    const json_t *dead = scrapes[f->node];
    double before = clients_before(dead, f->from_s);
    /* read the clients' places just before the node is back, or once the
     * reconnects had time to settle */
    double read_at = isfinite(f->to_s) && f->to_s > f->from_s ? f->to_s - 0.01 : f->from_s + NODES_SETTLE_S;
    if (read_at > end_s)
        read_at = end_s;
    json_t *landed = json_array();
    double moved = 0;
    for (unsigned j = 0; j < n; j++) {
        if (!scrapes[j])
            continue;
        double b = j == f->node ? 0 : clients_before(scrapes[j], f->from_s);
        double a = clients_at(scrapes[j], read_at);
        if (b < 0)
            b = 0;
        if (a < 0 || a - b <= 0)
            continue;
        moved += a - b;
        json_array_append_new(landed, json_pack("{s:i, s:f}", "node", (int)j, "clients", a - b));
    }
    /* the first second at which the others had gained all of them */
    json_t *all_back = json_null();
    if (before > 0) {
        size_t k;
        json_t *smp;
        json_array_foreach(json_object_get(scrapes[(f->node + 1) % n], "samples"), k, smp) {
            double t = json_number_value(json_object_get(smp, "t_s"));
            if (t <= f->from_s || t > read_at)
                continue;
            double got = 0;
            for (unsigned j = 0; j < n; j++) {
                if (!scrapes[j])
                    continue;
                double b = j == f->node ? 0 : clients_before(scrapes[j], f->from_s), a = clients_at(scrapes[j], t);
                if (a > b && b >= 0)
                    got += a - b;
            }
            if (got >= before) {
                all_back = json_real(t - f->from_s);
                break;
            }
        }
    }
    return json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:o, s:f, s:o}", "fault", f->name, "kind", f->kind, "node",
                     (int)f->node, "at_s", f->from_s, "clients_before", before < 0 ? 0 : before, "read_at_s", read_at,
                     "landed", landed, "not_back", before > moved ? before - moved : 0.0, "all_back_after_s",
                     all_back);
}

json_t *nodes_report_build(unsigned n, const char *balance, json_t *const *scrapes, const nodes_fault *faults,
                           size_t nfaults, double end_s)
{
    lag_acc all = {0};
    json_t *per = json_array(), *fo = json_array();
    if (!per || !fo) {
        json_decref(per);
        json_decref(fo);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        if (!scrapes[i]) {
            json_array_append_new(per, json_pack("{s:i, s:s}", "node", (int)i, "error", "not scraped"));
            continue;
        }
        json_array_append_new(per, per_node(i, scrapes[i], &all));
    }
    for (size_t k = 0; k < nfaults; k++)
        if (faults[k].node < n && scrapes[faults[k].node] && n > 1 && isfinite(faults[k].from_s))
            json_array_append_new(fo, failover(n, scrapes, &faults[k], end_s));
    return json_pack("{s:i, s:s, s:o, s:o, s:o}", "count", (int)n, "balance", balance ? balance : "roundrobin",
                     "broker_lag_us", lag_json(&all), "per_node", per, "failover", fo);
}
