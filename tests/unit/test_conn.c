/* test_conn.c — the stream writer: subscribe answers and resync decisions
 * (replay, snapshot past history, epoch change by string and by SSE hash),
 * live events, gaps after drop/coalesce, snapshot and disconnect policies,
 * a replay overtaken by eviction, unsubscribe. Sessions without a socket;
 * the history clock is the real monotonic one (no ages configured). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "sse_id.h"

static server_cfg cfg;
static srv S;
static session sess;

static int setup(void **state)
{
    (void)state;
    config_defaults(&cfg);
    cfg.history_max = 5;
    cfg.history_max_age_ms = 0;
    cfg.sendq_max_msgs = 4;
    memset(&S, 0, sizeof(S));
    S.cfg = &cfg;
    flags_init(&S.fl, SENDQ_DROP);
    strcpy(S.epoch_base, "t");
    S.gen_cap = 8192;
    S.gen = malloc(LWS_PRE + S.gen_cap);
    memset(&sess, 0, sizeof(sess));
    assert_int_equal(conn_srv_init(&S), 0);
    conn_init(&sess, &S, SESS_WS, NULL);
    return S.gen ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    conn_release(&sess);
    /* released: nothing left in the gauges /metrics reads */
    assert_int_equal(S.nsubs, 0);
    assert_int_equal(S.qs.msgs, 0);
    assert_int_equal(S.qs.bytes, 0);
    assert_int_equal(S.qs.max_depth, 0);
    conn_srv_free(&S);
    channels_free_all(&S);
    free(S.gen);
    return 0;
}

static channel *chan(const char *name)
{
    char err[128];
    channel *c = channels_get(&S, name, 1, err, sizeof(err));
    assert_non_null(c);
    return c;
}

static void pub(const char *name, int n)
{
    channel *c = chan(name);
    for (int i = 0; i < n; i++) {
        char err[128], data[32];
        msg *m;
        int dup;
        snprintf(data, sizeof(data), "%llu", (unsigned long long)c->hist.head + 1);
        assert_int_equal(history_publish(&c->hist, data, strlen(data), 5, NULL, 1, &m, &dup, err,
                                         sizeof(err)), 0);
        conn_fanout(&S, c, m);
    }
}

/* The next frame, scanned; type ENV_T_UNKNOWN when there is none. */
static envelope next(void)
{
    envelope e;
    conn_frame f;
    char err[128];
    memset(&e, 0, sizeof(e));
    if (!conn_next(&sess, &f))
        return e;
    assert_int_equal(envelope_scan(f.text, f.len, &e, err, sizeof(err)), 0);
    e.data = NULL; /* points into a buffer that the next frame reuses */
    msg_unref(f.hold);
    return e;
}

static void sub(const char *name, int has_since, uint64_t since, int epoch_kind, const char *epoch,
                uint32_t epoch_hash)
{
    char err[128];
    assert_non_null(conn_subscribe(&sess, chan(name), has_since, since, epoch_kind, epoch,
                                   epoch_hash, err, sizeof(err)));
}

static void test_conn_fresh_subscribe_then_live(void **state)
{
    (void)state;
    pub("a", 2);
    sub("a", 0, 0, 0, NULL, 0);
    envelope e = next();
    assert_int_equal(e.type, ENV_T_SUBSCRIBED);
    assert_int_equal(e.seq, 2);
    assert_int_equal(e.recovered, 1);
    assert_int_equal(next().type, ENV_T_UNKNOWN);
    pub("a", 1);
    e = next();
    assert_int_equal(e.type, ENV_T_EVENT);
    assert_int_equal(e.seq, 3);
    assert_int_equal(conn_pending(&sess), 0);
}

static void test_conn_replay_then_live(void **state)
{
    (void)state;
    pub("a", 3);
    sub("a", 1, 1, 0, NULL, 0);
    pub("a", 1); /* between the request and the answer: still covered */
    envelope e = next();
    assert_int_equal(e.type, ENV_T_SUBSCRIBED);
    assert_int_equal(e.recovered, 1);
    assert_int_equal(e.seq, 4);
    for (uint64_t s = 2; s <= 4; s++) {
        e = next();
        assert_int_equal(e.type, ENV_T_EVENT);
        assert_int_equal(e.seq, s);
    }
    pub("a", 1);
    e = next();
    assert_int_equal(e.seq, 5);
    assert_int_equal(next().type, ENV_T_UNKNOWN);
    assert_int_equal(S.m.resync_recovered, 1);
}

static void test_conn_snapshot_past_history(void **state)
{
    (void)state;
    pub("a", 10); /* ring keeps 6..10 */
    sub("a", 1, 2, 0, NULL, 0);
    envelope e = next();
    assert_int_equal(e.type, ENV_T_SUBSCRIBED);
    assert_int_equal(e.recovered, 0);
    e = next();
    assert_int_equal(e.type, ENV_T_SNAPSHOT);
    assert_int_equal(e.seq, 10);
    assert_string_equal(e.epoch, chan("a")->hist.epoch);
    pub("a", 1);
    assert_int_equal(next().seq, 11);
    assert_int_equal(S.m.resync_snapshot, 1);
}

static void test_conn_epoch_mismatch(void **state)
{
    (void)state;
    pub("a", 3);
    const char *ep = chan("a")->hist.epoch;
    sub("a", 1, 2, 1, ep, 0); /* right epoch: replay */
    assert_int_equal(next().recovered, 1);
    assert_int_equal(next().seq, 3);
    sub("a", 1, 2, 1, "old-epoch", 0); /* string epoch differs */
    assert_int_equal(next().recovered, 0);
    assert_int_equal(next().type, ENV_T_SNAPSHOT);
    sub("a", 1, 2, 2, NULL, sse_id_hash("old", 3)); /* SSE id: epoch hash differs */
    assert_int_equal(next().recovered, 0);
    assert_int_equal(next().type, ENV_T_SNAPSHOT);
    sub("a", 1, 2, 2, NULL, sse_id_hash(ep, strlen(ep)));
    assert_int_equal(next().recovered, 1);
    assert_int_equal(next().seq, 3);
}

/* Drains the session; checks that events and gaps cover from..to in order.
 * Returns the number of gap envelopes. */
static int drain_covering(uint64_t from, uint64_t to)
{
    uint64_t covered = from - 1;
    int gaps = 0;
    envelope e;
    while ((e = next()).type != ENV_T_UNKNOWN) {
        if (e.type == ENV_T_GAP) {
            assert_int_equal(e.gap_from, covered + 1);
            covered = e.gap_to;
            gaps++;
        } else {
            assert_int_equal(e.type, ENV_T_EVENT);
            assert_int_equal(e.seq, covered + 1);
            covered = e.seq;
        }
    }
    assert_int_equal(covered, to);
    return gaps;
}

static void test_conn_drop_policy_gap(void **state)
{
    (void)state;
    sub("a", 0, 0, 0, NULL, 0);
    assert_int_equal(next().type, ENV_T_SUBSCRIBED);
    pub("a", 10); /* queue of 4: 7..10 stay */
    assert_int_equal(sendq_len(&sess.q), 4);
    envelope e = next();
    assert_int_equal(e.type, ENV_T_GAP);
    assert_int_equal(e.gap_from, 1);
    assert_int_equal(e.gap_to, 6);
    assert_int_equal(e.seq, 6);
    assert_int_equal(drain_covering(7, 10), 0);
    assert_int_equal(S.m.bp_events[SENDQ_DROP], 6);
    assert_int_equal(S.m.gaps_sent, 1);
}

static void test_conn_coalesce_two_channels(void **state)
{
    (void)state;
    char err[128];
    json_t *rule = json_pack("{s:s,s:s}", "pattern", "*", "policy", "coalesce");
    assert_int_equal(flags_apply_json(&S.fl, rule, err, sizeof(err)), 0);
    json_decref(rule);
    sub("a", 0, 0, 0, NULL, 0);
    sub("b", 0, 0, 0, NULL, 0);
    next();
    next();
    pub("a", 3);
    pub("b", 1);
    pub("a", 3); /* full: a keeps its newest */
    assert_true(sendq_len(&sess.q) <= 4);
    /* every seq of a is an event or inside a gap; b's one event arrives */
    uint64_t a_cov = 0, b_cov = 0;
    envelope e;
    while ((e = next()).type != ENV_T_UNKNOWN) {
        uint64_t *cov = strcmp(e.ch, "a") == 0 ? &a_cov : &b_cov;
        if (e.type == ENV_T_GAP)
            assert_int_equal(e.gap_from, *cov + 1);
        else
            assert_int_equal(e.seq, *cov + 1);
        *cov = e.seq;
    }
    assert_int_equal(a_cov, 6);
    assert_int_equal(b_cov, 1);
    assert_true(S.m.bp_events[SENDQ_COALESCE] >= 1);
}

static void test_conn_snapshot_policy(void **state)
{
    (void)state;
    S.fl.default_policy = SENDQ_SNAPSHOT;
    chan("a")->fl.policy = SENDQ_SNAPSHOT;
    sub("a", 0, 0, 0, NULL, 0);
    next();
    pub("a", 9);
    envelope e;
    int snaps = 0;
    uint64_t last = 0;
    while ((e = next()).type != ENV_T_UNKNOWN) {
        assert_true(e.seq > last);
        last = e.seq;
        snaps += e.type == ENV_T_SNAPSHOT;
    }
    assert_true(snaps >= 1);
    assert_int_equal(last, 9);
    assert_true(S.m.bp_snapshots >= 1);
}

static void test_conn_disconnect_policy(void **state)
{
    (void)state;
    chan("a")->fl.policy = SENDQ_DISCONNECT;
    sub("a", 0, 0, 0, NULL, 0);
    next();
    pub("a", 5);
    assert_true(sess.closing && sess.close_now);
    assert_int_equal(sess.close_code, WS_CLOSE_TRY_AGAIN_LATER);
    assert_int_equal(sendq_len(&sess.q), 0); /* freed at once */
    assert_int_equal(S.m.bp_disconnects, 1);
    pub("a", 5); /* a closing session queues nothing more */
    assert_int_equal(sendq_len(&sess.q), 0);
}

static void test_conn_replay_overtaken_by_eviction(void **state)
{
    (void)state;
    pub("a", 5); /* ring 1..5 */
    sub("a", 1, 1, 0, NULL, 0);
    assert_int_equal(next().recovered, 1);
    assert_int_equal(next().seq, 2);
    pub("a", 5); /* ring 6..10: 3 is gone before it was sent */
    envelope e = next();
    assert_int_equal(e.type, ENV_T_SNAPSHOT);
    assert_int_equal(e.seq, 10);
    pub("a", 1);
    assert_int_equal(next().seq, 11);
}

static void test_conn_unsubscribe_clears_queue(void **state)
{
    (void)state;
    sub("a", 0, 0, 0, NULL, 0);
    next();
    pub("a", 3);
    assert_int_equal(conn_pending(&sess), 1);
    conn_unsubscribe(&sess, conn_find_sub(&sess, chan("a")));
    assert_int_equal(conn_pending(&sess), 0);
    assert_int_equal(next().type, ENV_T_UNKNOWN);
    assert_int_equal(chan("a")->subs.count, 0);
}

static void test_conn_control_in_order(void **state)
{
    (void)state;
    assert_int_equal(conn_ctrl_error(&sess, "bad_request", "first", NULL), 0);
    sub("a", 0, 0, 0, NULL, 0);
    assert_int_equal(conn_ctrl(&sess, ENV_T_PONG, "{\"type\":\"pong\"}", 15), 0);
    assert_int_equal(next().type, ENV_T_ERROR);
    assert_int_equal(next().type, ENV_T_SUBSCRIBED);
    assert_int_equal(next().type, ENV_T_PONG);
    /* the control queue is bounded */
    static char big[60000];
    memset(big, 'x', sizeof(big));
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = conn_ctrl(&sess, ENV_T_PONG, big, sizeof(big));
    assert_int_equal(rc, -1);
}

static void test_conn_disabled_channel_drops_subscribers(void **state)
{
    (void)state;
    char err[128];
    sub("news.a", 0, 0, 0, NULL, 0);
    next();
    json_t *rule = json_pack("{s:s,s:b}", "pattern", "news.*", "enabled", 0);
    assert_int_equal(flags_apply_json(&S.fl, rule, err, sizeof(err)), 0);
    json_decref(rule);
    channels_flags_changed(&S);
    envelope e = next();
    assert_int_equal(e.type, ENV_T_ERROR);
    assert_string_equal(e.code, "overloaded");
    assert_string_equal(e.ch, "news.a");
    assert_int_equal(sess.subs.count, 0);
}

/* The gauges /metrics reads without walking the connections
 * (subscriptions, queued messages and bytes, deepest queue) follow
 * subscribes, fan-out, writes, unsubscribes and a connection's release. */
static void test_conn_gauges_follow_the_connections(void **state)
{
    (void)state;
    session other;
    memset(&other, 0, sizeof(other));
    conn_init(&other, &S, SESS_WS, NULL);
    sub("a", 0, 0, 0, NULL, 0);
    sub("b", 0, 0, 0, NULL, 0);
    char err[128];
    assert_non_null(conn_subscribe(&other, chan("a"), 0, 0, 0, NULL, 0, err, sizeof(err)));
    assert_int_equal(S.nsubs, 3);
    while (next().type != ENV_T_UNKNOWN) /* the "subscribed" answers: now live */
        ;
    conn_frame f;
    while (conn_next(&other, &f))
        msg_unref(f.hold);
    pub("a", 3); /* sess: 3 queued, other: 3 */
    pub("b", 1); /* sess: 4 (its bound) */
    assert_int_equal(S.qs.msgs, sendq_len(&sess.q) + sendq_len(&other.q));
    assert_int_equal(S.qs.msgs, 7);
    assert_int_equal(S.qs.bytes, sendq_bytes(&sess.q) + sendq_bytes(&other.q));
    assert_int_equal(S.qs.max_depth, 4);
    assert_int_equal(next().type, ENV_T_EVENT); /* written: one less queued */
    assert_int_equal(S.qs.msgs, 6);
    assert_int_equal(S.qs.max_depth, 3);
    conn_unsubscribe(&sess, conn_find_sub(&sess, chan("b")));
    assert_int_equal(S.nsubs, 2);
    assert_int_equal(S.qs.msgs, 5);
    conn_release(&other);
    assert_int_equal(S.nsubs, 1);
    assert_int_equal(S.qs.msgs, sendq_len(&sess.q));
    assert_int_equal(S.qs.max_depth, 2);
    assert_int_equal(S.qs.bytes, sendq_bytes(&sess.q));
}

/* Every idle WebSocket connection carries one session and (subscribed) one
 * conn_sub: their sizes are part of the per-connection memory budget
 * (issue 13: <= 2 KB per idle connection, of which libwebsockets' own
 * state is ~1.3 KB). 280 and 104 bytes on x86-64: the 288- and 112-byte
 * malloc bins. */
static void test_conn_per_connection_structs_stay_small(void **state)
{
    (void)state;
    assert_true(sizeof(session) <= 280);
    assert_true(sizeof(conn_sub) <= 104);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_conn_fresh_subscribe_then_live),
        T(test_conn_replay_then_live),
        T(test_conn_snapshot_past_history),
        T(test_conn_epoch_mismatch),
        T(test_conn_drop_policy_gap),
        T(test_conn_coalesce_two_channels),
        T(test_conn_snapshot_policy),
        T(test_conn_disconnect_policy),
        T(test_conn_replay_overtaken_by_eviction),
        T(test_conn_unsubscribe_clears_queue),
        T(test_conn_control_in_order),
        T(test_conn_disabled_channel_drops_subscribers),
        T(test_conn_gauges_follow_the_connections),
        T(test_conn_per_connection_structs_stay_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
