/* crosscount: a parallel for-loop over every core (see parallel.h). */
#include "protocol/parallel.h"
#include "protocol/error.h"
#include "protocol/limits.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct parallel_job {
	cc_parallel_fn fn;
	void *ctx;
	size_t n;
	size_t chunk;
	atomic_size_t next;
	atomic_int error;
};

unsigned
cc_parallel_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if (n > CC_LIMIT_THREADS)
		return CC_LIMIT_THREADS;
	return (unsigned)n;
}

static void *
parallel_worker(void *arg)
{
	struct parallel_job *job = arg;
	size_t begin, end;
	int r;

	for (;;) {
		if (atomic_load(&job->error) != 0)
			break;
		begin = atomic_fetch_add(&job->next, job->chunk);
		if (begin >= job->n)
			break;
		end = job->n - begin < job->chunk ? job->n : begin + job->chunk;
		if ((r = job->fn(job->ctx, begin, end)) != 0) {
			int expected = 0;
			atomic_compare_exchange_strong(&job->error, &expected, r);
			break;
		}
	}
	return NULL;
}

int
cc_parallel_for(size_t n, unsigned threads, cc_parallel_fn fn, void *ctx)
{
	struct parallel_job job;
	pthread_t tids[CC_LIMIT_THREADS];
	unsigned i, started = 0;

	if (n == 0)
		return 0;
	if (threads == 0 || threads > cc_parallel_cores())
		threads = cc_parallel_cores();
	if (threads > n)
		threads = (unsigned)n;
	job.fn = fn;
	job.ctx = ctx;
	job.n = n;
	/* Several chunks per thread so that uneven work still balances. */
	job.chunk = n / ((size_t)threads * 8);
	if (job.chunk == 0)
		job.chunk = 1;
	atomic_init(&job.next, 0);
	atomic_init(&job.error, 0);
	if (threads == 1) {
		parallel_worker(&job);
		return atomic_load(&job.error);
	}
	/* The calling thread works too, so start threads - 1 helpers. */
	for (i = 0; i + 1 < threads; i++) {
		if (pthread_create(&tids[i], NULL, parallel_worker, &job) != 0)
			break;
		started++;
	}
	parallel_worker(&job);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return atomic_load(&job.error);
}
