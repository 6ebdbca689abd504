/* report_merge.c — exact merging of report.json totals, latency histograms
 * and anomaly lists (report_merge.h). */
#include "report_merge.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

int rmerge_is_max_key(const char *key)
{
    size_t n = strlen(key);
    return strncmp(key, "max_", 4) == 0 || (n > 4 && strcmp(key + n - 4, "_max") == 0) ||
           (n > 7 && strcmp(key + n - 7, "_max_us") == 0) || (n > 7 && strcmp(key + n - 7, "_max_ms") == 0);
}

json_t *rmerge_number(double v)
{
    if (v == floor(v) && fabs(v) < 9e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* dst[key] combined with the number v: added, or the larger when is_max. */
static int merge_number(json_t *dst, const char *key, const json_t *v, int is_max)
{
    const json_t *cur = json_object_get(dst, key);
    json_t *out;
    if (json_is_integer(v) && (!cur || json_is_integer(cur))) {
        json_int_t a = cur ? json_integer_value(cur) : 0, b = json_integer_value(v);
        out = json_integer(!cur ? b : is_max ? (a > b ? a : b) : a + b);
    } else {
        double x = json_number_value(v);
        if (json_is_number(cur))
            x = is_max ? fmax(json_number_value(cur), x) : json_number_value(cur) + x;
        out = rmerge_number(x);
    }
    return out ? json_object_set_new(dst, key, out) : -1;
}

int rmerge_counts(json_t *parent, const char *key, const json_t *src, char *err, size_t errlen)
{
    json_t *d = json_object_get(parent, key);
    if (!json_is_object(d)) {
        d = json_object();
        if (!d || json_object_set_new(parent, key, d) != 0)
            goto oom;
    }
    const char *k2;
    json_t *v2;
    json_object_foreach((json_t *)src, k2, v2) {
        if (json_is_number(v2) && merge_number(d, k2, v2, 0) != 0)
            goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int rmerge_totals(json_t *dst, const json_t *src, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)src, key, v) {
        if (json_is_object(v)) { /* counts by reason: add per reason */
            if (rmerge_counts(dst, key, v, err, errlen) != 0)
                return -1;
        } else if (json_is_number(v) && merge_number(dst, key, v, rmerge_is_max_key(key)) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int rmerge_attack(json_t *dst, const json_t *src, const char *src_name, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)src, key, v) {
        if (json_is_number(v)) {
            if (merge_number(dst, key, v, 0) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        } else if (!strcmp(key, "by_outcome") && json_is_object(v)) {
            if (rmerge_counts(dst, key, v, err, errlen) != 0)
                return -1;
        } else if (!strcmp(key, "cut_us") && json_is_object(v)) {
            if (rmerge_hist_part(dst, key, v, src_name, err, errlen) != 0)
                return -1;
        } else if (!json_object_get(dst, key) && json_object_set(dst, key, v) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int rmerge_hist_part(json_t *dst, const char *name, const json_t *src_part, const char *src_name,
                     char *err, size_t errlen)
{
    hist *h = hist_new();
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char e[256];
    const json_t *dh = json_object_get(json_object_get(dst, name), "hist");
    const json_t *sh = json_object_get(src_part, "hist");
    if (dh && hist_add_json(h, dh, e, sizeof e) != 0) {
        snprintf(err, errlen, "merged latency_us.%s.hist: %s", name, e);
        goto fail;
    }
    if (!sh && json_number_value(json_object_get(src_part, "count")) != 0) {
        snprintf(err, errlen, "%s: latency_us.%s has no \"hist\" member: percentiles cannot be merged "
                 "exactly (they are never averaged)", src_name, name);
        goto fail;
    }
    if (sh && hist_add_json(h, sh, e, sizeof e) != 0) {
        snprintf(err, errlen, "%s: latency_us.%s.hist: %s", src_name, name, e);
        goto fail;
    }
    json_t *sum = hist_summary_json(h), *hj = hist_to_json(h);
    if (!sum || !hj || json_object_set_new(sum, "hist", hj) != 0 ||
        json_object_set_new(dst, name, sum) != 0) {
        json_decref(sum);
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    hist_free(h);
    return 0;
fail:
    hist_free(h);
    return -1;
}

int rmerge_latency(json_t *dst, const json_t *src, const char *src_name, char *err, size_t errlen)
{
    const char *kind;
    json_t *part;
    json_object_foreach((json_t *)src, kind, part) {
        if (json_is_object(part) && rmerge_hist_part(dst, kind, part, src_name, err, errlen) != 0)
            return -1;
    }
    return 0;
}

typedef struct an_ref {
    double t_s;
    size_t order;
    json_t *a;
} an_ref;

static int an_cmp(const void *x, const void *y)
{
    const an_ref *a = x, *b = y;
    if (a->t_s != b->t_s)
        return a->t_s < b->t_s ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

json_t *rmerge_anomalies(const json_t *const *lists, size_t n, size_t per_kind, int tag_list)
{
    size_t total = 0;
    for (size_t s = 0; s < n; s++)
        total += json_array_size(lists[s]);
    an_ref *refs = calloc(total ? total : 1, sizeof *refs);
    json_t *out = json_array(), *seen = json_object();
    if (!refs || !out || !seen)
        goto oom;
    size_t k = 0;
    for (size_t s = 0; s < n; s++) {
        size_t i;
        json_t *a;
        json_array_foreach(lists[s], i, a) {
            json_t *c = tag_list ? json_deep_copy(a) : json_incref(a);
            if (!c || (tag_list && json_object_set_new(c, "shard", json_integer((json_int_t)s)) != 0)) {
                json_decref(c);
                goto oom;
            }
            refs[k] = (an_ref){ json_number_value(json_object_get(a, "t_s")), k, c };
            k++;
        }
    }
    qsort(refs, k, sizeof *refs, an_cmp);
    for (size_t i = 0; i < k; i++) {
        const char *kind = json_string_value(json_object_get(refs[i].a, "kind"));
        if (!kind)
            kind = "?";
        json_int_t c = json_integer_value(json_object_get(seen, kind));
        if ((size_t)c < per_kind) {
            json_object_set_new(seen, kind, json_integer(c + 1));
            json_array_append(out, refs[i].a);
        }
    }
    for (size_t i = 0; i < k; i++)
        json_decref(refs[i].a);
    free(refs);
    json_decref(seen);
    return out;
oom:
    for (size_t i = 0; refs && i < total && refs[i].a; i++)
        json_decref(refs[i].a);
    free(refs);
    json_decref(out);
    json_decref(seen);
    return NULL;
}
