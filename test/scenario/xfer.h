/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transfers over the scenario wire, for tests that move many bytes or
 * damage the wire: stacks A and B with an event handler of our own (each
 * connection's bytes checked one by one against the pattern, any length,
 * reading under the test's control), and a wire that can drop, hold
 * (deliver after the next segment of the same direction), or duplicate
 * any segment. Built on the harness: struct h_net holds the nodes, the
 * segment log and the time.
 */
#ifndef TWS_XFER_H
#define TWS_XFER_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

/* The harness's payload pattern: byte i of every stream. */
static inline uint8_t
x_pattern(uint64_t i)
{
	uint32_t v = (uint32_t)i;

	return (uint8_t)(v * 7 + (v >> 8) + 3);
}

/* When a connection starts sending its tx_len bytes. */
enum x_tx_when {
	X_TX_ON_OPEN,     /* on CONNECTED / ACCEPTED */
	X_TX_AFTER_RX,    /* once rx_expect bytes arrived (a response) */
	X_TX_AFTER_FIN,   /* on PEER_CLOSED */
	X_TX_MANUAL,      /* x_xc_start() */
};

struct xnet;

/* One connection as the application sees it. */
struct xc {
	struct xnet *x;
	int side;                 /* 0: A (connects), 1: B (accepts) */
	uint16_t cport;           /* B side: the client port it accepts (host order) */
	struct tws_conn *conn;    /* NULL before open and after the terminal event */
	bool opened;
	/* Sending. */
	uint64_t tx_len, tx_done;
	enum x_tx_when tx_when;
	bool tx_on;
	/* Closing: tws_close() once sent all and got rx_expect; or on the peer's FIN once sent all. */
	bool close_when_done;
	bool close_on_peer_fin;
	bool close_after_send;    /* tws_close() as soon as all is sent (queued) */
	bool app_closed;
	/* Receiving. */
	bool no_read;             /* leave received bytes unread */
	uint64_t rx_expect, rx_got, rx_bad, first_bad;
	bool peer_closed;
	/* End. */
	bool ended;
	enum tws_event_type end_ev;
	int end_err;
	uint64_t end_us;          /* wire time of the terminal event */
	enum tws_event_type ev[32];
	unsigned int nb_ev;       /* events but DATA and SENT, in order (the first 32) */
	unsigned int nb_data, nb_sent; /* DATA and SENT events */
};

/* What the wire does with a segment. */
enum x_verdict { X_PASS, X_DROP, X_HOLD, X_DUP };

/* Decide for the idx-th segment put on the wire (both directions counted). */
typedef enum x_verdict (*x_wire_fn)(struct xnet *x, int from, const struct h_seg *s,
				    unsigned int idx, void *arg);

/* Sees every decodable packet put on the wire (before the verdict). */
typedef void (*x_tap_fn)(struct xnet *x, int from, const struct rte_mbuf *m, void *arg);

#define X_MAX_XC 512

struct x_node_arg {
	struct xnet *x;
	int side;
};

struct xnet {
	struct h_net h;           /* nodes, segment log, now_us (A's clock) */
	uint64_t off_b;           /* B's clock = A's + off_b */
	struct x_node_arg na[2];
	struct xc *xc[X_MAX_XC];
	unsigned int nb_xc;
	x_wire_fn wire;
	void *wire_arg;
	x_tap_fn tap;
	void *tap_arg;
	unsigned int idx;         /* segments put on the wire */
	uint64_t log_t[H_MAX_SEGS];         /* A's clock when each logged segment left */
	enum x_verdict log_v[H_MAX_SEGS];
	struct rte_mbuf *held[2];
	unsigned int nb_dropped, nb_held, nb_reordered, nb_late, nb_dup;
	unsigned int nb_stray;    /* addressed to neither node: freed */
	unsigned int nb_bad;      /* a stack sent something h_decode() refused */
	unsigned int nb_rejected; /* handed back by the receiving stack */
	unsigned int nb_foreign;  /* events of connections without a context */
};

/* The secret the stacks use (the harness's): ISNs are computable. */
extern const uint8_t x_secret[32];

/*
 * Stacks A (at now_us) and B (at now_us + off_b), B listening on H_PORT.
 * 0 or -errno.
 */
int x_init(struct xnet *x, const struct tws_tcp_knobs *ka, const struct tws_tcp_knobs *kb,
	   uint64_t now_us, uint64_t off_b);
void x_free(struct xnet *x);

/* Free what a case that failed half-way left (CHECK returns early), then zero x. */
void x_reset(struct xnet *x);

/* Mbufs free in the harness pool (leak checks compare it with a baseline). */
unsigned int x_pool_avail(void);

/* The clock of node side (0 A, 1 B). */
uint64_t x_time(const struct xnet *x, int side);

/* Node side's struct h_node. */
struct h_node *x_node(struct xnet *x, int side);

/*
 * Register client context cli (side 0) and server context srv (side 1,
 * may be NULL) and connect from A to B:80 with local port lport (0: the
 * allocator's). Returns tws_connect()'s result.
 */
int x_connect(struct xnet *x, struct xc *cli, struct xc *srv, uint16_t lport);

/* Register a context (server side: matched to an accepted connection by cport). */
void x_add(struct xnet *x, struct xc *c);

/* Start sending (X_TX_MANUAL, or again after a pause), read what is waiting. */
void x_xc_start(struct xc *c);
void x_xc_read(struct xc *c);

/* Everything expected arrived intact and the connection ended with CLOSED. */
bool x_xc_ok(const struct xc *c);

/* Describe a context for failure messages. */
const char *x_xc_fmt(const struct xc *c);

/* Move segments both ways through the wire until both stacks are quiet. */
unsigned int x_run(struct xnet *x);

/* Advance A's clock to t_us (B's follows), poll both stacks, x_run(). */
void x_at(struct xnet *x, uint64_t t_us);

/*
 * x_run(), then step the clock by step_us until done(x, arg) or max_us
 * passed. Returns whether done.
 */
bool x_drive(struct xnet *x, bool (*done)(struct xnet *x, void *arg), void *arg,
	     uint64_t step_us, uint64_t max_us);

/* Done when every registered context has ended. */
bool x_all_ended(struct xnet *x, void *arg);

/* Take one packet node `from` queued (NULL if none). */
struct rte_mbuf *x_grab(struct xnet *x, int from);

/* Put a packet from `from` through the wire (verdict, log) to the other node. */
void x_put(struct xnet *x, int from, struct rte_mbuf *m);

/* x_grab() + x_put(); the segment in *s if not NULL. Returns 1, or 0 if none. */
int x_step(struct xnet *x, int from, struct h_seg *s);

/* Feed one packet to node side at its clock. Returns the reject reason, or -1 if consumed. */
int x_feed(struct xnet *x, int side, struct rte_mbuf *m);

/* Copy the TCP payload of an IPv4 packet (at most cap bytes). Returns its length. */
uint32_t x_payload(const struct rte_mbuf *m, uint8_t *buf, uint32_t cap);

/* A stack counter by name (h_stat of node side). */
uint64_t x_stat(struct xnet *x, int side, const char *name);

#endif /* TWS_XFER_H */
