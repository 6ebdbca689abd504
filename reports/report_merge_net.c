/* report_merge_net.c — merging of report.json's kernel-fault figures: the
 * "network" object (namespaces, TCP counters and connection states of both
 * sides, server_idle_close_s, samples) and faults[] entries matched by name
 * and planned time (report_merge.h). Every shard of a namespaces run had its
 * own server, proxy and link, so counters add and the combined link is the
 * sum of the shards' links. */
#include "report_merge.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* dst[key] = a op b for two numbers (add, or the larger when is_max). */
static int set_combined(json_t *dst, const char *key, const json_t *a, const json_t *b, int is_max)
{
    json_t *out;
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        out = json_integer(is_max ? (x > y ? x : y) : x + y);
    } else {
        double x = json_number_value(a), y = json_number_value(b);
        out = json_real(is_max ? fmax(x, y) : x + y); /* seconds, percentages: stay reals */
    }
    return out ? json_object_set_new(dst, key, out) : -1;
}

/* Per-key numbers of the object src into dst[key] (added, or the larger
 * when is_max); keys dst lacks are taken as they are. */
static int merge_numbers(json_t *dst, const char *key, const json_t *src, int is_max)
{
    if (!json_is_object(src))
        return 0;
    json_t *d = json_object_get(dst, key);
    if (!json_is_object(d)) {
        d = json_object();
        if (!d || json_object_set_new(dst, key, d) != 0)
            return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        const json_t *cur = json_object_get(d, k);
        if (!json_is_number(v))
            continue;
        if (!json_is_number(cur) ? json_object_set(d, k, v) != 0 : set_combined(d, k, cur, v, is_max) != 0)
            return -1;
    }
    return 0;
}

/* One side's tcp object (tcp.server / tcp.client): counters add, *_max the
 * larger, states_end add (the combined link at the end), states_max per
 * state the larger (the shards' peaks need not coincide: the largest one
 * shard saw, a lower bound of the combined peak), retrans_pct recomputed. */
static int merge_tcp_side(json_t *d, const json_t *s)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v) {
        const json_t *cur = json_object_get(d, k);
        if (!strcmp(k, "retrans_pct"))
            continue;
        if (!strcmp(k, "states_end") || !strcmp(k, "states_max")) {
            if (merge_numbers(d, k, v, !strcmp(k, "states_max")) != 0)
                return -1;
        } else if (json_is_number(v)) {
            if (!json_is_number(cur) ? json_object_set(d, k, v) != 0
                                     : set_combined(d, k, cur, v, rmerge_is_max_key(k)) != 0)
                return -1;
        } else if (!cur && json_object_set(d, k, v) != 0) {
            return -1;
        }
    }
    double out = num(d, "out_segs");
    return json_object_set_new(d, "retrans_pct", json_real(out > 0 ? 100.0 * num(d, "retrans_segs") / out : 0.0));
}

/* src's samples appended to dst.samples, each tagged with the source. */
static int append_samples(json_t *dst, const json_t *src, const char *src_name)
{
    json_t *ds = json_object_get(dst, "samples");
    if (!json_is_array(ds)) {
        ds = json_array();
        if (!ds || json_object_set_new(dst, "samples", ds) != 0)
            return -1;
    }
    size_t i;
    json_t *smp;
    json_array_foreach(json_object_get(src, "samples"), i, smp) {
        json_t *c = json_deep_copy(smp);
        if (!c || (json_is_object(c) && !json_object_get(c, "shard") &&
                   json_object_set_new(c, "shard", json_string(src_name)) != 0) ||
            json_array_append_new(ds, c) != 0)
            return -1;
    }
    return 0;
}

int rmerge_network(json_t *dst_report, const json_t *src_net, const char *src_name, char *err, size_t errlen)
{
    if (!json_is_object(src_net))
        return 0;
    json_t *d = json_object_get(dst_report, "network");
    int first = !json_is_object(d);
    if (first) {
        d = json_object();
        if (!d || json_object_set_new(dst_report, "network", d) != 0)
            goto oom;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src_net, k, v) {
        json_t *cur = json_object_get(d, k);
        if (!strcmp(k, "samples"))
            continue; /* below */
        if (!strcmp(k, "tcp")) {
            const char *side;
            json_t *sv;
            json_object_foreach(v, side, sv) {
                json_t *dt = json_object_get(d, "tcp");
                if (!json_is_object(dt)) {
                    dt = json_object();
                    if (!dt || json_object_set_new(d, "tcp", dt) != 0)
                        goto oom;
                }
                json_t *ds = json_object_get(dt, side);
                if (!json_is_object(ds)) {
                    ds = json_object();
                    if (!ds || json_object_set_new(dt, side, ds) != 0)
                        goto oom;
                }
                if (json_is_object(sv) && merge_tcp_side(ds, sv) != 0)
                    goto oom;
            }
        } else if (!strcmp(k, "kernel") && json_is_object(v)) {
            /* what the kernels offered: a mechanism only when every shard had it */
            if (!cur) {
                if (json_object_set_new(d, k, json_deep_copy(v)) != 0)
                    goto oom;
                continue;
            }
            const char *m;
            json_t *b;
            json_object_foreach(v, m, b) {
                if (json_object_set_new(cur, m, json_boolean(json_is_true(b) && json_is_true(json_object_get(cur, m)))) != 0)
                    goto oom;
            }
        } else if (!strcmp(k, "server_idle_close_s")) {
            /* the slowest close; only when every shard's server closed (handled below) */
            if (first ? json_object_set(d, k, v) != 0 : cur && set_combined(d, k, cur, v, 1) != 0)
                goto oom;
        } else if (!strcmp(k, "group_addrs") && json_is_object(v)) {
            if (!cur ? json_object_set_new(d, k, json_deep_copy(v)) != 0 : json_object_update_missing(cur, v) != 0)
                goto oom;
        } else if (!cur && json_object_set(d, k, v) != 0) {
            goto oom; /* namespaces, names, addresses: the first source's */
        }
    }
    if (!first && !json_object_get(src_net, "server_idle_close_s"))
        json_object_del(d, "server_idle_close_s"); /* a shard's server still held a cut connection */
    if (append_samples(d, src_net, src_name) != 0)
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Per state, src's count added to dst's (tcp_at_apply / tcp_at_lift: the
 * combined link at each shard's apply or lift; t_s the earliest). */
static int merge_states_at(json_t *d, const json_t *s)
{
    if (!json_is_object(s))
        return 0;
    if (json_is_number(json_object_get(s, "t_s")) &&
        (!json_is_number(json_object_get(d, "t_s")) || num(s, "t_s") < num(d, "t_s")) &&
        json_object_set(d, "t_s", json_object_get(s, "t_s")) != 0)
        return -1;
    return merge_numbers(d, "server", json_object_get(s, "server"), 0) != 0 ||
                   merge_numbers(d, "client", json_object_get(s, "client"), 0) != 0
               ? -1
               : 0;
}

/* d += s for one kernel fault's figures (d is a copy of the first). */
static int merge_kernel_fault(json_t *d, const json_t *s)
{
    static const char *const counts[] = {"packets_seen", "packets_acted"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        const json_t *a = json_object_get(d, counts[i]);
        json_t *b = json_object_get(s, counts[i]);
        if (json_is_number(b) &&
            (json_is_number(a) ? set_combined(d, counts[i], a, b, 0) : json_object_set(d, counts[i], b)) != 0)
            return -1;
    }
    if (json_is_number(json_object_get(d, "packets_seen"))) {
        double seen = num(d, "packets_seen");
        if (json_object_set_new(d, "acted_pct", json_real(seen > 0 ? 100.0 * num(d, "packets_acted") / seen : 0.0)) != 0)
            return -1;
    }
    /* the slowest close, and none when one shard's server never closed */
    const json_t *a = json_object_get(d, "server_link_closed_after_s"), *b = json_object_get(s, "server_link_closed_after_s");
    if (!a || !b)
        json_object_del(d, "server_link_closed_after_s");
    else if (set_combined(d, "server_link_closed_after_s", a, b, 1) != 0)
        return -1;
    static const char *const at[] = {"tcp_at_apply", "tcp_at_lift"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *sv = json_object_get(s, at[i]);
        json_t *dv = json_object_get(d, at[i]);
        if (!json_is_object(sv))
            continue;
        if (!json_is_object(dv)) {
            if (json_object_set_new(d, at[i], json_deep_copy(sv)) != 0)
                return -1;
        } else if (merge_states_at(dv, sv) != 0) {
            return -1;
        }
    }
    return 0;
}

static int same_fault(const json_t *a, const json_t *b)
{
    const char *na = json_string_value(json_object_get(a, "name")), *nb = json_string_value(json_object_get(b, "name"));
    const json_t *ta = json_object_get(a, "planned_from_s"), *tb = json_object_get(b, "planned_from_s");
    if (!na || !nb || strcmp(na, nb) != 0 || !ta != !tb)
        return 0;
    return !ta || fabs(json_number_value(ta) - json_number_value(tb)) < 1e-6;
}

int rmerge_faults(json_t *dst_report, const json_t *src_faults, char *err, size_t errlen)
{
    if (!json_is_array(src_faults))
        return 0;
    json_t *df = json_object_get(dst_report, "faults");
    if (!json_is_array(df)) {
        df = json_array();
        if (!df || json_object_set_new(dst_report, "faults", df) != 0)
            goto oom;
    }
    size_t i, j;
    json_t *f, *g;
    json_array_foreach(src_faults, i, f) {
        json_t *match = NULL;
        int dup = 0;
        json_array_foreach(df, j, g) {
            if (json_object_get(f, "mechanism") && json_object_get(g, "mechanism") && same_fault(f, g)) {
                match = g;
                break;
            }
            if (json_equal(f, g))
                dup = 1;
        }
        if (match) {
            if (merge_kernel_fault(match, f) != 0)
                goto oom;
        } else if (!dup) {
            json_t *c = json_deep_copy(f);
            if (!c || json_array_append_new(df, c) != 0)
                goto oom;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}
