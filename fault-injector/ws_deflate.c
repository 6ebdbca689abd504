/* ws_deflate.c — permessage-deflate parameters, inflate and standalone
 * deflate of WebSocket messages, on zlib (the library every implementation
 * of RFC 7692 uses; raw DEFLATE streams, windowBits < 0). */
#include "ws_deflate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { UP = 0, DOWN = 1 };

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* One element of the header value ("permessage-deflate; a=1; b"), p..end. */
static void parse_element(ws_pmd *pm, const char *p, const char *end)
{
    p = skip_ws(p, end);
    const char *name = p;
    while (p < end && *p != ';' && *p != ' ' && *p != '\t')
        p++;
    if ((size_t)(p - name) != strlen("permessage-deflate") ||
        strncasecmp(name, "permessage-deflate", (size_t)(p - name)) != 0)
        return;
    ws_pmd r = {.on = 1, .window_bits = {15, 15}};
    while (p < end) {
        while (p < end && *p != ';')
            p++;
        if (p >= end)
            break;
        p = skip_ws(p + 1, end);
        const char *k = p;
        while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t kl = (size_t)(p - k);
        long v = -1;
        p = skip_ws(p, end);
        if (p < end && *p == '=') {
            p = skip_ws(p + 1, end);
            if (p < end && *p == '"')
                p++;
            if (p < end && isdigit((unsigned char)*p))
                v = strtol(p, NULL, 10);
        }
        if (kl <= 7)
            continue;
        int dir = strncasecmp(k, "server_", 7) == 0 ? DOWN : strncasecmp(k, "client_", 7) == 0 ? UP : -1;
        const char *rest = k + 7;
        if (dir < 0)
            continue;
        if (kl == 26 && strncasecmp(rest, "no_context_takeover", 19) == 0)
            r.no_takeover[dir] = 1;
        else if (kl == 22 && strncasecmp(rest, "max_window_bits", 15) == 0 && v >= 8 && v <= 15)
            r.window_bits[dir] = (int)v;
    }
    *pm = r;
}

void ws_pmd_parse_response(ws_pmd *p, const char *head, size_t len)
{
    static const char field[] = "sec-websocket-extensions:";
    const size_t fl = sizeof field - 1;
    const char *end = head + len;
    memset(p, 0, sizeof *p);
    for (const char *line = head; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *le = eol ? eol : end;
        if ((size_t)(le - line) > fl && strncasecmp(line, field, fl) == 0) {
            const char *v = line + fl;
            const char *ve = le > v && le[-1] == '\r' ? le - 1 : le;
            while (v < ve) { /* elements are separated by commas */
                const char *c = memchr(v, ',', (size_t)(ve - v));
                const char *ee = c ? c : ve;
                parse_element(p, v, ee);
                v = c ? c + 1 : ve;
            }
        }
        line = eol ? eol + 1 : end;
    }
}

/* ---- inflate ------------------------------------------------------------- */

static int inflate_fail(ws_inflater *f, const char *why, char *err, size_t errlen)
{
    f->failed = 1;
    snprintf(err, errlen, "permessage-deflate: %s", why);
    return -1;
}

static int inflate_run(ws_inflater *f, const unsigned char *in, size_t n, bytebuf *out, size_t max_out,
                       char *err, size_t errlen)
{
    if (f->failed)
        return inflate_fail(f, "inflater already failed", err, errlen);
    if (!f->init) {
        memset(&f->z, 0, sizeof f->z);
        /* 15: a window as large as any sender may use (a larger window than
         * the sender's never hurts decompression). */
        if (inflateInit2(&f->z, -15) != Z_OK)
            return inflate_fail(f, "inflateInit2 failed", err, errlen);
        f->init = 1;
    }
    unsigned char buf[16384];
    f->z.next_in = (unsigned char *)in;
    f->z.avail_in = (uInt)n;
    do {
        f->z.next_out = buf;
        f->z.avail_out = sizeof buf;
        int rc = inflate(&f->z, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
            return inflate_fail(f, f->z.msg ? f->z.msg : "bad compressed data", err, errlen);
        size_t got = sizeof buf - f->z.avail_out;
        f->msg_out += got;
        if (max_out && f->msg_out > max_out)
            return inflate_fail(f, "message inflates past the limit", err, errlen);
        if (out && got && bytebuf_add(out, buf, got) < 0)
            return inflate_fail(f, "out of memory", err, errlen);
        if (rc == Z_STREAM_END) /* a final block: the next message starts a new stream */
            inflateReset(&f->z);
        if (rc == Z_BUF_ERROR || (got == 0 && f->z.avail_in == 0))
            break;
    } while (f->z.avail_in > 0 || f->z.avail_out == 0);
    return 0;
}

int ws_inflate_feed(ws_inflater *f, const unsigned char *in, size_t n, bytebuf *out, size_t max_out,
                    char *err, size_t errlen)
{
    return n ? inflate_run(f, in, n, out, max_out, err, errlen) : 0;
}

int ws_inflate_end(ws_inflater *f, bytebuf *out, int reset, char *err, size_t errlen)
{
    static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
    int rc = inflate_run(f, tail, sizeof tail, out, 0, err, errlen);
    f->msg_out = 0;
    if (rc == 0 && reset)
        inflateReset(&f->z);
    return rc;
}

int ws_inflater_copy(ws_inflater *dst, const ws_inflater *src)
{
    memset(dst, 0, sizeof *dst);
    dst->failed = src->failed;
    if (!src->init || src->failed)
        return 0;
    if (inflateCopy(&dst->z, (z_streamp)&src->z) != Z_OK) {
        dst->failed = 1;
        return -1;
    }
    dst->init = 1;
    return 0;
}

void ws_inflater_free(ws_inflater *f)
{
    if (f->init)
        inflateEnd(&f->z);
    f->init = 0;
}

/* ---- deflate ------------------------------------------------------------- */

int ws_deflate_message(z_stream *z, int *init, int window_bits, const unsigned char *in, size_t n,
                       bytebuf *out)
{
    if (!*init) {
        memset(z, 0, sizeof *z);
        int stored = window_bits < 9;
        /* memLevel 5, as python-websockets uses: 16 KiB of hash table
         * instead of 128 KiB, for a little less compression */
        if (deflateInit2(z, stored ? 0 : Z_DEFAULT_COMPRESSION, Z_DEFLATED, stored ? -9 : -window_bits, 5,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return -1;
        *init = 1;
    } else if (deflateReset(z) != Z_OK) {
        return -1;
    }
    size_t start = out->len;
    unsigned char buf[16384];
    z->next_in = (unsigned char *)in;
    z->avail_in = (uInt)n;
    do {
        z->next_out = buf;
        z->avail_out = sizeof buf;
        if (deflate(z, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
            return -1;
        if (bytebuf_add(out, buf, sizeof buf - z->avail_out) < 0)
            return -1;
    } while (z->avail_out == 0);
    /* Z_SYNC_FLUSH ends with an empty stored block, 00 00 ff ff: removed */
    if (out->len - start >= 4 && memcmp(out->p + out->len - 4, "\x00\x00\xff\xff", 4) == 0)
        out->len -= 4;
    return 0;
}

void ws_deflater_free(z_stream *z, int *init)
{
    if (*init)
        deflateEnd(z);
    *init = 0;
}
