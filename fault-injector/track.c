/* track.c — framing followers for mid-stream insertion of message toxics. */
#include "track.h"

#include <string.h>

/* The limit on what one compressed message may inflate to while the
 * tracker keeps the window (the output is not kept, but inflating costs). */
#define TRACK_INFLATE_MAX (64u << 20)

void track_init(track *t, int sse)
{
    memset(t, 0, sizeof *t);
    t->dir = sse ? 1 : 0;
    t->wr.track = 1;
    static const sse_callbacks none = {0};
    sse_reader_init(&t->sr, &none, NULL);
    t->sr.track = 1;
    t->sse_dead = !sse;
}

static void on_pmd_payload(void *arg, const unsigned char *d, size_t n, int end)
{
    track *t = arg;
    if (!t->pmd->on || t->pmd->no_takeover[t->dir] || t->inf.failed)
        return; /* without context takeover each message stands alone */
    char err[96];
    int rc = end ? ws_inflate_end(&t->inf, NULL, 0, err, sizeof err)
                 : ws_inflate_feed(&t->inf, d, n, NULL, TRACK_INFLATE_MAX, err, sizeof err);
    if (rc < 0)
        ws_inflater_free(&t->inf); /* failed stays set: a later toxic knows */
}

void track_set_pmd(track *t, ws_pmd *pmd)
{
    t->pmd = pmd;
    t->wr.on_payload = on_pmd_payload;
    t->wr.payload_arg = t;
}

void track_free(track *t)
{
    ws_inflater_free(&t->inf);
    ws_head_free(&t->wh);
    ws_reader_free(&t->wr);
    sse_reader_free(&t->sr);
}

int track_at(const track *t, int proto)
{
    if (t->seen == 0)
        return 1;
    if (proto == TRACK_WS)
        return !t->ws_dead && t->wh.done && t->wh.is_ws && ws_reader_at_boundary(&t->wr);
    return !t->sse_dead && sse_reader_at_boundary(&t->sr);
}

int track_alive(const track *t, int proto)
{
    return proto == TRACK_WS ? !t->ws_dead : !t->sse_dead;
}

static void feed_ws(track *t, const unsigned char *d, size_t n)
{
    if (t->ws_dead)
        return;
    if (!t->wh.done) {
        size_t k = ws_head_feed(&t->wh, d, n);
        d += k;
        n -= k;
        if (t->wh.done) {
            if (t->wh.is_ws && t->pmd && t->wh.buf.len > 7 && memcmp(t->wh.buf.p, "HTTP/1.", 7) == 0)
                ws_pmd_parse_response(t->pmd, (const char *)t->wh.buf.p, t->wh.buf.len);
            bytebuf_free(&t->wh.buf); /* only done/is_ws are needed now */
            if (!t->wh.is_ws)
                t->ws_dead = 1;
        }
    }
    if (n && !t->ws_dead) {
        char err[64];
        if (ws_reader_feed(&t->wr, d, n, NULL, NULL, err, sizeof err) < 0)
            t->ws_dead = 1;
    }
}

static void feed_sse(track *t, const unsigned char *d, size_t n)
{
    if (t->sse_dead)
        return;
    sse_reader_feed(&t->sr, d, n);
    if (t->sr.mode == SSE_PASSTHROUGH) {
        t->sse_dead = 1;
        bytebuf_free(&t->sr.head); /* up to 64 KiB of a head that never was */
        bytebuf_free(&t->sr.acc);
    }
}

uint64_t track_messages(const track *t)
{
    return t->wr.messages + t->sr.messages;
}

/* Bytes of d that can be fed at once without passing a boundary or a
 * message end of a protocol still followed: at most one such point, at the
 * end of the piece. */
static size_t quiet_len(const track *t, const unsigned char *d, size_t n)
{
    size_t k = n;
    if (!t->ws_dead) {
        size_t w = t->wh.done ? ws_reader_quiet_len(&t->wr) : 1;
        k = w < k ? w : k;
    }
    if (!t->sse_dead) {
        size_t e = sse_reader_quiet_len(&t->sr, d, n);
        k = e < k ? e : k;
    }
    return k ? k : 1;
}

size_t track_feed(track *t, const unsigned char *d, size_t n, int stop, int *at)
{
    return track_feed_until(t, d, n, stop, 0, at);
}

size_t track_feed_until(track *t, const unsigned char *d, size_t n, int stop, uint64_t until_msgs,
                        int *at)
{
    *at = 0;
    if (stop && track_at(t, stop)) {
        *at = 1;
        return 0;
    }
    if (stop && !track_alive(t, stop))
        stop = 0;
    if (until_msgs && track_messages(t) >= until_msgs)
        until_msgs = 0;
    if (!stop && !until_msgs) {
        feed_ws(t, d, n);
        feed_sse(t, d, n);
        t->seen += n;
        return n;
    }
    /* In pieces that end where a boundary or a message end may be: only
     * while something waits for one (a toxic to start at a boundary, a
     * schedule counting messages). */
    size_t off = 0;
    while (off < n) {
        size_t k = quiet_len(t, d + off, n - off);
        feed_ws(t, d + off, k);
        feed_sse(t, d + off, k);
        t->seen += k;
        off += k;
        if (stop && track_at(t, stop)) {
            *at = 1;
            break;
        }
        if (until_msgs && track_messages(t) >= until_msgs) {
            *at = 2;
            break;
        }
    }
    return off;
}
