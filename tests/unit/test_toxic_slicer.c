/* test_toxic_slicer.c — slicer: pieces of average ± variation, in order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"

static void test_toxic_slicer_cuts_in_order(void **state)
{
    (void)state;
    testenv *t = te_new("slicer", "{\"average_size\":10,\"size_variation\":4,\"delay\":100}", 3);
    static unsigned char buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7);
    te_data(t, 0, buf, sizeof buf);
    for (uint64_t now = 0; now < 1000000; now += 50)
        te_tick(t, now);
    assert_int_equal(t->out_len, sizeof buf);
    assert_memory_equal(t->out, buf, sizeof buf);
    assert_true(t->pieces > 50);
    for (size_t i = 0; i < t->pieces; i++)
        assert_true(t->piece_len[i] >= 1 && t->piece_len[i] <= 14);
    te_free(t);
}

static void test_toxic_slicer_spaces_pieces(void **state)
{
    (void)state;
    testenv *t = te_new("slicer", "{\"average_size\":10,\"delay\":1000}", 3);
    static unsigned char buf[100];
    te_data(t, 0, buf, sizeof buf);
    te_tick(t, 0);
    size_t first = t->pieces;
    te_tick(t, 999);
    assert_int_equal(t->pieces, first);
    te_tick(t, 1000);
    assert_int_equal(t->pieces, first + 1);
    te_free(t);
}

static void test_toxic_slicer_rejects_bad_sizes(void **state)
{
    (void)state;
    assert_int_equal(te_parse("slicer", "{\"average_size\":0}"), -1);
    assert_int_equal(te_parse("slicer", "{\"average_size\":10,\"size_variation\":10}"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_slicer_cuts_in_order),
        cmocka_unit_test(test_toxic_slicer_spaces_pieces),
        cmocka_unit_test(test_toxic_slicer_rejects_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
