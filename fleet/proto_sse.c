/* proto_sse.c — any Server-Sent Events service, from templates: the stream location (sub_path with {ch}), the resume id carried in a header or a query parameter, where the record sits in each event's JSON, and the publish request (method, pub_path, body with {payload}); covers Mercure-style hubs. */
#include "proto.h"
#include "tmpl.h"

#include <stdio.h>
#include <string.h>

static int sse_sub_target(const proto_opts *o, int tr, const char *const *chs, size_t n, const char *resume_id,
                          char *buf, size_t cap)
{
    if (tr != 1 || n == 0 || (n > 1 && !o->ch_join[0]))
        return -1; /* SSE only; several channels only with a joiner (fleet_create refuses the rest) */
    int k;
    if (n == 1) {
        k = proto_expand_path(o->sub_path, chs[0], buf, cap);
    } else {
        /* one stream for every channel: {ch} = a<join>b<join>c, e.g.
         * ?topic={ch} with ch_join "&topic=" (Mercure), or "," */
        char list[PROTO_PATH_MAX * 8];
        size_t ll = 0;
        for (size_t i = 0; i < n; i++) {
            char enc[PROTO_PATH_MAX];
            int w = proto_pct_encode(chs[i], enc, sizeof enc);
            int j = w < 0 ? -1 : snprintf(list + ll, sizeof list - ll, "%s%s", i ? o->ch_join : "", enc);
            if (j < 0 || (size_t)j >= sizeof list - ll)
                return -1;
            ll += (size_t)j;
        }
        const tmpl_var v = {"ch", list, ll, TMPL_RAW, 1};
        k = strstr(o->sub_path, "{ch}") ? tmpl_expand(o->sub_path, &v, 1, buf, cap) : -1;
    }
    if (k < 0)
        return -1;
    if (resume_id && o->resume_query[0]) {
        char enc[PROTO_ID_MAX * 3 + 1];
        if (proto_pct_encode(resume_id, enc, sizeof enc) < 0)
            return -1;
        int w = snprintf(buf + k, cap - (size_t)k, "%s%s=%s", strchr(buf, '?') ? "&" : "?", o->resume_query, enc);
        if (w < 0 || (size_t)w >= cap - (size_t)k)
            return -1;
        k += w;
    }
    return k;
}

static int sse_sub_headers(const proto_opts *o, int tr, const char *resume_id, char *buf, size_t cap)
{
    (void)tr;
    if (cap)
        buf[0] = '\0';
    if (!resume_id || !o->resume_header[0])
        return 0;
    int w = snprintf(buf, cap, "%s: %s\r\n", o->resume_header, resume_id);
    return w < 0 || (size_t)w >= cap ? -1 : w;
}

static int sse_pub_target(const proto_opts *o, const char *ch, char *buf, size_t cap)
{
    return proto_expand_path(o->pub_path, ch, buf, cap);
}

/* Any 2xx acknowledges: a generic service says no more. */
static int sse_pub_ack(int status, const char *body, size_t len, char *why, size_t whycap)
{
    (void)body, (void)len;
    if (status >= 200 && status < 300)
        return 1;
    snprintf(why, whycap, "publish answered %d (expected 2xx)", status);
    return 0;
}

const proto proto_sse = {
    .name = "sse",
    .resume = PROTO_RESUME_BUFFER,
    .promise = "resume by the last event id (resume_header or resume_query) as far as the service keeps history; a hole is lost",
    .transports = PROTO_TR_SSE,
    .max_channels_per_conn = 1,
    .server_seq = 0,
    .pub_ws = 0,
    .pub_batch = 0,
    .def_sub_path = "",
    .def_pub_path = "",
    .sub_path_ch = 1,
    .def_payload_path = "",
    .ws_subprotocol = NULL,
    .sub_target = sse_sub_target,
    .sub_headers = sse_sub_headers,
    .ws_message = NULL,
    .poll_response = NULL,
    .pub_target = sse_pub_target,
    .pub_ack = sse_pub_ack,
};
