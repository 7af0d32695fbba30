/*
 * crosscount: JSON memory that is wiped when it is freed.
 *
 * Jansson copies every string it parses or builds (a sign-in's password,
 * a session's secret). cc_json_wipe_on_free() makes Jansson zero every
 * block it frees (values, strings, keys, parser buffers). Blocks still
 * come from malloc, so text from json_dumps is released with free() as
 * before (and is not wiped: it is the program's own output). Call it
 * once, first thing in main().
 */
#ifndef CC_JSON_WIPE_H
#define CC_JSON_WIPE_H

void cc_json_wipe_on_free(void);

#endif
