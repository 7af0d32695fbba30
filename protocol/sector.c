/* crosscount: the sectors (see sector.h). */
#include "protocol/sector.h"

#include <string.h>
#include <strings.h>

#include "protocol/error.h"

static const struct {
	enum cc_sector sector;
	const char *name;
} sectors[] = {
	{ CC_SECTOR_SCHOOL, "school" },
	{ CC_SECTOR_SOCIAL, "social" },
	{ CC_SECTOR_HEALTH, "health" },
	{ CC_SECTOR_OTHER, "other" },
};

#define NSECTORS (sizeof(sectors) / sizeof(sectors[0]))

int
cc_sector_parse(enum cc_sector *ret_sector, const char *name)
{
	size_t i;

	if (ret_sector == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_sector = 0;
	if (name == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	for (i = 0; i < NSECTORS; i++) {
		if (strcasecmp(name, sectors[i].name) == 0) {
			*ret_sector = sectors[i].sector;
			return 0;
		}
	}
	return CC_ERR_FORMAT;
}

int
cc_sector_check(const char *name)
{
	size_t i;

	if (name == NULL)
		return CC_ERR_FORMAT;
	for (i = 0; i < NSECTORS; i++)
		if (strcmp(name, sectors[i].name) == 0)
			return 0;
	return CC_ERR_FORMAT;
}

const char *
cc_sector_name(enum cc_sector sector)
{
	size_t i;

	for (i = 0; i < NSECTORS; i++)
		if (sectors[i].sector == sector)
			return sectors[i].name;
	return NULL;
}
