/* fuzz_http_stream.c — libFuzzer target: a whole client byte stream (any
 * number of requests, pipelined or not) to the real rtchaos-server request
 * path. The server (libwebsockets, http_api.c, http_conn.c, sse.c, ws.c, the
 * security gate) runs in this process on its own thread on a loopback port;
 * each input is written to a fresh TCP connection, in two writes split at a
 * point the input chooses, and then /healthz must answer within a deadline on
 * another connection: a crash, a sanitizer report, a busy loop or a stalled
 * event loop (issue 11) all end the run.
 *
 * Input: byte 0 picks the split point (as a fraction of the rest), byte 1's
 * low bit whether the writes are separated by a pause (so the server reads
 * them apart); the rest is the stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "server.h"

#define HEALTH_DEADLINE_MS 8000 /* under make fuzz's -timeout=10; generous for ASan on a loaded box */

static server_cfg g_cfg;
static int g_port;

static void *server_thread(void *arg)
{
    (void)arg;
    server_run(&g_cfg);
    return NULL;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    /* libFuzzer's -timeout watchdog is a SIGALRM with no SA_RESTART: it lands
     * on this thread about once a timeout/2 and interrupts connect(), which
     * then goes on in the background. Wait for it instead of failing. */
    if (errno != EINTR) {
        close(fd);
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n, soerr = 0;
    socklen_t sl = sizeof soerr;
    do
        n = poll(&p, 1, HEALTH_DEADLINE_MS);
    while (n < 0 && errno == EINTR);
    if (n <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
        close(fd);
        return -1;
    }
    return fd;
}

static int64_t now_ms(void)
{
    return (int64_t)(clock_mono_us() / 1000);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the server may close early (411, 413, 400): fine */
        p += w;
        n -= (size_t)w;
    }
}

/* Reads what comes within idle_ms of quiet (at most total_ms, measured on the
 * clock); returns the bytes read, stops at EOF. A signal (libFuzzer's SIGALRM
 * watchdog) interrupting poll or recv is not quiet and not EOF: the wait goes
 * on — treating it as either made /healthz look unanswered (the "stall"). */
static size_t drain(int fd, int idle_ms, int total_ms, char *keep, size_t keep_len)
{
    size_t got = 0;
    char buf[4096];
    int64_t end = now_ms() + total_ms, quiet_end = now_ms() + idle_ms;
    for (;;) {
        int64_t now = now_ms(), until = quiet_end < end ? quiet_end : end;
        if (now >= until)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)(until - now));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (keep && got < keep_len) {
            size_t c = (size_t)r < keep_len - got ? (size_t)r : keep_len - got;
            memcpy(keep + got, buf, c);
        }
        got += (size_t)r;
        quiet_end = now_ms() + idle_ms;
    }
    return got;
}

static void health_or_die(void)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n";
    int fd = dial();
    if (fd < 0) {
        fprintf(stderr, "fuzz_http_stream: cannot connect to the server: %s\n", strerror(errno));
        abort();
    }
    int64_t t0 = now_ms();
    write_all(fd, (const uint8_t *)req, sizeof req - 1);
    char got[64] = "";
    drain(fd, HEALTH_DEADLINE_MS, HEALTH_DEADLINE_MS, got, sizeof got - 1);
    close(fd);
    if (strncmp(got, "HTTP/1.1 200", 12) != 0) {
        /* what came back, if anything, tells a stuck loop from a refusal */
        for (char *c = got; *c; c++)
            if (*c == '\r' || *c == '\n')
                *c = ' ';
        fprintf(stderr, "fuzz_http_stream: /healthz did not answer 200 within %d ms (got: '%s' after %lld ms): "
                        "the event loop is stuck or refusing\n",
                HEALTH_DEADLINE_MS, got, (long long)(now_ms() - t0));
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    config_defaults(&g_cfg);
    static char a0[] = "fuzz", a1[] = "--host", a2[] = "127.0.0.1", a3[] = "--port", a4[] = "0",
        a5[] = "--log-level", a6[] = "error", a7[] = "--max-payload-bytes", a8[] = "4096",
        a9[] = "--handshake-timeout-ms", a10[] = "1000", a11[] = "--poll-max-ms", a12[] = "200",
        a13[] = "--heartbeat-ms", a14[] = "200";
    char *args[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, NULL};
    if (config_parse_args(&g_cfg, (int)(sizeof args / sizeof args[0]) - 1, args, stdout, err, sizeof err)) {
        fprintf(stderr, "fuzz_http_stream: %s\n", err);
        abort();
    }
    log_init("server", g_cfg.log_level);
    if (authz_init(&g_cfg, err, sizeof err)) {
        fprintf(stderr, "fuzz_http_stream: %s\n", err);
        abort();
    }
    /* server_run prints "listening ADDR:PORT" on stdout: read it from a pipe */
    int pfd[2], saved = dup(STDOUT_FILENO);
    if (pipe(pfd) || saved < 0)
        abort();
    fflush(stdout);
    dup2(pfd[1], STDOUT_FILENO);
    pthread_t th;
    if (pthread_create(&th, NULL, server_thread, NULL))
        abort();
    pthread_detach(th);
    char line[128];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(pfd[0], line + n, 1);
        if (r <= 0)
            abort();
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(pfd[0]);
    close(pfd[1]);
    const char *colon = strrchr(line, ':');
    g_port = colon ? atoi(colon + 1) : 0;
    if (strncmp(line, "listening ", 10) != 0 || g_port <= 0) {
        fprintf(stderr, "fuzz_http_stream: server did not start: '%s'\n", line);
        abort();
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t body = size - 2;
    size_t cut = body * data[0] / 255;
    int pause = data[1] & 1;
    const uint8_t *s = data + 2;
    int fd = dial();
    if (fd < 0) {
        fprintf(stderr, "fuzz_http_stream: cannot connect to the server: %s\n", strerror(errno));
        abort();
    }
    write_all(fd, s, cut);
    if (pause)
        clock_sleep_ms(5);
    write_all(fd, s + cut, body - cut);
    /* what the server answers; streams (SSE, WS) are left after a short quiet */
    drain(fd, 20, 500, NULL, 0);
    close(fd);
    health_or_die();
    return 0;
}
