/* Test helper: a throwaway PKI with the OpenSSL API (see testpki.h). */
#include "testpki.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct testpki_ca {
	EVP_PKEY *key;
	X509 *cert;
};

static EVP_PKEY *
testpki_keygen(enum testpki_key kind)
{
	if (kind == TESTPKI_ED25519)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Ed25519 signs without a separate digest; ECDSA with SHA-256. */
static const EVP_MD *
testpki_md(EVP_PKEY *key)
{
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL :
	    EVP_sha256();
}

static int
testpki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/*
 * A v3 certificate for key with subject CN cn, signed by issuer_key; a
 * self-signed one when issuer is NULL.
 */
static X509 *
testpki_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
    EVP_PKEY *issuer_key, unsigned flags)
{
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	BIGNUM *serial = NULL;
	int ok = 0;
	long from = -3600, to = 86400;
	const char *bc, *ku;

	if ((flags & TESTPKI_EXPIRED) != 0) {
		from = -2 * 86400;
		to = -86400;
	}
	if ((cert = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    (serial = BN_new()) == NULL)
		goto out;
	if (X509_set_version(cert, X509_VERSION_3) != 1 ||
	    BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"crosscount test", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(cert, name) != 1 ||
	    X509_set_issuer_name(cert, issuer != NULL ?
	    X509_get_subject_name(issuer) : name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), from) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), to) == NULL ||
	    X509_set_pubkey(cert, key) != 1)
		goto out;
	if (issuer == NULL || (flags & TESTPKI_IS_CA) != 0) {
		bc = "critical,CA:TRUE";
		ku = "critical,keyCertSign,cRLSign,digitalSignature";
	} else {
		bc = "critical,CA:FALSE";
		ku = (flags & TESTPKI_NO_DIGITAL_SIGNATURE) != 0 ?
		    "critical,keyEncipherment" : "critical,digitalSignature";
	}
	if (testpki_add_ext(cert, issuer != NULL ? issuer : cert,
	    NID_basic_constraints, bc) != 0 ||
	    testpki_add_ext(cert, issuer != NULL ? issuer : cert,
	    NID_key_usage, ku) != 0 ||
	    testpki_add_ext(cert, issuer != NULL ? issuer : cert,
	    NID_subject_key_identifier, "hash") != 0)
		goto out;
	if (issuer != NULL && testpki_add_ext(cert, issuer,
	    NID_authority_key_identifier, "keyid:always") != 0)
		goto out;
	if (X509_sign(cert, issuer_key, testpki_md(issuer_key)) <= 0)
		goto out;
	ok = 1;
out:
	X509_NAME_free(name);
	BN_free(serial);
	if (!ok) {
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

struct testpki_ca *
testpki_ca_new(const char *cn, enum testpki_key kind)
{
	struct testpki_ca *ca;

	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return NULL;
	if ((ca->key = testpki_keygen(kind)) == NULL ||
	    (ca->cert = testpki_cert(ca->key, cn, NULL, ca->key, 0)) == NULL) {
		testpki_ca_free(ca);
		return NULL;
	}
	return ca;
}

void
testpki_ca_free(struct testpki_ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca);
}

/* The contents of a memory BIO as a NUL-terminated malloc'd string. */
static char *
testpki_bio_string(BIO *bio)
{
	char *data, *s;
	long len;

	if ((len = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (s = malloc((size_t)len + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

char *
testpki_ca_pem(const struct testpki_ca *ca)
{
	BIO *bio;
	char *s = NULL;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_X509(bio, ca->cert) == 1)
		s = testpki_bio_string(bio);
	BIO_free(bio);
	return s;
}

int
testpki_issue(const struct testpki_ca *ca, const char *cn,
    enum testpki_key kind, unsigned flags, char **ret_cert_pem,
    char **ret_key_pem)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *cbio = NULL, *kbio = NULL;
	char *c = NULL, *k = NULL;
	int r = -1;

	*ret_cert_pem = NULL;
	*ret_key_pem = NULL;
	if ((key = testpki_keygen(kind)) == NULL ||
	    (cert = testpki_cert(key, cn, ca->cert, ca->key, flags)) == NULL ||
	    (cbio = BIO_new(BIO_s_mem())) == NULL ||
	    (kbio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(cbio, cert) != 1 ||
	    PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL,
	    NULL) != 1 ||
	    (c = testpki_bio_string(cbio)) == NULL ||
	    (k = testpki_bio_string(kbio)) == NULL)
		goto out;
	*ret_cert_pem = c;
	*ret_key_pem = k;
	c = k = NULL;
	r = 0;
out:
	free(c);
	free(k);
	BIO_free(cbio);
	BIO_free(kbio);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}
