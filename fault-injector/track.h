/* track.h — follows the WebSocket and SSE framing of one direction of a
 * connection from its first byte, without keeping data, so that a
 * message-aware toxic added to a connection already in flight can start at a
 * message boundary instead of in the middle of a frame or event. */
#ifndef RTCHAOS_TRACK_H
#define RTCHAOS_TRACK_H
#include <stddef.h>
#include <stdint.h>
#include "sse_stream.h"
#include "ws_deflate.h"
#include "ws_frame.h"

enum { TRACK_WS = 1, TRACK_SSE = 2 };

typedef struct track {
    uint64_t seen;     /* bytes fed */
    int ws_dead, sse_dead;
    int dir;           /* TX_UPSTREAM (0) or TX_DOWNSTREAM (1): which pmd parameters apply */
    ws_head wh;
    ws_reader wr;
    sse_reader sr;
    /* permessage-deflate: the connection's negotiated parameters (shared by
     * its two trackers; NULL: not followed) and, when this direction's
     * sender keeps its context, an inflater that keeps the sender's window
     * from the first compressed message, so that a WebSocket toxic added
     * later can go on decompressing (inf.failed: the window was lost). */
    ws_pmd *pmd;
    ws_inflater inf;
} track;

/* sse: whether to follow SSE (only the server → client direction carries
 * events). */
void track_init(track *t, int sse);
/* Follows permessage-deflate with the parameters at pmd (owned by the
 * caller, shared by both directions; filled from the 101 response the
 * server → client tracker reads). */
void track_set_pmd(track *t, ws_pmd *pmd);
void track_free(track *t);

/* Feeds bytes. With stop = TRACK_WS or TRACK_SSE, stops at the first point
 * where that protocol stands at a boundary (possibly 0 bytes in) and sets
 * *at = 1; returns the bytes consumed. With stop = 0 consumes everything. */
size_t track_feed(track *t, const unsigned char *d, size_t n, int stop, int *at);
/* Like track_feed, and also stops just after the message that makes
 * track_messages() reach until_msgs (0: no such stop), setting *at = 2
 * (at = 1 wins when both happen at the same point). */
size_t track_feed_until(track *t, const unsigned char *d, size_t n, int stop, uint64_t until_msgs,
                        int *at);
/* Whole messages seen so far: WebSocket data messages (control frames are
 * not messages) plus SSE events (blocks with a field line; comment-only
 * heartbeats are not). A stream that is neither never counts any. */
uint64_t track_messages(const track *t);
/* Whether the stream is at a boundary of proto now. */
int track_at(const track *t, int proto);
/* Whether proto can still be found in this stream (1) or never (0). */
int track_alive(const track *t, int proto);

#endif
