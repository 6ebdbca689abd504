/* http_conn.c — per-connection HTTP/1.1 state across keep-alive requests:
 * the pipelining guard's read marks and the request deadline (http_conn.h
 * says why both exist). */
#include "http_conn.h"

#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "clock.h"
#include "handshake.h"

#define BUCKETS 16384u       /* hash buckets: chains stay short up to ~100k connections */
#define SWEEP_US (250 * 1000) /* how often expired deadlines are looked for */
/* tcpi_state values once the peer's FIN has arrived (the kernel's
 * include/net/tcp_states.h; <linux/tcp.h> does not name them and glibc's
 * <netinet/tcp.h>, which does, conflicts with <linux/tcp.h>) */
enum { ST_TIME_WAIT = 6, ST_CLOSE_WAIT = 8, ST_LAST_ACK = 9, ST_CLOSING = 11 };

typedef struct conn_ent {
    struct conn_ent *next;
    const struct lws *wsi;
    uint32_t nreq;           /* request heads seen on this connection */
    int mark_valid;          /* bytes_read holds the count at the last answer */
    uint64_t mark;
    void *tok;               /* request deadline (handshake.c entry) or NULL */
    int has_body, pipelined; /* of the request under way (http_conn_head) */
    uint64_t head_us;        /* monotonic: when that request's head arrived */
} conn_ent;

static struct {
    struct lws_context *ctx;
    conn_ent **buckets;
    size_t n, cap;
    handshake_table *deadlines;
    lws_sorted_usec_list_t sweep;
    int sweeping;
    void (*tick)(void *ud);
    void *tick_ud;
    http_conn_stats st;
} g;

int http_conn_bytes_read(int fd, uint64_t *out)
{
    /* bytes received (in order, acknowledged) minus those still queued =
     * bytes read by the process. Two calls race with arriving data, so the
     * queue is read before and after and the pair retried when it moved
     * (only arrivals move it: this thread is the only reader). */
    for (int tries = 0; tries < 8; tries++) {
        int q1 = 0, q2 = 0;
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (ioctl(fd, SIOCINQ, &q1) < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ||
            ioctl(fd, SIOCINQ, &q2) < 0)
            return -1;
        if (tl < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
            return -1; /* kernel older than 4.1 */
        if (q1 != q2)
            continue;
        uint64_t got = ti.tcpi_bytes_received;
        /* A FIN takes one sequence number, which bytes_received counts; the
         * queue size (SIOCINQ) leaves it out. */
        if (ti.tcpi_state == ST_CLOSE_WAIT || ti.tcpi_state == ST_LAST_ACK ||
            ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT)
            got = got ? got - 1 : 0;
        *out = got >= (uint64_t)q1 ? got - (uint64_t)q1 : 0;
        return 0;
    }
    return -1;
}

static size_t bucket_of(const struct lws *wsi)
{
    uintptr_t h = (uintptr_t)wsi;
    h ^= h >> 17;
    h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 7) % BUCKETS;
}

static conn_ent *find(const struct lws *wsi, conn_ent ***link_out)
{
    if (!g.buckets)
        return NULL;
    conn_ent **link = &g.buckets[bucket_of(wsi)];
    for (; *link; link = &(*link)->next)
        if ((*link)->wsi == wsi) {
            if (link_out)
                *link_out = link;
            return *link;
        }
    return NULL;
}

static conn_ent *get(struct lws *wsi)
{
    conn_ent *e = find(wsi, NULL);
    if (e || !g.buckets || g.n >= g.cap)
        return e;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->wsi = wsi;
    size_t b = bucket_of(wsi);
    e->next = g.buckets[b];
    g.buckets[b] = e;
    g.n++;
    return e;
}

static void deadline_end(conn_ent *e, int completed)
{
    if (e->tok && handshake_owns(g.deadlines, e->tok))
        handshake_end(g.deadlines, e->tok, e->wsi, completed);
    e->tok = NULL;
}

static void deadline_start(conn_ent *e)
{
    deadline_end(e, 1);
    e->tok = handshake_begin(g.deadlines, (void *)e->wsi, clock_mono_us());
}

static void cut(void *conn, void *ud)
{
    (void)ud;
    struct lws *wsi = conn;
    conn_ent *e = find(wsi, NULL);
    if (e)
        e->tok = NULL; /* handshake_expire has forgotten it */
    g.st.request_timeouts++;
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_sweep(lws_sorted_usec_list_t *sul)
{
    if (g.deadlines)
        handshake_expire(g.deadlines, clock_mono_us(), cut, NULL);
    if (g.tick)
        g.tick(g.tick_ud);
    if (g.ctx)
        lws_sul_schedule(g.ctx, 0, sul, on_sweep, SWEEP_US);
}

int http_conn_init(struct lws_context *ctx, uint64_t timeout_us, size_t cap)
{
    http_conn_shutdown();
    g.buckets = calloc(BUCKETS, sizeof *g.buckets);
    g.deadlines = handshake_new(cap, timeout_us);
    if (!g.buckets || !g.deadlines) {
        http_conn_shutdown();
        return -1;
    }
    g.cap = cap;
    g.ctx = ctx;
    lws_sul_schedule(ctx, 0, &g.sweep, on_sweep, SWEEP_US);
    g.sweeping = 1;
    return 0;
}

void http_conn_shutdown(void)
{
    if (g.sweeping)
        lws_sul_cancel(&g.sweep);
    for (size_t b = 0; g.buckets && b < BUCKETS; b++)
        for (conn_ent *e = g.buckets[b], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    free(g.buckets);
    handshake_free(g.deadlines);
    http_conn_stats st = g.st;
    memset(&g, 0, sizeof g);
    g.st = st; /* tallies outlive a restart of the table (tests read them) */
}

static void forget(struct lws *wsi, int completed)
{
    conn_ent **link, *e = find(wsi, &link);
    if (!e)
        return;
    deadline_end(e, completed);
    *link = e->next;
    free(e);
    g.n--;
}

void http_conn_gone(struct lws *wsi)
{
    forget(wsi, 0);
}

void http_conn_upgraded(struct lws *wsi)
{
    forget(wsi, 1);
}

void http_conn_open(struct lws *wsi)
{
    http_conn_gone(wsi); /* a freed wsi's address may come back for a new connection */
}

void http_conn_head(struct lws *wsi, int has_body, int *pipelined)
{
    *pipelined = 0;
    conn_ent *e = get(wsi);
    if (!e) {
        /* untracked (table full): a later request with a body cannot be
         * told apart from a pipelined one, so it is refused as one */
        *pipelined = has_body;
        return;
    }
    e->nreq++;
    if (has_body && e->nreq > 1) {
        uint64_t now;
        /* no mark: the previous answer was not ours (a static file), so
         * where this head came from is unknown; refuse rather than risk it */
        if (!e->mark_valid || http_conn_bytes_read(lws_get_socket_fd(wsi), &now) ||
            now == e->mark) {
            *pipelined = 1;
            g.st.pipelined_refused++;
        }
    }
    e->mark_valid = 0;
    e->head_us = clock_mono_us();
    e->has_body = has_body;
    e->pipelined = *pipelined;
    if (has_body) {
        if (!e->tok) /* the first request: its body gets a deadline of its own */
            e->tok = handshake_begin(g.deadlines, wsi, clock_mono_us());
    } else {
        deadline_end(e, 1);
    }
}

void http_conn_request(struct lws *wsi, int *has_body, int *pipelined)
{
    conn_ent *e = find(wsi, NULL);
    *has_body = e ? e->has_body : 1;
    *pipelined = e ? e->pipelined : 1; /* untracked: see http_conn_head */
}

uint64_t http_conn_head_us(struct lws *wsi)
{
    conn_ent *e = find(wsi, NULL);
    return e ? e->head_us : 0;
}

void http_conn_body_done(struct lws *wsi)
{
    conn_ent *e = find(wsi, NULL);
    if (e)
        deadline_end(e, 1);
}

void http_conn_answered(struct lws *wsi)
{
    conn_ent *e = get(wsi);
    if (!e)
        return;
    e->mark_valid = http_conn_bytes_read(lws_get_socket_fd(wsi), &e->mark) == 0;
    deadline_start(e);
}

void http_conn_on_tick(void (*fn)(void *ud), void *ud)
{
    g.tick = fn;
    g.tick_ud = ud;
}

void http_conn_count_stuck(void)
{
    g.st.stuck_closed++;
}

void http_conn_get_stats(http_conn_stats *out)
{
    *out = g.st;
}
