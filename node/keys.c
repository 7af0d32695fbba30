/* crosscount-node: the at-rest key and its rotation (keys.h; SPEC.md 6.1, 6.3). */
#include "node/keys.h"
#include "node/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define FINGERPRINT_CONTEXT "crosscount-v1-key-fingerprint"
#define PATH_BUF 4096

int
cc_keys_fingerprint(char ret_fp[CC_KEY_FINGERPRINT_LEN + 1],
    const uint8_t s[CC_SCALAR_BYTES])
{
	crypto_hash_sha256_state h;
	uint8_t pub[crypto_core_ristretto255_BYTES];
	uint8_t digest[crypto_hash_sha256_BYTES];
	int r = CC_ERR_INTERNAL;

	if (ret_fp == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	ret_fp[0] = '\0';
	if (s == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (cc_group_scalar_check(s) != 0) {
		r = CC_ERR_SCALAR;
		goto out;
	}
	if (crypto_scalarmult_ristretto255_base(pub, s) != 0) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)FINGERPRINT_CONTEXT,
	    strlen(FINGERPRINT_CONTEXT));
	crypto_hash_sha256_update(&h, pub, sizeof(pub));
	crypto_hash_sha256_final(&h, digest);
	sodium_bin2hex(ret_fp, CC_KEY_FINGERPRINT_LEN + 1, digest,
	    CC_KEY_FINGERPRINT_LEN / 2);
	r = 0;
out:
	sodium_memzero(&h, sizeof(h));
	return r;
}

static struct cc_key *
key_alloc(void)
{
	struct cc_key *k;

	if (sodium_init() < 0)
		return NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return NULL;
	sodium_memzero(k, sizeof(*k));
	return k;
}

void
cc_keys_free(struct cc_key *key)
{
	if (key == NULL)
		return;
	/* sodium_free wipes before it unmaps. */
	sodium_free(key);
}

int
cc_keys_generate(struct cc_key **ret_key)
{
	struct cc_key *k = NULL;
	int r = CC_ERR_INTERNAL;

	if (ret_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_key = NULL;
	if ((k = key_alloc()) == NULL)
		return CC_ERR_ALLOC;
	cc_group_scalar_random(k->s);
	if ((r = cc_keys_fingerprint(k->fingerprint, k->s)) != 0)
		goto out;
	*ret_key = k;
	k = NULL;
	r = 0;
out:
	cc_keys_free(k);
	return r;
}

int
cc_keys_load(struct cc_key **ret_key, const char *path, struct cc_diag *diag)
{
	struct cc_key *k = NULL;
	uint8_t extra;
	struct stat sb;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r = CC_ERR_INTERNAL;

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
		r = CC_ERR_IO;
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		cc_diag_set(diag, "%s: mode %03o lets others read or write the "
		    "key; it must be 0600", path, (unsigned)(sb.st_mode & 0777));
		r = CC_ERR_AUTH;
		goto out;
	}
	if ((k = key_alloc()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	while (got < sizeof(k->s)) {
		n = read(fd, k->s + got, sizeof(k->s) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
			r = CC_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != sizeof(k->s) || read(fd, &extra, 1) != 0) {
		cc_diag_set(diag, "%s: a key file holds exactly 32 bytes", path);
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (cc_group_scalar_check(k->s) != 0) {
		cc_diag_set(diag, "%s: not a canonical non-zero scalar", path);
		r = CC_ERR_SCALAR;
		goto out;
	}
	if ((r = cc_keys_fingerprint(k->fingerprint, k->s)) != 0)
		goto out;
	*ret_key = k;
	k = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	cc_keys_free(k);
	return r;
}

/* The directory part of path ("." if none) into out. */
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

static int
fsync_dir(const char *dir, struct cc_diag *diag)
{
	int fd, r = 0;

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

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
cc_keys_write(const struct cc_key *key, const char *path, bool replace,
    struct cc_diag *diag)
{
	char tmp[PATH_BUF], dir[PATH_BUF];
	int fd = -1, r = CC_ERR_INTERNAL;
	bool have_tmp = false;

	if (key == NULL || path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (cc_group_scalar_check(key->s) != 0)
		return CC_ERR_SCALAR;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp) ||
	    dir_of(dir, sizeof(dir), path) != 0) {
		cc_diag_set(diag, "key path is too long");
		return CC_ERR_LIMIT;
	}
	/* mkstemp creates the file 0600 and O_EXCL. */
	if ((fd = mkstemp(tmp)) < 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return CC_ERR_IO;
	}
	have_tmp = true;
	if (fchmod(fd, 0600) != 0 || write_all(fd, key->s, sizeof(key->s)) != 0 ||
	    fsync(fd) != 0) {
		cc_diag_set(diag, "%s: %s", tmp, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		cc_diag_set(diag, "%s: %s", tmp, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	fd = -1;
	if (replace) {
		if (rename(tmp, path) != 0) {
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
			r = CC_ERR_IO;
			goto out;
		}
		have_tmp = false;
	} else {
		/* link() never replaces: an existing key stays untouched. */
		if (link(tmp, path) != 0) {
			r = errno == EEXIST ? CC_ERR_EXISTS : CC_ERR_IO;
			cc_diag_set(diag, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (have_tmp)
		unlink(tmp);
	if (r == 0)
		r = fsync_dir(dir, diag);
	return r;
}

static int
join(char *out, size_t outsz, const char *dir, const char *name,
    struct cc_diag *diag)
{
	if (snprintf(out, outsz, "%s/%s", dir, name) >= (int)outsz) {
		cc_diag_set(diag, "node directory path is too long");
		return CC_ERR_LIMIT;
	}
	return 0;
}

/*
 * Step 3 of a rotation (keys.h): the store is under key.new. Overwrite
 * the old key's bytes (best effort: the filesystem may keep copies), then
 * move key.new over it and make the rename durable.
 */
static int
finish_rotation(const char *dir, struct cc_diag *diag)
{
	char path[PATH_BUF], new_path[PATH_BUF];
	static const uint8_t zero[CC_SCALAR_BYTES];
	int fd, r;

	if ((r = join(path, sizeof(path), dir, CC_KEY_FILE, diag)) != 0 ||
	    (r = join(new_path, sizeof(new_path), dir, CC_KEY_NEW_FILE, diag)) != 0)
		return r;
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (write_all(fd, zero, sizeof(zero)) == 0)
			(void)fsync(fd);
		close(fd);
	}
	if (rename(new_path, path) != 0) {
		cc_diag_set(diag, "%s: %s", new_path, strerror(errno));
		return CC_ERR_IO;
	}
	return fsync_dir(dir, diag);
}

/* Destroy an uncommitted key.new: overwrite, unlink, fsync the directory. */
static int
discard_new_key(const char *dir, struct cc_diag *diag)
{
	char new_path[PATH_BUF];
	static const uint8_t zero[CC_SCALAR_BYTES];
	int fd, r;

	if ((r = join(new_path, sizeof(new_path), dir, CC_KEY_NEW_FILE, diag)) != 0)
		return r;
	if ((fd = open(new_path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (write_all(fd, zero, sizeof(zero)) == 0)
			(void)fsync(fd);
		close(fd);
	}
	if (unlink(new_path) != 0 && errno != ENOENT) {
		cc_diag_set(diag, "%s: %s", new_path, strerror(errno));
		return CC_ERR_IO;
	}
	return fsync_dir(dir, diag);
}

int
cc_keys_open(struct cc_key **ret_key, const char *dir, const char *store_fp,
    int *ret_recovered, struct cc_diag *diag)
{
	char path[PATH_BUF], new_path[PATH_BUF];
	struct cc_key *k = NULL, *knew = NULL;
	int recovered = 0, r = CC_ERR_INTERNAL;

	if (ret_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_key = NULL;
	if (ret_recovered != NULL)
		*ret_recovered = 0;
	if (dir == NULL || store_fp == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = join(path, sizeof(path), dir, CC_KEY_FILE, diag)) != 0 ||
	    (r = join(new_path, sizeof(new_path), dir, CC_KEY_NEW_FILE, diag)) != 0)
		goto out;
	if (access(new_path, F_OK) == 0) {
		r = cc_keys_load(&knew, new_path, diag);
		if (r == 0 && strcmp(knew->fingerprint, store_fp) == 0) {
			/* The re-blinding committed: finish step 3. */
			if ((r = finish_rotation(dir, diag)) != 0)
				goto out;
			recovered = 1;
		} else {
			/* It never committed: the rows are still under key. */
			if ((r = discard_new_key(dir, diag)) != 0)
				goto out;
			recovered = -1;
		}
	}
	if ((r = cc_keys_load(&k, path, diag)) != 0)
		goto out;
	if (strcmp(k->fingerprint, store_fp) != 0) {
		cc_diag_set(diag, "%s (fingerprint %s) is not the key the store "
		    "is under (fingerprint %s)", path, k->fingerprint, store_fp);
		r = CC_ERR_STATE;
		goto out;
	}
	*ret_key = k;
	k = NULL;
	if (ret_recovered != NULL)
		*ret_recovered = recovered;
	r = 0;
out:
	cc_keys_free(k);
	cc_keys_free(knew);
	return r;
}

int
cc_keys_rotate(struct cc_store *st, const char *dir, struct cc_key **io_key,
    unsigned threads, struct cc_diag *diag)
{
	char new_path[PATH_BUF];
	struct cc_key *knew = NULL;
	uint8_t *factor = NULL;
	int r = CC_ERR_INTERNAL;
	bool wrote = false, committed = false;

	if (st == NULL || dir == NULL || io_key == NULL || *io_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = join(new_path, sizeof(new_path), dir, CC_KEY_NEW_FILE, diag)) != 0)
		goto out;
	if ((factor = sodium_malloc(CC_SCALAR_BYTES)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = cc_keys_generate(&knew)) != 0)
		goto out;
	/* Step 1: the new key is durable before any row depends on it. */
	if ((r = cc_keys_write(knew, new_path, true, diag)) != 0)
		goto out;
	wrote = true;
	/* Step 2: factor = s_new · s_old^-1, applied in one transaction. */
	if ((r = cc_group_scalar_invert(factor, (*io_key)->s)) != 0)
		goto out;
	cc_group_scalar_mul(factor, knew->s, factor);
	if ((r = cc_store_reblind(st, factor, (*io_key)->fingerprint,
	    knew->fingerprint, threads, diag)) != 0)
		goto out;
	committed = true;
	/* Step 3: only now may the old key go. */
	if ((r = finish_rotation(dir, diag)) != 0)
		goto out;
	cc_keys_free(*io_key);
	*io_key = knew;
	knew = NULL;
	r = 0;
out:
	if (r != 0 && wrote && !committed)
		(void)discard_new_key(dir, NULL);
	if (factor != NULL)
		sodium_free(factor);
	cc_keys_free(knew);
	return r;
}
