/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench linux: the kernel's half of a churn comparison alone (the same
 * pattern as `tcp --vs-linux`), for scripts that measure twstack another way
 * (scripts/bench-cps: tws-gen against tws-server over memif).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "app_util.h"
#include "bench.h"

static struct {
	double seconds;
	uint64_t concurrency;
	bool json;
} lopt = { .seconds = 5, .concurrency = 64 };

static void
linux_usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench linux [--seconds S] [--concurrency N] [--json]\n"
		"\n"
		"The Linux kernel over loopback, alone: connect, 100-byte request, 100-byte\n"
		"response, client closes first, in a private network namespace when allowed\n"
		"(as the kernel half of 'tws-bench tcp --vs-linux').\n"
		"\n"
		"  --seconds S       run time (default 5; 0.1..3600)\n"
		"  --concurrency N   connections in flight (default 64; 1..4096)\n"
		"  --json            one JSON object: linux_cps, linux_connections, linux_errors,\n"
		"                    linux_cpu_s, linux_tw_peak, linux_netns, seconds, note\n");
}

static long
linux_parse(int argc, char **argv)
{
	const struct bench_opt opts[] = {
		{ "seconds", BENCH_OPT_SECONDS, &lopt.seconds, 0, 0 },
		{ "concurrency", BENCH_OPT_U64, &lopt.concurrency, 1, 4096 },
		{ "json", BENCH_OPT_FLAG, &lopt.json, 0, 0 },
	};

	if (bench_opts_parse("linux", opts, RTE_DIM(opts), argc, argv) != 0)
		return -1;
	return 64; /* the EAL is not used; keep it small */
}

static int
linux_run(void)
{
	struct bench_linux_result r = { 0 };
	int rc = bench_linux_churn(lopt.seconds, (unsigned int)lopt.concurrency, &r);

	if (rc != 0) {
		fprintf(stderr, "tws-bench linux: the kernel run failed: %s\n", strerror(-rc));
		return 1;
	}
	if (lopt.json)
		printf("{\"bench\": \"linux\", \"seconds\": %.3f, \"linux_cps\": %.0f, "
		       "\"linux_connections\": %" PRIu64 ", \"linux_errors\": %" PRIu64
		       ", \"linux_cpu_s\": %.2f, \"linux_tw_peak\": %" PRIu64
		       ", \"linux_netns\": %s, \"note\": \"%s\"}\n",
		       r.seconds, r.cps, r.connections, r.errors, r.cpu_user_s + r.cpu_sys_s,
		       r.tw_peak, r.netns ? "true" : "false", r.note);
	else
		printf("Linux kernel over loopback: %" PRIu64 " connections in %.2f s = %.0f/s, "
		       "%" PRIu64 " errors, %.2f CPU-s, TIME_WAIT peak %" PRIu64 "%s%s\n",
		       r.connections, r.seconds, r.cps, r.errors, r.cpu_user_s + r.cpu_sys_s,
		       r.tw_peak, r.note[0] ? "; " : "", r.note);
	return r.errors == 0 ? 0 : 3;
}

const struct bench_cmd bench_linux_cmd = {
	.name = "linux",
	.summary = "the Linux kernel's churn over loopback alone (connections/s)",
	.parse = linux_parse,
	.run = linux_run,
	.usage = linux_usage,
};
