/* live_metrics.h — the harness's own Prometheus endpoint: the fleet's live
 * figures, the faults active now and the run's state, served over HTTP on
 * a thread of its own while the run goes on (rtchaos run --metrics-addr). */
#ifndef RTCHAOS_LIVE_METRICS_H
#define RTCHAOS_LIVE_METRICS_H
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"

/* What the endpoint says about the run beside the fleet's figures. The
 * strings are borrowed for the endpoint's lifetime. */
typedef struct livem_info {
    const char *scenario;
    const char *target;
    uint64_t seed;
    size_t n_faults;
    const char *const *fault_names;  /* [n_faults] */
    const char *const *fault_kinds;  /* [n_faults]: toxic type or disconnect/server_kill/… */
} livem_info;

typedef struct livem livem;

/* Renders the Prometheus text exposition (format 0.0.4) of fl, info, the
 * fault states (active[i] read atomically; NULL = all inactive) and the
 * exit code (< 0: not known yet) into a malloc'd NUL-terminated buffer
 * (*out, caller frees; *len bytes). Pure: no I/O. Returns 0 or -1 (out of
 * memory). */
int livem_render(const fleet_live *fl, const livem_info *info, const int *active, int exit_code, char **out,
                 size_t *len);

/* Binds addr (HOST:PORT, see scenario_parse_hostport) and serves GET /metrics (and / with a
 * pointer to it) from a thread of its own, reading f with fleet_live_get
 * at each scrape: never blocks the fleet or the caller. Call after
 * fleet_start (it forks workers; the thread must not exist then). info is
 * copied. *bound gets the address actually bound ("127.0.0.1:41234").
 * Returns the endpoint, or NULL with a message in err. */
livem *livem_start(const char *addr, fleet *f, const livem_info *info, char *bound, size_t boundcap, char *err,
                   size_t errlen);

/* The fault's state for fault_active{…}; thread-safe. */
void livem_fault_set(livem *m, size_t fault, int active);

/* The run's exit code once known (exposed as rtchaos_harness_exit_code). */
void livem_set_exit_code(livem *m, int code);

/* Stops serving (joins the thread, closes the socket) and frees m. NULL is
 * fine. */
void livem_stop(livem *m);

#endif
