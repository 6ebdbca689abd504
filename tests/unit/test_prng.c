/* test_prng.c — unit tests for common/prng.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "prng.h"

static void test_prng_same_seed_same_sequence(void **state)
{
    (void)state;
    prng a, b, c;
    prng_seed(&a, 42);
    prng_seed(&b, 42);
    prng_seed(&c, 43);
    int differs = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = prng_next(&a);
        assert_int_equal(x, prng_next(&b));
        differs += x != prng_next(&c);
    }
    assert_true(differs > 990);
}

static void test_prng_derive_gives_distinct_streams(void **state)
{
    (void)state;
    assert_int_equal(prng_derive(1, 2), prng_derive(1, 2));
    assert_int_not_equal(prng_derive(1, 2), prng_derive(1, 3));
    assert_int_not_equal(prng_derive(1, 2), prng_derive(2, 2));
    assert_int_not_equal(prng_hash_str("latency_downstream"), prng_hash_str("latency_upstream"));
}

static void test_prng_below_is_in_range_and_uniform(void **state)
{
    (void)state;
    prng p;
    prng_seed(&p, 1);
    int counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t v = prng_below(&p, 10);
        assert_true(v < 10);
        counts[v]++;
    }
    /* Chi-square with 9 degrees of freedom; 27.9 is the 0.999 quantile. The
     * seed is fixed, so this cannot flake: it fails only if the code changes. */
    double chi = 0;
    for (int k = 0; k < 10; k++)
        chi += pow(counts[k] - 10000.0, 2) / 10000.0;
    assert_true(chi < 27.9);
}

static void test_prng_distributions_have_their_means(void **state)
{
    (void)state;
    prng p;
    prng_seed(&p, 5);
    enum { N = 200000 };
    double su = 0, sn = 0, sn2 = 0, se = 0, sp = 0;
    int chance = 0;
    for (int i = 0; i < N; i++) {
        double u = prng_uniform(&p);
        assert_true(u >= 0.0 && u < 1.0);
        su += u;
        double n = prng_normal(&p, 10.0, 2.0);
        sn += n;
        sn2 += n * n;
        se += prng_exp(&p, 3.0);
        double x = prng_pareto(&p, 1.0, 3.0);
        assert_true(x >= 1.0);
        sp += x;
        chance += prng_chance(&p, 0.25);
    }
    assert_true(fabs(su / N - 0.5) < 0.01);
    assert_true(fabs(sn / N - 10.0) < 0.05);
    assert_true(fabs(sqrt(sn2 / N - pow(sn / N, 2)) - 2.0) < 0.05);
    assert_true(fabs(se / N - 3.0) < 0.05);
    assert_true(fabs(sp / N - 1.5) < 0.05); /* mean of Pareto(1, 3) = 3/2 */
    assert_true(fabs((double)chance / N - 0.25) < 0.01);
    assert_false(prng_chance(&p, 0.0));
    assert_true(prng_chance(&p, 1.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prng_same_seed_same_sequence),
        cmocka_unit_test(test_prng_derive_gives_distinct_streams),
        cmocka_unit_test(test_prng_below_is_in_range_and_uniform),
        cmocka_unit_test(test_prng_distributions_have_their_means),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
