/* ws_deflate.h — permessage-deflate (RFC 7692) for the WebSocket-aware
 * faults: the parameters a handshake negotiated, an inflater that follows the
 * compressed messages of one direction (its LZ77 window), and compression of
 * one message so that it stands alone.
 *
 * Why the proxy needs this: with context takeover, each compressed message
 * may refer back to the uncompressed text of earlier ones. A fault that
 * drops, repeats, reorders or changes a message leaves the peer's window
 * different from the sender's, and every later message would then decode
 * to garbage (or fail). So a toxic that alters one compressed message
 * decompresses every later one itself (it needs the sender's window, which
 * the link's tracker keeps from the first message, for toxics added later)
 * and compresses it again on its own, standing alone. */
#ifndef RTCHAOS_WS_DEFLATE_H
#define RTCHAOS_WS_DEFLATE_H
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>
#include "bytebuf.h"

/* What the 101 response agreed to, per direction: [0] client → server
 * (client_*), [1] server → client (server_*), as TX_UPSTREAM/TX_DOWNSTREAM. */
typedef struct ws_pmd {
    int on;                /* permessage-deflate was accepted */
    int no_takeover[2];    /* the sender starts every message with an empty window */
    int window_bits[2];    /* the sender's LZ77 window (8..15; 15 when not given) */
} ws_pmd;

/* Reads the Sec-WebSocket-Extensions header(s) of a 101 response head (the
 * whole head, len bytes) into p. p->on stays 0 when permessage-deflate was
 * not accepted, or when the header is not one this reader understands. */
void ws_pmd_parse_response(ws_pmd *p, const char *head, size_t len);

/* Follows the compressed messages of one direction. Zero-initialised is
 * ready; free with ws_inflater_free. */
typedef struct ws_inflater {
    z_stream z;
    int init;
    int failed;            /* bad data or too much output: the window is lost */
    uint64_t msg_out;      /* bytes produced by the current message */
} ws_inflater;

/* Feeds compressed payload bytes of the current message. Their output is
 * appended to out (NULL: only the window is kept). More than max_out bytes
 * from one message (0: no limit), or data that is not DEFLATE, fails the
 * inflater: -1 with err. */
int ws_inflate_feed(ws_inflater *f, const unsigned char *in, size_t n, bytebuf *out, size_t max_out,
                    char *err, size_t errlen);
/* Ends the current message (RFC 7692 7.2.2: the 00 00 ff ff tail the sender
 * removed); with reset, the window starts empty again (the sender has no
 * context takeover). 0 or -1 with err. */
int ws_inflate_end(ws_inflater *f, bytebuf *out, int reset, char *err, size_t errlen);
/* dst (zeroed or freed) takes a copy of src's state and window. 0 or -1. */
int ws_inflater_copy(ws_inflater *dst, const ws_inflater *src);
void ws_inflater_free(ws_inflater *f);

/* Compresses one message into out (appended; the 00 00 ff ff tail removed,
 * as RFC 7692 7.2.1 says) with a fresh stream, so it never refers to an
 * earlier message: any peer decodes it, whatever its window holds. The
 * window is at most 2^window_bits, the peer's limit for this sender (8 is
 * sent as stored blocks: zlib cannot compress with a 256-byte window).
 * *z is the caller's reusable deflater (zero-initialised; window_bits must
 * not change between calls; free with ws_deflater_free). 0 or -1. */
int ws_deflate_message(z_stream *z, int *init, int window_bits, const unsigned char *in, size_t n,
                       bytebuf *out);
void ws_deflater_free(z_stream *z, int *init);

#endif
