/* server.h — the reference server's shared state: channels, connections
 * (sessions) and their subscriptions, and the per-vhost data that owns them.
 * Each transport (ws.c, sse.c, http_api.c) works on these. */
#ifndef RTCHAOS_SERVER_SERVER_H
#define RTCHAOS_SERVER_SERVER_H
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "authz.h"
#include "brokerseq.h"
#include "config.h"
#include "flags.h"
#include "handshake.h"
#include "history.h"
#include "metrics.h"
#include "sendq.h"
#include "twheel.h"

/* A write batch (WS frames or SSE messages) stops growing past this many
 * bytes: big enough that fan-out costs few syscalls, small enough that the
 * unsent tail lws keeps for a slow peer stays small. */
#define WRITE_BATCH_BYTES (64 * 1024)

/* WebSocket close code 1013 "try again later" (not named in lws 4.1). */
#define WS_CLOSE_TRY_AGAIN_LATER 1013

struct srv;
struct session;

/* One channel. Created on first use (subscribe, publish, poll), lives until
 * the server exits. hist must stay the first member: a msg's `chan` points at
 * it and is cast back to the channel. */
typedef struct channel {
    history hist;
    lws_dll2_owner_t subs;     /* conn_sub.chan_node: stream subscriptions */
    lws_dll2_owner_t pollers;  /* session.poll_node: waiting /poll requests */
    flags_eval fl;             /* current flags for this channel */
    struct channel *next;      /* hash chain */
    /* --redis (broker.c): the delivery order, and whether the channel's
     * state was loaded from Redis (subscribers wait for it) */
    brokerseq bseq;
    int bk_ready;
    uint64_t bk_seen_loading;  /* highest seq heard while loading */
    char bk_seen_epoch[ENV_EPOCH_MAX + 1];
    int bk_fill_on_ready;      /* the pub/sub subscription took effect while loading */
    unsigned char batch;       /* live events wait for the batching window (batch.c) */
    unsigned char delta;       /* events carry a merge-patch form (delta.c) */
} channel;

typedef enum sub_phase {
    SUB_PENDING = 0, /* "subscribed" not written yet; the resync decision is made then */
    SUB_SNAPSHOT,    /* next: a snapshot of the channel */
    SUB_REPLAY,      /* next: history from cursor */
    SUB_LIVE,        /* events arrive through the send queue */
} sub_phase;

/* One subscription of one connection to one channel. Owned by its session;
 * freed on unsubscribe, when the channel is disabled, or when the session
 * closes. */
typedef struct conn_sub {
    lws_dll2_t chan_node;       /* in channel.subs */
    lws_dll2_t conn_node;       /* in session.subs */
    struct session *s;
    channel *ch;
    uint64_t since;
    uint64_t last_sent;         /* the client has everything up to here */
    uint64_t cursor;            /* SUB_REPLAY: next seq to send */
    uint64_t dropped_to;        /* highest seq dropped by backpressure, not yet told */
    uint32_t epoch_hash;
    /* bit fields: one per subscribed connection, kept small (104 bytes:
     * the 112-byte malloc bin); the WS resume epoch waits in the
     * subscription's ctrl_item instead of here. Assign 0/1 (or the enum). */
    unsigned char phase : 2;      /* sub_phase */
    unsigned char has_since : 1;  /* resume requested */
    unsigned char epoch_kind : 2; /* 0 none, 1 string (WS: in the pending ctrl_item), 2 hash (SSE id) */
    unsigned char want_delta : 1; /* the client asked for merge-patch deltas */
    unsigned char has_value : 1;  /* the client holds the channel's value as of last_sent
                                     (a delta against it can be rebuilt) */
} conn_sub;

typedef enum sess_kind { SESS_NONE = 0, SESS_HTTP, SESS_SSE, SESS_POLL, SESS_WS } sess_kind;

/* A control message waiting in a session's ordered control queue: a text
 * envelope (error, pong), or the start of a subscription (sub != NULL). */
typedef struct ctrl_item {
    lws_dll2_t node;
    conn_sub *sub;
    env_type type;
    size_t len;                  /* text's length (0 for a subscription's start) */
    /* the envelope; for a subscription's start, the epoch the client
     * resumes from (WS "epoch", NUL-terminated, empty when none): kept here
     * until the resync is decided, not in every conn_sub for its lifetime */
    char text[];
} ctrl_item;

/* The HTTP-transaction part of a session (below): request, prepared
 * response, /poll arguments. Separate so that an idle WebSocket connection
 * does not pay for it; freed by session_release. */
typedef struct session_http {
    /* request */
    int method;                  /* 'G' GET, 'P' POST, 'O' OPTIONS */
    char path[160];
    char *body;
    size_t body_len;
    int body_too_large;
    /* HTTP response prepared for the WRITEABLE callback */
    char *resp;
    size_t resp_len;
    int resp_status;
    const char *resp_ctype;
    int resp_ready;
    int resp_close;              /* close the connection after the response */
    uint32_t resp_retry_after_s; /* 429/503: the Retry-After header (authz.c) */
    int refused_early;           /* answered before the body (authz): ignore the body */
    int has_body;                /* the head announces a body (Content-Length > 0, chunked, POST without length) */
    int pipelined;               /* has_body, and the head came in the previous request's read (http_conn.h) */

    /* --redis: publishes waiting for Redis (broker.c broker_pub.node) */
    lws_dll2_owner_t pubs;

    /* /poll */
    channel *poll_ch;
    int poll_has_since;
    uint64_t poll_since;
    char poll_epoch[ENV_EPOCH_MAX + 1];

    /* the lists only SSE streams and polls are on (here, not in session,
     * so a WebSocket connection does not carry them); s leads back */
    struct session *s;
    lws_dll2_t poll_node;        /* in channel.pollers while a /poll waits */
    lws_dll2_t watch_node;       /* in srv.watched: HTTP streams the hang-up sweep looks at */
} session_http;

/* One per lws connection (lws allocates it zeroed: per_session_data_size).
 * For HTTP it lives for one transaction (lws frees and re-allocates it at the
 * next keep-alive request: HTTP_DROP_PROTOCOL); for WS from ESTABLISHED to
 * CLOSED; for SSE and poll until the response ends. session_release() frees
 * what it owns and is safe to call twice.
 *
 * Every idle WebSocket connection carries one, so it is packed: flags are
 * bytes, counts that a bound keeps small are 32-bit, and what only HTTP
 * requests, SSE streams and polls use is in session_http (h). */
typedef struct session {
    unsigned char kind;          /* sess_kind */
    unsigned char closing;       /* close once the queue is flushed (or at once: close_now) */
    unsigned char close_now;
    unsigned char ping_due;      /* WS: write a ping at the next WRITEABLE */
    unsigned char pmd_reset;     /* WS: the client asked server_no_context_takeover */
    unsigned char sse_hb_due;    /* SSE: write a heartbeat at the next WRITEABLE */
    unsigned char sse_started;   /* SSE: "retry:" written */
    unsigned char poll_wake;     /* /poll: respond at the next WRITEABLE */
    uint16_t close_code;         /* WS close code (1000..4999) */
    unsigned char ws_batch;      /* WS: the client takes batch messages (a JSON array of envelopes) */
    unsigned char sse_delta;     /* SSE: ?delta=1, subscriptions want deltas */
    uint32_t ctrl_bytes;         /* queued control text, bounded by CTRL_MAX_BYTES (conn.c) */
    struct lws *wsi;
    struct srv *srv;
    lws_dll2_t node;             /* in srv.sessions: every stream and poll session */
    void *principal;             /* who this is: set by authz_check at connect */
    void (*free_principal)(void *);

    /* streams (WS and SSE) */
    lws_dll2_owner_t subs;       /* conn_sub.conn_node */
    lws_dll2_owner_t ctrl;       /* ctrl_item.node, in order */
    sendq q;
    const char *close_reason;
    uint64_t last_progress_us;   /* monotonic: last time a write went out */

    /* WS: when a pong (or the upgrade) last proved the peer alive; lws
     * closes peers silent past the idle timeout, this tells which closes
     * those were (rtchaos_idle_closes_total) */
    uint64_t last_pong_us;
    struct z_stream_s *pmd;      /* WS: permessage-deflate compressor (pmd.c); NULL = frames go uncompressed */
    lws_dll2_t batch_node;       /* in srv.batch_held while live events wait for the window (batch.c) */
    uint64_t batch_due_us;       /* monotonic: when they must go */

    /* The session's one timer on the vhost's wheel (twheel.h): WS ping and
     * idle check, SSE heartbeat and write-progress check, /poll timeout.
     * Never lws's per-connection timers, whose insert is linear in lws 4.1.
     * (WS token expiry has its own, in the principal: authz_arm_expiry.) */
    twheel_timer tmr;

    /* WS receive reassembly (at most --max-payload-bytes) */
    char *rx;
    uint32_t rx_len;
    uint32_t flush_ix;           /* WS: 1 + its slot in srv.flush while a direct write is due (wflush.c); 0 = none */

    /* HTTP request and response, and the SSE/poll lists: allocated at
     * LWS_CALLBACK_HTTP only (http_api.c), NULL for WebSocket sessions,
     * which are most of a big server's connections and never use it */
    struct session_http *h;
} session;

/* Per-vhost data (one vhost): everything the server owns. Allocated in
 * PROTOCOL_INIT, freed in PROTOCOL_DESTROY (at context destroy, after every
 * connection has closed). */
typedef struct srv {
    const server_cfg *cfg;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    channel **buckets;           /* channel hash table */
    size_t nbuckets, nchannels;
    flags fl;
    metrics m;
    lws_dll2_owner_t sessions;
    /* the send queues' limits and their totals (sendq_msgs, _bytes, _max on
     * /metrics), and the open stream subscriptions: kept as they change, so
     * a scrape does not walk the connections */
    sendq_shared qs;
    uint64_t nsubs;
    char epoch_base[16];         /* base36 wall µs at start: new epochs after a restart */
    uint64_t epoch_counter;
    int draining;
    char *gen;                   /* scratch for generated envelopes (LWS_PRE + gen_cap) */
    size_t gen_cap;
    char *out;                   /* scratch for SSE batches (LWS_PRE + out_cap) */
    size_t out_cap;
    char *bat;                   /* scratch for one WS batch message's payload (out_cap bytes) */
    lws_dll2_owner_t batch_held; /* session.batch_node, in due order (batch.c) */
    lws_sorted_usec_list_t batch_sul; /* fires when the first held session is due */
    /* WebSocket sessions given live events in this loop pass, written at
     * its end (wflush.c); a released session's slot is NULL */
    session **flush;
    uint32_t nflush, flush_cap;
    /* the direct writer (ws.c ws_write_direct; a hook, so conn.c and
     * wflush.c do not depend on the WebSocket code); NULL = none */
    int (*write_direct)(struct srv *S, session *s);
    /* --send-threads > 1: the pass's direct writes are sent by that many
     * threads at its end (wflush.c); NULL = written in place */
    struct wsend *snd;
    uint64_t delta_made;         /* deltas made so far (--delta-break-every counts them) */
    twheel wheel;                /* per-session timers (session.tmr) */
    twheel exp_wheel;            /* token expiry of WS connections (authz_arm_expiry) */
    lws_dll2_owner_t watched;    /* session.watch_node: SSE streams and parked polls (the hang-up sweep) */
    struct broker *bk;           /* --redis (broker.h), else NULL */
    /* Called for each channel created (broker_channel_new with --redis);
     * a hook, so channels.c does not depend on the broker */
    void (*on_channel_new)(struct srv *S, channel *ch);
} srv;

/* ---- channels.c ------------------------------------------------------- */
/* Finds channel name; creates it when create is set (new epoch, flags
 * evaluated). Returns NULL with err (invalid name, too many channels, no
 * memory) or when absent and !create (err says so). */
channel *channels_get(srv *S, const char *name, int create, char *err, size_t errlen);
/* Re-evaluates every channel's flags; subscribers of channels that became
 * disabled get an error and lose the subscription. */
void channels_flags_changed(srv *S);
/* Makes a new epoch string into out (ENV_EPOCH_MAX + 1 bytes). */
void channels_new_epoch(srv *S, char *out);
void channels_free_all(srv *S);

/* ---- conn.c: subscriptions and the writer, transport-agnostic ---------- */
/* One frame to write: text[0..len) (valid until the next conn_next); hold
 * is a msg reference to drop after writing (NULL for generated text). */
typedef struct conn_frame {
    const char *text;
    size_t len;
    msg *hold;
    env_type type;
    int live;                    /* a live event (latency is recorded) */
    int delta;                   /* text is the event's delta form (msg.delta) */
} conn_frame;

/* Subscribes s to ch (replacing an existing subscription to it). The
 * "subscribed" reply and the resync are decided when the writer gets there.
 * epoch: string or NULL; epoch_hash used when epoch_kind == 2. Returns the
 * subscription, or NULL with err (too many subscriptions / no memory). */
conn_sub *conn_subscribe(session *s, channel *ch, int has_since, uint64_t since, int epoch_kind,
                         const char *epoch, uint32_t epoch_hash, char *err, size_t errlen);
void conn_unsubscribe(session *s, conn_sub *sub);
conn_sub *conn_find_sub(session *s, const channel *ch);
/* Queues a control envelope (copied). Returns 0, or -1 when the control
 * queue is over its bound (the caller closes the connection). */
int conn_ctrl(session *s, env_type type, const char *text, size_t len);
int conn_ctrl_error(session *s, const char *code, const char *msg, const char *ch);
/* Produces the next frame; 1 = *f filled, 0 = nothing to send. */
int conn_next(session *s, conn_frame *f);
/* Whether anything is waiting to be written. */
int conn_pending(const session *s);
/* Sets up what the stream sessions of S share (S->qs, from S->cfg).
 * Returns 0, or -1 when out of memory. conn_srv_free undoes it. */
int conn_srv_init(srv *S);
void conn_srv_free(srv *S);
/* Sets up the stream part of s (send queue). */
void conn_init(session *s, srv *S, sess_kind kind, struct lws *wsi);
/* Frees subscriptions, control queue and send queue. */
void conn_release(session *s);
/* Fan-out of a freshly published event to the channel's live subscribers. */
void conn_fanout(srv *S, channel *ch, msg *m);
/* Asks s to close after flushing (code for WS). */
void conn_close_soon(session *s, int code, const char *reason, int now);
/* The hang-up sweep: lws 4.1 does not read an h1 connection while its
 * response is under way (fixed upstream in 4.3, "http: sse: check POLLIN
 * during DOING_TRANSACTION"), so a client that closes an SSE stream or a
 * parked long-poll is never noticed: its socket sits in CLOSE-WAIT and, as
 * POLLIN stays ready, the event loop spins until something is written to it.
 * conn_sweep_hangups, run every CONN_SWEEP_MS from one timer, peeks at up to
 * CONN_SWEEP_MAX such connections (round robin over S->watched: SSE streams
 * and parked polls only, never WebSocket sessions) and closes those whose
 * client has gone. One timer rather than one per connection: lws 4.1 keeps
 * timers in a sorted list with linear insertion. */
#define CONN_SWEEP_MS 250
#define CONN_SWEEP_MAX 4096
/* Puts an SSE or poll session on the hang-up sweep's list (idempotent;
 * session_release takes it off). */
void conn_watch_hangup(session *s);
/* Whether the client of an HTTP connection has closed its side. */
int conn_peer_closed(struct lws *wsi);
/* One step of the sweep; returns the number of connections closed. */
unsigned conn_sweep_hangups(srv *S);

/* ---- batch.c: the batching window (--batch-ms) ------------------------- */
/* A live event of a batched channel was queued for s: instead of asking
 * for a write now, s waits until batch_ms after its first held event (one
 * lws timer for the whole server, sessions in due order). */
void batch_hold(srv *S, session *s);
/* s wrote everything it held (or is going away): off the held list. */
void batch_release(session *s);
/* Cancels the window's timer (server shutdown). */
void batch_stop(srv *S);

/* ---- wflush.c: direct writes at the end of the loop pass ---------------- */
/* A WebSocket session got live events: written at the end of this loop
 * pass (wflush_run) without asking lws for WRITEABLE first
 * (--ws-write-direct 1; with 0, or for other sessions, asks lws). */
void wflush_mark(srv *S, session *s);
/* Takes s off the pass's list (session_release). */
void wflush_forget(session *s);
/* Writes every marked session (ws_write_direct); run by the event loop
 * before it waits again (an ev_prepare watcher, server.c). */
void wflush_run(srv *S);
/* --send-threads: threads > 1 starts threads - 1 sender threads that share
 * each pass's direct writes with the loop's thread. 0, or -1 (logged). */
int wflush_init(srv *S, unsigned threads);
/* From the direct write (ws.c write_queue): len bytes (a whole write,
 * built in S->out) for s are copied and sent at the end of the pass, with
 * the others, by the sender threads. 1 when taken (the caller does not
 * write; wflush counts the write and its events once it went out), 0 when
 * the caller writes them itself (no sender threads, TLS, no memory). */
int wflush_defer(srv *S, session *s, struct lws *wsi, const unsigned char *buf, size_t len, unsigned events);
void wflush_free(srv *S);

/* ---- delta.c: merge-patch deltas (--delta-channels) -------------------- */
/* m was just published on ch, whose previous value was prev (NULL: none):
 * attaches m's delta form (msg_set_delta) when ch declares deltas and a
 * patch is smaller than the whole value. Failure only means no delta. */
void delta_attach(srv *S, channel *ch, const msg *prev, msg *m);

/* ---- publish.c -------------------------------------------------------- */
/* Validates and publishes a request body (one {"ts","data","id"} object, or
 * an array of them) to channel name. On success returns 0 and *resp = the
 * JSON answer (new reference). On failure returns -1 with *status (400, 403,
 * 413, 503 …), *code (error code) and err. transport is where it came from. */
int publish_body(srv *S, session *s, const char *name, const json_t *body, metrics_transport tr,
                 int want_ack, json_t **resp, int *status, const char **code, char *err, size_t errlen);
/* With --redis publish_body returns 1 instead: the answer comes later,
 * through publish_answer (broker.c calls it once Redis has replied). */
#define PUBLISH_DEFERRED 1
/* Answers a deferred publish to s (HTTP response, or WS ack / error).
 * resp is the JSON answer (stolen) or NULL with status/code/err. */
void publish_answer(srv *S, session *s, metrics_transport tr, int want_ack, const char *name,
                    json_t *resp, int status, const char *code, const char *err);
/* Delivers an event the broker put in order: fan-out and long-poll wake-up. */
void publish_deliver(srv *S, channel *ch, msg *m);

/* ---- http_api.c / sse.c / ws.c: lws callbacks by transport -------------- */
int http_api_callback(struct lws *wsi, enum lws_callback_reasons reason, session *s, void *in,
                      size_t len);
int sse_start(srv *S, session *s, struct lws *wsi);
int sse_writeable(srv *S, session *s);
/* The session's wheel timer came due (heartbeat): -1 = close it now. */
int sse_timer(srv *S, session *s);
/* The session's wheel timer came due: ping, or close an idle peer. */
void ws_timer(srv *S, session *s);
/* The token-expiry timer of s came due (authz_arm_expiry on S->exp_wheel):
 * close 4401 if the token has expired, else re-arm (it was refreshed). */
void ws_expiry(srv *S, session *s);
/* The session's wheel timer came due for a waiting /poll: it waited its
 * whole timeout, answer now. */
void poll_timer(srv *S, session *s);
/* Arms s's first ping/idle check (at ESTABLISHED). */
void ws_arm_first_ping(srv *S, session *s);
/* Writes s's queue now, outside WRITEABLE, where that is safe (ws.c says
 * when), else asks lws for WRITEABLE. 0, or -1: close the connection. */
int ws_write_direct(srv *S, session *s);
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, session *s, void *in, size_t len);
/* FILTER_HTTP_CONNECTION: a request head arrived (every request, also the
 * static mount's): notes whether it carries a body and whether it was
 * pipelined (http_conn.h). Returns -1 to close the connection at once. */
/* Starts http_api's timer work (after http_conn_init). */
void http_api_start(srv *S);
int http_api_filter(struct lws *wsi);
/* Prepares an HTTP response for the WRITEABLE callback (body copied). */
int http_respond(session *s, int status, const char *ctype, const char *body, size_t len);
int http_respond_error(session *s, int status, const char *code, const char *msg);
int poll_respond_now(srv *S, session *s);

/* ---- reload.c ---------------------------------------------------------- */
typedef struct server_reload_result {
    authz_summary files;          /* what is in force now */
    unsigned connections_closed;  /* revoked, key removed, anonymous no longer allowed */
    unsigned subscriptions_ended; /* denied by the new policy */
} server_reload_result;
/* Reloads the security files (authz_reload: all or nothing) and re-checks
 * every open WS/SSE connection and waiting poll against them: a connection
 * whose token is revoked or whose key is gone gets error "unauthorized" and
 * WS close 4401 (SSE: the stream ends; poll: 401); a subscription the new
 * policy denies gets error "forbidden" (or "unauthorized") with its channel
 * and ends (poll: 403). Returns 0 with *out, or -1 with err (the old files
 * stay in force, nothing is touched). Runs on the event loop. */
int server_reload(srv *S, const char *origin, server_reload_result *out, char *err, size_t errlen);
/* Logs the outcome of server_reload (rc, *r or err) as one line. */
void server_reload_log(const char *origin, int rc, const server_reload_result *r, const char *err);

/* ---- server.c ---------------------------------------------------------- */
srv *server_of(struct lws *wsi);
/* Releases everything a session owns (idempotent). */
void session_release(session *s);

/* Whether wsi's connection was admitted over the descriptor budget, to be
 * refused (fdbudget.h): WebSocket close 1013 after the upgrade. */
int server_fd_refused(struct lws *wsi);

/* The handshake deadline's tallies (handshake.h); zeros before the server
 * runs. */
void server_handshake_stats(handshake_stats *out);
/* Runs the server until SIGTERM/SIGINT has drained it. Returns the exit code. */
int server_run(const server_cfg *cfg);

#endif
