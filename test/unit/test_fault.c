/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fault link (tws_fault): parameter checks; with no fault every frame
 * passes in order; loss, duplication, reordering and delay each at its
 * rate (binomial bounds), frames numbered so order, copies and absences
 * are seen; delays released exactly when due and in order; the held limit;
 * a duplicate without mbufs; the same seed, the same faults; nothing leaks.
 * Time is injected.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tws_runtime.h"
#include "tws_test.h"

#define NB_POOL 8191
#define BURST 32

static struct rte_mempool *mp;

static struct rte_mbuf *
frame(uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m == NULL)
		return NULL;
	char *p = rte_pktmbuf_append(m, 64);

	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p + 4, 0, 60);
	memcpy(p, &seq, 4);
	return m;
}

static uint32_t
seq_of(const struct rte_mbuf *m)
{
	return *rte_pktmbuf_mtod(m, const uint32_t *);
}

/* Frames that came out of the link, by sequence number, in order. */
static uint32_t got[400000];
static unsigned int nb_got;

static void
collect(struct rte_mbuf **out, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (nb_got < RTE_DIM(got))
			got[nb_got++] = seq_of(out[i]);
		rte_pktmbuf_free(out[i]);
	}
}

/*
 * Send nb frames in bursts, one burst per microsecond from t0, then poll
 * until now_end. Returns false if the pool ran dry (the test's fault).
 */
static bool
run(struct tws_fault *f, uint32_t nb, uint64_t t0, uint64_t t_end)
{
	struct rte_mbuf *in[BURST], *out[2 * BURST + TWS_FAULT_RELEASE_MAX];
	uint64_t t = t0;

	nb_got = 0;
	for (uint32_t s = 0; s < nb; t++) {
		uint16_t k = 0;

		while (k < BURST && s < nb) {
			in[k] = frame(s++);
			if (in[k] == NULL)
				return false;
			k++;
		}
		collect(out, tws_fault_apply(f, in, k, out, t));
	}
	for (; t <= t_end; t += 50) {
		uint16_t n;

		while ((n = tws_fault_poll(f, out, RTE_DIM(out), t)) > 0)
			collect(out, n);
	}
	return true;
}

/* |x - n p| within 5 standard deviations of a binomial(n, p). */
static bool
near(uint64_t x, uint64_t n, double p)
{
	double sd = sqrt((double)n * p * (1 - p));

	return fabs((double)x - (double)n * p) <= 5 * sd + 1;
}

static void
test_params(void)
{
	static const struct tws_fault_params bad[] = {
		{ .loss_ppm = TWS_FAULT_PPM + 1 },
		{ .dup_ppm = TWS_FAULT_PPM + 1 },
		{ .reorder_ppm = 600000, .delay_ppm = 500000, .delay_us = 10 },
		{ .delay_ppm = 10 },                        /* no delay_us */
		{ .delay_ppm = 10, .delay_us = 10000001 },
		{ .reorder_ppm = 10, .reorder_max_us = 10000001 },
	};

	for (unsigned int i = 0; i < RTE_DIM(bad); i++) {
		rte_errno = 0;
		CHECKF(tws_fault_create(&bad[i]) == NULL && rte_errno == EINVAL, "case %u", i);
	}
	rte_errno = 0;
	CHECK(tws_fault_create(NULL) == NULL && rte_errno == EINVAL);

	struct tws_fault *f = tws_fault_create(&(struct tws_fault_params){
		.loss_ppm = TWS_FAULT_PPM, .reorder_ppm = 500000, .delay_ppm = 500000,
		.delay_us = 10000000 });

	CHECK(f != NULL);
	tws_fault_free(f);
	tws_fault_free(NULL);

	const char *name, *desc;

	CHECK(tws_fault_stat_name(0, &name, &desc) == 0 && strcmp(name, "frames") == 0);
	CHECK(tws_fault_stat_name(1000, &name, &desc) == -EINVAL);
}

static void
test_clean(void)
{
	unsigned int base = rte_mempool_avail_count(mp);
	struct tws_fault *f = tws_fault_create(&(struct tws_fault_params){ .seed = 1 });
	struct tws_fault_stats s;

	CHECK(f != NULL);
	CHECK(run(f, 100000, 1000, 2000));
	CHECK(nb_got == 100000);
	for (unsigned int i = 0; i < nb_got; i++)
		CHECKF(got[i] == i, "position %u: frame %u", i, got[i]);
	tws_fault_stats_get(f, &s);
	CHECK(s.frames == 100000 && s.dropped == 0 && s.duplicated == 0 && s.reordered == 0 &&
	      s.delayed == 0 && s.held == 0);
	tws_fault_free(f);
	CHECK(rte_mempool_avail_count(mp) == base);
}

static void
test_loss(void)
{
	unsigned int base = rte_mempool_avail_count(mp);
	struct tws_fault *f = tws_fault_create(&(struct tws_fault_params){
		.loss_ppm = 50000, .seed = 2 });
	struct tws_fault_stats s;

	CHECK(f != NULL);
	CHECK(run(f, 200000, 1000, 2000));
	tws_fault_stats_get(f, &s);
	CHECKF(near(s.dropped, 200000, 0.05), "dropped %lu", (unsigned long)s.dropped);
	CHECK(nb_got == 200000 - s.dropped);
	for (unsigned int i = 1; i < nb_got; i++)
		CHECK(got[i] > got[i - 1]); /* the rest in order */
	tws_fault_free(f);
	CHECK(rte_mempool_avail_count(mp) == base);
}

static void
test_dup(void)
{
	unsigned int base = rte_mempool_avail_count(mp);
	struct tws_fault *f = tws_fault_create(&(struct tws_fault_params){
		.dup_ppm = 20000, .seed = 3 });
	struct tws_fault_stats s;
	unsigned int twice = 0;

	CHECK(f != NULL);
	CHECK(run(f, 100000, 1000, 2000));
	tws_fault_stats_get(f, &s);
	CHECKF(near(s.duplicated, 100000, 0.02), "duplicated %lu", (unsigned long)s.duplicated);
	CHECK(nb_got == 100000 + s.duplicated);
	/* Every frame once, a duplicate right after its original. */
	for (unsigned int i = 0, want = 0; i < nb_got; i++) {
		if (i > 0 && got[i] == got[i - 1]) {
			twice++;
			continue;
		}
		CHECKF(got[i] == want, "position %u: frame %u, want %u", i, got[i], want);
		want++;
	}
	CHECK(twice == s.duplicated);
	tws_fault_free(f);
	CHECK(rte_mempool_avail_count(mp) == base);
}

static uint32_t pos_of[100000];

static void
test_reorder(void)
{
	unsigned int base = rte_mempool_avail_count(mp);
	struct tws_fault *f = tws_fault_create(&(struct tws_fault_params){
		.reorder_ppm = 100000, .reorder_max_us = 300, .seed = 4 });
	struct tws_fault_stats s;
	unsigned int late = 0;

	CHECK(f != NULL);
	CHECK(run(f, 100000, 1000, 5000));
	tws_fault_stats_get(f, &s);
	CHECKF(near(s.reordered, 100000, 0.10), "reordered %lu", (unsigned long)s.reordered);
	CHECK(nb_got == 100000 && s.held == 0);
	/* A permutation; each frame held back comes after a later one, and never far. */
	memset(pos_of, 0xff, sizeof(pos_of));
	for (unsigned int i = 0; i < nb_got; i++) {
		CHECK(got[i] < 100000 && pos_of[got[i]] == UINT32_MAX);
		pos_of[got[i]] = i;
	}
	for (uint32_t q = 0; q < 100000; q++) {
		if (q + 1 < 100000 && pos_of[q] > pos_of[q + 1])
			late++;
		CHECKF(pos_of[q] <= q + 64, "frame %u at %u", q, pos_of[q]);
	}
	/* A run of held frames leaves together: 'late' counts each run's last frame. */
	CHECKF(late > 0 && late <= s.reordered && late >= s.reordered * 8 / 10,
	       "late %u, reordered %lu", late, (unsigned long)s.reordered);
	tws_fault_free(f);
	CHECK(rte_mempool_avail_count(mp) == base);
}

static void
test_delay(void)
{
	unsigned int base = rte_mempool_avail_count(mp);
	struct tws_fault *f = tws_fault_create(&(struct tws_fault_params){
		.delay_ppm = 30000, .delay_us = 500, .seed = 5 });
	struct rte_mbuf *in[BURST], *out[2 * BURST + TWS_FAULT_RELEASE_MAX];
	struct tws_fault_stats s;

	CHECK(f != NULL);
	/* 32 bursts at t = 1000 us: 1024 frames, about 31 held. */
	nb_got = 0;
	for (uint32_t b = 0; b < 32; b++) {
		for (uint32_t k = 0; k < BURST; k++)
			CHECK((in[k] = frame(b * BURST + k)) != NULL);
		collect(out, tws_fault_apply(f, in, BURST, out, 1000));
	}
	tws_fault_stats_get(f, &s);
	CHECK(s.delayed > 0 && s.held == s.delayed && nb_got == 1024 - s.delayed);
	CHECK(tws_fault_poll(f, out, RTE_DIM(out), 1499) == 0);

	unsigned int before = nb_got;
	uint16_t n;

	while ((n = tws_fault_poll(f, out, RTE_DIM(out), 1500)) > 0)
		collect(out, n);
	CHECK(nb_got == 1024);
	for (unsigned int i = before + 1; i < nb_got; i++)
		CHECK(got[i] > got[i - 1]); /* the delayed ones in their order */
	tws_fault_stats_get(f, &s);
	CHECK(s.held == 0);

	/* At a rate: about 3 % late by 500 us, nothing lost. */
	tws_fault_free(f);
	f = tws_fault_create(&(struct tws_fault_params){ .delay_ppm = 30000, .delay_us = 500,
							  .seed = 6 });
	CHECK(f != NULL);
	CHECK(run(f, 100000, 1000, 10000));
	tws_fault_stats_get(f, &s);
	CHECKF(near(s.delayed, 100000, 0.03), "delayed %lu", (unsigned long)s.delayed);
	CHECK(nb_got == 100000 && s.held == 0);
	tws_fault_free(f);
	CHECK(rte_mempool_avail_count(mp) == base);
}

static void
test_limits(void)
{
	unsigned int base = rte_mempool_avail_count(mp);
	struct rte_mbuf *in[BURST], *out[2 * BURST + TWS_FAULT_RELEASE_MAX];
	struct tws_fault_stats s;

	/* Everything delayed, room for 4: 4 held, the rest at once. */
	struct tws_fault *f = tws_fault_create(&(struct tws_fault_params){
		.delay_ppm = TWS_FAULT_PPM, .delay_us = 100, .max_held = 4 });

	CHECK(f != NULL);
	for (uint32_t k = 0; k < BURST; k++)
		CHECK((in[k] = frame(k)) != NULL);
	nb_got = 0;
	collect(out, tws_fault_apply(f, in, BURST, out, 10));
	tws_fault_stats_get(f, &s);
	CHECK(s.delayed == 4 && s.held == 4 && s.held_full == BURST - 4 && nb_got == BURST - 4);
	/* Freed with frames held: they go back to the pool. */
	tws_fault_free(f);
	CHECK(rte_mempool_avail_count(mp) == base);

	/* Duplicates from an empty pool: counted, the frame goes once. */
	struct rte_mempool *empty = rte_pktmbuf_pool_create("tfault_empty", 1, 0, 0, 256,
							     SOCKET_ID_ANY);
	struct rte_mbuf *hog = empty != NULL ? rte_pktmbuf_alloc(empty) : NULL;

	CHECK(empty != NULL && hog != NULL);
	f = tws_fault_create(&(struct tws_fault_params){ .dup_ppm = TWS_FAULT_PPM, .mp = empty });
	CHECK(f != NULL);
	for (uint32_t k = 0; k < BURST; k++)
		CHECK((in[k] = frame(k)) != NULL);
	nb_got = 0;
	collect(out, tws_fault_apply(f, in, BURST, out, 10));
	tws_fault_stats_get(f, &s);
	CHECK(s.dup_failed == BURST && s.duplicated == 0 && nb_got == BURST);
	tws_fault_free(f);
	rte_pktmbuf_free(hog);
	rte_mempool_free(empty);
	CHECK(rte_mempool_avail_count(mp) == base);
}

/* Everything at once, twice with one seed: the same frames in the same order. */
static uint32_t first[400000];

static void
test_repeatable(void)
{
	unsigned int base = rte_mempool_avail_count(mp);
	const struct tws_fault_params p = { .loss_ppm = 50000, .dup_ppm = 20000,
					    .reorder_ppm = 50000, .delay_ppm = 20000,
					    .delay_us = 200, .seed = 42 };
	unsigned int n1 = 0;

	for (int pass = 0; pass < 3; pass++) {
		struct tws_fault_params q = p;

		if (pass == 2)
			q.seed = 43;

		struct tws_fault *f = tws_fault_create(&q);
		struct tws_fault_stats s;

		CHECK(f != NULL);
		CHECK(run(f, 100000, 1000, 10000));
		tws_fault_stats_get(f, &s);
		CHECK(s.held == 0 && nb_got == 100000 - s.dropped + s.duplicated);
		if (pass == 0) {
			n1 = nb_got;
			memcpy(first, got, nb_got * sizeof(got[0]));
		} else if (pass == 1) {
			CHECK(nb_got == n1 && memcmp(first, got, n1 * sizeof(got[0])) == 0);
		} else {
			CHECK(nb_got != n1 || memcmp(first, got, n1 * sizeof(got[0])) != 0);
		}
		tws_fault_free(f);
	}
	CHECK(rte_mempool_avail_count(mp) == base);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_params),
		TWS_TEST(test_clean),
		TWS_TEST(test_loss),
		TWS_TEST(test_dup),
		TWS_TEST(test_reorder),
		TWS_TEST(test_delay),
		TWS_TEST(test_limits),
		TWS_TEST(test_repeatable),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 128);
	mp = rte_pktmbuf_pool_create("tfault_mp", NB_POOL, 0, 0, 256, SOCKET_ID_ANY);
	if (mp == NULL)
		return 1;
	return tws_test_run(cases, TWS_NCASES(cases));
}
