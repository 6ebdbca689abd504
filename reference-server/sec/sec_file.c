/* sec_file.c — bounded whole-file reads for the security configuration. */
#include "sec_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_READ_MAX (64u << 10) /* read in one buffer up to this size */

/* "16 KiB", "1 MiB" or "1000 bytes". */
static void size_text(char *buf, size_t cap, size_t n)
{
    if (n && n % (1u << 20) == 0)
        snprintf(buf, cap, "%zu MiB", n >> 20);
    else if (n && n % 1024 == 0)
        snprintf(buf, cap, "%zu KiB", n >> 10);
    else
        snprintf(buf, cap, "%zu bytes", n);
}

char *sec_file_read(const char *path, size_t max_bytes, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = max_bytes + 1 < FIRST_READ_MAX ? max_bytes + 1 : FIRST_READ_MAX, n = 0;
    enum { OK = 0, NO_MEMORY, READ_ERROR, TOO_LARGE } why = OK;
    char *buf = malloc(cap + 1);
    if (!buf)
        why = NO_MEMORY;
    while (why == OK) {
        n += fread(buf + n, 1, cap - n, f);
        if (ferror(f)) {
            why = READ_ERROR;
        } else if (n > max_bytes) {
            why = TOO_LARGE;
        } else if (n < cap) {
            break; /* end of file */
        } else { /* a new buffer rather than realloc: no copy of a secret left behind */
            size_t ncap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *nb = malloc(ncap + 1);
            if (!nb) {
                why = NO_MEMORY;
                break;
            }
            memcpy(nb, buf, n);
            memset(buf, 0, n);
            free(buf);
            buf = nb;
            cap = ncap;
        }
    }
    fclose(f);
    if (why != OK) {
        if (buf) {
            memset(buf, 0, n);
            free(buf);
        }
        char limit[32];
        size_text(limit, sizeof limit, max_bytes);
        if (why == TOO_LARGE)
            snprintf(err, errlen, "%s: larger than %s", path, limit);
        else if (why == READ_ERROR)
            snprintf(err, errlen, "%s: read error", path);
        else
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}
