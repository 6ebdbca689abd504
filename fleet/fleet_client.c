/* fleet_client.c — the fleet's simulated WS / SSE / long-poll clients: one libevent loop per thread, one small struct per client. */
#include "fleet_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <http_parser.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "envelope.h"
#include "fleet_http.h"
#include "mergepatch.h"
#include "payload.h"
#include "ws_deflate.h"

static void on_io(evutil_socket_t fd, short what, void *arg);
static void start_connect(fl_client *c);
static void drop(fl_client *c, const char *why, int is_error);
static void poll_next(fl_client *c);
static int poll_req(fl_client *c, char *req, size_t cap);

static inline fleet *F(const fl_client *c) { return c->t->f; }
static inline const fleet_group_cfg *G(const fl_client *c) { return &c->t->f->groups[c->group]; }
/* The transport the client uses now: the group's, or a fallback. */
static inline fleet_transport TR(const fl_client *c)
{
    return c->tr_level ? G(c)->fallback[c->tr_level - 1] : G(c)->transport;
}

/* Counts an error, by reason, so the report can say what went wrong. */
static void count_error(fl_client *c, const char *why)
{
    fl_thread *t = c->t;
    FL_INC(&t->n.errors);
    unsigned i;
    for (i = 0; i < t->n_reasons; i++)
        if (strncmp(t->reasons[i].why, why, sizeof t->reasons[i].why - 1) == 0)
            break;
    if (i == t->n_reasons) {
        if (t->n_reasons == sizeof t->reasons / sizeof t->reasons[0])
            why = "other", i = t->n_reasons - 1;
        else
            t->n_reasons++;
        snprintf(t->reasons[i].why, sizeof t->reasons[i].why, "%s", why);
    }
    t->reasons[i].n++;
}

/* Attributes what one checker call added to the client's group. */
typedef struct grp_snap {
    uint64_t delivered, live, resync_ok, kind[CHK_KINDS];
} grp_snap;

static void grp_begin(const fl_thread *t, grp_snap *g)
{
    g->delivered = t->chk.n.delivered;
    g->live = t->chk.n.live;
    g->resync_ok = t->chk.n.resync_ok;
    memcpy(g->kind, t->chk.n.kind, sizeof g->kind);
}

static void grp_end(fl_thread *t, const fl_client *c, const grp_snap *g, uint64_t lat_us)
{
    fl_group_stats *s = &t->gs[c->group];
    FL_ADD(&s->delivered, t->chk.n.delivered - g->delivered);
    FL_ADD(&t->n.delivered_tr[TR(c)], t->chk.n.delivered - g->delivered);
    FL_ADD(&s->resync_ok, t->chk.n.resync_ok - g->resync_ok);
    for (int k = 0; k < CHK_KINDS; k++)
        FL_ADD(&s->kind[k], t->chk.n.kind[k] - g->kind[k]);
    if (t->chk.n.live != g->live) {
        FL_INC(&s->live);
        s->lat[hist_coarse_index(lat_us)]++;
    }
}

/* ---- transport fallback ----------------------------------------------------- */

/* The server refused the transport (fleet_group_cfg.fallback): the next
 * one is used from the next attempt on, which waits only the initial
 * backoff. Returns 1 when there was one to fall back to. */
static int fall_back(fl_client *c)
{
    if (c->tr_level >= G(c)->n_fallback)
        return 0;
    c->tr_level++;
    c->attempt = 0;
    FL_INC(&c->t->n.fallbacks);
    FL_INC(&c->t->gs[c->group].fallbacks);
    return 1;
}

/* ---- event plumbing --------------------------------------------------------- */

/* The timeout for ms: libevent's common timeout for that duration when
 * `common` (a duration every open client of a group waits), else a plain
 * one. An open connection's event is persistent, so libevent re-arms its
 * idle timeout on every message it reads: in the base's timer heap that is
 * a sift with a cache miss per level (at 5,000 clients a thread and 90,000
 * messages/s it was ~14% of the fleet's CPU samples, in min_heap), in a common
 * timeout's queue a move to the tail. libevent allows 256 of them a base;
 * a thread keeps FL_COMMON_TIMEOUTS, and a duration past those is plain. */
static const struct timeval *timeout_of(fl_thread *t, uint32_t ms, int common, struct timeval *plain)
{
    *plain = (struct timeval){ms / 1000, (ms % 1000) * 1000};
    if (!common)
        return plain;
    for (unsigned i = 0; i < t->n_common; i++)
        if (t->common[i].ms == ms)
            return t->common[i].tv;
    if (t->n_common == FL_COMMON_TIMEOUTS)
        return plain;
    const struct timeval *tv = event_base_init_common_timeout(t->base, plain);
    if (!tv)
        return plain;
    t->common[t->n_common].ms = ms;
    t->common[t->n_common++].tv = tv;
    return tv;
}

static void arm_as(fl_client *c, int fd, short what, uint32_t timeout_ms, int common)
{
    if (event_initialized(&c->ev))
        event_del(&c->ev);
    event_assign(&c->ev, c->t->base, fd, what, on_io, c);
    if (timeout_ms) {
        struct timeval tv;
        event_add(&c->ev, timeout_of(c->t, timeout_ms, common, &tv));
    } else {
        event_add(&c->ev, NULL);
    }
}

static void arm(fl_client *c, int fd, short what, uint32_t timeout_ms)
{
    arm_as(c, fd, what, timeout_ms, 0);
}

static uint32_t open_timeout_ms(const fl_client *c)
{
    const fleet_group_cfg *g = G(c);
    if (TR(c) == FLEET_POLL)
        return (g->poll_timeout_ms ? g->poll_timeout_ms : 10000) + 10000;
    return g->idle_timeout_ms;
}

static void arm_open(fl_client *c)
{
    short what = EV_READ | EV_PERSIST;
    if (c->out_len)
        what |= EV_WRITE;
    if (c->throttled)
        what &= (short)~EV_READ;
    if (!(what & (EV_READ | EV_WRITE))) {
        event_del(&c->ev);
        return;
    }
    arm_as(c, c->fd, what, c->throttled ? 0 : open_timeout_ms(c), 1);
}


/* Writes or queues bytes; returns 0, or -1 when the connection is broken. */
static int c_write(fl_client *c, const char *data, size_t len)
{
    if (c->out_len == 0) {
        ssize_t w = fl_conn_send_some(c->fd, c->ssl, data, len);
        if (w < 0)
            return -1;
        FL_ADD(&c->t->n.tx_bytes[TR(c)], (uint64_t)w);
        data += w;
        len -= (size_t)w;
        if (len == 0)
            return 0;
    }
    char *o = realloc(c->out, c->out_len + len);
    if (!o)
        return -1;
    memcpy(o + c->out_len, data, len);
    c->out = o;
    c->out_len += (uint32_t)len;
    if (c->state == FL_C_OPEN)
        arm_open(c);
    else
        arm(c, c->fd, EV_READ | EV_WRITE | EV_PERSIST, G(c)->connect_timeout_ms);
    return 0;
}

static int c_flush(fl_client *c)
{
    ssize_t off = fl_conn_send_some(c->fd, c->ssl, c->out, c->out_len);
    if (off < 0)
        return -1;
    FL_ADD(&c->t->n.tx_bytes[TR(c)], (uint64_t)off);
    memmove(c->out, c->out + off, c->out_len - (size_t)off);
    c->out_len -= (uint32_t)off;
    if (c->out_len == 0) {
        free(c->out);
        c->out = NULL;
    }
    return 0;
}

/* ---- epochs ------------------------------------------------------------------ */

static void epoch_intern(fl_thread *t, const char *s)
{
    uint64_t h = chk_epoch_hash(s, strlen(s));
    if (!h)
        return;
    for (size_t i = 0; i < t->n_epochs; i++)
        if (t->epochs[i].h == h)
            return;
    if (t->n_epochs == t->cap_epochs) {
        size_t cap = t->cap_epochs ? t->cap_epochs * 2 : 8;
        void *n = realloc(t->epochs, cap * sizeof *t->epochs);
        if (!n)
            return;
        t->epochs = n;
        t->cap_epochs = cap;
    }
    char *d = strdup(s);
    if (!d)
        return;
    t->epochs[t->n_epochs].h = h;
    t->epochs[t->n_epochs].s = d;
    t->n_epochs++;
}

const char *fl_epoch_str(fl_thread *t, uint64_t h)
{
    for (size_t i = 0; i < t->n_epochs; i++)
        if (t->epochs[i].h == h)
            return t->epochs[i].s;
    return NULL;
}

/* ---- envelopes --------------------------------------------------------------- */

static fl_stream *find_stream(fl_client *c, const char *ch)
{
    for (unsigned i = 0; i < c->n_streams; i++)
        if (strcmp(F(c)->ch_names[c->st[i].ch], ch) == 0)
            return &c->st[i];
    return NULL;
}

/* Whether v is the fields value the publisher published on s's channel as
 * the event number v carries in "n" (payload.h), as JSON. */
static int fields_as_published(fl_client *c, const fl_stream *s, const json_t *v)
{
    json_t *jn = json_object_get(v, "n");
    const char *name = F(c)->ch_names[s->ch];
    size_t cap = (size_t)F(c)->cfg.pub.payload_bytes + 256 + 6 * strlen(name);
    char *want = malloc(cap);
    int k = want && json_is_integer(jn) && json_integer_value(jn) > 0
                ? fl_payload_fields(want, cap, name, (uint64_t)json_integer_value(jn), F(c)->cfg.pub.payload_bytes)
                : -1;
    json_t *w = k > 0 ? json_loadb(want, (size_t)k, 0, NULL) : NULL;
    int ok = w && json_equal(v, w);
    json_decref(w);
    free(want);
    return ok;
}

/* A delta group (fleet_group_cfg.delta) keeps each stream's value as the
 * server described it and checks it after every event against what the
 * publisher published: the fields payload is a pure function of the event
 * number it carries (payload.h), so the value itself says what it must be.
 * A delta whose base the client does not hold, a patch that does not
 * apply, or a rebuilt value that differs is a `delta_mismatch`. */
static void delta_track(fl_client *c, fl_stream *s, const envelope *e, uint64_t now)
{
    fl_thread *t = c->t;
    json_t *v = NULL;
    int bad = 0;
    if (e->type == ENV_T_GAP) {
        json_decref(s->val); /* the values in the gap never came */
        s->val = NULL;
        return;
    }
    if (e->type != ENV_T_EVENT && e->type != ENV_T_SNAPSHOT)
        return;
    json_t *d = e->data ? json_loadb(e->data, e->data_len, JSON_DECODE_ANY, NULL) : NULL;
    if (e->type == ENV_T_EVENT && e->delta) {
        if (!s->val || s->val_seq + 1 != e->seq || !d)
            bad = 1; /* the server sent a delta against a value this client does not hold */
        else
            v = mergepatch_apply(s->val, d);
        json_decref(d);
    } else {
        v = d; /* whole */
    }
    json_decref(s->val);
    s->val = v;
    s->val_seq = e->seq;
    if (e->type == ENV_T_SNAPSHOT && (!v || json_is_null(v)))
        return; /* no value yet on the channel: nothing to check */
    if (!bad)
        bad = !fields_as_published(c, s, v);
    if (bad) {
        chk_anomaly_add(&t->chk, CHK_DELTA_MISMATCH, c->id, s->ch, e->seq, now);
        json_decref(s->val); /* wrong: the next delta cannot be trusted either */
        s->val = NULL;
    }
}

/* A contract v1 event (or snapshot) of a group that does not rebuild
 * deltas, when the publisher publishes fields payloads: data that claims
 * to be one (an object with an integer "n" and a string "ch"; another
 * publisher's data is not judged) must be the value published as event n
 * on this channel (payload.h), as JSON (servers may re-serialise it: key
 * order and spacing are not judged); anything else is `corrupted`. */
static void check_fields(fl_client *c, fl_stream *s, const envelope *e, uint64_t now)
{
    json_t *v = json_loadb(e->data, e->data_len, JSON_DECODE_ANY, NULL);
    json_t *jn = json_object_get(v, "n");
    if (!json_is_integer(jn) || !json_is_string(json_object_get(v, "ch"))) {
        json_decref(v);
        return;
    }
    if (!fields_as_published(c, s, v))
        chk_anomaly_add(&c->t->chk, CHK_CORRUPTED, c->id, s->ch, e->seq, now);
    json_decref(v);
}

/* A payload stamp (the publisher's event number and time) as one 64-bit
 * key, never 0 (0 marks an empty slot): splitmix64's finaliser over both. */
static uint64_t stamp_key(uint64_t n, uint64_t ts)
{
    uint64_t x = n * 0x9e3779b97f4a7c15u ^ ts;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x ? x : 1;
}

/* A contract v1 event (or snapshot) whose data claims to be the
 * publisher's string payload (fl_payload_string_ours: another publisher's
 * data on the channel is not judged) must be that payload, byte for byte,
 * stamped for this channel (payload.h); anything else is `corrupted`. Its
 * stamp carries the publish's ts: an event whose `ts` differs by 1 ms or
 * more (a server that stamps its own clock instead of passing the
 * publisher's through, wire contract §2) is `ts_altered`, and the time to
 * measure its latency from is the stamp's whenever they differ. Returns
 * that time, or 0 to keep the envelope's. An event whose stamp repeats one
 * of the last FL_STAMP_KEEP events' under a later seq is `duplicated`.
 * Fields payloads:
 * check_fields. Delta events are judged by delta_track. */
static int64_t check_data(fl_client *c, fl_stream *s, const envelope *e, uint64_t now)
{
    fleet *f = F(c);
    if ((e->type != ENV_T_EVENT && e->type != ENV_T_SNAPSHOT) || e->delta || !e->data || !f->proto->server_seq)
        return 0;
    if (f->cfg.pub.payload == FLEET_PAYLOAD_FIELDS) {
        if (!G(c)->delta) /* a delta group's values are judged by delta_track */
            check_fields(c, s, e, now);
        return 0;
    }
    size_t len = fl_payload_string_len(f->cfg.pub.payload_bytes);
    char why[96];
    uint64_t ts = 0, n = 0;
    if (!fl_payload_string_ours(e->data, e->data_len, len))
        return 0;
    if (fl_payload_string_check(e->data, e->data_len, len, f->ch_names[s->ch], &ts, &n, why, sizeof why) < 0) {
        chk_anomaly_add(&c->t->chk, CHK_CORRUPTED, c->id, s->ch, e->seq, now);
        return 0;
    }
    /* the same published event (its number and time: another run's
     * publisher has other times) as one of the last few, under a seq
     * above all of theirs, in the same epoch: a stale value sent again, or
     * a retried publish stored twice (wire contract §8) — the subscriber
     * sees it twice. Another epoch numbers its events anew (a restart,
     * another node after a failover): its snapshot of the value already
     * held is not, and the stamps before it are forgotten. A stamp is
     * kept as a 64-bit key of (n, ts): two different events share one
     * with odds of about 2^-64 a comparison. */
    if (ts && e->has_seq) {
        uint64_t epoch = e->epoch[0] ? chk_epoch_hash(e->epoch, strlen(e->epoch)) : s->chk.epoch_hash;
        uint64_t key = stamp_key(n, ts);
        if (epoch != s->stamp_epoch) {
            memset(s->stamp_key, 0, sizeof s->stamp_key);
            s->stamp_seq = 0;
            s->stamp_epoch = epoch;
        }
        int seen = 0;
        for (int i = 0; i < FL_STAMP_KEEP; i++)
            seen |= s->stamp_key[i] == key;
        if (seen && e->seq > s->stamp_seq)
            chk_anomaly_add(&c->t->chk, CHK_DUPLICATED, c->id, s->ch, e->seq, now);
        if (!seen) {
            memmove(s->stamp_key + 1, s->stamp_key, (FL_STAMP_KEEP - 1) * sizeof s->stamp_key[0]);
            s->stamp_key[0] = key;
        }
        if (e->seq > s->stamp_seq)
            s->stamp_seq = e->seq;
    }
    if (ts == 0 || ts > INT64_MAX || (int64_t)ts == e->ts_us)
        return 0;
    /* a ts kept at millisecond precision (a server that stores ms) is
     * not hiding anything, nor is a snapshot's (a server may read its ts
     * as the time the snapshot was taken): measured from the stamp, not
     * counted */
    uint64_t sent = e->ts_us > 0 ? (uint64_t)e->ts_us : 0, off = sent > ts ? sent - ts : ts - sent;
    if (e->type == ENV_T_EVENT && off >= 1000)
        chk_anomaly_add(&c->t->chk, CHK_TS_ALTERED, c->id, s->ch, e->seq, now);
    return (int64_t)ts;
}

/* An event on a channel the client never asked for: the server routed
 * another channel's (or tenant's) event to it. Counted as `misrouted`;
 * the example names the channel when it is one of the run's (a name
 * outside the run shows as "?"). */
static void misrouted(fl_client *c, const envelope *e, uint64_t now)
{
    fl_thread *t = c->t;
    fleet *f = F(c);
    uint32_t ch = UINT32_MAX;
    if (t->chk.n_anom[CHK_MISROUTED] < t->chk.anom_cap) /* only an example needs the name's index */
        for (size_t i = 0; i < f->n_ch && ch == UINT32_MAX; i++)
            if (strcmp(f->ch_names[i], e->ch) == 0)
                ch = (uint32_t)i;
    grp_snap gsn;
    grp_begin(t, &gsn);
    chk_anomaly_add(&t->chk, CHK_MISROUTED, c->id, ch, e->has_seq ? e->seq : 0, now);
    grp_end(t, c, &gsn, 0);
}

/* An event, snapshot or gap for one of the client's streams, to the checker. */
static void deliver(fl_client *c, const envelope *e, uint64_t now)
{
    fl_thread *t = c->t;
    fl_stream *s = find_stream(c, e->ch);
    if (!s) {
        misrouted(c, e, now);
        return;
    }
    if (s->away) {
        /* promise "none": the first event after a fresh resubscribe tells
         * what was published while away; expected, not lost */
        if (e->has_seq && e->seq > s->away_last + 1) {
            FL_ADD(&t->n.missed_by_design, e->seq - s->away_last - 1);
            FL_ADD(&t->gs[c->group].missed_by_design, e->seq - s->away_last - 1);
        }
        s->away = 0;
    }
    if (e->epoch[0])
        epoch_intern(t, e->epoch);
    c->got_data = 1;
    int64_t wall = clock_wall_us();
    grp_snap gsn;
    grp_begin(t, &gsn);
    int64_t pub_ts = check_data(c, s, e, now);
    envelope fixed;
    if (pub_ts) { /* latency from the publisher's time, not the one the server put in its place */
        fixed = *e;
        fixed.ts_us = pub_ts;
        e = &fixed;
    }
    int dup = chk_on_envelope(&t->chk, &s->chk, c->id, s->ch, e, now, wall);
    if (G(c)->delta && !dup)
        delta_track(c, s, e, now);
    grp_end(t, c, &gsn, e->ts_us > 0 && wall > e->ts_us ? (uint64_t)(wall - e->ts_us) : 0);
}

static void handle_envelope(fl_client *c, const char *data, size_t len)
{
    fl_thread *t = c->t;
    envelope e;
    char err[128];
    if (envelope_scan(data, len, &e, err, sizeof err) < 0) {
        count_error(c, "bad envelope");
        return;
    }
    uint64_t now = clock_mono_us();
    switch (e.type) {
    case ENV_T_SUBSCRIBED: {
        fl_stream *s = find_stream(c, e.ch);
        if (!s) {
            count_error(c, "subscribed to a channel never asked for");
            return;
        }
        if (e.epoch[0])
            epoch_intern(t, e.epoch);
        grp_snap gsn;
        grp_begin(t, &gsn);
        chk_on_subscribed(&t->chk, &s->chk, c->id, s->ch, e.seq, e.epoch, e.recovered, now);
        grp_end(t, c, &gsn, 0);
        return;
    }
    case ENV_T_EVENT:
    case ENV_T_SNAPSHOT:
    case ENV_T_GAP:
        deliver(c, &e, now);
        return;
    case ENV_T_ERROR: {
        count_error(c, "server error envelope");
        /* A subscription refused before it began (forbidden, rate_limited,
         * overloaded, …) is owed nothing, not even what the publisher
         * stamped after it (chk_fresh_wall_us). */
        fl_stream *s = e.ch[0] ? find_stream(c, e.ch) : NULL;
        if (s && chk_fresh_wall_us(&s->chk))
            chk_on_disconnect(&t->chk, &s->chk, c->id, s->ch, 0, now);
        /* streaming turned off for the channel: a client with a fallback
         * leaves this transport once the bytes read so far are handled */
        if (s && strcmp(e.code, "overloaded") == 0 && TR(c) != FLEET_POLL && c->tr_level < G(c)->n_fallback)
            c->fb_pending = 1;
        return;
    }
    default:
        return;
    }
}

/* One payload from the server: a v1 envelope, or (protocols without
 * server seqs) a payload carrying the publisher's record, judged as the
 * event with the record's seq and ts. */
static void handle_payload(fl_client *c, const char *data, size_t len)
{
    fleet *f = F(c);
    if (f->proto->server_seq) {
        handle_envelope(c, data, len);
        return;
    }
    record r;
    char err[96];
    uint64_t off = 0;
    int has_off = 0;
    const char *ppath = f->cfg.proto_opts.payload_path[0] ? f->cfg.proto_opts.payload_path : f->proto->def_payload_path;
    int rc = record_scan_offset(data, len, ppath, f->cfg.proto_opts.offset_path, &r, &off, &has_off, err, sizeof err);
    if (rc == -2)
        return; /* the service's own control message (no payload at the path): nothing to judge */
    if (rc < 0) {
        count_error(c, "payload without an rtchaos record");
        return;
    }
    if (strcmp(r.run, f->run_id) != 0)
        return; /* an earlier run's event the server still buffers: not this run's to judge */
    envelope e;
    memset(&e, 0, sizeof e);
    e.type = ENV_T_EVENT;
    memcpy(e.ch, r.ch, sizeof e.ch);
    e.seq = r.seq;
    e.has_seq = 1;
    e.ts_us = r.ts_us;
    e.recovered = -1;
    uint64_t now = clock_mono_us();
    deliver(c, &e, now);
    /* the record's data, as check_data judges a v1 event's (payload.h);
     * the length compared here is the content's, quotes off */
    size_t plen = fl_payload_string_len(f->cfg.pub.payload_bytes) - 2;
    fl_stream *cs = r.data_str && f->cfg.pub.payload != FLEET_PAYLOAD_FIELDS &&
                            (r.data_len == plen || r.data_stamped) && (!r.data_ok || r.data_len != plen)
                        ? find_stream(c, r.ch)
                        : NULL;
    if (cs) {
        grp_snap gsn;
        grp_begin(c->t, &gsn);
        chk_anomaly_add(&c->t->chk, CHK_CORRUPTED, c->id, cs->ch, r.seq, now);
        grp_end(c->t, c, &gsn, 0);
    }
    fl_stream *s = has_off ? find_stream(c, r.ch) : NULL;
    if (s) {
        s->srv_off = off;
        s->srv_off_known = 1;
    }
}

/* Keeps the resume id the server gave (opaque; SSE id, nchan message id,
 * poll validators). */
static void keep_id(fl_client *c, const char *id, size_t n)
{
    if (n >= PROTO_ID_MAX)
        return; /* longer than any request may carry back: keep the previous one */
    char *s = realloc(c->last_id, n + 1);
    if (!s)
        return;
    memcpy(s, id, n);
    s[n] = '\0';
    c->last_id = s;
}

static void publish_counters(fl_thread *t)
{
    FL_SET(&t->n.delivered, t->chk.n.delivered);
    FL_SET(&t->n.missing_now, t->chk.n.missing_now);
    FL_SET(&t->n.snapshots, t->chk.n.snapshots);
    FL_SET(&t->n.gaps, t->chk.n.gaps);
    uint64_t a = t->chk.n.missing_now;
    for (int k = 0; k < CHK_KINDS; k++)
        a += t->chk.n.kind[k];
    FL_SET(&t->n.anomalies, a);
}

/* ---- subscribing -------------------------------------------------------------- */

static int resume_wanted(const fl_client *c)
{
    return G(c)->resume && c->reconnect_t0_us != 0;
}

static void on_open(fl_client *c)
{
    fl_thread *t = c->t;
    uint64_t now = clock_mono_us();
    c->state = FL_C_OPEN;
    FL_INC(&t->n.connected);
    c->open_tr = (uint8_t)TR(c);
    c->open_mono_us = now;
    FL_INC(&t->gs[c->group].connected[c->open_tr]);
    hist_record(t->chk.connect, now - c->conn_start_us);
    int64_t wall = clock_wall_us();
    int resume = resume_wanted(c);
    const proto_opts *po = &F(c)->cfg.proto_opts;
    int by_message = !F(c)->proto->server_seq && (po->sub_message[0] || F(c)->proto->def_sub_message);
    if (!by_message && (TR(c) == FLEET_SSE || !F(c)->proto->server_seq))
        resume = resume && c->last_id != NULL; /* resumed only when there is an id to resume from */
    if (F(c)->proto->ws_hello) {
        /* a session protocol resumes the whole connection: the session's
         * token and the last offset seen */
        by_message = 0;
        resume = resume && c->sess_token && c->last_id;
        c->sess_resuming = (uint8_t)resume;
    }
    for (unsigned i = 0; i < c->n_streams; i++) {
        /* subscribed by message (ws-json): each channel resumes from its own
         * server offset, when there is one and a resume message */
        int r = by_message ? resume && po->resume_message[0] && c->st[i].srv_off_known : resume;
        chk_on_subscribe(&t->chk, &c->st[i].chk, r, c->reconnect_t0_us, wall);
    }
    if (c->reconnect_t0_us)
        hist_record(t->chk.reconnect, now - c->reconnect_t0_us);
    c->reconnect_t0_us = 0;
    c->ping_n = 0;
    c->ping_due_us = TR(c) == FLEET_WS && po->ping_message[0] ? now + (uint64_t)po->ping_interval_ms * 1000u : 0;
    if (TR(c) != FLEET_WS)
        arm_open(c); /* from now on the idle timeout applies, not the connect deadline */
}

static int ws_send_text(fl_client *c, const char *s, size_t n)
{
    uint8_t fr[1024];
    int k = ws_frame_client(c->t->wsp, 1, s, n, fr, sizeof fr);
    if (k < 0)
        return -1;
    return c_write(c, (const char *)fr, (size_t)k);
}

static int ws_subscribe_all(fl_client *c)
{
    fl_thread *t = c->t;
    /* capabilities the group asks for (docs/wire-contract.md §4.1) */
    const char *caps[2] = {G(c)->batch ? ",\"batch\":true" : "", G(c)->delta ? ",\"delta\":true" : ""};
    for (unsigned i = 0; i < c->n_streams; i++) {
        fl_stream *s = &c->st[i];
        char msg[512], chj[ENV_CH_MAX * 2 + 8];
        const char *name = F(c)->ch_names[s->ch];
        envelope_json_str(chj, sizeof chj, name, strlen(name));
        int n;
        if (s->chk.phase == CHK_PH_RESUME) {
            const char *ep = s->chk.epoch_hash ? fl_epoch_str(t, s->chk.epoch_hash) : NULL;
            char epj[ENV_EPOCH_MAX * 2 + 8];
            if (ep)
                envelope_json_str(epj, sizeof epj, ep, strlen(ep));
            n = snprintf(msg, sizeof msg, "{\"op\":\"sub\",\"ch\":%s,\"since\":%llu%s%s%s%s}", chj,
                         (unsigned long long)s->chk.since, ep ? ",\"epoch\":" : "", ep ? epj : "", caps[0],
                         caps[1]);
        } else {
            n = snprintf(msg, sizeof msg, "{\"op\":\"sub\",\"ch\":%s%s%s}", chj, caps[0], caps[1]);
        }
        if (ws_send_text(c, msg, (size_t)n) < 0)
            return -1;
    }
    return 0;
}

/* Templated subscribe (ws-json): the subscribe message per channel, or the
 * resume message with the server's offset for a stream on_open resumed. */
static int ws_subscribe_templ(fl_client *c)
{
    const proto_opts *po = &F(c)->cfg.proto_opts;
    for (unsigned i = 0; i < c->n_streams; i++) {
        fl_stream *s = &c->st[i];
        char msg[768];
        int resume = s->chk.phase == CHK_PH_RESUME && po->resume_message[0];
        const char *sub = po->sub_message[0] ? po->sub_message : F(c)->proto->def_sub_message;
        int n = proto_render_sub(resume ? po->resume_message : sub, F(c)->ch_names[s->ch], s->srv_off, msg,
                                 sizeof msg);
        if (n < 0 || ws_send_text(c, msg, (size_t)n) < 0)
            return -1;
    }
    return 0;
}

/* A session protocol's first message: a fresh session, or the resume
 * on_open decided on (the session's token and the last offset). */
static int ws_hello(fl_client *c)
{
    char msg[PROTO_ID_MAX * 2 + 64];
    int n = F(c)->proto->ws_hello(c->sess_resuming ? c->sess_token : NULL, c->sess_resuming ? c->last_id : NULL,
                                  msg, sizeof msg);
    return n < 0 ? -1 : ws_send_text(c, msg, (size_t)n);
}

/* A session protocol's session is open (Socket.IO's CONNECT reply): a
 * resume the server did not honour (it named a new session) is a loss it
 * signalled, so the streams start afresh instead of counting the hole as
 * lost; then every channel is subscribed. Returns 0, or -1 to drop. */
static int session_ready(fl_client *c, const proto_frame *fr)
{
    fl_thread *t = c->t;
    int same = c->sess_id && fr->session && strlen(c->sess_id) == fr->session_len &&
               memcmp(c->sess_id, fr->session, fr->session_len) == 0;
    if (c->sess_resuming && !same) {
        FL_INC(&t->n.resync_signalled);
        FL_INC(&t->gs[c->group].resync_signalled);
        uint64_t now = clock_mono_us();
        int64_t wall = clock_wall_us();
        grp_snap gsn;
        grp_begin(t, &gsn);
        for (unsigned i = 0; i < c->n_streams; i++) {
            chk_on_disconnect(&t->chk, &c->st[i].chk, c->id, c->st[i].ch, 0, now);
            chk_on_subscribe(&t->chk, &c->st[i].chk, 0, 0, wall);
        }
        grp_end(t, c, &gsn, 0);
    }
    c->sess_resuming = 0;
    char *sid = fr->session ? strndup(fr->session, fr->session_len) : NULL;
    char *tok = fr->token ? strndup(fr->token, fr->token_len) : NULL;
    free(c->sess_id);
    free(c->sess_token);
    c->sess_id = sid;
    c->sess_token = tok;
    return ws_subscribe_templ(c);
}

/* ---- WebSocket messages ---------------------------------------------------------- */

static int on_ws_msg(void *ud, int opcode, const char *data, size_t len)
{
    fl_client *c = ud;
    if (opcode & WS_OP_COMPRESSED) {
        /* permessage-deflate: inflate with the connection's window, then
         * handle the text as if it had come uncompressed */
        char err[160];
        if (!c->infl) {
            count_error(c, "ws: compressed message without permessage-deflate");
            return -1;
        }
        bytebuf out = {0};
        if (ws_inflate_feed(c->infl, (const unsigned char *)data, len, &out, FL_MAX_MSG, err, sizeof err) < 0 ||
            ws_inflate_end(c->infl, &out, c->infl_reset, err, sizeof err) < 0) {
            free(out.p);
            count_error(c, err);
            return -1;
        }
        int rc = on_ws_msg(ud, opcode & ~WS_OP_COMPRESSED, out.p ? (const char *)out.p : "", out.len);
        free(out.p);
        return rc;
    }
    c->ka_sent = 0; /* the link is alive */
    switch (opcode) {
    case 1:
        if (F(c)->proto->server_seq && G(c)->batch && v1_is_batch(data, len)) {
            /* a batch message: each envelope as if it had come alone */
            size_t off = 0, el_len;
            const char *el;
            int r;
            while ((r = v1_batch_next(data, len, &off, &el, &el_len)) == 1)
                handle_envelope(c, el, el_len);
            if (r < 0)
                count_error(c, "bad batch message");
        } else if (F(c)->proto->server_seq) {
            handle_envelope(c, data, len);
        } else if (F(c)->cfg.proto_opts.ping_match[0] &&
                   proto_ping_matches(F(c)->cfg.proto_opts.ping_match, data, len)) {
            /* the service's own ping (ws-json): answered with the pong
             * template, or it hangs up on a healthy client */
            char pong[1024];
            int k = proto_render_pong(F(c)->cfg.proto_opts.pong_message, data, len, pong, sizeof pong);
            if (k < 0) {
                count_error(c, "pong: the answer to the server's ping does not fit");
                return -1;
            }
            if (ws_send_text(c, pong, (size_t)k) < 0)
                return -1;
        } else {
            proto_frame fr;
            memset(&fr, 0, sizeof fr);
            if (F(c)->proto->ws_message(data, len, &fr) < 0) {
                count_error(c, "ws message not in the protocol's format");
            } else {
                if (fr.reply[0] && ws_send_text(c, fr.reply, strlen(fr.reply)) < 0)
                    return -1;
                if (fr.error[0])
                    count_error(c, fr.error);
                if (fr.refused) {
                    count_error(c, "session refused or closed by the server");
                    return -1;
                }
                if (fr.ready && session_ready(c, &fr) < 0)
                    return -1;
                if (fr.payload)
                    handle_payload(c, fr.payload, fr.payload_len);
                if (fr.id)
                    keep_id(c, fr.id, fr.id_len); /* after the payload: the offset of what was judged */
            }
        }
        if (c->t->f->groups[c->group].read_rate_msgs_per_s && c->read_budget > 0)
            c->read_budget--;
        return 0;
    case 9: { /* ping: answer with the same payload */
        uint8_t fr[160];
        int k = ws_frame_client(c->t->wsp, 10, data, len, fr, sizeof fr);
        if (k < 0 || c_write(c, (const char *)fr, (size_t)k) < 0)
            return -1;
        return 0;
    }
    case 8: { /* close: answer it and go */
        uint8_t fr[160];
        if (len >= 2 && F(c)->proto->ws_close) {
            /* the protocol's close codes say whether and when to come back */
            char why[200];
            unsigned code = (unsigned)(uint8_t)data[0] << 8 | (uint8_t)data[1];
            c->close_action = (uint8_t)F(c)->proto->ws_close(code, why, sizeof why);
            if (why[0])
                count_error(c, why);
        }
        int k = ws_frame_client(c->t->wsp, 8, data, len < 2 ? len : 2, fr, sizeof fr);
        if (k > 0 && fl_conn_send_some(c->fd, c->ssl, (const char *)fr, (size_t)k) > 0)
            FL_ADD(&c->t->n.tx_bytes[TR(c)], (uint64_t)k);
        return -1;
    }
    default:
        return 0;
    }
}

/* ---- HTTP responses (handshakes, SSE stream, poll) ---------------------------------- */

static void sse_on_event(void *ud, const char *ev, size_t el, const char *d, size_t dl)
{
    (void)ev, (void)el;
    handle_payload(ud, d, dl);
}

static void sse_on_id(void *ud, const char *id, size_t n)
{
    keep_id(ud, id, n);
}

static void sse_on_retry(void *ud, uint64_t ms)
{
    fl_client *c = ud;
    c->retry_ms = ms > 600000 ? 600000 : (uint32_t)ms;
}

static const sse_callbacks sse_cbs = {sse_on_event, sse_on_id, sse_on_retry, NULL};

/* A long-poll answer that says "nothing new" in the protocol's words
 * (nchan: 304 / 408 when its subscriber timeout passes). */
static int poll_quiet(const fl_client *c, int status)
{
    const fleet *f = F(c);
    return TR(c) == FLEET_POLL && !f->proto->server_seq && (status == 304 || status == 408);
}

static int hp_on_headers(fl_http *h)
{
    fl_client *c = h->ud;
    if (TR(c) == FLEET_WS)
        return 0;
    if (h->status != 200 && !poll_quiet(c, h->status))
        return 0; /* read the (short) error body; judged after execute */
    if (c->state == FL_C_HANDSHAKE)
        on_open(c);
    return 0;
}

static int hp_on_body(fl_http *h, const char *at, size_t len)
{
    fl_client *c = h->ud;
    if (h->status != 200 || c->state != FL_C_OPEN)
        return 0;
    if (TR(c) == FLEET_SSE) {
        if (sse_feed(&c->sse, at, len, &sse_cbs, c, FL_MAX_MSG) < 0)
            return -1;
        return 0;
    }
    /* poll: gather the body */
    if (c->body_len + len > FL_MAX_MSG * 4u)
        return -1;
    if (c->body_len + len > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 1024;
        while (cap < c->body_len + len)
            cap *= 2;
        char *b = realloc(c->body, cap);
        if (!b)
            return -1;
        c->body = b;
        c->body_cap = (uint32_t)cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += (uint32_t)len;
    return 0;
}

static int hp_on_complete(fl_http *h)
{
    if (TR((fl_client *)h->ud) == FLEET_POLL)
        http_parser_pause(&h->p, 1); /* handle this response before reading the next */
    return 0;
}

static const fl_http_cbs hp_cbs = {hp_on_headers, hp_on_body, hp_on_complete};

/* Splits a JSON array of objects into its elements. Written by hand
 * rather than parsed with jansson because each element is then scanned
 * in place by envelope_scan (no tree, no copy); it only tracks strings
 * and nesting, and envelope_scan validates each element. */
static int poll_each(fl_client *c, const char *b, size_t n, unsigned *count)
{
    size_t i = 0;
    *count = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
        i++;
    if (i >= n || b[i] != '[')
        return -1;
    i++;
    for (;;) {
        while (i < n && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t' || b[i] == ','))
            i++;
        if (i >= n)
            return -1;
        if (b[i] == ']')
            return 0;
        if (b[i] != '{')
            return -1;
        size_t start = i;
        int depth = 0, in_str = 0;
        for (; i < n; i++) {
            char ch = b[i];
            if (in_str) {
                if (ch == '\\')
                    i++;
                else if (ch == '"')
                    in_str = 0;
                continue;
            }
            if (ch == '"')
                in_str = 1;
            else if (ch == '{' || ch == '[')
                depth++;
            else if ((ch == '}' || ch == ']') && --depth == 0)
                break;
        }
        if (i >= n)
            return -1;
        i++;
        handle_envelope(c, b + start, i - start);
        (*count)++;
    }
}

static int send_request(fl_client *c)
{
    fleet *f = F(c);
    const fleet_group_cfg *g = G(c);
    char req[FLEET_TOKEN_MAX + 4096];
    size_t n = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(req + n, sizeof req - n, __VA_ARGS__);                                   \
        if (k_ < 0 || (size_t)k_ >= sizeof req - n)                                                \
            return -1;                                                                             \
        n += (size_t)k_;                                                                           \
    } while (0)
    fl_http *h = (fl_http *)c->hp;
    const proto *pr = f->proto;
    if (!pr->server_seq && !resume_wanted(c)) {
        free(c->last_id); /* afresh: this connection resumes from nothing */
        c->last_id = NULL;
    }
    const char *chs[64];
    for (unsigned i = 0; i < c->n_streams && i < 64; i++)
        chs[i] = f->ch_names[c->st[i].ch];
    const char *rid = resume_wanted(c) ? c->last_id : NULL;
    char target[2048], extra[PROTO_ID_MAX * 2 + 128];
    if (TR(c) != FLEET_POLL &&
        (pr->sub_target(&f->cfg.proto_opts, (int)TR(c), chs, c->n_streams, rid, target, sizeof target) < 0 ||
         pr->sub_headers(&f->cfg.proto_opts, (int)TR(c), rid, extra, sizeof extra) < 0))
        return -1;
    switch (TR(c)) {
    case FLEET_WS: {
        char key[25];
        ws_make_key(c->t->wsp, key);
        ws_accept_for(key, h->accept); /* what the 101 must answer */
        ADD("GET %s%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s",
            f->cfg.path_prefix, target, f->host_hdr, key, extra);
        if (pr->ws_subprotocol)
            ADD("Sec-WebSocket-Protocol: %s\r\n", pr->ws_subprotocol);
        if (g->deflate != FLEET_DEFLATE_OFF) /* the server's window: any size it likes (15 at most) */
            ADD("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
        break;
    }
    case FLEET_SSE:
        /* v1 deltas: asked for on the stream (docs/wire-contract.md §5.3) */
        ADD("GET %s%s%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n%s",
            f->cfg.path_prefix, target, g->delta && pr->server_seq ? (strchr(target, '?') ? "&delta=1" : "?delta=1") : "",
            f->host_hdr, extra);
        break;
    case FLEET_POLL: {
        /* the first request of a connection begins with the first channel */
        c->poll_cur = (uint16_t)(c->n_streams - 1);
        int k = poll_req(c, req, sizeof req);
        if (k < 0)
            return -1;
        return c_write(c, req, (size_t)k);
    }
    }
    if (g->token[0])
        ADD("Authorization: Bearer %s\r\n", g->token);
    ADD("%s\r\n", f->cfg.proto_opts.headers);
#undef ADD
    return c_write(c, req, n);
}

/* ---- connecting ------------------------------------------------------------------------ */


static void start_connect(fl_client *c)
{
    fl_thread *t = c->t;
    const fleet_group_cfg *g = G(c);
    /* The run is over (fleet_local_stop sets stopped before it asks the
     * threads to end): a client not connected by now stays so. On a starved
     * box a late ramp fires its connect timers in one loop pass, and the
     * thread would spend that pass in connect() calls (each one a whole
     * loopback handshake) before it sees the stop (gdb of an ASan worker
     * under 3 busy loops: both threads in connect from here, 39 s into a
     * run whose ramp was 6 s). */
    if (__atomic_load_n(&t->f->stopped, __ATOMIC_ACQUIRE))
        return;
    c->conn_start_us = clock_mono_us();
    c->got_data = 0;
    const char *why = NULL;
    int fd = fl_socket_connect(t->f, c->id, c->attempt, g->read_rate_bytes_per_s || g->read_rate_msgs_per_s, &why);
    if (fd < 0) {
        FL_INC(&t->n.connects_failed);
        drop(c, why, 0);
        return;
    }
    c->fd = fd;
    c->state = FL_C_CONNECTING;
    arm(c, fd, EV_WRITE, g->connect_timeout_ms);
}

static void connected(fl_client *c)
{
    fleet *f = c->t->f;
    if (!c->ssl) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            FL_INC(&c->t->n.connects_failed);
            drop(c, "connect refused", 0);
            return;
        }
        if (f->tls && !(c->ssl = fl_tls_new(f->tls, c->fd, f->cfg.tls_host))) {
            drop(c, "out of memory", 1);
            return;
        }
    }
    if (c->ssl && !fl_tls_ready(c->ssl)) {
        /* the TLS handshake runs in FL_C_CONNECTING, under the connect timeout */
        char why[200];
        int h = fl_tls_handshake(c->ssl, why, sizeof why);
        if (h < 0) {
            /* an error by reason (the verifier's), so a report names it */
            FL_INC(&c->t->n.connects_failed);
            drop(c, why, 1);
            return;
        }
        if (h != 1) {
            uint64_t spent = (clock_mono_us() - c->conn_start_us) / 1000;
            uint32_t rest = G(c)->connect_timeout_ms > spent ? G(c)->connect_timeout_ms - (uint32_t)spent : 1;
            arm(c, c->fd, h == 0 ? EV_READ : EV_WRITE, rest);
            return;
        }
    }
    fl_http *h = malloc(sizeof *h);
    if (!h) {
        drop(c, "out of memory", 1);
        return;
    }
    fl_http_init(h, &hp_cbs, c, NULL);
    c->hp = &h->p;
    c->state = FL_C_HANDSHAKE;
    uint64_t spent_ms = (clock_mono_us() - c->conn_start_us) / 1000;
    uint32_t left = G(c)->connect_timeout_ms > spent_ms ? G(c)->connect_timeout_ms - (uint32_t)spent_ms : 1;
    arm(c, c->fd, EV_READ | EV_PERSIST, left);
    if (send_request(c) < 0)
        drop(c, "send request", 0);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* A whole long-poll answer of a protocol without server seqs: one payload
 * (or nothing new), then the next poll. Returns 0, or -1 after dropping. */
static int poll_foreign(fl_client *c, fl_http *h)
{
    const proto *pr = F(c)->proto;
    proto_poll_head ph = {h->status, h->got_lm, h->got_etag};
    char id[PROTO_ID_MAX];
    int rc = pr->poll_response(&ph, id, sizeof id);
    if (rc == PROTO_POLL_REFUSED) {
        char why[48];
        snprintf(why, sizeof why, h->status == 200 ? "poll: answer without validators" : "poll status %d",
                 h->status);
        count_error(c, why);
        fall_back(c);
        drop(c, "poll status", 0);
        return -1;
    }
    if (c->state == FL_C_HANDSHAKE)
        on_open(c);
    if (rc == PROTO_POLL_MESSAGE) {
        keep_id(c, id, strlen(id));
        handle_payload(c, c->body, c->body_len);
    }
    c->body_len = 0;
    if (!h->keep_alive) {
        drop(c, "poll: server closes", 0);
        return -1;
    }
    poll_next(c);
    return c->state == FL_C_OPEN ? 0 : -1;
}

/* After a 101: what the server said about permessage-deflate against what
 * the group asked for (deflate: off | offer | require). 0, or -1 after
 * dropping. */
static int ws_deflate_agreed(fl_client *c, const fl_http *h)
{
    ws_pmd pm;
    char head[sizeof h->got_ext + 40];
    int n = snprintf(head, sizeof head, "Sec-WebSocket-Extensions: %s\r\n", h->got_ext);
    ws_pmd_parse_response(&pm, head, (size_t)n);
    fleet_deflate want = G(c)->deflate;
    if (pm.on && want == FLEET_DEFLATE_OFF) { /* RFC 7692 5: a client must fail this connection */
        drop(c, "ws: server accepted permessage-deflate that was not offered", 1);
        return -1;
    }
    if (!pm.on && want == FLEET_DEFLATE_REQUIRE) {
        drop(c, "ws: permessage-deflate required, the server did not accept it", 1);
        return -1;
    }
    if (pm.on) {
        c->infl = calloc(1, sizeof *c->infl);
        if (!c->infl) {
            drop(c, "out of memory", 1);
            return -1;
        }
        c->infl_reset = (uint8_t)pm.no_takeover[1];
    }
    return 0;
}

/* Feeds bytes to the HTTP parser; returns 0, or -1 after dropping. */
static int feed_http(fl_client *c, const char *buf, size_t n)
{
    fl_http *h = (fl_http *)c->hp;
    size_t off = 0;
    while (off < n || (h->msg_done && TR(c) == FLEET_POLL)) {
        size_t k = fl_http_execute(h, buf + off, n - off);
        off += k;
        enum http_errno he = HTTP_PARSER_ERRNO(&h->p);
        if (TR(c) == FLEET_WS && h->headers_done) {
            if (h->status != 101 || !h->accept_ok) {
                char why[40];
                snprintf(why, sizeof why, h->status != 101 ? "ws handshake status %d" : "ws accept mismatch",
                         h->status);
                count_error(c, why);
                if (h->status != 101)
                    fall_back(c);
                drop(c, h->status != 101 ? "ws handshake status" : "ws accept mismatch", 0);
                return -1;
            }
            if (ws_deflate_agreed(c, h) < 0)
                return -1;
            free(c->hp);
            c->hp = NULL;
            on_open(c);
            arm_open(c);
            if (F(c)->proto->server_seq ? ws_subscribe_all(c) < 0
                : F(c)->proto->ws_hello ? ws_hello(c) < 0
                                        : F(c)->cfg.proto_opts.sub_message[0] && ws_subscribe_templ(c) < 0) {
                drop(c, "send sub", 0);
                return -1;
            }
            if (off < n) {
                char err[160];
                if (ws_feed(c->t->wsp, &c->ws, (const uint8_t *)buf + off, n - off, on_ws_msg, c,
                            FL_MAX_MSG, err, sizeof err) < 0) {
                    if (err[0])
                        count_error(c, err);
                    drop(c, "ws", err[0] != 0);
                    return -1;
                }
            }
            return 0;
        }
        if (he == HPE_PAUSED && !F(c)->proto->server_seq) {
            http_parser_pause(&h->p, 0);
            h->msg_done = 0;
            if (poll_foreign(c, h) < 0)
                return -1;
            continue;
        }
        if (he == HPE_PAUSED) {
            http_parser_pause(&h->p, 0);
            h->msg_done = 0;
            if (h->status != 200) {
                char why[32];
                snprintf(why, sizeof why, "poll status %d", h->status);
                count_error(c, why);
                fall_back(c);
                drop(c, "poll status", 0);
                return -1;
            }
            unsigned got = 0;
            if (poll_each(c, c->body, c->body_len, &got) < 0) {
                count_error(c, "poll body is not an array of envelopes");
            } else if (got == 0) {
                /* an empty answer to since=S: the server has nothing after S,
                 * which is what a WS `subscribed` with head S would say */
                fl_stream *s = &c->st[c->poll_cur];
                if (s->chk.phase == CHK_PH_RESUME) {
                    grp_snap gsn;
                    grp_begin(c->t, &gsn);
                    chk_on_subscribed(&c->t->chk, &s->chk, c->id, s->ch, s->chk.since, "", 1,
                                      clock_mono_us());
                    grp_end(c->t, c, &gsn, 0);
                }
            }
            c->body_len = 0;
            if (!h->keep_alive) {
                drop(c, "poll: server closes", 0);
                return -1;
            }
            poll_next(c);
            if (c->state != FL_C_OPEN)
                return -1;
            continue;
        }
        if (he != HPE_OK) {
            count_error(c, http_errno_name(he));
            drop(c, "http parse", 0);
            return -1;
        }
        if (h->headers_done && h->status == 200 && TR(c) == FLEET_SSE && !F(c)->proto->server_seq &&
            strncasecmp(h->got_ctype, "text/event-stream", 17) != 0) {
            /* a page (HTML, JSON) where an event stream should be: the
             * location is wrong, not a stream that happens to be quiet */
            count_error(c, "sse: Content-Type is not text/event-stream");
            fall_back(c);
            drop(c, "http status", 0);
            return -1;
        }
        if (h->headers_done && h->status != 200 && TR(c) != FLEET_WS && !poll_quiet(c, h->status)) {
            char why[32];
            snprintf(why, sizeof why, "http status %d", h->status);
            count_error(c, why);
            fall_back(c);
            drop(c, "http status", 0);
            return -1;
        }
        if (k == 0)
            break;
    }
    return 0;
}

/* Formats the next long-poll into req: channels take turns, each waiting
 * at most poll_timeout_ms / channels, so a quiet channel cannot hold the
 * others' events back for long (/poll takes one channel per request).
 * Returns the length, or -1 when it does not fit. */
static int poll_req(fl_client *c, char *req, size_t cap)
{
    fleet *f = F(c);
    const fleet_group_cfg *g = G(c);
    c->poll_cur = (uint16_t)((c->poll_cur + 1) % c->n_streams);
    fl_stream *s = &c->st[c->poll_cur];
    uint32_t wait_ms = (g->poll_timeout_ms ? g->poll_timeout_ms : 10000) / c->n_streams;
    size_t n = 0;
#define PADD(...)                                                                                  \
    do {                                                                                           \
        int k_ = snprintf(req + n, cap - n, __VA_ARGS__);                                          \
        if (k_ < 0 || (size_t)k_ >= cap - n)                                                       \
            return -1;                                                                             \
        n += (size_t)k_;                                                                           \
    } while (0)
    if (!f->proto->server_seq) {
        /* the adapter's location, resuming from the last answer's validators */
        const char *ch = f->ch_names[s->ch];
        char target[2048], extra[PROTO_ID_MAX * 2 + 128];
        if (f->proto->sub_target(&f->cfg.proto_opts, FLEET_POLL, &ch, 1, NULL, target, sizeof target) < 0 ||
            f->proto->sub_headers(&f->cfg.proto_opts, FLEET_POLL, c->last_id, extra, sizeof extra) < 0)
            return -1;
        PADD("GET %s%s HTTP/1.1\r\nHost: %s\r\n%s", f->cfg.path_prefix, target, f->host_hdr, extra);
        if (g->token[0])
            PADD("Authorization: Bearer %s\r\n", g->token);
        PADD("%s\r\n", f->cfg.proto_opts.headers);
        return (int)n;
    }
    PADD("GET %s/poll?ch=%s&timeout_ms=%u", f->cfg.path_prefix, f->ch_names[s->ch], wait_ms);
    if (s->chk.based) {
        const char *ep = s->chk.epoch_hash ? fl_epoch_str(c->t, s->chk.epoch_hash) : NULL;
        PADD("&since=%llu", (unsigned long long)s->chk.last);
        if (ep)
            PADD("&epoch=%s", ep);
    }
    PADD(" HTTP/1.1\r\nHost: %s\r\n", f->host_hdr);
    if (g->token[0])
        PADD("Authorization: Bearer %s\r\n", g->token);
    PADD("%s\r\n", f->cfg.proto_opts.headers);
#undef PADD
    return (int)n;
}

static void poll_next(fl_client *c)
{
    char req[FLEET_TOKEN_MAX + 4096];
    int n = poll_req(c, req, sizeof req);
    if (n < 0 || c_write(c, req, (size_t)n) < 0)
        drop(c, "poll request", 0);
}

static void on_readable(fl_client *c)
{
    fl_thread *t = c->t;
    const fleet_group_cfg *g = G(c);
    size_t cap = sizeof t->rbuf;
    /* throttled reads create backpressure during the run; once the drain
     * has begun (final heads known) slow consumers read at full speed, so
     * what the server still holds for them is collected, and only what it
     * really dropped (or never sent) counts */
    int limited = (g->read_rate_bytes_per_s || g->read_rate_msgs_per_s) && c->state == FL_C_OPEN &&
                  !__atomic_load_n(&t->f->heads_final, __ATOMIC_ACQUIRE);
    if (limited) {
        if (g->read_rate_msgs_per_s)
            cap = 512; /* small reads, so the message budget is kept closely */
        else if (c->read_budget < cap)
            cap = c->read_budget;
        if (cap == 0 || (g->read_rate_msgs_per_s && c->read_budget == 0)) {
            c->throttled = 1;
            arm_open(c);
            return;
        }
    }
    ssize_t n = fl_conn_recv(c->fd, c->ssl, t->rbuf, cap);
    if (c->ssl && n > 0 && fl_tls_pending(c->ssl) > 0 && event_initialized(&c->ev))
        event_active(&c->ev, EV_READ, 0); /* decrypted bytes no socket event will announce */
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        drop(c, "read error", 0);
        return;
    }
    if (n == 0) {
        drop(c, "closed by peer", 0);
        return;
    }
    FL_ADD(&t->n.rx_bytes[TR(c)], (uint64_t)n);
    if (c->state != FL_C_OPEN)
        FL_ADD(&t->n.hs_rx_bytes[TR(c)], (uint64_t)n);
    if (limited && g->read_rate_bytes_per_s && !g->read_rate_msgs_per_s)
        c->read_budget -= (uint32_t)n;
    if (c->state == FL_C_HANDSHAKE || (c->state == FL_C_OPEN && TR(c) != FLEET_WS)) {
        if (feed_http(c, (const char *)t->rbuf, (size_t)n) < 0)
            return;
    } else if (c->state == FL_C_OPEN) {
        char err[160];
        if (ws_feed(t->wsp, &c->ws, t->rbuf, (size_t)n, on_ws_msg, c, FL_MAX_MSG, err, sizeof err) < 0) {
            if (err[0])
                count_error(c, err);
            drop(c, err[0] ? "ws protocol" : "ws closed", 0);
            return;
        }
    }
    if (c->fb_pending) {
        c->fb_pending = 0;
        if (fall_back(c)) {
            drop(c, "transport refused", 0);
            return;
        }
    }
    if (limited && c->state == FL_C_OPEN &&
        (g->read_rate_msgs_per_s ? c->read_budget == 0 : c->read_budget == 0)) {
        c->throttled = 1;
        arm_open(c);
    }
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    fl_client *c = arg;
    switch (c->state) {
    case FL_C_WAIT:
        start_connect(c);
        break;
    case FL_C_CONNECTING:
        if (what & EV_TIMEOUT) {
            FL_INC(&c->t->n.connects_failed);
            drop(c, "connect timeout", 0);
        } else {
            connected(c);
        }
        break;
    case FL_C_HANDSHAKE:
    case FL_C_OPEN:
        if ((what & EV_TIMEOUT) && c->state == FL_C_OPEN && TR(c) == FLEET_WS && F(c)->proto->ws_keepalive &&
            !c->ka_sent) {
            /* quiet, not yet dead: ask the server (Pusher's pusher:ping);
             * any message before the next timeout keeps the link */
            c->ka_sent = 1;
            if (ws_send_text(c, F(c)->proto->ws_keepalive, strlen(F(c)->proto->ws_keepalive)) < 0) {
                drop(c, "write error", 0);
                break;
            }
            arm_open(c);
            break;
        }
        if (what & EV_TIMEOUT) {
            if (c->state == FL_C_HANDSHAKE)
                fall_back(c); /* no answer to the handshake: a path that swallows this transport */
            drop(c, c->state == FL_C_OPEN ? "idle timeout" : "handshake timeout", 0);
            break;
        }
        if ((what & EV_WRITE) && c->out_len) {
            if (c_flush(c) < 0) {
                drop(c, "write error", 0);
                break;
            }
            if (c->out_len == 0) {
                if (c->state == FL_C_OPEN)
                    arm_open(c);
                else
                    arm(c, c->fd, EV_READ | EV_PERSIST, G(c)->connect_timeout_ms);
            }
        }
        if (what & EV_READ)
            on_readable(c);
        break;
    default:
        break;
    }
    publish_counters(c->t);
}

/* ---- dropping and reconnecting --------------------------------------------------------------- */

static void close_conn(fl_client *c)
{
    fl_thread *t = c->t;
    if (event_initialized(&c->ev))
        event_del(&c->ev);
    fl_tls_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->hp);
    c->hp = NULL;
    ws_conn_release(t->wsp, &c->ws);
    if (c->infl) {
        ws_inflater_free(c->infl);
        free(c->infl);
        c->infl = NULL;
    }
    sse_reset(&c->sse);
    free(c->out);
    c->out = NULL;
    c->out_len = 0;
    free(c->body);
    c->body = NULL;
    c->body_len = c->body_cap = 0;
    c->throttled = 0;
    c->fb_pending = 0; /* a refusal read on this connection is not the next one's */
    c->ka_sent = 0;
    if (c->state == FL_C_OPEN) {
        FL_SET(&t->n.connected, t->n.connected - 1);
        uint64_t *gc = &t->gs[c->group].connected[c->open_tr];
        FL_SET(gc, *gc - 1);
        FL_ADD(&t->n.open_us[c->open_tr], clock_mono_us() - c->open_mono_us);
    }
}

static void drop(fl_client *c, const char *why, int is_error)
{
    fl_thread *t = c->t;
    fleet *f = t->f;
    const fleet_group_cfg *g = G(c);
    uint64_t now = clock_mono_us();
    (void)why;
    if (is_error)
        count_error(c, why);
    int was_open = c->state == FL_C_OPEN;
    close_conn(c);
    int stopping = __atomic_load_n(&f->stopped, __ATOMIC_ACQUIRE) || t->cmd_stop;
    int will_reconnect = g->reconnect.enabled && !stopping;
    if (was_open)
        c->attempt = 0; /* a connection that worked starts the backoff afresh */
    if (will_reconnect && g->reconnect.max_attempts && c->attempt >= g->reconnect.max_attempts) {
        will_reconnect = 0;
        FL_INC(&t->n.gave_up);
    }
    /* the server's close code (proto.ws_close): refused for good, or come back at once */
    int close_action = c->close_action;
    c->close_action = PROTO_CLOSE_BACKOFF;
    if (will_reconnect && close_action == PROTO_CLOSE_FAIL) {
        will_reconnect = 0;
        FL_INC(&t->n.gave_up);
    }
    grp_snap gsn;
    grp_begin(t, &gsn);
    for (unsigned i = 0; i < c->n_streams; i++) {
        fl_stream *s = &c->st[i];
        if (f->resume_none && will_reconnect && s->chk.based && !s->away) {
            s->away_last = s->chk.last;
            s->away = 1;
        }
        chk_on_disconnect(&t->chk, &s->chk, c->id, s->ch, will_reconnect && g->resume, now);
    }
    grp_end(t, c, &gsn, 0);
    if (!will_reconnect) {
        c->state = FL_C_DEAD;
        return;
    }
    if (c->reconnect_t0_us == 0)
        c->reconnect_t0_us = now;
    if (was_open) {
        FL_INC(&t->n.reconnects);
        FL_INC(&t->gs[c->group].reconnects);
        chk_tl_row *row = chk_row(&t->chk, now);
        if (row)
            row->reconnects++;
    }
    double init = g->reconnect.initial_backoff_ms ? g->reconnect.initial_backoff_ms : 100;
    double maxb = g->reconnect.max_backoff_ms ? g->reconnect.max_backoff_ms : 5000;
    double d = init * pow(2.0, c->attempt > 30 ? 30 : c->attempt);
    if (d > maxb)
        d = maxb;
    d *= 1.0 - g->reconnect.jitter * prng_uniform(&t->rng);
    if (TR(c) == FLEET_SSE && g->reconnect.honour_sse_retry && c->retry_ms)
        d = c->retry_ms;
    if (c->cut && was_open)
        d = d < 1 ? 1 : d; /* a storm: everyone comes back after their own backoff */
    if (close_action == PROTO_CLOSE_NOW)
        d = 1;
    c->cut = 0;
    c->attempt++;
    c->state = FL_C_WAIT;
    uint32_t ms = (uint32_t)(d < 1 ? 1 : d);
    arm(c, -1, 0, ms);
}

/* ---- thread ---------------------------------------------------------------------------------- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    fl_thread *t = arg;
    uint64_t now = clock_mono_us();
    if (t->tick_due_us && now > t->tick_due_us + FL_STALL_US) {
        uint64_t late = now - t->tick_due_us;
        FL_INC(&t->n.stalls);
        if (late > t->n.stall_max_us)
            FL_SET(&t->n.stall_max_us, late);
    }
    t->tick_due_us = now + FL_TICK_MS * 1000u;
    chk_tl_row *row = chk_row(&t->chk, now);
    if (row)
        row->connected = t->n.connected;
    /* slow consumers: refill their budgets, resume reading */
    for (size_t i = 0; i < t->n_clients; i++) {
        fl_client *c = t->clients[i];
        const fleet_group_cfg *g = G(c);
        if (!g->read_rate_bytes_per_s && !g->read_rate_msgs_per_s)
            continue;
        c->read_budget = g->read_rate_msgs_per_s
                             ? (g->read_rate_msgs_per_s + 9) / 10
                             : (uint32_t)((g->read_rate_bytes_per_s + 9) / 10);
        if (c->throttled && c->state == FL_C_OPEN) {
            c->throttled = 0;
            arm_open(c);
        }
    }
    /* templated client pings (ws-json ping_message): a service that
     * hangs up on a client it has not heard from sees one every interval */
    const proto_opts *po = &t->f->cfg.proto_opts;
    for (size_t i = 0; po->ping_message[0] && i < t->n_clients; i++) {
        fl_client *c = t->clients[i];
        if (c->state != FL_C_OPEN || !c->ping_due_us || now < c->ping_due_us)
            continue;
        char msg[512];
        int k = proto_render_ping(po->ping_message, ++c->ping_n, msg, sizeof msg);
        c->ping_due_us = now + (uint64_t)po->ping_interval_ms * 1000u;
        if (k < 0 || ws_send_text(c, msg, (size_t)k) < 0)
            drop(c, "ping: cannot send", 0);
    }
    if (__atomic_load_n(&t->f->heads_final, __ATOMIC_ACQUIRE)) {
        const uint64_t *fh = t->f->final_head;
        int all = 1;
        for (size_t i = 0; i < t->n_clients && all; i++) {
            fl_client *c = t->clients[i];
            if (c->state == FL_C_DEAD)
                continue;
            if (c->state != FL_C_OPEN) {
                all = 0;
                break;
            }
            for (unsigned j = 0; j < c->n_streams; j++) {
                const chk_stream *s = &c->st[j].chk;
                if (!chk_caught_up(s, fh[c->st[j].ch]) ||
                    (TR(c) == FLEET_WS && s->phase == CHK_PH_FRESH)) {
                    all = 0;
                    break;
                }
            }
        }
        FL_SET(&t->n.caught_up, (uint64_t)all);
    }
    publish_counters(t);
}

static void on_cmd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    fl_thread *t = arg;
    pthread_mutex_lock(&t->mu);
    double frac = t->cmd_cut_fraction;
    t->cmd_cut_fraction = -1;
    int stop = t->cmd_stop;
    pthread_mutex_unlock(&t->mu);
    if (frac > 0) {
        /* exactly round(frac * open) of the open clients, chosen at random */
        size_t open = 0;
        for (size_t i = 0; i < t->n_clients; i++)
            open += t->clients[i]->state == FL_C_OPEN;
        size_t want = (size_t)llround(frac * (double)open), done = 0;
        for (size_t i = 0; i < t->n_clients && done < want; i++) {
            fl_client *c = t->clients[i];
            if (c->state != FL_C_OPEN)
                continue;
            /* select want of the remaining open ones uniformly */
            size_t left_open = 0;
            for (size_t j = i; j < t->n_clients; j++)
                left_open += t->clients[j]->state == FL_C_OPEN;
            if (prng_below(&t->rng, left_open) < want - done) {
                c->cut = 1;
                drop(c, "cut by the harness", 0);
                done++;
            }
        }
        pthread_mutex_lock(&t->mu);
        t->cmd_cut_done += done;
        t->cmd_cut_gen++;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->mu);
    }
    if (stop)
        event_base_loopexit(t->base, NULL);
    publish_counters(t);
}

void fl_thread_post(fl_thread *t, double cut_fraction, int check, int stop)
{
    pthread_mutex_lock(&t->mu);
    if (cut_fraction > 0)
        t->cmd_cut_fraction = cut_fraction;
    if (check)
        t->cmd_check = 1;
    if (stop)
        t->cmd_stop = 1;
    pthread_mutex_unlock(&t->mu);
    event_active(t->cmd, EV_READ, 0);
}

int fl_thread_init(fl_thread *t, fleet *f, unsigned idx, char *err, size_t errlen)
{
    t->f = f;
    t->idx = idx;
    t->cmd_cut_fraction = -1;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cond, NULL);
    prng_seed(&t->rng, prng_derive(f->cfg.seed, 1000 + idx + 7919u * f->worker_idx));
    t->base = event_base_new();
    t->wsp = ws_pool_new(prng_derive(f->cfg.seed, 2000 + idx + 7919u * f->worker_idx));
    if (!t->base || !t->wsp) {
        snprintf(err, errlen, "fleet thread %u: out of memory", idx);
        return -1;
    }
    if (chk_ctx_init(&t->chk, f->t0_mono_us, f->cfg.anomalies_per_kind, err, errlen) < 0)
        return -1;
    t->gs = calloc(f->cfg.n_groups, sizeof *t->gs);
    if (!t->gs) {
        snprintf(err, errlen, "fleet thread %u: out of memory", idx);
        return -1;
    }
    t->tick = event_new(t->base, -1, EV_PERSIST, on_tick, t);
    t->cmd = event_new(t->base, -1, EV_PERSIST, on_cmd, t);
    if (!t->tick || !t->cmd) {
        snprintf(err, errlen, "fleet thread %u: out of memory", idx);
        return -1;
    }
    if (fl_attack_thread_init(t, err, errlen) < 0)
        return -1;
    struct timeval tv = {0, FL_TICK_MS * 1000};
    event_add(t->tick, &tv);
    t->tick_due_us = clock_mono_us() + FL_TICK_MS * 1000u;
    return 0;
}

int fl_client_add(fl_thread *t, uint32_t id, uint16_t group, const uint32_t *chs, uint16_t n_ch,
                  uint32_t start_delay_ms, char *err, size_t errlen)
{
    if (t->n_clients % 1024 == 0) {
        fl_client **n = realloc(t->clients, (t->n_clients + 1024) * sizeof *n);
        if (!n) {
            snprintf(err, errlen, "out of memory for clients");
            return -1;
        }
        t->clients = n;
    }
    fl_client *c = calloc(1, sizeof *c + n_ch * sizeof(fl_stream));
    if (!c) {
        snprintf(err, errlen, "out of memory for clients");
        return -1;
    }
    c->t = t;
    c->id = id;
    c->group = group;
    c->fd = -1;
    c->n_streams = n_ch;
    for (unsigned i = 0; i < n_ch; i++) {
        c->st[i].ch = chs[i];
        c->st[i].chk.tag = c->group;
    }
    c->state = FL_C_WAIT;
    t->clients[t->n_clients++] = c;
    arm(c, -1, 0, start_delay_ms ? start_delay_ms : 1);
    return 0;
}

void *fl_thread_main(void *arg)
{
    fl_thread *t = arg;
    event_base_dispatch(t->base);
    return NULL;
}

static int pub_floor(void *ud, uint32_t ch, int64_t t_us, uint64_t *floor)
{
    return fl_pub_floor(ud, ch, t_us, floor);
}

void fl_thread_finalize(fl_thread *t)
{
    fleet *f = t->f;
    const uint64_t *heads = f->heads_final ? f->final_head : f->acked_head;
    uint64_t now = clock_mono_us();
    int64_t grace_us = (int64_t)(f->cfg.fresh_grace_ms ? f->cfg.fresh_grace_ms : 1000) * 1000;
    for (size_t i = 0; i < t->n_clients; i++) {
        fl_client *c = t->clients[i];
        int behind = 0;
        for (unsigned j = 0; j < c->n_streams && c->state != FL_C_DEAD; j++)
            behind |= !chk_caught_up(&c->st[j].chk, heads[c->st[j].ch]);
        t->n.not_caught_up += (uint64_t)behind;
        close_conn(c);
        grp_snap gsn;
        grp_begin(t, &gsn);
        for (unsigned j = 0; j < c->n_streams; j++) {
            chk_stream *s = &c->st[j].chk;
            int64_t fw = chk_fresh_wall_us(s);
            uint64_t floor;
            if (fw && fl_pub_floor(f, c->st[j].ch, fw + grace_us, &floor))
                chk_set_floor(s, floor);
            chk_final(&t->chk, s, c->id, c->st[j].ch, heads[c->st[j].ch], now);
        }
        grp_end(t, c, &gsn, 0);
        c->state = FL_C_DEAD;
    }
    /* the group figures get what settling finds lost, as chk_final's did */
    uint64_t *lost = calloc(f->cfg.n_groups, sizeof *lost);
    chk_settle_fresh(&t->chk, pub_floor, f, grace_us, now, lost, lost ? f->cfg.n_groups : 0);
    for (size_t g = 0; lost && g < f->cfg.n_groups; g++)
        t->gs[g].kind[CHK_LOST] += lost[g];
    free(lost);
    fl_attack_thread_finalize(t);
    publish_counters(t);
}

void fl_thread_free(fl_thread *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_clients; i++) {
        fl_client *c = t->clients[i];
        close_conn(c);
        for (unsigned j = 0; j < c->n_streams; j++) {
            chk_stream_free(&c->st[j].chk);
            json_decref(c->st[j].val);
        }
        free(c->last_id);
        free(c->sess_id);
        free(c->sess_token);
        free(c);
    }
    free(t->clients);
    free(t->gs);
    fl_attack_thread_free(t);
    for (size_t i = 0; i < t->n_epochs; i++)
        free(t->epochs[i].s);
    free(t->epochs);
    if (t->tick)
        event_free(t->tick);
    if (t->cmd)
        event_free(t->cmd);
    ws_pool_free(t->wsp);
    if (t->base)
        event_base_free(t->base);
    chk_ctx_free(&t->chk);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cond);
}
