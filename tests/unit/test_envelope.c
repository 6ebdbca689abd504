/* test_envelope.c — unit tests for common/envelope.c (scanner and formatters). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "envelope.h"

/* Scans a copy of s in a buffer of exactly its length, so a read past the end
 * faults under ASan (the guarded-buffer technique of picohttpparser's tests). */
static int scan_exact(const char *s, size_t len, envelope *e, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, s, len);
    int rc = envelope_scan(copy, len, e, err, errlen);
    /* Spans point into copy: callers of this helper only read copied fields. */
    e->data = NULL;
    e->msg = NULL;
    free(copy);
    return rc;
}

static void test_envelope_event_round_trip(void **state)
{
    (void)state;
    char buf[512], err[128];
    const char *data = "{\"a\":[1,2,{\"b\":\"}\"}]}";
    int n = envelope_format(buf, sizeof buf, ENV_T_EVENT, "orders.42", 1234, 1764400000123456LL,
                            NULL, data, strlen(data));
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    envelope e;
    assert_int_equal(envelope_scan(buf, (size_t)n, &e, err, sizeof err), 0);
    assert_int_equal(e.type, ENV_T_EVENT);
    assert_string_equal(e.ch, "orders.42");
    assert_int_equal(e.seq, 1234);
    assert_true(e.has_seq);
    assert_int_equal(e.ts_us, 1764400000123456LL);
    assert_string_equal(e.epoch, "");
    assert_int_equal(e.data_len, strlen(data));
    assert_memory_equal(e.data, data, strlen(data));
    /* Also valid JSON for jansson. */
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    json_decref(j);
}

static void test_envelope_keys_in_any_order_unknown_skipped(void **state)
{
    (void)state;
    const char *s = " {\"extra\":{\"seq\":999,\"x\":[true,false,null,-1.5e3]},\"type\":\"snapshot\","
                    "\"epoch\":\"e7\",\"data\":null,\"seq\":17,\"ch\":\"a\\u00e9\\n\"} \n";
    envelope e;
    char err[128];
    assert_int_equal(envelope_scan(s, strlen(s), &e, err, sizeof err), 0);
    assert_int_equal(e.type, ENV_T_SNAPSHOT);
    assert_int_equal(e.seq, 17);
    assert_string_equal(e.epoch, "e7");
    assert_string_equal(e.ch, "a\xc3\xa9\n");
    assert_int_equal(e.data_len, 4);
}

static void test_envelope_gap_and_subscribed(void **state)
{
    (void)state;
    char buf[256], err[128];
    envelope e;
    int n = envelope_format_gap(buf, sizeof buf, "c", 5, 9, 77);
    assert_int_equal(envelope_scan(buf, (size_t)n, &e, err, sizeof err), 0);
    assert_int_equal(e.type, ENV_T_GAP);
    assert_int_equal(e.gap_from, 5);
    assert_int_equal(e.gap_to, 9);
    assert_int_equal(e.seq, 9);

    /* Large numbers (the gap prefix once overflowed a small scratch buffer). */
    n = envelope_format_gap(buf, sizeof buf, "orders.42", 123456789012ULL, 18446744073709551615ULL,
                            -1764400000123456LL);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    assert_int_equal(envelope_scan(buf, (size_t)n, &e, err, sizeof err), -1); /* to > INT64_MAX */
    n = envelope_format_gap(buf, sizeof buf, "orders.42", 123456789012ULL, 9223372036854775807ULL,
                            -1764400000123456LL);
    assert_int_equal(envelope_scan(buf, (size_t)n, &e, err, sizeof err), 0);
    assert_int_equal(e.gap_from, 123456789012ULL);
    assert_int_equal(e.gap_to, 9223372036854775807ULL);
    assert_int_equal(e.ts_us, -1764400000123456LL);

    n = envelope_format_subscribed(buf, sizeof buf, "c", 41, "ep-1", 1);
    assert_int_equal(envelope_scan(buf, (size_t)n, &e, err, sizeof err), 0);
    assert_int_equal(e.type, ENV_T_SUBSCRIBED);
    assert_int_equal(e.seq, 41);
    assert_int_equal(e.recovered, 1);
    assert_string_equal(e.epoch, "ep-1");
    n = envelope_format_subscribed(buf, sizeof buf, "c", 0, NULL, 0);
    assert_int_equal(envelope_scan(buf, (size_t)n, &e, err, sizeof err), 0);
    assert_int_equal(e.recovered, 0);

    n = envelope_format_error(buf, sizeof buf, "too_large", "payload \"x\" over cap", "c");
    assert_int_equal(envelope_scan(buf, (size_t)n, &e, err, sizeof err), 0);
    assert_int_equal(e.type, ENV_T_ERROR);
    assert_string_equal(e.code, "too_large");
    assert_non_null(e.msg);
    assert_int_equal(e.msg[0], '"');
}

static void test_envelope_rejects_bad_fields(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "[]",
        "{",
        "{\"seq\":-1}",
        "{\"seq\":1.5}",
        "{\"seq\":\"1\"}",
        "{\"seq\":18446744073709551616}",
        "{\"ts\":1e3}",
        "{\"ch\":5}",
        "{\"recovered\":1}",
        "{\"type\":\"gap\",\"data\":{\"from\":1}}",
        "{\"type\":\"gap\",\"data\":{\"from\":3,\"to\":2}}",
        "{\"type\":\"gap\"}",
        "{\"a\":1} x",
        "{\"a\":tru}",
        "{\"a\":01}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "{\"a\":[1,]}",
        "{\"a\":\"\x01\"}",
    };
    char err[128];
    envelope e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(scan_exact(bad[i], strlen(bad[i]), &e, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
    /* A channel name one byte over the cap is refused, at the cap accepted. */
    char ch[ENV_CH_MAX + 2], buf[512];
    memset(ch, 'a', sizeof ch);
    ch[ENV_CH_MAX] = '\0';
    snprintf(buf, sizeof buf, "{\"ch\":\"%s\"}", ch);
    assert_int_equal(scan_exact(buf, strlen(buf), &e, err, sizeof err), 0);
    ch[ENV_CH_MAX] = 'a';
    ch[ENV_CH_MAX + 1] = '\0';
    snprintf(buf, sizeof buf, "{\"ch\":\"%s\"}", ch);
    assert_int_equal(scan_exact(buf, strlen(buf), &e, err, sizeof err), -1);
}

static void test_envelope_every_truncation_fails_without_overread(void **state)
{
    (void)state;
    char buf[256], err[128];
    envelope e;
    int n = envelope_format(buf, sizeof buf, ENV_T_EVENT, "x\"y", 3, -5, "ep", "[1,\"\\u263a\"]", 12);
    assert_true(n > 0);
    assert_int_equal(scan_exact(buf, (size_t)n, &e, err, sizeof err), 0);
    assert_string_equal(e.ch, "x\"y");
    assert_int_equal(e.ts_us, -5);
    for (int cut = 0; cut < n; cut++)
        assert_int_equal(scan_exact(buf, (size_t)cut, &e, err, sizeof err), -1);
}

/* The scanner and jansson agree on which objects are valid JSON. */
static void test_envelope_agrees_with_jansson(void **state)
{
    (void)state;
    const char *inputs[] = {
        "{}", "{\"a\":{}}", "{\"a\":[]}", "{\"a\":[[[]]]}", "{\"a\":-0}", "{\"a\":0.5e-3}",
        "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\/\"}", "{\"a\":1 }", "{ }", "{\"a\":-}",
        "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":nul}", "{\"a\":\"\\u00\"}",
        "{\"seq\":3,\"seq\":4}", "{\"a\":[1 2]}", "{\"a\":{\"b\"}}", "{'a':1}",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        json_error_t jerr;
        json_t *j = json_loads(inputs[i], JSON_DECODE_ANY, &jerr);
        envelope e;
        char err[128];
        int ok = scan_exact(inputs[i], strlen(inputs[i]), &e, err, sizeof err) == 0;
        if (ok != (j != NULL))
            fail_msg("input %zu (%s): scanner %d jansson %d", i, inputs[i], ok, j != NULL);
        json_decref(j);
    }
}

static void test_envelope_duplicate_key_last_wins(void **state)
{
    (void)state;
    envelope e;
    char err[64];
    const char *s = "{\"seq\":3,\"seq\":4}";
    assert_int_equal(envelope_scan(s, strlen(s), &e, err, sizeof err), 0);
    assert_int_equal(e.seq, 4);
}

static void test_envelope_format_overflow_reports_minus_one(void **state)
{
    (void)state;
    char buf[64];
    char big[100];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(envelope_format(buf, sizeof buf, ENV_T_EVENT, "c", 1, 1, NULL, big, strlen(big)), -1);
    assert_int_equal(envelope_format(buf, 0, ENV_T_EVENT, "c", 1, 1, NULL, "1", 1), -1);
    assert_int_equal(envelope_json_str(buf, sizeof buf, "a\x01", 2), 9);
    assert_string_equal(buf, "\"a\\u0001\"");
}

static void test_envelope_channel_names(void **state)
{
    (void)state;
    assert_true(envelope_channel_valid("orders.42", 9));
    assert_true(envelope_channel_valid("tenant.a:b-c_d", 14));
    assert_false(envelope_channel_valid("", 0));
    assert_false(envelope_channel_valid(".a", 2));
    assert_false(envelope_channel_valid("a.", 2));
    assert_false(envelope_channel_valid("a..b", 4));
    assert_false(envelope_channel_valid("a*", 2));
    assert_false(envelope_channel_valid("a/b", 3));
    assert_false(envelope_channel_valid("a b", 3));
    char big[ENV_CH_MAX + 1];
    memset(big, 'a', sizeof big);
    assert_true(envelope_channel_valid(big, ENV_CH_MAX));
    assert_false(envelope_channel_valid(big, ENV_CH_MAX + 1));
}

static void test_envelope_type_names(void **state)
{
    (void)state;
    assert_int_equal(envelope_type_from_str("pong", 4), ENV_T_PONG);
    assert_int_equal(envelope_type_from_str("even", 4), ENV_T_UNKNOWN);
    assert_string_equal(envelope_type_str(ENV_T_GAP), "gap");
    envelope e;
    char err[64];
    const char *s = "{\"type\":\"custom-thing\"}";
    assert_int_equal(envelope_scan(s, strlen(s), &e, err, sizeof err), 0);
    assert_int_equal(e.type, ENV_T_UNKNOWN);
    assert_string_equal(e.type_str, "custom-thing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_event_round_trip),
        cmocka_unit_test(test_envelope_keys_in_any_order_unknown_skipped),
        cmocka_unit_test(test_envelope_gap_and_subscribed),
        cmocka_unit_test(test_envelope_rejects_bad_fields),
        cmocka_unit_test(test_envelope_every_truncation_fails_without_overread),
        cmocka_unit_test(test_envelope_agrees_with_jansson),
        cmocka_unit_test(test_envelope_duplicate_key_last_wins),
        cmocka_unit_test(test_envelope_format_overflow_reports_minus_one),
        cmocka_unit_test(test_envelope_channel_names),
        cmocka_unit_test(test_envelope_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
