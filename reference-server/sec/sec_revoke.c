/* sec_revoke.c — the token revocation list: sorted arrays of revoked jti
 * values and subjects, looked up by binary search. */
#include "sec_revoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_file.h"

struct sec_revoke {
    char *text;         /* the file's bytes, entries NUL-terminated in place */
    char **jti, **sub;  /* sorted, duplicates removed */
    size_t njti, nsub;
};

const char *sec_revoke_hit_str(sec_revoke_hit h)
{
    switch (h) {
    case SEC_REVOKE_JTI: return "jti";
    case SEC_REVOKE_SUB: return "sub";
    case SEC_REVOKE_NONE: break;
    }
    return "none";
}

void sec_revoke_free(sec_revoke *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->jti);
    free(r->sub);
    free(r);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts v[0..*n) and drops repeats. */
static void sort_unique(char **v, size_t *n)
{
    if (!*n)
        return;
    qsort(v, *n, sizeof *v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < *n; i++)
        if (strcmp(v[i], v[k - 1]) != 0)
            v[k++] = v[i];
    *n = k;
}

sec_revoke *sec_revoke_load_mem(const char *buf, size_t len, const char *name, char *err,
                                size_t errlen)
{
    if (len > SEC_REVOKE_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %u bytes", name, SEC_REVOKE_FILE_MAX);
        return NULL;
    }
    sec_revoke *r = calloc(1, sizeof *r);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    if (r) {
        r->text = malloc(len + 1);
        r->jti = malloc(lines * sizeof *r->jti);
        r->sub = malloc(lines * sizeof *r->sub);
    }
    if (!r || !r->text || !r->jti || !r->sub) {
        sec_revoke_free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(r->text, buf, len);
    r->text[len] = 0;
    size_t line_no = 0;
    for (char *p = r->text; p <= r->text + len;) {
        line_no++;
        char *eol = memchr(p, '\n', (size_t)(r->text + len - p));
        if (!eol)
            eol = r->text + len;
        *eol = 0;
        char *e = eol;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#') {
            int is_jti = strncmp(p, "jti", 3) == 0, is_sub = strncmp(p, "sub", 3) == 0;
            char *v = p + 3;
            if ((!is_jti && !is_sub) || (*v != ' ' && *v != '\t')) {
                snprintf(err, errlen, "%s:%zu: expected \"jti <id>\" or \"sub <subject>\"", name,
                         line_no);
                goto fail;
            }
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vlen = (size_t)(e - v), max = is_jti ? SEC_JTI_MAX : SEC_SUB_MAX;
            int ok = vlen >= 1 && vlen <= max && strlen(v) == vlen;
            for (size_t i = 0; ok && i < vlen; i++)
                ok = (unsigned char)v[i] >= 0x20 && v[i] != 0x7f;
            if (!ok) {
                snprintf(err, errlen, "%s:%zu: the %s must be 1..%zu bytes without control characters",
                         name, line_no, is_jti ? "jti" : "subject", max);
                goto fail;
            }
            if (r->njti + r->nsub == SEC_REVOKE_ENTRIES_MAX) {
                snprintf(err, errlen, "%s:%zu: more than %d entries", name, line_no,
                         SEC_REVOKE_ENTRIES_MAX);
                goto fail;
            }
            if (is_jti)
                r->jti[r->njti++] = v;
            else
                r->sub[r->nsub++] = v;
        }
        p = eol + 1;
    }
    sort_unique(r->jti, &r->njti);
    sort_unique(r->sub, &r->nsub);
    return r;
fail:
    sec_revoke_free(r);
    return NULL;
}

sec_revoke *sec_revoke_load_file(const char *path, char *err, size_t errlen)
{
    size_t n;
    char *buf = sec_file_read(path, SEC_REVOKE_FILE_MAX, &n, err, errlen);
    if (!buf)
        return NULL;
    sec_revoke *r = sec_revoke_load_mem(buf, n, path, err, errlen);
    free(buf);
    return r;
}

size_t sec_revoke_count(const sec_revoke *r, sec_revoke_hit kind)
{
    if (!r)
        return 0;
    return kind == SEC_REVOKE_JTI ? r->njti : kind == SEC_REVOKE_SUB ? r->nsub : 0;
}

static int listed(char *const *v, size_t n, const char *key)
{
    return key[0] && n && bsearch(&key, v, n, sizeof *v, cmp_str) != NULL;
}

sec_revoke_hit sec_revoke_check(const sec_revoke *r, const sec_principal *who)
{
    if (!r || !who->authenticated)
        return SEC_REVOKE_NONE;
    if (listed(r->jti, r->njti, who->jti))
        return SEC_REVOKE_JTI;
    if (listed(r->sub, r->nsub, who->sub))
        return SEC_REVOKE_SUB;
    return SEC_REVOKE_NONE;
}
