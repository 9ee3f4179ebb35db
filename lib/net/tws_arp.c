/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ARP cache (RFC 826) of the net layer: neighbours by IPv4 address,
 * their MAC, the packets held while they are being resolved, and the two
 * timer lists that drive retries and ageing.
 *
 * Policy, and where it follows or leaves Linux (net/ipv4/arp.c, neighbour.c):
 *  - Learning: every valid ARP from a sender already in the cache refreshes
 *    it (RFC 826's merge step). A new entry is made only for the sender of
 *    a request for one of our addresses (RFC 826: "if I am the target") or
 *    when we resolve a next hop ourselves. Replies and gratuitous ARP from
 *    unknown senders make none: Linux's default arp_accept=0. Static entries
 *    are never changed. Senders must be inside our subnet, with a unicast
 *    MAC; an ARP claiming one of our addresses is counted and ignored.
 *    Linux's locktime (a second MAC within 1 s is ignored) is not copied:
 *    the last ARP wins.
 *  - Resolution: a broadcast request at once, then every arp_retry_ms, at
 *    most arp_retries in all (Linux: mcast_probes 3, retrans_time 1 s); then
 *    the held packets are dropped and the entry removed, so the next packet
 *    starts over. Held packets: arp_queue per neighbour, the oldest dropped
 *    for a newer one, as Linux's unres_qlen.
 *  - Ageing: a confirmation lasts arp_timeout_ms (Linux's
 *    base_reachable_time, 30 s). A neighbour used since its confirmation is
 *    then reconfirmed with unicast requests while its MAC is still used
 *    (Linux's PROBE state with ucast_probes), so traffic never stalls on a
 *    refresh; an unused one is removed (Linux garbage-collects stale ones).
 *  - Full cache: a next hop we must resolve replaces the entry confirmed
 *    longest ago (never an unresolved or static one). A received request
 *    only adds its sender if there is room, so a flood of ARP from the link
 *    cannot push out the neighbours we talk to (Linux's forced GC likewise
 *    spares entries in use); the reply goes out all the same.
 *
 * Lookups hash the address (with a random seed, so which addresses share a
 * slot differs from run to run) into open addressing with linear probing
 * over 8-byte slots, at most half full; deletion shifts the following slots
 * back instead of leaving tombstones.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>

#include "tws_log.h"
#include "tws_net_priv.h"
#include "tws_util.h"

static inline uint32_t
slot_home(const struct tws_net *n, rte_be32_t ip)
{
	return (uint32_t)tws_mix64((uint64_t)(ip ^ n->hash_seed) * UINT64_C(0x9e3779b97f4a7c15)) &
	       n->slot_mask;
}

static uint32_t
neigh_find(const struct tws_net *n, rte_be32_t ip)
{
	for (uint32_t i = slot_home(n, ip);; i = (i + 1) & n->slot_mask) {
		const struct tws_neigh_slot *s = &n->slots[i];

		if (s->ip == ip)
			return s->idx;
		if (s->ip == 0)
			return NEIGH_NIL;
	}
}

static void
slot_insert(struct tws_net *n, rte_be32_t ip, uint32_t idx)
{
	uint32_t i = slot_home(n, ip);

	while (n->slots[i].ip != 0)
		i = (i + 1) & n->slot_mask;
	n->slots[i] = (struct tws_neigh_slot){ .ip = ip, .idx = idx };
}

/* Linear-probing deletion by backward shift (Knuth 6.4, algorithm R): no tombstones. */
static void
slot_delete(struct tws_net *n, rte_be32_t ip)
{
	uint32_t i = slot_home(n, ip);

	while (n->slots[i].ip != ip)
		i = (i + 1) & n->slot_mask;
	for (uint32_t j = (i + 1) & n->slot_mask; n->slots[j].ip != 0; j = (j + 1) & n->slot_mask) {
		uint32_t home = slot_home(n, n->slots[j].ip);

		/* The key at j may move to the hole at i unless its home lies in (i, j]. */
		if (((j - home) & n->slot_mask) >= ((j - i) & n->slot_mask)) {
			n->slots[i] = n->slots[j];
			i = j;
		}
	}
	n->slots[i].ip = 0;
}

/* ---- timer lists (FIFOs in deadline order) ---- */

static struct tws_neigh_list *
neigh_list(struct tws_net *n, const struct tws_neigh *e)
{
	switch (e->state) {
	case NEIGH_INCOMPLETE:
	case NEIGH_PROBE:
		return &n->retry_list;
	case NEIGH_REACHABLE:
		return &n->reach_list;
	default:
		return NULL;
	}
}

static void
list_unlink(struct tws_net *n, uint32_t idx)
{
	struct tws_neigh *e = &n->ent[idx];
	struct tws_neigh_list *l = neigh_list(n, e);

	if (l == NULL)
		return;
	if (e->prev != NEIGH_NIL)
		n->ent[e->prev].next = e->next;
	else
		l->head = e->next;
	if (e->next != NEIGH_NIL)
		n->ent[e->next].prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NEIGH_NIL;
}

/* Move entry idx to @p state with @p deadline, at the tail of its list. */
static void
neigh_schedule(struct tws_net *n, uint32_t idx, enum neigh_state state, uint64_t deadline)
{
	struct tws_neigh *e = &n->ent[idx];
	struct tws_neigh_list *l;

	list_unlink(n, idx);
	e->state = (uint8_t)state;
	e->deadline_us = deadline;
	l = neigh_list(n, e);
	if (l == NULL)
		return;
	e->prev = l->tail;
	e->next = NEIGH_NIL;
	if (l->tail != NEIGH_NIL)
		n->ent[l->tail].next = idx;
	else
		l->head = idx;
	l->tail = idx;
}

/* ---- held packets ---- */

static inline struct rte_mbuf **
held_slot(struct tws_net *n, uint32_t idx, uint32_t k)
{
	return &n->held[(size_t)idx * n->arp_queue + (n->ent[idx].qhead + k) % n->arp_queue];
}

static void
neigh_hold(struct tws_net *n, uint32_t idx, struct rte_mbuf *m)
{
	struct tws_neigh *e = &n->ent[idx];

	if (e->qlen == n->arp_queue) {
		/* Full: drop the oldest, as Linux's __neigh_event_send() does. */
		rte_pktmbuf_free(*held_slot(n, idx, 0));
		e->qhead = (uint8_t)((e->qhead + 1) % n->arp_queue);
		e->qlen--;
		n->c.arp_queue_drops++;
	}
	*held_slot(n, idx, e->qlen) = m;
	e->qlen++;
	n->c.arp_held++;
}

/* Empty the hold queue: to the transmit queue in order (@p send), or freed and counted. */
static void
neigh_drain(struct tws_net *n, uint32_t idx, bool send)
{
	struct tws_neigh *e = &n->ent[idx];

	for (uint32_t k = 0; k < e->qlen; k++) {
		struct rte_mbuf *m = *held_slot(n, idx, k);

		if (send) {
			/* Headroom was checked before the packet was held. */
			net_eth_prepend(n, m, &e->mac, RTE_ETHER_TYPE_IPV4);
			if (tws_net_txq_push(n, m))
				n->c.arp_released++;
		} else {
			rte_pktmbuf_free(m);
			n->c.arp_unresolved++;
		}
	}
	if (send && e->qlen > 0)
		e->used = 1;
	e->qlen = 0;
	e->qhead = 0;
}

/* ---- entries ---- */

static void
neigh_remove(struct tws_net *n, uint32_t idx)
{
	struct tws_neigh *e = &n->ent[idx];

	neigh_drain(n, idx, false);
	list_unlink(n, idx);
	slot_delete(n, e->ip);
	memset(e, 0, sizeof(*e));
	e->prev = NEIGH_NIL;
	e->next = n->free_head;
	n->free_head = idx;
	n->nb_ent--;
}

/*
 * A new entry for @p ip (not in the cache), state FREE; NEIGH_NIL when the
 * cache is full and @p evict is false or nothing may be evicted.
 */
static uint32_t
neigh_alloc(struct tws_net *n, rte_be32_t ip, bool evict)
{
	if (n->free_head == NEIGH_NIL) {
		if (!evict || n->reach_list.head == NEIGH_NIL) {
			n->c.arp_cache_full++;
			return NEIGH_NIL;
		}
		neigh_remove(n, n->reach_list.head);
		n->c.arp_evicted++;
	}

	uint32_t idx = n->free_head;
	struct tws_neigh *e = &n->ent[idx];

	n->free_head = e->next;
	memset(e, 0, sizeof(*e));
	e->ip = ip;
	e->prev = e->next = NEIGH_NIL;
	slot_insert(n, ip, idx);
	n->nb_ent++;
	return idx;
}

/*
 * Build an ARP frame (RFC 826 layout, 42 bytes: the port pads it to the
 * Ethernet minimum) and queue it. Our hardware address is the sender's.
 */
static bool
arp_send(struct tws_net *n, uint16_t op, const struct rte_ether_addr *eth_dst,
	 const struct rte_ether_addr *tha, uint32_t spa, uint32_t tpa)
{
	struct rte_mbuf *m = tws_net_alloc(n);

	if (m == NULL)
		return false;

	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*ah));

	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(rte_be32_t);
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&n->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = rte_cpu_to_be_32(spa);
	rte_ether_addr_copy(tha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tpa);
	net_eth_prepend(n, m, eth_dst, RTE_ETHER_TYPE_ARP);
	return tws_net_txq_push(n, m);
}

static const struct rte_ether_addr zero_mac;
static const struct rte_ether_addr bcast_mac = {
	.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

/*
 * Ask for entry idx's MAC and schedule the next retry. Unresolved: a
 * broadcast with a zero target MAC (RFC 5227 §2.1.1). Reconfirming: unicast
 * to the MAC we have (Linux's ucast_probes). The sender address is our first:
 * all ours share one MAC, so the neighbour learns the same thing whichever
 * we name.
 */
static void
arp_request(struct tws_net *n, uint32_t idx, uint64_t now_us)
{
	struct tws_neigh *e = &n->ent[idx];
	const struct rte_ether_addr *dst = e->state == NEIGH_PROBE ? &e->mac : &bcast_mac;

	if (arp_send(n, RTE_ARP_OP_REQUEST, dst, &zero_mac, n->addr_first,
		     rte_be_to_cpu_32(e->ip)))
		n->c.arp_tx_requests++;
	e->probes++;
	neigh_schedule(n, idx, (enum neigh_state)e->state, now_us + n->retry_us);
}

/* Set entry idx resolved to @p mac in @p state (REACHABLE or STATIC) and send what it held. */
static void
neigh_resolve(struct tws_net *n, uint32_t idx, const struct rte_ether_addr *mac,
	      enum neigh_state state, uint64_t now_us)
{
	struct tws_neigh *e = &n->ent[idx];

	rte_ether_addr_copy(mac, &e->mac);
	e->probes = 0;
	e->used = 0;
	neigh_schedule(n, idx, state, now_us + n->timeout_us);
	neigh_drain(n, idx, true);
}

/*
 * What a valid ARP from @p spa / @p sha teaches. @p create: the sender may
 * get a new entry (it asked for one of our addresses).
 */
static void
arp_learn(struct tws_net *n, uint32_t spa, const struct rte_ether_addr *sha, bool create,
	  uint64_t now_us)
{
	rte_be32_t ip = rte_cpu_to_be_32(spa);
	uint32_t idx = neigh_find(n, ip);

	if (idx == NEIGH_NIL) {
		if (!create)
			return;
		idx = neigh_alloc(n, ip, false);
		if (idx == NEIGH_NIL)
			return;
	}

	struct tws_neigh *e = &n->ent[idx];

	if (e->state == NEIGH_STATIC)
		return;
	if (e->state == NEIGH_FREE || e->state == NEIGH_INCOMPLETE ||
	    !rte_is_same_ether_addr(&e->mac, sha))
		n->c.arp_learned++;
	neigh_resolve(n, idx, sha, NEIGH_REACHABLE, now_us);
}

/* Why a received ARP frame is not for us to use (enum tws_net_drop), or -1. */
static int
arp_refuse(const struct tws_net *n, const struct rte_ether_hdr *eh,
	   const struct rte_arp_hdr *ah)
{
	const struct rte_ether_addr *sha = &ah->arp_data.arp_sha;
	uint16_t op = rte_be_to_cpu_16(ah->arp_opcode);
	uint32_t spa = rte_be_to_cpu_32(ah->arp_data.arp_sip);

	/* Linux's arp_rcv() drops frames for other hosts (PACKET_OTHERHOST). */
	if (!rte_is_same_ether_addr(&eh->dst_addr, &n->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr))
		return TWS_NET_DROP_L2_DST;
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != sizeof(rte_be32_t) ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY))
		return TWS_NET_DROP_ARP_BAD;
	if (spa != 0 && net_is_ours(n, spa))
		return TWS_NET_DROP_ARP_CONFLICT;
	/* Sender 0.0.0.0 is an RFC 5227 probe: answered, never learnt. */
	if (!rte_is_unicast_ether_addr(sha) || rte_is_zero_ether_addr(sha) ||
	    (spa != 0 && (!net_in_subnet(n, spa) || net_is_subnet_bcast(n, spa))))
		return TWS_NET_DROP_ARP_BAD_SENDER;
	return -1;
}

void
tws_arp_input(struct tws_net *n, struct rte_mbuf *m, uint64_t now_us)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *ah = (const struct rte_arp_hdr *)(eh + 1);
	const struct rte_ether_addr *sha = &ah->arp_data.arp_sha;
	uint32_t spa = rte_be_to_cpu_32(ah->arp_data.arp_sip);
	uint32_t tpa = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	bool request = ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	int why = arp_refuse(n, eh, ah);

	if (why < 0 && request && !net_is_ours(n, tpa)) {
		if (spa != 0)
			arp_learn(n, spa, sha, false, now_us);
		why = TWS_NET_DROP_ARP_NOT_FOR_US;
	}
	if (why >= 0) {
		net_drop(n, m, (enum tws_net_drop)why);
		return;
	}
	if (request) {
		n->c.arp_rx_requests++;
		if (spa != 0)
			arp_learn(n, spa, sha, true, now_us);
		/* The reply goes to the asker's MAC, naming the address it asked for. */
		if (arp_send(n, RTE_ARP_OP_REPLY, sha, sha, tpa, spa))
			n->c.arp_tx_replies++;
	} else {
		n->c.arp_rx_replies++;
		if (spa != 0)
			arp_learn(n, spa, sha, false, now_us);
	}
	rte_pktmbuf_free(m);
}

bool
tws_arp_output(struct tws_net *n, struct rte_mbuf *m, uint32_t nh, uint64_t now_us)
{
	rte_be32_t ip = rte_cpu_to_be_32(nh);
	uint32_t idx = neigh_find(n, ip);

	if (likely(idx != NEIGH_NIL)) {
		struct tws_neigh *e = &n->ent[idx];

		if (likely(e->state != NEIGH_INCOMPLETE)) {
			net_eth_prepend(n, m, &e->mac, RTE_ETHER_TYPE_IPV4);
			if (!e->used)
				e->used = 1;
			return true;
		}
	} else {
		idx = neigh_alloc(n, ip, true);
		if (idx == NEIGH_NIL) {
			rte_pktmbuf_free(m);
			return false;
		}
		neigh_schedule(n, idx, NEIGH_INCOMPLETE, now_us);
		arp_request(n, idx, now_us);
	}
	neigh_hold(n, idx, m);
	return false;
}

void
tws_net_poll(struct tws_net *n, uint64_t now_us)
{
	for (unsigned int budget = TWS_NET_POLL_MAX; budget > 0; budget--) {
		uint32_t r = n->retry_list.head, c = n->reach_list.head;

		if (r != NEIGH_NIL && n->ent[r].deadline_us <= now_us) {
			if (n->ent[r].probes >= n->arp_retries) {
				n->c.arp_failed++;
				neigh_remove(n, r);
			} else {
				arp_request(n, r, now_us);
			}
		} else if (c != NEIGH_NIL && n->ent[c].deadline_us <= now_us) {
			struct tws_neigh *e = &n->ent[c];

			if (e->used) {
				e->probes = 0;
				neigh_schedule(n, c, NEIGH_PROBE, now_us);
				arp_request(n, c, now_us);
			} else {
				n->c.arp_aged++;
				neigh_remove(n, c);
			}
		} else {
			break;
		}
	}
}

int
tws_net_gratuitous_arp(struct tws_net *n)
{
	uint32_t nb = RTE_MIN(n->nb_addrs, (uint32_t)TWS_NET_GARP_MAX);

	for (uint32_t i = 0; i < nb; i++) {
		uint32_t a = n->addr_first + i;

		if (!arp_send(n, RTE_ARP_OP_REQUEST, &bcast_mac, &zero_mac, a, a))
			return -ENOBUFS;
		n->c.arp_garp++;
	}
	return (int)nb;
}

int
tws_net_arp_add(struct tws_net *n, rte_be32_t ip, const struct rte_ether_addr *mac)
{
	uint32_t h = rte_be_to_cpu_32(ip);

	if (ip == 0 || net_is_ours(n, h) || !net_in_subnet(n, h) || net_is_subnet_bcast(n, h) ||
	    mac == NULL || !rte_is_unicast_ether_addr(mac) || rte_is_zero_ether_addr(mac)) {
		TWS_LOG(tws_net_logtype, ERR,
			"%s: arp_add: address not a neighbour in our subnet, or MAC not unicast",
			n->name);
		return -EINVAL;
	}

	uint32_t idx = neigh_find(n, ip);

	if (idx == NEIGH_NIL) {
		idx = neigh_alloc(n, ip, true);
		if (idx == NEIGH_NIL)
			return -ENOSPC;
	}
	/* The deadline of a static entry is never read: it is on no list. */
	neigh_resolve(n, idx, mac, NEIGH_STATIC, 0);
	return 0;
}

int
tws_net_arp_del(struct tws_net *n, rte_be32_t ip)
{
	uint32_t idx = ip != 0 ? neigh_find(n, ip) : NEIGH_NIL;

	if (idx == NEIGH_NIL)
		return -ENOENT;
	neigh_remove(n, idx);
	return 0;
}

int
tws_net_arp_lookup(const struct tws_net *n, rte_be32_t ip, struct rte_ether_addr *mac)
{
	uint32_t idx = ip != 0 ? neigh_find(n, ip) : NEIGH_NIL;

	if (idx == NEIGH_NIL)
		return -ENOENT;
	if (n->ent[idx].state == NEIGH_INCOMPLETE)
		return -EAGAIN;
	if (mac != NULL)
		rte_ether_addr_copy(&n->ent[idx].mac, mac);
	return 0;
}

void
tws_arp_init(struct tws_net *n)
{
	n->retry_list = (struct tws_neigh_list){ NEIGH_NIL, NEIGH_NIL };
	n->reach_list = (struct tws_neigh_list){ NEIGH_NIL, NEIGH_NIL };
	for (uint32_t i = 0; i < n->max_ent; i++) {
		n->ent[i].prev = NEIGH_NIL;
		n->ent[i].next = i + 1 < n->max_ent ? i + 1 : NEIGH_NIL;
	}
	n->free_head = 0;
	n->nb_ent = 0;
}

void
tws_arp_flush(struct tws_net *n)
{
	for (uint32_t i = 0; i < n->max_ent; i++)
		for (uint32_t k = 0; k < n->ent[i].qlen; k++)
			rte_pktmbuf_free(*held_slot(n, i, k));
}
