/* fleet_pub.c — the open-loop publisher: events on a schedule stamped with their scheduled time, HTTP publish with idempotent retries, and the log of acknowledged heads. */
#include "fleet_internal.h"
#include "payload.h"

#include <errno.h>
#include <http_parser.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "envelope.h"

#define PUB_QUEUE_MAX (1u << 22) /* queued events per connection before they count as failed */

typedef struct pub_ev {
    uint32_t ch;
    uint32_t n;      /* the channel's event number, part of the idempotency id */
    int64_t ts_us;   /* scheduled wall time */
} pub_ev;

enum { PC_DOWN = 0, PC_CONNECTING, PC_HANDSHAKE, PC_IDLE, PC_BUSY };

typedef struct pub_conn {
    fl_pub *p;
    unsigned idx;
    unsigned ep;              /* 0: publish_addr; k > 0: publish_mirrors[k - 1] */
    int fd;
    SSL *ssl;                 /* TLS over fd (https targets), else NULL */
    int state;
    struct event ev;
    struct event timer;       /* reconnect / retry / ack timeout */
    http_parser hp;
    int status;
    int keep_alive;
    int done;
    pub_ev *q;                /* ring of scheduled events not yet acknowledged */
    size_t q_head, q_len, q_cap;
    size_t n_infl;            /* the first n_infl of the ring are in the request in flight */
    uint32_t tries;
    uint64_t sent_us;
    uint32_t backoff_ms;
    char *resp;
    size_t resp_len, resp_cap;
    char *out;
    size_t out_len, out_off;
    ws_conn_rx rx;            /* WebSocket publishing: frame state */
    int ws_busy;              /* the server said rate_limited / overloaded */
} pub_conn;

typedef struct pub_sched {
    uint64_t due_us;          /* mono */
    uint32_t ch;
} pub_sched;

struct fl_pub {
    fleet *f;
    struct event_base *base;
    pthread_t th;
    int running;
    pub_conn *conns;          /* n_conns per endpoint: [ep * n_conns + i] */
    unsigned n_conns;
    unsigned n_all;           /* n_conns * (1 + publish mirrors) */
    uint64_t mirror_acked, mirror_failed;
    pub_sched *heap;          /* min-heap by due_us, one entry per channel */
    uint32_t *ev_n;
    struct event *timer;
    struct event *cmd;
    struct event *watch;
    prng rng;
    int paused, finishing;
    int idle;                 /* finishing and nothing left in flight (read by the control thread) */
    pthread_mutex_t mu;
    int cmd_pause, cmd_finish, cmd_stop;
    uint64_t published, failed, retries, errors, generations;
    struct {
        char why[96];
        uint64_t n;
    } reasons[8];             /* why publishes were refused (the adapter's pub_ack, or v1's
                               * status), for totals.errors_by_reason */
    unsigned n_reasons;
    uint64_t stalls, stall_max_us; /* the schedule's timer fired this late (its own loop stalled) */
    uint64_t *per_sec;        /* acknowledged events per second since t0 */
    size_t n_sec;
    ws_pool *wsp;             /* WebSocket publishing: framing */
    char *payload;            /* the "data" JSON value, payload_bytes long (string payloads: the
                               * event being formatted) */
    size_t payload_len;       /* its length; with fields payloads, the most one event's value takes */
    char *fbuf;               /* fields payloads (payload.h): the event being formatted, payload_len + 1 */
};

/* The "data" of event e: the padded string, or e's fields value (valid
 * until the next call). *len gets its length. */
static const char *pub_data(fl_pub *p, const pub_ev *e, size_t *len)
{
    if (!p->fbuf) {
        fl_payload_string(p->payload, p->payload_len, p->f->ch_names[e->ch], e->n,
                          e->ts_us > 0 ? (uint64_t)e->ts_us : 0);
        *len = p->payload_len;
        return p->payload;
    }
    int k = fl_payload_fields(p->fbuf, p->payload_len + 1, p->f->ch_names[e->ch], e->n, p->f->cfg.pub.payload_bytes);
    if (k < 0) { /* cannot happen: payload_len is its bound */
        *len = 4;
        return "null";
    }
    *len = (size_t)k;
    return p->fbuf;
}

static http_parser_settings pub_settings;
static pthread_once_t pub_once = PTHREAD_ONCE_INIT;

static void conn_connect(pub_conn *c);
static void conn_kick(pub_conn *c);
static void on_conn_io(evutil_socket_t fd, short what, void *arg);

/* ---- schedule ---------------------------------------------------------------------------- */

static void heap_swap(pub_sched *h, size_t a, size_t b)
{
    pub_sched t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void heap_down(fl_pub *p, size_t i)
{
    size_t n = p->f->n_ch;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && p->heap[l].due_us < p->heap[m].due_us)
            m = l;
        if (r < n && p->heap[r].due_us < p->heap[m].due_us)
            m = r;
        if (m == i)
            return;
        heap_swap(p->heap, i, m);
        i = m;
    }
}

static uint64_t interval_us(fl_pub *p)
{
    const fleet_pub_cfg *pc = &p->f->cfg.pub;
    switch (pc->schedule) {
    case FLEET_SCHED_POISSON:
        return (uint64_t)fmax(1.0, prng_exp(&p->rng, 1e6 / pc->rate_per_s));
    case FLEET_SCHED_BURSTS:
        return (uint64_t)pc->burst_interval_ms * 1000u;
    default:
        return (uint64_t)fmax(1.0, 1e6 / pc->rate_per_s);
    }
}

/* Spreads the channels' first events over one interval so that they do
 * not all fire on the same tick. */
static void schedule_from(fl_pub *p, uint64_t now)
{
    const fleet_pub_cfg *pc = &p->f->cfg.pub;
    uint64_t iv = pc->schedule == FLEET_SCHED_BURSTS ? (uint64_t)pc->burst_interval_ms * 1000u
                                                     : (uint64_t)fmax(1.0, 1e6 / pc->rate_per_s);
    for (uint32_t i = 0; i < p->f->n_ch; i++) {
        p->heap[i].ch = i;
        p->heap[i].due_us = now + iv * i / p->f->n_ch;
    }
    for (size_t i = p->f->n_ch / 2 + 1; i-- > 0;)
        heap_down(p, i);
}

/* Queues event n of channel ch on the endpoint's connection for ch. */
static void enqueue_on(fl_pub *p, unsigned ep, uint32_t ch, uint32_t n, int64_t ts)
{
    pub_conn *c = &p->conns[ep * p->n_conns + ch % p->n_conns];
    uint64_t *failed = ep ? &p->mirror_failed : &p->failed;
    if (c->q_len >= PUB_QUEUE_MAX) {
        FL_INC(failed);
        return;
    }
    if (c->q_len == c->q_cap) {
        size_t cap = c->q_cap ? c->q_cap * 2 : 256;
        pub_ev *nq = malloc(cap * sizeof *nq);
        if (!nq) {
            FL_INC(failed);
            return;
        }
        for (size_t i = 0; i < c->q_len; i++)
            nq[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = nq;
        c->q_head = 0;
        c->q_cap = cap;
    }
    pub_ev *e = &c->q[(c->q_head + c->q_len) % c->q_cap];
    e->ch = ch;
    e->n = n;
    e->ts_us = ts;
    c->q_len++;
}

/* One scheduled event: to publish_addr and to every mirror, with one
 * number (the record's seq). */
static void enqueue(fl_pub *p, uint32_t ch, int64_t ts)
{
    uint32_t n = ++p->ev_n[ch];
    for (unsigned ep = 0; ep * p->n_conns < p->n_all; ep++)
        enqueue_on(p, ep, ch, n, ts);
}

/* 1 when an event due at due_us (mono) is past the run's publishing time */
static int past_end(const fl_pub *p, uint64_t due_us)
{
    uint64_t until = p->f->cfg.pub.until_us;
    return until && due_us >= p->f->t0_mono_us + until;
}

static void arm_timer(fl_pub *p)
{
    if (p->paused || p->finishing || p->f->cfg.pub.rate_per_s <= 0 ||
        (p->f->cfg.pub.schedule == FLEET_SCHED_BURSTS && p->f->cfg.pub.burst_interval_ms == 0))
        return;
    uint64_t now = clock_mono_us(), due = p->heap[0].due_us;
    if (past_end(p, due))
        return;
    uint64_t wait = due > now ? due - now : 0;
    struct timeval tv = {(time_t)(wait / 1000000u), (suseconds_t)(wait % 1000000u)};
    event_add(p->timer, &tv);
}

static void on_schedule(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    fl_pub *p = arg;
    fleet *f = p->f;
    uint64_t now = clock_mono_us();
    const fleet_pub_cfg *pc = &f->cfg.pub;
    if (!p->paused && !p->finishing && now > p->heap[0].due_us + FL_STALL_US) {
        /* the events still carry their due time as ts, so the stall shows in
         * latency; counting it says whose stall it was */
        uint64_t late = now - p->heap[0].due_us;
        p->stalls++;
        if (late > p->stall_max_us)
            p->stall_max_us = late;
    }
    while (!p->paused && !p->finishing && p->heap[0].due_us <= now && !past_end(p, p->heap[0].due_us)) {
        pub_sched *s = &p->heap[0];
        /* ts is when the event was due, not when we got round to it */
        int64_t ts = f->t0_wall_us + (int64_t)(s->due_us - f->t0_mono_us);
        unsigned k = pc->schedule == FLEET_SCHED_BURSTS ? (pc->burst_size ? pc->burst_size : 1) : 1;
        for (unsigned i = 0; i < k; i++)
            enqueue(p, s->ch, ts);
        s->due_us += interval_us(p);
        heap_down(p, 0);
    }
    for (unsigned i = 0; i < p->n_all; i++)
        conn_kick(&p->conns[i]);
    arm_timer(p);
}

/* ---- connections --------------------------------------------------------------------------- */

static void conn_close(pub_conn *c)
{
    if (event_initialized(&c->ev))
        event_del(&c->ev);
    if (event_initialized(&c->timer))
        event_del(&c->timer);
    fl_tls_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = PC_DOWN;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    c->resp_len = 0;
    if (c->p->wsp)
        ws_conn_release(c->p->wsp, &c->rx);
}

static void pub_reason(fl_pub *p, const char *why);

static void conn_retry_later(pub_conn *c, const char *why)
{
    fl_pub *p = c->p;
    conn_close(c);
    if (c->n_infl) {
        c->tries++;
        FL_INC(&p->retries);
        if (c->tries > p->f->cfg.pub.retries) {
            /* out of retries: these events are not in the log */
            if (!c->ep) {
                char r[64];
                snprintf(r, sizeof r, "publish gave up: %s", why);
                pub_reason(p, r);
            }
            FL_ADD(c->ep ? &p->mirror_failed : &p->failed, c->n_infl);
            c->q_head = (c->q_head + c->n_infl) % c->q_cap;
            c->q_len -= c->n_infl;
            c->n_infl = 0;
            c->tries = 0;
        }
    }
    c->n_infl = 0; /* resent (same ids) from the queue head */
    c->backoff_ms = c->backoff_ms ? (c->backoff_ms * 2 > 2000 ? 2000 : c->backoff_ms * 2) : 50;
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    event_add(&c->timer, &tv);
}

/* Appends (seq, ts) to the channel's log; a new generation starts it over.
 * Out of memory: the log is dropped for good (fl_pub_floor then cannot
 * tell, and the check it feeds is skipped rather than wrong). */
static void publog_add(fl_publog *l, uint64_t seq, int64_t ts, int new_gen)
{
    if (l->n == SIZE_MAX)
        return;
    if (new_gen || !l->gen_ts) {
        l->n = 0;
        l->gen_ts = ts ? ts : 1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        uint64_t *s = realloc(l->seq, cap * sizeof *s);
        if (s)
            l->seq = s;
        int64_t *t = s ? realloc(l->ts, cap * sizeof *t) : NULL;
        if (t)
            l->ts = t;
        if (!s || !t) {
            free(l->seq);
            free(l->ts);
            l->seq = NULL;
            l->ts = NULL;
            l->cap = 0;
            l->n = SIZE_MAX;
            return;
        }
        l->cap = cap;
    }
    l->seq[l->n] = seq;
    l->ts[l->n] = ts;
    l->n++;
}

static void record_ack(fl_pub *p, uint32_t ch, uint64_t seq, int64_t ts)
{
    fleet *f = p->f;
    uint64_t head = f->acked_head[ch];
    int new_gen = seq <= head && head != 0;
    if (new_gen)
        p->generations++; /* acks of one channel come in order: a lower seq is a reset stream */
    publog_add(&f->publog[ch], seq, ts, new_gen);
    __atomic_store_n(&f->acked_head[ch], seq, __ATOMIC_RELAXED);
    FL_INC(&p->published);
    uint64_t s = (clock_mono_us() - f->t0_mono_us) / 1000000u;
    if (s >= p->n_sec) {
        size_t n = p->n_sec ? p->n_sec : 64;
        while (n <= s)
            n *= 2;
        uint64_t *ps = realloc(p->per_sec, n * sizeof *ps);
        if (!ps)
            return;
        memset(ps + p->n_sec, 0, (n - p->n_sec) * sizeof *ps);
        p->per_sec = ps;
        p->n_sec = n;
    }
    p->per_sec[s]++;
}

/* Tallies one refused publish under the adapter's reason (the last slot
 * takes every reason past the table). */
static void pub_reason(fl_pub *p, const char *why)
{
    unsigned i;
    for (i = 0; i < p->n_reasons; i++)
        if (strncmp(p->reasons[i].why, why, sizeof p->reasons[i].why - 1) == 0)
            break;
    if (i == p->n_reasons) {
        if (p->n_reasons == sizeof p->reasons / sizeof p->reasons[0])
            why = "other publish refusals", i = p->n_reasons - 1;
        else
            p->n_reasons++;
        snprintf(p->reasons[i].why, sizeof p->reasons[i].why, "%.*s", (int)sizeof p->reasons[i].why - 1, why);
    }
    p->reasons[i].n++;
}

/* A whole response has been read for the request in flight. */
static void on_response(pub_conn *c)
{
    fl_pub *p = c->p;
    if (c->status == 429 || c->status == 503 || c->status >= 500) {
        char why[40];
        snprintf(why, sizeof why, "status %d", c->status);
        conn_retry_later(c, why);
        return;
    }
    size_t n = c->n_infl;
    if (c->ep) {
        /* a mirror: its word is counted, the run's record is publish_addr's */
        char why[160];
        if (n == 1 && p->f->proto->pub_ack(c->status, c->resp, c->resp_len, why, sizeof why))
            FL_INC(&p->mirror_acked);
        else
            FL_ADD(&p->mirror_failed, n);
    } else if (!p->f->proto->server_seq) {
        /* no server seq: the ack is the adapter's word, and the seq is the
         * publisher's own (the record's, record.h), one event per request */
        char why[160];
        const pub_ev *e = &c->q[c->q_head];
        why[0] = '\0';
        if (n == 1 && p->f->proto->pub_ack(c->status, c->resp, c->resp_len, why, sizeof why)) {
            record_ack(p, e->ch, e->n, e->ts_us);
        } else {
            if (why[0])
                pub_reason(p, why);
            FL_INC(&p->errors);
            FL_ADD(&p->failed, n);
        }
    } else if (c->status != 200) {
        char why[48];
        snprintf(why, sizeof why, "publish status %d", c->status);
        pub_reason(p, why);
        FL_INC(&p->errors);
        FL_ADD(&p->failed, n);
    } else {
        json_error_t je;
        json_t *j = json_loadb(c->resp, c->resp_len, 0, &je);
        json_t *seqs = j ? json_object_get(j, "seqs") : NULL;
        json_t *seq = j ? json_object_get(j, "seq") : NULL;
        if (n > 1 && json_is_array(seqs) && json_array_size(seqs) == n) {
            for (size_t i = 0; i < n; i++)
                record_ack(p, c->q[(c->q_head + i) % c->q_cap].ch,
                           (uint64_t)json_integer_value(json_array_get(seqs, i)),
                           c->q[(c->q_head + i) % c->q_cap].ts_us);
        } else if (n == 1 && json_is_integer(seq)) {
            record_ack(p, c->q[c->q_head].ch, (uint64_t)json_integer_value(seq), c->q[c->q_head].ts_us);
        } else {
            pub_reason(p, "publish answer without a seq");
            FL_INC(&p->errors);
            FL_ADD(&p->failed, n);
        }
        json_decref(j);
    }
    c->q_head = (c->q_head + n) % (c->q_cap ? c->q_cap : 1);
    c->q_len -= n;
    c->n_infl = 0;
    c->tries = 0;
    c->backoff_ms = 0;
    c->resp_len = 0;
    event_del(&c->timer);
    if (!c->keep_alive) {
        conn_close(c);
        conn_connect(c);
        return;
    }
    c->state = PC_IDLE;
    conn_kick(c);
}

static int pr_on_headers_complete(http_parser *hp)
{
    pub_conn *c = hp->data;
    c->status = hp->status_code;
    c->keep_alive = http_should_keep_alive(hp);
    return 0;
}

static int pr_on_body(http_parser *hp, const char *at, size_t len)
{
    pub_conn *c = hp->data;
    if (c->resp_len + len > 1 << 20)
        return -1;
    if (c->resp_len + len > c->resp_cap) {
        size_t cap = c->resp_cap ? c->resp_cap * 2 : 1024;
        while (cap < c->resp_len + len)
            cap *= 2;
        char *r = realloc(c->resp, cap);
        if (!r)
            return -1;
        c->resp = r;
        c->resp_cap = cap;
    }
    memcpy(c->resp + c->resp_len, at, len);
    c->resp_len += len;
    return 0;
}

static int pr_on_message_complete(http_parser *hp)
{
    pub_conn *c = hp->data;
    c->done = 1;
    http_parser_pause(hp, 1);
    return 0;
}

static void pub_init_settings(void)
{
    http_parser_settings_init(&pub_settings);
    pub_settings.on_headers_complete = pr_on_headers_complete;
    pub_settings.on_body = pr_on_body;
    pub_settings.on_message_complete = pr_on_message_complete;
}

static void conn_flush(pub_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = c->ssl ? fl_tls_send(c->ssl, c->out + c->out_off, c->out_len - c->out_off)
                         : send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_retry_later(c, "write");
        return;
    }
    short what = EV_READ | EV_PERSIST | (c->out_off < c->out_len ? EV_WRITE : 0);
    if (event_initialized(&c->ev))
        event_del(&c->ev);
    event_assign(&c->ev, c->p->base, c->fd, what, on_conn_io, c);
    event_add(&c->ev, NULL);
}

static int out_append(pub_conn *c, const void *d, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    char *o = realloc(c->out, c->out_len + n);
    if (!o)
        return -1;
    memcpy(o + c->out_len, d, n);
    c->out = o;
    c->out_len += n;
    return 0;
}

static void arm_ack_timer(pub_conn *c)
{
    uint32_t to = c->p->f->cfg.pub.ack_timeout_ms ? c->p->f->cfg.pub.ack_timeout_ms : 5000;
    struct timeval tv = {to / 1000, (to % 1000) * 1000};
    event_add(&c->timer, &tv);
}

/* A foreign protocol's WebSocket publish (ws-json pub_message): its
 * services answer a publish message with nothing the publisher can tie to
 * it, so an event counts as published once the whole message is in the
 * kernel's socket (flushed); one that never reaches the server is then a
 * `lost` event, as it should be. */
static void ws_ack_written(pub_conn *c)
{
    fl_pub *p = c->p;
    if (p->f->proto->server_seq || c->n_infl == 0 || c->out_off < c->out_len)
        return;
    while (c->n_infl) {
        const pub_ev *e = &c->q[c->q_head];
        record_ack(p, e->ch, e->n, e->ts_us);
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        c->n_infl--;
    }
    c->tries = 0;
    c->backoff_ms = 0;
    c->state = PC_IDLE;
    event_del(&c->timer);
}

/* The message of one foreign-protocol WebSocket publish: the record in
 * the pub_message template. Returns the length or -1. */
static int ws_foreign_msg(fl_pub *p, const pub_ev *e, char *msg, size_t cap)
{
    fleet *f = p->f;
    char rec[1024 + ENV_CH_MAX * 6 + RECORD_RUN_MAX * 6];
    char *rb = p->payload_len + sizeof rec / 2 > sizeof rec ? malloc(p->payload_len + sizeof rec) : rec;
    size_t rcap = rb == rec ? sizeof rec : p->payload_len + sizeof rec;
    size_t dl;
    const char *data = pub_data(p, e, &dl);
    int k = rb ? record_format(rb, rcap, f->run_id, f->ch_names[e->ch], e->n, e->ts_us, data, dl) : -1;
    int w = k < 0 ? -1
                  : proto_render_body(f->cfg.proto_opts.pub_message, rb, (size_t)k, f->ch_names[e->ch], msg, cap);
    if (rb != rec)
        free(rb);
    return w;
}

/* WebSocket publishing: keeps up to batch_size "pub" messages in flight;
 * the server answers each in order ({"type":"published","ch","seq"}). */
static void ws_kick_once(pub_conn *c)
{
    fl_pub *p = c->p;
    fleet *f = p->f;
    if (c->state != PC_IDLE && c->state != PC_BUSY)
        return;
    size_t window = f->cfg.pub.batch_size ? f->cfg.pub.batch_size : 1;
    size_t before = c->n_infl;
    while (c->n_infl < window && c->n_infl < c->q_len) {
        const pub_ev *e = &c->q[(c->q_head + c->n_infl) % c->q_cap];
        char chj[ENV_CH_MAX * 2 + 8];
        envelope_json_str(chj, sizeof chj, f->ch_names[e->ch], strlen(f->ch_names[e->ch]));
        size_t cap = p->payload_len + 256;
        if (!f->proto->server_seq) /* the record (escaped channel, run id) inside the template */
            cap += sizeof f->cfg.proto_opts.pub_message + 1024 + ENV_CH_MAX * 6 + RECORD_RUN_MAX * 6;
        char *msg = malloc(cap);
        uint8_t *fr = malloc(cap + 16);
        if (!msg || !fr) {
            free(msg);
            free(fr);
            break;
        }
        size_t dl;
        const char *data = pub_data(p, e, &dl);
        int n = !f->proto->server_seq
                    ? ws_foreign_msg(p, e, msg, cap)
                    : snprintf(msg, cap,
                               "{\"op\":\"pub\",\"ch\":%s,\"ts\":%lld,\"id\":\"%llx-%llx-%u-%u-%u\",\"ack\":true,\"data\":%s}",
                               chj, (long long)e->ts_us, (unsigned long long)f->t0_wall_us,
                               (unsigned long long)f->cfg.seed, f->cfg.shard_index, e->ch, e->n, data);
        int k = n > 0 && (size_t)n < cap ? ws_frame_client(p->wsp, 1, msg, (size_t)n, fr, cap + 16) : -1;
        int ok = k > 0 && out_append(c, fr, (size_t)k) == 0;
        free(msg);
        free(fr);
        if (!ok)
            break;
        c->n_infl++;
    }
    if (c->n_infl == before)
        return;
    if (before == 0) {
        c->state = PC_BUSY;
        c->sent_us = clock_mono_us();
        arm_ack_timer(c);
    }
    conn_flush(c);
    if (c->fd >= 0 && !f->proto->server_seq)
        ws_ack_written(c);
}

static void ws_kick(pub_conn *c)
{
    /* a foreign protocol's events are done once written: send on while
     * they go out at once (bounded; a full socket resumes on EV_WRITE) */
    for (int i = 0; i < 64; i++) {
        size_t before = c->q_len;
        ws_kick_once(c);
        if (c->p->f->proto->server_seq || c->fd < 0 || c->state != PC_IDLE || c->q_len == 0 || c->q_len == before)
            return;
    }
}

static void ws_pop(pub_conn *c)
{
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
    c->n_infl--;
}

static int pub_ws_msg(void *ud, int opcode, const char *data, size_t len)
{
    pub_conn *c = ud;
    fl_pub *p = c->p;
    if (opcode == 9) { /* ping */
        uint8_t fr[160];
        int k = ws_frame_client(p->wsp, 10, data, len, fr, sizeof fr);
        if (k > 0 && out_append(c, fr, (size_t)k) == 0)
            conn_flush(c);
        return 0;
    }
    if (opcode == 8)
        return -1;
    if (opcode == 1 && !p->f->proto->server_seq) {
        /* a foreign service's messages to a publisher: its pings need their
         * pong (ws-json ping_match); replies to publishes say nothing the
         * publisher can tie to an event (acknowledged when written) */
        const proto_opts *po = &p->f->cfg.proto_opts;
        if (po->ping_match[0] && proto_ping_matches(po->ping_match, data, len)) {
            char pong[1024];
            int k = proto_render_pong(po->pong_message, data, len, pong, sizeof pong);
            uint8_t fr[1100];
            int n = k < 0 ? -1 : ws_frame_client(p->wsp, 1, pong, (size_t)k, fr, sizeof fr);
            if (n > 0 && out_append(c, fr, (size_t)n) == 0)
                conn_flush(c);
        }
        return 0;
    }
    if (opcode != 1 || c->n_infl == 0)
        return 0;
    envelope e;
    char err[96];
    if (envelope_scan(data, len, &e, err, sizeof err) < 0) {
        FL_INC(&p->errors);
        return 0;
    }
    if (e.type == ENV_T_ERROR) {
        if (strcmp(e.code, "rate_limited") == 0 || strcmp(e.code, "overloaded") == 0) {
            c->ws_busy = 1; /* resend later, same ids */
            return -1;
        }
        FL_INC(&p->errors);
        FL_INC(&p->failed);
        ws_pop(c);
        return 0;
    }
    if (strcmp(e.type_str, "published") != 0 || !e.has_seq)
        return 0;
    record_ack(p, c->q[c->q_head].ch, e.seq, c->q[c->q_head].ts_us);
    ws_pop(c);
    c->tries = 0;
    c->backoff_ms = 0;
    return 0;
}

static void ws_handshake_send(pub_conn *c)
{
    fl_pub *p = c->p;
    fleet *f = p->f;
    char key[25], req[512 + FLEET_PREFIX_MAX + FLEET_TOKEN_MAX + PROTO_PATH_MAX + sizeof f->cfg.proto_opts.headers];
    ws_make_key(p->wsp, key);
    /* contract v1 publishes at /ws; a foreign protocol (ws-json) at its
     * WebSocket location, with the scenario's headers */
    const char *loc = f->proto->server_seq ? "/ws" : f->cfg.proto_opts.sub_path;
    const char *xh = f->proto->server_seq ? "" : f->cfg.proto_opts.headers;
    int n = snprintf(req, sizeof req,
                     "GET %s%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s%s\r\n",
                     f->cfg.path_prefix, loc, f->host_hdr, key, f->cfg.pub.token[0] ? "Authorization: Bearer " : "",
                     f->cfg.pub.token, f->cfg.pub.token[0] ? "\r\n" : "", xh);
    if (n < 0 || (size_t)n >= sizeof req) {
        conn_retry_later(c, "request too long");
        return;
    }
    c->state = PC_HANDSHAKE;
    c->status = 0;
    c->done = 0;
    http_parser_init(&c->hp, HTTP_RESPONSE);
    c->hp.data = c;
    if (out_append(c, req, (size_t)n) < 0) {
        conn_retry_later(c, "out of memory");
        return;
    }
    conn_flush(c);
}

/* Sends the next request when the connection is idle and events wait. */
static void conn_kick(pub_conn *c)
{
    fl_pub *p = c->p;
    fleet *f = p->f;
    if (c->state == PC_DOWN && c->q_len && !evtimer_pending(&c->timer, NULL)) {
        conn_connect(c);
        return;
    }
    if (p->wsp) {
        ws_kick(c);
        return;
    }
    if (c->state != PC_IDLE || c->q_len == 0)
        return;
    unsigned batch = f->cfg.pub.batch_size ? f->cfg.pub.batch_size : 1;
    if (!f->proto->pub_batch)
        batch = 1;
    uint32_t ch = c->q[c->q_head].ch;
    size_t n = 0;
    while (n < batch && n < c->q_len && c->q[(c->q_head + n) % c->q_cap].ch == ch)
        n++;
    /* room for the head (target up to 3 * PROTO_PATH_MAX once encoded),
     * then each event with its id or record (channel name escaped) */
    size_t hdr_room = 512 + strlen(f->cfg.pub.token) + PROTO_PATH_MAX * 3 + sizeof f->cfg.proto_opts.headers;
    size_t cap = hdr_room + 16 + n * (p->payload_len + 96 + ENV_CH_MAX * 6 + RECORD_RUN_MAX * 6) +
                 sizeof f->cfg.proto_opts.pub_body / 4 * (ENV_CH_MAX + 4); /* every {ch} of the template expanded */
    char *buf = malloc(cap);
    if (!buf)
        return;

    char *body = buf + hdr_room;
    size_t bl = 0;
    if (batch > 1)
        body[bl++] = '[';
    for (size_t i = 0; i < n && !f->proto->server_seq; i++) {
        /* a foreign server passes the body on as it is: it is the record */
        const pub_ev *e = &c->q[(c->q_head + i) % c->q_cap];
        char rec[1024 + ENV_CH_MAX * 6 + RECORD_RUN_MAX * 6];
        char *rb = p->payload_len + sizeof rec / 2 > sizeof rec ? malloc(p->payload_len + sizeof rec) : rec;
        size_t rcap = rb == rec ? sizeof rec : p->payload_len + sizeof rec;
        size_t dl;
        const char *data = pub_data(p, e, &dl);
        int k = rb ? record_format(rb, rcap, f->run_id, f->ch_names[e->ch], e->n, e->ts_us, data, dl) : -1;
        /* the body template (proto_opts.pub_body) wraps the record, e.g.
         * {"data":{payload}}; without one the body is the record; a
         * protocol with its own envelope (Pusher) wraps it itself */
        int w = k < 0 ? -1
                : f->proto->pub_render
                    ? f->proto->pub_render(&f->cfg.proto_opts, f->ch_names[e->ch], rb, (size_t)k, body + bl,
                                           cap - hdr_room - bl)
                    : proto_render_body(f->cfg.proto_opts.pub_body, rb, (size_t)k, f->ch_names[e->ch], body + bl,
                                        cap - hdr_room - bl);
        if (rb != rec)
            free(rb);
        if (w < 0) {
            free(buf);
            return;
        }
        bl += (size_t)w;
    }
    for (size_t i = 0; i < n && f->proto->server_seq; i++) {
        const pub_ev *e = &c->q[(c->q_head + i) % c->q_cap];
        /* the id is unique per run (start time, seed, shard) so that runs
         * against a long-lived server are never taken for repeats */
        bl += (size_t)sprintf(body + bl, "%s{\"ts\":%lld,\"id\":\"%llx-%llx-%u-%u-%u\",\"data\":%s}",
                              i ? "," : "", (long long)e->ts_us, (unsigned long long)f->t0_wall_us,
                              (unsigned long long)f->cfg.seed, f->cfg.shard_index, e->ch, e->n, pub_data(p, e, &(size_t){0}));
    }
    if (batch > 1)
        body[bl++] = ']';
    char hdr[512 + FLEET_TOKEN_MAX + FLEET_PREFIX_MAX + PROTO_PATH_MAX * 3 + sizeof f->cfg.proto_opts.headers],
        target[PROTO_PATH_MAX * 3];
    /* a protocol that signs its requests (Pusher) signs this body */
    if ((f->proto->pub_signed_target
             ? f->proto->pub_signed_target(&f->cfg.proto_opts, body, bl, target, sizeof target)
             : f->proto->pub_target(&f->cfg.proto_opts, f->ch_names[ch], target, sizeof target)) < 0) {
        free(buf);
        return;
    }
    int hl = snprintf(hdr, sizeof hdr,
                      "%s %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n%s%s%s%s\r\n",
                      f->cfg.proto_opts.pub_method[0] ? f->cfg.proto_opts.pub_method : "POST", f->cfg.path_prefix,
                      target, f->host_hdr, bl, f->cfg.pub.token[0] ? "Authorization: Bearer " : "",
                      f->cfg.pub.token, f->cfg.pub.token[0] ? "\r\n" : "", f->cfg.proto_opts.headers);
    memmove(buf + hl, body, bl); /* header then body, contiguous */
    memcpy(buf, hdr, (size_t)hl);
    free(c->out);
    c->out = buf;
    c->out_len = (size_t)hl + bl;
    c->out_off = 0;
    c->n_infl = n;
    c->state = PC_BUSY;
    c->done = 0;
    c->resp_len = 0;
    c->sent_us = clock_mono_us();
    http_parser_init(&c->hp, HTTP_RESPONSE);
    c->hp.data = c;
    uint32_t to = f->cfg.pub.ack_timeout_ms ? f->cfg.pub.ack_timeout_ms : 5000;
    struct timeval tv = {to / 1000, (to % 1000) * 1000};
    event_add(&c->timer, &tv);
    conn_flush(c);
}

static void on_conn_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    pub_conn *c = arg;
    fl_pub *p = c->p;
    if (c->state == PC_CONNECTING) {
        if (!c->ssl) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
                conn_retry_later(c, "connect");
                return;
            }
            if (p->f->tls && !(c->ssl = fl_tls_new(p->f->tls, c->fd, p->f->cfg.tls_host))) {
                conn_retry_later(c, "out of memory");
                return;
            }
        }
        if (c->ssl && !fl_tls_ready(c->ssl)) {
            /* the TLS handshake, still PC_CONNECTING under the ack timeout */
            char why[200];
            int h = fl_tls_handshake(c->ssl, why, sizeof why);
            if (h < 0) {
                conn_retry_later(c, "tls handshake");
                return;
            }
            if (h != 1) {
                event_del(&c->ev);
                event_assign(&c->ev, p->base, c->fd, h == 0 ? EV_READ : EV_WRITE, on_conn_io, c);
                event_add(&c->ev, NULL);
                return;
            }
        }
        c->state = PC_IDLE;
        event_del(&c->ev);
        event_assign(&c->ev, p->base, c->fd, EV_READ | EV_PERSIST, on_conn_io, c);
        event_add(&c->ev, NULL);
        if (p->wsp)
            ws_handshake_send(c);
        else
            conn_kick(c);
        return;
    }
    if (what & EV_WRITE) {
        conn_flush(c);
        if (c->fd >= 0 && p->wsp && !p->f->proto->server_seq && c->state == PC_BUSY) {
            ws_ack_written(c);
            ws_kick(c);
        }
    }
    if (c->fd < 0 || !(what & EV_READ))
        return;
    char buf[16384];
    ssize_t n = fl_conn_recv(c->fd, c->ssl, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (c->ssl && n > 0 && fl_tls_pending(c->ssl) > 0)
        event_active(&c->ev, EV_READ, 0); /* decrypted bytes no socket event will announce */
    if (n <= 0) {
        conn_retry_later(c, "closed");
        return;
    }
    if (p->wsp) {
        size_t off = 0;
        if (c->state == PC_HANDSHAKE) {
            off = http_parser_execute(&c->hp, &pub_settings, buf, (size_t)n);
            if (c->status == 0 && HTTP_PARSER_ERRNO(&c->hp) == HPE_OK)
                return; /* head not complete yet */
            if (c->status != 101) {
                FL_INC(&p->errors);
                conn_retry_later(c, "ws handshake refused");
                return;
            }
            c->state = PC_IDLE;
            event_del(&c->timer);
            ws_kick(c);
            if (c->fd < 0)
                return;
        }
        char err[128];
        if (off < (size_t)n &&
            ws_feed(p->wsp, &c->rx, (const uint8_t *)buf + off, (size_t)n - off, pub_ws_msg, c, 1 << 20, err,
                    sizeof err) < 0) {
            if (err[0])
                FL_INC(&p->errors);
            conn_retry_later(c, c->ws_busy ? "server busy" : "ws");
            c->ws_busy = 0;
            return;
        }
        if (c->state == PC_BUSY && c->n_infl == 0) {
            c->state = PC_IDLE;
            event_del(&c->timer);
        } else if (c->state == PC_BUSY) {
            arm_ack_timer(c); /* progress: the deadline is for the oldest unanswered */
        }
        ws_kick(c);
        return;
    }
    if (c->state != PC_BUSY) {
        conn_retry_later(c, "unexpected bytes");
        return;
    }
    size_t k = http_parser_execute(&c->hp, &pub_settings, buf, (size_t)n);
    (void)k;
    if (c->done) {
        http_parser_pause(&c->hp, 0);
        on_response(c);
        return;
    }
    if (HTTP_PARSER_ERRNO(&c->hp) != HPE_OK) {
        FL_INC(&p->errors);
        conn_retry_later(c, "bad response");
    }
}

static void on_conn_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    pub_conn *c = arg;
    if (c->state == PC_BUSY || c->state == PC_CONNECTING || c->state == PC_HANDSHAKE) {
        conn_retry_later(c, "ack timeout");
        return;
    }
    if (c->state == PC_DOWN)
        conn_connect(c);
}

static void conn_connect(pub_conn *c)
{
    fl_pub *p = c->p;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        conn_retry_later(c, "socket");
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    const struct sockaddr_in *sa = c->ep ? &p->f->mirror_sa[c->ep - 1] : &p->f->pub_sa;
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS) {
        conn_retry_later(c, "connect");
        return;
    }
    c->state = PC_CONNECTING;
    event_assign(&c->ev, p->base, fd, EV_WRITE, on_conn_io, c);
    event_add(&c->ev, NULL);
    uint32_t to = p->f->cfg.pub.ack_timeout_ms ? p->f->cfg.pub.ack_timeout_ms : 5000;
    struct timeval tv = {to / 1000, (to % 1000) * 1000};
    event_add(&c->timer, &tv);
}

/* ---- control ------------------------------------------------------------------------------- */

static void update_idle(fl_pub *p)
{
    int idle = p->finishing;
    for (unsigned i = 0; i < p->n_all && idle; i++)
        idle = p->conns[i].q_len == 0;
    __atomic_store_n(&p->idle, idle, __ATOMIC_RELEASE);
}

static void on_cmd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    fl_pub *p = arg;
    pthread_mutex_lock(&p->mu);
    int pause = p->cmd_pause, finish = p->cmd_finish, stop = p->cmd_stop;
    p->cmd_pause = -1;
    pthread_mutex_unlock(&p->mu);
    if (pause == 1 && !p->paused) {
        p->paused = 1;
        event_del(p->timer);
    } else if (pause == 0 && p->paused) {
        p->paused = 0;
        schedule_from(p, clock_mono_us());
        arm_timer(p);
    }
    if (finish && !p->finishing) {
        p->finishing = 1;
        event_del(p->timer);
    }
    if (stop)
        event_base_loopexit(p->base, NULL);
    update_idle(p);
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    update_idle(arg);
}

static void post(fl_pub *p, int pause, int finish, int stop)
{
    pthread_mutex_lock(&p->mu);
    if (pause >= 0)
        p->cmd_pause = pause;
    p->cmd_finish |= finish;
    p->cmd_stop |= stop;
    pthread_mutex_unlock(&p->mu);
    event_active(p->cmd, EV_READ, 0);
}

int fl_pub_new(fleet *f, fl_pub **out, char *err, size_t errlen)
{
    pthread_once(&pub_once, pub_init_settings);
    fl_pub *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "publisher: out of memory");
        return -1;
    }
    p->f = f;
    p->cmd_pause = -1;
    pthread_mutex_init(&p->mu, NULL);
    prng_seed(&p->rng, prng_derive(f->cfg.seed, 77));
    p->n_conns = f->cfg.pub.connections ? f->cfg.pub.connections : 4;
    if (p->n_conns > f->n_ch)
        p->n_conns = f->n_ch;
    p->base = event_base_new();
    p->n_all = p->n_conns * (1 + f->cfg.n_publish_mirrors);
    p->conns = calloc(p->n_all, sizeof *p->conns);
    p->heap = calloc(f->n_ch, sizeof *p->heap);
    p->ev_n = calloc(f->n_ch, sizeof *p->ev_n);
    /* "data" is a JSON string of payload_bytes, stamped per event (payload.h) */
    size_t pb = fl_payload_string_len(f->cfg.pub.payload_bytes);
    p->payload = malloc(pb + 1);
    if (!p->base || !p->conns || !p->heap || !p->ev_n || !p->payload) {
        fl_pub_free(p);
        snprintf(err, errlen, "publisher: out of memory");
        return -1;
    }
    p->payload_len = pb;
    if (f->cfg.pub.payload == FLEET_PAYLOAD_FIELDS) {
        /* payload.h: this always holds the value of any channel's event */
        p->payload_len = pb + 256 + 6 * ENV_CH_MAX;
        p->fbuf = malloc(p->payload_len + 1);
        if (!p->fbuf) {
            snprintf(err, errlen, "out of memory for the publisher's payload");
            fl_pub_free(p);
            return -1;
        }
    }
    if (f->cfg.pub.transport == FLEET_PUB_WS) {
        p->wsp = ws_pool_new(prng_derive(f->cfg.seed, 78));
        if (!p->wsp) {
            fl_pub_free(p);
            snprintf(err, errlen, "publisher: out of memory");
            return -1;
        }
    }
    p->timer = event_new(p->base, -1, 0, on_schedule, p);
    p->cmd = event_new(p->base, -1, EV_PERSIST, on_cmd, p);
    p->watch = event_new(p->base, -1, EV_PERSIST, on_watch, p);
    if (!p->timer || !p->cmd || !p->watch) {
        fl_pub_free(p);
        snprintf(err, errlen, "publisher: out of memory");
        return -1;
    }
    struct timeval tv = {0, 20000};
    event_add(p->watch, &tv);
    for (unsigned i = 0; i < p->n_all; i++) {
        pub_conn *c = &p->conns[i];
        c->p = p;
        c->idx = i;
        c->ep = i / p->n_conns;
        c->fd = -1;
        evtimer_assign(&c->timer, p->base, on_conn_timer, c);
    }
    *out = p;
    return 0;
}

static void *pub_main(void *arg)
{
    fl_pub *p = arg;
    event_base_dispatch(p->base);
    return NULL;
}

int fl_pub_start(fl_pub *p, char *err, size_t errlen)
{
    schedule_from(p, p->f->t0_mono_us + p->f->cfg.pub.start_us);
    for (unsigned i = 0; i < p->n_all; i++)
        conn_connect(&p->conns[i]);
    arm_timer(p);
    if (pthread_create(&p->th, NULL, pub_main, p) != 0) {
        snprintf(err, errlen, "publisher: cannot start its thread");
        return -1;
    }
    p->running = 1;
    return 0;
}

void fl_pub_pause(fl_pub *p, int paused)
{
    post(p, paused ? 1 : 0, 0, 0);
}

void fl_pub_finish(fl_pub *p, uint32_t deadline_ms)
{
    fleet *f = p->f;
    if (p->running) {
        post(p, -1, 1, 0);
        uint64_t end = clock_mono_us() + (uint64_t)deadline_ms * 1000u;
        while (!__atomic_load_n(&p->idle, __ATOMIC_ACQUIRE) && clock_mono_us() < end)
            clock_sleep_ms(10);
        post(p, -1, 0, 1);
        pthread_join(p->th, NULL);
        p->running = 0;
        /* what is still queued or in flight was never acknowledged */
        for (unsigned i = 0; i < p->n_all; i++) {
            FL_ADD(p->conns[i].ep ? &p->mirror_failed : &p->failed, p->conns[i].q_len);
            p->conns[i].q_len = 0;
            conn_close(&p->conns[i]);
        }
    }
    for (uint32_t i = 0; i < f->n_ch; i++)
        f->final_head[i] = __atomic_load_n(&f->acked_head[i], __ATOMIC_RELAXED);
    int ok = 1;
    for (uint32_t i = 0; i < f->n_ch; i++) {
        fl_publog *l = &f->publog[i];
        if (l->n == SIZE_MAX || !l->n)
            continue;
        free(l->sufmin);
        l->sufmin = malloc(l->n * sizeof *l->sufmin);
        if (!l->sufmin) {
            ok = 0;
            break;
        }
        int64_t m = INT64_MAX;
        for (size_t k = l->n; k-- > 0;)
            l->sufmin[k] = m = l->ts[k] < m ? l->ts[k] : m;
    }
    f->publog_ready = ok;
    __atomic_store_n(&f->heads_final, 1, __ATOMIC_RELEASE);
}

int fl_pub_floor(const fleet *f, uint32_t ch, int64_t t_us, uint64_t *floor)
{
    if (!f->publog_ready || !f->publog || ch >= f->n_ch)
        return 0;
    const fl_publog *l = &f->publog[ch];
    if (l->n == SIZE_MAX)
        return 0;
    if (!l->n)
        return 0; /* nothing stamped here: the channel's events (if any) are someone else's */
    if (t_us < l->gen_ts)
        return 0; /* the subscription began before this generation */
    /* the first index from which every event was stamped after t_us */
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->sufmin[mid] > t_us)
            hi = mid;
        else
            lo = mid + 1;
    }
    /* nothing stamped after t_us: nothing is owed, whoever else publishes */
    *floor = lo == l->n ? UINT64_MAX : l->seq[lo] - 1;
    return 1;
}

uint64_t fl_pub_published(fl_pub *p)
{
    return __atomic_load_n(&p->published, __ATOMIC_RELAXED);
}

void fl_pub_mirror_outcomes(fl_pub *p, uint64_t *acked, uint64_t *failed)
{
    *acked = FL_GET(&p->mirror_acked);
    *failed = FL_GET(&p->mirror_failed);
}

void fl_pub_outcomes(fl_pub *p, uint64_t *acked, uint64_t *failed, uint64_t *retries, uint64_t *errors)
{
    *acked = FL_GET(&p->published);
    *failed = FL_GET(&p->failed);
    *retries = FL_GET(&p->retries);
    *errors = FL_GET(&p->errors);
}

int fl_pub_running(fl_pub *p)
{
    return p->running && !p->finishing && !p->paused;
}

void fl_pub_results(fl_pub *p, chk_ctx *ctx)
{
    fleet *f = p->f;
    for (size_t s = 0; s < p->n_sec; s++) {
        if (!p->per_sec[s])
            continue;
        chk_tl_row *row = chk_row(ctx, ctx->t0_mono_us + s * 1000000u);
        if (row)
            row->published += p->per_sec[s];
    }
    f->published = p->published;
    f->publish_failed = p->failed;
    f->publish_retries = p->retries;
    f->publish_errors = p->errors;
    f->publish_generations = p->generations;
    if (p->n_reasons && !f->error_reasons)
        f->error_reasons = json_object();
    for (unsigned k = 0; k < p->n_reasons && f->error_reasons; k++) {
        json_t *v = json_object_get(f->error_reasons, p->reasons[k].why);
        json_object_set_new(f->error_reasons, p->reasons[k].why,
                            json_integer(json_integer_value(v) + (json_int_t)p->reasons[k].n));
    }
    f->stalls += p->stalls;
    if (p->stall_max_us > f->stall_max_us)
        f->stall_max_us = p->stall_max_us;
}

void fl_pub_free(fl_pub *p)
{
    if (!p)
        return;
    if (p->running) {
        post(p, -1, 1, 1);
        pthread_join(p->th, NULL);
    }
    for (unsigned i = 0; p->conns && i < p->n_all; i++) {
        conn_close(&p->conns[i]);
        free(p->conns[i].q);
        free(p->conns[i].resp);
    }
    free(p->conns);
    ws_pool_free(p->wsp);
    free(p->heap);
    free(p->ev_n);
    free(p->payload);
    free(p->fbuf);
    free(p->per_sec);
    if (p->timer)
        event_free(p->timer);
    if (p->cmd)
        event_free(p->cmd);
    if (p->watch)
        event_free(p->watch);
    if (p->base)
        event_base_free(p->base);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
