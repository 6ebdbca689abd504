/* ws_frame.h — RFC 6455 framing for the WebSocket-aware faults: an
 * incremental reader that turns a byte stream (after the HTTP upgrade) into
 * whole messages and control frames, and a writer that frames a message
 * again (masked when the original was). */
#ifndef RTCHAOS_WS_FRAME_H
#define RTCHAOS_WS_FRAME_H
#include <stddef.h>
#include <stdint.h>
#include "bytebuf.h"
#include "prng.h"

enum { WS_OP_CONT = 0, WS_OP_TEXT = 1, WS_OP_BINARY = 2, WS_OP_CLOSE = 8, WS_OP_PING = 9, WS_OP_PONG = 10 };

/* One complete unit: a data message (all its fragments) or one control
 * frame. payload is unmasked; raw holds the unit's original frames, byte for
 * byte, so an untouched unit is forwarded exactly as it came. Both point
 * into the reader and are valid only during the callback. */
typedef struct ws_unit {
    int control;          /* 1: control frame (close/ping/pong) */
    uint8_t opcode;       /* TEXT/BINARY for messages; CLOSE/PING/PONG */
    uint8_t rsv;          /* RSV bits of the first frame (permessage-deflate) */
    int masked;           /* the original frames were masked (client → server) */
    const unsigned char *payload;
    size_t payload_len;
    const unsigned char *raw;
    size_t raw_len;
} ws_unit;

typedef void (*ws_unit_cb)(void *arg, const ws_unit *u);

/* Reader state; zero-initialise, then set max_message_bytes (0: 16 MiB). */
typedef struct ws_reader {
    size_t max_message_bytes;
    int track;                   /* 1: only follow the framing (no copies, no callbacks) */
    int failed;
    unsigned char hdr[14];
    size_t hdr_len;
    uint64_t remaining;          /* payload bytes left in the current frame */
    int in_frame;
    uint8_t f_fin, f_op, f_rsv;
    int f_masked;
    unsigned char f_mask[4];
    uint64_t f_pos;              /* payload offset in the frame (mask index) */
    int in_msg;                  /* a fragmented data message is open */
    uint8_t m_op, m_rsv;
    int m_masked;
    bytebuf m_payload, m_raw;    /* the data message being assembled */
    bytebuf c_payload, c_raw;    /* the control frame being read */
    bytebuf tail;                /* input not consumed when the reader failed */
    uint64_t messages;           /* data messages completed so far */
    /* Track mode only, optional: receives the unmasked payload of every
     * compressed (RSV1) data message as it arrives, then end = 1 once the
     * message is complete (permessage-deflate's window is kept by it). */
    void (*on_payload)(void *arg, const unsigned char *d, size_t n, int end);
    void *payload_arg;
} ws_reader;

/* Feeds n bytes; calls cb for each unit completed, in stream order (a
 * control frame that arrives between fragments of a message is delivered
 * before the message, which RFC 6455 allows). Returns 0, or -1 with err
 * when the bytes are not valid WebSocket framing or a message exceeds the
 * limit: the reader is then failed, and the caller should forward the bytes
 * from ws_reader_pending() and everything after unchanged. Never reads past
 * d+n; any split of the same stream gives the same units. */
int ws_reader_feed(ws_reader *r, const unsigned char *d, size_t n, ws_unit_cb cb, void *arg,
                   char *err, size_t errlen);
/* The raw bytes consumed but not yet delivered in a unit, in stream order,
 * into out (appended). */
void ws_reader_pending(const ws_reader *r, bytebuf *out);
void ws_reader_free(ws_reader *r);

/* Whether the reader stands between units (no frame or fragmented
 * message open): a point where another reader may start afresh. */
int ws_reader_at_boundary(const ws_reader *r);
/* How many bytes can be fed before the reader can next complete a unit or
 * reach a boundary: feeding exactly that many (or fewer) bytes completes at
 * most one unit, at their end. At least 1. */
size_t ws_reader_quiet_len(const ws_reader *r);

/* The HTTP upgrade head that precedes the frames. */
typedef struct ws_head {
    bytebuf buf;
    int done;   /* the head ended (blank line) or was given up on */
    int is_ws;  /* it was a WebSocket upgrade (request with Upgrade:
                 * websocket, or a 101 response) */
} ws_head;
/* Feeds bytes; returns how many of them belong to the head (the rest are
 * frames, when is_ws). A head longer than 16 KiB ends as "not WebSocket". */
size_t ws_head_feed(ws_head *h, const unsigned char *d, size_t n);
void ws_head_free(ws_head *h);

/* Appends one message as frames to out: a single frame, or fragments of at
 * most fragment_bytes (0: no split) as continuation frames. Masked with keys
 * from rng when mask is set. Uses wslay's frame writer. Returns 0 or -1. */
int ws_write_message(bytebuf *out, uint8_t opcode, uint8_t rsv, int mask, const unsigned char *payload,
                     size_t len, size_t fragment_bytes, prng *rng);
/* Appends a close frame with code and reason (≤ 123 bytes). */
int ws_write_close(bytebuf *out, int mask, unsigned code, const char *reason, prng *rng);

#endif
