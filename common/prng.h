/* prng.h — seeded, reproducible randomness (xoshiro256** seeded by splitmix64). */
#ifndef RTCHAOS_PRNG_H
#define RTCHAOS_PRNG_H
#include <stdint.h>

/* One generator per component, thread or toxic; not thread-safe (do not share
 * one across threads). Every random decision goes through one of these so a
 * run can be replayed from its printed seed. */
typedef struct prng {
    uint64_t s[4];
} prng;

/* Seeds p from seed; the same seed always gives the same sequence. */
void prng_seed(prng *p, uint64_t seed);

/* Derives an independent, reproducible sub-seed from a parent seed and a
 * stream id (e.g. toxic name hash, client index): seed per child. */
uint64_t prng_derive(uint64_t seed, uint64_t stream);

/* 64-bit FNV-1a of a string, to turn names into stream ids for prng_derive. */
uint64_t prng_hash_str(const char *s);

uint64_t prng_next(prng *p);
/* Uniform double in [0, 1). */
double prng_uniform(prng *p);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection sampling). */
uint64_t prng_below(prng *p, uint64_t n);
/* True with probability prob (clamped to [0,1]). */
int prng_chance(prng *p, double prob);
/* Normal(mean, stddev) by Box-Muller. */
double prng_normal(prng *p, double mean, double stddev);
/* Exponential with the given mean (inter-arrival times of a Poisson process). */
double prng_exp(prng *p, double mean);
/* Pareto with scale xm > 0 and shape alpha > 0 (heavy-tailed delays). */
double prng_pareto(prng *p, double xm, double alpha);

#endif
