/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the net layer's frame input, tws_net_rx() (lib/net),
 * with ARP, ICMP echo, IPv4 checks and the packets the engine sends in
 * between (tws_net_tx(): held for ARP, released by a fuzzed reply). A new
 * net layer per input (addresses 198.18.0.1..4/24, gateway .254), fed:
 *
 *   byte 0: bit 0 rx_csum_offload, bit 1 tx_csum_offload
 *   records: ctl len_hi len_lo bytes[len]
 *     ctl bits 0-1: 0 a received frame; 1 the same with its IPv4 header
 *       checksum (and an ICMP or TCP header's) made right, so the deeper
 *       paths are reached; 2 an engine packet to 198.18.0.<first byte>
 *       (tws_net_tx(), its payload the bytes); 3 the frame with random
 *       RX checksum flags
 *     ctl bits 2-7: time to advance after it, c^2 x 10 ms (up to 40 s)
 *
 * What must hold: no crash or sanitizer report; what tws_net_rx() hands
 * up is an IPv4 TCP packet for one of our addresses, its header inside the
 * data and its total length the packet's; every frame the layer makes
 * (ARP, echo replies, released packets) is Ethernet from our MAC, IPv4 ones
 * with right checksums when the port does not fill them; and once the
 * layer is freed every mbuf is back in the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "tws_net.h"

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_net: invariant broken: %s (%s:%d)\n", #cond, __FILE__, \
			__LINE__); \
		abort(); \
	} \
} while (0)

#define ADDR0 0xc6120001u /* 198.18.0.1 */
#define NB_ADDRS 4
#define MAX_FRAME 2048

static unsigned int pool_base;
static const struct rte_ether_addr our_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	h_init((*argv)[0]); /* EAL (--no-pci --no-huge --no-shconf, own prefix) and the pool */
	pool_base = rte_mempool_avail_count(h_pool());
	return 0;
}

/* Set the checksums of an IPv4 frame (and of its ICMP or TCP header) right. */
static void
fix_csums(uint8_t *f, uint32_t len)
{
	if (len < sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr))
		return;

	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;

	if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return;

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	uint32_t room = len - (uint32_t)sizeof(*eh);
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;

	if (ihl < sizeof(*ip) || ihl > room)
		return;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	uint32_t tot = rte_be_to_cpu_16(ip->total_length);

	if (tot < ihl || tot > room)
		return;
	if (ip->next_proto_id == IPPROTO_ICMP && tot - ihl >= sizeof(struct rte_icmp_hdr)) {
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);

		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, tot - ihl);
	} else if (ip->next_proto_id == IPPROTO_TCP && ihl == sizeof(*ip) && tot - ihl >= 20) {
		uint8_t *tcp = (uint8_t *)ip + ihl;

		tcp[16] = tcp[17] = 0;

		uint16_t c = rte_ipv4_udptcp_cksum(ip, tcp);

		memcpy(tcp + 16, &c, 2);
	}
}

/* A frame the layer made: Ethernet from our MAC, ARP or IPv4, checksums right without offload. */
static void
check_made(const struct rte_mbuf *m, bool tx_offload)
{
	FUZZ_CHECK(rte_pktmbuf_data_len(m) >= sizeof(struct rte_ether_hdr));
	FUZZ_CHECK(m->pkt_len == m->data_len && m->nb_segs == 1);

	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	FUZZ_CHECK(rte_is_same_ether_addr(&eh->src_addr, &our_mac));
	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		FUZZ_CHECK(m->data_len >= sizeof(*eh) + sizeof(struct rte_arp_hdr));
		return;
	}
	FUZZ_CHECK(eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4));
	FUZZ_CHECK(m->data_len >= sizeof(*eh) + sizeof(struct rte_ipv4_hdr));

	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);

	FUZZ_CHECK((ip->version_ihl >> 4) == 4 && tot <= m->data_len - sizeof(*eh));
	if (tx_offload && (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM))
		return;
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;

	/* A right checksum makes the one's complement sum of the header 0xffff. */
	FUZZ_CHECK(ihl >= sizeof(*ip) && ihl <= tot && rte_raw_cksum(ip, ihl) == 0xffff);
	if (ip->next_proto_id == IPPROTO_ICMP) {
		FUZZ_CHECK(rte_raw_cksum((const uint8_t *)ip + ihl, tot - ihl) == 0xffff);
	}
}

static void
drain(struct tws_net *n, bool tx_offload)
{
	struct rte_mbuf *f[32];
	uint16_t k;

	while ((k = tws_net_tx_burst(n, f, 32)) > 0) {
		for (uint16_t i = 0; i < k; i++)
			check_made(f[i], tx_offload);
		rte_pktmbuf_free_bulk(f, k);
	}
}

/* An engine packet: IPv4 + a 20-byte TCP header from 198.18.0.1 to 198.18.0.@p host. */
static struct rte_mbuf *
engine_packet(const uint8_t *b, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h_pool());

	if (m == NULL)
		return NULL;

	uint32_t pay = len > 1 ? RTE_MIN(len - 1, 1400u) : 0;
	uint32_t tot = (uint32_t)sizeof(struct rte_ipv4_hdr) + 20 + pay;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, (uint16_t)tot);

	FUZZ_CHECK(ip != NULL);
	memset(ip, 0, tot);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(ADDR0);
	ip->dst_addr = rte_cpu_to_be_32(0xc6120000u | (len > 0 ? b[0] : 2));
	if (pay > 0)
		memcpy((uint8_t *)(ip + 1) + 20, b + 1, pay);
	m->l3_len = sizeof(*ip);
	m->l4_len = 20;
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;

	bool rx_off = data[0] & 1, tx_off = data[0] & 2;
	const struct tws_net_params p = {
		.name = "fuzz_net", .socket_id = 0, .mac = our_mac,
		.addr_first = rte_cpu_to_be_32(ADDR0), .nb_addrs = NB_ADDRS, .prefix_len = 24,
		.gateway = rte_cpu_to_be_32(0xc61200feu), .arp_entries = 64, .arp_queue = 4,
		.tx_queue_size = 64, .rx_csum_offload = rx_off, .tx_csum_offload = tx_off,
		.mp = h_pool(),
	};
	struct tws_net *n = tws_net_create(&p);

	FUZZ_CHECK(n != NULL);

	uint64_t now = 1000000;
	size_t off = 1;

	while (off + 3 <= size) {
		uint8_t ctl = data[off];
		uint32_t len = (uint32_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		len = RTE_MIN(len, (uint32_t)(size - off));
		len = RTE_MIN(len, (uint32_t)MAX_FRAME);

		const uint8_t *b = data + off;

		off += len;
		if ((ctl & 3) == 2) {
			struct rte_mbuf *m = engine_packet(b, len), *f[1];

			if (m != NULL && tws_net_tx(n, &m, 1, f, now) == 1) {
				check_made(f[0], tx_off);
				rte_pktmbuf_free(f[0]);
			}
		} else {
			struct rte_mbuf *m = rte_pktmbuf_alloc(h_pool()), *tcp[1];

			if (m == NULL)
				break;

			uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);

			FUZZ_CHECK(len == 0 || f != NULL);
			if (len > 0)
				memcpy(f, b, len);
			if ((ctl & 3) == 1)
				fix_csums(f, len);
			if ((ctl & 3) == 3)
				m->ol_flags = (uint64_t)(len > 0 ? b[len - 1] : 0) << 4 &
					      (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
			if (tws_net_rx(n, &m, 1, tcp, now) == 1) {
				const struct rte_ipv4_hdr *ip =
					rte_pktmbuf_mtod(tcp[0], const struct rte_ipv4_hdr *);

				FUZZ_CHECK(tcp[0]->data_len >= sizeof(*ip));
				FUZZ_CHECK((ip->version_ihl >> 4) == 4 && ip->next_proto_id == IPPROTO_TCP);
				FUZZ_CHECK(tws_net_is_local(n, ip->dst_addr));
				FUZZ_CHECK(rte_be_to_cpu_16(ip->total_length) == tcp[0]->pkt_len);
				FUZZ_CHECK((uint32_t)(ip->version_ihl & 0xf) * 4 <= tcp[0]->data_len);
				rte_pktmbuf_free(tcp[0]);
			}
		}
		now += (uint64_t)(ctl >> 2) * (ctl >> 2) * 10000;
		tws_net_poll(n, now);
		drain(n, tx_off);
	}
	tws_net_free(n);
	FUZZ_CHECK(rte_mempool_avail_count(h_pool()) == pool_base);
	return 0;
}
