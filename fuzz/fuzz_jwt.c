/* fuzz_jwt.c — libFuzzer target for sec_jwt (token parsing and claims) and
 * sec_jwt_bearer. The first byte picks the mode: even — the rest is a token
 * (or an Authorization header) as a client sends it; odd — the rest is a
 * claims JSON that is signed with the configured secret first, so that the
 * fuzzer reaches the claim checks behind the signature. */
#include <jwt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sec_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SECRET[] = "fuzzing-secret-0123456789abcdef0123456789";
static sec_jwt *V;

static void init(void)
{
    char err[200];
    V = sec_jwt_new(&(sec_jwt_opts){ .leeway_s = 5, .audience = "rtchaos" }, err, sizeof err);
    if (!V || sec_jwt_add_key(V, "HS256", (const unsigned char *)SECRET, strlen(SECRET), err,
                              sizeof err) < 0)
        abort();
}

static void check(const sec_principal *p, sec_jwt_result r)
{
    if (r == SEC_JWT_OK) {
        if (!p->authenticated || !p->sub[0] || p->nroles < 0 || p->nroles > SEC_ROLES_MAX)
            abort();
        if (p->tenant[0] && !sec_principal_segment_valid(p->tenant, strlen(p->tenant), SEC_TENANT_MAX))
            abort();
    } else if (p->authenticated) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!V)
        init();
    if (size < 1)
        return 0;
    sec_principal p;
    char err[200];
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    if ((data[0] & 1) == 0) {
        check(&p, sec_jwt_verify(V, body, n, 1800000000, &p, err, sizeof err));
        const char *tok;
        size_t tok_len;
        if (sec_jwt_bearer(body, n, &tok, &tok_len) == 0) {
            if (tok < body || tok + tok_len > body + n)
                abort();
            check(&p, sec_jwt_verify(V, tok, tok_len, 1800000000, &p, err, sizeof err));
        }
        return 0;
    }
    char *claims = malloc(n + 1);
    memcpy(claims, body, n);
    claims[n] = 0;
    jwt_t *j = NULL;
    char *tok = NULL;
    if (jwt_new(&j) == 0 && jwt_add_grants_json(j, claims) == 0 &&
        jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET)) == 0)
        tok = jwt_encode_str(j);
    if (tok) {
        int64_t now = 1800000000 + (int64_t)(data[0] >> 1) * 1000;
        check(&p, sec_jwt_verify(V, tok, strlen(tok), now, &p, err, sizeof err));
        free(tok);
    }
    if (j)
        jwt_free(j);
    free(claims);
    return 0;
}
