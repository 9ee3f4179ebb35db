/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A latency histogram with logarithmic buckets: 8 per power of two (at most
 * 12.5 % wide), exact below 8. Fixed size (4 KB), no per-sample storage, so
 * a run of any length costs the same; quantiles read the buckets.
 */
#ifndef APP_HIST_H
#define APP_HIST_H

#include <stdint.h>

#define APP_HIST_SUB_BITS 3
#define APP_HIST_SUB (1u << APP_HIST_SUB_BITS)
#define APP_HIST_BUCKETS (APP_HIST_SUB * (64 - APP_HIST_SUB_BITS + 1))

struct app_hist {
	uint64_t count;
	uint64_t max;
	uint64_t bucket[APP_HIST_BUCKETS];
};

/* Bucket of value @p v. */
static inline unsigned int
app_hist_bucket(uint64_t v)
{
	if (v < APP_HIST_SUB)
		return (unsigned int)v;

	unsigned int e = 63u - (unsigned int)__builtin_clzll(v); /* >= APP_HIST_SUB_BITS */
	unsigned int sub = (unsigned int)(v >> (e - APP_HIST_SUB_BITS)) & (APP_HIST_SUB - 1);

	return APP_HIST_SUB * (e - APP_HIST_SUB_BITS + 1) + sub;
}

static inline void
app_hist_add(struct app_hist *h, uint64_t v)
{
	h->bucket[app_hist_bucket(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

/* Add the samples of @p from into @p into (histograms of two lanes, say). */
static inline void
app_hist_merge(struct app_hist *into, const struct app_hist *from)
{
	for (unsigned int i = 0; i < APP_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
}

/*
 * The value at quantile @p q (0..1): the upper end of the bucket holding the
 * q-th sample, never above the largest sample seen. 0 for an empty histogram.
 */
uint64_t app_hist_quantile(const struct app_hist *h, double q);

#endif /* APP_HIST_H */
