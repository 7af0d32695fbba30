/*
 * crosscount: the one error enum.
 *
 * 0 is success, every error is negative. Library code returns these and
 * never logs; the program at the edge turns a code into a sentence with
 * cc_strerror() and adds the detail a person needs from a struct cc_diag.
 *
 * A cc_diag never holds an identity (personnummer in any form): callers
 * that need to show one use cc_identity_mask() from identity.h.
 */
#ifndef CC_ERROR_H
#define CC_ERROR_H

#include <stddef.h>

enum cc_error {
	CC_OK = 0,
	CC_ERR_INTERNAL = -1,         /* a bug: should not happen */
	CC_ERR_ALLOC = -2,            /* out of memory */
	CC_ERR_INVALID_ARGUMENT = -3, /* a caller passed something impossible */
	CC_ERR_TRUNCATED = -4,        /* input ends before its declared shape */
	CC_ERR_TRAILING_DATA = -5,    /* bytes left after a complete message */
	CC_ERR_LIMIT = -6,            /* a size or count is over its limit */
	CC_ERR_FORMAT = -7,           /* malformed input */
	CC_ERR_IDENTITY = -8,         /* not a valid personnummer/samordningsnummer */
	CC_ERR_POINT = -9,            /* not a valid ristretto255 element */
	CC_ERR_SCALAR = -10,          /* not a canonical non-zero scalar */
	CC_ERR_CRYPTO = -11,          /* a crypto library call failed */
	CC_ERR_SIGNATURE = -12,       /* signature does not verify */
	CC_ERR_CERTIFICATE = -13,     /* certificate invalid or not the expected one */
	CC_ERR_DECRYPT = -14,         /* sealed data does not open */
	CC_ERR_QUERY = -15,           /* query is not valid */
	CC_ERR_POLICY = -16,          /* refused by policy */
	CC_ERR_IO = -17,              /* a file or socket operation failed */
	CC_ERR_DB = -18,              /* the SQLite store failed */
	CC_ERR_CONFIG = -19,          /* a configuration file is wrong */
	CC_ERR_NOT_FOUND = -20,       /* no such thing */
	CC_ERR_EXISTS = -21,          /* already exists */
	CC_ERR_VERSION = -22,         /* unsupported version */
	CC_ERR_AUTH = -23,            /* not authenticated or not allowed */
	CC_ERR_NETWORK = -24,         /* the peer could not be reached */
	CC_ERR_STATE = -25,           /* not allowed in the current state */
	CC_ERR_ENCODING = -26,        /* text is not in a supported encoding */
	CC_ERR_TIMEOUT = -27,         /* a deadline passed */
	CC_ERR_LAST_ = -28,
};

/* A sentence for an error code; never NULL, never freed. */
const char *cc_strerror(int r);

/*
 * Detail for a person: which field, line or limit, and what is wrong.
 * Filled by library code, printed by the caller next to cc_strerror().
 */
#define CC_DIAG_MAX 256
struct cc_diag {
	char text[CC_DIAG_MAX];
};

/* Format into d (NULL is allowed: then nothing happens). Truncates. */
void cc_diag_set(struct cc_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current text, e.g. "line 42: " + "bad date". */
void cc_diag_prefix(struct cc_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
