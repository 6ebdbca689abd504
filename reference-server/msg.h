/* msg.h — one published event: a reference-counted, pre-formatted envelope
 * shared by a channel's history and every connection's send queue. */
#ifndef RTCHAOS_SERVER_MSG_H
#define RTCHAOS_SERVER_MSG_H
#include <stddef.h>
#include <stdint.h>

/* Formatted once at publish; immutable afterwards. The envelope text
 * {"ch":…,"seq":…,"ts":…,"type":"event","data":<data>} starts at
 * text and is NUL-terminated; `data` is its tail. Lifetime:
 * freed when the last reference (history ring, snapshot slot, send queues,
 * poll responses in flight) is dropped. Single-threaded. */
typedef struct msg {
    uint32_t refs;
    uint32_t len;        /* envelope bytes */
    uint32_t data_off;   /* offset of the data JSON within the envelope */
    uint32_t data_len;
    uint64_t seq;
    int64_t ts_us;       /* publisher's ts (wall µs), or server wall clock */
    uint64_t stored_us;  /* server monotonic µs when stored (age eviction) */
    const void *chan;    /* the channel (history) it belongs to: identity only */
    char *idem;          /* idempotency key, owned, or NULL */
    char *delta;         /* the delta envelope (merge patch against seq-1's value), owned, or NULL */
    uint32_t delta_len;
    uint64_t idem_hash;
    char text[];         /* envelope, NUL */
} msg;

/* Builds an event envelope for channel ch_name. data (data_len bytes of
 * compact, already-validated JSON) is copied; idem (NUL-terminated) is copied
 * when not NULL. Returns a msg with one reference, or NULL with a message in
 * err. */
msg *msg_new(const void *chan, const char *ch_name, uint64_t seq, int64_t ts_us,
             uint64_t stored_us, const char *data, size_t data_len, const char *idem,
             char *err, size_t errlen);

/* The envelope text (NUL-terminated, m->len bytes). */
static inline const char *msg_env(const msg *m) { return m->text; }
/* The data JSON inside the envelope (not terminated, m->data_len bytes). */
static inline const char *msg_data(const msg *m) { return m->text + m->data_off; }

/* Gives m its delta form: the envelope text (len bytes, copied) that
 * carries a merge patch against the previous event's value instead of the
 * whole value. Returns 0, or -1 out of memory (m keeps no delta). */
int msg_set_delta(msg *m, const char *text, size_t len);

/* Adds / drops a reference; the last msg_unref frees. NULL is ignored. */
msg *msg_ref(msg *m);
void msg_unref(msg *m);

/* 64-bit FNV-1a of len bytes (idempotency keys, channel lookups). */
uint64_t msg_hash(const char *s, size_t len);

#endif
