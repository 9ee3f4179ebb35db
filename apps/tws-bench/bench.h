/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared pieces of tws-bench: sub-command table, EAL start, JSON output. */
#ifndef TWS_BENCH_H
#define TWS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A sub-command. parse() reads its options (before the EAL starts) and
 * returns the MB of DPDK memory it needs, or -1 after printing an error;
 * run() runs after rte_eal_init() and returns the exit code.
 */
struct bench_cmd {
	const char *name;
	const char *summary;
	long (*parse)(int argc, char **argv);
	int (*run)(void);
	void (*usage)(FILE *f);
};

extern const struct bench_cmd bench_timer_cmd;
extern const struct bench_cmd bench_table_cmd;

/* Parse an unsigned integer option value with suffixes k/M/G (x1000). */
int bench_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* CPU model name from /proc/cpuinfo. */
const char *bench_cpu_model(void);

/* Deterministic PRNG (splitmix64) for workloads: same seed, same run. */
static inline uint64_t
bench_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* a[i] = i for i < n, then a Fisher-Yates shuffle driven by *seed. */
void bench_permutation(uint32_t *a, uint32_t n, uint64_t *seed);

/* Cycles per operation, as a double; 0 ops gives 0. */
static inline double
bench_per_op(uint64_t cycles, uint64_t ops)
{
	return ops == 0 ? 0.0 : (double)cycles / (double)ops;
}

#endif /* TWS_BENCH_H */
