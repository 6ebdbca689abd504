/* envelope.h — the wire contract v1 event envelope: a zero-copy scanner for
 * what clients receive, and formatters for what servers send. */
#ifndef RTCHAOS_ENVELOPE_H
#define RTCHAOS_ENVELOPE_H
#include <stddef.h>
#include <stdint.h>

#define ENV_CH_MAX    128  /* longest channel name accepted, bytes */
#define ENV_EPOCH_MAX 40   /* longest epoch string, bytes */
#define ENV_CODE_MAX  32   /* longest error code, bytes */

typedef enum env_type {
    ENV_T_UNKNOWN = 0,
    ENV_T_EVENT,
    ENV_T_SNAPSHOT,
    ENV_T_GAP,
    ENV_T_SUBSCRIBED,
    ENV_T_ERROR,
    ENV_T_PONG,
} env_type;

/* One decoded envelope. Strings that are copied are NUL-terminated; `data`
 * and `msg` point into the scanned buffer (not terminated) and are valid only
 * as long as it is. */
typedef struct envelope {
    env_type type;
    char type_str[16];             /* the "type" as sent (for unknown ones) */
    char ch[ENV_CH_MAX + 1];       /* "" when absent */
    uint64_t seq;                  /* event/snapshot: its seq; subscribed: head; gap: `to` */
    int has_seq;
    int64_t ts_us;                 /* 0 when absent */
    char epoch[ENV_EPOCH_MAX + 1]; /* "" when absent */
    int recovered;                 /* subscribed: 1 or 0; -1 when absent */
    uint64_t gap_from, gap_to;     /* gap: data.from .. data.to (inclusive) */
    int delta;                     /* event: 0 whole; 1 "delta":"merge-patch" (data is a JSON Merge
                                      Patch against seq-1, wire contract §4.1); 2 another delta form */
    const char *data;              /* raw JSON text of "data", or NULL */
    size_t data_len;
    char code[ENV_CODE_MAX + 1];   /* error: code */
    const char *msg;               /* error: raw JSON string of "msg" incl. quotes, or NULL */
    size_t msg_len;
} envelope;

/* Scans one envelope (a complete JSON object, whitespace around allowed) from
 * buf[0..len). Keys may come in any order; unknown keys are skipped; nested
 * values are skipped without building a tree. Written by hand rather than with
 * jansson because the harness checks millions of envelopes per second per core
 * and a tree per message (plus copying `data`) is several times slower; it is
 * fuzzed and tested against jansson on the same inputs.
 * Returns 0, or -1 with a message in err for anything that is not a valid JSON
 * object or whose known fields have the wrong type or size. Never reads past
 * buf+len. Thread-safe (no state). */
int envelope_scan(const char *buf, size_t len, envelope *out, char *err, size_t errlen);

/* Returns the env_type for a type string ("event" …), ENV_T_UNKNOWN otherwise. */
env_type envelope_type_from_str(const char *s, size_t len);
const char *envelope_type_str(env_type t);

/* Formats an event or snapshot envelope into buf:
 *   {"ch":…,"seq":…,"ts":…,"type":"event"[,"epoch":…],"data":<data>}
 * data is raw JSON text (already validated by the caller; "null" when NULL).
 * epoch may be NULL (omitted). ch is JSON-escaped. Returns the length written
 * (excluding the NUL), or -1 when it does not fit in cap. */
int envelope_format(char *buf, size_t cap, env_type type, const char *ch, uint64_t seq,
                    int64_t ts_us, const char *epoch, const char *data, size_t data_len);

/* {"ch":…,"seq":to,"ts":…,"type":"gap","data":{"from":…,"to":…}} */
int envelope_format_gap(char *buf, size_t cap, const char *ch, uint64_t from, uint64_t to,
                        int64_t ts_us);

/* {"type":"subscribed","ch":…,"seq":head,"epoch":…,"recovered":true|false} */
int envelope_format_subscribed(char *buf, size_t cap, const char *ch, uint64_t head,
                               const char *epoch, int recovered);

/* {"type":"error","code":…,"msg":…[,"ch":…]}; msg is escaped; ch may be NULL. */
int envelope_format_error(char *buf, size_t cap, const char *code, const char *msg,
                          const char *ch);

/* Escapes s as a JSON string (with quotes) into buf. Returns length or -1. */
int envelope_json_str(char *buf, size_t cap, const char *s, size_t len);

/* Whether name is a valid channel name: 1..ENV_CH_MAX bytes of [A-Za-z0-9._:-],
 * not starting or ending with '.', no "..". Returns 1 or 0. */
int envelope_channel_valid(const char *name, size_t len);

#endif
