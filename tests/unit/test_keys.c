/* Unit tests: the at-rest key file and crash-safe rotation (node/keys.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "node/keys.h"
#include "node/store.h"
#include "protocol/group.h"

struct fixture {
	char dir[64];
	char key_path[128];
	char new_path[128];
	char db_path[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-test-keys-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->key_path, sizeof(f->key_path), "%s/key", f->dir);
	snprintf(f->new_path, sizeof(f->new_path), "%s/key.new", f->dir);
	snprintf(f->db_path, sizeof(f->db_path), "%s/node.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
write_bytes(const char *path, const void *p, size_t n, mode_t mode)
{
	FILE *fp;

	unlink(path);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
fingerprint_vector(void **state)
{
	/* s = 1: s·G is the generator, so the fingerprint is the first 8
	 * bytes of SHA-256("crosscount-v1-key-fingerprint" || G), computed
	 * independently (Python hashlib) as 96e2fb14b732b3ab. */
	uint8_t one[32] = { 1 };
	uint8_t zero[32] = { 0 };
	char fp[CC_KEY_FINGERPRINT_LEN + 1];

	(void)state;
	assert_int_equal(cc_keys_fingerprint(fp, one), 0);
	assert_string_equal(fp, "96e2fb14b732b3ab");
	assert_int_equal(cc_keys_fingerprint(fp, zero), CC_ERR_SCALAR);
	assert_string_equal(fp, "");
}

static void
generate_write_load_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct cc_key *k = NULL, *k2 = NULL, *other = NULL;
	struct stat sb;
	char hex[65], cmd[160];

	assert_int_equal(cc_keys_generate(&k), 0);
	assert_int_equal(cc_group_scalar_check(k->s), 0);
	assert_int_equal(strlen(k->fingerprint), CC_KEY_FINGERPRINT_LEN);
	/* The fingerprint is not a piece of the key. */
	sodium_bin2hex(hex, sizeof(hex), k->s, 32);
	assert_null(strstr(hex, k->fingerprint));
	assert_int_equal(cc_keys_write(k, f->key_path, false, NULL), 0);
	assert_int_equal(stat(f->key_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 32);
	assert_int_equal(cc_keys_load(&k2, f->key_path, NULL), 0);
	assert_memory_equal(k->s, k2->s, 32);
	assert_string_equal(k->fingerprint, k2->fingerprint);
	/* Never overwritten without replace. */
	assert_int_equal(cc_keys_generate(&other), 0);
	assert_string_not_equal(other->fingerprint, k->fingerprint);
	assert_int_equal(cc_keys_write(other, f->key_path, false, NULL),
	    CC_ERR_EXISTS);
	cc_keys_free(k2);
	k2 = NULL;
	assert_int_equal(cc_keys_load(&k2, f->key_path, NULL), 0);
	assert_memory_equal(k->s, k2->s, 32);
	/* With replace it is, atomically. */
	assert_int_equal(cc_keys_write(other, f->key_path, true, NULL), 0);
	cc_keys_free(k2);
	k2 = NULL;
	assert_int_equal(cc_keys_load(&k2, f->key_path, NULL), 0);
	assert_memory_equal(other->s, k2->s, 32);
	/* No temporary files are left behind. */
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | grep -c tmp) -eq 0",
	    f->dir);
	assert_int_equal(system(cmd), 0);
	cc_keys_free(k);
	cc_keys_free(k2);
	cc_keys_free(other);
	cc_keys_free(NULL);
}

static void
load_refuses_bad_files(void **state)
{
	struct fixture *f = *state;
	struct cc_key *k = (struct cc_key *)1;
	uint8_t buf[33];
	uint8_t one[32] = { 1 };

	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), CC_ERR_NOT_FOUND);
	assert_null(k);
	write_bytes(f->key_path, one, 32, 0640);
	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), CC_ERR_AUTH);
	write_bytes(f->key_path, one, 31, 0600);
	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), CC_ERR_FORMAT);
	memset(buf, 0, sizeof(buf));
	buf[0] = 1;
	write_bytes(f->key_path, buf, 33, 0600);
	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), CC_ERR_FORMAT);
	write_bytes(f->key_path, buf, 0, 0600);
	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), CC_ERR_FORMAT);
	memset(buf, 0, sizeof(buf));
	write_bytes(f->key_path, buf, 32, 0600);
	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), CC_ERR_SCALAR);
	memset(buf, 0xff, sizeof(buf));  /* not below the group order */
	write_bytes(f->key_path, buf, 32, 0600);
	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), CC_ERR_SCALAR);
	assert_null(k);
	write_bytes(f->key_path, one, 32, 0600);
	assert_int_equal(cc_keys_load(&k, f->key_path, NULL), 0);
	cc_keys_free(k);
}

/* A node with n persons stored under a fresh key; returns key and store. */
static void
make_node(struct fixture *f, unsigned n, struct cc_key **ret_k,
    struct cc_store **ret_st)
{
	struct cc_store_import_log log;
	struct cc_store_episode ep;
	struct cc_key *k = NULL;
	struct cc_store *st = NULL;
	char c[16];
	uint8_t h[32];
	int64_t cid;
	unsigned i;
	bool added;

	assert_int_equal(cc_keys_generate(&k), 0);
	assert_int_equal(cc_keys_write(k, f->key_path, false, NULL), 0);
	assert_int_equal(cc_store_create(f->db_path, k->fingerprint, NULL), 0);
	assert_int_equal(cc_store_open(&st, f->db_path, NULL), 0);
	assert_int_equal(cc_store_import_begin(st, CC_STORE_SNAPSHOT,
	    k->fingerprint, NULL), 0);
	assert_int_equal(cc_store_import_category(st, "a", 1, &cid, NULL), 0);
	for (i = 0; i < n; i++) {
		memset(&ep, 0, sizeof(ep));
		snprintf(c, sizeof(c), "20100101%04u", i);
		assert_int_equal(cc_group_hash_identity(h, c), 0);
		assert_int_equal(cc_group_mult(ep.pseudonym, k->s, h), 0);
		ep.birth_year = 2010;
		ep.birth_month = 1;
		ep.sex = CC_SEX_FEMALE;
		ep.category_id = cid;
		ep.start = (struct cc_date){ 2024, 1, 1 };
		ep.ongoing = true;
		ep.unit = "";
		assert_int_equal(cc_store_import_add(st, &ep, &added, NULL), 0);
	}
	memset(&log, 0, sizeof(log));
	log.file_name = "t.csv";
	log.mode = CC_STORE_SNAPSHOT;
	log.on = (struct cc_date){ 2024, 6, 1 };
	log.outcome = "ok";
	assert_int_equal(cc_store_import_commit(st, &log, NULL), 0);
	*ret_k = k;
	*ret_st = st;
}

struct check {
	const uint8_t *s;
	unsigned i;
	int bad;
};

static int
check_fn(void *ctx, const uint8_t p[32])
{
	struct check *c = ctx;
	char id[16];
	uint8_t h[32], want[32];

	snprintf(id, sizeof(id), "20100101%04u", c->i++);
	if (cc_group_hash_identity(h, id) != 0 ||
	    cc_group_mult(want, c->s, h) != 0 || memcmp(want, p, 32) != 0)
		c->bad++;
	return 0;
}

/* Every stored pseudonym is s·H(id) for its person. */
static void
assert_rows_under(struct cc_store *st, const uint8_t s[32], unsigned n)
{
	struct check c = { s, 0, 0 };

	assert_int_equal(cc_store_each_pseudonym(st, check_fn, &c, NULL), 0);
	assert_int_equal(c.i, n);
	assert_int_equal(c.bad, 0);
}

static void
rotate_reblinds_and_destroys_old_key(void **state)
{
	struct fixture *f = *state;
	struct cc_key *k = NULL, *old = NULL, *loaded = NULL;
	struct cc_store *st = NULL;
	char fp[CC_STORE_FP_MAX];
	int rec = 7;

	make_node(f, 50, &k, &st);
	assert_int_equal(cc_keys_load(&old, f->key_path, NULL), 0);
	assert_int_equal(cc_keys_rotate(st, f->dir, &k, 0, NULL), 0);
	assert_memory_not_equal(k->s, old->s, 32);
	assert_int_equal(access(f->new_path, F_OK), -1);
	assert_int_equal(cc_store_key_fingerprint(st, fp, NULL), 0);
	assert_string_equal(fp, k->fingerprint);
	assert_rows_under(st, k->s, 50);
	assert_int_equal(cc_keys_open(&loaded, f->dir, fp, &rec, NULL), 0);
	assert_int_equal(rec, 0);
	assert_memory_equal(loaded->s, k->s, 32);
	/* The old key no longer opens this node. */
	assert_int_equal(cc_keys_write(old, f->key_path, true, NULL), 0);
	cc_keys_free(loaded);
	loaded = NULL;
	assert_int_equal(cc_keys_open(&loaded, f->dir, fp, NULL, NULL),
	    CC_ERR_STATE);
	assert_null(loaded);
	cc_keys_free(k);
	cc_keys_free(old);
	cc_store_close(st);
}

static void
crash_before_commit_keeps_old_key(void **state)
{
	struct fixture *f = *state;
	struct cc_key *k = NULL, *knew = NULL, *loaded = NULL;
	struct cc_store *st = NULL;
	char fp[CC_STORE_FP_MAX];
	int rec = 0;

	make_node(f, 20, &k, &st);
	/* Step 1 done, step 2 never committed. */
	assert_int_equal(cc_keys_generate(&knew), 0);
	assert_int_equal(cc_keys_write(knew, f->new_path, true, NULL), 0);
	assert_int_equal(cc_store_key_fingerprint(st, fp, NULL), 0);
	assert_int_equal(cc_keys_open(&loaded, f->dir, fp, &rec, NULL), 0);
	assert_int_equal(rec, -1);
	assert_memory_equal(loaded->s, k->s, 32);
	assert_int_equal(access(f->new_path, F_OK), -1);
	assert_rows_under(st, k->s, 20);
	cc_keys_free(k);
	cc_keys_free(knew);
	cc_keys_free(loaded);
	cc_store_close(st);
}

static void
crash_after_commit_finishes_rotation(void **state)
{
	struct fixture *f = *state;
	struct cc_key *k = NULL, *knew = NULL, *loaded = NULL;
	struct cc_store *st = NULL;
	uint8_t factor[32];
	char fp[CC_STORE_FP_MAX];
	int rec = 0;

	make_node(f, 20, &k, &st);
	/* Steps 1 and 2 done; the process died before step 3. */
	assert_int_equal(cc_keys_generate(&knew), 0);
	assert_int_equal(cc_keys_write(knew, f->new_path, true, NULL), 0);
	assert_int_equal(cc_group_scalar_invert(factor, k->s), 0);
	cc_group_scalar_mul(factor, knew->s, factor);
	assert_int_equal(cc_store_reblind(st, factor, k->fingerprint,
	    knew->fingerprint, 0, NULL), 0);
	assert_int_equal(cc_store_key_fingerprint(st, fp, NULL), 0);
	assert_string_equal(fp, knew->fingerprint);
	assert_int_equal(cc_keys_open(&loaded, f->dir, fp, &rec, NULL), 0);
	assert_int_equal(rec, 1);
	assert_memory_equal(loaded->s, knew->s, 32);
	assert_int_equal(access(f->new_path, F_OK), -1);
	cc_keys_free(loaded);
	loaded = NULL;
	/* DIR/key is now the new key; opening again changes nothing. */
	assert_int_equal(cc_keys_load(&loaded, f->key_path, NULL), 0);
	assert_memory_equal(loaded->s, knew->s, 32);
	cc_keys_free(loaded);
	loaded = NULL;
	assert_int_equal(cc_keys_open(&loaded, f->dir, fp, &rec, NULL), 0);
	assert_int_equal(rec, 0);
	assert_rows_under(st, knew->s, 20);
	/* The store refuses rows under the old key from now on. */
	assert_int_equal(cc_store_import_begin(st, CC_STORE_APPEND,
	    k->fingerprint, NULL), CC_ERR_STATE);
	cc_keys_free(k);
	cc_keys_free(knew);
	cc_keys_free(loaded);
	cc_store_close(st);
}

static void
crash_after_old_key_wiped_still_recovers(void **state)
{
	struct fixture *f = *state;
	struct cc_key *k = NULL, *knew = NULL, *loaded = NULL;
	struct cc_store *st = NULL;
	uint8_t factor[32], zero[32] = { 0 };
	char fp[CC_STORE_FP_MAX];
	int rec = 0;

	make_node(f, 5, &k, &st);
	assert_int_equal(cc_keys_generate(&knew), 0);
	assert_int_equal(cc_keys_write(knew, f->new_path, true, NULL), 0);
	assert_int_equal(cc_group_scalar_invert(factor, k->s), 0);
	cc_group_scalar_mul(factor, knew->s, factor);
	assert_int_equal(cc_store_reblind(st, factor, k->fingerprint,
	    knew->fingerprint, 1, NULL), 0);
	/* Died in step 3 between wiping the old key and the rename. */
	write_bytes(f->key_path, zero, 32, 0600);
	assert_int_equal(cc_store_key_fingerprint(st, fp, NULL), 0);
	assert_int_equal(cc_keys_open(&loaded, f->dir, fp, &rec, NULL), 0);
	assert_int_equal(rec, 1);
	assert_memory_equal(loaded->s, knew->s, 32);
	assert_rows_under(st, knew->s, 5);
	cc_keys_free(k);
	cc_keys_free(knew);
	cc_keys_free(loaded);
	cc_store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fingerprint_vector),
		cmocka_unit_test_setup_teardown(generate_write_load_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(load_refuses_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(rotate_reblinds_and_destroys_old_key, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_before_commit_keeps_old_key, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_after_commit_finishes_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_after_old_key_wiped_still_recovers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
