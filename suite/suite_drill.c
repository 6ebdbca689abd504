/* suite_drill.c — drill support: Prometheus text sums, watch and restore
 * judgements (the HTTP calls go through harness/httpc.c). */
#include "suite_drill.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "rdoc.h"
#include "verdict_metric.h"

/* Prometheus text is parsed by hand: a line is `name{labels} value` or
 * `name value`; no Debian-packaged C library parses the exposition format,
 * and summing one metric needs nothing more. */
int suite_drill_prom_sum(const char *text, const char *metric, const char *labels, double *out)
{
    size_t mlen = strlen(metric);
    double sum = 0;
    int found = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > mlen && line[0] != '#' && strncmp(line, metric, mlen) == 0 &&
            (line[mlen] == '{' || line[mlen] == ' ')) {
            const char *lab_end = line + mlen;
            int match = 1;
            if (line[mlen] == '{') {
                lab_end = memchr(line, '}', len);
                if (!lab_end)
                    match = 0;
                else if (labels) {
                    size_t ll = strlen(labels);
                    match = 0;
                    for (const char *p = line + mlen; p + ll <= lab_end; p++)
                        if (memcmp(p, labels, ll) == 0)
                            match = 1;
                }
                if (lab_end)
                    lab_end++;
            } else if (labels) {
                match = 0;
            }
            if (match) {
                char num[64];
                const char *v = lab_end;
                while (v < line + len && *v == ' ')
                    v++;
                size_t nl = (size_t)(line + len - v);
                if (nl < sizeof num) {
                    memcpy(num, v, nl);
                    num[nl] = 0;
                    char *end;
                    double x = strtod(num, &end);
                    if (end != num) {
                        sum += x;
                        found = 1;
                    }
                }
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    if (!found)
        return -1;
    *out = sum;
    return 0;
}

int suite_samples_add(suite_samples *s, double t, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        double *nt = realloc(s->t, cap * sizeof *nt);
        if (!nt)
            return -1;
        s->t = nt;
        double *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    s->t[s->n] = t;
    s->v[s->n] = v;
    s->n++;
    return 0;
}

void suite_samples_free(suite_samples *s)
{
    free(s->t);
    free(s->v);
    memset(s, 0, sizeof *s);
}

int suite_drill_watch_judge(const suite_watch *w, const suite_samples *s, char *why, size_t len)
{
    double to = w->to_s < 0 ? INFINITY : w->to_s;
    /* the value at the window's start: the last sample at or before it */
    double v0 = NAN, v1 = NAN, vmax = -INFINITY, vmax_all = -INFINITY;
    size_t in = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->t[i] <= w->from_s)
            v0 = s->v[i];
        if (s->t[i] >= w->from_s && s->t[i] <= to) {
            if (isnan(v0))
                v0 = s->v[i];
            v1 = s->v[i];
            vmax = fmax(vmax, s->v[i]);
            in++;
        }
        vmax_all = fmax(vmax_all, s->v[i]);
    }
    if (in == 0) {
        snprintf(why, len, "no /metrics sample of %s in the window (%zu samples in all)", w->metric, s->n);
        return 0;
    }
    switch (w->expect) {
    case SUITE_EXPECT_INCREASE:
        snprintf(why, len, "%s went from %g to %g (+%g; needed more than +%g)", w->metric, v0, v1, v1 - v0, w->value);
        return v1 - v0 > w->value;
    case SUITE_EXPECT_FLAT:
        snprintf(why, len, "%s went from %g to %g (+%g; allowed +%g)", w->metric, v0, v1, v1 - v0, w->value);
        return v1 - v0 <= w->value;
    case SUITE_EXPECT_ABOVE:
        snprintf(why, len, "%s peaked at %g in the window (needed above %g)", w->metric, vmax, w->value);
        return vmax > w->value;
    case SUITE_EXPECT_BELOW:
        snprintf(why, len, "%s peaked at %g in the window (must stay below %g)", w->metric, vmax, w->value);
        return vmax < w->value;
    }
    return 0;
}

int suite_drill_budget_judge(const suite_window_budget *b, const json_t *report, double warmup_s, double *value,
                             char *why, size_t len)
{
    *value = NAN;
    double to = b->to_s < 0 ? INFINITY : b->to_s;
    hist *h = hist_new();
    if (!h) {
        snprintf(why, len, "out of memory");
        return 0;
    }
    double delivered = 0;
    size_t rows = 0, i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "timeline"), i, row) {
        double t = rdoc_num_or(row, "t_s", NAN) - warmup_s;
        if (isnan(t) || t < b->from_s || t > to)
            continue;
        rows++;
        delivered += rdoc_num_or(row, "delivered", 0);
        size_t j;
        const json_t *bk;
        json_array_foreach(json_object_get(row, "lat"), j, bk) {
            json_int_t v = json_integer_value(json_array_get(bk, 0)), c = json_integer_value(json_array_get(bk, 1));
            if (v >= 0 && c > 0)
                hist_record_n(h, (uint64_t)v, (uint64_t)c);
        }
    }
    int pass = 0;
    if (rows == 0) {
        snprintf(why, len, "no timeline rows between %gs and %gs", b->from_s, b->to_s);
    } else if (strcmp(b->metric, "delivered_per_s") == 0) {
        *value = delivered / (double)rows;
    } else if (hist_count(h) == 0) {
        snprintf(why, len, "no live deliveries between %gs and %gs", b->from_s, b->to_s);
    } else {
        double pct = strcmp(b->metric, "p50_live_ms") == 0   ? 50
                     : strcmp(b->metric, "p95_live_ms") == 0 ? 95
                     : strcmp(b->metric, "p99_live_ms") == 0 ? 99
                     : strcmp(b->metric, "p999_live_ms") == 0 ? 99.9
                                                               : 100;
        /* the rows' buckets hold bucket floors: max is the highest floor */
        *value = (double)(pct == 100 ? hist_max(h) : hist_percentile(h, pct)) / 1000.0;
    }
    if (!isnan(*value)) {
        verdict_op_holds(b->op, *value, b->value, &pass);
        snprintf(why, len, "%s over %zu s from %gs: measured %.3f, budget %s %g", b->metric, rows, b->from_s, *value,
                 b->op, b->value);
    }
    hist_free(h);
    return pass;
}
