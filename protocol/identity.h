/*
 * crosscount: Swedish personal identity numbers (SPEC.md section 4.1).
 *
 * Accepted written forms of personnummer and samordningsnummer:
 *   YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC
 * where C is the Luhn check digit over the ten digits YYMMDDNNN and '+'
 * marks a person who turns 100 or more in the reference date's calendar
 * year (Skatteverket's rule). A samordningsnummer has day + 60. The
 * century of a ten-digit form with '-' or no separator is the latest one
 * that puts the birth date on or before the reference date; with '+' it
 * is the latest year at least 100 years before the reference year. A
 * twelve-digit form keeps its written century but may not be after the
 * reference date.
 * '+' belongs only in the ten-digit form; no other separator, no spaces
 * (the CSV layer trims), nothing before or after.
 *
 * The canonical form is the 12 ASCII digits YYYYMMDDNNNC (with the day
 * still + 60 for a samordningsnummer). It identifies a person: keep it in
 * memory only, and wipe it with cc_identity_wipe().
 *
 * Reasons in diag never contain the identity itself: they name a
 * position, a length, a month or day number, or the birth year-month
 * ("day 31 does not exist in 2023-04"), never the serial number or
 * check digit and never the length of an over-long input.
 */
#ifndef CC_IDENTITY_H
#define CC_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/date.h"
#include "protocol/error.h"

#define CC_ID_CANONICAL_LEN 12
#define CC_ID_MASK_MAX 16 /* "YYYYMMDD-****" + NUL, with room */

enum cc_id_kind {
	CC_ID_PERSONNUMMER = 1,
	CC_ID_SAMORDNINGSNUMMER = 2,
};

enum cc_sex {
	CC_SEX_UNKNOWN = 0,
	CC_SEX_FEMALE = 1,
	CC_SEX_MALE = 2,
};

struct cc_identity {
	char canonical[CC_ID_CANONICAL_LEN + 1]; /* 12 digits and NUL */
	enum cc_id_kind kind;
	int birth_year;
	int birth_month;
	int birth_day;     /* the real day (samordningsnummer: day - 60) */
	enum cc_sex sex;   /* from the 11th digit: odd male, even female */
};

/*
 * Parse a written identity. reference is the date against which the
 * century of a ten-digit form is inferred (normally the import date).
 * Returns 0, or CC_ERR_IDENTITY with a reason in diag such as
 * "check digit does not match", "month 13 does not exist", "wrong length:
 * 11 characters (...)", "unexpected character 'x' at position 7" or
 * "birth date is after the reference date"; CC_ERR_INVALID_ARGUMENT for a
 * NULL ret_id or reference, an invalid reference date, or NULL text with
 * len > 0. ret_id is cleared on entry and written only on success; the
 * caller wipes it with cc_identity_wipe().
 */
int cc_identity_parse(struct cc_identity *ret_id, const char *text,
    size_t len, const struct cc_date *reference, struct cc_diag *diag);

/* Wipe an identity (NULL allowed). */
void cc_identity_wipe(struct cc_identity *id);

/*
 * A mask for reports: the leading birth date part as written and the last
 * four characters as "****" ("19121212-****", "121212+****"). Input that
 * is not recognisably an identity is masked entirely ("****"). Always
 * NUL-terminates out.
 */
void cc_identity_mask(char out[CC_ID_MASK_MAX], const char *text, size_t len);

#endif
