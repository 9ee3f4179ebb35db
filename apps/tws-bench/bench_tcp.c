/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench tcp: connection churn through two stack instances on one lcore,
 * exchanging mbufs in memory (no ports). Each connection: handshake,
 * 100-byte request, 100-byte response, client closes first, so every
 * connection leaves a TIME_WAIT entry on the client. With --vs-linux the
 * same pattern runs through the Linux kernel over loopback for the same
 * time, and the JSON gets the ratio.
 *
 * Checksums: by default the stacks leave them to the "NIC" (offload flags
 * on transmit) and the wire marks received packets checksum-good, as a NIC
 * with offload does; --sw-csum computes and verifies them in software.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "app_churn.h"
#include "bench.h"

static struct {
	double seconds;
	uint32_t concurrency;
	uint32_t clients;
	bool json;
	bool vs_linux;
	bool sw_csum;
	uint32_t max_tw;
} opt = { .seconds = 5, .concurrency = 256, .clients = 512 };

static void
tcp_usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench tcp [options]\n"
		"\n"
		"Connection churn between two twstack instances on one lcore (mbufs passed in\n"
		"memory, no ports): handshake, %d-byte request, %d-byte response, client closes\n"
		"first (a TIME_WAIT entry per connection on the client).\n"
		"\n"
		"Options:\n"
		"  --seconds S       run time (default 5; 0.1..3600)\n"
		"  --concurrency N   connections in flight (default 256)\n"
		"  --clients N       client addresses in 198.19.0.0/16 (default 512): each\n"
		"                    gives 28232 ports, so tuples never run out\n"
		"  --max-tw N        TIME_WAIT capacity (default: what the run needs, 1.5M/s)\n"
		"  --sw-csum         checksums in software (default: offloaded, as on a NIC)\n"
		"  --vs-linux        also run the pattern through the Linux kernel over\n"
		"                    loopback for the same time; adds linux_cps and ratio\n"
		"  --json            print one JSON object only\n"
		"\n"
		"JSON: tws_cps, connections, tw_entries_peak, errors, cycles_per_conn,\n"
		"segments_per_conn, cpu, tsc_hz (and linux_cps, ratio with --vs-linux).\n",
		APP_CHURN_REQ_LEN, APP_CHURN_RESP_LEN);
}

static uint32_t
tw_capacity(void)
{
	return opt.max_tw != 0 ? opt.max_tw : bench_churn_tw_capacity(opt.seconds);
}

static long
tcp_parse(int argc, char **argv)
{
	const struct bench_opt opts[] = {
		{ "seconds", BENCH_OPT_SECONDS, &opt.seconds, 0, 0 },
		{ "concurrency", BENCH_OPT_U32, &opt.concurrency, 1, 1 << 20 },
		{ "clients", BENCH_OPT_U32, &opt.clients, 1, 65535 },
		{ "max-tw", BENCH_OPT_U32, &opt.max_tw, 1, 1u << 30 },
		{ "sw-csum", BENCH_OPT_FLAG, &opt.sw_csum, 0, 0 },
		{ "vs-linux", BENCH_OPT_FLAG, &opt.vs_linux, 0, 0 },
		{ "json", BENCH_OPT_FLAG, &opt.json, 0, 0 },
	};

	if (bench_opts_parse("tcp", opts, RTE_DIM(opts), argc, argv) != 0)
		return -1;

	/* Two tables (TIME_WAIT log ~48 B/entry on the client), mbufs, slack. */
	uint64_t mb = (uint64_t)tw_capacity() * 80 / (1 << 20) +
		      (uint64_t)opt.concurrency * 4 * 2048 / (1 << 20) +
		      (uint64_t)opt.clients * 8 / 1024 + 256;

	return (long)mb;
}

static int
tcp_run(void)
{
	uint64_t hz = rte_get_tsc_hz();
	unsigned int nb_mbufs = (opt.concurrency * 8 + 65536) | 1;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench_tcp", nb_mbufs, 512, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());
	struct app_churn ch;

	if (mp == NULL) {
		fprintf(stderr, "tws-bench tcp: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}

	uint64_t base_us = 1000000;

	if (app_churn_init(&ch, &(struct app_churn_params){ .prog = "tws-bench tcp", .mp = mp,
			   .concurrency = opt.concurrency, .clients = opt.clients,
			   .max_tw = tw_capacity(), .sw_csum = opt.sw_csum,
			   .start_us = base_us }) != 0) {
		rte_mempool_free(mp);
		return 1;
	}

	uint64_t t0 = rte_rdtsc();
	uint64_t end = t0 + (uint64_t)(opt.seconds * (double)hz);
	uint64_t tw_peak = 0, last_ms = 0;
	uint64_t now_us = base_us, t;

	while ((t = rte_rdtsc()) < end) {
		now_us = base_us + (t - t0) * 1000000 / hz;
		app_churn_step(&ch, now_us);
		if (now_us / 1000 != last_ms) {
			struct tws_stack_stats s;

			last_ms = now_us / 1000;
			app_churn_poll(&ch, now_us);
			tws_stack_stats_get(ch.cli, &s);
			if (s.tw_entries > tw_peak)
				tw_peak = s.tw_entries;
		}
	}

	uint64_t cycles = rte_rdtsc() - t0;
	double secs = (double)cycles / (double)hz;
	struct tws_stack_stats cs, ss;

	tws_stack_stats_get(ch.cli, &cs);
	tws_stack_stats_get(ch.srv, &ss);
	if (cs.tw_entries > tw_peak)
		tw_peak = cs.tw_entries;

	double cps = (double)ch.completed / secs;
	uint64_t errors = app_churn_errors(&ch), segs = ch.segs;
	const struct app_churn_errors *ce = &ch.cli_err, *se = &ch.srv_err;
	struct bench_linux_result lr = { 0 };
	int lrc = -1;

	if (opt.vs_linux) {
		lrc = bench_linux_churn(opt.seconds, 0, &lr);
		if (lrc != 0)
			fprintf(stderr, "tws-bench tcp: the Linux run failed: %s\n", strerror(-lrc));
	}

	/*
	 * The kernel's run uses two CPUs (client and server threads, pinned
	 * apart); twstack one lcore. ratio compares connections per second,
	 * ratio_per_cpu connections per CPU-second.
	 */
	double linux_cpu = lrc == 0 ? lr.cpu_user_s + lr.cpu_sys_s : 0.0;
	double linux_per_cpu = linux_cpu > 0 ? (double)lr.connections / linux_cpu : 0.0;

	if (!opt.json) {
		printf("twstack: %" PRIu64 " connections in %.2f s = %.0f connections/s on one lcore\n",
		       ch.completed, secs, cps);
		printf("  %.0f cycles per connection (both ends), %.2f segments per connection\n",
		       bench_per_op(cycles, ch.completed),
		       ch.completed ? (double)segs / (double)ch.completed : 0.0);
		printf("  TIME_WAIT entries on the client: peak %" PRIu64 "\n", tw_peak);
		printf("  errors: %" PRIu64 "\n", errors);
		if (lrc == 0)
			printf("Linux kernel over loopback: %" PRIu64 " connections in %.2f s = %.0f/s "
			       "using %.2f CPU-s; ratio %.1f (%.1f per CPU)%s%s\n",
			       lr.connections, lr.seconds, lr.cps, linux_cpu,
			       lr.cps > 0 ? cps / lr.cps : 0,
			       linux_per_cpu > 0 ? cps / linux_per_cpu : 0,
			       lr.note[0] ? "\n  note: " : "", lr.note);
		printf("(--json for the machine-readable form)\n");
	} else {
		printf("{\"bench\": \"tcp\", \"seconds\": %.3f, \"concurrency\": %u, \"clients\": %u, "
		       "\"csum\": \"%s\", ",
		       secs, opt.concurrency, opt.clients, opt.sw_csum ? "software" : "offload");
		printf("\"connections\": %" PRIu64 ", \"tws_cps\": %.0f, \"tw_entries_peak\": %"
		       PRIu64 ", ", ch.completed, cps, tw_peak);
		printf("\"errors\": {\"total\": %" PRIu64 ", \"reset\": %" PRIu64
		       ", \"refused\": %" PRIu64 ", \"timeout\": %" PRIu64 ", \"addr_not_avail\": %"
		       PRIu64 ", \"data\": %" PRIu64 ", \"other\": %" PRIu64 "}, ",
		       errors, ce->reset + se->reset, ce->refused,
		       ce->timeout, ce->addr, ce->data + se->data, ce->other);
		printf("\"cycles_per_conn\": %.0f, \"segments_per_conn\": %.2f, "
		       "\"retransmits\": %" PRIu64 ", \"tw_overflow\": %" PRIu64 ", ",
		       bench_per_op(cycles, ch.completed),
		       ch.completed ? (double)segs / (double)ch.completed : 0.0,
		       cs.retransmits + ss.retransmits, cs.tw_overflow);
		if (opt.vs_linux && lrc == 0)
			printf("\"linux_cps\": %.0f, \"linux_connections\": %" PRIu64
			       ", \"linux_errors\": %" PRIu64 ", \"linux_netns\": %s, "
			       "\"linux_cpu_s\": %.2f, \"linux_tw_peak\": %" PRIu64 ", "
			       "\"ratio\": %.2f, \"ratio_per_cpu\": %.2f, ",
			       lr.cps, lr.connections, lr.errors, lr.netns ? "true" : "false",
			       linux_cpu, lr.tw_peak, lr.cps > 0 ? cps / lr.cps : 0.0,
			       linux_per_cpu > 0 ? cps / linux_per_cpu : 0.0);
		printf("\"cpu\": \"%s\", \"tsc_hz\": %" PRIu64 "}\n", app_cpu_model(), hz);
	}
	app_churn_free(&ch);
	rte_mempool_free(mp);
	return errors == 0 ? 0 : 3;
}

const struct bench_cmd bench_tcp_cmd = {
	.name = "tcp",
	.summary = "connection churn between two stacks in memory (connections/s)",
	.parse = tcp_parse,
	.run = tcp_run,
	.usage = tcp_usage,
};
