/* test_toxic_sse.c — the SSE toxic: every action, checked by decoding what
 * it emits with a fresh reader (so the re-chunking must be right), and the
 * same output at every split point. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "proxy_testenv.h"
#include "sse_stream.h"

#define HEAD "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
static const char *IN = HEAD
    "1d\r\nid: 1\ndata: one\n\n: hb\n\nid: 2\n\r\n"
    "b\r\ndata: two\n\n\r\n"
    "16\r\nid: 3\r\ndata: three\r\n\r\n\r\n"
    "0\r\n\r\n";

typedef struct dec {
    int n, comments, end;
    char ev[32][64];
    bytebuf raw;
} dec;

static void d_raw(void *arg, const unsigned char *d, size_t n)
{
    bytebuf_add(&((dec *)arg)->raw, d, n);
}

static void d_block(void *arg, const sse_block *b)
{
    dec *o = arg;
    if (b->comment_only) {
        o->comments++;
        return;
    }
    if (o->n < 32)
        snprintf(o->ev[o->n++], 64, "%.*s", (int)b->len, (const char *)b->text);
}

static void d_end(void *arg)
{
    ((dec *)arg)->end++;
}

static const sse_callbacks DEC = {d_raw, d_block, d_end};

static testenv *run(const char *attrs, size_t cut, uint64_t until_us, dec *o)
{
    testenv *t = te_new("sse", attrs, 9);
    assert_non_null(t);
    size_t n = strlen(IN);
    te_data(t, 0, IN, cut);
    te_data(t, 0, IN + cut, n - cut);
    for (uint64_t now = 0; now <= until_us; now += 1000)
        te_tick(t, now);
    memset(o, 0, sizeof *o);
    sse_reader r;
    sse_reader_init(&r, &DEC, o);
    sse_reader_feed(&r, t->out, t->out_len);
    sse_reader_free(&r);
    assert_int_equal(o->raw.len, strlen(HEAD));
    bytebuf_free(&o->raw);
    return t;
}

static void test_toxic_sse_untouched_decodes_same_at_every_split(void **state)
{
    (void)state;
    dec o;
    testenv *first = run("{\"action\":\"drop\",\"probability\":0}", strlen(IN), 0, &o);
    assert_int_equal(o.n, 3);
    assert_int_equal(o.comments, 1);
    assert_int_equal(o.end, 1);
    assert_string_equal(o.ev[0], "id: 1\ndata: one\n\n");
    assert_string_equal(o.ev[2], "id: 3\r\ndata: three\r\n\r\n");
    for (size_t cut = 0; cut <= strlen(IN); cut++) {
        testenv *t = run("{\"action\":\"drop\",\"probability\":0}", cut, 0, &o);
        assert_int_equal(t->out_len, first->out_len);
        assert_memory_equal(t->out, first->out, t->out_len);
        te_free(t);
    }
    te_free(first);
}

static void test_toxic_sse_drop_duplicate(void **state)
{
    (void)state;
    dec o;
    testenv *t = run("{\"action\":\"drop\",\"after_messages\":1}", 50, 0, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.comments, 1);
    assert_int_equal(o.end, 1);
    te_free(t);
    t = run("{\"action\":\"duplicate\"}", 90, 0, &o);
    assert_int_equal(o.n, 6);
    assert_string_equal(o.ev[2], o.ev[3]);
    te_free(t);
}

static void test_toxic_sse_protocol_faults(void **state)
{
    (void)state;
    dec o;
    testenv *t = run("{\"action\":\"strip_id\"}", 120, 0, &o);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.ev[0], "data: one\n\n");
    assert_string_equal(o.ev[2], "data: three\r\n\r\n");
    testenv *alias = te_new("sse_strip_id", NULL, 9);
    te_data(alias, 0, IN, strlen(IN));
    assert_int_equal(alias->out_len, t->out_len);
    assert_memory_equal(alias->out, t->out, t->out_len);
    te_free(alias);
    te_free(t);
    t = run("{\"action\":\"inject_retry\",\"retry_ms\":2500,\"probability\":1}", 120, 0, &o);
    assert_string_equal(o.ev[1], "retry: 2500\nid: 2\ndata: two\n\n");
    te_free(t);
    t = run("{\"action\":\"suppress_heartbeat\"}", 3, 0, &o);
    assert_int_equal(o.comments, 0);
    assert_int_equal(o.n, 3);
    te_free(t);
    t = run("{\"action\":\"corrupt\"}", 100, 0, &o);
    assert_int_equal(o.n, 3);
    assert_int_equal(strlen(o.ev[0]), strlen("id: 1\ndata: one\n\n"));
    assert_string_not_equal(o.ev[0], "id: 1\ndata: one\n\n");
    assert_memory_equal(o.ev[0], "id: 1\ndata:", 11); /* only the data value changes */
    te_free(t);
}

static void test_toxic_sse_cut_mid_line(void **state)
{
    (void)state;
    testenv *t = te_new("sse", "{\"action\":\"cut\",\"after_messages\":1}", 3);
    te_data(t, 0, IN, strlen(IN));
    te_tick(t, 0);
    assert_int_equal(t->closed, 1);
    /* the output ends inside a line of the second event, with no end chunk */
    dec o = {0};
    sse_reader r;
    sse_reader_init(&r, &DEC, &o);
    sse_reader_feed(&r, t->out, t->out_len);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.end, 0);
    assert_true(r.acc.len > 0 && r.acc.len < strlen("id: 2\ndata: two\n\n"));
    assert_int_not_equal(r.acc.p[r.acc.len - 1], '\n');
    sse_reader_free(&r);
    bytebuf_free(&o.raw);
    te_free(t);
}

static void test_toxic_sse_delay_reorder_burst(void **state)
{
    (void)state;
    dec o;
    testenv *t = te_new("sse", "{\"action\":\"delay\",\"latency\":200}", 1);
    te_data(t, 0, IN, strlen(IN));
    te_tick(t, 199000);
    assert_int_equal(t->out_len, strlen(HEAD));
    te_free(t);
    t = run("{\"action\":\"delay\",\"latency\":200,\"jitter\":100,\"distribution\":\"pareto\"}", 60, 5000000, &o);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.ev[0], "id: 1\ndata: one\n\n");
    te_free(t);
    t = run("{\"action\":\"reorder\"}", 60, 2000000, &o);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.ev[0], "id: 2\ndata: two\n\n");
    assert_string_equal(o.ev[1], "id: 1\ndata: one\n\n");
    te_free(t);
    t = te_new("sse", "{\"action\":\"burst\",\"hold_ms\":300}", 1);
    te_data(t, 0, IN, strlen(IN));
    te_tick(t, 299000);
    assert_int_equal(t->out_len, strlen(HEAD));
    te_tick(t, 300000);
    assert_true(t->out_len > strlen(HEAD) + 40);
    te_free(t);
}

static void test_toxic_sse_not_event_stream_passes(void **state)
{
    (void)state;
    const char *in = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop";
    testenv *t = te_new("sse", "{\"action\":\"drop\"}", 1);
    te_data(t, 0, in, strlen(in));
    te_eof(t, 0);
    te_tick(t, 0);
    assert_int_equal(t->out_len, strlen(in));
    assert_memory_equal(t->out, in, strlen(in));
    assert_int_equal(t->eof, 1);
    te_free(t);
    assert_int_equal(te_parse("sse", "{\"action\":\"strip\"}"), -1);
    assert_int_equal(te_parse("sse", "{\"retry_ms\":-1}"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_sse_untouched_decodes_same_at_every_split),
        cmocka_unit_test(test_toxic_sse_drop_duplicate),
        cmocka_unit_test(test_toxic_sse_protocol_faults),
        cmocka_unit_test(test_toxic_sse_cut_mid_line),
        cmocka_unit_test(test_toxic_sse_delay_reorder_burst),
        cmocka_unit_test(test_toxic_sse_not_event_stream_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
