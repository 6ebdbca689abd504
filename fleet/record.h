/* record.h — the publisher's own record embedded in every payload sent to a server without sequence numbers of its own: run id, channel, per-channel seq, scheduled ts. */
#ifndef RTCHAOS_RECORD_H
#define RTCHAOS_RECORD_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

/* A payload is one compact JSON object:
 *     {"run":"<run id>","ch":"<channel>","seq":<n>,"ts":<µs>,"data":<padding>}
 * seq counts the publisher's events per channel from 1; ts is the event's
 * scheduled wall time in µs (latency = receive − ts, no coordinated
 * omission). The run id tells this run's events from what a long-lived
 * server still buffers from earlier runs. */

#define RECORD_RUN_MAX 48

typedef struct record {
    char run[RECORD_RUN_MAX + 1];
    char ch[ENV_CH_MAX + 1];
    uint64_t seq;
    int64_t ts_us;
    /* "data" when it is a JSON string (the publisher's string payload,
     * payload.h), judged here where its text is at hand: data_str, its
     * length between the quotes, whether it begins with a stamp, and
     * whether it checks out for ch (fl_payload_value_check) */
    int data_str, data_stamped, data_ok;
    size_t data_len;
} record;

/* Formats a record with data (raw JSON text, e.g. a padded string) into
 * buf. Returns the length (without the NUL), or -1 when it does not fit. */
int record_format(char *buf, size_t cap, const char *run, const char *ch, uint64_t seq, int64_t ts_us,
                  const char *data, size_t data_len);

/* Reads a record from a payload (any key order, other keys ignored).
 * Returns 0, or -1 with a message in err when the payload is not a JSON
 * object with a string run and ch, a positive integer seq and an integer ts.
 * Thread-safe. */
int record_scan(const char *buf, size_t len, record *out, char *err, size_t errlen);

/* The same, for a record inside the message: path is a dot path of object
 * keys ("data", "push.pub.data"; "" = the message itself). A value at the
 * path that is a string is read as JSON text (services that pass the
 * payload on as an encoded string). Returns -2 (with a message) when the
 * message is a JSON object without that path: a control message of the
 * service (e.g. a subscription notice), not a payload. */
int record_scan_path(const char *buf, size_t len, const char *path, record *out, char *err, size_t errlen);

/* record_scan_path that also reads the server's offset at offset_path (a
 * dot path from the message's root; NULL or "" = none): *offset and
 * *has_offset = 1 when a non-negative integer is there, else 0. */
int record_scan_offset(const char *buf, size_t len, const char *path, const char *offset_path, record *out,
                       uint64_t *offset, int *has_offset, char *err, size_t errlen);

#endif
