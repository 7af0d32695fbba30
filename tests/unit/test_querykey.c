/* Unit tests: the per-query scalar r (node/querykey.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>

#include <sodium.h>

#include "node/querykey.h"

#define QID "0123456789abcdef0123456789abcdef"
#define QID2 "fedcba9876543210fedcba9876543210"

struct fixture {
	char dir[64];
	char path[160];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-test-querykey-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/queries/%s.r", f->dir, QID);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
test_id_valid(void **state)
{
	(void)state;
	assert_true(cc_querykey_id_valid(QID));
	assert_false(cc_querykey_id_valid(NULL));
	assert_false(cc_querykey_id_valid(""));
	assert_false(cc_querykey_id_valid("0123456789abcdef0123456789abcde"));
	assert_false(cc_querykey_id_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(cc_querykey_id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(cc_querykey_id_valid("../3456789abcdef0123456789abcdef"));
	assert_false(cc_querykey_id_valid("0123456789abcdeg0123456789abcdef"));
}

/* Create, then open again: the same r (a restarted node resumes). */
static void
test_create_and_resume(void **state)
{
	struct fixture *f = *state;
	struct cc_querykey *a = NULL, *b = NULL, *c = NULL;
	struct stat sb;
	char qdir[128];
	bool created = false;

	assert_int_equal(cc_querykey_load(&a, f->dir, QID, NULL),
	    CC_ERR_NOT_FOUND);
	assert_null(a);
	assert_int_equal(cc_querykey_open(&a, f->dir, QID, 1700000000,
	    &created, NULL), 0);
	assert_true(created);
	assert_int_equal(cc_group_scalar_check(a->r), 0);
	assert_int_equal(a->deadline, 1700000000);

	/* The file: 0600, exactly the format, in a 0700 directory. */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, CC_QUERYKEY_FILE_BYTES);
	snprintf(qdir, sizeof(qdir), "%s/queries", f->dir);
	assert_int_equal(stat(qdir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);

	/* A second open (different deadline) loads the same key. */
	assert_int_equal(cc_querykey_open(&b, f->dir, QID, 5, &created, NULL), 0);
	assert_false(created);
	assert_memory_equal(a->r, b->r, CC_SCALAR_BYTES);
	assert_int_equal(b->deadline, 1700000000);
	assert_int_equal(cc_querykey_load(&c, f->dir, QID, NULL), 0);
	assert_memory_equal(a->r, c->r, CC_SCALAR_BYTES);

	/* Another query gets another r. */
	cc_querykey_free(c);
	c = NULL;
	assert_int_equal(cc_querykey_open(&c, f->dir, QID2, 1, &created, NULL), 0);
	assert_true(created);
	assert_memory_not_equal(a->r, c->r, CC_SCALAR_BYTES);

	/* No temporary file is left behind. */
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 2",
		    qdir);
		assert_int_equal(system(cmd), 0);
	}
	cc_querykey_free(a);
	cc_querykey_free(b);
	cc_querykey_free(c);
	cc_querykey_free(NULL);
}

static void
test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct cc_querykey *k = NULL;

	assert_int_equal(cc_querykey_open(&k, f->dir, "../../etc/passwd", 1,
	    NULL, NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querykey_open(&k, NULL, QID, 1, NULL, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querykey_open(NULL, f->dir, QID, 1, NULL, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querykey_load(&k, f->dir, "x", NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querykey_destroy(f->dir, "x", NULL, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(k);
}

static void
write_file(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Files that are not exactly a private key file are refused. */
static void
test_refuses_bad_files(void **state)
{
	struct fixture *f = *state;
	struct cc_querykey *k = NULL;
	uint8_t raw[CC_QUERYKEY_FILE_BYTES + 1];
	struct cc_diag d = { "" };

	assert_int_equal(cc_querykey_open(&k, f->dir, QID, 99, NULL, NULL), 0);
	cc_querykey_free(k);
	k = NULL;
	{
		FILE *fp = fopen(f->path, "rb");

		assert_non_null(fp);
		assert_int_equal(fread(raw, 1, CC_QUERYKEY_FILE_BYTES, fp),
		    CC_QUERYKEY_FILE_BYTES);
		fclose(fp);
	}
	/* Group-readable. */
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(cc_querykey_open(&k, f->dir, QID, 99, NULL, &d),
	    CC_ERR_AUTH);
	assert_non_null(strstr(d.text, "0600"));
	assert_null(k);
	/* Truncated, one byte too many, wrong magic, zero scalar. */
	write_file(f->path, raw, CC_QUERYKEY_FILE_BYTES - 1, 0600);
	assert_int_equal(cc_querykey_load(&k, f->dir, QID, NULL), CC_ERR_FORMAT);
	raw[CC_QUERYKEY_FILE_BYTES] = 0;
	write_file(f->path, raw, CC_QUERYKEY_FILE_BYTES + 1, 0600);
	assert_int_equal(cc_querykey_load(&k, f->dir, QID, NULL), CC_ERR_FORMAT);
	raw[0] ^= 1;
	write_file(f->path, raw, CC_QUERYKEY_FILE_BYTES, 0600);
	assert_int_equal(cc_querykey_load(&k, f->dir, QID, NULL), CC_ERR_FORMAT);
	raw[0] ^= 1;
	memset(raw + 12, 0, CC_SCALAR_BYTES);
	write_file(f->path, raw, CC_QUERYKEY_FILE_BYTES, 0600);
	assert_int_equal(cc_querykey_load(&k, f->dir, QID, NULL), CC_ERR_SCALAR);
	/* A non-canonical scalar (all 0xff is above the group order). */
	memset(raw + 12, 0xff, CC_SCALAR_BYTES);
	write_file(f->path, raw, CC_QUERYKEY_FILE_BYTES, 0600);
	assert_int_equal(cc_querykey_open(&k, f->dir, QID, 1, NULL, NULL),
	    CC_ERR_SCALAR);
	/* A symlink is not followed. */
	unlink(f->path);
	assert_int_equal(symlink("/etc/hostname", f->path), 0);
	assert_true(cc_querykey_load(&k, f->dir, QID, NULL) != 0);
	assert_null(k);
}

/* destroy: the file is gone and its blocks were overwritten first. */
static void
test_destroy(void **state)
{
	struct fixture *f = *state;
	struct cc_querykey *k = NULL;
	bool existed = true;
	int fd;
	uint8_t buf[CC_QUERYKEY_FILE_BYTES], zero[CC_QUERYKEY_FILE_BYTES] = { 0 };

	assert_int_equal(cc_querykey_destroy(f->dir, QID, &existed, NULL), 0);
	assert_false(existed);
	assert_int_equal(cc_querykey_open(&k, f->dir, QID, 99, NULL, NULL), 0);
	/* Hold the inode open to see what destroy leaves in it. */
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(cc_querykey_destroy(f->dir, QID, &existed, NULL), 0);
	assert_true(existed);
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	close(fd);
	cc_querykey_free(k);
	k = NULL;
	assert_int_equal(cc_querykey_load(&k, f->dir, QID, NULL),
	    CC_ERR_NOT_FOUND);
	/* A new key after destroy is a new r. */
	assert_int_equal(cc_querykey_open(&k, f->dir, QID, 99, &existed, NULL), 0);
	assert_true(existed);
	cc_querykey_free(k);
}

struct swept {
	size_t n;
	char ids[4][CC_QUERY_ID_HEX + 1];
};

static void
on_swept(void *ctx, const char *id)
{
	struct swept *s = ctx;

	assert_true(s->n < 4);
	memcpy(s->ids[s->n++], id, CC_QUERY_ID_HEX + 1);
}

/* Keys whose deadline passed by more than the margin are destroyed. */
static void
test_sweep(void **state)
{
	struct fixture *f = *state;
	struct cc_querykey *k = NULL;
	struct swept s = { 0 };
	char tmp[200], other[200];
	size_t n = 99;

	/* No queries directory yet: nothing to do. */
	assert_int_equal(cc_querykey_sweep(f->dir, 1000, 60, on_swept, &s, &n,
	    NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cc_querykey_open(&k, f->dir, QID, 1000, NULL, NULL), 0);
	cc_querykey_free(k);
	assert_int_equal(cc_querykey_open(&k, f->dir, QID2, 2000, NULL, NULL), 0);
	cc_querykey_free(k);
	k = NULL;
	/* A stale temporary file and an unrelated file. */
	snprintf(tmp, sizeof(tmp), "%s/queries/.%s.r.AbC123", f->dir, QID2);
	write_file(tmp, (const uint8_t *)"xx", 2, 0600);
	snprintf(other, sizeof(other), "%s/queries/notes.txt", f->dir);
	write_file(other, (const uint8_t *)"hi", 2, 0600);

	/* Exactly at deadline + margin: kept. */
	assert_int_equal(cc_querykey_sweep(f->dir, 1060, 60, on_swept, &s, &n,
	    NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0);
	/* One second later: the first goes, the second stays. */
	assert_int_equal(cc_querykey_sweep(f->dir, 1061, 60, on_swept, &s, &n,
	    NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], QID);
	assert_int_equal(cc_querykey_load(&k, f->dir, QID, NULL),
	    CC_ERR_NOT_FOUND);
	assert_int_equal(cc_querykey_load(&k, f->dir, QID2, NULL), 0);
	cc_querykey_free(k);
	k = NULL;
	/* Far in the future, without a callback. */
	assert_int_equal(cc_querykey_sweep(f->dir, INT64_MAX, 0, NULL, NULL, &n,
	    NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cc_querykey_load(&k, f->dir, QID2, NULL),
	    CC_ERR_NOT_FOUND);
	assert_int_equal(cc_querykey_sweep(f->dir, 0, -1, NULL, NULL, NULL,
	    NULL), CC_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test_setup_teardown(test_create_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
