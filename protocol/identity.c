/*
 * crosscount: Swedish personal identity numbers (SPEC.md section 4).
 *
 * The parser works in three steps: the written shape (4.1), the calendar
 * date with the century of a ten-digit form (4.1), then the Luhn check
 * digit; it then builds the canonical twelve digits (4.2) and the derived
 * birth date and sex (4.3).
 *
 * Privacy: a reason written into diag never quotes the identity. It may
 * name a position, a length, a month or day number, or the birth
 * year-month that was written or inferred (less than cc_identity_mask()
 * shows), but never the serial number and check digit. Every local copy
 * of the digits is wiped before returning.
 */
#include "protocol/identity.h"
#include "protocol/date.h"
#include "protocol/error.h"
#include "protocol/limits.h"

#include <stdbool.h>
#include <string.h>

#include <sodium.h>

/* Day numbers of a samordningsnummer are the birth day plus this. */
#define SAMORDNING_DAY_OFFSET 60

/* The four written shapes, named by their length. */
enum shape {
	SHAPE_10 = 10,  /* YYMMDDNNNC */
	SHAPE_11 = 11,  /* YYMMDD-NNNC or YYMMDD+NNNC */
	SHAPE_12 = 12,  /* YYYYMMDDNNNC */
	SHAPE_13 = 13,  /* YYYYMMDD-NNNC */
};

static bool
is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Offset of the separator in a shape, or 0 for the all-digit shapes. */
static size_t
separator_offset(size_t len)
{
	if (len == SHAPE_11)
		return 6;
	if (len == SHAPE_13)
		return 8;
	return 0;
}

/*
 * True if text has one of the four shapes: digits everywhere and '-' or
 * '+' at the separator offset of an 11- or 13-character form. Used by the
 * mask; the parser checks the same thing with reasons.
 */
static bool
has_shape(const char *text, size_t len)
{
	size_t sep, i;

	if (text == NULL || len < SHAPE_10 || len > SHAPE_13)
		return false;
	sep = separator_offset(len);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (sep != 0 && i == sep) {
			if (ch != '-' && ch != '+')
				return false;
		} else if (!is_digit(ch)) {
			return false;
		}
	}
	return true;
}

/*
 * Check the written shape (SPEC 4.1) and say why it is wrong: a byte
 * that is never allowed, then the length, then a separator out of place.
 * Only positions and lengths are quoted; a non-digit character may be
 * shown since it is not part of the identity.
 */
static int
check_shape(const char *text, size_t len, struct cc_diag *diag)
{
	size_t i, sep, separators = 0;

	if (len == 0) {
		cc_diag_set(diag, "empty");
		return CC_ERR_IDENTITY;
	}
	/* Not the length itself: a long run of digits could contain it. */
	if (len > CC_LIMIT_IDENTITY_TEXT) {
		cc_diag_set(diag, "too long: more than %d characters",
		    CC_LIMIT_IDENTITY_TEXT);
		return CC_ERR_IDENTITY;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '-' || ch == '+') {
			separators++;
			continue;
		}
		if (is_digit(ch))
			continue;
		if (ch > 0x20 && ch < 0x7f && ch != '\'')
			cc_diag_set(diag, "unexpected character '%c' at "
			    "position %zu", (char)ch, i + 1);
		else if (ch == ' ')
			cc_diag_set(diag, "unexpected space at position %zu",
			    i + 1);
		else
			cc_diag_set(diag, "unexpected byte 0x%02X at "
			    "position %zu", (unsigned)ch, i + 1);
		return CC_ERR_IDENTITY;
	}
	if ((separators == 0 && len != SHAPE_10 && len != SHAPE_12) ||
	    (separators != 0 && len != SHAPE_11 && len != SHAPE_13)) {
		cc_diag_set(diag, "wrong length: %zu character%s (expected "
		    "YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or YYMMDDNNNC)",
		    len, len == 1 ? "" : "s");
		return CC_ERR_IDENTITY;
	}
	sep = separator_offset(len);
	if (sep != 0 && text[sep] != '-' && text[sep] != '+') {
		cc_diag_set(diag, "expected '-' or '+' at position %zu",
		    sep + 1);
		return CC_ERR_IDENTITY;
	}
	for (i = 0; i < len; i++) {
		if (i != sep && !is_digit((unsigned char)text[i])) {
			cc_diag_set(diag, "unexpected character '%c' at "
			    "position %zu", text[i], i + 1);
			return CC_ERR_IDENTITY;
		}
	}
	if (len == SHAPE_13 && text[sep] == '+') {
		cc_diag_set(diag, "'+' is used only in the ten-digit form "
		    "YYMMDD+NNNC");
		return CC_ERR_IDENTITY;
	}
	return 0;
}

/* n digits at p (already checked to be digits) as a number. */
static int
digits_value(const char *p, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/*
 * Luhn over the ten digits YYMMDDNNNC (SPEC 4.1): from the left, every
 * other digit starting with the first is doubled (digit sum taken), and
 * the total including the check digit is a multiple of ten.
 */
static bool
luhn_ok(const char ten[10])
{
	unsigned sum = 0;

	for (size_t i = 0; i < 10; i++) {
		unsigned d = (unsigned)(ten[i] - '0');

		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/*
 * The century of a ten-digit form (SPEC 4.1).
 *
 * '-' or no separator: the latest year ending in yy whose date (month,
 * day) is on or before the reference date.
 *
 * '+': Skatteverket writes '+' from the start of the calendar year in
 * which a person turns 100 (folkbokföringslagen 18 §), so the year is the
 * latest one ending in yy that is at least 100 years before the
 * reference year. A person who turns 100 later this year is therefore
 * read the same from "-" (the birthday-based habit of some record
 * systems) and from "+".
 *
 * The day may still be invalid for that year (29 February): the caller
 * checks.
 */
static int
infer_year(int yy, int month, int day, bool plus,
    const struct cc_date *reference)
{
	int back = (reference->year % 100 - yy + 100) % 100;
	int year = reference->year - back;
	struct cc_date birth = { year, month, day };

	if (plus)
		return reference->year - 100 - back;
	if (cc_date_cmp(&birth, reference) > 0)
		year -= 100;
	return year;
}

int
cc_identity_parse(struct cc_identity *ret_id, const char *text,
    size_t len, const struct cc_date *reference, struct cc_diag *diag)
{
	struct cc_identity id;
	struct cc_date birth;
	/* The twelve digits YYYYMMDDNNNC, built here; wiped at out. */
	char digits[CC_ID_CANONICAL_LEN + 1];
	const char *date_part, *serial;
	int year, month, day, written_day;
	bool plus = false;
	int r = CC_ERR_INTERNAL;

	memset(&id, 0, sizeof(id));
	memset(digits, 0, sizeof(digits));
	if (ret_id != NULL)
		sodium_memzero(ret_id, sizeof(*ret_id));
	if (ret_id == NULL || (text == NULL && len != 0) ||
	    reference == NULL ||
	    !cc_date_valid(reference->year, reference->month,
	    reference->day)) {
		cc_diag_set(diag, "internal: missing output, text or valid "
		    "reference date");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}

	/* SPEC 4.1: the written shape. */
	if ((r = check_shape(text, len, diag)) != 0)
		goto out;
	date_part = text;
	serial = text + len - 4;
	if (len == SHAPE_11)
		plus = text[6] == '+';

	/* SPEC 4.1: month and day, before the century is known. */
	month = digits_value(date_part + (len >= SHAPE_12 ? 4 : 2), 2);
	written_day = digits_value(date_part + (len >= SHAPE_12 ? 6 : 4), 2);
	if (month < 1 || month > 12) {
		cc_diag_set(diag, "month %d does not exist", month);
		r = CC_ERR_IDENTITY;
		goto out;
	}
	id.kind = CC_ID_PERSONNUMMER;
	day = written_day;
	if (written_day > SAMORDNING_DAY_OFFSET &&
	    written_day <= SAMORDNING_DAY_OFFSET + 31) {
		id.kind = CC_ID_SAMORDNINGSNUMMER;
		day = written_day - SAMORDNING_DAY_OFFSET;
	} else if (written_day < 1 || written_day > 31) {
		cc_diag_set(diag, "day %d does not exist (a personnummer has "
		    "day 1 to 31, a samordningsnummer 61 to 91)", written_day);
		r = CC_ERR_IDENTITY;
		goto out;
	}

	/* SPEC 4.1: the year, written or inferred, and the real date. */
	if (len >= SHAPE_12)
		year = digits_value(date_part, 4);
	else
		year = infer_year(digits_value(date_part, 2), month, day, plus,
		    reference);
	if (year < 1000 || year > 9999) {
		cc_diag_set(diag, "birth year is out of range");
		r = CC_ERR_IDENTITY;
		goto out;
	}
	if (day > cc_date_days_in_month(year, month)) {
		if (id.kind == CC_ID_SAMORDNINGSNUMMER)
			cc_diag_set(diag, "day %d (written %d in a "
			    "samordningsnummer) does not exist in %04d-%02d",
			    day, written_day, year, month);
		else
			cc_diag_set(diag, "day %d does not exist in %04d-%02d",
			    day, year, month);
		r = CC_ERR_IDENTITY;
		goto out;
	}
	birth.year = year;
	birth.month = month;
	birth.day = day;
	if (cc_date_cmp(&birth, reference) > 0) {
		cc_diag_set(diag, "birth date is after the reference date");
		r = CC_ERR_IDENTITY;
		goto out;
	}

	/* SPEC 4.2: the canonical form YYYYMMDDNNNC. */
	digits[0] = (char)('0' + year / 1000);
	digits[1] = (char)('0' + year / 100 % 10);
	digits[2] = (char)('0' + year / 10 % 10);
	digits[3] = (char)('0' + year % 10);
	memcpy(digits + 4, date_part + (len >= SHAPE_12 ? 4 : 2), 4);
	memcpy(digits + 8, serial, 4);
	digits[CC_ID_CANONICAL_LEN] = '\0';

	/* SPEC 4.1: the check digit covers the ten digits after the century. */
	if (!luhn_ok(digits + 2)) {
		cc_diag_set(diag, "check digit does not match");
		r = CC_ERR_IDENTITY;
		goto out;
	}

	/* SPEC 4.3: derived attributes. */
	memcpy(id.canonical, digits, sizeof(id.canonical));
	id.birth_year = year;
	id.birth_month = month;
	id.birth_day = day;
	id.sex = (digits[10] - '0') % 2 == 1 ? CC_SEX_MALE : CC_SEX_FEMALE;
	*ret_id = id;
	r = 0;
out:
	sodium_memzero(&id, sizeof(id));
	sodium_memzero(digits, sizeof(digits));
	return r;
}

void
cc_identity_wipe(struct cc_identity *id)
{
	if (id != NULL)
		sodium_memzero(id, sizeof(*id));
}

void
cc_identity_mask(char out[CC_ID_MASK_MAX], const char *text, size_t len)
{
	size_t keep;

	if (!has_shape(text, len)) {
		memcpy(out, "****", 5);
		return;
	}
	/* The date part and any separator, as written; never the NNNC. */
	keep = len - 4;
	memcpy(out, text, keep);
	memcpy(out + keep, "****", 5);
}
