/* Unit tests: the sectors (protocol/sector.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protocol/error.h"
#include "protocol/sector.h"

static void
names_round_trip(void **state)
{
	static const enum cc_sector all[] = { CC_SECTOR_SCHOOL,
	    CC_SECTOR_SOCIAL, CC_SECTOR_HEALTH, CC_SECTOR_OTHER };
	enum cc_sector s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *name = cc_sector_name(all[i]);

		assert_non_null(name);
		assert_int_equal(cc_sector_check(name), 0);
		assert_int_equal(cc_sector_parse(&s, name), 0);
		assert_int_equal(s, all[i]);
	}
	assert_string_equal(cc_sector_name(CC_SECTOR_SCHOOL), "school");
	assert_string_equal(cc_sector_name(CC_SECTOR_SOCIAL), "social");
	assert_string_equal(cc_sector_name(CC_SECTOR_HEALTH), "health");
	assert_string_equal(cc_sector_name(CC_SECTOR_OTHER), "other");
	assert_null(cc_sector_name(0));
	assert_null(cc_sector_name((enum cc_sector)5));
}

static void
parse_takes_any_case_check_only_the_name(void **state)
{
	enum cc_sector s = CC_SECTOR_OTHER;

	(void)state;
	assert_int_equal(cc_sector_parse(&s, "Health"), 0);
	assert_int_equal(s, CC_SECTOR_HEALTH);
	assert_int_equal(cc_sector_check("Health"), CC_ERR_FORMAT);
	assert_int_equal(cc_sector_parse(&s, "bup"), CC_ERR_FORMAT);
	assert_int_equal(s, 0);
	assert_int_equal(cc_sector_parse(&s, "school "), CC_ERR_FORMAT);
	assert_int_equal(cc_sector_parse(&s, ""), CC_ERR_FORMAT);
	assert_int_equal(cc_sector_check(""), CC_ERR_FORMAT);
	assert_int_equal(cc_sector_check("schools"), CC_ERR_FORMAT);
	assert_int_equal(cc_sector_check(NULL), CC_ERR_FORMAT);
	assert_int_equal(cc_sector_parse(&s, NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_sector_parse(NULL, "school"),
	    CC_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_round_trip),
		cmocka_unit_test(parse_takes_any_case_check_only_the_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
