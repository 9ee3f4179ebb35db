/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * twstack net layer: Ethernet, ARP, IPv4 and ICMP echo between the port and
 * the TCP engine. One instance per lcore, like the stack it feeds; no port,
 * no thread, no clock of its own: the runtime passes frames and time in.
 *
 *  - Receive (tws_net_rx()): frames are classified on their ethertype. IPv4
 *    TCP to one of our addresses leaves with its Ethernet header stripped,
 *    the data starting at the IPv4 header as tws_stack_rx_burst() wants it;
 *    ARP is answered and learnt from; ICMP echo requests are answered;
 *    everything else is freed and counted by reason (TWS_NET_DROPS).
 *  - Transmit (tws_net_tx()): IPv4 packets from the engine get an Ethernet
 *    header for the next hop found in the ARP cache; packets for a next hop
 *    not resolved yet are held (arp_queue per neighbour) while ARP asks.
 *  - Frames the layer makes itself (ARP requests and replies, ICMP echo
 *    replies, gratuitous ARP, held packets released by a reply) wait in a
 *    queue of their own for tws_net_tx_burst().
 *  - tws_net_poll() retries unanswered ARP requests, reconfirms neighbours
 *    in use and ages out the others, a bounded amount per call.
 *
 * Our addresses are a contiguous range of IPv4 addresses inside one subnet
 * (the link); every one answers ARP with the same MAC. Destinations outside
 * the subnet go to the gateway, if there is one.
 *
 * All functions must be called by the lcore that owns the instance.
 */
#ifndef TWS_NET_H
#define TWS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default size of the ARP cache (neighbours). */
#define TWS_NET_DEFAULT_ARP_ENTRIES 1024
/**
 * Default time a neighbour stays confirmed, ms: Linux's base_reachable_time
 * (30 s). A neighbour still in use is then reconfirmed by unicast requests
 * while its MAC keeps being used; one not in use is removed.
 */
#define TWS_NET_DEFAULT_ARP_TIMEOUT_MS 30000
/** Default interval between ARP requests to one neighbour, ms (Linux's retrans_time). */
#define TWS_NET_DEFAULT_ARP_RETRY_MS 1000
/** Default number of unanswered requests before giving up (Linux's mcast_probes). */
#define TWS_NET_DEFAULT_ARP_RETRIES 3
/** Default number of packets held per unresolved neighbour. */
#define TWS_NET_DEFAULT_ARP_QUEUE 4
/** Default size of the queue of frames the layer makes itself. */
#define TWS_NET_DEFAULT_TX_QUEUE 1024
/** Most gratuitous ARPs one tws_net_gratuitous_arp() call queues (one per address). */
#define TWS_NET_GARP_MAX 64
/** Most timed ARP cache events (retries, expiries) one tws_net_poll() call handles. */
#define TWS_NET_POLL_MAX 64

/** Parameters of tws_net_create(). Zero means default for every optional field. */
struct tws_net_params {
	const char *name;          /**< For logs and memory names; NULL: "tws_net". */
	int socket_id;             /**< NUMA socket of all memory (the owning lcore's). */
	struct rte_ether_addr mac; /**< The port's MAC (unicast). Required. */
	rte_be32_t addr_first;     /**< First of our IPv4 addresses. Required. */
	uint32_t nb_addrs;         /**< Our addresses: addr_first and the next nb_addrs - 1. >= 1. */
	/**
	 * Prefix length of the subnet the addresses are on (the link), 8..32;
	 * 0: 24. ARP is answered and learnt only from senders inside it, and
	 * destinations outside it go to the gateway.
	 */
	uint8_t prefix_len;
	rte_be32_t gateway;        /**< Next hop outside the subnet; 0: none (such packets dropped). */
	uint32_t arp_entries;      /**< ARP cache size, 1..2^20; 0: 1024. */
	uint32_t arp_timeout_ms;   /**< How long a confirmation lasts; 0: 30000. */
	uint32_t arp_retry_ms;     /**< Interval between requests to one neighbour; 0: 1000. */
	uint32_t arp_retries;      /**< Unanswered requests before giving up, 1..255; 0: 3. */
	uint32_t arp_queue;        /**< Packets held per unresolved neighbour, 1..255; 0: 4. */
	uint32_t tx_queue_size;    /**< Frames waiting for tws_net_tx_burst(); 0: 1024. */
	uint16_t mtu;              /**< Largest IPv4 packet sent, 68..9000; 0: 1500. */
	/**
	 * Receive checksums: 1 trusts the port's RTE_MBUF_F_RX_IP_CKSUM_* and
	 * RX_L4_CKSUM_* flags (GOOD skips the software check, BAD drops); 0
	 * ignores and clears them, so this layer checks the IPv4 header and the
	 * engine the TCP checksum in software.
	 */
	int rx_csum_offload;
	/**
	 * Transmit checksums: 1 means the port fills IPv4 and TCP checksums
	 * (tws_port_info tx_ip_csum and tx_tcp_csum): ICMP replies carry
	 * RTE_MBUF_F_TX_IP_CKSUM, packets from the engine pass as they are.
	 * 0: every checksum is computed here, including those an engine packet
	 * asks the port for (then counted in tx_sw_csum).
	 */
	int tx_csum_offload;
	/**
	 * Pktmbuf pool for ARP frames and ICMP replies; its data room must hold
	 * RTE_PKTMBUF_HEADROOM + 14 + mtu bytes. Required.
	 */
	struct rte_mempool *mp;
};

/**
 * Why a received frame was freed; one list for the enum, names and counters.
 * Every frame given to tws_net_rx() ends in exactly one of: handed out
 * (rx_tcp), answered or learnt from (arp_rx_requests, arp_rx_replies,
 * icmp_echo), or one of these.
 */
#define TWS_NET_DROPS(X) \
	X(TRUNCATED,      "frame shorter than its Ethernet, ARP or IPv4 header") \
	X(ETHERTYPE,      "neither IPv4 nor ARP (IPv6, LLDP, ...)") \
	X(VLAN,           "802.1Q or 802.1ad tagged: VLANs are not supported") \
	X(L2_DST,         "Ethernet destination not our MAC (broadcast accepted for ARP only)") \
	X(ARP_BAD,        "ARP not for Ethernet/IPv4 (types 1/0x0800, lengths 6/4) or op not 1/2") \
	X(ARP_BAD_SENDER, "ARP sender outside our subnet or its broadcast, or a multicast/zero MAC") \
	X(ARP_CONFLICT,   "ARP from another host claiming one of our addresses") \
	X(ARP_NOT_FOR_US, "ARP request for another address (refreshes a known sender only)") \
	X(IP_BAD_HDR,     "IPv4 version not 4, header under 20 bytes or total length wrong") \
	X(IP_BAD_CSUM,    "IPv4 header checksum wrong (software) or flagged bad by the port") \
	X(IP_NOT_OURS,    "IPv4 destination not one of our addresses (broadcast, multicast, others)") \
	X(IP_MARTIAN,     "IPv4 source 0/8, 127/8, multicast, broadcast or one of ours") \
	X(IP_FRAGMENT,    "IPv4 fragment: not reassembled") \
	X(IP_PROTO,       "IPv4 protocol neither TCP nor ICMP") \
	X(ICMP_BAD,       "ICMP shorter than 8 bytes or checksum wrong") \
	X(ICMP_OTHER,     "ICMP other than echo request (replies and errors are not used)")

/** See TWS_NET_DROPS. */
enum tws_net_drop {
#define TWS_X_ENUM(name, desc) TWS_NET_DROP_ ## name,
	TWS_NET_DROPS(TWS_X_ENUM)
#undef TWS_X_ENUM
	TWS_NET_DROP_COUNT
};

/** Name of a drop reason ("IP_FRAGMENT"), "?" if out of range. */
const char *tws_net_drop_name(enum tws_net_drop d);

/** Counters of a net instance; one list for struct, names and descriptions. */
#define TWS_NET_STATS(X) \
	X(rx_frames,       "frames given to tws_net_rx()") \
	X(rx_tcp,          "IPv4 TCP packets for our addresses handed out, Ethernet stripped") \
	X(rx_dropped,      "frames freed without use (the sum of the drops by reason)") \
	X(arp_rx_requests, "ARP requests for one of our addresses (answered)") \
	X(arp_rx_replies,  "ARP replies received") \
	X(icmp_echo,       "ICMP echo requests to our addresses (answered)") \
	X(tx_packets,      "IPv4 packets given to tws_net_tx()") \
	X(tx_frames,       "frames tws_net_tx() returned ready to send") \
	X(tx_sw_csum,      "packets whose offload checksums were computed here (tx_csum_offload=0)") \
	X(tx_bad,          "packets dropped: not an IPv4 header, or longer than the MTU") \
	X(tx_no_route,     "packets dropped: outside the subnet without gateway, or to ourselves") \
	X(tx_no_headroom,  "packets dropped: less than 14 bytes of headroom for Ethernet") \
	X(tx_no_mbuf,      "frames not made (ARP, ICMP reply): mbuf pool empty") \
	X(tx_queue_full,   "frames dropped: the layer's own transmit queue was full") \
	X(icmp_echo_replies, "ICMP echo replies queued") \
	X(arp_tx_requests, "ARP requests queued (broadcast to resolve, unicast to reconfirm)") \
	X(arp_tx_replies,  "ARP replies queued") \
	X(arp_garp,        "gratuitous ARP announcements queued") \
	X(arp_learned,     "neighbours resolved, or whose MAC changed, from a received ARP") \
	X(arp_held,        "packets held while their next hop was resolved") \
	X(arp_released,    "held packets sent once the next hop answered") \
	X(arp_queue_drops, "held packets dropped for newer ones (arp_queue full, oldest first)") \
	X(arp_unresolved,  "held packets dropped: the next hop never answered, or was deleted") \
	X(arp_failed,      "neighbours given up after arp_retries unanswered requests") \
	X(arp_aged,        "neighbours removed arp_timeout_ms after a confirmation, unused since") \
	X(arp_evicted,     "neighbours removed for a next hop to resolve (cache full): oldest first") \
	X(arp_cache_full,  "new neighbours not added: cache full (received ARP never evicts)")

/** Counter snapshot, see TWS_NET_STATS and TWS_NET_DROPS. */
struct tws_net_stats {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_NET_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
	uint64_t drops[TWS_NET_DROP_COUNT]; /**< received frames freed, by reason */
	uint64_t arp_entries;      /**< neighbours in the cache now (all states) */
	uint64_t tx_pending;       /**< frames waiting for tws_net_tx_burst() */
	uint64_t memory_bytes;     /**< DPDK memory the instance holds */
};

/** Number of counters in TWS_NET_STATS. */
#define TWS_NET_STATS_COUNT ((unsigned int)(offsetof(struct tws_net_stats, drops) / \
				sizeof(uint64_t)))

/** Opaque net instance. */
struct tws_net;

/**
 * Create a net instance: the ARP cache (hash, entries, held packets) and
 * the transmit queue, from DPDK memory on params->socket_id. Nothing is
 * allocated later but mbufs from params->mp.
 *
 * @param p
 *   Parameters; see struct tws_net_params.
 * @return
 *   The instance, or NULL with rte_errno set: EINVAL for bad parameters (a
 *   log line names the field and its range), ENOMEM.
 */
struct tws_net *tws_net_create(const struct tws_net_params *p);

/** Free an instance, the packets it holds and the frames it queued. NULL is a no-op. */
void tws_net_free(struct tws_net *n);

/**
 * Classify @p nb received Ethernet frames at time @p now_us. IPv4 TCP
 * packets for one of our addresses, with a valid header, are stripped of
 * Ethernet (and of any padding after the IPv4 total length) and written to
 * @p tcp in order; their IPv4 checksum flag is set GOOD once checked, so
 * the engine does not check it again. ARP requests for our addresses and
 * ICMP echo requests are answered (replies queued for tws_net_tx_burst());
 * ARP teaches the cache. Every other frame is freed and counted by reason.
 * Reads nothing past a segment's data_len.
 *
 * @param tcp  room for @p nb mbufs; may be @p frames itself
 * @return Number of packets written to @p tcp (the caller owns them).
 */
uint16_t tws_net_rx(struct tws_net *n, struct rte_mbuf **frames, uint16_t nb,
		    struct rte_mbuf **tcp, uint64_t now_us);

/**
 * Prepare @p nb IPv4 packets from the engine (data starting at the IPv4
 * header, headroom for Ethernet) for the port. A packet whose next hop is
 * resolved gets its Ethernet header (m->l2_len = 14, so the engine's
 * offload flags stay right) and is written to @p frames. One whose next
 * hop is not resolved yet is held and an ARP request is queued (at most
 * one per arp_retry_ms per neighbour); held packets leave through
 * tws_net_tx_burst() when the reply comes, or are dropped (arp_unresolved)
 * after arp_retries unanswered requests. Packets that cannot be sent are
 * freed and counted (tx_bad, tx_no_route, tx_no_headroom).
 *
 * @param frames  room for @p nb mbufs; may be @p pkts itself
 * @return Number of frames written to @p frames, ready for rte_eth_tx_burst().
 */
uint16_t tws_net_tx(struct tws_net *n, struct rte_mbuf **pkts, uint16_t nb,
		    struct rte_mbuf **frames, uint64_t now_us);

/**
 * Take up to @p max frames the layer made itself, oldest first: ARP
 * requests and replies, ICMP echo replies, gratuitous ARP, and held packets
 * released by an ARP reply (in the order they were held). Send them before
 * the frames of the next tws_net_tx() call, so a released flow stays in order.
 *
 * @return Number of frames written to @p frames (the caller owns them).
 */
uint16_t tws_net_tx_burst(struct tws_net *n, struct rte_mbuf **frames, uint16_t max);

/** Frames waiting for tws_net_tx_burst(). */
uint32_t tws_net_tx_pending(const struct tws_net *n);

/**
 * Run the ARP cache's timers up to @p now_us: resend requests for
 * neighbours not answering (arp_retry_ms apart), give them up after
 * arp_retries; when a confirmation is arp_timeout_ms old, reconfirm a
 * neighbour used since (unicast request, its MAC still used meanwhile) or
 * remove it. Handles at most TWS_NET_POLL_MAX events per call, oldest
 * first, and resumes there: call it every poll iteration.
 */
void tws_net_poll(struct tws_net *n, uint64_t now_us);

/**
 * Queue a gratuitous ARP (RFC 5227 §2.3 announcement: a broadcast request
 * whose sender and target address are ours) for each of our addresses, the
 * first TWS_NET_GARP_MAX of them, so switches and neighbours learn where
 * we are. The runtime calls it once the port is up.
 *
 * @return Number queued; -ENOBUFS if the pool or the transmit queue ran
 *   short (those queued stay queued).
 */
int tws_net_gratuitous_arp(struct tws_net *n);

/**
 * Add a static ARP entry (Linux's PERMANENT): never aged, never changed by
 * received ARP. Replaces a dynamic entry for @p ip; packets held for it are
 * released.
 *
 * @return 0; -EINVAL if @p ip is 0, one of ours or outside the subnet, or
 *   @p mac is not a unicast address; -ENOSPC if the cache is full of
 *   unresolved and static entries.
 */
int tws_net_arp_add(struct tws_net *n, rte_be32_t ip, const struct rte_ether_addr *mac);

/**
 * Remove the entry for @p ip, static or not; packets held for it are
 * dropped (counted in arp_unresolved).
 *
 * @return 0 or -ENOENT.
 */
int tws_net_arp_del(struct tws_net *n, rte_be32_t ip);

/**
 * Look @p ip up in the ARP cache without changing anything.
 *
 * @param mac  filled when the neighbour is resolved (may be NULL)
 * @return 0 when resolved; -EAGAIN while a request is unanswered; -ENOENT.
 */
int tws_net_arp_lookup(const struct tws_net *n, rte_be32_t ip, struct rte_ether_addr *mac);

/** True if @p ip (network order) is one of our addresses. */
bool tws_net_is_local(const struct tws_net *n, rte_be32_t ip);

/** Read the counters. */
void tws_net_stats_get(const struct tws_net *n, struct tws_net_stats *s);

/** Name and description of counter @p i of TWS_NET_STATS. @return 0 or -EINVAL. */
int tws_net_stat_name(unsigned int i, const char **name, const char **desc);

#ifdef __cplusplus
}
#endif

#endif /* TWS_NET_H */
