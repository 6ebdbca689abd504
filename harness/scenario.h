/* scenario.h — a run's scenario: YAML (libyaml) → validated struct, with
 * file:line:col diagnostics, `--set path=value` overrides and durations.
 * Implemented by scenario.c (the model), scenario_load.c (loading),
 * scenario_set.c (--set), scenario_sections.c (the sections, names, JSON
 * form), on ydoc.c (YAML with diagnostics, shared with suite files). */
#ifndef RTCHAOS_SCENARIO_H
#define RTCHAOS_SCENARIO_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Every duration is in µs. Every count is unsigned. Strings are owned by the
 * scenario and freed by scenario_free. */

typedef enum scn_schedule { SCN_SCHED_CONSTANT = 0, SCN_SCHED_POISSON, SCN_SCHED_BURSTS } scn_schedule;
typedef enum scn_pub_transport { SCN_PUB_HTTP = 0, SCN_PUB_WS } scn_pub_transport;
typedef enum scn_client_transport { SCN_CL_WS = 0, SCN_CL_SSE, SCN_CL_POLL } scn_client_transport;

/* How to start rtchaos-server (absent with --target). */
typedef struct scn_server {
    int present;              /* 1 when the scenario has a server: block */
    char *bin;                /* path to the binary; NULL = rtchaos-server beside rtchaos */
    char **args;              /* extra command-line flags, passed verbatim */
    size_t nargs;
    char *config;             /* --config FILE, resolved relative to the scenario; NULL = none */
    uint64_t ready_timeout_us;/* readiness deadline (default 10 s) */
    uint64_t stop_timeout_us; /* SIGTERM → exit deadline before SIGKILL (default 5 s) */
    unsigned nodes;           /* 0 = one plain server; 1..16 nodes brokered through Redis (--redis) */
    int redis_auto;           /* redis: auto — the harness runs its own redis-server */
    int redis_none;           /* redis: none — independent nodes (sticky routing, no broker): the
                               * publisher posts every event to every node */
    char *balance;            /* the proxy pool's policy over the nodes (default roundrobin) */
} scn_server;

#define SCN_NODES_MAX 16

/* One toxic (any rtchaos-proxy fault), as sent to the proxy's API. */
typedef struct scn_toxic {
    char *name;               /* NULL = the proxy's default <type>_<stream> */
    char *type;               /* latency, bandwidth, blackhole, ws_drop, … */
    char *stream;             /* "downstream" (default) or "upstream" */
    double toxicity;          /* fraction of connections it applies to, 0..1 (default 1) */
    json_t *attributes;       /* object passed through unchanged (owned) */
} scn_toxic;

typedef struct scn_proxy {
    int enabled;              /* -1: only when the scenario has network faults (default), 0 off, 1 on */
    char *bin;                /* NULL = rtchaos-proxy beside rtchaos */
    char **args;              /* extra flags, verbatim */
    size_t nargs;
    uint64_t ready_timeout_us;/* default 10 s */
    scn_toxic *toxics;        /* toxics present for the whole run */
    size_t ntoxics;
} scn_proxy;

typedef struct scn_channels {
    unsigned count;           /* default 1 */
    char *pattern;            /* name pattern, "{i}" replaced by 0..count-1; default "ch{i}" */
    unsigned history;         /* server history size in events per channel; 0 = server default */
} scn_channels;

typedef struct scn_publishers {
    double rate_per_s;        /* events per second per channel (default 10) */
    scn_schedule schedule;
    unsigned burst_size;      /* bursts: events per burst (default 10) */
    uint64_t burst_every_us;  /* bursts: interval between bursts (default 1 s) */
    unsigned payload_bytes;   /* size of each event's data, >= 16 (default 64) */
    int payload_fields;       /* payload: fields (1: an object whose fields change at different rates,
                                 fleet/payload.h) or string (0, default: a padded string) */
    int payload_node;         /* where `payload` was written (0 = absent) */
    scn_pub_transport transport;
    unsigned batch;           /* events per publish request (default 1) */
    unsigned idempotency_retries; /* retries of a failed publish with the same "id" (default 3) */
    uint64_t timeout_us;      /* ack deadline of a publish request before a retry (default 5 s) */
    unsigned connections;     /* parallel publish connections (default 4) */
    char *token;              /* bearer token of publish requests; NULL = none */
    uint64_t start_us;        /* publishing starts this long after the clients (default 0) */
} scn_publishers;

typedef struct scn_reconnect {
    int enabled;              /* default 1 */
    uint64_t initial_us;      /* first backoff (default 100 ms); doubles per failed attempt */
    uint64_t max_us;          /* cap (default 5 s) */
    double jitter;            /* fraction of the backoff drawn at random, 0..1 (default 0.5) */
    unsigned max_attempts;    /* per disconnect; 0 = unlimited (default) */
    int honour_retry;         /* use SSE retry: as the backoff (default 1) */
} scn_reconnect;

/* What a group's clients do: subscribe (the normal client), or attack. */
typedef enum scn_behavior { SCN_BH_SUBSCRIBER = 0, SCN_BH_FLOOD, SCN_BH_OVERSIZED, SCN_BH_SLOWLORIS } scn_behavior;

#define SCN_EXPECT_MAX 8
#define SCN_OUTCOME_CLOSED 0      /* in expect: the server hung up without an answer */

/* An attacker group's `attack:` mapping (docs/scenarios.md). */
typedef struct scn_attack {
    unsigned rate_per_s;      /* flood: messages per second per connection (default 1000) */
    unsigned messages;        /* flood: messages per connection at most (default 2000) */
    uint64_t bytes;           /* oversized: message / body size (default 1 MiB) */
    int via_http;             /* oversized: POST /publish/<ch> instead of a WS message */
    uint64_t byte_every_us;   /* slowloris: one byte of the head per this (default 1 s) */
    uint64_t patience_us;     /* time the server has to refuse before "not rejected" (default 30 s) */
    uint64_t pause_us;        /* between attempts (default 100 ms) */
    unsigned attempts;        /* per client; 0 = until the run ends (default) */
    int expect[SCN_EXPECT_MAX]; /* WS close codes, HTTP statuses, or SCN_OUTCOME_CLOSED */
    unsigned n_expect;        /* 0 = the behaviour's default */
} scn_attack;

typedef struct scn_client_group {
    char *name;               /* default "group<index>" */
    scn_behavior behavior;    /* default subscriber */
    scn_attack attack;        /* attacker groups only */
    unsigned count;
    scn_client_transport transport;
    unsigned channels_per_client; /* default 1 */
    uint64_t ramp_up_us;      /* spread connects over this time (default 0) */
    uint64_t read_rate_bytes_per_s; /* slow consumer: throttled reads; 0 = unthrottled */
    scn_reconnect reconnect;
    int resume;               /* resume with since / Last-Event-ID on reconnect (default 1) */
    char *token;              /* bearer token; NULL = none */
    uint64_t idle_timeout_us; /* nothing received for this long → reconnect (default 10 s) */
    uint64_t poll_timeout_us; /* poll: timeout_ms of each long-poll (default 1 s) */
    uint32_t read_rate_msgs_per_s; /* slow consumer: messages processed per second; 0 = no cap */
    uint64_t connect_timeout_us;   /* TCP + handshake deadline (default 5 s) */
    int deflate;              /* WS permessage-deflate: 0 off, 1 offer, 2 require (fleet_deflate) */
    int deflate_node;         /* where `deflate` was written (0 = absent) */
    int batch;                /* v1 WS: ask for batch messages (wire contract §4.1) */
    int batch_node;
    int delta;                /* v1 WS/SSE: ask for delta events, rebuild and check each value */
    int delta_node;
    scn_client_transport fallback[2]; /* tried in order when the transport before is refused */
    unsigned nfallback;
    int fallback_node;        /* where `fallback` was written (for errors found later); 0 = absent */
    int transport_node;       /* where `transport` / `channels_per_client` were written (0 = absent), */
    int cpc_node;             /* for what the target's protocol cannot do */
} scn_client_group;

/* The server's protocol (`target:`; `--protocol` sets target.protocol).
 * docs/targets.md lists the protocols and their options. */
typedef struct scn_target {
    char *protocol;           /* an adapter name (fleet/proto.h); NULL = "v1" (wire contract v1) */
    char *sub_path;           /* subscriber location with {ch}; NULL = the adapter's default */
    char *pub_path;           /* publisher location with {ch}; NULL = the adapter's default */
    /* templated protocols (sse) only; NULL = absent: */
    char *resume_header;      /* header carrying the last event id on reconnect */
    char *resume_query;       /* or query parameter carrying it */
    char *payload;            /* dot path to the record inside each event's JSON */
    char *pub_method;         /* POST (default), PUT or PATCH */
    char *pub_body;           /* publish body template with {payload} (and {ch}) */
    char *sub_message;        /* ws-json: the text that subscribes {ch} */
    char *resume_message;     /* ws-json: the same resuming after {offset} */
    char *offset;             /* ws-json: dot path of the server's offset in each message */
    char **headers;           /* extra request headers "Name: value", ${VAR} read from the environment
                                 when the run starts (kept unexpanded here: never written out) */
    size_t nheaders;
    char *ca;                 /* https/wss targets: CA file the server's certificate must chain to
                                 (NULL = the system store; --ca FILE) */
    int insecure;             /* https/wss: accept any certificate (explicit only; never a default) */
    /* pusher: the app's id, key and secret (NULL = from PUSHER_APP_ID,
     * PUSHER_KEY, PUSHER_SECRET when the run starts); ${VAR} read from the
     * environment then; the secret is never written out */
    char *app_id;
    char *key;
    char *secret;
    char *ch_join;            /* sse: text between channel names when one stream carries several */
    char *pub_message;        /* ws-json: publish over the WebSocket, {payload} and {ch} */
    char *ping_match;         /* ws-json: a JSON object; an inbound message holding it is the server's ping */
    char *pong_message;       /* ws-json: the answer, {ping} / {ping.PATH} */
    char *ping_message;       /* ws-json: a client ping ({n}) sent every ping_interval_us */
    uint64_t ping_interval_us;
} scn_target;

/* How the harness itself runs the fleet (CLI flags override). */
typedef struct scn_harness {
    unsigned threads;         /* event-loop threads per process (default 2) */
    unsigned workers;         /* client processes (default 1; --workers N) */
    char **source_addrs;      /* local IPv4 addresses clients bind to, round-robin; none = kernel's */
    size_t nsource_addrs;
    unsigned anomalies_per_kind; /* examples kept per anomaly kind (default 200) */
    unsigned fresh_grace_ms;     /* a head-less fresh subscription owes what is published this
                                    long after it starts (default 1000; fleet_cfg.fresh_grace_ms) */
    char *metrics_addr;          /* HOST:PORT for the live Prometheus endpoint; NULL = none
                                    (--metrics-addr overrides) */
    char *server_metrics;        /* "auto" (NULL: scrape our own rtchaos-server's /metrics), "off",
                                    or http://HOST:PORT/PATH of a foreign server's metrics */
    char *push_url;              /* Pushgateway base URL http://HOST:PORT: the final figures are
                                    pushed there after the report; NULL = none (--push-url overrides) */
    uint64_t metrics_linger_us;  /* keep serving the final figures this long after the report
                                    (default 0; --metrics-linger overrides) */
    int record_series;           /* record the server's, proxy's and harness's own metrics every
                                    second into RUN/series.yml (promtool test input; default 0) */
} scn_harness;

typedef enum scn_fault_kind {
    SCN_FAULT_TOXIC = 0,      /* add a toxic for [at, at+for) */
    SCN_FAULT_DISCONNECT,     /* cut a fraction of clients at `at` (reconnect storm) */
    SCN_FAULT_NETWORK,        /* a kernel fault on the namespaces' veth link for [at, at+for) */
    SCN_FAULT_SERVER_KILL,    /* SIGKILL the server; restart on the same port after `for` (if given) */
    SCN_FAULT_SERVER_PAUSE,   /* SIGSTOP for `for`, then SIGCONT */
    SCN_FAULT_SERVER_RESTART, /* SIGTERM, then start again on the same port */
} scn_fault_kind;

/* Kernel network faults (network: {namespaces: true}; docs/network.md). */
typedef enum scn_net_kind {
    SCN_NET_LOSS = 0,         /* packet_loss: nftables numgen random drop */
    SCN_NET_PARTITION,        /* partition: nftables drop, both ways, silent (no FIN, no RST) */
    SCN_NET_PARTITION_ONEWAY, /* partition_oneway: nftables drop, one direction */
    SCN_NET_RESET,            /* tcp_reset: nftables reject with tcp reset */
    SCN_NET_RATE,             /* rate: htb class (token bucket) on the sending veth end */
    SCN_NET_MTU,              /* mtu: both veth ends' MTU */
    SCN_NET_DELAY,            /* delay: netem (only where the kernel has it) */
    SCN_NET_REORDER,          /* reorder: netem (only where the kernel has it) */
} scn_net_kind;
#define SCN_NET_KINDS 8

/* Direction on the link: upstream = clients → server, downstream = server → clients. */
typedef enum scn_direction { SCN_DIR_BOTH = 0, SCN_DIR_UPSTREAM, SCN_DIR_DOWNSTREAM } scn_direction;

typedef struct scn_netfault {
    scn_net_kind kind;
    scn_direction direction;  /* default both (partition_oneway: required, not both) */
    double percent;           /* packet_loss, reorder: 0 < percent <= 100 */
    uint64_t rate_kbit_per_s; /* rate */
    unsigned mtu_bytes;       /* mtu: 576..1500 */
    uint64_t delay_us;        /* delay (and reorder's base delay, default 10 ms) */
    uint64_t jitter_us;       /* delay: ± this (default 0) */
} scn_netfault;

/* How the harness places the parts on the network. */
typedef struct scn_network {
    int namespaces;           /* 1: server side and clients in two network namespaces joined by a veth pair */
} scn_network;

typedef struct scn_fault {
    scn_fault_kind kind;
    char *name;               /* default "<kind>@<at>" */
    uint64_t at_us;           /* from the start of the measured run (after warm-up) */
    uint64_t for_us;          /* 0 = until the end of the run (toxic), instant (disconnect) */
    int has_for;
    scn_toxic toxic;          /* TOXIC */
    double fraction;          /* DISCONNECT: 0..1 of the clients */
    char *group;              /* DISCONNECT, NETWORK: only this client group; NULL = all */
    scn_netfault net;         /* NETWORK */
    uint64_t flap_on_us;      /* TOXIC/PAUSE: flap on for this, off for flap_off, within [at, at+for) */
    uint64_t flap_off_us;     /* 0,0 = no flapping */
    int line, col;            /* where it is declared (1-based), for messages */
    int target;               /* SERVER_*: SCN_TGT_SERVER, SCN_TGT_NODE or SCN_TGT_REDIS */
    int node;                 /* SCN_TGT_NODE: 0-based index, -1 = random (from the run's seed) */
} scn_fault;

enum { SCN_TGT_SERVER = 0, SCN_TGT_NODE, SCN_TGT_REDIS };

typedef enum scn_op { SCN_OP_LE = 0, SCN_OP_LT, SCN_OP_GE, SCN_OP_GT, SCN_OP_EQ, SCN_OP_NE } scn_op;

typedef struct scn_budget {
    char *metric;             /* a name from verdict_metrics (p95_live_ms, lost, …) */
    scn_op op;
    double value;
    char *text;               /* the budget as written, e.g. "p95_live_ms <= 50" */
    int line, col;
} scn_budget;

typedef struct scenario {
    char *path;               /* the file it came from */
    char *dir;                /* its folder (relative paths resolve against it) */
    char *name;
    uint64_t seed;            /* default 1 */
    uint64_t duration_us;     /* measured run */
    uint64_t warmup_us;       /* before t=0: clients connect, nothing published (default 2 s) */
    uint64_t drain_us;        /* after the run: wait for in-flight deliveries up to this (default 5 s) */
    scn_server server;
    scn_proxy proxy;
    scn_channels channels;
    scn_publishers publishers;
    scn_client_group *clients;
    size_t nclients;
    scn_fault *faults;
    size_t nfaults;
    scn_budget *budgets;
    size_t nbudgets;
    scn_harness harness;
    scn_target target;
    scn_network network;
} scenario;

/* Diagnostics collected while loading: every error, each one line
 * "file:line:col: message" (or "--set path=value: message"). */
typedef struct scn_diag {
    char **msgs;
    size_t n, cap;
} scn_diag;

void scn_diag_init(scn_diag *d);
void scn_diag_free(scn_diag *d);
/* Appends one formatted message (copied). */
void scn_diag_add(scn_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options that change what is valid. */
typedef struct scn_load_opts {
    const char *const *sets;  /* "path=value" overrides, applied in order */
    size_t nsets;
    int has_target;           /* --target given: server-process faults are errors */
} scn_load_opts;

/* Loads and validates the scenario at path. On success returns 0 and fills
 * *out (the caller frees it with scenario_free). On any error returns -1,
 * appends every error found to diag (never stops at the first one) and leaves
 * *out freed. Not thread-safe (libyaml state is local, but the caller owns
 * out and diag). */
int scenario_load(const char *path, const scn_load_opts *opts, scenario *out, scn_diag *diag);

/* The same from a string (tests); name is used as the file name in messages. */
int scenario_load_string(const char *name, const char *yaml, size_t len, const scn_load_opts *opts,
                         scenario *out, scn_diag *diag);

void scenario_free(scenario *s);

/* Parses a duration: "250us", "500ms", "5s", "1.5s", "2m", "1h", or "0".
 * Returns 0 and *out_us, or -1 with a message in err. */
int scenario_parse_duration(const char *s, uint64_t *out_us, char *err, size_t errlen);

/* Parses a listen address "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464",
 * "localhost:0"; port 0 = any free port) into host and port. Returns 0, or
 * -1 with a message in err. */
int scenario_parse_hostport(const char *addr, char *host, size_t hostcap, uint16_t *port, char *err, size_t errlen);

/* Parses "http://HOST:PORT[/PATH]" into host, port and path ("/metrics"
 * when absent). Returns 0, or -1 with a message in err. */
int scenario_parse_url(const char *url, char *host, size_t hostcap, uint16_t *port, char *path, size_t pathcap,
                       char *err, size_t errlen);

/* Formats a duration in µs in the shortest exact unit ("500ms", "5s", "2m"). */
char *scenario_format_duration(uint64_t us, char *buf, size_t cap);

/* Checks one target.headers entry ("Name: value", ${VAR} set in the
 * environment). Returns 0, or -1 with a message in err. */
int scenario_check_header(const char *h, char *err, size_t errlen);

/* target.headers as request header lines ("Name: value\r\n"…) with every
 * ${VAR} replaced from the environment, into buf (NUL-terminated). The
 * result holds secrets: the caller must not log or store it. Returns 0, or
 * -1 with a message in err (unset variable, too long). */
int scenario_expand_headers(const scenario *s, char *buf, size_t cap, char *err, size_t errlen);

/* One Pusher credential: v as it is, one ${VAR} read from the environment,
 * or (v NULL) the environment variable env; into buf. Returns 0, or -1
 * with a message naming what is missing (never its value). */
int scenario_pusher_cred(const char *what, const char *v, const char *env, char *buf, size_t cap, char *err,
                         size_t errlen);

/* The Pusher credentials target.app_id/key/secret with ${VAR} read from
 * the environment, or (absent) the environment's PUSHER_APP_ID /
 * PUSHER_KEY / PUSHER_SECRET, into the caller's buffers. Returns 0, or -1
 * with a message naming what is missing (never its value). */
int scenario_pusher_credentials(const scenario *s, char *app_id, size_t idcap, char *key, size_t keycap,
                                char *secret, size_t seccap, char *err, size_t errlen);

/* Whether the scenario needs the proxy: proxy.enabled, or (auto) any toxic. */
int scenario_needs_proxy(const scenario *s);
/* Whether any fault acts on the server's process (kill, pause, restart). */
int scenario_has_server_faults(const scenario *s);
/* Total number of clients over all groups. */
uint64_t scenario_total_clients(const scenario *s);

/* The scenario as a JSON object (every key, defaults filled in), as stored
 * in the run folder; new reference. */
json_t *scenario_to_json(const scenario *s);

const char *scenario_fault_kind_str(scn_fault_kind k);
/* "packet_loss", "partition", … (the scenario key) and "both|upstream|downstream". */
const char *scenario_net_kind_str(scn_net_kind k);
const char *scenario_direction_str(scn_direction d);
/* Whether any fault is a kernel network fault. */
int scenario_has_net_faults(const scenario *s);
const char *scenario_op_str(scn_op op);
const char *scenario_client_transport_str(scn_client_transport t);
const char *scenario_behavior_str(scn_behavior b);
/* "constant|poisson|bursts", "http|ws" (publishers), "off|offer|require"
 * (permessage-deflate), "ws|http" (an oversized attacker's way in). */
const char *scenario_schedule_str(scn_schedule k);
const char *scenario_pub_transport_str(scn_pub_transport t);
const char *scenario_deflate_str(int deflate);
const char *scenario_via_str(int via_http);

/* Prints every path `--set path=value` accepts, one a line, from the same
 * key tables the loader checks against (list items as index 0, e.g.
 * clients.0.count): what `rtchaos list keys` and the bash completion show. */
void scenario_print_set_keys(FILE *f);

#endif
