/* test_track.c — the framing follower finds message boundaries in WS and
 * SSE streams, and an SSE reader cloned there continues exactly like one
 * that read from the start. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "track.h"
#include "ws_testdata.h"

/* Records every offset where proto is at a boundary. */
static int boundaries(track *t, const unsigned char *d, size_t n, int proto, size_t *out, int max)
{
    int nb = 0;
    size_t off = 0;
    while (off < n) {
        int at;
        size_t k = track_feed(t, d + off, n - off, proto, &at);
        off += k;
        if (at) {
            if (nb < max && (nb == 0 || out[nb - 1] != off))
                out[nb++] = off;
            if (off < n) { /* step past it */
                track_feed(t, d + off, 1, 0, &at);
                off++;
                if (track_at(t, proto) && nb < max)
                    out[nb++] = off;
            }
        }
    }
    return nb;
}

static void test_track_ws_boundaries(void **state)
{
    (void)state;
    unsigned char buf[2048];
    size_t h = strlen(WST_101);
    memcpy(buf, WST_101, h);
    size_t n = h + wst_stream(buf + h, 0);
    track t;
    track_init(&t, 0);
    size_t b[32];
    int nb = boundaries(&t, buf, n, TRACK_WS, b, 32);
    /* start, after the head, after hello, after the binary, after the
     * fragmented message (not inside it, ping or not), after pong, after last */
    assert_int_equal(nb, 7);
    assert_int_equal(b[0], 0);
    assert_int_equal(b[1], h);
    assert_int_equal(b[2], h + 7);
    assert_int_equal(b[6], n);
    track_free(&t);
    /* a plain TCP stream is never WebSocket */
    track_init(&t, 1);
    unsigned char junk[70000];
    memset(junk, 'x', sizeof junk);
    int at;
    track_feed(&t, junk, sizeof junk, 0, &at);
    assert_false(track_alive(&t, TRACK_WS));
    assert_false(track_alive(&t, TRACK_SSE));
    track_free(&t);
}

typedef struct blocks {
    bytebuf log;
} blocks;

static void b_raw(void *arg, const unsigned char *d, size_t n)
{
    (void)arg;
    (void)d;
    (void)n;
}

static void b_block(void *arg, const sse_block *b)
{
    blocks *o = arg;
    bytebuf_add(&o->log, b->text, b->len);
    bytebuf_add(&o->log, "|", 1);
}

static void b_end(void *arg)
{
    bytebuf_add(&((blocks *)arg)->log, "E", 1);
}

static const sse_callbacks CBS = {b_raw, b_block, b_end};

static void test_track_sse_clone_continues(void **state)
{
    (void)state;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "9\r\ndata: 1\n\n\r\n"
                     "a\r\ndata: 22\n\n\r\n"
                     "6\r\ndata: \r\n"
                     "5\r\n333\n\n\r\n"
                     "6\r\n: hb\n\n\r\n"
                     "0\r\n\r\n";
    size_t n = strlen(in);
    track t;
    track_init(&t, 1);
    size_t b[32];
    int nb = boundaries(&t, (const unsigned char *)in, n, TRACK_SSE, b, 32);
    track_free(&t);
    /* start, after the head, after chunks 1 and 2, not after chunk 3 (the
     * event is split), after 4 and 5; then the next response may start */
    assert_true(nb >= 6);
    for (int i = 1; i < nb; i++) {
        size_t at = b[i];
        if (at >= n)
            continue;
        /* follow to `at`, clone there, read the rest with the clone */
        track_init(&t, 1);
        int hit;
        size_t k = track_feed(&t, (const unsigned char *)in, at, 0, &hit);
        assert_int_equal(k, at);
        assert_true(track_at(&t, TRACK_SSE));
        blocks c = {0}, full = {0};
        sse_reader r;
        sse_reader_clone(&r, &t.sr, &CBS, &c);
        sse_reader_feed(&r, (const unsigned char *)in + at, n - at);
        sse_reader_free(&r);
        track_free(&t);
        /* a reader from the start, keeping only the blocks after `at` */
        sse_reader f;
        sse_reader_init(&f, &CBS, &full);
        sse_reader_feed(&f, (const unsigned char *)in, at);
        full.log.len = 0;
        sse_reader_feed(&f, (const unsigned char *)in + at, n - at);
        sse_reader_free(&f);
        bytebuf_add(&c.log, "", 1);
        bytebuf_add(&full.log, "", 1);
        assert_string_equal((char *)c.log.p, (char *)full.log.p);
        bytebuf_free(&c.log);
        bytebuf_free(&full.log);
    }
}

/* track_feed_until stops right after the message that reaches the count,
 * at whatever split the input comes in, and counts only whole messages:
 * WebSocket data messages (not control frames), SSE events (not heartbeat
 * comments). */
static void test_track_counts_messages_at_every_split(void **state)
{
    (void)state;
    unsigned char ws[2048];
    size_t h = strlen(WST_101);
    memcpy(ws, WST_101, h);
    size_t wn = h + wst_stream(ws + h, 0);
    const char *sse = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "9\r\ndata: 1\n\n\r\n"
                      "6\r\n: hb\n\n\r\n"
                      "13\r\nid: 2\r\ndata: 22\r\n\r\n\r\n"
                      "6\r\ndata: \r\n"
                      "5\r\n333\n\n\r\n"
                      "0\r\n\r\n";
    struct {
        const unsigned char *in;
        size_t n;
        int sse;
        uint64_t total;
        size_t stop_at[4]; /* where the 1st, 2nd, 3rd message ends */
    } cases[] = {
        /* hello, 130-byte binary, fragmented (ping between) then a last one */
        {ws, wn, 0, 4, {h + 7, h + 7 + 138, 0, 0}},
        {(const unsigned char *)sse, strlen(sse), 1, 3, {0, 0, 0, 0}},
    };
    /* the SSE event ends: just after each "\n\n" / "\r\n\r\n" of an event */
    const char *e1 = strstr(sse, "data: 1\n\n") + 9;
    const char *e2 = strstr(sse, "data: 22\r\n\r\n") + 12;
    const char *e3 = strstr(sse, "333\n\n") + 5;
    cases[1].stop_at[0] = (size_t)(e1 - sse);
    cases[1].stop_at[1] = (size_t)(e2 - sse);
    cases[1].stop_at[2] = (size_t)(e3 - sse);
    for (int c = 0; c < 2; c++) {
        for (uint64_t want = 1; want <= 2 + (uint64_t)c; want++) {
            for (size_t cut = 0; cut <= cases[c].n; cut++) {
                track t;
                track_init(&t, cases[c].sse);
                const unsigned char *d = cases[c].in;
                size_t off = 0, stopped = 0;
                while (off < cases[c].n) {
                    size_t end = off < cut ? cut : cases[c].n; /* two reads, split at cut */
                    int at;
                    size_t k = track_feed_until(&t, d + off, end - off, 0, want, &at);
                    off += k;
                    if (at == 2) {
                        assert_int_equal(track_messages(&t), want);
                        stopped = off;
                    }
                }
                assert_int_equal(stopped, cases[c].stop_at[want - 1]);
                assert_int_equal(track_messages(&t), cases[c].total);
                track_free(&t);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_track_counts_messages_at_every_split),
        cmocka_unit_test(test_track_ws_boundaries),
        cmocka_unit_test(test_track_sse_clone_continues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
