/* test_sec_policy.c — policy file parsing and decisions: placeholders bound
 * from claims, wildcards, roles, deny by default, tenant isolation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_policy.h"

static const char POLICY[] =
    "{\"comment\": \"test policy\",\n"
    " \"rules\": [\n"
    "  {\"channel\": \"tenant.{tenant}.orders.*\", \"subscribe\": [\"reader\", \"trader\"],\n"
    "   \"publish\": [\"trader\"], \"sensitive\": true},\n"
    "  {\"channel\": \"tenant.{tenant}.**\", \"subscribe\": [\"@authenticated\"]},\n"
    "  {\"channel\": \"user.{sub}.inbox\", \"subscribe\": [\"@authenticated\"],\n"
    "   \"publish\": [\"@authenticated\"]},\n"
    "  {\"channel\": \"public.news\", \"subscribe\": [\"@anyone\"], \"publish\": [\"editor\"]},\n"
    "  {\"channel\": \"blocked.**\", \"subscribe\": []}\n"
    " ],\n"
    " \"admin\": [\"admin\"]}\n";

static sec_policy *P;

static int setup(void **state)
{
    (void)state;
    char err[256];
    P = sec_policy_load_mem(POLICY, strlen(POLICY), "test", err, sizeof err);
    if (!P)
        fail_msg("%s", err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sec_policy_free(P);
    return 0;
}

static sec_principal who(const char *sub, const char *tenant, const char *role)
{
    sec_principal p;
    sec_principal_anonymous(&p);
    p.authenticated = 1;
    snprintf(p.sub, sizeof p.sub, "%s", sub);
    snprintf(p.tenant, sizeof p.tenant, "%s", tenant);
    if (role) {
        snprintf(p.roles[0], sizeof p.roles[0], "%s", role);
        p.nroles = 1;
    }
    return p;
}

static sec_policy_decision decide(const sec_principal *p, const char *ch, sec_action a)
{
    sec_policy_decision d;
    sec_policy_check(P, p, ch, strlen(ch), a, &d);
    return d;
}

static void test_sec_policy_tenant_placeholder_binds_claim(void **state)
{
    (void)state;
    sec_principal a = who("alice", "acme", "reader");
    sec_policy_decision d = decide(&a, "tenant.acme.orders.42", SEC_ACT_SUBSCRIBE);
    assert_int_equal(d.allow, 1);
    assert_int_equal(d.rule, 0);
    assert_int_equal(d.sensitive, 1);
    d = decide(&a, "tenant.acme.orders.42", SEC_ACT_PUBLISH);
    assert_int_equal(d.allow, 0);
    assert_int_equal(d.reason, SEC_POLICY_NO_ROLE);
    sec_principal t = who("tom", "acme", "trader");
    assert_int_equal(decide(&t, "tenant.acme.orders.42", SEC_ACT_PUBLISH).allow, 1);
}

static void test_sec_policy_other_tenant_denied_whatever_the_name(void **state)
{
    (void)state;
    sec_principal b = who("bob", "globex", "trader");
    const char *names[] = {
        "tenant.acme.orders.42", "tenant.acme.prices", "tenant.acme", "tenant.globex.acme.orders.1x",
        "tenant.acme.orders.*", "tenant.*.orders.42", "tenant..acme.orders.1", "tenant.acme..orders",
        "tenant.ACME.orders.1", "tenant.acme .orders.1", "tenant.acme\x00.orders", "tenant.globex/../acme.orders.1",
        "tenant.%61cme.orders.1", "tenant.{tenant}.orders.1", "tenant.acme.orders.1.",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        for (int a = 0; a < 2; a++) {
            sec_policy_decision d = decide(&b, names[i], (sec_action)a);
            int legit_own = strncmp(names[i], "tenant.globex.", 14) == 0;
            if (d.allow && !legit_own)
                fail_msg("globex principal allowed %d on %s", a, names[i]);
        }
    }
    /* its own tenant's deeper channels match rule 1, read-only */
    assert_int_equal(decide(&b, "tenant.globex.acme.orders.1x", SEC_ACT_SUBSCRIBE).allow, 1);
    assert_int_equal(decide(&b, "tenant.globex.acme.orders.1x", SEC_ACT_PUBLISH).allow, 0);
}

static void test_sec_policy_principal_without_tenant_matches_no_placeholder(void **state)
{
    (void)state;
    sec_principal n = who("nat", "", "trader");
    assert_int_equal(decide(&n, "tenant.acme.orders.1", SEC_ACT_SUBSCRIBE).allow, 0);
    assert_int_equal(decide(&n, "tenant..orders.1", SEC_ACT_SUBSCRIBE).allow, 0);
}

static void test_sec_policy_sub_placeholder(void **state)
{
    (void)state;
    sec_principal a = who("alice", "acme", NULL);
    assert_int_equal(decide(&a, "user.alice.inbox", SEC_ACT_PUBLISH).allow, 1);
    assert_int_equal(decide(&a, "user.bob.inbox", SEC_ACT_SUBSCRIBE).allow, 0);
    /* a subject that is not a valid segment never matches */
    sec_principal e = who("a.b", "acme", NULL);
    assert_int_equal(decide(&e, "user.a.b.inbox", SEC_ACT_SUBSCRIBE).allow, 0);
}

static void test_sec_policy_anonymous_and_default_deny(void **state)
{
    (void)state;
    sec_principal anon;
    sec_principal_anonymous(&anon);
    sec_policy_decision d = decide(&anon, "public.news", SEC_ACT_SUBSCRIBE);
    assert_int_equal(d.allow, 1);
    d = decide(&anon, "public.news", SEC_ACT_PUBLISH);
    assert_int_equal(d.allow, 0);
    assert_int_equal(d.reason, SEC_POLICY_ANONYMOUS);
    d = decide(&anon, "tenant.acme.orders.1", SEC_ACT_SUBSCRIBE);
    assert_int_equal(d.reason, SEC_POLICY_ANONYMOUS);
    sec_principal a = who("alice", "acme", "reader");
    d = decide(&a, "nothing.matches", SEC_ACT_SUBSCRIBE);
    assert_int_equal(d.allow, 0);
    assert_int_equal(d.reason, SEC_POLICY_NO_RULE);
    assert_int_equal(d.rule, -1);
    d = decide(&a, "blocked.x.y", SEC_ACT_SUBSCRIBE);
    assert_int_equal(d.reason, SEC_POLICY_NO_ROLE);
    d = decide(&a, "bad..name", SEC_ACT_SUBSCRIBE);
    assert_int_equal(d.reason, SEC_POLICY_BAD_CHANNEL);
    /* no policy at all: deny */
    sec_policy_check(NULL, &a, "public.news", 11, SEC_ACT_SUBSCRIBE, &d);
    assert_int_equal(d.allow, 0);
}

static void test_sec_policy_wildcard_arity(void **state)
{
    (void)state;
    sec_principal a = who("alice", "acme", "reader");
    /* `*` is exactly one segment: orders itself and orders.x.y fall to rule 1 */
    assert_int_equal(decide(&a, "tenant.acme.orders.x", SEC_ACT_SUBSCRIBE).rule, 0);
    assert_int_equal(decide(&a, "tenant.acme.orders", SEC_ACT_SUBSCRIBE).rule, 1);
    assert_int_equal(decide(&a, "tenant.acme.orders.x.y", SEC_ACT_SUBSCRIBE).rule, 1);
    /* `**` needs at least one segment */
    assert_int_equal(decide(&a, "tenant.acme", SEC_ACT_SUBSCRIBE).rule, -1);
}

static void test_sec_policy_admin(void **state)
{
    (void)state;
    sec_principal adm = who("root", "", "admin");
    sec_principal a = who("alice", "acme", "reader");
    sec_principal anon;
    sec_principal_anonymous(&anon);
    assert_true(sec_policy_admin_allowed(P, &adm));
    assert_false(sec_policy_admin_allowed(P, &a));
    assert_false(sec_policy_admin_allowed(P, &anon));
    assert_false(sec_policy_admin_allowed(NULL, &adm));
}

static void test_sec_policy_load_errors_say_where(void **state)
{
    (void)state;
    struct { const char *json, *want; } cases[] = {
        { "{\"rules\": [", "test:1:" },
        { "[]", "must be a JSON object" },
        { "{}", "\"rules\" must be an array" },
        { "{\"rules\":[],\"rulez\":1}", "unknown key 'rulez'" },
        { "{\"rules\":[{\"subscribe\":[]}]}", "rules[0]: \"channel\" is required" },
        { "{\"rules\":[{\"channel\":\"a.*x\"}]}", "rules[0].channel" },
        { "{\"rules\":[{\"channel\":\"a.**.b\"}]}", "'**' must be the last" },
        { "{\"rules\":[{\"channel\":\"a..b\"}]}", "empty segment" },
        { "{\"rules\":[{\"channel\":\"t.{team}\"}]}", "unknown placeholder" },
        { "{\"rules\":[{\"channel\":\"a\",\"subscribe\":\"reader\"}]}", "rules[0].subscribe" },
        { "{\"rules\":[{\"channel\":\"a\",\"subscribe\":[\"@everyone\"]}]}", "unknown '@everyone'" },
        { "{\"rules\":[{\"channel\":\"a\",\"publish\":[5]}]}", "rules[0].publish[0]" },
        { "{\"rules\":[{\"channel\":\"a\",\"sensitive\":1}]}", "true or false" },
        { "{\"rules\":[{\"channel\":\"a\",\"subscibe\":[]}]}", "unknown key" },
        { "{\"rules\":[{\"channel\":\"a\"},{\"channel\":\"a\",\"channel\":\"b\"}]}", "duplicate" },
        { "{\"rules\":[], \"admin\": {}}", "admin" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[256] = "";
        sec_policy *p = sec_policy_load_mem(cases[i].json, strlen(cases[i].json), "test", err,
                                            sizeof err);
        if (p)
            fail_msg("accepted %s", cases[i].json);
        if (!strstr(err, cases[i].want))
            fail_msg("for %s: error '%s' lacks '%s'", cases[i].json, err, cases[i].want);
    }
}

static void test_sec_policy_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_sec_policy.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(POLICY, f);
    fclose(f);
    char err[256];
    sec_policy *p = sec_policy_load_file(path, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(sec_policy_nrules(p), 5);
    sec_policy_free(p);
    remove(path);
    assert_null(sec_policy_load_file(path, err, sizeof err));
    assert_non_null(strstr(err, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_policy_tenant_placeholder_binds_claim),
        cmocka_unit_test(test_sec_policy_other_tenant_denied_whatever_the_name),
        cmocka_unit_test(test_sec_policy_principal_without_tenant_matches_no_placeholder),
        cmocka_unit_test(test_sec_policy_sub_placeholder),
        cmocka_unit_test(test_sec_policy_anonymous_and_default_deny),
        cmocka_unit_test(test_sec_policy_wildcard_arity),
        cmocka_unit_test(test_sec_policy_admin),
        cmocka_unit_test(test_sec_policy_load_errors_say_where),
        cmocka_unit_test(test_sec_policy_load_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
