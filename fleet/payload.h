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

/* The publisher's default ("string") payload: a JSON string of exactly
 * fl_payload_string_len(payload_bytes) bytes, quotes included:
 *   "<n>.<hhhh>.<ts>.xxxx…x"
 * n is the publisher's per-channel event number, ts the publish's `ts`
 * (µs since the epoch, as the publish request carries it) and hhhh 4 hex
 * digits of a hash of (channel name, n, ts): a client checks that an
 * event's data is data published on its own channel, byte for byte,
 * without being told (a bit flipped anywhere, a truncation or an event of
 * another channel fails), and that the envelope's `ts` is the one
 * published (contract v1 passes it through unchanged; latency is measured
 * from it). The hash takes the channel's name, not its index, so an
 * earlier run's events replayed from a server's history check out too.
 * Without room for the time (or ts 0) the stamp is "<n>.<hhhh>." with the
 * hash of (channel name, n) — also what rtchaos before the time wrote —
 * and without room for that, the string is padding only. */
size_t fl_payload_string_len(uint32_t payload_bytes);
/* Writes the value of event n on channel ch, published with ts: len bytes
 * (len from fl_payload_string_len) and a NUL; buf holds len + 1.
 * Thread-safe. */
void fl_payload_string(char *buf, size_t len, const char *ch, uint64_t n, uint64_t ts);
/* Whether data[0..dlen) claims to be such a value of length len: a JSON
 * string of exactly that length, or one that begins with a stamp. Other
 * data on the channel (another publisher's "flood") is not ours to judge.
 * A bit flipped keeps the length; a truncated or extended payload keeps its
 * stamp. */
int fl_payload_string_ours(const char *data, size_t dlen, size_t len);
/* 0 when data[0..dlen) is such a value of length len for channel ch, else
 * -1 with what differs in why. ts and num (either may be NULL) get the time
 * and the event number the stamp carries when it checks out, else 0. */
int fl_payload_string_check(const char *data, size_t dlen, size_t len, const char *ch, uint64_t *ts, uint64_t *num,
                            char *why, size_t whylen);
/* The same for the string's content v[0..n) (no quotes; protocols whose
 * record carries the payload, record.h): whether it begins with a stamp,
 * and 0 when it is a stamp for channel ch, or none, then only padding. The
 * length is the caller's to compare. */
int fl_payload_value_stamped(const char *v, size_t n);
int fl_payload_value_check(const char *v, size_t n, const char *ch, uint64_t *ts, uint64_t *num, char *why,
                           size_t whylen);

#endif
