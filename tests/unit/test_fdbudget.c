/* test_fdbudget.c — the descriptor budget's bookkeeping (reference-server/fdbudget.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fdbudget.h"

static void test_fdbudget_admit_refuse_drop_zones(void **state)
{
    (void)state;
    fdbudget b;
    fdbudget_init(&b, 100, 20, 10); /* budget: 80 in use; edge: 92 */
    int admitted = 0;
    while (fdbudget_check(&b) == FDB_ADMIT) {
        fdbudget_accepted(&b);
        admitted++;
    }
    assert_int_equal(admitted, 70);
    assert_int_equal(fdbudget_in_use(&b), 80);
    int refused = 0;
    while (fdbudget_check(&b) == FDB_REFUSE) {
        fdbudget_accepted(&b); /* held until answered */
        refused++;
    }
    assert_int_equal(refused, 100 - FDBUDGET_HARD_MARGIN - 80);
    assert_int_equal(fdbudget_check(&b), FDB_DROP);
    fdbudget_closed(&b);
    assert_int_equal(fdbudget_check(&b), FDB_REFUSE);
    for (int i = 0; i < 30; i++)
        fdbudget_closed(&b);
    assert_int_equal(fdbudget_check(&b), FDB_ADMIT);
}

static void test_fdbudget_default_reserve_bounds(void **state)
{
    (void)state;
    fdbudget b;
    fdbudget_init(&b, 20000, 0, 10);
    assert_int_equal(b.reserve, 200);
    fdbudget_init(&b, 1024, 0, 10);
    assert_int_equal(b.reserve, 32);
    fdbudget_init(&b, 64, 1000, 10); /* at most a quarter */
    assert_int_equal(b.reserve, 16);
    fdbudget_init(&b, 16, 0, 4); /* at least the hard margin */
    assert_int_equal(b.reserve, FDBUDGET_HARD_MARGIN);
}

static void test_fdbudget_logs_once_a_second(void **state)
{
    (void)state;
    fdbudget b;
    uint64_t n = 0;
    fdbudget_init(&b, 100, 20, 10);
    assert_int_equal(fdbudget_note_refusal(&b, FDB_REFUSE, 5000000, &n), 1);
    assert_int_equal(n, 1);
    for (int i = 0; i < 50; i++)
        assert_int_equal(fdbudget_note_refusal(&b, i % 2 ? FDB_DROP : FDB_REFUSE, 5000000 + 10000u * i, &n), 0);
    assert_int_equal(fdbudget_note_refusal(&b, FDB_DROP, 6000001, &n), 1);
    assert_int_equal(n, 51);
    assert_int_equal(b.refused, 26);
    assert_int_equal(b.dropped, 26);
    assert_int_equal(fdbudget_note_refusal(&b, FDB_ADMIT, 9000000, &n), 0);
}

static void test_fdbudget_counts_this_process(void **state)
{
    (void)state;
    long n = fdbudget_count_open();
    assert_true(n >= 3); /* stdin, stdout, stderr at least */
    uint64_t lim = 0;
    char err[128];
    (void)fdbudget_raise_nofile(&lim, err, sizeof(err));
    assert_true(lim >= (uint64_t)n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fdbudget_admit_refuse_drop_zones),
        cmocka_unit_test(test_fdbudget_default_reserve_bounds),
        cmocka_unit_test(test_fdbudget_logs_once_a_second),
        cmocka_unit_test(test_fdbudget_counts_this_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
