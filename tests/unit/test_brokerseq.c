/* test_brokerseq.c — the delivery order of a Redis-fed node
 * (reference-server/brokerseq.c): in order, no duplicate, never past a
 * hole, fills asked once and retried after a lost reply, rebase. The last
 * test plays a lossy, reordering pub/sub against a stream holding every
 * event and checks the delivered sequence is exactly 1..N. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "brokerseq.h"
#include "prng.h"

static void in_order(void **state)
{
    (void)state;
    brokerseq b;
    brokerseq_init(&b, 0);
    for (uint64_t s = 1; s <= 5; s++)
        assert_int_equal(brokerseq_offer(&b, s), BROKERSEQ_DELIVER);
    assert_int_equal(b.head, 5);
    assert_int_equal(brokerseq_fill_due(&b, 0), 0);
}

static void duplicate_dropped(void **state)
{
    (void)state;
    brokerseq b;
    brokerseq_init(&b, 3);
    assert_int_equal(brokerseq_offer(&b, 3), BROKERSEQ_DUP);
    assert_int_equal(brokerseq_offer(&b, 1), BROKERSEQ_DUP);
    assert_int_equal(brokerseq_offer(&b, 4), BROKERSEQ_DELIVER);
    assert_int_equal(brokerseq_offer(&b, 4), BROKERSEQ_DUP);
    assert_int_equal(b.head, 4);
}

static void hole_never_passed(void **state)
{
    (void)state;
    brokerseq b;
    brokerseq_init(&b, 0);
    assert_int_equal(brokerseq_offer(&b, 1), BROKERSEQ_DELIVER);
    assert_int_equal(brokerseq_offer(&b, 3), BROKERSEQ_HOLE);
    assert_int_equal(brokerseq_offer(&b, 4), BROKERSEQ_HOLE);
    assert_int_equal(b.head, 1);
    assert_int_equal(brokerseq_fill_due(&b, 100), 1);
    /* one fill in flight: not asked again */
    assert_int_equal(brokerseq_fill_due(&b, 200), 0);
    /* the fill brings 2, 3, 4 */
    for (uint64_t s = 2; s <= 4; s++)
        assert_int_equal(brokerseq_offer(&b, s), BROKERSEQ_DELIVER);
    brokerseq_fill_done(&b);
    assert_int_equal(brokerseq_fill_due(&b, 300), 0);
}

static void fill_retried_after_timeout(void **state)
{
    (void)state;
    brokerseq b;
    brokerseq_init(&b, 0);
    assert_int_equal(brokerseq_offer(&b, 2), BROKERSEQ_HOLE);
    assert_int_equal(brokerseq_fill_due(&b, 1000), 1);
    assert_int_equal(brokerseq_fill_due(&b, 1000 + BROKERSEQ_FILL_RETRY_US - 1), 0);
    assert_int_equal(brokerseq_fill_due(&b, 1000 + BROKERSEQ_FILL_RETRY_US), 1);
    /* a dropped link: at once */
    brokerseq_link_lost(&b);
    assert_int_equal(brokerseq_fill_due(&b, 1000 + BROKERSEQ_FILL_RETRY_US + 1), 1);
}

static void fill_short_then_refill(void **state)
{
    (void)state;
    brokerseq b;
    brokerseq_init(&b, 0);
    assert_int_equal(brokerseq_offer(&b, 3), BROKERSEQ_HOLE);
    assert_int_equal(brokerseq_fill_due(&b, 0), 1);
    /* while the fill is out, 5 arrives by pub/sub (also a hole) */
    assert_int_equal(brokerseq_offer(&b, 5), BROKERSEQ_HOLE);
    /* the fill (read before 4, 5 existed) brings 1..3 */
    for (uint64_t s = 1; s <= 3; s++)
        assert_int_equal(brokerseq_offer(&b, s), BROKERSEQ_DELIVER);
    brokerseq_fill_done(&b);
    /* 5 was heard of: another fill is due */
    assert_int_equal(brokerseq_fill_due(&b, 1), 1);
}

static void saw_counter_after_reconnect(void **state)
{
    (void)state;
    brokerseq b;
    brokerseq_init(&b, 10);
    assert_int_equal(brokerseq_fill_due(&b, 0), 0);
    brokerseq_saw(&b, 12);
    assert_int_equal(brokerseq_fill_due(&b, 0), 1);
}

static void rebase_restarts(void **state)
{
    (void)state;
    brokerseq b;
    brokerseq_init(&b, 50);
    brokerseq_rebase(&b, 0);
    assert_int_equal(brokerseq_offer(&b, 1), BROKERSEQ_DELIVER);
    assert_int_equal(b.head, 1);
}

/* A lossy, reordering pub/sub and a complete stream: whatever reaches the
 * node, what it delivers is 1..N once each, in order. */
static void lossy_pubsub_simulation(void **state)
{
    (void)state;
    enum { N = 2000 };
    prng r;
    prng_seed(&r, 42);
    brokerseq b;
    brokerseq_init(&b, 0);
    uint64_t delivered[N + 1], ndel = 0, now_us = 0;
    uint64_t published = 0;
    int steps = 0;
    while ((ndel < N) && steps++ < 100000) {
        now_us += 1000;
        if (published < N)
            published++; /* in the stream now */
        /* pub/sub: lost 20% of the time, sometimes an older seq comes again */
        uint64_t s = published;
        if (prng_next(&r) % 10 < 2)
            s = 0;
        else if (prng_next(&r) % 10 == 0 && published > 3)
            s = published - 3;
        if (s && brokerseq_offer(&b, s) == BROKERSEQ_DELIVER)
            delivered[ndel++] = s;
        if (published == N)
            brokerseq_saw(&b, N); /* the counter read after a reconnect */
        /* a fill: half of the replies are lost with the link */
        if (brokerseq_fill_due(&b, now_us)) {
            if (prng_next(&r) % 2 == 0) {
                uint64_t from = b.head + 1;
                for (uint64_t x = from; x <= published; x++)
                    if (brokerseq_offer(&b, x) == BROKERSEQ_DELIVER)
                        delivered[ndel++] = x;
                brokerseq_fill_done(&b);
            } else if (prng_next(&r) % 2) {
                brokerseq_link_lost(&b);
            }
        }
    }
    assert_int_equal(ndel, N);
    for (uint64_t i = 0; i < N; i++)
        assert_int_equal(delivered[i], i + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order),
        cmocka_unit_test(duplicate_dropped),
        cmocka_unit_test(hole_never_passed),
        cmocka_unit_test(fill_retried_after_timeout),
        cmocka_unit_test(fill_short_then_refill),
        cmocka_unit_test(saw_counter_after_reconnect),
        cmocka_unit_test(rebase_restarts),
        cmocka_unit_test(lossy_pubsub_simulation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
