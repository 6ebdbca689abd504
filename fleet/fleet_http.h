/* fleet_http.h — HTTP/1.1 response reading for the fleet's clients (http-parser), capturing what a handshake needs. */
#ifndef RTCHAOS_FLEET_HTTP_H
#define RTCHAOS_FLEET_HTTP_H
#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_http fl_http;

/* What the owner does with a response; each may be NULL. Return 0 to go
 * on, non-zero to stop the parser with an error. */
typedef struct fl_http_cbs {
    int (*on_headers)(fl_http *h);                          /* status and headers known */
    int (*on_body)(fl_http *h, const char *at, size_t len); /* decoded body bytes (chunked or not) */
    int (*on_complete)(fl_http *h);                         /* the whole response was read */
} fl_http_cbs;

/* One response reader (about 250 bytes). The parser runs over as many
 * reads as the response takes; header names and values may be split
 * anywhere between reads. */
struct fl_http {
    http_parser p;
    const fl_http_cbs *cbs;
    void *ud;                 /* the owner's */
    int status;               /* HTTP status once headers_done */
    uint8_t headers_done;
    uint8_t msg_done;         /* set when a whole response has been read (the owner clears it) */
    uint8_t keep_alive;       /* the connection may carry another request */
    uint8_t accept_ok;        /* Sec-WebSocket-Accept equals `accept` */
    uint8_t in_value;         /* a header value is being read */
    uint8_t in_accept;        /* ... and it is one captured below (which: fleet_http.c) */
    uint8_t hname_len;
    uint8_t got_len;
    char hname[24];           /* the header name being read (truncated) */
    char accept[29];          /* what Sec-WebSocket-Accept must say ("" = no check) */
    char got_accept[32];
    char got_lm[40];          /* Last-Modified of the current response ("" = none) */
    char got_etag[40];        /* Etag of the current response */
    char got_ctype[48];       /* Content-Type of the current response */
    char got_ext[128];        /* Sec-WebSocket-Extensions of a 101 (truncated) */
};

/* Starts reading a response; expected_accept may be NULL. */
void fl_http_init(fl_http *h, const fl_http_cbs *cbs, void *ud, const char *expected_accept);

/* Feeds len bytes; returns how many were consumed (fewer than len when
 * the parser stopped: an upgrade (101) ends at the head, a paused parser,
 * or an error — see HTTP_PARSER_ERRNO(&h->p)). */
size_t fl_http_execute(fl_http *h, const char *buf, size_t len);

#endif
