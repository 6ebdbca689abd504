/* test_dheap.c — the proxy's deadline heap: nodes come out in due order
 * whatever order they were set, re-set and removed in; only due ones pop;
 * the timerfd is armed for the earliest and fires for it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "dheap.h"
#include "prng.h"

#define N 500

static int setup(void **state)
{
    dheap *h = calloc(1, sizeof *h);
    char err[128];
    if (!h || dheap_init(h, err, sizeof err) != 0)
        return -1;
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    dheap_free(*state);
    free(*state);
    return 0;
}

static void test_dheap_pops_in_due_order(void **state)
{
    dheap *h = *state;
    static dheap_node nodes[N];
    prng r;
    prng_seed(&r, 7);
    assert_int_equal(dheap_reserve(h, N), 0);
    for (size_t i = 0; i < N; i++)
        dheap_set(h, &nodes[i], 1 + prng_next(&r) % 100000);
    /* move some later, some earlier, take some out */
    for (size_t i = 0; i < N; i += 3)
        dheap_set(h, &nodes[i], 1 + prng_next(&r) % 100000);
    size_t removed = 0;
    for (size_t i = 1; i < N; i += 7) {
        dheap_remove(h, &nodes[i]);
        assert_int_equal(nodes[i].at, 0);
        assert_int_equal(nodes[i].due_us, 0);
        removed++;
    }
    dheap_remove(h, &nodes[1]); /* not in the heap: a no-op */
    assert_int_equal(h->n, N - removed);
    /* nothing is due before the earliest */
    uint64_t last = 0;
    size_t popped = 0;
    dheap_node *x;
    assert_null(dheap_pop_due(h, 0));
    while ((x = dheap_pop_due(h, UINT64_MAX - 1)) != NULL) {
        assert_true(x->due_us == 0 && x->at == 0); /* out of the heap */
        popped++;
    }
    assert_int_equal(popped, N - removed);
    /* the order: set again and pop by time */
    for (size_t i = 0; i < N; i++)
        dheap_set(h, &nodes[i], 1 + prng_next(&r) % 100000);
    for (uint64_t now = 0; now <= 100000; now += 1000) {
        dheap_node *y;
        while (h->n && h->v[0]->due_us <= now) {
            uint64_t due = h->v[0]->due_us;
            y = dheap_pop_due(h, now);
            assert_non_null(y);
            assert_true(due >= last);
            last = due;
        }
        assert_null(dheap_pop_due(h, now));
    }
    assert_int_equal(h->n, 0);
}

static void test_dheap_timerfd_fires_for_the_earliest(void **state)
{
    dheap *h = *state;
    dheap_node a = {0}, b = {0};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    assert_int_equal(dheap_reserve(h, 2), 0);
    dheap_set(h, &a, now_us + 3600u * 1000000u); /* an hour away */
    dheap_arm(h);
    assert_int_equal(h->armed_us, a.due_us);
    struct pollfd p = {.fd = h->tfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0); /* not yet */
    dheap_set(h, &b, now_us + 1000);     /* 1 ms away: re-armed for it */
    dheap_arm(h);
    assert_int_equal(h->armed_us, b.due_us);
    assert_int_equal(poll(&p, 1, 10000), 1);
    dheap_ack(h);
    assert_int_equal(h->armed_us, 0);
    assert_ptr_equal(dheap_pop_due(h, b.due_us), &b);
    dheap_remove(h, &a);
    dheap_arm(h); /* empty: stays disarmed */
    assert_int_equal(h->armed_us, 0);
    assert_int_equal(poll(&p, 1, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dheap_pops_in_due_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dheap_timerfd_fires_for_the_earliest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
