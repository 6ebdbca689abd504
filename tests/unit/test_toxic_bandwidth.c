/* test_toxic_bandwidth.c — bandwidth: bytes released at the configured rate. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_bandwidth_paces_at_rate(void **state)
{
    (void)state;
    testenv *t = te_new("bandwidth", "{\"rate\":10}", 1); /* 10 KB/s = 10 bytes/ms */
    static unsigned char buf[2000];
    memset(buf, 'b', sizeof buf);
    te_data(t, 0, buf, sizeof buf);
    te_tick(t, 0);
    assert_int_equal(t->out_len, 0);
    te_tick(t, 100000); /* 100 ms: about 1000 bytes */
    assert_true(t->out_len >= 800 && t->out_len <= 1000);
    te_tick(t, 199999);
    assert_true(t->out_len < 2000);
    te_tick(t, 200000);
    assert_int_equal(t->out_len, 2000);
    te_free(t);
}

static void test_toxic_bandwidth_zero_is_unlimited(void **state)
{
    (void)state;
    testenv *t = te_new("bandwidth", "{\"rate\":0}", 1);
    te_data(t, 0, "abc", 3);
    assert_int_equal(t->out_len, 3);
    te_eof(t, 0);
    te_tick(t, 0);
    assert_int_equal(t->eof, 1);
    te_free(t);
}

static void test_toxic_bandwidth_rejects_bad_rate(void **state)
{
    (void)state;
    assert_int_equal(te_parse("bandwidth", "{\"rate\":-5}"), -1);
    assert_int_equal(te_parse("bandwidth", "{\"rate\":true}"), -1);
    assert_int_equal(te_parse("bandwidth", "{\"rate\":100.0}"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_bandwidth_paces_at_rate),
        cmocka_unit_test(test_toxic_bandwidth_zero_is_unlimited),
        cmocka_unit_test(test_toxic_bandwidth_rejects_bad_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
