/* fleet_workers.h — the fleet spread over forked worker processes: control over a socket pair per child, results merged exactly. */
#ifndef RTCHAOS_FLEET_WORKERS_H
#define RTCHAOS_FLEET_WORKERS_H
#include "fleet_internal.h"

/* Forks cfg.workers children, each running its share of the clients
 * (fleet_start_local with worker_idx set) and answering the parent's
 * commands; a child dies with its parent (PR_SET_PDEATHSIG). Returns 0, or
 * -1 with a message in err (children already forked are killed). */
int fl_workers_start(fleet *f, char *err, size_t errlen);
/* Asks every child to cut `fraction` of its open clients; returns how
 * many were cut (waits up to 3 s for the answers). */
uint64_t fl_workers_cut(fleet *f, double fraction);
/* Adds the children's last reported status into o and lat. Thread-safe. */
void fl_workers_status(fleet *f, fleet_status *o, uint32_t *lat);
/* Adds the children's last reported live figures into o (n_groups set)
 * and their cumulative coarse live latency into lat. Thread-safe. */
void fl_workers_live(fleet *f, fleet_live *o, uint32_t *lat);
/* Sends f->final_head to every child. */
void fl_workers_final_heads(fleet *f);
/* 1 when every child reported all its clients caught up with the final heads. */
int fl_workers_caught_up(fleet *f);
/* Stops every child, collects its report (deadline 30 s, then SIGKILL) and
 * reaps it. */
void fl_workers_stop(fleet *f);
/* Merges the children's reports into report (fleet_report_merge). */
int fl_workers_merge_reports(fleet *f, json_t *report, char *err, size_t errlen);
void fl_workers_free(fleet *f);

#endif
