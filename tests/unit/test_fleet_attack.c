/* test_fleet_attack.c — the attackers' tallies: expected outcomes by behaviour, settling, report.json's attack object and its exact merge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fleet_attack.h"
#include "report_merge.h"

static fleet_group_cfg group(fleet_behavior b)
{
    fleet_group_cfg g;
    memset(&g, 0, sizeof g);
    g.behavior = b;
    return g;
}

static void test_fleet_attack_default_expectations(void **state)
{
    (void)state;
    fleet_group_cfg f = group(FLEET_FLOOD), o = group(FLEET_OVERSIZED), s = group(FLEET_SLOWLORIS);
    assert_true(fleet_attack_expected(&f, 4429));
    assert_false(fleet_attack_expected(&f, 1000));
    assert_false(fleet_attack_expected(&f, 429));
    assert_true(fleet_attack_expected(&o, 1009));
    assert_false(fleet_attack_expected(&o, 413));
    o.attack.via_http = 1;
    assert_true(fleet_attack_expected(&o, 413));
    assert_false(fleet_attack_expected(&o, 1009));
    assert_true(fleet_attack_expected(&s, FLEET_OUTCOME_CLOSED));
    assert_true(fleet_attack_expected(&s, 408));
    assert_false(fleet_attack_expected(&s, FLEET_ATTACK_NOT_REJECTED));
    /* an explicit list replaces the default */
    f.attack.expect[0] = 1008;
    f.attack.n_expect = 1;
    assert_true(fleet_attack_expected(&f, 1008));
    assert_false(fleet_attack_expected(&f, 4429));
}

static void test_fleet_attack_settle_counts(void **state)
{
    (void)state;
    fleet_group_cfg g = group(FLEET_FLOOD);
    fleet_attack_tally t;
    assert_int_equal(fleet_attack_tally_init(&t), 0);
    fleet_attack_settle(&t, &g, 4429, 60000, 120, 50);
    fleet_attack_settle(&t, &g, 4429, 70000, 110, 50);
    fleet_attack_settle(&t, &g, 1000, 90000, 10, 10);                     /* another answer */
    fleet_attack_settle(&t, &g, FLEET_ATTACK_NOT_REJECTED, 5000000, 3000, 3000); /* let be */
    assert_int_equal(t.attempts, 4);
    assert_int_equal(t.rejected, 2);
    assert_int_equal(t.unexpected, 1);
    assert_int_equal(t.not_rejected, 1);
    assert_int_equal(t.sent, 3240);
    assert_int_equal(t.accepted, 3110);
    assert_int_equal(hist_count(t.cut), 3); /* answered attempts only */
    assert_int_equal(hist_max(t.cut), 90000);
    json_t *j = fleet_attack_json(&t, 7, &g);
    assert_int_equal(json_integer_value(json_object_get(j, "clients")), 7);
    json_t *by = json_object_get(j, "by_outcome");
    assert_int_equal(json_integer_value(json_object_get(by, "ws_4429")), 2);
    assert_int_equal(json_integer_value(json_object_get(by, "ws_1000")), 1);
    assert_int_equal(json_integer_value(json_object_get(by, "not_rejected")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "behavior")), "flood");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "expect"), 0)), "ws_4429");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "cut_us"), "max")), 90000);
    json_decref(j);
    fleet_attack_tally_free(&t);
}

static void test_fleet_attack_outcome_names(void **state)
{
    (void)state;
    char b[24];
    assert_string_equal(fleet_attack_outcome_name(4429, b, sizeof b), "ws_4429");
    assert_string_equal(fleet_attack_outcome_name(413, b, sizeof b), "http_413");
    assert_string_equal(fleet_attack_outcome_name(FLEET_OUTCOME_CLOSED, b, sizeof b), "closed");
    assert_string_equal(fleet_attack_outcome_name(FLEET_ATTACK_NOT_REJECTED, b, sizeof b), "not_rejected");
    assert_string_equal(fleet_behavior_str(FLEET_SLOWLORIS), "slowloris");
}

/* Two halves merged (tallies, or their JSON as workers' reports are) equal
 * one tally of everything. */
static void test_fleet_attack_merge_is_exact(void **state)
{
    (void)state;
    fleet_group_cfg g = group(FLEET_SLOWLORIS);
    fleet_attack_tally a, b, all;
    assert_int_equal(fleet_attack_tally_init(&a), 0);
    assert_int_equal(fleet_attack_tally_init(&b), 0);
    assert_int_equal(fleet_attack_tally_init(&all), 0);
    for (int i = 0; i < 100; i++) {
        int code = i % 10 == 0 ? 408 : FLEET_OUTCOME_CLOSED;
        uint64_t cut = 3000000 + (uint64_t)i * 1000;
        fleet_attack_settle(i % 2 ? &a : &b, &g, code, cut, 15, 0);
        fleet_attack_settle(&all, &g, code, cut, 15, 0);
    }
    b.in_flight = 3;
    all.in_flight = 3;
    json_t *ja = fleet_attack_json(&a, 5, &g), *jb = fleet_attack_json(&b, 5, NULL), *jall = fleet_attack_json(&all, 10, &g);
    char err[128];
    assert_int_equal(rmerge_attack(ja, jb, "b", err, sizeof err), 0);
    json_t *sa = json_object_get(ja, "cut_us"), *sall = json_object_get(jall, "cut_us");
    static const char *const keys[] = {"count", "p50", "p95", "p99", "max"};
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(json_integer_value(json_object_get(sa, keys[k])),
                         json_integer_value(json_object_get(sall, keys[k])));
    static const char *const counts[] = {"clients", "attempts", "rejected", "in_flight", "sent"};
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(json_integer_value(json_object_get(ja, counts[k])),
                         json_integer_value(json_object_get(jall, counts[k])));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ja, "by_outcome"), "http_408")), 10);
    assert_string_equal(json_string_value(json_object_get(ja, "behavior")), "slowloris");
    fleet_attack_tally_merge(&a, &b);
    assert_int_equal(a.attempts, all.attempts);
    assert_int_equal(hist_percentile(a.cut, 99), hist_percentile(all.cut, 99));
    json_decref(ja);
    json_decref(jb);
    json_decref(jall);
    fleet_attack_tally_free(&a);
    fleet_attack_tally_free(&b);
    fleet_attack_tally_free(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet_attack_default_expectations),
        cmocka_unit_test(test_fleet_attack_settle_counts),
        cmocka_unit_test(test_fleet_attack_outcome_names),
        cmocka_unit_test(test_fleet_attack_merge_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
