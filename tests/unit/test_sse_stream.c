/* test_sse_stream.c — the SSE response reader under hostile chunking (every
 * split point, byte by byte, guarded buffers): chunked and close-delimited
 * bodies, all three line ends, comments, keep-alive, garbage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sse_stream.h"

typedef struct out {
    bytebuf log;  /* R<raw bytes>| B<c><text>| E| in order */
} out;

static void cb_raw(void *arg, const unsigned char *d, size_t n)
{
    out *o = arg;
    /* merge adjacent raw pieces so the split points do not show */
    if (o->log.len >= 1 && o->log.p[o->log.len - 1] == '|' && o->log.len >= 2 &&
        o->log.p[o->log.len - 2] == '\x01') {
        o->log.len -= 2;
    } else {
        bytebuf_add(&o->log, "R", 1);
    }
    bytebuf_add(&o->log, d, n);
    bytebuf_add(&o->log, "\x01|", 2);
}

static void cb_block(void *arg, const sse_block *b)
{
    out *o = arg;
    char tag[3] = {'B', b->comment_only ? 'c' : 'e', b->complete ? '+' : '-'};
    bytebuf_add(&o->log, tag, 3);
    bytebuf_add(&o->log, b->text, b->len);
    bytebuf_add(&o->log, "|", 1);
}

static void cb_end(void *arg)
{
    bytebuf_add(&((out *)arg)->log, "E|", 2);
}

static const sse_callbacks CBS = {cb_raw, cb_block, cb_end};

static void run(out *o, const char *in, size_t n, const size_t *cuts, int ncuts, int eof)
{
    sse_reader r;
    sse_reader_init(&r, &CBS, o);
    size_t at = 0;
    for (int i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        size_t k = end - at;
        unsigned char *piece = malloc(k ? k : 1);
        memcpy(piece, in + at, k);
        sse_reader_feed(&r, piece, k);
        free(piece);
        at = end;
    }
    if (eof)
        sse_reader_eof(&r);
    sse_reader_free(&r);
}

static void check_all_splits(const char *in, size_t n, int eof, const char *expect_contains)
{
    out whole = {0};
    run(&whole, in, n, NULL, 0, eof);
    bytebuf_add(&whole.log, "", 1);
    if (expect_contains)
        assert_non_null(strstr((char *)whole.log.p, expect_contains));
    for (size_t a = 0; a <= n; a++) {
        out o = {0};
        size_t cuts[1] = {a};
        run(&o, in, n, cuts, 1, eof);
        bytebuf_add(&o.log, "", 1);
        assert_string_equal((char *)o.log.p, (char *)whole.log.p);
        bytebuf_free(&o.log);
    }
    size_t *cuts = malloc(n * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i;
    out o = {0};
    run(&o, in, n, cuts, (int)n, eof);
    bytebuf_add(&o.log, "", 1);
    assert_string_equal((char *)o.log.p, (char *)whole.log.p);
    free(cuts);
    bytebuf_free(&o.log);
    bytebuf_free(&whole.log);
}

#define HEAD_CHUNKED "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"

static void test_sse_stream_chunked_events(void **state)
{
    (void)state;
    /* chunk 1: an event and half of the next; chunk 2: the rest plus a
     * heartbeat; chunk 3: CR-only and CRLF line ends; last chunk. */
    const char *in = HEAD_CHUNKED
        "20\r\nid: 1\ndata: {\"seq\":1}\n\ndata: {\"s\r\n"
        "14\r\neq\":2}\nid: 2\n\n: hb\n\n\r\n"
        "15\r\ndata: x\r\r\ndata: y\r\n\r\n\r\n"
        "0\r\n\r\n";
    out o = {0};
    run(&o, in, strlen(in), NULL, 0, 0);
    bytebuf_add(&o.log, "", 1);
    const char *expect = "R" HEAD_CHUNKED "\x01|"
        "Be+id: 1\ndata: {\"seq\":1}\n\n|"
        "Be+data: {\"seq\":2}\nid: 2\n\n|"
        "Bc+: hb\n\n|"
        "Be+data: x\r\r\n|"
        "Be+data: y\r\n\r\n|"
        "E|";
    assert_string_equal((char *)o.log.p, expect);
    bytebuf_free(&o.log);
    check_all_splits(in, strlen(in), 0, NULL);
}

static void test_sse_stream_close_delimited(void **state)
{
    (void)state;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n"
                     "data: a\n\n:comment\n\ndata: partial";
    check_all_splits(in, strlen(in), 1, "Be-data: partial|");
    check_all_splits(in, strlen(in), 1, "Be+data: a\n\n|Bc+:comment\n\n|");
}

static void test_sse_stream_other_responses_pass_raw(void **state)
{
    (void)state;
    /* a JSON response with a body, then (keep-alive) an event stream */
    const char *in = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n"
                     "{\"a\":12}\n"
                     HEAD_CHUNKED "9\r\ndata: z\n\n\r\n0\r\n\r\n";
    check_all_splits(in, strlen(in), 0, "Be+data: z\n\n|E|");
    out o = {0};
    run(&o, in, strlen(in), NULL, 0, 0);
    bytebuf_add(&o.log, "", 1);
    assert_non_null(strstr((char *)o.log.p, "{\"a\":12}\n"));
    bytebuf_free(&o.log);
    /* SSE with a Content-Length is passed on untouched */
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 9\r\n\r\ndata: q\n\n";
    check_all_splits(cl, strlen(cl), 0, "data: q\n\n\x01|");
    /* a compressed event stream (Content-Encoding: gzip) has no blank lines
     * to cut at: passed on untouched, no block */
    const char *gz = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n4\r\n\x1f\x8b\n\n\r\n0\r\n\r\n";
    memset(&o, 0, sizeof o);
    run(&o, gz, strlen(gz), NULL, 0, 0);
    bytebuf_add(&o.log, "", 1);
    assert_null(strstr((char *)o.log.p, "B"));
    bytebuf_free(&o.log);
    /* identity is no encoding */
    const char *id = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: identity\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n9\r\ndata: z\n\n\r\n0\r\n\r\n";
    check_all_splits(id, strlen(id), 0, "Be+data: z\n\n|E|");
}

static void test_sse_stream_garbage_passes_raw(void **state)
{
    (void)state;
    const char *in = "\x16\x03\x01 not http at all \r\n\r\n\xff\xfe more";
    out o = {0};
    run(&o, in, strlen(in), NULL, 0, 1);
    /* everything comes out as raw bytes, nothing is lost */
    size_t raw = 0;
    for (size_t i = 0; i < o.log.len; i++)
        raw += o.log.p[i] != '\x01' && o.log.p[i] != '|' && o.log.p[i] != 'R';
    assert_true(raw >= strlen(in) - 2);
    bytebuf_free(&o.log);
    check_all_splits(in, strlen(in), 1, NULL);
    const char *bad_chunk = HEAD_CHUNKED "zz\r\ndata: a\n\n";
    check_all_splits(bad_chunk, strlen(bad_chunk), 1, NULL);
}

static void test_sse_stream_websocket_upgrade_passes_through(void **state)
{
    (void)state;
    /* A 101 Switching Protocols: what follows is WebSocket frames, never a
     * next HTTP head. The reader must pass them on at once (it used to hold
     * them as a would-be head, rescanning up to 64 KiB per read). */
    const char *in = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
                     "\x81\x05hello\x81\x02hi";
    size_t n = strlen(in);
    sse_reader r;
    out o = {0};
    sse_reader_init(&r, &CBS, &o);
    sse_reader_feed(&r, (const unsigned char *)in, n);
    assert_int_equal(r.mode, SSE_PASSTHROUGH);
    sse_reader_free(&r);
    bytebuf_add(&o.log, "", 1);
    assert_non_null(strstr((char *)o.log.p, "\x81\x05hello\x81\x02hi\x01|"));
    bytebuf_free(&o.log);
    check_all_splits(in, n, 0, "\x81\x02hi\x01|");
}

static void test_sse_stream_write_chunks(void **state)
{
    (void)state;
    sse_reader r;
    sse_reader_init(&r, &CBS, NULL);
    r.chunked = 1;
    bytebuf b = {0};
    sse_write(&r, &b, (const unsigned char *)"data: 1\n\n", 9);
    assert_int_equal(b.len, 3 + 9 + 2);
    assert_memory_equal(b.p, "9\r\ndata: 1\n\n\r\n", 14);
    r.chunked = 0;
    b.len = 0;
    sse_write(&r, &b, (const unsigned char *)"data: 1\n\n", 9);
    assert_memory_equal(b.p, "data: 1\n\n", 9);
    bytebuf_free(&b);
    sse_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_stream_chunked_events),
        cmocka_unit_test(test_sse_stream_close_delimited),
        cmocka_unit_test(test_sse_stream_other_responses_pass_raw),
        cmocka_unit_test(test_sse_stream_garbage_passes_raw),
        cmocka_unit_test(test_sse_stream_websocket_upgrade_passes_through),
        cmocka_unit_test(test_sse_stream_write_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
