/* orch_faults.c — the fault timeline of one run: each planned action applied (proxy toxics, kernel faults, server/node/redis process faults), the fault windows as they happened, faults cleared before the drain; every node's /metrics into report.json "nodes". */
#include "orch_int.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "nodes_report.h"
#include "prng.h"

json_t *orch_faults_window(run *r, size_t fault)
{
    return json_array_get(r->windows, fault);
}

static void window_mark(run *r, size_t fault, const char *key)
{
    json_t *w = orch_faults_window(r, fault);
    double now = orch_t_s(r);
    livem_fault_set(r->lm, fault, !strcmp(key, "from_s"));
    if (!strcmp(key, "from_s")) {
        if (!json_object_get(w, "from_s"))
            json_object_set_new(w, "from_s", json_real(now));
        json_t *on = json_object_get(w, "on");
        if (!on) {
            on = json_array();
            json_object_set_new(w, "on", on);
        }
        json_array_append_new(on, json_pack("[f]", now));
    } else {
        json_object_set_new(w, "to_s", json_real(now));
        json_t *on = json_object_get(w, "on");
        json_t *last = on ? json_array_get(on, json_array_size(on) - 1) : NULL;
        if (last && json_array_size(last) == 1)
            json_array_append_new(last, json_real(now));
    }
}

static int restart_server(run *r, unsigned i, int hard, char *err, size_t errlen)
{
    uint16_t port = r->node_port[i];
    child *c = orch_children_node(r, i);
    if (!c->exited) {
        if (hard)
            child_signal(c, SIGKILL, err, errlen);
        int how = child_stop(c, r->s->server.stop_timeout_us / 1000);
        char nm[16];
        orch_sfmt(nm, sizeof nm, i ? "node%u" : "server", i);
        if (!hard)
            orch_children_judge_stop(r, nm, c, how, r->s->server.stop_timeout_us / 1000);
    }
    /* The port was ours a moment ago; a start that loses it to TIME_WAIT or
     * a racing process is retried until the readiness deadline. */
    uint64_t end = clock_mono_us() + r->s->server.ready_timeout_us;
    for (;;) {
        if (orch_children_server_start(r, i, port, err, errlen) == 0)
            return 0;
        if (clock_mono_us() >= end || orch_sig)
            return -1;
        clock_nap_ms(200);
    }
}

static unsigned fault_node(run *r, const scn_fault *f);

/* Before the clients go: every node's /metrics scrape ends (a last sample
 * with the clients still connected) and becomes report.json "nodes": the
 * clients of each node over the run, broker lag per node and summed (the
 * budget's broker_lag_p*_ms), and where a killed node's clients landed. */
void orch_faults_nodes_scrape(run *r)
{
    json_t *scr[SCN_NODES_MAX] = {0};
    for (unsigned i = 0; i < r->nnodes; i++) {
        scr[i] = r->node_ss[i] ? sscrape_finish(r->node_ss[i]) : NULL;
        r->node_ss[i] = NULL;
    }
    nodes_fault *nf = calloc(r->s->nfaults + 1, sizeof *nf);
    size_t n = 0;
    for (size_t i = 0; nf && i < r->s->nfaults; i++) {
        const scn_fault *f = &r->s->faults[i];
        if (f->target != SCN_TGT_NODE || (f->kind != SCN_FAULT_SERVER_KILL && f->kind != SCN_FAULT_SERVER_RESTART))
            continue;
        json_t *w = orch_faults_window(r, i);
        if (!json_is_number(json_object_get(w, "from_s")))
            continue; /* the run ended before it */
        nf[n] = (nodes_fault){.name = f->name, .kind = f->kind == SCN_FAULT_SERVER_KILL ? "kill" : "restart",
                              .node = fault_node(r, f), .from_s = json_number_value(json_object_get(w, "from_s")),
                              .to_s = f->kind == SCN_FAULT_SERVER_KILL && json_is_number(json_object_get(w, "to_s"))
                                          ? json_number_value(json_object_get(w, "to_s"))
                                          : NAN};
        n++;
    }
    r->nodes_report = nodes_report_build(r->nnodes, r->s->server.balance, scr, nf, n, orch_t_s(r));
    if (r->nodes_report) {
        json_object_set_new(r->nodes_report, "broker", json_string(r->s->server.redis_none ? "none" : "redis"));
        if (r->s->server.redis_none && r->fl) {
            uint64_t acked, failed;
            fleet_pub_mirror_outcomes(r->fl, &acked, &failed);
            json_object_set_new(r->nodes_report, "publish_mirrors",
                                json_pack("{s:I, s:I}", "acked", (json_int_t)acked, "failed", (json_int_t)failed));
        }
    }
    free(nf);
    for (unsigned i = 0; i < r->nnodes; i++)
        json_decref(scr[i]);
}

/* Which node a node fault hits: its own index, or (node: random) one drawn
 * from the run's seed and the fault's name, the same at its start and end. */
static unsigned fault_node(run *r, const scn_fault *f)
{
    if (f->node >= 0)
        return (unsigned)f->node % r->nnodes;
    return (unsigned)(prng_derive(r->seed, prng_hash_str(f->name)) % r->nnodes);
}

/* A process fault on the plain server, one node (server: kill-node…) or
 * our redis-server (server: redis-kill…; it comes back empty). */
static int apply_process(run *r, const fplan_action *a, json_t *d, char *err, size_t errlen)
{
    const scn_fault *f = &r->s->faults[a->fault];
    int is_redis = f->target == SCN_TGT_REDIS;
    unsigned ni = f->target == SCN_TGT_NODE ? fault_node(r, f) : 0;
    child *c = is_redis ? &r->redis : orch_children_node(r, ni);
    int *down = is_redis ? &r->redis_down : ni ? &r->node_down[ni] : &r->server_down;
    int rc = 0;
    if (f->target != SCN_TGT_SERVER)
        json_object_set_new(d, "target", json_string(is_redis ? "redis" : "node"));
    if (f->target == SCN_TGT_NODE)
        json_object_set_new(d, "node", json_integer(ni));
    switch (a->kind) {
    case FPLAN_SERVER_KILL:
        *down = 1;
        rc = child_signal(c, SIGKILL, err, errlen);
        if (rc == 0) {
            /* the fault starts with the signal: a node holding 14,000
             * sockets took 3 s to be reaped on the loaded box (scale-100k) */
            window_mark(r, a->fault, "from_s");
            child_stop(c, 1000); /* reaps it */
        }
        break;
    case FPLAN_SERVER_START:
        rc = is_redis ? orch_children_redis_start(r, r->redis_port, err, errlen) : restart_server(r, ni, 0, err, errlen);
        if (rc == 0) {
            *down = 0;
            window_mark(r, a->fault, "to_s");
        }
        break;
    case FPLAN_SERVER_STOP:
        rc = child_signal(c, SIGSTOP, err, errlen);
        if (rc == 0) {
            if (!is_redis && !ni)
                r->server_paused = 1;
            window_mark(r, a->fault, "from_s");
        }
        break;
    case FPLAN_SERVER_CONT:
        rc = child_signal(c, SIGCONT, err, errlen);
        if (rc == 0) {
            if (!is_redis && !ni)
                r->server_paused = 0;
            window_mark(r, a->fault, "to_s");
        }
        break;
    default: /* FPLAN_SERVER_RESTART */
        *down = 1;
        window_mark(r, a->fault, "from_s");
        if (is_redis) {
            uint64_t grace_ms = r->s->server.stop_timeout_us / 1000;
            orch_children_judge_stop(r, "redis", c, child_stop(c, grace_ms), grace_ms);
            /* The port was ours a moment ago: retried like a node's. */
            uint64_t end = clock_mono_us() + r->s->server.ready_timeout_us;
            while ((rc = orch_children_redis_start(r, r->redis_port, err, errlen)) < 0 && clock_mono_us() < end && !orch_sig)
                clock_nap_ms(200);
        } else
            rc = restart_server(r, ni, 0, err, errlen);
        if (rc == 0) {
            *down = 0;
            window_mark(r, a->fault, "to_s");
        }
        break;
    }
    return rc;
}

/* Applies one action; a failure breaks the run (the harness cannot claim a
 * verdict under a fault it did not apply). */
int orch_faults_apply(run *r, const fplan_action *a)
{
    const scn_fault *f = &r->s->faults[a->fault];
    char err[512] = "";
    int rc = 0;
    json_t *d = json_pack("{s:s, s:f}", "fault", f->name, "planned_t_s", (r->warmup_us + a->t_us) / 1e6);
    if (a->cycle)
        json_object_set_new(d, "cycle", json_integer(a->cycle));
    switch (a->kind) {
    case FPLAN_TOXIC_ADD:
        rc = proxyctl_add_toxic(&r->api, PROXY_NAME, &f->toxic, err, sizeof err);
        if (rc == 0)
            window_mark(r, a->fault, "from_s");
        break;
    case FPLAN_TOXIC_REMOVE:
        rc = proxyctl_remove_toxic(&r->api, PROXY_NAME, f->toxic.name, err, sizeof err);
        if (rc == 0)
            window_mark(r, a->fault, "to_s");
        break;
    case FPLAN_DISCONNECT: {
        uint64_t n = fleet_disconnect_fraction(r->fl, f->fraction);
        json_object_set_new(d, "clients", json_integer((json_int_t)n));
        window_mark(r, a->fault, "from_s");
        window_mark(r, a->fault, "to_s");
        break;
    }
    case FPLAN_SERVER_KILL:
    case FPLAN_SERVER_START:
    case FPLAN_SERVER_STOP:
    case FPLAN_SERVER_CONT:
    case FPLAN_SERVER_RESTART:
        rc = apply_process(r, a, d, err, sizeof err);
        break;
    case FPLAN_NET_APPLY:
    case FPLAN_NET_LIFT: {
        int on = a->kind == FPLAN_NET_APPLY;
        uint64_t t_us = clock_mono_us();
        r->net_active[a->fault] = (unsigned char)on;
        rc = netfault_apply(&r->ns, r->s, r->net_active, a->fault, r->net_counts, err, sizeof err);
        json_object_set_new(d, "mechanism", json_string(netfault_mechanism(f)));
        json_object_set_new(d, "type", json_string(scenario_net_kind_str(f->net.kind)));
        json_object_set_new(d, "direction", json_string(scenario_direction_str(f->net.direction)));
        if (f->group)
            json_object_set_new(d, "group", json_string(f->group));
        json_object_set_new(d, "took_ms", json_real((double)(clock_mono_us() - t_us) / 1e3));
        if (rc == 0) {
            window_mark(r, a->fault, on ? "from_s" : "to_s");
            char at[160];
            orch_sfmt(at, sizeof at, "%s:%s", on ? "apply" : "lift", f->name);
            orch_net_sample(r, at, NULL, NULL);
        }
        break;
    }
    }
    if (rc < 0) {
        json_object_set_new(d, "error", json_string(err));
        orch_event(r, faultplan_kind_str(a->kind), d);
        orch_fail(r, "fault '%s' (%s) could not be applied: %s", f->name, faultplan_kind_str(a->kind), err);
        return -1;
    }
    orch_event(r, faultplan_kind_str(a->kind), d);
    return 0;
}

/* At the end of the run every fault still active is cleared, so that the
 * drain measures catching up, not the fault. */
void orch_faults_clear(run *r, const fplan_action *plan, size_t n)
{
    for (size_t i = 0; i < r->s->nfaults; i++) {
        const scn_fault *f = &r->s->faults[i];
        json_t *w = orch_faults_window(r, i);
        int active = json_object_get(w, "from_s") && !json_object_get(w, "to_s");
        json_t *on = json_object_get(w, "on");
        json_t *last = on ? json_array_get(on, json_array_size(on) - 1) : NULL;
        if (last && json_array_size(last) == 1)
            active = 1;
        if (!active)
            continue;
        fplan_action a = {.t_us = r->s->duration_us, .fault = i};
        if (f->kind == SCN_FAULT_TOXIC)
            a.kind = FPLAN_TOXIC_REMOVE;
        else if (f->kind == SCN_FAULT_SERVER_KILL)
            a.kind = FPLAN_SERVER_START;
        else if (f->kind == SCN_FAULT_SERVER_PAUSE)
            a.kind = FPLAN_SERVER_CONT;
        else if (f->kind == SCN_FAULT_NETWORK)
            a.kind = FPLAN_NET_LIFT;
        else
            continue;
        orch_faults_apply(r, &a);
    }
    (void)plan;
    (void)n;
}
