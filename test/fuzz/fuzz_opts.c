/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the TCP header and option parser tws_tcp_parse()
 * (lib/tcp/tws_seg.c) on any bytes, with and without the software
 * checksum. What it says about a segment must hold (header inside the
 * segment, SYN-only options only on SYNs), and a parsed header written
 * back with tws_tcp_write_header() and checksummed must parse to the same
 * fields with a good checksum. The first input byte picks the checksum
 * mode; the rest is the segment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "tws_tcp.h"

#define SADDR RTE_BE32(0xc6120001) /* 198.18.0.1 */
#define DADDR RTE_BE32(0xc6120002)

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_opts: invariant broken: %s (%s:%d)\n", #cond, \
			__FILE__, __LINE__); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tws_seg_info si, si2;
	struct tws_tcp_opts op, op2;

	if (size < 1 || size > UINT16_MAX)
		return 0;

	bool csum = data[0] & 1;
	uint32_t len = (uint32_t)size - 1;
	/* A copy of exactly len bytes, so ASan sees any read past the end. */
	uint8_t *seg = malloc(len ? len : 1);

	FUZZ_CHECK(seg != NULL);
	memcpy(seg, data + 1, len);

	enum tws_tcp_seg_status st = tws_tcp_parse(seg, len, SADDR, DADDR, csum, &si, &op);

	FUZZ_CHECK(st < TWS_SEG_STATUS_COUNT && tws_tcp_seg_status_name(st) != NULL);
	if (st != TWS_SEG_OK) {
		free(seg);
		return 0;
	}
	FUZZ_CHECK(si.hdr_len >= 20 && si.hdr_len <= len && si.hdr_len % 4 == 0);
	FUZZ_CHECK(si.len == len - si.hdr_len);
	FUZZ_CHECK(si.flags & (TWS_TCP_SYN | TWS_TCP_ACK | TWS_TCP_RST | TWS_TCP_FIN));
	if (!(si.flags & TWS_TCP_SYN))
		FUZZ_CHECK(!op.has_mss && !op.has_wscale && !op.sack_ok);
	FUZZ_CHECK(!op.has_wscale || op.wscale <= 14);

	/* Round trip: write what was parsed, parse it again. */
	struct tws_seg_out o = {
		.sport = si.sport, .dport = si.dport, .seq = si.seq, .ack = si.ack,
		.flags = si.flags, .window = si.window, .has_ts = si.has_ts,
		.tsval = si.tsval, .tsecr = si.tsecr, .syn = op,
	};
	uint8_t hdr[TWS_TCP_HDR_MAX];
	int hl = tws_tcp_write_header(hdr, sizeof(hdr), &o);

	FUZZ_CHECK(hl >= 20 && hl <= TWS_TCP_HDR_MAX);
	tws_tcp_set_checksum(hdr, (uint32_t)hl, SADDR, DADDR);
	FUZZ_CHECK(tws_tcp_parse(hdr, (uint32_t)hl, SADDR, DADDR, true, &si2, &op2) == TWS_SEG_OK);
	FUZZ_CHECK(si2.sport == si.sport && si2.dport == si.dport && si2.seq == si.seq &&
		   si2.ack == si.ack && si2.flags == si.flags && si2.window == si.window &&
		   si2.has_ts == si.has_ts && si2.len == 0);
	if (si.has_ts)
		FUZZ_CHECK(si2.tsval == si.tsval && si2.tsecr == si.tsecr);
	FUZZ_CHECK(op2.has_mss == op.has_mss && (!op.has_mss || op2.mss == op.mss));
	FUZZ_CHECK(op2.has_wscale == op.has_wscale && (!op.has_wscale || op2.wscale == op.wscale));
	FUZZ_CHECK(op2.sack_ok == op.sack_ok);
	free(seg);
	return 0;
}
