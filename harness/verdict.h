/* verdict.h — a scenario's budgets turned into verdicts, evaluated against
 * report.json's own values (so a verdict can always be re-checked from the
 * report) by the one evaluator in reports/verdict_metric.h. */
#ifndef RTCHAOS_VERDICT_H
#define RTCHAOS_VERDICT_H
#include <stddef.h>
#include <jansson.h>
#include "scenario.h"
#include "verdict_metric.h"

/* Whether value op budget holds. */
int verdict_compare(double value, scn_op op, double budget);

/* Evaluates every budget against report and returns the "verdicts" array
 * (new reference): [{"name","op","budget","value","pass"[,"error"],"text"},
 * …] in budget order (verdict_judge). A metric that cannot be read fails
 * its verdict (value null, "error" says why): a budget is never passed on
 * missing data. NULL only when out of memory. */
json_t *verdict_eval(const scn_budget *budgets, size_t n, const json_t *report);

/* 1 when every verdict in the array passes (an empty array passes). */
int verdict_all_pass(const json_t *verdicts);

#endif
