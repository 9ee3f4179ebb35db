/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench mem: what this machine's memory costs, the floor under every
 * figure of the timer and table benchmarks at millions of entries.
 *
 * A buffer far larger than the last-level cache, from the allocator the
 * tables use (tws_mem_alloc: 2 MiB pages under --no-huge), read four ways:
 *  - dep_load: a chain of loads, each address read from the previous line
 *    (a random cycle through every line): the latency of one DRAM miss.
 *  - line: independent random lines, each prefetched 16 loads ahead: the
 *    cost of one random line when the core keeps as many misses in flight
 *    as it can. An operation that must touch one random line (a timer
 *    re-arm, a table insert) cannot be cheaper than this.
 *  - two_line: in bursts of 32, as tws_table_lookup_burst() and
 *    rte_hash_lookup_bulk() do: prefetch 32 random lines, read each and
 *    prefetch the line it names, then read those. A lookup hit that reads
 *    a bucket and then the record it points to pays at least this.
 *  - seq_read: a sequential sum over the buffer, in GB/s.
 * Figures vary with what else the host runs: run it in the same invocation
 * as the figures it explains (tws-bench timer and table print line_cyc).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_memory.h>
#include <rte_prefetch.h>

#include "app_json.h"
#include "bench.h"
#include "tws_mem.h"

#define LINE 64u
#define AHEAD 16u
#define BURST 32u

static struct {
	uint64_t mib;
	bool json;
} opt = { .mib = 1024 };

static void
mem_usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench mem [--mib N] [--json]\n"
		"\n"
		"Measures what a random cache line of DRAM costs on this machine, the floor\n"
		"under the timer and table figures at millions of entries, in TSC cycles:\n"
		"  dep_load_cyc      one load whose address comes from the previous one\n"
		"                    (a DRAM miss's latency)\n"
		"  line_cyc          one random line, loads independent, prefetched 16 ahead\n"
		"                    (what an operation touching one random line costs at best)\n"
		"  two_line_cyc      a random line, then the random line it names, in bursts\n"
		"                    of 32 (the shape of a lookup hit: bucket, then record)\n"
		"  seq_read_gbs      sequential read bandwidth, GB/s\n"
		"\n"
		"Options:\n"
		"  --mib N       buffer size in MiB, 64 to 65536 (default 1024); it must be\n"
		"                far larger than the last-level cache\n"
		"  --json        print one JSON object only\n");
}

static long
mem_parse(int argc, char **argv)
{
	const struct bench_opt opts[] = {
		{ "mib", BENCH_OPT_U64, &opt.mib, 64, 65536 },
		{ "json", BENCH_OPT_FLAG, &opt.json, 0, 0 },
	};

	if (bench_opts_parse("mem", opts, RTE_DIM(opts), argc, argv) != 0)
		return -1;
	return 64; /* the buffer is mapped outside the DPDK heap */
}

int
bench_mem_probe(uint64_t bytes, struct bench_mem *r)
{
	uint32_t lines = (uint32_t)RTE_MIN(bytes / LINE, (uint64_t)UINT32_MAX);
	uint8_t *buf = tws_mem_alloc("tws_bench_mem", (size_t)lines * LINE, SOCKET_ID_ANY);
	uint32_t *perm = malloc((size_t)lines * sizeof(*perm));
	uint64_t seed = 7, t0, t1, sum = 0;
	uint32_t loads;

	memset(r, 0, sizeof(*r));
	if (buf == NULL || perm == NULL || lines < 2 * BURST) {
		tws_mem_free(buf);
		free(perm);
		return -1;
	}
	r->bytes = (uint64_t)lines * LINE;
	/*
	 * Line perm[i] names line perm[i + 1] (one cycle through every line)
	 * and, second, line perm[i + lines/4]: a line no burst near it reads.
	 */
	bench_permutation(perm, lines, &seed);
	for (uint32_t i = 0; i < lines; i++) {
		uint32_t *l = (uint32_t *)(buf + (size_t)perm[i] * LINE);

		l[0] = perm[i + 1 == lines ? 0 : i + 1];
		l[1] = perm[(uint32_t)(((uint64_t)i + lines / 4) % lines)];
	}

	loads = RTE_MIN(lines, UINT32_C(1) << 20);
	uint32_t p = perm[0];

	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < loads; i++)
		p = *(volatile uint32_t *)(buf + (size_t)p * LINE);
	t1 = rte_rdtsc_precise();
	r->dep_load_cyc = bench_per_op(t1 - t0, loads);
	sum += p;

	loads = RTE_MIN(lines, UINT32_C(1) << 23);
	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < loads; i++) {
		if (i + AHEAD < loads)
			rte_prefetch0(buf + (size_t)perm[i + AHEAD] * LINE);
		sum += *(volatile uint32_t *)(buf + (size_t)perm[i] * LINE);
	}
	t1 = rte_rdtsc_precise();
	r->line_cyc = bench_per_op(t1 - t0, loads);

	/*
	 * Start half way round the cycle, past the lines read above; the
	 * second lines are a quarter further on, so no burst reads both.
	 */
	uint32_t from = lines / 2, keys = RTE_MIN(lines / 4, UINT32_C(1) << 22) & ~(BURST - 1);

	t0 = rte_rdtsc_precise();
	for (uint32_t i = from; i < from + keys; i += BURST) {
		uint32_t next[BURST];

		for (unsigned int k = 0; k < BURST; k++)
			rte_prefetch0(buf + (size_t)perm[i + k] * LINE);
		for (unsigned int k = 0; k < BURST; k++) {
			next[k] = ((volatile uint32_t *)(buf + (size_t)perm[i + k] * LINE))[1];
			rte_prefetch0(buf + (size_t)next[k] * LINE);
		}
		for (unsigned int k = 0; k < BURST; k++)
			sum += *(volatile uint32_t *)(buf + (size_t)next[k] * LINE);
	}
	t1 = rte_rdtsc_precise();
	r->two_line_cyc = bench_per_op(t1 - t0, keys);

	const uint64_t *w = (const uint64_t *)buf;
	uint64_t words = r->bytes / sizeof(*w), acc = 0;

	t0 = rte_rdtsc_precise();
	for (uint64_t i = 0; i < words; i++)
		acc += w[i];
	t1 = rte_rdtsc_precise();
	r->seq_read_gbs = t1 > t0 ? (double)r->bytes / ((double)(t1 - t0) / rte_get_tsc_hz()) / 1e9 : 0;
	sum += acc;

	r->checksum = sum; /* keeps the loads */
	tws_mem_free(buf);
	free(perm);
	return 0;
}

static int
mem_run(void)
{
	struct bench_mem m;
	struct app_json j;

	if (bench_mem_probe(opt.mib << 20, &m) != 0) {
		fprintf(stderr, "tws-bench mem: cannot map %" PRIu64 " MiB\n", opt.mib);
		return 1;
	}
	if (!opt.json) {
		printf("tws-bench mem: %" PRIu64 " MiB, %s, TSC %.2f GHz\n", opt.mib,
		       app_cpu_model(), rte_get_tsc_hz() / 1e9);
		printf("  dependent load   %8.1f cycles (%.0f ns)\n", m.dep_load_cyc,
		       m.dep_load_cyc * 1e9 / rte_get_tsc_hz());
		printf("  random line      %8.1f cycles, prefetched %u ahead\n", m.line_cyc, AHEAD);
		printf("  two lines        %8.1f cycles per key, bursts of %u\n", m.two_line_cyc,
		       BURST);
		printf("  sequential read  %8.2f GB/s\n", m.seq_read_gbs);
		return 0;
	}
	app_json_begin(&j, stdout);
	app_json_str(&j, "bench", "mem");
	app_json_u64(&j, "bytes", m.bytes);
	app_json_num(&j, "dep_load_cyc", m.dep_load_cyc, 1);
	app_json_num(&j, "dep_load_ns", m.dep_load_cyc * 1e9 / rte_get_tsc_hz(), 1);
	app_json_num(&j, "line_cyc", m.line_cyc, 1);
	app_json_num(&j, "two_line_cyc", m.two_line_cyc, 1);
	app_json_num(&j, "seq_read_gbs", m.seq_read_gbs, 2);
	bench_json_machine(&j);
	app_json_end(&j);
	return 0;
}

const struct bench_cmd bench_mem_cmd = {
	.name = "mem",
	.summary = "this machine's DRAM: latency and cost of a random line (the floor of the others)",
	.parse = mem_parse,
	.run = mem_run,
	.usage = mem_usage,
};
