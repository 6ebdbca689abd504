/* sec_ratelimit.h — token buckets on an injected clock, alone (per
 * connection) or in a bounded table keyed by a string (per account, per
 * source address). */
#ifndef RTCHAOS_SEC_RATELIMIT_H
#define RTCHAOS_SEC_RATELIMIT_H
#include <stddef.h>
#include <stdint.h>

/* A rate: rate_per_s tokens per second, at most burst saved up. rate_per_s 0
 * means unlimited. */
typedef struct sec_rate {
    uint32_t rate_per_s;
    uint32_t burst;
} sec_rate;

/* One bucket. Tokens are kept in millionths so that refill is exact integer
 * arithmetic (elapsed_us × rate_per_s millionths). Zero it, then let the first
 * sec_bucket_take fill it to burst. */
typedef struct sec_bucket {
    uint64_t micro_tokens;
    uint64_t last_us; /* 0: never used */
} sec_bucket;

/* Takes n tokens from b at time now_us (any monotonic µs clock). Returns 1 when
 * they were there (and are now taken), 0 when the caller is over the limit;
 * then *retry_after_us (may be NULL) is how long until n tokens are back.
 * n > burst is never granted. Not thread-safe (one owner per bucket). */
int sec_bucket_take(sec_bucket *b, const sec_rate *r, uint64_t now_us, uint32_t n,
                    uint64_t *retry_after_us);

/* Parses "RATE/s" or "RATE/s:BURST" (burst defaults to rate, at least 1), or
 * "0" / "off" for unlimited. Returns 0, or -1 with a message in err. */
int sec_rate_parse(const char *s, sec_rate *out, char *err, size_t errlen);

/* A table of buckets keyed by short strings, bounded in memory: at most
 * `slots` entries, found by a seeded hash (so remote peers cannot aim keys
 * at one chain). When the probe window is full, the entry idle longest is
 * reused: an evicted key starts again with a full burst, which bounds memory
 * at the cost of forgiving the quietest key. Not thread-safe. */
typedef struct sec_ratetab sec_ratetab;

#define SEC_RATETAB_KEY_MAX 127 /* longer keys are refused */

/* Makes a table of `slots` entries (rounded up to a power of two, at least
 * 16) with one rate for every key; seed varies the hash. Returns NULL with a
 * message in err. The caller frees it with sec_ratetab_free. */
sec_ratetab *sec_ratetab_new(size_t slots, sec_rate rate, uint64_t seed, char *err, size_t errlen);
void sec_ratetab_free(sec_ratetab *t);

/* sec_bucket_take on the bucket of key (made on first use). A key that is
 * empty or longer than SEC_RATETAB_KEY_MAX is refused (returns 0, retry 1 s). */
int sec_ratetab_take(sec_ratetab *t, const char *key, uint64_t now_us, uint32_t n,
                     uint64_t *retry_after_us);

/* Entries in use, and how many times an entry was taken over by another key. */
size_t sec_ratetab_used(const sec_ratetab *t);
uint64_t sec_ratetab_evictions(const sec_ratetab *t);

#endif
