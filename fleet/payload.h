/* payload.h — the publisher's "fields" payload: a JSON object that is a
 * pure function of (channel, event number), so a client that rebuilds a
 * value from deltas can check it against what was published without being
 * told. */
#ifndef RTCHAOS_PAYLOAD_H
#define RTCHAOS_PAYLOAD_H
#include <stddef.h>
#include <stdint.h>

/*   {"n":<n>,"ch":"<channel>","f0":"<pad>-<n>","f1":"<pad>-<n/2>",…,"f7":"<pad>-<n/128>"}
 * Field fK changes every 2^K events, so about two of the eight change from
 * one event to the next; each pad is sized so the whole value is about
 * payload_bytes long. n is the publisher's per-channel event number (its
 * record seq; the server's seq may differ after a failed publish). */
#define FL_PAYLOAD_FIELDS 8

/* Formats the value of event n on channel ch into buf. Returns its length
 * (without the NUL), or -1 when it does not fit in cap (cap of
 * payload_bytes + 256 + 6 * strlen(ch) always fits). Thread-safe. */
int fl_payload_fields(char *buf, size_t cap, const char *ch, uint64_t n, uint32_t payload_bytes);

#endif
