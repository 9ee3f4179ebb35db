/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * twstack connection table: per lcore, from a TCP 4-tuple to either a live
 * connection (a control block from the table's pool) or a compact TIME_WAIT
 * entry (32 bytes, in a log kept in creation order).
 *
 * Layout (docs/architecture.md, "Table layer", has the byte picture):
 *  - index: open addressing over 64-byte buckets of 10 slots, each slot a
 *    16-bit tag (11-bit signature + 5-bit displacement) and a 32-bit value
 *    (connection index, or TIME_WAIT log position with the top bit set). A
 *    lookup miss reads one cache line unless its home bucket overflowed
 *    (then the following buckets, until every key of that home is seen), a
 *    hit two (bucket + record, where the full key is compared).
 *  - TIME_WAIT log: a ring of records in creation order. All TIME_WAIT
 *    entries have the same length, so expiry only advances the tail, reading
 *    memory sequentially; index slots of expired entries are recognised as
 *    stale by their position and reclaimed lazily. Removing an entry early
 *    marks its record dead; restarting its timer copies it to the head.
 *  - The hash is a multilinear hash of the key with random 64-bit
 *    coefficients drawn at creation, so an attacker cannot aim tuples at one
 *    bucket without knowing them (a CRC could be aimed whatever its seed).
 *
 * All functions must be called by the lcore that owns the table.
 */
#ifndef TWS_TABLE_H
#define TWS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * IPv4 4-tuple, as it appears in packets (network byte order), seen from
 * this host: local is our side. 12 bytes. An IPv6 table (not implemented
 * yet) will take its own 36-byte key type through the same functions, which
 * take keys as `const void *`.
 */
struct tws_tuple {
	rte_be32_t laddr;
	rte_be32_t raddr;
	rte_be16_t lport;
	rte_be16_t rport;
};

/** Flags of a TIME_WAIT entry. */
#define TWS_TW_F_TS     0x01 /**< timestamps were seen: ts_recent is valid */
#define TWS_TW_F_DEAD   0x08 /**< removed; the log tail will reclaim it (internal) */

/**
 * Smallest unit of tws_tw_entry.oow_age in ticks (256 ms at 1 ms ticks); a
 * table whose tw_timeout exceeds 254 units uses tw_timeout / 254, so the
 * byte always covers an entry's whole life.
 */
#define TWS_TW_OOW_UNIT 256u

/**
 * A TIME_WAIT entry: what spec section 2 needs and nothing else. 32 bytes,
 * pinned by a static assert. Pointers to entries are valid until the next
 * call that changes the table.
 */
struct tws_tw_entry {
	struct tws_tuple key;     /**< 12: the connection's 4-tuple */
	uint32_t snd_nxt;         /**< 4: next sequence number we would send */
	uint32_t rcv_nxt;         /**< 4: next sequence number expected */
	uint32_t ts_recent;       /**< 4: last timestamp value seen from the peer */
	uint32_t expire;          /**< 4: expiry tick (low 32 bits of the table clock) */
	uint16_t ts_age;          /**< 2: ticks from ts_recent_stamp to entry creation, saturating */
	uint8_t rcv_wscale : 4;   /**< window scale used in our ACKs (0..14) */
	uint8_t flags : 4;        /**< 1 (with rcv_wscale): TWS_TW_F_* */
	/**
	 * 1: when the last ACK for an out-of-window segment was sent, for the
	 * per-entry rate limit (spec oow_ack_interval_ms): 0 = never, else 1 +
	 * units (TWS_TW_OOW_UNIT ticks or more) after the entry's creation,
	 * rounded up. Use tws_table_tw_oow_last() / tws_table_tw_oow_mark().
	 */
	uint8_t oow_age;
};

/** What a TIME_WAIT entry is made from (the state of the closing connection). */
struct tws_tw_state {
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	uint64_t ts_recent_stamp; /**< tick ts_recent was seen; ignored without TWS_TW_F_TS */
	uint8_t rcv_wscale;
	uint8_t flags;            /**< TWS_TW_F_TS or 0 */
};

/** Parameters of tws_table_create(). */
struct tws_table_params {
	const char *name;         /**< For logs and memory names; NULL: "tws_table". */
	int socket_id;            /**< NUMA socket of all memory (the owning lcore's). */
	uint32_t max_conns;       /**< Live connections (control blocks), 1..2^28. */
	uint32_t conn_size;       /**< Bytes of the caller's control block, 0..4096. */
	uint32_t max_tw;          /**< TIME_WAIT entries at once, 0..2^30 (spec: max_tw). */
	uint32_t tw_timeout;      /**< TIME_WAIT length in ticks, 1..2^30 (spec: tw_timeout_ms). */
	uint64_t start_tick;      /**< The caller's clock, in ticks, at creation. */
	uint64_t hash_seed;       /**< Seed of the hash coefficients; 0: random. */
	/**
	 * Address family of the keys: AF_INET (0 means AF_INET too) takes
	 * struct tws_tuple. AF_INET6 (36-byte keys through the same functions)
	 * is refused with ENOTSUP until it is implemented.
	 */
	int family;
};

/** Counters of a table; one list serves the struct, names and descriptions. */
#define TWS_TABLE_STATS(X) \
	X(conn_inserted,  "connections inserted") \
	X(conn_deleted,   "connections deleted") \
	X(tw_created,     "TIME_WAIT entries created") \
	X(tw_overflow,    "TIME_WAIT entries not created: max_tw reached") \
	X(tw_removed,     "TIME_WAIT entries removed early (reuse, SYN, RST)") \
	X(tw_restarted,   "TIME_WAIT timers restarted (entry moved to the head)") \
	X(tw_expired,     "TIME_WAIT entries expired") \
	X(insert_exists,  "inserts refused: key already present (-EEXIST)") \
	X(insert_full,    "inserts refused: table or pool full (-ENOSPC)") \
	X(stale_reclaimed, "index slots of expired entries reclaimed")

/** Counter snapshot, see TWS_TABLE_STATS. */
struct tws_table_stats {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_TABLE_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
	uint64_t conns;           /**< live connections now */
	uint64_t tw_entries;      /**< TIME_WAIT entries now */
	uint64_t memory_bytes;    /**< DPDK memory the table holds */
	uint64_t index_bytes;     /**< of which the index */
	uint64_t tw_log_bytes;    /**< of which the TIME_WAIT log */
};

/** Number of counters in TWS_TABLE_STATS. */
#define TWS_TABLE_STATS_COUNT (sizeof(struct tws_table_stats) / sizeof(uint64_t) - 5)

/** What a lookup found. */
enum tws_table_kind {
	TWS_TABLE_MISS = 0, /**< nothing */
	TWS_TABLE_CONN = 1, /**< a live connection: conn points to its control block */
	TWS_TABLE_TW = 2,   /**< a TIME_WAIT entry: tw points to it */
};

/** Result of a lookup. */
struct tws_table_hit {
	enum tws_table_kind kind;
	union {
		void *conn;
		struct tws_tw_entry *tw;
	};
};

/** Opaque table handle. */
struct tws_table;

/**
 * Create a table; all memory (index, connection pool, TIME_WAIT log) is
 * allocated here from DPDK memory on params->socket_id.
 *
 * @return
 *   The table, or NULL with rte_errno EINVAL (a log line names the field)
 *   or ENOMEM.
 */
struct tws_table *tws_table_create(const struct tws_table_params *params);

/** Free a table. NULL is a no-op. */
void tws_table_free(struct tws_table *t);

/** Bytes of DPDK memory tws_table_create() would take; 0 for bad parameters. */
size_t tws_table_memory_size(const struct tws_table_params *params);

/**
 * Look up one key.
 * @return The kind found (also stored in @p hit).
 */
enum tws_table_kind tws_table_lookup(struct tws_table *t, const void *key,
				     struct tws_table_hit *hit);

/**
 * Look up @p n keys (up to 64), prefetching buckets and records in stages,
 * as rte_hash_lookup_bulk() does.
 *
 * @return Number of keys found (connections and TIME_WAIT entries).
 */
unsigned int tws_table_lookup_burst(struct tws_table *t, const void *const *keys,
				    unsigned int n, struct tws_table_hit *hits);

/** Largest burst tws_table_lookup_burst() takes. */
#define TWS_TABLE_BURST_MAX 64

/**
 * Hash @p n keys (up to TWS_TABLE_BURST_MAX) into @p hashes and prefetch the
 * bucket where each key's lookup starts: for a later
 * tws_table_lookup_burst_hashed() of the same keys, typically the next RX
 * burst's while this one is processed, so that its DRAM misses overlap the
 * work and the keys are hashed once (as rte_hash_hash() with
 * rte_hash_lookup_with_hash_bulk()). The hashes are opaque and valid for
 * this table only.
 */
void tws_table_prefetch_burst(const struct tws_table *t, const void *const *keys,
			      unsigned int n, uint64_t *hashes);

/**
 * tws_table_lookup_burst() of keys whose @p hashes tws_table_prefetch_burst()
 * computed.
 *
 * @return Number of keys found.
 */
unsigned int tws_table_lookup_burst_hashed(struct tws_table *t, const void *const *keys,
					   const uint64_t *hashes, unsigned int n,
					   struct tws_table_hit *hits);

/**
 * Prefetch the cache line where @p key's lookup or insert starts, so that
 * a burst of inserts (or any other calls on keys known in advance) overlaps
 * its memory accesses. A lookup burst already leaves these lines cached.
 */
void tws_table_prefetch(const struct tws_table *t, const void *key);

/**
 * Insert a live connection and hand back its zeroed control block
 * (conn_size bytes, 64-byte aligned) in @p conn.
 *
 * @return
 *   0; -EEXIST if the key is present (as a connection or TIME_WAIT entry;
 *   nothing is changed); -ENOSPC if the pool or the index is full (counted).
 */
int tws_table_conn_insert(struct tws_table *t, const void *key, void **conn);

/** Delete a live connection by its control block. @return 0 or -EINVAL. */
int tws_table_conn_delete(struct tws_table *t, void *conn);

/** The key of a live connection. */
const struct tws_tuple *tws_table_conn_key(const struct tws_table *t, const void *conn);

/**
 * Where the key sits in every control block, a constant of the table:
 * tws_table_conn_key(t, conn) is (const uint8_t *)conn plus this, so a
 * caller on a hot path can find it without a call.
 */
size_t tws_table_conn_key_offset(const struct tws_table *t);

/**
 * Is @p conn, a control block a lookup of @p key returned earlier, still the
 * live connection of @p key? False once it was deleted or made TIME_WAIT,
 * even if its block now holds another key. A caller that looked a burst up
 * and changed the table since (earlier segments of the burst, application
 * callbacks) checks a connection hit with this, a few loads in a line the
 * lookup brought in, instead of looking the key up again. A miss or a
 * TIME_WAIT hit must be looked up again.
 */
bool tws_table_conn_current(const struct tws_table *t, const void *conn, const void *key);

/**
 * Index of a live connection's control block, 0..max_conns-1: a compact
 * handle for timers and other per-connection arrays.
 * @return The index, or -EINVAL if @p conn is not a live connection.
 */
int64_t tws_table_conn_index(const struct tws_table *t, const void *conn);

/** The live connection at index @p idx, or NULL if that block is free or out of range. */
void *tws_table_conn_at(const struct tws_table *t, uint32_t idx);

/**
 * Turn a live connection into a TIME_WAIT entry, in O(1): the index slot is
 * reused, the control block freed, a record appended to the log with expiry
 * @p now + tw_timeout.
 *
 * @return
 *   0; -ENOSPC when max_tw entries exist: the connection is deleted all the
 *   same and tw_overflow counted (spec section 2); -EINVAL for a bad conn.
 */
int tws_table_conn_to_tw(struct tws_table *t, void *conn, const struct tws_tw_state *st,
			 uint64_t now);

/**
 * Insert a TIME_WAIT entry directly (no live connection before it).
 * @return 0, -EEXIST, or -ENOSPC (index full or max_tw reached; counted).
 */
int tws_table_tw_insert(struct tws_table *t, const void *key, const struct tws_tw_state *st,
			uint64_t now);

/**
 * Remove a TIME_WAIT entry early (reused by connect, replaced by an accepted
 * SYN, killed by RST). O(1). @return 0, or -ENOENT if it is not a live entry.
 */
int tws_table_tw_remove(struct tws_table *t, struct tws_tw_entry *tw);

/**
 * Restart the TIME_WAIT timer of an entry (spec section 3, rules 1 and 3):
 * the entry moves to the head of the log with expiry now + tw_timeout and
 * ts_recent_stamp kept. O(1).
 *
 * @return The entry's new address, or NULL if the log is full (the entry then
 *   keeps its old expiry) or @p tw is not a live entry.
 */
struct tws_tw_entry *tws_table_tw_restart(struct tws_table *t, struct tws_tw_entry *tw,
					  uint64_t now);

/** The tick a TIME_WAIT entry's ts_recent was last seen. */
uint64_t tws_table_tw_ts_stamp(const struct tws_table *t, const struct tws_tw_entry *tw);

/**
 * When the entry last sent an ACK for an out-of-window segment.
 * @return 1 and *tick (never earlier than the real time, so a rate limit
 *   built on it never lets ACKs out faster than asked), or 0 if never.
 */
int tws_table_tw_oow_last(const struct tws_table *t, const struct tws_tw_entry *tw,
			  uint64_t *tick);

/** Record that the entry sends an out-of-window ACK at tick @p now. */
void tws_table_tw_oow_mark(const struct tws_table *t, struct tws_tw_entry *tw, uint64_t now);

/**
 * Expire TIME_WAIT entries whose time has come at tick @p now, at most
 * @p max of them (0: no limit). Reads the log sequentially; also reclaims a
 * few stale index slots per call.
 *
 * @return Number of entries expired.
 */
unsigned int tws_table_expire(struct tws_table *t, uint64_t now, unsigned int max);

/** Read the counters. */
void tws_table_stats_get(const struct tws_table *t, struct tws_table_stats *st);

/** Name and description of counter @p i. @return 0 or -EINVAL. */
int tws_table_stat_name(unsigned int i, const char **name, const char **desc);

/*
 * Port allocator for connect (spec section 5).
 *
 * Per destination (local address, remote address, remote port) it keeps a
 * bitmap of the local ports it handed out and a cursor. The first search
 * starts at a keyed hash of the destination (RFC 6056, algorithm 3) and the
 * cursor then moves on port by port, so the port after the cursor is the one
 * handed out longest ago: the one whose TIME_WAIT ends first. A connect
 * takes a port whose bit is clear (found by scanning bitmap words, 64 ports
 * a step), else checks the ports after the cursor against the table: one
 * that is free now (its TIME_WAIT expired), or, with reuse, one held only by
 * a reusable TIME_WAIT entry. At most TWS_PORTS_MAX_CHECKS table lookups per
 * connect, never a walk over the whole range. The bitmap is a hint: the
 * table lookup decides, so a missed release costs a lookup, never a wrong
 * answer.
 */

/** Table lookups a connect makes at most once no port is known to be free. */
#define TWS_PORTS_MAX_CHECKS 16

/** Parameters of tws_ports_create(). */
struct tws_ports_params {
	const char *name;         /**< For logs; NULL: "tws_ports". */
	int socket_id;            /**< NUMA socket of the bitmaps. */
	uint16_t port_min;        /**< First local port (host order); 0: 32768 (Linux). */
	uint16_t port_max;        /**< Last local port; 0: 60999 (Linux). */
	uint32_t max_dests;       /**< Destinations tracked at once; 0: 1024. */
	uint64_t seed;            /**< Secret of the port offset hash; 0: random. */
	/**
	 * Optional: a local port is handed out only when accept(accept_arg,
	 * key) says yes for it (key->lport set), e.g. tws_rss_reply_here(): a
	 * lane takes only ports whose replies the NIC's RSS brings to its
	 * queue. Asked for every port of the range once, when a destination is
	 * first seen; the ports it refuses are never handed out. NULL: all.
	 */
	bool (*accept)(void *accept_arg, const struct tws_tuple *key);
	void *accept_arg;
};

/** TIME_WAIT reuse policy of a connect (spec knobs tw_reuse, tw_reuse_delay_ms). */
struct tws_ports_reuse {
	int enabled;              /**< tw_reuse */
	uint64_t delay;           /**< minimum age of the entry's ts_recent_stamp, in ticks */
};

/** Counters of a port allocator. */
#define TWS_PORTS_STATS(X) \
	X(connects,       "ports handed out") \
	X(reused,         "ports handed out held by a reusable TIME_WAIT entry") \
	X(addr_not_avail, "connects refused: no usable tuple (-EADDRNOTAVAIL)") \
	X(dest_full,      "connects refused: max_dests destinations tracked (-ENOSPC)") \
	X(lookups,        "table lookups made to check a port")

/** Counter snapshot, see TWS_PORTS_STATS. */
struct tws_ports_stats {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_PORTS_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
	uint64_t dests;           /**< destinations tracked */
};

struct tws_ports;

/** Create a port allocator. @return NULL with rte_errno EINVAL or ENOMEM. */
struct tws_ports *tws_ports_create(const struct tws_ports_params *params);

/** Free a port allocator. NULL is a no-op. */
void tws_ports_free(struct tws_ports *pa);

/**
 * Pick a local port for a connection from key->laddr to key->raddr:rport
 * and write it to key->lport. The caller then inserts the connection.
 *
 * @param reused
 *   Set to NULL when the tuple is free, or to the TIME_WAIT entry that holds
 *   it when it is reused: the caller takes snd_nxt and ts_recent from it
 *   (write_seq = snd_nxt + 65535 + 2) and removes it with
 *   tws_table_tw_remove() before inserting the connection.
 * @return
 *   0; -EADDRNOTAVAIL when no usable tuple was found (counted);
 *   -ENOSPC when max_dests destinations are tracked already (counted).
 */
int tws_ports_connect(struct tws_ports *pa, struct tws_table *t, struct tws_tuple *key,
		      const struct tws_ports_reuse *reuse, uint64_t now,
		      struct tws_tw_entry **reused);

/**
 * The fast half of tws_ports_connect(): take a port not handed out yet
 * (its bit clear) without checking the table, for a caller that inserts the
 * connection at once and so finds out anyway (-EEXIST from the insert: then
 * call tws_ports_connect(), which skips that port, now marked). No table
 * access, so a burst of connects can prefetch where its inserts land.
 *
 * @return 0 with key->lport set; -ENOENT when every port is handed out
 *   (use tws_ports_connect()); -ENOSPC when max_dests are tracked.
 */
int tws_ports_pick(struct tws_ports *pa, struct tws_tuple *key);

/**
 * Connect from an explicitly bound port (key->lport given): the tuple is
 * usable if free, or held by a TIME_WAIT entry that saw timestamps (spec
 * section 5: then no delay applies).
 *
 * @return 0 (with *reused as for tws_ports_connect()), or -EADDRINUSE.
 */
int tws_ports_connect_bound(struct tws_ports *pa, struct tws_table *t,
			    const struct tws_tuple *key, struct tws_tw_entry **reused);

/**
 * Tell the allocator a port it handed out is free again (connection deleted
 * without TIME_WAIT, or TIME_WAIT entry removed early). Optional: without it
 * the port is found again by a table lookup.
 */
void tws_ports_release(struct tws_ports *pa, const struct tws_tuple *key);

/** Read the counters. */
void tws_ports_stats_get(const struct tws_ports *pa, struct tws_ports_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* TWS_TABLE_H */
