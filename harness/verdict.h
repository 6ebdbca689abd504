/* verdict.h — budgets turned into verdicts, evaluated against report.json's
 * own values (so a verdict can always be re-checked from the report). */
#ifndef RTCHAOS_VERDICT_H
#define RTCHAOS_VERDICT_H
#include <stddef.h>
#include <jansson.h>
#include "scenario.h"

/* One budget metric: its name in scenarios and how its value is read from
 * report.json. */
typedef struct verdict_metric {
    const char *name;         /* e.g. "p95_live_ms" */
    const char *path;         /* dotted path in report.json, e.g. "latency_us.live.p95" */
    const char *denom_path;   /* ratio metrics: value = path / denom_path; else NULL */
    double scale;             /* value multiplier (µs → ms: 0.001) */
    const char *doc;          /* one line for docs and `did you mean` lists */
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

/* Reads the metric's value from a report.json object. Returns 0 and *out;
 * -1 with a message in err when a field is missing or not a number, or a
 * ratio's denominator is 0 (then *out is set to 1.0 if the numerator is 0
 * too — nothing was expected and nothing was missed — and 0 is returned). */
int verdict_metric_value(const verdict_metric *m, const json_t *report, double *out, char *err,
                         size_t errlen);
/* The same for a group metric, read from report.groups.<group>. */
int verdict_group_metric_value(const verdict_metric *m, const char *group, const json_t *report, double *out,
                               char *err, size_t errlen);

/* Whether value op budget holds. */
int verdict_compare(double value, scn_op op, double budget);

/* Evaluates every budget against report and returns the "verdicts" array
 * (new reference): [{"name","op","budget","value","pass"[,"error"]}, …] in
 * budget order. A metric that cannot be read fails its verdict (value null,
 * "error" says why): a budget is never passed on missing data. */
json_t *verdict_eval(const scn_budget *budgets, size_t n, const json_t *report);

/* 1 when every verdict in the array passes (an empty array passes). */
int verdict_all_pass(const json_t *verdicts);


#endif
