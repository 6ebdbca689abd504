/* fanout_client.c — load client for bench/server_fanout.sh: opens many
 * WebSocket subscribers and one publisher against a wire-contract-v1 server
 * and measures fan-out deliveries per second (closed loop: a burst of events
 * is published, the next burst starts when every subscriber has received the
 * whole burst), or holds idle subscribed connections open for a memory
 * measurement. Plain sockets + epoll: the frame parsing it needs is a few
 * lines (count text frames), and a library client would cost more CPU than
 * the servers under test. Not a test; prints figures.
 *
 *   fanout_client fanout PORT SUBS BURST SECONDS [PAYLOAD_BYTES]
 *   fanout_client idle PORT CONNS      (prints "ready N", holds until stdin closes)
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>

typedef struct conn {
    int fd;
    unsigned char hdr[14];
    int hlen;
    uint64_t payload_left;
    int op;
    uint64_t frames; /* text frames received */
} conn;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "fanout_client: %s: %s\n", what, strerror(errno));
    exit(3);
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            if (errno == EAGAIN)
                usleep(50);
            continue;
        }
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Connects and upgrades to WebSocket (blocking), then makes fd non-blocking. */
static int ws_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", port);
    if (write_all(fd, req, (size_t)n))
        die("handshake write");
    /* Read the response byte by byte up to the blank line, so no frame bytes
     * that follow are consumed here. */
    char resp[1024];
    size_t r = 0;
    while (r < sizeof(resp) - 1) {
        ssize_t k = read(fd, resp + r, 1);
        if (k <= 0)
            die("handshake read");
        r++;
        if (r >= 4 && memcmp(resp + r - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    resp[r] = '\0';
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "fanout_client: upgrade refused: %.80s\n", resp);
        exit(3);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Appends a masked text frame (mask key 0: legal, and the payload stays as is). */
static size_t frame(unsigned char *out, const char *text, size_t len)
{
    size_t h = 0;
    out[h++] = 0x81;
    if (len < 126) {
        out[h++] = (unsigned char)(0x80 | len);
    } else {
        out[h++] = 0x80 | 126;
        out[h++] = (unsigned char)(len >> 8);
        out[h++] = (unsigned char)len;
    }
    memset(out + h, 0, 4);
    h += 4;
    memcpy(out + h, text, len);
    return h + len;
}

static void send_text(int fd, const char *text)
{
    unsigned char buf[4096];
    size_t n = frame(buf, text, strlen(text));
    if (write_all(fd, buf, n))
        die("send");
}

/* Feeds bytes to c's frame parser; counts complete text frames. */
static void feed(conn *c, const unsigned char *p, size_t len)
{
    const unsigned char *end = p + len;
    while (p < end) {
        if (c->payload_left) {
            uint64_t skip = (uint64_t)(end - p) < c->payload_left ? (uint64_t)(end - p) : c->payload_left;
            p += skip;
            c->payload_left -= skip;
            if (!c->payload_left && c->op == 1)
                c->frames++;
            continue;
        }
        c->hdr[c->hlen++] = *p++;
        if (c->hlen < 2)
            continue;
        int l7 = c->hdr[1] & 0x7f;
        int need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
        if (c->hlen < need)
            continue;
        uint64_t plen = (uint64_t)l7;
        if (l7 == 126)
            plen = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
        else if (l7 == 127) {
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | c->hdr[2 + i];
        }
        c->op = c->hdr[0] & 0x0f;
        c->hlen = 0;
        if (c->op == 8) {
            fprintf(stderr, "fanout_client: server closed a connection\n");
            exit(3);
        }
        c->payload_left = plen;
        if (!plen && c->op == 1)
            c->frames++;
    }
}

static unsigned char rbuf[1 << 18];

/* Reads whatever is ready on the epoll set until every conn has `want`
 * frames or the deadline passes. Returns 0 or -1 on timeout. */
static int pump(int ep, conn *cs, int n, uint64_t want, double deadline)
{
    struct epoll_event evs[256];
    int done = 0;
    for (int i = 0; i < n; i++)
        done += cs[i].frames >= want;
    while (done < n) {
        if (now_s() > deadline)
            return -1;
        int k = epoll_wait(ep, evs, 256, 100);
        if (k < 0 && errno != EINTR)
            die("epoll_wait");
        for (int e = 0; e < k; e++) {
            conn *c = evs[e].data.ptr;
            for (;;) {
                ssize_t r = read(c->fd, rbuf, sizeof(rbuf));
                if (r > 0) {
                    int before = c->frames >= want;
                    feed(c, rbuf, (size_t)r);
                    done += !before && c->frames >= want;
                    if ((size_t)r < sizeof(rbuf))
                        break;
                    continue;
                }
                if (r == 0) {
                    fprintf(stderr, "fanout_client: connection closed by the server\n");
                    exit(3);
                }
                if (errno == EINTR)
                    continue;
                break; /* EAGAIN */
            }
        }
    }
    return 0;
}

static conn *open_subscribers(int port, int n, int ep)
{
    conn *cs = calloc((size_t)n, sizeof(*cs));
    if (!cs)
        die("calloc");
    for (int i = 0; i < n; i++) {
        cs[i].fd = ws_connect(port);
        send_text(cs[i].fd, "{\"op\":\"sub\",\"ch\":\"bench\"}");
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev))
            die("epoll_ctl");
    }
    if (pump(ep, cs, n, 1, now_s() + 60)) { /* every "subscribed" */
        fprintf(stderr, "fanout_client: subscriptions not confirmed in 60 s\n");
        exit(3);
    }
    return cs;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fanout_client fanout PORT SUBS BURST SECONDS [PAYLOAD_BYTES]\n"
                        "       fanout_client idle PORT CONNS\n");
        return 2;
    }
    int port = atoi(argv[2]);
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    if (strcmp(argv[1], "idle") == 0) {
        int n = atoi(argv[3]);
        conn *cs = open_subscribers(port, n, ep);
        printf("ready %d\n", n);
        fflush(stdout);
        char line[64];
        while (fgets(line, sizeof(line), stdin)) {
        }
        for (int i = 0; i < n; i++)
            close(cs[i].fd);
        free(cs);
        return 0;
    }
    if (argc < 6)
        return 2;
    int subs = atoi(argv[3]), burst = atoi(argv[4]);
    double seconds = atof(argv[5]);
    int payload = argc > 6 ? atoi(argv[6]) : 64;
    if (subs < 1 || burst < 1 || burst > 1000 || payload < 1 || payload > 2000)
        return 2;
    conn *cs = open_subscribers(port, subs, ep);
    int pub = ws_connect(port);

    char pad[2048];
    memset(pad, 'x', (size_t)payload);
    pad[payload] = '\0';
    size_t cap = (size_t)burst * ((size_t)payload + 96);
    unsigned char *out = malloc(cap);
    if (!out)
        die("malloc");
    uint64_t want = 1, bursts = 0;
    double t0 = now_s(), t_end = t0 + seconds;
    while (now_s() < t_end) {
        size_t len = 0;
        for (int i = 0; i < burst; i++) {
            char text[2200];
            int n = snprintf(text, sizeof(text), "{\"op\":\"pub\",\"ch\":\"bench\",\"data\":{\"i\":%llu,\"p\":\"%s\"}}",
                             (unsigned long long)(bursts * (uint64_t)burst + (uint64_t)i), pad);
            len += frame(out + len, text, (size_t)n);
        }
        if (write_all(pub, out, len))
            die("publish");
        want += (uint64_t)burst;
        if (pump(ep, cs, subs, want, now_s() + 30)) {
            fprintf(stderr, "fanout_client: a burst was not delivered within 30 s\n");
            return 3;
        }
        bursts++;
    }
    double el = now_s() - t0;
    uint64_t deliveries = bursts * (uint64_t)burst * (uint64_t)subs;
    printf("subs=%d burst=%d bursts=%llu deliveries=%llu seconds=%.2f deliveries_per_s=%.0f\n", subs,
           burst, (unsigned long long)bursts, (unsigned long long)deliveries, el, deliveries / el);
    for (int i = 0; i < subs; i++)
        close(cs[i].fd);
    close(pub);
    free(cs);
    free(out);
    return 0;
}
