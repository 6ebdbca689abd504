/* test_sec_gate.c — the server's security decisions end to end on files:
 * open mode, auth only, auth + policy (tenant isolation), expiry and
 * refresh, rate limits, storm guard, admin, metrics and the audit trail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sec_gate.h"

#define NOW 1800000000LL
#define T0 1000000ULL
static const char SECRET[] = "gate-test-secret-0123456789abcdef0123456789";
static char dir[64], secret_path[96], policy_path[96], audit_path[96], revoked_path[96];

static const char POLICY[] =
    "{\"rules\": ["
    " {\"channel\": \"tenant.{tenant}.orders.*\", \"subscribe\": [\"reader\"], \"publish\": [\"trader\"],"
    "  \"sensitive\": true},"
    " {\"channel\": \"tenant.{tenant}.**\", \"subscribe\": [\"@authenticated\"], \"publish\": [\"trader\"]},"
    " {\"channel\": \"public.**\", \"subscribe\": [\"@anyone\"]}],"
    " \"admin\": [\"admin\"]}";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_sec_gate.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(secret_path, sizeof secret_path, "%s/secret", dir);
    snprintf(policy_path, sizeof policy_path, "%s/policy.json", dir);
    snprintf(audit_path, sizeof audit_path, "%s/audit.jsonl", dir);
    snprintf(revoked_path, sizeof revoked_path, "%s/revoked.txt", dir);
    write_file(secret_path, SECRET);
    write_file(policy_path, POLICY);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(secret_path);
    unlink(policy_path);
    unlink(audit_path);
    unlink(revoked_path);
    rmdir(dir);
    return 0;
}

static char *mint(const char *claims)
{
    jwt_t *j;
    jwt_new(&j);
    assert_int_equal(jwt_add_grants_json(j, claims), 0);
    jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET));
    char *t = jwt_encode_str(j);
    jwt_free(j);
    return t;
}

static sec_gate *gate(int auth, int policy, sec_gate_cfg extra)
{
    char err[256];
    sec_gate_cfg cfg = extra;
    if (auth)
        cfg.jwt_secret_file = secret_path;
    if (policy)
        cfg.policy_file = policy_path;
    cfg.audit_file = audit_path;
    sec_gate *g = sec_gate_new(&cfg, 1, err, sizeof err);
    if (!g)
        fail_msg("%s", err);
    return g;
}

static sec_verdict conn(sec_gate *g, sec_conn *c, const char *claims, const char *remote)
{
    char err[256];
    uint32_t retry = 0;
    char *t = claims ? mint(claims) : NULL;
    sec_verdict v = sec_gate_connect(g, c, SEC_T_WS, remote, t, t ? strlen(t) : 0, NOW, T0, &retry,
                                     err, sizeof err);
    free(t);
    return v;
}

static sec_verdict sub(sec_gate *g, sec_conn *c, const char *ch)
{
    char err[256];
    return sec_gate_subscribe(g, c, ch, NOW, T0, err, sizeof err);
}

static sec_verdict pub(sec_gate *g, sec_conn *c, const char *ch, uint64_t mono)
{
    char err[256];
    uint32_t retry;
    return sec_gate_publish(g, c, ch, NOW, mono, &retry, err, sizeof err);
}

#define ALICE "{\"sub\":\"alice\",\"tenant\":\"acme\",\"roles\":[\"reader\"],\"exp\":1800000100}"
#define BOB "{\"sub\":\"bob\",\"tenant\":\"globex\",\"roles\":[\"reader\",\"trader\"],\"exp\":1800000100}"

static void test_sec_gate_open_mode_allows_valid_names(void **state)
{
    (void)state;
    sec_gate *g = gate(0, 0, (sec_gate_cfg){ 0 });
    sec_conn c;
    assert_false(sec_gate_auth_enabled(g));
    assert_int_equal(conn(g, &c, NULL, "127.0.0.1"), SEC_ALLOW);
    assert_int_equal(sub(g, &c, "anything.at.all"), SEC_ALLOW);
    assert_int_equal(pub(g, &c, "orders", T0), SEC_ALLOW);
    assert_int_equal(sub(g, &c, "bad..name"), SEC_ALLOW); /* the server's to refuse (400) */
    sec_gate_free(g);
}

static void test_sec_gate_auth_only_needs_a_valid_token(void **state)
{
    (void)state;
    sec_gate *g = gate(1, 0, (sec_gate_cfg){ 0 });
    sec_conn c;
    char err[256];
    uint32_t retry;
    assert_int_equal(conn(g, &c, NULL, "127.0.0.1"), SEC_UNAUTHORIZED);
    assert_int_equal(sec_gate_connect(g, &c, SEC_T_SSE, "127.0.0.1", "x.y.z", 5, NOW, T0, &retry,
                                      err, sizeof err),
                     SEC_UNAUTHORIZED);
    assert_non_null(strstr(err, "invalid token"));
    assert_int_equal(conn(g, &c, "{\"sub\":\"a\",\"exp\":1700000000}", "127.0.0.1"), SEC_UNAUTHORIZED);
    assert_int_equal(conn(g, &c, ALICE, "127.0.0.1"), SEC_ALLOW);
    assert_string_equal(c.who.sub, "alice");
    assert_int_equal(sub(g, &c, "tenant.globex.x"), SEC_ALLOW); /* no policy: no isolation */
    sec_gate_free(g);
}

static void test_sec_gate_policy_isolates_tenants(void **state)
{
    (void)state;
    sec_gate *g = gate(1, 1, (sec_gate_cfg){ 0 });
    sec_conn a, b, anon;
    assert_int_equal(conn(g, &a, ALICE, "10.0.0.1"), SEC_ALLOW);
    assert_int_equal(conn(g, &b, BOB, "10.0.0.2"), SEC_ALLOW);
    /* the policy grants public.** to @anyone, so anonymous may connect */
    assert_int_equal(conn(g, &anon, NULL, "10.0.0.3"), SEC_ALLOW);
    assert_int_equal(sub(g, &a, "tenant.acme.orders.1"), SEC_ALLOW);
    assert_int_equal(sub(g, &b, "tenant.acme.orders.1"), SEC_FORBIDDEN);
    assert_int_equal(sub(g, &b, "tenant.acme.prices"), SEC_FORBIDDEN);
    assert_int_equal(sub(g, &b, "tenant.globex.orders.1"), SEC_ALLOW);
    assert_int_equal(pub(g, &a, "tenant.acme.orders.1", T0), SEC_FORBIDDEN); /* reader only */
    assert_int_equal(pub(g, &b, "tenant.globex.orders.1", T0), SEC_ALLOW);
    assert_int_equal(sub(g, &anon, "public.news"), SEC_ALLOW);
    assert_int_equal(sub(g, &anon, "tenant.acme.orders.1"), SEC_UNAUTHORIZED);
    assert_int_equal(sub(g, &b, "tenant.acme.*"), SEC_FORBIDDEN);
    sec_gate_free(g);
}

static void test_sec_gate_expiry_and_refresh(void **state)
{
    (void)state;
    sec_gate *g = gate(1, 1, (sec_gate_cfg){ 0 });
    sec_conn a;
    char err[256];
    assert_int_equal(conn(g, &a, ALICE, "10.0.0.1"), SEC_ALLOW);
    assert_false(sec_gate_expired(g, &a, NOW + 99, T0));
    assert_true(sec_gate_expired(g, &a, NOW + 100, T0));
    assert_int_equal(sec_gate_subscribe(g, &a, "tenant.acme.orders.1", NOW + 100, T0, err, sizeof err),
                     SEC_UNAUTHORIZED);
    /* a fresh token for the same subject extends the connection */
    char *fresh = mint("{\"sub\":\"alice\",\"tenant\":\"acme\",\"roles\":[\"reader\"],\"exp\":1800000500}");
    assert_int_equal(sec_gate_refresh(g, &a, fresh, strlen(fresh), NOW + 100, T0, err, sizeof err), SEC_ALLOW);
    assert_false(sec_gate_expired(g, &a, NOW + 100, T0));
    assert_int_equal(sec_gate_subscribe(g, &a, "tenant.acme.orders.1", NOW + 100, T0, err, sizeof err),
                     SEC_ALLOW);
    /* another subject's token does not switch identities */
    char *other = mint(BOB);
    assert_int_equal(sec_gate_refresh(g, &a, other, strlen(other), NOW, T0, err, sizeof err), SEC_FORBIDDEN);
    assert_string_equal(a.who.sub, "alice");
    assert_int_equal(sec_gate_refresh(g, &a, "junk", 4, NOW, T0, err, sizeof err), SEC_UNAUTHORIZED);
    assert_string_equal(a.who.sub, "alice");
    assert_int_equal(a.who.exp_s, 1800000500);
    free(fresh);
    free(other);
    sec_gate_free(g);
}

static void test_sec_gate_rate_limits(void **state)
{
    (void)state;
    sec_gate_cfg lim = { .conn_per_addr = { 1, 2 }, .msg_per_conn = { 10, 3 },
                         .pub_per_account = { 1, 2 } };
    sec_gate *g = gate(1, 1, lim);
    sec_conn c1, c2, c3;
    char err[256];
    uint32_t retry = 0;
    assert_int_equal(conn(g, &c1, BOB, "10.0.0.9"), SEC_ALLOW);
    assert_int_equal(conn(g, &c2, BOB, "10.0.0.9"), SEC_ALLOW);
    assert_int_equal(sec_gate_connect(g, &c3, SEC_T_WS, "10.0.0.9", NULL, 0, NOW, T0, &retry, err,
                                      sizeof err),
                     SEC_RATE_LIMITED);
    assert_int_equal(retry, 1000);
    assert_int_equal(conn(g, &c3, BOB, "10.0.0.10"), SEC_ALLOW); /* another address */
    for (int i = 0; i < 3; i++)
        assert_int_equal(sec_gate_message(g, &c1, T0, &retry, err, sizeof err), SEC_ALLOW);
    assert_int_equal(sec_gate_message(g, &c1, T0, &retry, err, sizeof err), SEC_RATE_LIMITED);
    assert_int_equal(retry, 100);
    assert_int_equal(sec_gate_message(g, &c2, T0, &retry, err, sizeof err), SEC_ALLOW);
    /* the publish budget is per subject, across its connections */
    assert_int_equal(pub(g, &c1, "tenant.globex.orders.1", T0), SEC_ALLOW);
    assert_int_equal(pub(g, &c2, "tenant.globex.orders.1", T0), SEC_ALLOW);
    assert_int_equal(pub(g, &c3, "tenant.globex.orders.1", T0), SEC_RATE_LIMITED);
    assert_int_equal(pub(g, &c3, "tenant.globex.orders.1", T0 + 1000000), SEC_ALLOW);
    sec_gate_free(g);
}

static void test_sec_gate_storm_guard(void **state)
{
    (void)state;
    sec_gate_cfg cfg = { .storm = { .new_conns = { 10, 5 }, .max_pending = 3, .retry_min_ms = 1000 } };
    sec_gate *g = gate(0, 0, cfg);
    uint32_t retry;
    for (int i = 0; i < 3; i++)
        assert_int_equal(sec_gate_admit(g, T0, &retry), SEC_ALLOW);
    assert_int_equal(sec_gate_admit(g, T0, &retry), SEC_OVERLOADED);
    sec_gate_settled(g);
    sec_gate_settled(g);
    assert_int_equal(sec_gate_admit(g, T0, &retry), SEC_ALLOW);
    assert_int_equal(sec_gate_admit(g, T0, &retry), SEC_ALLOW);
    sec_gate_settled(g);
    assert_int_equal(sec_gate_admit(g, T0, &retry), SEC_OVERLOADED); /* 5 per burst used */
    assert_true(retry >= 1000);
    sec_gate_free(g);
}

static void test_sec_gate_admin(void **state)
{
    (void)state;
    sec_gate *g = gate(1, 1, (sec_gate_cfg){ 0 });
    sec_conn adm, a, anon;
    char err[256];
    assert_int_equal(conn(g, &adm, "{\"sub\":\"root\",\"roles\":[\"admin\"],\"exp\":1800000100}", "1.1.1.1"),
                     SEC_ALLOW);
    assert_int_equal(conn(g, &a, ALICE, "1.1.1.2"), SEC_ALLOW);
    assert_int_equal(conn(g, &anon, NULL, "1.1.1.3"), SEC_ALLOW);
    assert_int_equal(sec_gate_admin(g, &adm, "admin.flags", "{\"pattern\":\"x\"}", T0, err, sizeof err), SEC_ALLOW);
    assert_int_equal(sec_gate_admin(g, &a, "admin.flags", NULL, T0, err, sizeof err), SEC_FORBIDDEN);
    assert_int_equal(sec_gate_admin(g, &anon, "admin.flags", NULL, T0, err, sizeof err), SEC_UNAUTHORIZED);
    sec_gate_free(g);
}

static void test_sec_gate_metrics_and_tenant_gauge(void **state)
{
    (void)state;
    sec_gate *g = gate(1, 1, (sec_gate_cfg){ 0 });
    sec_conn a1, a2, b;
    assert_int_equal(conn(g, &a1, ALICE, "10.0.0.1"), SEC_ALLOW);
    assert_int_equal(conn(g, &a2, ALICE, "10.0.0.1"), SEC_ALLOW);
    assert_int_equal(conn(g, &b, BOB, "10.0.0.2"), SEC_ALLOW);
    assert_int_equal(sub(g, &b, "tenant.acme.orders.1"), SEC_FORBIDDEN);
    sec_conn bad;
    assert_int_equal(conn(g, &bad, "{\"sub\":\"a\",\"exp\":1700000000}", "10.0.0.3"), SEC_UNAUTHORIZED);
    sec_gate_disconnect(g, &a2);
    sec_gate_disconnect(g, &a2); /* twice is harmless */
    char buf[16384];
    assert_true(sec_gate_metrics(g, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "rtchaos_sec_tenant_connections{tenant=\"acme\"} 1\n"));
    assert_non_null(strstr(buf, "rtchaos_sec_tenant_connections{tenant=\"globex\"} 1\n"));
    assert_non_null(strstr(buf, "rtchaos_sec_auth_rejections_total{reason=\"expired\"} 1\n"));
    assert_non_null(strstr(buf, "rtchaos_sec_authz_denials_total{action=\"subscribe\",reason=\"no_rule\"} 1\n"));
    assert_int_equal(sec_gate_metrics(g, buf, 100), -1);
    sec_gate_free(g);
}

static void test_sec_gate_audit_trail(void **state)
{
    (void)state;
    unlink(audit_path);
    sec_gate *g = gate(1, 1, (sec_gate_cfg){ 0 });
    sec_conn a, b;
    assert_int_equal(conn(g, &a, ALICE, "10.0.0.1"), SEC_ALLOW);
    assert_int_equal(conn(g, &b, BOB, "10.0.0.2"), SEC_ALLOW);
    assert_int_equal(sub(g, &a, "tenant.acme.orders.7"), SEC_ALLOW);  /* sensitive: audited */
    assert_int_equal(sub(g, &a, "tenant.acme.misc"), SEC_ALLOW);      /* not audited */
    assert_int_equal(sub(g, &b, "tenant.acme.orders.7"), SEC_FORBIDDEN);
    char *bad = mint("{\"sub\":\"m\",\"exp\":1700000000}");
    sec_conn m;
    char err[256];
    uint32_t retry;
    assert_int_equal(sec_gate_connect(g, &m, SEC_T_SSE, "10.0.0.4", bad, strlen(bad), NOW, T0, &retry, err,
                                      sizeof err),
                     SEC_UNAUTHORIZED);
    sec_gate_free(g);
    FILE *f = fopen(audit_path, "r");
    assert_non_null(f);
    char all[8192];
    size_t n = fread(all, 1, sizeof all - 1, f);
    all[n] = 0;
    fclose(f);
    assert_null(strstr(all, bad));
    assert_null(strstr(all, "eyJ"));
    assert_non_null(strstr(all, "\"action\":\"subscribe\",\"outcome\":\"allow\""));
    assert_non_null(strstr(all, "\"ch\":\"tenant.acme.orders.7\""));
    assert_non_null(strstr(all, "\"sub\":\"bob\""));
    assert_non_null(strstr(all, "\"reason\":\"no_rule\""));
    assert_non_null(strstr(all, "\"reason\":\"expired\""));
    assert_null(strstr(all, "tenant.acme.misc"));
    int lines = 0;
    for (char *p = all; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    free(bad);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char all[65536];
    size_t n = fread(all, 1, sizeof all - 1, f);
    all[n] = 0;
    fclose(f);
    return all;
}

static sec_gate *gate_with_revocations(const char *revoked)
{
    char err[256];
    unlink(audit_path);
    write_file(revoked_path, revoked);
    sec_gate_cfg cfg = { .jwt_secret_file = secret_path, .policy_file = policy_path,
                         .revoked_file = revoked_path, .audit_file = audit_path };
    sec_gate *g = sec_gate_new(&cfg, 1, err, sizeof err);
    if (!g)
        fail_msg("%s", err);
    return g;
}

#define CAROL_JTI "{\"sub\":\"carol\",\"tenant\":\"acme\",\"roles\":[\"reader\"],\"jti\":\"t-42\",\"exp\":1800000100}"

static void test_sec_gate_revoked_tokens_refused(void **state)
{
    (void)state;
    sec_gate *g = gate_with_revocations("jti t-42\nsub mallory\n");
    sec_conn c;
    char err[256];
    assert_int_equal(conn(g, &c, CAROL_JTI, "10.0.0.1"), SEC_UNAUTHORIZED);
    assert_int_equal(conn(g, &c, "{\"sub\":\"mallory\",\"exp\":1800000100}", "10.0.0.1"),
                     SEC_UNAUTHORIZED);
    assert_int_equal(conn(g, &c, ALICE, "10.0.0.1"), SEC_ALLOW);
    /* nor may a connection switch to a revoked token in-band */
    char *t = mint("{\"sub\":\"alice\",\"tenant\":\"acme\",\"jti\":\"t-42\",\"exp\":1800000900}");
    assert_int_equal(sec_gate_refresh(g, &c, t, strlen(t), NOW, T0, err, sizeof err), SEC_UNAUTHORIZED);
    assert_non_null(strstr(err, "revoked"));
    assert_int_equal(c.who.exp_s, 1800000100);
    free(t);
    char m[65536];
    assert_true(sec_gate_metrics(g, m, sizeof m) > 0);
    assert_non_null(strstr(m, "rtchaos_sec_auth_rejections_total{reason=\"revoked\"} 3\n"));
    assert_non_null(strstr(m, "rtchaos_sec_revoked_entries{kind=\"jti\"} 1\n"));
    sec_gate_free(g);
    const char *all = read_all(audit_path);
    assert_non_null(strstr(all, "\"outcome\":\"deny\",\"reason\":\"revoked\",\"sub\":\"carol\""));
    assert_non_null(strstr(all, "\"detail\":\"sub\""));
    assert_null(strstr(all, "eyJ"));
}

static void test_sec_gate_reload_is_all_or_nothing(void **state)
{
    (void)state;
    sec_gate *g = gate_with_revocations("");
    sec_conn c, bob;
    char err[256];
    assert_int_equal(conn(g, &c, CAROL_JTI, "10.0.0.1"), SEC_ALLOW);
    assert_int_equal(conn(g, &bob, BOB, "10.0.0.2"), SEC_ALLOW);
    /* a broken policy: refused, the old policy and list stay in force */
    write_file(policy_path, "{\"rules\": [{\"channel\": \"a.*\", \"subscribe\": [\"@nobody\"]}]}");
    write_file(revoked_path, "jti t-42\n");
    assert_int_equal(sec_gate_reload(g, "test", T0, err, sizeof err), -1);
    assert_non_null(strstr(err, policy_path));
    assert_int_equal(sec_gate_revalidate(g, &c, T0, err, sizeof err), SEC_ALLOW);
    assert_int_equal(sub(g, &c, "tenant.acme.orders.1"), SEC_ALLOW);
    /* a broken list: refused as well */
    write_file(policy_path, POLICY);
    write_file(revoked_path, "jti t-42\nkid nonsense\n");
    assert_int_equal(sec_gate_reload(g, "test", T0, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2:"));
    assert_int_equal(sec_gate_revalidate(g, &c, T0, err, sizeof err), SEC_ALLOW);
    /* good files: the revoked connection must go, the other stays */
    write_file(revoked_path, "jti t-42\n");
    assert_int_equal(sec_gate_reload(g, "SIGHUP", T0, err, sizeof err), 0);
    assert_int_equal(sec_gate_revalidate(g, &c, T0, err, sizeof err), SEC_UNAUTHORIZED);
    assert_non_null(strstr(err, "revoked"));
    assert_int_equal(sec_gate_revalidate(g, &bob, T0, err, sizeof err), SEC_ALLOW);
    sec_gate_summary sum;
    sec_gate_describe(g, &sum);
    assert_int_equal(sum.keys, 1);
    assert_int_equal(sum.rules, 3);
    assert_int_equal(sum.revoked_jti, 1);
    char m[65536];
    assert_true(sec_gate_metrics(g, m, sizeof m) > 0);
    assert_non_null(strstr(m, "rtchaos_sec_reloads_total{outcome=\"ok\"} 1\n"));
    assert_non_null(strstr(m, "rtchaos_sec_reloads_total{outcome=\"error\"} 2\n"));
    assert_non_null(strstr(m, "rtchaos_sec_reload_ends_total{reason=\"revoked\"} 1\n"));
    sec_gate_free(g);
    const char *all = read_all(audit_path);
    assert_non_null(strstr(all, "\"action\":\"reload\",\"outcome\":\"deny\",\"reason\":\"bad_file\""));
    assert_non_null(strstr(all, "\"action\":\"reload\",\"outcome\":\"allow\""));
    assert_non_null(strstr(all, "SIGHUP: keys=1 rules=3 revoked_jti=1 revoked_sub=0"));
    assert_non_null(strstr(all, "\"action\":\"revalidate\",\"outcome\":\"close\",\"reason\":\"revoked\""));
}

static void test_sec_gate_reload_reauthorizes_and_rotates_keys(void **state)
{
    (void)state;
    sec_gate *g = gate_with_revocations("");
    sec_conn a, anon;
    char err[256];
    assert_int_equal(conn(g, &a, ALICE, "10.0.0.1"), SEC_ALLOW);
    assert_int_equal(conn(g, &anon, NULL, "10.0.0.3"), SEC_ALLOW);
    assert_int_equal(sub(g, &a, "tenant.acme.orders.1"), SEC_ALLOW);
    /* the new policy takes orders away from readers and public.** from @anyone */
    write_file(policy_path, "{\"rules\": [{\"channel\": \"tenant.{tenant}.orders.*\", "
                            "\"subscribe\": [\"trader\"]},"
                            "{\"channel\": \"tenant.{tenant}.**\", \"subscribe\": [\"@authenticated\"]}]}");
    assert_int_equal(sec_gate_reload(g, "admin", T0, err, sizeof err), 0);
    assert_int_equal(sec_gate_revalidate(g, &a, T0, err, sizeof err), SEC_ALLOW);
    assert_int_equal(sec_gate_reauthorize(g, &a, "tenant.acme.orders.1", NOW, T0, err, sizeof err),
                     SEC_FORBIDDEN);
    assert_int_equal(sec_gate_reauthorize(g, &a, "tenant.acme.prices", NOW, T0, err, sizeof err),
                     SEC_ALLOW);
    assert_int_equal(sec_gate_revalidate(g, &anon, T0, err, sizeof err), SEC_UNAUTHORIZED);
    /* a rotated secret: tokens signed with the old one lose their connections */
    write_file(secret_path, "a-brand-new-secret-0123456789abcdef0123456789");
    assert_int_equal(sec_gate_reload(g, "admin", T0, err, sizeof err), 0);
    assert_int_equal(sec_gate_revalidate(g, &a, T0, err, sizeof err), SEC_UNAUTHORIZED);
    assert_non_null(strstr(err, "key"));
    assert_int_equal(conn(g, &a, ALICE, "10.0.0.1"), SEC_UNAUTHORIZED); /* minted with SECRET */
    char m[65536];
    assert_true(sec_gate_metrics(g, m, sizeof m) > 0);
    assert_non_null(strstr(m, "rtchaos_sec_reload_ends_total{reason=\"forbidden\"} 1\n"));
    assert_non_null(strstr(m, "rtchaos_sec_reload_ends_total{reason=\"key_removed\"} 1\n"));
    assert_non_null(strstr(m, "rtchaos_sec_reload_ends_total{reason=\"anonymous\"} 1\n"));
    sec_gate_free(g);
    write_file(secret_path, SECRET);
    write_file(policy_path, POLICY);
    const char *all = read_all(audit_path);
    assert_non_null(strstr(all, "\"reason\":\"no_role\",\"sub\":\"alice\""));
    assert_non_null(strstr(all, "\"detail\":\"reload\""));
    assert_non_null(strstr(all, "\"reason\":\"key_removed\""));
}

static void test_sec_gate_keepalive_requests_are_not_attempts(void **state)
{
    (void)state;
    sec_gate *g = gate(1, 1, (sec_gate_cfg){ .conn_per_addr = { 1, 2 } });
    sec_conn c;
    char err[256];
    char *t = mint(ALICE);
    assert_int_equal(conn(g, &c, ALICE, "10.0.0.9"), SEC_ALLOW);
    assert_int_equal(conn(g, &c, ALICE, "10.0.0.9"), SEC_ALLOW);
    /* 100 more requests on an open connection: not connection attempts */
    for (int i = 0; i < 100; i++)
        assert_int_equal(sec_gate_request(g, &c, SEC_T_POLL, "10.0.0.9", t, strlen(t), NOW, T0, err,
                                          sizeof err),
                         SEC_ALLOW);
    /* but they are authenticated like any request */
    assert_int_equal(sec_gate_request(g, &c, SEC_T_POLL, "10.0.0.9", "x.y.z", 5, NOW, T0, err, sizeof err),
                     SEC_UNAUTHORIZED);
    /* and a third new connection in the same instant still is one too many */
    assert_int_equal(conn(g, &c, ALICE, "10.0.0.9"), SEC_RATE_LIMITED);
    free(t);
    sec_gate_free(g);
}

static void test_sec_gate_bad_config_refuses_to_start(void **state)
{
    (void)state;
    char err[256];
    sec_gate_cfg cfg = { .policy_file = "/nonexistent/policy.json" };
    assert_null(sec_gate_new(&cfg, 1, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/policy.json"));
    cfg = (sec_gate_cfg){ .jwt_public_key = secret_path };
    assert_null(sec_gate_new(&cfg, 1, err, sizeof err));
    cfg = (sec_gate_cfg){ .audit_file = "/nonexistent/audit" };
    assert_null(sec_gate_new(&cfg, 1, err, sizeof err));
    cfg = (sec_gate_cfg){ .jwt_secret_file = secret_path, .revoked_file = "/nonexistent/revoked" };
    assert_null(sec_gate_new(&cfg, 1, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/revoked"));
    cfg = (sec_gate_cfg){ .revoked_file = secret_path }; /* a list without authentication */
    assert_null(sec_gate_new(&cfg, 1, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_gate_open_mode_allows_valid_names),
        cmocka_unit_test(test_sec_gate_auth_only_needs_a_valid_token),
        cmocka_unit_test(test_sec_gate_policy_isolates_tenants),
        cmocka_unit_test(test_sec_gate_expiry_and_refresh),
        cmocka_unit_test(test_sec_gate_rate_limits),
        cmocka_unit_test(test_sec_gate_storm_guard),
        cmocka_unit_test(test_sec_gate_admin),
        cmocka_unit_test(test_sec_gate_metrics_and_tenant_gauge),
        cmocka_unit_test(test_sec_gate_audit_trail),
        cmocka_unit_test(test_sec_gate_revoked_tokens_refused),
        cmocka_unit_test(test_sec_gate_reload_is_all_or_nothing),
        cmocka_unit_test(test_sec_gate_reload_reauthorizes_and_rotates_keys),
        cmocka_unit_test(test_sec_gate_keepalive_requests_are_not_attempts),
        cmocka_unit_test(test_sec_gate_bad_config_refuses_to_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
