/*
 * crosscount: attribute sealing, ElGamal on ristretto255 (see seal.h).
 * SPEC.md section 5.6.
 */
#include "protocol/seal.h"

#include <string.h>

#include <sodium.h>

#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/limits.h"

/* The aggregator's key pair, in sodium_malloc'd memory. */
struct cc_seal_key {
	uint8_t y[CC_SCALAR_BYTES];
	uint8_t y_pub[CC_ELEMENT_BYTES];
};

struct cc_attr
cc_attr_dummy(void)
{
	struct cc_attr a = { .dummy = true, .age_band = CC_ATTR_AGE_NONE,
	    .sex = CC_ATTR_SEX_NONE };

	return a;
}

/* The value rules of SPEC 5.6, shared by encode and decode. */
static bool
attr_valid(const struct cc_attr *a)
{
	if (a->dummy)
		return a->age_band == CC_ATTR_AGE_NONE &&
		    a->sex == CC_ATTR_SEX_NONE;
	if (a->sex > CC_ATTR_SEX_MALE)
		return false;
	return a->age_band < CC_LIMIT_AGE_BANDS ||
	    a->age_band == CC_ATTR_AGE_NONE;
}

int
cc_attr_encode(uint8_t ret_v[CC_ATTR_BYTES], const struct cc_attr *a)
{
	memset(ret_v, 0, CC_ATTR_BYTES);
	if (a == NULL || !attr_valid(a))
		return CC_ERR_INVALID_ARGUMENT;
	ret_v[0] = a->dummy ? CC_ATTR_FLAG_DUMMY : 0;
	ret_v[1] = a->age_band;
	ret_v[2] = a->sex;
	ret_v[3] = 0;
	return 0;
}

int
cc_attr_decode(struct cc_attr *ret_a, const uint8_t v[CC_ATTR_BYTES])
{
	struct cc_attr a;

	memset(ret_a, 0, sizeof(*ret_a));
	if ((v[0] & ~CC_ATTR_FLAG_DUMMY) != 0 || v[3] != 0)
		return CC_ERR_FORMAT;
	a.dummy = (v[0] & CC_ATTR_FLAG_DUMMY) != 0;
	a.age_band = v[1];
	a.sex = v[2];
	if (!attr_valid(&a))
		return CC_ERR_FORMAT;
	*ret_a = a;
	return 0;
}

int
cc_attr_element(uint8_t ret_m[CC_ELEMENT_BYTES], const uint8_t v[CC_ATTR_BYTES])
{
	struct cc_attr a;
	int r;

	memset(ret_m, 0, CC_ELEMENT_BYTES);
	if ((r = cc_attr_decode(&a, v)) != 0)
		return r;
	return cc_group_hash_to_element(ret_m, v, CC_ATTR_BYTES,
	    (const uint8_t *)CC_ATTR_DST, sizeof(CC_ATTR_DST) - 1);
}

int
cc_attr_shape_check(const struct cc_attr_shape *shape)
{
	if (shape == NULL || shape->age_bands > CC_LIMIT_AGE_BANDS)
		return CC_ERR_INVALID_ARGUMENT;
	return 0;
}

int
cc_attr_in_shape(const struct cc_attr *a, const struct cc_attr_shape *shape)
{
	if (a == NULL || cc_attr_shape_check(shape) != 0 || a->dummy)
		return CC_ERR_INVALID_ARGUMENT;
	if (shape->age_bands == 0) {
		if (a->age_band != CC_ATTR_AGE_NONE)
			return CC_ERR_INVALID_ARGUMENT;
	} else if (a->age_band >= shape->age_bands)
		return CC_ERR_INVALID_ARGUMENT;
	if (shape->sex) {
		if (a->sex != CC_ATTR_SEX_FEMALE && a->sex != CC_ATTR_SEX_MALE)
			return CC_ERR_INVALID_ARGUMENT;
	} else if (a->sex != CC_ATTR_SEX_NONE)
		return CC_ERR_INVALID_ARGUMENT;
	return 0;
}

size_t
cc_attr_shape_count(const struct cc_attr_shape *shape)
{
	size_t ages;

	if (cc_attr_shape_check(shape) != 0)
		return 0;
	ages = shape->age_bands == 0 ? 1 : shape->age_bands;
	return ages * (shape->sex ? 2 : 1) + 1;
}

/*
 * SPEC 5.6 reference order: ascending bytewise order of the encodings.
 * Real values have flags 0 and sort by age band then sex; the dummy
 * (flags 1) comes last.
 */
int
cc_attr_enumerate(struct cc_attr *ret_values, size_t max, size_t *ret_n,
    const struct cc_attr_shape *shape)
{
	size_t n, i = 0;
	unsigned age, ages, sex;

	*ret_n = 0;
	if ((n = cc_attr_shape_count(shape)) == 0)
		return CC_ERR_INVALID_ARGUMENT;
	if (n > max)
		return CC_ERR_LIMIT;
	ages = shape->age_bands == 0 ? 1 : shape->age_bands;
	for (age = 0; age < ages; age++) {
		for (sex = shape->sex ? CC_ATTR_SEX_FEMALE : CC_ATTR_SEX_NONE;
		    sex <= (shape->sex ? CC_ATTR_SEX_MALE : CC_ATTR_SEX_NONE);
		    sex++) {
			ret_values[i].dummy = false;
			ret_values[i].age_band = shape->age_bands == 0 ?
			    CC_ATTR_AGE_NONE : (uint8_t)age;
			ret_values[i].sex = (uint8_t)sex;
			i++;
		}
	}
	ret_values[i++] = cc_attr_dummy();
	*ret_n = i;
	return 0;
}

int
cc_attr_refs_origin(uint8_t *ret_refs, size_t max_entries, size_t *ret_n,
    const struct cc_attr_shape *shape)
{
	struct cc_attr values[CC_LIMIT_BATCH_REFS];
	size_t n = 0, i;
	uint8_t *e;
	int r;

	*ret_n = 0;
	if ((r = cc_attr_enumerate(values, CC_LIMIT_BATCH_REFS, &n, shape)) != 0)
		return r;
	if (n > max_entries)
		return CC_ERR_LIMIT;
	for (i = 0; i < n; i++) {
		e = ret_refs + i * CC_ATTR_REF_BYTES;
		if ((r = cc_attr_encode(e, &values[i])) != 0 ||
		    (r = cc_attr_element(e + CC_ATTR_BYTES, e)) != 0)
			return r;
	}
	*ret_n = n;
	return 0;
}

int
cc_seal_key_generate(struct cc_seal_key **ret_key)
{
	uint8_t y[CC_SCALAR_BYTES];
	int r;

	*ret_key = NULL;
	if (sodium_init() < 0)
		return CC_ERR_CRYPTO;
	cc_group_scalar_random(y);
	r = cc_seal_key_from_secret(ret_key, y);
	sodium_memzero(y, sizeof(y));
	return r;
}

int
cc_seal_key_from_secret(struct cc_seal_key **ret_key,
    const uint8_t y[CC_SCALAR_BYTES])
{
	struct cc_seal_key *k = NULL;
	int r = CC_ERR_INTERNAL;

	*ret_key = NULL;
	if (sodium_init() < 0) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	if ((r = cc_group_scalar_check(y)) != 0)
		goto out;
	if ((k = sodium_malloc(sizeof(*k))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	memcpy(k->y, y, CC_SCALAR_BYTES);
	if (crypto_scalarmult_ristretto255_base(k->y_pub, k->y) != 0) {
		r = CC_ERR_SCALAR;
		goto out;
	}
	*ret_key = k;
	k = NULL;
	r = 0;
out:
	cc_seal_key_free(k);
	return r;
}

void
cc_seal_key_free(struct cc_seal_key *key)
{
	/* sodium_free wipes the whole allocation. */
	if (key != NULL)
		sodium_free(key);
}

void
cc_seal_key_public(const struct cc_seal_key *key,
    uint8_t ret_y_pub[CC_ELEMENT_BYTES])
{
	memcpy(ret_y_pub, key->y_pub, CC_ELEMENT_BYTES);
}

void
cc_seal_key_secret(const struct cc_seal_key *key, uint8_t ret_y[CC_SCALAR_BYTES])
{
	memcpy(ret_y, key->y, CC_SCALAR_BYTES);
}

/* SPEC 5.6 Seal: A = k*G, B = m + k*Y for a fresh non-zero k. */
int
cc_seal_element(uint8_t ret_block[CC_SEAL_BLOCK_BYTES],
    const uint8_t m[CC_ELEMENT_BYTES], const uint8_t y_pub[CC_ELEMENT_BYTES])
{
	uint8_t k[CC_SCALAR_BYTES], ky[CC_ELEMENT_BYTES];
	uint8_t block[CC_SEAL_BLOCK_BYTES];
	int r = CC_ERR_INTERNAL;

	memset(ret_block, 0, CC_SEAL_BLOCK_BYTES);
	if (cc_group_element_check(m) != 0 ||
	    cc_group_element_check(y_pub) != 0) {
		r = CC_ERR_POINT;
		goto out;
	}
	cc_group_scalar_random(k);
	if (crypto_scalarmult_ristretto255_base(block, k) != 0 ||
	    crypto_scalarmult_ristretto255(ky, k, y_pub) != 0) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	crypto_core_ristretto255_add(block + CC_ELEMENT_BYTES, m, ky);
	/* B = identity has probability 2^-252; it would not parse. */
	if (cc_group_element_check(block + CC_ELEMENT_BYTES) != 0) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	memcpy(ret_block, block, CC_SEAL_BLOCK_BYTES);
	r = 0;
out:
	sodium_memzero(k, sizeof(k));
	sodium_memzero(ky, sizeof(ky));
	sodium_memzero(block, sizeof(block));
	return r;
}

int
cc_seal_attr(uint8_t ret_block[CC_SEAL_BLOCK_BYTES], const struct cc_attr *a,
    const uint8_t y_pub[CC_ELEMENT_BYTES])
{
	uint8_t v[CC_ATTR_BYTES], m[CC_ELEMENT_BYTES];
	int r;

	memset(ret_block, 0, CC_SEAL_BLOCK_BYTES);
	if ((r = cc_attr_encode(v, a)) != 0 ||
	    (r = cc_attr_element(m, v)) != 0)
		return r;
	return cc_seal_element(ret_block, m, y_pub);
}

int
cc_seal_scale(uint8_t block[CC_SEAL_BLOCK_BYTES],
    const uint8_t r[CC_SCALAR_BYTES])
{
	uint8_t out[CC_SEAL_BLOCK_BYTES];
	int ret;

	if ((ret = cc_group_mult(out, r, block)) != 0 ||
	    (ret = cc_group_mult(out + CC_ELEMENT_BYTES, r,
	    block + CC_ELEMENT_BYTES)) != 0)
		goto out;
	memcpy(block, out, CC_SEAL_BLOCK_BYTES);
out:
	sodium_memzero(out, sizeof(out));
	return ret;
}

/* SPEC 5.6 / 9.1 Open: B - y*A. */
int
cc_seal_open(uint8_t ret_m[CC_ELEMENT_BYTES], const struct cc_seal_key *key,
    const uint8_t block[CC_SEAL_BLOCK_BYTES])
{
	uint8_t ya[CC_ELEMENT_BYTES], m[CC_ELEMENT_BYTES];
	int r = CC_ERR_INTERNAL;

	memset(ret_m, 0, CC_ELEMENT_BYTES);
	if (cc_group_element_check(block) != 0 ||
	    cc_group_element_check(block + CC_ELEMENT_BYTES) != 0) {
		r = CC_ERR_POINT;
		goto out;
	}
	if (crypto_scalarmult_ristretto255(ya, key->y, block) != 0) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	crypto_core_ristretto255_sub(m, block + CC_ELEMENT_BYTES, ya);
	if (cc_group_element_check(m) != 0) {
		r = CC_ERR_DECRYPT;
		goto out;
	}
	memcpy(ret_m, m, CC_ELEMENT_BYTES);
	r = 0;
out:
	sodium_memzero(ya, sizeof(ya));
	sodium_memzero(m, sizeof(m));
	return r;
}

int
cc_attr_refs_check(const uint8_t *refs, size_t nrefs,
    const struct cc_attr_shape *shape, struct cc_diag *diag)
{
	struct cc_attr values[CC_LIMIT_BATCH_REFS];
	uint8_t v[CC_ATTR_BYTES];
	size_t n = 0, i, j;
	const uint8_t *e;
	int r;

	if ((r = cc_attr_enumerate(values, CC_LIMIT_BATCH_REFS, &n, shape)) != 0) {
		cc_diag_set(diag, "invalid breakdown shape");
		return r;
	}
	if (nrefs != n) {
		cc_diag_set(diag, "%zu attribute references, expected %zu",
		    nrefs, n);
		return CC_ERR_FORMAT;
	}
	for (i = 0; i < n; i++) {
		e = refs + i * CC_ATTR_REF_BYTES;
		if ((r = cc_attr_encode(v, &values[i])) != 0)
			return r;
		if (memcmp(v, e, CC_ATTR_BYTES) != 0) {
			cc_diag_set(diag, "attribute reference %zu has value "
			    "%02x%02x%02x%02x, expected %02x%02x%02x%02x", i,
			    e[0], e[1], e[2], e[3], v[0], v[1], v[2], v[3]);
			return CC_ERR_FORMAT;
		}
		if (cc_group_element_check(e + CC_ATTR_BYTES) != 0) {
			cc_diag_set(diag, "attribute reference %zu is not a "
			    "valid element", i);
			return CC_ERR_FORMAT;
		}
		/* Reference elements are public to the aggregator. */
		for (j = 0; j < i; j++) {
			if (memcmp(e + CC_ATTR_BYTES, refs + j *
			    CC_ATTR_REF_BYTES + CC_ATTR_BYTES,
			    CC_ELEMENT_BYTES) == 0) {
				cc_diag_set(diag, "attribute references %zu "
				    "and %zu are equal", j, i);
				return CC_ERR_FORMAT;
			}
		}
	}
	return 0;
}

int
cc_attr_refs_lookup(struct cc_attr *ret_a, const uint8_t *refs, size_t nrefs,
    const uint8_t m[CC_ELEMENT_BYTES])
{
	const uint8_t *e;
	size_t i;

	memset(ret_a, 0, sizeof(*ret_a));
	for (i = 0; i < nrefs; i++) {
		e = refs + i * CC_ATTR_REF_BYTES;
		if (memcmp(e + CC_ATTR_BYTES, m, CC_ELEMENT_BYTES) == 0)
			return cc_attr_decode(ret_a, e) == 0 ? 0 :
			    CC_ERR_DECRYPT;
	}
	return CC_ERR_DECRYPT;
}
