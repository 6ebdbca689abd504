/* rplot_server.h — internal to reports/: the server's /metrics samples
 * (report.json "server", scraped every second during the run) drawn beside
 * the clients' figures: connections, server-side delivery latency,
 * backpressure by policy with gaps and snapshots sent, send queues, broker
 * lag. Appended to the report's plots.gp (one gnuplot run). */
#ifndef RTCHAOS_RPLOT_SERVER_H
#define RTCHAOS_RPLOT_SERVER_H
#include <stdio.h>
#include <jansson.h>

#include "rplot.h"

#define RPLOT_SERVER_N 5
extern const rplot_info rplot_server_plots[RPLOT_SERVER_N];

/* Whether plot i of rplot_server_plots is drawn for rep: the first four
 * whenever rep has server samples, broker lag only when a sample carries
 * the broker's histogram (brokered nodes). */
int rplot_server_has(const json_t *rep, int i);

/* Writes plots_dir/server.dat (one row per good sample: t_s, connections
 * by transport, interval p95s, per-second backpressure/gap/snapshot rates,
 * queue depths; NaN where a figure is missing) and appends the drawing of
 * every plot rplot_server_has to the open gnuplot script gp; the clients'
 * lines come from timeline.dat (written by rplot_report). Returns the
 * number of plots appended (0: no server samples), or -1 with err. */
int rplot_server_write(const json_t *rep, const char *plots_dir, FILE *gp, char *err, size_t errlen);

/* p95 of the interval between two cumulative bucket lists [[le, cum], …]
 * whose totals are count0 and count1 (the +Inf buckets): the upper bound of
 * the first bucket holding 95 % of the interval's observations, in the
 * buckets' unit; NAN when the interval has none or the p95 is beyond the
 * last finite bound. */
double rplot_server_interval_p95(const json_t *le0, double count0, const json_t *le1, double count1);

#endif
