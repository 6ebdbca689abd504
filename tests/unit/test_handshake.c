/* test_handshake.c — the handshake deadline's bookkeeping (reference-server/handshake.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "handshake.h"

typedef struct cuts {
    void *conn[16];
    size_t n;
} cuts;

static void on_cut(void *conn, void *ud)
{
    cuts *c = ud;
    if (c->n < 16)
        c->conn[c->n++] = conn;
}

static void test_handshake_cuts_only_late_ones_oldest_first(void **state)
{
    (void)state;
    handshake_table *t = handshake_new(8, 1000000);
    int a, b, c;
    void *ta = handshake_begin(t, &a, 0);
    void *tb = handshake_begin(t, &b, 400000);
    void *tc = handshake_begin(t, &c, 900000);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_non_null(tc);
    cuts got = {0};
    assert_int_equal(handshake_expire(t, 999999, on_cut, &got), 0);
    assert_int_equal(handshake_expire(t, 1400000, on_cut, &got), 2);
    assert_ptr_equal(got.conn[0], &a);
    assert_ptr_equal(got.conn[1], &b);
    assert_int_equal(handshake_oldest_us(t, 1500000), 600000);
    handshake_stats st;
    handshake_get_stats(t, &st);
    assert_int_equal(st.timeouts, 2);
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.started, 3);
    handshake_free(t);
}

static void test_handshake_completed_is_never_cut(void **state)
{
    (void)state;
    handshake_table *t = handshake_new(4, 1000);
    int a, b;
    void *ta = handshake_begin(t, &a, 0);
    handshake_begin(t, &b, 10);
    handshake_end(t, ta, &a, 1);
    cuts got = {0};
    assert_int_equal(handshake_expire(t, 5000, on_cut, &got), 1);
    assert_ptr_equal(got.conn[0], &b);
    handshake_stats st;
    handshake_get_stats(t, &st);
    assert_int_equal(st.completed, 1);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.pending, 0);
    assert_int_equal(handshake_oldest_us(t, 9000), 0);
    handshake_free(t);
}

static void test_handshake_foreign_and_stale_tokens_are_ignored(void **state)
{
    (void)state;
    handshake_table *t = handshake_new(1, 1000);
    static char mark; /* e.g. another user's marker in the same slot */
    int a, b;
    assert_false(handshake_owns(t, &mark));
    assert_false(handshake_owns(t, NULL));
    handshake_end(t, &mark, &a, 1); /* ignored, no crash */
    void *ta = handshake_begin(t, &a, 0);
    assert_true(handshake_owns(t, ta));
    cuts got = {0};
    assert_int_equal(handshake_expire(t, 1000, on_cut, &got), 1);
    assert_false(handshake_owns(t, ta)); /* cut: the token is dead */
    void *tb = handshake_begin(t, &b, 2000); /* the entry is reused for b */
    assert_ptr_equal(ta, tb);
    handshake_end(t, ta, &a, 0); /* a's stale token now stands for b: ignored */
    handshake_stats st;
    handshake_get_stats(t, &st);
    assert_int_equal(st.pending, 1);
    handshake_end(t, tb, &b, 0); /* b left before its head: not completed */
    handshake_get_stats(t, &st);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.completed, 0);
    handshake_free(t);
}

static void test_handshake_full_table_counts_untracked(void **state)
{
    (void)state;
    handshake_table *t = handshake_new(2, 1000);
    int a, b, c;
    assert_non_null(handshake_begin(t, &a, 0));
    assert_non_null(handshake_begin(t, &b, 0));
    assert_null(handshake_begin(t, &c, 0));
    handshake_stats st;
    handshake_get_stats(t, &st);
    assert_int_equal(st.untracked, 1);
    assert_int_equal(st.pending, 2);
    handshake_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_cuts_only_late_ones_oldest_first),
        cmocka_unit_test(test_handshake_completed_is_never_cut),
        cmocka_unit_test(test_handshake_foreign_and_stale_tokens_are_ignored),
        cmocka_unit_test(test_handshake_full_table_counts_untracked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
