/* report_merge.c — exact merging of report.json's figures: totals, latency
 * histograms, timeline rows, client groups, attacks, anomalies (report_merge.h). */
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
        } else if (json_is_array(v)) { /* lists of cases (workers_lost): one after the other */
            json_t *d = json_object_get(dst, key);
            if (!json_is_array(d)) {
                d = json_array();
                if (!d || json_object_set_new(dst, key, d) != 0) {
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
            }
            if (json_array_extend(d, v) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
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

/* ---- timeline rows and client groups ------------------------------------ */

static const struct pct_key {
    const char *row, *group;
    double pct;
} pct_keys[] = {{"p50_us", "live_p50_us", 50}, {"p95_us", "live_p95_us", 95}, {"p99_us", "live_p99_us", 99}};
#define N_PCT (sizeof pct_keys / sizeof pct_keys[0])

/* A latency percentile field of a row or group ("p95_us", "live_p95_us"):
 * recomputed from the buckets, never added. */
static int is_percentile_key(const char *key)
{
    if (!strncmp(key, "live_", 5))
        key += 5;
    return key[0] == 'p' && key[1] >= '0' && key[1] <= '9';
}

/* Sets obj's percentile keys (group ? "live_pNN_us" : "pNN_us") and "lat"
 * from the coarse histogram h. */
static int set_coarse(json_t *obj, const hist *h, int group)
{
    json_t *lat = hist_buckets_json(h);
    if (!lat || json_object_set_new(obj, "lat", lat) != 0)
        return -1;
    for (size_t k = 0; k < N_PCT; k++)
        if (json_object_set_new(obj, group ? pct_keys[k].group : pct_keys[k].row,
                                json_integer((json_int_t)hist_percentile(h, pct_keys[k].pct))) != 0)
            return -1;
    return 0;
}

static int set_coarse_counts(json_t *obj, const uint32_t *counts, int group)
{
    hist *h = hist_new_precision(HIST_COARSE);
    if (!h)
        return -1;
    hist_add_coarse_counts(h, counts);
    int rc = set_coarse(obj, h, group);
    hist_free(h);
    return rc;
}

json_t *rmerge_timeline_row(uint64_t t_s, uint64_t published, uint64_t delivered, uint64_t connected,
                            uint64_t reconnects, const uint32_t *lat_counts)
{
    json_t *row = json_pack("{s:I,s:I,s:I,s:I,s:I}", "t_s", (json_int_t)t_s, "published", (json_int_t)published,
                            "delivered", (json_int_t)delivered, "connected", (json_int_t)connected,
                            "reconnects", (json_int_t)reconnects);
    if (row && set_coarse_counts(row, lat_counts, 0) != 0) {
        json_decref(row);
        return NULL;
    }
    return row;
}

int rmerge_group_latency(json_t *group, const uint32_t *lat_counts)
{
    return set_coarse_counts(group, lat_counts, 1);
}

/* Whether obj's live latency is known bucket by bucket: it has "lat", or
 * (a timeline row) it received nothing and so has no buckets to add. */
static int has_buckets(const json_t *obj, int group)
{
    if (json_is_array(json_object_get(obj, "lat")))
        return 1;
    return !group && json_is_number(json_object_get(obj, "delivered")) &&
           json_number_value(json_object_get(obj, "delivered")) == 0;
}

/* d += s for one row or group (d already holds at least one source). */
static int merge_coarse_obj(json_t *d, const json_t *s, int group, const char *where, int *exact, char *err,
                            size_t errlen)
{
    int exact_here = has_buckets(d, group) && has_buckets(s, group);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)s, key, v) {
        if (!strcmp(key, "t_s") || !strcmp(key, "lat"))
            continue;
        if (json_is_number(v)) {
            int pct = is_percentile_key(key);
            if (pct && exact_here)
                continue; /* recomputed below */
            if (merge_number(d, key, v, pct || rmerge_is_max_key(key)) != 0)
                goto oom;
        } else if (group && !strcmp(key, "attack") && json_is_object(v)) {
            json_t *da = json_object_get(d, "attack");
            if (!json_is_object(da)) {
                da = json_object();
                if (!da || json_object_set_new(d, "attack", da) != 0)
                    goto oom;
            }
            if (rmerge_attack(da, v, where, err, errlen) != 0)
                return -1;
        } else if (!json_object_get(d, key) && json_object_set(d, key, v) != 0) {
            goto oom;
        }
    }
    if (!exact_here) {
        *exact = 0;
        json_object_del(d, "lat");
        return 0;
    }
    hist *h = hist_new_precision(HIST_COARSE);
    char e[200];
    if (!h)
        goto oom;
    if (hist_add_buckets_json(h, json_object_get(d, "lat"), e, sizeof e) != 0 ||
        hist_add_buckets_json(h, json_object_get(s, "lat"), e, sizeof e) != 0) {
        snprintf(err, errlen, "%s: bad \"lat\": %s", where, e);
        hist_free(h);
        return -1;
    }
    int rc = set_coarse(d, h, group);
    hist_free(h);
    if (rc != 0)
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* A first source's row or group as the merge keeps it: a copy whose
 * percentiles are recomputed from its buckets (so one source merged alone
 * reads as it will after more are added). */
static json_t *first_copy(const json_t *s, int group, const char *where, int *exact, char *err, size_t errlen)
{
    json_t *d = json_object();
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (json_is_number(json_object_get(s, "t_s")))
        json_object_set(d, "t_s", json_object_get(s, "t_s"));
    if (has_buckets(s, group) && json_object_set_new(d, "lat", json_array()) != 0) {
        json_decref(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!has_buckets(s, group)) {
        /* nothing of d's own yet: take s's figures as they are (a later
         * source makes the merge inexact, merge_coarse_obj) */
        (void)exact;
        json_object_update(d, (json_t *)s);
        return d;
    }
    if (merge_coarse_obj(d, s, group, where, exact, err, errlen) != 0) {
        json_decref(d);
        return NULL;
    }
    return d;
}

int rmerge_timeline(json_t *dst_report, const json_t *src_timeline, int *exact, char *err, size_t errlen)
{
    json_t *dtl = json_object_get(dst_report, "timeline");
    if (!json_is_array(dtl)) {
        dtl = json_array();
        if (!dtl || json_object_set_new(dst_report, "timeline", dtl) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    size_t i;
    const json_t *row;
    json_array_foreach(src_timeline, i, row) {
        const json_t *tj = json_object_get(row, "t_s");
        if (!json_is_number(tj))
            continue;
        double t = json_number_value(tj);
        char where[64];
        snprintf(where, sizeof where, "timeline row t_s=%g", t);
        /* rows stay ordered by t_s: find the first at or after t */
        size_t lo = 0, hi = json_array_size(dtl);
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (json_number_value(json_object_get(json_array_get(dtl, mid), "t_s")) < t - 1e-6)
                lo = mid + 1;
            else
                hi = mid;
        }
        json_t *d = json_array_get(dtl, lo);
        if (d && fabs(json_number_value(json_object_get(d, "t_s")) - t) < 1e-6) {
            if (merge_coarse_obj(d, row, 0, where, exact, err, errlen) != 0)
                return -1;
            continue;
        }
        json_t *n = first_copy(row, 0, where, exact, err, errlen);
        if (!n)
            return -1;
        if (json_array_insert_new(dtl, lo, n) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int rmerge_groups(json_t *dst_report, const json_t *src_groups, int *exact, char *err, size_t errlen)
{
    if (!json_is_object(src_groups))
        return 0;
    json_t *dg = json_object_get(dst_report, "groups");
    if (!json_is_object(dg)) {
        dg = json_object();
        if (!dg || json_object_set_new(dst_report, "groups", dg) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    const char *name;
    json_t *g;
    json_object_foreach((json_t *)src_groups, name, g) {
        if (!json_is_object(g))
            continue;
        char where[160];
        snprintf(where, sizeof where, "groups.%s", name);
        json_t *d = json_object_get(dg, name);
        if (d) {
            if (merge_coarse_obj(d, g, 1, where, exact, err, errlen) != 0)
                return -1;
            continue;
        }
        d = first_copy(g, 1, where, exact, err, errlen);
        if (!d)
            return -1;
        if (json_object_set_new(dg, name, d) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* o[key] when it is an object, else a new empty object put there. */
static json_t *member_object(json_t *o, const char *key)
{
    json_t *m = json_object_get(o, key);
    if (json_is_object(m))
        return m;
    m = json_object();
    return m && json_object_set_new(o, key, m) == 0 ? m : NULL;
}

/* a / b rounded to 0.1, or null when b is 0 */
static json_t *per(double a, double b)
{
    return b > 0 ? json_real(round(a / b * 10.0) / 10.0) : json_null();
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

int rmerge_wire(json_t *report)
{
    const json_t *t = json_object_get(report, "totals");
    if (!json_is_number(json_object_get(t, "bytes_rx")))
        return 0;
    double rx = num(t, "bytes_rx"), tx = num(t, "bytes_tx"), dl = num(t, "delivered");
    double cmin = num(t, "client_open_ms") / 60000.0, hs = num(t, "bytes_rx_handshake");
    json_t *w = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "rx_bytes", rmerge_number(rx), "tx_bytes",
                          rmerge_number(tx), "client_min", json_real(round(cmin * 1000.0) / 1000.0),
                          "rx_bytes_per_event", per(rx, dl), "tx_bytes_per_event", per(tx, dl),
                          "rx_bytes_per_client_min", per(rx, cmin), "open_rx_bytes_per_client_min",
                          per(rx - hs, cmin));
    json_t *bt = json_object();
    if (!w || !bt) {
        json_decref(w);
        json_decref(bt);
        return -1;
    }
    const json_t *brx = json_object_get(t, "bytes_rx_by_transport");
    const char *tn;
    json_t *v;
    json_object_foreach((json_t *)brx, tn, v) {
        double r = json_number_value(v), x = num(json_object_get(t, "bytes_tx_by_transport"), tn);
        double d = num(json_object_get(t, "delivered_by_transport"), tn);
        double m = num(json_object_get(t, "client_open_ms_by_transport"), tn) / 60000.0;
        double h = num(json_object_get(t, "bytes_rx_handshake_by_transport"), tn);
        json_object_set_new(bt, tn, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "rx_bytes",
                                              rmerge_number(r), "tx_bytes", rmerge_number(x), "delivered",
                                              rmerge_number(d), "client_min", json_real(round(m * 1000.0) / 1000.0),
                                              "rx_bytes_per_event", per(r, d), "tx_bytes_per_event", per(x, d),
                                              "rx_bytes_per_client_min", per(r, m), "open_rx_bytes_per_client_min",
                                              per(r - h, m)));
    }
    json_object_set_new(w, "by_transport", bt);
    return json_object_set_new(report, "wire", w);
}

int rmerge_report(json_t *dst, const json_t *src, const char *src_name, int *tl_exact, int *groups_exact,
                  char *err, size_t errlen)
{
    json_t *dt = member_object(dst, "totals"), *dl = member_object(dst, "latency_us");
    if (!dt || !dl) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (rmerge_totals(dt, json_object_get(src, "totals"), err, errlen) != 0 ||
        rmerge_latency(dl, json_object_get(src, "latency_us"), src_name, err, errlen) != 0 ||
        rmerge_timeline(dst, json_object_get(src, "timeline"), tl_exact, err, errlen) != 0 ||
        rmerge_groups(dst, json_object_get(src, "groups"), groups_exact, err, errlen) != 0 ||
        rmerge_faults(dst, json_object_get(src, "faults"), err, errlen) != 0 ||
        rmerge_network(dst, json_object_get(src, "network"), src_name, err, errlen) != 0)
        return -1;
    const json_t *atk = json_object_get(src, "attacks");
    if (json_is_object(atk)) {
        json_t *da = member_object(dst, "attacks");
        if (!da) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (rmerge_attack(da, atk, src_name, err, errlen) != 0)
            return -1;
    }
    if (rmerge_wire(dst) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}
