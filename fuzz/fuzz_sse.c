/* fuzz_sse.c — libFuzzer target for the harness's SSE parser
 * (fleet/sse_parse.h): never crashes or over-reads, and the events it
 * reports do not depend on how the stream was cut into reads (whole, split at
 * a fuzzer-chosen point, byte by byte). The first input byte picks the split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENT 4096
#define LOG_CAP (1 << 16)

typedef struct rec {
    char log[LOG_CAP];
    size_t len;
} rec;

static void put(rec *r, char tag, const char *s, size_t n)
{
    if (r->len + n + 2 > LOG_CAP)
        return;
    r->log[r->len++] = tag;
    memcpy(r->log + r->len, s, n);
    r->len += n;
    r->log[r->len++] = 0;
}

static void on_event(void *ud, const char *ev, size_t ev_len, const char *d, size_t d_len)
{
    put(ud, 'e', ev, ev_len);
    put(ud, 'd', d, d_len);
}
static void on_id(void *ud, const char *id, size_t n)
{
    put(ud, 'i', id, n);
}
static void on_retry(void *ud, uint64_t ms)
{
    put(ud, 'r', (const char *)&ms, sizeof ms);
}
static void on_comment(void *ud)
{
    put(ud, 'c', "", 0);
}

static const sse_callbacks CB = { on_event, on_id, on_retry, on_comment };

/* Feeds body in pieces of the sizes given by cut (0 = all at once); returns
 * the parser's verdict (-1 once any feed failed). Each piece is copied to a
 * buffer of exactly its size so that ASan sees any read past it. */
static int run(const uint8_t *body, size_t n, size_t cut, rec *r)
{
    sse_parser p = { 0 };
    int rc = 0;
    size_t off = 0;
    while (off < n && rc == 0) {
        size_t piece = cut ? (n - off < cut ? n - off : cut) : n;
        char *buf = malloc(piece);
        memcpy(buf, body + off, piece);
        rc = sse_feed(&p, buf, piece, &CB, r, MAX_EVENT);
        free(buf);
        off += piece;
    }
    sse_reset(&p);
    return rc;
}

static rec A, B;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    size_t cut = 1 + data[0] % 64;
    A.len = B.len = 0;
    int ra = run(body, n, 0, &A);
    int rb = run(body, n, cut, &B);
    /* the size limit is about buffered (incomplete) events, which only
     * exist when reads cut an event, so errors may differ; output may not */
    if (ra == 0 && rb == 0 && (A.len != B.len || memcmp(A.log, B.log, A.len) != 0))
        abort();
    if (n <= 512) {
        B.len = 0;
        if (run(body, n, 1, &B) == 0 && ra == 0 && (A.len != B.len || memcmp(A.log, B.log, A.len) != 0))
            abort();
    }
    return 0;
}
