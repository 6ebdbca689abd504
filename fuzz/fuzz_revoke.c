/* fuzz_revoke.c — libFuzzer target for the token revocation list parser.
 * Every list that parses must find each of its own entries (checked by
 * re-reading the input line by line) and never revoke an anonymous
 * principal. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_revoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    sec_revoke *r = sec_revoke_load_mem((const char *)data, size, "fuzz", err, sizeof err);
    if (!r)
        return 0;
    sec_principal anon;
    sec_principal_anonymous(&anon);
    if (sec_revoke_check(r, &anon) != SEC_REVOKE_NONE)
        abort();
    /* every "jti X" / "sub X" line it accepted is found again */
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *a = p, *b = eol;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        if (b - a > 4 && (!strncmp(a, "jti", 3) || !strncmp(a, "sub", 3))) {
            const char *v = a + 3;
            while (v < b && (*v == ' ' || *v == '\t'))
                v++;
            sec_principal who;
            sec_principal_anonymous(&who);
            who.authenticated = 1;
            size_t n = (size_t)(b - v);
            if (a[0] == 'j' && n <= SEC_JTI_MAX) {
                memcpy(who.jti, v, n);
                if (sec_revoke_check(r, &who) != SEC_REVOKE_JTI)
                    abort();
            } else if (a[0] == 's' && n <= SEC_SUB_MAX) {
                memcpy(who.sub, v, n);
                if (sec_revoke_check(r, &who) != SEC_REVOKE_SUB)
                    abort();
            }
        }
        p = eol + 1;
    }
    sec_revoke_free(r);
    return 0;
}
