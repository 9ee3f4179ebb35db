/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connections over a faulty link: two net_ring ports joined back to back,
 * each node sending through a tws_fault (loss, duplication, reordering,
 * delay at set rates, both directions). Clients send a request, the
 * server answers, the client closes first; every payload byte is checked
 * against the pattern of its stream position on both sides. Every
 * connection completes, nothing is corrupted, the retransmission counters
 * account for the losses, and every mbuf comes back. Time is injected
 * (100 us steps), the loops are bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "harness.h"
#include "tws_net.h"
#include "tws_runtime.h"

#define MAX_CONNS 1024
#define STEP_US 100

/* Byte i of a stream: the request's from the client, the response's from the server. */
static inline uint8_t
pat(uint64_t i, bool resp)
{
	uint32_t v = (uint32_t)i;

	return (uint8_t)(v * 13 + (v >> 9) + (resp ? 101 : 7));
}

struct fconn {
	struct tws_conn *conn;
	uint64_t tx, rx;           /* bytes queued, bytes received and checked */
	uint32_t bad;
	bool closed, ended, ok;
	int side;
};

struct side {
	uint16_t port;
	struct tws_port_info info;
	struct tws_net *net;
	struct tws_stack *st;
	struct tws_node *node;
	struct tws_fault *fault;
	struct fconn c[MAX_CONNS];
	unsigned int nb_c;
	unsigned int done, errors, accepted, bad;
};

static struct side A, B;
static uint32_t req_len, resp_len;

static void
push(struct fconn *f, uint64_t len, bool resp)
{
	static uint8_t buf[16384];

	while (f->tx < len) {
		uint32_t n = (uint32_t)RTE_MIN(len - f->tx, (uint64_t)sizeof(buf));

		for (uint32_t i = 0; i < n; i++)
			buf[i] = pat(f->tx + i, resp);

		int r = tws_send(f->conn, buf, n);

		if (r <= 0)
			return; /* SENT brings us back */
		f->tx += (uint64_t)r;
	}
}

static void
pull(struct side *s, struct fconn *f, bool resp)
{
	static uint8_t buf[16384];
	int r;

	while ((r = tws_recv(f->conn, buf, sizeof(buf))) > 0) {
		for (int i = 0; i < r; i++)
			if (buf[i] != pat(f->rx + (uint64_t)i, resp))
				f->bad++;
		f->rx += (uint64_t)r;
	}
	if (f->bad > 0 && s->bad == 0)
		s->bad = f->bad;
}

static void
cb(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct side *s = arg;
	struct fconn *f = ev->udata;
	bool server = s == &B;

	(void)st;
	if (ev->type == TWS_EV_ACCEPTED) {
		if (s->nb_c >= MAX_CONNS) {
			tws_abort(ev->conn);
			s->errors++;
			return;
		}
		f = &s->c[s->nb_c++];
		f->conn = ev->conn;
		f->side = 1;
		tws_conn_set_udata(ev->conn, f);
		s->accepted++;
	}
	if (f == NULL)
		return;
	switch (ev->type) {
	case TWS_EV_CONNECTED:
		push(f, req_len, false);
		break;
	case TWS_EV_DATA:
		pull(s, f, !server);
		if (server && f->rx >= req_len)
			push(f, resp_len, true);
		if (!server && f->rx >= resp_len && !f->closed) {
			f->closed = true;
			tws_close(f->conn);
		}
		break;
	case TWS_EV_SENT:
		push(f, server ? resp_len : req_len, server);
		break;
	case TWS_EV_PEER_CLOSED:
		if (server && !f->closed) {
			f->closed = true;
			tws_close(f->conn);
		}
		break;
	case TWS_EV_CLOSED:
		f->ended = true;
		f->ok = f->bad == 0 && f->rx == (server ? req_len : resp_len) &&
			f->tx == (server ? resp_len : req_len);
		f->conn = NULL;
		s->done++;
		break;
	case TWS_EV_RESET:
	case TWS_EV_ERROR:
		f->ended = true;
		f->conn = NULL;
		s->errors++;
		break;
	default:
		break;
	}
}

static int
side_init(struct side *s, const char *name, struct rte_ring *rx, struct rte_ring *tx,
	  rte_be32_t addr, const struct tws_fault_params *fp)
{
	struct tws_stack_params sp = { .name = name, .socket_id = SOCKET_ID_ANY,
				       .max_conns = 4096, .mp = h_pool(), .start_us = 1000000,
				       .event_cb = cb, .event_arg = s };
	int rc = rte_eth_from_rings(name, &rx, 1, &tx, 1, SOCKET_ID_ANY);

	memset(s, 0, sizeof(*s));
	if (rc < 0)
		return rc;
	s->port = (uint16_t)rc;
	rc = tws_port_setup(&(struct tws_port_params){ .port_id = s->port, .mp = h_pool(),
		.socket_id = SOCKET_ID_ANY }, &s->info);
	if (rc != 0)
		return rc;
	s->net = tws_net_create(&(struct tws_net_params){ .name = name,
		.socket_id = SOCKET_ID_ANY, .mac = s->info.mac, .addr_first = addr, .nb_addrs = 1,
		.mp = h_pool() });
	tws_tcp_knobs_default(&sp.knobs);
	s->st = tws_stack_create(&sp);
	s->fault = tws_fault_create(fp);
	if (s->net == NULL || s->st == NULL || s->fault == NULL)
		return -ENOMEM;
	s->node = tws_node_create(&(struct tws_node_params){ .port_id = s->port,
		.net = s->net, .stack = s->st, .fault = s->fault, .socket_id = SOCKET_ID_ANY });
	return s->node == NULL ? -ENOMEM : 0;
}

static void
side_free(struct side *s)
{
	tws_node_free(s->node);
	tws_stack_free(s->st);
	tws_net_free(s->net);
	tws_fault_free(s->fault);
	if (s->info.name[0] != '\0')
		tws_port_close(s->port);
	memset(s, 0, sizeof(*s));
}

static void
poll_both(uint64_t now)
{
	for (int i = 0; i < 1000; i++)
		if (tws_node_poll(A.node, now) + tws_node_poll(B.node, now) == 0)
			break;
}

static void
describe(const char *who, const struct fconn *f)
{
	struct tws_conn_info ci;

	if (f->conn == NULL) {
		printf("# %s: ended %d ok %d tx %lu rx %lu bad %u\n", who, f->ended, f->ok,
		       (unsigned long)f->tx, (unsigned long)f->rx, f->bad);
		return;
	}
	tws_conn_info_get(f->conn, &ci);
	printf("# %s: port %u %s tx %lu rx %lu bad %u; una %u nxt %u max %u unsent %u unacked %u "
	       "rcv_nxt %u rcv_wnd %u snd_wnd %u rto %u retx %u ts_recent %u\n", who,
	       rte_be_to_cpu_16(tws_conn_tuple(f->conn)->lport), tws_tcp_state_name(ci.state),
	       (unsigned long)f->tx, (unsigned long)f->rx, f->bad, ci.snd_una - ci.iss,
	       ci.snd_nxt - ci.iss, ci.snd_max - ci.iss, ci.unsent, ci.unacked,
	       ci.rcv_nxt - ci.irs, ci.rcv_wnd, ci.snd_wnd, ci.rto_ms, ci.retransmits, ci.ts_recent);
}

/* The server's context of client connection f (by the client's port), or NULL. */
static const struct fconn *
peer_of(const struct fconn *f, uint16_t cport)
{
	(void)f;
	for (unsigned int i = 0; i < B.nb_c; i++) {
		if (B.c[i].conn == NULL)
			continue;
		if (tws_conn_tuple(B.c[i].conn)->rport == cport)
			return &B.c[i];
	}
	return NULL;
}

struct fault_case {
	const char *name;
	struct tws_fault_params fp;
	unsigned int conns;
	uint32_t req, resp;
};

/*
 * Run one case: conns connections, 64 in flight, until all ended or 600 s
 * of injected time. Returns whether every one completed intact.
 */
static bool
run_case(const struct fault_case *fc)
{
	struct rte_ring *ab = rte_ring_create("fab", 8192, SOCKET_ID_ANY,
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *ba = rte_ring_create("fba", 8192, SOCKET_ID_ANY,
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
	unsigned int base = rte_mempool_avail_count(h_pool());
	struct tws_fault_params fa = fc->fp, fb = fc->fp;
	uint64_t now = 1000000, end = now + 600ull * 1000000;
	unsigned int started = 0;
	bool all = false;

	HC(ab != NULL && ba != NULL, "rings");
	req_len = fc->req;
	resp_len = fc->resp;
	fa.seed = 11;
	fb.seed = 12;
	static unsigned int nb_run;
	char na[32], nbn[32];

	snprintf(na, sizeof(na), "fA%u", nb_run);
	snprintf(nbn, sizeof(nbn), "fB%u", nb_run++);
	HC(side_init(&A, na, ba, ab, H_ADDR_A, &fa) == 0, "side A");
	HC(side_init(&B, nbn, ab, ba, H_ADDR_B, &fb) == 0, "side B");
	HC(tws_listen(B.st, 0, H_PORT, NULL) == 0, "listen");

	while (now < end) {
		/* One connection first: ARP holds only a few packets for a neighbour not yet known. */
		unsigned int window = A.done + A.errors > 0 ? 64 : 1;

		while (started < fc->conns && started - (A.done + A.errors) < window) {
			struct fconn *f = &A.c[A.nb_c++];

			HC(tws_connect(A.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
				.raddr = H_ADDR_B, .rport = H_PORT, .udata = f }, &f->conn) == 0,
			   "connect %u", started);
			started++;
		}
		now += STEP_US;
		poll_both(now);
		if (A.done + A.errors == fc->conns && B.done + B.errors == fc->conns) {
			all = true;
			break;
		}
	}

	struct tws_stack_stats sa, sb;
	struct tws_fault_stats xa, xb;

	tws_stack_stats_get(A.st, &sa);
	tws_stack_stats_get(B.st, &sb);
	tws_fault_stats_get(A.fault, &xa);
	tws_fault_stats_get(B.fault, &xb);
	printf("# %s: %u conns in %.1f s (injected); client %u done %u errors, server %u done "
	       "%u errors; frames %lu/%lu, dropped %lu/%lu, duplicated %lu/%lu, reordered %lu/%lu, "
	       "delayed %lu/%lu; retransmits %lu/%lu (rto %lu/%lu, fast %lu/%lu), ooo queued "
	       "%lu/%lu\n", fc->name, fc->conns, (double)(now - 1000000) / 1e6, A.done, A.errors,
	       B.done, B.errors, (unsigned long)xa.frames, (unsigned long)xb.frames,
	       (unsigned long)xa.dropped, (unsigned long)xb.dropped,
	       (unsigned long)xa.duplicated, (unsigned long)xb.duplicated,
	       (unsigned long)xa.reordered, (unsigned long)xb.reordered,
	       (unsigned long)xa.delayed, (unsigned long)xb.delayed,
	       (unsigned long)sa.retransmits, (unsigned long)sb.retransmits,
	       (unsigned long)sa.rto_fired, (unsigned long)sb.rto_fired,
	       (unsigned long)sa.fast_retransmits, (unsigned long)sb.fast_retransmits,
	       (unsigned long)sa.ooo_queued, (unsigned long)sb.ooo_queued);
	if (!all || getenv("FDBG") != NULL) {
		unsigned int shown = 0;

		for (unsigned int i = 0; i < A.nb_c && shown < 10; i++) {
			if (A.c[i].ok)
				continue;
			shown++;
			describe("client", &A.c[i]);
			if (A.c[i].conn != NULL) {
				const struct fconn *p = peer_of(&A.c[i],
								tws_conn_tuple(A.c[i].conn)->lport);

				if (p != NULL)
					describe("  server", p);
			}
		}
	}

	bool ok = all && A.errors == 0 && B.errors == 0 && A.bad == 0 && B.bad == 0;

	for (unsigned int i = 0; i < A.nb_c && ok; i++)
		ok = A.c[i].ok;
	for (unsigned int i = 0; i < B.nb_c && ok; i++)
		ok = B.c[i].ok;
	HC(ok, "%s: not every connection completed intact", fc->name);
	HC(B.accepted == fc->conns, "%s: accepted %u", fc->name, B.accepted);
	/* Losses are repaired by retransmission: some, and not absurdly many. */
	if (xa.dropped + xb.dropped > 0) {
		uint64_t retx = sa.retransmits + sb.retransmits;

		HC(retx > 0 && retx <= 4 * (xa.dropped + xb.dropped + xa.reordered + xb.reordered +
					     xa.delayed + xb.delayed),
		   "%s: retransmits %lu for %lu drops", fc->name, (unsigned long)retx,
		   (unsigned long)(xa.dropped + xb.dropped));
	}
	/* TIME_WAIT drains (60 s), then nothing is held; the fault links hold nothing either. */
	for (int i = 0; i < 70; i++) {
		now += 1000000;
		poll_both(now);
	}
	tws_stack_stats_get(A.st, &sa);
	tws_stack_stats_get(B.st, &sb);
	HC(sa.conns == 0 && sb.conns == 0 && sa.tw_entries == 0 && sb.tw_entries == 0,
	   "%s: left conns %lu/%lu tw %lu/%lu", fc->name, (unsigned long)sa.conns,
	   (unsigned long)sb.conns, (unsigned long)sa.tw_entries, (unsigned long)sb.tw_entries);
	side_free(&A);
	side_free(&B);
	rte_ring_free(ab);
	rte_ring_free(ba);
	HC(rte_mempool_avail_count(h_pool()) == base, "%s: mbufs %u, at start %u", fc->name,
	   rte_mempool_avail_count(h_pool()), base);
	return true;
}

static void
cleanup(void)
{
	if (A.node != NULL || A.st != NULL)
		side_free(&A);
	if (B.node != NULL || B.st != NULL)
		side_free(&B);
	rte_ring_free(rte_ring_lookup("fab"));
	rte_ring_free(rte_ring_lookup("fba"));
}

/* The bar: 5 % loss and 5 % reordering each way. */
static void
test_loss_and_reorder(void)
{
	static const struct fault_case fc = {
		.name = "loss 5% reorder 5%", .conns = 1000, .req = 3000, .resp = 20000,
		.fp = { .loss_ppm = 50000, .reorder_ppm = 50000 },
	};

	cleanup();
	CHECK(run_case(&fc));
}

/* Every fault at once, heavier. */
static void
test_all_faults(void)
{
	static const struct fault_case fc = {
		.name = "loss 5% dup 2% reorder 5% delay 2%:5ms", .conns = 1000, .req = 3000,
		.resp = 20000,
		.fp = { .loss_ppm = 50000, .dup_ppm = 20000, .reorder_ppm = 50000,
			.delay_ppm = 20000, .delay_us = 5000 },
	};

	cleanup();
	CHECK(run_case(&fc));
}

/* Duplication and delay alone: nothing is lost, so nothing should need the RTO. */
static void
test_dup_and_delay(void)
{
	static const struct fault_case fc = {
		.name = "dup 10% delay 10%:2ms", .conns = 500, .req = 1000, .resp = 50000,
		.fp = { .dup_ppm = 100000, .delay_ppm = 100000, .delay_us = 2000 },
	};

	cleanup();
	CHECK(run_case(&fc));
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_loss_and_reorder),
		TWS_TEST(test_all_faults),
		TWS_TEST(test_dup_and_delay),
	};

	(void)argc;
	h_init(argv[0]);

	return tws_test_run(cases, TWS_NCASES(cases)); /* it ends the EAL */
}
