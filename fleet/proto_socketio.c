/* proto_socketio.c — Socket.IO 5 over Engine.IO 4 on a WebSocket: open packet, namespace connect ("40", or "40{pid,offset}" to recover the session), heartbeat ("2" → "3"), events ("42[name, payload, offset]"); subscribing and publishing are the application's, so they are templates (sub_message, pub_path/pub_body). */
#include "proto.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int sio_sub_target(const proto_opts *o, int tr, const char *const *chs, size_t n, const char *resume_id,
                          char *buf, size_t cap)
{
    (void)chs, (void)n, (void)resume_id;
    if (tr != 0)
        return -1;
    int w = snprintf(buf, cap, "%s", o->sub_path[0] ? o->sub_path : proto_socketio.def_sub_path);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static int sio_sub_headers(const proto_opts *o, int tr, const char *resume_id, char *buf, size_t cap)
{
    (void)o, (void)tr, (void)resume_id;
    if (cap)
        buf[0] = '\0';
    return 0;
}

/* The string value of key in a JSON object text, as a span of the text
 * (Socket.IO ids are plain base64url: a value with an escape is refused). */
static int str_field(const char *obj, size_t len, const char *key, const char **v, size_t *vl)
{
    char pat[32];
    int k = snprintf(pat, sizeof pat, "\"%s\":\"", key);
    if (k < 0 || (size_t)k >= sizeof pat)
        return -1;
    for (size_t i = 0; i + (size_t)k <= len; i++) {
        if (memcmp(obj + i, pat, (size_t)k) != 0)
            continue;
        size_t s = i + (size_t)k, e = s;
        while (e < len && obj[e] != '"' && obj[e] != '\\')
            e++;
        if (e >= len || obj[e] != '"' || e == s || e - s >= PROTO_ID_MAX)
            return -1;
        *v = obj + s;
        *vl = e - s;
        return 0;
    }
    return -1;
}

static int sio_ws_message(const char *data, size_t len, proto_frame *out)
{
    out->payload = NULL;
    out->payload_len = 0;
    out->id = NULL;
    out->id_len = 0;
    if (len == 0)
        return -1;
    switch (data[0]) {
    case '0': /* Engine.IO open: the namespace connect was sent with the hello */
    case '3': /* pong */
    case '6': /* noop */
        return 0;
    case '2': /* ping: answer at once, or the server closes after pingTimeout */
        memcpy(out->reply, "3", 2);
        return 0;
    case '1': /* close */
        out->refused = 1;
        return 0;
    case '4':
        break;
    default:
        return -1;
    }
    if (len < 2)
        return -1;
    switch (data[1]) {
    case '0': /* CONNECT reply: {"sid","pid"} */
        out->ready = 1;
        if (str_field(data + 2, len - 2, "sid", &out->session, &out->session_len) < 0)
            return -1;
        (void)str_field(data + 2, len - 2, "pid", &out->token, &out->token_len); /* without recovery: none */
        return 0;
    case '1': /* DISCONNECT */
    case '4': /* CONNECT_ERROR */
        out->refused = 1;
        return 0;
    case '2':
        break;
    default:
        return 0; /* acks and binary events carry nothing for us */
    }
    /* EVENT: 42["name", payload, …, offset]; the record is found at the
     * payload path ("1" by default) in the whole array */
    json_error_t je;
    json_t *a = json_loadb(data + 2, len - 2, 0, &je);
    if (!json_is_array(a) || json_array_size(a) < 2) {
        json_decref(a);
        return -1;
    }
    size_t n = json_array_size(a);
    int has_offset = n >= 3 && json_is_string(json_array_get(a, n - 1));
    json_decref(a);
    out->payload = data + 2;
    out->payload_len = len - 2;
    if (has_offset && len >= 6 && data[len - 1] == ']' && data[len - 2] == '"') {
        /* the offset is the last string: its span in the text */
        size_t e = len - 2, s = e;
        while (s > 2 && data[s - 1] != '"' && data[s - 1] != '\\')
            s--;
        if (s > 3 && data[s - 1] == '"' && data[s - 2] == ',' && e > s && e - s < PROTO_ID_MAX) {
            out->id = data + s;
            out->id_len = e - s;
        }
    }
    return 0;
}

static int sio_ws_hello(const char *token, const char *offset, char *buf, size_t cap)
{
    int w = token && offset ? snprintf(buf, cap, "40{\"pid\":\"%s\",\"offset\":\"%s\"}", token, offset)
                            : snprintf(buf, cap, "40");
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static int sio_pub_target(const proto_opts *o, const char *ch, char *buf, size_t cap)
{
    return proto_expand_path(o->pub_path, ch, buf, cap);
}

static int sio_pub_ack(int status, const char *body, size_t len, char *why, size_t whycap)
{
    (void)body, (void)len;
    if (status >= 200 && status < 300)
        return 1;
    snprintf(why, whycap, "publish answered %d (expected 2xx)", status);
    return 0;
}

const proto proto_socketio = {
    .name = "socketio",
    .resume = PROTO_RESUME_OFFSET,
    .promise = "connection state recovery: resume by session and offset within the server's recovery window; a refused recovery (a new sid) is signalled, not lost; an unsignalled hole is lost",
    .transports = PROTO_TR_WS,
    .max_channels_per_conn = 0,
    .server_seq = 0,
    .pub_ws = 0,
    .pub_batch = 0,
    .def_sub_path = "/socket.io/?EIO=4&transport=websocket",
    .def_pub_path = "",
    .sub_path_ch = 0,
    .def_payload_path = "1",
    .def_sub_message = "42[\"sub\",\"{ch}\"]",
    .ws_hello = sio_ws_hello,
    .ws_subprotocol = NULL,
    .sub_target = sio_sub_target,
    .sub_headers = sio_sub_headers,
    .ws_message = sio_ws_message,
    .poll_response = NULL,
    .pub_target = sio_pub_target,
    .pub_ack = sio_pub_ack,
};
