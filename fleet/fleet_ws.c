/* fleet_ws.c — WebSocket client framing over wslay's frame API, with frame contexts pooled per thread. */
#include "fleet_ws.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

struct ws_rx {
    wslay_frame_context_ptr ctx;
    ws_rx *next_free;
    uint64_t pending;   /* bytes handed to ctx that are not yet part of a completed frame */
    uint64_t frame_got; /* payload bytes of the current frame seen so far */
    char *msg;          /* message being assembled across chunks/fragments */
    size_t msg_len, msg_cap;
    int msg_op;         /* opcode of the message being assembled; 0 = none */
    int msg_rsv1;       /* its first frame had RSV1 (permessage-deflate: compressed) */
    uint8_t ctl[125];
    size_t ctl_len;
};

struct ws_pool {
    ws_rx *free_list;
    size_t lent, allocated;
    const uint8_t *feed; /* the bytes the current ws_feed hands to wslay */
    size_t feed_len;
    ws_rx *cur;
    wslay_frame_context_ptr tx; /* used only to encode frames into txbuf */
    uint8_t *txbuf;
    size_t tx_len, tx_cap;
    prng rng;
};

static ssize_t rx_recv(uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    ws_pool *p = ud;
    size_t n = p->feed_len < len ? p->feed_len : len;
    if (n == 0)
        return 0;
    memcpy(buf, p->feed, n);
    p->feed += n;
    p->feed_len -= n;
    p->cur->pending += n;
    return (ssize_t)n;
}

static ssize_t tx_send(const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    ws_pool *p = ud;
    if (p->tx_len + len > p->tx_cap)
        return 0; /* does not fit: the caller reports it */
    memcpy(p->txbuf + p->tx_len, data, len);
    p->tx_len += len;
    return (ssize_t)len;
}

static ssize_t rx_send_unused(const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)data, (void)len, (void)flags, (void)ud;
    return 0;
}

static int genmask(uint8_t *buf, size_t len, void *ud)
{
    ws_pool *p = ud;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)prng_next(&p->rng);
    return 0;
}

ws_pool *ws_pool_new(uint64_t seed)
{
    ws_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    prng_seed(&p->rng, seed);
    struct wslay_frame_callbacks cb = {tx_send, NULL, genmask};
    if (wslay_frame_context_init(&p->tx, &cb, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void ws_pool_free(ws_pool *p)
{
    if (!p)
        return;
    while (p->free_list) {
        ws_rx *r = p->free_list;
        p->free_list = r->next_free;
        wslay_frame_context_free(r->ctx);
        free(r->msg);
        free(r);
    }
    wslay_frame_context_free(p->tx);
    free(p);
}

static ws_rx *rx_get(ws_pool *p)
{
    ws_rx *r = p->free_list;
    if (r) {
        p->free_list = r->next_free;
    } else {
        r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        struct wslay_frame_callbacks cb = {rx_send_unused, rx_recv, genmask};
        if (wslay_frame_context_init(&r->ctx, &cb, p) != 0) {
            free(r);
            return NULL;
        }
        p->allocated++;
    }
    p->lent++;
    return r;
}

static void rx_put(ws_pool *p, ws_rx *r, int reusable)
{
    p->lent--;
    if (!reusable) { /* its context may hold a half-read frame: never lend it again */
        wslay_frame_context_free(r->ctx);
        free(r->msg);
        free(r);
        p->allocated--;
        return;
    }
    if (r->msg_cap > 4096) {
        free(r->msg);
        r->msg = NULL;
        r->msg_cap = 0;
    }
    r->msg_len = 0;
    r->msg_op = 0;
    r->msg_rsv1 = 0;
    r->ctl_len = 0;
    r->pending = r->frame_got = 0;
    r->next_free = p->free_list;
    p->free_list = r;
}

void ws_conn_release(ws_pool *p, ws_conn_rx *c)
{
    if (!c->rx)
        return;
    ws_rx *r = c->rx;
    c->rx = NULL;
    rx_put(p, r, r->pending == 0 && r->frame_got == 0);
}

static int msg_append(ws_rx *r, const uint8_t *d, size_t n, size_t max_msg)
{
    if (r->msg_len + n > max_msg)
        return -1;
    if (n == 0) /* an empty fragment: nothing to copy (msg may still be NULL) */
        return 0;
    if (r->msg_len + n > r->msg_cap) {
        size_t cap = r->msg_cap ? r->msg_cap : 256;
        while (cap < r->msg_len + n)
            cap *= 2;
        char *m = realloc(r->msg, cap);
        if (!m)
            return -1;
        r->msg = m;
        r->msg_cap = cap;
    }
    memcpy(r->msg + r->msg_len, d, n);
    r->msg_len += n;
    return 0;
}

static uint64_t header_len(uint64_t payload, int masked)
{
    uint64_t h = payload < 126 ? 2 : payload < 65536 ? 4 : 10;
    return h + (masked ? 4 : 0);
}

int ws_feed(ws_pool *p, ws_conn_rx *c, const uint8_t *buf, size_t len, ws_on_msg cb, void *ud,
            size_t max_msg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!c->rx) {
        c->rx = rx_get(p);
        if (!c->rx) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    ws_rx *r = c->rx;
    p->feed = buf;
    p->feed_len = len;
    p->cur = r;
    for (;;) {
        struct wslay_frame_iocb io;
        memset(&io, 0, sizeof io);
        ssize_t n = wslay_frame_recv(r->ctx, &io);
        if (n == WSLAY_ERR_WANT_READ)
            break;
        if (n < 0) {
            snprintf(err, errlen, "websocket protocol error (wslay %zd)", n);
            return -1;
        }
        int ctl = wslay_is_ctrl_frame(io.opcode);
        int first = r->frame_got == 0;
        r->frame_got += io.data_length;
        int frame_done = r->frame_got == io.payload_length;
        if (ctl) {
            memcpy(r->ctl + r->ctl_len, io.data, io.data_length);
            r->ctl_len += io.data_length;
        } else {
            if (first && io.opcode != WSLAY_CONTINUATION_FRAME) {
                if (r->msg_op != 0) {
                    snprintf(err, errlen, "websocket: new message inside a fragmented one");
                    return -1;
                }
                r->msg_op = io.opcode;
                r->msg_rsv1 = wslay_get_rsv1(io.rsv) ? WS_OP_COMPRESSED : 0;
            } else if (first && r->msg_op == 0) {
                snprintf(err, errlen, "websocket: continuation frame without a message");
                return -1;
            }
            if (io.payload_length > max_msg) {
                snprintf(err, errlen, "websocket: message of %llu bytes over the %zu limit",
                         (unsigned long long)io.payload_length, max_msg);
                return -1;
            }
        }
        if (frame_done) {
            r->pending -= header_len(io.payload_length, io.mask) + io.payload_length;
            r->frame_got = 0;
        }
        if (ctl) {
            if (frame_done) {
                size_t cl = r->ctl_len;
                r->ctl_len = 0;
                if (cb(ud, io.opcode, (const char *)r->ctl, cl) < 0)
                    return -1;
            }
            continue;
        }
        if (frame_done && io.fin && first && r->msg_len == 0 &&
            io.opcode != WSLAY_CONTINUATION_FRAME) {
            /* the whole message in one piece: hand it out without copying
             * (not the last fragment of a message whose earlier fragments
             * were empty: that one carries the first fragment's opcode) */
            int z = r->msg_rsv1;
            r->msg_op = 0;
            r->msg_rsv1 = 0;
            if (cb(ud, io.opcode | z, (const char *)io.data, io.data_length) < 0)
                return -1;
            continue;
        }
        if (msg_append(r, io.data, io.data_length, max_msg) < 0) {
            snprintf(err, errlen, "websocket: message over the %zu byte limit", max_msg);
            return -1;
        }
        if (frame_done && io.fin) {
            int op = r->msg_op | r->msg_rsv1;
            size_t ml = r->msg_len;
            r->msg_op = 0;
            r->msg_rsv1 = 0;
            r->msg_len = 0;
            if (cb(ud, op, r->msg, ml) < 0)
                return -1;
        }
    }
    if (r->pending == 0 && r->frame_got == 0 && r->msg_op == 0 && r->msg_len == 0) {
        c->rx = NULL;
        rx_put(p, r, 1);
    }
    return 0;
}

static int encode(ws_pool *p, int mask, int opcode, const void *data, size_t len, uint8_t *out,
                  size_t cap)
{
    p->txbuf = out;
    p->tx_len = 0;
    p->tx_cap = cap;
    struct wslay_frame_iocb io = {1, 0, (uint8_t)opcode, len, (uint8_t)mask, data, len};
    ssize_t r = wslay_frame_send(p->tx, &io);
    if (r < 0 || (size_t)r != len) {
        /* a partial encode leaves tx mid-frame: start it afresh */
        wslay_frame_context_free(p->tx);
        struct wslay_frame_callbacks cb = {tx_send, NULL, genmask};
        if (wslay_frame_context_init(&p->tx, &cb, p) != 0)
            abort(); /* a 4 KiB allocation failing here leaves nothing sensible to do */
        return -1;
    }
    return (int)p->tx_len;
}

int ws_frame_client(ws_pool *p, int opcode, const void *data, size_t len, uint8_t *out, size_t cap)
{
    return encode(p, 1, opcode, data, len, out, cap);
}

int ws_frame_server(int opcode, const void *data, size_t len, uint8_t *out, size_t cap)
{
    size_t h = len < 126 ? 2 : len < 65536 ? 4 : 10;
    if (h + len > cap)
        return -1;
    out[0] = (uint8_t)(0x80 | (opcode & 0xf));
    if (len < 126) {
        out[1] = (uint8_t)len;
    } else if (len < 65536) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
    } else {
        out[1] = 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(out + h, data, len);
    return (int)(h + len);
}

void ws_make_key(ws_pool *p, char key[25])
{
    uint8_t raw[16];
    for (int i = 0; i < 16; i++)
        raw[i] = (uint8_t)prng_next(&p->rng);
    EVP_EncodeBlock((unsigned char *)key, raw, 16);
}

void ws_accept_for(const char *key, char accept[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s%s", key, guid);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, (size_t)n, sha);
    EVP_EncodeBlock((unsigned char *)accept, sha, SHA_DIGEST_LENGTH);
}

size_t ws_pool_lent(const ws_pool *p)
{
    return p->lent;
}

size_t ws_pool_allocated(const ws_pool *p)
{
    return p->allocated;
}
