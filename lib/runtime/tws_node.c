/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The poll loop of one lcore: port queue <-> net layer <-> TCP stack.
 * Everything here belongs to the calling lcore; no locks.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "tws_net.h"
#include "tws_runtime.h"
#include "tws_tcp.h"

#define NODE_BURST_MAX 64

/* Where a node is in the hand-off of its link (tws_runtime.h). */
enum node_park {
	NODE_RUNNING,
	NODE_PARKED_UP,     /* goodbye said and answered; the link still up */
	NODE_PARKED_DOWN,   /* and it has gone down since: up again means a new peer */
};

/* The hand-off frame: Ethernet, then this. Padded to the 60-byte minimum. */
#define HANDOFF_MAGIC "twstack"
#define HANDOFF_BYE 1
#define HANDOFF_ACK 2
#define HANDOFF_FRAME_LEN 60

struct handoff_msg {
	char magic[8];
	uint8_t kind;
} __rte_packed;

struct tws_node {
	uint16_t port_id;
	uint16_t queue;
	uint16_t burst;
	struct tws_net *net;
	struct tws_stack *stack;
	struct tws_fault *fault;
	bool rx_csum_trust;
	bool handoff;
	uint8_t park;              /* enum node_park */
	bool park_now;             /* park at the end of this poll */
	bool bye_sent;             /* an ACK parks us */
	struct rte_mbuf *ack;      /* an ACK to send at the end of this poll */
	struct rte_mempool *mp;
	struct rte_ether_addr mac;
	struct tws_node_stats st;
};

struct tws_node *
tws_node_create(const struct tws_node_params *p)
{
	struct rte_eth_dev_info di;

	if (p == NULL || p->net == NULL || p->stack == NULL || p->burst > NODE_BURST_MAX ||
	    p->handoff < TWS_NODE_HANDOFF_OFF || p->handoff > TWS_NODE_HANDOFF_ON ||
	    !rte_eth_dev_is_valid_port(p->port_id) || rte_eth_dev_info_get(p->port_id, &di) != 0) {
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
	n->handoff = p->handoff == TWS_NODE_HANDOFF_ON ||
		     (p->handoff == TWS_NODE_HANDOFF_AUTO && di.driver_name != NULL &&
		      strcmp(di.driver_name, "net_memif") == 0);
	n->mp = p->mp;
	if (rte_eth_macaddr_get(p->port_id, &n->mac) != 0)
		memset(&n->mac, 0, sizeof(n->mac));
	return n;
}

void
tws_node_free(struct tws_node *n)
{
	if (n != NULL)
		rte_pktmbuf_free(n->ack);
	rte_free(n);
}

/* Hand frames to the port; what it does not take is freed and counted. @return sent. */
static uint16_t
port_send(struct tws_node *n, struct rte_mbuf **f, uint16_t nb)
{
	uint16_t sent = nb > 0 ? rte_eth_tx_burst(n->port_id, n->queue, f, nb) : 0;

	if (sent < nb) {
		rte_pktmbuf_free_bulk(f + sent, (unsigned int)(nb - sent));
		n->st.tx_dropped += nb - sent;
	}
	n->st.tx_frames += sent;
	return sent;
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

/* The hand-off message in frame @p m, or NULL if it is not one. */
static const struct handoff_msg *
handoff_msg(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct handoff_msg *h = (const struct handoff_msg *)(eth + 1);

	if (m->data_len < sizeof(*eth) + sizeof(*h) ||
	    eth->ether_type != RTE_BE16(TWS_NODE_HANDOFF_ETHERTYPE) ||
	    memcmp(h->magic, HANDOFF_MAGIC, sizeof(h->magic)) != 0)
		return NULL;
	return h;
}

/*
 * Write a hand-off message of @p kind to @p dst into @p m (reset to hold only
 * it). @return 0, or -ENOBUFS when its buffer is too small.
 */
static int
handoff_fill(const struct tws_node *n, struct rte_mbuf *m, uint8_t kind,
	     const struct rte_ether_addr *dst)
{
	rte_pktmbuf_reset(m);

	char *p = rte_pktmbuf_append(m, HANDOFF_FRAME_LEN);

	if (p == NULL)
		return -ENOBUFS;
	memset(p, 0, HANDOFF_FRAME_LEN);

	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct handoff_msg *h = (struct handoff_msg *)(eth + 1);

	eth->dst_addr = *dst;
	eth->src_addr = n->mac;
	eth->ether_type = RTE_BE16(TWS_NODE_HANDOFF_ETHERTYPE);
	memcpy(h->magic, HANDOFF_MAGIC, sizeof(h->magic));
	h->kind = kind;
	return 0;
}

/*
 * Take the hand-off frames out of a received burst: a BYE is turned into
 * the ACK sent at the end of this poll, after which the node parks; an
 * ACK to our BYE parks it too. @return the frames left, in order.
 */
static uint16_t
handoff_rx(struct tws_node *n, struct rte_mbuf **pkts, uint16_t nb)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct handoff_msg *h = handoff_msg(m);

		if (likely(h == NULL)) {
			pkts[k++] = m;
			continue;
		}
		if (h->kind == HANDOFF_BYE && n->ack == NULL) {
			struct rte_ether_addr peer =
				rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr;

			if (handoff_fill(n, m, HANDOFF_ACK, &peer) == 0)
				n->ack = m;
			else
				rte_pktmbuf_free(m); /* parked all the same: the peer gives up waiting */
			n->park_now = true;
		} else {
			n->park_now = n->park_now || (h->kind == HANDOFF_ACK && n->bye_sent);
			rte_pktmbuf_free(m);
		}
	}
	return k;
}

/* Stop touching the port: the peer is going (or we are, and it knows). */
static void
node_park(struct tws_node *n)
{
	if (n->ack != NULL) {
		port_send(n, &n->ack, 1);
		n->ack = NULL;
	}
	n->park_now = false;
	n->bye_sent = false;
	n->park = NODE_PARKED_UP;
	n->st.handoffs++;
}

/*
 * A parked poll: no burst on the port. Wait for its link to go down (the
 * peer has left) and come up again (a new one), then run. Timers still run;
 * what they send is freed.
 */
static unsigned int
node_parked_poll(struct tws_node *n, uint64_t now_us)
{
	struct rte_mbuf *pkts[NODE_BURST_MAX];
	struct rte_eth_link link;
	uint16_t k;

	if (rte_eth_link_get_nowait(n->port_id, &link) == 0) {
		if (link.link_status == RTE_ETH_LINK_DOWN)
			n->park = NODE_PARKED_DOWN;
		else if (n->park == NODE_PARKED_DOWN)
			n->park = NODE_RUNNING; /* from the next poll */
	}
	tws_stack_poll(n->stack, now_us);
	tws_net_poll(n->net, now_us);
	/* Whatever would go out (held faulty-link frames, the net layer's, the stack's) is freed. */
	for (;;) {
		k = n->fault != NULL ? tws_fault_poll(n->fault, pkts, n->burst, now_us) : 0;
		if (k == 0)
			k = tws_net_tx_burst(n->net, pkts, n->burst);
		if (k == 0)
			k = tws_stack_tx_burst(n->stack, pkts, n->burst);
		if (k == 0)
			return 0;
		rte_pktmbuf_free_bulk(pkts, k);
		n->st.tx_parked += k;
	}
}

int
tws_node_bye(struct tws_node *n)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff,
								     0xff, 0xff } };

	if (!n->handoff)
		return -ENOTSUP;
	if (n->park != NODE_RUNNING)
		return 0;

	struct rte_mbuf *m = n->mp != NULL ? rte_pktmbuf_alloc(n->mp) : NULL;

	if (m == NULL || handoff_fill(n, m, HANDOFF_BYE, &bcast) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	/* Straight to the port: a fault link would drop or delay it. */
	if (port_send(n, &m, 1) != 1)
		return -ENOBUFS;
	n->bye_sent = true;
	return 0;
}

bool
tws_node_parked(const struct tws_node *n)
{
	return n->park != NODE_RUNNING;
}

unsigned int
tws_node_poll(struct tws_node *n, uint64_t now_us)
{
	struct rte_mbuf *pkts[NODE_BURST_MAX], *rej[NODE_BURST_MAX];
	int32_t reason[NODE_BURST_MAX];
	unsigned int work = 0;
	uint16_t nb, k;

	n->st.polls++;
	if (unlikely(n->park != NODE_RUNNING))
		return node_parked_poll(n, now_us);
	nb = rte_eth_rx_burst(n->port_id, n->queue, pkts, n->burst);
	if (nb > 0) {
		n->st.rx_frames += nb;
		work += nb;
		if (n->handoff)
			nb = handoff_rx(n, pkts, nb);
		if (n->rx_csum_trust)
			for (uint16_t i = 0; i < nb; i++)
				pkts[i]->ol_flags = (pkts[i]->ol_flags &
						     ~(RTE_MBUF_F_RX_IP_CKSUM_MASK |
						       RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
						    RTE_MBUF_F_RX_IP_CKSUM_GOOD |
						    RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		k = nb > 0 ? tws_net_rx(n->net, pkts, nb, pkts, now_us) : 0;
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
	/* The ACK of a goodbye goes last: after it, the peer may take the rings away. */
	if (unlikely(n->park_now))
		node_park(n);
	return work;
}

void
tws_node_stats_get(const struct tws_node *n, struct tws_node_stats *s)
{
	*s = n->st;
}
