/* sec_ratelimit.c — integer token buckets and a bounded keyed table of them. */
#include "sec_ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MICRO 1000000ULL
#define PROBE 8 /* slots looked at per key before reusing the idlest */

int sec_bucket_take(sec_bucket *b, const sec_rate *r, uint64_t now_us, uint32_t n,
                    uint64_t *retry_after_us)
{
    if (r->rate_per_s == 0)
        return 1;
    uint64_t cap = (uint64_t)r->burst * MICRO;
    if (b->last_us == 0) {
        b->micro_tokens = cap;
        b->last_us = now_us ? now_us : 1;
    } else if (now_us > b->last_us) {
        uint64_t elapsed = now_us - b->last_us;
        /* beyond the time to refill from empty, more elapsed time changes
         * nothing; the cap also keeps the product below 2^64 */
        uint64_t full_us = cap / r->rate_per_s + 1;
        if (elapsed > full_us)
            elapsed = full_us;
        b->micro_tokens += elapsed * r->rate_per_s;
        if (b->micro_tokens > cap)
            b->micro_tokens = cap;
        b->last_us = now_us;
    }
    uint64_t want = (uint64_t)n * MICRO;
    if (n <= r->burst && b->micro_tokens >= want) {
        b->micro_tokens -= want;
        return 1;
    }
    if (retry_after_us) {
        if (n > r->burst)
            *retry_after_us = UINT64_MAX;
        else
            *retry_after_us = (want - b->micro_tokens + r->rate_per_s - 1) / r->rate_per_s;
    }
    return 0;
}

int sec_rate_parse(const char *s, sec_rate *out, char *err, size_t errlen)
{
    if (strcmp(s, "0") == 0 || strcmp(s, "off") == 0) {
        *out = (sec_rate){ 0, 0 };
        return 0;
    }
    char *end;
    unsigned long rate = strtoul(s, &end, 10);
    if (end == s || strncmp(end, "/s", 2) != 0 || rate == 0 || rate > 1000000) {
        snprintf(err, errlen, "rate '%s': expected N/s or N/s:BURST with 1 <= N <= 1000000", s);
        return -1;
    }
    end += 2;
    unsigned long burst = rate;
    if (*end == ':') {
        char *bend;
        burst = strtoul(end + 1, &bend, 10);
        if (bend == end + 1 || *bend || burst == 0 || burst > 1000000) {
            snprintf(err, errlen, "rate '%s': burst must be 1..1000000", s);
            return -1;
        }
    } else if (*end) {
        snprintf(err, errlen, "rate '%s': trailing '%s'", s, end);
        return -1;
    }
    *out = (sec_rate){ (uint32_t)rate, (uint32_t)burst };
    return 0;
}

typedef struct slot {
    char key[SEC_RATETAB_KEY_MAX + 1]; /* "" = free */
    sec_bucket b;
} slot;

struct sec_ratetab {
    slot *slots;
    size_t mask;
    size_t used;
    uint64_t evictions;
    sec_rate rate;
    uint64_t seed;
};

sec_ratetab *sec_ratetab_new(size_t slots, sec_rate rate, uint64_t seed, char *err, size_t errlen)
{
    size_t n = 16;
    while (n < slots && n < ((size_t)1 << 24))
        n <<= 1;
    sec_ratetab *t = calloc(1, sizeof *t);
    if (t)
        t->slots = calloc(n, sizeof *t->slots);
    if (!t || !t->slots) {
        free(t);
        snprintf(err, errlen, "out of memory for %zu rate-limit slots", n);
        return NULL;
    }
    t->mask = n - 1;
    t->rate = rate;
    t->seed = seed;
    return t;
}

void sec_ratetab_free(sec_ratetab *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

/* FNV-1a mixed with the table's seed, then finalized (splitmix64) so that the
 * low bits used for the slot index depend on every input bit. */
static uint64_t key_hash(uint64_t seed, const char *k, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)k[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

int sec_ratetab_take(sec_ratetab *t, const char *key, uint64_t now_us, uint32_t n,
                     uint64_t *retry_after_us)
{
    size_t len = key ? strnlen(key, SEC_RATETAB_KEY_MAX + 1) : 0;
    if (len == 0 || len > SEC_RATETAB_KEY_MAX) {
        if (retry_after_us)
            *retry_after_us = MICRO;
        return 0;
    }
    if (t->rate.rate_per_s == 0)
        return 1;
    size_t base = (size_t)key_hash(t->seed, key, len);
    slot *victim = NULL, *free_slot = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &t->slots[(base + i) & t->mask];
        if (s->key[0] == 0) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (strcmp(s->key, key) == 0)
            return sec_bucket_take(&s->b, &t->rate, now_us, n, retry_after_us);
        if (!victim || s->b.last_us < victim->b.last_us)
            victim = s;
    }
    slot *s = free_slot;
    if (!s) {
        s = victim;
        t->evictions++;
    } else {
        t->used++;
    }
    memcpy(s->key, key, len + 1);
    s->b = (sec_bucket){ 0, 0 };
    return sec_bucket_take(&s->b, &t->rate, now_us, n, retry_after_us);
}

size_t sec_ratetab_used(const sec_ratetab *t)
{
    return t->used;
}

uint64_t sec_ratetab_evictions(const sec_ratetab *t)
{
    return t->evictions;
}
