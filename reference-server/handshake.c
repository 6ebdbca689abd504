/* handshake.c — the handshake deadline's bookkeeping: a fixed pool of
 * entries kept in arrival order, so the oldest is always at the head and
 * expiry is a walk from the head that stops at the first one still in time. */
#include "handshake.h"

#include <stdlib.h>

typedef struct hs_entry {
    struct hs_entry *prev, *next; /* arrival order while pending; next = free list otherwise */
    void *conn;
    uint64_t start_us;
    int live;
} hs_entry;

struct handshake_table {
    hs_entry *pool;
    size_t cap;
    uint64_t timeout_us;
    hs_entry *head, *tail;        /* pending, oldest first */
    hs_entry *free_list;
    handshake_stats st;
};

handshake_table *handshake_new(size_t cap, uint64_t timeout_us)
{
    handshake_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->pool = calloc(cap ? cap : 1, sizeof *t->pool);
    if (!t->pool) {
        free(t);
        return NULL;
    }
    t->cap = cap;
    t->timeout_us = timeout_us;
    for (size_t i = cap; i-- > 0;) {
        t->pool[i].next = t->free_list;
        t->free_list = &t->pool[i];
    }
    return t;
}

void handshake_free(handshake_table *t)
{
    if (!t)
        return;
    free(t->pool);
    free(t);
}

void *handshake_begin(handshake_table *t, void *conn, uint64_t now_us)
{
    hs_entry *e = t->free_list;
    if (!e) {
        t->st.untracked++;
        return NULL;
    }
    t->free_list = e->next;
    e->conn = conn;
    e->start_us = now_us;
    e->live = 1;
    e->next = NULL;
    e->prev = t->tail;
    if (t->tail)
        t->tail->next = e;
    else
        t->head = e;
    t->tail = e;
    t->st.started++;
    t->st.pending++;
    return e;
}

int handshake_owns(const handshake_table *t, const void *token)
{
    const hs_entry *e = token;
    if (!t || !e || e < t->pool || e >= t->pool + t->cap)
        return 0;
    return e->live;
}

static void unlink_entry(handshake_table *t, hs_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t->tail = e->prev;
    e->live = 0;
    e->conn = NULL;
    e->prev = NULL;
    e->next = t->free_list;
    t->free_list = e;
    t->st.pending--;
}

void handshake_end(handshake_table *t, void *token, const void *conn, int completed)
{
    if (!handshake_owns(t, token) || ((hs_entry *)token)->conn != conn)
        return;
    unlink_entry(t, token);
    if (completed)
        t->st.completed++;
}

size_t handshake_expire(handshake_table *t, uint64_t now_us, void (*cut)(void *conn, void *ud), void *ud)
{
    size_t n = 0;
    while (t->head && now_us >= t->head->start_us + t->timeout_us) {
        hs_entry *e = t->head;
        void *conn = e->conn;
        unlink_entry(t, e);
        t->st.timeouts++;
        n++;
        cut(conn, ud);
    }
    return n;
}

uint64_t handshake_oldest_us(const handshake_table *t, uint64_t now_us)
{
    if (!t->head || now_us < t->head->start_us)
        return 0;
    return now_us - t->head->start_us;
}

void handshake_get_stats(const handshake_table *t, handshake_stats *out)
{
    *out = t->st;
}
