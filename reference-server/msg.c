/* msg.c — reference-counted, pre-formatted event envelopes. */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

uint64_t msg_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

msg *msg_new(const void *chan, const char *ch_name, uint64_t seq, int64_t ts_us,
             uint64_t stored_us, const char *data, size_t data_len, const char *idem,
             char *err, size_t errlen)
{
    /* Worst case: every byte of the name escaped as \u00XX, plus the fixed
     * keys and three 20-digit numbers. */
    size_t cap = strlen(ch_name) * 6 + data_len + 128;
    msg *m = malloc(sizeof(*m) + cap);
    if (!m) {
        snprintf(err, errlen, "out of memory for a %zu-byte event", data_len);
        return NULL;
    }
    int n = envelope_format(m->text, cap, ENV_T_EVENT, ch_name, seq, ts_us,
                            NULL, data, data_len);
    if (n < 0 || (size_t)n < data_len + 1 ||
        memcmp(m->text + n - 1 - data_len, data, data_len) != 0) {
        free(m);
        snprintf(err, errlen, "cannot format the envelope of %s seq %llu", ch_name,
                 (unsigned long long)seq);
        return NULL;
    }
    m->refs = 1;
    m->len = (uint32_t)n;
    m->data_off = (uint32_t)(n - 1 - data_len);
    m->data_len = (uint32_t)data_len;
    m->seq = seq;
    m->ts_us = ts_us;
    m->stored_us = stored_us;
    m->chan = chan;
    m->idem = NULL;
    m->idem_hash = 0;
    m->delta = NULL;
    m->delta_len = 0;
    if (idem) {
        m->idem = strdup(idem);
        if (!m->idem) {
            free(m);
            snprintf(err, errlen, "out of memory for an idempotency key");
            return NULL;
        }
        m->idem_hash = msg_hash(idem, strlen(idem));
    }
    return m;
}

msg *msg_ref(msg *m)
{
    if (m)
        m->refs++;
    return m;
}

void msg_unref(msg *m)
{
    if (!m || --m->refs)
        return;
    free(m->idem);
    free(m->delta);
    free(m);
}

int msg_set_delta(msg *m, const char *text, size_t len)
{
    char *d = malloc(len + 1);
    if (!d)
        return -1;
    memcpy(d, text, len);
    d[len] = '\0';
    free(m->delta);
    m->delta = d;
    m->delta_len = (uint32_t)len;
    return 0;
}
