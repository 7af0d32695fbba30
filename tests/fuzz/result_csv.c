/*
 * Fuzz target "result_csv": a released table read back from the store
 * (aggregator/counting.c, SPEC 9.6) as arbitrary JSON, written as
 * result.csv and digested. Checks that a CSV that is produced is
 * well formed: the byte order mark and header first, no NUL, and a
 * record per cell.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aggregator/counting.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char head[] = "\xEF\xBB\xBF"
    "combination;age_band;sex;count;suppressed\r\n";

/* Records end in CRLF outside quotes. */
static size_t
csv_records(const char *text, size_t len)
{
	size_t i, n = 0;
	int quoted = 0;

	for (i = 0; i < len; i++) {
		if (text[i] == '"')
			quoted = !quoted;
		else if (!quoted && text[i] == '\n')
			n++;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char digest[CC_COUNTING_DIGEST_HEX], *text = NULL;
	json_t *root;
	size_t len;

	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, NULL);
	if (root == NULL)
		return 0;
	if (cc_counting_digest(digest, root) == 0 && strlen(digest) != 64)
		abort();
	if (cc_counting_csv(root, &text, &len) == 0) {
		if (len != strlen(text) || len < sizeof(head) - 1 ||
		    memcmp(text, head, sizeof(head) - 1) != 0 ||
		    csv_records(text, len) != 1 + json_array_size(
		    json_object_get(root, "cells")))
			abort();
		free(text);
	} else if (text != NULL) {
		abort();
	}
	json_decref(root);
	return 0;
}
