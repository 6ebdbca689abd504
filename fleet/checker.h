/* checker.h — per client-and-channel delivery checks (lost, duplicated, reordered, resync, epoch) and their tallies; pure logic, no I/O. */
#ifndef RTCHAOS_CHECKER_H
#define RTCHAOS_CHECKER_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "envelope.h"
#include "hist.h"

/*
 * One chk_stream per (client, channel) records what that subscriber has been
 * given; one chk_ctx per thread holds the tallies, histograms, timeline and
 * anomaly examples of all the streams that thread checks. Nothing here
 * touches a socket or a clock: callers pass now_mono_us (intervals, t_s) and
 * now_wall_us (latency against the envelope's `ts`).
 *
 * Rules (the names follow Jepsen's queue checkers):
 *  - within one subscription, an event must be last+1;
 *  - seq > last+1: last+1..seq-1 become "missing"; a missing seq that later
 *    arrives is `reordered`; one still missing at the end (or at a
 *    non-resuming disconnect) is `lost`, unless a snapshot or gap covered it;
 *  - seq <= last and not missing: `duplicated` (also an event already
 *    covered by a snapshot);
 *  - after a resume with since=S, the first envelope must be event S+1, a
 *    snapshot at >= S or a gap starting at S+1, else `resync_failed`; a hole
 *    while replaying (seq <= the head told at subscribe, or for SSE/poll ts
 *    older than the connection) is `resync_failed` too; a resync that
 *    reaches the head intact is `resync_ok`, and its time (reconnect start →
 *    caught up) goes into the resync histogram;
 *  - an epoch different from the one last seen on that stream is
 *    `epoch_changed`; the stream restarts from what the server says (its
 *    old holes are not counted as lost: the epoch change reports them);
 *  - at the end, chk_final reconciles each stream with the publisher's
 *    final acknowledged head: every seq up to it not received or covered is
 *    `lost`.
 * Live and replayed events go to separate latency histograms.
 */

typedef enum chk_kind {
    CHK_LOST = 0,
    CHK_DUPLICATED,
    CHK_REORDERED,
    CHK_RESYNC_FAILED,
    CHK_EPOCH_CHANGED,
    CHK_DELTA_MISMATCH, /* a rebuilt delta value differs from what was published (fleet_client.c) */
    CHK_CORRUPTED,      /* an event's data is not the data published (fleet_client.c, payload.h) */
    CHK_MISROUTED,      /* an event on a channel the client did not subscribe to (fleet_client.c) */
    CHK_TS_ALTERED,     /* an event's ts is not the one published (fleet_client.c, payload.h) */
    CHK_KINDS
} chk_kind;

const char *chk_kind_str(chk_kind k);

typedef struct chk_anomaly {
    uint64_t seq;
    uint64_t t_us;   /* since the ctx's t0 */
    uint32_t client;
    uint32_t ch;     /* channel index; the report turns it into the name */
    uint8_t kind;
} chk_anomaly;

/* Per-second timeline rows keep their live latency as counts in the coarse
 * layout of common/hist (HIST_COARSE: 32 sub-buckets per power of two,
 * within ~3%), read through hist_coarse_* and merged exactly (counts add). */
#define CHK_TL_BUCKETS HIST_COARSE_BUCKETS
typedef struct chk_tl_row {
    uint64_t published, delivered, reconnects, connected;
    uint32_t lat[CHK_TL_BUCKETS];
} chk_tl_row;

typedef struct chk_counts {
    uint64_t delivered;     /* distinct events received (live + replayed) */
    uint64_t live, replayed;
    uint64_t expected;      /* seqs the streams were accountable for (set by chk_final) */
    uint64_t kind[CHK_KINDS];
    uint64_t resync_ok;
    uint64_t snapshots, gaps;
    uint64_t missing_now;   /* holes seen so far and not (yet) filled: provisional `lost` */
} chk_counts;

/* A fresh subscription told no head, based by its first event or gap: held
 * against the publisher's floor by chk_settle_fresh. */
typedef struct chk_fresh {
    uint64_t base;
    int64_t wall_us;    /* when the subscription was sent */
    uint32_t client, ch;
    uint16_t tag;       /* the stream's tag */
} chk_fresh;

typedef struct chk_ctx {
    chk_counts n;
    hist *live, *replay, *connect, *resync;
    hist *reconnect;        /* connection lost → subscribed again (filled by the fleet) */
    uint64_t t0_mono_us;
    /* Cumulative coarse live latency for the live status line (written by
     * the owner thread with relaxed atomic stores, readable from others). */
    uint32_t *status_lat;
    uint64_t status_lat_sum_us; /* their exact sum, written the same way (live metrics' _sum) */
    chk_tl_row **rows;      /* rows[s] for second s since t0, lazily allocated */
    size_t n_rows;
    chk_anomaly *anom[CHK_KINDS];
    size_t n_anom[CHK_KINDS];
    size_t anom_cap;
    chk_fresh *fresh;       /* not yet settled (chk_settle_fresh) */
    size_t n_fresh, cap_fresh;
} chk_ctx;

/* Initializes ctx: histograms allocated, t0 set, at most anomalies_per_kind
 * examples kept per kind. Returns 0, or -1 with a message in err. Not
 * thread-safe: one ctx per thread. Free with chk_ctx_free. */
int chk_ctx_init(chk_ctx *c, uint64_t t0_mono_us, size_t anomalies_per_kind, char *err,
                 size_t errlen);
void chk_ctx_free(chk_ctx *c);

/* The timeline row of second t (since t0), allocated when first needed;
 * NULL only when out of memory or t is absurdly far (> 7 days). */
chk_tl_row *chk_row(chk_ctx *c, uint64_t now_mono_us);

/* Records an anomaly example (counted in n.kind[k] too). */
void chk_anomaly_add(chk_ctx *c, chk_kind k, uint32_t client, uint32_t ch, uint64_t seq,
                     uint64_t now_mono_us);

typedef struct chk_range {
    uint64_t from, to; /* inclusive */
} chk_range;

enum chk_phase {
    CHK_PH_IDLE = 0, /* not subscribed, not accountable */
    CHK_PH_FRESH,    /* subscribed afresh; waiting for the head (WS) or first event */
    CHK_PH_RESUME,   /* resumed with since; waiting for the first envelope */
    CHK_PH_REPLAY,   /* resync under way: replayed events until caught up */
    CHK_PH_LIVE,
    CHK_PH_DOWN,     /* connection gone, will resume: still accountable */
};

/* Per (client, channel) state; zero-initialized = idle. 88 bytes plus the
 * missing ranges (allocated only when a hole appears). */
typedef struct chk_stream {
    uint64_t last;          /* highest seq received or covered; valid once based */
    uint64_t base;          /* start of the accountable interval (seqs > base owed) */
    uint64_t replay_to;     /* head told at subscribe; 0 = unknown (SSE, poll) */
    uint64_t since;         /* resume: the since sent */
    uint64_t epoch_hash;    /* 0 = none seen yet */
    uint64_t resync_t0_us;  /* mono time the reconnect started; 0 = not a resync */
    int64_t conn_wall_us;   /* wall time this subscription started */
    uint64_t floor;         /* set by chk_set_floor */
    chk_range *missing;
    uint16_t n_missing, cap_missing;
    uint16_t tag;           /* the caller's (the fleet: the client group), kept with chk_fresh */
    uint32_t fresh_idx;     /* 1 + this accountability's entry in chk_ctx.fresh; 0 = none */
    uint8_t phase;
    uint8_t based;          /* last/base are set */
    uint8_t resync_bad;     /* the current resync already failed */
    uint8_t head_known;     /* replay_to is valid */
    uint8_t floor_known;
} chk_stream;

/* Hash of an epoch string for chk_stream.epoch_hash (never 0 for a
 * non-empty string; 0 for ""). */
uint64_t chk_epoch_hash(const char *epoch, size_t len);

/* The client sent a subscribe (WS sub, SSE GET, first poll). resume: it
 * asked for since (WS/poll: `since`; SSE: Last-Event-ID encoding it), which
 * must be the stream's last. reconnect_t0_us: mono time the reconnect began
 * (0 on the first connect: no resync is measured). */
void chk_on_subscribe(chk_ctx *c, chk_stream *s, int resume, uint64_t reconnect_t0_us,
                      int64_t now_wall_us);

/* WS `subscribed` reply: head, epoch ("" when absent), recovered (-1 absent). */
void chk_on_subscribed(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, uint64_t head,
                       const char *epoch, int recovered, uint64_t now_mono_us);

/* An event, snapshot or gap envelope for this stream (other types are
 * ignored). Returns 1 when it was a duplicate (so transports that de-dup
 * can tell), else 0. */
int chk_on_envelope(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, const envelope *e,
                    uint64_t now_mono_us, int64_t now_wall_us);

/* The connection carrying this stream ended. will_resume: the client will
 * reconnect with since (the stream stays accountable); otherwise its
 * accountability ends at what it has (holes already seen stay counted). */
void chk_on_disconnect(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, int will_resume,
                       uint64_t now_mono_us);

/* Whether the stream needs nothing more to reach final_head. */
int chk_caught_up(const chk_stream *s, uint64_t final_head);

/* A subscription that is told no head (SSE or poll against a server that
 * sends no `subscribed`) learns its base from its first event, so a server
 * that loses the first events of a fresh subscription, or never sends it
 * anything, would go unseen. The publisher knows better: an event it
 * stamped (`ts`) later than the subscription's start plus a grace for the
 * server to take it in is owed whatever the first event says.
 *
 * Every head-less fresh subscription based by its first event or gap (not
 * a snapshot: that covers what came before) is remembered in the ctx with
 * its start and base, whatever became of it later; once the run is over
 * chk_settle_fresh asks fn for the floor at start + grace_us (the highest
 * seq not owed: every later one was stamped after that time) and counts
 * floor+1 .. base as lost where the floor is lower (unless a snapshot of
 * the same accountability covered them, or an epoch change forgot the old
 * stream's holes, as for any hole), and adds them to
 * lost_by_tag[tag] too when the tag is below ntags (so a caller can keep
 * per-group figures). fn returns 0 when it cannot tell, and that
 * subscription is left alone.
 *
 * A head-less fresh subscription still waiting for anything at the end is
 * chk_final's: chk_fresh_wall_us gives its start (0 for any other stream)
 * and chk_set_floor the floor, and floor+1 .. the final head are lost. */
typedef int (*chk_floor_fn)(void *ud, uint32_t ch, int64_t t_us, uint64_t *floor);
void chk_settle_fresh(chk_ctx *c, chk_floor_fn fn, void *ud, int64_t grace_us, uint64_t now_mono_us,
                      uint64_t *lost_by_tag, size_t ntags);
int64_t chk_fresh_wall_us(const chk_stream *s);
void chk_set_floor(chk_stream *s, uint64_t floor);

/* End-of-run reconciliation against the publisher's final acknowledged head
 * of the stream's channel: every owed seq up to it that was neither
 * received nor covered is `lost`; adds the stream's accountable count to
 * n.expected; frees the stream's ranges and leaves it idle. Call once per
 * stream. */
void chk_final(chk_ctx *c, chk_stream *s, uint32_t client, uint32_t ch, uint64_t final_head,
               uint64_t now_mono_us);

/* Releases what the stream owns (its missing ranges) without counting. */
void chk_stream_free(chk_stream *s);

/* Merges src's tallies, histograms, rows and anomalies into dst (keeps the
 * earliest anomaly examples, bounded by dst's cap). */
int chk_ctx_merge(chk_ctx *dst, const chk_ctx *src, char *err, size_t errlen);

#endif
