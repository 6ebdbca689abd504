/* report_merge.h — the one merge of report.json's figures: totals (counts
 * add, maxima take the max), latency histograms (added through their "hist"
 * members, percentiles recomputed), per-second timeline rows and client
 * groups (coarse buckets added, percentiles recomputed), the attackers'
 * outcomes and the bounded list of anomaly examples. Used by the fleet,
 * which folds its worker processes' reports into the run's, and by
 * `rtchaos merge`, which combines shard reports; the fleet builds its own
 * rows and groups with rmerge_timeline_row / rmerge_group_latency, so one
 * run and its shards merged give identical figures. */
#ifndef RTCHAOS_REPORT_MERGE_H
#define RTCHAOS_REPORT_MERGE_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Whether a totals key is a maximum rather than a count ("max_…", "…_max",
 * "…_max_us", "…_max_ms"): merged by taking the larger value. */
int rmerge_is_max_key(const char *key);

/* v as a JSON integer when it is whole (and exactly representable), else a
 * real. New reference. */
json_t *rmerge_number(double v);

/* Adds the totals object src into dst: numbers add (integers stay exact
 * integers), maxima (rmerge_is_max_key) take the larger; a nested object of
 * counts (e.g. "errors_by_reason") adds name by name (rmerge_counts); other
 * values are ignored. Returns 0, or -1 with err when out of memory. */
int rmerge_totals(json_t *dst, const json_t *src, char *err, size_t errlen);

/* parent.key (an object of counts by name, created when missing) += src,
 * name by name (e.g. "errors_by_reason", an attack's "by_outcome"). Returns
 * 0, or -1 with err when out of memory. */
int rmerge_counts(json_t *parent, const char *key, const json_t *src, char *err, size_t errlen);

/* dst.name = the latency part dst.name + src_part, where each part is a
 * hist_summary_json object with its "hist" member (dst.name may be missing):
 * one histogram, its summary recomputed. A src_part with samples (count >
 * 0) but no "hist" is an error: percentiles are never averaged. src_name
 * names src_part in messages. Returns 0 or -1 with err. */
int rmerge_hist_part(json_t *dst, const char *name, const json_t *src_part, const char *src_name,
                     char *err, size_t errlen);

/* Adds the latency_us object src into dst: rmerge_hist_part for each of its
 * kinds (summary: count, p50, p95, p99, p999, max, mean, plus "hist").
 * Returns 0 or -1 with err. */
int rmerge_latency(json_t *dst, const json_t *src, const char *src_name, char *err, size_t errlen);

/* Sets report.wire, the cost of the stream on the wire, from the byte
 * counts in report.totals (bytes_rx, bytes_tx, client_open_ms, delivered
 * and their *_by_transport objects): bytes per delivered event and per
 * client-minute connected, whole run and by transport (null where the
 * denominator is 0). Derived only, so it is rebuilt after every merge
 * (rmerge_report calls it). Nothing is set when totals has no bytes_rx.
 * Returns 0, or -1 when out of memory. */
int rmerge_wire(json_t *report);

/* Adds the attack object src (report.json's "attacks", or a group's
 * "attack": counts, "by_outcome", the "cut_us" histogram part, and
 * descriptive members) into dst exactly: numbers add, by_outcome adds name
 * by name (rmerge_counts), cut_us through rmerge_hist_part, other members
 * of src are copied when dst lacks them. Returns 0 or -1 with err. */
int rmerge_attack(json_t *dst, const json_t *src, const char *src_name, char *err, size_t errlen);

/* The anomaly examples of lists[0..n) (each a JSON array, or NULL) as one
 * array ordered by "t_s" (ties keep list order), keeping the earliest
 * per_kind of each "kind". With tag_list set, each kept example is a copy
 * with "shard": its list's index added (client ids are per list); otherwise
 * the examples themselves are kept. New reference, or NULL when out of
 * memory. */
json_t *rmerge_anomalies(const json_t *const *lists, size_t n, size_t per_kind, int tag_list);

/* One timeline row as report.json carries it: t_s, the counters,
 * "p50_us"/"p95_us"/"p99_us" (0 when nothing was received that second) and
 * "lat", the live latency as coarse buckets (hist_buckets_json of a
 * HIST_COARSE histogram) from counts[HIST_COARSE_BUCKETS]. New reference,
 * NULL when out of memory. */
json_t *rmerge_timeline_row(uint64_t t_s, uint64_t published, uint64_t delivered, uint64_t connected,
                            uint64_t reconnects, const uint32_t *lat_counts);

/* Sets a client group's "live_p50_us"/"live_p95_us"/"live_p99_us" and
 * "lat" from counts[HIST_COARSE_BUCKETS]. Returns 0, or -1 out of memory. */
int rmerge_group_latency(json_t *group, const uint32_t *lat_counts);

/* dst.timeline += src_timeline: rows align on t_s (shards and workers share
 * the run's clock origin and write one row per whole second) and stay
 * ordered by it; counters add, maxima take the max, "lat" buckets add and
 * the percentiles are recomputed from them. A row that carries no "lat"
 * while it delivered something cannot be merged exactly: its percentiles
 * take the max (an upper bound), the row loses "lat", and *exact is set to
 * 0 (left alone otherwise). Returns 0 or -1 with err. */
int rmerge_timeline(json_t *dst_report, const json_t *src_timeline, int *exact, char *err, size_t errlen);

/* dst.groups += src_groups, group by name: counters add, maxima take the
 * max, "attack" through rmerge_attack, "lat" buckets add and
 * live_pNN_us are recomputed (without "lat" on both sides: the max, and
 * *exact = 0); other members are copied when dst lacks them. Returns 0 or
 * -1 with err. */
int rmerge_groups(json_t *dst_report, const json_t *src_groups, int *exact, char *err, size_t errlen);

/* dst.network += src_net (report_merge_net.c), src_net from a run with
 * network.namespaces, each shard on its own server and link: TCP counters
 * of each side add (retrans_pct recomputed), *_max and states_max per state
 * the larger, states_end per state add, kernel mechanisms only when every
 * source had them, server_idle_close_s the largest and only when every
 * source has it, samples appended tagged "shard": src_name; names and
 * addresses the first source's. Nothing when src_net is not an object.
 * Returns 0 or -1 with err. */
int rmerge_network(json_t *dst_report, const json_t *src_net, const char *src_name, char *err, size_t errlen);

/* dst.faults += src_faults: kernel-fault entries (with "mechanism") matched
 * by name and planned_from_s merge their figures (packets_seen/acted add,
 * acted_pct recomputed, server_link_closed_after_s the largest and only when
 * both have it, tcp_at_apply/lift states add); other entries are appended
 * unless an equal one is there. Returns 0 or -1 with err. */
int rmerge_faults(json_t *dst_report, const json_t *src_faults, char *err, size_t errlen);

/* dst += src for every figure that merges exactly: totals, latency_us,
 * timeline, groups, attacks, faults and network (not anomalies: see rmerge_anomalies, nor
 * verdicts: see common/verdict_eval.h). src_name names src in messages;
 * *tl_exact / *groups_exact as rmerge_timeline / rmerge_groups. Returns 0
 * or -1 with err (dst may then be partly merged). */
int rmerge_report(json_t *dst, const json_t *src, const char *src_name, int *tl_exact, int *groups_exact,
                  char *err, size_t errlen);

#endif
