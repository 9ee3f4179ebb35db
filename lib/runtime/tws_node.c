/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The poll loop of one lcore: port queue <-> net layer <-> TCP stack.
 * Everything here belongs to the calling lcore; no locks.
 */
#include <errno.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "tws_net.h"
#include "tws_runtime.h"
#include "tws_tcp.h"

#define NODE_BURST_MAX 64

struct tws_node {
	uint16_t port_id;
	uint16_t queue;
	uint16_t burst;
	struct tws_net *net;
	struct tws_stack *stack;
	struct tws_fault *fault;
	bool rx_csum_trust;
	struct tws_node_stats st;
};

struct tws_node *
tws_node_create(const struct tws_node_params *p)
{
	if (p == NULL || p->net == NULL || p->stack == NULL || p->burst > NODE_BURST_MAX ||
	    !rte_eth_dev_is_valid_port(p->port_id)) {
		rte_errno = EINVAL;
		return NULL;
	}

	struct tws_node *n = rte_zmalloc_socket("tws_node", sizeof(*n), RTE_CACHE_LINE_SIZE,
						p->socket_id);

	if (n == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	n->port_id = p->port_id;
	n->queue = p->queue;
	n->burst = p->burst != 0 ? p->burst : 32;
	n->net = p->net;
	n->stack = p->stack;
	n->fault = p->fault;
	n->rx_csum_trust = p->rx_csum_trust != 0;
	return n;
}

void
tws_node_free(struct tws_node *n)
{
	rte_free(n);
}

/* Hand frames to the port; what it does not take is freed and counted. */
static void
port_send(struct tws_node *n, struct rte_mbuf **f, uint16_t nb)
{
	uint16_t sent = nb > 0 ? rte_eth_tx_burst(n->port_id, n->queue, f, nb) : 0;

	if (sent < nb) {
		rte_pktmbuf_free_bulk(f + sent, (unsigned int)(nb - sent));
		n->st.tx_dropped += nb - sent;
	}
	n->st.tx_frames += sent;
}

/* Frames to the wire, through the fault link if there is one. @return nb. */
static unsigned int
node_send(struct tws_node *n, struct rte_mbuf **f, uint16_t nb, uint64_t now_us)
{
	if (n->fault != NULL) {
		struct rte_mbuf *out[2 * NODE_BURST_MAX + TWS_FAULT_RELEASE_MAX];

		port_send(n, out, tws_fault_apply(n->fault, f, nb, out, now_us));
	} else {
		port_send(n, f, nb);
	}
	return nb;
}

unsigned int
tws_node_poll(struct tws_node *n, uint64_t now_us)
{
	struct rte_mbuf *pkts[NODE_BURST_MAX], *rej[NODE_BURST_MAX];
	int32_t reason[NODE_BURST_MAX];
	unsigned int work = 0;
	uint16_t nb, k;

	n->st.polls++;
	nb = rte_eth_rx_burst(n->port_id, n->queue, pkts, n->burst);
	if (nb > 0) {
		n->st.rx_frames += nb;
		work += nb;
		if (n->rx_csum_trust)
			for (uint16_t i = 0; i < nb; i++)
				pkts[i]->ol_flags = (pkts[i]->ol_flags &
						     ~(RTE_MBUF_F_RX_IP_CKSUM_MASK |
						       RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
						    RTE_MBUF_F_RX_IP_CKSUM_GOOD |
						    RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		k = tws_net_rx(n->net, pkts, nb, pkts, now_us);
		if (k > 0) {
			uint16_t acc = tws_stack_rx_burst(n->stack, pkts, rej, reason, k, now_us);

			n->st.rx_segments += k;
			if (acc < k) {
				/* The net layer checked IPv4, so these are malformed TCP: counted by the stack. */
				rte_pktmbuf_free_bulk(rej, (unsigned int)(k - acc));
				n->st.rx_rejected += k - acc;
			}
		}
	}
	tws_stack_poll(n->stack, now_us);
	tws_net_poll(n->net, now_us);

	/* Held frames now due leave first. */
	if (n->fault != NULL) {
		while ((k = tws_fault_poll(n->fault, pkts, n->burst, now_us)) > 0) {
			port_send(n, pkts, k);
			work += k;
		}
	}
	/* The net layer's own frames first: packets released by an ARP reply keep their order. */
	while ((k = tws_net_tx_burst(n->net, pkts, n->burst)) > 0)
		work += node_send(n, pkts, k, now_us);
	while ((nb = tws_stack_tx_burst(n->stack, pkts, n->burst)) > 0) {
		k = tws_net_tx(n->net, pkts, nb, pkts, now_us);
		work += node_send(n, pkts, k, now_us);
		while ((k = tws_net_tx_burst(n->net, pkts, n->burst)) > 0)
			work += node_send(n, pkts, k, now_us);
	}
	return work;
}

void
tws_node_stats_get(const struct tws_node *n, struct tws_node_stats *s)
{
	*s = n->st;
}
