/* splitlog.h — a bounded record of parser callbacks for the fuzz targets
 * that check split-invariance: feeding a stream whole or cut into pieces
 * must give the same records. Header-only: each target is one program. */
#ifndef RTCHAOS_FUZZ_SPLITLOG_H
#define RTCHAOS_FUZZ_SPLITLOG_H
#include <stdlib.h>
#include <string.h>

#define SPLITLOG_CAP (1 << 18)

typedef struct splitlog {
    unsigned char buf[SPLITLOG_CAP];
    size_t len;
    size_t last_at; /* offset of the last record's length field, for merging */
    char last_tag;
    int overflow;
} splitlog;

static void splitlog_reset(splitlog *l)
{
    l->len = 0;
    l->last_tag = 0;
    l->overflow = 0;
}

/* Appends a record: tag, 8-byte length, bytes. With merge set and the same
 * tag as the previous record, the bytes extend that record instead (for
 * pass-through output whose cut points do not matter). */
static void splitlog_put(splitlog *l, char tag, const void *d, size_t n, int merge)
{
    if (l->overflow || l->len + n + 9 > SPLITLOG_CAP) {
        l->overflow = 1;
        return;
    }
    if (merge && l->last_tag == tag) {
        size_t old;
        memcpy(&old, l->buf + l->last_at, sizeof old);
        old += n;
        memcpy(l->buf + l->last_at, &old, sizeof old);
        if (n) /* d may be NULL when n is 0 */
            memcpy(l->buf + l->len, d, n);
        l->len += n;
        return;
    }
    l->buf[l->len++] = (unsigned char)tag;
    l->last_at = l->len;
    memcpy(l->buf + l->len, &n, sizeof n);
    l->len += sizeof n;
    if (n)
        memcpy(l->buf + l->len, d, n);
    l->len += n;
    l->last_tag = tag;
}

/* Whether two logs hold the same records (overflowed logs compare equal:
 * nothing can be said about them). */
static int splitlog_same(const splitlog *a, const splitlog *b)
{
    if (a->overflow || b->overflow)
        return 1;
    return a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0;
}

/* A copy of d[0..n) of exactly n bytes, so ASan sees any read past it. */
static unsigned char *splitlog_exact(const unsigned char *d, size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    if (n)
        memcpy(p, d, n);
    return p;
}

#endif
