/* ydoc.c — a libyaml document read with diagnostics (see ydoc.h). */
#include "ydoc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading and errors -------------------------------------------------------- */

/* Loads the document from an initialised parser; reports a syntax error. */
static int load(ydoc *y, yaml_parser_t *p)
{
    if (!yaml_parser_load(p, &y->doc)) {
        ydoc_note(y, "%s:%zu:%zu: invalid YAML: %s%s%s", y->file, p->problem_mark.line + 1,
                  p->problem_mark.column + 1, p->problem ? p->problem : "parse error", p->context ? " " : "",
                  p->context ? p->context : "");
        yaml_parser_delete(p);
        return -1;
    }
    yaml_parser_delete(p);
    y->doc_ok = 1;
    return 0;
}

int ydoc_parse(ydoc *y, const char *yaml, size_t len)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    return load(y, &p);
}

int ydoc_parse_file(ydoc *y)
{
    FILE *f = fopen(y->file, "rb");
    if (!f) {
        ydoc_note(y, "%s: %s", y->file, strerror(errno));
        return -1;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    int rc = load(y, &p);
    fclose(f);
    return rc;
}

void ydoc_free(ydoc *y)
{
    if (y->doc_ok)
        yaml_document_delete(&y->doc);
    y->doc_ok = 0;
    for (size_t i = 0; i < y->norigin; i++)
        free(y->origin[i]);
    free(y->origin);
    y->origin = NULL;
    y->norigin = 0;
}

static void emit(ydoc *y, const char *msg)
{
    y->nerr++;
    if (y->emit)
        y->emit(y->emit_arg, msg);
}

void ydoc_note(ydoc *y, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int w = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (w < 0) {
        y->nerr++; /* still an error, even when it cannot be told */
        return;
    }
    emit(y, msg);
    free(msg);
}

yaml_node_t *ydoc_node(ydoc *y, int id) { return id > 0 ? yaml_document_get_node(&y->doc, id) : NULL; }

const char *ydoc_origin(ydoc *y, int id)
{
    return (id > 0 && (size_t)id < y->norigin) ? y->origin[id] : NULL;
}

int ydoc_set_origin(ydoc *y, int id, const char *expr)
{
    if (id <= 0)
        return -1;
    if ((size_t)id >= y->norigin) {
        size_t nn = (size_t)id * 2 + 16;
        char **o = realloc(y->origin, nn * sizeof *o);
        if (!o)
            return -1;
        memset(o + y->norigin, 0, (nn - y->norigin) * sizeof *o);
        y->origin = o;
        y->norigin = nn;
    }
    free(y->origin[id]);
    y->origin[id] = strdup(expr);
    return y->origin[id] ? 0 : -1;
}

void ydoc_err_at_off(ydoc *y, int id, size_t col_off, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *o = ydoc_origin(y, id);
    yaml_node_t *n = ydoc_node(y, id);
    if (o)
        ydoc_note(y, "--set %s: %s", o, msg);
    else if (n)
        ydoc_note(y, "%s:%zu:%zu: %s", y->file, n->start_mark.line + 1, n->start_mark.column + 1 + col_off, msg);
    else
        ydoc_note(y, "%s: %s", y->file, msg);
}

void ydoc_err_node(ydoc *y, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ydoc_note(y, "%s:%zu:%zu: %s", y->file, n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1,
              msg);
}

void ydoc_pos(ydoc *y, int id, int *line, int *col)
{
    yaml_node_t *n = ydoc_node(y, id);
    *line = n && !ydoc_origin(y, id) ? (int)n->start_mark.line + 1 : 0;
    *col = n && !ydoc_origin(y, id) ? (int)n->start_mark.column + 1 : 0;
}

const char *ydoc_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

void ydoc_describe(const yaml_node_t *n, char *buf, size_t cap)
{
    if (!n)
        snprintf(buf, cap, "nothing");
    else if (n->type == YAML_MAPPING_NODE)
        snprintf(buf, cap, "a mapping");
    else if (n->type == YAML_SEQUENCE_NODE)
        snprintf(buf, cap, "a list");
    else if (n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        snprintf(buf, cap, "an empty value");
    else
        snprintf(buf, cap, "'%.60s'", ydoc_scalar(n));
}

int ydoc_is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = ydoc_scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* ---- did you mean -------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *ydoc_closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    size_t wl = strlen(word);
    size_t limit = wl / 3;
    if (limit < 1)
        limit = 1;
    /* A word that is the start of exactly one candidate ("ramp" → "ramp_up")
     * is a better guess than the nearest by edits. */
    const char *prefix = NULL;
    size_t nprefix = 0;
    for (size_t i = 0; i < n && wl >= 3; i++)
        if (!strncmp(cands[i], word, wl)) {
            prefix = cands[i];
            nprefix++;
        }
    if (nprefix == 1)
        return prefix;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return bestd <= limit && bestd < wl ? best : NULL;
}

void ydoc_join_list(char *buf, size_t cap, const char *const *items, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && off < cap; i++) {
        int w = snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", items[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

/* ---- typed values ---------------------------------------------------------------- */

int ydoc_want_scalar(ydoc *y, int id, const char *what)
{
    yaml_node_t *n = ydoc_node(y, id);
    if (n && n->type == YAML_SCALAR_NODE && !ydoc_is_null(n))
        return 0;
    char got[96];
    ydoc_describe(n, got, sizeof got);
    ydoc_err_at(y, id, "expected %s, got %s", what, got);
    return -1;
}

int ydoc_str(ydoc *y, int id, char **out)
{
    if (ydoc_want_scalar(y, id, "a string") < 0)
        return -1;
    free(*out);
    *out = strdup(ydoc_scalar(ydoc_node(y, id)));
    return *out ? 0 : -1;
}

/* The text of the scalar at id, or NULL after saying that what was expected. */
static const char *want_text(ydoc *y, int id, const char *what)
{
    return ydoc_want_scalar(y, id, what) < 0 ? NULL : ydoc_scalar(ydoc_node(y, id));
}

/* Reports number text s at id that did not parse (bad) or lies outside its
 * range (!in_range); 0 when it is neither. */
static int number_check(ydoc *y, int id, const char *s, int bad, int in_range, const char *what)
{
    if (bad)
        ydoc_err_at(y, id, "expected %s, got '%s'", what, s);
    else if (!in_range)
        ydoc_err_at(y, id, "%s is out of range: expected %s", s, what);
    return bad || !in_range ? -1 : 0;
}

int ydoc_u64(ydoc *y, int id, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char what[96];
    snprintf(what, sizeof what, "an integer from %llu to %llu", (unsigned long long)lo, (unsigned long long)hi);
    const char *s = want_text(y, id, what);
    if (!s)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (number_check(y, id, s, !isdigit((unsigned char)s[0]) || *end || errno, v >= lo && v <= hi, what) < 0)
        return -1;
    *out = v;
    return 0;
}

int ydoc_uint(ydoc *y, int id, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;
    if (ydoc_u64(y, id, lo, hi, &v) < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int ydoc_double(ydoc *y, int id, double lo, double hi, double *out)
{
    char what[96];
    snprintf(what, sizeof what, "a number from %.15g to %.15g", lo, hi);
    const char *s = want_text(y, id, what);
    if (!s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (number_check(y, id, s, end == s || *end || errno || !isfinite(v), v >= lo && v <= hi, what) < 0)
        return -1;
    *out = v;
    return 0;
}

int ydoc_parse_bool(const char *s, int *out)
{
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
    static const char *const f[] = {"false", "False", "FALSE", "no", "No", "off", "Off"};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(s, t[i])) {
            *out = 1;
            return 0;
        }
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!strcmp(s, f[i])) {
            *out = 0;
            return 0;
        }
    return -1;
}

int ydoc_bool(ydoc *y, int id, int *out)
{
    if (ydoc_want_scalar(y, id, "true or false") < 0)
        return -1;
    if (ydoc_parse_bool(ydoc_scalar(ydoc_node(y, id)), out) < 0) {
        ydoc_err_at(y, id, "expected true or false, got '%s'", ydoc_scalar(ydoc_node(y, id)));
        return -1;
    }
    return 0;
}

int ydoc_enum(ydoc *y, int id, const char *const *names, size_t n, int *out)
{
    char list[768];
    ydoc_join_list(list, sizeof list, names, n);
    char what[800];
    snprintf(what, sizeof what, "one of %s", list);
    if (ydoc_want_scalar(y, id, what) < 0)
        return -1;
    const char *s = ydoc_scalar(ydoc_node(y, id));
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, names[i])) {
            *out = (int)i;
            return 0;
        }
    const char *near = ydoc_closest(s, names, n);
    if (near && n > 6)
        ydoc_err_at(y, id, "unknown value '%s' (did you mean '%s'?)", s, near);
    else if (near)
        ydoc_err_at(y, id, "unknown value '%s' (did you mean '%s'?); expected %s", s, near, what);
    else
        ydoc_err_at(y, id, "unknown value '%s'; expected %s", s, what);
    return -1;
}

/* ---- mappings and lists ---------------------------------------------------------- */

/* Reports key ks (node keyid) as unknown in where, with a did-you-mean. */
static void unknown_key(ydoc *y, int keyid, const char *ks, const char *where, const char *const *known,
                        size_t nknown)
{
    const char *near = ydoc_closest(ks, known, nknown);
    char list[512];
    ydoc_join_list(list, sizeof list, known, nknown);
    if (near)
        ydoc_err_at(y, keyid, "unknown key '%s' in %s (did you mean '%s'?)", ks, where, near);
    else
        ydoc_err_at(y, keyid, "unknown key '%s' in %s; expected one of: %s", ks, where, list);
}

int ydoc_walk_map(ydoc *y, int id, const char *where, const char *const *known, size_t nknown, ydoc_field_fn fn,
                  void *obj)
{
    yaml_node_t *m = ydoc_node(y, id);
    if (!m || m->type != YAML_MAPPING_NODE) {
        char got[96];
        ydoc_describe(m, got, sizeof got);
        ydoc_err_at(y, id, "%s: expected a mapping, got %s", where, got);
        return -1;
    }
    unsigned char seen[64] = {0};
    size_t npairs = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
    for (size_t i = 0; i < npairs; i++) {
        m = ydoc_node(y, id); /* nodes may move if the document grows */
        yaml_node_pair_t pr = m->data.mapping.pairs.start[i];
        yaml_node_t *k = ydoc_node(y, pr.key);
        if (!k || k->type != YAML_SCALAR_NODE) {
            ydoc_err_at(y, pr.key, "%s: a key must be a plain name", where);
            continue;
        }
        const char *ks = ydoc_scalar(k);
        size_t j;
        for (j = 0; j < nknown; j++)
            if (!strcmp(ks, known[j]))
                break;
        if (j == nknown) {
            unknown_key(y, pr.key, ks, where, known, nknown);
            continue;
        }
        if (j < sizeof seen && seen[j]++) {
            ydoc_err_at(y, pr.key, "duplicate key '%s' in %s", ks, where);
            continue;
        }
        fn(y, obj, j, pr.value, pr.key);
    }
    return 0;
}

yaml_node_t *ydoc_get(ydoc *y, const yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = ydoc_scalar(ydoc_node(y, p->key));
        if (k && strcmp(k, key) == 0)
            return ydoc_node(y, p->value);
    }
    return NULL;
}

void ydoc_check_keys(ydoc *y, const yaml_node_t *m, const char *where, const char *const *allowed)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return;
    size_t nallowed = 0;
    while (allowed[nallowed])
        nallowed++;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = ydoc_scalar(ydoc_node(y, p->key));
        size_t j = 0;
        while (k && j < nallowed && strcmp(allowed[j], k))
            j++;
        if (!k)
            ydoc_err_at(y, p->key, "%s: a key must be a plain name", where);
        else if (j == nallowed)
            unknown_key(y, p->key, k, where, allowed, nallowed);
    }
}

json_t *ydoc_to_json(ydoc *y, int id, int depth)
{
    yaml_node_t *n = ydoc_node(y, id);
    if (!n || depth > 16)
        return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = ydoc_scalar(n);
        if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
            return json_string(s);
        if (ydoc_is_null(n))
            return json_null();
        int b;
        if (ydoc_parse_bool(s, &b) == 0)
            return json_boolean(b);
        char *end;
        errno = 0;
        long long ll = strtoll(s, &end, 10);
        if (*s && !*end && !errno)
            return json_integer(ll);
        double d = strtod(s, &end);
        if (*s && !*end && isfinite(d))
            return json_real(d);
        return json_string(s);
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        for (size_t i = 0; i < cnt; i++) {
            json_t *v = ydoc_to_json(y, ydoc_node(y, id)->data.sequence.items.start[i], depth + 1);
            if (v)
                json_array_append_new(a, v);
        }
        return a;
    }
    json_t *o = json_object();
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t pr = ydoc_node(y, id)->data.mapping.pairs.start[i];
        yaml_node_t *k = ydoc_node(y, pr.key);
        if (!k || k->type != YAML_SCALAR_NODE)
            continue;
        json_t *v = ydoc_to_json(y, pr.value, depth + 1);
        if (v)
            json_object_set_new(o, ydoc_scalar(k), v);
    }
    return o;
}

size_t ydoc_seq_len(ydoc *y, int id)
{
    yaml_node_t *n = ydoc_node(y, id);
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

int ydoc_seq_item(ydoc *y, int id, size_t i) { return ydoc_node(y, id)->data.sequence.items.start[i]; }

int ydoc_want_seq(ydoc *y, int id, const char *where)
{
    yaml_node_t *n = ydoc_node(y, id);
    if (n && n->type == YAML_SEQUENCE_NODE)
        return 0;
    char got[96];
    ydoc_describe(n, got, sizeof got);
    ydoc_err_at(y, id, "%s: expected a list, got %s", where, got);
    return -1;
}

int ydoc_str_list(ydoc *y, int id, const char *where, char ***out, size_t *nout)
{
    if (ydoc_want_seq(y, id, where) < 0)
        return -1;
    size_t n = ydoc_seq_len(y, id);
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char *s = NULL;
        if (ydoc_str(y, ydoc_seq_item(y, id, i), &s) == 0)
            v[k++] = s;
    }
    *out = v;
    *nout = k;
    return 0;
}
