/* test_toxic_limit_data.c — limit_data: exactly N bytes, then close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_limit_data_cuts_at_limit(void **state)
{
    (void)state;
    testenv *t = te_new("limit_data", "{\"bytes\":5}", 1);
    te_data(t, 0, "abc", 3);
    assert_int_equal(t->closed, 0);
    te_data(t, 0, "defgh", 5);
    assert_int_equal(t->out_len, 5);
    assert_memory_equal(t->out, "abcde", 5);
    assert_int_equal(t->closed, 1);
    te_data(t, 0, "zz", 2);
    assert_int_equal(t->out_len, 5);
    te_free(t);
}

static void test_toxic_limit_data_zero_closes_on_first_data(void **state)
{
    (void)state;
    testenv *t = te_new("limit_data", "{\"bytes\":0}", 1);
    te_data(t, 0, "a", 1);
    assert_int_equal(t->out_len, 0);
    assert_int_equal(t->closed, 1);
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_limit_data_cuts_at_limit),
        cmocka_unit_test(test_toxic_limit_data_zero_closes_on_first_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
