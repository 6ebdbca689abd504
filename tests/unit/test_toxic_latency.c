/* test_toxic_latency.c — latency: due times, order, jitter bounds, seeds,
 * distributions and correlation, with the clock driven by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "delay.h"
#include "proxy_testenv.h"
#include "ws_testdata.h"

static void test_toxic_latency_holds_until_due(void **state)
{
    (void)state;
    testenv *t = te_new("latency", "{\"latency\":100}", 1);
    assert_non_null(t);
    te_data(t, 1000, "abc", 3);
    assert_int_equal(te_tick(t, 1000), 101000);
    assert_int_equal(t->out_len, 0);
    te_tick(t, 100999);
    assert_int_equal(t->out_len, 0);
    assert_int_equal(te_tick(t, 101000), 0);
    assert_int_equal(t->out_len, 3);
    assert_memory_equal(t->out, "abc", 3);
    te_free(t);
}

static void test_toxic_latency_keeps_order_with_jitter(void **state)
{
    (void)state;
    testenv *t = te_new("latency", "{\"latency\":50,\"jitter\":40}", 7);
    unsigned char b;
    for (int i = 0; i < 200; i++) {
        b = (unsigned char)i;
        te_data(t, (uint64_t)i * 1000, &b, 1);
    }
    te_eof(t, 200000);
    for (uint64_t now = 0; now < 1000000; now += 500)
        te_tick(t, now);
    assert_int_equal(t->out_len, 200);
    for (int i = 0; i < 200; i++)
        assert_int_equal(t->out[i], i);
    assert_int_equal(t->eof, 1);
    te_free(t);
}

static void test_toxic_latency_flush_passes_everything(void **state)
{
    (void)state;
    testenv *t = te_new("latency", "{\"latency\":1000}", 1);
    te_data(t, 0, "xy", 2);
    te_eof(t, 0);
    te_flush(t, 1);
    assert_int_equal(t->out_len, 2);
    assert_int_equal(t->eof, 1);
    te_free(t);
}

static void test_toxic_latency_rejects_bad_attributes(void **state)
{
    (void)state;
    assert_int_equal(te_parse("latency", "{\"latency\":-1}"), -1);
    assert_int_equal(te_parse("latency", "{\"latency\":\"10\"}"), -1);
    assert_int_equal(te_parse("latency", "{\"lat\":10}"), -1);
    assert_int_equal(te_parse("latency", "{\"distribution\":\"cauchy\"}"), -1);
    assert_int_equal(te_parse("latency", "{\"correlation\":101}"), -1);
    assert_int_equal(te_parse("latency", "{\"latency\":10,\"jitter\":5,\"distribution\":\"pareto\",\"correlation\":25}"), 0);
}

static void sample(delay_dist dist, double corr, uint64_t seed, int64_t *out, int n)
{
    delay_spec s = {.latency_ms = 50, .jitter_ms = 10, .dist = dist, .correlation = corr};
    delay_state st = {0};
    prng r;
    prng_seed(&r, seed);
    for (int i = 0; i < n; i++)
        out[i] = delay_sample_us(&s, &st, &r);
}

static void test_toxic_latency_distributions(void **state)
{
    (void)state;
    enum { N = 20000 };
    static int64_t a[N], b[N];
    /* uniform: within latency ± jitter, mean at latency */
    sample(DELAY_UNIFORM, 0, 3, a, N);
    double mean = 0;
    for (int i = 0; i < N; i++) {
        assert_true(a[i] >= 40000 && a[i] <= 60000);
        mean += (double)a[i] / N;
    }
    assert_true(mean > 49500 && mean < 50500);
    /* same seed, same draws */
    sample(DELAY_UNIFORM, 0, 3, b, N);
    assert_memory_equal(a, b, sizeof a);
    /* normal: about 68% within one stddev */
    sample(DELAY_NORMAL, 0, 4, a, N);
    int within = 0;
    for (int i = 0; i < N; i++)
        within += a[i] >= 40000 && a[i] <= 60000;
    assert_true(within > N * 0.64 && within < N * 0.72);
    /* pareto: never below latency + xm, mean excess about jitter, heavy tail */
    sample(DELAY_PARETO, 0, 5, a, N);
    mean = 0;
    int64_t mx = 0;
    for (int i = 0; i < N; i++) {
        assert_true(a[i] >= 50000 + 6000 - 1);
        mean += (double)(a[i] - 50000) / N;
        if (a[i] > mx)
            mx = a[i];
    }
    assert_true(mean > 9000 && mean < 11000);
    assert_true(mx > 50000 + 40000);
}

static void test_toxic_latency_correlation_smooths(void **state)
{
    (void)state;
    enum { N = 20000 };
    static int64_t a[N];
    double d0 = 0, d1 = 0;
    sample(DELAY_UNIFORM, 0, 9, a, N);
    for (int i = 1; i < N; i++)
        d0 += llabs(a[i] - a[i - 1]);
    sample(DELAY_UNIFORM, 90, 9, a, N);
    for (int i = 1; i < N; i++)
        d1 += llabs(a[i] - a[i - 1]);
    assert_true(d1 < d0 * 0.6);
}

/* A byte-stream toxic scheduled after N messages (the common after_messages,
 * cut and gated by the test link as proxy.c does): the bytes up to the end of
 * the second WebSocket message pass at once, the rest is delayed; the same at
 * every split of the input. */
static void test_toxic_latency_after_messages(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t h = strlen(WST_101);
    memcpy(in, WST_101, h);
    size_t n = h + wst_stream(in + h, 0);
    size_t first = h + 7 + 138; /* head, "hello", the 130-byte binary */
    for (size_t cut = 0; cut <= n; cut++) {
        testenv *t = te_new("latency", "{\"latency\":100,\"after_messages\":2}", 1);
        assert_non_null(t);
        te_data(t, 1000, in, cut);
        te_data(t, 2000, in + cut, n - cut);
        assert_int_equal(t->out_len, first);
        assert_memory_equal(t->out, in, first);
        te_tick(t, 2000 + 100000);
        assert_int_equal(t->out_len, n);
        assert_memory_equal(t->out, in, n);
        te_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_latency_holds_until_due),
        cmocka_unit_test(test_toxic_latency_after_messages),
        cmocka_unit_test(test_toxic_latency_keeps_order_with_jitter),
        cmocka_unit_test(test_toxic_latency_flush_passes_everything),
        cmocka_unit_test(test_toxic_latency_rejects_bad_attributes),
        cmocka_unit_test(test_toxic_latency_distributions),
        cmocka_unit_test(test_toxic_latency_correlation_smooths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
