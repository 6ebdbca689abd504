/* fleet_internal.h — the fleet's private structures shared by fleet.c, fleet_client.c and fleet_pub.c. */
#ifndef RTCHAOS_FLEET_INTERNAL_H
#define RTCHAOS_FLEET_INTERNAL_H
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "checker.h"
#include "fleet.h"
#include "fleet_attack.h"
#include "fleet_tls.h"
#include "fleet_ws.h"
#include "prng.h"
#include "proto.h"
#include "record.h"
#include "sse_parse.h"

#define FL_RBUF_BYTES (64 * 1024)
#define FL_MAX_MSG (1u << 20)      /* largest message/event a client accepts */
#define FL_TICK_MS 100             /* per-thread housekeeping tick */
#define FL_STALL_US 50000          /* a tick this late counts as a harness stall */

typedef struct fl_thread fl_thread;
typedef struct fl_pub fl_pub;
typedef struct fl_attacker fl_attacker;

/* One channel's acknowledged events of the current generation, in ack (=
 * seq) order, with the wall time the publisher stamped each (`ts`, its
 * scheduled time: never later than the server saw it). Written by the
 * publisher thread; read only once fleet.publog_ready. */
typedef struct fl_publog {
    uint64_t *seq;
    int64_t *ts;
    int64_t *sufmin;   /* sufmin[i] = min ts[i..n-1], filled by fl_pub_finish */
    size_t n, cap;     /* n = SIZE_MAX: dropped (out of memory) */
    int64_t gen_ts;    /* stamp of the generation's first ack (0 = none yet) */
} fl_publog;

enum fl_state {
    FL_C_WAIT = 0,   /* timer: ramp-up or reconnect backoff */
    FL_C_CONNECTING, /* TCP connect in progress */
    FL_C_HANDSHAKE,  /* request sent, reading the response head */
    FL_C_OPEN,       /* streaming (WS subscribed / SSE body / poll loop) */
    FL_C_DEAD,       /* gave up, or stopped */
};

/* How many of a stream's last payload stamps a new one is compared with
 * (check_data): a value from that many events back, sent again under a
 * later seq, counts as duplicated. */
#define FL_STAMP_KEEP 3

typedef struct fl_stream {
    chk_stream chk;
    uint32_t ch;     /* index into fleet.ch_names */
    uint64_t srv_off;      /* ws-json: the server's offset of the last payload (proto_opts.offset_path) */
    uint64_t away_last;    /* promise "none": the last seq before the connection ended */
    uint8_t srv_off_known;
    uint8_t away;          /* ... and the next event tells how many were missed by design */
    json_t *val;           /* delta groups: the channel's value as the server described it, as of val_seq
                              (NULL = none held) */
    uint64_t val_seq;
    uint64_t stamp_key[FL_STAMP_KEEP]; /* the last events' payload stamps (n, ts) as keys, newest first (0: none) */
    uint64_t stamp_seq;                /* the highest seq among them */
    uint64_t stamp_epoch;              /* ... and the epoch they were in (chk_epoch_hash) */
} fl_stream;

/* One simulated client. Kept small: everything that only a connection in
 * a given phase needs (HTTP parser, WS frame state, partial SSE event,
 * unsent bytes, poll body) is allocated in that phase and freed after. */
typedef struct fl_client {
    struct event ev;          /* the one event: I/O with idle timeout, or a timer */
    fl_thread *t;
    struct http_parser *hp;   /* handshake / SSE / poll response */
    ws_conn_rx ws;            /* WS: borrowed frame state */
    struct ws_inflater *infl; /* WS with permessage-deflate accepted: the server's compression window */
    uint8_t infl_reset;       /* ... and the server has no context takeover (window empty per message) */
    sse_parser sse;
    char *last_id;            /* SSE Last-Event-ID (opaque); nchan message id; Socket.IO offset */
    char *sess_id;            /* session protocols (Socket.IO): the session the server named last */
    char *sess_token;         /* ... and what a resume sends back (pid) */
    char *out;                /* unsent bytes (rare: the socket buffer was full) */
    char *body;               /* poll: response body being read */
    uint32_t body_len, body_cap, out_len;
    uint32_t id;              /* global client index */
    uint64_t conn_start_us;   /* mono: this connect attempt began */
    uint64_t reconnect_t0_us; /* mono: when the connection was lost (0: first connect) */
    uint32_t retry_ms;        /* SSE retry: hint, 0 = none */
    int fd;
    SSL *ssl;                 /* TLS over fd (https/wss targets), else NULL */
    uint16_t group;
    uint16_t attempt;         /* consecutive failed attempts */
    uint16_t n_streams;
    uint16_t poll_cur;        /* poll: the stream being polled */
    uint8_t state;
    uint8_t got_data;         /* received something since connecting (resets backoff) */
    uint8_t cut;              /* disconnected by fleet_disconnect_fraction */
    uint8_t hs_ok;            /* handshake: Sec-WebSocket-Accept matched */
    uint8_t throttled;        /* slow consumer: reading paused until the next tick */
    uint8_t tr_level;         /* 0: the group's transport; k: its fallback[k-1] */
    uint8_t fb_pending;       /* the server refused the stream (`overloaded`): fall back after this read */
    uint8_t sess_resuming;    /* session protocols: this connection asked to recover the session */
    uint8_t close_action;     /* the server's WebSocket close code, as proto.ws_close judged it (enum proto_close) */
    uint8_t ka_sent;          /* proto.ws_keepalive sent after a quiet idle timeout, no message since */
    uint8_t open_tr;          /* the transport the open connection counts under (fl_group_stats.connected) */
    uint64_t open_mono_us;    /* when the connection opened (fl_counters.open_us) */
    uint32_t read_budget;     /* slow consumer: bytes / messages left this tick */
    uint32_t ping_n;          /* templated client pings (ws-json ping_message) sent on this connection */
    uint64_t ping_due_us;     /* mono: the next one is due (0 = none) */
    fl_stream st[];
} fl_client;

/* Per client group tallies, so one group's trouble (slow consumers) is
 * told apart from another's (fast clients unaffected). Written by the
 * owning thread with FL_ADD/FL_INC (relaxed atomic stores) so that
 * fleet_live_get may read them while the run goes on. */
typedef struct fl_group_stats {
    uint64_t delivered, live;
    uint64_t kind[CHK_KINDS];
    uint64_t resync_ok;
    uint64_t fallbacks;           /* transport switches (fleet_group_cfg.fallback) */
    uint64_t resync_signalled;    /* resumes the server refused and said so (a new session) */
    uint64_t missed_by_design;    /* promise "none": events published while away, never delivered */
    uint64_t reconnects;          /* connections that worked and were lost, will reconnect */
    uint64_t connected[FLEET_TRANSPORTS]; /* gauge: open now, by the transport they opened with */
    uint32_t lat[CHK_TL_BUCKETS]; /* live latency, coarse buckets */
} fl_group_stats;

/* Counters another thread may read while the owner writes them (relaxed
 * atomic stores by the owner, loads by readers). */
typedef struct fl_counters {
    uint64_t connected;
    uint64_t reconnects;
    uint64_t errors;
    uint64_t connects_failed;
    uint64_t gave_up;
    uint64_t fallbacks;
    uint64_t resync_signalled;
    uint64_t missed_by_design;
    uint64_t stalls;
    uint64_t stall_max_us;
    uint64_t delivered;
    uint64_t missing_now, snapshots, gaps; /* the checker's, mirrored for fleet_live_get */
    /* Bytes on the wire, by the transport the connection used (fleet_transport):
     * everything read and written on subscriber sockets, handshakes, framing,
     * heartbeats and control messages included (TCP/IP headers not). */
    uint64_t rx_bytes[FLEET_TRANSPORTS], tx_bytes[FLEET_TRANSPORTS];
    uint64_t hs_rx_bytes[FLEET_TRANSPORTS];  /* of rx_bytes: read before the stream was open (handshake) */
    uint64_t open_us[FLEET_TRANSPORTS];      /* connection time, summed over clients (closed connections) */
    uint64_t delivered_tr[FLEET_TRANSPORTS]; /* events delivered, by transport */
    uint64_t anomalies;
    uint64_t caught_up;       /* 1 when every client of this thread is caught up (drain) */
    uint64_t not_caught_up;   /* clients still behind at the end */
} fl_counters;

#define FL_INC(p) __atomic_store_n((p), *(p) + 1, __ATOMIC_RELAXED)
#define FL_ADD(p, v) __atomic_store_n((p), *(p) + (v), __ATOMIC_RELAXED)
#define FL_SET(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define FL_GET(p) __atomic_load_n((p), __ATOMIC_RELAXED)

#define FL_COMMON_TIMEOUTS 16

struct fl_thread {
    fleet *f;
    unsigned idx;
    struct event_base *base;
    pthread_t th;
    int running;
    fl_client **clients;
    size_t n_clients;
    chk_ctx chk;
    ws_pool *wsp;
    prng rng;
    struct event *tick;
    uint64_t tick_due_us;
    struct event *cmd;        /* activated by the controlling thread */
    pthread_mutex_t mu;       /* guards the command fields below */
    pthread_cond_t cond;      /* signalled when a cut is done */
    uint64_t cmd_cut_done;    /* clients cut so far by commands */
    uint64_t cmd_cut_gen;     /* cut commands processed */
    double cmd_cut_fraction;  /* pending disconnect fraction (< 0: none) */
    int cmd_stop;
    int cmd_check;            /* final heads are known: check caught-up */
    fl_counters n;
    /* libevent common timeouts made on base, by duration (fleet_client.c timeout_of) */
    struct { uint32_t ms; const struct timeval *tv; } common[FL_COMMON_TIMEOUTS];
    unsigned n_common;
    /* epochs seen (hash → string) so a WS resume can send the epoch back */
    struct { uint64_t h; char *s; } *epochs;
    size_t n_epochs, cap_epochs;
    fl_group_stats *gs;       /* [n_groups] */
    fl_attacker **attackers;  /* clients of attacker groups (fleet_attack.c) */
    size_t n_attackers;
    fleet_attack_tally *at;   /* [n_groups]; a histogram only for attacker groups */
    /* errors by reason (first FL_REASONS distinct reasons; the rest "other") */
    struct { char why[96]; uint64_t n; } reasons[16]; /* room for a server's own words (pusher:error) */
    unsigned n_reasons;
    /* handshake header capture */
    int hdr_is_accept, hdr_is_retry;
    char hdr_val[64];
    uint8_t rbuf[FL_RBUF_BYTES];
};

struct fleet {
    fleet_cfg cfg;
    const proto *proto;       /* the server's protocol adapter (never NULL after fleet_create) */
    int resume_none;          /* its promise is "none": what a reconnect misses is missed_by_design */
    char run_id[RECORD_RUN_MAX + 1]; /* this run's id in the publisher's records (set by fleet_start) */
    fleet_group_cfg *groups;
    char **src_strs;
    char **ch_names;          /* channels this fleet publishes and subscribes (after sharding) */
    uint32_t n_ch;
    struct sockaddr_in client_sa, pub_sa;
    struct sockaddr_in mirror_sa[FLEET_MIRRORS_MAX]; /* cfg.publish_mirrors, resolved */
    struct sockaddr_in client_sas[FLEET_CLIENT_ADDRS_MAX]; /* cfg.client_addrs, resolved */
    unsigned n_client_sas;
    SSL_CTX *tls;             /* NULL = plain TCP (fleet_tls.h) */
    struct in_addr *src;
    size_t n_src;
    char host_hdr[FLEET_HOST_MAX + 8];
    fl_thread **th;
    unsigned n_th;
    fl_pub *pub;
    uint64_t t0_mono_us;
    int64_t t0_wall_us;
    uint64_t n_clients;       /* clients in this fleet (all processes) */
    uint64_t n_local;         /* clients in this process */
    /* publisher log, written by the publisher thread */
    uint64_t *acked_head;     /* per channel: highest acked seq of the current generation */
    uint64_t *final_head;     /* per channel, valid once heads_final */
    fl_publog *publog;        /* per channel (unused in a worker child: no publisher there) */
    int publog_ready;         /* set by fl_pub_finish: publog is final */
    int heads_final;
    int started, stopped, stopped_pub, reported;
    /* results gathered at fleet_stop */
    chk_ctx total;
    int have_total;
    /* workers (processes) */
    unsigned worker_idx, n_workers; /* this process's worker index / count (parent = 0 of 1 when none) */
    int is_child;
    struct fl_workers *w;
    /* publisher totals (filled at stop) */
    uint64_t published, publish_failed, publish_retries, publish_errors, publish_generations;
    /* end-of-run tallies gathered from the threads by fleet_stop */
    uint64_t final_reconnects, final_errors, connect_failures, gave_up, not_caught_up, fallbacks;
    uint64_t resync_signalled, missed_by_design;
    uint64_t stalls, stall_max_us;
    uint64_t rx_bytes[FLEET_TRANSPORTS], tx_bytes[FLEET_TRANSPORTS], open_us[FLEET_TRANSPORTS],
        delivered_tr[FLEET_TRANSPORTS], hs_rx_bytes[FLEET_TRANSPORTS];
    /* status line */
    pthread_mutex_t status_mu;
    int status_mu_init;
    uint64_t rate_t_us, rate_delivered;
    double rate_per_s;
    json_t *error_reasons;    /* {"reason": count} summed over threads at stop */
    fl_group_stats *gs_total; /* [n_groups] summed over threads at stop */
    uint64_t *group_clients;  /* [n_groups] clients of each group in this process */
    fleet_attack_tally *at_total; /* [n_groups] summed over threads at stop (attacker groups) */
};

/* fleet.c: the fleet in this process (its threads), for fleet_ctl.c and
 * the worker children (fleet_workers.c), which call nothing above them */
int fleet_start_local(fleet *f, char *err, size_t errlen);
/* Cuts `fraction` (0..1] of this process's open clients; returns how many
 * (waits up to 2 s per thread for its answer). */
uint64_t fleet_local_cut(fleet *f, double fraction);
/* Ends publishing without a drain: what is acknowledged now is the final
 * head. Once. */
void fleet_local_end_publishing(fleet *f);
/* Stops and joins this process's threads and sums their tallies into the
 * totals the report reads (sets f->stopped). */
void fleet_local_stop(fleet *f);
/* Frees what fleet_create and the local threads made, and f (after
 * fleet_local_stop, or before anything started). */
void fleet_local_free(fleet *f);
void fleet_local_status(fleet *f, fleet_status *o, uint32_t *lat);
/* Adds this process's live figures into o (groups sized already) and its
 * cumulative coarse live latency into lat[CHK_TL_BUCKETS]. Caller holds
 * status_mu (or is a worker child). */
void fleet_local_live(fleet *f, fleet_live *o, uint32_t *lat);
int fleet_local_caught_up(fleet *f);
int fleet_local_report(fleet *f, json_t *report, char *err, size_t errlen);

/* fleet_client.c */
/* Sets up thread idx of f (event base, WS frame pool, checker context,
 * housekeeping tick); no thread runs yet. Returns 0, or -1 with a message
 * in err (the caller then frees it with fl_thread_free). */
int fl_thread_init(fl_thread *t, fleet *f, unsigned idx, char *err, size_t errlen);
/* Frees everything the thread owns (clients, buffers, base); the thread
 * must have been joined. Does not free t itself. */
void fl_thread_free(fl_thread *t);
/* Creates a client on thread t (global id, group, its channel indexes) and
 * schedules its first connect start_delay_ms from now. Call before the
 * thread runs. Returns 0, or -1 with a message in err. */
int fl_client_add(fl_thread *t, uint32_t id, uint16_t group, const uint32_t *chs, uint16_t n_ch,
                  uint32_t start_delay_ms, char *err, size_t errlen);
/* pthread entry: runs the thread's event loop until told to stop. */
void *fl_thread_main(void *arg);
/* Thread-safe: asks the thread to act (cut a fraction of its open clients,
 * re-check the drain, stop its loop). Returns at once. */
void fl_thread_post(fl_thread *t, double cut_fraction, int check, int stop);
/* After the thread was joined: closes its connections and reconciles every
 * stream with the final heads (f->final_head, or the acked heads when the
 * publisher never finished). */
void fl_thread_finalize(fl_thread *t);
/* The epoch string seen on this thread whose chk_epoch_hash is h, or NULL. */
const char *fl_epoch_str(fl_thread *t, uint64_t h);

/* fleet_net.c */
/* Opens a non-blocking TCP socket for client id (bound to its source
 * address, if any) and starts connecting it to the client address (with
 * cfg.client_addrs: the one for id and its attempt); a small receive buffer
 * when small_rcvbuf. Returns the fd, or -1 with *why set to
 * a static reason ("socket", "bind", "connect"). */
int fl_socket_connect(fleet *f, uint32_t id, unsigned attempt, int small_rcvbuf, const char **why);

/* Sends as much of data as the socket takes now (retrying EINTR). Returns
 * the bytes sent (fewer than len when it would block), or -1 when the
 * connection is broken. */
ssize_t fl_send_some(int fd, const char *data, size_t len);
/* the same over TLS when ssl is set (fleet_tls.h); recv likewise */
ssize_t fl_conn_send_some(int fd, SSL *ssl, const char *data, size_t len);
ssize_t fl_conn_recv(int fd, SSL *ssl, void *buf, size_t cap);

/* fleet_attack.c */
/* Allocates thread t's attacker tallies (t->at, one per group). Returns 0,
 * or -1 with a message in err. */
int fl_attack_thread_init(fl_thread *t, char *err, size_t errlen);
/* Creates an attacker of group `group` on thread t (global id; ch: the
 * channel an oversized publish targets) whose first attempt starts
 * start_delay_ms from now. Call before the thread runs. Returns 0, or -1
 * with a message in err. */
int fl_attack_add(fl_thread *t, uint32_t id, uint16_t group, uint32_t ch, uint32_t start_delay_ms,
                  char *err, size_t errlen);
/* After the thread was joined: counts unsettled attempts as in flight and
 * closes every attacker's connection. */
void fl_attack_thread_finalize(fl_thread *t);
/* Frees the thread's attackers and tallies. */
void fl_attack_thread_free(fl_thread *t);

/* fleet_pub.c */
/* Allocates the publisher of f (connections, schedule, payload); no I/O.
 * Returns 0, or -1 with a message in err. */
int fl_pub_new(fleet *f, fl_pub **out, char *err, size_t errlen);
/* Connects and starts the schedule from f->t0_mono_us on its own thread.
 * Returns 0, or -1 with a message in err. */
int fl_pub_start(fl_pub *p, char *err, size_t errlen);
/* Thread-safe: pauses (1) or resumes (0) the schedule. */
void fl_pub_pause(fl_pub *p, int paused);
/* Stops scheduling; returns once in-flight requests have settled or
 * deadline_ms passed (what is still unacknowledged then counts as
 * publish_failed), joins the thread, fills f->final_head and sets
 * heads_final. Call from the controlling thread. */
void fl_pub_finish(fl_pub *p, uint32_t deadline_ms);
/* Stops the thread if needed and frees everything. NULL is fine. */
void fl_pub_free(fl_pub *p);
/* Events acknowledged so far; thread-safe. */
uint64_t fl_pub_published(fl_pub *p);
/* Thread-safe: the publisher's outcomes so far (events acknowledged, events
 * given up on, resent requests, request errors). */
void fl_pub_outcomes(fl_pub *p, uint64_t *acked, uint64_t *failed, uint64_t *retries, uint64_t *errors);
/* Events the mirrors (cfg.publish_mirrors) acknowledged / never did, summed over them. */
void fl_pub_mirror_outcomes(fl_pub *p, uint64_t *acked, uint64_t *failed);
/* 1 while the schedule runs (started, not paused, not finishing). */
int fl_pub_running(fl_pub *p);
/* After fl_pub_finish: adds the per-second published counts to ctx's rows
 * and copies the publisher's totals into its fleet. */
void fl_pub_results(fl_pub *p, chk_ctx *ctx);
/* Once the publisher has finished in this process: the publisher's floor
 * for a subscription that surely took effect by wall time t_us (its start
 * plus the grace): every seq above *floor was stamped later than t_us, so it
 * is owed (checker.h, chk_set_floor). Conservative where the log cannot
 * tell: a seq the log does not hold (another publisher's) is owed only
 * above the first logged seq stamped later than t_us, and nothing is owed
 * (UINT64_MAX) when no logged event was stamped later. Returns 0 when it
 * cannot tell at all (no log here, nothing logged on the channel, or t_us
 * before the current generation). */
int fl_pub_floor(const fleet *f, uint32_t ch, int64_t t_us, uint64_t *floor);

#endif
