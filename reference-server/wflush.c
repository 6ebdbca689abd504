/* wflush.c — live events written at the end of the loop pass that queued
 * them (--ws-write-direct 1, the default: srv.write_direct is set).
 *
 * Fan-out used to ask lws for WRITEABLE on every subscriber
 * (lws_callback_on_writable). With lws 4.1's libev glue that is, per
 * connection per event: an epoll_ctl(MOD) arming POLLOUT, the wake-up that
 * reports it, and another epoll_ctl(MOD) disarming it after the callback —
 * at 10,000 connections about 12% of the server's CPU went to epoll_ctl
 * alone. A connection whose socket is not backed up does not need the
 * round trip: it is written directly, once per pass however many events it
 * got in it (the queue goes out in one raw write, as from WRITEABLE). When
 * that is not safe (ws_write_direct in ws.c says when: a partial write
 * pending, a close under way) or more is left than one write takes, the
 * connection goes the WRITEABLE way as before.
 *
 * The pass's list is an array of sessions plus the slot in the session
 * (flush_ix), so marking is O(1), a session is listed once per pass, and a
 * session released before the pass ends leaves a NULL behind.
 *
 * With --send-threads N > 1 the writes themselves are shared out: write_queue
 * builds each connection's write (in the loop's thread, as before) and hands
 * it to wflush_defer, which copies it into the pass's buffer; at the end of
 * the pass the loop's thread send()s the list, and the N - 1 senders that
 * are free take chunks of it too; the loop's thread waits only for chunks
 * already taken before it looks at the results. At 10,000 connections the kernel's TCP send (on loopback the
 * receiver's side too) is ~80% of the server's CPU per delivery, so this is
 * what puts a fan-out on more than one core. The senders touch nothing but
 * the copied bytes and their socket; lws and every session are the loop
 * thread's alone, before and after (it is sending or waiting while they
 * send, so no descriptor closes or is reused under them). A write the kernel did not
 * take whole goes the usual way: its rest through lws_write, which buffers
 * it and asks for WRITEABLE (lws_issue_raw), in order; a write that failed
 * (reset peer) closes the connection, as the direct write did. TLS
 * connections are written in place (the TLS state is lws's). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "server.h"

#define SEND_MIN_SPLIT 32 /* fewer writes in a pass: the loop's thread sends them alone */
#define SEND_CHUNK 8      /* writes a thread claims at a time */

typedef struct wsend_item {
    session *s;
    struct lws *wsi;
    int fd;
    unsigned events;
    size_t off, len;
    ssize_t sent;          /* what send() took; -1 with err */
    int err;
} wsend_item;

/* The senders help while a pass's list is open: each claims SEND_CHUNK
 * writes at a time from `next` (so does the loop's thread), and the loop's
 * thread, out of writes to claim, closes the list and waits only for the
 * chunks already claimed. A sender the scheduler wakes late finds the list
 * closed and sleeps on: the loop never waits for a sender to be scheduled. */
struct wsend {
    pthread_t *th;
    unsigned started;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t gen;          /* bumped per pass the senders may help with */
    int open;              /* the list may be claimed from */
    unsigned busy;         /* senders inside the list */
    uint64_t helped;       /* writes the senders sent (rtchaos_ws_sender_writes_total) */
    uint32_t next;         /* the next unclaimed write (atomic) */
    int stop;
    unsigned char *buf;
    size_t blen, bcap;
    wsend_item *it;
    uint32_t n, cap;
};

/* Sends chunks of the list until none is left; how many writes it sent. */
static uint32_t send_claimed(struct wsend *w)
{
    uint32_t sent = 0;
    for (;;) {
        uint32_t a = __atomic_fetch_add(&w->next, SEND_CHUNK, __ATOMIC_RELAXED);
        if (a >= w->n)
            return sent;
        uint32_t b = a + SEND_CHUNK < w->n ? a + SEND_CHUNK : w->n;
        sent += b - a;
        for (uint32_t i = a; i < b; i++) {
            wsend_item *x = &w->it[i];
            do
                x->sent = send(x->fd, w->buf + x->off, x->len, MSG_NOSIGNAL | MSG_DONTWAIT);
            while (x->sent < 0 && errno == EINTR);
            x->err = x->sent < 0 ? errno : 0;
        }
    }
}

static void *sender_main(void *arg)
{
    struct wsend *w = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && (w->gen == seen || !w->open))
            pthread_cond_wait(&w->go, &w->mu);
        if (w->stop)
            break;
        seen = w->gen;
        w->busy++;
        pthread_mutex_unlock(&w->mu);
        uint32_t k = send_claimed(w);
        pthread_mutex_lock(&w->mu);
        w->helped += k;
        if (--w->busy == 0 && !w->open)
            pthread_cond_signal(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int wflush_init(srv *S, unsigned threads)
{
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned)cpus;
    }
    if (threads <= 1 || !S->write_direct)
        return 0;
    struct wsend *w = calloc(1, sizeof(*w));
    if (!w || !(w->th = calloc(threads - 1, sizeof(*w->th)))) {
        free(w);
        log_error("send threads: out of memory");
        return -1;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->go, NULL);
    pthread_cond_init(&w->done, NULL);
    S->snd = w;
    for (unsigned i = 1; i < threads; i++) {
        int e = pthread_create(&w->th[i - 1], NULL, sender_main, w);
        if (e) {
            log_error("send threads: cannot start one: %s", strerror(e));
            return -1;
        }
        w->started++;
    }
    log_info("send threads: %u (the loop's and %u more) share each pass's WebSocket writes", threads,
             threads - 1);
    return 0;
}

int wflush_defer(srv *S, session *s, struct lws *wsi, const unsigned char *buf, size_t len, unsigned events)
{
    struct wsend *w = S->snd;
    if (!w || lws_is_ssl(wsi))
        return 0;
    if (w->n == w->cap) {
        uint32_t cap = w->cap ? w->cap * 2 : 1024;
        wsend_item *n = realloc(w->it, cap * sizeof(*n));
        if (!n)
            return 0;
        w->it = n;
        w->cap = cap;
    }
    if (w->blen + len > w->bcap) {
        size_t cap = w->bcap ? w->bcap : 65536;
        while (cap < w->blen + len)
            cap *= 2;
        unsigned char *b = realloc(w->buf, cap);
        if (!b)
            return 0;
        w->buf = b;
        w->bcap = cap;
    }
    memcpy(w->buf + w->blen, buf, len);
    w->it[w->n++] = (wsend_item){.s = s, .wsi = wsi, .fd = lws_get_socket_fd(wsi), .events = events,
                                 .off = w->blen, .len = len};
    w->blen += len;
    return 1;
}

/* Sends the pass's deferred writes (this thread, and the senders that are
 * free to help), then settles each in the loop's thread: counted when
 * whole, the rest through lws when short, closed when failed. */
static void send_deferred(srv *S)
{
    struct wsend *w = S->snd;
    __atomic_store_n(&w->next, 0, __ATOMIC_RELAXED);
    if (w->n >= SEND_MIN_SPLIT && w->started) {
        S->m.ws_send_split_passes++;
        pthread_mutex_lock(&w->mu);
        w->open = 1;
        w->gen++;
        pthread_cond_broadcast(&w->go);
        pthread_mutex_unlock(&w->mu);
        send_claimed(w);
        pthread_mutex_lock(&w->mu);
        w->open = 0;
        while (w->busy)
            pthread_cond_wait(&w->done, &w->mu);
        S->m.ws_sender_writes += w->helped;
        w->helped = 0;
        pthread_mutex_unlock(&w->mu);
    } else {
        send_claimed(w);
    }
    uint64_t now = clock_mono_us();
    for (uint32_t i = 0; i < w->n; i++) {
        wsend_item *x = &w->it[i];
        session *s = x->s;
        size_t took = x->sent > 0 ? (size_t)x->sent : 0;
        int failed = x->sent < 0 && x->err != EAGAIN && x->err != EWOULDBLOCK;
        if (!failed && took < x->len) {
            /* the kernel's buffer is full: lws keeps the rest and asks for
             * WRITEABLE (lws_issue_raw), in order before anything later */
            size_t rest = x->len - took;
            memcpy((unsigned char *)S->out + LWS_PRE, w->buf + x->off + took, rest);
            failed = lws_write(x->wsi, (unsigned char *)S->out + LWS_PRE, rest, LWS_WRITE_HTTP) < (int)rest;
        }
        if (failed) {
            log_debug("ws: write failed (peer gone); closing");
            conn_close_soon(s, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "write failed", 1);
            lws_set_timeout(x->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        s->last_progress_us = now;
        if (x->events) {
            S->m.stream_writes[MT_WS]++;
            S->m.ws_direct_writes++;
        }
    }
    w->n = 0;
    w->blen = 0;
}

void wflush_mark(srv *S, session *s)
{
    if (s->flush_ix)
        return; /* already due in this pass */
    if (!S->write_direct || s->kind != SESS_WS || !s->wsi) {
        if (s->wsi)
            lws_callback_on_writable(s->wsi);
        return;
    }
    if (S->nflush == S->flush_cap) {
        uint32_t cap = S->flush_cap ? S->flush_cap * 2 : 1024;
        session **n = realloc(S->flush, cap * sizeof(*n));
        if (!n) { /* the WRITEABLE way needs no memory */
            lws_callback_on_writable(s->wsi);
            return;
        }
        S->flush = n;
        S->flush_cap = cap;
    }
    S->flush[S->nflush++] = s;
    s->flush_ix = S->nflush;
}

void wflush_forget(session *s)
{
    srv *S = s->srv;
    if (s->flush_ix && S && s->flush_ix <= S->nflush && S->flush[s->flush_ix - 1] == s)
        S->flush[s->flush_ix - 1] = NULL;
    s->flush_ix = 0;
}

void wflush_run(srv *S)
{
    /* (a write never releases a session or marks another one: the list
     * does not change under the loop except for the slots it clears) */
    for (uint32_t i = 0; i < S->nflush; i++) {
        session *s = S->flush[i];
        if (!s)
            continue;
        S->flush[i] = NULL;
        s->flush_ix = 0;
        if (S->write_direct(S, s) < 0) {
            /* what WRITEABLE's -1 would do: lws closes the connection
             * (debug: a peer gone without a close is not news, and a
             * fleet killed at once would log a line per connection) */
            log_debug("ws: write failed (peer gone); closing");
            conn_close_soon(s, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "write failed", 1);
            if (s->wsi)
                lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
    }
    S->nflush = 0;
    if (S->snd && S->snd->n)
        send_deferred(S);
}

void wflush_free(srv *S)
{
    struct wsend *w = S->snd;
    if (w) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_broadcast(&w->go);
        pthread_mutex_unlock(&w->mu);
        for (unsigned i = 0; i < w->started; i++)
            pthread_join(w->th[i], NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->go);
        pthread_cond_destroy(&w->done);
        free(w->th);
        free(w->buf);
        free(w->it);
        free(w);
        S->snd = NULL;
    }
    free(S->flush);
    S->flush = NULL;
    S->nflush = S->flush_cap = 0;
}
