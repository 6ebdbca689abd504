/* sse_stream.c — SSE response reader: head, de-chunked body, event blocks. */
#include "sse_stream.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define SSE_HEAD_MAX (64 * 1024)
#define SSE_BLOCK_MAX (1024 * 1024)

static void cut_blocks(sse_reader *r, int at_end);

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    sse_reader *r = p->data;
    if (r->hfield_done) {
        r->hfield[0] = '\0';
        r->hfield_done = 0;
    }
    size_t have = strlen(r->hfield);
    for (size_t i = 0; i < len && have + 1 < sizeof r->hfield; i++)
        r->hfield[have++] = (char)tolower((unsigned char)at[i]);
    r->hfield[have] = '\0';
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    sse_reader *r = p->data;
    r->hfield_done = 1;
    if (strcmp(r->hfield, "content-type") == 0) {
        /* The value may come in pieces; a match in any piece is enough for
         * the short token we look for, except across a split, which the
         * whole-head parse below never produces (the head is complete). */
        const char *tok = "text/event-stream";
        size_t tl = strlen(tok);
        for (size_t i = 0; i + tl <= len; i++)
            if (strncasecmp(at + i, tok, tl) == 0)
                r->is_event_stream = 1;
    } else if (strcmp(r->hfield, "content-encoding") == 0) {
        /* a compressed body (gzip …) has no blank lines to cut at */
        size_t i = 0;
        while (i < len && (at[i] == ' ' || at[i] == '\t'))
            i++;
        if (!(len - i >= 8 && strncasecmp(at + i, "identity", 8) == 0))
            r->encoded = 1;
    }
    return 0;
}

/* Track mode: follows the block grammar byte by byte without keeping the
 * bytes. States: 0 between blocks, 1 in a line, 2 at the start of a line
 * inside a block, 3 CR ending an empty line at 0, 4 CR ending a line,
 * 5 CR ending an empty line inside a block (LF may follow a CR). */
static int bstep(int st, unsigned char c)
{
    static const int nl[6] = {0, 2, 0, 0, 2, 0};
    static const int cr[6] = {3, 4, 5, 3, 5, 3};
    if (c == '\n')
        return nl[st];
    if (c == '\r')
        return cr[st];
    return 1;
}

/* Track mode: one body byte. Counts an event (a block with a field line,
 * as the full reader delivers with comment_only 0) where the full reader
 * would deliver it: at the LF of a blank line, or at the byte after the CR
 * of a blank line (which may be its LF). */
static void track_byte(sse_reader *r, unsigned char c)
{
    int st = r->bstate;
    int nx = bstep(st, c);
    if (st == 5 || (st == 2 && c == '\n')) {
        if (r->has_field)
            r->messages++;
        r->has_field = 0;
    }
    if (nx == 1 && st != 1 && c != ':')
        r->has_field = 1;
    r->bstate = nx;
}

static int on_chunk_header(http_parser *p)
{
    ((sse_reader *)p->data)->in_chunk = 1;
    return 0;
}

static int on_chunk_complete(http_parser *p)
{
    ((sse_reader *)p->data)->in_chunk = 0;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    sse_reader *r = p->data;
    if (r->track) {
        for (size_t i = 0; i < len; i++)
            track_byte(r, (unsigned char)at[i]);
        return 0;
    }
    if (r->mode == SSE_BODY_EVENTS) {
        bytebuf_add(&r->acc, at, len);
        cut_blocks(r, 0);
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    sse_reader *r = p->data;
    r->body_done = 1;
    http_parser_pause(p, 1); /* so execute returns where this response ends */
    return 0;
}

void sse_reader_init(sse_reader *r, const sse_callbacks *cb, void *arg)
{
    memset(r, 0, sizeof *r);
    r->cb = *cb;
    r->arg = arg;
    http_parser_settings_init(&r->hs);
    r->hs.on_header_field = on_header_field;
    r->hs.on_header_value = on_header_value;
    r->hs.on_body = on_body;
    r->hs.on_message_complete = on_message_complete;
    r->hs.on_chunk_header = on_chunk_header;
    r->hs.on_chunk_complete = on_chunk_complete;
}

int sse_reader_at_boundary(const sse_reader *r)
{
    if (r->mode == SSE_HEAD)
        return r->head.len == 0;
    if (r->mode == SSE_BODY_EVENTS)
        return r->in_chunk == 0 && (r->track ? r->bstate == 0 : r->acc.len == 0);
    return 0;
}

void sse_reader_clone(sse_reader *dst, const sse_reader *src, const sse_callbacks *cb, void *arg)
{
    sse_reader_init(dst, cb, arg);
    dst->max_block_bytes = src->max_block_bytes;
    dst->mode = src->mode;
    dst->chunked = src->chunked;
    dst->hp = src->hp; /* http_parser is a plain struct: copying it resumes there */
    dst->hp.data = dst;
    dst->is_event_stream = src->is_event_stream;
    dst->body_done = src->body_done;
}

size_t sse_reader_quiet_len(const sse_reader *r, const unsigned char *d, size_t n)
{
    if (r->mode == SSE_PASSTHROUGH || n == 0)
        return n;
    if (r->track && r->bstate == 5)
        return 1; /* the next byte ends the block, whatever it is */
    size_t k = 0;
    while (k < n && d[k] != '\n' && d[k] != '\r')
        k++;
    k = k < n ? k + 1 : n;
    /* A body of known length ends at a byte that need not be a line end. */
    uint64_t left = r->hp.content_length;
    if (r->mode != SSE_HEAD && left > 0 && left != ULLONG_MAX && left < k)
        k = (size_t)left;
    return k;
}

/* Delivers the block acc[0..end) and drops it from acc. */
static void deliver(sse_reader *r, size_t end, int complete)
{
    sse_block b = {r->acc.p, end, !r->has_field, complete};
    if (complete && r->has_field)
        r->messages++;
    if (r->cb.block)
        r->cb.block(r->arg, &b);
    bytebuf_consume(&r->acc, end);
    r->scan = 0;
    r->has_field = 0;
}

/* Cuts acc at blank lines. A CR at the very end waits for the next byte
 * (it may be the first half of CRLF) unless the stream is at its end. */
static void cut_blocks(sse_reader *r, int at_end)
{
    size_t max = r->max_block_bytes ? r->max_block_bytes : SSE_BLOCK_MAX;
    size_t i = r->scan;
    while (i < r->acc.len) {
        unsigned char c = r->acc.p[i];
        if (c != '\n' && c != '\r') {
            i++;
            continue;
        }
        size_t term = 1;
        if (c == '\r') {
            if (i + 1 == r->acc.len && !at_end)
                break;
            if (i + 1 < r->acc.len && r->acc.p[i + 1] == '\n')
                term = 2;
        }
        size_t line_len = i - r->scan;
        if (line_len == 0) {
            deliver(r, i + term, 1);
            i = 0;
            continue;
        }
        if (r->acc.p[r->scan] != ':')
            r->has_field = 1;
        r->scan = i + term;
        i = r->scan;
    }
    if (r->acc.len > max)
        deliver(r, r->acc.len, 0); /* no blank line in sight: pass it on whole */
    else if (at_end && r->acc.len > 0) {
        if (r->scan < r->acc.len && r->acc.p[r->scan] != ':')
            r->has_field = 1;
        deliver(r, r->acc.len, 0);
    }
}

/* Where the head in h ends (just past its blank line), or 0. Scanning
 * starts a few bytes before `from` (what the previous call had seen), so a
 * head that arrives in many pieces is not rescanned from its start. */
static size_t find_head_end(const bytebuf *h, size_t from)
{
    for (size_t i = from > 3 ? from - 3 : 0; i + 1 < h->len; i++) {
        if (h->p[i] == '\n' && h->p[i + 1] == '\n')
            return i + 2;
        if (i + 3 < h->len && memcmp(h->p + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    }
    return 0;
}

static void emit_raw(sse_reader *r, const unsigned char *d, size_t n)
{
    if (n && r->cb.raw)
        r->cb.raw(r->arg, d, n);
}

static void to_passthrough(sse_reader *r, const unsigned char *d, size_t n)
{
    r->mode = SSE_PASSTHROUGH;
    emit_raw(r, r->head.p, r->head.len);
    bytebuf_reset(&r->head);
    emit_raw(r, d, n);
}

/* Feeds body bytes to http-parser; returns the bytes that belong to this
 * response (the rest, after its end, starts the next response). */
static size_t feed_body(sse_reader *r, const unsigned char *d, size_t n)
{
    size_t used = http_parser_execute(&r->hp, &r->hs, (const char *)d, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->hp);
    if (e == HPE_PAUSED) {
        http_parser_pause(&r->hp, 0);
        return used;
    }
    if (e != HPE_OK) {
        /* Garbage in the body: flush what was decoded, pass the rest on.
         * A raw body's bytes before the error are this call's to forward
         * (the caller returns at once in passthrough mode). */
        if (r->mode == SSE_BODY_EVENTS && r->acc.len)
            deliver(r, r->acc.len, 0);
        if (r->mode == SSE_BODY_RAW)
            emit_raw(r, d, used);
        to_passthrough(r, d + used, n - used);
        return n;
    }
    return used;
}

void sse_reader_feed(sse_reader *r, const unsigned char *d, size_t n)
{
    while (n > 0) {
        if (r->mode == SSE_PASSTHROUGH) {
            emit_raw(r, d, n);
            return;
        }
        if (r->mode == SSE_HEAD) {
            size_t before = r->head.len;
            bytebuf_add(&r->head, d, n);
            size_t end = find_head_end(&r->head, before);
            if (!end) {
                if (r->head.len > SSE_HEAD_MAX)
                    to_passthrough(r, NULL, 0);
                return;
            }
            /* The head is complete: parse it whole with a fresh parser. */
            size_t from_here = end - before; /* bytes of d that belong to the head */
            http_parser_init(&r->hp, HTTP_RESPONSE);
            r->hp.data = r;
            r->is_event_stream = 0;
            r->encoded = 0;
            r->hfield[0] = '\0';
            r->hfield_done = 0;
            r->body_done = 0;
            size_t used = http_parser_execute(&r->hp, &r->hs, (const char *)r->head.p, end);
            if (HTTP_PARSER_ERRNO(&r->hp) != HPE_OK && HTTP_PARSER_ERRNO(&r->hp) != HPE_PAUSED) {
                r->head.len = before; /* pass the whole head and the rest raw */
                to_passthrough(r, d, n);
                return;
            }
            (void)used;
            if (r->hp.upgrade || r->hp.status_code == 101) {
                /* Switching protocols (a WebSocket): no more HTTP responses
                 * on this stream. Without this, every frame after the 101
                 * would be taken for the start of the next head. */
                emit_raw(r, r->head.p, end);
                bytebuf_reset(&r->head);
                to_passthrough(r, d + from_here, n - from_here);
                return;
            }
            int ok = r->hp.status_code == 200 && r->is_event_stream && !r->encoded &&
                     !(r->hp.flags & F_CONTENTLENGTH);
            r->chunked = (r->hp.flags & F_CHUNKED) != 0;
            emit_raw(r, r->head.p, end);
            bytebuf_reset(&r->head);
            d += from_here;
            n -= from_here;
            if (r->body_done) { /* no body (e.g. 204): next response */
                http_parser_pause(&r->hp, 0);
                r->mode = SSE_HEAD;
                continue;
            }
            r->mode = ok ? SSE_BODY_EVENTS : SSE_BODY_RAW;
            bytebuf_reset(&r->acc);
            r->scan = 0;
            r->has_field = 0;
            r->bstate = 0;
            r->in_chunk = 0;
            continue;
        }
        size_t used = feed_body(r, d, n);
        if (r->mode == SSE_PASSTHROUGH)
            return;
        if (r->mode == SSE_BODY_RAW)
            emit_raw(r, d, used);
        d += used;
        n -= used;
        if (r->body_done) {
            if (r->mode == SSE_BODY_EVENTS) {
                cut_blocks(r, 1);
                if (r->chunked && r->cb.body_end)
                    r->cb.body_end(r->arg);
            }
            r->mode = SSE_HEAD;
        }
    }
}

void sse_reader_eof(sse_reader *r)
{
    if (r->mode == SSE_BODY_EVENTS) {
        http_parser_execute(&r->hp, &r->hs, NULL, 0);
        cut_blocks(r, 1);
    } else if (r->mode == SSE_HEAD && r->head.len) {
        to_passthrough(r, NULL, 0);
    }
}

void sse_reader_free(sse_reader *r)
{
    bytebuf_free(&r->head);
    bytebuf_free(&r->acc);
}

void sse_write(const sse_reader *r, bytebuf *out, const unsigned char *text, size_t len)
{
    if (len == 0)
        return;
    if (r->chunked) {
        char hdr[24];
        int k = snprintf(hdr, sizeof hdr, "%zx\r\n", len);
        bytebuf_add(out, hdr, (size_t)k);
        bytebuf_add(out, text, len);
        bytebuf_add(out, "\r\n", 2);
    } else {
        bytebuf_add(out, text, len);
    }
}
