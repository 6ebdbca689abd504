/* payload.c — the publisher's "fields" payload (payload.h). */
#include "payload.h"

#include <stdio.h>
#include <string.h>

#include "envelope.h"

int fl_payload_fields(char *buf, size_t cap, const char *ch, uint64_t n, uint32_t payload_bytes)
{
    char chj[ENV_CH_MAX * 6 + 8];
    if (envelope_json_str(chj, sizeof chj, ch, strlen(ch)) < 0)
        return -1;
    /* each field carries ~1/8 of the payload as padding ('a'..'h' by field,
     * so no two fields look alike) */
    size_t pad = payload_bytes > 8 * 24 ? (payload_bytes - 8 * 24) / FL_PAYLOAD_FIELDS : 1;
    int k = snprintf(buf, cap, "{\"n\":%llu,\"ch\":%s", (unsigned long long)n, chj);
    if (k < 0 || (size_t)k >= cap)
        return -1;
    size_t w = (size_t)k;
    for (unsigned f = 0; f < FL_PAYLOAD_FIELDS; f++) {
        int h = snprintf(buf + w, cap - w, ",\"f%u\":\"", f);
        if (h < 0 || (size_t)h >= cap - w || w + (size_t)h + pad + 32 >= cap)
            return -1;
        w += (size_t)h;
        memset(buf + w, 'a' + (int)f, pad);
        w += pad;
        h = snprintf(buf + w, cap - w, "-%llu\"", (unsigned long long)(n >> f));
        if (h < 0 || (size_t)h >= cap - w)
            return -1;
        w += (size_t)h;
    }
    if (w + 2 > cap)
        return -1;
    buf[w++] = '}';
    buf[w] = '\0';
    return (int)w;
}
