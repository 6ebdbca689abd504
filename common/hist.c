/* hist.c — HDR-style log-linear histogram (the HdrHistogram bucket layout,
 * fixed at 1 µs resolution, 2048 sub-buckets, range 0 .. 1 h). */
#include "hist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB_HALF_MAG 10                        /* 1024 sub-buckets per half */
#define SUB_HALF     (1u << SUB_HALF_MAG)      /* 1024 */
#define SUB_MASK     ((uint64_t)(2 * SUB_HALF) - 1) /* 2047 */
/* bucket index of HIST_HIGHEST_US (< 2^32) is 32 - 11 = 21 → 23 halves. */
#define BUCKETS      22
#define COUNTS_LEN   ((BUCKETS + 1) * SUB_HALF)

struct hist {
    uint64_t total;
    uint64_t clamped;
    uint64_t min, max;
    long double sum;
    uint64_t counts[COUNTS_LEN];
};

static int bucket_of(uint64_t v)
{
    return 64 - __builtin_clzll(v | SUB_MASK) - (SUB_HALF_MAG + 1);
}

static size_t index_of(uint64_t v)
{
    int b = bucket_of(v);
    uint64_t sub = v >> b;
    return ((size_t)(b + 1) << SUB_HALF_MAG) + (size_t)(sub - SUB_HALF);
}

/* Lowest value that maps to counts index i, and the bucket's width. */
static uint64_t value_at(size_t i, uint64_t *width)
{
    int b = (int)(i >> SUB_HALF_MAG) - 1;
    uint64_t sub = (i & (SUB_HALF - 1)) + SUB_HALF;
    if (b < 0) {
        b = 0;
        sub -= SUB_HALF;
    }
    if (width)
        *width = (uint64_t)1 << b;
    return sub << b;
}

hist *hist_new(void)
{
    hist *h = calloc(1, sizeof *h);
    return h;
}

void hist_free(hist *h)
{
    free(h);
}

void hist_reset(hist *h)
{
    memset(h, 0, sizeof *h);
}

void hist_record_n(hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return;
    if (v > HIST_HIGHEST_US) {
        v = HIST_HIGHEST_US;
        h->clamped += n;
    }
    if (h->total == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->counts[index_of(v)] += n;
    h->total += n;
    h->sum += (long double)v * n;
}

void hist_record(hist *h, uint64_t v)
{
    hist_record_n(h, v, 1);
}

void hist_merge(hist *dst, const hist *src)
{
    if (src->total == 0)
        return;
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    for (size_t i = 0; i < COUNTS_LEN; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
}

uint64_t hist_count(const hist *h) { return h->total; }
uint64_t hist_clamped(const hist *h) { return h->clamped; }
uint64_t hist_min(const hist *h) { return h->min; }
uint64_t hist_max(const hist *h) { return h->max; }

double hist_mean(const hist *h)
{
    return h->total ? (double)(h->sum / h->total) : 0.0;
}

uint64_t hist_percentile(const hist *h, double pct)
{
    if (h->total == 0)
        return 0;
    if (pct <= 0.0)
        return h->min;
    if (pct > 100.0)
        pct = 100.0;
    /* The small epsilon keeps 99.9% of 1000 at rank 999 despite 99.9 not
     * being exact in binary. */
    uint64_t target = (uint64_t)ceil(pct / 100.0 * (double)h->total - 1e-7);
    if (target < 1)
        target = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < COUNTS_LEN; i++) {
        seen += h->counts[i];
        if (seen >= target) {
            uint64_t width, lo = value_at(i, &width);
            uint64_t hi = lo + width - 1;
            if (hi > h->max)
                hi = h->max;
            if (hi < h->min)
                hi = h->min;
            return hi;
        }
    }
    return h->max;
}

json_t *hist_to_json(const hist *h)
{
    json_t *buckets = json_array();
    for (size_t i = 0; i < COUNTS_LEN; i++) {
        if (h->counts[i] == 0)
            continue;
        json_t *pair = json_array();
        json_array_append_new(pair, json_integer((json_int_t)value_at(i, NULL)));
        json_array_append_new(pair, json_integer((json_int_t)h->counts[i]));
        json_array_append_new(buckets, pair);
    }
    return json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:f, s:o}", "unit", "us", "sig_digits", 3,
                     "count", (json_int_t)h->total, "min", (json_int_t)h->min, "max",
                     (json_int_t)h->max, "clamped", (json_int_t)h->clamped, "sum_us",
                     (double)h->sum, "buckets", buckets);
}

static int get_uint(const json_t *obj, const char *key, uint64_t *out, char *err,
                    unsigned long errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen, "histogram: \"%s\" must be a non-negative integer", key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int hist_add_json(hist *h, const json_t *j, char *err, unsigned long errlen)
{
    uint64_t count, min, max, clamped = 0;
    if (!json_is_object(j)) {
        snprintf(err, errlen, "histogram: not a JSON object");
        return -1;
    }
    if (get_uint(j, "count", &count, err, errlen) || get_uint(j, "min", &min, err, errlen) ||
        get_uint(j, "max", &max, err, errlen))
        return -1;
    if (json_object_get(j, "clamped") && get_uint(j, "clamped", &clamped, err, errlen))
        return -1;
    const json_t *buckets = json_object_get(j, "buckets");
    if (!json_is_array(buckets)) {
        snprintf(err, errlen, "histogram: \"buckets\" must be an array");
        return -1;
    }
    /* Validate everything before touching h, so a bad input changes nothing. */
    uint64_t sum = 0;
    size_t n = json_array_size(buckets);
    for (size_t k = 0; k < n; k++) {
        const json_t *pair = json_array_get(buckets, k);
        const json_t *v = json_array_get(pair, 0), *c = json_array_get(pair, 1);
        if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_integer(v) ||
            !json_is_integer(c) || json_integer_value(v) < 0 || json_integer_value(c) <= 0 ||
            (uint64_t)json_integer_value(v) > HIST_HIGHEST_US) {
            snprintf(err, errlen, "histogram: bucket %zu is not [value 0..%llu, count > 0]", k,
                     (unsigned long long)HIST_HIGHEST_US);
            return -1;
        }
        sum += (uint64_t)json_integer_value(c);
    }
    if (sum != count) {
        snprintf(err, errlen, "histogram: bucket counts add up to %llu, not count %llu",
                 (unsigned long long)sum, (unsigned long long)count);
        return -1;
    }
    if (count == 0)
        return 0;
    const json_t *sum_us = json_object_get(j, "sum_us");
    for (size_t k = 0; k < n; k++) {
        const json_t *pair = json_array_get(buckets, k);
        uint64_t v = (uint64_t)json_integer_value(json_array_get(pair, 0));
        uint64_t c = (uint64_t)json_integer_value(json_array_get(pair, 1));
        h->counts[index_of(v)] += c;
        if (!json_is_number(sum_us)) {
            /* Older form without the sum: bucket midpoints keep the mean close. */
            uint64_t width;
            uint64_t lo = value_at(index_of(v), &width);
            h->sum += ((long double)lo + (long double)(width - 1) / 2) * c;
        }
    }
    if (json_is_number(sum_us))
        h->sum += (long double)json_number_value(sum_us);
    if (h->total == 0 || min < h->min)
        h->min = min;
    if (max > h->max)
        h->max = max;
    h->total += count;
    h->clamped += clamped;
    return 0;
}

json_t *hist_summary_json(const hist *h)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "count", (json_int_t)h->total, "p50",
                     (json_int_t)hist_percentile(h, 50.0), "p95",
                     (json_int_t)hist_percentile(h, 95.0), "p99",
                     (json_int_t)hist_percentile(h, 99.0), "p999",
                     (json_int_t)hist_percentile(h, 99.9), "max", (json_int_t)h->max, "mean",
                     hist_mean(h));
}
