/* suite_def.c — parsing and checking suite files (libyaml document API),
 * every error reported as file:line:col. */
#include "suite_def.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "scenario.h"
#include "ydoc.h"
#include "suite_alerts.h"

/* Errors go to the caller's stream, one a line. */
static void to_stream(void *arg, const char *msg)
{
    if (arg)
        fprintf(arg, "%s\n", msg);
}

static char *dup_scalar(ydoc *c, yaml_node_t *n, const char *what, int required, yaml_node_t *parent)
{
    if (!n) {
        if (required)
            ydoc_err_node(c, parent, "missing '%s'", what);
        return NULL;
    }
    const char *s = ydoc_scalar(n);
    if (!s) {
        ydoc_err_node(c, n, "'%s' must be a string", what);
        return NULL;
    }
    return strdup(s);
}

/* A sequence of scalars (or one scalar) → array of strings. */
static char **dup_list(ydoc *c, yaml_node_t *n, const char *what, size_t *count)
{
    *count = 0;
    if (!n)
        return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        char **v = calloc(1, sizeof *v);
        v[0] = strdup(ydoc_scalar(n));
        *count = 1;
        return v;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        ydoc_err_node(c, n, "'%s' must be a list of strings", what);
        return NULL;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char **v = calloc(len + 1, sizeof *v);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *x = ydoc_node(c, *it);
        const char *s = ydoc_scalar(x);
        if (!s) {
            ydoc_err_node(c, x, "'%s' items must be strings", what);
            continue;
        }
        v[(*count)++] = strdup(s);
    }
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

double suite_def_seconds(const char *s)
{
    /* a bare number is seconds (suite files have always allowed it);
     * anything with a unit is a scenario duration, parsed by the loader's
     * own parser so both files accept the same forms */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s && *end == 0)
        return errno || !isfinite(v) || v < 0 ? -1 : v;
    uint64_t us;
    char err[160];
    if (scenario_parse_duration(s, &us, err, sizeof err) != 0)
        return -1;
    return (double)us / 1e6;
}

/* A window bound may be negative: run time before t = 0 is the warm-up. */
static double signed_seconds_of(ydoc *c, yaml_node_t *n, const char *what, double dflt)
{
    const char *s = n ? ydoc_scalar(n) : NULL;
    if (s && s[0] == '-') {
        double v = suite_def_seconds(s + 1);
        if (v < 0) {
            ydoc_err_node(c, n, "'%s' must be a duration such as 15s, -2s or 500ms", what);
            return dflt;
        }
        return -v;
    }
    if (!n)
        return dflt;
    double v = s ? suite_def_seconds(s) : -1;
    if (v < 0) {
        ydoc_err_node(c, n, "'%s' must be a duration such as 15s, -2s or 500ms", what);
        return dflt;
    }
    return v;
}

static double seconds_of(ydoc *c, yaml_node_t *n, const char *what, double dflt)
{
    if (!n)
        return dflt;
    const char *s = ydoc_scalar(n);
    double v = s ? suite_def_seconds(s) : -1;
    if (v < 0) {
        ydoc_err_node(c, n, "'%s' must be a duration such as 15s, 500ms or 2m", what);
        return dflt;
    }
    return v;
}

/* Each override must look like path=value. */
static void check_sets(ydoc *c, yaml_node_t *n, char **sets, size_t nsets, const char *what)
{
    for (size_t i = 0; i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i])
            ydoc_err_node(c, n, "%s: '%s' is not path=value", what, sets[i]);
    }
}

static char *resolve(const char *dir, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *r = malloc(n);
    snprintf(r, n, "%s/%s", dir, p);
    return r;
}

static const char *const op_names[] = {"<=", ">=", "<", ">", "==", "!=", NULL};

static int parse_window_budget(ydoc *c, yaml_node_t *n, const char *text, double from_s, double to_s,
                               suite_window_budget *b)
{
    char metric[64], op[4];
    double v;
    if (sscanf(text, "%63s %3s %lf", metric, op, &v) != 3) {
        ydoc_err_node(c, n, "restore budget '%s' is not 'METRIC OP VALUE'", text);
        return -1;
    }
    int okop = 0;
    for (const char *const *o = op_names; *o; o++)
        okop |= strcmp(*o, op) == 0;
    int okm = strcmp(metric, "delivered_per_s") == 0 || strcmp(metric, "p50_live_ms") == 0 ||
              strcmp(metric, "p95_live_ms") == 0 || strcmp(metric, "p99_live_ms") == 0 ||
              strcmp(metric, "p999_live_ms") == 0 || strcmp(metric, "max_live_ms") == 0;
    if (!okop || !okm) {
        ydoc_err_node(c, n, "restore budget '%s': metric must be p50/p95/p99/p999_live_ms, max_live_ms or delivered_per_s, "
                   "op one of <= >= < > == !=", text);
        return -1;
    }
    b->text = strdup(text);
    b->metric = strdup(metric);
    b->op = strdup(op);
    b->value = v;
    b->from_s = from_s;
    b->to_s = to_s;
    return 0;
}

static void parse_drill(ydoc *c, yaml_node_t *n, suite_def *s, suite_entry *e)
{
    static const char *const keys[] = {"server", "watch", "actions", "symptom", "restore", NULL};
    static const char *const server_keys[] = {"args", "config", NULL};
    static const char *const watch_keys[] = {"name", "metric", "labels", "expect", "value", "window", NULL};
    static const char *const action_keys[] = {"at", "method", "path", "body", "body_pad", "token", "repeat",
                                              "expect", NULL};
    static const char *const restore_keys[] = {"from", "to", "budgets", NULL};
    suite_drill *d = &e->drill;
    if (n->type != YAML_MAPPING_NODE) {
        ydoc_err_node(c, n, "'drill' must be a mapping");
        return;
    }
    d->present = 1;
    ydoc_check_keys(c, n, "drill", keys);
    yaml_node_t *srv = ydoc_get(c, n, "server");
    if (srv) {
        ydoc_check_keys(c, srv, "drill.server", server_keys);
        d->server_args = dup_list(c, ydoc_get(c, srv, "args"), "drill.server.args", &d->nserver_args);
        yaml_node_t *cfg = ydoc_get(c, srv, "config");
        if (cfg && ydoc_scalar(cfg)) {
            d->server_config = resolve(s->dir, ydoc_scalar(cfg));
            if (access(d->server_config, R_OK) != 0)
                ydoc_err_node(c, cfg, "drill.server.config: cannot read %s", d->server_config);
        }
    }
    yaml_node_t *w = ydoc_get(c, n, "watch");
    if (w && w->type == YAML_SEQUENCE_NODE) {
        size_t len = (size_t)(w->data.sequence.items.top - w->data.sequence.items.start);
        d->watches = calloc(len ? len : 1, sizeof *d->watches);
        for (yaml_node_item_t *it = w->data.sequence.items.start; it < w->data.sequence.items.top; it++) {
            yaml_node_t *x = ydoc_node(c, *it);
            suite_watch *sw = &d->watches[d->nwatches++];
            ydoc_check_keys(c, x, "drill.watch[]", watch_keys);
            sw->metric = dup_scalar(c, ydoc_get(c, x, "metric"), "metric", 1, x);
            sw->name = dup_scalar(c, ydoc_get(c, x, "name"), "name", 0, x);
            if (!sw->name && sw->metric)
                sw->name = strdup(sw->metric);
            sw->labels = dup_scalar(c, ydoc_get(c, x, "labels"), "labels", 0, x);
            const char *ex = ydoc_scalar(ydoc_get(c, x, "expect"));
            if (!ex || strcmp(ex, "increase") == 0)
                sw->expect = SUITE_EXPECT_INCREASE;
            else if (strcmp(ex, "above") == 0)
                sw->expect = SUITE_EXPECT_ABOVE;
            else if (strcmp(ex, "below") == 0)
                sw->expect = SUITE_EXPECT_BELOW;
            else if (strcmp(ex, "flat") == 0)
                sw->expect = SUITE_EXPECT_FLAT;
            else
                ydoc_err_node(c, ydoc_get(c, x, "expect"), "expect: '%s' is not increase, above, below or flat", ex);
            const char *v = ydoc_scalar(ydoc_get(c, x, "value"));
            sw->value = v ? strtod(v, NULL) : 0;
            yaml_node_t *win = ydoc_get(c, x, "window");
            sw->from_s = -1e9; /* no window: every sample */
            sw->to_s = -1;
            if (win) {
                if (win->type != YAML_SEQUENCE_NODE || win->data.sequence.items.top - win->data.sequence.items.start != 2)
                    ydoc_err_node(c, win, "window must be [FROM, TO] durations");
                else {
                    sw->from_s = signed_seconds_of(c, ydoc_node(c, win->data.sequence.items.start[0]), "window", 0);
                    sw->to_s = seconds_of(c, ydoc_node(c, win->data.sequence.items.start[1]), "window", -1);
                }
            }
        }
    } else if (w) {
        ydoc_err_node(c, w, "drill.watch must be a list");
    }
    yaml_node_t *a = ydoc_get(c, n, "actions");
    if (a && a->type == YAML_SEQUENCE_NODE) {
        size_t len = (size_t)(a->data.sequence.items.top - a->data.sequence.items.start);
        d->actions = calloc(len ? len : 1, sizeof *d->actions);
        for (yaml_node_item_t *it = a->data.sequence.items.start; it < a->data.sequence.items.top; it++) {
            yaml_node_t *x = ydoc_node(c, *it);
            suite_action *sa = &d->actions[d->nactions++];
            ydoc_check_keys(c, x, "drill.actions[]", action_keys);
            yaml_node_t *at = ydoc_get(c, x, "at");
            if (!at)
                ydoc_err_node(c, x, "drill action: missing 'at'");
            sa->at_s = seconds_of(c, at, "at", 0);
            sa->method = dup_scalar(c, ydoc_get(c, x, "method"), "method", 0, x);
            if (!sa->method)
                sa->method = strdup("POST");
            else if (strcmp(sa->method, "POST") != 0 && strcmp(sa->method, "GET") != 0)
                ydoc_err_node(c, ydoc_get(c, x, "method"), "method must be POST or GET");
            sa->path = dup_scalar(c, ydoc_get(c, x, "path"), "path", 1, x);
            if (sa->path && sa->path[0] != '/')
                ydoc_err_node(c, ydoc_get(c, x, "path"), "path must start with /");
            sa->body = dup_scalar(c, ydoc_get(c, x, "body"), "body", 0, x);
            sa->token = dup_scalar(c, ydoc_get(c, x, "token"), "token", 0, x);
            const char *pad = ydoc_scalar(ydoc_get(c, x, "body_pad"));
            if (pad) {
                char *end;
                unsigned long v = strtoul(pad, &end, 10);
                if (*end || v == 0 || v > (64UL << 20) || sa->body)
                    ydoc_err_node(c, ydoc_get(c, x, "body_pad"), "body_pad must be 1..67108864 bytes, and not with 'body'");
                else
                    sa->body_pad = v;
            }
            const char *rep = ydoc_scalar(ydoc_get(c, x, "repeat"));
            sa->repeat = 1;
            if (rep) {
                char *end;
                unsigned long v = strtoul(rep, &end, 10);
                if (*end || v == 0 || v > 100000)
                    ydoc_err_node(c, ydoc_get(c, x, "repeat"), "repeat must be 1..100000");
                else
                    sa->repeat = (unsigned)v;
            }
            size_t nexp = 0;
            char **exp = dup_list(c, ydoc_get(c, x, "expect"), "expect", &nexp);
            for (size_t k = 0; k < nexp; k++) {
                char *end;
                long v = strtol(exp[k], &end, 10);
                if (*end || v < 100 || v > 599 || sa->nexpect >= SUITE_EXPECT_MAX)
                    ydoc_err_node(c, ydoc_get(c, x, "expect"), "expect: '%s' is not an HTTP status (at most %d)", exp[k],
                         SUITE_EXPECT_MAX);
                else
                    sa->expect[sa->nexpect++] = (int)v;
            }
            free_list(exp, nexp);
        }
    } else if (a) {
        ydoc_err_node(c, a, "drill.actions must be a list");
    }
    static const char *const blocks[] = {"symptom", "restore"};
    for (int k = 0; k < 2; k++) {
        yaml_node_t *r = ydoc_get(c, n, blocks[k]);
        if (!r)
            continue;
        char where[32];
        snprintf(where, sizeof where, "drill.%s", blocks[k]);
        ydoc_check_keys(c, r, where, restore_keys);
        double from = seconds_of(c, ydoc_get(c, r, "from"), "from", 0);
        double to = seconds_of(c, ydoc_get(c, r, "to"), "to", -1);
        size_t nb;
        char **bs = dup_list(c, ydoc_get(c, r, "budgets"), where, &nb);
        suite_window_budget *grown = realloc(d->budgets, (d->nbudgets + nb + 1) * sizeof *grown);
        if (!grown) {
            free_list(bs, nb);
            continue;
        }
        d->budgets = grown;
        for (size_t i = 0; i < nb; i++) {
            suite_window_budget *b = &d->budgets[d->nbudgets];
            memset(b, 0, sizeof *b);
            if (parse_window_budget(c, r, bs[i], from, to, b) == 0) {
                b->symptom = k == 0;
                d->nbudgets++;
            }
        }
        free_list(bs, nb);
    }
}

static void parse_entry(ydoc *c, yaml_node_t *n, suite_def *s, suite_entry *e)
{
    static const char *const keys[] = {"id", "title", "question", "scenario", "set", "short", "answer",
                                       "not_runnable", "partial", "runbook", "timeout", "drill", "verdicts", "require",
                                       "local_only", "alerts", "alone", NULL};
    e->line = (int)n->start_mark.line + 1;
    if (n->type != YAML_MAPPING_NODE) {
        ydoc_err_node(c, n, "each entry must be a mapping");
        return;
    }
    ydoc_check_keys(c, n, "entry", keys);
    e->id = dup_scalar(c, ydoc_get(c, n, "id"), "id", 1, n);
    if (e->id) {
        for (const char *p = e->id; *p; p++)
            if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_')) {
                ydoc_err_node(c, ydoc_get(c, n, "id"), "id '%s' may hold only a-z, 0-9, - and _ (it names a folder)", e->id);
                break;
            }
    }
    e->title = dup_scalar(c, ydoc_get(c, n, "title"), "title", 1, n);
    yaml_node_t *q = ydoc_get(c, n, "question");
    if (q) {
        const char *qs = ydoc_scalar(q);
        char *end = NULL;
        long v = qs ? strtol(qs, &end, 10) : 0;
        if (!qs || *end || v < 1 || v > SUITE_MAX_QUESTIONS)
            ydoc_err_node(c, q, "question must be a number 1..%d", SUITE_MAX_QUESTIONS);
        else if (!s->questions[v])
            ydoc_err_node(c, q, "question %ld is not in the suite's 'questions' list", v);
        else
            e->question = (int)v;
    }
    e->not_runnable = dup_scalar(c, ydoc_get(c, n, "not_runnable"), "not_runnable", 0, n);
    e->partial = dup_scalar(c, ydoc_get(c, n, "partial"), "partial", 0, n);
    e->local_only = dup_scalar(c, ydoc_get(c, n, "local_only"), "local_only", 0, n);
    e->runbook = dup_scalar(c, ydoc_get(c, n, "runbook"), "runbook", 0, n);
    e->alone = dup_scalar(c, ydoc_get(c, n, "alone"), "alone", 0, n);
    yaml_node_t *sc = ydoc_get(c, n, "scenario");
    e->scenario_as_written = dup_scalar(c, sc, "scenario", 0, n);
    if (!e->not_runnable && !e->scenario_as_written)
        ydoc_err_node(c, n, "entry '%s': needs 'scenario' (or 'not_runnable' with the reason)", e->id ? e->id : "?");
    if (e->scenario_as_written) {
        e->scenario = resolve(s->dir, e->scenario_as_written);
        if (access(e->scenario, R_OK) != 0)
            ydoc_err_node(c, sc, "scenario %s: cannot read %s", e->scenario_as_written, e->scenario);
    }
    if (e->runbook) {
        /* runbooks are named from the repository root (docs/runbooks/…);
         * accept either that or a path relative to the suite */
        char *rel = resolve(s->dir, e->runbook);
        char *root = resolve(s->dir, "../..");
        char *fromroot = resolve(root, e->runbook);
        if (access(rel, R_OK) != 0 && access(fromroot, R_OK) != 0)
            ydoc_err_node(c, ydoc_get(c, n, "runbook"), "runbook %s: no such file", e->runbook);
        free(rel);
        free(root);
        free(fromroot);
    }
    e->sets = dup_list(c, ydoc_get(c, n, "set"), "set", &e->nsets);
    check_sets(c, ydoc_get(c, n, "set"), e->sets, e->nsets, "set");
    e->short_sets = dup_list(c, ydoc_get(c, n, "short"), "short", &e->nshort_sets);
    check_sets(c, ydoc_get(c, n, "short"), e->short_sets, e->nshort_sets, "short");
    e->answer = dup_list(c, ydoc_get(c, n, "answer"), "answer", &e->nanswer);
    e->require = dup_list(c, ydoc_get(c, n, "require"), "require", &e->nrequire);
    for (size_t i = 0; i < e->nrequire; i++) {
        char m[128], op[4];
        double v;
        int okop = 0;
        if (sscanf(e->require[i], "%127s %3s %lf", m, op, &v) == 3)
            for (const char *const *o = op_names; *o; o++)
                okop |= strcmp(*o, op) == 0;
        if (!okop)
            ydoc_err_node(c, ydoc_get(c, n, "require"), "require: '%s' is not 'METRIC OP VALUE' (OP one of <= >= < > == !=)",
                 e->require[i]);
    }
    e->timeout_s = seconds_of(c, ydoc_get(c, n, "timeout"), "timeout", s->timeout_s);
    yaml_node_t *vn = ydoc_get(c, n, "verdicts");
    if (vn) {
        const char *v = ydoc_scalar(vn);
        if (v && strcmp(v, "informational") == 0)
            e->verdicts_informational = 1;
        else if (!v || strcmp(v, "gate") != 0)
            ydoc_err_node(c, vn, "verdicts: expected 'gate' (default) or 'informational'");
    }
    yaml_node_t *d = ydoc_get(c, n, "drill");
    if (d)
        parse_drill(c, d, s, e);
    yaml_node_t *al = ydoc_get(c, n, "alerts");
    if (al) {
        static const char *const alert_keys[] = {"fire", "quiet", NULL};
        ydoc_check_keys(c, al, "alerts", alert_keys);
        e->alerts_fire = dup_list(c, ydoc_get(c, al, "fire"), "alerts.fire", &e->nalerts_fire);
        e->alerts_quiet = dup_list(c, ydoc_get(c, al, "quiet"), "alerts.quiet", &e->nalerts_quiet);
        e->has_alerts = 1;
        if (!s->alert_rules)
            ydoc_err_node(c, al, "alerts: the suite has no 'alerts: {rules: FILE}' to evaluate them with");
        else if (!e->nalerts_fire && !e->nalerts_quiet)
            ydoc_err_node(c, al, "alerts: name the alerts that must fire and/or stay quiet");
        for (size_t i = 0; s->alert_rules && i < e->nalerts_fire + e->nalerts_quiet; i++) {
            const char *a = i < e->nalerts_fire ? e->alerts_fire[i] : e->alerts_quiet[i - e->nalerts_fire];
            int known = 0;
            for (size_t k = 0; k < s->nalert_names; k++)
                known |= !strcmp(s->alert_names[k], a);
            if (!known)
                ydoc_err_node(c, al, "alerts: '%s' is not an alert of %s", a, s->alert_rules);
        }
    }
}

int suite_def_load(const char *path, suite_def *out, FILE *diag, int *nerrors)
{
    static const char *const top_keys[] = {"suite", "title", "description", "questions", "defaults", "entries",
                                           "alerts", NULL};
    static const char *const def_keys[] = {"set", "short", "timeout", NULL};
    memset(out, 0, sizeof *out);
    ydoc c = {.file = path, .emit = to_stream, .emit_arg = diag};
    if (ydoc_parse_file(&c) < 0) {
        ydoc_free(&c);
        if (nerrors)
            *nerrors = 1;
        return -1;
    }
    out->path = strdup(path);
    char *tmp = strdup(path);
    out->dir = strdup(dirname(tmp));
    free(tmp);
    out->timeout_s = 600;
    yaml_node_t *root = yaml_document_get_root_node(&c.doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        ydoc_err_node(&c, root, "a suite file is a mapping with 'suite', 'title' and 'entries'");
        goto done;
    }
    ydoc_check_keys(&c, root, "suite", top_keys);
    out->name = dup_scalar(&c, ydoc_get(&c, root, "suite"), "suite", 1, root);
    out->title = dup_scalar(&c, ydoc_get(&c, root, "title"), "title", 1, root);
    out->description = dup_scalar(&c, ydoc_get(&c, root, "description"), "description", 0, root);
    yaml_node_t *qs = ydoc_get(&c, root, "questions");
    if (qs) {
        if (qs->type != YAML_MAPPING_NODE) {
            ydoc_err_node(&c, qs, "'questions' must map numbers to question texts");
        } else {
            for (yaml_node_pair_t *p = qs->data.mapping.pairs.start; p < qs->data.mapping.pairs.top; p++) {
                const char *k = ydoc_scalar(ydoc_node(&c, p->key)), *v = ydoc_scalar(ydoc_node(&c, p->value));
                char *end = NULL;
                long q = k ? strtol(k, &end, 10) : 0;
                if (!k || *end || q < 1 || q > SUITE_MAX_QUESTIONS || !v)
                    ydoc_err_node(&c, ydoc_node(&c, p->key), "questions: key must be 1..%d and the value a string",
                         SUITE_MAX_QUESTIONS);
                else
                    out->questions[q] = strdup(v);
            }
        }
    }
    yaml_node_t *def = ydoc_get(&c, root, "defaults");
    if (def) {
        ydoc_check_keys(&c, def, "defaults", def_keys);
        out->sets = dup_list(&c, ydoc_get(&c, def, "set"), "defaults.set", &out->nsets);
        check_sets(&c, ydoc_get(&c, def, "set"), out->sets, out->nsets, "defaults.set");
        out->short_sets = dup_list(&c, ydoc_get(&c, def, "short"), "defaults.short", &out->nshort_sets);
        check_sets(&c, ydoc_get(&c, def, "short"), out->short_sets, out->nshort_sets, "defaults.short");
        out->timeout_s = seconds_of(&c, ydoc_get(&c, def, "timeout"), "defaults.timeout", out->timeout_s);
    }
    out->alert_time_scale = 1;
    yaml_node_t *al = ydoc_get(&c, root, "alerts");
    if (al) {
        static const char *const alert_keys[] = {"rules", "time_scale", NULL};
        ydoc_check_keys(&c, al, "alerts", alert_keys);
        char *rules = dup_scalar(&c, ydoc_get(&c, al, "rules"), "alerts.rules", 1, al);
        if (rules) {
            char e[512];
            out->alert_rules = resolve(out->dir, rules);
            if (suite_alerts_names(out->alert_rules, &out->alert_names, &out->nalert_names, e, sizeof e) != 0)
                ydoc_err_node(&c, ydoc_get(&c, al, "rules"), "alerts.rules: %s", e);
            free(rules);
        }
        yaml_node_t *ts = ydoc_get(&c, al, "time_scale");
        if (ts) {
            const char *v = ydoc_scalar(ts);
            char *end = NULL;
            double x = v ? strtod(v, &end) : 0;
            if (!v || *end || !(x >= 1 && x <= 3600))
                ydoc_err_node(&c, ts, "alerts.time_scale: a number from 1 to 3600 (the rules' windows are divided by it)");
            else
                out->alert_time_scale = x;
        }
    }
    yaml_node_t *es = ydoc_get(&c, root, "entries");
    if (!es || es->type != YAML_SEQUENCE_NODE || es->data.sequence.items.top == es->data.sequence.items.start) {
        ydoc_err_node(&c, es ? es : root, "'entries' must be a non-empty list");
        goto done;
    }
    size_t len = (size_t)(es->data.sequence.items.top - es->data.sequence.items.start);
    out->entries = calloc(len, sizeof *out->entries);
    for (yaml_node_item_t *it = es->data.sequence.items.start; it < es->data.sequence.items.top; it++) {
        suite_entry *e = &out->entries[out->nentries++];
        parse_entry(&c, ydoc_node(&c, *it), out, e);
        for (size_t j = 0; e->id && j + 1 < out->nentries; j++)
            if (out->entries[j].id && strcmp(out->entries[j].id, e->id) == 0)
                ydoc_err_node(&c, ydoc_node(&c, *it), "entry id '%s' is used twice", e->id);
    }
done:
    ydoc_free(&c);
    if (nerrors)
        *nerrors = (int)c.nerr;
    if (c.nerr) {
        suite_def_free(out);
        return -1;
    }
    return 0;
}

void suite_def_free(suite_def *s)
{
    for (size_t i = 0; i < s->nentries; i++) {
        suite_entry *e = &s->entries[i];
        free(e->id);
        free(e->title);
        free(e->scenario);
        free(e->scenario_as_written);
        free_list(e->sets, e->nsets);
        free_list(e->short_sets, e->nshort_sets);
        free_list(e->answer, e->nanswer);
        free_list(e->require, e->nrequire);
        free(e->not_runnable);
        free(e->partial);
        free(e->local_only);
        free(e->alone);
        free(e->runbook);
        free_list(e->alerts_fire, e->nalerts_fire);
        free_list(e->alerts_quiet, e->nalerts_quiet);
        suite_drill *d = &e->drill;
        free_list(d->server_args, d->nserver_args);
        free(d->server_config);
        for (size_t j = 0; j < d->nwatches; j++) {
            free(d->watches[j].name);
            free(d->watches[j].metric);
            free(d->watches[j].labels);
        }
        free(d->watches);
        for (size_t j = 0; j < d->nactions; j++) {
            free(d->actions[j].method);
            free(d->actions[j].path);
            free(d->actions[j].body);
            free(d->actions[j].token);
        }
        free(d->actions);
        for (size_t j = 0; j < d->nbudgets; j++) {
            free(d->budgets[j].text);
            free(d->budgets[j].metric);
            free(d->budgets[j].op);
        }
        free(d->budgets);
    }
    free(s->entries);
    for (int q = 0; q <= SUITE_MAX_QUESTIONS; q++)
        free(s->questions[q]);
    free_list(s->sets, s->nsets);
    free_list(s->short_sets, s->nshort_sets);
    free(s->path);
    free(s->dir);
    free(s->name);
    free(s->title);
    free(s->description);
    free(s->alert_rules);
    free_list(s->alert_names, s->nalert_names);
    memset(s, 0, sizeof *s);
}

/* Entry e's scenario as its run will load it (suite_def_warmup_s);
 * 0, or -1 when it does not load. */
static int load_entry_scenario(const suite_def *s, const suite_entry *e, int short_form, const char *const *extra_sets,
                               size_t nextra, scenario *scn)
{
    const char *const *lists[5] = {(const char *const *)s->sets, (const char *const *)e->sets,
                                   short_form ? (const char *const *)s->short_sets : NULL,
                                   short_form ? (const char *const *)e->short_sets : NULL, extra_sets};
    size_t counts[5] = {s->nsets, e->nsets, short_form ? s->nshort_sets : 0, short_form ? e->nshort_sets : 0,
                        nextra};
    size_t n = 0;
    for (int l = 0; l < 5; l++)
        n += lists[l] ? counts[l] : 0;
    const char **sets = calloc(n ? n : 1, sizeof *sets);
    if (!sets || !e->scenario) {
        free(sets);
        return -1;
    }
    n = 0;
    for (int l = 0; l < 5; l++)
        for (size_t i = 0; lists[l] && i < counts[l]; i++)
            sets[n++] = lists[l][i];
    /* the same overrides, in the same order, as the entry's `rtchaos run`
     * command line (suite.c entry_sets); a drill runs with --target */
    scn_load_opts lo = {.sets = sets, .nsets = n, .has_target = e->drill.present};
    scn_diag diag;
    scn_diag_init(&diag);
    int rc = scenario_load(e->scenario, &lo, scn, &diag) == 0 ? 0 : -1;
    scn_diag_free(&diag);
    free(sets);
    return rc;
}

double suite_def_warmup_s(const suite_def *s, const suite_entry *e, int short_form, const char *const *extra_sets,
                          size_t nextra)
{
    scenario scn;
    if (load_entry_scenario(s, e, short_form, extra_sets, nextra, &scn) != 0)
        return -1;
    double w = (double)scn.warmup_us / 1e6;
    scenario_free(&scn);
    return w;
}

int suite_def_uses_namespaces(const suite_def *s, const suite_entry *e, int short_form, const char *const *extra_sets,
                              size_t nextra)
{
    scenario scn;
    if (load_entry_scenario(s, e, short_form, extra_sets, nextra, &scn) != 0)
        return 0;
    int ns = scn.network.namespaces;
    scenario_free(&scn);
    return ns;
}

/* A verdict metric that is a duration or a rate: what a loaded CPU moves. */
static int metric_is_timing(const char *m)
{
    const char *last = strrchr(m, '.');
    last = last ? last + 1 : m;
    size_t n = strlen(last);
    return strstr(last, "_per_s") != NULL || (n > 3 && strcmp(last + n - 3, "_ms") == 0) ||
           (n > 3 && strcmp(last + n - 3, "_us") == 0) || (n > 2 && strcmp(last + n - 2, "_s") == 0);
}

int suite_def_side_by_side(const suite_def *s, const suite_entry *e, int short_form, const char *const *extra_sets,
                           size_t nextra, char *why, size_t whylen)
{
    if (e->drill.present) {
        snprintf(why, whylen, "a drill: its watches and actions are on a timeline");
        return 0;
    }
    if (e->alone) {
        snprintf(why, whylen, "alone: %s", e->alone);
        return 0;
    }
    for (size_t i = 0; i < e->nrequire; i++) {
        char m[128];
        if (sscanf(e->require[i], "%127s", m) == 1 && metric_is_timing(m)) {
            snprintf(why, whylen, "require %s reads a time", e->require[i]);
            return 0;
        }
    }
    scenario scn;
    if (load_entry_scenario(s, e, short_form, extra_sets, nextra, &scn) != 0) {
        snprintf(why, whylen, "its scenario does not load");
        return 0;
    }
    int ok = 1;
    if (scn.network.namespaces) {
        snprintf(why, whylen, "network namespaces: kernel faults and the server's idle close are timed");
        ok = 0;
    }
    for (size_t i = 0; ok && i < scn.nbudgets; i++)
        if (metric_is_timing(scn.budgets[i].metric)) {
            snprintf(why, whylen, "budget %s reads a time", scn.budgets[i].text);
            ok = 0;
        }
    scenario_free(&scn);
    return ok;
}
