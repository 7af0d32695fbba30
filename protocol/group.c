/*
 * crosscount: the ristretto255 group and hashing to it (see group.h).
 * SPEC.md section 5.1-5.5.
 *
 * Everything but expand_message_xmd is a thin, checked layer over
 * libsodium: the value added here is the validation libsodium leaves to
 * its callers (canonical scalars, the identity element) and the wiping of
 * every intermediate that derives from an identity or a key.
 */
#include "protocol/group.h"
#include "protocol/error.h"
#include "protocol/parallel.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/* SHA-512: b_in_bytes (output) and s_in_bytes (input block), RFC 9380 5.3.1. */
#define XMD_B_IN_BYTES crypto_hash_sha512_BYTES
#define XMD_S_IN_BYTES 128
#define XMD_MAX_ELL 255
#define XMD_MAX_DST 255

/* 64 uniform bytes per element or scalar (RFC 9496 4.3.4, RFC 9497 4.1). */
#define WIDE_BYTES 64

/*
 * expand_message_xmd, RFC 9380 section 5.3.1 (SPEC.md 5.2), step by step:
 *   ell = ceil(len_in_bytes / b_in_bytes), at most 255
 *   DST_prime = DST || I2OSP(len(DST), 1)
 *   b_0 = H(Z_pad || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST_prime)
 *   b_1 = H(b_0 || I2OSP(1, 1) || DST_prime)
 *   b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime)
 *   uniform_bytes = b_1 || ... || b_ell, truncated to len_in_bytes
 * Oversized DSTs (RFC 9380 5.3.3) are refused rather than hashed: every DST
 * crosscount uses is short, and refusing keeps one code path.
 */
int
cc_expand_message_xmd_sha512(uint8_t *out, size_t out_len,
    const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len)
{
	static const uint8_t z_pad[XMD_S_IN_BYTES];
	crypto_hash_sha512_state st;
	uint8_t b0[XMD_B_IN_BYTES], bi[XMD_B_IN_BYTES];
	uint8_t len_be[2], dst_len_byte, counter;
	size_t ell, i, j, off, take;
	int r = CC_ERR_INVALID_ARGUMENT;

	if (out == NULL || out_len == 0)
		return CC_ERR_INVALID_ARGUMENT;
	memset(out, 0, out_len);
	if (out_len > (size_t)XMD_MAX_ELL * XMD_B_IN_BYTES)
		goto out;
	if (dst == NULL || dst_len == 0 || dst_len > XMD_MAX_DST)
		goto out;
	if (msg == NULL && msg_len != 0)
		goto out;

	ell = (out_len + XMD_B_IN_BYTES - 1) / XMD_B_IN_BYTES;
	len_be[0] = (uint8_t)(out_len >> 8);
	len_be[1] = (uint8_t)out_len;
	dst_len_byte = (uint8_t)dst_len;

	/* b_0 */
	counter = 0;
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, z_pad, sizeof(z_pad));
	if (msg_len > 0)
		crypto_hash_sha512_update(&st, msg, msg_len);
	crypto_hash_sha512_update(&st, len_be, sizeof(len_be));
	crypto_hash_sha512_update(&st, &counter, 1);
	crypto_hash_sha512_update(&st, dst, dst_len);
	crypto_hash_sha512_update(&st, &dst_len_byte, 1);
	crypto_hash_sha512_final(&st, b0);

	/* b_1 .. b_ell; bi holds b_(i-1) on entry to each round. */
	memset(bi, 0, sizeof(bi));
	off = 0;
	for (i = 1; i <= ell; i++) {
		for (j = 0; j < XMD_B_IN_BYTES; j++)
			bi[j] ^= b0[j];  /* b_1: 0 ^ b_0 = b_0 */
		counter = (uint8_t)i;
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, bi, sizeof(bi));
		crypto_hash_sha512_update(&st, &counter, 1);
		crypto_hash_sha512_update(&st, dst, dst_len);
		crypto_hash_sha512_update(&st, &dst_len_byte, 1);
		crypto_hash_sha512_final(&st, bi);
		take = out_len - off < XMD_B_IN_BYTES ? out_len - off : XMD_B_IN_BYTES;
		memcpy(out + off, bi, take);
		off += take;
	}
	r = 0;
out:
	/* The message may be an identity: nothing derived from it outlives us. */
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(b0, sizeof(b0));
	sodium_memzero(bi, sizeof(bi));
	if (r != 0)
		sodium_memzero(out, out_len);
	return r;
}

/* hash_to_ristretto255 (RFC 9380 appendix B, RFC 9496 4.3.4); SPEC 5.3. */
int
cc_group_hash_to_element(uint8_t ret_p[CC_ELEMENT_BYTES],
    const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len)
{
	uint8_t wide[WIDE_BYTES], p[CC_ELEMENT_BYTES];
	int r;

	if (ret_p == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_p, 0, CC_ELEMENT_BYTES);
	r = cc_expand_message_xmd_sha512(wide, sizeof(wide), msg, msg_len,
	    dst, dst_len);
	if (r != 0)
		goto out;
	crypto_core_ristretto255_from_hash(p, wide);
	/*
	 * The identity comes out only if SHA-512 is broken; refuse it anyway
	 * so that "made here" always means "valid and not the identity".
	 */
	if (sodium_is_zero(p, sizeof(p))) {
		r = CC_ERR_POINT;
		goto out;
	}
	memcpy(ret_p, p, CC_ELEMENT_BYTES);
	r = 0;
out:
	sodium_memzero(wide, sizeof(wide));
	sodium_memzero(p, sizeof(p));
	return r;
}

/* H(id), SPEC 5.3: the 12 ASCII digits of the canonical form (SPEC 4.2). */
int
cc_group_hash_identity(uint8_t ret_p[CC_ELEMENT_BYTES],
    const char canonical[12])
{
	static const char dst[] = CC_HASH_TO_GROUP_DST;
	unsigned bad = 0;
	size_t i;

	if (ret_p == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_p, 0, CC_ELEMENT_BYTES);
	if (canonical == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	/* Branch-free over the digits: how long this takes says nothing of them. */
	for (i = 0; i < 12; i++)
		bad |= (unsigned)((uint8_t)canonical[i] - (uint8_t)'0') > 9u;
	if (bad)
		return CC_ERR_IDENTITY;
	return cc_group_hash_to_element(ret_p, (const uint8_t *)canonical, 12,
	    (const uint8_t *)dst, sizeof(dst) - 1);
}

/* HashToScalar, RFC 9497 section 4.1 (ristretto255-SHA512). */
int
cc_group_hash_to_scalar(uint8_t ret_s[CC_SCALAR_BYTES],
    const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len)
{
	uint8_t wide[WIDE_BYTES];
	int r;

	if (ret_s == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_s, 0, CC_SCALAR_BYTES);
	r = cc_expand_message_xmd_sha512(wide, sizeof(wide), msg, msg_len,
	    dst, dst_len);
	if (r == 0)
		crypto_core_ristretto255_scalar_reduce(ret_s, wide);
	sodium_memzero(wide, sizeof(wide));
	return r;
}

void
cc_group_scalar_random(uint8_t ret_s[CC_SCALAR_BYTES])
{
	/* libsodium draws until the value is canonical and non-zero. */
	crypto_core_ristretto255_scalar_random(ret_s);
}

/*
 * SPEC 5.4. libsodium exports no "is canonical" for scalars, so reduce the
 * value (zero-extended to 64 bytes) modulo L and compare with the input:
 * they agree exactly when s < L. Both the reduction and sodium_memcmp run
 * in constant time, so a key is not leaked through how it is checked.
 */
int
cc_group_scalar_check(const uint8_t s[CC_SCALAR_BYTES])
{
	uint8_t wide[WIDE_BYTES], reduced[CC_SCALAR_BYTES];
	int canonical, zero;

	if (s == NULL)
		return CC_ERR_SCALAR;
	memset(wide, 0, sizeof(wide));
	memcpy(wide, s, CC_SCALAR_BYTES);
	crypto_core_ristretto255_scalar_reduce(reduced, wide);
	canonical = sodium_memcmp(reduced, s, CC_SCALAR_BYTES) == 0;
	zero = sodium_is_zero(s, CC_SCALAR_BYTES);
	sodium_memzero(wide, sizeof(wide));
	sodium_memzero(reduced, sizeof(reduced));
	return (canonical & !zero) ? 0 : CC_ERR_SCALAR;
}

int
cc_group_scalar_invert(uint8_t ret_s[CC_SCALAR_BYTES],
    const uint8_t s[CC_SCALAR_BYTES])
{
	uint8_t inv[CC_SCALAR_BYTES];
	int r = CC_ERR_SCALAR;

	if (ret_s == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (cc_group_scalar_check(s) != 0)
		goto out;
	if (crypto_core_ristretto255_scalar_invert(inv, s) != 0)
		goto out;
	memcpy(ret_s, inv, CC_SCALAR_BYTES);
	r = 0;
out:
	if (r != 0)
		sodium_memzero(ret_s, CC_SCALAR_BYTES);
	sodium_memzero(inv, sizeof(inv));
	return r;
}

void
cc_group_scalar_mul(uint8_t ret_s[CC_SCALAR_BYTES],
    const uint8_t a[CC_SCALAR_BYTES], const uint8_t b[CC_SCALAR_BYTES])
{
	uint8_t t[CC_SCALAR_BYTES];

	/* Through a temporary so that ret_s may alias a or b. */
	crypto_core_ristretto255_scalar_mul(t, a, b);
	memcpy(ret_s, t, CC_SCALAR_BYTES);
	sodium_memzero(t, sizeof(t));
}

/*
 * RFC 9496 4.3.1 decodes 32 bytes as an integer s and fails if s >= p.
 * libsodium 1.0.18 checks s < p on the low 255 bits only and then ignores
 * bit 255, so it accepts every valid encoding with the top bit set as a
 * second encoding of the same element. Such a value is >= 2^255 > p.
 */
static int
group_top_bit_clear(const uint8_t p[CC_ELEMENT_BYTES])
{
	return (p[CC_ELEMENT_BYTES - 1] & 0x80) == 0;
}

/*
 * SPEC 5.5. crypto_core_ristretto255_is_valid_point() checks the decoding
 * equations and most of canonicity, but accepts the identity (whose only
 * canonical encoding is 32 zero bytes) and bit 255 set (see above): refuse
 * both here.
 */
int
cc_group_element_check(const uint8_t p[CC_ELEMENT_BYTES])
{
	if (p == NULL)
		return CC_ERR_POINT;
	if (!group_top_bit_clear(p))
		return CC_ERR_POINT;
	if (crypto_core_ristretto255_is_valid_point(p) != 1)
		return CC_ERR_POINT;
	if (sodium_is_zero(p, CC_ELEMENT_BYTES))
		return CC_ERR_POINT;
	return 0;
}

/*
 * s*p for a scalar already checked. crypto_scalarmult_ristretto255()
 * decodes p with the same check as is_valid_point() and fails when the
 * result is the identity; in a group of prime order with s != 0 that
 * happens exactly when p is the identity. With the top bit checked here
 * too, the one call validates p completely without decoding it twice,
 * which matters on the hot path of cc_group_mult_many().
 */
static int
group_mult_checked_scalar(uint8_t ret_p[CC_ELEMENT_BYTES],
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t p[CC_ELEMENT_BYTES])
{
	uint8_t q[CC_ELEMENT_BYTES];
	int r = CC_ERR_POINT;

	if (!group_top_bit_clear(p))
		goto out;
	if (crypto_scalarmult_ristretto255(q, s, p) != 0)
		goto out;
	memcpy(ret_p, q, CC_ELEMENT_BYTES);
	r = 0;
out:
	if (r != 0)
		sodium_memzero(ret_p, CC_ELEMENT_BYTES);
	sodium_memzero(q, sizeof(q));
	return r;
}

int
cc_group_mult(uint8_t ret_p[CC_ELEMENT_BYTES],
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t p[CC_ELEMENT_BYTES])
{
	if (ret_p == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (p == NULL) {
		sodium_memzero(ret_p, CC_ELEMENT_BYTES);
		return CC_ERR_POINT;
	}
	if (cc_group_scalar_check(s) != 0) {
		sodium_memzero(ret_p, CC_ELEMENT_BYTES);
		return CC_ERR_SCALAR;
	}
	return group_mult_checked_scalar(ret_p, s, p);
}

void
cc_group_element_random(uint8_t ret_p[CC_ELEMENT_BYTES])
{
	/* The identity has probability 2^-252; loop rather than argue. */
	do {
		crypto_core_ristretto255_random(ret_p);
	} while (sodium_is_zero(ret_p, CC_ELEMENT_BYTES));
}

struct mult_many_job {
	uint8_t *base;
	size_t stride;
	const uint8_t *s;
};

static int
mult_many_range(void *ctx, size_t begin, size_t end)
{
	struct mult_many_job *job = ctx;
	uint8_t *p;
	size_t i;

	for (i = begin; i < end; i++) {
		p = job->base + i * job->stride;
		if (group_mult_checked_scalar(p, job->s, p) != 0)
			return CC_ERR_POINT;
	}
	return 0;
}

int
cc_group_mult_many(uint8_t *base, size_t n, size_t stride,
    const uint8_t s[CC_SCALAR_BYTES], unsigned threads, size_t *ret_bad_index)
{
	struct mult_many_job job;
	size_t i;
	int r;

	if (ret_bad_index != NULL)
		*ret_bad_index = 0;
	if (n == 0)
		return cc_group_scalar_check(s) == 0 ? 0 : CC_ERR_SCALAR;
	if (base == NULL || stride < CC_ELEMENT_BYTES)
		return CC_ERR_INVALID_ARGUMENT;
	/* The last element must be addressable: (n - 1) * stride + 32. */
	if ((n - 1) > (SIZE_MAX - CC_ELEMENT_BYTES) / stride)
		return CC_ERR_INVALID_ARGUMENT;
	if (cc_group_scalar_check(s) != 0)
		return CC_ERR_SCALAR;

	job.base = base;
	job.stride = stride;
	job.s = s;
	r = cc_parallel_for(n, threads, mult_many_range, &job);
	if (r == 0 || ret_bad_index == NULL)
		return r;
	/*
	 * The threads stop at the first failure they see, in no set order.
	 * Elements already multiplied are still valid and a failed one is left
	 * zeroed (the identity, still invalid), so the first invalid element
	 * now is the first invalid element of the input.
	 */
	for (i = 0; i < n; i++) {
		if (cc_group_element_check(base + i * stride) != 0) {
			*ret_bad_index = i;
			break;
		}
	}
	return r;
}
