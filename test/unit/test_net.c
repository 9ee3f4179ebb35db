/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Net layer (lib/net): ARP answered byte for byte, learnt by Linux's rules,
 * retried, aged and reconfirmed with injected time; packets held while a
 * next hop is resolved and released in order; ICMP echo; TCP frames handed
 * out without Ethernet; every drop reason; frames truncated at every length
 * in buffers of exactly that length (a read past them is a heap overflow
 * under AddressSanitizer); checksum offload flags both ways; no mbuf leaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tws_net.h"
#include "tws_tcp.h"
#include "tws_test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define OURS IP(10, 0, 0, 10)     /* our addresses: 10.0.0.10 .. 10.0.0.13 */
#define NB_OURS 4
#define PEER IP(10, 0, 0, 2)
#define GW IP(10, 0, 0, 1)
#define SEC 1000000ull

static const struct rte_ether_addr our_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0x99 } };
static const struct rte_ether_addr peer_mac2 = { { 0x02, 0, 0, 0, 0, 0x98 } };
static const struct rte_ether_addr bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
static const struct rte_ether_addr zero_mac;

static struct rte_mempool *mp;
static unsigned int pool_base;

static struct tws_net_params
params(void)
{
	return (struct tws_net_params){
		.name = "tnet", .socket_id = SOCKET_ID_ANY, .mac = our_mac,
		.addr_first = rte_cpu_to_be_32(OURS), .nb_addrs = NB_OURS,
		.gateway = rte_cpu_to_be_32(GW), .mp = mp,
	};
}

static struct tws_net *
net_with(const struct tws_net_params *p)
{
	struct tws_net *n = tws_net_create(p);

	if (n == NULL)
		printf("# tws_net_create: %s\n", rte_strerror(rte_errno));
	return n;
}

/* Free every frame the layer queued, then the layer; true if the pool is back to its size. */
static bool
finish(struct tws_net *n)
{
	struct rte_mbuf *f[64];
	uint16_t k;

	while ((k = tws_net_tx_burst(n, f, 64)) > 0)
		rte_pktmbuf_free_bulk(f, k);
	tws_net_free(n);
	if (rte_mempool_avail_count(mp) != pool_base)
		printf("# pool: %u of %u mbufs free\n", rte_mempool_avail_count(mp), pool_base);
	return rte_mempool_avail_count(mp) == pool_base;
}

static void
stats(const struct tws_net *n, struct tws_net_stats *s)
{
	tws_net_stats_get(n, s);
}

/* Every received frame is accounted for exactly once. */
static bool
rx_balanced(const struct tws_net *n)
{
	struct tws_net_stats s;
	uint64_t drops = 0;

	stats(n, &s);
	for (unsigned int i = 0; i < TWS_NET_DROP_COUNT; i++)
		drops += s.drops[i];
	return drops == s.rx_dropped &&
	       s.rx_frames == s.rx_tcp + s.arp_rx_requests + s.arp_rx_replies + s.icmp_echo +
			      s.rx_dropped;
}

/* ---- frame builders (byte arrays; mbufs made from them) ---- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t
eth(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src, uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	put16(b + 12, type);
	return 14;
}

/* An ARP frame from the peer's MAC, padded with zeros to 60 bytes as on the wire. */
static uint32_t
arp(uint8_t *b, const struct rte_ether_addr *eth_dst, uint16_t op,
    const struct rte_ether_addr *sha, uint32_t spa, const struct rte_ether_addr *tha, uint32_t tpa)
{
	memset(b, 0, 60);
	eth(b, eth_dst, sha, RTE_ETHER_TYPE_ARP);
	put16(b + 14, 1);
	put16(b + 16, 0x0800);
	b[18] = 6;
	b[19] = 4;
	put16(b + 20, op);
	memcpy(b + 22, sha, 6);
	put32(b + 28, spa);
	memcpy(b + 32, tha, 6);
	put32(b + 38, tpa);
	return 60;
}

/* Store a checksum computed by rte_raw_cksum() (a sum in memory order) at p. */
static void
put_cksum(uint8_t *p, const void *data, uint32_t len)
{
	uint16_t ck;

	memset(p, 0, 2);
	ck = (uint16_t)~rte_raw_cksum(data, len);
	memcpy(p, &ck, 2);
}

static void
ip_csum(uint8_t *ip)
{
	put_cksum(ip + 10, ip, (ip[0] & 0xf) * 4u);
}

/* IPv4 header (20 bytes, valid checksum) at ip for a datagram of @p tot bytes. */
static void
ipv4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint16_t tot, uint16_t id)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, tot);
	put16(ip + 4, id);
	put16(ip + 6, RTE_IPV4_HDR_DF_FLAG);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	ip_csum(ip);
}

/* A TCP ACK (20-byte header, valid checksum) from @p src to @p dst. */
static uint32_t
tcp_at(uint8_t *ip, uint32_t src, uint32_t dst, uint16_t id)
{
	uint8_t *t = ip + 20;

	ipv4(ip, src, dst, IPPROTO_TCP, 40, id);
	memset(t, 0, 20);
	put16(t, 40000);
	put16(t + 2, 80);
	put32(t + 4, 1000 + id);
	t[12] = 5 << 4;
	t[13] = 0x10;
	put16(t + 14, 65535);

	uint16_t ck = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)ip, t);

	memcpy(t + 16, &ck, 2);
	return 40;
}

/* An Ethernet frame of a TCP ACK from the peer to ours, padded to 60 bytes. */
static uint32_t
tcp_frame(uint8_t *b, uint32_t src, uint32_t dst)
{
	memset(b, 0, 60);
	eth(b, &our_mac, &peer_mac, RTE_ETHER_TYPE_IPV4);
	tcp_at(b + 14, src, dst, 7);
	return 60;
}

/* An ICMP message of @p len bytes (type, code, id 0x1234, seq 9, data i & 0xff). */
static uint32_t
icmp_frame(uint8_t *b, uint32_t src, uint32_t dst, uint8_t type, uint32_t len)
{
	uint8_t *ic = b + 34;

	eth(b, &our_mac, &peer_mac, RTE_ETHER_TYPE_IPV4);
	ipv4(b + 14, src, dst, IPPROTO_ICMP, (uint16_t)(20 + len), 3);
	memset(ic, 0, len);
	ic[0] = type;
	put16(ic + 4, 0x1234);
	put16(ic + 6, 9);
	for (uint32_t i = 8; i < len; i++)
		ic[i] = (uint8_t)i;
	put_cksum(ic + 2, ic, len);
	return 34 + len;
}

static struct rte_mbuf *
mk(const uint8_t *b, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m != NULL)
		memcpy(rte_pktmbuf_append(m, (uint16_t)len), b, len);
	return m;
}

static void
ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

/*
 * An mbuf whose data is a malloc()ed buffer of exactly @p len bytes: a read
 * past data_len is a heap overflow AddressSanitizer reports.
 */
static struct rte_mbuf *
mk_exact(const uint8_t *b, uint32_t len)
{
	struct rte_mbuf_ext_shared_info *sh = malloc(sizeof(*sh));
	uint8_t *buf = malloc(len > 0 ? len : 1);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	memcpy(buf, b, len);
	memset(sh, 0, sizeof(*sh));
	sh->free_cb = ext_free;
	sh->fcb_opaque = sh;
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, 0, (uint16_t)len, sh);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return m;
}

/* One frame in; returns the TCP packets handed out (0 or 1) and frees them unless kept. */
static uint16_t
rx1(struct tws_net *n, struct rte_mbuf *m, uint64_t now, struct rte_mbuf **keep)
{
	struct rte_mbuf *out[1];
	uint16_t k = tws_net_rx(n, &m, 1, out, now);

	if (k == 1) {
		if (keep != NULL)
			*keep = out[0];
		else
			rte_pktmbuf_free(out[0]);
	}
	return k;
}

/* Drain the layer's frames into f (up to cap). */
static uint16_t
drain(struct tws_net *n, struct rte_mbuf **f, uint16_t cap)
{
	return tws_net_tx_burst(n, f, cap);
}

/* An IPv4 TCP packet as the engine hands it to the net layer (data at the IPv4 header). */
static struct rte_mbuf *
ip_pkt(uint32_t dst, uint16_t id)
{
	uint8_t b[64];

	tcp_at(b, OURS, dst, id);
	return mk(b, 40);
}

static uint16_t
frame_ip_id(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return (uint16_t)(p[14 + 4] << 8 | p[14 + 5]);
}

static bool
frame_is_ip_to(const struct rte_mbuf *m, const struct rte_ether_addr *dst)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return m->data_len == 54 && m->l2_len == 14 && rte_is_same_ether_addr(&eh->dst_addr, dst) &&
	       rte_is_same_ether_addr(&eh->src_addr, &our_mac) &&
	       eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

/* The bytes of an ARP frame we expect to send (42 bytes). */
static void
arp_expected(uint8_t *b, const struct rte_ether_addr *eth_dst, uint16_t op, uint32_t spa,
	     const struct rte_ether_addr *tha, uint32_t tpa)
{
	arp(b, eth_dst, op, &our_mac, spa, tha, tpa);
}

static bool
frame_is(const struct rte_mbuf *m, const uint8_t *b, uint32_t len)
{
	if (m->pkt_len != len || m->data_len != len)
		return false;
	return memcmp(rte_pktmbuf_mtod(m, const uint8_t *), b, len) == 0;
}

/* ---- cases ---- */

/* Break parameter set @p i; returns what was broken, NULL after the last. */
static const char *
break_param(unsigned int i, struct tws_net_params *q)
{
	switch (i) {
	case 0: q->mp = NULL; return "no pool";
	case 1: q->mac.addr_bytes[0] = 0x01; return "multicast mac";
	case 2: memset(&q->mac, 0, sizeof(q->mac)); return "zero mac";
	case 3: q->nb_addrs = 0; return "no address";
	case 4: q->nb_addrs = 250; return "range leaves the subnet";
	case 5: q->addr_first = rte_cpu_to_be_32(IP(10, 0, 0, 0)); return "network address";
	case 6: q->addr_first = rte_cpu_to_be_32(IP(127, 0, 0, 5)); return "loopback";
	case 7: q->addr_first = rte_cpu_to_be_32(IP(224, 0, 0, 5)); return "multicast address";
	case 8: q->gateway = rte_cpu_to_be_32(IP(10, 0, 1, 1)); return "gateway outside";
	case 9: q->gateway = rte_cpu_to_be_32(OURS + 1); return "gateway is ours";
	case 10: q->prefix_len = 33; return "prefix 33";
	case 11: q->prefix_len = 7; return "prefix 7";
	case 12: q->mtu = 67; return "mtu 67";
	case 13: q->mtu = 9001; return "mtu 9001";
	case 14: q->arp_retries = 256; return "arp_retries 256";
	case 15: q->arp_queue = 256; return "arp_queue 256";
	case 16: q->arp_entries = (1u << 20) + 1; return "arp_entries 2^20 + 1";
	default: return NULL;
	}
}

static void
test_params_refused(void)
{
	struct tws_net_params p;
	struct rte_mempool *small = rte_pktmbuf_pool_create("tnet_small", 63, 0, 0,
							    RTE_PKTMBUF_HEADROOM + 1000,
							    SOCKET_ID_ANY);
	const char *what;

	CHECK(small != NULL);
	CHECK(tws_net_create(NULL) == NULL && rte_errno == EINVAL);
	CHECK(tws_net_create(&(struct tws_net_params){ .mp = mp }) == NULL && rte_errno == EINVAL);
	for (unsigned int i = 0; p = params(), (what = break_param(i, &p)) != NULL; i++) {
		rte_errno = 0;
		CHECKF(tws_net_create(&p) == NULL && rte_errno == EINVAL, "%s", what);
	}
	p = params();
	p.mp = small; /* 1000 bytes of data room: no room for a 1500-byte packet */
	CHECK(tws_net_create(&p) == NULL && rte_errno == EINVAL);
	p.mtu = 900;
	struct tws_net *n = net_with(&p);

	CHECK(n != NULL);
	tws_net_free(n);
	rte_mempool_free(small);
	tws_net_free(NULL);
	/* A /31 link (RFC 3021) has no network or broadcast address to refuse. */
	p = params();
	p.prefix_len = 31;
	p.addr_first = rte_cpu_to_be_32(IP(10, 0, 0, 0));
	p.nb_addrs = 1;
	p.gateway = rte_cpu_to_be_32(IP(10, 0, 0, 1));
	n = net_with(&p);
	CHECK(n != NULL);
	CHECK(finish(n));
}

static void
test_names(void)
{
	const char *name, *desc;

	CHECK(TWS_NET_STATS_COUNT >= 20);
	for (unsigned int i = 0; i < TWS_NET_STATS_COUNT; i++)
		CHECK(tws_net_stat_name(i, &name, &desc) == 0 && name[0] != '\0' && desc[0] != '\0');
	CHECK(tws_net_stat_name(TWS_NET_STATS_COUNT, &name, &desc) == -EINVAL);
	CHECK(tws_net_stat_name(0, &name, &desc) == 0 && strcmp(name, "rx_frames") == 0);
	CHECK(strcmp(tws_net_drop_name(TWS_NET_DROP_IP_FRAGMENT), "IP_FRAGMENT") == 0);
	CHECK(strcmp(tws_net_drop_name(TWS_NET_DROP_COUNT), "?") == 0);
}

/* RFC 826: a request for one of our addresses gets a reply to the asker, naming that address. */
static void
test_arp_request_gets_exact_reply(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	uint8_t b[64], want[64];
	struct rte_mbuf *f[4];
	struct rte_ether_addr mac;
	struct tws_net_stats s;

	CHECK(n != NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, OURS + 1);
	CHECK(rx1(n, mk(b, 60), 0, NULL) == 0);
	CHECK(tws_net_tx_pending(n) == 1 && drain(n, f, 4) == 1);
	arp_expected(want, &peer_mac, RTE_ARP_OP_REPLY, OURS + 1, &peer_mac, PEER);
	CHECK(frame_is(f[0], want, 42));
	rte_pktmbuf_free(f[0]);
	/* The asker is learnt (RFC 826: "if I am the target, add the triplet"). */
	CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(PEER), &mac) == 0);
	CHECK(rte_is_same_ether_addr(&mac, &peer_mac));
	stats(n, &s);
	CHECK(s.arp_rx_requests == 1 && s.arp_tx_replies == 1 && s.arp_learned == 1);
	CHECK(s.arp_entries == 1 && s.memory_bytes > 0);
	/* A unicast request (Linux reconfirming us) is answered the same way. */
	arp(b, &our_mac, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &our_mac, OURS + 3);
	CHECK(rx1(n, mk(b, 60), 0, NULL) == 0 && drain(n, f, 4) == 1);
	arp_expected(want, &peer_mac, RTE_ARP_OP_REPLY, OURS + 3, &peer_mac, PEER);
	CHECK(frame_is(f[0], want, 42));
	rte_pktmbuf_free(f[0]);
	/* An RFC 5227 probe (sender 0.0.0.0) is answered but teaches nothing. */
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac2, 0, &zero_mac, OURS);
	CHECK(rx1(n, mk(b, 60), 0, NULL) == 0 && drain(n, f, 4) == 1);
	arp_expected(want, &peer_mac2, RTE_ARP_OP_REPLY, OURS, &peer_mac2, 0);
	CHECK(frame_is(f[0], want, 42));
	rte_pktmbuf_free(f[0]);
	CHECK(tws_net_arp_lookup(n, 0, NULL) == -ENOENT);
	stats(n, &s);
	CHECK(s.arp_entries == 1);
	CHECK(rx_balanced(n));
	CHECK(finish(n));
}

/* Learning follows Linux with arp_accept=0: nothing new from replies or gratuitous ARP. */
static void
test_arp_learning_policy(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	const rte_be32_t peer = rte_cpu_to_be_32(PEER);
	uint8_t b[64];
	struct rte_ether_addr mac;
	struct tws_net_stats s;

	CHECK(n != NULL);
	/* Unsolicited reply, gratuitous request and gratuitous reply from a stranger. */
	arp(b, &our_mac, RTE_ARP_OP_REPLY, &peer_mac, PEER, &our_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, PEER);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REPLY, &peer_mac, PEER, &bcast, PEER);
	rx1(n, mk(b, 60), 0, NULL);
	CHECK(tws_net_arp_lookup(n, peer, NULL) == -ENOENT);
	stats(n, &s);
	CHECK(s.arp_rx_replies == 2 && s.drops[TWS_NET_DROP_ARP_NOT_FOR_US] == 1);
	CHECK(tws_net_tx_pending(n) == 0); /* none of these is answered */

	/* Once known, any valid ARP from it refreshes it (RFC 826 merge), even gratuitous. */
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac2, PEER, &zero_mac, PEER);
	rx1(n, mk(b, 60), 0, NULL);
	CHECK(tws_net_arp_lookup(n, peer, &mac) == 0 && rte_is_same_ether_addr(&mac, &peer_mac2));
	/* A request to another host from a known sender refreshes it too. */
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, GW);
	rx1(n, mk(b, 60), 0, NULL);
	CHECK(tws_net_arp_lookup(n, peer, &mac) == 0 && rte_is_same_ether_addr(&mac, &peer_mac));
	stats(n, &s);
	CHECK(s.arp_learned == 3 && s.drops[TWS_NET_DROP_ARP_NOT_FOR_US] == 3);

	/* Refused senders: outside the subnet, its broadcast, multicast MAC, one of ours. */
	static const struct rte_ether_addr mcast = { { 0x01, 0, 0x5e, 0, 0, 1 } };

	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, IP(10, 0, 1, 2), &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, IP(10, 0, 0, 255), &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &mcast, IP(10, 0, 0, 3), &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &zero_mac, IP(10, 0, 0, 3), &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, OURS + 2, &zero_mac, OURS + 2);
	rx1(n, mk(b, 60), 0, NULL);
	stats(n, &s);
	CHECK(s.drops[TWS_NET_DROP_ARP_BAD_SENDER] == 4 && s.drops[TWS_NET_DROP_ARP_CONFLICT] == 1);
	CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(IP(10, 0, 0, 3)), NULL) == -ENOENT);
	CHECK(tws_net_tx_pending(n) == 1); /* only the reply to the first valid request */

	/* Static entries are never changed by ARP. */
	CHECK(tws_net_arp_add(n, rte_cpu_to_be_32(GW), &peer_mac2) == 0);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, GW, &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(GW), &mac) == 0);
	CHECK(rte_is_same_ether_addr(&mac, &peer_mac2));
	CHECK(rx_balanced(n));
	CHECK(finish(n));
}

/* Packets for an unresolved next hop are held, ARP asks, the reply releases them in order. */
static void
test_held_packets_released_in_order(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	struct rte_mbuf *pk[8], *f[16];
	uint8_t b[64], want[64];
	struct tws_net_stats s;

	CHECK(n != NULL);
	for (uint16_t i = 0; i < 6; i++)
		pk[i] = ip_pkt(PEER, (uint16_t)(100 + i));
	CHECK(tws_net_tx(n, pk, 3, pk, 10) == 0);
	CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(PEER), NULL) == -EAGAIN);
	CHECK(drain(n, f, 16) == 1); /* one request, however many packets wait */
	arp_expected(want, &bcast, RTE_ARP_OP_REQUEST, OURS, &zero_mac, PEER);
	CHECK(frame_is(f[0], want, 42));
	rte_pktmbuf_free(f[0]);
	/* Three more: the queue holds 4, so the oldest (100) makes room for 105. */
	CHECK(tws_net_tx(n, pk + 3, 3, pk + 3, 20) == 0);
	CHECK(drain(n, f, 16) == 0);
	arp(b, &our_mac, RTE_ARP_OP_REPLY, &peer_mac, PEER, &our_mac, OURS);
	CHECK(rx1(n, mk(b, 60), 30, NULL) == 0);
	CHECK(drain(n, f, 16) == 4);
	for (uint16_t i = 0; i < 4; i++) {
		CHECKF(frame_is_ip_to(f[i], &peer_mac) && frame_ip_id(f[i]) == 102 + i,
		       "frame %u id %u", i, frame_ip_id(f[i]));
	}
	rte_pktmbuf_free_bulk(f, 4);
	/* Resolved: the next packet goes straight out. */
	pk[0] = ip_pkt(PEER, 200);
	CHECK(tws_net_tx(n, pk, 1, f, 40) == 1 && frame_is_ip_to(f[0], &peer_mac));
	rte_pktmbuf_free(f[0]);
	stats(n, &s);
	CHECK(s.arp_held == 6 && s.arp_queue_drops == 2 && s.arp_released == 4);
	CHECK(s.arp_tx_requests == 1 && s.tx_packets == 7 && s.tx_frames == 1);
	CHECK(finish(n));
}

/* Linux's mcast_probes: 3 requests 1 s apart, then the held packets are dropped and counted. */
static void
test_retries_then_drop(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	struct rte_mbuf *pk[2], *f[8];
	struct tws_net_stats s;
	const uint64_t t0 = 5 * SEC;

	CHECK(n != NULL);
	pk[0] = ip_pkt(PEER, 1);
	pk[1] = ip_pkt(PEER, 2);
	CHECK(tws_net_tx(n, pk, 2, pk, t0) == 0);
	CHECK(drain(n, f, 8) == 1);
	rte_pktmbuf_free(f[0]);
	/* More packets in between send nothing more: one request per arp_retry_ms. */
	tws_net_poll(n, t0 + SEC - 1);
	pk[0] = ip_pkt(PEER, 3);
	CHECK(tws_net_tx(n, pk, 1, pk, t0 + SEC - 1) == 0);
	CHECK(drain(n, f, 8) == 0);
	for (unsigned int r = 1; r < 3; r++) {
		tws_net_poll(n, t0 + r * SEC);
		CHECKF(drain(n, f, 8) == 1, "retry %u", r);
		CHECK(rte_is_broadcast_ether_addr(&rte_pktmbuf_mtod(f[0],
						  struct rte_ether_hdr *)->dst_addr));
		rte_pktmbuf_free(f[0]);
		CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(PEER), NULL) == -EAGAIN);
	}
	tws_net_poll(n, t0 + 3 * SEC - 1);
	CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(PEER), NULL) == -EAGAIN);
	tws_net_poll(n, t0 + 3 * SEC);
	CHECK(drain(n, f, 8) == 0);
	CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(PEER), NULL) == -ENOENT);
	stats(n, &s);
	CHECK(s.arp_tx_requests == 3 && s.arp_failed == 1 && s.arp_unresolved == 3);
	CHECK(s.arp_entries == 0);
	/* The next packet starts over at once. */
	pk[0] = ip_pkt(PEER, 4);
	CHECK(tws_net_tx(n, pk, 1, pk, t0 + 3 * SEC) == 0 && drain(n, f, 8) == 1);
	rte_pktmbuf_free(f[0]);
	CHECK(finish(n));
}

/*
 * A confirmation lasts arp_timeout_ms: an unused neighbour is then removed;
 * one in use is reconfirmed by unicast requests while its MAC is still used,
 * and removed if it does not answer.
 */
static void
test_ageing_and_reconfirmation(void)
{
	struct tws_net_params p = params();
	struct tws_net *n;
	struct rte_mbuf *pk[1], *f[8];
	uint8_t b[64], want[64];
	struct tws_net_stats s;
	const rte_be32_t peer = rte_cpu_to_be_32(PEER), gw = rte_cpu_to_be_32(GW);
	const uint64_t to = (uint64_t)TWS_NET_DEFAULT_ARP_TIMEOUT_MS * 1000;

	n = net_with(&p);
	CHECK(n != NULL);
	/* Both learnt at t=0 from requests; only PEER is used. */
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac2, GW, &zero_mac, OURS);
	rx1(n, mk(b, 60), 0, NULL);
	CHECK(drain(n, f, 8) == 2);
	rte_pktmbuf_free_bulk(f, 2);
	pk[0] = ip_pkt(PEER, 1);
	CHECK(tws_net_tx(n, pk, 1, f, SEC) == 1);
	rte_pktmbuf_free(f[0]);
	tws_net_poll(n, to - 1);
	CHECK(tws_net_arp_lookup(n, gw, NULL) == 0 && tws_net_arp_lookup(n, peer, NULL) == 0);
	tws_net_poll(n, to);
	CHECK(tws_net_arp_lookup(n, gw, NULL) == -ENOENT);
	/* PEER: a unicast request to the MAC we have; packets still go out meanwhile. */
	CHECK(drain(n, f, 8) == 1);
	arp_expected(want, &peer_mac, RTE_ARP_OP_REQUEST, OURS, &zero_mac, PEER);
	CHECK(frame_is(f[0], want, 42));
	rte_pktmbuf_free(f[0]);
	pk[0] = ip_pkt(PEER, 2);
	CHECK(tws_net_tx(n, pk, 1, f, to + 1) == 1 && frame_is_ip_to(f[0], &peer_mac));
	rte_pktmbuf_free(f[0]);
	/* The reply reconfirms it for another arp_timeout_ms. */
	arp(b, &our_mac, RTE_ARP_OP_REPLY, &peer_mac, PEER, &our_mac, OURS);
	rx1(n, mk(b, 60), to + 10, NULL);
	tws_net_poll(n, to + 10 + 5 * SEC);
	CHECK(drain(n, f, 8) == 0 && tws_net_arp_lookup(n, peer, NULL) == 0);
	stats(n, &s);
	CHECK(s.arp_aged == 1 && s.arp_tx_requests == 1 && s.arp_learned == 2);
	/* Unused since: removed at the next expiry. */
	tws_net_poll(n, 2 * to + 10);
	CHECK(tws_net_arp_lookup(n, peer, NULL) == -ENOENT);
	/* Learnt again, used, then silent: 3 unicast requests, then removed. */
	arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, OURS);
	rx1(n, mk(b, 60), 100 * SEC, NULL);
	pk[0] = ip_pkt(PEER, 3);
	CHECK(tws_net_tx(n, pk, 1, f, 100 * SEC) == 1);
	rte_pktmbuf_free(f[0]);
	CHECK(drain(n, f, 8) == 1);
	rte_pktmbuf_free(f[0]);
	for (uint64_t t = 100 * SEC + to; t <= 100 * SEC + to + 3 * SEC; t += SEC / 2)
		tws_net_poll(n, t);
	CHECK(tws_net_arp_lookup(n, peer, NULL) == -ENOENT);
	CHECK(drain(n, f, 8) == 3);
	for (int i = 0; i < 3; i++)
		CHECK(rte_is_same_ether_addr(&rte_pktmbuf_mtod(f[i], struct rte_ether_hdr *)->dst_addr,
					     &peer_mac));
	rte_pktmbuf_free_bulk(f, 3);
	stats(n, &s);
	CHECK(s.arp_failed == 1 && s.arp_unresolved == 0 && s.arp_aged == 2);
	CHECK(finish(n));
}

/* The next hop outside the subnet is the gateway; without one, or to ourselves, no route. */
static void
test_next_hop(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	struct rte_mbuf *pk[1], *f[4];
	uint8_t want[64];
	struct tws_net_stats s;

	CHECK(n != NULL);
	pk[0] = ip_pkt(IP(8, 8, 8, 8), 1);
	CHECK(tws_net_tx(n, pk, 1, pk, 0) == 0 && drain(n, f, 4) == 1);
	arp_expected(want, &bcast, RTE_ARP_OP_REQUEST, OURS, &zero_mac, GW);
	CHECK(frame_is(f[0], want, 42));
	rte_pktmbuf_free(f[0]);
	pk[0] = ip_pkt(OURS + 1, 2);
	CHECK(tws_net_tx(n, pk, 1, pk, 0) == 0);
	CHECK(finish(n));

	p.gateway = 0;
	n = net_with(&p);
	CHECK(n != NULL);
	pk[0] = ip_pkt(IP(8, 8, 8, 8), 1);
	CHECK(tws_net_tx(n, pk, 1, pk, 0) == 0 && drain(n, f, 4) == 0);
	stats(n, &s);
	CHECK(s.tx_no_route == 1 && s.arp_entries == 0);
	CHECK(finish(n));
}

/* RFC 792 echo: same id, sequence and data, addresses swapped, both checksums right. */
static void
test_icmp_echo_reply_exact(void)
{
	for (int offload = 0; offload <= 1; offload++) {
		struct tws_net_params p = params();
		struct tws_net *n;
		uint8_t b[1600];
		struct rte_mbuf *f[4];
		const uint32_t lens[] = { 8, 64, 65, 1480 };

		p.tx_csum_offload = offload;
		n = net_with(&p);
		CHECK(n != NULL);
		for (unsigned int i = 0; i < TWS_NCASES(lens); i++) {
			uint32_t len = lens[i], fl = icmp_frame(b, PEER, OURS + 2, 8, len);

			CHECK(rx1(n, mk(b, fl), 0, NULL) == 0 && drain(n, f, 4) == 1);

			const uint8_t *r = rte_pktmbuf_mtod(f[0], const uint8_t *);
			const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(r + 14);

			CHECKF(f[0]->pkt_len == 34 + len, "len %u", f[0]->pkt_len);
			CHECK(memcmp(r, &peer_mac, 6) == 0 && memcmp(r + 6, &our_mac, 6) == 0);
			CHECK(r[12] == 0x08 && r[13] == 0x00);
			CHECK(ip->version_ihl == 0x45 && ip->time_to_live == 64);
			CHECK(ip->next_proto_id == IPPROTO_ICMP);
			CHECK(ip->src_addr == rte_cpu_to_be_32(OURS + 2));
			CHECK(ip->dst_addr == rte_cpu_to_be_32(PEER));
			CHECK(rte_be_to_cpu_16(ip->total_length) == 20 + len);
			if (offload) {
				CHECK(f[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
				CHECK(f[0]->l2_len == 14 && f[0]->l3_len == 20);
				CHECK(ip->hdr_checksum == 0);
			} else {
				CHECK(!(f[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM));
				CHECK(rte_raw_cksum(ip, 20) == 0xffff);
			}
			CHECK(r[34] == 0 && r[35] == 0);               /* echo reply, code 0 */
			CHECK(memcmp(r + 38, b + 38, len - 4) == 0);   /* id, seq, data */
			CHECK(rte_raw_cksum(r + 34, len) == 0xffff);
			rte_pktmbuf_free(f[0]);
		}
		CHECK(rx_balanced(n));
		CHECK(finish(n));
	}
}

/* TCP for us leaves without Ethernet or padding, its IPv4 checksum marked checked. */
static void
test_tcp_handed_out(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	uint8_t b[4][64];
	struct rte_mbuf *m[4];
	struct tws_net_stats s;

	CHECK(n != NULL);
	tcp_frame(b[0], PEER, OURS);
	arp(b[1], &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, OURS);
	tcp_frame(b[2], IP(192, 0, 2, 1), OURS + 3);
	tcp_frame(b[3], PEER, IP(10, 0, 0, 99));
	for (int i = 0; i < 4; i++)
		m[i] = mk(b[i], 60);
	/* In place: the output array is the input array. */
	CHECK(tws_net_rx(n, m, 4, m, 0) == 2);
	for (int i = 0; i < 2; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(m[i], const uint8_t *);

		CHECK(m[i]->pkt_len == 40 && m[i]->data_len == 40 && m[i]->l3_len == 20);
		CHECK(memcmp(d, b[i * 2] + 14, 40) == 0);
		CHECK((m[i]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD);
		CHECK(rte_ipv4_udptcp_cksum_verify((const struct rte_ipv4_hdr *)d, d + 20) == 0);
	}
	CHECK(rte_pktmbuf_headroom(m[0]) >= 14);
	rte_pktmbuf_free_bulk(m, 2);
	stats(n, &s);
	CHECK(s.rx_tcp == 2 && s.arp_rx_requests == 1 && s.drops[TWS_NET_DROP_IP_NOT_OURS] == 1);
	CHECK(rx_balanced(n));
	CHECK(finish(n));
}

/* A frame to mutate: which bytes to change for one drop reason. */
struct mutation {
	enum tws_net_drop why;
	const char *what;
	uint32_t (*build)(uint8_t *b);       /* the valid frame */
	uint32_t off;                         /* byte to set */
	uint8_t val;
	bool fix_ip_csum;                     /* recompute the IPv4 checksum after */
	uint32_t len;                         /* frame length to use (0: as built) */
};

static uint32_t
f_tcp(uint8_t *b)
{
	return tcp_frame(b, PEER, OURS);
}

/* RFC 1122 3.3.6: unicast IPv4 in a link-layer broadcast. */
static uint32_t
f_tcp_l2_bcast(uint8_t *b)
{
	uint32_t len = tcp_frame(b, PEER, OURS);

	memcpy(b, &bcast, 6);
	return len;
}

static uint32_t
f_arp(uint8_t *b)
{
	return arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, PEER, &zero_mac, OURS);
}

static uint32_t
f_echo(uint8_t *b)
{
	return icmp_frame(b, PEER, OURS, 8, 64);
}

static uint32_t
f_echo_reply(uint8_t *b)
{
	return icmp_frame(b, PEER, OURS, 0, 64);
}

/* Every reason, each from a valid frame with one thing wrong. */
static void
test_every_drop_reason(void)
{
	static const struct mutation muts[] = {
		{ TWS_NET_DROP_TRUNCATED, "13 bytes", f_tcp, 0, 0x02, false, 13 },
		{ TWS_NET_DROP_TRUNCATED, "IPv4 under 20", f_tcp, 0, 0x02, false, 33 },
		{ TWS_NET_DROP_TRUNCATED, "ARP under 28", f_arp, 0, 0xff, false, 41 },
		{ TWS_NET_DROP_ETHERTYPE, "IPv6", f_tcp, 12, 0x86, false, 0 },
		{ TWS_NET_DROP_VLAN, "802.1Q", f_tcp, 12, 0x81, false, 0 },
		{ TWS_NET_DROP_L2_DST, "IPv4 to another MAC", f_tcp, 5, 0x02, false, 0 },
		{ TWS_NET_DROP_L2_DST, "IPv4 to broadcast", f_tcp_l2_bcast, 0, 0xff, false, 0 },
		{ TWS_NET_DROP_L2_DST, "ARP to another MAC", f_arp, 0, 0x04, false, 0 },
		{ TWS_NET_DROP_ARP_BAD, "hardware type", f_arp, 15, 6, false, 0 },
		{ TWS_NET_DROP_ARP_BAD, "protocol", f_arp, 16, 0x86, false, 0 },
		{ TWS_NET_DROP_ARP_BAD, "hlen", f_arp, 18, 8, false, 0 },
		{ TWS_NET_DROP_ARP_BAD, "op 3", f_arp, 21, 3, false, 0 },
		{ TWS_NET_DROP_ARP_BAD_SENDER, "outside the subnet", f_arp, 30, 9, false, 0 },
		{ TWS_NET_DROP_ARP_CONFLICT, "sender is ours", f_arp, 31, OURS & 0xff, false, 0 },
		{ TWS_NET_DROP_ARP_NOT_FOR_US, "target another", f_arp, 41, 77, false, 0 },
		{ TWS_NET_DROP_IP_BAD_HDR, "version 6", f_tcp, 14, 0x65, true, 0 },
		{ TWS_NET_DROP_IP_BAD_HDR, "ihl 4", f_tcp, 14, 0x44, true, 0 },
		{ TWS_NET_DROP_IP_BAD_HDR, "total length past the frame", f_tcp, 17, 47, true, 0 },
		{ TWS_NET_DROP_IP_BAD_HDR, "total length under ihl", f_tcp, 17, 19, true, 0 },
		{ TWS_NET_DROP_TRUNCATED, "ihl past the frame", f_tcp, 14, 0x4f, true, 50 },
		{ TWS_NET_DROP_IP_BAD_CSUM, "TTL changed, not the checksum", f_tcp, 22, 63, false, 0 },
		{ TWS_NET_DROP_IP_NOT_OURS, "other host", f_tcp, 33, 99, true, 0 },
		{ TWS_NET_DROP_IP_NOT_OURS, "subnet broadcast", f_tcp, 33, 255, true, 0 },
		{ TWS_NET_DROP_IP_MARTIAN, "source loopback", f_tcp, 26, 127, true, 0 },
		{ TWS_NET_DROP_IP_MARTIAN, "source multicast", f_tcp, 26, 224, true, 0 },
		{ TWS_NET_DROP_IP_MARTIAN, "source 0/8", f_tcp, 26, 0, true, 0 },
		{ TWS_NET_DROP_IP_MARTIAN, "source ours", f_tcp, 29, OURS & 0xff, true, 0 },
		{ TWS_NET_DROP_IP_MARTIAN, "source subnet broadcast", f_tcp, 29, 255, true, 0 },
		{ TWS_NET_DROP_IP_FRAGMENT, "more fragments", f_tcp, 20, 0x20, true, 0 },
		{ TWS_NET_DROP_IP_FRAGMENT, "offset", f_tcp, 21, 0x01, true, 0 },
		{ TWS_NET_DROP_IP_PROTO, "UDP", f_tcp, 23, IPPROTO_UDP, true, 0 },
		{ TWS_NET_DROP_ICMP_BAD, "checksum", f_echo, 60, 0xee, false, 0 },
		{ TWS_NET_DROP_ICMP_BAD, "4 bytes", f_echo, 17, 24, true, 0 },
		{ TWS_NET_DROP_ICMP_OTHER, "echo reply", f_echo_reply, 0, 0x02, false, 0 },
	};
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	struct tws_net_stats before, after;
	bool seen[TWS_NET_DROP_COUNT] = { false };
	uint8_t b[128];

	CHECK(n != NULL);
	for (unsigned int i = 0; i < TWS_NCASES(muts); i++) {
		const struct mutation *mu = &muts[i];
		uint32_t len = mu->build(b);

		b[mu->off] = mu->val;
		if (mu->fix_ip_csum)
			ip_csum(b + 14);
		if (mu->len != 0)
			len = mu->len;
		stats(n, &before);
		CHECKF(rx1(n, mk_exact(b, len), 0, NULL) == 0, "%s handed out", mu->what);
		stats(n, &after);
		CHECKF(after.drops[mu->why] == before.drops[mu->why] + 1 &&
		       after.rx_dropped == before.rx_dropped + 1,
		       "%s: not counted as %s", mu->what, tws_net_drop_name(mu->why));
		seen[mu->why] = true;
	}
	for (unsigned int r = 0; r < TWS_NET_DROP_COUNT; r++)
		CHECKF(seen[r], "no case for %s", tws_net_drop_name((enum tws_net_drop)r));
	/* TTL 0 or 1 is not a reason to drop at the destination (RFC 1122 3.2.1.7); DF is fine. */
	f_tcp(b);
	b[22] = 0;
	ip_csum(b + 14);
	CHECK(rx1(n, mk(b, 60), 0, NULL) == 1);
	CHECK(rx_balanced(n));
	CHECK(finish(n));
}

/*
 * Every prefix 0..60 bytes of a TCP, an ARP and an ICMP frame, each in a
 * buffer of exactly that length: dropped (truncated or wrong length) unless
 * complete, never read past.
 */
static void
test_truncated_every_length(void)
{
	uint32_t (*const builders[])(uint8_t *) = { f_tcp, f_arp, f_echo };
	const uint32_t complete[] = { 54, 42, 98 };
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	uint8_t b[128];
	struct rte_mbuf *f[4];

	CHECK(n != NULL);
	for (unsigned int k = 0; k < TWS_NCASES(builders); k++) {
		builders[k](b);
		for (uint32_t len = 0; len <= 60; len++) {
			struct tws_net_stats s0, s1;
			uint16_t got;

			stats(n, &s0);
			got = rx1(n, mk_exact(b, len), 0, NULL);
			stats(n, &s1);
			CHECKF(got == (k == 0 && len >= complete[k]), "frame %u len %u", k, len);
			if (len < complete[k])
				CHECKF(s1.rx_dropped == s0.rx_dropped + 1 &&
				       s1.drops[TWS_NET_DROP_TRUNCATED] +
				       s1.drops[TWS_NET_DROP_IP_BAD_HDR] ==
				       s0.drops[TWS_NET_DROP_TRUNCATED] +
				       s0.drops[TWS_NET_DROP_IP_BAD_HDR] + 1,
				       "frame %u len %u", k, len);
			while (drain(n, f, 1) > 0)
				rte_pktmbuf_free(f[0]);
		}
	}
	CHECK(rx_balanced(n));
	CHECK(finish(n));
}

/* RX flags: GOOD skips the software check, BAD drops; with rx_csum_offload=0 both are ignored. */
static void
test_rx_checksum_flags(void)
{
	struct tws_net_params p = params();
	struct tws_net *n;
	uint8_t good[64], bad[64];
	struct rte_mbuf *m, *out;

	tcp_frame(good, PEER, OURS);
	memcpy(bad, good, 60);
	bad[24] ^= 0x40; /* header checksum wrong */
	p.rx_csum_offload = 1;
	n = net_with(&p);
	CHECK(n != NULL);
	m = mk(bad, 60);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	CHECK(rx1(n, m, 0, NULL) == 1); /* trusted: not recomputed */
	m = mk(good, 60);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	CHECK(rx1(n, m, 0, NULL) == 0);
	m = mk(good, 60);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	CHECK(rx1(n, m, 0, &out) == 1);
	CHECK((out->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	CHECK((out->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	rte_pktmbuf_free(out);
	CHECK(rx1(n, mk(bad, 60), 0, NULL) == 0); /* no flag: checked in software */
	struct tws_net_stats s;

	stats(n, &s);
	CHECK(s.drops[TWS_NET_DROP_IP_BAD_CSUM] == 2 && s.rx_tcp == 2);
	CHECK(finish(n));

	p.rx_csum_offload = 0;
	n = net_with(&p);
	CHECK(n != NULL);
	m = mk(bad, 60);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	CHECK(rx1(n, m, 0, NULL) == 0);
	m = mk(good, 60);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_BAD;
	CHECK(rx1(n, m, 0, &out) == 1);
	/* The L4 flag is cleared too: the engine checks TCP in software. */
	CHECK((out->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	rte_pktmbuf_free(out);
	CHECK(finish(n));
}

/* An engine packet asking the port for checksums, as tws_stack does with tx_csum_offload=1. */
static struct rte_mbuf *
offload_pkt(void)
{
	struct rte_mbuf *m = ip_pkt(PEER, 5);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l3_len = 20;
	m->l4_len = 20;
	ip->hdr_checksum = 0;
	th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	return m;
}

/* Offload flags pass to a port that has the offload; without it, checksums are made here. */
static void
test_tx_checksum_offload_or_software(void)
{
	struct tws_net_params p = params();
	struct tws_net *n;
	struct rte_mbuf *m, *f[2];
	struct tws_net_stats s;

	for (int offload = 0; offload <= 1; offload++) {
		p.tx_csum_offload = offload;
		n = net_with(&p);
		CHECK(n != NULL);
		CHECK(tws_net_arp_add(n, rte_cpu_to_be_32(PEER), &peer_mac) == 0);
		m = offload_pkt();
		CHECK(tws_net_tx(n, &m, 1, f, 0) == 1 && frame_is_ip_to(f[0], &peer_mac));

		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(f[0],
			const struct rte_ipv4_hdr *, 14);

		CHECK(f[0]->l2_len == 14 && f[0]->l3_len == 20 && f[0]->l4_len == 20);
		if (offload) {
			CHECK((f[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) && ip->hdr_checksum == 0);
			CHECK((f[0]->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM);
		} else {
			CHECK(!(f[0]->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)));
			CHECK(rte_raw_cksum(ip, 20) == 0xffff);
			CHECK(rte_ipv4_udptcp_cksum_verify(ip, ip + 1) == 0);
		}
		rte_pktmbuf_free(f[0]);
		/* A packet with software checksums already passes untouched either way. */
		m = ip_pkt(PEER, 6);
		CHECK(tws_net_tx(n, &m, 1, f, 0) == 1);
		ip = rte_pktmbuf_mtod_offset(f[0], const struct rte_ipv4_hdr *, 14);
		CHECK(rte_raw_cksum(ip, 20) == 0xffff && rte_ipv4_udptcp_cksum_verify(ip, ip + 1) == 0);
		rte_pktmbuf_free(f[0]);
		stats(n, &s);
		CHECK(s.tx_sw_csum == (offload ? 0u : 1u));
		CHECK(finish(n));
	}
}

/* Packets that cannot go out are freed and counted. */
static void
test_tx_refusals(void)
{
	struct tws_net_params p = params();
	struct tws_net *n;
	struct rte_mbuf *m[4], *f[4];
	struct tws_net_stats s;
	uint8_t b[1600];

	p.mtu = 576;
	n = net_with(&p);
	CHECK(n != NULL);
	CHECK(tws_net_arp_add(n, rte_cpu_to_be_32(PEER), &peer_mac) == 0);
	memset(b, 0, sizeof(b));
	tcp_at(b, OURS, PEER, 1);
	m[0] = mk(b, 577);                      /* over the MTU */
	b[0] = 0x65;
	m[1] = mk(b, 40);                       /* not IPv4 */
	m[2] = mk(b, 12);                       /* shorter than a header */
	b[0] = 0x45;
	m[3] = rte_pktmbuf_alloc(mp);
	m[3]->data_off = 6;                     /* 6 bytes of headroom only */
	memcpy(rte_pktmbuf_append(m[3], 40), b, 40);
	CHECK(tws_net_tx(n, m, 4, f, 0) == 0);
	stats(n, &s);
	CHECK(s.tx_bad == 3 && s.tx_no_headroom == 1 && s.tx_frames == 0 && s.tx_packets == 4);
	CHECK(finish(n));
}

/* RFC 5227 §2.3 announcements: one per address, the first TWS_NET_GARP_MAX. */
static void
test_gratuitous_arp(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	struct rte_mbuf *f[TWS_NET_GARP_MAX + 1];
	uint8_t want[64];
	struct tws_net_stats s;

	CHECK(n != NULL);
	CHECK(tws_net_gratuitous_arp(n) == NB_OURS && drain(n, f, TWS_NET_GARP_MAX) == NB_OURS);
	for (uint32_t i = 0; i < NB_OURS; i++) {
		arp_expected(want, &bcast, RTE_ARP_OP_REQUEST, OURS + i, &zero_mac, OURS + i);
		CHECKF(frame_is(f[i], want, 42), "announcement %u", i);
	}
	rte_pktmbuf_free_bulk(f, NB_OURS);
	CHECK(finish(n));

	p.nb_addrs = 200;
	p.addr_first = rte_cpu_to_be_32(IP(10, 0, 0, 20));
	n = net_with(&p);
	CHECK(n != NULL);
	CHECK(tws_net_gratuitous_arp(n) == TWS_NET_GARP_MAX);
	CHECK(tws_net_tx_pending(n) == TWS_NET_GARP_MAX);
	CHECK(finish(n));

	p.tx_queue_size = 8;
	n = net_with(&p);
	CHECK(n != NULL);
	CHECK(tws_net_gratuitous_arp(n) == -ENOBUFS && tws_net_tx_pending(n) == 8);
	stats(n, &s);
	CHECK(s.tx_queue_full == 1 && s.arp_garp == 8);
	CHECK(finish(n));
}

/* Static entries; add releases held packets; del drops them; bad input refused. */
static void
test_static_entries(void)
{
	struct tws_net_params p = params();
	struct tws_net *n = net_with(&p);
	const rte_be32_t peer = rte_cpu_to_be_32(PEER);
	struct rte_mbuf *pk[2], *f[4];
	struct rte_ether_addr mac;
	struct tws_net_stats s;

	CHECK(n != NULL);
	CHECK(tws_net_arp_add(n, 0, &peer_mac) == -EINVAL);
	CHECK(tws_net_arp_add(n, rte_cpu_to_be_32(OURS), &peer_mac) == -EINVAL);
	CHECK(tws_net_arp_add(n, rte_cpu_to_be_32(IP(10, 0, 1, 1)), &peer_mac) == -EINVAL);
	CHECK(tws_net_arp_add(n, rte_cpu_to_be_32(IP(10, 0, 0, 255)), &peer_mac) == -EINVAL);
	CHECK(tws_net_arp_add(n, peer, &bcast) == -EINVAL);
	CHECK(tws_net_arp_add(n, peer, NULL) == -EINVAL);
	CHECK(tws_net_arp_del(n, peer) == -ENOENT && tws_net_arp_del(n, 0) == -ENOENT);
	CHECK(tws_net_is_local(n, rte_cpu_to_be_32(OURS + 3)));
	CHECK(!tws_net_is_local(n, rte_cpu_to_be_32(OURS + 4)));

	pk[0] = ip_pkt(PEER, 1);
	pk[1] = ip_pkt(PEER, 2);
	CHECK(tws_net_tx(n, pk, 2, pk, 0) == 0 && drain(n, f, 4) == 1);
	rte_pktmbuf_free(f[0]);
	CHECK(tws_net_arp_add(n, peer, &peer_mac2) == 0);
	CHECK(drain(n, f, 4) == 2 && frame_is_ip_to(f[0], &peer_mac2) && frame_ip_id(f[1]) == 2);
	rte_pktmbuf_free_bulk(f, 2);
	tws_net_poll(n, 1000 * SEC); /* never aged */
	CHECK(tws_net_arp_lookup(n, peer, &mac) == 0 && rte_is_same_ether_addr(&mac, &peer_mac2));
	CHECK(tws_net_arp_add(n, peer, &peer_mac) == 0); /* replaced in place */
	CHECK(tws_net_arp_lookup(n, peer, &mac) == 0 && rte_is_same_ether_addr(&mac, &peer_mac));
	CHECK(tws_net_arp_del(n, peer) == 0 && tws_net_arp_lookup(n, peer, NULL) == -ENOENT);

	pk[0] = ip_pkt(GW, 3);
	CHECK(tws_net_tx(n, pk, 1, pk, 0) == 0);
	CHECK(tws_net_arp_del(n, rte_cpu_to_be_32(GW)) == 0);
	stats(n, &s);
	CHECK(s.arp_unresolved == 1 && s.arp_released == 2 && s.arp_entries == 0);
	CHECK(finish(n));
}

/*
 * A full cache: a next hop to resolve replaces the neighbour confirmed
 * longest ago, never an unresolved one; ARP from the link replaces nothing.
 */
static void
test_cache_full(void)
{
	struct tws_net_params p = params();
	struct tws_net *n;
	uint8_t b[64];
	struct rte_mbuf *pk[1], *f[8];
	struct tws_net_stats s;

	p.arp_entries = 4;
	n = net_with(&p);
	CHECK(n != NULL);
	for (uint32_t i = 0; i < 5; i++) {
		arp(b, &bcast, RTE_ARP_OP_REQUEST, &peer_mac, IP(10, 0, 0, 100 + i), &zero_mac, OURS);
		rx1(n, mk(b, 60), i, NULL);
	}
	CHECK(drain(n, f, 8) == 5); /* all answered */
	rte_pktmbuf_free_bulk(f, 5);
	for (uint32_t i = 0; i < 4; i++)
		CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(IP(10, 0, 0, 100 + i)), NULL) == 0);
	CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(IP(10, 0, 0, 104)), NULL) == -ENOENT);
	/* Our next hops push the learnt ones out, oldest first; a fifth finds no room. */
	for (uint32_t i = 0; i < 5; i++) {
		pk[0] = ip_pkt(IP(10, 0, 0, 200 + i), 1);
		CHECK(tws_net_tx(n, pk, 1, pk, 10) == 0);
		if (i == 0)
			CHECK(tws_net_arp_lookup(n, rte_cpu_to_be_32(IP(10, 0, 0, 100)), NULL) ==
			      -ENOENT &&
			      tws_net_arp_lookup(n, rte_cpu_to_be_32(IP(10, 0, 0, 101)), NULL) == 0);
	}
	stats(n, &s);
	CHECK(s.arp_evicted == 4 && s.arp_cache_full == 2 && s.arp_held == 4);
	CHECK(s.arp_entries == 4);
	CHECK(tws_net_arp_add(n, rte_cpu_to_be_32(PEER), &peer_mac) == -ENOSPC);
	CHECK(finish(n));
}

/*
 * Random adds, deletes and lookups against a model: the hash's deletion
 * (backward shift) keeps every other key findable.
 */
static void
test_cache_model(void)
{
	struct tws_net_params p = params();
	struct tws_net *n;
	uint64_t seed = 42;
	bool present[256] = { false };

	p.arp_entries = 64;
	p.prefix_len = 16;
	p.addr_first = rte_cpu_to_be_32(IP(10, 0, 0, 5));
	n = net_with(&p);
	CHECK(n != NULL);
	for (int op = 0; op < 200000; op++) {
		uint32_t k = (uint32_t)(tws_test_rand(&seed) % 256);
		rte_be32_t ip = rte_cpu_to_be_32(IP(10, 0, k, 1));
		struct rte_ether_addr mac = peer_mac;
		unsigned int count = 0;

		mac.addr_bytes[5] = (uint8_t)k;
		switch (tws_test_rand(&seed) % 3) {
		case 0:
			for (int i = 0; i < 256; i++)
				count += present[i];
			if (!present[k] && count == 64)
				break;
			CHECK(tws_net_arp_add(n, ip, &mac) == 0);
			present[k] = true;
			break;
		case 1:
			CHECK(tws_net_arp_del(n, ip) == (present[k] ? 0 : -ENOENT));
			present[k] = false;
			break;
		default: {
			struct rte_ether_addr got;
			int rc = tws_net_arp_lookup(n, ip, &got);

			CHECKF(rc == (present[k] ? 0 : -ENOENT), "op %d key %u", op, k);
			CHECK(!present[k] || rte_is_same_ether_addr(&got, &mac));
		}
		}
	}
	CHECK(finish(n));
}

/* ---- the net layer between two TCP engines ---- */

struct host {
	struct tws_stack *st;
	struct tws_net *net;
	unsigned int connected, accepted;
};

static void
on_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct host *h = arg;

	(void)st;
	h->connected += ev->type == TWS_EV_CONNECTED;
	h->accepted += ev->type == TWS_EV_ACCEPTED;
}

static int
host_init(struct host *h, const struct rte_ether_addr *mac, uint32_t addr)
{
	struct tws_net_params p = params();
	struct tws_stack_params sp = {
		.name = "tnet_st", .socket_id = SOCKET_ID_ANY, .max_conns = 16, .mp = mp,
		.event_cb = on_event, .event_arg = h,
		.tx_csum_offload = 1, /* the port below has no offload: the net layer fills them */
	};

	memset(h, 0, sizeof(*h));
	tws_tcp_knobs_default(&sp.knobs);
	p.mac = *mac;
	p.addr_first = rte_cpu_to_be_32(addr);
	p.nb_addrs = 1;
	h->net = tws_net_create(&p);
	h->st = tws_stack_create(&sp);
	return h->net != NULL && h->st != NULL ? 0 : -1;
}

/*
 * One poll of host @p a, its frames carried to @p b as a port would: the
 * layer's own frames first, then the engine's. Returns the frames carried.
 */
static uint16_t
host_poll_send(struct host *a, struct host *b, uint64_t now)
{
	struct rte_mbuf *pk[32], *fr[64], *rej[64];
	int32_t why[64];
	uint16_t nf, k, t, c;

	tws_net_poll(a->net, now);
	tws_stack_poll(a->st, now);
	nf = tws_net_tx_burst(a->net, fr, 32);
	k = tws_stack_tx_burst(a->st, pk, 32);
	nf = (uint16_t)(nf + tws_net_tx(a->net, pk, k, fr + nf, now));
	for (uint16_t i = 0; i < nf; i++)
		fr[i]->ol_flags = 0; /* what the receiving port reports: nothing checked */
	t = tws_net_rx(b->net, fr, nf, fr, now);
	c = tws_stack_rx_burst(b->st, fr, rej, why, t, now);
	rte_pktmbuf_free_bulk(rej, t - c);
	return nf;
}

/*
 * A handshake between two engines through their net layers: the SYN waits
 * for ARP, the server learns the client from its request and answers at
 * once, and the checksums the engine left to a port without offload are
 * filled in software, which the server's engine verifies.
 */
static void
test_between_two_engines(void)
{
	struct host a, b;
	struct tws_conn *c = NULL;
	struct tws_net_stats sa, sb;
	uint64_t now = 1000;

	CHECK(host_init(&a, &our_mac, OURS) == 0 && host_init(&b, &peer_mac, PEER) == 0);
	CHECK(tws_listen(b.st, rte_cpu_to_be_32(PEER), rte_cpu_to_be_16(80), NULL) == 0);
	CHECK(tws_connect(a.st, &(struct tws_connect_params){ .laddr = rte_cpu_to_be_32(OURS),
		.raddr = rte_cpu_to_be_32(PEER), .rport = rte_cpu_to_be_16(80) }, &c) == 0);
	for (int i = 0; i < 20; i++, now += 1000) {
		uint16_t moved = host_poll_send(&a, &b, now);

		moved = (uint16_t)(moved + host_poll_send(&b, &a, now));
		if (moved == 0 && a.connected > 0)
			break;
	}
	CHECK(a.connected == 1 && b.accepted == 1 && tws_conn_state(c) == TWS_ESTABLISHED);
	tws_net_stats_get(a.net, &sa);
	tws_net_stats_get(b.net, &sb);
	CHECK(sa.arp_tx_requests == 1 && sa.arp_held == 1 && sa.arp_released == 1);
	CHECK(sa.tx_sw_csum == 2 && sa.rx_tcp == 1);         /* SYN, ACK out; SYN-ACK in */
	CHECK(sb.arp_rx_requests == 1 && sb.arp_held == 0 && sb.rx_tcp == 2);
	CHECK(sb.tx_sw_csum == 1 && sa.rx_dropped == 0 && sb.rx_dropped == 0);
	CHECK(tws_abort(c) == 0);
	tws_stack_free(a.st);
	tws_stack_free(b.st);
	tws_net_free(b.net);
	CHECK(finish(a.net));
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_params_refused),
		TWS_TEST(test_names),
		TWS_TEST(test_arp_request_gets_exact_reply),
		TWS_TEST(test_arp_learning_policy),
		TWS_TEST(test_held_packets_released_in_order),
		TWS_TEST(test_retries_then_drop),
		TWS_TEST(test_ageing_and_reconfirmation),
		TWS_TEST(test_next_hop),
		TWS_TEST(test_icmp_echo_reply_exact),
		TWS_TEST(test_tcp_handed_out),
		TWS_TEST(test_every_drop_reason),
		TWS_TEST(test_truncated_every_length),
		TWS_TEST(test_rx_checksum_flags),
		TWS_TEST(test_tx_checksum_offload_or_software),
		TWS_TEST(test_tx_refusals),
		TWS_TEST(test_gratuitous_arp),
		TWS_TEST(test_static_entries),
		TWS_TEST(test_cache_full),
		TWS_TEST(test_cache_model),
		TWS_TEST(test_between_two_engines),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 128);
	mp = rte_pktmbuf_pool_create("tnet_mp", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     SOCKET_ID_ANY);
	if (mp == NULL) {
		printf("Bail out! no mbuf pool\n");
		return 1;
	}
	pool_base = rte_mempool_avail_count(mp);
	return tws_test_run(cases, TWS_NCASES(cases));
}
