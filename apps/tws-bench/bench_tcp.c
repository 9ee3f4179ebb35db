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
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench.h"
#include "tws_tcp.h"

#define REQ_LEN 100
#define RESP_LEN 100
#define BURST 64
#define SERVER_ADDR RTE_BE32(0xc6120002)   /* 198.18.0.2 */
#define CLIENT_BASE 0xc6130000u            /* 198.19.0.0/16: client addresses */
#define SERVER_PORT RTE_BE16(80)

static struct {
	double seconds;
	uint32_t concurrency;
	uint32_t clients;
	bool json;
	bool vs_linux;
	bool sw_csum;
	uint32_t max_tw;
} opt = { .seconds = 5, .concurrency = 256, .clients = 512 };

struct side {
	struct tws_stack *st;
	uint64_t completed;
	uint64_t err_reset, err_refused, err_timeout, err_addr, err_other, err_data;
};

static struct side cli, srv;
static uint32_t next_client;
static uint32_t want_connects;
static uint8_t payload[RESP_LEN];

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
		REQ_LEN, RESP_LEN);
}

static uint32_t
tw_capacity(void)
{
	if (opt.max_tw != 0)
		return opt.max_tw;

	double n = opt.seconds * 1500000.0 + 65536;

	return n > (double)(1u << 30) ? (1u << 30) : (uint32_t)n;
}

static long
tcp_parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "clients", required_argument, NULL, 'a' },
		{ "max-tw", required_argument, NULL, 't' },
		{ "sw-csum", no_argument, NULL, 'w' },
		{ "vs-linux", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': {
			char *end;

			opt.seconds = strtod(optarg, &end);
			if (*end != '\0' || end == optarg || !(opt.seconds >= 0.1) ||
			    opt.seconds > 3600) {
				fprintf(stderr, "tws-bench tcp: --seconds '%s': expected 0.1 to 3600\n",
					optarg);
				return -1;
			}
			break;
		}
		case 'c':
			if (bench_parse_u64("--concurrency", optarg, 1, 1 << 20, &v) != 0)
				return -1;
			opt.concurrency = (uint32_t)v;
			break;
		case 'a':
			if (bench_parse_u64("--clients", optarg, 1, 65535, &v) != 0)
				return -1;
			opt.clients = (uint32_t)v;
			break;
		case 't':
			if (bench_parse_u64("--max-tw", optarg, 1, 1u << 30, &v) != 0)
				return -1;
			opt.max_tw = (uint32_t)v;
			break;
		case 'w': opt.sw_csum = true; break;
		case 'l': opt.vs_linux = true; break;
		case 'j': opt.json = true; break;
		default:
			tcp_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tws-bench tcp: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}

	/* Two tables (TIME_WAIT log ~48 B/entry on the client), mbufs, slack. */
	uint64_t mb = (uint64_t)tw_capacity() * 80 / (1 << 20) +
		      (uint64_t)opt.concurrency * 4 * 2048 / (1 << 20) +
		      (uint64_t)opt.clients * 8 / 1024 + 256;

	return (long)mb;
}

static void
start_connects(void)
{
	struct tws_connect_params p[BURST];
	struct tws_conn *conns[BURST];
	int rc[BURST];

	while (want_connects > 0) {
		unsigned int n = RTE_MIN(want_connects, (uint32_t)BURST);

		for (unsigned int i = 0; i < n; i++) {
			uint32_t a = CLIENT_BASE + 1 + next_client++ % opt.clients;

			p[i] = (struct tws_connect_params){ .laddr = rte_cpu_to_be_32(a),
				.raddr = SERVER_ADDR, .rport = SERVER_PORT };
		}

		unsigned int ok = tws_connect_burst(cli.st, p, conns, rc, n);

		want_connects -= ok;
		for (unsigned int i = 0; i < n; i++) {
			if (rc[i] == -EADDRNOTAVAIL)
				cli.err_addr++;
			else if (rc[i] != 0)
				cli.err_other++;
		}
		if (ok < n)
			return; /* try again next loop */
	}
}

static void
client_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	uint8_t buf[RESP_LEN * 2];
	uintptr_t got = (uintptr_t)ev->udata;

	(void)st;
	(void)arg;
	switch (ev->type) {
	case TWS_EV_CONNECTED:
		if (tws_send(ev->conn, payload, REQ_LEN) != REQ_LEN)
			cli.err_other++;
		break;
	case TWS_EV_DATA: {
		int r = tws_recv(ev->conn, buf, sizeof(buf));

		if (r > 0)
			got += (uintptr_t)r;
		tws_conn_set_udata(ev->conn, (void *)got);
		if (got >= RESP_LEN) {
			if (got != RESP_LEN || memcmp(buf, payload, (size_t)r) != 0)
				cli.err_data++;
			tws_close(ev->conn);
		}
		break;
	}
	case TWS_EV_CLOSED:
		if (got == RESP_LEN)
			cli.completed++;
		else
			cli.err_other++;
		want_connects++;
		break;
	case TWS_EV_RESET:
		cli.err_reset++;
		want_connects++;
		break;
	case TWS_EV_ERROR:
		if (ev->error == ECONNREFUSED)
			cli.err_refused++;
		else
			cli.err_timeout++;
		want_connects++;
		break;
	default:
		break;
	}
}

static void
server_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	uint8_t buf[REQ_LEN * 2];

	(void)st;
	(void)arg;
	switch (ev->type) {
	case TWS_EV_DATA: {
		int r = tws_recv(ev->conn, buf, sizeof(buf));

		if (r == REQ_LEN)
			tws_send(ev->conn, payload, RESP_LEN);
		else
			srv.err_data++;
		break;
	}
	case TWS_EV_PEER_CLOSED:
		tws_close(ev->conn);
		break;
	case TWS_EV_CLOSED:
		srv.completed++;
		break;
	case TWS_EV_RESET:
		srv.err_reset++;
		break;
	case TWS_EV_ERROR:
		srv.err_timeout++;
		break;
	default:
		break;
	}
}

static struct tws_stack *
make_stack(const char *name, struct rte_mempool *mp, tws_event_cb cb, uint32_t max_conns,
	   uint32_t max_tw, uint32_t dests, uint64_t now_us)
{
	struct tws_stack_params p = {
		.name = name, .socket_id = (int)rte_socket_id(), .max_conns = max_conns, .mp = mp,
		.start_us = now_us, .event_cb = cb, .tx_csum_offload = !opt.sw_csum,
		.tx_queue_size = 1u << 16, .max_dests = dests,
	};

	tws_tcp_knobs_default(&p.knobs);
	p.knobs.max_tw = max_tw;

	struct tws_stack *st = tws_stack_create(&p);

	if (st == NULL)
		fprintf(stderr, "tws-bench tcp: cannot create stack %s: %s\n", name,
			rte_strerror(rte_errno));
	return st;
}

/* Hand packets from one stack to the other, as a NIC with checksum offload would. */
static uint64_t
wire(struct tws_stack *from, struct tws_stack *to, uint64_t now_us)
{
	struct rte_mbuf *pkts[BURST], *rej[BURST];
	int32_t reason[BURST];
	uint64_t moved = 0;
	uint16_t n;

	while ((n = tws_stack_tx_burst(from, pkts, BURST)) > 0) {
		if (!opt.sw_csum)
			for (uint16_t i = 0; i < n; i++)
				pkts[i]->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD |
						    RTE_MBUF_F_RX_L4_CKSUM_GOOD;

		uint16_t acc = tws_stack_rx_burst(to, pkts, rej, reason, n, now_us);

		if (acc < n)
			rte_pktmbuf_free_bulk(rej, (unsigned int)(n - acc));
		moved += n;
	}
	return moved;
}

static int
tcp_run(void)
{
	uint64_t hz = rte_get_tsc_hz();
	uint32_t max_conns = opt.concurrency * 2 + 1024;
	unsigned int nb_mbufs = (opt.concurrency * 8 + 65536) | 1;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench_tcp", nb_mbufs, 512, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());

	if (mp == NULL) {
		fprintf(stderr, "tws-bench tcp: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (unsigned int i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)('a' + i % 26);

	uint64_t base_us = 1000000;

	cli.st = make_stack("bench_cli", mp, client_event, max_conns, tw_capacity(),
			    opt.clients + 16, base_us);
	srv.st = make_stack("bench_srv", mp, server_event, max_conns, 65536, 16, base_us);
	if (cli.st == NULL || srv.st == NULL)
		return 1;
	if (tws_listen(srv.st, SERVER_ADDR, SERVER_PORT, NULL) != 0)
		return 1;

	uint64_t t0 = rte_rdtsc();
	uint64_t end = t0 + (uint64_t)(opt.seconds * (double)hz);
	uint64_t tw_peak = 0, segs = 0, last_ms = 0, iters = 0;
	uint64_t now_us = base_us, t;

	want_connects = opt.concurrency;
	while ((t = rte_rdtsc()) < end) {
		now_us = base_us + (t - t0) * 1000000 / hz;
		start_connects();
		segs += wire(cli.st, srv.st, now_us);
		segs += wire(srv.st, cli.st, now_us);
		if (now_us / 1000 != last_ms) {
			struct tws_stack_stats s;

			last_ms = now_us / 1000;
			tws_stack_poll(cli.st, now_us);
			tws_stack_poll(srv.st, now_us);
			tws_stack_stats_get(cli.st, &s);
			if (s.tw_entries > tw_peak)
				tw_peak = s.tw_entries;
		}
		iters++;
	}

	uint64_t cycles = rte_rdtsc() - t0;
	double secs = (double)cycles / (double)hz;
	struct tws_stack_stats cs, ss;

	tws_stack_stats_get(cli.st, &cs);
	tws_stack_stats_get(srv.st, &ss);
	if (cs.tw_entries > tw_peak)
		tw_peak = cs.tw_entries;

	double cps = (double)cli.completed / secs;
	uint64_t errors = cli.err_reset + cli.err_refused + cli.err_timeout + cli.err_addr +
			  cli.err_other + cli.err_data + srv.err_data + srv.err_reset;
	struct bench_linux_result lr;
	int lrc = -1;

	if (opt.vs_linux) {
		memset(&lr, 0, sizeof(lr));
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
		       cli.completed, secs, cps);
		printf("  %.0f cycles per connection (both ends), %.2f segments per connection\n",
		       bench_per_op(cycles, cli.completed),
		       cli.completed ? (double)segs / (double)cli.completed : 0.0);
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
		       PRIu64 ", ", cli.completed, cps, tw_peak);
		printf("\"errors\": {\"total\": %" PRIu64 ", \"reset\": %" PRIu64
		       ", \"refused\": %" PRIu64 ", \"timeout\": %" PRIu64 ", \"addr_not_avail\": %"
		       PRIu64 ", \"data\": %" PRIu64 ", \"other\": %" PRIu64 "}, ",
		       errors, cli.err_reset + srv.err_reset, cli.err_refused,
		       cli.err_timeout, cli.err_addr, cli.err_data + srv.err_data, cli.err_other);
		printf("\"cycles_per_conn\": %.0f, \"segments_per_conn\": %.2f, "
		       "\"retransmits\": %" PRIu64 ", \"tw_overflow\": %" PRIu64 ", ",
		       bench_per_op(cycles, cli.completed),
		       cli.completed ? (double)segs / (double)cli.completed : 0.0,
		       cs.retransmits + ss.retransmits, cs.tw_overflow);
		if (opt.vs_linux && lrc == 0)
			printf("\"linux_cps\": %.0f, \"linux_connections\": %" PRIu64
			       ", \"linux_errors\": %" PRIu64 ", \"linux_netns\": %s, "
			       "\"linux_cpu_s\": %.2f, \"linux_tw_peak\": %" PRIu64 ", "
			       "\"ratio\": %.2f, \"ratio_per_cpu\": %.2f, ",
			       lr.cps, lr.connections, lr.errors, lr.netns ? "true" : "false",
			       linux_cpu, lr.tw_peak, lr.cps > 0 ? cps / lr.cps : 0.0,
			       linux_per_cpu > 0 ? cps / linux_per_cpu : 0.0);
		printf("\"cpu\": \"%s\", \"tsc_hz\": %" PRIu64 "}\n", bench_cpu_model(), hz);
	}
	(void)iters;
	tws_stack_free(cli.st);
	tws_stack_free(srv.st);
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
