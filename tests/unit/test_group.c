/*
 * Unit tests: the ristretto255 group layer (protocol/group.c) and the
 * known-answer tests (protocol/kat.c), including hostile scalars and
 * elements. SPEC.md section 5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/kat.h"

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t group_order[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
	0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* The generator G (RFC 9496 A.1, 1*G). */
static const char generator_hex[] =
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76";

static void
unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t got = 0;

	assert_int_equal(strlen(hex), 2 * len);
	assert_int_equal(sodium_hex2bin(out, len, hex, 2 * len, NULL, &got, NULL), 0);
	assert_int_equal(got, len);
}

static void
scalar_small(uint8_t s[32], uint8_t v)
{
	memset(s, 0, 32);
	s[0] = v;
}

/* Little-endian s = L + delta (delta small, may be negative). */
static void
scalar_order_plus(uint8_t s[32], int delta)
{
	int carry = delta;
	size_t i;

	for (i = 0; i < 32; i++) {
		int v = group_order[i] + carry;
		s[i] = (uint8_t)(v & 0xff);
		carry = v >> 8;  /* arithmetic shift: -1 for a borrow */
	}
}

static int
group_setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* ---- expand_message_xmd ---- */

static void
xmd_matches_rfc9380_spot_vector(void **state)
{
	static const char dst[] = "QUUX-V01-CS02-with-expander-SHA512-256";
	uint8_t out[32], want[32];

	(void)state;
	unhex(want, sizeof(want),
	    "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc");
	assert_int_equal(cc_expand_message_xmd_sha512(out, sizeof(out),
	    (const uint8_t *)"abc", 3, (const uint8_t *)dst, sizeof(dst) - 1), 0);
	assert_memory_equal(out, want, sizeof(want));
}

static void
xmd_refuses_bad_arguments_and_zeroes_output(void **state)
{
	static const uint8_t dst[] = "dst";
	uint8_t big_dst[256], *out;
	size_t max = 255 * 64;

	(void)state;
	memset(big_dst, 'd', sizeof(big_dst));
	out = malloc(max + 1);
	assert_non_null(out);

	memset(out, 0xaa, max + 1);
	assert_int_equal(cc_expand_message_xmd_sha512(out, max + 1,
	    (const uint8_t *)"m", 1, dst, 3), CC_ERR_INVALID_ARGUMENT);
	assert_true(sodium_is_zero(out, max + 1));
	assert_int_equal(cc_expand_message_xmd_sha512(out, 0,
	    (const uint8_t *)"m", 1, dst, 3), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_expand_message_xmd_sha512(NULL, 32,
	    (const uint8_t *)"m", 1, dst, 3), CC_ERR_INVALID_ARGUMENT);

	memset(out, 0xaa, 32);
	assert_int_equal(cc_expand_message_xmd_sha512(out, 32,
	    (const uint8_t *)"m", 1, dst, 0), CC_ERR_INVALID_ARGUMENT);
	assert_true(sodium_is_zero(out, 32));
	assert_int_equal(cc_expand_message_xmd_sha512(out, 32,
	    (const uint8_t *)"m", 1, NULL, 3), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_expand_message_xmd_sha512(out, 32,
	    (const uint8_t *)"m", 1, big_dst, 256), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_expand_message_xmd_sha512(out, 32,
	    NULL, 5, dst, 3), CC_ERR_INVALID_ARGUMENT);

	/* Boundaries that are allowed. */
	assert_int_equal(cc_expand_message_xmd_sha512(out, 32,
	    (const uint8_t *)"m", 1, big_dst, 255), 0);
	assert_int_equal(cc_expand_message_xmd_sha512(out, 1, NULL, 0, dst, 3), 0);
	assert_int_equal(cc_expand_message_xmd_sha512(out, max, NULL, 0, dst, 3), 0);
	assert_false(sodium_is_zero(out + max - 64, 64));
	free(out);
}

static void
xmd_length_is_bound_into_the_output(void **state)
{
	static const uint8_t dst[] = "crosscount-test";
	uint8_t a[64], b[100];

	(void)state;
	/* len_in_bytes enters b_0, so a shorter output is not a prefix. */
	assert_int_equal(cc_expand_message_xmd_sha512(a, 64,
	    (const uint8_t *)"x", 1, dst, sizeof(dst) - 1), 0);
	assert_int_equal(cc_expand_message_xmd_sha512(b, 100,
	    (const uint8_t *)"x", 1, dst, sizeof(dst) - 1), 0);
	assert_memory_not_equal(a, b, 64);
}

/* ---- hashing to the group and to scalars ---- */

static void
hash_identity_checks_digits_and_separates(void **state)
{
	uint8_t p[32], q[32];

	(void)state;
	assert_int_equal(cc_group_hash_identity(p, "191212121212"), 0);
	assert_int_equal(cc_group_element_check(p), 0);
	assert_int_equal(cc_group_hash_identity(q, "191212121213"), 0);
	assert_memory_not_equal(p, q, 32);

	/* The same as hash_to_element with our DST. */
	assert_int_equal(cc_group_hash_to_element(q,
	    (const uint8_t *)"191212121212", 12,
	    (const uint8_t *)CC_HASH_TO_GROUP_DST,
	    strlen(CC_HASH_TO_GROUP_DST)), 0);
	assert_memory_equal(p, q, 32);

	/* Another DST, another element. */
	assert_int_equal(cc_group_hash_to_element(q,
	    (const uint8_t *)"191212121212", 12,
	    (const uint8_t *)"crosscount-v1-Attribute-ristretto255-SHA512",
	    strlen("crosscount-v1-Attribute-ristretto255-SHA512")), 0);
	assert_memory_not_equal(p, q, 32);

	memset(p, 0xaa, sizeof(p));
	assert_int_equal(cc_group_hash_identity(p, "19121212121x"), CC_ERR_IDENTITY);
	assert_true(sodium_is_zero(p, sizeof(p)));
	assert_int_equal(cc_group_hash_identity(p, "19121212-121"), CC_ERR_IDENTITY);
	assert_int_equal(cc_group_hash_identity(p, "/91212121212"), CC_ERR_IDENTITY);
	assert_int_equal(cc_group_hash_identity(p, ":91212121212"), CC_ERR_IDENTITY);
	assert_int_equal(cc_group_hash_identity(p, NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_group_hash_to_element(p, (const uint8_t *)"x", 1,
	    (const uint8_t *)"", 0), CC_ERR_INVALID_ARGUMENT);
	assert_true(sodium_is_zero(p, sizeof(p)));
}

static void
hash_to_scalar_is_reduced_xmd(void **state)
{
	static const uint8_t dst[] = "HashToScalar-test";
	uint8_t wide[64], s[32], want[32];

	(void)state;
	assert_int_equal(cc_group_hash_to_scalar(s, (const uint8_t *)"msg", 3,
	    dst, sizeof(dst) - 1), 0);
	assert_int_equal(cc_expand_message_xmd_sha512(wide, 64,
	    (const uint8_t *)"msg", 3, dst, sizeof(dst) - 1), 0);
	crypto_core_ristretto255_scalar_reduce(want, wide);
	assert_memory_equal(s, want, 32);
	assert_int_equal(cc_group_scalar_check(s), 0);
	assert_int_equal(cc_group_hash_to_scalar(s, (const uint8_t *)"msg", 3,
	    dst, 0), CC_ERR_INVALID_ARGUMENT);
	assert_true(sodium_is_zero(s, 32));
}

/* ---- scalars ---- */

static void
scalar_check_refuses_non_canonical_and_zero(void **state)
{
	uint8_t s[32];

	(void)state;
	memset(s, 0, sizeof(s));
	assert_int_equal(cc_group_scalar_check(s), CC_ERR_SCALAR);       /* 0 */
	scalar_order_plus(s, 0);
	assert_int_equal(cc_group_scalar_check(s), CC_ERR_SCALAR);       /* L */
	scalar_order_plus(s, 1);
	assert_int_equal(cc_group_scalar_check(s), CC_ERR_SCALAR);       /* L+1 */
	scalar_order_plus(s, 0x20);
	assert_int_equal(cc_group_scalar_check(s), CC_ERR_SCALAR);       /* carries */
	memset(s, 0xff, sizeof(s));
	assert_int_equal(cc_group_scalar_check(s), CC_ERR_SCALAR);       /* 2^256-1 */
	s[31] = 0x7f;
	assert_int_equal(cc_group_scalar_check(s), CC_ERR_SCALAR);       /* 2^255-1 */
	memset(s, 0, sizeof(s));
	s[31] = 0x20;
	assert_int_equal(cc_group_scalar_check(s), CC_ERR_SCALAR);       /* 2^253 */
	assert_int_equal(cc_group_scalar_check(NULL), CC_ERR_SCALAR);

	scalar_order_plus(s, -1);
	assert_int_equal(cc_group_scalar_check(s), 0);                   /* L-1 */
	scalar_small(s, 1);
	assert_int_equal(cc_group_scalar_check(s), 0);
	memset(s, 0, sizeof(s));
	s[31] = 0x10;  /* 2^252 < L */
	assert_int_equal(cc_group_scalar_check(s), 0);
}

static void
scalar_invert_and_mul(void **state)
{
	uint8_t s[32], inv[32], prod[32], one[32];
	int i;

	(void)state;
	scalar_small(one, 1);
	for (i = 0; i < 32; i++) {
		cc_group_scalar_random(s);
		assert_int_equal(cc_group_scalar_check(s), 0);
		assert_int_equal(cc_group_scalar_invert(inv, s), 0);
		cc_group_scalar_mul(prod, s, inv);
		assert_memory_equal(prod, one, 32);
		/* In place: inv = inv * s. */
		cc_group_scalar_mul(inv, inv, s);
		assert_memory_equal(inv, one, 32);
		/* s = s^-1 in place, then back. */
		assert_int_equal(cc_group_scalar_invert(prod, s), 0);
		assert_int_equal(cc_group_scalar_invert(s, s), 0);
		assert_memory_equal(s, prod, 32);
	}

	memset(inv, 0xaa, sizeof(inv));
	memset(s, 0, sizeof(s));
	assert_int_equal(cc_group_scalar_invert(inv, s), CC_ERR_SCALAR);
	assert_true(sodium_is_zero(inv, 32));
	scalar_order_plus(s, 0);
	assert_int_equal(cc_group_scalar_invert(inv, s), CC_ERR_SCALAR);
	scalar_order_plus(s, 1);  /* L+1 would invert to 1 if reduced first */
	assert_int_equal(cc_group_scalar_invert(inv, s), CC_ERR_SCALAR);
	assert_int_equal(cc_group_scalar_invert(NULL, one), CC_ERR_INVALID_ARGUMENT);
}

/* ---- elements ---- */

static void
element_check_refuses_identity_and_bad_encodings(void **state)
{
	/* A few of RFC 9496 A.2 (all of them run in the KAT). */
	static const char *const bad[] = {
		"00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
		"3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	};
	uint8_t p[32], g[32];
	size_t i;

	(void)state;
	unhex(g, 32, generator_hex);
	assert_int_equal(cc_group_element_check(g), 0);
	/* libsodium's own check accepts the identity; ours must not. */
	memset(p, 0, sizeof(p));
	assert_int_equal(crypto_core_ristretto255_is_valid_point(p), 1);
	assert_int_equal(cc_group_element_check(p), CC_ERR_POINT);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unhex(p, 32, bad[i]);
		assert_int_equal(cc_group_element_check(p), CC_ERR_POINT);
	}
	/*
	 * The top bit set on a valid encoding is a value >= 2^255 > p, so not
	 * canonical; libsodium 1.0.18 alone would accept it as G.
	 */
	memcpy(p, g, 32);
	p[31] |= 0x80;
	assert_int_equal(cc_group_element_check(p), CC_ERR_POINT);
	for (i = 0; i < 16; i++) {
		cc_group_element_random(p);
		p[31] |= 0x80;
		assert_int_equal(cc_group_element_check(p), CC_ERR_POINT);
	}
	assert_int_equal(cc_group_element_check(NULL), CC_ERR_POINT);
}

static void
mult_validates_and_never_returns_identity(void **state)
{
	uint8_t g[32], p[32], q[32], s[32], sum[32];

	(void)state;
	unhex(g, 32, generator_hex);

	/* (L-1) * G = -G: valid, and G + (-G) is the identity. */
	scalar_order_plus(s, -1);
	assert_int_equal(cc_group_mult(p, s, g), 0);
	assert_int_equal(cc_group_element_check(p), 0);
	assert_int_equal(crypto_core_ristretto255_add(sum, g, p), 0);
	assert_true(sodium_is_zero(sum, 32));

	/* The identity in: refused, output zeroed. */
	memset(q, 0, sizeof(q));
	memset(p, 0xaa, sizeof(p));
	scalar_small(s, 7);
	assert_int_equal(cc_group_mult(p, s, q), CC_ERR_POINT);
	assert_true(sodium_is_zero(p, 32));

	/* Scalars that would make the identity (L) or wrap are refused. */
	scalar_order_plus(s, 0);
	memset(p, 0xaa, sizeof(p));
	assert_int_equal(cc_group_mult(p, s, g), CC_ERR_SCALAR);
	assert_true(sodium_is_zero(p, 32));
	scalar_order_plus(s, 1);
	assert_int_equal(cc_group_mult(p, s, g), CC_ERR_SCALAR);
	memset(s, 0xff, sizeof(s));
	s[31] = 0x7f;
	assert_int_equal(cc_group_mult(p, s, g), CC_ERR_SCALAR);
	memset(s, 0, sizeof(s));
	assert_int_equal(cc_group_mult(p, s, g), CC_ERR_SCALAR);

	/* Invalid elements: not an encoding; G with bit 255 set. */
	scalar_small(s, 1);
	memset(q, 0xff, sizeof(q));
	assert_int_equal(cc_group_mult(p, s, q), CC_ERR_POINT);
	memcpy(q, g, 32);
	q[31] |= 0x80;
	assert_int_equal(cc_group_mult(p, s, q), CC_ERR_POINT);
	assert_int_equal(cc_group_mult(p, s, NULL), CC_ERR_POINT);
	assert_int_equal(cc_group_mult(NULL, s, g), CC_ERR_INVALID_ARGUMENT);

	/* In place, and s * s^-1 = 1. */
	cc_group_scalar_random(s);
	memcpy(p, g, 32);
	assert_int_equal(cc_group_mult(p, s, p), 0);
	assert_memory_not_equal(p, g, 32);
	assert_int_equal(cc_group_scalar_invert(s, s), 0);
	assert_int_equal(cc_group_mult(p, s, p), 0);
	assert_memory_equal(p, g, 32);
}

static void
mult_commutes_over_keys(void **state)
{
	uint8_t h[32], a[32], b[32], k1[32], k2[32], k3[32], k[32];

	(void)state;
	assert_int_equal(cc_group_hash_identity(h, "201503042382"), 0);
	cc_group_scalar_random(k1);
	cc_group_scalar_random(k2);
	cc_group_scalar_random(k3);
	assert_int_equal(cc_group_mult(a, k1, h), 0);
	assert_int_equal(cc_group_mult(a, k2, a), 0);
	assert_int_equal(cc_group_mult(a, k3, a), 0);
	assert_int_equal(cc_group_mult(b, k3, h), 0);
	assert_int_equal(cc_group_mult(b, k1, b), 0);
	assert_int_equal(cc_group_mult(b, k2, b), 0);
	assert_memory_equal(a, b, 32);
	cc_group_scalar_mul(k, k1, k2);
	cc_group_scalar_mul(k, k, k3);
	assert_int_equal(cc_group_mult(b, k, h), 0);
	assert_memory_equal(a, b, 32);
}

static void
random_values_are_valid(void **state)
{
	uint8_t s[32], p[32], q[32];
	int i;

	(void)state;
	for (i = 0; i < 64; i++) {
		cc_group_scalar_random(s);
		assert_int_equal(cc_group_scalar_check(s), 0);
		cc_group_element_random(p);
		assert_int_equal(cc_group_element_check(p), 0);
	}
	cc_group_element_random(q);
	assert_memory_not_equal(p, q, 32);
}

/* ---- many at once ---- */

#define MANY 600
#define STRIDE 96

static void
mult_many_matches_one_by_one(void **state)
{
	static const unsigned thread_counts[] = { 0, 1, 2, 7 };
	uint8_t *buf, *ref, s[32];
	size_t i, t, bad = 99;

	(void)state;
	buf = malloc(MANY * STRIDE);
	ref = malloc(MANY * STRIDE);
	assert_non_null(buf);
	assert_non_null(ref);
	for (t = 0; t < sizeof(thread_counts) / sizeof(thread_counts[0]); t++) {
		randombytes_buf(buf, MANY * STRIDE);
		for (i = 0; i < MANY; i++)
			cc_group_element_random(buf + i * STRIDE + 32);
		memcpy(ref, buf, MANY * STRIDE);
		cc_group_scalar_random(s);
		assert_int_equal(cc_group_mult_many(buf + 32, MANY, STRIDE, s,
		    thread_counts[t], &bad), 0);
		assert_int_equal(bad, 0);
		for (i = 0; i < MANY; i++) {
			uint8_t *want = ref + i * STRIDE + 32;

			assert_int_equal(cc_group_mult(want, s, want), 0);
		}
		/* Elements changed, bytes around them untouched. */
		assert_memory_equal(buf, ref, MANY * STRIDE);
	}
	free(buf);
	free(ref);
}

static void
mult_many_reports_the_first_bad_element(void **state)
{
	uint8_t *buf, s[32];
	size_t i, bad = 0;

	(void)state;
	buf = malloc(MANY * 32);
	assert_non_null(buf);
	for (i = 0; i < MANY; i++)
		cc_group_element_random(buf + i * 32);
	memset(buf + 500 * 32, 0, 32);      /* identity */
	memset(buf + 550 * 32, 0xff, 32);   /* not an encoding */
	memset(buf + 599 * 32, 0, 32);
	cc_group_scalar_random(s);
	assert_int_equal(cc_group_mult_many(buf, MANY, 32, s, 2, &bad),
	    CC_ERR_POINT);
	assert_int_equal(bad, 500);
	buf[100 * 32 + 31] |= 0x80;         /* bit 255 on a valid element */
	assert_int_equal(cc_group_mult_many(buf, MANY, 32, s, 0, &bad),
	    CC_ERR_POINT);
	assert_int_equal(bad, 100);
	assert_int_equal(cc_group_mult_many(buf, MANY, 32, s, 1, NULL),
	    CC_ERR_POINT);

	/* A bad scalar touches nothing. */
	for (i = 0; i < MANY; i++)
		cc_group_element_random(buf + i * 32);
	{
		uint8_t copy[64];

		memcpy(copy, buf, sizeof(copy));
		scalar_order_plus(s, 0);
		assert_int_equal(cc_group_mult_many(buf, MANY, 32, s, 0, &bad),
		    CC_ERR_SCALAR);
		memset(s, 0, sizeof(s));
		assert_int_equal(cc_group_mult_many(buf, MANY, 32, s, 0, &bad),
		    CC_ERR_SCALAR);
		assert_memory_equal(copy, buf, sizeof(copy));
	}

	/* Shapes that cannot be right. */
	cc_group_scalar_random(s);
	assert_int_equal(cc_group_mult_many(buf, MANY, 31, s, 0, &bad),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_group_mult_many(NULL, 1, 32, s, 0, &bad),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_group_mult_many(buf, SIZE_MAX / 32 + 2, 32, s, 0,
	    &bad), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_group_mult_many(buf, 0, 32, s, 0, &bad), 0);
	assert_int_equal(cc_group_mult_many(NULL, 0, 32, s, 0, NULL), 0);
	free(buf);
}

/* ---- known-answer tests ---- */

struct kat_seen {
	size_t count;
	size_t rfc9380, rfc9496, rfc9497, own;
	char first_failure[128];
};

static void
kat_collect(void *ctx, const char *name, bool passed)
{
	struct kat_seen *seen = ctx;

	seen->count++;
	if (strncmp(name, "RFC 9380", 8) == 0)
		seen->rfc9380++;
	else if (strncmp(name, "RFC 9496", 8) == 0)
		seen->rfc9496++;
	else if (strncmp(name, "RFC 9497", 8) == 0)
		seen->rfc9497++;
	else if (strncmp(name, "crosscount v1", 13) == 0)
		seen->own++;
	if (!passed && seen->first_failure[0] == '\0')
		snprintf(seen->first_failure, sizeof(seen->first_failure), "%s", name);
}

static void
kat_every_vector_passes(void **state)
{
	struct kat_seen seen;
	struct cc_kat_report rep;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	memset(&rep, 0, sizeof(rep));
	rep.on_result = kat_collect;
	rep.ctx = &seen;
	if (cc_kat_run(&rep) != 0)
		fail_msg("KAT failed: %s (%zu failed)", seen.first_failure, rep.failed);
	assert_int_equal(rep.failed, 0);
	assert_int_equal(rep.passed, seen.count);
	/* Nothing silently dropped: K.3 has 10, A.1 16 + A.2 29 + A.3 11,
	 * A.1.1 is DeriveKeyPair + 2 x 3 steps. */
	assert_int_equal(seen.rfc9380, 10);
	assert_int_equal(seen.rfc9496, 16 + 29 + 11);
	assert_int_equal(seen.rfc9497, 7);
	assert_true(seen.own >= 30);
	assert_int_equal(seen.count, seen.rfc9380 + seen.rfc9496 + seen.rfc9497 +
	    seen.own);
	assert_int_equal(cc_kat_run(NULL), CC_ERR_INVALID_ARGUMENT);
}

static void
kat_vectors_equal_the_committed_file(void **state)
{
	char *json = NULL, *file = NULL;
	size_t len = 0, file_len;
	FILE *f;

	(void)state;
	assert_int_equal(cc_kat_vectors_json(&json, &len), 0);
	assert_non_null(json);
	assert_int_equal(strlen(json), len);
	assert_true(len > 0 && json[len - 1] == '\n');

	f = fopen(CC_SOURCE_ROOT "/protocol/vectors/v1.json", "rb");
	assert_non_null(f);
	file = malloc(len + 2);
	assert_non_null(file);
	file_len = fread(file, 1, len + 1, f);
	fclose(f);
	assert_int_equal(file_len, len);
	assert_memory_equal(file, json, len);
	free(file);
	free(json);
	assert_int_equal(cc_kat_vectors_json(NULL, NULL), CC_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xmd_matches_rfc9380_spot_vector),
		cmocka_unit_test(xmd_refuses_bad_arguments_and_zeroes_output),
		cmocka_unit_test(xmd_length_is_bound_into_the_output),
		cmocka_unit_test(hash_identity_checks_digits_and_separates),
		cmocka_unit_test(hash_to_scalar_is_reduced_xmd),
		cmocka_unit_test(scalar_check_refuses_non_canonical_and_zero),
		cmocka_unit_test(scalar_invert_and_mul),
		cmocka_unit_test(element_check_refuses_identity_and_bad_encodings),
		cmocka_unit_test(mult_validates_and_never_returns_identity),
		cmocka_unit_test(mult_commutes_over_keys),
		cmocka_unit_test(random_values_are_valid),
		cmocka_unit_test(mult_many_matches_one_by_one),
		cmocka_unit_test(mult_many_reports_the_first_bad_element),
		cmocka_unit_test(kat_every_vector_passes),
		cmocka_unit_test(kat_vectors_equal_the_committed_file),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
