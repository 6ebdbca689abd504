/* test_twheel.c — the timer wheel (reference-server/twheel.c): never early,
 * at most a tick late, re-arm and cancel from callbacks, turns of the wheel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "twheel.h"

typedef struct item {
    twheel_timer t;
    int fired;
    uint64_t fired_at_us;
    uint64_t rearm_us;          /* re-arm this far ahead when fired (0: no) */
    struct item *cancel_other;  /* cancel this one when fired */
} item;

static uint64_t g_now_us;
static twheel *g_w;

static void on_fire(twheel_timer *t, void *ud)
{
    (void)ud;
    item *it = lws_container_of(t, item, t);
    it->fired++;
    it->fired_at_us = g_now_us;
    if (it->rearm_us)
        twheel_arm(g_w, &it->t, g_now_us + it->rearm_us);
    if (it->cancel_other)
        twheel_cancel(g_w, &it->cancel_other->t);
}

static int setup(void **state)
{
    static twheel w;
    char err[128];
    g_now_us = 0;
    assert_int_equal(twheel_init(&w, 64, 1000, 0, on_fire, NULL, err, sizeof(err)), 0);
    g_w = &w;
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    twheel_free(*state);
    return 0;
}

/* steps the clock to until_us in steps of step_us, advancing the wheel */
static void run_to(twheel *w, uint64_t until_us, uint64_t step_us)
{
    while (g_now_us < until_us) {
        g_now_us += step_us;
        if (g_now_us > until_us)
            g_now_us = until_us;
        twheel_advance(w, g_now_us);
    }
}

static void test_twheel_never_early_at_most_a_tick_late(void **state)
{
    twheel *w = *state;
    item a = {0}, b = {0}, c = {0};
    twheel_arm(w, &a.t, 2500);
    twheel_arm(w, &b.t, 3000);
    twheel_arm(w, &c.t, 10);
    run_to(w, 2999, 100);
    assert_int_equal(a.fired, 0);
    assert_int_equal(b.fired, 0);
    assert_int_equal(c.fired, 1);
    assert_true(c.fired_at_us >= 10 && c.fired_at_us <= 1010);
    run_to(w, 4100, 100);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired, 1);
    assert_true(a.fired_at_us >= 2500 && a.fired_at_us <= 3500);
    assert_true(b.fired_at_us >= 3000 && b.fired_at_us <= 4000);
    assert_int_equal(w->armed, 0);
}

static void test_twheel_beyond_one_turn_waits_its_turn(void **state)
{
    twheel *w = *state;
    item far = {0};
    /* 64 slots of 1 ms: 200 ms is three turns and more */
    twheel_arm(w, &far.t, 200000);
    run_to(w, 199000, 500);
    assert_int_equal(far.fired, 0);
    run_to(w, 201500, 500);
    assert_int_equal(far.fired, 1);
    assert_true(far.fired_at_us >= 200000 && far.fired_at_us <= 201000);
}

static void test_twheel_rearm_and_cancel_from_callback(void **state)
{
    twheel *w = *state;
    item periodic = {0}, victim = {0};
    periodic.rearm_us = 5000;
    twheel_arm(w, &periodic.t, 5000);
    run_to(w, 50500, 250);
    assert_int_equal(periodic.fired, 10);
    /* one fires, cancels another due in the same slot */
    item killer = {0};
    killer.cancel_other = &victim;
    twheel_arm(w, &killer.t, 60000);
    twheel_arm(w, &victim.t, 60000);
    twheel_cancel(w, &periodic.t);
    run_to(w, 70000, 250);
    assert_int_equal(killer.fired, 1);
    assert_int_equal(victim.fired, 0);
    assert_false(twheel_armed(&victim.t));
    assert_int_equal(periodic.fired, 10);
    assert_int_equal(w->armed, 0);
}

static void test_twheel_rearm_moves_and_past_due_fires_next_tick(void **state)
{
    twheel *w = *state;
    item a = {0};
    twheel_arm(w, &a.t, 3000);
    twheel_arm(w, &a.t, 9000); /* moved: only the new time counts */
    assert_int_equal(w->armed, 1);
    run_to(w, 8000, 100);
    assert_int_equal(a.fired, 0);
    run_to(w, 20000, 100);
    assert_int_equal(a.fired, 1);
    /* armed in the past: the next tick */
    twheel_arm(w, &a.t, 1);
    run_to(w, 21000, 1000);
    assert_int_equal(a.fired, 2);
}

static void test_twheel_long_stall_fires_everything_once(void **state)
{
    twheel *w = *state;
    item it[100];
    memset(it, 0, sizeof(it));
    for (int i = 0; i < 100; i++)
        twheel_arm(w, &it[i].t, (uint64_t)(i + 1) * 700);
    g_now_us = 1000000; /* one jump far past a whole turn */
    assert_int_equal(twheel_advance(w, g_now_us), 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(it[i].fired, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_twheel_never_early_at_most_a_tick_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twheel_beyond_one_turn_waits_its_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twheel_rearm_and_cancel_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twheel_rearm_moves_and_past_due_fires_next_tick, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_twheel_long_stall_fires_everything_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
