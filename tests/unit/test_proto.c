/* test_proto.c — the protocol adapters: registry, contract v1's locations as before, nchan's locations, resume ids, ws+meta.nchan frames (every truncation, guarded buffers), long-poll validators, publish acks, option paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

static void test_proto_registry(void **state)
{
    (void)state;
    assert_ptr_equal(proto_find("v1"), &proto_v1);
    assert_ptr_equal(proto_find("nchan"), &proto_nchan);
    assert_null(proto_find("nchn"));
    assert_null(proto_find(NULL));
    assert_non_null(strstr(proto_names(), "nchan"));
    assert_int_equal(proto_count, 6);
    assert_ptr_equal(proto_find("pusher"), &proto_pusher);
    assert_string_equal(proto_resume_str(proto_pusher.resume), "none");
    for (size_t i = 0; i < proto_count; i++)
        assert_non_null(proto_find(proto_name_list[i]));
    assert_string_equal(proto_resume_str(proto_nchan.resume), "within_buffer");
    assert_string_equal(proto_resume_str(proto_v1.resume), "seq_epoch");
    assert_int_equal(proto_v1.server_seq, 1);
    assert_int_equal(proto_nchan.server_seq, 0);
}

/* contract v1 keeps exactly the requests the fleet always sent */
static void test_proto_v1_locations(void **state)
{
    (void)state;
    proto_opts o = {0};
    char b[256], h[256];
    const char *chs[] = {"a", "b.1"};
    assert_int_equal(proto_v1.sub_target(&o, 0, chs, 2, NULL, b, sizeof b), 3);
    assert_string_equal(b, "/ws");
    assert_true(proto_v1.sub_target(&o, 1, chs, 2, "x", b, sizeof b) > 0);
    assert_string_equal(b, "/sse?ch=a&ch=b.1");
    assert_int_equal(proto_v1.sub_headers(&o, 1, NULL, h, sizeof h), 0);
    assert_true(proto_v1.sub_headers(&o, 1, "7-9", h, sizeof h) > 0);
    assert_string_equal(h, "Last-Event-ID: 7-9\r\n");
    assert_int_equal(proto_v1.sub_headers(&o, 0, "7-9", h, sizeof h), 0); /* ws resumes by since */
    assert_true(proto_v1.pub_target(&o, "orders.1", b, sizeof b) > 0);
    assert_string_equal(b, "/publish/orders.1");
    assert_int_equal(proto_v1.sub_target(&o, 1, chs, 2, NULL, b, 8), -1); /* does not fit */
}

static void test_proto_nchan_locations(void **state)
{
    (void)state;
    proto_opts o = {0};
    char b[512];
    const char *ch[] = {"smoke.1"};
    assert_true(proto_nchan.sub_target(&o, 1, ch, 1, "1:2", b, sizeof b) > 0);
    assert_string_equal(b, "/sub/smoke.1"); /* SSE resumes by header */
    assert_true(proto_nchan.sub_target(&o, 0, ch, 1, NULL, b, sizeof b) > 0);
    assert_string_equal(b, "/sub/smoke.1");
    assert_true(proto_nchan.sub_target(&o, 0, ch, 1, "1796619312:0", b, sizeof b) > 0);
    assert_string_equal(b, "/sub/smoke.1?last_event_id=1796619312:0");
    assert_true(proto_nchan.sub_target(&o, 0, ch, 1, "1 2/3", b, sizeof b) > 0);
    assert_string_equal(b, "/sub/smoke.1?last_event_id=1%202%2F3");
    strcpy(o.sub_path, "/rt/{ch}/stream?x=1");
    assert_true(proto_nchan.sub_target(&o, 0, ch, 1, "5:0", b, sizeof b) > 0);
    assert_string_equal(b, "/rt/smoke.1/stream?x=1&last_event_id=5:0");
    const char *two[] = {"a", "b"};
    assert_int_equal(proto_nchan.sub_target(&o, 1, two, 2, NULL, b, sizeof b), -1); /* one channel a location */
    assert_true(proto_nchan.pub_target(&o, "smoke.1", b, sizeof b) > 0);
    assert_string_equal(b, "/pub/smoke.1");
    strcpy(o.pub_path, "/api/{ch}/publish");
    assert_true(proto_nchan.pub_target(&o, "c", b, sizeof b) > 0);
    assert_string_equal(b, "/api/c/publish");
}

static void test_proto_nchan_resume_headers(void **state)
{
    (void)state;
    proto_opts o = {0};
    char h[512];
    assert_int_equal(proto_nchan.sub_headers(&o, 1, NULL, h, sizeof h), 0);
    assert_true(proto_nchan.sub_headers(&o, 1, "17:3", h, sizeof h) > 0);
    assert_string_equal(h, "Last-Event-ID: 17:3\r\n");
    assert_int_equal(proto_nchan.sub_headers(&o, 0, "17:3", h, sizeof h), 0); /* ws: in the query */
    assert_true(proto_nchan.sub_headers(&o, 2, "Mon, 07 Dec 2026 04:55:12 GMT\n1", h, sizeof h) > 0);
    assert_string_equal(h, "If-Modified-Since: Mon, 07 Dec 2026 04:55:12 GMT\r\nIf-None-Match: 1\r\n");
    assert_int_equal(proto_nchan.sub_headers(&o, 2, "no newline", h, sizeof h), 0);
    assert_int_equal(proto_nchan.sub_headers(&o, 1, "17:3", h, 10), -1);
}

/* Runs the frame parser on a copy of exactly len bytes in its own
 * allocation, so reading past the end faults under ASan. */
static int ws_guarded(const char *s, size_t len, proto_frame *f, char **keep)
{
    char *b = malloc(len ? len : 1);
    assert_non_null(b);
    memcpy(b, s, len);
    int rc = proto_nchan.ws_message(b, len, f);
    *keep = b;
    return rc;
}

static void test_proto_nchan_ws_message(void **state)
{
    (void)state;
    static const char msg[] = "id: 1796619327:6\ncontent-type: application/json\n\n{\"run\":\"r\",\"seq\":1}";
    proto_frame f;
    char *b;
    assert_int_equal(ws_guarded(msg, strlen(msg), &f, &b), 0);
    assert_int_equal(f.id_len, strlen("1796619327:6"));
    assert_memory_equal(f.id, "1796619327:6", f.id_len);
    assert_int_equal(f.payload_len, strlen("{\"run\":\"r\",\"seq\":1}"));
    assert_memory_equal(f.payload, "{\"run\":\"r\",\"seq\":1}", f.payload_len);
    free(b);
    /* CRLF line ends, an empty payload */
    static const char crlf[] = "id: 5:0\r\ncontent-type: text/plain\r\n\r\n";
    assert_int_equal(ws_guarded(crlf, strlen(crlf), &f, &b), 0);
    assert_memory_equal(f.id, "5:0", 3);
    assert_int_equal(f.id_len, 3);
    assert_int_equal(f.payload_len, 0);
    free(b);
    /* not ws+meta.nchan: no head, no id, no blank line */
    static const char *const bad[] = {"{\"run\":1}", "content-type: x\n\npayload", "id: 1:0\ncontent-type: x\n",
                                      "\npayload", "id:\n\nx", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ws_guarded(bad[i], strlen(bad[i]), &f, &b), -1);
        free(b);
    }
    /* every truncation of a good frame: either a clean error or a shorter
     * payload, never a read past the end */
    size_t head = strlen("id: 1796619327:6\ncontent-type: application/json\n\n");
    for (size_t k = 0; k < strlen(msg); k++) {
        int rc = ws_guarded(msg, k, &f, &b);
        if (k < head)
            assert_int_equal(rc, -1);
        else
            assert_int_equal(f.payload_len, k - head);
        free(b);
    }
}

static void test_proto_nchan_poll(void **state)
{
    (void)state;
    char id[PROTO_ID_MAX] = "old";
    proto_poll_head h = {200, "Mon, 07 Dec 2026 04:55:27 GMT", "0"};
    assert_int_equal(proto_nchan.poll_response(&h, id, sizeof id), PROTO_POLL_MESSAGE);
    assert_string_equal(id, "Mon, 07 Dec 2026 04:55:27 GMT\n0");
    proto_poll_head none = {200, "", ""};
    strcpy(id, "old");
    assert_int_equal(proto_nchan.poll_response(&none, id, sizeof id), PROTO_POLL_REFUSED);
    assert_string_equal(id, "old");
    proto_poll_head quiet = {304, "", ""}, timeout = {408, "", ""}, nf = {404, "", ""};
    assert_int_equal(proto_nchan.poll_response(&quiet, id, sizeof id), PROTO_POLL_EMPTY);
    assert_int_equal(proto_nchan.poll_response(&timeout, id, sizeof id), PROTO_POLL_EMPTY);
    assert_int_equal(proto_nchan.poll_response(&nf, id, sizeof id), PROTO_POLL_REFUSED);
    assert_int_equal(proto_nchan.poll_response(&h, id, 8), PROTO_POLL_REFUSED); /* too long to keep */
}

static void test_proto_nchan_pub_ack(void **state)
{
    (void)state;
    char why[160] = "";
    assert_int_equal(proto_nchan.pub_ack(201, "queued messages: 1", 18, why, sizeof why), 1);
    assert_int_equal(proto_nchan.pub_ack(202, "", 0, why, sizeof why), 1);
    assert_int_equal(proto_nchan.pub_ack(200, "<html>", 6, why, sizeof why), 0);
    assert_non_null(strstr(why, "200"));
    assert_int_equal(proto_nchan.pub_ack(404, "", 0, why, sizeof why), 0);
    assert_non_null(strstr(why, "404"));
}

static void test_proto_check_path(void **state)
{
    (void)state;
    char e[256];
    assert_int_equal(proto_check_path("sub_path", "/sub/{ch}", e, sizeof e), 0);
    assert_int_equal(proto_check_path("sub_path", "/a/{ch}/b?x=1", e, sizeof e), 0);
    assert_int_equal(proto_check_path("sub_path", "sub/{ch}", e, sizeof e), -1);
    assert_non_null(strstr(e, "starting with '/'"));
    assert_int_equal(proto_check_path("sub_path", "/sub/", e, sizeof e), -1);
    assert_non_null(strstr(e, "{ch}"));
    assert_int_equal(proto_check_path("sub_path", "/{ch}/{ch}", e, sizeof e), -1);
    assert_int_equal(proto_check_path("pub_path", "/pub/{channel}", e, sizeof e), -1);
    assert_int_equal(proto_check_path("pub_path", "/pub/{ch}/{app}", e, sizeof e), -1);
    assert_non_null(strstr(e, "unknown field '{app}'"));
    assert_int_equal(proto_check_path("pub_path", "/pub/{ch} x", e, sizeof e), -1);
    char b[64];
    assert_true(proto_expand_path("/pub", "c", b, sizeof b) > 0);
    assert_string_equal(b, "/pub/c");
    assert_true(proto_expand_path("/pub/", "c", b, sizeof b) > 0);
    assert_string_equal(b, "/pub/c");
    assert_int_equal(proto_expand_path("/pub/{ch}", "a-very-long-channel-name", b, 12), -1);
}

static void test_proto_sse_template(void **state)
{
    (void)state;
    proto_opts o = {0};
    strcpy(o.sub_path, "/.well-known/mercure?topic={ch}");
    strcpy(o.pub_path, "/publish/{ch}");
    char b[512], h[256];
    const char *ch[] = {"room.1"};
    assert_true(proto_sse.sub_target(&o, 1, ch, 1, "urn:uuid:1", b, sizeof b) > 0);
    assert_string_equal(b, "/.well-known/mercure?topic=room.1"); /* no resume query set */
    strcpy(o.resume_query, "lastEventID");
    assert_true(proto_sse.sub_target(&o, 1, ch, 1, "urn:uuid:1", b, sizeof b) > 0);
    assert_string_equal(b, "/.well-known/mercure?topic=room.1&lastEventID=urn:uuid:1");
    assert_int_equal(proto_sse.sub_target(&o, 0, ch, 1, NULL, b, sizeof b), -1); /* SSE only */
    assert_int_equal(proto_sse.sub_headers(&o, 1, "9", h, sizeof h), 0);
    strcpy(o.resume_header, "Last-Event-ID");
    assert_true(proto_sse.sub_headers(&o, 1, "9", h, sizeof h) > 0);
    assert_string_equal(h, "Last-Event-ID: 9\r\n");
    assert_true(proto_sse.pub_target(&o, "room.1", b, sizeof b) > 0);
    assert_string_equal(b, "/publish/room.1");
    char why[128];
    assert_int_equal(proto_sse.pub_ack(204, "", 0, why, sizeof why), 1);
    assert_int_equal(proto_sse.pub_ack(302, "", 0, why, sizeof why), 0);
    assert_ptr_equal(proto_find("sse"), &proto_sse);
    assert_true(proto_sse.transports == PROTO_TR_SSE);
}

static void test_proto_templates(void **state)
{
    (void)state;
    char b[128], e[256];
    assert_true(proto_render_body("", "{\"a\":1}", 7, "c", b, sizeof b) > 0);
    assert_string_equal(b, "{\"a\":1}");
    assert_true(proto_render_body("topic={ch}&data={payload}", "{}", 2, "r.1", b, sizeof b) > 0);
    assert_string_equal(b, "topic=r.1&data={}");
    assert_true(proto_render_body("{\"data\":{payload},\"ch\":\"{ch}\"}", "7", 1, "x", b, sizeof b) > 0);
    assert_string_equal(b, "{\"data\":7,\"ch\":\"x\"}");
    assert_int_equal(proto_render_body("{payload}{payload}", "0123456789", 10, "x", b, 15), -1);
    static const char *const fields[] = {"payload", "ch"}, *const need[] = {"payload"};
    assert_int_equal(proto_check_template("pub_body", "{\"data\":{payload}}", fields, 2, need, 1, e, sizeof e), 0);
    assert_int_equal(proto_check_template("pub_body", "{\"data\":{paylod}}", fields, 2, need, 1, e, sizeof e), -1);
    assert_string_equal(e, "pub_body: unknown field '{paylod}' (did you mean '{payload}'?)");
    assert_int_equal(proto_check_template("pub_body", "{\"data\":1}", fields, 2, need, 1, e, sizeof e), -1);
    assert_string_equal(e, "pub_body: expected '{payload}' where it goes");
    assert_int_equal(proto_check_template("pub_body", "[{payload},{payload}]", fields, 2, need, 1, e, sizeof e), -1);
    assert_int_equal(proto_check_template("pub_body", "{zzzzzz}{payload}", fields, 2, need, 1, e, sizeof e), -1);
    assert_string_equal(e, "pub_body: unknown field '{zzzzzz}'");
}

static void test_proto_ws_json_template(void **state)
{
    (void)state;
    proto_opts o = {0};
    strcpy(o.sub_path, "/connection/websocket");
    char b[256], e[256];
    const char *chs[] = {"a", "b"};
    assert_true(proto_ws_json.sub_target(&o, 0, chs, 2, NULL, b, sizeof b) > 0);
    assert_string_equal(b, "/connection/websocket"); /* one location, channels by message */
    assert_int_equal(proto_ws_json.sub_target(&o, 1, chs, 2, NULL, b, sizeof b), -1);
    assert_true(proto_render_sub("{\"op\":\"sub\",\"ch\":\"{ch}\",\"since\":{offset}}", "a.1", 1234, b, sizeof b) > 0);
    assert_string_equal(b, "{\"op\":\"sub\",\"ch\":\"a.1\",\"since\":1234}");
    assert_int_equal(proto_render_sub("{ch}{ch}{ch}", "abcdef", 0, b, 12), -1);
    proto_frame f;
    assert_int_equal(proto_ws_json.ws_message("{\"x\":1}", 7, &f), 0);
    assert_int_equal(f.payload_len, 7);
    assert_null(f.id);
    assert_int_equal(proto_check_plain_path("sub_path", "/ws", e, sizeof e), 0);
    assert_int_equal(proto_check_plain_path("sub_path", "/ws/{ch}", e, sizeof e), -1);
    assert_int_equal(proto_check_plain_path("sub_path", "ws", e, sizeof e), -1);
    assert_string_equal(proto_resume_str(proto_ws_json.resume), "offset");
}

/* Socket.IO frames through the guarded parser: spans stay inside */
static int sio(const char *s, proto_frame *f, char **keep)
{
    memset(f, 0, sizeof *f);
    size_t len = strlen(s);
    char *b = malloc(len ? len : 1);
    assert_non_null(b);
    memcpy(b, s, len);
    *keep = b;
    return proto_socketio.ws_message(b, len, f);
}

static void test_proto_socketio(void **state)
{
    (void)state;
    proto_frame f;
    char *b;
    assert_int_equal(sio("0{\"sid\":\"abc\",\"pingInterval\":25000}", &f, &b), 0);
    assert_int_equal(f.ready, 0);
    assert_null(f.payload);
    free(b);
    assert_int_equal(sio("2", &f, &b), 0);
    assert_string_equal(f.reply, "3"); /* heartbeat answered */
    free(b);
    assert_int_equal(sio("40{\"sid\":\"S1\",\"pid\":\"P1\"}", &f, &b), 0);
    assert_int_equal(f.ready, 1);
    assert_int_equal(f.session_len, 2);
    assert_memory_equal(f.session, "S1", 2);
    assert_memory_equal(f.token, "P1", 2);
    free(b);
    assert_int_equal(sio("40{\"sid\":\"S2\"}", &f, &b), 0); /* no recovery on the server: no pid */
    assert_null(f.token);
    free(b);
    assert_int_equal(sio("42[\"msg\",\"{\\\"run\\\":1}\",\"Q9E_CQY\"]", &f, &b), 0);
    assert_non_null(f.payload);
    assert_int_equal(f.id_len, 7);
    assert_memory_equal(f.id, "Q9E_CQY", 7);
    free(b);
    assert_int_equal(sio("42[\"msg\",\"only the payload\"]", &f, &b), 0);
    assert_null(f.id); /* two elements: the last string is the payload, not an offset */
    free(b);
    assert_int_equal(sio("44{\"message\":\"not authorized\"}", &f, &b), 0);
    assert_int_equal(f.refused, 1);
    free(b);
    assert_int_equal(sio("42not json", &f, &b), -1);
    free(b);
    assert_int_equal(sio("x", &f, &b), -1);
    free(b);
    char h[128];
    assert_true(proto_socketio.ws_hello(NULL, NULL, h, sizeof h) > 0);
    assert_string_equal(h, "40");
    assert_true(proto_socketio.ws_hello("P1", "Q9E_CQY", h, sizeof h) > 0);
    assert_string_equal(h, "40{\"pid\":\"P1\",\"offset\":\"Q9E_CQY\"}");
    proto_opts o = {0};
    const char *chs[] = {"a"};
    assert_true(proto_socketio.sub_target(&o, 0, chs, 1, NULL, h, sizeof h) > 0);
    assert_string_equal(h, "/socket.io/?EIO=4&transport=websocket");
}

/* One Pusher message through the adapter, from an exact-size heap copy
 * (ASan sees any read past it). */
static int pu(const char *s, proto_frame *f, char **keep)
{
    memset(f, 0, sizeof *f);
    size_t len = strlen(s);
    char *b = malloc(len ? len : 1);
    assert_non_null(b);
    memcpy(b, s, len);
    *keep = b;
    return proto_pusher.ws_message(b, len, f);
}

static void test_proto_pusher_frames(void **state)
{
    (void)state;
    proto_opts o = {0};
    char t[256];
    const char *chs[] = {"a"};
    assert_int_equal(proto_pusher.sub_target(&o, 0, chs, 1, NULL, t, sizeof t), -1); /* no key */
    strcpy(o.key, "k 1");
    assert_true(proto_pusher.sub_target(&o, 0, chs, 1, NULL, t, sizeof t) > 0);
    assert_string_equal(t, "/app/k%201?protocol=7&client=rtchaos&version=1.0");
    assert_int_equal(proto_pusher.sub_target(&o, 1, chs, 1, NULL, t, sizeof t), -1); /* WebSocket only */
    assert_int_equal(proto_pusher.transports, PROTO_TR_WS);

    proto_frame f;
    char *b;
    assert_int_equal(pu("{\"event\":\"pusher:connection_established\",\"data\":"
                        "\"{\\\"socket_id\\\":\\\"123.456\\\",\\\"activity_timeout\\\":120}\"}",
                        &f, &b),
                     0);
    assert_int_equal(f.ready, 1);
    assert_int_equal(f.session_len, 7);
    assert_memory_equal(f.session, "123.456", 7);
    assert_true(f.session >= b && f.session + f.session_len <= b + strlen("{\"event\":\"pusher:connection_established\",\"data\":\"{\\\"socket_id\\\":\\\"123.456\\\",\\\"activity_timeout\\\":120}\"}"));
    assert_null(f.payload);
    free(b);
    /* established without a socket id: not the protocol */
    assert_int_equal(pu("{\"event\":\"pusher:connection_established\",\"data\":\"{}\"}", &f, &b), -1);
    free(b);
    assert_int_equal(pu("{\"event\":\"pusher:ping\",\"data\":{}}", &f, &b), 0);
    assert_string_equal(f.reply, "{\"event\":\"pusher:pong\",\"data\":{}}");
    assert_null(f.payload);
    free(b);
    assert_int_equal(
        pu("{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"a\",\"data\":\"{}\"}", &f, &b), 0);
    assert_null(f.payload);
    assert_int_equal(f.error[0], 0);
    free(b);
    assert_int_equal(pu("{\"event\":\"pusher:error\",\"data\":{\"code\":4001,\"message\":\"App key x does not "
                        "exist.\"}}",
                        &f, &b),
                     0);
    assert_string_equal(f.error, "pusher:error 4001: App key x does not exist.");
    free(b);
    /* an event: the whole message is the payload; the record is the string at "data" */
    const char *ev = "{\"event\":\"rtchaos\",\"channel\":\"a\",\"data\":\"{\\\"run\\\":\\\"r\\\"}\"}";
    assert_int_equal(pu(ev, &f, &b), 0);
    assert_int_equal(f.payload_len, strlen(ev));
    assert_ptr_equal(f.payload, b);
    assert_null(f.id); /* no resume id: the protocol has none */
    free(b);
    assert_string_equal(proto_pusher.def_payload_path, "data");
    /* not the protocol: no event name, data not a string, no channel, not JSON */
    const char *bad[] = {"{\"data\":\"x\"}", "{\"event\":\"e\",\"channel\":\"a\",\"data\":{}}",
                         "{\"event\":\"e\",\"data\":\"x\"}", "<html>", "", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(pu(bad[i], &f, &b), -1);
        free(b);
    }
    /* every truncation of an event is refused or read inside its bytes */
    for (size_t n = 0; n < strlen(ev); n++) {
        char *c = malloc(n ? n : 1);
        memcpy(c, ev, n);
        memset(&f, 0, sizeof f);
        int rc = proto_pusher.ws_message(c, n, &f);
        assert_true(rc == -1 || (f.payload == NULL || (f.payload >= c && f.payload + f.payload_len <= c + n)));
        free(c);
    }
}

static void test_proto_pusher_close(void **state)
{
    (void)state;
    char why[200];
    assert_int_equal(proto_pusher.ws_close(4001, why, sizeof why), PROTO_CLOSE_FAIL);
    assert_non_null(strstr(why, "4001"));
    assert_non_null(strstr(why, "not reconnecting"));
    assert_int_equal(proto_pusher.ws_close(4000, why, sizeof why), PROTO_CLOSE_FAIL);
    assert_int_equal(proto_pusher.ws_close(4099, why, sizeof why), PROTO_CLOSE_FAIL);
    assert_int_equal(proto_pusher.ws_close(4100, why, sizeof why), PROTO_CLOSE_BACKOFF);
    assert_non_null(strstr(why, "backoff"));
    assert_int_equal(proto_pusher.ws_close(4199, why, sizeof why), PROTO_CLOSE_BACKOFF);
    assert_int_equal(proto_pusher.ws_close(4200, why, sizeof why), PROTO_CLOSE_NOW);
    assert_int_equal(proto_pusher.ws_close(4299, why, sizeof why), PROTO_CLOSE_NOW);
    assert_int_equal(proto_pusher.ws_close(1000, why, sizeof why), PROTO_CLOSE_BACKOFF);
    assert_string_equal(why, ""); /* an ordinary close is no error */
    assert_int_equal(proto_pusher.ws_close(4300, why, sizeof why), PROTO_CLOSE_BACKOFF);
}

static void test_proto_pusher_publish(void **state)
{
    (void)state;
    /* the worked example of Pusher's HTTP API reference ("Authentication") */
    proto_opts o = {0};
    strcpy(o.app_id, "3");
    strcpy(o.key, "278d425bdf160c739803");
    strcpy(o.secret, "7ad3773142a6692b25b8");
    const char *body = "{\"name\":\"foo\",\"channels\":[\"project-3\"],\"data\":\"{\\\"some\\\":\\\"data\\\"}\"}";
    char t[768];
    assert_true(proto_pusher_signed_target_at(&o, body, strlen(body), 1353088179, t, sizeof t) > 0);
    assert_string_equal(t, "/apps/3/events?auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0"
                           "&body_md5=ec365a775a4cd0599faeb73354201b6f"
                           "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c");
    assert_int_equal(proto_pusher_signed_target_at(&o, body, strlen(body), 1353088179, t, 100), -1);
    o.secret[0] = '\0';
    assert_int_equal(proto_pusher_signed_target_at(&o, body, strlen(body), 1353088179, t, sizeof t), -1);
    /* the body: the record JSON-encoded as the event's data string */
    char bb[256];
    const char *rec = "{\"run\":\"r\",\"seq\":1}";
    assert_true(proto_pusher.pub_render(&o, "ch.1", rec, strlen(rec), bb, sizeof bb) > 0);
    assert_string_equal(bb, "{\"name\":\"rtchaos\",\"channels\":[\"ch.1\"],\"data\":\"{\\\"run\\\":\\\"r\\\",\\\"seq\\\":1}\"}");
    assert_int_equal(proto_pusher.pub_render(&o, "ch.1", rec, strlen(rec), bb, 20), -1);
    /* acks: the body decides, not only the status (soketi answers a wrong
     * signature with 200 and an error object) */
    char why[160];
    assert_int_equal(proto_pusher.pub_ack(200, "{\"ok\":true}", 11, why, sizeof why), 1);
    assert_int_equal(proto_pusher.pub_ack(200, "{}", 2, why, sizeof why), 1);
    const char *e401 = "{\"error\":\"The secret authentication failed\",\"code\":401}";
    assert_int_equal(proto_pusher.pub_ack(200, e401, strlen(e401), why, sizeof why), 0);
    assert_string_equal(why, "publish refused: The secret authentication failed (code 401)");
    assert_int_equal(proto_pusher.pub_ack(401, "Invalid signature", 17, why, sizeof why), 0);
    assert_string_equal(why, "publish answered 401: Invalid signature");
    assert_int_equal(proto_pusher.pub_ack(200, "<html>", 6, why, sizeof why), 0);
    assert_int_equal(proto_pusher.pub_ack(200, "", 0, why, sizeof why), 0);
}

/* v1 batch messages: each element's bytes, strings with brackets and
 * escaped quotes inside, blanks between; anything else refused. */
static void test_proto_v1_batch_split(void **state)
{
    (void)state;
    const char *m = " [ {\"a\":\"]}[{\\\"\"} , {\"b\":[1,{\"c\":2}]},{}\n] ";
    assert_true(v1_is_batch(m, strlen(m)));
    assert_false(v1_is_batch("{\"a\":1}", 7));
    size_t off = 0, n;
    const char *el;
    assert_int_equal(v1_batch_next(m, strlen(m), &off, &el, &n), 1);
    assert_int_equal(n, strlen("{\"a\":\"]}[{\\\"\"}"));
    assert_memory_equal(el, "{\"a\":\"]}[{\\\"\"}", n);
    assert_int_equal(v1_batch_next(m, strlen(m), &off, &el, &n), 1);
    assert_memory_equal(el, "{\"b\":[1,{\"c\":2}]}", n);
    assert_int_equal(v1_batch_next(m, strlen(m), &off, &el, &n), 1);
    assert_memory_equal(el, "{}", n);
    assert_int_equal(v1_batch_next(m, strlen(m), &off, &el, &n), 0);
    off = 0;
    assert_int_equal(v1_batch_next("[]", 2, &off, &el, &n), 0);
    static const char *const bad[] = {"[", "[{", "[{\"a\":\"}]", "[1]", "[{} {}]", "{}", "[{},]", "[{\"a\":1}", "[{\"a\":1]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        /* an element may come out before the damage is seen; then -1 */
        off = 0;
        int r;
        int guard = 0;
        while ((r = v1_batch_next(bad[i], strlen(bad[i]), &off, &el, &n)) == 1 && guard++ < 10)
            ;
        if (r != -1)
            fail_msg("batch '%s': %d, expected -1", bad[i], r);
    }
}

/* ws-json keep-alive templates: which message is a ping, the pong made
 * from it, the client's ping; and sse's several channels per stream */
static void test_proto_ping_templates(void **state)
{
    (void)state;
    const char *ping = "{\"type\":\"ping\",\"id\":42,\"meta\":{\"at\":[1,\"x\"]}}";
    assert_int_equal(proto_ping_matches("{\"type\":\"ping\"}", ping, strlen(ping)), 1);
    assert_int_equal(proto_ping_matches("{\"type\":\"pong\"}", ping, strlen(ping)), 0);
    assert_int_equal(proto_ping_matches("{\"type\":\"ping\",\"id\":41}", ping, strlen(ping)), 0);
    assert_int_equal(proto_ping_matches("{}", ping, strlen(ping)), 0);   /* {} matches only {} */
    assert_int_equal(proto_ping_matches("{}", "{}", 2), 1);
    assert_int_equal(proto_ping_matches("{\"type\":\"ping\"}", "not json", 8), 0);
    /* exact length: the bytes after len are not part of the message */
    assert_int_equal(proto_ping_matches("{\"type\":\"ping\"}", "{\"type\":\"ping\"}garbage", 15), 1);
    char out[256];
    int n = proto_render_pong("{\"type\":\"pong\",\"id\":{ping.id},\"at\":{ping.meta.at.1},\"no\":{ping.nope}}", ping,
                              strlen(ping), out, sizeof out);
    assert_int_equal(n, (int)strlen(out));
    assert_string_equal(out, "{\"type\":\"pong\",\"id\":42,\"at\":\"x\",\"no\":null}");
    n = proto_render_pong("{ping}", ping, strlen(ping), out, sizeof out);
    assert_string_equal(out, ping);
    assert_int_equal(proto_render_pong("{ping}", ping, strlen(ping), out, 10), -1); /* does not fit */
    assert_int_equal(proto_render_ping("{\"op\":\"ping\",\"n\":{n}}", 7, out, sizeof out), 19);
    assert_string_equal(out, "{\"op\":\"ping\",\"n\":7}");
    char err[256];
    assert_int_equal(proto_check_pong("p", "{\"id\":{ping.id},\"w\":{ping}}", err, sizeof err), 0);
    assert_int_equal(proto_check_pong("p", "{\"id\":{pnig.id}}", err, sizeof err), -1);
    assert_string_equal(err, "p: unknown field '{pnig.id}' (did you mean '{ping.id}'?)");
    assert_int_equal(proto_check_pong("p", "{\"id\":{ping..id}}", err, sizeof err), -1);
    assert_int_equal(proto_check_ping("p", "{\"n\":{n}}", err, sizeof err), 0);
    assert_int_equal(proto_check_ping("p", "{\"n\":{count}}", err, sizeof err), -1);
    assert_int_equal(proto_check_ping_match("p", "{\"type\":\"ping\"}", err, sizeof err), 0);
    assert_int_equal(proto_check_ping_match("p", "[1]", err, sizeof err), -1);
    assert_int_equal(proto_check_ping_match("p", "{oops", err, sizeof err), -1);

    proto_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.sub_path, sizeof o.sub_path, "/.well-known/mercure?topic={ch}");
    const char *chs[] = {"a.1", "b/2", "c"};
    char buf[512];
    assert_int_equal(proto_sse.sub_target(&o, 1, chs, 3, NULL, buf, sizeof buf), -1); /* no joiner: one channel */
    snprintf(o.ch_join, sizeof o.ch_join, "&topic=");
    snprintf(o.resume_query, sizeof o.resume_query, "lastEventID");
    n = proto_sse.sub_target(&o, 1, chs, 3, "e 9", buf, sizeof buf);
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf, "/.well-known/mercure?topic=a.1&topic=b%2F2&topic=c&lastEventID=e%209");
    assert_int_equal(proto_sse.sub_target(&o, 1, chs, 3, NULL, buf, 20), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_registry),
        cmocka_unit_test(test_proto_v1_locations),
        cmocka_unit_test(test_proto_nchan_locations),
        cmocka_unit_test(test_proto_nchan_resume_headers),
        cmocka_unit_test(test_proto_nchan_ws_message),
        cmocka_unit_test(test_proto_nchan_poll),
        cmocka_unit_test(test_proto_nchan_pub_ack),
        cmocka_unit_test(test_proto_check_path),
        cmocka_unit_test(test_proto_sse_template),
        cmocka_unit_test(test_proto_templates),
        cmocka_unit_test(test_proto_ws_json_template),
        cmocka_unit_test(test_proto_socketio),
        cmocka_unit_test(test_proto_pusher_frames),
        cmocka_unit_test(test_proto_pusher_close),
        cmocka_unit_test(test_proto_pusher_publish),
        cmocka_unit_test(test_proto_v1_batch_split),
        cmocka_unit_test(test_proto_ping_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
