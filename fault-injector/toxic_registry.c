/* toxic_registry.c — maps toxic type names to their implementations: adding
 * a fault is one toxic_<name>.c file and one line in common/toxic_names.h.
 * The per-action names (ws_drop, sse_cut, …) are built here from the table
 * TOXIC_ALIASES: a copy of their type with another name and a preset action. */
#include "toxic.h"
#include "toxic_names.h"

#include <string.h>

#define TOXIC_DECLARE(n) extern const toxic_type toxic_##n##_type;
TOXIC_TYPES(TOXIC_DECLARE)

#define TOXIC_ENTRY(n) &toxic_##n##_type,
static const toxic_type *const TYPES[] = {TOXIC_TYPES(TOXIC_ENTRY)};
#define NTYPES (sizeof TYPES / sizeof *TYPES)

typedef struct alias {
    const char *name;
    const toxic_type *type;
    const char *action;
} alias;
#define ALIAS_ENTRY(X, n, ty, act) {#n, &toxic_##ty##_type, #act},
static const alias ALIASES[] = {TOXIC_ALIASES(ALIAS_ENTRY, _)};
#define NALIASES (sizeof ALIASES / sizeof *ALIASES)

/* Built once, on first use (the proxy and the tests are single-threaded
 * here: the registry is first used before any thread exists). */
static toxic_type alias_types[NALIASES];
static const toxic_type *all[NTYPES + NALIASES + 1];

static void build(void)
{
    if (all[0])
        return;
    for (size_t i = 0; i < NTYPES; i++)
        all[i] = TYPES[i];
    for (size_t i = 0; i < NALIASES; i++) {
        alias_types[i] = *ALIASES[i].type;
        alias_types[i].name = ALIASES[i].name;
        alias_types[i].preset_action = ALIASES[i].action;
        all[NTYPES + i] = &alias_types[i];
    }
    all[NTYPES + NALIASES] = NULL;
}

const toxic_type *toxic_registry_find(const char *name)
{
    build();
    for (int i = 0; all[i]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

const toxic_type *const *toxic_registry_all(void)
{
    build();
    return all;
}
