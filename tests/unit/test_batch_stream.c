/*
 * Unit tests: reading a batch file in chunks (protocol/batch_stream.c).
 * The stream must accept exactly what cc_batch_parse accepts, hand out the
 * same records, and compute the same digest D.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "protocol/batch.h"
#include "protocol/batch_stream.h"
#include "protocol/buf.h"
#include "protocol/error.h"
#include "protocol/file.h"
#include "protocol/group.h"
#include "protocol/seal.h"
#include "protocol/sign.h"
#include "testpki.h"

struct world {
	struct testpki_ca *ca;
	struct cc_trust *trust;
	struct cc_signer *signer;
	char dir[32];
	char path[64];
};

static struct world *w;

static int
setup(void **state)
{
	struct cc_diag d = { { 0 } };
	char *ca_pem, *cert, *key;

	(void)state;
	if (sodium_init() < 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	if ((w->ca = testpki_ca_new("stream test", TESTPKI_ED25519)) == NULL ||
	    (ca_pem = testpki_ca_pem(w->ca)) == NULL ||
	    cc_trust_from_pem(&w->trust, ca_pem, strlen(ca_pem), &d) != 0)
		return -1;
	free(ca_pem);
	if (testpki_issue(w->ca, "school", TESTPKI_ED25519, 0, &cert, &key) != 0 ||
	    cc_signer_from_pem(&w->signer, cert, strlen(cert), key, strlen(key),
	    &d) != 0)
		return -1;
	free(cert);
	free(key);
	snprintf(w->dir, sizeof(w->dir), "/tmp/cc-test-stream-XXXXXX");
	if (mkdtemp(w->dir) == NULL)
		return -1;
	snprintf(w->path, sizeof(w->path), "%s/batch", w->dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(w->path);
	rmdir(w->dir);
	cc_signer_free(w->signer);
	cc_trust_free(w->trust);
	testpki_ca_free(w->ca);
	free(w);
	return 0;
}

/* A signed origin batch of n real records (age band and sex shape). */
static struct cc_batch *
make_batch(size_t n)
{
	struct cc_diag d = { { 0 } };
	struct cc_attr_shape shape = { .age_bands = 3, .sex = true };
	struct cc_seal_key *y;
	struct cc_batch *b = NULL;
	struct cc_attr *attrs;
	uint8_t *points, s[32], r[32], y_pub[32], qid[16];
	size_t i;

	points = malloc(n * 32);
	attrs = calloc(n, sizeof(*attrs));
	assert_non_null(points);
	assert_non_null(attrs);
	for (i = 0; i < n; i++) {
		crypto_core_ristretto255_random(points + i * 32);
		attrs[i].age_band = (uint8_t)(i % 3);
		attrs[i].sex = i % 2 ? CC_ATTR_SEX_FEMALE : CC_ATTR_SEX_MALE;
	}
	cc_group_scalar_random(s);
	cc_group_scalar_random(r);
	randombytes_buf(qid, sizeof(qid));
	assert_int_equal(cc_seal_key_generate(&y), 0);
	cc_seal_key_public(y, y_pub);
	assert_int_equal(cc_batch_new_origin(&b, qid, 1, 3, &shape, points,
	    attrs, n, s, r, y_pub, &d), 0);
	assert_int_equal(cc_sign_batch(b, w->signer, &d), 0);
	cc_seal_key_free(y);
	free(points);
	free(attrs);
	return b;
}

static void
write_bytes(const uint8_t *data, size_t len)
{
	FILE *f = fopen(w->path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Stream the file to its end: 0, or the first error. */
static int
stream_all(uint32_t max_count, bool check_elements, struct cc_diag *d)
{
	struct cc_batch_stream *s = NULL;
	const uint8_t *recs, *cert, *sig;
	size_t n, first, cert_len, sig_len;
	uint8_t dg[32];
	int r;

	if ((r = cc_batch_stream_open(&s, w->path, max_count, check_elements,
	    d)) != 0)
		return r;
	do {
		if ((r = cc_batch_stream_next(s, &recs, &n, &first, d)) != 0)
			goto out;
	} while (n > 0);
	r = cc_batch_stream_end(s, dg, &cert, &cert_len, &sig, &sig_len);
out:
	cc_batch_stream_free(s);
	return r;
}

static void
same_records_digest_and_trailer(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = make_batch(20000);   /* padded 20480: 3 chunks */
	struct cc_batch_stream *s = NULL;
	const struct cc_batch_header *h;
	const uint8_t *wire, *recs, *cert, *sig, *bcert, *bsig;
	size_t len, n, first, seen = 0, cert_len, sig_len, bcert_len, bsig_len;
	uint8_t dg[32], want[32];

	(void)state;
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	write_bytes(wire, len);
	assert_int_equal(cc_batch_stream_open(&s, w->path, 1u << 20, true, &d),
	    0);
	h = cc_batch_stream_header(s);
	assert_memory_equal(h->query_id, cc_batch_query_id(b), 16);
	assert_int_equal(h->chain, 1);
	assert_int_equal(h->hop, 0);
	assert_int_equal(h->nodes, 3);
	assert_int_equal(h->count, 20480);
	assert_int_equal(h->nrefs, cc_batch_nrefs(b));
	assert_memory_equal(cc_batch_stream_refs(s), cc_batch_refs(b),
	    (size_t)h->nrefs * CC_BATCH_REF_BYTES);
	/* The end is refused until every record was read. */
	assert_int_equal(cc_batch_stream_end(s, dg, &cert, &cert_len, &sig,
	    &sig_len), CC_ERR_STATE);
	for (;;) {
		assert_int_equal(cc_batch_stream_next(s, &recs, &n, &first, &d),
		    0);
		assert_int_equal(first, seen);
		if (n == 0)
			break;
		assert_true(n <= CC_BATCH_STREAM_RECORDS);
		assert_memory_equal(recs, cc_batch_records(b) +
		    seen * CC_BATCH_RECORD_BYTES, n * CC_BATCH_RECORD_BYTES);
		seen += n;
	}
	assert_int_equal(seen, 20480);
	assert_int_equal(cc_batch_stream_end(s, dg, &cert, &cert_len, &sig,
	    &sig_len), 0);
	cc_batch_digest(b, want);
	assert_memory_equal(dg, want, 32);
	assert_int_equal(cc_batch_trailer(b, &bcert, &bcert_len, &bsig,
	    &bsig_len), 0);
	assert_int_equal(cert_len, bcert_len);
	assert_memory_equal(cert, bcert, cert_len);
	assert_int_equal(sig_len, bsig_len);
	assert_memory_equal(sig, bsig, sig_len);
	/* The signature check a receiver makes (SPEC 8.6 items 2-3). */
	assert_int_equal(cc_sign_verify_digest(w->trust, cert, cert_len, sig,
	    sig_len, dg, "school", &d), 0);
	/* The digest is spent: a second end is refused. */
	assert_int_equal(cc_batch_stream_end(s, dg, &cert, &cert_len, &sig,
	    &sig_len), CC_ERR_STATE);
	cc_batch_stream_free(s);
	cc_batch_free(b);
}

/* Every truncation and a few extensions: refused as the parser does. */
static void
accepts_exactly_what_the_parser_accepts(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = make_batch(10), *p = NULL;
	const uint8_t *wire;
	uint8_t *longer;
	size_t len, cut;
	int rp, rs;

	(void)state;
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	for (cut = 0; cut <= len; cut++) {
		write_bytes(wire, cut);
		rp = cc_batch_parse(&p, wire, cut, 64, &d);
		cc_batch_free(p);
		p = NULL;
		rs = stream_all(64, true, &d);
		assert_int_equal(rs != 0, rp != 0);
		assert_int_equal(rs == 0, cut == len);
	}
	/* Bytes after the trailer: a few, and more than any trailer. */
	longer = calloc(1, len + CC_BATCH_TRAILER_MAX + 1);
	assert_non_null(longer);
	memcpy(longer, wire, len);
	write_bytes(longer, len + 1);
	assert_int_equal(stream_all(64, true, &d), CC_ERR_TRAILING_DATA);
	write_bytes(longer, len + CC_BATCH_TRAILER_MAX + 1);
	assert_int_equal(stream_all(64, true, &d), CC_ERR_TRAILING_DATA);
	assert_non_null(strstr(d.text, "after the batch"));
	free(longer);
	/* The receiver's count limit. */
	write_bytes(wire, len);
	assert_int_equal(stream_all(63, true, &d), CC_ERR_LIMIT);
	assert_int_equal(stream_all(64, true, &d), 0);
	cc_batch_free(b);
}

static void
bad_element_is_named(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = make_batch(9000);    /* padded 9216: 2 chunks */
	const uint8_t *wire;
	uint8_t *copy;
	size_t len, rec0, bad = 8200;

	(void)state;
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, wire, len);
	rec0 = CC_BATCH_HEADER_BYTES + (size_t)cc_batch_nrefs(b) *
	    CC_BATCH_REF_BYTES;
	memset(copy + rec0 + bad * CC_BATCH_RECORD_BYTES + CC_BATCH_A_OFFSET,
	    0xff, 32);
	write_bytes(copy, len);
	assert_int_equal(stream_all(1u << 20, true, &d), CC_ERR_POINT);
	assert_string_equal(d.text, "record 8200: invalid element");
	/* Without element checks the structure alone passes. */
	assert_int_equal(stream_all(1u << 20, false, &d), 0);
	/* A bad reference element is found at open, whatever the flag. */
	memcpy(copy, wire, len);
	memset(copy + CC_BATCH_HEADER_BYTES + 4, 0, 32);
	write_bytes(copy, len);
	assert_int_equal(stream_all(1u << 20, false, &d), CC_ERR_POINT);
	free(copy);
	cc_batch_free(b);
}

static void
file_that_changes_or_is_not_a_file(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = make_batch(9000);
	struct cc_batch_stream *s = NULL;
	const uint8_t *wire, *recs, *cert, *sig;
	size_t len, n, first, cert_len, sig_len;
	uint8_t dg[32];
	char link[80];
	FILE *f;

	(void)state;
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	/* Shortened after open: the next read fails. */
	write_bytes(wire, len);
	assert_int_equal(cc_batch_stream_open(&s, w->path, 1u << 20, true, &d),
	    0);
	assert_int_equal(truncate(w->path, (off_t)(len - 5000)), 0);
	assert_int_equal(cc_batch_stream_next(s, &recs, &n, &first, &d), 0);
	assert_int_equal(cc_batch_stream_next(s, &recs, &n, &first, &d),
	    CC_ERR_IO);
	assert_int_equal(cc_batch_stream_next(s, &recs, &n, &first, &d),
	    CC_ERR_STATE);
	cc_batch_stream_free(s);
	s = NULL;
	/* Grown after open: the end notices. */
	write_bytes(wire, len);
	assert_int_equal(cc_batch_stream_open(&s, w->path, 1u << 20, true, &d),
	    0);
	f = fopen(w->path, "ab");
	assert_non_null(f);
	fputc(0, f);
	fclose(f);
	do
		assert_int_equal(cc_batch_stream_next(s, &recs, &n, &first, &d),
		    0);
	while (n > 0);
	assert_int_equal(cc_batch_stream_end(s, dg, &cert, &cert_len, &sig,
	    &sig_len), CC_ERR_IO);
	cc_batch_stream_free(s);
	s = NULL;
	/* Missing, a directory, a symbolic link: CC_ERR_IO. */
	write_bytes(wire, len);
	snprintf(link, sizeof(link), "%s/link", w->dir);
	assert_int_equal(symlink(w->path, link), 0);
	assert_int_equal(cc_batch_stream_open(&s, link, 1u << 20, true, &d),
	    CC_ERR_IO);
	unlink(link);
	assert_int_equal(cc_batch_stream_open(&s, w->dir, 1u << 20, true, &d),
	    CC_ERR_IO);
	assert_int_equal(cc_batch_stream_open(&s, link, 1u << 20, true, &d),
	    CC_ERR_IO);
	assert_null(s);
	assert_int_equal(cc_batch_stream_open(NULL, w->path, 1, true, &d),
	    CC_ERR_INVALID_ARGUMENT);
	cc_batch_stream_free(NULL);
	cc_batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_records_digest_and_trailer),
		cmocka_unit_test(accepts_exactly_what_the_parser_accepts),
		cmocka_unit_test(bad_element_is_named),
		cmocka_unit_test(file_that_changes_or_is_not_a_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
