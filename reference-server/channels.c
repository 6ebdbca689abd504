/* channels.c — the channel registry: name -> channel, created on first use.
 * A small chained hash table is written here because none of the project's
 * libraries offers one for C strings (jansson's is internal to its objects). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "server.h"

void channels_new_epoch(srv *S, char *out)
{
    char tail[16];
    uint64_t n = ++S->epoch_counter;
    int i = (int)sizeof(tail) - 1;
    tail[i] = '\0';
    do {
        tail[--i] = "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36];
        n /= 36;
    } while (n && i > 0);
    snprintf(out, ENV_EPOCH_MAX + 1, "%s-%s", S->epoch_base, tail + i);
}

static size_t bucket_of(const srv *S, const char *name)
{
    return (size_t)(msg_hash(name, strlen(name)) % S->nbuckets);
}

static int grow(srv *S)
{
    size_t nb = S->nbuckets ? S->nbuckets * 2 : 256;
    channel **b = calloc(nb, sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < S->nbuckets; i++) {
        channel *c = S->buckets[i];
        while (c) {
            channel *next = c->next;
            size_t k = (size_t)(msg_hash(c->hist.name, strlen(c->hist.name)) % nb);
            c->next = b[k];
            b[k] = c;
            c = next;
        }
    }
    free(S->buckets);
    S->buckets = b;
    S->nbuckets = nb;
    return 0;
}

channel *channels_get(srv *S, const char *name, int create, char *err, size_t errlen)
{
    size_t len = strlen(name);
    if (!envelope_channel_valid(name, len)) {
        snprintf(err, errlen, "invalid channel name (1..%d bytes of A-Z a-z 0-9 . _ : -, no "
                              "leading, trailing or double dot)", ENV_CH_MAX);
        return NULL;
    }
    if (S->nbuckets) {
        for (channel *c = S->buckets[bucket_of(S, name)]; c; c = c->next)
            if (strcmp(c->hist.name, name) == 0)
                return c;
    }
    if (!create) {
        snprintf(err, errlen, "no such channel");
        return NULL;
    }
    if (S->nchannels >= (size_t)S->cfg->max_channels) {
        snprintf(err, errlen, "channel limit reached (%lld)", (long long)S->cfg->max_channels);
        return NULL;
    }
    if (S->nchannels >= S->nbuckets && grow(S)) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    channel *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char epoch[ENV_EPOCH_MAX + 1];
    channels_new_epoch(S, epoch);
    history_cfg hc = {.max_events = (uint32_t)S->cfg->history_max,
                      .max_age_us = (uint64_t)S->cfg->history_max_age_ms * 1000};
    if (history_init(&c->hist, name, epoch, &hc, err, errlen)) {
        free(c);
        return NULL;
    }
    flags_evaluate(&S->fl, name, &c->fl);
    c->batch = S->cfg->batch_ms > 0 && config_channel_listed(S->cfg->batch_channels, name);
    c->delta = config_channel_listed(S->cfg->delta_channels, name);
    size_t k = bucket_of(S, name);
    c->next = S->buckets[k];
    S->buckets[k] = c;
    S->nchannels++;
    c->bk_ready = 1;
    if (S->on_channel_new)
        S->on_channel_new(S, c); /* --redis: subscribers wait until Redis's state is in */
    return c;
}

static int drop_sub(struct lws_dll2 *d, void *user)
{
    conn_sub *sub = lws_container_of(d, conn_sub, chan_node);
    session *s = sub->s;
    (void)user;
    char ch[ENV_CH_MAX + 1];
    snprintf(ch, sizeof(ch), "%s", sub->ch->hist.name);
    s->srv->m.rejections[MR_DISABLED]++;
    if (conn_ctrl_error(s, "overloaded", "channel disabled by a feature flag; use /poll", ch))
        conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
    conn_unsubscribe(s, sub);
    /* An SSE stream with nothing left to carry ends, so the client notices
     * (and can fall back to /poll); a WebSocket stays for its other uses. */
    if (s->kind == SESS_SSE && !s->subs.count)
        conn_close_soon(s, 0, "all channels disabled", 0);
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
    return 0;
}

void channels_flags_changed(srv *S)
{
    for (size_t i = 0; i < S->nbuckets; i++)
        for (channel *c = S->buckets[i]; c; c = c->next) {
            flags_evaluate(&S->fl, c->hist.name, &c->fl);
            if (!c->fl.enabled)
                lws_dll2_foreach_safe(&c->subs, NULL, drop_sub);
        }
}

void channels_free_all(srv *S)
{
    for (size_t i = 0; i < S->nbuckets; i++) {
        channel *c = S->buckets[i];
        while (c) {
            channel *next = c->next;
            history_free(&c->hist);
            free(c);
            c = next;
        }
    }
    free(S->buckets);
    S->buckets = NULL;
    S->nbuckets = S->nchannels = 0;
}
