/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenario harness: two stack instances (client A at 198.18.0.1, server B
 * at 198.18.0.2) joined by an in-memory wire, or one stack and a scripted
 * peer. Time is injected; every segment that crosses the wire is decoded
 * into struct h_seg, so tests assert exact flags, seq, ack, tsval, tsecr.
 */
#ifndef TWS_HARNESS_H
#define TWS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "tws_tcp.h"
#include "tws_test.h"

#define H_ADDR_A RTE_BE32(0xc6120001) /* 198.18.0.1 */
#define H_ADDR_B RTE_BE32(0xc6120002) /* 198.18.0.2 */
#define H_ADDR_C RTE_BE32(0xc6120003) /* 198.18.0.3 (scripted peers) */
#define H_PORT   RTE_BE16(80)
#define H_MAX_EVENTS 4096
#define H_MAX_SEGS 4096

/* A decoded segment (host order except addresses and ports). */
struct h_seg {
	rte_be32_t saddr, daddr;
	uint16_t sport, dport;  /* host order */
	uint8_t flags;
	uint32_t seq, ack, len;
	uint16_t window;
	bool has_ts;
	uint32_t tsval, tsecr;
	struct tws_tcp_opts opts;
	uint8_t payload[64];    /* first bytes of the payload */
};

/* An event as recorded by the harness callback. */
struct h_event {
	enum tws_event_type type;
	struct tws_conn *conn;
	void *udata;
	int error;
};

/* One stack with its recorded events. */
struct h_node {
	struct tws_stack *st;
	rte_be32_t addr;
	struct h_event ev[H_MAX_EVENTS];
	unsigned int nb_ev;
	/* Server behaviour: reply with `reply` bytes to any request, close on PEER_CLOSED. */
	bool auto_reply;
	uint32_t reply_len;
	bool auto_close_on_peer_fin;
	/* Client behaviour: send `request_len` bytes on CONNECTED, close after `close_after` read. */
	uint32_t request_len;
	uint32_t close_after;
	uint32_t rx_bytes;      /* bytes read by the callbacks */
	uint8_t rx_data[65536]; /* the first of them */
};

/*
 * Wire filter: return false to drop the segment. `from` is the sending node
 * (0 = A, 1 = B); `n` counts segments that crossed in that direction.
 */
typedef bool (*h_filter)(int from, const struct h_seg *s, unsigned int n, void *arg);

struct h_net {
	struct h_node a, b;
	uint64_t now_us;
	struct h_seg log[H_MAX_SEGS]; /* every segment put on the wire, in order */
	int log_from[H_MAX_SEGS];
	bool log_dropped[H_MAX_SEGS];
	unsigned int nb_log;
	unsigned int sent[2];
	h_filter filter;
	void *filter_arg;
};

/* As CHECKF, in a helper that returns bool: fails the case and returns false. */
#define HC(cond, ...) do { \
	if (!(cond)) { \
		tws_test_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
		return false; \
	} \
} while (0)

/* EAL and the shared mbuf pool; call once from main(). */
void h_init(const char *prog);
struct rte_mempool *h_pool(void);

/* Knobs with defaults; tests change fields before h_net_init()/h_node_init(). */
void h_knobs(struct tws_tcp_knobs *k);

/* Create a node's stack with knobs k at time now_us (fixed secret). 0 or -errno. */
int h_node_init(struct h_node *n, rte_be32_t addr, const struct tws_tcp_knobs *k,
		uint64_t now_us);
void h_node_free(struct h_node *n);

/* Two nodes A (client) and B (server listening on H_PORT). */
int h_net_init(struct h_net *net, const struct tws_tcp_knobs *ka, const struct tws_tcp_knobs *kb);
/* Free both nodes; harmless on nodes already freed (a failed case cleans up after itself). */
void h_net_free(struct h_net *net);

/*
 * Move segments between A and B until both are quiet (at most max_rounds
 * rounds), at the current time. Returns the number of segments moved.
 */
unsigned int h_net_run(struct h_net *net);

/* Advance time to t_us, poll both stacks, then h_net_run(). */
void h_net_at(struct h_net *net, uint64_t t_us);

/* Decode a packet produced by a stack. 0 or -1 if it is not a valid segment. */
int h_decode(const struct rte_mbuf *m, struct h_seg *s);

/*
 * Take every segment node n has queued, decode them into out (at most max)
 * and free them. Returns the count.
 */
unsigned int h_take(struct h_node *n, struct h_seg *out, unsigned int max);

/* A segment a scripted peer sends. */
struct h_inject {
	rte_be32_t saddr, daddr;
	uint16_t sport, dport;  /* host order */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t window;
	bool has_ts;
	uint32_t tsval, tsecr;
	struct tws_tcp_opts syn; /* on SYNs */
	const void *payload;
	uint32_t len;
};

/* Build the segment as an mbuf (valid checksums). */
struct rte_mbuf *h_build(const struct h_inject *in);

/* Build and feed one segment to node n at time now_us. Returns rx_burst's result. */
uint16_t h_inject(struct h_node *n, const struct h_inject *in, uint64_t now_us);

/* The last event of type t on node n (NULL if none); count of events of type t. */
const struct h_event *h_last_event(const struct h_node *n, enum tws_event_type t);
unsigned int h_count_events(const struct h_node *n, enum tws_event_type t);

/* A counter of a node's stack by name (aborts the test program on a bad name). */
uint64_t h_stat(const struct h_node *n, const char *name);

/* Format a segment for failure messages ("A>B S. seq=1 ack=2 len=0 ts=5/7"). */
const char *h_fmt(const struct h_seg *s);

/* Last segment on the wire sent by `from` (0 A, 1 B), or NULL. */
const struct h_seg *h_last_from(const struct h_net *net, int from);

#endif /* TWS_HARNESS_H */
