/* sec_channel.h — strict validation of client-supplied channel names, on top
 * of the wire contract's charset check (envelope_channel_valid). */
#ifndef RTCHAOS_SEC_CHANNEL_H
#define RTCHAOS_SEC_CHANNEL_H
#include <stddef.h>

#define SEC_CHANNEL_SEGMENTS_MAX 16 /* most '.'-separated segments in a name */
#define SEC_CHANNEL_SEGMENT_MAX  64 /* longest segment, bytes */

/* Whether name[0..len) is a channel a client may name: envelope_channel_valid
 * (1..ENV_CH_MAX bytes of [A-Za-z0-9._:-], no leading/trailing '.', no "..")
 * and also at most SEC_CHANNEL_SEGMENTS_MAX segments of at most
 * SEC_CHANNEL_SEGMENT_MAX bytes, and no segment made only of '-', '_' or ':'. Wildcards ('*', '>'),
 * '/', '%', '\' and whitespace are refused by the charset. Returns 0, or -1
 * with the reason in err. Thread-safe. */
int sec_channel_check(const char *name, size_t len, char *err, size_t errlen);

#endif
