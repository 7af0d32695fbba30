/*
 * Fuzz harness: the node.conf parser (node/config.c), fed through
 * fmemopen to cc_node_config_parse_file, the same code that
 * cc_node_config_load runs on a real file. Beyond "no crash", a
 * configuration that loads must hold only values the contract allows,
 * and one that fails must be cleared and explained.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/config.h"
#include "protocol/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_config(const struct cc_node_config *cfg)
{
	const struct cc_node_policy *p = &cfg->policy;
	size_t i;

	if (!cc_query_node_id_valid(cfg->id, strlen(cfg->id)) ||
	    cc_sector_name(cfg->sector) == NULL)
		abort();
	if (cfg->aggregator_url[0] != '\0' &&
	    strncasecmp(cfg->aggregator_url, "https://", 8) != 0)
		abort();
	if (cfg->poll_seconds < 1 || cfg->poll_seconds > 300 ||
	    cfg->max_reject_rate < 0.0 || cfg->max_reject_rate > 1.0 ||
	    p->min_cell < 3 || p->min_cell > CC_LIMIT_MIN_CELL ||
	    p->max_queries_per_day < 1 || p->max_peer_batch < 64 ||
	    p->max_peer_batch > CC_LIMIT_BATCH_ELEMENTS)
		abort();
	if (p->npeers > CC_POLICY_MAX_PEERS ||
	    p->ncategories > CC_POLICY_MAX_CATEGORIES ||
	    (p->any_peer && p->npeers != 0) ||
	    (!p->any_peer && p->npeers == 0) ||
	    (p->any_category && p->ncategories != 0) ||
	    (!p->any_category && p->ncategories == 0))
		abort();
	for (i = 0; i < p->npeers; i++)
		if (!cc_query_node_id_valid(p->peers[i], strlen(p->peers[i])) ||
		    !cc_node_policy_allows_peer(p, p->peers[i]))
			abort();
	for (i = 0; i < p->ncategories; i++)
		if (p->categories[i][0] == '\0' ||
		    !cc_csv_utf8_valid(p->categories[i], strlen(p->categories[i])) ||
		    !cc_node_policy_allows_category(p, p->categories[i]))
			abort();
	for (i = 0; i < CC_COLUMN_COUNT_; i++)
		if (cfg->column[i][0] == '\0' ||
		    !cc_csv_utf8_valid(cfg->column[i], strlen(cfg->column[i])))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cc_node_config cfg;
	static const struct cc_node_config zero;
	struct cc_diag d = { { 0 } };
	FILE *f;
	int r;

	f = fmemopen((void *)(uintptr_t)data, size, "r");
	if (f == NULL)
		return 0;
	r = cc_node_config_parse_file(&cfg, f, "fuzz.conf", &d);
	fclose(f);
	if (r == 0)
		check_config(&cfg);
	else if (memcmp(&cfg, &zero, sizeof(cfg)) != 0 || d.text[0] == '\0')
		abort();
	return 0;
}
