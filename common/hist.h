/* hist.h — HDR-style log-linear latency histogram over 0 .. 1 h in two
 * precisions (3 significant digits, or coarse ~3% buckets for per-second
 * timelines): exact merge, percentiles, a stable JSON form for report.json. */
#ifndef RTCHAOS_HIST_H
#define RTCHAOS_HIST_H
#include <stdint.h>
#include <jansson.h>

#define HIST_LOWEST_US  1ULL
#define HIST_HIGHEST_US 3600000000ULL /* 1 h */

/* Precision (the HdrHistogram bucket layout with 2^(k+1) sub-buckets):
 *  HIST_FINE   values below 2048 are exact; above, each power-of-two range
 *              is split into 1024 equal sub-buckets, so a recorded value is
 *              known to within 1/1024 (better than 3 significant digits).
 *  HIST_COARSE values below 64 are exact; above, each power-of-two range is
 *              split into 32 sub-buckets (within ~3%): small enough to keep
 *              one per second of a run (the report's timeline and client
 *              groups). A coarse histogram knows a value only by its bucket:
 *              its min, max and percentiles are bucket bounds (lowest value
 *              of the lowest bucket, highest value of the highest one), so a
 *              histogram rebuilt from its buckets (hist_add_buckets_json)
 *              gives exactly the same figures as the one that recorded.
 * Not thread-safe: one histogram per thread, merged afterwards (merging is
 * exact: counts add). */
typedef struct hist hist;
typedef enum hist_precision { HIST_FINE = 0, HIST_COARSE = 1 } hist_precision;

/* Returns a zeroed histogram or NULL on allocation failure; free with
 * hist_free. hist_new is hist_new_precision(HIST_FINE): about 190 KiB;
 * a coarse one is about 7 KiB. */
hist *hist_new(void);
hist *hist_new_precision(hist_precision p);
hist_precision hist_get_precision(const hist *h);
void hist_free(hist *h);
void hist_reset(hist *h);

/* Records one (or n) values in µs. Values above HIST_HIGHEST_US are recorded
 * as HIST_HIGHEST_US and counted in hist_clamped(); 0 is recorded as 0. */
void hist_record(hist *h, uint64_t value_us);
void hist_record_n(hist *h, uint64_t value_us, uint64_t n);

/* dst += src. Exact when both have the same precision (percentiles of the
 * merge equal those of all values recorded into one histogram), and when
 * src is finer than dst (every fine bucket lies inside one coarse bucket).
 * A coarse src merged into a fine dst records each bucket at its highest
 * value (the figure the coarse histogram itself reports for it). */
void hist_merge(hist *dst, const hist *src);

uint64_t hist_count(const hist *h);
uint64_t hist_clamped(const hist *h);
/* Min / max of recorded values (0 when empty): exact for HIST_FINE, bucket
 * bounds for HIST_COARSE. */
uint64_t hist_min(const hist *h);
uint64_t hist_max(const hist *h);
double hist_mean(const hist *h);

/* Value at percentile pct in [0,100]: the highest value equivalent to the
 * bucket holding the ceil(pct/100 * count)-th smallest value, capped at the
 * exact max. 0 when empty. */
uint64_t hist_percentile(const hist *h, double pct);

/* ---- the coarse layout as bare counts ----------------------------------
 * The checker's per-second rows and the live status line keep plain count
 * arrays of HIST_COARSE_BUCKETS in the coarse layout (no histogram header
 * per second, and counters another thread may read with relaxed atomics);
 * these read and write them with the same buckets and rank rule as a
 * coarse histogram. Values above HIST_HIGHEST_US land in the last bucket. */
#define HIST_COARSE_BUCKETS 886u /* hist_coarse_index(HIST_HIGHEST_US) + 1 */
unsigned hist_coarse_index(uint64_t value_us);
uint64_t hist_coarse_low(unsigned i);
uint64_t hist_coarse_high(unsigned i);
/* h (coarse) += counts[0..HIST_COARSE_BUCKETS). */
void hist_add_coarse_counts(hist *h, const uint32_t *counts);
/* What hist_percentile returns for a coarse histogram holding counts. */
uint64_t hist_coarse_counts_percentile(const uint32_t *counts, double pct);

/* The buckets alone, as report.json's timeline rows and groups carry them:
 * [[v,c],…], v = lowest value of a bucket, ascending, c > 0. New reference. */
json_t *hist_buckets_json(const hist *h);
/* Adds buckets of that form into h: each count goes to the bucket of h
 * holding v (so coarse buckets read into a coarse histogram are exact). A
 * JSON null adds nothing. Returns 0, or -1 with err (h unchanged). */
int hist_add_buckets_json(hist *h, const json_t *buckets, char *err, unsigned long errlen);

/* Stable serialized form (what report.json stores):
 *   {"unit":"us","sig_digits":3 (HIST_COARSE: "sig_digits":1, "resolution_pct":3),"count":N,"min":…,"max":…,"clamped":…,
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
