/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two lcores hammer one wheel: the owner arms and cancels its own timers
 * and polls with an injected clock, while a second lcore arms, re-arms and
 * cancels through the lock-free remote ring (kept small so it fills up).
 * Every timer must fire exactly once, never before its deadline, and no
 * cancelled timer may fire.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_pause.h>

#include "tws_test.h"
#include "tws_timer.h"

#define N_REMOTE 200000u
#define N_LOCAL 100000u
#define FAR UINT64_C(10000000) /* never reached while the test runs */

enum kind { K_ONCE, K_REARM, K_CANCEL, K_CANCEL_ARM };

static struct tws_timer *wheel;
static uint64_t pub_now;          /* owner's clock, published for the remote lcore */
static uint64_t deadline[N_REMOTE + N_LOCAL]; /* final deadline, written before the command */
static uint32_t fired[N_REMOTE + N_LOCAL];
static uint64_t fired_at[N_REMOTE + N_LOCAL];
static uint64_t remote_retries;
static int remote_done;

static enum kind
kind_of(uint32_t id)
{
	return (enum kind)(id % 4);
}

static void
send_retry(int (*fn)(struct tws_timer *, uint32_t, uint64_t), uint32_t id, uint64_t d)
{
	while (fn(wheel, id, d) == -ENOBUFS) {
		remote_retries++;
		rte_pause();
	}
}

static int
cancel_fn(struct tws_timer *w, uint32_t id, uint64_t d)
{
	(void)d;
	return tws_timer_cancel_remote(w, id);
}

static int
remote_main(void *arg)
{
	(void)arg;
	for (uint32_t id = 0; id < N_REMOTE; id++) {
		uint64_t now = __atomic_load_n(&pub_now, __ATOMIC_ACQUIRE);
		uint64_t d = now + 1 + (id * 7919u) % 300;

		switch (kind_of(id)) {
		case K_ONCE:
			deadline[id] = d;
			send_retry(tws_timer_arm_remote, id, d);
			break;
		case K_REARM: /* far, then near: must fire once, at the near one */
			deadline[id] = d + 50;
			send_retry(tws_timer_arm_remote, id, now + FAR);
			send_retry(tws_timer_arm_remote, id, d + 50);
			break;
		case K_CANCEL:
			deadline[id] = UINT64_MAX;
			send_retry(tws_timer_arm_remote, id, now + FAR);
			send_retry(cancel_fn, id, 0);
			break;
		case K_CANCEL_ARM: /* far, cancelled, armed again near */
			deadline[id] = d + 400;
			send_retry(tws_timer_arm_remote, id, now + FAR);
			send_retry(cancel_fn, id, 0);
			send_retry(tws_timer_arm_remote, id, d + 400);
			break;
		}
	}
	__atomic_store_n(&remote_done, 1, __ATOMIC_RELEASE);
	return 0;
}

static void
test_two_lcores_no_lost_dup_early(void)
{
	struct tws_timer_params p = {
		.name = "mt", .socket_id = SOCKET_ID_ANY, .capacity = N_REMOTE + N_LOCAL,
		.nb_slots = 1024, .remote_ring_size = 256,
	};
	uint32_t ids[128], local_next = 0;
	uint64_t now = 0, max_deadline = 0, rng = 5;
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);

	wheel = tws_timer_create(&p);
	CHECK(wheel != NULL);
	CHECK(worker < RTE_MAX_LCORE);
	CHECK(rte_eal_remote_launch(remote_main, NULL, worker) == 0);

	/* Bounded: the remote sends 200k ids; 50M polls is far more than enough. */
	for (uint64_t iter = 0; iter < 50000000; iter++) {
		bool done = __atomic_load_n(&remote_done, __ATOMIC_ACQUIRE);

		/* The owner works its own ids at the same time. */
		for (int k = 0; k < 2 && local_next < N_LOCAL; k++, local_next++) {
			uint32_t id = N_REMOTE + local_next;
			uint64_t d = now + 1 + tws_test_rand(&rng) % 500;

			CHECK(tws_timer_arm(wheel, id, d) == 0);
			deadline[id] = d;
			if (local_next % 5 == 0) {
				CHECK(tws_timer_cancel(wheel, id) == 0);
				deadline[id] = UINT64_MAX;
			}
		}
		now++;
		__atomic_store_n(&pub_now, now, __ATOMIC_RELEASE);

		unsigned int n;

		do {
			n = tws_timer_expire(wheel, now, ids, RTE_DIM(ids));
			for (unsigned int i = 0; i < n; i++) {
				uint32_t id = ids[i];

				CHECK(id < N_REMOTE + N_LOCAL);
				fired[id]++;
				fired_at[id] = now;
			}
		} while (n == RTE_DIM(ids));

		if (done && local_next == N_LOCAL) {
			if (max_deadline == 0) {
				max_deadline = now + 1000; /* every finite deadline is before this */
				CHECK(rte_eal_wait_lcore(worker) == 0);
			}
			if (now > max_deadline)
				break;
		}
	}
	CHECK(max_deadline != 0 && now > max_deadline);

	unsigned int expect_fire = 0;

	for (uint32_t id = 0; id < N_REMOTE + N_LOCAL; id++) {
		if (deadline[id] == UINT64_MAX) {
			CHECKF(fired[id] == 0, "cancelled id %u fired %u times", id, fired[id]);
			continue;
		}
		expect_fire++;
		CHECKF(fired[id] == 1, "id %u fired %u times", id, fired[id]);
		CHECKF(fired_at[id] >= deadline[id], "id %u early: %" PRIu64 " < %" PRIu64,
		       id, fired_at[id], deadline[id]);
	}

	struct tws_timer_stats st;

	tws_timer_stats_get(wheel, &st);
	CHECKF(st.remote_sent == st.remote_applied, "sent %" PRIu64 " applied %" PRIu64,
	       st.remote_sent, st.remote_applied);
	CHECK(st.remote_full == remote_retries);
	CHECK(st.remote_bad == 0);
	CHECK(st.expired == expect_fire);
	CHECKF(st.pending == 0, "%" PRIu64 " timers still pending", st.pending);
	printf("# remote ring full %" PRIu64 " times, %" PRIu64 " commands, %u fired\n",
	       remote_retries, st.remote_sent, expect_fire);
	tws_timer_free(wheel);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_two_lcores_no_lost_dup_early),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 2, 256);
	return tws_test_run(cases, TWS_NCASES(cases));
}
