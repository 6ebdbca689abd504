/* test_reports_compare.c — the regression gate: exit codes exactly at and
 * just past each margin, rule parsing, defaults, missing metrics, errors,
 * and the compare.md/html + overlaid plots output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdoc.h"

#include "reports.h"
#include "reports_testenv.h"

#define FIXTURES "tests/fixtures/reports/"

typedef struct fx {
    char dir[256];
    char base[300], newr[300];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (rtest_mkdir(f->dir, sizeof f->dir, "compare") != 0)
        return -1;
    snprintf(f->base, sizeof f->base, "%s/base.json", f->dir);
    snprintf(f->newr, sizeof f->newr, "%s/new.json", f->dir);
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

/* A minimal report: live p95 / p99 in µs, lost, delivered of expected. */
static void write_report(const char *path, long long p95_us, long long p99_us, long long lost, long long delivered,
                         long long expected)
{
    json_t *r = json_pack("{s:s, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
                          " s:{s:{s:I, s:I, s:I, s:I, s:I, s:I}}, s:[]}",
                          "schema", "rtchaos.report/1", "scenario", "gate", "pass", 1, "totals", "lost",
                          (json_int_t)lost, "duplicated", (json_int_t)0, "reordered", (json_int_t)0,
                          "resync_failed", (json_int_t)0, "delivered", (json_int_t)delivered, "expected",
                          (json_int_t)expected, "errors", (json_int_t)0, "latency_us", "live", "count",
                          (json_int_t)1000, "p50", (json_int_t)500, "p95", (json_int_t)p95_us, "p99",
                          (json_int_t)p99_us, "p999", (json_int_t)p99_us, "max", (json_int_t)p99_us,
                          "verdicts");
    assert_non_null(r);
    assert_int_equal(json_dump_file(r, path, 0), 0);
    json_decref(r);
}

/* compare with extra command-line rules (NULL-terminated list). */
static int gate(fx *f, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = f->base;
    argv[argc++] = f->newr;
    va_list ap;
    va_start(ap, f);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    reports_compare_opts o;
    const char *b, *n, *out;
    char err[512] = "";
    if (reports_compare_parse_args(argc, argv, &o, &b, &n, &out, err, sizeof err) != 0)
        fail_msg("parse: %s", err);
    int rc = reports_compare(b, n, &o, NULL, out, err, sizeof err);
    if (rc < 0)
        fail_msg("compare: %s", err);
    return rc;
}

static void test_reports_compare_default_p95_margin(void **state)
{
    fx *f = *state;
    write_report(f->base, 1000, 2000, 0, 100, 100);
    write_report(f->newr, 1100, 2000, 0, 100, 100); /* exactly +10% */
    assert_int_equal(gate(f, NULL), 0);
    write_report(f->newr, 1101, 2000, 0, 100, 100); /* one µs past */
    assert_int_equal(gate(f, NULL), 1);
    write_report(f->newr, 700, 2000, 0, 100, 100); /* better is fine */
    assert_int_equal(gate(f, NULL), 0);
}

static void test_reports_compare_default_p99_margin(void **state)
{
    fx *f = *state;
    write_report(f->base, 1000, 2000, 0, 100, 100);
    write_report(f->newr, 1000, 2400, 0, 100, 100); /* +20% */
    assert_int_equal(gate(f, NULL), 0);
    write_report(f->newr, 1000, 2401, 0, 100, 100);
    assert_int_equal(gate(f, NULL), 1);
}

static void test_reports_compare_flag_percent_margin(void **state)
{
    fx *f = *state;
    write_report(f->base, 2000, 4000, 0, 100, 100);
    write_report(f->newr, 2100, 4000, 0, 100, 100); /* +5% */
    assert_int_equal(gate(f, "--max-regress", "p95_live=5%", NULL), 0);
    write_report(f->newr, 2101, 4000, 0, 100, 100);
    assert_int_equal(gate(f, "--max-regress", "p95_live=5%", NULL), 1);
    /* a looser rule replaces the default 10% */
    write_report(f->newr, 2600, 4000, 0, 100, 100); /* +30% */
    assert_int_equal(gate(f, "--max-regress=p95_live=30%", NULL), 0);
    assert_int_equal(gate(f, NULL), 1);
}

static void test_reports_compare_flag_absolute_margin(void **state)
{
    fx *f = *state;
    write_report(f->base, 1000, 9000, 0, 100, 100);
    write_report(f->newr, 3000, 9000, 0, 100, 100); /* +2 ms */
    assert_int_equal(gate(f, "--max-regress", "p95_live=2ms", NULL), 0);
    assert_int_equal(gate(f, "--max-regress", "p95_live=2000us", NULL), 0);
    assert_int_equal(gate(f, "--max-regress", "p95_live=2", NULL), 0); /* bare = ms */
    assert_int_equal(gate(f, "--max-regress", "p95_live=1999us", NULL), 1);
    write_report(f->newr, 3001, 9000, 0, 100, 100);
    assert_int_equal(gate(f, "--max-regress", "p95_live=2ms", NULL), 1);
}

static void test_reports_compare_max_and_min(void **state)
{
    fx *f = *state;
    write_report(f->base, 1000, 2000, 0, 100, 100);
    write_report(f->newr, 1000, 2000, 0, 100, 100);
    assert_int_equal(gate(f, "--max", "lost=0", NULL), 0);
    assert_int_equal(gate(f, "--max", "p95_live=1ms", NULL), 0);
    assert_int_equal(gate(f, "--max", "p95_live=999us", NULL), 1);
    write_report(f->newr, 1000, 2000, 1, 99, 100);
    assert_int_equal(gate(f, "--max", "lost=1", "--max-regress", "lost=1", "--max-regress", "delivered_ratio=1%",
                          NULL), 0);
    assert_int_equal(gate(f, "--max", "lost=0", "--max-regress", "lost=5", "--max-regress", "delivered_ratio=1%",
                          NULL), 1);
    /* delivered 999 of 1000 = 0.999: exactly at --min 99.9% */
    write_report(f->newr, 1000, 2000, 0, 999, 1000);
    assert_int_equal(gate(f, "--min", "delivered_ratio=99.9%", NULL), 0);
    write_report(f->newr, 1000, 2000, 0, 9989, 10000);
    assert_int_equal(gate(f, "--min", "delivered_ratio=99.9%", "--max-regress", "delivered_ratio=1", NULL), 1);
}

static void test_reports_compare_default_counters_may_not_grow(void **state)
{
    fx *f = *state;
    write_report(f->base, 1000, 2000, 2, 98, 100);
    write_report(f->newr, 1000, 2000, 2, 98, 100);
    assert_int_equal(gate(f, NULL), 0);
    write_report(f->newr, 1000, 2000, 3, 98, 100);
    assert_int_equal(gate(f, NULL), 1);
    /* delivered_ratio may drop by 0.001 at most: 1.0 → 0.999 passes, 0.9989 fails */
    write_report(f->base, 1000, 2000, 0, 10000, 10000);
    write_report(f->newr, 1000, 2000, 0, 9990, 10000);
    assert_int_equal(gate(f, "--max-regress", "lost=100", NULL), 0);
    write_report(f->newr, 1000, 2000, 0, 9989, 10000);
    assert_int_equal(gate(f, "--max-regress", "lost=100", NULL), 1);
    assert_int_equal(gate(f, "--no-defaults", NULL), 0);
}

static void test_reports_compare_missing_metric(void **state)
{
    fx *f = *state;
    write_report(f->base, 1000, 2000, 0, 100, 100);
    write_report(f->newr, 1000, 2000, 0, 100, 100);
    /* default rules on metrics neither report has (resync, connect) are skipped */
    assert_int_equal(gate(f, NULL), 0);
    /* an explicit one is not: a typo never passes silently */
    assert_int_equal(gate(f, "--max", "p95_resync=1s", NULL), 1);
    assert_int_equal(gate(f, "--max", "lsot=0", NULL), 1);
    /* a default rule on what the base measured and NEW did not is not
     * skipped: a candidate that delivered nothing (no live latency, nothing
     * expected) is no pass, even with lost 0 */
    write_report(f->newr, 1000, 2000, 0, 0, 0);
    json_error_t je;
    json_t *r = json_load_file(f->newr, 0, &je);
    json_object_del(json_object_get(r, "latency_us"), "live");
    json_dump_file(r, f->newr, 0);
    json_decref(r);
    assert_int_equal(gate(f, NULL), 1);
    /* ... while the base lacking it (NEW measured more) is still skipped */
    char tmp[sizeof f->base];
    memcpy(tmp, f->base, sizeof tmp);
    memcpy(f->base, f->newr, sizeof tmp);
    memcpy(f->newr, tmp, sizeof tmp);
    assert_int_equal(gate(f, NULL), 0);
}

static void test_reports_compare_bad_arguments(void **state)
{
    fx *f = *state;
    reports_compare_opts o;
    const char *b, *n, *out;
    char err[512];
    char *a1[] = {f->base, f->newr, "--max-regress", "p95_live=abc"};
    assert_int_equal(reports_compare_parse_args(4, a1, &o, &b, &n, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "'abc' is not a non-negative number"));
    char *a2[] = {f->base, f->newr, "--max", "lost=5ms"};
    assert_int_equal(reports_compare_parse_args(4, a2, &o, &b, &n, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a latency metric"));
    char *a3[] = {f->base, f->newr, "--frobnicate", "x=1"};
    assert_int_equal(reports_compare_parse_args(4, a3, &o, &b, &n, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown compare option --frobnicate"));
    char *a4[] = {f->base};
    assert_int_equal(reports_compare_parse_args(1, a4, &o, &b, &n, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "usage: rtchaos compare"));
    char *a5[] = {f->base, f->newr, "--max", "p95_live=10%"};
    assert_int_equal(reports_compare_parse_args(4, a5, &o, &b, &n, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "needs a time"));
    char *a6[] = {f->base, f->newr, "--max-regress", "P95=1"};
    assert_int_equal(reports_compare_parse_args(4, a6, &o, &b, &n, &out, err, sizeof err), -1);
    /* unreadable or foreign files are errors (-1 → exit 2), not regressions */
    write_report(f->base, 1000, 2000, 0, 100, 100);
    reports_compare_opts_init(&o);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.json", f->dir);
    assert_int_equal(reports_compare(f->base, missing, &o, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "none.json"));
    FILE *x = fopen(f->newr, "w");
    fputs("{\"schema\":\"other\"}", x);
    fclose(x);
    assert_int_equal(reports_compare(f->base, f->newr, &o, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "rtchaos.report/1"));
}

static void test_reports_compare_writes_table_and_plots(void **state)
{
    fx *f = *state;
    reports_compare_opts o;
    reports_compare_opts_init(&o);
    char err[512] = "", out_dir[300], *buf = NULL;
    size_t len = 0;
    snprintf(out_dir, sizeof out_dir, "%s/cmp", f->dir);
    FILE *m = open_memstream(&buf, &len);
    int rc = reports_compare(FIXTURES "pass.json", FIXTURES "fail.json", &o, m, out_dir, err, sizeof err);
    fclose(m);
    if (rc < 0)
        fail_msg("compare: %s", err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(buf, "REGRESSED:"));
    assert_non_null(strstr(buf, " lost"));
    assert_non_null(strstr(buf, "p95_live"));
    free(buf);
    static const char *const files[] = {"compare.md", "compare.html", "plots/compare_latency.svg",
                                        "plots/compare_latency.png", "plots/compare_spectrum.svg",
                                        "plots/compare_spectrum.png", "plots/compare_throughput.svg",
                                        "plots/compare_throughput.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", out_dir, files[i]);
        if (access(p, R_OK) != 0)
            fail_msg("missing %s", p);
    }
    /* a report against itself never regresses */
    assert_int_equal(reports_compare(FIXTURES "fail.json", FIXTURES "fail.json", &o, NULL, NULL, err, sizeof err), 0);
}

/* What suites' answers and requirements read (rdoc_verdict_metric): budget
 * metrics as verdicts read them (an empty histogram or a ratio over nothing
 * has no value), group metrics, and dotted paths into the report. */
static void test_reports_rdoc_verdict_metric(void **state)
{
    (void)state;
    json_t *r = json_loads("{\"totals\":{\"lost\":3,\"delivered\":0,\"expected\":0},"
                           "\"latency_us\":{\"live\":{\"count\":5,\"p95\":2500},\"resync\":{\"count\":0,\"p95\":0}},"
                           "\"groups\":{\"fast\":{\"lost\":0,\"live\":4,\"live_p95_us\":1500}}}", 0, NULL);
    assert_non_null(r);
    double v = -1;
    assert_int_equal(rdoc_verdict_metric(r, "lost", &v), 0);
    assert_true(v == 3);
    assert_int_equal(rdoc_verdict_metric(r, "p95_live_ms", &v), 0);
    assert_true(v == 2.5);
    assert_int_equal(rdoc_verdict_metric(r, "resync_p95_ms", &v), -1);   /* no samples */
    assert_int_equal(rdoc_verdict_metric(r, "delivered_ratio", &v), -1); /* nothing expected */
    assert_int_equal(rdoc_verdict_metric(r, "fast.p95_live_ms", &v), 0);
    assert_true(v == 1.5);
    v = -1;
    assert_int_equal(rdoc_verdict_metric(r, "groups.fast.lost", &v), 0); /* a path */
    assert_true(v == 0);
    assert_int_equal(rdoc_verdict_metric(r, "slow.lost", &v), -1);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_compare_default_p95_margin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_default_p99_margin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_flag_percent_margin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_flag_absolute_margin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_max_and_min, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_default_counters_may_not_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_missing_metric, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_compare_writes_table_and_plots, setup, teardown),
        cmocka_unit_test(test_reports_rdoc_verdict_metric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
