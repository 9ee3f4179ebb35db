/* SPDX-License-Identifier: BSD-3-Clause */
/* tws-memcost: what a TIME_WAIT entry costs in twstack and in the Linux kernel. */
#ifndef MEMCOST_H
#define MEMCOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MC_PROG "tws-memcost"
#define MC_SAMPLES 11		/* memory samples along the kernel's fill, for the plot */

/* Who holds the TIME_WAIT entries and whom they talked to (both sides alike). */
enum mc_layout {
	MC_LAYOUT_CLIENTS,	/* many client addresses, one server address and port */
	MC_LAYOUT_SERVERS,	/* one client address, many server addresses, one port */
};

struct mc_options {
	uint64_t entries;		/* N: twstack TIME_WAIT entries */
	uint64_t linux_entries;		/* cap of the kernel's entries (L = min(N, this)) */
	bool no_linux;
	enum mc_layout layout;
	uint64_t rate;			/* projection: connections per second */
	uint64_t tw_seconds;		/* projection: TIME_WAIT length */
	const char *json_path;
	const char *plot_path;
};

/* The Linux kernel's cost, measured in a forked child in its own network namespace. */
struct mc_linux {
	int measured;			/* 1: the figures below are valid */
	int skipped;			/* 1: not attempted (note: why); 0: failed if !measured */
	char note[256];			/* why skipped, what failed, or what was odd */
	uint64_t entries;		/* TIME_WAIT sockets created (L) */
	uint64_t tw_count;		/* "tw" of /proc/net/sockstat in the namespace afterwards */
	uint32_t addresses;		/* client (or server) addresses used */
	uint64_t tw_sock_bytes;		/* slab memory of tw_sock_TCP: after - before */
	uint64_t tw_sock_objs;		/* its active objects: after - before */
	uint64_t tw_sock_objsize;	/* its object size */
	uint64_t bind_bytes;		/* slab memory of the bind bucket caches: after - before */
	int64_t sunreclaim_bytes;	/* SUnreclaim of /proc/meminfo: after - before */
	char caches[192];		/* the /proc/slabinfo lines counted (and what they hold) */
	double fill_s;
	unsigned int nb_samples;
	uint64_t sample_entries[MC_SAMPLES];
	uint64_t sample_bytes[MC_SAMPLES];	/* tw_sock + bind buckets at that point */
};

/* twstack's cost, measured through the engine in this process. */
struct mc_tws {
	uint64_t entries;		/* TIME_WAIT entries made (tw_entries of the stack) */
	uint32_t addresses;
	uint64_t fill_connections;	/* connections opened and closed to make them */
	double fill_s;
	/* Memory: a stack for N entries minus the same stack for none (max_tw = 1). */
	double heap_per_tw;		/* DPDK heap (rte_malloc statistics) */
	double rss_per_tw;		/* process RSS */
	double table_per_tw;		/* the table's own accounting (log + index) */
	double log_per_tw;
	double index_per_tw;
	uint64_t rss_before, rss_created, rss_filled;	/* RSS around the big stack, bytes */
	int64_t ref_heap, ref_rss;	/* what the stack for none took */
	int64_t heap_bytes, rss_bytes;	/* what the stack for N took more */
	uint64_t tw_overflow, errors;
};

/* Everything one run produces. */
struct mc_result {
	struct mc_tws tws;
	struct mc_linux lx;
	double tws_per_tw;		/* max(heap, rss): never the flattering one */
	double linux_per_tw;		/* (tw_sock + bind buckets) / L, or < 0 if not measured */
	double linux_sunreclaim_per_tw;
	double ratio;			/* linux_per_tw / tws_per_tw, or < 0 */
	uint64_t host_max_tw_buckets;	/* the host's tcp_max_tw_buckets (read only) */
};

/* Measure the kernel side (forks; call before the EAL starts). Fills *lx, never fails. */
void mc_linux_measure(const struct mc_options *o, struct mc_linux *lx);

/* Text report, projection included, on @p f. */
void mc_report_text(FILE *f, const struct mc_options *o, const struct mc_result *r);

/* JSON report on @p f. */
void mc_report_json(FILE *f, const struct mc_options *o, const struct mc_result *r);

/* Plot with gnuplot to o->plot_path. 0, or -1 after a message (gnuplot missing or failed). */
int mc_plot(const struct mc_options *o, const struct mc_result *r);

/* Progress bar on stdout when it is a terminal; silent otherwise. */
struct mc_progress {
	const char *label;
	uint64_t total;
	uint64_t next_ns;
	bool on;
};

void mc_progress_start(struct mc_progress *p, const char *label, uint64_t total);
void mc_progress_update(struct mc_progress *p, uint64_t done);
void mc_progress_end(struct mc_progress *p, uint64_t done);

#endif /* MEMCOST_H */
