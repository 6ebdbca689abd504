/* fleet.h — the harness's load side: client fleet, publisher and checkers, as one object the core drives. */
#ifndef RTCHAOS_FLEET_H
#define RTCHAOS_FLEET_H
/*
 * The core (scenario parser, orchestration, fault timeline, verdicts, report
 * writing) fills a fleet_cfg from the scenario and drives one `fleet`:
 *
 *     fleet_create(&cfg, &f, err, sizeof err)    validate + allocate (no I/O)
 *     fleet_start(f, …)                           fork workers, threads; ramp clients up, publish
 *       … fleet_status_get(f, &st) from any thread (live status line)
 *       … fleet_disconnect_fraction(f, 0.5, …)   reconnect storm (fault timeline)
 *       … fleet_publish_pause / fleet_publish_resume
 *     fleet_stop_publishing(f)                    schedule stops; in-flight publishes settle
 *     fleet_drain(f, deadline_ms)                 wait until every client caught up
 *     fleet_stop(f)                               close clients, join threads, reap workers
 *     fleet_report(f, report, …)                  "totals", "latency_us", "timeline", "anomalies"
 *     fleet_free(f)
 *
 * Build: fleet/build.mk defines FLEET_OBJS (objects to link into
 * bin/rtchaos) and FLEET_LIBS (libraries they need: libevent, wslay,
 * http_parser). Link both.
 *
 * Threading: every function here is called from one controlling thread (the
 * core's), except fleet_status which may be called from any thread. The
 * fleet runs its own threads (cfg.threads event loops plus a publisher loop)
 * and, when cfg.workers > 1, its own child processes.
 *
 * Time: t_s in reports and anomalies is seconds since fleet_start. Latency is
 * receive wall time − the event's scheduled `ts` (µs, wall clock), so a late
 * publish or a stalled harness shows up (no coordinated omission); the
 * harness's own event-loop stalls are measured and reported apart
 * (totals.harness_stalls, totals.harness_stall_max_us).
 */
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "proto.h"

#define FLEET_HOST_MAX    255
#define FLEET_TOKEN_MAX   4096
#define FLEET_SRC_MAX     64   /* source addresses */
#define FLEET_GROUPS_MAX  32
#define FLEET_PREFIX_MAX  200 /* bytes of a --target path prefix */

typedef enum fleet_transport {
    FLEET_WS = 0,   /* GET /ws, {"op":"sub",…} per channel */
    FLEET_SSE,      /* GET /sse?ch=a&ch=b, resume with Last-Event-ID */
    FLEET_POLL,     /* GET /poll?ch=&since=&timeout_ms= (one request per channel at a time) */
} fleet_transport;

typedef enum fleet_pub_transport {
    FLEET_PUB_HTTP = 0, /* POST /publish/<ch>, keep-alive, several connections */
    FLEET_PUB_WS,       /* {"op":"pub",…,"ack":true} over /ws, batch_size in flight per connection;
                           acks are the {"type":"published","seq"} replies, in order */
} fleet_pub_transport;

typedef enum fleet_schedule {
    FLEET_SCHED_CONSTANT = 0, /* evenly spaced: 1/rate apart per channel */
    FLEET_SCHED_POISSON,      /* exponential inter-arrival times, mean 1/rate */
    FLEET_SCHED_BURSTS,       /* burst_size events at once every burst_interval_ms */
} fleet_schedule;

/* host:port. host is a numeric IPv4 address or a name resolved once by
 * fleet_create (getaddrinfo, blocking). */
#define FLEET_MIRRORS_MAX 15
#define FLEET_CLIENT_ADDRS_MAX 16

typedef struct fleet_endpoint {
    char host[FLEET_HOST_MAX + 1];
    uint16_t port;
} fleet_endpoint;

/* Channels: either an explicit list (names != NULL, n_names > 0; the strings
 * are copied by fleet_create) or `count` names made from `pattern`, where the
 * first "{i}" is replaced by the index 0..count-1 (e.g. "orders.{i}"; a
 * pattern without "{i}" gets ".{i}" appended). Every name must satisfy
 * envelope_channel_valid. */
typedef struct fleet_channels {
    const char *const *names;
    size_t n_names;
    uint32_t count;
    char pattern[128];
} fleet_channels;

/* The open-loop publisher. One schedule per channel, phase-shifted so that
 * channels do not all fire on the same tick. */
/* The publisher's "data": a padded string (the same for every event), or
 * an object whose fields change at different rates (fleet/payload.h), so a
 * delta against the previous value is smaller than the value. */
typedef enum { FLEET_PAYLOAD_STRING = 0, FLEET_PAYLOAD_FIELDS } fleet_payload;

typedef struct fleet_pub_cfg {
    double rate_per_s;          /* events per channel per second; 0 = publish nothing */
    fleet_schedule schedule;
    uint32_t burst_size;        /* bursts: events per burst (>= 1) */
    uint32_t burst_interval_ms; /* bursts: time between bursts; rate_per_s is then ignored */
    uint32_t payload_bytes;     /* size of the "data" JSON value (a string padded to this size; >= 16) */
    fleet_payload payload;      /* what "data" is: a padded string, or an object of fields (fl_payload) */
    fleet_pub_transport transport;
    uint32_t batch_size;        /* events per request (HTTP: JSON array body); 1 = no batching */
    uint32_t retries;           /* resend attempts of an unacknowledged request, same idempotency "id" */
    uint32_t ack_timeout_ms;    /* a request not acknowledged in this time is retried (0 = 5000) */
    uint32_t connections;       /* parallel publish connections (0 = 4), so one slow ack never delays the schedule */
    char token[FLEET_TOKEN_MAX]; /* "" = none; else sent as "Authorization: Bearer <token>" */
    uint64_t start_us;          /* the first events are due this long after fleet_start (0: at once) */
    uint64_t until_us;          /* events due this long after fleet_start or later are not published
                                 * (0: until fleet_stop_publishing), so how many events a run publishes
                                 * does not depend on when the harness got round to stopping it */
} fleet_pub_cfg;

/* What a client does when its connection ends (closed, reset, timed out,
 * cut by fleet_disconnect_fraction). Backoff for attempt k (k = 0, 1, …):
 * min(max_backoff_ms, initial_backoff_ms * 2^k) scaled by a random factor in
 * [1 - jitter, 1]; after a connection that delivered events k restarts at 0. */
typedef struct fleet_reconnect_cfg {
    int enabled;                  /* 0: a client whose connection ends stays down */
    uint32_t initial_backoff_ms;  /* 0 = 100 */
    uint32_t max_backoff_ms;      /* 0 = 5000 */
    double jitter;                /* 0..1 */
    uint32_t max_attempts;        /* consecutive failed attempts before giving up; 0 = unlimited */
    int honour_sse_retry;         /* SSE: a server `retry:` field replaces the next backoff */
} fleet_reconnect_cfg;

/* What the clients of a group do. Attackers (every behaviour but
 * FLEET_SUBSCRIBER) subscribe to nothing and are checked for nothing; each
 * makes attempts, one connection each, and counts how the server answered
 * (report.json "attacks", and "attack" in the group's part). */
typedef enum fleet_behavior {
    FLEET_SUBSCRIBER = 0, /* the normal client: subscribe, receive, check */
    FLEET_FLOOD,          /* WS: {"op":"ping"} at rate_per_s, at most `messages` per connection */
    FLEET_OVERSIZED,      /* one WS message (or POST /publish body) of `bytes` */
    FLEET_SLOWLORIS,      /* a request head trickled one byte every byte_every_ms, never finished */
} fleet_behavior;

#define FLEET_EXPECT_MAX 8
#define FLEET_OUTCOME_CLOSED 0 /* in expect[]: the server closed the connection without an answer */

/* An attacker group's parameters (fleet_group_cfg.attack). */
typedef struct fleet_attack_cfg {
    uint32_t rate_per_s;          /* FLOOD: messages per second per connection (0 = 1000) */
    uint32_t messages;            /* FLOOD: messages per connection at most (0 = 2000) */
    uint64_t bytes;               /* OVERSIZED: size of the message / body (0 = 1 MiB) */
    int via_http;                 /* OVERSIZED: POST /publish/<channel> instead of a WS message */
    uint32_t byte_every_ms;       /* SLOWLORIS: one byte of the head per this (0 = 1000) */
    uint32_t patience_ms;         /* how long after the attack was sent (SLOWLORIS: after connecting)
                                     the server may take to refuse before the attempt counts as
                                     not rejected and the attacker hangs up itself (0 = 30000) */
    uint32_t pause_ms;            /* between one attempt's end and the next (0 = 100) */
    uint32_t attempts;            /* attempts per client; 0 = until the run ends */
    int expect[FLEET_EXPECT_MAX]; /* outcomes that count as rejected as documented: a WS close code
                                     (1000..4999), an HTTP status (100..599), or FLEET_OUTCOME_CLOSED */
    uint32_t n_expect;            /* 0 = the behaviour's default (flood 4429; oversized 1009, via
                                     http 413; slowloris closed or 408) */
} fleet_attack_cfg;

/* WebSocket permessage-deflate (RFC 7692) for a subscriber group. */
typedef enum { FLEET_DEFLATE_OFF = 0, FLEET_DEFLATE_OFFER, FLEET_DEFLATE_REQUIRE } fleet_deflate;

typedef struct fleet_group_cfg {
    char name[64];                /* for logs and per-group totals */
    fleet_behavior behavior;      /* FLEET_SUBSCRIBER unless the group attacks */
    fleet_attack_cfg attack;      /* attackers only */
    uint32_t count;               /* clients in this group (before sharding) */
    fleet_transport transport;
    uint32_t channels_per_client; /* client k subscribes channels (k*cpc + j) mod n_channels, j < cpc; 0 = 1 */
    uint32_t ramp_up_ms;          /* connects are spread evenly over this time */
    uint64_t read_rate_bytes_per_s; /* slow consumer: cap on bytes read per second; 0 = read at once */
    uint32_t read_rate_msgs_per_s;  /* slow consumer: cap on messages processed per second; 0 = no cap */
    fleet_reconnect_cfg reconnect;
    int resume;                   /* on reconnect, resume where it was (WS since+epoch, SSE Last-Event-ID,
                                     poll since); 0 = subscribe afresh from the head */
    char token[FLEET_TOKEN_MAX];  /* "" = none; else sent as "Authorization: Bearer <token>" */
    uint32_t connect_timeout_ms;  /* TCP + HTTP/WS handshake deadline (0 = 5000) */
    uint32_t idle_timeout_ms;     /* no byte (event, heartbeat, ping) for this long = dead link,
                                     reconnect (0 = never; set it to detect half-open links) */
    uint32_t poll_timeout_ms;     /* poll: the timeout_ms parameter (0 = 10000) */
    fleet_deflate deflate;        /* WS permessage-deflate: off (not offered), offer, require */
    int batch;                    /* v1 WS: ask for batch messages ("batch":true in sub) */
    int delta;                    /* v1: ask for delta events ("delta":true / ?delta=1), rebuild each
                                     value and check it against the publisher's (needs
                                     fleet_pub_cfg.payload FLEET_PAYLOAD_FIELDS) */
    fleet_transport fallback[2];  /* subscribers: transports tried in turn when the one before is
                                     refused (a handshake answered with another status, or no answer
                                     in connect_timeout_ms; every channel refused `overloaded`); a
                                     client does not go back up within the run */
    uint32_t n_fallback;
    char source_addr[16];         /* numeric IPv4 every client of the group binds to (a group's own address
                                     in the clients' network namespace); "" = cfg.source_addrs or the kernel's */
} fleet_group_cfg;

typedef struct fleet_cfg {
    fleet_endpoint client_addr;   /* where clients connect (the proxy when there are faults) */
    fleet_endpoint publish_addr;  /* where the publisher connects (normally the server directly) */
    /* Several servers the clients spread over themselves, without a proxy
     * (a run bigger than one proxy process can hold): client k connects to
     * client_addrs[k mod n]; each reconnect steps to another (spread by k,
     * fleet_net.c), so the clients of a server that died spread over the
     * others. 0 = client_addr only. */
    fleet_endpoint client_addrs[FLEET_CLIENT_ADDRS_MAX];
    unsigned n_client_addrs;
    /* Independent servers that share nothing (sticky routing, no broker):
     * every event is also published to each of these, with the same
     * publisher record. Only publish_addr's acknowledgements make the run's
     * published events; the mirrors' are counted apart
     * (fleet_pub_mirror_outcomes). Needs a protocol without server seqs
     * (record.h) and HTTP publishing. */
    fleet_endpoint publish_mirrors[FLEET_MIRRORS_MAX];
    unsigned n_publish_mirrors;
    fleet_channels channels;
    fleet_pub_cfg pub;
    const fleet_group_cfg *groups; /* copied by fleet_create */
    size_t n_groups;
    /* Local source addresses (numeric IPv4, e.g. "127.0.0.2") clients bind
     * to, round-robin, so one box can exceed one address's ~28k ephemeral
     * ports. NULL/0 = let the kernel choose. Copied. */
    const char *const *source_addrs;
    size_t n_source_addrs;
    uint32_t threads;             /* event-loop threads per process (0 = 1) */
    uint32_t workers;             /* processes holding clients (0/1 = this process only). With N > 1
                                     the clients are split over N forked children; the publisher and
                                     checker reconciliation stay in the parent; results merge exactly. */
    uint64_t seed;                /* every random choice derives from it */
    /* Shard i of N (N = 0/1: no sharding). A shard runs clients k with
     * k mod N == i and publishes to channels c with c mod N == i; its clients
     * subscribe only to its own channels, so a shard is a self-contained run
     * and N shard reports merge exactly (fleet_report_merge). */
    uint32_t shard_index, shard_count;
    uint32_t anomalies_per_kind;  /* examples kept per kind (0 = 200); counts are always exact */
    /* A network namespace (path such as /run/netns/NAME) the clients live
     * in; "" = the caller's. The event-loop threads (in every worker) are
     * created while their creating thread is inside it, so every client
     * socket is born there; the publisher thread is created before, in the
     * caller's namespace. Needs CAP_SYS_ADMIN. */
    char client_netns[128];
    uint32_t fresh_grace_ms;      /* a fresh subscription told no head owes every event the
                                     publisher stamped later than its start + this (0 = 1000);
                                     see chk_set_floor */
    /* The server's protocol (proto.h): "" or "v1" = wire contract v1, else
     * an adapter name ("nchan"); proto_opts says where its locations are.
     * Protocols without server sequence numbers get the publisher's record
     * (record.h) in every payload. */
    char protocol[32];
    proto_opts proto_opts;
    /* TLS (https:// / wss:// targets): clients and publisher speak TLS to
     * their endpoints, SNI and the certificate name = tls_host; certificates
     * verified against tls_ca ("" = system store) unless tls_insecure. */
    int tls;
    int tls_insecure;
    char tls_host[FLEET_HOST_MAX + 1];
    char tls_ca[512];
    /* --target's path (http://H:P/rt → "/rt", no trailing slash; "" =
     * none): every request of subscribers, publisher and attackers goes
     * under it (/rt/ws, /rt/publish/<ch>, /rt + an adapter's sub_path) */
    char path_prefix[FLEET_PREFIX_MAX + 1];
} fleet_cfg;

typedef struct fleet fleet;

/* Validates cfg and allocates a fleet; copies everything it needs from cfg
 * (the caller may free cfg afterwards). No sockets, threads or processes yet.
 * Returns 0, or -1 with a message in err (e.g. "channels: name 'a..b' is
 * invalid", "groups[1]: count is 0"). Caller frees with fleet_free. */
int fleet_create(const fleet_cfg *cfg, fleet **out, char *err, size_t errlen);

/* Starts the run: forks workers (cfg.workers > 1; each child gets
 * PR_SET_PDEATHSIG), starts the event-loop threads, ramps clients up and
 * starts the publisher schedule. t = 0 for reports is now. Call it before
 * the caller starts threads of its own when workers > 1 (it forks). Returns
 * 0, or -1 with a message in err (nothing is left running then). */
int fleet_start(fleet *f, char *err, size_t errlen);

/* Reconnect storm: closes the connections of `fraction` (0..1) of the
 * currently connected clients at once (chosen with the fleet's PRNG); each
 * then follows its group's reconnect policy. Returns the number of clients
 * told to disconnect (the closing happens on their threads shortly after).
 * A harness-made disconnect counts in totals.reconnects, not as an error. */
uint64_t fleet_disconnect_fraction(fleet *f, double fraction);

/* Pauses / resumes the publisher's schedule. While paused no event is
 * scheduled; resume restarts the schedule from now (the paused time is not
 * made up, so no burst of catch-up publishes). */
void fleet_publish_pause(fleet *f);
void fleet_publish_resume(fleet *f);

/* A consistent-enough snapshot for the live status line (counters are read
 * without stopping the loops). Thread-safe; cheap (no allocation). */
typedef struct fleet_status {
    double elapsed_s;
    uint64_t clients;          /* clients in this fleet (after sharding) */
    uint64_t connected;        /* clients subscribed right now */
    uint64_t published;        /* events acknowledged by the server so far */
    uint64_t delivered;        /* events received and checked so far */
    double delivered_per_s;    /* over the last full second */
    uint64_t p95_live_us;      /* live latency p95 so far (coarse: within ~5%) */
    uint64_t anomalies;        /* lost so far + duplicated + reordered + resync_failed + epoch_changed */
    uint64_t reconnects;
    uint64_t errors;
    int publishing;            /* 1 while the schedule runs */
} fleet_status;
void fleet_status_get(fleet *f, fleet_status *out);

/* Events the publish mirrors (cfg.publish_mirrors) acknowledged, and the
 * ones they never did, summed over the mirrors (0, 0 without mirrors).
 * Any time before fleet_free, from the thread that controls the fleet. */
void fleet_pub_mirror_outcomes(fleet *f, uint64_t *acked, uint64_t *failed);

/* Live figures for the metrics endpoint (harness/live_metrics.c): what the
 * status line shows, broken down by client group and transport, plus the
 * publisher's outcomes, anomalies by kind and a live-latency histogram. */
#define FLEET_TRANSPORTS 3     /* fleet_transport values */
#define FLEET_ANOMALY_KINDS 9  /* lost, duplicated, reordered, resync_failed, epoch_changed, delta_mismatch,
                                  corrupted, misrouted, ts_altered
                                  (checker.h order) */
#define FLEET_LAT_BOUNDS 16    /* fleet_lat_bounds_us */

/* Upper bounds (µs, inclusive) of the cumulative live-latency buckets. */
extern const uint64_t fleet_lat_bounds_us[FLEET_LAT_BOUNDS];
const char *fleet_transport_name(fleet_transport t);  /* "ws", "sse", "poll" */
const char *fleet_anomaly_kind_name(unsigned k);     /* "lost", "duplicated", … */

/* One group's live figures. Only uint64_t members, in this order: the
 * worker protocol ships it as a flat array of numbers (fleet_workers.c). */
typedef struct fleet_live_group {
    uint64_t connected[FLEET_TRANSPORTS];  /* gauge: subscribed now, by transport in use */
    uint64_t delivered, live;              /* distinct events received; of them live (not replayed) */
    uint64_t anomalies[FLEET_ANOMALY_KINDS]; /* lost counts only once settled (end of run) */
    uint64_t resync_ok, reconnects, fallbacks;
} fleet_live_group;

typedef struct fleet_live {
    double elapsed_s;
    int publishing;            /* 1 while the publisher's schedule runs */
    int stopped;               /* fleet_stop done: the figures are final */
    uint64_t clients;
    size_t n_groups;
    char group_names[FLEET_GROUPS_MAX][64];
    uint64_t group_clients[FLEET_GROUPS_MAX];
    fleet_live_group g[FLEET_GROUPS_MAX];
    uint64_t missing_now;      /* holes seen and not (yet) filled: lost-so-far while running */
    uint64_t snapshots, gaps;
    uint64_t errors, connects_failed, gave_up;
    uint64_t stalls, stall_max_us;
    uint64_t pub_acked, pub_failed, pub_retries, pub_errors;
    /* Live latency (receive − scheduled ts). lat_le[i]: events whose
     * latency is at most fleet_lat_bounds_us[i], cumulative, taken from the
     * coarse buckets (each within ~3 %: an event is counted under a bound
     * only when its whole bucket is). lat_sum_us is exact. */
    uint64_t lat_count, lat_sum_us;
    uint64_t lat_le[FLEET_LAT_BOUNDS];
    /* bytes on subscriber sockets by transport (report.json totals.bytes_rx/tx) */
    uint64_t rx_bytes[FLEET_TRANSPORTS], tx_bytes[FLEET_TRANSPORTS];
} fleet_live;

/* Fills out (about 8 KB; no allocation beyond a transient bucket array).
 * Thread-safe like fleet_status_get. Counters only grow during a run; after
 * fleet_stop they are the final figures (with workers > 1: the workers'
 * last status lines, at most ~200 ms old). */
void fleet_live_get(fleet *f, fleet_live *out);

/* Stops the schedule; requests already sent are still acknowledged (or
 * retried) until they settle or fail, which fixes the final head of each
 * channel in the publisher's log. Idempotent. */
void fleet_stop_publishing(fleet *f);

/* Stops the schedule without waiting for acknowledgements: what is still in
 * flight counts as never acknowledged. For a run that broke (the server is
 * gone and will not answer). Idempotent; fleet_stop does it if needed. */
void fleet_end_publishing_now(fleet *f);

/* Blocks until every client that is still trying has received (or been
 * told by snapshot/gap about) each channel's final acknowledged head, or
 * until deadline_ms from now. Calls fleet_stop_publishing first if needed.
 * Returns 1 when all caught up, 0 when the deadline came first (the
 * shortfall is reported as `lost`, with totals.not_caught_up clients). */
int fleet_drain(fleet *f, uint32_t deadline_ms);

/* Closes every connection, stops the threads and reaps the workers (each
 * phase under its own deadline: a worker that does not answer is killed and
 * reported as an error). Idempotent; fleet_report works after it. */
void fleet_stop(fleet *f);

/* Writes the fleet's parts of report.json (schema rtchaos.report/1) into
 * the object `report`, replacing these members:
 *  "totals":    {clients, published, delivered, expected, lost, duplicated,
 *                reordered, resync_ok, resync_failed, epoch_changed,
 *                snapshots, gaps, reconnects, errors, not_caught_up,
 *                replayed, publish_failed, harness_stalls,
 *                harness_stall_max_us, …}
 *  "latency_us": {"live","replay","connect","resync","reconnect"}: each is
 *                hist_summary_json(h) plus "hist": hist_to_json(h). live/replay:
 *                receive − ts; connect: TCP connect → handshake done; resync:
 *                connection lost → caught up with the head told at resume;
 *                reconnect: connection lost → connected again
 *  "timeline":  [{t_s, published, delivered, connected, reconnects, p95_us,
 *                 "lat":[[v,c],…] (the second's coarse live-latency buckets,
 *                 so rows merge exactly)}, …] one row per second
 *  "groups":    {"<group name>": {clients, delivered, live, lost, duplicated,
 *                reordered, resync_failed, epoch_changed, resync_ok,
 *                live_p50_us, live_p95_us, live_p99_us, "lat":[[v,c],…]}}
 *                per client group (coarse latency, within ~3 %), so one
 *                group's trouble is told apart from another's
 *  "totals" also holds "errors_by_reason": {"<reason>": n}
 *  "anomalies": [{kind, client, ch, seq, t_s}, …] at most
 *                anomalies_per_kind per kind, earliest first
 * Call after fleet_stop. Returns 0, or -1 with a message in err. */
int fleet_report(fleet *f, json_t *report, char *err, size_t errlen);

/* Merges another report's fleet parts (as written by fleet_report, e.g. a
 * shard's report.json) into dst exactly: totals add (harness_stall_max_us
 * takes the max), histograms add via hist_add_json and their summaries are
 * recomputed, timeline rows add by t_s (p95_us recomputed from "lat"),
 * anomalies are concatenated and re-bounded. Missing parts in dst are
 * created. Returns 0, or -1 with a message in err (dst is then unchanged
 * only for "totals"; do not use it further). */
int fleet_report_merge(json_t *dst, const json_t *src, size_t anomalies_per_kind,
                       char *err, size_t errlen);

/* Frees everything (calls fleet_stop first if needed). NULL is fine. */
void fleet_free(fleet *f);

#endif
