/* SPDX-License-Identifier: BSD-3-Clause */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "tws_test.h"

bool tws_test_failed;
const char *tws_test_skip_reason;
static bool eal_started;

void
tws_test_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	printf("# FAILED %s:%d: %s", file, line, expr);
	if (fmt != NULL) {
		va_list ap;

		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	tws_test_failed = true;
}

void
tws_test_eal_init(const char *prog, unsigned int nb_lcores, unsigned int mem_mb)
{
	char prefix[64], mem[16], lcores[16];
	char *argv[16];
	int argc = 0;

	if (nb_lcores > 1 && (long)nb_lcores > sysconf(_SC_NPROCESSORS_ONLN)) {
		printf("1..0 # SKIP needs %u cores\n", nb_lcores);
		exit(77);
	}
	snprintf(prefix, sizeof(prefix), "tws-test-%d", (int)getpid());
	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(lcores, sizeof(lcores), nb_lcores > 1 ? "0-%u" : "0", nb_lcores - 1);
	argv[argc++] = (char *)(uintptr_t)prog;
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-huge";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--no-shconf"; /* nothing left in /var/run/dpdk per run */
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "-l";
	argv[argc++] = lcores;
	argv[argc++] = "--log-level";
	argv[argc++] = "lib.eal:warning";
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		printf("Bail out! rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	eal_started = true;
}

int
tws_test_run(const struct tws_test_case *cases, unsigned int n)
{
	unsigned int failed = 0;

	printf("1..%u\n", n);
	fflush(stdout);
	for (unsigned int i = 0; i < n; i++) {
		tws_test_failed = false;
		tws_test_skip_reason = NULL;
		cases[i].fn();
		if (tws_test_failed) {
			failed++;
			printf("not ok %u - %s\n", i + 1, cases[i].name);
		} else if (tws_test_skip_reason != NULL) {
			printf("ok %u - %s # SKIP %s\n", i + 1, cases[i].name, tws_test_skip_reason);
		} else {
			printf("ok %u - %s\n", i + 1, cases[i].name);
		}
		fflush(stdout);
	}
	if (eal_started) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		rmdir(dir); /* fails harmlessly if something is still in it */
	}
	return failed == 0 ? 0 : 1;
}
