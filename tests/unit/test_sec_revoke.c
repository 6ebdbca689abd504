/* test_sec_revoke.c — the token revocation list: file format, errors with
 * their line, lookups by jti and by subject, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "sec_file.h"
#include "sec_revoke.h"

static sec_principal who(const char *sub, const char *jti)
{
    sec_principal p;
    sec_principal_anonymous(&p);
    p.authenticated = 1;
    snprintf(p.sub, sizeof p.sub, "%s", sub);
    snprintf(p.jti, sizeof p.jti, "%s", jti);
    return p;
}

static sec_revoke *load(const char *text)
{
    char err[256];
    sec_revoke *r = sec_revoke_load_mem(text, strlen(text), "revoked.txt", err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    return r;
}

static void test_sec_revoke_finds_jti_and_subject(void **state)
{
    (void)state;
    sec_revoke *r = load("# revoked\n\njti 9b2c-01\r\n  sub mallory  \n\tjti\tzz-last\njti 9b2c-01\n"
                         "sub eve with spaces");
    assert_int_equal(sec_revoke_count(r, SEC_REVOKE_JTI), 2); /* the repeat counted once */
    assert_int_equal(sec_revoke_count(r, SEC_REVOKE_SUB), 2);
    sec_principal a = who("alice", "9b2c-01"), m = who("mallory", "other"), e = who("eve with spaces", "");
    sec_principal z = who("zed", "zz-last"), ok = who("alice", "9b2c-02");
    assert_int_equal(sec_revoke_check(r, &a), SEC_REVOKE_JTI);
    assert_int_equal(sec_revoke_check(r, &m), SEC_REVOKE_SUB);
    assert_int_equal(sec_revoke_check(r, &e), SEC_REVOKE_SUB);
    assert_int_equal(sec_revoke_check(r, &z), SEC_REVOKE_JTI);
    assert_int_equal(sec_revoke_check(r, &ok), SEC_REVOKE_NONE);
    /* a token without jti is never matched by an empty one; anonymous never */
    sec_principal nojti = who("bob", ""), anon;
    sec_principal_anonymous(&anon);
    assert_int_equal(sec_revoke_check(r, &nojti), SEC_REVOKE_NONE);
    assert_int_equal(sec_revoke_check(r, &anon), SEC_REVOKE_NONE);
    assert_int_equal(sec_revoke_check(NULL, &a), SEC_REVOKE_NONE);
    assert_string_equal(sec_revoke_hit_str(SEC_REVOKE_JTI), "jti");
    assert_string_equal(sec_revoke_hit_str(SEC_REVOKE_SUB), "sub");
    sec_revoke_free(r);
}

static void test_sec_revoke_empty_list_is_valid(void **state)
{
    (void)state;
    sec_revoke *r = load("");
    assert_int_equal(sec_revoke_count(r, SEC_REVOKE_JTI) + sec_revoke_count(r, SEC_REVOKE_SUB), 0);
    sec_principal a = who("alice", "x");
    assert_int_equal(sec_revoke_check(r, &a), SEC_REVOKE_NONE);
    sec_revoke_free(r);
    r = load("# nothing revoked yet\n\n   \n");
    assert_int_equal(sec_revoke_count(r, SEC_REVOKE_SUB), 0);
    sec_revoke_free(r);
}

static void test_sec_revoke_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } bad[] = {
        { "jti a\nkid b\n", "revoked.txt:2: expected" },
        { "jti a\n\njti\n", "revoked.txt:3: expected" },
        { "jti   \n", "revoked.txt:1: expected" }, /* no value after trimming */
        { "jtix a\n", "revoked.txt:1: expected" },
        { "sub a\x01" "b\n", "revoked.txt:1: the subject must be" },
        { "JTI a\n", "revoked.txt:1: expected" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(sec_revoke_load_mem(bad[i].text, strlen(bad[i].text), "revoked.txt", err, sizeof err));
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, bad[i].want);
    }
    /* an embedded NUL is a control character, not the end of the value */
    static const char nul[] = "jti ab\0cd\n";
    assert_null(sec_revoke_load_mem(nul, sizeof nul - 1, "revoked.txt", err, sizeof err));
    /* too long: SEC_JTI_MAX + 1 bytes */
    char line[SEC_JTI_MAX + 16];
    memset(line, 'a', sizeof line);
    memcpy(line, "jti ", 4);
    line[4 + SEC_JTI_MAX + 1] = 0;
    assert_null(sec_revoke_load_mem(line, strlen(line), "revoked.txt", err, sizeof err));
    line[4 + SEC_JTI_MAX] = 0;
    sec_revoke *r = sec_revoke_load_mem(line, strlen(line), "revoked.txt", err, sizeof err);
    assert_non_null(r);
    sec_revoke_free(r);
    assert_null(sec_revoke_load_file("/nonexistent/revoked.txt", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/revoked.txt"));
}

static void test_sec_revoke_many_entries(void **state)
{
    (void)state;
    enum { N = 50000 };
    char *text = malloc((size_t)N * 24);
    assert_non_null(text);
    size_t off = 0;
    for (int i = N - 1; i >= 0; i--) /* unsorted on purpose */
        off += (size_t)sprintf(text + off, "%s id-%06d\n", i % 2 ? "jti" : "sub", i);
    char err[256];
    sec_revoke *r = sec_revoke_load_mem(text, off, "big", err, sizeof err);
    assert_non_null(r);
    assert_int_equal(sec_revoke_count(r, SEC_REVOKE_JTI), N / 2);
    for (int i = 0; i < N; i += 997) {
        char id[32];
        snprintf(id, sizeof id, "id-%06d", i);
        sec_principal p = i % 2 ? who("x", id) : who(id, "none");
        assert_int_equal(sec_revoke_check(r, &p), i % 2 ? SEC_REVOKE_JTI : SEC_REVOKE_SUB);
    }
    sec_principal p = who("id-000001", "id-000000"); /* sub/jti swapped: neither listed */
    assert_int_equal(sec_revoke_check(r, &p), SEC_REVOKE_NONE);
    sec_revoke_free(r);
    free(text);
}

/* The bounded reader under the list (and the key and policy files): a file
 * read whole across several buffer growths, one byte over the bound refused. */
static void test_sec_revoke_file_read_bounds(void **state)
{
    (void)state;
    char path[] = "/tmp/test_sec_revoke_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    enum { N = 200000 };
    char *text = malloc(N);
    assert_non_null(text);
    for (size_t i = 0; i < N; i++)
        text[i] = i % 50 == 49 ? '\n' : (char)('a' + i % 26);
    assert_int_equal(write(fd, text, N), N);
    close(fd);
    char err[256];
    size_t len = 0;
    char *got = sec_file_read(path, N, &len, err, sizeof err);
    assert_non_null(got);
    assert_int_equal(len, N);
    assert_memory_equal(got, text, N);
    assert_int_equal(got[N], 0);
    free(got);
    assert_null(sec_file_read(path, N - 1, &len, err, sizeof err));
    assert_non_null(strstr(err, "larger than 199999 bytes"));
    assert_null(sec_file_read(path, 16384, &len, err, sizeof err));
    assert_non_null(strstr(err, ": larger than 16 KiB"));
    unlink(path);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_revoke_finds_jti_and_subject),
        cmocka_unit_test(test_sec_revoke_empty_list_is_valid),
        cmocka_unit_test(test_sec_revoke_errors_name_the_line),
        cmocka_unit_test(test_sec_revoke_many_entries),
        cmocka_unit_test(test_sec_revoke_file_read_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
