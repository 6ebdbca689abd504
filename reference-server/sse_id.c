/* sse_id.c — opaque SSE ids: binary positions, checksummed, base64url. */
#include "sse_id.h"

#include <stdio.h>
#include <string.h>

#define SSE_ID_VERSION 1
#define SSE_ID_RAW_MAX (2 + SSE_ID_MAX_CHANNELS * 18 + 4)

uint32_t sse_id_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* base64url is written here rather than with lws_b64_*: lws's decoder maps
 * characters outside the alphabet to zero bits instead of failing, and an id
 * arrives from the network, so it must be rejected exactly. */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int sse_id_encode(const sse_pos *pos, size_t n, char *out, size_t cap)
{
    unsigned char raw[SSE_ID_RAW_MAX];
    size_t r = 0;
    if (n > SSE_ID_MAX_CHANNELS)
        return -1;
    raw[r++] = SSE_ID_VERSION;
    raw[r++] = (unsigned char)n;
    for (size_t i = 0; i < n; i++) {
        put32(raw + r, pos[i].ch_hash);
        put32(raw + r + 4, pos[i].epoch_hash);
        r += 8;
        uint64_t v = pos[i].seq;
        do { /* LEB128 varint */
            raw[r++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
    }
    put32(raw + r, sse_id_hash((const char *)raw, r) ^ 0x5e1dc0deu);
    r += 4;

    size_t need = (r * 8 + 5) / 6;
    if (need + 1 > cap)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < r; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        if (i + 1 < r) v |= (uint32_t)raw[i + 1] << 8;
        if (i + 2 < r) v |= raw[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < r) out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < r) out[o++] = b64[v & 63];
    }
    out[o] = '\0';
    return (int)o;
}

int sse_id_decode(const char *s, size_t len, sse_pos *out, size_t max, size_t *n,
                  char *err, size_t errlen)
{
    unsigned char raw[SSE_ID_RAW_MAX];
    size_t r = 0;
    if (len % 4 == 1 || len > (sizeof(raw) * 8 + 5) / 6) {
        snprintf(err, errlen, "bad event id length %zu", len);
        return -1;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val(s[i]);
        if (v < 0) {
            snprintf(err, errlen, "bad character in event id at offset %zu", i);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[r++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* non-canonical trailing bits */
        snprintf(err, errlen, "malformed event id");
        return -1;
    }
    if (r < 2 + 4 || raw[0] != SSE_ID_VERSION) {
        snprintf(err, errlen, "unknown event id version");
        return -1;
    }
    if (get32(raw + r - 4) != (sse_id_hash((const char *)raw, r - 4) ^ 0x5e1dc0deu)) {
        snprintf(err, errlen, "event id checksum mismatch");
        return -1;
    }
    size_t count = raw[1], p = 2, end = r - 4;
    if (count > max || count > SSE_ID_MAX_CHANNELS) {
        snprintf(err, errlen, "event id holds %zu channels, at most %zu allowed", count, max);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (p + 9 > end)
            goto truncated;
        out[i].ch_hash = get32(raw + p);
        out[i].epoch_hash = get32(raw + p + 4);
        p += 8;
        uint64_t v = 0;
        int shift = 0;
        for (;;) {
            if (p >= end || shift > 63)
                goto truncated;
            unsigned char b = raw[p++];
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        out[i].seq = v;
    }
    if (p != end)
        goto truncated;
    *n = count;
    return 0;
truncated:
    snprintf(err, errlen, "truncated or malformed event id");
    return -1;
}

const sse_pos *sse_id_find(const sse_pos *pos, size_t n, uint32_t ch_hash)
{
    for (size_t i = 0; i < n; i++)
        if (pos[i].ch_hash == ch_hash)
            return &pos[i];
    return NULL;
}
