/* authz.c — the authorization hook (allows everything until auth lands). */
#include "authz.h"

#include <stdio.h>

authz_verdict authz_check(const authz_request *req, char *err, size_t errlen)
{
    (void)req;
    if (errlen)
        err[0] = '\0';
    return AUTHZ_ALLOW;
}

const char *authz_code(authz_verdict v)
{
    switch (v) {
    case AUTHZ_ALLOW: return "ok";
    case AUTHZ_UNAUTHORIZED: return "unauthorized";
    case AUTHZ_FORBIDDEN: return "forbidden";
    case AUTHZ_RATE_LIMITED: return "rate_limited";
    }
    return "forbidden";
}
