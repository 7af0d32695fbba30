/*
 * crosscount-node: node.conf, the file an agency admin edits by hand.
 *
 * An INI-style file in UTF-8 (a BOM is skipped; LF or CRLF): "[section]"
 * headers, "key = value" lines, '#' or ';' comments on their own lines
 * (never after a value), surrounding spaces trimmed. Keys and section
 * names are lower case. Unknown sections or keys, a section or key given
 * twice, a line without '=', an empty value, a line over
 * CC_LIMIT_CONFIG_LINE bytes, more than CC_LIMIT_CONFIG_LINES lines and
 * bad values are errors whose diag names the file, the line and the key
 * ("node.conf:12: [policy] min_cell: must be a whole number from 3 to
 * 1000"). A key left out takes its default.
 *
 *   [node]        id ([a-z0-9-]{1,32}, required), sector (school, social,
 *                 health or other; required)
 *   [aggregator]  url (https://HOST[:PORT][/PATH] only; no user info),
 *                 ca, cert, key (paths), poll_seconds (1..300, default 25)
 *   [import]      encoding (auto, utf-8, windows-1252; default auto),
 *                 max_reject_rate (0..1 as "0.01", "0,01" or "1%", at most
 *                 6 decimals; default 0.01), column.personnummer,
 *                 column.category, column.start_date, column.end_date,
 *                 column.unit (header names; defaults are the
 *                 cc_column_name() names)
 *   [policy]      approval (auto|manual, default manual), peers (* or at
 *                 most 32 distinct node ids separated by commas; default
 *                 *), categories (* or at most 256 distinct names of at
 *                 most CC_LIMIT_CATEGORY bytes; default *), min_cell
 *                 (3..1000, default 5), max_queries_per_day (1..10000,
 *                 default 20), max_peer_batch (64..CC_LIMIT_BATCH_ELEMENTS,
 *                 default 2000000)
 */
#ifndef CC_NODE_CONFIG_H
#define CC_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol/error.h"
#include "protocol/limits.h"
#include "protocol/sector.h"
#include "node/csv.h"

/* The logical import columns, in the default header order. */
enum cc_column {
	CC_COLUMN_PERSONNUMMER = 0,
	CC_COLUMN_CATEGORY,
	CC_COLUMN_START_DATE,
	CC_COLUMN_END_DATE,
	CC_COLUMN_UNIT,
	CC_COLUMN_COUNT_,
};
/* "personnummer", "category", ...; NULL for anything else. */
const char *cc_column_name(enum cc_column col);

#define CC_CONFIG_PATH_MAX 4096
#define CC_CONFIG_URL_MAX 1024
#define CC_POLICY_MAX_PEERS CC_LIMIT_QUERY_NODES
#define CC_POLICY_MAX_CATEGORIES CC_LIMIT_NODE_CATEGORIES

struct cc_node_policy {
	bool auto_approve;                 /* approval = auto (default manual) */
	bool any_peer;                     /* peers = * */
	size_t npeers;
	char peers[CC_POLICY_MAX_PEERS][CC_LIMIT_NODE_ID + 1];
	bool any_category;                 /* categories = * (default) */
	size_t ncategories;
	char categories[CC_POLICY_MAX_CATEGORIES][CC_LIMIT_CATEGORY + 1];
	int min_cell;                      /* lowest min_cell accepted (default 5) */
	int max_queries_per_day;           /* default 20 */
	uint32_t max_peer_batch;           /* largest batch relayed (default 2000000) */
};

struct cc_node_config {
	char id[CC_LIMIT_NODE_ID + 1];
	enum cc_sector sector;
	/* [aggregator]; empty strings when not set. Relative paths are
	 * relative to the node directory. */
	char aggregator_url[CC_CONFIG_URL_MAX];
	char ca_file[CC_CONFIG_PATH_MAX];
	char cert_file[CC_CONFIG_PATH_MAX];
	char key_file[CC_CONFIG_PATH_MAX];
	int poll_seconds;                  /* long-poll wait (default 25) */
	/* [import] */
	enum cc_csv_encoding encoding;     /* default auto */
	double max_reject_rate;            /* 0..1, default 0.01 */
	char column[CC_COLUMN_COUNT_][CC_LIMIT_CSV_FIELD + 1]; /* header names */
	/* [policy] */
	struct cc_node_policy policy;
};

/* Fill *ret_cfg with every default (empty id, sector 0). */
void cc_node_config_defaults(struct cc_node_config *ret_cfg);

/*
 * Load and validate a node.conf. On error *ret_cfg is cleared and diag
 * names path, line and key. Returns CC_ERR_CONFIG for anything wrong in
 * the file, CC_ERR_NOT_FOUND if it does not exist, CC_ERR_IO if it cannot
 * be read.
 */
int cc_node_config_load(struct cc_node_config *ret_cfg, const char *path,
    struct cc_diag *diag);

/*
 * The parser behind cc_node_config_load, for any readable FILE (a file,
 * fmemopen in tests and fuzzing). name is used in messages only (NULL:
 * "node.conf"). Reads to the end of f; f stays the caller's.
 */
int cc_node_config_parse_file(struct cc_node_config *ret_cfg, FILE *f,
    const char *name, struct cc_diag *diag);

/*
 * Write a new, fully commented node.conf for `init`: every key with an
 * English explanation and its default (ca, cert, key and, when
 * aggregator_url is NULL, url are written commented out). Created with
 * O_EXCL and mode 0640, refusing to overwrite (CC_ERR_EXISTS), then
 * fsynced with its directory; a half-written file is removed. Loading it
 * gives cc_node_config_defaults() plus id, sector and url.
 * CC_ERR_INVALID_ARGUMENT for a bad id, sector or url.
 */
int cc_node_config_write_new(const char *path, const char *id,
    enum cc_sector sector, const char *aggregator_url, struct cc_diag *diag);

/*
 * A share from 0 to 1 as node.conf's max_reject_rate and the node's
 * --max-reject-rate write it: a decimal ("0.01", or Swedish "0,01") or a
 * percentage ("1%", "1.5 %"), at most 6 decimals, plain ASCII digits (no
 * sign, exponent or locale). CC_ERR_FORMAT otherwise (*ret_v is then 0).
 */
int cc_node_config_parse_rate(double *ret_v, const char *s);

/*
 * true if the policy allows running with this peer / using this category
 * (exact, case-sensitive match; with * any valid node id / any non-empty
 * category).
 */
bool cc_node_policy_allows_peer(const struct cc_node_policy *p, const char *id);
bool cc_node_policy_allows_category(const struct cc_node_policy *p,
    const char *category);

#endif
