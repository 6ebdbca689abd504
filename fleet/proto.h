/* proto.h — the fleet's protocol adapters: how a subscriber and the publisher speak to one kind of server (contract v1, nchan, …), one file per protocol, found by name in a registry. */
#ifndef RTCHAOS_PROTO_H
#define RTCHAOS_PROTO_H
#include <stddef.h>
#include <stdint.h>

/*
 * The fleet's clients and publisher do the transport work (TCP, HTTP heads,
 * WebSocket framing, SSE parsing, reconnects); an adapter says what goes on
 * the wire for its protocol and what comes back means:
 *
 *   sub_target / sub_headers   where a subscriber connects, with its resume position
 *   ws_subprotocol, ws_message a WebSocket frame → payload and resume id
 *   poll_response              a long-poll answer → payload and resume id
 *   pub_target / pub_ack       where a publish goes, whether the answer acknowledges it
 *   resume                     what the protocol promises a client that comes back
 *
 * Contract v1 (proto_v1.c) frames are envelopes that carry the server's own
 * sequence numbers, snapshots and gaps (server_seq = 1); the fleet keeps its
 * v1 subscribe/resync logic for them. Every other protocol carries opaque
 * payloads: the publisher embeds its own record in each (record.h) and the
 * checker judges loss, duplication, order and latency from that.
 *
 * Adapters are stateless tables; every function is thread-safe and writes
 * only into the caller's buffers.
 */

/* What a protocol promises a client that reconnects (report.json
 * protocol.resume; the checker judges resync against it). */
typedef enum proto_resume {
    PROTO_RESUME_SEQ_EPOCH = 0, /* contract v1: since + epoch; replay, else a snapshot says so */
    PROTO_RESUME_BUFFER,        /* nchan: by message id within the server's buffer; evictions are
                                   silent, so a hole is `lost` */
    PROTO_RESUME_OFFSET,        /* Socket.IO recovery: by offset, time-bounded, failure signalled */
    PROTO_RESUME_NONE,          /* Pusher: what was published while away is never delivered */
} proto_resume;

/* "seq_epoch", "within_buffer", "offset", "none". */
const char *proto_resume_str(proto_resume r);

/* Subscriber transports, as bits of proto.transports (values of fleet_transport). */
#define PROTO_TR_WS   (1u << 0)
#define PROTO_TR_SSE  (1u << 1)
#define PROTO_TR_POLL (1u << 2)

#define PROTO_PATH_MAX 256
#define PROTO_ID_MAX   192  /* longest resume id kept (SSE id, nchan message id, poll validators) */

/* Where an adapter's locations are, from the scenario (target.sub_path,
 * target.pub_path); "" = the adapter's default. "{ch}" is replaced by the
 * channel name. */
typedef struct proto_opts {
    char sub_path[PROTO_PATH_MAX];
    char pub_path[PROTO_PATH_MAX];
    /* templated adapters (sse): */
    char resume_header[64];   /* header that carries the resume id ("" = none) */
    char resume_query[64];    /* or the query parameter that does ("" = none) */
    char payload_path[128];   /* dot path to the record inside each message's JSON ("" = the message itself) */
    char pub_method[16];      /* "" = POST */
    char pub_body[512];       /* body template with {payload} (and optionally {ch}); "" = {payload} */
    /* templated WebSocket adapter (ws-json): */
    char sub_message[256];    /* text message that subscribes channel {ch} */
    char resume_message[256]; /* the same resuming after the server's {offset} ("" = subscribe afresh) */
    char offset_path[128];    /* dot path of the server's offset in an inbound message ("" = none) */
    char pub_message[512];    /* publishing over the WebSocket: the message, {payload} (the record) and {ch} */
    char ping_match[256];     /* a JSON object: an inbound message holding all its members is the server's ping */
    char pong_message[256];   /* the answer to it: {ping} = the ping, {ping.PATH} = a value of it (JSON) */
    char ping_message[256];   /* a ping the client sends every ping_interval_ms ({n} counts from 1) */
    uint32_t ping_interval_ms;
    /* templated SSE: the text between channel names when one stream carries
     * several ("{ch}" becomes a<join>b<join>c, each percent-encoded);
     * "" = one channel per stream */
    char ch_join[32];
    /* every protocol: extra request header lines ("Name: value\r\n"…), the
     * environment already expanded; sent on every subscriber and publisher
     * request, never written to a report or log */
    char headers[1024];
    /* Pusher (protocol 7): the app's id, key and secret, the environment
     * already read; the secret signs publishes and is never written to a
     * report or log */
    char app_id[64];
    char key[128];
    char secret[128];
} proto_opts;

/* What one inbound message carries: a payload (NULL when it was control
 * only) and the resume id the server gave it (NULL when none). Both point
 * into the caller's buffer or into the adapter's static strings. */
typedef struct proto_frame {
    const char *payload;
    size_t payload_len;
    const char *id;
    size_t id_len;
    /* session protocols (Socket.IO); the caller zeroes these first: */
    char reply[64];           /* a text message to send back at once (heartbeat answer), "" = none */
    char error[160];          /* the server reported an error in the protocol's words (Pusher's
                                 pusher:error): counted as this reason, "" = none */
    int ready;                /* the session is open now: subscribe */
    int refused;              /* the server refused the session */
    const char *session;      /* the session id it named (compared across a resume), with ready */
    size_t session_len;
    const char *token;        /* what a resume must send back (Socket.IO pid), with ready */
    size_t token_len;
} proto_frame;

/* Response headers a long-poll adapter reads (captured by fleet_http). */
typedef struct proto_poll_head {
    int status;
    const char *last_modified; /* "" when absent */
    const char *etag;          /* "" when absent */
} proto_poll_head;

/* What a client does when the server closes its WebSocket with a code
 * (proto.ws_close). */
enum proto_close {
    PROTO_CLOSE_BACKOFF = 0, /* reconnect after the group's backoff (the default) */
    PROTO_CLOSE_NOW,         /* reconnect at once */
    PROTO_CLOSE_FAIL,        /* the server refuses this client for good: do not reconnect */
};

/* Outcome of proto.poll_response. */
enum proto_poll_rc {
    PROTO_POLL_MESSAGE = 0, /* body is one payload; *id_out holds the next resume id */
    PROTO_POLL_EMPTY,       /* nothing new (the server's timeout): poll again */
    PROTO_POLL_REFUSED,     /* any other status: the transport is refused */
};

typedef struct proto proto;
struct proto {
    const char *name;            /* the --protocol / target.protocol value */
    proto_resume resume;
    const char *promise;         /* one sentence for reports: what resume means here */
    unsigned transports;         /* PROTO_TR_* the protocol has */
    unsigned max_channels_per_conn; /* 0 = any number per connection */
    int server_seq;              /* 1: frames are contract-v1 envelopes; 0: payloads carry record.h */
    int pub_ws;                  /* can publish over WebSocket */
    int pub_batch;               /* takes several events in one publish request */
    const char *def_sub_path, *def_pub_path; /* defaults for proto_opts ("" fields) */
    const char *ws_subprotocol;  /* Sec-WebSocket-Protocol to offer, or NULL */
    int sub_path_ch;             /* sub_path names one channel ({ch} required); 0: one location, channels by message */
    const char *def_payload_path; /* where the record sits when the scenario says nothing ("" = the payload) */
    const char *def_sub_message;  /* subscribe message when the scenario gives none (NULL = required) */
    /* Session protocols: the first message once the WebSocket is open, a
     * resume when token and offset are given (both NULL: afresh). NULL hook
     * = none. Returns the length or -1. */
    int (*ws_hello)(const char *token, const char *offset, char *buf, size_t cap);

    /* The request target (path and query) of a subscriber connection to
     * channels chs[0..n) over transport tr (a fleet_transport), resuming
     * from resume_id (NULL: afresh). Returns the length, or -1 when it does
     * not fit in cap. */
    int (*sub_target)(const proto_opts *o, int tr, const char *const *chs, size_t n,
                      const char *resume_id, char *buf, size_t cap);
    /* Extra request header lines ("Name: value\r\n"…) for that request.
     * Returns the length (0 for none), or -1 when they do not fit. */
    int (*sub_headers)(const proto_opts *o, int tr, const char *resume_id, char *buf, size_t cap);
    /* Splits one inbound WebSocket text message. Returns 0, or -1 when it
     * is not what the protocol sends. */
    int (*ws_message)(const char *data, size_t len, proto_frame *out);
    /* Judges a long-poll response and makes the next resume id from its
     * validators into id_out (NUL-terminated; unchanged unless MESSAGE). */
    int (*poll_response)(const proto_poll_head *h, char *id_out, size_t id_cap);
    /* The publish request target for channel ch. Returns the length or -1. */
    int (*pub_target)(const proto_opts *o, const char *ch, char *buf, size_t cap);
    /* Whether a publish response acknowledges one event (1) or not (0,
     * with a reason in why). Only for server_seq == 0: v1 acks carry the
     * server's seq and are read by the publisher itself. */
    int (*pub_ack)(int status, const char *body, size_t len, char *why, size_t whycap);

    /* Optional (NULL = the defaults above). */
    int fixed_paths;             /* sub_path/pub_path are the protocol's, not options */
    /* The WebSocket close code the server sent → what the client does;
     * why gets a sentence for the error count when it is not BACKOFF. */
    int (*ws_close)(unsigned code, char *why, size_t whycap);
    /* The publish body for one record (rec: its JSON) on channel ch, when the
     * protocol wraps it itself (instead of pub_body). Returns the length or -1. */
    int (*pub_render)(const proto_opts *o, const char *ch, const char *rec, size_t rl, char *buf, size_t cap);
    /* The publish request target for a body that is already made, when the
     * protocol signs the request over its body (instead of pub_target).
     * Returns the length or -1. */
    int (*pub_signed_target)(const proto_opts *o, const char *body, size_t bl, char *buf, size_t cap);
    /* A text message that asks the server for an answer (Pusher's
     * pusher:ping), sent when a WebSocket has been quiet for the group's
     * idle timeout: a quiet channel is not a dead link until that goes
     * unanswered for another idle timeout. NULL = quiet means dead. */
    const char *ws_keepalive;
};

/* Every adapter's name, in registry order (for did-you-mean lists). */
extern const char *const proto_name_list[];
extern const size_t proto_count;

/* The adapter named name, or NULL. */
const proto *proto_find(const char *name);
/* The names of every adapter, comma-separated, for messages. */
const char *proto_names(void);

/* Replaces the first "{ch}" in path with ch (percent-encoding what is not
 * unreserved or ':'), into buf. A path without "{ch}" gets "/" ch appended.
 * Returns the length, or -1 when it does not fit. */
int proto_expand_path(const char *path, const char *ch, char *buf, size_t cap);

/* Checks an adapter option path: starts with "/", has exactly one "{ch}",
 * no spaces or control bytes. Returns 0, or -1 with a message in err. */
int proto_check_path(const char *what, const char *path, char *err, size_t errlen);
/* The same for a location that names no channel: "{ch}" may not appear. */
int proto_check_plain_path(const char *what, const char *path, char *err, size_t errlen);

/* Percent-encodes s into buf (unreserved and ':' kept). Returns the length
 * or -1 when it does not fit. */
int proto_pct_encode(const char *s, char *buf, size_t cap);

/* Renders a publish body: tmpl ("" = "{payload}") with "{payload}"
 * replaced by payload (raw JSON) and "{ch}" by the channel name, into buf.
 * Returns the length, or -1 when it does not fit. */
int proto_render_body(const char *tmpl, const char *payload, size_t payload_len, const char *ch, char *buf,
                      size_t cap);

/* Renders a subscribe / resume message template: "{ch}" → the channel
 * name, "{offset}" → offset (decimal). Returns the length or -1. */
int proto_render_sub(const char *tmpl, const char *ch, uint64_t offset, char *buf, size_t cap);

/* Checks a template's fields: each "{name}" must be one of allowed[0..n)
 * (e.g. "ch", "payload"), and each name in required[] must appear exactly
 * once. Returns 0, or -1 with a message (with a did-you-mean) in err. */
int proto_check_template(const char *what, const char *tmpl, const char *const *allowed, size_t nallowed,
                         const char *const *required, size_t nrequired, char *err, size_t errlen);

/* Pusher's signed events API target for body at Unix time ts:
 * /apps/ID/events?auth_key=…&auth_timestamp=ts&auth_version=1.0&body_md5=…&auth_signature=…
 * (proto_pusher's pub_signed_target with the current time). Returns the
 * length or -1. */
int proto_pusher_signed_target_at(const proto_opts *o, const char *body, size_t bl, long long ts, char *buf,
                                  size_t cap);

/* Contract v1 batch messages (docs/wire-contract.md §4.1): a WebSocket
 * message that is a JSON array of envelopes. v1_is_batch says whether
 * data[0..len) is one (its first non-blank byte is '['); v1_batch_next
 * finds the next element from *off (0 to start): 1 with *el and *el_len set
 * (the element's bytes, an object, not validated further: the envelope
 * scanner does that), 0 at the closing ']', -1 when the message is not an
 * array of objects. Split by hand, without a JSON tree, for the same reason
 * the envelope scanner is (common/envelope.h): the fleet reads every event
 * of every client. Never reads past data + len. Thread-safe. */
int v1_is_batch(const char *data, size_t len);
int v1_batch_next(const char *data, size_t len, size_t *off, const char **el, size_t *el_len);
/* Edit distance of two short names (did-you-mean suggestions). */
size_t proto_edit_distance(const char *a, const char *b);

/* Templated pings of JSON-over-WebSocket services (proto_ping.c). */
/* Checks ping_match (a JSON object), a pong template ({ping}, {ping.PATH})
 * and a client ping template ({n}). 0, or -1 with a message in err. */
int proto_check_ping_match(const char *what, const char *match, char *err, size_t errlen);
int proto_check_pong(const char *what, const char *tmpl, char *err, size_t errlen);
int proto_check_ping(const char *what, const char *tmpl, char *err, size_t errlen);
/* 1 when msg (JSON text) is an object holding every member of match with
 * an equal value ({} matches only {}), else 0. */
int proto_ping_matches(const char *match, const char *msg, size_t len);
/* Renders the pong for ping msg: {ping} → msg, {ping.PATH} → the value at
 * PATH as compact JSON (null when absent). Returns the length or -1. */
int proto_render_pong(const char *tmpl, const char *msg, size_t len, char *buf, size_t cap);
/* Renders a client ping: {n} → n. Returns the length or -1. */
int proto_render_ping(const char *tmpl, uint64_t n, char *buf, size_t cap);

extern const proto proto_v1;
extern const proto proto_nchan;
extern const proto proto_sse;
extern const proto proto_ws_json;
extern const proto proto_socketio;
extern const proto proto_pusher;

#endif
