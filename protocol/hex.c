/* crosscount: exact lowercase hex strings (see hex.h). */
#include "protocol/hex.h"

bool
cc_hex_valid(const char *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}
