/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/common/tws_mem: large arrays come zeroed, aligned and accounted for,
 * from the DPDK heap when it has hugepages or the array is small, else from a
 * huge-page-aligned private mapping (this test runs --no-huge, as CI does).
 */
#include <stdint.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "tws_mem.h"
#include "tws_test.h"
#include "tws_util.h"

static bool
all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void
test_small_arrays_come_from_the_heap(void)
{
	uint64_t m0 = tws_mem_mapped();
	uint8_t *p = tws_mem_alloc("t", 4096, SOCKET_ID_ANY);

	CHECK(p != NULL);
	CHECK(((uintptr_t)p & 63) == 0);
	CHECK(all_zero(p, 4096));
	CHECK(rte_mem_virt2memseg_list(p) != NULL); /* DPDK memory */
	CHECK(tws_mem_mapped() == m0);
	memset(p, 0xab, 4096);
	tws_mem_free(p);
}

static void
test_large_arrays_are_mapped_and_counted(void)
{
	size_t len = 5 * (size_t)TWS_THP_SIZE + 123;
	uint64_t m0 = tws_mem_mapped();
	uint8_t *p = tws_mem_alloc("t", len, 0);

	CHECK(p != NULL);
	CHECK(((uintptr_t)p & 63) == 0);
	CHECK(all_zero(p, len));
	if (rte_eal_has_hugepages()) {
		CHECK(tws_mem_mapped() == m0);
	} else {
		CHECK(rte_mem_virt2memseg_list(p) == NULL);
		/* Whole huge pages, header included: 6 of them here. */
		CHECKF(tws_mem_mapped() - m0 == 6 * TWS_THP_SIZE, "mapped %lu",
		       (unsigned long)(tws_mem_mapped() - m0));
	}
	memset(p, 0xcd, len); /* all of it is writable */
	tws_mem_free(p);
	CHECK(tws_mem_mapped() == m0);

	/* A second allocation comes back zeroed, not with the old bytes. */
	p = tws_mem_alloc("t", len, SOCKET_ID_ANY);
	CHECK(p != NULL && all_zero(p, len));
	tws_mem_free(p);
	CHECK(tws_mem_mapped() == m0);
	tws_mem_free(NULL);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_small_arrays_come_from_the_heap),
		TWS_TEST(test_large_arrays_are_mapped_and_counted),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 64);
	return tws_test_run(cases, RTE_DIM(cases));
}
