/* sse_stream.h — incremental reader of a server's Server-Sent Events
 * response for the SSE-aware faults: the HTTP response head (http-parser),
 * then the body (chunked or read-until-close, de-chunked by http-parser) cut
 * into event blocks at blank lines. */
#ifndef RTCHAOS_SSE_STREAM_H
#define RTCHAOS_SSE_STREAM_H
#include <stddef.h>
#include <stdint.h>
#include <http_parser.h>
#include "bytebuf.h"

/* One block of the event stream: the lines up to and including the blank
 * line that ends it (any of CRLF, LF, CR line ends). comment_only marks a
 * block of ':' comment lines only (a heartbeat). Valid during the callback. */
typedef struct sse_block {
    const unsigned char *text;
    size_t len;
    int comment_only;
    int complete;   /* 0: the stream ended (or the block grew too big) before its blank line */
} sse_block;

typedef struct sse_callbacks {
    /* Bytes to forward unchanged (the response head, bodies that are not
     * event streams, anything after a parse error). */
    void (*raw)(void *arg, const unsigned char *d, size_t n);
    /* One event block of an event-stream body (already de-chunked). */
    void (*block)(void *arg, const sse_block *b);
    /* The chunked body ended (its last-chunk was read): the writer must
     * close its own chunked framing. */
    void (*body_end)(void *arg);
} sse_callbacks;

enum { SSE_HEAD = 0, SSE_BODY_EVENTS, SSE_BODY_RAW, SSE_PASSTHROUGH };

typedef struct sse_reader {
    sse_callbacks cb;
    void *arg;
    size_t max_block_bytes;  /* 0: 1 MiB */
    int mode;
    int chunked;             /* the current event-stream body is chunked */
    http_parser hp;
    http_parser_settings hs;
    bytebuf head;            /* response head being collected */
    bytebuf acc;             /* de-chunked body not yet cut into blocks */
    size_t scan;             /* acc: where the next line starts */
    int has_field;           /* acc's current block has a non-comment line */
    char hfield[32];         /* header name being read (lower-case, truncated) */
    int hfield_done;
    int is_event_stream;
    int encoded;             /* Content-Encoding other than identity: passed as it is */
    int body_done;
    int track;               /* 1: only follow the stream (no copies, no callbacks) */
    int bstate;              /* track mode: where the body is in its block grammar (0: between blocks) */
    int in_chunk;            /* between on_chunk_header and on_chunk_complete */
    uint64_t messages;       /* events (blocks with a field line) completed so far */
} sse_reader;

/* Prepares r; cb/arg receive the output. */
void sse_reader_init(sse_reader *r, const sse_callbacks *cb, void *arg);
/* Feeds bytes from the server. Never fails: what cannot be parsed is
 * passed on raw. Any split of the same stream gives the same callbacks. */
void sse_reader_feed(sse_reader *r, const unsigned char *d, size_t n);
/* The server closed: delivers a last incomplete block, if any. */
void sse_reader_eof(sse_reader *r);
void sse_reader_free(sse_reader *r);

/* Whether r stands where another reader may take over: before a response
 * head, or in an event-stream body between blocks and between chunks. */
int sse_reader_at_boundary(const sse_reader *r);
/* How many of the n bytes at d can be fed before the reader can next
 * complete an event, a response or a chunk: feeding that many completes at
 * most one, at their end. At least 1 when n > 0. */
size_t sse_reader_quiet_len(const sse_reader *r, const unsigned char *d, size_t n);
/* Makes dst (uninitialised) continue from src's position (which must be at a
 * boundary), delivering to cb/arg. */
void sse_reader_clone(sse_reader *dst, const sse_reader *src, const sse_callbacks *cb, void *arg);

/* Appends b's text to out as it goes on the wire: as one chunk when the
 * body is chunked, else as is. */
void sse_write(const sse_reader *r, bytebuf *out, const unsigned char *text, size_t len);

#endif
