/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A faulty link (netem's loss, duplicate, reorder and delay, per frame).
 * Held frames sit in one array in the order they were held; a release
 * scans it (it stays short: rate x delay x frame rate) and keeps the rest
 * in order, so frames held for the same reason leave in the order they came.
 */
#include <errno.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "tws_runtime.h"
#include "tws_util.h"

#define FAULT_DELAY_MAX_US 10000000u
#define FAULT_REORDER_DEFAULT_US 1000u

struct held {
	struct rte_mbuf *m;
	uint64_t due_us;
	bool reorder;              /* leaves after the next frame that passes, or at due_us */
};

struct tws_fault {
	struct tws_fault_params p;
	uint64_t rng;
	struct tws_fault_stats s;
	uint32_t nb_held;
	struct held held[];
};

struct tws_fault *
tws_fault_create(const struct tws_fault_params *p)
{
	if (p == NULL || p->loss_ppm > TWS_FAULT_PPM || p->dup_ppm > TWS_FAULT_PPM ||
	    p->reorder_ppm > TWS_FAULT_PPM || p->delay_ppm > TWS_FAULT_PPM ||
	    (uint64_t)p->reorder_ppm + p->delay_ppm > TWS_FAULT_PPM ||
	    (p->delay_ppm > 0 && (p->delay_us == 0 || p->delay_us > FAULT_DELAY_MAX_US)) ||
	    p->reorder_max_us > FAULT_DELAY_MAX_US) {
		rte_errno = EINVAL;
		return NULL;
	}

	uint32_t max_held = p->max_held != 0 ? p->max_held : TWS_FAULT_HELD_DEFAULT;
	struct tws_fault *f = rte_zmalloc_socket("tws_fault",
						 sizeof(*f) + (size_t)max_held * sizeof(struct held),
						 RTE_CACHE_LINE_SIZE, p->socket_id);

	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	f->p = *p;
	f->p.max_held = max_held;
	if (f->p.reorder_max_us == 0)
		f->p.reorder_max_us = FAULT_REORDER_DEFAULT_US;
	f->rng = p->seed;
	return f;
}

void
tws_fault_free(struct tws_fault *f)
{
	if (f == NULL)
		return;
	for (uint32_t i = 0; i < f->nb_held; i++)
		rte_pktmbuf_free(f->held[i].m);
	rte_free(f);
}

/* One draw: true with probability ppm / 10^6. */
static inline bool
draw(struct tws_fault *f, uint32_t ppm)
{
	return ppm != 0 && tws_splitmix64(&f->rng) % TWS_FAULT_PPM < ppm;
}

/*
 * Move held frames to out (at most room): those due at now_us, and with
 * passed, the reordered ones (a frame has just overtaken them).
 */
static uint16_t
release(struct tws_fault *f, struct rte_mbuf **out, uint16_t room, uint64_t now_us, bool passed)
{
	uint16_t n = 0;
	uint32_t keep = 0;

	if (room > TWS_FAULT_RELEASE_MAX)
		room = TWS_FAULT_RELEASE_MAX;
	for (uint32_t i = 0; i < f->nb_held; i++) {
		struct held *h = &f->held[i];

		if (n < room && (h->due_us <= now_us || (passed && h->reorder)))
			out[n++] = h->m;
		else
			f->held[keep++] = *h;
	}
	f->nb_held = keep;
	return n;
}

static inline bool
hold(struct tws_fault *f, struct rte_mbuf *m, uint64_t due_us, bool reorder)
{
	if (f->nb_held >= f->p.max_held) {
		f->s.held_full++;
		return false;
	}
	f->held[f->nb_held++] = (struct held){ .m = m, .due_us = due_us, .reorder = reorder };
	return true;
}

uint16_t
tws_fault_apply(struct tws_fault *f, struct rte_mbuf **in, uint16_t nb, struct rte_mbuf **out,
		uint64_t now_us)
{
	uint16_t n = release(f, out, TWS_FAULT_RELEASE_MAX, now_us, false);

	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = in[i];

		f->s.frames++;
		if (draw(f, f->p.loss_ppm)) {
			f->s.dropped++;
			rte_pktmbuf_free(m);
			continue;
		}

		struct rte_mbuf *dup = NULL;

		if (draw(f, f->p.dup_ppm)) {
			dup = rte_pktmbuf_copy(m, f->p.mp != NULL ? f->p.mp : m->pool, 0, UINT32_MAX);
			if (dup != NULL)
				f->s.duplicated++;
			else
				f->s.dup_failed++;
		}

		/* One draw decides reorder, delay or neither (their rates add up to at most 10^6). */
		uint32_t r = (uint32_t)(tws_splitmix64(&f->rng) % TWS_FAULT_PPM);

		if (r < f->p.reorder_ppm) {
			if (hold(f, m, now_us + f->p.reorder_max_us, true)) {
				f->s.reordered++;
				if (dup != NULL && !hold(f, dup, now_us + f->p.reorder_max_us, true))
					out[n++] = dup;
				continue;
			}
		} else if (r < f->p.reorder_ppm + f->p.delay_ppm) {
			if (hold(f, m, now_us + f->p.delay_us, false)) {
				f->s.delayed++;
				if (dup != NULL && !hold(f, dup, now_us + f->p.delay_us, false))
					out[n++] = dup;
				continue;
			}
		}
		out[n++] = m;
		if (dup != NULL)
			out[n++] = dup;
		/*
		 * m passed: what was held behind it goes now, in the room left
		 * once 2 places are kept for each frame still to come.
		 */
		int room = (int)(2 * nb + TWS_FAULT_RELEASE_MAX) - n - 2 * (nb - 1 - i);

		if (f->nb_held > 0 && room > 0)
			n += release(f, out + n, (uint16_t)room, now_us, true);
	}
	return n;
}

uint16_t
tws_fault_poll(struct tws_fault *f, struct rte_mbuf **out, uint16_t cap, uint64_t now_us)
{
	return f->nb_held > 0 ? release(f, out, cap, now_us, false) : 0;
}

void
tws_fault_stats_get(const struct tws_fault *f, struct tws_fault_stats *s)
{
	*s = f->s;
	s->held = f->nb_held;
}

int
tws_fault_stat_name(unsigned int i, const char **name, const char **desc)
{
	static const char *const names[] = {
#define TWS_X_NAME(nm, d) #nm,
		TWS_FAULT_STATS(TWS_X_NAME)
#undef TWS_X_NAME
	};
	static const char *const descs[] = {
#define TWS_X_DESC(nm, d) d,
		TWS_FAULT_STATS(TWS_X_DESC)
#undef TWS_X_DESC
	};

	return tws_stat_lookup(names, descs, RTE_DIM(names), i, name, desc);
}
