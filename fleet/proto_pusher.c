/* proto_pusher.c — Pusher Channels protocol 7 (pusher.com, soketi): one WebSocket at /app/KEY?protocol=7, pusher:connection_established, pusher:subscribe per channel, events whose data is a JSON-encoded string, pusher:ping answered with pusher:pong, close codes 4000-4299; publishing through the signed HTTP events API. No resume: what was published while a client was away is missed by design. */
#include "proto.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int pu_sub_target(const proto_opts *o, int tr, const char *const *chs, size_t n, const char *resume_id,
                         char *buf, size_t cap)
{
    (void)chs, (void)n, (void)resume_id;
    if (tr != 0 || !o->key[0])
        return -1;
    char key[3 * sizeof o->key];
    if (proto_pct_encode(o->key, key, sizeof key) < 0)
        return -1;
    /* client/version identify the library to the server, as every Pusher client does */
    int w = snprintf(buf, cap, "/app/%s?protocol=7&client=rtchaos&version=1.0", key);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static int pu_sub_headers(const proto_opts *o, int tr, const char *resume_id, char *buf, size_t cap)
{
    (void)o, (void)tr, (void)resume_id;
    if (cap)
        buf[0] = '\0';
    return 0;
}

/* Printable ASCII of s (at most n bytes) into out, for error reasons:
 * a server's message must not put control bytes into a report. */
static void printable(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && s[i] && k + 1 < cap; i++)
        out[k++] = (unsigned char)s[i] >= ' ' && (unsigned char)s[i] < 127 ? s[i] : '?';
    if (cap)
        out[k] = '\0';
}

/* pusher:error's data: {"message": …, "code": …} (an object in protocol 7;
 * some servers send it JSON-encoded as a string, like every other data). */
static void error_reason(json_t *data, char *out, size_t cap)
{
    json_t *d = data, *parsed = NULL;
    if (json_is_string(data)) {
        json_error_t je;
        parsed = json_loads(json_string_value(data), 0, &je);
        d = parsed;
    }
    json_t *code = json_is_object(d) ? json_object_get(d, "code") : NULL;
    json_t *msg = json_is_object(d) ? json_object_get(d, "message") : NULL;
    char m[120] = "";
    if (json_is_string(msg))
        printable(json_string_value(msg), json_string_length(msg), m, sizeof m);
    /* %.80s: the message is cut to what the error text holds (gcc -O1's
     * -Wformat-truncation failed the ASan build on the full 119 bytes) */
    if (json_is_integer(code))
        snprintf(out, cap, "pusher:error %lld: %.80s", (long long)json_integer_value(code), m[0] ? m : "(no message)");
    else
        snprintf(out, cap, "pusher:error: %.80s", m[0] ? m : "(no message)");
    json_decref(parsed);
}

static int pu_ws_message(const char *data, size_t len, proto_frame *out)
{
    out->payload = NULL;
    out->payload_len = 0;
    out->id = NULL;
    out->id_len = 0;
    json_error_t je;
    json_t *m = json_loadb(data, len, 0, &je);
    json_t *ev = json_is_object(m) ? json_object_get(m, "event") : NULL;
    if (!json_is_string(ev)) {
        json_decref(m);
        return -1;
    }
    const char *name = json_string_value(ev);
    json_t *d = json_object_get(m, "data");
    int rc = 0;
    if (strcmp(name, "pusher:connection_established") == 0) {
        /* data is a JSON string holding {"socket_id", "activity_timeout"} */
        json_t *in = json_is_string(d) ? json_loads(json_string_value(d), 0, &je) : NULL;
        json_t *sid = json_is_object(in) ? json_object_get(in, "socket_id") : NULL;
        /* the session id points into the caller's text: socket ids are
         * digits and a dot, written there as they are */
        const char *sv = json_is_string(sid) ? json_string_value(sid) : NULL;
        size_t sl = sv ? strlen(sv) : 0;
        const char *at = sl && sl < PROTO_ID_MAX ? memmem(data, len, sv, sl) : NULL;
        if (at) {
            out->ready = 1;
            out->session = at;
            out->session_len = sl;
        } else {
            rc = -1;
        }
        json_decref(in);
    } else if (strcmp(name, "pusher:ping") == 0) {
        /* the server checks the connection: answer, or it closes with 4201 */
        snprintf(out->reply, sizeof out->reply, "{\"event\":\"pusher:pong\",\"data\":{}}");
    } else if (strcmp(name, "pusher:error") == 0 || strcmp(name, "pusher:subscription_error") == 0 ||
               strcmp(name, "pusher_internal:subscription_error") == 0) {
        char r[sizeof out->error - 32];
        error_reason(d, r, sizeof r);
        if (strcmp(name, "pusher:error") == 0)
            snprintf(out->error, sizeof out->error, "%s", r);
        else
            snprintf(out->error, sizeof out->error, "pusher: subscription refused (%.100s)", r);
    } else if (strncmp(name, "pusher:", 7) == 0 || strncmp(name, "pusher_internal:", 16) == 0) {
        /* pong, subscription_succeeded, member events: nothing to judge */
    } else if (json_is_string(d) && json_is_string(json_object_get(m, "channel"))) {
        /* an event: the record is the JSON string at "data" (def_payload_path) */
        out->payload = data;
        out->payload_len = len;
    } else {
        rc = -1; /* an event without a channel or with data that is not a string */
    }
    json_decref(m);
    return rc;
}

/* Close codes of protocol 7: 4000-4099 the server refuses the client (do
 * not reconnect), 4100-4199 reconnect after a while, 4200-4299 reconnect
 * at once; anything else (1000, 1001, 1006, …) is an ordinary disconnect. */
static int pu_ws_close(unsigned code, char *why, size_t whycap)
{
    static const struct {
        unsigned code;
        const char *what;
    } known[] = {
        {4000, "the app only accepts TLS"},
        {4001, "unknown app key"},
        {4003, "the app is disabled"},
        {4004, "the app is over its connection quota"},
        {4005, "path not found"},
        {4006, "invalid version string"},
        {4007, "unsupported protocol version"},
        {4008, "no protocol version given"},
        {4009, "the connection is unauthorized"},
        {4100, "over capacity"},
        {4200, "generic reconnect"},
        {4201, "pong not received"},
        {4202, "closed after inactivity"},
    };
    const char *what = NULL;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (known[i].code == code)
            what = known[i].what;
    if (whycap)
        why[0] = '\0';
    if (code >= 4000 && code <= 4099) {
        snprintf(why, whycap, "pusher close %u (%s): not reconnecting", code, what ? what : "do not reconnect");
        return PROTO_CLOSE_FAIL;
    }
    if (code >= 4100 && code <= 4199) {
        snprintf(why, whycap, "pusher close %u (%s): reconnecting after backoff", code,
                 what ? what : "reconnect later");
        return PROTO_CLOSE_BACKOFF;
    }
    if (code >= 4200 && code <= 4299)
        return PROTO_CLOSE_NOW;
    return PROTO_CLOSE_BACKOFF;
}

static int pu_pub_target(const proto_opts *o, const char *ch, char *buf, size_t cap)
{
    (void)ch;
    char id[3 * sizeof o->app_id];
    if (!o->app_id[0] || proto_pct_encode(o->app_id, id, sizeof id) < 0)
        return -1;
    int w = snprintf(buf, cap, "/apps/%s/events", id);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

/* {"name":"rtchaos","channels":[ch],"data":"<the record, JSON-encoded>"}:
 * Pusher's data is a string that clients receive as it is. */
static int pu_pub_render(const proto_opts *o, const char *ch, const char *rec, size_t rl, char *buf, size_t cap)
{
    (void)o;
    json_t *b = json_pack("{s:s, s:[s], s:s%}", "name", "rtchaos", "channels", ch, "data", rec, rl);
    if (!b)
        return -1;
    size_t n = json_dumpb(b, buf, cap, JSON_COMPACT);
    json_decref(b);
    return n == 0 || n >= cap ? -1 : (int)n;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[b[i] >> 4];
        out[2 * i + 1] = h[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The events API's signature (Pusher's HTTP API reference, "Authentication"):
 * the query sorted by key — auth_key, auth_timestamp, auth_version,
 * body_md5 — and auth_signature = hex HMAC-SHA256(secret,
 * "POST\n" path "\n" query). Hand-written because no Debian C library
 * speaks it; the hashes are OpenSSL's. */
int proto_pusher_signed_target_at(const proto_opts *o, const char *body, size_t bl, long long ts, char *buf,
                                  size_t cap)
{
    char path[3 * sizeof o->app_id + 16], key[3 * sizeof o->key], query[sizeof key + 160];
    if (!o->key[0] || !o->secret[0] || pu_pub_target(o, "", path, sizeof path) < 0 ||
        proto_pct_encode(o->key, key, sizeof key) < 0)
        return -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    char md5[2 * 16 + 1], sig[2 * EVP_MAX_MD_SIZE + 1];
    if (!EVP_Digest(body, bl, md, &ml, EVP_md5(), NULL) || ml != 16)
        return -1;
    hex(md, ml, md5);
    int q = snprintf(query, sizeof query, "auth_key=%s&auth_timestamp=%lld&auth_version=1.0&body_md5=%s", key,
                     ts, md5);
    if (q < 0 || (size_t)q >= sizeof query)
        return -1;
    char tosign[sizeof path + sizeof query + 8];
    int t = snprintf(tosign, sizeof tosign, "POST\n%s\n%s", path, query);
    if (t < 0 || (size_t)t >= sizeof tosign)
        return -1;
    if (!HMAC(EVP_sha256(), o->secret, (int)strlen(o->secret), (const unsigned char *)tosign, (size_t)t, md, &ml))
        return -1;
    hex(md, ml, sig);
    int w = snprintf(buf, cap, "%s?%s&auth_signature=%s", path, query, sig);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static int pu_pub_signed_target(const proto_opts *o, const char *body, size_t bl, char *buf, size_t cap)
{
    return proto_pusher_signed_target_at(o, body, bl, (long long)time(NULL), buf, cap);
}

/* 2xx with a JSON object that has no "error": soketi answers a wrong
 * signature with 200 {"error":"…","code":401}, so the status alone says
 * nothing. */
static int pu_pub_ack(int status, const char *body, size_t len, char *why, size_t whycap)
{
    json_error_t je;
    json_t *b = len ? json_loadb(body, len, 0, &je) : NULL;
    json_t *err = json_is_object(b) ? json_object_get(b, "error") : NULL;
    char m[120] = "";
    int ok = 0;
    if (err) {
        json_t *code = json_object_get(b, "code");
        if (json_is_string(err))
            printable(json_string_value(err), json_string_length(err), m, sizeof m);
        if (json_is_integer(code))
            snprintf(why, whycap, "publish refused: %s (code %lld)", m[0] ? m : "error",
                     (long long)json_integer_value(code));
        else
            snprintf(why, whycap, "publish refused: %s", m[0] ? m : "error");
    } else if (status < 200 || status > 299) {
        printable(body, len < 80 ? len : 80, m, sizeof m);
        snprintf(why, whycap, "publish answered %d: %s", status, m[0] ? m : "(no body)");
    } else if (!json_is_object(b)) {
        snprintf(why, whycap, "publish answered %d without a JSON object", status);
    } else {
        ok = 1;
    }
    json_decref(b);
    return ok;
}

const proto proto_pusher = {
    .name = "pusher",
    .resume = PROTO_RESUME_NONE,
    .promise = "none: Pusher Channels keeps no history, so a reconnecting client subscribes afresh; what was "
               "published while it was away is missed_by_design, not lost",
    .transports = PROTO_TR_WS,
    .max_channels_per_conn = 0,
    .server_seq = 0,
    .pub_ws = 0,
    .pub_batch = 0,
    .def_sub_path = "/app/{key}?protocol=7",
    .def_pub_path = "/apps/{app_id}/events",
    .sub_path_ch = 0,
    .def_payload_path = "data",
    .def_sub_message = "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"{ch}\"}}",
    .ws_hello = NULL,
    .ws_subprotocol = NULL,
    .sub_target = pu_sub_target,
    .sub_headers = pu_sub_headers,
    .ws_message = pu_ws_message,
    .poll_response = NULL,
    .pub_target = pu_pub_target,
    .pub_ack = pu_pub_ack,
    .fixed_paths = 1,
    .ws_close = pu_ws_close,
    .pub_render = pu_pub_render,
    .pub_signed_target = pu_pub_signed_target,
    .ws_keepalive = "{\"event\":\"pusher:ping\",\"data\":{}}",
};
