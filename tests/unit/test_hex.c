/* Unit tests: exact lowercase hex strings (protocol/hex.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protocol/hex.h"

static void
exactly_n_lowercase_hex(void **state)
{
	(void)state;
	assert_true(cc_hex_valid("0123456789abcdef", 16));
	assert_true(cc_hex_valid("", 0));
	/* One short, one over, and the wrong characters. */
	assert_false(cc_hex_valid("0123456789abcde", 16));
	assert_false(cc_hex_valid("0123456789abcdef0", 16));
	assert_false(cc_hex_valid("0123456789ABCDEF", 16));
	assert_false(cc_hex_valid("0123456789abcdeg", 16));
	assert_false(cc_hex_valid("01234567 9abcdef", 16));
	assert_false(cc_hex_valid("0x", 2));
	assert_false(cc_hex_valid("a", 0));
	assert_false(cc_hex_valid(NULL, 0));
}

static void
stops_at_the_first_bad_byte(void **state)
{
	/* No terminator after "ab": the check must stop at 'g' without
	 * reading past it. */
	const char buf[3] = { 'a', 'g', 'b' };

	(void)state;
	assert_false(cc_hex_valid(buf, 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exactly_n_lowercase_hex),
		cmocka_unit_test(stops_at_the_first_bad_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
