/* config.h — rtchaos-server settings: defaults, JSON config file (jansson)
 * and command-line flags (flags override the file), and --help. */
#ifndef RTCHAOS_SERVER_CONFIG_H
#define RTCHAOS_SERVER_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "log.h"
#include "sendq.h"

/* Lifetime: filled once in main before the server starts, read-only after. */
typedef struct server_cfg {
    char host[64];               /* bind address */
    int64_t port;                /* 0 = ephemeral (printed on stdout) */
    int64_t history_max;         /* events kept per channel */
    int64_t history_max_age_ms;  /* 0 = no age bound */
    int64_t max_payload_bytes;   /* largest WS message / HTTP body */
    int64_t max_batch;           /* events per batch publish */
    int64_t sendq_max_msgs;      /* per connection */
    int64_t sendq_max_bytes;     /* per connection */
    sendq_policy default_policy; /* when no channel rule says otherwise */
    int64_t heartbeat_ms;        /* SSE ": hb" comment interval */
    int64_t ws_ping_s;           /* WebSocket ping after this much silence */
    int64_t ws_deflate;          /* 1: accept WebSocket permessage-deflate (pmd.c) */
    int64_t ws_write_direct;     /* 1: live events written at the end of the loop pass (wflush.c) */
    int64_t send_threads;        /* threads sending a pass's direct writes (wflush.c); 0 = one per CPU, at most 4 */
    int64_t batch_ms;            /* batching window of batch_channels (batch.c); 0 = off */
    char batch_channels[256];    /* comma list of name prefixes, "*" = every channel */
    char delta_channels[256];    /* channels whose events carry merge-patch deltas (delta.c); "" = none */
    int64_t delta_break_every;   /* testing a checker: every Nth delta loses a member; 0 = never */
    int64_t idle_timeout_s;      /* close WS without pong / SSE without write progress */
    int64_t poll_max_ms;         /* longest /poll wait */
    int64_t sse_retry_ms;        /* "retry:" sent to EventSource clients */
    int64_t drain_ms;            /* SIGTERM: time to flush before closing */
    int64_t handshake_timeout_ms;/* a connection's request head must be complete within this */
    int64_t fd_reserve;          /* descriptors kept free below RLIMIT_NOFILE; 0 = 1% (>= 32) */
    int64_t max_channels;
    int64_t max_subs;            /* subscriptions per connection */
    int64_t sndbuf_bytes;        /* SO_SNDBUF of stream sockets; 0 = kernel default */
    char static_dir[512];        /* served under /static/ when set */
    char cors_origin[128];       /* Access-Control-Allow-Origin; "" = none */
    char redis_url[256];         /* --redis: brokered multi-node (broker.c); "" = off */
    int64_t admin;               /* 1 = the /admin endpoints are enabled */
    log_level log_level;
    /* security (authz.c, docs/security.md); "" = off */
    char jwt_secret_file[512];   /* HS256 secret */
    char jwt_public_key[512];    /* PEM public key: RS256 or ES256 */
    char jwt_issuer[256], jwt_audience[256];
    int64_t jwt_leeway_s;
    char authz_policy[512];      /* channel policy (JSON) */
    char jwt_revoked[512];       /* token revocation list (jti / sub lines) */
    char audit_log[512];         /* JSON lines, "-" = stderr */
    int64_t audit_max_per_s;     /* audit lines per second, 0 = unlimited */
    char rate_conn_per_addr[32]; /* "N/s[:BURST]" */
    char rate_msg_per_conn[32];
    char rate_pub_per_account[32];
    char storm_new_conns[32];
    json_t *channels;            /* initial flag rules (config file "channels"), or NULL */
} server_cfg;

/* Fills c with the defaults. */
void config_defaults(server_cfg *c);

/* Applies a JSON config file: an object whose keys are the long flag names
 * with '_' for '-' ("history_max": 500, "policy": "coalesce", …) plus
 * "channels": [flag rules]. Returns 0, or -1 with a message (naming the key
 * or line) in err. */
int config_load_file(server_cfg *c, const char *path, char *err, size_t errlen);

/* Parses argv: --config FILE first (so flags override it), then every flag.
 * Returns 0 to run, 1 when --help was printed to out, -1 with err for a bad
 * command line. */
int config_parse_args(server_cfg *c, int argc, char **argv, FILE *out, char *err, size_t errlen);

/* Whether channel name is in list: a comma list of name prefixes, where
 * "*" names every channel (--batch-channels, --delta-channels). */
int config_channel_listed(const char *list, const char *name);

/* Drops what c owns (channels). */
void config_free(server_cfg *c);

#endif
