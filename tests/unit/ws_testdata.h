/* ws_testdata.h — a WebSocket byte stream for the proxy's WS tests:
 * built by hand (not with the code under test) so a framing bug cannot
 * hide by cancelling itself out. Header-only. */
#ifndef RTCHAOS_WS_TESTDATA_H
#define RTCHAOS_WS_TESTDATA_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Appends one frame to buf at *len. mask_key NULL: unmasked. */
static inline void wst_frame(unsigned char *buf, size_t *len, int fin, int op, const void *payload,
                             size_t n, const unsigned char *mask_key)
{
    unsigned char *p = buf + *len;
    size_t i = 0;
    p[i++] = (unsigned char)((fin ? 0x80 : 0) | op);
    unsigned char m = mask_key ? 0x80 : 0;
    if (n < 126) {
        p[i++] = (unsigned char)(m | n);
    } else if (n < 65536) {
        p[i++] = m | 126;
        p[i++] = (unsigned char)(n >> 8);
        p[i++] = (unsigned char)n;
    } else {
        p[i++] = m | 127;
        for (int k = 7; k >= 0; k--)
            p[i++] = (unsigned char)((uint64_t)n >> (8 * k));
    }
    if (mask_key) {
        memcpy(p + i, mask_key, 4);
        i += 4;
    }
    for (size_t k = 0; k < n; k++)
        p[i + k] = ((const unsigned char *)payload)[k] ^ (mask_key ? mask_key[k & 3] : 0);
    *len += i + n;
}

#define WST_101 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"

/* The frames the tests use: text "hello"; masked binary of 130 bytes
 * (16-bit length); text "frag" "ment" "ed" in three frames with a ping
 * between the first two; pong; text "last". Returns the length. Expected
 * data messages: 4 (hello, 130 bytes, fragmented, last). */
static inline size_t wst_stream(unsigned char *buf, int masked)
{
    static const unsigned char key[4] = {0x11, 0x22, 0x33, 0x44};
    const unsigned char *k = masked ? key : NULL;
    unsigned char bin[130];
    for (int i = 0; i < 130; i++)
        bin[i] = (unsigned char)(i * 3 + 1);
    size_t len = 0;
    wst_frame(buf, &len, 1, 1, "hello", 5, k);
    wst_frame(buf, &len, 1, 2, bin, sizeof bin, key);
    wst_frame(buf, &len, 0, 1, "frag", 4, k);
    wst_frame(buf, &len, 1, 9, "hb", 2, k);
    wst_frame(buf, &len, 0, 0, "ment", 4, k);
    wst_frame(buf, &len, 1, 0, "ed", 2, k);
    wst_frame(buf, &len, 1, 10, "", 0, k);
    wst_frame(buf, &len, 1, 1, "last", 4, k);
    return len;
}

#endif
