/* rdoc.h — internal to reports/: reading report.json (rtchaos.report/1)
 * documents, metric lookup by name, fault lookup, small file helpers. */
#ifndef RTCHAOS_RDOC_H
#define RTCHAOS_RDOC_H
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "hist.h"

#define RDOC_SCHEMA "rtchaos.report/1"
#define RDOC_NKINDS 4
/* "live", "replay", "connect", "resync": the latency_us members, in order. */
extern const char *const rdoc_latency_kinds[RDOC_NKINDS];

/* Loads a report file and checks "schema". New reference, or NULL with err. */
json_t *rdoc_load(const char *path, char *err, size_t errlen);
/* Same, for DIR/report.json when dir_or_file is a directory; the path read
 * is copied to path_out (may be NULL). */
json_t *rdoc_load_dir(const char *dir_or_file, char *path_out, size_t path_len, char *err, size_t errlen);

/* obj[key] as a number: 0 and *out set, or -1 when absent / not a number. */
int rdoc_num(const json_t *obj, const char *key, double *out);
double rdoc_num_or(const json_t *obj, const char *key, double dflt);
const char *rdoc_str_or(const json_t *obj, const char *key, const char *dflt);

/* latency_us[kind] (an object) or NULL. Borrowed. */
const json_t *rdoc_latency(const json_t *rep, const char *kind);
/* A histogram holding lat_kind["hist"] (empty, *present = 0, when the member
 * is absent). Caller frees with hist_free. NULL with err on a malformed
 * "hist" or no memory. */
hist *rdoc_hist(const json_t *lat_kind, int *present, char *err, size_t errlen);

/* The number at a dotted path ("groups.fast.lost"); -1 when absent. */
int rdoc_path_num(const json_t *rep, const char *path, double *out);
/* Value of a named metric (see reports.h, "compare"): latency ones in µs; a
 * name with a '.' is a dotted path into the report.
 * 0 and *out, or -1 when the report does not have it. */
int rdoc_metric(const json_t *rep, const char *name, double *out);
int rdoc_metric_is_latency(const char *name);
int rdoc_metric_higher_is_better(const char *name);
/* totals.delivered / totals.expected; -1 if absent or expected is 0 (the
 * ratio is undefined then, as verdicts read it). */
int rdoc_ratio(const json_t *totals, double *out);
/* The measured value for a verdict name ("p95_live_ms", "resync_p95_ms",
 * "lost", "delivered_ratio", "fast.lost"), in the verdict's unit, read as
 * verdicts read it (verdict_value, reports/verdict_metric.h); a name that
 * is no budget metric is read as rdoc_metric reads it (a dotted path, a
 * totals member). -1 when the report has no value for it. */
int rdoc_verdict_metric(const json_t *rep, const char *vname, double *out);

/* What was going on at t_s: every fault window holding it, and the latest
 * instant fault of the 10 s before ("none" when nothing). Into buf. */
const char *rdoc_faults_at(const json_t *rep, double t_s, char *buf, size_t len);
/* "name (toxic)" or the one present; written into buf, returned. */
const char *rdoc_fault_label(const json_t *fault, char *buf, size_t len);

void rdoc_path(char *buf, size_t len, const char *dir, const char *name);
int rdoc_mkdir(const char *path, char *err, size_t errlen);
/* fopen(dir/name, "w"); NULL with err. */
FILE *rdoc_fopen(const char *dir, const char *name, char *err, size_t errlen);
/* fclose, turning any earlier write error into -1 with err. */
int rdoc_fclose(FILE *f, const char *name, char *err, size_t errlen);
/* Whole file, NUL-terminated; caller frees. NULL with err. */
char *rdoc_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* µs shown as ms with about 3 significant digits; "n/a" for NAN. */
void rdoc_fmt_ms(char *buf, size_t len, double us);
/* An integer without decimals, else 4 significant digits; "n/a" for NAN. */
void rdoc_fmt_num(char *buf, size_t len, double v);
/* rdoc_fmt_num with `digits` significant digits for non-integers. */
void rdoc_fmt_num_digits(char *buf, size_t len, double v, int digits);

#endif
