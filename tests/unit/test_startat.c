/* test_startat.c — unit tests for harness/startat.c (--start-at). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "clock.h"
#include "startat.h"

static int64_t parse(const char *s)
{
    int64_t us = -1;
    char err[512];
    assert_int_equal(startat_parse(s, &us, err, sizeof err), 0);
    return us;
}

static void bad(const char *s)
{
    int64_t us = 0;
    char err[512] = "";
    assert_int_equal(startat_parse(s, &us, err, sizeof err), -1);
    assert_non_null(strstr(err, "RFC 3339"));
}

static void test_startat_rfc3339_and_unix_agree(void **state)
{
    (void)state;
    /* date -u -d 2026-12-07T09:30:00Z +%s = 1796635800 */
    assert_int_equal(parse("2026-12-07T09:30:00Z"), 1796635800LL * 1000000);
    assert_int_equal(parse("1796635800"), 1796635800LL * 1000000);
    assert_int_equal(parse("2026-12-07t09:30:00z"), 1796635800LL * 1000000);
    assert_int_equal(parse("2026-12-07 09:30:00Z"), 1796635800LL * 1000000);
    /* the offset is applied: 10:30+01:00 and 04:00-05:30 are 09:30Z */
    assert_int_equal(parse("2026-12-07T10:30:00+01:00"), 1796635800LL * 1000000);
    assert_int_equal(parse("2026-12-07T04:00:00-05:30"), 1796635800LL * 1000000);
    /* fractions to the µs; digits past µs are dropped */
    assert_int_equal(parse("2026-12-07T09:30:00.25Z"), 1796635800LL * 1000000 + 250000);
    assert_int_equal(parse("2026-12-07T09:30:00.123456789Z"), 1796635800LL * 1000000 + 123456);
    assert_int_equal(parse("1796635800.5"), 1796635800LL * 1000000 + 500000);
}

static void test_startat_refuses_what_is_not_one_instant(void **state)
{
    (void)state;
    bad("2026-12-07T09:30:00");     /* no offset: local time differs per machine */
    bad("2026-02-31T09:30:00Z");    /* no such day */
    bad("2026-12-07T24:00:00Z");
    bad("2026-12-07T09:30Z");
    bad("2026-12-07T09:30:00+0100");
    bad("2026-12-07T09:30:00Zjunk");
    bad("-5");
    bad("17966358OO");
    bad("1796635800.");
    bad("");
    bad("99999999999999999999");
}

static void test_startat_check_bounds(void **state)
{
    (void)state;
    char err[512];
    int64_t now = 1796635800LL * 1000000;
    assert_int_equal(startat_check(now + 1000000, now, STARTAT_MAX_AHEAD_US, err, sizeof err), 0);
    assert_int_equal(startat_check(now + STARTAT_MAX_AHEAD_US, now, STARTAT_MAX_AHEAD_US, err, sizeof err), 0);
    assert_int_equal(startat_check(now - 2500000, now, STARTAT_MAX_AHEAD_US, err, sizeof err), -1);
    assert_non_null(strstr(err, "2.5 s in the past"));
    assert_int_equal(startat_check(now, now, STARTAT_MAX_AHEAD_US, err, sizeof err), -1);
    assert_int_equal(startat_check(now + STARTAT_MAX_AHEAD_US + 1000000, now, STARTAT_MAX_AHEAD_US, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "3601 s ahead"));
}

static void test_startat_wait_ends_on_the_instant(void **state)
{
    (void)state;
    int64_t at = clock_wall_us() + 150000;
    assert_int_equal(startat_wait(at, NULL), 0);
    assert_true(clock_wall_us() >= at); /* never early; how late is the box's business */
    volatile sig_atomic_t stop = 1;
    assert_int_equal(startat_wait(clock_wall_us() + 60000000, &stop), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startat_rfc3339_and_unix_agree),
        cmocka_unit_test(test_startat_refuses_what_is_not_one_instant),
        cmocka_unit_test(test_startat_check_bounds),
        cmocka_unit_test(test_startat_wait_ends_on_the_instant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
