/* upool.h — a proxy's upstream pool: several addresses, a balance policy
 * (roundrobin, leastconn, source = sticky by client address) and passive
 * health (an upstream whose connect failed is skipped for a while). Pure
 * selection logic, the clock passed in (tests/unit/test_upool.c). */
#ifndef RTCHAOS_PROXY_UPOOL_H
#define RTCHAOS_PROXY_UPOOL_H
#include <stddef.h>
#include <stdint.h>

#define UPOOL_MAX 32
/* An upstream whose connect failed is skipped this long. */
#define UPOOL_DOWN_US 2000000ULL

typedef enum upool_balance { UPOOL_ROUNDROBIN = 0, UPOOL_LEASTCONN, UPOOL_SOURCE } upool_balance;

/* Lifetime: embedded in its proxy; not thread-safe (one event loop). */
typedef struct upool {
    size_t n;                    /* 0 = no pool: the proxy's one upstream */
    upool_balance balance;
    uint64_t active[UPOOL_MAX];  /* connections open to each */
    uint64_t down_until_us[UPOOL_MAX];
    uint64_t picks[UPOOL_MAX];   /* connections sent to each, ever */
    size_t next;                 /* roundrobin cursor */
} upool;

/* "roundrobin" | "leastconn" | "source" -> 0, else -1. */
int upool_balance_parse(const char *s, upool_balance *out);
const char *upool_balance_name(upool_balance b);

/* Resets the pool to n upstreams (<= UPOOL_MAX), all up. */
void upool_init(upool *u, size_t n, upool_balance balance);

/* Picks an upstream for a client whose address hashes to src_hash, at
 * now_us: by the policy among the upstreams not marked down; when all are
 * down, by the policy among all (a pool never refuses by itself). source
 * keeps a client on its upstream while it is up and moves it (to the next
 * one up, deterministically) while it is down. Counts it active. */
size_t upool_pick(upool *u, uint64_t src_hash, uint64_t now_us);

/* A connection to upstream i ended (after upool_pick). */
void upool_release(upool *u, size_t i);

/* Upstream i refused or failed a connect: skip it until now + UPOOL_DOWN_US. */
void upool_mark_down(upool *u, size_t i, uint64_t now_us);

/* Whether upstream i is considered up at now_us. */
int upool_is_up(const upool *u, size_t i, uint64_t now_us);

#endif
