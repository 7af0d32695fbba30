/*
 * Test helper: a throwaway PKI made at test time with the OpenSSL API
 * (no key material is ever committed). A CA, and node certificates with
 * a given CN issued by it, as PEM strings.
 */
#ifndef CC_TESTPKI_H
#define CC_TESTPKI_H

#include <stddef.h>

enum testpki_key {
	TESTPKI_ED25519,
	TESTPKI_P256,
};

/* Issue flags: certificates that a verifier must refuse. */
#define TESTPKI_NO_DIGITAL_SIGNATURE 0x1u /* key usage keyEncipherment only */
#define TESTPKI_EXPIRED              0x2u /* validity ended yesterday */
#define TESTPKI_IS_CA                0x4u /* basicConstraints CA:TRUE */

struct testpki_ca;

/* A self-signed CA with subject CN cn; NULL on failure. */
struct testpki_ca *testpki_ca_new(const char *cn, enum testpki_key kind);
void testpki_ca_free(struct testpki_ca *ca);

/* The CA certificate as PEM (malloc'd, NUL-terminated); NULL on failure. */
char *testpki_ca_pem(const struct testpki_ca *ca);

/*
 * A certificate for subject CN cn issued by ca, and its private key, as
 * PEM (both malloc'd, NUL-terminated; free with free()). 0 on success.
 */
int testpki_issue(const struct testpki_ca *ca, const char *cn,
    enum testpki_key kind, unsigned flags, char **ret_cert_pem,
    char **ret_key_pem);

#endif
