/* test_series_rec.c — the run's metric pages recorded as time series and
 * written as promtool test input: steps, gaps, job/instance labels, label
 * sets kept verbatim (quotes, '}' inside values), YAML quoting, special
 * values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "series_rec.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_series_steps_gaps_labels(void **state)
{
    (void)state;
    srec *s = srec_new_for_test(1000);
    assert_non_null(s);
    const char *p0 = "# HELP c_total A counter.\n# TYPE c_total counter\n"
                     "c_total{transport=\"ws\"} 1\nc_total{transport=\"sse\"} 10\n"
                     "g 0.5\nh_bucket{le=\"+Inf\"} 3\n";
    assert_int_equal(srec_add_page(s, "rtchaos-server", "127.0.0.1:8080", 0, p0), 4);
    assert_int_equal(srec_add_page(s, "rtchaos-server", "127.0.0.1:8080", 1,
                                   "c_total{transport=\"ws\"} 2\ng NaN\nweird{v=\"a}b\",w=\"it's\"} +Inf\n"), 3);
    /* step 2: no answer; step 3 again; a later page for the same step wins */
    assert_int_equal(srec_add_page(s, "rtchaos-server", "127.0.0.1:8080", 3, "c_total{transport=\"ws\"} 3\n"), 1);
    assert_int_equal(srec_add_page(s, "rtchaos-server", "127.0.0.1:8080", 3, "c_total{transport=\"ws\"} 4\n"), 1);
    /* another source: its own job and instance */
    assert_int_equal(srec_add_page(s, "rtchaos-harness", "127.0.0.1:9464", 1, "c_total 7 1700000000000\n"), 1);
    /* before t = 0 or a malformed value: not taken */
    assert_int_equal(srec_add_page(s, "rtchaos-server", "127.0.0.1:8080", -1, "c_total 1\n"), 0);
    assert_int_equal(srec_add_page(s, "rtchaos-server", "127.0.0.1:8080", 4, "bad{a=\"b\"} x1\n"), 0);
    char path[] = "/tmp/rtchaos-series-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    assert_int_equal(srec_finish(s, path, "unit test", err, sizeof err), 6);
    const char *t = slurp(path);
    assert_non_null(strstr(t, "\ninterval: 1s\ninput_series:\n"));
    assert_non_null(strstr(t, "  - series: 'c_total{job=\"rtchaos-server\",instance=\"127.0.0.1:8080\",transport=\"ws\"}'\n"
                              "    values: '1 2 _ 4'\n"));
    assert_non_null(strstr(t, "  - series: 'c_total{job=\"rtchaos-server\",instance=\"127.0.0.1:8080\",transport=\"sse\"}'\n"
                              "    values: '10'\n"));
    assert_non_null(strstr(t, "  - series: 'g{job=\"rtchaos-server\",instance=\"127.0.0.1:8080\"}'\n"
                              "    values: '0.5 NaN'\n"));
    assert_non_null(strstr(t, "h_bucket{job=\"rtchaos-server\",instance=\"127.0.0.1:8080\",le=\"+Inf\"}'\n"
                              "    values: '3'\n"));
    /* '}' inside a quoted label value kept; ' doubled for YAML */
    assert_non_null(strstr(t, "'weird{job=\"rtchaos-server\",instance=\"127.0.0.1:8080\",v=\"a}b\",w=\"it''s\"}'\n"
                              "    values: '_ Inf'\n"));
    assert_non_null(strstr(t, "'c_total{job=\"rtchaos-harness\",instance=\"127.0.0.1:9464\"}'\n    values: '_ 7'\n"));
    assert_null(strstr(t, "bad{"));
    unlink(path);
}

static void test_series_unwritable(void **state)
{
    (void)state;
    srec *s = srec_new_for_test(1000);
    assert_int_equal(srec_add_page(s, "j", "i:1", 0, "x 1\n"), 1);
    char err[256] = "";
    assert_int_equal(srec_finish(s, "/nonexistent-dir/series.yml", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write /nonexistent-dir/series.yml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_steps_gaps_labels),
        cmocka_unit_test(test_series_unwritable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
