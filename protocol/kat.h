/*
 * crosscount: known-answer tests for the group layer, runnable by anyone
 * (`crosscount-proto selftest`) and by the unit tests. SPEC.md section 16.
 *
 * Published vectors, run through our own code:
 *   RFC 9380 appendix K.3   expand_message_xmd with SHA-512 (all ten)
 *   RFC 9496 appendix A.1   encodings of 0*G .. 15*G (and 0*G is refused)
 *   RFC 9496 appendix A.2   encodings that must be refused (and 32 zeros)
 *   RFC 9496 appendix A.3   the one-way map from 64 uniform bytes
 *   RFC 9497 appendix A.1.1 OPRF(ristretto255, SHA-512), mode 0x00:
 *                           DeriveKeyPair, Blind, BlindEvaluate, Finalize
 * and crosscount's own vectors (protocol/vectors/v1.json): expand_message_xmd
 * with our DSTs, H(id), tokens under one, two and three keys, attribute
 * message elements M_v and the padding function (SPEC 8.5).
 *
 * Library code: nothing is printed. Each test is reported by name through
 * a callback. Every identity in these vectors is a fictitious test number.
 */
#ifndef CC_KAT_H
#define CC_KAT_H

#include <stdbool.h>
#include <stddef.h>

/* Called once per test, in a fixed order; name is valid during the call. */
typedef void (*cc_kat_result_fn)(void *ctx, const char *name, bool passed);

struct cc_kat_report {
	cc_kat_result_fn on_result;  /* may be NULL */
	void *ctx;                   /* passed to on_result */
	size_t passed;               /* filled by cc_kat_run */
	size_t failed;
};

/*
 * Run every known-answer test. report->passed/failed are reset and
 * counted. Returns 0 if every test passed, CC_ERR_CRYPTO if any failed,
 * CC_ERR_INVALID_ARGUMENT for a NULL report. Needs sodium_init().
 */
int cc_kat_run(struct cc_kat_report *report);

/*
 * crosscount's own vectors as JSON text, computed now by this build (not
 * copied from a file): the exact bytes of protocol/vectors/v1.json,
 * indented, with a final newline. *ret_json is NUL-terminated and freed
 * with free(); *ret_len (may be NULL) gets its length.
 * CC_ERR_ALLOC, or the error of a computation that failed.
 */
int cc_kat_vectors_json(char **ret_json, size_t *ret_len);

#endif
