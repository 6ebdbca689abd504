/* test_sec_audit.c — audit lines: fields, escaping, no tokens, line budget. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec_audit.h"

#define WALL 1800000000123456LL
#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/test_sec_audit.%d.jsonl", (int)getpid());
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* Reads the log back as an array of parsed lines (every line must parse). */
static json_t *read_lines(void)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json_t *arr = json_array();
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(line[strlen(line) - 1], '\n');
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o)
            fail_msg("line does not parse: %s (%s)", line, je.text);
        assert_null(strstr(line, "eyJ"));
        json_array_append_new(arr, o);
    }
    fclose(f);
    return arr;
}

static void test_sec_audit_line_has_who_what_when_outcome(void **state)
{
    (void)state;
    char err[160];
    sec_audit *a = sec_audit_open(path, (sec_rate){ 0, 0 }, err, sizeof err);
    assert_non_null(a);
    sec_principal p;
    sec_principal_anonymous(&p);
    p.authenticated = 1;
    strcpy(p.sub, "alice \"the\" admin");
    strcpy(p.tenant, "acme");
    strcpy(p.roles[0], "reader");
    p.nroles = 1;
    sec_audit_event ev = { .action = "subscribe", .outcome = "allow", .who = &p,
                           .channel = "tenant.acme.orders.1", .remote = "127.0.0.1",
                           .transport = "ws" };
    assert_int_equal(sec_audit_write(a, WALL, 1, &ev, err, sizeof err), 0);
    sec_audit_event anon = { .action = "connect", .outcome = "deny", .reason = "expired",
                             .detail = "token " JWT " expired; bare " JWT };
    assert_int_equal(sec_audit_write(a, WALL, 2, &anon, err, sizeof err), 0);
    assert_int_equal(sec_audit_written(a), 2);
    sec_audit_close(a);

    json_t *lines = read_lines();
    assert_int_equal(json_array_size(lines), 2);
    json_t *l0 = json_array_get(lines, 0);
    assert_string_equal(json_string_value(json_object_get(l0, "ts")), "2027-01-15T08:00:00.123Z");
    assert_string_equal(json_string_value(json_object_get(l0, "sub")), "alice \"the\" admin");
    assert_string_equal(json_string_value(json_object_get(l0, "tenant")), "acme");
    assert_string_equal(json_string_value(json_array_get(json_object_get(l0, "roles"), 0)), "reader");
    assert_string_equal(json_string_value(json_object_get(l0, "outcome")), "allow");
    json_t *l1 = json_array_get(lines, 1);
    assert_true(json_is_null(json_object_get(l1, "sub")));
    assert_string_equal(json_string_value(json_object_get(l1, "reason")), "expired");
    assert_string_equal(json_string_value(json_object_get(l1, "detail")),
                        "token [redacted] expired; bare [redacted]");
    json_decref(lines);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_sec_audit_budget_suppresses_and_reports(void **state)
{
    (void)state;
    char err[160];
    sec_audit *a = sec_audit_open(path, (sec_rate){ 10, 10 }, err, sizeof err);
    assert_non_null(a);
    sec_audit_event ev = { .action = "subscribe", .outcome = "deny", .reason = "no_rule" };
    int written = 0, suppressed = 0;
    for (int i = 0; i < 1000; i++) {
        int rc = sec_audit_write(a, WALL, 1000000, &ev, err, sizeof err);
        written += rc == 0;
        suppressed += rc == 1;
    }
    assert_int_equal(written, 10);
    assert_int_equal(suppressed, 990);
    /* a second later the next line says how many were dropped */
    assert_int_equal(sec_audit_write(a, WALL, 2000000, &ev, err, sizeof err), 0);
    assert_int_equal(sec_audit_suppressed(a), 990);
    sec_audit_close(a);
    json_t *lines = read_lines();
    assert_int_equal(json_array_size(lines), 11);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lines, 10), "suppressed")), 990);
    assert_null(json_object_get(json_array_get(lines, 9), "suppressed"));
    json_decref(lines);
}

static void test_sec_audit_invalid_utf8_and_control_bytes(void **state)
{
    (void)state;
    char err[160];
    sec_audit *a = sec_audit_open(path, (sec_rate){ 0, 0 }, err, sizeof err);
    sec_audit_event ev = { .action = "publish", .channel = "bad\xff\xfe name", .detail = "a\nb\x01" };
    assert_int_equal(sec_audit_write(a, WALL, 1, &ev, err, sizeof err), 0);
    sec_audit_close(a);
    json_t *lines = read_lines();
    json_t *l0 = json_array_get(lines, 0);
    assert_string_equal(json_string_value(json_object_get(l0, "ch")), "bad?? name");
    assert_string_equal(json_string_value(json_object_get(l0, "detail")), "a\nb\x01");
    json_decref(lines);
}

static void test_sec_audit_redact(void **state)
{
    (void)state;
    char s[256];
    strcpy(s, "x=" JWT "&y=eyJnot.a-token");
    assert_int_equal(sec_audit_redact(s), 1);
    assert_string_equal(s, "x=[redacted]&y=eyJnot.a-token");
    strcpy(s, "heyJa.b.c"); /* not at a word start */
    assert_int_equal(sec_audit_redact(s), 0);
    strcpy(s, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.");
    assert_int_equal(sec_audit_redact(s), 1);
    assert_string_equal(s, "[redacted]");
    strcpy(s, "");
    assert_int_equal(sec_audit_redact(s), 0);
}

static void test_sec_audit_open_error(void **state)
{
    (void)state;
    char err[160];
    assert_null(sec_audit_open("/nonexistent-dir/audit.jsonl", (sec_rate){ 0, 0 }, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/audit.jsonl"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sec_audit_line_has_who_what_when_outcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sec_audit_budget_suppresses_and_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sec_audit_invalid_utf8_and_control_bytes, setup, teardown),
        cmocka_unit_test(test_sec_audit_redact),
        cmocka_unit_test(test_sec_audit_open_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
