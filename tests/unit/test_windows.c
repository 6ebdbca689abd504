/* test_windows.c — unit tests for harness/windows.c (latency inside/outside fault windows). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "checker.h"
#include "windows.h"

/* A report whose second t has `count` live latencies of value[t] µs. */
static json_t *report_with(const uint64_t *value, size_t seconds, uint64_t count, json_t *faults)
{
    json_t *tl = json_array();
    for (size_t t = 0; t < seconds; t++) {
        json_t *lat = json_array();
        if (value[t])
            json_array_append_new(lat, json_pack("[I,I]", (json_int_t)hist_coarse_low(hist_coarse_index(value[t])),
                                                 (json_int_t)count));
        json_array_append_new(tl, json_pack("{s:I,s:o}", "t_s", (json_int_t)t, "lat", lat));
    }
    return json_pack("{s:o,s:o,s:{}}", "timeline", tl, "faults", faults, "latency_us");
}

static json_int_t get(const json_t *rep, const char *kind, const char *stat)
{
    return json_integer_value(json_object_get(json_object_get(json_object_get(rep, "latency_us"), kind), stat));
}

static void test_windows_split_by_fault_window_with_grace(void **state)
{
    (void)state;
    /* 1 ms everywhere, 200 ms in seconds 5..7: a latency toxic from 5.0 to
     * 7.6 s; second 8 starts inside the 0.5 s grace, so its 1 ms counts
     * "during". */
    uint64_t v[12];
    for (int t = 0; t < 12; t++)
        v[t] = (t >= 5 && t <= 7) ? 200000 : 1000;
    json_t *faults = json_pack("[{s:s,s:f,s:f}]", "kind", "toxic", "from_s", 5.0, "to_s", 7.6);
    json_t *rep = report_with(v, 12, 100, faults);
    char err[128];
    assert_int_equal(windows_add_live(rep, err, sizeof err), 0);
    /* outside: seconds 0..4 and 9..11 = 8 s of 1 ms */
    assert_int_equal(get(rep, "live_outside_faults", "count"), 800);
    assert_true(get(rep, "live_outside_faults", "max") < 1100);
    assert_true(get(rep, "live_outside_faults", "p99") >= 1000);
    /* during: seconds 5..8 (8 through the grace) */
    assert_int_equal(get(rep, "live_during_faults", "count"), 400);
    assert_true(get(rep, "live_during_faults", "p50") >= 200000);
    assert_true(get(rep, "live_during_faults", "p50") <= 206000); /* within ~3% */
    assert_non_null(json_object_get(json_object_get(json_object_get(rep, "latency_us"), "live_during_faults"), "hist"));
    json_decref(rep);
}

static void test_windows_flapping_and_instant_faults(void **state)
{
    (void)state;
    uint64_t v[20];
    for (int t = 0; t < 20; t++)
        v[t] = 1000;
    /* flapping: on 2..3 and 10..11; a disconnect at 15.2 (counts as 15.2..16.2,
     * + 0.5 s grace) */
    json_t *faults = json_pack("[{s:s,s:f,s:f,s:[[f,f],[f,f]]},{s:s,s:f,s:f}]", "kind", "toxic", "from_s", 2.0,
                               "to_s", 11.0, "windows", 2.0, 3.0, 10.0, 11.0, "kind", "disconnect", "from_s", 15.2,
                               "to_s", 15.2);
    json_t *rep = report_with(v, 20, 1, faults);
    char err[128];
    assert_int_equal(windows_add_live(rep, err, sizeof err), 0);
    /* during: 2,3 | 10,11 | 15,16 = 6 seconds; the gap 4..9 is outside */
    assert_int_equal(get(rep, "live_during_faults", "count"), 6);
    assert_int_equal(get(rep, "live_outside_faults", "count"), 14);
    json_decref(rep);
}

static void test_windows_no_faults_all_outside_and_bad_rows_refused(void **state)
{
    (void)state;
    uint64_t v[3] = {500, 0, 700};
    json_t *rep = report_with(v, 3, 10, json_array());
    char err[128];
    assert_int_equal(windows_add_live(rep, err, sizeof err), 0);
    assert_int_equal(get(rep, "live_outside_faults", "count"), 20);
    assert_int_equal(get(rep, "live_during_faults", "count"), 0);
    json_decref(rep);

    json_t *bad = json_pack("{s:[{s:s,s:[[i]]}],s:[],s:{}}", "timeline", "t_s", "x", "lat", 1, "faults",
                            "latency_us");
    err[0] = '\0';
    assert_int_equal(windows_add_live(bad, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    assert_null(json_object_get(json_object_get(bad, "latency_us"), "live_outside_faults"));
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_split_by_fault_window_with_grace),
        cmocka_unit_test(test_windows_flapping_and_instant_faults),
        cmocka_unit_test(test_windows_no_faults_all_outside_and_bad_rows_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
