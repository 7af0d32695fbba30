/* Unit tests: calendar dates, months and ages (protocol/date.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "protocol/date.h"
#include "protocol/error.h"

/* Parse a C string; the diag text is left in *diag. */
static int
parse(struct cc_date *d, const char *s, struct cc_diag *diag)
{
	memset(diag, 0, sizeof(*diag));
	return cc_date_parse(d, s, strlen(s), diag);
}

static void
assert_date(const struct cc_date *d, int y, int m, int day)
{
	assert_int_equal(d->year, y);
	assert_int_equal(d->month, m);
	assert_int_equal(d->day, day);
}

static void
leap_years_follow_the_gregorian_rules(void **state)
{
	(void)state;
	assert_true(cc_date_is_leap(2000));
	assert_true(cc_date_is_leap(2024));
	assert_true(cc_date_is_leap(1996));
	assert_true(cc_date_is_leap(1600));
	assert_false(cc_date_is_leap(1900));
	assert_false(cc_date_is_leap(2100));
	assert_false(cc_date_is_leap(2023));
	assert_false(cc_date_is_leap(2026));
}

static void
days_in_month_and_validity(void **state)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	(void)state;
	for (int m = 1; m <= 12; m++) {
		assert_int_equal(cc_date_days_in_month(2023, m), days[m - 1]);
		assert_true(cc_date_valid(2023, m, days[m - 1]));
		assert_false(cc_date_valid(2023, m, days[m - 1] + 1));
		assert_false(cc_date_valid(2023, m, 0));
	}
	assert_int_equal(cc_date_days_in_month(2024, 2), 29);
	assert_int_equal(cc_date_days_in_month(2000, 2), 29);
	assert_int_equal(cc_date_days_in_month(1900, 2), 28);
	assert_int_equal(cc_date_days_in_month(2023, 0), 0);
	assert_int_equal(cc_date_days_in_month(2023, 13), 0);
	assert_int_equal(cc_date_days_in_month(2023, -1), 0);
	assert_true(cc_date_valid(2000, 2, 29));
	assert_false(cc_date_valid(1900, 2, 29));
	assert_true(cc_date_valid(1000, 1, 1));
	assert_true(cc_date_valid(9999, 12, 31));
	assert_false(cc_date_valid(999, 12, 31));
	assert_false(cc_date_valid(10000, 1, 1));
	assert_false(cc_date_valid(2023, 13, 1));
	assert_false(cc_date_valid(2023, 0, 1));
}

static void
parse_accepts_both_forms(void **state)
{
	struct cc_date d;
	struct cc_diag diag;

	(void)state;
	assert_int_equal(parse(&d, "2023-04-30", &diag), 0);
	assert_date(&d, 2023, 4, 30);
	assert_int_equal(parse(&d, "20230430", &diag), 0);
	assert_date(&d, 2023, 4, 30);
	assert_int_equal(parse(&d, "2024-02-29", &diag), 0);
	assert_date(&d, 2024, 2, 29);
	assert_int_equal(parse(&d, "2000-02-29", &diag), 0);
	assert_date(&d, 2000, 2, 29);
	assert_int_equal(parse(&d, "1000-01-01", &diag), 0);
	assert_date(&d, 1000, 1, 1);
	assert_int_equal(parse(&d, "9999-12-31", &diag), 0);
	assert_date(&d, 9999, 12, 31);
}

struct bad_date {
	const char *text;
	size_t len;     /* 0: strlen */
	const char *reason;
};

static void
parse_rejects_with_reasons(void **state)
{
	static const struct bad_date bad[] = {
		{ "", 0, "date is empty (expected YYYY-MM-DD)" },
		{ "2023-04-31", 0, "day 31 does not exist in 2023-04" },
		{ "2023-02-29", 0, "day 29 does not exist in 2023-02" },
		{ "1900-02-29", 0, "day 29 does not exist in 1900-02" },
		{ "2023-00-10", 0, "month 0 does not exist" },
		{ "2023-13-10", 0, "month 13 does not exist" },
		{ "2023-01-00", 0, "day 0 does not exist in 2023-01" },
		{ "0999-12-31", 0, "year 0999 is out of range (1000 to 9999)" },
		{ "0000-01-01", 0, "year 0000 is out of range (1000 to 9999)" },
		{ "2023-4-30", 0, "date has the wrong length: 9 characters "
		    "(expected YYYY-MM-DD)" },
		{ "2023-04-301", 0, "date has the wrong length: 11 characters "
		    "(expected YYYY-MM-DD)" },
		{ "2023043", 0, "date has the wrong length: 7 characters "
		    "(expected YYYY-MM-DD)" },
		{ "2", 0, "date has the wrong length: 1 character "
		    "(expected YYYY-MM-DD)" },
		{ "2023/04/30", 0, "expected '-' at position 5" },
		{ "2023-04/30", 0, "expected '-' at position 8" },
		{ "2023043012", 0, "expected '-' at position 5" },
		{ " 2023-0430", 0, "unexpected character ' ' at position 1" },
		{ "2023-0a-30", 0, "unexpected character 'a' at position 7" },
		{ "2023-04-3\xc3", 0, "unexpected byte 0xC3 at position 10" },
		{ "2023\0" "0430", 9, "date has the wrong length: 9 characters "
		    "(expected YYYY-MM-DD)" },
		{ "2023\0" "430", 8, "unexpected byte 0x00 at position 5" },
		{ "2023-04-+3", 0, "unexpected character '+' at position 9" },
		{ "202-304-30", 0, "unexpected character '-' at position 4" },
		{ "2023-04-30T00:00:00Z", 0, "date has the wrong length: 20 "
		    "characters (expected YYYY-MM-DD)" },
	};
	struct cc_date d;
	struct cc_diag diag;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len != 0 ? bad[i].len : strlen(bad[i].text);

		d.year = 7;
		memset(&diag, 0, sizeof(diag));
		assert_int_equal(cc_date_parse(&d, bad[i].text, len, &diag),
		    CC_ERR_FORMAT);
		assert_string_equal(diag.text, bad[i].reason);
		/* ret_* cleared on entry, not written on failure. */
		assert_date(&d, 0, 0, 0);
	}
}

static void
parse_hostile_lengths_and_arguments(void **state)
{
	char big[4096];
	struct cc_date d;
	struct cc_diag diag;

	(void)state;
	memset(big, '1', sizeof(big));
	assert_int_equal(cc_date_parse(&d, big, sizeof(big), &diag),
	    CC_ERR_FORMAT);
	assert_string_equal(diag.text,
	    "date is too long: more than 32 characters");
	assert_int_equal(cc_date_parse(&d, big, SIZE_MAX, &diag),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_date_parse(&d, NULL, 0, &diag), CC_ERR_FORMAT);
	assert_int_equal(cc_date_parse(&d, NULL, 10, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_date_parse(NULL, "2023-04-30", 10, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	/* A NULL diag is allowed. */
	assert_int_equal(cc_date_parse(&d, "2023-04-31", 10, NULL),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_date_parse(&d, "2023-04-30", 10, NULL), 0);
	/* Truncation: every prefix of a valid date is refused. */
	for (size_t n = 0; n < 10; n++)
		if (n != 8)
			assert_int_equal(cc_date_parse(&d, "2023-04-30", n,
			    &diag), CC_ERR_FORMAT);
	/* The length is what counts, not a NUL terminator. */
	assert_int_equal(cc_date_parse(&d, "2023-04-30xyz", 10, &diag), 0);
	assert_date(&d, 2023, 4, 30);
}

static void
compare_and_month_index(void **state)
{
	struct cc_date a = { 2023, 4, 30 }, b = { 2023, 5, 1 };
	struct cc_date c = { 2024, 1, 1 }, a2 = { 2023, 4, 30 };

	(void)state;
	assert_true(cc_date_cmp(&a, &b) < 0);
	assert_true(cc_date_cmp(&b, &a) > 0);
	assert_true(cc_date_cmp(&b, &c) < 0);
	assert_int_equal(cc_date_cmp(&a, &a2), 0);
	assert_true(cc_date_cmp(&(struct cc_date){ 2023, 4, 29 }, &a) < 0);
	assert_int_equal(cc_date_month_index(&a), 2023 * 12 + 3);
	assert_int_equal(cc_date_month_index(&c) - cc_date_month_index(&a),
	    9);
}

static void
month_parse_and_format(void **state)
{
	struct cc_diag diag;
	char out[8];
	int mi;

	(void)state;
	assert_int_equal(cc_month_parse(&mi, "2025-01", 7, &diag), 0);
	assert_int_equal(mi, 2025 * 12);
	cc_month_format(out, mi);
	assert_string_equal(out, "2025-01");
	assert_int_equal(cc_month_parse(&mi, "2025-12", 7, &diag), 0);
	assert_int_equal(mi, 2025 * 12 + 11);
	cc_month_format(out, mi);
	assert_string_equal(out, "2025-12");
	cc_month_format(out, mi + 1);
	assert_string_equal(out, "2026-01");

	mi = 5;
	assert_int_equal(cc_month_parse(&mi, "2025-13", 7, &diag),
	    CC_ERR_FORMAT);
	assert_int_equal(mi, 0);
	assert_string_equal(diag.text, "month 13 does not exist");
	assert_int_equal(cc_month_parse(&mi, "2025-00", 7, &diag),
	    CC_ERR_FORMAT);
	assert_string_equal(diag.text, "month 0 does not exist");
	assert_int_equal(cc_month_parse(&mi, "0999-12", 7, &diag),
	    CC_ERR_FORMAT);
	assert_string_equal(diag.text,
	    "year 0999 is out of range (1000 to 9999)");
	assert_int_equal(cc_month_parse(&mi, "2025-1", 6, &diag),
	    CC_ERR_FORMAT);
	assert_string_equal(diag.text,
	    "month has the wrong length: 6 characters (expected YYYY-MM)");
	assert_int_equal(cc_month_parse(&mi, "202501", 6, &diag),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_month_parse(&mi, "2025/01", 7, &diag),
	    CC_ERR_FORMAT);
	assert_string_equal(diag.text, "expected '-' at position 5");
	assert_int_equal(cc_month_parse(&mi, "2025-0x", 7, &diag),
	    CC_ERR_FORMAT);
	assert_string_equal(diag.text,
	    "unexpected character 'x' at position 7");
	assert_int_equal(cc_month_parse(&mi, "2025-01-01", 10, &diag),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_month_parse(&mi, "", 0, &diag), CC_ERR_FORMAT);
	assert_string_equal(diag.text, "month is empty (expected YYYY-MM)");
	assert_int_equal(cc_month_parse(&mi, NULL, 3, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_month_parse(NULL, "2025-01", 7, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_month_parse(&mi, "2025-01", SIZE_MAX, &diag),
	    CC_ERR_FORMAT);

	/* Out of range indexes are written visibly wrong, never overflowed. */
	cc_month_format(out, 1000 * 12 - 1);
	assert_string_equal(out, "0000-00");
	cc_month_format(out, -5);
	assert_string_equal(out, "0000-00");
	cc_month_format(out, 10000 * 12);
	assert_string_equal(out, "0000-00");
	cc_month_format(out, 1000 * 12);
	assert_string_equal(out, "1000-01");
	cc_month_format(out, 9999 * 12 + 11);
	assert_string_equal(out, "9999-12");
}

static void
format_round_trips(void **state)
{
	struct cc_diag diag;
	struct cc_date d, back;
	char out[11];

	(void)state;
	/* Every day of a leap and a common year survives format and parse. */
	for (int year = 2023; year <= 2024; year++)
		for (d.month = 1; d.month <= 12; d.month++)
			for (d.day = 1; d.day <=
			    cc_date_days_in_month(year, d.month); d.day++) {
				d.year = year;
				cc_date_format(out, &d);
				assert_int_equal(strlen(out), 10);
				assert_int_equal(cc_date_parse(&back, out, 10,
				    &diag), 0);
				assert_int_equal(cc_date_cmp(&d, &back), 0);
			}
	cc_date_format(out, &(struct cc_date){ 1000, 1, 1 });
	assert_string_equal(out, "1000-01-01");
	cc_date_format(out, &(struct cc_date){ 2023, 2, 29 });
	assert_string_equal(out, "0000-00-00");
	cc_date_format(out, &(struct cc_date){ 12345, 1, 1 });
	assert_string_equal(out, "0000-00-00");
	cc_date_format(out, NULL);
	assert_string_equal(out, "0000-00-00");
}

static void
today_is_a_plausible_utc_date(void **state)
{
	struct cc_date d, again;
	struct tm tm;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(cc_date_today(&d), 0);
	assert_true(cc_date_valid(d.year, d.month, d.day));
	assert_true(d.year >= 2025);
	assert_non_null(gmtime_r(&now, &tm));
	assert_int_equal(cc_date_today(&again), 0);
	/* Around midnight the two calls may straddle a day, never more. */
	assert_true(cc_date_cmp(&d, &again) <= 0);
	assert_true(again.year == tm.tm_year + 1900 ||
	    again.year == tm.tm_year + 1901);
	assert_int_equal(cc_date_today(NULL), CC_ERR_INVALID_ARGUMENT);
}

static void
age_counts_completed_years(void **state)
{
	struct cc_date on = { 2026, 3, 15 };

	(void)state;
	assert_int_equal(cc_date_age(2010, 3, 15, &on), 16);  /* birthday */
	assert_int_equal(cc_date_age(2010, 3, 16, &on), 15);  /* tomorrow */
	assert_int_equal(cc_date_age(2010, 3, 14, &on), 16);
	assert_int_equal(cc_date_age(2010, 4, 1, &on), 15);
	assert_int_equal(cc_date_age(2010, 2, 28, &on), 16);
	assert_int_equal(cc_date_age(2010, 1, 1, &on), 16);
	assert_int_equal(cc_date_age(2010, 12, 31, &on), 15);
	assert_int_equal(cc_date_age(2026, 3, 15, &on), 0);
	assert_int_equal(cc_date_age(2026, 1, 1, &on), 0);
	assert_int_equal(cc_date_age(1926, 3, 15, &on), 100);
	assert_int_equal(cc_date_age(1926, 3, 16, &on), 99);
	/* Born after `on`: negative. */
	assert_true(cc_date_age(2026, 3, 16, &on) < 0);
	assert_true(cc_date_age(2027, 1, 1, &on) < 0);
	assert_true(cc_date_age(2010, 1, 1, NULL) < 0);
}

static void
age_with_unknown_day_counts_from_the_first(void **state)
{
	(void)state;
	/* Day 0: a year older on the first of the birth month. */
	assert_int_equal(cc_date_age(2010, 3, 0,
	    &(struct cc_date){ 2026, 2, 28 }), 15);
	assert_int_equal(cc_date_age(2010, 3, 0,
	    &(struct cc_date){ 2026, 3, 1 }), 16);
	assert_int_equal(cc_date_age(2010, 3, 0,
	    &(struct cc_date){ 2026, 3, 31 }), 16);
	assert_int_equal(cc_date_age(2010, 1, 0,
	    &(struct cc_date){ 2026, 1, 1 }), 16);
	assert_int_equal(cc_date_age(2010, 12, 0,
	    &(struct cc_date){ 2026, 11, 30 }), 15);
}

static void
age_of_leap_day_births(void **state)
{
	(void)state;
	/* In a common year the birthday is the last day of February. */
	assert_int_equal(cc_date_age(2008, 2, 29,
	    &(struct cc_date){ 2026, 2, 27 }), 17);
	assert_int_equal(cc_date_age(2008, 2, 29,
	    &(struct cc_date){ 2026, 2, 28 }), 18);
	assert_int_equal(cc_date_age(2008, 2, 29,
	    &(struct cc_date){ 2026, 3, 1 }), 18);
	/* In a leap year it is the 29th itself. */
	assert_int_equal(cc_date_age(2008, 2, 29,
	    &(struct cc_date){ 2028, 2, 28 }), 19);
	assert_int_equal(cc_date_age(2008, 2, 29,
	    &(struct cc_date){ 2028, 2, 29 }), 20);
}

static void
time_text_is_rfc3339_utc(void **state)
{
	char out[CC_DATE_TIME_TEXT];

	(void)state;
	assert_int_equal(cc_date_time_text(out, 0), 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	assert_int_equal(cc_date_time_text(out, 951782400), 0);
	assert_string_equal(out, "2000-02-29T00:00:00Z");
	assert_int_equal(cc_date_time_text(out, 1795348799), 0);
	assert_string_equal(out, "2026-11-22T11:59:59Z");
	assert_int_equal(cc_date_time_text(out, -1), 0);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	/* The last second of year 9999 fits; the next does not. */
	assert_int_equal(cc_date_time_text(out, INT64_C(253402300799)), 0);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	assert_int_equal(cc_date_time_text(out, INT64_C(253402300800)),
	    CC_ERR_FORMAT);
	assert_string_equal(out, "");
	assert_int_equal(cc_date_time_text(out, INT64_MAX), CC_ERR_FORMAT);
	assert_string_equal(out, "");
	assert_int_equal(cc_date_time_text(out, INT64_MIN), CC_ERR_FORMAT);
	assert_int_equal(cc_date_time_text(NULL, 0), CC_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(leap_years_follow_the_gregorian_rules),
		cmocka_unit_test(days_in_month_and_validity),
		cmocka_unit_test(parse_accepts_both_forms),
		cmocka_unit_test(parse_rejects_with_reasons),
		cmocka_unit_test(parse_hostile_lengths_and_arguments),
		cmocka_unit_test(compare_and_month_index),
		cmocka_unit_test(month_parse_and_format),
		cmocka_unit_test(format_round_trips),
		cmocka_unit_test(today_is_a_plausible_utc_date),
		cmocka_unit_test(time_text_is_rfc3339_utc),
		cmocka_unit_test(age_counts_completed_years),
		cmocka_unit_test(age_with_unknown_day_counts_from_the_first),
		cmocka_unit_test(age_of_leap_day_births),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
