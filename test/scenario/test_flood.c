/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN floods against stack B (RFC 4987): spoofed SYNs from 198.18.0.3 fill
 * the SYN queue (syn_backlog connections in SYN_RCVD); past it B answers
 * with SYN cookies and keeps nothing. Legitimate clients on A still connect
 * and move every byte intact; the options a cookie carries (MSS from the
 * table, window scale and SACK in the timestamp) match what the client
 * offered; forged, misdirected and expired cookies draw an RST and are
 * counted; with syncookies=off the flood's SYNs are dropped and clients get
 * in once the embryonic connections time out; data on the ACK that returns
 * a cookie is kept. Time is injected; expected values come from the wire.
 */
#include <string.h>

#include <rte_mempool.h>

#include "xfer.h"

static struct xnet X;

#define MS UINT64_C(1000)
#define SEC (1000 * MS)
#define T0 (10 * 60 * SEC + SEC) /* one second into minute 10: cookie counts are exact */

static uint64_t rng = 77;

static uint32_t
rnd(void)
{
	uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (uint32_t)(z ^ (z >> 31));
}

static struct tws_tuple
tuple_b(rte_be32_t raddr, uint16_t rport)
{
	return (struct tws_tuple){ .laddr = H_ADDR_B, .raddr = raddr, .lport = H_PORT,
				   .rport = rte_cpu_to_be_16(rport) };
}

/* A segment from the scripted peer C:sport to B:80, with the SYN options of a Linux client. */
static struct rte_mbuf *
c_seg(uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack, bool ts, uint32_t tsecr,
      uint32_t len)
{
	static uint8_t data[1460];

	for (uint32_t i = 0; i < len && i < sizeof(data); i++)
		data[i] = x_pattern(i);

	struct h_inject in = {
		.saddr = H_ADDR_C, .daddr = H_ADDR_B, .sport = sport, .dport = 80,
		.flags = flags, .seq = seq, .ack = ack, .window = 65535, .has_ts = ts,
		.tsval = 5000, .tsecr = tsecr, .payload = data, .len = len,
		.syn = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
			 .sack_ok = true },
	};

	return h_build(&in);
}

/* Feed a segment from C to B; B's single reply (if any) decoded into *r. Returns replies. */
static unsigned int
c_send(struct rte_mbuf *m, struct h_seg *r)
{
	unsigned int n = 0;
	struct rte_mbuf *o;

	x_feed(&X, 1, m);
	while ((o = x_grab(&X, 1)) != NULL) {
		struct h_seg s;

		if (h_decode(o, &s) == 0 && s.daddr == H_ADDR_C && r != NULL && n == 0)
			*r = s;
		n++;
		rte_pktmbuf_free(o);
	}
	return n;
}

/* nb spoofed SYNs from C (ports from port0 up), replies to C discarded. */
static void
flood(uint16_t port0, unsigned int nb)
{
	for (unsigned int i = 0; i < nb; i++) {
		x_feed(&X, 1, c_seg((uint16_t)(port0 + i), TWS_TCP_SYN, rnd(), 0, i % 2 == 0, 0, 0));
		if (i % 32 == 31)
			x_run(&X);
	}
	x_run(&X);
}

static struct tws_conn *
b_conn(rte_be32_t raddr, uint16_t rport)
{
	struct tws_tuple t = tuple_b(raddr, rport);
	struct tws_conn *c = NULL;

	tws_stack_lookup(x_node(&X, 1)->st, &t, &c, NULL);
	return c;
}

/* ------------------------------------------------------------------------ */

#define NB_LEGIT 40
#define BACKLOG 64
#define NB_FLOOD 2000

static struct xc lc[NB_LEGIT][2];
static struct xc ref[2];

/*
 * A flood past syn_backlog: the queue holds BACKLOG embryos, every later
 * SYN gets a cookie; NB_LEGIT clients connecting during the flood each
 * complete through a cookie with the options a queued connection gets, and
 * move 30 KB each way intact. Afterwards the embryos time out and nothing
 * is left: no connection, no mbuf.
 */
static void
test_flood_cookies(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs ka, kb;
	struct tws_tcp_secret sec;

	tws_tcp_secret_set(&sec, x_secret);
	memset(lc, 0, sizeof(lc));
	memset(ref, 0, sizeof(ref));
	h_knobs(&ka);
	kb = ka;
	kb.syn_backlog = BACKLOG;
	CHECK(kb.syncookies == TWS_SYNCOOKIES_ON_FULL); /* the default */
	CHECK(x_init(&X, &ka, &kb, T0, 0) == 0);

	/* A reference connection before the flood: the options of a queued handshake. */
	ref[0].tx_len = ref[1].tx_len = 1000;
	ref[0].rx_expect = ref[1].rx_expect = 1000;
	CHECK(x_connect(&X, &ref[0], &ref[1], 0) == 0);
	x_run(&X);
	CHECK(ref[1].conn != NULL && ref[0].rx_got == 1000 && ref[1].rx_got == 1000);
	CHECK(x_stat(&X, 1, "syncookies_sent") == 0);

	struct tws_conn_info want, ci;

	tws_conn_info_get(ref[1].conn, &want);
	CHECKF(want.ts_ok && want.sack_ok && want.snd_wscale == ka.wscale && want.mss == 1448,
	       "ref: mss %u ws %u/%u sack %d ts %d", want.mss, want.snd_wscale, want.rcv_wscale,
	       want.sack_ok, want.ts_ok);

	/* The flood, legitimate clients among it once the queue is full. */
	flood(1000, 200);
	CHECKF(x_stat(&X, 1, "syn_rcvd") == BACKLOG, "syn_rcvd %lu",
	       (unsigned long)x_stat(&X, 1, "syn_rcvd"));
	CHECK(x_stat(&X, 1, "syn_queue_full") == 200 - BACKLOG);
	CHECK(x_stat(&X, 1, "syncookies_sent") == 200 - BACKLOG);
	for (int i = 0; i < NB_LEGIT; i++) {
		struct xc *c = &lc[i][0], *s = &lc[i][1];

		flood((uint16_t)(2000 + i * (NB_FLOOD / NB_LEGIT)), NB_FLOOD / NB_LEGIT);
		c->tx_len = s->tx_len = 30000;
		c->rx_expect = s->rx_expect = 30000;
		c->close_when_done = true;
		s->close_on_peer_fin = true;
		c->tx_when = s->tx_when = X_TX_MANUAL;
		CHECK(x_connect(&X, c, s, 0) == 0);
		x_run(&X);
		/* Established through a cookie: B's ISN is one, its options those of ref. */
		CHECKF(s->conn != NULL, "legit %d not accepted: %s", i, x_xc_fmt(c));
		tws_conn_info_get(s->conn, &ci);
		struct tws_tuple t = *tws_conn_tuple(s->conn);

		CHECK(tws_syncookie_check(&sec, &t, ci.irs, ci.iss,
					  tws_syncookie_count(x_time(&X, 1) / MS)) ==
		      (int)tws_syncookie_mss_index(1460));
		CHECKF(ci.mss == want.mss && ci.snd_wscale == want.snd_wscale &&
		       ci.rcv_wscale == want.rcv_wscale && ci.sack_ok == want.sack_ok &&
		       ci.ts_ok == want.ts_ok, "legit %d: mss %u ws %u/%u sack %d ts %d", i, ci.mss,
		       ci.snd_wscale, ci.rcv_wscale, ci.sack_ok, ci.ts_ok);
		x_xc_start(c);
		x_xc_start(s);
	}
	x_drive(&X, x_all_ended, NULL, MS, 60 * SEC);
	for (int i = 0; i < NB_LEGIT; i++)
		CHECKF(x_xc_ok(&lc[i][0]) && x_xc_ok(&lc[i][1]), "legit %d: %s | %s", i,
		       x_xc_fmt(&lc[i][0]), x_xc_fmt(&lc[i][1]));
	CHECK(x_stat(&X, 1, "syncookies_recv") == NB_LEGIT);
	CHECK(x_stat(&X, 1, "syncookies_failed") == 0);
	CHECK(x_stat(&X, 1, "syncookies_sent") == 200 - BACKLOG + NB_FLOOD + NB_LEGIT);
	CHECK(x_stat(&X, 1, "syn_queue_dropped") == 0);
	CHECK(x_stat(&X, 1, "syn_rcvd") == BACKLOG);
	/* Cookies keep nothing: B holds the embryos and ref only. */
	CHECKF(x_stat(&X, 1, "conns") == BACKLOG + 1, "conns %lu",
	       (unsigned long)x_stat(&X, 1, "conns"));

	/* The embryos time out (6 SYN-ACK retransmissions: 127 s); then nothing is left. */
	tws_close(ref[0].conn);
	tws_close(ref[1].conn);
	for (int i = 0; i < 200; i++)
		x_at(&X, X.h.now_us + SEC);
	CHECK(x_stat(&X, 1, "syn_rcvd") == 0);
	CHECKF(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0, "conns %lu/%lu",
	       (unsigned long)x_stat(&X, 0, "conns"), (unsigned long)x_stat(&X, 1, "conns"));
	CHECK(x_stat(&X, 0, "tw_entries") == 0 && x_stat(&X, 1, "tw_entries") == 0);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */

static struct xc oc[2];

/* Largest payload B put on the wire, and the SYN-ACK it sent. */
static uint32_t
b_max_len(struct h_seg *synack)
{
	uint32_t m = 0;

	for (unsigned int i = 0; i < X.h.nb_log; i++) {
		if (X.h.log_from[i] != 1)
			continue;
		if (X.h.log[i].flags & TWS_TCP_SYN)
			*synack = X.h.log[i];
		m = RTE_MAX(m, X.h.log[i].len);
	}
	return m;
}

/*
 * What a cookie carries, client option by option (syncookies=always): the
 * MSS rounded down to the table, window scale and SACK through the
 * timestamp's low bits, and without timestamps neither. The transfer
 * (100 KB each way) respects them: B's segments fit the cookie's MSS.
 */
static void
test_cookie_options(void)
{
	static const struct {
		int ts, ws, sack, mss;          /* A's knobs */
		unsigned int want_mss, want_ws; /* B's view; want_ws 0xff: no scaling */
		bool want_sack;
	} cases[] = {
		{ 1, 7, 1, 1460, 1460, 7, true },
		{ 1, 3, 0, 1460, 1460, 3, false },
		{ 1, 0, 1, 1400, 1300, 0, true },
		{ 1, 14, 1, 1000, 536, 14, true },
		{ 0, 7, 1, 1460, 1460, 0xff, false },
		{ 0, 7, 1, 1300, 1300, 0xff, false },
		{ 1, 7, 1, 600, 536, 7, true },
	};
	struct tws_tcp_secret sec;

	tws_tcp_secret_set(&sec, x_secret);
	for (unsigned int k = 0; k < RTE_DIM(cases); k++) {
		x_reset(&X);

		unsigned int base = x_pool_avail();
		struct tws_tcp_knobs ka, kb;

		h_knobs(&ka);
		kb = ka;
		kb.syncookies = TWS_SYNCOOKIES_ALWAYS;
		ka.timestamps = (uint32_t)cases[k].ts;
		ka.wscale = (uint32_t)cases[k].ws;
		ka.sack = (uint32_t)cases[k].sack;
		ka.mss = (uint32_t)cases[k].mss;
		CHECK(x_init(&X, &ka, &kb, T0, 0) == 0);
		memset(oc, 0, sizeof(oc));
		oc[0].tx_len = oc[1].tx_len = 100000;
		oc[0].rx_expect = oc[1].rx_expect = 100000;
		oc[0].close_when_done = true;
		oc[1].close_on_peer_fin = true;
		oc[0].tx_when = oc[1].tx_when = X_TX_MANUAL;
		CHECK(x_connect(&X, &oc[0], &oc[1], 0) == 0);
		x_run(&X);
		CHECKF(oc[1].conn != NULL, "case %u: not accepted", k);

		struct tws_conn_info ci, ca;

		tws_conn_info_get(oc[1].conn, &ci);
		tws_conn_info_get(oc[0].conn, &ca);
		bool scaled = cases[k].want_ws != 0xff;

		CHECKF(ci.mss == cases[k].want_mss - (cases[k].ts ? 12 : 0) && ci.sack_ok == cases[k].want_sack &&
		       ci.ts_ok == (cases[k].ts != 0) &&
		       ci.snd_wscale == (scaled ? cases[k].want_ws : 0) &&
		       ci.rcv_wscale == (scaled ? kb.wscale : 0),
		       "case %u: B mss %u ws %u/%u sack %d ts %d", k, ci.mss, ci.snd_wscale,
		       ci.rcv_wscale, ci.sack_ok, ci.ts_ok);
		/* A agrees: what B offered back is what B uses. */
		CHECKF(ca.snd_wscale == ci.rcv_wscale && ca.rcv_wscale == ci.snd_wscale &&
		       ca.sack_ok == ci.sack_ok && ca.ts_ok == ci.ts_ok,
		       "case %u: A ws %u/%u sack %d ts %d", k, ca.snd_wscale, ca.rcv_wscale,
		       ca.sack_ok, ca.ts_ok);
		CHECK(x_stat(&X, 1, "syncookies_sent") == 1 && x_stat(&X, 1, "syncookies_recv") == 1);
		CHECK(x_stat(&X, 1, "syn_rcvd") == 0);
		x_xc_start(&oc[0]);
		x_xc_start(&oc[1]);
		CHECK(x_drive(&X, x_all_ended, NULL, MS, 60 * SEC));
		CHECKF(x_xc_ok(&oc[0]) && x_xc_ok(&oc[1]), "case %u: %s | %s", k,
		       x_xc_fmt(&oc[0]), x_xc_fmt(&oc[1]));

		struct h_seg sa = { .flags = 0 };
		uint32_t maxlen = b_max_len(&sa);

		CHECKF(maxlen == cases[k].want_mss - (cases[k].ts ? 12 : 0), "case %u: B's largest segment %u", k, maxlen);
		/* The SYN-ACK on the wire: its ISN a cookie, its TSval's low bits the options. */
		struct tws_tuple t = tuple_b(H_ADDR_A, oc[0].cport);

		CHECK(sa.flags == (TWS_TCP_SYN | TWS_TCP_ACK));
		CHECK(tws_syncookie_check(&sec, &t, sa.ack - 1, sa.seq, tws_syncookie_count(T0 / MS)) ==
		      (int)tws_syncookie_mss_index(cases[k].want_mss));
		CHECK(sa.has_ts == (cases[k].ts != 0));
		CHECK(sa.opts.has_wscale == scaled && sa.opts.sack_ok == cases[k].want_sack);
		if (sa.has_ts) {
			uint32_t raw = sa.tsval - tws_tcp_ts_offset(&sec, H_ADDR_B, H_ADDR_A);
			uint32_t bits = raw & ((1u << TWS_SYNCOOKIE_TS_BITS) - 1);

			CHECKF(bits == ((scaled ? cases[k].want_ws : TWS_SYNCOOKIE_WS_NONE) |
					(cases[k].want_sack ? TWS_SYNCOOKIE_TS_SACK : 0)),
			       "case %u: TSval low bits 0x%x", k, bits);
			CHECK(raw <= T0 / MS && T0 / MS - raw < 64); /* never ahead of the clock */
		}
		for (int i = 0; i < 100; i++)
			x_at(&X, X.h.now_us + SEC);
		CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0);
		x_free(&X);
		CHECKF(x_pool_avail() == base, "case %u: pool %u, was %u", k, x_pool_avail(), base);
	}
}

/* ------------------------------------------------------------------------ */

/*
 * ACKs that do not return a cookie B made: random ones, a valid cookie
 * moved to another port or address, one whose sequence number is not the
 * SYN's + 1: each an RST and syncookies_failed, no state. The genuine ACK
 * then makes its connection. Before any cookie was sent (syncookies=full)
 * a stray ACK is not checked at all: an RST, counted as no_listener only.
 */
static struct xc gc;

static void
test_forged_acks(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct h_seg r;

	h_knobs(&k);
	k.syn_backlog = 4;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	memset(&gc, 0, sizeof(gc));
	gc.side = 1;
	gc.cport = 3000;
	x_add(&X, &gc);

	CHECK(c_send(c_seg(999, TWS_TCP_ACK, 1000, 2000, false, 0, 0), &r) == 1);
	CHECK(r.flags == TWS_TCP_RST && r.seq == 2000);
	CHECK(x_stat(&X, 1, "no_listener") == 1 && x_stat(&X, 1, "syncookies_failed") == 0);

	flood(1000, 4); /* the queue is full */
	CHECK(c_send(c_seg(3000, TWS_TCP_SYN, 7000000, 0, true, 0, 0), &r) == 1);
	CHECK(r.flags == (TWS_TCP_SYN | TWS_TCP_ACK) && r.ack == 7000001);
	CHECK(x_stat(&X, 1, "syncookies_sent") == 1);

	uint32_t cookie = r.seq, tsval = r.tsval;
	struct h_seg rr;

	for (unsigned int i = 0; i < 1000; i++) {
		uint32_t ack = rnd();

		CHECK(c_send(c_seg((uint16_t)(4000 + i), TWS_TCP_ACK, rnd(), ack, i % 2, rnd(), 0),
			     &rr) == 1);
		CHECKF(rr.flags == TWS_TCP_RST && rr.seq == ack, "forged %u: %s", i, h_fmt(&rr));
	}
	CHECK(x_stat(&X, 1, "syncookies_failed") == 1000);
	/*
	 * The real cookie from the wrong port, with another SYN sequence, with
	 * another count. (The SYN's sequence number is added into the cookie,
	 * as in Linux: one off by 1 to 3 shifts the MSS index within the table
	 * and passes. Only whoever saw the SYN-ACK can do that.)
	 */
	CHECK(c_send(c_seg(3001, TWS_TCP_ACK, 7000001, cookie + 1, true, tsval, 0), &rr) == 1);
	CHECK(rr.flags == TWS_TCP_RST);
	CHECK(c_send(c_seg(3000, TWS_TCP_ACK, 7000001 + 0x100, cookie + 1, true, tsval, 0),
		     &rr) == 1);
	CHECK(rr.flags == TWS_TCP_RST);
	CHECK(c_send(c_seg(3000, TWS_TCP_ACK, 7000001, cookie + 1 + (1u << 24), true, tsval, 0),
		     &rr) == 1);
	CHECK(rr.flags == TWS_TCP_RST);
	CHECK(x_stat(&X, 1, "syncookies_failed") == 1003 && x_stat(&X, 1, "syncookies_recv") == 0);
	CHECK(x_stat(&X, 1, "conns") == 4);

	/* The genuine ACK: a connection, no reply owed. */
	CHECK(c_send(c_seg(3000, TWS_TCP_ACK, 7000001, cookie + 1, true, tsval, 0), NULL) == 0);
	CHECK(x_stat(&X, 1, "syncookies_recv") == 1 && x_stat(&X, 1, "conns") == 5);
	struct tws_conn *c = b_conn(H_ADDR_C, 3000);

	CHECK(c != NULL && tws_conn_state(c) == TWS_ESTABLISHED && gc.opened);
	/* Its duplicate is an ACK for that connection now, not a second one. */
	CHECK(c_send(c_seg(3000, TWS_TCP_ACK, 7000001, cookie + 1, true, tsval, 0), NULL) == 0);
	CHECK(x_stat(&X, 1, "syncookies_recv") == 1 && x_stat(&X, 1, "conns") == 5);
	tws_abort(c);
	x_run(&X);
	CHECK(x_stat(&X, 1, "conns") == 4);
	for (int i = 0; i < 200; i++)
		x_at(&X, X.h.now_us + SEC);
	CHECK(x_stat(&X, 1, "conns") == 0 && x_stat(&X, 1, "syn_rcvd") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */

/*
 * A cookie lives through the minute it was made and the next one
 * (TWS_SYNCOOKIE_MAX_AGE): made at 10:01, accepted until just before 12:00
 * and refused from 12:00 on, and three minutes later.
 */
static struct xc ac;

static void
test_cookie_age(void)
{
	static const struct { uint64_t after; bool ok; } cases[] = {
		{ 1 * SEC, true },
		{ 59 * SEC, true },            /* 11:00: the next minute */
		{ 118 * SEC + 999 * MS, true }, /* 11:59.999 */
		{ 119 * SEC, false },          /* 12:00 */
		{ 180 * SEC, false },
	};

	for (unsigned int k = 0; k < RTE_DIM(cases); k++) {
		x_reset(&X);

		unsigned int base = x_pool_avail();
		struct tws_tcp_knobs kn;
		struct h_seg r, rr = { .flags = 0 };
		uint16_t port = (uint16_t)(5000 + k);

		h_knobs(&kn);
		kn.syncookies = TWS_SYNCOOKIES_ALWAYS;
		CHECK(x_init(&X, &kn, &kn, T0, 0) == 0);
		memset(&ac, 0, sizeof(ac));
		ac.side = 1;
		ac.cport = port;
		x_add(&X, &ac);
		CHECK(c_send(c_seg(port, TWS_TCP_SYN, 1u << 31, 0, false, 0, 0), &r) == 1);
		CHECK(r.flags == (TWS_TCP_SYN | TWS_TCP_ACK) && !r.has_ts);
		CHECK(x_stat(&X, 1, "conns") == 0);
		x_at(&X, T0 + cases[k].after);

		unsigned int n = c_send(c_seg(port, TWS_TCP_ACK, (1u << 31) + 1, r.seq + 1, false, 0,
					      0), &rr);

		if (cases[k].ok) {
			CHECKF(n == 0 && x_stat(&X, 1, "syncookies_recv") == 1,
			       "case %u: %u replies (%s), recv %lu failed %lu", k, n, h_fmt(&rr),
			       (unsigned long)x_stat(&X, 1, "syncookies_recv"),
			       (unsigned long)x_stat(&X, 1, "syncookies_failed"));
			struct tws_conn *c = b_conn(H_ADDR_C, port);

			CHECK(c != NULL && tws_conn_state(c) == TWS_ESTABLISHED);
			tws_abort(c);
			x_run(&X);
		} else {
			CHECKF(n == 1 && rr.flags == TWS_TCP_RST && rr.seq == r.seq + 1, "case %u", k);
			CHECK(x_stat(&X, 1, "syncookies_failed") == 1 &&
			      x_stat(&X, 1, "syncookies_recv") == 0);
		}
		CHECK(x_stat(&X, 1, "conns") == 0);
		x_free(&X);
		CHECKF(x_pool_avail() == base, "case %u: pool %u, was %u", k, x_pool_avail(), base);
	}
}

/* ------------------------------------------------------------------------ */

static struct xc dc;

/* Data on the ACK that returns the cookie: the connection is made and keeps it. */
static void
test_cookie_ack_data(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct h_seg r, rr;

	h_knobs(&k);
	k.syncookies = TWS_SYNCOOKIES_ALWAYS;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	memset(&dc, 0, sizeof(dc));
	dc.side = 1;
	dc.cport = 6000;
	dc.rx_expect = 300;
	x_add(&X, &dc);
	CHECK(c_send(c_seg(6000, TWS_TCP_SYN, 100, 0, true, 0, 0), &r) == 1);
	CHECK(r.flags == (TWS_TCP_SYN | TWS_TCP_ACK) && r.has_ts && r.tsecr == 5000);
	CHECK(x_stat(&X, 1, "conns") == 0);
	x_at(&X, T0 + 20 * MS);
	CHECK(c_send(c_seg(6000, TWS_TCP_ACK | TWS_TCP_PSH, 101, r.seq + 1, true, r.tsval, 300),
		     &rr) <= 1);
	CHECK(x_stat(&X, 1, "syncookies_recv") == 1);
	CHECKF(dc.opened && dc.rx_got == 300 && dc.rx_bad == 0, "%s", x_xc_fmt(&dc));
	x_at(&X, T0 + 100 * MS); /* the delayed ACK */
	struct tws_conn *c = b_conn(H_ADDR_C, 6000);
	struct tws_conn_info ci;

	CHECK(c != NULL && tws_conn_state(c) == TWS_ESTABLISHED);
	tws_conn_info_get(c, &ci);
	CHECK(ci.rcv_nxt == 401 && ci.iss == r.seq && ci.snd_una == r.seq + 1);
	CHECK(ci.mss == 1448 && ci.snd_wscale == 7 && ci.sack_ok && ci.ts_ok);
	tws_abort(c);
	x_run(&X);
	CHECK(x_stat(&X, 1, "conns") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */

static struct xc fc[2];

/*
 * syncookies=off: past syn_backlog SYNs are dropped (counted), an ACK is
 * never taken for a cookie; a client's SYN is dropped too, and its
 * retransmission gets in once the embryos time out (2 SYN-ACK
 * retransmissions here: 7 s).
 */
static void
test_cookies_off(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs ka, kb;
	struct h_seg rr;

	h_knobs(&ka);
	kb = ka;
	kb.syncookies = TWS_SYNCOOKIES_OFF;
	kb.syn_backlog = 16;
	kb.syn_retries = 2;
	CHECK(x_init(&X, &ka, &kb, T0, 0) == 0);
	flood(1000, 100);
	CHECK(x_stat(&X, 1, "syn_rcvd") == 16 && x_stat(&X, 1, "conns") == 16);
	CHECK(x_stat(&X, 1, "syn_queue_full") == 84 && x_stat(&X, 1, "syn_queue_dropped") == 84);
	CHECK(x_stat(&X, 1, "syncookies_sent") == 0);
	CHECK(c_send(c_seg(999, TWS_TCP_ACK, 1000, 2000, false, 0, 0), &rr) == 1);
	CHECK(rr.flags == TWS_TCP_RST && x_stat(&X, 1, "syncookies_failed") == 0);

	memset(fc, 0, sizeof(fc));
	fc[0].tx_len = fc[1].tx_len = 5000;
	fc[0].rx_expect = fc[1].rx_expect = 5000;
	fc[0].close_when_done = true;
	fc[1].close_on_peer_fin = true;
	CHECK(x_connect(&X, &fc[0], &fc[1], 0) == 0);
	x_run(&X);
	CHECK(!fc[0].opened && x_stat(&X, 1, "syn_queue_dropped") == 85);
	CHECK(x_drive(&X, x_all_ended, NULL, 10 * MS, 60 * SEC));
	CHECKF(x_xc_ok(&fc[0]) && x_xc_ok(&fc[1]), "%s | %s", x_xc_fmt(&fc[0]), x_xc_fmt(&fc[1]));
	CHECKF(fc[0].end_us >= T0 + 7 * SEC, "ended at +%lu us", /* it waited for the queue */
	       (unsigned long)(fc[0].end_us - T0));
	CHECK(x_stat(&X, 1, "syn_rcvd") == 0);
	for (int i = 0; i < 100; i++)
		x_at(&X, X.h.now_us + SEC);
	CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_flood_cookies),
		TWS_TEST(test_cookie_options),
		TWS_TEST(test_forged_acks),
		TWS_TEST(test_cookie_age),
		TWS_TEST(test_cookie_ack_data),
		TWS_TEST(test_cookies_off),
	};

	(void)argc;
	h_init(argv[0]);

	int rc = tws_test_run(cases, TWS_NCASES(cases));

	x_reset(&X);
	return rc;
}
