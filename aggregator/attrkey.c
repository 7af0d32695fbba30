/* crosscount-aggregator: the attribute key file (see attrkey.h). */
#include "aggregator/attrkey.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "protocol/group.h"

#define ATTRKEY_PATH_MAX 4096

static int
attrkey_sync_dir(const char *path)
{
	char copy[ATTRKEY_PATH_MAX];
	size_t n = strlen(path);
	int dfd, r = 0;

	if (n >= sizeof(copy))
		return CC_ERR_IO;
	memcpy(copy, path, n + 1);
	if ((dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return CC_ERR_IO;
	if (fsync(dfd) != 0)
		r = CC_ERR_IO;
	close(dfd);
	return r;
}

int
cc_attrkey_write_new(const struct cc_seal_key *key, const char *path,
    struct cc_diag *diag)
{
	uint8_t y[CC_SCALAR_BYTES];
	bool created = false;
	size_t off = 0;
	ssize_t w;
	int fd = -1, r = CC_ERR_IO;

	if (key == NULL || path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = errno == EEXIST ? CC_ERR_EXISTS : CC_ERR_IO;
		cc_diag_set(diag, "%s: %s%s", path, strerror(errno),
		    r == CC_ERR_EXISTS ? " (refusing to overwrite a key)" : "");
		return r;
	}
	created = true;
	/* The umask may have taken bits away; the mode is the contract. */
	if (fchmod(fd, 0600) != 0) {
		cc_diag_set(diag, "%s: chmod: %s", path, strerror(errno));
		goto out;
	}
	cc_seal_key_secret(key, y);
	while (off < sizeof(y)) {
		w = write(fd, y + off, sizeof(y) - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cc_diag_set(diag, "%s: write: %s", path,
			    w < 0 ? strerror(errno) : "nothing written");
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		cc_diag_set(diag, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		cc_diag_set(diag, "%s: close: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (attrkey_sync_dir(path) != 0) {
		cc_diag_set(diag, "%s: cannot sync its directory", path);
		goto out;
	}
	r = 0;
out:
	sodium_memzero(y, sizeof(y));
	if (fd >= 0)
		close(fd);
	if (r != 0 && created)
		unlink(path);
	return r;
}

int
cc_attrkey_load(struct cc_seal_key **ret_key, const char *path,
    struct cc_diag *diag)
{
	uint8_t y[CC_SCALAR_BYTES], extra;
	struct stat sb;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r = CC_ERR_IO;

	if (ret_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_key = NULL;
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		r = errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO;
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		cc_diag_set(diag, "%s: not a regular file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		cc_diag_set(diag, "%s: mode %03o lets others read or write the "
		    "key; it must be 0600", path, (unsigned)(sb.st_mode & 0777));
		r = CC_ERR_AUTH;
		goto out;
	}
	while (got < sizeof(y)) {
		n = read(fd, y + got, sizeof(y) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != sizeof(y) || read(fd, &extra, 1) != 0) {
		cc_diag_set(diag, "%s: the attribute key file holds exactly %d "
		    "bytes", path, CC_SCALAR_BYTES);
		r = CC_ERR_FORMAT;
		goto out;
	}
	if ((r = cc_seal_key_from_secret(ret_key, y)) != 0) {
		cc_diag_set(diag, "%s: not a canonical non-zero scalar", path);
		r = CC_ERR_SCALAR;
		goto out;
	}
	r = 0;
out:
	sodium_memzero(y, sizeof(y));
	if (fd >= 0)
		close(fd);
	return r;
}
