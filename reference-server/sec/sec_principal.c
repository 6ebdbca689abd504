/* sec_principal.c — the authenticated (or anonymous) identity of a connection. */
#include "sec_principal.h"

#include <string.h>

void sec_principal_anonymous(sec_principal *p)
{
    memset(p, 0, sizeof *p);
}

int sec_principal_has_role(const sec_principal *p, const char *role)
{
    for (int i = 0; i < p->nroles; i++)
        if (strcmp(p->roles[i], role) == 0)
            return 1;
    return 0;
}

const char *sec_principal_claim(const sec_principal *p, const char *name, size_t name_len)
{
    const char *v = NULL;
    if (name_len == 3 && memcmp(name, "sub", 3) == 0)
        v = p->sub;
    else if (name_len == 6 && memcmp(name, "tenant", 6) == 0)
        v = p->tenant;
    return v && v[0] ? v : NULL;
}

int sec_principal_segment_valid(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ':'))
            return 0;
    }
    return 1;
}
