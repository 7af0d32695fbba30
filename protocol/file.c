/* crosscount: atomic, durable, exact files (see file.h). */
#include "protocol/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define FILE_PATH_MAX 4096
#define FILE_ZERO_CHUNK 65536

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
cc_file_sync_dir(const char *dir, struct cc_diag *diag)
{
	int fd, r = 0;

	if (dir == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cc_diag_set(diag, "%s: %s", dir, strerror(errno));
		return CC_ERR_IO;
	}
	if (fsync(fd) != 0) {
		cc_diag_set(diag, "%s: fsync: %s", dir, strerror(errno));
		r = CC_ERR_IO;
	}
	close(fd);
	return r;
}

/* The directory part of path ("." if none, "/" for "/x") into out. */
static int
dir_of(char *out, size_t outsz, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		if (outsz < 2)
			return CC_ERR_LIMIT;
		memcpy(out, ".", 2);
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= outsz)
		return CC_ERR_LIMIT;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

int
cc_file_sync_parent(const char *path, struct cc_diag *diag)
{
	char dir[FILE_PATH_MAX];

	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (dir_of(dir, sizeof(dir), path) != 0) {
		cc_diag_set(diag, "path too long");
		return CC_ERR_LIMIT;
	}
	return cc_file_sync_dir(dir, diag);
}

/* The temporary name of path for mkstemp (see CC_FILE_HIDDEN_TEMP). */
static int
temp_name(char *out, size_t outsz, const char *path, bool hidden)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!hidden)
		n = snprintf(out, outsz, "%s.XXXXXX", path);
	else if (slash == NULL)
		n = snprintf(out, outsz, ".%s.XXXXXX", path);
	else
		n = snprintf(out, outsz, "%.*s/.%s.XXXXXX",
		    (int)(slash - path), path, slash + 1);
	return n < 0 || (size_t)n >= outsz ? CC_ERR_LIMIT : 0;
}

int
cc_file_write(const char *path, const void *data, size_t len, mode_t mode,
    unsigned flags, struct cc_diag *diag)
{
	char tmp[FILE_PATH_MAX], dir[FILE_PATH_MAX];
	bool have_tmp = false, linked = false;
	int fd = -1, r = CC_ERR_IO;

	if (path == NULL || (data == NULL && len > 0))
		return CC_ERR_INVALID_ARGUMENT;
	if (temp_name(tmp, sizeof(tmp), path,
	    (flags & CC_FILE_HIDDEN_TEMP) != 0) != 0 ||
	    dir_of(dir, sizeof(dir), path) != 0) {
		cc_diag_set(diag, "%.64s...: path too long", path);
		return CC_ERR_LIMIT;
	}
	/* mkstemp creates the file O_EXCL with mode 0600. */
	if ((fd = mkstemp(tmp)) < 0) {
		cc_diag_set(diag, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	have_tmp = true;
	/* The mode is part of the contract, whatever the umask. */
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		cc_diag_set(diag, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		cc_diag_set(diag, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if ((flags & CC_FILE_REPLACE) != 0) {
		if (rename(tmp, path) != 0) {
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
			goto out;
		}
		have_tmp = false;
	} else {
		/* link() never replaces: whoever linked first keeps the name. */
		if (link(tmp, path) != 0) {
			r = errno == EEXIST ? CC_ERR_EXISTS : CC_ERR_IO;
			cc_diag_set(diag, "%s: %s%s", path, strerror(errno),
			    r == CC_ERR_EXISTS ? " (refusing to overwrite it)" :
			    "");
			goto out;
		}
		linked = true;
		/* path holds the inode now: the temporary name just goes. */
		(void)unlink(tmp);
		have_tmp = false;
	}
	if ((r = cc_file_sync_dir(dir, diag)) != 0)
		goto out;
	linked = false;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (linked) {
		/* Not durable: take the name back, so a retry starts clean. */
		if ((flags & CC_FILE_SECRET) != 0)
			(void)cc_file_overwrite(path, NULL);
		(void)unlink(path);
	}
	if (have_tmp) {
		if ((flags & CC_FILE_SECRET) != 0)
			(void)cc_file_overwrite(tmp, NULL);
		(void)unlink(tmp);
	}
	return r;
}

/* Open a regular file for reading; *ret_st filled. */
static int
open_regular(int *ret_fd, struct stat *ret_st, const char *path,
    bool follow, struct cc_diag *diag)
{
	int fd;

	*ret_fd = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC |
	    (follow ? 0 : O_NOFOLLOW))) < 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO;
	}
	if (fstat(fd, ret_st) != 0 || !S_ISREG(ret_st->st_mode) ||
	    ret_st->st_size < 0) {
		cc_diag_set(diag, "%s: not a regular file", path);
		close(fd);
		return CC_ERR_IO;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * Read exactly len bytes, then make sure the file ends there. 0, or
 * CC_ERR_IO with errno's text in diag, or CC_ERR_TRUNCATED /
 * CC_ERR_TRAILING_DATA (no diag) when the file is shorter / longer.
 */
static int
read_exactly(int fd, uint8_t *buf, size_t len, const char *path,
    struct cc_diag *diag)
{
	uint8_t extra;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
			return CC_ERR_IO;
		}
		if (n == 0)
			return CC_ERR_TRUNCATED;
		got += (size_t)n;
	}
	do
		n = read(fd, &extra, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return CC_ERR_IO;
	}
	return n == 0 ? 0 : CC_ERR_TRAILING_DATA;
}

int
cc_file_read_key(const char *path, void *buf, size_t len, const char *what,
    struct cc_diag *diag)
{
	struct stat st;
	int fd = -1, r;

	if (path == NULL || buf == NULL || what == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = open_regular(&fd, &st, path, false, diag)) != 0)
		goto out;
	if ((st.st_mode & 077) != 0) {
		cc_diag_set(diag, "%s: mode %03o lets others read or write the "
		    "%s; it must be 0600", path, (unsigned)(st.st_mode & 0777),
		    what);
		r = CC_ERR_AUTH;
		goto out;
	}
	r = read_exactly(fd, buf, len, path, diag);
	if (r == CC_ERR_TRUNCATED || r == CC_ERR_TRAILING_DATA) {
		cc_diag_set(diag, "%s: the %s file must hold exactly %zu bytes",
		    path, what, len);
		r = CC_ERR_FORMAT;
	}
out:
	if (r != 0)
		sodium_memzero(buf, len);
	if (fd >= 0)
		close(fd);
	return r;
}

int
cc_file_read_all(const char *path, size_t max_len, size_t room,
    uint8_t **ret_data, size_t *ret_len, struct cc_diag *diag)
{
	uint8_t *data = NULL;
	struct stat st;
	size_t len = 0;
	int fd = -1, r;

	if (ret_data == NULL || ret_len == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_data = NULL;
	*ret_len = 0;
	if (path == NULL || max_len > SIZE_MAX - 1 - room)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = open_regular(&fd, &st, path, true, diag)) != 0) {
		r = CC_ERR_IO;
		goto out;
	}
	if ((uintmax_t)st.st_size > max_len) {
		cc_diag_set(diag, "%s: %jd bytes, more than the %zu allowed",
		    path, (intmax_t)st.st_size, max_len);
		r = CC_ERR_LIMIT;
		goto out;
	}
	len = (size_t)st.st_size;
	if ((data = calloc(1, len + room + 1)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	r = read_exactly(fd, data, len, path, diag);
	if (r == CC_ERR_TRUNCATED || r == CC_ERR_TRAILING_DATA) {
		cc_diag_set(diag, "%s: the file changed while it was read",
		    path);
		r = CC_ERR_IO;
	}
	if (r != 0)
		goto out;
	*ret_data = data;
	*ret_len = len;
	data = NULL;
out:
	if (fd >= 0)
		close(fd);
	cc_file_free(data, len + room + 1);
	return r;
}

void
cc_file_free(void *p, size_t cap)
{
	if (p == NULL)
		return;
	sodium_memzero(p, cap);
	free(p);
}

int
cc_file_overwrite(const char *path, struct cc_diag *diag)
{
	static const uint8_t zero[FILE_ZERO_CHUNK];
	struct stat st;
	off_t done = 0;
	size_t n;
	int fd, r = 0;

	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return CC_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cc_diag_set(diag, "%s: not a regular file", path);
		r = CC_ERR_IO;
		goto out;
	}
	while (done < st.st_size) {
		n = st.st_size - done > (off_t)sizeof(zero) ? sizeof(zero) :
		    (size_t)(st.st_size - done);
		if (write_all(fd, zero, n) != 0) {
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
			r = CC_ERR_IO;
			goto out;
		}
		done += (off_t)n;
	}
	if (fsync(fd) != 0) {
		cc_diag_set(diag, "%s: fsync: %s", path, strerror(errno));
		r = CC_ERR_IO;
	}
out:
	close(fd);
	return r;
}

int
cc_file_destroy(const char *path, bool *ret_existed, struct cc_diag *diag)
{
	struct stat st;
	int r, r2;

	if (ret_existed != NULL)
		*ret_existed = false;
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return CC_ERR_IO;
	}
	if (ret_existed != NULL)
		*ret_existed = true;
	/* A symbolic link is removed, not followed. */
	r = S_ISLNK(st.st_mode) ? 0 : cc_file_overwrite(path, diag);
	if (unlink(path) != 0 && errno != ENOENT) {
		if (r == 0)
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return r != 0 ? r : CC_ERR_IO;
	}
	r2 = cc_file_sync_parent(path, r == 0 ? diag : NULL);
	return r != 0 ? r : r2;
}

int
cc_file_pread_all(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = pread(fd, p, len, off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int
cc_file_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, p, len, off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

void
cc_file_signal(int fd, uint8_t b)
{
	ssize_t n;

	do
		n = write(fd, &b, 1);
	while (n < 0 && errno == EINTR);
}

/* Read size of cc_file_sha256. */
#define FILE_HASH_READ ((size_t)256 << 10)

int
cc_file_sha256(const char *path, bool sync, uint64_t *ret_size,
    uint8_t ret_digest[32], struct cc_diag *diag)
{
	crypto_hash_sha256_state sha;
	uint8_t *buf = NULL;
	uint64_t size = 0;
	ssize_t n;
	int fd = -1, r = CC_ERR_IO;

	*ret_size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		cc_diag_set(diag, "cannot open %s: %s", path, strerror(errno));
		r = errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO;
		goto out;
	}
	if ((buf = malloc(FILE_HASH_READ)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	crypto_hash_sha256_init(&sha);
	for (;;) {
		if ((n = read(fd, buf, FILE_HASH_READ)) < 0) {
			if (errno == EINTR)
				continue;
			cc_diag_set(diag, "cannot read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&sha, buf, (unsigned long long)n);
		size += (uint64_t)n;
	}
	crypto_hash_sha256_final(&sha, ret_digest);
	if (sync && fsync(fd) != 0) {
		cc_diag_set(diag, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	*ret_size = size;
	r = 0;
out:
	if (buf != NULL) {
		sodium_memzero(buf, FILE_HASH_READ);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return r;
}
