/* sec_storm.c — connection-storm guard with jittered retry hints. */
#include "sec_storm.h"

#include <string.h>

void sec_storm_init(sec_storm *g, const sec_storm_cfg *cfg, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->cfg = *cfg;
    prng_seed(&g->rng, seed);
}

static uint32_t retry_hint(sec_storm *g, uint64_t need_us)
{
    uint64_t ms = need_us == UINT64_MAX ? 60000 : (need_us + 999) / 1000;
    if (ms < g->cfg.retry_min_ms)
        ms = g->cfg.retry_min_ms;
    if (ms > 600000)
        ms = 600000;
    if (g->cfg.retry_spread_ms)
        ms += prng_below(&g->rng, (uint64_t)g->cfg.retry_spread_ms + 1);
    return (uint32_t)ms;
}

int sec_storm_admit(sec_storm *g, uint64_t now_us, uint32_t *retry_after_ms)
{
    if (g->cfg.max_pending && g->pending >= g->cfg.max_pending) {
        g->rejected_pending++;
        *retry_after_ms = retry_hint(g, 0);
        return 0;
    }
    uint64_t need_us = 0;
    if (!sec_bucket_take(&g->bucket, &g->cfg.new_conns, now_us, 1, &need_us)) {
        g->rejected_rate++;
        *retry_after_ms = retry_hint(g, need_us);
        return 0;
    }
    g->pending++;
    g->admitted++;
    return 1;
}

void sec_storm_settled(sec_storm *g)
{
    if (g->pending > 0)
        g->pending--;
}
