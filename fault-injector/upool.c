/* upool.c — upstream pool selection (upool.h). */
#include <string.h>

#include "upool.h"

int upool_balance_parse(const char *s, upool_balance *out)
{
    if (strcmp(s, "roundrobin") == 0)
        *out = UPOOL_ROUNDROBIN;
    else if (strcmp(s, "leastconn") == 0)
        *out = UPOOL_LEASTCONN;
    else if (strcmp(s, "source") == 0)
        *out = UPOOL_SOURCE;
    else
        return -1;
    return 0;
}

const char *upool_balance_name(upool_balance b)
{
    return b == UPOOL_LEASTCONN ? "leastconn" : b == UPOOL_SOURCE ? "source" : "roundrobin";
}

void upool_init(upool *u, size_t n, upool_balance balance)
{
    memset(u, 0, sizeof(*u));
    u->n = n > UPOOL_MAX ? UPOOL_MAX : n;
    u->balance = balance;
}

int upool_is_up(const upool *u, size_t i, uint64_t now_us)
{
    return now_us >= u->down_until_us[i];
}

static size_t pick(upool *u, uint64_t src_hash, uint64_t now_us, int only_up)
{
    size_t n = u->n;
    switch (u->balance) {
    case UPOOL_SOURCE:
        for (size_t k = 0; k < n; k++) {
            size_t i = (size_t)((src_hash + k) % n);
            if (!only_up || upool_is_up(u, i, now_us))
                return i;
        }
        return n;
    case UPOOL_LEASTCONN: {
        size_t best = n;
        for (size_t k = 0; k < n; k++) {
            size_t i = (u->next + k) % n; /* ties: rotate */
            if (only_up && !upool_is_up(u, i, now_us))
                continue;
            if (best == n || u->active[i] < u->active[best])
                best = i;
        }
        if (best < n)
            u->next = (best + 1) % n;
        return best;
    }
    case UPOOL_ROUNDROBIN:
    default:
        for (size_t k = 0; k < n; k++) {
            size_t i = (u->next + k) % n;
            if (!only_up || upool_is_up(u, i, now_us)) {
                u->next = (i + 1) % n;
                return i;
            }
        }
        return n;
    }
}

size_t upool_pick(upool *u, uint64_t src_hash, uint64_t now_us)
{
    if (!u->n)
        return 0;
    size_t i = pick(u, src_hash, now_us, 1);
    if (i >= u->n)
        i = pick(u, src_hash, now_us, 0);
    u->active[i]++;
    u->picks[i]++;
    return i;
}

void upool_release(upool *u, size_t i)
{
    if (i < u->n && u->active[i])
        u->active[i]--;
}

void upool_mark_down(upool *u, size_t i, uint64_t now_us)
{
    if (i < u->n)
        u->down_until_us[i] = now_us + UPOOL_DOWN_US;
}
