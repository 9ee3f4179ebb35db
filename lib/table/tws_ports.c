/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port allocator for connect: see the comment in include/tws_table.h.
 * Destinations live in a small open-addressing map; each owns a bitmap of
 * the range and a cursor.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "tws_log.h"
#include "tws_table.h"
#include "tws_util.h"

RTE_LOG_REGISTER(tws_ports_logtype, twstack.ports, NOTICE);

#define NIL UINT32_MAX
#define DEFAULT_MIN 32768u
#define DEFAULT_MAX 60999u
#define DEFAULT_DESTS 1024u
#define MAX_DESTS (UINT32_C(1) << 20)

struct dest {
	rte_be32_t laddr;
	rte_be32_t raddr;
	rte_be16_t rport;
	uint16_t pad;
	uint32_t cursor;  /* next port (offset in the range) to hand out */
	uint32_t zeros;   /* clear bits: ports not handed out, or released */
};

struct tws_ports {
	uint16_t port_min;
	uint32_t range;   /* number of ports */
	uint32_t words;   /* bitmap words of one map (range bits) */
	uint32_t stride;  /* words per destination: the handed-out map, then with
			   * accept the refused one (refuse_ports() fills it) */
	uint32_t max_dests, nb_dests;
	uint32_t map_mask;
	uint32_t *map;    /* destination index or NIL */
	struct dest *dests;
	uint64_t *bits;   /* max_dests * stride */
	bool (*accept)(void *arg, const struct tws_tuple *key);
	void *accept_arg;
	uint64_t key[4];
	struct tws_ports_stats st;
	char name[32];
};

static inline uint64_t
dest_hash(const struct tws_ports *pa, const struct tws_tuple *k)
{
	/* Picks the map slot and the RFC 6056 offset: mixed like the table's. */
	return tws_mix64(pa->key[0] + pa->key[1] * k->laddr + pa->key[2] * k->raddr +
			 pa->key[3] * k->rport);
}

static inline uint64_t *
dest_bits(const struct tws_ports *pa, const struct dest *d)
{
	return pa->bits + (size_t)(d - pa->dests) * pa->stride;
}

/* Is bit i set in map b? */
static inline bool
bit_at(const uint64_t *b, uint32_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

/* Did refuse_ports() find port offset i of d refused (never without accept)? */
static inline bool
port_refused(const struct tws_ports *pa, const struct dest *d, uint32_t i)
{
	return pa->accept != NULL && bit_at(dest_bits(pa, d) + pa->words, i);
}

/* Ask the accept callback about port offset i of destination d. */
static inline bool
port_accepted(const struct tws_ports *pa, const struct dest *d, uint32_t i)
{
	struct tws_tuple k = { .laddr = d->laddr, .raddr = d->raddr, .rport = d->rport,
			       .lport = rte_cpu_to_be_16((uint16_t)(pa->port_min + i)) };

	return pa->accept == NULL || pa->accept(pa->accept_arg, &k);
}

/*
 * Mark the ports accept refuses as handed out, for good, and in the refused
 * map: the callback (a Toeplitz hash with RSS) is asked once per port of a
 * destination, never again on a connect or a release.
 */
static void
refuse_ports(struct tws_ports *pa, struct dest *d, uint64_t *b)
{
	uint64_t *r = b + pa->words;

	memset(r, 0, pa->words * sizeof(uint64_t));
	for (uint32_t i = 0; i < pa->range; i++) {
		if (!port_accepted(pa, d, i)) {
			b[i / 64] |= UINT64_C(1) << (i % 64);
			r[i / 64] |= UINT64_C(1) << (i % 64);
			d->zeros--;
		}
	}
}

static struct dest *
dest_get(struct tws_ports *pa, const struct tws_tuple *k, bool create)
{
	uint64_t h = dest_hash(pa, k);

	for (uint32_t i = (uint32_t)(h >> 32) & pa->map_mask;; i = (i + 1) & pa->map_mask) {
		uint32_t di = pa->map[i];

		if (di == NIL) {
			if (!create || pa->nb_dests == pa->max_dests)
				return NULL;
			di = pa->nb_dests++;
			pa->map[i] = di;

			struct dest *d = &pa->dests[di];
			uint64_t *b = dest_bits(pa, d);

			d->laddr = k->laddr;
			d->raddr = k->raddr;
			d->rport = k->rport;
			/* RFC 6056 algorithm 3: start at a secret hash of the destination. */
			d->cursor = (uint32_t)(((h & UINT32_MAX) * pa->range) >> 32);
			d->zeros = pa->range;
			memset(b, 0, pa->words * sizeof(uint64_t));
			if (pa->range % 64 != 0) /* bits past the range never look free */
				b[pa->words - 1] = ~UINT64_C(0) << (pa->range % 64);
			if (pa->accept != NULL)
				refuse_ports(pa, d, b);
			return d;
		}

		struct dest *d = &pa->dests[di];

		if (d->laddr == k->laddr && d->raddr == k->raddr && d->rport == k->rport)
			return d;
	}
}

/* First clear bit at or after start (wrapping), or NIL. */
static uint32_t
find_zero(const struct tws_ports *pa, const uint64_t *b, uint32_t start)
{
	uint32_t w = start / 64;
	uint64_t x = ~b[w] & (~UINT64_C(0) << (start % 64));

	for (uint32_t k = 0; k <= pa->words; k++) {
		if (x != 0)
			return w * 64 + (uint32_t)__builtin_ctzll(x);
		w = w + 1 == pa->words ? 0 : w + 1;
		x = ~b[w];
	}
	return NIL;
}

static inline bool
tw_reusable(const struct tws_table *t, const struct tws_tw_entry *tw,
	    const struct tws_ports_reuse *reuse, uint64_t now)
{
	uint64_t stamp;

	if (reuse == NULL || !reuse->enabled || !(tw->flags & TWS_TW_F_TS))
		return false;
	stamp = tws_table_tw_ts_stamp(t, tw);
	return now >= stamp && now - stamp >= reuse->delay;
}

/*
 * Take the next port whose bit is clear (handed out, bit set) and write it
 * to key->lport. Returns its index, or NIL when every port is handed out.
 */
static uint32_t
take_zero(struct tws_ports *pa, struct dest *d, uint64_t *b, struct tws_tuple *key)
{
	if (d->zeros == 0)
		return NIL;

	uint32_t i = find_zero(pa, b, d->cursor);

	if (i == NIL)
		return NIL;
	b[i / 64] |= UINT64_C(1) << (i % 64);
	d->zeros--;
	key->lport = rte_cpu_to_be_16((uint16_t)(pa->port_min + i));
	/*
	 * The cursor moves only with allocations in order: a released port
	 * taken out of turn leaves it on the oldest one.
	 */
	if (i == d->cursor)
		d->cursor = i + 1 == pa->range ? 0 : i + 1;
	return i;
}

int
tws_ports_pick(struct tws_ports *pa, struct tws_tuple *key)
{
	struct dest *d = dest_get(pa, key, true);

	if (d == NULL) {
		pa->st.dest_full++;
		return -ENOSPC;
	}
	if (take_zero(pa, d, dest_bits(pa, d), key) == NIL)
		return -ENOENT;
	pa->st.connects++;
	return 0;
}

int
tws_ports_connect(struct tws_ports *pa, struct tws_table *t, struct tws_tuple *key,
		  const struct tws_ports_reuse *reuse, uint64_t now, struct tws_tw_entry **reused)
{
	struct dest *d = dest_get(pa, key, true);
	struct tws_table_hit hit;
	unsigned int budget = TWS_PORTS_MAX_CHECKS;

	*reused = NULL;
	if (d == NULL) {
		pa->st.dest_full++;
		return -ENOSPC;
	}

	uint64_t *b = dest_bits(pa, d);

	/* A port not handed out, or released since. */
	while (budget > 0) {
		uint32_t i = take_zero(pa, d, b, key);

		if (i == NIL)
			break;
		budget--;
		pa->st.lookups++;
		if (tws_table_lookup(t, key, &hit) == TWS_TABLE_MISS) {
			pa->st.connects++;
			return 0;
		}
		/* Held by something we did not hand out: its bit now says so. */
	}

	/*
	 * Every port was handed out: check the oldest, whose TIME_WAIT ends
	 * first. Live connections are stepped over for good; if nothing is
	 * usable, the cursor goes back to the first TIME_WAIT entry seen, which
	 * is the next to expire.
	 */
	uint32_t first_tw = NIL, skips = pa->range;

	while (budget > 0) {
		uint32_t i = d->cursor;

		d->cursor = i + 1 == pa->range ? 0 : i + 1;
		if (port_refused(pa, d, i)) {
			/* Never ours (its replies go to another lane): costs no lookup. */
			if (--skips == 0)
				break;
			continue;
		}
		budget--;
		key->lport = rte_cpu_to_be_16((uint16_t)(pa->port_min + i));
		pa->st.lookups++;
		switch (tws_table_lookup(t, key, &hit)) {
		case TWS_TABLE_MISS:
			pa->st.connects++;
			return 0;
		case TWS_TABLE_TW:
			if (tw_reusable(t, hit.tw, reuse, now)) {
				*reused = hit.tw;
				pa->st.connects++;
				pa->st.reused++;
				return 0;
			}
			if (first_tw == NIL)
				first_tw = i;
			break;
		default:
			break;
		}
	}
	if (first_tw != NIL)
		d->cursor = first_tw;
	pa->st.addr_not_avail++;
	return -EADDRNOTAVAIL;
}

int
tws_ports_connect_bound(struct tws_ports *pa, struct tws_table *t, const struct tws_tuple *key,
			struct tws_tw_entry **reused)
{
	struct tws_table_hit hit;

	*reused = NULL;
	pa->st.lookups++;
	switch (tws_table_lookup(t, key, &hit)) {
	case TWS_TABLE_MISS:
		break;
	case TWS_TABLE_TW:
		/* Spec section 5: a bound connect reuses whenever timestamps were seen. */
		if (!(hit.tw->flags & TWS_TW_F_TS))
			return -EADDRINUSE;
		*reused = hit.tw;
		pa->st.reused++;
		break;
	default:
		return -EADDRINUSE;
	}
	pa->st.connects++;

	uint16_t port = rte_be_to_cpu_16(key->lport);
	struct dest *d;

	if (port >= pa->port_min && (uint32_t)(port - pa->port_min) < pa->range &&
	    (d = dest_get(pa, key, false)) != NULL) {
		uint32_t i = port - pa->port_min;
		uint64_t *b = dest_bits(pa, d);

		if (!(b[i / 64] & (UINT64_C(1) << (i % 64)))) {
			b[i / 64] |= UINT64_C(1) << (i % 64);
			d->zeros--;
		}
	}
	return 0;
}

void
tws_ports_release(struct tws_ports *pa, const struct tws_tuple *key)
{
	uint16_t port = rte_be_to_cpu_16(key->lport);
	struct dest *d;

	if (port < pa->port_min || (uint32_t)(port - pa->port_min) >= pa->range)
		return;
	d = dest_get(pa, key, false);
	if (d == NULL)
		return;

	uint32_t i = port - pa->port_min;
	uint64_t *b = dest_bits(pa, d);

	/* A refused port (bound by hand, say) stays out of what is handed out. */
	if (bit_at(b, i) && !port_refused(pa, d, i)) {
		b[i / 64] &= ~(UINT64_C(1) << (i % 64));
		d->zeros++;
	}
}

void
tws_ports_stats_get(const struct tws_ports *pa, struct tws_ports_stats *st)
{
	*st = pa->st;
	st->dests = pa->nb_dests;
}

struct tws_ports *
tws_ports_create(const struct tws_ports_params *p)
{
	struct tws_ports *pa;
	const char *name;
	uint32_t lo, hi, dests;

	if (p == NULL) {
		TWS_LOG(tws_ports_logtype, ERR, "ports: NULL parameters");
		rte_errno = EINVAL;
		return NULL;
	}
	name = p->name != NULL ? p->name : "tws_ports";
	lo = p->port_min != 0 ? p->port_min : DEFAULT_MIN;
	hi = p->port_max != 0 ? p->port_max : DEFAULT_MAX;
	dests = p->max_dests != 0 ? p->max_dests : DEFAULT_DESTS;
	if (lo > hi) {
		TWS_LOG(tws_ports_logtype, ERR, "%s: port_min %u above port_max %u", name, lo, hi);
		rte_errno = EINVAL;
		return NULL;
	}
	if (dests > MAX_DESTS) {
		TWS_LOG(tws_ports_logtype, ERR, "%s: max_dests %u above %u", name, dests, MAX_DESTS);
		rte_errno = EINVAL;
		return NULL;
	}
	pa = rte_zmalloc_socket(name, sizeof(*pa), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (pa == NULL)
		goto nomem;
	snprintf(pa->name, sizeof(pa->name), "%s", name);
	pa->port_min = (uint16_t)lo;
	pa->range = hi - lo + 1;
	pa->words = (pa->range + 63) / 64;
	pa->stride = p->accept != NULL ? 2 * pa->words : pa->words;
	pa->max_dests = dests;
	pa->map_mask = rte_align32pow2(2 * dests) - 1;
	pa->accept = p->accept;
	pa->accept_arg = p->accept_arg;

	tws_hash_coefficients(p->seed != 0 ? p->seed : rte_rand(), pa->key, 4);
	pa->map = rte_malloc_socket(name, (size_t)(pa->map_mask + 1) * sizeof(uint32_t), 0,
				    p->socket_id);
	pa->dests = rte_zmalloc_socket(name, (size_t)dests * sizeof(struct dest), 0, p->socket_id);
	pa->bits = rte_malloc_socket(name, (size_t)dests * pa->stride * sizeof(uint64_t),
				     RTE_CACHE_LINE_SIZE, p->socket_id);
	if (pa->map == NULL || pa->dests == NULL || pa->bits == NULL)
		goto nomem;
	memset(pa->map, 0xff, (size_t)(pa->map_mask + 1) * sizeof(uint32_t));
	return pa;

nomem:
	TWS_LOG(tws_ports_logtype, ERR, "%s: cannot allocate DPDK memory for %u destinations",
		name, dests);
	tws_ports_free(pa);
	rte_errno = ENOMEM;
	return NULL;
}

void
tws_ports_free(struct tws_ports *pa)
{
	if (pa == NULL)
		return;
	rte_free(pa->bits);
	rte_free(pa->dests);
	rte_free(pa->map);
	rte_free(pa);
}
