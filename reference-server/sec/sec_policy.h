/* sec_policy.h — per-channel authorization from a policy file: channel
 * patterns with placeholders bound from the token's claims, the roles that may
 * subscribe and publish, a sensitive flag; first matching rule decides, and
 * no matching rule means deny. */
#ifndef RTCHAOS_SEC_POLICY_H
#define RTCHAOS_SEC_POLICY_H
#include <stddef.h>

#include "sec_principal.h"

#define SEC_POLICY_RULES_MAX 1024 /* most rules in one file */

/* Policy file (JSON):
 *   {"rules": [
 *      {"channel": "tenant.{tenant}.orders.*",
 *       "subscribe": ["reader", "trader"], "publish": ["trader"], "sensitive": true},
 *      {"channel": "public.**", "subscribe": ["@anyone"]}],
 *    "admin": ["admin"]}
 * Pattern segments ('.'-separated): a literal; `*` = exactly one segment;
 * `**` = one or more segments (last segment only); `{tenant}` / `{sub}` = one
 * segment equal to that claim of the principal (a principal without the claim
 * never matches). Roles: names from the token's `roles`, `@authenticated` (any
 * verified token), `@anyone` (also anonymous clients). `admin` lists who may
 * use admin endpoints (default: nobody). Unknown keys are errors, so a typo
 * never silently widens or narrows access. */

typedef enum sec_action { SEC_ACT_SUBSCRIBE = 0, SEC_ACT_PUBLISH } sec_action;

typedef enum sec_policy_reason {
    SEC_POLICY_ALLOW = 0,
    SEC_POLICY_BAD_CHANNEL, /* the name fails sec_channel_check */
    SEC_POLICY_NO_RULE,     /* no rule matches: deny by default */
    SEC_POLICY_NO_ROLE,     /* the matching rule does not grant the action to these roles */
    SEC_POLICY_ANONYMOUS,   /* denied, and the client is not authenticated (→ 401/4401) */
} sec_policy_reason;

typedef struct sec_policy_decision {
    int allow;                /* 1 allowed, 0 denied */
    sec_policy_reason reason; /* SEC_POLICY_ALLOW when allowed */
    int rule;                 /* index of the deciding rule, -1 for none */
    int sensitive;            /* the deciding rule marks the channel sensitive */
} sec_policy_decision;

typedef struct sec_policy sec_policy;

/* Parses a policy from buf[0..len); name is used in messages (file name).
 * Returns a policy the caller frees with sec_policy_free, or NULL with a
 * message in err: "name:line:col: …" for JSON syntax, "name: rules[i].key: …"
 * for a value that is wrong. */
sec_policy *sec_policy_load_mem(const char *buf, size_t len, const char *name, char *err,
                                size_t errlen);

/* Reads and parses the policy file at path (at most 1 MiB). */
sec_policy *sec_policy_load_file(const char *path, char *err, size_t errlen);

void sec_policy_free(sec_policy *p);
int sec_policy_nrules(const sec_policy *p);

/* Whether any rule grants something to @anyone (then anonymous clients have
 * a reason to connect). Returns 1 or 0. */
int sec_policy_anyone(const sec_policy *p);

/* Decides whether who may perform act on channel ch[0..len). The channel name
 * is validated first (sec_channel_check). Immutable policy: thread-safe. */
void sec_policy_check(const sec_policy *p, const sec_principal *who, const char *ch, size_t len,
                      sec_action act, sec_policy_decision *out);

/* Whether who may use admin endpoints (POST /admin/...). Returns 1 or 0. */
int sec_policy_admin_allowed(const sec_policy *p, const sec_principal *who);

/* Stable snake_case name of a reason, for metrics labels and the audit log. */
const char *sec_policy_reason_str(sec_policy_reason r);

#endif
