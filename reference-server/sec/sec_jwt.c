/* sec_jwt.c — JWT verification with libjwt and a key set chosen by alg. */
#include "sec_jwt.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sec_file.h"

#define KEY_FILE_MAX 16384 /* biggest key file read, bytes */

typedef struct sec_jwt_key {
    jwt_alg_t alg;
    unsigned char *key;
    size_t key_len;
    uint64_t id; /* sec_jwt_key_id */
} sec_jwt_key;

struct sec_jwt {
    sec_jwt_key keys[SEC_JWT_KEYS_MAX];
    int nkeys;
    char *issuer, *audience;
    int64_t leeway_s;
    int allow_no_exp;
};

const char *sec_jwt_result_str(sec_jwt_result r)
{
    switch (r) {
    case SEC_JWT_OK: return "ok";
    case SEC_JWT_MISSING: return "missing_token";
    case SEC_JWT_MALFORMED: return "malformed_token";
    case SEC_JWT_BAD_ALG: return "bad_alg";
    case SEC_JWT_BAD_SIGNATURE: return "bad_signature";
    case SEC_JWT_EXPIRED: return "expired";
    case SEC_JWT_NOT_YET_VALID: return "not_yet_valid";
    case SEC_JWT_BAD_CLAIMS: return "bad_claims";
    case SEC_JWT_REVOKED: return "revoked";
    }
    return "unknown";
}

sec_jwt *sec_jwt_new(const sec_jwt_opts *opts, char *err, size_t errlen)
{
    sec_jwt *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (opts) {
        v->leeway_s = opts->leeway_s > 0 ? opts->leeway_s : 0;
        v->allow_no_exp = opts->allow_no_exp;
        if ((opts->issuer && !(v->issuer = strdup(opts->issuer))) ||
            (opts->audience && !(v->audience = strdup(opts->audience)))) {
            sec_jwt_free(v);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
    }
    return v;
}

void sec_jwt_free(sec_jwt *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->nkeys; i++) {
        /* secrets do not outlive the key set in freed heap memory */
        memset(v->keys[i].key, 0, v->keys[i].key_len);
        free(v->keys[i].key);
    }
    free(v->issuer);
    free(v->audience);
    free(v);
}

int sec_jwt_nkeys(const sec_jwt *v)
{
    return v ? v->nkeys : 0;
}

uint64_t sec_jwt_key_id(const char *alg, const unsigned char *key, size_t key_len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *a = alg ? alg : ""; *a; a++)
        h = (h ^ (unsigned char)*a) * 0x100000001b3ULL;
    h = (h ^ 0xff) * 0x100000001b3ULL; /* separator: alg "HS2", key "56…" is another key */
    for (size_t i = 0; i < key_len; i++)
        h = (h ^ key[i]) * 0x100000001b3ULL;
    return h ? h : 1;
}

int sec_jwt_has_key_id(const sec_jwt *v, uint64_t key_id)
{
    for (int i = 0; v && i < v->nkeys; i++)
        if (v->keys[i].id == key_id)
            return 1;
    return 0;
}

static int alg_is_hmac(jwt_alg_t a)
{
    return a == JWT_ALG_HS256 || a == JWT_ALG_HS384 || a == JWT_ALG_HS512;
}

/* The libjwt alg a PEM public key fits, or JWT_ALG_INVAL. */
static jwt_alg_t pem_key_alg(const unsigned char *pem, size_t len, char *err, size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        snprintf(err, errlen, "out of memory");
        return JWT_ALG_INVAL;
    }
    EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!pk) {
        snprintf(err, errlen, "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
        return JWT_ALG_INVAL;
    }
    jwt_alg_t alg = JWT_ALG_INVAL;
    int id = EVP_PKEY_get_base_id(pk);
    if (id == EVP_PKEY_RSA) {
        alg = JWT_ALG_RS256;
    } else if (id == EVP_PKEY_EC) {
        char curve[64] = "";
        size_t clen = 0;
        if (EVP_PKEY_get_utf8_string_param(pk, "group", curve, sizeof curve, &clen) == 1) {
            if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0)
                alg = JWT_ALG_ES256;
            else if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0)
                alg = JWT_ALG_ES384;
            else if (strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0)
                alg = JWT_ALG_ES512;
        }
        if (alg == JWT_ALG_INVAL)
            snprintf(err, errlen, "EC key on curve '%s': only P-256, P-384, P-521", curve);
    } else {
        snprintf(err, errlen, "public key is neither RSA nor EC");
    }
    EVP_PKEY_free(pk);
    return alg;
}

int sec_jwt_add_key(sec_jwt *v, const char *alg_name, const unsigned char *key, size_t key_len,
                    char *err, size_t errlen)
{
    jwt_alg_t alg = alg_name ? jwt_str_alg(alg_name) : JWT_ALG_INVAL;
    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE) {
        snprintf(err, errlen, "unsupported JWT algorithm '%s'", alg_name ? alg_name : "(null)");
        return -1;
    }
    if (v->nkeys == SEC_JWT_KEYS_MAX) {
        snprintf(err, errlen, "too many keys (at most %d)", SEC_JWT_KEYS_MAX);
        return -1;
    }
    for (int i = 0; i < v->nkeys; i++)
        if (v->keys[i].alg == alg) {
            snprintf(err, errlen, "a key for %s is already configured", alg_name);
            return -1;
        }
    if (alg_is_hmac(alg)) {
        if (key_len < SEC_JWT_SECRET_MIN) {
            snprintf(err, errlen, "%s secret is %zu bytes; at least %d are required", alg_name,
                     key_len, SEC_JWT_SECRET_MIN);
            return -1;
        }
    } else {
        char kerr[128];
        jwt_alg_t fits = pem_key_alg(key, key_len, kerr, sizeof kerr);
        if (fits == JWT_ALG_INVAL) {
            snprintf(err, errlen, "%s key: %s", alg_name, kerr);
            return -1;
        }
        int rsa_key = fits == JWT_ALG_RS256;
        int rsa_alg = alg == JWT_ALG_RS256 || alg == JWT_ALG_RS384 || alg == JWT_ALG_RS512;
        if (rsa_key != rsa_alg || (!rsa_key && fits != alg)) {
            snprintf(err, errlen, "key type does not fit algorithm %s (the key fits %s)",
                     alg_name, jwt_alg_str(fits));
            return -1;
        }
    }
    /* libjwt wants PEM keys NUL-terminated in practice; keep one spare byte */
    unsigned char *copy = malloc(key_len + 1);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, key, key_len);
    copy[key_len] = 0;
    v->keys[v->nkeys++] = (sec_jwt_key){ .alg = alg, .key = copy, .key_len = key_len,
                                         .id = sec_jwt_key_id(jwt_alg_str(alg), key, key_len) };
    return 0;
}

/* Reads at most KEY_FILE_MAX bytes of path into a malloc'd buffer. */
static unsigned char *read_key_file(const char *path, size_t *len, char *err, size_t errlen)
{
    return (unsigned char *)sec_file_read(path, KEY_FILE_MAX, len, err, errlen);
}

int sec_jwt_add_secret_file(sec_jwt *v, const char *path, char *err, size_t errlen)
{
    size_t len;
    unsigned char *buf = read_key_file(path, &len, err, errlen);
    if (!buf)
        return -1;
    size_t full = len;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                       buf[len - 1] == '\t'))
        len--;
    char kerr[200];
    int rc = sec_jwt_add_key(v, "HS256", buf, len, kerr, sizeof kerr);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, kerr);
    memset(buf, 0, full);
    free(buf);
    return rc;
}

int sec_jwt_add_public_key_file(sec_jwt *v, const char *path, const char *alg, char *err,
                                size_t errlen)
{
    size_t len;
    unsigned char *buf = read_key_file(path, &len, err, errlen);
    if (!buf)
        return -1;
    char kerr[200];
    int rc = -1;
    if (!alg) {
        jwt_alg_t fits = pem_key_alg(buf, len, kerr, sizeof kerr);
        if (fits != JWT_ALG_INVAL)
            alg = jwt_alg_str(fits);
    }
    if (alg)
        rc = sec_jwt_add_key(v, alg, buf, len, kerr, sizeof kerr);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, kerr);
    free(buf);
    return rc;
}

int sec_jwt_bearer(const char *hdr, size_t len, const char **tok, size_t *tok_len)
{
    size_t i = 0;
    while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'))
        i++;
    if (len - i < 7 || strncasecmp(hdr + i, "bearer", 6) != 0 ||
        (hdr[i + 6] != ' ' && hdr[i + 6] != '\t'))
        return -1;
    i += 7;
    while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'))
        i++;
    size_t end = len;
    while (end > i && (hdr[end - 1] == ' ' || hdr[end - 1] == '\t'))
        end--;
    if (end == i)
        return -1;
    *tok = hdr + i;
    *tok_len = end - i;
    return 0;
}

/* Whether s[0..len) has the shape of a compact JWS: three base64url parts. */
static int token_shape_ok(const char *s, size_t len)
{
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.')
            dots++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            return 0;
    }
    return dots == 2;
}

/* A NumericDate claim: 0 absent, 1 present (in *out, whole seconds, rounded
 * down), -1 present but not a number. */
static int claim_time(json_t *claims, const char *name, int64_t *out)
{
    json_t *j = json_object_get(claims, name);
    if (!j)
        return 0;
    if (json_is_integer(j)) {
        *out = (int64_t)json_integer_value(j);
        return 1;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (!(d > -9.2e18 && d < 9.2e18))
            return -1;
        *out = (int64_t)d;
        if ((double)*out > d)
            (*out)--;
        return 1;
    }
    return -1;
}

static int text_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int role_ok(const char *s, size_t len)
{
    if (len == 0 || len > SEC_ROLE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

static int add_role(sec_principal *p, const char *s, size_t len, char *err, size_t errlen)
{
    if (!role_ok(s, len)) {
        snprintf(err, errlen, "role of %zu bytes is not 1..%d of [A-Za-z0-9_.:-]", len,
                 SEC_ROLE_MAX);
        return -1;
    }
    if (p->nroles == SEC_ROLES_MAX) {
        snprintf(err, errlen, "more than %d roles", SEC_ROLES_MAX);
        return -1;
    }
    memcpy(p->roles[p->nroles], s, len);
    p->roles[p->nroles][len] = 0;
    p->nroles++;
    return 0;
}

/* Fills p from the verified claims; returns SEC_JWT_OK or why not. */
static sec_jwt_result claims_to_principal(const sec_jwt *v, json_t *claims, int64_t now_s,
                                          sec_principal *p, char *err, size_t errlen)
{
    int64_t exp = 0, nbf = 0;
    int has_exp = claim_time(claims, "exp", &exp);
    int has_nbf = claim_time(claims, "nbf", &nbf);
    if (has_exp < 0 || has_nbf < 0) {
        snprintf(err, errlen, "exp/nbf is not a number");
        return SEC_JWT_BAD_CLAIMS;
    }
    if (!has_exp && !v->allow_no_exp) {
        snprintf(err, errlen, "token has no exp");
        return SEC_JWT_BAD_CLAIMS;
    }
    if (has_exp && now_s >= exp + v->leeway_s) {
        snprintf(err, errlen, "token expired %lld s ago", (long long)(now_s - exp));
        return SEC_JWT_EXPIRED;
    }
    if (has_nbf && now_s + v->leeway_s < nbf) {
        snprintf(err, errlen, "token not valid for another %lld s", (long long)(nbf - now_s));
        return SEC_JWT_NOT_YET_VALID;
    }
    if (v->issuer) {
        json_t *iss = json_object_get(claims, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), v->issuer) != 0) {
            snprintf(err, errlen, "wrong or missing iss");
            return SEC_JWT_BAD_CLAIMS;
        }
    }
    if (v->audience) {
        json_t *aud = json_object_get(claims, "aud");
        int found = json_is_string(aud) && strcmp(json_string_value(aud), v->audience) == 0;
        if (json_is_array(aud)) {
            size_t i;
            json_t *a;
            json_array_foreach(aud, i, a) found |=
                json_is_string(a) && strcmp(json_string_value(a), v->audience) == 0;
        }
        if (!found) {
            snprintf(err, errlen, "wrong or missing aud");
            return SEC_JWT_BAD_CLAIMS;
        }
    }
    json_t *sub = json_object_get(claims, "sub");
    if (!json_is_string(sub) ||
        !text_ok(json_string_value(sub), json_string_length(sub), SEC_SUB_MAX)) {
        snprintf(err, errlen, "sub missing or not 1..%d printable bytes", SEC_SUB_MAX);
        return SEC_JWT_BAD_CLAIMS;
    }
    memcpy(p->sub, json_string_value(sub), json_string_length(sub) + 1);
    json_t *tenant = json_object_get(claims, "tenant");
    if (tenant) {
        if (!json_is_string(tenant) ||
            !sec_principal_segment_valid(json_string_value(tenant), json_string_length(tenant),
                                         SEC_TENANT_MAX)) {
            snprintf(err, errlen, "tenant is not 1..%d bytes of [A-Za-z0-9_:-]", SEC_TENANT_MAX);
            return SEC_JWT_BAD_CLAIMS;
        }
        memcpy(p->tenant, json_string_value(tenant), json_string_length(tenant) + 1);
    }
    json_t *roles = json_object_get(claims, "roles");
    if (json_is_string(roles)) {
        const char *s = json_string_value(roles);
        size_t n = json_string_length(roles);
        for (size_t i = 0; i < n;) {
            while (i < n && s[i] == ' ')
                i++;
            size_t j = i;
            while (j < n && s[j] != ' ')
                j++;
            if (j > i && add_role(p, s + i, j - i, err, errlen) < 0)
                return SEC_JWT_BAD_CLAIMS;
            i = j;
        }
    } else if (json_is_array(roles)) {
        size_t i;
        json_t *r;
        json_array_foreach(roles, i, r)
        {
            if (!json_is_string(r)) {
                snprintf(err, errlen, "roles holds a non-string");
                return SEC_JWT_BAD_CLAIMS;
            }
            if (add_role(p, json_string_value(r), json_string_length(r), err, errlen) < 0)
                return SEC_JWT_BAD_CLAIMS;
        }
    } else if (roles && !json_is_null(roles)) {
        snprintf(err, errlen, "roles is neither a string nor an array");
        return SEC_JWT_BAD_CLAIMS;
    }
    json_t *jti = json_object_get(claims, "jti");
    if (jti) {
        if (!json_is_string(jti) ||
            !text_ok(json_string_value(jti), json_string_length(jti), SEC_JTI_MAX)) {
            snprintf(err, errlen, "jti is not 1..%d printable bytes", SEC_JTI_MAX);
            return SEC_JWT_BAD_CLAIMS;
        }
        memcpy(p->jti, json_string_value(jti), json_string_length(jti) + 1);
    }
    p->exp_s = has_exp ? exp : 0;
    p->authenticated = 1;
    return SEC_JWT_OK;
}

/* Decodes the base64url part tok[0..n) and parses it as JSON (no NUL
 * anywhere: jansson refuses "\u0000" and raw NULs without JSON_ALLOW_NUL).
 * Returns a new reference to a JSON object, or NULL with err. */
static json_t *part_json(const char *tok, size_t n, const char *what, char *err, size_t errlen)
{
    if (n == 0 || n > SEC_JWT_TOKEN_MAX) {
        snprintf(err, errlen, "token %s missing or too long", what);
        return NULL;
    }
    /* base64url → base64 with padding, which EVP_DecodeBlock wants */
    char *b64 = malloc(n + 4);
    unsigned char *raw = malloc(n + 4);
    json_t *j = NULL;
    if (!b64 || !raw) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        b64[k++] = tok[i] == '-' ? '+' : tok[i] == '_' ? '/' : tok[i];
    if (k % 4 == 1) {
        snprintf(err, errlen, "token %s is not base64url", what);
        goto out;
    }
    while (k % 4)
        b64[k++] = '=';
    int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)k);
    if (len < 0) {
        snprintf(err, errlen, "token %s is not base64url", what);
        goto out;
    }
    /* EVP_DecodeBlock counts the padding bytes as zero bytes of output */
    for (size_t i = k; i > 0 && b64[i - 1] == '='; i--)
        len--;
    j = json_loadb((const char *)raw, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        j = NULL;
        snprintf(err, errlen, "malformed token: its %s is not a JSON object (without NUL)", what);
    }
out:
    free(b64);
    free(raw);
    return j;
}

/* Reads the alg named in the token's header (the part before the first '.')
 * into *alg (JWT_ALG_INVAL for a name libjwt does not know). Returns 0, or -1
 * when the header is not base64url of a JSON object with a string "alg". */
static int header_alg(const char *tok, jwt_alg_t *alg, char *err, size_t errlen)
{
    const char *dot = strchr(tok, '.');
    size_t n = (size_t)(dot - tok);
    if (n > 1024) {
        snprintf(err, errlen, "token header missing or longer than 1 KiB");
        return -1;
    }
    json_t *h = part_json(tok, n, "header", err, errlen);
    if (!h)
        return -1;
    const char *name = json_string_value(json_object_get(h, "alg"));
    int rc = 0;
    if (!name) {
        snprintf(err, errlen, "token header is not a JSON object with a string \"alg\"");
        rc = -1;
    } else {
        *alg = jwt_str_alg(name);
    }
    json_decref(h);
    return rc;
}

/* Whether the token's payload (between the two dots) is a JSON object. Checked
 * before the signature: libjwt fails a token with a payload it cannot parse
 * the same way as one with a bad signature, and such a token is malformed
 * whoever signed it. */
static int payload_ok(const char *tok, char *err, size_t errlen)
{
    const char *p = strchr(tok, '.') + 1, *q = strchr(p, '.');
    json_t *j = part_json(p, (size_t)(q - p), "payload", err, errlen);
    json_decref(j);
    return j ? 0 : -1;
}

sec_jwt_result sec_jwt_verify(const sec_jwt *v, const char *token, size_t len, int64_t now_s,
                              sec_principal *out, char *err, size_t errlen)
{
    sec_principal_anonymous(out);
    if (!token || len == 0) {
        snprintf(err, errlen, "no token");
        return SEC_JWT_MISSING;
    }
    if (len > SEC_JWT_TOKEN_MAX || !token_shape_ok(token, len)) {
        snprintf(err, errlen, "token is not a compact JWS of at most %d bytes", SEC_JWT_TOKEN_MAX);
        return SEC_JWT_MALFORMED;
    }
    char *tok = malloc(len + 1);
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return SEC_JWT_MALFORMED;
    }
    memcpy(tok, token, len);
    tok[len] = 0;

    sec_jwt_result res;
    jwt_t *j = NULL;
    /* The key is picked by the alg the header claims, so that a token claiming
     * HS256 can never be checked against an RSA/EC public key used as an HMAC
     * secret. libjwt does not report the claimed alg of a token it has not
     * verified, so the header is read here. */
    jwt_alg_t alg = JWT_ALG_INVAL;
    if (header_alg(tok, &alg, err, errlen) < 0 || payload_ok(tok, err, errlen) < 0) {
        res = SEC_JWT_MALFORMED;
        goto out;
    }
    const sec_jwt_key *key = NULL;
    for (int i = 0; v && alg != JWT_ALG_INVAL && i < v->nkeys; i++)
        if (v->keys[i].alg == alg)
            key = &v->keys[i];
    if (!key) {
        snprintf(err, errlen, "no key for the token's alg %s",
                 alg != JWT_ALG_INVAL && jwt_alg_str(alg) ? jwt_alg_str(alg) : "(unknown)");
        res = SEC_JWT_BAD_ALG;
        goto out;
    }
    if (jwt_decode(&j, tok, key->key, (int)key->key_len) != 0 || !j) {
        snprintf(err, errlen, "signature does not verify");
        res = SEC_JWT_BAD_SIGNATURE;
        goto out;
    }
    if (jwt_get_alg(j) != key->alg) {
        snprintf(err, errlen, "alg changed between passes");
        res = SEC_JWT_BAD_ALG;
        goto out;
    }
    char *grants = jwt_get_grants_json(j, NULL);
    json_t *claims = grants ? json_loads(grants, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(grants);
    if (!json_is_object(claims)) {
        json_decref(claims);
        snprintf(err, errlen, "claims are not a JSON object");
        res = SEC_JWT_MALFORMED;
        goto out;
    }
    res = claims_to_principal(v, claims, now_s, out, err, errlen);
    json_decref(claims);
    if (res != SEC_JWT_OK)
        sec_principal_anonymous(out);
    else
        out->key_id = key->id;
out:
    if (j)
        jwt_free(j);
    free(tok);
    return res;
}
