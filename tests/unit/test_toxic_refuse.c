/* test_toxic_refuse.c — refuse: the accept-time verdict per mode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_refuse_modes(void **state)
{
    (void)state;
    testenv *t = te_new("refuse", NULL, 1);
    assert_int_equal(t->ty->accept(t->attrs), TX_ACCEPT_CLOSE);
    te_free(t);
    t = te_new("refuse", "{\"mode\":\"reset\"}", 1);
    assert_int_equal(t->ty->accept(t->attrs), TX_ACCEPT_RESET);
    te_free(t);
    assert_int_equal(te_parse("refuse", "{\"mode\":\"drop\"}"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_refuse_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
