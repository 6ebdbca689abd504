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
extern const toxic_type toxic_ws_drop_type;
extern const toxic_type toxic_ws_duplicate_type;
extern const toxic_type toxic_ws_delay_type;
extern const toxic_type toxic_ws_reorder_type;
extern const toxic_type toxic_ws_burst_type;
extern const toxic_type toxic_ws_corrupt_type;
extern const toxic_type toxic_ws_fragment_type;
extern const toxic_type toxic_ws_split_type;
extern const toxic_type toxic_ws_close_type;
extern const toxic_type toxic_ws_swallow_ping_type;
extern const toxic_type toxic_ws_swallow_pong_type;
extern const toxic_type toxic_sse_type;
extern const toxic_type toxic_sse_drop_type;
extern const toxic_type toxic_sse_duplicate_type;
extern const toxic_type toxic_sse_delay_type;
extern const toxic_type toxic_sse_reorder_type;
extern const toxic_type toxic_sse_burst_type;
extern const toxic_type toxic_sse_corrupt_type;
extern const toxic_type toxic_sse_strip_id_type;
extern const toxic_type toxic_sse_inject_retry_type;
extern const toxic_type toxic_sse_cut_type;
extern const toxic_type toxic_sse_suppress_heartbeat_type;
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
    &toxic_ws_drop_type,
    &toxic_ws_duplicate_type,
    &toxic_ws_delay_type,
    &toxic_ws_reorder_type,
    &toxic_ws_burst_type,
    &toxic_ws_corrupt_type,
    &toxic_ws_fragment_type,
    &toxic_ws_split_type,
    &toxic_ws_close_type,
    &toxic_ws_swallow_ping_type,
    &toxic_ws_swallow_pong_type,
    &toxic_sse_type,
    &toxic_sse_drop_type,
    &toxic_sse_duplicate_type,
    &toxic_sse_delay_type,
    &toxic_sse_reorder_type,
    &toxic_sse_burst_type,
    &toxic_sse_corrupt_type,
    &toxic_sse_strip_id_type,
    &toxic_sse_inject_retry_type,
    &toxic_sse_cut_type,
    &toxic_sse_suppress_heartbeat_type,
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
