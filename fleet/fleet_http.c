/* fleet_http.c — HTTP/1.1 response reading for the fleet's clients over http-parser, with the handshake's header capture. */
#include "fleet_http.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

static http_parser_settings settings;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    fl_http *h = (fl_http *)p;
    if (h->in_value) { /* a new header begins */
        h->in_value = 0;
        h->hname_len = 0;
    }
    size_t room = sizeof h->hname - h->hname_len;
    size_t n = len < room ? len : room;
    memcpy(h->hname + h->hname_len, at, n);
    h->hname_len = (uint8_t)(h->hname_len + n);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    fl_http *h = (fl_http *)p;
    if (!h->in_value) { /* the first piece of this value */
        h->in_value = 1;
        h->in_accept = h->hname_len == 20 && strncasecmp(h->hname, "Sec-WebSocket-Accept", 20) == 0;
        if (h->in_accept)
            h->got_len = 0;
    }
    if (h->in_accept) {
        size_t room = sizeof h->got_accept - 1 - h->got_len;
        size_t n = len < room ? len : room;
        memcpy(h->got_accept + h->got_len, at, n);
        h->got_len = (uint8_t)(h->got_len + n);
        h->got_accept[h->got_len] = '\0';
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    fl_http *h = (fl_http *)p;
    h->status = p->status_code;
    h->headers_done = 1;
    h->accept_ok = h->accept[0] && strcmp(h->got_accept, h->accept) == 0;
    h->keep_alive = http_should_keep_alive(p) ? 1 : 0;
    if (h->cbs->on_headers && h->cbs->on_headers(h) != 0)
        return -1;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    fl_http *h = (fl_http *)p;
    return h->cbs->on_body ? h->cbs->on_body(h, at, len) : 0;
}

static int on_message_complete(http_parser *p)
{
    fl_http *h = (fl_http *)p;
    h->msg_done = 1;
    return h->cbs->on_complete ? h->cbs->on_complete(h) : 0;
}

static void init_settings(void)
{
    http_parser_settings_init(&settings);
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
}

void fl_http_init(fl_http *h, const fl_http_cbs *cbs, void *ud, const char *expected_accept)
{
    pthread_once(&once, init_settings);
    memset(h, 0, sizeof *h);
    http_parser_init(&h->p, HTTP_RESPONSE);
    h->cbs = cbs;
    h->ud = ud;
    if (expected_accept) {
        strncpy(h->accept, expected_accept, sizeof h->accept - 1);
    }
}

size_t fl_http_execute(fl_http *h, const char *buf, size_t len)
{
    return http_parser_execute(&h->p, &settings, buf, len);
}
