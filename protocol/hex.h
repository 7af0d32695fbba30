/*
 * crosscount: the lowercase hex strings the system writes (query ids,
 * SPEC.md 7.1; SHA-256 digests of batches, results and audit entries;
 * session ids and API tokens), checked exactly before they are used as a
 * file name, a key or a lookup. libsodium's hex decoder is lenient (it
 * takes upper case and skips separators), so it is not the check.
 */
#ifndef CC_HEX_H
#define CC_HEX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True if s is exactly n characters of [0-9a-f] followed by its NUL;
 * false for NULL. Reads at most n + 1 bytes of s.
 */
bool cc_hex_valid(const char *s, size_t n);

#endif
