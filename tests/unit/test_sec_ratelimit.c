/* test_sec_ratelimit.c — token buckets and the keyed table, on an injected
 * clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sec_ratelimit.h"

#define T0 1000000000ULL /* an arbitrary monotonic start, µs */

static void test_sec_ratelimit_burst_then_refill(void **state)
{
    (void)state;
    sec_rate r = { .rate_per_s = 10, .burst = 5 };
    sec_bucket b = { 0 };
    uint64_t retry = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(sec_bucket_take(&b, &r, T0, 1, &retry), 1);
    assert_int_equal(sec_bucket_take(&b, &r, T0, 1, &retry), 0);
    assert_int_equal(retry, 100000); /* one token per 100 ms */
    assert_int_equal(sec_bucket_take(&b, &r, T0 + 99999, 1, &retry), 0);
    assert_int_equal(retry, 1);
    assert_int_equal(sec_bucket_take(&b, &r, T0 + 100000, 1, &retry), 1);
    /* a long idle time refills to the burst, no further */
    for (int i = 0; i < 5; i++)
        assert_int_equal(sec_bucket_take(&b, &r, T0 + 3600000000ULL, 1, NULL), 1);
    assert_int_equal(sec_bucket_take(&b, &r, T0 + 3600000000ULL, 1, NULL), 0);
}

static void test_sec_ratelimit_sustained_rate_is_exact(void **state)
{
    (void)state;
    /* 7/s over 10 s with a request every ms: burst + 70 granted */
    sec_rate r = { .rate_per_s = 7, .burst = 3 };
    sec_bucket b = { 0 };
    int granted = 0;
    for (uint64_t t = 0; t <= 10000; t++)
        granted += sec_bucket_take(&b, &r, T0 + t * 1000, 1, NULL);
    assert_int_equal(granted, 3 + 70);
}

static void test_sec_ratelimit_more_than_burst_never_granted(void **state)
{
    (void)state;
    sec_rate r = { .rate_per_s = 10, .burst = 5 };
    sec_bucket b = { 0 };
    uint64_t retry = 0;
    assert_int_equal(sec_bucket_take(&b, &r, T0, 6, &retry), 0);
    assert_int_equal(retry, UINT64_MAX);
    assert_int_equal(sec_bucket_take(&b, &r, T0, 5, &retry), 1);
}

static void test_sec_ratelimit_clock_going_back_is_harmless(void **state)
{
    (void)state;
    sec_rate r = { .rate_per_s = 1, .burst = 1 };
    sec_bucket b = { 0 };
    assert_int_equal(sec_bucket_take(&b, &r, T0, 1, NULL), 1);
    assert_int_equal(sec_bucket_take(&b, &r, T0 - 5000000, 1, NULL), 0);
    assert_int_equal(sec_bucket_take(&b, &r, T0 + 1000000, 1, NULL), 1);
}

static void test_sec_ratelimit_unlimited(void **state)
{
    (void)state;
    sec_rate r = { 0, 0 };
    sec_bucket b = { 0 };
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sec_bucket_take(&b, &r, T0, 1, NULL), 1);
}

static void test_sec_ratelimit_parse(void **state)
{
    (void)state;
    char err[160];
    sec_rate r;
    assert_int_equal(sec_rate_parse("100/s", &r, err, sizeof err), 0);
    assert_int_equal(r.rate_per_s, 100);
    assert_int_equal(r.burst, 100);
    assert_int_equal(sec_rate_parse("5/s:20", &r, err, sizeof err), 0);
    assert_int_equal(r.burst, 20);
    assert_int_equal(sec_rate_parse("off", &r, err, sizeof err), 0);
    assert_int_equal(r.rate_per_s, 0);
    const char *bad[] = { "", "abc", "5", "5/m", "5/s:", "5/s:0", "0/s", "-3/s", "5/s:2x", "5/sx",
                          "99999999/s" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (sec_rate_parse(bad[i], &r, err, sizeof err) != -1)
            fail_msg("accepted %s", bad[i]);
}

static void test_sec_ratelimit_table_keys_are_independent(void **state)
{
    (void)state;
    char err[160];
    sec_ratetab *t = sec_ratetab_new(64, (sec_rate){ 1, 2 }, 42, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(sec_ratetab_take(t, "alice", T0, 1, NULL), 1);
    assert_int_equal(sec_ratetab_take(t, "alice", T0, 1, NULL), 1);
    uint64_t retry = 0;
    assert_int_equal(sec_ratetab_take(t, "alice", T0, 1, &retry), 0);
    assert_int_equal(retry, 1000000);
    assert_int_equal(sec_ratetab_take(t, "bob", T0, 1, NULL), 1);
    assert_int_equal(sec_ratetab_used(t), 2);
    assert_int_equal(sec_ratetab_take(t, "", T0, 1, NULL), 0);
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    assert_int_equal(sec_ratetab_take(t, longkey, T0, 1, NULL), 0);
    sec_ratetab_free(t);
}

/* Many more keys than slots: memory stays bounded, the idlest are reused,
 * and a key that keeps being limited stays limited while it is active. */
static void test_sec_ratelimit_table_is_bounded(void **state)
{
    (void)state;
    char err[160];
    sec_ratetab *t = sec_ratetab_new(100, (sec_rate){ 1, 1 }, 7, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(sec_ratetab_take(t, "hot", T0, 1, NULL), 1);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        sec_ratetab_take(t, key, T0 + (uint64_t)i, 1, NULL);
        if (i % 10 == 0)
            sec_ratetab_take(t, "hot", T0 + (uint64_t)i, 1, NULL);
    }
    assert_true(sec_ratetab_used(t) <= 128);
    assert_true(sec_ratetab_evictions(t) > 0);
    /* "hot" was touched every 10 keys, so it is (almost surely) never the idlest
     * of the 8 slots a new key probes; the seed is fixed, so this is repeatable */
    assert_int_equal(sec_ratetab_take(t, "hot", T0 + 100000, 1, NULL), 0);
    sec_ratetab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_ratelimit_burst_then_refill),
        cmocka_unit_test(test_sec_ratelimit_sustained_rate_is_exact),
        cmocka_unit_test(test_sec_ratelimit_more_than_burst_never_granted),
        cmocka_unit_test(test_sec_ratelimit_clock_going_back_is_harmless),
        cmocka_unit_test(test_sec_ratelimit_unlimited),
        cmocka_unit_test(test_sec_ratelimit_parse),
        cmocka_unit_test(test_sec_ratelimit_table_keys_are_independent),
        cmocka_unit_test(test_sec_ratelimit_table_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
