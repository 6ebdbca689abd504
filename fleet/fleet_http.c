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

/* The captured header a value belongs to (0: none). */
enum { CAP_NONE = 0, CAP_ACCEPT, CAP_LM, CAP_ETAG, CAP_CTYPE, CAP_EXT };

static char *cap_buf(fl_http *h, size_t *cap)
{
    switch (h->in_accept) {
    case CAP_ACCEPT: *cap = sizeof h->got_accept; return h->got_accept;
    case CAP_LM: *cap = sizeof h->got_lm; return h->got_lm;
    case CAP_ETAG: *cap = sizeof h->got_etag; return h->got_etag;
    case CAP_CTYPE: *cap = sizeof h->got_ctype; return h->got_ctype;
    case CAP_EXT: *cap = sizeof h->got_ext; return h->got_ext;
    default: *cap = 0; return NULL;
    }
}

static int is_name(const fl_http *h, const char *name)
{
    size_t n = strlen(name);
    return h->hname_len == n && strncasecmp(h->hname, name, n) == 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    fl_http *h = (fl_http *)p;
    if (!h->in_value) { /* the first piece of this value */
        h->in_value = 1;
        h->in_accept = is_name(h, "Sec-WebSocket-Accept") ? CAP_ACCEPT
                       : is_name(h, "Last-Modified")      ? CAP_LM
                       : is_name(h, "Etag")               ? CAP_ETAG
                       : is_name(h, "Content-Type")       ? CAP_CTYPE
                       : is_name(h, "Sec-WebSocket-Extensions") ? CAP_EXT
                                                          : CAP_NONE;
        h->got_len = 0;
    }
    size_t cap;
    char *b = cap_buf(h, &cap);
    if (b) {
        /* a value longer than the buffer is truncated: none of these is
         * long in practice, and a truncated one just fails its check */
        size_t room = cap - 1 - h->got_len;
        size_t n = len < room ? len : room;
        memcpy(b + h->got_len, at, n);
        h->got_len = (uint8_t)(h->got_len + n);
        b[h->got_len] = '\0';
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    fl_http *h = (fl_http *)p;
    /* keep-alive (long-poll): each response brings its own validators */
    h->got_lm[0] = h->got_etag[0] = h->got_ctype[0] = '\0';
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
    settings.on_message_begin = on_message_begin;
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
