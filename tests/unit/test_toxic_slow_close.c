/* test_toxic_slow_close.c — slow_close: the end of stream is held back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_slow_close_delays_eof(void **state)
{
    (void)state;
    testenv *t = te_new("slow_close", "{\"delay\":200}", 1);
    te_data(t, 0, "hi", 2);
    assert_int_equal(t->out_len, 2);
    te_eof(t, 1000);
    assert_int_equal(te_tick(t, 1000), 201000);
    assert_int_equal(t->eof, 0);
    te_tick(t, 201000);
    assert_int_equal(t->eof, 1);
    te_free(t);
}

static void test_toxic_slow_close_flush_releases_eof(void **state)
{
    (void)state;
    testenv *t = te_new("slow_close", "{\"delay\":200}", 1);
    te_eof(t, 0);
    te_flush(t, 5);
    assert_int_equal(t->eof, 1);
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_slow_close_delays_eof),
        cmocka_unit_test(test_toxic_slow_close_flush_releases_eof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
