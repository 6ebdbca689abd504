/* broker.c — brokered multi-node through Redis (broker.h): the Lua
 * scripts, the two hiredis async links (commands; pub/sub) on the libev
 * loop, reconnects, hole fills, epoch changes, deferred publish answers and
 * the broker metrics. */
#include <ev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libev.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "clock.h"
#include "log.h"
#include "server.h"

/* Keys of channel C use the hash tag {C} so one channel's keys sit on one
 * Redis Cluster slot: rtc:{C}:seq (counter), rtc:{C}:s (stream, entry id
 * SEQ-0), rtc:{C}:e (epoch), rtc:{C}:i:ID (idempotency id -> seq). Events are
 * PUBLISHed on rtc:ev:C as "SEQ EPOCH TS_US PUB_WALL_US DATA".
 *
 * PUBLISH: KEYS seq stream epoch idemkey(or "") ; ARGV data ts maxlen
 * idem_ttl_ms pubsub_channel epoch_candidate pub_wall_us max_age_ms. The
 * epoch is made when missing (Redis never had the channel, or lost it).
 * Replies {dup(0/1), seq, epoch, trimmed_by_age}.
 *
 * The stream is trimmed by count (XADD MAXLEN) and, with an age bound, by
 * age: entry ids are seqs, not times, so the script reads the oldest
 * entries' publish times (field 'pw', third of four) and XTRIM MINIDs past
 * the leading ones older than the bound — at most 100 a publish, and one
 * publish adds one, so it keeps up; usually it reads one entry. A channel
 * nobody publishes on is aged out whole: the stream expires max_age_ms
 * after its last event (seq and epoch stay, so nothing looks lost). */
static const char LUA_PUBLISH[] =
    "local e = redis.call('GET', KEYS[3])\n"
    "if not e then e = ARGV[6]; redis.call('SET', KEYS[3], e) end\n"
    "if KEYS[4] ~= '' then\n"
    "  local old = redis.call('GET', KEYS[4])\n"
    "  if old then return {1, tonumber(old), e, 0} end\n"
    "end\n"
    "local seq = redis.call('INCR', KEYS[1])\n"
    "if KEYS[4] ~= '' then redis.call('SET', KEYS[4], seq, 'PX', ARGV[4]) end\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], seq .. '-0', 'e', e, 'ts', ARGV[2], 'pw', ARGV[7], 'd', ARGV[1])\n"
    "local trimmed = 0\n"
    "if ARGV[8] ~= '0' then\n"
    "  local cutoff = tonumber(ARGV[7]) - tonumber(ARGV[8]) * 1000\n"
    "  local function old(ent) return tonumber(ent[2][6]) < cutoff end\n"
    "  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)\n"
    "  if #first == 1 and old(first[1]) then\n"
    "    local ents = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 100)\n"
    "    local keep = nil\n"
    "    for i = 1, #ents do\n"
    "      if not old(ents[i]) then keep = ents[i][1]; break end\n"
    "      trimmed = trimmed + 1\n"
    "    end\n"
    "    if keep then redis.call('XTRIM', KEYS[2], 'MINID', keep)\n"
    "    else redis.call('XTRIM', KEYS[2], 'MINID', (tonumber(string.match(ents[#ents][1], '^%d+')) + 1) .. '-0') end\n"
    "  end\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[8])\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[5], seq .. ' ' .. e .. ' ' .. ARGV[2] .. ' ' .. ARGV[7] .. ' ' .. ARGV[1])\n"
    "return {0, seq, e, trimmed}\n";

/* LOAD / FILL: KEYS seq stream epoch ; ARGV epoch_candidate from count.
 * from = 0: the last COUNT entries (a node's first look at the channel);
 * else entries from seq FROM on. Replies {epoch, seq, entries, from}. */
static const char LUA_LOAD[] =
    "local e = redis.call('GET', KEYS[3])\n"
    "if not e then e = ARGV[1]; redis.call('SET', KEYS[3], e) end\n"
    "local seq = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local ents\n"
    "if ARGV[2] == '0' then\n"
    "  local r = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[3])\n"
    "  ents = {}\n"
    "  for i = #r, 1, -1 do ents[#ents + 1] = r[i] end\n"
    "else\n"
    "  ents = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-0', '+', 'COUNT', ARGV[3])\n"
    "end\n"
    "return {e, seq, ents, ARGV[2]}\n";

#define FILL_COUNT 1000
/* broker lag histogram bounds, µs (publish accepted -> event received) */
static const uint64_t LAG_BOUNDS_US[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
                                         100000, 250000, 1000000, 5000000};
#define LAG_N (sizeof(LAG_BOUNDS_US) / sizeof(LAG_BOUNDS_US[0]))

struct broker {
    srv *S;
    struct ev_loop *loop;
    char host[128];
    int port, db;
    /* AUTH credentials from the URL: never logged, never in an error */
    char user[128], pass[256];
    int auth_logged;            /* the refusal was logged once; again only after a success */
    uint64_t auth_retry_us;     /* monotonic: no reconnect before (credentials refused) */
    redisAsyncContext *cmd, *sub;
    int cmd_up, sub_up;
    int stopping;
    int ever_up;                /* 1 command, 2 pub/sub: a link was up once */
    ev_timer tick;
    uint64_t inflight;          /* commands sent on cmd, not answered */
    uint64_t last_reply_us;     /* monotonic: cmd's last reply */
    uint64_t ping_sent_us;      /* 0 = no PING out */
    /* metrics */
    uint64_t reconnects, link_drops, fills, holes, dups, epoch_changes, pub_timeouts, aged_out, auth_failures;
    uint64_t lag_buckets[LAG_N + 1], lag_count;
    double lag_sum_s;
};

/* One publish request (n events) waiting for Redis. */
typedef struct broker_pub {
    lws_dll2_t node;            /* in session.pubs while s is set */
    broker *b;
    session *s;                 /* NULL once the session went away */
    int tr, want_ack, is_batch, answered;
    size_t n, done;
    json_t *seqs;               /* per event, in order */
    int dups, failed;
    char err[160];
    char name[ENV_CH_MAX + 1];
    ev_timer timeout;
} broker_pub;

typedef struct pub_slot {
    broker_pub *p;
    size_t i;
} pub_slot;

int broker_up(const broker *b)
{
    if (!b || !b->cmd_up)
        return 0;
    /* a Redis that stopped answering (SIGSTOP, overload) counts as down */
    uint64_t now = clock_mono_us();
    if (b->inflight && now - b->last_reply_us > (uint64_t)BROKER_PUBLISH_TIMEOUT_MS * 1000)
        return 0;
    return 1;
}

static void key(char *out, size_t len, const char *ch, const char *suffix)
{
    snprintf(out, len, "rtc:{%s}:%s", ch, suffix);
}

/* ---- publish ---------------------------------------------------------- */

static void pub_finish(broker_pub *p)
{
    if (p->answered || !p->s || p->b->stopping)
        return;
    p->answered = 1;
    srv *S = p->b->S;
    if (p->failed) {
        publish_answer(S, p->s, p->tr, p->want_ack, p->name, NULL, 503, "overloaded", p->err);
        return;
    }
    json_t *resp = json_pack("{s:s,s:O}", "ch", p->name, "seq",
                             json_array_get(p->seqs, json_array_size(p->seqs) - 1));
    if (p->is_batch)
        json_object_set(resp, "seqs", p->seqs);
    if (p->dups)
        json_object_set_new(resp, "duplicates", json_integer(p->dups));
    publish_answer(S, p->s, p->tr, p->want_ack, p->name, resp, 200, NULL, NULL);
}

static void pub_free_if_done(broker_pub *p)
{
    if (p->done < p->n)
        return;
    ev_timer_stop(p->b->loop, &p->timeout);
    lws_dll2_remove(&p->node);
    json_decref(p->seqs);
    free(p);
}

static void on_pub_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    broker_pub *p = (broker_pub *)((char *)w - offsetof(broker_pub, timeout));
    p->b->pub_timeouts++;
    p->failed = 1;
    snprintf(p->err, sizeof(p->err), "Redis did not answer within %d ms; the event may still be "
             "published: retry with the same \"id\"", BROKER_PUBLISH_TIMEOUT_MS);
    pub_finish(p);
}

static void on_pub_reply(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    pub_slot *slot = priv;
    broker_pub *p = slot->p;
    size_t i = slot->i;
    free(slot);
    redisReply *rep = r;
    broker *b = p->b;
    b->inflight--;
    b->last_reply_us = clock_mono_us();
    p->done++;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4 ||
        rep->element[1]->type != REDIS_REPLY_INTEGER) {
        p->failed = 1;
        snprintf(p->err, sizeof(p->err), "Redis: %s",
                 rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "link lost before the answer");
    } else {
        json_array_set_new(p->seqs, i, json_integer(rep->element[1]->integer));
        if (rep->element[0]->integer)
            p->dups++;
        if (rep->element[3]->type == REDIS_REPLY_INTEGER)
            b->aged_out += (uint64_t)rep->element[3]->integer;
    }
    if (p->done == p->n)
        pub_finish(p);
    pub_free_if_done(p);
}

int broker_publish(srv *S, session *s, channel *ch, const broker_item *items, size_t n, int is_batch,
                   int tr, int want_ack, char *err, size_t errlen)
{
    broker *b = S->bk;
    if (!broker_up(b)) {
        snprintf(err, errlen, "the message broker (Redis) is unavailable; retry later");
        return -1;
    }
    /* The publishes waiting for Redis hang off the session's HTTP part
     * (session_http.pubs). A WebSocket session carries none (it costs every
     * idle connection); one that publishes gets it now, and
     * session_release frees it. */
    if (!s->h) {
        if (!(s->h = calloc(1, sizeof(*s->h)))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->h->s = s;
    }
    broker_pub *p = calloc(1, sizeof(*p));
    if (!p || !(p->seqs = json_array())) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->b = b;
    p->s = s;
    p->tr = tr;
    p->want_ack = want_ack;
    p->is_batch = is_batch;
    p->n = n;
    snprintf(p->name, sizeof(p->name), "%s", ch->hist.name);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(p->seqs, json_null());
    ev_timer_init(&p->timeout, on_pub_timeout, BROKER_PUBLISH_TIMEOUT_MS / 1000.0, 0);
    ev_timer_start(b->loop, &p->timeout);
    lws_dll2_add_tail(&p->node, &s->h->pubs);

    const char *name = ch->hist.name;
    char kseq[ENV_CH_MAX + 16], kst[ENV_CH_MAX + 16], kep[ENV_CH_MAX + 16], kid[ENV_CH_MAX + 160],
        pubch[ENV_CH_MAX + 16], ts[24], maxlen[24], ttl[24], pw[24], age[24], cand[ENV_EPOCH_MAX + 1];
    key(kseq, sizeof(kseq), name, "seq");
    key(kst, sizeof(kst), name, "s");
    key(kep, sizeof(kep), name, "e");
    snprintf(pubch, sizeof(pubch), "rtc:ev:%s", name);
    snprintf(maxlen, sizeof(maxlen), "%lld", (long long)S->cfg->history_max);
    /* the idempotency window is the history window: by age when set, else
     * five minutes (ids repeated later than that publish again) */
    snprintf(ttl, sizeof(ttl), "%lld",
             (long long)(S->cfg->history_max_age_ms ? S->cfg->history_max_age_ms : 300000));
    snprintf(age, sizeof(age), "%lld", (long long)S->cfg->history_max_age_ms);
    channels_new_epoch(S, cand);
    /* Nothing answers before the loop runs again, so a failure here only
     * counts the event done; the answer is decided after the loop. */
    for (size_t i = 0; i < n; i++) {
        pub_slot *slot = malloc(sizeof(*slot));
        if (slot) {
            slot->p = p;
            slot->i = i;
        }
        if (items[i].idem)
            snprintf(kid, sizeof(kid), "rtc:{%s}:i:%s", name, items[i].idem);
        else
            kid[0] = '\0';
        snprintf(ts, sizeof(ts), "%lld", (long long)items[i].ts_us);
        snprintf(pw, sizeof(pw), "%lld", (long long)clock_wall_us());
        const char *argv[] = {"EVAL", LUA_PUBLISH, "4", kseq, kst, kep, kid,
                              items[i].data, ts, maxlen, ttl, pubch, cand, pw, age};
        size_t argl[15];
        for (int k = 0; k < 15; k++)
            argl[k] = strlen(argv[k]);
        argl[7] = items[i].data_len;
        if (!slot || redisAsyncCommandArgv(b->cmd, on_pub_reply, slot, 15, argv, argl) != REDIS_OK) {
            free(slot);
            p->failed = 1;
            snprintf(p->err, sizeof(p->err), "the Redis link is down");
            p->done++;
            continue;
        }
        if (!b->inflight)
            b->last_reply_us = clock_mono_us();
        b->inflight++;
    }
    if (p->done == p->n) {
        pub_finish(p);
        pub_free_if_done(p);
    }
    return 0;
}

void broker_session_gone(session *s)
{
    if (!s->h) /* never published (broker_publish gives a publisher its HTTP part) */
        return;
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&s->h->pubs)) {
        broker_pub *p = lws_container_of(d, broker_pub, node);
        p->s = NULL;
        lws_dll2_remove(&p->node);
    } lws_end_foreach_dll_safe(d, d1);
}

/* ---- delivery ----------------------------------------------------------- */

static void record_lag(broker *b, int64_t pub_wall_us)
{
    int64_t lag = (int64_t)clock_wall_us() - pub_wall_us;
    if (lag < 0)
        lag = 0;
    size_t k = 0;
    while (k < LAG_N && (uint64_t)lag > LAG_BOUNDS_US[k])
        k++;
    b->lag_buckets[k]++;
    b->lag_count++;
    b->lag_sum_s += (double)lag / 1e6;
}

/* Stores the event the order says is next and fans it out. */
static void deliver(broker *b, channel *ch, const char *data, size_t len, int64_t ts_us)
{
    msg *m;
    int dup;
    char err[128];
    if (history_publish(&ch->hist, data, len, ts_us, NULL, clock_mono_us(), &m, &dup, err,
                        sizeof(err))) {
        log_error("broker: channel %s: cannot store seq %llu: %s", ch->hist.name,
                  (unsigned long long)ch->bseq.head, err);
        return;
    }
    if (ch->bk_ready)
        publish_deliver(b->S, ch, m);
}

/* The channel's subscribers cannot continue from where they are (the epoch
 * changed or history was trimmed past the node): each is subscribed again
 * from its position and old epoch, so it gets recovered:false and a
 * snapshot. */
static void resync_subscribers(channel *ch, const char *old_epoch)
{
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&ch->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, chan_node);
        session *s = sub->s;
        if (sub->phase != SUB_PENDING) {
            char err[128];
            uint64_t since = sub->last_sent;
            if (!conn_subscribe(s, ch, 1, since, 1, old_epoch, 0, err, sizeof(err)))
                conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "resubscribe failed", 1);
            if (s->wsi)
                lws_callback_on_writable(s->wsi);
        }
    } lws_end_foreach_dll_safe(d, d1);
}

static void wake_subscribers(channel *ch)
{
    /* polls that waited for the state (http_api.c poll_start) */
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&ch->pollers)) {
        session *p = lws_container_of(d, session_http, poll_node)->s;
        p->poll_wake = 1;
        lws_callback_on_writable(p->wsi);
    } lws_end_foreach_dll(d);
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&ch->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, chan_node);
        if (sub->s->wsi)
            lws_callback_on_writable(sub->s->wsi);
    } lws_end_foreach_dll(d);
}

static uint64_t entry_seq(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING)
        return 0;
    return strtoull(e->element[0]->str, NULL, 10);
}

static const redisReply *entry_field(const redisReply *e, const char *name)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
        return NULL;
    const redisReply *f = e->element[1];
    if (f->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, name) == 0)
            return f->element[i + 1];
    return NULL;
}

static void send_load(broker *b, channel *ch, uint64_t from);

/* A LOAD or FILL reply {epoch, seq, entries, from}. */
static void on_load_reply(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    channel *ch = priv;
    redisReply *rep = r;
    srv *S = ac->data;
    broker *b = S ? S->bk : NULL;
    if (!b || b->stopping)
        return;
    b->inflight--;
    b->last_reply_us = clock_mono_us();
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_INTEGER ||
        rep->element[2]->type != REDIS_REPLY_ARRAY || rep->element[3]->type != REDIS_REPLY_STRING) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_warn("broker: channel %s: load failed: %s", ch->hist.name, rep->str);
        brokerseq_link_lost(&ch->bseq);
        return;
    }
    const char *epoch = rep->element[0]->str;
    uint64_t rseq = (uint64_t)rep->element[1]->integer;
    const redisReply *ents = rep->element[2];
    if (!ch->bk_ready && strcmp(rep->element[3]->str, "0") != 0) {
        /* a fill sent before the channel went back to loading (an epoch
         * change): its entries start past what the first look will adopt,
         * and taking them as the first look would skip the new epoch's
         * first events. The first look (from 0) is in flight. */
        return;
    }
    size_t skip = 0;
    if (!ch->bk_ready && b->S->cfg->history_max_age_ms) {
        /* a first look keeps what is within the history's age bound: the
         * stream is trimmed by count only, the local ring by age */
        int64_t oldest_us = clock_wall_us() - b->S->cfg->history_max_age_ms * 1000;
        while (skip < ents->elements) {
            const redisReply *pw = entry_field(ents->element[skip], "pw");
            if (!pw || pw->type != REDIS_REPLY_STRING || strtoll(pw->str, NULL, 10) >= oldest_us)
                break;
            skip++;
        }
    }
    uint64_t first = skip < ents->elements ? entry_seq(ents->element[skip]) : rseq + 1;
    int was_ready = ch->bk_ready;
    char old_epoch[ENV_EPOCH_MAX + 1];
    snprintf(old_epoch, sizeof(old_epoch), "%s", ch->hist.epoch);

    if (!was_ready) {
        /* first look: adopt Redis's state */
        history_rebase(&ch->hist, epoch, first - 1);
        brokerseq_init(&ch->bseq, first - 1);
    } else if (strcmp(epoch, ch->hist.epoch) != 0) {
        /* Redis lost the channel. This reply may be a fill from the old
         * head (it misses the new epoch's first events): start over with a
         * first look, and subscribers wait for it, then resync from their
         * old epoch (recovered:false + snapshot). */
        log_warn("broker: channel %s: epoch %s -> %s (Redis lost its history)", ch->hist.name,
                 ch->hist.epoch, epoch);
        b->epoch_changes++;
        ch->bk_ready = 0;
        ch->bk_seen_loading = 0;
        brokerseq_init(&ch->bseq, 0);
        resync_subscribers(ch, old_epoch);
        ch->bseq.filling = 1;
        ch->bseq.fill_since_us = clock_mono_us();
        send_load(b, ch, 0);
        return;
    } else if (first > ch->bseq.head + 1) {
        /* the stream was trimmed past what this node has: a hole that
         * cannot be filled; clients resync with a snapshot */
        log_warn("broker: channel %s: history trimmed past seq %llu (next in Redis: %llu)",
                 ch->hist.name, (unsigned long long)ch->bseq.head, (unsigned long long)first);
        history_rebase(&ch->hist, epoch, first - 1);
        brokerseq_rebase(&ch->bseq, first - 1);
        resync_subscribers(ch, old_epoch);
    }
    for (size_t i = skip; i < ents->elements; i++) {
        const redisReply *e = ents->element[i];
        uint64_t seq = entry_seq(e);
        const redisReply *d = entry_field(e, "d"), *ts = entry_field(e, "ts");
        if (!seq || !d || d->type != REDIS_REPLY_STRING)
            continue;
        brokerseq_verdict v = brokerseq_offer(&ch->bseq, seq);
        if (v == BROKERSEQ_DELIVER)
            deliver(b, ch, d->str, d->len, ts && ts->type == REDIS_REPLY_STRING ? strtoll(ts->str, NULL, 10) : 0);
    }
    brokerseq_saw(&ch->bseq, rseq);
    if (!was_ready && ch->bk_seen_loading && strcmp(ch->bk_seen_epoch, epoch) == 0)
        brokerseq_saw(&ch->bseq, ch->bk_seen_loading);
    brokerseq_fill_done(&ch->bseq);
    b->fills++;
    if (!was_ready) {
        ch->bk_ready = 1;
        wake_subscribers(ch);
        if (ch->bk_fill_on_ready) {
            /* this load may have run before the SUBSCRIBE took effect: one
             * more from head + 1, sent after it did (on_subscribed) */
            ch->bk_fill_on_ready = 0;
            send_load(b, ch, ch->bseq.head + 1);
            return;
        }
    }
    if (brokerseq_fill_due(&ch->bseq, clock_mono_us()))
        send_load(b, ch, ch->bseq.head + 1);
}

static void send_load(broker *b, channel *ch, uint64_t from)
{
    if (!b->cmd_up)
        return;
    const char *name = ch->hist.name;
    char kseq[ENV_CH_MAX + 16], kst[ENV_CH_MAX + 16], kep[ENV_CH_MAX + 16], sfrom[24], count[24],
        cand[ENV_EPOCH_MAX + 1];
    key(kseq, sizeof(kseq), name, "seq");
    key(kst, sizeof(kst), name, "s");
    key(kep, sizeof(kep), name, "e");
    snprintf(sfrom, sizeof(sfrom), "%llu", (unsigned long long)from);
    snprintf(count, sizeof(count), "%lld",
             (long long)(from ? FILL_COUNT : b->S->cfg->history_max));
    channels_new_epoch(b->S, cand);
    const char *argv[] = {"EVAL", LUA_LOAD, "3", kseq, kst, kep, cand, sfrom, count};
    if (redisAsyncCommandArgv(b->cmd, on_load_reply, ch, 9, argv, NULL) == REDIS_OK) {
        if (!b->inflight)
            b->last_reply_us = clock_mono_us();
        b->inflight++;
    }
}

/* Redis confirmed the pub/sub subscription of ch: events published from
 * now on come over pub/sub. One published after the channel's last load ran
 * but before the SUBSCRIBE took effect (the two links are separate
 * connections: Redis orders them as they come) would come by neither, and
 * nothing after it might show the hole (it was the channel's last event, for
 * a while): a load from head + 1, sent now, runs after the SUBSCRIBE and
 * finds it. A channel still loading does it once the load is in. */
static void on_subscribed(broker *b, channel *ch)
{
    if (!ch->bk_ready) {
        ch->bk_fill_on_ready = 1;
        return;
    }
    send_load(b, ch, ch->bseq.head + 1); /* a no-op with the command link down: its return reloads */
}

/* A pub/sub message: "SEQ EPOCH TS PW DATA", or the subscription's confirmation. */
static void on_message(redisAsyncContext *ac, void *r, void *priv)
{
    channel *ch = priv;
    redisReply *rep = r;
    srv *S = ac->data;
    broker *b = S ? S->bk : NULL;
    if (b && !b->stopping && rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
        rep->element[0]->type == REDIS_REPLY_STRING && strcmp(rep->element[0]->str, "subscribe") == 0) {
        on_subscribed(b, ch);
        return;
    }
    if (!b || b->stopping || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING || strcmp(rep->element[0]->str, "message") != 0 ||
        rep->element[2]->type != REDIS_REPLY_STRING)
        return;
    char *p = rep->element[2]->str, *end = p + rep->element[2]->len, *sp[4];
    for (int k = 0; k < 4; k++) {
        sp[k] = memchr(p, ' ', (size_t)(end - p));
        if (!sp[k])
            return;
        *sp[k] = '\0';
        p = sp[k] + 1;
    }
    const char *s_seq = rep->element[2]->str, *epoch = sp[0] + 1, *s_ts = sp[1] + 1,
               *s_pw = sp[2] + 1, *data = sp[3] + 1;
    uint64_t seq = strtoull(s_seq, NULL, 10);
    record_lag(b, strtoll(s_pw, NULL, 10));
    if (!ch->bk_ready) {
        if (seq > ch->bk_seen_loading) {
            ch->bk_seen_loading = seq;
            snprintf(ch->bk_seen_epoch, sizeof(ch->bk_seen_epoch), "%s", epoch);
        }
        return;
    }
    if (strcmp(epoch, ch->hist.epoch) != 0) {
        /* Redis lost the channel: the load decides the new state */
        brokerseq_saw(&ch->bseq, ch->bseq.head + 1);
        ch->bseq.filling = 0;
        if (brokerseq_fill_due(&ch->bseq, clock_mono_us()))
            send_load(b, ch, ch->bseq.head + 1);
        return;
    }
    switch (brokerseq_offer(&ch->bseq, seq)) {
    case BROKERSEQ_DELIVER:
        deliver(b, ch, data, (size_t)(end - data), strtoll(s_ts, NULL, 10));
        break;
    case BROKERSEQ_DUP:
        b->dups++;
        break;
    case BROKERSEQ_HOLE:
        b->holes++;
        if (brokerseq_fill_due(&ch->bseq, clock_mono_us()))
            send_load(b, ch, ch->bseq.head + 1);
        break;
    }
}

static void subscribe_channel(broker *b, channel *ch)
{
    if (!b->sub_up)
        return;
    char pubch[ENV_CH_MAX + 16];
    snprintf(pubch, sizeof(pubch), "rtc:ev:%s", ch->hist.name);
    const char *argv[] = {"SUBSCRIBE", pubch};
    redisAsyncCommandArgv(b->sub, on_message, ch, 2, argv, NULL);
}

void broker_channel_new(srv *S, channel *ch)
{
    broker *b = S->bk;
    brokerseq_init(&ch->bseq, 0);
    ch->bk_ready = 0;
    ch->bk_fill_on_ready = 0;
    subscribe_channel(b, ch);
    send_load(b, ch, 0);
}

/* ---- links ------------------------------------------------------------- */

static void for_each_channel(srv *S, void (*fn)(broker *, channel *))
{
    for (size_t i = 0; i < S->nbuckets; i++)
        for (channel *c = S->buckets[i]; c; c = c->next)
            fn(S->bk, c);
}

/* After the command link came (back): every channel is loaded again from
 * where it is, which also finds an epoch change. */
static void reload_channel(broker *b, channel *ch)
{
    brokerseq_link_lost(&ch->bseq);
    send_load(b, ch, ch->bk_ready ? ch->bseq.head + 1 : 0);
}

static void select_db(broker *b, redisAsyncContext *ac)
{
    if (b->db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", b->db);
        const char *argv[] = {"SELECT", db};
        redisAsyncCommandArgv(ac, NULL, NULL, 2, argv, NULL);
    }
}

/* A link whose connection (and AUTH) is done. */
static void link_ready(broker *b, int is_cmd)
{
    srv *S = b->S;
    log_info("broker: %s link to Redis %s:%d up", is_cmd ? "command" : "pub/sub", b->host, b->port);
    if (b->ever_up & (is_cmd ? 1 : 2))
        b->reconnects++;
    b->ever_up |= is_cmd ? 1 : 2;
    if (is_cmd) {
        b->cmd_up = 1;
        b->inflight = 0;
        b->last_reply_us = clock_mono_us();
        select_db(b, b->cmd);
        for_each_channel(S, reload_channel);
    } else {
        b->sub_up = 1;
        for_each_channel(S, subscribe_channel);
        /* what was published while the pub/sub link was down: fill */
        if (b->cmd_up)
            for_each_channel(S, reload_channel);
    }
}

static void on_auth_reply(redisAsyncContext *ac, void *r, void *priv)
{
    (void)priv;
    srv *S = ac->data;
    broker *b = S ? S->bk : NULL;
    redisReply *rep = r;
    if (!b || b->stopping || !rep) /* no reply: the link went, on_disconnect says so */
        return;
    int is_cmd = ac == b->cmd;
    if (rep->type == REDIS_REPLY_ERROR) {
        /* Redis's words (WRONGPASS…, "called without any password
         * configured") name no secret; the user name is not one either */
        b->auth_failures++;
        if (!b->auth_logged)
            log_error("broker: Redis %s:%d refused the credentials of user '%s': %s (retrying every %d ms)",
                      b->host, b->port, b->user[0] ? b->user : "default", rep->str, BROKER_AUTH_RETRY_MS);
        b->auth_logged = 1;
        b->auth_retry_us = clock_mono_us() + (uint64_t)BROKER_AUTH_RETRY_MS * 1000;
        redisAsyncDisconnect(ac); /* on_disconnect clears the link; the tick retries later */
        return;
    }
    if (b->auth_logged)
        log_info("broker: Redis %s:%d accepted the credentials of user '%s'", b->host, b->port,
                 b->user[0] ? b->user : "default");
    b->auth_logged = 0;
    link_ready(b, is_cmd);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    srv *S = ac->data;
    broker *b = S->bk;
    int is_cmd = ac == b->cmd;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        if (is_cmd)
            b->cmd = NULL;
        else
            b->sub = NULL;
        return;
    }
    if (b->pass[0]) {
        /* AUTH goes first on the link; the link is up when Redis said yes */
        const char *argv[] = {"AUTH", b->user, b->pass};
        int n = b->user[0] ? 3 : 2;
        if (!b->user[0])
            argv[1] = b->pass;
        redisAsyncCommandArgv((redisAsyncContext *)ac, on_auth_reply, NULL, n, argv, NULL);
        return;
    }
    link_ready(b, is_cmd);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    srv *S = ac->data;
    broker *b = S->bk;
    if (!b || b->stopping)
        return;
    int is_cmd = ac == b->cmd;
    if (is_cmd) {
        b->cmd = NULL;
        b->cmd_up = 0;
        b->inflight = 0;
        b->ping_sent_us = 0;
    } else {
        b->sub = NULL;
        b->sub_up = 0;
    }
    b->link_drops++;
    log_warn("broker: %s link to Redis %s:%d lost", is_cmd ? "command" : "pub/sub", b->host,
             b->port);
}

static redisAsyncContext *connect_one(broker *b)
{
    redisAsyncContext *ac = redisAsyncConnect(b->host, b->port);
    if (!ac)
        return NULL;
    if (ac->err) {
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = b->S;
    redisLibevAttach(b->loop, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

static void on_ping_reply(redisAsyncContext *ac, void *r, void *priv)
{
    (void)r;
    (void)priv;
    srv *S = ac->data;
    broker *b = S ? S->bk : NULL;
    if (!b || b->stopping)
        return;
    b->inflight--;
    b->last_reply_us = clock_mono_us();
    b->ping_sent_us = 0;
}

static void fill_if_due(broker *b, channel *ch)
{
    if (ch->bk_ready && brokerseq_fill_due(&ch->bseq, clock_mono_us()))
        send_load(b, ch, ch->bseq.head + 1);
    else if (!ch->bk_ready && !ch->bseq.filling && b->cmd_up) {
        ch->bseq.filling = 1;
        ch->bseq.fill_since_us = clock_mono_us();
        send_load(b, ch, 0);
    } else if (!ch->bk_ready && clock_mono_us() - ch->bseq.fill_since_us > BROKERSEQ_FILL_RETRY_US)
        ch->bseq.filling = 0;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    broker *b = w->data;
    if ((!b->cmd || !b->sub) && clock_mono_us() >= b->auth_retry_us) {
        if (!b->cmd)
            b->cmd = connect_one(b);
        if (!b->sub)
            b->sub = connect_one(b);
    }
    /* a PING a second shows a Redis that stopped answering (broker_up) */
    uint64_t now = clock_mono_us();
    if (b->cmd_up && !b->ping_sent_us &&
        redisAsyncCommand(b->cmd, on_ping_reply, NULL, "PING") == REDIS_OK) {
        if (!b->inflight)
            b->last_reply_us = now;
        b->inflight++;
        b->ping_sent_us = now;
    }
    if (b->cmd_up)
        for_each_channel(b->S, fill_if_due);
}

/* Decodes %XX escapes of a URL's user or password (RFC 3986) into out.
 * Returns 0, or -1 when out is too small or an escape is malformed. */
static int pct_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            char hex[3] = {in[i + 1], in[i + 2], 0}, *e;
            unsigned v = (unsigned)strtoul(hex, &e, 16);
            if (*e || !isxdigit((unsigned char)hex[0]) || !v) /* %00 would cut the string */
                return -1;
            c = (int)v;
            i += 2;
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return 0;
}

/* Parses redis://[[USER]:PASSWORD@]HOST:PORT[/DB]. Messages name the URL
 * with its credentials cut out: they end up in logs. */
static int parse_url(broker *b, const char *url, char *err, size_t errlen)
{
    const char *p = url;
    if (strncmp(p, "rediss://", 9) == 0) {
        snprintf(err, errlen, "--redis: rediss:// (TLS) is not supported: Debian's libhiredis %d.%d is built "
                 "without SSL (hiredis_ssl came with hiredis 1.0); reach Redis over a private network or a "
                 "TLS tunnel (stunnel, spiped) and give its local end as redis://", HIREDIS_MAJOR, HIREDIS_MINOR);
        return -1;
    }
    if (strncmp(p, "redis://", 8) != 0) {
        snprintf(err, errlen, "--redis: expected redis://[[USER]:PASSWORD@]HOST:PORT[/DB]");
        return -1;
    }
    p += 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            snprintf(err, errlen, "--redis: credentials must be USER:PASSWORD@ or :PASSWORD@ (a user alone "
                     "cannot log in)");
            return -1;
        }
        if (pct_decode(p, (size_t)(colon - p), b->user, sizeof(b->user)) ||
            pct_decode(colon + 1, (size_t)(at - colon - 1), b->pass, sizeof(b->pass)) || !b->pass[0]) {
            snprintf(err, errlen, "--redis: bad or empty credentials (percent-encode reserved characters; "
                     "user < %zu, password < %zu bytes)", sizeof(b->user), sizeof(b->pass));
            return -1;
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    size_t hp_len = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = NULL;
    for (const char *q = p; q < p + hp_len; q++)
        if (*q == ':')
            colon = q;
    if (!colon || colon == p || (size_t)(colon - p) >= sizeof(b->host)) {
        snprintf(err, errlen, "--redis: \"%.*s\" needs HOST:PORT", (int)hp_len, p);
        return -1;
    }
    memcpy(b->host, p, (size_t)(colon - p));
    b->host[colon - p] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (port < 1 || port > 65535 || end != p + hp_len) {
        snprintf(err, errlen, "--redis: bad port in \"%.*s\"", (int)hp_len, p);
        return -1;
    }
    b->port = (int)port;
    if (slash && slash[1]) {
        char *e2;
        long db = strtol(slash + 1, &e2, 10);
        if (db < 0 || db > 1000000 || *e2) {
            snprintf(err, errlen, "--redis: bad database number \"%s\"", slash + 1);
            return -1;
        }
        b->db = (int)db;
    }
    return 0;
}

int broker_start(srv *S, struct ev_loop *loop, const char *url, char *err, size_t errlen)
{
    broker *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (parse_url(b, url, err, errlen)) {
        explicit_bzero(b->pass, sizeof(b->pass));
        free(b);
        return -1;
    }
    b->S = S;
    b->loop = loop;
    S->bk = b;
    S->on_channel_new = broker_channel_new;
    b->cmd = connect_one(b);
    b->sub = connect_one(b);
    ev_timer_init(&b->tick, on_tick, BROKER_TICK_MS / 1000.0, BROKER_TICK_MS / 1000.0);
    b->tick.data = b;
    ev_timer_start(loop, &b->tick);
    return 0;
}

void broker_stop(srv *S)
{
    broker *b = S->bk;
    if (!b)
        return;
    b->stopping = 1;
    ev_timer_stop(b->loop, &b->tick);
    /* sessions still open lose their pending answers (they are closing) */
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&S->sessions)) {
        broker_session_gone(lws_container_of(d, session, node));
    } lws_end_foreach_dll(d);
    if (b->cmd)
        redisAsyncFree(b->cmd); /* calls every pending callback with NULL */
    if (b->sub)
        redisAsyncFree(b->sub);
    S->bk = NULL;
    S->on_channel_new = NULL;
    explicit_bzero(b->pass, sizeof(b->pass));
    free(b);
}

int broker_metrics_append(const broker *b, char **text, size_t *len)
{
    char buf[4096];
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, __VA_ARGS__)
    ADD("# HELP rtchaos_broker_link_up Redis links up (command and pub/sub both: 1).\n"
        "# TYPE rtchaos_broker_link_up gauge\nrtchaos_broker_link_up %d\n",
        b->cmd_up && b->sub_up && broker_up(b));
    ADD("# TYPE rtchaos_broker_reconnects_total counter\nrtchaos_broker_reconnects_total %llu\n",
        (unsigned long long)b->reconnects);
    ADD("# TYPE rtchaos_broker_link_drops_total counter\nrtchaos_broker_link_drops_total %llu\n",
        (unsigned long long)b->link_drops);
    ADD("# HELP rtchaos_broker_fills_total Loads and hole fills read from the channel streams.\n"
        "# TYPE rtchaos_broker_fills_total counter\nrtchaos_broker_fills_total %llu\n",
        (unsigned long long)b->fills);
    ADD("# TYPE rtchaos_broker_holes_total counter\nrtchaos_broker_holes_total %llu\n",
        (unsigned long long)b->holes);
    ADD("# TYPE rtchaos_broker_duplicates_dropped_total counter\n"
        "rtchaos_broker_duplicates_dropped_total %llu\n", (unsigned long long)b->dups);
    ADD("# TYPE rtchaos_broker_epoch_changes_total counter\nrtchaos_broker_epoch_changes_total %llu\n",
        (unsigned long long)b->epoch_changes);
    ADD("# TYPE rtchaos_broker_publish_timeouts_total counter\n"
        "rtchaos_broker_publish_timeouts_total %llu\n", (unsigned long long)b->pub_timeouts);
    ADD("# HELP rtchaos_broker_aged_out_total Stream entries this node's publishes trimmed by --history-max-age-ms.\n"
        "# TYPE rtchaos_broker_aged_out_total counter\nrtchaos_broker_aged_out_total %llu\n",
        (unsigned long long)b->aged_out);
    ADD("# HELP rtchaos_broker_auth_failures_total Connections Redis refused the credentials of (AUTH).\n"
        "# TYPE rtchaos_broker_auth_failures_total counter\nrtchaos_broker_auth_failures_total %llu\n",
        (unsigned long long)b->auth_failures);
    ADD("# HELP rtchaos_broker_lag_seconds Publish accepted by Redis -> event received by this node.\n"
        "# TYPE rtchaos_broker_lag_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t k = 0; k < LAG_N; k++) {
        cum += b->lag_buckets[k];
        ADD("rtchaos_broker_lag_seconds_bucket{le=\"%g\"} %llu\n", (double)LAG_BOUNDS_US[k] / 1e6,
            (unsigned long long)cum);
    }
    cum += b->lag_buckets[LAG_N];
    ADD("rtchaos_broker_lag_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    ADD("rtchaos_broker_lag_seconds_sum %.6f\nrtchaos_broker_lag_seconds_count %llu\n", b->lag_sum_s,
        (unsigned long long)b->lag_count);
#undef ADD
    if (n >= sizeof(buf))
        return -1;
    char *t = realloc(*text, *len + n + 1);
    if (!t)
        return -1;
    memcpy(t + *len, buf, n + 1);
    *text = t;
    *len += n;
    return 0;
}
