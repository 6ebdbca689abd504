/* orch_report.h — report.json and events.jsonl of one run, built from what
 * the run measured and recorded (see orch_report.c). */
#ifndef RTCHAOS_ORCH_REPORT_H
#define RTCHAOS_ORCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "fleet.h"
#include "netfault.h"
#include "netns.h"
#include "orch_exit.h"
#include "scenario.h"

/* What a run hands its report: figures and records, not processes. Every
 * pointer is borrowed from the run (NULL where the run has none); nothing
 * here is freed by the report. */
typedef struct orch_report_in {
    const scenario *s;
    const char *command;         /* the command line, stored in the report */
    int64_t start_at_us;         /* --start-at (0: none) */
    unsigned shard_index, shard_count; /* --shard i/N (N <= 1: not sharded) */
    const netns_support *net_support;  /* what the kernel offers, or NULL */
    uint64_t seed;
    const char *dir;             /* the run directory */
    const char *target_url;
    const char *started;         /* UTC, RFC 3339 */
    double elapsed_s;
    uint64_t warmup_us;
    int64_t t0_wall_us;          /* the fleet's start on the wall clock (0: it never started) */
    int64_t start_late_us;       /* --start-at: how late the clients started after it */
    fleet *fl;                   /* its results are read (fleet_report) */
    const json_t *windows;       /* per fault: the windows the harness applied it in */
    json_t *events;              /* the harness's events: their t_s is set from t0_wall_us */
    json_t *proxy_metrics, *nodes_report, *server_metrics, *children;
    int have_proxy;
    int partial;                 /* interrupted: a partial report */
    /* Why the run broke ("" when it did not), in the run's buffer of
     * error_cap bytes. Building the report may break the run too (the
     * fleet's results unreadable, a target that speaks another protocol):
     * the cause is written here when it was empty. */
    char *error;
    size_t error_cap;
    /* network: {namespaces: true} */
    int have_netns;
    const netns *ns;
    json_t *net_samples;         /* TCP figures of both namespaces over the run */
    json_t *tcp_first[2], *tcp_last[2];
    const netfault_count *net_counts; /* per fault, or NULL */
} orch_report_in;

/* report.json (schema rtchaos.report/1, docs/report-schema.md): totals,
 * faults (refined with the proxy's action log, proxy_events or NULL),
 * verdicts, pass and exit_code. New reference. */
json_t *orch_report_build(orch_report_in *r, const json_t *proxy_events);

/* DIR/events.jsonl: the harness's and the proxy's events in time order
 * (t_s from the fleet's start). 0 / -1 with err. */
int orch_report_write_events(orch_report_in *r, const json_t *proxy_events, char *err, size_t errlen);

#endif
