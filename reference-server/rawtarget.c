/* rawtarget.c — watches the request bytes of each HTTP connection and applies
 * the path rule to each request target as sent (rawtarget.h says why). */
#include "rawtarget.h"

#include <http_parser.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct watch {
    http_parser p;
    const struct lws *wsi;
    const char *condemned;   /* a bad target was read: why, or NULL */
    /* http-parser failed on the stream after this many complete heads: the
     * heads lws delivers beyond them were not looked at (a body it could not
     * frame, e.g. a chunked one, is its own request's problem: http_api.c
     * refuses that request by its headers) */
    uint8_t unframed, unframed_told;
    uint32_t heads, judged;  /* heads framed here; heads delivered by lws */
    const char *last;        /* the verdict on the head delivered last */
    /* the path of the target being read (a state machine over its bytes,
     * which may come in pieces) */
    uint8_t in_url, in_path; /* inside the target; before its '?' or '#' */
    uint8_t pct;             /* 0; 1 after '%'; 2 after '%' and one hex digit */
    uint8_t hi;              /* that first hex digit's value */
    uint8_t seg_len;         /* bytes of the current segment (saturates) */
    uint8_t seg_dots;        /* ... and of them, dots */
} watch;

static struct {
    watch **slots;
    size_t n;
    pthread_t owner;
    int ready;
    rawtarget_stats st;
} g;

static const char BAD_SEP[] = "an encoded separator (%2F or %5C) in the request path";
static const char BAD_DOT[] = "a dot segment ('.' or '..', plain or encoded) in the request path";
static const char BAD_FRAME[] = "a request stream that cannot be framed as HTTP/1.1";
static const char BAD_WATCH[] = "a request that could not be checked (out of memory)";

static void condemn(watch *w, const char *why)
{
    if (w->condemned)
        return;
    w->condemned = why;
    g.st.refused_targets++;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The end of a path segment: '.' and '..' are dot segments. */
static void seg_end(watch *w)
{
    if (w->seg_len && w->seg_len <= 2 && w->seg_dots == w->seg_len)
        condemn(w, BAD_DOT);
    w->seg_len = w->seg_dots = 0;
}

static void path_char(watch *w, unsigned char c, int encoded)
{
    if (c == '/' || (c == '\\' && encoded)) {
        if (encoded)
            condemn(w, BAD_SEP);
        seg_end(w);
        return;
    }
    if (w->seg_len < 255)
        w->seg_len++;
    if (c == '.' && w->seg_dots < 255)
        w->seg_dots++;
}

static void path_end(watch *w)
{
    if (!w->in_url)
        return;
    if (w->in_path)
        seg_end(w);
    w->in_url = w->in_path = 0;
    w->pct = 0;
}

static int on_message_begin(http_parser *p)
{
    watch *w = p->data;
    w->in_url = w->in_path = 1;
    w->pct = 0;
    w->seg_len = w->seg_dots = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    watch *w = p->data;
    for (size_t i = 0; i < len && w->in_path; i++) {
        unsigned char c = (unsigned char)at[i];
        if (w->pct == 1) {
            int h = hexval(c);
            w->hi = (uint8_t)(h < 0 ? 0 : h);
            w->pct = h < 0 ? 0 : 2; /* a bad escape: lws refuses it itself */
            continue;
        }
        if (w->pct == 2) {
            int lo = hexval(c);
            w->pct = 0;
            if (lo >= 0)
                path_char(w, (unsigned char)(w->hi << 4 | lo), 1);
            continue;
        }
        if (c == '%') {
            w->pct = 1;
        } else if (c == '?' || c == '#') {
            seg_end(w);
            w->in_path = 0;
        } else {
            path_char(w, c, 0);
        }
    }
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    (void)at;
    (void)len;
    path_end(p->data);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    watch *w = p->data;
    path_end(w);
    w->heads++;
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_headers_complete = on_headers_complete,
};

static int mine(int fd)
{
    return g.ready && fd >= 0 && (size_t)fd < g.n && pthread_equal(pthread_self(), g.owner);
}

int rawtarget_init(size_t nfd)
{
    rawtarget_shutdown();
    g.slots = calloc(nfd ? nfd : 1, sizeof(*g.slots));
    if (!g.slots)
        return -1;
    g.n = nfd;
    g.owner = pthread_self();
    g.ready = 1;
    return 0;
}

static void watch_free(watch *w)
{
    free(w);
}

void rawtarget_shutdown(void)
{
    for (size_t i = 0; i < g.n; i++)
        watch_free(g.slots[i]);
    free(g.slots);
    g.slots = NULL;
    g.n = 0;
    g.ready = 0;
}

int rawtarget_open(int fd, const struct lws *wsi)
{
    if (!mine(fd))
        return -1;
    watch_free(g.slots[fd]);
    watch *w = g.slots[fd] = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    http_parser_init(&w->p, HTTP_REQUEST);
    w->p.data = w;
    w->wsi = wsi;
    return 0;
}

void rawtarget_close(int fd, const struct lws *wsi)
{
    if (!mine(fd) || !g.slots[fd] || g.slots[fd]->wsi != wsi)
        return;
    watch_free(g.slots[fd]);
    g.slots[fd] = NULL;
}

void rawtarget_passthrough(int fd, const struct lws *wsi)
{
    rawtarget_close(fd, wsi);
}

/* Frames bytes of the request stream. http-parser stops after a head that
 * asks for an upgrade; the bytes after it are framed as requests again: a
 * client sends nothing after an upgrade request before the server's answer
 * (RFC 6455 4.1), and once lws has taken the connection over as a WebSocket
 * the watch has ended (rawtarget_passthrough); if lws refused the upgrade
 * (an unknown one gets lws's own 403, and the connection stays open), what
 * follows is requests. */
static void frame(watch *w, const unsigned char *buf, size_t len)
{
    while (len && !w->condemned && !w->unframed) {
        size_t n = http_parser_execute(&w->p, &settings, (const char *)buf, len);
        if (HTTP_PARSER_ERRNO(&w->p) != HPE_OK || n > len) {
            w->unframed = 1;
            return;
        }
        if (!w->p.upgrade)
            return;
        http_parser_init(&w->p, HTTP_REQUEST);
        w->p.data = w;
        buf += n;
        len -= n;
    }
}

void rawtarget_feed(int fd, const void *buf, size_t len)
{
    if (!mine(fd) || !g.slots[fd])
        return;
    frame(g.slots[fd], buf, len);
}

static const char *judge(watch *w)
{
    w->judged++;
    if (w->condemned)
        return w->condemned;
    if (w->unframed && w->judged > w->heads) {
        if (!w->unframed_told++)
            g.st.unframed++;
        return BAD_FRAME;
    }
    return NULL;
}

const char *rawtarget_head(int fd)
{
    if (!mine(fd))
        return NULL; /* not a connection of this server's loop (see rawtarget.h) */
    watch *w = g.slots[fd];
    return w ? (w->last = judge(w)) : BAD_WATCH;
}

const char *rawtarget_verdict(int fd)
{
    if (!mine(fd))
        return NULL;
    watch *w = g.slots[fd];
    return w ? w->last : BAD_WATCH;
}

void rawtarget_get_stats(rawtarget_stats *out)
{
    *out = g.st;
}
