/* proxy_testenv.h — a fake link for the toxic unit tests: collects what a
 * toxic emits, its end-of-stream, close and recorded actions, and drives the
 * clock by hand. With the common attribute after_messages it also plays the
 * link's part as proxy.c does, with the same functions: the tracker cuts the
 * input where the count is reached, toxic_schedule_step gates the toxic.
 * Header-only, included by tests/unit/test_toxic_*.c. */
#ifndef RTCHAOS_PROXY_TESTENV_H
#define RTCHAOS_PROXY_TESTENV_H
#include <stdlib.h>
#include <string.h>
#include "toxic.h"
#include "track.h"

typedef struct testenv {
    tx_env env;
    prng rng;
    unsigned char out[1 << 20];
    size_t out_len;
    size_t pieces;          /* emit calls */
    size_t piece_len[4096]; /* length of each (first 4096) */
    int eof;
    int closed;
    tx_close how;
    int records;
    char last_action[64];
    const toxic_type *ty;
    void *attrs;
    void *state;
    /* the link's schedule by messages (sched_on: after_messages was given) */
    int sched_on, was_on;
    tx_common common;
    tx_sched sched;
    track trk;
    uint64_t msgs;
} testenv;

static inline void te_emit(void *u, const unsigned char *d, size_t n)
{
    testenv *t = u;
    if (t->out_len + n <= sizeof t->out) {
        memcpy(t->out + t->out_len, d, n);
        t->out_len += n;
    }
    if (t->pieces < 4096)
        t->piece_len[t->pieces] = n;
    t->pieces++;
}

static inline void te_emit_eof(void *u)
{
    ((testenv *)u)->eof++;
}

static inline void te_close(void *u, tx_close how)
{
    testenv *t = u;
    t->closed++;
    t->how = how;
}

static inline void te_record(void *u, const char *action, json_t *detail)
{
    testenv *t = u;
    t->records++;
    snprintf(t->last_action, sizeof t->last_action, "%s", action);
    json_decref(detail);
}

/* Creates the fake link for toxic type name with attributes from JSON text
 * (NULL: defaults); asserts on failure through the returned NULL. */
static testenv *te_new(const char *type, const char *attrs_json, uint64_t seed)
{
    testenv *t = calloc(1, sizeof *t);
    t->ty = toxic_registry_find(type);
    if (!t->ty) {
        free(t);
        return NULL;
    }
    t->attrs = calloc(1, t->ty->attrs_size + 1);
    t->state = calloc(1, t->ty->state_size + 1);
    toxic_type_defaults(t->ty, t->attrs);
    if (attrs_json) {
        json_t *j = json_loads(attrs_json, 0, NULL);
        char err[256];
        json_t *am = j ? json_object_get(j, "after_messages") : NULL;
        if (json_is_integer(am)) { /* a common key: the link's, not the type's */
            t->common.after_messages = json_integer_value(am);
            t->sched_on = 1;
            json_object_del(j, "after_messages");
            track_init(&t->trk, 1);
        }
        int rc = j ? t->ty->parse(t->attrs, j, err, sizeof err) : -1;
        json_decref(j);
        if (rc < 0) {
            free(t->attrs);
            free(t->state);
            free(t);
            return NULL;
        }
    }
    prng_seed(&t->rng, seed);
    t->env.rng = &t->rng;
    t->env.active = 1;
    t->env.u = t;
    t->env.emit = te_emit;
    t->env.emit_eof = te_emit_eof;
    t->env.close = te_close;
    t->env.record = te_record;
    if (t->ty->start && !t->sched_on)
        t->ty->start(t->state, t->attrs, &t->env);
    t->was_on = !t->sched_on;
    return t;
}

static inline int te_proto(const testenv *t)
{
    return t->ty->protocol && t->ty->protocol(t->attrs);
}

/* The link's gate (proxy.c stage_gate): whether the toxic is on now;
 * start() on the off → on edge. */
static inline int te_gate(testenv *t, uint64_t now_us)
{
    if (!t->sched_on)
        return 1;
    int on = toxic_schedule_step(&t->common, &t->sched, 0, t->msgs, now_us, NULL);
    if (on && !t->was_on && t->ty->start && !te_proto(t)) {
        t->env.active = 1;
        t->ty->start(t->state, t->attrs, &t->env);
    }
    t->was_on = on;
    return on;
}

static inline void te_push(testenv *t, int on, const unsigned char *d, size_t n)
{
    t->env.active = on;
    if (t->ty->data && (on || te_proto(t)))
        t->ty->data(t->state, t->attrs, &t->env, d, n);
    else
        t->env.emit(t, d, n);
}

static inline void te_data(testenv *t, uint64_t now_us, const void *data, size_t n)
{
    const unsigned char *d = data;
    t->env.now_us = now_us;
    if (!t->sched_on) {
        if (t->ty->data) /* as the proxy does: no hook means pass-through */
            t->ty->data(t->state, t->attrs, &t->env, d, n);
        else
            t->env.emit(t, d, n);
        return;
    }
    while (n > 0 && !t->closed) { /* proxy.c link_feed */
        uint64_t until = t->sched.armed ? 0 : (uint64_t)t->common.after_messages;
        int at;
        size_t k = track_feed_until(&t->trk, d, n, 0, until, &at);
        te_push(t, te_gate(t, now_us), d, k);
        t->msgs = track_messages(&t->trk);
        d += k;
        n -= k;
    }
    te_gate(t, now_us); /* proxy.c link_run, after every read */
}

static inline void te_eof(testenv *t, uint64_t now_us)
{
    t->env.now_us = now_us;
    if (t->ty->eof)
        t->ty->eof(t->state, t->attrs, &t->env);
    else
        t->env.emit_eof(t);
}

static inline uint64_t te_tick(testenv *t, uint64_t now_us)
{
    t->env.now_us = now_us;
    if (t->sched_on)
        t->env.active = te_gate(t, now_us);
    return t->ty->tick ? t->ty->tick(t->state, t->attrs, &t->env) : 0;
}

static inline void te_flush(testenv *t, uint64_t now_us)
{
    t->env.now_us = now_us;
    if (t->ty->flush)
        t->ty->flush(t->state, t->attrs, &t->env);
}

static inline void te_free(testenv *t)
{
    if (!t)
        return;
    if (t->ty->stop)
        t->ty->stop(t->state);
    if (t->sched_on)
        track_free(&t->trk);
    free(t->attrs);
    free(t->state);
    free(t);
}

/* Parse check: 0 when attrs_json is accepted by type, -1 otherwise. */
static inline int te_parse(const char *type, const char *attrs_json)
{
    testenv *t = te_new(type, attrs_json, 1);
    if (!t)
        return -1;
    te_free(t);
    return 0;
}

#endif
