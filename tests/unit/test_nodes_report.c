/* test_nodes_report.c — unit tests for harness/nodes_report.c (report.json "nodes"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "nodes_report.h"

/* One good sample: clients WS connections, a lag histogram with `lag` events
 * all in the 1 ms bucket. */
static json_t *sample(double t, double clients, double lag)
{
    return json_pack("{s:f, s:{s:f, s:f, s:f}, s:[[f,f],[f,f],[f,f]], s:f}", "t_s", t, "connections", "ws", clients,
                     "sse", 0.0, "poll", 0.0, "broker_lag_le", 0.0005, 0.0, 0.001, lag, 0.01, lag,
                     "broker_lag_count", lag);
}

static json_t *dead(double t)
{
    return json_pack("{s:f, s:s}", "t_s", t, "error", "connection refused");
}

static double num(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void test_nodes_report_failover_and_lag(void **state)
{
    (void)state;
    /* node 1 has 10 clients, dies at 3.5 s (its sample at 3 s already
     * failed), is back at 6.5 s (restarted: its lag counter starts again);
     * by 5 s node 0 has 6 more, node 2 4 more */
    json_t *s[3];
    for (int i = 0; i < 3; i++)
        s[i] = json_pack("{s:[]}", "samples");
    for (int t = 0; t <= 9; t++) {
        double gain0 = t >= 5 ? 6 : t >= 4 ? 3 : 0, gain2 = t >= 5 ? 4 : 0;
        json_array_append_new(json_object_get(s[0], "samples"), sample(t, 10 + gain0, 10.0 * t));
        json_array_append_new(json_object_get(s[2], "samples"), sample(t, 10 + gain2, 10.0 * t));
        json_t *n1 = t <= 2 ? sample(t, 10, 25.0 * t) : t <= 6 ? dead(t) : sample(t, 0, 5.0 * (t - 6));
        json_array_append_new(json_object_get(s[1], "samples"), n1);
    }
    nodes_fault f = {.name = "kill1", .kind = "kill", .node = 1, .from_s = 3.5, .to_s = 6.5};
    json_t *r = nodes_report_build(3, "leastconn", s, &f, 1, 9.0);
    assert_non_null(r);
    assert_int_equal((int)num(r, "count"), 3);
    assert_string_equal(json_string_value(json_object_get(r, "balance")), "leastconn");
    json_t *per = json_object_get(r, "per_node");
    assert_int_equal(json_array_size(per), 3);
    json_t *p1 = json_array_get(per, 1);
    /* the dead seconds are nulls in the timeline */
    json_t *tl = json_object_get(p1, "timeline");
    assert_int_equal(json_array_size(tl), 10);
    assert_true(json_is_null(json_array_get(json_array_get(tl, 5), 1)));
    assert_true(num(json_array_get(tl, 2), "x") == 0); /* not an object: 0 */
    assert_true(json_number_value(json_array_get(json_array_get(tl, 2), 1)) == 10);
    /* lag: 50 events before the restart + 15 after */
    assert_true(num(p1, "broker_lag_count") == 65);
    assert_true(num(json_object_get(p1, "broker_lag_us"), "p99") == 1000);
    assert_true(num(json_object_get(r, "broker_lag_us"), "count") == 90 + 65 + 90);
    assert_true(num(json_array_get(per, 0), "clients_peak") == 16);
    /* failover: read just before the node came back (6.49 s) */
    json_t *fo = json_array_get(json_object_get(r, "failover"), 0);
    assert_non_null(fo);
    assert_string_equal(json_string_value(json_object_get(fo, "fault")), "kill1");
    assert_true(num(fo, "clients_before") == 10);
    assert_true(fabs(num(fo, "read_at_s") - 6.49) < 1e-9);
    json_t *landed = json_object_get(fo, "landed");
    assert_int_equal(json_array_size(landed), 2);
    assert_int_equal((int)num(json_array_get(landed, 0), "node"), 0);
    assert_true(num(json_array_get(landed, 0), "clients") == 6);
    assert_int_equal((int)num(json_array_get(landed, 1), "node"), 2);
    assert_true(num(json_array_get(landed, 1), "clients") == 4);
    assert_true(num(fo, "not_back") == 0);
    assert_true(fabs(num(fo, "all_back_after_s") - 1.5) < 1e-9); /* at 5 s */
    json_decref(r);
    for (int i = 0; i < 3; i++)
        json_decref(s[i]);
}

static void test_nodes_report_clients_not_back(void **state)
{
    (void)state;
    /* node 0 dies for good at 2.2 s with 8 clients; only 5 reappear on node 1 */
    json_t *s[2];
    for (int i = 0; i < 2; i++)
        s[i] = json_pack("{s:[]}", "samples");
    for (int t = 0; t <= 20; t++) {
        json_array_append_new(json_object_get(s[0], "samples"), t <= 2 ? sample(t, 8, 0) : dead(t));
        json_array_append_new(json_object_get(s[1], "samples"), sample(t, t >= 4 ? 13 : 8, 0));
    }
    nodes_fault f = {.name = "k", .kind = "kill", .node = 0, .from_s = 2.2, .to_s = NAN};
    json_t *r = nodes_report_build(2, NULL, s, &f, 1, 20.0);
    json_t *fo = json_array_get(json_object_get(r, "failover"), 0);
    assert_true(fabs(num(fo, "read_at_s") - (2.2 + NODES_SETTLE_S)) < 1e-9);
    assert_true(num(fo, "not_back") == 3);
    assert_true(json_is_null(json_object_get(fo, "all_back_after_s")));
    /* no lag events: count 0 and no percentiles */
    assert_null(json_object_get(json_object_get(r, "broker_lag_us"), "p50"));
    json_decref(r);
    /* a node that was never scraped is said so; nothing is made up */
    json_t *none[2] = {s[0], NULL};
    r = nodes_report_build(2, "source", none, &f, 1, 20.0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "per_node"), 1), "error")),
                        "not scraped");
    json_decref(r);
    for (int i = 0; i < 2; i++)
        json_decref(s[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_report_failover_and_lag),
        cmocka_unit_test(test_nodes_report_clients_not_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
