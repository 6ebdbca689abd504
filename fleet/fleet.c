/* fleet.c — the fleet in one process: create it, run its clients on this process's threads, tally, stop and report them (fleet_ctl.c adds the worker processes on top). */
#include "fleet_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <event2/thread.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "envelope.h"
#include "report_merge.h"
#include "tmpl.h"

static int resolve(const fleet_endpoint *e, struct sockaddr_in *sa, const char *what, char *err,
                   size_t errlen)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(e->port);
    if (e->port == 0) {
        snprintf(err, errlen, "%s: port is 0", what);
        return -1;
    }
    if (inet_pton(AF_INET, e->host, &sa->sin_addr) == 1)
        return 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int r = getaddrinfo(e->host, NULL, &hints, &res);
    if (r != 0 || !res) {
        snprintf(err, errlen, "%s: cannot resolve '%s': %s", what, e->host, gai_strerror(r));
        return -1;
    }
    sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

static char *make_name(const char *pattern, uint32_t i)
{
    char num[16];
    snprintf(num, sizeof num, "%u", i);
    size_t n = strlen(pattern) + strlen(num) + 8;
    char *s = malloc(n);
    if (!s)
        return NULL;
    const tmpl_var v = {"i", num, TMPL_STRLEN, TMPL_RAW, 1};
    if (strstr(pattern, "{i}"))
        tmpl_expand(pattern, &v, 1, s, n); /* fits: the name is the pattern with {i} → num */
    else
        snprintf(s, n, "%s.%s", pattern, num);
    return s;
}

static const char *tr_name(fleet_transport t)
{
    return t == FLEET_WS ? "ws" : t == FLEET_SSE ? "sse" : "poll";
}

/* What the chosen protocol can do, against what the groups and the
 * publisher ask of it. */
static int check_protocol(fleet *f, char *err, size_t errlen)
{
    const char *name = f->cfg.protocol[0] ? f->cfg.protocol : "v1";
    f->proto = proto_find(name);
    if (!f->proto) {
        snprintf(err, errlen, "protocol '%s': unknown (known: %s)", name, proto_names());
        return -1;
    }
    const proto *p = f->proto;
    if (f->cfg.n_publish_mirrors && (p->server_seq || f->cfg.pub.transport != FLEET_PUB_HTTP)) {
        /* independent servers number one event differently: only the
         * publisher's record can be checked across them */
        snprintf(err, errlen, "publish mirrors need a protocol judged by the publisher's record and HTTP "
                 "publishing (not %s over %s)", p->name, f->cfg.pub.transport == FLEET_PUB_HTTP ? "http" : "ws");
        return -1;
    }
    /* a WebSocket publish (ws-json pub_message) needs no publish location */
    int ws_pub = f->cfg.pub.transport == FLEET_PUB_WS && f->cfg.proto_opts.pub_message[0];
    if (!p->server_seq && ((!p->def_sub_path[0] && !f->cfg.proto_opts.sub_path[0]) ||
                           (!p->def_pub_path[0] && !f->cfg.proto_opts.pub_path[0] && !ws_pub))) {
        snprintf(err, errlen, "protocol %s: sub_path and pub_path are required (no default locations)", p->name);
        return -1;
    }
    if (p == &proto_ws_json) {
        static const char *const sf[] = {"ch", "offset"}, *const sneed[] = {"ch"}, *const rneed[] = {"ch", "offset"};
        if (!f->cfg.proto_opts.sub_message[0]) {
            snprintf(err, errlen, "protocol %s: sub_message is required", p->name);
            return -1;
        }
        if (proto_check_template("sub_message", f->cfg.proto_opts.sub_message, sf, 1, sneed, 1, err, errlen) < 0)
            return -1;
        if (f->cfg.proto_opts.resume_message[0] &&
            (proto_check_template("resume_message", f->cfg.proto_opts.resume_message, sf, 2, rneed, 2, err, errlen) <
                 0 ||
             !f->cfg.proto_opts.offset_path[0])) {
            if (!f->cfg.proto_opts.offset_path[0])
                snprintf(err, errlen, "resume_message needs offset (where the server's offset sits)");
            return -1;
        }
    }
    if (f->cfg.proto_opts.pub_body[0]) {
        static const char *const fields[] = {"payload", "ch"}, *const need[] = {"payload"};
        if (proto_check_template("pub_body", f->cfg.proto_opts.pub_body, fields, 2, need, 1, err, errlen) < 0)
            return -1;
    }
    if (!p->server_seq) {
        if (f->cfg.proto_opts.sub_path[0] &&
            (p->sub_path_ch ? proto_check_path("sub_path", f->cfg.proto_opts.sub_path, err, errlen)
                            : proto_check_plain_path("sub_path", f->cfg.proto_opts.sub_path, err, errlen)) < 0)
            return -1;
        if (f->cfg.proto_opts.pub_path[0] &&
            proto_check_path("pub_path", f->cfg.proto_opts.pub_path, err, errlen) < 0)
            return -1;
    }
    for (size_t g = 0; g < f->cfg.n_groups; g++) {
        const fleet_group_cfg *gc = &f->groups[g];
        if ((gc->batch || gc->delta) && p != &proto_v1) {
            snprintf(err, errlen, "groups[%zu]: %s is a capability of wire contract v1 (docs/wire-contract.md "
                     "4.1), not of protocol %s", g, gc->batch ? "batch" : "delta", p->name);
            return -1;
        }
        if (gc->behavior != FLEET_SUBSCRIBER && p != &proto_v1) {
            snprintf(err, errlen, "groups[%zu]: behavior %s speaks contract v1 only, not %s", g,
                     fleet_behavior_str(gc->behavior), p->name);
            return -1;
        }
        fleet_transport trs[3] = {gc->transport, gc->fallback[0], gc->fallback[1]};
        for (uint32_t k = 0; k <= gc->n_fallback && k < 3; k++)
            if (!(p->transports & (1u << trs[k]))) {
                snprintf(err, errlen, "groups[%zu]: protocol %s has no %s transport", g, p->name, tr_name(trs[k]));
                return -1;
            }
        /* a templated SSE stream carries several channels with a joiner */
        int joined = p == &proto_sse && f->cfg.proto_opts.ch_join[0];
        if (p->max_channels_per_conn && !joined && gc->channels_per_client > p->max_channels_per_conn) {
            snprintf(err, errlen, "groups[%zu]: protocol %s subscribes %u channel(s) per connection, not %u", g,
                     p->name, p->max_channels_per_conn, gc->channels_per_client);
            return -1;
        }
    }
    f->resume_none = !p->server_seq && (p->resume == PROTO_RESUME_NONE ||
                                        (p == &proto_ws_json && !f->cfg.proto_opts.resume_message[0]));
    if (f->cfg.pub.transport == FLEET_PUB_WS && !p->server_seq && !f->cfg.proto_opts.pub_message[0]) {
        snprintf(err, errlen, "publisher: protocol %s publishes over WebSocket only with a pub_message template", p->name);
        return -1;
    }
    if (f->cfg.pub.transport == FLEET_PUB_WS && !p->pub_ws) {
        snprintf(err, errlen, "publisher: protocol %s does not publish over WebSocket (use http)", p->name);
        return -1;
    }
    if (f->cfg.pub.batch_size > 1 && !p->pub_batch) {
        snprintf(err, errlen, "publisher: protocol %s takes one event per publish request (batch 1)", p->name);
        return -1;
    }
    return 0;
}

int fleet_create(const fleet_cfg *cfg, fleet **out, char *err, size_t errlen)
{
    *out = NULL;
    fleet *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->cfg = *cfg;
    f->cfg.groups = NULL;
    f->cfg.source_addrs = NULL;
    f->cfg.channels.names = NULL;
    f->n_workers = 1;
    pthread_mutex_init(&f->status_mu, NULL);
    f->status_mu_init = 1;
    if (resolve(&cfg->client_addr, &f->client_sa, "client address", err, errlen) < 0 ||
        resolve(&cfg->publish_addr, &f->pub_sa, "publish address", err, errlen) < 0)
        goto fail;
    if (cfg->n_publish_mirrors > FLEET_MIRRORS_MAX) {
        snprintf(err, errlen, "at most %d publish mirrors", FLEET_MIRRORS_MAX);
        goto fail;
    }
    for (unsigned i = 0; i < cfg->n_publish_mirrors; i++)
        if (resolve(&cfg->publish_mirrors[i], &f->mirror_sa[i], "publish mirror", err, errlen) < 0)
            goto fail;
    if (cfg->n_client_addrs > FLEET_CLIENT_ADDRS_MAX) {
        snprintf(err, errlen, "at most %d client addresses", FLEET_CLIENT_ADDRS_MAX);
        goto fail;
    }
    for (unsigned i = 0; i < cfg->n_client_addrs; i++)
        if (resolve(&cfg->client_addrs[i], &f->client_sas[i], "client address", err, errlen) < 0)
            goto fail;
    f->n_client_sas = cfg->n_client_addrs;
    snprintf(f->host_hdr, sizeof f->host_hdr, "%s:%u", cfg->client_addr.host, cfg->client_addr.port);
    if (cfg->tls && fl_tls_ctx_new(cfg->tls_ca, cfg->tls_insecure, &f->tls, err, errlen) < 0)
        goto fail;
    uint32_t shards = cfg->shard_count ? cfg->shard_count : 1;
    if (cfg->shard_count > 1 && cfg->shard_index >= cfg->shard_count) {
        snprintf(err, errlen, "shard %u/%u: index must be below the count", cfg->shard_index,
                 cfg->shard_count);
        goto fail;
    }
    /* channels: all names first, then this shard's slice */
    uint32_t total = cfg->channels.names ? (uint32_t)cfg->channels.n_names : cfg->channels.count;
    if (total == 0) {
        snprintf(err, errlen, "channels: none (give names or a count)");
        goto fail;
    }
    if (total < shards) {
        snprintf(err, errlen, "channels: %u channels cannot be split over %u shards", total, shards);
        goto fail;
    }
    f->ch_names = calloc(total, sizeof *f->ch_names);
    if (!f->ch_names) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < total; i++) {
        if (cfg->shard_count > 1 && i % cfg->shard_count != cfg->shard_index)
            continue;
        char *name = cfg->channels.names ? strdup(cfg->channels.names[i])
                                         : make_name(cfg->channels.pattern[0] ? cfg->channels.pattern : "ch{i}", i);
        if (!name) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        f->ch_names[f->n_ch++] = name;
        if (!envelope_channel_valid(name, strlen(name))) {
            snprintf(err, errlen, "channels: name '%s' is invalid (1..%d of [A-Za-z0-9._:-], no '..')",
                     name, ENV_CH_MAX);
            goto fail;
        }
    }
    /* groups */
    if (cfg->n_groups == 0 || cfg->n_groups > FLEET_GROUPS_MAX) {
        snprintf(err, errlen, "groups: need 1..%d client groups, got %zu", FLEET_GROUPS_MAX, cfg->n_groups);
        goto fail;
    }
    f->groups = calloc(cfg->n_groups, sizeof *f->groups);
    if (!f->groups) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t g = 0; g < cfg->n_groups; g++) {
        fleet_group_cfg *gc = &f->groups[g];
        *gc = cfg->groups[g];
        if (gc->transport > FLEET_POLL) {
            snprintf(err, errlen, "groups[%zu]: unknown transport", g);
            goto fail;
        }
        if (gc->n_fallback > 2 || (gc->n_fallback && gc->behavior != FLEET_SUBSCRIBER)) {
            snprintf(err, errlen, "groups[%zu]: at most 2 fallback transports, for subscribers only", g);
            goto fail;
        }
        for (uint32_t k = 0; k < gc->n_fallback; k++)
            if (gc->fallback[k] > FLEET_POLL) {
                snprintf(err, errlen, "groups[%zu]: unknown fallback transport", g);
                goto fail;
            }
        if (gc->channels_per_client == 0)
            gc->channels_per_client = 1;
        if (gc->channels_per_client > f->n_ch) {
            snprintf(err, errlen, "groups[%zu]: %u channels per client but only %u channels", g,
                     gc->channels_per_client, f->n_ch);
            goto fail;
        }
        if (gc->channels_per_client > 64) {
            snprintf(err, errlen, "groups[%zu]: at most 64 channels per client", g);
            goto fail;
        }
        if (gc->connect_timeout_ms == 0)
            gc->connect_timeout_ms = 5000;
        if (gc->behavior > FLEET_SLOWLORIS) {
            snprintf(err, errlen, "groups[%zu]: unknown behavior", g);
            goto fail;
        }
        if ((gc->behavior == FLEET_FLOOD || (gc->behavior == FLEET_OVERSIZED && !gc->attack.via_http)) &&
            gc->transport != FLEET_WS) {
            snprintf(err, errlen, "groups[%zu]: behavior %s needs transport ws", g, fleet_behavior_str(gc->behavior));
            goto fail;
        }
        if (gc->attack.bytes > (64u << 20)) {
            snprintf(err, errlen, "groups[%zu]: attack bytes above 64 MiB", g);
            goto fail;
        }
        if (gc->reconnect.jitter < 0 || gc->reconnect.jitter > 1) {
            snprintf(err, errlen, "groups[%zu]: reconnect jitter must be within 0..1", g);
            goto fail;
        }
        f->n_clients += gc->count / shards + (gc->count % shards > (cfg->shard_count > 1 ? cfg->shard_index : 0));
    }
    if (check_protocol(f, err, errlen) < 0)
        goto fail;
    /* publisher */
    if (cfg->pub.rate_per_s < 0 || (cfg->pub.schedule == FLEET_SCHED_BURSTS && cfg->pub.burst_interval_ms == 0 &&
                                    cfg->pub.rate_per_s > 0)) {
        snprintf(err, errlen, "publisher: bursts need burst_interval_ms > 0");
        goto fail;
    }
    if (cfg->pub.transport != FLEET_PUB_HTTP && cfg->pub.transport != FLEET_PUB_WS) {
        snprintf(err, errlen, "publisher: unknown transport");
        goto fail;
    }
    /* source addresses */
    if (cfg->n_source_addrs > FLEET_SRC_MAX) {
        snprintf(err, errlen, "source addresses: at most %d", FLEET_SRC_MAX);
        goto fail;
    }
    if (cfg->n_source_addrs) {
        f->src = calloc(cfg->n_source_addrs, sizeof *f->src);
        if (!f->src) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < cfg->n_source_addrs; i++) {
            if (inet_pton(AF_INET, cfg->source_addrs[i], &f->src[i]) != 1) {
                snprintf(err, errlen, "source address '%s' is not a numeric IPv4 address",
                         cfg->source_addrs[i]);
                goto fail;
            }
        }
        f->n_src = cfg->n_source_addrs;
    }
    if (cfg->threads > 64 || cfg->workers > 64) {
        snprintf(err, errlen, "at most 64 threads and 64 workers");
        goto fail;
    }
    f->group_clients = calloc(cfg->n_groups, sizeof *f->group_clients);
    f->gs_total = calloc(cfg->n_groups, sizeof *f->gs_total);
    f->at_total = calloc(cfg->n_groups, sizeof *f->at_total);
    if (!f->group_clients || !f->gs_total || !f->at_total) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t g = 0; g < cfg->n_groups; g++) {
        if (f->groups[g].behavior != FLEET_SUBSCRIBER && fleet_attack_tally_init(&f->at_total[g]) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    f->acked_head = calloc(f->n_ch, sizeof *f->acked_head);
    f->final_head = calloc(f->n_ch, sizeof *f->final_head);
    f->publog = calloc(f->n_ch, sizeof *f->publog);
    if (!f->acked_head || !f->final_head || !f->publog) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    *out = f;
    return 0;
fail:
    fleet_local_free(f); /* nothing started yet: no workers, no threads */
    return -1;
}

/* Creates this process's clients (those of worker f->worker_idx) on its
 * threads. */
static int place_clients(fleet *f, char *err, size_t errlen)
{
    uint32_t shards = f->cfg.shard_count > 1 ? f->cfg.shard_count : 1;
    uint32_t shard = f->cfg.shard_count > 1 ? f->cfg.shard_index : 0;
    uint32_t gid = 0;      /* global client id over all groups */
    uint64_t local = 0;    /* index among this shard's clients */
    uint32_t chs[64];
    for (size_t g = 0; g < f->cfg.n_groups; g++) {
        const fleet_group_cfg *gc = &f->groups[g];
        uint64_t k_in_group = 0;
        uint64_t n_in_group = gc->count / shards + (gc->count % shards > shard);
        for (uint32_t k = 0; k < gc->count; k++, gid++) {
            if (gid % shards != shard)
                continue;
            uint64_t li = local++;
            uint64_t kg = k_in_group++;
            if (li % f->n_workers != f->worker_idx)
                continue;
            for (uint32_t j = 0; j < gc->channels_per_client; j++)
                chs[j] = (uint32_t)((li * gc->channels_per_client + j) % f->n_ch);
            uint32_t delay = n_in_group ? (uint32_t)((uint64_t)gc->ramp_up_ms * kg / n_in_group) : 0;
            fl_thread *t = f->th[(li / f->n_workers) % f->n_th];
            int rc = gc->behavior != FLEET_SUBSCRIBER
                         ? fl_attack_add(t, gid, (uint16_t)g, chs[0], delay, err, errlen)
                         : fl_client_add(t, gid, (uint16_t)g, chs, (uint16_t)gc->channels_per_client, delay, err,
                                         errlen);
            if (rc < 0)
                return -1;
            f->n_local++;
            f->group_clients[g]++;
        }
    }
    return 0;
}

int fleet_start_local(fleet *f, char *err, size_t errlen)
{
    f->n_th = f->cfg.threads ? f->cfg.threads : 1;
    f->th = calloc(f->n_th, sizeof *f->th);
    if (!f->th) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < f->n_th; i++) {
        f->th[i] = calloc(1, sizeof(fl_thread));
        if (!f->th[i] || fl_thread_init(f->th[i], f, i, err, errlen) < 0)
            return -1;
    }
    if (place_clients(f, err, errlen) < 0)
        return -1;
    if (!f->is_child) {
        if (fl_pub_new(f, &f->pub, err, errlen) < 0 || fl_pub_start(f->pub, err, errlen) < 0)
            return -1;
    }
    /* Clients in another network namespace: setns() moves only the calling
     * thread, and a thread starts in its creator's namespace. So this
     * thread steps in, creates the loop threads (every socket they open is
     * then born in the clients' namespace), and steps back; the publisher
     * above stays where the caller is (the server's side). */
    int prev_ns = -1;
    if (f->cfg.client_netns[0]) {
        int ns = open(f->cfg.client_netns, O_RDONLY | O_CLOEXEC);
        prev_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (ns < 0 || prev_ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
            snprintf(err, errlen, "cannot enter the clients' network namespace %s: %s", f->cfg.client_netns,
                     strerror(errno));
            if (ns >= 0)
                close(ns);
            if (prev_ns >= 0)
                close(prev_ns);
            return -1;
        }
        close(ns);
    }
    int rc = 0;
    for (unsigned i = 0; i < f->n_th && rc == 0; i++) {
        if (pthread_create(&f->th[i]->th, NULL, fl_thread_main, f->th[i]) != 0) {
            snprintf(err, errlen, "cannot start fleet thread %u", i);
            rc = -1;
            break;
        }
        f->th[i]->running = 1;
    }
    if (prev_ns >= 0) {
        if (setns(prev_ns, CLONE_NEWNET) < 0 && rc == 0) {
            snprintf(err, errlen, "cannot leave the clients' network namespace: %s", strerror(errno));
            rc = -1;
        }
        close(prev_ns);
    }
    return rc;
}

void fleet_local_status(fleet *f, fleet_status *o, uint32_t *lat)
{
    for (unsigned i = 0; i < f->n_th; i++) {
        fl_thread *t = f->th[i];
        o->connected += FL_GET(&t->n.connected);
        o->delivered += FL_GET(&t->n.delivered);
        o->anomalies += FL_GET(&t->n.anomalies);
        o->reconnects += FL_GET(&t->n.reconnects);
        o->errors += FL_GET(&t->n.errors);
        for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
            lat[b] += __atomic_load_n(&t->chk.status_lat[b], __ATOMIC_RELAXED);
    }
}

/* ---- live metrics ------------------------------------------------------------------------- */

/* Wide enough for a scrape every few seconds to place p95/p99 of anything
 * from a loopback run (sub-millisecond) to a run under fault (seconds). */
const uint64_t fleet_lat_bounds_us[FLEET_LAT_BOUNDS] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000};

_Static_assert(FLEET_TRANSPORTS == FLEET_POLL + 1, "fleet_transport and FLEET_TRANSPORTS disagree");
_Static_assert(FLEET_ANOMALY_KINDS == CHK_KINDS, "checker kinds and FLEET_ANOMALY_KINDS disagree");

const char *fleet_transport_name(fleet_transport t)
{
    return t == FLEET_WS ? "ws" : t == FLEET_SSE ? "sse" : t == FLEET_POLL ? "poll" : "unknown";
}

const char *fleet_anomaly_kind_name(unsigned k)
{
    return chk_kind_str((chk_kind)k);
}

/* Adds one thread's (or the final totals') group tallies into o's groups. */
static void live_groups_add(fleet *f, fleet_live *o, const fl_group_stats *gs)
{
    for (size_t g = 0; g < o->n_groups; g++) {
        fleet_live_group *d = &o->g[g];
        const fl_group_stats *s = &gs[g];
        for (int k = 0; k < FLEET_TRANSPORTS; k++)
            d->connected[k] += FL_GET(&s->connected[k]);
        d->delivered += FL_GET(&s->delivered);
        d->live += FL_GET(&s->live);
        for (int k = 0; k < CHK_KINDS; k++)
            d->anomalies[k] += FL_GET(&s->kind[k]);
        d->resync_ok += FL_GET(&s->resync_ok);
        d->reconnects += FL_GET(&s->reconnects);
        d->fallbacks += FL_GET(&s->fallbacks);
    }
    (void)f;
}

void fleet_local_live(fleet *f, fleet_live *o, uint32_t *lat)
{
    if (!f->stopped) {
        for (unsigned i = 0; i < f->n_th; i++) {
            fl_thread *t = f->th[i];
            live_groups_add(f, o, t->gs);
            o->missing_now += FL_GET(&t->n.missing_now);
            o->snapshots += FL_GET(&t->n.snapshots);
            o->gaps += FL_GET(&t->n.gaps);
            o->errors += FL_GET(&t->n.errors);
            o->connects_failed += FL_GET(&t->n.connects_failed);
            o->gave_up += FL_GET(&t->n.gave_up);
            o->stalls += FL_GET(&t->n.stalls);
            uint64_t m = FL_GET(&t->n.stall_max_us);
            if (m > o->stall_max_us)
                o->stall_max_us = m;
            o->lat_sum_us += FL_GET(&t->chk.status_lat_sum_us);
            for (int k = 0; k < FLEET_TRANSPORTS; k++) {
                o->rx_bytes[k] += FL_GET(&t->n.rx_bytes[k]);
                o->tx_bytes[k] += FL_GET(&t->n.tx_bytes[k]);
            }
            for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
                lat[b] += __atomic_load_n(&t->chk.status_lat[b], __ATOMIC_RELAXED);
        }
    } else if (f->have_total) {
        live_groups_add(f, o, f->gs_total);
        o->missing_now += f->total.n.missing_now;
        o->snapshots += f->total.n.snapshots;
        o->gaps += f->total.n.gaps;
        o->errors += f->final_errors;
        o->connects_failed += f->connect_failures;
        o->gave_up += f->gave_up;
        o->stalls += f->stalls;
        if (f->stall_max_us > o->stall_max_us)
            o->stall_max_us = f->stall_max_us;
        o->lat_sum_us += f->total.status_lat_sum_us;
        for (int k = 0; k < FLEET_TRANSPORTS; k++) {
            o->rx_bytes[k] += f->rx_bytes[k];
            o->tx_bytes[k] += f->tx_bytes[k];
        }
        for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
            lat[b] += f->total.status_lat[b];
    }
}

int fleet_local_caught_up(fleet *f)
{
    for (unsigned i = 0; i < f->n_th; i++)
        if (!FL_GET(&f->th[i]->n.caught_up))
            return 0;
    return 1;
}

uint64_t fleet_local_cut(fleet *f, double fraction)
{
    if (f->stopped || fraction <= 0)
        return 0;
    uint64_t total = 0;
    for (unsigned i = 0; i < f->n_th; i++) {
        fl_thread *t = f->th[i];
        pthread_mutex_lock(&t->mu);
        uint64_t gen = t->cmd_cut_gen, before = t->cmd_cut_done;
        pthread_mutex_unlock(&t->mu);
        fl_thread_post(t, fraction, 0, 0);
        pthread_mutex_lock(&t->mu);
        uint64_t end = clock_mono_us() + 2000000u;
        while (t->cmd_cut_gen == gen && clock_mono_us() < end) {
            clock_cond_wait_us(&t->cond, &t->mu, 50000);
        }
        total += t->cmd_cut_done - before;
        pthread_mutex_unlock(&t->mu);
    }
    return total;
}

void fleet_local_end_publishing(fleet *f)
{
    if (f->stopped_pub)
        return;
    /* no drain: what is acknowledged now is the final head */
    f->stopped_pub = 1;
    if (f->pub)
        fl_pub_finish(f->pub, 0);
    else
        __atomic_store_n(&f->heads_final, 1, __ATOMIC_RELEASE);
}

void fleet_local_stop(fleet *f)
{
    pthread_mutex_lock(&f->status_mu);
    __atomic_store_n(&f->stopped, 1, __ATOMIC_RELEASE);
    char err[256];
    if (chk_ctx_init(&f->total, f->t0_mono_us, f->cfg.anomalies_per_kind, err, sizeof err) == 0)
        f->have_total = 1;
    for (unsigned i = 0; i < f->n_th; i++) {
        fl_thread *t = f->th[i];
        if (t->running) {
            fl_thread_post(t, 0, 0, 1);
            pthread_join(t->th, NULL);
            t->running = 0;
        }
        fl_thread_finalize(t);
        f->final_reconnects += t->n.reconnects;
        f->final_errors += t->n.errors;
        f->connect_failures += t->n.connects_failed;
        f->gave_up += t->n.gave_up;
        f->fallbacks += t->n.fallbacks;
        f->resync_signalled += t->n.resync_signalled;
        f->missed_by_design += t->n.missed_by_design;
        f->not_caught_up += t->n.not_caught_up;
        f->stalls += t->n.stalls;
        for (int k = 0; k < FLEET_TRANSPORTS; k++) {
            f->rx_bytes[k] += t->n.rx_bytes[k];
            f->tx_bytes[k] += t->n.tx_bytes[k];
            f->open_us[k] += t->n.open_us[k];
            f->delivered_tr[k] += t->n.delivered_tr[k];
            f->hs_rx_bytes[k] += t->n.hs_rx_bytes[k];
        }
        if (t->n.stall_max_us > f->stall_max_us)
            f->stall_max_us = t->n.stall_max_us;
        if (f->have_total)
            chk_ctx_merge(&f->total, &t->chk, err, sizeof err);
        for (size_t g = 0; g < f->cfg.n_groups; g++) {
            fl_group_stats *d = &f->gs_total[g], *s2 = &t->gs[g];
            d->delivered += s2->delivered;
            d->live += s2->live;
            d->resync_ok += s2->resync_ok;
            d->fallbacks += s2->fallbacks;
            d->resync_signalled += s2->resync_signalled;
            d->missed_by_design += s2->missed_by_design;
            d->reconnects += s2->reconnects;
            for (int k = 0; k < CHK_KINDS; k++)
                d->kind[k] += s2->kind[k];
            for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
                d->lat[b] += s2->lat[b];
            if (f->groups[g].behavior != FLEET_SUBSCRIBER)
                fleet_attack_tally_merge(&f->at_total[g], &t->at[g]);
        }
        if (!f->error_reasons)
            f->error_reasons = json_object();
        for (unsigned k = 0; k < t->n_reasons; k++) {
            json_t *v = json_object_get(f->error_reasons, t->reasons[k].why);
            json_object_set_new(f->error_reasons, t->reasons[k].why,
                                json_integer(json_integer_value(v) + (json_int_t)t->reasons[k].n));
        }
    }
    if (f->pub && f->have_total)
        fl_pub_results(f->pub, &f->total);
    pthread_mutex_unlock(&f->status_mu);
}

/* ---- report ------------------------------------------------------------------------------- */

static json_t *hist_part(const hist *h)
{
    json_t *j = hist_summary_json(h);
    if (j)
        json_object_set_new(j, "hist", hist_to_json(h));
    return j;
}

int fleet_local_report(fleet *f, json_t *report, char *err, size_t errlen)
{
    if (!f->have_total) {
        snprintf(err, errlen, "fleet: no results (not started, or not stopped yet)");
        return -1;
    }
    const chk_ctx *c = &f->total;
    json_t *tot = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
        "clients", (json_int_t)(f->w ? 0 : f->is_child ? f->n_local : f->n_clients),
        "published", (json_int_t)f->published,
        "delivered", (json_int_t)c->n.delivered,
        "expected", (json_int_t)c->n.expected,
        "lost", (json_int_t)c->n.kind[CHK_LOST],
        "duplicated", (json_int_t)c->n.kind[CHK_DUPLICATED],
        "reordered", (json_int_t)c->n.kind[CHK_REORDERED],
        "resync_ok", (json_int_t)c->n.resync_ok,
        "resync_failed", (json_int_t)c->n.kind[CHK_RESYNC_FAILED],
        "epoch_changed", (json_int_t)c->n.kind[CHK_EPOCH_CHANGED],
        "snapshots", (json_int_t)c->n.snapshots,
        "gaps", (json_int_t)c->n.gaps,
        "reconnects", (json_int_t)f->final_reconnects,
        "errors", (json_int_t)(f->final_errors + f->publish_errors),
        "not_caught_up", (json_int_t)f->not_caught_up,
        "replayed", (json_int_t)c->n.replayed,
        "live", (json_int_t)c->n.live);
    json_object_set_new(tot, "publish_failed", json_integer((json_int_t)f->publish_failed));
    json_object_set_new(tot, "publish_retries", json_integer((json_int_t)f->publish_retries));
    json_object_set_new(tot, "stream_resets", json_integer((json_int_t)f->publish_generations));
    json_object_set_new(tot, "connect_failures", json_integer((json_int_t)f->connect_failures));
    json_object_set_new(tot, "gave_up", json_integer((json_int_t)f->gave_up));
    json_object_set_new(tot, "fallbacks", json_integer((json_int_t)f->fallbacks));
    /* resumes the server refused and said so (protocols that signal it:
     * Socket.IO's new sid); their holes are not `lost` */
    json_object_set_new(tot, "resync_signalled", json_integer((json_int_t)f->resync_signalled));
    /* protocols that promise no resume: what was published while a client
     * was away, never delivered and not owed */
    json_object_set_new(tot, "missed_by_design", json_integer((json_int_t)f->missed_by_design));
    json_object_set_new(tot, "delta_mismatch", json_integer((json_int_t)c->n.kind[CHK_DELTA_MISMATCH]));
    json_object_set_new(tot, "corrupted", json_integer((json_int_t)c->n.kind[CHK_CORRUPTED]));
    json_object_set_new(tot, "misrouted", json_integer((json_int_t)c->n.kind[CHK_MISROUTED]));
    json_object_set_new(tot, "ts_altered", json_integer((json_int_t)c->n.kind[CHK_TS_ALTERED]));
    json_object_set_new(tot, "harness_stalls", json_integer((json_int_t)f->stalls));
    json_object_set_new(tot, "harness_stall_max_us", json_integer((json_int_t)f->stall_max_us));
    json_object_set_new(tot, "errors_by_reason", f->error_reasons ? json_deep_copy(f->error_reasons) : json_object());
    /* bytes on the wire (subscribers; framing, heartbeats, handshakes included) */
    uint64_t rx = 0, tx = 0, open_us = 0, hs = 0;
    json_t *brx = json_object(), *btx = json_object(), *bop = json_object(), *bdl = json_object(),
           *bhs = json_object();
    for (int k = 0; k < FLEET_TRANSPORTS; k++) {
        rx += f->rx_bytes[k];
        tx += f->tx_bytes[k];
        hs += f->hs_rx_bytes[k];
        open_us += f->open_us[k];
        if (!f->rx_bytes[k] && !f->tx_bytes[k] && !f->open_us[k])
            continue;
        const char *tn = fleet_transport_name((fleet_transport)k);
        json_object_set_new(brx, tn, json_integer((json_int_t)f->rx_bytes[k]));
        json_object_set_new(btx, tn, json_integer((json_int_t)f->tx_bytes[k]));
        json_object_set_new(bop, tn, json_integer((json_int_t)(f->open_us[k] / 1000)));
        json_object_set_new(bdl, tn, json_integer((json_int_t)f->delivered_tr[k]));
        json_object_set_new(bhs, tn, json_integer((json_int_t)f->hs_rx_bytes[k]));
    }
    json_object_set_new(tot, "bytes_rx", json_integer((json_int_t)rx));
    json_object_set_new(tot, "bytes_tx", json_integer((json_int_t)tx));
    json_object_set_new(tot, "client_open_ms", json_integer((json_int_t)(open_us / 1000)));
    json_object_set_new(tot, "bytes_rx_by_transport", brx);
    json_object_set_new(tot, "bytes_tx_by_transport", btx);
    json_object_set_new(tot, "client_open_ms_by_transport", bop);
    json_object_set_new(tot, "delivered_by_transport", bdl);
    json_object_set_new(tot, "bytes_rx_handshake", json_integer((json_int_t)hs));
    json_object_set_new(tot, "bytes_rx_handshake_by_transport", bhs);
    json_object_set(report, "totals", tot);
    json_decref(tot);
    if (rmerge_wire(report) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    json_t *groups = json_object();
    for (size_t g = 0; g < f->cfg.n_groups; g++) {
        const fl_group_stats *gs = &f->gs_total[g];
        json_t *o = json_pack("{s:I,s:I,s:I,s:I}", "clients", (json_int_t)(f->w ? 0 : f->group_clients[g]),
                              "delivered", (json_int_t)gs->delivered, "live", (json_int_t)gs->live,
                              "resync_ok", (json_int_t)gs->resync_ok);
        if (f->groups[g].n_fallback)
            json_object_set_new(o, "fallbacks", json_integer((json_int_t)gs->fallbacks));
        json_object_set_new(o, "resync_signalled", json_integer((json_int_t)gs->resync_signalled));
        json_object_set_new(o, "missed_by_design", json_integer((json_int_t)gs->missed_by_design));
        for (int k = 0; k < CHK_KINDS; k++)
            json_object_set_new(o, chk_kind_str((chk_kind)k), json_integer((json_int_t)gs->kind[k]));
        if (rmerge_group_latency(o, gs->lat) < 0) {
            json_decref(o);
            json_decref(groups);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (f->groups[g].behavior != FLEET_SUBSCRIBER)
            json_object_set_new(o, "attack", fleet_attack_json(&f->at_total[g], f->w ? 0 : f->group_clients[g],
                                                               &f->groups[g]));
        json_object_set_new(groups, f->groups[g].name[0] ? f->groups[g].name : "group", o);
    }
    json_object_set_new(report, "groups", groups);
    /* every attacker group together: "was every abusive attempt refused" */
    json_t *attacks = NULL;
    for (size_t g = 0; g < f->cfg.n_groups; g++) {
        if (f->groups[g].behavior == FLEET_SUBSCRIBER)
            continue;
        json_t *one = fleet_attack_json(&f->at_total[g], f->w ? 0 : f->group_clients[g], NULL);
        if (!attacks)
            attacks = json_object();
        if (!one || rmerge_attack(attacks, one, "attacker group", err, errlen) < 0) {
            json_decref(one);
            json_decref(attacks);
            return -1;
        }
        json_decref(one);
    }
    if (attacks)
        json_object_set_new(report, "attacks", attacks);

    json_t *lat = json_object();
    json_object_set_new(lat, "live", hist_part(c->live));
    json_object_set_new(lat, "replay", hist_part(c->replay));
    json_object_set_new(lat, "connect", hist_part(c->connect));
    json_object_set_new(lat, "resync", hist_part(c->resync));
    json_object_set_new(lat, "reconnect", hist_part(c->reconnect));
    json_object_set_new(report, "latency_us", lat);

    json_t *tl = json_array();
    size_t last = 0;
    for (size_t s = 0; s < c->n_rows; s++)
        if (c->rows[s])
            last = s + 1;
    for (size_t s = 0; s < last; s++) {
        static const chk_tl_row zero;
        const chk_tl_row *r = c->rows[s] ? c->rows[s] : &zero;
        json_t *row = rmerge_timeline_row(s, r->published, r->delivered, r->connected, r->reconnects, r->lat);
        if (!row || json_array_append_new(tl, row) < 0) {
            json_decref(tl);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    json_object_set_new(report, "timeline", tl);

    json_t *an = json_array();
    for (int k = 0; k < CHK_KINDS; k++) {
        for (size_t i = 0; i < c->n_anom[k]; i++) {
            const chk_anomaly *a = &c->anom[k][i];
            json_array_append_new(an, json_pack("{s:s,s:I,s:s,s:I,s:f}", "kind", chk_kind_str((chk_kind)k),
                                                "client", (json_int_t)a->client, "ch",
                                                a->ch < f->n_ch ? f->ch_names[a->ch] : "?", "seq",
                                                (json_int_t)a->seq, "t_s", (double)a->t_us / 1e6));
        }
    }
    json_object_set_new(report, "anomalies", an);
    return 0;
}

/* ---- merge -------------------------------------------------------------------------------- */

int fleet_report_merge(json_t *dst, const json_t *src, size_t per_kind, char *err, size_t errlen)
{
    if (per_kind == 0)
        per_kind = 200;
    /* the one merge `rtchaos merge` uses too (reports/report_merge.h); a
     * worker's rows and groups always carry their buckets, so it is exact */
    int tl_exact = 1, groups_exact = 1;
    if (rmerge_report(dst, src, "worker report", &tl_exact, &groups_exact, err, errlen) < 0)
        return -1;
    /* anomalies: all, then the earliest per_kind of each kind */
    const json_t *lists[2] = {json_object_get(dst, "anomalies"), json_object_get(src, "anomalies")};
    json_t *out = rmerge_anomalies(lists, 2, per_kind, 0);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_object_set_new(dst, "anomalies", out);
    return 0;
}

void fleet_local_free(fleet *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->n_th; i++) {
        if (f->th[i]) {
            fl_thread_free(f->th[i]);
            free(f->th[i]);
        }
    }
    free(f->th);
    fl_pub_free(f->pub);
    if (f->have_total)
        chk_ctx_free(&f->total);
    for (uint32_t i = 0; f->ch_names && i < f->n_ch; i++)
        free(f->ch_names[i]);
    free(f->ch_names);
    free(f->groups);
    free(f->src);
    free(f->acked_head);
    free(f->final_head);
    for (uint32_t i = 0; f->publog && i < f->n_ch; i++) {
        free(f->publog[i].seq);
        free(f->publog[i].ts);
        free(f->publog[i].sufmin);
    }
    free(f->publog);
    free(f->group_clients);
    free(f->gs_total);
    fl_tls_ctx_free(f->tls);
    for (size_t g = 0; f->at_total && g < f->cfg.n_groups; g++)
        fleet_attack_tally_free(&f->at_total[g]);
    free(f->at_total);
    json_decref(f->error_reasons);
    if (f->status_mu_init)
        pthread_mutex_destroy(&f->status_mu);
    free(f);
}
