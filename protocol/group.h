/*
 * crosscount: the ristretto255 group (RFC 9496) through libsodium, and
 * hashing to it (RFC 9380). SPEC.md section 5.
 *
 * Scalars are 32-byte little-endian integers below the group order L;
 * elements are 32-byte canonical ristretto255 encodings. Functions that
 * take an element from outside validate it; functions that make one only
 * ever make valid, non-identity elements.
 *
 * Programs call sodium_init() once before using this module. Secret
 * intermediates (anything derived from an identity or a key) are wiped
 * before a function returns.
 */
#ifndef CC_GROUP_H
#define CC_GROUP_H

#include <stddef.h>
#include <stdint.h>

#define CC_SCALAR_BYTES 32
#define CC_ELEMENT_BYTES 32
#define CC_HASH_TO_GROUP_DST "crosscount-v1-HashToGroup-ristretto255-SHA512"

/*
 * expand_message_xmd with SHA-512 (RFC 9380 section 5.3.1).
 * out_len 1..255 * 64; dst 1..255 bytes (longer DSTs are refused, not
 * hashed); msg may be NULL when msg_len is 0. CC_ERR_INVALID_ARGUMENT
 * otherwise, with out zeroed.
 */
int cc_expand_message_xmd_sha512(uint8_t *out, size_t out_len,
    const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);

/*
 * hash_to_ristretto255 (RFC 9380 appendix B / RFC 9496 section 4.3.4):
 * 64 uniform bytes from expand_message_xmd, then the one-way map.
 */
int cc_group_hash_to_element(uint8_t ret_p[CC_ELEMENT_BYTES],
    const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);

/*
 * H(id): hash_to_element with CC_HASH_TO_GROUP_DST over the 12 digits.
 * CC_ERR_IDENTITY if any of the 12 characters is not an ASCII digit.
 */
int cc_group_hash_identity(uint8_t ret_p[CC_ELEMENT_BYTES],
    const char canonical[12]);

/*
 * HashToScalar as in RFC 9497 section 4.1: 64 bytes from
 * expand_message_xmd reduced modulo L (used for DeriveKeyPair vectors).
 */
int cc_group_hash_to_scalar(uint8_t ret_s[CC_SCALAR_BYTES],
    const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);

/* A uniformly random non-zero scalar from the CSPRNG. */
void cc_group_scalar_random(uint8_t ret_s[CC_SCALAR_BYTES]);

/* 0 if s is canonical (< L) and non-zero, CC_ERR_SCALAR otherwise. */
int cc_group_scalar_check(const uint8_t s[CC_SCALAR_BYTES]);

/* ret = s^-1 mod L; CC_ERR_SCALAR for zero or non-canonical s. */
int cc_group_scalar_invert(uint8_t ret_s[CC_SCALAR_BYTES],
    const uint8_t s[CC_SCALAR_BYTES]);

/* ret = a * b mod L (ret may alias a or b). */
void cc_group_scalar_mul(uint8_t ret_s[CC_SCALAR_BYTES],
    const uint8_t a[CC_SCALAR_BYTES], const uint8_t b[CC_SCALAR_BYTES]);

/*
 * 0 if p is a canonical encoding of a ristretto255 element other than the
 * identity, CC_ERR_POINT otherwise.
 */
int cc_group_element_check(const uint8_t p[CC_ELEMENT_BYTES]);

/*
 * ret = s * p. p is validated; CC_ERR_POINT for an invalid p or an
 * identity result, CC_ERR_SCALAR for an invalid s. ret may alias p.
 * On failure ret is zeroed (so in place, p is lost).
 */
int cc_group_mult(uint8_t ret_p[CC_ELEMENT_BYTES],
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t p[CC_ELEMENT_BYTES]);

/* A uniformly random element (for dummies). */
void cc_group_element_random(uint8_t ret_p[CC_ELEMENT_BYTES]);

/*
 * Multiply n elements in place by s, using up to `threads` threads
 * (0 = every core). Elements sit `stride` bytes apart starting at base.
 * Fails with CC_ERR_POINT (and an unspecified partial result) if any
 * element is invalid; *ret_bad_index, if not NULL, gets the first such index.
 * CC_ERR_SCALAR for an invalid s (nothing touched), CC_ERR_INVALID_ARGUMENT
 * for stride < 32 or a span that does not fit in memory.
 */
int cc_group_mult_many(uint8_t *base, size_t n, size_t stride,
    const uint8_t s[CC_SCALAR_BYTES], unsigned threads, size_t *ret_bad_index);

#endif
