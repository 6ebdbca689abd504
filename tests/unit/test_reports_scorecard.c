/* test_reports_scorecard.c — the scorecard's pure logic on hand-written suite
 * indexes (no runs): status → verdict words, rows as the union of the runs'
 * entries in first-seen order ("not in this run" where one lacks it), column
 * names from report.json (v1 without a protocol object; the folder appended
 * when two columns would share a name), figures copied from the index,
 * and bad input refused with the folder named. */
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

#include "reports.h"

static char tmp[64];

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A suite run folder: index.json with the given entries, and for entry "a"
 * a run folder whose report.json names target (and protocol, when given). */
static void make_run(const char *name, const char *suite, const char *entries, const char *target,
                     const char *protocol)
{
    char dir[256], idx[4096], rep[512];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    mkdir(dir, 0755);
    snprintf(idx, sizeof idx,
             "{\"schema\":\"rtchaos.suite/1\",\"suite\":\"%s\",\"title\":\"T\",\"exit_code\":1,\"entries\":[%s]}",
             suite, entries);
    write_file(dir, "index.json", idx);
    strcat(dir, "/a");
    mkdir(dir, 0755);
    if (protocol)
        snprintf(rep, sizeof rep, "{\"schema\":\"rtchaos.report/1\",\"target\":\"%s\",\"protocol\":{\"name\":\"%s\"}}",
                 target, protocol);
    else
        snprintf(rep, sizeof rep, "{\"schema\":\"rtchaos.report/1\",\"target\":\"%s\"}", target);
    write_file(dir, "report.json", rep);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/rtchaos-scorecard-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_verdict_words(void **state)
{
    (void)state;
    assert_string_equal(reports_scorecard_verdict("pass"), "pass");
    assert_string_equal(reports_scorecard_verdict("FAIL"), "fail");
    assert_string_equal(reports_scorecard_verdict("not yet runnable"), "not applicable");
    assert_string_equal(reports_scorecard_verdict("INVALID"), "invalid");
    assert_string_equal(reports_scorecard_verdict("BROKEN"), "broken");
    assert_string_equal(reports_scorecard_verdict("something new"), "broken"); /* never a pass */
    assert_string_equal(reports_scorecard_verdict(NULL), "broken");
}

#define ENTRY_A(status, lost) \
    "{\"id\":\"a\",\"title\":\"A\",\"status\":\"" status "\",\"run_dir\":\"a\",\"answer\":{\"lost\":" lost \
    "},\"answer_text\":\"lost=" lost "\"}"

static void test_rows_columns_cells(void **state)
{
    (void)state;
    make_run("r1", "s", ENTRY_A("pass", "0") ",{\"id\":\"b\",\"title\":\"B\",\"status\":\"not yet runnable\","
                        "\"not_runnable\":\"needs a cluster\",\"answer\":{}}",
             "http://x:1", NULL);
    make_run("r2", "s", ENTRY_A("FAIL", "7") ",{\"id\":\"c\",\"title\":\"C\",\"status\":\"BROKEN\","
                        "\"why\":\"timed out\",\"answer\":{}}",
             "http://x:1", "sse");
    make_run("r3", "s", ENTRY_A("pass", "0"), "http://x:1", "sse");
    char out[300], r1[300], r2[300], r3[300], err[512];
    snprintf(out, sizeof out, "%s/card", tmp);
    snprintf(r1, sizeof r1, "%s/r1", tmp);
    snprintf(r2, sizeof r2, "%s/r2", tmp);
    snprintf(r3, sizeof r3, "%s/r3", tmp);
    const char *dirs[] = {r1, r2, r3};
    assert_int_equal(reports_scorecard(out, dirs, 3, err, sizeof err), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/scorecard.json", out);
    json_error_t je;
    json_t *sc = json_load_file(p, 0, &je);
    assert_non_null(sc);
    json_t *cols = json_object_get(sc, "columns"), *rows = json_object_get(sc, "rows");
    assert_int_equal(json_array_size(cols), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "label")), "http://x:1 (v1)");
    /* r2 and r3 share target and protocol: each keeps its folder in the name */
    char want[400];
    snprintf(want, sizeof want, "http://x:1 (sse) [%s]", r2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1), "label")), want);
    assert_int_equal(json_array_size(rows), 3); /* a, b (from r1), c (from r2) */
    const char *ids[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(rows, i), "id")), ids[i]);
    json_t *a = json_object_get(json_array_get(rows, 0), "cells");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "verdict")), "pass");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "verdict")), "fail");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(a, 1), "figures"), "lost")), 7);
    json_t *b = json_object_get(json_array_get(rows, 1), "cells");
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "verdict")), "not applicable");
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "reason")), "needs a cluster");
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 1), "verdict")), "not in this run");
    json_t *c = json_object_get(json_array_get(rows, 2), "cells");
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "verdict")), "broken");
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "reason")), "timed out");
    json_decref(sc);
    /* the html links each run's report relative to the scorecard folder */
    snprintf(p, sizeof p, "%s/scorecard.html", out);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char html[16384];
    size_t n = fread(html, 1, sizeof html - 1, f);
    html[n] = 0;
    fclose(f);
    assert_non_null(strstr(html, "href=\"../r2/a/report.html\""));
    assert_null(strstr(html, "<script"));
}

static void test_bad_input(void **state)
{
    (void)state;
    make_run("s1", "one", ENTRY_A("pass", "0"), "http://x:1", NULL);
    make_run("s2", "two", ENTRY_A("pass", "0"), "http://x:2", NULL);
    char out[300], s1[300], s2[300], missing[300], rep[300], err[1024];
    snprintf(out, sizeof out, "%s/card", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    snprintf(s2, sizeof s2, "%s/s2", tmp);
    snprintf(missing, sizeof missing, "%s/none", tmp);
    snprintf(rep, sizeof rep, "%s/s1/a", tmp); /* a run folder: report.json, no index */
    const char *mixed[] = {s1, s2};
    assert_int_equal(reports_scorecard(out, mixed, 2, err, sizeof err), -1);
    char want[1024];
    snprintf(want, sizeof want, "different suites mixed: %s is suite 'one', %s is suite 'two'", s1, s2);
    assert_string_equal(err, want);
    const char *gone[] = {s1, missing};
    assert_int_equal(reports_scorecard(out, gone, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, missing));
    const char *noidx[] = {rep};
    assert_int_equal(reports_scorecard(out, noidx, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a suite run folder"));
    assert_int_equal(reports_scorecard(out, NULL, 0, err, sizeof err), -1);
    assert_int_equal(access(out, F_OK), -1); /* nothing written */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_words),
        cmocka_unit_test_setup_teardown(test_rows_columns_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
