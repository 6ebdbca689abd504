/* test_reports_render.c — rendering report.md / report.html / plots and
 * junit.xml from the fixed report.json fixtures (passing, failing, zero
 * events), and the errors for bad input. Runs the real gnuplot. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports.h"
#include "reports_testenv.h"
#include "rplot_server.h"
#include <jansson.h>
#include <math.h>

#define FIXTURES "tests/fixtures/reports/"

typedef struct fx {
    char dir[256];
} fx;

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (rtest_mkdir(f->dir, sizeof f->dir, "render") != 0)
        return -1;
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

static void use_fixture(fx *f, const char *name)
{
    char to[512];
    snprintf(to, sizeof to, "%s/report.json", f->dir);
    copy_file(name, to);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Every plot exists as SVG (an <svg> document) and PNG (PNG magic). */
static void assert_plots(const char *dir)
{
    static const char *const names[] = {"latency", "spectrum", "throughput", "clients", "resync"};
    char sub[400];
    snprintf(sub, sizeof sub, "%s/plots", dir);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char file[64];
        size_t len;
        snprintf(file, sizeof file, "%s.svg", names[i]);
        char *svg = rtest_slurp(sub, file, &len);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "<svg"));
        assert_non_null(strstr(svg, "</svg>"));
        free(svg);
        snprintf(file, sizeof file, "%s.png", names[i]);
        char *png = rtest_slurp(sub, file, &len);
        assert_non_null(png);
        assert_true(len > 1000);
        assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
        free(png);
    }
}

static void test_reports_render_passing_run(void **state)
{
    fx *f = *state;
    char err[512] = "";
    use_fixture(f, FIXTURES "pass.json");
    int rc = reports_render(f->dir, err, sizeof err);
    if (rc != 0)
        fail_msg("render: %s", err);
    assert_plots(f->dir);
    char *md = rtest_slurp(f->dir, "report.md", NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "# rtchaos report: latency-spike — PASS"));
    assert_non_null(strstr(md, "| p95_live_ms | <= 150 | 125.3 | pass |"));
    assert_non_null(strstr(md, "| lost | == 0 | 0 | pass |"));
    /* latency table: live p95 125311 µs shown as 125 ms; replay is empty */
    assert_non_null(strstr(md, "| live | 12000 |"));
    assert_non_null(strstr(md, "| replay | 0 | - | - | - | - | - | - |"));
    assert_non_null(strstr(md, "| spike (latency) | 10.0 | 20.0 |"));
    assert_non_null(strstr(md, "No anomalies"));
    assert_non_null(strstr(md, "![Live latency p50 / p95 / p99 over time (fault windows shaded)](plots/latency.png)"));
    assert_int_equal(count_of(md, ".png)"), 5);
    free(md);
    char *html = rtest_slurp(f->dir, "report.html", NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "<table id=\"verdicts\">"));
    assert_non_null(strstr(html, "id=\"result\">PASS<"));
    assert_int_equal(count_of(html, "src=\"data:image/svg+xml;base64,"), 5);
    /* self-contained: nothing fetched from anywhere */
    assert_null(strstr(html, "http://www"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<script"));
    free(html);
    /* gnuplot's inputs are kept so a plot can be redrawn by hand */
    char *gp = rtest_slurp(f->dir, "plots/plots.gp", NULL);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "set object 1 rect from 10.000, graph 0 to 20.000, graph 1"));
    free(gp);
}

static void test_reports_render_failing_run(void **state)
{
    fx *f = *state;
    char err[512] = "";
    use_fixture(f, FIXTURES "fail.json");
    assert_int_equal(reports_render(f->dir, err, sizeof err), 0);
    assert_plots(f->dir);
    char *md = rtest_slurp(f->dir, "report.md", NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "— FAIL"));
    assert_non_null(strstr(md, "| p95_live_ms | <= 50 | 65.25 | FAIL |"));
    assert_non_null(strstr(md, "| resync_p95_ms | <= 500 | 87.94 | pass |"));
    assert_non_null(strstr(md, "Counts: lost 3, duplicated 0, reordered 0, resync_failed 2"));
    /* each anomaly names the fault window it fell in and the storm before it */
    assert_non_null(strstr(md, "| 8.40 | lost | 7 | orders.0 | 400 | slow (latency); 0.4 s after storm (disconnect) |"));
    assert_int_equal(count_of(md, "| resync_failed | 3"), 2);
    free(md);
    char *html = rtest_slurp(f->dir, "report.html", NULL);
    assert_non_null(strstr(html, "<tr class=\"fail\"><td>lost</td><td>== 0</td><td>3</td><td>FAIL</td></tr>"));
    assert_non_null(strstr(html, "id=\"result\">FAIL<"));
    free(html);
    /* a verdict's reason (error, or the harness-stall note) is in its result cell */
    char path[512];
    snprintf(path, sizeof path, "%s/report.json", f->dir);
    json_t *rep = json_load_file(path, 0, NULL);
    assert_non_null(rep);
    json_object_set_new(json_array_get(json_object_get(rep, "verdicts"), 0), "note",
                        json_string("the harness itself stalled 2 times (worst 70 ms)"));
    assert_int_equal(json_dump_file(rep, path, 0), 0);
    json_decref(rep);
    assert_int_equal(reports_render(f->dir, err, sizeof err), 0);
    md = rtest_slurp(f->dir, "report.md", NULL);
    assert_non_null(strstr(md, "| p95_live_ms | <= 50 | 65.25 | FAIL: the harness itself stalled 2 times (worst 70 ms) |"));
    free(md);
}

static void test_reports_render_zero_events(void **state)
{
    fx *f = *state;
    char err[512] = "";
    use_fixture(f, FIXTURES "empty.json");
    int rc = reports_render(f->dir, err, sizeof err);
    if (rc != 0)
        fail_msg("render: %s", err);
    assert_plots(f->dir);
    char *md = rtest_slurp(f->dir, "report.md", NULL);
    assert_non_null(strstr(md, "| live | 0 | - | - | - | - | - | - |"));
    assert_non_null(strstr(md, "No faults were injected."));
    free(md);
    char *svg = rtest_slurp(f->dir, "plots/latency.svg", NULL);
    assert_non_null(strstr(svg, "no live events delivered"));
    free(svg);
    svg = rtest_slurp(f->dir, "plots/resync.svg", NULL);
    assert_non_null(strstr(svg, "no resyncs in this run"));
    free(svg);
}

static void test_reports_render_rejects_other_schema(void **state)
{
    fx *f = *state;
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/report.json", f->dir);
    FILE *o = fopen(path, "w");
    fputs("{\"schema\":\"rtchaos.report/2\"}", o);
    fclose(o);
    assert_int_equal(reports_render(f->dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected \"rtchaos.report/1\""));
    o = fopen(path, "w");
    fputs("{\"schema\":", o);
    fclose(o);
    assert_int_equal(reports_render(f->dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "report.json:1:"));
    snprintf(path, sizeof path, "%s/nothing-here", f->dir);
    assert_int_equal(reports_render(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "nothing-here/report.json"));
}

static void test_reports_render_gnuplot_failure_is_an_error(void **state)
{
    fx *f = *state;
    char err[512] = "";
    use_fixture(f, FIXTURES "pass.json");
    setenv("RTCHAOS_GNUPLOT", "/bin/false", 1);
    int rc = reports_render(f->dir, err, sizeof err);
    unsetenv("RTCHAOS_GNUPLOT");
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "gnuplot"));
    assert_non_null(strstr(err, "exit 1"));
    setenv("RTCHAOS_GNUPLOT", "/nonexistent/gnuplot", 1);
    rc = reports_render(f->dir, err, sizeof err);
    unsetenv("RTCHAOS_GNUPLOT");
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "gnuplot"));
}

static void test_reports_render_broken_run(void **state)
{
    fx *f = *state;
    char err[512] = "", path[512];
    snprintf(path, sizeof path, "%s/report.json", f->dir);
    FILE *o = fopen(path, "w");
    fputs("{\"schema\":\"rtchaos.report/1\",\"scenario\":\"cut\",\"pass\":false,\"partial\":true,"
          "\"error\":\"rtchaos-server exited (signal 9) at 3.2 s\",\"duration_s\":3.2}", o);
    fclose(o);
    int rc = reports_render(f->dir, err, sizeof err);
    if (rc != 0)
        fail_msg("render: %s", err);
    char *md = rtest_slurp(f->dir, "report.md", NULL);
    assert_non_null(strstr(md, "| run broke | rtchaos-server exited (signal 9) at 3.2 s |"));
    assert_non_null(strstr(md, "| result | BROKEN |"));
    assert_non_null(strstr(md, "| partial | yes"));
    free(md);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(reports_print_summary(f->dir, m, err, sizeof err), 0);
    fclose(m);
    assert_non_null(strstr(buf, "BROKEN  cut"));
    free(buf);
}

static void test_reports_render_junit(void **state)
{
    fx *f = *state;
    char err[512] = "";
    use_fixture(f, FIXTURES "fail.json");
    assert_int_equal(reports_write_junit(f->dir, err, sizeof err), 0);
    char *x = rtest_slurp(f->dir, "junit.xml", NULL);
    assert_non_null(x);
    assert_non_null(strstr(x, "<testsuite name=\"rtchaos.reconnect-storm\" tests=\"5\" failures=\"4\""));
    assert_non_null(strstr(x, "name=\"lost\"><failure message=\"lost: measured 3, budget == 0\" type=\"budget\"/>"));
    assert_non_null(strstr(x, "name=\"resync_p95_ms\"></testcase>"));
    assert_non_null(strstr(x, "budget &lt;= 50"));
    free(x);
}

/* The junit writer the harness uses at the end of a run: verdict texts name
 * the testcases, failures say why, a broken run is an <error>, and the file
 * is escaped. */
static void test_reports_render_junit_from_run(void **state)
{
    fx *f = *state;
    char err[512] = "";
    json_t *rep = json_pack("{s:s,s:f,s:b,s:[{s:s,s:s,s:f,s:f,s:b,s:s},{s:s,s:s,s:i,s:i,s:b},"
                            "{s:s,s:s,s:i,s:n,s:b,s:s}]}",
                            "scenario", "s<&>", "duration_s", 2.5, "pass", 0, "verdicts",
                            "name", "p95_live_ms", "op", "<=", "value", 8.447, "budget", 50.0, "pass", 1,
                            "text", "p95_live_ms <= 50",
                            "name", "duplicated", "op", "==", "value", 2, "budget", 0, "pass", 0,
                            "name", "nobody", "op", "==", "budget", 0, "value", "pass", 0, "error",
                            "not measured");
    assert_non_null(rep);
    assert_int_equal(reports_junit_write(rep, f->dir, err, sizeof err), 0);
    char *x = rtest_slurp(f->dir, "junit.xml", NULL);
    assert_non_null(x);
    assert_non_null(strstr(x, "<testsuite name=\"rtchaos.s&lt;&amp;&gt;\" tests=\"3\" failures=\"2\" errors=\"0\" time=\"2.500\">"));
    assert_non_null(strstr(x, "name=\"p95_live_ms &lt;= 50\"></testcase>"));
    assert_non_null(strstr(x, "<failure message=\"duplicated: measured 2, budget == 0\" type=\"budget\"/>"));
    assert_non_null(strstr(x, "<failure message=\"nobody: measured n/a, budget == 0; not measured\" type=\"budget\"/>"));
    free(x);
    /* a value just over its budget does not print as equal to it */
    json_t *v = json_array_get(json_object_get(rep, "verdicts"), 0);
    json_object_set_new(v, "value", json_real(50.00001));
    json_object_set_new(v, "pass", json_false());
    /* a broken run: an <error> testcase "run" before the verdicts */
    json_object_set_new(rep, "error", json_string("server exited (code 1) during the run"));
    assert_int_equal(reports_junit_write(rep, f->dir, err, sizeof err), 0);
    x = rtest_slurp(f->dir, "junit.xml", NULL);
    assert_non_null(strstr(x, "measured 50.00001, budget &lt;= 50\""));
    assert_non_null(strstr(x, "tests=\"4\" failures=\"3\" errors=\"1\""));
    assert_non_null(strstr(x, "name=\"run\"><error message=\"server exited (code 1) during the run\"/></testcase>"));
    free(x);
    /* no verdicts: one "run" testcase that follows pass */
    json_object_del(rep, "error");
    json_object_set_new(rep, "verdicts", json_array());
    assert_int_equal(reports_junit_write(rep, f->dir, err, sizeof err), 0);
    x = rtest_slurp(f->dir, "junit.xml", NULL);
    assert_non_null(strstr(x, "tests=\"1\" failures=\"1\" errors=\"0\""));
    assert_non_null(strstr(x, "name=\"run\"><failure message=\"the run failed (see report.json)\"/>"));
    free(x);
    json_decref(rep);
}

static void test_reports_render_summary(void **state)
{
    fx *f = *state;
    char err[512] = "", *buf = NULL;
    size_t len = 0;
    use_fixture(f, FIXTURES "fail.json");
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(reports_print_summary(f->dir, m, err, sizeof err), 0);
    fclose(m);
    assert_non_null(strstr(buf, "FAIL  reconnect-storm  (seed 7, 20.0 s)"));
    assert_non_null(strstr(buf, "FAIL p95_live_ms"));
    assert_non_null(strstr(buf, "lost 3  duplicated 0"));
    assert_non_null(strstr(buf, "p95 65.2"));
    free(buf);
}

/* The server's samples as plot data: interval p95 from cumulative buckets,
 * counters as per-second rates, one row per good sample, the broker-lag
 * plot only when a sample carries the broker's histogram. */
static void test_reports_render_server_samples(void **state)
{
    fx *f = *state;
    json_t *le0 = json_pack("[[f,i],[f,i],[f,i]]", 0.01, 10, 0.1, 10, 1.0, 10);
    json_t *le1 = json_pack("[[f,i],[f,i],[f,i]]", 0.01, 12, 0.1, 15, 1.0, 110);
    /* 100 new observations: 2 <= 10 ms, 5 <= 100 ms, 100 <= 1 s: p95 is the 1 s bucket */
    assert_true(fabs(rplot_server_interval_p95(le0, 10, le1, 110) - 1.0) < 1e-9);
    /* 95 of 100 under 100 ms: the 100 ms bucket */
    json_t *le2 = json_pack("[[f,i],[f,i],[f,i]]", 0.01, 10, 0.1, 105, 1.0, 110);
    assert_true(fabs(rplot_server_interval_p95(le0, 10, le2, 110) - 0.1) < 1e-9);
    assert_true(isnan(rplot_server_interval_p95(le0, 10, le0, 10))); /* nothing in the interval */
    json_t *le3 = json_pack("[[f,i]]", 0.01, 10);
    assert_true(isnan(rplot_server_interval_p95(le0, 10, le3, 110))); /* beyond the last bound */
    json_t *rep = json_pack(
        "{s:f, s:{s:[{s:f, s:{s:i, s:i, s:i}, s:i, s:O, s:{s:i, s:i}, s:i, s:i, s:i, s:i, s:i},"
        "           {s:f, s:s},"
        "           {s:f, s:{s:i, s:i, s:i}, s:i, s:O, s:{s:i, s:i}, s:i, s:i, s:i, s:i, s:i}]}}",
        "duration_s", 3.0, "server", "samples",
        "t_s", 1.0, "connections", "ws", 4, "sse", 2, "poll", 0, "latency_count", 10, "lat_le", le0,
        "backpressure", "drop/event_dropped", 0, "disconnect/disconnect", 1, "gaps_sent", 0, "snapshots_sent", 0,
        "sendq_max_messages", 3, "sendq_messages", 5, "sendq_bytes", 500,
        "t_s", 1.5, "error", "timeout",
        "t_s", 3.0, "connections", "ws", 5, "sse", 2, "poll", 1, "latency_count", 110, "lat_le", le2,
        "backpressure", "drop/event_dropped", 40, "disconnect/disconnect", 3, "gaps_sent", 8, "snapshots_sent", 2,
        "sendq_max_messages", 64, "sendq_messages", 70, "sendq_bytes", 9000);
    assert_non_null(rep);
    assert_true(rplot_server_has(rep, 0) && rplot_server_has(rep, 3));
    assert_false(rplot_server_has(rep, 4)); /* no broker */
    char gpath[400], err[256];
    snprintf(gpath, sizeof gpath, "%s/t.gp", f->dir);
    FILE *gp = fopen(gpath, "w");
    assert_int_equal(rplot_server_write(rep, f->dir, gp, err, sizeof err), 4);
    fclose(gp);
    size_t len;
    char *dat = rtest_slurp(f->dir, "server.dat", &len);
    assert_non_null(dat);
    /* t, ws sse poll all, p95 ms, drop coalesce snap-drop snap-queued shed, gaps snaps, qmax qall qbytes, broker */
    assert_non_null(strstr(dat, "\n1.000 4 2 0 6 NaN NaN NaN NaN NaN NaN NaN NaN 3 5 500 NaN\n"));
    assert_non_null(strstr(dat, "\n3.000 5 2 1 8 100 20 NaN NaN NaN 1 4 1 64 70 9000 NaN\n"));
    assert_null(strstr(dat, "\n1.500")); /* the failed scrape is no row */
    free(dat);
    char *g = rtest_slurp(f->dir, "t.gp", &len);
    assert_non_null(strstr(g, "set output \"server_backpressure.svg\""));
    assert_non_null(strstr(g, "title \"drop: events dropped\""));
    assert_non_null(strstr(g, "title \"disconnect: connections shed\""));
    assert_non_null(strstr(g, "\"timeline.dat\" using 1:3"));
    assert_null(strstr(g, "server_broker_lag"));
    free(g);
    /* a brokered node's samples add the broker-lag plot */
    json_object_set_new(json_array_get(json_object_get(json_object_get(rep, "server"), "samples"), 2),
                        "broker_lag_le", json_pack("[[f,i]]", 0.001, 3));
    assert_true(rplot_server_has(rep, 4));
    /* no samples: nothing drawn */
    json_t *none = json_pack("{s:{s:[]}}", "server", "samples");
    gp = fopen(gpath, "w");
    assert_int_equal(rplot_server_write(none, f->dir, gp, err, sizeof err), 0);
    fclose(gp);
    json_decref(none);
    json_decref(rep);
    json_decref(le0);
    json_decref(le1);
    json_decref(le2);
    json_decref(le3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_render_passing_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_failing_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_zero_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_rejects_other_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_gnuplot_failure_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_broken_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_junit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_junit_from_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_render_server_samples, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
