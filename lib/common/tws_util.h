/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal helpers shared by the lib/ layers. */
#ifndef TWS_UTIL_H
#define TWS_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <rte_common.h>

#define TWS_THP_SIZE (UINT64_C(2) << 20) /* x86-64 transparent huge page */

/* splitmix64: turns a seed into independent 64-bit words (hash coefficients). */
static inline uint64_t
tws_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/*
 * Finaliser for the multilinear hashes (MurmurHash3's fmix64). Buckets and
 * offsets come from the top bits of the sum, where an unlucky secret
 * coefficient can cluster keys that differ in a few low bits (consecutive
 * ports or addresses); this spreads every bit of the sum over them.
 */
static inline uint64_t
tws_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

/* Fill n odd 64-bit coefficients for a multilinear hash from seed. */
static inline void
tws_hash_coefficients(uint64_t seed, uint64_t *coef, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		coef[i] = tws_splitmix64(&seed) | 1;
}

/*
 * Name and description of counter i of an X-macro list, for the public
 * *_stat_name() functions of each layer.
 */
static inline int
tws_stat_lookup(const char *const *names, const char *const *descs, unsigned int count,
		unsigned int i, const char **name, const char **desc)
{
	if (i >= count)
		return -EINVAL;
	*name = names[i];
	*desc = descs[i];
	return 0;
}

/*
 * Touch every 4 KiB page of zeroed memory [p, p + len) by writing the zero
 * it holds, so the kernel's page faults (and page clearing) happen at
 * creation instead of on the data path. DPDK hands out --no-huge memory and
 * fresh hugepages untouched; "allocated up front" must mean faulted in too.
 */
static inline void
tws_prefault_zeroed(void *p, size_t len)
{
	volatile uint8_t *b = p;
	uintptr_t lo = RTE_ALIGN_CEIL((uintptr_t)p, TWS_THP_SIZE);
	uintptr_t hi = RTE_ALIGN_FLOOR((uintptr_t)p + len, TWS_THP_SIZE);

	/*
	 * Ask for transparent huge pages on the 2 MiB-aligned part, before the
	 * first touch: with --no-huge, DPDK's memory is ordinary anonymous
	 * memory, and a table of millions of entries read at random costs a
	 * TLB miss (a page walk, often to DRAM) per access on 4 KiB pages. On
	 * hugepage memory, or where THP is off, this is a no-op.
	 */
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);

	for (size_t off = 0; off < len; off += 4096)
		b[off] = 0;
}

#endif /* TWS_UTIL_H */
