/* crosscount: error codes as sentences, and the diagnostic buffer. */
#include "protocol/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
cc_strerror(int r)
{
	switch (r) {
	case CC_OK: return "success";
	case CC_ERR_INTERNAL: return "internal error";
	case CC_ERR_ALLOC: return "out of memory";
	case CC_ERR_INVALID_ARGUMENT: return "invalid argument";
	case CC_ERR_TRUNCATED: return "input is truncated";
	case CC_ERR_TRAILING_DATA: return "unexpected data after the end of the message";
	case CC_ERR_LIMIT: return "a size or count is over its limit";
	case CC_ERR_FORMAT: return "malformed input";
	case CC_ERR_IDENTITY: return "not a valid personnummer or samordningsnummer";
	case CC_ERR_POINT: return "not a valid ristretto255 group element";
	case CC_ERR_SCALAR: return "not a canonical non-zero scalar";
	case CC_ERR_CRYPTO: return "cryptographic operation failed";
	case CC_ERR_SIGNATURE: return "signature does not verify";
	case CC_ERR_CERTIFICATE: return "certificate is not valid or not the expected one";
	case CC_ERR_DECRYPT: return "sealed data could not be opened";
	case CC_ERR_QUERY: return "query is not valid";
	case CC_ERR_POLICY: return "refused by policy";
	case CC_ERR_IO: return "input/output error";
	case CC_ERR_DB: return "database error";
	case CC_ERR_CONFIG: return "configuration error";
	case CC_ERR_NOT_FOUND: return "not found";
	case CC_ERR_EXISTS: return "already exists";
	case CC_ERR_VERSION: return "unsupported version";
	case CC_ERR_AUTH: return "not authenticated or not allowed";
	case CC_ERR_NETWORK: return "network error";
	case CC_ERR_STATE: return "not allowed in the current state";
	case CC_ERR_ENCODING: return "text is not in a supported encoding";
	case CC_ERR_TIMEOUT: return "deadline passed";
	default: return "unknown error";
	}
}

void
cc_diag_set(struct cc_diag *d, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
}

void
cc_diag_prefix(struct cc_diag *d, const char *fmt, ...)
{
	char old[CC_DIAG_MAX];
	va_list ap;
	size_t used, keep;
	int n;

	if (d == NULL)
		return;
	memcpy(old, d->text, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	n = vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(d->text) - 1)
		return;
	/* Append as much of the old text as still fits. */
	used = (size_t)n;
	keep = strnlen(old, sizeof(d->text) - 1 - used);
	memcpy(d->text + used, old, keep);
	d->text[used + keep] = '\0';
}
