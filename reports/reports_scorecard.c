/* reports_scorecard.c — `rtchaos scorecard`: several runs of the same suite
 * (against different targets or protocols) side by side. Rendering only: it
 * reads each run's index.json (rtchaos.suite/1) and the entries'
 * report.json, and writes scorecard.json / .md / .html; nothing is run. */
#include "reports.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rdoc.h"
#include "rout.h"

#define SUITE_SCHEMA "rtchaos.suite/1"
#define SCORECARD_SCHEMA "rtchaos.scorecard/1"

const char *reports_scorecard_verdict(const char *suite_status)
{
    if (!suite_status)
        return "broken";
    if (!strcmp(suite_status, "pass"))
        return "pass";
    if (!strcmp(suite_status, "FAIL"))
        return "fail";
    if (!strcmp(suite_status, "not yet runnable"))
        return "not applicable";
    if (!strcmp(suite_status, "INVALID"))
        return "invalid";
    return "broken"; /* BROKEN, and any status this reader does not know: never a pass */
}

/* One run folder: its index and the column it becomes. */
typedef struct sc_run {
    const char *dir;
    json_t *index;
    char target[512], protocol[64], label[640];
} sc_run;

/* The column name: the entries' report.json `target` and `protocol.name`
 * (v1 when a report has no protocol object: reports from before adapters). */
static void run_label(sc_run *r)
{
    size_t i;
    json_t *e;
    snprintf(r->target, sizeof r->target, "%s", "(no run report)");
    snprintf(r->protocol, sizeof r->protocol, "%s", "n/a");
    json_array_foreach(json_object_get(r->index, "entries"), i, e) {
        const char *rd = json_string_value(json_object_get(e, "run_dir"));
        if (!rd)
            continue;
        char dir[4096], err[256];
        snprintf(dir, sizeof dir, "%s/%s", r->dir, rd);
        json_t *rep = rdoc_load_dir(dir, NULL, 0, err, sizeof err);
        if (!rep)
            continue;
        snprintf(r->target, sizeof r->target, "%s", rdoc_str_or(rep, "target", "(no target)"));
        snprintf(r->protocol, sizeof r->protocol, "%s",
                 rdoc_str_or(json_object_get(rep, "protocol"), "name", "v1"));
        json_decref(rep);
        break;
    }
    snprintf(r->label, sizeof r->label, "%s (%s)", r->target, r->protocol);
}

static json_t *entry_by_id(const json_t *index, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(index, "entries"), i, e) {
        if (!strcmp(rdoc_str_or(e, "id", ""), id))
            return e;
    }
    return NULL;
}

/* A link from the scorecard folder to a run's file: relative when both are
 * under one root (so the folders can be moved together), else absolute. */
static void link_to(char *buf, size_t len, const char *out_real, const char *run_dir, const char *rest)
{
    char real[PATH_MAX];
    if (!realpath(run_dir, real)) {
        snprintf(buf, len, "%s/%s", run_dir, rest);
        return;
    }
    /* both with a trailing '/': the common prefix ends at a '/', then one
     * ".." per directory of out below it */
    char a[PATH_MAX + 2], b[PATH_MAX + 2];
    snprintf(a, sizeof a, "%s/", strcmp(out_real, "/") ? out_real : "");
    snprintf(b, sizeof b, "%s/", strcmp(real, "/") ? real : "");
    size_t common = 0;
    for (size_t k = 0; a[k] && a[k] == b[k]; k++)
        if (a[k] == '/')
            common = k;
    size_t off = 0;
    buf[0] = 0;
    for (const char *p = a + common + 1; *p && off < len; p++)
        if (*p == '/')
            off += (size_t)snprintf(buf + off, len - off, "../");
    if (off < len)
        snprintf(buf + off, len - off, "%s%s", b + common + 1, rest);
}

/* The cell text: the measured figures, then the verdict and its reason. */
static void cell_text(const json_t *e, char *buf, size_t len)
{
    if (!e) {
        snprintf(buf, len, "not in this run");
        return;
    }
    const char *verdict = reports_scorecard_verdict(json_string_value(json_object_get(e, "status")));
    const char *answer = rdoc_str_or(e, "answer_text", "");
    const char *why = rdoc_str_or(e, "why", rdoc_str_or(e, "not_runnable", ""));
    snprintf(buf, len, "%s%s%s%s%s", answer, *answer ? " — " : "", verdict, *why ? ": " : "", why);
}

static json_t *cell_json(const json_t *e, const sc_run *r)
{
    if (!e)
        return json_pack("{s:s}", "verdict", "not in this run");
    const char *status = json_string_value(json_object_get(e, "status"));
    json_t *c = json_pack("{s:s, s:s?, s:O, s:s?}", "verdict", reports_scorecard_verdict(status), "status", status,
                          "figures", json_object_get(e, "answer") ? json_object_get(e, "answer") : json_null(),
                          "answer_text", json_string_value(json_object_get(e, "answer_text")));
    const char *why = json_string_value(json_object_get(e, "why"));
    if (!why)
        why = json_string_value(json_object_get(e, "not_runnable"));
    if (why)
        json_object_set_new(c, "reason", json_string(why));
    const char *rd = json_string_value(json_object_get(e, "run_dir"));
    if (rd) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s/report.json", r->dir, rd);
        json_object_set_new(c, "report", json_string(p));
    }
    return c;
}

static const char *const SC_CSS =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1400px;"
    "padding:0 1em;color:#222}\n"
    "h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n"
    "table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .6em;"
    "text-align:left;vertical-align:top;font-variant-numeric:tabular-nums}\n"
    "th{background:#f3f3f3}td.pass strong{color:#1a7f37}td.fail{background:#fff0f0}td.fail strong{color:#c00}"
    "td.broken,td.invalid{background:#fff4e0}td.na{color:#666;background:#f7f7f7}\n"
    ".note{color:#555;font-size:.9em}\n";

static const char *cell_class(const char *verdict)
{
    if (!strcmp(verdict, "pass"))
        return "pass";
    if (!strcmp(verdict, "fail"))
        return "fail";
    if (!strcmp(verdict, "not applicable") || !strcmp(verdict, "not in this run"))
        return "na";
    return !strcmp(verdict, "invalid") ? "invalid" : "broken";
}

static void write_doc(rout *o, const json_t *sc, const sc_run *runs, int n, const char *out_real)
{
    const char *title = rdoc_str_or(sc, "title", "");
    if (o->html) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Scorecard: ", o->f);
        rout_text(o, title);
        fprintf(o->f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", SC_CSS);
    }
    char h[1024];
    snprintf(h, sizeof h, "Scorecard: %s", title);
    rout_heading(o, 1, h, NULL);
    rout_para(o, "Suite %s, %d runs side by side: one row per entry, one column per target (URL and protocol "
                 "from the runs' report.json). Each cell: the measured figures, then the verdict.",
              rdoc_str_or(sc, "suite", ""), n);
    const char **cols = calloc((size_t)n + 1, sizeof *cols);
    char(*lab)[800] = calloc((size_t)n, sizeof *lab);
    if (!cols || !lab) {
        free(cols);
        free(lab);
        return;
    }
    cols[0] = "entry";
    for (int c = 0; c < n; c++) {
        snprintf(lab[c], sizeof lab[c], "%s — exit %lld", runs[c].label,
                 (long long)json_integer_value(json_object_get(runs[c].index, "exit_code")));
        cols[c + 1] = lab[c];
    }
    rout_table_begin(o, "scorecard", cols, n + 1);
    size_t i;
    json_t *row;
    char **cells = calloc((size_t)n + 1, sizeof *cells);
    json_array_foreach(json_object_get(sc, "rows"), i, row) {
        char what[1200];
        long long q = json_integer_value(json_object_get(row, "question"));
        if (q)
            snprintf(what, sizeof what, "Q%lld %s: %s", q, rdoc_str_or(row, "id", ""), rdoc_str_or(row, "title", ""));
        else
            snprintf(what, sizeof what, "%s: %s", rdoc_str_or(row, "id", ""), rdoc_str_or(row, "title", ""));
        if (!o->html) {
            char(*txt)[2048] = calloc((size_t)n + 1, sizeof *txt);
            if (!txt || !cells)
                break;
            snprintf(txt[0], sizeof txt[0], "%s", what);
            cells[0] = txt[0];
            for (int c = 0; c < n; c++) {
                cell_text(entry_by_id(runs[c].index, rdoc_str_or(row, "id", "")), txt[c + 1], sizeof txt[c + 1]);
                cells[c + 1] = txt[c + 1];
            }
            rout_table_row(o, NULL, (const char *const *)cells, n + 1);
            free(txt);
            continue;
        }
        fputs("<tr><td>", o->f);
        rout_text(o, what);
        fputs("</td>", o->f);
        const json_t *cj = json_object_get(row, "cells");
        for (int c = 0; c < n; c++) {
            const json_t *cell = json_array_get(cj, (size_t)c);
            const char *verdict = rdoc_str_or(cell, "verdict", "broken");
            fprintf(o->f, "<td class=\"%s\">", cell_class(verdict));
            const char *ans = rdoc_str_or(cell, "answer_text", "");
            if (*ans) {
                rout_text(o, ans);
                fputs("<br>", o->f);
            }
            fputs("<strong>", o->f);
            rout_text(o, verdict);
            fputs("</strong>", o->f);
            const char *why = rdoc_str_or(cell, "reason", "");
            if (*why) {
                fputs(" <span class=\"note\">", o->f);
                rout_text(o, why);
                fputs("</span>", o->f);
            }
            const json_t *e = entry_by_id(runs[c].index, rdoc_str_or(row, "id", ""));
            const char *rd = e ? json_string_value(json_object_get(e, "run_dir")) : NULL;
            if (rd) {
                char rest[600], href[PATH_MAX + 700];
                snprintf(rest, sizeof rest, "%s/report.html", rd);
                link_to(href, sizeof href, out_real, runs[c].dir, rest);
                fputs(" <a href=\"", o->f);
                rout_text(o, href);
                fputs("\">report</a>", o->f);
            }
            fputs("</td>", o->f);
        }
        fputs("</tr>\n", o->f);
    }
    rout_table_end(o);
    free(cells);
    free(cols);
    free(lab);
    if (o->html)
        fputs("</body></html>\n", o->f);
}

static int load_run(sc_run *r, char *err, size_t errlen)
{
    struct stat st;
    if (stat(r->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory (%s)", r->dir, errno ? strerror(errno) : "not a folder");
        return -1;
    }
    char path[4096];
    rdoc_path(path, sizeof path, r->dir, "index.json");
    json_error_t je;
    r->index = json_load_file(path, 0, &je);
    if (!r->index) {
        snprintf(err, errlen, "%s: not a suite run folder (no readable index.json: %s)", r->dir, je.text);
        return -1;
    }
    const char *schema = rdoc_str_or(r->index, "schema", "");
    if (strcmp(schema, SUITE_SCHEMA) != 0 || !json_is_array(json_object_get(r->index, "entries")) ||
        !json_string_value(json_object_get(r->index, "suite"))) {
        snprintf(err, errlen, "%s: not a suite index (schema '%s', expected %s)", path, schema,
                 SUITE_SCHEMA);
        return -1;
    }
    run_label(r);
    return 0;
}

int reports_scorecard(const char *out_dir, const char *const *run_dirs, int n, char *err, size_t errlen)
{
    if (n < 1) {
        snprintf(err, errlen, "no suite run folders given");
        return -1;
    }
    sc_run *runs = calloc((size_t)n, sizeof *runs);
    json_t *sc = NULL;
    int rc = -1;
    if (!runs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int c = 0; c < n; c++) {
        runs[c].dir = run_dirs[c];
        errno = 0;
        if (load_run(&runs[c], err, errlen) != 0)
            goto out;
        const char *s0 = rdoc_str_or(runs[0].index, "suite", ""), *sc_ = rdoc_str_or(runs[c].index, "suite", "");
        if (strcmp(s0, sc_) != 0) {
            snprintf(err, errlen, "different suites mixed: %s is suite '%s', %s is suite '%s'", runs[0].dir, s0,
                     runs[c].dir, sc_);
            goto out;
        }
    }
    /* two columns with one name (the same target and protocol twice, e.g.
     * two server builds on one port) keep their folder to tell them apart */
    for (int c = 0; c < n; c++)
        for (int d = 0; d < n; d++)
            if (c != d && !strcmp(runs[c].target, runs[d].target) && !strcmp(runs[c].protocol, runs[d].protocol)) {
                snprintf(runs[c].label, sizeof runs[c].label, "%s (%s) [%s]", runs[c].target, runs[c].protocol,
                         runs[c].dir);
                break;
            }
    if (rdoc_mkdir(out_dir, err, errlen) != 0)
        goto out;
    char out_real[PATH_MAX];
    if (!realpath(out_dir, out_real)) {
        snprintf(err, errlen, "%s: %s", out_dir, strerror(errno));
        goto out;
    }
    /* rows: every entry id, in the order of first appearance across runs */
    json_t *cols = json_array(), *rows = json_array(), *seen = json_object();
    sc = json_pack("{s:s, s:s, s:s, s:o, s:o}", "schema", SCORECARD_SCHEMA, "suite",
                   rdoc_str_or(runs[0].index, "suite", ""), "title", rdoc_str_or(runs[0].index, "title", ""),
                   "columns", cols, "rows", rows);
    for (int c = 0; c < n; c++) {
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:O}", "label", runs[c].label, "target",
                                              runs[c].target, "protocol", runs[c].protocol, "run_dir",
                                              runs[c].dir, "exit_code",
                                              json_object_get(runs[c].index, "exit_code")
                                                  ? json_object_get(runs[c].index, "exit_code")
                                                  : json_null()));
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(runs[c].index, "entries"), i, e) {
            const char *id = rdoc_str_or(e, "id", "");
            if (json_object_get(seen, id))
                continue;
            json_object_set_new(seen, id, json_true());
            json_t *row = json_pack("{s:s, s:s}", "id", id, "title", rdoc_str_or(e, "title", ""));
            if (json_object_get(e, "question")) {
                json_object_set(row, "question", json_object_get(e, "question"));
                json_object_set(row, "question_text", json_object_get(e, "question_text"));
            }
            json_t *cells = json_array();
            for (int d = 0; d < n; d++)
                json_array_append_new(cells, cell_json(entry_by_id(runs[d].index, id), &runs[d]));
            json_object_set_new(row, "cells", cells);
            json_array_append_new(rows, row);
        }
    }
    json_decref(seen);
    char path[4096];
    rdoc_path(path, sizeof path, out_dir, "scorecard.json");
    if (json_dump_file(sc, path, JSON_INDENT(1)) != 0) {
        snprintf(err, errlen, "write %s failed", path);
        goto out;
    }
    for (int html = 0; html <= 1; html++) {
        const char *name = html ? "scorecard.html" : "scorecard.md";
        rout o = {rdoc_fopen(out_dir, name, err, errlen), html};
        if (!o.f)
            goto out;
        write_doc(&o, sc, runs, n, out_real);
        if (rdoc_fclose(o.f, name, err, errlen) != 0)
            goto out;
    }
    rc = 0;
out:
    for (int c = 0; c < n; c++)
        json_decref(runs[c].index);
    free(runs);
    json_decref(sc);
    return rc;
}
