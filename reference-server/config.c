/* config.c — defaults, JSON config file and command-line flags, table-driven
 * so a flag and its config-file key can never drift apart. */
#include "config.h"
#include "flags.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPT_INT, OPT_STR, OPT_POLICY, OPT_LOGLEVEL } opt_type;

typedef struct opt {
    const char *name;  /* flag name; config key is the same with '_' */
    opt_type type;
    size_t off;
    int64_t min, max;  /* OPT_INT bounds; OPT_STR: max = buffer size */
    const char *arg, *help;
} opt;

#define OFF(f) offsetof(server_cfg, f)
static const opt opts[] = {
    {"host", OPT_STR, OFF(host), 0, sizeof(((server_cfg *)0)->host), "ADDR",
     "bind address (default 127.0.0.1)"},
    {"port", OPT_INT, OFF(port), 0, 65535, "N",
     "listen port; 0 = ephemeral. Prints `listening ADDR:PORT` when ready (default 8080)"},
    {"history-max", OPT_INT, OFF(history_max), 1, 1000000, "N",
     "events kept per channel for resync (default 1000)"},
    {"history-max-age-ms", OPT_INT, OFF(history_max_age_ms), 0, INT64_C(1) << 40, "MS",
     "events older than this leave the history; 0 = no age bound (default 300000)"},
    {"max-payload-bytes", OPT_INT, OFF(max_payload_bytes), 64, 64 << 20, "N",
     "largest WebSocket message (close 1009) and HTTP body (413) (default 65536)"},
    {"max-batch", OPT_INT, OFF(max_batch), 1, 100000, "N", "events per batch publish (default 1000)"},
    {"sendq-max-msgs", OPT_INT, OFF(sendq_max_msgs), 2, 1 << 24, "N",
     "send queue bound per connection, messages (default 1024)"},
    {"sendq-max-bytes", OPT_INT, OFF(sendq_max_bytes), 1024, INT64_C(1) << 32, "N",
     "send queue bound per connection, bytes (default 1048576)"},
    {"policy", OPT_POLICY, OFF(default_policy), 0, 0, "P",
     "backpressure policy of channels no rule names: drop|coalesce|snapshot|disconnect (default drop)"},
    {"heartbeat-ms", OPT_INT, OFF(heartbeat_ms), 50, 3600000, "MS",
     "SSE heartbeat comment interval (default 15000)"},
    {"ws-ping-s", OPT_INT, OFF(ws_ping_s), 1, 3600, "S",
     "WebSocket ping after this many seconds without a pong (default 20)"},
    {"ws-deflate", OPT_INT, OFF(ws_deflate), 0, 1, "0|1",
     "1: accept WebSocket permessage-deflate (RFC 7692) when a client offers it; events are "
     "compressed per connection (default 0)"},
    {"ws-write-direct", OPT_INT, OFF(ws_write_direct), 0, 1, "0|1",
     "1: a WebSocket connection's live events are written at the end of the loop pass that "
     "queued them, without a writable round trip through the event loop; 0: only when lws says "
     "the connection is writable (default 1)"},
    {"send-threads", OPT_INT, OFF(send_threads), 0, 16, "N",
     "threads that send the WebSocket writes of a loop pass (the direct writes of --ws-write-direct 1) "
     "side by side: the kernel's TCP work of a fan-out on more than one core; 1 = the loop's thread "
     "alone, 0 = one per CPU, at most 4 (default 0)"},
    {"batch-ms", OPT_INT, OFF(batch_ms), 0, 1000, "MS",
     "batching window: live events of --batch-channels are held up to MS ms per connection and "
     "written together (one SSE write; one WebSocket message for clients that ask); 0 = off (default 0)"},
    {"batch-channels", OPT_STR, OFF(batch_channels), 0, sizeof(((server_cfg *)0)->batch_channels), "LIST",
     "comma list of channel name prefixes the batching window applies to; * = every channel (default *)"},
    {"delta-channels", OPT_STR, OFF(delta_channels), 0, sizeof(((server_cfg *)0)->delta_channels), "LIST",
     "comma list of channel name prefixes (* = every channel) whose events go out as JSON merge "
     "patches against the previous value to subscribers that ask; empty = none (default empty)"},
    {"delta-break-every", OPT_INT, OFF(delta_break_every), 0, 1000000, "N",
     "for testing clients: every Nth delta loses one member, so a client that checks the rebuilt "
     "value must notice; 0 = never (default 0)"},
    {"idle-timeout-s", OPT_INT, OFF(idle_timeout_s), 2, 7200, "S",
     "close a WebSocket without pong / an SSE stream without write progress after this (default 60)"},
    {"poll-max-ms", OPT_INT, OFF(poll_max_ms), 0, 600000, "MS", "longest /poll wait (default 30000)"},
    {"sse-retry-ms", OPT_INT, OFF(sse_retry_ms), 0, 600000, "MS",
     "reconnect delay advised to EventSource clients (default 1000)"},
    {"drain-ms", OPT_INT, OFF(drain_ms), 0, 600000, "MS",
     "on SIGTERM, time to flush queued events before closing (default 5000)"},
    {"handshake-timeout-ms", OPT_INT, OFF(handshake_timeout_ms), 100, 600000, "MS",
     "cut a connection whose request head (HTTP request or WebSocket upgrade) is not complete "
     "this long after it was accepted: slowloris (default 10000)"},
    {"fd-reserve", OPT_INT, OFF(fd_reserve), 0, 1 << 20, "N",
     "descriptors kept free below RLIMIT_NOFILE (raised to the hard limit at start); past limit - N "
     "new connections get HTTP 503 + Retry-After / WebSocket close 1013; 0 = 1% of the limit, "
     "at least 32 (default 0)"},
    {"max-channels", OPT_INT, OFF(max_channels), 1, 10000000, "N", "channels (default 100000)"},
    {"max-subs", OPT_INT, OFF(max_subs), 1, 64, "N",
     "subscriptions per connection (default 64; an SSE id holds at most 64)"},
    {"sndbuf-bytes", OPT_INT, OFF(sndbuf_bytes), 0, 64 << 20, "N",
     "SO_SNDBUF of stream sockets; 0 = kernel default (default 0)"},
    {"static", OPT_STR, OFF(static_dir), 0, sizeof(((server_cfg *)0)->static_dir), "DIR",
     "serve the files of DIR under /static/"},
    {"cors-origin", OPT_STR, OFF(cors_origin), 0, sizeof(((server_cfg *)0)->cors_origin), "ORIGIN",
     "Access-Control-Allow-Origin of every response; empty = none (default *)"},
    {"redis", OPT_STR, OFF(redis_url), 0, sizeof(((server_cfg *)0)->redis_url), "URL",
     "redis://[[USER]:PASSWORD@]HOST:PORT[/DB]: share channels with other nodes through Redis (docs/server.md)"},
    {"admin", OPT_INT, OFF(admin), 0, 1, "0|1", "enable /admin/* (flags, kick, reset, reload) (default 1)"},
    {"log-level", OPT_LOGLEVEL, OFF(log_level), 0, 0, "L", "debug|info|warn|error (default info)"},
#define SZ(f) sizeof(((server_cfg *)0)->f)
    {"jwt-secret-file", OPT_STR, OFF(jwt_secret_file), 0, SZ(jwt_secret_file), "FILE",
     "HS256 secret: require and verify JWTs (docs/security.md)"},
    {"jwt-public-key", OPT_STR, OFF(jwt_public_key), 0, SZ(jwt_public_key), "FILE",
     "PEM public key: verify RS256 or ES256 JWTs"},
    {"jwt-issuer", OPT_STR, OFF(jwt_issuer), 0, SZ(jwt_issuer), "ISS", "required iss claim"},
    {"jwt-audience", OPT_STR, OFF(jwt_audience), 0, SZ(jwt_audience), "AUD", "required aud claim"},
    {"jwt-leeway-s", OPT_INT, OFF(jwt_leeway_s), 0, 3600, "S", "clock skew allowed on exp/nbf (default 0)"},
    {"authz-policy", OPT_STR, OFF(authz_policy), 0, SZ(authz_policy), "FILE",
     "channel policy (JSON); deny by default"},
    {"jwt-revoked", OPT_STR, OFF(jwt_revoked), 0, SZ(jwt_revoked), "FILE",
     "revoked tokens: lines \"jti ID\" / \"sub SUBJECT\" (reloaded with SIGHUP)"},
    {"audit-log", OPT_STR, OFF(audit_log), 0, SZ(audit_log), "FILE", "security audit log (JSON lines; - = stderr)"},
    {"audit-max-per-s", OPT_INT, OFF(audit_max_per_s), 0, 1000000, "N",
     "audit lines per second before suppression (default 1000; 0 = no limit)"},
    {"rate-conn-per-addr", OPT_STR, OFF(rate_conn_per_addr), 0, SZ(rate_conn_per_addr), "N/s[:B]",
     "connection attempts per source address (default off)"},
    {"rate-msg-per-conn", OPT_STR, OFF(rate_msg_per_conn), 0, SZ(rate_msg_per_conn), "N/s[:B]",
     "inbound WebSocket messages per connection (default off)"},
    {"rate-pub-per-account", OPT_STR, OFF(rate_pub_per_account), 0, SZ(rate_pub_per_account), "N/s[:B]",
     "publishes per token subject (default off)"},
    {"storm-new-conns", OPT_STR, OFF(storm_new_conns), 0, SZ(storm_new_conns), "N/s[:B]",
     "new connections per second before 503 (default off)"},
#undef SZ
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void config_defaults(server_cfg *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->host, sizeof(c->host), "127.0.0.1");
    c->port = 8080;
    c->history_max = 1000;
    c->history_max_age_ms = 300000;
    c->max_payload_bytes = 65536;
    c->max_batch = 1000;
    c->sendq_max_msgs = 1024;
    c->sendq_max_bytes = 1 << 20;
    c->default_policy = SENDQ_DROP;
    c->heartbeat_ms = 15000;
    c->ws_ping_s = 20;
    c->ws_write_direct = 1;
    snprintf(c->batch_channels, sizeof(c->batch_channels), "*");
    c->idle_timeout_s = 60;
    c->poll_max_ms = 30000;
    c->sse_retry_ms = 1000;
    c->drain_ms = 5000;
    c->handshake_timeout_ms = 10000;
    c->max_channels = 100000;
    c->max_subs = 64;
    snprintf(c->cors_origin, sizeof(c->cors_origin), "*");
    c->admin = 1;
    c->log_level = LOG_INFO;
    c->audit_max_per_s = 1000;
}

void config_free(server_cfg *c)
{
    json_decref(c->channels);
    c->channels = NULL;
}

/* Sets option o from text s. */
static int set_text(server_cfg *c, const opt *o, const char *s, char *err, size_t errlen)
{
    char *base = (char *)c + o->off;
    switch (o->type) {
    case OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (!*s || *end || errno || v < o->min || v > o->max) {
            snprintf(err, errlen, "--%s: expected an integer in %lld..%lld, got \"%s\"", o->name,
                     (long long)o->min, (long long)o->max, s);
            return -1;
        }
        *(int64_t *)base = v;
        return 0;
    }
    case OPT_STR:
        if (strlen(s) >= (size_t)o->max) {
            snprintf(err, errlen, "--%s: longer than %lld bytes", o->name, (long long)o->max - 1);
            return -1;
        }
        snprintf(base, (size_t)o->max, "%s", s);
        return 0;
    case OPT_POLICY:
        if (sendq_policy_parse(s, (sendq_policy *)base)) {
            snprintf(err, errlen, "--%s: expected drop|coalesce|snapshot|disconnect, got \"%s\"",
                     o->name, s);
            return -1;
        }
        return 0;
    case OPT_LOGLEVEL:
        if (log_level_parse(s, (log_level *)base)) {
            snprintf(err, errlen, "--%s: expected debug|info|warn|error, got \"%s\"", o->name, s);
            return -1;
        }
        return 0;
    }
    return -1;
}

int config_load_file(server_cfg *c, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: the config must be a JSON object", path);
        json_decref(root);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "channels") == 0) {
            if (!json_is_array(v)) {
                snprintf(err, errlen, "%s: \"channels\" must be an array of flag rules", path);
                json_decref(root);
                return -1;
            }
            /* Validate the rules now, so a bad file stops the start (exit 2). */
            flags *scratch = malloc(sizeof(*scratch));
            char e2[256];
            int oom = !scratch, bad = oom;
            if (scratch) {
                flags_init(scratch, SENDQ_DROP);
                bad = flags_apply_json(scratch, v, e2, sizeof(e2));
                free(scratch);
            }
            if (bad) {
                snprintf(err, errlen, "%s: \"channels\": %s", path, oom ? "out of memory" : e2);
                json_decref(root);
                return -1;
            }
            json_decref(c->channels);
            c->channels = json_incref(v);
            continue;
        }
        const opt *o = NULL;
        for (size_t i = 0; i < NOPTS && !o; i++) {
            char k[64];
            snprintf(k, sizeof(k), "%s", opts[i].name);
            for (char *p = k; *p; p++)
                if (*p == '-')
                    *p = '_';
            if (strcmp(k, key) == 0)
                o = &opts[i];
        }
        char text[600], e2[256];
        if (!o) {
            snprintf(err, errlen, "%s: unknown key \"%s\"", path, key);
            json_decref(root);
            return -1;
        }
        if (json_is_integer(v))
            snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
        else if (json_is_string(v))
            snprintf(text, sizeof(text), "%s", json_string_value(v));
        else if (json_is_boolean(v))
            snprintf(text, sizeof(text), "%d", json_is_true(v));
        else {
            snprintf(err, errlen, "%s: \"%s\" must be a number or a string", path, key);
            json_decref(root);
            return -1;
        }
        if (o->type == OPT_INT && json_is_string(v)) {
            snprintf(err, errlen, "%s: \"%s\" must be a number", path, key);
            json_decref(root);
            return -1;
        }
        if (set_text(c, o, text, e2, sizeof(e2))) {
            snprintf(err, errlen, "%s: %s", path, e2);
            json_decref(root);
            return -1;
        }
    }
    json_decref(root);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rtchaos-server [--config FILE] [flags]\n"
            "Reference SSE + WebSocket server of rtchaos (wire contract v1 with stream epochs).\n\n"
            "  --config FILE              JSON object of the settings below (keys with '_'),\n"
            "                             plus \"channels\": [flag rules]; flags override it\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s %s", opts[i].name, opts[i].arg);
        fprintf(out, "  %-26s %s\n", left, opts[i].help);
    }
    fprintf(out, "  %-26s %s\n", "--help", "print this and exit");
    fprintf(out, "  %-26s %s\n", "--version", "print the version and exit");
    fprintf(out, "\nEndpoints: /ws /sse /poll /publish/<ch> /metrics /healthz /admin/flags "
                 "/admin/kick /admin/reset. See docs/server.md and docs/wire-contract.md.\n");
}

int config_parse_args(server_cfg *c, int argc, char **argv, FILE *out, char *err, size_t errlen)
{
    struct option lo[NOPTS + 4];
    for (size_t i = 0; i < NOPTS; i++)
        lo[i] = (struct option){opts[i].name, required_argument, NULL, (int)(i + 1000)};
    lo[NOPTS] = (struct option){"config", required_argument, NULL, 'c'};
    lo[NOPTS + 1] = (struct option){"help", no_argument, NULL, 'h'};
    lo[NOPTS + 2] = (struct option){"version", no_argument, NULL, 'V'};
    lo[NOPTS + 3] = (struct option){NULL, 0, NULL, 0};

    /* Pass 1: --help and --config. */
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (ch == 'h') {
            usage(out);
            return 1;
        }
        if (ch == 'V') {
            version_print(out, "rtchaos-server");
            return 1;
        }
        if (ch == 'c' && config_load_file(c, optarg, err, errlen))
            return -1;
        if (ch == '?') {
            snprintf(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
            return -1;
        }
        if (ch == ':') {
            snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", argv[optind]);
        return -1;
    }
    /* Pass 2: every other flag, overriding the file. */
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (ch >= 1000 && set_text(c, &opts[ch - 1000], optarg, err, errlen))
            return -1;
    }
    if (c->delta_channels[0] && c->redis_url[0]) {
        /* with Redis another node may publish the previous event: the delta
         * would be made against a value this node never saw */
        snprintf(err, errlen, "--delta-channels cannot be used with --redis");
        return -1;
    }
    return 0;
}

int config_channel_listed(const char *list, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        while (k && *p == ' ')
            p++, k--;
        if (k == 1 && *p == '*')
            return 1;
        if (k && k <= nl && strncmp(p, name, k) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}
