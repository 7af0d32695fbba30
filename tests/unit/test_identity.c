/*
 * Unit tests: personnummer and samordningsnummer (protocol/identity.c).
 *
 * Check digits of the numbers below were computed by hand with Luhn over
 * the ten digits YYMMDDNNNC; 19121212-1212 is Skatteverket's well-known
 * test number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protocol/date.h"
#include "protocol/error.h"
#include "protocol/identity.h"
#include "protocol/limits.h"

/* The reference date of most tests. */
static const struct cc_date REF = { 2026, 3, 1 };

static int
parse_ref(struct cc_identity *id, const char *s, const struct cc_date *ref,
    struct cc_diag *diag)
{
	memset(diag, 0, sizeof(*diag));
	return cc_identity_parse(id, s, strlen(s), ref, diag);
}

static int
parse(struct cc_identity *id, const char *s, struct cc_diag *diag)
{
	return parse_ref(id, s, &REF, diag);
}

/*
 * True if diag contains a run of four or more digits that also occurs as
 * a whole digit run in the input: the leak the parser must never make.
 */
static bool
diag_quotes_input(const char *diag, const char *in, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start, n;
		char run[64];

		if (in[i] < '0' || in[i] > '9') {
			i++;
			continue;
		}
		start = i;
		while (i < len && in[i] >= '0' && in[i] <= '9')
			i++;
		n = i - start;
		if (n < 4 || n >= sizeof(run))
			continue;
		memcpy(run, in + start, n);
		run[n] = '\0';
		if (strstr(diag, run) != NULL)
			return true;
	}
	return false;
}

static void
expect_ok(const char *s, const struct cc_date *ref, const char *canonical,
    enum cc_id_kind kind, int y, int m, int d, enum cc_sex sex)
{
	struct cc_identity id;
	struct cc_diag diag;
	int r = parse_ref(&id, s, ref, &diag);

	if (r != 0)
		fail_msg("%s: %s", s, diag.text);
	assert_string_equal(id.canonical, canonical);
	assert_int_equal(id.kind, kind);
	assert_int_equal(id.birth_year, y);
	assert_int_equal(id.birth_month, m);
	assert_int_equal(id.birth_day, d);
	assert_int_equal(id.sex, sex);
	cc_identity_wipe(&id);
}

static void
expect_bad(const char *s, size_t len, const struct cc_date *ref,
    const char *reason)
{
	struct cc_identity id;
	struct cc_diag diag;
	const uint8_t zero[sizeof(id)] = { 0 };

	memset(&id, 0xAA, sizeof(id));
	memset(&diag, 0, sizeof(diag));
	assert_int_equal(cc_identity_parse(&id, s, len, ref, &diag),
	    CC_ERR_IDENTITY);
	assert_string_equal(diag.text, reason);
	/* ret_id is cleared on entry and not written on failure. */
	assert_memory_equal(&id, zero, sizeof(id));
	assert_false(diag_quotes_input(diag.text, s, len));
}

static void
every_written_form(void **state)
{
	(void)state;
	expect_ok("191212121212", &REF, "191212121212", CC_ID_PERSONNUMMER,
	    1912, 12, 12, CC_SEX_MALE);
	expect_ok("19121212-1212", &REF, "191212121212", CC_ID_PERSONNUMMER,
	    1912, 12, 12, CC_SEX_MALE);
	/* Ten digits: the latest century on or before the reference. */
	expect_ok("121212-1212", &REF, "201212121212", CC_ID_PERSONNUMMER,
	    2012, 12, 12, CC_SEX_MALE);
	expect_ok("1212121212", &REF, "201212121212", CC_ID_PERSONNUMMER,
	    2012, 12, 12, CC_SEX_MALE);
	expect_ok("121212+1212", &REF, "191212121212", CC_ID_PERSONNUMMER,
	    1912, 12, 12, CC_SEX_MALE);
	/* The check digit does not cover the century. */
	expect_ok("20121212-1212", &REF, "201212121212", CC_ID_PERSONNUMMER,
	    2012, 12, 12, CC_SEX_MALE);
	expect_ok("201212121212", &REF, "201212121212", CC_ID_PERSONNUMMER,
	    2012, 12, 12, CC_SEX_MALE);
}

static void
sex_from_the_eleventh_digit(void **state)
{
	(void)state;
	/* YYYYMMDDNNNC: the last N. 1212121220 has NNN = 122: even. */
	expect_ok("20121212-1220", &REF, "201212121220", CC_ID_PERSONNUMMER,
	    2012, 12, 12, CC_SEX_FEMALE);
	expect_ok("1212121220", &REF, "201212121220", CC_ID_PERSONNUMMER,
	    2012, 12, 12, CC_SEX_FEMALE);
	/* 850709-9805: NNN = 980, even. */
	expect_ok("850709-9805", &REF, "198507099805", CC_ID_PERSONNUMMER,
	    1985, 7, 9, CC_SEX_FEMALE);
	/* 991231-9994: NNN = 999, odd. */
	expect_ok("991231-9994", &REF, "199912319994", CC_ID_PERSONNUMMER,
	    1999, 12, 31, CC_SEX_MALE);
	/* 000101-0008: NNN = 000, even; check digit 8. */
	expect_ok("000101-0008", &REF, "200001010008", CC_ID_PERSONNUMMER,
	    2000, 1, 1, CC_SEX_FEMALE);
}

static void
century_inference_at_the_boundary(void **state)
{
	struct cc_identity id;
	struct cc_diag diag;

	(void)state;
	/* Born on the reference date itself: this century, age 0. */
	expect_ok("260301-1236", &REF, "202603011236", CC_ID_PERSONNUMMER,
	    2026, 3, 1, CC_SEX_MALE);
	expect_ok("2603011236", &REF, "202603011236", CC_ID_PERSONNUMMER,
	    2026, 3, 1, CC_SEX_MALE);
	assert_int_equal(parse(&id, "260301-1236", &diag), 0);
	assert_int_equal(cc_date_age(id.birth_year, id.birth_month,
	    id.birth_day, &REF), 0);
	/* The day after: cannot be born tomorrow, so a century back. */
	expect_ok("260302-1235", &REF, "192603021235", CC_ID_PERSONNUMMER,
	    1926, 3, 2, CC_SEX_MALE);
	expect_ok("2603021235", &REF, "192603021235", CC_ID_PERSONNUMMER,
	    1926, 3, 2, CC_SEX_MALE);
	assert_int_equal(parse(&id, "260302-1235", &diag), 0);
	assert_int_equal(cc_date_age(id.birth_year, id.birth_month,
	    id.birth_day, &REF), 99);
	/* '+': 100 or more years before the reference year (Skatteverket
	 * writes '+' from the start of the year a person turns 100). */
	expect_ok("260301+1236", &REF, "192603011236", CC_ID_PERSONNUMMER,
	    1926, 3, 1, CC_SEX_MALE);
	assert_int_equal(parse(&id, "260301+1236", &diag), 0);
	assert_int_equal(cc_date_age(id.birth_year, id.birth_month,
	    id.birth_day, &REF), 100);
	expect_ok("260302+1235", &REF, "192603021235", CC_ID_PERSONNUMMER,
	    1926, 3, 2, CC_SEX_MALE);
	/* Turning 100 in 2026 but born before 1926: '+' never means 1926+. */
	expect_ok("270101+1237", &REF, "182701011237", CC_ID_PERSONNUMMER,
	    1827, 1, 1, CC_SEX_MALE);
	/* Reference 2026: 99 is 1999, 01 is 2001. */
	expect_ok("990101-1230", &REF, "199901011230", CC_ID_PERSONNUMMER,
	    1999, 1, 1, CC_SEX_MALE);
	expect_ok("010101-1237", &REF, "200101011237", CC_ID_PERSONNUMMER,
	    2001, 1, 1, CC_SEX_MALE);
	expect_ok("010101+1237", &REF, "190101011237", CC_ID_PERSONNUMMER,
	    1901, 1, 1, CC_SEX_MALE);
	expect_ok("270101-1237", &REF, "192701011237", CC_ID_PERSONNUMMER,
	    1927, 1, 1, CC_SEX_MALE);
	/* Across a turn of century: reference 2000-01-01. */
	expect_ok("000101-0008", &(struct cc_date){ 2000, 1, 1 },
	    "200001010008", CC_ID_PERSONNUMMER, 2000, 1, 1, CC_SEX_FEMALE);
	expect_ok("991231-9994", &(struct cc_date){ 2000, 1, 1 },
	    "199912319994", CC_ID_PERSONNUMMER, 1999, 12, 31, CC_SEX_MALE);
	expect_ok("991231+9994", &(struct cc_date){ 2000, 1, 1 },
	    "189912319994", CC_ID_PERSONNUMMER, 1899, 12, 31, CC_SEX_MALE);
	/* Twelve digits: the written year, but never in the future. */
	expect_ok("20260301-1236", &REF, "202603011236", CC_ID_PERSONNUMMER,
	    2026, 3, 1, CC_SEX_MALE);
	expect_bad("20260302-1235", 13, &REF,
	    "birth date is after the reference date");
	expect_bad("202603021235", 12, &REF,
	    "birth date is after the reference date");
	expect_bad("21121212-1212", 13, &REF,
	    "birth date is after the reference date");
}

static void
samordningsnummer(void **state)
{
	(void)state;
	/* Day 63 is the 3rd. The canonical form keeps the written day. */
	expect_ok("701063-1237", &REF, "197010631237",
	    CC_ID_SAMORDNINGSNUMMER, 1970, 10, 3, CC_SEX_MALE);
	expect_ok("19701063-1237", &REF, "197010631237",
	    CC_ID_SAMORDNINGSNUMMER, 1970, 10, 3, CC_SEX_MALE);
	expect_ok("197010631237", &REF, "197010631237",
	    CC_ID_SAMORDNINGSNUMMER, 1970, 10, 3, CC_SEX_MALE);
	expect_ok("7010631237", &REF, "197010631237",
	    CC_ID_SAMORDNINGSNUMMER, 1970, 10, 3, CC_SEX_MALE);
	/* 29 February + 60 in a leap year. */
	expect_ok("20240289-1234", &REF, "202402891234",
	    CC_ID_SAMORDNINGSNUMMER, 2024, 2, 29, CC_SEX_MALE);
	expect_bad("20230289-1235", 13, &REF, "day 29 (written 89 in a "
	    "samordningsnummer) does not exist in 2023-02");
	/* Day 91 is the 31st: fine in January, not in April. */
	expect_bad("20230491-1232", 13, &REF, "day 31 (written 91 in a "
	    "samordningsnummer) does not exist in 2023-04");
	/* The birth day after the reference date, in samordningsnummer form. */
	expect_bad("20260362-1235", 13, &REF,
	    "birth date is after the reference date");
	/* 60 + 0 and 60 + 32 are not days. */
	expect_bad("19701060-1237", 13, &REF, "day 60 does not exist (a "
	    "personnummer has day 1 to 31, a samordningsnummer 61 to 91)");
	expect_bad("19701092-1237", 13, &REF, "day 92 does not exist (a "
	    "personnummer has day 1 to 31, a samordningsnummer 61 to 91)");
}

static void
leap_days(void **state)
{
	(void)state;
	expect_ok("20000229-1235", &REF, "200002291235", CC_ID_PERSONNUMMER,
	    2000, 2, 29, CC_SEX_MALE);
	expect_ok("000229-1235", &REF, "200002291235", CC_ID_PERSONNUMMER,
	    2000, 2, 29, CC_SEX_MALE);
	expect_ok("20240229-1237", &REF, "202402291237", CC_ID_PERSONNUMMER,
	    2024, 2, 29, CC_SEX_MALE);
	expect_ok("240229-1237", &REF, "202402291237", CC_ID_PERSONNUMMER,
	    2024, 2, 29, CC_SEX_MALE);
	expect_bad("19000229-1235", 13, &REF,
	    "day 29 does not exist in 1900-02");
	/* '+' puts 00 in 1900, which had no 29 February. */
	expect_bad("000229+1235", 11, &REF,
	    "day 29 does not exist in 1900-02");
	/* With a reference the day before, 000229 can only be 1900. */
	expect_bad("000229-1235", 11, &(struct cc_date){ 2000, 2, 28 },
	    "day 29 does not exist in 1900-02");
	expect_ok("000229-1235", &(struct cc_date){ 2000, 2, 29 },
	    "200002291235", CC_ID_PERSONNUMMER, 2000, 2, 29, CC_SEX_MALE);
	expect_bad("19190229-1234", 13, &REF,
	    "day 29 does not exist in 1919-02");
	expect_bad("20230431-1232", 13, &REF,
	    "day 31 does not exist in 2023-04");
}

static void
check_digit(void **state)
{
	char s[] = "19121212-1212";

	(void)state;
	/* Every other check digit fails, and so does any single change. */
	for (char c = '0'; c <= '9'; c++) {
		s[12] = c;
		if (c != '2')
			expect_bad(s, 13, &REF, "check digit does not match");
	}
	expect_bad("19121212-1112", 13, &REF, "check digit does not match");
	expect_bad("1212121213", 10, &REF, "check digit does not match");
	expect_bad("121212+1213", 11, &REF, "check digit does not match");
	/* Two transposed digits. */
	expect_bad("19121212-2112", 13, &REF, "check digit does not match");
	/* Digits in the date count too. */
	expect_bad("19121211-1212", 13, &REF, "check digit does not match");
	expect_bad("19111212-1212", 13, &REF, "check digit does not match");
}

static void
shape_rejections(void **state)
{
	char big[4096];

	(void)state;
	expect_bad("", 0, &REF, "empty");
	expect_bad("12121212121", 11, &REF, "wrong length: 11 characters "
	    "(expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or "
	    "YYMMDDNNNC)");
	expect_bad("121212121", 9, &REF, "wrong length: 9 characters "
	    "(expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or "
	    "YYMMDDNNNC)");
	expect_bad("1912121212123", 13, &REF, "wrong length: 13 characters "
	    "(expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or "
	    "YYMMDDNNNC)");
	expect_bad("121212-121", 10, &REF, "wrong length: 10 characters "
	    "(expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or "
	    "YYMMDDNNNC)");
	expect_bad("19121212-12120", 14, &REF, "wrong length: 14 characters "
	    "(expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or "
	    "YYMMDDNNNC)");
	expect_bad("1", 1, &REF, "wrong length: 1 character "
	    "(expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or "
	    "YYMMDDNNNC)");
	expect_bad("121212x1212", 11, &REF,
	    "unexpected character 'x' at position 7");
	expect_bad("1212121-212", 11, &REF,
	    "expected '-' or '+' at position 7");
	expect_bad("191212121-212", 13, &REF,
	    "expected '-' or '+' at position 9");
	expect_bad("121212--212", 11, &REF,
	    "unexpected character '-' at position 8");
	expect_bad("-1212121212", 11, &REF,
	    "expected '-' or '+' at position 7");
	expect_bad("19121212+1212", 13, &REF,
	    "'+' is used only in the ten-digit form YYMMDD+NNNC");
	expect_bad("19121212 1212", 13, &REF,
	    "unexpected space at position 9");
	expect_bad(" 191212121212", 13, &REF,
	    "unexpected space at position 1");
	expect_bad("191212121212 ", 13, &REF,
	    "unexpected space at position 13");
	expect_bad("19121212/1212", 13, &REF,
	    "unexpected character '/' at position 9");
	expect_bad("19121212.1212", 13, &REF,
	    "unexpected character '.' at position 9");
	expect_bad("19121212\t1212", 13, &REF,
	    "unexpected byte 0x09 at position 9");
	expect_bad("19121212'1212", 13, &REF,
	    "unexpected byte 0x27 at position 9");
	/* NUL inside the given length. */
	expect_bad("19121212\0" "1212", 13, &REF,
	    "unexpected byte 0x00 at position 9");
	expect_bad("\0" "91212121212", 12, &REF,
	    "unexpected byte 0x00 at position 1");
	/* An en dash (UTF-8 E2 80 93) is not a hyphen. */
	expect_bad("19121212\xe2\x80\x93" "1212", 15, &REF,
	    "unexpected byte 0xE2 at position 9");
	expect_bad("\xef\xbb\xbf" "191212121212", 15, &REF,
	    "unexpected byte 0xEF at position 1");
	expect_bad("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10, &REF,
	    "unexpected byte 0xFF at position 1");
	/* Long input: refused on length alone, never read through. */
	memset(big, '1', sizeof(big));
	expect_bad(big, sizeof(big), &REF, "too long: more than 32 "
	    "characters");
	expect_bad(big, CC_LIMIT_IDENTITY_TEXT + 1, &REF,
	    "too long: more than 32 characters");
	expect_bad(big, CC_LIMIT_IDENTITY_TEXT, &REF, "wrong length: 32 "
	    "characters (expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC "
	    "or YYMMDDNNNC)");
}

static void
date_rejections(void **state)
{
	(void)state;
	expect_bad("19121312-1212", 13, &REF, "month 13 does not exist");
	expect_bad("19120012-1212", 13, &REF, "month 0 does not exist");
	expect_bad("129912-1212", 11, &REF, "month 99 does not exist");
	expect_bad("19121200-1212", 13, &REF, "day 0 does not exist (a "
	    "personnummer has day 1 to 31, a samordningsnummer 61 to 91)");
	expect_bad("19121232-1212", 13, &REF, "day 32 does not exist (a "
	    "personnummer has day 1 to 31, a samordningsnummer 61 to 91)");
	expect_bad("121299-1212", 11, &REF, "day 99 does not exist (a "
	    "personnummer has day 1 to 31, a samordningsnummer 61 to 91)");
	expect_bad("19120931-1212", 13, &REF,
	    "day 31 does not exist in 1912-09");
	/* Years before 1000 do not fit a date. */
	expect_bad("09991212-1212", 13, &REF, "birth year is out of range");
	expect_bad("00001212-1212", 13, &REF, "birth year is out of range");
	expect_bad("121212+1212", 11, &(struct cc_date){ 1050, 1, 1 },
	    "birth year is out of range");
}

static void
hostile_arguments(void **state)
{
	struct cc_identity id;
	struct cc_diag diag;
	const char *s = "19121212-1212";

	(void)state;
	assert_int_equal(cc_identity_parse(NULL, s, 13, &REF, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_identity_parse(&id, NULL, 13, &REF, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_identity_parse(&id, s, 13, NULL, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_identity_parse(&id, s, 13,
	    &(struct cc_date){ 2023, 2, 29 }, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_identity_parse(&id, s, 13,
	    &(struct cc_date){ 0, 0, 0 }, &diag), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_identity_parse(&id, NULL, 0, &REF, &diag),
	    CC_ERR_IDENTITY);
	assert_string_equal(diag.text, "empty");
	assert_int_equal(cc_identity_parse(&id, s, SIZE_MAX, &REF, &diag),
	    CC_ERR_IDENTITY);
	/* A NULL diag is allowed both ways. */
	assert_int_equal(cc_identity_parse(&id, s, 13, &REF, NULL), 0);
	assert_int_equal(cc_identity_parse(&id, s, 12, &REF, NULL),
	    CC_ERR_IDENTITY);
	/* The length counts, not a terminator: trailing bytes unread. */
	assert_int_equal(cc_identity_parse(&id, "19121212-1212XYZ", 13, &REF,
	    &diag), 0);
	assert_string_equal(id.canonical, "191212121212");
	/* Every truncation of a valid number fails (or is another form). */
	for (size_t n = 0; n < 13; n++) {
		int r = cc_identity_parse(&id, s, n, &REF, &diag);

		assert_int_equal(r, CC_ERR_IDENTITY);
		assert_false(diag_quotes_input(diag.text, s, n));
	}
	cc_identity_wipe(&id);
}

static void
wipe_clears_everything(void **state)
{
	struct cc_identity id;
	struct cc_diag diag;
	const uint8_t zero[sizeof(id)] = { 0 };

	(void)state;
	assert_int_equal(parse(&id, "19121212-1212", &diag), 0);
	cc_identity_wipe(&id);
	assert_memory_equal(&id, zero, sizeof(id));
	cc_identity_wipe(NULL);
}

static void
canonical_reparses_to_itself(void **state)
{
	static const char *const forms[] = {
		"19121212-1212", "121212+1212", "1212121212", "701063-1237",
		"260301-1236", "260302+1235", "000229-1235", "20240289-1234",
	};
	struct cc_identity a, b;
	struct cc_diag diag;

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(parse(&a, forms[i], &diag), 0);
		assert_int_equal(strlen(a.canonical), CC_ID_CANONICAL_LEN);
		assert_int_equal(parse(&b, a.canonical, &diag), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		cc_identity_wipe(&a);
		cc_identity_wipe(&b);
	}
}

/*
 * Every rejected input in one list: none of their reasons quotes a run
 * of four or more digits from the input.
 */
static void
no_reason_quotes_the_identity(void **state)
{
	static const char *const bad[] = {
		"19121212-1213", "1212121213", "121212+1213", "19121312-1212",
		"19121200-1212", "19121232-1212", "19120931-1212",
		"20230431-1232", "20230289-1235", "19000229-1235",
		"20260302-1235", "202603021235", "09991212-1212",
		"12121212121", "1912121212123", "19121212+1212", "121212x1212",
		"19121212 1212", "1212121-212", "199912319995", "9912319995",
		"19701060-1237", "19701092-1237", "20230491-1232",
		"3112311234", "19990230-4321", "450631-9876", "45063198761",
		"19450631-98765",
	};
	struct cc_identity id;
	struct cc_diag diag;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]);

		memset(&diag, 0, sizeof(diag));
		assert_int_equal(cc_identity_parse(&id, bad[i], len, &REF,
		    &diag), CC_ERR_IDENTITY);
		assert_true(diag.text[0] != '\0');
		if (diag_quotes_input(diag.text, bad[i], len))
			fail_msg("reason for input %zu quotes it: %s", i,
			    diag.text);
	}
}

/* A small deterministic generator (xorshift64): tests must repeat. */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Many random strings of the four shapes: on success the invariants hold,
 * on failure the reason quotes no digit run of the input except the
 * birth year in "does not exist in YYYY-MM", which is derived from the
 * date and may equal NNNC by chance.
 */
static void
random_shapes_keep_invariants(void **state)
{
	static const size_t lens[] = { 10, 11, 12, 13 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned ok = 0, rejected = 0;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		char s[14], mask[CC_ID_MASK_MAX];
		struct cc_identity id, again;
		struct cc_diag diag;
		uint64_t x = next_random(&seed);
		size_t len = lens[x % 4], i;
		int r;

		for (i = 0; i < len; i++)
			s[i] = (char)('0' + next_random(&seed) % 10);
		/* Plausible months and days half the time, to reach Luhn. */
		if (x & 4) {
			size_t m = len >= 12 ? 4 : 2;

			s[m] = (char)('0' + (x >> 8) % 2);
			s[m + 2] = (char)('0' + (x >> 9) % 3);
		}
		if (len == 11)
			s[6] = (x & 8) ? '+' : '-';
		if (len == 13)
			s[8] = '-';
		s[len] = '\0';
		memset(&diag, 0, sizeof(diag));
		r = cc_identity_parse(&id, s, len, &REF, &diag);
		cc_identity_mask(mask, s, len);
		assert_int_equal(strlen(mask), len);
		assert_string_equal(mask + len - 4, "****");
		if (r == 0) {
			ok++;
			assert_int_equal(strlen(id.canonical), 12);
			for (i = 0; i < 12; i++)
				assert_true(id.canonical[i] >= '0' &&
				    id.canonical[i] <= '9');
			assert_memory_equal(id.canonical + 8, s + len - 4, 4);
			assert_int_equal(parse(&again, id.canonical, &diag), 0);
			assert_memory_equal(&id, &again, sizeof(id));
			assert_true(cc_date_valid(id.birth_year,
			    id.birth_month, id.birth_day));
			assert_true(cc_date_age(id.birth_year, id.birth_month,
			    id.birth_day, &REF) >= 0);
		} else {
			size_t n = strlen(diag.text);

			rejected++;
			assert_int_equal(r, CC_ERR_IDENTITY);
			/* Blank out the one allowed year before checking. */
			if (n > 11 && memcmp(diag.text + n - 11, " in ", 4) == 0)
				memset(diag.text + n - 11, '_', 11);
			if (diag_quotes_input(diag.text, s, len))
				fail_msg("%s", diag.text);
		}
	}
	/* Both paths were taken often. */
	assert_true(ok > 1000);
	assert_true(rejected > 1000);
}

static void
mask(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "19121212-1212", "19121212-****" },
		{ "191212121212", "19121212****" },
		{ "121212-1212", "121212-****" },
		{ "121212+1212", "121212+****" },
		{ "1212121212", "121212****" },
		/* Recognisable even when it fails to parse. */
		{ "19121212-1213", "19121212-****" },
		{ "19121312-1212", "19121312-****" },
		{ "19121212+1212", "19121212+****" },
		/* Anything else is masked entirely. */
		{ "", "****" },
		{ "abc", "****" },
		{ "12121212121", "****" },
		{ "121212121", "****" },
		{ "19121212-121x", "****" },
		{ "19121212 1212", "****" },
		{ "1212121-212", "****" },
		{ " 19121212-1212", "****" },
		{ "19121212-12121", "****" },
	};
	char out[CC_ID_MASK_MAX];
	char big[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'Z', sizeof(out));
		cc_identity_mask(out, cases[i].in, strlen(cases[i].in));
		assert_string_equal(out, cases[i].out);
	}
	cc_identity_mask(out, NULL, 13);
	assert_string_equal(out, "****");
	cc_identity_mask(out, "19121212\0" "1212", 13);
	assert_string_equal(out, "****");
	memset(big, '1', sizeof(big));
	cc_identity_mask(out, big, sizeof(big));
	assert_string_equal(out, "****");
	cc_identity_mask(out, big, SIZE_MAX);
	assert_string_equal(out, "****");
	/* The length counts: a valid prefix of a longer buffer. */
	cc_identity_mask(out, "19121212-1212XYZ", 13);
	assert_string_equal(out, "19121212-****");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_written_form),
		cmocka_unit_test(sex_from_the_eleventh_digit),
		cmocka_unit_test(century_inference_at_the_boundary),
		cmocka_unit_test(samordningsnummer),
		cmocka_unit_test(leap_days),
		cmocka_unit_test(check_digit),
		cmocka_unit_test(shape_rejections),
		cmocka_unit_test(date_rejections),
		cmocka_unit_test(hostile_arguments),
		cmocka_unit_test(wipe_clears_everything),
		cmocka_unit_test(canonical_reparses_to_itself),
		cmocka_unit_test(no_reason_quotes_the_identity),
		cmocka_unit_test(random_shapes_keep_invariants),
		cmocka_unit_test(mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
