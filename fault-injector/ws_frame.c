/* ws_frame.c — incremental RFC 6455 frame reader and a frame writer.
 *
 * The reader is written here rather than with wslay_frame_recv because the
 * proxy must keep each unit's original bytes (to forward untouched messages
 * exactly, masks included), must hand back what it consumed when the stream
 * turns out not to be WebSocket, and must take input in whatever pieces the
 * socket gives without a copy into a callback-fed 4 KiB buffer. The writer
 * does fit wslay's frame API (header forms, masking), so it uses it. */
#include "ws_frame.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <wslay/wslay.h>

#define WS_DEFAULT_MAX (16u << 20)

static size_t hdr_need(const ws_reader *r)
{
    if (r->hdr_len < 2)
        return 2;
    size_t n = 2;
    uint8_t l7 = r->hdr[1] & 0x7f;
    if (l7 == 126)
        n += 2;
    else if (l7 == 127)
        n += 8;
    if (r->hdr[1] & 0x80)
        n += 4;
    return n;
}

static int fail(ws_reader *r, char *err, size_t errlen, const char *msg)
{
    r->failed = 1;
    snprintf(err, errlen, "%s", msg);
    return -1;
}

static void deliver(ws_reader *r, int control, ws_unit_cb cb, void *arg)
{
    if (!control)
        r->messages++;
    if (r->track && !control && r->on_payload && (r->m_rsv & 4))
        r->on_payload(r->payload_arg, NULL, 0, 1);
    if (r->track) {
        if (!control)
            r->in_msg = 0;
        return;
    }
    ws_unit u = {0};
    u.control = control;
    if (control) {
        u.opcode = r->f_op;
        u.rsv = r->f_rsv;
        u.masked = r->f_masked;
        u.payload = r->c_payload.p;
        u.payload_len = r->c_payload.len;
        u.raw = r->c_raw.p;
        u.raw_len = r->c_raw.len;
    } else {
        u.opcode = r->m_op;
        u.rsv = r->m_rsv;
        u.masked = r->m_masked;
        u.payload = r->m_payload.p;
        u.payload_len = r->m_payload.len;
        u.raw = r->m_raw.p;
        u.raw_len = r->m_raw.len;
    }
    cb(arg, &u);
    if (control) {
        bytebuf_reset(&r->c_payload);
        bytebuf_reset(&r->c_raw);
    } else {
        bytebuf_reset(&r->m_payload);
        bytebuf_reset(&r->m_raw);
        r->in_msg = 0;
    }
}

static int is_control(uint8_t op)
{
    return op >= 8;
}

/* The header is complete: validate it and open the frame. */
static int open_frame(ws_reader *r, char *err, size_t errlen)
{
    size_t max = r->max_message_bytes ? r->max_message_bytes : WS_DEFAULT_MAX;
    const unsigned char *h = r->hdr;
    r->f_fin = h[0] >> 7;
    r->f_rsv = (h[0] >> 4) & 7;
    r->f_op = h[0] & 0x0f;
    r->f_masked = h[1] >> 7;
    uint64_t len = h[1] & 0x7f;
    size_t off = 2;
    if (len == 126) {
        len = ((uint64_t)h[2] << 8) | h[3];
        off = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | h[2 + i];
        off = 10;
        if (len >> 63)
            return fail(r, err, errlen, "websocket: 64-bit length with the top bit set");
    }
    if (r->f_masked)
        memcpy(r->f_mask, h + off, 4);
    uint8_t op = r->f_op;
    if (!(op <= 2 || (op >= 8 && op <= 10)))
        return fail(r, err, errlen, "websocket: reserved opcode");
    if (is_control(op)) {
        if (!r->f_fin || len > 125)
            return fail(r, err, errlen, "websocket: fragmented or long control frame");
        bytebuf_reset(&r->c_payload);
        bytebuf_reset(&r->c_raw);
        if (!r->track && bytebuf_add(&r->c_raw, r->hdr, r->hdr_len) < 0)
            return fail(r, err, errlen, "out of memory");
    } else {
        if (op == WS_OP_CONT && !r->in_msg)
            return fail(r, err, errlen, "websocket: continuation without a message");
        if (op != WS_OP_CONT && r->in_msg)
            return fail(r, err, errlen, "websocket: new message inside a fragmented one");
        if (op != WS_OP_CONT) {
            r->in_msg = 1;
            r->m_op = op;
            r->m_rsv = r->f_rsv;
            r->m_masked = r->f_masked;
        }
        if (len > max || r->m_payload.len + len > max)
            return fail(r, err, errlen, "websocket: message larger than the limit");
        if (!r->track && bytebuf_add(&r->m_raw, r->hdr, r->hdr_len) < 0)
            return fail(r, err, errlen, "out of memory");
    }
    r->remaining = len;
    r->f_pos = 0;
    r->in_frame = 1;
    r->hdr_len = 0;
    return 0;
}

static void close_frame(ws_reader *r, ws_unit_cb cb, void *arg)
{
    r->in_frame = 0;
    if (is_control(r->f_op))
        deliver(r, 1, cb, arg);
    else if (r->f_fin)
        deliver(r, 0, cb, arg);
}

/* Track mode: hands k payload bytes of the current frame, unmasked, to
 * on_payload (through a small stack buffer: nothing is kept). */
static void track_payload(ws_reader *r, const unsigned char *d, size_t k)
{
    unsigned char buf[4096];
    while (k > 0) {
        size_t m = k < sizeof buf ? k : sizeof buf;
        if (r->f_masked) {
            for (size_t i = 0; i < m; i++)
                buf[i] = d[i] ^ r->f_mask[(r->f_pos + i) & 3];
            r->on_payload(r->payload_arg, buf, m, 0);
        } else {
            r->on_payload(r->payload_arg, d, m, 0);
        }
        r->f_pos += m;
        d += m;
        k -= m;
    }
}

int ws_reader_feed(ws_reader *r, const unsigned char *d, size_t n, ws_unit_cb cb, void *arg,
                   char *err, size_t errlen)
{
    if (r->failed)
        return fail(r, err, errlen, "websocket: reader already failed");
    while (n > 0) {
        if (!r->in_frame) {
            size_t need = hdr_need(r);
            size_t k = need - r->hdr_len < n ? need - r->hdr_len : n;
            memcpy(r->hdr + r->hdr_len, d, k);
            r->hdr_len += k;
            d += k;
            n -= k;
            if (r->hdr_len < hdr_need(r)) /* the second byte may make it longer */
                continue;
            if (open_frame(r, err, errlen) < 0) {
                bytebuf_add(&r->tail, d, n); /* handed back by ws_reader_pending */
                return -1;
            }
            if (r->remaining == 0)
                close_frame(r, cb, arg);
            continue;
        }
        size_t k = r->remaining < n ? (size_t)r->remaining : n;
        if (r->track) {
            if (r->on_payload && !is_control(r->f_op) && (r->m_rsv & 4))
                track_payload(r, d, k);
            r->remaining -= k;
            d += k;
            n -= k;
            if (r->remaining == 0)
                close_frame(r, cb, arg);
            continue;
        }
        int ctl = is_control(r->f_op);
        bytebuf *raw = ctl ? &r->c_raw : &r->m_raw;
        bytebuf *pl = ctl ? &r->c_payload : &r->m_payload;
        size_t at = pl->len;
        if (bytebuf_add(raw, d, k) < 0 || bytebuf_add(pl, d, k) < 0) {
            bytebuf_add(&r->tail, d, n);
            return fail(r, err, errlen, "out of memory");
        }
        if (r->f_masked)
            for (size_t i = 0; i < k; i++)
                pl->p[at + i] ^= r->f_mask[(r->f_pos + i) & 3];
        r->f_pos += k;
        r->remaining -= k;
        d += k;
        n -= k;
        if (r->remaining == 0)
            close_frame(r, cb, arg);
    }
    return 0;
}

int ws_reader_at_boundary(const ws_reader *r)
{
    return !r->failed && !r->in_frame && r->hdr_len == 0 && !r->in_msg;
}

size_t ws_reader_quiet_len(const ws_reader *r)
{
    if (r->in_frame)
        return r->remaining > 0 && r->remaining < SIZE_MAX ? (size_t)r->remaining : 1;
    size_t need = hdr_need(r);
    return need > r->hdr_len ? need - r->hdr_len : 1;
}

#define WS_HEAD_MAX (16 * 1024)

size_t ws_head_feed(ws_head *h, const unsigned char *d, size_t n)
{
    if (h->done)
        return 0;
    size_t before = h->buf.len;
    size_t take = n;
    /* Look for the blank line across the old and new bytes. */
    size_t start = before >= 3 ? before - 3 : 0;
    bytebuf_add(&h->buf, d, n);
    size_t end = 0;
    for (size_t i = start; i + 1 < h->buf.len; i++) {
        if (h->buf.p[i] == '\n' && h->buf.p[i + 1] == '\n') {
            end = i + 2;
            break;
        }
        if (i + 3 < h->buf.len && memcmp(h->buf.p + i, "\r\n\r\n", 4) == 0) {
            end = i + 4;
            break;
        }
    }
    if (!end) {
        if (h->buf.len > WS_HEAD_MAX) {
            h->done = 1;
            h->is_ws = 0;
        }
        return take;
    }
    h->done = 1;
    take = end - before;
    h->buf.len = end;
    const char *p = (const char *)h->buf.p;
    if (end >= 12 && strncmp(p, "HTTP/1.", 7) == 0)
        h->is_ws = strncmp(p + 8, " 101", 4) == 0;
    else {
        h->is_ws = 0;
        for (size_t i = 0; i + 9 <= end; i++)
            if (strncasecmp(p + i, "websocket", 9) == 0) {
                h->is_ws = 1;
                break;
            }
    }
    return take;
}

void ws_head_free(ws_head *h)
{
    bytebuf_free(&h->buf);
}

void ws_reader_pending(const ws_reader *r, bytebuf *out)
{
    bytebuf_add(out, r->m_raw.p, r->m_raw.len);
    if (r->in_frame && is_control(r->f_op))
        bytebuf_add(out, r->c_raw.p, r->c_raw.len);
    bytebuf_add(out, r->hdr, r->hdr_len); /* a partial (or refused) header */
    bytebuf_add(out, r->tail.p, r->tail.len);
}

void ws_reader_free(ws_reader *r)
{
    bytebuf_free(&r->m_payload);
    bytebuf_free(&r->m_raw);
    bytebuf_free(&r->c_payload);
    bytebuf_free(&r->c_raw);
    bytebuf_free(&r->tail);
}

/* ---- writer (wslay frame API) ----------------------------------------------- */

typedef struct wctx {
    bytebuf *out;
    prng *rng;
} wctx;

static ssize_t w_send(const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    wctx *w = ud;
    return bytebuf_add(w->out, data, len) < 0 ? -1 : (ssize_t)len;
}

static ssize_t w_recv(uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)buf;
    (void)len;
    (void)flags;
    (void)ud;
    return -1;
}

static int w_genmask(uint8_t *buf, size_t len, void *ud)
{
    wctx *w = ud;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)prng_next(w->rng);
    return 0;
}

static int send_frame(wslay_frame_context_ptr ctx, int fin, uint8_t rsv, uint8_t op, int mask,
                      const unsigned char *p, size_t len)
{
    struct wslay_frame_iocb io = {0};
    io.fin = (uint8_t)fin;
    io.rsv = rsv;
    io.opcode = op;
    io.mask = (uint8_t)mask;
    io.payload_length = len;
    size_t off = 0;
    do {
        io.data = p ? p + off : p; /* an empty payload may come as NULL */
        io.data_length = len - off;
        ssize_t r = wslay_frame_send(ctx, &io);
        if (r < 0 || (r == 0 && len > off))
            return -1;
        off += (size_t)r;
    } while (off < len);
    return 0;
}

int ws_write_message(bytebuf *out, uint8_t opcode, uint8_t rsv, int mask, const unsigned char *payload,
                     size_t len, size_t fragment_bytes, prng *rng)
{
    wctx w = {out, rng};
    struct wslay_frame_callbacks cbs = {w_send, w_recv, w_genmask};
    wslay_frame_context_ptr ctx;
    if (wslay_frame_context_init(&ctx, &cbs, &w) != 0)
        return -1;
    int rc = 0;
    if (fragment_bytes == 0 || len <= fragment_bytes || is_control(opcode)) {
        rc = send_frame(ctx, 1, rsv, opcode, mask, payload, len);
    } else {
        for (size_t off = 0; off < len && rc == 0; off += fragment_bytes) {
            size_t k = len - off < fragment_bytes ? len - off : fragment_bytes;
            /* RSV1 (compression) goes on the first frame only. */
            rc = send_frame(ctx, off + k == len, off == 0 ? rsv : 0, off == 0 ? opcode : WS_OP_CONT, mask,
                            payload + off, k);
        }
    }
    wslay_frame_context_free(ctx);
    return rc;
}

int ws_write_close(bytebuf *out, int mask, unsigned code, const char *reason, prng *rng)
{
    unsigned char p[125];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > 123)
        rl = 123;
    p[0] = (unsigned char)(code >> 8);
    p[1] = (unsigned char)code;
    if (rl)
        memcpy(p + 2, reason, rl);
    return ws_write_message(out, WS_OP_CLOSE, 0, mask, p, 2 + rl, 0, rng);
}
