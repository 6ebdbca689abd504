/* test_sec_channel.c — strict channel-name validation against tricky names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_channel.h"

static int check(const char *s)
{
    char err[160];
    return sec_channel_check(s, strlen(s), err, sizeof err);
}

static void test_sec_channel_accepts_ordinary_names(void **state)
{
    (void)state;
    const char *ok[] = { "a", "orders", "tenant.acme.orders.42", "x_y:z-1", "A.b.C", "1.2.3" };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (check(ok[i]) != 0)
            fail_msg("refused %s", ok[i]);
}

static void test_sec_channel_refuses_tricky_names(void **state)
{
    (void)state;
    const char *bad[] = {
        "",           ".a",          "a.",           "a..b",        "tenant.*.orders",
        "tenant.>",   "tenant.acme/../b", "a/b",     "%2e%2e",      "a b",
        "a\tb",       "tenant.acme\n.x", "a\\b",     "tenant.acme.orders.*", "..",
        ".",          "a.-.b",       "a.:.b",        "a.__.b",      "tenant.acme\xc2\xa0",
        "t\xc3\xa9nant", "a\"b",     "a#b",          "a?b",         "a+b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (check(bad[i]) != -1)
            fail_msg("accepted %s", bad[i]);
}

static void test_sec_channel_embedded_nul_is_refused(void **state)
{
    (void)state;
    char err[160];
    const char name[] = "tenant.a\0tenant.b";
    assert_int_equal(sec_channel_check(name, sizeof name - 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "0x00"));
}

static void test_sec_channel_length_and_segment_limits(void **state)
{
    (void)state;
    char buf[400];
    char err[160];
    memset(buf, 'a', sizeof buf);
    /* 64-byte segments are fine, 65 are not */
    assert_int_equal(sec_channel_check(buf, 64, err, sizeof err), 0);
    assert_int_equal(sec_channel_check(buf, 65, err, sizeof err), -1);
    /* 16 segments fine, 17 not */
    char segs[64] = "";
    for (int i = 0; i < 16; i++)
        strcat(segs, i ? ".a" : "a");
    assert_int_equal(check(segs), 0);
    strcat(segs, ".a");
    assert_int_equal(check(segs), -1);
    /* longer than the wire contract's limit */
    for (int i = 0; i < 400; i += 10)
        buf[i] = '.';
    buf[1] = 'b';
    assert_int_equal(sec_channel_check(buf + 1, 129, err, sizeof err), -1);
    assert_non_null(strstr(err, "longer"));
    assert_int_equal(sec_channel_check(NULL, 0, err, sizeof err), -1);
}

/* Every byte value at every position of a short name: only the charset passes. */
static void test_sec_channel_every_byte(void **state)
{
    (void)state;
    char err[160];
    for (int c = 0; c < 256; c++) {
        char name[3] = { 'a', (char)c, 'b' };
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        assert_int_equal(sec_channel_check(name, 3, err, sizeof err), ok ? 0 : -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_channel_accepts_ordinary_names),
        cmocka_unit_test(test_sec_channel_refuses_tricky_names),
        cmocka_unit_test(test_sec_channel_embedded_nul_is_refused),
        cmocka_unit_test(test_sec_channel_length_and_segment_limits),
        cmocka_unit_test(test_sec_channel_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
