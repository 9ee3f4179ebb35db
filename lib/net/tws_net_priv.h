/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the two halves of the net layer: frames (tws_net.c:
 * Ethernet, IPv4, ICMP, the transmit queue) and the ARP cache (tws_arp.c).
 */
#ifndef TWS_NET_PRIV_H
#define TWS_NET_PRIV_H

#include <assert.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "tws_net.h"

extern int tws_net_logtype;

#define ETH_LEN ((uint32_t)sizeof(struct rte_ether_hdr))
#define NEIGH_NIL UINT32_MAX

/* States of a neighbour entry (Linux's NUD_* reduced to what we act on). */
enum neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE,  /* requested, no answer yet: packets are held */
	NEIGH_REACHABLE,   /* confirmed less than arp_timeout_ms ago */
	NEIGH_PROBE,       /* confirmation expired while in use: MAC used, unicast requests sent */
	NEIGH_STATIC,      /* tws_net_arp_add(): never aged, never overwritten */
};

/*
 * A neighbour: 32 bytes, pinned below. Entries sit at fixed indexes (the
 * hash slots point at them), so their held packets and list links never
 * move. INCOMPLETE and PROBE entries are on the retry list, REACHABLE ones
 * on the confirmation list; both lists are FIFOs in deadline order because
 * every deadline on one list is "last event + the same interval".
 */
struct tws_neigh {
	rte_be32_t ip;             /* 0 when free */
	uint8_t state;             /* enum neigh_state */
	uint8_t probes;            /* requests sent since the last confirmation */
	uint8_t used;              /* a packet went out since the last confirmation */
	uint8_t qlen;              /* packets held */
	struct rte_ether_addr mac;
	uint8_t qhead;             /* oldest held packet in held[idx * arp_queue ...] */
	uint8_t pad;
	uint32_t prev, next;       /* list links (next: free list too) */
	uint64_t deadline_us;      /* next retry (retry list) or end of confirmation */
};
static_assert(sizeof(struct tws_neigh) == 32, "tws_neigh must stay 32 bytes");

/* Hash slot: the key beside the entry index, so a miss never reads an entry. */
struct tws_neigh_slot {
	rte_be32_t ip;             /* 0: empty */
	uint32_t idx;
};

struct tws_neigh_list {
	uint32_t head, tail;       /* oldest, newest; NEIGH_NIL when empty */
};

/* Counters: the public list plus the drops by reason, one struct. */
struct tws_net_counters {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_NET_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
	uint64_t drops[TWS_NET_DROP_COUNT];
};

struct tws_net {
	/* Read for every packet. */
	struct rte_ether_addr mac;
	uint16_t mtu;
	uint32_t addr_first;       /* host order, as the range and subnet checks below */
	uint32_t nb_addrs;
	uint32_t subnet, netmask;
	uint32_t gateway;          /* 0: none */
	int rx_offload;
	int tx_offload;
	uint32_t hash_seed;
	uint32_t slot_mask;
	struct tws_neigh_slot *slots;
	struct tws_neigh *ent;
	struct rte_mbuf **held;    /* arp_queue per entry */
	struct rte_mbuf **txq;     /* frames made here, for tws_net_tx_burst() */
	uint32_t txq_mask;
	uint32_t tx_head, tx_tail;
	struct tws_net_counters c;

	/* ARP cache bookkeeping and configuration. */
	struct tws_neigh_list retry_list;
	struct tws_neigh_list reach_list;
	uint32_t free_head;
	uint32_t nb_ent, max_ent;
	uint32_t arp_queue;
	uint32_t arp_retries;
	uint64_t timeout_us, retry_us;
	struct rte_mempool *mp;
	uint16_t ip_id;
	size_t memory_bytes;
	char name[32];
};

/* Host-order address helpers. */
static inline bool
net_is_ours(const struct tws_net *n, uint32_t ip)
{
	return ip - n->addr_first < n->nb_addrs;
}

static inline bool
net_in_subnet(const struct tws_net *n, uint32_t ip)
{
	return (ip & n->netmask) == n->subnet;
}

/*
 * The subnet's network and broadcast addresses (RFC 919/922) name no
 * neighbour; on /31 and /32 links (RFC 3021) there are none.
 */
static inline bool
net_is_subnet_bcast(const struct tws_net *n, uint32_t ip)
{
	return n->netmask < 0xfffffffeu && (ip == n->subnet || ip == (n->subnet | ~n->netmask));
}

/*
 * Write an Ethernet header in front of m's data (IPv4 or ARP after it).
 * Returns false when m has less than 14 bytes of headroom.
 */
static inline bool
net_eth_prepend(const struct tws_net *n, struct rte_mbuf *m, const struct rte_ether_addr *dst,
		uint16_t ether_type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, ETH_LEN);

	if (unlikely(eh == NULL))
		return false;
	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&n->mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(ether_type);
	m->l2_len = ETH_LEN;
	return true;
}

/* Free a received frame, counted by reason. */
static inline void
net_drop(struct tws_net *n, struct rte_mbuf *m, enum tws_net_drop why)
{
	n->c.drops[why]++;
	n->c.rx_dropped++;
	rte_pktmbuf_free(m);
}

/* Queue a frame for tws_net_tx_burst(); frees it and counts when the queue is full. */
bool tws_net_txq_push(struct tws_net *n, struct rte_mbuf *m);

/* Allocate an mbuf from the pool (counts tx_no_mbuf when empty). */
struct rte_mbuf *tws_net_alloc(struct tws_net *n);

/* tws_arp.c */

/* Set up the cache; memory comes from tws_net_create(). */
void tws_arp_init(struct tws_net *n);

/* Free what the cache holds (held packets). */
void tws_arp_flush(struct tws_net *n);

/* A received ARP frame (Ethernet header still on, at least 14 + 28 bytes); consumes m. */
void tws_arp_input(struct tws_net *n, struct rte_mbuf *m, uint64_t now_us);

/*
 * Prepend Ethernet to IPv4 packet m for next hop nh (host order).
 * Returns true if m is ready to send; false if it was held or dropped.
 */
bool tws_arp_output(struct tws_net *n, struct rte_mbuf *m, uint32_t nh, uint64_t now_us);

#endif /* TWS_NET_PRIV_H */
