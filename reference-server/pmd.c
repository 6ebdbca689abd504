/* pmd.c — the server's permessage-deflate compressor (see pmd.h), on zlib. */
#include "pmd.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "server.h"

/* What the client's offer says about the server's side. */
static void offer_params(struct lws *wsi, int *bits, int *reset)
{
    char ext[256];
    *bits = 15;
    *reset = 0;
    if (lws_hdr_copy(wsi, ext, sizeof ext, WSI_TOKEN_EXTENSIONS) <= 0)
        return;
    const char *p = strstr(ext, "permessage-deflate");
    if (!p)
        return;
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char el[256];
    memcpy(el, p, n);
    el[n] = '\0';
    const char *b = strstr(el, "server_max_window_bits");
    if (b && (b = strchr(b, '=')) != NULL) {
        int v = atoi(b + 1 + (b[1] == '"'));
        if (v >= 8 && v <= 15)
            *bits = v;
    }
    if (strstr(el, "server_no_context_takeover"))
        *reset = 1;
}

int pmd_start(session *s, struct lws *wsi)
{
    /* lws has no query for "which extensions are active"; setting an option
     * of an extension succeeds only when it is (the value is lws's default). */
    if (lws_set_extension_option(wsi, "permessage-deflate", "rx_buf_size", "10") != 0)
        return 0;
    int bits, reset;
    offer_params(wsi, &bits, &reset);
    /* zlib's raw deflate cannot use a 256-byte window (8 becomes 9, which a
     * client holding 8 could not follow): such a client gets every message
     * uncompressed (RSV1 clear is always allowed). */
    if (bits < 9)
        return 0;
    z_stream *z = calloc(1, sizeof *z);
    if (!z)
        return -1;
    /* level 1: the fan-out compresses every message once per connection,
     * and most of what level 9 would find, level 1 finds in JSON */
    if (deflateInit2(z, 1, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return -1;
    }
    s->pmd = z;
    s->pmd_reset = (unsigned char)reset;
    return 0;
}

size_t pmd_frame_bound(size_t len)
{
    /* deflateBound's worst case for stored blocks, plus the sync flush's
     * empty block and the largest frame header */
    return len + (len >> 12) + (len >> 14) + (len >> 25) + 13 + 6 + 10;
}

size_t pmd_frame(session *s, const void *text, size_t len, unsigned char *out)
{
    z_stream *z = s->pmd;
    size_t cap = pmd_frame_bound(len) - 10;
    unsigned char *body = out + 10; /* the header's size is known only after */
    z->next_in = (unsigned char *)text;
    z->avail_in = (uInt)len;
    z->next_out = body;
    z->avail_out = (uInt)cap;
    int rc = deflate(z, Z_SYNC_FLUSH);
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || z->avail_in != 0)
        return 0;
    size_t clen = cap - z->avail_out;
    /* RFC 7692 7.2.1: the 00 00 ff ff of the sync flush is not sent */
    if (clen < 4 || memcmp(body + clen - 4, "\x00\x00\xff\xff", 4) != 0)
        return 0;
    clen -= 4;
    if (s->pmd_reset && deflateReset(z) != Z_OK)
        return 0;
    size_t h = clen < 126 ? 2 : clen < 65536 ? 4 : 10;
    out[0] = 0xc1; /* FIN, RSV1 (compressed), text */
    if (clen < 126) {
        out[1] = (unsigned char)clen;
    } else if (clen < 65536) {
        out[1] = 126;
        out[2] = (unsigned char)(clen >> 8);
        out[3] = (unsigned char)clen;
    } else {
        out[1] = 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (unsigned char)((uint64_t)clen >> (56 - 8 * i));
    }
    memmove(out + h, body, clen);
    return h + clen;
}

void pmd_free(session *s)
{
    if (!s->pmd)
        return;
    deflateEnd(s->pmd);
    free(s->pmd);
    s->pmd = NULL;
}
