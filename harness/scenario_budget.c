/* scenario_budget.c — one budget of a scenario read from its YAML node: GROUP.metric, comparison, number, checked against the one metric table. */
#include "scenario_budget.h"
#include "verdict.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The attackers' budget metrics of a table (attack_*), without the
 * prefix: "attempts, rejected, …". */
static void attack_metric_list(const verdict_metric *all, size_t n, char *buf, size_t cap)
{
    const char *names[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++)
        if (!strncmp(all[i].name, "attack_", 7))
            names[k++] = all[i].name + 7;
    ydoc_join_list(buf, cap, names, k);
}

static int group_exists(const scenario *scn, const char *g)
{
    for (size_t i = 0; i < scn->nclients; i++)
        if (!strcmp(scn->clients[i].name, g))
            return 1;
    return 0;
}

void scenario_budget_parse(ydoc *c, const scenario *scn, int id, scn_budget *b)
{
    if (ydoc_want_scalar(c, id, "a budget like 'p95_live_ms <= 50'") < 0)
        return;
    yaml_node_t *n = ydoc_node(c, id);
    const char *s = ydoc_scalar(n);
    /* Column offsets inside the string are exact for plain one-line scalars
     * and off by the quote for quoted ones. */
    size_t base = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1;
    int line, col;
    ydoc_pos(c, id, &line, &col);
    b->line = line;
    b->col = col;
    b->text = strdup(s);
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    const char *m0 = p;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')
        p++;
    size_t mlen = (size_t)(p - m0);
    if (mlen == 0) {
        ydoc_err_at_off(c, id, base + (size_t)(m0 - s),
                   "expected a budget 'METRIC OP VALUE' like 'p95_live_ms <= 50', got '%s'", s);
        return;
    }
    b->metric = strndup(m0, mlen);
    char group[128] = "";
    const verdict_metric *vm = verdict_resolve(b->metric, group, sizeof group);
    const char *dot = strrchr(b->metric, '.');
    if (dot && group[0] && !group_exists(scn, group)) {
        const char *names[64];
        size_t k = 0;
        for (size_t j = 0; j < scn->nclients && k < 64; j++)
            names[k++] = scn->clients[j].name;
        const char *near = ydoc_closest(group, names, k);
        char list[512];
        ydoc_join_list(list, sizeof list, names, k);
        if (near)
            ydoc_err_at_off(c, id, base + (size_t)(m0 - s), "budget '%s': no client group named '%s' (did you mean '%s'?)",
                       b->metric, group, near);
        else
            ydoc_err_at_off(c, id, base + (size_t)(m0 - s), "budget '%s': no client group named '%s'; groups: %s",
                       b->metric, group, list);
    } else if (dot && !vm) {
        size_t nm;
        const verdict_metric *all = verdict_group_metrics(&nm);
        const char *names[64], *others[64];
        size_t k = 0, no = 0;
        for (size_t i = 0; i < nm && k < 64; i++) {
            names[k++] = all[i].name;
            if (strncmp(all[i].name, "attack_", 7))
                others[no++] = all[i].name;
        }
        const char *near = ydoc_closest(dot + 1, names, k);
        char list[1024], alist[512];
        ydoc_join_list(list, sizeof list, others, no);
        attack_metric_list(all, nm, alist, sizeof alist);
        if (near)
            ydoc_err_at_off(c, id, base + (size_t)(m0 - s) + (size_t)(dot + 1 - b->metric),
                       "unknown group budget metric '%s' (did you mean '%s'?)", dot + 1, near);
        else
            ydoc_err_at_off(c, id, base + (size_t)(m0 - s) + (size_t)(dot + 1 - b->metric),
                       "unknown group budget metric '%s'; expected one of: %s; or for attackers attack_NAME "
                       "(NAME: %s)", dot + 1, list, alist);
    } else if (!vm) {
        size_t nm;
        const verdict_metric *all = verdict_metrics(&nm);
        const char *names[256], *kinds[32], *others[64];
        char kind_buf[32][48];
        size_t k = 0, nk = 0, no = 0;
        for (size_t i = 0; i < nm && k < 256; i++) {
            names[k++] = all[i].name;
            /* The list names latency metrics by their pattern, the rest one by one. */
            const char *p50 = strstr(all[i].path, ".p50");
            if (!strncmp(all[i].path, "latency_us.", 11) && p50 && !strncmp(all[i].name, "p50_", 4) && nk < 32) {
                snprintf(kind_buf[nk], sizeof kind_buf[nk], "%.*s", (int)(p50 - all[i].path - 11), all[i].path + 11);
                kinds[nk] = kind_buf[nk];
                nk++;
            } else if (strncmp(all[i].path, "latency_us.", 11) && strncmp(all[i].name, "attack_", 7) &&
                       no < 64) {
                others[no++] = all[i].name;
            }
        }
        const char *near = ydoc_closest(b->metric, names, k);
        char klist[512], olist[1024], alist[512];
        ydoc_join_list(klist, sizeof klist, kinds, nk);
        ydoc_join_list(olist, sizeof olist, others, no);
        attack_metric_list(all, nm, alist, sizeof alist);
        if (near)
            ydoc_err_at_off(c, id, base + (size_t)(m0 - s),
                       "unknown budget metric '%s' (did you mean '%s'?)", b->metric, near);
        else
            ydoc_err_at_off(c, id, base + (size_t)(m0 - s),
                       "unknown budget metric '%s'; expected pNN_KIND_ms or max_KIND_ms (NN: 50, 95, 99, "
                       "999; KIND: %s) or one of: %s; or for attackers attack_NAME (NAME: %s)", b->metric,
                       klist, olist, alist);
    }
    while (isspace((unsigned char)*p))
        p++;
    static const struct { const char *s; scn_op op; } ops[] = {
        {"<=", SCN_OP_LE}, {">=", SCN_OP_GE}, {"==", SCN_OP_EQ}, {"!=", SCN_OP_NE},
        {"<", SCN_OP_LT}, {">", SCN_OP_GT},
    };
    size_t oi;
    for (oi = 0; oi < sizeof ops / sizeof *ops; oi++)
        if (!strncmp(p, ops[oi].s, strlen(ops[oi].s)))
            break;
    if (oi == sizeof ops / sizeof *ops) {
        ydoc_err_at_off(c, id, base + (size_t)(p - s),
                   "expected a comparison (<=, <, >=, >, ==, !=) after '%s', got '%s'", b->metric,
                   *p ? p : "the end of the budget");
        return;
    }
    b->op = ops[oi].op;
    p += strlen(ops[oi].s);
    while (isspace((unsigned char)*p))
        p++;
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    const char *e = end;
    while (isspace((unsigned char)*e))
        e++;
    if (end == p || *e || errno || !isfinite(v)) {
        ydoc_err_at_off(c, id, base + (size_t)(p - s), "expected a number after '%s %s', got '%s'",
                   b->metric, ops[oi].s, *p ? p : "the end of the budget");
        return;
    }
    if (vm && vm->denom_path && strstr(vm->name, "_ratio") && (v < 0 || v > 1))
        ydoc_err_at_off(c, id, base + (size_t)(p - s), "%s is a ratio: expected a value from 0 to 1, got %g",
                   b->metric, v);
    else if (v < 0)
        ydoc_err_at_off(c, id, base + (size_t)(p - s), "%s cannot be negative: expected a value >= 0, got %g",
                   b->metric, v);
    b->value = v;
}
