/* test_toxic_blackhole.c — blackhole: nothing forwarded, FIN swallowed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_blackhole_forwards_nothing(void **state)
{
    (void)state;
    testenv *t = te_new("blackhole", NULL, 1);
    te_data(t, 0, "abc", 3);
    te_data(t, 0, "def", 3);
    te_eof(t, 0);
    assert_int_equal(t->out_len, 0);
    assert_int_equal(t->eof, 0);
    assert_int_equal(t->closed, 0);
    assert_int_equal(t->records, 2); /* one drop event per connection + the FIN */
    te_flush(t, 1); /* removed: the peer finally sees the FIN */
    assert_int_equal(t->eof, 1);
    assert_int_equal(te_parse("blackhole", "{\"x\":1}"), -1);
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_blackhole_forwards_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
