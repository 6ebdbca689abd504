/* history.c — per-channel history ring (count + age bound), epoch, snapshot
 * value, idempotency keys and resync decisions. */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int history_init(history *h, const char *name, const char *epoch, const history_cfg *cfg,
                 char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    if (!envelope_channel_valid(name, strlen(name))) {
        snprintf(err, errlen, "invalid channel name");
        return -1;
    }
    if (strlen(epoch) > ENV_EPOCH_MAX || cfg->max_events < 1) {
        snprintf(err, errlen, "invalid epoch or history size");
        return -1;
    }
    /* The ring starts small and doubles as events come, up to max_events:
     * a channel nobody publishes on (or a quiet one) does not hold
     * max_events pointers (8 KB at the default 1,000) */
    h->cap = cfg->max_events < HISTORY_FIRST_CAP ? cfg->max_events : HISTORY_FIRST_CAP;
    h->ring = calloc(h->cap, sizeof(*h->ring));
    if (!h->ring) {
        snprintf(err, errlen, "out of memory for a %u-event history", h->cap);
        return -1;
    }
    snprintf(h->name, sizeof(h->name), "%s", name);
    snprintf(h->epoch, sizeof(h->epoch), "%s", epoch);
    h->cfg = *cfg;
    return 0;
}

/* Doubles the ring (at most to max_events), oldest first at slot 0.
 * Returns 0, or -1 when out of memory (nothing changed). */
static int grow(history *h)
{
    uint32_t ncap = h->cap > h->cfg.max_events / 2 ? h->cfg.max_events : h->cap * 2;
    msg **n = malloc(ncap * sizeof(*n));
    if (!n)
        return -1;
    for (uint32_t i = 0; i < h->count; i++)
        n[i] = h->ring[(h->start + i) % h->cap];
    memset(n + h->count, 0, (ncap - h->count) * sizeof(*n));
    free(h->ring);
    h->ring = n;
    h->cap = ncap;
    h->start = 0;
    return 0;
}

static void drop_oldest(history *h)
{
    msg_unref(h->ring[h->start]);
    h->ring[h->start] = NULL;
    h->start = (h->start + 1) % h->cap;
    h->count--;
}

void history_free(history *h)
{
    while (h->count)
        drop_oldest(h);
    free(h->ring);
    h->ring = NULL;
    msg_unref(h->last);
    h->last = NULL;
}

void history_evict_aged(history *h, uint64_t now_us)
{
    if (!h->cfg.max_age_us || now_us < h->cfg.max_age_us)
        return;
    uint64_t cutoff = now_us - h->cfg.max_age_us;
    while (h->count && h->ring[h->start]->stored_us < cutoff)
        drop_oldest(h);
}

static msg *find_idem(const history *h, const char *idem)
{
    uint64_t hash = msg_hash(idem, strlen(idem));
    /* Newest first: a retry usually follows its original closely. The ring is
     * bounded (max_events), so the scan is too. */
    for (uint32_t i = h->count; i-- > 0;) {
        msg *m = h->ring[(h->start + i) % h->cap];
        if (m->idem && m->idem_hash == hash && strcmp(m->idem, idem) == 0)
            return m;
    }
    return NULL;
}

int history_publish(history *h, const char *data, size_t data_len, int64_t ts_us,
                    const char *idem, uint64_t now_us, msg **out, int *dup,
                    char *err, size_t errlen)
{
    history_evict_aged(h, now_us);
    *dup = 0;
    if (idem) {
        msg *orig = find_idem(h, idem);
        if (orig) {
            *dup = 1;
            *out = orig;
            return 0;
        }
    }
    if (h->count == h->cap && h->cap < h->cfg.max_events && grow(h)) {
        snprintf(err, errlen, "out of memory for the channel's history");
        return -1;
    }
    msg *m = msg_new(h, h->name, h->head + 1, ts_us, now_us, data, data_len, idem, err, errlen);
    if (!m)
        return -1;
    h->head++;
    if (h->count == h->cfg.max_events)
        drop_oldest(h);
    h->ring[(h->start + h->count) % h->cap] = msg_ref(m);
    h->count++;
    msg_unref(h->last);
    h->last = m; /* the reference from msg_new */
    *out = m;
    return 0;
}

uint64_t history_oldest(const history *h)
{
    return h->count ? h->ring[h->start]->seq : h->head + 1;
}

msg *history_get(const history *h, uint64_t seq)
{
    uint64_t oldest = history_oldest(h);
    if (!h->count || seq < oldest || seq > h->head)
        return NULL;
    /* Seqs in the ring are consecutive (each publish appends head+1). */
    return h->ring[(h->start + (uint32_t)(seq - oldest)) % h->cap];
}

history_resync history_resync_decide(history *h, int has_since, uint64_t since,
                                     const char *epoch, uint64_t now_us)
{
    history_evict_aged(h, now_us);
    if (!has_since)
        return HISTORY_UP_TO_DATE;
    if (epoch && strcmp(epoch, h->epoch) != 0)
        return HISTORY_SNAPSHOT;
    if (since > h->head)
        return HISTORY_SNAPSHOT;
    if (since == h->head)
        return HISTORY_UP_TO_DATE;
    return since + 1 >= history_oldest(h) && h->count ? HISTORY_REPLAY : HISTORY_SNAPSHOT;
}

void history_reset(history *h, const char *new_epoch)
{
    while (h->count)
        drop_oldest(h);
    h->start = 0;
    msg_unref(h->last);
    h->last = NULL;
    snprintf(h->epoch, sizeof(h->epoch), "%s", new_epoch);
}

void history_rebase(history *h, const char *new_epoch, uint64_t head)
{
    history_reset(h, new_epoch);
    h->head = head;
}
