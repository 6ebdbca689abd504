/* test_msgq.c — the message release queue: pass-through when nothing waits,
 * delay keeps order, reorder gap and its time limit, burst window, unhold,
 * end of stream after a held message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "msgq.h"
#include "proxy_testenv.h"

static testenv *env(void)
{
    return te_new("latency", NULL, 1); /* only for its fake env */
}

static void test_msgq_send_delay_order(void **state)
{
    (void)state;
    testenv *t = env();
    msgq m = {0};
    t->env.now_us = 0;
    msgq_send(&m, &t->env, (const unsigned char *)"1", 1);
    assert_int_equal(t->out_len, 1); /* nothing ahead: straight through */
    msgq_send_delayed(&m, &t->env, (const unsigned char *)"2", 1, 1000);
    msgq_send(&m, &t->env, (const unsigned char *)"3", 1); /* waits behind 2 */
    assert_int_equal(t->out_len, 1);
    t->env.now_us = 999;
    assert_int_equal(msgq_tick(&m, &t->env), 1000);
    t->env.now_us = 1000;
    msgq_tick(&m, &t->env);
    assert_memory_equal(t->out, "123", 3);
    msgq_free(&m);
    te_free(t);
}

static void test_msgq_reorder_gap_and_limit(void **state)
{
    (void)state;
    testenv *t = env();
    msgq m = {0};
    t->env.now_us = 0;
    assert_int_equal(msgq_hold(&m, &t->env, (const unsigned char *)"A", 1, 2, 5000), 0);
    assert_int_equal(msgq_hold(&m, &t->env, (const unsigned char *)"B", 1, 2, 5000), 1); /* one at a time */
    msgq_pass(&m, &t->env, (const unsigned char *)"-", 1); /* not a message: no gap count */
    msgq_send(&m, &t->env, (const unsigned char *)"C", 1);
    msgq_tick(&m, &t->env);
    assert_memory_equal(t->out, "B-CA", 4);
    /* the time limit releases a held message with no followers */
    msgq_hold(&m, &t->env, (const unsigned char *)"D", 1, 3, 5000);
    assert_int_equal(msgq_tick(&m, &t->env), 5000);
    t->env.now_us = 5000;
    msgq_tick(&m, &t->env);
    assert_memory_equal(t->out, "B-CAD", 5);
    /* unhold and eof put the held one out first */
    msgq_hold(&m, &t->env, (const unsigned char *)"E", 1, 3, 5000);
    msgq_unhold(&m, &t->env);
    msgq_hold(&m, &t->env, (const unsigned char *)"F", 1, 3, 5000);
    msgq_eof(&m, &t->env);
    msgq_tick(&m, &t->env);
    assert_memory_equal(t->out, "B-CADEF", 7);
    assert_int_equal(t->eof, 1);
    msgq_free(&m);
    te_free(t);
}

static void test_msgq_burst(void **state)
{
    (void)state;
    testenv *t = env();
    msgq m = {0};
    t->env.now_us = 100;
    assert_int_equal(msgq_burst(&m, &t->env, 1000), 1);
    assert_int_equal(msgq_burst(&m, &t->env, 1000), 0); /* already open */
    msgq_send(&m, &t->env, (const unsigned char *)"x", 1);
    t->env.now_us = 900;
    msgq_send(&m, &t->env, (const unsigned char *)"y", 1);
    msgq_tick(&m, &t->env);
    assert_int_equal(t->out_len, 0);
    assert_int_equal(msgq_bytes(&m), 2);
    t->env.now_us = 1100;
    msgq_tick(&m, &t->env);
    assert_memory_equal(t->out, "xy", 2);
    msgq_send(&m, &t->env, (const unsigned char *)"z", 1); /* window over: straight */
    assert_int_equal(t->out_len, 3);
    msgq_free(&m);
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msgq_send_delay_order),
        cmocka_unit_test(test_msgq_reorder_gap_and_limit),
        cmocka_unit_test(test_msgq_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
