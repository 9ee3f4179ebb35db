/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the segment input path of two stacks (the scenario
 * harness's A and B, built with xfer.c) holding a listener, ESTABLISHED
 * connections (one idle, one with B's reader paused) and TIME_WAIT entries
 * on both sides. Each input is a list of records
 *
 *     ctl  sel  len  bytes[len]
 *
 *   ctl bit 0   to A (0) or B (1)
 *   ctl bit 1   fix up: IPv4 total length = len, both checksums right
 *   ctl 2..7    time to advance after the segment (0: none, c^3 * 300 us)
 *   sel bit 7   rewrite addresses and ports to known tuple (sel & 0x3f)
 *   sel bit 6   with bit 7: seq and ack are offsets from the connection's
 *               (or TIME_WAIT entry's) rcv_nxt and snd_una / snd_nxt
 *
 * so the fuzzer reaches in-window segments of live tuples without guessing
 * hashes and sequence numbers. The scenario is rebuilt for every input (a
 * crash file reproduces alone). After the input: a fresh connection must
 * still complete with every byte right, and once both stacks are freed
 * every mbuf is back in the pool. A broken invariant aborts (a crash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mempool.h>

#include "xfer.h"

#define T0 UINT64_C(1000000)
#define MS UINT64_C(1000)
#define MAX_RECORDS 32

#define NB_EST 2
#define NB_TW 2
#define NB_TUPLES (NB_EST + NB_TW + 1) /* + one unknown client of the listener */

static struct xnet X;
static struct xc xe[NB_EST][2], xt[NB_TW][2], xl[2];
static struct tws_tuple tuples[NB_TUPLES]; /* A's view */
static unsigned int pool_base;

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_stack: invariant broken: %s (%s:%d)\n", #cond, \
			__FILE__, __LINE__); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	h_init((*argv)[0]); /* EAL (--no-pci --no-huge --no-shconf, own prefix) and the pool */
	pool_base = x_pool_avail();
	return 0;
}

static bool
tw_done(struct xnet *x, void *arg)
{
	(void)x;
	(void)arg;
	for (int i = 0; i < NB_TW; i++)
		if (!xt[i][0].ended || !xt[i][1].ended)
			return false;
	return true;
}

static bool
pair_done(struct xnet *x, void *arg)
{
	struct xc *c = arg;

	(void)x;
	return c[0].ended && c[1].ended;
}

/* A listener, live connections, TIME_WAIT on A (i = 0) and on B (i = 1). */
static void
scenario(void)
{
	struct tws_tcp_knobs k;

	memset(xe, 0, sizeof(xe));
	memset(xt, 0, sizeof(xt));
	memset(xl, 0, sizeof(xl));
	h_knobs(&k);
	k.sndbuf = k.rcvbuf = 8192; /* few segments fill a window: a cheap stall */
	k.syn_backlog = 2;          /* a third fuzzed SYN gets a cookie, ACKs get checked */
	FUZZ_CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	for (int i = 0; i < NB_TW; i++) {
		struct xc *c = &xt[i][0], *s = &xt[i][1];

		c->tx_len = s->tx_len = 300;
		c->rx_expect = s->rx_expect = 300;
		c->close_when_done = i == 0;
		s->close_on_peer_fin = i == 0;
		s->close_when_done = i == 1;
		c->close_on_peer_fin = i == 1;
		FUZZ_CHECK(x_connect(&X, c, s, 0) == 0);
		tuples[NB_EST + i] = *tws_conn_tuple(c->conn);
	}
	for (int i = 0; i < NB_EST; i++) {
		struct xc *c = &xe[i][0], *s = &xe[i][1];

		c->tx_len = i == 0 ? 1000 : 30000; /* 1: more than B's buffer, B not reading */
		s->tx_len = 1000;
		c->rx_expect = 1000;
		s->rx_expect = c->tx_len;
		s->no_read = i == 1;
		FUZZ_CHECK(x_connect(&X, c, s, 0) == 0);
		tuples[i] = *tws_conn_tuple(c->conn);
	}
	FUZZ_CHECK(x_drive(&X, tw_done, NULL, MS, 500 * MS));
	tuples[NB_TUPLES - 1] = (struct tws_tuple){ .laddr = H_ADDR_A, .raddr = H_ADDR_B,
						    .lport = RTE_BE16(40000), .rport = H_PORT };
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Addresses, ports and (rel) sequence numbers of tuple t as seen by `side`. */
static void
rewrite(uint8_t *p, uint32_t len, int side, const struct tws_tuple *t, bool rel)
{
	uint32_t ihl = (p[0] & 0xfu) * 4;
	struct tws_tuple v = *t; /* the receiver's view */

	if (side == 1)
		v = (struct tws_tuple){ .laddr = t->raddr, .raddr = t->laddr, .lport = t->rport,
					.rport = t->lport };
	if (len < 20 || ihl < 20 || len < ihl + 4)
		return;
	memcpy(p + 12, &v.raddr, 4);
	memcpy(p + 16, &v.laddr, 4);
	memcpy(p + ihl, &v.rport, 2);
	memcpy(p + ihl + 2, &v.lport, 2);
	if (!rel || len < ihl + 12)
		return;

	struct tws_conn *c = NULL;
	struct tws_tw_view tw;
	enum tws_tcp_state st = tws_stack_lookup(x_node(&X, side)->st, &v, &c, &tw);
	uint32_t rcv_nxt, snd;

	if (c != NULL) {
		struct tws_conn_info ci;

		tws_conn_info_get(c, &ci);
		rcv_nxt = ci.rcv_nxt;
		snd = ci.snd_una;
	} else if (st == TWS_TIME_WAIT) {
		rcv_nxt = tw.rcv_nxt;
		snd = tw.snd_nxt;
	} else {
		return;
	}
	wr32(p + ihl + 4, rcv_nxt + rd32(p + ihl + 4));
	wr32(p + ihl + 8, snd + rd32(p + ihl + 8));
}

static void
fixup(uint8_t *p, uint32_t len)
{
	uint32_t ihl = (p[0] & 0xfu) * 4;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	if (len < 20 || ihl < 20 || ihl > len)
		return;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl);
	if (len >= ihl + 20)
		tws_tcp_set_checksum(p + ihl, len - ihl, ip->src_addr, ip->dst_addr);
}

/* After the attack: a new connection carries 3000 bytes each way and closes. */
static void
still_works(void)
{
	struct xc *c = &xl[0], *s = &xl[1];

	c->tx_len = s->tx_len = 3000;
	c->rx_expect = s->rx_expect = 3000;
	c->close_when_done = true;
	s->close_on_peer_fin = true;
	FUZZ_CHECK(x_connect(&X, c, s, 0) == 0);
	x_drive(&X, pair_done, xl, 10 * MS, 120000 * MS);
	if (!x_xc_ok(c) || !x_xc_ok(s))
		fprintf(stderr, "fuzz_stack: client %s\nfuzz_stack: server %s\n", x_xc_fmt(c),
			x_xc_fmt(s));
	FUZZ_CHECK(x_xc_ok(c) && x_xc_ok(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	scenario();
	for (unsigned int r = 0; r < MAX_RECORDS && off + 3 <= size; r++) {
		uint8_t ctl = data[off], sel = data[off + 1];
		uint32_t len = data[off + 2];
		int side = ctl & 1;

		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);

		struct rte_mbuf *m = rte_pktmbuf_alloc(h_pool());

		FUZZ_CHECK(m != NULL);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		memcpy(p, data + off, len);
		off += len;
		m->data_len = m->pkt_len = (uint16_t)len;
		if (sel & 0x80)
			rewrite(p, len, side, &tuples[(sel & 0x3f) % NB_TUPLES], sel & 0x40);
		if (ctl & 2)
			fixup(p, len);
		x_feed(&X, side, m);
		x_run(&X);

		uint64_t c = ctl >> 2;

		if (c != 0)
			x_at(&X, X.h.now_us + c * c * c * 300);
	}
	still_works();
	x_free(&X);
	FUZZ_CHECK(x_pool_avail() == pool_base);
	return 0;
}
