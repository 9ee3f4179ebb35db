/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for the tools' Linux-kernel reference runs: a forked child that
 * reports back through a pipe and is killed if late, a private network
 * namespace with loopback up, sysctls written only inside such a namespace,
 * and the kernel's counters read from /proc.
 */
#ifndef APP_LINUX_H
#define APP_LINUX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Run fn(arg, report) in a forked child that dies with the caller
 * (PR_SET_PDEATHSIG), so the caller (a DPDK process) keeps its threads, fds,
 * limits and network namespace untouched. The child sends back fn's return
 * value and the @p len bytes at @p report. If it has not reported
 * @p timeout_s seconds after the start it is killed (by its pid).
 *
 * @return fn's return value (with *report filled); -ETIMEDOUT; -EPIPE if the
 *   child died before reporting; -errno of pipe() or fork().
 */
int app_child_run(int (*fn)(void *arg, void *report), void *arg, void *report, size_t len,
		  double timeout_s);

/* Identity (inode of /proc/self/ns/net) of the calling thread's network namespace; 0 if unknown. */
uint64_t app_netns_id(void);

/* Bring lo up in the current network namespace (a new one has it down). 0 or -errno. */
int app_lo_up(void);

/*
 * Write @p value to /proc/sys/net/<name> (e.g. "ipv4/tcp_max_tw_buckets"),
 * which is the current network namespace's copy, but only if that namespace
 * is not @p host_netns (app_netns_id() read before unshare): a host sysctl
 * is never changed. @return 0, -EPERM if still in the host namespace, or -errno.
 */
int app_netns_sysctl_set(const char *name, const char *value, uint64_t host_netns);

/* "tw" of /proc/net/sockstat: per network namespace since Linux 5.19. 0 if unreadable. */
uint64_t app_sockstat_tw(void);

/* A small unsigned integer from a /proc or /sys file; 0 if it cannot be read. */
uint64_t app_read_u64_file(const char *path);

/* A field of /proc/meminfo ("SUnreclaim") in bytes; 0 if absent. */
uint64_t app_meminfo_bytes(const char *field);

#endif /* APP_LINUX_H */
