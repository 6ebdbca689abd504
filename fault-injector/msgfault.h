/* msgfault.h — what the WebSocket and SSE toxics share: the attributes of a
 * per-message fault (action, probability, delay, reorder gap, hold time) and
 * their parsing. ("after N messages" is the common schedule attribute
 * after_messages, which every toxic has.) */
#ifndef RTCHAOS_MSGFAULT_H
#define RTCHAOS_MSGFAULT_H
#include <stdint.h>
#include <jansson.h>
#include "delay.h"

typedef struct msgfault {
    int action;              /* index into the type's action names */
    double probability;      /* per message, drawn from the stage's PRNG */
    delay_spec delay;        /* action delay */
    int64_t gap;             /* reorder: later messages sent before the held one */
    int64_t hold_ms;         /* burst window; longest a reordered message waits */
} msgfault;

/* Defaults: action 0, probability 1, gap 1, hold_ms 1000. */
void msgfault_defaults(msgfault *m);
/* Parses one shared key. Returns 1 (was shared and valid), 0 (not a shared
 * key), -1 with err. */
int msgfault_parse_key(msgfault *m, const char *key, json_t *v, const char *const *actions,
                       char *err, size_t errlen);
/* Adds the shared keys to obj. */
void msgfault_to_json(const msgfault *m, const char *const *actions, json_t *obj);

#endif
