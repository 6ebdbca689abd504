/* test_fleet_report.c — fleet_report_merge: shard/worker reports merge exactly (counters add, histograms add, timeline rows add, anomalies bounded). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "checker.h"
#include "fleet.h"
#include "hist.h"

static json_t *hpart(const hist *h)
{
    json_t *j = hist_summary_json(h);
    json_object_set_new(j, "hist", hist_to_json(h));
    return j;
}

/* A report as fleet_report writes it, with latencies lat[0..n) in one
 * second row and one anomaly of each kind per t in ts[]. */
static json_t *report(const uint64_t *lat, size_t n, uint64_t published, uint64_t stall_max,
                      const double *ts, size_t nts)
{
    hist *h = hist_new();
    uint32_t row[CHK_TL_BUCKETS] = {0};
    for (size_t i = 0; i < n; i++) {
        hist_record(h, lat[i]);
        row[hist_coarse_index(lat[i])]++;
    }
    json_t *r = json_object();
    json_object_set_new(r, "totals", json_pack("{s:I,s:I,s:I,s:I}", "published", (json_int_t)published,
                                               "delivered", (json_int_t)n, "lost", (json_int_t)1,
                                               "harness_stall_max_us", (json_int_t)stall_max));
    json_t *l = json_object();
    json_object_set_new(l, "live", hpart(h));
    json_object_set_new(r, "latency_us", l);
    json_t *lj = json_array();
    for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
        if (row[b])
            json_array_append_new(lj, json_pack("[I,I]", (json_int_t)hist_coarse_low(b), (json_int_t)row[b]));
    json_object_set_new(r, "timeline",
                        json_pack("[{s:I,s:I,s:I,s:I,s:I,s:I,s:o}]", "t_s", (json_int_t)0, "published",
                                  (json_int_t)published, "delivered", (json_int_t)n, "connected", (json_int_t)3,
                                  "reconnects", (json_int_t)0, "p95_us", (json_int_t)hist_coarse_counts_percentile(row, 95),
                                  "lat", lj));
    json_t *an = json_array();
    for (size_t i = 0; i < nts; i++)
        json_array_append_new(an, json_pack("{s:s,s:I,s:s,s:I,s:f}", "kind", "lost", "client", (json_int_t)i,
                                            "ch", "a", "seq", (json_int_t)i, "t_s", ts[i]));
    json_object_set_new(r, "anomalies", an);
    hist_free(h);
    return r;
}

static void test_fleet_report_merge_is_exact(void **state)
{
    (void)state;
    uint64_t a[100], b[50], all[150];
    for (int i = 0; i < 100; i++)
        all[i] = a[i] = 100 + (uint64_t)i * 37;
    for (int i = 0; i < 50; i++)
        all[100 + i] = b[i] = 9000 + (uint64_t)i * 1001;
    double ta[] = {3.0, 1.0, 5.0}, tb[] = {2.0, 0.5};
    json_t *ra = report(a, 100, 10, 700, ta, 3), *rb = report(b, 50, 5, 300, tb, 2);
    json_t *one = report(all, 150, 15, 700, NULL, 0);
    json_t *dst = json_object();
    char err[256];
    assert_int_equal(fleet_report_merge(dst, ra, 4, err, sizeof err), 0);
    assert_int_equal(fleet_report_merge(dst, rb, 4, err, sizeof err), 0);
    json_t *t = json_object_get(dst, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "published")), 15);
    assert_int_equal(json_integer_value(json_object_get(t, "delivered")), 150);
    assert_int_equal(json_integer_value(json_object_get(t, "lost")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "harness_stall_max_us")), 700);
    /* the merged histogram's percentiles are those of one histogram of all values */
    json_t *ml = json_object_get(json_object_get(dst, "latency_us"), "live");
    json_t *ol = json_object_get(json_object_get(one, "latency_us"), "live");
    const char *keys[] = {"count", "p50", "p95", "p99", "max"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(json_integer_value(json_object_get(ml, keys[i])),
                         json_integer_value(json_object_get(ol, keys[i])));
    /* timeline: rows add, p95 recomputed from the buckets */
    json_t *row = json_array_get(json_object_get(dst, "timeline"), 0);
    json_t *orow = json_array_get(json_object_get(one, "timeline"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "delivered")), 150);
    assert_int_equal(json_integer_value(json_object_get(row, "connected")), 6);
    assert_int_equal(json_integer_value(json_object_get(row, "p95_us")),
                     json_integer_value(json_object_get(orow, "p95_us")));
    /* anomalies: the earliest 4 of the kind, in time order */
    json_t *an = json_object_get(dst, "anomalies");
    assert_int_equal(json_array_size(an), 4);
    double want[] = {0.5, 1.0, 2.0, 3.0};
    for (size_t i = 0; i < 4; i++)
        assert_true(json_real_value(json_object_get(json_array_get(an, i), "t_s")) == want[i]);
    json_decref(ra);
    json_decref(rb);
    json_decref(one);
    json_decref(dst);
}

static void test_fleet_report_merge_groups(void **state)
{
    (void)state;
    json_t *a = json_pack("{s:{s:{s:I,s:I,s:I,s:[[I,I]]}}}", "groups", "fast", "clients", (json_int_t)3, "lost",
                          (json_int_t)1, "live_p95_us", (json_int_t)999, "lat", (json_int_t)100, (json_int_t)19);
    json_t *b = json_pack("{s:{s:{s:I,s:I,s:[[I,I]]}}}", "groups", "fast", "clients", (json_int_t)2, "lost",
                          (json_int_t)4, "lat", (json_int_t)5000, (json_int_t)1);
    json_t *dst = json_object();
    char err[256];
    assert_int_equal(fleet_report_merge(dst, a, 10, err, sizeof err), 0);
    assert_int_equal(fleet_report_merge(dst, b, 10, err, sizeof err), 0);
    json_t *g = json_object_get(json_object_get(dst, "groups"), "fast");
    assert_int_equal(json_integer_value(json_object_get(g, "clients")), 5);
    assert_int_equal(json_integer_value(json_object_get(g, "lost")), 5);
    /* 20 values: 19 at 100 µs, one at 5000 µs -> p95 in the 100 µs bucket, p99 in the 5000 µs one */
    assert_true(json_integer_value(json_object_get(g, "live_p95_us")) < 110);
    assert_true(json_integer_value(json_object_get(g, "live_p99_us")) >= 5000);
    json_decref(a);
    json_decref(b);
    json_decref(dst);
}

static void test_fleet_report_merge_rejects_bad_hist(void **state)
{
    (void)state;
    json_t *src = json_pack("{s:{s:{s:{s:s}}}}", "latency_us", "live", "hist", "unit", "ms");
    json_t *dst = json_object();
    char err[256] = "";
    assert_int_equal(fleet_report_merge(dst, src, 10, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    json_decref(src);
    json_decref(dst);
}

static void test_fleet_report_create_validates(void **state)
{
    (void)state;
    fleet_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    fleet_group_cfg g;
    memset(&g, 0, sizeof g);
    g.count = 1;
    cfg.groups = &g;
    cfg.n_groups = 1;
    snprintf(cfg.client_addr.host, sizeof cfg.client_addr.host, "127.0.0.1");
    cfg.client_addr.port = 1;
    cfg.publish_addr = cfg.client_addr;
    cfg.channels.count = 2;
    snprintf(cfg.channels.pattern, sizeof cfg.channels.pattern, "bad..{i}");
    fleet *f = NULL;
    char err[256];
    assert_int_equal(fleet_create(&cfg, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid"));
    snprintf(cfg.channels.pattern, sizeof cfg.channels.pattern, "ok.{i}");
    g.channels_per_client = 3;
    assert_int_equal(fleet_create(&cfg, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "channels per client"));
    g.channels_per_client = 2;
    cfg.shard_count = 2;
    cfg.shard_index = 2;
    assert_int_equal(fleet_create(&cfg, &f, err, sizeof err), -1);
    cfg.shard_index = 1;
    g.channels_per_client = 1;
    assert_int_equal(fleet_create(&cfg, &f, err, sizeof err), 0);
    fleet_status st;
    fleet_status_get(f, &st);
    assert_int_equal(st.clients, 0); /* the one client falls in shard 0 */
    fleet_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet_report_merge_is_exact),
        cmocka_unit_test(test_fleet_report_merge_groups),
        cmocka_unit_test(test_fleet_report_merge_rejects_bad_hist),
        cmocka_unit_test(test_fleet_report_create_validates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
