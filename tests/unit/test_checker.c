/* test_checker.c — every checker rule and boundary: order, loss, duplicates, reorder, snapshots, gaps, resync, epochs, reconciliation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"

#define T0 1000000000ULL
#define WALL0 1764400000000000LL

typedef struct fx {
    chk_ctx c;
    chk_stream s;
    uint64_t now;   /* mono */
    int64_t wall;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char err[128];
    assert_int_equal(chk_ctx_init(&f->c, T0, 50, err, sizeof err), 0);
    f->now = T0 + 1000;
    f->wall = WALL0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    chk_stream_free(&f->s);
    chk_ctx_free(&f->c);
    free(f);
    return 0;
}

static void tick(fx *f, uint64_t us)
{
    f->now += us;
    f->wall += (int64_t)us;
}

static int feed(fx *f, env_type t, uint64_t seq, int64_t ts, const char *epoch)
{
    envelope e;
    memset(&e, 0, sizeof e);
    e.type = t;
    strcpy(e.ch, "a");
    e.seq = seq;
    e.has_seq = 1;
    e.ts_us = ts;
    if (epoch)
        snprintf(e.epoch, sizeof e.epoch, "%s", epoch);
    e.recovered = -1;
    tick(f, 100);
    return chk_on_envelope(&f->c, &f->s, 7, 0, &e, f->now, f->wall);
}

/* a live event published 50 µs ago */
static int ev(fx *f, uint64_t seq) { return feed(f, ENV_T_EVENT, seq, f->wall + 100 - 50, NULL); }
static void snap(fx *f, uint64_t seq, const char *epoch) { feed(f, ENV_T_SNAPSHOT, seq, f->wall, epoch); }

static void gap(fx *f, uint64_t from, uint64_t to)
{
    envelope e;
    memset(&e, 0, sizeof e);
    e.type = ENV_T_GAP;
    e.seq = to;
    e.gap_from = from;
    e.gap_to = to;
    e.ts_us = f->wall;
    tick(f, 100);
    chk_on_envelope(&f->c, &f->s, 7, 0, &e, f->now, f->wall);
}

static void sub_fresh(fx *f, uint64_t head, const char *epoch)
{
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    tick(f, 100);
    chk_on_subscribed(&f->c, &f->s, 7, 0, head, epoch ? epoch : "", -1, f->now);
}

/* disconnect (resuming), reconnect at once, resubscribe with since=last */
static void resume(fx *f, uint64_t head, const char *epoch, int recovered)
{
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now);
    tick(f, 1000);
    uint64_t t0 = f->now;
    tick(f, 1000);
    chk_on_subscribe(&f->c, &f->s, 1, t0, f->wall);
    tick(f, 100);
    chk_on_subscribed(&f->c, &f->s, 7, 0, head, epoch ? epoch : "", recovered, f->now);
}

static void final(fx *f, uint64_t head) { chk_final(&f->c, &f->s, 7, 0, head, f->now); }

#define N(f, k) ((f)->c.n.kind[k])

static void assert_clean(fx *f)
{
    for (int k = 0; k < CHK_KINDS; k++) {
        if (N(f, k) != 0)
            fail_msg("anomaly %s = %llu", chk_kind_str((chk_kind)k), (unsigned long long)N(f, k));
    }
}

static void test_checker_in_order_is_clean(void **state)
{
    fx *f = *state;
    sub_fresh(f, 10, "e1");
    for (uint64_t s = 11; s <= 20; s++)
        ev(f, s);
    final(f, 20);
    assert_clean(f);
    assert_int_equal(f->c.n.delivered, 10);
    assert_int_equal(f->c.n.live, 10);
    assert_int_equal(f->c.n.replayed, 0);
    assert_int_equal(f->c.n.expected, 10);
    assert_int_equal(hist_count(f->c.live), 10);
    assert_int_equal(hist_max(f->c.live), 50);
}

static void test_checker_duplicate_live_event(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    ev(f, 2);
    assert_int_equal(ev(f, 2), 1);
    ev(f, 3);
    assert_int_equal(ev(f, 1), 1);
    final(f, 3);
    assert_int_equal(N(f, CHK_DUPLICATED), 2);
    assert_int_equal(N(f, CHK_LOST), 0);
    assert_int_equal(N(f, CHK_REORDERED), 0);
    assert_int_equal(f->c.n.delivered, 3);
    assert_int_equal(f->c.n_anom[CHK_DUPLICATED], 2);
    assert_int_equal(f->c.anom[CHK_DUPLICATED][0].seq, 2);
    assert_int_equal(f->c.anom[CHK_DUPLICATED][0].client, 7);
}

static void test_checker_hole_never_filled_is_lost(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    ev(f, 5);
    ev(f, 6);
    assert_int_equal(f->c.n.missing_now, 3);
    assert_int_equal(N(f, CHK_LOST), 0); /* provisional until the end */
    final(f, 6);
    assert_int_equal(N(f, CHK_LOST), 3);
    assert_int_equal(f->c.n.missing_now, 0);
    assert_int_equal(f->c.anom[CHK_LOST][0].seq, 2);
    assert_int_equal(N(f, CHK_REORDERED), 0);
}

static void test_checker_late_arrival_is_reordered_not_lost(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    ev(f, 3);
    ev(f, 2);
    ev(f, 4);
    final(f, 4);
    assert_int_equal(N(f, CHK_REORDERED), 1);
    assert_int_equal(N(f, CHK_LOST), 0);
    assert_int_equal(N(f, CHK_DUPLICATED), 0);
    assert_int_equal(f->c.n.delivered, 4);
}

static void test_checker_late_arrival_inside_hole_splits_it(void **state)
{
    fx *f = *state;
    sub_fresh(f, 1, NULL);
    ev(f, 2);
    ev(f, 10); /* hole 3..9 */
    ev(f, 5);
    ev(f, 3);
    ev(f, 9);
    ev(f, 5); /* now a duplicate */
    final(f, 10);
    assert_int_equal(N(f, CHK_REORDERED), 3);
    assert_int_equal(N(f, CHK_DUPLICATED), 1);
    assert_int_equal(N(f, CHK_LOST), 4); /* 4, 6, 7, 8 */
}

static void test_checker_loss_at_end_found_by_reconciliation(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 5; s++)
        ev(f, s);
    assert_int_equal(chk_caught_up(&f->s, 5), 1);
    assert_int_equal(chk_caught_up(&f->s, 8), 0);
    final(f, 8);
    assert_int_equal(N(f, CHK_LOST), 3);
    assert_int_equal(f->c.anom[CHK_LOST][0].seq, 6);
    assert_int_equal(f->c.n.expected, 8);
}

static void test_checker_snapshot_mid_stream_covers_hole(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, "e1");
    ev(f, 1);
    ev(f, 2);
    ev(f, 6); /* hole 3..5 */
    snap(f, 9, "e1");
    ev(f, 10);
    final(f, 10);
    assert_clean(f);
    assert_int_equal(f->c.n.snapshots, 1);
    assert_int_equal(f->c.n.missing_now, 0);
}

static void test_checker_event_already_in_snapshot_is_duplicated(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    snap(f, 5, NULL);
    ev(f, 4);
    ev(f, 6);
    final(f, 6);
    assert_int_equal(N(f, CHK_DUPLICATED), 1);
    assert_int_equal(N(f, CHK_LOST), 0);
}

static void test_checker_stale_snapshot_is_reordered(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 5; s++)
        ev(f, s);
    snap(f, 3, NULL);
    ev(f, 6);
    final(f, 6);
    assert_int_equal(N(f, CHK_REORDERED), 1);
    assert_int_equal(N(f, CHK_DUPLICATED), 0);
}

static void test_checker_gap_covers_declared_range(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    gap(f, 2, 4);
    ev(f, 5);
    final(f, 5);
    assert_clean(f);
    assert_int_equal(f->c.n.gaps, 1);
    assert_int_equal(f->c.n.delivered, 2);
}

static void test_checker_gap_after_hole_leaves_hole_lost(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    gap(f, 4, 6); /* 2..3 never declared */
    ev(f, 7);
    final(f, 7);
    assert_int_equal(N(f, CHK_LOST), 2);
    assert_int_equal(f->c.n.gaps, 1);
}

static void test_checker_gap_inside_hole_splits_it(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    ev(f, 10); /* hole 2..9 */
    gap(f, 4, 6);
    final(f, 10);
    assert_int_equal(N(f, CHK_LOST), 5); /* 2,3,7,8,9 */
}

static void test_checker_epoch_change_by_snapshot(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, "e1");
    ev(f, 1);
    ev(f, 2);
    ev(f, 5); /* hole in the old stream */
    snap(f, 1, "e2"); /* server restarted: new stream at 1 */
    ev(f, 2);
    ev(f, 3);
    final(f, 3);
    assert_int_equal(N(f, CHK_EPOCH_CHANGED), 1);
    assert_int_equal(N(f, CHK_LOST), 0);
    assert_int_equal(N(f, CHK_DUPLICATED), 0);
    assert_int_equal(N(f, CHK_REORDERED), 0);
}

static void test_checker_epoch_change_on_resume(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, "e1");
    for (uint64_t s = 1; s <= 10; s++)
        ev(f, s);
    resume(f, 3, "e2", 0);
    snap(f, 3, "e2");
    ev(f, 4);
    final(f, 4);
    assert_int_equal(N(f, CHK_EPOCH_CHANGED), 1);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 0);
    assert_int_equal(N(f, CHK_LOST), 0);
    assert_int_equal(N(f, CHK_DUPLICATED), 0);
}

static void test_checker_same_epoch_is_no_change(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, "e1");
    ev(f, 1);
    resume(f, 1, "e1", 1);
    snap(f, 1, "e1");
    final(f, 1);
    assert_clean(f);
}

static void test_checker_resume_replays_then_live(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, "e1");
    for (uint64_t s = 1; s <= 5; s++)
        ev(f, s);
    resume(f, 9, "e1", 1);
    assert_int_equal(chk_caught_up(&f->s, 9), 0);
    for (uint64_t s = 6; s <= 9; s++)
        ev(f, s);
    assert_int_equal(f->c.n.resync_ok, 1);
    assert_int_equal(hist_count(f->c.resync), 1);
    ev(f, 10);
    final(f, 10);
    assert_clean(f);
    assert_int_equal(f->c.n.replayed, 4);
    assert_int_equal(hist_count(f->c.replay), 4);
    assert_int_equal(f->c.n.live, 6);
    assert_int_equal(f->c.n.expected, 10);
}

static void test_checker_resume_with_nothing_missed(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    resume(f, 1, NULL, 1);
    assert_int_equal(f->c.n.resync_ok, 1);
    ev(f, 2);
    final(f, 2);
    assert_clean(f);
}

static void test_checker_resume_off_by_one_back(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 5; s++)
        ev(f, s);
    resume(f, 8, NULL, 1);
    for (uint64_t s = 5; s <= 8; s++) /* replays since itself again */
        ev(f, s);
    final(f, 8);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 1);
    assert_int_equal(N(f, CHK_DUPLICATED), 0);
    assert_int_equal(N(f, CHK_LOST), 0);
    assert_int_equal(f->c.n.resync_ok, 0);
    assert_int_equal(f->c.anom[CHK_RESYNC_FAILED][0].seq, 5);
}

static void test_checker_resume_off_by_one_forward(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 5; s++)
        ev(f, s);
    resume(f, 8, NULL, 1);
    for (uint64_t s = 7; s <= 8; s++)
        ev(f, s);
    final(f, 8);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 1);
    assert_int_equal(N(f, CHK_LOST), 1);
    assert_int_equal(f->c.anom[CHK_LOST][0].seq, 6);
}

static void test_checker_resume_since_ignored(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 5; s++)
        ev(f, s);
    resume(f, 9, NULL, 1);
    ev(f, 10); /* straight to live */
    ev(f, 11);
    final(f, 11);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 1);
    assert_int_equal(N(f, CHK_LOST), 4);
}

static void test_checker_resume_snapshot_when_not_recovered(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    resume(f, 500, NULL, 0);
    snap(f, 500, NULL);
    ev(f, 501);
    final(f, 501);
    assert_clean(f);
    assert_int_equal(f->c.n.resync_ok, 1);
    assert_int_equal(f->c.n.snapshots, 1);
}

static void test_checker_resume_snapshot_omitted(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    resume(f, 500, NULL, 0);
    ev(f, 501);
    final(f, 501);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 1);
    assert_int_equal(f->c.n.resync_ok, 0);
}

static void test_checker_resume_gap_from_since(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    resume(f, 5, NULL, 1);
    gap(f, 2, 4);
    ev(f, 5);
    final(f, 5);
    assert_clean(f);
    assert_int_equal(f->c.n.resync_ok, 1);
}

static void test_checker_hole_during_replay(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    resume(f, 10, NULL, 1);
    ev(f, 2);
    ev(f, 3);
    ev(f, 5); /* 4 skipped */
    ev(f, 7); /* 6 skipped: same resync, counted once */
    for (uint64_t s = 8; s <= 10; s++)
        ev(f, s);
    final(f, 10);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 1);
    assert_int_equal(N(f, CHK_LOST), 2);
    assert_int_equal(f->c.n.resync_ok, 0);
    assert_int_equal(hist_count(f->c.resync), 1);
}

static void test_checker_duplicates_of_replayed_events(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    resume(f, 4, NULL, 1);
    for (uint64_t s = 2; s <= 4; s++)
        ev(f, s);
    ev(f, 3); /* live fan-out racing the replay */
    ev(f, 4);
    ev(f, 5);
    final(f, 5);
    assert_int_equal(N(f, CHK_DUPLICATED), 2);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 0);
    assert_int_equal(f->c.n.resync_ok, 1);
}

static void test_checker_reconnect_during_replay(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    resume(f, 20, NULL, 1);
    for (uint64_t s = 2; s <= 8; s++)
        ev(f, s);
    resume(f, 20, NULL, 1); /* cut mid-replay; since=8 */
    assert_int_equal(f->s.since, 8);
    for (uint64_t s = 9; s <= 20; s++)
        ev(f, s);
    final(f, 20);
    assert_clean(f);
    assert_int_equal(f->c.n.resync_ok, 1); /* the first resync never finished */
    assert_int_equal(f->c.n.replayed, 19);
}

static void test_checker_backwards_after_fresh_resubscribe_is_not_reordered(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 10; s++)
        ev(f, s);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 0, f->now);
    sub_fresh(f, 6, NULL); /* fresh subscribe: the head is the new base */
    ev(f, 7);
    ev(f, 8);
    final(f, 8);
    assert_clean(f);
}

static void test_checker_backwards_without_resubscribe_is_anomaly(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 10; s++)
        ev(f, s);
    ev(f, 7);
    final(f, 10);
    assert_int_equal(N(f, CHK_DUPLICATED) + N(f, CHK_REORDERED), 1);
}

static void test_checker_fresh_disconnect_ends_accountability(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    ev(f, 3); /* hole 2: counted at the disconnect */
    chk_on_disconnect(&f->c, &f->s, 7, 0, 0, f->now);
    assert_int_equal(N(f, CHK_LOST), 1);
    assert_int_equal(chk_caught_up(&f->s, 100), 1);
    final(f, 100);
    assert_int_equal(N(f, CHK_LOST), 1);
}

static void test_checker_down_at_end_is_lost(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now);
    assert_int_equal(chk_caught_up(&f->s, 1), 0);
    final(f, 4);
    assert_int_equal(N(f, CHK_LOST), 3);
}

static void test_checker_giving_up_ends_accountability(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    ev(f, 3); /* hole 2 */
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now); /* will resume */
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now); /* a failed attempt */
    assert_int_equal(chk_caught_up(&f->s, 9), 0);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 0, f->now); /* gave up */
    assert_int_equal(N(f, CHK_LOST), 1);
    assert_int_equal(chk_caught_up(&f->s, 9), 1);
    final(f, 9);
    assert_int_equal(N(f, CHK_LOST), 1);
}

static void test_checker_sse_first_event_is_base(void **state)
{
    fx *f = *state;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    assert_int_equal(chk_caught_up(&f->s, 50), 1);
    ev(f, 41);
    ev(f, 42);
    final(f, 43);
    assert_int_equal(N(f, CHK_LOST), 1);
    assert_int_equal(f->c.n.expected, 3);
}

/* The publisher's floor for the tests: 37 for a subscription started at or
 * before WALL0 + 1 s (+ grace), 90 after; none (cannot tell) for ch 5. */
static int floor_fn(void *ud, uint32_t ch, int64_t t_us, uint64_t *floor)
{
    (void)ud;
    if (ch == 5)
        return 0;
    *floor = t_us <= WALL0 + 1000000 + 500000 ? 37 : 90;
    return 1;
}

/* A head-less fresh subscription whose first event is later than the
 * publisher's floor: floor+1 .. the first base are lost. */
static void test_checker_sse_floor_first_event_late(void **state)
{
    fx *f = *state;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    ev(f, 41);
    ev(f, 42);
    assert_int_equal(chk_fresh_wall_us(&f->s), 0); /* based: settled by chk_settle_fresh */
    final(f, 42);
    assert_int_equal(f->c.n.expected, 2);
    chk_settle_fresh(&f->c, floor_fn, NULL, 500000, f->now, NULL, 0); /* 38..40 were owed */
    assert_int_equal(N(f, CHK_LOST), 3);
    assert_int_equal(f->c.anom[CHK_LOST][0].seq, 38);
    assert_int_equal(f->c.n.expected, 5);
    assert_int_equal(f->c.n.delivered, 2);
    chk_settle_fresh(&f->c, floor_fn, NULL, 500000, f->now, NULL, 0); /* once only */
    assert_int_equal(N(f, CHK_LOST), 3);
}

/* The floor at or above the first base owes nothing more; nor does a
 * stream that was told its head, nor one whose first envelope was a
 * snapshot (it covers what came before), nor one the floor cannot tell. */
static void test_checker_sse_floor_no_false_alarm(void **state)
{
    fx *f = *state;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    ev(f, 30);
    final(f, 30);
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    snap(f, 50, NULL);
    final(f, 50);
    sub_fresh(f, 60, NULL);
    ev(f, 61);
    final(f, 61);
    chk_stream s5 = {0};
    chk_on_subscribe(&f->c, &s5, 0, 0, f->wall);
    envelope e = {.type = ENV_T_EVENT, .seq = 70, .has_seq = 1, .ts_us = f->wall, .recovered = -1};
    strcpy(e.ch, "a");
    chk_on_envelope(&f->c, &s5, 7, 5, &e, f->now, f->wall);
    chk_final(&f->c, &s5, 7, 5, 70, f->now);
    chk_settle_fresh(&f->c, floor_fn, NULL, 500000, f->now, NULL, 0);
    assert_clean(f);
    assert_int_equal(f->c.n.expected, 3); /* 30, 61, 70 */
}

/* What came before the first event is covered by a later snapshot of the
 * same accountability, and forgotten with the old stream at an epoch
 * change, as any hole is. */
static void test_checker_sse_floor_covered_or_forgotten(void **state)
{
    fx *f = *state;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    ev(f, 41);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now);
    chk_on_subscribe(&f->c, &f->s, 1, f->now, f->wall);
    snap(f, 45, NULL); /* resumed with state as of 45 */
    final(f, 45);
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    feed(f, ENV_T_EVENT, 50, f->wall, "A");
    feed(f, ENV_T_EVENT, 51, f->wall, "B"); /* a new stream: the old one's holes are forgotten */
    final(f, 51);
    chk_settle_fresh(&f->c, floor_fn, NULL, 500000, f->now, NULL, 0);
    assert_int_equal(N(f, CHK_LOST), 0);
    assert_int_equal(N(f, CHK_EPOCH_CHANGED), 1);
}

/* A head-less fresh subscription that got nothing at all owes what was
 * stamped after the grace; without a floor it owes nothing (as before). */
static void test_checker_sse_floor_nothing_came(void **state)
{
    fx *f = *state;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    assert_true(chk_fresh_wall_us(&f->s) != 0);
    chk_set_floor(&f->s, 10);
    final(f, 25);
    assert_int_equal(N(f, CHK_LOST), 15);
    assert_int_equal(f->c.n.expected, 15);
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    final(f, 40);
    assert_int_equal(N(f, CHK_LOST), 15);
}

/* Every fresh subscription is held to its own floor, also one that ended
 * with a non-resuming disconnect long before the end; a resume keeps the
 * first subscription's base. Worker contexts merged still owe theirs. */
static void test_checker_sse_floor_every_subscription(void **state)
{
    fx *f = *state;
    f->s.tag = 1;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall); /* at WALL0: floor 37 */
    ev(f, 41);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now);
    tick(f, 5000);
    chk_on_subscribe(&f->c, &f->s, 1, f->now - 1000, f->wall);
    ev(f, 42);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 0, f->now); /* accountability ends */
    tick(f, 2000000);
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall); /* at WALL0 + 2 s: floor 90 */
    ev(f, 100);
    final(f, 100);
    chk_ctx b;
    char err[128];
    assert_int_equal(chk_ctx_init(&b, T0, 50, err, sizeof err), 0);
    assert_int_equal(chk_ctx_merge(&b, &f->c, err, sizeof err), 0);
    uint64_t by_tag[2] = {0, 0};
    chk_settle_fresh(&b, floor_fn, NULL, 500000, f->now, by_tag, 2);
    assert_int_equal(b.n.kind[CHK_LOST], 3 + 9); /* 38..40 and 91..99 */
    assert_int_equal(by_tag[1], 3 + 9);
    assert_int_equal(b.n.expected, 2 + 1 + 3 + 9); /* 41-42, 100, and the lost */
    chk_ctx_free(&b);
}

static void test_checker_sse_resume_classifies_replay_by_ts(void **state)
{
    fx *f = *state;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    ev(f, 1);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now);
    int64_t old = f->wall; /* published while the client was away */
    tick(f, 5000);
    chk_on_subscribe(&f->c, &f->s, 1, f->now - 1000, f->wall);
    feed(f, ENV_T_EVENT, 2, old, NULL);
    feed(f, ENV_T_EVENT, 3, old + 10, NULL);
    assert_int_equal(f->c.n.resync_ok, 0);
    ev(f, 4); /* live: the resync is over */
    assert_int_equal(f->c.n.resync_ok, 1);
    final(f, 4);
    assert_clean(f);
    assert_int_equal(f->c.n.replayed, 2);
    assert_int_equal(f->c.n.live, 2);
}

static void test_checker_sse_resume_wrong_start(void **state)
{
    fx *f = *state;
    chk_on_subscribe(&f->c, &f->s, 0, 0, f->wall);
    ev(f, 1);
    ev(f, 2);
    chk_on_disconnect(&f->c, &f->s, 7, 0, 1, f->now);
    chk_on_subscribe(&f->c, &f->s, 1, f->now, f->wall);
    ev(f, 9);
    final(f, 9);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 1);
    assert_int_equal(N(f, CHK_LOST), 6);
}

static void test_checker_head_behind_since_same_epoch(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, "e1");
    for (uint64_t s = 1; s <= 10; s++)
        ev(f, s);
    resume(f, 4, "e1", 1);
    assert_int_equal(N(f, CHK_RESYNC_FAILED), 1);
}

static void test_checker_anomaly_examples_bounded_counts_exact(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    for (int i = 0; i < 120; i++)
        ev(f, 1);
    assert_int_equal(N(f, CHK_DUPLICATED), 120);
    assert_int_equal(f->c.n_anom[CHK_DUPLICATED], 50);
    for (size_t i = 1; i < f->c.n_anom[CHK_DUPLICATED]; i++)
        assert_true(f->c.anom[CHK_DUPLICATED][i].t_us >= f->c.anom[CHK_DUPLICATED][i - 1].t_us);
}

static void test_checker_many_holes_bounded(void **state)
{
    fx *f = *state;
    sub_fresh(f, 0, NULL);
    for (uint64_t s = 1; s <= 200000; s += 2) /* every other seq missing: 100k holes */
        ev(f, s);
    final(f, 199999);
    assert_int_equal(N(f, CHK_LOST), 99999);
}

static void test_checker_ignores_control_and_idle(void **state)
{
    fx *f = *state;
    ev(f, 5); /* not subscribed: not judged */
    assert_int_equal(f->c.n.delivered, 0);
    sub_fresh(f, 0, NULL);
    feed(f, ENV_T_PONG, 0, 0, NULL);
    feed(f, ENV_T_ERROR, 0, 0, NULL);
    final(f, 0);
    assert_clean(f);
}

static void test_checker_ctx_merge(void **state)
{
    fx *f = *state;
    chk_ctx b;
    char err[128];
    assert_int_equal(chk_ctx_init(&b, T0, 50, err, sizeof err), 0);
    chk_stream s2;
    memset(&s2, 0, sizeof s2);
    sub_fresh(f, 0, NULL);
    ev(f, 1);
    ev(f, 1);
    envelope e;
    memset(&e, 0, sizeof e);
    e.type = ENV_T_EVENT;
    e.seq = 1;
    e.ts_us = f->wall;
    chk_on_subscribe(&b, &s2, 0, 0, f->wall);
    chk_on_subscribed(&b, &s2, 9, 0, 0, "", -1, f->now);
    chk_on_envelope(&b, &s2, 9, 0, &e, T0 + 3000000, f->wall + 10);
    chk_on_envelope(&b, &s2, 9, 0, &e, T0 + 3000000, f->wall + 10);
    assert_int_equal(chk_ctx_merge(&f->c, &b, err, sizeof err), 0);
    assert_int_equal(N(f, CHK_DUPLICATED), 2);
    assert_int_equal(f->c.n.delivered, 2);
    assert_int_equal(hist_count(f->c.live), 2);
    assert_non_null(f->c.rows[3]);
    assert_int_equal(f->c.rows[3]->delivered, 1);
    assert_int_equal(f->c.n_anom[CHK_DUPLICATED], 2);
    assert_int_equal(f->c.anom[CHK_DUPLICATED][1].client, 9);
    chk_stream_free(&s2);
    chk_ctx_free(&b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_checker_in_order_is_clean),
        T(test_checker_duplicate_live_event),
        T(test_checker_hole_never_filled_is_lost),
        T(test_checker_late_arrival_is_reordered_not_lost),
        T(test_checker_late_arrival_inside_hole_splits_it),
        T(test_checker_loss_at_end_found_by_reconciliation),
        T(test_checker_snapshot_mid_stream_covers_hole),
        T(test_checker_event_already_in_snapshot_is_duplicated),
        T(test_checker_stale_snapshot_is_reordered),
        T(test_checker_gap_covers_declared_range),
        T(test_checker_gap_after_hole_leaves_hole_lost),
        T(test_checker_gap_inside_hole_splits_it),
        T(test_checker_epoch_change_by_snapshot),
        T(test_checker_epoch_change_on_resume),
        T(test_checker_same_epoch_is_no_change),
        T(test_checker_resume_replays_then_live),
        T(test_checker_resume_with_nothing_missed),
        T(test_checker_resume_off_by_one_back),
        T(test_checker_resume_off_by_one_forward),
        T(test_checker_resume_since_ignored),
        T(test_checker_resume_snapshot_when_not_recovered),
        T(test_checker_resume_snapshot_omitted),
        T(test_checker_resume_gap_from_since),
        T(test_checker_hole_during_replay),
        T(test_checker_duplicates_of_replayed_events),
        T(test_checker_reconnect_during_replay),
        T(test_checker_backwards_after_fresh_resubscribe_is_not_reordered),
        T(test_checker_backwards_without_resubscribe_is_anomaly),
        T(test_checker_fresh_disconnect_ends_accountability),
        T(test_checker_down_at_end_is_lost),
        T(test_checker_giving_up_ends_accountability),
        T(test_checker_sse_first_event_is_base),
        T(test_checker_sse_floor_first_event_late),
        T(test_checker_sse_floor_no_false_alarm),
        T(test_checker_sse_floor_nothing_came),
        T(test_checker_sse_floor_covered_or_forgotten),
        T(test_checker_sse_floor_every_subscription),
        T(test_checker_sse_resume_classifies_replay_by_ts),
        T(test_checker_sse_resume_wrong_start),
        T(test_checker_head_behind_since_same_epoch),
        T(test_checker_anomaly_examples_bounded_counts_exact),
        T(test_checker_many_holes_bounded),
        T(test_checker_ignores_control_and_idle),
        T(test_checker_ctx_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
