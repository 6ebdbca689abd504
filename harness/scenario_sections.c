/* scenario_sections.c — the scenario's sections (server, proxy, channels,
 * publishers, clients, faults, harness, target, network) read from its YAML
 * document into the checked struct, the checks that span them, the names
 * of the enums and the `--set` key list (they share the key and name
 * tables); each budget is read by scenario_budget.c, the JSON form is
 * scenario_json.c. */
#include "scenario_sections.h"
#include "scenario_budget.h"
#include "proto.h"
#include "tmpl.h"
#include "toxic_names.h"
#include "verdict.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#define US_PER_MS 1000ULL
#define US_PER_S  1000000ULL
#define MAX_DURATION_US (24ULL * 3600 * US_PER_S)

/* A duration (the scenario's units: us, ms, s, m, h) at node id. */
static int get_duration(ydoc *c, int id, uint64_t *out)
{
    if (ydoc_want_scalar(c, id, "a duration like 500ms, 5s or 2m") < 0)
        return -1;
    char e[160];
    if (scenario_parse_duration(ydoc_scalar(ydoc_node(c, id)), out, e, sizeof e) < 0) {
        ydoc_err_at(c, id, "%s", e);
        return -1;
    }
    return 0;
}

/* ---- proxy toxic types ---------------------------------------------------------- */

/* The fault types rtchaos-proxy implements (common/toxic_names.h, the list its
 * registry is built from); a scenario naming another is refused before a
 * run rather than failing mid-run. */
#define TOXIC_NAME_STR(n) #n,
static const char *const toxic_types[] = {TOXIC_NAMES(TOXIC_NAME_STR)};

static const char *const stream_names[] = {"downstream", "upstream"};

/* ---- sections ---------------------------------------------------------------------- */

static const char *const k_toxic[] = {"name", "type", "stream", "toxicity", "attributes"};

static void toxic_common(ydoc *c, scn_toxic *t, const char *key, int val)
{
    if (!strcmp(key, "name"))
        ydoc_str(c, val, &t->name);
    else if (!strcmp(key, "stream")) {
        int v;
        if (ydoc_enum(c, val, stream_names, 2, &v) == 0) {
            free(t->stream);
            t->stream = strdup(stream_names[v]);
        }
    } else if (!strcmp(key, "toxicity"))
        ydoc_double(c, val, 0, 1, &t->toxicity);
    else if (!strcmp(key, "attributes")) {
        yaml_node_t *n = ydoc_node(c, val);
        if (!n || n->type != YAML_MAPPING_NODE) {
            char got[96];
            ydoc_describe(n, got, sizeof got);
            ydoc_err_at(c, val, "attributes: expected a mapping of the fault's attributes, got %s", got);
            return;
        }
        json_decref(t->attributes);
        t->attributes = ydoc_to_json(c, val, 0);
    }
}

static void toxic_type(ydoc *c, scn_toxic *t, int val)
{
    int v;
    if (ydoc_enum(c, val, toxic_types, sizeof toxic_types / sizeof *toxic_types, &v) == 0) {
        free(t->type);
        t->type = strdup(toxic_types[v]);
    }
}

static void toxic_defaults(scn_toxic *t)
{
    t->stream = strdup("downstream");
    t->toxicity = 1.0;
    t->attributes = json_object();
}

static void toxic_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_toxic *t = obj;
    if (!strcmp(k_toxic[key], "type"))
        toxic_type(c, t, val);
    else
        toxic_common(c, t, k_toxic[key], val);
}

static const char *const k_server[] = {"bin", "args", "config", "ready_timeout", "stop_timeout",
                                       "nodes", "redis", "balance"};
static const char *const balance_names[] = {"roundrobin", "leastconn", "source"};

static void server_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_server *s = obj;
    switch (key) {
    case 0: ydoc_str(c, val, &s->bin); break;
    case 1: ydoc_str_list(c, val, "server.args", &s->args, &s->nargs); break;
    case 2: ydoc_str(c, val, &s->config); break;
    case 3: get_duration(c, val, &s->ready_timeout_us); break;
    case 4: get_duration(c, val, &s->stop_timeout_us); break;
    case 5: ydoc_uint(c, val, 1, SCN_NODES_MAX, &s->nodes); break;
    case 6: {
        /* Only a Redis the harness runs itself: a shared one would mix runs.
         * none: nodes that share nothing (sticky sessions, docs/scenarios.md). */
        const char *const redis_modes[] = {"auto", "none"};
        int e;
        if (ydoc_enum(c, val, redis_modes, 2, &e) == 0) {
            s->redis_auto = e == 0;
            s->redis_none = e == 1;
        }
        break;
    }
    case 7: {
        int e;
        if (ydoc_enum(c, val, balance_names, 3, &e) == 0)
            s->balance = strdup(balance_names[e]);
        break;
    }
    }
}

static const char *const k_proxy[] = {"enabled", "bin", "args", "ready_timeout", "toxics"};

static void proxy_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_proxy *p = obj;
    switch (key) {
    case 0: {
        yaml_node_t *n = ydoc_node(c, val);
        if (n && n->type == YAML_SCALAR_NODE && !strcmp(ydoc_scalar(n), "auto")) {
            p->enabled = -1;
            break;
        }
        if (ydoc_want_scalar(c, val, "true, false or auto") < 0)
            break;
        if (ydoc_parse_bool(ydoc_scalar(n), &p->enabled) < 0)
            ydoc_err_at(c, val, "expected true, false or auto, got '%s'", ydoc_scalar(n));
        break;
    }
    case 1: ydoc_str(c, val, &p->bin); break;
    case 2: ydoc_str_list(c, val, "proxy.args", &p->args, &p->nargs); break;
    case 3: get_duration(c, val, &p->ready_timeout_us); break;
    case 4: {
        if (ydoc_want_seq(c, val, "proxy.toxics") < 0)
            break;
        size_t n = ydoc_seq_len(c, val);
        p->toxics = calloc(n ? n : 1, sizeof *p->toxics);
        for (size_t i = 0; i < n; i++) {
            scn_toxic *t = &p->toxics[p->ntoxics++];
            toxic_defaults(t);
            char where[64];
            snprintf(where, sizeof where, "proxy.toxics[%zu]", i);
            int item = ydoc_seq_item(c, val, i);
            ydoc_walk_map(c, item, where, k_toxic, sizeof k_toxic / sizeof *k_toxic, toxic_field, t);
            if (!t->type && ydoc_node(c, item)->type == YAML_MAPPING_NODE)
                ydoc_err_at(c, item, "%s: missing key 'type' (the fault to add, e.g. latency)", where);
        }
        break;
    }
    }
}

static const char *const k_channels[] = {"count", "pattern", "history"};

static void channels_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_channels *ch = obj;
    switch (key) {
    case 0: ydoc_uint(c, val, 1, 100000, &ch->count); break;
    case 1: ydoc_str(c, val, &ch->pattern); break;
    case 2: ydoc_uint(c, val, 1, 10000000, &ch->history); break;
    }
}

static const char *const k_pub[] = {"rate_per_s", "schedule", "burst_size", "burst_every",
                                    "payload_bytes", "transport", "batch",
                                    "idempotency_retries", "timeout", "connections", "token", "start", "payload"};
static const char *const payload_names[] = {"string", "fields"};
static const char *const sched_names[] = {"constant", "poisson", "bursts"};
static const char *const pubtr_names[] = {"http", "ws"};

static void pub_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_publishers *p = obj;
    int e;
    switch (key) {
    case 0: ydoc_double(c, val, 0, 1e6, &p->rate_per_s); break;
    case 1:
        if (ydoc_enum(c, val, sched_names, 3, &e) == 0)
            p->schedule = (scn_schedule)e;
        break;
    case 2: ydoc_uint(c, val, 1, 1000000, &p->burst_size); break;
    case 3: get_duration(c, val, &p->burst_every_us); break;
    case 4: ydoc_uint(c, val, 16, 1 << 20, &p->payload_bytes); break;
    case 5:
        if (ydoc_enum(c, val, pubtr_names, 2, &e) == 0)
            p->transport = (scn_pub_transport)e;
        break;
    case 6: ydoc_uint(c, val, 1, 10000, &p->batch); break;
    case 7: ydoc_uint(c, val, 0, 100, &p->idempotency_retries); break;
    case 8: get_duration(c, val, &p->timeout_us); break;
    case 9: ydoc_uint(c, val, 1, 1024, &p->connections); break;
    case 10: ydoc_str(c, val, &p->token); break;
    case 11: get_duration(c, val, &p->start_us); break;
    case 12:
        p->payload_node = val;
        if (ydoc_enum(c, val, payload_names, 2, &e) == 0)
            p->payload_fields = e;
        break;
    }
}

static const char *const k_reconnect[] = {"enabled", "initial", "max", "jitter", "max_attempts",
                                          "honour_retry"};

static void reconnect_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_reconnect *r = obj;
    switch (key) {
    case 0: ydoc_bool(c, val, &r->enabled); break;
    case 1: get_duration(c, val, &r->initial_us); break;
    case 2: get_duration(c, val, &r->max_us); break;
    case 3: ydoc_double(c, val, 0, 1, &r->jitter); break;
    case 4: ydoc_uint(c, val, 0, 1000000, &r->max_attempts); break;
    case 5: ydoc_bool(c, val, &r->honour_retry); break;
    }
}

static const char *const k_client[] = {"name", "count", "transport", "channels_per_client",
                                       "ramp_up", "read_rate_bytes_per_s", "reconnect", "resume",
                                       "token", "idle_timeout", "poll_timeout",
                                       "read_rate_msgs_per_s", "connect_timeout", "behavior", "attack",
                                       "fallback", "deflate", "batch", "delta"};
static const char *const cltr_names[] = {"ws", "sse", "poll"};
static const char *const deflate_names[] = {"off", "offer", "require"};
static const char *const behavior_names[] = {"subscriber", "flood", "oversized", "slowloris"};
static const char *const k_attack[] = {"rate_per_s", "messages", "bytes", "via", "byte_every",
                                       "patience", "pause", "attempts", "expect"};
#define N_ATTACK_KEYS (sizeof k_attack / sizeof *k_attack)
/* Which behaviour each attack key belongs to (0: every attacker). */
static const scn_behavior attack_key_owner[N_ATTACK_KEYS] = {
    SCN_BH_FLOOD, SCN_BH_FLOOD, SCN_BH_OVERSIZED, SCN_BH_OVERSIZED, SCN_BH_SLOWLORIS, 0, 0, 0, 0};
static const char *const via_names[] = {"ws", "http"};

/* A client group while it is read: the nodes its attack keys came from, so
 * keys that do not fit the behaviour (which may come later) are reported
 * where they are. */
typedef struct client_seen {
    scn_client_group *g;
    int attack_node;
    int attack_key[N_ATTACK_KEYS];
} client_seen;

/* One outcome of an attack's expect list: a WS close code (1000..4999), an
 * HTTP status (100..599), or `closed`. */
static void get_outcome(ydoc *c, int id, scn_attack *a)
{
    const char *what = "a WebSocket close code (1000..4999), an HTTP status (100..599) or 'closed'";
    if (ydoc_want_scalar(c, id, what) < 0)
        return;
    const char *s = ydoc_scalar(ydoc_node(c, id));
    int code;
    if (!strcmp(s, "closed")) {
        code = SCN_OUTCOME_CLOSED;
    } else {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (!*s || *end || errno || !((v >= 100 && v <= 599) || (v >= 1000 && v <= 4999))) {
            ydoc_err_at(c, id, "expect: expected %s, got '%s'", what, s);
            return;
        }
        code = (int)v;
    }
    if (a->n_expect == SCN_EXPECT_MAX) {
        ydoc_err_at(c, id, "expect: at most %d outcomes", SCN_EXPECT_MAX);
        return;
    }
    a->expect[a->n_expect++] = code;
}

static void attack_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    client_seen *cs = obj;
    scn_attack *a = &cs->g->attack;
    cs->attack_key[key] = keynode;
    int e;
    switch (key) {
    case 0: ydoc_uint(c, val, 1, 1000000, &a->rate_per_s); break;
    case 1: ydoc_uint(c, val, 1, 10000000, &a->messages); break;
    case 2: ydoc_u64(c, val, 1, 64u << 20, &a->bytes); break;
    case 3:
        if (ydoc_enum(c, val, via_names, 2, &e) == 0)
            a->via_http = e;
        break;
    case 4:
        if (get_duration(c, val, &a->byte_every_us) == 0 && a->byte_every_us < US_PER_MS)
            ydoc_err_at(c, val, "byte_every must be at least 1ms");
        break;
    case 5:
        if (get_duration(c, val, &a->patience_us) == 0 && a->patience_us < 10 * US_PER_MS)
            ydoc_err_at(c, val, "patience must be at least 10ms");
        break;
    case 6: get_duration(c, val, &a->pause_us); break;
    case 7: ydoc_uint(c, val, 0, 1000000, &a->attempts); break;
    case 8: {
        yaml_node_t *n = ydoc_node(c, val);
        a->n_expect = 0;
        if (n && n->type == YAML_SEQUENCE_NODE) {
            size_t cnt = ydoc_seq_len(c, val);
            if (cnt == 0)
                ydoc_err_at(c, val, "expect: expected at least one outcome");
            for (size_t i = 0; i < cnt; i++)
                get_outcome(c, ydoc_seq_item(c, val, i), a);
        } else {
            get_outcome(c, val, a);
        }
        break;
    }
    }
}

/* Checks what only makes sense for some behaviours, once the whole group
 * is read. */
static void check_behavior(ydoc *c, const client_seen *cs, int item, const char *where)
{
    const scn_client_group *g = cs->g;
    if (g->behavior == SCN_BH_SUBSCRIBER) {
        if (cs->attack_node)
            ydoc_err_at(c, cs->attack_node,
                   "%s: 'attack' applies only to attacker groups (behavior: flood, oversized or slowloris)", where);
        return;
    }
    for (size_t k = 0; k < N_ATTACK_KEYS; k++) {
        if (cs->attack_key[k] && attack_key_owner[k] && attack_key_owner[k] != g->behavior)
            ydoc_err_at(c, cs->attack_key[k], "%s: attack.%s applies to behavior %s, not %s", where, k_attack[k],
                   behavior_names[attack_key_owner[k]], behavior_names[g->behavior]);
    }
    /* oversized messages are built whole in memory, one per client at a time */
    if (g->behavior == SCN_BH_OVERSIZED && (uint64_t)g->count * g->attack.bytes > (1ULL << 30))
        ydoc_err_at(c, item, "%s: %u clients x attack.bytes %llu is over 1 GiB of oversized messages at once; "
               "use fewer clients or smaller messages", where, g->count, (unsigned long long)g->attack.bytes);
    int needs_ws = g->behavior == SCN_BH_FLOOD || (g->behavior == SCN_BH_OVERSIZED && !g->attack.via_http);
    if (needs_ws && g->transport != SCN_CL_WS)
        ydoc_err_at(c, item, "%s: behavior %s%s sends WebSocket messages: it needs transport ws, not %s", where,
               behavior_names[g->behavior], g->behavior == SCN_BH_OVERSIZED ? " (via ws)" : "",
               cltr_names[g->transport]);
}

static void client_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    client_seen *cs = obj;
    scn_client_group *g = cs->g;
    int e;
    switch (key) {
    case 0: ydoc_str(c, val, &g->name); break;
    case 1: ydoc_uint(c, val, 1, 1000000, &g->count); break;
    case 2:
        g->transport_node = val;
        if (ydoc_enum(c, val, cltr_names, 3, &e) == 0)
            g->transport = (scn_client_transport)e;
        break;
    case 3:
        g->cpc_node = val;
        ydoc_uint(c, val, 1, 100000, &g->channels_per_client);
        break;
    case 4: get_duration(c, val, &g->ramp_up_us); break;
    case 5: ydoc_u64(c, val, 0, 1ULL << 40, &g->read_rate_bytes_per_s); break;
    case 6:
        ydoc_walk_map(c, val, "reconnect", k_reconnect, sizeof k_reconnect / sizeof *k_reconnect,
                 reconnect_field, &g->reconnect);
        break;
    case 7: ydoc_bool(c, val, &g->resume); break;
    case 8: ydoc_str(c, val, &g->token); break;
    case 9: get_duration(c, val, &g->idle_timeout_us); break;
    case 10: get_duration(c, val, &g->poll_timeout_us); break;
    case 11: ydoc_uint(c, val, 0, 10000000, &g->read_rate_msgs_per_s); break;
    case 12: get_duration(c, val, &g->connect_timeout_us); break;
    case 13:
        if (ydoc_enum(c, val, behavior_names, 4, &e) == 0)
            g->behavior = (scn_behavior)e;
        break;
    case 14:
        cs->attack_node = val;
        ydoc_walk_map(c, val, "attack", k_attack, N_ATTACK_KEYS, attack_field, cs);
        break;
    case 15: {
        /* a transport name or a list of them, tried in order */
        g->fallback_node = val;
        g->nfallback = 0;
        yaml_node_t *n = ydoc_node(c, val);
        size_t cnt = n && n->type == YAML_SEQUENCE_NODE ? ydoc_seq_len(c, val) : 1;
        if (cnt > 2) {
            ydoc_err_at(c, val, "fallback: at most 2 transports (e.g. [sse, poll])");
            break;
        }
        for (size_t i = 0; i < cnt; i++) {
            int id = n && n->type == YAML_SEQUENCE_NODE ? ydoc_seq_item(c, val, i) : val;
            if (ydoc_enum(c, id, cltr_names, 3, &e) == 0)
                g->fallback[g->nfallback++] = (scn_client_transport)e;
        }
        break;
    }
    case 16:
        g->deflate_node = val;
        if (ydoc_enum(c, val, deflate_names, 3, &e) == 0)
            g->deflate = e;
        break;
    case 17:
        g->batch_node = val;
        ydoc_bool(c, val, &g->batch);
        break;
    case 18:
        g->delta_node = val;
        ydoc_bool(c, val, &g->delta);
        break;
    }
}

/* batch and delta, once the whole group is read: subscriber options of the
 * wire contract's capabilities (batch messages are WebSocket's; deltas are
 * rebuilt from the fields payload, which the publisher must send). */
static void check_caps(ydoc *c, const scenario *s, const scn_client_group *g, const char *where)
{
    if (g->batch && (g->transport != SCN_CL_WS || g->behavior != SCN_BH_SUBSCRIBER))
        ydoc_err_at(c, g->batch_node, "%s: batch applies only to WebSocket subscriber groups (transport: ws); "
                    "SSE needs no option: a server's batching window writes several events in one chunk", where);
    if (g->delta && (g->transport == SCN_CL_POLL || g->behavior != SCN_BH_SUBSCRIBER))
        ydoc_err_at(c, g->delta_node, "%s: delta applies only to WebSocket and SSE subscriber groups", where);
    else if (g->delta && !s->publishers.payload_fields)
        ydoc_err_at(c, g->delta_node, "%s: delta needs publishers.payload: fields (values the checker can rebuild)",
                    where);
}

/* deflate, once the whole group is read: a WebSocket subscriber's option. */
static void check_deflate(ydoc *c, const scn_client_group *g, const char *where)
{
    if (!g->deflate)
        return;
    if (g->transport != SCN_CL_WS || g->behavior != SCN_BH_SUBSCRIBER)
        ydoc_err_at(c, g->deflate_node, "%s: deflate applies only to WebSocket subscriber groups (transport: ws)",
               where);
}

/* The fallback list, once the whole group is read (transport may come
 * after it): other transports than the group's, each once. */
static void check_fallback(ydoc *c, const scn_client_group *g, const char *where)
{
    if (!g->fallback_node)
        return;
    if (g->behavior != SCN_BH_SUBSCRIBER) {
        ydoc_err_at(c, g->fallback_node, "%s: fallback applies only to subscriber groups", where);
        return;
    }
    if (!g->reconnect.enabled)
        ydoc_err_at(c, g->fallback_node, "%s: fallback needs reconnect enabled (the next transport is a new attempt)",
               where);
    for (unsigned i = 0; i < g->nfallback; i++) {
        if (g->fallback[i] == g->transport)
            ydoc_err_at(c, g->fallback_node, "%s: fallback lists %s, the group's own transport", where,
                   cltr_names[g->transport]);
        else if (i && g->fallback[i] == g->fallback[0])
            ydoc_err_at(c, g->fallback_node, "%s: fallback lists %s twice", where, cltr_names[g->fallback[i]]);
    }
}

static const char *const k_fault[] = {"name", "at", "for", "toxic", "stream", "toxicity",
                                      "attributes", "flap", "disconnect", "group", "server",
                                      /* 11..18: kernel network faults, in scn_net_kind order */
                                      "packet_loss", "partition", "partition_oneway", "tcp_reset",
                                      "rate", "mtu", "delay", "reorder",
                                      "direction", "node"};
#define K_FAULT_NET0 11
#define K_FAULT_DIRECTION 19
#define K_FAULT_NODE 20
static const char *const direction_names[] = {"both", "upstream", "downstream"};
static const char *const server_actions[] = {"kill", "pause", "restart", "kill-node", "pause-node",
                                             "restart-node", "redis-kill", "redis-pause", "redis-restart"};

/* Which keys a fault item carried, to check combinations afterwards. */
typedef struct fault_seen {
    scn_fault *f;
    int key_node[sizeof k_fault / sizeof *k_fault];
    int val_node[sizeof k_fault / sizeof *k_fault];
    int action_count;
} fault_seen;

static const char *const k_flap[] = {"on", "off"};

static void flap_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_fault *f = obj;
    get_duration(c, val, key == 0 ? &f->flap_on_us : &f->flap_off_us);
}

/* A kernel fault's value: its attributes as a mapping, or `true` / `{}`
 * for the faults that take none (partition, partition_oneway, tcp_reset). */
static const char *const k_net_attr[] = {"percent", "kbit_per_s", "bytes", "delay", "jitter"};

typedef struct net_attrs {
    scn_netfault *n;
    unsigned given; /* bit per k_net_attr index */
} net_attrs;

static void net_attr_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    net_attrs *na = obj;
    scn_netfault *n = na->n;
    na->given |= 1u << key;
    /* Which attribute each kind takes (bit per k_net_attr index). */
    static const unsigned takes[SCN_NET_KINDS] = {
        [SCN_NET_LOSS] = 1u << 0, [SCN_NET_RATE] = 1u << 1, [SCN_NET_MTU] = 1u << 2,
        [SCN_NET_DELAY] = 1u << 3 | 1u << 4, [SCN_NET_REORDER] = 1u << 0 | 1u << 3};
    if (!(takes[n->kind] & (1u << key))) {
        ydoc_err_at(c, keynode, "%s takes no '%s'", scenario_net_kind_str(n->kind), k_net_attr[key]);
        return;
    }
    switch (key) {
    case 0:
        if (ydoc_double(c, val, 0, 100, &n->percent) == 0 && n->percent <= 0)
            ydoc_err_at(c, val, "percent must be above 0");
        break;
    case 1: ydoc_u64(c, val, 8, 100000000, &n->rate_kbit_per_s); break;
    case 2: ydoc_uint(c, val, 576, 1500, &n->mtu_bytes); break;
    case 3: get_duration(c, val, &n->delay_us); break;
    case 4: get_duration(c, val, &n->jitter_us); break;
    }
}

static void net_fault_value(ydoc *c, scn_fault *f, scn_net_kind kind, int val)
{
    f->kind = SCN_FAULT_NETWORK;
    f->net.kind = kind;
    if (kind == SCN_NET_REORDER)
        f->net.delay_us = 10 * US_PER_MS;
    yaml_node_t *n = ydoc_node(c, val);
    int b;
    net_attrs na = {.n = &f->net};
    if (n && n->type == YAML_SCALAR_NODE && ydoc_parse_bool(ydoc_scalar(n), &b) == 0 && b)
        ; /* `partition: true` */
    else if (n && n->type == YAML_MAPPING_NODE)
        ydoc_walk_map(c, val, scenario_net_kind_str(kind), k_net_attr, sizeof k_net_attr / sizeof *k_net_attr,
                 net_attr_field, &na);
    else {
        char got[96];
        ydoc_describe(n, got, sizeof got);
        ydoc_err_at(c, val, "%s: expected a mapping of its attributes (or true), got %s", scenario_net_kind_str(kind), got);
        return;
    }
    /* A required attribute that is absent (one given but invalid has its own message). */
    const char *need = (kind == SCN_NET_LOSS || kind == SCN_NET_REORDER) && !(na.given & 1u << 0) ? "{percent: P}"
                       : kind == SCN_NET_RATE && !(na.given & 1u << 1)                          ? "{kbit_per_s: N}"
                       : kind == SCN_NET_MTU && !(na.given & 1u << 2)                           ? "{bytes: N}"
                       : kind == SCN_NET_DELAY && !(na.given & 1u << 3)                         ? "{delay: 100ms}"
                                                                                                : NULL;
    if (need)
        ydoc_err_at(c, val, "%s: expected %s", scenario_net_kind_str(kind), need);
}

static void fault_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    fault_seen *fs = obj;
    scn_fault *f = fs->f;
    fs->key_node[key] = keynode;
    fs->val_node[key] = val;
    int e;
    switch (key) {
    case 0: ydoc_str(c, val, &f->name); break;
    case 1: get_duration(c, val, &f->at_us); break;
    case 2:
        if (get_duration(c, val, &f->for_us) == 0)
            f->has_for = 1;
        break;
    case 3:
        fs->action_count++;
        f->kind = SCN_FAULT_TOXIC;
        toxic_type(c, &f->toxic, val);
        break;
    case 4: toxic_common(c, &f->toxic, "stream", val); break;
    case 5: toxic_common(c, &f->toxic, "toxicity", val); break;
    case 6: toxic_common(c, &f->toxic, "attributes", val); break;
    case 7:
        ydoc_walk_map(c, val, "flap", k_flap, 2, flap_field, f);
        if (f->flap_on_us == 0 || f->flap_off_us == 0)
            ydoc_err_at(c, val, "flap: expected both 'on' and 'off' durations above 0");
        break;
    case 8:
        fs->action_count++;
        f->kind = SCN_FAULT_DISCONNECT;
        ydoc_double(c, val, 0, 1, &f->fraction);
        break;
    case 9: ydoc_str(c, val, &f->group); break;
    case 10:
        fs->action_count++;
        if (ydoc_enum(c, val, server_actions, 9, &e) == 0) {
            f->kind = e % 3 == 0 ? SCN_FAULT_SERVER_KILL
                      : e % 3 == 1 ? SCN_FAULT_SERVER_PAUSE
                                   : SCN_FAULT_SERVER_RESTART;
            f->target = e / 3; /* SCN_TGT_SERVER, _NODE, _REDIS */
        } else
            f->kind = SCN_FAULT_SERVER_KILL;
        break;
    case K_FAULT_NODE: {
        yaml_node_t *n = ydoc_node(c, val);
        if (n && n->type == YAML_SCALAR_NODE && !strcmp(ydoc_scalar(n), "random"))
            f->node = -1;
        else {
            unsigned ix = 0;
            if (ydoc_uint(c, val, 0, SCN_NODES_MAX - 1, &ix) == 0)
                f->node = (int)ix;
        }
        break;
    }
    case K_FAULT_DIRECTION:
        if (ydoc_enum(c, val, direction_names, 3, &e) == 0)
            f->net.direction = (scn_direction)e;
        break;
    default:
        fs->action_count++;
        net_fault_value(c, f, (scn_net_kind)(key - K_FAULT_NET0), val);
        break;
    }
}

static const char *const k_top[] = {"name", "description", "seed", "duration", "warmup", "drain",
                                    "server", "proxy", "channels", "publishers", "clients",
                                    "faults", "budgets", "harness", "target", "network"};

static const char *const k_network[] = {"namespaces"};

static void network_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_network *n = obj;
    if (key == 0)
        ydoc_bool(c, val, &n->namespaces);
}

typedef struct top_seen {
    scenario *s;
    int val[sizeof k_top / sizeof *k_top];
} top_seen;

static const char *const k_harness[] = {"threads", "workers", "source_addrs", "anomalies_per_kind",
                                        "fresh_grace_ms", "metrics_addr", "metrics_linger", "server_metrics", "push_url",
                                        "record_series"};

static void harness_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    scn_harness *h = obj;
    switch (key) {
    case 0: ydoc_uint(c, val, 1, 64, &h->threads); break;
    case 1: ydoc_uint(c, val, 1, 64, &h->workers); break;
    case 2:
        if (ydoc_str_list(c, val, "harness.source_addrs", &h->source_addrs, &h->nsource_addrs) == 0) {
            for (size_t i = 0; i < h->nsource_addrs; i++) {
                struct in_addr a;
                if (inet_pton(AF_INET, h->source_addrs[i], &a) != 1)
                    ydoc_err_at(c, ydoc_seq_item(c, val, i), "expected a numeric IPv4 address like 127.0.0.2, got '%s'",
                           h->source_addrs[i]);
            }
            if (h->nsource_addrs > 64)
                ydoc_err_at(c, val, "harness.source_addrs: at most 64 addresses");
        }
        break;
    case 3: ydoc_uint(c, val, 1, 100000, &h->anomalies_per_kind); break;
    case 4: ydoc_uint(c, val, 1, 600000, &h->fresh_grace_ms); break;
    case 5:
        if (ydoc_str(c, val, &h->metrics_addr) == 0) {
            char host[256], e[256];
            uint16_t port;
            if (scenario_parse_hostport(h->metrics_addr, host, sizeof host, &port, e, sizeof e) < 0)
                ydoc_err_at(c, val, "%s", e);
        }
        break;
    case 7:
        if (ydoc_str(c, val, &h->server_metrics) == 0 && strcmp(h->server_metrics, "auto") != 0 &&
            strcmp(h->server_metrics, "off") != 0) {
            char host[256], path[256], e[256];
            uint16_t port;
            if (scenario_parse_url(h->server_metrics, host, sizeof host, &port, path, sizeof path, e, sizeof e) < 0)
                ydoc_err_at(c, val, "harness.server_metrics: %s (or auto, off)", e);
        }
        break;
    case 8:
        if (ydoc_str(c, val, &h->push_url) == 0) {
            char host[256], path[256], e[256];
            uint16_t port;
            if (scenario_parse_url(h->push_url, host, sizeof host, &port, path, sizeof path, e, sizeof e) < 0)
                ydoc_err_at(c, val, "harness.push_url: %s", e);
        }
        break;
    case 9: ydoc_bool(c, val, &h->record_series); break;
    case 6:
        get_duration(c, val, &h->metrics_linger_us);
        if (h->metrics_linger_us > 600000000ULL)
            ydoc_err_at(c, val, "harness.metrics_linger: at most 10m");
        break;
    }
}

static const char *const k_target[] = {"protocol",   "sub_path", "pub_path",    "resume_header",  "resume_query",
                                       "payload",    "pub_method", "pub_body", "sub_message", "resume_message",
                                       "offset",     "headers", "ca", "insecure", "app_id", "key", "secret",
                                       "ch_join",    "pub_message", "ping_match", "pong_message", "ping_message",
                                       "ping_interval"};
enum { K_T_CH_JOIN = 17, K_T_PUB_MESSAGE, K_T_PING_MATCH, K_T_PONG_MESSAGE, K_T_PING_MESSAGE, K_T_PING_INTERVAL };
#define N_TARGET_KEYS (sizeof k_target / sizeof *k_target)
static const char *const pub_methods[] = {"POST", "PUT", "PATCH"};

typedef struct target_seen {
    scn_target *t;
    int node[N_TARGET_KEYS];
} target_seen;

static void target_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)keynode;
    target_seen *ts = obj;
    ts->node[key] = val;
    int e;
    switch (key) {
    case 0:
        if (ydoc_enum(c, val, proto_name_list, proto_count, &e) == 0)
            ts->t->protocol = strdup(proto_name_list[e]);
        break;
    case 1: ydoc_str(c, val, &ts->t->sub_path); break;
    case 2: ydoc_str(c, val, &ts->t->pub_path); break;
    case 3: ydoc_str(c, val, &ts->t->resume_header); break;
    case 4: ydoc_str(c, val, &ts->t->resume_query); break;
    case 5: ydoc_str(c, val, &ts->t->payload); break;
    case 6:
        if (ydoc_enum(c, val, pub_methods, 3, &e) == 0)
            ts->t->pub_method = strdup(pub_methods[e]);
        break;
    case 7: ydoc_str(c, val, &ts->t->pub_body); break;
    case 8: ydoc_str(c, val, &ts->t->sub_message); break;
    case 9: ydoc_str(c, val, &ts->t->resume_message); break;
    case 10: ydoc_str(c, val, &ts->t->offset); break;
    case 11:
        if (ydoc_str_list(c, val, "target.headers", &ts->t->headers, &ts->t->nheaders) == 0)
            for (size_t i = 0; i < ts->t->nheaders; i++) {
                char herr[256];
                if (scenario_check_header(ts->t->headers[i], herr, sizeof herr) < 0)
                    ydoc_err_at(c, ydoc_seq_item(c, val, i), "target.headers: %s", herr);
            }
        break;
    case 12: ydoc_str(c, val, &ts->t->ca); break;
    case 13: ydoc_bool(c, val, &ts->t->insecure); break;
    case 14: ydoc_str(c, val, &ts->t->app_id); break;
    case 15: ydoc_str(c, val, &ts->t->key); break;
    case 16: ydoc_str(c, val, &ts->t->secret); break;
    case K_T_CH_JOIN: ydoc_str(c, val, &ts->t->ch_join); break;
    case K_T_PUB_MESSAGE: ydoc_str(c, val, &ts->t->pub_message); break;
    case K_T_PING_MATCH: ydoc_str(c, val, &ts->t->ping_match); break;
    case K_T_PONG_MESSAGE: ydoc_str(c, val, &ts->t->pong_message); break;
    case K_T_PING_MESSAGE: ydoc_str(c, val, &ts->t->ping_message); break;
    case K_T_PING_INTERVAL:
        if (get_duration(c, val, &ts->t->ping_interval_us) == 0 &&
            (ts->t->ping_interval_us < 100000 || ts->t->ping_interval_us > 3600000000ULL))
            ydoc_err_at(c, val, "target.ping_interval: from 100ms to 1h");
        break;
    }
}

/* The ws-json templates of pings and WebSocket publishing, and sse's
 * channel joiner: each at its key, the keys that need each other named. */
static void check_extra_templates(ydoc *c, const scenario *s, const target_seen *ts, const proto *p, int pnode)
{
    char e[256];
    const scn_target *t = &s->target;
    int is_sse = p == &proto_sse, is_wsj = p == &proto_ws_json;
    for (int k = K_T_CH_JOIN; k <= K_T_PING_INTERVAL; k++)
        if (ts->node[k] && !(k == K_T_CH_JOIN ? is_sse : is_wsj))
            ydoc_err_at(c, ts->node[k], "target.%s: only for the templated protocol %s, not %s", k_target[k],
                        k == K_T_CH_JOIN ? "sse" : "ws-json", p->name);
    if (is_sse && t->ch_join) {
        size_t n = strlen(t->ch_join);
        int bad = n == 0 || n > 31;
        for (const char *q = t->ch_join; *q && !bad; q++)
            bad = (unsigned char)*q <= ' ' || *q == 127 || strchr("{}#", *q) != NULL;
        if (bad)
            ydoc_err_at(c, ts->node[K_T_CH_JOIN], "target.ch_join '%s': expected 1 to 31 bytes of URL text between "
                        "channel names, like '&topic=' or ',' (no spaces, braces or '#')", t->ch_join);
    }
    if (!is_wsj)
        return;
    static const char *const pf[] = {"payload", "ch"}, *const pneed[] = {"payload"};
    int ws_pub = s->publishers.transport == SCN_PUB_WS;
    if (t->pub_message) {
        if (strlen(t->pub_message) >= 512)
            ydoc_err_at(c, ts->node[K_T_PUB_MESSAGE], "target.pub_message: at most 511 bytes");
        else if (proto_check_template("target.pub_message", t->pub_message, pf, 2, pneed, 1, e, sizeof e) < 0)
            ydoc_err_at(c, ts->node[K_T_PUB_MESSAGE], "%s", e);
        if (!ws_pub)
            ydoc_err_at(c, ts->node[K_T_PUB_MESSAGE], "target.pub_message is sent over the WebSocket: set "
                        "publishers.transport: ws (or publish over HTTP with pub_path)");
    } else if (ws_pub) {
        ydoc_err_at(c, pnode, "publishers.transport ws: protocol ws-json needs target.pub_message (the text that "
                    "publishes {payload} to {ch}, e.g. '{\"op\":\"pub\",\"ch\":\"{ch}\",\"data\":{payload}}')");
    }
    if (t->ping_match) {
        if (strlen(t->ping_match) >= 256)
            ydoc_err_at(c, ts->node[K_T_PING_MATCH], "target.ping_match: at most 255 bytes");
        else if (proto_check_ping_match("target.ping_match", t->ping_match, e, sizeof e) < 0)
            ydoc_err_at(c, ts->node[K_T_PING_MATCH], "%s", e);
        if (!t->pong_message)
            ydoc_err_at(c, ts->node[K_T_PING_MATCH], "target.ping_match needs pong_message (the answer, e.g. "
                        "'{\"type\":\"pong\",\"id\":{ping.id}}')");
    }
    if (t->pong_message) {
        if (strlen(t->pong_message) >= 256)
            ydoc_err_at(c, ts->node[K_T_PONG_MESSAGE], "target.pong_message: at most 255 bytes");
        else if (proto_check_pong("target.pong_message", t->pong_message, e, sizeof e) < 0)
            ydoc_err_at(c, ts->node[K_T_PONG_MESSAGE], "%s", e);
        if (!t->ping_match)
            ydoc_err_at(c, ts->node[K_T_PONG_MESSAGE], "target.pong_message needs ping_match (which message is "
                        "the server's ping, e.g. '{\"type\":\"ping\"}')");
    }
    if (t->ping_message) {
        if (strlen(t->ping_message) >= 256)
            ydoc_err_at(c, ts->node[K_T_PING_MESSAGE], "target.ping_message: at most 255 bytes");
        else if (proto_check_ping("target.ping_message", t->ping_message, e, sizeof e) < 0)
            ydoc_err_at(c, ts->node[K_T_PING_MESSAGE], "%s", e);
        if (!ts->node[K_T_PING_INTERVAL])
            ydoc_err_at(c, ts->node[K_T_PING_MESSAGE], "target.ping_message needs ping_interval (how often, e.g. 10s)");
    } else if (ts->node[K_T_PING_INTERVAL]) {
        ydoc_err_at(c, ts->node[K_T_PING_INTERVAL], "target.ping_interval needs ping_message (the ping to send)");
    }
}

/* Whether s is 1..max bytes of letters, digits and the bytes in extra. */
static int token_ok(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
            return 0;
    return 1;
}

/* target: the protocol, its locations, and what it can do against what the
 * clients and publishers ask of it (each error at the key that asks). */
static void parse_target(ydoc *c, scenario *s, int id)
{
    target_seen ts = {.t = &s->target};
    if (ydoc_walk_map(c, id, "target", k_target, N_TARGET_KEYS, target_field, &ts) < 0)
        return;
    const proto *p = proto_find(s->target.protocol ? s->target.protocol : "v1");
    if (!p)
        return; /* reported by get_enum */
    char e[256];
    const char *paths[2] = {s->target.sub_path, s->target.pub_path};
    for (int k = 0; k < 2; k++) {
        if (!paths[k])
            continue;
        if (p->server_seq || p->fixed_paths)
            ydoc_err_at(c, ts.node[1 + k], "target.%s: protocol %s has fixed locations (%s)", k_target[1 + k],
                        p->name, p->server_seq ? "docs/wire-contract.md" : k ? p->def_pub_path : p->def_sub_path);
        else if ((k == 0 && !p->sub_path_ch ? proto_check_plain_path("target.sub_path", paths[k], e, sizeof e)
                                            : proto_check_path(k ? "target.pub_path" : "target.sub_path", paths[k],
                                                               e, sizeof e)) < 0)
            ydoc_err_at(c, ts.node[1 + k], "%s", e);
    }
    int pnode = ts.node[0] ? ts.node[0] : id;
    /* a templated protocol (sse, ws-json, socketio) publishes by template and
     * may have no default locations */
    int templated = !p->server_seq && !p->def_pub_path[0];
    if (templated) {
        if (!s->target.sub_path && !p->def_sub_path[0])
            ydoc_err_at(c, pnode, "target: protocol %s needs sub_path (%s)", p->name,
                   p->sub_path_ch ? "the stream's location, e.g. /events?topic={ch}"
                                  : "the WebSocket's location, e.g. /connection/websocket");
        if (!s->target.pub_path && !(p == &proto_ws_json && s->target.pub_message && s->publishers.transport == SCN_PUB_WS))
            ydoc_err_at(c, pnode, "target: protocol %s needs pub_path (where an event is published, e.g. /publish/{ch})",
                   p->name);
    }
    /* keys 3..4 are sse's, 9..10 ws-json's, 8 ws-json's and socketio's, 5..7 every template's,
     * 11 (headers) everyone's */
    int is_sse = p == &proto_sse, is_wsj = p == &proto_ws_json, is_sio = p == &proto_socketio;
    for (size_t k = 3; k <= 10; k++) { /* the template keys; headers, ca, insecure are for every protocol */
        int ok = (k <= 4 && is_sse) || (k >= 9 && is_wsj) || (k == 8 && (is_wsj || is_sio)) ||
                 (k >= 5 && k <= 7 && templated);
        if (ts.node[k] && !ok)
            ydoc_err_at(c, ts.node[k], "target.%s: only for the templated protocol%s %s, not %s", k_target[k],
                   k >= 5 && k <= 8 ? "s" : "",
                   k <= 4 ? "sse" : k >= 9 ? "ws-json" : k == 8 ? "ws-json, socketio" : "sse, ws-json, socketio",
                   p->name);
    }
    if (is_sio && s->target.sub_message) {
        static const char *const sf[] = {"ch"}, *const sneed[] = {"ch"};
        if (strlen(s->target.sub_message) >= 256)
            ydoc_err_at(c, ts.node[8], "target.sub_message: at most 255 bytes");
        else if (proto_check_template("target.sub_message", s->target.sub_message, sf, 1, sneed, 1, e, sizeof e) < 0)
            ydoc_err_at(c, ts.node[8], "%s", e);
    }
    if (is_wsj) {
        static const char *const sf[] = {"ch", "offset"}, *const sneed[] = {"ch"}, *const rneed[] = {"ch", "offset"};
        if (!s->target.sub_message)
            ydoc_err_at(c, pnode, "target: protocol ws-json needs sub_message (the text that subscribes {ch}, e.g. "
                             "'{\"op\":\"sub\",\"ch\":\"{ch}\"}')");
        else if (strlen(s->target.sub_message) >= 256)
            ydoc_err_at(c, ts.node[8], "target.sub_message: at most 255 bytes");
        else if (proto_check_template("target.sub_message", s->target.sub_message, sf, 1, sneed, 1, e, sizeof e) < 0)
            ydoc_err_at(c, ts.node[8], "%s", e);
        if (s->target.resume_message) {
            if (strlen(s->target.resume_message) >= 256)
                ydoc_err_at(c, ts.node[9], "target.resume_message: at most 255 bytes");
            else if (proto_check_template("target.resume_message", s->target.resume_message, sf, 2, rneed, 2, e,
                                          sizeof e) < 0)
                ydoc_err_at(c, ts.node[9], "%s", e);
            if (!s->target.offset)
                ydoc_err_at(c, ts.node[9], "target.resume_message needs offset (where the server's offset sits in each "
                                      "message, e.g. seq)");
        }
        if (s->target.offset && !token_ok(s->target.offset, 127, "-_."))
            ydoc_err_at(c, ts.node[10], "target.offset '%s': expected a dot path of keys like seq or push.pub.offset",
                   s->target.offset);
    }
    if (templated) {
        if (s->target.resume_header && !token_ok(s->target.resume_header, 63, "-_"))
            ydoc_err_at(c, ts.node[3], "target.resume_header '%s': expected a header name like Last-Event-ID",
                   s->target.resume_header);
        if (s->target.resume_query && !token_ok(s->target.resume_query, 63, "-_."))
            ydoc_err_at(c, ts.node[4], "target.resume_query '%s': expected a query parameter name like lastEventID",
                   s->target.resume_query);
        if (s->target.resume_header && s->target.resume_query)
            ydoc_err_at(c, ts.node[4], "target.resume_query: give resume_header or resume_query, not both");
        if (s->target.payload && s->target.payload[0] &&
            (!token_ok(s->target.payload, 127, "-_.") || strstr(s->target.payload, "..") ||
             s->target.payload[0] == '.' || s->target.payload[strlen(s->target.payload) - 1] == '.'))
            ydoc_err_at(c, ts.node[5], "target.payload '%s': expected a dot path of keys like data or push.pub.data",
                   s->target.payload);
        static const char *const fields[] = {"payload", "ch"}, *const need[] = {"payload"};
        if (s->target.pub_body && strlen(s->target.pub_body) >= 512)
            ydoc_err_at(c, ts.node[7], "target.pub_body: at most 511 bytes");
        else if (s->target.pub_body &&
                 proto_check_template("target.pub_body", s->target.pub_body, fields, 2, need, 1, e, sizeof e) < 0)
            ydoc_err_at(c, ts.node[7], "%s", e);
    }
    /* the Pusher credentials: only pusher's; each a value or one ${VAR} */
    int is_pusher = p == &proto_pusher;
    static const char *const cred_env[] = {"PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_SECRET"};
    for (size_t k = 14; k <= 16; k++) {
        const char *v = k == 14 ? s->target.app_id : k == 15 ? s->target.key : s->target.secret;
        if (ts.node[k] && v && !is_pusher) {
            ydoc_err_at(c, ts.node[k], "target.%s: only for protocol pusher, not %s", k_target[k], p->name);
            continue;
        }
        if (!is_pusher)
            continue;
        int bad = 0;
        if (v) {
            size_t n = strlen(v);
            if (n > 3 && v[0] == '$' && v[1] == '{' && v[n - 1] == '}') {
                char name[128];
                bad = n - 3 >= sizeof name;
                if (!bad) {
                    memcpy(name, v + 2, n - 3);
                    name[n - 3] = '\0';
                    bad = !token_ok(name, sizeof name - 1, "_");
                }
            } else {
                bad = n == 0 || n > 63 || (k < 16 && !token_ok(v, 63, "-_.")) || strchr(v, '$');
                for (size_t i = 0; i < n && !bad; i++)
                    bad = (unsigned char)v[i] < ' ' || v[i] == 127;
            }
        }
        char buf[128];
        if (bad)
            ydoc_err_at(c, ts.node[k], "target.%s: expected %s, or ${NAME} to read it from the environment",
                        k_target[k], k < 16 ? "1 to 63 letters, digits, '-', '_' or '.'" : "1 to 63 bytes");
        /* like a header's ${VAR}: every credential must be there now, so a
         * run never starts without them (each error at its key) */
        else if (scenario_pusher_cred(k_target[k], v, cred_env[k - 14], buf, sizeof buf, e, sizeof e) < 0)
            ydoc_err_at(c, ts.node[k] ? ts.node[k] : pnode, "%s", e);
    }
    if (is_pusher && s->channels.pattern && strchr(s->channels.pattern, ':'))
        ydoc_err_at(c, pnode, "channels.pattern '%s': Pusher channel names may not contain ':' (letters, digits "
                              "and _-=@,.; only)",
                    s->channels.pattern);
    for (size_t i = 0; i < s->nclients; i++) {
        const scn_client_group *g = &s->clients[i];
        if (g->behavior != SCN_BH_SUBSCRIBER && !p->server_seq)
            ydoc_err_at(c, pnode, "clients[%zu] (%s): behavior %s speaks contract v1 only, not protocol %s", i,
                   g->name ? g->name : "?", behavior_names[g->behavior], p->name);
        if (!(p->transports & (1u << g->transport)))
            ydoc_err_at(c, g->transport_node ? g->transport_node : pnode,
                   "clients[%zu]: protocol %s has no %s transport", i, p->name, cltr_names[g->transport]);
        for (unsigned k = 0; k < g->nfallback; k++)
            if (!(p->transports & (1u << g->fallback[k])))
                ydoc_err_at(c, g->fallback_node, "clients[%zu]: fallback %s: protocol %s has no %s transport", i,
                       cltr_names[g->fallback[k]], p->name, cltr_names[g->fallback[k]]);
        if (p->max_channels_per_conn && g->channels_per_client > p->max_channels_per_conn &&
            !(p == &proto_sse && s->target.ch_join))
            ydoc_err_at(c, g->cpc_node ? g->cpc_node : pnode,
                   "clients[%zu]: protocol %s subscribes %u channel per connection, not %u", i, p->name,
                   p->max_channels_per_conn, g->channels_per_client);
    }
    check_extra_templates(c, s, &ts, p, pnode);
    if (s->publishers.transport == SCN_PUB_WS && !p->pub_ws)
        ydoc_err_at(c, pnode, "publishers.transport ws: protocol %s publishes over http only", p->name);
    if (s->server.redis_none && p->server_seq)
        ydoc_err_at(c, pnode, "server: {redis: none}: independent nodes number the same event differently; "
               "protocol %s judges by the server's seq, so give a protocol judged by the publisher's record "
               "(target.protocol: sse or ws-json, docs/targets.md)", p->name);
    if (s->publishers.batch > 1 && !p->pub_batch)
        ydoc_err_at(c, pnode, "publishers.batch %u: protocol %s takes one event per publish request", s->publishers.batch,
               p->name);
}

static void top_field(ydoc *c, void *obj, size_t key, int val, int keynode)
{
    (void)c;
    (void)keynode;
    top_seen *ts = obj;
    ts->val[key] = val;
}

/* ---- the whole scenario ---------------------------------------------------------------- */

void scenario_sections_defaults(scenario *s)
{
    s->seed = 1;
    s->warmup_us = 2 * US_PER_S;
    s->drain_us = 5 * US_PER_S;
    s->server.ready_timeout_us = 10 * US_PER_S;
    s->server.stop_timeout_us = 5 * US_PER_S;
    s->proxy.enabled = -1;
    s->proxy.ready_timeout_us = 10 * US_PER_S;
    s->channels.count = 1;
    s->publishers.rate_per_s = 10;
    s->publishers.schedule = SCN_SCHED_CONSTANT;
    s->publishers.burst_size = 10;
    s->publishers.burst_every_us = US_PER_S;
    s->publishers.payload_bytes = 64;
    s->publishers.transport = SCN_PUB_HTTP;
    s->publishers.batch = 1;
    s->publishers.idempotency_retries = 3;
    s->publishers.timeout_us = 5 * US_PER_S;
    s->publishers.connections = 4;
    s->harness.threads = 2;
    s->harness.workers = 1;
    s->harness.anomalies_per_kind = 200;
    s->harness.fresh_grace_ms = 1000;
}

static void group_defaults(scn_client_group *g)
{
    g->count = 1;
    g->transport = SCN_CL_WS;
    g->channels_per_client = 1;
    g->reconnect.enabled = 1;
    g->reconnect.initial_us = 100 * US_PER_MS;
    g->reconnect.max_us = 5 * US_PER_S;
    g->reconnect.jitter = 0.5;
    g->reconnect.honour_retry = 1;
    g->resume = 1;
    g->idle_timeout_us = 10 * US_PER_S;
    g->poll_timeout_us = US_PER_S;
    g->connect_timeout_us = 5 * US_PER_S;
    g->attack.rate_per_s = 1000;
    g->attack.messages = 2000;
    g->attack.bytes = 1u << 20;
    g->attack.byte_every_us = US_PER_S;
    g->attack.patience_us = 30 * US_PER_S;
    g->attack.pause_us = 100 * US_PER_MS;
}

/* A channel name the pattern yields for index i, as the fleet makes it
 * (fleet.c: the first {i} is the index; a pattern without one is checked
 * as it is). Valid names follow the server's rules:
 * [A-Za-z0-9._:-], no leading/trailing '.', no "..". */
static int pattern_name(const char *pat, unsigned i, char *buf, size_t cap)
{
    char num[16];
    snprintf(num, sizeof num, "%u", i);
    const tmpl_var v = {"i", num, TMPL_STRLEN, TMPL_RAW, 1};
    return tmpl_expand(pat, &v, 1, buf, cap) < 0 ? -1 : 0;
}

static int channel_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 128 || n[0] == '.' || n[len - 1] == '.' || strstr(n, ".."))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)n[i]) && !strchr("._:-", n[i]))
            return 0;
    return 1;
}

void scenario_sections_convert(ydoc *c, scenario *s, int has_target)
{
    int root = 1;
    top_seen ts = {.s = s};
    if (ydoc_walk_map(c, root, "the scenario", k_top, sizeof k_top / sizeof *k_top, top_field, &ts) < 0)
        return;
    int *v = ts.val;
    if (v[0])
        ydoc_str(c, v[0], &s->name);
    if (v[1])
        ydoc_want_scalar(c, v[1], "a description (a string)");
    if (v[2])
        ydoc_u64(c, v[2], 0, UINT64_MAX, &s->seed);
    if (!v[3])
        ydoc_err_at(c, root, "missing key 'duration' (how long the measured run lasts, e.g. 30s)");
    else if (get_duration(c, v[3], &s->duration_us) == 0 && s->duration_us == 0)
        ydoc_err_at(c, v[3], "duration must be above 0");
    if (v[4])
        get_duration(c, v[4], &s->warmup_us);
    if (v[5])
        get_duration(c, v[5], &s->drain_us);
    if (v[6]) {
        s->server.present = 1;
        if (!ydoc_is_null(ydoc_node(c, v[6])))
            ydoc_walk_map(c, v[6], "server", k_server, sizeof k_server / sizeof *k_server, server_field,
                     &s->server);
        if (s->server.nodes && !s->server.redis_auto && !s->server.redis_none)
            ydoc_err_at(c, v[6], "server: 'nodes' needs 'redis: auto' (the nodes share channels through the "
                   "harness's own redis-server) or 'redis: none' (independent nodes, sticky routing)");
        if (s->server.redis_none && s->server.nodes < 2)
            ydoc_err_at(c, v[6], "server: 'redis: none' needs 'nodes' above 1 (independent nodes; one node is the "
                   "plain server)");
        if (s->server.redis_auto && !s->server.nodes)
            s->server.nodes = 1;
        if (s->server.balance && s->server.nodes < 2)
            ydoc_err_at(c, v[6], "server: 'balance' needs 'nodes' above 1 (it picks among the nodes)");
        if (s->server.nodes && has_target)
            ydoc_err_at(c, v[6], "server: 'nodes' starts servers, which the harness does not do with --target");
    }
    if (v[7]) {
        yaml_node_t *n = ydoc_node(c, v[7]);
        int b;
        if (n->type == YAML_SCALAR_NODE && !strcmp(ydoc_scalar(n), "auto"))
            s->proxy.enabled = -1;
        else if (n->type == YAML_SCALAR_NODE && ydoc_parse_bool(ydoc_scalar(n), &b) == 0)
            s->proxy.enabled = b;
        else
            ydoc_walk_map(c, v[7], "proxy", k_proxy, sizeof k_proxy / sizeof *k_proxy, proxy_field,
                     &s->proxy);
    }
    if (v[8])
        ydoc_walk_map(c, v[8], "channels", k_channels, sizeof k_channels / sizeof *k_channels,
                 channels_field, &s->channels);
    if (!s->channels.pattern)
        s->channels.pattern = strdup("ch{i}");
    if (v[9])
        ydoc_walk_map(c, v[9], "publishers", k_pub, sizeof k_pub / sizeof *k_pub, pub_field, &s->publishers);
    if (v[10]) {
        if (ydoc_want_seq(c, v[10], "clients") == 0) {
            size_t n = ydoc_seq_len(c, v[10]);
            if (n == 0)
                ydoc_err_at(c, v[10], "clients: expected at least one client group");
            s->clients = calloc(n ? n : 1, sizeof *s->clients);
            for (size_t i = 0; i < n; i++) {
                scn_client_group *g = &s->clients[s->nclients++];
                group_defaults(g);
                char where[64];
                snprintf(where, sizeof where, "clients[%zu]", i);
                int item = ydoc_seq_item(c, v[10], i);
                client_seen cs = {.g = g};
                ydoc_walk_map(c, item, where, k_client, sizeof k_client / sizeof *k_client, client_field, &cs);
                check_behavior(c, &cs, item, where);
                check_fallback(c, cs.g, where);
                check_deflate(c, cs.g, where);
                check_caps(c, s, cs.g, where);
                if (!g->name) {
                    char nm[32];
                    snprintf(nm, sizeof nm, "group%zu", i);
                    g->name = strdup(nm);
                }
                if (g->channels_per_client > s->channels.count)
                    ydoc_err_at(c, item, "%s: channels_per_client %u is more than channels.count %u", where,
                           g->channels_per_client, s->channels.count);
                if (g->reconnect.max_us < g->reconnect.initial_us)
                    ydoc_err_at(c, item, "%s: reconnect.max (%llums) is below reconnect.initial (%llums)", where,
                           (unsigned long long)(g->reconnect.max_us / US_PER_MS),
                           (unsigned long long)(g->reconnect.initial_us / US_PER_MS));
                for (size_t j = 0; j + 1 < s->nclients; j++)
                    if (!strcmp(s->clients[j].name, g->name))
                        ydoc_err_at(c, item, "%s: duplicate group name '%s'", where, g->name);
            }
        }
    } else
        ydoc_err_at(c, root, "missing key 'clients' (a list of client groups, e.g. - {count: 100, transport: ws})");

    /* Channel names: the first and last the pattern yields must be valid. */
    if (s->channels.pattern) {
        char a[160], b[160];
        int bad = pattern_name(s->channels.pattern, 0, a, sizeof a) < 0 ||
                  pattern_name(s->channels.pattern, s->channels.count - 1, b, sizeof b) < 0 ||
                  !channel_name_ok(a) || !channel_name_ok(b);
        if (!bad && s->channels.count > 1 && !strcmp(a, b))
            ydoc_err_at(c, v[8] ? v[8] : root,
                   "channels.pattern '%s' gives every channel the same name: put {i} in it",
                   s->channels.pattern);
        else if (bad)
            ydoc_err_at(c, v[8] ? v[8] : root,
                   "channels.pattern '%s' makes invalid channel names: expected [A-Za-z0-9._:-], at most "
                   "128 bytes, no leading/trailing '.' or '..'",
                   s->channels.pattern);
    }
    if (s->publishers.schedule == SCN_SCHED_BURSTS && s->publishers.burst_every_us == 0)
        ydoc_err_at(c, v[9], "publishers.burst_every must be above 0");
    if (s->publishers.start_us && s->publishers.start_us >= s->warmup_us + s->duration_us)
        ydoc_err_at(c, v[9], "publishers.start must be before the end of warmup + duration (nothing would be published)");

    if (v[15]) {
        ydoc_walk_map(c, v[15], "network", k_network, sizeof k_network / sizeof *k_network, network_field, &s->network);
        if (s->network.namespaces && has_target)
            ydoc_err_at(c, v[15],
                   "network.namespaces: the harness puts the server it starts in a network namespace; a "
                   "--target outside the namespaces cannot be placed there (run without --target)");
    }
    if (v[11]) {
        if (ydoc_want_seq(c, v[11], "faults") == 0) {
            size_t n = ydoc_seq_len(c, v[11]);
            s->faults = calloc(n ? n : 1, sizeof *s->faults);
            for (size_t i = 0; i < n; i++) {
                scn_fault *f = &s->faults[s->nfaults++];
                toxic_defaults(&f->toxic);
                fault_seen fs = {.f = f};
                f->node = -1;
                char where[64];
                snprintf(where, sizeof where, "faults[%zu]", i);
                int item = ydoc_seq_item(c, v[11], i);
                ydoc_pos(c, item, &f->line, &f->col);
                size_t before = c->nerr;
                if (ydoc_walk_map(c, item, where, k_fault, sizeof k_fault / sizeof *k_fault, fault_field,
                             &fs) < 0)
                    continue;
                if (fs.action_count != 1) {
                    ydoc_err_at(c, item,
                           "%s: expected exactly one action: 'toxic: TYPE', 'disconnect: FRACTION', "
                           "'server: kill|pause|restart' or a kernel fault (packet_loss, partition, "
                           "partition_oneway, tcp_reset, rate, mtu, delay, reorder)%s",
                           where, fs.action_count ? " (found several)" : "");
                    continue;
                }
                if (!fs.key_node[1])
                    ydoc_err_at(c, item, "%s: missing key 'at' (when the fault starts, e.g. 10s)", where);
                int is_toxic = f->kind == SCN_FAULT_TOXIC;
                for (int k = 4; k <= 6; k++)
                    if (fs.key_node[k] && !is_toxic)
                        ydoc_err_at(c, fs.key_node[k], "%s: '%s' only applies to a toxic fault", where, k_fault[k]);
                if (fs.key_node[7] && f->kind != SCN_FAULT_TOXIC && f->kind != SCN_FAULT_SERVER_PAUSE &&
                    f->kind != SCN_FAULT_NETWORK)
                    ydoc_err_at(c, fs.key_node[7], "%s: 'flap' applies to a toxic, a kernel fault or a server pause",
                           where);
                if (fs.key_node[9] && f->kind != SCN_FAULT_DISCONNECT && f->kind != SCN_FAULT_NETWORK)
                    ydoc_err_at(c, fs.key_node[9], "%s: 'group' only applies to a disconnect or a kernel fault", where);
                if (fs.key_node[K_FAULT_DIRECTION] && f->kind != SCN_FAULT_NETWORK)
                    ydoc_err_at(c, fs.key_node[K_FAULT_DIRECTION],
                           "%s: 'direction' only applies to a kernel fault (a toxic has 'stream')", where);
                if (f->kind == SCN_FAULT_NETWORK) {
                    int kn = fs.key_node[K_FAULT_NET0 + f->net.kind];
                    if (!s->network.namespaces)
                        ydoc_err_at(c, kn,
                               "%s: '%s' is a kernel fault: it needs 'network: {namespaces: true}' (the harness "
                               "then runs the server and the clients in network namespaces)",
                               where, scenario_net_kind_str(f->net.kind));
                    if (f->net.kind == SCN_NET_PARTITION_ONEWAY && f->net.direction == SCN_DIR_BOTH)
                        ydoc_err_at(c, fs.key_node[K_FAULT_DIRECTION] ? fs.val_node[K_FAULT_DIRECTION] : kn,
                               "%s: partition_oneway needs 'direction: upstream' or 'direction: downstream' (use "
                               "partition for both ways)",
                               where);
                    if (f->net.kind == SCN_NET_MTU && (f->net.direction != SCN_DIR_BOTH || f->group))
                        ydoc_err_at(c, kn, "%s: mtu applies to the whole link (both ways, every group): remove "
                               "'direction' and 'group'", where);
                }
                if (f->kind == SCN_FAULT_DISCONNECT && fs.key_node[2])
                    ydoc_err_at(c, fs.key_node[2], "%s: a disconnect is instantaneous: it takes no 'for'", where);
                if (f->kind == SCN_FAULT_SERVER_PAUSE && !f->has_for)
                    ydoc_err_at(c, item, "%s: a pause needs 'for' (how long the server stays stopped)", where);
                if (f->kind == SCN_FAULT_SERVER_RESTART && fs.key_node[2])
                    ydoc_err_at(c, fs.key_node[2],
                           "%s: a restart takes no 'for' (use 'server: kill' with 'for' for downtime)", where);
                if (fs.key_node[K_FAULT_NODE] && f->target != SCN_TGT_NODE)
                    ydoc_err_at(c, fs.key_node[K_FAULT_NODE], "%s: 'node' only applies to kill-node, pause-node and "
                           "restart-node", where);
                if (f->target == SCN_TGT_NODE && s->server.nodes < 2)
                    ydoc_err_at(c, fs.key_node[10], "%s: 'server: %s-node' needs 'server: {nodes: N}' with N > 1 "
                           "(the other nodes keep serving)", where, scenario_fault_kind_str(f->kind));
                else if (f->target == SCN_TGT_NODE && f->node >= (int)s->server.nodes)
                    ydoc_err_at(c, fs.val_node[K_FAULT_NODE], "%s: node %d: expected 0..%u or random", where, f->node,
                           s->server.nodes - 1);
                if (f->target == SCN_TGT_REDIS && !s->server.redis_auto)
                    ydoc_err_at(c, fs.key_node[10], "%s: a Redis fault needs 'server: {redis: auto}'", where);
                if (f->kind >= SCN_FAULT_SERVER_KILL && f->target == SCN_TGT_SERVER && s->server.nodes)
                    ydoc_err_at(c, fs.key_node[10], "%s: with 'server: {nodes: N}' use kill-node, pause-node or "
                           "restart-node", where);
                if (f->has_for && f->for_us == 0 && fs.key_node[2])
                    ydoc_err_at(c, fs.key_node[2], "%s: 'for' must be above 0", where);
                if (c->nerr != before)
                    continue;
                if (f->at_us >= s->duration_us && s->duration_us)
                    ydoc_err_at(c, fs.val_node[1] ? fs.val_node[1] : item,
                           "%s: starts at %.3fs, beyond the duration (%.3fs): expected at < duration", where,
                           f->at_us / 1e6, s->duration_us / 1e6);
                else if (f->has_for && f->at_us + f->for_us > s->duration_us && s->duration_us)
                    ydoc_err_at(c, fs.val_node[2], "%s: ends at %.3fs, beyond the duration (%.3fs): expected at + for <= duration",
                           where, (f->at_us + f->for_us) / 1e6, s->duration_us / 1e6);
                if ((f->kind == SCN_FAULT_DISCONNECT || f->kind == SCN_FAULT_NETWORK) && f->group) {
                    size_t j;
                    for (j = 0; j < s->nclients; j++)
                        if (!strcmp(s->clients[j].name, f->group))
                            break;
                    if (j == s->nclients) {
                        const char *names[64];
                        size_t k = 0;
                        for (j = 0; j < s->nclients && k < 64; j++)
                            names[k++] = s->clients[j].name;
                        const char *near = ydoc_closest(f->group, names, k);
                        char list[512];
                        ydoc_join_list(list, sizeof list, names, k);
                        if (near)
                            ydoc_err_at(c, fs.val_node[9], "%s: no client group named '%s' (did you mean '%s'?)",
                                   where, f->group, near);
                        else
                            ydoc_err_at(c, fs.val_node[9], "%s: no client group named '%s'; groups: %s", where,
                                   f->group, list);
                    }
                }
                if (f->kind >= SCN_FAULT_SERVER_KILL && has_target)
                    ydoc_err_at(c, fs.key_node[10], "%s: 'server: %s' acts on the server's process, which the "
                           "harness does not run with --target; remove this fault or run without --target",
                           where, scenario_fault_kind_str(f->kind));
                if (f->kind == SCN_FAULT_TOXIC && s->proxy.enabled == 0)
                    ydoc_err_at(c, item, "%s: a toxic fault needs the proxy, but proxy.enabled is false", where);
                if (!f->name) {
                    char nm[96], d[32];
                    snprintf(nm, sizeof nm, "%s@%s",
                             f->kind == SCN_FAULT_TOXIC     ? f->toxic.type
                             : f->kind == SCN_FAULT_NETWORK ? scenario_net_kind_str(f->net.kind)
                             : f->target                    ? server_actions[f->target * 3 + (f->kind - SCN_FAULT_SERVER_KILL)]
                                                            : scenario_fault_kind_str(f->kind),
                             scenario_format_duration(f->at_us, d, sizeof d));
                    f->name = strdup(nm);
                }
                if (fs.val_node[0] && f->name) {
                    for (const char *q = f->name; *q; q++)
                        if (!isalnum((unsigned char)*q) && !strchr("._@:-", *q)) {
                            ydoc_err_at(c, fs.val_node[0], "%s: name '%s': expected letters, digits and . _ @ : - only",
                                   where, f->name);
                            break;
                        }
                }
                if (f->kind == SCN_FAULT_TOXIC && !f->toxic.name)
                    f->toxic.name = strdup(f->name);
            }
            for (size_t i = 0; i < s->nfaults; i++)
                for (size_t j = 0; j < i; j++)
                    if (s->faults[i].name && s->faults[j].name && !strcmp(s->faults[i].name, s->faults[j].name))
                        ydoc_note(c, "%s:%d:%d: faults[%zu]: duplicate fault name '%s' (give it a 'name')",
                                     c->file, s->faults[i].line, s->faults[i].col, i, s->faults[i].name);
        }
    }
    /* Server-process faults act on one process: their windows may not
     * overlap (checked once every fault itself is valid). */
    for (size_t i = 0; i < s->nfaults && c->nerr == 0; i++) {
        const scn_fault *a = &s->faults[i];
        if (a->kind < SCN_FAULT_SERVER_KILL)
            continue;
        uint64_t a_end = a->kind == SCN_FAULT_SERVER_RESTART ? a->at_us
                         : a->has_for                        ? a->at_us + a->for_us
                                                             : s->duration_us;
        for (size_t j = i + 1; j < s->nfaults; j++) {
            const scn_fault *b = &s->faults[j];
            if (b->kind < SCN_FAULT_SERVER_KILL)
                continue;
            uint64_t b_end = b->kind == SCN_FAULT_SERVER_RESTART ? b->at_us
                             : b->has_for                        ? b->at_us + b->for_us
                                                                 : s->duration_us;
            if (a->at_us <= b_end && b->at_us <= a_end)
                ydoc_note(c, "%s:%d:%d: faults[%zu]: overlaps faults[%zu] ('%s'): server faults act on "
                             "one process and must not overlap in time",
                             c->file, b->line, b->col, j, i, a->name ? a->name : "?");
        }
    }
    if (s->proxy.enabled == 0 && s->proxy.ntoxics)
        ydoc_err_at(c, v[7], "proxy: toxics are listed but enabled is false");

    if (v[13]) {
        ydoc_walk_map(c, v[13], "harness", k_harness, sizeof k_harness / sizeof *k_harness, harness_field,
                 &s->harness);
        if (s->network.namespaces && s->harness.nsource_addrs)
            ydoc_err_at(c, v[13], "harness.source_addrs: with network.namespaces the harness gives each client group "
                   "its own address inside the clients' namespace; remove source_addrs");
    }
    if (s->network.namespaces && s->nclients > 200)
        ydoc_err_at(c, v[10] ? v[10] : root, "network.namespaces: at most 200 client groups (one address each)");
    if (v[14])
        parse_target(c, s, v[14]);
    else if (s->server.redis_none)
        ydoc_err_at(c, v[6], "server: {redis: none}: independent nodes number the same event differently; "
               "the default protocol v1 judges by the server's seq, so give a protocol judged by the publisher's "
               "record (target.protocol: sse or ws-json, docs/targets.md)");
    if (v[12]) {
        if (ydoc_want_seq(c, v[12], "budgets") == 0) {
            size_t n = ydoc_seq_len(c, v[12]);
            s->budgets = calloc(n ? n : 1, sizeof *s->budgets);
            for (size_t i = 0; i < n; i++)
                scenario_budget_parse(c, s, ydoc_seq_item(c, v[12], i), &s->budgets[s->nbudgets++]);
        }
    }
}

/* ---- the --set paths, for `rtchaos list keys` --------------------------------------- */

#define KEYS(a) a, sizeof a / sizeof *a

static void print_keys(FILE *f, const char *prefix, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s\n", prefix, keys[i]);
}

void scenario_print_set_keys(FILE *f)
{
    /* the sections of k_top whose value is a mapping or a list of mappings;
     * every other top-level key is a value of its own */
    static const struct {
        const char *key, *prefix;
        const char *const *keys;
        size_t n;
    } sect[] = {
        {"server", "server.", KEYS(k_server)},
        {"proxy", "proxy.", KEYS(k_proxy)},
        {"proxy", "proxy.toxics.0.", KEYS(k_toxic)},
        {"channels", "channels.", KEYS(k_channels)},
        {"publishers", "publishers.", KEYS(k_pub)},
        {"clients", "clients.0.", KEYS(k_client)},
        {"clients", "clients.0.reconnect.", KEYS(k_reconnect)},
        {"clients", "clients.0.attack.", KEYS(k_attack)},
        {"faults", "faults.0.", KEYS(k_fault)},
        {"faults", "faults.0.flap.", KEYS(k_flap)},
        {"harness", "harness.", KEYS(k_harness)},
        {"target", "target.", KEYS(k_target)},
        {"network", "network.", KEYS(k_network)},
    };
    for (size_t t = 0; t < sizeof k_top / sizeof *k_top; t++) {
        int had = 0;
        for (size_t k = 0; k < sizeof sect / sizeof *sect; k++)
            if (!strcmp(sect[k].key, k_top[t])) {
                print_keys(f, sect[k].prefix, sect[k].keys, sect[k].n);
                had = 1;
            }
        if (!had && !strcmp(k_top[t], "budgets"))
            fprintf(f, "budgets.0\n");
        else if (!had)
            fprintf(f, "%s\n", k_top[t]);
    }
}

/* ---- names (the JSON form, report.json's "scenario": scenario_json.c) ----------- */

const char *scenario_fault_kind_str(scn_fault_kind k)
{
    switch (k) {
    case SCN_FAULT_TOXIC: return "toxic";
    case SCN_FAULT_DISCONNECT: return "disconnect";
    case SCN_FAULT_NETWORK: return "network";
    case SCN_FAULT_SERVER_KILL: return "kill";
    case SCN_FAULT_SERVER_PAUSE: return "pause";
    case SCN_FAULT_SERVER_RESTART: return "restart";
    }
    return "?";
}

const char *scenario_net_kind_str(scn_net_kind k)
{
    return (unsigned)k < SCN_NET_KINDS ? k_fault[K_FAULT_NET0 + k] : "?";
}

const char *scenario_direction_str(scn_direction d)
{
    return (unsigned)d < 3 ? direction_names[d] : "?";
}

const char *scenario_client_transport_str(scn_client_transport t)
{
    return (unsigned)t < 3 ? cltr_names[t] : "?";
}

const char *scenario_behavior_str(scn_behavior b)
{
    return (unsigned)b < 4 ? behavior_names[b] : "?";
}

const char *scenario_schedule_str(scn_schedule k)
{
    return (unsigned)k < 3 ? sched_names[k] : "?";
}

const char *scenario_pub_transport_str(scn_pub_transport t)
{
    return (unsigned)t < 2 ? pubtr_names[t] : "?";
}

const char *scenario_deflate_str(int deflate)
{
    return deflate >= 0 && deflate < 3 ? deflate_names[deflate] : "?";
}

const char *scenario_via_str(int via_http)
{
    return via_names[via_http ? 1 : 0];
}
