/* test_clock.c — unit tests for common/clock.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

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

/* A wait nobody signals ends at its deadline, not before (and a wait across
 * a second boundary carries into tv_sec). */
static void test_clock_cond_wait_us_times_out(void **state)
{
    (void)state;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&mu);
    for (uint64_t wait_us = 20000; wait_us <= 1020000; wait_us += 1000000) {
        uint64_t t0 = clock_mono_us();
        int rc;
        do /* spurious wake-ups are allowed: wait again until the deadline says so */
            rc = clock_cond_wait_us(&cond, &mu, wait_us - (clock_mono_us() - t0));
        while (rc == 0 && clock_mono_us() - t0 < wait_us);
        assert_true(rc == ETIMEDOUT || rc == 0);
        assert_true(clock_mono_us() - t0 + 1000 >= wait_us); /* 1 ms of clock granularity */
    }
    pthread_mutex_unlock(&mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_mono_never_goes_back),
        cmocka_unit_test(test_clock_wall_is_epoch_microseconds),
        cmocka_unit_test(test_clock_format_utc),
        cmocka_unit_test(test_clock_cond_wait_us_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
