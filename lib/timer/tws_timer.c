/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hashed timing wheel with vector slots, plus fixed-timeout FIFOs.
 *
 * Why this shape (see docs/architecture.md, "Timer layer"):
 *  - A slot is a stack of 8-byte records {id, deadline} kept in 256-byte
 *    chunks, not a linked list of timers. Expiry pops records off the slot's
 *    top chunk, reading memory sequentially, and prefetches the chunks
 *    three links ahead (each chunk stores next, next-next and the one
 *    after), so it does not pay one dependent DRAM miss per timer the way
 *    an index-linked wheel does.
 *  - loc[id] holds the position of a timer's record. A position that holds no
 *    record always holds id NIL, so "pending" is simply rec(loc[id]).id == id
 *    and expiry never has to write loc[] (a random line per timer).
 *  - Each id has at most one record in the wheel. Cancel only sets the
 *    DISARMED bit in it (loc[] and the record: two lines, no dependent
 *    chain); the next arm of the id reuses the record in place when its slot
 *    comes round no later than the new deadline, else the slot's top record
 *    fills the hole. The slot drops disarmed records when it comes round.
 *    So the chunk pool is sized exactly: wheel_size / 30 chunks plus one
 *    partly filled chunk per slot.
 *  - One level, hashed by deadline modulo nb_slots: a record whose deadline is
 *    more than a revolution ahead, or that was re-armed to a later deadline in
 *    place, is moved when its slot comes round ("moved" counter). Re-arming
 *    later, the common case for retransmission timers, reuses the record in
 *    place; earlier leaves an orphan and pushes. Both are written without a
 *    branch: which one it is depends on a DRAM miss, and a branch on it would
 *    be mispredicted half the time.
 *  - Fixed-timeout queues are FIFOs in creation order (mTCP, dperf): cancel
 *    leaves a tombstone that the tail reclaims, restart appends a new record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "tws_log.h"
#include "tws_mem.h"
#include "tws_timer.h"
#include "tws_util.h"

RTE_LOG_REGISTER(tws_timer_logtype, twstack.timer, NOTICE);

#define NIL UINT32_MAX
#define CHUNK_RECS 30u
#define POS_SHIFT 5u /* a position is chunk << 5 | index in chunk */
#define POS_MASK ((1u << POS_SHIFT) - 1)
#define FIXED_TAG UINT32_C(0x80000000)
#define DISARMED UINT32_C(0x80000000) /* in a wheel record's id: cancelled, kept for reuse */
#define ORPHAN UINT32_C(0x40000000)   /* with DISARMED: replaced, loc[] no longer points here */
#define ID_MASK (TWS_TIMER_MAX_CAPACITY - 1)
#define FIXED_Q_SHIFT 29u
#define FIXED_IDX_MASK ((UINT32_C(1) << FIXED_Q_SHIFT) - 1)
#define MIN_SLOTS 64u
#define MAX_SLOTS (UINT32_C(1) << 24)
#define MAX_REMOTE_RING (UINT32_C(1) << 24)
#define CMD_BURST 64u

struct rec {
	uint32_t id;  /* timer id, NIL when the position holds no live timer */
	uint32_t exp; /* deadline tick, low 32 bits (compared modulo 2^32) */
};

struct chunk {
	uint32_t next;  /* chunk below in the slot's stack; free-list link when free */
	uint32_t next2; /* the chunk below next */
	uint32_t slot;  /* slot that owns the chunk */
	uint32_t next3; /* and below that: expiry prefetches three chunks (90 records) ahead */
	struct rec r[CHUNK_RECS];
};

/*
 * A slot is a stack of chunks; only the top one may be partly filled. top is
 * the position just above the top record: top chunk << POS_SHIFT | records in
 * it. An empty slot holds EMPTY_TOP, which reads as a full chunk: one compare
 * ((top & POS_MASK) == CHUNK_RECS) tells a push it needs a new chunk, and when
 * the top chunk empties, what lies below (a full chunk or NIL) becomes
 * next << POS_SHIFT | CHUNK_RECS without a branch.
 */
struct slot {
	uint32_t top;
};

#define EMPTY_TOP (NIL << POS_SHIFT | CHUNK_RECS)

struct fixq {
	struct rec *r;
	uint32_t size;  /* records the ring holds */
	uint32_t head;  /* next record to write */
	uint32_t tail;  /* oldest record */
	uint32_t used;  /* records between tail and head, tombstones included */
	uint32_t live;  /* pending timers in the queue */
	uint32_t ticks; /* the fixed timeout */
	uint64_t last;  /* latest deadline appended: keeps the FIFO in deadline order */
};

/* A command sent by another lcore through the MPSC ring. */
enum { CMD_ARM = 1, CMD_CANCEL = 2 };
struct cmd {
	uint32_t op;
	uint32_t id;
	uint64_t deadline;
};

struct tws_timer {
	/* Hot: touched by every arm, cancel and expiry. */
	uint32_t *loc;
	struct rec *recs;   /* the chunks' records by position, see rec_at() */
	struct chunk *ch;
	struct slot *slots; /* nb_slots entries, then the "side" stack */
	uint64_t *occ;      /* bit s set: slot s is not empty (lets expiry skip idle ticks) */
	uint32_t mask;
	uint32_t side;
	uint32_t free_head;
	uint32_t capacity;
	uint64_t cur;     /* next tick to process; every earlier tick is done */
	uint64_t pending; /* timers pending in the wheel (fixed queues count their own) */
	uint32_t owned;   /* wheel records an id owns (pending or disarmed): all but orphans */
	uint32_t orphans; /* records left behind by re-arms to an earlier slot */
	uint32_t max_orphans;
	uint32_t wheel_size;
	uint32_t nb_fixed;
	struct fixq fq[TWS_TIMER_MAX_FIXED];
	struct rte_ring *ring;
	struct tws_timer_stats st; /* owner-written counters */

	/* Written by other lcores. */
	uint64_t remote_sent __rte_cache_aligned;
	uint64_t remote_full;

	/* Cold. */
	uint64_t tick_ns __rte_cache_aligned;
	uint32_t nb_chunks;
	size_t mem;
	char name[32];
};

/*
 * Bytes per pending timer, pinned: its loc[] slot plus its share of a chunk,
 * with the default 1/8 extra records for orphans (the partly filled top chunk
 * of each slot is the only other overhead); for a fixed queue, its record
 * with the default 1/8 headroom plus loc[].
 */
static_assert(sizeof(struct rec) == 8, "timer record must stay 8 bytes");
static_assert(sizeof(struct chunk) == 256, "chunk must stay 4 cache lines");
static_assert(CHUNK_RECS < POS_MASK, "record index must fit the position");
static_assert(sizeof(struct chunk) == (1u << POS_SHIFT) * sizeof(struct rec) &&
	      offsetof(struct chunk, r) % sizeof(struct rec) == 0,
	      "rec_at() counts positions in records from the first chunk's r[0]");
static_assert(((uint64_t)TWS_TIMER_MAX_CAPACITY * 2 + CHUNK_RECS - 1) / CHUNK_RECS + MAX_SLOTS + 1 <
	      (FIXED_TAG >> POS_SHIFT),
	      "a wheel position must not carry FIXED_TAG, nor a real chunk read as EMPTY_TOP");
static_assert((sizeof(uint32_t) * CHUNK_RECS * 8 + sizeof(struct chunk) * 9) <=
	      14 * CHUNK_RECS * 8, "a pending wheel timer must cost at most 14 bytes");
static_assert(sizeof(uint32_t) * 8 + sizeof(struct rec) * 9 <= 13 * 8,
	      "a pending fixed-queue timer must cost at most 13 bytes");

static inline bool
tick_after(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) < 0;
}

static inline void
prefetch_chunk(const struct tws_timer *w, uint32_t c)
{
	if (c == NIL)
		return;
	const char *p = (const char *)&w->ch[c];
	rte_prefetch0(p);
	rte_prefetch0(p + 64);
	rte_prefetch0(p + 128);
	rte_prefetch0(p + 192);
}

/*
 * A chunk is 1 << POS_SHIFT records long (its header takes two), so a position
 * chunk << POS_SHIFT | i counts records from the first chunk's r[0] (w->recs):
 * one indexed access instead of splitting the position in two.
 */
static inline struct rec *
rec_at(const struct tws_timer *w, uint32_t pos)
{
	return &w->recs[pos];
}

/*
 * Slot s is empty or its top chunk is full: put a fresh chunk on top and
 * return the new top. Out of line: one push in 30 gets here, and inlined in
 * every push it only adds code and register pressure to the hot loops.
 */
static __rte_noinline uint32_t
slot_grow(struct tws_timer *w, uint32_t s)
{
	struct slot *sl = &w->slots[s];
	uint32_t h = (sl->top == EMPTY_TOP) ? NIL : sl->top >> POS_SHIFT, c = w->free_head;
	struct chunk *cc = &w->ch[c];

	/* The pool holds capacity/30 + one partial chunk per stack: never empty. */
	RTE_ASSERT(c != NIL);
	if (h == NIL && s != w->side)
		w->occ[s >> 6] |= UINT64_C(1) << (s & 63);
	w->free_head = cc->next;
	/* The next chunk handed out is cold: start fetching its header now. */
	if (w->free_head != NIL)
		rte_prefetch0(&w->ch[w->free_head]);
	cc->next = h;
	cc->next2 = (h == NIL) ? NIL : w->ch[h].next;
	cc->next3 = (h == NIL) ? NIL : w->ch[h].next2;
	cc->slot = s;
	sl->top = c << POS_SHIFT;
	return sl->top;
}

/* Push a record on slot s, whose top the caller has read, and point loc[id] at it. */
static inline void
slot_put(struct tws_timer *w, uint32_t s, uint32_t top, uint32_t id, uint32_t exp)
{
	if (unlikely((top & POS_MASK) == CHUNK_RECS))
		top = slot_grow(w, s);
	*rec_at(w, top) = (struct rec){ .id = id, .exp = exp };
	/* Records fill chunks whose lines are cold: fetch the line 8 records on. */
	if ((top & POS_MASK) + 8 < CHUNK_RECS)
		rte_prefetch0(rec_at(w, top + 8));
	w->slots[s].top = top + 1;
	w->loc[id] = top;
}

/* Push a record on top of slot s and point loc[id] at it. */
static inline void
slot_push(struct tws_timer *w, uint32_t s, uint32_t id, uint32_t exp)
{
	slot_put(w, s, w->slots[s].top, id, exp);
}

/* Slot s's top chunk h is empty: free it, the one below (full, or none) becomes the top. */
static inline void
slot_drop_top(struct tws_timer *w, uint32_t s, uint32_t h)
{
	struct chunk *c = &w->ch[h];

	w->slots[s].top = c->next << POS_SHIFT | CHUNK_RECS; /* EMPTY_TOP for NIL */
	if (c->next == NIL && s != w->side)
		w->occ[s >> 6] &= ~(UINT64_C(1) << (s & 63));
	c->next = w->free_head;
	w->free_head = h;
}

/* Pop the top record of slot s (which must not be empty). */
static inline struct rec
slot_pop(struct tws_timer *w, uint32_t s)
{
	struct slot *sl = &w->slots[s];
	uint32_t pos = sl->top - 1;
	struct rec *p = rec_at(w, pos);
	struct rec r = *p;

	p->id = NIL;
	if ((pos & POS_MASK) == 0)
		slot_drop_top(w, s, pos >> POS_SHIFT);
	else
		sl->top = pos;
	return r;
}

/*
 * Remove the wheel record at pos (live or disarmed): the top record of its
 * slot fills the hole. Used only when a record cannot be reused in place.
 * The caller counts the timer out of pending if it was.
 */
static inline void
wheel_remove(struct tws_timer *w, uint32_t pos)
{
	struct rec *hole = rec_at(w, pos);
	uint32_t s = w->ch[pos >> POS_SHIFT].slot;
	uint32_t top = w->slots[s].top - 1;
	struct rec r = slot_pop(w, s);

	w->owned--;
	if (top != pos) {
		*hole = r;
		if (!(r.id & ORPHAN))
			w->loc[r.id & ID_MASK] = pos;
	}
}

/* Leave the id's record r for its slot to drop: one store, no loc[] write. */
static inline void
wheel_orphan(struct tws_timer *w, struct rec *r)
{
	r->id |= DISARMED | ORPHAN;
	w->orphans++;
	w->owned--;
}

/*
 * The id's wheel record at pos must go (its slot comes round too late, or the
 * id moves to a fixed queue). While headroom lasts, leave it as an orphan that
 * its slot drops: one store, where taking it out costs a random loc[] write.
 */
static inline void
wheel_retire(struct tws_timer *w, uint32_t pos)
{
	struct rec *r = rec_at(w, pos);

	if (!(r->id & DISARMED))
		w->pending--;
	if (likely(w->orphans < w->max_orphans)) {
		wheel_orphan(w, r);
	} else {
		wheel_remove(w, pos);
	}
}

/* Ticks from the current one to the next non-empty slot; nb_slots if all are empty. */
static inline uint32_t
next_busy(const struct tws_timer *w)
{
	uint32_t start = (uint32_t)w->cur & w->mask, nwords = (w->mask >> 6) + 1;
	uint32_t wi = start >> 6;
	uint64_t bits = w->occ[wi] & (~UINT64_C(0) << (start & 63));

	for (uint32_t k = 0; k <= nwords; k++) {
		if (bits != 0) {
			uint32_t s = (wi << 6) + (uint32_t)__builtin_ctzll(bits);

			return (s - start) & w->mask;
		}
		wi = (wi + 1 == nwords) ? 0 : wi + 1;
		bits = w->occ[wi];
	}
	return w->mask + 1;
}

static int
bad_id(struct tws_timer *w, const char *op, uint32_t id)
{
	w->st.bad_input++;
	TWS_LOG(tws_timer_logtype, ERR, "%s: %s: timer id %u out of range (capacity %u)",
		w->name, op, id, w->capacity);
	return -EINVAL;
}

/* Drop the fixed-queue record at loc value p if it is id's: leaves a tombstone. */
static inline bool
fixed_remove(struct tws_timer *w, uint32_t p, uint32_t id)
{
	struct fixq *q = &w->fq[(p >> FIXED_Q_SHIFT) & 3];
	struct rec *r = &q->r[p & FIXED_IDX_MASK];

	if (r->id != id)
		return false;
	r->id = NIL;
	q->live--;
	return true;
}

/* The deadline is past the horizon: refuse it (cold, kept out of tws_timer_arm()). */
static __rte_noinline int
bad_deadline(struct tws_timer *w, uint32_t id, uint64_t deadline)
{
	w->st.bad_input++;
	TWS_LOG(tws_timer_logtype, ERR,
		"%s: arm: timer %u deadline %" PRIu64 " is %" PRIu64
		" ticks ahead, beyond the horizon of %" PRIu64,
		w->name, id, deadline, deadline - w->cur, TWS_TIMER_HORIZON);
	return -EINVAL;
}

/*
 * The rare ends of tws_timer_arm(), out of line and called last: inlined, or
 * with anything live after them, they would make every arm save and restore
 * more callee-saved registers (two instructions and two memory accesses each,
 * on a path whose speed is how many calls' misses the core keeps in flight).
 */

/* Push a new wheel record for the id (the counting is done). */
static __rte_noinline int
arm_push(struct tws_timer *w, uint32_t id, uint32_t dl)
{
	slot_push(w, dl & w->mask, id, dl);
	w->owned++;
	return 0;
}

/*
 * Re-arm to an earlier slot with no orphan room left: take the old record at
 * pos out (the top record of its slot fills the hole), then push a new one.
 */
static __rte_noinline int
arm_move(struct tws_timer *w, uint32_t pos, uint32_t id, uint32_t dl)
{
	wheel_remove(w, pos);
	return arm_push(w, id, dl);
}

/*
 * Re-arm of a timer whose record r (at pos) is in the wheel, when the deadline
 * slot's top chunk is full or the orphan room is used up: the counting is done.
 */
static __rte_noinline int
rearm_slow(struct tws_timer *w, struct rec *r, uint32_t pos, uint32_t id, uint32_t dl)
{
	if (!tick_after(r->exp, dl)) {
		*r = (struct rec){ .id = id, .exp = dl };
		return 0;
	}
	if (w->orphans == w->max_orphans)
		return arm_move(w, pos, id, dl);
	wheel_orphan(w, r);
	return arm_push(w, id, dl);
}

int
tws_timer_arm(struct tws_timer *w, uint32_t id, uint64_t deadline)
{
	if (unlikely(id >= w->capacity))
		return bad_id(w, "arm", id);
	/* One compare for both rare cases: a past deadline wraps to a huge distance. */
	if (unlikely(deadline - w->cur > TWS_TIMER_HORIZON)) {
		if (deadline > w->cur)
			return bad_deadline(w, id, deadline);
		deadline = w->cur;
		w->st.clamped++;
	}

	uint32_t p = w->loc[id], dl = (uint32_t)deadline, s = dl & w->mask;
	uint32_t top = w->slots[s].top;
	struct rec *recs = w->recs, *r = NULL; /* rec_at(), the base loaded once */

	/*
	 * Start fetching the line a push to the deadline's slot would write,
	 * before the record's line (a DRAM miss) decides whether there is a
	 * push: the two misses then overlap instead of queueing, and the
	 * store does not hold the store buffer up behind a cold line.
	 */
	if (likely((top & POS_MASK) < CHUNK_RECS))
		rte_prefetch0_write(&recs[top]);

	/* NIL carries FIXED_TAG too: one test says "p may be a wheel position". */
	if (!(p & FIXED_TAG) && (recs[p].id & ~DISARMED) == id)
		r = &recs[p];

	if (likely(r != NULL)) {
		/*
		 * The id has a record in the wheel, pending or disarmed. Counted
		 * first: both outcomes leave one live record for the id. Its slot
		 * comes round no later than r->exp: if that is not after the new
		 * deadline, reuse the record in place (the slot fires or moves it);
		 * else retire it and push a new one.
		 */
		if (likely(r->id == id)) {
			w->st.rearmed++;
		} else {
			w->st.armed++;
			w->pending++;
		}
		if (unlikely(w->orphans == w->max_orphans || (top & POS_MASK) == CHUNK_RECS))
			return rearm_slow(w, r, p, id, dl);

		/*
		 * Both outcomes without a branch: which one it is depends on the
		 * record's line, a DRAM miss, and half the time a branch would be
		 * mispredicted when it arrives, throwing away the work (and the
		 * misses) of the next calls. Later: the record is reused in place
		 * and NIL (what a free position holds) is written at the slot's
		 * top. Earlier: the record becomes an orphan its slot drops (an
		 * orphan's deadline is never read) and the id is pushed.
		 */
		uint32_t push = tick_after(r->exp, dl), m = -push; /* m: all ones for a push */

		/* Masks, not ?: gcc turns those back into the branch. */
		*r = (struct rec){ .id = id | (m & (DISARMED | ORPHAN)), .exp = dl };
		recs[top] = (struct rec){ .id = id | ~m, .exp = dl };
		w->slots[s].top = top + push;
		w->loc[id] = p ^ ((p ^ top) & m);
		w->orphans += push; /* and owned is unchanged: one record out, one in */
		return 0;
	} else {
		bool was_pending = false;

		if (unlikely(w->owned == w->wheel_size)) {
			w->st.wheel_full++; /* only with wheel_size < capacity */
			return -ENOSPC;
		}
		/* From a fixed queue it is re-armed, but new to the wheel's pending count. */
		if (p != NIL && (p & FIXED_TAG))
			was_pending = fixed_remove(w, p, id);
		if (was_pending)
			w->st.rearmed++;
		else
			w->st.armed++;
		w->pending++;
	}
	if (unlikely((top & POS_MASK) == CHUNK_RECS))
		return arm_push(w, id, dl); /* needs a new chunk */
	slot_put(w, s, top, id, dl);
	w->owned++;
	return 0;
}

int
tws_timer_arm_fixed(struct tws_timer *w, uint32_t id, unsigned int qi, uint64_t now)
{
	if (unlikely(id >= w->capacity))
		return bad_id(w, "arm_fixed", id);
	if (unlikely(qi >= w->nb_fixed)) {
		w->st.bad_input++;
		TWS_LOG(tws_timer_logtype, ERR, "%s: arm_fixed: queue %u does not exist (%u queues)",
			w->name, qi, w->nb_fixed);
		return -EINVAL;
	}

	struct fixq *q = &w->fq[qi];

	if (unlikely(q->used == q->size)) {
		w->st.fixed_full++;
		return -ENOSPC;
	}

	uint32_t p = w->loc[id];
	bool was_pending = false;

	if (p != NIL) {
		if (p & FIXED_TAG) {
			was_pending = fixed_remove(w, p, id);
		} else if ((rec_at(w, p)->id & ~DISARMED) == id) {
			was_pending = !(rec_at(w, p)->id & DISARMED);
			wheel_retire(w, p);
		}
	}
	if (was_pending)
		w->st.rearmed++;
	else
		w->st.armed++;

	uint64_t dl = now + q->ticks;

	if (dl < q->last)
		dl = q->last; /* a caller clock going backwards must not break FIFO order */
	q->last = dl;
	q->r[q->head].id = id;
	q->r[q->head].exp = (uint32_t)dl;
	w->loc[id] = FIXED_TAG | (qi << FIXED_Q_SHIFT) | q->head;
	q->head = (q->head + 1 == q->size) ? 0 : q->head + 1;
	q->used++;
	q->live++;
	return 0;
}

int
tws_timer_cancel(struct tws_timer *w, uint32_t id)
{
	if (unlikely(id >= w->capacity))
		return bad_id(w, "cancel", id);

	uint32_t p = w->loc[id];

	if (p == NIL)
		return -ENOENT;
	if (p & FIXED_TAG) {
		if (!fixed_remove(w, p, id))
			return -ENOENT;
		w->loc[id] = NIL;
	} else {
		struct rec *r = rec_at(w, p);

		if (r->id != id)
			return -ENOENT;
		/* Disarm in place: one store; the slot drops it, or the next arm reuses it. */
		r->id = id | DISARMED;
		w->pending--;
	}
	w->st.cancelled++;
	return 0;
}

/*
 * Burst pipeline: loc[] of the timer PF_AHEAD*2 places ahead is prefetched,
 * then, once it has arrived, the record it points to for the timer PF_AHEAD
 * places ahead. Only hints: an id twice in a burst still sees the effect of
 * its first occurrence.
 */
#define PF_AHEAD 8u

static inline void
prefetch_loc(const struct tws_timer *w, const uint32_t *ids, unsigned int i, unsigned int n)
{
	if (i < n && ids[i] < w->capacity)
		rte_prefetch0(&w->loc[ids[i]]);
}

static inline void
prefetch_rec(const struct tws_timer *w, const uint32_t *ids, unsigned int i, unsigned int n)
{
	if (i >= n || ids[i] >= w->capacity)
		return;

	uint32_t p = w->loc[ids[i]];

	if (p == NIL)
		return;
	if (p & FIXED_TAG)
		rte_prefetch0(&w->fq[(p >> FIXED_Q_SHIFT) & 3].r[p & FIXED_IDX_MASK]);
	else
		rte_prefetch0(rec_at(w, p));
}

/* Start the pipeline for the first timers of a burst. */
static inline void
pipeline_start(const struct tws_timer *w, const uint32_t *ids, unsigned int n)
{
	for (unsigned int i = 0; i < 2 * PF_AHEAD; i++)
		prefetch_loc(w, ids, i, n);
	for (unsigned int i = 0; i < PF_AHEAD; i++)
		prefetch_rec(w, ids, i, n);
}

/* Keep the pipeline PF_AHEAD (records) and 2 * PF_AHEAD (loc[]) timers ahead of i. */
static inline void
pipeline_step(const struct tws_timer *w, const uint32_t *ids, unsigned int i, unsigned int n)
{
	prefetch_loc(w, ids, i + 2 * PF_AHEAD, n);
	prefetch_rec(w, ids, i + PF_AHEAD, n);
}

unsigned int
tws_timer_arm_burst(struct tws_timer *w, const uint32_t *ids, const uint64_t *deadlines,
		    unsigned int n)
{
	unsigned int ok = 0;

	pipeline_start(w, ids, n);
	for (unsigned int i = 0; i < n; i++) {
		pipeline_step(w, ids, i, n);
		ok += tws_timer_arm(w, ids[i], deadlines[i]) == 0;
	}
	return ok;
}

unsigned int
tws_timer_cancel_burst(struct tws_timer *w, const uint32_t *ids, unsigned int n)
{
	unsigned int ok = 0;

	pipeline_start(w, ids, n);
	for (unsigned int i = 0; i < n; i++) {
		pipeline_step(w, ids, i, n);
		ok += tws_timer_cancel(w, ids[i]) == 0;
	}
	return ok;
}

int
tws_timer_is_pending(const struct tws_timer *w, uint32_t id)
{
	if (id >= w->capacity)
		return 0;

	uint32_t p = w->loc[id];

	if (p == NIL)
		return 0;
	if (p & FIXED_TAG)
		return w->fq[(p >> FIXED_Q_SHIFT) & 3].r[p & FIXED_IDX_MASK].id == id;
	return rec_at(w, p)->id == id;
}

static void
drain_remote(struct tws_timer *w)
{
	struct cmd cmds[CMD_BURST];
	unsigned int n, budget = rte_ring_get_capacity(w->ring);

	/* Bounded: commands enqueued while we drain wait for the next poll. */
	while (budget > 0 &&
	       (n = rte_ring_sc_dequeue_burst_elem(w->ring, cmds, sizeof(cmds[0]),
						   RTE_MIN(budget, CMD_BURST), NULL)) > 0) {
		budget -= n;
		for (unsigned int i = 0; i < n; i++) {
			int rc;

			if (cmds[i].op == CMD_ARM)
				rc = tws_timer_arm(w, cmds[i].id, cmds[i].deadline);
			else
				rc = tws_timer_cancel(w, cmds[i].id);
			if (rc == -EINVAL)
				w->st.remote_bad++;
			w->st.remote_applied++;
		}
	}
}

/*
 * The queue's state lives in locals: ids is a uint32_t array and could alias
 * q's fields, so the compiler would reload and store them for every timer.
 * A tombstone (a cancelled timer) is stepped over without a branch: they sit
 * at random places, and a mispredicted branch costs more than the store.
 * Not inlined: inlined into tws_timer_expire(), gcc 12 makes a loop that
 * runs at half the speed (15 against 8 cycles per timer at 4M here).
 */
static __rte_noinline unsigned int
fixed_expire(struct fixq *q, uint32_t now, uint32_t *ids, unsigned int max)
{
	struct rec *r = q->r;
	uint32_t tail = q->tail, used = q->used, size = q->size;
	unsigned int n = 0;

	while (used > 0) {
		uint32_t id = r[tail].id;
		unsigned int live = id != NIL;

		if (live & (tick_after(r[tail].exp, now) | (n == max)))
			break;
		ids[n] = id;
		n += live;
		r[tail].id = NIL;
		tail = (tail + 1 == size) ? 0 : tail + 1;
		used--;
	}
	q->tail = tail;
	q->used = used;
	q->live -= n;
	return n;
}

unsigned int
tws_timer_expire(struct tws_timer *w, uint64_t now, uint32_t *ids, unsigned int max)
{
	unsigned int n = 0;

	if (rte_ring_count(w->ring) != 0)
		drain_remote(w);

	for (unsigned int q = 0; q < w->nb_fixed && n < max; q++)
		n += fixed_expire(&w->fq[q], (uint32_t)now, ids + n, max - n);

	while (w->cur <= now) {
		uint32_t s = (uint32_t)w->cur & w->mask;
		struct slot *sl = &w->slots[s];
		uint32_t t = (uint32_t)w->cur, seen = NIL, top;

		if (sl->top == EMPTY_TOP) {
			uint64_t d = next_busy(w);

			if (d > w->mask || d > now - w->cur) {
				/* No slot to visit until now. */
				w->cur = now + 1;
				break;
			}
			w->cur += d;
			continue;
		}
		while ((top = sl->top) != EMPTY_TOP) {
			uint32_t h = top >> POS_SHIFT, k = top & POS_MASK;
			uint32_t due = 0, dropped = 0, orphans = 0;
			struct chunk *c = &w->ch[h];

			if (h != seen) {
				/* A chunk is consumed faster than DRAM answers: stay 3 ahead. */
				if (seen == NIL) {
					prefetch_chunk(w, c->next);
					prefetch_chunk(w, c->next2);
				}
				seen = h;
				prefetch_chunk(w, c->next3);
			}
			/*
			 * Pop the chunk's records from the top while they are due or
			 * disarmed (cancelled and not re-armed, or orphans); a record
			 * to move ends the run. The counts live in locals: ids could
			 * alias the wheel's fields, so the compiler would reload and
			 * store them for every timer.
			 */
			while (k > 0) {
				struct rec *r = &c->r[k - 1];
				uint32_t id = r->id;

				if (id & DISARMED) {
					orphans += (id & ORPHAN) != 0;
					dropped++;
				} else if (!tick_after(r->exp, t) && n < max) {
					ids[n++] = id;
					due++;
				} else {
					break;
				}
				r->id = NIL;
				k--;
			}
			w->orphans -= orphans;
			w->owned -= dropped - orphans + due;
			w->pending -= due;
			if (k == 0) {
				slot_drop_top(w, s, h);
				continue;
			}
			sl->top = h << POS_SHIFT | k;
			if (!tick_after(c->r[k - 1].exp, t)) {
				goto out; /* n == max: resume this slot at the next call */
			} else {
				/* Re-armed later, or more than one revolution ahead. */
				struct rec r = slot_pop(w, s);
				uint32_t d = r.exp & w->mask;

				slot_push(w, d == s ? w->side : d, r.id, r.exp);
				w->st.moved++;
			}
		}
		w->cur++;
		/* Records parked on the side stack belong to a later revolution of s. */
		while (w->slots[w->side].top != EMPTY_TOP) {
			struct rec r = slot_pop(w, w->side);

			if (r.id & DISARMED) { /* cancelled while expiry was paused */
				if (r.id & ORPHAN)
					w->orphans--;
				else
					w->owned--;
				continue;
			}
			slot_push(w, r.exp & w->mask, r.id, r.exp);
		}
	}
out:
	w->st.expired += n;
	return n;
}

static int
remote_send(struct tws_timer *w, uint32_t op, uint32_t id, uint64_t deadline)
{
	struct cmd c = { .op = op, .id = id, .deadline = deadline };

	if (unlikely(id >= w->capacity)) {
		TWS_LOG(tws_timer_logtype, ERR, "%s: remote command: timer id %u out of range (capacity %u)",
			w->name, id, w->capacity);
		return -EINVAL;
	}
	if (rte_ring_mp_enqueue_elem(w->ring, &c, sizeof(c)) != 0) {
		__atomic_fetch_add(&w->remote_full, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	__atomic_fetch_add(&w->remote_sent, 1, __ATOMIC_RELAXED);
	return 0;
}

int
tws_timer_arm_remote(struct tws_timer *w, uint32_t id, uint64_t deadline)
{
	return remote_send(w, CMD_ARM, id, deadline);
}

int
tws_timer_cancel_remote(struct tws_timer *w, uint32_t id)
{
	return remote_send(w, CMD_CANCEL, id, 0);
}

uint64_t
tws_timer_current(const struct tws_timer *w)
{
	return w->cur;
}

uint64_t
tws_timer_ns_to_ticks(const struct tws_timer *w, uint64_t ns)
{
	return (ns + w->tick_ns - 1) / w->tick_ns;
}

void
tws_timer_stats_get(const struct tws_timer *w, struct tws_timer_stats *st)
{
	*st = w->st;
	st->remote_sent = __atomic_load_n(&w->remote_sent, __ATOMIC_RELAXED);
	st->remote_full = __atomic_load_n(&w->remote_full, __ATOMIC_RELAXED);
	st->pending = w->pending;
	st->wheel_records = w->owned + w->orphans;
	for (unsigned int q = 0; q < w->nb_fixed; q++)
		st->pending += w->fq[q].live;
	st->memory_bytes = w->mem;
}

int
tws_timer_stat_name(unsigned int i, const char **name, const char **desc)
{
	static const char *const names[] = {
#define TWS_X_NAME(n, d) #n,
		TWS_TIMER_STATS(TWS_X_NAME)
#undef TWS_X_NAME
	};
	static const char *const descs[] = {
#define TWS_X_DESC(n, d) d,
		TWS_TIMER_STATS(TWS_X_DESC)
#undef TWS_X_DESC
	};

	return tws_stat_lookup(names, descs, RTE_DIM(names), i, name, desc);
}

/* Validate params and fill in defaults; logs the first bad field. */
static int
params_resolve(const struct tws_timer_params *in, struct tws_timer_params *p)
{
	if (in == NULL) {
		TWS_LOG(tws_timer_logtype, ERR, "timer: NULL parameters");
		return -EINVAL;
	}
	*p = *in;
	if (p->name == NULL)
		p->name = "tws_timer";
	if (p->nb_slots == 0)
		p->nb_slots = TWS_TIMER_DEFAULT_SLOTS;
	if (p->tick_ns == 0)
		p->tick_ns = TWS_TIMER_DEFAULT_TICK_NS;
	if (p->wheel_size == 0 || p->wheel_size > p->capacity)
		p->wheel_size = p->capacity;
	if (p->orphan_room == 0)
		p->orphan_room = p->wheel_size / 8;
	if (p->orphan_room > p->wheel_size) {
		TWS_LOG(tws_timer_logtype, ERR, "%s: orphan_room %u above wheel_size %u",
			p->name, p->orphan_room, p->wheel_size);
		return -EINVAL;
	}
	if (p->remote_ring_size == 0)
		p->remote_ring_size = TWS_TIMER_DEFAULT_REMOTE_RING;

	if (p->capacity == 0 || p->capacity > TWS_TIMER_MAX_CAPACITY) {
		TWS_LOG(tws_timer_logtype, ERR, "%s: capacity %u out of range 1..%u",
			p->name, p->capacity, TWS_TIMER_MAX_CAPACITY);
		return -EINVAL;
	}
	if (!rte_is_power_of_2(p->nb_slots) || p->nb_slots < MIN_SLOTS ||
	    p->nb_slots > MAX_SLOTS) {
		TWS_LOG(tws_timer_logtype, ERR, "%s: nb_slots %u must be a power of two in %u..%u",
			p->name, p->nb_slots, MIN_SLOTS, MAX_SLOTS);
		return -EINVAL;
	}
	if (p->tick_ns < TWS_TIMER_MIN_TICK_NS) {
		TWS_LOG(tws_timer_logtype, ERR,
			"%s: tick_ns %" PRIu64 " below %" PRIu64 " (the horizon would be under 24 h)",
			p->name, p->tick_ns, TWS_TIMER_MIN_TICK_NS);
		return -EINVAL;
	}
	if (p->remote_ring_size > MAX_REMOTE_RING) {
		TWS_LOG(tws_timer_logtype, ERR, "%s: remote_ring_size %u above %u",
			p->name, p->remote_ring_size, MAX_REMOTE_RING);
		return -EINVAL;
	}
	if (p->nb_fixed > TWS_TIMER_MAX_FIXED) {
		TWS_LOG(tws_timer_logtype, ERR, "%s: nb_fixed %u above %u",
			p->name, p->nb_fixed, TWS_TIMER_MAX_FIXED);
		return -EINVAL;
	}
	for (unsigned int q = 0; q < p->nb_fixed; q++) {
		if (p->fixed_ticks[q] == 0 || p->fixed_ticks[q] > TWS_TIMER_HORIZON) {
			TWS_LOG(tws_timer_logtype, ERR,
				"%s: fixed_ticks[%u] = %u out of range 1..%" PRIu64,
				p->name, q, p->fixed_ticks[q], TWS_TIMER_HORIZON);
			return -EINVAL;
		}
		if (p->fixed_size[q] == 0)
			p->fixed_size[q] = (uint32_t)RTE_MIN((uint64_t)p->capacity + p->capacity / 8,
							     (uint64_t)FIXED_IDX_MASK);
		if (p->fixed_size[q] > FIXED_IDX_MASK) {
			TWS_LOG(tws_timer_logtype, ERR, "%s: fixed_size[%u] = %u above %u",
				p->name, q, p->fixed_size[q], FIXED_IDX_MASK);
			return -EINVAL;
		}
	}
	return 0;
}

/* Records set aside for orphans: at least one chunk. */
static uint32_t
orphan_room(const struct tws_timer_params *p)
{
	return RTE_MAX(p->orphan_room, CHUNK_RECS);
}

static uint32_t
pool_chunks(const struct tws_timer_params *p)
{
	/* Full chunks for every id, plus one partial top chunk per stack (slots + side). */
	return (p->wheel_size + orphan_room(p) + CHUNK_RECS - 1) / CHUNK_RECS + p->nb_slots + 1;
}

static size_t
memory_size(const struct tws_timer_params *p)
{
	size_t sz = sizeof(struct tws_timer);

	sz += (size_t)p->capacity * sizeof(uint32_t);
	sz += (size_t)pool_chunks(p) * sizeof(struct chunk);
	sz += (size_t)(p->nb_slots + 1) * sizeof(struct slot);
	sz += (size_t)p->nb_slots / 8;
	for (unsigned int q = 0; q < p->nb_fixed; q++)
		sz += (size_t)p->fixed_size[q] * sizeof(struct rec);
	sz += rte_ring_get_memsize_elem(sizeof(struct cmd), rte_align32pow2(p->remote_ring_size + 1));
	return sz;
}

size_t
tws_timer_memory_size(const struct tws_timer_params *params)
{
	struct tws_timer_params p;

	if (params_resolve(params, &p) != 0)
		return 0;
	return memory_size(&p);
}

struct tws_timer *
tws_timer_create(const struct tws_timer_params *params)
{
	static uint32_t ring_seq;
	struct tws_timer_params p;
	struct tws_timer *w;
	char rname[RTE_RING_NAMESIZE];
	int rc;

	rc = params_resolve(params, &p);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}

	w = rte_zmalloc_socket(p.name, sizeof(*w), RTE_CACHE_LINE_SIZE, p.socket_id);
	if (w == NULL)
		goto nomem;
	snprintf(w->name, sizeof(w->name), "%s", p.name);
	w->capacity = p.capacity;
	w->wheel_size = p.wheel_size;
	w->max_orphans = orphan_room(&p);
	w->mask = p.nb_slots - 1;
	w->side = p.nb_slots;
	w->cur = p.start_tick;
	w->tick_ns = p.tick_ns;
	w->nb_chunks = pool_chunks(&p);
	w->nb_fixed = p.nb_fixed;
	w->mem = memory_size(&p);

	w->loc = tws_mem_alloc(p.name, (size_t)p.capacity * sizeof(uint32_t), p.socket_id);
	w->ch = tws_mem_alloc(p.name, (size_t)w->nb_chunks * sizeof(struct chunk), p.socket_id);
	w->slots = tws_mem_alloc(p.name, (size_t)(p.nb_slots + 1) * sizeof(struct slot), p.socket_id);
	w->occ = tws_mem_alloc(p.name, p.nb_slots / 8, p.socket_id);
	if (w->loc == NULL || w->ch == NULL || w->slots == NULL || w->occ == NULL)
		goto nomem;
	w->recs = (struct rec *)((char *)w->ch + offsetof(struct chunk, r));

	/* Invariant: every position without a record holds id NIL. */
	memset(w->loc, 0xff, (size_t)p.capacity * sizeof(uint32_t));
	memset(w->ch, 0xff, (size_t)w->nb_chunks * sizeof(struct chunk));
	for (uint32_t i = 0; i < w->nb_chunks; i++)
		w->ch[i].next = (i + 1 < w->nb_chunks) ? i + 1 : NIL;
	w->free_head = 0;
	for (uint32_t s = 0; s <= p.nb_slots; s++)
		w->slots[s].top = EMPTY_TOP;

	for (unsigned int q = 0; q < p.nb_fixed; q++) {
		struct fixq *fq = &w->fq[q];

		fq->size = p.fixed_size[q];
		fq->ticks = p.fixed_ticks[q];
		fq->last = 0;
		fq->r = tws_mem_alloc(p.name, (size_t)fq->size * sizeof(struct rec), p.socket_id);
		if (fq->r == NULL)
			goto nomem;
		memset(fq->r, 0xff, (size_t)fq->size * sizeof(struct rec));
	}

	snprintf(rname, sizeof(rname), "tws_tmr_%u",
		 __atomic_fetch_add(&ring_seq, 1, __ATOMIC_RELAXED));
	w->ring = rte_ring_create_elem(rname, sizeof(struct cmd), p.remote_ring_size, p.socket_id,
				       RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (w->ring == NULL) {
		TWS_LOG(tws_timer_logtype, ERR, "%s: cannot create remote ring: %s",
			p.name, rte_strerror(rte_errno));
		tws_timer_free(w);
		rte_errno = ENOMEM;
		return NULL;
	}
	return w;

nomem:
	TWS_LOG(tws_timer_logtype, ERR, "%s: cannot allocate %zu bytes of DPDK memory on socket %d",
		p.name, memory_size(&p), p.socket_id);
	tws_timer_free(w);
	rte_errno = ENOMEM;
	return NULL;
}

void
tws_timer_free(struct tws_timer *w)
{
	if (w == NULL)
		return;
	rte_ring_free(w->ring);
	for (unsigned int q = 0; q < TWS_TIMER_MAX_FIXED; q++)
		tws_mem_free(w->fq[q].r);
	tws_mem_free(w->occ);
	tws_mem_free(w->slots);
	tws_mem_free(w->ch);
	tws_mem_free(w->loc);
	rte_free(w);
}
