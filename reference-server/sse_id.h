/* sse_id.h — the SSE event id: an opaque token that encodes, for every
 * channel of a stream, its position (last seq delivered) and epoch. */
#ifndef RTCHAOS_SERVER_SSE_ID_H
#define RTCHAOS_SERVER_SSE_ID_H
#include <stddef.h>
#include <stdint.h>

#define SSE_ID_MAX_CHANNELS 64
/* Longest encoded id (64 channels at the widest seq): base64url of
 * 2 + 64 * 18 + 4 bytes. */
#define SSE_ID_MAX_LEN 1544

/* One channel's position. Channels and epochs travel as 32-bit hashes: the
 * id stays short and still tells "same channel, same epoch" apart from a
 * different one with overwhelming probability. */
typedef struct sse_pos {
    uint32_t ch_hash;    /* sse_id_hash(channel name) */
    uint32_t epoch_hash; /* sse_id_hash(epoch) */
    uint64_t seq;        /* last seq the client has */
} sse_pos;

/* 32-bit FNV-1a of len bytes. */
uint32_t sse_id_hash(const char *s, size_t len);

/* Encodes n (<= SSE_ID_MAX_CHANNELS) positions as base64url text (no
 * padding) with a version byte and a checksum, NUL-terminated, into out.
 * Returns the length, or -1 when it does not fit in cap. */
int sse_id_encode(const sse_pos *pos, size_t n, char *out, size_t cap);

/* Decodes an id made by sse_id_encode into at most max positions.
 * Returns 0 and *n, or -1 with a message in err for anything else (bad
 * characters, bad length, unknown version, checksum mismatch, truncated or
 * trailing bytes). Never reads past s+len. */
int sse_id_decode(const char *s, size_t len, sse_pos *out, size_t max, size_t *n,
                  char *err, size_t errlen);

/* The position for ch_hash in pos[0..n), or NULL. */
const sse_pos *sse_id_find(const sse_pos *pos, size_t n, uint32_t ch_hash);

#endif
