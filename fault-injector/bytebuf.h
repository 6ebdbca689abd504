/* bytebuf.h — a growable byte buffer for the protocol parsers. */
#ifndef RTCHAOS_BYTEBUF_H
#define RTCHAOS_BYTEBUF_H
#include <stdlib.h>
#include <string.h>

typedef struct bytebuf {
    unsigned char *p;
    size_t len, cap;
} bytebuf;

/* Appends n bytes; returns 0 or -1 when memory runs out. */
static inline int bytebuf_add(bytebuf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static inline void bytebuf_reset(bytebuf *b)
{
    b->len = 0;
}

/* Drops the first n bytes. */
static inline void bytebuf_consume(bytebuf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static inline void bytebuf_free(bytebuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
