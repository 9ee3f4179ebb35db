/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN cookies (RFC 4987, Linux's layout) as pure functions: what a cookie
 * carries comes back, it expires, it is bound to its tuple and peer ISN,
 * the time counter wraps; the timestamp encoding of window scale and SACK.
 * And the unpredictability of ISNs and timestamp offsets across connections
 * (RFC 6528, RFC 7323 5.4) as statistics over many tuples with a fixed key.
 */
#include <math.h>
#include <string.h>

#include <rte_byteorder.h>

#include "tws_tcp.h"
#include "tws_test.h"

#define MIN_MS 60000u

static void
secret(struct tws_tcp_secret *s, uint8_t seed)
{
	uint8_t b[32];

	for (unsigned int i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	tws_tcp_secret_set(s, b);
}

static struct tws_tuple
tuple(uint32_t i)
{
	struct tws_tuple t = {
		.laddr = rte_cpu_to_be_32(0xc6120001u),             /* 198.18.0.1 */
		.raddr = rte_cpu_to_be_32(0xc6130000u | (i & 0xffff)), /* 198.19.x.x */
		.lport = rte_cpu_to_be_16(80),
		.rport = rte_cpu_to_be_16((uint16_t)(1024 + (i >> 4))),
	};
	return t;
}

static void
test_mss_table(void)
{
	static const uint32_t tab[] = TWS_SYNCOOKIE_MSS_TABLE;

	CHECK(tws_syncookie_mss_index(88) == 0);   /* below the table: its smallest */
	CHECK(tws_syncookie_mss_index(536) == 0);
	CHECK(tws_syncookie_mss_index(1299) == 0);
	CHECK(tws_syncookie_mss_index(1300) == 1);
	CHECK(tws_syncookie_mss_index(1448) == 2);
	CHECK(tws_syncookie_mss_index(1460) == 3);
	CHECK(tws_syncookie_mss_index(9000) == 3);
	for (uint32_t i = 0; i < TWS_SYNCOOKIE_NB_MSS; i++)
		CHECK(tws_syncookie_mss(i) == tab[i]);
}

/* Every MSS index comes back, on many tuples, peer ISNs and times. */
static void
test_round_trip(void)
{
	struct tws_tcp_secret s;
	uint64_t r = 1;

	secret(&s, 1);
	for (uint32_t i = 0; i < 4096; i++) {
		struct tws_tuple t = tuple(i);
		uint32_t pisn = (uint32_t)tws_test_rand(&r);
		uint32_t count = (uint32_t)tws_test_rand(&r);
		uint32_t idx = i % TWS_SYNCOOKIE_NB_MSS;
		uint32_t c = tws_syncookie_make(&s, &t, pisn, count, idx);

		CHECKF(tws_syncookie_check(&s, &t, pisn, c, count) == (int)idx, "i %u", i);
		/* Checked in the next minute still (the 2-minute window). */
		CHECKF(tws_syncookie_check(&s, &t, pisn, c, count + 1) == (int)idx, "i %u", i);
	}
}

/* Two counts old, or from the future: refused. */
static void
test_expiry(void)
{
	struct tws_tcp_secret s;
	struct tws_tuple t = tuple(7);
	uint64_t now_ms = 5 * MIN_MS + 1234;
	uint32_t count = tws_syncookie_count(now_ms);
	uint32_t c;

	secret(&s, 2);
	c = tws_syncookie_make(&s, &t, 1000, count, 3);
	CHECK(count == 5);
	CHECK(tws_syncookie_check(&s, &t, 1000, c, tws_syncookie_count(now_ms + 59000)) == 3);
	/* 2 minutes later at most (end of the next minute) */
	CHECK(tws_syncookie_check(&s, &t, 1000, c, tws_syncookie_count(7 * MIN_MS - 1)) == 3);
	CHECK(tws_syncookie_check(&s, &t, 1000, c, tws_syncookie_count(7 * MIN_MS)) == -1);
	CHECK(tws_syncookie_check(&s, &t, 1000, c, count + 200) == -1);
	CHECK(tws_syncookie_check(&s, &t, 1000, c, count - 1) == -1); /* made "later" */
	/* 256 counts later the 8 bits match again, but the hash of count does not. */
	CHECK(tws_syncookie_check(&s, &t, 1000, c, count + 256) == -1);
}

/* The counter wraps: a cookie of count 0xffffffff checks at count 0. */
static void
test_count_wraparound(void)
{
	struct tws_tcp_secret s;
	struct tws_tuple t = tuple(9);

	secret(&s, 3);
	for (uint32_t base = 0xfffffffeu, n = 0; n < 3; base++, n++) {
		uint32_t c = tws_syncookie_make(&s, &t, 0xfffffff0u, base, 2);

		CHECK(tws_syncookie_check(&s, &t, 0xfffffff0u, c, base) == 2);
		CHECK(tws_syncookie_check(&s, &t, 0xfffffff0u, c, base + 1) == 2);
		CHECK(tws_syncookie_check(&s, &t, 0xfffffff0u, c, base + 2) == -1);
	}
	/* 0xff.. to 0 in the 8 bits carried */
	uint32_t c = tws_syncookie_make(&s, &t, 5, 0x1ffu, 1);

	CHECK(tws_syncookie_check(&s, &t, 5, c, 0x200u) == 1);
}

/*
 * A cookie is bound to its tuple, peer ISN and key: changed, it is refused
 * but for the chance that the 24 hashed bits land on a valid index (4 in
 * 2^24, Linux's odds too). Counted over many tries: none may pass.
 */
static void
test_wrong_tuple_rejected(void)
{
	struct tws_tcp_secret s, other;
	uint32_t passed = 0;
	uint64_t r = 2;

	secret(&s, 4);
	secret(&other, 5);
	for (uint32_t i = 0; i < 20000; i++) {
		struct tws_tuple t = tuple(i), u = t;
		uint32_t pisn = (uint32_t)tws_test_rand(&r), count = 1000;
		uint32_t c = tws_syncookie_make(&s, &t, pisn, count, 0);

		u.rport = (rte_be16_t)(u.rport ^ rte_cpu_to_be_16(1));
		passed += tws_syncookie_check(&s, &u, pisn, c, count) >= 0;
		u = t;
		u.raddr ^= rte_cpu_to_be_32(0x100);
		passed += tws_syncookie_check(&s, &u, pisn, c, count) >= 0;
		passed += tws_syncookie_check(&s, &t, pisn + 1, c, count) >= 0;
		passed += tws_syncookie_check(&other, &t, pisn, c, count) >= 0;
		/* a blind guess: a random ACK number */
		passed += tws_syncookie_check(&s, &t, pisn, (uint32_t)tws_test_rand(&r),
					      count) >= 0;
	}
	CHECKF(passed == 0, "%u forged cookies passed", passed);
}

/* Window scale and SACK in the low 6 bits of TSval, never ahead of now. */
static void
test_timestamp_encoding(void)
{
	static const uint32_t nows[] = { 0, 5, 63, 64, 1000, 123456789, 0xffffffffu, 0x3fu };

	for (unsigned int n = 0; n < RTE_DIM(nows); n++) {
		for (uint32_t ws = 0; ws <= TWS_SYNCOOKIE_WS_NONE; ws++) {
			for (int sack = 0; sack <= 1; sack++) {
				uint32_t ts = tws_syncookie_tsval(nows[n], (uint8_t)ws, sack);
				bool ok, sk;
				uint8_t w;

				CHECK(tws_seq_leq(ts, nows[n]));
				CHECK(nows[n] - ts < (2u << TWS_SYNCOOKIE_TS_BITS));
				tws_syncookie_ts_decode(ts, &ok, &w, &sk);
				CHECK(ok == (ws != TWS_SYNCOOKIE_WS_NONE));
				CHECK(!ok || w == ws);
				CHECK(sk == (sack != 0));
			}
		}
	}
}

/*
 * Chi-square statistic of n values' top 4 bits over 16 buckets: 15 degrees
 * of freedom, p = 0.001 at 37.7. With a fixed key the numbers are fixed;
 * the check is that nothing in them is regular.
 */
static double
chi2_top4(const uint32_t *v, unsigned int n)
{
	unsigned int b[16] = { 0 };
	double e = n / 16.0, x = 0;

	for (unsigned int i = 0; i < n; i++)
		b[v[i] >> 28]++;
	for (unsigned int i = 0; i < 16; i++)
		x += (b[i] - e) * (b[i] - e) / e;
	return x;
}

/* Pearson correlation of consecutive values (as signed): no linear relation. */
static double
lag1_corr(const uint32_t *v, unsigned int n)
{
	double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;

	for (unsigned int i = 0; i + 1 < n; i++) {
		double x = (int32_t)v[i], y = (int32_t)v[i + 1];

		sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
	}
	double m = n - 1;

	return (sxy - sx * sy / m) / sqrt((sxx - sx * sx / m) * (syy - sy * sy / m));
}

#define NSTAT 8192

/*
 * RFC 6528: ISNs of successive connections (a client's next source port,
 * 1 ms apart; and other peers) differ by amounts spread over all 2^32, not
 * by the clock's steps; timestamp offsets of successive address pairs too.
 */
static void
test_isn_ts_unpredictable(void)
{
	static uint32_t d_port[NSTAT], d_peer[NSTAT], d_ts[NSTAT], same[NSTAT];
	struct tws_tcp_secret s;
	uint32_t small = 0;

	secret(&s, 6);
	for (uint32_t i = 0; i < NSTAT; i++) {
		struct tws_tuple a = tuple(0), b = tuple(0), p = tuple(i), q = tuple(i + 1);
		uint64_t t = 1000000 + (uint64_t)i * 1000;

		a.rport = rte_cpu_to_be_16((uint16_t)(1024 + i));
		b.rport = rte_cpu_to_be_16((uint16_t)(1025 + i));
		d_port[i] = tws_tcp_isn(&s, &b, t + 1000) - tws_tcp_isn(&s, &a, t);
		d_peer[i] = tws_tcp_isn(&s, &q, t + 1000) - tws_tcp_isn(&s, &p, t);
		d_ts[i] = tws_tcp_ts_offset(&s, a.laddr, q.raddr) -
			  tws_tcp_ts_offset(&s, a.laddr, p.raddr);
		/* the same tuple again 1 ms later: only the clock moved (RFC 6528 M) */
		same[i] = tws_tcp_isn(&s, &a, t + 1000) - tws_tcp_isn(&s, &a, t);
		small += d_port[i] < 1000000 || d_port[i] > 0u - 1000000;
	}
	for (uint32_t i = 0; i < NSTAT; i++)
		CHECK(same[i] == 250); /* 1000 µs / 4 µs: monotonic for one tuple */
	CHECKF(chi2_top4(d_port, NSTAT) < 37.7, "chi2 %.1f", chi2_top4(d_port, NSTAT));
	CHECKF(chi2_top4(d_peer, NSTAT) < 37.7, "chi2 %.1f", chi2_top4(d_peer, NSTAT));
	CHECKF(chi2_top4(d_ts, NSTAT) < 37.7, "chi2 %.1f", chi2_top4(d_ts, NSTAT));
	CHECKF(fabs(lag1_corr(d_port, NSTAT)) < 0.05, "r %.3f", lag1_corr(d_port, NSTAT));
	CHECKF(fabs(lag1_corr(d_peer, NSTAT)) < 0.05, "r %.3f", lag1_corr(d_peer, NSTAT));
	CHECKF(fabs(lag1_corr(d_ts, NSTAT)) < 0.05, "r %.3f", lag1_corr(d_ts, NSTAT));
	/* within +-1e6 of each other by chance: 2e6 / 2^32 of 8192, about 4 */
	CHECKF(small < 40, "%u successive ISNs close together", small);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_mss_table),
		TWS_TEST(test_round_trip),
		TWS_TEST(test_expiry),
		TWS_TEST(test_count_wraparound),
		TWS_TEST(test_wrong_tuple_rejected),
		TWS_TEST(test_timestamp_encoding),
		TWS_TEST(test_isn_ts_unpredictable),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 64);
	return tws_test_run(cases, TWS_NCASES(cases));
}
