/* test_toxic_timeout.c — timeout: data swallowed, close after the timeout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_timeout_drops_then_closes(void **state)
{
    (void)state;
    testenv *t = te_new("timeout", "{\"timeout\":100}", 1); /* started at 0 */
    te_data(t, 10, "lost", 4);
    assert_int_equal(t->out_len, 0);
    assert_int_equal(te_tick(t, 50000), 100000);
    assert_int_equal(t->closed, 0);
    te_tick(t, 100000);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->how, TX_CLOSE_FIN);
    te_free(t);
}

static void test_toxic_timeout_zero_never_closes(void **state)
{
    (void)state;
    testenv *t = te_new("timeout", "{\"timeout\":0}", 1);
    te_data(t, 0, "x", 1);
    assert_int_equal(te_tick(t, 1000000000), 0);
    assert_int_equal(t->closed, 0);
    te_flush(t, 1000000001); /* removing it closes, as in Toxiproxy */
    assert_int_equal(t->closed, 1);
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_timeout_drops_then_closes),
        cmocka_unit_test(test_toxic_timeout_zero_never_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
