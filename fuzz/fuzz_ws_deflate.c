/* fuzz_ws_deflate.c — libFuzzer target for what permessage-deflate adds to
 * the proxy's reading of WebSocket streams (fault-injector/ws_deflate.h, the
 * link's tracker that keeps the sender's window, the ws toxic that
 * decompresses and compresses again): whatever the frames and compressed
 * bytes, never a crash, leak or over-read. Input: byte 0 picks the action
 * (drop, duplicate, corrupt, reorder, split), byte 1 the parameters (bit 0:
 * the sender has no context takeover, bits 1-3: max_window_bits 8 + n,
 * bit 4: the toxic starts from the tracker mid-stream), byte 2 the read
 * size; the rest follows a 101 response as the server's frames. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toxic.h"
#include "track.h"
#include "ws_deflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    size_t out;
    int closed;
} sink;

static void f_emit(void *u, const unsigned char *d, size_t n)
{
    (void)d;
    ((sink *)u)->out += n;
}

static void f_eof(void *u)
{
    (void)u;
}

static void f_close(void *u, tx_close how)
{
    (void)how;
    ((sink *)u)->closed = 1;
}

static void f_record(void *u, const char *action, json_t *detail)
{
    (void)u;
    (void)action;
    json_decref(detail);
}

#define HEAD "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
             "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const actions[] = {"drop", "duplicate", "corrupt", "reorder", "split"};
    if (size < 3)
        return 0;
    const char *action = actions[data[0] % 5];
    int no_takeover = data[1] & 1, bits = 8 + ((data[1] >> 1) & 7), mid = (data[1] >> 4) & 1;
    size_t cut = data[2] ? data[2] : 1;
    data += 3;
    size_t n = size - 3;

    ws_pmd pmd = {0};
    track trk;
    track_init(&trk, 1);
    track_set_pmd(&trk, &pmd);
    int at;
    track_feed(&trk, (const unsigned char *)HEAD, strlen(HEAD), 0, &at);
    if (!pmd.on)
        abort(); /* the head above negotiates it */
    pmd.no_takeover[1] = no_takeover;
    pmd.window_bits[1] = bits;

    const toxic_type *ty = toxic_registry_find("ws");
    void *attrs = calloc(1, ty->attrs_size);
    void *st = calloc(1, ty->state_size);
    toxic_type_defaults(ty, attrs);
    json_t *o = json_pack("{s:s,s:f,s:i}", "action", action, "probability", 0.5, "fragment_size", 7);
    char err[128];
    if (ty->parse(attrs, o, err, sizeof err) < 0)
        abort();
    json_decref(o);
    prng rng;
    prng_seed(&rng, 7);
    sink s = {0};
    tx_env env = {.rng = &rng, .active = 1, .u = &s, .emit = f_emit, .emit_eof = f_eof, .close = f_close,
                  .record = f_record, .pmd = &pmd};
    size_t off = 0;
    if (mid) { /* the tracker reads up to a boundary past half the input, then the toxic takes over */
        size_t half = n / 2;
        while (off < n) {
            size_t k = track_feed(&trk, data + off, off < half ? half - off : n - off, off < half ? 0 : 1, &at);
            off += k;
            if (off >= half && (at || k == 0))
                break;
        }
        ty->resume(st, attrs, &env, &trk);
    } else {
        ty->data(st, attrs, &env, (const unsigned char *)HEAD, strlen(HEAD));
    }
    while (off < n && !s.closed) {
        size_t k = n - off < cut ? n - off : cut;
        unsigned char *piece = malloc(k); /* exact size: an over-read faults */
        memcpy(piece, data + off, k);
        track_feed(&trk, piece, k, 0, &at);
        ty->data(st, attrs, &env, piece, k);
        free(piece);
        off += k;
    }
    env.now_us = 10u * 1000 * 1000;
    ty->tick(st, attrs, &env);
    ty->eof(st, attrs, &env);
    ty->flush(st, attrs, &env);
    ty->stop(st);
    track_free(&trk);
    free(st);
    free(attrs);
    return 0;
}
