/* test_metrics.c — Prometheus exposition: every family has HELP and TYPE,
 * counters appear with their labels, the latency histogram is cumulative
 * and its +Inf bucket equals the count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static double value_of(const char *text, const char *series)
{
    const char *p = text;
    size_t n = strlen(series);
    while ((p = strstr(p, series))) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p += n;
    }
    fail_msg("series %s not found", series);
    return -1;
}

static void test_metrics_render(void **state)
{
    (void)state;
    metrics m;
    memset(&m, 0, sizeof(m));
    m.conns_open[MT_WS] = 3;
    m.published[MT_HTTP] = 10;
    m.delivered_live[MT_SSE] = 7;
    m.bp_events[SENDQ_COALESCE] = 4;
    m.rejections[MR_TOO_LARGE] = 2;
    metrics_latency(&m, 50);       /* 50 µs  -> le 0.0001 */
    metrics_latency(&m, 700);      /* 0.7 ms -> le 0.001 */
    metrics_latency(&m, -5);       /* clock skew: recorded as 0 */
    metrics_latency(&m, 60000000); /* 60 s   -> +Inf only */
    metrics_gauges g = {.channels = 2, .sendq_msgs = 5, .sendq_max_msgs = 4};
    char *text;
    size_t len;
    assert_int_equal(metrics_render(&m, &g, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_int_equal(value_of(text, "rtchaos_connections{transport=\"ws\"}"), 3);
    assert_int_equal(value_of(text, "rtchaos_messages_in_total{transport=\"http\"}"), 10);
    assert_int_equal(value_of(text, "rtchaos_messages_out_total{transport=\"sse\",kind=\"live\"}"), 7);
    assert_int_equal(value_of(text, "rtchaos_backpressure_total{policy=\"coalesce\",action=\"event_coalesced\"}"), 4);
    assert_int_equal(value_of(text, "rtchaos_rejections_total{reason=\"too_large\"}"), 2);
    assert_int_equal(value_of(text, "rtchaos_delivery_latency_seconds_bucket{le=\"0.0001\"}"), 2);
    assert_int_equal(value_of(text, "rtchaos_delivery_latency_seconds_bucket{le=\"0.001\"}"), 3);
    assert_int_equal(value_of(text, "rtchaos_delivery_latency_seconds_bucket{le=\"10\"}"), 3);
    assert_int_equal(value_of(text, "rtchaos_delivery_latency_seconds_bucket{le=\"+Inf\"}"), 4);
    assert_int_equal(value_of(text, "rtchaos_delivery_latency_seconds_count"), 4);
    assert_int_equal(value_of(text, "rtchaos_channels"), 2);
    assert_int_equal(value_of(text, "rtchaos_sendq_max_messages"), 4);
    /* every sample's family has HELP and TYPE */
    char *save, *copy = strdup(text);
    int samples = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char fam[128], help[160], type[160];
        size_t k = strcspn(line, "{ ");
        snprintf(fam, sizeof(fam), "%.*s", (int)k, line);
        snprintf(type, sizeof(type), "# TYPE %s ", fam);
        if (!strstr(text, type)) { /* histogram series carry a suffix */
            char *u = strrchr(fam, '_');
            assert_non_null(u);
            *u = '\0';
            snprintf(type, sizeof(type), "# TYPE %s histogram", fam);
            assert_non_null(strstr(text, type));
        }
        snprintf(help, sizeof(help), "# HELP %s ", fam);
        assert_non_null(strstr(text, help));
        samples++;
    }
    assert_true(samples > 40);
    free(copy);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
