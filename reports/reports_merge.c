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
#include "verdict_metric.h"

/* Anomaly examples kept per kind in the merged report (the fleet's default). */
#define MERGE_ANOMALIES_PER_KIND 200

/* Re-judges each verdict (union by name over shards, first definition wins)
 * on the merged figures with the run's own evaluator (verdict_judge): the
 * same metric table, the same reading (a figure the merged report lacks, an
 * empty histogram or a ratio over nothing fails with its reason in
 * "error"), so a merge never invents a pass the run would not give.
 * Members of the shard's verdict the judge does not write are kept.
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
            double budget = 0;
            int have_budget = rdoc_num(v, "budget", &budget) == 0;
            json_t *nv = verdict_judge(name, rdoc_str_or(v, "op", "?"), budget, rdoc_str_or(v, "text", NULL), out);
            if (!nv)
                continue;
            if (!have_budget) {
                json_object_set_new(nv, "pass", json_false());
                json_object_set_new(nv, "error", json_string("the shard's verdict has no budget"));
            }
            const char *key;
            json_t *x;
            json_object_foreach(v, key, x) {
                /* the shard's own judgement ("error", "note") is not the merge's */
                if (strcmp(key, "error") && strcmp(key, "note") && !json_object_get(nv, key))
                    json_object_set(nv, key, x);
            }
            if (!json_is_true(json_object_get(nv, "pass")))
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
    if (json_object_get(shards[0], "protocol")) /* every shard ran against the same server */
        json_object_set(out, "protocol", json_object_get(shards[0], "protocol"));
    if (started)
        json_object_set_new(out, "started", json_string(started));
    json_object_set_new(out, "duration_s", json_real(duration));
    json_object_set_new(out, "pass", json_false());
    /* totals, latency_us, timeline, groups, attacks, faults, network: the one merge the
     * fleet uses for its worker processes too (reports/report_merge.h) */
    int groups_exact = 1;
    json_object_set_new(out, "totals", json_object());
    json_object_set_new(out, "latency_us", json_object());
    json_object_set_new(out, "timeline", json_array());
    for (int s = 0; s < n; s++)
        if (rmerge_report(out, shards[s], names[s], &exact, &groups_exact, err, errlen) != 0)
            goto done;
    if (!json_object_get(out, "groups") || json_object_size(json_object_get(out, "groups")) == 0)
        json_object_del(out, "groups");
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
    /* the precision the run's own report.json is written with (orch.c) */
    if (json_dump_file(out, path, JSON_INDENT(1) | JSON_REAL_PRECISION(12)) != 0) {
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
