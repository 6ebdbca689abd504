/* test_fleet_http.c — the fleet's HTTP response reading under every split: a 101 handshake's accept check, chunked and close-delimited bodies, keep-alive responses back to back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fleet_http.h"

typedef struct rec {
    char body[4096];
    size_t n;
    int heads, completes;
} rec;

static int on_headers(fl_http *h)
{
    ((rec *)h->ud)->heads++;
    return 0;
}

static int on_body(fl_http *h, const char *at, size_t len)
{
    rec *r = h->ud;
    assert_true(r->n + len < sizeof r->body);
    memcpy(r->body + r->n, at, len);
    r->n += len;
    return 0;
}

static int on_complete(fl_http *h)
{
    ((rec *)h->ud)->completes++;
    return 0;
}

static const fl_http_cbs cbs = {on_headers, on_body, on_complete};

/* Feeds s in three pieces cut at i and j, each in its own exactly-sized
 * heap buffer (empty pieces are skipped: to http-parser a zero-length feed
 * means end of stream, and a socket read never gives one); stops at an
 * upgrade. Returns bytes consumed. */
static size_t feed3(fl_http *h, const char *s, size_t n, size_t i, size_t j)
{
    size_t cuts[4] = {0, i, j, n}, used = 0;
    for (int k = 0; k < 3; k++) {
        size_t len = cuts[k + 1] - cuts[k];
        if (len == 0)
            continue;
        char *piece = malloc(len);
        memcpy(piece, s + cuts[k], len);
        size_t got = fl_http_execute(h, piece, len);
        free(piece);
        used += got;
        if (got < len)
            break;
    }
    return used;
}

static void test_fleet_http_upgrade_every_split(void **state)
{
    (void)state;
    const char *s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Other: 1\r\n\r\n\x81\x02hi";
    size_t n = strlen(s), head = n - 4;
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            rec r = {.n = 0};
            fl_http h;
            fl_http_init(&h, &cbs, &r, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            size_t used = feed3(&h, s, n, i, j);
            assert_int_equal(h.status, 101);
            assert_int_equal(h.accept_ok, 1);
            assert_int_equal(h.p.upgrade, 1);
            assert_int_equal(r.heads, 1);
            assert_int_equal(used, head); /* the frame bytes after the head are left to the caller */
        }
    }
}

static void test_fleet_http_accept_mismatch(void **state)
{
    (void)state;
    const char *s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
    rec r = {.n = 0};
    fl_http h;
    fl_http_init(&h, &cbs, &r, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    fl_http_execute(&h, s, strlen(s));
    assert_int_equal(h.status, 101);
    assert_int_equal(h.accept_ok, 0);
    fl_http_init(&h, &cbs, &r, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* no accept header at all */
    const char *t = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    fl_http_execute(&h, t, strlen(t));
    assert_int_equal(h.accept_ok, 0);
}

static void test_fleet_http_chunked_body_every_split(void **state)
{
    (void)state;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "7\r\ndata: a\r\n4\r\n\n\nda\r\n0\r\n\r\n";
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            rec r = {.n = 0};
            fl_http h;
            fl_http_init(&h, &cbs, &r, NULL);
            assert_int_equal(feed3(&h, s, n, i, j), n);
            assert_int_equal(h.status, 200);
            assert_int_equal(r.n, 11);
            assert_memory_equal(r.body, "data: a\n\nda", 11);
            assert_int_equal(r.completes, 1);
        }
    }
}

static void test_fleet_http_close_delimited_body(void **state)
{
    (void)state;
    const char *s = "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nretry: 1000\n\n";
    rec r = {.n = 0};
    fl_http h;
    fl_http_init(&h, &cbs, &r, NULL);
    assert_int_equal(fl_http_execute(&h, s, strlen(s)), strlen(s));
    assert_int_equal(h.keep_alive, 0);
    assert_int_equal(r.n, 13);
    fl_http_execute(&h, NULL, 0); /* EOF ends it */
    assert_int_equal(r.completes, 1);
}

static void test_fleet_http_keep_alive_back_to_back(void **state)
{
    (void)state;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n[{}]";
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        rec r = {.n = 0};
        fl_http h;
        fl_http_init(&h, &cbs, &r, NULL);
        assert_int_equal(feed3(&h, s, n, i, i), n);
        assert_int_equal(r.completes, 2);
        assert_int_equal(r.n, 6);
        assert_int_equal(h.keep_alive, 1);
    }
}

static void test_fleet_http_garbage_is_an_error(void **state)
{
    (void)state;
    rec r = {.n = 0};
    fl_http h;
    fl_http_init(&h, &cbs, &r, NULL);
    const char *s = "data: {\"seq\":1}\n\n";
    fl_http_execute(&h, s, strlen(s));
    assert_int_not_equal(HTTP_PARSER_ERRNO(&h.p), HPE_OK);
    assert_int_equal(h.headers_done, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet_http_upgrade_every_split),
        cmocka_unit_test(test_fleet_http_accept_mismatch),
        cmocka_unit_test(test_fleet_http_chunked_body_every_split),
        cmocka_unit_test(test_fleet_http_close_delimited_body),
        cmocka_unit_test(test_fleet_http_keep_alive_back_to_back),
        cmocka_unit_test(test_fleet_http_garbage_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
