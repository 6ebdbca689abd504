/* verdict_metric.h — the one evaluator of budgets: the table of every
 * metric a budget may name, how its value is read from report.json, and
 * the judging of one verdict. Used by the harness at the end of a run and
 * by `rtchaos merge` on merged shards, so a verdict reads the same figure
 * the same way before and after a merge. */
#ifndef RTCHAOS_VERDICT_METRIC_H
#define RTCHAOS_VERDICT_METRIC_H
#include <stddef.h>
#include <jansson.h>

/* One budget metric: its name in scenarios and how its value is read from
 * report.json. */
typedef struct verdict_metric {
    const char *name;         /* e.g. "p95_live_ms" */
    const char *path;         /* dotted path in report.json, e.g. "latency_us.live.p95" */
    const char *denom_path;   /* ratio metrics: value = path / denom_path; else NULL */
    double scale;             /* value multiplier (µs → ms: 0.001) */
    const char *doc;          /* one line for docs and `did you mean` lists */
    const char *count_path;   /* what the figure was measured over; 0 there = not measured, so
                               * the verdict fails: a latency metric's histogram count, a
                               * correctness count's events checked (totals.expected; a
                               * group's delivered); else NULL */
    int correctness;          /* a count of wrong events (lost, duplicated, …): not measured only
                               * when it is 0 too; else a latency metric */
} verdict_metric;

/* The table of every metric a budget may name (static storage). */
const verdict_metric *verdict_metrics(size_t *n);
/* The metric named name, or NULL. */
const verdict_metric *verdict_metric_find(const char *name);

/* The metrics a budget may scope to one client group ("fast.p95_live_ms"):
 * their paths are relative to report.json's groups.<name> object. */
const verdict_metric *verdict_group_metrics(size_t *n);
const verdict_metric *verdict_group_metric_find(const char *name);

/* Resolves a budget's metric name: "METRIC" (whole run) or "GROUP.METRIC"
 * (one client group; GROUP is everything before the last '.'). Returns the
 * metric and copies the group name into group (empty for the whole run), or
 * NULL when the metric is unknown. */
const verdict_metric *verdict_resolve(const char *name, char *group, size_t groupcap);

/* Reads the metric's value from a report.json object. Returns 0 and *out,
 * or -1 with a message in err when it has no value: a field is missing or
 * not a number ("not measured …"), a latency metric's histogram is empty
 * ("not measured …: no samples": a percentile of nothing is not 0), or a
 * ratio's denominator is 0 ("undefined: …", e.g. delivered_ratio when
 * nothing was expected). A budget is never passed on a value it lacks. */
int verdict_metric_value(const verdict_metric *m, const json_t *report, double *out, char *err,
                         size_t errlen);
/* The same for a group metric, read from report.groups.<group>. */
int verdict_group_metric_value(const verdict_metric *m, const char *group, const json_t *report, double *out,
                               char *err, size_t errlen);
/* verdict_resolve + the value: 0 and *out, or -1 with err ("unknown
 * metric" too). */
int verdict_value(const char *name, const json_t *report, double *out, char *err, size_t errlen);

/* *holds = value OP budget for OP in "<=", "<", ">=", ">", "==", "!=";
 * -1 for another op. */
int verdict_op_holds(const char *op, double value, double budget, int *holds);

/* Judges the budget "name op budget" against report: a new verdict object
 * {"name","op","budget","value","pass"[,"error"],"text"} (text defaults to
 * name). The value is rounded to 3 decimals, and compared rounded (what
 * people read is what is judged); without a value, "value" is null, "pass"
 * false and "error" says why. NULL only when out of memory. */
json_t *verdict_judge(const char *name, const char *op, double budget, const char *text, const json_t *report);

#endif
