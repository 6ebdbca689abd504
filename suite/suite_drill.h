/* suite_drill.h — internal to suite/: what a drill judges around its run:
 * /metrics samples summed, the watches and the restore budgets. */
#ifndef RTCHAOS_SUITE_DRILL_H
#define RTCHAOS_SUITE_DRILL_H
#include <stddef.h>
#include <jansson.h>

#include "suite_def.h"

/* Sum of the values of every sample of `metric` in a Prometheus text
 * exposition whose label set contains `labels` (NULL = any). Samples of
 * other metrics sharing the prefix (metric_bucket, …) are not counted.
 * Returns 0 with *out, or -1 when no sample matched. */
int suite_drill_prom_sum(const char *text, const char *metric, const char *labels, double *out);

/* Samples of one watch over the run: t (seconds of run time) → value. */
typedef struct suite_samples {
    double *t, *v;
    size_t n, cap;
} suite_samples;

int suite_samples_add(suite_samples *s, double t, double v);
void suite_samples_free(suite_samples *s);

/* Judges a watch on its samples; writes a one-line explanation into why.
 * Returns 1 pass, 0 fail. */
int suite_drill_watch_judge(const suite_watch *w, const suite_samples *s, char *why, size_t len);

/* Judges a restore budget on report.timeline. The budget's window is in
 * run time (t = 0 after warm-up, like a fault's `at`); the report's t_s
 * count from the start of warm-up, so rows are matched at t_s - warmup_s.
 * Returns 1 pass, 0 fail (also when the window holds no rows); *value is
 * what was measured (NAN if nothing), why explains. */
int suite_drill_budget_judge(const suite_window_budget *b, const json_t *report, double warmup_s, double *value,
                             char *why, size_t len);

#endif
