/* reports_merge.c — exact merge of shard report.json files into one report
 * (histograms add, counters add, timelines align on t_s), then re-judges
 * the verdicts and renders the merged run. */
#include "reports.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdoc.h"
#include "report_merge.h"

/* Anomaly examples kept per kind in the merged report (the fleet's default). */
#define MERGE_ANOMALIES_PER_KIND 200

/* Totals add and latency histograms add exactly (report_merge.h, shared with
 * the fleet's merge of its worker processes). */
static int merge_totals_latency(json_t *out, json_t *const *shards, const char *const *names, int n,
                                char *err, size_t errlen)
{
    json_t *totals = json_object(), *lat = json_object();
    if (!totals || !lat) {
        json_decref(totals);
        json_decref(lat);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_object_set_new(out, "totals", totals);
    json_object_set_new(out, "latency_us", lat);
    for (int s = 0; s < n; s++)
        if (rmerge_totals(totals, json_object_get(shards[s], "totals"), err, errlen) != 0 ||
            rmerge_latency(lat, json_object_get(shards[s], "latency_us"), names[s], err, errlen) != 0)
            return -1;
    return 0;
}

typedef struct bucket {
    uint64_t v, c;
} bucket;

static int bucket_cmp(const void *a, const void *b)
{
    const bucket *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}

typedef struct tl_ref {
    double t_s;
    const json_t *row;
} tl_ref;

static int tl_cmp(const void *a, const void *b)
{
    const tl_ref *x = a, *y = b;
    return x->t_s < y->t_s ? -1 : x->t_s > y->t_s;
}

/* Merges rows[0..n) (all at the same t_s) into one row. Counters add;
 * "lat" buckets add and p50/p95/p99_us are recomputed from them when every
 * row has them (*exact stays 1), else p*_us take the max (*exact = 0). */
static json_t *merge_row(const tl_ref *rows, size_t n, hist *h, int *exact)
{
    json_t *row = json_object();
    size_t nb = 0, cap = 0;
    bucket *bs = NULL;
    int all_lat = 1;
    for (size_t i = 0; i < n; i++) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)rows[i].row, key, v) {
            if (strcmp(key, "t_s") == 0 || strcmp(key, "lat") == 0 || !json_is_number(v))
                continue;
            double x = json_number_value(v);
            json_t *cur = json_object_get(row, key);
            int pct = key[0] == 'p' && key[1] >= '0' && key[1] <= '9';
            if (cur)
                x = (pct || rmerge_is_max_key(key)) ? fmax(json_number_value(cur), x) : json_number_value(cur) + x;
            json_object_set_new(row, key, rmerge_number(x));
        }
        const json_t *lat = json_object_get(rows[i].row, "lat");
        if (!json_is_array(lat)) {
            /* a second in which this shard delivered nothing has no buckets to add */
            if (rdoc_num_or(rows[i].row, "delivered", 1) != 0)
                all_lat = 0;
            continue;
        }
        size_t j;
        const json_t *b;
        json_array_foreach(lat, j, b) {
            if (nb == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                bucket *nbs = realloc(bs, ncap * sizeof *nbs);
                if (!nbs) {
                    free(bs);
                    json_decref(row);
                    return NULL;
                }
                bs = nbs;
                cap = ncap;
            }
            json_int_t v0 = json_integer_value(json_array_get(b, 0)), c0 = json_integer_value(json_array_get(b, 1));
            if (v0 < 0 || c0 <= 0)
                continue;
            bs[nb].v = (uint64_t)v0;
            bs[nb].c = (uint64_t)c0;
            nb++;
        }
    }
    json_object_set_new(row, "t_s", rmerge_number(rows[0].t_s));
    if (all_lat) {
        qsort(bs, nb, sizeof *bs, bucket_cmp);
        json_t *lat = json_array();
        hist_reset(h);
        for (size_t i = 0; i < nb;) {
            uint64_t v = bs[i].v, c = 0;
            for (; i < nb && bs[i].v == v; i++)
                c += bs[i].c;
            json_array_append_new(lat, json_pack("[II]", (json_int_t)v, (json_int_t)c));
            hist_record_n(h, v, c);
        }
        if (hist_count(h) > 0) {
            json_object_set_new(row, "p50_us", json_integer((json_int_t)hist_percentile(h, 50)));
            json_object_set_new(row, "p95_us", json_integer((json_int_t)hist_percentile(h, 95)));
            json_object_set_new(row, "p99_us", json_integer((json_int_t)hist_percentile(h, 99)));
        }
        json_object_set_new(row, "lat", lat);
    } else if (n > 1) {
        *exact = 0;
    }
    free(bs);
    return row;
}

static int merge_timeline(json_t *out, json_t *const *shards, int n, int *exact, char *err, size_t errlen)
{
    size_t total = 0;
    for (int s = 0; s < n; s++)
        total += json_array_size(json_object_get(shards[s], "timeline"));
    tl_ref *refs = calloc(total ? total : 1, sizeof *refs);
    json_t *tl = json_array();
    hist *h = hist_new();
    if (!refs || !tl || !h)
        goto oom;
    size_t k = 0;
    for (int s = 0; s < n; s++) {
        size_t i;
        const json_t *row;
        json_array_foreach(json_object_get(shards[s], "timeline"), i, row) {
            double t;
            if (rdoc_num(row, "t_s", &t) != 0)
                continue;
            refs[k].t_s = t;
            refs[k].row = row;
            k++;
        }
    }
    qsort(refs, k, sizeof *refs, tl_cmp);
    *exact = 1;
    for (size_t i = 0; i < k;) {
        size_t j = i;
        /* Rows align on t_s: shards share the scenario's clock origin and
         * emit one row per whole second. */
        while (j < k && fabs(refs[j].t_s - refs[i].t_s) < 1e-6)
            j++;
        json_t *row = merge_row(refs + i, j - i, h, exact);
        if (!row)
            goto oom;
        json_array_append_new(tl, row);
        i = j;
    }
    free(refs);
    hist_free(h);
    json_object_set_new(out, "timeline", tl);
    return 0;
oom:
    free(refs);
    hist_free(h);
    json_decref(tl);
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* 1 for a per-group latency percentile field ("live_p95_us"): recomputed,
 * never added. */
static int is_group_percentile(const char *key)
{
    const char *p = strstr(key, "_p");
    return p && p[2] >= '0' && p[2] <= '9';
}

/* parent.key (an attack object, created when missing) += src: the
 * attackers' counts, outcomes and time-to-refusal histogram add exactly. */
static int merge_attack_into(json_t *parent, const char *key, const json_t *src, char *err, size_t errlen)
{
    json_t *d = json_object_get(parent, key);
    if (!json_is_object(d)) {
        d = json_object();
        if (!d || json_object_set_new(parent, key, d) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return rmerge_attack(d, src, "shard", err, errlen);
}

/* Per-group totals ("groups": {name: {counters…, live_pNN_us, "lat"}}): the
 * counters add; the percentiles are recomputed from the added "lat" buckets
 * when every shard's group has them, else they take the max (and *exact = 0). */
static int merge_groups(json_t *out, json_t *const *shards, int n, int *exact, char *err, size_t errlen)
{
    json_t *groups = json_object();
    hist *h = hist_new();
    if (!groups || !h) {
        json_decref(groups);
        hist_free(h);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int any = 0;
    for (int s = 0; s < n; s++) {
        const char *name;
        json_t *g;
        json_object_foreach(json_object_get(shards[s], "groups"), name, g) {
            any = 1;
            if (json_object_get(groups, name) || !json_is_object(g))
                continue;
            json_t *m = json_object();
            int all_lat = 1;
            hist_reset(h);
            for (int t = 0; t < n; t++) {
                const json_t *gt = json_object_get(json_object_get(shards[t], "groups"), name);
                if (!json_is_object(gt))
                    continue;
                const char *key;
                json_t *v;
                json_object_foreach((json_t *)gt, key, v) {
                    if (!json_is_number(v))
                        continue;
                    double x = json_number_value(v);
                    json_t *cur = json_object_get(m, key);
                    if (cur)
                        x = (is_group_percentile(key) || rmerge_is_max_key(key)) ? fmax(json_number_value(cur), x)
                                                                             : json_number_value(cur) + x;
                    json_object_set_new(m, key, rmerge_number(x));
                }
                const json_t *atk = json_object_get(gt, "attack");
                if (json_is_object(atk) && merge_attack_into(m, "attack", atk, err, errlen) != 0) {
                    json_decref(m);
                    json_decref(groups);
                    hist_free(h);
                    return -1;
                }
                const json_t *lat = json_object_get(gt, "lat");
                if (!json_is_array(lat)) {
                    all_lat = 0;
                    continue;
                }
                size_t i;
                const json_t *b;
                json_array_foreach(lat, i, b) {
                    json_int_t bv = json_integer_value(json_array_get(b, 0)), bc = json_integer_value(json_array_get(b, 1));
                    if (bv >= 0 && bc > 0)
                        hist_record_n(h, (uint64_t)bv, (uint64_t)bc);
                }
            }
            if (all_lat) {
                static const struct { const char *key; double pct; } pk[] = {
                    {"live_p50_us", 50}, {"live_p95_us", 95}, {"live_p99_us", 99}};
                for (size_t k = 0; k < sizeof pk / sizeof pk[0]; k++)
                    if (json_object_get(m, pk[k].key))
                        json_object_set_new(m, pk[k].key, json_integer((json_int_t)hist_percentile(h, pk[k].pct)));
                json_t *hj = hist_to_json(h);
                json_object_set(m, "lat", json_object_get(hj, "buckets"));
                json_decref(hj);
            } else {
                *exact = 0;
            }
            json_object_set_new(groups, name, m);
        }
    }
    hist_free(h);
    if (any)
        json_object_set_new(out, "groups", groups);
    else
        json_decref(groups);
    return 0;
}

static void merge_faults(json_t *out, json_t *const *shards, int n)
{
    json_t *faults = json_array();
    for (int s = 0; s < n; s++) {
        size_t i, j;
        json_t *f, *g;
        json_array_foreach(json_object_get(shards[s], "faults"), i, f) {
            int seen = 0;
            json_array_foreach(faults, j, g) if (json_equal(f, g)) seen = 1;
            if (!seen)
                json_array_append(faults, f);
        }
    }
    json_object_set_new(out, "faults", faults);
}

/* Re-judges each verdict (union by name over shards, first definition wins)
 * on the merged figures. A verdict whose figure cannot be recomputed from
 * the merged report fails with a note: a merge never invents a pass.
 * Returns the number of failed verdicts. */
static int merge_verdicts(json_t *out, json_t *const *shards, int n)
{
    json_t *vs = json_array();
    int failed = 0;
    for (int s = 0; s < n; s++) {
        size_t i, j;
        json_t *v, *w;
        json_array_foreach(json_object_get(shards[s], "verdicts"), i, v) {
            const char *name = rdoc_str_or(v, "name", NULL);
            int seen = 0;
            json_array_foreach(vs, j, w) if (name && strcmp(rdoc_str_or(w, "name", ""), name) == 0) seen = 1;
            if (!name || seen)
                continue;
            json_t *nv = json_deep_copy(v);
            const char *op = rdoc_str_or(v, "op", "?");
            double budget, value;
            int pass = 0;
            if (rdoc_num(v, "budget", &budget) == 0 && rdoc_verdict_metric(out, name, &value) == 0 &&
                rdoc_compare_op(op, value, budget, &pass) == 0) {
                json_object_set_new(nv, "value", rmerge_number(value));
            } else {
                pass = 0;
                json_object_set_new(nv, "value", json_null());
                json_object_set_new(nv, "note", json_string("cannot be re-evaluated from the merged shards"));
            }
            json_object_set_new(nv, "pass", json_boolean(pass));
            if (!pass)
                failed++;
            json_array_append_new(vs, nv);
        }
    }
    json_object_set_new(out, "verdicts", vs);
    return failed;
}

int reports_merge(const char *out_dir, const char *const *shard_dirs, int n, char *err, size_t errlen)
{
    if (n < 1) {
        snprintf(err, errlen, "merge needs at least one shard report");
        return -1;
    }
    json_t **shards = calloc((size_t)n, sizeof *shards);
    char(*names)[4096] = calloc((size_t)n, sizeof *names);
    const char **name_ptrs = calloc((size_t)n, sizeof *name_ptrs);
    json_t *out = NULL;
    int rc = -1, exact = 1, any_failed_shard = 0;
    if (!shards || !names || !name_ptrs) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int s = 0; s < n; s++) {
        shards[s] = rdoc_load_dir(shard_dirs[s], names[s], sizeof names[s], err, errlen);
        if (!shards[s])
            goto done;
        name_ptrs[s] = names[s];
        if (!json_is_true(json_object_get(shards[s], "pass")))
            any_failed_shard = 1;
    }
    const char *scenario = rdoc_str_or(shards[0], "scenario", "");
    for (int s = 1; s < n; s++) {
        if (strcmp(rdoc_str_or(shards[s], "scenario", ""), scenario) != 0) {
            snprintf(err, errlen, "%s is scenario \"%s\" but %s is \"%s\": only shards of one scenario merge",
                     names[s], rdoc_str_or(shards[s], "scenario", ""), names[0], scenario);
            goto done;
        }
    }
    out = json_object();
    json_object_set_new(out, "schema", json_string(RDOC_SCHEMA));
    json_object_set_new(out, "scenario", json_string(scenario));
    double duration = 0;
    const char *started = NULL;
    for (int s = 0; s < n; s++) {
        duration = fmax(duration, rdoc_num_or(shards[s], "duration_s", 0));
        const char *st = rdoc_str_or(shards[s], "started", NULL);
        if (st && (!started || strcmp(st, started) < 0))
            started = st; /* ISO-8601 UTC strings sort by time */
    }
    json_object_set(out, "seed", json_object_get(shards[0], "seed") ? json_object_get(shards[0], "seed") : json_null());
    if (json_object_get(shards[0], "target"))
        json_object_set(out, "target", json_object_get(shards[0], "target"));
    if (started)
        json_object_set_new(out, "started", json_string(started));
    json_object_set_new(out, "duration_s", json_real(duration));
    json_object_set_new(out, "pass", json_false());
    if (merge_totals_latency(out, shards, name_ptrs, n, err, errlen) != 0 ||
        merge_timeline(out, shards, n, &exact, err, errlen) != 0)
        goto done;
    int groups_exact = 1;
    if (merge_groups(out, shards, n, &groups_exact, err, errlen) != 0)
        goto done;
    for (int s = 0; s < n; s++) { /* the attackers' outcomes (optional) */
        const json_t *atk = json_object_get(shards[s], "attacks");
        if (json_is_object(atk) && merge_attack_into(out, "attacks", atk, err, errlen) != 0)
            goto done;
    }
    merge_faults(out, shards, n);
    /* anomalies: each tagged with its shard (client ids are per shard) */
    const json_t **lists = calloc((size_t)n, sizeof *lists);
    for (int s = 0; lists && s < n; s++)
        lists[s] = json_object_get(shards[s], "anomalies");
    json_t *anomalies = lists ? rmerge_anomalies(lists, (size_t)n, MERGE_ANOMALIES_PER_KIND, 1) : NULL;
    free(lists);
    if (!anomalies) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    json_object_set_new(out, "anomalies", anomalies);
    /* A shard whose run broke makes the merged run broken too: its figures
     * are partial, so no verdict on the whole is trustworthy. */
    char broken[1024] = "";
    size_t boff = 0;
    int any_partial = 0;
    for (int s = 0; s < n; s++) {
        const char *e = rdoc_str_or(shards[s], "error", NULL);
        any_partial |= json_is_true(json_object_get(shards[s], "partial"));
        if (e && boff < sizeof broken)
            boff += (size_t)snprintf(broken + boff, sizeof broken - boff, "%sshard %d (%s): %s", boff ? "; " : "",
                                     s, names[s], e);
    }
    int failed = merge_verdicts(out, shards, n);
    int pass = json_array_size(json_object_get(out, "verdicts")) > 0 ? failed == 0 : !any_failed_shard;
    if (broken[0]) {
        pass = 0;
        json_object_set_new(out, "error", json_string(broken));
    }
    if (any_partial)
        json_object_set_new(out, "partial", json_true());
    json_object_set_new(out, "pass", json_boolean(pass));
    json_object_set_new(out, "exit_code", json_integer(broken[0] ? 3 : pass ? 0 : 1));
    json_object_set_new(out, "run_dir", json_string(out_dir));
    json_t *merge = json_object(), *sources = json_array();
    for (int s = 0; s < n; s++)
        json_array_append_new(sources, json_string(names[s]));
    json_object_set_new(merge, "shards", json_integer(n));
    json_object_set_new(merge, "sources", sources);
    json_object_set_new(merge, "timeline_p95", json_string(exact ? "exact (per-second buckets added)"
                                                                 : "max over shards (an upper bound): some rows "
                                                                   "carry no per-second buckets"));
    if (json_object_get(out, "groups"))
        json_object_set_new(merge, "groups_percentiles",
                            json_string(groups_exact ? "exact (group buckets added)"
                                                     : "max over shards (an upper bound): some groups carry no buckets"));
    json_object_set_new(out, "merge", merge);
    /* Members this code does not know (added to the schema later) are kept
     * from the first shard — except those that describe one shard's run
     * (its command line, its shard number), which would be false here. */
    static const char *const per_run[] = {"command", "shard", "started_mono", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(shards[0], key, v) {
        int skip = 0;
        for (const char *const *k = per_run; *k; k++)
            skip |= strcmp(*k, key) == 0;
        if (!skip && !json_object_get(out, key))
            json_object_set(out, key, v);
    }

    char path[4096];
    if (rdoc_mkdir(out_dir, err, errlen) != 0)
        goto done;
    rdoc_path(path, sizeof path, out_dir, "report.json");
    if (json_dump_file(out, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0) {
        snprintf(err, errlen, "write %s failed", path);
        goto done;
    }
    if (reports_write_junit(out_dir, err, errlen) != 0 || reports_render(out_dir, err, errlen) != 0)
        goto done;
    rc = pass ? 0 : 1;
done:
    if (shards)
        for (int s = 0; s < n; s++)
            json_decref(shards[s]);
    free(shards);
    free(names);
    free(name_ptrs);
    json_decref(out);
    return rc;
}
