/* fleet_ws.h — WebSocket client framing for the fleet: wslay frame contexts lent to connections only while a frame is in flight, masked sends, the RFC 6455 handshake key. */
#ifndef RTCHAOS_FLEET_WS_H
#define RTCHAOS_FLEET_WS_H
#include <stddef.h>
#include <stdint.h>
#include "prng.h"

/* A wslay frame context carries a 4 KiB input buffer; thousands of idle
 * connections each holding one would cost far more than the fleet's budget
 * per idle client. So a connection borrows a ws_rx (context + assembly
 * state) from its thread's pool only while bytes of an unfinished frame or
 * message are buffered, and gives it back at every frame boundary. */
typedef struct ws_rx ws_rx;
typedef struct ws_pool ws_pool;

/* One pool per thread (not thread-safe). seed drives the masking keys. */
ws_pool *ws_pool_new(uint64_t seed);
void ws_pool_free(ws_pool *p);

/* What a connection keeps: NULL while idle. */
typedef struct ws_conn_rx {
    ws_rx *rx;
} ws_conn_rx;

/* Called for each complete message (text/binary, defragmented) and each
 * control frame (ping/pong/close: opcode 0x8..0xA). data is valid only
 * during the call. Return 0 to go on, -1 to stop feeding (the caller is
 * closing the connection). */
/* Or'ed into the opcode of a data message whose first frame had RSV1 set:
 * compressed with permessage-deflate (RFC 7692); the receiver inflates. */
#define WS_OP_COMPRESSED 0x40
typedef int (*ws_on_msg)(void *ud, int opcode, const char *data, size_t len);

/* Feeds len received bytes of one connection. Returns 0; -1 with a message
 * in err on a protocol error, a message over max_msg bytes, or when the
 * callback asked to stop (err then empty). On -1 the caller must call
 * ws_conn_release. */
int ws_feed(ws_pool *p, ws_conn_rx *c, const uint8_t *buf, size_t len, ws_on_msg cb, void *ud,
            size_t max_msg, char *err, size_t errlen);

/* Returns the connection's borrowed state (if any) to the pool. */
void ws_conn_release(ws_pool *p, ws_conn_rx *c);

/* Writes one masked client frame (fin, opcode, payload) into out (cap
 * bytes). Returns its length, or -1 when it does not fit. */
int ws_frame_client(ws_pool *p, int opcode, const void *data, size_t len, uint8_t *out,
                    size_t cap);

/* Writes one unmasked server frame (for tests and the faulty server
 * helpers). Returns its length, or -1 when it does not fit. */
int ws_frame_server(int opcode, const void *data, size_t len, uint8_t *out, size_t cap);

/* A fresh Sec-WebSocket-Key (24 chars + NUL) from the pool's PRNG. */
void ws_make_key(ws_pool *p, char key[25]);
/* The Sec-WebSocket-Accept a server must answer key with (28 chars + NUL). */
void ws_accept_for(const char *key, char accept[29]);

/* Number of ws_rx currently lent out / allocated in total (for the bench
 * and tests). */
size_t ws_pool_lent(const ws_pool *p);
size_t ws_pool_allocated(const ws_pool *p);

#endif
