/* test_sec_storm.c — the connection-storm guard on an injected clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sec_storm.h"

#define T0 5000000ULL

static void test_sec_storm_rate_limits_new_connections(void **state)
{
    (void)state;
    sec_storm_cfg cfg = { .new_conns = { 100, 10 }, .retry_min_ms = 1000, .retry_spread_ms = 0 };
    sec_storm g;
    sec_storm_init(&g, &cfg, 1);
    uint32_t retry = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sec_storm_admit(&g, T0, &retry), 1);
        sec_storm_settled(&g);
    }
    assert_int_equal(sec_storm_admit(&g, T0, &retry), 0);
    assert_int_equal(retry, 1000);
    assert_int_equal(g.rejected_rate, 1);
    /* 10 ms later one more token is back */
    assert_int_equal(sec_storm_admit(&g, T0 + 10000, &retry), 1);
    assert_int_equal(g.admitted, 11);
}

static void test_sec_storm_bounds_pending_handshakes(void **state)
{
    (void)state;
    sec_storm_cfg cfg = { .max_pending = 3, .retry_min_ms = 500, .retry_spread_ms = 0 };
    sec_storm g;
    sec_storm_init(&g, &cfg, 1);
    uint32_t retry;
    for (int i = 0; i < 3; i++)
        assert_int_equal(sec_storm_admit(&g, T0, &retry), 1);
    assert_int_equal(sec_storm_admit(&g, T0, &retry), 0);
    assert_int_equal(retry, 500);
    assert_int_equal(g.rejected_pending, 1);
    sec_storm_settled(&g);
    assert_int_equal(sec_storm_admit(&g, T0, &retry), 1);
    /* settling more than admitted never underflows */
    for (int i = 0; i < 10; i++)
        sec_storm_settled(&g);
    assert_int_equal(g.pending, 0);
}

static void test_sec_storm_retry_hints_are_spread_and_reproducible(void **state)
{
    (void)state;
    sec_storm_cfg cfg = { .max_pending = 1, .retry_min_ms = 1000, .retry_spread_ms = 4000 };
    sec_storm a, b;
    sec_storm_init(&a, &cfg, 99);
    sec_storm_init(&b, &cfg, 99);
    uint32_t ra, rb, lo = UINT32_MAX, hi = 0;
    sec_storm_admit(&a, T0, &ra);
    sec_storm_admit(&b, T0, &rb);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(sec_storm_admit(&a, T0, &ra), 0);
        assert_int_equal(sec_storm_admit(&b, T0, &rb), 0);
        assert_int_equal(ra, rb);
        assert_true(ra >= 1000 && ra <= 5000);
        lo = ra < lo ? ra : lo;
        hi = ra > hi ? ra : hi;
    }
    /* spread over most of the window, not one wave */
    assert_true(lo < 1500);
    assert_true(hi > 4500);
}

static void test_sec_storm_unlimited_admits_all(void **state)
{
    (void)state;
    sec_storm_cfg cfg = { 0 };
    sec_storm g;
    sec_storm_init(&g, &cfg, 1);
    uint32_t retry;
    for (int i = 0; i < 100000; i++)
        assert_int_equal(sec_storm_admit(&g, T0, &retry), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_storm_rate_limits_new_connections),
        cmocka_unit_test(test_sec_storm_bounds_pending_handshakes),
        cmocka_unit_test(test_sec_storm_retry_hints_are_spread_and_reproducible),
        cmocka_unit_test(test_sec_storm_unlimited_admits_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
