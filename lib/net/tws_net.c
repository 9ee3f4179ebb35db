/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The net layer's frames: Ethernet in and out, the IPv4 checks a host makes
 * on what it receives (RFC 1122 §3.2.1), ICMP echo (RFC 792), checksums in
 * software where the port does not offload them, and the queue of frames
 * the layer makes itself. The ARP cache is in tws_arp.c.
 *
 * A TCP frame costs one ethertype branch, a MAC compare, the IPv4 header
 * checks (the header checksum only when the port did not check it) and one
 * range compare for the destination; nothing is allocated or copied.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "tws_log.h"
#include "tws_net_priv.h"
#include "tws_util.h"

RTE_LOG_REGISTER_SUFFIX(tws_net_logtype, net, INFO);

#define IPV4_MIN_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))
#define RX_CKSUM_MASK (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)

/* ---- the layer's own transmit queue ---- */

bool
tws_net_txq_push(struct tws_net *n, struct rte_mbuf *m)
{
	if (n->tx_head - n->tx_tail > n->txq_mask) {
		n->c.tx_queue_full++;
		rte_pktmbuf_free(m);
		return false;
	}
	n->txq[n->tx_head++ & n->txq_mask] = m;
	return true;
}

struct rte_mbuf *
tws_net_alloc(struct tws_net *n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(n->mp);

	if (m == NULL)
		n->c.tx_no_mbuf++;
	return m;
}

uint16_t
tws_net_tx_burst(struct tws_net *n, struct rte_mbuf **frames, uint16_t max)
{
	uint16_t k = 0;

	while (k < max && n->tx_tail != n->tx_head)
		frames[k++] = n->txq[n->tx_tail++ & n->txq_mask];
	return k;
}

uint32_t
tws_net_tx_pending(const struct tws_net *n)
{
	return n->tx_head - n->tx_tail;
}

/* ---- receive ---- */

/*
 * Source addresses no host may send from (Linux's martians in
 * ip_route_input_slow()): this network (0/8), loopback, multicast, the
 * limited broadcast, our subnet's broadcast, and our own addresses.
 */
static inline bool
ip_src_martian(const struct tws_net *n, uint32_t src)
{
	uint32_t top = src >> 24;

	return top == 0 || top == 127 || (top & 0xf0) == 0xe0 || src == UINT32_MAX ||
	       net_is_ours(n, src) || net_is_subnet_bcast(n, src);
}

/*
 * Answer an echo request (RFC 792; RFC 1122 §3.2.2.6): same identifier,
 * sequence and data, addresses swapped, to the Ethernet source of the
 * request (the router's MAC when the pinger is remote), so no ARP lookup is
 * needed. IP options of the request are not echoed.
 */
static void
icmp_echo_reply(struct tws_net *n, const struct rte_mbuf *req, const struct rte_ipv4_hdr *ip,
		uint32_t off, uint32_t len)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(req, const struct rte_ether_hdr *);

	if (IPV4_MIN_LEN + len > n->mtu) {
		n->c.tx_bad++;
		return;
	}

	struct rte_mbuf *m = tws_net_alloc(n);

	if (m == NULL)
		return;

	struct rte_ipv4_hdr *rip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m,
		(uint16_t)(IPV4_MIN_LEN + len));
	struct rte_icmp_hdr *ih = (struct rte_icmp_hdr *)(rip + 1);
	const void *data = rte_pktmbuf_read(req, off, len, ih);

	if (data != ih)
		memcpy(ih, data, len);
	ih->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ih->icmp_cksum = 0;
	ih->icmp_cksum = (uint16_t)~rte_raw_cksum(ih, len);
	*rip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16((uint16_t)(IPV4_MIN_LEN + len)),
		.packet_id = rte_cpu_to_be_16(n->ip_id++),
		.time_to_live = 64,
		.next_proto_id = IPPROTO_ICMP,
		.src_addr = ip->dst_addr,
		.dst_addr = ip->src_addr,
	};
	if (n->tx_offload) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		m->l3_len = IPV4_MIN_LEN;
	} else {
		rip->hdr_checksum = rte_ipv4_cksum(rip);
	}
	net_eth_prepend(n, m, &eh->src_addr, RTE_ETHER_TYPE_IPV4);
	if (tws_net_txq_push(n, m))
		n->c.icmp_echo_replies++;
}

/* An ICMP message to one of our addresses: @p off and @p len locate it in the frame. */
static void
icmp_input(struct tws_net *n, struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t off,
	   uint32_t len)
{
	struct rte_icmp_hdr tmp;
	const struct rte_icmp_hdr *ih;
	uint16_t sum;

	/* No port checks ICMP checksums; Linux's icmp_rcv() drops bad ones. */
	if (len < sizeof(tmp) || rte_raw_cksum_mbuf(m, off, len, &sum) != 0 || sum != 0xffff) {
		net_drop(n, m, TWS_NET_DROP_ICMP_BAD);
		return;
	}
	ih = rte_pktmbuf_read(m, off, sizeof(tmp), &tmp);
	if (ih->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ih->icmp_code != 0) {
		net_drop(n, m, TWS_NET_DROP_ICMP_OTHER);
		return;
	}
	n->c.icmp_echo++;
	icmp_echo_reply(n, m, ip, off, len);
	rte_pktmbuf_free(m);
}

/*
 * Checks of an IPv4 frame (Ethernet header on, at least 14 + 20 bytes in the
 * first segment). Returns the drop reason, or -1 for TCP to hand out, or -2
 * for ICMP; *ihl and *tot give the header and datagram lengths.
 */
static inline int
ip_check(const struct tws_net *n, struct rte_mbuf *m, uint32_t *ihlp, uint32_t *totp)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * RTE_IPV4_IHL_MULTIPLIER;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	uint64_t ipf;

	/* RFC 1122 §3.3.6: unicast IP in a link-layer broadcast is discarded; so are other hosts'. */
	if (unlikely(!rte_is_same_ether_addr(&eh->dst_addr, &n->mac)))
		return TWS_NET_DROP_L2_DST;
	if (unlikely((ip->version_ihl >> 4) != IPVERSION || ihl < IPV4_MIN_LEN))
		return TWS_NET_DROP_IP_BAD_HDR;
	if (unlikely(ETH_LEN + ihl > m->data_len))
		return TWS_NET_DROP_TRUNCATED;
	if (unlikely(tot < ihl || tot > m->pkt_len - ETH_LEN))
		return TWS_NET_DROP_IP_BAD_HDR;
	if (unlikely(!n->rx_offload))
		m->ol_flags &= ~RX_CKSUM_MASK;
	ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (unlikely(ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD))
		return TWS_NET_DROP_IP_BAD_CSUM;
	/*
	 * UNKNOWN: check here. NONE means the port verified the header but the
	 * field is not filled (virtio): as good. Either way the engine is told
	 * GOOD, so it does not check again.
	 */
	if (ipf == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && rte_raw_cksum(ip, ihl) != 0xffff)
		return TWS_NET_DROP_IP_BAD_CSUM;
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_IP_CKSUM_MASK) | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	if (unlikely(!net_is_ours(n, rte_be_to_cpu_32(ip->dst_addr))))
		return TWS_NET_DROP_IP_NOT_OURS;
	if (unlikely(ip_src_martian(n, rte_be_to_cpu_32(ip->src_addr))))
		return TWS_NET_DROP_IP_MARTIAN;
	/* Not reassembled; RFC 1122 §3.2.1.7: TTL is not checked by the destination. */
	if (unlikely(ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return TWS_NET_DROP_IP_FRAGMENT;
	*ihlp = ihl;
	*totp = tot;
	if (likely(ip->next_proto_id == IPPROTO_TCP))
		return -1;
	if (ip->next_proto_id == IPPROTO_ICMP)
		return -2;
	return TWS_NET_DROP_IP_PROTO;
}

/* One frame. Returns true when it is a TCP packet to hand out (Ethernet stripped). */
static inline bool
rx_frame(struct tws_net *n, struct rte_mbuf *m, uint64_t now_us)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint32_t ihl = 0, tot = 0;
	int r;

	if (unlikely(m->data_len < ETH_LEN)) {
		net_drop(n, m, TWS_NET_DROP_TRUNCATED);
		return false;
	}
	if (likely(eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
		r = m->data_len < ETH_LEN + IPV4_MIN_LEN ? TWS_NET_DROP_TRUNCATED
							 : ip_check(n, m, &ihl, &tot);
		if (likely(r == -1)) {
			rte_pktmbuf_adj(m, (uint16_t)ETH_LEN);
			/* Ethernet padding of short frames is not part of the datagram. */
			if (m->pkt_len > tot)
				rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - tot));
			m->l2_len = 0;
			m->l3_len = ihl;
			n->c.rx_tcp++;
			return true;
		}
		if (r == -2) {
			icmp_input(n, m, (const struct rte_ipv4_hdr *)(eh + 1), ETH_LEN + ihl,
				   tot - ihl);
			return false;
		}
	} else if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		if (m->data_len >= ETH_LEN + sizeof(struct rte_arp_hdr)) {
			tws_arp_input(n, m, now_us);
			return false;
		}
		r = TWS_NET_DROP_TRUNCATED;
	} else if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN) ||
		   eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_QINQ)) {
		r = TWS_NET_DROP_VLAN;
	} else {
		r = TWS_NET_DROP_ETHERTYPE;
	}
	net_drop(n, m, (enum tws_net_drop)r);
	return false;
}

uint16_t
tws_net_rx(struct tws_net *n, struct rte_mbuf **frames, uint16_t nb, struct rte_mbuf **tcp,
	   uint64_t now_us)
{
	uint16_t out = 0;

	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = frames[i];

		if (i + 1 < nb)
			rte_prefetch0(rte_pktmbuf_mtod(frames[i + 1], void *));
		if (rx_frame(n, m, now_us))
			tcp[out++] = m;
	}
	n->c.rx_frames += nb;
	return out;
}

/* ---- transmit ---- */

/*
 * The engine asked the port for checksums this port does not fill: compute
 * them here (the engine left the pseudo-header sum in the TCP field).
 */
static void
tx_sw_csum(struct tws_net *n, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	uint8_t *l4h = (uint8_t *)ip + ihl;
	size_t at = 0;

	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM && ihl + sizeof(struct rte_tcp_hdr) <= m->data_len)
		at = offsetof(struct rte_tcp_hdr, cksum);
	else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM && ihl + sizeof(struct rte_udp_hdr) <= m->data_len)
		at = offsetof(struct rte_udp_hdr, dgram_cksum);
	if (at != 0) {
		uint16_t ck = 0;

		memcpy(l4h + at, &ck, sizeof(ck));
		ck = rte_ipv4_udptcp_cksum_mbuf(m, ip, (uint16_t)ihl);
		memcpy(l4h + at, &ck, sizeof(ck));
	}
	m->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
	n->c.tx_sw_csum++;
}

/* Checks and next hop of one packet. Returns the next hop (host order) or 0 (dropped). */
static inline uint32_t
tx_prepare(struct tws_net *n, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t dst, nh;

	if (unlikely(m->data_len < IPV4_MIN_LEN || (ip->version_ihl >> 4) != IPVERSION ||
		     rte_ipv4_hdr_len(ip) > m->data_len || m->pkt_len > n->mtu)) {
		n->c.tx_bad++;
		goto drop;
	}
	if (unlikely(rte_pktmbuf_headroom(m) < ETH_LEN)) {
		n->c.tx_no_headroom++;
		goto drop;
	}
	dst = rte_be_to_cpu_32(ip->dst_addr);
	nh = net_in_subnet(n, dst) ? dst : n->gateway;
	if (unlikely(nh == 0 || net_is_ours(n, dst))) {
		n->c.tx_no_route++;
		goto drop;
	}
	if (unlikely(!n->tx_offload &&
		     (m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK))))
		tx_sw_csum(n, m, ip);
	return nh;
drop:
	rte_pktmbuf_free(m);
	return 0;
}

uint16_t
tws_net_tx(struct tws_net *n, struct rte_mbuf **pkts, uint16_t nb, struct rte_mbuf **frames,
	   uint64_t now_us)
{
	uint16_t out = 0;

	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t nh = tx_prepare(n, m);

		if (nh != 0 && tws_arp_output(n, m, nh, now_us))
			frames[out++] = m;
	}
	n->c.tx_packets += nb;
	n->c.tx_frames += out;
	return out;
}

/* ---- control ---- */

bool
tws_net_is_local(const struct tws_net *n, rte_be32_t ip)
{
	return net_is_ours(n, rte_be_to_cpu_32(ip));
}

const char *
tws_net_drop_name(enum tws_net_drop d)
{
	static const char *const names[] = {
#define TWS_X_NAME(name, desc) #name,
		TWS_NET_DROPS(TWS_X_NAME)
#undef TWS_X_NAME
	};

	return (unsigned int)d < TWS_NET_DROP_COUNT ? names[d] : "?";
}

int
tws_net_stat_name(unsigned int i, const char **name, const char **desc)
{
	static const char *const names[] = {
#define TWS_X_NAME(nm, d) #nm,
		TWS_NET_STATS(TWS_X_NAME)
#undef TWS_X_NAME
	};
	static const char *const descs[] = {
#define TWS_X_DESC(nm, d) d,
		TWS_NET_STATS(TWS_X_DESC)
#undef TWS_X_DESC
	};

	return tws_stat_lookup(names, descs, TWS_NET_STATS_COUNT, i, name, desc);
}

void
tws_net_stats_get(const struct tws_net *n, struct tws_net_stats *s)
{
	static_assert(sizeof(n->c) == offsetof(struct tws_net_stats, arp_entries),
		      "counters and stats must share one layout");
	memcpy(s, &n->c, sizeof(n->c));
	s->arp_entries = n->nb_ent;
	s->tx_pending = tws_net_tx_pending(n);
	s->memory_bytes = n->memory_bytes;
}

/* Log one line naming the bad field; returns false. */
static bool
bad_param(const char *name, const char *what)
{
	TWS_LOG(tws_net_logtype, ERR, "%s: %s", name, what);
	return false;
}

static bool
params_ok(const struct tws_net_params *p, const char *name, uint32_t prefix)
{
	uint32_t first = rte_be_to_cpu_32(p->addr_first);
	uint32_t mask = prefix >= 8 && prefix <= 32 ? UINT32_MAX << (32 - prefix) : 0; /* checked below */
	uint32_t last = first + p->nb_addrs - 1;
	uint32_t gw = rte_be_to_cpu_32(p->gateway);
	uint32_t room = rte_pktmbuf_data_room_size(p->mp);
	uint32_t mtu = p->mtu != 0 ? p->mtu : 1500;
	struct tws_net probe = { .addr_first = first, .nb_addrs = p->nb_addrs,
				 .subnet = first & mask, .netmask = mask };

	if (!rte_is_unicast_ether_addr(&p->mac) || rte_is_zero_ether_addr(&p->mac))
		return bad_param(name, "mac: expected a unicast address");
	if (prefix < 8 || prefix > 32)
		return bad_param(name, "prefix_len: expected 8..32 (0: 24)");
	if (p->nb_addrs == 0 || last < first || (last & mask) != (first & mask))
		return bad_param(name, "nb_addrs: expected 1 or more addresses inside one subnet");
	if ((first >> 24) == 0 || (first >> 24) == 127 || (first >> 24) >= 224 ||
	    net_is_subnet_bcast(&probe, first) || net_is_subnet_bcast(&probe, last))
		return bad_param(name, "addr_first: addresses must be unicast, not the subnet's "
				 "network or broadcast address");
	if (p->gateway != 0 && ((gw & mask) != (first & mask) || net_is_ours(&probe, gw) ||
				net_is_subnet_bcast(&probe, gw)))
		return bad_param(name, "gateway: expected 0 or a neighbour inside the subnet");
	if (p->arp_entries > (UINT32_C(1) << 20))
		return bad_param(name, "arp_entries: expected 1..1048576 (0: 1024)");
	if (p->arp_retries > 255 || p->arp_queue > 255)
		return bad_param(name, "arp_retries, arp_queue: expected 1..255 (0: default)");
	if (p->tx_queue_size > (UINT32_C(1) << 24))
		return bad_param(name, "tx_queue_size: expected 1..16777216 (0: 1024)");
	if (mtu < 68 || mtu > 9000)
		return bad_param(name, "mtu: expected 68..9000 (0: 1500)");
	if (room < RTE_PKTMBUF_HEADROOM + ETH_LEN + mtu) {
		TWS_LOG(tws_net_logtype, ERR, "%s: mbuf data room %u too small for mtu %u (needs %u)",
			name, room, mtu, RTE_PKTMBUF_HEADROOM + ETH_LEN + mtu);
		return false;
	}
	return true;
}

/* DPDK memory on the instance's socket, counted in memory_bytes. */
static void *
net_zmalloc(struct tws_net *n, size_t size, int socket_id)
{
	void *p = rte_zmalloc_socket(n->name, size, RTE_CACHE_LINE_SIZE, socket_id);

	if (p != NULL)
		n->memory_bytes += size;
	return p;
}

struct tws_net *
tws_net_create(const struct tws_net_params *p)
{
	const char *name = p != NULL && p->name != NULL ? p->name : "tws_net";

	if (p == NULL || p->mp == NULL) {
		TWS_LOG(tws_net_logtype, ERR, "%s: params and mp are required", name);
		rte_errno = EINVAL;
		return NULL;
	}

	uint32_t prefix = p->prefix_len != 0 ? p->prefix_len : 24;

	if (!params_ok(p, name, prefix)) {
		rte_errno = EINVAL;
		return NULL;
	}

	struct tws_net *n = rte_zmalloc_socket(name, sizeof(*n), RTE_CACHE_LINE_SIZE,
					       p->socket_id);

	if (n == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->memory_bytes = sizeof(*n);
	n->mac = p->mac;
	n->mtu = p->mtu != 0 ? p->mtu : 1500;
	n->addr_first = rte_be_to_cpu_32(p->addr_first);
	n->nb_addrs = p->nb_addrs;
	n->netmask = UINT32_MAX << (32 - prefix);
	n->subnet = n->addr_first & n->netmask;
	n->gateway = rte_be_to_cpu_32(p->gateway);
	n->rx_offload = p->rx_csum_offload;
	n->tx_offload = p->tx_csum_offload;
	n->hash_seed = (uint32_t)rte_rand();
	n->max_ent = p->arp_entries != 0 ? p->arp_entries : TWS_NET_DEFAULT_ARP_ENTRIES;
	n->arp_queue = p->arp_queue != 0 ? p->arp_queue : TWS_NET_DEFAULT_ARP_QUEUE;
	n->arp_retries = p->arp_retries != 0 ? p->arp_retries : TWS_NET_DEFAULT_ARP_RETRIES;
	n->timeout_us = (uint64_t)(p->arp_timeout_ms != 0 ? p->arp_timeout_ms
					: TWS_NET_DEFAULT_ARP_TIMEOUT_MS) * 1000;
	n->retry_us = (uint64_t)(p->arp_retry_ms != 0 ? p->arp_retry_ms
				      : TWS_NET_DEFAULT_ARP_RETRY_MS) * 1000;
	n->mp = p->mp;

	/* At most half the slots in use keeps linear probing short. */
	uint32_t nb_slots = rte_align32pow2(RTE_MAX(n->max_ent * 2, 8u));
	uint32_t txq = rte_align32pow2(p->tx_queue_size != 0 ? p->tx_queue_size
					: TWS_NET_DEFAULT_TX_QUEUE);

	n->slot_mask = nb_slots - 1;
	n->txq_mask = txq - 1;
	n->slots = net_zmalloc(n, sizeof(*n->slots) * nb_slots, p->socket_id);
	n->ent = net_zmalloc(n, sizeof(*n->ent) * n->max_ent, p->socket_id);
	n->held = net_zmalloc(n, sizeof(*n->held) * n->max_ent * n->arp_queue, p->socket_id);
	n->txq = net_zmalloc(n, sizeof(*n->txq) * txq, p->socket_id);
	if (n->slots == NULL || n->ent == NULL || n->held == NULL || n->txq == NULL) {
		tws_net_free(n);
		rte_errno = ENOMEM;
		return NULL;
	}
	tws_arp_init(n);
	return n;
}

void
tws_net_free(struct tws_net *n)
{
	if (n == NULL)
		return;
	if (n->ent != NULL && n->held != NULL)
		tws_arp_flush(n);
	while (n->tx_tail != n->tx_head)
		rte_pktmbuf_free(n->txq[n->tx_tail++ & n->txq_mask]);
	rte_free(n->slots);
	rte_free(n->ent);
	rte_free(n->held);
	rte_free(n->txq);
	rte_free(n);
}
