/* windows.c — live latency inside and outside the fault windows (see windows.h). */
#include "windows.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "checker.h"
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

static int add_row_lat(const json_t *lat, uint32_t *b)
{
    size_t i;
    const json_t *pair;
    if (!json_is_array(lat))
        return lat ? -1 : 0;
    json_array_foreach(lat, i, pair) {
        const json_t *v = json_array_get(pair, 0), *c = json_array_get(pair, 1);
        if (!json_is_integer(v) || !json_is_integer(c) || json_integer_value(v) < 0 ||
            json_integer_value(c) < 0)
            return -1;
        b[chk_tl_bucket((uint64_t)json_integer_value(v))] += (uint32_t)json_integer_value(c);
    }
    return 0;
}

/* The summary of coarse buckets in report.json's latency form. Each bucket
 * is recorded into an HDR histogram at its highest value, so the "hist"
 * member merges exactly (shards add) and agrees with the figures here. */
static json_t *summary(const uint32_t *b)
{
    hist *h = hist_new();
    if (!h)
        return NULL;
    for (unsigned i = 0; i < CHK_TL_BUCKETS; i++)
        if (b[i])
            hist_record_n(h, chk_tl_bucket_high(i), b[i]);
    json_t *sum = hist_summary_json(h);
    json_object_set_new(sum, "hist", hist_to_json(h));
    json_object_set_new(sum, "resolution_pct", json_integer(3));
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
    uint32_t *in = calloc(CHK_TL_BUCKETS, sizeof *in), *out = calloc(CHK_TL_BUCKETS, sizeof *out);
    if (!spans || !in || !out) {
        free(spans), free(in), free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < nf; i++)
        n = fault_spans(json_array_get(faults, i), spans, cap, n);
    const json_t *row;
    int rc = 0;
    json_array_foreach(timeline, i, row) {
        const json_t *t = json_object_get(row, "t_s");
        if (!json_is_number(t) ||
            add_row_lat(json_object_get(row, "lat"), overlaps(json_number_value(t), spans, n) ? in : out)) {
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
    free(in);
    free(out);
    return rc;
}
