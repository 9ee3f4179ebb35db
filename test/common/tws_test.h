/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal test harness: each test program is a list of named cases run in
 * order, reported as TAP (meson's 'tap' protocol counts every case), plus
 * the EAL set-up every test needs without a NIC or hugepages.
 */
#ifndef TWS_TEST_H
#define TWS_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tws_util.h"

struct tws_test_case {
	const char *name;
	void (*fn)(void);
};

/* Set by CHECK failures and tws_test_skip(); reset before each case. */
extern bool tws_test_failed;
extern const char *tws_test_skip_reason;

void tws_test_fail(const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fail the current case and return from it when cond is false. */
#define CHECK(cond) do { \
	if (!(cond)) { \
		tws_test_fail(__FILE__, __LINE__, #cond, NULL); \
		return; \
	} \
} while (0)

/* As CHECK, with a printf-style explanation. */
#define CHECKF(cond, ...) do { \
	if (!(cond)) { \
		tws_test_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
		return; \
	} \
} while (0)

/* Mark the current case skipped (TAP "# SKIP reason") and return. */
#define SKIP(reason) do { tws_test_skip_reason = (reason); return; } while (0)

/*
 * Start the EAL for a test: --no-pci --no-huge -m mem_mb, a unique
 * --file-prefix per process, lcores 0..nb_lcores-1, EAL logs at warning.
 * Exits with status 77 (skip) if fewer lcores exist, 1 if the EAL fails.
 */
void tws_test_eal_init(const char *prog, unsigned int nb_lcores, unsigned int mem_mb);

/* Run the cases; prints TAP; returns the process exit code. */
int tws_test_run(const struct tws_test_case *cases, unsigned int n);

#define TWS_TEST(fn) { #fn, fn }
#define TWS_NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* Deterministic PRNG for tests (splitmix64): same seed, same run. */
static inline uint64_t
tws_test_rand(uint64_t *state)
{
	return tws_splitmix64(state);
}

#endif /* TWS_TEST_H */
