/* crosscount-aggregator: the attribute key file (see attrkey.h). */
#include "aggregator/attrkey.h"

#include <stdint.h>

#include <sodium.h>

#include "protocol/file.h"
#include "protocol/group.h"

int
cc_attrkey_write_new(const struct cc_seal_key *key, const char *path,
    struct cc_diag *diag)
{
	uint8_t y[CC_SCALAR_BYTES];
	int r;

	if (key == NULL || path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	cc_seal_key_secret(key, y);
	r = cc_file_write(path, y, sizeof(y), 0600, CC_FILE_SECRET, diag);
	sodium_memzero(y, sizeof(y));
	return r;
}

int
cc_attrkey_load(struct cc_seal_key **ret_key, const char *path,
    struct cc_diag *diag)
{
	uint8_t y[CC_SCALAR_BYTES];
	int r;

	if (ret_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_key = NULL;
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_file_read_key(path, y, sizeof(y), "attribute key",
	    diag)) != 0)
		goto out;
	if (cc_seal_key_from_secret(ret_key, y) != 0) {
		cc_diag_set(diag, "%s: not a canonical non-zero scalar", path);
		r = CC_ERR_SCALAR;
		goto out;
	}
	r = 0;
out:
	sodium_memzero(y, sizeof(y));
	return r;
}
