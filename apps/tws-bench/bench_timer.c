/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench timer: twstack's wheel against rte_timer on the same workload.
 *
 * Workload (docs/benchmarks.md explains it): N timers armed in id order with
 * deadlines spread uniformly over --spread ticks (1 tick = 1 ms for both);
 * then N/4 pending timers re-armed to new random deadlines; then N/4 other
 * timers cancelled; then time advances tick by tick and every remaining
 * timer expires. The re-arms and cancels run twice, on fresh structures:
 * once in id order (ids 0..N/4-1, then N/4..N/2-1: the timers' state is
 * visited in memory order) and once in a random order (every operation
 * lands on a random cache line: at millions of timers, DRAM bound).
 * Cycles are TSC cycles per operation. The fixed-timeout path (TIME_WAIT)
 * is measured on its own: N timers of 60 s created 256 per tick, N/4
 * cancels in random order, then all expire.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_timer.h>

#include "bench.h"
#include "tws_timer.h"

#define EXPIRE_BURST 256
#define BURST_MAX 32 /* re-arms and cancels per burst call: one RX burst */
#define FIXED_TICKS 60000u

static struct {
	uint64_t pending;
	uint64_t spread;
	uint64_t seed;
	bool json;
	bool no_rte;
	const char *json_file;
} opt = { .pending = 1000000, .spread = 4000, .seed = 1 };

struct result {
	double arm, rearm, cancel, expire, bytes;
};

static void
timer_usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench [EAL options --] timer [options]\n"
		"\n"
		"Arms, re-arms, cancels and expires timers in twstack's wheel and in DPDK's\n"
		"rte_timer on the same workload and reports TSC cycles per operation.\n"
		"\n"
		"  --pending N   timers pending at once (default 1M; k/M/G suffixes; max 100M)\n"
		"  --spread T    deadlines spread over T ticks of 1 ms (default 4000, 16..600000);\n"
		"                rte_timer really waits for them, so a long spread is slow\n"
		"  --seed S      seed of the random deadlines and orders (default 1)\n"
		"  --no-rte      skip rte_timer (its fields are then null)\n"
		"  --json        print one JSON object only\n"
		"  --json-file F also write the JSON object to file F\n"
		"  --help        this text\n"
		"\n"
		"JSON fields (cycles per operation; *_rand_*: re-arms and cancels in random order):\n"
		"  pending, tws_{arm,cancel,rearm,expire}_cyc, tws_bytes_per_timer,\n"
		"  tws_{cancel,rearm,expire}_rand_cyc, tws_{rearm,cancel}[_rand]_burst_cyc\n"
		"  (tws_timer_*_burst(), 32 per call), tws_fixed_{arm,cancel_rand,expire}_cyc,\n"
		"  tws_fixed_bytes_per_timer, the same rte_* fields for rte_timer,\n"
		"  {arm,cancel,rearm,expire}[_rand]_ratio (rte_timer / twstack), spread_ticks,\n"
		"  cpu, cores, tsc_hz.\n");
}

static struct tws_timer_params
wheel_params(uint32_t n, bool fixed)
{
	struct tws_timer_params p = {
		.name = fixed ? "bench_fixed" : "bench_wheel",
		.socket_id = SOCKET_ID_ANY,
		.capacity = n,
	};

	if (fixed) {
		p.nb_fixed = 1;
		p.fixed_ticks[0] = FIXED_TICKS;
		p.nb_slots = 64; /* the wheel itself is unused: keep it minimal */
		p.wheel_size = 1;
	}
	return p;
}

static long
timer_parse(int argc, char **argv)
{
	const struct bench_opt opts[] = {
		{ "pending", BENCH_OPT_U64, &opt.pending, 1000, 100000000 },
		{ "spread", BENCH_OPT_U64, &opt.spread, 16, 600000 },
		{ "seed", BENCH_OPT_U64, &opt.seed, 0, UINT64_MAX },
		{ "no-rte", BENCH_OPT_FLAG, &opt.no_rte, 0, 0 },
		{ "json", BENCH_OPT_FLAG, &opt.json, 0, 0 },
		{ "json-file", BENCH_OPT_OUT_FILE, &opt.json_file, 0, 0 },
	};

	if (bench_opts_parse("timer", opts, RTE_DIM(opts), argc, argv) != 0)
		return -1;

	struct tws_timer_params w = wheel_params((uint32_t)opt.pending, false);
	struct tws_timer_params f = wheel_params((uint32_t)opt.pending, true);

	/* Both wheels live at once; rte_timer's own state and the EAL need little. */
	return (long)((tws_timer_memory_size(&w) + tws_timer_memory_size(&f)) >> 20) + 128;
}

/* General wheel. Returns 0, or -1 if the wheel did not hand back what it should. */
static int
run_tws(uint32_t n, uint32_t k, const uint32_t *dl, const uint32_t *dl2, const uint32_t *perm,
	unsigned int burst, struct result *r)
{
	struct tws_timer_params p = wheel_params(n, false);
	struct tws_timer *w = tws_timer_create(&p);
	struct tws_timer_stats st;
	uint32_t ids[EXPIRE_BURST];
	uint64_t t0, t1, expired = 0;

	if (w == NULL) {
		fprintf(stderr, "tws-bench: cannot create the wheel (%" PRIu64 " MB)\n",
			(uint64_t)tws_timer_memory_size(&p) >> 20);
		return -1;
	}
	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < n; i++)
		tws_timer_arm(w, i, dl[i]);
	t1 = rte_rdtsc_precise();
	r->arm = bench_per_op(t1 - t0, n);

	if (burst == 0) {
		t0 = rte_rdtsc_precise();
		for (uint32_t j = 0; j < k; j++)
			tws_timer_arm(w, perm[j], dl2[j]);
		t1 = rte_rdtsc_precise();
		r->rearm = bench_per_op(t1 - t0, k);

		t0 = rte_rdtsc_precise();
		for (uint32_t j = 0; j < k; j++)
			tws_timer_cancel(w, perm[k + j]);
		t1 = rte_rdtsc_precise();
		r->cancel = bench_per_op(t1 - t0, k);
	} else {
		uint64_t d64[BURST_MAX];
		uint64_t cyc = 0;

		/* The caller gathers a burst (here: converts deadlines) outside the timing. */
		for (uint32_t j = 0; j < k; j += burst) {
			unsigned int m = RTE_MIN(burst, k - j);

			for (unsigned int i = 0; i < m; i++)
				d64[i] = dl2[j + i];
			t0 = rte_rdtsc();
			tws_timer_arm_burst(w, perm + j, d64, m);
			cyc += rte_rdtsc() - t0;
		}
		r->rearm = bench_per_op(cyc, k);

		t0 = rte_rdtsc_precise();
		for (uint32_t j = 0; j < k; j += burst)
			tws_timer_cancel_burst(w, perm + k + j, RTE_MIN(burst, k - j));
		t1 = rte_rdtsc_precise();
		r->cancel = bench_per_op(t1 - t0, k);
	}

	tws_timer_stats_get(w, &st);
	r->bytes = (double)st.memory_bytes / n;

	t0 = rte_rdtsc_precise();
	for (uint64_t now = 0; now <= opt.spread; now++) {
		unsigned int got;

		do {
			got = tws_timer_expire(w, now, ids, EXPIRE_BURST);
			expired += got;
		} while (got == EXPIRE_BURST);
	}
	t1 = rte_rdtsc_precise();
	r->expire = bench_per_op(t1 - t0, expired);
	tws_timer_stats_get(w, &st);
	tws_timer_free(w);
	if (expired != n - k || st.pending != 0) {
		fprintf(stderr, "tws-bench: wheel expired %" PRIu64 " timers, expected %u\n",
			expired, n - k);
		return -1;
	}
	return 0;
}

/* Fixed-timeout queue (TIME_WAIT path). */
static int
run_tws_fixed(uint32_t n, uint32_t k, const uint32_t *perm, struct result *r)
{
	struct tws_timer_params p = wheel_params(n, true);
	struct tws_timer *w = tws_timer_create(&p);
	struct tws_timer_stats st;
	uint32_t ids[EXPIRE_BURST];
	uint64_t t0, t1, expired = 0, last;

	if (w == NULL) {
		fprintf(stderr, "tws-bench: cannot create the fixed queue\n");
		return -1;
	}
	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < n; i++)
		tws_timer_arm_fixed(w, i, 0, i >> 8); /* 256 new TIME_WAIT entries per tick */
	t1 = rte_rdtsc_precise();
	r->arm = bench_per_op(t1 - t0, n);

	t0 = rte_rdtsc_precise();
	for (uint32_t j = 0; j < k; j++)
		tws_timer_cancel(w, perm[k + j]);
	t1 = rte_rdtsc_precise();
	r->cancel = bench_per_op(t1 - t0, k);

	tws_timer_stats_get(w, &st);
	r->bytes = (double)st.memory_bytes / n;
	r->rearm = 0;

	last = ((uint64_t)(n - 1) >> 8) + FIXED_TICKS;
	t0 = rte_rdtsc_precise();
	for (uint64_t now = FIXED_TICKS; now <= last; now++) {
		unsigned int got;

		do {
			got = tws_timer_expire(w, now, ids, EXPIRE_BURST);
			expired += got;
		} while (got == EXPIRE_BURST);
	}
	t1 = rte_rdtsc_precise();
	r->expire = bench_per_op(t1 - t0, expired);
	tws_timer_free(w);
	if (expired != n - k) {
		fprintf(stderr, "tws-bench: fixed queue expired %" PRIu64 " timers, expected %u\n",
			expired, n - k);
		return -1;
	}
	return 0;
}

static uint64_t rte_fired;

static void
rte_cb(struct rte_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	rte_fired++;
}

static int
run_rte(uint32_t n, uint32_t k, const uint32_t *dl, const uint32_t *dl2, const uint32_t *perm,
	struct result *r)
{
	uint64_t tick = rte_get_tsc_hz() / 1000, t0, t1, due;
	unsigned int lcore = rte_lcore_id();
	struct rte_timer *tm;

	int irc = rte_timer_subsystem_init();

	if (irc != 0 && irc != -EALREADY) {
		fprintf(stderr, "tws-bench: rte_timer_subsystem_init failed\n");
		return -1;
	}
	tm = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)n * sizeof(*tm),
							       RTE_CACHE_LINE_SIZE));
	if (tm == NULL) {
		fprintf(stderr, "tws-bench: cannot allocate %u rte_timers\n", n);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		rte_timer_init(&tm[i]);

	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < n; i++)
		rte_timer_reset(&tm[i], dl[i] * tick, SINGLE, lcore, rte_cb, NULL);
	t1 = rte_rdtsc_precise();
	r->arm = bench_per_op(t1 - t0, n);

	t0 = rte_rdtsc_precise();
	for (uint32_t j = 0; j < k; j++)
		rte_timer_reset(&tm[perm[j]], dl2[j] * tick, SINGLE, lcore, rte_cb, NULL);
	t1 = rte_rdtsc_precise();
	r->rearm = bench_per_op(t1 - t0, k);
	due = t1 + (opt.spread + 2) * tick;

	t0 = rte_rdtsc_precise();
	for (uint32_t j = 0; j < k; j++)
		rte_timer_stop(&tm[perm[k + j]]);
	t1 = rte_rdtsc_precise();
	r->cancel = bench_per_op(t1 - t0, k);
	r->bytes = (double)sizeof(*tm);

	/* rte_timer reads the TSC itself: wait (bounded by --spread) until all are due. */
	while (rte_rdtsc() < due)
		rte_delay_us_block(1000);
	rte_fired = 0;
	t0 = rte_rdtsc_precise();
	rte_timer_manage();
	t1 = rte_rdtsc_precise();
	r->expire = bench_per_op(t1 - t0, rte_fired);
	free(tm);
	if (rte_fired != n - k) {
		fprintf(stderr, "tws-bench: rte_timer fired %" PRIu64 " timers, expected %u\n",
			rte_fired, n - k);
		return -1;
	}
	return 0;
}

static FILE *jf; /* where the JSON goes: stdout with --json, the file of --json-file */

static void
json_num(const char *key, double v, bool valid)
{
	if (valid)
		fprintf(jf, ",\n  \"%s\": %.2f", key, v);
	else
		fprintf(jf, ",\n  \"%s\": null", key);
}

/* One implementation's results for one order, as JSON fields with a suffix. */
static void
json_result(const char *impl, const char *sfx, const struct result *r, bool valid, bool all)
{
	char key[64];

	if (all) {
		snprintf(key, sizeof(key), "%s_arm%s_cyc", impl, sfx);
		json_num(key, r->arm, valid);
	}
	snprintf(key, sizeof(key), "%s_cancel%s_cyc", impl, sfx);
	json_num(key, r->cancel, valid);
	snprintf(key, sizeof(key), "%s_rearm%s_cyc", impl, sfx);
	json_num(key, r->rearm, valid);
	snprintf(key, sizeof(key), "%s_expire%s_cyc", impl, sfx);
	json_num(key, r->expire, valid);
	if (all) {
		snprintf(key, sizeof(key), "%s_bytes_per_timer", impl);
		json_num(key, r->bytes, valid);
	}
}

static void
json_ratios(const char *sfx, const struct result *t, const struct result *r, bool valid)
{
	char key[64];

	snprintf(key, sizeof(key), "arm%s_ratio", sfx);
	json_num(key, r->arm / t->arm, valid);
	snprintf(key, sizeof(key), "cancel%s_ratio", sfx);
	json_num(key, r->cancel / t->cancel, valid);
	snprintf(key, sizeof(key), "rearm%s_ratio", sfx);
	json_num(key, r->rearm / t->rearm, valid);
	snprintf(key, sizeof(key), "expire%s_ratio", sfx);
	json_num(key, r->expire / t->expire, valid);
}

static void
table_row(const char *name, const struct result *r)
{
	printf("%-30s %9.1f %9.1f %9.1f %9.1f %12.1f\n", name, r->arm, r->rearm, r->cancel,
	       r->expire, r->bytes);
}

static void
table_ratio(const char *name, const struct result *t, const struct result *r)
{
	printf("%-30s %8.0fx %8.0fx %8.0fx %8.0fx %11.1fx\n", name, r->arm / t->arm,
	       r->rearm / t->rearm, r->cancel / t->cancel, r->expire / t->expire,
	       r->bytes / t->bytes);
}

static int
timer_run(void)
{
	uint32_t n = (uint32_t)opt.pending, k = n / 4;
	uint32_t *perm = malloc((size_t)n * sizeof(*perm));
	uint32_t *seq = malloc((size_t)n * sizeof(*seq));
	uint32_t *dl = malloc((size_t)n * sizeof(*dl));
	uint32_t *dl2 = malloc((size_t)k * sizeof(*dl2));
	struct result tws = { 0 }, twsr = { 0 }, twsb = { 0 }, twsrb = { 0 }, fix = { 0 };
	struct result rte = { 0 }, rter = { 0 };
	bool have_rte = !opt.no_rte;
	uint64_t s = opt.seed;
	int rc = 1;

	if (perm == NULL || seq == NULL || dl == NULL || dl2 == NULL) {
		fprintf(stderr, "tws-bench: out of memory for %u timers\n", n);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		seq[i] = i;
		dl[i] = 1 + (uint32_t)(bench_rand(&s) % opt.spread);
	}
	bench_permutation(perm, n, &s);
	for (uint32_t j = 0; j < k; j++)
		dl2[j] = 1 + (uint32_t)(bench_rand(&s) % opt.spread);

	if (!opt.json)
		printf("tws-bench timer: %u pending, deadlines over %" PRIu64 " ticks, %s\n",
		       n, opt.spread, app_cpu_model());
	if (run_tws(n, k, dl, dl2, seq, 0, &tws) != 0 ||
	    run_tws(n, k, dl, dl2, perm, 0, &twsr) != 0 ||
	    run_tws(n, k, dl, dl2, seq, BURST_MAX, &twsb) != 0 ||
	    run_tws(n, k, dl, dl2, perm, BURST_MAX, &twsrb) != 0 ||
	    run_tws_fixed(n, k, perm, &fix) != 0)
		goto out;
	if (have_rte && (run_rte(n, k, dl, dl2, seq, &rte) != 0 ||
			 run_rte(n, k, dl, dl2, perm, &rter) != 0))
		goto out;

	for (int pass = 0; pass < 2; pass++) {
		jf = pass == 0 ? (opt.json ? stdout : NULL) : NULL;
		if (pass == 1 && opt.json_file != NULL) {
			jf = fopen(opt.json_file, "w");
			if (jf == NULL) {
				fprintf(stderr, "tws-bench: cannot write %s: %s\n", opt.json_file,
					strerror(errno));
				goto out;
			}
		}
		if (jf == NULL)
			continue;
		fprintf(jf, "{\n  \"pending\": %u", n);
		json_result("tws", "", &tws, true, true);
		json_result("tws", "_rand", &twsr, true, false);
		json_num("tws_rearm_burst_cyc", twsb.rearm, true);
		json_num("tws_cancel_burst_cyc", twsb.cancel, true);
		json_num("tws_rearm_rand_burst_cyc", twsrb.rearm, true);
		json_num("tws_cancel_rand_burst_cyc", twsrb.cancel, true);
		json_num("tws_fixed_arm_cyc", fix.arm, true);
		json_num("tws_fixed_cancel_rand_cyc", fix.cancel, true);
		json_num("tws_fixed_expire_cyc", fix.expire, true);
		json_num("tws_fixed_bytes_per_timer", fix.bytes, true);
		json_result("rte", "", &rte, have_rte, true);
		json_result("rte", "_rand", &rter, have_rte, false);
		json_ratios("", &tws, &rte, have_rte);
		json_ratios("_rand", &twsr, &rter, have_rte);
		fprintf(jf, ",\n  \"spread_ticks\": %" PRIu64, opt.spread);
		fprintf(jf, ",\n  \"cpu\": \"%s\"", app_cpu_model());
		fprintf(jf, ",\n  \"cores\": %ld", sysconf(_SC_NPROCESSORS_ONLN));
		fprintf(jf, ",\n  \"tsc_hz\": %" PRIu64 "\n}\n", rte_get_tsc_hz());
		if (jf != stdout)
			fclose(jf);
	}
	if (!opt.json) {
		printf("%-30s %9s %9s %9s %9s %12s\n", "TSC cycles per operation", "arm",
		       "re-arm", "cancel", "expire", "bytes/timer");
		table_row("twstack wheel, id order", &tws);
		table_row("twstack wheel, random order", &twsr);
		printf("%-30s %9s %9.1f %9.1f\n", "  same, id order, burst 32", "", twsb.rearm,
		       twsb.cancel);
		printf("%-30s %9s %9.1f %9.1f\n", "  same, random, burst 32", "", twsrb.rearm,
		       twsrb.cancel);
		printf("%-30s %9.1f %9s %9.1f %9.1f %12.1f\n", "twstack fixed queue", fix.arm, "-",
		       fix.cancel, fix.expire, fix.bytes);
		if (have_rte) {
			table_row("rte_timer, id order", &rte);
			table_row("rte_timer, random order", &rter);
			table_ratio("rte_timer / wheel, id order", &tws, &rte);
			table_ratio("rte_timer / wheel, random", &twsr, &rter);
		}
		printf("(TSC at %" PRIu64 " Hz; --json for JSON; docs/benchmarks.md explains)\n",
		       rte_get_tsc_hz());
	}
	rc = 0;
out:
	free(perm);
	free(seq);
	free(dl);
	free(dl2);
	return rc;
}

const struct bench_cmd bench_timer_cmd = {
	.name = "timer",
	.summary = "timer wheel vs rte_timer: arm, re-arm, cancel, expire, bytes per timer",
	.parse = timer_parse,
	.run = timer_run,
	.usage = timer_usage,
};
