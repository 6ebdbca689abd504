/* orch_state.c — what every part of one run shares: the signal flag and the children's process groups, events for events.jsonl, the run's first failure, bounded formatting (orch_int.h). */
#include "orch_int.h"

#include <stdarg.h>
#include <stdio.h>

#include "clock.h"

/* ---- signals (the handler: orch.c) ---------------------------------------------- */

volatile sig_atomic_t orch_sig;      /* first SIGINT/SIGTERM received */
volatile pid_t orch_pgids[2];       /* child process groups, for the second signal */

/* snprintf that may truncate by design (paths and messages are bounded; a
 * cut message is better than none). Returns what snprintf returns. */
int orch_sfmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- the run's record ------------------------------------------------------------- */

double orch_t_s(const run *r)
{
    return r->t0_us ? (double)(clock_mono_us() - r->t0_us) / 1e6 : 0.0;
}

/* Records one harness event for events.jsonl. detail is stolen (may be NULL). */
void orch_event(run *r, const char *action, json_t *detail)
{
    json_t *e = json_pack("{s:I, s:f, s:s, s:s}", "t_us", (json_int_t)clock_wall_us(), "t_s", orch_t_s(r), "source",
                          "harness", "action", action);
    if (detail) {
        json_object_update_missing(e, detail);
        json_decref(detail);
    }
    json_array_append_new(r->events, e);
}

void orch_fail(run *r, const char *fmt, ...)
{
    if (r->error[0])
        return; /* the first cause is the one that matters */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    orch_event(r, "run_broken", json_pack("{s:s}", "error", r->error));
}
