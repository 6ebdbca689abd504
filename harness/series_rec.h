/* series_rec.h — the run's metrics as time series: a thread scrapes
 * Prometheus pages (the server's, the proxy's, the harness's own live
 * endpoint) every interval during the run and keeps every sample, then
 * writes them as the `input_series` of a `promtool test rules` file, so
 * alerting rules can be evaluated afterwards against what the run really
 * exported (harness.record_series; suites' drills use it for their alerts). */
#ifndef RTCHAOS_SERIES_REC_H
#define RTCHAOS_SERIES_REC_H
#include <stddef.h>
#include <stdint.h>

/* One page to record; every series it exports gets job and instance
 * ("host:port") labels, as a Prometheus scrape would add them. */
typedef struct srec_source {
    const char *job;  /* "rtchaos-server", "rtchaos-proxy", "rtchaos-harness" */
    const char *host;
    uint16_t port;
    const char *path; /* NULL = /metrics */
} srec_source;

typedef struct srec srec;

/* Starts recording the n sources (copied) every interval_ms from a thread
 * of its own; sample k of a series belongs to t = k * interval after
 * t0_mono_us (a scrape's time is rounded to the nearest step; a step with
 * no answer stays empty). Each request's deadline is the interval, so a
 * paused server costs empty steps, never the run. NULL with err when the
 * thread cannot start. */
srec *srec_start(const srec_source *src, size_t n, uint64_t t0_mono_us, unsigned interval_ms, char *err,
                 size_t errlen);

/* Parses one Prometheus text page into the series table at step k (exported
 * for the unit test; the thread calls it). Returns the number of samples
 * taken, or -1 when out of memory. */
int srec_add_page(srec *s, const char *job, const char *instance, long k, const char *text);

/* Takes one last sample, stops the thread, writes the recording to path
 * (when path is not NULL) and frees s. The file is YAML: a comment naming
 * the sources and t = 0, then `interval: 1s` and `input_series:` with one
 * entry per series, `values` in promtool's notation (`_` for a step without
 * a sample): the body of one test group of a `promtool test rules` file.
 * Returns the number of series written, or -1 with err. */
long srec_finish(srec *s, const char *path, const char *comment, char *err, size_t errlen);

/* A recorder without a thread (unit tests): feed it with srec_add_page,
 * then srec_finish. */
srec *srec_new_for_test(unsigned interval_ms);

#endif
