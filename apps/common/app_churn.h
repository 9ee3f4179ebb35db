/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection churn between two twstack instances on one lcore, passing
 * mbufs in memory (no ports): what `tws-bench tcp` measures for speed and
 * `tws-memcost` uses to fill TIME_WAIT through the real engine.
 *
 * Each connection: handshake, a 100-byte request, a 100-byte response, the
 * client closes first (so every connection leaves a TIME_WAIT entry on the
 * client), the server closes when it sees the FIN. Client addresses are
 * 198.19.0.1.. (clients of them), server addresses 198.18.0.2.. (servers of
 * them), port 80; connections go round-robin over the (client, server)
 * pairs, so each pair is one destination of the client's port allocator.
 *
 * The caller drives time: app_churn_step() at every pass of its loop,
 * app_churn_poll() for the timers.
 */
#ifndef APP_CHURN_H
#define APP_CHURN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "tws_tcp.h"

#define APP_CHURN_REQ_LEN 100
#define APP_CHURN_RESP_LEN 100
#define APP_CHURN_CLIENT_BASE 0xc6130001u   /* 198.19.0.1: the first client address */
#define APP_CHURN_SERVER_BASE 0xc6120002u   /* 198.18.0.2: the first server address */
#define APP_CHURN_SERVER_PORT 80
/* Local ports a client address offers per destination (32768..60999, Linux's range). */
#define APP_CHURN_PORTS_PER_ADDR 28232u

struct app_churn_params {
	const char *prog;          /* for error messages */
	struct rte_mempool *mp;    /* mbufs of both stacks */
	uint32_t concurrency;      /* connections in flight */
	uint32_t clients;          /* client addresses, >= 1 */
	uint32_t servers;          /* server addresses; 0: 1 */
	uint32_t max_tw;           /* TIME_WAIT capacity of the client stack */
	bool sw_csum;              /* checksums in software instead of offload flags */
	/* Knobs of both stacks (max_tw is overridden); NULL: the defaults. */
	const struct tws_tcp_knobs *knobs;
	uint64_t start_us;         /* the clock at creation */
};

/* Failures seen by one side, by kind. */
struct app_churn_errors {
	uint64_t reset, refused, timeout, addr, other, data;
};

struct app_churn {
	struct app_churn_params p;
	struct tws_stack *cli, *srv;
	/* Connects are started while opened < limit (UINT64_MAX: no limit). */
	uint64_t limit;
	uint64_t opened;           /* connects started */
	uint64_t completed;        /* client: response received, then CLOSED */
	uint64_t finished;         /* client: connections over, completed or failed */
	uint64_t srv_completed;    /* server: CLOSED */
	uint64_t segs;             /* segments passed between the stacks */
	struct app_churn_errors cli_err, srv_err;
	uint32_t want;             /* connects owed to keep concurrency in flight */
	uint64_t next;             /* round-robin position over the (client, server) pairs */
	uint8_t payload[APP_CHURN_RESP_LEN];
};

/*
 * Create the server stack (listening on port 80) and the client stack.
 * max_conns of each: concurrency x 2 + 1024. Prints an error and returns
 * -1 on failure (what exists is freed); 0 on success.
 */
int app_churn_init(struct app_churn *c, const struct app_churn_params *p);

/*
 * Create another client stack like the first but with TIME_WAIT capacity
 * @p max_tw and @p dests port-allocator destinations; the caller may make it
 * c->cli (keep the old one, or free it). NULL after an error message.
 */
struct tws_stack *app_churn_client_create(struct app_churn *c, const char *name, uint32_t max_tw,
					  uint32_t dests);

/* Start the connects owed, then pass segments both ways until both stacks are quiet. */
void app_churn_step(struct app_churn *c, uint64_t now_us);

/*
 * Pass the segments still queued (the last ACKs of closing connections)
 * without starting connects, until a pass moves none (at most 64 passes).
 * @return 0 when both stacks are quiet, -1 if segments still move.
 */
int app_churn_drain(struct app_churn *c, uint64_t now_us);

/* Run both stacks' timers and TIME_WAIT expiry. */
void app_churn_poll(struct app_churn *c, uint64_t now_us);

/* Failures of both sides together. */
uint64_t app_churn_errors(const struct app_churn *c);

/* Free both stacks (not the mempool). */
void app_churn_free(struct app_churn *c);

struct rte_mbuf;

/**
 * Write into @p m (empty, headroom as allocated) an IPv4 SYN as a Linux
 * client sends it: MSS 1460, SACK-permitted, timestamps (TSval @p tsval),
 * window scale 7, window 64240, DF, TTL 64; addresses and ports in network
 * order. Checksums are left 0; data_len, pkt_len, l3_len, l4_len and
 * packet_type are set. For SYN floods (tws-gen --syn-flood, tws-bench flood).
 */
void app_syn_write(struct rte_mbuf *m, rte_be32_t saddr, rte_be32_t daddr, rte_be16_t sport,
		   rte_be16_t dport, uint32_t isn, uint32_t tsval);

#endif /* APP_CHURN_H */
