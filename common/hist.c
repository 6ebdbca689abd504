/* hist.c — HDR-style log-linear histogram (the HdrHistogram bucket layout,
 * fixed at 1 µs resolution over 0 .. 1 h, 2048 or 64 sub-buckets). */
#include "hist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sub-buckets per half: 2^mag. HIST_FINE 1024, HIST_COARSE 32. */
#define FINE_MAG   10
#define COARSE_MAG 5

struct hist {
    unsigned mag;       /* FINE_MAG or COARSE_MAG */
    size_t len;         /* counts[] entries */
    uint64_t total;
    uint64_t clamped;
    uint64_t min, max;
    long double sum;
    uint64_t counts[];
};

static int bucket_of(unsigned mag, uint64_t v)
{
    uint64_t mask = ((uint64_t)2 << mag) - 1;
    return 64 - __builtin_clzll(v | mask) - (int)(mag + 1);
}

static size_t index_of(unsigned mag, uint64_t v)
{
    int b = bucket_of(mag, v);
    uint64_t sub = v >> b;
    return ((size_t)(b + 1) << mag) + (size_t)(sub - ((uint64_t)1 << mag));
}

/* Entries needed for values up to HIST_HIGHEST_US. */
static size_t len_of(unsigned mag)
{
    return index_of(mag, HIST_HIGHEST_US) + 1;
}

/* Lowest value that maps to counts index i, and the bucket's width. */
static uint64_t value_at(unsigned mag, size_t i, uint64_t *width)
{
    int b = (int)(i >> mag) - 1;
    uint64_t half = (uint64_t)1 << mag;
    uint64_t sub = (i & (half - 1)) + half;
    if (b < 0) {
        b = 0;
        sub -= half;
    }
    if (width)
        *width = (uint64_t)1 << b;
    return sub << b;
}

/* Highest value of bucket i (the last bucket stops at HIST_HIGHEST_US). */
static uint64_t high_at(unsigned mag, size_t i)
{
    uint64_t width, lo = value_at(mag, i, &width);
    return lo + width - 1 > HIST_HIGHEST_US ? HIST_HIGHEST_US : lo + width - 1;
}

hist *hist_new_precision(hist_precision p)
{
    unsigned mag = p == HIST_COARSE ? COARSE_MAG : FINE_MAG;
    size_t len = len_of(mag);
    hist *h = calloc(1, sizeof *h + len * sizeof h->counts[0]);
    if (h) {
        h->mag = mag;
        h->len = len;
    }
    return h;
}

hist *hist_new(void)
{
    return hist_new_precision(HIST_FINE);
}

hist_precision hist_get_precision(const hist *h)
{
    return h->mag == COARSE_MAG ? HIST_COARSE : HIST_FINE;
}

void hist_free(hist *h)
{
    free(h);
}

void hist_reset(hist *h)
{
    h->total = h->clamped = h->min = h->max = 0;
    h->sum = 0;
    memset(h->counts, 0, h->len * sizeof h->counts[0]);
}

void hist_record_n(hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return;
    if (v > HIST_HIGHEST_US) {
        v = HIST_HIGHEST_US;
        h->clamped += n;
    }
    size_t i = index_of(h->mag, v);
    /* a coarse histogram keeps its extremes at bucket resolution (hist.h) */
    uint64_t lo = h->mag == COARSE_MAG ? value_at(h->mag, i, NULL) : v;
    uint64_t hi = h->mag == COARSE_MAG ? high_at(h->mag, i) : v;
    if (h->total == 0 || lo < h->min)
        h->min = lo;
    if (hi > h->max)
        h->max = hi;
    h->counts[i] += n;
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
    if (src->mag != dst->mag) {
        /* fine into coarse: each fine bucket lies inside one coarse bucket;
         * coarse into fine: each bucket at its highest value (hist.h). */
        long double sum = dst->sum;
        uint64_t clamped = dst->clamped;
        for (size_t i = 0; i < src->len; i++)
            if (src->counts[i])
                hist_record_n(dst, src->mag > dst->mag ? value_at(src->mag, i, NULL) : high_at(src->mag, i),
                              src->counts[i]);
        if (src->mag > dst->mag)
            dst->sum = sum + src->sum; /* the fine sum is exact */
        dst->clamped = clamped + src->clamped;
        return;
    }
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    for (size_t i = 0; i < dst->len; i++)
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

/* The rank hist_percentile looks for: ceil(pct/100 * total), at least 1.
 * The small epsilon keeps 99.9% of 1000 at rank 999 despite 99.9 not being
 * exact in binary. */
static uint64_t rank_of(double pct, uint64_t total)
{
    if (pct > 100.0)
        pct = 100.0;
    uint64_t target = (uint64_t)ceil(pct / 100.0 * (double)total - 1e-7);
    return target < 1 ? 1 : target;
}

uint64_t hist_percentile(const hist *h, double pct)
{
    if (h->total == 0)
        return 0;
    if (pct <= 0.0)
        return h->min;
    uint64_t target = rank_of(pct, h->total), seen = 0;
    for (size_t i = 0; i < h->len; i++) {
        seen += h->counts[i];
        if (seen >= target) {
            uint64_t hi = high_at(h->mag, i);
            if (hi > h->max)
                hi = h->max;
            if (hi < h->min)
                hi = h->min;
            return hi;
        }
    }
    return h->max;
}

unsigned hist_coarse_index(uint64_t v)
{
    return (unsigned)index_of(COARSE_MAG, v > HIST_HIGHEST_US ? HIST_HIGHEST_US : v);
}

uint64_t hist_coarse_low(unsigned i)
{
    return value_at(COARSE_MAG, i, NULL);
}

uint64_t hist_coarse_high(unsigned i)
{
    return high_at(COARSE_MAG, i);
}

void hist_add_coarse_counts(hist *h, const uint32_t *counts)
{
    for (unsigned i = 0; i < HIST_COARSE_BUCKETS; i++)
        if (counts[i])
            hist_record_n(h, hist_coarse_low(i), counts[i]);
}

uint64_t hist_coarse_counts_percentile(const uint32_t *counts, double pct)
{
    uint64_t total = 0;
    unsigned lo = HIST_COARSE_BUCKETS, hi = 0;
    for (unsigned i = 0; i < HIST_COARSE_BUCKETS; i++) {
        total += counts[i];
        if (counts[i]) {
            if (lo == HIST_COARSE_BUCKETS)
                lo = i;
            hi = i;
        }
    }
    if (total == 0)
        return 0;
    if (pct <= 0.0)
        return hist_coarse_low(lo);
    uint64_t target = rank_of(pct, total), seen = 0;
    for (unsigned i = 0; i < HIST_COARSE_BUCKETS; i++) {
        seen += counts[i];
        if (seen >= target)
            return hist_coarse_high(i);
    }
    return hist_coarse_high(hi);
}

json_t *hist_buckets_json(const hist *h)
{
    json_t *buckets = json_array();
    for (size_t i = 0; buckets && i < h->len; i++) {
        if (h->counts[i] == 0)
            continue;
        if (json_array_append_new(buckets, json_pack("[II]", (json_int_t)value_at(h->mag, i, NULL),
                                                     (json_int_t)h->counts[i])) != 0) {
            json_decref(buckets);
            return NULL;
        }
    }
    return buckets;
}

/* Validates [[v,c],…] (v within range, c > 0); *sum = the counts' total. */
static int check_buckets(const json_t *buckets, uint64_t *sum, char *err, unsigned long errlen)
{
    *sum = 0;
    if (!json_is_array(buckets)) {
        snprintf(err, errlen, "histogram: \"buckets\" must be an array");
        return -1;
    }
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
        *sum += (uint64_t)json_integer_value(c);
    }
    return 0;
}

int hist_add_buckets_json(hist *h, const json_t *buckets, char *err, unsigned long errlen)
{
    uint64_t sum;
    if (json_is_null(buckets))
        return 0;
    if (check_buckets(buckets, &sum, err, errlen) != 0)
        return -1;
    size_t k;
    const json_t *pair;
    json_array_foreach(buckets, k, pair)
        hist_record_n(h, (uint64_t)json_integer_value(json_array_get(pair, 0)),
                      (uint64_t)json_integer_value(json_array_get(pair, 1)));
    return 0;
}

json_t *hist_to_json(const hist *h)
{
    json_t *buckets = hist_buckets_json(h);
    if (!buckets)
        return NULL;
    /* The sum of whole µs is whole: written as an integer it survives any
     * real precision a report is dumped with, so merged means stay exact. */
    json_t *sum = h->sum == floorl(h->sum) && h->sum < 9e18L ? json_integer((json_int_t)h->sum)
                                                             : json_real((double)h->sum);
    json_t *j = json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:o, s:o}", "unit", "us", "sig_digits",
                     h->mag == COARSE_MAG ? 1 : 3,
                     "count", (json_int_t)h->total, "min", (json_int_t)h->min, "max",
                     (json_int_t)h->max, "clamped", (json_int_t)h->clamped, "sum_us",
                     sum, "buckets", buckets);
    if (j && h->mag == COARSE_MAG)
        json_object_set_new(j, "resolution_pct", json_integer(3));
    return j;
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
    /* Validate everything before touching h, so a bad input changes nothing. */
    uint64_t sum;
    if (check_buckets(buckets, &sum, err, errlen) != 0)
        return -1;
    size_t n = json_array_size(buckets);
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
        h->counts[index_of(h->mag, v)] += c;
        if (!json_is_number(sum_us)) {
            /* Older form without the sum: bucket midpoints keep the mean close. */
            uint64_t width;
            uint64_t lo = value_at(h->mag, index_of(h->mag, v), &width);
            h->sum += ((long double)lo + (long double)(width - 1) / 2) * c;
        }
    }
    if (json_is_number(sum_us))
        h->sum += (long double)json_number_value(sum_us);
    if (h->mag == COARSE_MAG) { /* extremes at bucket resolution (hist.h) */
        min = value_at(h->mag, index_of(h->mag, min > HIST_HIGHEST_US ? HIST_HIGHEST_US : min), NULL);
        max = high_at(h->mag, index_of(h->mag, max > HIST_HIGHEST_US ? HIST_HIGHEST_US : max));
    }
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
