/* reports_compare.c — the regression gate: NEW report vs BASE report under
 * margin rules; side-by-side table, compare.md/html and overlaid plots. */
#include "reports.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rdoc.h"
#include "rout.h"
#include "rplot.h"

/* Metrics shown for information even without a rule. */
static const char *const shown_metrics[] = {
    "p50_live", "p95_live", "p99_live", "p999_live", "max_live", "p95_replay", "p95_connect", "p95_resync",
    "published", "delivered", "delivered_ratio", "lost", "duplicated", "reordered", "resync_ok",
    "resync_failed", "corrupted", "misrouted", "ts_altered", "reconnects", "errors", "verdicts",
};

static void add_default(reports_compare_opts *o, const char *metric, reports_rule_kind kind, double limit)
{
    reports_compare_rule *r = &o->rules[o->nrules++];
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    r->kind = kind;
    r->limit = limit;
    r->explicit_rule = 0;
}

void reports_compare_opts_init(reports_compare_opts *o)
{
    memset(o, 0, sizeof *o);
    add_default(o, "p95_live", REPORTS_RULE_REGRESS_PCT, 10);
    add_default(o, "p99_live", REPORTS_RULE_REGRESS_PCT, 20);
    add_default(o, "p95_resync", REPORTS_RULE_REGRESS_PCT, 20);
    add_default(o, "p95_connect", REPORTS_RULE_REGRESS_PCT, 20);
    add_default(o, "lost", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "duplicated", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "reordered", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "resync_failed", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "corrupted", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "misrouted", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "ts_altered", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "verdicts", REPORTS_RULE_REGRESS_ABS, 0);
    add_default(o, "delivered_ratio", REPORTS_RULE_REGRESS_ABS, 0.001);
}

/* "12.5", "12.5%", "5ms", "300us", "2s" → value and unit. */
static int parse_amount(const char *s, double *v, char *unit, size_t unitlen)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || errno || !isfinite(*v) || *v < 0)
        return -1;
    if (strlen(end) >= unitlen)
        return -1;
    snprintf(unit, unitlen, "%s", end);
    return strcmp(unit, "") == 0 || strcmp(unit, "%") == 0 || strcmp(unit, "ms") == 0 ||
                   strcmp(unit, "us") == 0 || strcmp(unit, "s") == 0
               ? 0
               : -1;
}

int reports_compare_opts_add(reports_compare_opts *o, const char *flag, const char *spec, char *err, size_t errlen)
{
    reports_rule_kind kind;
    if (strcmp(flag, "--max-regress") == 0)
        kind = REPORTS_RULE_REGRESS_ABS;
    else if (strcmp(flag, "--max") == 0)
        kind = REPORTS_RULE_MAX;
    else if (strcmp(flag, "--min") == 0)
        kind = REPORTS_RULE_MIN;
    else {
        snprintf(err, errlen, "unknown compare option %s (expected --max-regress, --max or --min)", flag);
        return -1;
    }
    const char *eq = spec ? strchr(spec, '=') : NULL;
    if (!eq || eq == spec || (size_t)(eq - spec) >= REPORTS_METRIC_MAX) {
        snprintf(err, errlen, "%s %s: expected METRIC=LIMIT, e.g. p95_live=10%%", flag, spec ? spec : "");
        return -1;
    }
    char metric[REPORTS_METRIC_MAX], unit[8];
    snprintf(metric, sizeof metric, "%.*s", (int)(eq - spec), spec);
    for (const char *c = metric; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-')) {
            snprintf(err, errlen, "%s %s: metric name '%s' may hold only a-z, 0-9, _, - and . (a path)", flag,
                     spec, metric);
            return -1;
        }
    }
    double v;
    if (parse_amount(eq + 1, &v, unit, sizeof unit) != 0) {
        snprintf(err, errlen, "%s %s: '%s' is not a non-negative number with an optional unit (%%, us, ms, s)",
                 flag, spec, eq + 1);
        return -1;
    }
    int latency = rdoc_metric_is_latency(metric);
    if (strcmp(unit, "%") == 0) {
        if (kind == REPORTS_RULE_REGRESS_ABS)
            kind = REPORTS_RULE_REGRESS_PCT;
        else if (latency) {
            snprintf(err, errlen, "%s %s: a latency bound needs a time (us, ms, s), not %%", flag, spec);
            return -1;
        } else
            v /= 100.0;
    } else if (unit[0]) {
        if (!latency) {
            snprintf(err, errlen, "%s %s: '%s' is not a latency metric, so its limit has no time unit", flag, spec,
                     metric);
            return -1;
        }
        v *= strcmp(unit, "us") == 0 ? 1.0 : strcmp(unit, "ms") == 0 ? 1e3 : 1e6;
    } else if (latency) {
        v *= 1e3; /* a bare latency number is ms, like the _ms budgets */
    }
    reports_compare_rule *r = NULL;
    for (int i = 0; i < o->nrules; i++) {
        reports_compare_rule *x = &o->rules[i];
        int same_family = (x->kind == kind) || ((x->kind == REPORTS_RULE_REGRESS_PCT || x->kind == REPORTS_RULE_REGRESS_ABS) &&
                                                (kind == REPORTS_RULE_REGRESS_PCT || kind == REPORTS_RULE_REGRESS_ABS));
        if (strcmp(x->metric, metric) == 0 && same_family)
            r = x;
    }
    if (!r) {
        if (o->nrules >= REPORTS_COMPARE_MAX_RULES) {
            snprintf(err, errlen, "too many compare rules (at most %d)", REPORTS_COMPARE_MAX_RULES);
            return -1;
        }
        r = &o->rules[o->nrules++];
    }
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    r->kind = kind;
    r->limit = v;
    r->explicit_rule = 1;
    return 0;
}

int reports_compare_parse_args(int argc, char **argv, reports_compare_opts *opts, const char **base_json,
                               const char **new_json, const char **out_dir, char *err, size_t errlen)
{
    static const char usage[] = "usage: rtchaos compare BASE.json NEW.json [--max-regress METRIC=N%%|AMOUNT]... "
                                "[--max METRIC=V]... [--min METRIC=V]... [--no-defaults] [--out DIR]";
    reports_compare_opts_init(opts);
    *base_json = *new_json = *out_dir = NULL;
    /* --no-defaults applies wherever it stands, so look for it first. */
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--no-defaults") == 0)
            opts->nrules = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-defaults") == 0) {
            continue;
        } else if (strcmp(a, "--out") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--out needs a directory\n%s", usage);
                return -1;
            }
            *out_dir = argv[++i];
        } else if (strncmp(a, "--out=", 6) == 0) {
            *out_dir = a + 6;
        } else if (strncmp(a, "--", 2) == 0) {
            char flag[32];
            const char *spec;
            const char *eq = strchr(a, '=');
            const char *eq2 = eq ? strchr(eq + 1, '=') : NULL;
            if (eq && eq2 && (size_t)(eq - a) < sizeof flag) { /* --max=lost=0 */
                snprintf(flag, sizeof flag, "%.*s", (int)(eq - a), a);
                spec = eq + 1;
            } else {
                if (i + 1 >= argc) {
                    snprintf(err, errlen, "%s needs METRIC=LIMIT\n%s", a, usage);
                    return -1;
                }
                snprintf(flag, sizeof flag, "%s", a);
                spec = argv[++i];
            }
            if (reports_compare_opts_add(opts, flag, spec, err, errlen) != 0)
                return -1;
        } else if (!*base_json) {
            *base_json = a;
        } else if (!*new_json) {
            *new_json = a;
        } else {
            snprintf(err, errlen, "unexpected argument '%s'\n%s", a, usage);
            return -1;
        }
    }
    if (!*new_json) {
        snprintf(err, errlen, "compare needs BASE.json and NEW.json\n%s", usage);
        return -1;
    }
    return 0;
}

/* One line of the comparison. */
typedef struct crow {
    char metric[REPORTS_METRIC_MAX];
    char base[32], newv[32], change[32], rule[48], result[16];
    int failed;
} crow;

static void fmt_value(char *buf, size_t len, const char *metric, int have, double v)
{
    if (!have)
        snprintf(buf, len, "n/a");
    else if (rdoc_metric_is_latency(metric))
        rdoc_fmt_ms(buf, len, v), strncat(buf, " ms", len - strlen(buf) - 1);
    else if (strcmp(metric, "delivered_ratio") == 0)
        snprintf(buf, len, "%.6f", v);
    else
        rdoc_fmt_num(buf, len, v);
}

static void fmt_rule(char *buf, size_t len, const reports_compare_rule *r)
{
    char amount[32];
    int lat = rdoc_metric_is_latency(r->metric);
    if (lat)
        rdoc_fmt_ms(amount, sizeof amount, r->limit), strncat(amount, "ms", sizeof amount - strlen(amount) - 1);
    else
        snprintf(amount, sizeof amount, "%g", r->limit);
    int hib = rdoc_metric_higher_is_better(r->metric);
    switch (r->kind) {
    case REPORTS_RULE_REGRESS_PCT: snprintf(buf, len, "%s <= %g%%", hib ? "drop" : "rise", r->limit); break;
    case REPORTS_RULE_REGRESS_ABS: snprintf(buf, len, "%s <= %s", hib ? "drop" : "rise", amount); break;
    case REPORTS_RULE_MAX: snprintf(buf, len, "<= %s", amount); break;
    case REPORTS_RULE_MIN: snprintf(buf, len, ">= %s", amount); break;
    }
}

/* 1 when the rule holds. The margin itself passes; the tiny relative slack
 * only absorbs binary rounding of the limit (10% of 1000 is 100.00000000000001). */
static int rule_holds(const reports_compare_rule *r, double base, double nv)
{
    int hib = rdoc_metric_higher_is_better(r->metric);
    double bound;
    switch (r->kind) {
    case REPORTS_RULE_REGRESS_PCT:
        bound = hib ? base - fabs(base) * r->limit / 100.0 : base + fabs(base) * r->limit / 100.0;
        break;
    case REPORTS_RULE_REGRESS_ABS: bound = hib ? base - r->limit : base + r->limit; break;
    case REPORTS_RULE_MAX: return nv <= r->limit + 1e-9 * fmax(1.0, fabs(r->limit));
    case REPORTS_RULE_MIN: return nv >= r->limit - 1e-9 * fmax(1.0, fabs(r->limit));
    default: return 0;
    }
    double slack = 1e-9 * fmax(1.0, fabs(bound));
    return hib ? nv >= bound - slack : nv <= bound + slack;
}

static int needs_base(const reports_compare_rule *r)
{
    return r->kind == REPORTS_RULE_REGRESS_PCT || r->kind == REPORTS_RULE_REGRESS_ABS;
}

/* Builds the rows: every rule, then the informational metrics not yet
 * shown. Returns the number of rows (<= cap) and the number failed. */
static int build_rows(const json_t *base, const json_t *nr, const reports_compare_opts *opts, crow *rows, int cap,
                      int *nfailed)
{
    int n = 0;
    *nfailed = 0;
    size_t nshown = sizeof shown_metrics / sizeof shown_metrics[0];
    for (size_t s = 0; s < nshown + (size_t)opts->nrules && n < cap; s++) {
        const char *metric = s < nshown ? shown_metrics[s] : opts->rules[s - nshown].metric;
        int dup = 0;
        for (int i = 0; i < n; i++)
            if (strcmp(rows[i].metric, metric) == 0)
                dup = 1;
        if (dup)
            continue;
        crow *row = &rows[n];
        memset(row, 0, sizeof *row);
        snprintf(row->metric, sizeof row->metric, "%s", metric);
        double bv = NAN, nv = NAN;
        int hb = rdoc_metric(base, metric, &bv) == 0, hn = rdoc_metric(nr, metric, &nv) == 0;
        int has_rule = 0;
        for (int i = 0; i < opts->nrules; i++)
            if (strcmp(opts->rules[i].metric, metric) == 0)
                has_rule = 1;
        if (!hb && !hn && !has_rule)
            continue; /* neither report has it: nothing to show */
        fmt_value(row->base, sizeof row->base, metric, hb, bv);
        fmt_value(row->newv, sizeof row->newv, metric, hn, nv);
        if (hb && hn) {
            if (bv != 0 && !rdoc_metric_is_latency(metric) && strcmp(metric, "delivered_ratio") != 0 &&
                bv == floor(bv) && nv == floor(nv))
                snprintf(row->change, sizeof row->change, "%+.0f (%+.1f%%)", nv - bv, 100.0 * (nv - bv) / fabs(bv));
            else if (bv != 0)
                snprintf(row->change, sizeof row->change, "%+.1f%%", 100.0 * (nv - bv) / fabs(bv));
            else if (strcmp(metric, "delivered_ratio") == 0)
                snprintf(row->change, sizeof row->change, "%+.6f", nv - bv);
            else
                snprintf(row->change, sizeof row->change, "%+g", rdoc_metric_is_latency(metric) ? (nv - bv) / 1e3 : nv - bv);
        } else {
            snprintf(row->change, sizeof row->change, "-");
        }
        snprintf(row->result, sizeof row->result, "%s", has_rule ? "ok" : "");
        size_t rl = 0;
        for (int i = 0; i < opts->nrules; i++) {
            const reports_compare_rule *r = &opts->rules[i];
            if (strcmp(r->metric, metric) != 0)
                continue;
            char rule[48];
            fmt_rule(rule, sizeof rule, r);
            rl += (size_t)snprintf(row->rule + rl, sizeof row->rule - rl, "%s%s", rl ? "; " : "", rule);
            if (rl >= sizeof row->rule)
                rl = sizeof row->rule - 1;
            int ok;
            if (!hn && hb)
                ok = 0; /* the base measured it and NEW did not (no event delivered: no latency): never a pass */
            else if (!hn || (needs_base(r) && !hb))
                ok = !r->explicit_rule; /* a default rule on a metric neither has, or only NEW has, is skipped */
            else
                ok = rule_holds(r, bv, nv);
            if (!ok) {
                row->failed = 1;
                snprintf(row->result, sizeof row->result, "%s", (!hn || (needs_base(r) && !hb)) ? "MISSING" : "REGRESSED");
            }
        }
        if (row->failed)
            (*nfailed)++;
        n++;
    }
    return n;
}

static void write_text(FILE *out, const char *bname, const char *nname, const char *bver, const char *nver,
                       const crow *rows, int n, int nfailed)
{
    /* which rtchaos made each report: a release engineer comparing two runs
     * sees at once whether the tool changed between them */
    fprintf(out, "compare  base: %s (rtchaos %s)\n         new:  %s (rtchaos %s)\n\n", bname, bver, nname, nver);
    fprintf(out, "%-18s %14s %14s %18s  %-26s %s\n", "metric", "base", "new", "change", "rule", "result");
    for (int i = 0; i < n; i++)
        fprintf(out, "%-18s %14s %14s %18s  %-26s %s\n", rows[i].metric, rows[i].base, rows[i].newv,
                rows[i].change, rows[i].rule, rows[i].result);
    if (nfailed) {
        fprintf(out, "\nREGRESSED:");
        for (int i = 0; i < n; i++)
            if (rows[i].failed)
                fprintf(out, " %s", rows[i].metric);
        fprintf(out, "\n");
    } else {
        fprintf(out, "\nPASS: no regression past the margins\n");
    }
}

static int write_doc(const char *out_dir, const char *file, int html, const char *bname, const char *nname,
                     const crow *rows, int n, int nfailed, char *err, size_t errlen)
{
    rout o = {rdoc_fopen(out_dir, file, err, errlen), html};
    if (!o.f)
        return -1;
    const char *verdict = nfailed ? "REGRESSED" : "PASS";
    if (html) {
        fprintf(o.f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rtchaos compare</title>\n"
                     "<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;padding:0 1em}"
                     "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
                     "th{background:#f3f3f3}tr.fail td{background:#fff0f0}tr.fail td:last-child{color:#c00;font-weight:700}"
                     "figure img{max-width:100%%;border:1px solid #eee}</style></head><body>\n"
                     "<h1>rtchaos compare: <span id=\"result\">%s</span></h1>\n", verdict);
    } else {
        fprintf(o.f, "# rtchaos compare — %s\n\n", verdict);
    }
    rout_para(&o, "base: %s", bname);
    rout_para(&o, "new: %s", nname);
    const char *cols[] = {"metric", "base", "new", "change", "rule", "result"};
    rout_table_begin(&o, "compare", cols, 6);
    for (int i = 0; i < n; i++) {
        const char *cells[] = {rows[i].metric, rows[i].base, rows[i].newv, rows[i].change, rows[i].rule, rows[i].result};
        rout_table_row(&o, rows[i].failed ? "fail" : NULL, cells, 6);
    }
    rout_table_end(&o);
    char plots_dir[4096];
    rdoc_path(plots_dir, sizeof plots_dir, out_dir, "plots");
    for (int i = 0; i < RPLOT_COMPARE_N; i++) {
        const rplot_info *p = &rplot_compare_plots[i];
        if (!html) {
            fprintf(o.f, "![%s](plots/%s.png)\n\n", p->title, p->name);
            continue;
        }
        char path[4096], name[128];
        size_t len;
        snprintf(name, sizeof name, "%s.svg", p->name);
        rdoc_path(path, sizeof path, plots_dir, name);
        char *svg = rdoc_read_file(path, &len, err, errlen);
        if (!svg) {
            fclose(o.f);
            return -1;
        }
        fprintf(o.f, "<figure><img class=\"plot\" width=\"900\" height=\"400\" alt=\"%s\" src=\"data:image/svg+xml;base64,",
                p->title);
        rout_base64(o.f, (const unsigned char *)svg, len);
        fprintf(o.f, "\"><figcaption>%s</figcaption></figure>\n", p->title);
        free(svg);
    }
    if (html)
        fputs("</body></html>\n", o.f);
    return rdoc_fclose(o.f, file, err, errlen);
}

int reports_compare(const char *base_json, const char *new_json, const reports_compare_opts *opts, FILE *out,
                    const char *out_dir, char *err, size_t errlen)
{
    char bpath[4096], npath[4096];
    json_t *base = rdoc_load_dir(base_json, bpath, sizeof bpath, err, errlen);
    if (!base)
        return -1;
    json_t *nr = rdoc_load_dir(new_json, npath, sizeof npath, err, errlen);
    if (!nr) {
        json_decref(base);
        return -1;
    }
    enum { CAP = 96 };
    crow *rows = calloc(CAP, sizeof *rows);
    int rc = -1, nfailed = 0, n;
    if (!rows) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    n = build_rows(base, nr, opts, rows, CAP, &nfailed);
    if (out)
        write_text(out, bpath, npath, rdoc_str_or(base, "rtchaos_version", "unknown"),
                   rdoc_str_or(nr, "rtchaos_version", "unknown"), rows, n, nfailed);
    if (out_dir) {
        char plots_dir[4096];
        rdoc_path(plots_dir, sizeof plots_dir, out_dir, "plots");
        if (rdoc_mkdir(out_dir, err, errlen) != 0 || rplot_compare(base, nr, plots_dir, err, errlen) != 0 ||
            write_doc(out_dir, "compare.md", 0, bpath, npath, rows, n, nfailed, err, errlen) != 0 ||
            write_doc(out_dir, "compare.html", 1, bpath, npath, rows, n, nfailed, err, errlen) != 0)
            goto out;
    }
    rc = nfailed ? 1 : 0;
out:
    free(rows);
    json_decref(base);
    json_decref(nr);
    return rc;
}
