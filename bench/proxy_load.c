/* proxy_load.c — load generator and upstream for bench/proxy.sh: a
 * loopback server (echo, or sink that acknowledges what it got), bulk
 * throughput, round-trip percentiles, and the added delay of a latency
 * toxic. Blocking sockets and one thread per connection: the point is to
 * load the proxy under test, not to be clever.
 *
 *   proxy_load serve                 prints "port N", serves until killed
 *   proxy_load bulk PORT MIB         one connection: send MIB MiB, wait for the
 *                                    server's count; prints MB/s, this
 *                                    process's CPU time and the sink
 *                                    thread's, in ms
 *   proxy_load rtt PORT N            N sequential 64-byte round trips; prints
 *                                    p50/p99/max in µs
 *   proxy_load rtt-turns N ROUNDS PORT...  one connection per port, N round
 *                                    trips on each, the ports taking turns in
 *                                    ROUNDS bursts; one rtt line per port
 *   proxy_load paced PORT N GAP_US   N 64-byte stamped messages GAP_US apart,
 *                                    echoed; prints two lines: the round trip
 *                                    as the client's thread sees it, and the
 *                                    server → client leg from the server's
 *                                    write to the kernel's receive stamp on
 *                                    the client socket (p1/p50/p99/max µs)
 *   proxy_load storm PORT N THREADS  N connections (THREADS at a time), each
 *                                    echoing one byte then closing; prints the
 *                                    rate and how many failed
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int read_full(int fd, void *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *b, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = write(fd, (const char *)b + put, n - put);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        put += (size_t)r;
    }
    return 0;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

#define PACED_BYTES 64

/* Paced messages (first byte 'P', 64 bytes each): echoed one by one with
 * the server's send time (CLOCK_REALTIME ns, the clock of the kernel's
 * receive stamps) in word 3. */
static void serve_paced(int fd, char *buf, size_t have)
{
    for (;;) {
        if (have < PACED_BYTES) {
            ssize_t r = read(fd, buf + have, PACED_BYTES - have);
            if (r <= 0)
                return;
            have += (size_t)r;
            continue;
        }
        uint64_t m[PACED_BYTES / 8];
        memcpy(m, buf, sizeof m);
        m[3] = real_ns();
        if (write_full(fd, m, sizeof m) < 0)
            return;
        have -= PACED_BYTES;
        memmove(buf, buf + PACED_BYTES, have);
    }
}

/* First byte 'B': bulk sink (counts until EOF, answers the count and its
 * thread's CPU time in µs, 8 bytes each); 'P': paced echo; anything else:
 * echo. */
static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static __thread char buf[1 << 16];
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0 && buf[0] == 'P') {
        serve_paced(fd, buf, (size_t)r);
    } else if (r > 0 && buf[0] == 'B') {
        uint64_t total = (uint64_t)r;
        while ((r = read(fd, buf, sizeof buf)) > 0)
            total += (uint64_t)r;
        struct timespec cpu;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        uint64_t answer[2] = {total, (uint64_t)cpu.tv_sec * 1000000 + (uint64_t)cpu.tv_nsec / 1000};
        write_full(fd, answer, sizeof answer);
    } else {
        while (r > 0) {
            if (write_full(fd, buf, (size_t)r) < 0)
                break;
            r = read(fd, buf, sizeof buf);
        }
    }
    close(fd);
    return NULL;
}

static _Noreturn void serve(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4096) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) < 0)
        die("listen");
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == EMFILE)
                continue;
            die("accept");
        }
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        if (pthread_create(&t, &at, serve_conn, (void *)(intptr_t)c) != 0)
            close(c);
        pthread_attr_destroy(&at);
    }
}

static int dial(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect");
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

static int bulk(int port, long mib)
{
    int s = dial(port);
    static char buf[1 << 18];
    memset(buf, 'B', sizeof buf);
    uint64_t total = (uint64_t)mib << 20, sent = 0;
    uint64_t t0 = now_us();
    while (sent < total) {
        size_t k = total - sent < sizeof buf ? (size_t)(total - sent) : sizeof buf;
        if (write_full(s, buf, k) < 0)
            die("write");
        sent += k;
    }
    shutdown(s, SHUT_WR);
    uint64_t answer[2]; /* bytes the sink got, its thread's CPU time in µs */
    if (read_full(s, answer, sizeof answer) < 0)
        die("read count");
    uint64_t got = answer[0];
    double dt = (double)(now_us() - t0) / 1e6;
    if (got != total) {
        fprintf(stderr, "sink got %llu of %llu bytes\n", (unsigned long long)got, (unsigned long long)total);
        return 1;
    }
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    printf("%.0f MB/s %llu client_cpu_ms %llu sink_cpu_ms\n", (double)total / dt / 1e6,
           (unsigned long long)cpu.tv_sec * 1000 + (unsigned long long)cpu.tv_nsec / 1000000,
           (unsigned long long)(answer[1] / 1000));
    close(s);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(uint64_t *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    long i50 = n / 2, i99 = (long)((double)n * 0.99);
    if (i99 >= n)
        i99 = n - 1;
    printf("p50 %llu p99 %llu max %llu us\n", (unsigned long long)v[i50], (unsigned long long)v[i99],
           (unsigned long long)v[n - 1]);
}

/* Like report, with the 1st percentile first (a delay can be early too). */
static void report_low(const char *what, uint64_t *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    long i1 = n / 100, i99 = (long)((double)n * 0.99);
    if (i99 >= n)
        i99 = n - 1;
    printf("%s p1 %llu p50 %llu p99 %llu max %llu us\n", what, (unsigned long long)v[i1],
           (unsigned long long)v[n / 2], (unsigned long long)v[i99], (unsigned long long)v[n - 1]);
}

/* One 64-byte round trip on s; returns its time in µs. */
static uint64_t round_trip(int s)
{
    char msg[64];
    memset(msg, 'r', sizeof msg);
    uint64_t t0 = now_us();
    if (write_full(s, msg, sizeof msg) < 0 || read_full(s, msg, sizeof msg) < 0)
        die("rtt");
    return now_us() - t0;
}

static int rtt(int port, long n)
{
    int s = dial(port);
    uint64_t *v = calloc((size_t)n, sizeof *v);
    for (int w = 0; w < 200; w++) /* warm up */
        round_trip(s);
    for (long i = 0; i < n; i++)
        v[i] = round_trip(s);
    report(v, n);
    free(v);
    close(s);
    return 0;
}

/* One connection per port, n round trips on each, the ports taking turns
 * in bursts of n / rounds: whatever else the box does meanwhile falls on
 * every port alike. Prints one "PORT p50 .. p99 .. max .. us" line each. */
static int rtt_turns(long n, long rounds, int nports, char **ports)
{
    int *s = calloc((size_t)nports, sizeof *s);
    uint64_t **v = calloc((size_t)nports, sizeof *v);
    long burst = n / rounds > 0 ? n / rounds : 1, done = 0;
    for (int p = 0; p < nports; p++) {
        s[p] = dial(atoi(ports[p]));
        v[p] = calloc((size_t)n, sizeof **v);
        for (int w = 0; w < 200; w++)
            round_trip(s[p]);
    }
    while (done < n) {
        long k = n - done < burst ? n - done : burst;
        for (int p = 0; p < nports; p++)
            for (long i = 0; i < k; i++)
                v[p][done + i] = round_trip(s[p]);
        done += k;
    }
    for (int p = 0; p < nports; p++) {
        printf("%s ", ports[p]);
        report(v[p], n);
        free(v[p]);
        close(s[p]);
    }
    free(v);
    free(s);
    return 0;
}

typedef struct paced {
    int fd;
    long n;
    uint64_t *rtt;  /* client write -> client thread has the echo, µs */
    uint64_t *leg;  /* server write -> kernel receive stamp on our socket, µs */
} paced;

/* Reads the echoes with the kernel's receive time of each (SO_TIMESTAMPNS:
 * when the bytes reached our socket, however late this thread wakes). */
static void *paced_reader(void *arg)
{
    paced *p = arg;
    for (long i = 0; i < p->n; i++) {
        uint64_t m[PACED_BYTES / 8];
        size_t got = 0;
        uint64_t rx_ns = 0;
        while (got < sizeof m) {
            char ctl[256];
            struct iovec iov = {(char *)m + got, sizeof m - got};
            struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                                .msg_controllen = sizeof ctl};
            ssize_t r = recvmsg(p->fd, &mh, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                die("paced read");
            got += (size_t)r;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    rx_ns = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
                }
        }
        p->rtt[i] = now_us() - m[1];
        if (!rx_ns)
            die("no receive timestamp");
        p->leg[i] = rx_ns > m[3] ? (rx_ns - m[3]) / 1000 : 0;
    }
    return NULL;
}

static int paced_run(int port, long n, long gap_us)
{
    paced p = {dial(port), n, calloc((size_t)n, sizeof(uint64_t)), calloc((size_t)n, sizeof(uint64_t))};
    int one = 1;
    if (setsockopt(p.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0)
        die("SO_TIMESTAMPNS");
    pthread_t t;
    pthread_create(&t, NULL, paced_reader, &p);
    /* Absolute sleeps: no polling loop competing for the two cores. */
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (long i = 0; i < n; i++) {
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
        /* first byte 'P' so the server echoes it stamped */
        uint64_t m[PACED_BYTES / 8] = {'P', now_us(), (uint64_t)i};
        if (write_full(p.fd, m, sizeof m) < 0)
            die("paced write");
        next.tv_nsec += gap_us * 1000;
        while (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
    }
    pthread_join(t, NULL);
    report_low("rtt", p.rtt, n);
    report_low("leg", p.leg, n);
    free(p.rtt);
    free(p.leg);
    close(p.fd);
    return 0;
}

typedef struct storm_arg {
    int port;
    long n;
    long failed;
} storm_arg;

static void *storm_thread(void *arg)
{
    storm_arg *a = arg;
    for (long i = 0; i < a->n; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        struct timeval tv = {10, 0};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c = 'x';
        if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0 || write_full(s, &c, 1) < 0 ||
            read_full(s, &c, 1) < 0 || c != 'x')
            a->failed++;
        close(s);
    }
    return NULL;
}

static int storm(int port, long n, int threads)
{
    storm_arg *a = calloc((size_t)threads, sizeof *a);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    uint64_t t0 = now_us();
    for (int i = 0; i < threads; i++) {
        a[i].port = port;
        a[i].n = n / threads + (i < n % threads);
        pthread_create(&t[i], NULL, storm_thread, &a[i]);
    }
    long failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        failed += a[i].failed;
    }
    double dt = (double)(now_us() - t0) / 1e6;
    printf("%.0f conn/s %.2f s %ld failed\n", (double)n / dt, dt, failed);
    free(a);
    free(t);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        serve();
    if (argc == 4 && strcmp(argv[1], "bulk") == 0)
        return bulk(atoi(argv[2]), atol(argv[3]));
    if (argc >= 5 && strcmp(argv[1], "rtt-turns") == 0)
        return rtt_turns(atol(argv[2]), atol(argv[3]), argc - 4, argv + 4);
    if (argc == 4 && strcmp(argv[1], "rtt") == 0)
        return rtt(atoi(argv[2]), atol(argv[3]));
    if (argc == 5 && strcmp(argv[1], "paced") == 0)
        return paced_run(atoi(argv[2]), atol(argv[3]), atol(argv[4]));
    if (argc == 5 && strcmp(argv[1], "storm") == 0)
        return storm(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: proxy_load serve | bulk PORT MIB | rtt PORT N | rtt-turns N ROUNDS PORT... | "
                    "paced PORT N GAP_US | storm PORT N THREADS\n");
    return 2;
}
