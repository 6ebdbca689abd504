/* windows.c — live latency inside and outside the fault windows (see windows.h). */
#include "windows.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hist.h"

typedef struct span {
    double from_s, to_s;
} span;

/* Appends the windows of one fault entry of report.json's "faults". */
static size_t fault_spans(const json_t *f, span *out, size_t cap, size_t n)
{
    const json_t *wins = json_object_get(f, "windows");
    if (json_is_array(wins) && json_array_size(wins) > 0) {
        size_t i;
        const json_t *w;
        json_array_foreach(wins, i, w) {
            const json_t *a = json_is_array(w) ? json_array_get(w, 0) : json_object_get(w, "from_s");
            const json_t *b = json_is_array(w) ? json_array_get(w, 1) : json_object_get(w, "to_s");
            if (json_is_number(a) && n < cap) {
                double from = json_number_value(a);
                out[n++] = (span){from, json_is_number(b) ? json_number_value(b) : from};
            }
        }
        return n;
    }
    const json_t *a = json_object_get(f, "from_s"), *b = json_object_get(f, "to_s");
    if (!json_is_number(a) || n >= cap)
        return n;
    double from = json_number_value(a);
    out[n++] = (span){from, json_is_number(b) ? json_number_value(b) : from};
    return n;
}

static int overlaps(double t, const span *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double to = s[i].to_s > s[i].from_s ? s[i].to_s : s[i].from_s + 1.0;
        if (t < to + WINDOWS_GRACE_S && t + 1.0 > s[i].from_s)
            return 1;
    }
    return 0;
}

/* The summary of a coarse histogram in report.json's latency form. The
 * coarse buckets go into a fine histogram at their highest value (what the
 * coarse one reports for them, hist_merge), so the "hist" member merges
 * exactly across shards like the other latency_us members and agrees with
 * the figures here. */
static json_t *summary(const hist *coarse)
{
    hist *h = hist_new();
    if (!h)
        return NULL;
    hist_merge(h, coarse);
    json_t *sum = hist_summary_json(h), *hj = hist_to_json(h);
    if (!sum || !hj || json_object_set_new(sum, "hist", hj) != 0 ||
        json_object_set_new(sum, "resolution_pct", json_integer(3)) != 0) {
        json_decref(sum);
        sum = NULL;
    }
    hist_free(h);
    return sum;
}

int windows_add_live(json_t *report, char *err, size_t errlen)
{
    const json_t *timeline = json_object_get(report, "timeline");
    const json_t *faults = json_object_get(report, "faults");
    json_t *lat = json_object_get(report, "latency_us");
    if (!json_is_object(lat)) {
        snprintf(err, errlen, "report has no latency_us");
        return -1;
    }
    size_t nf = json_array_size(faults), cap = 0, n = 0, i;
    const json_t *f;
    json_array_foreach(faults, i, f) {
        const json_t *w = json_object_get(f, "windows");
        cap += json_is_array(w) && json_array_size(w) ? json_array_size(w) : 1;
    }
    span *spans = calloc(cap ? cap : 1, sizeof *spans);
    hist *in = hist_new_precision(HIST_COARSE), *out = hist_new_precision(HIST_COARSE);
    if (!spans || !in || !out) {
        free(spans), hist_free(in), hist_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < nf; i++)
        n = fault_spans(json_array_get(faults, i), spans, cap, n);
    const json_t *row;
    int rc = 0;
    json_array_foreach(timeline, i, row) {
        const json_t *t = json_object_get(row, "t_s"), *rlat = json_object_get(row, "lat");
        char e[160];
        if (!json_is_number(t) || (rlat && hist_add_buckets_json(overlaps(json_number_value(t), spans, n) ? in : out,
                                                               rlat, e, sizeof e) != 0)) {
            snprintf(err, errlen, "timeline row %zu: bad t_s or lat", i);
            rc = -1;
            break;
        }
    }
    json_t *o = rc == 0 ? summary(out) : NULL, *d = rc == 0 ? summary(in) : NULL;
    if (rc == 0 && (!o || !d)) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        json_object_set_new(lat, "live_outside_faults", o);
        json_object_set_new(lat, "live_during_faults", d);
    } else {
        json_decref(o);
        json_decref(d);
    }
    free(spans);
    hist_free(in);
    hist_free(out);
    return rc;
}
