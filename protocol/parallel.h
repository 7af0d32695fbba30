/*
 * crosscount: run a loop over [0, n) on every core.
 *
 * The range is cut into contiguous chunks handed to up to `threads`
 * threads (0 = the number of online cores, capped by CC_LIMIT_THREADS).
 * fn is called with disjoint [begin, end) ranges; it returns 0 or an
 * error, and the first error stops the remaining chunks and is returned.
 */
#ifndef CC_PARALLEL_H
#define CC_PARALLEL_H

#include <stddef.h>

typedef int (*cc_parallel_fn)(void *ctx, size_t begin, size_t end);

unsigned cc_parallel_cores(void);
int cc_parallel_for(size_t n, unsigned threads, cc_parallel_fn fn, void *ctx);

#endif
