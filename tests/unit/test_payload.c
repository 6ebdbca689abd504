/* test_payload.c — the publisher's stamped string payload (fleet/payload.h):
 * what it writes checks out on its own channel, and every single-bit
 * change, a truncation, a longer value or another channel's event does not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "payload.h"

static void test_payload_string_round_trip(void **state)
{
    (void)state;
    char buf[300], why[96];
    assert_int_equal(fl_payload_string_len(8), 16); /* at least 16 bytes */
    assert_int_equal(fl_payload_string_len(64), 64);
    uint64_t ns[] = {0, 1, 9, 10, 12345, 18446744073709551615ull};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        fl_payload_string(buf, 64, "orders.3", ns[i], 0);
        assert_int_equal(strlen(buf), 64);
        assert_true(buf[0] == '"' && buf[63] == '"');
        assert_int_equal(fl_payload_string_check(buf, 64, 64, "orders.3", NULL, NULL, why, sizeof why), 0);
        assert_int_equal(fl_payload_string_check(buf, 64, 64, "orders.4", NULL, NULL, why, sizeof why), -1);
        assert_non_null(strstr(why, "not one published on this channel"));
    }
    fl_payload_string(buf, 64, "orders.3", 12345, 1764400000123456ull);
    assert_memory_equal(buf, "\"12345.", 7);
    assert_non_null(strstr(buf, ".1764400000123456.x"));
    /* a 16-byte value holds a short stamp; a long one does not fit and the
     * value is padding only, which still checks out */
    fl_payload_string(buf, 16, "c", 7, 1764400000123456ull); /* no room for the time */
    assert_memory_equal(buf, "\"7.", 3);
    assert_int_equal(fl_payload_string_check(buf, 16, 16, "c", NULL, NULL, why, sizeof why), 0);
    fl_payload_string(buf, 16, "c", 18446744073709551615ull, 0);
    assert_string_equal(buf, "\"xxxxxxxxxxxxxx\"");
    assert_int_equal(fl_payload_string_check(buf, 16, 16, "c", NULL, NULL, why, sizeof why), 0);
}

static void test_payload_string_every_bit_flip_is_caught(void **state)
{
    (void)state;
    char buf[200], bad[200], why[96];
    const char *chans[] = {"a", "tenant.acme.s1", "orders.17"};
    for (size_t c = 0; c < 3; c++)
        for (uint64_t n = 0; n < 300; n += 7) {
            fl_payload_string(buf, 128, chans[c], n, n % 2 ? 1764400000123456ull + n : 0);
            for (size_t i = 0; i < 128; i++)
                for (int b = 0; b < 8; b++) {
                    memcpy(bad, buf, 129);
                    bad[i] = (char)(bad[i] ^ (1 << b));
                    if (fl_payload_string_check(bad, 128, 128, chans[c], NULL, NULL, why, sizeof why) == 0)
                        fail_msg("%s n=%llu: bit %d of byte %zu flipped passed", chans[c], (unsigned long long)n, b, i);
                }
        }
}

static void test_payload_string_length_and_shape(void **state)
{
    (void)state;
    char buf[200], why[96];
    fl_payload_string(buf, 64, "x.1", 42, 1764400000000001ull);
    assert_int_equal(fl_payload_string_check(buf, 63, 64, "x.1", NULL, NULL, why, sizeof why), -1); /* truncated */
    assert_non_null(strstr(why, "63 bytes, not the 64-byte string"));
    char longer[200];
    snprintf(longer, sizeof longer, "%.63sx\"", buf);
    assert_int_equal(fl_payload_string_check(longer, 65, 64, "x.1", NULL, NULL, why, sizeof why), -1);
    assert_int_equal(fl_payload_string_check("\"42.zzzz.xxx\"", 13, 13, "x.1", NULL, NULL, why, sizeof why), -1);
    assert_non_null(strstr(why, "malformed"));
    assert_int_equal(fl_payload_string_check("{}", 2, 2, "x.1", NULL, NULL, why, sizeof why), -1);
    /* what is ours to judge: our length, or our stamp at any length; not
     * another publisher's "flood" or object */
    assert_true(fl_payload_string_ours(buf, 64, 64));
    assert_true(fl_payload_string_ours(buf, 40, 64));
    assert_true(fl_payload_string_ours("\"xxxxxxxxxxxxxx\"", 16, 16));
    assert_false(fl_payload_string_ours("\"flood\"", 7, 64));
    assert_false(fl_payload_string_ours("{\"a\":1}", 7, 7));
    assert_false(fl_payload_string_ours("\"12.zz", 6, 64));
}

/* The stamp carries the publish's ts: what checks out gives it back; a
 * stamp without the time (no room, or written by rtchaos before it) still
 * checks out and gives 0; another time under the same hash does not. */
static void test_payload_string_carries_ts(void **state)
{
    (void)state;
    char buf[200], why[96];
    uint64_t ts = 99;
    uint64_t num = 0;
    fl_payload_string(buf, 64, "orders.3", 77, 1764400000123456ull);
    assert_int_equal(fl_payload_string_check(buf, 64, 64, "orders.3", &ts, &num, why, sizeof why), 0);
    assert_int_equal(ts, 1764400000123456ull);
    assert_int_equal(num, 77);
    /* the same event with its time changed by one digit: the hash covers it */
    char other[200];
    memcpy(other, buf, 65);
    char *t = strstr(other, ".1764400000123456.");
    assert_non_null(t);
    t[16] = '7';
    assert_int_equal(fl_payload_string_check(other, 64, 64, "orders.3", &ts, NULL, why, sizeof why), -1);
    assert_int_equal(ts, 0);
    /* the stamp without the time, as rtchaos wrote it before (hash of channel and n) */
    fl_payload_string(buf, 64, "orders.3", 77, 0);
    assert_null(strstr(buf + 1, ".1"));
    ts = 99;
    assert_int_equal(fl_payload_string_check(buf, 64, 64, "orders.3", &ts, NULL, why, sizeof why), 0);
    assert_int_equal(ts, 0);
    /* a time without its closing dot is no stamp */
    assert_int_equal(fl_payload_string_check("\"7.abcd.123xxx\"", 15, 15, "c", &ts, NULL, why, sizeof why), -1);
    assert_non_null(strstr(why, "malformed"));
    /* records (no quotes): the same, through the value check */
    fl_payload_string(buf, 40, "c", 5, 123456);
    assert_int_equal(fl_payload_value_check(buf + 1, 38, "c", &ts, NULL, why, sizeof why), 0);
    assert_int_equal(ts, 123456);
    assert_true(fl_payload_value_stamped(buf + 1, 38));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_string_round_trip),
        cmocka_unit_test(test_payload_string_every_bit_flip_is_caught),
        cmocka_unit_test(test_payload_string_length_and_shape),
        cmocka_unit_test(test_payload_string_carries_ts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
