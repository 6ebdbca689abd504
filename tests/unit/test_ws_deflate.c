/* test_ws_deflate.c — permessage-deflate: the negotiated parameters read
 * from a 101 response, the inflater following a context-keeping sender (and
 * its copy), and messages compressed standing alone that a peer decodes
 * whatever its window holds — where the sender's own bytes would not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "ws_deflate.h"
#include "ws_pmdtest.h"

static void test_ws_deflate_parses_response(void **state)
{
    (void)state;
    ws_pmd p;
    const char *h1 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; "
                     "client_max_window_bits=12\r\n\r\n";
    ws_pmd_parse_response(&p, h1, strlen(h1));
    assert_int_equal(p.on, 1);
    assert_int_equal(p.window_bits[0], 12);
    assert_int_equal(p.window_bits[1], 12);
    assert_int_equal(p.no_takeover[0] + p.no_takeover[1], 0);
    const char *h2 = "HTTP/1.1 101 OK\nsec-websocket-extensions: x-foo, PERMESSAGE-DEFLATE;"
                     "client_no_context_takeover ; server_max_window_bits=\"10\"\n\n";
    ws_pmd_parse_response(&p, h2, strlen(h2));
    assert_int_equal(p.on, 1);
    assert_int_equal(p.no_takeover[0], 1);
    assert_int_equal(p.no_takeover[1], 0);
    assert_int_equal(p.window_bits[0], 15);
    assert_int_equal(p.window_bits[1], 10);
    const char *h3 = "HTTP/1.1 101 OK\r\nSec-WebSocket-Extensions: x-webkit-deflate-frame\r\n\r\n";
    ws_pmd_parse_response(&p, h3, strlen(h3));
    assert_int_equal(p.on, 0);
    const char *h4 = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n";
    ws_pmd_parse_response(&p, h4, strlen(h4));
    assert_int_equal(p.on, 0);
}

/* The sender compresses m1, m2, m3 keeping its context; the peer never got
 * m2. The sender's m3 then does not decode to m3 at the peer, the proxy's
 * standalone m3 does — at every window size the peer may have. */
static void test_ws_deflate_standalone_survives_a_lost_message(void **state)
{
    (void)state;
    for (int bits = 8; bits <= 15; bits++) {
        z_stream snd = {0}, peer = {0};
        int sbits = bits < 9 ? 9 : bits;
        assert_int_equal(deflateInit2(&snd, 6, Z_DEFLATED, -sbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
        assert_int_equal(inflateInit2(&peer, -sbits), Z_OK);
        char m[3][512];
        size_t ml[3];
        unsigned char c[3][1024], out[4096];
        size_t cl[3];
        for (int i = 0; i < 3; i++) {
            /* m1 differs; m3 is m2 but for its seq: m3 refers back to m2 */
            ml[i] = pmdt_message(i == 0 ? 1 : 5, m[i], sizeof m[i]);
            m[i][9] = (char)('0' + i);
            cl[i] = pmdt_compress(&snd, m[i], ml[i], c[i], sizeof c[i]);
        }
        assert_int_equal(pmdt_inflate(&peer, c[0], cl[0], out, sizeof out), (long)ml[0]);
        assert_memory_equal(out, m[0], ml[0]);
        /* ws_inflater follows the sender (all three, as the proxy does) */
        ws_inflater f = {0}, g;
        bytebuf plain = {0};
        char err[128];
        for (int i = 0; i < 3; i++) {
            bytebuf_reset(&plain);
            assert_int_equal(ws_inflate_feed(&f, c[i], cl[i], &plain, 0, err, sizeof err), 0);
            assert_int_equal(ws_inflate_end(&f, &plain, 0, err, sizeof err), 0);
            assert_int_equal(plain.len, ml[i]);
            assert_memory_equal(plain.p, m[i], ml[i]);
            if (i == 0)
                assert_int_equal(ws_inflater_copy(&g, &f), 0);
        }
        /* the copy made after m1 goes on exactly like the original did */
        bytebuf_reset(&plain);
        assert_int_equal(ws_inflate_feed(&g, c[1], cl[1], &plain, 0, err, sizeof err), 0);
        assert_int_equal(ws_inflate_end(&g, &plain, 0, err, sizeof err), 0);
        assert_memory_equal(plain.p, m[1], ml[1]);
        /* m2 dropped: the sender's m3 is wrong for the peer */
        z_stream peer2;
        assert_int_equal(inflateCopy(&peer2, &peer), Z_OK);
        long got = pmdt_inflate(&peer2, c[2], cl[2], out, sizeof out);
        assert_true(got != (long)ml[2] || memcmp(out, m[2], ml[2]) != 0);
        inflateEnd(&peer2);
        /* the proxy's standalone m3 is right */
        z_stream dz;
        int dz_init = 0;
        bytebuf enc = {0};
        assert_int_equal(ws_deflate_message(&dz, &dz_init, bits, (unsigned char *)m[2], ml[2], &enc), 0);
        assert_int_equal(pmdt_inflate(&peer, enc.p, enc.len, out, sizeof out), (long)ml[2]);
        assert_memory_equal(out, m[2], ml[2]);
        /* and again (the deflater is reused) */
        bytebuf_reset(&enc);
        assert_int_equal(ws_deflate_message(&dz, &dz_init, bits, (unsigned char *)m[1], ml[1], &enc), 0);
        assert_int_equal(pmdt_inflate(&peer, enc.p, enc.len, out, sizeof out), (long)ml[1]);
        assert_memory_equal(out, m[1], ml[1]);
        ws_deflater_free(&dz, &dz_init);
        bytebuf_free(&enc);
        bytebuf_free(&plain);
        ws_inflater_free(&f);
        ws_inflater_free(&g);
        deflateEnd(&snd);
        inflateEnd(&peer);
    }
}

static void test_ws_deflate_rejects_garbage_and_bombs(void **state)
{
    (void)state;
    ws_inflater f = {0};
    char err[128];
    const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x12, 0x34};
    int rc = ws_inflate_feed(&f, junk, sizeof junk, NULL, 0, err, sizeof err);
    if (rc == 0)
        rc = ws_inflate_end(&f, NULL, 0, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_int_equal(f.failed, 1);
    assert_int_equal(ws_inflate_feed(&f, junk, 1, NULL, 0, err, sizeof err), -1);
    ws_inflater_free(&f);
    /* 1 MiB of zeros compresses to about 1 KiB: over a 64 KiB limit it fails */
    static unsigned char zeros[1 << 20];
    z_stream z;
    int zi = 0;
    bytebuf enc = {0};
    assert_int_equal(ws_deflate_message(&z, &zi, 15, zeros, sizeof zeros, &enc), 0);
    assert_true(enc.len < 8192);
    ws_inflater g = {0};
    assert_int_equal(ws_inflate_feed(&g, enc.p, enc.len, NULL, 64 * 1024, err, sizeof err), -1);
    assert_non_null(strstr(err, "limit"));
    ws_inflater_free(&g);
    ws_deflater_free(&z, &zi);
    bytebuf_free(&enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_deflate_parses_response),
        cmocka_unit_test(test_ws_deflate_standalone_survives_a_lost_message),
        cmocka_unit_test(test_ws_deflate_rejects_garbage_and_bombs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
