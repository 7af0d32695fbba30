/*
 * Fuzz harness: the streaming CSV reader (node/csv.c).
 *
 * The input is served through fmemopen (seekable, like a real file) and
 * read to the end once per encoding choice. Beyond "no crash", every
 * record must keep the reader's promises: at most CC_LIMIT_CSV_COLUMNS
 * fields, each NUL-terminated at its length, at most CC_LIMIT_CSV_FIELD
 * bytes, valid UTF-8; line numbers never go back; a rejected row carries
 * no fields; and every call makes progress, so the loop ends.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_record(const struct cc_csv_record *rec)
{
	size_t i;

	if (rec->nfields > CC_LIMIT_CSV_COLUMNS || rec->line == 0)
		abort();
	for (i = 0; i < rec->nfields; i++) {
		if (rec->field[i] == NULL || rec->len[i] > CC_LIMIT_CSV_FIELD ||
		    strlen(rec->field[i]) != rec->len[i] ||
		    !cc_csv_utf8_valid(rec->field[i], rec->len[i]))
			abort();
	}
}

static void
read_all(const uint8_t *data, size_t size, enum cc_csv_encoding enc)
{
	struct cc_csv_record rec;
	struct cc_csv *c = NULL;
	struct cc_diag d = { { 0 } };
	unsigned long last_line = 0;
	size_t calls = 0;
	FILE *f;
	int r;

	f = fmemopen((void *)(uintptr_t)data, size, "r");
	if (f == NULL)
		return;
	if (cc_csv_open(&c, f, enc, &d) != 0) {
		if (c != NULL || strnlen(d.text, sizeof(d.text)) == sizeof(d.text))
			abort();
		goto out;
	}
	if ((cc_csv_delimiter(c) != ';' && cc_csv_delimiter(c) != ',') ||
	    cc_csv_encoding(c) == CC_CSV_ENCODING_AUTO ||
	    (enc != CC_CSV_ENCODING_AUTO && cc_csv_encoding(c) != enc))
		abort();
	check_record(cc_csv_header(c));
	if (cc_csv_header(c)->nfields < 2)
		abort();     /* a delimiter was found in the header */
	last_line = cc_csv_header(c)->line;
	for (;;) {
		/* Every call consumes at least one byte, or ends. */
		if (++calls > size + 2)
			abort();
		r = cc_csv_next(c, &rec, &d);
		if (r == 0)
			break;
		if (r == 1) {
			check_record(&rec);
			if (rec.nfields == 0)
				abort();
		} else if (r == CC_ERR_LIMIT || r == CC_ERR_FORMAT) {
			if (rec.nfields != 0)
				abort();
		} else {
			/* Fatal: stays fatal. */
			if (cc_csv_next(c, &rec, &d) != r)
				abort();
			break;
		}
		if (rec.line <= last_line)
			abort();
		last_line = rec.line;
	}
out:
	cc_csv_free(c);
	fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_all(data, size, CC_CSV_ENCODING_AUTO);
	read_all(data, size, CC_CSV_ENCODING_UTF8);
	read_all(data, size, CC_CSV_ENCODING_CP1252);
	return 0;
}
