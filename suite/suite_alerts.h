/* suite_alerts.h — internal to suite/: an entry's alerts judged on its run.
 * The run records every metric page every second (harness.record_series →
 * series.yml); the suite's alerting rules, their time windows divided by
 * the suite's time scale (a drill lasts seconds, the shipped rules' windows
 * are minutes), are evaluated over those series by `promtool test rules`:
 * the alerts the entry names must fire, the ones it names quiet must not. */
#ifndef RTCHAOS_SUITE_ALERTS_H
#define RTCHAOS_SUITE_ALERTS_H
#include <stddef.h>
#include <jansson.h>

/* A Prometheus duration ("5m", "1m30s", "500ms", "2h") divided by scale,
 * written as whole seconds ("15s") or milliseconds ("1500ms"; at least
 * 1ms). Returns 0, or -1 when in is not a duration or scale <= 0. */
int suite_alerts_scale_duration(const char *in, double scale, char *out, size_t cap);

/* A PromQL expression with every range ([5m]), subquery ([5m:30s]) and
 * offset duration divided by scale; text inside quotes is left alone.
 * malloc'd, or NULL when a duration does not parse. */
char *suite_alerts_scale_expr(const char *expr, double scale);

/* Copies the rules file in to out with every `for:` and every duration in
 * an `expr:` divided by scale (thresholds, labels, annotations unchanged).
 * Returns 0, or -1 with err. */
int suite_alerts_scale_rules(const char *in, const char *out, double scale, char *err, size_t errlen);

/* The alert names of a rules file (groups[].rules[].alert), malloc'd
 * strings in a malloc'd array (*n of them). Returns 0, or -1 with err. */
int suite_alerts_names(const char *rules, char ***names, size_t *n, char *err, size_t errlen);

/* Judges the alerts of the run in dir (dir/series.yml) against rules scaled
 * by scale: fire[] must fire at some step of the run, quiet[] never.
 * Writes dir/alert_rules.yml (the scaled rules), dir/alert_test.yml (the
 * promtool test whose exit code decides), dir/alert_when.yml (when each
 * alert fired) and dir/alert_test.log. warmup_s turns series time into run
 * time (t = 0 after warm-up). Returns a new object {pass, rules, time_scale,
 * files, expect: [{alert, expect, fired, first_s, last_s, pass}], fired:
 * [{alert, first_s, last_s}], why}; never NULL except out of memory. */
json_t *suite_alerts_judge(const char *dir, const char *rules, double scale, char *const *fire, size_t nfire,
                           char *const *quiet, size_t nquiet, double warmup_s);

#endif
