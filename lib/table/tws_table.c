/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection table: index of 64-byte buckets, pool of control blocks,
 * TIME_WAIT log. See include/tws_table.h and docs/architecture.md.
 *
 * Index. Open addressing over buckets of 10 slots; a key lives in its home
 * bucket or up to PROBE-1 buckets after it. Slot tag: bits 0-10 signature
 * (never 0: tag 0 is an empty slot), bits 11-15 displacement from home. A
 * bucket's ovf counts the keys homed there but stored further on, so a
 * lookup miss stops after one cache line whenever ovf is 0. Entries never
 * move, so a connection remembers its slot and is deleted without hashing.
 *
 * TIME_WAIT log. A ring of 32-byte records in creation order; every entry
 * has the same timeout, so creation order is expiry order and expiry just
 * advances the tail. The index slot of an entry holds its ring position;
 * when the tail passes the position the slot is stale: lookups ignore it,
 * inserts reuse it, and a small sweep in tws_table_expire() clears it. So
 * expiry never touches the index (a random cache line per entry).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_vect.h>

#include "tws_log.h"
#include "tws_mem.h"
#include "tws_table.h"
#include "tws_util.h"

RTE_LOG_REGISTER(tws_table_logtype, twstack.table, NOTICE);

#define BKT_SLOTS 10u
#define PROBE 32u             /* home bucket + 31 */
#define SIG_MASK 0x07ffu
#define DISP_SHIFT 11u
#define VAL_TW UINT32_C(0x80000000)
#define NIL UINT32_MAX
#define FREE_NONE UINT64_MAX /* index_find found no free slot */
#define MAX_CONNS (UINT32_C(1) << 28)
#define MAX_TW (UINT32_C(1) << 30)
#define MAX_CONN_SIZE 4096u
#define LOAD_NUM 3u           /* index sized for a load factor of 3/5 */
#define LOAD_DEN 5u
#define SWEEP_PER_CALL 1u     /* buckets the expiry sweep visits per call, at least */
#define MAX_BUCKETS ((UINT32_C(1) << 27) - 1) /* slot references, bucket << 4 | slot, stay below NIL */

struct bucket {
	uint16_t tag[BKT_SLOTS];
	uint32_t val[BKT_SLOTS];
	uint16_t ovf;         /* keys homed here, stored in a later bucket (<= 310) */
	uint16_t pad;
};

/* Table-owned trailer of each control block. */
struct conn_hdr {
	struct tws_tuple key;
	uint32_t slot;        /* bucket * 16 + slot index; NIL when the block is free */
};

static_assert(sizeof(struct bucket) == 64, "a bucket is one cache line");
static_assert(sizeof(struct tws_tuple) == 12, "IPv4 key is 12 bytes");
static_assert(sizeof(struct tws_tw_entry) == 32, "a TIME_WAIT record is 32 bytes");
static_assert(sizeof(struct conn_hdr) == 16, "connection trailer is 16 bytes");

struct tws_table {
	/* Hot. */
	struct bucket *bkt;
	uint32_t nb_bkt;
	uint64_t coef[4];     /* multilinear hash coefficients */
	uint8_t *conns;       /* pool of control blocks */
	uint32_t blk;         /* bytes per block: caller area, then conn_hdr */
	uint32_t hdr_off;
	uint32_t max_conns;
	uint32_t nb_free;
	uint32_t *free_idx;   /* stack of free block indexes */
	struct tws_tw_entry *log;
	uint32_t log_size;
	uint32_t head, tail, used; /* ring positions; used includes dead records */
	uint32_t tw_live;
	uint32_t max_tw;
	uint32_t tw_timeout;
	uint32_t oow_unit;    /* ticks per unit of tws_tw_entry.oow_age */
	uint64_t last_expire; /* keeps the log in expiry order if the clock steps back */
	uint32_t sweep;       /* next bucket of the stale-slot sweep */
	uint32_t sweep_left;  /* buckets still to sweep since the last expiry (0: none stale) */
	struct tws_table_stats st;

	/* Cold. */
	size_t mem, index_mem, log_mem;
	char name[32];
};

/* Multilinear hash (universal) with secret random coefficients, then mixed. */
static inline uint64_t
key_hash(const struct tws_table *t, const struct tws_tuple *k)
{
	uint32_t w[3];

	memcpy(w, k, sizeof(w));
	return tws_mix64(t->coef[0] + t->coef[1] * w[0] + t->coef[2] * w[1] + t->coef[3] * w[2]);
}

static inline uint32_t
hash_home(const struct tws_table *t, uint64_t h)
{
	return (uint32_t)(((h >> 32) * (uint64_t)t->nb_bkt) >> 32);
}

static inline uint16_t
hash_sig(uint64_t h)
{
	uint16_t s = (uint16_t)((h >> 32) & SIG_MASK); /* bits the bucket index barely uses */

	return s == 0 ? 1 : s;
}

static inline uint32_t
bkt_add(const struct tws_table *t, uint32_t b, uint32_t d)
{
	b += d;
	return b >= t->nb_bkt ? b - t->nb_bkt : b;
}

static inline bool
key_eq(const struct tws_tuple *a, const struct tws_tuple *b)
{
	uint64_t a0, b0;
	uint32_t a1, b1;

	/* One branch for the 12 bytes, where field by field takes up to four. */
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, (const char *)a + 8, 4);
	memcpy(&b1, (const char *)b + 8, 4);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static inline struct conn_hdr *
conn_hdr_of(const struct tws_table *t, uint32_t idx)
{
	return (struct conn_hdr *)(t->conns + (size_t)idx * t->blk + t->hdr_off);
}

static inline void *
conn_of(const struct tws_table *t, uint32_t idx)
{
	return t->conns + (size_t)idx * t->blk;
}

/* Is ring position p a record between tail and head? */
static inline bool
log_live_pos(const struct tws_table *t, uint32_t p)
{
	uint32_t d = p >= t->tail ? p - t->tail : p + t->log_size - t->tail;

	return d < t->used;
}

/*
 * A TIME_WAIT slot whose record the tail has passed. Decided from the
 * position alone, without reading the record: no slot ever points at a dead
 * record inside the window (removal clears the slot, restart re-points it).
 */
static inline bool
slot_stale(const struct tws_table *t, uint32_t val)
{
	return (val & VAL_TW) && !log_live_pos(t, val & ~VAL_TW);
}

static inline void
slot_clear(struct tws_table *t, uint32_t b, unsigned int s)
{
	struct bucket *bk = &t->bkt[b];
	uint32_t d = bk->tag[s] >> DISP_SHIFT;

	if (d != 0) {
		uint32_t home = b >= d ? b - d : b + t->nb_bkt - d;

		t->bkt[home].ovf--;
	}
	bk->tag[s] = 0;
	bk->val[s] = 0;
}

/*
 * Find key. Returns the slot (bucket << 4 | index) or NIL. With free != NULL
 * also reports the first free or stale slot of the probe window, reclaiming
 * stale slots it passes.
 */
static uint32_t
index_find(struct tws_table *t, const struct tws_tuple *key, uint64_t h, uint64_t *free)
{
	uint32_t home = hash_home(t, h);
	uint16_t sig = hash_sig(h);

	uint32_t displaced = 0; /* keys of this home seen in later buckets */

	if (free != NULL)
		*free = FREE_NONE;
	for (uint32_t d = 0; d < PROBE; d++) {
		uint32_t b = bkt_add(t, home, d);
		struct bucket *bk = &t->bkt[b];
		uint16_t want = sig | (uint16_t)(d << DISP_SHIFT);

		for (unsigned int s = 0; s < BKT_SLOTS; s++) {
			uint16_t tag = bk->tag[s];

			if (tag == want) {
				uint32_t v = bk->val[s];

				if (v & VAL_TW) {
					if (slot_stale(t, v)) {
						slot_clear(t, b, s);
						t->st.stale_reclaimed++;
						tag = 0;
					} else if (key_eq(&t->log[v & ~VAL_TW].key, key)) {
						return b << 4 | s;
					}
				} else if (key_eq(&conn_hdr_of(t, v)->key, key)) {
					return b << 4 | s;
				}
			}
			if (free != NULL && *free == FREE_NONE) {
				if (tag != 0 && slot_stale(t, bk->val[s])) {
					slot_clear(t, b, s);
					t->st.stale_reclaimed++;
					tag = 0;
				}
				if (tag == 0)
					*free = (uint64_t)d << 32 | (b << 4 | s);
			}
			/* Counted after any reclaim above, which also lowered ovf. */
			if (d != 0 && bk->tag[s] != 0 && (uint32_t)(bk->tag[s] >> DISP_SHIFT) == d)
				displaced++;
		}
		/* Every key homed here that went further has been seen: not in a later bucket. */
		if (displaced >= t->bkt[home].ovf && (free == NULL || *free != FREE_NONE))
			break;
	}
	return NIL;
}

/* Fill the free slot found by index_find (which carries its displacement). */
static inline uint32_t
index_put(struct tws_table *t, uint64_t free, uint64_t h, uint32_t val)
{
	uint32_t d = (uint32_t)(free >> 32), b = ((uint32_t)free) >> 4, s = free & 15;

	t->bkt[b].tag[s] = hash_sig(h) | (uint16_t)(d << DISP_SHIFT);
	t->bkt[b].val[s] = val;
	if (d != 0)
		t->bkt[hash_home(t, h)].ovf++;
	return b << 4 | s;
}

/* The hit a slot value names: a TIME_WAIT record or a connection. */
static inline void
fill_hit(const struct tws_table *t, uint32_t v, struct tws_table_hit *hit)
{
	if (v & VAL_TW) {
		hit->kind = TWS_TABLE_TW;
		hit->tw = &t->log[v & ~VAL_TW];
	} else {
		hit->kind = TWS_TABLE_CONN;
		hit->conn = conn_of(t, v);
	}
}

enum tws_table_kind
tws_table_lookup(struct tws_table *t, const void *key, struct tws_table_hit *hit)
{
	uint32_t slot = index_find(t, key, key_hash(t, key), NULL);

	if (slot == NIL) {
		hit->kind = TWS_TABLE_MISS;
		hit->conn = NULL;
	} else {
		fill_hit(t, t->bkt[slot >> 4].val[slot & 15], hit);
	}
	return hit->kind;
}

/*
 * Stages over the burst, as rte_hash_lookup_bulk: hash every key and
 * prefetch its home bucket; find the signature in the home bucket and
 * prefetch the record to compare (or, when the key is not there and the
 * bucket overflowed, prefetch the next bucket and look there); compare.
 * Keys displaced further, or whose signature matched a record that was not
 * theirs, take the single-key path (the lines are cached by then).
 *
 * The burst's buckets and records are prefetched into L2 (prefetcht1), not
 * L1: a core keeps only so many L1 misses in flight (24 on Zen 4, one per
 * ~600-cycle DRAM round trip: ~25 cycles a line at best), and a burst wants
 * 32 buckets plus 32 records, plus the next burst's buckets, in flight at
 * once. L2 tracks more, and its hits are ~15 cycles. Measured at 10M
 * entries (tws-bench table): hit 75-85 -> 50-58 cycles, miss 46-54 -> 37-40.
 */
#define CAND_MISS (NIL - 1) /* certainly absent */
#define CAND_NEXT (NIL - 2) /* not found yet, keys of its home lie further on */

/*
 * Slots of bucket bk whose tag, masked with mask, equals want: bit 2s set
 * for slot s (TAG_SLOT() turns a bit back into its slot). Two overlapping
 * 16-byte loads cover the ten tags: no branch, no scalar tail.
 */
#define TAG_SLOT(bits) ((unsigned int)__builtin_ctz(bits) >> 1)

static inline uint32_t
tag_bits(const struct bucket *bk, uint16_t want, uint16_t mask)
{
#if defined(RTE_ARCH_X86)
	__m128i w = _mm_set1_epi16((short)want), m = _mm_set1_epi16((short)mask);
	__m128i lo = _mm_and_si128(_mm_loadu_si128((const __m128i *)bk->tag), m);
	__m128i hi = _mm_and_si128(_mm_loadu_si128((const __m128i *)&bk->tag[2]), m);

	return ((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(lo, w)) |
		(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(hi, w)) << 4) & UINT32_C(0x55555);
#else
	uint32_t bits = 0;

	for (unsigned int s = 0; s < BKT_SLOTS; s++)
		bits |= (uint32_t)((bk->tag[s] & mask) == want) << (2 * s);
	return bits;
#endif
}

/* Where the full key of slot value v lies (TIME_WAIT record or connection trailer). */
static inline const struct tws_tuple *
val_key(const struct tws_table *t, uint32_t v)
{
	return (v & VAL_TW) ? &t->log[v & ~VAL_TW].key : &conn_hdr_of(t, v)->key;
}

/* First slot of bucket bk tagged want: its value, with its key's line prefetched; else NIL. */
static inline uint32_t
bucket_match(const struct tws_table *t, const struct bucket *bk, uint16_t want)
{
	uint32_t bits = tag_bits(bk, want, 0xffff);

	if (bits == 0)
		return NIL;

	uint32_t v = bk->val[TAG_SLOT(bits)];

	rte_prefetch1(val_key(t, v));
	return v;
}

/*
 * The burst lookup from the keys' hashes (key_hash()): stage 1 prefetches
 * the home buckets, stage 2 matches the signatures there and prefetches the
 * lines holding the candidates' full keys, stage 3 compares.
 */
static inline unsigned int
lookup_hashed(struct tws_table *t, const void *const *keys, const uint64_t *h, unsigned int n,
	      struct tws_table_hit *hits)
{
	uint32_t cand[TWS_TABLE_BURST_MAX], home[TWS_TABLE_BURST_MAX];
	uint16_t seen[TWS_TABLE_BURST_MAX]; /* keys of the home met in later buckets */
	const struct bucket *bkt = t->bkt;
	unsigned int found = 0, pending = 0;

	for (unsigned int i = 0; i < n; i++) {
		home[i] = hash_home(t, h[i]);
		rte_prefetch1(&bkt[home[i]]);
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct bucket *bk = &bkt[home[i]];

		cand[i] = bucket_match(t, bk, hash_sig(h[i]));
		if (unlikely(cand[i] == NIL)) {
			seen[i] = 0;
			if (bk->ovf == 0) {
				cand[i] = CAND_MISS;
			} else {
				cand[i] = CAND_NEXT; /* displaced, or absent: look further */
				rte_prefetch0(&bkt[bkt_add(t, home[i], 1)]);
				pending++;
			}
		}
	}
	/* One bucket further per round, all unresolved keys at once. */
	for (uint32_t d = 1; d < PROBE && pending > 0; d++) {
		for (unsigned int i = 0; i < n; i++) {
			if (cand[i] != CAND_NEXT)
				continue;

			const struct bucket *bk = &t->bkt[bkt_add(t, home[i], d)];
			unsigned int here;

			cand[i] = bucket_match(t, bk, hash_sig(h[i]) | (uint16_t)(d << DISP_SHIFT));
			if (cand[i] != NIL) {
				pending--;
				continue;
			}
			here = (unsigned int)__builtin_popcount(
				tag_bits(bk, (uint16_t)(d << DISP_SHIFT), (uint16_t)~SIG_MASK));
			seen[i] = (uint16_t)(seen[i] + here);
			if (seen[i] >= t->bkt[home[i]].ovf) {
				cand[i] = CAND_MISS;
				pending--;
			} else {
				cand[i] = CAND_NEXT;
				rte_prefetch0(&t->bkt[bkt_add(t, home[i], d + 1)]);
			}
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct tws_tuple *k = keys[i];
		uint32_t v = cand[i];

		if (v == CAND_MISS) {
			hits[i].kind = TWS_TABLE_MISS;
			hits[i].conn = NULL;
			continue;
		}
		if (likely(v < CAND_NEXT) && key_eq(val_key(t, v), k) && !slot_stale(t, v)) {
			fill_hit(t, v, &hits[i]);
			found++;
			continue;
		}
		/* A signature that matched another key's record: the careful path. */
		found += tws_table_lookup(t, k, &hits[i]) != TWS_TABLE_MISS;
	}
	return found;
}

/* Hash n keys; keys' coefficients in registers (the keys may alias nothing of t's). */
static inline void
hash_burst(const struct tws_table *t, const void *const *keys, unsigned int n, uint64_t *h)
{
	const uint64_t c0 = t->coef[0], c1 = t->coef[1], c2 = t->coef[2], c3 = t->coef[3];

	for (unsigned int i = 0; i < n; i++) {
		uint32_t w[3];

		memcpy(w, keys[i], sizeof(w));
		h[i] = tws_mix64(c0 + c1 * w[0] + c2 * w[1] + c3 * w[2]);
	}
}

unsigned int
tws_table_lookup_burst(struct tws_table *t, const void *const *keys, unsigned int n,
		       struct tws_table_hit *hits)
{
	uint64_t h[TWS_TABLE_BURST_MAX];

	if (n > TWS_TABLE_BURST_MAX)
		n = TWS_TABLE_BURST_MAX;
	hash_burst(t, keys, n, h);
	return lookup_hashed(t, keys, h, n, hits);
}

void
tws_table_prefetch_burst(const struct tws_table *t, const void *const *keys, unsigned int n,
			 uint64_t *hashes)
{
	if (n > TWS_TABLE_BURST_MAX)
		n = TWS_TABLE_BURST_MAX;
	hash_burst(t, keys, n, hashes);
	for (unsigned int i = 0; i < n; i++)
		rte_prefetch1(&t->bkt[hash_home(t, hashes[i])]);
}

unsigned int
tws_table_lookup_burst_hashed(struct tws_table *t, const void *const *keys,
			      const uint64_t *hashes, unsigned int n, struct tws_table_hit *hits)
{
	if (n > TWS_TABLE_BURST_MAX)
		n = TWS_TABLE_BURST_MAX;
	return lookup_hashed(t, keys, hashes, n, hits);
}

void
tws_table_prefetch(const struct tws_table *t, const void *key)
{
	uint32_t home = hash_home(t, key_hash(t, key));

	/*
	 * The home bucket only: the next one is read only when the home has
	 * overflowed (a few percent of buckets at the table's load factor), and
	 * fetching it always would double the DRAM lines an insert moves.
	 */
	rte_prefetch0(&t->bkt[home]);
}

/*
 * Insert lookup in the home bucket alone, the common case: when no key of
 * this home went further (ovf == 0), the key can only sit here under its
 * signature, and a free slot here takes it. Returns 1 when it decided (0, or
 * -EEXIST with *free untouched), 0 when the full probe must decide.
 */
static inline int
insert_home(struct tws_table *t, const struct tws_tuple *key, uint64_t h, uint64_t *free,
	    int *rc)
{
	uint32_t b = hash_home(t, h);
	struct bucket *bk = &t->bkt[b];

	if (bk->ovf != 0)
		return 0;
	for (uint32_t m = tag_bits(bk, hash_sig(h), 0xffff); m != 0; m &= m - 1) {
		unsigned int s = TAG_SLOT(m);
		uint32_t v = bk->val[s];

		if (v & VAL_TW) {
			if (slot_stale(t, v)) {
				slot_clear(t, b, s);
				t->st.stale_reclaimed++;
			} else if (key_eq(&t->log[v & ~VAL_TW].key, key)) {
				*rc = -EEXIST;
				return 1;
			}
		} else if (key_eq(&conn_hdr_of(t, v)->key, key)) {
			*rc = -EEXIST;
			return 1;
		}
	}

	uint32_t z = tag_bits(bk, 0, 0xffff);

	if (z == 0)
		return 0;
	*free = b << 4 | TAG_SLOT(z); /* displacement 0 */
	*rc = 0;
	return 1;
}

/* Find key for an insert: -EEXIST if present, -ENOSPC if no slot, else the free slot. */
static int
insert_slot(struct tws_table *t, const struct tws_tuple *key, uint64_t h, uint64_t *free)
{
	int rc;

	if (insert_home(t, key, h, free, &rc)) {
		if (rc == -EEXIST)
			t->st.insert_exists++;
		return rc;
	}
	if (index_find(t, key, h, free) != NIL) {
		t->st.insert_exists++;
		return -EEXIST;
	}
	if (*free == FREE_NONE) {
		t->st.insert_full++;
		return -ENOSPC;
	}
	return 0;
}

int
tws_table_conn_insert(struct tws_table *t, const void *key, void **conn)
{
	uint64_t h = key_hash(t, key);
	uint64_t free;
	int rc = insert_slot(t, key, h, &free);

	if (rc != 0)
		return rc;
	if (t->nb_free == 0) {
		t->st.insert_full++;
		return -ENOSPC;
	}

	uint32_t idx = t->free_idx[--t->nb_free];
	struct conn_hdr *hdr = conn_hdr_of(t, idx);
	void *c = conn_of(t, idx);

	memset(c, 0, t->hdr_off);
	memcpy(&hdr->key, key, sizeof(hdr->key));
	hdr->slot = index_put(t, free, h, idx);
	t->st.conn_inserted++;
	*conn = c;
	return 0;
}

/* Block index of a control block pointer, or NIL if it is not a live one. */
static uint32_t
conn_index(const struct tws_table *t, const void *conn)
{
	const uint8_t *p = conn;

	if (p < t->conns || p >= t->conns + (size_t)t->max_conns * t->blk)
		return NIL;

	size_t off = (size_t)(p - t->conns);

	if (off % t->blk != 0)
		return NIL;

	uint32_t idx = (uint32_t)(off / t->blk);

	return conn_hdr_of(t, idx)->slot == NIL ? NIL : idx;
}

static void
conn_release(struct tws_table *t, uint32_t idx)
{
	conn_hdr_of(t, idx)->slot = NIL;
	t->free_idx[t->nb_free++] = idx;
	t->st.conn_deleted++;
}

int
tws_table_conn_delete(struct tws_table *t, void *conn)
{
	uint32_t idx = conn_index(t, conn);

	if (idx == NIL) {
		TWS_LOG(tws_table_logtype, ERR, "%s: conn_delete: %p is not a live connection",
			t->name, conn);
		return -EINVAL;
	}

	uint32_t slot = conn_hdr_of(t, idx)->slot;

	slot_clear(t, slot >> 4, slot & 15);
	conn_release(t, idx);
	return 0;
}

const struct tws_tuple *
tws_table_conn_key(const struct tws_table *t, const void *conn)
{
	const uint8_t *p = conn;

	return &((const struct conn_hdr *)(p + t->hdr_off))->key;
}

size_t
tws_table_conn_key_offset(const struct tws_table *t)
{
	return t->hdr_off + offsetof(struct conn_hdr, key);
}

bool
tws_table_conn_current(const struct tws_table *t, const void *conn, const void *key)
{
	const struct conn_hdr *h = (const struct conn_hdr *)((const uint8_t *)conn + t->hdr_off);

	/* A freed block has slot NIL (conn_release), a reused one another key or the same key anew. */
	return h->slot != NIL && key_eq(&h->key, key);
}

int64_t
tws_table_conn_index(const struct tws_table *t, const void *conn)
{
	uint32_t idx = conn_index(t, conn);

	return idx == NIL ? -EINVAL : (int64_t)idx;
}

void *
tws_table_conn_at(const struct tws_table *t, uint32_t idx)
{
	if (idx >= t->max_conns || conn_hdr_of(t, idx)->slot == NIL)
		return NULL;
	return conn_of(t, idx);
}

/* Drop dead records at the tail: they hold ring space and nothing else. */
static inline void
log_trim(struct tws_table *t)
{
	while (t->used > 0 && (t->log[t->tail].flags & TWS_TW_F_DEAD)) {
		t->tail = t->tail + 1 == t->log_size ? 0 : t->tail + 1;
		t->used--;
		t->sweep_left = t->nb_bkt; /* see tws_table_expire() */
	}
}

/*
 * Write a record at the log's head. The head moves through memory nobody
 * has read for a whole TIME_WAIT: streaming stores write the line without
 * first reading it from DRAM (the read for ownership a normal store costs),
 * and consecutive records fill a write-combining buffer line by line. A
 * later load of the record by this lcore sees it (x86 orders them).
 */
static inline void
log_store(struct tws_tw_entry *dst, const struct tws_tw_entry *e)
{
#if defined(RTE_ARCH_X86)
	const __m128i *s = (const __m128i *)e;

	_mm_stream_si128((__m128i *)dst, _mm_loadu_si128(s));
	_mm_stream_si128((__m128i *)dst + 1, _mm_loadu_si128(s + 1));
#else
	*dst = *e;
#endif
}

/*
 * Append a record; returns its position, or NIL if max_tw or the ring is
 * full. A record that replaces a live one (restart) does not count against
 * max_tw.
 */
static uint32_t
log_append(struct tws_table *t, const struct tws_tuple *key, const struct tws_tw_state *st,
	   uint64_t now, bool replacing)
{
	if (!replacing && t->tw_live >= t->max_tw)
		return NIL;
	if (t->used == t->log_size) {
		log_trim(t);
		if (t->used == t->log_size)
			return NIL;
	}

	uint64_t exp = now + t->tw_timeout;

	if (exp < t->last_expire)
		exp = t->last_expire;
	t->last_expire = exp;

	uint32_t p = t->head;
	struct tws_tw_entry e;
	uint64_t age = 0;

	if ((st->flags & TWS_TW_F_TS) && st->ts_recent_stamp < now)
		age = now - st->ts_recent_stamp;
	e.key = *key;
	e.snd_nxt = st->snd_nxt;
	e.rcv_nxt = st->rcv_nxt;
	e.ts_recent = st->ts_recent;
	e.expire = (uint32_t)exp;
	e.ts_age = (uint16_t)RTE_MIN(age, (uint64_t)UINT16_MAX);
	e.rcv_wscale = st->rcv_wscale & 0xf;
	e.flags = st->flags & TWS_TW_F_TS;
	e.oow_age = 0;
	log_store(&t->log[p], &e);
	t->head = p + 1 == t->log_size ? 0 : p + 1;
	t->used++;
	t->tw_live++;
	return p;
}

int
tws_table_conn_to_tw(struct tws_table *t, void *conn, const struct tws_tw_state *st,
		     uint64_t now)
{
	uint32_t idx = conn_index(t, conn);

	if (idx == NIL) {
		TWS_LOG(tws_table_logtype, ERR, "%s: conn_to_tw: %p is not a live connection",
			t->name, conn);
		return -EINVAL;
	}

	struct conn_hdr *hdr = conn_hdr_of(t, idx);
	uint32_t slot = hdr->slot;
	uint32_t p = log_append(t, &hdr->key, st, now, false);

	if (p == NIL) {
		/* Spec section 2: no entry at max_tw; the connection still closes. */
		slot_clear(t, slot >> 4, slot & 15);
		conn_release(t, idx);
		t->st.tw_overflow++;
		return -ENOSPC;
	}
	t->bkt[slot >> 4].val[slot & 15] = VAL_TW | p;
	conn_release(t, idx);
	t->st.tw_created++;
	return 0;
}

int
tws_table_tw_insert(struct tws_table *t, const void *key, const struct tws_tw_state *st,
		    uint64_t now)
{
	uint64_t h = key_hash(t, key);
	uint64_t free;
	int rc = insert_slot(t, key, h, &free);

	if (rc != 0)
		return rc;

	uint32_t p = log_append(t, key, st, now, false);

	if (p == NIL) {
		t->st.tw_overflow++;
		return -ENOSPC;
	}
	index_put(t, free, h, VAL_TW | p);
	t->st.tw_created++;
	return 0;
}

/* The index slot pointing at log position p (found through the record's key). */
static uint32_t
tw_slot(struct tws_table *t, const struct tws_tw_entry *tw, uint32_t *pos)
{
	if (tw < t->log || tw >= t->log + t->log_size)
		return NIL;

	uint32_t p = (uint32_t)(tw - t->log);

	if (!log_live_pos(t, p) || (tw->flags & TWS_TW_F_DEAD))
		return NIL;

	uint32_t slot = index_find(t, &tw->key, key_hash(t, &tw->key), NULL);

	if (slot == NIL || t->bkt[slot >> 4].val[slot & 15] != (VAL_TW | p))
		return NIL;
	*pos = p;
	return slot;
}

int
tws_table_tw_remove(struct tws_table *t, struct tws_tw_entry *tw)
{
	uint32_t p, slot = tw_slot(t, tw, &p);

	if (slot == NIL)
		return -ENOENT;
	slot_clear(t, slot >> 4, slot & 15);
	t->log[p].flags |= TWS_TW_F_DEAD;
	t->tw_live--;
	t->st.tw_removed++;
	log_trim(t);
	return 0;
}

struct tws_tw_entry *
tws_table_tw_restart(struct tws_table *t, struct tws_tw_entry *tw, uint64_t now)
{
	uint32_t p, slot = tw_slot(t, tw, &p);

	if (slot == NIL)
		return NULL;

	struct tws_tw_entry old = *tw;
	struct tws_tw_state st = {
		.snd_nxt = old.snd_nxt, .rcv_nxt = old.rcv_nxt, .ts_recent = old.ts_recent,
		.ts_recent_stamp = tws_table_tw_ts_stamp(t, &old),
		.rcv_wscale = old.rcv_wscale, .flags = old.flags,
	};

	/* The old record stays live until the new one exists: a full log changes nothing. */
	uint32_t np = log_append(t, &old.key, &st, now, true);

	if (np == NIL)
		return NULL;
	t->log[p].flags |= TWS_TW_F_DEAD;
	t->tw_live--;
	t->bkt[slot >> 4].val[slot & 15] = VAL_TW | np;
	t->st.tw_restarted++;
	return &t->log[np];
}

/* The tick the entry's record was created: expire - tw_timeout, widened to 64 bits. */
static inline uint64_t
tw_created(const struct tws_table *t, const struct tws_tw_entry *tw)
{
	return t->last_expire - (uint32_t)(t->last_expire - tw->expire) - t->tw_timeout;
}

uint64_t
tws_table_tw_ts_stamp(const struct tws_table *t, const struct tws_tw_entry *tw)
{
	/* ts_age ticks before the record was created. */
	return tw_created(t, tw) - tw->ts_age;
}

int
tws_table_tw_oow_last(const struct tws_table *t, const struct tws_tw_entry *tw, uint64_t *tick)
{
	if (tw->oow_age == 0)
		return 0;
	*tick = tw_created(t, tw) + (uint64_t)(tw->oow_age - 1) * t->oow_unit;
	return 1;
}

void
tws_table_tw_oow_mark(const struct tws_table *t, struct tws_tw_entry *tw, uint64_t now)
{
	uint64_t created = tw_created(t, tw);
	uint64_t units = now > created ? (now - created + t->oow_unit - 1) / t->oow_unit : 0;

	/*
	 * Rounded up, so the stored time is never before the real one. An
	 * entry lives tw_timeout <= 254 units; past that (a restart pending)
	 * the byte saturates.
	 */
	tw->oow_age = (uint8_t)RTE_MIN(units + 1, (uint64_t)UINT8_MAX);
}

unsigned int
tws_table_expire(struct tws_table *t, uint64_t now, unsigned int max)
{
	unsigned int n = 0;
	uint32_t now32 = (uint32_t)now, used0 = t->used;

	if (max == 0)
		max = UINT32_MAX;
	while (t->used > 0) {
		struct tws_tw_entry *e = &t->log[t->tail];

		if (!(e->flags & TWS_TW_F_DEAD)) {
			if ((int32_t)(e->expire - now32) > 0 || n == max)
				break;
			/* Nothing to write: past the tail, the position alone says it is gone. */
			t->tw_live--;
			n++;
		}
		t->tail = t->tail + 1 == t->log_size ? 0 : t->tail + 1;
		t->used--;
	}
	t->st.tw_expired += n;

	/*
	 * Clear a few stale slots, in bucket order, so overflow counts stay low.
	 * A slot goes stale only when the tail passes its position (an entry
	 * expiring, or a dead record whose position a stale slot had come to
	 * share once the ring wrapped), so one revolution after the tail last
	 * moved there is none left to find: no sweep (a bucket line per call,
	 * on a poll loop that calls twice per iteration) until it moves again.
	 */
	if (t->used != used0)
		t->sweep_left = t->nb_bkt;

	uint32_t k = RTE_MIN(SWEEP_PER_CALL + n / 8, t->sweep_left);

	t->sweep_left -= k;
	for (; k > 0; k--) {
		struct bucket *bk = &t->bkt[t->sweep];

		for (unsigned int s = 0; s < BKT_SLOTS; s++) {
			if (bk->tag[s] != 0 && slot_stale(t, bk->val[s])) {
				slot_clear(t, t->sweep, s);
				t->st.stale_reclaimed++;
			}
		}
		t->sweep = t->sweep + 1 == t->nb_bkt ? 0 : t->sweep + 1;
	}
	return n;
}

void
tws_table_stats_get(const struct tws_table *t, struct tws_table_stats *st)
{
	*st = t->st;
	st->conns = t->max_conns - t->nb_free;
	st->tw_entries = t->tw_live;
	st->memory_bytes = t->mem;
	st->index_bytes = t->index_mem;
	st->tw_log_bytes = t->log_mem;
}

int
tws_table_stat_name(unsigned int i, const char **name, const char **desc)
{
	static const char *const names[] = {
#define TWS_X_NAME(n, d) #n,
		TWS_TABLE_STATS(TWS_X_NAME)
#undef TWS_X_NAME
	};
	static const char *const descs[] = {
#define TWS_X_DESC(n, d) d,
		TWS_TABLE_STATS(TWS_X_DESC)
#undef TWS_X_DESC
	};

	return tws_stat_lookup(names, descs, RTE_DIM(names), i, name, desc);
}

/* Sizes of the three arrays for these parameters. */
struct sizes {
	uint32_t nb_bkt, blk, log_size;
	size_t index, pool, log, total;
};

static int
params_check(const struct tws_table_params *p, struct sizes *z)
{
	const char *name;

	if (p == NULL) {
		TWS_LOG(tws_table_logtype, ERR, "table: NULL parameters");
		return -EINVAL;
	}
	name = p->name != NULL ? p->name : "tws_table";
	if (p->family != 0 && p->family != AF_INET) {
		TWS_LOG(tws_table_logtype, ERR, "%s: family %d: only AF_INET (%d) tables exist yet%s",
			name, p->family, AF_INET, p->family == AF_INET6 ? " (IPv6 is planned)" : "");
		return p->family == AF_INET6 ? -ENOTSUP : -EINVAL;
	}
	if (p->max_conns == 0 || p->max_conns > MAX_CONNS) {
		TWS_LOG(tws_table_logtype, ERR, "%s: max_conns %u out of range 1..%u", name,
			p->max_conns, MAX_CONNS);
		return -EINVAL;
	}
	if (p->conn_size > MAX_CONN_SIZE) {
		TWS_LOG(tws_table_logtype, ERR, "%s: conn_size %u above %u", name, p->conn_size,
			MAX_CONN_SIZE);
		return -EINVAL;
	}
	if (p->max_tw > MAX_TW) {
		TWS_LOG(tws_table_logtype, ERR, "%s: max_tw %u above %u", name, p->max_tw, MAX_TW);
		return -EINVAL;
	}
	if (p->tw_timeout == 0 || p->tw_timeout > (UINT32_C(1) << 30)) {
		TWS_LOG(tws_table_logtype, ERR, "%s: tw_timeout %u out of range 1..%u", name,
			p->tw_timeout, UINT32_C(1) << 30);
		return -EINVAL;
	}

	uint64_t keys = (uint64_t)p->max_conns + p->max_tw;
	uint64_t nb = (keys * LOAD_DEN + (uint64_t)BKT_SLOTS * LOAD_NUM - 1) /
		      ((uint64_t)BKT_SLOTS * LOAD_NUM);

	if (nb > MAX_BUCKETS) {
		TWS_LOG(tws_table_logtype, ERR,
			"%s: max_conns + max_tw = %" PRIu64 " above the index limit of %" PRIu64,
			name, keys, (uint64_t)MAX_BUCKETS * BKT_SLOTS * LOAD_NUM / LOAD_DEN);
		return -EINVAL;
	}
	z->nb_bkt = (uint32_t)RTE_MAX(nb, (uint64_t)PROBE);
	z->blk = RTE_ALIGN_CEIL(p->conn_size + (uint32_t)sizeof(struct conn_hdr),
				RTE_CACHE_LINE_SIZE);
	/* 1/8 extra records: removed and restarted entries wait for the tail. */
	z->log_size = p->max_tw + p->max_tw / 8 + 1;
	z->index = (size_t)z->nb_bkt * sizeof(struct bucket);
	z->pool = (size_t)p->max_conns * z->blk + (size_t)p->max_conns * sizeof(uint32_t);
	z->log = (size_t)z->log_size * sizeof(struct tws_tw_entry);
	z->total = sizeof(struct tws_table) + z->index + z->pool + z->log;
	return 0;
}

size_t
tws_table_memory_size(const struct tws_table_params *params)
{
	struct sizes z;

	return params_check(params, &z) == 0 ? z.total : 0;
}

struct tws_table *
tws_table_create(const struct tws_table_params *p)
{
	struct sizes z;
	struct tws_table *t;
	const char *name;
	int rc = params_check(p, &z);

	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	name = p->name != NULL ? p->name : "tws_table";
	t = rte_zmalloc_socket(name, sizeof(*t), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (t == NULL)
		goto nomem;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->nb_bkt = z.nb_bkt;
	t->blk = z.blk;
	t->hdr_off = z.blk - (uint32_t)sizeof(struct conn_hdr);
	t->max_conns = p->max_conns;
	t->max_tw = p->max_tw;
	t->tw_timeout = p->tw_timeout;
	t->oow_unit = RTE_MAX(TWS_TW_OOW_UNIT, (p->tw_timeout + 253) / 254);
	t->log_size = z.log_size;
	t->last_expire = p->start_tick + p->tw_timeout;
	t->mem = z.total;
	t->index_mem = z.index;
	t->log_mem = z.log;

	tws_hash_coefficients(p->hash_seed != 0 ? p->hash_seed : rte_rand(), t->coef, 4);

	/* Zeroed and faulted in now, not on the data path (lib/common/tws_mem.h). */
	t->bkt = tws_mem_alloc(name, z.index, p->socket_id);
	t->conns = tws_mem_alloc(name, (size_t)p->max_conns * z.blk, p->socket_id);
	t->free_idx = tws_mem_alloc(name, (size_t)p->max_conns * sizeof(uint32_t), p->socket_id);
	t->log = tws_mem_alloc(name, z.log, p->socket_id);
	if (t->bkt == NULL || t->conns == NULL || t->free_idx == NULL || t->log == NULL)
		goto nomem;
	for (uint32_t i = 0; i < p->max_conns; i++) {
		conn_hdr_of(t, i)->slot = NIL;
		t->free_idx[i] = p->max_conns - 1 - i; /* hand out low indexes first */
	}
	t->nb_free = p->max_conns;
	return t;

nomem:
	TWS_LOG(tws_table_logtype, ERR, "%s: cannot allocate %zu bytes of memory on socket %d",
		name, z.total, p->socket_id);
	tws_table_free(t);
	rte_errno = ENOMEM;
	return NULL;
}

void
tws_table_free(struct tws_table *t)
{
	if (t == NULL)
		return;
	tws_mem_free(t->log);
	tws_mem_free(t->free_idx);
	tws_mem_free(t->conns);
	tws_mem_free(t->bkt);
	rte_free(t);
}
