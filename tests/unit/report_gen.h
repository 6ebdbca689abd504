/* report_gen.h — for tests: one set of recorded events turned into report.json
 * figures the way the fleet writes them (latency_us histogram parts, totals,
 * per-second timeline rows and client groups through rmerge_timeline_row /
 * rmerge_group_latency, attackers' outcomes), for the whole run or for the
 * share of one shard, so a test can check that shards merged give exactly
 * the figures of one run. Header-only: static functions, included by the
 * tests that need it. */
#ifndef RTCHAOS_TEST_REPORT_GEN_H
#define RTCHAOS_TEST_REPORT_GEN_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hist.h"
#include "prng.h"
#include "report_merge.h"

#define RG_SECONDS 12
#define RG_GROUPS 3
#define RG_KINDS 5 /* live, replay, connect, resync, reconnect */

static const char *const rg_kinds[RG_KINDS] = {"live", "replay", "connect", "resync", "reconnect"};
static const char *const rg_groups[RG_GROUPS] = {"fast", "slow", "flood"};

/* One recorded thing: a latency sample of a kind (live ones also count in
 * their second's row and their group), or an attack attempt (group 2). */
typedef struct rg_event {
    uint32_t client;  /* decides the shard: client % nshards */
    uint8_t kind;     /* index in rg_kinds, or RG_KINDS for an attack attempt */
    uint8_t group;
    uint8_t lost;     /* a live event that was lost (counted, no latency) */
    uint16_t t_s;
    uint64_t value_us;
} rg_event;

/* n events from a seeded PRNG: long-tailed latencies (up to minutes), some
 * seconds with nothing live, lost events, attackers' cut times. */
static rg_event *rg_events(uint64_t seed, size_t n)
{
    rg_event *ev = calloc(n, sizeof *ev);
    prng r;
    prng_seed(&r, seed);
    for (size_t i = 0; ev && i < n; i++) {
        rg_event *e = &ev[i];
        e->client = (uint32_t)prng_below(&r, 500);
        e->group = (uint8_t)(e->client % RG_GROUPS);
        e->t_s = (uint16_t)prng_below(&r, RG_SECONDS);
        if (e->t_s == 7)
            e->t_s = 8; /* a second in which nothing at all happens */
        if (e->group == 2) {
            e->kind = RG_KINDS;
            e->value_us = 1000 + prng_below(&r, 3000000);
            continue;
        }
        uint64_t pick = prng_below(&r, 100);
        e->kind = pick < 80 ? 0 : pick < 88 ? 1 : pick < 94 ? 2 : pick < 98 ? 3 : 4;
        double v = prng_pareto(&r, e->group == 0 ? 300.0 : 5000.0, 1.1);
        e->value_us = v > 2e8 ? 200000000u : (uint64_t)v;
        e->lost = e->kind == 0 && prng_below(&r, 50) == 0;
    }
    return ev;
}

static json_t *rg_hist_part(const hist *h)
{
    json_t *j = hist_summary_json(h);
    json_object_set_new(j, "hist", hist_to_json(h));
    return j;
}

/* The report of the events of shard `shard` of `nshards` (nshards 1: the
 * whole run), with nothing expected when expected_none. New reference. */
static json_t *rg_report(const rg_event *ev, size_t n, unsigned shard, unsigned nshards, int expected_none)
{
    hist *kind[RG_KINDS], *cut = hist_new();
    for (int k = 0; k < RG_KINDS; k++)
        kind[k] = hist_new();
    static uint32_t row_lat[RG_SECONDS][HIST_COARSE_BUCKETS], grp_lat[RG_GROUPS][HIST_COARSE_BUCKETS];
    memset(row_lat, 0, sizeof row_lat);
    memset(grp_lat, 0, sizeof grp_lat);
    uint64_t row_pub[RG_SECONDS] = {0}, row_del[RG_SECONDS] = {0}, row_rec[RG_SECONDS] = {0};
    uint64_t g_del[RG_GROUPS] = {0}, g_live[RG_GROUPS] = {0}, g_lost[RG_GROUPS] = {0};
    uint64_t delivered = 0, lost = 0, attempts = 0, rejected = 0, max_live = 0;
    int last_row = -1;
    for (size_t i = 0; i < n; i++) {
        const rg_event *e = &ev[i];
        if (e->client % nshards != shard)
            continue;
        if ((int)e->t_s > last_row)
            last_row = e->t_s;
        if (e->kind == RG_KINDS) {
            attempts++;
            if (e->value_us % 10 != 0) { /* 9 in 10 refused */
                rejected++;
                hist_record(cut, e->value_us);
            }
            continue;
        }
        if (e->kind == 0) {
            row_pub[e->t_s]++;
            if (e->lost) {
                lost++;
                g_lost[e->group]++;
                continue;
            }
            row_del[e->t_s]++;
            row_lat[e->t_s][hist_coarse_index(e->value_us)]++;
            grp_lat[e->group][hist_coarse_index(e->value_us)]++;
            g_live[e->group]++;
            g_del[e->group]++;
            delivered++;
            if (e->value_us > max_live)
                max_live = e->value_us;
        } else if (e->kind == 4) {
            row_rec[e->t_s]++;
        }
        hist_record(kind[e->kind], e->value_us);
    }
    json_t *rep = json_object();
    uint64_t clients = 0; /* the shard's share of client ids 0..499 */
    for (uint32_t c = 0; c < 500; c++)
        clients += c % nshards == shard;
    json_object_set_new(rep, "totals",
                        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "clients", (json_int_t)clients,
                                  "delivered", (json_int_t)(expected_none ? 0 : delivered), "expected",
                                  (json_int_t)(expected_none ? 0 : delivered + lost), "lost",
                                  (json_int_t)(expected_none ? 0 : lost), "reconnects",
                                  (json_int_t)hist_count(kind[4]), "harness_stall_max_us",
                                  (json_int_t)(max_live / 1000)));
    json_t *lat = json_object();
    for (int k = 0; k < RG_KINDS; k++)
        json_object_set_new(lat, rg_kinds[k], rg_hist_part(kind[k]));
    json_object_set_new(rep, "latency_us", lat);
    json_t *tl = json_array();
    for (int t = 0; t <= last_row; t++)
        json_array_append_new(tl, rmerge_timeline_row((uint64_t)t, row_pub[t], row_del[t], row_pub[t], row_rec[t], row_lat[t]));
    json_object_set_new(rep, "timeline", tl);
    json_t *groups = json_object();
    for (int g = 0; g < RG_GROUPS; g++) {
        json_t *o = json_pack("{s:I,s:I,s:I,s:I}", "clients", (json_int_t)0, "delivered", (json_int_t)g_del[g],
                              "live", (json_int_t)g_live[g], "lost", (json_int_t)g_lost[g]);
        rmerge_group_latency(o, grp_lat[g]);
        if (g == 2) {
            json_t *a = json_pack("{s:I,s:I,s:I,s:{s:I}}", "attempts", (json_int_t)attempts, "rejected",
                                  (json_int_t)rejected, "unexpected", (json_int_t)(attempts - rejected),
                                  "by_outcome", "429", (json_int_t)rejected);
            json_object_set_new(a, "cut_us", rg_hist_part(cut));
            json_object_set_new(o, "attack", a);
        }
        json_object_set_new(groups, rg_groups[g], o);
    }
    json_object_set_new(rep, "groups", groups);
    json_t *attacks = json_deep_copy(json_object_get(json_object_get(groups, "flood"), "attack"));
    json_object_set_new(rep, "attacks", attacks);
    for (int k = 0; k < RG_KINDS; k++)
        hist_free(kind[k]);
    hist_free(cut);
    return rep;
}

#endif
