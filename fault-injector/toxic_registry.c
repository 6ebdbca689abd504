/* toxic_registry.c — maps toxic type names to their implementations: adding
 * a fault is one toxic_<name>.c file and one line here. */
#include "toxic.h"

#include <string.h>

extern const toxic_type toxic_latency_type;
extern const toxic_type toxic_bandwidth_type;
extern const toxic_type toxic_slow_close_type;
extern const toxic_type toxic_timeout_type;
extern const toxic_type toxic_reset_peer_type;
extern const toxic_type toxic_slicer_type;
extern const toxic_type toxic_limit_data_type;
extern const toxic_type toxic_blackhole_type;
extern const toxic_type toxic_refuse_type;
extern const toxic_type toxic_ws_type;
extern const toxic_type toxic_sse_type;
extern const toxic_type toxic_disconnect_type;

static const toxic_type *const REGISTRY[] = {
    &toxic_latency_type,
    &toxic_bandwidth_type,
    &toxic_slow_close_type,
    &toxic_timeout_type,
    &toxic_reset_peer_type,
    &toxic_slicer_type,
    &toxic_limit_data_type,
    &toxic_blackhole_type,
    &toxic_refuse_type,
    &toxic_ws_type,
    &toxic_sse_type,
    &toxic_disconnect_type,
    NULL,
};

const toxic_type *toxic_registry_find(const char *name)
{
    for (int i = 0; REGISTRY[i]; i++)
        if (strcmp(REGISTRY[i]->name, name) == 0)
            return REGISTRY[i];
    return NULL;
}

const toxic_type *const *toxic_registry_all(void)
{
    return REGISTRY;
}
