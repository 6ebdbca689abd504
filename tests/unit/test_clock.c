/* test_clock.c — unit tests for common/clock.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

static void test_clock_mono_never_goes_back(void **state)
{
    (void)state;
    uint64_t prev = clock_mono_us();
    for (int i = 0; i < 10000; i++) {
        uint64_t now = clock_mono_us();
        assert_true(now >= prev);
        prev = now;
    }
}

static void test_clock_wall_is_epoch_microseconds(void **state)
{
    (void)state;
    int64_t now = clock_wall_us();
    assert_true(now > 1600000000LL * 1000000LL); /* after 2020 */
    assert_true(now < 4102444800LL * 1000000LL); /* before 2100 */
}

static void test_clock_format_utc(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(clock_format_utc(1764400000123456LL, buf, sizeof buf),
                        "2025-11-29T07:06:40.123Z");
    assert_string_equal(clock_format_utc(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_mono_never_goes_back),
        cmocka_unit_test(test_clock_wall_is_epoch_microseconds),
        cmocka_unit_test(test_clock_format_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
