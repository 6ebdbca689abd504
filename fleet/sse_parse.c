/* sse_parse.c — incremental Server-Sent Events field parser (client side).
 *
 * Written by hand: no maintained C library parses the client side of SSE
 * (libraries for it exist for browsers, Go, Python, Node); the format is a
 * dozen lines of the WHATWG spec, and doing it here lets a whole event be
 * handed out without copying when one read holds it, which is what keeps
 * thousands of SSE clients cheap. */
#include "sse_parse.h"

#include <stdlib.h>
#include <string.h>

/* Index of the first '\r' or '\n' in b[from..n), or n. */
static size_t find_eol(const char *b, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        if (b[i] == '\n' || b[i] == '\r')
            return i;
    return n;
}

static int all_digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Processes the lines of one complete event b[0..n) (each line ends with a
 * terminator; the final blank line is not included). */
static int dispatch(const char *b, size_t n, const sse_callbacks *cb, void *ud)
{
    const char *ev = "message";
    size_t ev_len = 7;
    const char *data1 = NULL;
    size_t data1_len = 0, n_data = 0, data_total = 0;
    size_t pos = 0;
    while (pos < n) {
        size_t e = find_eol(b, pos, n);
        const char *line = b + pos;
        size_t ll = e - pos;
        size_t next = e + ((e + 1 < n && b[e] == '\r' && b[e + 1] == '\n') ? 2 : 1);
        pos = next;
        if (ll == 0)
            continue;
        if (line[0] == ':') {
            if (cb->on_comment)
                cb->on_comment(ud);
            continue;
        }
        const char *colon = memchr(line, ':', ll);
        size_t fl = colon ? (size_t)(colon - line) : ll;
        const char *val = colon ? colon + 1 : line + ll;
        size_t vl = colon ? ll - fl - 1 : 0;
        if (vl > 0 && val[0] == ' ') {
            val++;
            vl--;
        }
        if (fl == 4 && memcmp(line, "data", 4) == 0) {
            if (n_data == 0) {
                data1 = val;
                data1_len = vl;
            }
            n_data++;
            data_total += vl + 1;
        } else if (fl == 5 && memcmp(line, "event", 5) == 0) {
            ev = val;
            ev_len = vl;
        } else if (fl == 2 && memcmp(line, "id", 2) == 0) {
            if (!memchr(val, '\0', vl) && cb->on_id)
                cb->on_id(ud, val, vl);
        } else if (fl == 5 && memcmp(line, "retry", 5) == 0) {
            if (all_digits(val, vl) && vl < 19 && cb->on_retry)
                cb->on_retry(ud, strtoull(val, NULL, 10));
        }
    }
    if (n_data == 0 || !cb->on_event)
        return 0;
    if (n_data == 1) {
        cb->on_event(ud, ev, ev_len, data1, data1_len);
        return 0;
    }
    /* several data lines: join them with '\n' (rare; copies) */
    char *joined = malloc(data_total);
    if (!joined)
        return -1;
    size_t w = 0;
    pos = 0;
    while (pos < n) {
        size_t e = find_eol(b, pos, n);
        const char *line = b + pos;
        size_t ll = e - pos;
        pos = e + ((e + 1 < n && b[e] == '\r' && b[e + 1] == '\n') ? 2 : 1);
        if (ll >= 4 && memcmp(line, "data", 4) == 0 && (ll == 4 || line[4] == ':')) {
            const char *val = line + (ll > 4 ? 5 : 4);
            size_t vl = ll > 4 ? ll - 5 : 0;
            if (vl > 0 && val[0] == ' ') {
                val++;
                vl--;
            }
            memcpy(joined + w, val, vl);
            w += vl;
            joined[w++] = '\n';
        }
    }
    cb->on_event(ud, ev, ev_len, joined, w - 1);
    free(joined);
    return 0;
}

/* Dispatches every complete event in b[0..n); returns the offset of the
 * first byte not consumed (the start of an incomplete event). Sets
 * *cr_end when the last consumed byte was a '\r' ending the data. */
static size_t parse(const char *b, size_t n, const sse_callbacks *cb, void *ud, int *cr_end,
                    int *fail)
{
    size_t start = 0, pos = 0;
    *cr_end = 0;
    while (pos < n) {
        size_t e = find_eol(b, pos, n);
        if (e == n)
            break; /* line not finished */
        size_t tl = 1;
        int cr_last = 0;
        if (b[e] == '\r') {
            if (e + 1 < n)
                tl = b[e + 1] == '\n' ? 2 : 1;
            else
                cr_last = 1;
        }
        if (e == pos) { /* blank line: the event [start, pos) is complete */
            if (dispatch(b + start, pos - start, cb, ud) < 0) {
                *fail = 1;
                return pos;
            }
            pos = e + tl;
            start = pos;
            *cr_end = cr_last;
            continue;
        }
        if (cr_last)
            break; /* "\r" at the end of a line inside an event: wait for what follows */
        pos = e + tl;
    }
    return start;
}

/* Grows the pending buffer to hold at least need bytes (keeping its
 * contents): capacities are powers of two from 256. Returns 0, or -1 when
 * out of memory. */
static int pend_reserve(sse_parser *p, size_t need)
{
    if (need <= p->pend_cap)
        return 0;
    size_t cap = p->pend_cap ? p->pend_cap : 256;
    while (cap < need)
        cap *= 2;
    char *np = realloc(p->pend, cap);
    if (!np)
        return -1;
    p->pend = np;
    p->pend_cap = (uint32_t)cap;
    return 0;
}

int sse_feed(sse_parser *p, const char *buf, size_t len, const sse_callbacks *cb, void *ud,
             size_t max_event_bytes)
{
    if (p->skip_lf && len > 0) {
        if (buf[0] == '\n') {
            buf++;
            len--;
        }
        p->skip_lf = 0;
    }
    if (len == 0)
        return 0;
    const char *b = buf;
    size_t n = len;
    if (p->pend_len > 0) {
        if ((size_t)p->pend_len + len > max_event_bytes)
            return -1;
        if (pend_reserve(p, p->pend_len + len) < 0)
            return -1;
        memcpy(p->pend + p->pend_len, buf, len);
        p->pend_len += (uint32_t)len;
        b = p->pend;
        n = p->pend_len;
    }
    int cr_end = 0, fail = 0;
    size_t used = parse(b, n, cb, ud, &cr_end, &fail);
    if (fail)
        return -1;
    size_t rest = n - used;
    if (rest == 0) {
        sse_reset(p);
        p->skip_lf = (uint8_t)cr_end;
        return 0;
    }
    if (rest > max_event_bytes)
        return -1;
    if (b == p->pend) {
        memmove(p->pend, p->pend + used, rest);
        p->pend_len = (uint32_t)rest;
        return 0;
    }
    if (pend_reserve(p, rest) < 0)
        return -1;
    memcpy(p->pend, b + used, rest);
    p->pend_len = (uint32_t)rest;
    return 0;
}

void sse_reset(sse_parser *p)
{
    free(p->pend);
    p->pend = NULL;
    p->pend_len = p->pend_cap = 0;
    p->skip_lf = 0;
}
