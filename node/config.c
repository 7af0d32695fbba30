/*
 * crosscount-node: node.conf, read and written.
 *
 * The lines, sections and keys are read by the shared strict INI reader
 * (protocol/ini.h), which bounds lines and their number and names file,
 * line and key in every error. Every value is parsed here exactly: numbers by a strict digit parser (no
 * atoi/strtod, which accept trailing junk and follow the locale's decimal
 * mark), names against fixed lists. Every error says file, line and key,
 * because an agency admin edits this file by hand and must be able to
 * find the mistake without reading our source.
 */
#include "node/config.h"
#include "protocol/file.h"
#include "protocol/ini.h"
#include "protocol/query.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#define CFG_MSG_MAX 200
#define CFG_MIN_CELL_LOW 3
#define CFG_POLL_MIN 1
#define CFG_POLL_MAX 300
#define CFG_QUERIES_MAX 10000
#define CFG_PEER_BATCH_MIN 64   /* SPEC 8.5: no batch is smaller */
#define CFG_RATE_DECIMALS 6

static const char *const column_names[CC_COLUMN_COUNT_] = {
	"personnummer", "category", "start_date", "end_date", "unit",
};

const char *
cc_column_name(enum cc_column col)
{
	if ((int)col < 0 || col >= CC_COLUMN_COUNT_)
		return NULL;
	return column_names[col];
}

void
cc_node_config_defaults(struct cc_node_config *ret_cfg)
{
	size_t i;

	if (ret_cfg == NULL)
		return;
	memset(ret_cfg, 0, sizeof(*ret_cfg));
	ret_cfg->poll_seconds = 25;
	ret_cfg->encoding = CC_CSV_ENCODING_AUTO;
	ret_cfg->max_reject_rate = 0.01;
	for (i = 0; i < CC_COLUMN_COUNT_; i++)
		memcpy(ret_cfg->column[i], column_names[i],
		    strlen(column_names[i]) + 1);
	ret_cfg->policy.auto_approve = false;
	ret_cfg->policy.any_peer = true;
	ret_cfg->policy.any_category = true;
	ret_cfg->policy.min_cell = 5;
	ret_cfg->policy.max_queries_per_day = 20;
	ret_cfg->policy.max_peer_batch = 2000000;
}

bool
cc_node_policy_allows_peer(const struct cc_node_policy *p, const char *id)
{
	size_t i;

	if (p == NULL || id == NULL)
		return false;
	if (p->any_peer)
		return cc_query_node_id_valid(id, strlen(id));
	for (i = 0; i < p->npeers && i < CC_POLICY_MAX_PEERS; i++)
		if (strcmp(p->peers[i], id) == 0)
			return true;
	return false;
}

bool
cc_node_policy_allows_category(const struct cc_node_policy *p,
    const char *category)
{
	size_t i;

	if (p == NULL || category == NULL || category[0] == '\0')
		return false;
	if (p->any_category)
		return true;
	for (i = 0; i < p->ncategories && i < CC_POLICY_MAX_CATEGORIES; i++)
		if (strcmp(p->categories[i], category) == 0)
			return true;
	return false;
}

/* ---- value parsers ------------------------------------------------------ */

/* Parsed into millionths so that the range check is exact (config.h). */
int
cc_node_config_parse_rate(double *ret_v, const char *s)
{
	unsigned long long whole = 0, frac = 0, scale = 1, units, top;
	size_t nd = 0, nf = 0;
	bool percent = false;

	if (ret_v == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_v = 0;
	if (s == NULL)
		return CC_ERR_FORMAT;
	for (; *s >= '0' && *s <= '9'; s++, nd++) {
		if (nd >= 4)    /* 100% is the largest meaningful value */
			return CC_ERR_FORMAT;
		whole = whole * 10 + (unsigned long long)(*s - '0');
	}
	if (nd == 0)
		return CC_ERR_FORMAT;
	if (*s == '.' || *s == ',') {
		for (s++; *s >= '0' && *s <= '9'; s++, nf++) {
			if (nf >= CFG_RATE_DECIMALS)
				return CC_ERR_FORMAT;
			frac = frac * 10 + (unsigned long long)(*s - '0');
		}
		if (nf == 0)
			return CC_ERR_FORMAT;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '%') {
		percent = true;
		s++;
	}
	if (*s != '\0')
		return CC_ERR_FORMAT;
	for (; nf < CFG_RATE_DECIMALS; nf++)
		frac *= 10;
	for (nf = 0; nf < CFG_RATE_DECIMALS; nf++)
		scale *= 10;
	units = whole * scale + frac;            /* millionths */
	top = percent ? 100 * scale : scale;     /* 100% or 1 */
	if (units > top)
		return CC_ERR_FORMAT;
	*ret_v = (double)units / (double)top;
	return 0;
}

/* Valid UTF-8 without control characters (tab is allowed). */
static bool
text_ok(const char *s)
{
	return cc_ini_no_controls(s) && cc_csv_utf8_valid(s, strlen(s));
}

/*
 * An https URL with a host: plain http would send the node's requests
 * unencrypted, and credentials in the URL would end up in logs, so
 * neither is accepted. The host is a name, an IPv4 address or a bracketed
 * IPv6 address, optionally with a port from 1 to 65535.
 */
static int
check_url(const char *url, char *msg, size_t msglen)
{
	const char *p, *host, *end;
	unsigned long port;
	char num[8];
	size_t n;

	if (strlen(url) >= CC_CONFIG_URL_MAX) {
		snprintf(msg, msglen, "must be shorter than %d characters",
		    CC_CONFIG_URL_MAX);
		return CC_ERR_FORMAT;
	}
	if (strncasecmp(url, "https://", 8) != 0) {
		snprintf(msg, msglen, "must start with https:// (plain http is "
		    "not allowed)");
		return CC_ERR_FORMAT;
	}
	for (p = url; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7F) {
			snprintf(msg, msglen, "must not contain spaces or non-ASCII "
			    "characters (percent-encode them)");
			return CC_ERR_FORMAT;
		}
	}
	host = url + 8;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) != NULL) {
		snprintf(msg, msglen, "must not contain a user name or password");
		return CC_ERR_FORMAT;
	}
	p = host;
	if (*p == '[') {
		for (p++; p < end && *p != ']'; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			    (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
				break;
		if (p >= end || *p != ']' || p == host + 1)
			goto bad_host;
		p++;
	} else {
		for (; p < end && *p != ':'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
				goto bad_host;
		if (p == host)
			goto bad_host;
	}
	if (p < end) {
		if (*p != ':')
			goto bad_host;
		n = (size_t)(end - p - 1);
		if (n == 0 || n >= sizeof(num))
			goto bad_port;
		memcpy(num, p + 1, n);
		num[n] = '\0';
		if (cc_ini_parse_uint(num, 1, 65535, &port) != 0)
			goto bad_port;
	}
	return 0;
bad_host:
	snprintf(msg, msglen, "must be https://HOST[:PORT][/PATH] with a host "
	    "name or address");
	return CC_ERR_FORMAT;
bad_port:
	snprintf(msg, msglen, "port must be a whole number from 1 to 65535");
	return CC_ERR_FORMAT;
}

/* ---- the key table ------------------------------------------------------ */

enum cfg_section { SEC_NODE, SEC_AGGREGATOR, SEC_IMPORT,
    SEC_POLICY, SEC_COUNT_ };

static const char *const section_names[SEC_COUNT_] = {
	"node", "aggregator", "import", "policy",
};

enum cfg_key {
	K_ID, K_SECTOR,
	K_URL, K_CA, K_CERT, K_KEY, K_POLL,
	K_ENCODING, K_REJECT, K_COL_PNR, K_COL_CATEGORY, K_COL_START,
	K_COL_END, K_COL_UNIT,
	K_APPROVAL, K_PEERS, K_CATEGORIES, K_MIN_CELL, K_MAX_QUERIES,
	K_MAX_BATCH,
	K_COUNT_,
};

static const struct cc_ini_key keys[K_COUNT_] = {
	[K_ID] = { SEC_NODE, "id", false },
	[K_SECTOR] = { SEC_NODE, "sector", false },
	[K_URL] = { SEC_AGGREGATOR, "url", false },
	[K_CA] = { SEC_AGGREGATOR, "ca", false },
	[K_CERT] = { SEC_AGGREGATOR, "cert", false },
	[K_KEY] = { SEC_AGGREGATOR, "key", false },
	[K_POLL] = { SEC_AGGREGATOR, "poll_seconds", false },
	[K_ENCODING] = { SEC_IMPORT, "encoding", false },
	[K_REJECT] = { SEC_IMPORT, "max_reject_rate", false },
	[K_COL_PNR] = { SEC_IMPORT, "column.personnummer", false },
	[K_COL_CATEGORY] = { SEC_IMPORT, "column.category", false },
	[K_COL_START] = { SEC_IMPORT, "column.start_date", false },
	[K_COL_END] = { SEC_IMPORT, "column.end_date", false },
	[K_COL_UNIT] = { SEC_IMPORT, "column.unit", false },
	[K_APPROVAL] = { SEC_POLICY, "approval", false },
	[K_PEERS] = { SEC_POLICY, "peers", false },
	[K_CATEGORIES] = { SEC_POLICY, "categories", false },
	[K_MIN_CELL] = { SEC_POLICY, "min_cell", false },
	[K_MAX_QUERIES] = { SEC_POLICY, "max_queries_per_day", false },
	[K_MAX_BATCH] = { SEC_POLICY, "max_peer_batch", false },
};

static const struct cc_ini_schema schema = {
	section_names, SEC_COUNT_, keys, K_COUNT_,
};

/* A path: a file name the node opens, relative to the node directory. */
static int
set_path(char *dst, size_t cap, const char *value, char *msg, size_t msglen)
{
	size_t n = strlen(value);

	if (n >= cap) {
		snprintf(msg, msglen, "must be shorter than %zu bytes", cap);
		return CC_ERR_FORMAT;
	}
	memcpy(dst, value, n + 1);
	return 0;
}

static int
set_peers(struct cc_node_policy *pol, char *value, char *msg, size_t msglen)
{
	char *items[CC_POLICY_MAX_PEERS];
	bool over, empty;
	size_t n, i, j;

	if (strcmp(value, "*") == 0) {
		pol->any_peer = true;
		pol->npeers = 0;
		return 0;
	}
	n = cc_ini_split_list(value, items, CC_POLICY_MAX_PEERS, &over, &empty);
	if (over) {
		snprintf(msg, msglen, "at most %d node ids", CC_POLICY_MAX_PEERS);
		return CC_ERR_FORMAT;
	}
	if (empty || n == 0) {
		snprintf(msg, msglen, "must be * or node ids separated by commas, "
		    "with none empty");
		return CC_ERR_FORMAT;
	}
	for (i = 0; i < n; i++) {
		if (!cc_query_node_id_valid(items[i], strlen(items[i]))) {
			snprintf(msg, msglen, "item %zu: a node id is 1 to %d "
			    "characters from a-z, 0-9 and '-' (or use * alone)",
			    i + 1, CC_LIMIT_NODE_ID);
			return CC_ERR_FORMAT;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(items[i], items[j]) == 0) {
				snprintf(msg, msglen, "%s is listed twice", items[i]);
				return CC_ERR_FORMAT;
			}
		}
	}
	pol->any_peer = false;
	pol->npeers = n;
	for (i = 0; i < n; i++)
		memcpy(pol->peers[i], items[i], strlen(items[i]) + 1);
	return 0;
}

static int
set_categories(struct cc_node_policy *pol, char *value, char *msg,
    size_t msglen)
{
	char *items[CC_POLICY_MAX_CATEGORIES];
	bool over, empty;
	size_t n, i, j;

	if (strcmp(value, "*") == 0) {
		pol->any_category = true;
		pol->ncategories = 0;
		return 0;
	}
	n = cc_ini_split_list(value, items, CC_POLICY_MAX_CATEGORIES, &over, &empty);
	if (over) {
		snprintf(msg, msglen, "at most %d categories",
		    CC_POLICY_MAX_CATEGORIES);
		return CC_ERR_FORMAT;
	}
	if (empty || n == 0) {
		snprintf(msg, msglen, "must be * or category names separated by "
		    "commas, with none empty");
		return CC_ERR_FORMAT;
	}
	for (i = 0; i < n; i++) {
		/* The names a query can ask for (SPEC 7.2); "*" is not one. */
		if (!cc_query_category_valid(items[i], strlen(items[i]))) {
			snprintf(msg, msglen, "item %zu: a category name is 1 to %d "
			    "bytes of letters, digits, '_', '-', '.' and inner "
			    "spaces (or use * alone)", i + 1, CC_LIMIT_CATEGORY);
			return CC_ERR_FORMAT;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(items[i], items[j]) == 0) {
				snprintf(msg, msglen, "item %zu is listed twice", i + 1);
				return CC_ERR_FORMAT;
			}
		}
	}
	pol->any_category = false;
	pol->ncategories = n;
	for (i = 0; i < n; i++)
		memcpy(pol->categories[i], items[i], strlen(items[i]) + 1);
	return 0;
}

/* Set one key from its trimmed value; msg says what is wrong. */
static int
cfg_set(struct cc_node_config *cfg, enum cfg_key k, char *value, char *msg,
    size_t msglen)
{
	unsigned long v;
	size_t n;

	if (!text_ok(value)) {
		snprintf(msg, msglen, "must be UTF-8 text without control "
		    "characters (save the file as UTF-8)");
		return CC_ERR_FORMAT;
	}
	switch (k) {
	case K_ID:
		if (!cc_query_node_id_valid(value, strlen(value))) {
			snprintf(msg, msglen, "must be 1 to %d characters from a-z, "
			    "0-9 and '-'", CC_LIMIT_NODE_ID);
			return CC_ERR_FORMAT;
		}
		memcpy(cfg->id, value, strlen(value) + 1);
		return 0;
	case K_SECTOR:
		if (cc_sector_parse(&cfg->sector, value) != 0) {
			snprintf(msg, msglen, "must be school, social, health or "
			    "other");
			return CC_ERR_FORMAT;
		}
		return 0;
	case K_URL:
		if (check_url(value, msg, msglen) != 0)
			return CC_ERR_FORMAT;
		memcpy(cfg->aggregator_url, value, strlen(value) + 1);
		return 0;
	case K_CA:
		return set_path(cfg->ca_file, sizeof(cfg->ca_file), value, msg,
		    msglen);
	case K_CERT:
		return set_path(cfg->cert_file, sizeof(cfg->cert_file), value, msg,
		    msglen);
	case K_KEY:
		return set_path(cfg->key_file, sizeof(cfg->key_file), value, msg,
		    msglen);
	case K_POLL:
		if (cc_ini_parse_uint(value, CFG_POLL_MIN, CFG_POLL_MAX, &v) != 0) {
			snprintf(msg, msglen, "must be a whole number from %d to %d",
			    CFG_POLL_MIN, CFG_POLL_MAX);
			return CC_ERR_FORMAT;
		}
		cfg->poll_seconds = (int)v;
		return 0;
	case K_ENCODING:
		if (cc_csv_encoding_parse(&cfg->encoding, value) != 0) {
			snprintf(msg, msglen, "must be auto, utf-8 or windows-1252");
			return CC_ERR_FORMAT;
		}
		return 0;
	case K_REJECT:
		if (cc_node_config_parse_rate(&cfg->max_reject_rate, value) != 0) {
			snprintf(msg, msglen, "must be a share from 0 to 1 such as "
			    "0.01, or a percentage such as 1%%");
			return CC_ERR_FORMAT;
		}
		return 0;
	case K_COL_PNR:
	case K_COL_CATEGORY:
	case K_COL_START:
	case K_COL_END:
	case K_COL_UNIT:
		n = strlen(value);
		if (n > CC_LIMIT_CSV_FIELD) {
			snprintf(msg, msglen, "a column name is at most %d bytes",
			    CC_LIMIT_CSV_FIELD);
			return CC_ERR_FORMAT;
		}
		memcpy(cfg->column[k - K_COL_PNR], value, n + 1);
		return 0;
	case K_APPROVAL:
		if (strcasecmp(value, "auto") == 0)
			cfg->policy.auto_approve = true;
		else if (strcasecmp(value, "manual") == 0)
			cfg->policy.auto_approve = false;
		else {
			snprintf(msg, msglen, "must be manual or auto");
			return CC_ERR_FORMAT;
		}
		return 0;
	case K_PEERS:
		return set_peers(&cfg->policy, value, msg, msglen);
	case K_CATEGORIES:
		return set_categories(&cfg->policy, value, msg, msglen);
	case K_MIN_CELL:
		if (cc_ini_parse_uint(value, CFG_MIN_CELL_LOW, CC_LIMIT_MIN_CELL, &v) != 0) {
			snprintf(msg, msglen, "must be a whole number from %d to %d",
			    CFG_MIN_CELL_LOW, CC_LIMIT_MIN_CELL);
			return CC_ERR_FORMAT;
		}
		cfg->policy.min_cell = (int)v;
		return 0;
	case K_MAX_QUERIES:
		if (cc_ini_parse_uint(value, 1, CFG_QUERIES_MAX, &v) != 0) {
			snprintf(msg, msglen, "must be a whole number from 1 to %d",
			    CFG_QUERIES_MAX);
			return CC_ERR_FORMAT;
		}
		cfg->policy.max_queries_per_day = (int)v;
		return 0;
	case K_MAX_BATCH:
		if (cc_ini_parse_uint(value, CFG_PEER_BATCH_MIN, CC_LIMIT_BATCH_ELEMENTS,
		    &v) != 0) {
			snprintf(msg, msglen, "must be a whole number from %d to %u",
			    CFG_PEER_BATCH_MIN, (unsigned)CC_LIMIT_BATCH_ELEMENTS);
			return CC_ERR_FORMAT;
		}
		cfg->policy.max_peer_batch = (uint32_t)v;
		return 0;
	case K_COUNT_:
		break;
	}
	snprintf(msg, msglen, "unknown key");
	return CC_ERR_INTERNAL;
}

int
cc_node_config_parse_file(struct cc_node_config *ret_cfg, FILE *f,
    const char *name, struct cc_diag *diag)
{
	struct cc_node_config *cfg = NULL;
	struct cc_ini *ini = NULL;
	struct cc_ini_entry e;
	char msg[CFG_MSG_MAX];
	int r = CC_ERR_INTERNAL, nr;

	if (ret_cfg == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_cfg, 0, sizeof(*ret_cfg));
	if (f == NULL) {
		cc_diag_set(diag, "no file");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		cc_diag_set(diag, "out of memory");
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = cc_ini_new(&ini, f, name != NULL ? name : "node.conf", &schema,
	    diag)) != 0)
		goto out;
	cc_node_config_defaults(cfg);
	while ((nr = cc_ini_next(ini, &e, diag)) == 1) {
		msg[0] = '\0';
		if (cfg_set(cfg, (enum cfg_key)e.key, e.value, msg,
		    sizeof(msg)) != 0) {
			r = cc_ini_value_error(ini, &e, diag, "%s", msg);
			goto out;
		}
	}
	if (nr < 0) {
		r = nr;
		goto out;
	}
	if (cc_ini_key_line(ini, K_ID) == 0 || cc_ini_key_line(ini, K_SECTOR) == 0) {
		cc_diag_set(diag, "%s: [node] %s: required but not set",
		    cc_ini_name(ini), cc_ini_key_line(ini, K_ID) == 0 ? "id" :
		    "sector");
		r = CC_ERR_CONFIG;
		goto out;
	}
	memcpy(ret_cfg, cfg, sizeof(*cfg));
	r = 0;
out:
	cc_ini_free(ini);
	free(cfg);
	return r;
}

int
cc_node_config_load(struct cc_node_config *ret_cfg, const char *path,
    struct cc_diag *diag)
{
	FILE *f;
	int r;

	if (ret_cfg == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_cfg, 0, sizeof(*ret_cfg));
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((f = fopen(path, "re")) == NULL) {
		r = errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO;
		cc_diag_set(diag, "%s: %s", cc_ini_short_name(path), strerror(errno));
		return r;
	}
	r = cc_node_config_parse_file(ret_cfg, f, path, diag);
	fclose(f);
	return r;
}

/* ---- the generated file ------------------------------------------------- */

static void
config_text(struct cc_ini_text *t, const char *id, enum cc_sector sector,
    const char *url)
{
	cc_ini_text_add(t,
"# crosscount node configuration (node.conf)\n"
"#\n"
"# Written when this node was set up; edit it by hand. The node reads it\n"
"# when it starts, so restart the node after a change.\n"
"#\n"
"#   [section]     starts a section\n"
"#   key = value   sets a key in that section\n"
"#   # or ;        at the start of a line makes the line a comment\n"
"#\n"
"# Comments must be on their own line, never after a value. Each key may\n"
"# be set once. A misspelt section or key is an error, never silently\n"
"# ignored. A key that is left out (or commented out) takes its default,\n"
"# which is the value written below. Save the file as UTF-8.\n"
"\n"
"[node]\n"
"# This node's id in the federation: 1 to 32 characters from a-z, 0-9 and\n"
"# '-', e.g. orebro-skola or region-orebro-bup. It must equal the common\n"
"# name (CN) of this node's certificate; the aggregator and the other\n"
"# nodes know the node by it. Required.\n"
"id = %s\n"
"\n"
"# The sector whose records this node holds: school (skola, elevhälsa),\n"
"# social (socialtjänst, IFO), health (e.g. BUP, child and adolescent\n"
"# psychiatry) or other. Queries select sets of children by sector.\n"
"# Required.\n"
"sector = %s\n"
"\n", id, cc_sector_name(sector));
	cc_ini_text_add(t,
"[aggregator]\n"
"# Address of the federation's aggregator, given by the federation's\n"
"# operator. Only https:// addresses are accepted. No default.\n"
"%surl = %s\n"
"\n"
"# Files for mutual TLS and batch signatures (PEM). Relative paths are\n"
"# relative to the node directory. No defaults.\n"
"#   ca    the federation CA certificate that the aggregator's and the\n"
"#         other nodes' certificates must chain to\n"
"#   cert  this node's certificate, issued by the federation CA, whose\n"
"#         common name is the id above\n"
"#   key   this node's private key (keep it readable by the node only)\n"
"# ca = ca.pem\n"
"# cert = node.crt\n"
"# key = node.key\n"
"\n"
"# How long, in seconds, each request to the aggregator waits for new\n"
"# work before it is repeated (long polling): 1 to 300. Default 25.\n"
"poll_seconds = 25\n"
"\n",
	    url != NULL ? "" : "# ",
	    url != NULL ? url : "https://aggregator.example.se");
	cc_ini_text_add(t,
"[import]\n"
"# Character encoding of the CSV exports: auto (UTF-8 with or without a\n"
"# byte order mark, otherwise Windows-1252, the usual Excel export\n"
"# encoding in Sweden), utf-8 or windows-1252. Default auto.\n"
"encoding = auto\n"
"\n"
"# The largest share of rows an import may reject (bad personnummer,\n"
"# dates, quoting) and still be accepted; above it the whole import is\n"
"# refused and the previous data stays. A share from 0 to 1 such as 0.01,\n"
"# or a percentage such as 1%%. Default 0.01 (1%%).\n"
"max_reject_rate = 0.01\n"
"\n"
"# Which columns of the export hold what: the value is the column's name\n"
"# in the export's header line (its first line). The delimiter, ';' or\n"
"# ',', is detected from that line. personnummer, category and\n"
"# start_date are required in every export; end_date and unit are\n"
"# optional. For an export whose header line is\n"
"#   Personnummer;Kategori;Startdatum;Slutdatum;Enhet\n"
"# write\n"
"#   column.personnummer = Personnummer\n"
"#   column.category = Kategori\n"
"#   column.start_date = Startdatum\n"
"#   column.end_date = Slutdatum\n"
"#   column.unit = Enhet\n"
"# Defaults: the names below.\n"
"column.personnummer = personnummer\n"
"column.category = category\n"
"column.start_date = start_date\n"
"column.end_date = end_date\n"
"column.unit = unit\n"
"\n");
	cc_ini_text_add(t,
"[policy]\n"
"# manual: every query waits until an admin of this agency approves it;\n"
"# auto: a query that passes the rules below runs without asking.\n"
"# Default manual.\n"
"approval = manual\n"
"\n"
"# The nodes this node may be counted together with: * for any node of\n"
"# the federation, or node ids separated by commas (at most 32), e.g.\n"
"#   peers = orebro-socialtjanst, region-orebro-bup\n"
"# A query naming another node is refused. Default *.\n"
"peers = *\n"
"\n"
"# The categories of this node's records that queries may use: * for\n"
"# all, or names separated by commas (at most 256), as they appear in\n"
"# the category column of the imports. Default *.\n"
"categories = *\n"
"\n"
"# The smallest count this node lets a released table show: a query\n"
"# asking for a lower min_cell is refused; smaller cells are suppressed.\n"
"# 3 to 1000. Default 5 (the federation's default).\n"
"min_cell = 5\n"
"\n"
"# The most queries this node takes part in per day: 1 to 10000.\n"
"# Default 20.\n"
"max_queries_per_day = 20\n"
"\n"
"# The largest batch, in records including padding, that this node\n"
"# accepts from another node to blind and pass on: 64 to 16777216.\n"
"# Default 2000000.\n"
"max_peer_batch = 2000000\n");
}

int
cc_node_config_write_new(const char *path, const char *id,
    enum cc_sector sector, const char *aggregator_url, struct cc_diag *diag)
{
	struct cc_ini_text *t = NULL;
	char msg[CFG_MSG_MAX];
	int r = CC_ERR_INTERNAL;

	if (path == NULL || strlen(path) >= CC_CONFIG_PATH_MAX) {
		cc_diag_set(diag, "no path or path too long");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (id == NULL || !cc_query_node_id_valid(id, strlen(id))) {
		cc_diag_set(diag, "node id must be 1 to %d characters from a-z, "
		    "0-9 and '-'", CC_LIMIT_NODE_ID);
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (cc_sector_name(sector) == NULL) {
		cc_diag_set(diag, "unknown sector");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (aggregator_url != NULL &&
	    check_url(aggregator_url, msg, sizeof(msg)) != 0) {
		cc_diag_set(diag, "aggregator url: %s", msg);
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		cc_diag_set(diag, "out of memory");
		return CC_ERR_ALLOC;
	}
	t->ok = true;
	config_text(t, id, sector, aggregator_url);
	if (!t->ok) {
		cc_diag_set(diag, "configuration text does not fit");
		goto out;
	}
	/* Written whole or not at all, never over an existing file. */
	r = cc_file_write(path, t->buf, t->len, 0640, 0, diag);
out:
	free(t);
	return r;
}
