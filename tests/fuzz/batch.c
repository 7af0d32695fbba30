/*
 * Fuzz target "batch": the v1 batch parser (protocol/batch.c, SPEC 8.1)
 * over arbitrary bytes. An accepted input must serialize back to exactly
 * the same bytes; its trailer's certificate goes through the CN reader and
 * its references through the shape check, which must never crash.
 * The same bytes as a file go through the chunked reader
 * (protocol/batch_stream.c), which must accept exactly what the parser
 * accepts, with the same records and the same digest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "protocol/batch.h"
#include "protocol/batch_stream.h"
#include "protocol/error.h"
#include "protocol/seal.h"
#include "protocol/sign.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file the chunked reader reads: rewritten for every input. */
static char stream_path[64];

static void
remove_stream_file(void)
{
	unlink(stream_path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	snprintf(stream_path, sizeof(stream_path), "/tmp/cc-fuzz-batch-XXXXXX");
	if ((fd = mkstemp(stream_path)) < 0)
		abort();
	close(fd);
	atexit(remove_stream_file);
	return 0;
}

/*
 * The chunked reader over the same bytes: 0 with every record compared to
 * want_records (when not NULL) and D in ret_d, or its error.
 */
static int
stream_check(const uint8_t *data, size_t size, const uint8_t *want_records,
    uint8_t ret_d[32])
{
	struct cc_batch_stream *s = NULL;
	struct cc_diag d;
	const uint8_t *recs, *cert, *sig;
	size_t n, first, cert_len, sig_len;
	FILE *f;
	int r;

	if ((f = fopen(stream_path, "wb")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if ((r = cc_batch_stream_open(&s, stream_path, 4096, true, &d)) != 0)
		return r;
	for (;;) {
		if ((r = cc_batch_stream_next(s, &recs, &n, &first, &d)) != 0)
			goto out;
		if (n == 0)
			break;
		if (want_records != NULL && memcmp(recs, want_records +
		    first * CC_BATCH_RECORD_BYTES,
		    n * CC_BATCH_RECORD_BYTES) != 0)
			abort();
	}
	r = cc_batch_stream_end(s, ret_d, &cert, &cert_len, &sig, &sig_len);
out:
	cc_batch_stream_free(s);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_batch *b = NULL;
	struct cc_diag d;
	struct cc_attr_shape shape;
	const uint8_t *out, *cert, *sig;
	size_t out_len, cert_len, sig_len;
	uint8_t digest[32], streamed[32];
	char cn[CC_LIMIT_NODE_ID + 1];

	/* A small cap keeps each run fast; the limit logic is the same. */
	if (cc_batch_parse(&b, data, size, 4096, &d) != 0) {
		if (stream_check(data, size, NULL, streamed) == 0)
			abort();
		return 0;
	}
	if (cc_batch_serialize(b, &out, &out_len) != 0 || out_len != size ||
	    memcmp(out, data, size) != 0)
		abort();
	if (cc_batch_count(b) < 64 || cc_batch_hop(b) >= cc_batch_nodes(b) ||
	    cc_batch_chain(b) >= cc_batch_nodes(b))
		abort();
	cc_batch_digest(b, digest);
	if (stream_check(data, size, cc_batch_records(b), streamed) != 0 ||
	    memcmp(streamed, digest, sizeof(digest)) != 0)
		abort();
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
