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
    assert_int_equal(t->records, 2); /* one hold event per connection + the FIN */
    /* removed: the path is back, everything goes through in order, then the FIN */
    te_flush(t, 1);
    assert_int_equal(t->out_len, 6);
    assert_memory_equal(t->out, "abcdef", 6);
    assert_int_equal(t->eof, 1);
    assert_int_equal(te_parse("blackhole", "{\"x\":1}"), -1);
    assert_int_equal(te_parse("blackhole", "{\"hold_bytes\":0}"), -1);
    te_free(t);
}

static void test_toxic_blackhole_full_holds_the_sender(void **state)
{
    (void)state;
    testenv *t = te_new("blackhole", "{\"hold_bytes\":10}", 1);
    te_data(t, 0, "0123456", 7);
    assert_true(t->ty->held(t->state) < 10);
    te_data(t, 0, "789", 3);
    assert_true(t->ty->held(t->state) > ((size_t)1 << 40)); /* full: the link stops reading */
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_blackhole_forwards_nothing),
        cmocka_unit_test(test_toxic_blackhole_full_holds_the_sender),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
