/* test_http_conn.c — http_conn_bytes_read, the kernel's count behind the
 * pipelining guard: bytes read by the process on a real loopback TCP
 * connection, before and after more data arrives, and after the peer's FIN
 * (which the kernel counts as one received byte and the guard must not). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_conn.h"

typedef struct pair {
    int client, server;
} pair;

static int pair_setup(void **state)
{
    static pair p;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    p.client = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(p.client, (struct sockaddr *)&a, sizeof a), 0);
    p.server = accept(l, NULL, NULL);
    assert_true(p.server >= 0);
    close(l);
    *state = &p;
    return 0;
}

static int pair_teardown(void **state)
{
    pair *p = *state;
    close(p->client);
    close(p->server);
    return 0;
}

/* Loopback delivers synchronously, but give the receive path a moment. */
static void settle(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static uint64_t bytes_read(int fd)
{
    uint64_t n = 12345;
    assert_int_equal(http_conn_bytes_read(fd, &n), 0);
    return n;
}

static void test_http_conn_counts_what_was_read_not_what_is_queued(void **state)
{
    pair *p = *state;
    char buf[64];
    assert_int_equal(bytes_read(p->server), 0);
    assert_int_equal(write(p->client, "0123456789", 10), 10);
    settle();
    assert_int_equal(bytes_read(p->server), 0); /* queued, not read */
    assert_int_equal(read(p->server, buf, 4), 4);
    assert_int_equal(bytes_read(p->server), 4);
    assert_int_equal(write(p->client, "abcdef", 6), 6); /* arrivals do not move it */
    settle();
    assert_int_equal(bytes_read(p->server), 4);
    assert_int_equal(read(p->server, buf, sizeof buf), 12);
    assert_int_equal(bytes_read(p->server), 16);
}

static void test_http_conn_peer_fin_is_not_a_read(void **state)
{
    pair *p = *state;
    char buf[64];
    assert_int_equal(write(p->client, "hello", 5), 5);
    assert_int_equal(shutdown(p->client, SHUT_WR), 0);
    settle();
    assert_int_equal(bytes_read(p->server), 0); /* FIN arrived, nothing read */
    assert_int_equal(read(p->server, buf, 2), 2);
    assert_int_equal(bytes_read(p->server), 2);
    assert_int_equal(read(p->server, buf, sizeof buf), 3);
    assert_int_equal(bytes_read(p->server), 5);
    assert_int_equal(read(p->server, buf, sizeof buf), 0); /* EOF read */
    assert_int_equal(bytes_read(p->server), 5);
}

static void test_http_conn_not_tcp_is_an_error(void **state)
{
    (void)state;
    int sv[2];
    uint64_t n;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(http_conn_bytes_read(sv[0], &n), -1);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_conn_counts_what_was_read_not_what_is_queued, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_http_conn_peer_fin_is_not_a_read, pair_setup, pair_teardown),
        cmocka_unit_test(test_http_conn_not_tcp_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
