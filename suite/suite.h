/* suite.h — suites: a YAML file (scenarios/suites/NAME.yaml) listing
 * scenarios with overrides, run one after another by `rtchaos run SUITE`,
 * with an index report linking every run and one overall exit code. Drill
 * entries also start the server themselves, watch its /metrics during the
 * run, apply admin actions on a timeline and check that the prescribed
 * action restores the budget.
 *
 * Each entry is run as a child process `rtchaos run SCENARIO --out DIR
 * [--target URL] [--set …]` (the CLI of docs/scenarios.md), so a suite never
 * shares state between runs and one broken run cannot take the others down.
 * Format: docs/suites.md. Nothing here logs; errors go to err. */
#ifndef RTCHAOS_SUITE_H
#define RTCHAOS_SUITE_H
#include <stddef.h>
#include <stdio.h>

/* Longest a single entry may run (a scenario's own phases have deadlines;
 * this one catches a child that still hangs). Per entry: `timeout:`. */
#define SUITE_DEFAULT_TIMEOUT_S 600

typedef struct suite_opts {
    const char *self_exe;      /* the rtchaos binary run for each entry (required) */
    const char *out_dir;       /* index + one folder per entry; NULL = runs/<UTC stamp>-suite-<name> */
    const char *target;        /* --target URL for every non-drill entry; NULL = none */
    const char *protocol;      /* --protocol P for every non-drill entry (a known adapter); NULL =
                                  each scenario's own. An entry whose scenario validates without it
                                  but not with it is "not applicable to this protocol", not run */
    const char *const *sets;   /* "path=value" given to every entry after its own */
    size_t nsets;
    int short_form;            /* apply each entry's `short:` overrides (CI / tests) */
    const char *only;          /* run only entries whose id contains one of these comma-separated
                                  substrings; NULL = all */
    unsigned jobs;             /* > 1: up to this many entries run at once, only those that may
                                  (suite_def_side_by_side); the others each run alone. 0/1 = one
                                  after another */
    FILE *progress;            /* one line per entry as it starts/ends; NULL = silent */
} suite_opts;

/* 1 when path is a YAML file whose top level is a mapping with a "suite"
 * key (so `rtchaos run` can tell a suite from a scenario), else 0. */
int suite_is_suite_file(const char *path);

/* Checks a suite file's structure and meaning: every error, one per line as
 * "file:line:col: message", goes to diag. With self_exe, each runnable entry's
 * scenario (with its overrides, and the short ones) is also checked by
 * `rtchaos validate`. Returns 0 when valid, 2 when not (the CLI exit code). */
int suite_validate(const char *path, const char *self_exe, FILE *diag);

/* Runs the suite. Writes OUT/index.json, OUT/index.md, OUT/index.html and
 * one run folder per entry (OUT/<id>/), and returns the suite's exit code:
 * 0 every runnable entry passed, 1 an entry failed (a verdict, a drill
 * check), 3 an entry broke (exit 3, timed out, could not start) — 3 wins
 * over 1; 2 the suite is invalid (err says why; nothing is run). Entries
 * marked not_runnable are listed with their reason and never count as a
 * pass. The out dir used is written to out_dir_used (may be NULL). */
int suite_run(const char *path, const suite_opts *opts, char *out_dir_used, size_t out_len, char *err,
              size_t errlen);

/* The command line `rtchaos run SUITE [--out DIR] [--target URL] [--set
 * path=value]... [--short] [--only SUBSTR] [--jobs N] [--quiet]`: argv holds the
 * arguments after "run" (argv[0] is SUITE or an option). Prints progress
 * and a summary with the index path to stdout, errors to stderr. Returns
 * the exit code. */
int suite_cli_run(int argc, char **argv, const char *self_exe);

#endif
