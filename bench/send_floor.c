/* send_floor.c — what a delivery costs the kernel alone on this box:
 * sending threads send() a ready-made WebSocket text frame to each of N
 * loopback TCP connections in turn (channel by channel, 50 connections a
 * channel, as bench/server_scale.sh's scenario fans out), and reader
 * processes drain them with epoll, woken per delivery as a load generator
 * is. No framing, no JSON, no event library: the floor under any server's
 * cost per delivery, to set beside rtchaos-server's and Node's
 * (bench/RESULTS.md). Not a test; prints figures.
 *
 *   send_floor CONNS RATE SECONDS [FRAME_BYTES] [READERS] [THREADS]
 *
 * RATE deliveries/s, paced every millisecond; 0 = as fast as the threads
 * can (their ceiling). THREADS (default 1) sending threads, each with its
 * own slice of the connections and share of the rate. Prints deliveries/s
 * sent, the senders' CPU (% of one core, user and system), their CPU µs per
 * delivery, and the readers' CPU (% of one core, all of them together),
 * each over the sending window.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PER_CHANNEL 50

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

/* a process's CPU seconds so far (utime + stime of /proc/PID/stat) */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the fields after the command name */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

typedef struct sender {
    pthread_t tid;
    int *fds, n;
    double rate, t0, secs;
    const char *frame;
    int frame_bytes;
    uint64_t sent, again; /* deliveries, and sends that were short or failed */
} sender;

static void *send_loop(void *arg)
{
    sender *sd = arg;
    double t;
    int next = 0;
    while ((t = now_s()) < sd->t0 + sd->secs) {
        uint64_t due = sd->rate > 0 ? (uint64_t)((t - sd->t0) * sd->rate) : sd->sent + PER_CHANNEL * 8;
        while (sd->sent < due) {
            /* one event: its channel's 50 connections */
            for (int k = 0; k < PER_CHANNEL && sd->sent < due; k++) {
                if (send(sd->fds[next], sd->frame, (size_t)sd->frame_bytes, MSG_DONTWAIT) != sd->frame_bytes)
                    sd->again++;
                sd->sent++;
                next = (next + 1) % sd->n;
            }
        }
        if (sd->rate > 0) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    return NULL;
}

static void die(const char *what)
{
    fprintf(stderr, "send_floor: %s: %s\n", what, strerror(errno));
    exit(3);
}

/* a reader: `count` connections from 127.0.0.(2+idx), drained until every
 * one has closed or `limit_s` passed */
static void reader(int idx, int port, int count, double limit_s)
{
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            die("socket");
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)idx);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
            die("bind");
        struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        dst.sin_addr.s_addr = htonl(0x7f000001u);
        if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0)
            die("connect");
        fcntl(fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }
    static char buf[65536];
    struct epoll_event evs[256];
    int open = count;
    double end = now_s() + limit_s;
    while (open > 0 && now_s() < end) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            ssize_t r = read(evs[i].data.fd, buf, sizeof buf);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                close(evs[i].data.fd);
                open--;
            }
        }
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: send_floor CONNS RATE SECONDS [FRAME_BYTES] [READERS] [THREADS]\n");
        return 2;
    }
    int conns = atoi(argv[1]);
    double rate = atof(argv[2]);
    double secs = atof(argv[3]);
    int frame_bytes = argc > 4 ? atoi(argv[4]) : 150;
    int readers = argc > 5 ? atoi(argv[5]) : 4;
    int threads = argc > 6 ? atoi(argv[6]) : 1;
    if (secs <= 0 || frame_bytes < 130 || frame_bytes > 4096 || readers < 1 || readers > 200 || threads < 1 ||
        threads > 16 || conns < PER_CHANNEL * threads) {
        fprintf(stderr, "send_floor: bad arguments (FRAME_BYTES 130..4096, READERS 1..200, THREADS 1..16, "
                        "CONNS at least 50 a thread)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(0x7f000001u);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0)
        die("listen");
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    int port = ntohs(a.sin_port);

    pid_t *kids = calloc((size_t)readers, sizeof *kids);
    for (int r = 0; r < readers; r++) {
        int count = conns / readers + (r < conns % readers);
        kids[r] = fork();
        if (kids[r] == 0)
            reader(r, port, count, secs + 60);
        if (kids[r] < 0)
            die("fork");
    }
    int *fds = calloc((size_t)conns, sizeof *fds);
    for (int i = 0; i < conns; i++) {
        /* a reader that failed to connect exits: do not wait for it forever */
        struct pollfd pl = {.fd = ls, .events = POLLIN};
        if (poll(&pl, 1, 30000) != 1) {
            fprintf(stderr, "send_floor: %d of %d connections after 30 s (a reader failed?)\n", i, conns);
            return 3;
        }
        fds[i] = accept(ls, NULL, NULL);
        if (fds[i] < 0)
            die("accept");
        int one = 1;
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
    }
    /* deal the connections out so a channel's 50 belong to every reader,
     * as the fleet's clients are spread over its workers */
    for (int i = conns - 1; i > 0; i--) {
        int j = (int)(((uint64_t)i * 2654435761u) % (uint64_t)(i + 1));
        int t = fds[i];
        fds[i] = fds[j];
        fds[j] = t;
    }
    /* a text frame with a 16-bit length, as the server sends an event */
    char frame[4096];
    memset(frame, 'x', sizeof frame);
    frame[0] = (char)0x81;
    frame[1] = 126;
    frame[2] = (char)((frame_bytes - 4) >> 8);
    frame[3] = (char)((frame_bytes - 4) & 0xff);

    sleep(1); /* let the readers settle into epoll_wait */
    struct rusage r0, r1;
    double kid0 = 0, kid1 = 0;
    for (int r = 0; r < readers; r++)
        kid0 += proc_cpu_s(kids[r]);
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_s();
    sender *snd = calloc((size_t)threads, sizeof *snd);
    for (int i = 0; i < threads; i++) {
        /* each thread its own slice of the connections and share of the rate */
        int lo = (int)((int64_t)conns * i / threads), hi = (int)((int64_t)conns * (i + 1) / threads);
        snd[i] = (sender){.fds = fds + lo, .n = hi - lo, .rate = rate / threads, .t0 = t0, .secs = secs,
                          .frame = frame, .frame_bytes = frame_bytes};
        if (pthread_create(&snd[i].tid, NULL, send_loop, &snd[i]))
            die("pthread_create");
    }
    uint64_t sent = 0, again = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(snd[i].tid, NULL);
        sent += snd[i].sent;
        again += snd[i].again;
    }
    free(snd);
    getrusage(RUSAGE_SELF, &r1);
    double wall = now_s() - t0;
    for (int r = 0; r < readers; r++)
        kid1 += proc_cpu_s(kids[r]);
    double user = cpu_s(&r1.ru_utime) - cpu_s(&r0.ru_utime);
    double sys = cpu_s(&r1.ru_stime) - cpu_s(&r0.ru_stime);
    for (int i = 0; i < conns; i++)
        close(fds[i]);
    for (int r = 0; r < readers; r++)
        waitpid(kids[r], NULL, 0);
    printf("conns %d frame %d B threads %d: %.0f deliveries/s (asked %s), sender CPU %.1f%% (user %.1f%%, sys %.1f%%), "
           "%.2f us/delivery, readers CPU %.1f%%, short sends %llu\n",
           conns, frame_bytes, threads, sent / wall, rate > 0 ? argv[2] : "max", 100 * (user + sys) / wall,
           100 * user / wall, 100 * sys / wall, 1e6 * (user + sys) / (double)sent, 100 * (kid1 - kid0) / wall,
           (unsigned long long)again);
    free(fds);
    free(kids);
    return 0;
}
