/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the engine does with input it must not trust: each kind of
 * malformed packet handed back by tws_stack_rx_burst() with its reason and
 * counted; blind segments that land in a live connection's window; then
 * tens of thousands of random, truncated and mutated segments fed to two
 * stacks that hold live connections (mid-transfer, half closed) and
 * TIME_WAIT entries. Nothing crashes, the connections an attacker cannot
 * see into still finish with every byte right, and every mbuf comes back.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mempool.h>

#include "xfer.h"

static struct xnet X;

#define T0 UINT64_C(1000000)
#define MS UINT64_C(1000)

static struct tws_tuple
mirror(const struct tws_tuple *t)
{
	return (struct tws_tuple){ .laddr = t->raddr, .raddr = t->laddr, .lport = t->rport,
				   .rport = t->lport };
}

/* ---- packet surgery ---- */

static inline uint8_t *
pkt(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *);
}

static inline uint32_t
pkt_ihl(struct rte_mbuf *m)
{
	return (pkt(m)[0] & 0xfu) * 4;
}

static inline uint8_t *
pkt_tcp(struct rte_mbuf *m)
{
	return pkt(m) + pkt_ihl(m);
}

static inline uint32_t
pkt_tot(struct rte_mbuf *m)
{
	return (uint32_t)pkt(m)[2] << 8 | pkt(m)[3];
}

static void
set_tot(struct rte_mbuf *m, uint32_t tot)
{
	pkt(m)[2] = (uint8_t)(tot >> 8);
	pkt(m)[3] = (uint8_t)tot;
}

static void
fix_ip(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, pkt_ihl(m));
}

static void
fix_tcp(struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

	tws_tcp_set_checksum(pkt_tcp(m), pkt_tot(m) - pkt_ihl(m), ip->src_addr, ip->dst_addr);
}

/* Both checksums right again after surgery. */
static void
fix(struct rte_mbuf *m)
{
	fix_ip(m);
	fix_tcp(m);
}

/* A segment from the scripted peer C:sport to B:80 (valid). */
static struct rte_mbuf *
seg(uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack, bool ts, uint32_t len)
{
	static uint8_t data[1460];

	for (uint32_t i = 0; i < len && i < sizeof(data); i++)
		data[i] = x_pattern(i);

	struct h_inject in = {
		.saddr = H_ADDR_C, .daddr = H_ADDR_B, .sport = sport, .dport = 80,
		.flags = flags, .seq = seq, .ack = ack, .window = 65535, .has_ts = ts,
		.tsval = 100, .tsecr = ts && (flags & TWS_TCP_ACK) ? 1 : 0,
		.payload = data, .len = len,
		.syn = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
			 .sack_ok = true },
	};

	return h_build(&in);
}

/* ------------------------------------------------------------------------ */
/* Each malformed kind, alone                                                */
/* ------------------------------------------------------------------------ */

struct bad_case {
	const char *what;
	int reason;                          /* enum tws_rx_reject, or -1: accepted */
	void (*make)(struct rte_mbuf *m);    /* surgery on a valid 100-byte ACK segment with TS */
	bool syn;                            /* start from a SYN instead */
};

static void mk_tcp_19(struct rte_mbuf *m)
{
	set_tot(m, 20 + 19);
	m->data_len = m->pkt_len = 20 + 19;
	fix_ip(m);
}

static void mk_tcp_0(struct rte_mbuf *m)
{
	set_tot(m, 20);
	m->data_len = m->pkt_len = 20;
	fix_ip(m);
}

static void mk_doff_4(struct rte_mbuf *m)
{
	pkt_tcp(m)[12] = 4 << 4;
	fix(m);
}

static void mk_doff_past_end(struct rte_mbuf *m)
{
	/* 15 words = 60 bytes of header in a 40-byte segment. */
	set_tot(m, 20 + 40);
	m->data_len = m->pkt_len = 60;
	pkt_tcp(m)[12] = 15 << 4;
	fix(m);
}

static void mk_doff_0(struct rte_mbuf *m)
{
	pkt_tcp(m)[12] = 0;
	fix(m);
}

/* The option area of the ACK (NOP NOP TS = 12 bytes) rewritten. */
static void
set_opts(struct rte_mbuf *m, const uint8_t *o, unsigned int n)
{
	uint8_t *op = pkt_tcp(m) + 20;

	memset(op, 0, 12);
	memcpy(op, o, n);
	fix(m);
}

static void mk_opt_len0(struct rte_mbuf *m)
{
	set_opts(m, (const uint8_t[]){ 2, 0, 5, 0xb4 }, 4);
}

static void mk_opt_len1(struct rte_mbuf *m)
{
	set_opts(m, (const uint8_t[]){ 1, 1, 8, 1 }, 4);
}

static void mk_opt_past_end(struct rte_mbuf *m)
{
	set_opts(m, (const uint8_t[]){ 1, 1, 8, 11, 0, 0, 0, 0, 0, 0, 0, 0 }, 12);
}

static void mk_opt_kind_at_end(struct rte_mbuf *m)
{
	set_opts(m, (const uint8_t[]){ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 30 }, 12);
}

static void mk_opt_unknown_ok(struct rte_mbuf *m)
{
	/* An unknown kind skipped by its length, a short MSS ignored: well formed. */
	set_opts(m, (const uint8_t[]){ 99, 4, 0, 0, 2, 3, 0, 1, 1, 1, 0, 0 }, 12);
}

static void mk_csum(struct rte_mbuf *m)
{
	pkt_tcp(m)[40] ^= 0x55; /* a payload byte */
}

static void mk_csum_zero(struct rte_mbuf *m)
{
	pkt_tcp(m)[16] = pkt_tcp(m)[17] = 0;
}

static void mk_csum_hdr(struct rte_mbuf *m)
{
	pkt_tcp(m)[7] ^= 1; /* the sequence number */
}

static void mk_flags(struct rte_mbuf *m, uint8_t f)
{
	pkt_tcp(m)[13] = f;
	fix(m);
}

static void mk_syn_fin(struct rte_mbuf *m) { mk_flags(m, TWS_TCP_SYN | TWS_TCP_FIN); }
static void mk_syn_rst(struct rte_mbuf *m) { mk_flags(m, TWS_TCP_SYN | TWS_TCP_RST | TWS_TCP_ACK); }
static void mk_no_flags(struct rte_mbuf *m) { mk_flags(m, 0); }
static void mk_psh_urg(struct rte_mbuf *m) { mk_flags(m, TWS_TCP_PSH | TWS_TCP_URG); }

static void mk_ipv6(struct rte_mbuf *m)
{
	pkt(m)[0] = 0x65;
	fix_ip(m);
}

static void mk_short_ip(struct rte_mbuf *m)
{
	m->data_len = m->pkt_len = 19;
}

static void mk_ihl_4(struct rte_mbuf *m)
{
	pkt(m)[0] = 0x44;
}

static void mk_ihl_past_tot(struct rte_mbuf *m)
{
	pkt(m)[0] = 0x4f; /* 60 bytes of IP header */
	set_tot(m, 40);
	m->data_len = m->pkt_len = 40;
}

static void mk_tot_past_data(struct rte_mbuf *m)
{
	set_tot(m, pkt_tot(m) + 1); /* one byte more than the mbuf holds */
	fix(m);
}

static void mk_tot_under_ihl(struct rte_mbuf *m)
{
	set_tot(m, 19);
	fix_ip(m);
}

static void mk_ip_csum(struct rte_mbuf *m)
{
	pkt(m)[8] ^= 1; /* the TTL, checksum not fixed */
}

static void mk_ip_csum_flag(struct rte_mbuf *m)
{
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
}

static void mk_l4_csum_flag(struct rte_mbuf *m)
{
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
}

static void mk_l4_good_flag(struct rte_mbuf *m)
{
	/* The NIC vouches for the checksum: not checked again (wrong here, accepted). */
	pkt_tcp(m)[16] ^= 0xff;
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

static void mk_frag_mf(struct rte_mbuf *m)
{
	pkt(m)[6] = 0x20; /* MF */
	fix_ip(m);
}

static void mk_frag_off(struct rte_mbuf *m)
{
	pkt(m)[6] = 0x00;
	pkt(m)[7] = 0x10; /* offset 16 x 8 */
	fix_ip(m);
}

static void mk_frag_df_ok(struct rte_mbuf *m)
{
	pkt(m)[6] = 0x40; /* DF alone: not a fragment */
	fix_ip(m);
}

static void mk_udp(struct rte_mbuf *m)
{
	pkt(m)[9] = IPPROTO_UDP;
	fix_ip(m);
}

static void mk_icmp(struct rte_mbuf *m)
{
	pkt(m)[9] = IPPROTO_ICMP;
	fix_ip(m);
}

static void mk_ip_options_ok(struct rte_mbuf *m)
{
	/* A 24-byte IP header (one NOP-padded option word): the TCP segment moves 4 bytes. */
	uint32_t tot = pkt_tot(m);
	uint8_t *p = pkt(m);

	memmove(p + 24, p + 20, tot - 20);
	p[20] = p[21] = p[22] = p[23] = 1;
	p[0] = 0x46;
	set_tot(m, tot + 4);
	m->data_len = m->pkt_len = (uint16_t)(tot + 4);
	fix(m);
}

static const struct bad_case bad_cases[] = {
	{ "19 bytes of TCP", TWS_RX_TRUNCATED, mk_tcp_19, false },
	{ "no TCP header", TWS_RX_TRUNCATED, mk_tcp_0, false },
	{ "data offset 4 words", TWS_RX_BAD_DOFF, mk_doff_4, false },
	{ "data offset 0", TWS_RX_BAD_DOFF, mk_doff_0, false },
	{ "data offset past the end", TWS_RX_BAD_DOFF, mk_doff_past_end, false },
	{ "option length 0", TWS_RX_BAD_OPTION, mk_opt_len0, false },
	{ "option length 1", TWS_RX_BAD_OPTION, mk_opt_len1, false },
	{ "option past the header", TWS_RX_BAD_OPTION, mk_opt_past_end, false },
	{ "option kind in the last byte", TWS_RX_BAD_OPTION, mk_opt_kind_at_end, false },
	{ "unknown option, short MSS", -1, mk_opt_unknown_ok, false },
	{ "payload checksum", TWS_RX_BAD_CSUM, mk_csum, false },
	{ "checksum 0", TWS_RX_BAD_CSUM, mk_csum_zero, false },
	{ "header checksum", TWS_RX_BAD_CSUM, mk_csum_hdr, false },
	{ "NIC says L4 bad", TWS_RX_BAD_CSUM, mk_l4_csum_flag, false },
	{ "NIC says L4 good", -1, mk_l4_good_flag, false },
	{ "SYN+FIN", TWS_RX_BAD_FLAGS, mk_syn_fin, true },
	{ "SYN+RST+ACK", TWS_RX_BAD_FLAGS, mk_syn_rst, true },
	{ "no flags", TWS_RX_BAD_FLAGS, mk_no_flags, false },
	{ "PSH+URG only", TWS_RX_BAD_FLAGS, mk_psh_urg, false },
	{ "IPv6 version", TWS_RX_NOT_IPV4, mk_ipv6, false },
	{ "19 bytes of IP", TWS_RX_NOT_IPV4, mk_short_ip, false },
	{ "IHL 4", TWS_RX_BAD_IP, mk_ihl_4, false },
	{ "IHL past total length", TWS_RX_BAD_IP, mk_ihl_past_tot, false },
	{ "total length past the data", TWS_RX_BAD_IP, mk_tot_past_data, false },
	{ "total length under IHL", TWS_RX_BAD_IP, mk_tot_under_ihl, false },
	{ "IP checksum", TWS_RX_BAD_IP, mk_ip_csum, false },
	{ "NIC says IP bad", TWS_RX_BAD_IP, mk_ip_csum_flag, false },
	{ "more fragments", TWS_RX_FRAGMENT, mk_frag_mf, false },
	{ "fragment offset", TWS_RX_FRAGMENT, mk_frag_off, false },
	{ "DF only", -1, mk_frag_df_ok, false },
	{ "UDP", TWS_RX_NOT_TCP, mk_udp, false },
	{ "ICMP", TWS_RX_NOT_TCP, mk_icmp, false },
	{ "IP options", -1, mk_ip_options_ok, false },
};

static void
stats(int side, struct tws_stack_stats *s)
{
	tws_stack_stats_get(x_node(&X, side)->st, s);
}

/*
 * Each kind fed alone to B: handed back (the same mbuf) with its reason,
 * counted under it and nowhere else; nothing sent, no state touched. The
 * well-formed controls are consumed and answered (RST: no such connection).
 */
static void
test_reject_each_kind(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;

	h_knobs(&k);
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	for (unsigned int i = 0; i < RTE_DIM(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct rte_mbuf *m = bc->syn ? seg((uint16_t)(2000 + i), TWS_TCP_SYN, 1000, 0, true, 0)
					     : seg((uint16_t)(2000 + i), TWS_TCP_ACK, 1000, 5000, true,
						   100);
		struct tws_stack_stats b, a;
		struct rte_mbuf *rej[1];
		int32_t reason[1] = { -7 };

		CHECK(m != NULL);
		bc->make(m);
		stats(1, &b);

		uint16_t acc = tws_stack_rx_burst(X.h.b.st, &m, rej, reason, 1, x_time(&X, 1));

		stats(1, &a);
		if (bc->reason < 0) {
			CHECKF(acc == 1, "%s: rejected (%s)", bc->what,
			       tws_rx_reject_name((enum tws_rx_reject)reason[0]));
			CHECKF(a.rx_segs == b.rx_segs + 1, "%s", bc->what);
			/* No connection: a RST answers (RFC 9293 3.10.7.1). */
			CHECKF(a.no_listener == b.no_listener + 1 && a.rst_sent == b.rst_sent + 1,
			       "%s", bc->what);
			x_run(&X); /* to A? no: to C, freed as stray */
			continue;
		}
		CHECKF(acc == 0, "%s: consumed", bc->what);
		CHECKF(rej[0] == m, "%s: another mbuf handed back", bc->what);
		CHECKF(reason[0] == bc->reason, "%s: reason %s, expected %s", bc->what,
		       tws_rx_reject_name((enum tws_rx_reject)reason[0]),
		       tws_rx_reject_name((enum tws_rx_reject)bc->reason));
		for (int r = 0; r < TWS_RX_REJECT_COUNT; r++)
			CHECKF(a.rx_rejected[r] == b.rx_rejected[r] + (r == bc->reason), "%s: %s %lu",
			       bc->what, tws_rx_reject_name((enum tws_rx_reject)r),
			       (unsigned long)a.rx_rejected[r]);
		CHECKF(a.rx_segs == b.rx_segs && a.tx_segs == b.tx_segs &&
		       a.no_listener == b.no_listener && a.conns == b.conns, "%s", bc->what);
		CHECK(tws_stack_tx_pending(X.h.b.st) == 0);
		rte_pktmbuf_free(rej[0]);
	}
	/* Every reason was exercised. */
	struct tws_stack_stats s;

	stats(1, &s);
	for (int r = 0; r < TWS_RX_REJECT_COUNT; r++)
		CHECKF(s.rx_rejected[r] > 0, "%s never seen",
		       tws_rx_reject_name((enum tws_rx_reject)r));
	CHECK(X.nb_stray > 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/*
 * One burst of 150 packets, good and bad mixed across the engine's 64-packet
 * chunks: the bad ones come back in order with their reasons, the good ones
 * are consumed in order (their SYN-ACKs leave in order).
 */
static void
test_reject_mixed_burst(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct rte_mbuf *in[150], *rej[150];
	int32_t reason[150];
	int expect[150];
	unsigned int nb_bad = 0, nb_good = 0;
	uint64_t rng = 77;

	h_knobs(&k);
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	for (unsigned int i = 0; i < RTE_DIM(in); i++) {
		bool bad = tws_test_rand(&rng) % 3 != 0;
		const struct bad_case *bc = &bad_cases[tws_test_rand(&rng) % RTE_DIM(bad_cases)];

		if (bad && bc->reason >= 0 && !bc->syn) {
			in[i] = seg((uint16_t)(3000 + i), TWS_TCP_ACK, 1, 1, true, 100);
			bc->make(in[i]);
			expect[nb_bad++] = bc->reason;
		} else {
			in[i] = seg((uint16_t)(3000 + i), TWS_TCP_SYN, 1000 + i, 0, true, 0);
			nb_good++;
		}
		CHECK(in[i] != NULL);
	}

	struct rte_mbuf *copy[150];

	memcpy(copy, in, sizeof(copy));

	uint16_t acc = tws_stack_rx_burst(X.h.b.st, in, rej, reason, RTE_DIM(in), x_time(&X, 1));

	CHECKF(acc == nb_good, "consumed %u, %u good", acc, nb_good);
	for (unsigned int j = 0; j < nb_bad; j++)
		CHECKF(reason[j] == expect[j], "reject %u: %s, expected %s", j,
		       tws_rx_reject_name((enum tws_rx_reject)reason[j]),
		       tws_rx_reject_name((enum tws_rx_reject)expect[j]));
	/* The very mbufs, in arrival order. */
	for (unsigned int j = 0, i = 0; j < nb_bad; j++, i++) {
		while (i < RTE_DIM(copy) && copy[i] != rej[j])
			i++;
		CHECKF(i < RTE_DIM(copy), "reject %u: not one of the packets, or out of order", j);
	}
	for (unsigned int j = 0; j < nb_bad; j++)
		rte_pktmbuf_free(rej[j]);

	struct h_seg s[150];
	unsigned int n = h_take(&X.h.b, s, RTE_DIM(s));

	CHECKF(n == nb_good, "%u SYN-ACKs", n);
	for (unsigned int j = 0; j + 1 < n; j++)
		CHECK(s[j].flags == (TWS_TCP_SYN | TWS_TCP_ACK) && s[j].dport < s[j + 1].dport);
	CHECK(x_stat(&X, 1, "passive_opens") == nb_good && x_stat(&X, 1, "conns") == nb_good);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* A SYN in a chain of two mbufs is made linear and accepted. */
static void
test_chained_mbuf(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;

	h_knobs(&k);
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);

	struct rte_mbuf *m = seg(4000, TWS_TCP_SYN, 1000, 0, true, 0);
	struct rte_mbuf *m2 = rte_pktmbuf_alloc(h_pool());

	CHECK(m != NULL && m2 != NULL);

	uint16_t tail = 16, len = m->data_len;

	memcpy(rte_pktmbuf_mtod(m2, uint8_t *), pkt(m) + len - tail, tail);
	m2->data_len = tail;
	m->data_len = (uint16_t)(len - tail);
	CHECK(rte_pktmbuf_chain(m, m2) == 0);
	CHECK(m->nb_segs == 2 && m->pkt_len == len);
	CHECK(x_feed(&X, 1, m) == -1);
	CHECK(x_stat(&X, 1, "passive_opens") == 1);

	struct h_seg s;

	CHECK(h_take(&X.h.b, &s, 1) == 1 && s.flags == (TWS_TCP_SYN | TWS_TCP_ACK) &&
	      s.ack == 1001);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */
/* Blind segments inside a live connection's window                          */
/* ------------------------------------------------------------------------ */

static int
peer(uint16_t cport, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t tsval,
     uint32_t tsecr, const uint8_t *data, uint32_t len)
{
	struct h_inject in = {
		.saddr = H_ADDR_C, .daddr = H_ADDR_B, .sport = cport, .dport = 80,
		.flags = flags, .seq = seq, .ack = ack, .window = win, .has_ts = true,
		.tsval = tsval, .tsecr = tsecr, .payload = data, .len = len,
		.syn = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 0,
			 .sack_ok = false },
	};
	struct rte_mbuf *m = h_build(&in);

	return m == NULL ? -2 : x_feed(&X, 1, m);
}

/*
 * An attacker who guessed a sequence number inside B's receive window but
 * not the ACK (RFC 5961 threat model) sends: a pure ACK for data never
 * sent with a far-future timestamp; an ACK a little older than SND.UNA
 * with a zero window; an ACK older than SND.UNA - MAX.SND.WND with a far
 * timestamp. None may change the connection: unacceptable ACKs are dropped
 * (RFC 5961 5.2) before their timestamp counts (or every later genuine
 * segment would fail PAWS), an old one may not touch the send window
 * (RFC 9293 3.10.7.4: only SND.UNA =< SEG.ACK =< SND.NXT updates it). The
 * genuine peer then carries on undisturbed.
 */
static void
test_blind_in_window(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	const uint16_t cport = 5555;
	const uint32_t irs = 7000000;
	struct tws_tcp_knobs k;
	struct xc srv = { 0 };
	struct h_seg s[64];
	static uint8_t data[3000];
	uint32_t ts = 5000, b_ts;

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = x_pattern(i);
	h_knobs(&k);
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	srv.side = 1;
	srv.cport = cport;
	srv.rx_expect = 3000;
	srv.tx_when = X_TX_MANUAL;
	srv.tx_len = 2000;
	x_add(&X, &srv);

	CHECK(peer(cport, TWS_TCP_SYN, irs, 0, 65535, ts, 0, NULL, 0) == -1);
	CHECK(h_take(&X.h.b, s, 64) == 1);

	uint32_t iss = s[0].seq, seq = irs + 1;

	b_ts = s[0].tsval;
	CHECK(peer(cport, TWS_TCP_ACK, seq, iss + 1, 65535, ++ts, b_ts, NULL, 0) == -1);
	CHECK(peer(cport, TWS_TCP_ACK, seq, iss + 1, 65535, ++ts, b_ts, data, 1000) == -1);
	seq += 1000;
	CHECK(srv.opened && srv.rx_got == 1000);
	h_take(&X.h.b, s, 64);

	struct tws_conn_info ci0, ci;

	tws_conn_info_get(srv.conn, &ci0);
	CHECK(ci0.rcv_nxt == seq && ci0.snd_wnd == 65535 && ci0.ts_recent == ts);

	/* 1: at rcv_nxt, ACK of data never sent, TSval 2^30 ahead. */
	CHECK(peer(cport, TWS_TCP_ACK, seq, iss + 1 + 100000, 65535, ts + (1u << 30), b_ts, NULL,
		   0) == -1);
	CHECK(x_stat(&X, 1, "ack_invalid") == 1);
	tws_conn_info_get(srv.conn, &ci);
	CHECKF(ci.ts_recent == ts, "ts_recent %u, was %u: taken from a dropped segment",
	       ci.ts_recent, ts);
	h_take(&X.h.b, s, 64);

	/*
	 * 2: in the window, an ACK older than SND.UNA but within MAX.SND.WND of
	 * it, window 0: acceptable (RFC 5961 5.2), but not for the window.
	 */
	CHECK(peer(cport, TWS_TCP_ACK, seq + 5000, iss + 1 - 1000, 0, ts, b_ts, NULL, 0) == -1);
	tws_conn_info_get(srv.conn, &ci);
	CHECKF(ci.snd_wnd == 65535, "snd_wnd %u after an old ACK", ci.snd_wnd);
	CHECK(x_stat(&X, 1, "ack_invalid") == 1);
	h_take(&X.h.b, s, 64);

	/*
	 * 3: at rcv_nxt, an ACK older than SND.UNA - MAX.SND.WND (65535 here),
	 * TSval far ahead, window 0: dropped with an ACK back (RFC 5961 5.2),
	 * ts_recent and the window untouched.
	 */
	X.h.now_us += 600 * MS; /* past oow_ack_interval_ms: the ACK back is not rate limited */
	CHECK(peer(cport, TWS_TCP_ACK, seq, iss + 1 - 65536, 0, ts + (1u << 30), b_ts, NULL, 0) ==
	      -1);
	CHECK(x_stat(&X, 1, "ack_invalid") == 2);
	tws_conn_info_get(srv.conn, &ci);
	CHECKF(ci.ts_recent == ts && ci.snd_wnd == 65535, "ts_recent %u (was %u), snd_wnd %u",
	       ci.ts_recent, ts, ci.snd_wnd);
	CHECK(h_take(&X.h.b, s, 64) == 1 && s[0].flags == TWS_TCP_ACK && s[0].ack == seq &&
	      s[0].seq == iss + 1);
	/* The edge itself, SND.UNA - MAX.SND.WND, is acceptable. */
	CHECK(peer(cport, TWS_TCP_ACK, seq, iss + 1 - 65535, 65535, ts, b_ts, NULL, 0) == -1);
	CHECK(x_stat(&X, 1, "ack_invalid") == 2);
	h_take(&X.h.b, s, 64);

	/* The genuine peer: more data is accepted, B's reply goes out at once. */
	CHECK(peer(cport, TWS_TCP_ACK | TWS_TCP_PSH, seq, iss + 1, 65535, ++ts, b_ts, data + 1000,
		   2000) == -1);
	seq += 2000;
	CHECKF(srv.rx_got == 3000 && srv.rx_bad == 0, "%s", x_xc_fmt(&srv));
	CHECK(x_stat(&X, 1, "paws_rejected") == 0);
	h_take(&X.h.b, s, 64);
	x_xc_start(&srv);

	unsigned int n = h_take(&X.h.b, s, 64);
	uint32_t bytes = 0;

	for (unsigned int i = 0; i < n; i++)
		bytes += s[i].len;
	CHECKF(bytes == 2000, "B sent %u of 2000 bytes (%u segments)", bytes, n);
	CHECK(s[0].ack == seq);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */
/* The fuzz                                                                  */
/* ------------------------------------------------------------------------ */

#define FUZZ_ITERS 50000
#define CORPUS 512
#define PKT_MAX 1600

struct corpus {
	uint8_t data[CORPUS][PKT_MAX];
	uint16_t len[CORPUS];
	int8_t to[CORPUS];
	unsigned int n, next;
};

static struct corpus corpus;

/* Every genuine packet on the wire joins the corpus (a ring) for mutation. */
static void
tap(struct xnet *x, int from, const struct rte_mbuf *m, void *arg)
{
	unsigned int i = corpus.next++ % CORPUS;

	(void)x;
	(void)arg;
	if (m->data_len > PKT_MAX)
		return;
	memcpy(corpus.data[i], rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
	corpus.len[i] = m->data_len;
	corpus.to[i] = (int8_t)!from;
	if (corpus.n < CORPUS)
		corpus.n++;
}

#define NB_P 4    /* protected: the fuzz never holds an exact in-window sequence number */
#define NB_V 6    /* victims: anything goes, mutations of their own segments included */
#define NB_TW 32  /* closed: TIME_WAIT on A (16) and on B (16) */

static struct xc xp[NB_P][2], xv[NB_V][2], xt[NB_TW][2];
static struct tws_tuple tuples[NB_P + NB_V + NB_TW]; /* A's view */

static uint64_t rng;

static uint32_t
rnd(void)
{
	return (uint32_t)tws_test_rand(&rng);
}

/* Is this packet, fed to `side`, well formed and for a protected connection? */
static struct xc *
protected_target(int side, const uint8_t *p, uint32_t len)
{
	uint32_t ihl = (p[0] & 0xfu) * 4, tot;
	struct tws_seg_info si;
	struct tws_tcp_opts op;

	if (len < 20 || (p[0] >> 4) != 4 || ihl < 20)
		return NULL;
	tot = (uint32_t)p[2] << 8 | p[3];
	if (tot < ihl || tot > len || p[9] != IPPROTO_TCP)
		return NULL;

	rte_be32_t sa, da;

	memcpy(&sa, p + 12, 4);
	memcpy(&da, p + 16, 4);
	if (tws_tcp_parse(p + ihl, tot - ihl, sa, da, false, &si, &op) != TWS_SEG_OK)
		return NULL;
	for (int i = 0; i < NB_P; i++) {
		struct xc *c = &xp[i][side];
		const struct tws_tuple *t = &tuples[i];
		struct tws_tuple key = side ? mirror(t) : *t;

		if (c->conn != NULL && key.laddr == da && key.raddr == sa && key.lport == si.dport &&
		    key.rport == si.sport)
			return c;
	}
	return NULL;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * A well-formed segment for a protected connection becomes one a blind
 * attacker could send and RFC 9293/5961 say must not disturb it: outside
 * the window; an in-window RST or SYN off rcv_nxt; or an in-window pure
 * ACK whose ACK is unsent or older than SND.UNA.
 */
static uint32_t
make_blind(uint8_t *p, uint32_t len, const struct xc *c)
{
	struct tws_conn_info ci;
	uint32_t ihl = (p[0] & 0xfu) * 4;
	uint8_t *t = p + ihl;
	uint32_t hl = (uint32_t)(t[12] >> 4) * 4;
	uint32_t plen = ((uint32_t)p[2] << 8 | p[3]) - ihl - hl;
	uint32_t wnd, seq, ack;

	tws_conn_info_get(c->conn, &ci);
	wnd = ci.rcv_wnd > 2 ? ci.rcv_wnd : 2;
	switch (rnd() % 4) {
	case 0: /* beyond the right edge, or wholly before rcv_nxt */
		if (rnd() & 1)
			seq = ci.rcv_nxt + wnd + 1 + rnd() % (1u << 30);
		else
			seq = ci.rcv_nxt - plen - 2 - rnd() % (1u << 30);
		wr32(t + 4, seq);
		break;
	case 1: /* RST in the window, not at rcv_nxt */
		t[13] = (uint8_t)(TWS_TCP_RST | (t[13] & TWS_TCP_ACK));
		wr32(t + 4, ci.rcv_nxt + 1 + rnd() % (wnd - 1));
		break;
	case 2: /* SYN in the window */
		t[13] = (uint8_t)(TWS_TCP_SYN | (rnd() & 1 ? TWS_TCP_ACK : 0));
		wr32(t + 4, ci.rcv_nxt + rnd() % wnd);
		break;
	default: /* pure ACK in the window (at rcv_nxt too), ACK unsent or too old */
		t[13] = (uint8_t)(TWS_TCP_ACK | (rnd() & 1 ? TWS_TCP_PSH : 0));
		wr32(t + 4, ci.rcv_nxt + (rnd() & 1 ? 0 : rnd() % wnd));
		ack = rnd() & 1 ? ci.snd_max + 1 + rnd() % (1u << 30)
				: ci.snd_una - (1u << 20) - rnd() % (1u << 29);
		wr32(t + 8, ack);
		len = ihl + hl; /* no payload */
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		break;
	}
	return len;
}

/* Random bytes, a random header on a known tuple, or a mutated genuine packet. */
/*
 * In-window data for a live victim, as its peer would send it but at a
 * random place: around rcv_nxt, inside the window, overlapping, sometimes
 * with a FIN (the out-of-order queue's insert, overlap and drain paths).
 */
static uint32_t
victim_data(uint8_t *p, int *side)
{
	static uint8_t payload[1460];
	struct xc *c = &xv[rnd() % NB_V][rnd() & 1];
	struct tws_conn_info ci;

	if (c->conn == NULL || c->ended)
		return 0;
	tws_conn_info_get(c->conn, &ci);
	if (ci.rcv_wnd == 0)
		return 0;

	struct tws_tuple t = *tws_conn_tuple(c->conn);
	struct h_inject in = {
		.saddr = t.raddr, .daddr = t.laddr, .sport = rte_be_to_cpu_16(t.rport),
		.dport = rte_be_to_cpu_16(t.lport), .flags = TWS_TCP_ACK, .ack = ci.snd_una,
		.window = 1000, .has_ts = true, .tsval = ci.ts_recent + rnd() % 4,
		.tsecr = 0, .payload = payload, .len = 1 + rnd() % 1460,
	};

	in.seq = ci.rcv_nxt + (rnd() % 4 == 0 ? -(int32_t)(rnd() % 2000) : (int32_t)(rnd() % ci.rcv_wnd));
	if (rnd() % 16 == 0)
		in.flags |= TWS_TCP_FIN;
	for (uint32_t i = 0; i < in.len; i++)
		payload[i] = (uint8_t)rnd();

	struct rte_mbuf *m = h_build(&in);

	if (m == NULL)
		return 0;

	uint32_t len = m->data_len;

	memcpy(p, pkt(m), len);
	rte_pktmbuf_free(m);
	*side = c->side;
	return len;
}

static uint32_t
fuzz_packet(uint8_t *p, int *side)
{
	uint32_t len, r = rnd() % 100;

	*side = (int)(rnd() & 1);
	if (r < 10 && (len = victim_data(p, side)) > 0)
		return len;
	if (r < 45 && corpus.n > 0) {
		unsigned int i = rnd() % corpus.n;

		len = corpus.len[i];
		memcpy(p, corpus.data[i], len);
		*side = corpus.to[i];
	} else if (r < 80) {
		/* A fresh header: a known tuple (live, closed) or a random one. */
		struct h_inject in = { 0 };
		static uint8_t payload[1460];
		unsigned int ti = rnd() % (NB_P + NB_V + NB_TW + 4);
		struct tws_tuple t;

		if (ti < NB_P + NB_V + NB_TW) {
			t = tuples[ti];
		} else {
			t.laddr = H_ADDR_A;
			t.raddr = rnd() & 1 ? H_ADDR_B : H_ADDR_C;
			t.lport = (uint16_t)rnd();
			t.rport = rnd() & 1 ? H_PORT : (uint16_t)rnd();
		}
		if (*side)
			t = mirror(&t); /* B's view */
		in.saddr = t.raddr;
		in.daddr = t.laddr;
		in.sport = rte_be_to_cpu_16(t.rport);
		in.dport = rte_be_to_cpu_16(t.lport);
		in.flags = (uint8_t)(rnd() & 0x3f);
		if (rnd() % 4 == 0)
			in.flags = TWS_TCP_SYN;
		in.seq = rnd();
		in.ack = rnd();
		in.window = (uint16_t)rnd();
		in.has_ts = rnd() & 1;
		in.tsval = rnd();
		in.tsecr = rnd();
		in.syn = (struct tws_tcp_opts){ .has_mss = rnd() & 1, .mss = (uint16_t)rnd(),
			.has_wscale = rnd() & 1, .wscale = (uint8_t)(rnd() % 16),
			.sack_ok = rnd() & 1 };
		in.len = rnd() % 4 ? 0 : rnd() % 1460;
		for (uint32_t i = 0; i < in.len; i++)
			payload[i] = (uint8_t)rnd();
		in.payload = payload;

		struct rte_mbuf *m = h_build(&in);

		if (m == NULL)
			return 0;
		len = m->data_len;
		memcpy(p, pkt(m), len);
		rte_pktmbuf_free(m);
	} else {
		/* Random bytes, often behind a plausible IPv4 header. */
		len = rnd() % PKT_MAX;
		for (uint32_t i = 0; i < len; i++)
			p[i] = (uint8_t)rnd();
		if (len >= 20 && rnd() % 4) {
			p[0] = rnd() % 4 ? 0x45 : (uint8_t)(0x40 | (rnd() & 0xf));
			p[2] = (uint8_t)(len >> 8);
			p[3] = (uint8_t)len;
			p[6] = rnd() % 4 ? 0x40 : (uint8_t)rnd();
			p[9] = rnd() % 8 ? IPPROTO_TCP : (uint8_t)rnd();
			memcpy(p + 12, *side ? &(rte_be32_t){ H_ADDR_A } : &(rte_be32_t){ H_ADDR_B }, 4);
			memcpy(p + 16, *side ? &(rte_be32_t){ H_ADDR_B } : &(rte_be32_t){ H_ADDR_A }, 4);
		}
	}

	/* Mutations. */
	unsigned int nm = r < 45 ? 1 + rnd() % 4 : rnd() % 2;

	for (unsigned int j = 0; j < nm && len > 0; j++) {
		uint32_t ihl = (p[0] & 0xfu) * 4;
		uint32_t tcp = ihl >= 20 && ihl + 20 <= len ? ihl : 0;

		switch (rnd() % 10) {
		case 0:
			p[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			p[rnd() % len] = (uint8_t)rnd();
			break;
		case 2:
			if (tcp)
				p[tcp + 13] = (uint8_t)rnd();
			break;
		case 3:
			if (tcp)
				wr32(p + tcp + 4, rnd() % 2 ? rnd() :
				     ((uint32_t)p[tcp + 4] << 24 | (uint32_t)p[tcp + 5] << 16 |
				      (uint32_t)p[tcp + 6] << 8 | p[tcp + 7]) + rnd() % 3000 - 1500);
			break;
		case 4:
			if (tcp)
				wr32(p + tcp + 8, rnd());
			break;
		case 5:
			if (tcp)
				p[tcp + 12] = (uint8_t)(rnd() % 16 << 4);
			break;
		case 6:
			len = rnd() % len; /* truncated */
			break;
		case 7: {
			uint32_t add = rnd() % 200;

			for (uint32_t i = 0; i < add && len < PKT_MAX; i++)
				p[len++] = (uint8_t)rnd();
			break;
		}
		case 8:
			if (tcp && len > tcp + 20) /* garbage in the options / payload start */
				for (uint32_t i = tcp + 20; i < len && i < tcp + 60; i++)
					if (rnd() % 3 == 0)
						p[i] = (uint8_t)rnd();
			break;
		default:
			if (tcp)
				p[tcp + 14] = (uint8_t)rnd(), p[tcp + 15] = (uint8_t)rnd();
			break;
		}
	}

	/* Mostly keep the lengths and checksums right, so the state machine sees it. */
	if (len >= 20) {
		uint32_t ihl = (p[0] & 0xfu) * 4;

		if (rnd() % 10 < 7) {
			p[2] = (uint8_t)(len >> 8);
			p[3] = (uint8_t)len;
		}

		uint32_t tot = (uint32_t)p[2] << 8 | p[3];

		if (ihl >= 20 && ihl <= len && rnd() % 10 < 9) {
			p[10] = p[11] = 0;

			uint16_t ck = (uint16_t)~rte_raw_cksum(p, ihl);

			memcpy(p + 10, &ck, 2);
		}
		if (ihl >= 20 && tot >= ihl + 18 && tot <= len && rnd() % 10 < 8) {
			rte_be32_t sa, da;

			memcpy(&sa, p + 12, 4);
			memcpy(&da, p + 16, 4);
			tws_tcp_set_checksum(p + ihl, tot - ihl, sa, da);
		}
	}

	/* Protected connections only see what a blind attacker could send. */
	const struct xc *pc = protected_target(*side, p, len);

	if (pc != NULL) {
		uint32_t ihl = (p[0] & 0xfu) * 4;
		rte_be32_t sa, da;

		len = make_blind(p, len, pc);
		memcpy(&sa, p + 12, 4);
		memcpy(&da, p + 16, 4);
		tws_tcp_set_checksum(p + ihl, ((uint32_t)p[2] << 8 | p[3]) - ihl, sa, da);
	}
	return len;
}

static bool
protected_done(struct xnet *x, void *arg)
{
	(void)x;
	(void)arg;
	for (int i = 0; i < NB_P; i++)
		if (!xp[i][0].ended || !xp[i][1].ended)
			return false;
	return true;
}

static void
test_fuzz(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	uint64_t verdicts[TWS_RX_REJECT_COUNT + 1] = { 0 };
	static uint8_t p[PKT_MAX + 256];

	rng = 20000;
	memset(&corpus, 0, sizeof(corpus));
	memset(xp, 0, sizeof(xp));
	memset(xv, 0, sizeof(xv));
	memset(xt, 0, sizeof(xt));
	struct tws_tcp_knobs kb;

	h_knobs(&k);
	kb = k;
	kb.rfc1337 = 1; /* B's entries survive RSTs, A's may be killed */
	CHECK(x_init(&X, &k, &kb, T0, 0) == 0);
	X.tap = tap;

	/* Closed connections: TIME_WAIT on A for even i, on B for odd i. */
	for (int i = 0; i < NB_TW; i++) {
		struct xc *c = &xt[i][0], *s = &xt[i][1];

		c->tx_len = s->tx_len = 2000;
		c->rx_expect = s->rx_expect = 2000;
		if (i % 2 == 0) {
			c->close_when_done = true;
			s->close_on_peer_fin = true;
		} else {
			s->close_when_done = true;
			c->close_on_peer_fin = true;
		}
		CHECK(x_connect(&X, c, s, 0) == 0);
		tuples[NB_P + NB_V + i] = *tws_conn_tuple(c->conn);
	}
	/*
	 * Live ones, mid-transfer: 600 KB each way, one reader paused (B's for
	 * even i, A's for odd): one direction done with its window open, the
	 * other stalled with full queues and the persist timer running.
	 */
	for (int i = 0; i < NB_P + NB_V; i++) {
		struct xc *c = i < NB_P ? &xp[i][0] : &xv[i - NB_P][0];
		struct xc *s = c + 1;

		c->tx_len = s->tx_len = 600000;
		c->rx_expect = s->rx_expect = 600000;
		if (i % 2 == 0)
			s->no_read = true;
		else
			c->no_read = true;
		c->close_when_done = s->close_when_done = true;
		if (i >= NB_P + 2 && i < NB_P + 4) {
			/* Two victims half closed: A done, B still sending. */
			c->tx_len = 0;
			c->close_when_done = false;
			c->close_after_send = true;
		}
		CHECK(x_connect(&X, c, s, 0) == 0);
		tuples[i] = *tws_conn_tuple(c->conn);
	}
	x_drive(&X, x_all_ended, NULL, MS, 500 * MS); /* TIME_WAIT reached, the rest stalled */
	CHECK(x_stat(&X, 0, "tw_entries") == NB_TW / 2 && x_stat(&X, 1, "tw_entries") == NB_TW / 2);
	CHECK(x_stat(&X, 0, "conns") == NB_P + NB_V && x_stat(&X, 1, "conns") == NB_P + NB_V);
	for (int i = 0; i < NB_P; i++) {
		int paused = i % 2 == 0;

		CHECK(tws_conn_readable(xp[i][paused].conn) > 100000 && xp[i][paused].rx_got == 0);
		CHECK(xp[i][!paused].rx_got == 600000);
	}

	struct tws_stack_stats s0[2];

	stats(0, &s0[0]);
	stats(1, &s0[1]);

	for (unsigned int it = 0; it < FUZZ_ITERS; it++) {
		int side;
		uint32_t len = fuzz_packet(p, &side);
		struct rte_mbuf *m = rte_pktmbuf_alloc(h_pool());

		CHECK(m != NULL);
		memcpy(pkt(m), p, RTE_MIN(len, (uint32_t)PKT_MAX));
		m->data_len = m->pkt_len = (uint16_t)RTE_MIN(len, (uint32_t)PKT_MAX);
		if (rnd() % 50 == 0)
			m->ol_flags |= (rnd() & 1) ? RTE_MBUF_F_RX_L4_CKSUM_GOOD :
				       RTE_MBUF_F_RX_IP_CKSUM_GOOD;

		int r = x_feed(&X, side, m);

		verdicts[r < 0 ? TWS_RX_REJECT_COUNT : r]++;
		x_run(&X);
		if (it % 8 == 0)
			x_at(&X, X.h.now_us + MS);
	}

	struct tws_stack_stats s1[2];

	stats(0, &s1[0]);
	stats(1, &s1[1]);
	printf("# fuzz: %lu consumed;", (unsigned long)verdicts[TWS_RX_REJECT_COUNT]);
	for (int r = 0; r < TWS_RX_REJECT_COUNT; r++)
		printf(" %s %lu", tws_rx_reject_name((enum tws_rx_reject)r),
		       (unsigned long)verdicts[r]);
	printf("\n");
#define DELTA(f) (s1[0].f - s0[0].f + s1[1].f - s0[1].f)
	printf("# fuzz: challenge_acks %lu oow_dropped %lu paws %lu ack_invalid %lu "
	       "rst_rcvd %lu passive_opens %lu no_listener %lu tw_acked %lu tw_killed %lu "
	       "tw_syn_accepted %lu tw_paws %lu tw_rst_ignored %lu syn_in_est %lu rst_in_window %lu "
	       "ooo %lu/%lu; tw entries %lu/%lu\n",
	       (unsigned long)DELTA(challenge_acks), (unsigned long)DELTA(oow_dropped),
	       (unsigned long)DELTA(paws_rejected), (unsigned long)DELTA(ack_invalid),
	       (unsigned long)DELTA(rst_rcvd), (unsigned long)DELTA(passive_opens),
	       (unsigned long)DELTA(no_listener), (unsigned long)DELTA(tw_acked),
	       (unsigned long)DELTA(tw_killed), (unsigned long)DELTA(tw_syn_accepted),
	       (unsigned long)DELTA(tw_paws_rejected), (unsigned long)DELTA(tw_rst_ignored),
	       (unsigned long)DELTA(syn_in_established), (unsigned long)DELTA(rst_in_window),
	       (unsigned long)DELTA(ooo_queued), (unsigned long)DELTA(ooo_dropped),
	       (unsigned long)s1[0].tw_entries,
	       (unsigned long)s1[1].tw_entries);
	/* The fuzz reached every layer: each reject reason, the state machine, TIME_WAIT. */
	for (int r = 0; r < TWS_RX_REJECT_COUNT; r++)
		CHECKF(verdicts[r] > 0, "%s never produced", tws_rx_reject_name((enum tws_rx_reject)r));
	CHECK(verdicts[TWS_RX_REJECT_COUNT] > FUZZ_ITERS / 4);
	CHECK(DELTA(challenge_acks) > 0 && DELTA(oow_dropped) > 0 && DELTA(passive_opens) > 0);
	CHECK(DELTA(no_listener) > 0 && DELTA(tw_acked) + DELTA(tw_killed) > 0);
	CHECK(DELTA(rst_in_window) > 0 && DELTA(syn_in_established) > 0);
	CHECK(DELTA(ack_invalid) > 0 && DELTA(paws_rejected) > 0);
	CHECK(DELTA(ooo_queued) > 0);
	/* TIME_WAIT entries met segments of every kind (B's keep out RSTs: rfc1337). */
	CHECK(DELTA(tw_acked) > 0 && DELTA(tw_rst_ignored) > 0 && DELTA(tw_paws_rejected) > 0);
	CHECK(s1[0].tw_killed > 0 && s1[1].tw_killed == 0);
	CHECK(DELTA(tw_syn_accepted) > 0);
#undef DELTA

	/* The protected connections read again and finish, every byte right. */
	for (int i = 0; i < NB_P; i++) {
		for (int sd = 0; sd < 2; sd++) {
			CHECKF(!xp[i][sd].ended && xp[i][sd].conn != NULL, "P%d: %s", i,
			       x_xc_fmt(&xp[i][sd]));
			xp[i][sd].no_read = false;
			x_xc_read(&xp[i][sd]);
		}
	}
	bool done = x_drive(&X, protected_done, NULL, 5 * MS, 600000 * MS);

	for (int i = 0; i < NB_P && !done; i++)
		for (int sd = 0; sd < 2; sd++)
			if (xp[i][sd].conn != NULL) {
				struct tws_conn_info ci;

				tws_conn_info_get(xp[i][sd].conn, &ci);
				printf("# P%d %c: %s una %u nxt %u max %u rcv_nxt %u snd_wnd %u rcv_wnd %u "
				       "cwnd %u ts_recent %u unsent %u unacked %u rto %u\n", i, sd ? 'B' : 'A',
				       tws_tcp_state_name(ci.state), ci.snd_una, ci.snd_nxt, ci.snd_max,
				       ci.rcv_nxt, ci.snd_wnd, ci.rcv_wnd, ci.cwnd, ci.ts_recent, ci.unsent,
				       ci.unacked, ci.rto_ms);
			}
	for (int i = 0; i < NB_P; i++)
		CHECKF(done && x_xc_ok(&xp[i][0]) && x_xc_ok(&xp[i][1]), "P%d: %s | %s", i,
		       x_xc_fmt(&xp[i][0]), x_xc_fmt(&xp[i][1]));

	/* Victims: whatever became of them, read what is there and let them end. */
	for (int i = 0; i < NB_V; i++)
		for (int sd = 0; sd < 2; sd++) {
			xv[i][sd].no_read = false;
			if (xv[i][sd].conn != NULL)
				x_xc_read(&xv[i][sd]);
		}
	x_drive(&X, x_all_ended, NULL, 10 * MS, 300000 * MS);
	for (int i = 0; i < NB_V; i++)
		for (int sd = 0; sd < 2; sd++)
			if (!xv[i][sd].ended && xv[i][sd].conn != NULL)
				tws_abort(xv[i][sd].conn);
	x_run(&X);
	for (int i = 0; i < NB_V; i++)
		printf("# V%d: %s | %s\n", i, x_xc_fmt(&xv[i][0]), x_xc_fmt(&xv[i][1]));
	/*
	 * 400 s later (a second at a time: each poll fires a connection's timer
	 * once) every TIME_WAIT entry and every embryonic connection is gone.
	 */
	for (int i = 0; i < 400; i++)
		x_at(&X, X.h.now_us + 1000 * MS);
	CHECK(x_stat(&X, 0, "tw_entries") == 0 && x_stat(&X, 1, "tw_entries") == 0);
	CHECKF(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0, "conns %lu/%lu",
	       (unsigned long)x_stat(&X, 0, "conns"), (unsigned long)x_stat(&X, 1, "conns"));
	/* Idle stacks hold no mbuf. */
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
	for (int sd = 0; sd < 2 && getenv("XDBG"); sd++)
		for (uint32_t i = 0; i < 1024; i++) {
			struct tws_conn *c = tws_table_conn_at(tws_stack_table(x_node(&X, sd)->st), i);
			struct tws_conn_info ci;

			if (c == NULL)
				continue;
			tws_conn_info_get(c, &ci);
			printf("# left %d: %s una %u nxt %u max %u unacked %u unsent %u rto %u retx %u\n",
			       sd, tws_tcp_state_name(ci.state), ci.snd_una, ci.snd_nxt, ci.snd_max,
			       ci.unacked, ci.unsent, ci.rto_ms, ci.retransmits);
		}
	printf("# after: conns %lu/%lu, foreign events %u\n",
	       (unsigned long)x_stat(&X, 0, "conns"), (unsigned long)x_stat(&X, 1, "conns"),
	       X.nb_foreign);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_reject_each_kind),
		TWS_TEST(test_reject_mixed_burst),
		TWS_TEST(test_chained_mbuf),
		TWS_TEST(test_blind_in_window),
		TWS_TEST(test_fuzz),
	};

	(void)argc;
	h_init(argv[0]);

	int rc = tws_test_run(cases, TWS_NCASES(cases));

	x_reset(&X);
	return rc;
}
