/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the timer wheel (lib/timer). Time is injected: no test
 * sleeps, every deadline is a tick number the test chooses.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "tws_test.h"
#include "tws_timer.h"

#define IDLE UINT64_MAX

static struct tws_timer *
mk(uint32_t capacity, uint32_t nb_slots, uint64_t start)
{
	struct tws_timer_params p = {
		.name = "test",
		.socket_id = SOCKET_ID_ANY,
		.capacity = capacity,
		.nb_slots = nb_slots,
		.start_tick = start,
	};

	return tws_timer_create(&p);
}

/*
 * Expire everything due at @now, @cap ids per call, recording in fired[id]
 * the now at which each id came back. Returns the number of ids, or -1 if an
 * id came back twice.
 */
static long
drain(struct tws_timer *w, uint64_t now, unsigned int cap, uint64_t *fired, uint32_t capacity)
{
	uint32_t ids[1024];
	unsigned int n;
	long total = 0;

	do {
		n = tws_timer_expire(w, now, ids, cap);
		for (unsigned int i = 0; i < n; i++) {
			if (ids[i] >= capacity || fired[ids[i]] != IDLE)
				return -1;
			fired[ids[i]] = now;
		}
		total += n;
	} while (n == cap);
	return total;
}

static void
test_create_rejects_bad_params(void)
{
	struct tws_timer_params ok = { .capacity = 16, .socket_id = SOCKET_ID_ANY };
	struct tws_timer_params p;

	CHECK(tws_timer_create(NULL) == NULL && rte_errno == EINVAL);

	p = ok;
	p.capacity = 0; /* zero-size wheel */
	CHECK(tws_timer_create(&p) == NULL && rte_errno == EINVAL);
	CHECK(tws_timer_memory_size(&p) == 0);

	p = ok;
	p.capacity = TWS_TIMER_MAX_CAPACITY + 1;
	CHECK(tws_timer_create(&p) == NULL && rte_errno == EINVAL);

	p = ok;
	p.nb_slots = 1000; /* not a power of two */
	CHECK(tws_timer_create(&p) == NULL && rte_errno == EINVAL);

	p = ok;
	p.tick_ns = 1000; /* horizon would be 18 minutes */
	CHECK(tws_timer_create(&p) == NULL && rte_errno == EINVAL);

	p = ok;
	p.nb_fixed = TWS_TIMER_MAX_FIXED + 1;
	CHECK(tws_timer_create(&p) == NULL && rte_errno == EINVAL);

	p = ok;
	p.nb_fixed = 1;
	p.fixed_ticks[0] = 0;
	CHECK(tws_timer_create(&p) == NULL && rte_errno == EINVAL);

	p = ok;
	p.orphan_room = 17; /* more than wheel_size (= capacity 16) */
	CHECK(tws_timer_create(&p) == NULL && rte_errno == EINVAL);

	p = ok;
	struct tws_timer *w = tws_timer_create(&p);

	CHECK(w != NULL);
	CHECK(tws_timer_memory_size(&p) > 16 * sizeof(uint32_t));
	tws_timer_free(w);
	tws_timer_free(NULL);
}

/* Every timer fires at the first expiry call whose now reaches its deadline. */
static void
test_expiry_exact_never_early(void)
{
	const uint32_t cap = 100000;
	uint64_t *dl = malloc(cap * sizeof(*dl)), *fired = malloc(cap * sizeof(*fired));
	uint64_t rng = 1, now = 1000, prev;
	struct tws_timer *w = mk(cap, 1024, now);

	CHECK(w != NULL && dl != NULL && fired != NULL);
	for (uint32_t i = 0; i < cap; i++) {
		/* Up to 20 revolutions of the 1024-slot wheel. */
		dl[i] = now + 1 + tws_test_rand(&rng) % 20000;
		fired[i] = IDLE;
		CHECK(tws_timer_arm(w, i, dl[i]) == 0);
	}
	while (now < 1000 + 20001) {
		prev = now;
		now += 1 + tws_test_rand(&rng) % 37;
		CHECK(drain(w, now, 256, fired, cap) >= 0);
		(void)prev;
	}
	for (uint32_t i = 0; i < cap; i++) {
		CHECKF(fired[i] != IDLE, "timer %u never fired", i);
		CHECKF(fired[i] >= dl[i], "timer %u fired at %" PRIu64 " before %" PRIu64,
		       i, fired[i], dl[i]);
		CHECK(!tws_timer_is_pending(w, i));
	}
	/* Exactness: the first call with now >= deadline returned it (steps < 37). */
	for (uint32_t i = 0; i < cap; i++)
		CHECKF(fired[i] - dl[i] < 37, "timer %u late by %" PRIu64, i, fired[i] - dl[i]);
	struct tws_timer_stats st;

	tws_timer_stats_get(w, &st);
	CHECK(st.expired == cap && st.pending == 0);
	tws_timer_free(w);
	free(dl);
	free(fired);
}

/* One tick at a time: each timer fires exactly at its deadline tick. */
static void
test_expiry_tick_by_tick(void)
{
	const uint32_t cap = 5000;
	uint64_t dl[5000], fired[5000], rng = 7;
	struct tws_timer *w = mk(cap, 64, 0);

	CHECK(w != NULL);
	for (uint32_t i = 0; i < cap; i++) {
		dl[i] = 1 + tws_test_rand(&rng) % 3000;
		fired[i] = IDLE;
		CHECK(tws_timer_arm(w, i, dl[i]) == 0);
	}
	for (uint64_t now = 0; now <= 3000; now++)
		CHECK(drain(w, now, 7, fired, cap) >= 0);
	for (uint32_t i = 0; i < cap; i++)
		CHECKF(fired[i] == dl[i], "timer %u deadline %" PRIu64 " fired %" PRIu64,
		       i, dl[i], fired[i]);
	tws_timer_free(w);
}

static void
test_cancel_expired_not_handed_back(void)
{
	uint64_t fired[64];
	uint32_t ids[8];
	struct tws_timer *w = mk(64, 64, 0);

	CHECK(w != NULL);
	for (uint32_t i = 0; i < 20; i++)
		CHECK(tws_timer_arm(w, i, 5) == 0);
	CHECK(tws_timer_expire(w, 5, ids, 3) == 3); /* cap: 17 expired, not handed back */
	for (unsigned int k = 0; k < 3; k++)
		CHECK(!tws_timer_is_pending(w, ids[k]));
	for (uint32_t i = 0; i < 64; i++)
		fired[i] = IDLE;
	fired[ids[0]] = fired[ids[1]] = fired[ids[2]] = 5;

	unsigned int cancelled = 0;

	for (uint32_t i = 0; i < 20; i++) {
		if (fired[i] != IDLE)
			continue;
		if (i % 2 == 0) {
			CHECK(tws_timer_cancel(w, i) == 0);
			CHECK(tws_timer_cancel(w, i) == -ENOENT); /* twice is harmless */
			fired[i] = 0; /* marks "must not come back" */
			cancelled++;
		}
	}
	long n = drain(w, 5, 4, fired, 64);

	CHECK(n == (long)(17 - cancelled));
	for (uint32_t i = 0; i < 20; i++)
		CHECK(fired[i] == 5 || fired[i] == 0);
	CHECK(drain(w, 1000, 4, fired, 64) == 0);
	tws_timer_free(w);
}

static void
test_rearm_from_expiry_handler(void)
{
	uint32_t ids[4];
	struct tws_timer *w = mk(8, 64, 100);
	unsigned int hits = 0;

	CHECK(w != NULL);
	CHECK(tws_timer_arm(w, 3, 110) == 0);
	for (uint64_t now = 100; now <= 160; now++) {
		unsigned int n = tws_timer_expire(w, now, ids, 4);

		for (unsigned int i = 0; i < n; i++) {
			CHECK(ids[i] == 3);
			CHECKF(now == 110 + 10 * hits, "fired at %" PRIu64 " hit %u", now, hits);
			hits++;
			/* Re-arm from the "handler", before the next expiry call. */
			CHECK(tws_timer_arm(w, 3, now + 10) == 0);
		}
	}
	CHECK(hits == 6);
	/* A deadline already processed fires with the next tick, not in the past. */
	CHECK(tws_timer_current(w) == 161);
	CHECK(tws_timer_arm(w, 5, 0) == 0);
	CHECK(tws_timer_expire(w, 160, ids, 4) == 0);
	CHECK(tws_timer_expire(w, 161, ids, 4) == 1 && ids[0] == 5);
	struct tws_timer_stats st;

	tws_timer_stats_get(w, &st);
	CHECK(st.clamped == 1);
	tws_timer_free(w);
}

/* Re-arming later updates in place, earlier moves; both fire exactly. */
static void
test_rearm_later_and_earlier(void)
{
	uint64_t fired[4] = { IDLE, IDLE, IDLE, IDLE };
	struct tws_timer *w = mk(4, 64, 0);

	CHECK(w != NULL);
	CHECK(tws_timer_arm(w, 0, 10) == 0);
	CHECK(tws_timer_arm(w, 1, 50) == 0);
	CHECK(tws_timer_arm(w, 2, 10) == 0);
	CHECK(tws_timer_arm(w, 0, 500) == 0);  /* later: several revolutions */
	CHECK(tws_timer_arm(w, 1, 20) == 0);   /* earlier */
	CHECK(tws_timer_arm(w, 2, 74) == 0);   /* later, same slot as 10 */
	for (uint64_t now = 0; now <= 600; now++)
		CHECK(drain(w, now, 2, fired, 4) >= 0);
	CHECK(fired[0] == 500 && fired[1] == 20 && fired[2] == 74 && fired[3] == IDLE);
	struct tws_timer_stats st;

	tws_timer_stats_get(w, &st);
	CHECK(st.rearmed == 3 && st.armed == 3 && st.moved >= 1);
	tws_timer_free(w);
}

/* The low 32 bits of the tick wrap while timers are pending. */
static void
test_tick_wraparound(void)
{
	const uint32_t cap = 3000;
	const uint64_t start = (UINT64_C(1) << 32) - 1500;
	uint64_t dl[3000], fired[3000], rng = 3;
	struct tws_timer *w = mk(cap, 256, start);

	CHECK(w != NULL);
	for (uint32_t i = 0; i < cap; i++) {
		dl[i] = start + 1 + tws_test_rand(&rng) % 3000; /* both sides of 2^32 */
		fired[i] = IDLE;
		CHECK(tws_timer_arm(w, i, dl[i]) == 0);
	}
	/* Fixed queue across the wrap too. */
	struct tws_timer_params p = {
		.capacity = 4, .socket_id = SOCKET_ID_ANY, .start_tick = start,
		.nb_fixed = 1, .fixed_ticks = { 2000 },
	};
	struct tws_timer *f = tws_timer_create(&p);
	uint64_t ffired[4] = { IDLE, IDLE, IDLE, IDLE };

	CHECK(f != NULL);
	CHECK(tws_timer_arm_fixed(f, 1, 0, start) == 0);
	for (uint64_t now = start; now <= start + 3001; now++) {
		CHECK(drain(w, now, 64, fired, cap) >= 0);
		CHECK(drain(f, now, 4, ffired, 4) >= 0);
	}
	for (uint32_t i = 0; i < cap; i++)
		CHECKF(fired[i] == dl[i], "timer %u", i);
	CHECK(ffired[1] == start + 2000);
	CHECK(tws_timer_current(w) == start + 3002);
	tws_timer_free(w);
	tws_timer_free(f);
}

static void
test_horizon(void)
{
	uint64_t fired[4] = { IDLE, IDLE, IDLE, IDLE };
	struct tws_timer *w = mk(4, 1024, 1000);
	struct tws_timer_stats st;

	CHECK(w != NULL);
	CHECK(tws_timer_arm(w, 0, 1000 + TWS_TIMER_HORIZON + 1) == -EINVAL);
	CHECK(!tws_timer_is_pending(w, 0));
	CHECK(tws_timer_arm(w, 1, 1000 + TWS_TIMER_HORIZON) == 0);
	CHECK(tws_timer_arm(w, 2, 1000 + 24 * 3600 * 1000) == 0); /* 24 h at 1 ms */
	/* Re-arming a pending timer beyond the horizon leaves it armed as it was. */
	CHECK(tws_timer_arm(w, 2, UINT64_MAX) == -EINVAL);
	CHECK(tws_timer_is_pending(w, 2));
	/* Jump in large steps: idle ticks are skipped, not walked. */
	CHECK(drain(w, 1000 + 24 * 3600 * 1000 - 1, 4, fired, 4) == 0);
	CHECK(drain(w, 1000 + 24 * 3600 * 1000, 4, fired, 4) == 1);
	CHECK(fired[2] == 1000 + 24 * 3600 * 1000);
	CHECK(drain(w, 1000 + TWS_TIMER_HORIZON - 1, 4, fired, 4) == 0);
	CHECK(drain(w, 1000 + TWS_TIMER_HORIZON, 4, fired, 4) == 1);
	CHECK(fired[1] == 1000 + TWS_TIMER_HORIZON && fired[0] == IDLE);
	tws_timer_stats_get(w, &st);
	CHECK(st.bad_input == 2 && st.pending == 0);
	tws_timer_free(w);
}

static void
test_cap_per_call(void)
{
	const uint32_t cap = 10000;
	uint64_t *fired = malloc(cap * sizeof(*fired));
	uint32_t ids[100];
	struct tws_timer *w = mk(cap, 64, 0);
	unsigned int calls = 0, n;
	long total = 0;

	CHECK(w != NULL && fired != NULL);
	for (uint32_t i = 0; i < cap; i++) {
		fired[i] = IDLE;
		CHECK(tws_timer_arm(w, i, 1 + i % 3) == 0);
	}
	do {
		n = tws_timer_expire(w, 10, ids, 100);
		CHECK(n <= 100);
		for (unsigned int i = 0; i < n; i++) {
			CHECK(fired[ids[i]] == IDLE);
			fired[ids[i]] = 10;
		}
		total += n;
		calls++;
		/* Arms made while expiry is paused mid-slot still fire exactly once. */
		if (calls == 5) {
			CHECK(tws_timer_arm(w, ids[0], 2) == 0);
			fired[ids[0]] = IDLE;
		}
	} while (n == 100);
	CHECK(total == cap + 1);
	CHECK(calls == 101);
	for (uint32_t i = 0; i < cap; i++)
		CHECK(fired[i] == 10);
	free(fired);
	tws_timer_free(w);
}

static void
test_bad_ids_change_nothing(void)
{
	uint64_t fired[8];
	struct tws_timer_stats st;
	struct tws_timer_params p = {
		.capacity = 8, .socket_id = SOCKET_ID_ANY, .nb_fixed = 1, .fixed_ticks = { 30 },
	};
	struct tws_timer *w = tws_timer_create(&p);

	CHECK(w != NULL);
	for (uint32_t i = 0; i < 8; i++) {
		fired[i] = IDLE;
		CHECK(tws_timer_arm(w, i, 10 + i) == 0);
	}
	CHECK(tws_timer_arm(w, 8, 5) == -EINVAL);            /* foreign id */
	CHECK(tws_timer_arm(w, UINT32_MAX, 5) == -EINVAL);
	CHECK(tws_timer_cancel(w, 8) == -EINVAL);
	CHECK(tws_timer_arm_fixed(w, 9, 0, 0) == -EINVAL);
	CHECK(tws_timer_arm_fixed(w, 1, 1, 0) == -EINVAL);   /* no queue 1 */
	CHECK(tws_timer_arm_remote(w, 8, 5) == -EINVAL);
	CHECK(tws_timer_is_pending(w, 8) == 0);
	tws_timer_stats_get(w, &st);
	CHECK(st.bad_input == 5 && st.pending == 8);
	for (uint64_t now = 0; now < 20; now++)
		CHECK(drain(w, now, 8, fired, 8) >= 0);
	for (uint32_t i = 0; i < 8; i++)
		CHECK(fired[i] == 10 + i);
	tws_timer_free(w);
}

static void
test_fixed_queue(void)
{
	const uint32_t cap = 2000;
	uint64_t fired[2000], want[2000];
	struct tws_timer_params p = {
		.capacity = cap, .socket_id = SOCKET_ID_ANY, .start_tick = 50,
		.nb_fixed = 2, .fixed_ticks = { 60000, 7 }, .fixed_size = { 0, 4 },
	};
	struct tws_timer *w = tws_timer_create(&p);

	CHECK(w != NULL);
	for (uint32_t i = 0; i < cap; i++) {
		fired[i] = IDLE;
		want[i] = IDLE;
	}
	/* 1000 TIME_WAIT-like timers created over 1000 ticks. */
	for (uint32_t i = 0; i < 1000; i++) {
		CHECK(tws_timer_arm_fixed(w, i, 0, 50 + i) == 0);
		want[i] = 50 + i + 60000;
	}
	/* Restart some (retransmitted FIN): they move to the tail. */
	for (uint32_t i = 0; i < 1000; i += 10) {
		CHECK(tws_timer_arm_fixed(w, i, 0, 2000) == 0);
		want[i] = 2000 + 60000;
	}
	/* Cancel some (SYN accepted, RST): never fire. */
	for (uint32_t i = 5; i < 1000; i += 10) {
		CHECK(tws_timer_cancel(w, i) == 0);
		want[i] = IDLE;
	}
	/* A wheel timer moved onto a fixed queue and back. */
	CHECK(tws_timer_arm(w, 1500, 100) == 0);
	CHECK(tws_timer_arm_fixed(w, 1500, 1, 60) == 0);
	want[1500] = 67;
	CHECK(tws_timer_arm(w, 1501, 200) == 0);
	CHECK(tws_timer_arm_fixed(w, 1501, 1, 61) == 0);
	CHECK(tws_timer_arm(w, 1501, 300) == 0);
	want[1501] = 300;
	/* Queue 1 holds 4 records: two live, then full. */
	CHECK(tws_timer_arm_fixed(w, 1502, 1, 62) == 0);
	CHECK(tws_timer_arm_fixed(w, 1503, 1, 62) == 0); /* 4 records (one tombstone) */
	CHECK(tws_timer_arm_fixed(w, 1504, 1, 62) == -ENOSPC);
	CHECK(!tws_timer_is_pending(w, 1504));
	want[1502] = want[1503] = 69;

	for (uint64_t now = 50; now <= 63000; now++)
		CHECK(drain(w, now, 16, fired, cap) >= 0);
	for (uint32_t i = 0; i < cap; i++)
		CHECKF(fired[i] == want[i], "timer %u fired %" PRIu64 " want %" PRIu64,
		       i, fired[i], want[i]);
	/* Tombstones were reclaimed: the small queue takes 4 again. */
	for (uint32_t i = 0; i < 4; i++)
		CHECK(tws_timer_arm_fixed(w, 1600 + i, 1, 63000) == 0);
	struct tws_timer_stats st;

	tws_timer_stats_get(w, &st);
	CHECK(st.fixed_full == 1 && st.pending == 4);
	tws_timer_free(w);
}

/*
 * Model-based: a million random operations (arm, re-arm, arm on a fixed
 * queue, cancel, expire with a random cap, time steps from 0 to beyond a
 * revolution) checked against a plain array of deadlines.
 */
static void
test_model_random_ops(void)
{
	const uint32_t cap = 4096;
	const uint32_t fixed[2] = { 600, 40 };
	uint64_t model[4096], rng = 12345, now = 77, served = 76;
	uint32_t ids[64];
	struct tws_timer_params p = {
		.capacity = cap, .socket_id = SOCKET_ID_ANY, .nb_slots = 256, .start_tick = now,
		.nb_fixed = 2, .fixed_ticks = { fixed[0], fixed[1] },
	};
	struct tws_timer *w = tws_timer_create(&p);
	uint64_t ops = 0, fires = 0;

	CHECK(w != NULL);
	for (uint32_t i = 0; i < cap; i++)
		model[i] = IDLE;
	while (ops < 1000000) {
		uint64_t r = tws_test_rand(&rng);
		uint32_t id = (uint32_t)(r >> 32) % cap;

		ops++;
		switch (r % 16) {
		case 0: case 1: case 2: case 3: case 4: {
			uint64_t d = now + (r >> 8) % ((r & 0x100) ? 2000 : 60) - 5;

			CHECK(tws_timer_arm(w, id, d) == 0);
			/* Past deadlines fire at the next expiry call. */
			model[id] = d <= served ? served + 1 : d;
			break;
		}
		case 5: case 6: {
			unsigned int q = (r >> 9) & 1;

			CHECK(tws_timer_arm_fixed(w, id, q, now) == 0);
			model[id] = now + fixed[q] <= served ? served + 1 : now + fixed[q];
			break;
		}
		case 7: case 8: {
			int rc = tws_timer_cancel(w, id);

			CHECKF(rc == (model[id] == IDLE ? -ENOENT : 0), "cancel %u rc %d", id, rc);
			model[id] = IDLE;
			break;
		}
		case 9:
			CHECK(tws_timer_is_pending(w, id) == (model[id] != IDLE));
			break;
		default: {
			/* Mostly small steps; sometimes none, sometimes over a revolution. */
			uint64_t step = (r >> 12) % 64 == 0 ? 300 + (r >> 20) % 3000 : (r >> 12) % 3;
			unsigned int capn = 1 + (r >> 40) % 64;
			unsigned int n;

			now += step;
			do {
				n = tws_timer_expire(w, now, ids, capn);
				for (unsigned int k = 0; k < n; k++) {
					uint32_t x = ids[k];

					CHECKF(model[x] != IDLE, "id %u fired while idle", x);
					CHECKF(model[x] <= now, "id %u early: due %" PRIu64 " now %" PRIu64,
					       x, model[x], now);
					model[x] = IDLE;
					fires++;
				}
				/* Stop half-way sometimes: the rest must survive other ops. */
			} while (n == capn && (r >> 50) % 4 != 0);
			if (n < capn) {
				/* Drained: nothing due may be left behind (late expiry). */
				for (uint32_t k = (uint32_t)(r >> 24) % 61; k < cap; k += 61)
					CHECKF(model[k] == IDLE || model[k] > now,
					       "id %u due %" PRIu64 " not fired by %" PRIu64, k, model[k], now);
				served = now;
			}
			break;
		}
		}
	}
	struct tws_timer_stats st;
	uint64_t live = 0;

	for (uint32_t i = 0; i < cap; i++)
		live += model[i] != IDLE;
	tws_timer_stats_get(w, &st);
	CHECKF(st.pending == live, "pending %" PRIu64 " model %" PRIu64, st.pending, live);
	CHECK(fires > 100000 && st.moved > 0);
	tws_timer_free(w);
}

/* Re-arming earlier leaves bounded orphans; past the bound records are moved. */
static void
test_rearm_earlier_orphans_bounded(void)
{
	const uint32_t cap = 600; /* 75 orphans allowed */
	uint64_t fired[600], want[600];
	struct tws_timer *w = mk(cap, 64, 0);
	struct tws_timer_stats st;

	CHECK(w != NULL);
	for (unsigned int round = 0; round < 5; round++) {
		uint64_t base = round * 10000;

		for (uint32_t i = 0; i < cap; i++) {
			fired[i] = IDLE;
			CHECK(tws_timer_arm(w, i, base + 5000 + i) == 0);
		}
		/* Earlier, then earlier again, then cancel a third. */
		for (uint32_t i = 0; i < cap; i++) {
			CHECK(tws_timer_arm(w, i, base + 3000 + i) == 0);
			want[i] = base + 100 + (i * 7) % 900;
			CHECK(tws_timer_arm(w, i, want[i]) == 0);
			if (i % 3 == 0) {
				CHECK(tws_timer_cancel(w, i) == 0);
				want[i] = IDLE;
			}
		}
		tws_timer_stats_get(w, &st);
		CHECKF(st.wheel_records <= cap + cap / 8, "%" PRIu64 " records", st.wheel_records);
		for (uint64_t now = base; now < base + 10000; now++)
			CHECK(drain(w, now, 32, fired, cap) >= 0);
		for (uint32_t i = 0; i < cap; i++)
			CHECKF(fired[i] == want[i], "round %u timer %u", round, i);
		tws_timer_stats_get(w, &st);
		CHECKF(st.pending == 0 && st.wheel_records == 0, "%" PRIu64 " records left",
		       st.wheel_records);
	}
	tws_timer_free(w);
}

/* Timers a revolution ahead wait on a side stack while their slot is processed. */
static void
test_cancel_while_parked(void)
{
	uint64_t fired[100];
	uint32_t ids[10];
	struct tws_timer *w = mk(100, 64, 0);
	struct tws_timer_stats st;

	CHECK(w != NULL);
	for (uint32_t i = 0; i < 100; i++)
		fired[i] = IDLE;
	for (uint32_t i = 0; i < 50; i++)
		CHECK(tws_timer_arm(w, i, 5) == 0);
	for (uint32_t i = 50; i < 100; i++) /* same slot, one or two revolutions later */
		CHECK(tws_timer_arm(w, i, i < 75 ? 5 + 64 : 5 + 128) == 0);
	/* Popped first (top of the stack), parked, then the cap pauses expiry. */
	CHECK(tws_timer_expire(w, 5, ids, 10) == 10);
	for (unsigned int k = 0; k < 10; k++) {
		CHECK(ids[k] < 50);
		fired[ids[k]] = 5;
	}
	for (uint32_t i = 50; i < 100; i += 2)
		CHECK(tws_timer_cancel(w, i) == 0);
	CHECK(tws_timer_arm(w, 51, 7) == 0); /* re-armed earlier while parked */
	for (uint64_t now = 5; now < 300; now++)
		CHECK(drain(w, now, 10, fired, 100) >= 0);
	for (uint32_t i = 0; i < 100; i++) {
		uint64_t want = i < 50 ? 5 : (i % 2 == 0) ? IDLE : i == 51 ? 7 : i < 75 ? 69 : 133;

		CHECKF(fired[i] == want, "timer %u fired %" PRIu64, i, fired[i]);
	}
	tws_timer_stats_get(w, &st);
	CHECK(st.pending == 0 && st.wheel_records == 0);
	tws_timer_free(w);
}

/* Burst calls behave exactly as the same single calls in order. */
static void
test_burst_equals_single_calls(void)
{
	const uint32_t cap = 3000;
	struct tws_timer *a = mk(cap, 256, 0), *b = mk(cap, 256, 0);
	uint64_t rng = 42, now = 0, fa[3000], fb[3000];
	uint32_t ids[40];
	uint64_t dls[40];

	CHECK(a != NULL && b != NULL);
	for (uint32_t i = 0; i < cap; i++)
		fa[i] = fb[i] = IDLE;
	for (unsigned int round = 0; round < 2000; round++) {
		unsigned int m = 1 + tws_test_rand(&rng) % 40, ok = 0;

		for (unsigned int i = 0; i < m; i++) {
			/* Some ids repeat within a burst, a few are out of range. */
			ids[i] = (uint32_t)(tws_test_rand(&rng) % (i > 0 && i % 7 == 0 ? 3001 : 3000));
			if (i > 2 && i % 5 == 0)
				ids[i] = ids[i - 2];
			dls[i] = now + tws_test_rand(&rng) % 700;
		}
		if (round % 3 == 0) {
			for (unsigned int i = 0; i < m; i++)
				ok += tws_timer_cancel(b, ids[i]) == 0;
			CHECK(tws_timer_cancel_burst(a, ids, m) == ok);
		} else {
			for (unsigned int i = 0; i < m; i++)
				ok += tws_timer_arm(b, ids[i], dls[i]) == 0;
			CHECK(tws_timer_arm_burst(a, ids, dls, m) == ok);
		}
		now += tws_test_rand(&rng) % 5;
		CHECK(drain(a, now, 16, fa, cap) == drain(b, now, 16, fb, cap));
		for (uint32_t i = 0; i < cap; i++) {
			CHECK(fa[i] == fb[i]);
			fa[i] = fb[i] = IDLE;
		}
	}
	for (uint32_t i = 0; i < cap; i++)
		CHECK(tws_timer_is_pending(a, i) == tws_timer_is_pending(b, i));
	tws_timer_free(a);
	tws_timer_free(b);
}

static void
test_stats_names(void)
{
	const char *name, *desc;

	CHECK(TWS_TIMER_STATS_COUNT == 13);
	for (unsigned int i = 0; i < TWS_TIMER_STATS_COUNT; i++) {
		CHECK(tws_timer_stat_name(i, &name, &desc) == 0);
		CHECK(name[0] != '\0' && desc[0] != '\0');
	}
	CHECK(tws_timer_stat_name(TWS_TIMER_STATS_COUNT, &name, &desc) == -EINVAL);
	CHECK(tws_timer_stat_name(0, &name, &desc) == 0 && strcmp(name, "armed") == 0);
}

/* Ten million pending timers: all fire, exactly once, at their deadline. */
static void
test_ten_million_pending(void)
{
	const uint32_t cap = 10000000;
	uint32_t *got = calloc(cap, sizeof(*got));
	uint32_t ids[512];
	uint64_t rng = 99, total = 0;
	struct tws_timer *w = mk(cap, 0, 0);
	struct tws_timer_stats st;

	CHECK(w != NULL && got != NULL);
	for (uint32_t i = 0; i < cap; i++)
		CHECK(tws_timer_arm(w, i, 1 + (i * UINT64_C(2654435761) + 17) % 60000) == 0);
	tws_timer_stats_get(w, &st);
	CHECK(st.pending == cap);
	CHECKF(st.memory_bytes / cap <= 16, "%" PRIu64 " bytes per timer",
	       st.memory_bytes / cap);
	/* Cancel a tenth. */
	for (uint32_t k = 0; k < cap / 10; k++) {
		uint32_t id = (uint32_t)(tws_test_rand(&rng) % cap);

		if (tws_timer_cancel(w, id) == 0)
			got[id] = UINT32_MAX;
	}
	for (uint64_t now = 0; now <= 60000; now += 50) {
		unsigned int n;

		do {
			n = tws_timer_expire(w, now, ids, 512);
			for (unsigned int k = 0; k < n; k++) {
				uint32_t id = ids[k];
				uint64_t dl = 1 + (id * UINT64_C(2654435761) + 17) % 60000;

				CHECK(got[id] == 0);
				CHECK(dl <= now && dl + 50 > now);
				got[id] = 1;
			}
			total += n;
		} while (n == 512);
	}
	for (uint32_t i = 0; i < cap; i++)
		CHECK(got[i] != 0);
	tws_timer_stats_get(w, &st);
	CHECK(st.pending == 0 && st.expired == total);
	free(got);
	tws_timer_free(w);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_create_rejects_bad_params),
		TWS_TEST(test_expiry_exact_never_early),
		TWS_TEST(test_expiry_tick_by_tick),
		TWS_TEST(test_cancel_expired_not_handed_back),
		TWS_TEST(test_rearm_from_expiry_handler),
		TWS_TEST(test_rearm_later_and_earlier),
		TWS_TEST(test_tick_wraparound),
		TWS_TEST(test_horizon),
		TWS_TEST(test_cap_per_call),
		TWS_TEST(test_bad_ids_change_nothing),
		TWS_TEST(test_fixed_queue),
		TWS_TEST(test_model_random_ops),
		TWS_TEST(test_rearm_earlier_orphans_bounded),
		TWS_TEST(test_cancel_while_parked),
		TWS_TEST(test_burst_equals_single_calls),
		TWS_TEST(test_stats_names),
		TWS_TEST(test_ten_million_pending),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 512);
	return tws_test_run(cases, TWS_NCASES(cases));
}
