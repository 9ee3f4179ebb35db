/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recycle's per-peer timestamp cache (spec section 6) and the failure it
 * causes behind NAT (F4, decision part).
 */
#include <errno.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "tws_tcp.h"
#include "tws_test.h"

#define SEC 1000u
#define NAT rte_cpu_to_be_32(0xc6130063u) /* 198.19.0.99: both clients appear as this */

/*
 * F4: clients A and B share one NAT address; A's timestamp clock is far
 * ahead of B's. With recycle on, the server remembers A's timestamp when its
 * connection to A enters TIME_WAIT, and then drops B's SYNs for 60 s. With
 * recycle off the cache is never consulted, and both connect.
 */
static void
test_f4_nat_clients_lose_syns(void)
{
	struct tws_peer_cache *pc = tws_peer_cache_create(1024, SOCKET_ID_ANY);
	const uint32_t a_ts = 1000000000u, b_ts = 50000; /* A booted ~12 days before B */
	bool recycle = true;

	CHECK(pc != NULL);
	/* A's connection ends, server-side TIME_WAIT under recycle. */
	tws_peer_cache_remember(pc, NAT, a_ts, 10 * SEC);
	/* B's SYNs, 1 s and 30 s later: dropped. */
	CHECK(recycle && tws_peer_cache_syn_reject(pc, NAT, b_ts, 11 * SEC, 60 * SEC));
	CHECK(tws_peer_cache_syn_reject(pc, NAT, b_ts + 30000, 40 * SEC, 60 * SEC));
	/* A itself, with a newer (or equal, or 1 behind) timestamp: accepted. */
	CHECK(!tws_peer_cache_syn_reject(pc, NAT, a_ts + 500, 11 * SEC, 60 * SEC));
	CHECK(!tws_peer_cache_syn_reject(pc, NAT, a_ts - 1, 11 * SEC, 60 * SEC));
	CHECK(tws_peer_cache_syn_reject(pc, NAT, a_ts - 2, 11 * SEC, 60 * SEC));
	/* 60 s after A's timestamp was seen, B gets through again. */
	CHECK(!tws_peer_cache_syn_reject(pc, NAT, b_ts + 60000, 70 * SEC, 60 * SEC));
	/* Other peers are not affected. */
	CHECK(!tws_peer_cache_syn_reject(pc, rte_cpu_to_be_32(0xc6130064u), 1, 11 * SEC, 60 * SEC));
	/* Recycle off: the engine never consults the cache, both connect (nothing to test here). */
	tws_peer_cache_free(pc);
}

/* Timestamps compare modulo 2^32: a clock that wrapped is newer, not older. */
static void
test_peer_cache_wraparound(void)
{
	struct tws_peer_cache *pc = tws_peer_cache_create(16, SOCKET_ID_ANY);

	CHECK(pc != NULL);
	tws_peer_cache_remember(pc, NAT, 0xfffffff0u, 1);
	CHECK(!tws_peer_cache_syn_reject(pc, NAT, 0x10, 2, 60 * SEC));      /* wrapped: newer */
	CHECK(tws_peer_cache_syn_reject(pc, NAT, 0xffff0000u, 2, 60 * SEC)); /* older */
	/* Remembering again replaces the value. */
	tws_peer_cache_remember(pc, NAT, 100, 3);
	CHECK(!tws_peer_cache_syn_reject(pc, NAT, 100, 4, 60 * SEC));
	tws_peer_cache_free(pc);
}

/* A full set replaces its oldest entry; the cache never grows. */
static void
test_peer_cache_replacement(void)
{
	struct tws_peer_cache *pc = tws_peer_cache_create(4, SOCKET_ID_ANY); /* one set of 4 */

	CHECK(pc != NULL);
	for (uint32_t i = 0; i < 5; i++)
		tws_peer_cache_remember(pc, rte_cpu_to_be_32(0xc6130000u + i), 1000000, 10 + i);
	/* The first peer (oldest) was replaced: its SYNs pass now; the others still fail. */
	CHECK(!tws_peer_cache_syn_reject(pc, rte_cpu_to_be_32(0xc6130000u), 5, 20, 60 * SEC));
	for (uint32_t i = 1; i < 5; i++)
		CHECK(tws_peer_cache_syn_reject(pc, rte_cpu_to_be_32(0xc6130000u + i), 5, 20, 60 * SEC));
	CHECK(tws_peer_cache_create(0, SOCKET_ID_ANY) == NULL && rte_errno == EINVAL);
	tws_peer_cache_free(pc);
	tws_peer_cache_free(NULL);
}

static void
test_recycle_tw_length(void)
{
	CHECK(tws_recycle_tw_ms(200) == 700);  /* 3.5 x 200 ms RTO_MIN */
	CHECK(tws_recycle_tw_ms(1000) == 3500);
	CHECK(tws_recycle_tw_ms(0) == 700);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_f4_nat_clients_lose_syns),
		TWS_TEST(test_peer_cache_wraparound),
		TWS_TEST(test_peer_cache_replacement),
		TWS_TEST(test_recycle_tw_length),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 64);
	return tws_test_run(cases, TWS_NCASES(cases));
}
