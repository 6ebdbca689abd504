/* rawtarget.h — the request targets exactly as the client sent them, so that
 * the path rule of docs/wire-contract.md can be applied to what was sent.
 *
 * Why it exists. libwebsockets 4.1 decodes %XX and removes dot segments
 * while it parses a request line (lws_parse_urldecode in
 * lib/roles/http/parsers.c) and keeps no raw copy: `/publish/a%2F..%2Fb`
 * reaches the server as `/publish/b`, and no lws call can tell the two apart.
 * The rule (issue 11) is that a path holding an encoded separator (%2F, %5C)
 * or a dot segment (`.` or `..`, written plain or encoded) is refused, on
 * every endpoint and transport. So the server watches the bytes lws reads from
 * each HTTP connection (recvtap.c hands them over as lws reads them), frames
 * them with http-parser (requests, bodies by Content-Length or chunks,
 * pipelined or split anywhere), and looks at each request target's path.
 *
 * A connection on which such a target was read is condemned: every request
 * head lws delivers from then on is refused with 400 and the connection
 * closed. (A request pipelined in the same read before the bad one is refused
 * too: lws reads ahead, so the bad bytes can be read before an earlier head is
 * delivered; the earlier answers are complete.) A stream http-parser cannot
 * frame is condemned the same way. A connection that became a WebSocket or an
 * SSE stream carries no further request: its watch ends
 * (rawtarget_passthrough), so an idle WebSocket costs nothing here.
 *
 * Single-threaded: only the thread that called rawtarget_init is watched
 * (another thread's reads in the same process, e.g. a fuzzing client, pass
 * through untouched). */
#ifndef RTCHAOS_SERVER_RAWTARGET_H
#define RTCHAOS_SERVER_RAWTARGET_H
#include <stddef.h>

struct lws;

/* Starts the table for descriptors below nfd. Returns 0 or -1 (out of
 * memory). rawtarget_shutdown frees every watch. */
int rawtarget_init(size_t nfd);
void rawtarget_shutdown(void);

/* A new connection on fd (owned by wsi) from now on: a fresh watch,
 * replacing whatever an earlier connection with that number left. Returns 0
 * or -1 (no watch: out of memory or fd out of range; its heads are then
 * refused by rawtarget_verdict). */
int rawtarget_open(int fd, const struct lws *wsi);
/* The connection owned by wsi on fd ended, or carries no more requests
 * (upgraded to WebSocket, or became an SSE stream): its watch is freed. A
 * watch owned by another wsi is left alone. */
void rawtarget_close(int fd, const struct lws *wsi);
void rawtarget_passthrough(int fd, const struct lws *wsi);

/* Bytes read from fd (called by recvtap.c after every read). */
void rawtarget_feed(int fd, const void *buf, size_t len);

/* lws delivered the next request head on fd: call once per head
 * (FILTER_HTTP_CONNECTION, or HTTP_CONFIRM_UPGRADE for an upgrade). Returns
 * NULL when it may be served, or why it is refused (a static string, said in
 * the 400): a bad target was read on the connection, or the head lies past
 * where the stream could be framed. A connection that is not watched (see
 * rawtarget_open) is refused, never served unchecked. */
const char *rawtarget_head(int fd);
/* The verdict rawtarget_head gave on the head delivered last (lws
 * re-allocates the session between the filter and LWS_CALLBACK_HTTP). */
const char *rawtarget_verdict(int fd);

/* Tallies for /metrics. */
typedef struct rawtarget_stats {
    unsigned long long refused_targets; /* request targets with a separator or dot segment */
    unsigned long long unframed;        /* streams http-parser could not frame */
} rawtarget_stats;
void rawtarget_get_stats(rawtarget_stats *out);

#endif
