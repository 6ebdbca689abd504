/* prng.c — xoshiro256** seeded by splitmix64, plus the distributions faults use. */
#include "prng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void prng_seed(prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&x);
}

uint64_t prng_derive(uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    splitmix64(&x);
    return splitmix64(&x);
}

uint64_t prng_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double prng_uniform(prng *p)
{
    return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

uint64_t prng_below(prng *p, uint64_t n)
{
    /* Lemire-style rejection: discard the low zone that would bias the modulo. */
    uint64_t threshold = -n % n;
    for (;;) {
        uint64_t r = prng_next(p);
        if (r >= threshold)
            return r % n;
    }
}

int prng_chance(prng *p, double prob)
{
    if (prob <= 0.0)
        return 0;
    if (prob >= 1.0)
        return 1;
    return prng_uniform(p) < prob;
}

double prng_normal(prng *p, double mean, double stddev)
{
    double u1 = prng_uniform(p), u2 = prng_uniform(p);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return mean + stddev * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double prng_exp(prng *p, double mean)
{
    double u = prng_uniform(p);
    return -mean * log(1.0 - u);
}

double prng_pareto(prng *p, double xm, double alpha)
{
    double u = prng_uniform(p);
    return xm / pow(1.0 - u, 1.0 / alpha);
}
