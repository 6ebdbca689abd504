/* sse_parse.h — incremental Server-Sent Events field parser (client side) with zero-copy dispatch of whole events. */
#ifndef RTCHAOS_SSE_PARSE_H
#define RTCHAOS_SSE_PARSE_H
#include <stddef.h>
#include <stdint.h>

/* Callbacks of sse_feed. data/id point into the fed buffer or the parser's
 * own buffer and are valid only during the call (data has no trailing
 * newline; id_len 0 with id_set 1 means the id was cleared). */
typedef struct sse_callbacks {
    void (*on_event)(void *ud, const char *event, size_t event_len, const char *data,
                     size_t data_len);
    void (*on_id)(void *ud, const char *id, size_t id_len); /* last event id changed */
    void (*on_retry)(void *ud, uint64_t retry_ms);
    void (*on_comment)(void *ud); /* a ':' line: heartbeat */
} sse_callbacks;

/* Parser state: 24 bytes while idle; `pend` holds the bytes of an event
 * that a read cut in two (allocated only then, freed once dispatched). */
typedef struct sse_parser {
    char *pend;
    uint32_t pend_len, pend_cap;
    uint8_t skip_lf;  /* the last line ended in '\r' at a buffer end: a leading '\n' is its tail */
} sse_parser;

/* Feeds len bytes of the event stream (the decoded HTTP body). Calls the
 * callbacks for every complete event in order. Lines end in "\r\n", "\n"
 * or "\r"; an event ends at an empty line; fields as in the WHATWG
 * EventSource processing model (data lines joined with '\n', one leading
 * space of a value dropped, retry only when all digits, ids with NUL
 * ignored). Returns 0, or -1 when an incomplete event grows beyond
 * max_event_bytes or memory runs out (the stream should be dropped). */
int sse_feed(sse_parser *p, const char *buf, size_t len, const sse_callbacks *cb, void *ud,
             size_t max_event_bytes);

/* Releases the parser's buffer (it can be reused afterwards). */
void sse_reset(sse_parser *p);

#endif
