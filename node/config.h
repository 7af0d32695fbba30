/*
 * crosscount-node: node.conf, the file an agency admin edits by hand.
 *
 * An INI-style file: "[section]" headers, "key = value" lines, '#' or ';'
 * comments on their own lines, surrounding spaces trimmed. Unknown
 * sections or keys, repeated keys and bad values are errors whose diag
 * names the file, the line and the key ("node.conf:12: [policy] min_cell:
 * must be a whole number from 3 to 1000").
 *
 *   [node]        id, sector
 *   [aggregator]  url, ca, cert, key, poll_seconds
 *   [import]      encoding, max_reject_rate, column.personnummer,
 *                 column.category, column.start_date, column.end_date,
 *                 column.unit
 *   [policy]      approval (auto|manual), peers (* or node ids separated
 *                 by commas), categories (* or names), min_cell,
 *                 max_queries_per_day, max_peer_batch
 */
#ifndef CC_NODE_CONFIG_H
#define CC_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"
#include "protocol/limits.h"
#include "node/csv.h"

enum cc_sector {
	CC_SECTOR_SCHOOL = 1,
	CC_SECTOR_SOCIAL = 2,
	CC_SECTOR_HEALTH = 3,
	CC_SECTOR_OTHER = 4,
};

int cc_sector_parse(enum cc_sector *ret_sector, const char *name);
const char *cc_sector_name(enum cc_sector sector);

/* 0 if id matches [a-z0-9-]{1,32}, CC_ERR_FORMAT otherwise. */
int cc_node_id_check(const char *id);

/* The logical import columns, in the default header order. */
enum cc_column {
	CC_COLUMN_PERSONNUMMER = 0,
	CC_COLUMN_CATEGORY,
	CC_COLUMN_START_DATE,
	CC_COLUMN_END_DATE,
	CC_COLUMN_UNIT,
	CC_COLUMN_COUNT_,
};
/* "personnummer", "category", ... */
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
 * names path, line and key.
 */
int cc_node_config_load(struct cc_node_config *ret_cfg, const char *path,
    struct cc_diag *diag);

/*
 * Write a new, fully commented node.conf for `init` (mode 0640, refusing
 * to overwrite: CC_ERR_EXISTS). aggregator_url may be NULL.
 */
int cc_node_config_write_new(const char *path, const char *id,
    enum cc_sector sector, const char *aggregator_url, struct cc_diag *diag);

/* true if the policy allows running with this peer / using this category. */
bool cc_node_policy_allows_peer(const struct cc_node_policy *p, const char *id);
bool cc_node_policy_allows_category(const struct cc_node_policy *p,
    const char *category);

#endif
