/* Unit tests: the attribute key file (aggregator/attrkey.c). */
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

#include "aggregator/attrkey.h"
#include "protocol/group.h"

static char dir[64];

static void
path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void
write_bytes(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
round_trip_and_refusals(void **state)
{
	struct cc_seal_key *k = NULL, *back = NULL;
	struct cc_diag d = { "" };
	uint8_t y1[CC_ELEMENT_BYTES], y2[CC_ELEMENT_BYTES];
	uint8_t raw[CC_SCALAR_BYTES + 1];
	char path[128];
	struct stat st;

	(void)state;
	path_of(path, sizeof(path), CC_ATTRKEY_FILE);
	assert_int_equal(cc_seal_key_generate(&k), 0);
	assert_int_equal(cc_attrkey_write_new(k, path, &d), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, CC_SCALAR_BYTES);
	assert_int_equal(cc_attrkey_load(&back, path, &d), 0);
	cc_seal_key_public(k, y1);
	cc_seal_key_public(back, y2);
	assert_memory_equal(y1, y2, sizeof(y1));
	cc_seal_key_free(back);
	back = NULL;
	/* Never overwritten. */
	assert_int_equal(cc_attrkey_write_new(k, path, &d), CC_ERR_EXISTS);
	assert_non_null(strstr(d.text, "refusing to overwrite"));
	/* A key others may read is refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(cc_attrkey_load(&back, path, &d), CC_ERR_AUTH);
	assert_null(back);
	assert_non_null(strstr(d.text, "must be 0600"));
	unlink(path);
	assert_int_equal(cc_attrkey_load(&back, path, &d), CC_ERR_NOT_FOUND);
	/* Exactly 32 bytes of a canonical non-zero scalar. */
	cc_seal_key_secret(k, raw);
	write_bytes(path, raw, CC_SCALAR_BYTES - 1, 0600);
	assert_int_equal(cc_attrkey_load(&back, path, &d), CC_ERR_FORMAT);
	unlink(path);
	raw[CC_SCALAR_BYTES] = 0;
	write_bytes(path, raw, CC_SCALAR_BYTES + 1, 0600);
	assert_int_equal(cc_attrkey_load(&back, path, &d), CC_ERR_FORMAT);
	unlink(path);
	memset(raw, 0, sizeof(raw));
	write_bytes(path, raw, CC_SCALAR_BYTES, 0600);
	assert_int_equal(cc_attrkey_load(&back, path, &d), CC_ERR_SCALAR);
	unlink(path);
	memset(raw, 0xFF, sizeof(raw));      /* not reduced mod l */
	write_bytes(path, raw, CC_SCALAR_BYTES, 0600);
	assert_int_equal(cc_attrkey_load(&back, path, &d), CC_ERR_SCALAR);
	unlink(path);
	/* A symbolic link is not followed. */
	assert_int_equal(symlink("/dev/null", path), 0);
	assert_int_equal(cc_attrkey_load(&back, path, &d), CC_ERR_IO);
	assert_int_equal(cc_attrkey_write_new(k, path, &d), CC_ERR_EXISTS);
	unlink(path);
	sodium_memzero(raw, sizeof(raw));
	cc_seal_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_and_refusals),
	};
	int r;

	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/cc-attrkey-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return r;
}
