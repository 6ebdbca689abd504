/* fuzz_sse_stream.c — libFuzzer target for the proxy's reader of a server's
 * SSE response (fault-injector/sse_stream.h: HTTP head via http-parser, then
 * de-chunked event blocks): never a crash or over-read, and the same
 * pass-through bytes, blocks and body ends however the stream is cut into
 * reads, as its contract says. First input byte picks the cut size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "splitlog.h"
#include "sse_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static splitlog A, B;

static void on_raw(void *arg, const unsigned char *d, size_t n)
{
    splitlog_put(arg, 'r', d, n, 1);
}

static void on_block(void *arg, const sse_block *b)
{
    unsigned char meta[2] = { (unsigned char)b->comment_only, (unsigned char)b->complete };
    splitlog_put(arg, 'b', meta, sizeof meta, 0);
    splitlog_put(arg, 't', b->text, b->len, 0);
}

static void on_end(void *arg)
{
    splitlog_put(arg, 'e', "", 0, 0);
}

static void run(const unsigned char *d, size_t n, size_t cut, splitlog *l)
{
    static const sse_callbacks cb = { on_raw, on_block, on_end };
    splitlog_reset(l);
    sse_reader r;
    sse_reader_init(&r, &cb, l);
    r.max_block_bytes = 1 << 14;
    size_t off = 0;
    while (off < n) {
        size_t piece = cut ? (n - off < cut ? n - off : cut) : n - off;
        unsigned char *p = splitlog_exact(d + off, piece);
        sse_reader_feed(&r, p, piece);
        free(p);
        off += piece;
    }
    sse_reader_eof(&r);
    sse_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cut = 1 + data[0] % 64;
    run(data + 1, size - 1, 0, &A);
    run(data + 1, size - 1, cut, &B);
    if (!splitlog_same(&A, &B))
        abort();
    return 0;
}
