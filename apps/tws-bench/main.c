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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "app_json.h"
#include "bench.h"

void
bench_json_machine(struct app_json *j)
{
	app_json_str(j, "cpu", app_cpu_model());
	app_json_u64(j, "cores", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	app_json_u64(j, "tsc_hz", rte_get_tsc_hz());
}

static const struct bench_cmd *const cmds[] = { &bench_timer_cmd, &bench_table_cmd,
								 &bench_tcp_cmd, &bench_flood_cmd,
								 &bench_linux_cmd, &bench_mem_cmd,
								 &bench_c2c_cmd };

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
		"  --no-pci --no-huge --no-shconf -m <what the command needs> --no-telemetry\n"
		"  -l <this cpu>\n"
		"Give your own before '--' to use hugepages, e.g.\n"
		"  tws-bench --in-memory -l 2 -- timer --pending 4M --json\n"
		"\n"
		"'tws-bench <command> --help' lists the command's options.\n");
}

int
bench_parse_seconds(const char *cmd, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end != '\0' || end == s || !(v >= 0.1) || v > 3600) {
		fprintf(stderr, "tws-bench %s: --seconds '%s': expected 0.1 to 3600\n", cmd, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
bench_opts_parse(const char *cmd, const struct bench_opt *opts, unsigned int n, int argc,
		 char **argv)
{
	struct option lo[17];
	char prog[32];
	int c;

	if (n > 16)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		lo[i] = (struct option){ .name = opts[i].name, .val = 256 + (int)i,
			.has_arg = opts[i].kind == BENCH_OPT_FLAG ? no_argument :
				   required_argument };
	lo[n] = (struct option){ 0 };
	snprintf(prog, sizeof(prog), "tws-bench %s", cmd);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c < 256 || c >= 256 + (int)n) {
			fprintf(stderr, "%s: see '%s --help'\n", prog, prog);
			return -1;
		}

		const struct bench_opt *o = &opts[c - 256];
		char flag[40];
		uint64_t v;

		snprintf(flag, sizeof(flag), "--%s", o->name);
		switch (o->kind) {
		case BENCH_OPT_U64:
			if (app_parse_u64(prog, flag, optarg, o->min, o->max, o->dst) != 0)
				return -1;
			break;
		case BENCH_OPT_U32:
			if (app_parse_u64(prog, flag, optarg, o->min, o->max, &v) != 0)
				return -1;
			*(uint32_t *)o->dst = (uint32_t)v;
			break;
		case BENCH_OPT_SECONDS:
			if (bench_parse_seconds(cmd, optarg, o->dst) != 0)
				return -1;
			break;
		case BENCH_OPT_FLAG:
			*(bool *)o->dst = true;
			break;
		case BENCH_OPT_OUT_FILE: {
			/* Fail now, not after the measuring. */
			FILE *f = fopen(optarg, "w");

			if (f == NULL) {
				fprintf(stderr, "%s: cannot write %s %s: %s\n", prog, flag, optarg,
					strerror(errno));
				return -1;
			}
			fclose(f);
			*(const char **)o->dst = optarg;
			break;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		return -1;
	}
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

	/* EAL options are those before '--' if there is one, else the defaults. */
	if (app_eal_start("tws-bench", argv[0], sep >= 0 ? argv + 1 : NULL, sep >= 0 ? sep - 1 : 0,
			  mem_mb) != 0)
		return 1;

	int rc = cmd->run();

	app_eal_stop();
	return rc;
}
