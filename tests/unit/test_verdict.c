/* test_verdict.c — budgets against report.json values: metric mapping, each
 * operator at its boundary, ratios, missing data never passes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../harness/verdict.h"

static json_t *report(void)
{
    json_error_t e;
    json_t *r = json_loads(
        "{\"schema\":\"rtchaos.report/1\",\"scenario\":\"s<&>\",\"duration_s\":10.0,"
        "\"totals\":{\"clients\":100,\"published\":1000,\"delivered\":99900,\"expected\":100000,"
        "\"lost\":0,\"duplicated\":2,\"resync_failed\":0,\"reconnects\":50},"
        "\"latency_us\":{\"live\":{\"count\":99900,\"p50\":1200,\"p95\":50000,\"p99\":50001,"
        "\"p999\":90000,\"max\":120000},\"resync\":{\"count\":0,\"p95\":0}}}",
        0, &e);
    assert_non_null(r);
    return r;
}

static scn_budget B(const char *metric, scn_op op, double v)
{
    scn_budget b = {.metric = (char *)metric, .op = op, .value = v, .text = NULL};
    return b;
}

static void test_verdict_metric_table(void **state)
{
    (void)state;
    const verdict_metric *m = verdict_metric_find("p95_live_ms");
    assert_non_null(m);
    assert_string_equal(m->path, "latency_us.live.p95");
    assert_non_null(verdict_metric_find("resync_p95_ms"));
    assert_non_null(verdict_metric_find("reconnect_p95_ms"));
    assert_non_null(verdict_metric_find("delivered_ratio"));
    assert_null(verdict_metric_find("p95_liv_ms"));
    size_t n;
    const verdict_metric *all = verdict_metrics(&n);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(verdict_metric_find(all[i].name), &all[i]);
}

static void test_verdict_values_from_report(void **state)
{
    (void)state;
    json_t *r = report();
    char err[256];
    double v;
    assert_int_equal(verdict_metric_value(verdict_metric_find("p95_live_ms"), r, &v, err, sizeof err), 0);
    assert_true(v == 50.0);
    assert_int_equal(verdict_metric_value(verdict_metric_find("max_live_ms"), r, &v, err, sizeof err), 0);
    assert_true(v == 120.0);
    assert_int_equal(verdict_metric_value(verdict_metric_find("delivered_ratio"), r, &v, err, sizeof err), 0);
    assert_true(v == 0.999);
    assert_int_equal(verdict_metric_value(verdict_metric_find("duplicated"), r, &v, err, sizeof err), 0);
    assert_true(v == 2);
    assert_int_equal(verdict_metric_value(verdict_metric_find("gaps"), r, &v, err, sizeof err), -1);
    assert_string_equal(err, "not measured (report.json has no totals.gaps)");
    json_decref(r);
}

static void test_verdict_operators_at_boundary(void **state)
{
    (void)state;
    assert_true(verdict_compare(50, SCN_OP_LE, 50));
    assert_false(verdict_compare(50.001, SCN_OP_LE, 50));
    assert_false(verdict_compare(50, SCN_OP_LT, 50));
    assert_true(verdict_compare(0.999, SCN_OP_GE, 0.999));
    assert_false(verdict_compare(0.999, SCN_OP_GT, 0.999));
    assert_true(verdict_compare(0, SCN_OP_EQ, 0));
    assert_false(verdict_compare(1, SCN_OP_EQ, 0));
    assert_true(verdict_compare(1, SCN_OP_NE, 0));
}

static void test_verdict_eval(void **state)
{
    (void)state;
    json_t *r = report();
    scn_budget b[] = {
        B("p95_live_ms", SCN_OP_LE, 50),        /* 50.000 <= 50: pass at the margin */
        B("p99_live_ms", SCN_OP_LE, 50),        /* 50.001: fail */
        B("lost", SCN_OP_EQ, 0),                /* pass */
        B("duplicated", SCN_OP_EQ, 0),          /* fail */
        B("delivered_ratio", SCN_OP_GE, 0.999), /* pass */
        B("gaps", SCN_OP_EQ, 0),                /* missing: fail, never pass */
        B("resync_p95_ms", SCN_OP_LE, 500),     /* no resyncs: not measured, fails */
    };
    json_t *v = verdict_eval(b, sizeof b / sizeof *b, r);
    assert_int_equal(json_array_size(v), 7);
    int want[] = {1, 0, 1, 0, 1, 0, 0};
    for (size_t i = 0; i < 7; i++) {
        json_t *x = json_array_get(v, i);
        assert_int_equal(json_is_true(json_object_get(x, "pass")), want[i]);
        assert_string_equal(json_string_value(json_object_get(x, "name")), b[i].metric);
    }
    assert_true(json_is_null(json_object_get(json_array_get(v, 5), "value")));
    assert_non_null(json_object_get(json_array_get(v, 5), "error"));
    /* a latency budget over an empty histogram fails as "not measured", as a
     * missing metric does: its summary's 0 would pass every upper bound */
    assert_true(json_is_null(json_object_get(json_array_get(v, 6), "value")));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(v, 6), "error")), "not measured"));
    assert_true(json_real_value(json_object_get(json_array_get(v, 1), "value")) == 50.001);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 4), "op")), ">=");
    assert_false(verdict_all_pass(v));
    json_t *empty = json_array();
    assert_true(verdict_all_pass(empty));
    json_decref(empty);
    json_decref(v);
    json_decref(r);
}

static void test_verdict_ratio_without_expected_fails(void **state)
{
    (void)state;
    json_t *r = json_pack("{s:{s:i, s:i}}", "totals", "delivered", 0, "expected", 0);
    scn_budget b = B("delivered_ratio", SCN_OP_GE, 0.5);
    json_t *v = verdict_eval(&b, 1, r);
    assert_false(json_is_true(json_object_get(json_array_get(v, 0), "pass")));
    json_decref(v);
    json_decref(r);
}

static void test_verdict_group_budgets(void **state)
{
    (void)state;
    json_t *r = report();
    json_object_set_new(r, "groups",
                        json_pack("{s:{s:i, s:i, s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i}}", "fast", "clients", 100,
                                  "delivered", 5000, "live", 5000, "live_p95_us", 8447, "lost", 0, "away-sse",
                                  "delivered", 0, "lost", 3, "live", 0, "live_p95_us", 0));
    char g[64];
    const verdict_metric *m = verdict_resolve("away-sse.lost", g, sizeof g);
    assert_non_null(m);
    assert_string_equal(g, "away-sse");
    assert_null(verdict_resolve("fast.gaps", g, sizeof g)); /* not a group metric */
    assert_non_null(verdict_resolve("lost", g, sizeof g));
    assert_string_equal(g, "");
    scn_budget b[] = {
        B("fast.p95_live_ms", SCN_OP_LE, 10),  /* 8.447: pass */
        B("fast.lost", SCN_OP_EQ, 0),          /* pass */
        B("away-sse.lost", SCN_OP_EQ, 0),      /* 3 (nothing delivered, 3 owed: measured): fail */
        B("nobody.lost", SCN_OP_EQ, 0),        /* no such group in the report: fail */
        B("away-sse.p95_live_ms", SCN_OP_LE, 10), /* nothing received live: not measured */
    };
    json_t *v = verdict_eval(b, 5, r);
    int want[] = {1, 1, 0, 0, 0};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(json_is_true(json_object_get(json_array_get(v, i), "pass")), want[i]);
    assert_true(json_real_value(json_object_get(json_array_get(v, 0), "value")) == 8.447);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 3), "error")),
                        "not measured (report.json has no groups.nobody)");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 4), "error")),
                        "not measured (groups.away-sse.live is 0: no samples)");
    assert_true(json_real_value(json_object_get(json_array_get(v, 2), "value")) == 3);
    json_decref(v);
    json_decref(r);
}

/* A correctness count over a run that checked no event (nothing published,
 * no client subscribed: a target answering 404 to everything) is not a
 * measurement: "lost == 0" fails as not measured instead of passing on
 * nothing; the same for a group that received nothing. Once events were
 * checked, 0 is a measurement and passes. */
static void test_verdict_correctness_over_nothing_fails(void **state)
{
    (void)state;
    json_t *r = json_pack("{s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}, s:{s:{s:i, s:i, s:i, s:i}}}", "totals",
                          "published", 0, "delivered", 0, "expected", 0, "lost", 0, "duplicated", 0, "reordered", 0,
                          "resync_failed", 0, "errors", 1519, "groups", "ws", "delivered", 0, "lost", 0,
                          "duplicated", 0, "reordered", 0);
    scn_budget b[] = {
        B("lost", SCN_OP_EQ, 0),          B("duplicated", SCN_OP_EQ, 0), B("reordered", SCN_OP_EQ, 0),
        B("resync_failed", SCN_OP_EQ, 0), B("ws.lost", SCN_OP_EQ, 0),    B("ws.duplicated", SCN_OP_LE, 5),
        B("errors", SCN_OP_GE, 1),        /* not a correctness count: judged */
    };
    json_t *v = verdict_eval(b, 7, r);
    for (size_t i = 0; i < 6; i++) {
        assert_false(json_is_true(json_object_get(json_array_get(v, i), "pass")));
        assert_true(json_is_null(json_object_get(json_array_get(v, i), "value")));
    }
    assert_true(json_is_true(json_object_get(json_array_get(v, 6), "pass")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "error")),
                        "not measured (totals.expected is 0: no event was checked)");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 4), "error")),
                        "not measured (groups.ws.delivered is 0: no event was checked)");
    json_decref(v);
    /* events checked: the same zeros are measurements, and pass */
    json_object_set_new(json_object_get(r, "totals"), "expected", json_integer(40));
    json_object_set_new(json_object_get(r, "totals"), "delivered", json_integer(40));
    json_object_set_new(json_object_get(json_object_get(r, "groups"), "ws"), "delivered", json_integer(40));
    v = verdict_eval(b, 7, r);
    for (size_t i = 0; i < 7; i++)
        assert_true(json_is_true(json_object_get(json_array_get(v, i), "pass")));
    json_decref(v);
    json_decref(r);
}

/* A latency budget that fails while the harness stalled says so in "note"
 * (and still fails); passing ones, other metrics and stall-free runs do not. */
static void test_verdict_stall_note(void **state)
{
    (void)state;
    json_t *r = report(); /* live p95 50 ms, p99 50.001 ms */
    json_object_set_new(r, "groups", json_pack("{s:{s:i, s:i}}", "fast", "live", 10, "live_p95_us", 251800));
    scn_budget b[] = {
        B("p99_live_ms", SCN_OP_LE, 50),      /* 50.001: fail, a latency metric */
        B("p95_live_ms", SCN_OP_LE, 50),      /* pass */
        B("duplicated", SCN_OP_EQ, 0),        /* 2: fail, not latency */
        B("fast.p95_live_ms", SCN_OP_LE, 250), /* 251.8: fail, a group's latency */
    };
    json_t *v = verdict_eval(b, 4, r);
    for (size_t i = 0; i < 4; i++)
        assert_null(json_object_get(json_array_get(v, i), "note")); /* no stall: no note */
    json_decref(v);
    json_object_set_new(json_object_get(r, "totals"), "harness_stalls", json_integer(9));
    json_object_set_new(json_object_get(r, "totals"), "harness_stall_max_us", json_integer(251627));
    v = verdict_eval(b, 4, r);
    const char *want = "the harness itself stalled 9 times (worst 252 ms): this latency may be the harness's, "
                       "not the server's";
    assert_false(json_is_true(json_object_get(json_array_get(v, 0), "pass")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "note")), want);
    assert_null(json_object_get(json_array_get(v, 1), "note"));
    assert_null(json_object_get(json_array_get(v, 2), "note"));
    assert_false(json_is_true(json_object_get(json_array_get(v, 3), "pass")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 3), "note")), want);
    json_decref(v);

    /* the server's event loop at its ceiling (server.loop_busy_peak >= 0.9):
     * said as well; below 0.9 not */
    json_object_set_new(r, "server", json_pack("{s:f, s:f}", "loop_busy_peak", 0.97, "loop_busy_mean", 0.8));
    v = verdict_eval(b, 4, r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "note")),
                        "the harness itself stalled 9 times (worst 252 ms): this latency may be the harness's, "
                        "not the server's; the server's event loop was 97% busy in its busiest scrape interval: "
                        "the server was at its own ceiling");
    assert_null(json_object_get(json_array_get(v, 2), "note"));
    json_decref(v);
    json_object_set_new(json_object_get(r, "totals"), "harness_stalls", json_integer(0));
    v = verdict_eval(b, 4, r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 3), "note")),
                        "the server's event loop was 97% busy in its busiest scrape interval: the server was at "
                        "its own ceiling");
    assert_null(json_object_get(json_array_get(v, 1), "note")); /* passed */
    json_decref(v);
    json_object_set_new(r, "server", json_pack("{s:f}", "loop_busy_peak", 0.85));
    v = verdict_eval(b, 4, r);
    assert_null(json_object_get(json_array_get(v, 0), "note"));
    json_decref(v);
    json_decref(r);
}

/* Headroom budgets on rtchaos-server's event loop: read from
 * server.loop_busy_mean / loop_busy_peak; not measured (failing) without. */
static void test_verdict_loop_busy_budgets(void **state)
{
    (void)state;
    json_t *r = json_pack("{s:{s:f, s:f}}", "server", "loop_busy_mean", 0.62, "loop_busy_peak", 0.91);
    scn_budget b[] = {
        B("server_loop_busy_mean", SCN_OP_LE, 0.7),
        B("server_loop_busy_peak", SCN_OP_LE, 0.9),
    };
    json_t *v = verdict_eval(b, 2, r);
    assert_true(json_is_true(json_object_get(json_array_get(v, 0), "pass")));
    assert_true(json_real_value(json_object_get(json_array_get(v, 0), "value")) == 0.62);
    assert_false(json_is_true(json_object_get(json_array_get(v, 1), "pass")));
    json_decref(v);
    json_decref(r);
    r = json_pack("{s:{s:i}}", "totals", "delivered", 10); /* a server without the metric */
    v = verdict_eval(b, 2, r);
    assert_false(json_is_true(json_object_get(json_array_get(v, 0), "pass")));
    assert_non_null(json_object_get(json_array_get(v, 0), "error"));
    json_decref(v);
    json_decref(r);
}

static void test_verdict_attack_budgets(void **state)
{
    (void)state;
    json_error_t e;
    json_t *r = json_loads(
        "{\"attacks\":{\"attempts\":40,\"rejected\":39,\"accepted\":2000,\"cut_us\":{\"count\":39,\"p99\":3250000}},"
        "\"groups\":{\"flood\":{\"attack\":{\"attempts\":20,\"rejected\":20,\"accepted\":1000}},"
        "\"idle\":{\"attack\":{\"attempts\":0,\"rejected\":0}},\"legit\":{\"lost\":0}}}",
        0, &e);
    assert_non_null(r);
    scn_budget b[] = {
        B("attack_rejected_ratio", SCN_OP_GE, 1),       /* 39/40: fails */
        B("attack_cut_p99_ms", SCN_OP_LE, 4000),        /* 3250 ms */
        B("flood.attack_rejected_ratio", SCN_OP_GE, 1), /* 20/20 */
        B("flood.attack_accepted_per_attempt", SCN_OP_LE, 50),
        B("idle.attack_rejected_ratio", SCN_OP_GE, 1),  /* nothing attempted: never passes */
        B("legit.attack_attempts", SCN_OP_EQ, 0),       /* not an attacker group: not measured */
    };
    json_t *v = verdict_eval(b, sizeof b / sizeof *b, r);
    static const int pass[] = {0, 1, 1, 1, 0, 0};
    for (size_t i = 0; i < sizeof pass / sizeof *pass; i++)
        assert_int_equal(json_is_true(json_object_get(json_array_get(v, i), "pass")), pass[i]);
    assert_true(fabs(json_real_value(json_object_get(json_array_get(v, 0), "value")) - 0.975) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(json_array_get(v, 1), "value")) - 3250) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(json_array_get(v, 3), "value")) - 50) < 1e-9);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(v, 4), "error")),
                           "undefined: groups.idle.attack.attempts is 0"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 5), "error")),
                        "not measured (report.json has no groups.legit.attack.attempts)");
    json_decref(v);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_metric_table),
        cmocka_unit_test(test_verdict_values_from_report),
        cmocka_unit_test(test_verdict_operators_at_boundary),
        cmocka_unit_test(test_verdict_eval),
        cmocka_unit_test(test_verdict_attack_budgets),
        cmocka_unit_test(test_verdict_ratio_without_expected_fails),
        cmocka_unit_test(test_verdict_group_budgets),
        cmocka_unit_test(test_verdict_correctness_over_nothing_fails),
        cmocka_unit_test(test_verdict_stall_note),
        cmocka_unit_test(test_verdict_loop_busy_budgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
