/* test_toxic_ws.c — the WebSocket toxic: every action, checked by parsing
 * what it emits; pass-through and determinism at every split point. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "proxy_testenv.h"
#include "ws_frame.h"
#include "ws_testdata.h"
#include "ws_deflate.h"
#include "ws_pmdtest.h"
#include "track.h"

#define UPGRADE_REQ "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"

typedef struct units {
    int n;
    int op[64];
    size_t len[64];
    unsigned char pl[64][256];
    int masked[64];
    int frames;
} units;

static void on_unit(void *arg, const ws_unit *u)
{
    units *o = arg;
    if (o->n >= 64)
        return;
    o->op[o->n] = u->opcode;
    o->len[o->n] = u->payload_len;
    o->masked[o->n] = u->masked;
    if (u->payload_len)
        memcpy(o->pl[o->n], u->payload, u->payload_len < 256 ? u->payload_len : 256);
    o->n++;
}

/* The input: upgrade head (response or request) + the test frames. */
static size_t input(unsigned char *buf, int upstream)
{
    const char *head = upstream ? UPGRADE_REQ : WST_101;
    size_t h = strlen(head);
    memcpy(buf, head, h);
    return h + wst_stream(buf + h, upstream);
}

/* Runs the toxic over in (cut in two at cut), ticks through `until_us`, and
 * parses the output after the head into o. */
static testenv *run(const char *attrs, const unsigned char *in, size_t n, size_t cut, uint64_t until_us,
                    units *o, int upstream)
{
    testenv *t = te_new("ws", attrs, 42);
    assert_non_null(t);
    te_data(t, 0, in, cut);
    te_data(t, 0, in + cut, n - cut);
    for (uint64_t now = 0; now <= until_us; now += 1000)
        te_tick(t, now);
    memset(o, 0, sizeof *o);
    const char *end = strstr((const char *)t->out, "\r\n\r\n");
    assert_non_null(end);
    size_t h = (size_t)(end + 4 - (const char *)t->out);
    size_t exp_h = upstream ? strlen(UPGRADE_REQ) : strlen(WST_101);
    assert_int_equal(h, exp_h);
    ws_reader r = {0};
    char err[100];
    assert_int_equal(ws_reader_feed(&r, t->out + h, t->out_len - h, on_unit, o, err, sizeof err), 0);
    assert_int_equal(r.hdr_len, 0);
    ws_reader_free(&r);
    return t;
}

/* Untouched units go out byte for byte. The one liberty: a control frame
 * sent between the fragments of a message comes out ahead of the message
 * (RFC 6455 5.4 allows control frames there), so the test compares the
 * bytes of each unit rather than the whole stream. */
static void test_toxic_ws_untouched_is_byte_identical(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t n = input(in, 0);
    units want;
    testenv *ref = run("{\"action\":\"drop\",\"probability\":0}", in, n, n, 0, &want, 0);
    te_free(ref);
    for (size_t cut = 0; cut <= n; cut++) {
        units o;
        testenv *t = run("{\"action\":\"drop\",\"probability\":0}", in, n, cut, 0, &o, 0);
        assert_int_equal(t->out_len, n);
        assert_memory_equal(t->out, in, strlen(WST_101) + 7 + 134); /* head, hello, binary */
        assert_memory_equal(&o, &want, sizeof o);
        te_free(t);
    }
    /* without interleaved control frames the whole stream is identical */
    unsigned char buf[512];
    size_t h = strlen(WST_101), m = h;
    memcpy(buf, WST_101, h);
    wst_frame(buf, &m, 0, 1, "ab", 2, NULL);
    wst_frame(buf, &m, 1, 0, "cd", 2, NULL);
    wst_frame(buf, &m, 1, 9, "p", 1, NULL);
    for (size_t cut = 0; cut <= m; cut++) {
        units o;
        testenv *t = run("{\"action\":\"duplicate\",\"probability\":0}", buf, m, cut, 0, &o, 0);
        assert_int_equal(t->out_len, m);
        assert_memory_equal(t->out, buf, m);
        te_free(t);
    }
}

static void test_toxic_ws_drop_after_messages(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t n = input(in, 0);
    units o;
    testenv *t = run("{\"action\":\"drop\",\"after_messages\":1}", in, n, n, 0, &o, 0);
    assert_int_equal(o.n, 3); /* hello, ping, pong: data after the first dropped */
    assert_int_equal(o.op[0], WS_OP_TEXT);
    assert_memory_equal(o.pl[0], "hello", 5);
    assert_int_equal(o.op[1], WS_OP_PING);
    assert_int_equal(o.op[2], WS_OP_PONG);
    assert_string_equal(t->last_action, "drop");
    te_free(t);
}

static void test_toxic_ws_duplicate_same_at_every_split(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t n = input(in, 0);
    units o;
    testenv *first = run("{\"action\":\"duplicate\",\"probability\":0.5}", in, n, n, 0, &o, 0);
    int dups = o.n - 6;
    assert_true(dups > 0 && dups < 4);
    for (size_t cut = 0; cut <= n; cut++) {
        testenv *t = run("{\"action\":\"duplicate\",\"probability\":0.5}", in, n, cut, 0, &o, 0);
        assert_int_equal(t->out_len, first->out_len);
        assert_memory_equal(t->out, first->out, first->out_len);
        te_free(t);
    }
    te_free(first);
}

static void test_toxic_ws_split_and_corrupt_reframe(void **state)
{
    (void)state;
    for (int upstream = 0; upstream < 2; upstream++) {
        unsigned char in[2048];
        size_t n = input(in, upstream);
        units o;
        testenv *t = run("{\"action\":\"split\",\"fragment_size\":2}", in, n, 7, 0, &o, upstream);
        assert_int_equal(o.n, 6);
        assert_memory_equal(o.pl[0], "hello", 5);
        assert_memory_equal(o.pl[3], "fragmented", 10);
        assert_int_equal(o.masked[0], upstream);
        assert_true(t->out_len > n + 20); /* more frame headers */
        te_free(t);
        /* the per-action type name is the same toxic with the action preset */
        testenv *alias = te_new("ws_fragment", "{\"fragment_size\":2}", 42);
        te_data(alias, 0, in, n);
        testenv *plain = te_new("ws", "{\"action\":\"split\",\"fragment_size\":2}", 42);
        te_data(plain, 0, in, n);
        assert_int_equal(alias->out_len, plain->out_len);
        assert_memory_equal(alias->out, plain->out, plain->out_len);
        te_free(alias);
        te_free(plain);
        t = run("{\"action\":\"corrupt\"}", in, n, 11, 0, &o, upstream);
        assert_int_equal(o.n, 6);
        int flipped = 0;
        for (size_t i = 0; i < 5; i++)
            flipped += __builtin_popcount(o.pl[0][i] ^ (unsigned char)"hello"[i]);
        assert_int_equal(flipped, 1);
        assert_int_equal(o.masked[0], upstream);
        te_free(t);
    }
}

static void test_toxic_ws_close_codes(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t n = input(in, 0);
    units o;
    testenv *t = run("{\"action\":\"close\",\"code\":1012,\"reason\":\"restart\",\"after_messages\":1}", in, n, n,
                     0, &o, 0);
    assert_int_equal(o.n, 2);
    assert_memory_equal(o.pl[0], "hello", 5);
    assert_int_equal(o.op[1], WS_OP_CLOSE);
    assert_int_equal(o.pl[1][0] << 8 | o.pl[1][1], 1012);
    assert_memory_equal(o.pl[1] + 2, "restart", 7);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->how, TX_CLOSE_FIN);
    te_free(t);
    t = run("{\"action\":\"close\",\"code\":1006}", in, n, n, 0, &o, 0);
    assert_int_equal(o.n, 0); /* 1006: no close frame, the connection just ends */
    assert_int_equal(t->closed, 1);
    te_free(t);
    assert_int_equal(te_parse("ws", "{\"action\":\"close\",\"code\":1005}"), -1);
    assert_int_equal(te_parse("ws", "{\"action\":\"explode\"}"), -1);
    assert_int_equal(te_parse("ws", "{\"probability\":1.5}"), -1);
}

static void test_toxic_ws_swallow_ping(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t n = input(in, 0);
    units o;
    testenv *t = run("{\"action\":\"swallow_ping\"}", in, n, 30, 0, &o, 0);
    assert_int_equal(o.n, 5);
    for (int i = 0; i < o.n; i++)
        assert_int_not_equal(o.op[i], WS_OP_PING);
    te_free(t);
    t = run("{\"action\":\"swallow_pong\"}", in, n, 30, 0, &o, 0);
    assert_int_equal(o.n, 5);
    for (int i = 0; i < o.n; i++)
        assert_int_not_equal(o.op[i], WS_OP_PONG);
    te_free(t);
}

static void test_toxic_ws_delay_reorder_burst(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t n = input(in, 0);
    units o;
    /* delay: nothing but the head before 100 ms; all after, in order */
    testenv *t = te_new("ws", "{\"action\":\"delay\",\"latency\":100}", 1);
    te_data(t, 0, in, n);
    te_tick(t, 99999);
    assert_int_equal(t->out_len, strlen(WST_101));
    te_free(t);
    t = run("{\"action\":\"delay\",\"latency\":100,\"jitter\":50}", in, n, n, 200000, &o, 0);
    assert_int_equal(o.n, 6);
    assert_memory_equal(o.pl[0], "hello", 5);
    assert_memory_equal(o.pl[5], "last", 4);
    te_free(t);
    /* reorder: the first message comes after the second */
    t = run("{\"action\":\"reorder\",\"gap\":1}", in, n, n, 1000000, &o, 0);
    assert_int_equal(o.n, 6);
    assert_int_equal(o.op[0], WS_OP_BINARY);
    assert_memory_equal(o.pl[1], "hello", 5);
    te_free(t);
    /* burst: held 500 ms, then all at once */
    t = te_new("ws", "{\"action\":\"burst\",\"hold_ms\":500}", 1);
    te_data(t, 0, in, n);
    te_tick(t, 499000);
    assert_int_equal(t->out_len, strlen(WST_101));
    te_tick(t, 500000);
    assert_int_equal(t->out_len, n);
    te_free(t);
}

static void test_toxic_ws_not_websocket_passes(void **state)
{
    (void)state;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\x81\x05";
    testenv *t = te_new("ws", "{\"action\":\"drop\"}", 1);
    te_data(t, 0, in, strlen(in));
    te_eof(t, 0);
    te_tick(t, 0);
    assert_int_equal(t->out_len, strlen(in));
    assert_memory_equal(t->out, in, strlen(in));
    assert_int_equal(t->eof, 1);
    te_free(t);
    /* garbage after a good upgrade: passed on from where it starts */
    unsigned char buf[256];
    size_t h = strlen(WST_101);
    memcpy(buf, WST_101, h);
    size_t n = h;
    wst_frame(buf, &n, 1, 1, "ok", 2, NULL);
    memcpy(buf + n, "\x8f\x00zz", 4);
    n += 4;
    t = te_new("ws", "{\"action\":\"drop\",\"probability\":0}", 1);
    te_data(t, 0, buf, n);
    assert_int_equal(t->out_len, n);
    assert_memory_equal(t->out, buf, n);
    assert_string_equal(t->last_action, "ws_parse_error");
    te_free(t);
}

/* permessage-deflate with context takeover: what comes out of the toxic,
 * decoded by a peer that keeps its window, is every message the sender
 * sent but for what the toxic says it changed — at every split point. */
typedef struct pmd_out {
    int n;
    size_t len[64];
    unsigned char text[64][512];
    z_stream peer;
    int bad;
} pmd_out;

static void pmd_on_unit(void *arg, const ws_unit *u)
{
    pmd_out *o = arg;
    if (u->control || o->n >= 64)
        return;
    long got = (u->rsv & 4) ? pmdt_inflate(&o->peer, u->payload, u->payload_len, o->text[o->n], 512) : -1;
    if (got < 0)
        o->bad++;
    else
        o->len[o->n++] = (size_t)got;
}

#define PMD_HEAD "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
                 "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n\r\n"

/* Writes PMD_HEAD and nm server messages compressed by a sender keeping its
 * context (window 2^12) into in: message i is pmdt_message(i % mod) made
 * unique, so later messages repeat earlier ones. at (may be NULL) gets where
 * each message starts, and the end. Returns the length. */
static size_t pmd_stream(unsigned char *in, int nm, int mod, char (*m)[256], size_t *ml, size_t *at)
{
    size_t n = strlen(PMD_HEAD);
    memcpy(in, PMD_HEAD, n);
    z_stream snd = {0};
    assert_int_equal(deflateInit2(&snd, 6, Z_DEFLATED, -12, 8, Z_DEFAULT_STRATEGY), Z_OK);
    for (int i = 0; i < nm; i++) {
        if (at)
            at[i] = n;
        ml[i] = pmdt_message(i % mod, m[i], 256);
        m[i][7] = (char)('a' + i);
        unsigned char c[512];
        size_t cl = pmdt_compress(&snd, m[i], ml[i], c, sizeof c);
        wst_frame(in, &n, 1, WS_OP_TEXT | 0x40, c, cl, NULL); /* RSV1: compressed */
    }
    if (at)
        at[nm] = n;
    deflateEnd(&snd);
    return n;
}

static void test_toxic_ws_deflate_peer_stays_in_sync(void **state)
{
    (void)state;
    enum { NM = 14 };
    char m[NM][256];
    size_t ml[NM];
    static unsigned char in[16384];
    size_t h = strlen(PMD_HEAD), n = pmd_stream(in, NM, 4, m, ml, NULL);
    ws_pmd pmd;
    ws_pmd_parse_response(&pmd, PMD_HEAD, h);
    assert_int_equal(pmd.window_bits[1], 12);
    static const char *const actions[] = {"drop", "duplicate", "corrupt", "reorder"};
    for (int a = 0; a < 4; a++) {
        char attrs[96];
        snprintf(attrs, sizeof attrs, "{\"action\":\"%s\",\"probability\":0.4}", actions[a]);
        for (size_t cut = h; cut <= n; cut += 7) {
            testenv *t = te_new("ws", attrs, 3);
            t->env.pmd = &pmd;
            te_data(t, 0, in, cut);
            te_data(t, 0, in + cut, n - cut);
            te_tick(t, 2000000); /* a reordered message is released by then */
            assert_true(t->records > 0);
            static pmd_out o;
            memset(&o, 0, sizeof o);
            assert_int_equal(inflateInit2(&o.peer, -12), Z_OK);
            ws_reader r = {0};
            char err[100];
            assert_int_equal(ws_reader_feed(&r, t->out + h, t->out_len - h, pmd_on_unit, &o, err, sizeof err), 0);
            ws_reader_free(&r);
            inflateEnd(&o.peer);
            assert_int_equal(o.bad, 0);
            int changed = 0, j = 0;
            for (int k = 0; k < o.n; k++) { /* match against the originals in order */
                if (a == 3) { /* reorder: each original once, order aside */
                    int hit = 0;
                    for (int q = 0; q < NM; q++)
                        hit += o.len[k] == ml[q] && memcmp(o.text[k], m[q], ml[q]) == 0;
                    assert_int_equal(hit, 1);
                    continue;
                }
                while (j < NM && !(o.len[k] == ml[j] && (a == 2 || memcmp(o.text[k], m[j], ml[j]) == 0)))
                    j++, changed += a == 0;
                assert_true(j < NM);
                if (a == 2 && memcmp(o.text[k], m[j], ml[j]) != 0) {
                    int bits = 0;
                    for (size_t b = 0; b < ml[j]; b++)
                        bits += __builtin_popcount(o.text[k][b] ^ (unsigned char)m[j][b]);
                    assert_int_equal(bits, 1);
                    changed++;
                }
                if (a == 1 && k + 1 < o.n && o.len[k + 1] == ml[j] && memcmp(o.text[k + 1], m[j], ml[j]) == 0) {
                    k++; /* the duplicate */
                    changed++;
                }
                j++;
            }
            if (a == 0)
                changed += NM - j;
            if (a == 3)
                assert_int_equal(o.n, NM);
            else
                assert_int_equal(changed, t->records);
            te_free(t);
        }
    }
}

/* A toxic added to a compressed connection already open: the link's tracker
 * kept the sender's window from the first message, the toxic takes it over
 * at a message boundary, drops messages, and the peer (which got the first
 * messages straight from the sender) still decodes every later one. */
static void test_toxic_ws_deflate_added_mid_stream(void **state)
{
    (void)state;
    enum { NM = 16, FIRST = 6 };
    char m[NM][256];
    size_t ml[NM], at[NM + 1];
    static unsigned char in[16384];
    size_t h = strlen(PMD_HEAD), n = pmd_stream(in, NM, 3, m, ml, at);
    ws_pmd pmd = {0};
    track trk;
    track_init(&trk, 1);
    track_set_pmd(&trk, &pmd);
    int hit;
    assert_int_equal(track_feed(&trk, in, at[FIRST], 0, &hit), at[FIRST]);
    assert_int_equal(pmd.on, 1); /* read from the 101 by the tracker */
    assert_true(track_at(&trk, TRACK_WS));
    assert_int_equal(trk.inf.init, 1);
    static pmd_out o;
    memset(&o, 0, sizeof o);
    assert_int_equal(inflateInit2(&o.peer, -12), Z_OK);
    ws_reader r = {0};
    char err[100];
    assert_int_equal(ws_reader_feed(&r, in + h, at[FIRST] - h, pmd_on_unit, &o, err, sizeof err), 0);
    assert_int_equal(o.n, FIRST);
    testenv *t = te_new("ws", "{\"action\":\"drop\",\"probability\":0.5}", 5);
    t->env.pmd = &pmd;
    t->ty->resume(t->state, t->attrs, &t->env, &trk);
    te_data(t, 0, in + at[FIRST], n - at[FIRST]);
    track_free(&trk);
    assert_true(t->records > 0 && t->records < NM - FIRST);
    assert_string_equal(t->last_action, "drop");
    assert_int_equal(ws_reader_feed(&r, t->out, t->out_len, pmd_on_unit, &o, err, sizeof err), 0);
    ws_reader_free(&r);
    inflateEnd(&o.peer);
    assert_int_equal(o.bad, 0);
    assert_int_equal(o.n, NM - t->records);
    for (int k = 0, j = 0; k < o.n; k++, j++) {
        while (j < NM && !(o.len[k] == ml[j] && memcmp(o.text[k], m[j], ml[j]) == 0))
            j++;
        assert_true(j < NM);
    }
    te_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_ws_untouched_is_byte_identical),
        cmocka_unit_test(test_toxic_ws_drop_after_messages),
        cmocka_unit_test(test_toxic_ws_duplicate_same_at_every_split),
        cmocka_unit_test(test_toxic_ws_split_and_corrupt_reframe),
        cmocka_unit_test(test_toxic_ws_close_codes),
        cmocka_unit_test(test_toxic_ws_swallow_ping),
        cmocka_unit_test(test_toxic_ws_delay_reorder_burst),
        cmocka_unit_test(test_toxic_ws_not_websocket_passes),
        cmocka_unit_test(test_toxic_ws_deflate_peer_stays_in_sync),
        cmocka_unit_test(test_toxic_ws_deflate_added_mid_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
