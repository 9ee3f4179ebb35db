/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Large per-lcore arrays (table index, TIME_WAIT log, control blocks, timer
 * records): zeroed, faulted in at creation, on the caller's NUMA socket.
 *
 * With hugepages (the DPDK way) they come from the DPDK heap like every
 * other allocation. Under --no-huge, DPDK's heap is a shared memfd on 4 KiB
 * pages, and a table of millions of entries read at random then pays a TLB
 * miss (a page walk that often reaches DRAM) on almost every access; so
 * arrays of 2 MiB and more come from private anonymous memory with
 * transparent huge pages requested (madvise), bound to the socket with
 * libnuma. None of this memory is ever handed to a NIC, so it need not be
 * DPDK memory. docs/architecture.md, "Memory", explains.
 */
#ifndef TWS_MEM_H
#define TWS_MEM_H

#include <stddef.h>
#include <stdint.h>

/*
 * len zeroed bytes, 64-byte aligned, faulted in, on socket_id (or anywhere
 * with SOCKET_ID_ANY). NULL when out of memory.
 */
void *tws_mem_alloc(const char *name, size_t len, int socket_id);

/* Release memory from tws_mem_alloc() (NULL is ignored). */
void tws_mem_free(void *p);

/* Bytes the process holds in tws_mem_alloc() mappings outside the DPDK heap. */
uint64_t tws_mem_mapped(void);

#endif /* TWS_MEM_H */
