/* httpc.c — one blocking HTTP request through libevent's evhttp client. */
#include "httpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#define HTTPC_BODY_MAX (16u << 20)

typedef struct reply {
    struct event_base *base;
    int done;
    int status;
    char *body;
    char err[160];
} reply;

static void on_reply(struct evhttp_request *req, void *arg)
{
    reply *r = arg;
    r->done = 1;
    event_base_loopbreak(r->base);
    if (!req) {
        snprintf(r->err, sizeof r->err, "connection failed or timed out");
        return;
    }
    r->status = evhttp_request_get_response_code(req);
    if (r->status == 0) {
        snprintf(r->err, sizeof r->err, "connection refused, reset or timed out");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len > HTTPC_BODY_MAX) {
        snprintf(r->err, sizeof r->err, "reply body too large (%zu bytes)", len);
        r->status = 0;
        return;
    }
    r->body = malloc(len + 1);
    if (!r->body) {
        snprintf(r->err, sizeof r->err, "out of memory");
        r->status = 0;
        return;
    }
    evbuffer_remove(in, r->body, len);
    r->body[len] = '\0';
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

int httpc_request(const char *host, uint16_t port, const char *method, const char *path,
                  const char *body, uint64_t timeout_ms, int *status, char **body_out, char *err,
                  size_t errlen)
{
    return httpc_request_bearer(host, port, method, path, body, NULL, timeout_ms, status, body_out, err,
                                errlen);
}

int httpc_request_bearer(const char *host, uint16_t port, const char *method, const char *path,
                         const char *body, const char *token, uint64_t timeout_ms, int *status,
                         char **body_out, char *err, size_t errlen)
{
    enum evhttp_cmd_type cmd;
    if (!strcmp(method, "GET"))
        cmd = EVHTTP_REQ_GET;
    else if (!strcmp(method, "POST"))
        cmd = EVHTTP_REQ_POST;
    else if (!strcmp(method, "DELETE"))
        cmd = EVHTTP_REQ_DELETE;
    else if (!strcmp(method, "PATCH"))
        cmd = EVHTTP_REQ_PATCH;
    else {
        snprintf(err, errlen, "unsupported method %s", method);
        return -1;
    }
    if (body_out)
        *body_out = NULL;
    struct event_base *base = event_base_new();
    if (!base) {
        snprintf(err, errlen, "event_base_new failed");
        return -1;
    }
    reply r = {.base = base};
    int rc = -1;
    struct evhttp_connection *conn = evhttp_connection_base_new(base, NULL, host, port);
    struct evhttp_request *req = conn ? evhttp_request_new(on_reply, &r) : NULL;
    struct event *deadline = evtimer_new(base, on_deadline, base);
    if (!conn || !req || !deadline) {
        snprintf(err, errlen, "cannot set up a request to %s:%u", host, port);
        if (req)
            evhttp_request_free(req);
        goto out;
    }
    /* evhttp's own timeout covers each I/O wait; the timer bounds the whole. */
    struct timeval tv = {.tv_sec = (time_t)(timeout_ms / 1000), .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
    evhttp_connection_set_timeout_tv(conn, &tv);
    evhttp_connection_set_retries(conn, 0);
    /* A server may answer before it has read the whole body (413 for an
     * oversized one) and close: read that answer rather than report the
     * failed write. */
    evhttp_connection_set_flags(conn, EVHTTP_CON_READ_ON_WRITE_ERROR);
    evtimer_add(deadline, &tv);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char hostport[300];
    snprintf(hostport, sizeof hostport, "%s:%u", host, port);
    evhttp_add_header(h, "Host", hostport);
    evhttp_add_header(h, "Connection", "close");
    if (token) {
        size_t alen = strlen(token) + sizeof "Bearer ";
        char *auth = malloc(alen);
        if (!auth) {
            snprintf(err, errlen, "out of memory");
            evhttp_request_free(req);
            goto out;
        }
        snprintf(auth, alen, "Bearer %s", token);
        evhttp_add_header(h, "Authorization", auth);
        free(auth);
    }
    if (body) {
        evhttp_add_header(h, "Content-Type", "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    }
    if (evhttp_make_request(conn, req, cmd, path) != 0) {
        snprintf(err, errlen, "%s http://%s%s: cannot send the request", method, hostport, path);
        goto out; /* evhttp_make_request frees req on failure */
    }
    event_base_dispatch(base);
    if (!r.done) {
        snprintf(err, errlen, "%s http://%s%s: no reply within %llums", method, hostport, path,
                 (unsigned long long)timeout_ms);
        goto out;
    }
    if (r.status == 0) {
        snprintf(err, errlen, "%s http://%s%s: %s", method, hostport, path, r.err);
        goto out;
    }
    *status = r.status;
    if (body_out) {
        *body_out = r.body;
        r.body = NULL;
    }
    rc = 0;
out:
    free(r.body);
    if (deadline)
        event_free(deadline);
    if (conn)
        evhttp_connection_free(conn); /* frees a request still pending on it */
    event_base_free(base);
    return rc;
}
