/* report_merge.h — merging the parts of report.json that combine exactly:
 * totals (counts add, maxima take the max), latency histograms (added
 * through their "hist" members, percentiles recomputed) and the bounded
 * list of anomaly examples. One implementation for the fleet, which folds
 * its worker processes' reports into the run's, and for `rtchaos merge`,
 * which combines shard reports. */
#ifndef RTCHAOS_REPORT_MERGE_H
#define RTCHAOS_REPORT_MERGE_H
#include <stddef.h>

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

#endif
