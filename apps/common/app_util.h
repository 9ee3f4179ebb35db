/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What twstack's tools share: option parsing, starting the EAL without a NIC
 * or hugepages, and reading the memory a process holds (DPDK heap, RSS).
 */
#ifndef APP_UTIL_H
#define APP_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Parse an unsigned integer option value with suffixes k/M/G (x1000).
 * On error prints "<prog>: <opt> '<s>': expected a number from <min> to <max>"
 * and returns -EINVAL; else 0 with *out set.
 */
int app_parse_u64(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
		  uint64_t *out);

/* CPU model name from /proc/cpuinfo ("unknown" if absent). */
const char *app_cpu_model(void);

/*
 * Start the DPDK EAL with defaults that need no NIC and no hugepages,
 *   --no-pci --no-huge -m <mem_mb> --no-shconf --no-telemetry
 *   --file-prefix <prog>-<pid> -l <the current cpu> --log-level lib.eal:error
 * followed by the nb_user options a user gave before '--' (user may be NULL).
 * A default is left out when the user gives an option of its kind: -a/-b
 * drop --no-pci; --in-memory, --huge-dir, -m, --socket-mem drop --no-huge
 * (and -m); --in-memory drops --no-shconf; -l/-c/--lcores drop -l; and
 * --file-prefix, --telemetry theirs. So `--vdev=...` alone keeps every
 * default, and (--no-shconf) nothing is left in the runtime directory.
 * On failure prints one message naming the cause and returns -1; 0 on success.
 */
int app_eal_start(const char *prog, char *argv0, char **user, int nb_user, long mem_mb);

/* app_eal_start() with another default lcore list than the current cpu (NULL: that). */
int app_eal_start_lcores(const char *prog, char *argv0, char **user, int nb_user, long mem_mb,
			 const char *lcores);

/*
 * One process hosting tws-gen and tws-server (tws-pair): the host starts the
 * EAL and the ports and calls each tool's main on an lcore of its own. Then
 * app_eal_start() and app_eal_stop() do nothing, each tool runs one lane on
 * the lcore it was called on (app_lane_lcores() is 1, app_lanes_wait()
 * waits for nobody), the server says when it listens (app_host.ready) and
 * stops when the host says (app_host.stop, after tws-gen is done) rather
 * than at the first SIGINT, and only tws-gen registers telemetry.
 */
struct app_host {
	bool on;
	volatile int ready;
	volatile int stop;
};
extern struct app_host app_host;

/* Lanes a tool runs: one per EAL lcore, or 1 when hosted. */
unsigned int app_lane_lcores(void);

/* Wait for the worker lcores a tool launched its lanes on (none when hosted). */
void app_lanes_wait(void);

/* Should a server stop: a SIGINT or SIGTERM, or when hosted the host's word. */
bool app_server_should_stop(void);

/* SIGINT and SIGTERM received since app_stop_signals_install(). */
extern volatile sig_atomic_t app_stop_requests;

/* Count SIGINT and SIGTERM in app_stop_requests instead of dying: the tools stop cleanly. */
void app_stop_signals_install(void);

/*
 * rte_eal_cleanup(), then remove the EAL's runtime directory
 * (/var/run/dpdk/<prefix>) if it is empty, as it is with --no-shconf.
 */
void app_eal_stop(void);

/*
 * Bytes the DPDK heaps have lent out, all sockets (rte_malloc statistics),
 * plus what twstack holds in its own huge-page mappings outside the heap
 * under --no-huge (lib/common/tws_mem.h): the memory a structure takes,
 * wherever twstack put it.
 */
uint64_t app_dpdk_heap_used(void);

/* Resident set size of this process in bytes (/proc/self/statm); 0 if unreadable. */
uint64_t app_rss_bytes(void);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t app_now_ns(void);

#endif /* APP_UTIL_H */
