/* test_tmpl.c — the {name} template expander: table lookup, unknown and unterminated fields, JSON braces, raw and percent-encoded values, first-only fields, values never expanded again, and every overflow (each cap below the result, at the end of a guarded buffer). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tmpl.h"

static int expand(const char *t, const tmpl_var *v, size_t n, char *buf, size_t cap)
{
    int k = tmpl_expand(t, v, n, buf, cap);
    if (k >= 0)
        assert_int_equal((size_t)k, strlen(buf));
    return k;
}

static void test_tmpl_table(void **state)
{
    (void)state;
    char b[128];
    const tmpl_var v[] = {{"ch", "a.1", TMPL_STRLEN, TMPL_RAW, 0}, {"offset", "42", TMPL_STRLEN, TMPL_RAW, 0}};
    assert_int_equal(expand("{\"op\":\"sub\",\"ch\":\"{ch}\",\"since\":{offset}}", v, 2, b, sizeof b), 34);
    assert_string_equal(b, "{\"op\":\"sub\",\"ch\":\"a.1\",\"since\":42}");
    /* every occurrence, next to each other, at both ends */
    assert_int_equal(expand("{ch}{offset}{ch}", v, 2, b, sizeof b), 8);
    assert_string_equal(b, "a.142a.1");
    /* a value with a length: bytes past it are not copied */
    const tmpl_var p = {"payload", "{\"x\":1}tail", 7, TMPL_RAW, 0};
    assert_int_equal(expand("[{payload}]", &p, 1, b, sizeof b), 9);
    assert_string_equal(b, "[{\"x\":1}]");
    /* an empty template and an empty value */
    assert_int_equal(expand("", v, 2, b, sizeof b), 0);
    assert_string_equal(b, "");
    const tmpl_var e = {"n", "", TMPL_STRLEN, TMPL_RAW, 0};
    assert_int_equal(expand("<{n}>", &e, 1, b, sizeof b), 2);
    assert_string_equal(b, "<>");
}

/* what is not a known field is copied as written */
static void test_tmpl_unknown_and_unterminated(void **state)
{
    (void)state;
    char b[128];
    const tmpl_var v = {"ch", "c", TMPL_STRLEN, TMPL_RAW, 0};
    assert_int_equal(expand("{chan}/{c}/{CH}/{ch }/{}", &v, 1, b, sizeof b), 24);
    assert_string_equal(b, "{chan}/{c}/{CH}/{ch }/{}");
    /* a "{" without its "}", at the end and before a field */
    assert_int_equal(expand("x{ch", &v, 1, b, sizeof b), 4);
    assert_string_equal(b, "x{ch");
    assert_int_equal(expand("{", &v, 1, b, sizeof b), 1);
    assert_string_equal(b, "{");
    assert_int_equal(expand("{{ch}}", &v, 1, b, sizeof b), 3);
    assert_string_equal(b, "{c}");
    assert_int_equal(expand("{c{ch}h}", &v, 1, b, sizeof b), 5);
    assert_string_equal(b, "{cch}");
    /* no table: the template itself */
    assert_int_equal(expand("{\"a\":{ch}}", NULL, 0, b, sizeof b), 10);
    assert_string_equal(b, "{\"a\":{ch}}");
}

/* a value is text, never a template: a value holding a field stays so */
static void test_tmpl_values_not_expanded_again(void **state)
{
    (void)state;
    char b[64];
    const tmpl_var v[] = {{"payload", "{ch}", TMPL_STRLEN, TMPL_RAW, 0}, {"ch", "c", TMPL_STRLEN, TMPL_RAW, 0}};
    assert_int_equal(expand("{payload}-{ch}", v, 2, b, sizeof b), 6);
    assert_string_equal(b, "{ch}-c");
}

static void test_tmpl_escaping(void **state)
{
    (void)state;
    char b[128];
    /* percent-encoding: unreserved bytes and ':' kept, the rest %XX */
    const tmpl_var v = {"ch", "a b/c:d~e%\xc3\xa9", TMPL_STRLEN, TMPL_PCT, 0};
    assert_int_equal(expand("/sub/{ch}?x={ch}", &v, 1, b, sizeof b), 52);
    assert_string_equal(b, "/sub/a%20b%2Fc:d~e%25%C3%A9?x=a%20b%2Fc:d~e%25%C3%A9");
    /* raw: the same bytes as they are (JSON text, paths) */
    const tmpl_var r = {"ch", "a b/\"c\"", TMPL_STRLEN, TMPL_RAW, 0};
    assert_int_equal(expand("{ch}", &r, 1, b, sizeof b), 7);
    assert_string_equal(b, "a b/\"c\"");
    /* the template's own text is never encoded */
    assert_int_equal(expand("a b/{ch}", &v, 1, b, sizeof b), 26);
    assert_string_equal(b, "a b/a%20b%2Fc:d~e%25%C3%A9");
    assert_int_equal(tmpl_pct_encode("a\0b", 3, b, sizeof b), 5);
    assert_string_equal(b, "a%00b");
}

/* once: only the first field is replaced, the later ones stay as written */
static void test_tmpl_once(void **state)
{
    (void)state;
    char b[64];
    const tmpl_var v = {"i", "7", TMPL_STRLEN, TMPL_RAW, 1};
    assert_int_equal(expand("a{i}b{i}", &v, 1, b, sizeof b), 6);
    assert_string_equal(b, "a7b{i}");
    const tmpl_var all = {"i", "7", TMPL_STRLEN, TMPL_RAW, 0};
    assert_int_equal(expand("a{i}b{i}", &all, 1, b, sizeof b), 4);
    assert_string_equal(b, "a7b7");
}

/* every cap below what the result needs gives -1 and never writes past cap */
static void test_tmpl_overflow(void **state)
{
    (void)state;
    const tmpl_var v[] = {{"ch", "abc", TMPL_STRLEN, TMPL_RAW, 0}, {"q", "a b", TMPL_STRLEN, TMPL_PCT, 0}};
    const char *t = "x{ch}y{q}z";
    const char *want = "xabcya%20bz";
    size_t len = strlen(want);
    long page = sysconf(_SC_PAGESIZE);
    /* two pages, the second unreadable: the buffer ends where it faults */
    char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    for (size_t cap = 0; cap <= len + 1; cap++) {
        char *b = map + page - cap;
        int k = tmpl_expand(t, v, 2, b, cap);
        if (cap <= len) {
            assert_int_equal(k, -1);
        } else {
            assert_int_equal(k, (int)len);
            assert_string_equal(b, want);
        }
    }
    /* a value that ends the text: its NUL is what does not fit */
    for (size_t cap = 0; cap <= 5; cap++) {
        char *b = map + page - cap;
        assert_int_equal(tmpl_expand("x{ch}", v, 2, b, cap), cap == 5 ? 4 : -1);
    }
    /* the same for a percent-encoded value cut inside one %XX */
    for (size_t cap = 0; cap <= 4; cap++)
        assert_int_equal(tmpl_pct_encode(" ", 1, map + page - cap, cap), cap == 4 ? 3 : -1);
    munmap(map, (size_t)page * 2);
    /* more fields than the table takes */
    tmpl_var many[33];
    for (size_t i = 0; i < 33; i++)
        many[i] = (tmpl_var){"x", "y", TMPL_STRLEN, TMPL_RAW, 0};
    char b[16];
    assert_int_equal(tmpl_expand("{x}", many, 33, b, sizeof b), -1);
    assert_int_equal(tmpl_expand("{x}", many, 32, b, sizeof b), 1);
}

typedef struct seen {
    char names[8][64];
    int n;
} seen;

static int note(const char *name, size_t len, void *ud)
{
    seen *s = ud;
    memcpy(s->names[s->n], name, len);
    s->names[s->n][len] = '\0';
    return ++s->n == 8 ? 1 : 0;
}

/* fields inside JSON text: a "{" that opens an object is not one */
static void test_tmpl_each_field(void **state)
{
    (void)state;
    seen s = {0};
    assert_int_equal(tmpl_each_field("{\"op\":\"sub\",\"ch\":\"{ch}\",\"d\":{payload},\"o\":{ \"a\":1},{x y},{,}{}", 31,
                                     note, &s),
                     0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "ch");
    assert_string_equal(s.names[1], "payload");
    /* max_len: a longer name is not a field */
    memset(&s, 0, sizeof s);
    assert_int_equal(tmpl_each_field("{abcd}{abc}{ab", 3, note, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], "abc");
    /* the walk stops at fn's first nonzero return */
    memset(&s, 0, sizeof s);
    assert_int_equal(tmpl_each_field("{a}{b}{c}{d}{e}{f}{g}{h}{i}", 31, note, &s), 1);
    assert_int_equal(s.n, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tmpl_table),
        cmocka_unit_test(test_tmpl_unknown_and_unterminated),
        cmocka_unit_test(test_tmpl_values_not_expanded_again),
        cmocka_unit_test(test_tmpl_escaping),
        cmocka_unit_test(test_tmpl_once),
        cmocka_unit_test(test_tmpl_overflow),
        cmocka_unit_test(test_tmpl_each_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
