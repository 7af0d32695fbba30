/*
 * crosscount: calendar dates and months (see date.h).
 *
 * Text is parsed with a small cursor that checks the remaining length
 * before every read (STYLE.md 1). Dates are not identities, so reasons
 * may quote the numbers that were written.
 */
#include "protocol/date.h"
#include "protocol/error.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

/* The longest text a date parser looks at before it calls it too long. */
#define DATE_TEXT_MAX 32

struct cursor {
	const char *p;
	size_t len;
	size_t off;
};

/*
 * Read exactly n ASCII digits as a number. On a non-digit, *ret_bad is set
 * to its 0-based offset and the cursor is left where it was.
 */
static int
cursor_digits(struct cursor *c, size_t n, int *ret_v, size_t *ret_bad)
{
	size_t i;
	int v = 0;

	*ret_v = 0;
	if (n > c->len - c->off) {
		*ret_bad = c->len;
		return CC_ERR_TRUNCATED;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->p[c->off + i];

		if (ch < '0' || ch > '9') {
			*ret_bad = c->off + i;
			return CC_ERR_FORMAT;
		}
		v = v * 10 + (ch - '0');
	}
	c->off += n;
	*ret_v = v;
	return 0;
}

/* Consume the '-' between fields; on anything else *ret_bad is set. */
static int
cursor_dash(struct cursor *c, size_t *ret_bad)
{
	if (c->off >= c->len) {
		*ret_bad = c->len;
		return CC_ERR_TRUNCATED;
	}
	if (c->p[c->off] != '-') {
		*ret_bad = c->off;
		return CC_ERR_FORMAT;
	}
	c->off++;
	return 0;
}

/*
 * The reason the character at offset `at` was refused, 1-based for a
 * person: "expected '-' at position 5", "unexpected character 'x' at
 * position 3", "unexpected byte 0x00 at position 3".
 */
static void
diag_unexpected(struct cc_diag *diag, const char *text, size_t len,
    size_t at, bool want_dash)
{
	unsigned char ch;

	if (at >= len) {
		cc_diag_set(diag, "ends too early");
		return;
	}
	ch = (unsigned char)text[at];
	if (want_dash)
		cc_diag_set(diag, "expected '-' at position %zu", at + 1);
	else if (ch >= 0x20 && ch < 0x7f && ch != '\'')
		cc_diag_set(diag, "unexpected character '%c' at position %zu",
		    (char)ch, at + 1);
	else
		cc_diag_set(diag, "unexpected byte 0x%02X at position %zu",
		    (unsigned)ch, at + 1);
}

bool
cc_date_is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
cc_date_days_in_month(int year, int month)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && cc_date_is_leap(year))
		return 29;
	return days[month - 1];
}

bool
cc_date_valid(int year, int month, int day)
{
	if (year < 1000 || year > 9999)
		return false;
	if (month < 1 || month > 12)
		return false;
	return day >= 1 && day <= cc_date_days_in_month(year, month);
}

/*
 * The reason a year/month/day is not a date, for a person. Called only
 * when cc_date_valid() has said no.
 */
static void
diag_invalid_date(struct cc_diag *diag, int year, int month, int day)
{
	if (year < 1000 || year > 9999)
		cc_diag_set(diag, "year %04d is out of range (1000 to 9999)",
		    year);
	else if (month < 1 || month > 12)
		cc_diag_set(diag, "month %d does not exist", month);
	else
		cc_diag_set(diag, "day %d does not exist in %04d-%02d", day,
		    year, month);
}

int
cc_date_parse(struct cc_date *ret_date, const char *text, size_t len,
    struct cc_diag *diag)
{
	struct cursor c = { text, len, 0 };
	struct cc_date d = { 0, 0, 0 };
	bool dashed;
	size_t bad = 0;
	int r = CC_ERR_INTERNAL;

	if (ret_date != NULL) {
		ret_date->year = 0;
		ret_date->month = 0;
		ret_date->day = 0;
	}
	if (ret_date == NULL || (text == NULL && len != 0)) {
		cc_diag_set(diag, "internal: no date or output given");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (len == 0) {
		cc_diag_set(diag, "date is empty (expected YYYY-MM-DD)");
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (len > DATE_TEXT_MAX) {
		cc_diag_set(diag, "date is too long: more than %d characters",
		    DATE_TEXT_MAX);
		r = CC_ERR_FORMAT;
		goto out;
	}
	/* The length decides the form; after that every offset is in range. */
	if (len != 8 && len != 10) {
		cc_diag_set(diag, "date has the wrong length: %zu character%s "
		    "(expected YYYY-MM-DD)", len, len == 1 ? "" : "s");
		r = CC_ERR_FORMAT;
		goto out;
	}
	dashed = len == 10;
	if (cursor_digits(&c, 4, &d.year, &bad) != 0 ||
	    (dashed && cursor_dash(&c, &bad) != 0) ||
	    cursor_digits(&c, 2, &d.month, &bad) != 0 ||
	    (dashed && cursor_dash(&c, &bad) != 0) ||
	    cursor_digits(&c, 2, &d.day, &bad) != 0) {
		diag_unexpected(diag, text, len, bad, dashed &&
		    (bad == 4 || bad == 7));
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (!cc_date_valid(d.year, d.month, d.day)) {
		diag_invalid_date(diag, d.year, d.month, d.day);
		r = CC_ERR_FORMAT;
		goto out;
	}
	*ret_date = d;
	r = 0;
out:
	return r;
}

int
cc_date_time_text(char out[CC_DATE_TIME_TEXT], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (out == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	out[0] = '\0';
	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
	    tm.tm_year < -1900 || tm.tm_year > 9999 - 1900 ||
	    strftime(out, CC_DATE_TIME_TEXT, "%Y-%m-%dT%H:%M:%SZ", &tm) !=
	    CC_DATE_TIME_TEXT - 1) {
		out[0] = '\0';
		return CC_ERR_FORMAT;
	}
	return 0;
}

int
cc_date_today(struct cc_date *ret_date)
{
	struct tm tm;
	time_t now;
	int r = CC_ERR_INTERNAL;

	if (ret_date == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	ret_date->year = 0;
	ret_date->month = 0;
	ret_date->day = 0;
	if ((now = time(NULL)) == (time_t)-1)
		goto out;
	if (gmtime_r(&now, &tm) == NULL)
		goto out;
	if (!cc_date_valid(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday))
		goto out;
	ret_date->year = tm.tm_year + 1900;
	ret_date->month = tm.tm_mon + 1;
	ret_date->day = tm.tm_mday;
	r = 0;
out:
	return r;
}

int
cc_date_cmp(const struct cc_date *a, const struct cc_date *b)
{
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return 0;
}

int
cc_date_month_index(const struct cc_date *d)
{
	return d->year * 12 + d->month - 1;
}

int
cc_month_parse(int *ret_month_index, const char *text, size_t len,
    struct cc_diag *diag)
{
	struct cursor c = { text, len, 0 };
	int year = 0, month = 0;
	size_t bad = 0;
	int r = CC_ERR_INTERNAL;

	if (ret_month_index != NULL)
		*ret_month_index = 0;
	if (ret_month_index == NULL || (text == NULL && len != 0)) {
		cc_diag_set(diag, "internal: no month or output given");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (len == 0) {
		cc_diag_set(diag, "month is empty (expected YYYY-MM)");
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (len > DATE_TEXT_MAX) {
		cc_diag_set(diag, "month is too long: more than %d characters",
		    DATE_TEXT_MAX);
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (len != 7) {
		cc_diag_set(diag, "month has the wrong length: %zu character%s "
		    "(expected YYYY-MM)", len, len == 1 ? "" : "s");
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (cursor_digits(&c, 4, &year, &bad) != 0 ||
	    cursor_dash(&c, &bad) != 0 ||
	    cursor_digits(&c, 2, &month, &bad) != 0) {
		diag_unexpected(diag, text, len, bad, bad == 4);
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (!cc_date_valid(year, month, 1)) {
		diag_invalid_date(diag, year, month, 1);
		r = CC_ERR_FORMAT;
		goto out;
	}
	*ret_month_index = year * 12 + month - 1;
	r = 0;
out:
	return r;
}

void
cc_month_format(char out[8], int month_index)
{
	/* Year 0000 is never a valid month: visibly wrong, same shape. */
	static const char unknown[8] = "0000-00";
	int year, month;

	if (month_index < 1000 * 12 || month_index > 9999 * 12 + 11) {
		memcpy(out, unknown, sizeof(unknown));
		return;
	}
	year = month_index / 12;
	month = month_index % 12 + 1;
	out[0] = (char)('0' + year / 1000);
	out[1] = (char)('0' + year / 100 % 10);
	out[2] = (char)('0' + year / 10 % 10);
	out[3] = (char)('0' + year % 10);
	out[4] = '-';
	out[5] = (char)('0' + month / 10);
	out[6] = (char)('0' + month % 10);
	out[7] = '\0';
}

void
cc_date_format(char out[11], const struct cc_date *d)
{
	static const char unknown[11] = "0000-00-00";

	if (d == NULL || !cc_date_valid(d->year, d->month, d->day)) {
		memcpy(out, unknown, sizeof(unknown));
		return;
	}
	cc_month_format(out, cc_date_month_index(d));
	out[7] = '-';
	out[8] = (char)('0' + d->day / 10);
	out[9] = (char)('0' + d->day % 10);
	out[10] = '\0';
}

/*
 * A birthday that does not exist in the year of `on` (29 February) falls
 * on the last day of the month, as periods counted in years do in Swedish
 * law: lag (1930:173) om beräkning av lagstadgad tid, 2 §.
 */
int
cc_date_age(int birth_year, int birth_month, int birth_day,
    const struct cc_date *on)
{
	int age, day, last;

	if (on == NULL)
		return -1;
	age = on->year - birth_year;
	day = birth_day < 1 ? 1 : birth_day;
	last = cc_date_days_in_month(on->year, birth_month);
	if (last > 0 && day > last)
		day = last;
	if (on->month < birth_month ||
	    (on->month == birth_month && on->day < day))
		age--;
	return age;
}
