/* sec_audit.h — the security audit log: one JSON object per line saying who
 * did what, when, and the outcome; never a token. */
#ifndef RTCHAOS_SEC_AUDIT_H
#define RTCHAOS_SEC_AUDIT_H
#include <stddef.h>
#include <stdint.h>

#include "sec_principal.h"
#include "sec_ratelimit.h"

/* One record. Every field may be NULL (then omitted). Strings are copied into
 * the line, JSON-escaped, and anything shaped like a JWT in them is replaced
 * by "[redacted]". */
typedef struct sec_audit_event {
    const char *action;       /* "connect", "subscribe", "publish", "auth", "admin", … */
    const char *outcome;      /* "allow", "deny", "close" */
    const char *reason;       /* why: "expired", "no_role", "rate_limited", … */
    const sec_principal *who; /* sub, tenant, roles; NULL or unauthenticated: anonymous */
    const char *channel;
    const char *remote;    /* peer address */
    const char *transport; /* "ws", "sse", "http", "poll" */
    const char *detail;    /* free text */
} sec_audit_event;

typedef struct sec_audit sec_audit;

/* Opens path for appending (created 0600); "-" means stderr. At most
 * budget.rate_per_s lines per second are written (burst budget.burst; rate 0 =
 * no limit) so that a flood of denied attempts cannot fill the disk; lines
 * over the budget are counted, and the next line written carries
 * "suppressed":N. Returns NULL with a message in err. Free with
 * sec_audit_close. */
sec_audit *sec_audit_open(const char *path, sec_rate budget, char *err, size_t errlen);

/* Writes one line for ev at wall time wall_us (µs since the epoch) and
 * monotonic time mono_us (for the budget). Returns 0 written, 1 suppressed by
 * the budget, -1 on a write error (message in err). Thread-safe: one write(2)
 * per line under a lock. */
int sec_audit_write(sec_audit *a, int64_t wall_us, uint64_t mono_us, const sec_audit_event *ev,
                    char *err, size_t errlen);

/* Lines written and suppressed so far. */
uint64_t sec_audit_written(const sec_audit *a);
uint64_t sec_audit_suppressed(const sec_audit *a);

/* Closes the file (not stderr) and frees a. NULL is fine. */
void sec_audit_close(sec_audit *a);

/* Replaces, in place, every run that looks like a compact JWT (three
 * base64url parts, the first starting "eyJ") in the NUL-terminated s with
 * "[redacted]" (never longer than what it replaces). Returns the number of
 * replacements. */
int sec_audit_redact(char *s);

#endif
