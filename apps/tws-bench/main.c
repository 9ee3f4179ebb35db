/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench: micro-benchmarks of twstack's libraries against DPDK's own
 * (rte_timer, rte_hash) in the same run, printed as JSON.
 *
 *   tws-bench [EAL args --] <command> [options]
 *
 * Without EAL arguments it starts the EAL with --no-pci --no-huge and as
 * much memory as the command needs, so it runs on a machine without NIC or
 * hugepages.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "bench.h"

static const struct bench_cmd *const cmds[] = { &bench_timer_cmd, &bench_table_cmd,
								 &bench_tcp_cmd };

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench [EAL options --] <command> [options]\n"
		"\n"
		"Measures twstack's data structures against DPDK's in one run and prints\n"
		"cycles per operation and bytes per entry (JSON with --json).\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(f,
		"\n"
		"EAL options are optional: by default tws-bench runs with\n"
		"  --no-pci --no-huge -m <what the command needs> --no-telemetry -l <this cpu>\n"
		"Give your own before '--' to use hugepages, e.g.\n"
		"  tws-bench --in-memory -l 2 -- timer --pending 4M --json\n"
		"\n"
		"'tws-bench <command> --help' lists the command's options.\n");
}

int
bench_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
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
		fprintf(stderr, "tws-bench: %s '%s': expected a number from %llu to %llu\n",
			opt, s, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v * mul;
	return 0;
}

void
bench_permutation(uint32_t *a, uint32_t n, uint64_t *seed)
{
	for (uint32_t i = 0; i < n; i++)
		a[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(bench_rand(seed) % (i + 1)), t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

const char *
bench_cpu_model(void)
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
main(int argc, char **argv)
{
	int sep = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}

	int cargc = sep < 0 ? argc - 1 : argc - sep - 1;
	char **cargv = sep < 0 ? argv + 1 : argv + sep + 1;

	if (cargc < 1 || strcmp(cargv[0], "--help") == 0 || strcmp(cargv[0], "-h") == 0) {
		usage(cargc < 1 ? stderr : stdout);
		return cargc < 1 ? 2 : 0;
	}

	const struct bench_cmd *cmd = NULL;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cargv[0], cmds[i]->name) == 0)
			cmd = cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "tws-bench: unknown command '%s'\n\n", cargv[0]);
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < cargc; i++) {
		if (strcmp(cargv[i], "--help") == 0 || strcmp(cargv[i], "-h") == 0) {
			cmd->usage(stdout);
			return 0;
		}
	}

	long mem_mb = cmd->parse(cargc, cargv);

	if (mem_mb < 0)
		return 2;

	char mem[32], prefix[64], lcore[16];
	char *eargv[32];
	int eargc = 0;

	eargv[eargc++] = argv[0];
	if (sep >= 0) {
		for (int i = 1; i < sep && eargc < 31; i++)
			eargv[eargc++] = argv[i];
	} else {
		int cpu = sched_getcpu();

		snprintf(mem, sizeof(mem), "%ld", mem_mb);
		snprintf(prefix, sizeof(prefix), "tws-bench-%d", (int)getpid());
		snprintf(lcore, sizeof(lcore), "%d", cpu < 0 ? 0 : cpu);
		eargv[eargc++] = "--no-pci";
		eargv[eargc++] = "--no-huge";
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
		fprintf(stderr, "tws-bench: cannot start the DPDK EAL: %s\n"
			"  (without EAL options tws-bench uses --no-huge -m %ld; with your own, check\n"
			"   hugepages and memory, or drop them to use the defaults)\n",
			rte_strerror(rte_errno), mem_mb);
		return 1;
	}

	int rc = cmd->run();

	rte_eal_cleanup();
	return rc;
}
