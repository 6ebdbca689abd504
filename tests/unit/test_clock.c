/* test_clock.c — unit tests for common/clock.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

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

static void on_alarm(int sig)
{
    (void)sig;
}

/* A signal 20 ms in: clock_sleep_ms sleeps on to the end, clock_nap_ms
 * returns at once saying so. (Lower bounds and a 10x margin only: the box
 * may be loaded.) */
static void test_clock_sleep_and_nap_on_a_signal(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: the sleep sees EINTR */
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 20000}};
    uint64_t t0 = clock_mono_us();
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    clock_sleep_ms(200);
    assert_true(clock_mono_us() - t0 >= 200000);
    t0 = clock_mono_us();
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    assert_int_equal(clock_nap_ms(20000), 1);
    assert_true(clock_mono_us() - t0 < 2000000);
    assert_int_equal(clock_nap_ms(1), 0);
    sigaction(SIGALRM, &old, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_mono_never_goes_back),
        cmocka_unit_test(test_clock_wall_is_epoch_microseconds),
        cmocka_unit_test(test_clock_format_utc),
        cmocka_unit_test(test_clock_cond_wait_us_times_out),
        cmocka_unit_test(test_clock_sleep_and_nap_on_a_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
