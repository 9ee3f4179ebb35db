/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared pieces of tws-bench: sub-command table, the Linux reference, workload helpers. */
#ifndef TWS_BENCH_H
#define TWS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app_util.h"

/*
 * A sub-command. parse() reads its options (before the EAL starts) and
 * returns the MB of DPDK memory it needs, or -1 after printing an error;
 * run() runs after rte_eal_init() and returns the exit code.
 */
struct bench_cmd {
	const char *name;
	const char *summary;
	long (*parse)(int argc, char **argv);
	int (*run)(void);
	void (*usage)(FILE *f);
};

extern const struct bench_cmd bench_timer_cmd;
extern const struct bench_cmd bench_table_cmd;
extern const struct bench_cmd bench_tcp_cmd;
extern const struct bench_cmd bench_flood_cmd;
extern const struct bench_cmd bench_linux_cmd;
extern const struct bench_cmd bench_mem_cmd;
extern const struct bench_cmd bench_c2c_cmd;

struct app_json;

/* The machine a figure was taken on: "cpu", "cores" and "tsc_hz" into @p j. */
void bench_json_machine(struct app_json *j);

/* What this machine's memory costs (bench_mem.c explains each figure). */
struct bench_mem {
	uint64_t bytes;      /* buffer read */
	double dep_load_cyc; /* a load whose address the previous load gave: DRAM latency */
	double line_cyc;     /* a random line, loads independent and prefetched */
	double two_line_cyc; /* a random line, then the one it names, in bursts of 32 */
	double seq_read_gbs;
	uint64_t checksum;   /* of what was read, so no load is optimised away */
};

/*
 * Measure the memory figures over @p bytes from tws_mem_alloc() (the tables'
 * allocator), freed on return; about a second at 1 GiB. @return 0, or -1
 * when the buffer cannot be had (bytes below 2 KiB or out of memory).
 */
int bench_mem_probe(uint64_t bytes, struct bench_mem *r);

/*
 * Linux-kernel reference of the TCP churn benchmark (bench_linux.c): the
 * same connections as twstack's in-memory run (connect, 100-byte request,
 * 100-byte response, the client closes first, the server closes on EOF),
 * through the kernel over loopback, one client and one server thread with
 * epoll. Runs in a forked child, in a private network namespace when it may
 * (root, or an unprivileged user namespace), so the host's TIME_WAIT table
 * is left alone; never writes a sysctl.
 */
struct bench_linux_result {
	double seconds;			/* measured duration */
	uint64_t connections;		/* completed: handshake, request, response, close */
	uint64_t errors;		/* failed connects, resets, short reads... */
	double cps;			/* connections / seconds */
	uint64_t tw_peak;		/* peak "tw" of /proc/net/sockstat in the namespace used */
	double cpu_user_s, cpu_sys_s;	/* CPU time of the client and server threads */
	int netns;			/* 1 private network namespace, 0 host loopback */
	char note[160];			/* isolation used and why, caps hit, first errors */
};

/*
 * Run the churn through the kernel for `seconds` (0 < seconds <= 86400) with
 * `concurrency` connections in flight (0: 64; at most 4096). Blocks for about
 * `seconds`; the child is killed if it has not reported 30 s after that.
 * Returns 0 and fills *r, or -errno: -EINVAL for bad arguments, -ETIMEDOUT,
 * -EPIPE if the child died, or the failure to set up sockets or the namespace.
 */
int bench_linux_churn(double seconds, unsigned int concurrency, struct bench_linux_result *r);

/* Deterministic PRNG (splitmix64) for workloads: same seed, same run. */
static inline uint64_t
bench_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Parse --seconds (0.1 .. 3600) for command @p cmd; -1 after a message naming it. */
int bench_parse_seconds(const char *cmd, const char *s, double *out);

/* A sub-command's option, for bench_opts_parse(). */
enum bench_opt_kind {
	BENCH_OPT_U64,      /* uint64_t in min..max (K/M/G suffixes: app_parse_u64()) */
	BENCH_OPT_U32,      /* uint32_t in min..max */
	BENCH_OPT_SECONDS,  /* double, 0.1 .. 3600 */
	BENCH_OPT_FLAG,     /* bool set to true, no value */
	BENCH_OPT_OUT_FILE, /* const char *: a file written at the end, checked writable now */
};

struct bench_opt {
	const char *name;   /* without the leading "--" */
	enum bench_opt_kind kind;
	void *dst;
	uint64_t min, max;  /* BENCH_OPT_U64 and _U32 */
};

/*
 * Parse the options of sub-command @p cmd from argv[1..]: each one of @p opts
 * (n of them, at most 16), no positional arguments. An unknown option gets
 * getopt's message and a pointer to '--help'.
 * @return 0, or -1 after a message naming the option and what is accepted.
 */
int bench_opts_parse(const char *cmd, const struct bench_opt *opts, unsigned int n, int argc,
		     char **argv);

/* a[i] = i for i < n, then a Fisher-Yates shuffle driven by *seed. */
void bench_permutation(uint32_t *a, uint32_t n, uint64_t *seed);

/* Cycles per operation, as a double; 0 ops gives 0. */
/*
 * TIME_WAIT capacity of the client stack of an in-memory churn run (tcp,
 * flood): what one lcore can make in @p seconds (1.5M connections/s) plus
 * slack, at most 2^30; every entry is kept (TIME_WAIT outlasts the run).
 */
static inline uint32_t
bench_churn_tw_capacity(double seconds)
{
	double n = seconds * 1500000.0 + 65536;

	return n > (double)(1u << 30) ? (1u << 30) : (uint32_t)n;
}

static inline double
bench_per_op(uint64_t cycles, uint64_t ops)
{
	return ops == 0 ? 0.0 : (double)cycles / (double)ops;
}

#endif /* TWS_BENCH_H */
