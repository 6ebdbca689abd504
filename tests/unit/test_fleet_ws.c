/* test_fleet_ws.c — WebSocket client framing: messages under every split, fragments, control frames, pooled contexts, masking, handshake key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_ws.h"

typedef struct rec {
    char log[1 << 17];
    size_t n;
} rec;

static int on_msg(void *ud, int op, const char *d, size_t n)
{
    rec *r = ud;
    int k = snprintf(r->log + r->n, sizeof r->log - r->n, "%d:", op);
    r->n += (size_t)k;
    assert_true(r->n + n + 2 < sizeof r->log);
    memcpy(r->log + r->n, d, n);
    r->n += n;
    r->log[r->n++] = ';';
    r->log[r->n] = '\0';
    return 0;
}

static size_t frame(uint8_t *out, int fin, int op, const char *d, size_t n)
{
    int k = ws_frame_server(op, d, n, out, 1 << 18);
    assert_true(k > 0);
    if (!fin)
        out[0] &= 0x7f;
    return (size_t)k;
}

static uint8_t *stream;
static size_t stream_len;
static char want[1 << 17];

static void build(void)
{
    stream = malloc(1 << 18);
    size_t n = 0;
    want[0] = '\0';
    n += frame(stream + n, 1, 1, "{\"seq\":1}", 9);
    strcat(want, "1:{\"seq\":1};");
    n += frame(stream + n, 1, 9, "hb", 2); /* ping */
    strcat(want, "9:hb;");
    n += frame(stream + n, 0, 1, "ab", 2); /* fragmented, a pong in between */
    n += frame(stream + n, 1, 10, "", 0);
    n += frame(stream + n, 1, 0, "cd", 2);
    strcat(want, "10:;1:abcd;");
    static char big[300];
    memset(big, 'x', sizeof big);
    n += frame(stream + n, 1, 1, big, sizeof big); /* 16-bit length */
    strcat(want, "1:");
    size_t wl = strlen(want);
    memcpy(want + wl, big, sizeof big);
    want[wl + sizeof big] = 0;
    strcat(want, ";");
    n += frame(stream + n, 1, 1, "", 0);
    strcat(want, "1:;");
    stream_len = n;
}

static void test_fleet_ws_every_split(void **state)
{
    (void)state;
    build();
    ws_pool *p = ws_pool_new(1);
    for (size_t i = 0; i <= stream_len; i++) {
        for (size_t j = i; j <= stream_len; j += 7) {
            rec *r = calloc(1, sizeof *r);
            ws_conn_rx c = {NULL};
            size_t cuts[4] = {0, i, j, stream_len};
            char err[128];
            for (int k = 0; k < 3; k++) {
                size_t len = cuts[k + 1] - cuts[k];
                uint8_t *piece = malloc(len ? len : 1);
                memcpy(piece, stream + cuts[k], len);
                assert_int_equal(ws_feed(p, &c, piece, len, on_msg, r, 1 << 20, err, sizeof err), 0);
                free(piece);
            }
            if (strcmp(r->log, want) != 0)
                fail_msg("split %zu/%zu: got %.80s", i, j, r->log);
            assert_null(c.rx); /* at a frame boundary the context goes back */
            free(r);
        }
    }
    assert_int_equal(ws_pool_lent(p), 0);
    assert_true(ws_pool_allocated(p) <= 2);
    ws_pool_free(p);
    free(stream);
}

static void test_fleet_ws_context_lent_only_mid_frame(void **state)
{
    (void)state;
    ws_pool *p = ws_pool_new(2);
    uint8_t f[64];
    size_t n = frame(f, 1, 1, "hello", 5);
    rec *r = calloc(1, sizeof *r);
    ws_conn_rx c = {NULL};
    char err[128];
    assert_int_equal(ws_feed(p, &c, f, 3, on_msg, r, 1024, err, sizeof err), 0);
    assert_non_null(c.rx);
    assert_int_equal(ws_pool_lent(p), 1);
    assert_int_equal(ws_feed(p, &c, f + 3, n - 3, on_msg, r, 1024, err, sizeof err), 0);
    assert_null(c.rx);
    assert_string_equal(r->log, "1:hello;");
    /* cut mid-frame: released, never lent again */
    assert_int_equal(ws_feed(p, &c, f, 4, on_msg, r, 1024, err, sizeof err), 0);
    ws_conn_release(p, &c);
    assert_int_equal(ws_pool_lent(p), 0);
    free(r);
    ws_pool_free(p);
}

static void test_fleet_ws_rejects_oversized_and_bad(void **state)
{
    (void)state;
    ws_pool *p = ws_pool_new(3);
    uint8_t f[512];
    char big[200];
    memset(big, 'y', sizeof big);
    size_t n = frame(f, 1, 1, big, sizeof big);
    rec *r = calloc(1, sizeof *r);
    ws_conn_rx c = {NULL};
    char err[128];
    assert_int_equal(ws_feed(p, &c, f, n, on_msg, r, 100, err, sizeof err), -1);
    assert_non_null(strstr(err, "limit"));
    ws_conn_release(p, &c);
    n = frame(f, 1, 0, "zz", 2); /* continuation without a start */
    assert_int_equal(ws_feed(p, &c, f, n, on_msg, r, 100, err, sizeof err), -1);
    ws_conn_release(p, &c);
    uint8_t ctl[] = {0x89, 126, 0, 200}; /* control frame over 125 bytes */
    assert_int_equal(ws_feed(p, &c, ctl, sizeof ctl, on_msg, r, 1000, err, sizeof err), -1);
    ws_conn_release(p, &c);
    free(r);
    ws_pool_free(p);
}

static void test_fleet_ws_client_frames_are_masked(void **state)
{
    (void)state;
    ws_pool *p = ws_pool_new(4);
    uint8_t out[64];
    int n = ws_frame_client(p, 1, "{\"op\":\"ping\"}", 13, out, sizeof out);
    assert_int_equal(n, 2 + 4 + 13);
    assert_int_equal(out[0], 0x81);
    assert_int_equal(out[1], 0x80 | 13);
    char plain[14];
    for (int i = 0; i < 13; i++)
        plain[i] = (char)(out[6 + i] ^ out[2 + (i % 4)]);
    plain[13] = '\0';
    assert_string_equal(plain, "{\"op\":\"ping\"}");
    assert_int_equal(ws_frame_client(p, 1, "0123456789", 10, out, 8), -1);
    n = ws_frame_client(p, 1, "x", 1, out, sizeof out); /* still usable after a failure */
    assert_int_equal(n, 7);
    ws_pool_free(p);
}

/* permessage-deflate: RSV1 on a message's first frame (whole or
 * fragmented) is handed out as WS_OP_COMPRESSED; control frames and plain
 * messages around it are not marked, and the mark does not leak into the
 * next message. */
static void test_fleet_ws_rsv1_marks_compressed(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    n += frame(buf + n, 1, 1, "zz", 2);
    buf[0] |= 0x40; /* RSV1 */
    size_t f2 = n;
    n += frame(buf + n, 0, 1, "ab", 2);
    buf[f2] |= 0x40;
    n += frame(buf + n, 1, 9, "p", 1);
    n += frame(buf + n, 1, 0, "cd", 2);
    n += frame(buf + n, 1, 1, "plain", 5);
    ws_pool *p = ws_pool_new(3);
    ws_conn_rx c = {0};
    rec *r = calloc(1, sizeof *r);
    char err[128];
    assert_int_equal(ws_feed(p, &c, buf, n, on_msg, r, 1 << 16, err, sizeof err), 0);
    char want_log[64];
    snprintf(want_log, sizeof want_log, "%d:zz;9:p;%d:abcd;1:plain;", 1 | WS_OP_COMPRESSED, 1 | WS_OP_COMPRESSED);
    assert_string_equal(r->log, want_log);
    ws_conn_release(p, &c);
    ws_pool_free(p);
    free(r);
}

static void test_fleet_ws_accept_key(void **state)
{
    (void)state;
    char acc[29];
    ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc); /* RFC 6455 section 1.3 */
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ws_pool *p = ws_pool_new(5);
    char key[25];
    ws_make_key(p, key);
    assert_int_equal(strlen(key), 24);
    ws_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet_ws_every_split),
        cmocka_unit_test(test_fleet_ws_context_lent_only_mid_frame),
        cmocka_unit_test(test_fleet_ws_rejects_oversized_and_bad),
        cmocka_unit_test(test_fleet_ws_client_frames_are_masked),
        cmocka_unit_test(test_fleet_ws_accept_key),
        cmocka_unit_test(test_fleet_ws_rsv1_marks_compressed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
