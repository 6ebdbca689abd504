/* test_toxic_reset_peer.c — reset_peer: RST a timeout after data arrives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_reset_peer_resets_after_timeout(void **state)
{
    (void)state;
    testenv *t = te_new("reset_peer", "{\"timeout\":30}", 1);
    assert_int_equal(te_tick(t, 0), 0); /* nothing until data */
    te_data(t, 1000, "x", 1);
    assert_int_equal(t->out_len, 0);
    assert_int_equal(te_tick(t, 2000), 31000);
    te_tick(t, 31000);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->how, TX_CLOSE_RST);
    te_free(t);
}

static void test_toxic_reset_peer_zero_is_immediate(void **state)
{
    (void)state;
    testenv *t = te_new("reset_peer", "{\"timeout\":0}", 1);
    te_data(t, 5, "x", 1);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->how, TX_CLOSE_RST);
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_reset_peer_resets_after_timeout),
        cmocka_unit_test(test_toxic_reset_peer_zero_is_immediate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
