/* linger.h — lingering close for connections answered before their body was
 * read (413 over the cap, 411, 401/403, pipelined 400): the answer is in the
 * kernel's send buffer, the write side is shut (FIN after the answer), and the
 * peer's further input is read and discarded for a bounded time and byte
 * count before the descriptor is closed. Closing a socket with unread input
 * makes the kernel send a RST, and a RST that reaches the peer before it has
 * read the answer discards the answer from the peer's receive queue: a client
 * still sending its body would see "connection reset" instead of the 413
 * (nginx's lingering_close solves the same problem the same way).
 *
 * lws 4.1 has no call that hands a socket over, so linger_adopt() takes a
 * dup(2) of the connection's descriptor just before lws closes its own: the
 * socket stays open on the dup, watched by its own libev watcher.
 * Single-threaded: the event loop. */
#ifndef RTCHAOS_SERVER_LINGER_H
#define RTCHAOS_SERVER_LINGER_H
#include <stdint.h>

struct ev_loop;

/* At most this many connections linger at once (a fixed table: no memory
 * grows with the peers; each holds one descriptor, well inside the
 * descriptor budget's reserve, fdbudget.h). Beyond it a connection is
 * closed at once as before. */
#define LINGER_MAX_CONNS 16
/* Input read and discarded per lingering connection before it is closed. */
#define LINGER_MAX_BYTES (4u * 1024u * 1024u)
/* Longest time a connection lingers (capped further by the caller). */
#define LINGER_MAX_MS 2000

/* Sets the loop the lingering descriptors are watched on (before any
 * linger_adopt). */
void linger_init(struct ev_loop *loop);

/* Takes over the socket fd (still owned by lws, which closes it right after):
 * dups it, shuts its write side and drains it for at most time_ms (capped at
 * LINGER_MAX_MS) and LINGER_MAX_BYTES, closing at the peer's EOF, an error or
 * either bound. Call only once the whole answer has reached the kernel.
 * Returns 0 when the connection lingers, -1 when it is to be closed at once
 * (table full, dup failed, not a socket, time_ms <= 0). */
int linger_adopt(int fd, int64_t time_ms);

/* Connections lingering now; total lingered, and total closed by a bound
 * (time or bytes) rather than by the peer's EOF. */
unsigned linger_active(void);
uint64_t linger_total(void);
uint64_t linger_cut_total(void);

/* Closes every lingering connection (server exit). */
void linger_shutdown(void);

#endif
