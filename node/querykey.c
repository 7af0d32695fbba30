/* crosscount-node: the per-query scalar r (querykey.h; SPEC.md 5.4, 7.4). */
#include "node/querykey.h"
#include "protocol/file.h"
#include "protocol/hex.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define PATH_BUF 4096
#define KEY_SUFFIX ".r"
/* Temporary files: ".<id>.r.XXXXXX" (cc_file_write, CC_FILE_HIDDEN_TEMP). */
#define TMP_PREFIX "."

bool
cc_querykey_id_valid(const char *s)
{
	return cc_hex_valid(s, CC_QUERY_ID_HEX);
}

int
cc_querykey_dir(char *out, size_t outsz, const char *dir, struct cc_diag *diag)
{
	struct stat sb;

	if (out == NULL || outsz == 0 || dir == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	out[0] = '\0';
	if ((size_t)snprintf(out, outsz, "%s/%s", dir, CC_QUERYKEY_DIR) >= outsz) {
		out[0] = '\0';
		cc_diag_set(diag, "the node directory path is too long");
		return CC_ERR_LIMIT;
	}
	if (mkdir(out, 0700) != 0 && errno != EEXIST) {
		cc_diag_set(diag, "%s: %s", out, strerror(errno));
		return CC_ERR_IO;
	}
	if (lstat(out, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		cc_diag_set(diag, "%s: not a directory", out);
		return CC_ERR_IO;
	}
	return 0;
}

static int
key_path(char *out, size_t outsz, const char *qdir, const char *query_id)
{
	return (size_t)snprintf(out, outsz, "%s/%s%s", qdir, query_id,
	    KEY_SUFFIX) < outsz ? 0 : CC_ERR_LIMIT;
}

static struct cc_querykey *
key_alloc(void)
{
	struct cc_querykey *k;

	if (sodium_init() < 0)
		return NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return NULL;
	sodium_memzero(k, sizeof(*k));
	return k;
}

void
cc_querykey_free(struct cc_querykey *key)
{
	if (key != NULL)
		sodium_free(key);  /* wipes before it unmaps */
}

static void
encode(uint8_t out[CC_QUERYKEY_FILE_BYTES], const struct cc_querykey *k)
{
	uint64_t d = (uint64_t)k->deadline;
	int i;

	memcpy(out, CC_QUERYKEY_MAGIC, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(d >> (56 - 8 * i));
	memcpy(out + 12, k->r, CC_SCALAR_BYTES);
}

/* Read exactly one key file at path into a new key. */
static int
load_path(struct cc_querykey **ret_key, const char *path,
    struct cc_diag *diag)
{
	struct cc_querykey *k = NULL;
	uint8_t *raw = NULL;
	uint64_t d = 0;
	int r = CC_ERR_INTERNAL, i;

	*ret_key = NULL;
	if ((raw = sodium_malloc(CC_QUERYKEY_FILE_BYTES)) == NULL ||
	    (k = key_alloc()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	r = cc_file_read_key(path, raw, CC_QUERYKEY_FILE_BYTES, "per-query key",
	    diag);
	if (r == 0 && memcmp(raw, CC_QUERYKEY_MAGIC, 4) != 0)
		r = CC_ERR_FORMAT;
	if (r == CC_ERR_FORMAT)
		cc_diag_set(diag, "%s: not a per-query key file (%d bytes "
		    "starting with %s)", path, CC_QUERYKEY_FILE_BYTES,
		    CC_QUERYKEY_MAGIC);
	if (r != 0)
		goto out;
	for (i = 0; i < 8; i++)
		d = d << 8 | raw[4 + i];
	k->deadline = (int64_t)d;
	memcpy(k->r, raw + 12, CC_SCALAR_BYTES);
	if (cc_group_scalar_check(k->r) != 0) {
		cc_diag_set(diag, "%s: not a canonical non-zero scalar", path);
		r = CC_ERR_SCALAR;
		goto out;
	}
	*ret_key = k;
	k = NULL;
	r = 0;
out:
	if (raw != NULL)
		sodium_free(raw);
	cc_querykey_free(k);
	return r;
}

int
cc_querykey_load(struct cc_querykey **ret_key, const char *dir,
    const char *query_id, struct cc_diag *diag)
{
	char qdir[PATH_BUF], path[PATH_BUF];
	int r;

	if (ret_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_key = NULL;
	if (dir == NULL || !cc_querykey_id_valid(query_id))
		return CC_ERR_INVALID_ARGUMENT;
	if ((size_t)snprintf(qdir, sizeof(qdir), "%s/%s", dir,
	    CC_QUERYKEY_DIR) >= sizeof(qdir) ||
	    key_path(path, sizeof(path), qdir, query_id) != 0)
		return CC_ERR_LIMIT;
	if ((r = load_path(ret_key, path, diag)) != 0)
		return r;
	return 0;
}

int
cc_querykey_open(struct cc_querykey **ret_key, const char *dir,
    const char *query_id, int64_t deadline, bool *ret_created,
    struct cc_diag *diag)
{
	struct cc_querykey *k = NULL;
	uint8_t *raw = NULL;
	char qdir[PATH_BUF], path[PATH_BUF];
	int r = CC_ERR_INTERNAL;

	if (ret_created != NULL)
		*ret_created = false;
	if (ret_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_key = NULL;
	if (dir == NULL || !cc_querykey_id_valid(query_id))
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_querykey_dir(qdir, sizeof(qdir), dir, diag)) != 0)
		return r;
	if (key_path(path, sizeof(path), qdir, query_id) != 0)
		return CC_ERR_LIMIT;
	/* Resume: a restarted node finishes the query with the same r. */
	r = load_path(ret_key, path, diag);
	if (r != CC_ERR_NOT_FOUND)
		return r;
	cc_diag_set(diag, "%s", "");

	if ((k = key_alloc()) == NULL ||
	    (raw = sodium_malloc(CC_QUERYKEY_FILE_BYTES)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	cc_group_scalar_random(k->r);
	k->deadline = deadline;
	encode(raw, k);
	/*
	 * Linked, never renamed: whoever links first owns r, and a racing
	 * process loads that one. The temporary name is ".<id>.r.XXXXXX"
	 * (the sweep removes one left by a crash); it is wiped unless it
	 * became the key, and a key whose directory entry could not be made
	 * durable is taken back (a restart could not resume with it).
	 */
	r = cc_file_write(path, raw, CC_QUERYKEY_FILE_BYTES, 0600,
	    CC_FILE_SECRET | CC_FILE_HIDDEN_TEMP, diag);
	if (r == CC_ERR_EXISTS) {
		cc_diag_set(diag, "%s", "");
		r = load_path(ret_key, path, diag);
		goto out;
	}
	if (r != 0)
		goto out;
	if (ret_created != NULL)
		*ret_created = true;
	*ret_key = k;
	k = NULL;
	r = 0;
out:
	if (raw != NULL)
		sodium_free(raw);
	cc_querykey_free(k);
	return r;
}

int
cc_querykey_destroy(const char *dir, const char *query_id, bool *ret_existed,
    struct cc_diag *diag)
{
	char qdir[PATH_BUF], path[PATH_BUF];
	bool existed = false;
	int r;

	if (ret_existed != NULL)
		*ret_existed = false;
	if (dir == NULL || !cc_querykey_id_valid(query_id))
		return CC_ERR_INVALID_ARGUMENT;
	if ((size_t)snprintf(qdir, sizeof(qdir), "%s/%s", dir,
	    CC_QUERYKEY_DIR) >= sizeof(qdir) ||
	    key_path(path, sizeof(path), qdir, query_id) != 0)
		return CC_ERR_LIMIT;
	r = cc_file_destroy(path, &existed, diag);
	if (ret_existed != NULL)
		*ret_existed = existed;
	return r;
}

/* "<32 hex>.r" -> the id in out; false for any other name. */
static bool
key_name(const char *name, char out[CC_QUERY_ID_HEX + 1])
{
	if (strlen(name) != CC_QUERY_ID_HEX + strlen(KEY_SUFFIX) ||
	    strcmp(name + CC_QUERY_ID_HEX, KEY_SUFFIX) != 0)
		return false;
	memcpy(out, name, CC_QUERY_ID_HEX);
	out[CC_QUERY_ID_HEX] = '\0';
	return cc_querykey_id_valid(out);
}

/* ".<32 hex>.r.XXXXXX": a temporary file left by an interrupted open. */
static bool
tmp_name(const char *name)
{
	char id[CC_QUERY_ID_HEX + 1];
	size_t plen = strlen(TMP_PREFIX), slen = strlen(KEY_SUFFIX);

	if (strlen(name) != plen + CC_QUERY_ID_HEX + slen + 7 ||
	    strncmp(name, TMP_PREFIX, plen) != 0 ||
	    strncmp(name + plen + CC_QUERY_ID_HEX, KEY_SUFFIX, slen) != 0 ||
	    name[plen + CC_QUERY_ID_HEX + slen] != '.')
		return false;
	memcpy(id, name + plen, CC_QUERY_ID_HEX);
	id[CC_QUERY_ID_HEX] = '\0';
	return cc_querykey_id_valid(id);
}

int
cc_querykey_sweep(const char *dir, int64_t now, int64_t margin,
    cc_querykey_swept_fn fn, void *ctx, size_t *ret_n, struct cc_diag *diag)
{
	struct cc_querykey *k = NULL;
	char qdir[PATH_BUF], path[PATH_BUF], id[CC_QUERY_ID_HEX + 1];
	struct dirent *e;
	DIR *d = NULL;
	size_t n = 0;
	bool existed;
	int r = 0;

	if (ret_n != NULL)
		*ret_n = 0;
	if (dir == NULL || margin < 0)
		return CC_ERR_INVALID_ARGUMENT;
	if ((size_t)snprintf(qdir, sizeof(qdir), "%s/%s", dir,
	    CC_QUERYKEY_DIR) >= sizeof(qdir))
		return CC_ERR_LIMIT;
	if ((d = opendir(qdir)) == NULL) {
		if (errno == ENOENT)
			return 0;  /* no query has ever run */
		cc_diag_set(diag, "%s: %s", qdir, strerror(errno));
		return CC_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		if (tmp_name(e->d_name)) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", qdir,
			    e->d_name) < sizeof(path))
				(void)cc_file_destroy(path, NULL, NULL);
			continue;
		}
		if (!key_name(e->d_name, id) ||
		    key_path(path, sizeof(path), qdir, id) != 0)
			continue;
		if (load_path(&k, path, NULL) != 0)
			continue;
		/* now - margin > deadline, without overflow. */
		if (now > k->deadline && now - k->deadline > margin) {
			if ((r = cc_file_destroy(path, &existed, diag)) != 0)
				goto out;
			if (existed) {
				n++;
				if (fn != NULL)
					fn(ctx, id);
			}
		}
		cc_querykey_free(k);
		k = NULL;
	}
	if (ret_n != NULL)
		*ret_n = n;
	r = 0;
out:
	cc_querykey_free(k);
	closedir(d);
	return r;
}
