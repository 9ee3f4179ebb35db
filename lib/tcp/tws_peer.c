/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-peer timestamp cache for the optional recycle mode (spec section 6).
 * Sets of 4 entries chosen by a hash of the peer address; a new peer
 * replaces the oldest entry of its set. One per lcore: no locks.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "tws_tcp.h"

#define WAYS 4u
#define MAX_ENTRIES (UINT32_C(1) << 26)

struct peer {
	rte_be32_t addr;
	uint32_t tsval;
	uint64_t stamp; /* 0: empty */
};

struct tws_peer_cache {
	uint32_t set_mask;
	struct peer e[];
};

static inline struct peer *
set_of(const struct tws_peer_cache *pc, rte_be32_t addr)
{
	/* Fibonacci hashing of the address: sets spread over the table. */
	uint32_t h = (uint32_t)(((uint64_t)addr * UINT64_C(0x9e3779b97f4a7c15)) >> 32);

	return (struct peer *)&pc->e[(h & pc->set_mask) * WAYS];
}

struct tws_peer_cache *
tws_peer_cache_create(uint32_t entries, int socket_id)
{
	struct tws_peer_cache *pc;
	uint32_t sets;

	if (entries == 0 || entries > MAX_ENTRIES) {
		rte_errno = EINVAL;
		return NULL;
	}
	sets = rte_align32pow2((entries + WAYS - 1) / WAYS);
	pc = rte_zmalloc_socket("tws_peer_cache", sizeof(*pc) + (size_t)sets * WAYS * sizeof(struct peer),
				RTE_CACHE_LINE_SIZE, socket_id);
	if (pc == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	pc->set_mask = sets - 1;
	return pc;
}

void
tws_peer_cache_free(struct tws_peer_cache *pc)
{
	rte_free(pc);
}

void
tws_peer_cache_remember(struct tws_peer_cache *pc, rte_be32_t peer, uint32_t tsval, uint64_t now)
{
	struct peer *set = set_of(pc, peer), *victim = &set[0];

	/* Stamps start at 1 so that 0 means empty. */
	now = now == 0 ? 1 : now;
	for (unsigned int w = 0; w < WAYS; w++) {
		if (set[w].stamp != 0 && set[w].addr == peer) {
			victim = &set[w];
			break;
		}
		if (set[w].stamp < victim->stamp)
			victim = &set[w];
	}
	victim->addr = peer;
	victim->tsval = tsval;
	victim->stamp = now;
}

bool
tws_peer_cache_syn_reject(const struct tws_peer_cache *pc, rte_be32_t peer, uint32_t tsval,
			  uint64_t now, uint64_t max_age)
{
	const struct peer *set = set_of(pc, peer);

	for (unsigned int w = 0; w < WAYS; w++) {
		if (set[w].stamp == 0 || set[w].addr != peer)
			continue;
		/* TCP_PAWS_WINDOW is 1: a timestamp at most 1 behind still passes. */
		return now - set[w].stamp < max_age && (int32_t)(set[w].tsval - tsval) > 1;
	}
	return false;
}
