/* test_sec_jwt.c — JWT verification: algorithms, key selection, signature,
 * time claims on an injected clock, claim validation, Bearer parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sec_jwt.h"

#define NOW 1800000000LL
static const char SECRET[] = "0123456789abcdef0123456789abcdef-test-secret";

typedef struct keys {
    char *rsa_priv, *rsa_pub, *ec_priv, *ec_pub, *ec384_pub;
} keys;
static keys K;

static char *pem_of(EVP_PKEY *pk, int priv)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (priv)
        PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_bio_PUBKEY(b, pk);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = strndup(data, (size_t)n);
    BIO_free(b);
    return s;
}

static int keys_setup(void **state)
{
    (void)state;
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    EVP_PKEY *ec384 = EVP_EC_gen("P-384");
    assert_non_null(rsa);
    assert_non_null(ec);
    K.rsa_priv = pem_of(rsa, 1);
    K.rsa_pub = pem_of(rsa, 0);
    K.ec_priv = pem_of(ec, 1);
    K.ec_pub = pem_of(ec, 0);
    K.ec384_pub = pem_of(ec384, 0);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
    return 0;
}

static int keys_teardown(void **state)
{
    (void)state;
    free(K.rsa_priv);
    free(K.rsa_pub);
    free(K.ec_priv);
    free(K.ec_pub);
    free(K.ec384_pub);
    return 0;
}

/* Signs claims_json with alg and key (NULL alg: "none"); caller frees. */
static char *mint(const char *alg, const void *key, size_t key_len, const char *claims_json)
{
    jwt_t *j;
    assert_int_equal(jwt_new(&j), 0);
    assert_int_equal(jwt_add_grants_json(j, claims_json), 0);
    if (alg)
        assert_int_equal(jwt_set_alg(j, jwt_str_alg(alg), key, (int)key_len), 0);
    char *t = jwt_encode_str(j);
    jwt_free(j);
    assert_non_null(t);
    return t;
}

static char *mint_hs(const char *claims)
{
    return mint("HS256", SECRET, strlen(SECRET), claims);
}

static sec_jwt *hs_set(const sec_jwt_opts *o)
{
    char err[200];
    sec_jwt *v = sec_jwt_new(o, err, sizeof err);
    assert_non_null(v);
    assert_int_equal(sec_jwt_add_key(v, "HS256", (const unsigned char *)SECRET, strlen(SECRET), err,
                                     sizeof err),
                     0);
    return v;
}

static sec_jwt_result verify(const sec_jwt *v, const char *tok, sec_principal *p)
{
    char err[200];
    return sec_jwt_verify(v, tok, strlen(tok), NOW, p, err, sizeof err);
}

static void test_sec_jwt_hs256_claims_become_principal(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char *t = mint_hs("{\"sub\":\"alice\",\"tenant\":\"acme\",\"roles\":[\"reader\",\"trader\"],"
                      "\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, t, &p), SEC_JWT_OK);
    assert_int_equal(p.authenticated, 1);
    assert_string_equal(p.sub, "alice");
    assert_string_equal(p.tenant, "acme");
    assert_int_equal(p.nroles, 2);
    assert_true(sec_principal_has_role(&p, "trader"));
    assert_false(sec_principal_has_role(&p, "admin"));
    assert_int_equal(p.exp_s, 1800000060LL);
    free(t);
    sec_jwt_free(v);
}

static void test_sec_jwt_jti_and_key_id(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char *t = mint_hs("{\"sub\":\"alice\",\"jti\":\"9b2c-01\",\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, t, &p), SEC_JWT_OK);
    assert_string_equal(p.jti, "9b2c-01");
    /* the verifying key is remembered, so a reload can tell when it is gone */
    uint64_t id = sec_jwt_key_id("HS256", (const unsigned char *)SECRET, strlen(SECRET));
    assert_true(id != 0);
    assert_true(p.key_id == id);
    assert_true(sec_jwt_has_key_id(v, id));
    assert_false(sec_jwt_has_key_id(v, id ^ 1));
    assert_false(sec_jwt_key_id("HS384", (const unsigned char *)SECRET, strlen(SECRET)) == id);
    free(t);
    t = mint_hs("{\"sub\":\"alice\",\"exp\":1800000060}");
    assert_int_equal(verify(v, t, &p), SEC_JWT_OK);
    assert_string_equal(p.jti, ""); /* optional */
    free(t);
    static const char *bad[] = { "{\"sub\":\"a\",\"jti\":7,\"exp\":1800000060}",
                                 "{\"sub\":\"a\",\"jti\":\"\",\"exp\":1800000060}",
                                 "{\"sub\":\"a\",\"jti\":\"a\\nb\",\"exp\":1800000060}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = mint_hs(bad[i]);
        assert_int_equal(verify(v, t, &p), SEC_JWT_BAD_CLAIMS);
        assert_int_equal(p.authenticated, 0);
        free(t);
    }
    assert_string_equal(sec_jwt_result_str(SEC_JWT_REVOKED), "revoked");
    sec_jwt_free(v);
}

static void test_sec_jwt_roles_as_space_separated_string(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char *t = mint_hs("{\"sub\":\"bob\",\"roles\":\" reader  admin \",\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, t, &p), SEC_JWT_OK);
    assert_int_equal(p.nroles, 2);
    assert_string_equal(p.roles[1], "admin");
    assert_string_equal(p.tenant, "");
    free(t);
    sec_jwt_free(v);
}

static void test_sec_jwt_wrong_secret_is_bad_signature(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    const char other[] = "another-secret-that-is-long-enough-0123456789";
    char *t = mint("HS256", other, strlen(other), "{\"sub\":\"m\",\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, t, &p), SEC_JWT_BAD_SIGNATURE);
    assert_int_equal(p.authenticated, 0);
    free(t);
    sec_jwt_free(v);
}

static void test_sec_jwt_tampered_payload_is_bad_signature(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char *t = mint_hs("{\"sub\":\"alice\",\"tenant\":\"acme\",\"exp\":1800000060}");
    char *t2 = mint_hs("{\"sub\":\"alice\",\"tenant\":\"evil\",\"exp\":1800000060}");
    /* header.payload of t2 with the signature of t */
    char forged[4096];
    const char *sig = strrchr(t, '.');
    size_t head = (size_t)(strrchr(t2, '.') - t2);
    snprintf(forged, sizeof forged, "%.*s%s", (int)head, t2, sig);
    sec_principal p;
    assert_int_equal(verify(v, forged, &p), SEC_JWT_BAD_SIGNATURE);
    free(t);
    free(t2);
    sec_jwt_free(v);
}

/* base64url (no padding) of b[0..n) into out (4n/3 + 4 bytes). */
static void b64url(const unsigned char *b, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, b, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = 0;
    for (char *c = out; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
}

/* An HS256 token over the raw payload bytes, correctly signed with SECRET. */
static char *sign_raw(const char *payload, size_t n)
{
    static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *t = malloc(4096), sig64[128];
    char h64[128], p64[1024];
    b64url((const unsigned char *)hdr, sizeof hdr - 1, h64);
    b64url((const unsigned char *)payload, n, p64);
    snprintf(t, 4096, "%s.%s", h64, p64);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)t, strlen(t), mac, &maclen);
    b64url(mac, maclen, sig64);
    strcat(t, ".");
    strcat(t, sig64);
    return t;
}

/* A valid signature over a payload that is not a JSON object (or holds a
 * NUL) is a malformed token, not a bad signature (issue 11). */
static void test_sec_jwt_signed_non_json_payload_is_malformed(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    static const char ok[] = "{\"sub\":\"alice\",\"exp\":1800000060}";
    static const char nul_escape[] = "{\"sub\":\"al\\u0000ice\",\"exp\":1800000060}";
    static const char nul_raw[] = "{\"sub\":\"al\0ice\",\"exp\":1800000060}";
    struct { const char *p; size_t n; sec_jwt_result want; } cases[] = {
        {ok, sizeof ok - 1, SEC_JWT_OK},
        {"not json", 8, SEC_JWT_MALFORMED},
        {"[1,2]", 5, SEC_JWT_MALFORMED},
        {"", 0, SEC_JWT_MALFORMED},
        {nul_escape, sizeof nul_escape - 1, SEC_JWT_MALFORMED},
        {nul_raw, sizeof nul_raw - 1, SEC_JWT_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = sign_raw(cases[i].p, cases[i].n);
        sec_principal p;
        char err[200] = "";
        sec_jwt_result r = sec_jwt_verify(v, t, strlen(t), NOW, &p, err, sizeof err);
        if (r != cases[i].want)
            print_error("case %zu: %s (%s)\n", i, sec_jwt_result_str(r), err);
        assert_int_equal(r, cases[i].want);
        free(t);
    }
    sec_jwt_free(v);
}

static void test_sec_jwt_alg_none_is_refused(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char *t = mint(NULL, NULL, 0, "{\"sub\":\"root\",\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, t, &p), SEC_JWT_BAD_ALG);
    /* the same with a bogus signature appended */
    char buf[1024];
    snprintf(buf, sizeof buf, "%sAAAA", t);
    assert_int_not_equal(verify(v, buf, &p), SEC_JWT_OK);
    free(t);
    sec_jwt_free(v);
}

/* The classic confusion: an HS256 token whose HMAC key is the server's RSA
 * public key. libjwt alone would accept it if handed the public key. */
static void test_sec_jwt_public_key_never_used_as_hmac_secret(void **state)
{
    (void)state;
    char err[200];
    sec_jwt *v = sec_jwt_new(NULL, err, sizeof err);
    assert_int_equal(sec_jwt_add_key(v, "RS256", (unsigned char *)K.rsa_pub, strlen(K.rsa_pub),
                                     err, sizeof err),
                     0);
    char *t = mint("HS256", K.rsa_pub, strlen(K.rsa_pub), "{\"sub\":\"m\",\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, t, &p), SEC_JWT_BAD_ALG);
    /* with an HS256 secret configured as well, the token is checked against
     * that secret, not the public key */
    assert_int_equal(sec_jwt_add_key(v, "HS256", (const unsigned char *)SECRET, strlen(SECRET), err,
                                     sizeof err),
                     0);
    assert_int_equal(verify(v, t, &p), SEC_JWT_BAD_SIGNATURE);
    free(t);
    sec_jwt_free(v);
}

static void test_sec_jwt_rs256_and_es256_verify(void **state)
{
    (void)state;
    char err[200];
    sec_jwt *v = sec_jwt_new(NULL, err, sizeof err);
    assert_int_equal(sec_jwt_add_key(v, "RS256", (unsigned char *)K.rsa_pub, strlen(K.rsa_pub),
                                     err, sizeof err),
                     0);
    assert_int_equal(sec_jwt_add_key(v, "ES256", (unsigned char *)K.ec_pub, strlen(K.ec_pub), err,
                                     sizeof err),
                     0);
    char *rs = mint("RS256", K.rsa_priv, strlen(K.rsa_priv), "{\"sub\":\"r\",\"exp\":1800000060}");
    char *es = mint("ES256", K.ec_priv, strlen(K.ec_priv), "{\"sub\":\"e\",\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, rs, &p), SEC_JWT_OK);
    assert_string_equal(p.sub, "r");
    assert_int_equal(verify(v, es, &p), SEC_JWT_OK);
    assert_string_equal(p.sub, "e");
    /* an RS256 token signed by some other key */
    EVP_PKEY *other = EVP_RSA_gen(2048);
    char *other_priv = pem_of(other, 1);
    char *rs2 = mint("RS256", other_priv, strlen(other_priv), "{\"sub\":\"r\",\"exp\":1800000060}");
    assert_int_equal(verify(v, rs2, &p), SEC_JWT_BAD_SIGNATURE);
    EVP_PKEY_free(other);
    free(other_priv);
    free(rs);
    free(es);
    free(rs2);
    sec_jwt_free(v);
}

static void test_sec_jwt_expiry_on_injected_clock(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char err[200];
    sec_principal p;
    char *t = mint_hs("{\"sub\":\"a\",\"exp\":1800000000}");
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW - 1, &p, err, sizeof err), SEC_JWT_OK);
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW, &p, err, sizeof err), SEC_JWT_EXPIRED);
    assert_null(strstr(err, "eyJ"));
    sec_jwt_free(v);
    sec_jwt_opts o = { .leeway_s = 30 };
    v = hs_set(&o);
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW + 29, &p, err, sizeof err), SEC_JWT_OK);
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW + 30, &p, err, sizeof err),
                     SEC_JWT_EXPIRED);
    free(t);
    /* a NumericDate may be fractional */
    t = mint_hs("{\"sub\":\"a\",\"exp\":1800000000.5}");
    sec_jwt_free(v);
    v = hs_set(NULL);
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW - 1, &p, err, sizeof err), SEC_JWT_OK);
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW, &p, err, sizeof err), SEC_JWT_EXPIRED);
    free(t);
    sec_jwt_free(v);
}

static void test_sec_jwt_not_before(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char err[200];
    sec_principal p;
    char *t = mint_hs("{\"sub\":\"a\",\"nbf\":1800000100,\"exp\":1800000200}");
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW, &p, err, sizeof err),
                     SEC_JWT_NOT_YET_VALID);
    assert_int_equal(sec_jwt_verify(v, t, strlen(t), NOW + 100, &p, err, sizeof err), SEC_JWT_OK);
    free(t);
    sec_jwt_free(v);
}

static void test_sec_jwt_missing_exp_refused_unless_allowed(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    sec_principal p;
    char *t = mint_hs("{\"sub\":\"a\"}");
    assert_int_equal(verify(v, t, &p), SEC_JWT_BAD_CLAIMS);
    sec_jwt_free(v);
    sec_jwt_opts o = { .allow_no_exp = 1 };
    v = hs_set(&o);
    assert_int_equal(verify(v, t, &p), SEC_JWT_OK);
    assert_int_equal(p.exp_s, 0);
    free(t);
    char *s = mint_hs("{\"sub\":\"a\",\"exp\":\"tomorrow\"}");
    assert_int_equal(verify(v, s, &p), SEC_JWT_BAD_CLAIMS);
    free(s);
    sec_jwt_free(v);
}

static void test_sec_jwt_bad_claims(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    static const char *bad[] = {
        "{\"exp\":1800000060}",                                   /* no sub */
        "{\"sub\":\"\",\"exp\":1800000060}",                      /* empty sub */
        "{\"sub\":42,\"exp\":1800000060}",                        /* sub not a string */
        "{\"sub\":\"a\\nb\",\"exp\":1800000060}",                 /* control char */
        "{\"sub\":\"a\",\"tenant\":\"ac.me\",\"exp\":1800000060}", /* tenant spans segments */
        "{\"sub\":\"a\",\"tenant\":\"*\",\"exp\":1800000060}",    /* wildcard tenant */
        "{\"sub\":\"a\",\"tenant\":7,\"exp\":1800000060}",
        "{\"sub\":\"a\",\"roles\":[\"r\",3],\"exp\":1800000060}",
        "{\"sub\":\"a\",\"roles\":{\"r\":1},\"exp\":1800000060}",
        ("{\"sub\":\"a\",\"roles\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"],"
         "\"exp\":1800000060}"),
        "{\"sub\":\"a\",\"roles\":[\"has space\"],\"exp\":1800000060}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *t = mint_hs(bad[i]);
        sec_principal p;
        sec_jwt_result r = verify(v, t, &p);
        if (r != SEC_JWT_BAD_CLAIMS)
            fail_msg("claims %s gave %s", bad[i], sec_jwt_result_str(r));
        assert_int_equal(p.authenticated, 0);
        free(t);
    }
    sec_jwt_free(v);
}

static void test_sec_jwt_issuer_and_audience(void **state)
{
    (void)state;
    sec_jwt_opts o = { .issuer = "https://idp", .audience = "rtchaos" };
    sec_jwt *v = hs_set(&o);
    sec_principal p;
    char *ok1 = mint_hs("{\"sub\":\"a\",\"iss\":\"https://idp\",\"aud\":\"rtchaos\",\"exp\":1800000060}");
    char *ok2 = mint_hs("{\"sub\":\"a\",\"iss\":\"https://idp\",\"aud\":[\"x\",\"rtchaos\"],"
                        "\"exp\":1800000060}");
    char *bad1 = mint_hs("{\"sub\":\"a\",\"iss\":\"https://evil\",\"aud\":\"rtchaos\",\"exp\":1800000060}");
    char *bad2 = mint_hs("{\"sub\":\"a\",\"iss\":\"https://idp\",\"exp\":1800000060}");
    assert_int_equal(verify(v, ok1, &p), SEC_JWT_OK);
    assert_int_equal(verify(v, ok2, &p), SEC_JWT_OK);
    assert_int_equal(verify(v, bad1, &p), SEC_JWT_BAD_CLAIMS);
    assert_int_equal(verify(v, bad2, &p), SEC_JWT_BAD_CLAIMS);
    free(ok1);
    free(ok2);
    free(bad1);
    free(bad2);
    sec_jwt_free(v);
}

static void test_sec_jwt_malformed_tokens(void **state)
{
    (void)state;
    sec_jwt *v = hs_set(NULL);
    char err[200];
    sec_principal p;
    static const char *bad[] = { "garbage", "a.b", "a.b.c.d", "eyJ.eyJ.x y", "....", "a.b.c",
                                 "eyJhbGciOiJIUzI1NiJ9.%%%.abc", "e30.e30.", "W10.W10.abc" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sec_jwt_result r = sec_jwt_verify(v, bad[i], strlen(bad[i]), NOW, &p, err, sizeof err);
        if (r != SEC_JWT_MALFORMED && r != SEC_JWT_BAD_ALG)
            fail_msg("token %s gave %s", bad[i], sec_jwt_result_str(r));
    }
    assert_int_equal(sec_jwt_verify(v, "", 0, NOW, &p, err, sizeof err), SEC_JWT_MISSING);
    assert_int_equal(sec_jwt_verify(v, NULL, 0, NOW, &p, err, sizeof err), SEC_JWT_MISSING);
    char *big = malloc(SEC_JWT_TOKEN_MAX + 2);
    memset(big, 'A', SEC_JWT_TOKEN_MAX + 1);
    big[10] = '.';
    big[20] = '.';
    big[SEC_JWT_TOKEN_MAX + 1] = 0;
    assert_int_equal(sec_jwt_verify(v, big, strlen(big), NOW, &p, err, sizeof err),
                     SEC_JWT_MALFORMED);
    free(big);
    /* an embedded NUL is not part of the base64url alphabet */
    char *t = mint_hs("{\"sub\":\"a\",\"exp\":1800000060}");
    size_t n = strlen(t);
    t[n / 2] = 0;
    assert_int_equal(sec_jwt_verify(v, t, n, NOW, &p, err, sizeof err), SEC_JWT_MALFORMED);
    free(t);
    sec_jwt_free(v);
}

static void test_sec_jwt_key_checks(void **state)
{
    (void)state;
    char err[200];
    sec_jwt *v = sec_jwt_new(NULL, err, sizeof err);
    assert_int_equal(sec_jwt_add_key(v, "HS256", (const unsigned char *)"short", 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "at least"));
    assert_int_equal(sec_jwt_add_key(v, "none", (const unsigned char *)SECRET, strlen(SECRET), err,
                                     sizeof err),
                     -1);
    assert_int_equal(sec_jwt_add_key(v, "RS256", (unsigned char *)"not a pem", 9, err, sizeof err), -1);
    assert_int_equal(sec_jwt_add_key(v, "RS256", (unsigned char *)K.ec_pub, strlen(K.ec_pub), err,
                                     sizeof err),
                     -1);
    assert_int_equal(sec_jwt_add_key(v, "ES256", (unsigned char *)K.ec384_pub, strlen(K.ec384_pub),
                                     err, sizeof err),
                     -1);
    assert_int_equal(sec_jwt_nkeys(v), 0);
    assert_int_equal(sec_jwt_add_key(v, "ES384", (unsigned char *)K.ec384_pub, strlen(K.ec384_pub),
                                     err, sizeof err),
                     0);
    assert_int_equal(sec_jwt_add_key(v, "ES384", (unsigned char *)K.ec384_pub, strlen(K.ec384_pub),
                                     err, sizeof err),
                     -1);
    assert_int_equal(sec_jwt_nkeys(v), 1);
    sec_jwt_free(v);
}

static void test_sec_jwt_key_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_sec_jwt.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char secret_path[128], pub_path[128], missing[128];
    snprintf(secret_path, sizeof secret_path, "%s/secret", dir);
    snprintf(pub_path, sizeof pub_path, "%s/ec.pub", dir);
    snprintf(missing, sizeof missing, "%s/none", dir);
    FILE *f = fopen(secret_path, "w");
    fprintf(f, "%s\r\n", SECRET);
    fclose(f);
    f = fopen(pub_path, "w");
    fputs(K.ec_pub, f);
    fclose(f);
    char err[300];
    sec_jwt *v = sec_jwt_new(NULL, err, sizeof err);
    assert_int_equal(sec_jwt_add_secret_file(v, secret_path, err, sizeof err), 0);
    assert_int_equal(sec_jwt_add_public_key_file(v, pub_path, NULL, err, sizeof err), 0);
    assert_int_equal(sec_jwt_add_public_key_file(v, missing, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, missing));
    assert_int_equal(sec_jwt_add_public_key_file(v, secret_path, NULL, err, sizeof err), -1);
    /* the newline is not part of the secret: a token signed with the bare
     * secret verifies; ES256 was inferred from the key */
    char *t = mint_hs("{\"sub\":\"a\",\"exp\":1800000060}");
    char *e = mint("ES256", K.ec_priv, strlen(K.ec_priv), "{\"sub\":\"e\",\"exp\":1800000060}");
    sec_principal p;
    assert_int_equal(verify(v, t, &p), SEC_JWT_OK);
    assert_int_equal(verify(v, e, &p), SEC_JWT_OK);
    free(t);
    free(e);
    sec_jwt_free(v);
    unlink(secret_path);
    unlink(pub_path);
    rmdir(dir);
}

static void test_sec_jwt_bearer_header(void **state)
{
    (void)state;
    const char *tok;
    size_t n;
    const char *h = "Bearer abc.def.ghi";
    assert_int_equal(sec_jwt_bearer(h, strlen(h), &tok, &n), 0);
    assert_int_equal(n, 11);
    assert_memory_equal(tok, "abc.def.ghi", 11);
    h = "  bEaReR \t x.y.z  ";
    assert_int_equal(sec_jwt_bearer(h, strlen(h), &tok, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(sec_jwt_bearer("Basic dXNlcjpw", 14, &tok, &n), -1);
    assert_int_equal(sec_jwt_bearer("Bearer", 6, &tok, &n), -1);
    assert_int_equal(sec_jwt_bearer("Bearer   ", 9, &tok, &n), -1);
    assert_int_equal(sec_jwt_bearer("Bearerx.y.z", 11, &tok, &n), -1);
    assert_int_equal(sec_jwt_bearer("", 0, &tok, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_jwt_hs256_claims_become_principal),
        cmocka_unit_test(test_sec_jwt_roles_as_space_separated_string),
        cmocka_unit_test(test_sec_jwt_jti_and_key_id),
        cmocka_unit_test(test_sec_jwt_wrong_secret_is_bad_signature),
        cmocka_unit_test(test_sec_jwt_tampered_payload_is_bad_signature),
        cmocka_unit_test(test_sec_jwt_alg_none_is_refused),
        cmocka_unit_test(test_sec_jwt_signed_non_json_payload_is_malformed),
        cmocka_unit_test(test_sec_jwt_public_key_never_used_as_hmac_secret),
        cmocka_unit_test(test_sec_jwt_rs256_and_es256_verify),
        cmocka_unit_test(test_sec_jwt_expiry_on_injected_clock),
        cmocka_unit_test(test_sec_jwt_not_before),
        cmocka_unit_test(test_sec_jwt_missing_exp_refused_unless_allowed),
        cmocka_unit_test(test_sec_jwt_bad_claims),
        cmocka_unit_test(test_sec_jwt_issuer_and_audience),
        cmocka_unit_test(test_sec_jwt_malformed_tokens),
        cmocka_unit_test(test_sec_jwt_key_checks),
        cmocka_unit_test(test_sec_jwt_key_files),
        cmocka_unit_test(test_sec_jwt_bearer_header),
    };
    return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
