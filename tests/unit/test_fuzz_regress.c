/* test_fuzz_regress.c — every input the fuzzers (fuzz/) found to crash or
 * trip a sanitizer, replayed through the same code with its expected result.
 * Under `make check-asan` these fail again if the bug comes back; the raw
 * inputs are also kept in fuzz/regress/<target>/ for `make fuzz-regress`
 * (clang's sanitizers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "fleet_ws.h"
#include "sse_stream.h"

#ifndef FUZZ_REGRESS_DIR
#define FUZZ_REGRESS_DIR "fuzz/regress"
#endif

/* Reads a regression input (without the fuzz target's leading mode byte). */
static unsigned char *read_input(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", FUZZ_REGRESS_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: cannot open (run from the repository root)", path);
    unsigned char *buf = malloc(1 << 16);
    size_t n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    assert_true(n > 1);
    memmove(buf, buf + 1, n - 1);
    *len = n - 1;
    return buf;
}

/* fuzz/regress/envelope/gap-without-data: a gap envelope whose "data" key is
 * misspelt. envelope_scan computed NULL + 0 before checking data for NULL
 * (clang UBSan: "applying zero offset to null pointer"; gcc's UBSan does not
 * check this, so `make fuzz-regress` is what catches a relapse). */
static void test_fuzz_regress_envelope_gap_without_data(void **state)
{
    (void)state;
    const char in[] = "{\"ch\":\"a\",\"seq\":7,\"ts\":5,\"type\":\"gap\",\"[data\":{\"from\":3,\"to\":7}}";
    envelope env;
    char err[128];
    assert_int_equal(envelope_scan(in, sizeof in - 1, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "gap"));
}

typedef struct raw_out {
    unsigned char buf[1 << 16];
    size_t len;
    int blocks;
} raw_out;

static void on_raw(void *arg, const unsigned char *d, size_t n)
{
    raw_out *o = arg;
    memcpy(o->buf + o->len, d, n);
    o->len += n;
}

static void on_block(void *arg, const sse_block *b)
{
    (void)b;
    ((raw_out *)arg)->blocks++;
}

/* fuzz/regress/sse_stream/raw-body-bad-chunk: a chunked response that is not
 * an event stream, with a malformed chunk. Fed in one read, the proxy's SSE
 * reader dropped the body bytes before the bad chunk (forwarding only the
 * rest); fed in pieces it forwarded them all. Whatever is not an event
 * stream must pass through byte for byte. */
static void test_fuzz_regress_sse_stream_raw_body_bad_chunk(void **state)
{
    (void)state;
    size_t n;
    unsigned char *in = read_input("sse_stream/raw-body-bad-chunk", &n);
    static const sse_callbacks cb = { on_raw, on_block, NULL };
    for (size_t cut = 0; cut <= 8; cut += 8) {
        static raw_out out;
        out.len = 0;
        out.blocks = 0;
        sse_reader r;
        sse_reader_init(&r, &cb, &out);
        for (size_t off = 0; off < n;) {
            size_t piece = cut && n - off > cut ? cut : n - off;
            sse_reader_feed(&r, in + off, piece);
            off += piece;
        }
        sse_reader_eof(&r);
        sse_reader_free(&r);
        assert_int_equal(out.blocks, 0);
        assert_int_equal(out.len, n);
        assert_memory_equal(out.buf, in, n);
    }
    free(in);
}

typedef struct ws_msgs {
    int ops[64];
    size_t lens[64];
    int n;
} ws_msgs;

static int on_ws_msg(void *ud, int opcode, const char *d, size_t len)
{
    (void)d;
    ws_msgs *m = ud;
    if (m->n < 64) {
        m->ops[m->n] = opcode;
        m->lens[m->n] = len;
        m->n++;
    }
    return 0;
}

/* Feeds a regression input to the harness's WebSocket reader in pieces of
 * cut bytes (0: at once); returns whether it failed, messages in *m. */
static int ws_run(const unsigned char *in, size_t n, size_t cut, ws_msgs *m)
{
    ws_pool *p = ws_pool_new(1);
    ws_conn_rx c = { 0 };
    char err[256];
    int failed = 0;
    memset(m, 0, sizeof *m);
    for (size_t off = 0; off < n && !failed;) {
        size_t piece = cut && n - off > cut ? cut : n - off;
        failed = ws_feed(p, &c, in + off, piece, on_ws_msg, m, 1 << 16, err, sizeof err) < 0;
        off += piece;
    }
    ws_conn_release(p, &c);
    assert_int_equal(ws_pool_lent(p), 0);
    ws_pool_free(p);
    return failed;
}

/* fuzz/regress/fleet_ws/empty-fragments-then-data: a text message whose
 * first fragments are empty. Read in one piece, the last fragment took the
 * copy-free path and was reported with the continuation opcode (0) instead
 * of text; read in pieces it was text. */
static void test_fuzz_regress_fleet_ws_empty_fragments_then_data(void **state)
{
    (void)state;
    size_t n;
    unsigned char *in = read_input("fleet_ws/empty-fragments-then-data", &n);
    for (size_t cut = 0; cut <= 2; cut += 1) {
        ws_msgs m;
        ws_run(in, n, cut, &m);
        assert_true(m.n >= 1);
        assert_int_equal(m.ops[0], 1);
        assert_int_equal(m.lens[0], 7);
    }
    free(in);
}

/* fuzz/regress/fleet_ws/empty-fragment-first: an empty fragment appended to
 * a message that had no buffer yet computed NULL + 0 (clang UBSan). Whole
 * or byte by byte, the same messages come out. */
static void test_fuzz_regress_fleet_ws_empty_fragment_first(void **state)
{
    (void)state;
    size_t n;
    unsigned char *in = read_input("fleet_ws/empty-fragment-first", &n);
    ws_msgs a, b;
    int fa = ws_run(in, n, 0, &a), fb = ws_run(in, n, 1, &b);
    assert_int_equal(fa, fb);
    assert_int_equal(a.n, b.n);
    for (int i = 0; i < a.n; i++) {
        assert_int_equal(a.ops[i], b.ops[i]);
        assert_int_equal(a.lens[i], b.lens[i]);
    }
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_regress_envelope_gap_without_data),
        cmocka_unit_test(test_fuzz_regress_sse_stream_raw_body_bad_chunk),
        cmocka_unit_test(test_fuzz_regress_fleet_ws_empty_fragments_then_data),
        cmocka_unit_test(test_fuzz_regress_fleet_ws_empty_fragment_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
