/* sendq.c — bounded per-connection send queue with drop / coalesce /
 * snapshot / disconnect backpressure policies. */
#include "sendq.h"

#include <stdlib.h>
#include <string.h>

static const char *const policy_names[SENDQ_POLICY_COUNT] = {
    "drop", "coalesce", "snapshot", "disconnect",
};

int sendq_policy_parse(const char *s, sendq_policy *out)
{
    for (int i = 0; i < SENDQ_POLICY_COUNT; i++)
        if (strcmp(s, policy_names[i]) == 0) {
            *out = (sendq_policy)i;
            return 0;
        }
    return -1;
}

const char *sendq_policy_name(sendq_policy p)
{
    return (unsigned)p < SENDQ_POLICY_COUNT ? policy_names[p] : "?";
}

int sendq_shared_init(sendq_shared *sh, uint32_t max_msgs, size_t max_bytes, sendq_drop_fn on_drop,
                      void *ctx)
{
    memset(sh, 0, sizeof(*sh));
    sh->max_msgs = max_msgs < 2 ? 2 : max_msgs;
    sh->max_bytes = max_bytes ? max_bytes : 1;
    sh->on_drop = on_drop;
    sh->drop_ctx = ctx;
    /* a queue holds at most max_msgs + 1 items (a marker while a policy runs) */
    sh->at_depth = calloc((size_t)sh->max_msgs + 2, sizeof(*sh->at_depth));
    return sh->at_depth ? 0 : -1;
}

void sendq_shared_free(sendq_shared *sh)
{
    free(sh->at_depth);
    sh->at_depth = NULL;
}

void sendq_init(sendq *q, sendq_shared *sh)
{
    memset(q, 0, sizeof(*q));
    q->sh = sh;
}

/* A queue went from depth `from` to its current depth: the per-depth counts
 * and the deepest queue follow. Every public function that changes a
 * queue's length calls this once at its end. */
static void depth_moved(sendq *q, uint32_t from)
{
    sendq_shared *sh = q->sh;
    uint32_t to = q->count;
    if (from == to)
        return;
    sh->msgs += to;
    sh->msgs -= from;
    if (from)
        sh->at_depth[from]--;
    if (to)
        sh->at_depth[to]++;
    if (to > sh->max_depth)
        sh->max_depth = to;
    while (sh->max_depth && !sh->at_depth[sh->max_depth])
        sh->max_depth--;
}

static sendq_item *at(const sendq *q, uint32_t i)
{
    return &q->items[(q->head + i) % q->cap];
}

static void release(sendq *q, sendq_item *it, int dropped)
{
    if (it->m) {
        q->bytes -= it->m->len;
        q->sh->bytes -= it->m->len;
        if (dropped && q->sh->on_drop)
            q->sh->on_drop(it->tag, it->m, q->sh->drop_ctx);
        msg_unref(it->m);
    }
}

void sendq_free(sendq *q)
{
    uint32_t from = q->count;
    while (q->count) {
        release(q, at(q, 0), 0);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    if (q->sh)
        depth_moved(q, from);
    free(q->items);
    q->items = NULL;
    q->cap = 0;
}

/* Makes room for one more item; the array grows by doubling, at most to
 * max_msgs + 1 (the +1 holds a marker while the policy runs). */
static int reserve(sendq *q)
{
    if (q->count < q->cap)
        return 0;
    uint32_t ncap = q->cap ? q->cap * 2 : 8;
    if (ncap > q->sh->max_msgs + 1)
        ncap = q->sh->max_msgs + 1;
    if (ncap <= q->count)
        return -1;
    sendq_item *n = malloc(ncap * sizeof(*n));
    if (!n)
        return -1;
    for (uint32_t i = 0; i < q->count; i++)
        n[i] = *at(q, i);
    free(q->items);
    q->items = n;
    q->cap = ncap;
    q->head = 0;
    return 0;
}

static int append(sendq *q, msg *m, void *tag)
{
    if (reserve(q))
        return -1;
    sendq_item *it = at(q, q->count);
    it->m = msg_ref(m);
    it->tag = tag;
    q->count++;
    if (m) {
        q->bytes += m->len;
        q->sh->bytes += m->len;
    }
    return 0;
}

/* Keeps the items for which keep() says 1, in order; releases the others. */
static uint32_t filter(sendq *q, int (*keep)(sendq *q, uint32_t i, void *arg), void *arg,
                       int dropped)
{
    uint32_t w = 0, removed = 0, n = q->count;
    for (uint32_t r = 0; r < n; r++) {
        sendq_item *it = at(q, r);
        if (keep(q, r, arg)) {
            *at(q, w++) = *it;
        } else {
            release(q, it, dropped);
            removed++;
        }
    }
    q->count = w;
    return removed;
}

static int keep_not_tag(sendq *q, uint32_t i, void *tag)
{
    return at(q, i)->tag != tag;
}

/* keep[] precomputed by coalesce(): 1 for the items that stay. */
static int keep_marked(sendq *q, uint32_t i, void *arg)
{
    (void)q;
    return ((const unsigned char *)arg)[i];
}

/* Keeps only the newest event of each tag (markers stay). One pass from the
 * newest item back, remembering the tags seen; a connection has few
 * subscriptions, so the seen list stays short. Returns the events removed. */
static uint32_t coalesce(sendq *q)
{
    uint32_t n = q->count, nseen = 0;
    unsigned char *keep = malloc(n ? n : 1);
    void **seen = malloc((n ? n : 1) * sizeof(*seen));
    uint32_t removed = 0;
    if (keep && seen) {
        for (uint32_t i = n; i-- > 0;) {
            sendq_item *it = at(q, i);
            keep[i] = 1;
            if (!it->m)
                continue;
            uint32_t k = 0;
            while (k < nseen && seen[k] != it->tag)
                k++;
            if (k < nseen)
                keep[i] = 0;
            else
                seen[nseen++] = it->tag;
        }
        removed = filter(q, keep_marked, keep, 1);
    }
    free(keep);
    free(seen);
    return removed;
}

static int full(const sendq *q, size_t add_bytes)
{
    return q->count + 1 > q->sh->max_msgs || q->bytes + add_bytes > q->sh->max_bytes;
}

/* Removes the oldest event (not a marker). Returns 0, or -1 if none. */
static int drop_oldest_event(sendq *q)
{
    for (uint32_t i = 0; i < q->count; i++) {
        if (!at(q, i)->m)
            continue;
        release(q, at(q, i), 1);
        for (uint32_t j = i; j + 1 < q->count; j++)
            *at(q, j) = *at(q, j + 1);
        q->count--;
        return 0;
    }
    return -1;
}

static int replace_with_snapshots(sendq *q, void *tag, sendq_outcome *out)
{
    /* Collect the distinct tags first (at most count + 1 of them). */
    uint32_t n = q->count;
    void **tags = malloc((n + 1) * sizeof(*tags));
    if (!tags)
        return -1;
    uint32_t nt = 0;
    for (uint32_t i = 0; i <= n; i++) {
        void *t = i < n ? at(q, i)->tag : tag;
        uint32_t k = 0;
        while (k < nt && tags[k] != t)
            k++;
        if (k == nt)
            tags[nt++] = t;
    }
    while (q->count) {
        release(q, at(q, 0), at(q, 0)->m != NULL);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    q->head = 0;
    int rc = 0;
    for (uint32_t k = 0; k < nt && rc == 0; k++) {
        rc = append(q, NULL, tags[k]);
        if (rc == 0)
            out->snapshots++;
    }
    free(tags);
    return rc;
}

static int push(sendq *q, msg *m, void *tag, sendq_policy policy, sendq_outcome *out)
{
    if (full(q, m->len)) {
        switch (policy) {
        case SENDQ_DISCONNECT:
            out->disconnect = 1;
            return 0;
        case SENDQ_SNAPSHOT:
            return replace_with_snapshots(q, tag, out);
        case SENDQ_COALESCE:
            out->dropped += coalesce(q);
            /* fall through: still full → drop the oldest */
        case SENDQ_DROP:
        default:
            while (full(q, m->len)) {
                if (drop_oldest_event(q)) {
                    /* Only markers left: m itself is what goes. */
                    if (q->sh->on_drop)
                        q->sh->on_drop(tag, m, q->sh->drop_ctx);
                    out->dropped++;
                    return 0;
                }
                out->dropped++;
            }
            break;
        }
    }
    return append(q, m, tag);
}

int sendq_push(sendq *q, msg *m, void *tag, sendq_policy policy, sendq_outcome *out)
{
    uint32_t from = q->count;
    memset(out, 0, sizeof(*out));
    int rc = push(q, m, tag, policy, out);
    depth_moved(q, from);
    return rc;
}

int sendq_push_snapshot(sendq *q, void *tag)
{
    uint32_t from = q->count;
    filter(q, keep_not_tag, tag, 0);
    int rc = append(q, NULL, tag);
    depth_moved(q, from);
    return rc;
}

const sendq_item *sendq_peek(const sendq *q)
{
    return q->count ? at(q, 0) : NULL;
}

void sendq_pop(sendq *q)
{
    if (!q->count)
        return;
    release(q, at(q, 0), 0);
    q->head = (q->head + 1) % q->cap;
    q->count--;
    depth_moved(q, q->count + 1);
}

void sendq_remove_tag(sendq *q, void *tag)
{
    uint32_t from = q->count;
    filter(q, keep_not_tag, tag, 0);
    depth_moved(q, from);
}
