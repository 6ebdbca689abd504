/* test_sendq.c — send queue bounds and each backpressure policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sendq.h"

static int TAG_A, TAG_B;
static uint64_t dropped_seqs[64];
static int ndropped;

static void on_drop(void *tag, const msg *m, void *ctx)
{
    (void)tag;
    (void)ctx;
    if (ndropped < 64)
        dropped_seqs[ndropped++] = m->seq;
}

static msg *mk(uint64_t seq)
{
    char err[64];
    return msg_new(NULL, "c", seq, 1, 1, "0", 1, NULL, err, sizeof(err));
}

/* Pushes seq with tag and policy, dropping the caller's reference. */
static sendq_outcome push(sendq *q, uint64_t seq, void *tag, sendq_policy p)
{
    sendq_outcome out;
    msg *m = mk(seq);
    assert_int_equal(sendq_push(q, m, tag, p, &out), 0);
    msg_unref(m);
    return out;
}

/* The queues' shared part: limits, and the totals over the queues. */
static sendq_shared sh;

static void init_q(sendq *q, uint32_t max_msgs, size_t max_bytes)
{
    sendq_shared_free(&sh);
    assert_int_equal(sendq_shared_init(&sh, max_msgs, max_bytes, on_drop, NULL), 0);
    sendq_init(q, &sh);
}

static int setup(void **state)
{
    (void)state;
    ndropped = 0;
    return 0;
}

/* Every test frees its queue: nothing may be left in the totals. */
static int teardown(void **state)
{
    (void)state;
    assert_int_equal(sh.msgs, 0);
    assert_int_equal(sh.bytes, 0);
    assert_int_equal(sh.max_depth, 0);
    sendq_shared_free(&sh);
    return 0;
}

static void test_sendq_fifo_within_bounds(void **state)
{
    (void)state;
    sendq q;
    init_q(&q, 100, 1 << 20);
    for (uint64_t s = 1; s <= 50; s++)
        push(&q, s, &TAG_A, SENDQ_DROP);
    assert_int_equal(sendq_len(&q), 50);
    for (uint64_t s = 1; s <= 50; s++) {
        const sendq_item *it = sendq_peek(&q);
        assert_non_null(it);
        assert_int_equal(it->m->seq, s);
        sendq_pop(&q);
    }
    assert_null(sendq_peek(&q));
    assert_int_equal(sendq_bytes(&q), 0);
    assert_int_equal(ndropped, 0);
    sendq_free(&q);
}

static void test_sendq_drop_oldest(void **state)
{
    (void)state;
    sendq q;
    init_q(&q, 4, 1 << 20);
    for (uint64_t s = 1; s <= 4; s++)
        push(&q, s, &TAG_A, SENDQ_DROP);
    sendq_outcome o = push(&q, 5, &TAG_A, SENDQ_DROP);
    assert_int_equal(o.dropped, 1);
    assert_int_equal(ndropped, 1);
    assert_int_equal(dropped_seqs[0], 1);
    assert_int_equal(sendq_len(&q), 4);
    assert_int_equal(sendq_peek(&q)->m->seq, 2);
    sendq_free(&q);
}

static void test_sendq_byte_bound(void **state)
{
    (void)state;
    sendq q;
    msg *m = mk(1);
    size_t one = m->len;
    msg_unref(m);
    init_q(&q, 1000, one * 3);
    for (uint64_t s = 1; s <= 9; s++) /* same length each */
        push(&q, s, &TAG_A, SENDQ_DROP);
    assert_int_equal(sendq_len(&q), 3);
    assert_int_equal(sendq_bytes(&q), one * 3);
    assert_int_equal(sendq_peek(&q)->m->seq, 7);
    assert_int_equal(ndropped, 6);
    sendq_free(&q);
}

static void test_sendq_coalesce_keeps_newest_per_tag(void **state)
{
    (void)state;
    sendq q;
    init_q(&q, 4, 1 << 20);
    push(&q, 1, &TAG_A, SENDQ_COALESCE);
    push(&q, 2, &TAG_A, SENDQ_COALESCE);
    push(&q, 10, &TAG_B, SENDQ_COALESCE);
    push(&q, 3, &TAG_A, SENDQ_COALESCE);
    sendq_outcome o = push(&q, 4, &TAG_A, SENDQ_COALESCE);
    /* a1, a2 went; b10, a3, a4 stay in order */
    assert_int_equal(o.dropped, 2);
    assert_int_equal(sendq_len(&q), 3);
    assert_int_equal(sendq_peek(&q)->m->seq, 10);
    sendq_pop(&q);
    assert_int_equal(sendq_peek(&q)->m->seq, 3);
    sendq_pop(&q);
    assert_int_equal(sendq_peek(&q)->m->seq, 4);
    sendq_free(&q);
}

static void test_sendq_snapshot_replaces_queue(void **state)
{
    (void)state;
    sendq q;
    init_q(&q, 3, 1 << 20);
    push(&q, 1, &TAG_A, SENDQ_SNAPSHOT);
    push(&q, 5, &TAG_B, SENDQ_SNAPSHOT);
    push(&q, 2, &TAG_A, SENDQ_SNAPSHOT);
    sendq_outcome o = push(&q, 3, &TAG_A, SENDQ_SNAPSHOT);
    assert_int_equal(o.snapshots, 2);
    assert_int_equal(sendq_len(&q), 2);
    assert_int_equal(sendq_bytes(&q), 0);
    const sendq_item *it = sendq_peek(&q);
    assert_null(it->m);
    assert_ptr_equal(it->tag, &TAG_A);
    sendq_pop(&q);
    it = sendq_peek(&q);
    assert_null(it->m);
    assert_ptr_equal(it->tag, &TAG_B);
    /* later events queue behind the markers */
    push(&q, 4, &TAG_A, SENDQ_SNAPSHOT);
    assert_int_equal(sendq_len(&q), 2);
    sendq_free(&q);
}

static void test_sendq_disconnect_policy(void **state)
{
    (void)state;
    sendq q;
    init_q(&q, 2, 1 << 20);
    assert_int_equal(push(&q, 1, &TAG_A, SENDQ_DISCONNECT).disconnect, 0);
    assert_int_equal(push(&q, 2, &TAG_A, SENDQ_DISCONNECT).disconnect, 0);
    assert_int_equal(push(&q, 3, &TAG_A, SENDQ_DISCONNECT).disconnect, 1);
    assert_int_equal(sendq_len(&q), 2);
    sendq_free(&q);
}

static void test_sendq_remove_tag(void **state)
{
    (void)state;
    sendq q;
    init_q(&q, 10, 1 << 20);
    push(&q, 1, &TAG_A, SENDQ_DROP);
    push(&q, 1, &TAG_B, SENDQ_DROP);
    push(&q, 2, &TAG_A, SENDQ_DROP);
    sendq_remove_tag(&q, &TAG_A);
    assert_int_equal(sendq_len(&q), 1);
    assert_ptr_equal(sendq_peek(&q)->tag, &TAG_B);
    assert_int_equal(ndropped, 0);
    sendq_free(&q);
}

static void test_sendq_policy_names(void **state)
{
    (void)state;
    sendq_policy p;
    for (int i = 0; i < SENDQ_POLICY_COUNT; i++) {
        assert_int_equal(sendq_policy_parse(sendq_policy_name((sendq_policy)i), &p), 0);
        assert_int_equal(p, i);
    }
    assert_int_equal(sendq_policy_parse("nope", &p), -1);
}

/* The shared totals (what /metrics reports without walking connections)
 * equal a walk over the queues after every kind of change: pushes under
 * each policy (drops, coalescing, snapshot markers), pops, unsubscribes,
 * snapshot markers and frees, on several queues at once. */
static void test_sendq_shared_totals_match_a_walk(void **state)
{
    (void)state;
    enum { NQ = 4 };
    sendq qs[NQ];
    msg *m = mk(1);
    size_t one = m->len;
    msg_unref(m);
    /* 6 messages, or the bytes of 5 short ones (longer seqs fill it sooner) */
    sendq_shared_free(&sh);
    assert_int_equal(sendq_shared_init(&sh, 6, one * 5, on_drop, NULL), 0);
    for (int i = 0; i < NQ; i++)
        sendq_init(&qs[i], &sh);
    uint32_t x = 12345, deepest_seen = 0;
    for (int step = 0; step < 5000; step++) {
        x = x * 1103515245u + 12345u;
        sendq *q = &qs[(x >> 8) % NQ];
        void *tag = ((x >> 12) & 1) ? &TAG_A : &TAG_B;
        switch ((x >> 16) % 8) {
        case 0: case 1: case 2: {
            static const sendq_policy pol[] = {SENDQ_DROP, SENDQ_DROP, SENDQ_COALESCE, SENDQ_SNAPSHOT};
            push(q, (uint64_t)step + 1, tag, pol[(x >> 20) % 4]);
            break;
        }
        case 3: case 4:
            sendq_pop(q);
            break;
        case 5:
            sendq_remove_tag(q, tag);
            break;
        case 6:
            assert_int_equal(sendq_push_snapshot(q, tag), 0);
            break;
        case 7:
            if (((x >> 20) & 7) == 0)
                sendq_free(q);
            break;
        }
        uint64_t msgs = 0, bytes = 0;
        uint32_t deepest = 0;
        for (int i = 0; i < NQ; i++) {
            msgs += sendq_len(&qs[i]);
            bytes += sendq_bytes(&qs[i]);
            if (sendq_len(&qs[i]) > deepest)
                deepest = sendq_len(&qs[i]);
        }
        assert_int_equal(sh.msgs, msgs);
        assert_int_equal(sh.bytes, bytes);
        assert_int_equal(sh.max_depth, deepest);
        if (deepest > deepest_seen)
            deepest_seen = deepest;
    }
    assert_true(deepest_seen >= 5); /* the bounds were reached */
    for (int i = 0; i < NQ; i++)
        sendq_free(&qs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sendq_fifo_within_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_drop_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_byte_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_coalesce_keeps_newest_per_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_snapshot_replaces_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_disconnect_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_remove_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_policy_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sendq_shared_totals_match_a_walk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
