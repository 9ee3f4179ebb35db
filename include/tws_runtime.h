/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * twstack runtime: the DPDK ports an application runs on. This first part
 * finds a port by name, configures it with one RX/TX queue pair per lcore,
 * turns on the checksum offloads and RSS the port offers, and says which
 * it got, so the net and TCP layers compute in software only what the
 * hardware does not. Real NICs and virtual ports (net_memif, net_ring,
 * net_af_packet, net_tap) go through the same calls.
 *
 * Control-path functions: call them from the main lcore before the poll
 * loops start.
 */
#ifndef TWS_RUNTIME_H
#define TWS_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of queue pairs tws_port_setup() configures. */
#define TWS_PORT_MAX_QUEUES 64

/** Parameters of tws_port_setup(). Zero means default for the optional fields. */
struct tws_port_params {
	uint16_t port_id;          /**< From tws_port_find(). */
	uint16_t nb_queues;        /**< RX/TX queue pairs, one per lcore; 0: 1. */
	uint16_t rx_desc;          /**< RX ring size; 0: 1024 (clamped to the port's limits). */
	uint16_t tx_desc;          /**< TX ring size; 0: 1024 (clamped to the port's limits). */
	struct rte_mempool *mp;    /**< Pktmbuf pool of the RX queues. Required. */
	int socket_id;             /**< Socket of the rings; SOCKET_ID_ANY: the port's. */
	bool no_offload;           /**< Do not enable checksum offloads even if offered. */
};

/** What tws_port_setup() configured. */
struct tws_port_info {
	uint16_t port_id;
	char name[64];             /**< As the EAL names it (net_ring0, 0000:01:00.0). */
	char driver[32];
	struct rte_ether_addr mac;
	uint16_t nb_queues;
	bool rx_ip_csum;           /**< RX IPv4 checksum checked by the port */
	bool rx_tcp_csum;          /**< RX TCP checksum checked by the port */
	bool tx_ip_csum;           /**< TX IPv4 checksum filled by the port */
	bool tx_tcp_csum;          /**< TX TCP checksum filled by the port */
	bool rss;                  /**< RSS spreads TCP flows over the queues */
	int socket_id;             /**< The port's NUMA socket (SOCKET_ID_ANY if unknown). */
};

/**
 * Find a port by the name the EAL gave it (a PCI address, or a vdev name
 * such as net_ring0), or by its number ("0").
 *
 * @param err  on failure, a message naming @p name and listing the ports
 *   that exist (err_len bytes; may be NULL)
 * @return 0 with *port_id set, or -ENODEV.
 */
int tws_port_find(const char *name, uint16_t *port_id, char *err, size_t err_len);

/** Write one line per available port ("0 net_ring0 (net_ring)") into buf. @return ports. */
unsigned int tws_port_list(char *buf, size_t len);

/**
 * Configure and start a port: nb_queues RX/TX queue pairs, RSS over IPv4/TCP
 * when nb_queues > 1 and the port has it, checksum offloads it offers.
 *
 * @return 0 with @p info filled; -EINVAL (bad parameters, or more queues
 *   than the port has: one log line says which), or the negative errno of
 *   the failing ethdev call (logged with the call's name).
 */
int tws_port_setup(const struct tws_port_params *p, struct tws_port_info *info);

/**
 * Stop a port: its link goes down (a memif peer sees it go) and no burst
 * may be called on it any more. tws_port_close() then only closes it.
 */
void tws_port_stop(uint16_t port_id);

/** Stop (unless tws_port_stop() did) and close a port. */
void tws_port_close(uint16_t port_id);

/*
 * RSS as the NIC computes it: the Toeplitz hash of a packet's IPv4
 * addresses and TCP ports under the port's key, whose low bits index the
 * redirection table (RETA) that names the RX queue. With it a client lane
 * picks only local ports whose replies the NIC brings to its own queue
 * (dperf's trick): tws_rss_reply_here() is a tws_ports_params.accept.
 */

/** Largest RSS key and redirection table taken. */
#define TWS_RSS_KEY_MAX 64
#define TWS_RSS_RETA_MAX 2048

/** Parameters of tws_rss_create(). */
struct tws_rss_params {
	const uint8_t *key;        /**< The Toeplitz key, as the NIC holds it. */
	uint32_t key_len;          /**< 16 .. TWS_RSS_KEY_MAX, a multiple of 4 (40 on most NICs). */
	const uint16_t *reta;      /**< Queue of each RETA entry. */
	uint32_t reta_size;        /**< 1 .. TWS_RSS_RETA_MAX entries. */
	bool l3_only;              /**< The port hashes the addresses only, not the ports. */
	int socket_id;
};

struct tws_rss;

/** @return NULL with rte_errno EINVAL (a bad key or RETA size) or ENOMEM. */
struct tws_rss *tws_rss_create(const struct tws_rss_params *p);

/**
 * Read a started port's RSS key, hash types and RETA.
 * @return NULL with rte_errno ENOTSUP when the port has none that can be read.
 */
struct tws_rss *tws_rss_from_port(uint16_t port_id, int socket_id);

/** Free it; NULL is a no-op. */
void tws_rss_free(struct tws_rss *r);

/** The hash of a packet from saddr:sport to daddr:dport (network order). */
uint32_t tws_rss_hash(const struct tws_rss *r, rte_be32_t saddr, rte_be32_t daddr,
		      rte_be16_t sport, rte_be16_t dport);

/** The RX queue of that packet. */
uint16_t tws_rss_queue(const struct tws_rss *r, rte_be32_t saddr, rte_be32_t daddr,
		       rte_be16_t sport, rte_be16_t dport);

/** A lane: the port's RSS and the queue it polls. */
struct tws_rss_lane {
	const struct tws_rss *rss;
	uint16_t queue;
};

struct tws_tuple;

/**
 * Does the reply to a connection with @p key (seen from us) reach the
 * queue of @p lane (a struct tws_rss_lane)? For tws_ports_params.accept.
 */
bool tws_rss_reply_here(void *lane, const struct tws_tuple *key);

/*
 * A faulty link: frames going out pass through it and some are dropped,
 * sent twice, held back behind the next frame (reordering) or held for a
 * while (delay), each at a set rate, drawn per frame from a seeded PRNG so a
 * run can be repeated. Tests put it on a wire, tws-gen and tws-server on
 * their port (--fault). Owned by one lcore, no locks.
 */

/** Rates are parts per million of frames. */
#define TWS_FAULT_PPM 1000000u
/** Frames held at once by default. */
#define TWS_FAULT_HELD_DEFAULT 1024u
/** Most held frames one tws_fault_apply() or tws_fault_poll() call releases. */
#define TWS_FAULT_RELEASE_MAX 64u

/** Parameters of tws_fault_create(). Zero rates: that fault is off. */
struct tws_fault_params {
	uint32_t loss_ppm;         /**< frames dropped */
	uint32_t dup_ppm;          /**< frames sent twice (the copy right after) */
	uint32_t reorder_ppm;      /**< frames held and sent after the next one */
	uint32_t reorder_max_us;   /**< a held frame goes anyway after this; 0: 1000 */
	uint32_t delay_ppm;        /**< frames held for delay_us */
	uint32_t delay_us;         /**< 1 .. 10 s when delay_ppm > 0 */
	uint32_t max_held;         /**< frames held at once; 0: TWS_FAULT_HELD_DEFAULT */
	uint64_t seed;             /**< PRNG seed: the same seed, the same faults */
	struct rte_mempool *mp;    /**< pool of the duplicates; NULL: each frame's own */
	int socket_id;
};

/** Counters of a fault link. */
#define TWS_FAULT_STATS(X) \
	X(frames,      "frames offered") \
	X(dropped,     "frames dropped (loss)") \
	X(duplicated,  "frames sent twice") \
	X(dup_failed,  "duplicates not made: no mbuf (the frame went once)") \
	X(reordered,   "frames held and sent after a later frame") \
	X(delayed,     "frames held for delay_us") \
	X(held_full,   "frames that should have been held but max_held were: sent at once")

/** Counter snapshot, see TWS_FAULT_STATS. */
struct tws_fault_stats {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_FAULT_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
	uint64_t held;             /**< frames held now */
};

struct tws_fault;

/**
 * Create a fault link.
 * @return NULL with rte_errno EINVAL (a rate above TWS_FAULT_PPM, their sum
 *   with loss above it, delay_ppm without delay_us or delay_us over 10 s) or ENOMEM.
 */
struct tws_fault *tws_fault_create(const struct tws_fault_params *p);

/** Free a fault link and the frames it holds. NULL is a no-op. */
void tws_fault_free(struct tws_fault *f);

/**
 * Pass @p nb frames through the link at @p now_us: @p out gets what goes on
 * the wire now, in order: held frames now due, then the frames given (a
 * duplicate right after its original, a held-back frame after the next one
 * that passes). The link owns the frames given from here on (dropped ones
 * are freed). @p out has room for 2 * nb + TWS_FAULT_RELEASE_MAX frames.
 * @return Frames written to @p out.
 */
uint16_t tws_fault_apply(struct tws_fault *f, struct rte_mbuf **in, uint16_t nb,
			 struct rte_mbuf **out, uint64_t now_us);

/**
 * Release held frames due at @p now_us (at most @p cap, and at most
 * TWS_FAULT_RELEASE_MAX) into @p out. Call once per poll iteration.
 * @return Frames written.
 */
uint16_t tws_fault_poll(struct tws_fault *f, struct rte_mbuf **out, uint16_t cap,
			uint64_t now_us);

/** Read the counters. */
void tws_fault_stats_get(const struct tws_fault *f, struct tws_fault_stats *s);

/** Name and description of counter @p i of TWS_FAULT_STATS. @return 0, or -EINVAL past the last. */
int tws_fault_stat_name(unsigned int i, const char **name, const char **desc);

/*
 * The poll loop of one lcore: a node ties one RX/TX queue pair of a port to
 * the lcore's net layer and TCP stack. tws_node_poll() is one iteration:
 *
 *   rte_eth_rx_burst -> tws_net_rx (ARP, ping, checks) -> tws_stack_rx_burst
 *   tws_stack_poll, tws_net_poll (timers)
 *   tws_net_tx_burst (the layer's own frames: ARP, echo replies, released)
 *   tws_stack_tx_burst -> tws_net_tx (Ethernet) -> rte_eth_tx_burst
 *
 * Frames the port does not take are freed and counted (TCP retransmits).
 *
 * Hand-off of a memif link. DPDK's net_memif unmaps the shared rings from
 * its interrupt thread when the peer goes, while the lcore may be inside a
 * burst on them: a SIGSEGV in rte_eth_rx_burst() or rte_eth_tx_burst()
 * (DPDK 22.11 to 25.x; the PMD has no lock there). So the two ends say
 * goodbye first. A node going away sends BYE (tws_node_bye(), a frame of
 * EtherType 0x88B5, IEEE 802 local experimental) and keeps polling; the
 * peer's node answers ACK and stops touching the port (parked); the first
 * node parks when the ACK comes (or its caller gives up waiting), and its
 * caller stops the port. A parked node calls no burst until the port's link
 * has gone down and come up again (a new peer), then runs again; meanwhile
 * its timers run and what the stack sends is freed (tx_parked). On by
 * default for net_memif ports only; a peer killed without a goodbye can
 * still crash the other end inside the PMD.
 */

/** tws_node_params.handoff */
#define TWS_NODE_HANDOFF_AUTO 0    /**< on for net_memif ports */
#define TWS_NODE_HANDOFF_ON 1
#define TWS_NODE_HANDOFF_OFF -1

/** EtherType of the hand-off frames. */
#define TWS_NODE_HANDOFF_ETHERTYPE 0x88B5

struct tws_net;
struct tws_stack;

/** Parameters of tws_node_create(). */
struct tws_node_params {
	uint16_t port_id;
	uint16_t queue;            /**< The queue pair this lcore owns. */
	struct tws_net *net;       /**< Required. */
	struct tws_stack *stack;   /**< Required. */
	uint16_t burst;            /**< Packets per burst, 1..64; 0: 32. */
	struct tws_fault *fault;   /**< Frames sent pass through it (NULL: none); not freed by the node. */
	int socket_id;
	/**
	 * 1: mark every received frame's IPv4 and TCP checksums good, as a port
	 * with receive offload would. Only for a virtual link (memif, ring)
	 * between twstack instances that all emulate offload this way (their
	 * net layer and stack set to rx/tx_csum_offload 1): such a link cannot
	 * corrupt a frame, and its frames carry no real checksums. Never on a
	 * link with another stack: its checksums would go unchecked and ours out
	 * unfilled.
	 */
	int rx_csum_trust;
	/** TWS_NODE_HANDOFF_AUTO (0), _ON (tests over net_ring) or _OFF. */
	int handoff;
	/** Pool of the BYE frame tws_node_bye() sends; required with a hand-off. */
	struct rte_mempool *mp;
};

/** Counters of a node. */
#define TWS_NODE_STATS(X) \
	X(polls,        "tws_node_poll() calls") \
	X(rx_frames,    "frames received from the port") \
	X(rx_segments,  "TCP segments handed to the stack") \
	X(rx_rejected,  "segments the stack handed back (malformed, not TCP): freed") \
	X(tx_frames,    "frames the port took") \
	X(tx_dropped,   "frames the port did not take (TX ring full): freed") \
	X(tx_parked,    "frames not sent while parked (the peer had said goodbye): freed") \
	X(handoffs,     "goodbyes of a memif peer answered (or ours answered): parked")

/** Counter snapshot, see TWS_NODE_STATS. */
struct tws_node_stats {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_NODE_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
};

struct tws_node;

/** Create a node. @return NULL with rte_errno EINVAL or ENOMEM. */
struct tws_node *tws_node_create(const struct tws_node_params *p);

/** Free a node (not its net layer or stack). NULL is a no-op. */
void tws_node_free(struct tws_node *n);

/**
 * One iteration of the poll loop at time @p now_us (the caller reads its
 * clock once per iteration).
 * @return Frames received plus frames sent: 0 means the iteration was idle.
 */
unsigned int tws_node_poll(struct tws_node *n, uint64_t now_us);

/** Read the counters. */
void tws_node_stats_get(const struct tws_node *n, struct tws_node_stats *s);

/**
 * Tell the peer this node is going (see the hand-off above): send BYE on the
 * node's queue. Keep calling tws_node_poll() until tws_node_parked() (the
 * ACK came) or a deadline of your choosing (a peer that is not twstack never
 * answers), then stop polling and stop the port. Calling it again sends
 * BYE again (a frame may be lost to a full ring).
 * @return 0 (also when already parked: nothing to say); -ENOTSUP when the
 *   node has no hand-off; -ENOBUFS when no mbuf or the ring took no frame.
 */
int tws_node_bye(struct tws_node *n);

/** Does the node leave the port alone (a goodbye was said and answered)? */
bool tws_node_parked(const struct tws_node *n);

#ifdef __cplusplus
}
#endif

#endif /* TWS_RUNTIME_H */
