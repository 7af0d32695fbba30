/* crosscount-node: the persons an import has already seen (see seen.h). */
#include "node/seen.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

enum slot_state { SLOT_EMPTY = 0, SLOT_PENDING, SLOT_READY };

struct slot {
	uint8_t key[CC_SEEN_KEY_BYTES];
	uint8_t p[CC_ELEMENT_BYTES];
	uint8_t state;
};

struct cc_seen {
	uint8_t hkey[crypto_generichash_KEYBYTES];
	struct slot *slot;
	size_t cap;        /* a power of two */
	size_t used;
};

#define SEEN_MIN_SLOTS ((size_t)1 << 12)

_Static_assert(CC_SEEN_KEY_BYTES >= crypto_generichash_BYTES_MIN,
    "BLAKE2b gives at least 16 bytes");

static void
slots_free(struct slot *s, size_t cap)
{
	if (s == NULL)
		return;
	sodium_memzero(s, cap * sizeof(*s));
	free(s);
}

int
cc_seen_new(struct cc_seen **ret_seen)
{
	struct cc_seen *seen;

	*ret_seen = NULL;
	if ((seen = calloc(1, sizeof(*seen))) == NULL)
		return CC_ERR_ALLOC;
	if ((seen->slot = calloc(SEEN_MIN_SLOTS, sizeof(*seen->slot))) == NULL) {
		free(seen);
		return CC_ERR_ALLOC;
	}
	seen->cap = SEEN_MIN_SLOTS;
	randombytes_buf(seen->hkey, sizeof(seen->hkey));
	*ret_seen = seen;
	return 0;
}

void
cc_seen_free(struct cc_seen *seen)
{
	if (seen == NULL)
		return;
	slots_free(seen->slot, seen->cap);
	sodium_memzero(seen, sizeof(*seen));
	free(seen);
}

void
cc_seen_key(const struct cc_seen *seen, const char canon[CC_ID_CANONICAL_LEN],
    uint8_t ret_key[CC_SEEN_KEY_BYTES])
{
	crypto_generichash(ret_key, CC_SEEN_KEY_BYTES,
	    (const unsigned char *)canon, CC_ID_CANONICAL_LEN, seen->hkey,
	    sizeof(seen->hkey));
}

/* The slot holding key, or the empty slot where it belongs. The keys are
 * keyed hashes, so their first bytes are as good as a slot hash. */
static struct slot *
slot_find(struct slot *slots, size_t cap, const uint8_t key[CC_SEEN_KEY_BYTES])
{
	uint64_t h;
	size_t i;

	memcpy(&h, key, sizeof(h));
	/* The load stays below 3/4, so the probe ends. */
	for (i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1))
		if (slots[i].state == SLOT_EMPTY ||
		    memcmp(slots[i].key, key, CC_SEEN_KEY_BYTES) == 0)
			return &slots[i];
}

/* Twice the slots, every entry moved; the old slots wiped. */
static int
seen_grow(struct cc_seen *seen)
{
	struct slot *bigger, *to;
	size_t cap = seen->cap * 2, i;

	if ((bigger = calloc(cap, sizeof(*bigger))) == NULL)
		return CC_ERR_ALLOC;
	for (i = 0; i < seen->cap; i++) {
		if (seen->slot[i].state == SLOT_EMPTY)
			continue;
		to = slot_find(bigger, cap, seen->slot[i].key);
		*to = seen->slot[i];
	}
	slots_free(seen->slot, seen->cap);
	seen->slot = bigger;
	seen->cap = cap;
	return 0;
}

int
cc_seen_mark(struct cc_seen *seen, const uint8_t key[CC_SEEN_KEY_BYTES],
    enum cc_seen_result *ret_result)
{
	struct slot *s;
	int r;

	s = slot_find(seen->slot, seen->cap, key);
	if (s->state != SLOT_EMPTY) {
		*ret_result = CC_SEEN_AGAIN;
		return 0;
	}
	if ((seen->used + 1) > seen->cap / 4 * 3) {
		if (seen->cap >= CC_SEEN_MAX_SLOTS) {
			*ret_result = CC_SEEN_FULL;
			return 0;
		}
		if ((r = seen_grow(seen)) != 0)
			return r;
		s = slot_find(seen->slot, seen->cap, key);
	}
	memcpy(s->key, key, CC_SEEN_KEY_BYTES);
	s->state = SLOT_PENDING;
	seen->used++;
	*ret_result = CC_SEEN_NEW;
	return 0;
}

int
cc_seen_set(struct cc_seen *seen, const uint8_t key[CC_SEEN_KEY_BYTES],
    const uint8_t p[CC_ELEMENT_BYTES])
{
	struct slot *s = slot_find(seen->slot, seen->cap, key);

	if (s->state == SLOT_EMPTY)
		return CC_ERR_NOT_FOUND;
	memcpy(s->p, p, CC_ELEMENT_BYTES);
	s->state = SLOT_READY;
	return 0;
}

int
cc_seen_get(const struct cc_seen *seen, const uint8_t key[CC_SEEN_KEY_BYTES],
    uint8_t ret_p[CC_ELEMENT_BYTES])
{
	const struct slot *s = slot_find(seen->slot, seen->cap, key);

	if (s->state != SLOT_READY)
		return CC_ERR_NOT_FOUND;
	memcpy(ret_p, s->p, CC_ELEMENT_BYTES);
	return 0;
}
