/* http_conn.h — what the server remembers about one HTTP/1.1 connection
 * across its keep-alive requests: how many requests it carried, how many
 * bytes lws had read from it when the last answer completed (the pipelining
 * guard, below), and the request deadline of the request under way.
 *
 * Why the pipelining guard exists. libwebsockets 4.1 keeps the bytes that
 * follow a completed request (a pipelined next request) on the connection's
 * buflist and parses the next head from there. When that head announces a
 * body, lws_http_action() then feeds the buflist to the body parser without
 * first dropping the head bytes it has just parsed: the head is read as the
 * body, and once the transaction completes with bytes still buffered the same
 * loop calls lws_read_h1() in LRS_DEFERRING_ACTION, which consumes nothing,
 * for ever — a busy loop inside one lws_service() call, so not even SIGTERM
 * is looked at (rtchaos issue 11). The only safe moment to refuse is the
 * request's LWS_CALLBACK_HTTP (a non-zero return closes before that loop).
 *
 * lws does not say where a head came from, but the kernel does: lws reads
 * nothing from the socket while its buflist holds data (h1 never forces a
 * read then), so a head that was parsed from the buflist arrived with no
 * read since the previous answer. http_conn_bytes_read() gives the bytes the
 * process has read from a TCP socket (TCP_INFO bytes received minus what is
 * still queued), and a request with a body whose connection read nothing
 * since the previous answer is a pipelined one: it is refused with 400 and
 * the connection closed after the answers before it. */
#ifndef RTCHAOS_SERVER_HTTP_CONN_H
#define RTCHAOS_SERVER_HTTP_CONN_H
#include <stdint.h>

#include <libwebsockets.h>

/* Bytes the process has read from TCP socket fd so far (data only: a FIN
 * the peer sent is not counted). Returns 0, or -1 (not a TCP socket, or the
 * counters kept moving). */
int http_conn_bytes_read(int fd, uint64_t *out);

/* Starts the table; timeout_us is the request deadline (a later keep-alive
 * request must be whole, head and body, this long after the previous answer;
 * a body this long after its head). cap bounds the connections tracked at
 * once (beyond it a connection has no deadline of ours, counted). Returns
 * 0 or -1 (out of memory). Call once per server run; http_conn_shutdown
 * frees. Single-threaded (the lws event loop). */
int http_conn_init(struct lws_context *ctx, uint64_t timeout_us, size_t cap);
/* A function the table's timer also calls at each tick (every 250 ms). */
void http_conn_on_tick(void (*fn)(void *ud), void *ud);
void http_conn_shutdown(void);

/* A new connection (SERVER_NEW_CLIENT_INSTANTIATED) and its end
 * (WSI_DESTROY): forget whatever an earlier wsi at this address left. */
void http_conn_open(struct lws *wsi);
void http_conn_gone(struct lws *wsi);
/* The connection became a WebSocket (ESTABLISHED): no HTTP request follows,
 * so its entry is dropped now rather than kept for the connection's life
 * (memory per idle WebSocket connection); a running deadline ends as met. */
void http_conn_upgraded(struct lws *wsi);

/* A request head arrived (FILTER_HTTP_CONNECTION). has_body: it announces
 * a body (Content-Length > 0 or Transfer-Encoding). Sets *pipelined when the
 * head arrived in the same read as the previous request's end (see above);
 * when has_body the request deadline keeps running until http_conn_body_done. */
void http_conn_head(struct lws *wsi, int has_body, int *pipelined);
/* What http_conn_head found for the request under way (lws re-allocates the
 * session between FILTER_HTTP_CONNECTION and LWS_CALLBACK_HTTP, so it is kept
 * here). An untracked connection reports both set. */
void http_conn_request(struct lws *wsi, int *has_body, int *pipelined);
/* When the head of the request under way arrived (monotonic µs; 0 unknown). */
uint64_t http_conn_head_us(struct lws *wsi);
/* The whole body of the request under way has arrived. */
void http_conn_body_done(struct lws *wsi);
/* An answer completed and the connection stays open for the next request:
 * remember how much had been read, start the next request's deadline. */
void http_conn_answered(struct lws *wsi);

/* Tallies for /metrics. */
typedef struct http_conn_stats {
    uint64_t pipelined_refused;   /* requests with a body refused as pipelined */
    uint64_t request_timeouts;    /* keep-alive requests / bodies cut at the deadline */
    uint64_t stuck_closed;        /* streams closed for bytes sent behind their head (http_api.c) */
} http_conn_stats;
void http_conn_get_stats(http_conn_stats *out);
void http_conn_count_stuck(void);

#endif
