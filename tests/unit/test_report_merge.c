/* test_report_merge.c — reports/report_merge: totals (counts add, maxima take
 * the max, counts by reason add), latency histograms added exactly, anomaly
 * examples ordered, capped per kind and tagged; the same events split over
 * 1, 2 and 3 shards merge into exactly the figures of one run, and every
 * verdict (reports/verdict_metric) is judged the same before and after. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "report_gen.h"
#include "report_merge.h"
#include "verdict_metric.h"

static void test_report_merge_totals(void **state)
{
    (void)state;
    char err[256];
    json_t *dst = json_object();
    json_t *a = json_pack("{s:i,s:i,s:f,s:{s:i},s:s}", "delivered", 10, "harness_stall_max_us", 700,
                          "ratio", 0.25, "errors_by_reason", "refused", 2, "note", "x");
    json_t *b = json_pack("{s:i,s:i,s:f,s:{s:i,s:i},s:i}", "delivered", 5, "harness_stall_max_us", 300,
                          "ratio", 0.75, "errors_by_reason", "refused", 1, "reset", 4, "max_clients", 9);
    assert_int_equal(rmerge_totals(dst, a, err, sizeof err), 0);
    assert_int_equal(rmerge_totals(dst, b, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(dst, "delivered")), 15);
    assert_int_equal(json_integer_value(json_object_get(dst, "harness_stall_max_us")), 700);
    assert_true(json_is_integer(json_object_get(dst, "ratio"))); /* 0.25 + 0.75 is whole */
    assert_int_equal(json_integer_value(json_object_get(dst, "ratio")), 1);
    json_t *r = json_object_get(dst, "errors_by_reason");
    assert_int_equal(json_integer_value(json_object_get(r, "refused")), 3);
    assert_int_equal(json_integer_value(json_object_get(r, "reset")), 4);
    assert_null(json_object_get(dst, "note"));
    assert_int_equal(json_integer_value(json_object_get(dst, "max_clients")), 9);
    /* lists of cases (workers_lost) follow one another, the first one included */
    json_t *la = json_pack("{s:[{s:i}]}", "workers_lost", "worker", 1);
    json_t *lb = json_pack("{s:[{s:i},{s:i}]}", "workers_lost", "worker", 2, "worker", 3);
    assert_int_equal(rmerge_totals(dst, la, err, sizeof err), 0);
    assert_int_equal(rmerge_totals(dst, lb, err, sizeof err), 0);
    json_t *wl = json_object_get(dst, "workers_lost");
    assert_int_equal(json_array_size(wl), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(wl, 0), "worker")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(wl, 2), "worker")), 3);
    json_decref(la);
    json_decref(lb);
    assert_true(rmerge_is_max_key("queue_max") && rmerge_is_max_key("stall_max_ms"));
    assert_false(rmerge_is_max_key("maxima") || rmerge_is_max_key("delivered"));
    json_decref(a);
    json_decref(b);
    json_decref(dst);
}

static json_t *lat_part(const uint64_t *v, size_t n)
{
    hist *h = hist_new();
    for (size_t i = 0; i < n; i++)
        hist_record(h, v[i]);
    json_t *j = hist_summary_json(h);
    json_object_set_new(j, "hist", hist_to_json(h));
    hist_free(h);
    return j;
}

static void test_report_merge_latency_is_exact(void **state)
{
    (void)state;
    char err[256];
    static const uint64_t x[] = { 100, 200, 300 }, y[] = { 5000, 6000 }, all[] = { 100, 200, 300, 5000, 6000 };
    json_t *dst = json_object();
    json_t *a = json_pack("{s:o}", "live", lat_part(x, 3));
    json_t *b = json_pack("{s:o,s:o}", "live", lat_part(y, 2), "connect", lat_part(y, 1));
    assert_int_equal(rmerge_latency(dst, a, "a", err, sizeof err), 0);
    assert_int_equal(rmerge_latency(dst, b, "b", err, sizeof err), 0);
    json_t *want = lat_part(all, 5);
    assert_true(json_equal(json_object_get(dst, "live"), want)); /* one histogram of every value */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(dst, "connect"), "count")), 1);
    /* samples without their histogram cannot be merged */
    json_t *c = json_pack("{s:{s:i,s:i}}", "live", "count", 4, "p95", 9);
    assert_int_equal(rmerge_latency(dst, c, "shard-2", err, sizeof err), -1);
    assert_non_null(strstr(err, "shard-2: latency_us.live has no \"hist\""));
    json_t *empty = json_pack("{s:{s:i}}", "resync", "count", 0); /* nothing to add: fine */
    assert_int_equal(rmerge_latency(dst, empty, "shard-3", err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(dst, "resync"), "count")), 0);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(empty);
    json_decref(want);
    json_decref(dst);
}

static void test_report_merge_anomalies(void **state)
{
    (void)state;
    json_t *l0 = json_pack("[{s:s,s:f,s:i},{s:s,s:f,s:i},{s:s,s:f,s:i}]", "kind", "lost", "t_s", 3.0, "client", 1,
                           "kind", "lost", "t_s", 1.0, "client", 2, "kind", "duplicated", "t_s", 2.0, "client", 3);
    json_t *l1 = json_pack("[{s:s,s:f,s:i},{s:s,s:f,s:i}]", "kind", "lost", "t_s", 1.0, "client", 7, "kind",
                           "lost", "t_s", 0.5, "client", 8);
    const json_t *lists[] = { l0, NULL, l1 };
    json_t *out = rmerge_anomalies(lists, 3, 2, 1);
    assert_non_null(out);
    /* lost: 0.5 (list 2), then 1.0 from list 0 before 1.0 from list 2; duplicated kept */
    assert_int_equal(json_array_size(out), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "client")), 8);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "shard")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "client")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "shard")), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 2), "kind")), "duplicated");
    assert_null(json_object_get(json_array_get(l0, 0), "shard")); /* inputs untouched */
    json_decref(out);
    out = rmerge_anomalies(lists, 3, 10, 0);
    assert_int_equal(json_array_size(out), 5);
    assert_null(json_object_get(json_array_get(out, 0), "shard"));
    json_decref(out);
    json_decref(l0);
    json_decref(l1);
}


#define RG_EVENTS 30000

/* The merge of the shards' reports, as the fleet folds its workers' and
 * `rtchaos merge` folds shard files (rmerge_report, one source at a time). */
static json_t *merge_shards(const rg_event *ev, unsigned nshards, int expected_none)
{
    json_t *m = json_object();
    char err[256] = "";
    int tl_exact = 1, groups_exact = 1;
    for (unsigned s = 0; s < nshards; s++) {
        json_t *r = rg_report(ev, RG_EVENTS, s, nshards, expected_none);
        if (rmerge_report(m, r, "shard", &tl_exact, &groups_exact, err, sizeof err) != 0)
            fail_msg("merge: %s", err);
        json_decref(r);
    }
    assert_int_equal(tl_exact, 1);
    assert_int_equal(groups_exact, 1);
    return m;
}

static void assert_same_member(const json_t *one, const json_t *merged, const char *key)
{
    const json_t *a = json_object_get(one, key), *b = json_object_get(merged, key);
    assert_non_null(a);
    if (!json_equal(a, b)) {
        char *x = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT), *y = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
        print_error("%s differs:\n one run: %.600s\n merged:  %.600s\n", key, x, y ? y : "(none)");
        free(x);
        free(y);
        fail();
    }
}

/* Every budget metric (whole run, and per group for each group) judged
 * against both reports with a budget it may pass or fail: identical
 * verdict objects (value, pass, and the reason when there is no value). */
static void assert_same_verdicts(const json_t *one, const json_t *merged)
{
    size_t n, ng, judged = 0, failed = 0;
    const verdict_metric *all = verdict_metrics(&n), *gall = verdict_group_metrics(&ng);
    for (size_t g = 0; g <= RG_GROUPS; g++) {
        size_t cnt = g == RG_GROUPS ? n : ng;
        for (size_t i = 0; i < cnt; i++) {
            char name[160];
            if (g == RG_GROUPS)
                snprintf(name, sizeof name, "%s", all[i].name);
            else
                snprintf(name, sizeof name, "%s.%s", rg_groups[g], gall[i].name);
            static const char *const ops[] = {"<=", ">="};
            for (size_t o = 0; o < 2; o++) {
                json_t *a = verdict_judge(name, ops[o], 40.0, NULL, one);
                json_t *b = verdict_judge(name, ops[o], 40.0, NULL, merged);
                if (!json_equal(a, b)) {
                    char *x = json_dumps(a, JSON_SORT_KEYS), *y = json_dumps(b, JSON_SORT_KEYS);
                    print_error("verdict %s %s judged differently:\n one run: %s\n merged:  %s\n", name, ops[o], x, y);
                    free(x);
                    free(y);
                    fail();
                }
                judged++;
                failed += !json_is_true(json_object_get(a, "pass"));
                json_decref(a);
                json_decref(b);
            }
        }
    }
    /* both outcomes occur, so "the same" is not "all fail" */
    assert_true(failed > 0 && failed < judged);
}

static void test_report_merge_shards_equal_one_run(void **state)
{
    (void)state;
    rg_event *ev = rg_events(42, RG_EVENTS);
    assert_non_null(ev);
    json_t *one = rg_report(ev, RG_EVENTS, 0, 1, 0);
    /* the run has samples in every latency kind and a second with nothing */
    for (int k = 0; k < RG_KINDS; k++)
        assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(one, "latency_us"),
                                                                       rg_kinds[k]), "count")) > 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(one, "timeline"), 7),
                                                        "delivered")), 0);
    for (unsigned nshards = 1; nshards <= 3; nshards++) {
        json_t *m = merge_shards(ev, nshards, 0);
        static const char *const members[] = {"totals", "latency_us", "timeline", "groups", "attacks"};
        for (size_t i = 0; i < sizeof members / sizeof *members; i++)
            assert_same_member(one, m, members[i]);
        assert_same_verdicts(one, m);
        json_decref(m);
    }
    json_decref(one);
    free(ev);
}

/* Nothing expected: delivered_ratio is undefined, so its budget fails in
 * the run and fails after the merge too (a merge never invents a pass). */
static void test_report_merge_nothing_expected_judged_alike(void **state)
{
    (void)state;
    rg_event *ev = rg_events(7, RG_EVENTS);
    json_t *one = rg_report(ev, RG_EVENTS, 0, 1, 1);
    json_t *m = merge_shards(ev, 2, 1);
    json_t *a = verdict_judge("delivered_ratio", ">=", 0.5, NULL, one);
    json_t *b = verdict_judge("delivered_ratio", ">=", 0.5, NULL, m);
    assert_true(json_is_false(json_object_get(a, "pass")));
    assert_non_null(strstr(json_string_value(json_object_get(a, "error")), "undefined"));
    assert_true(json_equal(a, b));
    assert_same_verdicts(one, m);
    json_decref(a);
    json_decref(b);
    json_decref(m);
    json_decref(one);
    free(ev);
}

/* A row or group without its buckets cannot merge exactly: the merge says
 * so and takes the max (an upper bound), never a lower figure. */
static void test_report_merge_rows_without_buckets_inexact(void **state)
{
    (void)state;
    char err[256];
    json_t *d = json_object();
    json_t *a = json_pack("{s:[{s:i,s:i,s:i,s:[[ii]]}]}", "timeline", "t_s", 3, "delivered", 2, "p95_us", 900,
                          "lat", 900, 2);
    json_t *b = json_pack("{s:[{s:i,s:i,s:i}]}", "timeline", "t_s", 3, "delivered", 5, "p95_us", 5000);
    int exact = 1, gexact = 1;
    assert_int_equal(rmerge_report(d, a, "a", &exact, &gexact, err, sizeof err), 0);
    assert_int_equal(exact, 1);
    assert_int_equal(rmerge_report(d, b, "b", &exact, &gexact, err, sizeof err), 0);
    assert_int_equal(exact, 0);
    const json_t *row = json_array_get(json_object_get(d, "timeline"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "delivered")), 7);
    assert_int_equal(json_integer_value(json_object_get(row, "p95_us")), 5000);
    assert_null(json_object_get(row, "lat"));
    json_decref(a);
    json_decref(b);
    json_decref(d);
}

/* A namespaces run's shard: its network object and one kernel partition. */
static json_t *net_shard(json_int_t retrans, json_int_t out, json_int_t est_end, json_int_t est_max,
                         double idle_close_s, json_int_t seen, json_int_t acted, int kernel_htb)
{
    return json_pack("{s:[{s:s,s:s,s:f,s:s,s:I,s:I,s:f,s:f,s:{s:f,s:{s:i},s:{s:i}}},"
                     "{s:s,s:s,s:f}],"
                     "s:{s:b,s:s,s:{s:s},s:{s:b,s:b},"
                     "s:{s:{s:I,s:I,s:f,s:i,s:{s:I},s:{s:I}},s:{s:I,s:I,s:f}},"
                     "s:f,s:[{s:f,s:s}]}}",
                     "faults", "name", "cut", "toxic", "partition", "planned_from_s", 2.0, "mechanism", "nftables",
                     "packets_seen", seen, "packets_acted", acted, "acted_pct", 100.0 * (double)acted / (double)seen,
                     "server_link_closed_after_s", idle_close_s, "tcp_at_apply", "t_s", 2.0 + idle_close_s / 10,
                     "server", "ESTABLISHED", 4, "client", "ESTABLISHED", 4,
                     "name", "slow", "toxic", "latency", "planned_from_s", 9.0,
                     "network", "namespaces", 1, "server_ns", "rtchaos-1-srv", "group_addrs", "g", "198.18.0.10",
                     "kernel", "nftables", 1, "htb", kernel_htb,
                     "tcp", "server", "retrans_segs", retrans, "out_segs", out, "retrans_pct",
                     100.0 * (double)retrans / (double)out, "sockets_retransmitting_max", 3, "states_end",
                     "ESTABLISHED", est_end, "states_max", "ESTABLISHED", est_max, "client", "retrans_segs", 1,
                     "out_segs", 10, "retrans_pct", 10.0, "server_idle_close_s", idle_close_s, "samples", "t_s", 1.0,
                     "at", "periodic");
}

/* `rtchaos merge` of namespaces shards keeps the network object and the
 * kernel faults' figures: counters add, percentages recomputed from the
 * sums, the slowest close, and a kernel mechanism only when all had it. */
static void test_report_merge_network(void **state)
{
    (void)state;
    char err[256];
    json_t *d = json_object();
    json_t *a = net_shard(30, 1000, 4, 6, 4.5, 100, 40, 1), *b = net_shard(10, 3000, 2, 5, 5.0, 300, 300, 0);
    int exact = 1, gexact = 1;
    assert_int_equal(rmerge_report(d, a, "a", &exact, &gexact, err, sizeof err), 0);
    assert_int_equal(rmerge_report(d, b, "b", &exact, &gexact, err, sizeof err), 0);
    const json_t *net = json_object_get(d, "network");
    assert_non_null(net);
    const json_t *srv = json_object_get(json_object_get(net, "tcp"), "server");
    assert_int_equal(json_integer_value(json_object_get(srv, "retrans_segs")), 40);
    assert_int_equal(json_integer_value(json_object_get(srv, "out_segs")), 4000);
    assert_true(fabs(json_real_value(json_object_get(srv, "retrans_pct")) - 1.0) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(srv, "sockets_retransmitting_max")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(srv, "states_end"), "ESTABLISHED")), 6);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(srv, "states_max"), "ESTABLISHED")), 6);
    const json_t *cli = json_object_get(json_object_get(net, "tcp"), "client");
    assert_true(fabs(json_real_value(json_object_get(cli, "retrans_pct")) - 10.0) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(net, "server_idle_close_s")) - 5.0) < 1e-9);
    assert_true(json_is_true(json_object_get(json_object_get(net, "kernel"), "nftables")));
    assert_true(json_is_false(json_object_get(json_object_get(net, "kernel"), "htb")));
    assert_int_equal(json_array_size(json_object_get(net, "samples")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(net, "samples"), 1), "shard")),
                        "b");
    /* the partition is one entry with both shards' figures; the proxy fault stays one */
    const json_t *faults = json_object_get(d, "faults");
    assert_int_equal(json_array_size(faults), 2);
    const json_t *cut = json_array_get(faults, 0);
    assert_int_equal(json_integer_value(json_object_get(cut, "packets_seen")), 400);
    assert_int_equal(json_integer_value(json_object_get(cut, "packets_acted")), 340);
    assert_true(fabs(json_real_value(json_object_get(cut, "acted_pct")) - 85.0) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(cut, "server_link_closed_after_s")) - 5.0) < 1e-9);
    const json_t *ap = json_object_get(cut, "tcp_at_apply");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ap, "server"), "ESTABLISHED")), 8);
    assert_true(fabs(json_real_value(json_object_get(ap, "t_s")) - 2.45) < 1e-9);
    /* a third shard whose server never let go: no close time for the whole */
    json_t *c = net_shard(0, 10, 0, 1, 1.0, 10, 10, 1);
    json_object_del(json_object_get(c, "network"), "server_idle_close_s");
    json_object_del(json_array_get(json_object_get(c, "faults"), 0), "server_link_closed_after_s");
    assert_int_equal(rmerge_report(d, c, "c", &exact, &gexact, err, sizeof err), 0);
    assert_null(json_object_get(json_object_get(d, "network"), "server_idle_close_s"));
    assert_null(json_object_get(json_array_get(json_object_get(d, "faults"), 0), "server_link_closed_after_s"));
    assert_int_equal(json_array_size(json_object_get(d, "faults")), 2);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_merge_totals),
        cmocka_unit_test(test_report_merge_network),
        cmocka_unit_test(test_report_merge_latency_is_exact),
        cmocka_unit_test(test_report_merge_anomalies),
        cmocka_unit_test(test_report_merge_shards_equal_one_run),
        cmocka_unit_test(test_report_merge_nothing_expected_judged_alike),
        cmocka_unit_test(test_report_merge_rows_without_buckets_inexact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
