/* fuzz_policy.c — libFuzzer target for the policy file parser and for
 * decisions on client-chosen channel names. Input: policy JSON, optionally
 * followed by a NUL and a channel name; every parsed policy is asked about
 * that name (or a few fixed ones) for several principals. The invariant
 * checked: nothing of tenant "acme" is ever granted to tenant "globex" under
 * a policy whose every rule is bound to {tenant}. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sec_channel.h"
#include "sec_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sec_principal mk(const char *sub, const char *tenant, const char *role)
{
    sec_principal p;
    sec_principal_anonymous(&p);
    p.authenticated = 1;
    strcpy(p.sub, sub);
    strcpy(p.tenant, tenant);
    strcpy(p.roles[0], role);
    p.nroles = 1;
    return p;
}

/* A fixed tenant-bound policy: whatever the channel name, a globex principal
 * never gets an acme channel. */
static const char BOUND[] =
    "{\"rules\":[{\"channel\":\"tenant.{tenant}.**\",\"subscribe\":[\"@authenticated\"],"
    "\"publish\":[\"trader\"]},{\"channel\":\"tenant.{tenant}.*.{sub}\",\"subscribe\":[\"reader\"]}]}";
static sec_policy *B;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (!B && !(B = sec_policy_load_mem(BOUND, strlen(BOUND), "bound", err, sizeof err)))
        abort();
    const char *nul = memchr(data, 0, size);
    size_t pol_len = nul ? (size_t)(nul - (const char *)data) : size;
    const char *ch = nul ? nul + 1 : NULL;
    size_t ch_len = nul ? size - pol_len - 1 : 0;

    sec_principal who[3] = { mk("alice", "acme", "reader"), mk("bob", "globex", "trader"),
                             mk("admin", "", "admin") };
    sec_principal anon;
    sec_principal_anonymous(&anon);
    sec_policy_decision d;

    sec_policy *p = sec_policy_load_mem((const char *)data, pol_len, "fuzz", err, sizeof err);
    if (p) {
        static const char *fixed[] = { "tenant.acme.orders.1", "public.news", "a" };
        for (int w = 0; w < 3; w++)
            for (int a = 0; a < 2; a++) {
                for (size_t k = 0; k < 3; k++)
                    sec_policy_check(p, &who[w], fixed[k], strlen(fixed[k]), (sec_action)a, &d);
                if (ch)
                    sec_policy_check(p, &who[w], ch, ch_len, (sec_action)a, &d);
            }
        sec_policy_admin_allowed(p, &anon);
        sec_policy_free(p);
    }
    if (ch) {
        int valid = sec_channel_check(ch, ch_len, err, sizeof err) == 0;
        for (int a = 0; a < 2; a++) {
            sec_policy_check(B, &who[1], ch, ch_len, (sec_action)a, &d);
            if (d.allow && (!valid || ch_len < 14 || memcmp(ch, "tenant.globex.", 14) != 0))
                abort(); /* globex got something outside its own tenant */
            sec_policy_check(B, &anon, ch, ch_len, (sec_action)a, &d);
            if (d.allow)
                abort();
        }
    }
    return 0;
}
