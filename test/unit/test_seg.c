/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segment checks and option parsing (lib/tcp/tws_seg.c): well-formed
 * segments parse to the right fields, every malformed kind is refused with
 * its reason, and random or truncated input never reads past the segment.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "tws_tcp.h"
#include "tws_test.h"

#define SADDR 0xc6130001u /* 198.19.0.1 */
#define DADDR 0xc6120001u /* 198.18.0.1 */

/* Build a segment: header, the given option bytes (padded to 4), payload; checksum set. */
static uint32_t
build(uint8_t *buf, uint8_t flags, const uint8_t *opt, uint32_t optlen, uint32_t payload)
{
	uint32_t olen = (optlen + 3) & ~3u, hlen = 20 + olen;

	memset(buf, 0, hlen + payload);
	buf[0] = 0x9c; buf[1] = 0x40;                 /* sport 40000 */
	buf[2] = 0x00; buf[3] = 0x50;                 /* dport 80 */
	buf[4] = 0x11; buf[5] = 0x22; buf[6] = 0x33; buf[7] = 0x44;   /* seq */
	buf[8] = 0xaa; buf[9] = 0xbb; buf[10] = 0xcc; buf[11] = 0xdd; /* ack */
	buf[12] = (uint8_t)((hlen / 4) << 4);
	buf[13] = flags;
	buf[14] = 0xff; buf[15] = 0xff;               /* window */
	if (optlen > 0)
		memcpy(buf + 20, opt, optlen);
	for (uint32_t i = 0; i < payload; i++)
		buf[hlen + i] = (uint8_t)i;

	struct rte_ipv4_hdr ip = {
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16((uint16_t)(20 + hlen + payload)),
		.next_proto_id = IPPROTO_TCP,
		.src_addr = rte_cpu_to_be_32(SADDR), .dst_addr = rte_cpu_to_be_32(DADDR),
	};
	uint16_t ck = rte_ipv4_udptcp_cksum(&ip, buf);

	memcpy(buf + 16, &ck, 2);
	return hlen + payload;
}

static enum tws_tcp_seg_status
parse(const uint8_t *buf, uint32_t len, bool csum, struct tws_seg_info *si,
      struct tws_tcp_opts *o)
{
	return tws_tcp_parse(buf, len, rte_cpu_to_be_32(SADDR), rte_cpu_to_be_32(DADDR), csum, si, o);
}

static void
test_syn_with_all_options(void)
{
	/* MSS 1460, NOP, WS 7, SACK-permitted, TS 0x01020304/0, EOL */
	const uint8_t opt[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 0 };
	uint8_t buf[128];
	struct tws_seg_info si;
	struct tws_tcp_opts o;
	uint32_t len = build(buf, TWS_TCP_SYN, opt, sizeof(opt), 0);

	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK);
	CHECK(si.seq == 0x11223344u && si.ack == 0xaabbccddu && si.flags == TWS_TCP_SYN);
	CHECK(si.sport == rte_cpu_to_be_16(40000) && si.dport == rte_cpu_to_be_16(80));
	CHECK(si.window == 0xffff && si.len == 0 && si.hdr_len == 44);
	CHECK(o.has_mss && o.mss == 1460 && o.has_wscale && o.wscale == 7 && o.sack_ok);
	CHECK(si.has_ts && si.tsval == 0x01020304u && si.tsecr == 0);
}

static void
test_ack_with_payload_and_ts(void)
{
	const uint8_t opt[] = { 1, 1, 8, 10, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff };
	uint8_t buf[256];
	struct tws_seg_info si;
	struct tws_tcp_opts o;
	uint32_t len = build(buf, TWS_TCP_ACK | TWS_TCP_PSH, opt, sizeof(opt), 100);

	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK);
	CHECK(si.len == 100 && si.hdr_len == 32 && si.has_ts && si.tsval == 9);
	CHECK(si.tsecr == 0xffffffffu);
	/* Options valid only on a SYN are ignored elsewhere (Linux does the same). */
	const uint8_t synopt[] = { 2, 4, 0x05, 0xb4, 3, 3, 7, 1 };

	len = build(buf, TWS_TCP_ACK, synopt, sizeof(synopt), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK);
	CHECK(!o.has_mss && !o.has_wscale);
}

static void
test_option_edge_cases(void)
{
	uint8_t buf[128];
	struct tws_seg_info si;
	struct tws_tcp_opts o;
	uint32_t len;

	/* A known option with the wrong length is ignored, not an error. */
	const uint8_t ts8[] = { 8, 8, 0, 0, 0, 1, 0, 0 };

	len = build(buf, TWS_TCP_ACK, ts8, sizeof(ts8), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK && !si.has_ts);
	/* Unknown kinds are skipped by their length; the TS after them is found. */
	const uint8_t unk[] = { 99, 4, 0, 0, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 };

	len = build(buf, TWS_TCP_ACK, unk, sizeof(unk), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK && si.has_ts && si.tsval == 5);
	/* EOL ends the list: what follows is not parsed. */
	const uint8_t eol[] = { 0, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 };

	len = build(buf, TWS_TCP_ACK, eol, sizeof(eol), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK && !si.has_ts);
	/* Window scale above 14 is clamped (RFC 7323 §2.3). */
	const uint8_t ws[] = { 3, 3, 20, 0 };

	len = build(buf, TWS_TCP_SYN, ws, sizeof(ws), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK && o.has_wscale && o.wscale == 14);
	/* Length 0 or 1, or past the header: the segment is refused. */
	const uint8_t len1[] = { 8, 1, 0, 0 };
	const uint8_t len0[] = { 99, 0, 0, 0 };
	const uint8_t over[] = { 8, 10, 0, 0 };
	const uint8_t lone[] = { 1, 1, 1, 8 }; /* a kind with no length byte left */

	len = build(buf, TWS_TCP_ACK, len1, sizeof(len1), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_BAD_OPTION);
	len = build(buf, TWS_TCP_ACK, len0, sizeof(len0), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_BAD_OPTION);
	len = build(buf, TWS_TCP_ACK, over, sizeof(over), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_BAD_OPTION);
	len = build(buf, TWS_TCP_ACK, lone, sizeof(lone), 0);
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_BAD_OPTION);
}

static void
test_malformed_headers(void)
{
	uint8_t buf[128];
	struct tws_seg_info si;
	struct tws_tcp_opts o;
	uint32_t len = build(buf, TWS_TCP_ACK, NULL, 0, 10);

	CHECK(parse(buf, 19, false, &si, &o) == TWS_SEG_TRUNCATED);
	CHECK(parse(buf, 0, false, &si, &o) == TWS_SEG_TRUNCATED);
	buf[12] = 4 << 4; /* data offset 16 bytes */
	CHECK(parse(buf, len, false, &si, &o) == TWS_SEG_BAD_DOFF);
	buf[12] = 15 << 4; /* 60 bytes of header in a 30-byte segment */
	CHECK(parse(buf, len, false, &si, &o) == TWS_SEG_BAD_DOFF);
	buf[12] = 5 << 4;
	const uint8_t bad[] = { 0, TWS_TCP_PSH, TWS_TCP_URG, TWS_TCP_SYN | TWS_TCP_FIN,
				TWS_TCP_SYN | TWS_TCP_RST, TWS_TCP_SYN | TWS_TCP_RST | TWS_TCP_ACK };

	for (unsigned int i = 0; i < sizeof(bad); i++) {
		buf[13] = bad[i];
		CHECKF(parse(buf, len, false, &si, &o) == TWS_SEG_BAD_FLAGS, "flags %#x", bad[i]);
	}
	const uint8_t good[] = { TWS_TCP_SYN, TWS_TCP_ACK, TWS_TCP_RST, TWS_TCP_FIN,
				 TWS_TCP_SYN | TWS_TCP_ACK, TWS_TCP_RST | TWS_TCP_ACK,
				 TWS_TCP_FIN | TWS_TCP_ACK | TWS_TCP_PSH };

	for (unsigned int i = 0; i < sizeof(good); i++) {
		buf[13] = good[i];
		CHECKF(parse(buf, len, false, &si, &o) == TWS_SEG_OK, "flags %#x", good[i]);
	}
}

static void
test_checksum(void)
{
	uint8_t buf[256];
	struct tws_seg_info si;
	struct tws_tcp_opts o;
	uint32_t len = build(buf, TWS_TCP_ACK, NULL, 0, 77); /* odd length */

	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_OK);
	buf[60] ^= 0x01;
	CHECK(parse(buf, len, true, &si, &o) == TWS_SEG_BAD_CSUM);
	CHECK(parse(buf, len, false, &si, &o) == TWS_SEG_OK); /* offloaded: not checked */
	buf[60] ^= 0x01;
	/* The pseudo-header counts: another source address fails. */
	CHECK(tws_tcp_parse(buf, len, rte_cpu_to_be_32(SADDR + 1), rte_cpu_to_be_32(DADDR), true,
			    &si, &o) == TWS_SEG_BAD_CSUM);
}

/*
 * Thousands of random and truncated segments, each in a buffer of exactly
 * its length (so a read past it is a read past the allocation): every one
 * gets a status, and the well-formed ones have consistent fields.
 */
static void
test_random_and_truncated_input(void)
{
	const uint8_t opt[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t base[128];
	uint32_t blen = build(base, TWS_TCP_SYN, opt, sizeof(opt), 20);
	uint64_t rng = 2024, counts[TWS_SEG_STATUS_COUNT] = { 0 };

	for (unsigned int it = 0; it < 200000; it++) {
		uint64_t r = tws_test_rand(&rng);
		uint32_t len;
		uint8_t *b;

		if (it % 2 == 0) {
			/* A valid segment, cut short and with a few bytes flipped. */
			len = (uint32_t)(r % (blen + 1));
			b = malloc(len ? len : 1);
			CHECK(b != NULL);
			memcpy(b, base, len);
			for (unsigned int k = 0; k < (r >> 8) % 4 && len > 0; k++)
				b[tws_test_rand(&rng) % len] ^= (uint8_t)tws_test_rand(&rng);
		} else {
			len = (uint32_t)(r % 90);
			b = malloc(len ? len : 1);
			CHECK(b != NULL);
			for (uint32_t k = 0; k < len; k++)
				b[k] = (uint8_t)tws_test_rand(&rng);
		}

		struct tws_seg_info si;
		struct tws_tcp_opts o;
		enum tws_tcp_seg_status st = parse(b, len, (r >> 40) & 1, &si, &o);

		CHECK((unsigned int)st < TWS_SEG_STATUS_COUNT);
		counts[st]++;
		if (st == TWS_SEG_OK) {
			CHECK(si.hdr_len >= 20 && si.hdr_len + si.len == len);
			CHECK(!o.has_wscale || o.wscale <= 14);
		}
		free(b);
	}
	for (unsigned int s = 0; s < TWS_SEG_STATUS_COUNT; s++) {
		printf("# %-10s %" PRIu64 "\n", tws_tcp_seg_status_name(s), counts[s]);
		CHECKF(counts[s] > 0, "no segment ended as %s", tws_tcp_seg_status_name(s));
	}
}

/* Linux's SYN option layout, byte for byte (as tcpdump shows a Linux SYN). */
static void
test_write_syn_linux_layout(void)
{
	struct tws_seg_out o = {
		.sport = rte_cpu_to_be_16(40000), .dport = rte_cpu_to_be_16(80),
		.seq = 0x01020304u, .flags = TWS_TCP_SYN, .window = 64240,
		.has_ts = true, .tsval = 0x0a0b0c0du, .tsecr = 0,
		.syn = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
			 .sack_ok = true },
	};
	const uint8_t want_opt[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x0a, 0x0b, 0x0c, 0x0d,
				       0, 0, 0, 0, 1, 3, 3, 7 };
	uint8_t buf[TWS_TCP_HDR_MAX];

	CHECK(tws_tcp_write_header(buf, sizeof(buf), &o) == 40);
	CHECK(buf[12] == 0xa0 && buf[13] == TWS_TCP_SYN);
	CHECK(memcmp(buf + 20, want_opt, sizeof(want_opt)) == 0);
	CHECK(tws_tcp_write_header(buf, 39, &o) == -ENOSPC);
	/* An ACK with timestamps: NOP NOP TS, 32 bytes; SYN options are not written. */
	o.flags = TWS_TCP_ACK;
	CHECK(tws_tcp_write_header(buf, sizeof(buf), &o) == 32);
	CHECK(buf[20] == 1 && buf[21] == 1 && buf[22] == 8 && buf[23] == 10);
	/* Nothing to add: a bare 20-byte header. */
	o.has_ts = false;
	CHECK(tws_tcp_write_header(buf, 20, &o) == 20);
}

/* What is written parses back to the same fields, with a valid checksum. */
static void
test_write_parse_round_trip(void)
{
	uint64_t rng = 31337;
	uint8_t buf[TWS_TCP_HDR_MAX + 64];

	for (unsigned int it = 0; it < 20000; it++) {
		uint64_t r = tws_test_rand(&rng), q = tws_test_rand(&rng);
		static const uint8_t fl[] = { TWS_TCP_SYN, TWS_TCP_SYN | TWS_TCP_ACK, TWS_TCP_ACK,
					      TWS_TCP_FIN | TWS_TCP_ACK, TWS_TCP_RST,
					      TWS_TCP_RST | TWS_TCP_ACK, TWS_TCP_PSH | TWS_TCP_ACK };
		struct tws_seg_out o = {
			.sport = (rte_be16_t)r, .dport = (rte_be16_t)(r >> 16),
			.seq = (uint32_t)q, .ack = (uint32_t)(q >> 32),
			.flags = fl[(r >> 32) % sizeof(fl)], .window = (uint16_t)(r >> 40),
			.has_ts = (r >> 56) & 1, .tsval = (uint32_t)tws_test_rand(&rng),
			.tsecr = (uint32_t)tws_test_rand(&rng),
			.syn = { .has_mss = (r >> 57) & 1, .mss = (uint16_t)(q >> 7),
				 .has_wscale = (r >> 58) & 1, .wscale = (uint8_t)((r >> 59) % 15),
				 .sack_ok = (r >> 63) & 1 },
		};
		int hlen = tws_tcp_write_header(buf, sizeof(buf), &o);
		uint32_t payload = (uint32_t)(q % 64);
		struct tws_seg_info si;
		struct tws_tcp_opts po;
		bool syn = o.flags & TWS_TCP_SYN;

		CHECK(hlen >= 20 && hlen <= TWS_TCP_HDR_MAX && hlen % 4 == 0);
		for (uint32_t i = 0; i < payload; i++)
			buf[hlen + i] = (uint8_t)(i * 7);
		tws_tcp_set_checksum(buf, (uint32_t)hlen + payload, rte_cpu_to_be_32(SADDR),
				     rte_cpu_to_be_32(DADDR));
		CHECK(parse(buf, (uint32_t)hlen + payload, true, &si, &po) == TWS_SEG_OK);
		CHECK(si.sport == o.sport && si.dport == o.dport && si.seq == o.seq);
		CHECK(si.ack == o.ack && si.flags == o.flags && si.window == o.window);
		CHECK(si.len == payload && si.hdr_len == hlen);
		CHECK(si.has_ts == o.has_ts);
		if (o.has_ts)
			CHECK(si.tsval == o.tsval && si.tsecr == o.tsecr);
		CHECK(po.has_mss == (syn && o.syn.has_mss) && po.has_wscale == (syn && o.syn.has_wscale));
		CHECK(po.sack_ok == (syn && o.syn.sack_ok));
		if (po.has_mss)
			CHECK(po.mss == o.syn.mss);
		if (po.has_wscale)
			CHECK(po.wscale == o.syn.wscale);
	}
}

int
main(void)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_syn_with_all_options),
		TWS_TEST(test_ack_with_payload_and_ts),
		TWS_TEST(test_option_edge_cases),
		TWS_TEST(test_malformed_headers),
		TWS_TEST(test_checksum),
		TWS_TEST(test_random_and_truncated_input),
		TWS_TEST(test_write_syn_linux_layout),
		TWS_TEST(test_write_parse_round_trip),
	};

	return tws_test_run(cases, TWS_NCASES(cases));
}
