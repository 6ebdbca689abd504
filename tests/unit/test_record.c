/* test_record.c — the publisher's record in foreign payloads: formatted compactly, read back in any key order, and anything else refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "record.h"

static void test_record_roundtrip(void **state)
{
    (void)state;
    char b[256], err[128];
    int n = record_format(b, sizeof b, "18f2-1-0", "orders.42", 1234, 1764400000123456LL, "\"xxxx\"", 6);
    assert_true(n > 0);
    assert_string_equal(b, "{\"run\":\"18f2-1-0\",\"ch\":\"orders.42\",\"seq\":1234,\"ts\":1764400000123456,\"data\":\"xxxx\"}");
    record r;
    assert_int_equal(record_scan(b, (size_t)n, &r, err, sizeof err), 0);
    assert_string_equal(r.run, "18f2-1-0");
    assert_string_equal(r.ch, "orders.42");
    assert_int_equal(r.seq, 1234);
    assert_int_equal(r.ts_us, 1764400000123456LL);
    /* a server may re-encode: other key order, spaces, extra keys */
    const char *re = " { \"data\" : \"x\", \"seq\" : 7 , \"ts\":5, \"extra\":[1,2], \"ch\":\"a\", \"run\":\"r\" } ";
    assert_int_equal(record_scan(re, strlen(re), &r, err, sizeof err), 0);
    assert_int_equal(r.seq, 7);
    assert_string_equal(r.ch, "a");
    /* does not fit */
    assert_int_equal(record_format(b, 40, "18f2-1-0", "orders.42", 1, 1, "\"x\"", 3), -1);
}

static void test_record_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "<html>It works!</html>",
        "two",
        "[1,2]",
        "{\"ch\":\"a\",\"seq\":1,\"ts\":1}",                /* no run: not ours */
        "{\"run\":\"r\",\"seq\":1,\"ts\":1}",               /* no channel */
        "{\"run\":\"r\",\"ch\":\"a\",\"seq\":0,\"ts\":1}",   /* seq starts at 1 */
        "{\"run\":\"r\",\"ch\":\"a\",\"seq\":\"1\",\"ts\":1}",
        "{\"run\":\"r\",\"ch\":\"a\",\"seq\":1,\"ts\":1.5}",
        "{\"run\":\"r\",\"ch\":\"a\",\"seq\":1}",
    };
    record r;
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(record_scan(bad[i], strlen(bad[i]), &r, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    /* a record cut short anywhere is refused, never half-read */
    const char *ok = "{\"run\":\"r\",\"ch\":\"a\",\"seq\":12,\"ts\":99,\"data\":\"x\"}";
    for (size_t k = 0; k < strlen(ok); k++)
        assert_int_equal(record_scan(ok, k, &r, err, sizeof err), -1);
    assert_int_equal(record_scan(ok, strlen(ok), &r, err, sizeof err), 0);
}

static void test_record_path(void **state)
{
    (void)state;
    record r;
    char err[128];
    const char *env = "{\"ch\":\"x\",\"seq\":99,\"type\":\"event\",\"data\":{\"run\":\"r\",\"ch\":\"a\",\"seq\":3,\"ts\":4}}";
    assert_int_equal(record_scan_path(env, strlen(env), "data", &r, err, sizeof err), 0);
    assert_int_equal(r.seq, 3); /* the record's seq, not the server's */
    assert_string_equal(r.ch, "a");
    const char *deep = "{\"push\":{\"pub\":{\"data\":{\"run\":\"r\",\"ch\":\"a\",\"seq\":5,\"ts\":1}}}}";
    assert_int_equal(record_scan_path(deep, strlen(deep), "push.pub.data", &r, err, sizeof err), 0);
    assert_int_equal(r.seq, 5);
    /* a payload passed on as a JSON-encoded string */
    const char *str = "{\"data\":\"{\\\"run\\\":\\\"r\\\",\\\"ch\\\":\\\"a\\\",\\\"seq\\\":6,\\\"ts\\\":1}\"}";
    assert_int_equal(record_scan_path(str, strlen(str), "data", &r, err, sizeof err), 0);
    assert_int_equal(r.seq, 6);
    /* an index into an array: Socket.IO's ["event", payload, offset] */
    const char *arr = "[\"msg\",\"{\\\"run\\\":\\\"r\\\",\\\"ch\\\":\\\"a\\\",\\\"seq\\\":8,\\\"ts\\\":1}\",\"off\"]";
    assert_int_equal(record_scan_path(arr, strlen(arr), "1", &r, err, sizeof err), 0);
    assert_int_equal(r.seq, 8);
    assert_int_equal(record_scan_path(arr, strlen(arr), "7", &r, err, sizeof err), -1);
    /* no payload at the path: the service's control message (-2), not an error */
    const char *ctl = "{\"type\":\"subscribed\",\"ch\":\"a\"}";
    assert_int_equal(record_scan_path(ctl, strlen(ctl), "data", &r, err, sizeof err), -2);
    /* a payload at the path that is not a record is an error */
    const char *bad = "{\"data\":{\"x\":1}}";
    assert_int_equal(record_scan_path(bad, strlen(bad), "data", &r, err, sizeof err), -1);
    assert_int_equal(record_scan_path("<html>", 6, "data", &r, err, sizeof err), -1);
    assert_int_equal(record_scan_path(env, strlen(env), "", &r, err, sizeof err), -1); /* the envelope is no record */
}

static void test_record_offset(void **state)
{
    (void)state;
    record r;
    uint64_t off = 0;
    int has = -1;
    char err[128];
    const char *m = "{\"type\":\"event\",\"seq\":41,\"data\":{\"run\":\"r\",\"ch\":\"a\",\"seq\":3,\"ts\":4}}";
    assert_int_equal(record_scan_offset(m, strlen(m), "data", "seq", &r, &off, &has, err, sizeof err), 0);
    assert_int_equal(has, 1);
    assert_int_equal(off, 41); /* the server's offset, next to the record's own seq 3 */
    assert_int_equal(r.seq, 3);
    assert_int_equal(record_scan_offset(m, strlen(m), "data", "push.offset", &r, &off, &has, err, sizeof err), 0);
    assert_int_equal(has, 0);
    const char *neg = "{\"seq\":-1,\"data\":{\"run\":\"r\",\"ch\":\"a\",\"seq\":3,\"ts\":4}}";
    assert_int_equal(record_scan_offset(neg, strlen(neg), "data", "seq", &r, &off, &has, err, sizeof err), 0);
    assert_int_equal(has, 0);
    /* a control message (no data) may carry an offset too, but is no payload */
    const char *ctl = "{\"type\":\"subscribed\",\"seq\":40}";
    assert_int_equal(record_scan_offset(ctl, strlen(ctl), "data", "seq", &r, &off, &has, err, sizeof err), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_roundtrip),
        cmocka_unit_test(test_record_refused),
        cmocka_unit_test(test_record_path),
        cmocka_unit_test(test_record_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
