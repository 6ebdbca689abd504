/* sec_channel.c — strict channel-name validation for names clients send. */
#include "sec_channel.h"

#include <stdio.h>

#include "envelope.h"

int sec_channel_check(const char *name, size_t len, char *err, size_t errlen)
{
    if (!name || len == 0) {
        snprintf(err, errlen, "empty channel name");
        return -1;
    }
    if (len > ENV_CH_MAX) {
        snprintf(err, errlen, "channel name longer than %d bytes", ENV_CH_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-')) {
            snprintf(err, errlen, "channel name has byte 0x%02x at %zu (allowed: A-Z a-z 0-9 . _ : -)",
                     c, i);
            return -1;
        }
    }
    if (!envelope_channel_valid(name, len)) {
        snprintf(err, errlen, "channel name starts or ends with '.' or has an empty segment");
        return -1;
    }
    size_t segs = 0, seg_start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.')
            continue;
        size_t seg_len = i - seg_start;
        if (++segs > SEC_CHANNEL_SEGMENTS_MAX) {
            snprintf(err, errlen, "channel name has more than %d segments",
                     SEC_CHANNEL_SEGMENTS_MAX);
            return -1;
        }
        if (seg_len > SEC_CHANNEL_SEGMENT_MAX) {
            snprintf(err, errlen, "channel segment longer than %d bytes", SEC_CHANNEL_SEGMENT_MAX);
            return -1;
        }
        int only_sep = 1;
        for (size_t k = seg_start; k < i; k++)
            if (name[k] != '-' && name[k] != '_' && name[k] != ':')
                only_sep = 0;
        if (only_sep) {
            snprintf(err, errlen, "channel segment made only of '-', '_' or ':'");
            return -1;
        }
        seg_start = i + 1;
    }
    return 0;
}
