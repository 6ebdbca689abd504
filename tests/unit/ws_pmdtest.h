/* ws_pmdtest.h — a permessage-deflate sender and receiver for the proxy's
 * unit tests, written on zlib directly (not with ws_deflate.c, the code under
 * test): the sender keeps its context across messages, as python-websockets
 * and browsers do, and the receiver keeps its window, as a peer does.
 * Header-only. */
#ifndef RTCHAOS_WS_PMDTEST_H
#define RTCHAOS_WS_PMDTEST_H
#include <stddef.h>
#include <string.h>
#include <zlib.h>

/* Compresses msg with the sender's context z (deflateInit2 raw, -bits) into
 * out; returns the length without the 00 00 ff ff tail. */
static inline size_t pmdt_compress(z_stream *z, const void *msg, size_t n, unsigned char *out, size_t cap)
{
    z->next_in = (unsigned char *)msg;
    z->avail_in = (uInt)n;
    z->next_out = out;
    z->avail_out = (uInt)cap;
    deflate(z, Z_SYNC_FLUSH);
    size_t len = cap - z->avail_out;
    return len >= 4 ? len - 4 : len;
}

/* Decompresses one message with the receiver's window r; returns the
 * length, or -1 when the data does not decode. */
static inline long pmdt_inflate(z_stream *r, const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    unsigned char buf[1 << 16];
    if (n + 4 > sizeof buf)
        return -1;
    memcpy(buf, in, n);
    memcpy(buf + n, "\x00\x00\xff\xff", 4);
    r->next_in = buf;
    r->avail_in = (uInt)(n + 4);
    r->next_out = out;
    r->avail_out = (uInt)cap;
    int rc = inflate(r, Z_SYNC_FLUSH);
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || r->avail_in != 0)
        return -1;
    return (long)(cap - r->avail_out);
}

/* Message i of the compressed test streams: text that repeats what earlier
 * messages said, so a context-keeping compressor refers back into them. */
static inline size_t pmdt_message(int i, char *out, size_t cap)
{
    static const char *const words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"};
    size_t n = (size_t)snprintf(out, cap, "{\"seq\":%d,\"w\":[", i);
    for (int k = 0; k < 12 && n + 16 < cap; k++)
        n += (size_t)snprintf(out + n, cap - n, "\"%s\",", words[(i * 3 + k) % 7]);
    n += (size_t)snprintf(out + n, cap - n, "\"end\"]}");
    return n;
}

#endif
