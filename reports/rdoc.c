/* rdoc.c — reading a report.json document: loading, typed accessors, metric
 * lookup by name, fault lookup by time, small file helpers. */
#include "rdoc.h"

#include "verdict_metric.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const rdoc_latency_kinds[RDOC_NKINDS] = {"live", "replay", "connect", "resync"};

json_t *rdoc_load(const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *rep = json_load_file(path, 0, &jerr);
    if (!rep) {
        if (jerr.line > 0)
            snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        else /* not opened or empty: jansson's text already names the file */
            snprintf(err, errlen, "%s", jerr.text);
        return NULL;
    }
    if (!json_is_object(rep)) {
        snprintf(err, errlen, "%s: expected a JSON object", path);
        json_decref(rep);
        return NULL;
    }
    const char *schema = json_string_value(json_object_get(rep, "schema"));
    if (!schema || strcmp(schema, RDOC_SCHEMA) != 0) {
        snprintf(err, errlen, "%s: \"schema\" is %s%s%s, expected \"%s\"", path, schema ? "\"" : "",
                 schema ? schema : "missing", schema ? "\"" : "", RDOC_SCHEMA);
        json_decref(rep);
        return NULL;
    }
    return rep;
}

json_t *rdoc_load_dir(const char *dir_or_file, char *path_out, size_t path_len, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;
    if (stat(dir_or_file, &st) == 0 && S_ISDIR(st.st_mode))
        rdoc_path(path, sizeof path, dir_or_file, "report.json");
    else
        snprintf(path, sizeof path, "%s", dir_or_file);
    if (path_out)
        snprintf(path_out, path_len, "%s", path);
    return rdoc_load(path, err, errlen);
}

int rdoc_num(const json_t *obj, const char *key, double *out)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 0;
}

double rdoc_num_or(const json_t *obj, const char *key, double dflt)
{
    double v;
    return rdoc_num(obj, key, &v) == 0 ? v : dflt;
}

const char *rdoc_str_or(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = obj ? json_string_value(json_object_get(obj, key)) : NULL;
    return s ? s : dflt;
}

const json_t *rdoc_latency(const json_t *rep, const char *kind)
{
    const json_t *lat = json_object_get(rep, "latency_us");
    const json_t *k = lat ? json_object_get(lat, kind) : NULL;
    return json_is_object(k) ? k : NULL;
}

hist *rdoc_hist(const json_t *lat_kind, int *present, char *err, size_t errlen)
{
    *present = 0;
    hist *h = hist_new();
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const json_t *hj = lat_kind ? json_object_get(lat_kind, "hist") : NULL;
    if (hj) {
        if (hist_add_json(h, hj, err, errlen) != 0) {
            hist_free(h);
            return NULL;
        }
        *present = 1;
    }
    return h;
}

/* Latency metric names: pNN_KIND, max_KIND, mean_KIND, count_KIND. */
static int latency_metric(const char *name, const char **kind, const char **field)
{
    static const struct { const char *prefix, *field; } stats[] = {
        {"p50_", "p50"}, {"p95_", "p95"}, {"p99_", "p99"}, {"p999_", "p999"},
        {"max_", "max"}, {"mean_", "mean"}, {"count_", "count"},
    };
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
        size_t n = strlen(stats[i].prefix);
        if (strncmp(name, stats[i].prefix, n) == 0 && name[n]) {
            *kind = name + n;
            *field = stats[i].field;
            return 1;
        }
    }
    return 0;
}

int rdoc_metric_is_latency(const char *name)
{
    const char *k, *f;
    return latency_metric(name, &k, &f) && strcmp(f, "count") != 0;
}

int rdoc_metric_higher_is_better(const char *name)
{
    return strcmp(name, "delivered_ratio") == 0 || strcmp(name, "resync_ok") == 0 ||
           strcmp(name, "delivered") == 0 || strcmp(name, "published") == 0;
}

int rdoc_path_num(const json_t *rep, const char *path, double *out)
{
    char buf[256];
    if (strlen(path) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = rep;
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save))
        cur = json_is_object(cur) ? json_object_get(cur, seg) : NULL;
    if (!json_is_number(cur))
        return -1;
    *out = json_number_value(cur);
    return 0;
}

int rdoc_metric(const json_t *rep, const char *name, double *out)
{
    const char *kind, *field;
    if (strchr(name, '.'))
        return rdoc_path_num(rep, name, out);
    if (latency_metric(name, &kind, &field)) {
        const json_t *k = rdoc_latency(rep, kind);
        if (!k)
            return -1;
        /* a percentile of nothing is undefined, not 0 */
        if (strcmp(field, "count") != 0 && rdoc_num_or(k, "count", 0) == 0)
            return -1;
        return rdoc_num(k, field, out);
    }
    if (strcmp(name, "verdicts") == 0) {
        const json_t *vs = json_object_get(rep, "verdicts");
        if (!json_is_array(vs))
            return -1;
        size_t i, failed = 0;
        const json_t *v;
        json_array_foreach(vs, i, v) if (!json_is_true(json_object_get(v, "pass"))) failed++;
        *out = (double)failed;
        return 0;
    }
    if (strcmp(name, "delivered_ratio") == 0) {
        const json_t *vs = json_object_get(rep, "verdicts");
        size_t i;
        const json_t *v;
        json_array_foreach(vs, i, v) {
            const char *vn = json_string_value(json_object_get(v, "name"));
            if (vn && strcmp(vn, name) == 0 && rdoc_num(v, "value", out) == 0)
                return 0;
        }
        return rdoc_ratio(json_object_get(rep, "totals"), out);
    }
    return rdoc_num(json_object_get(rep, "totals"), name, out);
}

int rdoc_ratio(const json_t *totals, double *out)
{
    double delivered, expected;
    if (rdoc_num(totals, "delivered", &delivered) != 0 || rdoc_num(totals, "expected", &expected) != 0)
        return -1;
    /* as verdicts read it (verdict_metric.c): over nothing expected the
     * ratio is undefined, not 1 */
    if (expected <= 0)
        return -1;
    *out = delivered / expected;
    return 0;
}

int rdoc_verdict_metric(const json_t *rep, const char *vname, double *out)
{
    char err[256];
    /* a budget's metric: read by the one evaluator (verdict_metric.h) */
    if (verdict_value(vname, rep, out, err, sizeof err) == 0)
        return 0;
    /* a dotted path into the report ("groups.fast.lost": what resolves as
     * metric "lost" of a group "groups.fast" that does not exist) */
    if (strchr(vname, '.'))
        return rdoc_path_num(rep, vname, out);
    if (verdict_metric_find(vname))
        return -1; /* a known metric without a value (not measured, undefined) */
    return rdoc_metric(rep, vname, out);
}

const char *rdoc_faults_at(const json_t *rep, double t_s, char *buf, size_t len)
{
    const json_t *faults = json_object_get(rep, "faults");
    const json_t *f, *recent = NULL;
    size_t i, off = 0;
    double recent_from = -1;
    buf[0] = 0;
    json_array_foreach(faults, i, f) {
        double from = rdoc_num_or(f, "from_s", NAN), to = rdoc_num_or(f, "to_s", NAN);
        if (isnan(from) || from > t_s)
            continue;
        if (!isnan(to) && to > from) {
            if (t_s <= to && off < len) {
                char label[160];
                off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "; " : "",
                                        rdoc_fault_label(f, label, sizeof label));
            }
        } else if (from > recent_from) {
            recent_from = from;
            recent = f;
        }
    }
    /* An instant fault (a disconnect storm, a kill) explains what follows it
     * for a while: name the latest one of the last 10 s. */
    if (recent && t_s - recent_from <= 10.0 && off < len) {
        char label[160];
        off += (size_t)snprintf(buf + off, len - off, "%s%.1f s after %s", off ? "; " : "", t_s - recent_from,
                                rdoc_fault_label(recent, label, sizeof label));
    }
    if (off == 0)
        snprintf(buf, len, "none");
    return buf;
}

const char *rdoc_fault_label(const json_t *fault, char *buf, size_t len)
{
    const char *name = rdoc_str_or(fault, "name", NULL);
    const char *toxic = rdoc_str_or(fault, "toxic", NULL);
    if (!toxic)
        toxic = rdoc_str_or(fault, "kind", NULL);
    if (!toxic)
        toxic = rdoc_str_or(fault, "action", NULL);
    if (name && toxic && strcmp(name, toxic) != 0)
        snprintf(buf, len, "%s (%s)", name, toxic);
    else
        snprintf(buf, len, "%s", name ? name : toxic ? toxic : "fault");
    return buf;
}

void rdoc_path(char *buf, size_t len, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    snprintf(buf, len, "%s%s%s", dir, (n && dir[n - 1] == '/') ? "" : "/", name);
}

int rdoc_mkdir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

FILE *rdoc_fopen(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    rdoc_path(path, sizeof path, dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
    return f;
}

int rdoc_fclose(FILE *f, const char *name, char *err, size_t errlen)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "write %s: %s", name, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

char *rdoc_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "read %s: %s", path, buf ? "I/O error" : "out of memory");
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

void rdoc_fmt_ms(char *buf, size_t len, double us)
{
    double ms = us / 1000.0;
    if (isnan(us))
        snprintf(buf, len, "n/a");
    else if (ms >= 100 || ms == 0)
        snprintf(buf, len, "%.0f", ms);
    else if (ms >= 10)
        snprintf(buf, len, "%.1f", ms);
    else if (ms >= 1)
        snprintf(buf, len, "%.2f", ms);
    else
        snprintf(buf, len, "%.3f", ms);
}

void rdoc_fmt_num_digits(char *buf, size_t len, double v, int digits)
{
    if (isnan(v))
        snprintf(buf, len, "n/a");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.*g", digits, v);
}

void rdoc_fmt_num(char *buf, size_t len, double v)
{
    rdoc_fmt_num_digits(buf, len, v, 4);
}
