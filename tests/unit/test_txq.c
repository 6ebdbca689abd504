/* test_txq.c — the timed FIFO: release at due time, FIFO even when a later
 * item is due earlier, end-of-stream mark, flush, lateness reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "proxy_testenv.h"
#include "txq.h"

static uint64_t late_sum;
static void late(void *u, uint64_t us)
{
    (void)u;
    late_sum += us;
}

static void test_txq_fifo_and_due(void **state)
{
    (void)state;
    testenv *t = te_new("latency", NULL, 1); /* only for its fake env */
    t->env.lateness = late;
    txq q = {0};
    txq_push(&q, 100, (const unsigned char *)"a", 1);
    txq_push(&q, 50, (const unsigned char *)"b", 1); /* due earlier, but behind "a" */
    txq_push_eof(&q, 200);
    assert_int_equal(q.bytes, 2);
    assert_int_equal(q.last_due_us, 200);
    t->env.now_us = 60;
    assert_int_equal(txq_release(&q, &t->env), 100);
    assert_int_equal(t->out_len, 0);
    late_sum = 0;
    t->env.now_us = 150;
    assert_int_equal(txq_release(&q, &t->env), 200);
    assert_memory_equal(t->out, "ab", 2);
    assert_int_equal(late_sum, 50 + 100);
    assert_int_equal(t->eof, 0);
    t->env.now_us = 200;
    assert_int_equal(txq_release(&q, &t->env), 0);
    assert_int_equal(t->eof, 1);
    txq_push(&q, 1000, (const unsigned char *)"cd", 2);
    txq_flush(&q, &t->env);
    assert_memory_equal(t->out, "abcd", 4);
    assert_int_equal(q.bytes, 0);
    txq_push(&q, 1000, (const unsigned char *)"e", 1);
    txq_clear(&q);
    assert_null(q.head);
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txq_fifo_and_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
