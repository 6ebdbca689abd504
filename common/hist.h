/* hist.h — HDR-style log-linear latency histogram: 3 significant digits over
 * 1 µs .. 1 h, exact merge, percentiles, a stable JSON form for report.json. */
#ifndef RTCHAOS_HIST_H
#define RTCHAOS_HIST_H
#include <stdint.h>
#include <jansson.h>

#define HIST_LOWEST_US  1ULL
#define HIST_HIGHEST_US 3600000000ULL /* 1 h */

/* Buckets: values below 2048 are exact; above, each power-of-two range is
 * split into 1024 equal sub-buckets, so a recorded value is known to within
 * 1/1024 (better than 3 significant digits). Not thread-safe: one histogram
 * per thread, merged afterwards (merging is exact: counts add). */
typedef struct hist hist;

/* Returns a zeroed histogram or NULL on allocation failure; free with
 * hist_free. About 190 KiB each. */
hist *hist_new(void);
void hist_free(hist *h);
void hist_reset(hist *h);

/* Records one (or n) values in µs. Values above HIST_HIGHEST_US are recorded
 * as HIST_HIGHEST_US and counted in hist_clamped(); 0 is recorded as 0. */
void hist_record(hist *h, uint64_t value_us);
void hist_record_n(hist *h, uint64_t value_us, uint64_t n);

/* dst += src. Exact: percentiles of the merge equal those of all values
 * recorded into one histogram. */
void hist_merge(hist *dst, const hist *src);

uint64_t hist_count(const hist *h);
uint64_t hist_clamped(const hist *h);
/* Exact min / max of recorded values (0 when empty). */
uint64_t hist_min(const hist *h);
uint64_t hist_max(const hist *h);
double hist_mean(const hist *h);

/* Value at percentile pct in [0,100]: the highest value equivalent to the
 * bucket holding the ceil(pct/100 * count)-th smallest value, capped at the
 * exact max. 0 when empty. */
uint64_t hist_percentile(const hist *h, double pct);

/* Stable serialized form (what report.json stores):
 *   {"unit":"us","sig_digits":3,"count":N,"min":…,"max":…,"clamped":…,
 *    "sum_us":…, "buckets":[[v,c],…]}   v = lowest value of a bucket, ascending,
 *    c > 0; sum_us (the exact sum, for the mean) is optional on input.
 * hist_to_json returns a new reference (caller decrefs). */
json_t *hist_to_json(const hist *h);
/* Adds the counts of a serialized histogram into h (so reading N shard files
 * into one histogram merges them). Returns 0, or -1 with a message in err. */
int hist_add_json(hist *h, const json_t *j, char *err, unsigned long errlen);

/* The summary object report.json carries per histogram:
 * {"count","p50","p95","p99","p999","max","mean"}; new reference. */
json_t *hist_summary_json(const hist *h);

#endif
