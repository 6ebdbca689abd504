/* test_report_merge.c — common/report_merge: totals (counts add, maxima take
 * the max, counts by reason add), latency histograms added exactly, anomaly
 * examples ordered, capped per kind and tagged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "report_merge.h"

static void test_report_merge_totals(void **state)
{
    (void)state;
    char err[256];
    json_t *dst = json_object();
    json_t *a = json_pack("{s:i,s:i,s:f,s:{s:i},s:s}", "delivered", 10, "harness_stall_max_us", 700,
                          "ratio", 0.25, "errors_by_reason", "refused", 2, "note", "x");
    json_t *b = json_pack("{s:i,s:i,s:f,s:{s:i,s:i},s:i}", "delivered", 5, "harness_stall_max_us", 300,
                          "ratio", 0.75, "errors_by_reason", "refused", 1, "reset", 4, "max_clients", 9);
    assert_int_equal(rmerge_totals(dst, a, err, sizeof err), 0);
    assert_int_equal(rmerge_totals(dst, b, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(dst, "delivered")), 15);
    assert_int_equal(json_integer_value(json_object_get(dst, "harness_stall_max_us")), 700);
    assert_true(json_is_integer(json_object_get(dst, "ratio"))); /* 0.25 + 0.75 is whole */
    assert_int_equal(json_integer_value(json_object_get(dst, "ratio")), 1);
    json_t *r = json_object_get(dst, "errors_by_reason");
    assert_int_equal(json_integer_value(json_object_get(r, "refused")), 3);
    assert_int_equal(json_integer_value(json_object_get(r, "reset")), 4);
    assert_null(json_object_get(dst, "note"));
    assert_int_equal(json_integer_value(json_object_get(dst, "max_clients")), 9);
    assert_true(rmerge_is_max_key("queue_max") && rmerge_is_max_key("stall_max_ms"));
    assert_false(rmerge_is_max_key("maxima") || rmerge_is_max_key("delivered"));
    json_decref(a);
    json_decref(b);
    json_decref(dst);
}

static json_t *lat_part(const uint64_t *v, size_t n)
{
    hist *h = hist_new();
    for (size_t i = 0; i < n; i++)
        hist_record(h, v[i]);
    json_t *j = hist_summary_json(h);
    json_object_set_new(j, "hist", hist_to_json(h));
    hist_free(h);
    return j;
}

static void test_report_merge_latency_is_exact(void **state)
{
    (void)state;
    char err[256];
    static const uint64_t x[] = { 100, 200, 300 }, y[] = { 5000, 6000 }, all[] = { 100, 200, 300, 5000, 6000 };
    json_t *dst = json_object();
    json_t *a = json_pack("{s:o}", "live", lat_part(x, 3));
    json_t *b = json_pack("{s:o,s:o}", "live", lat_part(y, 2), "connect", lat_part(y, 1));
    assert_int_equal(rmerge_latency(dst, a, "a", err, sizeof err), 0);
    assert_int_equal(rmerge_latency(dst, b, "b", err, sizeof err), 0);
    json_t *want = lat_part(all, 5);
    assert_true(json_equal(json_object_get(dst, "live"), want)); /* one histogram of every value */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(dst, "connect"), "count")), 1);
    /* samples without their histogram cannot be merged */
    json_t *c = json_pack("{s:{s:i,s:i}}", "live", "count", 4, "p95", 9);
    assert_int_equal(rmerge_latency(dst, c, "shard-2", err, sizeof err), -1);
    assert_non_null(strstr(err, "shard-2: latency_us.live has no \"hist\""));
    json_t *empty = json_pack("{s:{s:i}}", "resync", "count", 0); /* nothing to add: fine */
    assert_int_equal(rmerge_latency(dst, empty, "shard-3", err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(dst, "resync"), "count")), 0);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(empty);
    json_decref(want);
    json_decref(dst);
}

static void test_report_merge_anomalies(void **state)
{
    (void)state;
    json_t *l0 = json_pack("[{s:s,s:f,s:i},{s:s,s:f,s:i},{s:s,s:f,s:i}]", "kind", "lost", "t_s", 3.0, "client", 1,
                           "kind", "lost", "t_s", 1.0, "client", 2, "kind", "duplicated", "t_s", 2.0, "client", 3);
    json_t *l1 = json_pack("[{s:s,s:f,s:i},{s:s,s:f,s:i}]", "kind", "lost", "t_s", 1.0, "client", 7, "kind",
                           "lost", "t_s", 0.5, "client", 8);
    const json_t *lists[] = { l0, NULL, l1 };
    json_t *out = rmerge_anomalies(lists, 3, 2, 1);
    assert_non_null(out);
    /* lost: 0.5 (list 2), then 1.0 from list 0 before 1.0 from list 2; duplicated kept */
    assert_int_equal(json_array_size(out), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "client")), 8);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "shard")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "client")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "shard")), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 2), "kind")), "duplicated");
    assert_null(json_object_get(json_array_get(l0, 0), "shard")); /* inputs untouched */
    json_decref(out);
    out = rmerge_anomalies(lists, 3, 10, 0);
    assert_int_equal(json_array_size(out), 5);
    assert_null(json_object_get(json_array_get(out, 0), "shard"));
    json_decref(out);
    json_decref(l0);
    json_decref(l1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_merge_totals),
        cmocka_unit_test(test_report_merge_latency_is_exact),
        cmocka_unit_test(test_report_merge_anomalies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
