/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data path of a tool on a DPDK port: the port (found by name, set up
 * with the offloads it has and a queue pair per lane), an mbuf pool, and
 * per lane (an lcore) the net layer (our address range, ARP), a TCP stack
 * and the runtime node that polls them (tws_node); plus the clock the poll
 * loops read once per iteration and the progress line both tools print
 * once per second.
 */
#ifndef APP_DP_H
#define APP_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_mempool.h>

#include "app_opts.h"
#include "tws_net.h"
#include "tws_runtime.h"
#include "tws_tcp.h"

/* The options every tool on a port has: the port and our addresses. */
struct app_dp_conf {
	const char *port;          /* --port NAME */
	struct app_addr addr;      /* --addr A[/prefix]: the first of ours, and the subnet */
	uint32_t addrs;            /* --addrs N: A and the next N - 1 */
	const char *fault;         /* --fault SPEC: a faulty link on what we send */
	uint32_t csum;             /* --csum: APP_CSUM_PORT or APP_CSUM_EMULATE */
	bool has_fault;            /* set by app_dp_conf_check() from fault */
	struct tws_fault_params fault_p;
};

/* --csum: checksums as the port offers them (software for the rest), or offload emulated. */
enum { APP_CSUM_PORT, APP_CSUM_EMULATE };

/* Option table of struct app_dp_conf (base: the tool's struct app_dp_conf). */
#define APP_DP_NB_OPTS 5
extern const struct app_opt app_dp_opts[APP_DP_NB_OPTS];

/*
 * Parse a --fault SPEC: comma-separated loss=P, dup=P, reorder=P,
 * delay=P:T, seed=N, P a percentage (0..100, decimals allowed, a '%'
 * optional), T a time with unit us, ms or s. @return 0 with *p set (other
 * fields zero), or -1 with a message in err.
 */
int app_fault_parse(const char *spec, struct tws_fault_params *p, char *err, size_t len);

/*
 * Check the address range fits its subnet (neither its network nor its
 * broadcast address) and parse --fault. @return 0, or -1 after a message
 * naming the option.
 */
int app_dp_conf_check(const char *prog, struct app_dp_conf *c);

/* Is host-order @p ip inside the subnet of @p c, and not one of its addresses? */
bool app_dp_is_neighbour(const struct app_dp_conf *c, uint32_t ip);

struct app_dp_params {
	const char *prog;
	const struct app_dp_conf *conf;
	struct tws_tcp_knobs knobs; /* max_tw as the stacks should make it in all (not 0) */
	uint32_t max_conns;        /* in all: each lane gets its share */
	uint32_t max_listeners;    /* 0: 16 */
	uint32_t max_dests;        /* 0: 1024 */
	uint32_t nb_mbufs;
	uint16_t nb_lanes;         /* lanes (lcores, queue pairs); 0: 1 */
	bool client;               /* connects out (tws-gen): replies must come back to the lane */
	tws_event_cb event_cb;
	void *event_arg;
};

/* Most lanes of a port: lcores polling a queue pair each, a connection table each. */
#define APP_DP_MAX_LANES 16

/*
 * One lane: an lcore's queue pair of the port, with its own net layer, TCP
 * stack (connection table, timers, port allocator) and poll node. Lane 0
 * also owns the port and the mbuf pool, and lists the lanes; the others
 * are made on their own lcore by app_dp_lane_create(). Each lane's stack
 * has 1/N of the connections, of the TIME_WAIT capacity and of the local
 * port range (so two lanes never pick the same tuple).
 */
struct app_dp {
	uint16_t port_id;
	uint16_t queue;            /* the queue pair this lane polls */
	bool port_started;
	bool is_lane;              /* lanes 1..N-1: the port and the pool are lane 0's */
	struct tws_port_info info;
	struct rte_mempool *mp;
	struct tws_net *net;
	struct tws_stack *st;
	struct tws_node *node;
	struct tws_fault *fault;   /* NULL without --fault */
	uint64_t tsc0;             /* the clock: start_us at tsc0 (the same on every lane) */
	double us_per_tsc;
	uint64_t start_us;
	uint32_t max_tw;           /* this lane's */
	uint32_t max_conns;        /* this lane's */
	double tw_bytes_per_entry; /* TIME_WAIT log and its share of the index, per entry */
	bool csum_emulated;        /* --csum emulate */
	uint32_t memif_restarts;   /* app_dp_link_wait() started a memif port again */
	struct tws_rss *rss;       /* a client's lanes on an RSS port: the port's RSS (lane 0's) */
	struct tws_rss_lane rss_lane; /* and this lane's queue: connect picks ports for it */
	/* Lane 0 only: */
	uint16_t nb_lanes;
	struct app_dp *lanes[APP_DP_MAX_LANES]; /* lane q once it is up (lanes[0]: itself) */
	struct app_dp_params par;  /* what made lane 0, for the others */
};

/* Largest mss whose segments fit the 1500-byte MTU (the engine subtracts its options). */
#define APP_DP_MSS_MAX 1460u

/* Warn about knob values the MTU cannot carry. Call after the options are parsed. */
void app_dp_knob_defaults(const char *prog, struct app_opts_result *res);

/* MB of DPDK memory to ask the EAL for: the stack's table, the mbufs, slack. */
long app_dp_memory_mb(uint32_t max_conns, uint32_t max_tw, uint32_t nb_mbufs, uint32_t mss);

/*
 * Find the port, create the pool, set the port up and start it, create the
 * net layer, the stack and the node. On failure prints one message and
 * frees what was made.
 * @return 0; -ENODEV when the port does not exist (the message lists the
 *   ports there are: a usage error); another -errno.
 */
int app_dp_create(struct app_dp *d, const struct app_dp_params *p);

/*
 * Make lane @p queue (1..nb_lanes-1) of the port lane 0 @p d0 set up, on the
 * calling lcore (its memory on that lcore's socket), with its own event
 * callback, and list it in d0->lanes. On failure prints one message.
 * @return 0 or -errno.
 */
int app_dp_lane_create(struct app_dp *l, struct app_dp *d0, uint16_t queue, tws_event_cb cb,
		       void *arg);

/*
 * Free what app_dp_create() or app_dp_lane_create() made; lane 0 also closes
 * the port and frees the pool, so it goes last.
 */
void app_dp_free(struct app_dp *d);

/*
 * Before a lane stops polling for good: a memif peer is told and answers, so
 * neither end is inside a burst on the shared rings when the link goes
 * (tws_node_bye(); DPDK's memif would crash there). Waits at most
 * APP_DP_BYE_WAIT_US for the answer (a peer that is not twstack gives none);
 * returns at once on other ports or with the link down. Then, once every
 * lane has said it, app_dp_port_stop() on lane 0 takes the link down.
 */
#define APP_DP_BYE_WAIT_US 250000
void app_dp_bye(struct app_dp *d);
void app_dp_port_stop(struct app_dp *d0);

/* The stacks' counters summed over the lanes of lane 0 @p d0 (gauges too: they add up). */
void app_dp_stack_stats(const struct app_dp *d0, struct tws_stack_stats *s);

/* TIME_WAIT entries the lanes of @p d0 can hold in all. */
uint64_t app_dp_tw_capacity(const struct app_dp *d0);

/* A memif port whose link is still down is started again this often (see the .c). */
#define APP_DP_MEMIF_RESTART_NS 1000000000ull

/*
 * Wait up to @p seconds for the port's link (a memif peer connecting; a memif
 * port is started again every APP_DP_MEMIF_RESTART_NS meanwhile, counted in
 * d->memif_restarts); then queue gratuitous ARPs. Stops early on SIGINT.
 * @return link is up.
 */
bool app_dp_link_wait(struct app_dp *d, double seconds);

/*
 * Describe up to @p max live connections on @p f (state, sequence numbers
 * relative to the ISNs, queues, windows, RTO, retransmissions), one line
 * each, as "<prog>: open at the end: ...", and how many there were.
 * @return Live connections.
 */
unsigned int app_dp_describe_open(FILE *f, const char *prog, const struct app_dp *d,
				  unsigned int max);

/* The clock of the poll loop, microseconds. */
static inline uint64_t
app_dp_now_us(const struct app_dp *d)
{
	return d->start_us + (uint64_t)((double)(rte_rdtsc() - d->tsc0) * d->us_per_tsc);
}

struct app_json;

/*
 * Write an object "port" into @p j: the port's name and driver, what the
 * node moved (rx_frames, tx_frames, tx_dropped: frames the port did not
 * take), and the net layer's losses (rx_dropped, tx_bad, tx_no_route,
 * arp_unresolved, arp_queue_drops, arp_failed), the pool's size and the
 * mbufs in use when written (mbufs, mbufs_in_use); with --fault an object
 * "fault" with the link's counters (TWS_FAULT_STATS).
 */
void app_dp_json(struct app_json *j, const struct app_dp *d);

/* What a progress line shows of one interval. */
struct app_progress {
	double t_s;                /* since the start */
	double cps;                /* connections finished per second in the interval */
	uint64_t open;             /* live connections */
	uint64_t tw;               /* TIME_WAIT entries */
	double tw_bytes_per_entry;
	uint64_t errors;
	const char *error_detail;  /* "" or " (timeout 3, reset 1)" */
	uint64_t retransmits;
};

/* Print one progress line. */
void app_progress_print(FILE *f, const char *prog, const struct app_progress *p);

/*
 * Append " (name n, name n)" for the non-zero counts into buf, or "" when
 * all are zero. @return buf.
 */
const char *app_error_detail(char *buf, size_t len, const char *const *names,
			     const uint64_t *counts, unsigned int n);

/* Check @p path can be written (before the run, not after): 0 or -1 after a message. */
int app_check_writable(const char *prog, const char *opt, const char *path);

#endif /* APP_DP_H */
