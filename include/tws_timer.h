/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * twstack timer wheel: one per lcore, poll driven, time injected by the caller.
 *
 * Timers are named by a caller-chosen id in [0, capacity) (for example a
 * connection index times the number of timer kinds). A timer is either idle or
 * pending; arming a pending timer re-arms it. Two kinds of timer share the id
 * space and one expiry call:
 *
 *  - general timers (tws_timer_arm()): any deadline up to TWS_TIMER_HORIZON
 *    ticks ahead. They live in a hashed wheel of nb_slots slots whose slots are
 *    vectors of 8-byte records in 256-byte chunks, so expiry reads memory
 *    sequentially instead of chasing one pointer per timer.
 *  - fixed-timeout timers (tws_timer_arm_fixed()): every timer of a queue has
 *    the same length (TIME_WAIT, FIN_WAIT_2), so a queue is a FIFO in creation
 *    order: append is O(1), expiry pops the oldest end, a restart moves the
 *    timer to the tail.
 *
 * Time is counted in ticks (uint64_t, never wraps in practice). The caller
 * reads its clock once per poll, converts it to ticks (tws_timer_ns_to_ticks()
 * or its own arithmetic with the tick length it configured) and passes it in.
 * A timer armed for tick T is handed back by the first tws_timer_expire() call
 * whose @p now is >= T: never earlier, and not later than the first poll at or
 * after T. A deadline at or before the last tick already processed counts as
 * the next tick (tws_timer_current()).
 *
 * Ownership: the wheel belongs to the lcore that calls tws_timer_expire().
 * Every function except the *_remote() ones must be called by that lcore
 * only. Other lcores use tws_timer_arm_remote() / tws_timer_cancel_remote(),
 * which enqueue a command on a lock-free multi-producer ring that the owner
 * applies at the start of its next tws_timer_expire().
 */
#ifndef TWS_TIMER_H
#define TWS_TIMER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Furthest a deadline may be from the wheel's current tick (12.4 days at 1 ms). */
#define TWS_TIMER_HORIZON (UINT64_C(1) << 30)
/** Number of fixed-timeout queues a wheel can have. */
#define TWS_TIMER_MAX_FIXED 4
/** Largest capacity (number of timer ids) a wheel accepts. */
#define TWS_TIMER_MAX_CAPACITY (UINT32_C(1) << 29)
/** Default tick: 1 ms. */
#define TWS_TIMER_DEFAULT_TICK_NS UINT64_C(1000000)
/** Default number of wheel slots (4.1 s per revolution at 1 ms). */
#define TWS_TIMER_DEFAULT_SLOTS 4096
/** Default size of the ring other lcores use to send commands. */
#define TWS_TIMER_DEFAULT_REMOTE_RING 4096
/** Smallest tick accepted: keeps the horizon above 24 hours. */
#define TWS_TIMER_MIN_TICK_NS UINT64_C(100000)

/** Parameters of tws_timer_create(). Zero means "default" for every optional field. */
struct tws_timer_params {
	const char *name;       /**< For logs and memory names; NULL gives "tws_timer". */
	int socket_id;          /**< NUMA socket of the memory (SOCKET_ID_ANY allowed). */
	uint32_t capacity;      /**< Timer ids are 0..capacity-1. Required, 1..TWS_TIMER_MAX_CAPACITY. */
	uint32_t nb_slots;      /**< Wheel slots, power of two; 0: TWS_TIMER_DEFAULT_SLOTS. */
	/**
	 * General (non-fixed) timers the wheel holds at once, pending or
	 * recently cancelled; 0 or more than capacity: capacity (never full).
	 * Smaller saves memory when most ids use fixed queues.
	 */
	uint32_t wheel_size;
	/**
	 * Extra records for re-arms to an earlier deadline: the old record is
	 * left for its slot to drop instead of being taken out (which costs a
	 * random cache line more). 0: wheel_size / 8; at least 30.
	 */
	uint32_t orphan_room;
	uint64_t tick_ns;       /**< Length of a tick; 0: 1 ms; at least TWS_TIMER_MIN_TICK_NS. */
	uint64_t start_tick;    /**< Tick the wheel starts at (the caller's clock at creation). */
	uint32_t remote_ring_size; /**< Commands from other lcores in flight; 0: default. */
	uint32_t nb_fixed;      /**< Number of fixed-timeout queues (0..TWS_TIMER_MAX_FIXED). */
	/** Length in ticks of each fixed-timeout queue (1..TWS_TIMER_HORIZON). */
	uint32_t fixed_ticks[TWS_TIMER_MAX_FIXED];
	/**
	 * Records each fixed queue holds, live timers plus not yet reclaimed
	 * cancelled ones; 0: capacity + capacity / 8.
	 */
	uint32_t fixed_size[TWS_TIMER_MAX_FIXED];
};

/** Counters of a wheel; one list serves the struct, names and descriptions. */
#define TWS_TIMER_STATS(X) \
	X(armed,        "timers armed while idle") \
	X(rearmed,      "timers re-armed while pending") \
	X(cancelled,    "pending timers cancelled") \
	X(expired,      "timers handed back by tws_timer_expire") \
	X(moved,        "records moved to a later slot (re-armed later, or beyond one revolution)") \
	X(clamped,      "deadlines already past, fired at the next expiry call") \
	X(fixed_full,   "fixed-queue arms refused: queue full (-ENOSPC)") \
	X(wheel_full,   "wheel arms refused: wheel_size records in use (-ENOSPC)") \
	X(remote_sent,  "commands enqueued by other lcores") \
	X(remote_full,  "commands refused by a full remote ring (-ENOBUFS)") \
	X(remote_applied, "commands from other lcores applied by the owner") \
	X(remote_bad,   "commands from other lcores refused when applied") \
	X(bad_input,    "calls refused with -EINVAL")

/** Counter snapshot, see TWS_TIMER_STATS. */
struct tws_timer_stats {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_TIMER_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
	uint64_t pending;       /**< Timers pending now (general + fixed). */
	uint64_t wheel_records; /**< Records in the wheel: pending, cancelled, replaced. */
	uint64_t memory_bytes;  /**< Bytes of DPDK memory the wheel holds. */
};

/** Opaque wheel handle. */
struct tws_timer;

/**
 * Create a wheel. All memory is allocated here, from DPDK memory on
 * params->socket_id: arming never allocates and never fails for lack of
 * memory (a fixed queue can be full, see fixed_size).
 *
 * @param params
 *   Parameters; see struct tws_timer_params.
 * @return
 *   The wheel, or NULL with rte_errno set: EINVAL for bad parameters (a log
 *   line names the field), ENOMEM when DPDK memory is short.
 */
struct tws_timer *tws_timer_create(const struct tws_timer_params *params);

/** Free a wheel and all its memory. NULL is a no-op. */
void tws_timer_free(struct tws_timer *w);

/**
 * Arm timer @p id to fire at tick @p deadline; re-arm it if it is pending.
 * O(1). A deadline at or before the wheel's current tick fires at the next
 * tws_timer_expire() call.
 *
 * @return
 *   0 on success; -EINVAL (one log line) if id >= capacity or the deadline
 *   is more than TWS_TIMER_HORIZON ticks ahead; -ENOSPC if the wheel already
 *   holds wheel_size records (only when wheel_size < capacity; counted in
 *   wheel_full). Nothing changes on error.
 */
int tws_timer_arm(struct tws_timer *w, uint32_t id, uint64_t deadline);

/**
 * Arm timer @p id on fixed-timeout queue @p q: it fires fixed_ticks[q] after
 * @p now. If the timer is pending (on any queue or the wheel) it is moved to
 * the tail of the queue, i.e. restarted. O(1).
 *
 * @return
 *   0; -EINVAL (one log line) for a bad id or queue; -ENOSPC when the queue
 *   holds fixed_size[q] records (counted in fixed_full). Nothing changes on error.
 */
int tws_timer_arm_fixed(struct tws_timer *w, uint32_t id, unsigned int q, uint64_t now);

/**
 * Cancel timer @p id. O(1). A timer that expired but was not handed back yet
 * (because an earlier tws_timer_expire() hit its cap) is cancelled too and is
 * never handed back.
 *
 * @return
 *   0 if it was pending; -ENOENT if it was idle (not an error: cancelling
 *   twice is harmless); -EINVAL (one log line) if id >= capacity.
 */
int tws_timer_cancel(struct tws_timer *w, uint32_t id);

/**
 * Arm @p n timers: ids[i] for deadlines[i], exactly as n tws_timer_arm()
 * calls in order, but pipelined: the state of the timers a few places ahead
 * is prefetched while earlier ones are armed, so timers scattered over
 * DRAM cost memory bandwidth instead of one full miss latency each (the
 * burst a TCP engine gathers from one RX burst).
 *
 * @return
 *   Number of timers armed; the others failed as tws_timer_arm() would
 *   (logged and counted).
 */
unsigned int tws_timer_arm_burst(struct tws_timer *w, const uint32_t *ids,
				 const uint64_t *deadlines, unsigned int n);

/**
 * Cancel @p n timers, as n tws_timer_cancel() calls in order, pipelined like
 * tws_timer_arm_burst().
 *
 * @return
 *   Number of timers that were pending and are now cancelled.
 */
unsigned int tws_timer_cancel_burst(struct tws_timer *w, const uint32_t *ids, unsigned int n);

/** @return 1 if timer @p id is pending, 0 if idle or out of range. */
int tws_timer_is_pending(const struct tws_timer *w, uint32_t id);

/**
 * Advance the wheel to tick @p now and hand back up to @p max expired timer
 * ids in @p ids. First applies the commands other lcores sent. Call again
 * (possibly with the same @p now) while it returns @p max: the rest stays
 * queued in deadline order, so a single poll never stalls. The handed back
 * timers are idle; the caller may re-arm them at once.
 *
 * @return
 *   Number of ids written (0..max).
 */
unsigned int tws_timer_expire(struct tws_timer *w, uint64_t now, uint32_t *ids, unsigned int max);

/**
 * From an lcore other than the owner: ask the owner to arm @p id for
 * @p deadline. Lock-free (multi-producer ring). Applied at the owner's next
 * tws_timer_expire(), with the same semantics as tws_timer_arm(); the
 * commands of one producer are applied in the order it sent them.
 *
 * @return
 *   0; -EINVAL for id >= capacity; -ENOBUFS if the ring is full (counted).
 */
int tws_timer_arm_remote(struct tws_timer *w, uint32_t id, uint64_t deadline);

/** As tws_timer_arm_remote(), for tws_timer_cancel(). */
int tws_timer_cancel_remote(struct tws_timer *w, uint32_t id);

/** @return The next tick tws_timer_expire() will process (every tick before it is done). */
uint64_t tws_timer_current(const struct tws_timer *w);

/** Read the counters (owner lcore; the remote_* ones are read atomically). */
void tws_timer_stats_get(const struct tws_timer *w, struct tws_timer_stats *st);

/**
 * Name and description of counter @p i (0..TWS_TIMER_STATS_COUNT-1), for
 * telemetry and JSON output. @return 0, or -EINVAL if i is out of range.
 */
int tws_timer_stat_name(unsigned int i, const char **name, const char **desc);

/** Number of counters in TWS_TIMER_STATS. */
#define TWS_TIMER_STATS_COUNT (sizeof(struct tws_timer_stats) / sizeof(uint64_t) - 3)

/**
 * Bytes of DPDK memory a wheel with these parameters would take, without
 * creating it. @return the size, or 0 if the parameters are invalid.
 */
size_t tws_timer_memory_size(const struct tws_timer_params *params);

/** Convert a duration in ns to ticks of this wheel, rounding up. */
uint64_t tws_timer_ns_to_ticks(const struct tws_timer *w, uint64_t ns);

#ifdef __cplusplus
}
#endif

#endif /* TWS_TIMER_H */
