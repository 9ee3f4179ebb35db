/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TIME_WAIT and LAST_ACK decisions of spec sections 3 and 4, with
 * literal numbers. Scenario IDs (T1..T8, S2, F2, F3) name the decision part
 * of the scenario; the engine's part (segments on the wire, counters) is
 * tested with the engine.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>

#include "tws_tcp.h"
#include "tws_test.h"

#define SEC 1000u /* ticks of 1 ms */

static const struct tws_tw_policy linux_like = {
	.rfc1337 = false, .syn_reject_drop = false, .oow_ack_interval = 500, .paws_msl = 60 * SEC,
};

static struct tws_tw_view
entry(uint32_t snd_nxt, uint32_t rcv_nxt, bool ts, uint32_t ts_recent, uint64_t stamp)
{
	struct tws_tw_view e = {
		.snd_nxt = snd_nxt, .rcv_nxt = rcv_nxt, .has_ts = ts, .ts_recent = ts_recent,
		.ts_recent_stamp = stamp,
	};

	return e;
}

static struct tws_seg_info
seg(uint8_t flags, uint32_t seq, uint32_t len, bool ts, uint32_t tsval)
{
	struct tws_seg_info s = {
		.flags = flags, .seq = seq, .len = len, .has_ts = ts, .tsval = tsval,
	};

	return s;
}

static enum tws_tw_verdict
decide(const struct tws_tw_view *e, struct tws_seg_info s, uint64_t now,
       const struct tws_tw_policy *p, struct tws_tw_decision *d)
{
	tws_tw_decide(e, &s, now, p, d);
	return d->verdict;
}

static void
test_seq_helpers_wrap(void)
{
	CHECK(tws_seq_before(1, 2) && tws_seq_after(2, 1));
	CHECK(tws_seq_before(0xfffffff0u, 0x10) && tws_seq_after(0x10, 0xfffffff0u));
	CHECK(!tws_seq_before(5, 5) && !tws_seq_after(5, 5) && tws_seq_leq(5, 5) && tws_seq_geq(5, 5));
	CHECK(tws_seq_before(0, 0x7fffffffu));       /* 2^31 - 1 ahead: after */
	CHECK(tws_seq_after(0, 0x80000001u));        /* 2^31 + 1 ahead: before, i.e. 0 is after */
	CHECK(tws_tw_next_isn(1000) == 1000 + 65537);
	CHECK(tws_tw_next_isn(0xffff0000u) == 0x00000001u); /* wraps */
	CHECK(tws_tw_next_isn(0xfffeffffu) == 1);            /* would be 0: never 0 */
}

/* Rule 1: an exact bare ACK restarts the timer and remembers the timestamp. */
static void
test_rule1_bare_ack_restarts(void)
{
	struct tws_tw_view e = entry(1000, 5000, true, 700, 10 * SEC);
	struct tws_tw_decision d;

	CHECK(decide(&e, seg(TWS_TCP_ACK, 5000, 0, true, 800), 20 * SEC, &linux_like, &d) ==
	      TWS_TW_RESTART);
	CHECK(d.restart_timer && d.update_ts && !d.paws_rejected);
	/* With data it is not a bare ACK: rule 3, ACK back. */
	CHECK(decide(&e, seg(TWS_TCP_ACK, 5000, 10, true, 800), 20 * SEC, &linux_like, &d) ==
	      TWS_TW_ACK);
	CHECK(d.restart_timer && !d.update_ts);
}

/* T1: an old duplicate SYN is answered with a rate-limited ACK (or dropped); entry kept. */
static void
test_t1_old_duplicate_syn(void)
{
	struct tws_tw_view e = entry(1000, 5000, true, 700, 10 * SEC);
	struct tws_tw_policy drop = linux_like;
	struct tws_tw_decision d;

	CHECK(decide(&e, seg(TWS_TCP_SYN, 4000, 0, true, 600), 11 * SEC, &linux_like, &d) ==
	      TWS_TW_ACK);
	CHECK(d.paws_rejected && d.restart_timer && d.syn); /* PAWS reject restarts, like Linux */
	e.oow_acked = true;
	e.last_oow_ack = 11 * SEC;
	CHECK(decide(&e, seg(TWS_TCP_SYN, 4000, 0, true, 600), 11 * SEC + 499, &linux_like, &d) ==
	      TWS_TW_ACK_LIMITED);
	CHECK(decide(&e, seg(TWS_TCP_SYN, 4000, 0, true, 600), 11 * SEC + 500, &linux_like, &d) ==
	      TWS_TW_ACK);
	/* A recorded time ahead of now (the record rounds it up): an ACK just went out. */
	CHECK(decide(&e, seg(TWS_TCP_SYN, 4000, 0, true, 600), 11 * SEC - 200, &linux_like, &d) ==
	      TWS_TW_ACK_LIMITED);
	drop.syn_reject_drop = true;
	CHECK(decide(&e, seg(TWS_TCP_SYN, 4000, 0, true, 600), 12 * SEC, &drop, &d) == TWS_TW_DROP);
	/* Same sequence number, no timestamps: not after rcv_nxt, not newer: rejected. */
	e = entry(1000, 5000, false, 0, 0);
	CHECK(decide(&e, seg(TWS_TCP_SYN, 5000, 0, false, 0), 0, &linux_like, &d) == TWS_TW_ACK);
	CHECK(!d.restart_timer); /* ACK-less SYN, no PAWS: may be a good SYN, timer left alone */
}

/* T2: a retransmitted FIN is re-ACKed and restarts the timer. */
static void
test_t2_retransmitted_fin(void)
{
	struct tws_tw_view e = entry(1000, 5000, true, 700, 10 * SEC);
	struct tws_tw_decision d;

	CHECK(decide(&e, seg(TWS_TCP_FIN | TWS_TCP_ACK, 4999, 0, true, 700), 30 * SEC, &linux_like,
		     &d) == TWS_TW_ACK);
	CHECK(d.restart_timer && !d.paws_rejected);
}

/* T3: exact RST kills; rfc1337 keeps; out-of-window RST dropped; PAWS and its 60 s exemption. */
static void
test_t3_rst(void)
{
	struct tws_tw_view e = entry(1000, 5000, true, 700, 10 * SEC);
	struct tws_tw_policy keep = linux_like;
	struct tws_tw_decision d;

	CHECK(decide(&e, seg(TWS_TCP_RST, 5000, 0, true, 700), 11 * SEC, &linux_like, &d) ==
	      TWS_TW_KILL);
	keep.rfc1337 = true;
	CHECK(decide(&e, seg(TWS_TCP_RST, 5000, 0, true, 701), 11 * SEC, &keep, &d) == TWS_TW_DROP);
	CHECK(!d.restart_timer && d.update_ts);
	CHECK(decide(&e, seg(TWS_TCP_RST, 5001, 0, true, 701), 11 * SEC, &linux_like, &d) ==
	      TWS_TW_DROP);
	CHECK(decide(&e, seg(TWS_TCP_RST | TWS_TCP_ACK, 4000, 0, false, 0), 11 * SEC, &linux_like,
		     &d) == TWS_TW_DROP);
	/* An older timestamp fails PAWS: even an exact RST is dropped... */
	CHECK(decide(&e, seg(TWS_TCP_RST, 5000, 0, true, 600), 11 * SEC, &linux_like, &d) ==
	      TWS_TW_DROP);
	CHECK(d.paws_rejected);
	/* ...until ts_recent is over 60 s old. */
	CHECK(decide(&e, seg(TWS_TCP_RST, 5000, 0, true, 600), 70 * SEC + 1, &linux_like, &d) ==
	      TWS_TW_KILL);
}

/* T4 and S2: SYN acceptance by sequence number or by timestamp. */
static void
test_t4_s2_syn_acceptance(void)
{
	struct tws_tw_view e = entry(1000, 5000, false, 0, 0);
	struct tws_tw_decision d;

	CHECK(decide(&e, seg(TWS_TCP_SYN, 5001, 0, false, 0), 0, &linux_like, &d) ==
	      TWS_TW_ACCEPT_SYN);
	CHECK(d.isn == 1000 + 65537);
	CHECK(decide(&e, seg(TWS_TCP_SYN, 5000, 0, false, 0), 0, &linux_like, &d) == TWS_TW_ACK);
	CHECK(decide(&e, seg(TWS_TCP_SYN, 4999, 0, false, 0), 0, &linux_like, &d) == TWS_TW_ACK);
	/* S2: newer timestamp accepts even a lower sequence number. */
	e = entry(1000, 5000, true, 700, 0);
	CHECK(decide(&e, seg(TWS_TCP_SYN, 10, 0, true, 701), 0, &linux_like, &d) ==
	      TWS_TW_ACCEPT_SYN);
	/* Equal timestamp, lower sequence: neither newer nor after. */
	CHECK(decide(&e, seg(TWS_TCP_SYN, 10, 0, true, 700), 0, &linux_like, &d) == TWS_TW_ACK);
	/* A SYN with ACK or RST is never a new connection. */
	CHECK(decide(&e, seg(TWS_TCP_SYN | TWS_TCP_ACK, 6000, 0, true, 900), 0, &linux_like, &d) ==
	      TWS_TW_ACK);
	CHECK(decide(&e, seg(TWS_TCP_SYN | TWS_TCP_RST, 6000, 0, true, 900), 0, &linux_like, &d) ==
	      TWS_TW_DROP);
	/* After by sequence but older timestamp: PAWS rejects it. */
	CHECK(decide(&e, seg(TWS_TCP_SYN, 6000, 0, true, 600), 0, &linux_like, &d) == TWS_TW_ACK);
	CHECK(d.paws_rejected);
}

/* T8: every comparison across the 2^32 wrap. */
static void
test_t8_wraparound(void)
{
	struct tws_tw_view e = entry(0xfffeffffu, 0xfffffff0u, true, 0xfffffff0u, 0);
	struct tws_tw_decision d;

	/* seq 0x10 is after 0xfffffff0 */
	CHECK(decide(&e, seg(TWS_TCP_SYN, 0x10, 0, true, 0xfffffff0u), 0, &linux_like, &d) ==
	      TWS_TW_ACCEPT_SYN);
	CHECK(d.isn == 1); /* 0xfffeffff + 65537 = 2^32: never 0 */
	/* tsval 5 is newer than 0xfffffff0 */
	CHECK(decide(&e, seg(TWS_TCP_SYN, 0xffffff00u, 0, true, 5), 0, &linux_like, &d) ==
	      TWS_TW_ACCEPT_SYN);
	/* exact bare ACK at the wrapped rcv_nxt */
	CHECK(decide(&e, seg(TWS_TCP_ACK, 0xfffffff0u, 0, true, 3), 0, &linux_like, &d) ==
	      TWS_TW_RESTART);
	/* ts_recent 5, tsval 0xfffffff0: older across the wrap: PAWS */
	e = entry(100, 0x10, true, 5, 0);
	CHECK(decide(&e, seg(TWS_TCP_SYN, 0x20, 0, true, 0xfffffff0u), 0, &linux_like, &d) ==
	      TWS_TW_ACK);
	CHECK(d.paws_rejected);
	/* seq 0xfffffff0 is before rcv_nxt 0x10: an old duplicate */
	e.has_ts = false;
	CHECK(decide(&e, seg(TWS_TCP_SYN, 0xfffffff0u, 0, false, 0), 0, &linux_like, &d) ==
	      TWS_TW_ACK);
}

/* F2 / F3: a SYN meets LAST_ACK after the last ACK was lost. */
static void
test_f2_f3_lastack_syn(void)
{
	/* We sent our FIN (snd_nxt counts it); everything before it is acknowledged. */
	struct tws_lastack_view c = {
		.snd_una = 9000, .snd_nxt = 9001, .rcv_nxt = 5001, .has_ts = true,
		.ts_recent = 700, .ts_recent_stamp = 0,
	};
	struct tws_seg_info syn_new = seg(TWS_TCP_SYN, 777, 0, true, 800);     /* newer ts */
	struct tws_seg_info syn_old = seg(TWS_TCP_SYN, 777, 0, true, 650);     /* PAWS */
	const uint64_t msl = 60 * SEC;

	CHECK(tws_lastack_syn_decide(&c, &syn_new, 0, TWS_LASTACK_RST, msl) == TWS_LASTACK_V_RST);
	CHECK(tws_lastack_syn_decide(&c, &syn_new, 0, TWS_LASTACK_CHALLENGE, msl) ==
	      TWS_LASTACK_V_CHALLENGE);
	CHECK(tws_lastack_syn_decide(&c, &syn_new, 0, TWS_LASTACK_ACCEPT, msl) ==
	      TWS_LASTACK_V_ACCEPT);
	/* Accept falls back to a challenge when it is not safe. */
	CHECK(tws_lastack_syn_decide(&c, &syn_old, 0, TWS_LASTACK_ACCEPT, msl) ==
	      TWS_LASTACK_V_CHALLENGE);
	c.snd_una = 8000; /* data of ours still unacknowledged */
	CHECK(tws_lastack_syn_decide(&c, &syn_new, 0, TWS_LASTACK_ACCEPT, msl) ==
	      TWS_LASTACK_V_CHALLENGE);
	c.snd_una = 9000;
	c.has_ts = false; /* then the sequence number must be after rcv_nxt */
	syn_new.has_ts = false;
	CHECK(tws_lastack_syn_decide(&c, &syn_new, 0, TWS_LASTACK_ACCEPT, msl) ==
	      TWS_LASTACK_V_CHALLENGE);
	syn_new.seq = 5002;
	CHECK(tws_lastack_syn_decide(&c, &syn_new, 0, TWS_LASTACK_ACCEPT, msl) ==
	      TWS_LASTACK_V_ACCEPT);
	syn_new.flags |= TWS_TCP_ACK;
	CHECK(tws_lastack_syn_decide(&c, &syn_new, 0, TWS_LASTACK_ACCEPT, msl) ==
	      TWS_LASTACK_V_CHALLENGE);
}

static struct tws_tuple
tup(uint32_t la, uint32_t ra, uint16_t lp, uint16_t rp)
{
	struct tws_tuple t = {
		.laddr = rte_cpu_to_be_32(la), .raddr = rte_cpu_to_be_32(ra),
		.lport = rte_cpu_to_be_16(lp), .rport = rte_cpu_to_be_16(rp),
	};

	return t;
}

/* RFC 6528: per-tuple offsets, advancing with a 4 µs clock, keyed by the secret. */
static void
test_isn_rfc6528(void)
{
	uint8_t bytes[32];
	struct tws_tcp_secret a, b, r1, r2;
	static uint32_t seen[4096];

	for (unsigned int i = 0; i < 32; i++)
		bytes[i] = (uint8_t)(i * 37 + 1);
	tws_tcp_secret_set(&a, bytes);
	bytes[0] ^= 1;
	tws_tcp_secret_set(&b, bytes);

	struct tws_tuple t = tup(0xc6120001u, 0xc6130001u, 40000, 80);
	uint32_t i0 = tws_tcp_isn(&a, &t, 1000000);

	/* The same tuple: advances one per 4 µs, modulo 2^32. */
	CHECK(tws_tcp_isn(&a, &t, 1000000) == i0);
	CHECK(tws_tcp_isn(&a, &t, 1000000 + 4000) == i0 + 1000);
	CHECK(tws_tcp_isn(&a, &t, 1000000 + 3) == i0);
	CHECK(tws_tcp_isn(&a, &t, 1000000 + 4 * (UINT64_C(1) << 32)) == i0);
	/* Another secret, another sequence space. */
	CHECK(tws_tcp_isn(&b, &t, 1000000) != i0);
	/* 4096 ports of one client: 4096 distinct, unrelated offsets at one instant. */
	for (uint32_t p = 0; p < 4096; p++) {
		struct tws_tuple x = tup(0xc6120001u, 0xc6130001u, (uint16_t)(40000 + p), 80);

		seen[p] = tws_tcp_isn(&a, &x, 0);
		for (uint32_t q = 0; q < p; q++)
			CHECKF(seen[q] != seen[p], "ports %u and %u share an ISN", q, p);
	}
	/* Consecutive ports do not give consecutive ISNs. */
	unsigned int near = 0;

	for (uint32_t p = 1; p < 4096; p++)
		near += (uint32_t)(seen[p] - seen[p - 1] + 65536) < 131072;
	CHECK(near < 10);
	/* Random secrets differ. */
	CHECK(tws_tcp_secret_init(&r1) == 0 && tws_tcp_secret_init(&r2) == 0);
	CHECK(memcmp(&r1, &r2, sizeof(r1)) != 0);
}

/* RFC 7323 §5.4: one offset per address pair, whatever the ports. */
static void
test_ts_offset_per_pair(void)
{
	uint8_t bytes[32] = { 9, 8, 7 };
	struct tws_tcp_secret s;

	tws_tcp_secret_set(&s, bytes);

	uint32_t o1 = tws_tcp_ts_offset(&s, rte_cpu_to_be_32(0xc6120001u), rte_cpu_to_be_32(0xc6130001u));
	uint32_t o2 = tws_tcp_ts_offset(&s, rte_cpu_to_be_32(0xc6120001u), rte_cpu_to_be_32(0xc6130002u));
	uint32_t o3 = tws_tcp_ts_offset(&s, rte_cpu_to_be_32(0xc6120002u), rte_cpu_to_be_32(0xc6130001u));

	CHECK(o1 == tws_tcp_ts_offset(&s, rte_cpu_to_be_32(0xc6120001u), rte_cpu_to_be_32(0xc6130001u)));
	CHECK(o1 != o2 && o1 != o3 && o2 != o3);
	/* The ISN key and the timestamp key are independent halves of the secret. */
	bytes[20] ^= 0x40;
	tws_tcp_secret_set(&s, bytes);
	CHECK(tws_tcp_ts_offset(&s, rte_cpu_to_be_32(0xc6120001u), rte_cpu_to_be_32(0xc6130001u)) != o1);
}

/*
 * Statistics of a stream of 32-bit values an attacker might see (ISNs of
 * successive connections, timestamp offsets of successive peers): each bit
 * set half the time, the top byte of the values and of the differences
 * between neighbours uniform (chi-square over 256 bins), and neighbours
 * uncorrelated: flipping the input (the next port, the next address) flips
 * half the bits. Bounds at 6 standard deviations: a random stream fails one
 * of them about once in a million runs (the chi-square tails dominate); a
 * counter, an unmixed sum or a weak mix fails them all.
 */
#define NSTAT 65536u

static double
chi2_top_byte(const uint32_t *v, unsigned int n, bool diffs)
{
	static unsigned int bins[256];
	double e = (double)(diffs ? n - 1 : n) / 256, chi = 0;

	memset(bins, 0, sizeof(bins));
	for (unsigned int i = diffs ? 1 : 0; i < n; i++)
		bins[(diffs ? v[i] - v[i - 1] : v[i]) >> 24]++;
	for (unsigned int b = 0; b < 256; b++)
		chi += ((double)bins[b] - e) * ((double)bins[b] - e) / e;
	return chi;
}

static bool
stream_looks_random(const char *what, const uint32_t *v, unsigned int n)
{
	bool ok = true, quiet = strncmp(what, "control", 7) == 0;
	unsigned int bad_bits = 0;
	double sd = 0.5 * __builtin_sqrt((double)n), flips = 0;
	/* chi-square, 255 degrees of freedom: mean 255, sd sqrt(510). */
	double chi_max = 255 + 6 * __builtin_sqrt(510.0);

	for (unsigned int b = 0; b < 32; b++) {
		unsigned int ones = 0;

		for (unsigned int i = 0; i < n; i++)
			ones += (v[i] >> b) & 1;
		if (__builtin_fabs((double)ones - n / 2.0) > 6 * sd) {
			if (!quiet)
				printf("# %s: bit %u set in %u of %u\n", what, b, ones, n);
			bad_bits++;
			ok = false;
		}
	}
	for (unsigned int i = 1; i < n; i++)
		flips += __builtin_popcount(v[i] ^ v[i - 1]);
	flips /= n - 1;
	/* Mean of n - 1 popcounts of random words: 16, sd sqrt(8 / (n - 1)). */
	if (__builtin_fabs(flips - 16) > 6 * __builtin_sqrt(8.0 / (n - 1))) {
		if (!quiet)
			printf("# %s: neighbours differ in %.3f bits on average, not 16\n", what,
			       flips);
		ok = false;
	}
	double c1 = chi2_top_byte(v, n, false), c2 = chi2_top_byte(v, n, true);

	if ((c1 > chi_max || c2 > chi_max) && !quiet)
		printf("# %s: chi-square of the top byte %.1f, of neighbour differences %.1f "
		       "(bound %.1f)\n", what, c1, c2, chi_max);
	if (c1 > chi_max || c2 > chi_max)
		ok = false;
	printf("# %s: %u values, %u biased bits, neighbours differ in %.2f bits, chi-square "
	       "%.1f / %.1f (bound %.1f)\n", what, n, bad_bits, flips, c1, c2, chi_max);
	return ok;
}

/*
 * Issue 9: ISNs and timestamp offsets are not predictable across connections.
 * With a random secret (as every stack draws one), the ISNs of 65536
 * successive connections of one client (ports 1024 up, one instant: no clock
 * part to hide behind), of 65536 clients on one port, and the timestamp
 * offsets of 65536 successive peers each pass the tests above. And the
 * control: a plain counter, and the ISN's clock part alone, fail them (the
 * tests can fail).
 */
static void
test_isn_ts_unpredictable(void)
{
	static uint32_t v[NSTAT];
	struct tws_tcp_secret s;

	CHECK(tws_tcp_secret_init(&s) == 0);
	for (uint32_t i = 0; i < NSTAT; i++) {
		struct tws_tuple t = tup(0xc6120001u, 0xc6130001u, (uint16_t)(1024 + i % 64512), 80);

		t.raddr = rte_cpu_to_be_32(0xc6130001u + i / 64512);
		v[i] = tws_tcp_isn(&s, &t, 5000000);
	}
	CHECK(stream_looks_random("ISN by source port", v, NSTAT));
	for (uint32_t i = 0; i < NSTAT; i++) {
		struct tws_tuple t = tup(0xc6120001u, 0xc6130000u + i, 40000, 80);

		v[i] = tws_tcp_isn(&s, &t, 5000000);
	}
	CHECK(stream_looks_random("ISN by client address", v, NSTAT));
	for (uint32_t i = 0; i < NSTAT; i++)
		v[i] = tws_tcp_ts_offset(&s, rte_cpu_to_be_32(0xc6120001u),
					 rte_cpu_to_be_32(0xc6130000u + i));
	CHECK(stream_looks_random("timestamp offset by peer", v, NSTAT));

	/* Controls: what a predictable generator gives is refused. */
	for (uint32_t i = 0; i < NSTAT; i++)
		v[i] = 0x12345678u + i * 64000u;
	CHECK(!stream_looks_random("control: ISN + 64000 per connection (BSD)", v, NSTAT));
	struct tws_tuple t = tup(0xc6120001u, 0xc6130001u, 40000, 80);
	uint32_t base = tws_tcp_isn(&s, &t, 0);

	for (uint32_t i = 0; i < NSTAT; i++)
		v[i] = tws_tcp_isn(&s, &t, (uint64_t)i * 1000) - base;
	CHECK(!stream_looks_random("control: one tuple's ISN over time (the clock alone)", v,
				   NSTAT));
}

/* R1 (decision part): RFC 5961 for RST and SYN in ESTABLISHED, across the wrap. */
static void
test_r1_rfc5961(void)
{
	const uint32_t nxt = 0xfffff000u, wnd = 0x10000; /* window wraps past 2^32 */
	struct tws_seg_info s;

	s = seg(TWS_TCP_RST, nxt, 0, false, 0);
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_ACCEPT);
	s = seg(TWS_TCP_RST | TWS_TCP_ACK, nxt + 1, 0, false, 0);
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_CHALLENGE);
	s = seg(TWS_TCP_RST, 0x100, 0, false, 0); /* in window, after the wrap */
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_CHALLENGE);
	s = seg(TWS_TCP_RST, nxt + wnd, 0, false, 0); /* just past the window */
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_DROP);
	s = seg(TWS_TCP_RST, nxt - 1, 0, false, 0);
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_DROP);
	s = seg(TWS_TCP_SYN, nxt + 5, 0, false, 0);
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_CHALLENGE);
	s = seg(TWS_TCP_SYN, 12345, 0, false, 0); /* out of window: still a challenge */
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_CHALLENGE);
	s = seg(TWS_TCP_ACK, nxt, 10, false, 0);
	CHECK(tws_rfc5961_decide(nxt, wnd, &s) == TWS_5961_ACCEPT);
}

/* Challenge ACKs are rate limited: at most limit per period, then a new period. */
static void
test_ratelimit(void)
{
	struct tws_ratelimit rl = { .period = 1000, .limit = 3 };
	unsigned int allowed = 0;

	for (uint64_t now = 5000; now < 5000 + 1000; now += 10)
		allowed += tws_ratelimit_allow(&rl, now);
	CHECK(allowed == 3);
	CHECK(tws_ratelimit_allow(&rl, 5999) == false);
	CHECK(tws_ratelimit_allow(&rl, 6000) == true); /* next period */
	CHECK(tws_ratelimit_allow(&rl, 10) == true);   /* clock went back: restart, no lock-up */
}

static void
test_verdict_names(void)
{
	CHECK(strcmp(tws_tw_verdict_name(TWS_TW_KILL), "KILL") == 0);
	CHECK(strcmp(tws_tw_verdict_name(TWS_TW_ACCEPT_SYN), "ACCEPT_SYN") == 0);
	CHECK(strcmp(tws_tw_verdict_name(TWS_TW_VERDICT_COUNT), "?") == 0);
}

int
main(void)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_seq_helpers_wrap),
		TWS_TEST(test_rule1_bare_ack_restarts),
		TWS_TEST(test_t1_old_duplicate_syn),
		TWS_TEST(test_t2_retransmitted_fin),
		TWS_TEST(test_t3_rst),
		TWS_TEST(test_t4_s2_syn_acceptance),
		TWS_TEST(test_t8_wraparound),
		TWS_TEST(test_f2_f3_lastack_syn),
		TWS_TEST(test_isn_rfc6528),
		TWS_TEST(test_ts_offset_per_pair),
		TWS_TEST(test_isn_ts_unpredictable),
		TWS_TEST(test_r1_rfc5961),
		TWS_TEST(test_ratelimit),
		TWS_TEST(test_verdict_names),
	};

	/* Pure functions: no EAL needed. */
	return tws_test_run(cases, TWS_NCASES(cases));
}
