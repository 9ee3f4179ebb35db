/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <numa.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "tws_mem.h"
#include "tws_util.h"

#define MAP_MIN TWS_THP_SIZE /* smaller arrays stay in the DPDK heap */
#define HDR RTE_CACHE_LINE_SIZE

/* Header at the start of a mapping; the caller's memory follows it. */
struct map_hdr {
	uint64_t magic;
	void *base;     /* what mmap returned */
	size_t map_len; /* what to munmap */
};

#define MAP_MAGIC UINT64_C(0x7477736d656d6d70) /* "twsmemmp" */

static uint64_t mapped; /* bytes, updated with atomics: creation may run on any lcore */

static bool
use_heap(size_t len)
{
	return len < MAP_MIN || rte_eal_has_hugepages();
}

void *
tws_mem_alloc(const char *name, size_t len, int socket_id)
{
	if (use_heap(len)) {
		void *p = rte_zmalloc_socket(name, len, RTE_CACHE_LINE_SIZE, socket_id);

		if (p != NULL)
			tws_prefault_zeroed(p, len);
		return p;
	}

	/* Whole huge pages, plus one to align the start on a huge page boundary. */
	size_t body = RTE_ALIGN_CEIL(HDR + len, TWS_THP_SIZE);
	size_t map_len = body + TWS_THP_SIZE;
	uint8_t *base = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);

	if (base == MAP_FAILED)
		return NULL;

	uint8_t *start = (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)base, TWS_THP_SIZE);

	/* Bound to the socket before the first touch, so the pages are born there. */
	if (socket_id >= 0 && numa_available() >= 0 && socket_id <= numa_max_node())
		numa_tonode_memory(start, body, socket_id);
	/* tws_prefault_zeroed() asks for huge pages, then touches every page. */
	tws_prefault_zeroed(start, body);

	struct map_hdr *h = (struct map_hdr *)start;

	h->magic = MAP_MAGIC;
	h->base = base;
	h->map_len = map_len;
	__atomic_fetch_add(&mapped, body, __ATOMIC_RELAXED);
	return start + HDR;
}

void
tws_mem_free(void *p)
{
	if (p == NULL)
		return;

	/* A mapping's memory starts HDR bytes after a huge page boundary. */
	uint8_t *start = (uint8_t *)p - HDR;

	if (((uintptr_t)start & (TWS_THP_SIZE - 1)) == 0 && rte_mem_virt2memseg_list(p) == NULL) {
		struct map_hdr *h = (struct map_hdr *)start;

		if (h->magic == MAP_MAGIC) {
			size_t body = h->map_len - TWS_THP_SIZE;

			h->magic = 0;
			__atomic_fetch_sub(&mapped, body, __ATOMIC_RELAXED);
			munmap(h->base, h->map_len);
			return;
		}
	}
	rte_free(p);
}

uint64_t
tws_mem_mapped(void)
{
	return __atomic_load_n(&mapped, __ATOMIC_RELAXED);
}
