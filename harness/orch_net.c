/* orch_net.c — one run's network namespaces (network: {namespaces: true}): made before anything starts, TCP figures sampled, counters read and removed at the end. */
#include "orch_int.h"

#include <stdio.h>
#include <stdlib.h>

/* How the parts sit with network: {namespaces: true} (docs/network.md):
 * this (the controlling) thread moves into the server side's namespace
 * before anything starts, so rtchaos-server and rtchaos-proxy, forked from
 * it, are born there, the publisher thread (created from it) publishes over
 * that namespace's own loopback path, and the proxy's API is reached on its
 * 127.0.0.1. Only the fleet's event-loop threads are created inside the
 * clients' namespace (fleet_cfg.client_netns), so every client connection
 * crosses the veth link where the kernel faults act, and publishing never
 * does. ip/nft/tc run as short children that setns() themselves. */

/* TCP figures of both namespaces now, appended to the run's samples; also
 * returned in *srv and *cli (new references) when those are not NULL. */
void orch_net_sample(run *r, const char *why, json_t **srv, json_t **cli)
{
    char err[256];
    json_t *a = netns_tcp_sample(r->ns.srv, err, sizeof err);
    json_t *b = a ? netns_tcp_sample(r->ns.cli, err, sizeof err) : NULL;
    if (!a || !b) {
        json_decref(a);
        orch_event(r, "tcp_sample_failed", json_pack("{s:s}", "error", err));
        return;
    }
    json_array_append_new(r->net_samples, json_pack("{s:f, s:s, s:O, s:O}", "t_s", orch_t_s(r), "at", why, "server", a,
                                                    "client", b));
    if (srv)
        *srv = json_incref(a);
    if (cli)
        *cli = json_incref(b);
    json_decref(a);
    json_decref(b);
}

/* Makes the namespaces and moves this thread to the server side. */
int orch_net_setup(run *r, char *err, size_t errlen)
{
    unsigned removed = 0;
    char e2[512];
    if (netns_clean_stale(&removed, e2, sizeof e2) < 0)
        orch_event(r, "netns_stale_cleanup_failed", json_pack("{s:s}", "error", e2));
    if (removed)
        orch_event(r, "netns_stale_removed", json_pack("{s:i}", "count", (int)removed));
    r->net_active = calloc(r->s->nfaults ? r->s->nfaults : 1, 1);
    r->net_counts = calloc(r->s->nfaults ? r->s->nfaults : 1, sizeof *r->net_counts);
    r->net_samples = json_array();
    if (!r->net_active || !r->net_counts) {
        orch_sfmt(err, errlen, "out of memory");
        return -1;
    }
    r->have_netns = 1;
    if (netns_create(&r->ns, (unsigned)r->s->nclients, err, errlen) < 0 || netns_enter_server(&r->ns, err, errlen) < 0)
        return -1;
    orch_event(r, "netns_created", json_pack("{s:s, s:s, s:s, s:s, s:s}", "server_ns", r->ns.srv, "client_ns", r->ns.cli,
                                        "server_if", r->ns.srv_if, "client_if", r->ns.cli_if, "server_addr",
                                        NETNS_SERVER_ADDR));
    return 0;
}

void orch_net_teardown(run *r)
{
    char err[512];
    if (!r->have_netns)
        return;
    if (r->ns.created) {
        if (netfault_read_counters(&r->ns, r->s->nfaults, r->net_counts, err, sizeof err) < 0)
            orch_event(r, "nft_counters_unavailable", json_pack("{s:s}", "error", err));
        if (r->tcp_first[0] && !r->tcp_last[0])
            orch_net_sample(r, "end", &r->tcp_last[0], &r->tcp_last[1]);
    }
    if (netns_destroy(&r->ns, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: network namespaces: %s\n", err);
        orch_event(r, "netns_remove_failed", json_pack("{s:s}", "error", err));
    } else
        orch_event(r, "netns_removed", json_pack("{s:s, s:s}", "server_ns", r->ns.srv, "client_ns", r->ns.cli));
}
