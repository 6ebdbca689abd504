/* test_hist.c — unit tests for common/hist.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "prng.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact percentile of sorted values by the same rank rule as hist. */
static uint64_t exact_pct(const uint64_t *sorted, size_t n, double pct)
{
    size_t rank = (size_t)ceil(pct / 100.0 * (double)n - 1e-7);
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

static void test_hist_empty_is_zero(void **state)
{
    (void)state;
    hist *h = hist_new();
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_percentile(h, 50), 0);
    assert_int_equal(hist_max(h), 0);
    assert_true(hist_mean(h) == 0.0);
    hist_free(h);
}

static void test_hist_small_values_exact(void **state)
{
    (void)state;
    hist *h = hist_new();
    for (uint64_t v = 0; v < 2048; v++)
        hist_record(h, v);
    assert_int_equal(hist_count(h), 2048);
    assert_int_equal(hist_percentile(h, 50), 1023);
    assert_int_equal(hist_percentile(h, 100), 2047);
    assert_int_equal(hist_percentile(h, 0), 0);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 2047);
    hist_free(h);
}

static void test_hist_relative_error_within_3_digits(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint64_t *vals = malloc(N * sizeof *vals);
    prng p;
    prng_seed(&p, 7);
    hist *h = hist_new();
    for (int i = 0; i < N; i++) {
        /* log-uniform over 1 µs .. 1 h */
        vals[i] = (uint64_t)exp(prng_uniform(&p) * log((double)HIST_HIGHEST_US));
        hist_record(h, vals[i]);
    }
    qsort(vals, N, sizeof *vals, cmp_u64);
    const double pcts[] = {1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};
    for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
        uint64_t want = exact_pct(vals, N, pcts[k]);
        uint64_t got = hist_percentile(h, pcts[k]);
        assert_true(got >= want);
        assert_true((double)(got - want) <= (double)want / 1000.0 + 1.0);
    }
    assert_int_equal(hist_max(h), vals[N - 1]);
    free(vals);
    hist_free(h);
}

static void test_hist_clamps_above_one_hour(void **state)
{
    (void)state;
    hist *h = hist_new();
    hist_record(h, HIST_HIGHEST_US * 10);
    hist_record(h, 5);
    assert_int_equal(hist_clamped(h), 1);
    assert_int_equal(hist_max(h), HIST_HIGHEST_US);
    assert_int_equal(hist_percentile(h, 100), HIST_HIGHEST_US);
    hist_free(h);
}

static void test_hist_merge_is_exact(void **state)
{
    (void)state;
    hist *all = hist_new(), *parts[3] = {hist_new(), hist_new(), hist_new()};
    prng p;
    prng_seed(&p, 99);
    for (int i = 0; i < 30000; i++) {
        uint64_t v = prng_below(&p, 5000000) + (i % 7 == 0 ? 40000000 : 0);
        hist_record(all, v);
        hist_record(parts[prng_below(&p, 3)], v);
    }
    hist *merged = hist_new();
    for (int k = 0; k < 3; k++)
        hist_merge(merged, parts[k]);
    assert_int_equal(hist_count(merged), hist_count(all));
    for (double pct = 0; pct <= 100.0; pct += 0.5)
        assert_int_equal(hist_percentile(merged, pct), hist_percentile(all, pct));
    assert_int_equal(hist_min(merged), hist_min(all));
    assert_int_equal(hist_max(merged), hist_max(all));
    assert_true(fabs(hist_mean(merged) - hist_mean(all)) < 1e-6 * hist_mean(all));
    for (int k = 0; k < 3; k++)
        hist_free(parts[k]);
    hist_free(merged);
    hist_free(all);
}

static void test_hist_json_round_trip_merges_exactly(void **state)
{
    (void)state;
    hist *a = hist_new(), *b = hist_new(), *all = hist_new();
    for (uint64_t v = 1; v < 100000000; v = v * 3 + 1) {
        hist_record(a, v);
        hist_record(all, v);
        hist_record_n(b, v / 2 + 3, 4);
        hist_record_n(all, v / 2 + 3, 4);
    }
    json_t *ja = hist_to_json(a), *jb = hist_to_json(b);
    /* Through text, as report.json is written and read back. */
    char *text = json_dumps(ja, JSON_COMPACT);
    json_t *ja2 = json_loads(text, 0, NULL);
    hist *back = hist_new();
    char err[128];
    assert_int_equal(hist_add_json(back, ja2, err, sizeof err), 0);
    assert_int_equal(hist_add_json(back, jb, err, sizeof err), 0);
    assert_int_equal(hist_count(back), hist_count(all));
    for (double pct = 0; pct <= 100.0; pct += 1)
        assert_int_equal(hist_percentile(back, pct), hist_percentile(all, pct));
    assert_int_equal(hist_max(back), hist_max(all));
    assert_int_equal(hist_min(back), hist_min(all));
    assert_true(fabs(hist_mean(back) - hist_mean(all)) < 1e-6 * hist_mean(all));
    free(text);
    json_decref(ja);
    json_decref(ja2);
    json_decref(jb);
    hist_free(a);
    hist_free(b);
    hist_free(back);
    hist_free(all);
}

static void test_hist_add_json_rejects_bad_input_unchanged(void **state)
{
    (void)state;
    const char *bad[] = {
        "[]",
        "{\"count\":1,\"min\":1,\"max\":1}",
        "{\"count\":2,\"min\":1,\"max\":1,\"buckets\":[[1,1]]}",
        "{\"count\":1,\"min\":1,\"max\":1,\"buckets\":[[1,0]]}",
        "{\"count\":1,\"min\":1,\"max\":1,\"buckets\":[[-1,1]]}",
        "{\"count\":1,\"min\":1,\"max\":1,\"buckets\":[[99999999999999,1]]}",
        "{\"count\":1,\"min\":1,\"max\":1,\"buckets\":[[1]]}",
        "{\"count\":\"1\",\"min\":1,\"max\":1,\"buckets\":[[1,1]]}",
    };
    hist *h = hist_new();
    hist_record(h, 42);
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        err[0] = '\0';
        assert_int_equal(hist_add_json(h, j, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
        json_decref(j);
    }
    assert_int_equal(hist_count(h), 1);
    assert_int_equal(hist_percentile(h, 50), 42);
    hist_free(h);
}

static void test_hist_coarse_layout(void **state)
{
    (void)state;
    unsigned prev = 0;
    for (uint64_t v = 0; v < 5000000000ULL; v = v < 100 ? v + 1 : v + v / 37) {
        unsigned b = hist_coarse_index(v);
        assert_true(b < HIST_COARSE_BUCKETS);
        assert_true(b >= prev);
        prev = b;
        assert_true(hist_coarse_low(b) <= v);
        assert_true(hist_coarse_high(b) >= v || v > HIST_HIGHEST_US);
        if (v >= 32 && v <= HIST_HIGHEST_US)
            assert_true((double)(hist_coarse_high(b) - hist_coarse_low(b)) <= v * 0.035);
    }
    /* the layout ends at 1 h, and its array size is what the header says */
    assert_int_equal(hist_coarse_index(HIST_HIGHEST_US), HIST_COARSE_BUCKETS - 1);
    assert_int_equal(hist_coarse_index(HIST_HIGHEST_US * 10), HIST_COARSE_BUCKETS - 1);
    for (unsigned i = 0; i + 1 < HIST_COARSE_BUCKETS; i++)
        assert_int_equal(hist_coarse_index(hist_coarse_low(i)), i);
    uint32_t lat[HIST_COARSE_BUCKETS] = {0};
    for (uint64_t v = 1; v <= 100; v++)
        lat[hist_coarse_index(v * 1000)]++;
    uint64_t p95 = hist_coarse_counts_percentile(lat, 95);
    assert_true(p95 >= 95000 && p95 <= 95000 * 1.035);
    assert_int_equal(hist_coarse_counts_percentile((uint32_t[HIST_COARSE_BUCKETS]){0}, 95), 0);
}

/* A coarse histogram's figures are bucket bounds, so rebuilding it from its
 * buckets (what report.json's timeline rows and groups carry), adding bare
 * count arrays, or merging a fine one into it all give the same figures. */
static void test_hist_coarse_rebuilds_exactly(void **state)
{
    (void)state;
    prng r;
    prng_seed(&r, 77);
    hist *c = hist_new_precision(HIST_COARSE), *fine = hist_new(), *from_fine = hist_new_precision(HIST_COARSE);
    uint32_t *counts = calloc(HIST_COARSE_BUCKETS, sizeof *counts);
    assert_int_equal(hist_get_precision(c), HIST_COARSE);
    assert_int_equal(hist_get_precision(fine), HIST_FINE);
    for (int i = 0; i < 20000; i++) {
        uint64_t v = (uint64_t)prng_pareto(&r, 100.0, 1.1);
        if (v > 4000000000ULL)
            v = 4000000000ULL;
        hist_record(c, v);
        hist_record(fine, v);
        counts[hist_coarse_index(v)]++;
    }
    hist_merge(from_fine, fine);
    hist *back = hist_new_precision(HIST_COARSE), *arr = hist_new_precision(HIST_COARSE);
    char err[200];
    json_t *b = hist_buckets_json(c);
    assert_int_equal(hist_add_buckets_json(back, b, err, sizeof err), 0);
    hist_add_coarse_counts(arr, counts);
    for (double q = 0; q <= 100; q += 0.25) {
        uint64_t want = hist_percentile(c, q);
        assert_int_equal(hist_percentile(back, q), want);
        assert_int_equal(hist_percentile(arr, q), want);
        assert_int_equal(hist_percentile(from_fine, q), want);
        if (q > 0)
            assert_int_equal(hist_coarse_counts_percentile(counts, q), want);
        /* the top of the bucket holding the rank: never below the fine figure */
        assert_true(want >= hist_percentile(fine, q) || hist_percentile(fine, q) > HIST_HIGHEST_US - 1);
    }
    assert_int_equal(hist_min(back), hist_min(c));
    assert_int_equal(hist_max(back), hist_max(c));
    assert_int_equal(hist_count(back), 20000);
    /* coarse into fine: each bucket at its highest value, what the coarse one says */
    hist *up = hist_new();
    hist_merge(up, c);
    assert_int_equal(hist_count(up), 20000);
    assert_int_equal(hist_percentile(up, 95), hist_percentile(c, 95));
    /* bad buckets are refused and change nothing */
    json_t *bad = json_loads("[[5,1],[7,0]]", 0, NULL);
    assert_int_equal(hist_add_buckets_json(back, bad, err, sizeof err), -1);
    assert_int_equal(hist_count(back), 20000);
    json_decref(bad);
    json_decref(b);
    free(counts);
    hist_free(c);
    hist_free(fine);
    hist_free(from_fine);
    hist_free(back);
    hist_free(arr);
    hist_free(up);
}

static void test_hist_summary_has_report_fields(void **state)
{
    (void)state;
    hist *h = hist_new();
    for (uint64_t v = 1; v <= 1000; v++)
        hist_record(h, v);
    json_t *s = hist_summary_json(h);
    assert_int_equal(json_integer_value(json_object_get(s, "count")), 1000);
    assert_int_equal(json_integer_value(json_object_get(s, "p50")), 500);
    assert_int_equal(json_integer_value(json_object_get(s, "p95")), 950);
    assert_int_equal(json_integer_value(json_object_get(s, "p99")), 990);
    assert_int_equal(json_integer_value(json_object_get(s, "p999")), 999);
    assert_int_equal(json_integer_value(json_object_get(s, "max")), 1000);
    json_decref(s);
    hist_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_empty_is_zero),
        cmocka_unit_test(test_hist_small_values_exact),
        cmocka_unit_test(test_hist_relative_error_within_3_digits),
        cmocka_unit_test(test_hist_clamps_above_one_hour),
        cmocka_unit_test(test_hist_merge_is_exact),
        cmocka_unit_test(test_hist_json_round_trip_merges_exactly),
        cmocka_unit_test(test_hist_add_json_rejects_bad_input_unchanged),
        cmocka_unit_test(test_hist_coarse_layout),
        cmocka_unit_test(test_hist_coarse_rebuilds_exactly),
        cmocka_unit_test(test_hist_summary_has_report_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
