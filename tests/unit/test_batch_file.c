/*
 * Unit tests: batches made straight into files (protocol/batch_file.c).
 * The origin to a file opens to exactly its persons and dummies; the
 * relay from file to file equals the in-memory relay (cc_batch_relay) in
 * everything but the order of the records; failures leave no output and
 * no temporary file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "protocol/batch.h"
#include "protocol/batch_file.h"
#include "protocol/error.h"
#include "protocol/file.h"
#include "protocol/group.h"
#include "protocol/limits.h"
#include "protocol/seal.h"
#include "protocol/sign.h"
#include "testpki.h"

#define RECORD CC_BATCH_RECORD_BYTES

struct fx {
	char dir[64];
	struct testpki_ca *ca;
	struct cc_trust *trust;
	struct cc_signer *alpha;       /* n_0 */
	struct cc_signer *beta;        /* n_1 */
	uint8_t s[32];                 /* alpha's at-rest key */
	struct cc_seal_key *agg;
	uint8_t y_pub[32];
	uint8_t qid[16];
	struct cc_attr_shape shape;    /* 3 age bands x sex: 7 values */
};

static struct fx *fx;

static int
signer_new(struct cc_signer **ret, const char *cn, enum testpki_key kind)
{
	char *cert, *key;
	int r;

	if (testpki_issue(fx->ca, cn, kind, 0, &cert, &key) != 0)
		return -1;
	r = cc_signer_from_pem(ret, cert, strlen(cert), key, strlen(key),
	    NULL);
	free(cert);
	sodium_memzero(key, strlen(key));
	free(key);
	return r;
}

static int
setup(void **state)
{
	char *ca_pem;

	(void)state;
	if (sodium_init() < 0 || (fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cc-test-batch-file-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	if ((fx->ca = testpki_ca_new("test federation", TESTPKI_P256)) == NULL ||
	    (ca_pem = testpki_ca_pem(fx->ca)) == NULL)
		return -1;
	if (cc_trust_from_pem(&fx->trust, ca_pem, strlen(ca_pem), NULL) != 0)
		return -1;
	free(ca_pem);
	if (signer_new(&fx->alpha, "alpha", TESTPKI_ED25519) != 0 ||
	    signer_new(&fx->beta, "beta", TESTPKI_P256) != 0)
		return -1;
	cc_group_scalar_random(fx->s);
	if (cc_seal_key_generate(&fx->agg) != 0)
		return -1;
	cc_seal_key_public(fx->agg, fx->y_pub);
	randombytes_buf(fx->qid, sizeof(fx->qid));
	fx->shape.age_bands = 3;
	fx->shape.sex = true;
	return 0;
}

static int
teardown(void **state)
{
	struct dirent *e;
	char path[512];
	DIR *d;

	(void)state;
	if ((d = opendir(fx->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", fx->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	cc_signer_free(fx->alpha);
	cc_signer_free(fx->beta);
	cc_trust_free(fx->trust);
	testpki_ca_free(fx->ca);
	cc_seal_key_free(fx->agg);
	sodium_memzero(fx, sizeof(*fx));
	free(fx);
	return 0;
}

static int
cmp_record(const void *a, const void *b)
{
	return memcmp(a, b, RECORD);
}

static int
cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* The index of a value in reference order (3 bands x 2 sexes, dummy). */
static size_t
value_index(const struct cc_attr *a)
{
	return a->dummy ? 6 : (size_t)a->age_band * 2 + a->sex - 1;
}

static void
path_in(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s", fx->dir, name);
}

/* The number of files in the test directory. */
static size_t
files_in_dir(void)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(fx->dir));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* n random persons with attribute i % 6; tokens gets (r*s^-1)*P sorted. */
static struct cc_batch_origin *
origin_builder(size_t n, const uint8_t r[32], uint8_t *tokens,
    size_t counts[7])
{
	struct cc_batch_origin *o = NULL;
	uint8_t p[32], s_inv[32], t[32];
	struct cc_attr a;
	size_t i;

	assert_int_equal(cc_group_scalar_invert(s_inv, fx->s), 0);
	cc_group_scalar_mul(t, r, s_inv);
	assert_int_equal(cc_batch_origin_new(&o, fx->qid, 0, 2, &fx->shape,
	    n + 10, NULL), 0);
	for (i = 0; i < n; i++) {
		cc_group_element_random(p);
		a.dummy = false;
		a.age_band = (uint8_t)(i % 3);
		a.sex = (uint8_t)(1 + i % 2);
		counts[value_index(&a)]++;
		assert_int_equal(cc_group_mult(tokens + 32 * i, t, p), 0);
		assert_int_equal(cc_batch_origin_add(o, p, &a, NULL), 0);
	}
	qsort(tokens, n, 32, cmp32);
	return o;
}

/* Read path as a whole batch, check its signature by signer_id. */
static struct cc_batch *
read_signed(const char *path, const char *signer_id)
{
	struct cc_diag d = { "" };
	struct cc_batch *b = NULL;

	if (cc_batch_read_file(&b, path, CC_LIMIT_BATCH_ELEMENTS, &d) != 0)
		fail_msg("%s: %s", path, d.text);
	if (cc_sign_batch_verify(b, fx->trust, signer_id, &d) != 0)
		fail_msg("%s: %s", path, d.text);
	return b;
}

/*
 * The origin to a file: a valid signed batch of the padded size whose
 * tokens are (r*s^-1)*P of the persons added, opening to exactly their
 * values plus dummies, the real records spread over all positions.
 */
static void
origin_to_file(void **state)
{
	const size_t n = 9000, padded = 9216;   /* two chunks */
	struct cc_diag d = { "" };
	struct cc_batch_origin *o;
	struct cc_batch *b;
	struct cc_attr *opened;
	struct cc_attr a = { false, 0, 1 };
	size_t counts[7] = { 0 }, got[7] = { 0 }, i, found = 0, front = 0;
	uint8_t r[32], dd[32], d2[32], *tokens, p[32], rec[RECORD];
	uint32_t count = 0;
	char path[128];

	(void)state;
	assert_non_null(tokens = malloc(n * 32));
	assert_non_null(opened = calloc(padded, sizeof(*opened)));
	cc_group_scalar_random(r);
	o = origin_builder(n, r, tokens, counts);
	path_in(path, sizeof(path), "origin.batch");
	if (cc_batch_file_origin(path, o, fx->s, r, fx->y_pub, fx->alpha,
	    &count, dd, &d) != 0)
		fail_msg("origin: %s", d.text);
	assert_int_equal(count, padded);
	/* Spent: nothing more can be added or made. */
	assert_int_equal(cc_batch_origin_add(o, p, &a, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_batch_origin_records(o, 0, 1, rec, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	cc_batch_origin_free(o);
	assert_int_equal(files_in_dir(), 1);

	b = read_signed(path, "alpha");
	assert_int_equal(cc_batch_count(b), padded);
	assert_int_equal(cc_batch_hop(b), 0);
	assert_int_equal(cc_batch_chain(b), 0);
	assert_int_equal(cc_batch_nodes(b), 2);
	assert_memory_equal(cc_batch_query_id(b), fx->qid, 16);
	cc_batch_digest(b, d2);
	assert_memory_equal(dd, d2, 32);
	for (i = 0; i < padded; i++) {
		if (bsearch(cc_batch_records(b) + i * RECORD, tokens, n, 32,
		    cmp32) == NULL)
			continue;
		found++;
		/* Positions, not the order added: reals are everywhere. */
		if (i < n)
			front++;
	}
	assert_int_equal(found, n);
	/* All 9000 reals in the first 9000 of 9216 places: p < 10^-200. */
	assert_true(front < n);
	assert_int_equal(cc_batch_open(b, fx->agg, &fx->shape, opened, &d), 0);
	for (i = 0; i < padded; i++)
		got[value_index(&opened[i])]++;
	for (i = 0; i < 7; i++)
		assert_int_equal(got[i], i < 6 ? counts[i] : padded - n);
	cc_batch_free(b);
	unlink(path);
	free(tokens);
	free(opened);
}

/* Nobody selected: 64 dummies (SPEC 8.5). */
static void
origin_empty(void **state)
{
	struct cc_batch_origin *o = NULL;
	struct cc_batch *b;
	struct cc_attr opened[64];
	uint8_t r[32], dd[32];
	uint32_t count = 0;
	char path[128];
	size_t i;

	(void)state;
	cc_group_scalar_random(r);
	assert_int_equal(cc_batch_origin_new(&o, fx->qid, 0, 2, &fx->shape, 0,
	    NULL), 0);
	path_in(path, sizeof(path), "empty.batch");
	assert_int_equal(cc_batch_file_origin(path, o, fx->s, r, fx->y_pub,
	    fx->alpha, &count, dd, NULL), 0);
	cc_batch_origin_free(o);
	assert_int_equal(count, 64);
	b = read_signed(path, "alpha");
	assert_int_equal(cc_batch_count(b), 64);
	assert_int_equal(cc_batch_open(b, fx->agg, &fx->shape, opened, NULL), 0);
	for (i = 0; i < 64; i++)
		assert_true(opened[i].dummy);
	cc_batch_free(b);
	unlink(path);
}

/* A failed origin leaves nothing: no batch, no temporary file. */
static void
origin_failures(void **state)
{
	struct cc_diag d = { "" };
	struct cc_batch_origin *o = NULL;
	struct cc_attr a = { false, 1, 2 };
	uint8_t r[32], dd[32], p[32], bad_y[32] = { 0 };
	uint32_t count = 7;
	char path[128];

	(void)state;
	cc_group_scalar_random(r);
	path_in(path, sizeof(path), "failed.batch");
	/* A stored element that is not one: named, nothing written. */
	assert_int_equal(cc_batch_origin_new(&o, fx->qid, 0, 2, &fx->shape, 3,
	    NULL), 0);
	cc_group_element_random(p);
	assert_int_equal(cc_batch_origin_add(o, p, &a, NULL), 0);
	memset(p, 0xff, sizeof(p));
	assert_int_equal(cc_batch_origin_add(o, p, &a, NULL), 0);
	assert_int_equal(cc_batch_file_origin(path, o, fx->s, r, fx->y_pub,
	    fx->alpha, &count, dd, &d), CC_ERR_POINT);
	assert_non_null(strstr(d.text, "stored element 1"));
	assert_int_equal(count, 0);
	assert_int_equal(files_in_dir(), 0);
	cc_batch_origin_free(o);
	/* A bad attribute key. */
	assert_int_equal(cc_batch_origin_new(&o, fx->qid, 0, 2, &fx->shape, 3,
	    NULL), 0);
	assert_int_equal(cc_batch_file_origin(path, o, fx->s, r, bad_y,
	    fx->alpha, &count, dd, &d), CC_ERR_POINT);
	assert_int_equal(files_in_dir(), 0);
	cc_batch_origin_free(o);
	/* A directory that does not exist. */
	assert_int_equal(cc_batch_origin_new(&o, fx->qid, 0, 2, &fx->shape, 3,
	    NULL), 0);
	assert_int_equal(cc_batch_file_origin("/nonexistent-dir/x.batch", o,
	    fx->s, r, fx->y_pub, fx->alpha, &count, dd, &d), CC_ERR_IO);
	cc_batch_origin_free(o);
	assert_int_equal(cc_batch_file_origin(path, NULL, fx->s, r, fx->y_pub,
	    fx->alpha, &count, dd, &d), CC_ERR_INVALID_ARGUMENT);
}

/* A signed origin batch of n persons by alpha, written to path. */
static struct cc_batch *
input_batch(const char *path, size_t n)
{
	struct cc_batch_origin *o;
	struct cc_batch *b = NULL;
	size_t counts[7] = { 0 };
	uint8_t r[32], *tokens;

	assert_non_null(tokens = malloc((n > 0 ? n : 1) * 32));
	cc_group_scalar_random(r);
	o = origin_builder(n, r, tokens, counts);
	assert_int_equal(cc_batch_origin_finish(&b, o, fx->s, r, fx->y_pub,
	    NULL), 0);
	cc_batch_origin_free(o);
	assert_int_equal(cc_sign_batch(b, fx->alpha, NULL), 0);
	assert_int_equal(cc_batch_write_file(b, path, NULL), 0);
	free(tokens);
	return b;
}

/* The scan: D, header, references and trailer as the parser has them. */
static void
scan(void **state)
{
	struct cc_batch_file_info *info;
	struct cc_diag d = { "" };
	struct cc_batch *b;
	const uint8_t *cert, *sig, *wire;
	size_t cert_len, sig_len, len;
	uint8_t dd[32], *bytes;
	char path[128];

	(void)state;
	assert_non_null(info = malloc(sizeof(*info)));
	path_in(path, sizeof(path), "scan.batch");
	b = input_batch(path, 100);
	assert_int_equal(cc_batch_file_scan(info, path, 1000, true, &d), 0);
	cc_batch_digest(b, dd);
	assert_memory_equal(info->d, dd, 32);
	assert_int_equal(info->h.count, 104);
	assert_int_equal(info->h.nrefs, 7);
	assert_memory_equal(info->refs, cc_batch_refs(b), 7 * 36);
	assert_int_equal(cc_batch_trailer(b, &cert, &cert_len, &sig, &sig_len),
	    0);
	assert_int_equal(info->cert_len, cert_len);
	assert_memory_equal(info->cert, cert, cert_len);
	assert_int_equal(info->sig_len, sig_len);
	assert_memory_equal(info->sig, sig, sig_len);
	assert_int_equal(cc_sign_verify_digest(fx->trust, info->cert,
	    info->cert_len, info->sig, info->sig_len, info->d, "alpha", &d), 0);
	/* Over the limit. */
	assert_int_equal(cc_batch_file_scan(info, path, 103, true, &d),
	    CC_ERR_LIMIT);
	/* A bad element: found only when the elements are checked. */
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	assert_non_null(bytes = malloc(len));
	memcpy(bytes, wire, len);
	memset(bytes + CC_BATCH_HEADER_BYTES + 7 * 36 + 3 * RECORD, 0xff, 32);
	assert_int_equal(cc_file_write(path, bytes, len, 0600, CC_FILE_REPLACE,
	    NULL), 0);
	assert_int_equal(cc_batch_file_scan(info, path, 1000, true, &d),
	    CC_ERR_POINT);
	assert_non_null(strstr(d.text, "record 3"));
	assert_int_equal(cc_batch_file_scan(info, path, 1000, false, &d), 0);
	/* Truncated. */
	assert_int_equal(cc_file_write(path, bytes, len - 10, 0600,
	    CC_FILE_REPLACE, NULL), 0);
	assert_int_not_equal(cc_batch_file_scan(info, path, 1000, false, &d),
	    0);
	assert_int_equal(info->h.count, 0);
	unlink(path);
	assert_int_equal(cc_batch_file_scan(info, path, 1000, false, &d),
	    CC_ERR_IO);
	free(bytes);
	free(info);
	cc_batch_free(b);
}

/*
 * The relay from file to file equals the in-memory relay but for the
 * order: the same records (sorted), the same references, hop + 1, a
 * valid signature by the relay; and the order is a fresh permutation.
 */
static void
relay_equals_memory(void **state)
{
	const size_t n = 9000, padded = 9216;
	struct cc_batch_file_info *info;
	struct cc_diag d = { "" };
	struct cc_batch *in, *mem, *out;
	uint8_t r[32], dd[32], d2[32], *a, *bsorted, *tokens, *pos_of;
	size_t i, fixed = 0;
	char in_path[128], out_path[128];
	uint8_t *hit;

	(void)state;
	assert_non_null(info = malloc(sizeof(*info)));
	path_in(in_path, sizeof(in_path), "relay.in");
	path_in(out_path, sizeof(out_path), "relay.out");
	in = input_batch(in_path, n);
	cc_group_scalar_random(r);
	assert_int_equal(cc_batch_file_scan(info, in_path, padded, false, &d),
	    0);
	if (cc_batch_file_relay(out_path, in_path, padded, info->d, r,
	    fx->beta, dd, &d) != 0)
		fail_msg("relay: %s", d.text);
	assert_int_equal(files_in_dir(), 2);
	out = read_signed(out_path, "beta");
	cc_batch_digest(out, d2);
	assert_memory_equal(dd, d2, 32);

	/* The in-memory relay of the same input with the same r. */
	assert_int_equal(cc_batch_read_file(&mem, in_path, padded, &d), 0);
	assert_int_equal(cc_batch_relay(mem, r, &d), 0);
	assert_int_equal(cc_batch_hop(out), 1);
	assert_int_equal(cc_batch_count(out), padded);
	assert_int_equal(cc_batch_chain(out), cc_batch_chain(mem));
	assert_int_equal(cc_batch_nodes(out), cc_batch_nodes(mem));
	assert_memory_equal(cc_batch_query_id(out), fx->qid, 16);
	assert_int_equal(cc_batch_nrefs(out), 7);
	assert_memory_equal(cc_batch_refs(out), cc_batch_refs(mem), 7 * 36);
	assert_non_null(a = malloc(padded * RECORD));
	assert_non_null(bsorted = malloc(padded * RECORD));
	memcpy(a, cc_batch_records(mem), padded * RECORD);
	memcpy(bsorted, cc_batch_records(out), padded * RECORD);
	qsort(a, padded, RECORD, cmp_record);
	qsort(bsorted, padded, RECORD, cmp_record);
	assert_memory_equal(a, bsorted, padded * RECORD);

	/* Where each input record went: r * its token, found once. */
	assert_non_null(tokens = malloc(padded * 64));
	assert_non_null(hit = calloc(padded, 1));
	/* token of output i (32) || its index (4), sorted by token. */
	for (i = 0; i < padded; i++) {
		memcpy(tokens + 64 * i, cc_batch_records(out) + i * RECORD, 32);
		memcpy(tokens + 64 * i + 32, &i, sizeof(i));
	}
	qsort(tokens, padded, 64, cmp32);
	for (i = 0; i < padded; i++) {
		uint8_t t[32];
		size_t at;

		assert_int_equal(cc_group_mult(t, r, cc_batch_records(in) +
		    i * RECORD), 0);
		if ((pos_of = bsearch(t, tokens, padded, 64, cmp32)) == NULL)
			fail_msg("input record %zu is not in the output", i);
		memcpy(&at, pos_of + 32, sizeof(at));
		assert_false(hit[at]);
		hit[at] = 1;
		if (at == i)
			fixed++;
	}
	/* A uniform permutation has 1 fixed point on average. */
	assert_true(fixed < 16);
	free(a);
	free(bsorted);
	free(tokens);
	free(hit);
	free(info);
	cc_batch_free(in);
	cc_batch_free(mem);
	cc_batch_free(out);
	unlink(in_path);
	unlink(out_path);
}

/* Refusals: nothing at out_path, no temporary file left. */
static void
relay_refusals(void **state)
{
	struct cc_batch_file_info *info;
	struct cc_diag d = { "" };
	struct cc_batch *in, *fin;
	const uint8_t *wire;
	uint8_t r[32], dd[32], wrong[32], *bytes;
	size_t len;
	char in_path[128], out_path[128];

	(void)state;
	assert_non_null(info = malloc(sizeof(*info)));
	path_in(in_path, sizeof(in_path), "refuse.in");
	path_in(out_path, sizeof(out_path), "refuse.out");
	in = input_batch(in_path, 1500);
	cc_group_scalar_random(r);
	assert_int_equal(cc_batch_file_scan(info, in_path, 2000, false, &d), 0);

	/* The input changed since it was verified. */
	memcpy(wrong, info->d, 32);
	wrong[0] ^= 1;
	assert_int_equal(cc_batch_file_relay(out_path, in_path, 2000, wrong, r,
	    fx->beta, dd, &d), CC_ERR_IO);
	assert_non_null(strstr(d.text, "changed"));
	assert_int_equal(files_in_dir(), 1);

	/* An invalid element in record 1234 (a signed, structurally valid
	 * batch): refused naming the record, as the input's fault. */
	assert_int_equal(cc_batch_serialize(in, &wire, &len), 0);
	assert_non_null(bytes = malloc(len));
	memcpy(bytes, wire, len);
	memset(bytes + CC_BATCH_HEADER_BYTES + 7 * 36 + 1234 * RECORD +
	    CC_BATCH_B_OFFSET, 0xff, 32);
	assert_int_equal(cc_file_write(in_path, bytes, len, 0600,
	    CC_FILE_REPLACE, NULL), 0);
	assert_int_equal(cc_batch_file_scan(info, in_path, 2000, false, &d), 0);
	assert_int_equal(cc_batch_file_relay(out_path, in_path, 2000, info->d,
	    r, fx->beta, dd, &d), CC_ERR_POINT);
	assert_non_null(strstr(d.text, "record 1234: invalid element"));
	assert_int_equal(files_in_dir(), 1);
	assert_true(sodium_is_zero(dd, 32));

	/* Over the receiver's limit. */
	assert_int_equal(cc_batch_file_relay(out_path, in_path, 1000, info->d,
	    r, fx->beta, dd, &d), CC_ERR_LIMIT);
	/* No such input. */
	assert_int_equal(cc_batch_file_relay(out_path, "/nonexistent/x", 2000,
	    info->d, r, fx->beta, dd, &d), CC_ERR_IO);
	/* An output directory that does not exist. */
	assert_int_equal(cc_file_write(in_path, wire, len, 0600,
	    CC_FILE_REPLACE, NULL), 0);
	assert_int_equal(cc_batch_file_scan(info, in_path, 2000, false, &d), 0);
	assert_int_equal(cc_batch_file_relay("/nonexistent/x.out", in_path,
	    2000, info->d, r, fx->beta, dd, &d), CC_ERR_IO);
	/* A bad scalar. */
	memset(wrong, 0, sizeof(wrong));
	assert_int_equal(cc_batch_file_relay(out_path, in_path, 2000, info->d,
	    wrong, fx->beta, dd, &d), CC_ERR_SCALAR);
	assert_int_equal(files_in_dir(), 1);

	/* A final batch is not relayed: hop 0 of a one-node query. */
	{
		struct cc_batch_origin *o = NULL;
		uint8_t p[32];
		struct cc_attr a = { false, 0, 1 };

		assert_int_equal(cc_batch_origin_new(&o, fx->qid, 0, 1,
		    &fx->shape, 1, NULL), 0);
		cc_group_element_random(p);
		assert_int_equal(cc_batch_origin_add(o, p, &a, NULL), 0);
		assert_int_equal(cc_batch_origin_finish(&fin, o, fx->s, r,
		    fx->y_pub, NULL), 0);
		cc_batch_origin_free(o);
		assert_int_equal(cc_sign_batch(fin, fx->alpha, NULL), 0);
		assert_int_equal(cc_batch_write_file(fin, in_path, NULL), 0);
		assert_int_equal(cc_batch_file_scan(info, in_path, 2000, false,
		    &d), 0);
		assert_int_equal(cc_batch_file_relay(out_path, in_path, 2000,
		    info->d, r, fx->beta, dd, &d), CC_ERR_STATE);
		cc_batch_free(fin);
	}
	assert_int_equal(files_in_dir(), 1);
	unlink(in_path);
	free(bytes);
	free(info);
	cc_batch_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(origin_to_file),
		cmocka_unit_test(origin_empty),
		cmocka_unit_test(origin_failures),
		cmocka_unit_test(scan),
		cmocka_unit_test(relay_equals_memory),
		cmocka_unit_test(relay_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
