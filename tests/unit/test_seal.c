/* Unit tests: attribute values and ElGamal sealing (protocol/seal.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/limits.h"
#include "protocol/seal.h"

static void
decoder_accepts_exactly_the_valid_values(void **state)
{
	uint8_t v[4] = { 0 }, back[4];
	struct cc_attr a;
	unsigned f, age, sex, accepted = 0, dummies = 0;

	(void)state;
	/* Every combination of the first three bytes, byte 3 zero. */
	for (f = 0; f < 256; f++) {
		for (age = 0; age < 256; age++) {
			for (sex = 0; sex < 256; sex++) {
				v[0] = (uint8_t)f;
				v[1] = (uint8_t)age;
				v[2] = (uint8_t)sex;
				if (cc_attr_decode(&a, v) != 0) {
					assert_false(a.dummy);
					assert_int_equal(a.age_band, 0);
					continue;
				}
				accepted++;
				assert_true(f <= 1);
				assert_true(sex <= 2);
				assert_true(age < CC_LIMIT_AGE_BANDS || age == 0xFF);
				if (a.dummy) {
					dummies++;
					assert_int_equal(age, 0xFF);
					assert_int_equal(sex, 0);
				}
				assert_int_equal(cc_attr_encode(back, &a), 0);
				assert_memory_equal(back, v, 4);
			}
		}
	}
	assert_int_equal(dummies, 1);
	assert_int_equal(accepted, (CC_LIMIT_AGE_BANDS + 1) * 3 + 1);

	/* Byte 3 must be zero. */
	v[0] = 0;
	v[1] = 0;
	v[2] = 1;
	v[3] = 0;
	assert_int_equal(cc_attr_decode(&a, v), 0);
	v[3] = 1;
	assert_int_equal(cc_attr_decode(&a, v), CC_ERR_FORMAT);
}

static void
encoder_refuses_invalid_values(void **state)
{
	uint8_t v[4];
	struct cc_attr a = { .dummy = false, .age_band = 3, .sex = 3 };
	struct cc_attr d = cc_attr_dummy();

	(void)state;
	assert_int_equal(cc_attr_encode(v, &a), CC_ERR_INVALID_ARGUMENT);
	a.sex = 2;
	a.age_band = CC_LIMIT_AGE_BANDS;
	assert_int_equal(cc_attr_encode(v, &a), CC_ERR_INVALID_ARGUMENT);
	d.sex = 1;
	assert_int_equal(cc_attr_encode(v, &d), CC_ERR_INVALID_ARGUMENT);
	d = cc_attr_dummy();
	assert_int_equal(cc_attr_encode(v, &d), 0);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 0xFF);
	assert_int_equal(v[2], 0);
	assert_int_equal(v[3], 0);
}

static void
enumeration_is_in_ascending_byte_order(void **state)
{
	struct cc_attr vals[CC_LIMIT_BATCH_REFS];
	struct cc_attr_shape shapes[] = { { 0, false }, { 0, true },
	    { 1, false }, { 3, true }, { CC_LIMIT_AGE_BANDS, true } };
	uint8_t prev[4], cur[4];
	size_t n, i, k;

	(void)state;
	for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		assert_int_equal(cc_attr_enumerate(vals, CC_LIMIT_BATCH_REFS, &n,
		    &shapes[k]), 0);
		assert_int_equal(n, cc_attr_shape_count(&shapes[k]));
		assert_int_equal(n, (shapes[k].age_bands ? shapes[k].age_bands :
		    1) * (shapes[k].sex ? 2 : 1) + 1);
		assert_true(n <= CC_LIMIT_BATCH_REFS);
		assert_true(vals[n - 1].dummy);
		for (i = 0; i < n; i++) {
			assert_int_equal(cc_attr_encode(cur, &vals[i]), 0);
			if (i > 0)
				assert_true(memcmp(prev, cur, 4) < 0);
			memcpy(prev, cur, 4);
			if (i + 1 < n)
				assert_int_equal(cc_attr_in_shape(&vals[i],
				    &shapes[k]), 0);
		}
	}
	/* No breakdown: one real value 00 FF 00 00 and the dummy. */
	assert_int_equal(cc_attr_enumerate(vals, 2, &n, &shapes[0]), 0);
	assert_int_equal(n, 2);
	assert_false(vals[0].dummy);
	assert_int_equal(vals[0].age_band, 0xFF);
	assert_int_equal(vals[0].sex, 0);
	/* 3 bands by sex: (0,F) (0,M) (1,F) ... */
	assert_int_equal(cc_attr_enumerate(vals, 7, &n, &shapes[3]), 0);
	assert_int_equal(vals[1].age_band, 0);
	assert_int_equal(vals[1].sex, CC_ATTR_SEX_MALE);
	assert_int_equal(vals[2].age_band, 1);
	assert_int_equal(vals[2].sex, CC_ATTR_SEX_FEMALE);
	assert_int_equal(cc_attr_enumerate(vals, 6, &n, &shapes[3]),
	    CC_ERR_LIMIT);
	assert_int_equal(n, 0);
}

static void
shape_bounds(void **state)
{
	struct cc_attr_shape bad = { CC_LIMIT_AGE_BANDS + 1, false };
	struct cc_attr_shape s = { 2, false };
	struct cc_attr vals[CC_LIMIT_BATCH_REFS];
	struct cc_attr a = { false, 2, 0 };
	size_t n = 9;

	(void)state;
	assert_int_equal(cc_attr_shape_check(&bad), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_attr_shape_count(&bad), 0);
	assert_int_equal(cc_attr_enumerate(vals, CC_LIMIT_BATCH_REFS, &n, &bad),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(n, 0);
	/* Band 2 of 2 bands is out; sex without sex breakdown is out. */
	assert_int_equal(cc_attr_in_shape(&a, &s), CC_ERR_INVALID_ARGUMENT);
	a.age_band = 1;
	assert_int_equal(cc_attr_in_shape(&a, &s), 0);
	a.sex = 1;
	assert_int_equal(cc_attr_in_shape(&a, &s), CC_ERR_INVALID_ARGUMENT);
	a = cc_attr_dummy();
	assert_int_equal(cc_attr_in_shape(&a, &s), CC_ERR_INVALID_ARGUMENT);
	a.dummy = false;
	assert_int_equal(cc_attr_in_shape(&a, &s), CC_ERR_INVALID_ARGUMENT);
}

static void
key_pair(void **state)
{
	struct cc_seal_key *k = NULL, *k2 = NULL;
	uint8_t y[32], y2[32], pub[32], pub2[32], zero[32] = { 0 };

	(void)state;
	assert_int_equal(cc_seal_key_generate(&k), 0);
	cc_seal_key_secret(k, y);
	cc_seal_key_public(k, pub);
	assert_int_equal(cc_group_scalar_check(y), 0);
	assert_int_equal(crypto_scalarmult_ristretto255_base(pub2, y), 0);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(cc_seal_key_from_secret(&k2, y), 0);
	cc_seal_key_secret(k2, y2);
	assert_memory_equal(y, y2, 32);
	cc_seal_key_free(k2);
	k2 = (struct cc_seal_key *)1;
	assert_int_equal(cc_seal_key_from_secret(&k2, zero), CC_ERR_SCALAR);
	assert_null(k2);
	cc_seal_key_free(k);
	cc_seal_key_free(NULL);
}

static void
seal_scale_open(void **state)
{
	struct cc_seal_key *k = NULL, *other = NULL;
	struct cc_attr a = { false, 4, CC_ATTR_SEX_FEMALE };
	uint8_t pub[32], v[4], m[32], rm[32], out[32];
	uint8_t b1[64], b2[64], r1[32], r2[32], rr[32];

	(void)state;
	assert_int_equal(cc_seal_key_generate(&k), 0);
	assert_int_equal(cc_seal_key_generate(&other), 0);
	cc_seal_key_public(k, pub);
	assert_int_equal(cc_attr_encode(v, &a), 0);
	assert_int_equal(cc_attr_element(m, v), 0);

	assert_int_equal(cc_seal_attr(b1, &a, pub), 0);
	assert_int_equal(cc_seal_attr(b2, &a, pub), 0);
	/* Fresh k: two seals of one value share no half. */
	assert_memory_not_equal(b1, b2, 32);
	assert_memory_not_equal(b1 + 32, b2 + 32, 32);
	assert_int_equal(cc_seal_open(out, k, b1), 0);
	assert_memory_equal(out, m, 32);
	assert_int_equal(cc_seal_open(out, other, b1), 0);
	assert_memory_not_equal(out, m, 32);

	/* Scaling by r1 then r2 opens to r1*r2*M_v. */
	cc_group_scalar_random(r1);
	cc_group_scalar_random(r2);
	memcpy(b2, b1, 64);
	assert_int_equal(cc_seal_scale(b1, r1), 0);
	assert_memory_not_equal(b1, b2, 32);
	assert_memory_not_equal(b1 + 32, b2 + 32, 32);
	assert_int_equal(cc_seal_scale(b1, r2), 0);
	cc_group_scalar_mul(rr, r1, r2);
	assert_int_equal(cc_group_mult(rm, rr, m), 0);
	assert_int_equal(cc_seal_open(out, k, b1), 0);
	assert_memory_equal(out, rm, 32);
	cc_seal_key_free(k);
	cc_seal_key_free(other);
}

static void
seal_and_open_refuse_bad_elements(void **state)
{
	struct cc_seal_key *k = NULL;
	struct cc_attr a = { false, 0xFF, 0 };
	uint8_t pub[32], block[64], out[32], y[32], zero[32] = { 0 };
	uint8_t bad[32], s[32];

	(void)state;
	assert_int_equal(cc_seal_key_generate(&k), 0);
	cc_seal_key_public(k, pub);
	memset(bad, 0xff, sizeof(bad));
	assert_int_equal(cc_seal_attr(block, &a, zero), CC_ERR_POINT);
	assert_int_equal(cc_seal_attr(block, &a, bad), CC_ERR_POINT);
	assert_true(sodium_is_zero(block, 64));
	assert_int_equal(cc_seal_element(block, zero, pub), CC_ERR_POINT);

	assert_int_equal(cc_seal_attr(block, &a, pub), 0);
	memcpy(block, zero, 32);
	assert_int_equal(cc_seal_open(out, k, block), CC_ERR_POINT);
	assert_int_equal(cc_seal_attr(block, &a, pub), 0);
	memcpy(block + 32, bad, 32);
	assert_int_equal(cc_seal_open(out, k, block), CC_ERR_POINT);
	cc_group_scalar_random(s);
	assert_int_equal(cc_seal_scale(block, s), CC_ERR_POINT);

	/* B = y*A opens to the identity: refused. */
	cc_seal_key_secret(k, y);
	cc_group_element_random(block);
	assert_int_equal(cc_group_mult(block + 32, y, block), 0);
	assert_int_equal(cc_seal_open(out, k, block), CC_ERR_DECRYPT);
	assert_true(sodium_is_zero(out, 32));
	sodium_memzero(y, sizeof(y));
	cc_seal_key_free(k);
}

static void
references_check_and_lookup(void **state)
{
	struct cc_attr_shape shape = { 2, true };
	struct cc_attr_shape other = { 3, true };
	struct cc_attr vals[CC_LIMIT_BATCH_REFS], got;
	struct cc_seal_key *k = NULL;
	struct cc_diag d = { { 0 } };
	uint8_t refs[CC_LIMIT_BATCH_REFS * CC_ATTR_REF_BYTES];
	uint8_t tmp[CC_ATTR_REF_BYTES * 2];
	uint8_t pub[32], block[64], m[32];
	size_t n = 0, nv = 0, i;

	(void)state;
	assert_int_equal(cc_attr_refs_origin(refs, 4, &n, &shape), CC_ERR_LIMIT);
	assert_int_equal(cc_attr_refs_origin(refs, CC_LIMIT_BATCH_REFS, &n,
	    &shape), 0);
	assert_int_equal(n, 5);
	assert_int_equal(cc_attr_refs_check(refs, n, &shape, &d), 0);
	assert_int_equal(cc_attr_refs_check(refs, n, &other, &d), CC_ERR_FORMAT);
	assert_int_equal(cc_attr_refs_check(refs, n - 1, &shape, &d),
	    CC_ERR_FORMAT);

	/* Every sealed value opens and is found again. */
	assert_int_equal(cc_seal_key_generate(&k), 0);
	cc_seal_key_public(k, pub);
	assert_int_equal(cc_attr_enumerate(vals, CC_LIMIT_BATCH_REFS, &nv,
	    &shape), 0);
	for (i = 0; i < nv; i++) {
		assert_int_equal(cc_seal_attr(block, &vals[i], pub), 0);
		assert_int_equal(cc_seal_open(m, k, block), 0);
		assert_int_equal(cc_attr_refs_lookup(&got, refs, n, m), 0);
		assert_int_equal(got.dummy, vals[i].dummy);
		assert_int_equal(got.age_band, vals[i].age_band);
		assert_int_equal(got.sex, vals[i].sex);
	}
	cc_group_element_random(m);
	assert_int_equal(cc_attr_refs_lookup(&got, refs, n, m), CC_ERR_DECRYPT);

	/* Swapped entries: out of order. */
	memcpy(tmp, refs, sizeof(tmp));
	memcpy(refs, tmp + CC_ATTR_REF_BYTES, CC_ATTR_REF_BYTES);
	memcpy(refs + CC_ATTR_REF_BYTES, tmp, CC_ATTR_REF_BYTES);
	assert_int_equal(cc_attr_refs_check(refs, n, &shape, &d), CC_ERR_FORMAT);
	memcpy(refs, tmp, sizeof(tmp));
	/* Two equal elements. */
	memcpy(refs + CC_ATTR_REF_BYTES + 4, refs + 4, 32);
	assert_int_equal(cc_attr_refs_check(refs, n, &shape, &d), CC_ERR_FORMAT);
	assert_non_null(strstr(d.text, "equal"));
	/* An identity element. */
	memset(refs + CC_ATTR_REF_BYTES + 4, 0, 32);
	assert_int_equal(cc_attr_refs_check(refs, n, &shape, &d), CC_ERR_FORMAT);
	cc_seal_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decoder_accepts_exactly_the_valid_values),
		cmocka_unit_test(encoder_refuses_invalid_values),
		cmocka_unit_test(enumeration_is_in_ascending_byte_order),
		cmocka_unit_test(shape_bounds),
		cmocka_unit_test(key_pair),
		cmocka_unit_test(seal_scale_open),
		cmocka_unit_test(seal_and_open_refuse_bad_elements),
		cmocka_unit_test(references_check_and_lookup),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
