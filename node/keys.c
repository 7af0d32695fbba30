/* crosscount-node: the at-rest key and its rotation (keys.h; SPEC.md 6.1, 6.3). */
#include "node/keys.h"
#include "node/store.h"
#include "protocol/file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
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
	int r = CC_ERR_INTERNAL;

	if (ret_key == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_key = NULL;
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((k = key_alloc()) == NULL)
		return CC_ERR_ALLOC;
	if ((r = cc_file_read_key(path, k->s, sizeof(k->s), "key", diag)) != 0)
		goto out;
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
	cc_keys_free(k);
	return r;
}

int
cc_keys_write(const struct cc_key *key, const char *path, bool replace,
    struct cc_diag *diag)
{
	if (key == NULL || path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (cc_group_scalar_check(key->s) != 0)
		return CC_ERR_SCALAR;
	return cc_file_write(path, key->s, sizeof(key->s), 0600, CC_FILE_SECRET |
	    (replace ? CC_FILE_REPLACE : 0), diag);
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
	int r;

	if ((r = join(path, sizeof(path), dir, CC_KEY_FILE, diag)) != 0 ||
	    (r = join(new_path, sizeof(new_path), dir, CC_KEY_NEW_FILE, diag)) != 0)
		return r;
	(void)cc_file_overwrite(path, NULL);
	if (rename(new_path, path) != 0) {
		cc_diag_set(diag, "%s: %s", new_path, strerror(errno));
		return CC_ERR_IO;
	}
	return cc_file_sync_dir(dir, diag);
}

/* Destroy an uncommitted key.new: overwrite, unlink, fsync the directory. */
static int
discard_new_key(const char *dir, struct cc_diag *diag)
{
	char new_path[PATH_BUF];
	int r;

	if ((r = join(new_path, sizeof(new_path), dir, CC_KEY_NEW_FILE, diag)) != 0)
		return r;
	return cc_file_destroy(new_path, NULL, diag);
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
