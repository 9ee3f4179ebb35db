/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "app_util.h"

int
app_parse_u64(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
	      uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K': mul = 1000; end++; break;
		case 'm': case 'M': mul = 1000000; end++; break;
		case 'g': case 'G': mul = 1000000000; end++; break;
		default: break;
		}
	}
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v > max / mul || v * mul < min || v * mul > max) {
		fprintf(stderr, "%s: %s '%s': expected a number from %llu to %llu\n",
			prog, opt, s, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v * mul;
	return 0;
}

const char *
app_cpu_model(void)
{
	static char model[128] = "unknown";
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f == NULL)
		return model;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			c += 2;
			c[strcspn(c, "\n")] = '\0';
			snprintf(model, sizeof(model), "%s", c);
			break;
		}
	}
	fclose(f);
	return model;
}

int
app_eal_start(const char *prog, char *argv0, char **user, int nb_user, long mem_mb)
{
	char mem[32], prefix[64], lcore[16];
	char *eargv[32];
	int eargc = 0;

	eargv[eargc++] = argv0;
	if (user != NULL) {
		for (int i = 0; i < nb_user && eargc < 31; i++)
			eargv[eargc++] = user[i];
	} else {
		int cpu = sched_getcpu();

		snprintf(mem, sizeof(mem), "%ld", mem_mb);
		/* Unique per process: two --no-huge processes must not share a prefix. */
		snprintf(prefix, sizeof(prefix), "%s-%d", prog, (int)getpid());
		snprintf(lcore, sizeof(lcore), "%d", cpu < 0 ? 0 : cpu);
		eargv[eargc++] = "--no-pci";
		eargv[eargc++] = "--no-huge";
		eargv[eargc++] = "--no-shconf";
		eargv[eargc++] = "--no-telemetry";
		eargv[eargc++] = "-m";
		eargv[eargc++] = mem;
		eargv[eargc++] = "--file-prefix";
		eargv[eargc++] = prefix;
		eargv[eargc++] = "-l";
		eargv[eargc++] = lcore;
		eargv[eargc++] = "--log-level";
		eargv[eargc++] = "lib.eal:error";
	}
	eargv[eargc] = NULL;
	if (rte_eal_init(eargc, eargv) < 0) {
		fprintf(stderr, "%s: cannot start the DPDK EAL: %s\n"
			"  (without EAL options %s uses --no-huge -m %ld; with your own, check\n"
			"   hugepages and memory, or drop them to use the defaults)\n",
			prog, rte_strerror(rte_errno), prog, mem_mb);
		return -1;
	}
	return 0;
}

void
app_eal_stop(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (dir[0] != '\0')
		rmdir(dir);	/* fails, harmlessly, if something is still in it */
}

uint64_t
app_dpdk_heap_used(void)
{
	struct rte_malloc_socket_stats s;
	uint64_t used = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) == 0)
			used += s.heap_allocsz_bytes;
	return used;
}

uint64_t
app_rss_bytes(void)
{
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

uint64_t
app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
