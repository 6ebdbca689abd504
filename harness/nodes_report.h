/* nodes_report.h — report.json "nodes" of a multi-node run (server:
 * {nodes: N}): each node's clients over the run from its /metrics samples,
 * broker lag percentiles per node and over all nodes, and where the clients
 * of a node that died went. Pure: built from the scrapes, no I/O. */
#ifndef RTCHAOS_NODES_REPORT_H
#define RTCHAOS_NODES_REPORT_H
#include <stddef.h>

#include <jansson.h>

/* A fault that took a node away: kill-node or restart-node. */
typedef struct nodes_fault {
    const char *name;
    const char *kind;   /* "kill", "restart" */
    unsigned node;
    double from_s;      /* when it hit (s since the clients started) */
    double to_s;        /* when the node was back (kill with `for`), or NAN */
} nodes_fault;

/* How long after a node died, when it does not come back, the clients'
 * new places are read: beyond the fleet's longest default backoff (5 s). */
#define NODES_SETTLE_S 10.0

/* Builds "nodes" from scrapes[i], node i's sscrape_finish object
 * ({"samples":[{t_s, connections:{…}, broker_lag_le, broker_lag_count} |
 * {t_s, error}], …}; NULL when node i was not scraped), the node faults
 * and the run's end (s). A node restarted during the run starts its
 * counters again: its lag histogram is the sum over its lives. Returns a
 * new object {count, balance, broker_lag_us:{count,p50,p95,p99},
 * per_node:[{node, connections, clients_peak, broker_lag_count,
 * broker_lag_us, timeline:[[t_s, clients|null]…]}], failover:[{fault,
 * kind, node, at_s, clients_before, read_at_s, landed:[{node, clients}],
 * not_back, all_back_after_s}]}; percentiles are bucket upper bounds in
 * µs (null past the last bound). NULL when out of memory. */
json_t *nodes_report_build(unsigned n, const char *balance, json_t *const *scrapes, const nodes_fault *faults,
                           size_t nfaults, double end_s);

#endif
