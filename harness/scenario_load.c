/* scenario_load.c — loads a scenario: libyaml document → --set overrides →
 * sections read into the checked struct, every error with file:line:col and
 * sorted as a reader meets them. */
#include "scenario.h"
#include "scenario_sections.h"
#include "scenario_set.h"
#include "ydoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Orders one file's messages as a reader meets them: --set first, then by
 * line and column (stable). */
static void diag_key(const char *m, const char *file, long *line, long *col)
{
    size_t fl = strlen(file);
    *line = *col = 0;
    if (strncmp(m, file, fl) || m[fl] != ':')
        return;
    char *end;
    *line = strtol(m + fl + 1, &end, 10);
    if (*end == ':')
        *col = strtol(end + 1, NULL, 10);
}

static void sort_diag(scn_diag *d, size_t start, const char *file)
{
    for (size_t i = start + 1; i < d->n; i++) {
        char *m = d->msgs[i];
        long l, c;
        diag_key(m, file, &l, &c);
        size_t j = i;
        while (j > start) {
            long pl, pc;
            diag_key(d->msgs[j - 1], file, &pl, &pc);
            if (pl < l || (pl == l && pc <= c))
                break;
            d->msgs[j] = d->msgs[j - 1];
            j--;
        }
        d->msgs[j] = m;
    }
}

static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = strdup(b);
    char *dot = s ? strrchr(s, '.') : NULL;
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        *dot = '\0';
    return s;
}

/* ydoc's errors go to the scenario's diagnostics list. */
static void to_diag(void *arg, const char *msg) { scn_diag_add(arg, "%s", msg); }

int scenario_load_string(const char *name, const char *yaml, size_t len, const scn_load_opts *opts,
                         scenario *out, scn_diag *diag)
{
    static const scn_load_opts none = {0};
    if (!opts)
        opts = &none;
    memset(out, 0, sizeof *out);
    scenario_sections_defaults(out);
    out->path = strdup(name);
    const char *slash = strrchr(name, '/');
    out->dir = slash ? strndup(name, (size_t)(slash - name)) : strdup(".");

    ydoc y = {.file = name, .emit = to_diag, .emit_arg = diag};
    size_t start = diag->n;
    if (ydoc_parse(&y, yaml, len) < 0) {
        ydoc_free(&y);
        scenario_free(out);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    if (!root) {
        scn_diag_add(diag, "%s:1:1: empty scenario: expected a mapping with at least 'duration' and 'clients'",
                     name);
    } else if (root->type != YAML_MAPPING_NODE) {
        ydoc_err_at(&y, 1, "expected the scenario to be a mapping (name:, duration:, clients: …)");
    } else {
        for (size_t i = 0; i < opts->nsets; i++)
            scenario_set_apply(&y, opts->sets[i]);
        if (diag->n == start)
            scenario_sections_convert(&y, out, opts->has_target);
    }
    if (!out->name)
        out->name = base_name(name);
    sort_diag(diag, start, name);
    ydoc_free(&y);
    if (diag->n != start) {
        scenario_free(out);
        return -1;
    }
    return 0;
}

int scenario_load(const char *path, const scn_load_opts *opts, scenario *out, scn_diag *diag)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        scn_diag_add(diag, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (16u << 20)) {
                scn_diag_add(diag, "%s: too large for a scenario (over 16 MiB)", path);
                free(buf);
                fclose(f);
                return -1;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                scn_diag_add(diag, "%s: out of memory", path);
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0)
            break;
        len += r;
    }
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr) {
        scn_diag_add(diag, "%s: read error", path);
        free(buf);
        return -1;
    }
    int rc = scenario_load_string(path, buf ? buf : "", len, opts, out, diag);
    free(buf);
    return rc;
}

