/* crosscount: JSON memory that is wiped when it is freed (json_wipe.h). */
#include "protocol/json_wipe.h"

#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

/*
 * Blocks come from malloc itself, so that what Jansson hands out to be
 * released with free() (json_dumps' text) still may be; only Jansson's
 * own frees wipe, the whole usable size of the block.
 */
static void
wipe_free(void *ptr)
{
	if (ptr == NULL)
		return;
	sodium_memzero(ptr, malloc_usable_size(ptr));
	free(ptr);
}

void
cc_json_wipe_on_free(void)
{
	json_set_alloc_funcs(malloc, wipe_free);
}
