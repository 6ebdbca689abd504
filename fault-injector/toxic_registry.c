/* toxic_registry.c — maps toxic type names to their implementations: adding
 * a fault is one toxic_<name>.c file and one line in common/toxic_names.h. */
#include "toxic.h"
#include "toxic_names.h"

#include <string.h>

#define TOXIC_DECLARE(n) extern const toxic_type toxic_##n##_type;
TOXIC_NAMES(TOXIC_DECLARE)

#define TOXIC_ENTRY(n) &toxic_##n##_type,
static const toxic_type *const REGISTRY[] = {TOXIC_NAMES(TOXIC_ENTRY) NULL};

const toxic_type *toxic_registry_find(const char *name)
{
    for (int i = 0; REGISTRY[i]; i++)
        if (strcmp(REGISTRY[i]->name, name) == 0)
            return REGISTRY[i];
    return NULL;
}

const toxic_type *const *toxic_registry_all(void)
{
    return REGISTRY;
}
