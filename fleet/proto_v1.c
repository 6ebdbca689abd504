/* proto_v1.c — wire contract v1 (docs/wire-contract.md) as a protocol adapter: /ws with sub ops, /sse?ch=…, /poll, POST /publish/<ch>; frames are envelopes with the server's seq, so the fleet's v1 resync logic judges them. */
#include "proto.h"

#include <stdio.h>
#include <string.h>

static int v1_sub_target(const proto_opts *o, int tr, const char *const *chs, size_t n, const char *resume_id,
                         char *buf, size_t cap)
{
    (void)o, (void)resume_id;
    size_t k = 0;
    int w;
    switch (tr) {
    case 0: /* ws: one connection, channels subscribed by {"op":"sub"} messages */
        w = snprintf(buf, cap, "/ws");
        return w < 0 || (size_t)w >= cap ? -1 : w;
    case 1: /* sse: every channel in the query */
        w = snprintf(buf, cap, "/sse?");
        if (w < 0 || (size_t)w >= cap)
            return -1;
        k = (size_t)w;
        for (size_t i = 0; i < n; i++) {
            w = snprintf(buf + k, cap - k, "%sch=%s", i ? "&" : "", chs[i]);
            if (w < 0 || (size_t)w >= cap - k)
                return -1;
            k += (size_t)w;
        }
        return (int)k;
    default: /* poll: since/epoch come from the checker's state (fleet_client.c) */
        w = snprintf(buf, cap, "/poll?ch=%s", n ? chs[0] : "");
        return w < 0 || (size_t)w >= cap ? -1 : w;
    }
}

static int v1_sub_headers(const proto_opts *o, int tr, const char *resume_id, char *buf, size_t cap)
{
    (void)o;
    if (tr != 1 || !resume_id) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    int w = snprintf(buf, cap, "Last-Event-ID: %s\r\n", resume_id);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static int v1_ws_message(const char *data, size_t len, proto_frame *out)
{
    out->payload = data;
    out->payload_len = len;
    out->id = NULL;
    out->id_len = 0;
    return 0;
}

static int v1_pub_target(const proto_opts *o, const char *ch, char *buf, size_t cap)
{
    (void)o;
    int w = snprintf(buf, cap, "/publish/%s", ch);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static size_t skip_blank(const char *d, size_t len, size_t i)
{
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
        i++;
    return i;
}

int v1_is_batch(const char *data, size_t len)
{
    size_t i = skip_blank(data, len, 0);
    return i < len && data[i] == '[';
}

int v1_batch_next(const char *data, size_t len, size_t *off, const char **el, size_t *el_len)
{
    size_t i = skip_blank(data, len, *off);
    if (*off == 0) { /* the opening bracket */
        if (i >= len || data[i] != '[')
            return -1;
        i = skip_blank(data, len, i + 1);
        if (i < len && data[i] == ']') {
            *off = len;
            return 0;
        }
    } else if (i < len && data[i] == ']') {
        *off = len;
        return 0;
    } else if (i < len && data[i] == ',') {
        i = skip_blank(data, len, i + 1);
    } else {
        return -1;
    }
    if (i >= len || data[i] != '{')
        return -1;
    size_t start = i;
    unsigned depth = 0;
    int in_str = 0;
    for (; i < len; i++) {
        char ch = data[i];
        if (in_str) {
            if (ch == '\\')
                i++; /* the escaped byte, whatever it is */
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if (ch == '"')
            in_str = 1;
        else if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth == 0) {
            if (ch != '}')
                return -1; /* brackets that do not pair: not an object */
            break;
        }
    }
    if (i >= len)
        return -1; /* unterminated */
    *el = data + start;
    *el_len = i + 1 - start;
    *off = i + 1;
    return 1;
}

const proto proto_v1 = {
    .name = "v1",
    .resume = PROTO_RESUME_SEQ_EPOCH,
    .promise = "resume by seq and epoch: missed events are replayed from history, or a snapshot or gap says what was skipped",
    .transports = PROTO_TR_WS | PROTO_TR_SSE | PROTO_TR_POLL,
    .max_channels_per_conn = 0,
    .server_seq = 1,
    .pub_ws = 1,
    .pub_batch = 1,
    .def_sub_path = "",
    .def_pub_path = "",
    .sub_path_ch = 0,
    .def_payload_path = "",
    .ws_subprotocol = NULL,
    .sub_target = v1_sub_target,
    .sub_headers = v1_sub_headers,
    .ws_message = v1_ws_message,
    .poll_response = NULL,
    .pub_target = v1_pub_target,
    .pub_ack = NULL,
};
