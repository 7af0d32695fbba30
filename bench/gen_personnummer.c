/*
 * bench: write a synthetic import file of valid personnummer to stdout.
 *
 *   gen-personnummer ROWS [SEED]
 *
 * Every identity is a real-shaped personnummer (born 2005-2024, Luhn
 * check digit right) or, for one person in 50, a samordningsnummer (day
 * + 60); written as YYYYMMDD-NNNC, YYYYMMDDNNNC or YYMMDD-NNNC. About 30%
 * of the rows repeat an earlier person with another episode. Synthetic
 * data only: the persons are numbered, not drawn from any register.
 */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

/* splitmix64: fast and good enough for synthetic data (not for secrets). */
static uint64_t
next_random(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t
below(uint32_t n)
{
	return (uint32_t)(next_random() % n);
}

/* Civil date from a day count since 1970-01-01 (Howard Hinnant's method). */
static void
civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

#define FIRST_DAY 12784   /* 2005-01-01 */
#define NDAYS 7305        /* to 2024-12-31 */

/* Person k: a unique birth date and serial number. */
static void
person(char out[16], uint32_t k, int form)
{
	char ten[10];
	int y, m, d, serial, i, v, sum = 0;

	civil(FIRST_DAY + (int64_t)(k % NDAYS), &y, &m, &d);
	serial = (int)((k / NDAYS) % 1000);
	if (k % 50 == 7)
		d += 60;      /* samordningsnummer */
	ten[0] = (char)('0' + y / 10 % 10);
	ten[1] = (char)('0' + y % 10);
	ten[2] = (char)('0' + m / 10);
	ten[3] = (char)('0' + m % 10);
	ten[4] = (char)('0' + d / 10);
	ten[5] = (char)('0' + d % 10);
	ten[6] = (char)('0' + serial / 100);
	ten[7] = (char)('0' + serial / 10 % 10);
	ten[8] = (char)('0' + serial % 10);
	for (i = 0; i < 9; i++) {
		v = (ten[i] - '0') * (i % 2 == 0 ? 2 : 1);
		sum += v > 9 ? v - 9 : v;
	}
	ten[9] = (char)('0' + (10 - sum % 10) % 10);
	i = 0;
	if (form != 2) {
		out[i++] = (char)('0' + y / 1000);
		out[i++] = (char)('0' + y / 100 % 10);
	}
	memcpy(out + i, ten, 6);
	i += 6;
	if (form != 1)
		out[i++] = '-';
	memcpy(out + i, ten + 6, 4);
	out[i + 4] = '\0';
}

static const char *const categories[] = {
	"orosanmalan", "utredning", "insats", "placering", "franvaro",
	"sarskilt-stod", "bup-besok", "sip",
};

int
main(int argc, char **argv)
{
	char *end = NULL, id[16];
	unsigned long long rows, i;
	uint32_t persons = 0, k;
	int day, len;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gen-personnummer ROWS [SEED]\n");
		return 2;
	}
	rows = strtoull(argv[1], &end, 10);
	if (end == argv[1] || *end != '\0' || rows == 0 || rows > 100000000ULL) {
		fprintf(stderr, "gen-personnummer: ROWS must be 1..100000000\n");
		return 2;
	}
	rng_state = 1;
	if (argc == 3) {
		errno = 0;
		rng_state = strtoull(argv[2], &end, 10);
		if (errno != 0 || end == argv[2] || *end != '\0') {
			fprintf(stderr, "gen-personnummer: SEED must be a whole "
			    "number\n");
			return 2;
		}
	}
	printf("personnummer,category,start_date,end_date,unit\n");
	for (i = 0; i < rows; i++) {
		/* 30%: an earlier person again, with another episode. */
		if (persons > 0 && below(100) < 30)
			k = below(persons);
		else
			k = persons++;
		person(id, k, (int)below(3));
		day = (int)below(365);
		len = (int)below(120);
		printf("%s,%s,2024-%02d-%02d,", id,
		    categories[below(sizeof(categories) / sizeof(categories[0]))],
		    1 + day / 31 % 12, 1 + day % 28);
		if (below(4) != 0)
			printf("2025-%02d-%02d", 1 + len / 10 % 12, 1 + len % 28);
		printf(",enhet-%u\n", below(20));
	}
	return ferror(stdout) ? 1 : 0;
}
