/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-memcost: what TIME_WAIT costs in memory, in twstack and in the Linux
 * kernel, measured the same way on both sides: N real connections opened
 * and closed (the client first), then the memory that grew divided by the
 * entries left behind. docs/time-wait.md ("Memory") explains the method.
 *
 * twstack: two stacks on one lcore pass mbufs in memory (the churn of
 * `tws-bench tcp`); the client stack has max_tw = N. Its cost per entry is
 * (what the stack with max_tw = N took, filled) - (what the same stack with
 * max_tw = 1 took), over N, in DPDK heap bytes and in process RSS.
 *
 * Linux: linux_tw.c, in a forked child with a network namespace of its own.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "app_churn.h"
#include "app_linux.h"
#include "app_util.h"
#include "memcost.h"

#define MC_CONCURRENCY 256
#define MC_ENTRIES_MIN 1000
#define MC_ENTRIES_MAX 100000000
#define MC_LINUX_MAX 2000000
/* Connections of the warm-up: the client sends 4 segments each, so its 64K ring wraps. */
#define MC_WARMUP (MC_CONCURRENCY * 128)
/* Bytes of DPDK memory per entry asked of the EAL: ~47 used, the rest is margin. */
#define MC_MEM_PER_ENTRY 64

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: " MC_PROG " [options]\n"
		"\n"
		"Measures what a TIME_WAIT entry costs in memory, in twstack and in the Linux\n"
		"kernel: real connections opened and closed (client first), then the memory\n"
		"that grew divided by the entries they left. Prints a table and a projection.\n"
		"\n"
		"Options:\n"
		"  --entries N        twstack TIME_WAIT entries (default 1M; %d..%d;\n"
		"                     k/M/G suffixes)\n"
		"  --linux-entries L  at most this many kernel TIME_WAIT sockets (default 200k;\n"
		"                     %d..%d): the kernel side makes min(N, L), since its\n"
		"                     fill must end within one TIME_WAIT (60 s)\n"
		"  --no-linux         skip the kernel side\n"
		"  --layout K         clients: N/28232+1 client addresses, one server (default);\n"
		"                     servers: one client address, N/28232+1 servers\n"
		"  --rate R           projection: connections per second (default 1M; 1..1G)\n"
		"  --tw-seconds T     projection: TIME_WAIT length (default 60; 1..3600)\n"
		"  --json FILE        write the results as one JSON object to FILE\n"
		"  --plot FILE.png    plot memory against entries for both (needs gnuplot)\n"
		"  --help             this text\n"
		"\n"
		"The kernel side needs root (/proc/slabinfo, a network namespace of its own);\n"
		"otherwise it is skipped and said so, and its JSON fields are null. It runs\n"
		"on loopback inside that namespace only and writes no host sysctl.\n"
		"\n"
		"JSON: entries, tws_bytes_per_tw, linux_bytes_per_tw, linux_entries, ratio,\n"
		"projection {...}, and the parts of each figure (docs/configuration.md).\n",
		MC_ENTRIES_MIN, MC_ENTRIES_MAX, MC_ENTRIES_MIN, MC_LINUX_MAX);
}

/* Parse the options; 0, or -1 after a message naming the option. */
static int
parse(int argc, char **argv, struct mc_options *o)
{
	static const struct option lo[] = {
		{ "entries", required_argument, NULL, 'n' },
		{ "linux-entries", required_argument, NULL, 'L' },
		{ "no-linux", no_argument, NULL, 'N' },
		{ "layout", required_argument, NULL, 'y' },
		{ "rate", required_argument, NULL, 'r' },
		{ "tw-seconds", required_argument, NULL, 't' },
		{ "json", required_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct mc_options){ .entries = 1000000, .linux_entries = 200000,
				  .rate = 1000000, .tw_seconds = 60 };
	opterr = 0;
	optind = 1;
	/* A leading ':' in the option string: a missing value returns ':', not '?'. */
	while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (app_parse_u64(MC_PROG, "--entries", optarg, MC_ENTRIES_MIN,
					  MC_ENTRIES_MAX, &o->entries) != 0)
				return -1;
			break;
		case 'L':
			if (app_parse_u64(MC_PROG, "--linux-entries", optarg, MC_ENTRIES_MIN,
					  MC_LINUX_MAX, &o->linux_entries) != 0)
				return -1;
			break;
		case 'N':
			o->no_linux = true;
			break;
		case 'y':
			if (strcmp(optarg, "clients") == 0) {
				o->layout = MC_LAYOUT_CLIENTS;
			} else if (strcmp(optarg, "servers") == 0) {
				o->layout = MC_LAYOUT_SERVERS;
			} else {
				fprintf(stderr, MC_PROG ": --layout '%s': expected clients "
					"or servers\n", optarg);
				return -1;
			}
			break;
		case 'r':
			if (app_parse_u64(MC_PROG, "--rate", optarg, 1, 1000000000, &o->rate) != 0)
				return -1;
			break;
		case 't':
			if (app_parse_u64(MC_PROG, "--tw-seconds", optarg, 1, 3600,
					  &o->tw_seconds) != 0)
				return -1;
			break;
		case 'j':
			o->json_path = optarg;
			break;
		case 'p':
			o->plot_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, MC_PROG ": option '%s' needs a value (see " MC_PROG
				" --help)\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, MC_PROG ": unknown option '%s' (see " MC_PROG " --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, MC_PROG ": unexpected argument '%s' (see " MC_PROG " --help)\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/* Can @p path be written? Checked before minutes of measuring, not after. */
static int
check_writable(const char *opt, const char *path)
{
	FILE *f = fopen(path, "a");

	if (f == NULL) {
		fprintf(stderr, MC_PROG ": %s '%s': cannot write: %s\n", opt, path,
			strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

struct mem_mark {
	uint64_t heap, rss;
};

static struct mem_mark
mark(void)
{
	return (struct mem_mark){ app_dpdk_heap_used(), app_rss_bytes() };
}

/*
 * Run the churn until @p n more connections are over. Time is injected: the
 * clock advances 1 µs per pass, so however long the fill takes in real time
 * it spans far less than one TIME_WAIT and no entry expires during it.
 * 0, or -1 when it stopped making progress or ran past its time cap.
 */
static int
churn_run(struct app_churn *ch, uint64_t n, uint64_t *now_us, struct mc_progress *prog)
{
	uint64_t target = ch->finished + n, start = ch->finished;
	uint64_t t0 = app_now_ns(), cap_ns = (60 + n / 50000) * 1000000000ull;
	uint64_t passes = 0, last = ch->finished, idle = 0;

	ch->limit = ch->opened + n;
	while (ch->finished < target) {
		app_churn_step(ch, ++*now_us);
		if ((++passes & 1023) != 0)
			continue;
		app_churn_poll(ch, *now_us);
		if (prog != NULL)
			mc_progress_update(prog, ch->finished - start);
		idle = ch->finished == last ? idle + 1 : 0;
		last = ch->finished;
		if (idle > 1000 || app_now_ns() - t0 > cap_ns)
			return -1;
	}
	/* The last ACKs still queued: delivered, so the server holds no connection. */
	return app_churn_drain(ch, *now_us);
}

static int
measure_tws(const struct mc_options *o, struct mc_tws *t)
{
	uint64_t n = o->entries, now_us = 1000000;
	uint32_t addrs = (uint32_t)(n / APP_CHURN_PORTS_PER_ADDR + 1);
	bool many_clients = o->layout == MC_LAYOUT_CLIENTS;
	struct tws_tcp_knobs knobs;
	struct app_churn ch;
	struct mc_progress prog;
	struct tws_stack *ref, *big = NULL;
	struct tws_table_stats ts_ref, ts_big;
	struct tws_stack_stats ss;
	struct mem_mark m0, m1, m2, m3;
	int rc = 1;

	memset(t, 0, sizeof(*t));
	t->addresses = addrs;

	unsigned int nb_mbufs = (MC_CONCURRENCY * 16 + 16384) | 1;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("memcost", nb_mbufs, 512, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());

	if (mp == NULL) {
		fprintf(stderr, MC_PROG ": mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* No reuse: every connection must leave its own entry (tuples never run short). */
	tws_tcp_knobs_default(&knobs);
	knobs.tw_reuse = 0;
	if (app_churn_init(&ch, &(struct app_churn_params){ .prog = MC_PROG, .mp = mp,
			   .concurrency = MC_CONCURRENCY, .clients = many_clients ? addrs : 1,
			   .servers = many_clients ? 1 : addrs, .max_tw = 1, .knobs = &knobs,
			   .start_us = now_us }) != 0)
		goto out_pool;

	/*
	 * Warm up: the server's blocks, the mbufs and the code paths are touched
	 * once, so that what the RSS grows by below is the client stacks only.
	 */
	if (churn_run(&ch, MC_WARMUP, &now_us, NULL) != 0) {
		fprintf(stderr, MC_PROG ": the warm-up connections did not complete\n");
		goto out_churn;
	}

	uint32_t dests = addrs + 16;

	/*
	 * The reference: the same client stack with room for one entry, used for
	 * as many connections as the warm-up, so that the pages use touches
	 * (transmit ring, timer arrays, port bitmaps) count in it as they will
	 * in the big stack, and only the TIME_WAIT capacity differs.
	 */
	struct tws_stack *warm = ch.cli;

	m0 = mark();
	ref = app_churn_client_create(&ch, "mc_ref", 1, dests);
	if (ref == NULL)
		goto out_churn;
	ch.cli = ref;
	rc = churn_run(&ch, MC_WARMUP, &now_us, NULL);
	ch.cli = warm;
	if (rc != 0) {
		fprintf(stderr, MC_PROG ": the reference stack's connections did not complete\n");
		rc = 1;
		goto out_stacks;
	}
	m1 = mark();
	/* The warm-up and reference stacks stay: freed, their faulted pages would go to it. */
	big = app_churn_client_create(&ch, "mc_tw", (uint32_t)n, dests);
	m2 = mark();
	if (big == NULL) {
		rc = 1;
		goto out_stacks;
	}

	ch.cli = big;
	mc_progress_start(&prog, "twstack", n);
	uint64_t t0 = app_now_ns(), opened0 = ch.opened, finished0 = ch.finished;

	rc = churn_run(&ch, n, &now_us, &prog);
	mc_progress_end(&prog, ch.finished - finished0);
	t->fill_s = (double)(app_now_ns() - t0) / 1e9;
	t->fill_connections = ch.opened - opened0;
	m3 = mark();
	ch.cli = warm;

	tws_stack_stats_get(big, &ss);
	tws_table_stats_get(tws_stack_table(ref), &ts_ref);
	tws_table_stats_get(tws_stack_table(big), &ts_big);
	t->entries = ss.tw_entries;
	t->tw_overflow = ss.tw_overflow;
	t->errors = app_churn_errors(&ch);
	t->rss_before = m1.rss;
	t->rss_created = m2.rss;
	t->rss_filled = m3.rss;
	t->ref_heap = (int64_t)(m1.heap - m0.heap);
	t->ref_rss = (int64_t)(m1.rss - m0.rss);
	t->heap_bytes = (int64_t)(m3.heap - m1.heap) - t->ref_heap;
	t->rss_bytes = (int64_t)(m3.rss - m1.rss) - t->ref_rss;
	t->heap_per_tw = (double)t->heap_bytes / (double)n;
	t->rss_per_tw = (double)t->rss_bytes / (double)n;
	t->log_per_tw = (double)(ts_big.tw_log_bytes - ts_ref.tw_log_bytes) / (double)n;
	t->index_per_tw = (double)(ts_big.index_bytes - ts_ref.index_bytes) / (double)n;
	t->table_per_tw = (double)(ts_big.memory_bytes - ts_ref.memory_bytes) / (double)n;

	if (rc != 0 || t->entries != n || t->errors != 0) {
		fprintf(stderr, MC_PROG ": the fill made %" PRIu64 " TIME_WAIT entries of %" PRIu64
			" (connections %" PRIu64 ", errors %" PRIu64 ", tw_overflow %" PRIu64
			")%s\n",
			t->entries, n, t->fill_connections, t->errors, t->tw_overflow,
			rc != 0 ? "; it stopped making progress" : "");
		rc = 3;
	}
out_stacks:
	tws_stack_free(big);
	tws_stack_free(ref);
out_churn:
	app_churn_free(&ch);
out_pool:
	rte_mempool_free(mp);
	return rc;
}

int
main(int argc, char **argv)
{
	struct mc_options o;
	struct mc_result r;
	FILE *jf = NULL;
	int rc;

	if (parse(argc, argv, &o) != 0)
		return 2;
	if ((o.json_path != NULL && check_writable("--json", o.json_path) != 0) ||
	    (o.plot_path != NULL && check_writable("--plot", o.plot_path) != 0))
		return 2;

	memset(&r, 0, sizeof(r));
	r.host_max_tw_buckets = app_read_u64_file("/proc/sys/net/ipv4/tcp_max_tw_buckets");

	/* The kernel first: the child forks before the EAL maps gigabytes into this process. */
	mc_linux_measure(&o, &r.lx);

	long mem_mb = (long)(o.entries * MC_MEM_PER_ENTRY >> 20) + 384;

	if (app_eal_start(MC_PROG, argv[0], NULL, 0, mem_mb) != 0)
		return 1;
	rc = measure_tws(&o, &r.tws);
	app_eal_stop();
	if (rc != 0 && rc != 3)
		return rc;

	r.tws_per_tw = r.tws.heap_per_tw > r.tws.rss_per_tw ? r.tws.heap_per_tw : r.tws.rss_per_tw;
	r.linux_per_tw = -1;
	r.linux_sunreclaim_per_tw = -1;
	r.ratio = -1;
	if (r.lx.measured && r.lx.entries > 0) {
		r.linux_per_tw = (double)(r.lx.tw_sock_bytes + r.lx.bind_bytes) /
				 (double)r.lx.entries;
		r.linux_sunreclaim_per_tw = (double)r.lx.sunreclaim_bytes / (double)r.lx.entries;
		if (r.tws_per_tw > 0)
			r.ratio = r.linux_per_tw / r.tws_per_tw;
	}

	mc_report_text(stdout, &o, &r);
	if (o.json_path != NULL) {
		jf = fopen(o.json_path, "w");
		if (jf == NULL) {
			fprintf(stderr, MC_PROG ": --json '%s': %s\n", o.json_path,
				strerror(errno));
			return 1;
		}
		mc_report_json(jf, &o, &r);
		if (fclose(jf) != 0) {
			fprintf(stderr, MC_PROG ": --json '%s': %s\n", o.json_path,
				strerror(errno));
			return 1;
		}
	}
	/* A plot that cannot be made is reported; the measurement stands. */
	if (o.plot_path != NULL)
		mc_plot(&o, &r);
	return rc;
}
