/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench flood: legitimate connections during a SYN flood (RFC 4987).
 * Two stacks on one lcore joined in memory as in `tws-bench tcp`: clients
 * on A churn connections against server B (handshake, 100-byte request,
 * 100-byte response, close) as fast as they can, while spoofed SYNs from
 * 198.18.128.0/17 (random address, port and ISN, the options of a Linux
 * client) are handed to B at a set multiple of B's accept rate. Nothing
 * answers for those addresses: the bench's wire discards B's SYN-ACKs to
 * them, so every SYN that B queues stays in SYN_RCVD for the whole phase.
 *
 * Phases, each on new stacks: no flood (its connections/s is the accept
 * rate R), a flood at 3 R and at 10 R with syncookies=full, and at 3 R with
 * syncookies=off: the reference that shows what the cookies buy.
 *
 * Building the spoofed SYNs runs on the same lcore: the JSON says what
 * share of the time it took (gen_cpu_share), time a real server does not
 * spend. Spoofed SYNs are marked checksum-good as a NIC with offload marks
 * them, like every segment on this wire.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "app_churn.h"
#include "app_json.h"
#include "bench.h"

#define BURST 64
#define BASE_US UINT64_C(1000000)
/* Spoofed sources: 198.18.128.0/17, apart from A's clients (198.19/16) and B (198.18.0.2). */
#define SPOOF_BASE 0xc6128000u
#define SPOOF_MASK 0x7fffu
/*
 * Spoofed SYNs waiting for B at most, as on an RX ring of the runtime's
 * default 1024 descriptors: those due beyond it are lost (syns_missed), as
 * a NIC drops what arrives at a full ring. Each pass of the loop hands B
 * what waits, then the clients get their turn.
 */
#define SPOOF_RING 1024u

static struct {
	double seconds;
	uint32_t concurrency;
	uint32_t clients;
	uint32_t syn_backlog;
	bool json;
	const char *json_file;
} opt = { .seconds = 2, .concurrency = 256, .clients = 512, .syn_backlog = 4096 };

/* One phase of the run: the flood's rate in units of the accept rate, and the knob. */
struct phase {
	const char *name;          /* JSON key */
	const char *ratio_key;     /* its legit_cps over the no-flood phase's; NULL: that phase */
	double multiple;
	uint32_t syncookies;
};

static const struct phase phases[] = {
	{ "no_flood", NULL, 0, TWS_SYNCOOKIES_ON_FULL },
	{ "flood_3x", "legit_cps_ratio_3x", 3, TWS_SYNCOOKIES_ON_FULL },
	{ "flood_10x", "legit_cps_ratio_10x", 10, TWS_SYNCOOKIES_ON_FULL },
	{ "flood_3x_nocookies", "legit_cps_ratio_3x_nocookies", 3, TWS_SYNCOOKIES_OFF },
};

#define NB_PHASES (sizeof(phases) / sizeof(phases[0]))

struct result {
	double secs;
	double rate_target;        /* spoofed SYNs per second asked for */
	uint64_t started, completed, failed, in_flight;
	uint64_t syns;             /* spoofed SYNs handed to B */
	uint64_t syns_missed;      /* due while SPOOF_RING waited: lost at the "NIC" */
	uint64_t syns_no_mbuf;     /* not made: pool empty */
	uint64_t discarded;        /* B's segments to spoofed addresses, dropped by the wire */
	uint64_t gen_cycles, cycles;
	uint64_t conns_peak, syn_rcvd_peak;
	struct tws_stack_stats ss; /* B at the end */
};

/* The flood's side of the wire. */
struct flood {
	struct rte_mempool *mp;
	struct tws_stack *srv, *cli;
	uint64_t rng;
	struct result *r;
};

static void
flood_usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench flood [options]\n"
		"\n"
		"SYN flood against a server stack while clients churn connections against it,\n"
		"two twstack instances on one lcore (mbufs passed in memory, no ports). Each\n"
		"connection: handshake, %d-byte request, %d-byte response, client closes first.\n"
		"Spoofed SYNs come from 198.18.128.0/17 (random address, port, ISN); their\n"
		"SYN-ACKs are discarded, as nobody answers for those addresses. Phases, each\n"
		"--seconds long on new stacks:\n"
		"  no_flood            the clients alone: their connections/s is the accept rate R\n"
		"  flood_3x            plus 3 R spoofed SYNs/s, syncookies=full\n"
		"  flood_10x           plus 10 R spoofed SYNs/s, syncookies=full\n"
		"  flood_3x_nocookies  plus 3 R spoofed SYNs/s, syncookies=off (the reference)\n"
		"\n"
		"Options:\n"
		"  --seconds S       length of each phase (default 2; 0.1..3600)\n"
		"  --concurrency N   client connections in flight (default 256)\n"
		"  --clients N       client addresses in 198.19.0.0/16 (default 512)\n"
		"  --syn-backlog N   the server's syn_backlog knob (default 4096, the knob's\n"
		"                    default); the flood fills it within milliseconds\n"
		"  --json            print one JSON object only\n"
		"  --json-file F     also write the JSON object to file F\n"
		"  --help            this text\n"
		"\n"
		"JSON: accept_rate_cps, legit_cps_ratio_{3x,10x,3x_nocookies} and per phase\n"
		"(phases.<name>): legit_cps, legit_{started,completed,failed,in_flight},\n"
		"flood_rate_target, flood_rate (SYNs/s the server took), flood_multiple_reached,\n"
		"syns_injected, syns_missed (due while 1024 waited, as at a full RX ring),\n"
		"synacks_discarded, syn_queue_full, syn_queue_dropped,\n"
		"syncookies_{sent,recv,failed}, conn_table_full, srv_conns_{peak,end},\n"
		"srv_syn_rcvd_{peak,end}, srv_memory_bytes, gen_cpu_share; cpu, cores, tsc_hz.\n"
		"Exit status 3 when a phase with cookies lost a client connection.\n",
		APP_CHURN_REQ_LEN, APP_CHURN_RESP_LEN);
}

/*
 * app_churn sizes both tables from its concurrency (x 2 + 1024): ask for
 * room for the SYN queue as well, then keep opt.concurrency in flight.
 */
static uint32_t
table_concurrency(void)
{
	return opt.concurrency + opt.syn_backlog / 2 + 1;
}

/* Spoofed SYNs in flight at once at most: the server's queue and its transmit queue. */
static unsigned int
nb_mbufs(void)
{
	return (opt.concurrency * 8 + opt.syn_backlog * 2 + 65536) | 1;
}

static long
flood_parse(int argc, char **argv)
{
	const struct bench_opt opts[] = {
		{ "seconds", BENCH_OPT_SECONDS, &opt.seconds, 0, 0 },
		{ "concurrency", BENCH_OPT_U32, &opt.concurrency, 1, 1 << 20 },
		{ "clients", BENCH_OPT_U32, &opt.clients, 1, 65535 },
		{ "syn-backlog", BENCH_OPT_U32, &opt.syn_backlog, 1, 1 << 20 },
		{ "json", BENCH_OPT_FLAG, &opt.json, 0, 0 },
		{ "json-file", BENCH_OPT_OUT_FILE, &opt.json_file, 0, 0 },
	};

	if (bench_opts_parse("flood", opts, RTE_DIM(opts), argc, argv) != 0)
		return -1;

	/* One phase's stacks at a time: client TIME_WAIT (~80 B/entry), tables, mbufs, slack. */
	uint64_t mb = (uint64_t)bench_churn_tw_capacity(opt.seconds) * 80 / (1 << 20) +
		      (uint64_t)table_concurrency() * 4 * 1024 / (1 << 20) +
		      (uint64_t)nb_mbufs() * (RTE_MBUF_DEFAULT_BUF_SIZE + 256) / (1 << 20) +
		      (uint64_t)opt.clients * 8 / 1024 + 256;

	return (long)mb;
}

static bool
spoofed(rte_be32_t addr)
{
	return (rte_be_to_cpu_32(addr) & ~SPOOF_MASK) == SPOOF_BASE;
}

/*
 * Take what B sends: segments to spoofed addresses are lost (nobody is
 * there), the rest goes to A, marked checksum-good as app_churn's wire does.
 */
static void
srv_drain(struct flood *f, uint64_t now_us)
{
	struct rte_mbuf *pkts[BURST], *fwd[BURST], *gone[BURST], *rej[BURST];
	int32_t reason[BURST];
	uint16_t n;

	while ((n = tws_stack_tx_burst(f->srv, pkts, BURST)) > 0) {
		uint16_t nf = 0, ng = 0;

		for (uint16_t i = 0; i < n; i++) {
			const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(pkts[i], struct rte_ipv4_hdr *);

			if (spoofed(ip->dst_addr)) {
				gone[ng++] = pkts[i];
			} else {
				pkts[i]->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
				fwd[nf++] = pkts[i];
			}
		}
		if (ng > 0)
			rte_pktmbuf_free_bulk(gone, ng);
		f->r->discarded += ng;
		if (nf > 0) {
			uint16_t acc = tws_stack_rx_burst(f->cli, fwd, rej, reason, nf, now_us);

			if (acc < nf)
				rte_pktmbuf_free_bulk(rej, (unsigned int)(nf - acc));
		}
	}
}

/* Hand @p n spoofed SYNs to B, in bursts, and take its answers off the wire. */
static void
flood_inject(struct flood *f, unsigned int n, uint64_t now_us)
{
	struct rte_mbuf *m[BURST], *rej[BURST];
	int32_t reason[BURST];
	const rte_be32_t daddr = rte_cpu_to_be_32(APP_CHURN_SERVER_BASE);
	const rte_be16_t dport = rte_cpu_to_be_16(APP_CHURN_SERVER_PORT);

	while (n > 0) {
		unsigned int k = RTE_MIN(n, (unsigned int)BURST);
		uint64_t c0 = rte_rdtsc();

		if (rte_pktmbuf_alloc_bulk(f->mp, m, k) != 0) {
			f->r->syns_no_mbuf += k;
			return;
		}
		for (unsigned int i = 0; i < k; i++) {
			uint64_t r = bench_rand(&f->rng);
			uint32_t saddr = SPOOF_BASE | (uint32_t)(r & SPOOF_MASK);
			uint16_t sport = (uint16_t)(1024 + (r >> 16) % 64512);

			app_syn_write(m[i], rte_cpu_to_be_32(saddr), daddr, rte_cpu_to_be_16(sport),
				      dport, (uint32_t)(r >> 32), (uint32_t)(now_us / 1000));
			m[i]->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		}
		f->r->gen_cycles += rte_rdtsc() - c0;

		uint16_t acc = tws_stack_rx_burst(f->srv, m, rej, reason, (uint16_t)k, now_us);

		if (acc < k)
			rte_pktmbuf_free_bulk(rej, k - acc);
		f->r->syns += k;
		n -= k;
		srv_drain(f, now_us);
	}
}

static void
peaks(struct flood *f)
{
	struct tws_stack_stats s;

	tws_stack_stats_get(f->srv, &s);
	f->r->conns_peak = RTE_MAX(f->r->conns_peak, s.conns);
	f->r->syn_rcvd_peak = RTE_MAX(f->r->syn_rcvd_peak, s.syn_rcvd);
}

/* One phase on new stacks: @p rate spoofed SYNs per second (0: none). */
static int
phase_run(struct rte_mempool *mp, const struct phase *ph, double rate, uint64_t seed,
	  struct result *r)
{
	struct tws_tcp_knobs k;
	struct app_churn ch;

	memset(r, 0, sizeof(*r));
	tws_tcp_knobs_default(&k);
	k.syn_backlog = opt.syn_backlog;
	k.syncookies = ph->syncookies;
	if (app_churn_init(&ch, &(struct app_churn_params){ .prog = "tws-bench flood", .mp = mp,
			   .concurrency = table_concurrency(), .clients = opt.clients,
			   .max_tw = bench_churn_tw_capacity(opt.seconds), .knobs = &k, .start_us = BASE_US }) != 0)
		return -1;
	ch.want = opt.concurrency;

	struct flood f = { .mp = mp, .srv = ch.srv, .cli = ch.cli, .rng = seed, .r = r };
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc(), t;
	uint64_t end = t0 + (uint64_t)(opt.seconds * (double)hz), last_ms = 0;

	r->rate_target = rate;
	while ((t = rte_rdtsc()) < end) {
		uint64_t now_us = BASE_US + (t - t0) * 1000000 / hz;

		if (rate > 0) {
			uint64_t due = (uint64_t)(rate * (double)(t - t0) / (double)hz);
			uint64_t wait = due - (r->syns + r->syns_missed + r->syns_no_mbuf);

			if (wait > SPOOF_RING) {
				r->syns_missed += wait - SPOOF_RING;
				wait = SPOOF_RING;
			}
			if (wait > 0)
				flood_inject(&f, (unsigned int)wait, now_us);
		}
		app_churn_step(&ch, now_us);
		if (now_us / 1000 != last_ms) {
			last_ms = now_us / 1000;
			app_churn_poll(&ch, now_us);
			srv_drain(&f, now_us); /* retransmitted SYN-ACKs to spoofed addresses */
			peaks(&f);
		}
	}
	r->cycles = rte_rdtsc() - t0;
	r->secs = (double)r->cycles / (double)hz;
	peaks(&f);
	tws_stack_stats_get(ch.srv, &r->ss);
	r->started = ch.opened;
	r->completed = ch.completed;
	r->failed = app_churn_errors(&ch);
	r->in_flight = ch.opened - ch.finished;
	app_churn_free(&ch);
	return 0;
}

static double
cps(const struct result *r)
{
	return r->secs > 0 ? (double)r->completed / r->secs : 0.0;
}

static const char *
cookies_name(uint32_t v)
{
	return v == TWS_SYNCOOKIES_OFF ? "off" : v == TWS_SYNCOOKIES_ALWAYS ? "always" : "full";
}

static double
flood_rate(const struct result *r)
{
	return r->secs > 0 ? (double)r->syns / r->secs : 0.0;
}

static void
json_phase(struct app_json *j, const struct phase *ph, const struct result *r, double base)
{
	app_json_obj(j, ph->name);
	app_json_str(j, "syncookies", cookies_name(ph->syncookies));
	app_json_num(j, "flood_multiple", ph->multiple, 0);
	app_json_num(j, "seconds", r->secs, 3);
	app_json_num(j, "legit_cps", cps(r), 0);
	app_json_u64(j, "legit_started", r->started);
	app_json_u64(j, "legit_completed", r->completed);
	app_json_u64(j, "legit_failed", r->failed);
	app_json_u64(j, "legit_in_flight", r->in_flight);
	app_json_num(j, "flood_rate_target", r->rate_target, 0);
	app_json_num(j, "flood_rate", flood_rate(r), 0);
	app_json_num(j, "flood_multiple_reached", base > 0 ? flood_rate(r) / base : 0.0, 2);
	app_json_u64(j, "syns_injected", r->syns);
	app_json_u64(j, "syns_missed", r->syns_missed);
	app_json_u64(j, "syns_no_mbuf", r->syns_no_mbuf);
	app_json_u64(j, "synacks_discarded", r->discarded);
	app_json_u64(j, "syn_queue_full", r->ss.syn_queue_full);
	app_json_u64(j, "syn_queue_dropped", r->ss.syn_queue_dropped);
	app_json_u64(j, "syncookies_sent", r->ss.syncookies_sent);
	app_json_u64(j, "syncookies_recv", r->ss.syncookies_recv);
	app_json_u64(j, "syncookies_failed", r->ss.syncookies_failed);
	app_json_u64(j, "conn_table_full", r->ss.conn_table_full);
	app_json_u64(j, "srv_conns_peak", r->conns_peak);
	app_json_u64(j, "srv_conns_end", r->ss.conns);
	app_json_u64(j, "srv_syn_rcvd_peak", r->syn_rcvd_peak);
	app_json_u64(j, "srv_syn_rcvd_end", r->ss.syn_rcvd);
	app_json_u64(j, "srv_memory_bytes", r->ss.memory_bytes);
	app_json_num(j, "gen_cpu_share",
		     r->cycles ? (double)r->gen_cycles / (double)r->cycles : 0.0, 3);
	app_json_end(j);
}

static void
json_write(FILE *out, const struct result *res)
{
	struct app_json j;
	double base = cps(&res[0]);

	app_json_begin(&j, out);
	app_json_str(&j, "bench", "flood");
	app_json_num(&j, "seconds_per_phase", opt.seconds, 3);
	app_json_u64(&j, "concurrency", opt.concurrency);
	app_json_u64(&j, "clients", opt.clients);
	app_json_u64(&j, "syn_backlog", opt.syn_backlog);
	app_json_num(&j, "accept_rate_cps", base, 0);
	for (size_t i = 1; i < NB_PHASES; i++)
		app_json_num(&j, phases[i].ratio_key, base > 0 ? cps(&res[i]) / base : 0.0, 3);
	app_json_obj(&j, "phases");
	for (size_t i = 0; i < NB_PHASES; i++)
		json_phase(&j, &phases[i], &res[i], base);
	app_json_end(&j);
	bench_json_machine(&j);
	app_json_end(&j);
}

static void
text_write(const struct result *res)
{
	double base = cps(&res[0]);

	printf("tws-bench flood: %.2f s per phase, %u client connections in flight, "
	       "syn_backlog %u, one lcore (%s)\n", opt.seconds, opt.concurrency, opt.syn_backlog,
	       app_cpu_model());
	printf("%-19s %-7s %9s %6s %9s %6s %9s %9s %5s %9s %9s %9s %8s\n", "phase", "cookies",
	       "legit/s", "ratio", "completed", "failed", "SYNs/s", "asked", "x R", "cookies",
	       "cookie ok", "q.dropped", "syn_rcvd");
	for (size_t i = 0; i < NB_PHASES; i++) {
		const struct result *r = &res[i];

		printf("%-19s %-7s %9.0f %6.3f %9" PRIu64 " %6" PRIu64 " %9.0f %9.0f %5.2f %9" PRIu64
		       " %9" PRIu64 " %9" PRIu64 " %8" PRIu64 "\n", phases[i].name,
		       cookies_name(phases[i].syncookies), cps(r), base > 0 ? cps(r) / base : 0.0,
		       r->completed, r->failed, flood_rate(r), r->rate_target,
		       base > 0 ? flood_rate(r) / base : 0.0, r->ss.syncookies_sent,
		       r->ss.syncookies_recv, r->ss.syn_queue_dropped, r->syn_rcvd_peak);
	}
	printf("(--json for every figure: rates asked for, connections stalled, memory)\n");
}

static int
flood_run(void)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench_flood", nb_mbufs(), 512, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());
	struct result res[NB_PHASES];
	int rc = 0;

	if (mp == NULL) {
		fprintf(stderr, "tws-bench flood: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (size_t i = 0; i < NB_PHASES; i++) {
		double rate = i == 0 ? 0.0 : phases[i].multiple * cps(&res[0]);

		if (phase_run(mp, &phases[i], rate, 1 + i, &res[i]) != 0) {
			rte_mempool_free(mp);
			return 1;
		}
		if (phases[i].syncookies != TWS_SYNCOOKIES_OFF &&
		    (res[i].failed > 0 || res[i].completed == 0))
			rc = 3;
	}
	if (opt.json)
		json_write(stdout, res);
	else
		text_write(res);
	if (opt.json_file != NULL) {
		FILE *f = fopen(opt.json_file, "w");

		if (f == NULL) {
			fprintf(stderr, "tws-bench flood: cannot write --json-file %s: %s\n",
				opt.json_file, strerror(errno));
			rc = 1;
		} else {
			json_write(f, res);
			fclose(f);
		}
	}
	rte_mempool_free(mp);
	return rc;
}

const struct bench_cmd bench_flood_cmd = {
	.name = "flood",
	.summary = "legitimate connections/s during a SYN flood, with and without cookies",
	.parse = flood_parse,
	.run = flood_run,
	.usage = flood_usage,
};
