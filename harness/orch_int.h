/* orch_int.h — what the parts of one run share (orch.c and orch_*.c): the
 * run's state and the helpers every part uses. Not for other modules: they
 * use orch.h. */
#ifndef RTCHAOS_ORCH_INT_H
#define RTCHAOS_ORCH_INT_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "child.h"
#include "faultplan.h"
#include "fleet.h"
#include "live_metrics.h"
#include "netfault.h"
#include "netns.h"
#include "orch.h"
#include "proxyctl.h"
#include "series_rec.h"
#include "server_scrape.h"

#define PROXY_NAME "rtchaos"
#define API_TIMEOUT_MS 3000

/* One run, owned by orch_run (on its stack) from start to the last reap;
 * every part takes it by pointer on the run's controlling thread only
 * (the watchdog thread reads the wd_* fields under wd_lock). */
typedef struct run {
    const scenario *s;
    const orch_opts *o;
    uint64_t seed;
    char dir[PATH_MAX];
    char target_url[512];
    char up_host[256];        /* the server: started or --target */
    char prefix[FLEET_PREFIX_MAX + 1]; /* --target's path prefix ("" = none) */
    uint16_t up_port;
    int tls;                  /* --target https:// or wss://: the fleet speaks TLS (fleet_tls.h) */
    int have_server;          /* we run rtchaos-server */
    child server;
    int server_down;          /* killed on purpose (kill window) */
    int server_paused;
    unsigned nnodes;          /* server: {nodes: N}: node 0 is `server`, 1..N-1 here (0: one plain server) */
    child xnode[SCN_NODES_MAX];
    uint16_t node_port[SCN_NODES_MAX];
    int node_down[SCN_NODES_MAX];
    int have_redis;           /* redis: auto — our own redis-server */
    child redis;
    uint16_t redis_port;
    int redis_down;
    json_t *nodes_report;     /* report.json "nodes" (server: {nodes: N}), or NULL */
    sscrape *node_ss[SCN_NODES_MAX]; /* every node's /metrics over the run (NULL: not scraped) */
    int have_proxy;
    child proxy;
    proxyctl api;
    uint16_t proxy_port;
    fleet *fl;
    livem *lm;                /* the live metrics endpoint (NULL: none) */
    sscrape *ss;              /* scraping the server's /metrics (NULL: not) */
    json_t *server_metrics;   /* what it gathered (report.json "server"), or NULL */
    sscrape *ps;              /* scraping rtchaos-proxy's /metrics (NULL: not) */
    json_t *proxy_metrics;    /* report.json "proxy_metrics", or NULL */
    srec *sr;                 /* harness.record_series: every page every second (NULL: not) */
    char lm_bound[300];       /* where the live endpoint listens ("" = nowhere) */
    uint64_t t0_us;           /* fleet_start, monotonic */
    int64_t t0_wall_us;       /* the same instant on the wall clock */
    int64_t start_late_us;    /* --start-at: how late the clients started after it */
    uint64_t warmup_us;
    json_t *events;           /* harness events (events.jsonl), unsorted */
    json_t *windows;          /* per fault: {"from_us","to_us"} actual, mono since t0 */
    char error[1024];         /* why the run broke ("" when it did not) */
    json_t *children;         /* report.json "children": how each started child ended */
    int partial;
    char started[40];
    double elapsed_s;
    pthread_t watchdog;
    int watchdog_on;
    pthread_mutex_t wd_lock;
    pthread_cond_t wd_cond;
    int wd_done;
    int wd_running;              /* the watchdog thread is in its wait (watchdog_start waits for it) */
    uint64_t wd_deadline_us;
    /* network: {namespaces: true} (docs/network.md) */
    int have_netns;
    netns ns;
    unsigned char *net_active;   /* per fault: the kernel fault is applied now */
    netfault_count *net_counts;  /* per fault: nftables counters, summed over its windows */
    json_t *net_samples;         /* TCP figures of both namespaces over the run */
    json_t *tcp_first[2];        /* [0] server side, [1] clients: at the timeline's start */
    json_t *tcp_last[2];         /* after the drain */
    uint64_t next_sample_us;
} run;

/* ---- orch_state.c ------------------------------------------------------------- */

/* The first SIGINT/SIGTERM (0 until one comes): every wait of the run looks
 * at it. The process groups of the server and the proxy, for the second
 * signal and the watchdog, which kill them from a handler / another thread. */
extern volatile sig_atomic_t orch_sig;
extern volatile pid_t orch_pgids[2];

/* snprintf that may truncate by design (paths and messages are bounded; a
 * cut message is better than none). Returns what snprintf returns. */
int orch_sfmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Seconds since the clients started (0 before). */
double orch_t_s(const run *r);
/* Records one harness event for events.jsonl. detail is stolen (may be NULL). */
void orch_event(run *r, const char *action, json_t *detail);
/* Records why the run broke (the first cause only) and the event. */
void orch_fail(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- orch_net.c: network namespaces -------------------------------------------- */

/* Makes the namespaces and moves this thread to the server side. 0, or -1 with err. */
int orch_net_setup(run *r, char *err, size_t errlen);
/* TCP figures of both namespaces now, appended to the run's samples; also
 * returned in *srv and *cli (new references) when those are not NULL. */
void orch_net_sample(run *r, const char *why, json_t **srv, json_t **cli);
/* Reads the kernel faults' counters, a last TCP sample, removes the namespaces. */
void orch_net_teardown(run *r);

/* ---- orch_children.c: the server (nodes), redis-server, the proxy ------------ */

/* The child of node i (node 0: the plain server's place). */
child *orch_children_node(run *r, unsigned i);
/* Starts (or restarts, port != 0) node i and waits for its readiness line. 0, or -1 with err. */
int orch_children_server_start(run *r, unsigned i, uint16_t port, char *err, size_t errlen);
/* Starts our redis-server (port 0: a fresh one) and waits until it accepts. 0, or -1 with err. */
int orch_children_redis_start(run *r, uint16_t port, char *err, size_t errlen);
/* Starts rtchaos-proxy, creates the run's proxy (pool, scenario toxics) through its API. 0, or -1 with err. */
int orch_children_proxy_start(run *r, char *err, size_t errlen);
/* Records in r->children.<name> how one child_stop (returning how) ended. */
void orch_children_judge_stop(run *r, const char *name, const child *c, int how, uint64_t grace_ms);
/* At the end of the run: sanitizer reports and unclean ends of every started child break the run. */
void orch_children_judge(run *r);

/* ---- orch_target.c ---------------------------------------------------------- */

/* 0 when host:port accepts a TCP connection within timeout_ms, else -1 with err. */
int orch_tcp_reachable(const char *host, uint16_t port, unsigned timeout_ms, char *err, size_t errlen);

/* ---- orch_fleet.c ------------------------------------------------------------ */

/* The fleet's configuration from the scenario and the run; creates r->fl. 0, or -1 with err. */
int orch_fleet_setup(run *r, char *err, size_t errlen);

/* ---- orch_faults.c: the fault timeline ---------------------------------------- */

/* Fault i's window record in report.json (borrowed). */
json_t *orch_faults_window(run *r, size_t fault);
/* Applies one action of the timeline (proxy, kernel or process fault). 0, or -1 (the run broke). */
int orch_faults_apply(run *r, const fplan_action *a);
/* At the end of the run: clears every fault of plan[0..n) still active, so
 * that the drain measures catching up, not the fault. */
void orch_faults_clear(run *r, const fplan_action *plan, size_t n);
/* Ends every node's /metrics scrape and builds report.json "nodes". */
void orch_faults_nodes_scrape(run *r);

/* ---- orch_metrics.c: the run's live /metrics, the server scrape, the status line */

/* Starts the run's Prometheus endpoint when asked (after fleet_start). 0, or -1 with err. */
int orch_metrics_start(run *r, char *err, size_t errlen);
/* Starts scraping the server's (and the proxy's) /metrics when asked. 0, or -1 with err. */
int orch_metrics_scrape_start(run *r, char *err, size_t errlen);
/* Pushes the final figures to the Pushgateway when asked. */
void orch_metrics_push(run *r, int code);
/* After the report: exposes the exit code, lingers as asked, stops the endpoint. */
void orch_metrics_finish(run *r, int code);
/* The live status line on a TTY (final: the last one, with a newline). */
void orch_metrics_status_line(run *r, int final);

#endif
