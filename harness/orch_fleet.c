/* orch_fleet.c — the client fleet's configuration, from the scenario's sections and the run (where to connect, TLS, namespaces, shards). */
#include "orch_int.h"

#include <string.h>

#include "prng.h"

int orch_fleet_setup(run *r, char *err, size_t errlen)
{
    const scenario *s = r->s;
    fleet_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    if (r->have_proxy) {
        orch_sfmt(cfg.client_addr.host, sizeof cfg.client_addr.host, "%s", r->have_netns ? NETNS_SERVER_ADDR : "127.0.0.1");
        cfg.client_addr.port = r->proxy_port;
    } else {
        orch_sfmt(cfg.client_addr.host, sizeof cfg.client_addr.host, "%s", r->up_host);
        cfg.client_addr.port = r->up_port;
        /* nodes without the proxy (proxy: false; a run bigger than one
         * proxy process holds): the clients spread over the nodes themselves */
        for (unsigned i = 0; r->nnodes > 1 && i < r->nnodes && i < FLEET_CLIENT_ADDRS_MAX; i++) {
            fleet_endpoint *e = &cfg.client_addrs[cfg.n_client_addrs++];
            orch_sfmt(e->host, sizeof e->host, "%s", r->up_host);
            e->port = r->node_port[i];
        }
    }
    orch_sfmt(cfg.path_prefix, sizeof cfg.path_prefix, "%s", r->prefix);
    orch_sfmt(cfg.publish_addr.host, sizeof cfg.publish_addr.host, "%s", r->up_host);
    cfg.publish_addr.port = r->up_port;
    if (s->server.redis_none) {
        /* nodes that share nothing: the publisher posts every event to
         * every node (how a deployment without a broker feeds its nodes) */
        for (unsigned i = 1; i < r->nnodes && cfg.n_publish_mirrors < FLEET_MIRRORS_MAX; i++) {
            fleet_endpoint *m = &cfg.publish_mirrors[cfg.n_publish_mirrors++];
            orch_sfmt(m->host, sizeof m->host, "%s", r->up_host);
            m->port = r->node_port[i];
        }
    }
    if (r->tls) {
        cfg.tls = 1;
        cfg.tls_insecure = s->target.insecure;
        orch_sfmt(cfg.tls_host, sizeof cfg.tls_host, "%s", r->up_host);
        if (s->target.ca)
            orch_sfmt(cfg.tls_ca, sizeof cfg.tls_ca, "%s", s->target.ca);
    }
    if (s->target.protocol)
        orch_sfmt(cfg.protocol, sizeof cfg.protocol, "%s", s->target.protocol);
    /* the adapter's settings from target: (NULL = the adapter's default) */
    proto_opts *po = &cfg.proto_opts;
    const struct {
        const char *from;
        char *to;
        size_t cap;
    } opts[] = {
        {s->target.sub_path, po->sub_path, sizeof po->sub_path},
        {s->target.pub_path, po->pub_path, sizeof po->pub_path},
        {s->target.resume_header, po->resume_header, sizeof po->resume_header},
        {s->target.resume_query, po->resume_query, sizeof po->resume_query},
        {s->target.payload, po->payload_path, sizeof po->payload_path},
        {s->target.pub_method, po->pub_method, sizeof po->pub_method},
        {s->target.pub_body, po->pub_body, sizeof po->pub_body},
        {s->target.sub_message, po->sub_message, sizeof po->sub_message},
        {s->target.resume_message, po->resume_message, sizeof po->resume_message},
        {s->target.offset, po->offset_path, sizeof po->offset_path},
        {s->target.ch_join, po->ch_join, sizeof po->ch_join},
        {s->target.pub_message, po->pub_message, sizeof po->pub_message},
        {s->target.ping_match, po->ping_match, sizeof po->ping_match},
        {s->target.pong_message, po->pong_message, sizeof po->pong_message},
        {s->target.ping_message, po->ping_message, sizeof po->ping_message},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].from)
            orch_sfmt(opts[i].to, opts[i].cap, "%s", opts[i].from);
    po->ping_interval_ms = (uint32_t)(s->target.ping_interval_us / 1000);
    if (scenario_expand_headers(s, cfg.proto_opts.headers, sizeof cfg.proto_opts.headers, err, errlen) < 0)
        return -1;
    if (s->target.protocol && strcmp(s->target.protocol, "pusher") == 0 &&
        scenario_pusher_credentials(s, po->app_id, sizeof po->app_id, po->key, sizeof po->key, po->secret,
                                    sizeof po->secret, err, errlen) < 0)
        return -1;
    cfg.channels.count = s->channels.count;
    orch_sfmt(cfg.channels.pattern, sizeof cfg.channels.pattern, "%s", s->channels.pattern);
    const scn_publishers *p = &s->publishers;
    cfg.pub.rate_per_s = p->rate_per_s;
    cfg.pub.schedule = p->schedule == SCN_SCHED_POISSON  ? FLEET_SCHED_POISSON
                       : p->schedule == SCN_SCHED_BURSTS ? FLEET_SCHED_BURSTS
                                                         : FLEET_SCHED_CONSTANT;
    cfg.pub.burst_size = p->burst_size;
    cfg.pub.burst_interval_ms = (uint32_t)(p->burst_every_us / 1000);
    cfg.pub.payload_bytes = p->payload_bytes;
    cfg.pub.payload = p->payload_fields ? FLEET_PAYLOAD_FIELDS : FLEET_PAYLOAD_STRING;
    cfg.pub.transport = p->transport == SCN_PUB_WS ? FLEET_PUB_WS : FLEET_PUB_HTTP;
    cfg.pub.batch_size = p->batch;
    cfg.pub.retries = p->idempotency_retries;
    cfg.pub.ack_timeout_ms = (uint32_t)(p->timeout_us / 1000);
    cfg.pub.connections = p->connections;
    cfg.pub.start_us = p->start_us;
    cfg.pub.until_us = r->warmup_us + r->s->duration_us;
    if (p->token) {
        if (strlen(p->token) >= sizeof cfg.pub.token) {
            orch_sfmt(err, errlen, "publishers.token is too long (at most %zu bytes)", sizeof cfg.pub.token - 1);
            return -1;
        }
        orch_sfmt(cfg.pub.token, sizeof cfg.pub.token, "%s", p->token);
    }
    if (s->nclients > FLEET_GROUPS_MAX) {
        orch_sfmt(err, errlen, "at most %d client groups", FLEET_GROUPS_MAX);
        return -1;
    }
    fleet_group_cfg groups[FLEET_GROUPS_MAX];
    memset(groups, 0, sizeof groups);
    for (size_t i = 0; i < s->nclients; i++) {
        const scn_client_group *g = &s->clients[i];
        fleet_group_cfg *fg = &groups[i];
        orch_sfmt(fg->name, sizeof fg->name, "%s", g->name);
        fg->count = g->count;
        fg->transport = g->transport == SCN_CL_SSE ? FLEET_SSE : g->transport == SCN_CL_POLL ? FLEET_POLL : FLEET_WS;
        for (unsigned k = 0; k < g->nfallback && k < 2; k++)
            fg->fallback[k] = g->fallback[k] == SCN_CL_SSE    ? FLEET_SSE
                              : g->fallback[k] == SCN_CL_POLL ? FLEET_POLL
                                                              : FLEET_WS;
        fg->n_fallback = g->nfallback < 2 ? g->nfallback : 2;
        fg->channels_per_client = g->channels_per_client;
        fg->ramp_up_ms = (uint32_t)(g->ramp_up_us / 1000);
        fg->read_rate_bytes_per_s = g->read_rate_bytes_per_s;
        fg->read_rate_msgs_per_s = g->read_rate_msgs_per_s;
        fg->reconnect.enabled = g->reconnect.enabled;
        fg->reconnect.initial_backoff_ms = (uint32_t)(g->reconnect.initial_us / 1000);
        fg->reconnect.max_backoff_ms = (uint32_t)(g->reconnect.max_us / 1000);
        fg->reconnect.jitter = g->reconnect.jitter;
        fg->reconnect.max_attempts = g->reconnect.max_attempts;
        fg->reconnect.honour_sse_retry = g->reconnect.honour_retry;
        fg->resume = g->resume;
        if (g->token) {
            if (strlen(g->token) >= sizeof fg->token) {
                orch_sfmt(err, errlen, "clients[%zu].token is too long (at most %zu bytes)", i, sizeof fg->token - 1);
                return -1;
            }
            orch_sfmt(fg->token, sizeof fg->token, "%s", g->token);
        }
        fg->connect_timeout_ms = (uint32_t)(g->connect_timeout_us / 1000);
        fg->idle_timeout_ms = (uint32_t)(g->idle_timeout_us / 1000);
        fg->poll_timeout_ms = (uint32_t)(g->poll_timeout_us / 1000);
        fg->deflate = (fleet_deflate)g->deflate;
        fg->batch = g->batch;
        fg->delta = g->delta;
        fg->behavior = g->behavior == SCN_BH_FLOOD       ? FLEET_FLOOD
                       : g->behavior == SCN_BH_OVERSIZED ? FLEET_OVERSIZED
                       : g->behavior == SCN_BH_SLOWLORIS ? FLEET_SLOWLORIS
                                                         : FLEET_SUBSCRIBER;
        const scn_attack *a = &g->attack;
        fg->attack.rate_per_s = a->rate_per_s;
        fg->attack.messages = a->messages;
        fg->attack.bytes = a->bytes;
        fg->attack.via_http = a->via_http;
        fg->attack.byte_every_ms = (uint32_t)(a->byte_every_us / 1000);
        fg->attack.patience_ms = (uint32_t)(a->patience_us / 1000);
        fg->attack.pause_ms = (uint32_t)(a->pause_us / 1000 ? a->pause_us / 1000 : 1);
        fg->attack.attempts = a->attempts;
        for (unsigned k = 0; k < a->n_expect && k < FLEET_EXPECT_MAX; k++)
            fg->attack.expect[k] = a->expect[k] == SCN_OUTCOME_CLOSED ? FLEET_OUTCOME_CLOSED : a->expect[k];
        fg->attack.n_expect = a->n_expect;
        if (r->have_netns)
            netns_group_addr((unsigned)i, fg->source_addr, sizeof fg->source_addr);
    }
    if (r->have_netns)
        orch_sfmt(cfg.client_netns, sizeof cfg.client_netns, "/run/netns/%s", r->ns.cli);
    cfg.groups = groups;
    cfg.n_groups = s->nclients;
    cfg.source_addrs = (const char *const *)s->harness.source_addrs;
    cfg.n_source_addrs = s->harness.nsource_addrs;
    cfg.threads = s->harness.threads;
    cfg.workers = r->o->workers ? r->o->workers : s->harness.workers;
    cfg.seed = prng_derive(r->seed, prng_hash_str("fleet"));
    cfg.shard_index = r->o->shard_index;
    cfg.shard_count = r->o->shard_count;
    cfg.anomalies_per_kind = s->harness.anomalies_per_kind;
    cfg.fresh_grace_ms = s->harness.fresh_grace_ms;
    return fleet_create(&cfg, &r->fl, err, errlen);
}
