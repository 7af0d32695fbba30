/*
 * Fuzz target "attr": the attribute value decoder (protocol/seal.c,
 * SPEC 5.6) on the first 4 bytes, then opening the next 64 bytes as a
 * sealed block with a fixed aggregator key and looking the result up in
 * the reference table of the largest shape. Any other length is checked
 * as a reference table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/limits.h"
#include "protocol/seal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed key: y = HashToScalar("crosscount fuzz attr key"). */
#define FUZZ_KEY_MSG "crosscount fuzz attr key"
#define FUZZ_KEY_DST "crosscount-v1-fuzz"

static struct cc_seal_key *key;
static const struct cc_attr_shape shape = { CC_LIMIT_AGE_BANDS, true };
static uint8_t refs[CC_LIMIT_BATCH_REFS * CC_ATTR_REF_BYTES];
static size_t nrefs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t y[CC_SCALAR_BYTES];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 ||
	    cc_group_hash_to_scalar(y, (const uint8_t *)FUZZ_KEY_MSG,
	    sizeof(FUZZ_KEY_MSG) - 1, (const uint8_t *)FUZZ_KEY_DST,
	    sizeof(FUZZ_KEY_DST) - 1) != 0 ||
	    cc_seal_key_from_secret(&key, y) != 0 ||
	    cc_attr_refs_origin(refs, CC_LIMIT_BATCH_REFS, &nrefs, &shape) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_attr a, found;
	struct cc_diag d;
	uint8_t back[CC_ATTR_BYTES], m[CC_ELEMENT_BYTES];
	int r;

	if (size >= CC_ATTR_BYTES && cc_attr_decode(&a, data) == 0) {
		/* Decode and encode are inverse on every accepted value. */
		if (cc_attr_encode(back, &a) != 0 ||
		    memcmp(back, data, CC_ATTR_BYTES) != 0)
			abort();
		if (cc_attr_in_shape(&a, &shape) == 0 && a.dummy)
			abort();
	}
	if (size == CC_ATTR_BYTES + CC_SEAL_BLOCK_BYTES) {
		r = cc_seal_open(m, key, data + CC_ATTR_BYTES);
		if (r == 0 && cc_attr_refs_lookup(&found, refs, nrefs, m) == 0 &&
		    cc_attr_encode(back, &found) != 0)
			abort();
	} else if (size % CC_ATTR_REF_BYTES == 0 &&
	    size / CC_ATTR_REF_BYTES <= CC_LIMIT_BATCH_REFS) {
		(void)cc_attr_refs_check(data, size / CC_ATTR_REF_BYTES, &shape,
		    &d);
	}
	return 0;
}
