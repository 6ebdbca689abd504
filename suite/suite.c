/* suite.c — running a suite: one `rtchaos run` child per entry (drills also
 * get their own server, /metrics watches and admin actions), then the index
 * (index.json / index.md / index.html) and the suite's exit code. */
#include "suite.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "child.h"
#include "clock.h"
#include "httpc.h"
#include "proto.h"
#include "rdoc.h"
#include "verdict_metric.h"
#include "rout.h"
#include "netns.h"
#include "suite_def.h"
#include "suite_drill.h"
#include "suite_alerts.h"
#include "tmpl.h"
#include "version.h"

/* How often a drill scrapes /metrics while its run goes on. */
#define DRILL_SCRAPE_MS 500
#define DRILL_HTTP_TIMEOUT_MS 2000
#define DRILL_SERVER_READY_MS 15000
#define DRILL_SERVER_STOP_MS 5000

/* ST_SKIPPED: filtered out by --only, left out of the index. */
typedef enum entry_status { ST_PASS = 0, ST_FAIL, ST_INVALID, ST_BROKEN, ST_NOT_RUNNABLE, ST_SKIPPED } entry_status;

static const char *status_word(entry_status s)
{
    static const char *const w[] = {"pass", "FAIL", "INVALID", "BROKEN", "not yet runnable", "skipped"};
    return w[s];
}

int suite_is_suite_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0, is = 0, expect_key = 0, done = 0;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    /* Only the top-level keys matter: stream events, stopping early. */
    while (!done && yaml_parser_parse(&p, &ev)) {
        switch (ev.type) {
        case YAML_MAPPING_START_EVENT:
            depth++;
            if (depth == 1)
                expect_key = 1;
            else if (depth == 2)
                expect_key = 0;
            break;
        case YAML_MAPPING_END_EVENT:
            depth--;
            if (depth == 1)
                expect_key = 1;
            break;
        case YAML_SEQUENCE_START_EVENT:
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            if (depth == 1)
                expect_key = 1;
            break;
        case YAML_SCALAR_EVENT:
            if (depth == 1) {
                if (expect_key && strcmp((const char *)ev.data.scalar.value, "suite") == 0) {
                    is = 1;
                    done = 1;
                }
                expect_key = !expect_key;
            }
            break;
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    fclose(f);
    return is;
}

/* argv for `rtchaos run` or `rtchaos validate` of one entry. */
typedef struct argvec {
    char **v;
    size_t n, cap;
} argvec;

static void av_push(argvec *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = strdup(s);
    a->v[a->n] = NULL;
}

static void av_free(argvec *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

static void av_sets(argvec *a, char **sets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        av_push(a, "--set");
        av_push(a, sets[i]);
    }
}

/* Suite defaults, then the entry's, then (short form) the short ones, then
 * the command line's: a later --set wins. */
static void entry_sets(argvec *a, const suite_def *s, const suite_entry *e, const suite_opts *o)
{
    av_sets(a, s->sets, s->nsets);
    av_sets(a, e->sets, e->nsets);
    if (o->short_form) {
        av_sets(a, s->short_sets, s->nshort_sets);
        av_sets(a, e->short_sets, e->nshort_sets);
    }
    for (size_t i = 0; i < o->nsets; i++) {
        av_push(a, "--set");
        av_push(a, o->sets[i]);
    }
    /* like --target, not for drills: they run against the rtchaos-server they start */
    if (o->protocol && !e->drill.present) {
        av_push(a, "--protocol");
        av_push(a, o->protocol);
    }
}

/* `rtchaos validate` of the entry's scenario with its overrides (as run
 * with o) in a child; its output into text (may be NULL). Returns the
 * child's exit code, or -1 when it could not be run or did not finish. */
static int validate_child(const suite_def *s, const suite_entry *e, const suite_opts *o, char *text,
                          size_t textlen)
{
    argvec a = {0};
    av_push(&a, o->self_exe);
    av_push(&a, "validate");
    if (e->drill.present) {
        av_push(&a, "--target");
        av_push(&a, "http://127.0.0.1:1");
    } else if (o->target) {
        av_push(&a, "--target");
        av_push(&a, o->target);
    }
    entry_sets(&a, s, e, o);
    av_push(&a, e->scenario);
    char log[] = "/tmp/rtchaos-suite-validate-XXXXXX";
    int fd = mkstemp(log);
    if (fd >= 0)
        close(fd);
    char err[256];
    int rc = child_run("validate", a.v, log, 30000, err, sizeof err);
    if (text && textlen) {
        size_t n;
        char *t = rdoc_read_file(log, &n, err, sizeof err);
        snprintf(text, textlen, "%s", t ? t : err);
        free(t);
    }
    unlink(log);
    av_free(&a);
    return rc;
}

/* With --protocol: 1 (and the refusal, its lines joined by "; ", in why)
 * when the entry's scenario validates as written but not with the
 * protocol — what the protocol cannot do (a transport, a publishing path,
 * a behaviour), said by the scenario loader at the key that asks for it.
 * 0 otherwise: a scenario invalid either way is run and reported invalid. */
static int protocol_refuses(const suite_def *s, const suite_entry *e, const suite_opts *o, char *why,
                            size_t whylen)
{
    char text[2048];
    if (!o->protocol || e->drill.present || validate_child(s, e, o, text, sizeof text) == 0)
        return 0;
    /* "as written": without the protocol and without the command line's
     * target.* overrides (the adapter's templates, which v1 refuses) */
    suite_opts plain = *o;
    plain.protocol = NULL;
    const char **kept = calloc(o->nsets + 1, sizeof *kept);
    if (!kept)
        return 0;
    plain.nsets = 0;
    for (size_t i = 0; i < o->nsets; i++)
        if (strncmp(o->sets[i], "target.", 7) != 0)
            kept[plain.nsets++] = o->sets[i];
    plain.sets = kept;
    int plain_rc = validate_child(s, e, &plain, NULL, 0);
    free(kept);
    if (plain_rc != 0)
        return 0;
    /* a refusal at target / target.* is the command line's adapter
     * configuration (a template missing or wrong), not something the
     * protocol cannot do: the entry runs and is reported invalid, so a
     * mistyped --set never turns a whole suite into "not applicable" */
    if (strstr(text, ": target: ") || strstr(text, ": target."))
        return 0;
    size_t off = (size_t)snprintf(why, whylen, "not applicable to this protocol (%s): ", o->protocol);
    for (char *line = strtok(text, "\n"); line && off < whylen; line = strtok(NULL, "\n")) {
        /* "SCENARIO:L:C: message" → "message": the file is the suite's, not the
         * reader's concern; a refusal from a --set keeps its "--set k=v: " */
        const char *msg = line;
        size_t sl = strlen(e->scenario);
        if (strncmp(line, e->scenario, sl) == 0 && line[sl] == ':') {
            msg = line + sl;
            for (int colons = 0; *msg && colons < 3; msg++)
                colons += *msg == ':';
            while (*msg == ' ')
                msg++;
        }
        off += (size_t)snprintf(why + off, whylen - off, "%s%s", line == text ? "" : "; ", msg);
    }
    return 1;
}

int suite_validate(const char *path, const char *self_exe, FILE *diag)
{
    suite_def s;
    int nerr = 0;
    if (suite_def_load(path, &s, diag, &nerr) != 0)
        return 2;
    int bad = 0;
    for (size_t i = 0; self_exe && i < s.nentries; i++) {
        const suite_entry *e = &s.entries[i];
        if (!e->scenario)
            continue;
        for (int shortf = 0; shortf <= 1; shortf++) {
            if (shortf && !s.nshort_sets && !e->nshort_sets)
                continue;
            suite_opts o = {.self_exe = self_exe, .short_form = shortf};
            char text[8192];
            if (validate_child(&s, e, &o, text, sizeof text) != 0) {
                bad = 1;
                if (diag)
                    fprintf(diag, "%s:%d:1: entry '%s'%s: scenario %s does not validate:\n%s", path, e->line, e->id,
                            shortf ? " (short form)" : "", e->scenario_as_written, text);
            }
        }
    }
    suite_def_free(&s);
    return bad ? 2 : 0;
}

/* What happened to one entry. */
typedef struct entry_result {
    entry_status status;
    int exit_code;       /* of `rtchaos run`; -1 when not run */
    char why[512];       /* broken / invalid / drill failure detail */
    json_t *report;      /* the entry's report.json, or NULL */
    json_t *drill;       /* drill checks, or NULL */
    json_t *require;     /* the entry's require checks, or NULL */
    json_t *alerts;      /* the entry's alerts judged on its recorded series, or NULL */
    double elapsed_s;
    double started_s;    /* since the suite began */
    int side_by_side;    /* ran with --jobs beside other entries */
    int ran;             /* run_entry was called */
} entry_result;

/* The drill's side of a run: scrape, act, remember. */
typedef struct drill_run {
    int port;
    uint64_t t0_us;          /* mono time of the harness's t = 0 (estimate) */
    suite_samples *samples;  /* one per watch */
    size_t next_action;
    json_t *actions_done;
    uint64_t next_scrape_us;
} drill_run;

/* One /metrics sample of every watch, stamped t. */
static void drill_scrape(const suite_drill *d, drill_run *r, double t)
{
    char err[256];
    int status;
    char *body = NULL;
    if (httpc_request("127.0.0.1", (uint16_t)r->port, "GET", "/metrics", NULL, DRILL_HTTP_TIMEOUT_MS, &status, &body, err,
                      sizeof err) == 0 &&
        status == 200) {
        for (size_t i = 0; i < d->nwatches; i++) {
            double v;
            if (suite_drill_prom_sum(body, d->watches[i].metric, d->watches[i].labels, &v) == 0)
                suite_samples_add(&r->samples[i], t, v);
        }
    }
    free(body);
}

/* The sample before anything happens: the drill's server is fresh, the run
 * not yet started. Stamped far before any window, so an "increase" that
 * starts with the run's first connections is still seen as one. */
#define DRILL_BASELINE_T (-1e6)

static void drill_tick(const suite_drill *d, drill_run *r)
{
    uint64_t now = clock_mono_us();
    double t = ((double)now - (double)r->t0_us) / 1e6;
    char err[256];
    if (now >= r->next_scrape_us && d->nwatches) {
        r->next_scrape_us = now + DRILL_SCRAPE_MS * 1000ULL;
        drill_scrape(d, r, t);
    }
    while (r->next_action < d->nactions && t >= d->actions[r->next_action].at_s) {
        const suite_action *a = &d->actions[r->next_action++];
        char *padded = NULL;
        if (a->body_pad) {
            padded = malloc(a->body_pad + 16);
            if (padded) {
                memcpy(padded, "{\"data\":\"", 9);
                memset(padded + 9, 'x', a->body_pad);
                memcpy(padded + 9 + a->body_pad, "\"}", 3);
            }
        }
        /* a flood is `repeat` requests back to back; each answer is counted
         * by status, and the action holds when every one is expected */
        json_t *statuses = json_object();
        int ok = 1, last_status = 0;
        char last_resp[512] = "";
        for (unsigned k = 0; k < a->repeat; k++) {
            int status = 0;
            char *body = NULL;
            if (httpc_request_bearer("127.0.0.1", (uint16_t)r->port, a->method, a->path, padded ? padded : a->body,
                                     a->token, DRILL_HTTP_TIMEOUT_MS, &status, &body, err, sizeof err) != 0) {
                ok = 0;
                snprintf(last_resp, sizeof last_resp, "%s", err);
                json_object_set_new(statuses, "no answer",
                                    json_integer(json_integer_value(json_object_get(statuses, "no answer")) + 1));
                continue;
            }
            char key[16];
            snprintf(key, sizeof key, "%d", status);
            json_object_set_new(statuses, key, json_integer(json_integer_value(json_object_get(statuses, key)) + 1));
            int expected = a->nexpect == 0 ? (status >= 200 && status < 300) : 0;
            for (size_t e = 0; e < a->nexpect; e++)
                expected |= a->expect[e] == status;
            ok &= expected;
            last_status = status;
            snprintf(last_resp, sizeof last_resp, "%.500s", body ? body : "");
            free(body);
        }
        free(padded);
        json_array_append_new(r->actions_done,
                              json_pack("{s:f, s:f, s:s, s:s, s:s?, s:I, s:i, s:o, s:b, s:i, s:s}", "at_s", a->at_s,
                                        "done_at_s", t, "method", a->method, "path", a->path, "body",
                                        a->body_pad ? "(padded)" : a->body, "body_bytes", (json_int_t)a->body_pad,
                                        "repeat", (int)a->repeat, "statuses", statuses, "ok", ok, "status",
                                        last_status, "response", last_resp));
    }
}

/* t = 0 of the run (after its warm-up), from the scenario as the run loads
 * it; the report's own warmup_s corrects it once the run is done. */
static double effective_warmup(const suite_def *s, const suite_entry *e, const suite_opts *o)
{
    double w = suite_def_warmup_s(s, e, o->short_form, o->sets, o->nsets);
    return w < 0 ? 2.0 : w;
}

/* A drill's server argument with {suite_dir} and {run_dir} replaced by
 * absolute paths (key files next to the suite, logs in the run folder). */
static char *expand_arg(const char *arg, const char *suite_dir, const char *run_dir)
{
    char sd[4096], rd[4096];
    if (!realpath(suite_dir, sd))
        snprintf(sd, sizeof sd, "%s", suite_dir);
    if (!realpath(run_dir, rd))
        snprintf(rd, sizeof rd, "%s", run_dir);
    /* room for every placeholder ({run_dir}: 9 bytes) replaced by the longer path */
    size_t al = strlen(arg), vl = strlen(sd) > strlen(rd) ? strlen(sd) : strlen(rd);
    size_t cap = al + (al / 9 + 1) * vl + 1;
    char *out = malloc(cap);
    const tmpl_var v[] = {{"suite_dir", sd, TMPL_STRLEN, TMPL_RAW, 0}, {"run_dir", rd, TMPL_STRLEN, TMPL_RAW, 0}};
    if (out && tmpl_expand(arg, v, 2, out, cap) < 0)
        snprintf(out, cap, "%s", arg); /* cannot happen: cap holds the longest expansion */
    return out;
}

static int start_server(const char *self_exe, const suite_drill *d, const char *suite_dir, const char *entry_dir,
                        child *srv, int *port, char *err, size_t errlen)
{
    char bin[4096], log[4096], *tmp = strdup(self_exe);
    snprintf(bin, sizeof bin, "%s/rtchaos-server", dirname(tmp));
    free(tmp);
    rdoc_path(log, sizeof log, entry_dir, "server.log");
    argvec a = {0};
    av_push(&a, bin);
    av_push(&a, "--port");
    av_push(&a, "0");
    if (d->server_config) {
        av_push(&a, "--config");
        av_push(&a, d->server_config);
    }
    for (size_t i = 0; i < d->nserver_args; i++) {
        char *x = expand_arg(d->server_args[i], suite_dir, entry_dir);
        av_push(&a, x);
        free(x);
    }
    int rc = child_start(srv, "rtchaos-server", a.v, log, log, err, errlen);
    av_free(&a);
    if (rc != 0)
        return -1;
    char addr[128];
    if (child_wait_line(srv, "listening ", addr, sizeof addr, DRILL_SERVER_READY_MS, err, errlen) != 0) {
        child_stop(srv, 2000);
        return -1;
    }
    const char *colon = strrchr(addr, ':');
    *port = colon ? atoi(colon + 1) : 0;
    if (*port <= 0) {
        snprintf(err, errlen, "rtchaos-server printed 'listening %s': no port", addr);
        child_stop(srv, 2000);
        return -1;
    }
    return 0;
}

static void judge_drill(const suite_drill *d, drill_run *r, double warmup_s, entry_result *res)
{
    /* the report says which warm-up the run really had */
    warmup_s = rdoc_num_or(res->report, "warmup_s", warmup_s);
    json_t *dj = json_object(), *watches = json_array(), *budgets = json_array();
    int ok = 1;
    for (size_t i = 0; i < d->nwatches; i++) {
        char why[300];
        int pass = suite_drill_watch_judge(&d->watches[i], &r->samples[i], why, sizeof why);
        ok &= pass;
        json_t *samples = json_array();
        for (size_t k = 0; k < r->samples[i].n; k++)
            json_array_append_new(samples, json_pack("[f,f]", r->samples[i].t[k], r->samples[i].v[k]));
        json_array_append_new(watches, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", d->watches[i].name, "metric",
                                                 d->watches[i].metric, "pass", pass, "why", why, "samples", samples));
    }
    for (size_t i = 0; i < d->nbudgets; i++) {
        char why[300];
        double v = NAN;
        int pass = res->report ? suite_drill_budget_judge(&d->budgets[i], res->report, warmup_s, &v, why, sizeof why) : 0;
        if (!res->report)
            snprintf(why, sizeof why, "no report.json to judge");
        ok &= pass;
        json_array_append_new(budgets, json_pack("{s:s, s:s, s:b, s:s, s:o}", "check",
                                                 d->budgets[i].symptom ? "symptom" : "restore", "budget",
                                                 d->budgets[i].text, "pass", pass, "why", why, "value",
                                                 isnan(v) ? json_null() : json_real(v)));
    }
    for (size_t i = 0; i < d->nactions; i++) {
        const json_t *done = json_array_get(r->actions_done, i);
        if (!done || !json_is_true(json_object_get(done, "ok"))) {
            ok = 0;
            if (!res->why[0]) {
                char *st = done ? json_dumps(json_object_get(done, "statuses"), JSON_COMPACT) : NULL;
                snprintf(res->why, sizeof res->why, "action %s %s %s%s", d->actions[i].method, d->actions[i].path,
                         done ? "got unexpected answers: " : "was never applied (the run ended first)",
                         st ? st : "");
                free(st);
            }
        }
    }
    json_object_set_new(dj, "watches", watches);
    json_object_set_new(dj, "actions", json_incref(r->actions_done));
    json_object_set_new(dj, "window_budgets", budgets);
    json_object_set_new(dj, "pass", json_boolean(ok));
    res->drill = dj;
    if (!ok && res->status == ST_PASS) {
        res->status = ST_FAIL;
        if (!res->why[0])
            snprintf(res->why, sizeof res->why, "a drill check failed (see drill.json)");
    }
}

static void run_entry(const suite_def *s, const suite_entry *e, const suite_opts *o, const char *entry_dir,
                      entry_result *res)
{
    char err[512] = "", log[4096];
    res->exit_code = -1;
    if (rdoc_mkdir(entry_dir, err, sizeof err) != 0) {
        res->status = ST_BROKEN;
        snprintf(res->why, sizeof res->why, "%.400s", err);
        return;
    }
    rdoc_path(log, sizeof log, entry_dir, "run.log");
    child server = {0};
    int port = 0;
    char target[128] = "";
    if (e->drill.present) {
        if (start_server(o->self_exe, &e->drill, s->dir, entry_dir, &server, &port, err, sizeof err) != 0) {
            res->status = ST_BROKEN;
            snprintf(res->why, sizeof res->why, "drill server: %.400s", err);
            return;
        }
        snprintf(target, sizeof target, "http://127.0.0.1:%d", port);
    } else if (o->target) {
        snprintf(target, sizeof target, "%s", o->target);
    }
    argvec a = {0};
    av_push(&a, o->self_exe);
    av_push(&a, "run");
    av_push(&a, e->scenario);
    av_push(&a, "--out");
    av_push(&a, entry_dir);
    if (target[0]) {
        av_push(&a, "--target");
        av_push(&a, target);
    }
    entry_sets(&a, s, e, o);
    if (e->has_alerts) {
        /* the series the alerts are evaluated on: the run records its
         * pages every second, the drill's own server included */
        av_push(&a, "--set");
        av_push(&a, "harness.record_series=true");
        if (e->drill.present) {
            char sm[160];
            snprintf(sm, sizeof sm, "harness.server_metrics=http://127.0.0.1:%d/metrics", port);
            av_push(&a, "--set");
            av_push(&a, sm);
        }
    }
    drill_run dr = {0};
    if (e->drill.present) {
        dr.port = port;
        dr.samples = calloc(e->drill.nwatches ? e->drill.nwatches : 1, sizeof *dr.samples);
        dr.actions_done = json_array();
        drill_scrape(&e->drill, &dr, DRILL_BASELINE_T);
    }
    uint64_t start = clock_mono_us();
    child run;
    int started = child_start(&run, "rtchaos run", a.v, log, log, err, sizeof err) == 0;
    av_free(&a);
    if (!started) {
        res->status = ST_BROKEN;
        snprintf(res->why, sizeof res->why, "%.400s", err);
        if (server.pid > 0)
            child_stop(&server, 3000);
        if (e->drill.present) {
            for (size_t i = 0; i < e->drill.nwatches; i++)
                suite_samples_free(&dr.samples[i]);
            free(dr.samples);
            json_decref(dr.actions_done);
        }
        return;
    }
    if (e->drill.present)
        dr.t0_us = start + (uint64_t)(effective_warmup(s, e, o) * 1e6);
    uint64_t deadline = start + (uint64_t)(e->timeout_s * 1e6);
    int status = 0, exited = 0;
    for (;;) {
        if (child_poll(&run)) {
            exited = 1;
            status = run.status;
            break;
        }
        if (clock_mono_us() > deadline) {
            child_stop(&run, 5000);
            status = run.status;
            snprintf(res->why, sizeof res->why, "did not finish within %.0f s: stopped", e->timeout_s);
            break;
        }
        if (e->drill.present)
            drill_tick(&e->drill, &dr);
        clock_sleep_ms(50);
    }
    res->elapsed_s = (double)(clock_mono_us() - start) / 1e6;
    /* The drill's server is judged like the servers a run starts: a crash,
     * a non-zero exit or a sanitizer report fails the entry (below, once the
     * run's own status is known). */
    char server_why[400] = "";
    if (e->drill.present) {
        int how = child_stop(&server, DRILL_SERVER_STOP_MS);
        char why[300], line[300];
        if (!child_judge_stop(&server, how, DRILL_SERVER_STOP_MS, why, sizeof why))
            snprintf(server_why, sizeof server_why, "drill server: %s (see server.log)", why);
        else if (child_sanitizer_report(&server, line, sizeof line))
            snprintf(server_why, sizeof server_why, "drill server: sanitizer report: %.300s", line);
    }
    if (exited && WIFEXITED(status)) {
        res->exit_code = WEXITSTATUS(status);
        res->status = res->exit_code == 0 ? ST_PASS : res->exit_code == 1 ? ST_FAIL
                                                   : res->exit_code == 2 ? ST_INVALID : ST_BROKEN;
        if (res->exit_code == 1 && e->verdicts_informational)
            res->status = ST_PASS; /* the drill checks below decide */
        if (res->exit_code == 2)
            snprintf(res->why, sizeof res->why, "rtchaos run refused the scenario or command line (see run.log)");
        else if (res->exit_code > 2)
            snprintf(res->why, sizeof res->why, "the run broke: exit %d (see run.log)", res->exit_code);
    } else {
        res->status = ST_BROKEN;
        if (!res->why[0])
            snprintf(res->why, sizeof res->why, "rtchaos run ended by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    char rpath[4096];
    rdoc_path(rpath, sizeof rpath, entry_dir, "report.json");
    res->report = rdoc_load(rpath, err, sizeof err);
    if (!res->report && res->status <= ST_FAIL) {
        res->status = ST_BROKEN;
        snprintf(res->why, sizeof res->why, "no readable report.json: %.400s", err);
    }
    /* require: checks on the report the scenario's budgets cannot express */
    if (res->report && e->nrequire) {
        json_t *req = json_array();
        for (size_t i = 0; i < e->nrequire; i++) {
            char m[128], op[4];
            double want = 0, got = NAN;
            int pass = 0;
            if (sscanf(e->require[i], "%127s %3s %lf", m, op, &want) == 3 &&
                rdoc_verdict_metric(res->report, m, &got) == 0)
                verdict_op_holds(op, got, want, &pass);
            json_array_append_new(req, json_pack("{s:s, s:o, s:b}", "require", e->require[i], "value",
                                                 isnan(got) ? json_null() : json_real(got), "pass", pass));
            if (!pass && res->status == ST_PASS) {
                res->status = ST_FAIL;
                if (isnan(got))
                    snprintf(res->why, sizeof res->why, "require %s: not in report.json", e->require[i]);
                else
                    snprintf(res->why, sizeof res->why, "require %s: measured %g", e->require[i], got);
            }
        }
        res->require = req;
    }
    if (e->drill.present) {
        judge_drill(&e->drill, &dr, effective_warmup(s, e, o), res);
        char dpath[4096];
        rdoc_path(dpath, sizeof dpath, entry_dir, "drill.json");
        json_dump_file(res->drill, dpath, JSON_INDENT(1));
        for (size_t i = 0; i < e->drill.nwatches; i++)
            suite_samples_free(&dr.samples[i]);
        free(dr.samples);
        json_decref(dr.actions_done);
    }
    if (e->has_alerts && res->report) {
        /* the alerts the entry names, on what its run recorded */
        double warmup = rdoc_num_or(res->report, "warmup_s", effective_warmup(s, e, o));
        res->alerts = suite_alerts_judge(entry_dir, s->alert_rules, s->alert_time_scale, e->alerts_fire,
                                         e->nalerts_fire, e->alerts_quiet, e->nalerts_quiet, warmup);
        char apath[4096];
        rdoc_path(apath, sizeof apath, entry_dir, "alerts.json");
        if (res->alerts)
            json_dump_file(res->alerts, apath, JSON_INDENT(1));
        if (res->alerts && !json_is_true(json_object_get(res->alerts, "pass")) && res->status == ST_PASS) {
            res->status = ST_FAIL;
            snprintf(res->why, sizeof res->why, "alerts: %.480s",
                     json_string_value(json_object_get(res->alerts, "why")) ? json_string_value(json_object_get(res->alerts, "why"))
                                                                            : "see alerts.json");
        }
    }
    if (server_why[0] && res->status == ST_PASS) {
        res->status = ST_FAIL;
        snprintf(res->why, sizeof res->why, "%s", server_why);
    } else if (server_why[0]) {
        size_t n = strlen(res->why);
        snprintf(res->why + n, sizeof res->why - n, "%s%s", n ? "; " : "", server_why);
    }
}

/* "lost=0, resync_ok=48, p95_live_ms=12.3" from the entry's answer metrics. */
static void answer_text(const suite_entry *e, const entry_result *r, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < e->nanswer && r->report && off < len; i++) {
        double v;
        char num[32];
        if (rdoc_verdict_metric(r->report, e->answer[i], &v) == 0)
            rdoc_fmt_num(num, sizeof num, v);
        else
            snprintf(num, sizeof num, "n/a");
        off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", off ? ", " : "", e->answer[i], num);
    }
    if (r->report && off < len) {
        size_t i, np = 0, nv = 0;
        const json_t *v;
        json_array_foreach(json_object_get(r->report, "verdicts"), i, v) {
            nv++;
            np += json_is_true(json_object_get(v, "pass"));
        }
        off += (size_t)snprintf(buf + off, len - off, "%sverdicts %zu/%zu pass", off ? "; " : "", np, nv);
    }
    if (r->drill && off < len) {
        size_t i, np = 0, nc = 0;
        const json_t *w;
        json_array_foreach(json_object_get(r->drill, "watches"), i, w) {
            nc++;
            np += json_is_true(json_object_get(w, "pass"));
        }
        json_array_foreach(json_object_get(r->drill, "window_budgets"), i, w) {
            nc++;
            np += json_is_true(json_object_get(w, "pass"));
        }
        snprintf(buf + off, len - off, "; drill checks %zu/%zu pass", np, nc);
    }
    if (r->alerts && (off = strlen(buf)) < len) {
        /* "alerts: RtchaosX fired 6–12 s, RtchaosY quiet" (run time) */
        off += (size_t)snprintf(buf + off, len - off, "; alerts:");
        size_t i;
        const json_t *a;
        json_array_foreach(json_object_get(r->alerts, "expect"), i, a) {
            if (off >= len)
                break;
            const char *name = json_string_value(json_object_get(a, "alert"));
            if (json_is_true(json_object_get(a, "fired")))
                off += (size_t)snprintf(buf + off, len - off, "%s %s fired at %.0f s (last %.0f s)%s", i ? "," : "", name,
                                        json_number_value(json_object_get(a, "first_s")),
                                        json_number_value(json_object_get(a, "last_s")),
                                        json_is_true(json_object_get(a, "pass")) ? "" : " — expected quiet");
            else
                off += (size_t)snprintf(buf + off, len - off, "%s %s quiet%s", i ? "," : "", name,
                                        json_is_true(json_object_get(a, "pass")) ? "" : " — expected to fire");
        }
        json_array_foreach(json_object_get(r->alerts, "fired"), i, a) {
            const char *name = json_string_value(json_object_get(a, "alert"));
            int named = 0;
            size_t k;
            const json_t *x;
            json_array_foreach(json_object_get(r->alerts, "expect"), k, x)
                named |= !strcmp(json_string_value(json_object_get(x, "alert")), name);
            if (!named && off < len)
                off += (size_t)snprintf(buf + off, len - off, ", also %s fired at %.0f s", name,
                                        json_number_value(json_object_get(a, "first_s")));
        }
        if (!json_array_size(json_object_get(r->alerts, "expect")) && off < len)
            snprintf(buf + off, len - off, " not evaluated (%s)", json_string_value(json_object_get(r->alerts, "why")));
    }
    if (!r->report && !r->drill && e->not_runnable)
        snprintf(buf, len, "-");
}

static void write_index_doc(rout *o, const suite_def *s, const entry_result *res, const char *out_dir, int exit_code,
                            size_t counts[6])
{
    (void)out_dir;
    if (o->html) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", o->f);
        rout_text(o, s->title);
        fputs("</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;"
              "color:#222}table{border-collapse:collapse;margin:.5em 0;width:100%}th,td{border:1px solid #ccc;"
              "padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}"
              "tr.pass td:last-child strong{color:#1a7f37}tr.fail td{background:#fff0f0}"
              "tr.fail td:last-child strong{color:#c00}tr.na td{color:#666;background:#f8f8f8}"
              ".note{color:#555;font-size:.92em}"
              "h2{margin-top:1.5em;font-size:1.15em}</style></head><body>\n<h1>", o->f);
        rout_text(o, s->title);
        fputs("</h1>\n", o->f);
    } else {
        fputs("# ", o->f);
        rout_text(o, s->title);
        fputs("\n\n", o->f);
    }
    if (s->description)
        rout_para(o, "%s", s->description);
    rout_para(o, "Suite %s: %zu passed, %zu failed, %zu invalid, %zu broken, %zu not yet runnable — exit code %d.",
              s->name, counts[ST_PASS], counts[ST_FAIL], counts[ST_INVALID], counts[ST_BROKEN], counts[ST_NOT_RUNNABLE],
              exit_code);
    rout_para(o, "Run with rtchaos %s.", rtchaos_version);
    const char *cols[] = {"what was run", "measured answer", "result"};
    /* Grouped by question when the suite has questions, in their order;
     * entries without one come last. */
    for (int q = 1; q <= SUITE_MAX_QUESTIONS + 1; q++) {
        int any = 0;
        for (size_t i = 0; i < s->nentries; i++) {
            const suite_entry *e = &s->entries[i];
            int eq = e->question ? e->question : SUITE_MAX_QUESTIONS + 1;
            if (eq != q || res[i].status == ST_SKIPPED)
                continue;
            if (!any) {
                if (q <= SUITE_MAX_QUESTIONS && s->questions[q]) {
                    char h[600];
                    snprintf(h, sizeof h, "Q%d. %s", q, s->questions[q]);
                    rout_heading(o, 2, h, NULL);
                } else if (q == SUITE_MAX_QUESTIONS + 1) {
                    rout_heading(o, 2, "Runs", NULL);
                }
                rout_table_begin(o, NULL, cols, 3);
                any = 1;
            }
            char what[1024], answer[1024], result[700], link[512];
            snprintf(what, sizeof what, "%s (%s: %s%s%s)", e->title, e->id,
                     e->scenario_as_written ? e->scenario_as_written : "no scenario",
                     e->runbook ? "; runbook " : "", e->runbook ? e->runbook : "");
            if (res[i].status == ST_NOT_RUNNABLE)
                snprintf(answer, sizeof answer, "not measured");
            else
                answer_text(e, &res[i], answer, sizeof answer);
            if (res[i].status == ST_NOT_RUNNABLE)
                snprintf(result, sizeof result, "not yet runnable: %s",
                         e->not_runnable ? e->not_runnable : res[i].why);
            else if (res[i].why[0])
                snprintf(result, sizeof result, "%s: %s", status_word(res[i].status), res[i].why);
            else
                snprintf(result, sizeof result, "%s", status_word(res[i].status));
            if (e->partial && res[i].status != ST_NOT_RUNNABLE) {
                size_t n = strlen(result);
                snprintf(result + n, sizeof result - n, " (partial: %s)", e->partial);
            }
            snprintf(link, sizeof link, "%s/report.html", e->id);
            const char *rc = res[i].status == ST_PASS ? "pass" : res[i].status == ST_NOT_RUNNABLE ? "na" : "fail";
            if (o->html) {
                fprintf(o->f, "<tr class=\"%s\"><td>", rc);
                rout_text(o, what);
                if (res[i].report) {
                    fprintf(o->f, " — <a href=\"%s\">report</a>", link);
                    if (res[i].drill)
                        fprintf(o->f, ", <a href=\"%s/drill.json\">drill checks</a>", e->id);
                }
                fputs("</td><td>", o->f);
                rout_text(o, answer);
                /* the verdict word stands out; the reason or caveat after it does not */
                const char *word = status_word(res[i].status);
                size_t wl = strlen(word);
                fputs("</td><td><strong>", o->f);
                rout_text(o, word);
                fputs("</strong><span class=\"note\">", o->f);
                rout_text(o, strncmp(result, word, wl) == 0 ? result + wl : result);
                fputs("</span></td></tr>\n", o->f);
            } else {
                char cell[1600];
                if (res[i].report)
                    snprintf(cell, sizeof cell, "%s — report: %s", what, link);
                else
                    snprintf(cell, sizeof cell, "%s", what);
                const char *row[] = {cell, answer, result};
                rout_table_row(o, rc, row, 3);
            }
        }
        if (any)
            rout_table_end(o);
    }
    if (o->html)
        fputs("</body></html>\n", o->f);
}

static int write_index(const suite_def *s, const entry_result *res, const char *out_dir, int exit_code,
                       size_t counts[6], char *err, size_t errlen)
{
    json_t *idx = json_object(), *entries = json_array();
    for (size_t i = 0; i < s->nentries; i++) {
        const suite_entry *e = &s->entries[i];
        if (res[i].status == ST_SKIPPED)
            continue;
        char answer[1024];
        answer_text(e, &res[i], answer, sizeof answer);
        json_t *ans = json_object();
        for (size_t k = 0; k < e->nanswer && res[i].report; k++) {
            double v;
            json_object_set_new(ans, e->answer[k],
                                rdoc_verdict_metric(res[i].report, e->answer[k], &v) == 0 ? json_real(v) : json_null());
        }
        json_t *ej = json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:s, s:f}", "id", e->id,
                               "title", e->title, "status", status_word(res[i].status), "exit_code",
                               res[i].exit_code, "scenario", e->scenario_as_written, "not_runnable",
                               e->not_runnable, "partial", e->partial, "runbook", e->runbook, "why",
                               res[i].why[0] ? res[i].why : NULL, "answer", ans, "answer_text", answer,
                               "elapsed_s", res[i].elapsed_s);
        if (res[i].ran) {
            json_object_set_new(ej, "started_s", json_real(res[i].started_s));
            json_object_set_new(ej, "side_by_side", json_boolean(res[i].side_by_side));
        }
        if (e->question) {
            json_object_set_new(ej, "question", json_integer(e->question));
            json_object_set_new(ej, "question_text", json_string(s->questions[e->question]));
        }
        if (res[i].report)
            json_object_set_new(ej, "run_dir", json_string(e->id));
        if (res[i].drill)
            json_object_set(ej, "drill", res[i].drill);
        if (res[i].require)
            json_object_set(ej, "require", res[i].require);
        if (res[i].alerts)
            json_object_set(ej, "alerts", res[i].alerts);
        json_array_append_new(entries, ej);
    }
    char started[64];
    time_t now = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_set_new(idx, "schema", json_string("rtchaos.suite/1"));
    json_object_set_new(idx, "rtchaos_version", json_string(rtchaos_version));
    json_object_set_new(idx, "suite", json_string(s->name));
    json_object_set_new(idx, "title", json_string(s->title));
    json_object_set_new(idx, "finished", json_string(started));
    json_object_set_new(idx, "exit_code", json_integer(exit_code));
    json_object_set_new(idx, "entries", entries);
    char path[4096];
    rdoc_path(path, sizeof path, out_dir, "index.json");
    int rc = json_dump_file(idx, path, JSON_INDENT(1));
    json_decref(idx);
    if (rc != 0) {
        snprintf(err, errlen, "write %s failed", path);
        return -1;
    }
    for (int html = 0; html <= 1; html++) {
        const char *name = html ? "index.html" : "index.md";
        rout o = {rdoc_fopen(out_dir, name, err, errlen), html};
        if (!o.f)
            return -1;
        write_index_doc(&o, s, res, out_dir, exit_code, counts);
        if (rdoc_fclose(o.f, name, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* --only: a comma-separated list of substrings; an id matching any is run. */
static int id_selected(const char *id, const char *only)
{
    for (const char *p = only; *p;) {
        size_t n = strcspn(p, ",");
        char sub[128];
        if (n > 0 && n < sizeof sub) {
            memcpy(sub, p, n);
            sub[n] = 0;
            if (strstr(id, sub))
                return 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* --jobs: the entries that may run side by side, taken in the suite's
 * order by up to N worker threads (each runs run_entry as the serial path
 * does; the children it starts are its own and reaped before it moves on). */
typedef struct entry_pool {
    const suite_def *s;
    const suite_opts *o;
    const char *out_dir;
    entry_result *res;
    const size_t *todo; /* entry indexes */
    size_t ntodo, next;
    uint64_t t0_us;
    pthread_mutex_t mu;
} entry_pool;

static void entry_start_line(const suite_def *s, const suite_entry *e, const suite_opts *o, const char *how)
{
    if (o->progress) {
        fprintf(o->progress, "suite %s: %s (%s)%s …\n", s->name, e->id, e->scenario_as_written, how);
        fflush(o->progress);
    }
}

static void entry_end_line(const suite_def *s, const suite_entry *e, const suite_opts *o, const entry_result *r)
{
    if (o->progress) {
        fprintf(o->progress, "suite %s: %-28s %s%s%s\n", s->name, e->id, status_word(r->status),
                r->why[0] ? ": " : "", r->why);
        fflush(o->progress);
    }
}

static void pool_run_one(entry_pool *p, size_t i, const char *how)
{
    const suite_entry *e = &p->s->entries[i];
    char dir[4096];
    rdoc_path(dir, sizeof dir, p->out_dir, e->id);
    entry_start_line(p->s, e, p->o, how);
    p->res[i].started_s = (double)(clock_mono_us() - p->t0_us) / 1e6;
    p->res[i].ran = 1;
    run_entry(p->s, e, p->o, dir, &p->res[i]);
    entry_end_line(p->s, e, p->o, &p->res[i]);
}

/* How much lower the side-by-side entries run (nice): whatever else on the
 * box keeps a latency budget (an entry run alone, another suite's) comes
 * first; theirs only need to finish, and their drain waits for them. */
#define SIDE_BY_SIDE_NICE 10

static void *pool_worker(void *arg)
{
    entry_pool *p = arg;
    /* On Linux the nice value is a thread's own, and what the thread forks
     * inherits it: this worker's entries (the run, its server, proxy and
     * fleet) run lower without touching the suite's other threads. */
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, (id_t)gettid());
    if (errno == 0)
        setpriority(PRIO_PROCESS, (id_t)gettid(), prio + SIDE_BY_SIDE_NICE > 19 ? 19 : prio + SIDE_BY_SIDE_NICE);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t k = p->next < p->ntodo ? p->next++ : p->ntodo;
        pthread_mutex_unlock(&p->mu);
        if (k == p->ntodo)
            return NULL;
        pool_run_one(p, p->todo[k], ", side by side");
    }
}

int suite_run(const char *path, const suite_opts *o, char *out_dir_used, size_t out_len, char *err, size_t errlen)
{
    /* A drill's actions (evhttp, suite_drill.c) and /metrics watches write to
     * a server that may close the connection first (a 413/429 answered and
     * closed): that is an answer to judge, not a reason to die of SIGPIPE.
     * Entry children get SIG_DFL back (harness/child.c). */
    signal(SIGPIPE, SIG_IGN);
    suite_def s;
    char *diag_buf = NULL;
    size_t diag_len = 0;
    FILE *diag = open_memstream(&diag_buf, &diag_len);
    int nerr = 0;
    int rc = suite_def_load(path, &s, diag, &nerr);
    fclose(diag);
    if (rc != 0) {
        snprintf(err, errlen, "%s", diag_buf ? diag_buf : "invalid suite");
        free(diag_buf);
        return 2;
    }
    free(diag_buf);
    char out_dir[4096];
    if (o->out_dir) {
        snprintf(out_dir, sizeof out_dir, "%s", o->out_dir);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
        if (rdoc_mkdir("runs", err, errlen) != 0) {
            suite_def_free(&s);
            return 3;
        }
        snprintf(out_dir, sizeof out_dir, "runs/%s-suite-%s", stamp, s.name);
    }
    if (out_dir_used)
        snprintf(out_dir_used, out_len, "%s", out_dir);
    if (rdoc_mkdir(out_dir, err, errlen) != 0) {
        suite_def_free(&s);
        return 3;
    }
    entry_result *res = calloc(s.nentries, sizeof *res);
    size_t counts[6] = {0}, nran = 0, nproto_na = 0;
    /* Which entries run and how: with --jobs the ones that may run side by
     * side run first, up to N at a time; then every other one, alone, in
     * the suite's order (the index keeps the suite's order either way). */
    size_t *side = calloc(s.nentries + 1, sizeof *side), *alone = calloc(s.nentries + 1, sizeof *alone);
    char (*alone_why)[300] = calloc(s.nentries + 1, sizeof *alone_why);
    size_t nside = 0, nalone = 0;
    for (size_t i = 0; i < s.nentries; i++) {
        const suite_entry *e = &s.entries[i];
        if (o->only && !id_selected(e->id, o->only)) {
            res[i].status = ST_SKIPPED;
            continue;
        }
        res[i].exit_code = -1;
        if (e->not_runnable) {
            res[i].status = ST_NOT_RUNNABLE;
        } else if (e->local_only && o->target && !e->drill.present) {
            res[i].status = ST_NOT_RUNNABLE;
            snprintf(res[i].why, sizeof res[i].why, "with --target: %.450s", e->local_only);
        } else if (protocol_refuses(&s, e, o, res[i].why, sizeof res[i].why)) {
            res[i].status = ST_NOT_RUNNABLE;
            nproto_na++;
        } else if (!o->target && !e->drill.present &&
                   suite_def_uses_namespaces(&s, e, o->short_form, o->sets, o->nsets) &&
                   netns_privileged(res[i].why, sizeof res[i].why) != 0) {
            /* a kernel-fault entry on an unprivileged machine: not runnable
             * here, with the reason in the index (CI runs as root and runs
             * it), never a failure */
            res[i].status = ST_NOT_RUNNABLE;
        } else {
            nran++;
            res[i].status = ST_BROKEN; /* until run_entry says */
            if (o->jobs > 1 && suite_def_side_by_side(&s, e, o->short_form, o->sets, o->nsets, alone_why[nalone],
                                                      sizeof alone_why[nalone])) {
                res[i].side_by_side = 1;
                side[nside++] = i;
            } else {
                alone[nalone++] = i;
            }
            continue;
        }
        entry_end_line(&s, e, o, &res[i]);
    }
    entry_pool pool = {.s = &s, .o = o, .out_dir = out_dir, .res = res, .todo = side, .ntodo = nside,
                       .t0_us = clock_mono_us()};
    if (nside) {
        pthread_mutex_init(&pool.mu, NULL);
        pthread_t th[16];
        size_t nth = 0;
        while (nth < o->jobs && nth < nside && nth < 16 && pthread_create(&th[nth], NULL, pool_worker, &pool) == 0)
            nth++;
        if (!nth) /* no thread to be had: this one does the work */
            pool_worker(&pool);
        for (size_t k = 0; k < nth; k++)
            pthread_join(th[k], NULL);
        pthread_mutex_destroy(&pool.mu);
    }
    for (size_t k = 0; k < nalone; k++) {
        char how[340] = "";
        if (o->jobs > 1)
            snprintf(how, sizeof how, ", alone: %s", alone_why[k]);
        pool_run_one(&pool, alone[k], how);
    }
    free(side);
    free(alone);
    free(alone_why);
    for (size_t i = 0; i < s.nentries; i++)
        if (res[i].status != ST_SKIPPED)
            counts[res[i].status]++;
    int exit_code = counts[ST_BROKEN] ? 3 : counts[ST_INVALID] ? 2 : counts[ST_FAIL] ? 1 : 0;
    /* nothing measured is no pass: a suite none of whose entries the
     * protocol can run says so and exits 2 (the index lists every reason) */
    if (nproto_na && !nran) {
        exit_code = 2;
        snprintf(err, errlen, "rtchaos run %s: --protocol %s: none of the %zu selected entries of suite %s can run with this "
                 "protocol (reasons in the index)\n", path, o->protocol, nproto_na, s.name);
    }
    if (write_index(&s, res, out_dir, exit_code, counts, err, errlen) != 0)
        exit_code = 3;
    for (size_t i = 0; i < s.nentries; i++) {
        json_decref(res[i].report);
        json_decref(res[i].drill);
        json_decref(res[i].require);
        json_decref(res[i].alerts);
    }
    free(res);
    suite_def_free(&s);
    return exit_code;
}

int suite_cli_run(int argc, char **argv, const char *self_exe)
{
    suite_opts o = {.self_exe = self_exe, .progress = stdout};
    const char *path = NULL;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    char ca_set[4200];
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--out") == 0 && more)
            o.out_dir = argv[++i];
        else if (strncmp(a, "--out=", 6) == 0)
            o.out_dir = a + 6;
        else if (strcmp(a, "--target") == 0 && more)
            o.target = argv[++i];
        else if (strncmp(a, "--target=", 9) == 0)
            o.target = a + 9;
        else if ((strcmp(a, "--protocol") == 0 && more) || strncmp(a, "--protocol=", 11) == 0) {
            o.protocol = a[10] == '=' ? a + 11 : argv[++i];
            if (!proto_find(o.protocol)) {
                fprintf(stderr, "rtchaos run SUITE: --protocol %s: unknown protocol (known: %s)\n", o.protocol,
                        proto_names());
                free(sets);
                return 2;
            }
        } else if (strcmp(a, "--set") == 0 && more)
            sets[o.nsets++] = argv[++i];
        else if (strncmp(a, "--set=", 6) == 0)
            sets[o.nsets++] = a + 6;
        else if (strcmp(a, "--ca") == 0 && more) {
            /* an https/wss --target's CA file, for every entry (= --set target.ca=FILE) */
            snprintf(ca_set, sizeof ca_set, "target.ca=%s", argv[++i]);
            sets[o.nsets++] = ca_set;
        } else if (strcmp(a, "--only") == 0 && more)
            o.only = argv[++i];
        else if (strcmp(a, "--short") == 0)
            o.short_form = 1;
        else if ((strcmp(a, "--jobs") == 0 && more) || strncmp(a, "--jobs=", 7) == 0) {
            const char *v = a[6] == '=' ? a + 7 : argv[++i];
            char *end = NULL;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 1 || n > 16) {
                fprintf(stderr, "rtchaos run SUITE: --jobs %s: expected a number of entries at once, 1..16\n", v);
                free(sets);
                return 2;
            }
            o.jobs = (unsigned)n;
        }
        else if (strcmp(a, "--quiet") == 0)
            o.progress = NULL;
        else if (a[0] == '-' || path) {
            fprintf(stderr, "rtchaos run SUITE: unexpected argument '%s'\n"
                            "usage: rtchaos run SUITE.yaml [--out DIR] [--target URL [--protocol P] [--ca FILE]] "
                            "[--set path=value]... "
                            "[--short] [--only SUBSTR[,SUBSTR...]] [--jobs N] [--quiet]\n", a);
            free(sets);
            return 2;
        } else
            path = a;
    }
    if (!path) {
        fprintf(stderr, "rtchaos run: expected a suite file\n");
        free(sets);
        return 2;
    }
    o.sets = sets;
    char err[4096] = "", out_dir[4096] = "";
    int rc = suite_run(path, &o, out_dir, sizeof out_dir, err, sizeof err);
    free(sets);
    if (rc == 2 && err[0]) {
        fprintf(stderr, "%s", err);
        return 2;
    }
    if (err[0])
        fprintf(stderr, "rtchaos run %s: %s\n", path, err);
    if (out_dir[0])
        printf("suite index: %s/index.html (exit %d)\n", out_dir, rc);
    return rc;
}
