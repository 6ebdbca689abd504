/* relay.c — the bytes of one proxied connection: each direction's chain of
 * toxic stages, the relay and splice modes a direction with nothing to do
 * but copy takes, and the connection's life (read/write/event callbacks,
 * close with a drain deadline, free). proxy.c owns listeners, proxies and
 * the API's changes; it calls in here, never the other way round. */
#include "relay.h"
#include "clock.h"
#include "hist.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Back-pressure: stop reading a source when its destination has OUT_HIGH
 * bytes queued or its toxics hold HELD_CAP bytes; resume below OUT_LOW. */
#define OUT_HIGH (256 * 1024)
#define OUT_LOW (64 * 1024)
#define HELD_CAP (8 * 1024 * 1024)
#define IO_CHUNK (256 * 1024)
#define DRAIN_DEADLINE_US (10 * 1000 * 1000)
#define SNIFF_MAX 1024
#define SPLICE_PIPE_BYTES (1024 * 1024)
/* A direction with nothing to do but copy (no toxic, no protocol to
 * follow) is read by the proxy itself into RELAY_BYTES and written on at
 * once: libevent 2.1's bufferevents read at most 4096 bytes per call
 * (EVBUFFER_MAX_READ), after an ioctl(FIONREAD) each time.
 * Splice by traffic shape, as haproxy's "splice-auto": such a direction is
 * spliced once SPLICE_ENTER_READS reads in a row brought SPLICE_BULK_BYTES
 * or more (bulk; not "a full buffer": a proxy that keeps up reads one
 * loopback segment at a time, 65483 bytes), and goes back to user space
 * once SPLICE_LEAVE_READS splice reads in a row moved less than
 * SPLICE_SMALL_BYTES (real-time messages). Small messages gain nothing from
 * the pipe and pay for it (a page per message, two descriptors held), and a
 * connection that only ever carries them never takes one, however many
 * bytes it carries in all. */
#define RELAY_BYTES (64 * 1024)
#define SPLICE_BULK_BYTES (16 * 1024)
#define SPLICE_ENTER_READS 4
#define SPLICE_LEAVE_READS 16
#define SPLICE_SMALL_BYTES 4096

static void link_run(dlink *l);
static void link_push(dlink *l, int idx, const unsigned char *d, size_t n);
static void link_push_eof(dlink *l, int idx);


/* ---- events ---------------------------------------------------------------- */

void relay_record(proxy *p, uint64_t conn_id, toxic *t, const char *action, json_t *detail)
{
    if (t)
        toxic_count_action(t, action);
    evlog_add(p->s->log, p->name, conn_id, t ? t->name : NULL, action, detail);
}

/* ---- stages ---------------------------------------------------------------- */

static void env_emit(void *u, const unsigned char *d, size_t n)
{
    stage *s = u;
    link_push(s->l, s->idx + 1, d, n);
}

static void env_emit_eof(void *u)
{
    stage *s = u;
    link_push_eof(s->l, s->idx + 1);
}

static void env_close(void *u, tx_close how)
{
    stage *s = u;
    relay_conn_close(s->l->c, how);
}

static void env_record(void *u, const char *action, json_t *detail)
{
    stage *s = u;
    relay_record(s->l->c->p, s->l->c->id, s->tx, action, detail);
}

static void env_lateness(void *u, uint64_t late_us)
{
    stage *s = u;
    if (!s->tx->late)
        s->tx->late = hist_new();
    if (s->tx->late)
        hist_record(s->tx->late, late_us);
}

static stage *stage_new(dlink *l, toxic *t)
{
    conn *c = l->c;
    stage *s = calloc(1, sizeof *s + t->type->state_size);
    if (!s)
        return NULL;
    s->tx = t;
    s->l = l;
    t->refs++;
    s->proto = t->type->protocol ? t->type->protocol(t->attrs) : TX_PROTO_NONE;
    s->base_us = t->common.per_connection ? c->start_us : t->created_us;
    s->msg_base = l->msgs;
    uint64_t root = t->common.has_seed ? t->common.seed : c->p->s->seed;
    uint64_t seed = prng_derive(prng_derive(prng_derive(root, c->p->name_hash), c->id),
                                prng_hash_str(t->name));
    prng_seed(&s->rng, seed);
    s->env.rng = &s->rng;
    s->env.u = s;
    s->env.emit = env_emit;
    s->env.emit_eof = env_emit_eof;
    s->env.close = env_close;
    s->env.record = env_record;
    s->env.lateness = env_lateness;
    s->env.pmd = &c->pmd;
    return s;
}

static void stage_free(stage *s)
{
    toxic *t = s->tx;
    if (t->type->stop)
        t->type->stop(s->state);
    free(s);
    if (--t->refs == 0 && t->removed)
        toxic_free(t);
}

/* Decides (once per connection, or again when the toxicity changes) whether
 * the toxic applies here, then whether its schedule is on now. Returns 1 when
 * the toxic acts; on an on → off edge it first lets the toxic pass on what
 * it holds. *next_us gets the next schedule edge (0: none). */
static int stage_gate(stage *s, uint64_t now_us, uint64_t *next_us)
{
    toxic *t = s->tx;
    conn *c = s->l->c;
    *next_us = 0;
    if (!s->decided || s->drawn_toxicity != t->toxicity) {
        if (t->common.target_path[0] && c->path_state == 0)
            return 0; /* not known yet: undecided, pass through */
        int match = toxic_target_client_match(t->common.target_client, c->client_addr) == 1;
        if (t->common.target_path[0])
            match = match && c->path_state == 1 &&
                    strncmp(c->path, t->common.target_path, strlen(t->common.target_path)) == 0;
        /* The draw happens whatever the match, so targeting does not shift
         * the random sequence of the decisions after it. */
        int drawn = prng_chance(&s->rng, t->toxicity);
        int was = s->decided && s->applies;
        s->decided = 1;
        s->drawn_toxicity = t->toxicity;
        s->applies = match && drawn;
        if (s->applies && !was) {
            t->n_applied++;
            relay_record(c->p, c->id, t, "apply",
                   json_pack("{s:s,s:s}", "type", t->type->name, "stream",
                             t->stream == TX_UPSTREAM ? "upstream" : "downstream"));
        } else if (!s->applies) {
            t->n_skipped++;
        }
        if (!s->applies && was && s->active) {
            s->active = 0;
            s->env.now_us = now_us;
            if (t->type->flush && !s->proto)
                t->type->flush(s->state, t->attrs, &s->env);
        }
    }
    if (!s->applies)
        return 0;
    int on = toxic_schedule_step(&t->common, &s->sched, s->base_us, s->l->msgs - s->msg_base, now_us,
                                 next_us);
    if (on != s->active) {
        s->active = on;
        s->env.now_us = now_us;
        if (on) {
            if (t->common.after_messages)
                relay_record(c->p, c->id, t, "schedule_on",
                       json_pack("{s:I}", "messages", (json_int_t)(s->l->msgs - s->msg_base)));
            else if (t->common.after_ms || t->common.flap_on_ms)
                relay_record(c->p, c->id, t, "schedule_on", NULL);
            if (t->type->start && !s->proto)
                t->type->start(s->state, t->attrs, &s->env);
        } else {
            relay_record(c->p, c->id, t, "schedule_off", NULL);
            /* message-aware toxics keep reading and just stop acting */
            if (t->type->flush && !s->proto)
                t->type->flush(s->state, t->attrs, &s->env);
        }
    }
    return on;
}

/* ---- links --------------------------------------------------------------- */

static size_t link_held(const dlink *l)
{
    size_t h = 0;
    for (int i = 0; i < l->n; i++)
        if (l->st[i]->tx->type->held) {
            size_t k = l->st[i]->tx->type->held(l->st[i]->state);
            h = h > SIZE_MAX - k ? SIZE_MAX : h + k; /* saturate: "full" is huge */
        }
    return h;
}

/* Enables reading from l->src only while the destination and the toxics
 * have room (the high/low watermark hysteresis is in the write callback,
 * which fires at OUT_LOW). */
static void link_flow(dlink *l)
{
    conn *c = l->c;
    if (c->closing || !l->src || l->sp)
        return;
    int room = !l->src_eof && c->connected &&
               evbuffer_get_length(bufferevent_get_output(l->dst)) < OUT_HIGH &&
               link_held(l) < HELD_CAP;
    if (l->rl) {
        if (room)
            event_add(l->rl_rd, NULL);
        else
            event_del(l->rl_rd);
    } else if (room) {
        bufferevent_enable(l->src, EV_READ);
    } else {
        bufferevent_disable(l->src, EV_READ);
    }
}

static void link_try_shut(dlink *l)
{
    if (!l->out_eof || l->out_shut || (l->dst == l->c->srv && !l->c->connected))
        return;
    if (evbuffer_get_length(bufferevent_get_output(l->dst)) > 0) {
        bufferevent_setwatermark(l->dst, EV_WRITE, 0, 0); /* call back when empty */
        return;
    }
    l->out_shut = 1;
    shutdown(bufferevent_getfd(l->dst), SHUT_WR);
}

/* Whether bytes for l->dst may be written to its socket at once: it is
 * connected and nothing is queued ahead of them (in its bufferevent, or in
 * a splice pipe still draining). */
static int link_out_direct(const dlink *l)
{
    return (l->dst != l->c->srv || l->c->connected) && l->sp_bytes == 0 &&
           evbuffer_get_length(bufferevent_get_output(l->dst)) == 0;
}

/* Hands n bytes to the destination. They are written to the socket at once
 * when nothing is queued ahead of them, as haproxy does: queueing them in
 * the bufferevent would cost an EPOLLOUT round (two epoll_ctl and one more
 * loop iteration) per message, which is most of a small message's relay
 * time. What the socket does not take now, or any error, is left to the
 * bufferevent (it reports the error through on_event). */
static void link_out(dlink *l, const unsigned char *d, size_t n)
{
    if (link_out_direct(l)) {
        ssize_t k = send(bufferevent_getfd(l->dst), d, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) {
            d += k;
            n -= (size_t)k;
        }
    }
    if (n > 0)
        evbuffer_add(bufferevent_get_output(l->dst), d, n);
}

static void link_push(dlink *l, int idx, const unsigned char *d, size_t n)
{
    conn *c = l->c;
    if (c->closing || n == 0)
        return;
    if (idx >= l->n) {
        if (!l->out_eof)
            link_out(l, d, n);
        return;
    }
    stage *s = l->st[idx];
    uint64_t next;
    uint64_t now = clock_mono_us();
    if (s->pending) {
        link_push(l, idx + 1, d, n);
        return;
    }
    int on = stage_gate(s, now, &next) && !s->retiring;
    if (s->proto) { /* always read, so the parser stays in step */
        s->env.now_us = now;
        s->env.active = on;
        s->tx->type->data(s->state, s->tx->attrs, &s->env, d, n);
    } else if (on && s->tx->type->data) {
        s->env.now_us = now;
        s->env.active = 1;
        s->tx->type->data(s->state, s->tx->attrs, &s->env, d, n);
    } else {
        link_push(l, idx + 1, d, n);
    }
}

static void link_push_eof(dlink *l, int idx)
{
    conn *c = l->c;
    if (c->closing)
        return;
    if (idx >= l->n) {
        l->out_eof = 1;
        link_try_shut(l);
        return;
    }
    stage *s = l->st[idx];
    uint64_t next;
    uint64_t now = clock_mono_us();
    int on = !s->pending && stage_gate(s, now, &next) && !s->retiring;
    if ((on || (s->proto && !s->pending)) && s->tx->type->eof) {
        s->env.now_us = now;
        s->env.active = on;
        s->tx->type->eof(s->state, s->tx->attrs, &s->env);
    } else {
        link_push_eof(l, idx + 1);
    }
}

static uint64_t min_due(uint64_t a, uint64_t b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}

/* Runs every stage's timers at now and remembers each stage's next
 * deadline, so the connection timer can be armed for the earliest. */
static void link_run(dlink *l)
{
    for (int i = 0; i < l->n && !l->c->closing; i++) {
        stage *s = l->st[i];
        uint64_t edge;
        uint64_t now = clock_mono_us();
        s->next_us = 0;
        if (s->pending)
            continue;
        int on = stage_gate(s, now, &edge) && !s->retiring;
        if ((on || s->proto) && s->tx->type->tick) {
            s->env.now_us = now;
            s->env.active = on;
            s->next_us = s->tx->type->tick(s->state, s->tx->attrs, &s->env);
        }
        s->next_us = min_due(s->next_us, edge);
    }
}

static uint64_t link_next_due(const dlink *l)
{
    uint64_t due = 0;
    for (int i = 0; i < l->n; i++)
        due = min_due(due, l->st[i]->next_us);
    return due;
}

/* ---- deadlines ------------------------------------------------------------ */

/* Puts c's deadline on the server's timer: the earliest of its stages'
 * deadlines, or the drain deadline while closing. */
static void conn_schedule(conn *c)
{
    proxy_server *s = c->p->s;
    uint64_t due = c->closing ? c->close_deadline_us
                              : min_due(link_next_due(&c->up), link_next_due(&c->down));
    if (due != c->deadline.due_us) {
        if (due)
            dheap_set(&s->deadlines, &c->deadline, due);
        else
            dheap_remove(&s->deadlines, &c->deadline);
    }
    dheap_arm(&s->deadlines);
}

static void conn_timer_fired(conn *c);

/* The timerfd fired: runs every connection whose deadline has come. Only
 * those due at entry, so a connection that sets its deadline to "now" again
 * runs on the next round instead of starving the loop. */
void relay_on_timers(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)fd;
    proxy_server *s = arg;
    dheap_ack(&s->deadlines);
    uint64_t now = clock_mono_us();
    dheap_node *x;
    for (size_t left = s->deadlines.n; left > 0 && (x = dheap_pop_due(&s->deadlines, now)) != NULL; left--)
        conn_timer_fired((conn *)((char *)x - offsetof(conn, deadline)));
    dheap_arm(&s->deadlines);
}

/* ---- connections ------------------------------------------------------------ */

/* ---- splice mode ------------------------------------------------------------ */

static int link_tracking(const dlink *l);
static void link_splice_leave(dlink *l);

/* ---- relay mode -------------------------------------------------------------- */

static int link_plain(const dlink *l)
{
    conn *c = l->c;
    return l->n == 0 && !c->closing && c->connected && !l->src_eof && !l->out_eof &&
           !link_tracking(l) && (l->dir != TX_UPSTREAM || c->path_state != 0) &&
           evbuffer_get_length(bufferevent_get_input(l->src)) == 0;
}

static void on_relay_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    static unsigned char buf[RELAY_BYTES]; /* one loop thread: emptied before return */
    dlink *l = arg;
    conn *c = l->c;
    relay_conn_enter(c);
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
        l->bytes += (uint64_t)n;
        if (l->dir == TX_UPSTREAM)
            c->p->bytes_up += (uint64_t)n;
        else
            c->p->bytes_down += (uint64_t)n;
        l->bulk_reads = n >= SPLICE_BULK_BYTES ? l->bulk_reads + 1 : 0;
        link_out(l, buf, (size_t)n);
    } else if (n == 0) {
        l->src_eof = 1;
        event_del(l->rl_rd);
        link_push_eof(l, 0);
    } else if (errno != EAGAIN && errno != EINTR) {
        l->src_eof = 1; /* reset or failed socket: as on_event's error */
        c->closing = 2;
    }
    relay_conn_leave(c);
}

/* Switches a direction that has nothing to do but copy to relay mode. */
static void link_relay_try(dlink *l)
{
    if (l->rl || l->sp || !link_plain(l))
        return;
    if (!l->rl_rd)
        l->rl_rd = event_new(l->c->p->s->base, bufferevent_getfd(l->src), EV_READ | EV_PERSIST,
                             on_relay_read, l);
    if (!l->rl_rd)
        return; /* stays on the bufferevent */
    bufferevent_disable(l->src, EV_READ);
    l->rl = 1;
    link_flow(l);
}

/* Back to the bufferevent (a toxic is coming, splice takes over, or the
 * connection closes); relay mode holds no bytes of its own. */
static void link_relay_leave(dlink *l)
{
    if (!l->rl)
        return;
    event_del(l->rl_rd);
    l->rl = 0;
}

static void link_splice_free(dlink *l)
{
    if (l->sp_rd)
        event_free(l->sp_rd);
    if (l->sp_wr)
        event_free(l->sp_wr);
    if (l->sp) {
        close(l->sp_pipe[0]);
        close(l->sp_pipe[1]);
    }
    l->sp_rd = l->sp_wr = NULL;
    l->sp = 0;
    l->sp_bytes = 0;
}

/* Moves the pipe's bytes to the destination. Returns 0 when the pipe is
 * empty, 1 when the destination is full, -1 on a socket error. */
static int splice_drain(dlink *l)
{
    int dst = bufferevent_getfd(l->dst);
    while (l->sp_bytes > 0) {
        ssize_t m = splice(l->sp_pipe[0], NULL, dst, NULL, l->sp_bytes, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (m > 0) {
            l->sp_bytes -= (size_t)m;
            continue;
        }
        if (m < 0 && errno == EINTR)
            continue;
        if (m < 0 && errno == EAGAIN)
            return 1;
        return -1;
    }
    return 0;
}

/* The pipe is empty: pass the FIN on, leave splice mode, or read again. */
static void splice_drained(dlink *l)
{
    if (l->src_eof) {
        l->out_eof = l->out_shut = 1;
        shutdown(bufferevent_getfd(l->dst), SHUT_WR);
    } else if (l->sp == 2) {
        link_splice_free(l); /* conn_leave's link_flow re-enables the bufferevent */
    } else {
        event_add(l->sp_rd, NULL);
    }
}

static void on_splice_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    dlink *l = arg;
    conn *c = l->c;
    relay_conn_enter(c);
    for (int round = 0; round < 16 && !c->closing; round++) {
        size_t want = l->sp_cap - l->sp_bytes;
        ssize_t n = splice(fd, NULL, l->sp_pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            l->sp_bytes += (size_t)n;
            l->bytes += (uint64_t)n;
            c->p->bytes_spliced += (uint64_t)n;
            if (l->dir == TX_UPSTREAM)
                c->p->bytes_up += (uint64_t)n;
            else
                c->p->bytes_down += (uint64_t)n;
            l->small_reads = n < SPLICE_SMALL_BYTES ? l->small_reads + 1 : 0;
            int r = splice_drain(l);
            if (r < 0) {
                c->closing = 2;
            } else if (r == 1) { /* destination full: stop reading until it drains */
                event_del(l->sp_rd);
                event_add(l->sp_wr, NULL);
                break;
            } else if (l->small_reads >= SPLICE_LEAVE_READS) {
                link_splice_leave(l); /* the pipe is empty: freed at once */
                break;
            }
            /* A short read emptied the socket: the level-triggered event
             * reports what comes next, so no read just to see EAGAIN. */
            if ((size_t)n < want)
                break;
            continue;
        }
        if (n == 0) { /* end of stream */
            l->src_eof = 1;
            event_del(l->sp_rd);
            if (l->sp_bytes == 0)
                splice_drained(l);
            else
                event_add(l->sp_wr, NULL);
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            c->closing = 2; /* reset or failed socket */
        break;
    }
    relay_conn_leave(c);
}

static void on_splice_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dlink *l = arg;
    conn *c = l->c;
    relay_conn_enter(c);
    int r = splice_drain(l);
    if (r < 0) {
        c->closing = 2;
    } else if (r == 0) {
        event_del(l->sp_wr);
        if (!c->closing)
            splice_drained(l);
    }
    relay_conn_leave(c);
}

/* Enters splice mode when this direction has nothing to do but copy. */
static void link_splice_try(dlink *l)
{
    conn *c = l->c;
    if (c->p->s->no_splice || l->sp || l->bulk_reads < SPLICE_ENTER_READS || !link_plain(l) ||
        evbuffer_get_length(bufferevent_get_output(l->dst)) > 0)
        return;
    if (pipe2(l->sp_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return; /* stays on bufferevents */
    /* A big pipe means fewer wake-ups per megabyte (1 MiB is the default
     * /proc/sys/fs/pipe-max-size; if refused, the 64 KiB default stays). */
    int cap = fcntl(l->sp_pipe[1], F_SETPIPE_SZ, SPLICE_PIPE_BYTES);
    if (cap <= 0)
        cap = fcntl(l->sp_pipe[1], F_GETPIPE_SZ);
    l->sp_cap = cap > 0 ? (size_t)cap : 65536;
    struct event_base *base = c->p->s->base;
    l->sp = 1;
    l->sp_rd = event_new(base, bufferevent_getfd(l->src), EV_READ | EV_PERSIST, on_splice_read, l);
    l->sp_wr = event_new(base, bufferevent_getfd(l->dst), EV_WRITE | EV_PERSIST, on_splice_write, l);
    if (!l->sp_rd || !l->sp_wr) {
        link_splice_free(l);
        return;
    }
    link_relay_leave(l);
    bufferevent_disable(l->src, EV_READ);
    event_add(l->sp_rd, NULL);
    l->small_reads = 0;
    c->p->n_splice_enter++;
}

/* Stops splicing this direction (a toxic is coming, or the traffic turned
 * small): what is already in the pipe still goes out first. */
static void link_splice_leave(dlink *l)
{
    if (l->sp != 1)
        return;
    event_del(l->sp_rd);
    l->sp = 2;
    l->bulk_reads = 0;
    l->c->p->n_splice_leave++;
    if (l->sp_bytes == 0 && !l->src_eof)
        link_splice_free(l);
    else
        event_add(l->sp_wr, NULL);
}

void relay_conn_free(conn *c)
{
    proxy *p = c->p;
    for (int d = 0; d < 2; d++) {
        dlink *l = d ? &c->down : &c->up;
        for (int i = 0; i < l->n; i++)
            stage_free(l->st[i]);
        free(l->st);
        if (l->trk_on)
            track_free(&l->trk);
        link_splice_free(l);
        if (l->rl_rd)
            event_free(l->rl_rd);
    }
    if (c->rst && c->cli) {
        struct linger lg = {1, 0};
        setsockopt(bufferevent_getfd(c->cli), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (c->srv && c->connected)
            setsockopt(bufferevent_getfd(c->srv), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    if (c->cli)
        bufferevent_free(c->cli);
    if (c->srv)
        bufferevent_free(c->srv);
    dheap_remove(&p->s->deadlines, &c->deadline);
    p->s->conns_open--;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    p->n_active--;
    if (c->up_idx >= 0)
        upool_release(&p->pool, (size_t)c->up_idx);
    free(c);
}

/* Takes stage i out of l: what it holds goes on first (unless the
 * connection is closing), then it is freed. */
static void link_drop_stage(dlink *l, int i)
{
    stage *s = l->st[i];
    if (!s->pending && s->applies && (s->active || s->proto) && s->tx->type->flush && !l->c->closing) {
        s->env.now_us = clock_mono_us();
        s->env.active = 0;
        s->tx->type->flush(s->state, s->tx->attrs, &s->env);
    }
    for (int j = i; j + 1 < l->n; j++) {
        l->st[j] = l->st[j + 1];
        l->st[j]->idx = j;
    }
    l->n--;
    stage_free(s);
}

/* Finishes removing stages that were waiting for a message boundary. */
static void link_reap(dlink *l)
{
    for (int i = 0; i < l->n; i++) {
        stage *s = l->st[i];
        if (s->retiring && (!s->tx->type->at_boundary || s->tx->type->at_boundary(s->state))) {
            link_drop_stage(l, i);
            i--;
        }
    }
}

void relay_conn_enter(conn *c)
{
    c->busy++;
}

/* Leaves a callback: frees the connection when it is finished and no outer
 * callback is still using it, otherwise re-arms its timer. */
void relay_conn_leave(conn *c)
{
    if (--c->busy > 0)
        return;
    if (!c->closing) {
        c->busy++; /* the stages' timers may emit or close: keep c alive */
        link_reap(&c->up);
        link_reap(&c->down);
        link_run(&c->up);
        link_run(&c->down);
        c->busy--;
    }
    if (c->closing == 1) {
        size_t a = evbuffer_get_length(bufferevent_get_output(c->cli)) + c->down.sp_bytes;
        size_t b = (c->connected ? evbuffer_get_length(bufferevent_get_output(c->srv)) : 0) + c->up.sp_bytes;
        if ((a == 0 && b == 0) || clock_mono_us() >= c->close_deadline_us)
            c->closing = 2;
    }
    if (!c->closing && c->up.out_shut && c->down.out_shut)
        c->closing = 2; /* both directions ended */
    if (c->closing == 2) {
        relay_conn_free(c);
        return;
    }
    if (!c->closing) {
        link_flow(&c->up);
        link_flow(&c->down);
        link_splice_try(&c->up);
        link_splice_try(&c->down);
        link_relay_try(&c->up);
        link_relay_try(&c->down);
    }
    conn_schedule(c);
}

void relay_conn_close(conn *c, tx_close how)
{
    if (c->closing == 2)
        return;
    if (how == TX_CLOSE_RST) {
        c->closing = 2;
        c->rst = 1;
        return;
    }
    if (c->closing)
        return;
    c->closing = 1;
    c->close_deadline_us = clock_mono_us() + DRAIN_DEADLINE_US;
    if (c->up.sp_rd)
        event_del(c->up.sp_rd); /* a pipe with bytes keeps draining */
    if (c->down.sp_rd)
        event_del(c->down.sp_rd);
    link_relay_leave(&c->up);
    link_relay_leave(&c->down);
    bufferevent_disable(c->cli, EV_READ);
    bufferevent_setwatermark(c->cli, EV_WRITE, 0, 0);
    if (c->srv) {
        bufferevent_disable(c->srv, EV_READ);
        bufferevent_setwatermark(c->srv, EV_WRITE, 0, 0);
    }
}

/* Remembers the request path from the first line the client sends
 * ("GET /path HTTP/1.1"), for toxics targeted by path. */
static void sniff_path(conn *c, struct evbuffer *in)
{
    char buf[SNIFF_MAX + 1];
    ev_ssize_t n = evbuffer_copyout(in, buf, SNIFF_MAX);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *eol = memchr(buf, '\n', (size_t)n);
    if (!eol) {
        /* Not HTTP once SNIFF_MAX bytes came without a line end, or once
         * the start is no method token ("GET "): without this, a protocol
         * of small messages would stay "unknown" for ever. */
        size_t tok = strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        int first = c->sniffed == 0;
        c->sniffed += (size_t)n;
        if (c->sniffed >= SNIFF_MAX || (first && (tok > 16 || (tok < (size_t)n && buf[tok] != ' '))))
            c->path_state = 2;
        return;
    }
    *eol = '\0';
    char *sp = strchr(buf, ' ');
    char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
    if (!sp || !sp2 || sp == buf || (size_t)(sp2 - sp - 1) >= sizeof c->path) {
        c->path_state = 2;
        return;
    }
    memcpy(c->path, sp + 1, (size_t)(sp2 - sp - 1));
    c->path[sp2 - sp - 1] = '\0';
    c->path_state = 1;
}

static int link_tracking(const dlink *l)
{
    return l->trk_on && (track_alive(&l->trk, TRACK_WS) || track_alive(&l->trk, TRACK_SSE));
}

/* The protocol of the first stage waiting for a boundary, or 0. */
static int link_waiting(const dlink *l)
{
    for (int i = 0; i < l->n; i++)
        if (l->st[i]->pending)
            return l->st[i]->proto;
    return 0;
}

/* Starts the stages waiting for proto from the tracker's position. */
static void link_start_pending(dlink *l, int proto)
{
    for (int i = 0; i < l->n; i++) {
        stage *s = l->st[i];
        if (!s->pending || s->proto != proto)
            continue;
        s->pending = 0;
        s->msg_base = l->msgs;
        s->env.now_us = clock_mono_us();
        if (s->tx->type->resume)
            s->tx->type->resume(s->state, s->tx->attrs, &s->env, &l->trk);
    }
}

/* The message count at which the next stage waiting for after_messages
 * switches on, or 0 when none waits. */
static uint64_t link_msg_target(const dlink *l)
{
    uint64_t target = 0;
    for (int i = 0; i < l->n; i++) {
        const stage *s = l->st[i];
        int64_t want = s->tx->common.after_messages;
        if (want <= 0 || s->sched.armed || s->pending || (s->decided && !s->applies))
            continue;
        uint64_t at = s->msg_base + (uint64_t)want;
        if (!target || at < target)
            target = at;
    }
    return target;
}

/* The link stopped following WebSocket and SSE: stages still waiting for
 * messages will never start on this connection; say so once each. */
static void link_note_no_messages(dlink *l)
{
    for (int i = 0; i < l->n; i++) {
        stage *s = l->st[i];
        if (s->tx->common.after_messages > 0 && !s->sched.armed && !s->msg_noted) {
            s->msg_noted = 1;
            relay_record(l->c->p, l->c->id, s->tx, "schedule_no_messages",
                   json_pack("{s:I}", "messages", (json_int_t)(l->msgs - s->msg_base)));
        }
    }
}

/* Pushes bytes read from the source through the stages, keeping the tracker
 * in step, starting stages added mid-stream at a message boundary, and
 * cutting the bytes where a stage's after_messages count is reached (so the
 * bytes after that message are the first it acts on). */
static void link_feed(dlink *l, const unsigned char *d, size_t n)
{
    while (n > 0 && !l->c->closing) {
        int want = link_waiting(l);
        uint64_t until = link_msg_target(l);
        size_t k = n;
        int at = 0;
        if (link_tracking(l))
            k = track_feed_until(&l->trk, d, n, want, until, &at);
        if (until && !link_tracking(l))
            link_note_no_messages(l);
        if (k > 0)
            link_push(l, 0, d, k);
        l->msgs = track_messages(&l->trk);
        if (at == 1)
            link_start_pending(l, want);
        else if (k == 0)
            k = n, link_push(l, 0, d, n);
        d += k;
        n -= k;
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    dlink *l = bev == c->cli ? &c->up : &c->down;
    struct evbuffer *in = bufferevent_get_input(bev);
    relay_conn_enter(c);
    if (l->dir == TX_UPSTREAM && c->path_state == 0)
        sniff_path(c, in);
    size_t len = evbuffer_get_length(in);
    l->bytes += len;
    if (l->dir == TX_UPSTREAM)
        c->p->bytes_up += len;
    else
        c->p->bytes_down += len;
    if (c->closing || l->out_eof) {
        evbuffer_drain(in, len);
    } else if (l->n == 0 && !link_tracking(l)) {
        /* no toxic: straight to the socket (see link_out), the rest queued
         * without a copy */
        if (link_out_direct(l))
            evbuffer_write(in, bufferevent_getfd(l->dst));
        evbuffer_add_buffer(bufferevent_get_output(l->dst), in);
    } else {
        l->bulk_reads = 0;
        while (evbuffer_get_length(in) > 0 && !c->closing) {
            struct evbuffer_iovec v;
            if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
                break;
            /* The stages copy what they keep, so the chunk is drained after. */
            link_feed(l, v.iov_base, v.iov_len);
            evbuffer_drain(in, v.iov_len);
        }
        evbuffer_drain(in, evbuffer_get_length(in));
    }
    relay_conn_leave(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    dlink *l = bev == c->cli ? &c->down : &c->up;
    relay_conn_enter(c);
    link_try_shut(l);
    if (!l->out_eof && !c->closing)
        bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW, 0);
    relay_conn_leave(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    conn *c = arg;
    relay_conn_enter(c);
    if (bev == c->srv && (what & BEV_EVENT_CONNECTED)) {
        c->connected = 1;
        int one = 1;
        setsockopt(bufferevent_getfd(c->srv), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bufferevent_enable(c->srv, EV_READ | EV_WRITE);
        link_try_shut(&c->up);
        relay_conn_leave(c);
        return;
    }
    if (bev == c->srv && !c->connected) {
        /* passive health: the pool skips this upstream for a while; the
         * client, closed, reconnects and lands on another */
        if (c->up_idx >= 0)
            upool_mark_down(&c->p->pool, (size_t)c->up_idx, clock_mono_us());
        c->p->n_upstream_fail++;
        relay_record(c->p, c->id, NULL, "upstream_connect_failed",
               json_pack("{s:s}", "error", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())));
        relay_conn_close(c, TX_CLOSE_FIN);
        relay_conn_leave(c);
        return;
    }
    dlink *l = bev == c->cli ? &c->up : &c->down;
    if (what & BEV_EVENT_ERROR) {
        /* A reset or failed socket: the other side cannot be kept in sync,
         * so the connection ends (what is queued for the other peer is
         * still drained). */
        l->src_eof = 1;
        c->closing = 2;
    } else if (what & BEV_EVENT_EOF) {
        l->src_eof = 1;
        bufferevent_disable(bev, EV_READ);
        if (!c->closing) {
            /* bytes still in the input buffer were already handed on by
             * on_read (it drains everything), so the FIN follows them. */
            link_push_eof(l, 0);
        }
    }
    relay_conn_leave(c);
}

static void conn_timer_fired(conn *c)
{
    relay_conn_enter(c);
    if (c->closing && clock_mono_us() >= c->close_deadline_us) {
        c->closing = 2;
    }
    relay_conn_leave(c);
}

int relay_add_stage(dlink *l, toxic *t)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        stage **st = realloc(l->st, (size_t)cap * sizeof *st);
        if (!st)
            return -1;
        l->st = st;
        l->cap = cap;
    }
    stage *s = stage_new(l, t);
    if (!s)
        return -1;
    link_splice_leave(l);
    link_relay_leave(l);
    int at = l->n;
    if (s->proto) {
        /* Message-aware stages go first, so they read the bytes exactly as
         * the peer sent them and can start at the tracker's boundaries. */
        at = 0;
        if (l->trk_on && l->trk.seen > 0) {
            if (track_at(&l->trk, s->proto)) {
                s->env.now_us = clock_mono_us();
                if (t->type->resume)
                    t->type->resume(s->state, t->attrs, &s->env, &l->trk);
            } else {
                s->pending = 1;
            }
        }
    }
    memmove(&l->st[at + 1], &l->st[at], (size_t)(l->n - at) * sizeof *l->st);
    l->st[at] = s;
    l->n++;
    for (int i = 0; i < l->n; i++)
        l->st[i]->idx = i;
    return 0;
}

/* Takes an accepted client (fd) for c, whose id, seed, addresses and
 * start time are set: its bufferevents, a stage per toxic of the proxy, and
 * the connection to the upstream (the pool's pick when there is one). On
 * failure the socket is closed and c freed. */
void relay_conn_start(conn *c, evutil_socket_t fd)
{
    proxy *p = c->p;
    struct event_base *base = p->s->base;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->cli = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->srv = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->cli || !c->srv || dheap_reserve(&p->s->deadlines, p->s->conns_open + 1) < 0) {
        if (c->cli)
            bufferevent_free(c->cli);
        else
            evutil_closesocket(fd);
        if (c->srv)
            bufferevent_free(c->srv);
        free(c);
        return;
    }
    p->s->conns_open++;
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    p->n_active++;
    c->up = (dlink){.c = c, .dir = TX_UPSTREAM, .src = c->cli, .dst = c->srv};
    c->down = (dlink){.c = c, .dir = TX_DOWNSTREAM, .src = c->srv, .dst = c->cli};
    track_init(&c->up.trk, 0);
    track_init(&c->down.trk, 1);
    track_set_pmd(&c->up.trk, &c->pmd);
    track_set_pmd(&c->down.trk, &c->pmd);
    c->up.trk_on = c->down.trk_on = 1;
    for (int i = 0; i < p->ntx; i++) {
        toxic *t = p->tx[i];
        if (t->type->accept)
            continue;
        if (relay_add_stage(t->stream == TX_UPSTREAM ? &c->up : &c->down, t) < 0) {
            c->closing = 2;
            break;
        }
    }
    relay_conn_enter(c);
    for (int i = 0; i < 2; i++) {
        struct bufferevent *b = i ? c->srv : c->cli;
        bufferevent_setcb(b, on_read, on_write, on_event, c);
        bufferevent_setwatermark(b, EV_READ, 0, IO_CHUNK);
        bufferevent_setwatermark(b, EV_WRITE, OUT_LOW, 0);
        bufferevent_set_max_single_read(b, IO_CHUNK);
        bufferevent_set_max_single_write(b, IO_CHUNK);
    }
    struct sockaddr *up_sa = (struct sockaddr *)&p->up_addr;
    int up_len = (int)p->up_len;
    if (!c->closing && p->pool.n) {
        size_t i = upool_pick(&p->pool, c->src_hash, clock_mono_us());
        c->up_idx = (int)i;
        up_sa = (struct sockaddr *)&p->pool_addr[i];
        up_len = (int)p->pool_len[i];
        relay_record(p, c->id, NULL, "upstream_picked",
               json_pack("{s:s,s:s}", "upstream", p->pool_name[i], "client", c->client_addr));
    }
    if (!c->closing && bufferevent_socket_connect(c->srv, up_sa, up_len) < 0) {
        if (c->up_idx >= 0)
            upool_mark_down(&p->pool, (size_t)c->up_idx, clock_mono_us());
        p->n_upstream_fail++;
        relay_record(p, c->id, NULL, "upstream_connect_failed", json_pack("{s:s}", "error", "connect"));
        /* bufferevent_socket_connect may have freed nothing; close now */
        c->closing = 2;
    }
    if (!c->closing)
        bufferevent_enable(c->cli, EV_READ | EV_WRITE);
    relay_conn_leave(c);
}


void relay_remove_toxic(dlink *l, toxic *t)
{
    for (int i = 0; i < l->n; i++) {
        stage *s = l->st[i];
        if (s->tx != t)
            continue;
        if (!s->pending && t->type->at_boundary && !t->type->at_boundary(s->state)) {
            s->retiring = 1; /* finished by link_reap at the next boundary */
            return;
        }
        link_drop_stage(l, i);
        return;
    }
}

