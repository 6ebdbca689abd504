/* test_flags.c — feature flag rules: pattern evaluation, override order,
 * priority shedding, validation of changes (all-or-nothing), JSON form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "flags.h"

static flags F;

static int setup(void **state)
{
    (void)state;
    flags_init(&F, SENDQ_DROP);
    return 0;
}

static int apply(const char *text)
{
    char err[256];
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    assert_non_null(j);
    int rc = flags_apply_json(&F, j, err, sizeof(err));
    if (rc)
        assert_true(strlen(err) > 0);
    json_decref(j);
    return rc;
}

static void test_flags_defaults_and_patterns(void **state)
{
    (void)state;
    flags_eval e;
    flags_evaluate(&F, "any", &e);
    assert_true(e.enabled);
    assert_int_equal(e.priority, PRIO_NORMAL);
    assert_int_equal(e.policy, SENDQ_DROP);
    assert_int_equal(apply("{\"pattern\":\"news.*\",\"enabled\":false,\"policy\":\"coalesce\"}"), 0);
    assert_int_equal(apply("{\"pattern\":\"news.sport\",\"enabled\":true}"), 0);
    flags_evaluate(&F, "news.world", &e);
    assert_false(e.enabled);
    assert_int_equal(e.policy, SENDQ_COALESCE);
    flags_evaluate(&F, "news.sport", &e); /* later rule wins, field by field */
    assert_true(e.enabled);
    assert_int_equal(e.policy, SENDQ_COALESCE);
    flags_evaluate(&F, "newsX", &e);
    assert_true(e.enabled);
    /* same pattern replaces; delete removes */
    assert_int_equal(apply("{\"pattern\":\"news.*\",\"priority\":\"low\"}"), 0);
    assert_int_equal(F.n, 2);
    flags_evaluate(&F, "news.world", &e);
    assert_true(e.enabled);
    assert_int_equal(e.policy, SENDQ_DROP);
    assert_int_equal(apply("{\"pattern\":\"news.sport\",\"delete\":true}"), 0);
    assert_int_equal(F.n, 1);
}

static void test_flags_shedding(void **state)
{
    (void)state;
    flags_eval e;
    assert_int_equal(apply("[{\"pattern\":\"low.*\",\"priority\":\"low\"},"
                           "{\"pattern\":\"crit.*\",\"priority\":\"critical\"}]"), 0);
    assert_int_equal(apply("{\"shed_below\":\"normal\"}"), 0);
    flags_evaluate(&F, "low.a", &e);
    assert_false(e.enabled);
    flags_evaluate(&F, "plain", &e);
    assert_true(e.enabled);
    assert_int_equal(apply("{\"shed_below\":\"critical\"}"), 0);
    flags_evaluate(&F, "plain", &e);
    assert_false(e.enabled);
    flags_evaluate(&F, "crit.a", &e);
    assert_true(e.enabled);
    assert_int_equal(apply("{\"shed_below\":\"low\"}"), 0);
    flags_evaluate(&F, "low.a", &e);
    assert_true(e.enabled);
}

static void test_flags_rejects_bad_changes_atomically(void **state)
{
    (void)state;
    const char *bad[] = {"{}", "[1]", "{\"pattern\":\"\"}", "{\"pattern\":5}",
                         "{\"pattern\":\"a\",\"enabled\":1}", "{\"pattern\":\"a\",\"priority\":\"top\"}",
                         "{\"pattern\":\"a\",\"policy\":\"yes\"}", "{\"pattern\":\"a\",\"x\":1}",
                         "{\"shed_below\":\"normal\",\"pattern\":\"a\"}", "{\"shed_below\":\"x\"}",
                         "\"str\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(apply(bad[i]), -1);
    assert_int_equal(apply("[{\"pattern\":\"ok\",\"enabled\":false},{\"pattern\":7}]"), -1);
    assert_int_equal(F.n, 0); /* nothing of the bad batch applied */
    for (int i = 0; i < FLAGS_MAX_RULES; i++) {
        char r[64];
        snprintf(r, sizeof(r), "{\"pattern\":\"p%d\",\"enabled\":true}", i);
        assert_int_equal(apply(r), 0);
    }
    assert_int_equal(apply("{\"pattern\":\"one-more\",\"enabled\":true}"), -1);
    assert_int_equal(apply("{\"pattern\":\"p3\",\"enabled\":false}"), 0); /* replacing is fine */
}

static void test_flags_json_round_trip(void **state)
{
    (void)state;
    assert_int_equal(apply("{\"pattern\":\"t.*\",\"policy\":\"snapshot\",\"priority\":\"low\"}"), 0);
    json_t *j = flags_to_json(&F);
    json_t *rules = json_object_get(j, "rules");
    assert_int_equal(json_array_size(rules), 1);
    flags g;
    char err[128];
    flags_init(&g, SENDQ_DROP);
    assert_int_equal(flags_apply_json(&g, rules, err, sizeof(err)), 0);
    assert_memory_equal(&g.rules[0], &F.rules[0], sizeof(flags_rule));
    assert_string_equal(json_string_value(json_object_get(j, "shed_below")), "low");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_flags_defaults_and_patterns, setup),
        cmocka_unit_test_setup(test_flags_shedding, setup),
        cmocka_unit_test_setup(test_flags_rejects_bad_changes_atomically, setup),
        cmocka_unit_test_setup(test_flags_json_round_trip, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
