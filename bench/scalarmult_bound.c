/*
 * bench: the machine's bound for an import, measured now: ristretto255
 * scalar multiplications per second with libsodium on every core.
 *
 *   scalarmult-bound [SECONDS]
 *
 * Prints "<multiplications per second> <threads> <per CPU-second>": the
 * last figure divides by the CPU time the threads got, which stays
 * meaningful when other processes share the machine. Each import row costs
 * one such multiplication (plus a hash to the group), so rows/s over this
 * number is how close an import gets to the machine's limit.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

static atomic_int stop;

struct worker {
	pthread_t tid;
	uint64_t count;
};

static void *
run(void *arg)
{
	struct worker *w = arg;
	unsigned char s[crypto_core_ristretto255_SCALARBYTES];
	unsigned char p[crypto_core_ristretto255_BYTES];
	unsigned char h[crypto_core_ristretto255_HASHBYTES];

	crypto_core_ristretto255_scalar_random(s);
	randombytes_buf(h, sizeof(h));
	crypto_core_ristretto255_from_hash(p, h);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* Chain the results so nothing can be optimised away. */
		if (crypto_scalarmult_ristretto255(p, s, p) != 0)
			abort();
		w->count++;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct worker *w;
	struct timespec t0, t1;
	struct rusage ru;
	double cpu;
	double seconds = 5.0, elapsed;
	char *end = NULL;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t total = 0;
	long i;

	if (argc > 1) {
		seconds = strtod(argv[1], &end);
		if (end == argv[1] || *end != '\0')
			return 1;
	}
	if (sodium_init() < 0 || n < 1 || !(seconds > 0 && seconds < 600))
		return 1;
	if ((w = calloc((size_t)n, sizeof(*w))) == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0)
			return 1;
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].count;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("%.0f %ld %.0f\n", (double)total / elapsed, n,
	    cpu > 0 ? (double)total / cpu : 0.0);
	free(w);
	return 0;
}
