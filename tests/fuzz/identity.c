/*
 * Fuzz harness: cc_identity_parse and cc_identity_mask (protocol/identity.c).
 *
 * The input is the written identity, parsed against two fixed reference
 * dates. On success the canonical form must be twelve digits that parse
 * back to the same identity; on failure the reason must not quote the
 * input (SPEC 4.1, DESIGN "privacy"). A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/date.h"
#include "protocol/error.h"
#include "protocol/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static const struct cc_date refs[] = {
	{ 2026, 3, 1 },
	{ 2000, 2, 29 },
};

/*
 * True if a run of four or more digits of the input occurs in the reason.
 * The reason's closing " in YYYY-MM" (a derived birth year) is left out:
 * it may equal the serial digits by chance without revealing them.
 */
static int
reason_quotes_input(const char *reason, const uint8_t *in, size_t len)
{
	char text[CC_DIAG_MAX];
	size_t n = strnlen(reason, sizeof(text) - 1), i = 0;

	memcpy(text, reason, n);
	text[n] = '\0';
	if (n > 11 && memcmp(text + n - 11, " in ", 4) == 0)
		memset(text + n - 11, '_', 11);
	while (i < len) {
		size_t start;
		char run[64];

		if (in[i] < '0' || in[i] > '9') {
			i++;
			continue;
		}
		start = i;
		while (i < len && in[i] >= '0' && in[i] <= '9')
			i++;
		if (i - start < 4)
			continue;
		/* Longer than any reason could quote: nothing to look for. */
		if (i - start >= sizeof(run))
			continue;
		memcpy(run, in + start, i - start);
		run[i - start] = '\0';
		if (strstr(text, run) != NULL)
			return 1;
	}
	return 0;
}

static void
check_one(const uint8_t *data, size_t size, const struct cc_date *ref)
{
	struct cc_identity id, again;
	struct cc_diag diag;
	struct cc_date birth;
	int r, i;

	memset(&diag, 0, sizeof(diag));
	r = cc_identity_parse(&id, (const char *)data, size, ref, &diag);
	if (r != 0) {
		CHECK(r == CC_ERR_IDENTITY);
		CHECK(diag.text[0] != '\0');
		CHECK(memchr(diag.text, '\0', sizeof(diag.text)) != NULL);
		CHECK(!reason_quotes_input(diag.text, data, size));
		return;
	}
	CHECK(size >= 10 && size <= 13);
	CHECK(strlen(id.canonical) == CC_ID_CANONICAL_LEN);
	for (i = 0; i < CC_ID_CANONICAL_LEN; i++)
		CHECK(id.canonical[i] >= '0' && id.canonical[i] <= '9');
	/* The serial and check digits are carried over as written. */
	CHECK(memcmp(id.canonical + 8, data + size - 4, 4) == 0);
	CHECK(cc_date_valid(id.birth_year, id.birth_month, id.birth_day));
	birth.year = id.birth_year;
	birth.month = id.birth_month;
	birth.day = id.birth_day;
	CHECK(cc_date_cmp(&birth, ref) <= 0);
	CHECK(cc_date_age(id.birth_year, id.birth_month, id.birth_day,
	    ref) >= 0);
	CHECK(id.sex == ((id.canonical[10] - '0') % 2 ? CC_SEX_MALE :
	    CC_SEX_FEMALE));
	CHECK(id.kind == (id.canonical[6] >= '6' ? CC_ID_SAMORDNINGSNUMMER :
	    CC_ID_PERSONNUMMER));
	/* The canonical form is a written form of the same identity. */
	CHECK(cc_identity_parse(&again, id.canonical, CC_ID_CANONICAL_LEN,
	    ref, &diag) == 0);
	CHECK(memcmp(&id, &again, sizeof(id)) == 0);
	cc_identity_wipe(&id);
	cc_identity_wipe(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char mask[CC_ID_MASK_MAX];
	size_t n;

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		check_one(data, size, &refs[i]);

	/* The mask: "****", or the input's date part and "****". */
	memset(mask, 'Z', sizeof(mask));
	cc_identity_mask(mask, (const char *)data, size);
	n = strnlen(mask, sizeof(mask));
	CHECK(n < sizeof(mask));
	CHECK(n >= 4 && memcmp(mask + n - 4, "****", 4) == 0);
	if (n > 4) {
		CHECK(n == size);
		CHECK(memcmp(mask, data, n - 4) == 0);
	}
	return 0;
}
