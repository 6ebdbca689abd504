/* suite_alerts.c — an entry's alerting rules evaluated by promtool on the
 * series its run recorded (see suite_alerts.h). promtool does the
 * evaluation (the real rule engine, `for:` included); this file scales the
 * rules' windows, writes the test and reads back when each alert fired. */
#include "suite_alerts.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

#include "child.h"
#include "clock.h"
#include "rdoc.h"

#define PROMTOOL_TIMEOUT_US 120000000ULL

/* ---- durations ----------------------------------------------------------------- */

/* Prometheus duration → milliseconds; -1 when malformed. */
static double duration_ms(const char *s, size_t len)
{
    static const struct {
        const char *u;
        double ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
                 {"y", 31536000000.0}};
    double total = 0;
    size_t i = 0;
    if (len == 0)
        return -1;
    while (i < len) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        double v = 0;
        while (i < len && isdigit((unsigned char)s[i]))
            v = v * 10 + (s[i++] - '0');
        int found = 0;
        for (size_t u = 0; u < sizeof units / sizeof *units && !found; u++) {
            size_t ul = strlen(units[u].u);
            /* "m" must not eat the "m" of "ms" */
            if (i + ul <= len && !strncmp(s + i, units[u].u, ul) &&
                !(ul == 1 && units[u].u[0] == 'm' && i + 1 < len && s[i + 1] == 's')) {
                total += v * units[u].ms;
                i += ul;
                found = 1;
            }
        }
        if (!found)
            return -1;
    }
    return total;
}

static int fmt_ms(double ms, char *out, size_t cap)
{
    long long r = llround(ms);
    if (r < 1)
        r = 1;
    int n = r % 1000 == 0 ? snprintf(out, cap, "%llds", r / 1000) : snprintf(out, cap, "%lldms", r);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int suite_alerts_scale_duration(const char *in, double scale, char *out, size_t cap)
{
    double ms = in ? duration_ms(in, strlen(in)) : -1;
    if (ms < 0 || !(scale > 0))
        return -1;
    return fmt_ms(ms / scale, out, cap);
}

char *suite_alerts_scale_expr(const char *expr, double scale)
{
    size_t cap = strlen(expr) * 2 + 64, o = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    char q = 0;
    for (const char *p = expr; *p;) {
        if (o + 64 >= cap) {
            char *n = realloc(out, cap *= 2);
            if (!n) {
                free(out);
                return NULL;
            }
            out = n;
        }
        if (q) { /* inside a string: copied as it is (a regex may hold [a-z]) */
            if (*p == '\\' && p[1]) {
                out[o++] = *p++;
            } else if (*p == q) {
                q = 0;
            }
            out[o++] = *p++;
            continue;
        }
        if (*p == '"' || *p == '\'' || *p == '`') {
            q = *p;
            out[o++] = *p++;
            continue;
        }
        const char *d = NULL;
        size_t dl = 0;
        if (*p == '[') {
            /* [range] or [range:step] / [range:] */
            const char *end = strchr(p, ']');
            if (!end) {
                free(out);
                return NULL;
            }
            out[o++] = '[';
            const char *a = p + 1;
            while (a < end) {
                const char *colon = memchr(a, ':', (size_t)(end - a));
                const char *stop = colon ? colon : end;
                if (stop > a) {
                    double ms = duration_ms(a, (size_t)(stop - a));
                    char buf[32];
                    if (ms < 0 || fmt_ms(ms / scale, buf, sizeof buf) < 0) {
                        free(out);
                        return NULL;
                    }
                    o += (size_t)snprintf(out + o, cap - o, "%s", buf);
                }
                if (colon)
                    out[o++] = ':';
                a = colon ? colon + 1 : end;
            }
            out[o++] = ']';
            p = end + 1;
            continue;
        }
        /* the keyword, not the end of a name such as queue_offset */
        if (!strncmp(p, "offset", 6) &&
            (p == expr || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == ':')) &&
            isspace((unsigned char)p[6])) {
            memcpy(out + o, p, 6);
            o += 6;
            p += 6;
            while (isspace((unsigned char)*p))
                out[o++] = *p++;
            d = p;
            while (isalnum((unsigned char)*p))
                p++;
            dl = (size_t)(p - d);
            double ms = duration_ms(d, dl);
            char buf[32];
            if (ms < 0 || fmt_ms(ms / scale, buf, sizeof buf) < 0) {
                free(out);
                return NULL;
            }
            o += (size_t)snprintf(out + o, cap - o, "%s", buf);
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

/* ---- the rules file -------------------------------------------------------------- */

typedef struct frame {
    int is_map, want_key;
    char key[32];
} frame;

int suite_alerts_scale_rules(const char *in, const char *out, double scale, char *err, size_t errlen)
{
    FILE *fi = fopen(in, "rb");
    if (!fi) {
        snprintf(err, errlen, "cannot read %s", in);
        return -1;
    }
    FILE *fo = fopen(out, "wb");
    if (!fo) {
        fclose(fi);
        snprintf(err, errlen, "cannot write %s", out);
        return -1;
    }
    yaml_parser_t p;
    yaml_emitter_t em;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, fi);
    yaml_emitter_initialize(&em);
    yaml_emitter_set_output_file(&em, fo);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 4096);
    frame st[64];
    int depth = 0, rc = 0, done = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(err, errlen, "%s:%lu: %s", in, (unsigned long)p.problem_mark.line + 1,
                     p.problem ? p.problem : "YAML error");
            rc = -1;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        frame *top = depth ? &st[depth - 1] : NULL;
        switch (ev.type) {
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (top && top->is_map)
                top->want_key = 1; /* this collection is the value */
            if (depth < 64)
                st[depth++] = (frame){ev.type == YAML_MAPPING_START_EVENT, 1, ""};
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (depth)
                depth--;
            break;
        case YAML_ALIAS_EVENT:
            if (top && top->is_map)
                top->want_key = !top->want_key;
            break;
        case YAML_SCALAR_EVENT:
            if (top && top->is_map && top->want_key) {
                snprintf(top->key, sizeof top->key, "%s", (const char *)ev.data.scalar.value);
                top->want_key = 0;
            } else if (top && top->is_map) {
                top->want_key = 1;
                const char *v = (const char *)ev.data.scalar.value;
                char *nv = NULL, buf[32];
                if (!strcmp(top->key, "for") || !strcmp(top->key, "keep_firing_for")) {
                    if (suite_alerts_scale_duration(v, scale, buf, sizeof buf) == 0)
                        nv = strdup(buf);
                } else if (!strcmp(top->key, "expr")) {
                    nv = suite_alerts_scale_expr(v, scale);
                }
                if ((!strcmp(top->key, "for") || !strcmp(top->key, "expr")) && !nv) {
                    snprintf(err, errlen, "%s:%lu: cannot scale %s '%s'", in, (unsigned long)ev.start_mark.line + 1,
                             top->key, v);
                    yaml_event_delete(&ev);
                    rc = -1;
                    done = 1;
                    continue;
                }
                if (nv) {
                    yaml_event_t ne;
                    yaml_scalar_event_initialize(&ne, ev.data.scalar.anchor, ev.data.scalar.tag,
                                                 (yaml_char_t *)nv, (int)strlen(nv), ev.data.scalar.plain_implicit,
                                                 ev.data.scalar.quoted_implicit, ev.data.scalar.style);
                    free(nv);
                    yaml_event_delete(&ev);
                    ev = ne;
                }
            }
            break;
        default:
            break;
        }
        if (!yaml_emitter_emit(&em, &ev)) {
            snprintf(err, errlen, "cannot write %s: %s", out, em.problem ? em.problem : "YAML emitter error");
            rc = -1;
            break;
        }
    }
    yaml_emitter_delete(&em);
    yaml_parser_delete(&p);
    fclose(fi);
    if (fclose(fo) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s", out);
        rc = -1;
    }
    return rc;
}

int suite_alerts_names(const char *rules, char ***names, size_t *n, char *err, size_t errlen)
{
    *names = NULL;
    *n = 0;
    FILE *f = fopen(rules, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s", rules);
        return -1;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    int rc = -1;
    if (!yaml_parser_load(&p, &doc)) {
        snprintf(err, errlen, "%s:%lu: %s", rules, (unsigned long)p.problem_mark.line + 1,
                 p.problem ? p.problem : "YAML error");
        yaml_parser_delete(&p);
        fclose(f);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    size_t cap = 0;
    /* groups[].rules[].alert: walked by hand on the document tree */
    for (yaml_node_pair_t *gp = root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
         gp && gp < root->data.mapping.pairs.top; gp++) {
        yaml_node_t *k = yaml_document_get_node(&doc, gp->key), *gs = yaml_document_get_node(&doc, gp->value);
        if (!k || k->type != YAML_SCALAR_NODE || strcmp((char *)k->data.scalar.value, "groups") || !gs ||
            gs->type != YAML_SEQUENCE_NODE)
            continue;
        rc = 0;
        for (yaml_node_item_t *gi = gs->data.sequence.items.start; gi < gs->data.sequence.items.top; gi++) {
            yaml_node_t *g = yaml_document_get_node(&doc, *gi);
            for (yaml_node_pair_t *rp = g && g->type == YAML_MAPPING_NODE ? g->data.mapping.pairs.start : NULL;
                 rp && rp < g->data.mapping.pairs.top; rp++) {
                yaml_node_t *rk = yaml_document_get_node(&doc, rp->key), *rs = yaml_document_get_node(&doc, rp->value);
                if (!rk || rk->type != YAML_SCALAR_NODE || strcmp((char *)rk->data.scalar.value, "rules") || !rs ||
                    rs->type != YAML_SEQUENCE_NODE)
                    continue;
                for (yaml_node_item_t *ri = rs->data.sequence.items.start; ri < rs->data.sequence.items.top; ri++) {
                    yaml_node_t *r = yaml_document_get_node(&doc, *ri);
                    for (yaml_node_pair_t *ap = r && r->type == YAML_MAPPING_NODE ? r->data.mapping.pairs.start : NULL;
                         ap && ap < r->data.mapping.pairs.top; ap++) {
                        yaml_node_t *ak = yaml_document_get_node(&doc, ap->key),
                                    *av = yaml_document_get_node(&doc, ap->value);
                        if (ak && ak->type == YAML_SCALAR_NODE && !strcmp((char *)ak->data.scalar.value, "alert") &&
                            av && av->type == YAML_SCALAR_NODE) {
                            if (*n == cap) {
                                cap = cap ? cap * 2 : 16;
                                *names = realloc(*names, cap * sizeof **names);
                            }
                            (*names)[(*n)++] = strdup((char *)av->data.scalar.value);
                        }
                    }
                }
            }
        }
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: no 'groups' list of rule groups", rules);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

/* ---- promtool -------------------------------------------------------------------- */

static int find_promtool(char *out, size_t cap)
{
    const char *env = getenv("RTCHAOS_PROMTOOL");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path && *path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/promtool", d);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* `promtool test rules dir/file` (it reads the rule files the test names
 * relative to the test's own folder), its output into dir/log and *text
 * (malloc'd). Returns its exit code, or -1 when it could not run or finish. */
static int run_promtool(const char *promtool, const char *dir, const char *file, const char *log, char **text)
{
    char tp[4200], lp[4200], err[256];
    snprintf(tp, sizeof tp, "%s/%s", dir, file);
    snprintf(lp, sizeof lp, "%s/%s", dir, log);
    char *argv[] = {(char *)promtool, "test", "rules", tp, NULL};
    int rc = child_run("promtool", argv, lp, PROMTOOL_TIMEOUT_US / 1000, err, sizeof err);
    size_t n;
    *text = rdoc_read_file(lp, &n, err, sizeof err);
    return rc;
}

/* ---- the series file ------------------------------------------------------------- */

/* The body of dir/series.yml (comments dropped), and its number of steps. */
static char *series_body(const char *path, long *steps, char *err, size_t errlen)
{
    size_t n;
    char *text = rdoc_read_file(path, &n, err, errlen);
    if (!text)
        return NULL;
    char *out = malloc(n + 1);
    size_t o = 0;
    *steps = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len && line[0] != '#') {
            memcpy(out + o, line, len);
            o += len;
            out[o++] = '\n';
            const char *v = strstr(line, "values: '");
            if (v && v < line + len) {
                long k = 1;
                for (const char *p = v + 9; p < line + len && *p != '\''; p++)
                    k += *p == ' ';
                if (k > *steps)
                    *steps = k;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    out[o] = '\0';
    free(text);
    return out;
}

/* Appends body to f, every line indented by `ind` spaces. */
static void put_indented(FILE *f, const char *body, int ind)
{
    for (const char *line = body; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        fprintf(f, "%*s%.*s\n", ind, "", (int)len, line);
        line = nl ? nl + 1 : line + len;
    }
}

/* "got: {alertname="A", …} 6E+00, {…} 3E+00" after the line holding expr:
 * the earliest (want_min) or latest value per alert name into by (object
 * alert → number). */
static void parse_got(const char *text, const char *expr_mark, json_t *by, int want_min)
{
    const char *e = strstr(text, expr_mark);
    const char *got = e ? strstr(e, "got:") : NULL;
    if (!got)
        return;
    const char *end = strchr(got, '\n');
    if (!end)
        end = got + strlen(got);
    for (const char *p = got; p < end;) {
        const char *b = memchr(p, '{', (size_t)(end - p));
        if (!b)
            break;
        const char *q = b + 1;
        int inq = 0;
        for (; q < end && (inq || *q != '}'); q++) {
            if (inq && *q == '\\')
                q++;
            else if (*q == '"')
                inq = !inq;
        }
        if (q >= end)
            break;
        char name[128] = "";
        const char *an = strstr(b, "alertname=\"");
        if (an && an < q) {
            an += 11;
            size_t l = strcspn(an, "\"");
            snprintf(name, sizeof name, "%.*s", (int)(l < sizeof name ? l : sizeof name - 1), an);
        }
        char *ve;
        double v = strtod(q + 1, &ve);
        if (name[0] && ve != q + 1) {
            json_t *cur = json_object_get(by, name);
            if (!cur || (want_min ? v < json_number_value(cur) : v > json_number_value(cur)))
                json_object_set_new(by, name, json_real(v));
        }
        p = q + 1;
    }
}

static int in_list(char *const *l, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], s))
            return 1;
    return 0;
}

json_t *suite_alerts_judge(const char *dir, const char *rules, double scale, char *const *fire, size_t nfire,
                           char *const *quiet, size_t nquiet, double warmup_s)
{
    json_t *o = json_pack("{s:s, s:f, s:b}", "rules", rules, "time_scale", scale, "pass", 0);
    if (!o)
        return NULL;
    char err[512] = "", path[4200], promtool[4096];
    long steps = 0;
    snprintf(path, sizeof path, "%s/series.yml", dir);
    char *body = series_body(path, &steps, err, sizeof err);
    if (!body || steps < 2) {
        json_object_set_new(o, "why", json_sprintf("no recorded series to evaluate the alerts on (%s)",
                                                   body ? "fewer than 2 steps in series.yml" : err));
        free(body);
        return o;
    }
    snprintf(path, sizeof path, "%s/alert_rules.yml", dir);
    if (suite_alerts_scale_rules(rules, path, scale, err, sizeof err) != 0) {
        json_object_set_new(o, "why", json_sprintf("alert rules: %s", err));
        free(body);
        return o;
    }
    if (find_promtool(promtool, sizeof promtool) != 0) {
        json_object_set_new(o, "why", json_string("promtool not found (Debian package prometheus; or set "
                                                  "RTCHAOS_PROMTOOL): the alerts cannot be evaluated"));
        free(body);
        return o;
    }
    /* the test whose exit code decides: each named alert fired at some
     * step of the run (or never) */
    long last = steps - 1;
    for (int when = 0; when <= 1; when++) {
        snprintf(path, sizeof path, "%s/%s", dir, when ? "alert_when.yml" : "alert_test.yml");
        FILE *f = fopen(path, "w");
        if (!f) {
            json_object_set_new(o, "why", json_sprintf("cannot write %s", path));
            free(body);
            return o;
        }
        fprintf(f, "# Generated by rtchaos (suite alerts): the rules of %s with every window and `for:`\n"
                   "# divided by %g (alert_rules.yml), evaluated every second over the series the run\n"
                   "# recorded (series.yml). Run: cd THIS_FOLDER && promtool test rules %s\n",
                rules, scale, when ? "alert_when.yml" : "alert_test.yml");
        if (when)
            fputs("# This one is expected to FAIL: its failure lists when each alert was firing (first, last).\n", f);
        fputs("rule_files: [alert_rules.yml]\nevaluation_interval: 1s\ntests:\n  - name: the run's recorded series\n", f);
        put_indented(f, body, 4);
        fputs("    promql_expr_test:\n", f);
        if (!when) {
            for (size_t i = 0; i < nfire + nquiet; i++) {
                int fires = i < nfire;
                fprintf(f, "      - expr: count(max_over_time(ALERTS{alertname=\"%s\",alertstate=\"firing\"}[%lds]))\n"
                           "        eval_time: %lds\n        exp_samples: %s\n",
                        fires ? fire[i] : quiet[i - nfire], last + 1, last,
                        fires ? "[{labels: '{}', value: 1}]" : "[]");
            }
        } else {
            fprintf(f, "      - expr: min_over_time(timestamp(ALERTS{alertstate=\"firing\"})[%lds:1s])\n"
                       "        eval_time: %lds\n        exp_samples: []\n", last + 1, last);
            fprintf(f, "      - expr: max_over_time(timestamp(ALERTS{alertstate=\"firing\"})[%lds:1s])\n"
                       "        eval_time: %lds\n        exp_samples: []\n", last + 1, last);
        }
        if (fclose(f) != 0) {
            json_object_set_new(o, "why", json_sprintf("cannot write %s", path));
            free(body);
            return o;
        }
    }
    free(body);
    char *out_test = NULL, *out_when = NULL;
    int rc = run_promtool(promtool, dir, "alert_test.yml", "alert_test.log", &out_test);
    int rcw = run_promtool(promtool, dir, "alert_when.yml", "alert_when.log", &out_when);
    json_t *first = json_object(), *lastt = json_object();
    if (out_when) {
        parse_got(out_when, "expr: \"min_over_time", first, 1);
        parse_got(out_when, "expr: \"max_over_time", lastt, 0);
    }
    json_t *expect = json_array(), *fired = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(first, k, v) {
        json_t *l = json_object_get(lastt, k);
        json_array_append_new(fired, json_pack("{s:s, s:f, s:o, s:b}", "alert", k, "first_s",
                                               json_number_value(v) - warmup_s, "last_s",
                                               l ? json_real(json_number_value(l) - warmup_s) : json_null(),
                                               "expected", in_list(fire, nfire, k)));
    }
    char why[512] = "";
    size_t wl = 0;
    for (size_t i = 0; i < nfire + nquiet; i++) {
        int fires = i < nfire;
        const char *name = fires ? fire[i] : quiet[i - nfire];
        json_t *f0 = json_object_get(first, name), *f1 = json_object_get(lastt, name);
        int pass = fires ? f0 != NULL : f0 == NULL;
        json_array_append_new(expect, json_pack("{s:s, s:s, s:b, s:o, s:o, s:b}", "alert", name, "expect",
                                                fires ? "fire" : "quiet", "fired", f0 != NULL, "first_s",
                                                f0 ? json_real(json_number_value(f0) - warmup_s) : json_null(),
                                                "last_s", f1 ? json_real(json_number_value(f1) - warmup_s) : json_null(),
                                                "pass", pass));
        if (!pass && wl < sizeof why)
            wl += (size_t)snprintf(why + wl, sizeof why - wl, "%s%s %s", wl ? "; " : "", name,
                                   fires ? "did not fire" : "fired");
    }
    json_object_set_new(o, "expect", expect);
    json_object_set_new(o, "fired", fired);
    json_object_set_new(o, "promtool_exit", json_integer(rc));
    json_object_set_new(o, "files", json_pack("[s,s,s,s]", "series.yml", "alert_rules.yml", "alert_test.yml",
                                              "alert_test.log"));
    /* promtool's exit code decides; the when-listing explains */
    if (rc == 0) {
        json_object_set_new(o, "pass", json_true());
        if (why[0]) /* the two promtool runs disagree: should not happen; say so */
            json_object_set_new(o, "why", json_sprintf("promtool passed the test but the listing says: %s", why));
    } else if (rc == 1) {
        json_object_set_new(o, "why", json_string(why[0] ? why : "promtool test rules failed (see alert_test.log)"));
    } else {
        json_object_set_new(o, "why", json_sprintf("promtool could not evaluate the alerts (exit %d, when-listing "
                                                   "exit %d; see alert_test.log)", rc, rcw));
    }
    json_decref(first);
    json_decref(lastt);
    free(out_test);
    free(out_when);
    return o;
}
