/* reports.h — turns a run's canonical report.json (schema rtchaos.report/1)
 * into what people and CI read: report.md, report.html, gnuplot plots and
 * junit.xml; compares two reports as a regression gate; merges shard reports
 * exactly. Linked into bin/rtchaos (no main() here).
 *
 * Conventions: every function returns 0 on success (or the documented small
 * code) and -1 on error with a human message in err[errlen]; nothing here
 * logs. Not thread-safe (call from one thread). gnuplot is run as a child
 * process with a deadline and always reaped. */
#ifndef RTCHAOS_REPORTS_H
#define RTCHAOS_REPORTS_H
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Longest time one gnuplot invocation may take before it is killed. */
#define REPORTS_GNUPLOT_DEADLINE_MS 30000

/* Reads RUN_DIR/report.json and writes, next to it:
 *   report.md      Markdown (plots referenced as plots/<name>.png)
 *   report.html    self-contained HTML (every plot embedded as a data: URI
 *                  SVG, inline CSS, no script and no network fetch needed)
 *   plots/NAME.svg, plots/NAME.png and the plot data (NAME.dat, plots.gp)
 * Content: verdict table (budget, measured, pass/fail), totals, latency
 * percentile table (p50, p95, p99, p99.9, max) for live, replay, connect and
 * resync, the fault timeline, anomaly examples with the fault active at their
 * time, and the plots: latency over time with fault windows shaded,
 * percentile spectrum live vs replay, published vs delivered per second,
 * connected clients and reconnects, resync time distribution.
 * Does NOT write junit.xml (see reports_write_junit). A report with zero
 * events renders (plots say "no data"). Returns 0, or -1 (report.json missing
 * or not rtchaos.report/1, a write failed, gnuplot failed or timed out). */
int reports_render(const char *run_dir, char *err, size_t errlen);

/* Writes RUN_DIR/junit.xml for the report rep (atomically: a temporary file
 * renamed over it): one <testsuite> named "rtchaos.<scenario>"; a report
 * with an "error" (the run broke) gets a testcase "run" holding <error>; one
 * <testcase> per verdict, named by its text ("p95_live_ms <= 50"), a failed
 * one carrying <failure message="NAME: measured VALUE, budget OP BUDGET[;
 * why]" type="budget"/>; a report with neither gets one testcase "run" that
 * follows "pass". The one junit writer: the harness calls it at the end of a
 * run, reports_write_junit and merge through it. Returns 0 or -1. */
int reports_junit_write(const json_t *rep, const char *run_dir, char *err, size_t errlen);

/* reports_junit_write for RUN_DIR/report.json (for a run directory written
 * earlier). Returns 0 or -1. */
int reports_write_junit(const char *run_dir, char *err, size_t errlen);

/* Prints a one-screen plain-text summary of RUN_DIR/report.json to out
 * (scenario, PASS/FAIL, verdicts, key totals, live p50/p95/p99, path of
 * report.html). Returns 0 or -1. */
int reports_print_summary(const char *run_dir, FILE *out, char *err, size_t errlen);

/* ---- compare: the regression gate ------------------------------------------
 * Metric names (value looked up in a report):
 *   pNN_KIND / max_KIND / mean_KIND   NN in 50,95,99,999; KIND in live,
 *                                     replay, connect, resync (latency_us,
 *                                     compared in µs, printed in ms;
 *                                     n/a when that histogram is empty)
 *   any totals.* counter              lost, duplicated, reordered,
 *                                     resync_failed, errors, reconnects, …
 *   delivered_ratio                   the verdict of that name, else
 *                                     totals.delivered / totals.expected
 *   verdicts                          number of failed verdicts
 *   a.b.c                             any number at that dotted path of the
 *                                     report, e.g. groups.fast.lost
 * Rules:
 *   --max-regress METRIC=LIMIT  NEW may exceed BASE by at most LIMIT, where
 *                               LIMIT is "N%" (relative to BASE) or an
 *                               absolute amount ("5ms", "300us", "2s" for
 *                               latencies — a bare number is ms — or a count)
 *   --max METRIC=V              NEW must be <= V (latency units as above;
 *                               for other metrics "99.9%" means 0.999)
 *   --min METRIC=V              NEW must be >= V
 *   --no-defaults               drop the default rules
 * Defaults: max-regress p95_live=10%, p99_live=20%, p95_resync=20%,
 * p95_connect=20%; lost, duplicated, reordered, resync_failed and verdicts
 * may not grow (max-regress =0); delivered_ratio may not drop by more than
 * 0.001. A later rule for the same metric and kind replaces the earlier one.
 * At the margin is a pass: BASE 1000 µs, NEW 1100 µs, 10% → pass; 1101 →
 * regressed. A metric missing from either report is shown as "n/a" and only
 * fails a rule given explicitly on the command line. */
#define REPORTS_COMPARE_MAX_RULES 64
#define REPORTS_METRIC_MAX 48

typedef enum reports_rule_kind {
    REPORTS_RULE_REGRESS_PCT = 1, /* new <= base * (1 + limit/100); for higher-is-better
                                     metrics (delivered_ratio, resync_ok, delivered,
                                     published): new >= base * (1 - limit/100) */
    REPORTS_RULE_REGRESS_ABS,     /* new <= base + limit (metric units); higher-is-better:
                                     new >= base - limit */
    REPORTS_RULE_MAX,             /* new <= limit */
    REPORTS_RULE_MIN,             /* new >= limit */
} reports_rule_kind;

typedef struct reports_compare_rule {
    char metric[REPORTS_METRIC_MAX];
    reports_rule_kind kind;
    double limit;    /* %, or metric units (µs for latencies, counts) */
    int explicit_rule; /* given by the user (missing metric → fail) */
} reports_compare_rule;

typedef struct reports_compare_opts {
    reports_compare_rule rules[REPORTS_COMPARE_MAX_RULES];
    int nrules;
} reports_compare_opts;

/* Fills opts with the default rules. */
void reports_compare_opts_init(reports_compare_opts *opts);

/* Adds (or replaces) one rule. flag is "--max-regress", "--max" or "--min";
 * spec is "METRIC=LIMIT". Returns 0, or -1 on an unknown flag, a malformed
 * spec or a full table. */
int reports_compare_opts_add(reports_compare_opts *opts, const char *flag, const char *spec,
                             char *err, size_t errlen);

/* Parses the arguments after "compare": BASE.json NEW.json, then any of
 * --max-regress M=L, --max M=V, --min M=V (also as --flag=M=V),
 * --no-defaults, --out DIR. Fills opts (defaults first) and the pointers
 * (into argv; *out_dir is NULL when not given). Returns 0, or -1 with a usage
 * message (the caller exits 2). */
int reports_compare_parse_args(int argc, char **argv, reports_compare_opts *opts,
                               const char **base_json, const char **new_json,
                               const char **out_dir, char *err, size_t errlen);

/* Compares NEW against BASE under opts. Writes a side-by-side table (one row
 * per metric: base, new, change, rule, ok/REGRESSED) to out (may be NULL).
 * When out_dir is not NULL, also writes there compare.md and a
 * self-contained compare.html with overlaid plots (plots/compare_NAME.svg and .png:
 * latency over time, percentile spectrum, delivered per second).
 * Returns 0 when no rule is broken, 1 when NEW regressed, -1 on error (a
 * file unreadable or not rtchaos.report/1: the caller exits 2). */
int reports_compare(const char *base_json, const char *new_json, const reports_compare_opts *opts,
                    FILE *out, const char *out_dir, char *err, size_t errlen);

/* ---- merge: exact combination of shard reports -------------------------------
 * Reads SHARD_DIR/report.json (or SHARD itself when it names a .json file)
 * for each of the n shards and writes OUT_DIR/report.json, junit.xml and the
 * rendered report (reports_render). Exact: latency histograms add through
 * their "hist" members (a shard without them is an error: percentiles are
 * never averaged); totals add; timeline rows align on t_s (counters add;
 * per-second percentiles are exact when rows carry "hist", else the row
 * takes the max over shards and the report says so in "merge"); faults are
 * de-duplicated; anomalies are concatenated (each tagged with "shard"),
 * sorted by time and bounded per kind; verdicts are re-evaluated from the
 * merged figures against their stored budgets, and "pass" follows. All
 * shards must have the same scenario name. Returns 0 when the merged run
 * passes, 1 when a verdict fails, -1 on error. */
int reports_merge(const char *out_dir, const char *const *shard_dirs, int n, char *err, size_t errlen);

/* ---- scorecard: one suite run against several targets, side by side ---------
 * Reads RUN_DIR/index.json (rtchaos.suite/1, written by a suite run) for each
 * of the n run folders — all runs of one suite (same "suite" name) — and
 * writes OUT_DIR/scorecard.json (schema rtchaos.scorecard/1), scorecard.md
 * and a self-contained scorecard.html: one row per entry (in order of first
 * appearance; an entry one run lacks is "not in this run"), one column per
 * run named "TARGET (PROTOCOL)" from its entries' report.json `target` and
 * `protocol.name` (v1 when absent). Each cell: the entry's measured figures
 * (the index's "answer", read from report.json) and its verdict: pass,
 * fail, not applicable (with the reason), invalid or broken. Returns 0, or
 * -1 (a folder missing, no suite index, different suites mixed — the
 * message names the folder — or a write failed). */
int reports_scorecard(const char *out_dir, const char *const *run_dirs, int n, char *err, size_t errlen);

/* A suite index status ("pass", "FAIL", "INVALID", "BROKEN", "not yet
 * runnable") as the scorecard's verdict word; unknown or NULL → "broken". */
const char *reports_scorecard_verdict(const char *suite_status);

/* ---- command lines, for bin/rtchaos ------------------------------------------
 * Each takes the arguments after its subcommand (argv[0] is the first
 * argument, not the program), prints results to stdout and errors to stderr,
 * and returns the process exit code:
 *   report RUN_DIR...   render each run folder again (reports_render), then
 *                       print its summary; 0 done, 2 usage or an unreadable /
 *                       foreign report.json or a gnuplot failure
 *   compare BASE NEW [rules] [--out DIR]   0 pass, 1 regressed, 2 error
 *   merge OUT_DIR SHARD...                 0 merged run passes, 1 a verdict
 *                                          fails, 2 error
 *   scorecard OUT_DIR RUN_DIR...           0 written, 2 bad input */
int reports_cli_report(int argc, char **argv);
int reports_cli_compare(int argc, char **argv);
int reports_cli_merge(int argc, char **argv);
int reports_cli_scorecard(int argc, char **argv);

#endif
