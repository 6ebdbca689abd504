/* sec_jwt.h — JWT verification (libjwt): a key set of HS256 secrets and
 * RS/ES public keys, exp/nbf/iss/aud checks against an injected clock, and
 * the token's claims turned into a sec_principal. */
#ifndef RTCHAOS_SEC_JWT_H
#define RTCHAOS_SEC_JWT_H
#include <stddef.h>
#include <stdint.h>

#include "sec_principal.h"

#define SEC_JWT_TOKEN_MAX  8192 /* longest token accepted, bytes */
#define SEC_JWT_SECRET_MIN 32   /* shortest HS256 secret accepted (RFC 7518 §3.2) */
#define SEC_JWT_KEYS_MAX   4    /* keys per key set */

/* Why a token was refused; SEC_JWT_OK when it was accepted. */
typedef enum sec_jwt_result {
    SEC_JWT_OK = 0,
    SEC_JWT_MISSING,       /* no token at all */
    SEC_JWT_MALFORMED,     /* not three base64url parts of JSON, or too long */
    SEC_JWT_BAD_ALG,       /* an algorithm no configured key is for (incl. "none") */
    SEC_JWT_BAD_SIGNATURE, /* signature does not verify with the key for its alg */
    SEC_JWT_EXPIRED,       /* now >= exp + leeway */
    SEC_JWT_NOT_YET_VALID, /* now < nbf - leeway */
    SEC_JWT_BAD_CLAIMS,    /* sub/tenant/roles/jti/exp/iss/aud missing or of the wrong form */
    SEC_JWT_REVOKED,       /* valid, but its jti or sub is on the revocation list (never
                              returned by sec_jwt_verify: the gate's verdict, counted alike) */
} sec_jwt_result;

/* Stable snake_case name of r ("expired", …), for metrics labels and audit. */
const char *sec_jwt_result_str(sec_jwt_result r);

/* Checks applied to every token besides its signature. */
typedef struct sec_jwt_opts {
    const char *issuer;   /* when set, `iss` must equal it; copied */
    const char *audience; /* when set, `aud` (string or array) must contain it; copied */
    int64_t leeway_s;     /* clock skew tolerated on exp and nbf, seconds (>= 0) */
    int allow_no_exp;     /* 0: a token without `exp` is refused (the default) */
} sec_jwt_opts;

/* A key set. Built once at start-up, then only read: sec_jwt_verify may be
 * called from several threads at once. */
typedef struct sec_jwt sec_jwt;

/* Makes an empty key set with the given checks (opts may be NULL: defaults).
 * The caller frees it with sec_jwt_free. Returns NULL (message in err) when
 * out of memory. */
sec_jwt *sec_jwt_new(const sec_jwt_opts *opts, char *err, size_t errlen);
void sec_jwt_free(sec_jwt *v);

/* Adds a key for alg ("HS256", "RS256", "ES256", … as libjwt names them).
 * HSxxx: key is the shared secret (at least SEC_JWT_SECRET_MIN bytes).
 * RSxxx/ESxxx: key is a PEM public key of the matching type. The key is copied.
 * One key per algorithm. Returns 0, or -1 with a message in err. */
int sec_jwt_add_key(sec_jwt *v, const char *alg, const unsigned char *key, size_t key_len,
                    char *err, size_t errlen);

/* Adds the HS256 secret read from path (trailing whitespace and newlines are
 * not part of it). Returns 0, or -1 with a message in err. */
int sec_jwt_add_secret_file(sec_jwt *v, const char *path, char *err, size_t errlen);

/* Adds the PEM public key read from path. alg may be NULL: RS256 for an RSA
 * key, ES256/ES384/ES512 for an EC key on P-256/P-384/P-521. Returns 0, or -1
 * with a message in err (unreadable file, not a public key, alg that does not
 * fit the key). */
int sec_jwt_add_public_key_file(sec_jwt *v, const char *path, const char *alg, char *err,
                                size_t errlen);

/* Number of keys in v (0: authentication is not configured). */
int sec_jwt_nkeys(const sec_jwt *v);

/* The identity of a key: a 64-bit FNV-1a hash of its algorithm and bytes,
 * never 0. sec_jwt_verify stores the id of the key that verified a token in
 * sec_principal.key_id, so that after the key files are reloaded the
 * connections whose key is gone can be told apart. */
uint64_t sec_jwt_key_id(const char *alg, const unsigned char *key, size_t key_len);

/* Whether v holds the key whose id is key_id. Returns 1 or 0. */
int sec_jwt_has_key_id(const sec_jwt *v, uint64_t key_id);

/* Verifies token[0..len) at wall time now_s (seconds since the epoch) and, on
 * SEC_JWT_OK, fills *out with its claims: `sub` (required), `tenant`
 * (optional, one channel segment), `roles` (optional: an array of strings or a
 * space-separated string), `jti` (optional: 1..SEC_JTI_MAX printable bytes),
 * `exp`, and the id of the verifying key. The token's header alg selects the key; a
 * token whose alg has no key (including "none") is refused, so a public key is
 * never used as an HMAC secret. On refusal *out is the anonymous principal and
 * err says why (never quoting the token). Thread-safe. */
sec_jwt_result sec_jwt_verify(const sec_jwt *v, const char *token, size_t len, int64_t now_s,
                              sec_principal *out, char *err, size_t errlen);

/* Finds the token in an Authorization header value "Bearer <token>" (scheme
 * case-insensitive, spaces around allowed). Sets *tok and *tok_len to point into
 * hdr. Returns 0, or -1 when hdr is not a Bearer credential. */
int sec_jwt_bearer(const char *hdr, size_t len, const char **tok, size_t *tok_len);

#endif
