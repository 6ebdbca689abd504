/* scenario_budget.h — one budget of a scenario ("p95_live_ms <= 50") read
 * and checked against the one metric table (reports/verdict_metric.c). */
#ifndef RTCHAOS_SCENARIO_BUDGET_H
#define RTCHAOS_SCENARIO_BUDGET_H

#include "scenario.h"
#include "ydoc.h"

/* Reads the budget at node id of c into b: metric (optionally GROUP.metric,
 * a group of scn), comparison, number. Errors go to c, with did-you-means
 * from the metric table; scn's client groups must be read already. */
void scenario_budget_parse(ydoc *c, const scenario *scn, int id, scn_budget *b);

#endif
