/*
 * Fuzz target "batch": the v1 batch parser (protocol/batch.c, SPEC 8.1)
 * over arbitrary bytes. An accepted input must serialize back to exactly
 * the same bytes; its trailer's certificate goes through the CN reader and
 * its references through the shape check, which must never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/batch.h"
#include "protocol/error.h"
#include "protocol/seal.h"
#include "protocol/sign.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_batch *b = NULL;
	struct cc_diag d;
	struct cc_attr_shape shape;
	const uint8_t *out, *cert, *sig;
	size_t out_len, cert_len, sig_len;
	uint8_t digest[32];
	char cn[CC_LIMIT_NODE_ID + 1];

	/* A small cap keeps each run fast; the limit logic is the same. */
	if (cc_batch_parse(&b, data, size, 4096, &d) != 0)
		return 0;
	if (cc_batch_serialize(b, &out, &out_len) != 0 || out_len != size ||
	    memcmp(out, data, size) != 0)
		abort();
	if (cc_batch_count(b) < 64 || cc_batch_hop(b) >= cc_batch_nodes(b) ||
	    cc_batch_chain(b) >= cc_batch_nodes(b))
		abort();
	cc_batch_digest(b, digest);
	if (cc_batch_trailer(b, &cert, &cert_len, &sig, &sig_len) != 0)
		abort();
	(void)cc_sign_cert_cn(cn, cert, cert_len);
	shape.age_bands = (uint8_t)(cc_batch_nrefs(b) / 2);
	shape.sex = (cc_batch_nrefs(b) & 1) != 0;
	(void)cc_attr_refs_check(cc_batch_refs(b), cc_batch_nrefs(b), &shape,
	    &d);
	cc_batch_free(b);
	return 0;
}
