/* orch.h — one run of a scenario: start the server and proxy, drive the
 * fleet and the fault timeline, drain, stop and reap everything, write the
 * run folder, and decide the exit code. */
#ifndef RTCHAOS_ORCH_H
#define RTCHAOS_ORCH_H
#include <stdint.h>
#include "netns.h"
#include "orch_exit.h"
#include "scenario.h"


typedef enum orch_output {
    ORCH_OUT_NORMAL = 0,  /* live status line on a TTY, final summary */
    ORCH_OUT_QUIET,       /* one result line */
    ORCH_OUT_JSON,        /* one JSON object on stdout: report path, pass, exit code, verdicts */
} orch_output;

typedef struct orch_opts {
    const char *bin_dir;     /* folder holding rtchaos-server and rtchaos-proxy */
    const char *target;      /* --target URL, or NULL to start rtchaos-server */
    const char *out_dir;     /* --out DIR, or NULL for runs/<stamp>-<scenario> */
    int has_seed;            /* --seed given: replaces the scenario's seed */
    uint64_t seed;
    unsigned shard_index;    /* --shard i/N (N = 0: no sharding) */
    unsigned shard_count;
    int64_t start_at_us;     /* --start-at: wall-clock µs at which the clients start (0: at once) */
    unsigned workers;        /* --workers N (0: the scenario's harness.workers) */
    orch_output output;
    const char *metrics_addr;  /* --metrics-addr HOST:PORT, or NULL for the scenario's harness.metrics_addr */
    int has_metrics_linger;    /* --metrics-linger given: replaces harness.metrics_linger */
    uint64_t metrics_linger_us;
    const char *push_url;      /* --push-url http://HOST:PORT (a Pushgateway), or NULL for harness.push_url */
    const char *command;     /* the command line, stored in the report */
    const netns_support *net_support; /* what the kernel offers (network.namespaces runs; main probes it) */
} orch_opts;

/* Runs s under o and returns the exit code (ORCH_EXIT_*). Writes the run
 * folder whatever happens once it exists (report.json with "error" and
 * "partial" when the run broke or was interrupted). Messages for people go
 * to stderr (the JSON summary to stdout). Installs SIGINT/SIGTERM handlers
 * for its duration: the first signal ends the run early with a partial
 * report (exit 3), a second one kills every child at once. Not reentrant:
 * one run per process at a time. */
int orch_run(const scenario *s, const orch_opts *o);

/* 1 when the --target URL is https:// or wss:// (TLS) */
int orch_target_tls(const char *url);
/* Parses an http[s]://host:port[/prefix] (or ws[s]://) target into host,
 * port and the path prefix every request goes under ("/rt", no trailing
 * slash; "" = none). Returns 0, or -1 with a message in err. */
int orch_parse_target(const char *url, char *host, size_t hostcap, uint16_t *port, char *prefix, size_t prefixcap,
                      char *err, size_t errlen);

#endif
