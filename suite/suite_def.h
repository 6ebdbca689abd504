/* suite_def.h — internal to suite/: a suite file parsed (libyaml) into
 * structs, with file:line:col diagnostics. */
#ifndef RTCHAOS_SUITE_DEF_H
#define RTCHAOS_SUITE_DEF_H
#include <stddef.h>
#include <stdio.h>

#define SUITE_MAX_QUESTIONS 32

typedef enum suite_expect {
    SUITE_EXPECT_INCREASE = 0, /* counter grew by more than `value` within the window */
    SUITE_EXPECT_ABOVE,        /* some sample in the window was above `value` */
    SUITE_EXPECT_BELOW,        /* every sample in the window was below `value` */
    SUITE_EXPECT_FLAT,         /* counter grew by at most `value` within the window */
} suite_expect;

/* A /metrics check of a drill: the sum of every sample of `metric` whose
 * label set contains `labels` (a substring such as policy="drop"; NULL = any). */
typedef struct suite_watch {
    char *name;
    char *metric;
    char *labels;
    suite_expect expect;
    double value;
    double from_s, to_s;       /* window, seconds of run time (t = 0 after warm-up) */
} suite_watch;

/* An admin call the drill makes at run time at_s (the prescribed action). */
#define SUITE_EXPECT_MAX 8
typedef struct suite_action {
    double at_s;
    char *method;              /* "POST" (default) or "GET" */
    char *path;                /* e.g. /admin/flags */
    char *body;                /* JSON text, or NULL */
    size_t body_pad;           /* > 0: the body is {"data":"xxx…"} of about this many bytes */
    char *token;               /* sent as Authorization: Bearer, or NULL */
    unsigned repeat;           /* requests sent back to back (default 1): a flood */
    int expect[SUITE_EXPECT_MAX]; /* statuses every response must have; none = any 2xx */
    size_t nexpect;
} suite_action;

/* A budget checked on the report's timeline rows with from_s <= t_s <= to_s
 * (exact over the window from the rows' "lat" buckets): pNN_live_ms (NN in
 * 50, 95, 99, 999), max_live_ms, or delivered_per_s OP V. */
typedef struct suite_window_budget {
    char *text;
    char *metric;
    char *op;
    double value;
    double from_s, to_s;       /* to_s < 0: to the end */
    int symptom;               /* 1: from `symptom:` (the incident is visible), 0: `restore:` */
} suite_window_budget;

typedef struct suite_drill {
    int present;
    char **server_args;        /* extra rtchaos-server flags; {suite_dir} and {run_dir} become the
                                  suite's folder and the entry's run folder (absolute) */
    size_t nserver_args;
    char *server_config;       /* resolved path or NULL */
    suite_watch *watches;
    size_t nwatches;
    suite_action *actions;
    size_t nactions;
    suite_window_budget *budgets; /* `symptom:` (the incident shows) then `restore:` (the action
                                     brought the budget back) */
    size_t nbudgets;
} suite_drill;

typedef struct suite_entry {
    char *id;
    char *title;
    int question;              /* 0 = none */
    char *scenario;            /* resolved path; NULL when not runnable */
    char *scenario_as_written;
    char **sets, **short_sets;
    size_t nsets, nshort_sets;
    char **answer;             /* metric names shown as the measured answer */
    size_t nanswer;
    char **require;            /* "METRIC OP VALUE" the suite checks on report.json itself (budget
                                  names or dotted paths such as groups.fast.lost): for what
                                  scenario budgets cannot name */
    size_t nrequire;
    char *not_runnable;        /* reason, or NULL */
    char *local_only;          /* needs the server process the harness starts (a pause, a kill):
                                  with --target the entry is not runnable, for this reason */
    char *partial;             /* what part of the question this run does not cover, or NULL */
    char *alone;               /* `alone: REASON`: never run beside other entries (--jobs), for a
                                  reason its budgets do not show (a figure a reader compares) */
    char *runbook;             /* path as written (drills) */
    double timeout_s;
    int verdicts_informational; /* `verdicts: informational`: a failed verdict of the run does not fail
                                   the entry (a drill breaks budgets on purpose; its checks decide) */
    suite_drill drill;
    char **alerts_fire;        /* `alerts: {fire: [...]}`: must fire during the run (suite `alerts.rules`) */
    size_t nalerts_fire;
    char **alerts_quiet;       /* `alerts: {quiet: [...]}`: must not fire */
    size_t nalerts_quiet;
    int has_alerts;            /* the run records its series (harness.record_series) and is judged */
    int line;
} suite_entry;

typedef struct suite_def {
    char *path, *dir;
    char *name, *title, *description;
    char *questions[SUITE_MAX_QUESTIONS + 1]; /* [n] = text of question n */
    char **sets, **short_sets;  /* defaults for every entry */
    size_t nsets, nshort_sets;
    double timeout_s;
    suite_entry *entries;
    size_t nentries;
    char *alert_rules;          /* `alerts: {rules: FILE}` resolved, or NULL */
    double alert_time_scale;    /* `alerts: {time_scale: N}`: the rules' windows and `for:` divided by N */
    char **alert_names;         /* the alerts that file defines */
    size_t nalert_names;
} suite_def;

/* Loads and checks path. Returns 0 with *out filled (free with
 * suite_def_free), or -1 after writing every error found to diag as
 * "file:line:col: message" (and the count into *nerrors when not NULL). */
int suite_def_load(const char *path, suite_def *out, FILE *diag, int *nerrors);
void suite_def_free(suite_def *s);

/* "1.5s", "500ms", "2m", "90" (seconds) → seconds; -1 when malformed. */
double suite_def_seconds(const char *s);

/* The warm-up of entry e's scenario in seconds, as its run will have it:
 * the scenario loaded by the harness's loader with the suite's, the
 * entry's, (short_form) their short overrides and then extra_sets applied
 * in that order. -1 when the scenario does not load (its run will say why). */
double suite_def_warmup_s(const suite_def *s, const suite_entry *e, int short_form, const char *const *extra_sets,
                          size_t nextra);

/* Whether entry e's scenario, loaded as suite_def_warmup_s does, has
 * network.namespaces (its run needs root: the suite skips it, with the
 * reason, when this process lacks CAP_NET_ADMIN or CAP_SYS_ADMIN). 0 when
 * it does not load (its run will say why). */
int suite_def_uses_namespaces(const suite_def *s, const suite_entry *e, int short_form, const char *const *extra_sets,
                              size_t nextra);

/* Whether entry e may run beside other entries (`rtchaos run SUITE --jobs N`):
 * 1 only when nothing it is judged on depends on having the CPU when it
 * wants it. 0, with the reason in why, for a drill (its /metrics watches
 * and admin actions are on a timeline), an entry with network namespaces
 * (kernel faults, the server's idle close timed), one marked `alone:`,
 * one whose scenario budgets or `require` checks read a time or a rate (a
 * metric named *_ms, *_us, *_s or *_per_s: a latency budget), or one whose
 * scenario does not load. Loaded as suite_def_warmup_s does. */
int suite_def_side_by_side(const suite_def *s, const suite_entry *e, int short_form, const char *const *extra_sets,
                           size_t nextra, char *why, size_t whylen);

#endif
