/* test_live_metrics.c — the harness's Prometheus page: label escaping, one
 * sample per group and transport, cumulative latency buckets, fault states,
 * the exit code once known; and the listen-address parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "live_metrics.h"
#include "scenario.h"

static fleet_live *sample(void)
{
    fleet_live *fl = calloc(1, sizeof *fl);
    fl->n_groups = 2;
    strcpy(fl->group_names[0], "fast");
    strcpy(fl->group_names[1], "we\"ird\\name");
    fl->group_clients[0] = 10;
    fl->group_clients[1] = 3;
    fl->g[0].connected[FLEET_WS] = 9;
    fl->g[1].connected[FLEET_SSE] = 2;
    fl->g[0].delivered = 100;
    fl->g[0].live = 90;
    fl->g[1].anomalies[3] = 4; /* resync_failed */
    fl->g[1].resync_ok = 5;
    fl->lat_count = 7;
    fl->lat_sum_us = 3500000;
    for (int k = 0; k < FLEET_LAT_BOUNDS; k++)
        fl->lat_le[k] = k < 3 ? (uint64_t)k : 7;
    fl->pub_acked = 50;
    fl->pub_failed = 2;
    return fl;
}

static char *render(const fleet_live *fl, const int *active, int code)
{
    const char *names[] = {"spike", "cut"}, *kinds[] = {"latency", "disconnect"};
    livem_info info = {.scenario = "s", .target = "http://127.0.0.1:1", .seed = 9, .n_faults = 2,
                       .fault_names = names, .fault_kinds = kinds};
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(livem_render(fl, &info, active, code, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_live_metrics_samples(void **state)
{
    (void)state;
    fleet_live *fl = sample();
    int active[2] = {1, 0};
    char *t = render(fl, active, -1);
    assert_non_null(strstr(t, "rtchaos_harness_clients_connected{group=\"fast\",transport=\"ws\"} 9\n"));
    assert_non_null(strstr(t, "rtchaos_harness_clients_connected{group=\"fast\",transport=\"poll\"} 0\n"));
    assert_non_null(strstr(t, "rtchaos_harness_clients_connected{group=\"we\\\"ird\\\\name\",transport=\"sse\"} 2\n"));
    assert_non_null(strstr(t, "rtchaos_harness_deliveries_total{group=\"fast\",kind=\"live\"} 90\n"));
    assert_non_null(strstr(t, "rtchaos_harness_deliveries_total{group=\"fast\",kind=\"replay\"} 10\n"));
    assert_non_null(strstr(t, "rtchaos_harness_resyncs_total{group=\"we\\\"ird\\\\name\",result=\"failed\"} 4\n"));
    assert_non_null(strstr(t, "rtchaos_harness_resyncs_total{group=\"we\\\"ird\\\\name\",result=\"ok\"} 5\n"));
    assert_non_null(strstr(t, "rtchaos_harness_live_latency_seconds_bucket{le=\"+Inf\"} 7\n"));
    assert_non_null(strstr(t, "rtchaos_harness_live_latency_seconds_bucket{le=\"0.00025\"} 0\n"));
    assert_non_null(strstr(t, "rtchaos_harness_live_latency_seconds_sum 3.500000\n"));
    assert_non_null(strstr(t, "rtchaos_harness_live_latency_seconds_count 7\n"));
    assert_non_null(strstr(t, "rtchaos_harness_publish_events_total{outcome=\"failed\"} 2\n"));
    assert_non_null(strstr(t, "rtchaos_harness_fault_active{fault=\"spike\",kind=\"latency\"} 1\n"));
    assert_non_null(strstr(t, "rtchaos_harness_fault_active{fault=\"cut\",kind=\"disconnect\"} 0\n"));
    assert_null(strstr(t, "rtchaos_harness_exit_code"));
    /* every sample's family has HELP and TYPE before it */
    assert_true(strstr(t, "# TYPE rtchaos_harness_live_latency_seconds histogram\n") <
                strstr(t, "rtchaos_harness_live_latency_seconds_bucket"));
    free(t);
    t = render(fl, NULL, 1);
    assert_non_null(strstr(t, "rtchaos_harness_exit_code 1\n"));
    assert_non_null(strstr(t, "rtchaos_harness_fault_active{fault=\"spike\",kind=\"latency\"} 0\n"));
    free(t);
    free(fl);
}

static void test_live_metrics_buckets_cumulative(void **state)
{
    (void)state;
    for (int k = 1; k < FLEET_LAT_BOUNDS; k++)
        assert_true(fleet_lat_bounds_us[k] > fleet_lat_bounds_us[k - 1]);
}

static void test_live_metrics_addr(void **state)
{
    (void)state;
    char host[64], err[256];
    uint16_t port;
    assert_int_equal(scenario_parse_hostport("127.0.0.1:9464", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(scenario_parse_hostport("[::1]:0", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(scenario_parse_hostport("localhost", host, sizeof host, &port, err, sizeof err), -1);
    assert_non_null(strstr(err, "HOST:PORT"));
    assert_int_equal(scenario_parse_hostport(":80", host, sizeof host, &port, err, sizeof err), -1);
    assert_int_equal(scenario_parse_hostport("h:65536", host, sizeof host, &port, err, sizeof err), -1);
    assert_non_null(strstr(err, "0..65535"));
    assert_int_equal(scenario_parse_hostport("h:", host, sizeof host, &port, err, sizeof err), -1);
    assert_int_equal(scenario_parse_hostport("[::1]80", host, sizeof host, &port, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_metrics_samples),
        cmocka_unit_test(test_live_metrics_buckets_cumulative),
        cmocka_unit_test(test_live_metrics_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
