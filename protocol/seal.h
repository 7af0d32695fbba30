/*
 * crosscount: attribute sealing, ElGamal on ristretto255 to the
 * aggregator's attribute key. SPEC.md section 5.6 (and 8.3-8.5, 9.1 where
 * the batch and the aggregator use it).
 *
 * An attribute value v is 4 bytes [flags][age_band][sex][0]:
 *   flags    bit 0 = dummy, every other bit 0
 *   age_band index into the query's age bands (< CC_LIMIT_AGE_BANDS), or
 *            CC_ATTR_AGE_NONE (0xFF) when the query is not broken down by age
 *   sex      CC_ATTR_SEX_NONE (0) when not broken down, 1 female, 2 male
 *   byte 3   0
 * The one dummy value is exactly 01 FF 00 00.
 *
 * Its message element is M_v = hash_to_ristretto255(v, CC_ATTR_DST).
 * A sealed block is A || B = k*G || M_v + k*Y (64 bytes) for a fresh scalar
 * k, Y = y*G the aggregator's attribute key. Every batch step multiplies
 * both halves by its per-query r, so the final block encrypts R*M_v; the
 * aggregator computes B - y*A = R*M_v and finds v among the batch's
 * reference table (v, R*M_v).
 *
 * Reference order (SPEC 5.6): the possible values of a query are listed in
 * ascending bytewise order of their 4-byte encodings, which is: real values
 * by age band, then by sex, and the dummy value last. For a query with
 * `b` age bands (0 = no age breakdown) and sex breakdown yes/no there are
 * max(b, 1) * (sex ? 2 : 1) + 1 values.
 */
#ifndef CC_SEAL_H
#define CC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/limits.h"

#define CC_ATTR_DST "crosscount-v1-Attribute-ristretto255-SHA512"
#define CC_ATTR_BYTES 4                 /* encoded attribute value */
#define CC_ATTR_FLAG_DUMMY 0x01
#define CC_ATTR_AGE_NONE 0xFF
#define CC_ATTR_SEX_NONE 0
#define CC_ATTR_SEX_FEMALE 1
#define CC_ATTR_SEX_MALE 2
#define CC_SEAL_BLOCK_BYTES (2 * CC_ELEMENT_BYTES)        /* A || B */
#define CC_ATTR_REF_BYTES (CC_ATTR_BYTES + CC_ELEMENT_BYTES) /* v || element */

/* A decoded attribute value. For a dummy, age_band = 0xFF and sex = 0. */
struct cc_attr {
	bool dummy;
	uint8_t age_band;
	uint8_t sex;
};

/* The breakdown of a query: which attribute values can occur. */
struct cc_attr_shape {
	uint8_t age_bands;  /* 0 = not by age, else 1..CC_LIMIT_AGE_BANDS */
	bool sex;           /* broken down by sex */
};

/* The dummy value. */
struct cc_attr cc_attr_dummy(void);

/* Encode a; CC_ERR_INVALID_ARGUMENT if a is not a valid value. */
int cc_attr_encode(uint8_t ret_v[CC_ATTR_BYTES], const struct cc_attr *a);

/*
 * Decode exactly: flags other than bit 0 zero, byte 3 zero, sex <= 2,
 * age_band < CC_LIMIT_AGE_BANDS or 0xFF, and a dummy is exactly
 * 01 FF 00 00. CC_ERR_FORMAT otherwise (ret_a is then zeroed).
 */
int cc_attr_decode(struct cc_attr *ret_a, const uint8_t v[CC_ATTR_BYTES]);

/* M_v for an encoded value v (v is validated with cc_attr_decode). */
int cc_attr_element(uint8_t ret_m[CC_ELEMENT_BYTES],
    const uint8_t v[CC_ATTR_BYTES]);

/* CC_ERR_INVALID_ARGUMENT unless 0 <= age_bands <= CC_LIMIT_AGE_BANDS. */
int cc_attr_shape_check(const struct cc_attr_shape *shape);

/*
 * 0 if a is a real (non-dummy) value that a query of this shape can hold:
 * age_band < age_bands (or 0xFF when age_bands == 0), sex 1 or 2 when
 * broken down by sex (0 otherwise). CC_ERR_INVALID_ARGUMENT otherwise.
 */
int cc_attr_in_shape(const struct cc_attr *a, const struct cc_attr_shape *shape);

/* Number of possible values of a shape, dummy included (0 if invalid). */
size_t cc_attr_shape_count(const struct cc_attr_shape *shape);

/*
 * Every possible value in reference order (see top). ret_values must hold
 * `max` entries; *ret_n gets the count. CC_ERR_LIMIT if max is too small.
 */
int cc_attr_enumerate(struct cc_attr *ret_values, size_t max, size_t *ret_n,
    const struct cc_attr_shape *shape);

/*
 * The origin reference table for a shape: cc_attr_shape_count() entries of
 * CC_ATTR_REF_BYTES each, v || M_v, in reference order. ret_refs must hold
 * max_entries entries.
 */
int cc_attr_refs_origin(uint8_t *ret_refs, size_t max_entries, size_t *ret_n,
    const struct cc_attr_shape *shape);

/*
 * The aggregator's attribute key pair: y (a random non-zero scalar) and
 * Y = y*G. Held in sodium_malloc'd memory, wiped when freed.
 */
struct cc_seal_key;

/* A fresh key pair. */
int cc_seal_key_generate(struct cc_seal_key **ret_key);
/* A key pair from a stored y (validated with cc_group_scalar_check). */
int cc_seal_key_from_secret(struct cc_seal_key **ret_key,
    const uint8_t y[CC_SCALAR_BYTES]);
/* Wipes and frees; NULL is allowed. */
void cc_seal_key_free(struct cc_seal_key *key);
/* Y, the public attribute key that nodes seal to. */
void cc_seal_key_public(const struct cc_seal_key *key,
    uint8_t ret_y_pub[CC_ELEMENT_BYTES]);
/* y, for writing the 0600 key file; the caller wipes the copy. */
void cc_seal_key_secret(const struct cc_seal_key *key,
    uint8_t ret_y[CC_SCALAR_BYTES]);

/*
 * Seal the element m to Y with a fresh k: ret_block = k*G || m + k*Y.
 * m and Y are validated (CC_ERR_POINT).
 */
int cc_seal_element(uint8_t ret_block[CC_SEAL_BLOCK_BYTES],
    const uint8_t m[CC_ELEMENT_BYTES], const uint8_t y_pub[CC_ELEMENT_BYTES]);

/* Seal an attribute value: cc_seal_element(M_v). */
int cc_seal_attr(uint8_t ret_block[CC_SEAL_BLOCK_BYTES],
    const struct cc_attr *a, const uint8_t y_pub[CC_ELEMENT_BYTES]);

/* block = (r*A, r*B) in place. CC_ERR_POINT / CC_ERR_SCALAR on bad input. */
int cc_seal_scale(uint8_t block[CC_SEAL_BLOCK_BYTES],
    const uint8_t r[CC_SCALAR_BYTES]);

/*
 * Open: ret_m = B - y*A. A and B are validated; CC_ERR_POINT for an invalid
 * half, CC_ERR_DECRYPT if the result is the identity.
 */
int cc_seal_open(uint8_t ret_m[CC_ELEMENT_BYTES], const struct cc_seal_key *key,
    const uint8_t block[CC_SEAL_BLOCK_BYTES]);

/*
 * Check a (final) reference table against a shape: exactly the shape's
 * values in reference order, every element valid and all elements
 * distinct. CC_ERR_FORMAT (with detail) otherwise.
 */
int cc_attr_refs_check(const uint8_t *refs, size_t nrefs,
    const struct cc_attr_shape *shape, struct cc_diag *diag);

/*
 * Find the value whose reference element equals m (an opened block).
 * CC_ERR_DECRYPT if none does.
 */
int cc_attr_refs_lookup(struct cc_attr *ret_a, const uint8_t *refs,
    size_t nrefs, const uint8_t m[CC_ELEMENT_BYTES]);

#endif
