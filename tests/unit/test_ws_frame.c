/* test_ws_frame.c — the RFC 6455 reader under hostile chunking (every split
 * point, byte by byte, guarded buffers), bad framing, and the writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ws_frame.h"
#include "ws_testdata.h"

typedef struct got {
    char log[8192]; /* "op:len:payload-hash;" per unit */
    size_t n;
    int units;
    bytebuf payloads;
    int masked[32];
} got;

static void on_unit(void *arg, const ws_unit *u)
{
    got *g = arg;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < u->payload_len; i++)
        h = (h ^ u->payload[i]) * 1099511628211ULL;
    g->n += (size_t)snprintf(g->log + g->n, sizeof g->log - g->n, "%d:%zu:%llx:%zu;", u->opcode,
                             u->payload_len, (unsigned long long)h, u->raw_len);
    if (g->units < 32)
        g->masked[g->units] = u->masked;
    g->units++;
    bytebuf_add(&g->payloads, u->payload, u->payload_len);
}

/* Feeds d in pieces cut at the given points, each piece in its own exactly
 * sized heap buffer (ASan flags any read past it). */
static int feed_split(got *g, const unsigned char *d, size_t n, const size_t *cuts, int ncuts)
{
    ws_reader r = {0};
    size_t at = 0;
    int rc = 0;
    char err[128];
    for (int i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        size_t k = end - at;
        unsigned char *piece = malloc(k ? k : 1);
        memcpy(piece, d + at, k);
        rc = ws_reader_feed(&r, piece, k, on_unit, g, err, sizeof err);
        free(piece);
        at = end;
    }
    ws_reader_free(&r);
    return rc;
}

static void test_ws_frame_units(void **state)
{
    (void)state;
    unsigned char buf[1024];
    size_t n = wst_stream(buf, 0);
    got g = {0};
    assert_int_equal(feed_split(&g, buf, n, NULL, 0), 0);
    assert_int_equal(g.units, 6); /* hello, bin, ping, fragmented, pong, last */
    assert_memory_equal(g.payloads.p, "hello", 5);
    assert_memory_equal(g.payloads.p + 5 + 130, "hb", 2);
    assert_memory_equal(g.payloads.p + 5 + 130 + 2, "fragmented", 10);
    assert_int_equal(g.masked[1], 1);
    assert_int_equal(g.masked[0], 0);
    bytebuf_free(&g.payloads);
}

static void test_ws_frame_every_split_point(void **state)
{
    (void)state;
    unsigned char buf[1024];
    for (int masked = 0; masked < 2; masked++) {
        size_t n = wst_stream(buf, masked);
        got whole = {0};
        assert_int_equal(feed_split(&whole, buf, n, NULL, 0), 0);
        for (size_t a = 0; a <= n; a++) {
            got g = {0};
            size_t cuts[1] = {a};
            assert_int_equal(feed_split(&g, buf, n, cuts, 1), 0);
            assert_string_equal(g.log, whole.log);
            bytebuf_free(&g.payloads);
        }
        /* three pieces, a sample of cut pairs */
        for (size_t a = 0; a <= n; a += 7)
            for (size_t b = a; b <= n; b += 5) {
                got g = {0};
                size_t cuts[2] = {a, b};
                assert_int_equal(feed_split(&g, buf, n, cuts, 2), 0);
                assert_string_equal(g.log, whole.log);
                bytebuf_free(&g.payloads);
            }
        /* byte by byte */
        size_t *cuts = malloc(n * sizeof *cuts);
        for (size_t i = 0; i < n; i++)
            cuts[i] = i;
        got g = {0};
        assert_int_equal(feed_split(&g, buf, n, cuts, (int)n), 0);
        assert_string_equal(g.log, whole.log);
        free(cuts);
        bytebuf_free(&g.payloads);
        bytebuf_free(&whole.payloads);
    }
}

static void test_ws_frame_long_64bit_length(void **state)
{
    (void)state;
    size_t big = 70000;
    unsigned char *payload = malloc(big), *buf = malloc(big + 32);
    for (size_t i = 0; i < big; i++)
        payload[i] = (unsigned char)i;
    size_t n = 0;
    static const unsigned char key[4] = {9, 8, 7, 6};
    wst_frame(buf, &n, 1, 2, payload, big, key);
    size_t cuts[3] = {1, 9, 5000};
    got g = {0};
    assert_int_equal(feed_split(&g, buf, n, cuts, 3), 0);
    assert_int_equal(g.units, 1);
    assert_int_equal(g.payloads.len, big);
    assert_memory_equal(g.payloads.p, payload, big);
    bytebuf_free(&g.payloads);
    free(payload);
    free(buf);
}

static void test_ws_frame_bad_framing_hands_bytes_back(void **state)
{
    (void)state;
    static const unsigned char cases[][4] = {
        {0x83, 0x00, 'x', 'y'}, /* reserved opcode 3 */
        {0x80, 0x01, 'x', 'y'}, /* continuation without a message */
        {0x09, 0x00, 'x', 'y'}, /* fragmented ping */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned char buf[64];
        size_t n = 0;
        wst_frame(buf, &n, 1, 1, "ok", 2, NULL);
        memcpy(buf + n, cases[c], 4);
        n += 4;
        ws_reader r = {0};
        got g = {0};
        char err[128];
        assert_int_equal(ws_reader_feed(&r, buf, n, on_unit, &g, err, sizeof err), -1);
        assert_int_equal(g.units, 1); /* "ok" came out before the bad frame */
        bytebuf rest = {0};
        ws_reader_pending(&r, &rest);
        assert_int_equal(rest.len, 4);
        assert_memory_equal(rest.p, cases[c], 4);
        bytebuf_free(&rest);
        ws_reader_free(&r);
        bytebuf_free(&g.payloads);
    }
    /* a message over the limit */
    unsigned char buf[300];
    size_t n = 0;
    unsigned char pl[200] = {0};
    wst_frame(buf, &n, 1, 2, pl, sizeof pl, NULL);
    ws_reader r = {.max_message_bytes = 100};
    got g = {0};
    char err[128];
    assert_int_equal(ws_reader_feed(&r, buf, n, on_unit, &g, err, sizeof err), -1);
    bytebuf rest = {0};
    ws_reader_pending(&r, &rest);
    assert_int_equal(rest.len, n);
    assert_memory_equal(rest.p, buf, n);
    bytebuf_free(&rest);
    ws_reader_free(&r);
}

static void test_ws_frame_writer_round_trip(void **state)
{
    (void)state;
    prng rng;
    prng_seed(&rng, 5);
    unsigned char pl[1000];
    for (size_t i = 0; i < sizeof pl; i++)
        pl[i] = (unsigned char)(i * 13);
    for (int mask = 0; mask < 2; mask++)
        for (size_t frag = 0; frag <= 300; frag += 100) {
            bytebuf out = {0};
            assert_int_equal(ws_write_message(&out, WS_OP_BINARY, 4, mask, pl, sizeof pl, frag, &rng), 0);
            assert_int_equal(ws_write_close(&out, mask, 1012, "restart", &rng), 0);
            ws_reader r = {0};
            got g = {0};
            char err[128];
            assert_int_equal(ws_reader_feed(&r, out.p, out.len, on_unit, &g, err, sizeof err), 0);
            assert_int_equal(g.units, 2);
            assert_int_equal(g.masked[0], mask);
            assert_memory_equal(g.payloads.p, pl, sizeof pl);
            assert_int_equal(g.payloads.p[sizeof pl], 1012 >> 8);
            assert_int_equal(g.payloads.p[sizeof pl + 1], 1012 & 0xff);
            assert_memory_equal(g.payloads.p + sizeof pl + 2, "restart", 7);
            ws_reader_free(&r);
            bytebuf_free(&g.payloads);
            bytebuf_free(&out);
        }
}

/* An empty message may come with a NULL payload (the fuzzer found UBSan's
 * "zero offset to null pointer" here): it is written as one empty frame. */
static void test_ws_frame_writer_empty_null_payload(void **state)
{
    (void)state;
    prng rng;
    prng_seed(&rng, 6);
    for (int mask = 0; mask < 2; mask++) {
        bytebuf out = {0};
        assert_int_equal(ws_write_message(&out, WS_OP_TEXT, 0, mask, NULL, 0, 16, &rng), 0);
        assert_int_equal(out.len, mask ? 6u : 2u);
        ws_reader r = {0};
        got g = {0};
        char err[128];
        assert_int_equal(ws_reader_feed(&r, out.p, out.len, on_unit, &g, err, sizeof err), 0);
        assert_int_equal(g.units, 1);
        assert_int_equal(g.payloads.len, 0);
        ws_reader_free(&r);
        bytebuf_free(&g.payloads);
        bytebuf_free(&out);
    }
}

static void test_ws_frame_head(void **state)
{
    (void)state;
    const char *h = WST_101 "\x81\x02ok";
    size_t n = strlen(WST_101) + 4;
    for (size_t cut = 0; cut <= n; cut++) {
        ws_head wh = {0};
        size_t k = ws_head_feed(&wh, (const unsigned char *)h, cut);
        if (!wh.done)
            k += ws_head_feed(&wh, (const unsigned char *)h + cut, n - cut);
        else
            assert_true(cut >= strlen(WST_101));
        assert_true(wh.done && wh.is_ws);
        assert_int_equal(k, strlen(WST_101));
        ws_head_free(&wh);
    }
    ws_head wh = {0};
    const char *req = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\n\r\n";
    ws_head_feed(&wh, (const unsigned char *)req, strlen(req));
    assert_true(wh.done && wh.is_ws);
    ws_head_free(&wh);
    ws_head w2 = {0};
    const char *no = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    ws_head_feed(&w2, (const unsigned char *)no, strlen(no));
    assert_true(w2.done && !w2.is_ws);
    ws_head_free(&w2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_frame_units),
        cmocka_unit_test(test_ws_frame_every_split_point),
        cmocka_unit_test(test_ws_frame_long_64bit_length),
        cmocka_unit_test(test_ws_frame_bad_framing_hands_bytes_back),
        cmocka_unit_test(test_ws_frame_writer_round_trip),
        cmocka_unit_test(test_ws_frame_writer_empty_null_payload),
        cmocka_unit_test(test_ws_frame_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
