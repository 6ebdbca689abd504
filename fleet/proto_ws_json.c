/* proto_ws_json.c — any JSON-over-WebSocket service, from templates: one connection (sub_path), a subscribe message per channel (sub_message with {ch}), optionally a resume message with the server's {offset} read from inbound messages (offset_path), the record's place in each message (payload), publishing by an HTTP template or a WebSocket message (pub_message), server pings answered and client pings sent by template (proto_ping.c; the fleet does the sending); covers Centrifugo-style protocols. */
#include "proto.h"

#include <stdio.h>
#include <string.h>

static int wj_sub_target(const proto_opts *o, int tr, const char *const *chs, size_t n, const char *resume_id,
                         char *buf, size_t cap)
{
    (void)chs, (void)n, (void)resume_id;
    if (tr != 0)
        return -1;
    /* the connection's location; channels are subscribed by messages */
    int w = snprintf(buf, cap, "%s", o->sub_path);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static int wj_sub_headers(const proto_opts *o, int tr, const char *resume_id, char *buf, size_t cap)
{
    (void)o, (void)tr, (void)resume_id;
    if (cap)
        buf[0] = '\0';
    return 0;
}

/* The whole text message is the payload (payload_path finds the record). */
static int wj_ws_message(const char *data, size_t len, proto_frame *out)
{
    out->payload = data;
    out->payload_len = len;
    out->id = NULL;
    out->id_len = 0;
    return 0;
}

static int wj_pub_target(const proto_opts *o, const char *ch, char *buf, size_t cap)
{
    return proto_expand_path(o->pub_path, ch, buf, cap);
}

static int wj_pub_ack(int status, const char *body, size_t len, char *why, size_t whycap)
{
    (void)body, (void)len;
    if (status >= 200 && status < 300)
        return 1;
    snprintf(why, whycap, "publish answered %d (expected 2xx)", status);
    return 0;
}

const proto proto_ws_json = {
    .name = "ws-json",
    .resume = PROTO_RESUME_OFFSET,
    .promise = "resume from the server's offset (resume_message with {offset}) as far as the service keeps history; without a resume message a reconnect subscribes afresh; a hole is lost",
    .transports = PROTO_TR_WS,
    .max_channels_per_conn = 0,
    .server_seq = 0,
    .pub_ws = 1, /* with pub_message (the scenario and fleet_create check it) */
    .pub_batch = 0,
    .def_sub_path = "",
    .def_pub_path = "",
    .sub_path_ch = 0,
    .def_payload_path = "",
    .ws_subprotocol = NULL,
    .sub_target = wj_sub_target,
    .sub_headers = wj_sub_headers,
    .ws_message = wj_ws_message,
    .poll_response = NULL,
    .pub_target = wj_pub_target,
    .pub_ack = wj_pub_ack,
};
