/*
 * Unit tests: batches (protocol/batch.c): padding, the parser, and an
 * end-to-end three-node query in memory with signatures (sign.c) and the
 * aggregator opening the attributes (seal.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "protocol/batch.h"
#include "protocol/buf.h"
#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/limits.h"
#include "protocol/seal.h"
#include "protocol/sign.h"
#include "testpki.h"

#define NODES 3

/* A federation of three nodes, sorted by id as SPEC 8.2 orders them. */
static const char *const node_ids[NODES] = { "bup", "school", "social" };

struct fed {
	struct testpki_ca *ca;
	struct cc_trust *trust;
	struct cc_signer *signer[NODES];
	uint8_t s[NODES][32];          /* at-rest keys */
	struct cc_seal_key *agg;       /* the aggregator's attribute key */
	uint8_t y_pub[32];
};

static struct fed *fed;

static int
setup(void **state)
{
	struct cc_diag d = { { 0 } };
	char *ca_pem, *cert, *key;
	size_t i;

	(void)state;
	if (sodium_init() < 0 || (fed = calloc(1, sizeof(*fed))) == NULL)
		return -1;
	if ((fed->ca = testpki_ca_new("test federation", TESTPKI_P256)) == NULL ||
	    (ca_pem = testpki_ca_pem(fed->ca)) == NULL)
		return -1;
	if (cc_trust_from_pem(&fed->trust, ca_pem, strlen(ca_pem), &d) != 0)
		return -1;
	free(ca_pem);
	for (i = 0; i < NODES; i++) {
		if (testpki_issue(fed->ca, node_ids[i], i == 1 ? TESTPKI_P256 :
		    TESTPKI_ED25519, 0, &cert, &key) != 0 ||
		    cc_signer_from_pem(&fed->signer[i], cert, strlen(cert), key,
		    strlen(key), &d) != 0)
			return -1;
		free(cert);
		sodium_memzero(key, strlen(key));
		free(key);
		cc_group_scalar_random(fed->s[i]);
	}
	if (cc_seal_key_generate(&fed->agg) != 0)
		return -1;
	cc_seal_key_public(fed->agg, fed->y_pub);
	return 0;
}

static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NODES; i++)
		cc_signer_free(fed->signer[i]);
	cc_trust_free(fed->trust);
	testpki_ca_free(fed->ca);
	cc_seal_key_free(fed->agg);
	sodium_memzero(fed, sizeof(*fed));
	free(fed);
	return 0;
}

static void
padded_size(void **state)
{
	size_t n, p;

	(void)state;
	assert_int_equal(cc_batch_padded_size(0), 64);
	assert_int_equal(cc_batch_padded_size(1), 64);
	assert_int_equal(cc_batch_padded_size(64), 64);
	assert_int_equal(cc_batch_padded_size(65), 72);
	assert_int_equal(cc_batch_padded_size(100), 104);
	assert_int_equal(cc_batch_padded_size(128), 128);
	assert_int_equal(cc_batch_padded_size(129), 144);
	assert_int_equal(cc_batch_padded_size(1000), 1024);
	assert_int_equal(cc_batch_padded_size(1025), 1152);
	assert_int_equal(cc_batch_padded_size(CC_LIMIT_BATCH_ELEMENTS),
	    CC_LIMIT_BATCH_ELEMENTS);
	assert_int_equal(cc_batch_padded_size(CC_LIMIT_BATCH_ELEMENTS - 1),
	    CC_LIMIT_BATCH_ELEMENTS);
	assert_int_equal(cc_batch_padded_size(CC_LIMIT_BATCH_ELEMENTS + 1), 0);
	/* At most 1/8 overhead above 64, and padding a padded size is a no-op. */
	for (n = 1; n <= 300000; n += (n < 5000 ? 1 : 997)) {
		p = cc_batch_padded_size(n);
		assert_true(p >= n);
		if (n > 64)
			assert_true((p - n) * 8 < n);
		assert_int_equal(cc_batch_padded_size(p), p);
	}
}

static void
hop_node(void **state)
{
	(void)state;
	assert_int_equal(cc_batch_hop_node(0, 0, 3), 0);
	assert_int_equal(cc_batch_hop_node(2, 1, 3), 0);
	assert_int_equal(cc_batch_hop_node(1, 2, 3), 0);
	assert_int_equal(cc_batch_hop_node(2, 2, 3), 1);
	assert_int_equal(cc_batch_hop_node(0, 0, 1), 0);
	assert_int_equal(cc_batch_hop_node(65535, 65535, 32), (65535u * 2) % 32);
}

/* ---- the end-to-end query ------------------------------------------ */

struct person {
	const char *id;            /* 12 digits, synthetic test data */
	struct cc_attr attr;
	bool at[NODES];            /* known to node i */
};

#define PERSONS 7
static const struct person persons[PERSONS] = {
	{ "201001010001", { false, 0, 1 }, { true, false, false } },
	{ "201102020002", { false, 1, 2 }, { true, true, false } },
	{ "201203030003", { false, 2, 1 }, { true, true, true } },
	{ "201304040004", { false, 0, 2 }, { true, false, true } },
	{ "201405050005", { false, 1, 1 }, { false, true, true } },
	{ "201506060006", { false, 2, 2 }, { false, false, true } },
	{ "201607070007", { false, 2, 2 }, { false, true, false } },
};

static const struct cc_attr_shape shape = { 3, true };

static int
cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Every 32-byte element of a batch (references and records), sorted. */
static uint8_t *
batch_chunks(const struct cc_batch *b, size_t *ret_n)
{
	size_t nrefs = cc_batch_nrefs(b), count = cc_batch_count(b), i;
	uint8_t *out = malloc((nrefs + 3 * count) * 32);

	assert_non_null(out);
	for (i = 0; i < nrefs; i++)
		memcpy(out + 32 * i, cc_batch_refs(b) + i * CC_BATCH_REF_BYTES + 4,
		    32);
	memcpy(out + 32 * nrefs, cc_batch_records(b), count * 96);
	*ret_n = nrefs + 3 * count;
	qsort(out, *ret_n, 32, cmp32);
	return out;
}

/*
 * Run chain c of a query through every hop like the nodes would: sign,
 * serialize, parse, verify the expected signer and header, relay. Checks
 * that no element survives a hop. Returns the final batch as the
 * aggregator parses and verifies it.
 */
static struct cc_batch *
run_chain(const uint8_t qid[16], uint16_t c, uint8_t r[NODES][32])
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = NULL, *next = NULL;
	struct cc_attr attrs[PERSONS];
	uint8_t points[PERSONS * 32], h[32];
	uint8_t *before, *after;
	const uint8_t *wire;
	size_t n = 0, i, nb, na, k;
	uint16_t hop, node = c, prev;

	/* Origin step at n_c from its own stored P = s*H(id). */
	for (i = 0; i < PERSONS; i++) {
		if (!persons[i].at[c])
			continue;
		assert_int_equal(cc_group_hash_identity(h, persons[i].id), 0);
		assert_int_equal(cc_group_mult(points + 32 * n, fed->s[c], h), 0);
		attrs[n++] = persons[i].attr;
	}
	assert_int_equal(cc_batch_new_origin(&b, qid, c, NODES, &shape, points,
	    attrs, n, fed->s[c], r[c], fed->y_pub, &d), 0);
	assert_int_equal(cc_batch_count(b), 64);
	assert_int_equal(cc_batch_hop(b), 0);
	assert_int_equal(cc_sign_batch(b, fed->signer[c], &d), 0);

	for (hop = 1; hop <= NODES; hop++) {
		prev = node;
		/* Upload, download: only bytes travel. */
		assert_int_equal(cc_batch_serialize(b, &wire, &n), 0);
		assert_int_equal(cc_batch_parse(&next, wire, n, 1000, &d), 0);
		cc_batch_free(b);
		b = next;
		next = NULL;
		assert_int_equal(cc_sign_batch_verify(b, fed->trust,
		    node_ids[prev], &d), 0);
		assert_int_equal(cc_batch_check_header(b, qid, c, hop - 1, NODES,
		    &shape, &d), 0);
		if (hop == NODES)
			break;  /* the aggregator's copy */
		node = cc_batch_hop_node(c, hop, NODES);
		before = batch_chunks(b, &nb);
		assert_int_equal(cc_batch_relay(b, r[node], &d), 0);
		assert_int_equal(cc_batch_hop(b), hop);
		after = batch_chunks(b, &na);
		assert_int_equal(na, nb);
		/* No 32-byte element is unchanged from one hop to the next. */
		for (k = 0; k < na; k++)
			assert_null(bsearch(after + 32 * k, before, nb, 32,
			    cmp32));
		free(before);
		free(after);
		assert_int_equal(cc_sign_batch(b, fed->signer[node], &d), 0);
	}
	/* The final batch is hop k-1, signed by n_{(c+k-1) mod k}. */
	assert_int_equal(cc_batch_hop(b), NODES - 1);
	assert_int_equal(node, cc_batch_hop_node(c, NODES - 1, NODES));
	assert_int_equal(cc_batch_relay(b, r[0], &d), CC_ERR_STATE);
	return b;
}

/* R*H(id) for R the product of r. */
static void
final_token(uint8_t ret[32], const char *id, uint8_t r[NODES][32])
{
	uint8_t big_r[32], h[32];
	size_t i;

	memcpy(big_r, r[0], 32);
	for (i = 1; i < NODES; i++)
		cc_group_scalar_mul(big_r, big_r, r[i]);
	assert_int_equal(cc_group_hash_identity(h, id), 0);
	assert_int_equal(cc_group_mult(ret, big_r, h), 0);
}

/* The aggregator's view of one final batch: tokens and opened values. */
static void
check_final(const struct cc_batch *b, uint16_t c, uint8_t r[NODES][32],
    uint8_t found[PERSONS][32], bool seen[PERSONS])
{
	struct cc_diag d = { { 0 } };
	struct cc_attr *attrs;
	uint8_t expect[PERSONS][32], v[4], m[32], big_r[32];
	size_t count = cc_batch_count(b), i, j, real = 0, dummies = 0, n = 0;
	const uint8_t *rec;

	for (j = 0; j < PERSONS; j++) {
		final_token(expect[j], persons[j].id, r);
		n += persons[j].at[c];
	}
	/* The final references are R*M_v. */
	memcpy(big_r, r[0], 32);
	for (i = 1; i < NODES; i++)
		cc_group_scalar_mul(big_r, big_r, r[i]);
	for (i = 0; i < cc_batch_nrefs(b); i++) {
		memcpy(v, cc_batch_refs(b) + i * CC_BATCH_REF_BYTES, 4);
		assert_int_equal(cc_attr_element(m, v), 0);
		assert_int_equal(cc_group_mult(m, big_r, m), 0);
		assert_memory_equal(m, cc_batch_refs(b) + i * CC_BATCH_REF_BYTES +
		    4, 32);
	}

	attrs = calloc(count, sizeof(*attrs));
	assert_non_null(attrs);
	assert_int_equal(cc_batch_open(b, fed->agg, &shape, attrs, &d), 0);
	for (i = 0; i < count; i++) {
		rec = cc_batch_records(b) + i * CC_BATCH_RECORD_BYTES;
		for (j = 0; j < PERSONS; j++)
			if (memcmp(rec, expect[j], 32) == 0)
				break;
		if (attrs[i].dummy) {
			dummies++;
			assert_int_equal(j, PERSONS);
			continue;
		}
		real++;
		/* A real record is one of the origin's persons, once. */
		assert_true(j < PERSONS);
		assert_true(persons[j].at[c]);
		assert_int_equal(attrs[i].age_band, persons[j].attr.age_band);
		assert_int_equal(attrs[i].sex, persons[j].attr.sex);
		if (seen[j])
			assert_memory_equal(found[j], rec, 32);
		memcpy(found[j], rec, 32);
		seen[j] = true;
	}
	assert_int_equal(real, n);
	assert_int_equal(dummies, count - n);
	free(attrs);
}

static void
three_node_query(void **state)
{
	uint8_t qid[16], qid2[16];
	uint8_t r[NODES][32], r2[NODES][32];
	uint8_t found[PERSONS][32], found2[PERSONS][32];
	bool seen[PERSONS] = { false }, seen2[PERSONS] = { false };
	struct cc_batch *fin[NODES], *b;
	size_t c, j, x;

	(void)state;
	randombytes_buf(qid, sizeof(qid));
	for (c = 0; c < NODES; c++)
		cc_group_scalar_random(r[c]);
	for (c = 0; c < NODES; c++) {
		fin[c] = run_chain(qid, (uint16_t)c, r);
		check_final(fin[c], (uint16_t)c, r, found, seen);
	}
	/* Person 2 is at every node: one token in all three chains. */
	for (j = 0; j < PERSONS; j++)
		assert_true(seen[j]);
	for (c = 0; c < NODES; c++)
		cc_batch_free(fin[c]);

	/* Another query: fresh r's, so every person's token changes. */
	randombytes_buf(qid2, sizeof(qid2));
	for (c = 0; c < NODES; c++)
		cc_group_scalar_random(r2[c]);
	for (c = 0; c < NODES; c++) {
		b = run_chain(qid2, (uint16_t)c, r2);
		check_final(b, (uint16_t)c, r2, found2, seen2);
		cc_batch_free(b);
	}
	for (j = 0; j < PERSONS; j++)
		for (x = 0; x < PERSONS; x++)
			assert_memory_not_equal(found[j], found2[x], 32);
	for (c = 0; c < NODES; c++) {
		sodium_memzero(r[c], 32);
		sodium_memzero(r2[c], 32);
	}
}

/* ---- the parser ---------------------------------------------------- */

/* A small signed batch: 64 records, 2 references, chain 1 hop 1 of 3. */
static uint8_t *
small_wire(size_t *ret_len, struct cc_batch **ret_b)
{
	struct cc_attr_shape none = { 0, false };
	struct cc_attr a[2] = { { false, 0xFF, 0 }, { false, 0xFF, 0 } };
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = NULL;
	uint8_t qid[16], points[64], r[32], r2[32], *copy;
	const uint8_t *wire;

	memset(qid, 0x11, sizeof(qid));
	cc_group_element_random(points);
	cc_group_element_random(points + 32);
	cc_group_scalar_random(r);
	cc_group_scalar_random(r2);
	assert_int_equal(cc_batch_new_origin(&b, qid, 1, 3, &none, points, a, 2,
	    fed->s[1], r, fed->y_pub, &d), 0);
	assert_int_equal(cc_batch_relay(b, r2, &d), 0);
	assert_int_equal(cc_sign_batch(b, fed->signer[2], &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, ret_len), 0);
	copy = malloc(*ret_len + 1);
	assert_non_null(copy);
	memcpy(copy, wire, *ret_len);
	if (ret_b != NULL)
		*ret_b = b;
	else
		cc_batch_free(b);
	return copy;
}

static int
parse(const uint8_t *w, size_t len, uint32_t max)
{
	struct cc_batch *b = (struct cc_batch *)1;
	struct cc_diag d = { { 0 } };
	int r = cc_batch_parse(&b, w, len, max, &d);

	if (r != 0)
		assert_null(b);
	cc_batch_free(r == 0 ? b : NULL);
	return r;
}

static void
parser_round_trip(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *orig, *b = NULL;
	uint8_t *w, da[32], db[32];
	const uint8_t *w2;
	size_t len, len2;

	(void)state;
	w = small_wire(&len, &orig);
	assert_int_equal(len, 40 + 2 * 36 + 64 * 96 + 2 +
	    (size_t)(w[40 + 72 + 6144] << 8 | w[40 + 72 + 6145]) + 2 + 64);
	assert_int_equal(cc_batch_parse(&b, w, len, 64, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &w2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(w2, w, len);
	assert_int_equal(cc_batch_chain(b), 1);
	assert_int_equal(cc_batch_hop(b), 1);
	assert_int_equal(cc_batch_nodes(b), 3);
	assert_int_equal(cc_batch_nrefs(b), 2);
	assert_int_equal(cc_batch_count(b), 64);
	cc_batch_digest(b, da);
	cc_batch_digest(orig, db);
	assert_memory_equal(da, db, 32);
	/* D is SHA-256 of the bytes before the trailer. */
	crypto_hash_sha256(db, w, 40 + 72 + 6144);
	assert_memory_equal(da, db, 32);
	assert_int_equal(cc_sign_batch_verify(b, fed->trust, "social", &d), 0);
	cc_batch_free(b);
	cc_batch_free(orig);
	free(w);
}

static void
parser_rejects_every_truncation(void **state)
{
	uint8_t *w, *cut;
	size_t len, n;

	(void)state;
	w = small_wire(&len, NULL);
	for (n = 0; n < len; n++) {
		/* An exact-size copy, so ASan sees any read past the end. */
		cut = malloc(n > 0 ? n : 1);
		assert_non_null(cut);
		memcpy(cut, w, n);
		assert_int_equal(parse(cut, n, 64), CC_ERR_TRUNCATED);
		free(cut);
	}
	assert_int_equal(parse(w, len, 64), 0);
	/* One byte more. */
	w[len] = 0;
	assert_int_equal(parse(w, len + 1, 64), CC_ERR_TRAILING_DATA);
	free(w);
}

static void
parser_rejects_header_corruption(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = NULL;
	uint8_t *w;
	size_t len, off;
	unsigned k;
	const uint8_t flips[] = { 0x01, 0x02, 0x10, 0x80, 0xff };
	int r;

	(void)state;
	w = small_wire(&len, NULL);
	/* Every single-byte change of the header: refused by the parser, or
	 * (query id, chain, hop, nodes still in range) by the signature. */
	for (off = 0; off < CC_BATCH_HEADER_BYTES; off++) {
		for (k = 0; k < sizeof(flips); k++) {
			w[off] ^= flips[k];
			r = cc_batch_parse(&b, w, len, 64, &d);
			if (r == 0) {
				assert_true(off >= 8 && off < 30);
				assert_int_equal(cc_sign_batch_verify(b,
				    fed->trust, "social", &d), CC_ERR_SIGNATURE);
				cc_batch_free(b);
				b = NULL;
			}
			w[off] ^= flips[k];
		}
	}
	/* Named fields give named errors. */
	w[0] = 'X';
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	w[0] = 'C';
	w[5] = 2;
	assert_int_equal(parse(w, len, 64), CC_ERR_VERSION);
	w[5] = 1;
	w[7] = 1;
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	w[7] = 0;
	w[39] = 95;
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	w[39] = 96;
	w[29] = 0;       /* nodes 0 */
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	w[29] = 1;       /* chain 1 of 1 node */
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	w[29] = 33;
	assert_int_equal(parse(w, len, 64), CC_ERR_LIMIT);
	w[29] = 3;
	w[27] = 3;       /* hop 3 of 3 */
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	w[27] = 1;
	w[31] = 0;       /* no references */
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	w[31] = CC_LIMIT_BATCH_REFS + 1;
	assert_int_equal(parse(w, len, 64), CC_ERR_LIMIT);
	w[31] = 2;
	w[35] = 65;      /* not a padded size */
	assert_int_equal(parse(w, len, 64), CC_ERR_LIMIT);
	assert_int_equal(parse(w, len, 1000), CC_ERR_FORMAT);
	w[35] = 64;
	/* Over the caller's limit, and over the global one. */
	assert_int_equal(parse(w, len, 63), CC_ERR_LIMIT);
	w[32] = 0x01;    /* 2^24 + 64 records */
	assert_int_equal(parse(w, len, UINT32_MAX), CC_ERR_LIMIT);
	w[32] = 0x00;
	assert_int_equal(parse(w, len, 64), 0);
	free(w);
}

static void
parser_rejects_bad_elements_and_trailer(void **state)
{
	uint8_t *w;
	size_t len, rec0, body, cert_len, i;
	const size_t offs[] = { 0, 32, 64, 63 * 96 + 64 };

	(void)state;
	w = small_wire(&len, NULL);
	rec0 = 40 + 2 * 36;
	body = rec0 + 64 * 96;
	cert_len = (size_t)w[body] << 8 | w[body + 1];

	/* The identity and a non-canonical encoding, in token, A and B. */
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint8_t keep[32];

		memcpy(keep, w + rec0 + offs[i], 32);
		memset(w + rec0 + offs[i], 0, 32);
		assert_int_equal(parse(w, len, 64), CC_ERR_POINT);
		memset(w + rec0 + offs[i], 0xff, 32);
		assert_int_equal(parse(w, len, 64), CC_ERR_POINT);
		memcpy(w + rec0 + offs[i], keep, 32);
		assert_int_equal(parse(w, len, 64), 0);
	}
	/* A reference: identity element, bad value, values out of order. */
	{
		uint8_t keep[72];

		memcpy(keep, w + 40, 72);
		memset(w + 40 + 4, 0, 32);
		assert_int_equal(parse(w, len, 64), CC_ERR_POINT);
		memcpy(w + 40, keep, 72);
		w[40 + 3] = 1;
		assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
		memcpy(w + 40, keep + 36, 36);
		memcpy(w + 76, keep, 36);
		assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
		memcpy(w + 40, keep, 36);
		memcpy(w + 76, keep, 36);    /* the same value twice */
		assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
		memcpy(w + 40, keep, 72);
	}
	/* Certificate and signature lengths: 0, and over the limit. */
	w[body] = 0;
	w[body + 1] = 0;
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	cc_buf_store_u16(w + body, CC_LIMIT_CERT_DER + 1);
	assert_int_equal(parse(w, len, 64), CC_ERR_LIMIT);
	cc_buf_store_u16(w + body, (uint16_t)cert_len);
	cc_buf_store_u16(w + body + 2 + cert_len, 0);
	assert_int_equal(parse(w, len, 64), CC_ERR_FORMAT);
	cc_buf_store_u16(w + body + 2 + cert_len, CC_LIMIT_SIGNATURE + 1);
	assert_int_equal(parse(w, len, 64), CC_ERR_LIMIT);
	cc_buf_store_u16(w + body + 2 + cert_len, 63);
	assert_int_equal(parse(w, len, 64), CC_ERR_TRAILING_DATA);
	cc_buf_store_u16(w + body + 2 + cert_len, 64);
	assert_int_equal(parse(w, len, 64), 0);
	free(w);
}

static void
files_round_trip(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b, *back = NULL;
	char dir[] = "/tmp/cc-test-batch-XXXXXX", path[64];
	const uint8_t *w1, *w2;
	size_t l1, l2;
	uint8_t *w;
	FILE *fp;

	(void)state;
	w = small_wire(&l1, &b);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/batch", dir);
	assert_int_equal(cc_batch_write_file(b, path, &d), 0);
	assert_int_equal(cc_batch_read_file(&back, path, 64, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &w1, &l1), 0);
	assert_int_equal(cc_batch_serialize(back, &w2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(w1, w2, l1);
	cc_batch_free(back);
	back = NULL;
	assert_int_equal(cc_batch_read_file(&back, "/nonexistent/x", 64, &d),
	    CC_ERR_IO);
	fp = fopen(path, "ab");
	assert_non_null(fp);
	assert_int_equal(fputc(0, fp), 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cc_batch_read_file(&back, path, 64, &d),
	    CC_ERR_TRAILING_DATA);
	assert_null(back);
	assert_int_equal(cc_batch_read_file(&back, path, 0, &d), CC_ERR_LIMIT);
	unlink(path);
	rmdir(dir);
	cc_batch_free(b);
	free(w);
}

static void
origin_refuses_bad_input(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = (struct cc_batch *)1;
	struct cc_attr a[2] = { { false, 0, 1 }, { false, 3, 1 } };
	uint8_t qid[16] = { 0 }, points[64], r[32], zero[32] = { 0 };
	const uint8_t *w;
	size_t len;

	(void)state;
	cc_group_element_random(points);
	cc_group_element_random(points + 32);
	cc_group_scalar_random(r);
	/* Band 3 of 3 bands. */
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 3, &shape, points, a,
	    2, fed->s[0], r, fed->y_pub, &d), CC_ERR_INVALID_ARGUMENT);
	assert_null(b);
	a[1].age_band = 2;
	assert_int_equal(cc_batch_new_origin(&b, qid, 3, 3, &shape, points, a,
	    2, fed->s[0], r, fed->y_pub, &d), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 3, &shape, points, a,
	    CC_LIMIT_BATCH_ELEMENTS + 1, fed->s[0], r, fed->y_pub, &d),
	    CC_ERR_LIMIT);
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 3, &shape, points, a,
	    2, zero, r, fed->y_pub, &d), CC_ERR_SCALAR);
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 3, &shape, points, a,
	    2, fed->s[0], r, zero, &d), CC_ERR_POINT);
	memset(points + 32, 0, 32);
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 3, &shape, points, a,
	    2, fed->s[0], r, fed->y_pub, &d), CC_ERR_POINT);
	assert_non_null(strstr(d.text, "element 1"));
	assert_null(b);
	/* Nobody selected: still 64 records, all dummies, unsigned. */
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 1, &shape, NULL, NULL,
	    0, fed->s[0], r, fed->y_pub, &d), 0);
	assert_int_equal(cc_batch_count(b), 64);
	assert_int_equal(cc_batch_serialize(b, &w, &len), CC_ERR_STATE);
	assert_int_equal(cc_batch_relay(b, r, &d), CC_ERR_STATE);
	cc_batch_free(b);
	cc_batch_free(NULL);
}

static void
shuffle_permutes_records(void **state)
{
	struct cc_batch *b;
	uint8_t *w, *before, *after;
	size_t len, i;
	const size_t rec0 = 40 + 2 * 36;

	(void)state;
	w = small_wire(&len, &b);
	before = malloc(64 * 96);
	after = malloc(64 * 96);
	assert_non_null(before);
	assert_non_null(after);
	memcpy(before, cc_batch_records(b), 64 * 96);
	assert_memory_equal(before, w + rec0, 64 * 96);
	cc_batch_shuffle(b);
	memcpy(after, cc_batch_records(b), 64 * 96);
	/* Another order (64! orders: equal only by a bug) ... */
	assert_memory_not_equal(before, after, 64 * 96);
	/* ... of the same whole records. */
	qsort(before, 64, 96, cmp32);
	qsort(after, 64, 96, cmp32);
	for (i = 0; i < 64; i++)
		assert_memory_equal(before + 96 * i, after + 96 * i, 96);
	free(before);
	free(after);
	cc_batch_free(b);
	free(w);
}

static void
parse_take_owns_the_buffer(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = NULL, *back = NULL;
	uint8_t *w, *buf, r[32];
	const uint8_t *wire;
	size_t len, l2;

	(void)state;
	w = small_wire(&len, NULL);
	/* Exactly len bytes: re-signing must grow the buffer. */
	buf = malloc(len);
	assert_non_null(buf);
	memcpy(buf, w, len);
	assert_int_equal(cc_batch_parse_take(&b, &buf, len, len, 64, &d), 0);
	assert_null(buf);
	cc_group_scalar_random(r);
	assert_int_equal(cc_batch_relay(b, r, &d), 0);
	assert_int_equal(cc_sign_batch(b, fed->signer[0], &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, &l2), 0);
	assert_int_equal(cc_batch_parse(&back, wire, l2, 64, &d), 0);
	assert_int_equal(cc_sign_batch_verify(back, fed->trust, "bup", &d), 0);
	assert_int_equal(cc_batch_check_header(back, cc_batch_query_id(b), 1,
	    2, 3, &(struct cc_attr_shape){ 0, false }, &d), 0);
	cc_batch_free(back);
	cc_batch_free(b);
	b = NULL;

	/* With trailer room, and refused input: the buffer is always taken. */
	buf = malloc(len + CC_BATCH_TRAILER_MAX);
	assert_non_null(buf);
	memcpy(buf, w, len);
	assert_int_equal(cc_batch_parse_take(&b, &buf, len - 1,
	    len + CC_BATCH_TRAILER_MAX, 64, &d), CC_ERR_TRUNCATED);
	assert_null(buf);
	assert_null(b);
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(cc_batch_parse_take(&b, &buf, len, len - 1, 64, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(buf);
	free(w);
}

/* Big enough that origin, parse, relay and open all run on every core. */
static void
large_batch_on_every_core(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = NULL, *p = NULL;
	struct cc_attr *attrs, *opened;
	const size_t n = 2000;
	size_t i, counts[7] = { 0 }, got[7] = { 0 }, idx, rec0;
	uint8_t *points, *w, qid[16], r0[32], r1[32];
	const uint8_t *wire;
	size_t len;

	(void)state;
	points = malloc(n * 32);
	attrs = calloc(n, sizeof(*attrs));
	opened = calloc(2048, sizeof(*opened));
	assert_non_null(points);
	assert_non_null(attrs);
	assert_non_null(opened);
	for (i = 0; i < n; i++) {
		cc_group_element_random(points + 32 * i);
		attrs[i].age_band = (uint8_t)(i % 3);
		attrs[i].sex = (uint8_t)(1 + i % 2);
		counts[(i % 3) * 2 + i % 2]++;
	}
	memset(qid, 7, sizeof(qid));
	cc_group_scalar_random(r0);
	cc_group_scalar_random(r1);
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 2, &shape, points,
	    attrs, n, fed->s[0], r0, fed->y_pub, &d), 0);
	assert_int_equal(cc_batch_count(b), 2048);
	assert_int_equal(cc_sign_batch(b, fed->signer[0], &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	assert_int_equal(cc_batch_parse(&p, wire, len, 2048, &d), 0);
	cc_batch_free(b);
	assert_int_equal(cc_batch_relay(p, r1, &d), 0);
	assert_int_equal(cc_batch_open(p, fed->agg, &shape, opened, &d), 0);
	for (i = 0; i < 2048; i++) {
		idx = opened[i].dummy ? 6 :
		    (size_t)opened[i].age_band * 2 + opened[i].sex - 1;
		got[idx]++;
	}
	for (i = 0; i < 6; i++)
		assert_int_equal(got[i], counts[i]);
	assert_int_equal(got[6], 2048 - n);

	/* A bad element late in a large batch is found and named. */
	assert_int_equal(cc_sign_batch(p, fed->signer[1], &d), 0);
	assert_int_equal(cc_batch_serialize(p, &wire, &len), 0);
	w = malloc(len);
	assert_non_null(w);
	memcpy(w, wire, len);
	rec0 = 40 + 7 * 36;
	memset(w + rec0 + 1500 * 96 + 64, 0, 32);
	cc_batch_free(p);
	p = NULL;
	assert_int_equal(cc_batch_parse(&p, w, len, 2048, &d), CC_ERR_POINT);
	assert_string_equal(d.text, "record 1500: invalid element");
	free(w);
	free(points);
	free(attrs);
	free(opened);
}

/*
 * The builder: room for more than is added, records written in place,
 * the batch padded to what was added; tokens and values as SPEC 8.3.
 */
static void
origin_builder(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_batch_origin *o = NULL;
	struct cc_batch *b = NULL, *p = NULL;
	struct cc_attr a, dummy = { true, 0, 0 }, *opened;
	const size_t n = 1000;
	size_t i, counts[7] = { 0 }, got[7] = { 0 }, idx, len, found = 0;
	uint8_t *points, *tokens, qid[16], r0[32], s_inv[32], t[32];
	const uint8_t *wire, *rec;

	(void)state;
	points = malloc(n * 32);
	tokens = malloc(n * 32);
	opened = calloc(1024, sizeof(*opened));
	assert_non_null(points);
	assert_non_null(tokens);
	assert_non_null(opened);
	memset(qid, 9, sizeof(qid));
	cc_group_scalar_random(r0);
	assert_int_equal(cc_group_scalar_invert(s_inv, fed->s[0]), 0);
	cc_group_scalar_mul(t, r0, s_inv);
	assert_int_equal(cc_batch_origin_new(&o, qid, 0, 2, &shape, 3000, &d), 0);
	for (i = 0; i < n; i++) {
		cc_group_element_random(points + 32 * i);
		assert_int_equal(cc_group_mult(tokens + 32 * i, t,
		    points + 32 * i), 0);
		a.dummy = false;
		a.age_band = (uint8_t)(i % 3);
		a.sex = (uint8_t)(1 + i % 2);
		counts[(i % 3) * 2 + i % 2]++;
		assert_int_equal(cc_batch_origin_add(o, points + 32 * i, &a, &d),
		    0);
	}
	/* Only real values within the shape. */
	assert_int_equal(cc_batch_origin_add(o, points, &dummy, &d),
	    CC_ERR_INVALID_ARGUMENT);
	a.age_band = 3;
	assert_int_equal(cc_batch_origin_add(o, points, &a, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_batch_origin_count(o), n);
	assert_int_equal(cc_batch_origin_finish(&b, o, fed->s[0], r0,
	    fed->y_pub, &d), 0);
	/* Padded for the 1000 added, not the room for 3000. */
	assert_int_equal(cc_batch_count(b), 1024);
	assert_int_equal(cc_batch_hop(b), 0);
	assert_int_equal(cc_batch_chain(b), 0);
	assert_int_equal(cc_batch_nodes(b), 2);
	/* Finished: the builder holds nothing more. */
	assert_int_equal(cc_batch_origin_finish(&p, o, fed->s[0], r0,
	    fed->y_pub, &d), CC_ERR_INVALID_ARGUMENT);
	assert_null(p);
	assert_int_equal(cc_batch_origin_add(o, points, &a, &d),
	    CC_ERR_INVALID_ARGUMENT);
	cc_batch_origin_free(o);
	o = NULL;
	/* Every token is (r*s^-1)*P of one point added. */
	qsort(tokens, n, 32, cmp32);
	rec = cc_batch_records(b);
	for (i = 0; i < 1024; i++)
		if (bsearch(rec + i * 96, tokens, n, 32, cmp32) != NULL)
			found++;
	assert_int_equal(found, n);
	/* The wire form is exactly that of 1024 records; it opens. */
	assert_int_equal(cc_sign_batch(b, fed->signer[0], &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	assert_int_equal(cc_batch_parse(&p, wire, len, 1024, &d), 0);
	assert_int_equal(cc_sign_batch_verify(p, fed->trust, node_ids[0], &d),
	    0);
	assert_int_equal(cc_batch_open(p, fed->agg, &shape, opened, &d), 0);
	for (i = 0; i < 1024; i++) {
		idx = opened[i].dummy ? 6 :
		    (size_t)opened[i].age_band * 2 + opened[i].sex - 1;
		got[idx]++;
	}
	for (i = 0; i < 6; i++)
		assert_int_equal(got[i], counts[i]);
	assert_int_equal(got[6], 1024 - n);
	cc_batch_free(p);
	cc_batch_free(b);

	/* Past the announced number; a failed finish leaves nothing. */
	assert_int_equal(cc_batch_origin_new(&o, qid, 0, 2, &shape, 1, &d), 0);
	a.age_band = 0;
	assert_int_equal(cc_batch_origin_add(o, points, &a, &d), 0);
	assert_int_equal(cc_batch_origin_add(o, points + 32, &a, &d),
	    CC_ERR_LIMIT);
	memset(t, 0, sizeof(t));
	b = (struct cc_batch *)1;
	assert_int_equal(cc_batch_origin_finish(&b, o, fed->s[0], r0, t, &d),
	    CC_ERR_POINT);
	assert_null(b);
	assert_int_equal(cc_batch_origin_finish(&b, o, fed->s[0], r0,
	    fed->y_pub, &d), CC_ERR_INVALID_ARGUMENT);
	cc_batch_origin_free(o);
	/* Arguments. */
	assert_int_equal(cc_batch_origin_new(&o, qid, 2, 2, &shape, 1, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(o);
	assert_int_equal(cc_batch_origin_new(&o, qid, 0, 2, &shape,
	    CC_LIMIT_BATCH_ELEMENTS + 1, &d), CC_ERR_LIMIT);
	assert_null(o);
	cc_batch_origin_free(NULL);
	free(points);
	free(tokens);
	free(opened);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(padded_size),
		cmocka_unit_test(hop_node),
		cmocka_unit_test(three_node_query),
		cmocka_unit_test(parser_round_trip),
		cmocka_unit_test(parser_rejects_every_truncation),
		cmocka_unit_test(parser_rejects_header_corruption),
		cmocka_unit_test(parser_rejects_bad_elements_and_trailer),
		cmocka_unit_test(files_round_trip),
		cmocka_unit_test(origin_refuses_bad_input),
		cmocka_unit_test(shuffle_permutes_records),
		cmocka_unit_test(large_batch_on_every_core),
		cmocka_unit_test(origin_builder),
		cmocka_unit_test(parse_take_owns_the_buffer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
