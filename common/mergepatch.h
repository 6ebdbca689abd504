/* mergepatch.h — JSON Merge Patch (RFC 7386, re-issued as RFC 7396): the
 * patch that turns one JSON value into another (the server's delta
 * payloads) and applying a patch (the fleet rebuilding the full value). */
#ifndef RTCHAOS_MERGEPATCH_H
#define RTCHAOS_MERGEPATCH_H
#include <jansson.h>

/*
 * Written here on top of jansson because no library the project uses (or
 * Debian packages for C) implements Merge Patch; jansson's
 * json_object_update_recursive merges objects but cannot delete a member
 * (a null in the patch) and never computes a patch.
 *
 * Merge Patch cannot express every change: a member whose new value is
 * null (a patch null means "delete"), and arrays, which are replaced whole.
 * mergepatch_diff therefore refuses when the target holds a null member
 * anywhere it would have to be patched, and the caller sends the whole
 * value instead.
 */

/* The merge patch p such that mergepatch_apply(from, p) equals to (both
 * JSON objects). Returns a new reference (an empty object when nothing
 * changed), or NULL when from or to is not an object, a null member of to
 * would have to be written into the patch, or memory ran out: then no
 * delta can be made and the whole value is sent. Thread-safe. */
json_t *mergepatch_diff(const json_t *from, const json_t *to);

/* Applies patch to target per RFC 7396 §2 and returns the result: a new
 * reference (target is not modified; NULL target = null), or NULL when
 * memory ran out. A patch that is not an object replaces the target.
 * Thread-safe. */
json_t *mergepatch_apply(const json_t *target, const json_t *patch);

#endif
