/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench c2c: what one cache line costs to go from one CPU to another and
 * back (two threads pinned to the two CPUs pass a counter back and forth).
 *
 * Why: tws-gen and tws-server on two cores exchange every frame through
 * memif's shared rings, so every packet's lines cross between the cores.
 * On a VM the host decides where the two vCPUs run: on this project's
 * machine a round trip is ~55 ns when they share an L3 (one CCX) and ~320
 * ns when they do not, and scripts/bench-cps moves with it (1.0-1.2M
 * connections/s against 0.7M). bench-cps measures it before and after its
 * run, so a figure comes with the placement it was taken on.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_pause.h>

#include "app_json.h"
#include "bench.h"

#define ROUND_TRIPS 1000000u
#define MAX_SECONDS 5

static struct {
	uint32_t a, b;
	bool json;
} opt = { .a = 0, .b = 1 };

/* The line the two threads pass back and forth: odd, A's turn is over; even, B's. */
static struct {
	volatile uint64_t turn;
	volatile bool stop;
} ball __rte_cache_aligned;

static void
c2c_usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench c2c [--cpu-a N] [--cpu-b N] [--json]\n"
		"\n"
		"Measures the round trip of one cache line between two CPUs (two threads\n"
		"pinned to them hand a counter back and forth, 1M times or 5 s at most):\n"
		"what every frame between two DPDK processes on those cores pays, at\n"
		"least once. On a VM it tells where the host put the vCPUs: sharing an L3\n"
		"or not. scripts/bench-cps reports it beside its connections/s.\n"
		"\n"
		"Options:\n"
		"  --cpu-a N     first CPU (default 0; tws-server's in scripts/bench-cps)\n"
		"  --cpu-b N     second CPU (default 1; tws-gen's)\n"
		"  --json        print one JSON object only\n"
		"\n"
		"JSON fields: bench, cpu_a, cpu_b, round_trips, rtt_ns, rtt_cyc, cpu, cores, tsc_hz.\n");
}

static long
c2c_parse(int argc, char **argv)
{
	uint64_t a = opt.a, b = opt.b;
	const struct bench_opt opts[] = {
		{ "cpu-a", BENCH_OPT_U64, &a, 0, CPU_SETSIZE - 1 },
		{ "cpu-b", BENCH_OPT_U64, &b, 0, CPU_SETSIZE - 1 },
		{ "json", BENCH_OPT_FLAG, &opt.json, 0, 0 },
	};

	if (bench_opts_parse("c2c", opts, RTE_DIM(opts), argc, argv) != 0)
		return -1;
	if (a == b) {
		fprintf(stderr, "tws-bench c2c: --cpu-a and --cpu-b are both %" PRIu64
			": expected two CPUs\n", a);
		return -1;
	}
	opt.a = (uint32_t)a;
	opt.b = (uint32_t)b;
	return 16;
}

static int
pin(uint32_t cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* B: answers each odd turn with the next even one. */
static void *
player_b(void *arg)
{
	volatile int *rc = arg;

	*rc = pin(opt.b);
	for (uint64_t i = 1; *rc == 0 && !ball.stop; i += 2) {
		while (ball.turn != i && !ball.stop)
			rte_pause();
		ball.turn = i + 1;
	}
	return NULL;
}

static int
c2c_run(void)
{
	pthread_t tb;
	volatile int rc_b = 0;
	int rc_a;
	uint64_t done = 0, t0, t1, limit = (uint64_t)MAX_SECONDS * rte_get_tsc_hz();

	ball.turn = 0;
	ball.stop = false;
	if (pthread_create(&tb, NULL, player_b, (void *)&rc_b) != 0) {
		fprintf(stderr, "tws-bench c2c: cannot start a thread\n");
		return 1;
	}
	rc_a = pin(opt.a);
	t0 = rte_rdtsc_precise();
	for (uint64_t i = 0; rc_a == 0 && i < ROUND_TRIPS; i++) {
		ball.turn = 2 * i + 1;
		while (ball.turn != 2 * i + 2 && rc_b == 0) {
			rte_pause();
			if (rte_rdtsc() - t0 > limit)
				goto out;
		}
		if (rc_b != 0)
			break;
		done++;
	}
out:
	t1 = rte_rdtsc_precise();
	ball.stop = true;
	pthread_join(tb, NULL);
	if (rc_a != 0 || rc_b != 0) {
		fprintf(stderr, "tws-bench c2c: cannot run on CPUs %u and %u: %s (the machine "
			"has %ld online)\n", opt.a, opt.b, strerror(rc_a != 0 ? -rc_a : -rc_b),
			sysconf(_SC_NPROCESSORS_ONLN));
		return 1;
	}
	if (done == 0) {
		fprintf(stderr, "tws-bench c2c: no round trip in %d s\n", MAX_SECONDS);
		return 1;
	}

	double cyc = (double)(t1 - t0) / done, ns = cyc * 1e9 / rte_get_tsc_hz();

	if (!opt.json) {
		printf("tws-bench c2c: CPUs %u and %u: a cache line's round trip %.1f ns "
		       "(%.0f TSC cycles), %" PRIu64 " round trips\n", opt.a, opt.b, ns, cyc, done);
		return 0;
	}

	struct app_json j;

	app_json_begin(&j, stdout);
	app_json_str(&j, "bench", "c2c");
	app_json_u64(&j, "cpu_a", opt.a);
	app_json_u64(&j, "cpu_b", opt.b);
	app_json_u64(&j, "round_trips", done);
	app_json_num(&j, "rtt_ns", ns, 1);
	app_json_num(&j, "rtt_cyc", cyc, 1);
	bench_json_machine(&j);
	app_json_end(&j);
	return 0;
}

const struct bench_cmd bench_c2c_cmd = {
	.name = "c2c",
	.summary = "a cache line's round trip between two CPUs (where the host put them)",
	.parse = c2c_parse,
	.run = c2c_run,
	.usage = c2c_usage,
};
