/* delay.h — random delays as netem draws them: latency ± jitter with a
 * uniform, normal or Pareto distribution, optionally correlated with the
 * previous draw. Shared by latency and the message-delay faults. */
#ifndef RTCHAOS_DELAY_H
#define RTCHAOS_DELAY_H
#include <stdint.h>
#include <jansson.h>
#include "prng.h"

typedef enum delay_dist { DELAY_UNIFORM = 0, DELAY_NORMAL, DELAY_PARETO } delay_dist;

typedef struct delay_spec {
    int64_t latency_ms;   /* centre (uniform, normal) or minimum (pareto) */
    int64_t jitter_ms;    /* uniform: ± half-width; normal: stddev; pareto: mean excess */
    delay_dist dist;
    double correlation;   /* 0..100 %: weight of the previous draw */
} delay_spec;

/* Per-connection memory of the previous draw (zero-initialised). */
typedef struct delay_state {
    int has_last;
    double last_z;
} delay_state;

/* The next delay in µs (never negative). Uniform: latency + U(-jitter,
 * +jitter) (Toxiproxy's semantics); normal: N(latency, jitter); pareto:
 * latency + Pareto(alpha 2.5) scaled so its mean is jitter. Correlation c
 * makes the underlying standard normal an AR(1) process z' = ρ z + √(1-ρ²) e,
 * so the marginal distribution is unchanged. */
int64_t delay_sample_us(const delay_spec *s, delay_state *st, prng *rng);

/* Parses one of the keys latency, jitter, distribution, correlation into s.
 * Returns 1 when key was one of them and is valid, 0 when key is not a
 * delay key, -1 with err when the value is bad. */
int delay_parse_key(delay_spec *s, const char *key, json_t *v, char *err, size_t errlen);
/* Adds the four keys to obj. */
void delay_to_json(const delay_spec *s, json_t *obj);

#endif
