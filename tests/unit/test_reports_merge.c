/* test_reports_merge.c — merge exactness: shard reports built from raw
 * values merge into percentiles equal to one histogram of all the values;
 * counters add, timelines align on t_s, anomalies are tagged and bounded,
 * verdicts are re-judged on the merged figures; bad shards are errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hist.h"
#include "prng.h"
#include "reports.h"
#include "reports_testenv.h"
#include "report_gen.h"
#include "verdict_metric.h"

#define FIXTURES "tests/fixtures/reports/"
#define NSHARDS 3
#define SECONDS 5

typedef struct fx {
    char dir[256];
    char shard[NSHARDS][300];
    char out[300];
    hist *all;               /* every live value of every shard */
    hist *all_resync;
    hist *all_coarse;        /* the same, at the timeline's and groups' precision */
    hist *per_second[SECONDS]; /* every live value, by second (HIST_COARSE, as timeline rows) */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char dir[256]; /* a copy: snprintf into f must not read from f (restrict) */
    if (rtest_mkdir(dir, sizeof dir, "merge") != 0)
        return -1;
    memcpy(f->dir, dir, sizeof dir);
    for (int i = 0; i < NSHARDS; i++) {
        snprintf(f->shard[i], sizeof f->shard[i], "%s/shard%d", dir, i);
        mkdir(f->shard[i], 0755);
    }
    snprintf(f->out, sizeof f->out, "%s/merged", dir);
    f->all = hist_new();
    f->all_resync = hist_new();
    f->all_coarse = hist_new_precision(HIST_COARSE);
    for (int t = 0; t < SECONDS; t++)
        f->per_second[t] = hist_new_precision(HIST_COARSE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (rtest_rmtree(f->dir) != 0)
        return -1;
    hist_free(f->all);
    hist_free(f->all_resync);
    hist_free(f->all_coarse);
    for (int t = 0; t < SECONDS; t++)
        hist_free(f->per_second[t]);
    free(f);
    return 0;
}

static json_t *kind_json(const hist *h)
{
    json_t *k = hist_summary_json(h);
    json_object_set_new(k, "hist", hist_to_json(h));
    return k;
}

/* Writes shard s's report.json from nvalues raw live latencies drawn from
 * a shard-specific distribution (also recorded into the fixture's
 * all-values histograms). */
static uint64_t write_shard(fx *f, int s, int nvalues, double p95_budget_ms)
{
    prng rng;
    prng_seed(&rng, 1000 + (uint64_t)s);
    hist *live = hist_new(), *resync = hist_new(), *sec[SECONDS];
    hist *live_coarse = hist_new_precision(HIST_COARSE);
    for (int t = 0; t < SECONDS; t++)
        sec[t] = hist_new_precision(HIST_COARSE);
    json_t *timeline = json_array();
    for (int i = 0; i < nvalues; i++) {
        /* a long tail, a different scale per shard, values up to ~minutes */
        uint64_t v = (uint64_t)prng_pareto(&rng, 200.0 * (s + 1), 1.2);
        if (v > 100000000)
            v = 100000000;
        int t = i % SECONDS;
        hist_record(live, v);
        hist_record(live_coarse, v);
        hist_record(f->all_coarse, v);
        hist_record(f->all, v);
        hist_record(sec[t], v);
        hist_record(f->per_second[t], v);
    }
    for (int i = 0; i < 40 * (s + 1); i++) {
        uint64_t v = 1000 + prng_below(&rng, 90000);
        hist_record(resync, v);
        hist_record(f->all_resync, v);
    }
    for (int t = 0; t < SECONDS; t++) {
        json_t *lat = hist_buckets_json(sec[t]); /* coarse, as the fleet writes rows */
        json_array_append_new(timeline, json_pack("{s:i, s:I, s:I, s:i, s:i, s:I, s:o}", "t_s", t, "published",
                                                  (json_int_t)(10 * (s + 1)), "delivered",
                                                  (json_int_t)hist_count(sec[t]), "connected", 100 + s,
                                                  "reconnects", s, "p95_us",
                                                  (json_int_t)hist_percentile(sec[t], 95), "lat", lat));
    }
    json_t *anomalies = json_array();
    for (int i = 0; i < 150; i++)
        json_array_append_new(anomalies, json_pack("{s:s, s:i, s:s, s:i, s:f}", "kind", "lost", "client", i, "ch",
                                                   "a", "seq", 1000 + i, "t_s", 0.5 + 0.01 * i + 0.001 * s));
    json_t *rep = json_pack(
        "{s:s, s:s, s:i, s:s, s:f, s:b, s:{s:i, s:I, s:I, s:I, s:i, s:i, s:I},"
        " s:{s:o, s:o}, s:o, s:[{s:s, s:s, s:f, s:f}], s:o,"
        " s:[{s:s, s:s, s:f, s:f, s:b}, {s:s, s:s, s:i, s:i, s:b}]}",
        "schema", "rtchaos.report/1", "scenario", "sharded", "seed", 9, "started",
        s == 1 ? "2026-11-29T08:00:00Z" : "2026-11-29T08:00:01Z", "duration_s", 5.0 + s, "pass", 1, "totals",
        "clients", 100 + s, "published", (json_int_t)(50 * (s + 1)), "delivered", (json_int_t)nvalues,
        "expected", (json_int_t)(nvalues + 150), "lost", 150, "harness_stall_max_us", 100 * (s + 1),
        "resync_ok", (json_int_t)hist_count(resync), "latency_us", "live", kind_json(live), "resync",
        kind_json(resync), "timeline", timeline, "faults", "name", "cut", "toxic", "latency", "from_s", 1.0,
        "to_s", 2.0, "anomalies", anomalies, "verdicts", "name", "p95_live_ms", "op", "<=", "budget",
        p95_budget_ms, "value", hist_percentile(live, 95) / 1000.0, "pass",
        hist_percentile(live, 95) / 1000.0 <= p95_budget_ms, "name", "lost", "op", "==", "budget", 0, "value",
        150, "pass", 0);
    assert_non_null(rep);
    /* per-group totals, as the harness writes them (coarse buckets) */
    json_object_set_new(rep, "groups",
                        json_pack("{s:{s:i, s:I, s:i, s:I, s:o}}", "all", "clients", 100 + s, "delivered",
                                  (json_int_t)nvalues, "lost", 150, "live_p95_us",
                                  (json_int_t)hist_percentile(live_coarse, 95), "lat", hist_buckets_json(live_coarse)));
    json_object_set_new(rep, "command", json_string("rtchaos run x --shard i/N"));
    char path[400];
    snprintf(path, sizeof path, "%s/report.json", f->shard[s]);
    assert_int_equal(json_dump_file(rep, path, 0), 0);
    json_decref(rep);
    uint64_t p95 = hist_percentile(live, 95);
    hist_free(live);
    hist_free(live_coarse);
    hist_free(resync);
    for (int t = 0; t < SECONDS; t++)
        hist_free(sec[t]);
    return p95;
}

static void reset_all(fx *f)
{
    hist_reset(f->all);
    hist_reset(f->all_resync);
    hist_reset(f->all_coarse);
    for (int t = 0; t < SECONDS; t++)
        hist_reset(f->per_second[t]);
}

static json_t *merged(fx *f, int expect_rc)
{
    const char *dirs[NSHARDS];
    for (int i = 0; i < NSHARDS; i++)
        dirs[i] = f->shard[i];
    char err[512] = "";
    int rc = reports_merge(f->out, dirs, NSHARDS, err, sizeof err);
    if (rc < 0)
        fail_msg("merge: %s", err);
    assert_int_equal(rc, expect_rc);
    char path[400];
    snprintf(path, sizeof path, "%s/report.json", f->out);
    json_error_t jerr;
    json_t *r = json_load_file(path, 0, &jerr);
    assert_non_null(r);
    return r;
}

static json_int_t at(const json_t *o, const char *a, const char *b, const char *c)
{
    const json_t *x = json_object_get(o, a);
    if (b) x = json_object_get(x, b);
    if (c) x = json_object_get(x, c);
    assert_true(json_is_integer(x));
    return json_integer_value(x);
}

static void test_reports_merge_percentiles_exact(void **state)
{
    fx *f = *state;
    for (int s = 0; s < NSHARDS; s++)
        write_shard(f, s, 20000 + 7919 * s, 1e9);
    json_t *r = merged(f, 1); /* "lost == 0" fails in every shard, so merged too */
    static const struct { const char *key; double pct; } p[] = {
        {"p50", 50}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        assert_int_equal(at(r, "latency_us", "live", p[i].key), (json_int_t)hist_percentile(f->all, p[i].pct));
        assert_int_equal(at(r, "latency_us", "resync", p[i].key),
                         (json_int_t)hist_percentile(f->all_resync, p[i].pct));
    }
    assert_int_equal(at(r, "latency_us", "live", "count"), (json_int_t)hist_count(f->all));
    /* per-group figures merge exactly too; per-run members are not copied */
    assert_int_equal(at(r, "groups", "all", "live_p95_us"), (json_int_t)hist_percentile(f->all_coarse, 95));
    assert_int_equal(at(r, "groups", "all", "delivered"), (json_int_t)hist_count(f->all));
    assert_int_equal(at(r, "groups", "all", "lost"), 450);
    assert_null(json_object_get(r, "command"));
    assert_int_equal(json_integer_value(json_object_get(r, "exit_code")), 1);
    assert_int_equal(at(r, "latency_us", "live", "max"), (json_int_t)hist_max(f->all));
    /* the merged "hist" reads back into the same histogram */
    hist *back = hist_new();
    char err[256];
    assert_int_equal(hist_add_json(back, json_object_get(json_object_get(json_object_get(r, "latency_us"), "live"),
                                                         "hist"), err, sizeof err), 0);
    for (double q = 1; q <= 100; q += 0.5)
        assert_int_equal(hist_percentile(back, q), hist_percentile(f->all, q));
    hist_free(back);
    /* every spectrum point the merged plot draws is the combined data's */
    json_decref(r);
}

static void test_reports_merge_counters_timeline_anomalies(void **state)
{
    fx *f = *state;
    for (int s = 0; s < NSHARDS; s++)
        write_shard(f, s, 3000, 1e9);
    json_t *r = merged(f, 1);
    assert_int_equal(at(r, "totals", "clients", NULL), 100 + 101 + 102);
    assert_int_equal(at(r, "totals", "delivered", NULL), 9000);
    assert_int_equal(at(r, "totals", "lost", NULL), 450);
    assert_int_equal(at(r, "totals", "harness_stall_max_us", NULL), 300); /* a max, not a sum */
    assert_string_equal(json_string_value(json_object_get(r, "started")), "2026-11-29T08:00:00Z");
    assert_true(fabs(json_number_value(json_object_get(r, "duration_s")) - 7.0) < 1e-9);
    const json_t *tl = json_object_get(r, "timeline");
    assert_int_equal(json_array_size(tl), SECONDS);
    for (int t = 0; t < SECONDS; t++) {
        const json_t *row = json_array_get(tl, (size_t)t);
        assert_int_equal(json_integer_value(json_object_get(row, "t_s")), t);
        assert_int_equal(json_integer_value(json_object_get(row, "published")), 10 + 20 + 30);
        assert_int_equal(json_integer_value(json_object_get(row, "connected")), 303);
        assert_int_equal(json_integer_value(json_object_get(row, "reconnects")), 0 + 1 + 2);
        assert_int_equal(json_integer_value(json_object_get(row, "delivered")), (json_int_t)hist_count(f->per_second[t]));
        assert_int_equal(json_integer_value(json_object_get(row, "p95_us")),
                         (json_int_t)hist_percentile(f->per_second[t], 95));
    }
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "merge"), "timeline_p95")), "exact"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "merge"), "shards")), NSHARDS);
    /* the same fault in every shard appears once */
    assert_int_equal(json_array_size(json_object_get(r, "faults")), 1);
    /* 450 lost examples, bounded at 200 per kind, earliest first, tagged */
    const json_t *an = json_object_get(r, "anomalies");
    assert_int_equal(json_array_size(an), 200);
    double last = -1;
    size_t i;
    const json_t *a;
    json_array_foreach(an, i, a) {
        double t = json_number_value(json_object_get(a, "t_s"));
        assert_true(t >= last);
        last = t;
        assert_true(json_is_integer(json_object_get(a, "shard")));
    }
    json_decref(r);
    char path[400];
    static const char *const files[] = {"junit.xml", "report.md", "report.html", "plots/latency.svg"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", f->out, files[k]);
        if (access(path, R_OK) != 0)
            fail_msg("missing %s", path);
    }
}

/* Shard verdicts are not ANDed: the budget is judged on the merged data. */
static void test_reports_merge_verdicts_rejudged(void **state)
{
    fx *f = *state;
    uint64_t shard_p95[NSHARDS];
    for (int s = 0; s < NSHARDS; s++)
        shard_p95[s] = write_shard(f, s, 5000, 1e9);
    uint64_t all_p95 = hist_percentile(f->all, 95);
    /* a budget the last (slowest) shard fails but the whole run meets */
    assert_true(shard_p95[NSHARDS - 1] > all_p95);
    double budget_ms = (double)(all_p95 + shard_p95[NSHARDS - 1]) / 2 / 1000.0;
    reset_all(f);
    for (int s = 0; s < NSHARDS; s++)
        write_shard(f, s, 5000, budget_ms);
    char path[400];
    snprintf(path, sizeof path, "%s/report.json", f->shard[NSHARDS - 1]);
    json_error_t jerr;
    json_t *last = json_load_file(path, 0, &jerr);
    assert_true(json_is_false(json_object_get(json_array_get(json_object_get(last, "verdicts"), 0), "pass")));
    json_decref(last);
    json_t *r = merged(f, 1);
    const json_t *v = json_array_get(json_object_get(r, "verdicts"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "p95_live_ms");
    assert_true(fabs(json_number_value(json_object_get(v, "value")) - all_p95 / 1000.0) < 1e-9);
    assert_true(json_is_true(json_object_get(v, "pass")));
    v = json_array_get(json_object_get(r, "verdicts"), 1);
    assert_true(json_number_value(json_object_get(v, "value")) == 450);
    assert_true(json_is_false(json_object_get(v, "pass")));
    assert_true(json_is_false(json_object_get(r, "pass")));
    json_decref(r);
}

/* A shard whose run broke: the merged run is broken, whatever its verdicts. */
static void test_reports_merge_broken_shard(void **state)
{
    fx *f = *state;
    for (int s = 0; s < NSHARDS; s++)
        write_shard(f, s, 200, 1e9);
    char path[400];
    snprintf(path, sizeof path, "%s/report.json", f->shard[2]);
    json_error_t jerr;
    json_t *r = json_load_file(path, 0, &jerr);
    json_object_set_new(r, "error", json_string("rtchaos-server died (signal 9)"));
    json_object_set_new(r, "partial", json_true());
    json_dump_file(r, path, 0);
    json_decref(r);
    json_t *m = merged(f, 1);
    assert_true(json_is_false(json_object_get(m, "pass")));
    assert_int_equal(json_integer_value(json_object_get(m, "exit_code")), 3);
    assert_non_null(strstr(json_string_value(json_object_get(m, "error")), "shard 2"));
    assert_true(json_is_true(json_object_get(m, "partial")));
    json_decref(m);
}

static void test_reports_merge_fixture_shards(void **state)
{
    fx *f = *state;
    const char *dirs[] = {FIXTURES "shard0.json", FIXTURES "shard1.json"};
    char err[512] = "";
    int rc = reports_merge(f->out, dirs, 2, err, sizeof err);
    if (rc < 0)
        fail_msg("merge: %s", err);
    assert_int_equal(rc, 0);
}

static void test_reports_merge_refuses_inexact_or_mixed(void **state)
{
    fx *f = *state;
    char err[512] = "", path[400];
    for (int s = 0; s < NSHARDS; s++)
        write_shard(f, s, 100, 1e9);
    /* a shard whose live latency has only the summary */
    snprintf(path, sizeof path, "%s/report.json", f->shard[1]);
    json_error_t jerr;
    json_t *r = json_load_file(path, 0, &jerr);
    json_object_del(json_object_get(json_object_get(r, "latency_us"), "live"), "hist");
    json_dump_file(r, path, 0);
    const char *dirs[] = {f->shard[0], f->shard[1], f->shard[2]};
    assert_int_equal(reports_merge(f->out, dirs, NSHARDS, err, sizeof err), -1);
    assert_non_null(strstr(err, "latency_us.live has no \"hist\""));
    /* a shard of another scenario */
    json_object_set_new(r, "scenario", json_string("other"));
    json_dump_file(r, path, 0);
    json_decref(r);
    assert_int_equal(reports_merge(f->out, dirs, NSHARDS, err, sizeof err), -1);
    assert_non_null(strstr(err, "only shards of one scenario merge"));
    assert_int_equal(reports_merge(f->out, dirs, 0, err, sizeof err), -1);
}

/* Every budget metric (whole run, and per group) as a verdict of rep, judged
 * on rep itself, with the report.json header a shard carries. */
static void finish_report(json_t *rep)
{
    json_object_set_new(rep, "schema", json_string("rtchaos.report/1"));
    json_object_set_new(rep, "scenario", json_string("sharded"));
    json_object_set_new(rep, "seed", json_integer(5));
    json_object_set_new(rep, "duration_s", json_real(12.0));
    json_t *vs = json_array();
    size_t n, ng;
    const verdict_metric *all = verdict_metrics(&n), *gall = verdict_group_metrics(&ng);
    for (size_t g = 0; g <= RG_GROUPS; g++) {
        for (size_t i = 0; i < (g == RG_GROUPS ? n : ng); i++) {
            char name[160];
            if (g == RG_GROUPS)
                snprintf(name, sizeof name, "%s", all[i].name);
            else
                snprintf(name, sizeof name, "%s.%s", rg_groups[g], gall[i].name);
            json_array_append_new(vs, verdict_judge(name, i % 2 ? ">=" : "<=", 40.0, NULL, rep));
        }
    }
    json_object_set_new(rep, "pass", json_false());
    json_object_set_new(rep, "verdicts", vs);
}

/* `rtchaos merge` end to end: the same events written as 2 and as 3 shard
 * report.json files, merged by reports_merge, give the figures of one run
 * exactly (counts, histograms, percentiles of every row and group), and
 * every verdict the merge re-judges comes out as the run's own. */
static void test_reports_merge_shards_equal_one_run(void **state)
{
    fx *f = *state;
    enum { N = 30000 };
    rg_event *ev = rg_events(99, N);
    assert_non_null(ev);
    json_t *one_mem = rg_report(ev, N, 0, 1, 0);
    finish_report(one_mem);
    /* the run's report.json as the harness writes it (orch.c: 12 digits) */
    char *text = json_dumps(one_mem, JSON_REAL_PRECISION(12));
    json_t *one = json_loads(text, 0, NULL);
    free(text);
    json_decref(one_mem);
    assert_non_null(one);
    for (unsigned nshards = 2; nshards <= NSHARDS; nshards++) {
        const char *dirs[NSHARDS];
        for (unsigned s = 0; s < nshards; s++) {
            json_t *rep = rg_report(ev, N, s, nshards, 0);
            finish_report(rep);
            char path[400];
            snprintf(path, sizeof path, "%s/report.json", f->shard[s]);
            /* written as the harness writes report.json */
            assert_int_equal(json_dump_file(rep, path, JSON_REAL_PRECISION(12)), 0);
            json_decref(rep);
            dirs[s] = f->shard[s];
        }
        char err[512] = "";
        int rc = reports_merge(f->out, dirs, (int)nshards, err, sizeof err);
        if (rc < 0)
            fail_msg("merge: %s", err);
        assert_int_equal(rc, 1); /* some budgets fail, in the run as in the merge */
        char path[400];
        snprintf(path, sizeof path, "%s/report.json", f->out);
        json_error_t jerr;
        json_t *m = json_load_file(path, 0, &jerr);
        assert_non_null(m);
        static const char *const members[] = {"totals", "latency_us", "timeline", "groups", "attacks"};
        for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
            if (!json_equal(json_object_get(one, members[i]), json_object_get(m, members[i]))) {
                char *x = json_dumps(json_object_get(one, members[i]), JSON_SORT_KEYS | JSON_COMPACT);
                char *y = json_dumps(json_object_get(m, members[i]), JSON_SORT_KEYS | JSON_COMPACT);
                print_error("%u shards: %s differs\n one run: %.500s\n merged:  %.500s\n", nshards, members[i], x, y);
                free(x);
                free(y);
                fail();
            }
        }
        const json_t *vo = json_object_get(one, "verdicts"), *vm = json_object_get(m, "verdicts");
        assert_int_equal(json_array_size(vm), json_array_size(vo));
        size_t i, failed = 0;
        const json_t *v;
        json_array_foreach(vo, i, v) {
            const json_t *w = json_array_get(vm, i);
            static const char *const keys[] = {"name", "op", "budget", "value", "pass", "error"};
            for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
                const json_t *a = json_object_get(v, keys[k]), *b = json_object_get(w, keys[k]);
                if (!(a == b || (a && b && json_equal(a, b))))
                    fail_msg("%u shards: verdict %s: %s differs (%s vs %s)", nshards,
                             json_string_value(json_object_get(v, "name")), keys[k],
                             a ? json_dumps(a, JSON_ENCODE_ANY) : "(none)", b ? json_dumps(b, JSON_ENCODE_ANY) : "(none)");
            }
            failed += !json_is_true(json_object_get(v, "pass"));
        }
        assert_true(failed > 0 && failed < json_array_size(vo));
        assert_true(json_is_false(json_object_get(m, "pass")));
        assert_non_null(strstr(json_string_value(json_object_get(json_object_get(m, "merge"), "timeline_p95")), "exact"));
        json_decref(m);
    }
    json_decref(one);
    free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_merge_percentiles_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_merge_counters_timeline_anomalies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_merge_verdicts_rejudged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_merge_fixture_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_merge_broken_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_merge_refuses_inexact_or_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_merge_shards_equal_one_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
