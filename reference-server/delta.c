/* delta.c — delta payloads (--delta-channels): each event of a declared
 * channel also gets a second envelope whose data is the JSON Merge Patch
 * (RFC 7386/7396, common/mergepatch.c) from the previous event's value to
 * its own, marked "delta":"merge-patch". It is made once at publish and
 * shared by every subscriber; the writer (conn.c) picks it only for a
 * subscription that asked for deltas and holds the previous value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mergepatch.h"
#include "server.h"

#define DELTA_MARK ",\"delta\":\"merge-patch\",\"data\":"

/* --delta-break-every: the patch loses one member (the last one jansson
 * lists), so the rebuilt value is wrong. Only for proving that a client's
 * check notices. */
static void break_patch(json_t *p)
{
    const char *k, *last = NULL;
    json_t *v;
    json_object_foreach(p, k, v)
        last = k;
    if (last)
        json_object_del(p, last);
}

void delta_attach(srv *S, channel *ch, const msg *prev, msg *m)
{
    if (!ch->delta || !prev || prev->seq + 1 != m->seq)
        return;
    json_t *from = json_loadb(msg_data(prev), prev->data_len, JSON_DECODE_ANY, NULL);
    json_t *to = json_loadb(msg_data(m), m->data_len, JSON_DECODE_ANY, NULL);
    json_t *patch = from && to ? mergepatch_diff(from, to) : NULL;
    char *ptext = NULL;
    if (patch && S->cfg->delta_break_every && ++S->delta_made % (uint64_t)S->cfg->delta_break_every == 0)
        break_patch(patch);
    if (patch)
        ptext = json_dumps(patch, JSON_COMPACT);
    size_t plen = ptext ? strlen(ptext) : 0;
    /* the whole value when the delta envelope would not be smaller: it
     * has the marker where the whole one has ,"data": */
    if (ptext && sizeof(DELTA_MARK) - 1 + plen < strlen(",\"data\":") + m->data_len) {
        /* the full envelope is <prefix>"data":<data>} (msg.h); the delta
         * envelope is the prefix without ,"data":, the marker, the patch */
        size_t head = m->data_off - strlen(",\"data\":");
        size_t cap = head + sizeof(DELTA_MARK) + plen + 2;
        char *buf = malloc(cap);
        if (buf && memcmp(msg_env(m) + head, ",\"data\":", 8) == 0) {
            memcpy(buf, msg_env(m), head);
            memcpy(buf + head, DELTA_MARK, sizeof(DELTA_MARK) - 1);
            size_t n = head + sizeof(DELTA_MARK) - 1;
            memcpy(buf + n, ptext, plen);
            n += plen;
            buf[n++] = '}';
            if (msg_set_delta(m, buf, n) == 0)
                S->m.delta_events_made++;
        }
        free(buf);
    }
    free(ptext);
    json_decref(patch);
    json_decref(from);
    json_decref(to);
}
