/*
 * Fuzz harness: cc_date_parse and cc_month_parse with their formatters
 * (protocol/date.c). Whatever parses must format back to the same text
 * (the compact form with its dashes restored) and parse again to the
 * same value; whatever fails must fail with CC_ERR_FORMAT and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/date.h"
#include "protocol/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_date(const uint8_t *data, size_t size)
{
	static const struct cc_date on = { 2026, 3, 1 };
	struct cc_date d, again;
	struct cc_diag diag;
	char out[11];
	int r, age;

	memset(&diag, 0, sizeof(diag));
	r = cc_date_parse(&d, (const char *)data, size, &diag);
	if (r != 0) {
		CHECK(r == CC_ERR_FORMAT);
		CHECK(diag.text[0] != '\0');
		CHECK(d.year == 0 && d.month == 0 && d.day == 0);
		return;
	}
	CHECK(size == 8 || size == 10);
	CHECK(cc_date_valid(d.year, d.month, d.day));
	cc_date_format(out, &d);
	CHECK(strlen(out) == 10);
	if (size == 10) {
		CHECK(memcmp(out, data, 10) == 0);
	} else {
		CHECK(memcmp(out, data, 4) == 0);
		CHECK(memcmp(out + 5, data + 4, 2) == 0);
		CHECK(memcmp(out + 8, data + 6, 2) == 0);
	}
	CHECK(cc_date_parse(&again, out, 10, &diag) == 0);
	CHECK(cc_date_cmp(&d, &again) == 0);

	/* Ages and order agree with each other. */
	age = cc_date_age(d.year, d.month, d.day, &on);
	if (cc_date_cmp(&d, &on) <= 0)
		CHECK(age >= 0 && (age == on.year - d.year ||
		    age == on.year - d.year - 1));
	else
		CHECK(age < 0);
	CHECK(cc_date_age(d.year, d.month, d.day, &d) == 0);
	CHECK((cc_date_month_index(&d) < cc_date_month_index(&on)) ==
	    (d.year < on.year || (d.year == on.year && d.month < on.month)));
}

static void
check_month(const uint8_t *data, size_t size)
{
	struct cc_diag diag;
	char out[8];
	int mi, again, r;

	memset(&diag, 0, sizeof(diag));
	r = cc_month_parse(&mi, (const char *)data, size, &diag);
	if (r != 0) {
		CHECK(r == CC_ERR_FORMAT);
		CHECK(diag.text[0] != '\0');
		CHECK(mi == 0);
		return;
	}
	CHECK(size == 7);
	cc_month_format(out, mi);
	CHECK(strlen(out) == 7 && memcmp(out, data, 7) == 0);
	CHECK(cc_month_parse(&again, out, 7, &diag) == 0 && again == mi);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_date(data, size);
	check_month(data, size);
	return 0;
}
