/* test_suite.c — suite files (parsing, every error with its position),
 * the drill judgements (Prometheus sums, watches, restore budgets) and the
 * runner's index and exit codes for entries that are not runnable or whose
 * run leaves no report. */
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

#include "suite.h"
#include "suite_def.h"
#include "suite_drill.h"
#include "suite_alerts.h"
#include "rdoc.h"
#include "reports_testenv.h"

typedef struct fx {
    char dir[256];
    char path[300];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (rtest_mkdir(f->dir, sizeof f->dir, "suite") != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/suite.yaml", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (rtest_rmtree(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *o = fopen(path, "w");
    assert_non_null(o);
    fputs(text, o);
    fclose(o);
}

/* Loads f->path; returns the diagnostics (caller frees) and the count. */
static char *load_errors(fx *f, int *nerr)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    suite_def s;
    int rc = suite_def_load(f->path, &s, m, nerr);
    fclose(m);
    if (rc == 0)
        suite_def_free(&s);
    return buf;
}

static void test_suite_parse_valid(void **state)
{
    fx *f = *state;
    char scen[400], text[2048];
    snprintf(scen, sizeof scen, "%s/one.yaml", f->dir);
    write_text(scen, "name: one\nwarmup: 1500ms\nduration: 5s\nclients:\n  - count: 3\n");
    snprintf(text, sizeof text,
             "suite: demo\ntitle: Demo\nquestions:\n  1: \"Why?\"\ndefaults:\n  set: [\"seed=3\"]\n  short: [\"duration=2s\"]\n"
             "entries:\n"
             "  - id: a-1\n    title: First\n    question: 1\n    scenario: one.yaml\n    answer: [lost, p95_live_ms]\n"
             "    short: [\"clients.0.count=5\"]\n"
             "  - id: b\n    title: Later\n    not_runnable: needs the future\n"
             "  - id: c\n    title: Drill\n    scenario: one.yaml\n    verdicts: informational\n    drill:\n"
             "      server: {args: [\"--admin\", \"1\"]}\n"
             "      watch:\n        - {metric: rtchaos_x_total, labels: 'a=\"b\"', expect: above, value: 5, window: [1s, 2.5s]}\n"
             "      actions:\n        - {at: 1500ms, path: /admin/flags, body: '{}'}\n"
             "      restore: {from: 3s, budgets: [\"p95_live_ms <= 20\"]}\n");
    write_text(f->path, text);
    suite_def s;
    int nerr = -1;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int rc = suite_def_load(f->path, &s, m, &nerr);
    fclose(m);
    if (rc != 0)
        fail_msg("load: %s", buf);
    free(buf);
    assert_int_equal(nerr, 0);
    assert_string_equal(s.name, "demo");
    assert_int_equal(s.nentries, 3);
    assert_string_equal(s.questions[1], "Why?");
    assert_int_equal(s.entries[0].question, 1);
    assert_string_equal(s.entries[0].scenario, scen);
    assert_int_equal(s.entries[0].nanswer, 2);
    assert_int_equal(s.entries[0].nshort_sets, 1);
    assert_int_equal(s.nsets, 1);
    assert_null(s.entries[1].scenario);
    assert_string_equal(s.entries[1].not_runnable, "needs the future");
    const suite_drill *d = &s.entries[2].drill;
    assert_true(d->present);
    assert_true(s.entries[2].verdicts_informational);
    assert_int_equal(d->nserver_args, 2);
    assert_int_equal(d->nwatches, 1);
    assert_int_equal(d->watches[0].expect, SUITE_EXPECT_ABOVE);
    assert_true(fabs(d->watches[0].to_s - 2.5) < 1e-9);
    assert_string_equal(d->watches[0].labels, "a=\"b\"");
    assert_int_equal(d->nactions, 1);
    assert_true(fabs(d->actions[0].at_s - 1.5) < 1e-9);
    assert_string_equal(d->actions[0].method, "POST");
    assert_int_equal(d->nbudgets, 1);
    assert_string_equal(d->budgets[0].metric, "p95_live_ms");
    /* the warm-up as the run will have it: the scenario loaded with the
     * suite's, the entry's and then the command line's --set */
    assert_true(fabs(suite_def_warmup_s(&s, &s.entries[0], 0, NULL, 0) - 1.5) < 1e-9);
    const char *cli[] = {"warmup=3s"};
    assert_true(fabs(suite_def_warmup_s(&s, &s.entries[0], 1, cli, 1) - 3.0) < 1e-9);
    assert_true(suite_def_warmup_s(&s, &s.entries[1], 0, NULL, 0) < 0); /* no scenario */
    suite_def_free(&s);
    assert_int_equal(suite_is_suite_file(f->path), 1);
    assert_int_equal(suite_is_suite_file(scen), 0);
}

static void test_suite_parse_errors_have_positions(void **state)
{
    fx *f = *state;
    write_text(f->path, "suite: bad\ntitle: Bad\nquestions: {1: \"Q\"}\nentries:\n"
                        "  - id: Has Space\n    title: x\n    scenario: nowhere.yaml\n"
                        "  - id: two\n    title: y\n    question: 4\n    not_runnable: later\n    colour: red\n"
                        "  - id: two\n    title: z\n"
                        "  - id: three\n    title: w\n    not_runnable: later\n    set: [\"novalue\"]\n    require: [\"lost is zero\"]\n"
                        "    drill: {watch: [{metric: m, expect: sideways}], actions: [{path: admin}]}\n");
    int nerr = 0;
    char *e = load_errors(f, &nerr);
    assert_non_null(e);
    assert_non_null(strstr(e, ":5:9: id 'Has Space' may hold only a-z, 0-9, - and _"));
    assert_non_null(strstr(e, ":7:15: scenario nowhere.yaml: cannot read"));
    assert_non_null(strstr(e, ":10:15: question 4 is not in the suite's 'questions' list"));
    assert_non_null(strstr(e, ":12:5: unknown key 'colour' in entry; expected one of: id, title,"));
    assert_non_null(strstr(e, "entry 'two': needs 'scenario' (or 'not_runnable' with the reason)"));
    assert_non_null(strstr(e, "entry id 'two' is used twice"));
    assert_non_null(strstr(e, "set: 'novalue' is not path=value"));
    assert_non_null(strstr(e, "expect: 'sideways' is not increase, above, below or flat"));
    assert_non_null(strstr(e, "drill action: missing 'at'"));
    assert_non_null(strstr(e, "path must start with /"));
    assert_non_null(strstr(e, "require: 'lost is zero' is not 'METRIC OP VALUE'"));
    assert_int_equal(nerr, 11);
    free(e);
    write_text(f->path, "suite: x\ntitle: [unclosed\n");
    e = load_errors(f, &nerr);
    assert_non_null(strstr(e, "suite.yaml:"));
    assert_int_equal(nerr, 1);
    free(e);
    write_text(f->path, "suite: x\ntitle: t\nentries: []\n");
    e = load_errors(f, &nerr);
    assert_non_null(strstr(e, "'entries' must be a non-empty list"));
    free(e);
}

static void test_suite_prometheus_sums(void **state)
{
    (void)state;
    const char *text = "# HELP rtchaos_x_total X.\n# TYPE rtchaos_x_total counter\n"
                       "rtchaos_x_total{policy=\"drop\",action=\"a\"} 5\n"
                       "rtchaos_x_total{policy=\"disconnect\",action=\"d\"} 7\n"
                       "rtchaos_x_total_extra 1000\n"
                       "rtchaos_lat_seconds_bucket{le=\"0.1\"} 3\nrtchaos_lat_seconds_count 9\n"
                       "rtchaos_plain 2.5\n";
    double v;
    assert_int_equal(suite_drill_prom_sum(text, "rtchaos_x_total", NULL, &v), 0);
    assert_true(v == 12);
    assert_int_equal(suite_drill_prom_sum(text, "rtchaos_x_total", "policy=\"drop\"", &v), 0);
    assert_true(v == 5);
    assert_int_equal(suite_drill_prom_sum(text, "rtchaos_plain", NULL, &v), 0);
    assert_true(v == 2.5);
    assert_int_equal(suite_drill_prom_sum(text, "rtchaos_lat_seconds_count", NULL, &v), 0);
    assert_true(v == 9);
    assert_int_equal(suite_drill_prom_sum(text, "rtchaos_lat_seconds", NULL, &v), -1);
    assert_int_equal(suite_drill_prom_sum(text, "rtchaos_x_total", "policy=\"coalesce\"", &v), -1);
    assert_int_equal(suite_drill_prom_sum(text, "rtchaos_plain", "a=\"b\"", &v), -1);
}

static void test_suite_watch_judgements(void **state)
{
    (void)state;
    suite_samples s = {0};
    /* t: 0..9 s, value: 10 until 4 s, then +5 per second */
    for (int t = 0; t < 10; t++)
        suite_samples_add(&s, t, t < 4 ? 10 : 10 + 5 * (t - 3));
    char why[300];
    suite_watch w = {.metric = "m", .expect = SUITE_EXPECT_INCREASE, .value = 0, .from_s = 0, .to_s = 3};
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 0); /* flat before 4 s */
    w.from_s = 3;
    w.to_s = 6;
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 1); /* 10 → 25 */
    assert_non_null(strstr(why, "went from 10 to 25"));
    w.value = 15; /* needs more than +15 */
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 0);
    w.expect = SUITE_EXPECT_FLAT;
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 1);
    w.expect = SUITE_EXPECT_ABOVE;
    w.value = 45;
    w.to_s = -1; /* to the end: peak 40 */
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 0);
    w.value = 39;
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 1);
    w.expect = SUITE_EXPECT_BELOW;
    w.value = 40; /* peak 40 is not below 40 */
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 0);
    w.from_s = 20; /* no sample in the window never passes */
    w.expect = SUITE_EXPECT_FLAT;
    assert_int_equal(suite_drill_watch_judge(&w, &s, why, sizeof why), 0);
    assert_non_null(strstr(why, "no /metrics sample"));
    suite_samples_free(&s);
}

static void test_suite_restore_budget_on_timeline(void **state)
{
    (void)state;
    /* 10 rows: 1000 µs latency, except 200 ms at t 3..5 */
    json_t *tl = json_array();
    for (int t = 0; t < 10; t++) {
        json_int_t v = (t >= 3 && t <= 5) ? 200000 : 1000;
        json_array_append_new(tl, json_pack("{s:i, s:i, s:[[I,i]]}", "t_s", t, "delivered", 100, "lat", v, 100));
    }
    json_t *rep = json_pack("{s:o}", "timeline", tl);
    suite_window_budget b = {.text = "p95_live_ms <= 50", .metric = "p95_live_ms", .op = "<=", .value = 50,
                             .from_s = 6, .to_s = -1};
    double v;
    char why[300];
    assert_int_equal(suite_drill_budget_judge(&b, rep, 0, &v, why, sizeof why), 1);
    assert_true(fabs(v - 1.0) < 1e-9);
    b.from_s = 2;
    b.to_s = 6;
    assert_int_equal(suite_drill_budget_judge(&b, rep, 0, &v, why, sizeof why), 0);
    assert_true(fabs(v - 200.0) < 0.5);
    b.metric = "delivered_per_s";
    b.op = ">=";
    b.value = 100;
    assert_int_equal(suite_drill_budget_judge(&b, rep, 0, &v, why, sizeof why), 1);
    /* with a 2 s warm-up, run time 1..3 is report time 3..5: the slow rows */
    b.metric = "p95_live_ms";
    b.op = "<=";
    b.value = 50;
    b.from_s = 1;
    b.to_s = 3;
    assert_int_equal(suite_drill_budget_judge(&b, rep, 2, &v, why, sizeof why), 0);
    assert_int_equal(suite_drill_budget_judge(&b, rep, 0, &v, why, sizeof why), 0);
    b.from_s = 4;
    b.to_s = -1;
    assert_int_equal(suite_drill_budget_judge(&b, rep, 2, &v, why, sizeof why), 1);
    b.from_s = 50;
    assert_int_equal(suite_drill_budget_judge(&b, rep, 0, &v, why, sizeof why), 0);
    assert_non_null(strstr(why, "no timeline rows"));
    json_decref(rep);
}

/* A suite of one entry not yet runnable and one whose run is checked. */
static const char LATER_AND_QUIET[] =
    "suite: idx\ntitle: Index test\nquestions: {1: \"Is it safe?\"}\nentries:\n"
    "  - {id: later, title: Later, question: 1, not_runnable: \"needs issue 7\"}\n"
    "  - {id: quiet, title: Quiet, question: 1, scenario: one.yaml, answer: [lost]}\n";

static void test_suite_run_index_and_exit_codes(void **state)
{
    fx *f = *state;
    char scen[400], out[400], text[1024], err[1024] = "", used[400];
    snprintf(scen, sizeof scen, "%s/one.yaml", f->dir);
    write_text(scen, "name: one\n");
    snprintf(text, sizeof text,
             "suite: idx\ntitle: Index test\nquestions: {1: \"Is it safe?\", 2: \"Is it fast?\"}\nentries:\n"
             "  - {id: later, title: Later, question: 1, not_runnable: \"needs issue 7\"}\n");
    write_text(f->path, text);
    snprintf(out, sizeof out, "%s/out", f->dir);
    suite_opts o = {.self_exe = "/bin/true", .out_dir = out};
    /* nothing runnable: listed, and no pass is claimed, but nothing failed */
    assert_int_equal(suite_run(f->path, &o, used, sizeof used, err, sizeof err), 0);
    assert_string_equal(used, out);
    char p[500];
    snprintf(p, sizeof p, "%s/index.md", out);
    char *md = rtest_slurp(p, NULL, NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "## Q1. Is it safe?"));
    assert_non_null(strstr(md, "not yet runnable: needs issue 7"));
    assert_non_null(strstr(md, "0 passed, 0 failed, 0 invalid, 0 broken, 1 not yet runnable"));
    assert_null(strstr(md, "Q2."));
    free(md);
    /* a run that leaves no report.json is broken (exit 3), never a pass */
    write_text(f->path, LATER_AND_QUIET);
    assert_int_equal(suite_run(f->path, &o, NULL, 0, err, sizeof err), 3);
    snprintf(p, sizeof p, "%s/index.json", out);
    json_error_t jerr;
    json_t *idx = json_load_file(p, 0, &jerr);
    assert_non_null(idx);
    assert_int_equal(json_integer_value(json_object_get(idx, "exit_code")), 3);
    json_t *q = json_array_get(json_object_get(idx, "entries"), 1);
    assert_string_equal(json_string_value(json_object_get(q, "status")), "BROKEN");
    assert_non_null(strstr(json_string_value(json_object_get(q, "why")), "no readable report.json"));
    json_decref(idx);
    snprintf(p, sizeof p, "%s/index.html", out);
    char *html = rtest_slurp(p, NULL, NULL);
    assert_non_null(strstr(html, "<h2>Q1. Is it safe?</h2>"));
    assert_non_null(strstr(html, "<tr class=\"na\">"));
    free(html);
    /* with --target, a local-only entry is listed as not runnable, not run */
    snprintf(text, sizeof text,
             "suite: idx\ntitle: Index test\nentries:\n"
             "  - {id: pause, title: Pause, scenario: one.yaml, local_only: \"pauses the server\"}\n");
    write_text(f->path, text);
    suite_opts ot = {.self_exe = "/bin/true", .out_dir = out, .target = "http://127.0.0.1:9"};
    assert_int_equal(suite_run(f->path, &ot, NULL, 0, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/index.md", out);
    md = rtest_slurp(p, NULL, NULL);
    assert_non_null(strstr(md, "not yet runnable: with --target: pauses the server"));
    free(md);
    write_text(f->path, LATER_AND_QUIET);
    /* --only leaves other entries out; an invalid suite is exit 2, nothing run */
    o.only = "later";
    assert_int_equal(suite_run(f->path, &o, NULL, 0, err, sizeof err), 0);
    o.only = "nothing,qui"; /* any of a list */
    assert_int_equal(suite_run(f->path, &o, NULL, 0, err, sizeof err), 3);
    o.only = "later";
    write_text(f->path, "suite: idx\ntitle: t\nentries: [{id: x, title: y}]\n");
    assert_int_equal(suite_run(f->path, &o, NULL, 0, err, sizeof err), 2);
    assert_non_null(strstr(err, "needs 'scenario'"));
}


/* A drill's own server is judged like the servers a run starts: a non-zero
 * exit after SIGTERM or a sanitizer report in its log fails the entry, a
 * clean stop does not. The "rtchaos" and "rtchaos-server" here are scripts
 * beside each other (the suite starts the server next to self_exe). */
static void write_exe(const char *path, const char *text)
{
    write_text(path, text);
    assert_int_equal(chmod(path, 0755), 0);
}

static int drill_with_server(fx *f, const char *on_term, char *why, size_t cap)
{
    char exe[400], srv[400], scen[400], out[400], err[1024] = "", p[500];
    snprintf(exe, sizeof exe, "%s/rtchaos", f->dir);
    snprintf(srv, sizeof srv, "%s/rtchaos-server", f->dir);
    snprintf(scen, sizeof scen, "%s/one.yaml", f->dir);
    snprintf(out, sizeof out, "%s/out", f->dir);
    write_text(scen, "duration: 1s\nclients:\n  - count: 1\n");
    write_exe(exe, "#!/bin/sh\nprintf '{\"schema\":\"rtchaos.report/1\"}' > \"$4/report.json\"\n");
    char text[600];
    snprintf(text, sizeof text,
             "#!/bin/sh\necho 'listening 127.0.0.1:9'\ntrap '%s' TERM\nwhile :; do sleep 0.05; done\n", on_term);
    write_exe(srv, text);
    write_text(f->path, "suite: d\ntitle: Drill server\nentries:\n"
                        "  - {id: dr, title: Drill, scenario: one.yaml, drill: {server: {args: []}}}\n");
    suite_opts o = {.self_exe = exe, .out_dir = out};
    int rc = suite_run(f->path, &o, NULL, 0, err, sizeof err);
    snprintf(p, sizeof p, "%s/index.json", out);
    json_error_t jerr;
    json_t *idx = json_load_file(p, 0, &jerr);
    assert_non_null(idx);
    json_t *e = json_array_get(json_object_get(idx, "entries"), 0);
    snprintf(why, cap, "%s: %s", json_string_value(json_object_get(e, "status")),
             json_string_value(json_object_get(e, "why")) ? json_string_value(json_object_get(e, "why")) : "");
    json_decref(idx);
    return rc;
}

static void test_suite_drill_server_judged(void **state)
{
    fx *f = *state;
    char why[600];
    assert_int_equal(drill_with_server(f, "exit 0", why, sizeof why), 0);
    assert_int_equal(drill_with_server(f, "exit 1", why, sizeof why), 1);
    assert_non_null(strstr(why, "FAIL: drill server: exited with code 1"));
    assert_int_equal(drill_with_server(f, "echo \"==1==ERROR: AddressSanitizer: heap-use-after-free\" >&2; exit 0",
                                       why, sizeof why),
                     1);
    assert_non_null(strstr(why, "FAIL: drill server: sanitizer report: ==1==ERROR: AddressSanitizer"));
}


/* suite durations: a bare number is seconds; with a unit, the scenario
 * loader's parser decides (the same forms in both files) */
static void test_suite_durations(void **state)
{
    (void)state;
    assert_true(fabs(suite_def_seconds("90") - 90.0) < 1e-9);
    assert_true(fabs(suite_def_seconds("1.5s") - 1.5) < 1e-9);
    assert_true(fabs(suite_def_seconds("500ms") - 0.5) < 1e-9);
    assert_true(fabs(suite_def_seconds("2m") - 120.0) < 1e-9);
    assert_true(fabs(suite_def_seconds("1h") - 3600.0) < 1e-9);
    assert_true(fabs(suite_def_seconds("250us") - 0.00025) < 1e-12);
    assert_true(suite_def_seconds("5x") < 0);
    assert_true(suite_def_seconds("") < 0);
    assert_true(suite_def_seconds("-1") < 0);
    assert_true(suite_def_seconds("25h") < 0); /* the loader's range */
}

/* the drills' alert rules on a compressed clock: every duration divided by
 * the time scale, nothing else changed */
static void test_suite_alert_durations_scaled(void **state)
{
    (void)state;
    char b[32];
    assert_int_equal(suite_alerts_scale_duration("5m", 20, b, sizeof b), 0);
    assert_string_equal(b, "15s");
    assert_int_equal(suite_alerts_scale_duration("2m", 20, b, sizeof b), 0);
    assert_string_equal(b, "6s");
    assert_int_equal(suite_alerts_scale_duration("30s", 20, b, sizeof b), 0);
    assert_string_equal(b, "1500ms");
    assert_int_equal(suite_alerts_scale_duration("1m30s", 30, b, sizeof b), 0);
    assert_string_equal(b, "3s");
    assert_int_equal(suite_alerts_scale_duration("1h", 1, b, sizeof b), 0);
    assert_string_equal(b, "3600s");
    assert_int_equal(suite_alerts_scale_duration("100ms", 1000, b, sizeof b), 0);
    assert_string_equal(b, "1ms"); /* never 0 */
    assert_int_equal(suite_alerts_scale_duration("5x", 20, b, sizeof b), -1);
    assert_int_equal(suite_alerts_scale_duration("", 20, b, sizeof b), -1);
    assert_int_equal(suite_alerts_scale_duration("5m", 0, b, sizeof b), -1);

    char *e = suite_alerts_scale_expr("sum(rate(x_total{a=~\"[a-z]+\",b=\"5m\"}[5m])) > 0.5 * y offset 10m", 20);
    assert_non_null(e);
    assert_string_equal(e, "sum(rate(x_total{a=~\"[a-z]+\",b=\"5m\"}[15s])) > 0.5 * y offset 30s");
    free(e);
    e = suite_alerts_scale_expr("max_over_time(timestamp(up)[10m:1m]) + min_over_time(z[2m:])", 20);
    assert_non_null(e);
    assert_string_equal(e, "max_over_time(timestamp(up)[30s:3s]) + min_over_time(z[6s:])");
    free(e);
    e = suite_alerts_scale_expr("queue_offset > 5 and on() up offset 1h", 20);
    assert_non_null(e);
    assert_string_equal(e, "queue_offset > 5 and on() up offset 180s");
    free(e);
    assert_null(suite_alerts_scale_expr("rate(x[5q])", 20));
    assert_null(suite_alerts_scale_expr("rate(x[5m)", 20));
}

static void test_suite_alert_rules_file(void **state)
{
    fx *f = *state;
    char in[400], out[400];
    snprintf(in, sizeof in, "%s/rules.yml", f->dir);
    snprintf(out, sizeof out, "%s/scaled.yml", f->dir);
    write_text(in, "groups:\n"
                   "  - name: g\n"
                   "    rules:\n"
                   "      - alert: A\n"
                   "        expr: |\n"
                   "          sum by (job) (rate(x_total[5m])) > 1\n"
                   "        for: 2m\n"
                   "        labels: {severity: page}\n"
                   "        annotations:\n"
                   "          summary: \"{{ $value | humanize }}/s over 5m\"\n"
                   "      - alert: B\n"
                   "        expr: up == 0\n"
                   "      - record: job:x:rate1m\n"
                   "        expr: rate(x_total[1m])\n");
    char err[512] = "";
    assert_int_equal(suite_alerts_scale_rules(in, out, 20, err, sizeof err), 0);
    size_t n;
    char *text = rdoc_read_file(out, &n, err, sizeof err);
    assert_non_null(text);
    assert_non_null(strstr(text, "rate(x_total[15s])) > 1"));
    assert_non_null(strstr(text, "for: 6s"));
    assert_non_null(strstr(text, "rate(x_total[3s])"));
    assert_non_null(strstr(text, "{{ $value | humanize }}/s over 5m")); /* annotations untouched */
    assert_null(strstr(text, "[5m]"));
    assert_null(strstr(text, "2m"));
    free(text);
    char **names;
    size_t nn;
    assert_int_equal(suite_alerts_names(in, &names, &nn, err, sizeof err), 0);
    assert_int_equal(nn, 2);
    assert_string_equal(names[0], "A");
    assert_string_equal(names[1], "B");
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    /* a rule that does not scale is an error naming it, not a silent copy */
    write_text(in, "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x[5q]) > 1\n");
    assert_int_equal(suite_alerts_scale_rules(in, out, 20, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot scale expr"));
    assert_int_equal(suite_alerts_names("/nonexistent/rules.yml", &names, &nn, err, sizeof err), -1);
}

/* entries name alerts of the suite's rules file; errors at their position */
static void test_suite_alert_names_checked(void **state)
{
    fx *f = *state;
    char rules[400], text[1200];
    snprintf(rules, sizeof rules, "%s/rules.yml", f->dir);
    write_text(rules, "groups:\n  - name: g\n    rules:\n      - alert: Known\n        expr: up == 0\n");
    snprintf(text, sizeof text,
             "suite: s\ntitle: t\nalerts: {rules: rules.yml, time_scale: 20}\nentries:\n"
             "  - id: a\n    title: a\n    not_runnable: x\n    alerts: {fire: [Known], quiet: [Unknown]}\n");
    write_text(f->path, text);
    int nerr = 0;
    char *diag = load_errors(f, &nerr);
    assert_int_equal(nerr, 1);
    assert_non_null(strstr(diag, ":8:13: alerts: 'Unknown' is not an alert of"));
    free(diag);
    write_text(f->path, "suite: s\ntitle: t\nentries:\n  - id: a\n    title: a\n    not_runnable: x\n"
                        "    alerts: {fire: [Known]}\n");
    diag = load_errors(f, &nerr);
    assert_int_equal(nerr, 1);
    assert_non_null(strstr(diag, "the suite has no 'alerts: {rules: FILE}'"));
    free(diag);
    write_text(f->path, "suite: s\ntitle: t\nalerts: {rules: rules.yml, time_scale: 0}\nentries:\n"
                        "  - id: a\n    title: a\n    not_runnable: x\n");
    diag = load_errors(f, &nerr);
    assert_int_equal(nerr, 1);
    assert_non_null(strstr(diag, ":3:40: alerts.time_scale"));
    free(diag);
    write_text(f->path, "suite: s\ntitle: t\nalerts: {rules: rules.yml, time_scale: 20}\nentries:\n"
                        "  - id: a\n    title: a\n    not_runnable: x\n    alerts: {fire: [Known]}\n");
    diag = load_errors(f, &nerr);
    assert_int_equal(nerr, 0);
    free(diag);
}

/* --jobs: which entries may run beside others — none judged on a time or
 * a rate, no drill, no network namespaces, none marked alone. */
static void test_suite_side_by_side(void **state)
{
    fx *f = *state;
    char scen[400], text[2048];
    snprintf(scen, sizeof scen, "%s/one.yaml", f->dir);
    write_text(scen, "name: one\nduration: 5s\nclients:\n  - count: 3\nbudgets:\n  - lost == 0\n");
    snprintf(scen, sizeof scen, "%s/lat.yaml", f->dir);
    write_text(scen, "name: lat\nduration: 5s\nclients:\n  - count: 3\nbudgets:\n  - lost == 0\n"
                     "  - p95_live_ms <= 100\n");
    snprintf(text, sizeof text,
             "suite: demo\ntitle: Demo\nentries:\n"
             "  - {id: free, title: a, scenario: one.yaml}\n"
             "  - {id: latency, title: b, scenario: lat.yaml}\n"
             "  - {id: short-latency, title: c, scenario: one.yaml, short: ['budgets=[\"reconnect_p95_ms <= 9\"]']}\n"
             "  - {id: req, title: d, scenario: one.yaml, require: [\"groups.fast.live_p95_us <= 5\"]}\n"
             "  - {id: rate, title: e, scenario: one.yaml, require: [\"delivered_per_s >= 5\"]}\n"
             "  - {id: marked, title: f, scenario: one.yaml, alone: \"a figure compared\"}\n"
             "  - {id: dr, title: g, scenario: one.yaml, drill: {server: {args: []}}}\n"
             "  - {id: ns, title: h, scenario: one.yaml, set: [\"network.namespaces=true\"]}\n"
             "  - {id: counts, title: i, scenario: one.yaml, require: [\"groups.fast.lost == 0\"]}\n");
    write_text(f->path, text);
    suite_def s;
    int nerr = -1;
    assert_int_equal(suite_def_load(f->path, &s, stderr, &nerr), 0);
    static const struct {
        const char *why; /* NULL: side by side */
        int short_form;
    } want[] = {{NULL, 0},
                {"budget p95_live_ms <= 100 reads a time", 0},
                {"budget reconnect_p95_ms <= 9 reads a time", 1},
                {"require groups.fast.live_p95_us <= 5 reads a time", 0},
                {"require delivered_per_s >= 5 reads a time", 0},
                {"alone: a figure compared", 0},
                {"a drill: its watches and actions are on a timeline", 0},
                {"network namespaces: kernel faults and the server's idle close are timed", 0},
                {NULL, 0}};
    assert_int_equal(s.nentries, sizeof want / sizeof *want);
    for (size_t i = 0; i < s.nentries; i++) {
        char why[300] = "";
        int side = suite_def_side_by_side(&s, &s.entries[i], want[i].short_form, NULL, 0, why, sizeof why);
        if (want[i].why) {
            assert_int_equal(side, 0);
            assert_string_equal(why, want[i].why);
        } else {
            assert_int_equal(side, 1);
        }
    }
    /* the short form's budgets are the ones that count: without them the entry may share */
    char why[300];
    assert_int_equal(suite_def_side_by_side(&s, &s.entries[2], 0, NULL, 0, why, sizeof why), 1);
    suite_def_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_suite_parse_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suite_parse_errors_have_positions, setup, teardown),
        cmocka_unit_test(test_suite_prometheus_sums),
        cmocka_unit_test(test_suite_durations),
        cmocka_unit_test(test_suite_watch_judgements),
        cmocka_unit_test(test_suite_restore_budget_on_timeline),
        cmocka_unit_test_setup_teardown(test_suite_run_index_and_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suite_drill_server_judged, setup, teardown),
        cmocka_unit_test(test_suite_alert_durations_scaled),
        cmocka_unit_test_setup_teardown(test_suite_alert_rules_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suite_alert_names_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suite_side_by_side, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
