/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segment checks and option parsing: everything a received segment must pass
 * before any connection state is looked at. Reads only inside the segment.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "tws_tcp.h"

#define TCP_HDR_MIN 20u
#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_PERM 4
#define OPT_TS 8
#define WS_MAX 14 /* RFC 7323 §2.3 */

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The TCP checksum covers a pseudo-header; DPDK's helpers take it from an
 * IPv4 header, so build the few fields they read.
 */
static inline struct rte_ipv4_hdr
pseudo_ip(uint32_t tcp_len, rte_be32_t saddr, rte_be32_t daddr)
{
	struct rte_ipv4_hdr ip = {
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(ip) + tcp_len)),
		.next_proto_id = IPPROTO_TCP,
		.src_addr = saddr,
		.dst_addr = daddr,
	};

	return ip;
}

static enum tws_tcp_seg_status
parse_options(const uint8_t *p, uint32_t n, bool syn, struct tws_seg_info *si,
	      struct tws_tcp_opts *o)
{
	while (n > 0) {
		uint8_t kind = p[0], size;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			p++;
			n--;
			continue;
		}
		if (n < 2)
			return TWS_SEG_BAD_OPTION;
		size = p[1];
		if (size < 2 || size > n)
			return TWS_SEG_BAD_OPTION;
		switch (kind) {
		case OPT_MSS:
			if (size == 4 && syn) {
				o->has_mss = true;
				o->mss = rd16(p + 2);
			}
			break;
		case OPT_WS:
			if (size == 3 && syn) {
				o->has_wscale = true;
				o->wscale = p[2] > WS_MAX ? WS_MAX : p[2];
			}
			break;
		case OPT_SACK_PERM:
			if (size == 2 && syn)
				o->sack_ok = true;
			break;
		case OPT_TS:
			if (size == 10) {
				si->has_ts = true;
				si->tsval = rd32(p + 2);
				si->tsecr = rd32(p + 6);
			}
			break;
		default:
			break; /* unknown: skipped by its length */
		}
		p += size;
		n -= size;
	}
	return TWS_SEG_OK;
}

enum tws_tcp_seg_status
tws_tcp_parse(const void *seg, uint32_t len, rte_be32_t saddr, rte_be32_t daddr,
	      bool verify_csum, struct tws_seg_info *si, struct tws_tcp_opts *opts)
{
	const uint8_t *h = seg;
	uint32_t hlen;
	uint8_t flags;

	memset(si, 0, sizeof(*si));
	memset(opts, 0, sizeof(*opts));
	if (len < TCP_HDR_MIN)
		return TWS_SEG_TRUNCATED;
	hlen = (uint32_t)(h[12] >> 4) * 4;
	if (hlen < TCP_HDR_MIN || hlen > len)
		return TWS_SEG_BAD_DOFF;
	flags = h[13] & 0x3f;
	if (!(flags & (TWS_TCP_SYN | TWS_TCP_ACK | TWS_TCP_RST | TWS_TCP_FIN)) ||
	    ((flags & TWS_TCP_SYN) && (flags & (TWS_TCP_FIN | TWS_TCP_RST))))
		return TWS_SEG_BAD_FLAGS;
	if (verify_csum) {
		struct rte_ipv4_hdr ip = pseudo_ip(len, saddr, daddr);

		if (len > UINT16_MAX - sizeof(ip) || rte_ipv4_udptcp_cksum_verify(&ip, seg) != 0)
			return TWS_SEG_BAD_CSUM;
	}
	memcpy(&si->sport, h, sizeof(si->sport));
	memcpy(&si->dport, h + 2, sizeof(si->dport));
	si->seq = rd32(h + 4);
	si->ack = rd32(h + 8);
	si->flags = flags;
	si->window = rd16(h + 14);
	si->hdr_len = (uint16_t)hlen;
	si->len = len - hlen;
	return parse_options(h + TCP_HDR_MIN, hlen - TCP_HDR_MIN, flags & TWS_TCP_SYN, si, opts);
}

static inline uint8_t *
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static inline uint8_t *
wr_ts(uint8_t *p, const struct tws_seg_out *o)
{
	*p++ = OPT_TS;
	*p++ = 10;
	p = wr32(p, o->tsval);
	return wr32(p, o->tsecr);
}

int
tws_tcp_write_header(void *buf, uint32_t cap, const struct tws_seg_out *o)
{
	uint8_t opt[TWS_TCP_HDR_MAX - TCP_HDR_MIN], *p = opt;
	bool syn = o->flags & TWS_TCP_SYN;
	uint32_t hlen;
	uint8_t *h = buf;

	if (syn && o->syn.has_mss) {
		*p++ = OPT_MSS;
		*p++ = 4;
		p = wr16(p, o->syn.mss);
	}
	if (syn && o->syn.sack_ok && o->has_ts) {
		*p++ = OPT_SACK_PERM;
		*p++ = 2;
		p = wr_ts(p, o);
	} else if (o->has_ts) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		p = wr_ts(p, o);
	} else if (syn && o->syn.sack_ok) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK_PERM;
		*p++ = 2;
	}
	if (syn && o->syn.has_wscale) {
		*p++ = OPT_NOP;
		*p++ = OPT_WS;
		*p++ = 3;
		*p++ = o->syn.wscale > WS_MAX ? WS_MAX : o->syn.wscale;
	}
	while ((p - opt) % 4 != 0)
		*p++ = OPT_EOL;
	hlen = TCP_HDR_MIN + (uint32_t)(p - opt);
	if (hlen > cap)
		return -ENOSPC;
	memcpy(h, &o->sport, 2);
	memcpy(h + 2, &o->dport, 2);
	wr32(h + 4, o->seq);
	wr32(h + 8, o->ack);
	h[12] = (uint8_t)((hlen / 4) << 4);
	h[13] = o->flags;
	wr16(h + 14, o->window);
	h[16] = h[17] = 0; /* checksum: offloaded or tws_tcp_set_checksum() */
	h[18] = h[19] = 0; /* urgent pointer */
	memcpy(h + TCP_HDR_MIN, opt, hlen - TCP_HDR_MIN);
	return (int)hlen;
}

void
tws_tcp_set_checksum(void *seg, uint32_t len, rte_be32_t saddr, rte_be32_t daddr)
{
	struct rte_ipv4_hdr ip = pseudo_ip(len, saddr, daddr);
	uint8_t *h = seg;
	uint16_t ck;

	h[16] = h[17] = 0;
	ck = rte_ipv4_udptcp_cksum(&ip, seg);
	memcpy(h + 16, &ck, 2);
}

const char *
tws_tcp_seg_status_name(enum tws_tcp_seg_status st)
{
	static const char *const names[] = {
#define TWS_X_NAME(name, desc) #name,
		TWS_TCP_SEG_STATUS(TWS_X_NAME)
#undef TWS_X_NAME
	};

	return (unsigned int)st < TWS_SEG_STATUS_COUNT ? names[st] : "?";
}
