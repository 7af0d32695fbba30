/*
 * Fuzz harness: the strict INI reader (protocol/ini.c) behind node.conf
 * and aggregator.conf, fed through fmemopen. Beyond "no crash", every
 * entry handed out must obey the contract of ini.h (a known key of the
 * current section, a trimmed non-empty value within the line limit, line
 * numbers increasing, a non-repeatable key at most once), and every
 * error must be explained. Values also go through the list splitter and
 * the number parser.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { S_A, S_B, S_C, S_COUNT };
enum { K_X, K_Y, K_LIST, K_Z, K_COUNT };

static const char *const sections[S_COUNT] = { "a", "b", "policy" };
static const struct cc_ini_key keys[K_COUNT] = {
	[K_X] = { S_A, "x", false },
	[K_Y] = { S_A, "y", false },
	[K_LIST] = { S_C, "grid", true },
	[K_Z] = { S_B, "z", false },
};
static const struct cc_ini_schema schema = { sections, S_COUNT, keys, K_COUNT };

static void
check_value(char *v)
{
	char *items[8];
	unsigned long n;
	bool over, empty;
	size_t len = strlen(v), i, count;

	if (len == 0 || len > CC_LIMIT_CONFIG_LINE || v[0] == ' ' ||
	    v[0] == '\t' || v[len - 1] == ' ' || v[len - 1] == '\t')
		abort();
	if (cc_ini_parse_uint(v, 0, 65535, &n) == 0 && n > 65535)
		abort();
	count = cc_ini_split_list(v, items, 8, &over, &empty);
	if (count > 8)
		abort();
	for (i = 0; i < count; i++)
		if (items[i][0] == '\0' || items[i][0] == ' ' || items[i][0] == '\t')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_diag d = { { 0 } };
	struct cc_ini *ini = NULL;
	struct cc_ini_entry e;
	unsigned long last = 0, seen[K_COUNT] = { 0 };
	FILE *f;
	int r;

	if ((f = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	if (cc_ini_new(&ini, f, "fuzz.conf", &schema, &d) != 0)
		abort();
	while ((r = cc_ini_next(ini, &e, &d)) == 1) {
		if (e.key >= K_COUNT || e.section != keys[e.key].section ||
		    e.line <= last || e.line > CC_LIMIT_CONFIG_LINES)
			abort();
		if (seen[e.key] != 0 && !keys[e.key].repeatable)
			abort();
		if (seen[e.key] == 0)
			seen[e.key] = e.line;
		if (cc_ini_key_line(ini, e.key) != seen[e.key])
			abort();
		last = e.line;
		check_value(e.value);
	}
	if (r != 0 && (r != CC_ERR_CONFIG || d.text[0] == '\0' ||
	    strncmp(d.text, "fuzz.conf:", 10) != 0))
		abort();
	cc_ini_free(ini);
	fclose(f);
	return 0;
}
