/*
 * Unit tests: batch signatures and certificate checks (protocol/sign.c),
 * with a PKI made at test time (testpki.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "protocol/batch.h"
#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/seal.h"
#include "protocol/sign.h"
#include "testpki.h"

struct fixture {
	struct testpki_ca *ca, *other_ca;
	struct cc_trust *trust;
	struct cc_signer *bup;        /* Ed25519, CN bup */
	struct cc_signer *soc2;       /* P-256, CN soc2 */
	struct cc_signer *rogue_bup;  /* CN bup from another CA */
	char *ca_pem;
	uint8_t *wire;                /* a batch of chain 0 hop 0, signed by bup */
	size_t wire_len;
};

static struct cc_signer *
issue_signer(struct testpki_ca *ca, const char *cn, enum testpki_key kind,
    unsigned flags)
{
	struct cc_signer *s = NULL;
	struct cc_diag d = { { 0 } };
	char *cert = NULL, *key = NULL;

	assert_int_equal(testpki_issue(ca, cn, kind, flags, &cert, &key), 0);
	assert_int_equal(cc_signer_from_pem(&s, cert, strlen(cert), key,
	    strlen(key), &d), 0);
	free(cert);
	sodium_memzero(key, strlen(key));
	free(key);
	return s;
}

/* An unsigned origin batch with 3 real records (padded to 64), 3 nodes. */
static struct cc_batch *
make_batch(void)
{
	struct cc_attr_shape shape = { 2, true };
	struct cc_attr attrs[3] = { { false, 0, 1 }, { false, 1, 2 },
	    { false, 1, 1 } };
	uint8_t points[3 * 32], qid[16], s[32], r[32], pub[32];
	struct cc_seal_key *k = NULL;
	struct cc_batch *b = NULL;
	struct cc_diag d = { { 0 } };
	size_t i;

	for (i = 0; i < 3; i++)
		cc_group_element_random(points + 32 * i);
	memset(qid, 0x42, sizeof(qid));
	cc_group_scalar_random(s);
	cc_group_scalar_random(r);
	assert_int_equal(cc_seal_key_generate(&k), 0);
	cc_seal_key_public(k, pub);
	assert_int_equal(cc_batch_new_origin(&b, qid, 0, 3, &shape, points,
	    attrs, 3, s, r, pub, &d), 0);
	cc_seal_key_free(k);
	return b;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cc_diag d = { { 0 } };
	struct cc_batch *b;
	const uint8_t *wire;

	if (f == NULL)
		return -1;
	f->ca = testpki_ca_new("crosscount test federation", TESTPKI_ED25519);
	f->other_ca = testpki_ca_new("crosscount test federation",
	    TESTPKI_P256);
	assert_non_null(f->ca);
	assert_non_null(f->other_ca);
	f->ca_pem = testpki_ca_pem(f->ca);
	assert_non_null(f->ca_pem);
	assert_int_equal(cc_trust_from_pem(&f->trust, f->ca_pem,
	    strlen(f->ca_pem), &d), 0);
	f->bup = issue_signer(f->ca, "bup", TESTPKI_ED25519, 0);
	f->soc2 = issue_signer(f->ca, "soc2", TESTPKI_P256, 0);
	f->rogue_bup = issue_signer(f->other_ca, "bup", TESTPKI_ED25519, 0);

	b = make_batch();
	assert_int_equal(cc_sign_batch(b, f->bup, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, &f->wire_len), 0);
	f->wire = malloc(f->wire_len);
	assert_non_null(f->wire);
	memcpy(f->wire, wire, f->wire_len);
	cc_batch_free(b);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cc_signer_free(f->bup);
	cc_signer_free(f->soc2);
	cc_signer_free(f->rogue_bup);
	cc_trust_free(f->trust);
	testpki_ca_free(f->ca);
	testpki_ca_free(f->other_ca);
	free(f->ca_pem);
	free(f->wire);
	free(f);
	return 0;
}

/* Parse wire bytes and verify them as signed by expected. */
static int
parse_verify(const struct fixture *f, const uint8_t *wire, size_t len,
    const char *expected, struct cc_diag *d)
{
	struct cc_batch *b = NULL;
	int r;

	if ((r = cc_batch_parse(&b, wire, len, CC_LIMIT_BATCH_ELEMENTS, d)) != 0)
		return r;
	r = cc_sign_batch_verify(b, f->trust, expected, d);
	cc_batch_free(b);
	return r;
}

static void
signed_batch_verifies(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	struct cc_batch *b;
	const uint8_t *cert, *sig, *wire;
	size_t cert_len, sig_len, wire_len;
	const uint8_t *der;
	size_t der_len;
	char cn[CC_LIMIT_NODE_ID + 1];

	assert_int_equal(parse_verify(f, f->wire, f->wire_len, "bup", &d), 0);
	assert_string_equal(cc_signer_node_id(f->bup), "bup");
	assert_string_equal(cc_signer_node_id(f->soc2), "soc2");

	/* The trailer carries the signer's DER and an Ed25519 signature. */
	assert_int_equal(cc_batch_parse(&b, f->wire, f->wire_len, 64, &d), 0);
	assert_int_equal(cc_batch_trailer(b, &cert, &cert_len, &sig, &sig_len), 0);
	cc_signer_cert_der(f->bup, &der, &der_len);
	assert_int_equal(cert_len, der_len);
	assert_memory_equal(cert, der, der_len);
	assert_int_equal(sig_len, 64);
	assert_int_equal(cc_sign_cert_cn(cn, cert, cert_len), 0);
	assert_string_equal(cn, "bup");

	/* Re-signed by soc2 (P-256): verifies as soc2 only. */
	assert_int_equal(cc_sign_batch(b, f->soc2, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, &wire_len), 0);
	assert_int_equal(parse_verify(f, wire, wire_len, "soc2", &d), 0);
	assert_int_equal(cc_batch_trailer(b, &cert, &cert_len, &sig, &sig_len), 0);
	assert_true(sig_len >= 64 && sig_len <= 72);
	assert_int_equal(parse_verify(f, wire, wire_len, "bup", &d),
	    CC_ERR_CERTIFICATE);
	assert_string_equal(d.text, "signed by 'soc2', expected 'bup'");
	cc_batch_free(b);
}

static void
tampered_batch_fails_signature(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	uint8_t *w = malloc(f->wire_len);
	uint8_t tmp[96];
	size_t rec0, off, body, cert_len;
	const size_t nrefs = 5;
	int r;

	assert_non_null(w);
	rec0 = CC_BATCH_HEADER_BYTES + nrefs * CC_BATCH_REF_BYTES;

	/* Another valid element in place of a token. */
	memcpy(w, f->wire, f->wire_len);
	cc_group_element_random(w + rec0 + 5 * 96);
	assert_int_equal(parse_verify(f, w, f->wire_len, "bup", &d),
	    CC_ERR_SIGNATURE);

	/* Two records swapped: every element still valid. */
	memcpy(w, f->wire, f->wire_len);
	memcpy(tmp, w + rec0, 96);
	memcpy(w + rec0, w + rec0 + 96, 96);
	memcpy(w + rec0 + 96, tmp, 96);
	assert_int_equal(parse_verify(f, w, f->wire_len, "bup", &d),
	    CC_ERR_SIGNATURE);

	/* A reference element replaced. */
	memcpy(w, f->wire, f->wire_len);
	cc_group_element_random(w + CC_BATCH_HEADER_BYTES + 4);
	assert_int_equal(parse_verify(f, w, f->wire_len, "bup", &d),
	    CC_ERR_SIGNATURE);

	/* A flipped bit in the signature (the last byte of the wire). */
	memcpy(w, f->wire, f->wire_len);
	w[f->wire_len - 1] ^= 0x01;
	assert_int_equal(parse_verify(f, w, f->wire_len, "bup", &d),
	    CC_ERR_SIGNATURE);

	/* Another query id. */
	memcpy(w, f->wire, f->wire_len);
	w[8] ^= 0x01;
	assert_int_equal(parse_verify(f, w, f->wire_len, "bup", &d),
	    CC_ERR_SIGNATURE);

	/* Any flipped bit in the certificate: refused, never a crash. */
	body = rec0 + 64 * 96;
	cert_len = (size_t)w[body] << 8 | w[body + 1];
	assert_int_equal(body + 2 + cert_len + 2 + 64, f->wire_len);
	for (off = 0; off < cert_len; off++) {
		memcpy(w, f->wire, f->wire_len);
		w[body + 2 + off] ^= (uint8_t)(1u << (off % 8));
		r = parse_verify(f, w, f->wire_len, "bup", &d);
		assert_true(r == CC_ERR_CERTIFICATE || r == CC_ERR_SIGNATURE);
	}
	free(w);
}

static void
replay_with_other_hop_fails(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = NULL;
	uint8_t *w = malloc(f->wire_len);
	uint8_t qid[16];

	assert_non_null(w);
	memset(qid, 0x42, sizeof(qid));
	/* Hop 0 presented as hop 1: still a well-formed batch ... */
	memcpy(w, f->wire, f->wire_len);
	w[27] = 1;
	assert_int_equal(cc_batch_parse(&b, w, f->wire_len, 64, &d), 0);
	assert_int_equal(cc_batch_hop(b), 1);
	/* ... whose signature no longer covers its header ... */
	assert_int_equal(cc_sign_batch_verify(b, f->trust, "bup", &d),
	    CC_ERR_SIGNATURE);
	cc_batch_free(b);
	/* ... and the original is not what a hop-2 receiver expects. */
	assert_int_equal(cc_batch_parse(&b, f->wire, f->wire_len, 64, &d), 0);
	assert_int_equal(cc_sign_batch_verify(b, f->trust, "bup", &d), 0);
	assert_int_equal(cc_batch_check_header(b, qid, 0, 1, 3,
	    &(struct cc_attr_shape){ 2, true }, &d), CC_ERR_FORMAT);
	assert_int_equal(cc_batch_check_header(b, qid, 0, 0, 3,
	    &(struct cc_attr_shape){ 2, true }, &d), 0);
	cc_batch_free(b);
	/* Chain changed the same way. */
	memcpy(w, f->wire, f->wire_len);
	w[25] = 2;
	assert_int_equal(parse_verify(f, w, f->wire_len, "bup", &d),
	    CC_ERR_SIGNATURE);
	free(w);
}

static void
wrong_signer_or_ca_fails_certificate(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = make_batch();
	struct cc_signer *s;
	const uint8_t *wire;
	size_t len;
	struct {
		unsigned flags;
		const char *why;
	} bad[] = {
		{ TESTPKI_EXPIRED, "expired" },
		{ TESTPKI_NO_DIGITAL_SIGNATURE, "digital signatures" },
		{ TESTPKI_IS_CA, "is a CA certificate" },
	};
	size_t i;

	assert_int_equal(parse_verify(f, f->wire, f->wire_len, "soc2", &d),
	    CC_ERR_CERTIFICATE);
	assert_string_equal(d.text, "signed by 'bup', expected 'soc2'");
	/* No partial matches. */
	assert_int_equal(parse_verify(f, f->wire, f->wire_len, "bu", &d),
	    CC_ERR_CERTIFICATE);
	assert_int_equal(parse_verify(f, f->wire, f->wire_len, "bup2", &d),
	    CC_ERR_CERTIFICATE);
	assert_int_equal(parse_verify(f, f->wire, f->wire_len, "", &d),
	    CC_ERR_CERTIFICATE);

	/* CN bup, but from another CA. */
	assert_int_equal(cc_sign_batch(b, f->rogue_bup, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
	assert_int_equal(parse_verify(f, wire, len, "bup", &d),
	    CC_ERR_CERTIFICATE);
	assert_non_null(strstr(d.text, "federation CA"));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = issue_signer(f->ca, "bup", TESTPKI_P256, bad[i].flags);
		assert_int_equal(cc_sign_batch(b, s, &d), 0);
		assert_int_equal(cc_batch_serialize(b, &wire, &len), 0);
		memset(&d, 0, sizeof(d));
		assert_int_equal(parse_verify(f, wire, len, "bup", &d),
		    CC_ERR_CERTIFICATE);
		assert_non_null(strstr(d.text, bad[i].why));
		cc_signer_free(s);
	}
	cc_batch_free(b);
}

static void
verify_digest_directly(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	uint8_t digest[32], sig[CC_LIMIT_SIGNATURE], der2[CC_LIMIT_CERT_DER + 2];
	const uint8_t *der;
	size_t der_len, sig_len;

	memset(digest, 7, sizeof(digest));
	cc_signer_cert_der(f->soc2, &der, &der_len);
	assert_int_equal(cc_sign_digest(f->soc2, digest, sig, &sig_len), 0);
	assert_int_equal(cc_sign_verify_digest(f->trust, der, der_len, sig,
	    sig_len, digest, "soc2", &d), 0);
	digest[31] ^= 1;
	assert_int_equal(cc_sign_verify_digest(f->trust, der, der_len, sig,
	    sig_len, digest, "soc2", &d), CC_ERR_SIGNATURE);
	digest[31] ^= 1;
	assert_int_equal(cc_sign_verify_digest(f->trust, der, der_len, sig, 0,
	    digest, "soc2", &d), CC_ERR_SIGNATURE);
	/* DER with a trailing byte, or cut short: not a certificate. */
	memcpy(der2, der, der_len);
	der2[der_len] = 0;
	assert_int_equal(cc_sign_verify_digest(f->trust, der2, der_len + 1, sig,
	    sig_len, digest, "soc2", &d), CC_ERR_CERTIFICATE);
	assert_int_equal(cc_sign_verify_digest(f->trust, der, der_len - 1, sig,
	    sig_len, digest, "soc2", &d), CC_ERR_CERTIFICATE);
	assert_int_equal(cc_sign_verify_digest(f->trust, der, 0, sig, sig_len,
	    digest, "soc2", &d), CC_ERR_CERTIFICATE);
	/* Key-only (inspection): the signature, and nothing about the cert. */
	assert_int_equal(cc_sign_verify_digest_key_only(der, der_len, sig,
	    sig_len, digest, &d), 0);
	digest[0] ^= 1;
	assert_int_equal(cc_sign_verify_digest_key_only(der, der_len, sig,
	    sig_len, digest, &d), CC_ERR_SIGNATURE);
	digest[0] ^= 1;
	assert_int_equal(cc_sign_verify_digest_key_only(der, der_len - 1, sig,
	    sig_len, digest, &d), CC_ERR_CERTIFICATE);
	assert_int_equal(cc_sign_verify_digest_key_only(der, der_len, sig, 0,
	    digest, &d), CC_ERR_SIGNATURE);
}

static void
cert_cn_without_verification(void **state)
{
	struct fixture *f = *state;
	char cn[CC_LIMIT_NODE_ID + 1];
	uint8_t der2[CC_LIMIT_CERT_DER + 1];
	const uint8_t *der;
	size_t der_len, n;

	/* The rogue certificate's CN is readable, though it would not verify. */
	cc_signer_cert_der(f->rogue_bup, &der, &der_len);
	assert_int_equal(cc_sign_cert_cn(cn, der, der_len), 0);
	assert_string_equal(cn, "bup");
	memcpy(der2, der, der_len);
	der2[der_len] = 0;
	assert_int_equal(cc_sign_cert_cn(cn, der2, der_len + 1),
	    CC_ERR_CERTIFICATE);
	assert_string_equal(cn, "");
	for (n = 0; n < der_len; n++)
		assert_int_equal(cc_sign_cert_cn(cn, der, n), CC_ERR_CERTIFICATE);
}

static void
signer_refuses_bad_material(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	struct cc_signer *s = (struct cc_signer *)1;
	struct cc_trust *t = NULL;
	char *cert1, *key1, *cert2, *key2;

	assert_int_equal(testpki_issue(f->ca, "school", TESTPKI_ED25519, 0,
	    &cert1, &key1), 0);
	assert_int_equal(testpki_issue(f->ca, "school", TESTPKI_P256, 0,
	    &cert2, &key2), 0);
	/* Key of another certificate. */
	assert_int_equal(cc_signer_from_pem(&s, cert1, strlen(cert1), key2,
	    strlen(key2), &d), CC_ERR_CERTIFICATE);
	assert_null(s);
	assert_int_equal(cc_signer_from_pem(&s, "junk", 4, key2, strlen(key2),
	    &d), CC_ERR_CERTIFICATE);
	assert_int_equal(cc_signer_from_pem(&s, cert2, strlen(cert2), "junk", 4,
	    &d), CC_ERR_CRYPTO);
	free(cert1);
	free(key1);
	free(cert2);
	free(key2);

	/* A CN that is not a node id. */
	assert_int_equal(testpki_issue(f->ca, "School Unit", TESTPKI_P256, 0,
	    &cert1, &key1), 0);
	assert_int_equal(cc_signer_from_pem(&s, cert1, strlen(cert1), key1,
	    strlen(key1), &d), CC_ERR_CERTIFICATE);
	free(cert1);
	free(key1);

	/* A trust file must hold CA certificates. */
	assert_int_equal(cc_trust_from_pem(&t, "junk", 4, &d),
	    CC_ERR_CERTIFICATE);
	assert_null(t);
	assert_int_equal(testpki_issue(f->ca, "bup", TESTPKI_P256, 0, &cert1,
	    &key1), 0);
	assert_int_equal(cc_trust_from_pem(&t, cert1, strlen(cert1), &d),
	    CC_ERR_CERTIFICATE);
	free(cert1);
	free(key1);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
load_from_files(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	struct cc_signer *s = NULL;
	struct cc_trust *t = NULL, *t2 = NULL;
	struct cc_batch *b = make_batch();
	char dir[] = "/tmp/cc-test-sign-XXXXXX", cpath[64], kpath[64], capath[64];
	char *cert, *key;

	assert_non_null(mkdtemp(dir));
	snprintf(cpath, sizeof(cpath), "%s/node.crt", dir);
	snprintf(kpath, sizeof(kpath), "%s/node.key", dir);
	snprintf(capath, sizeof(capath), "%s/ca.crt", dir);
	assert_int_equal(testpki_issue(f->ca, "school", TESTPKI_P256, 0, &cert,
	    &key), 0);
	write_file(cpath, cert);
	write_file(kpath, key);
	write_file(capath, f->ca_pem);
	assert_int_equal(cc_signer_load(&s, cpath, kpath, &d), 0);
	assert_int_equal(cc_trust_load(&t, capath, &d), 0);
	assert_int_equal(cc_sign_batch(b, s, &d), 0);
	assert_int_equal(cc_sign_batch_verify(b, t, "school", &d), 0);
	cc_signer_free(s);
	s = NULL;
	assert_int_equal(cc_signer_load(&s, cpath, "/nonexistent/key", &d),
	    CC_ERR_IO);
	assert_int_equal(cc_trust_load(&t2, "/nonexistent/ca", &d), CC_ERR_IO);
	assert_null(t2);
	unlink(cpath);
	unlink(kpath);
	unlink(capath);
	rmdir(dir);
	free(cert);
	sodium_memzero(key, strlen(key));
	free(key);
	cc_trust_free(t);
	cc_batch_free(b);
}

static void
unsigned_batch_does_not_verify(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	struct cc_batch *b = make_batch();

	assert_int_equal(cc_sign_batch_verify(b, f->trust, "bup", &d),
	    CC_ERR_SIGNATURE);
	cc_batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signed_batch_verifies),
		cmocka_unit_test(tampered_batch_fails_signature),
		cmocka_unit_test(replay_with_other_hop_fails),
		cmocka_unit_test(wrong_signer_or_ca_fails_certificate),
		cmocka_unit_test(verify_digest_directly),
		cmocka_unit_test(cert_cn_without_verification),
		cmocka_unit_test(signer_refuses_bad_material),
		cmocka_unit_test(load_from_files),
		cmocka_unit_test(unsigned_batch_does_not_verify),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
