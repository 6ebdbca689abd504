/* test_mergepatch.c — JSON Merge Patch (RFC 7396): the RFC's own examples applied, diffs that rebuild the target (changed, added, removed and nested members), and what a patch cannot say refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mergepatch.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    return v;
}

static void check_apply(const char *target, const char *patch, const char *want)
{
    json_t *t = J(target), *p = J(patch), *w = J(want);
    json_t *r = mergepatch_apply(t, p);
    assert_non_null(r);
    if (!json_equal(r, w)) {
        char *got = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("apply %s to %s: got %s, want %s", patch, target, got, want);
    }
    json_decref(t);
    json_decref(p);
    json_decref(w);
    json_decref(r);
}

/* RFC 7396 appendix A */
static void test_mergepatch_rfc_examples(void **state)
{
    (void)state;
    check_apply("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_apply("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    check_apply("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    check_apply("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    check_apply("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_apply("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    check_apply("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
    check_apply("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    check_apply("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    check_apply("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    check_apply("{\"a\":\"foo\"}", "null", "null");
    check_apply("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    check_apply("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    check_apply("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    check_apply("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

/* diff(from, to) applied to from gives to, and says only what changed */
static void check_diff(const char *from, const char *to, const char *want_patch)
{
    json_t *f = J(from), *t = J(to);
    json_t *p = mergepatch_diff(f, t);
    assert_non_null(p);
    if (want_patch) {
        json_t *w = J(want_patch);
        if (!json_equal(p, w)) {
            char *got = json_dumps(p, JSON_COMPACT);
            fail_msg("diff %s -> %s: got %s, want %s", from, to, got, want_patch);
        }
        json_decref(w);
    }
    json_t *r = mergepatch_apply(f, p);
    assert_true(json_equal(r, t));
    json_decref(r);
    json_decref(p);
    json_decref(f);
    json_decref(t);
}

static void test_mergepatch_diff_rebuilds(void **state)
{
    (void)state;
    check_diff("{\"n\":1,\"a\":\"x\",\"b\":[1,2]}", "{\"n\":2,\"a\":\"x\",\"b\":[1,2]}", "{\"n\":2}");
    check_diff("{\"n\":1,\"gone\":true}", "{\"n\":1,\"new\":{\"k\":1}}", "{\"gone\":null,\"new\":{\"k\":1}}");
    check_diff("{\"o\":{\"a\":1,\"b\":2,\"c\":{\"d\":3}}}", "{\"o\":{\"a\":1,\"b\":5,\"c\":{}}}",
               "{\"o\":{\"b\":5,\"c\":{\"d\":null}}}");
    check_diff("{\"a\":[1,2,3]}", "{\"a\":[1,2]}", "{\"a\":[1,2]}"); /* arrays whole */
    check_diff("{\"a\":1}", "{\"a\":1}", "{}");
    check_diff("{\"a\":{\"x\":1}}", "{\"a\":7}", "{\"a\":7}");
    check_diff("{\"a\":7}", "{\"a\":{\"x\":1}}", "{\"a\":{\"x\":1}}");
    check_diff("{\"a\":[null]}", "{\"a\":[null,1]}", NULL); /* a null inside an array is a value */
}

static void test_mergepatch_diff_refuses(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"{\"a\":1}", "{\"a\":null}"},           /* a null member cannot be written in a patch */
        {"{}", "{\"a\":{\"b\":null}}"},          /* nor deep inside a new member */
        {"{\"a\":{\"b\":1}}", "{\"a\":{\"b\":null}}"},
        {"[1]", "{\"a\":1}"},                    /* not objects: no delta */
        {"{\"a\":1}", "\"str\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *f = J(cases[i][0]), *t = J(cases[i][1]);
        assert_null(mergepatch_diff(f, t));
        json_decref(f);
        json_decref(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mergepatch_rfc_examples),
        cmocka_unit_test(test_mergepatch_diff_rebuilds),
        cmocka_unit_test(test_mergepatch_diff_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
