/* test_upool.c — the proxy's upstream pool (fault-injector/upool.c):
 * roundrobin, leastconn, source stickiness, passive health and failover. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "upool.h"

static void roundrobin_rotates_and_skips_down(void **state)
{
    (void)state;
    upool u;
    upool_init(&u, 3, UPOOL_ROUNDROBIN);
    assert_int_equal(upool_pick(&u, 0, 0), 0);
    assert_int_equal(upool_pick(&u, 0, 0), 1);
    assert_int_equal(upool_pick(&u, 0, 0), 2);
    assert_int_equal(upool_pick(&u, 0, 0), 0);
    upool_mark_down(&u, 1, 100);
    assert_int_equal(upool_pick(&u, 0, 100), 2);
    assert_int_equal(upool_pick(&u, 0, 100), 0);
    assert_int_equal(upool_pick(&u, 0, 100), 2);
    /* back after UPOOL_DOWN_US */
    assert_int_equal(upool_pick(&u, 0, 100 + UPOOL_DOWN_US), 0);
    assert_int_equal(upool_pick(&u, 0, 100 + UPOOL_DOWN_US), 1);
}

static void all_down_still_picks(void **state)
{
    (void)state;
    upool u;
    upool_init(&u, 2, UPOOL_ROUNDROBIN);
    upool_mark_down(&u, 0, 0);
    upool_mark_down(&u, 1, 0);
    size_t a = upool_pick(&u, 0, 1), b = upool_pick(&u, 0, 1);
    assert_true(a < 2 && b < 2 && a != b);
}

static void leastconn_balances(void **state)
{
    (void)state;
    upool u;
    upool_init(&u, 3, UPOOL_LEASTCONN);
    size_t a = upool_pick(&u, 0, 0), b = upool_pick(&u, 0, 0), c = upool_pick(&u, 0, 0);
    assert_true(a != b && b != c && a != c);
    upool_release(&u, b);
    assert_int_equal(upool_pick(&u, 0, 0), b);
    upool_release(&u, a);
    upool_release(&u, a); /* never below 0 */
    assert_int_equal(u.active[a], 0);
    assert_int_equal(upool_pick(&u, 0, 0), a);
}

static void source_is_sticky_and_fails_over(void **state)
{
    (void)state;
    upool u;
    upool_init(&u, 4, UPOOL_SOURCE);
    size_t first = upool_pick(&u, 12345, 0);
    for (int k = 0; k < 5; k++)
        assert_int_equal(upool_pick(&u, 12345, 0), first);
    upool_mark_down(&u, first, 10);
    size_t moved = upool_pick(&u, 12345, 10);
    assert_true(moved != first);
    assert_int_equal(upool_pick(&u, 12345, 10), moved);
    assert_int_equal(upool_pick(&u, 12345, 10 + UPOOL_DOWN_US), first);
    /* different clients spread */
    int seen[4] = {0};
    for (uint64_t h = 0; h < 8; h++)
        seen[upool_pick(&u, h, 10 + UPOOL_DOWN_US)]++;
    for (int i = 0; i < 4; i++)
        assert_int_equal(seen[i], 2);
}

static void parse_names(void **state)
{
    (void)state;
    upool_balance b;
    assert_int_equal(upool_balance_parse("leastconn", &b), 0);
    assert_int_equal(b, UPOOL_LEASTCONN);
    assert_string_equal(upool_balance_name(b), "leastconn");
    assert_int_equal(upool_balance_parse("random", &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundrobin_rotates_and_skips_down),
        cmocka_unit_test(all_down_still_picks),
        cmocka_unit_test(leastconn_balances),
        cmocka_unit_test(source_is_sticky_and_fails_over),
        cmocka_unit_test(parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
