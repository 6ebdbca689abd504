/* faultplan.h — a scenario's fault timeline expanded into the exact list of
 * actions the orchestrator takes, in time order (flapping unrolled). */
#ifndef RTCHAOS_FAULTPLAN_H
#define RTCHAOS_FAULTPLAN_H
#include <stddef.h>
#include <stdint.h>
#include "scenario.h"

typedef enum fplan_kind {
    FPLAN_TOXIC_ADD = 0,   /* POST the fault's toxic to the proxy */
    FPLAN_TOXIC_REMOVE,    /* DELETE it */
    FPLAN_DISCONNECT,      /* fleet_disconnect_fraction */
    FPLAN_SERVER_KILL,     /* SIGKILL the server */
    FPLAN_SERVER_START,    /* start it again on the same port (after a kill) */
    FPLAN_SERVER_STOP,     /* SIGSTOP (pause) */
    FPLAN_SERVER_CONT,     /* SIGCONT */
    FPLAN_SERVER_RESTART,  /* SIGTERM, wait, start again on the same port */
    FPLAN_NET_APPLY,       /* a kernel fault on the veth link (netfault.c) */
    FPLAN_NET_LIFT,        /* lift it */
} fplan_kind;

typedef struct fplan_action {
    uint64_t t_us;         /* from the start of the fault timeline (after warm-up) */
    fplan_kind kind;
    size_t fault;          /* index into scenario.faults */
    unsigned cycle;        /* flap cycle (0 when not flapping) */
} fplan_action;

/* Expands s->faults into actions sorted by time (ties keep the order in
 * which the scenario declares them; a flap's off comes before the next on).
 * A toxic without `for` stays until the end of the run and a kill without
 * `for` keeps the server down: the orchestrator clears whatever is still
 * active when the run ends (faultplan_active tells what). Returns 0 and a
 * malloc'd array (caller frees) in *out, or -1 with err on allocation
 * failure. */
int faultplan_build(const scenario *s, fplan_action **out, size_t *n, char *err, size_t errlen);

/* The action's name for logs and events.jsonl ("toxic_add", "server_kill"…). */
const char *faultplan_kind_str(fplan_kind k);

#endif
