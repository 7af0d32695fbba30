/*
 * Fuzz harness: the aggregator.conf parser (aggregator/config.c), fed
 * through fmemopen to cc_agg_config_parse_file, the code behind
 * cc_agg_config_load. A configuration that loads must hold only values
 * the contract allows (config.h, SPEC 7.2 grids) with the policy pointing
 * at its own grids; one that fails must be cleared and explained.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_config(const struct cc_agg_config *cfg)
{
	const struct cc_query_grid *g;
	size_t i, j;

	if (strcmp(cfg->dir, "/srv/agg") != 0 || cfg->listen[0] == '\0' ||
	    cfg->policy.grids != cfg->grids || cfg->policy.ngrids != cfg->ngrids ||
	    cfg->ngrids > CC_AGG_MAX_GRIDS)
		abort();
	if (cfg->policy.min_cell_floor < 1 ||
	    cfg->policy.min_cell_floor > CC_LIMIT_MIN_CELL ||
	    cfg->policy.max_period_months < 1 ||
	    cfg->policy.max_period_months > CC_LIMIT_PERIOD_MONTHS ||
	    cfg->policy.period_align_months < 1 ||
	    12 % cfg->policy.period_align_months != 0 ||
	    cfg->deadline_minutes < 1 || cfg->session_hours < 1 ||
	    cfg->max_batch < 64 || cfg->max_batch > CC_LIMIT_BATCH_ELEMENTS)
		abort();
	/* Paths are resolved: absolute, or under the directory. */
	if ((cfg->cert_file[0] != '\0' && cfg->cert_file[0] != '/') ||
	    (cfg->web_root[0] != '\0' && cfg->web_root[0] != '/'))
		abort();
	for (i = 0; i < cfg->ngrids; i++) {
		g = &cfg->grids[i];
		if (g->nbands < 1 || g->nbands > CC_LIMIT_AGE_BANDS)
			abort();
		for (j = 0; j < g->nbands; j++)
			if (g->bands[j].lo < 0 || g->bands[j].lo > g->bands[j].hi ||
			    g->bands[j].hi > CC_LIMIT_AGE ||
			    (j > 0 && g->bands[j].lo <= g->bands[j - 1].hi))
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cc_agg_config cfg;
	static const struct cc_agg_config zero;
	struct cc_diag d = { { 0 } };
	FILE *f;
	int r;

	if ((f = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	r = cc_agg_config_parse_file(&cfg, f, "/srv/agg", "fuzz.conf", &d);
	fclose(f);
	if (r == 0)
		check_config(&cfg);
	else if (memcmp(&cfg, &zero, sizeof(cfg)) != 0 || d.text[0] == '\0')
		abort();
	return 0;
}
