/* sec_principal.h — who is on the other end of a connection: the claims of a
 * verified token (subject, tenant, roles), or anonymous. */
#ifndef RTCHAOS_SEC_PRINCIPAL_H
#define RTCHAOS_SEC_PRINCIPAL_H
#include <stddef.h>
#include <stdint.h>

#define SEC_SUB_MAX    128 /* longest subject (`sub`), bytes */
#define SEC_TENANT_MAX 64  /* longest tenant, bytes */
#define SEC_ROLE_MAX   32  /* longest role name, bytes */
#define SEC_ROLES_MAX  8   /* most roles kept per principal */
#define SEC_JTI_MAX    128 /* longest token id (`jti`), bytes */

/* A plain value, copied freely; no pointers inside. An all-zero struct is
 * the anonymous principal. */
typedef struct sec_principal {
    int authenticated;               /* 1: from a verified token; 0: anonymous */
    char sub[SEC_SUB_MAX + 1];       /* "" when anonymous */
    char tenant[SEC_TENANT_MAX + 1]; /* "" when the token names no tenant */
    char roles[SEC_ROLES_MAX][SEC_ROLE_MAX + 1];
    int nroles;
    int64_t exp_s; /* token expiry, seconds since the epoch; 0 = none */
    char jti[SEC_JTI_MAX + 1]; /* the token's id (`jti`), "" when it has none */
    uint64_t key_id; /* the key that verified the token (sec_jwt_key_id), 0 anonymous */
} sec_principal;

/* Resets p to the anonymous principal. */
void sec_principal_anonymous(sec_principal *p);

/* Whether p holds role (exact, case-sensitive). Returns 1 or 0. */
int sec_principal_has_role(const sec_principal *p, const char *role);

/* The value of the claim a policy placeholder names: "sub" or "tenant".
 * Returns a NUL-terminated string owned by p, or NULL when the claim is
 * unknown or empty (an empty claim never matches anything). */
const char *sec_principal_claim(const sec_principal *p, const char *name, size_t name_len);

/* Whether s is usable as a claim that a policy binds into a channel name: 1..max
 * bytes of [A-Za-z0-9_:-] (the channel charset without '.', so it is exactly
 * one channel segment, and no wildcard). Returns 1 or 0. */
int sec_principal_segment_valid(const char *s, size_t len, size_t max);

#endif
