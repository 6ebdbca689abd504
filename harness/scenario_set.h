/* scenario_set.h — `--set path=value` overrides applied to a scenario's
 * YAML document (see scenario_set.c). */
#ifndef RTCHAOS_SCENARIO_SET_H
#define RTCHAOS_SCENARIO_SET_H

#include "ydoc.h"

/* Applies one override "a.b.0.c=VALUE" to y's document (root = node 1):
 * VALUE is a YAML fragment; a missing mapping key is added, a list index must
 * exist. Errors go to y as "--set EXPR: …". */
void scenario_set_apply(ydoc *y, const char *expr);

#endif
