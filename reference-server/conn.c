/* conn.c — a stream connection's subscriptions and its writer: what to send
 * next (control replies, subscribe answers with resync, replays, snapshots,
 * live events with gaps where backpressure dropped some), for WS and SSE
 * alike. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "server.h"
#include "sse_id.h"

#define CTRL_MAX_BYTES (256 * 1024) /* a client that sends but never reads */

static void on_drop(void *tag, const msg *m, void *ctx)
{
    conn_sub *sub = tag;
    (void)ctx;
    if (m->seq > sub->dropped_to)
        sub->dropped_to = m->seq;
}

int conn_srv_init(srv *S)
{
    S->nsubs = 0;
    return sendq_shared_init(&S->qs, (uint32_t)S->cfg->sendq_max_msgs, (size_t)S->cfg->sendq_max_bytes,
                             on_drop, NULL);
}

void conn_srv_free(srv *S)
{
    sendq_shared_free(&S->qs);
}

void conn_init(session *s, srv *S, sess_kind kind, struct lws *wsi)
{
    s->kind = kind;
    s->srv = S;
    s->wsi = wsi;
    sendq_init(&s->q, &S->qs);
    s->last_progress_us = clock_mono_us();
}

conn_sub *conn_find_sub(session *s, const channel *ch)
{
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&s->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, conn_node);
        if (sub->ch == ch)
            return sub;
    } lws_end_foreach_dll(d);
    return NULL;
}

static void ctrl_free_for(session *s, conn_sub *sub)
{
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&s->ctrl)) {
        ctrl_item *it = lws_container_of(d, ctrl_item, node);
        if (!sub || it->sub == sub) {
            lws_dll2_remove(&it->node);
            s->ctrl_bytes -= it->len;
            free(it);
        }
    } lws_end_foreach_dll_safe(d, d1);
}

void conn_unsubscribe(session *s, conn_sub *sub)
{
    sendq_remove_tag(&s->q, sub);
    ctrl_free_for(s, sub);
    lws_dll2_remove(&sub->chan_node);
    lws_dll2_remove(&sub->conn_node);
    s->srv->nsubs--;
    free(sub);
}

conn_sub *conn_subscribe(session *s, channel *ch, int has_since, uint64_t since, int epoch_kind,
                         const char *epoch, uint32_t epoch_hash, char *err, size_t errlen)
{
    conn_sub *old = conn_find_sub(s, ch);
    if (old)
        conn_unsubscribe(s, old);
    if (s->subs.count >= (uint32_t)s->srv->cfg->max_subs) {
        snprintf(err, errlen, "too many subscriptions on this connection (at most %lld)",
                 (long long)s->srv->cfg->max_subs);
        return NULL;
    }
    size_t elen = epoch_kind == 1 && epoch ? strnlen(epoch, ENV_EPOCH_MAX) : 0;
    conn_sub *sub = calloc(1, sizeof(*sub));
    ctrl_item *it = calloc(1, sizeof(*it) + elen + 1); /* + the epoch, until the resync */
    if (!sub || !it) {
        free(sub);
        free(it);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sub->s = s;
    sub->ch = ch;
    sub->phase = SUB_PENDING;
    sub->has_since = has_since != 0;
    sub->since = since;
    sub->epoch_kind = epoch_kind;
    memcpy(it->text, epoch_kind == 1 && epoch ? epoch : "", elen);
    it->text[elen] = '\0';
    sub->epoch_hash = epoch_hash;
    lws_dll2_add_tail(&sub->chan_node, &ch->subs);
    lws_dll2_add_tail(&sub->conn_node, &s->subs);
    s->srv->nsubs++;
    it->sub = sub;
    lws_dll2_add_tail(&it->node, &s->ctrl);
    return sub;
}

int conn_ctrl(session *s, env_type type, const char *text, size_t len)
{
    if (s->ctrl_bytes + len > CTRL_MAX_BYTES)
        return -1;
    ctrl_item *it = malloc(sizeof(*it) + len + 1);
    if (!it)
        return -1;
    memset(it, 0, sizeof(*it));
    it->len = len;
    it->type = type;
    memcpy(it->text, text, len);
    it->text[len] = '\0';
    lws_dll2_add_tail(&it->node, &s->ctrl);
    s->ctrl_bytes += len;
    return 0;
}

int conn_ctrl_error(session *s, const char *code, const char *msg_text, const char *ch)
{
    char buf[1024];
    int n = envelope_format_error(buf, sizeof(buf), code, msg_text, ch);
    if (n < 0)
        n = envelope_format_error(buf, sizeof(buf), code, "(message too long)", NULL);
    return n < 0 ? -1 : conn_ctrl(s, ENV_T_ERROR, buf, (size_t)n);
}

void conn_close_soon(session *s, int code, const char *reason, int now)
{
    if (!s->closing || now) {
        s->close_code = code;
        s->close_reason = reason;
    }
    s->closing = 1;
    if (now) {
        /* Nothing queued will be sent: free it now. The close (frame) goes
         * out when the socket takes it; a peer that does not read for the
         * idle timeout is cut off instead. */
        s->close_now = 1;
        sendq_free(&s->q);
        if (s->wsi)
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, (int)s->srv->cfg->idle_timeout_s);
    }
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
}

void conn_release(session *s)
{
    while (s->subs.count) {
        conn_sub *sub = lws_container_of(lws_dll2_get_head(&s->subs), conn_sub, conn_node);
        conn_unsubscribe(s, sub);
    }
    ctrl_free_for(s, NULL);
    sendq_free(&s->q);
}

int conn_peer_closed(struct lws *wsi)
{
    char b;
    ssize_t n = recv(lws_get_socket_fd(wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void conn_watch_hangup(session *s)
{
    if (s->srv && s->h && lws_dll2_is_detached(&s->h->watch_node))
        lws_dll2_add_tail(&s->h->watch_node, &s->srv->watched);
}

unsigned conn_sweep_hangups(srv *S)
{
    unsigned closed = 0, n = S->watched.count < CONN_SWEEP_MAX ? S->watched.count : CONN_SWEEP_MAX;
    for (unsigned i = 0; i < n && S->watched.head; i++) {
        struct lws_dll2 *d = S->watched.head;
        session *s = lws_container_of(d, session_http, watch_node)->s;
        /* Round robin: what was looked at goes to the back. */
        lws_dll2_remove(d);
        lws_dll2_add_tail(d, &S->watched);
        int streaming = (s->kind == SESS_SSE && s->sse_started) ||
                        (s->kind == SESS_POLL && !lws_dll2_is_detached(&s->h->poll_node));
        if (streaming && s->wsi && conn_peer_closed(s->wsi)) {
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            closed++;
        }
    }
    return closed;
}

int conn_pending(const session *s)
{
    if (s->ctrl.count || sendq_len(&s->q))
        return 1;
    lws_start_foreach_dll(struct lws_dll2 *, d, s->subs.head) {
        conn_sub *sub = lws_container_of(d, conn_sub, conn_node);
        if (sub->phase != SUB_LIVE || sub->dropped_to > sub->last_sent)
            return 1;
    } lws_end_foreach_dll(d);
    return 0;
}

/* ---- frame builders (into the vhost's scratch buffer) ------------------ */

static char *gen(srv *S) { return S->gen + LWS_PRE; }

static int frame_gen(srv *S, conn_frame *f, int n, env_type type)
{
    if (n < 0)
        return 0;
    f->text = gen(S);
    f->len = (size_t)n;
    f->hold = NULL;
    f->type = type;
    f->live = 0;
    f->delta = 0;
    return 1;
}

/* A snapshot: the channel's last value as of head (null when nothing is
 * left, e.g. after a restart or a history reset). */
static int frame_snapshot(srv *S, conn_sub *sub, conn_frame *f)
{
    history *h = &sub->ch->hist;
    msg *last = h->last;
    int n = envelope_format(gen(S), S->gen_cap, ENV_T_SNAPSHOT, h->name, h->head,
                            last ? last->ts_us : clock_wall_us(), h->epoch,
                            last ? msg_data(last) : NULL, last ? last->data_len : 0);
    sub->last_sent = h->head;
    sub->dropped_to = 0;
    sub->phase = SUB_LIVE;
    sub->has_value = 1; /* the channel's value as of head: a delta after it can be rebuilt */
    S->m.snapshots_sent++;
    return frame_gen(S, f, n, ENV_T_SNAPSHOT);
}

static int frame_gap(srv *S, conn_sub *sub, uint64_t to, conn_frame *f)
{
    int n = envelope_format_gap(gen(S), S->gen_cap, sub->ch->hist.name, sub->last_sent + 1, to,
                                clock_wall_us());
    sub->last_sent = to;
    sub->has_value = 0; /* the values in the gap never reached the client */
    S->m.gaps_sent++;
    return frame_gen(S, f, n, ENV_T_GAP);
}

/* An event: whole, or its delta form when the subscription asked for
 * deltas and the client holds the value the delta is made against (the
 * previous seq's: the caller sends seqs in order). Replays are always
 * whole (live = 0). */
static int frame_msg(conn_frame *f, conn_sub *sub, msg *m, int live)
{
    f->delta = live && sub->want_delta && sub->has_value && m->delta;
    f->text = f->delta ? m->delta : msg_env(m);
    f->len = f->delta ? m->delta_len : m->len;
    f->hold = msg_ref(m);
    f->type = ENV_T_EVENT;
    f->live = live;
    sub->has_value = 1;
    return 1;
}

/* The subscribe answer: decide the resync now, so nothing published between
 * the request and this moment is lost. */
static int frame_subscribed(srv *S, conn_sub *sub, const char *req_epoch, conn_frame *f)
{
    history *h = &sub->ch->hist;
    const char *epoch = sub->epoch_kind == 1 ? req_epoch : NULL;
    history_resync d = history_resync_decide(h, sub->has_since, sub->since, epoch, clock_mono_us());
    /* the server cannot know what value a (re)subscribing client still
     * holds: the first event after "subscribed" is whole */
    sub->has_value = 0;
    if (d != HISTORY_SNAPSHOT && sub->has_since && sub->epoch_kind == 2 &&
        sub->epoch_hash != sse_id_hash(h->epoch, strlen(h->epoch)))
        d = HISTORY_SNAPSHOT;
    if (sub->has_since) {
        if (d == HISTORY_SNAPSHOT)
            S->m.resync_snapshot++;
        else
            S->m.resync_recovered++;
    }
    int n = envelope_format_subscribed(gen(S), S->gen_cap, h->name, h->head, h->epoch,
                                       d != HISTORY_SNAPSHOT);
    switch (d) {
    case HISTORY_SNAPSHOT:
        sub->phase = SUB_SNAPSHOT;
        break;
    case HISTORY_REPLAY:
        sub->phase = SUB_REPLAY;
        sub->cursor = sub->since + 1;
        sub->last_sent = sub->since;
        break;
    case HISTORY_UP_TO_DATE:
        sub->phase = SUB_LIVE;
        sub->last_sent = sub->has_since ? sub->since : h->head;
        break;
    }
    return frame_gen(S, f, n, ENV_T_SUBSCRIBED);
}

int conn_next(session *s, conn_frame *f)
{
    srv *S = s->srv;

    /* 1. control queue, in order */
    if (s->ctrl.count) {
        ctrl_item *it = lws_container_of(lws_dll2_get_head(&s->ctrl), ctrl_item, node);
        /* --redis: the resync is decided once the channel's state is loaded
         * from Redis (broker.c wakes the session then) */
        if (it->sub && !it->sub->ch->bk_ready)
            return 0;
        lws_dll2_remove(&it->node);
        s->ctrl_bytes -= it->len;
        int r;
        if (it->sub) {
            r = frame_subscribed(S, it->sub, it->text, f);
        } else {
            memcpy(gen(S), it->text, it->len);
            r = frame_gen(S, f, (int)it->len, it->type);
        }
        free(it);
        return r;
    }

    /* 2. subscriptions catching up (replay from history, or a snapshot) */
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&s->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, conn_node);
        history *h = &sub->ch->hist;
        if (sub->phase == SUB_REPLAY) {
            if (sub->cursor > h->head) {
                sub->phase = SUB_LIVE;
            } else {
                msg *m = history_get(h, sub->cursor);
                if (!m) {
                    /* history moved on while we replayed: finish with a snapshot */
                    sub->phase = SUB_SNAPSHOT;
                } else {
                    sub->last_sent = sub->cursor++;
                    if (sub->cursor > h->head)
                        sub->phase = SUB_LIVE;
                    return frame_msg(f, sub, m, 0);
                }
            }
        }
        if (sub->phase == SUB_SNAPSHOT)
            return frame_snapshot(S, sub, f);
    } lws_end_foreach_dll(d);

    /* 3. live queue */
    const sendq_item *it;
    while ((it = sendq_peek(&s->q))) {
        conn_sub *sub = it->tag;
        if (!it->m) {
            sendq_pop(&s->q);
            return frame_snapshot(S, sub, f);
        }
        msg *m = it->m;
        if (m->seq <= sub->last_sent) { /* covered by a snapshot already */
            sendq_pop(&s->q);
            continue;
        }
        if (m->seq > sub->last_sent + 1) /* backpressure dropped some: say so */
            return frame_gap(S, sub, m->seq - 1, f);
        sub->last_sent = m->seq;
        frame_msg(f, sub, m, 1);
        sendq_pop(&s->q);
        return 1;
    }

    /* 4. drops at the tail of a queue that nothing followed yet */
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&s->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, conn_node);
        if (sub->phase == SUB_LIVE && sub->dropped_to > sub->last_sent)
            return frame_gap(S, sub, sub->dropped_to, f);
    } lws_end_foreach_dll(d);
    return 0;
}

/* Queues m for one live subscription; applies the channel's policy. */
static void fanout_one(srv *S, channel *ch, conn_sub *sub, msg *m)
{
    session *s = sub->s;
    if (sub->phase != SUB_LIVE || s->closing)
        return;
    sendq_outcome o;
    if (sendq_push(&s->q, m, sub, ch->fl.policy, &o)) {
        conn_close_soon(s, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory", 1);
        return;
    }
    S->m.bp_events[ch->fl.policy] += o.dropped;
    S->m.bp_snapshots += o.snapshots;
    if (o.disconnect) {
        S->m.bp_disconnects++;
        conn_close_soon(s, WS_CLOSE_TRY_AGAIN_LATER, "slow consumer", 1);
        return;
    }
    if (!s->wsi) /* (unit tests drive sessions without a connection) */
        return;
    if (ch->batch)
        batch_hold(S, s); /* written when the window closes (batch.c) */
    else
        wflush_mark(S, s); /* written at the end of this loop pass (wflush.c) */
}

void conn_fanout(srv *S, channel *ch, msg *m)
{
    /* (no `continue` inside lws_start_foreach_dll: it would skip the step) */
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&ch->subs)) {
        fanout_one(S, ch, lws_container_of(d, conn_sub, chan_node), m);
    } lws_end_foreach_dll(d);
}
