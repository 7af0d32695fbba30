/*
 * crosscount-node: the persons an import has already seen (SPEC.md 6.4).
 *
 * An export lists a person once per episode, and every row of one person
 * gets the same pseudonym P = s·H(id). The import remembers, for each
 * person it has met, the P computed for the first of their rows, so that
 * later rows copy it instead of hashing and multiplying again.
 *
 * The table holds no identity: it is keyed by a BLAKE2b-128 of the
 * canonical identity under a key drawn per table (two identities share a
 * key with probability about 2^-128 per pair). The P values are secret
 * material: the table is wiped when it grows and when it is freed. Its
 * memory is bounded (CC_SEEN_MAX_SLOTS slots of 49 bytes); once full it
 * remembers no one new, and those persons' rows are simply computed.
 *
 * One thread only (the import's reading thread).
 */
#ifndef CC_NODE_SEEN_H
#define CC_NODE_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/identity.h"

#define CC_SEEN_KEY_BYTES 16
#define CC_SEEN_MAX_SLOTS ((size_t)1 << 20)   /* 49 MiB at the most */

struct cc_seen;

int cc_seen_new(struct cc_seen **ret_seen);
/* Wipes and frees; NULL is allowed. */
void cc_seen_free(struct cc_seen *seen);

/* The table's key of a canonical identity. */
void cc_seen_key(const struct cc_seen *seen,
    const char canon[CC_ID_CANONICAL_LEN],
    uint8_t ret_key[CC_SEEN_KEY_BYTES]);

enum cc_seen_result {
	CC_SEEN_NEW,        /* remembered now: give it its P when known */
	CC_SEEN_AGAIN,      /* met before: its P comes from cc_seen_get */
	CC_SEEN_FULL,       /* not remembered (the table is full) */
};

/*
 * Look key up, remembering it (without a P yet) if it is new and there
 * is room. CC_ERR_ALLOC on allocation failure (the table is unchanged).
 */
int cc_seen_mark(struct cc_seen *seen, const uint8_t key[CC_SEEN_KEY_BYTES],
    enum cc_seen_result *ret_result);

/* Give a remembered key its P. CC_ERR_NOT_FOUND if key is not in it. */
int cc_seen_set(struct cc_seen *seen, const uint8_t key[CC_SEEN_KEY_BYTES],
    const uint8_t p[CC_ELEMENT_BYTES]);

/* The P of a remembered key. CC_ERR_NOT_FOUND if it is not in the table
 * or has no P yet. */
int cc_seen_get(const struct cc_seen *seen,
    const uint8_t key[CC_SEEN_KEY_BYTES], uint8_t ret_p[CC_ELEMENT_BYTES]);

#endif
