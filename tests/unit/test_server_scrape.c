/* test_server_scrape.c — the harness's reading of a server's /metrics
 * (harness/server_scrape.c): rtchaos_loop_busy_seconds_total summed over
 * its phases per sample, and the event loop's busy share after the
 * warm-up (server.loop_busy_mean / loop_busy_peak, and their compare
 * rows); absent for a server that does not export it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "server_scrape.h"

static json_t *sample(double t_s, double dispatch, double flush)
{
    char text[512];
    snprintf(text, sizeof text,
             "# TYPE rtchaos_loop_busy_seconds_total counter\n"
             "rtchaos_loop_busy_seconds_total{phase=\"dispatch\"} %.6f\n"
             "rtchaos_loop_busy_seconds_total{phase=\"flush\"} %.6f\n"
             "rtchaos_messages_out_total{transport=\"ws\",kind=\"live\"} 10\n",
             dispatch, flush);
    json_t *s = sscrape_parse(text);
    assert_non_null(s);
    json_object_set_new(s, "t_s", json_real(t_s));
    return s;
}

static void test_loop_busy_parsed(void **state)
{
    (void)state;
    json_t *s = sample(1, 0.25, 0.5);
    assert_true(fabs(json_number_value(json_object_get(s, "loop_busy_s")) - 0.75) < 1e-9);
    json_decref(s);
    /* a server without the metric: no member */
    s = sscrape_parse("rtchaos_messages_out_total{transport=\"ws\",kind=\"live\"} 3\n");
    assert_non_null(s);
    assert_null(json_object_get(s, "loop_busy_s"));
    json_decref(s);
}

static const json_t *row_of(const json_t *srv, const char *prefix)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(srv, "compare"), i, r) {
        if (!strncmp(json_string_value(json_object_get(r, "figure")), prefix, strlen(prefix)))
            return r;
    }
    return NULL;
}

static void test_loop_busy_share(void **state)
{
    (void)state;
    /* warm-up 2 s: the 0 -> 1 s interval (busy 0.95) does not count; after
     * it 0.5, 0.9 and 0.4 s busy in three 1 s intervals */
    json_t *samples = json_array();
    json_array_append_new(samples, sample(0, 0, 0));
    json_array_append_new(samples, sample(1, 0.45, 0.5));
    json_array_append_new(samples, sample(2, 0.6, 0.5));
    json_array_append_new(samples, sample(3, 0.8, 0.8));
    json_array_append_new(samples, sample(4, 1.1, 1.4));
    json_array_append_new(samples, json_pack("{s:f, s:s}", "t_s", 4.5, "error", "HTTP 503")); /* skipped */
    json_array_append_new(samples, sample(5, 1.2, 1.7));
    json_t *rep = json_pack("{s:f, s:{s:i}, s:{s:o, s:O}}", "warmup_s", 2.0, "totals", "delivered", 40, "server",
                            "samples", samples, "final", json_array_get(samples, 6));
    assert_int_equal(sscrape_compare(rep), 0);
    const json_t *srv = json_object_get(rep, "server");
    assert_true(fabs(json_number_value(json_object_get(srv, "loop_busy_peak")) - 0.9) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(srv, "loop_busy_mean")) - 0.6) < 1e-9);
    const json_t *r = row_of(srv, "event loop busy share, busiest");
    assert_non_null(r);
    assert_true(fabs(json_number_value(json_object_get(r, "server")) - 0.9) < 1e-9);
    assert_true(json_is_null(json_object_get(r, "clients")));
    json_decref(rep);

    /* a server that does not export it: no figures, no rows */
    samples = json_array();
    for (int t = 0; t < 4; t++)
        json_array_append_new(samples, sscrape_parse("rtchaos_messages_in_total{transport=\"http\"} 1\n"));
    rep = json_pack("{s:f, s:{s:i}, s:{s:o, s:O}}", "warmup_s", 0.0, "totals", "delivered", 0, "server", "samples",
                    samples, "final", json_array_get(samples, 3));
    assert_int_equal(sscrape_compare(rep), 0);
    srv = json_object_get(rep, "server");
    assert_null(json_object_get(srv, "loop_busy_peak"));
    assert_null(row_of(srv, "event loop"));
    json_decref(rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_busy_parsed),
        cmocka_unit_test(test_loop_busy_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
