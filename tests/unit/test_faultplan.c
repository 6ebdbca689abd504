/* test_faultplan.c — the fault timeline unrolled: windows, flapping, server
 * faults, ordering of simultaneous actions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/faultplan.h"

static void plan_of(const char *yaml, fplan_action **p, size_t *n, scenario *s)
{
    scn_diag d;
    scn_diag_init(&d);
    int rc = scenario_load_string("t.yaml", yaml, strlen(yaml), NULL, s, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    assert_int_equal(rc, 0);
    scn_diag_free(&d);
    char err[128];
    assert_int_equal(faultplan_build(s, p, n, err, sizeof err), 0);
}

#define S 1000000ULL

static void test_faultplan_windows_and_order(void **state)
{
    (void)state;
    scenario s;
    fplan_action *p;
    size_t n;
    plan_of("duration: 30s\nclients: [{count: 1}]\nfaults:\n"
            "  - {name: b, at: 10s, for: 5s, toxic: latency}\n"
            "  - {name: a, at: 5s, toxic: blackhole}\n"
            "  - {name: c, at: 15s, disconnect: 0.5}\n"
            "  - {name: d, at: 20s, for: 2s, server: kill}\n"
            "  - {name: e, at: 25s, for: 1s, server: pause}\n"
            "  - {name: f, at: 28s, server: restart}\n",
            &p, &n, &s);
    struct { uint64_t t; fplan_kind k; size_t f; } want[] = {
        {5 * S, FPLAN_TOXIC_ADD, 1},  {10 * S, FPLAN_TOXIC_ADD, 0},    {15 * S, FPLAN_TOXIC_REMOVE, 0},
        {15 * S, FPLAN_DISCONNECT, 2}, {20 * S, FPLAN_SERVER_KILL, 3}, {22 * S, FPLAN_SERVER_START, 3},
        {25 * S, FPLAN_SERVER_STOP, 4}, {26 * S, FPLAN_SERVER_CONT, 4}, {28 * S, FPLAN_SERVER_RESTART, 5},
    };
    assert_int_equal(n, sizeof want / sizeof *want);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p[i].t_us, want[i].t);
        assert_int_equal(p[i].kind, want[i].k);
        assert_int_equal(p[i].fault, want[i].f);
    }
    free(p);
    scenario_free(&s);
}

static void test_faultplan_flap(void **state)
{
    (void)state;
    scenario s;
    fplan_action *p;
    size_t n;
    /* on 1s, off 2s within [2s, 9s): on at 2, 5, 8; the last one is cut at 9. */
    plan_of("duration: 10s\nclients: [{count: 1}]\nfaults:\n"
            "  - {at: 2s, for: 7s, toxic: latency, flap: {on: 1s, off: 2s}}\n",
            &p, &n, &s);
    uint64_t t[] = {2, 3, 5, 6, 8, 9};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p[i].t_us, t[i] * S);
        assert_int_equal(p[i].kind, i % 2 ? FPLAN_TOXIC_REMOVE : FPLAN_TOXIC_ADD);
        assert_int_equal(p[i].cycle, i / 2);
    }
    free(p);
    scenario_free(&s);
}

static void test_faultplan_flap_until_end_and_pause(void **state)
{
    (void)state;
    scenario s;
    fplan_action *p;
    size_t n;
    plan_of("duration: 4s\nclients: [{count: 1}]\nfaults:\n"
            "  - {at: 1s, server: pause, for: 3s, flap: {on: 500ms, off: 500ms}}\n",
            &p, &n, &s);
    assert_int_equal(n, 6);
    assert_int_equal(p[0].kind, FPLAN_SERVER_STOP);
    assert_int_equal(p[1].kind, FPLAN_SERVER_CONT);
    assert_int_equal(p[1].t_us, 1500000);
    assert_int_equal(p[5].t_us, 3500000);
    free(p);
    scenario_free(&s);
}

static void test_faultplan_empty(void **state)
{
    (void)state;
    scenario s;
    fplan_action *p;
    size_t n;
    plan_of("duration: 4s\nclients: [{count: 1}]\n", &p, &n, &s);
    assert_int_equal(n, 0);
    free(p);
    scenario_free(&s);
    assert_string_equal(faultplan_kind_str(FPLAN_SERVER_STOP), "server_pause");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faultplan_windows_and_order),
        cmocka_unit_test(test_faultplan_flap),
        cmocka_unit_test(test_faultplan_flap_until_end_and_pause),
        cmocka_unit_test(test_faultplan_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
