/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The whole path over real ethdev ports: two net_ring ports joined back to
 * back (A's TX ring is B's RX ring and the other way round), each with a
 * runtime node, a net layer (ARP, Ethernet) and a TCP stack. A resolves B
 * by ARP, then churns connections (request, response, client closes
 * first); time is injected, the loop is bounded.
 */
#include <errno.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "harness.h"
#include "tws_net.h"
#include "tws_runtime.h"

#define CONNS 2000
#define REQ 100

struct side {
	uint16_t port;
	struct tws_port_info info;
	struct tws_net *net;
	struct tws_stack *st;
	struct tws_node *node;
	unsigned int done, errors, accepted;
	uint32_t bytes_ok;
};

static struct side A, B;
static uint8_t msg[REQ];

static void
cb(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct side *s = arg;
	uint8_t buf[REQ * 2];
	int r;

	(void)st;
	switch (ev->type) {
	case TWS_EV_CONNECTED:
		if (tws_send(ev->conn, msg, REQ) != REQ)
			s->errors++;
		break;
	case TWS_EV_ACCEPTED:
		s->accepted++;
		break;
	case TWS_EV_DATA:
		r = tws_recv(ev->conn, buf, sizeof(buf));
		if (r == REQ && memcmp(buf, msg, REQ) == 0)
			s->bytes_ok += REQ;
		else
			s->errors++;
		if (s == &B)
			tws_send(ev->conn, msg, REQ);
		else
			tws_close(ev->conn);
		break;
	case TWS_EV_PEER_CLOSED:
		if (s == &B)
			tws_close(ev->conn);
		break;
	case TWS_EV_CLOSED:
		s->done++;
		break;
	case TWS_EV_RESET:
	case TWS_EV_ERROR:
		s->errors++;
		break;
	default:
		break;
	}
}

static int
side_init_h(struct side *s, const char *name, struct rte_ring *rx, struct rte_ring *tx,
	    rte_be32_t addr, int handoff)
{
	struct tws_stack_params sp = { .name = name, .socket_id = SOCKET_ID_ANY,
				       .max_conns = 4096, .mp = h_pool(), .start_us = 1000000,
				       .event_cb = cb, .event_arg = s };
	int rc = rte_eth_from_rings(name, &rx, 1, &tx, 1, SOCKET_ID_ANY);

	if (rc < 0)
		return rc;
	s->port = (uint16_t)rc;
	rc = tws_port_setup(&(struct tws_port_params){ .port_id = s->port, .mp = h_pool(),
		.socket_id = SOCKET_ID_ANY }, &s->info);
	if (rc != 0)
		return rc;
	s->net = tws_net_create(&(struct tws_net_params){ .name = name,
		.socket_id = SOCKET_ID_ANY, .mac = s->info.mac, .addr_first = addr, .nb_addrs = 1,
		.rx_csum_offload = s->info.rx_tcp_csum, .tx_csum_offload = s->info.tx_tcp_csum,
		.mp = h_pool() });
	tws_tcp_knobs_default(&sp.knobs);
	sp.tx_csum_offload = s->info.tx_tcp_csum && s->info.tx_ip_csum;
	s->st = tws_stack_create(&sp);
	if (s->net == NULL || s->st == NULL)
		return -ENOMEM;
	s->node = tws_node_create(&(struct tws_node_params){ .port_id = s->port,
		.net = s->net, .stack = s->st, .socket_id = SOCKET_ID_ANY, .handoff = handoff,
		.mp = h_pool() });
	return s->node == NULL ? -ENOMEM : 0;
}

static int
side_init(struct side *s, const char *name, struct rte_ring *rx, struct rte_ring *tx,
	  rte_be32_t addr)
{
	return side_init_h(s, name, rx, tx, addr, TWS_NODE_HANDOFF_AUTO);
}

static void
side_free(struct side *s)
{
	tws_node_free(s->node);
	tws_stack_free(s->st);
	tws_net_free(s->net);
	tws_port_close(s->port);
	memset(s, 0, sizeof(*s));
}

/* Poll both nodes at `now` until neither has work (bounded). */
static void
run(uint64_t now)
{
	for (int i = 0; i < 100000; i++)
		if (tws_node_poll(A.node, now) + tws_node_poll(B.node, now) == 0)
			break;
}

static void
test_churn_over_ring_ports_with_arp(void)
{
	struct rte_ring *ab = rte_ring_create("ab", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *ba = rte_ring_create("ba", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	unsigned int base = rte_mempool_avail_count(h_pool());
	uint64_t now = 1000000;
	struct tws_conn *c;
	struct tws_net_stats ns;
	struct tws_node_stats nd;
	struct tws_stack_stats ss;
	unsigned int started = 0;

	CHECK(ab != NULL && ba != NULL);
	memset(msg, 'q', sizeof(msg));
	CHECK(side_init(&A, "ringA", ba, ab, H_ADDR_A) == 0);
	CHECK(side_init(&B, "ringB", ab, ba, H_ADDR_B) == 0);
	CHECK(tws_listen(B.st, 0, H_PORT, NULL) == 0);

	/* The first connection waits for ARP: its SYN is held, then released. */
	CHECK(tws_connect(A.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT }, &c) == 0);
	started++;
	run(now);
	tws_net_stats_get(A.net, &ns);
	CHECK(A.done == 1 && B.done == 1 && A.errors == 0 && B.errors == 0);

	/* Then the churn: 64 at a time, one millisecond per round. */
	for (int round = 0; round < 10000 && A.done < CONNS; round++) {
		while (started < CONNS && started - A.done < 64) {
			CHECK(tws_connect(A.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
				.raddr = H_ADDR_B, .rport = H_PORT }, &c) == 0);
			started++;
		}
		now += 1000;
		run(now);
	}
	CHECKF(A.done == CONNS && B.done == CONNS, "client %u server %u done", A.done, B.done);
	CHECK(A.errors == 0 && B.errors == 0 && B.accepted == CONNS);
	CHECK(A.bytes_ok == CONNS * REQ && B.bytes_ok == CONNS * REQ);
	tws_stack_stats_get(A.st, &ss);
	CHECKF(ss.tw_entries == CONNS && ss.retransmits == 0, "tw %lu retransmits %lu",
	       (unsigned long)ss.tw_entries, (unsigned long)ss.retransmits);
	tws_node_stats_get(A.node, &nd);
	CHECK(nd.tx_dropped == 0 && nd.rx_rejected == 0 && nd.tx_frames > 7u * CONNS / 2);
	tws_net_stats_get(A.net, &ns);
	side_free(&A);
	side_free(&B);
	rte_ring_free(ab);
	rte_ring_free(ba);
	CHECKF(rte_mempool_avail_count(h_pool()) == base, "mbufs %u, at start %u",
	       rte_mempool_avail_count(h_pool()), base);
}

/* A server that never answers ARP: the SYN is given up, counted, nothing hangs. */
static void
test_unreachable_peer_counted_not_hung(void)
{
	struct rte_ring *ab = rte_ring_create("ab2", 1024, SOCKET_ID_ANY, 0);
	struct rte_ring *ba = rte_ring_create("ba2", 1024, SOCKET_ID_ANY, 0);
	uint64_t now = 1000000;
	struct tws_conn *c;
	struct tws_net_stats ns;

	CHECK(ab != NULL && ba != NULL);
	CHECK(side_init(&A, "ringC", ba, ab, H_ADDR_A) == 0);
	CHECK(tws_connect(A.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_C, .rport = H_PORT }, &c) == 0);
	/*
	 * Nobody answers: ARP gives the held SYN up, TCP retransmits it after
	 * 1, 2, 4 ... 64 s (syn_retries 6) and reports ETIMEDOUT at 127 s. At
	 * most 200 s in 100 ms steps of injected time.
	 */
	for (int i = 0; i < 2000 && A.errors == 0; i++) {
		now += 100000;
		tws_node_poll(A.node, now);
		while (rte_ring_count(ab) > 0) { /* the wire eats them */
			void *m;

			if (rte_ring_dequeue(ab, &m) == 0)
				rte_pktmbuf_free(m);
		}
	}
	CHECKF(A.errors == 1, "errors %u", A.errors); /* ERROR ETIMEDOUT after syn_retries */
	CHECKF(now >= 1000000 + 127000000 && now < 1000000 + 128000000, "gave up at %lu us",
	       (unsigned long)now);
	tws_net_stats_get(A.net, &ns);
	CHECK(ns.arp_unresolved > 0 && ns.arp_tx_requests > 3);
	side_free(&A);
	rte_ring_free(ab);
	rte_ring_free(ba);
}

/*
 * The hand-off of a memif link, over net_ring with it forced on: A says
 * goodbye, B answers and parks, then A parks; a parked node takes nothing
 * from its port until the link has gone down and come up again.
 */
static void
test_handoff_parks_both_ends_until_the_link_comes_back(void)
{
	struct rte_ring *ab = rte_ring_create("ab3", 1024, SOCKET_ID_ANY, 0);
	struct rte_ring *ba = rte_ring_create("ba3", 1024, SOCKET_ID_ANY, 0);
	unsigned int base = rte_mempool_avail_count(h_pool());
	struct tws_node_stats na, nb;
	uint64_t now = 1000000;
	struct tws_conn *c;

	CHECK(ab != NULL && ba != NULL);
	CHECK(side_init_h(&A, "ringH", ba, ab, H_ADDR_A, TWS_NODE_HANDOFF_ON) == 0);
	CHECK(side_init_h(&B, "ringI", ab, ba, H_ADDR_B, TWS_NODE_HANDOFF_ON) == 0);
	CHECK(tws_listen(B.st, 0, H_PORT, NULL) == 0);
	/* A connection first, for ARP. */
	CHECK(tws_connect(A.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT }, &c) == 0);
	run(now);
	CHECK(B.accepted == 1 && A.errors == 0 && B.errors == 0);
	CHECK(!tws_node_parked(A.node) && !tws_node_parked(B.node));

	/* A goes: BYE; B answers ACK and parks; the ACK parks A. */
	CHECK(tws_node_bye(A.node) == 0);
	CHECK(rte_ring_count(ab) == 1);
	tws_node_poll(B.node, now);
	CHECK(tws_node_parked(B.node) && !tws_node_parked(A.node));
	CHECK(rte_ring_count(ba) == 1); /* the ACK, nothing after it */
	tws_node_poll(A.node, now);
	CHECK(tws_node_parked(A.node));
	CHECK(tws_node_bye(A.node) == 0 && rte_ring_count(ab) == 0); /* parked: nothing to say */
	tws_node_stats_get(A.node, &na);
	tws_node_stats_get(B.node, &nb);
	CHECK(na.handoffs == 1 && nb.handoffs == 1);

	/*
	 * Parked, B takes nothing from its port (a frame waits in the ring) and
	 * what A's stack sends is freed: a new connection's SYN and its retries.
	 */
	struct rte_mbuf *m = rte_pktmbuf_alloc(h_pool());

	CHECK(m != NULL && rte_pktmbuf_append(m, 60) != NULL);
	memset(rte_pktmbuf_mtod(m, void *), 0, 60);
	CHECK(rte_eth_tx_burst(A.port, 0, &m, 1) == 1);
	CHECK(tws_connect(A.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT }, &c) == 0);
	for (int i = 0; i < 50; i++) {
		now += 100000;
		tws_node_poll(A.node, now);
		tws_node_poll(B.node, now);
	}
	CHECK(rte_ring_count(ab) == 1 && rte_ring_count(ba) == 0);
	tws_node_stats_get(A.node, &na);
	CHECKF(na.tx_parked > 0, "A tx_parked %lu", (unsigned long)na.tx_parked);

	/* The link of B goes down: still parked. Up again (a new peer): B runs. */
	CHECK(rte_eth_dev_set_link_down(B.port) == 0);
	tws_node_poll(B.node, now);
	CHECK(tws_node_parked(B.node) && rte_ring_count(ab) == 1);
	CHECK(rte_eth_dev_set_link_up(B.port) == 0);
	tws_node_poll(B.node, now);
	CHECK(!tws_node_parked(B.node));
	tws_node_poll(B.node, now);
	CHECK(rte_ring_count(ab) == 0); /* taken (and dropped: not IPv4) */
	/* A link that went down and up without a goodbye does not matter to a running node. */
	CHECK(tws_node_parked(A.node));

	/* An ACK nobody asked for parks nobody; a node without the hand-off says no goodbye. */
	CHECK(rte_eth_dev_set_link_down(A.port) == 0);
	tws_node_poll(A.node, now);
	CHECK(rte_eth_dev_set_link_up(A.port) == 0);
	tws_node_poll(A.node, now);
	CHECK(!tws_node_parked(A.node));
	CHECK(tws_node_bye(B.node) == 0); /* BYE to A: A answers and parks, then B */
	tws_node_poll(A.node, now);
	CHECK(tws_node_parked(A.node) && rte_ring_count(ab) >= 1);
	tws_node_poll(B.node, now);
	CHECK(tws_node_parked(B.node));
	struct tws_node *plain = tws_node_create(&(struct tws_node_params){ .port_id = A.port,
		.net = A.net, .stack = A.st, .socket_id = SOCKET_ID_ANY });

	CHECK(plain != NULL && tws_node_bye(plain) == -ENOTSUP && !tws_node_parked(plain));
	tws_node_free(plain);
	CHECK(tws_node_create(&(struct tws_node_params){ .port_id = A.port, .net = A.net,
		.stack = A.st, .socket_id = SOCKET_ID_ANY, .handoff = 2 }) == NULL);

	side_free(&A);
	side_free(&B);
	void *x = NULL;

	while (rte_ring_dequeue(ab, &x) == 0 || rte_ring_dequeue(ba, &x) == 0)
		rte_pktmbuf_free(x);
	rte_ring_free(ab);
	rte_ring_free(ba);
	CHECKF(rte_mempool_avail_count(h_pool()) == base, "mbufs %u, at start %u",
	       rte_mempool_avail_count(h_pool()), base);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_churn_over_ring_ports_with_arp),
		TWS_TEST(test_unreachable_peer_counted_not_hung),
		TWS_TEST(test_handoff_parks_both_ends_until_the_link_comes_back),
	};

	(void)argc;
	h_init(argv[0]);
	return tws_test_run(cases, TWS_NCASES(cases));
}
