/*
 * crosscount: the sectors a node belongs to (SPEC.md 2, the catalogue of
 * 7.4): school, social, health and other. The one list of them: node.conf
 * names its node's sector, the aggregator's node registry keeps each
 * node's, and a node's catalogue carries it.
 */
#ifndef CC_SECTOR_H
#define CC_SECTOR_H

enum cc_sector {
	CC_SECTOR_SCHOOL = 1,
	CC_SECTOR_SOCIAL = 2,
	CC_SECTOR_HEALTH = 3,
	CC_SECTOR_OTHER = 4,
};

/*
 * "school", "social", "health", "other" in any case (an administrator
 * writes node.conf by hand); else CC_ERR_FORMAT and *ret_sector = 0.
 */
int cc_sector_parse(enum cc_sector *ret_sector, const char *name);

/*
 * Exactly one of the lower-case names, as the registry stores it and a
 * catalogue carries it; else CC_ERR_FORMAT (also for NULL).
 */
int cc_sector_check(const char *name);

/* The lower-case name, or NULL for a value that is not a sector. */
const char *cc_sector_name(enum cc_sector sector);

#endif
