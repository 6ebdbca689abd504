/* sec_revoke.h — the token revocation list: revoked token ids (`jti`) and
 * subjects (`sub`) read from a file, checked at every handshake and token
 * refresh, and against open connections when the server reloads it. */
#ifndef RTCHAOS_SEC_REVOKE_H
#define RTCHAOS_SEC_REVOKE_H
#include <stddef.h>

#include "sec_principal.h"

#define SEC_REVOKE_FILE_MAX    (64u << 20) /* largest list file, bytes (a million UUID jti lines fit) */
#define SEC_REVOKE_ENTRIES_MAX 1000000     /* most entries in one list */

/* File format, one entry per line:
 *   # a comment (also blank lines)
 *   jti 9b2c6f0e-1d7a-4e55-9a3e-58c1f2b0d6a4
 *   sub mallory
 * `jti <id>` revokes the token carrying that id; `sub <subject>` every token
 * of that subject (a suspended account). The value runs to the end of the
 * line (spaces and tabs around it are not part of it) and must be
 * 1..SEC_JTI_MAX / 1..SEC_SUB_MAX bytes without control characters. */

typedef enum sec_revoke_hit {
    SEC_REVOKE_NONE = 0,
    SEC_REVOKE_JTI, /* the token's jti is listed */
    SEC_REVOKE_SUB, /* the token's subject is listed */
} sec_revoke_hit;

typedef struct sec_revoke sec_revoke;

/* Parses a list from buf[0..len); name is used in messages. Returns a list
 * the caller frees with sec_revoke_free, or NULL with "name:line: why" in
 * err. An empty list (no entries) is valid. */
sec_revoke *sec_revoke_load_mem(const char *buf, size_t len, const char *name, char *err,
                                size_t errlen);

/* Reads and parses the list file at path (at most SEC_REVOKE_FILE_MAX bytes). */
sec_revoke *sec_revoke_load_file(const char *path, char *err, size_t errlen);

void sec_revoke_free(sec_revoke *r);

/* Number of distinct entries of one kind (SEC_REVOKE_JTI or SEC_REVOKE_SUB). */
size_t sec_revoke_count(const sec_revoke *r, sec_revoke_hit kind);

/* Whether who's token is revoked: by its jti first, then by its subject.
 * Anonymous principals and a NULL list are never revoked. O(log n);
 * immutable list: thread-safe. */
sec_revoke_hit sec_revoke_check(const sec_revoke *r, const sec_principal *who);

/* "jti", "sub" (or "none"), for audit details and metric labels. */
const char *sec_revoke_hit_str(sec_revoke_hit h);

#endif
