/*
 * crosscount-node: streaming reader for agency CSV exports (RFC 4180).
 *
 * Three layers, each bounded:
 *   raw      fixed input buffer filled with fread (CSV_INBUF bytes);
 *   decode   one UTF-8 byte at a time: UTF-8 is validated as it passes,
 *            Windows-1252 is converted through a table; NUL is refused;
 *            physical lines (LF, CRLF or a lone CR) are counted here;
 *   record   the RFC 4180 state machine, writing unquoted field bytes
 *            into a buffer of CC_LIMIT_CSV_LINE + CC_LIMIT_CSV_COLUMNS
 *            bytes (every stored byte was one consumed record byte, plus
 *            one NUL per field), so no input can grow memory.
 *
 * Identities pass through every buffer: the record buffer is wiped before
 * it is reused and everything is wiped before it is freed. Diagnostics
 * name lines and field numbers, never field contents.
 */
#include "node/csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <sodium.h>

#define CSV_INBUF 16384
#define CSV_RECBUF (CC_LIMIT_CSV_LINE + CC_LIMIT_CSV_COLUMNS + 1)
#define CSV_EOF (-1)
#define CSV_NO_PEEK (-2)

/* Incremental strict UTF-8 validation (no overlongs, no surrogates). */
struct utf8_state {
	uint8_t need;   /* continuation bytes still expected */
	uint8_t lo, hi; /* allowed range of the next continuation byte */
};

struct cc_csv {
	FILE *f;
	off_t start;                 /* file offset where the reader began */
	enum cc_csv_encoding enc;    /* never AUTO once open */
	char delim;
	int fatal;                   /* sticky CC_ERR_IO / CC_ERR_ENCODING */
	bool done;                   /* end of file reached by the parser */

	/* raw layer */
	unsigned char in[CSV_INBUF];
	size_t in_off, in_len;
	bool in_eof;

	/* decode layer */
	unsigned char pend[4];       /* UTF-8 bytes of a converted cp1252 byte */
	size_t pend_off, pend_len;
	struct utf8_state u8;
	int peek;                    /* one decoded byte looked at, or NO_PEEK */
	unsigned long line;          /* physical line of the next byte */

	/* record layer */
	char buf[CSV_RECBUF];
	size_t buf_used;             /* high-water mark, wiped before reuse */
	char hbuf[CSV_RECBUF];
	struct cc_csv_record header;
};

/*
 * Windows-1252 0x80..0x9F as Unicode code points; 0 marks the five bytes
 * the code page leaves undefined. 0xA0..0xFF are U+00A0..U+00FF.
 */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static bool
cp1252_defined(uint8_t b)
{
	return b < 0x80 || b >= 0xA0 || cp1252_high[b - 0x80] != 0;
}

static void
utf8_reset(struct utf8_state *s)
{
	s->need = 0;
	s->lo = 0x80;
	s->hi = 0xBF;
}

/* Feed one byte; false if the byte cannot continue valid UTF-8. */
static bool
utf8_step(struct utf8_state *s, uint8_t b)
{
	if (s->need > 0) {
		if (b < s->lo || b > s->hi)
			return false;
		s->need--;
		s->lo = 0x80;
		s->hi = 0xBF;
		return true;
	}
	if (b < 0x80)
		return true;
	if (b >= 0xC2 && b <= 0xDF)
		s->need = 1;
	else if (b == 0xE0) {
		s->need = 2;
		s->lo = 0xA0;
	} else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF)
		s->need = 2;
	else if (b == 0xED) {
		s->need = 2;
		s->hi = 0x9F;     /* no UTF-16 surrogates */
	} else if (b == 0xF0) {
		s->need = 3;
		s->lo = 0x90;
	} else if (b >= 0xF1 && b <= 0xF3)
		s->need = 3;
	else if (b == 0xF4) {
		s->need = 3;
		s->hi = 0x8F;     /* nothing above U+10FFFF */
	} else
		return false;
	return true;
}

bool
cc_csv_utf8_valid(const void *s, size_t n)
{
	const uint8_t *p = s;
	struct utf8_state st;
	size_t i;

	if (n > 0 && p == NULL)
		return false;
	utf8_reset(&st);
	for (i = 0; i < n; i++)
		if (!utf8_step(&st, p[i]))
			return false;
	return st.need == 0;
}

int
cc_csv_encoding_parse(enum cc_csv_encoding *ret_enc, const char *name)
{
	if (ret_enc == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_enc = CC_CSV_ENCODING_AUTO;
	if (name == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (strcasecmp(name, "auto") == 0)
		*ret_enc = CC_CSV_ENCODING_AUTO;
	else if (strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0)
		*ret_enc = CC_CSV_ENCODING_UTF8;
	else if (strcasecmp(name, "windows-1252") == 0 ||
	    strcasecmp(name, "cp1252") == 0)
		*ret_enc = CC_CSV_ENCODING_CP1252;
	else
		return CC_ERR_FORMAT;
	return 0;
}

const char *
cc_csv_encoding_name(enum cc_csv_encoding enc)
{
	switch (enc) {
	case CC_CSV_ENCODING_AUTO: return "auto";
	case CC_CSV_ENCODING_UTF8: return "utf-8";
	case CC_CSV_ENCODING_CP1252: return "windows-1252";
	}
	return "unknown";
}

/* ---- raw layer ---------------------------------------------------------- */

/* Make at least `want` bytes available unless the file ends first. */
static int
csv_fill(struct cc_csv *c, size_t want)
{
	size_t n;

	if (c->in_len - c->in_off >= want || c->in_eof)
		return 0;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
		sodium_memzero(c->in + c->in_len, sizeof(c->in) - c->in_len);
	}
	while (c->in_len < want && !c->in_eof) {
		n = fread(c->in + c->in_len, 1, sizeof(c->in) - c->in_len, c->f);
		c->in_len += n;
		if (n == 0) {
			if (ferror(c->f))
				return CC_ERR_IO;
			c->in_eof = true;
		}
	}
	return 0;
}

/* The next raw byte in *ret_b, or CSV_EOF. */
static int
csv_raw(struct cc_csv *c, int *ret_b)
{
	int r;

	*ret_b = CSV_EOF;
	if (c->in_off == c->in_len) {
		c->in_off = c->in_len = 0;
		if ((r = csv_fill(c, 1)) != 0)
			return r;
		if (c->in_len == 0)
			return 0;
	}
	*ret_b = c->in[c->in_off++];
	return 0;
}

/*
 * Go back to where the reader started and skip a UTF-8 byte order mark.
 * A BOM with an explicit Windows-1252 is a contradiction, not a guess to
 * make: CC_ERR_ENCODING.
 */
static int
csv_rewind(struct cc_csv *c, struct cc_diag *diag)
{
	int r;

	if (fseeko(c->f, c->start, SEEK_SET) != 0) {
		cc_diag_set(diag, "cannot rewind the file: %s", strerror(errno));
		return CC_ERR_IO;
	}
	clearerr(c->f);
	sodium_memzero(c->in, sizeof(c->in));
	c->in_off = c->in_len = 0;
	c->in_eof = false;
	sodium_memzero(c->pend, sizeof(c->pend));
	c->pend_off = c->pend_len = 0;
	utf8_reset(&c->u8);
	c->peek = CSV_NO_PEEK;
	c->line = 1;
	c->done = false;
	if ((r = csv_fill(c, 3)) != 0) {
		cc_diag_set(diag, "cannot read the file");
		return r;
	}
	if (c->in_len >= 3 && c->in[0] == 0xEF && c->in[1] == 0xBB &&
	    c->in[2] == 0xBF) {
		if (c->enc == CC_CSV_ENCODING_CP1252) {
			cc_diag_set(diag, "the file starts with a UTF-8 byte order "
			    "mark but windows-1252 was requested");
			return CC_ERR_ENCODING;
		}
		c->in_off = 3;
	}
	return 0;
}

/* ---- decode layer ------------------------------------------------------- */

static void
csv_put_utf8(struct cc_csv *c, uint32_t cp)
{
	c->pend_off = 0;
	if (cp < 0x800) {
		c->pend[0] = (unsigned char)(0xC0 | (cp >> 6));
		c->pend[1] = (unsigned char)(0x80 | (cp & 0x3F));
		c->pend_len = 2;
	} else {
		c->pend[0] = (unsigned char)(0xE0 | (cp >> 12));
		c->pend[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		c->pend[2] = (unsigned char)(0x80 | (cp & 0x3F));
		c->pend_len = 3;
	}
}

/* The next decoded (UTF-8) byte, or CSV_EOF. Errors are fatal. */
static int
csv_decode(struct cc_csv *c, int *ret_ch, struct cc_diag *diag)
{
	int b, r;

	*ret_ch = CSV_EOF;
	if (c->pend_off < c->pend_len) {
		*ret_ch = c->pend[c->pend_off++];
		return 0;
	}
	if ((r = csv_raw(c, &b)) != 0) {
		cc_diag_set(diag, "line %lu: read error", c->line);
		return r;
	}
	if (b == CSV_EOF) {
		if (c->enc == CC_CSV_ENCODING_UTF8 && c->u8.need > 0) {
			cc_diag_set(diag, "line %lu: the file ends inside a UTF-8 "
			    "character", c->line);
			return CC_ERR_ENCODING;
		}
		return 0;
	}
	if (b == 0) {
		cc_diag_set(diag, "line %lu: NUL byte: this is not a text file "
		    "(UTF-16 exports are not supported; save as UTF-8 or "
		    "Windows-1252)", c->line);
		return CC_ERR_ENCODING;
	}
	if (c->enc == CC_CSV_ENCODING_CP1252) {
		if (b < 0x80)
			*ret_ch = b;
		else if (b >= 0xA0) {
			csv_put_utf8(c, (uint32_t)b);
			*ret_ch = c->pend[c->pend_off++];
		} else if (cp1252_high[b - 0x80] != 0) {
			csv_put_utf8(c, cp1252_high[b - 0x80]);
			*ret_ch = c->pend[c->pend_off++];
		} else {
			cc_diag_set(diag, "line %lu: byte 0x%02X is not defined in "
			    "Windows-1252", c->line, (unsigned)b);
			return CC_ERR_ENCODING;
		}
		return 0;
	}
	if (!utf8_step(&c->u8, (uint8_t)b)) {
		cc_diag_set(diag, "line %lu: byte 0x%02X is not valid UTF-8 (if the "
		    "file is Windows-1252, set [import] encoding = windows-1252)",
		    c->line, (unsigned)b);
		return CC_ERR_ENCODING;
	}
	*ret_ch = b;
	return 0;
}

static int
csv_peek(struct cc_csv *c, int *ret_ch, struct cc_diag *diag)
{
	int r;

	if (c->peek == CSV_NO_PEEK) {
		if ((r = csv_decode(c, &c->peek, diag)) != 0) {
			c->peek = CSV_NO_PEEK;
			*ret_ch = CSV_EOF;
			return r;
		}
	}
	*ret_ch = c->peek;
	return 0;
}

/* The next decoded byte, counting physical lines (LF, CRLF, lone CR). */
static int
csv_getc(struct cc_csv *c, int *ret_ch, struct cc_diag *diag)
{
	int ch, next, r;

	if (c->peek != CSV_NO_PEEK) {
		ch = c->peek;
		c->peek = CSV_NO_PEEK;
	} else if ((r = csv_decode(c, &ch, diag)) != 0) {
		*ret_ch = CSV_EOF;
		return r;
	}
	if (ch == '\n')
		c->line++;
	else if (ch == '\r') {
		if ((r = csv_peek(c, &next, diag)) != 0) {
			*ret_ch = CSV_EOF;
			return r;
		}
		if (next != '\n')
			c->line++;
	}
	*ret_ch = ch;
	return 0;
}

/* After a CR that ends a record, take the LF of a CRLF pair. */
static int
csv_eat_lf(struct cc_csv *c, struct cc_diag *diag)
{
	int next, r;

	if ((r = csv_peek(c, &next, diag)) != 0)
		return r;
	if (next == '\n')
		return csv_getc(c, &next, diag);
	return 0;
}

/* ---- record layer ------------------------------------------------------- */

enum csv_state { ST_START, ST_UNQUOTED, ST_QUOTED, ST_AFTER_QUOTE };

struct csv_parse {
	char *buf;
	size_t pos;          /* bytes used in buf */
	size_t fstart;       /* where the current field starts in buf */
	size_t flen;
	size_t reclen;       /* record bytes consumed, terminator excluded */
	int err;             /* first row error (LIMIT or FORMAT), or 0 */
	bool skip_line;      /* bad quoting: discard to the end of the line */
};

static void
csv_append(struct csv_parse *p, struct cc_csv_record *rec, int ch,
    struct cc_diag *diag)
{
	if (p->err != 0)
		return;
	if (p->flen >= CC_LIMIT_CSV_FIELD) {
		p->err = CC_ERR_LIMIT;
		cc_diag_set(diag, "line %lu, field %zu: field is longer than %d "
		    "bytes", rec->line, rec->nfields + 1, CC_LIMIT_CSV_FIELD);
		return;
	}
	if (p->pos >= CSV_RECBUF - 1) {  /* cannot happen: reclen is checked */
		p->err = CC_ERR_INTERNAL;
		return;
	}
	p->buf[p->pos++] = (char)ch;
	p->flen++;
}

static void
csv_end_field(struct csv_parse *p, struct cc_csv_record *rec,
    struct cc_diag *diag)
{
	if (p->err != 0)
		return;
	if (rec->nfields >= CC_LIMIT_CSV_COLUMNS) {
		p->err = CC_ERR_LIMIT;
		cc_diag_set(diag, "line %lu: record has more than %d fields",
		    rec->line, CC_LIMIT_CSV_COLUMNS);
		return;
	}
	if (p->pos >= CSV_RECBUF) {
		p->err = CC_ERR_INTERNAL;
		return;
	}
	p->buf[p->pos++] = '\0';
	rec->field[rec->nfields] = p->buf + p->fstart;
	rec->len[rec->nfields] = p->flen;
	rec->nfields++;
	p->fstart = p->pos;
	p->flen = 0;
}

static void
csv_bad_quote(struct csv_parse *p, struct cc_csv_record *rec,
    const char *what, struct cc_diag *diag)
{
	if (p->err == 0) {
		p->err = CC_ERR_FORMAT;
		cc_diag_set(diag, "line %lu, field %zu: %s", rec->line,
		    rec->nfields + 1, what);
	}
	p->skip_line = true;
}

/*
 * Parse one record into buf. 1: a record; 0: end of file; CC_ERR_LIMIT or
 * CC_ERR_FORMAT: a bad row, already skipped; other errors are fatal.
 * rec->line is set whenever something was read.
 */
static int
csv_parse_one(struct cc_csv *c, char *buf, size_t *used,
    struct cc_csv_record *rec, struct cc_diag *diag)
{
	struct csv_parse p;
	enum csv_state st = ST_START;
	int ch, r;

	sodium_memzero(buf, *used);
	*used = 0;
	memset(rec, 0, sizeof(*rec));
	memset(&p, 0, sizeof(p));
	p.buf = buf;
	rec->line = c->line;
	if ((r = csv_getc(c, &ch, diag)) != 0)
		return r;
	if (ch == CSV_EOF)
		return 0;
	for (;;) {
		if (ch == CSV_EOF) {
			c->done = true;
			if (p.skip_line)
				break;
			if (st == ST_QUOTED && p.err == 0) {
				p.err = CC_ERR_FORMAT;
				cc_diag_set(diag, "line %lu, field %zu: a quoted field "
				    "is not closed before the end of the file",
				    rec->line, rec->nfields + 1);
			}
			csv_end_field(&p, rec, diag);
			break;
		}
		if ((ch == '\n' || ch == '\r') &&
		    (st != ST_QUOTED || p.skip_line)) {
			if (ch == '\r' && (r = csv_eat_lf(c, diag)) != 0)
				goto out;
			if (!p.skip_line)
				csv_end_field(&p, rec, diag);
			break;
		}
		if (p.skip_line)
			goto next;
		if (++p.reclen > CC_LIMIT_CSV_LINE && p.err == 0) {
			p.err = CC_ERR_LIMIT;
			cc_diag_set(diag, "line %lu: record is longer than %d bytes",
			    rec->line, CC_LIMIT_CSV_LINE);
		}
		switch (st) {
		case ST_START:
			if (ch == '"')
				st = ST_QUOTED;
			else if (ch == c->delim)
				csv_end_field(&p, rec, diag);
			else {
				csv_append(&p, rec, ch, diag);
				st = ST_UNQUOTED;
			}
			break;
		case ST_UNQUOTED:
			if (ch == '"')
				csv_bad_quote(&p, rec, "quote inside an unquoted field "
				    "(enclose the field in quotes and double the quote)",
				    diag);
			else if (ch == c->delim) {
				csv_end_field(&p, rec, diag);
				st = ST_START;
			} else
				csv_append(&p, rec, ch, diag);
			break;
		case ST_QUOTED:
			if (ch == '"')
				st = ST_AFTER_QUOTE;
			else
				csv_append(&p, rec, ch, diag);
			break;
		case ST_AFTER_QUOTE:
			if (ch == '"') {
				csv_append(&p, rec, ch, diag);
				st = ST_QUOTED;
			} else if (ch == c->delim) {
				csv_end_field(&p, rec, diag);
				st = ST_START;
			} else
				csv_bad_quote(&p, rec, "text after a closing quote",
				    diag);
			break;
		}
next:
		if ((r = csv_getc(c, &ch, diag)) != 0)
			goto out;
	}
	if (p.err != 0) {
		r = p.err;
		goto out;
	}
	r = 1;
out:
	*used = p.pos;
	if (r != 1) {
		/* Keep only the line of a bad record: its fields are not valid. */
		sodium_memzero(buf, p.pos);
		rec->nfields = 0;
		memset(rec->field, 0, sizeof(rec->field));
		memset(rec->len, 0, sizeof(rec->len));
	}
	return r;
}

/*
 * Data records: blank when every field is empty (";;;" included).
 * The header: only an empty line is blank, the same rule the delimiter
 * scan uses, so that both look at the same line.
 */
static bool
csv_blank(const struct cc_csv_record *rec, bool header)
{
	size_t i;

	if (header)
		return rec->nfields == 1 && rec->len[0] == 0;
	for (i = 0; i < rec->nfields; i++)
		if (rec->len[i] != 0)
			return false;
	return true;
}

/* A record that is not blank, or 0 at end of file, or an error. */
static int
csv_next_nonblank(struct cc_csv *c, char *buf, size_t *used,
    struct cc_csv_record *rec, bool header, struct cc_diag *diag)
{
	int r;

	for (;;) {
		if (c->done) {
			memset(rec, 0, sizeof(*rec));
			rec->line = c->line;
			return 0;
		}
		r = csv_parse_one(c, buf, used, rec, diag);
		if (r != 1 || !csv_blank(rec, header))
			return r;
	}
}

/* ---- open: encoding, delimiter, header ---------------------------------- */

/*
 * The auto-detection pre-scan: one streaming pass over the whole file.
 * Valid UTF-8 (with or without BOM) is UTF-8; otherwise, when every byte
 * is defined in Windows-1252, Windows-1252; otherwise undecodable.
 */
static int
csv_detect_encoding(struct cc_csv *c, enum cc_csv_encoding *ret_enc,
    struct cc_diag *diag)
{
	struct utf8_state st;
	unsigned long line = 1, u8_bad_line = 0, cp_bad_line = 0;
	unsigned cp_bad_byte = 0;
	bool prev_cr = false, bom = false;
	size_t i;
	int r;

	*ret_enc = CC_CSV_ENCODING_AUTO;
	c->enc = CC_CSV_ENCODING_UTF8;      /* so that csv_rewind skips a BOM */
	if ((r = csv_rewind(c, diag)) != 0)
		return r;
	bom = c->in_off == 3;
	utf8_reset(&st);
	for (;;) {
		for (i = c->in_off; i < c->in_len; i++) {
			uint8_t b = c->in[i];

			if (b == '\n' || prev_cr)
				line++;
			prev_cr = b == '\r';
			if (b == 0) {
				cc_diag_set(diag, "line %lu: NUL byte: this is not a "
				    "text file (UTF-16 exports are not supported; "
				    "save as UTF-8 or Windows-1252)", line);
				return CC_ERR_ENCODING;
			}
			if (u8_bad_line == 0 && !utf8_step(&st, b))
				u8_bad_line = line;
			if (cp_bad_line == 0 && !cp1252_defined(b)) {
				cp_bad_line = line;
				cp_bad_byte = b;
			}
		}
		c->in_off = c->in_len = 0;
		if (c->in_eof)
			break;
		if ((r = csv_fill(c, 1)) != 0) {
			cc_diag_set(diag, "line %lu: read error", line);
			return r;
		}
	}
	if (u8_bad_line == 0 && st.need > 0)
		u8_bad_line = line;
	if (u8_bad_line == 0) {
		*ret_enc = CC_CSV_ENCODING_UTF8;
		return 0;
	}
	if (bom) {
		cc_diag_set(diag, "line %lu: the file starts with a UTF-8 byte "
		    "order mark but is not valid UTF-8", u8_bad_line);
		return CC_ERR_ENCODING;
	}
	if (cp_bad_line == 0) {
		*ret_enc = CC_CSV_ENCODING_CP1252;
		return 0;
	}
	cc_diag_set(diag, "line %lu: byte 0x%02X is neither valid UTF-8 nor "
	    "defined in Windows-1252", cp_bad_line, cp_bad_byte);
	return CC_ERR_ENCODING;
}

/*
 * Count ',' and ';' outside quotes in the first non-empty line (which may
 * span physical lines inside quotes). The one that occurs more often is
 * the delimiter; none or a tie cannot be decided.
 */
static int
csv_detect_delimiter(struct cc_csv *c, struct cc_diag *diag)
{
	unsigned long commas = 0, semicolons = 0, start;
	size_t n = 0;
	bool quoted = false;
	int ch, r;

	start = c->line;
	for (;;) {
		if ((r = csv_getc(c, &ch, diag)) != 0)
			return r;
		if (ch == CSV_EOF)
			break;
		if ((ch == '\n' || ch == '\r') && !quoted) {
			if (ch == '\r' && (r = csv_eat_lf(c, diag)) != 0)
				return r;
			if (n > 0)
				break;
			start = c->line;
			continue;
		}
		if (++n > CC_LIMIT_CSV_LINE) {
			cc_diag_set(diag, "line %lu: the header line is longer than "
			    "%d bytes", start, CC_LIMIT_CSV_LINE);
			return CC_ERR_LIMIT;
		}
		if (ch == '"')
			quoted = !quoted;
		else if (ch == ',' && !quoted)
			commas++;
		else if (ch == ';' && !quoted)
			semicolons++;
	}
	if (n == 0) {
		cc_diag_set(diag, "the file is empty: a header line naming the "
		    "columns is required");
		return CC_ERR_FORMAT;
	}
	if (commas == 0 && semicolons == 0) {
		cc_diag_set(diag, "line %lu: cannot detect the delimiter: the "
		    "header has neither ';' nor ','", start);
		return CC_ERR_FORMAT;
	}
	if (commas == semicolons) {
		cc_diag_set(diag, "line %lu: cannot detect the delimiter: the "
		    "header has as many ';' as ','", start);
		return CC_ERR_FORMAT;
	}
	c->delim = semicolons > commas ? ';' : ',';
	return 0;
}

/* Header names lose surrounding spaces and tabs ("Personnummer ;..."). */
static void
csv_trim_header(struct cc_csv_record *h)
{
	size_t i, len;
	char *s;

	for (i = 0; i < h->nfields; i++) {
		s = (char *)h->field[i];
		len = h->len[i];
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		s[len] = '\0';
		h->field[i] = s;
		h->len[i] = len;
	}
}

int
cc_csv_open(struct cc_csv **ret_csv, FILE *f, enum cc_csv_encoding enc,
    struct cc_diag *diag)
{
	struct cc_csv *c = NULL;
	size_t hused = 0;
	int r = CC_ERR_INTERNAL;

	if (ret_csv == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_csv = NULL;
	if (f == NULL || (enc != CC_CSV_ENCODING_AUTO &&
	    enc != CC_CSV_ENCODING_UTF8 && enc != CC_CSV_ENCODING_CP1252)) {
		cc_diag_set(diag, "no file or unknown encoding");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		cc_diag_set(diag, "out of memory");
		return CC_ERR_ALLOC;
	}
	c->f = f;
	c->peek = CSV_NO_PEEK;
	if ((c->start = ftello(f)) < 0) {
		cc_diag_set(diag, "the file is not seekable: %s", strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (enc == CC_CSV_ENCODING_AUTO &&
	    (r = csv_detect_encoding(c, &enc, diag)) != 0)
		goto out;
	c->enc = enc;
	if ((r = csv_rewind(c, diag)) != 0 ||
	    (r = csv_detect_delimiter(c, diag)) != 0 ||
	    (r = csv_rewind(c, diag)) != 0)
		goto out;
	r = csv_next_nonblank(c, c->hbuf, &hused, &c->header, true, diag);
	if (r == 0) {   /* not reached: the delimiter scan saw a header */
		cc_diag_set(diag, "the file is empty: a header line naming the "
		    "columns is required");
		r = CC_ERR_FORMAT;
	}
	if (r < 0) {
		cc_diag_prefix(diag, "header: ");
		goto out;
	}
	csv_trim_header(&c->header);
	if (csv_blank(&c->header, false)) {
		cc_diag_set(diag, "header: line %lu names no columns",
		    c->header.line);
		r = CC_ERR_FORMAT;
		goto out;
	}
	*ret_csv = c;
	c = NULL;
	r = 0;
out:
	cc_csv_free(c);
	return r;
}

char
cc_csv_delimiter(const struct cc_csv *c)
{
	return c != NULL ? c->delim : '\0';
}

enum cc_csv_encoding
cc_csv_encoding(const struct cc_csv *c)
{
	return c != NULL ? c->enc : CC_CSV_ENCODING_AUTO;
}

const struct cc_csv_record *
cc_csv_header(const struct cc_csv *c)
{
	return c != NULL ? &c->header : NULL;
}

int
cc_csv_next(struct cc_csv *c, struct cc_csv_record *ret_rec,
    struct cc_diag *diag)
{
	int r;

	if (ret_rec == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_rec, 0, sizeof(*ret_rec));
	if (c == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (c->fatal != 0) {
		cc_diag_set(diag, "the file could not be read further");
		return c->fatal;
	}
	r = csv_next_nonblank(c, c->buf, &c->buf_used, ret_rec, false, diag);
	if (r < 0 && r != CC_ERR_LIMIT && r != CC_ERR_FORMAT)
		c->fatal = r;
	return r;
}

void
cc_csv_free(struct cc_csv *c)
{
	if (c == NULL)
		return;
	sodium_memzero(c, sizeof(*c));
	free(c);
}
