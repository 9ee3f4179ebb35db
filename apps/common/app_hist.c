/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>

#include "app_hist.h"

/* Largest value that falls in bucket @p b. */
static uint64_t
bucket_top(unsigned int b)
{
	if (b < APP_HIST_SUB)
		return b;

	unsigned int e = b / APP_HIST_SUB + APP_HIST_SUB_BITS - 1;
	uint64_t sub = b % APP_HIST_SUB + APP_HIST_SUB;
	unsigned int shift = e - APP_HIST_SUB_BITS;

	/* [sub << shift, (sub + 1) << shift) */
	return ((sub + 1) << shift) - 1;
}

uint64_t
app_hist_quantile(const struct app_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	for (unsigned int b = 0; b < APP_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank) {
			uint64_t top = bucket_top(b);

			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}
