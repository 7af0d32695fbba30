/*
 * crosscount-aggregator: aggregator.conf, written by `init` and edited by
 * the federation operator. The same INI dialect as node.conf (sections,
 * "key = value", '#' comments); errors name the file, line and key.
 *
 *   [server]   listen (address), port, cert, key, ca (the federation CA),
 *              web_root (static files of the UI; empty = no UI)
 *   [policy]   min_cell_floor, deadline_minutes, max_period_months,
 *              period_align_months (1, 2, 3, 4, 6 or 12), allow_sex
 *              (yes|no), grid (repeatable: one allowed age-band grid per
 *              line, e.g. "grid = 0-5,6-12,13-17"; "grid = none" alone
 *              allows no age breakdown; no grid line: the default grids
 *              of cc_query_default_grids), session_hours, max_peer_batch
 *              (largest final batch accepted)
 *
 * Relative paths are relative to the aggregator's directory; the loaded
 * configuration holds them resolved (cert_file etc. as opened).
 */
#ifndef CC_AGG_CONFIG_H
#define CC_AGG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol/error.h"
#include "protocol/limits.h"
#include "protocol/query.h"

#define CC_AGG_PATH_MAX 4096
#define CC_AGG_MAX_GRIDS 16

struct cc_agg_config {
	char dir[CC_AGG_PATH_MAX];          /* the aggregator directory */
	/* [server] */
	char listen[64];                    /* default 127.0.0.1 */
	uint16_t port;                      /* default 8443; 0 = any free port */
	char cert_file[CC_AGG_PATH_MAX];
	char key_file[CC_AGG_PATH_MAX];
	char ca_file[CC_AGG_PATH_MAX];
	char web_root[CC_AGG_PATH_MAX];     /* "" = no web UI */
	/*
	 * [policy]: the federation policy (SPEC 7.2). policy.grids points
	 * into grids[] (the default grids when the file names none).
	 */
	struct cc_federation_policy policy;
	size_t ngrids;
	struct cc_query_grid grids[CC_AGG_MAX_GRIDS];
	int deadline_minutes;               /* default 60 */
	int session_hours;                  /* default 8 */
	uint32_t max_batch;                 /* default CC_LIMIT_BATCH_ELEMENTS */
};

/*
 * Load DIR/aggregator.conf into *ret_cfg (cfg->dir = dir). On error
 * *ret_cfg is cleared and diag names the file, line and key:
 * CC_ERR_CONFIG for anything wrong in the file, CC_ERR_NOT_FOUND if it
 * does not exist, CC_ERR_IO if it cannot be read. policy.grids points into
 * ret_cfg->grids: a copy of the struct must re-point it.
 */
int cc_agg_config_load(struct cc_agg_config *ret_cfg, const char *dir,
    struct cc_diag *diag);

/*
 * The parser behind cc_agg_config_load for any readable FILE (fmemopen in
 * tests and fuzzing); dir resolves relative paths, name is for messages.
 */
int cc_agg_config_parse_file(struct cc_agg_config *ret_cfg, FILE *f,
    const char *dir, const char *name, struct cc_diag *diag);

/*
 * Write a new, commented DIR/aggregator.conf (refusing to overwrite).
 * cert/key/ca may be NULL (then commented placeholders are written).
 */
int cc_agg_config_write_new(const char *dir, const char *cert,
    const char *key, const char *ca, uint16_t port, struct cc_diag *diag);

#endif
