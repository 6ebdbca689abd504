/* test_toxic_disconnect.c — disconnect: after N bytes, at once when active,
 * and after N WebSocket messages or SSE events through the common
 * after_messages schedule (the test link cuts and gates as proxy.c does), at
 * every split point. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "proxy_testenv.h"
#include "ws_testdata.h"

static void test_toxic_disconnect_after_bytes(void **state)
{
    (void)state;
    testenv *t = te_new("disconnect", "{\"after_bytes\":5,\"mode\":\"reset\"}", 1);
    te_data(t, 0, "abc", 3);
    assert_int_equal(t->closed, 0);
    te_data(t, 0, "defg", 4);
    assert_int_equal(t->out_len, 5);
    assert_memory_equal(t->out, "abcde", 5);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->how, TX_CLOSE_RST);
    te_free(t);
}

static void test_toxic_disconnect_at_once_when_active(void **state)
{
    (void)state;
    testenv *t = te_new("disconnect", NULL, 1); /* on from the start */
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->how, TX_CLOSE_FIN);
    te_data(t, 0, "late", 4);
    assert_int_equal(t->out_len, 0); /* nothing passes after the decision */
    te_free(t);
    t = te_new("disconnect", "{\"after_messages\":1}", 1);
    te_tick(t, 10); /* off by its schedule: nothing happens */
    te_data(t, 20, "no frames here", 14);
    assert_int_equal(t->closed, 0);
    assert_int_equal(t->out_len, 14);
    te_free(t);
}

static void test_toxic_disconnect_after_ws_messages(void **state)
{
    (void)state;
    unsigned char in[2048];
    size_t h = strlen(WST_101);
    memcpy(in, WST_101, h);
    size_t n = h + wst_stream(in + h, 0);
    size_t want = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        testenv *t = te_new("disconnect", "{\"after_messages\":2,\"protocol\":\"ws\"}", 1);
        te_data(t, 0, in, cut);
        te_data(t, 0, in + cut, n - cut);
        assert_int_equal(t->closed, 1);
        /* exactly the head, "hello" and the 130-byte binary got through */
        if (!want)
            want = t->out_len;
        assert_int_equal(t->out_len, want);
        assert_int_equal(t->out_len, h + 7 + 138); /* 2+2 header, 4 mask, 130 payload */
        assert_memory_equal(t->out, in, t->out_len);
        te_free(t);
    }
    assert_int_equal(te_parse("disconnect", "{\"protocol\":\"sse\"}"), 0); /* kept for old configs */
    assert_int_equal(te_parse("disconnect", "{\"protocol\":\"mqtt\"}"), -1);
    assert_int_equal(te_parse("disconnect", "{\"after_ms\":5}"), -1); /* that is the common schedule key */
}

static void test_toxic_disconnect_after_sse_events(void **state)
{
    (void)state;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                     "data: 1\n\n: hb\n\ndata: 2\n\ndata: 3\n\n";
    for (size_t cut = 0; cut <= strlen(in); cut++) {
        testenv *t = te_new("disconnect", "{\"after_messages\":2,\"protocol\":\"sse\"}", 1);
        te_data(t, 0, in, cut);
        te_data(t, 0, in + cut, strlen(in) - cut);
        assert_int_equal(t->closed, 1);
        const char *want = "data: 1\n\n: hb\n\ndata: 2\n\n";
        size_t head = strlen(in) - strlen("data: 1\n\n: hb\n\ndata: 2\n\ndata: 3\n\n");
        assert_int_equal(t->out_len, head + strlen(want));
        assert_memory_equal(t->out + head, want, strlen(want));
        te_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_disconnect_after_bytes),
        cmocka_unit_test(test_toxic_disconnect_at_once_when_active),
        cmocka_unit_test(test_toxic_disconnect_after_ws_messages),
        cmocka_unit_test(test_toxic_disconnect_after_sse_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
