/* msgfault.c — shared attributes of the per-message faults. */
#include "msgfault.h"
#include "toxic.h"

#include <string.h>

void msgfault_defaults(msgfault *m)
{
    memset(m, 0, sizeof *m);
    m->probability = 1.0;
    m->gap = 1;
    m->hold_ms = 1000;
}

int msgfault_parse_key(msgfault *m, const char *key, json_t *v, const char *const *actions,
                       char *err, size_t errlen)
{
    const int64_t max_ms = 3600 * 1000;
    if (strcmp(key, "action") == 0)
        return tx_attr_enum(v, key, actions, &m->action, err, errlen) < 0 ? -1 : 1;
    if (strcmp(key, "probability") == 0)
        return tx_attr_num(v, key, 0, 1, &m->probability, err, errlen) < 0 ? -1 : 1;
    if (strcmp(key, "gap") == 0)
        return tx_attr_int(v, key, 1, 1000000, &m->gap, err, errlen) < 0 ? -1 : 1;
    if (strcmp(key, "hold_ms") == 0)
        return tx_attr_int(v, key, 0, max_ms, &m->hold_ms, err, errlen) < 0 ? -1 : 1;
    return delay_parse_key(&m->delay, key, v, err, errlen);
}

void msgfault_to_json(const msgfault *m, const char *const *actions, json_t *obj)
{
    json_object_set_new(obj, "action", json_string(actions[m->action]));
    json_object_set_new(obj, "probability", json_real(m->probability));
    json_object_set_new(obj, "gap", json_integer(m->gap));
    json_object_set_new(obj, "hold_ms", json_integer(m->hold_ms));
    delay_to_json(&m->delay, obj);
}
