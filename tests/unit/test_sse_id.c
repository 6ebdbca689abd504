/* test_sse_id.c — SSE id codec: round trip, and rejection of garbage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse_id.h"

static void test_sse_id_round_trip(void **state)
{
    (void)state;
    sse_pos in[SSE_ID_MAX_CHANNELS], out[SSE_ID_MAX_CHANNELS];
    char id[SSE_ID_MAX_LEN + 1], err[128];
    for (size_t n = 0; n <= SSE_ID_MAX_CHANNELS; n += 7) {
        for (size_t i = 0; i < n; i++) {
            in[i].ch_hash = sse_id_hash("ch", 2) + (uint32_t)i;
            in[i].epoch_hash = 0xdeadbeefu ^ (uint32_t)i;
            in[i].seq = i == 0 ? 0 : (i == 1 ? UINT64_MAX : (uint64_t)i * 1000003u);
        }
        int len = sse_id_encode(in, n, id, sizeof(id));
        assert_true(len > 0);
        assert_int_equal(strlen(id), (size_t)len);
        assert_true(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == (size_t)len);
        size_t got = 99;
        assert_int_equal(sse_id_decode(id, (size_t)len, out, SSE_ID_MAX_CHANNELS, &got, err, sizeof(err)), 0);
        assert_int_equal(got, n);
        assert_memory_equal(in, out, n * sizeof(sse_pos));
    }
}

static void test_sse_id_max_channels_fit_max_len(void **state)
{
    (void)state;
    sse_pos in[SSE_ID_MAX_CHANNELS];
    for (size_t i = 0; i < SSE_ID_MAX_CHANNELS; i++)
        in[i] = (sse_pos){0xffffffffu, 0xffffffffu, UINT64_MAX};
    char id[SSE_ID_MAX_LEN + 1];
    assert_true(sse_id_encode(in, SSE_ID_MAX_CHANNELS, id, sizeof(id)) > 0);
    assert_int_equal(sse_id_encode(in, SSE_ID_MAX_CHANNELS + 1, id, sizeof(id)), -1);
    assert_int_equal(sse_id_encode(in, 2, id, 8), -1);
}

static void test_sse_id_rejects_garbage(void **state)
{
    (void)state;
    sse_pos in[2] = {{1, 2, 3}, {4, 5, 600}}, out[4];
    char id[256], bad[256], err[128];
    size_t n;
    int len = sse_id_encode(in, 2, id, sizeof(id));
    const char *garbage[] = {"", "x", "abc", "hello world", "0", "=====", "AAAAAAAAAAAA",
                             "12345", "a/b+c", "\xff\xfe"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(*garbage); i++)
        assert_int_equal(sse_id_decode(garbage[i], strlen(garbage[i]), out, 4, &n, err, sizeof(err)), -1);
    /* every single-character change and every truncation is refused */
    for (int i = 0; i < len; i++) {
        memcpy(bad, id, (size_t)len);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(sse_id_decode(bad, (size_t)len, out, 4, &n, err, sizeof(err)), -1);
        assert_int_equal(sse_id_decode(id, (size_t)i, out, 4, &n, err, sizeof(err)), -1);
    }
    /* too many channels for the caller's array */
    assert_int_equal(sse_id_decode(id, (size_t)len, out, 1, &n, err, sizeof(err)), -1);
    assert_true(strlen(err) > 0);
}

/* Every prefix of a valid id, copied into a heap block of exactly its size:
 * an overread past the end faults under ASan (the test suite runs there too). */
static void test_sse_id_guarded_prefixes(void **state)
{
    (void)state;
    sse_pos in[3] = {{1, 2, 300}, {4, 5, 1ULL << 40}, {7, 8, 0}}, out[4];
    char id[256], err[128];
    size_t n;
    int len = sse_id_encode(in, 3, id, sizeof(id));
    for (int k = 0; k <= len; k++) {
        char *g = malloc(k ? (size_t)k : 1);
        memcpy(g, id, (size_t)k);
        int rc = sse_id_decode(g, (size_t)k, out, 4, &n, err, sizeof(err));
        assert_int_equal(rc, k == len ? 0 : -1);
        free(g);
    }
}

static void test_sse_id_find(void **state)
{
    (void)state;
    sse_pos p[2] = {{10, 1, 5}, {20, 2, 6}};
    assert_ptr_equal(sse_id_find(p, 2, 20), &p[1]);
    assert_null(sse_id_find(p, 2, 30));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_id_round_trip),
        cmocka_unit_test(test_sse_id_max_channels_fit_max_len),
        cmocka_unit_test(test_sse_id_rejects_garbage),
        cmocka_unit_test(test_sse_id_guarded_prefixes),
        cmocka_unit_test(test_sse_id_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
