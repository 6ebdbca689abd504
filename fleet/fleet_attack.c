/* fleet_attack.c — the fleet's attackers (message flood, oversized message, slowloris handshake) on the fleet's threads, and the tallies of how the server answered them. */
#include "fleet_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "envelope.h"
#include "fleet_http.h"

/* ---- tallies ------------------------------------------------------------------------------ */

int fleet_attack_tally_init(fleet_attack_tally *t)
{
    memset(t, 0, sizeof *t);
    t->cut = hist_new();
    return t->cut ? 0 : -1;
}

void fleet_attack_tally_free(fleet_attack_tally *t)
{
    hist_free(t->cut);
    t->cut = NULL;
}

static void count_outcome(fleet_attack_tally *t, int code, uint64_t n)
{
    for (unsigned i = 0; i < t->n_by; i++) {
        if (t->by[i].code == code) {
            t->by[i].n += n;
            return;
        }
    }
    if (t->n_by == FLEET_ATTACK_OUTCOMES) {
        t->other += n;
        return;
    }
    t->by[t->n_by].code = code;
    t->by[t->n_by].n = n;
    t->n_by++;
}

void fleet_attack_tally_merge(fleet_attack_tally *dst, const fleet_attack_tally *src)
{
    dst->attempts += src->attempts;
    dst->rejected += src->rejected;
    dst->unexpected += src->unexpected;
    dst->not_rejected += src->not_rejected;
    dst->in_flight += src->in_flight;
    dst->connect_failed += src->connect_failed;
    dst->sent += src->sent;
    dst->accepted += src->accepted;
    dst->other += src->other;
    for (unsigned i = 0; i < src->n_by; i++)
        count_outcome(dst, src->by[i].code, src->by[i].n);
    if (dst->cut && src->cut)
        hist_merge(dst->cut, src->cut);
}

int fleet_attack_expected(const fleet_group_cfg *g, int code)
{
    const fleet_attack_cfg *a = &g->attack;
    if (a->n_expect) {
        for (uint32_t i = 0; i < a->n_expect && i < FLEET_EXPECT_MAX; i++)
            if (a->expect[i] == code)
                return 1;
        return 0;
    }
    switch (g->behavior) {
    case FLEET_FLOOD: return code == 4429;
    case FLEET_OVERSIZED: return code == (a->via_http ? 413 : 1009);
    case FLEET_SLOWLORIS: return code == FLEET_OUTCOME_CLOSED || code == 408;
    case FLEET_SUBSCRIBER: return 0;
    }
    return 0;
}

void fleet_attack_settle(fleet_attack_tally *t, const fleet_group_cfg *g, int code, uint64_t cut_us,
                         uint64_t sent, uint64_t accepted)
{
    t->attempts++;
    t->sent += sent;
    t->accepted += accepted;
    count_outcome(t, code, 1);
    if (code == FLEET_ATTACK_NOT_REJECTED) {
        t->not_rejected++;
        return;
    }
    if (fleet_attack_expected(g, code))
        t->rejected++;
    else
        t->unexpected++;
    if (t->cut)
        hist_record(t->cut, cut_us);
}

const char *fleet_attack_outcome_name(int code, char *buf, size_t cap)
{
    if (code == FLEET_ATTACK_NOT_REJECTED)
        snprintf(buf, cap, "not_rejected");
    else if (code == FLEET_OUTCOME_CLOSED)
        snprintf(buf, cap, "closed");
    else if (code >= 1000)
        snprintf(buf, cap, "ws_%d", code);
    else
        snprintf(buf, cap, "http_%d", code);
    return buf;
}

const char *fleet_behavior_str(fleet_behavior b)
{
    switch (b) {
    case FLEET_SUBSCRIBER: return "subscriber";
    case FLEET_FLOOD: return "flood";
    case FLEET_OVERSIZED: return "oversized";
    case FLEET_SLOWLORIS: return "slowloris";
    }
    return "?";
}

/* The expected outcomes of g as names (its list, or the default). */
static json_t *expect_json(const fleet_group_cfg *g)
{
    json_t *a = json_array();
    char nm[24];
    static const int candidates[] = {FLEET_OUTCOME_CLOSED, 408, 413, 429, 1009, 4429};
    if (g->attack.n_expect) {
        for (uint32_t i = 0; i < g->attack.n_expect && i < FLEET_EXPECT_MAX; i++)
            json_array_append_new(a, json_string(fleet_attack_outcome_name(g->attack.expect[i], nm, sizeof nm)));
        return a;
    }
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++)
        if (fleet_attack_expected(g, candidates[i]))
            json_array_append_new(a, json_string(fleet_attack_outcome_name(candidates[i], nm, sizeof nm)));
    return a;
}

json_t *fleet_attack_json(const fleet_attack_tally *t, uint64_t clients, const fleet_group_cfg *g)
{
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "clients", (json_int_t)clients,
                          "attempts", (json_int_t)t->attempts, "rejected", (json_int_t)t->rejected,
                          "unexpected", (json_int_t)t->unexpected, "not_rejected", (json_int_t)t->not_rejected,
                          "in_flight", (json_int_t)t->in_flight, "connect_failed", (json_int_t)t->connect_failed,
                          "sent", (json_int_t)t->sent, "accepted", (json_int_t)t->accepted);
    if (!o)
        return NULL;
    json_t *by = json_object();
    char nm[24];
    for (unsigned i = 0; i < t->n_by; i++)
        json_object_set_new(by, fleet_attack_outcome_name(t->by[i].code, nm, sizeof nm),
                            json_integer((json_int_t)t->by[i].n));
    if (t->other)
        json_object_set_new(by, "other", json_integer((json_int_t)t->other));
    json_object_set_new(o, "by_outcome", by);
    if (t->cut) {
        json_t *c = hist_summary_json(t->cut);
        if (c)
            json_object_set_new(c, "hist", hist_to_json(t->cut));
        json_object_set_new(o, "cut_us", c ? c : json_null());
    }
    if (g) {
        json_object_set_new(o, "behavior", json_string(fleet_behavior_str(g->behavior)));
        json_object_set_new(o, "expect", expect_json(g));
    }
    return o;
}

/* ---- attackers ---------------------------------------------------------------------------- */

enum at_state {
    AT_WAIT = 0,   /* timer: the first attempt, or the pause between attempts */
    AT_CONNECTING, /* TCP connect in progress (timer: connect deadline) */
    AT_HANDSHAKE,  /* WS upgrade sent, reading the answer (timer: patience) */
    AT_ATTACK,     /* sending the abuse (timer: flood pacing / trickle) */
    AT_SETTLE,     /* everything sent; waiting for the server's answer (timer: patience) */
    AT_DEAD,
};

#define AT_FLOOD_TICK_MS 10          /* flood pacing */
#define AT_OUT_MAX (4u << 20)        /* a flood whose socket is this backed up stops adding frames */

/* One attacking client: one attempt (connection) at a time. Buffers exist
 * only during an attempt. */
struct fl_attacker {
    struct event io, timer;
    fl_thread *t;
    uint32_t id, ch;
    uint16_t group;
    uint8_t state;
    uint8_t ws_open;       /* the 101 arrived: what follows are WS frames */
    uint8_t got_close;     /* a close frame arrived (close_code) */
    uint8_t tls_want;      /* TLS handshake in AT_CONNECTING: 0 read, 2 write (fl_tls_handshake) */
    int close_code;
    int fd;
    SSL *ssl;              /* https:// / wss:// targets: the attempt's TLS, over fd */
    uint32_t attempts;
    uint64_t conn_us;      /* mono: connected (TCP, and TLS when the target is TLS): the attempt's clock starts */
    uint64_t attack_us;    /* mono: the abuse began (flood pacing) */
    uint64_t sent, accepted;
    fl_http *hp;           /* reading an HTTP answer */
    ws_conn_rx ws;
    char *out;             /* unsent bytes */
    size_t out_len, out_off;
};

static void at_on_io(evutil_socket_t fd, short what, void *arg);
static void at_on_timer(evutil_socket_t fd, short what, void *arg);

static inline const fleet_group_cfg *AG(const fl_attacker *a) { return &a->t->f->groups[a->group]; }

static uint32_t patience_ms(const fl_attacker *a)
{
    return AG(a)->attack.patience_ms ? AG(a)->attack.patience_ms : 30000;
}

static void at_timer(fl_attacker *a, uint32_t ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(&a->timer, &tv);
}

static void at_watch(fl_attacker *a)
{
    short what = EV_READ | EV_PERSIST;
    if (a->out_len > a->out_off || a->state == AT_CONNECTING)
        what |= EV_WRITE;
    if (a->state == AT_CONNECTING) /* TCP connect, then the TLS handshake's wants */
        what = a->ssl && a->tls_want == 0 ? EV_READ : EV_WRITE;
    if (event_initialized(&a->io))
        event_del(&a->io);
    event_assign(&a->io, a->t->base, a->fd, what, at_on_io, a);
    event_add(&a->io, NULL);
}

static void at_close(fl_attacker *a)
{
    if (event_initialized(&a->io))
        event_del(&a->io);
    event_del(&a->timer);
    fl_tls_free(a->ssl);
    a->ssl = NULL;
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    free(a->hp);
    a->hp = NULL;
    ws_conn_release(a->t->wsp, &a->ws);
    free(a->out);
    a->out = NULL;
    a->out_len = a->out_off = 0;
    a->ws_open = 0;
    a->got_close = 0;
}

static void at_next(fl_attacker *a, uint32_t delay_ms)
{
    at_close(a);
    a->state = AT_WAIT;
    at_timer(a, delay_ms ? delay_ms : 1);
}

/* The attempt ended: code is the server's answer (or NOT_REJECTED). */
static void at_settle(fl_attacker *a, int code)
{
    uint64_t now = clock_mono_us();
    fleet_attack_settle(&a->t->at[a->group], AG(a), code, now - a->conn_us, a->sent, a->accepted);
    a->attempts++;
    uint32_t pause = AG(a)->attack.pause_ms ? AG(a)->attack.pause_ms : 100;
    at_next(a, pause);
}

/* Sends what is queued; returns 0, or -1 when the connection broke. */
static int at_flush(fl_attacker *a)
{
    ssize_t w = fl_conn_send_some(a->fd, a->ssl, a->out + a->out_off, a->out_len - a->out_off);
    if (w < 0)
        return -1;
    a->out_off += (size_t)w;
    if (a->out_off == a->out_len) {
        free(a->out);
        a->out = NULL;
        a->out_len = a->out_off = 0;
    } else if (a->out_off >= 64 * 1024) { /* a backed-up flood: keep only what is unsent */
        memmove(a->out, a->out + a->out_off, a->out_len - a->out_off);
        a->out_len -= a->out_off;
        a->out_off = 0;
    }
    return 0;
}

/* Queues bytes (the queue is sent as the socket allows). Returns 0, or -1
 * when out of memory. */
static int at_queue(fl_attacker *a, const void *data, size_t len)
{
    char *o = realloc(a->out, a->out_len + len);
    if (!o)
        return -1;
    memcpy(o + a->out_len, data, len);
    a->out = o;
    a->out_len += len;
    return 0;
}

static int at_feed(fl_attacker *a, const char *buf, size_t n);

/* The socket broke while sending: the server may have answered just before
 * (a close frame, a 413) and then reset; read what arrived, then settle. */
static void at_broken(fl_attacker *a)
{
    uint8_t *rb = a->t->rbuf;
    for (int i = 0; i < 64 && a->state != AT_WAIT; i++) {
        ssize_t n = a->ssl ? fl_tls_recv(a->ssl, rb, FL_RBUF_BYTES) : recv(a->fd, rb, FL_RBUF_BYTES, MSG_DONTWAIT);
        if (n <= 0)
            break;
        if (at_feed(a, (const char *)rb, (size_t)n) < 0)
            return; /* settled */
    }
    if (a->state != AT_WAIT)
        at_settle(a, FLEET_OUTCOME_CLOSED);
}

static int at_send(fl_attacker *a, const void *data, size_t len)
{
    if (at_queue(a, data, len) < 0 || at_flush(a) < 0) {
        at_broken(a);
        return -1;
    }
    at_watch(a);
    return 0;
}

static int at_ws_msg(void *ud, int opcode, const char *data, size_t len)
{
    fl_attacker *a = ud;
    if (opcode == 8) { /* settled by the caller once ws_feed has returned */
        a->close_code = len >= 2 ? ((uint8_t)data[0] << 8 | (uint8_t)data[1]) : 1005;
        a->got_close = 1;
        return -1;
    }
    if (opcode == 1 && len < 256 && memmem(data, len, "\"pong\"", 6))
        a->accepted++;
    return 0;
}

static void at_start_abuse(fl_attacker *a);

/* Handles received bytes. Returns 0, or -1 once the attempt settled. */
static int at_feed(fl_attacker *a, const char *buf, size_t n)
{
    if (a->hp) {
        size_t k = fl_http_execute(a->hp, buf, n);
        if (!a->hp->headers_done) {
            if (HTTP_PARSER_ERRNO(&a->hp->p) != HPE_OK) {
                at_settle(a, FLEET_OUTCOME_CLOSED); /* not HTTP: as good as a hang-up */
                return -1;
            }
            return 0;
        }
        int status = a->hp->status;
        if (status != 101 || AG(a)->attack.via_http || AG(a)->behavior == FLEET_SLOWLORIS) {
            at_settle(a, status);
            return -1;
        }
        free(a->hp);
        a->hp = NULL;
        a->ws_open = 1;
        at_start_abuse(a);
        if (a->state == AT_WAIT)
            return -1;
        buf += k;
        n -= k;
    }
    if (a->ws_open && n) {
        char err[160];
        if (ws_feed(a->t->wsp, &a->ws, (const uint8_t *)buf, n, at_ws_msg, a, FL_MAX_MSG, err, sizeof err) < 0) {
            /* a close frame, or a protocol error (as good as a hang-up) */
            at_settle(a, a->got_close ? a->close_code : FLEET_OUTCOME_CLOSED);
            return -1;
        }
    }
    return 0;
}

/* ---- the three abuses ---- */

/* The endless request head a slowloris trickles: a request line and Host,
 * then "X-Trickle: a" headers forever; never the blank line. */
static char loris_byte(const fl_attacker *a, uint64_t pos)
{
    static const char *const heads[] = {"/ws HTTP/1.1\r\n", "/sse?ch=", "/poll?ch="};
    fleet *f = a->t->f;
    char first[FLEET_HOST_MAX + FLEET_PREFIX_MAX + ENV_CH_MAX + 200];
    const fleet_group_cfg *g = AG(a);
    int n = g->transport == FLEET_WS
                ? snprintf(first, sizeof first, "GET %s%sHost: %s\r\n", f->cfg.path_prefix, heads[0], f->host_hdr)
                : snprintf(first, sizeof first, "GET %s%s%s HTTP/1.1\r\nHost: %s\r\n", f->cfg.path_prefix,
                           heads[g->transport == FLEET_SSE ? 1 : 2], f->ch_names[a->ch], f->host_hdr);
    if (n > 0 && pos < (uint64_t)n && (size_t)n < sizeof first)
        return first[pos];
    static const char trickle[] = "X-Trickle: a\r\n";
    return trickle[(pos - (uint64_t)(n > 0 ? n : 0)) % (sizeof trickle - 1)];
}

static int ws_upgrade(fl_attacker *a)
{
    char key[25], req[FLEET_TOKEN_MAX + FLEET_PREFIX_MAX + 512];
    ws_make_key(a->t->wsp, key);
    int n = snprintf(req, sizeof req,
                     "GET %s/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     a->t->f->cfg.path_prefix, a->t->f->host_hdr, key, AG(a)->token[0] ? "Authorization: Bearer " : "", AG(a)->token,
                     AG(a)->token[0] ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof req)
        return -1;
    return at_send(a, req, (size_t)n);
}

/* The oversized message: {"op":"pub","ch":…,"data":"…"}, the data all 'x', of `bytes`
 * bytes (at least its frame), as one WS text frame or a POST body. */
static int send_oversized(fl_attacker *a)
{
    const fleet_group_cfg *g = AG(a);
    size_t bytes = g->attack.bytes ? (size_t)g->attack.bytes : (1u << 20);
    const char *ch = a->t->f->ch_names[a->ch];
    char pre[ENV_CH_MAX + 64];
    int pl = g->attack.via_http ? snprintf(pre, sizeof pre, "{\"data\":\"")
                                : snprintf(pre, sizeof pre, "{\"op\":\"pub\",\"ch\":\"%s\",\"data\":\"", ch);
    if (pl < 0 || bytes < (size_t)pl + 2)
        bytes = (size_t)pl + 2;
    char *body = malloc(bytes);
    if (!body)
        return -1;
    memcpy(body, pre, (size_t)pl);
    memset(body + pl, 'x', bytes - (size_t)pl - 2);
    memcpy(body + bytes - 2, "\"}", 2);
    int rc;
    if (g->attack.via_http) {
        char head[FLEET_TOKEN_MAX + FLEET_PREFIX_MAX + 512];
        int n = snprintf(head, sizeof head,
                         "POST %s/publish/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n%s%s%s\r\n",
                         a->t->f->cfg.path_prefix, ch, a->t->f->host_hdr, bytes, g->token[0] ? "Authorization: Bearer " : "", g->token,
                         g->token[0] ? "\r\n" : "");
        rc = n < 0 || (size_t)n >= sizeof head || at_queue(a, head, (size_t)n) < 0 ? -1 : 0;
        if (rc == 0)
            rc = at_queue(a, body, bytes);
    } else {
        size_t cap = bytes + 16;
        uint8_t *fr = malloc(cap);
        int k = fr ? ws_frame_client(a->t->wsp, 1, body, bytes, fr, cap) : -1;
        rc = k < 0 ? -1 : at_queue(a, fr, (size_t)k);
        free(fr);
    }
    free(body);
    if (rc < 0)
        return -1;
    a->sent = bytes;
    if (at_flush(a) < 0) {
        at_broken(a);
        return 1;
    }
    at_watch(a);
    return 0;
}

static void flood_tick(fl_attacker *a)
{
    const fleet_attack_cfg *c = &AG(a)->attack;
    uint64_t total = c->messages ? c->messages : 2000;
    uint64_t rate = c->rate_per_s ? c->rate_per_s : 1000;
    uint64_t due = (clock_mono_us() - a->attack_us) * rate / 1000000u + 1;
    if (due > total)
        due = total;
    static const char ping[] = "{\"op\":\"ping\"}";
    uint8_t batch[64 * 32];
    size_t bl = 0;
    while (a->sent < due && a->out_len - a->out_off < AT_OUT_MAX) {
        int k = ws_frame_client(a->t->wsp, 1, ping, sizeof ping - 1, batch + bl, sizeof batch - bl);
        if (k < 0)
            break;
        bl += (size_t)k;
        a->sent++;
        if (sizeof batch - bl < 32) {
            if (at_send(a, batch, bl) < 0)
                return;
            bl = 0;
        }
    }
    if (bl && at_send(a, batch, bl) < 0)
        return;
    if (a->sent >= total) {
        a->state = AT_SETTLE;
        at_timer(a, patience_ms(a));
    } else {
        at_timer(a, AT_FLOOD_TICK_MS);
    }
}

static void loris_tick(fl_attacker *a)
{
    const fleet_group_cfg *g = AG(a);
    if (clock_mono_us() - a->conn_us >= (uint64_t)patience_ms(a) * 1000u) {
        at_settle(a, FLEET_ATTACK_NOT_REJECTED);
        return;
    }
    char b = loris_byte(a, a->sent);
    if (at_send(a, &b, 1) < 0)
        return;
    a->sent++;
    at_timer(a, g->attack.byte_every_ms ? g->attack.byte_every_ms : 1000);
}

/* After the 101 (WS abuses) or at connect (the others). */
static void at_start_abuse(fl_attacker *a)
{
    const fleet_group_cfg *g = AG(a);
    a->state = AT_ATTACK;
    a->attack_us = clock_mono_us();
    event_del(&a->timer);
    switch (g->behavior) {
    case FLEET_FLOOD:
        flood_tick(a);
        return;
    case FLEET_OVERSIZED: {
        int r = send_oversized(a);
        if (r < 0) {
            at_settle(a, FLEET_OUTCOME_CLOSED);
            return;
        }
        if (r == 0 && a->state == AT_ATTACK) {
            if (a->out_len == 0)
                a->state = AT_SETTLE;
            at_timer(a, patience_ms(a)); /* also bounds a send the server never reads */
        }
        return;
    }
    case FLEET_SLOWLORIS:
        loris_tick(a);
        return;
    case FLEET_SUBSCRIBER:
        return;
    }
}

static void at_connected(fl_attacker *a)
{
    fleet *f = a->t->f;
    if (!a->ssl) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0 ||
            (f->tls && !(a->ssl = fl_tls_new(f->tls, a->fd, f->cfg.tls_host)))) {
            a->t->at[a->group].connect_failed++;
            at_next(a, AG(a)->attack.pause_ms ? AG(a)->attack.pause_ms : 100);
            return;
        }
    }
    if (a->ssl && !fl_tls_ready(a->ssl)) {
        /* an https:// target: the abuse goes inside TLS, as a real client's
         * would (plaintext would only measure the server refusing it). The
         * handshake runs in AT_CONNECTING under the connect timeout; a
         * failed one is a failed connect, not an answer to the abuse. */
        char why[200];
        int h = fl_tls_handshake(a->ssl, why, sizeof why);
        if (h < 0) {
            a->t->at[a->group].connect_failed++;
            at_next(a, AG(a)->attack.pause_ms ? AG(a)->attack.pause_ms : 100);
            return;
        }
        if (h != 1) {
            a->tls_want = (uint8_t)h;
            at_watch(a);
            return;
        }
    }
    event_del(&a->timer);
    a->conn_us = clock_mono_us();
    a->sent = a->accepted = 0;
    const fleet_group_cfg *g = AG(a);
    /* every abuse may get an HTTP answer first: the 101, a 413, a 408 */
    static const fl_http_cbs no_cbs = {NULL, NULL, NULL};
    a->hp = malloc(sizeof *a->hp);
    if (!a->hp) {
        at_next(a, 1000);
        return;
    }
    fl_http_init(a->hp, &no_cbs, a, NULL);
    if (g->behavior == FLEET_SLOWLORIS || (g->behavior == FLEET_OVERSIZED && g->attack.via_http)) {
        at_watch(a);
        at_start_abuse(a);
        return;
    }
    a->state = AT_HANDSHAKE;
    at_timer(a, patience_ms(a));
    if (ws_upgrade(a) < 0)
        return; /* settled by at_send */
}

static void at_begin(fl_attacker *a)
{
    fl_thread *t = a->t;
    const fleet_group_cfg *g = AG(a);
    int stopping = __atomic_load_n(&t->f->heads_final, __ATOMIC_ACQUIRE) || t->cmd_stop;
    if (stopping || (g->attack.attempts && a->attempts >= g->attack.attempts)) {
        a->state = AT_DEAD;
        return;
    }
    const char *why = NULL;
    int fd = fl_socket_connect(t->f, a->id, 0, 0, &why);
    if (fd < 0) {
        t->at[a->group].connect_failed++;
        at_next(a, 1000);
        return;
    }
    a->fd = fd;
    a->state = AT_CONNECTING;
    at_watch(a);
    at_timer(a, g->connect_timeout_ms ? g->connect_timeout_ms : 5000);
}

static void at_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    fl_attacker *a = arg;
    switch (a->state) {
    case AT_WAIT:
        at_begin(a);
        break;
    case AT_CONNECTING:
        a->t->at[a->group].connect_failed++;
        at_next(a, AG(a)->attack.pause_ms ? AG(a)->attack.pause_ms : 100);
        break;
    case AT_HANDSHAKE:
    case AT_SETTLE:
        at_settle(a, FLEET_ATTACK_NOT_REJECTED);
        break;
    case AT_ATTACK:
        if (AG(a)->behavior == FLEET_FLOOD)
            flood_tick(a);
        else if (AG(a)->behavior == FLEET_SLOWLORIS)
            loris_tick(a);
        else
            at_settle(a, FLEET_ATTACK_NOT_REJECTED);
        break;
    default:
        break;
    }
}

static void at_on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    fl_attacker *a = arg;
    if (a->state == AT_CONNECTING) {
        at_connected(a);
        return;
    }
    if (what & EV_WRITE) {
        if (at_flush(a) < 0) {
            at_broken(a);
            return;
        }
        if (a->state == AT_ATTACK && AG(a)->behavior == FLEET_OVERSIZED && a->out_len == 0) {
            a->state = AT_SETTLE;
            at_timer(a, patience_ms(a));
        }
        at_watch(a);
    }
    if (!(what & EV_READ))
        return;
    uint8_t *rb = a->t->rbuf;
    /* over TLS, records already decrypted wait in the SSL where no socket
     * event announces them: read them out too (bounded) */
    for (int i = 0; i < 64; i++) {
        ssize_t n = fl_conn_recv(a->fd, a->ssl, rb, FL_RBUF_BYTES);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            at_settle(a, FLEET_OUTCOME_CLOSED);
            return;
        }
        if (at_feed(a, (const char *)rb, (size_t)n) < 0 || !a->ssl || fl_tls_pending(a->ssl) <= 0)
            return;
    }
}

/* ---- thread hooks ---- */

int fl_attack_thread_init(fl_thread *t, char *err, size_t errlen)
{
    fleet *f = t->f;
    t->at = calloc(f->cfg.n_groups, sizeof *t->at);
    if (!t->at) {
        snprintf(err, errlen, "fleet thread %u: out of memory", t->idx);
        return -1;
    }
    for (size_t g = 0; g < f->cfg.n_groups; g++) {
        if (f->groups[g].behavior == FLEET_SUBSCRIBER)
            continue;
        if (fleet_attack_tally_init(&t->at[g]) < 0) {
            snprintf(err, errlen, "fleet thread %u: out of memory", t->idx);
            return -1;
        }
    }
    return 0;
}

int fl_attack_add(fl_thread *t, uint32_t id, uint16_t group, uint32_t ch, uint32_t start_delay_ms,
                  char *err, size_t errlen)
{
    if (t->n_attackers % 256 == 0) {
        fl_attacker **n = realloc(t->attackers, (t->n_attackers + 256) * sizeof *n);
        if (!n) {
            snprintf(err, errlen, "out of memory for attackers");
            return -1;
        }
        t->attackers = n;
    }
    fl_attacker *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory for attackers");
        return -1;
    }
    a->t = t;
    a->id = id;
    a->group = group;
    a->ch = ch;
    a->fd = -1;
    a->state = AT_WAIT;
    evtimer_assign(&a->timer, t->base, at_on_timer, a);
    t->attackers[t->n_attackers++] = a;
    at_timer(a, start_delay_ms ? start_delay_ms : 1);
    return 0;
}

void fl_attack_thread_finalize(fl_thread *t)
{
    for (size_t i = 0; i < t->n_attackers; i++) {
        fl_attacker *a = t->attackers[i];
        if (a->state == AT_HANDSHAKE || a->state == AT_ATTACK || a->state == AT_SETTLE) {
            t->at[a->group].in_flight++;
            t->at[a->group].sent += a->sent;
            t->at[a->group].accepted += a->accepted;
        }
        at_close(a);
        a->state = AT_DEAD;
    }
}

void fl_attack_thread_free(fl_thread *t)
{
    for (size_t i = 0; i < t->n_attackers; i++) {
        at_close(t->attackers[i]);
        free(t->attackers[i]);
    }
    free(t->attackers);
    t->attackers = NULL;
    t->n_attackers = 0;
    for (size_t g = 0; t->at && g < t->f->cfg.n_groups; g++)
        fleet_attack_tally_free(&t->at[g]);
    free(t->at);
    t->at = NULL;
}
