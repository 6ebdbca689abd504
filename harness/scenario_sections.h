/* scenario_sections.h — a scenario's YAML document read section by section
 * into the checked struct (see scenario_sections.c). */
#ifndef RTCHAOS_SCENARIO_SECTIONS_H
#define RTCHAOS_SCENARIO_SECTIONS_H

#include "scenario.h"
#include "ydoc.h"

/* Every field's default, before a document is read. */
void scenario_sections_defaults(scenario *s);
/* Reads y's document (root = node 1, a mapping) into s, which holds the
 * defaults; every error goes to y (y->nerr counts them). has_target: the
 * run has a --target (no server of its own). */
void scenario_sections_convert(ydoc *y, scenario *s, int has_target);

#endif
