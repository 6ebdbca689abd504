/* delay.c — netem-style random delay distributions with correlation. */
#include "delay.h"
#include "toxic.h"

#include <math.h>
#include <string.h>

#define PARETO_ALPHA 2.5

static const char *const DIST_NAMES[] = {"uniform", "normal", "pareto", NULL};

int64_t delay_sample_us(const delay_spec *s, delay_state *st, prng *rng)
{
    double lat_us = (double)s->latency_ms * 1000.0;
    double jit_us = (double)s->jitter_ms * 1000.0;
    if (jit_us <= 0)
        return (int64_t)lat_us;
    double z = prng_normal(rng, 0.0, 1.0);
    double rho = s->correlation / 100.0;
    if (rho > 0 && st->has_last)
        z = rho * st->last_z + sqrt(1.0 - rho * rho) * z;
    st->last_z = z;
    st->has_last = 1;
    double u = 0.5 * erfc(-z / M_SQRT2); /* standard normal CDF: uniform in (0,1) */
    double d;
    switch (s->dist) {
    case DELAY_NORMAL:
        d = lat_us + z * jit_us;
        break;
    case DELAY_PARETO: {
        double xm = jit_us * (PARETO_ALPHA - 1.0) / PARETO_ALPHA;
        if (u >= 1.0)
            u = 0.999999999;
        d = lat_us + xm / pow(1.0 - u, 1.0 / PARETO_ALPHA);
        break;
    }
    default:
        d = lat_us + (2.0 * u - 1.0) * jit_us;
        break;
    }
    return d < 0 ? 0 : (int64_t)d;
}

int delay_parse_key(delay_spec *s, const char *key, json_t *v, char *err, size_t errlen)
{
    const int64_t max_ms = 3600 * 1000;
    int d;
    if (strcmp(key, "latency") == 0)
        return tx_attr_int(v, key, 0, max_ms, &s->latency_ms, err, errlen) < 0 ? -1 : 1;
    if (strcmp(key, "jitter") == 0)
        return tx_attr_int(v, key, 0, max_ms, &s->jitter_ms, err, errlen) < 0 ? -1 : 1;
    if (strcmp(key, "correlation") == 0)
        return tx_attr_num(v, key, 0, 100, &s->correlation, err, errlen) < 0 ? -1 : 1;
    if (strcmp(key, "distribution") == 0) {
        if (tx_attr_enum(v, key, DIST_NAMES, &d, err, errlen) < 0)
            return -1;
        s->dist = (delay_dist)d;
        return 1;
    }
    return 0;
}

void delay_to_json(const delay_spec *s, json_t *obj)
{
    json_object_set_new(obj, "latency", json_integer(s->latency_ms));
    json_object_set_new(obj, "jitter", json_integer(s->jitter_ms));
    /* Only when set, so a plain latency toxic reads exactly as Toxiproxy's. */
    if (s->dist != DELAY_UNIFORM)
        json_object_set_new(obj, "distribution", json_string(DIST_NAMES[s->dist]));
    if (s->correlation > 0)
        json_object_set_new(obj, "correlation", json_real(s->correlation));
}
