/* checker.c — per client-and-channel delivery checks and their tallies (see checker.h for the rules). */
#include "checker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHK_MISSING_MAX 65535u /* ranges per stream; beyond, the oldest is declared lost at once */
#define CHK_ROWS_MAX (7u * 24 * 3600)

static const char *const kind_names[CHK_KINDS] = {
    "lost", "duplicated", "reordered", "resync_failed", "epoch_changed", "delta_mismatch", "corrupted",
    "misrouted", "ts_altered",
};

const char *chk_kind_str(chk_kind k)
{
    return k < CHK_KINDS ? kind_names[k] : "unknown";
}

/* ---- ctx ---------------------------------------------------------------- */

int chk_ctx_init(chk_ctx *c, uint64_t t0_mono_us, size_t anomalies_per_kind, char *err,
                 size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->t0_mono_us = t0_mono_us;
    c->anom_cap = anomalies_per_kind ? anomalies_per_kind : 200;
    c->live = hist_new();
    c->replay = hist_new();
    c->connect = hist_new();
    c->resync = hist_new();
    c->reconnect = hist_new();
    c->status_lat = calloc(CHK_TL_BUCKETS, sizeof *c->status_lat);
    for (int k = 0; k < CHK_KINDS; k++)
        c->anom[k] = calloc(c->anom_cap, sizeof(chk_anomaly));
    int ok = c->live && c->replay && c->connect && c->resync && c->reconnect && c->status_lat;
    for (int k = 0; k < CHK_KINDS; k++)
        ok = ok && c->anom[k];
    if (!ok) {
        chk_ctx_free(c);
        snprintf(err, errlen, "checker: out of memory");
        return -1;
    }
    return 0;
}

void chk_ctx_free(chk_ctx *c)
{
    hist_free(c->live);
    hist_free(c->replay);
    hist_free(c->connect);
    hist_free(c->resync);
    hist_free(c->reconnect);
    free(c->status_lat);
    for (size_t i = 0; i < c->n_rows; i++)
        free(c->rows[i]);
    free(c->rows);
    free(c->fresh);
    for (int k = 0; k < CHK_KINDS; k++)
        free(c->anom[k]);
    memset(c, 0, sizeof *c);
}

chk_tl_row *chk_row(chk_ctx *c, uint64_t now)
{
    uint64_t t = now > c->t0_mono_us ? (now - c->t0_mono_us) / 1000000u : 0;
    if (t >= CHK_ROWS_MAX)
        return NULL;
    if (t >= c->n_rows) {
        size_t n = c->n_rows ? c->n_rows : 64;
        while (n <= t)
            n *= 2;
        chk_tl_row **r = realloc(c->rows, n * sizeof *r);
        if (!r)
            return NULL;
        memset(r + c->n_rows, 0, (n - c->n_rows) * sizeof *r);
        c->rows = r;
        c->n_rows = n;
    }
    if (!c->rows[t])
        c->rows[t] = calloc(1, sizeof(chk_tl_row));
    return c->rows[t];
}

void chk_anomaly_add(chk_ctx *c, chk_kind k, uint32_t client, uint32_t ch, uint64_t seq,
                     uint64_t now)
{
    c->n.kind[k]++;
    if (c->n_anom[k] < c->anom_cap) {
        chk_anomaly *a = &c->anom[k][c->n_anom[k]++];
        a->kind = (uint8_t)k;
        a->client = client;
        a->ch = ch;
        a->seq = seq;
        a->t_us = now > c->t0_mono_us ? now - c->t0_mono_us : 0;
    }
}

uint64_t chk_epoch_hash(const char *epoch, size_t len)
{
    if (!epoch || len == 0)
        return 0;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)epoch[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

/* ---- missing ranges -------------------------------------------------------- */

static void add_lost(chk_ctx *c, uint32_t client, uint32_t ch, uint64_t from, uint64_t to,
                     uint64_t now)
{
    uint64_t n = to - from + 1;
    if (c->n_anom[CHK_LOST] < c->anom_cap)
        chk_anomaly_add(c, CHK_LOST, client, ch, from, now);
    else
        c->n.kind[CHK_LOST]++;
    c->n.kind[CHK_LOST] += n - 1;
}

/* Remembers a head-less fresh subscription for chk_settle_fresh. Bounded:
 * past CHK_FRESH_MAX the rest go unchecked (never counted wrongly). */
#define CHK_FRESH_MAX (1u << 22)
/* Returns 1 + the entry's index, or 0 when it was not kept. */
static uint32_t fresh_add(chk_ctx *c, uint32_t client, uint32_t ch, uint16_t tag, int64_t wall_us, uint64_t base)
{
    if (c->n_fresh == c->cap_fresh) {
        if (c->cap_fresh >= CHK_FRESH_MAX)
            return 0;
        size_t cap = c->cap_fresh ? c->cap_fresh * 2 : 64;
        chk_fresh *f = realloc(c->fresh, cap * sizeof *f);
        if (!f)
            return 0;
        c->fresh = f;
        c->cap_fresh = cap;
    }
    c->fresh[c->n_fresh++] = (chk_fresh){.base = base, .wall_us = wall_us, .client = client, .ch = ch, .tag = tag};
    return (uint32_t)c->n_fresh;
}

/* The stream's fresh entry no longer owes what came before its first
 * event (a snapshot covered it, or an epoch change forgot it). */
static void fresh_cancel(chk_ctx *c, chk_stream *s)
{
    if (s->fresh_idx && s->fresh_idx <= c->n_fresh)
        c->fresh[s->fresh_idx - 1].base = 0; /* no floor is below 0 */
    s->fresh_idx = 0;
}

/* Appends from..to (all above every existing range) to the missing set. */
static void missing_add(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, uint64_t from,
                        uint64_t to, uint64_t now)
{
    if (from > to)
        return;
    if (s->n_missing == s->cap_missing) {
        if (s->cap_missing >= CHK_MISSING_MAX) {
            /* Bounded memory: the oldest hole is declared lost now; should
             * it arrive later it counts as duplicated. */
            chk_range *o = &s->missing[0];
            add_lost(c, client, ch, o->from, o->to, now);
            c->n.missing_now -= o->to - o->from + 1;
            memmove(s->missing, s->missing + 1, (s->n_missing - 1u) * sizeof *s->missing);
            s->n_missing--;
        } else {
            unsigned cap = s->cap_missing ? s->cap_missing * 2u : 4u;
            if (cap > CHK_MISSING_MAX)
                cap = CHK_MISSING_MAX;
            chk_range *r = realloc(s->missing, cap * sizeof *r);
            if (!r) { /* out of memory: count it lost at once rather than forget it */
                add_lost(c, client, ch, from, to, now);
                return;
            }
            s->missing = r;
            s->cap_missing = (uint16_t)cap;
        }
    }
    s->missing[s->n_missing].from = from;
    s->missing[s->n_missing].to = to;
    s->n_missing++;
    c->n.missing_now += to - from + 1;
}

/* Removes seq from the missing set; returns 1 if it was there. */
static int missing_take(chk_ctx *c, chk_stream *s, uint64_t seq)
{
    for (unsigned i = 0; i < s->n_missing; i++) {
        chk_range *r = &s->missing[i];
        if (seq < r->from || seq > r->to)
            continue;
        c->n.missing_now--;
        if (r->from == r->to) {
            memmove(r, r + 1, (s->n_missing - i - 1u) * sizeof *r);
            s->n_missing--;
        } else if (seq == r->from) {
            r->from++;
        } else if (seq == r->to) {
            r->to--;
        } else if (s->n_missing < s->cap_missing || s->cap_missing < CHK_MISSING_MAX) {
            /* split r into two */
            if (s->n_missing == s->cap_missing) {
                unsigned cap = s->cap_missing * 2u;
                if (cap > CHK_MISSING_MAX)
                    cap = CHK_MISSING_MAX;
                chk_range *nr = realloc(s->missing, cap * sizeof *nr);
                if (!nr) { /* cannot split: forgive the other side's ordering, keep the lower part */
                    c->n.missing_now -= r->to - seq;
                    r->to = seq - 1;
                    return 1;
                }
                s->missing = nr;
                s->cap_missing = (uint16_t)cap;
                r = &s->missing[i];
            }
            memmove(r + 1, r, (s->n_missing - i) * sizeof *r);
            s->n_missing++;
            r[0].to = seq - 1;
            r[1].from = seq + 1;
        } else {
            c->n.missing_now -= r->to - seq;
            r->to = seq - 1;
        }
        return 1;
    }
    return 0;
}

/* A snapshot or gap covers from..to: those holes are forgiven. */
static void missing_cover(chk_ctx *c, chk_stream *s, uint64_t from, uint64_t to)
{
    /* Ranges are sorted and disjoint, so at most one range strictly
     * contains from..to and must be split in two. */
    for (unsigned i = 0; i < s->n_missing; i++) {
        chk_range *r = &s->missing[i];
        if (!(r->from < from && r->to > to))
            continue;
        c->n.missing_now -= to - from + 1;
        if (s->n_missing == s->cap_missing) {
            unsigned cap = s->cap_missing < CHK_MISSING_MAX / 2 ? s->cap_missing * 2u
                                                                : CHK_MISSING_MAX;
            chk_range *nr = cap > s->cap_missing ? realloc(s->missing, cap * sizeof *nr) : NULL;
            if (!nr) { /* no room to split: forgive the upper part too */
                c->n.missing_now -= r->to - to;
                r->to = from - 1;
                return;
            }
            s->missing = nr;
            s->cap_missing = (uint16_t)cap;
            r = &s->missing[i];
        }
        memmove(r + 1, r, (s->n_missing - i) * sizeof *r);
        s->n_missing++;
        r[0].to = from - 1;
        r[1].from = to + 1;
        return;
    }
    unsigned w = 0;
    for (unsigned i = 0; i < s->n_missing; i++) {
        chk_range r = s->missing[i];
        if (r.to < from || r.from > to) {
            s->missing[w++] = r;
            continue;
        }
        uint64_t lo = r.from > from ? r.from : from, hi = r.to < to ? r.to : to;
        c->n.missing_now -= hi - lo + 1;
        if (r.from < from)
            s->missing[w++] = (chk_range){r.from, from - 1};
        else if (r.to > to)
            s->missing[w++] = (chk_range){to + 1, r.to};
    }
    s->n_missing = (uint16_t)w;
}

static void missing_forget(chk_ctx *c, chk_stream *s)
{
    for (unsigned i = 0; i < s->n_missing; i++)
        c->n.missing_now -= s->missing[i].to - s->missing[i].from + 1;
    s->n_missing = 0;
}

static void missing_declare_lost(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch,
                                 uint64_t now)
{
    for (unsigned i = 0; i < s->n_missing; i++)
        add_lost(c, client, ch, s->missing[i].from, s->missing[i].to, now);
    missing_forget(c, s);
}

/* ---- stream rules ---------------------------------------------------------- */

static void close_interval(chk_ctx *c, chk_stream *s)
{
    if (s->based && s->last > s->base)
        c->n.expected += s->last - s->base;
    s->base = s->last;
    s->fresh_idx = 0; /* a later snapshot does not cover the ended accountability's entry */
}

static void set_epoch(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, const char *epoch,
                      uint64_t seq, uint64_t now, int *changed)
{
    uint64_t h = chk_epoch_hash(epoch, epoch ? strlen(epoch) : 0);
    *changed = 0;
    if (h == 0)
        return;
    if (s->epoch_hash && s->epoch_hash != h) {
        chk_anomaly_add(c, CHK_EPOCH_CHANGED, client, ch, seq, now);
        *changed = 1;
        /* A new stream: the old one's holes are the epoch change's fault,
         * and its accountability ends here. */
        fresh_cancel(c, s); /* the old stream's holes are the epoch change's */
        close_interval(c, s);
        missing_forget(c, s);
        s->based = 0;
    }
    s->epoch_hash = h;
}

static void resync_done(chk_ctx *c, chk_stream *s, uint64_t now)
{
    if (!s->resync_bad)
        c->n.resync_ok++;
    if (s->resync_t0_us && now >= s->resync_t0_us)
        hist_record(c->resync, now - s->resync_t0_us);
    s->resync_t0_us = 0;
    s->resync_bad = 0;
    s->phase = CHK_PH_LIVE;
}

static void resync_fail(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, uint64_t seq,
                        uint64_t now)
{
    if (!s->resync_bad)
        chk_anomaly_add(c, CHK_RESYNC_FAILED, client, ch, seq, now);
    s->resync_bad = 1;
}

void chk_on_subscribe(chk_ctx *c, chk_stream *s, int resume, uint64_t reconnect_t0_us,
                      int64_t now_wall_us)
{
    (void)c;
    s->conn_wall_us = now_wall_us;
    s->head_known = 0;
    s->replay_to = 0;
    s->resync_bad = 0;
    if (resume && s->based) {
        s->since = s->last;
        s->phase = CHK_PH_RESUME;
        s->resync_t0_us = reconnect_t0_us;
    } else {
        /* Fresh: the previous subscription's accountability ended at its
         * disconnect; the new one is based on the head or first event. */
        if (s->based)
            close_interval(c, s);
        s->based = 0;
        s->phase = CHK_PH_FRESH;
        s->resync_t0_us = 0;
    }
}

void chk_on_subscribed(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, uint64_t head,
                       const char *epoch, int recovered, uint64_t now)
{
    int changed;
    set_epoch(c, s, client, ch, epoch, head, now, &changed);
    (void)recovered;
    if (s->phase == CHK_PH_FRESH || !s->based) {
        s->last = s->base = head;
        s->based = 1;
        s->phase = CHK_PH_LIVE;
        if (changed && s->resync_t0_us) /* a resume answered on a new stream */
            s->resync_t0_us = 0;
        return;
    }
    if (s->phase != CHK_PH_RESUME)
        return; /* a repeated reply: nothing new to learn */
    s->replay_to = head;
    s->head_known = 1;
    if (head < s->since) {
        /* The server has less than the client already saw, in the same
         * epoch: history was lost without the epoch saying so. */
        resync_fail(c, s, client, ch, head, now);
        return;
    }
    if (head == s->since && recovered != 0) {
        resync_done(c, s, now); /* nothing was missed */
        return;
    }
}

/* Classifies and records a delivered (not duplicate) event's latency. */
static void record_delivery(chk_ctx *c, chk_stream *s, const envelope *e, int replay, uint64_t now,
                            int64_t now_wall_us)
{
    uint64_t lat = 0;
    if (e->ts_us > 0 && now_wall_us > e->ts_us)
        lat = (uint64_t)(now_wall_us - e->ts_us);
    c->n.delivered++;
    chk_tl_row *row = chk_row(c, now);
    if (row)
        row->delivered++;
    if (replay) {
        c->n.replayed++;
        hist_record(c->replay, lat);
        return;
    }
    c->n.live++;
    hist_record(c->live, lat);
    unsigned b = hist_coarse_index(lat);
    if (row)
        row->lat[b]++;
    __atomic_store_n(&c->status_lat[b], c->status_lat[b] + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&c->status_lat_sum_us, c->status_lat_sum_us + lat, __ATOMIC_RELAXED);
    (void)s;
}

static int is_replay(const chk_stream *s, const envelope *e)
{
    if (s->head_known)
        return e->seq <= s->replay_to;
    return s->phase == CHK_PH_RESUME || s->phase == CHK_PH_REPLAY
               ? (e->ts_us > 0 && e->ts_us < s->conn_wall_us)
               : 0;
}

/* After a good envelope during a resync: caught up yet? */
static void resync_progress(chk_ctx *c, chk_stream *s, const envelope *e, uint64_t now)
{
    if (s->phase != CHK_PH_REPLAY)
        return;
    if (s->head_known ? s->last >= s->replay_to : !(e->ts_us > 0 && e->ts_us < s->conn_wall_us))
        resync_done(c, s, now);
}

int chk_on_envelope(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, const envelope *e,
                    uint64_t now, int64_t now_wall_us)
{
    if (e->type != ENV_T_EVENT && e->type != ENV_T_SNAPSHOT && e->type != ENV_T_GAP)
        return 0;
    if (s->phase == CHK_PH_IDLE || s->phase == CHK_PH_DOWN)
        return 0; /* nothing subscribed: not ours to judge */
    int changed = 0;
    if (e->epoch[0])
        set_epoch(c, s, client, ch, e->epoch, e->seq, now, &changed);

    uint64_t lo, hi; /* seqs this envelope accounts for */
    if (e->type == ENV_T_GAP) {
        lo = e->gap_from;
        hi = e->gap_to;
        if (hi < lo)
            hi = lo;
    } else {
        lo = hi = e->seq;
    }

    if (!s->based) {
        /* First envelope of a fresh subscription without a told head (SSE,
         * poll) or of a new epoch: it sets the base. */
        s->based = 1;
        s->base = s->last = (e->type == ENV_T_SNAPSHOT) ? e->seq : lo - 1;
        /* a snapshot covers what came before it; an event or gap does not */
        if (s->phase == CHK_PH_FRESH && !changed && e->type != ENV_T_SNAPSHOT)
            s->fresh_idx = fresh_add(c, client, ch, s->tag, s->conn_wall_us, s->base);
        if (changed) { /* the epoch change is this resync's outcome */
            s->resync_t0_us = 0;
            s->resync_bad = 0;
        }
        s->phase = CHK_PH_LIVE;
    }

    if (s->phase == CHK_PH_RESUME) {
        uint64_t S = s->since;
        int ok = (e->type == ENV_T_EVENT && e->seq == S + 1) ||
                 (e->type == ENV_T_SNAPSHOT && e->seq >= S) ||
                 (e->type == ENV_T_GAP && lo == S + 1);
        s->phase = CHK_PH_REPLAY;
        if (!ok) {
            resync_fail(c, s, client, ch, e->seq, now);
            if (e->type == ENV_T_EVENT && e->seq <= S) {
                /* the replay began at or before what the client had: the
                 * resync failure is the anomaly, not a duplicate */
                return 0;
            }
        }
    } else if (s->phase == CHK_PH_FRESH) {
        s->phase = CHK_PH_LIVE;
    }

    if (e->type == ENV_T_SNAPSHOT) {
        c->n.snapshots++;
        if (e->seq < s->last && !changed) {
            /* state older than what the client already has */
            chk_anomaly_add(c, CHK_REORDERED, client, ch, e->seq, now);
            return 0;
        }
        missing_cover(c, s, 0, e->seq);
        if (s->fresh_idx)
            fresh_cancel(c, s); /* state as of e->seq: what came before the first event too */
        s->last = e->seq;
        resync_progress(c, s, e, now);
        return 0;
    }

    if (e->type == ENV_T_GAP) {
        c->n.gaps++;
        if (lo > s->last + 1) {
            if (s->phase == CHK_PH_REPLAY && s->head_known && lo <= s->replay_to + 1)
                resync_fail(c, s, client, ch, s->last + 1, now);
            missing_add(c, s, client, ch, s->last + 1, lo - 1, now);
        }
        missing_cover(c, s, lo, hi);
        if (hi > s->last)
            s->last = hi;
        resync_progress(c, s, e, now);
        return 0;
    }

    /* an event */
    uint64_t n = e->seq;
    int replay = is_replay(s, e);
    if (n == s->last + 1) {
        s->last = n;
    } else if (n > s->last + 1) {
        if (s->phase == CHK_PH_REPLAY)
            resync_fail(c, s, client, ch, s->last + 1, now);
        missing_add(c, s, client, ch, s->last + 1, n - 1, now);
        s->last = n;
    } else if (missing_take(c, s, n)) {
        chk_anomaly_add(c, CHK_REORDERED, client, ch, n, now);
    } else {
        chk_anomaly_add(c, CHK_DUPLICATED, client, ch, n, now);
        return 1;
    }
    record_delivery(c, s, e, replay, now, now_wall_us);
    resync_progress(c, s, e, now);
    return 0;
}

void chk_on_disconnect(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, int will_resume,
                       uint64_t now)
{
    if (s->phase == CHK_PH_IDLE)
        return;
    if (s->phase == CHK_PH_DOWN) {
        if (will_resume)
            return; /* another failed attempt: still accountable */
        /* the client gave up: its accountability ends where it was */
        close_interval(c, s);
        missing_declare_lost(c, s, client, ch, now);
        s->phase = CHK_PH_IDLE;
        return;
    }
    if (s->phase == CHK_PH_REPLAY || s->phase == CHK_PH_RESUME) {
        /* reconnect during a replay: this resync ends unfinished; the next
         * one starts from what the client has */
        s->resync_t0_us = 0;
        s->resync_bad = 0;
    }
    if (will_resume && s->based) {
        s->phase = CHK_PH_DOWN;
        return;
    }
    close_interval(c, s);
    missing_declare_lost(c, s, client, ch, now);
    s->phase = CHK_PH_IDLE;
}

int chk_caught_up(const chk_stream *s, uint64_t final_head)
{
    if (s->phase == CHK_PH_IDLE)
        return 1;
    if (s->phase == CHK_PH_DOWN || s->phase == CHK_PH_RESUME)
        return 0;
    if (!s->based)
        return 1; /* no head told and nothing received: nothing we can call owed */
    return s->last >= final_head;
}

int64_t chk_fresh_wall_us(const chk_stream *s)
{
    return s->phase == CHK_PH_FRESH && !s->based ? s->conn_wall_us : 0;
}

void chk_settle_fresh(chk_ctx *c, chk_floor_fn fn, void *ud, int64_t grace_us, uint64_t now,
                      uint64_t *lost_by_tag, size_t ntags)
{
    for (size_t i = 0; i < c->n_fresh; i++) {
        const chk_fresh *r = &c->fresh[i];
        uint64_t floor;
        if (fn(ud, r->ch, r->wall_us + grace_us, &floor) && floor < r->base) {
            /* the first event came later than what was owed */
            add_lost(c, r->client, r->ch, floor + 1, r->base, now);
            c->n.expected += r->base - floor;
            if (lost_by_tag && r->tag < ntags)
                lost_by_tag[r->tag] += r->base - floor;
        }
    }
    c->n_fresh = 0;
}

void chk_set_floor(chk_stream *s, uint64_t floor)
{
    s->floor = floor;
    s->floor_known = 1;
}

void chk_final(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, uint64_t final_head,
               uint64_t now)
{
    if (s->floor_known && chk_fresh_wall_us(s)) {
        /* nothing came, yet the publisher stamped events after the
         * subscription had surely taken effect: all of them are owed */
        s->based = 1;
        s->base = s->last = s->floor < final_head ? s->floor : final_head;
    }
    if (s->phase != CHK_PH_IDLE) {
        if (!s->based) {
            /* subscribed, never told a head nor sent anything: owed nothing
             * we can name (a fresh SSE/poll subscriber on a quiet channel,
             * or no publisher floor to hold it to) */
        } else {
            if (final_head > s->last) {
                add_lost(c, client, ch, s->last + 1, final_head, now);
                c->n.expected += final_head - s->last;
            }
            close_interval(c, s);
            if (s->phase == CHK_PH_REPLAY && !s->resync_bad && s->last >= final_head)
                c->n.resync_ok++; /* caught up as the run ended */
        }
        missing_declare_lost(c, s, client, ch, now);
    }
    chk_stream_free(s);
    memset(s, 0, sizeof *s);
}

void chk_stream_free(chk_stream *s)
{
    free(s->missing);
    s->missing = NULL;
    s->n_missing = s->cap_missing = 0;
}

static int anom_cmp(const void *a, const void *b)
{
    const chk_anomaly *x = a, *y = b;
    return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

int chk_ctx_merge(chk_ctx *dst, const chk_ctx *src, char *err, size_t errlen)
{
    dst->n.delivered += src->n.delivered;
    dst->n.live += src->n.live;
    dst->n.replayed += src->n.replayed;
    dst->n.expected += src->n.expected;
    for (int k = 0; k < CHK_KINDS; k++)
        dst->n.kind[k] += src->n.kind[k];
    dst->n.resync_ok += src->n.resync_ok;
    dst->n.snapshots += src->n.snapshots;
    dst->n.gaps += src->n.gaps;
    dst->n.missing_now += src->n.missing_now;
    for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
        dst->status_lat[b] += src->status_lat[b];
    dst->status_lat_sum_us += src->status_lat_sum_us;
    hist_merge(dst->live, src->live);
    hist_merge(dst->replay, src->replay);
    hist_merge(dst->connect, src->connect);
    hist_merge(dst->resync, src->resync);
    hist_merge(dst->reconnect, src->reconnect);
    for (size_t t = 0; t < src->n_rows; t++) {
        const chk_tl_row *r = src->rows[t];
        if (!r)
            continue;
        chk_tl_row *d = chk_row(dst, dst->t0_mono_us + t * 1000000u);
        if (!d) {
            snprintf(err, errlen, "checker: out of memory merging the timeline");
            return -1;
        }
        d->published += r->published;
        d->delivered += r->delivered;
        d->reconnects += r->reconnects;
        d->connected += r->connected;
        for (unsigned i = 0; i < CHK_TL_BUCKETS; i++)
            d->lat[i] += r->lat[i];
    }
    for (int k = 0; k < CHK_KINDS; k++) {
        size_t room = dst->anom_cap - dst->n_anom[k];
        size_t take = src->n_anom[k] < room ? src->n_anom[k] : room;
        memcpy(dst->anom[k] + dst->n_anom[k], src->anom[k], take * sizeof(chk_anomaly));
        dst->n_anom[k] += take;
        qsort(dst->anom[k], dst->n_anom[k], sizeof(chk_anomaly), anom_cmp);
    }
    for (size_t i = 0; i < src->n_fresh; i++) /* still to be settled */
        if (src->fresh[i].base) /* not cancelled */
            fresh_add(dst, src->fresh[i].client, src->fresh[i].ch, src->fresh[i].tag, src->fresh[i].wall_us,
                      src->fresh[i].base);
    return 0;
}
