/* flags.h — runtime feature flags per channel pattern: enabled, priority
 * (critical|normal|low), backpressure policy; plus priority shedding. */
#ifndef RTCHAOS_SERVER_FLAGS_H
#define RTCHAOS_SERVER_FLAGS_H
#include <stddef.h>

#include <jansson.h>

#include "envelope.h"
#include "sendq.h"

typedef enum flags_priority { PRIO_LOW = 0, PRIO_NORMAL, PRIO_CRITICAL } flags_priority;

#define FLAGS_MAX_RULES 256

/* A rule applies to the channels its pattern matches (fnmatch(3) glob:
 * "news.*", "*", "orders.4?"). Each field applies only when its has_ flag is
 * set; later rules override earlier ones field by field. */
typedef struct flags_rule {
    char pattern[ENV_CH_MAX + 1];
    int has_enabled, enabled;
    int has_priority;
    flags_priority priority;
    int has_policy;
    sendq_policy policy;
} flags_rule;

/* Lifetime: one per server, owned by the vhost data. Not thread-safe. */
typedef struct flags {
    flags_rule rules[FLAGS_MAX_RULES];
    size_t n;
    flags_priority shed_below;     /* channels below this priority are disabled */
    sendq_policy default_policy;
    flags_priority default_priority;
} flags;

/* What the rules say about one channel. */
typedef struct flags_eval {
    int enabled;
    flags_priority priority;
    sendq_policy policy;
} flags_eval;

void flags_init(flags *f, sendq_policy default_policy);
int flags_priority_parse(const char *s, flags_priority *out);
const char *flags_priority_name(flags_priority p);

/* Evaluates the rules for channel ch. */
void flags_evaluate(const flags *f, const char *ch, flags_eval *out);

/* Applies one change, as sent to POST /admin/flags or found in the config
 * file's "channels" list: an object {"pattern", "enabled"?, "priority"?,
 * "policy"?, "delete"?} (a rule with the same pattern is replaced), an object
 * {"shed_below":"low|normal|critical"} (disables every channel of a lower
 * priority; "low" sheds nothing), or an array of those. Validates everything
 * before changing anything. Returns 0, or -1 with a message in err. */
int flags_apply_json(flags *f, const json_t *j, char *err, size_t errlen);

/* {"shed_below":…,"default_policy":…,"rules":[…]}; new reference. */
json_t *flags_to_json(const flags *f);

#endif
