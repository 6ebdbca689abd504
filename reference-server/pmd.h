/* pmd.h — permessage-deflate (RFC 7692) on the server's WebSocket frames.
 *
 * lws negotiates the extension (--ws-deflate 1 puts lws's pm_deflate in the
 * vhost's extension list), but lws compresses only what goes through
 * lws_write(LWS_WRITE_TEXT), one message per call. The server writes many
 * frames in one raw write (ws.c, the fan-out's main saving), so it
 * compresses those messages itself, here, with the window the client
 * agreed to, and marks them RSV1. lws still inflates what clients send. */
#ifndef RTCHAOS_PMD_H
#define RTCHAOS_PMD_H
#include <stddef.h>

struct lws;
struct session;

/* At ESTABLISHED: when lws accepted permessage-deflate on wsi, starts the
 * session's compressor (server_max_window_bits / server_no_context_takeover
 * as the client asked). 0 (also when not negotiated: s->pmd stays NULL), or
 * -1 out of memory. */
int pmd_start(struct session *s, struct lws *wsi);

/* The most bytes pmd_frame writes for a message of len bytes. */
size_t pmd_frame_bound(size_t len);

/* Writes one whole text frame (RSV1 set, header and compressed payload)
 * for text into out (at least pmd_frame_bound(len) bytes); its size, or 0
 * when zlib failed (the connection must close: the client's window no
 * longer matches). */
size_t pmd_frame(struct session *s, const void *text, size_t len, unsigned char *out);

void pmd_free(struct session *s);

#endif
