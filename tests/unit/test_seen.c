/*
 * Unit tests: the persons an import has already seen (node/seen.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "node/seen.h"

static void
keys_name_identities_without_holding_them(void **state)
{
	struct cc_seen *a = NULL, *b = NULL;
	uint8_t k1[CC_SEEN_KEY_BYTES], k2[CC_SEEN_KEY_BYTES];
	uint8_t k3[CC_SEEN_KEY_BYTES], kb[CC_SEEN_KEY_BYTES];

	(void)state;
	assert_int_equal(cc_seen_new(&a), 0);
	assert_int_equal(cc_seen_new(&b), 0);
	cc_seen_key(a, "201212121212", k1);
	cc_seen_key(a, "201212121212", k2);
	cc_seen_key(a, "201212121213", k3);
	cc_seen_key(b, "201212121212", kb);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_memory_not_equal(k1, k3, sizeof(k1));
	/* A key per table: the same person has another key in another. */
	assert_memory_not_equal(k1, kb, sizeof(k1));
	assert_null(memmem(k1, sizeof(k1), "1212", 4));
	cc_seen_free(a);
	cc_seen_free(b);
	cc_seen_free(NULL);
}

static void
first_row_gives_the_pseudonym_later_rows_take(void **state)
{
	struct cc_seen *s = NULL;
	enum cc_seen_result res;
	uint8_t key[CC_SEEN_KEY_BYTES], other[CC_SEEN_KEY_BYTES];
	uint8_t p[CC_ELEMENT_BYTES], got[CC_ELEMENT_BYTES];

	(void)state;
	assert_int_equal(cc_seen_new(&s), 0);
	cc_seen_key(s, "200801010000", key);
	cc_seen_key(s, "200801010001", other);
	assert_int_equal(cc_seen_mark(s, key, &res), 0);
	assert_int_equal(res, CC_SEEN_NEW);
	/* No P yet: nothing to take. */
	assert_int_equal(cc_seen_get(s, key, got), CC_ERR_NOT_FOUND);
	assert_int_equal(cc_seen_mark(s, key, &res), 0);
	assert_int_equal(res, CC_SEEN_AGAIN);
	randombytes_buf(p, sizeof(p));
	assert_int_equal(cc_seen_set(s, key, p), 0);
	assert_int_equal(cc_seen_get(s, key, got), 0);
	assert_memory_equal(got, p, sizeof(p));
	/* Never marked: neither set nor got. */
	assert_int_equal(cc_seen_set(s, other, p), CC_ERR_NOT_FOUND);
	assert_int_equal(cc_seen_get(s, other, got), CC_ERR_NOT_FOUND);
	cc_seen_free(s);
}

/* Many persons: growing keeps every entry; a full table remembers no
 * one new but still answers for those it holds. */
static void
grows_then_stops_at_its_bound(void **state)
{
	struct cc_seen *s = NULL;
	enum cc_seen_result res;
	uint8_t key[CC_SEEN_KEY_BYTES], p[CC_ELEMENT_BYTES], got[CC_ELEMENT_BYTES];
	size_t i, remembered = 0, full = 0;
	const size_t n = CC_SEEN_MAX_SLOTS;   /* more than 3/4 of the bound */

	(void)state;
	assert_int_equal(cc_seen_new(&s), 0);
	for (i = 0; i < n; i++) {
		memset(key, 0, sizeof(key));
		memcpy(key, &i, sizeof(i));
		key[15] = 0xa5;
		assert_int_equal(cc_seen_mark(s, key, &res), 0);
		if (res == CC_SEEN_FULL) {
			full++;
			continue;
		}
		assert_int_equal(res, CC_SEEN_NEW);
		memset(p, 0, sizeof(p));
		memcpy(p, &i, sizeof(i));
		assert_int_equal(cc_seen_set(s, key, p), 0);
		remembered++;
	}
	assert_int_equal(remembered, CC_SEEN_MAX_SLOTS / 4 * 3);
	assert_int_equal(full, n - remembered);
	for (i = 0; i < n; i++) {
		memset(key, 0, sizeof(key));
		memcpy(key, &i, sizeof(i));
		key[15] = 0xa5;
		if (i < remembered) {
			assert_int_equal(cc_seen_get(s, key, got), 0);
			assert_memory_equal(got, &i, sizeof(i));
			assert_int_equal(cc_seen_mark(s, key, &res), 0);
			assert_int_equal(res, CC_SEEN_AGAIN);
		} else {
			assert_int_equal(cc_seen_get(s, key, got),
			    CC_ERR_NOT_FOUND);
		}
	}
	cc_seen_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_name_identities_without_holding_them),
		cmocka_unit_test(first_row_gives_the_pseudonym_later_rows_take),
		cmocka_unit_test(grows_then_stops_at_its_bound),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
