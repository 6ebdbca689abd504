/* verdict.c — a scenario's budgets judged into verdicts (through the one
 * evaluator, reports/verdict_metric.h; junit.xml is written from them by
 * reports_junit_write). */
#include "verdict.h"

#include <stdio.h>
#include <string.h>

int verdict_compare(double value, scn_op op, double budget)
{
    switch (op) {
    case SCN_OP_LE: return value <= budget;
    case SCN_OP_LT: return value < budget;
    case SCN_OP_GE: return value >= budget;
    case SCN_OP_GT: return value > budget;
    case SCN_OP_EQ: return value == budget;
    case SCN_OP_NE: return value != budget;
    }
    return 0;
}

json_t *verdict_eval(const scn_budget *budgets, size_t n, const json_t *report)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const scn_budget *b = &budgets[i];
        json_t *v = verdict_judge(b->metric, scenario_op_str(b->op), b->value, b->text, report);
        if (!v || json_array_append_new(arr, v) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int verdict_all_pass(const json_t *verdicts)
{
    size_t i;
    json_t *v;
    json_array_foreach(verdicts, i, v) {
        if (!json_is_true(json_object_get(v, "pass")))
            return 0;
    }
    return 1;
}

