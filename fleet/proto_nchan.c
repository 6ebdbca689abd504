/* proto_nchan.c — nchan (nginx pub/sub module) as a protocol adapter: one channel per subscriber location (sub_path), SSE with Last-Event-ID, WebSocket with the ws+meta.nchan subprotocol and ?last_event_id=, long-poll with If-Modified-Since / If-None-Match, publish by POST to pub_path. */
#include "proto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int nc_sub_target(const proto_opts *o, int tr, const char *const *chs, size_t n, const char *resume_id,
                         char *buf, size_t cap)
{
    if (n != 1)
        return -1; /* a location names one channel (fleet_create refuses more) */
    const char *path = o->sub_path[0] ? o->sub_path : proto_nchan.def_sub_path;
    int k = proto_expand_path(path, chs[0], buf, cap);
    if (k < 0)
        return -1;
    if (tr == 0 && resume_id) {
        /* a browser's WebSocket cannot set headers: nchan reads the resume
         * position from the query */
        char enc[PROTO_ID_MAX * 3 + 1];
        if (proto_pct_encode(resume_id, enc, sizeof enc) < 0)
            return -1;
        int w = snprintf(buf + k, cap - (size_t)k, "%slast_event_id=%s", strchr(buf, '?') ? "&" : "?", enc);
        if (w < 0 || (size_t)w >= cap - (size_t)k)
            return -1;
        k += w;
    }
    return k;
}

static int nc_sub_headers(const proto_opts *o, int tr, const char *resume_id, char *buf, size_t cap)
{
    (void)o;
    int w = 0;
    if (cap)
        buf[0] = '\0';
    if (!resume_id)
        return 0;
    if (tr == 1) {
        w = snprintf(buf, cap, "Last-Event-ID: %s\r\n", resume_id);
    } else if (tr == 2) {
        /* the poll resume id is "<Last-Modified>\n<Etag>" (nc_poll_response) */
        const char *nl = strchr(resume_id, '\n');
        if (!nl)
            return 0;
        w = snprintf(buf, cap, "If-Modified-Since: %.*s\r\nIf-None-Match: %s\r\n", (int)(nl - resume_id),
                     resume_id, nl + 1);
    }
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

/* ws+meta.nchan frames: header lines ("id: …", "content-type: …"), an
 * empty line, then the message as published. */
static int nc_ws_message(const char *data, size_t len, proto_frame *out)
{
    out->payload = NULL;
    out->payload_len = 0;
    out->id = NULL;
    out->id_len = 0;
    size_t i = 0;
    int lines = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && data[e] != '\n')
            e++;
        if (e == len)
            return -1; /* the head never ended */
        size_t le = e > i && data[e - 1] == '\r' ? e - 1 : e;
        if (le == i) { /* the empty line: the payload follows */
            if (lines == 0)
                return -1;
            out->payload = data + e + 1;
            out->payload_len = len - (e + 1);
            return out->id ? 0 : -1;
        }
        const char *colon = memchr(data + i, ':', le - i);
        if (!colon)
            return -1;
        size_t nl = (size_t)(colon - (data + i));
        const char *v = colon + 1;
        while (v < data + le && *v == ' ')
            v++;
        if (nl == 2 && strncasecmp(data + i, "id", 2) == 0) {
            out->id = v;
            out->id_len = (size_t)(data + le - v);
            if (out->id_len == 0 || out->id_len >= PROTO_ID_MAX)
                return -1;
        }
        lines++;
        i = e + 1;
    }
    return -1;
}

static int nc_poll_response(const proto_poll_head *h, char *id_out, size_t id_cap)
{
    if (h->status == 304 || h->status == 408)
        return PROTO_POLL_EMPTY; /* the subscriber timeout passed with nothing new */
    if (h->status != 200)
        return PROTO_POLL_REFUSED;
    if (!h->last_modified[0] || !h->etag[0])
        return PROTO_POLL_REFUSED; /* not nchan: without validators the next poll cannot resume */
    int w = snprintf(id_out, id_cap, "%s\n%s", h->last_modified, h->etag);
    if (w < 0 || (size_t)w >= id_cap)
        return PROTO_POLL_REFUSED;
    return PROTO_POLL_MESSAGE;
}

static int nc_pub_target(const proto_opts *o, const char *ch, char *buf, size_t cap)
{
    return proto_expand_path(o->pub_path[0] ? o->pub_path : proto_nchan.def_pub_path, ch, buf, cap);
}

/* nchan answers 202 Accepted (no subscriber yet) or 201 Created (some got
 * it), with the channel's info in the body. Anything else (a 200 from a
 * page that is not a publisher location, a 404, a 403) is not an ack. */
static int nc_pub_ack(int status, const char *body, size_t len, char *why, size_t whycap)
{
    (void)body, (void)len;
    if (status == 201 || status == 202)
        return 1;
    snprintf(why, whycap, "nchan publish answered %d (expected 201 or 202: is pub_path a nchan_publisher location?)",
             status);
    return 0;
}

const proto proto_nchan = {
    .name = "nchan",
    .resume = PROTO_RESUME_BUFFER,
    .promise = "resume by message id within the channel's message buffer; evictions and restarts are silent, so a hole is lost",
    .transports = PROTO_TR_WS | PROTO_TR_SSE | PROTO_TR_POLL,
    .max_channels_per_conn = 1,
    .server_seq = 0,
    .pub_ws = 0,
    .pub_batch = 0,
    .def_sub_path = "/sub/{ch}",
    .def_pub_path = "/pub/{ch}",
    .sub_path_ch = 1,
    .def_payload_path = "",
    .ws_subprotocol = "ws+meta.nchan",
    .sub_target = nc_sub_target,
    .sub_headers = nc_sub_headers,
    .ws_message = nc_ws_message,
    .poll_response = nc_poll_response,
    .pub_target = nc_pub_target,
    .pub_ack = nc_pub_ack,
};
