/* test_history.c — history ring bounds (count and age, clock injected),
 * resync decisions, snapshot value, epochs and idempotency keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "history.h"

static history H;

static int setup(void **state)
{
    (void)state;
    char err[128];
    history_cfg cfg = {.max_events = 4, .max_age_us = 1000000};
    return history_init(&H, "orders.42", "e1", &cfg, err, sizeof(err));
}

static int teardown(void **state)
{
    (void)state;
    history_free(&H);
    return 0;
}

static uint64_t pub(const char *data, const char *idem, uint64_t now_us, int *dup)
{
    char err[128];
    msg *m = NULL;
    int d = 0;
    assert_int_equal(history_publish(&H, data, strlen(data), 77, idem, now_us, &m, &d, err,
                                     sizeof(err)), 0);
    if (dup)
        *dup = d;
    return m->seq;
}

static void test_history_seqs_start_at_one_and_envelope_is_formatted(void **state)
{
    (void)state;
    assert_int_equal(pub("{\"a\":1}", NULL, 10, NULL), 1);
    assert_int_equal(pub("[2]", NULL, 11, NULL), 2);
    msg *m = history_get(&H, 2);
    assert_non_null(m);
    assert_string_equal(msg_env(m), "{\"ch\":\"orders.42\",\"seq\":2,\"ts\":77,\"type\":\"event\",\"data\":[2]}");
    assert_int_equal(m->data_len, 3);
    assert_memory_equal(msg_data(m), "[2]", 3);
}

static void test_history_count_bound_evicts_oldest(void **state)
{
    (void)state;
    for (int i = 0; i < 6; i++)
        pub("1", NULL, 100 + (uint64_t)i, NULL);
    assert_int_equal(H.head, 6);
    assert_int_equal(H.count, 4);
    assert_int_equal(history_oldest(&H), 3);
    assert_null(history_get(&H, 2));
    assert_non_null(history_get(&H, 3));
    assert_null(history_get(&H, 7));
}

static void test_history_age_bound_with_injected_clock(void **state)
{
    (void)state;
    pub("1", NULL, 1000, NULL);          /* seq 1 at t=1 ms */
    pub("2", NULL, 600000, NULL);        /* seq 2 at t=0.6 s */
    history_evict_aged(&H, 1000999);     /* seq 1 is 0.999999 s old: stays */
    assert_int_equal(H.count, 2);
    history_evict_aged(&H, 1001001);     /* now older than 1 s: goes */
    assert_int_equal(H.count, 1);
    assert_int_equal(history_oldest(&H), 2);
    history_evict_aged(&H, 1600001);
    assert_int_equal(H.count, 0);
    assert_int_equal(history_oldest(&H), 3);
    /* The snapshot value outlives the ring. */
    assert_non_null(H.last);
    assert_int_equal(H.last->seq, 2);
}

static void test_history_resync_decisions(void **state)
{
    (void)state;
    for (int i = 0; i < 6; i++) /* ring holds 3..6 */
        pub("1", NULL, 100, NULL);
    assert_int_equal(history_resync_decide(&H, 0, 0, NULL, 200), HISTORY_UP_TO_DATE);
    assert_int_equal(history_resync_decide(&H, 1, 6, NULL, 200), HISTORY_UP_TO_DATE);
    assert_int_equal(history_resync_decide(&H, 1, 6, "e1", 200), HISTORY_UP_TO_DATE);
    assert_int_equal(history_resync_decide(&H, 1, 2, NULL, 200), HISTORY_REPLAY);
    assert_int_equal(history_resync_decide(&H, 1, 5, "e1", 200), HISTORY_REPLAY);
    assert_int_equal(history_resync_decide(&H, 1, 1, NULL, 200), HISTORY_SNAPSHOT);
    assert_int_equal(history_resync_decide(&H, 1, 0, NULL, 200), HISTORY_SNAPSHOT);
    /* ahead of head, or another epoch: never a replay of the wrong stream */
    assert_int_equal(history_resync_decide(&H, 1, 9, NULL, 200), HISTORY_SNAPSHOT);
    assert_int_equal(history_resync_decide(&H, 1, 5, "e0", 200), HISTORY_SNAPSHOT);
    assert_int_equal(history_resync_decide(&H, 1, 6, "e0", 200), HISTORY_SNAPSHOT);
    /* once everything aged out, even since = head-1 needs a snapshot */
    assert_int_equal(history_resync_decide(&H, 1, 5, NULL, 2000000), HISTORY_SNAPSHOT);
    assert_int_equal(history_resync_decide(&H, 1, 6, NULL, 2000000), HISTORY_UP_TO_DATE);
}

static void test_history_idempotency_within_window(void **state)
{
    (void)state;
    int dup;
    assert_int_equal(pub("1", "k1", 10, &dup), 1);
    assert_int_equal(dup, 0);
    assert_int_equal(pub("2", "k2", 11, &dup), 2);
    assert_int_equal(pub("1", "k1", 12, &dup), 1);
    assert_int_equal(dup, 1);
    assert_int_equal(H.head, 2);
    /* once k1 has left the window it is a new publish */
    for (int i = 0; i < 4; i++)
        pub("x", NULL, 13, NULL);
    assert_int_equal(pub("1", "k1", 14, &dup), 7);
    assert_int_equal(dup, 0);
}

static void test_history_reset_changes_epoch_keeps_seq(void **state)
{
    (void)state;
    pub("1", NULL, 10, NULL);
    pub("2", NULL, 10, NULL);
    history_reset(&H, "e2");
    assert_string_equal(H.epoch, "e2");
    assert_null(H.last);
    assert_int_equal(H.count, 0);
    assert_int_equal(history_resync_decide(&H, 1, 1, "e1", 20), HISTORY_SNAPSHOT);
    assert_int_equal(pub("3", NULL, 30, NULL), 3);
}

static void test_history_rejects_bad_channel(void **state)
{
    (void)state;
    history h2;
    char err[128];
    history_cfg cfg = {.max_events = 4};
    assert_int_equal(history_init(&h2, "a..b", "e", &cfg, err, sizeof(err)), -1);
    assert_int_equal(history_init(&h2, "", "e", &cfg, err, sizeof(err)), -1);
}

/* The ring starts at HISTORY_FIRST_CAP slots and doubles up to max_events
 * (a quiet channel does not hold max_events pointers): every event stays
 * reachable by seq across the growths, also when the oldest slot is not slot
 * 0 (age eviction moved it) at the moment the ring grows, and the count
 * bound is max_events, not the first size. */
static void test_history_ring_grows_to_the_bound(void **state)
{
    (void)state;
    char err[128];
    history h;
    history_cfg cfg = {.max_events = 100, .max_age_us = 1000};
    assert_int_equal(history_init(&h, "grow", "e1", &cfg, err, sizeof(err)), 0);
    assert_int_equal(h.cap, HISTORY_FIRST_CAP);
    uint64_t now = 10000;
    for (int i = 0; i < 10; i++) { /* aged out below: start moves off slot 0 */
        msg *m;
        int dup;
        assert_int_equal(history_publish(&h, "1", 1, 1, NULL, now, &m, &dup, err, sizeof(err)), 0);
    }
    now += 5000;
    history_evict_aged(&h, now);
    assert_int_equal(h.count, 0);
    for (int i = 0; i < 250; i++) {
        msg *m;
        int dup;
        char d[16];
        snprintf(d, sizeof(d), "%d", i);
        assert_int_equal(history_publish(&h, d, strlen(d), 1, NULL, now, &m, &dup, err, sizeof(err)), 0);
        uint32_t held = i + 1 < 100 ? (uint32_t)i + 1 : 100;
        assert_int_equal(h.count, held);
        assert_true(h.cap >= h.count && h.cap <= 100);
        for (uint64_t seq = h.head - held + 1; seq <= h.head; seq++) {
            msg *g = history_get(&h, seq);
            assert_non_null(g);
            assert_int_equal(g->seq, seq);
        }
    }
    assert_int_equal(h.cap, 100);
    assert_int_equal(history_oldest(&h), h.head - 99);
    assert_null(history_get(&h, h.head - 100));
    history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_seqs_start_at_one_and_envelope_is_formatted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_count_bound_evicts_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_age_bound_with_injected_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_resync_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_idempotency_within_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_reset_changes_epoch_keeps_seq, setup, teardown),
        cmocka_unit_test(test_history_rejects_bad_channel),
        cmocka_unit_test(test_history_ring_grows_to_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
