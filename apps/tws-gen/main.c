/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-gen: churns HTTP/1.1 connections over a DPDK port against tws-server
 * (or any HTTP server) and reports what they cost: connections per second,
 * latency, errors by kind, and the TIME_WAIT entries the client keeps.
 *
 * Each connection: connect (tws_connect_burst), --requests-per-conn GETs of
 * --request-bytes, each answered by a response read to its Content-Length,
 * then a close by FIN (the client closes first: a TIME_WAIT entry here) or
 * by RST (tws_abort: none). Connections go round-robin over the pairs (our
 * address, server), so each pair is one destination of the port allocator.
 *
 * Before the churn, one connection per pair warms the ARP caches of both
 * sides (a neighbour not yet resolved holds only a few packets), so the
 * churn does not start with dropped SYNs; a server whose ARP goes unanswered
 * is given up after the net layer's retries, and its connections time out.
 * At --seconds (or SIGINT) no more
 * connections start; those in flight get --drain seconds to finish, then are
 * aborted and counted as timeouts. The run never waits on the peer beyond that.
 *
 * Every EAL lcore runs a lane (struct gen_lane, thread-local): its own queue
 * pair, stack, warm-up, share of the concurrency and the rate, and counters.
 * The main lcore's lane also prints the progress and the summary, summing
 * the lanes; the lanes start on one clock (run_ctl) and end on it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_random.h>

#include "app_churn.h"
#include "app_dp.h"
#include "app_hist.h"
#include "app_http.h"
#include "app_json.h"
#include "app_opts.h"
#include "app_plot.h"
#include "app_telemetry.h"
#include "app_util.h"

#define PROG "tws-gen"
#define BURST 64
#define RECV_CHUNK 16384
/* Connections per second the TIME_WAIT capacity is sized for without --rate. */
#define CPS_ESTIMATE 1500000
#define TW_DEFAULT_MAX (1u << 23)
/* Source addresses of the SYN flood without --flood-from: those right after ours. */
#define FLOOD_DEFAULT_ADDRS 16u
#define FLOOD_MAX_ADDRS 65536u

enum close_kind { CLOSE_FIN, CLOSE_RST };

static struct app_dp_conf dpc = { .addrs = 1 };

static struct {
	struct app_endpoint_list servers;
	uint32_t rate;
	uint32_t concurrency;
	double seconds;
	double drain;
	double linger;
	double link_wait;
	uint32_t requests_per_conn;
	uint32_t request_bytes;
	uint32_t close;
	const char *json;
	const char *csv;
	const char *plot;
	uint32_t syn_flood;
	const char *flood_from;
} opt = { .concurrency = 256, .seconds = 10, .drain = 2, .link_wait = 10,
	  .requests_per_conn = 1, .request_bytes = 100 };

static const struct app_opt gen_opts[] = {
	{ .name = "server", .type = APP_OPT_ENDPOINTS, .off = offsetof(typeof(opt), servers),
	  .metavar = "IP:P[,...]", .def = NULL,
	  .help = "servers to connect to, on our subnet (up to 64)" },
	{ .name = "rate", .type = APP_OPT_U32, .off = offsetof(typeof(opt), rate), .min = 0,
	  .max = 100000000, .metavar = "R", .def = "0: as fast as possible",
	  .help = "connections started per second" },
	{ .name = "concurrency", .type = APP_OPT_U32, .off = offsetof(typeof(opt), concurrency),
	  .min = 1, .max = 1u << 20, .metavar = "N", .def = "256",
	  .help = "connections in flight at most" },
	{ .name = "seconds", .type = APP_OPT_SECONDS, .off = offsetof(typeof(opt), seconds),
	  .min = 100, .max = 86400, .metavar = "S", .def = "10",
	  .help = "how long connections are started" },
	{ .name = "drain", .type = APP_OPT_SECONDS, .off = offsetof(typeof(opt), drain),
	  .min = 100, .max = 3600, .metavar = "S", .def = "2",
	  .help = "then how long those in flight get to finish (more under --fault)" },
	{ .name = "linger", .type = APP_OPT_SECONDS, .off = offsetof(typeof(opt), linger),
	  .min = 0, .max = 3600000, .metavar = "S", .def = "0",
	  .help = "then keep the port polled S seconds more, or until SIGINT, so our TIME_WAIT "
		  "entries answer a server's retransmitted FIN (its ACK lost near the end)" },
	{ .name = "link-wait", .type = APP_OPT_SECONDS, .off = offsetof(typeof(opt), link_wait),
	  .min = 100, .max = 3600, .metavar = "S", .def = "10",
	  .help = "before the run, how long to wait for the port's link (a memif server that "
		  "makes large tables takes seconds to bring its port up)" },
	{ .name = "requests-per-conn", .type = APP_OPT_U32,
	  .off = offsetof(typeof(opt), requests_per_conn), .min = 1, .max = 1000000,
	  .metavar = "N", .def = "1", .help = "requests on each connection, one after the other" },
	{ .name = "request-bytes", .type = APP_OPT_U32, .off = offsetof(typeof(opt), request_bytes),
	  .min = APP_HTTP_REQUEST_MIN, .max = 1u << 20, .metavar = "N", .def = "100",
	  .help = "size of each request (a GET padded by an X-Pad header)" },
	{ .name = "close", .type = APP_OPT_CHOICE, .off = offsetof(typeof(opt), close),
	  .choices = "fin,rst", .metavar = "HOW", .def = "fin",
	  .help = "fin: close first (TIME_WAIT here); rst: abort (linger 0, no TIME_WAIT)" },
	{ .name = "json", .type = APP_OPT_STR, .off = offsetof(typeof(opt), json),
	  .metavar = "FILE", .def = "", .help = "write the summary as JSON to FILE" },
	{ .name = "csv", .type = APP_OPT_STR, .off = offsetof(typeof(opt), csv),
	  .metavar = "FILE", .def = "", .help = "write one line per second to FILE" },
	{ .name = "plot", .type = APP_OPT_STR, .off = offsetof(typeof(opt), plot),
	  .metavar = "FILE.png", .def = "",
	  .help = "plot connections/s and TIME_WAIT entries over time (needs gnuplot)" },
	{ .name = "syn-flood", .type = APP_OPT_U32, .off = offsetof(typeof(opt), syn_flood),
	  .min = 0, .max = 10000000, .metavar = "R", .def = "0: none",
	  .help = "also send R spoofed SYNs/s to the servers (a SYN flood) during the churn" },
	{ .name = "flood-from", .type = APP_OPT_STR, .off = offsetof(typeof(opt), flood_from),
	  .metavar = "A/N", .def = "the 16 after --addrs",
	  .help = "the flood's sources: N addresses from A, on our subnet, used by nobody" },
};

static const struct app_opt_table tables[] = {
	{ app_dp_opts, APP_DP_NB_OPTS, &dpc },
	{ gen_opts, RTE_DIM(gen_opts), &opt },
};

/* Failures by kind: one list for counters, the progress line and the JSON. */
#define GEN_ERRORS(X) \
	X(addr_not_avail, "no free local port for the destination (tuples exhausted)") \
	X(reset,          "the server reset the connection") \
	X(timeout,        "retransmissions gave up, or still unfinished at the end") \
	X(refused,        "the server refused the connection (RST to the SYN)") \
	X(data,           "response not 200, without Content-Length, too long, or cut short") \
	X(corrupt,        "response body not the server's pattern: data lost, duplicated or reordered") \
	X(other,          "connect failed otherwise (table full, no mbuf)")

enum {
#define X_ENUM(n, d) ERR_ ## n,
	GEN_ERRORS(X_ENUM)
#undef X_ENUM
	ERR_COUNT
};

static const char *const err_names[] = {
#define X_NAME(n, d) #n,
	GEN_ERRORS(X_NAME)
#undef X_NAME
};

/* PH_AWAIT_FIN: the last response said "Connection: close"; the server closes first. */
enum phase { PH_CONNECTING, PH_REQUEST, PH_AWAIT_FIN, PH_CLOSING };

/* One connection in flight; slots are reused, found by index or by the connection's udata. */
struct slot {
	struct tws_conn *conn;
	uint64_t t0;           /* connect start, then start of the current request */
	uint64_t body_left;    /* bytes of the response body still to come */
	uint32_t pair;
	uint32_t reqs_done;
	uint32_t req_off;      /* bytes of the current request queued */
	uint8_t phase;
	bool probe;            /* a warm-up connection */
	bool in_use;
	struct app_http_resp resp;
};

/*
 * A lane's state: one per lcore (thread-local, so the code below reads as
 * if there were one), each with its queue pair, stack, share of the
 * concurrency and the rate, and its own counters. lanes[] lists them for
 * the main lcore, which sums them for the progress line and the summary.
 */
struct gen_lane {
	struct app_dp dp;
	uint32_t concurrency;      /* this lane's share of --concurrency */
	double rate;               /* this lane's share of --rate (0: unlimited) */
	int rc;                    /* a worker's set-up: 0, or the exit code */
	uint64_t now;              /* the poll loop's clock, read once per iteration */
	struct slot *slots;
	uint32_t *free_ids;
	uint32_t nb_free;
	uint32_t inflight;
	uint32_t nb_pairs;
	uint64_t next_pair;        /* round-robin over the pairs */
	/* Warm-up: pairs probed so far (address-major order), and per server: */
	uint32_t warm_next;
	struct srv_warm {
		uint64_t probe_t;  /* when the probe from our first address started */
		uint32_t probes;   /* probes in flight */
		bool ready;        /* that probe is over: the server's MAC is known (or never) */
		bool gave_up;      /* its ARP went unanswered: its probes are not waited for */
	} *srv;
	bool warm;
	char **req;                /* the request of each server */
	uint64_t started, connections, requests;
	uint64_t bytes_verified;   /* response body bytes checked against the pattern */
	uint64_t err[ERR_COUNT];
	struct app_hist lat_connect, lat_request;
	struct app_http_resp_memo memo; /* the last response head parsed */
	uint8_t buf[RECV_CHUNK];   /* what tws_recv() reads into */
};

static __thread struct gen_lane g;
static struct gen_lane *lanes[APP_DP_MAX_LANES];
static uint16_t nb_lanes = 1;
static struct {
	unsigned int ready;        /* worker lanes set up (atomic) */
	unsigned int done;         /* worker lanes whose run is over (atomic) */
	volatile int go;           /* 1: churn from t_start; -1: set-up failed, leave */
	uint64_t t_start;
} run_ctl;

static int alloc_state(struct gen_lane *l);

/* Counters summed over the lanes: a snapshot while they run, exact once they are done. */
struct gen_sum {
	uint64_t started, connections, requests, bytes_verified, inflight;
	uint64_t err[ERR_COUNT];
	uint64_t errors;
};

static struct gen_sum
sum_lanes(void)
{
	struct gen_sum t = { 0 };

	for (unsigned int q = 0; q < nb_lanes; q++) {
		const struct gen_lane *l = lanes[q];

		if (l == NULL)
			continue;
		t.started += l->started;
		t.connections += l->connections;
		t.requests += l->requests;
		t.bytes_verified += l->bytes_verified;
		t.inflight += l->inflight;
		for (unsigned int i = 0; i < ERR_COUNT; i++) {
			t.err[i] += l->err[i];
			t.errors += l->err[i];
		}
	}
	return t;
}

static uint32_t
pair_server(uint32_t pair)
{
	return pair % opt.servers.n;
}

static uint32_t
pair_laddr(uint32_t pair)
{
	return dpc.addr.ip + pair / opt.servers.n;
}

/* A warm-up probe of @p pair is over (it connected or failed). */
static void
probe_done(struct slot *s)
{
	if (!s->probe)
		return;
	s->probe = false;
	g.srv[pair_server(s->pair)].probes--;
	if (pair_laddr(s->pair) == dpc.addr.ip)
		g.srv[pair_server(s->pair)].ready = true;
}

/*
 * Is the warm-up over: every pair probed, every probe over or toward a
 * server given up? A server is given up when its first probe has not
 * connected by the time the net layer stops asking ARP for it.
 */
static bool
warm_over(void)
{
	const uint64_t arp_give_up = (uint64_t)TWS_NET_DEFAULT_ARP_RETRIES *
				     TWS_NET_DEFAULT_ARP_RETRY_MS * 1000 + 500000;
	bool over = g.warm_next == g.nb_pairs;

	for (unsigned int i = 0; i < opt.servers.n; i++) {
		struct srv_warm *w = &g.srv[i];

		if (!w->ready && w->probe_t != 0 && g.now - w->probe_t > arp_give_up)
			w->ready = w->gave_up = true;
		if (w->probes > 0 && !w->gave_up)
			over = false;
	}
	return over;
}

/* The connection is over: count it, free the slot. */
static void
slot_free(struct slot *s, int err)
{
	probe_done(s);
	if (err >= 0)
		g.err[err]++;
	s->in_use = false;
	s->conn = NULL;
	g.free_ids[g.nb_free++] = (uint32_t)(s - g.slots);
	g.inflight--;
}

/* Queue the rest of the current request. */
static void
send_request(struct slot *s)
{
	const char *req = g.req[pair_server(s->pair)];
	int r = tws_send(s->conn, req + s->req_off, opt.request_bytes - s->req_off);

	if (r > 0)
		s->req_off += (uint32_t)r;
}

static void
start_request(struct slot *s)
{
	s->phase = PH_REQUEST;
	s->t0 = g.now;
	s->req_off = 0;
	s->body_left = 0;
	memset(&s->resp, 0, sizeof(s->resp));
	send_request(s);
}

/* Abort a connection that failed at the HTTP level (the handle is gone after). */
static void
fail_data(struct slot *s)
{
	tws_abort(s->conn);
	slot_free(s, ERR_data);
}

/* Every response is in: close by RST (done) or by FIN (done at CLOSED). */
static void
finish(struct slot *s)
{
	if (opt.close == CLOSE_RST) {
		tws_abort(s->conn);
		g.connections++;
		slot_free(s, -1);
		return;
	}
	s->phase = PH_CLOSING;
	tws_close(s->conn);
}

/*
 * The response is complete: the next request, or the close. A response
 * saying "Connection: close" ends the connection: the server closes first
 * and we close after its FIN, as HTTP/1.1 clients do (RFC 9112 9.6).
 */
static void
response_done(struct slot *s)
{
	app_hist_add(&g.lat_request, g.now - s->t0);
	g.requests++;
	if (++s->reqs_done < opt.requests_per_conn) {
		if (s->resp.close)
			fail_data(s); /* the server will not take the next request */
		else
			start_request(s);
		return;
	}
	if (s->resp.close)
		s->phase = PH_AWAIT_FIN;
	else
		finish(s);
}

/* Read what arrived; @return false if the slot was freed. */
static bool
read_response(struct slot *s)
{
	uint8_t *buf = g.buf;
	int r;

	while ((r = tws_recv(s->conn, buf, RECV_CHUNK)) > 0) {
		uint32_t pos = 0, len = (uint32_t)r;

		while (pos < len) {
			if (s->phase != PH_REQUEST) {
				fail_data(s); /* bytes after the last response */
				return false;
			}
			if (!s->resp.done) {
				pos += app_http_resp_feed_memo(&s->resp, &g.memo, buf + pos, len - pos);
				if (!s->resp.done)
					break;
				if (s->resp.bad || !s->resp.has_cl || s->resp.status != 200 ||
				    s->req_off < opt.request_bytes) {
					fail_data(s);
					return false;
				}
				s->body_left = s->resp.content_length;
			}

			uint64_t take = RTE_MIN(s->body_left, (uint64_t)(len - pos));
			uint64_t at = s->resp.content_length - s->body_left;

			if (!app_http_body_check(buf + pos, at, (uint32_t)take)) {
				tws_abort(s->conn);
				slot_free(s, ERR_corrupt);
				return false;
			}
			g.bytes_verified += take;
			pos += (uint32_t)take;
			s->body_left -= take;
			if (s->body_left == 0) {
				response_done(s);
				if (!s->in_use)
					return false;
			}
		}
	}
	return true;
}

static void
on_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct slot *s = ev->udata;

	(void)st;
	(void)arg;
	if (s == NULL || !s->in_use)
		return;
	switch (ev->type) {
	case TWS_EV_CONNECTED:
		app_hist_add(&g.lat_connect, g.now - s->t0);
		probe_done(s);
		start_request(s);
		break;
	case TWS_EV_SENT:
		if (s->phase == PH_REQUEST && s->req_off < opt.request_bytes)
			send_request(s);
		break;
	case TWS_EV_DATA:
		read_response(s);
		break;
	case TWS_EV_PEER_CLOSED:
		if (s->phase == PH_AWAIT_FIN)
			finish(s);
		else if (s->phase != PH_CLOSING)
			fail_data(s); /* closed before every response was in */
		break;
	case TWS_EV_CLOSED:
		if (s->phase == PH_CLOSING) {
			g.connections++;
			slot_free(s, -1);
		} else {
			slot_free(s, ERR_data);
		}
		break;
	case TWS_EV_RESET:
		slot_free(s, ERR_reset);
		break;
	case TWS_EV_ERROR:
		slot_free(s, ev->error == ECONNREFUSED ? ERR_refused : ERR_timeout);
		break;
	default:
		break;
	}
}

/*
 * Pick the pairs of the next n connects. Warm-up: each pair once, in
 * address-major order, a pair of a server not yet ready only from our
 * first address. @return how many were picked (fewer when the warm-up waits).
 */
static unsigned int
pick_pairs(uint32_t *pairs, bool *probe, unsigned int n)
{
	unsigned int k = 0;

	if (!g.warm) {
		for (; k < n; k++) {
			pairs[k] = (uint32_t)(g.next_pair++ % g.nb_pairs);
			probe[k] = false;
		}
		return k;
	}
	while (k < n && g.warm_next < g.nb_pairs) {
		uint32_t p = g.warm_next;

		struct srv_warm *w = &g.srv[pair_server(p)];

		if (pair_laddr(p) != dpc.addr.ip && !w->ready)
			break;
		if (pair_laddr(p) == dpc.addr.ip)
			w->probe_t = g.now;
		w->probes++;
		pairs[k] = p;
		probe[k++] = true;
		g.warm_next++;
	}
	return k;
}

/* Start the connects the concurrency and the rate allow. */
static void
start_connects(uint64_t t_start)
{
	struct tws_connect_params cp[BURST];
	struct tws_conn *conns[BURST];
	uint32_t pairs[BURST];
	bool probe[BURST];
	int rc[BURST];
	uint64_t budget = g.concurrency - g.inflight;

	if (g.rate > 0) {
		uint64_t allowed = (uint64_t)((double)(g.now - t_start) * g.rate / 1e6) + 1;

		budget = allowed > g.started ? RTE_MIN(budget, allowed - g.started) : 0;
	}
	if (g.warm && warm_over())
		g.warm = false;

	unsigned int n = pick_pairs(pairs, probe, (unsigned int)RTE_MIN(budget, (uint64_t)BURST));

	for (unsigned int i = 0; i < n; i++) {
		struct slot *s = &g.slots[g.free_ids[--g.nb_free]];
		uint32_t srv = pair_server(pairs[i]);

		memset(s, 0, sizeof(*s));
		s->in_use = true;
		s->pair = pairs[i];
		s->probe = probe[i];
		s->t0 = g.now;
		cp[i] = (struct tws_connect_params){
			.laddr = rte_cpu_to_be_32(pair_laddr(pairs[i])),
			.raddr = rte_cpu_to_be_32(opt.servers.e[srv].ip),
			.rport = rte_cpu_to_be_16(opt.servers.e[srv].port), .udata = s };
		g.inflight++;
	}
	if (n == 0)
		return;
	tws_connect_burst(g.dp.st, cp, conns, rc, n);
	g.started += n;
	for (unsigned int i = 0; i < n; i++) {
		struct slot *s = cp[i].udata;

		if (rc[i] == 0) {
			s->conn = conns[i];
			continue;
		}
		slot_free(s, rc[i] == -EADDRNOTAVAIL ? ERR_addr_not_avail : ERR_other);
	}
}

/*
 * The SYN flood (--syn-flood): SYNs from source addresses nobody on the
 * link has, random ports and ISNs, built here as IPv4 packets and sent
 * through the net layer (Ethernet, the server's MAC) and the port, beside
 * the churn and past any --fault link. The server's SYN-ACKs go to
 * addresses no one answers ARP for, so what it queues stays in SYN_RCVD.
 */
static struct {
	uint32_t from;         /* first source address, host order */
	uint32_t n;            /* source addresses */
	uint64_t t0;           /* when it started: once the warm-up is over */
	uint64_t next;         /* round-robin over the servers */
	uint64_t sent;         /* frames the port took */
	uint64_t dropped;      /* not sent: no mbuf, no route or ARP, port ring full */
} fl;

/* A Linux client's SYN; checksums asked of the port (the net layer fills them without). */
static void
syn_build(struct rte_mbuf *m, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
	  uint32_t isn, uint32_t tsval)
{
	app_syn_write(m, rte_cpu_to_be_32(saddr), rte_cpu_to_be_32(daddr), rte_cpu_to_be_16(sport),
		      rte_cpu_to_be_16(dport), isn, tsval);

	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	((struct rte_tcp_hdr *)(ip + 1))->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
}

/* Send the spoofed SYNs due by now, a burst at most per call. */
static void
flood_send(void)
{
	struct rte_mbuf *m[BURST];

	if (fl.t0 == 0)
		fl.t0 = g.now;

	uint64_t due = (uint64_t)((double)(g.now - fl.t0) * opt.syn_flood / 1e6) + 1;
	uint64_t done = fl.sent + fl.dropped;
	unsigned int n = due > done ? (unsigned int)RTE_MIN(due - done, (uint64_t)BURST) : 0;

	if (n == 0)
		return;
	if (rte_pktmbuf_alloc_bulk(g.dp.mp, m, n) != 0) {
		fl.dropped += n;
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t r = rte_rand();
		uint32_t srv = (uint32_t)(fl.next++ % opt.servers.n);

		syn_build(m[i], fl.from + (uint32_t)(r % fl.n), opt.servers.e[srv].ip,
			  (uint16_t)(1024 + (r >> 20) % 64512), opt.servers.e[srv].port,
			  (uint32_t)(r >> 32), (uint32_t)(g.now / 1000));
	}

	uint16_t nf = tws_net_tx(g.dp.net, m, (uint16_t)n, m, g.now);
	uint16_t tx = rte_eth_tx_burst(g.dp.port_id, 0, m, nf);

	if (tx < nf)
		rte_pktmbuf_free_bulk(m + tx, (unsigned int)(nf - tx));
	fl.sent += tx;
	fl.dropped += n - tx;
}

/*
 * Abort what is still in flight at the end: each counts as a timeout. The
 * first few are described on stderr (where each stood), so a stall can be
 * told from a slow peer.
 */
static void
abort_inflight(void)
{
	static const char *const phases[] = { "connecting", "request", "await_fin", "closing" };
	unsigned int shown = 0;

	for (uint32_t i = 0; i < g.concurrency; i++) {
		struct slot *s = &g.slots[i];

		if (!s->in_use)
			continue;

		struct tws_conn_info ci;
		const struct tws_tuple *t = tws_conn_tuple(s->conn);

		tws_conn_info_get(s->conn, &ci);
		if (shown++ < 8)
			fprintf(stderr, PROG ": unfinished at the end: port %u %s, %s, request %u/%u "
				"(%u of %u bytes queued), body left %" PRIu64 "; snd una %u nxt %u max "
				"%u unsent %u unacked %u, rcv nxt %u wnd %u, peer wnd %u, rto %u ms, "
				"retransmits %u\n", rte_be_to_cpu_16(t->lport),
				tws_tcp_state_name(ci.state), phases[s->phase], s->reqs_done + 1,
				opt.requests_per_conn, s->req_off, opt.request_bytes, s->body_left,
				ci.snd_una - ci.iss, ci.snd_nxt - ci.iss, ci.snd_max - ci.iss, ci.unsent,
				ci.unacked, ci.rcv_nxt - ci.irs, ci.rcv_wnd, ci.snd_wnd, ci.rto_ms,
				ci.retransmits);
		tws_abort(s->conn);
		slot_free(s, ERR_timeout);
	}
}

struct sample {
	uint64_t t;
	struct gen_sum sum;
	struct tws_stack_stats ss;
};

/* The lanes' counters and stacks now (the main lcore's lane 0 calls it). */
static void
sample_take(struct sample *x)
{
	x->t = g.now;
	x->sum = sum_lanes();
	app_dp_stack_stats(&g.dp, &x->ss);
}

/* Connections/s and TIME_WAIT entries per second, from the CSV (--plot). */
static int
plot(const char *csv_path, const char *png)
{
	FILE *g = app_plot_open(PROG, "--plot", png, 960, 540);

	if (g == NULL)
		return -1;
	fprintf(g, "set datafile separator ','\n"
		"set title 'tws-gen: connections per second and TIME\\_WAIT entries held'\n"
		"set xlabel 'time (s)'\nset ylabel 'connections/s'\n"
		"set y2label 'TIME\\_WAIT entries'\nset ytics nomirror\nset y2tics\n"
		"set format y '%%.1s%%c'\nset format y2 '%%.1s%%c'\nset yrange [0:*]\n"
		"set y2range [0:*]\nset grid\nset key top left opaque box\nf = ");
	app_plot_quoted(g, csv_path);
	fprintf(g, "\nplot f skip 1 using 1:3 with linespoints lw 2 pt 7 ps 0.6 "
		"lc rgb '#0969da' title 'connections/s' axes x1y1, f skip 1 using 1:5 with lines "
		"lw 2 lc rgb '#1a7f37' title 'TIME\\_WAIT entries' axes x1y2\n");
	return app_plot_close(PROG, "--plot", g);
}

static void
progress(const struct sample *prev, const struct sample *cur, uint64_t t_start, FILE *csv)
{
	double dt = (double)(cur->t - prev->t) / 1e6;
	double cps = dt > 0 ? (double)(cur->sum.connections - prev->sum.connections) / dt : 0.0;
	double t = (double)(cur->t - t_start) / 1e6;
	char detail[256];

	app_error_detail(detail, sizeof(detail), err_names, cur->sum.err, ERR_COUNT);
	app_progress_print(stdout, PROG, &(struct app_progress){ .t_s = t, .cps = cps,
		.open = cur->sum.inflight, .tw = cur->ss.tw_entries,
		.tw_bytes_per_entry = g.dp.tw_bytes_per_entry, .errors = cur->sum.errors,
		.error_detail = detail, .retransmits = cur->ss.retransmits });
	if (csv != NULL) {
		fprintf(csv, "%.3f,%" PRIu64 ",%.0f,%" PRIu64 ",%" PRIu64 ",%.0f,%" PRIu64 ",%"
			PRIu64 "\n", t, cur->sum.connections, cps, cur->sum.inflight,
			cur->ss.tw_entries, (double)cur->ss.tw_entries * g.dp.tw_bytes_per_entry,
			cur->sum.errors, cur->ss.retransmits);
		fflush(csv);
	}
}

static void
json_latency(struct app_json *j, const char *name, const struct app_hist *h)
{
	app_json_obj(j, name);
	app_json_u64(j, "p50", app_hist_quantile(h, 0.50));
	app_json_u64(j, "p99", app_hist_quantile(h, 0.99));
	app_json_u64(j, "p999", app_hist_quantile(h, 0.999));
	app_json_u64(j, "max", h->max);
	app_json_u64(j, "samples", h->count);
	app_json_end(j);
}

/* The run's totals over every lane, made once they are all done. */
static struct {
	struct gen_sum s;
	struct app_hist lat_connect, lat_request;
	uint64_t tw_capacity;
} tot;

static void
totals_make(void)
{
	tot.s = sum_lanes();
	memset(&tot.lat_connect, 0, sizeof(tot.lat_connect));
	memset(&tot.lat_request, 0, sizeof(tot.lat_request));
	for (unsigned int q = 0; q < nb_lanes; q++) {
		if (lanes[q] == NULL)
			continue;
		app_hist_merge(&tot.lat_connect, &lanes[q]->lat_connect);
		app_hist_merge(&tot.lat_request, &lanes[q]->lat_request);
	}
	tot.tw_capacity = app_dp_tw_capacity(&g.dp);
}

static void
summary_json(FILE *f, double secs, const struct tws_stack_stats *ss, uint64_t tw_peak)
{
	struct app_json j;
	char ip[16], buf[64];

	app_json_begin(&j, f);
	app_json_str(&j, "tool", PROG);
	app_json_num(&j, "duration_s", secs, 3);
	app_json_num(&j, "cps", secs > 0 ? (double)tot.s.connections / secs : 0.0, 0);
	app_json_u64(&j, "connections", tot.s.connections);
	app_json_u64(&j, "started", tot.s.started);
	app_json_u64(&j, "requests", tot.s.requests);
	app_json_u64(&j, "bytes_verified", tot.s.bytes_verified);
	app_json_obj(&j, "errors");
	app_json_u64(&j, "total", tot.s.errors);
	for (unsigned int i = 0; i < ERR_COUNT; i++)
		app_json_u64(&j, err_names[i], tot.s.err[i]);
	app_json_end(&j);
	app_json_obj(&j, "latency_us");
	json_latency(&j, "connect", &tot.lat_connect);
	json_latency(&j, "request", &tot.lat_request);
	app_json_end(&j);
	app_json_u64(&j, "tw_entries_peak", tw_peak);
	app_json_u64(&j, "tw_entries_end", ss->tw_entries);
	app_json_num(&j, "tw_bytes_per_entry", g.dp.tw_bytes_per_entry, 1);
	app_json_u64(&j, "tw_capacity", tot.tw_capacity);
	app_json_u64(&j, "tw_overflow", ss->tw_overflow);
	app_json_u64(&j, "tw_reused", ss->tw_reused);
	app_json_u64(&j, "retransmits", ss->retransmits);
	app_json_obj(&j, "syn_flood");
	app_json_u64(&j, "rate", opt.syn_flood);
	app_json_str(&j, "from", app_ip_str(fl.from, ip));
	app_json_u64(&j, "addresses", fl.n);
	app_json_u64(&j, "sent", fl.sent);
	app_json_u64(&j, "dropped", fl.dropped);
	app_json_end(&j);
	app_json_obj(&j, "config");
	app_json_u64(&j, "rate", opt.rate);
	app_json_u64(&j, "concurrency", opt.concurrency);
	app_json_num(&j, "seconds", opt.seconds, 3);
	app_json_u64(&j, "requests_per_conn", opt.requests_per_conn);
	app_json_u64(&j, "request_bytes", opt.request_bytes);
	app_json_str(&j, "close", opt.close == CLOSE_RST ? "rst" : "fin");
	snprintf(buf, sizeof(buf), "%s/%u", app_ip_str(dpc.addr.ip, ip), dpc.addr.prefix);
	app_json_str(&j, "addr", buf);
	app_json_u64(&j, "addrs", dpc.addrs);
	app_json_u64(&j, "servers", opt.servers.n);
	app_json_u64(&j, "lanes", nb_lanes);
	app_json_end(&j);
	/* What each lane (lcore) did: the lanes should share the work evenly. */
	app_json_obj(&j, "per_lane");
	for (unsigned int q = 0; q < nb_lanes; q++) {
		const struct gen_lane *l = lanes[q];
		struct tws_stack_stats ls;
		char key[8];

		if (l == NULL || l->dp.st == NULL)
			continue;
		tws_stack_stats_get(l->dp.st, &ls);
		snprintf(key, sizeof(key), "%u", q);
		app_json_obj(&j, key);
		app_json_u64(&j, "connections", l->connections);
		app_json_u64(&j, "tw_entries", ls.tw_entries);
		app_json_u64(&j, "retransmits", ls.retransmits);
		app_json_end(&j);
	}
	app_json_end(&j);
	app_dp_json(&j, &g.dp);
	app_json_str(&j, "cpu", app_cpu_model());
	app_json_end(&j);
}

static void
summary_text(double secs, const struct tws_stack_stats *ss, uint64_t tw_peak)
{
	char detail[256];

	printf(PROG ": %" PRIu64 " connections in %.2f s = %.0f connections/s, %" PRIu64
	       " requests\n", tot.s.connections, secs,
	       secs > 0 ? (double)tot.s.connections / secs : 0.0, tot.s.requests);
	printf(PROG ": latency us connect p50 %" PRIu64 " p99 %" PRIu64 " p999 %" PRIu64
	       ", request p50 %" PRIu64 " p99 %" PRIu64 " p999 %" PRIu64 "\n",
	       app_hist_quantile(&tot.lat_connect, 0.5), app_hist_quantile(&tot.lat_connect, 0.99),
	       app_hist_quantile(&tot.lat_connect, 0.999), app_hist_quantile(&tot.lat_request, 0.5),
	       app_hist_quantile(&tot.lat_request, 0.99), app_hist_quantile(&tot.lat_request, 0.999));
	app_error_detail(detail, sizeof(detail), err_names, tot.s.err, ERR_COUNT);
	printf(PROG ": TIME_WAIT entries peak %" PRIu64 ", now %" PRIu64 " (%.1f bytes each, "
	       "%" PRIu64 " not made: capacity %" PRIu64 "), errors %" PRIu64 "%s, retransmits %" PRIu64
	       "\n", tw_peak, ss->tw_entries, g.dp.tw_bytes_per_entry, ss->tw_overflow,
	       tot.tw_capacity, tot.s.errors, detail, ss->retransmits);
	if (opt.syn_flood > 0) {
		char a[16], b[16];

		printf(PROG ": SYN flood: %" PRIu64 " spoofed SYNs sent from %s to %s, %" PRIu64
		       " dropped\n", fl.sent, app_ip_str(fl.from, a),
		       app_ip_str(fl.from + fl.n - 1, b), fl.dropped);
	}
}

/* Poll until the node is idle (the last ACKs and RSTs out), at most @p us. */
static void
flush(uint64_t us)
{
	uint64_t end = app_dp_now_us(&g.dp) + us;

	do {
		g.now = app_dp_now_us(&g.dp);
	} while (tws_node_poll(g.dp.node, g.now) > 0 && g.now < end);
}

/*
 * --linger: the run is over, but a server whose last ACK from us was lost
 * still retransmits its FIN to our TIME_WAIT entries, which must answer it
 * or it stays in LAST_ACK until its retries give up. Keep polling for
 * --linger seconds, or until a SIGINT that comes after this point.
 */
static void
linger(void)
{
	if (opt.linger <= 0 || app_stop_requests > 1)
		return;

	sig_atomic_t stops = app_stop_requests;
	uint64_t end = app_dp_now_us(&g.dp) + (uint64_t)(opt.linger * 1e6);

	printf(PROG ": run over; answering for %.1f s more (--linger; SIGINT ends it)\n",
	       opt.linger);
	fflush(stdout);
	do {
		g.now = app_dp_now_us(&g.dp);
		tws_node_poll(g.dp.node, g.now);
	} while (g.now < end && app_stop_requests == stops);
	flush(100000);
}

/*
 * The churn of the calling lane from run_ctl.t_start: connects while the
 * run lasts, then --drain for those in flight, then abort what is left.
 * The lead lane (lane 0, the main lcore) also samples every lane for the
 * progress line, the CSV and the TIME_WAIT peak. @return when the run ended.
 */
static uint64_t
churn(bool lead, FILE *csv, uint64_t *tw_peak, struct sample *prev)
{
	uint64_t t_start = run_ctl.t_start, end = t_start + (uint64_t)(opt.seconds * 1e6);
	uint64_t drain_end = UINT64_MAX, next_peak = 0;
	struct sample cur;
	bool starting = true;

	g.now = t_start;
	if (lead)
		sample_take(prev);
	for (;;) {
		g.now = app_dp_now_us(&g.dp);
		if (starting && (g.now >= end || app_stop_requests > 0)) {
			starting = false;
			drain_end = g.now + (uint64_t)(opt.drain * 1e6);
		}
		if (starting) {
			start_connects(t_start);
			if (lead && opt.syn_flood > 0 && !g.warm)
				flood_send();
		} else if (g.inflight == 0 || g.now >= drain_end || app_stop_requests > 1)
			break;
		tws_node_poll(g.dp.node, g.now);
		if (!lead || g.now < next_peak)
			continue;
		next_peak = g.now + 10000;
		sample_take(&cur);
		*tw_peak = RTE_MAX(*tw_peak, cur.ss.tw_entries);
		if (cur.t >= prev->t + 1000000) {
			progress(prev, &cur, t_start, csv);
			*prev = cur;
		}
	}
	abort_inflight();
	flush(100000);
	return g.now;
}

/* A worker lcore: set up lane q, wait for the start, churn, linger. */
static int
lane_main(void *arg)
{
	uint16_t q = (uint16_t)(uintptr_t)arg;
	uint64_t peak = 0;
	struct sample prev;

	g.concurrency = opt.concurrency / nb_lanes + (q < opt.concurrency % nb_lanes);
	g.rate = (double)opt.rate / nb_lanes;
	g.rc = alloc_state(&g) != 0 ? 1 :
	       app_dp_lane_create(&g.dp, &lanes[0]->dp, q, on_event, NULL) != 0 ? 1 : 0;
	lanes[q] = &g;
	__atomic_fetch_add(&run_ctl.ready, 1, __ATOMIC_RELEASE);
	while (run_ctl.go == 0)
		rte_pause();
	if (run_ctl.go > 0 && g.rc == 0) {
		churn(false, NULL, &peak, &prev);
		linger();
		app_dp_bye(&g.dp);
	}
	__atomic_fetch_add(&run_ctl.done, 1, __ATOMIC_RELEASE);
	return g.rc;
}

static int
run(FILE *csv)
{
	uint64_t tw_peak = 0;
	struct sample prev, cur;
	uint64_t t_end = churn(true, csv, &tw_peak, &prev);
	double secs = (double)(t_end - run_ctl.t_start) / 1e6;

	linger();
	/* The other lanes end on the same clock; answer on ours until they are done. */
	while (__atomic_load_n(&run_ctl.done, __ATOMIC_ACQUIRE) < nb_lanes - 1u)
		tws_node_poll(g.dp.node, app_dp_now_us(&g.dp));
	app_dp_bye(&g.dp);
	app_lanes_wait();
	app_dp_port_stop(&g.dp);

	struct tws_stack_stats ss;

	g.now = app_dp_now_us(&g.dp);
	sample_take(&cur);
	if (cur.t > prev.t + 100000)
		progress(&prev, &cur, run_ctl.t_start, csv);
	app_dp_stack_stats(&g.dp, &ss);
	tw_peak = RTE_MAX(tw_peak, ss.tw_entries);
	totals_make();
	summary_text(secs, &ss, tw_peak);
	if (opt.json != NULL) {
		FILE *f = fopen(opt.json, "w");

		if (f == NULL) {
			fprintf(stderr, PROG ": --json '%s': %s\n", opt.json, strerror(errno));
			return 1;
		}
		summary_json(f, secs, &ss, tw_peak);
		fclose(f);
	}
	return tot.s.errors == 0 ? 0 : 3;
}

/* Servers must be neighbours on our subnet: there is no gateway. */
static int
check_servers(void)
{
	char a[16];

	for (unsigned int i = 0; i < opt.servers.n; i++) {
		if (!app_dp_is_neighbour(&dpc, opt.servers.e[i].ip)) {
			fprintf(stderr, PROG ": --server %s: not a neighbour on our subnet /%u, or "
				"one of our --addr addresses (no gateway is used)\n",
				app_ip_str(opt.servers.e[i].ip, a), dpc.addr.prefix);
			return -1;
		}
	}
	return 0;
}

/*
 * The flood's sources (--flood-from A/N, or the FLOOD_DEFAULT_ADDRS after
 * ours): neighbours on our subnet that are neither ours nor a server's, so
 * the server's answers to them find nobody.
 */
static int
check_flood(void)
{
	char a[16], b[16], c[16], net[16];
	uint32_t mask = dpc.addr.prefix == 0 ? 0 : UINT32_MAX << (32 - dpc.addr.prefix);

	fl.from = dpc.addr.ip + dpc.addrs;
	fl.n = FLOOD_DEFAULT_ADDRS;
	if (opt.flood_from != NULL) {
		char ip[16], *end;
		const char *slash = strchr(opt.flood_from, '/');
		struct in_addr in;
		unsigned long n = 0;

		if (slash != NULL && (size_t)(slash - opt.flood_from) < sizeof(ip)) {
			memcpy(ip, opt.flood_from, (size_t)(slash - opt.flood_from));
			ip[slash - opt.flood_from] = '\0';
			n = strtoul(slash + 1, &end, 10);
		}
		if (slash == NULL || n < 1 || n > FLOOD_MAX_ADDRS || *end != '\0' ||
		    slash[1] < '0' || slash[1] > '9' || inet_pton(AF_INET, ip, &in) != 1) {
			fprintf(stderr, PROG ": --flood-from '%s': expected A/N, an IPv4 address and "
				"how many addresses from it (1 to %u)\n", opt.flood_from,
				FLOOD_MAX_ADDRS);
			return -1;
		}
		fl.from = rte_be_to_cpu_32(in.s_addr);
		fl.n = (uint32_t)n;
	} else if (opt.syn_flood == 0) {
		return 0;
	}

	uint64_t last = (uint64_t)fl.from + fl.n - 1;

	for (uint64_t ip = fl.from; ip <= last; ip++) {
		bool bad = ip > UINT32_MAX || !app_dp_is_neighbour(&dpc, (uint32_t)ip);

		for (unsigned int i = 0; i < opt.servers.n && !bad; i++)
			bad = opt.servers.e[i].ip == ip;
		if (!bad)
			continue;
		fprintf(stderr, PROG ": %s %s to %s: the flood's sources must lie inside %s/%u, "
			"without its network and broadcast addresses, our --addr/--addrs range and "
			"the --server addresses (%s is not)%s\n",
			opt.flood_from != NULL ? "--flood-from" : "--syn-flood: the default sources",
			app_ip_str(fl.from, a), app_ip_str((uint32_t)RTE_MIN(last, UINT32_MAX), b),
			app_ip_str(dpc.addr.ip & mask, net), dpc.addr.prefix,
			app_ip_str((uint32_t)ip, c),
			opt.flood_from != NULL ? "" : "; give them with --flood-from A/N");
		return -1;
	}
	return 0;
}

/* TIME_WAIT capacity: what --rate (or CPS_ESTIMATE) makes over the run, within one timeout. */
static uint32_t
tw_capacity(const struct tws_tcp_knobs *k)
{
	double life = RTE_MIN(opt.seconds + opt.drain, k->tw_timeout_ms / 1000.0);
	double n = (opt.rate > 0 ? opt.rate : CPS_ESTIMATE) * life + 65536;

	return n > TW_DEFAULT_MAX ? TW_DEFAULT_MAX : (uint32_t)n;
}

static int
alloc_state(struct gen_lane *l)
{
	l->slots = calloc(l->concurrency, sizeof(*l->slots));
	l->free_ids = calloc(l->concurrency, sizeof(*l->free_ids));
	l->srv = calloc(opt.servers.n, sizeof(*l->srv));
	l->req = calloc(opt.servers.n, sizeof(*l->req));
	if (l->slots == NULL || l->free_ids == NULL || l->srv == NULL || l->req == NULL)
		return -1;
	for (uint32_t i = 0; i < l->concurrency; i++)
		l->free_ids[i] = l->concurrency - 1 - i;
	l->nb_free = l->concurrency;
	for (unsigned int i = 0; i < opt.servers.n; i++) {
		uint32_t n = opt.request_bytes;

		l->req[i] = malloc(n);
		if (l->req[i] == NULL || app_http_request(l->req[i], n, opt.servers.e[i].ip, n) == 0)
			return -1;
	}
	l->nb_pairs = dpc.addrs * opt.servers.n;
	l->warm = true;
	return 0;
}

static void
free_state(struct gen_lane *l)
{
	for (unsigned int i = 0; l->req != NULL && i < opt.servers.n; i++)
		free(l->req[i]);
	free(l->req);
	free(l->srv);
	free(l->free_ids);
	free(l->slots);
	l->req = NULL;
	l->srv = NULL;
	l->free_ids = NULL;
	l->slots = NULL;
}

int
main(int argc, char **argv)
{
	static const struct app_opts_spec spec = {
		.prog = PROG, .section = "gen",
		.synopsis = PROG " [EAL options --] --port NAME --addr A[/P] --server IP:P[,...] "
			    "[options]",
		.about = "Churns HTTP/1.1 connections over a DPDK port: connect, requests,\n"
			 "responses, close by FIN or RST. One lane per EAL lcore (-l 0-3: four),\n"
			 "each with a queue pair, its own connection table and 1/N of the\n"
			 "concurrency, the rate and the local ports (over memif, run tws-server\n"
			 "with as many lcores). Prints connections/s, open connections,\n"
			 "TIME_WAIT entries, errors and retransmissions every second, and a\n"
			 "summary (--json FILE: cps, connections, errors by kind, latency_us,\n"
			 "tw_entries_peak, tw_bytes_per_entry, retransmits, duration_s,\n"
			 "per_lane). SIGINT ends the run.\n"
			 "--syn-flood R adds R spoofed SYNs/s (from the first lane) from\n"
			 "--flood-from addresses (JSON syn_flood: sent, dropped) to test a\n"
			 "server's SYN cookies.",
		.epilog = "Exit status: 0 done without errors, 1 failure (EAL, memory, port), "
			  "2 bad usage or\nconfiguration, 3 the run counted errors.",
		.tables = tables, .nb_tables = RTE_DIM(tables),
	};
	struct app_opts_result res;
	char **eal, **targv;
	int nb_eal, targc;
	FILE *csv = NULL;
	static char tmp_csv[] = "/tmp/tws-gen-plot.XXXXXX";

	app_split_args(argc, argv, &eal, &nb_eal, &targv, &targc);
	if (app_opts_parse(&spec, targc, targv, &res) != 0 || app_dp_conf_check(PROG, &dpc) != 0 ||
	    check_servers() != 0 || check_flood() != 0)
		return 2;
	if ((opt.json != NULL && app_check_writable(PROG, "--json", opt.json) != 0) ||
	    (opt.csv != NULL && app_check_writable(PROG, "--csv", opt.csv) != 0) ||
	    (opt.plot != NULL && app_check_writable(PROG, "--plot", opt.plot) != 0))
		return 2;
	app_dp_knob_defaults(PROG, &res);
	if (!app_opts_knob_given(&res, "max_tw"))
		res.knobs.max_tw = tw_capacity(&res.knobs);

	uint32_t max_conns = opt.concurrency * 2 + 1024;
	uint32_t mbufs = opt.concurrency * 8 + 16384;
	long mem = app_dp_memory_mb(max_conns, res.knobs.max_tw, mbufs, res.knobs.mss);

	if (app_eal_start(PROG, argv[0], eal, nb_eal, mem) != 0)
		return 1;
	app_stop_signals_install();

	int rc = 1;

	nb_lanes = (uint16_t)app_lane_lcores();
	if (nb_lanes > APP_DP_MAX_LANES || nb_lanes > opt.concurrency) {
		fprintf(stderr, PROG ": %u lcores: at most %u are run, and no more than "
			"--concurrency (%u): one lane each\n", nb_lanes, APP_DP_MAX_LANES,
			opt.concurrency);
		rc = 2;
		goto out;
	}
	g.concurrency = opt.concurrency / nb_lanes + (opt.concurrency % nb_lanes != 0);
	g.rate = (double)opt.rate / nb_lanes;
	if (alloc_state(&g) != 0) {
		fprintf(stderr, PROG ": no memory for %u connection slots\n", opt.concurrency);
		goto out;
	}
	int drc = app_dp_create(&g.dp, &(struct app_dp_params){ .prog = PROG, .conf = &dpc,
		.knobs = res.knobs, .max_conns = max_conns,
		.max_dests = RTE_MIN(g.nb_pairs + 16, 1u << 20), .nb_mbufs = mbufs,
		.nb_lanes = nb_lanes, .client = true, .event_cb = on_event });

	if (drc != 0) {
		rc = drc == -ENODEV ? 2 : 1;
		goto out;
	}
	lanes[0] = &g;

	/* The other lanes, one per worker lcore: each makes its own stack there. */
	unsigned int lc, q = 1;

	RTE_LCORE_FOREACH_WORKER(lc) {
		if (q >= nb_lanes)
			break; /* hosted (tws-pair): the other lcore is the server's */
		rte_eal_remote_launch(lane_main, (void *)(uintptr_t)q, lc);
		q++;
	}
	while (__atomic_load_n(&run_ctl.ready, __ATOMIC_ACQUIRE) < nb_lanes - 1u)
		rte_pause();
	bool lanes_ok = true;

	for (q = 1; q < nb_lanes; q++)
		lanes_ok = lanes_ok && lanes[q]->rc == 0;
	if (!lanes_ok) {
		fprintf(stderr, PROG ": a lane could not be set up (the lines above say why)\n");
		rc = 1;
		run_ctl.go = -1;
		app_lanes_wait();
		goto out_dp;
	}
	if (app_telemetry_register(&g.dp) != 0)
		fprintf(stderr, PROG ": telemetry endpoints /tws/* not registered\n");
	if (opt.plot != NULL && opt.csv == NULL) {
		/* The plot is drawn from the per-second lines: keep them in a file of our own. */
		int fd = mkstemp(tmp_csv);

		if (fd < 0) {
			fprintf(stderr, PROG ": --plot: cannot make %s: %s\n", tmp_csv, strerror(errno));
			goto out_dp;
		}
		close(fd);
		opt.csv = tmp_csv;
	}
	if (opt.csv != NULL) {
		csv = fopen(opt.csv, "w");
		if (csv == NULL) {
			fprintf(stderr, PROG ": --csv '%s': %s\n", opt.csv, strerror(errno));
			goto out_dp;
		}
		fputs("time_s,connections,cps,open,tw_entries,tw_bytes,errors,retransmits\n", csv);
	}
	bool link_up = app_dp_link_wait(&g.dp, opt.link_wait);

	if (link_up && g.dp.memif_restarts > 0)
		fprintf(stderr, PROG ": the memif link of %s came up only after %u restart%s of "
			"the port (the server took our first connection before its port was up)\n",
			g.dp.info.name, g.dp.memif_restarts, g.dp.memif_restarts > 1 ? "s" : "");
	if (!link_up)
		fprintf(stderr, PROG ": the link of %s is still down after %.0f s (a memif client "
			"needs its server, with as many lcores as this one: %u); going on: "
			"connections will time out (--link-wait)\n", g.dp.info.name, opt.link_wait,
			nb_lanes);

	char a[16];

	printf(PROG ": %s (%s) from %s/%u (%u address%s) to %u server%s, concurrency %u, rate %s, "
	       "%.1f s; TIME_WAIT room %" PRIu64 " entries (%.1f bytes each)\n", g.dp.info.name,
	       g.dp.info.driver, app_ip_str(dpc.addr.ip, a), dpc.addr.prefix, dpc.addrs,
	       dpc.addrs > 1 ? "es" : "", opt.servers.n, opt.servers.n > 1 ? "s" : "",
	       opt.concurrency, opt.rate ? "limited" : "unlimited", opt.seconds,
	       app_dp_tw_capacity(&g.dp), g.dp.tw_bytes_per_entry);
	if (nb_lanes > 1)
		printf(PROG ": %u lanes (lcores), each with its queue pair, 1/%u of the "
		       "concurrency, the rate and the local ports\n", nb_lanes, nb_lanes);
	fflush(stdout);
	run_ctl.t_start = app_dp_now_us(&g.dp);
	run_ctl.go = 1;
	rc = run(csv);
out_dp:
	if (csv != NULL)
		fclose(csv);
	if (csv != NULL && opt.plot != NULL && plot(opt.csv, opt.plot) == 0)
		printf(PROG ": plot of the run: %s\n", opt.plot);
	if (opt.csv == tmp_csv)
		unlink(tmp_csv);
	for (q = 1; q < nb_lanes; q++) {
		if (lanes[q] != NULL) {
			app_dp_free(&lanes[q]->dp);
			free_state(lanes[q]);
		}
	}
	app_dp_free(&g.dp);
out:
	free_state(&g);
	app_eal_stop();
	return rc;
}
