/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "xfer.h"

const uint8_t x_secret[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

#define X_CHUNK 16384

uint64_t
x_time(const struct xnet *x, int side)
{
	return x->h.now_us + (side ? x->off_b : 0);
}

struct h_node *
x_node(struct xnet *x, int side)
{
	return side ? &x->h.b : &x->h.a;
}

uint64_t
x_stat(struct xnet *x, int side, const char *name)
{
	return h_stat(x_node(x, side), name);
}

/* ---- the application ---- */

static void
xc_push(struct xc *c)
{
	static uint8_t buf[X_CHUNK];

	while (c->conn != NULL && c->tx_done < c->tx_len) {
		uint32_t n = (uint32_t)RTE_MIN(c->tx_len - c->tx_done, (uint64_t)X_CHUNK);

		for (uint32_t i = 0; i < n; i++)
			buf[i] = x_pattern(c->tx_done + i);

		int r = tws_send(c->conn, buf, n);

		if (r <= 0)
			break;
		c->tx_done += (uint64_t)r;
		if ((uint32_t)r < n)
			break; /* send buffer full: SENT follows */
	}
}

void
x_xc_read(struct xc *c)
{
	static uint8_t buf[X_CHUNK];
	int r;

	while (c->conn != NULL && (r = tws_recv(c->conn, buf, sizeof(buf))) > 0) {
		for (int i = 0; i < r; i++) {
			if (buf[i] != x_pattern(c->rx_got + (uint64_t)i)) {
				if (c->rx_bad++ == 0)
					c->first_bad = c->rx_got + (uint64_t)i;
			}
		}
		c->rx_got += (uint64_t)r;
	}
}

static bool
tx_complete(const struct xc *c)
{
	return c->tx_done == c->tx_len;
}

/* What the application does next: start sending, send more, close. */
static void
xc_progress(struct xc *c)
{
	if (c->conn == NULL || !c->opened)
		return;
	if (!c->tx_on && c->tx_when == X_TX_AFTER_RX && c->rx_got >= c->rx_expect)
		c->tx_on = true;
	if (c->tx_on)
		xc_push(c);
	if (c->app_closed || c->conn == NULL)
		return;

	bool close = (c->close_when_done && tx_complete(c) && c->rx_got >= c->rx_expect) ||
		     (c->close_after_send && tx_complete(c)) ||
		     (c->close_on_peer_fin && c->peer_closed && tx_complete(c));

	if (close) {
		c->app_closed = true;
		tws_close(c->conn);
	}
}

void
x_xc_start(struct xc *c)
{
	c->tx_on = true;
	x_xc_read(c);
	xc_progress(c);
}

static struct xc *
xc_find(struct xnet *x, int side, uint16_t cport)
{
	for (unsigned int i = 0; i < x->nb_xc; i++) {
		struct xc *c = x->xc[i];

		if (c->side == side && !c->opened && !c->ended && c->cport == cport)
			return c;
	}
	return NULL;
}

static void
x_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct x_node_arg *na = arg;
	struct xnet *x = na->x;
	struct h_node *n = x_node(x, na->side);
	struct xc *c = ev->udata;

	(void)st;
	if (n->nb_ev < H_MAX_EVENTS)
		n->ev[n->nb_ev++] = (struct h_event){ ev->type, ev->conn, ev->udata, ev->error };
	if (ev->type == TWS_EV_ACCEPTED && c == NULL) {
		c = xc_find(x, na->side, rte_be_to_cpu_16(tws_conn_tuple(ev->conn)->rport));
		if (c != NULL) {
			tws_conn_set_udata(ev->conn, c);
			c->conn = ev->conn;
		}
	}
	if (c == NULL) {
		/* A connection nobody registered (fuzzed SYNs): closed at once, input discarded. */
		static uint8_t buf[X_CHUNK];

		x->nb_foreign++;
		if (ev->type == TWS_EV_DATA || ev->type == TWS_EV_PEER_CLOSED)
			while (tws_recv(ev->conn, buf, sizeof(buf)) > 0)
				;
		if (ev->type == TWS_EV_ACCEPTED || ev->type == TWS_EV_CONNECTED ||
		    ev->type == TWS_EV_PEER_CLOSED)
			tws_close(ev->conn);
		return;
	}
	if (ev->type == TWS_EV_DATA)
		c->nb_data++;
	else if (ev->type == TWS_EV_SENT)
		c->nb_sent++;
	else if (c->nb_ev < RTE_DIM(c->ev))
		c->ev[c->nb_ev++] = ev->type;
	switch (ev->type) {
	case TWS_EV_CONNECTED:
	case TWS_EV_ACCEPTED:
		c->opened = true;
		c->conn = ev->conn;
		if (c->tx_when == X_TX_ON_OPEN)
			c->tx_on = true;
		break;
	case TWS_EV_DATA:
		if (!c->no_read)
			x_xc_read(c);
		break;
	case TWS_EV_SENT:
		break;
	case TWS_EV_PEER_CLOSED:
		c->peer_closed = true;
		if (!c->no_read)
			x_xc_read(c);
		if (c->tx_when == X_TX_AFTER_FIN)
			c->tx_on = true;
		break;
	case TWS_EV_CLOSED:
	case TWS_EV_RESET:
	case TWS_EV_ERROR:
		c->ended = true;
		c->end_ev = ev->type;
		c->end_err = ev->error;
		c->end_us = x->h.now_us;
		c->conn = NULL;
		return;
	default:
		break;
	}
	xc_progress(c);
}

bool
x_xc_ok(const struct xc *c)
{
	return c->ended && c->end_ev == TWS_EV_CLOSED && c->rx_got == c->rx_expect &&
	       c->rx_bad == 0 && c->tx_done == c->tx_len;
}

const char *
x_xc_fmt(const struct xc *c)
{
	static char buf[4][256];
	static unsigned int k;
	char *b = buf[k++ & 3];
	int o = snprintf(b, 256, "%s: tx %lu/%lu rx %lu/%lu bad %lu (first %lu)%s%s ev",
			 c->side ? "B" : "A", (unsigned long)c->tx_done, (unsigned long)c->tx_len,
			 (unsigned long)c->rx_got, (unsigned long)c->rx_expect,
			 (unsigned long)c->rx_bad, (unsigned long)c->first_bad,
			 c->ended ? " ended" : "", c->conn != NULL ?
			 tws_tcp_state_name(tws_conn_state(c->conn)) : "");

	for (unsigned int i = 0; i < c->nb_ev && o > 0 && o < 240; i++)
		o += snprintf(b + o, 256 - (size_t)o, " %s", tws_event_name(c->ev[i]));
	return b;
}

/* ---- set-up ---- */

static int
node_init(struct xnet *x, int side, const struct tws_tcp_knobs *k, uint64_t now_us)
{
	static unsigned int seq;
	struct h_node *n = x_node(x, side);
	char name[32];

	snprintf(name, sizeof(name), "x%u", seq++);
	n->addr = side ? H_ADDR_B : H_ADDR_A;
	x->na[side] = (struct x_node_arg){ x, side };
	n->st = tws_stack_create(&(struct tws_stack_params){
		.name = name, .socket_id = SOCKET_ID_ANY, .max_conns = 1024, .mp = h_pool(),
		.start_us = now_us, .knobs = *k, .secret = x_secret, .event_cb = x_event,
		.event_arg = &x->na[side] });
	return n->st == NULL ? -rte_errno : 0;
}

int
x_init(struct xnet *x, const struct tws_tcp_knobs *ka, const struct tws_tcp_knobs *kb,
       uint64_t now_us, uint64_t off_b)
{
	int rc;

	memset(x, 0, sizeof(*x));
	x->h.now_us = now_us;
	x->off_b = off_b;
	rc = node_init(x, 0, ka, now_us);
	if (rc == 0)
		rc = node_init(x, 1, kb, now_us + off_b);
	if (rc == 0)
		rc = tws_listen(x->h.b.st, 0, H_PORT, NULL);
	return rc;
}

void
x_free(struct xnet *x)
{
	for (int i = 0; i < 2; i++) {
		rte_pktmbuf_free(x->held[i]);
		x->held[i] = NULL;
	}
	h_net_free(&x->h);
}

void
x_reset(struct xnet *x)
{
	x_free(x);
	memset(x, 0, sizeof(*x));
}

unsigned int
x_pool_avail(void)
{
	return rte_mempool_avail_count(h_pool());
}

void
x_add(struct xnet *x, struct xc *c)
{
	c->x = x;
	if (x->nb_xc < X_MAX_XC)
		x->xc[x->nb_xc++] = c;
}

int
x_connect(struct xnet *x, struct xc *cli, struct xc *srv, uint16_t lport)
{
	struct tws_conn *conn = NULL;
	int rc;

	cli->side = 0;
	x_add(x, cli);
	rc = tws_connect(x->h.a.st, &(struct tws_connect_params){
		.laddr = H_ADDR_A, .raddr = H_ADDR_B, .rport = H_PORT,
		.lport = rte_cpu_to_be_16(lport), .udata = cli }, &conn);
	if (rc != 0)
		return rc;
	cli->conn = conn;
	cli->cport = rte_be_to_cpu_16(tws_conn_tuple(conn)->lport);
	if (srv != NULL) {
		srv->side = 1;
		srv->cport = cli->cport;
		x_add(x, srv);
	}
	return 0;
}

/* ---- the wire ---- */

uint32_t
x_payload(const struct rte_mbuf *m, uint8_t *buf, uint32_t cap)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t ihl = (ip[0] & 0xfu) * 4;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];
	uint32_t thl = (uint32_t)(ip[ihl + 12] >> 4) * 4;
	uint32_t len = tot - ihl - thl;

	memcpy(buf, ip + ihl + thl, RTE_MIN(len, cap));
	return len;
}

int
x_feed(struct xnet *x, int side, struct rte_mbuf *m)
{
	struct rte_mbuf *rej[1];
	int32_t reason[1];

	if (tws_stack_rx_burst(x_node(x, side)->st, &m, rej, reason, 1, x_time(x, side)) == 1)
		return -1;
	rte_pktmbuf_free(rej[0]);
	return reason[0];
}

struct batch {
	struct rte_mbuf *m[256];
	uint16_t n;
};

static void
batch_add(struct batch *b, struct rte_mbuf *m)
{
	if (b->n < RTE_DIM(b->m))
		b->m[b->n++] = m;
	else
		rte_pktmbuf_free(m);
}

static void
batch_deliver(struct xnet *x, int to, struct batch *b)
{
	struct rte_mbuf *rej[256];
	int32_t reason[256];

	if (b->n == 0)
		return;

	uint16_t acc = tws_stack_rx_burst(x_node(x, to)->st, b->m, rej, reason, b->n,
					  x_time(x, to));

	for (uint16_t i = 0; i < b->n - acc; i++)
		rte_pktmbuf_free(rej[i]);
	x->nb_rejected += (unsigned int)(b->n - acc);
	b->n = 0;
}

/* One packet from `from` through the wire into batch b (for the other node). */
static void
offer(struct xnet *x, int from, struct rte_mbuf *m, struct batch *b)
{
	struct h_seg s;
	rte_be32_t dst = from ? x->h.a.addr : x->h.b.addr;

	if (h_decode(m, &s) != 0) {
		x->nb_bad++;
		rte_pktmbuf_free(m);
		return;
	}
	if (s.daddr != dst) {
		x->nb_stray++;
		rte_pktmbuf_free(m);
		return;
	}
	if (x->tap != NULL)
		x->tap(x, from, m, x->tap_arg);

	unsigned int idx = x->idx++;
	enum x_verdict v = x->wire != NULL ? x->wire(x, from, &s, idx, x->wire_arg) : X_PASS;

	if (x->h.nb_log < H_MAX_SEGS) {
		unsigned int i = x->h.nb_log++;

		x->h.log[i] = s;
		x->h.log_from[i] = from;
		x->h.log_dropped[i] = v == X_DROP;
		x->log_t[i] = x->h.now_us;
		x->log_v[i] = v;
	}
	x->h.sent[from]++;
	switch (v) {
	case X_DROP:
		x->nb_dropped++;
		rte_pktmbuf_free(m);
		return;
	case X_HOLD:
		if (x->held[from] != NULL) {
			batch_add(b, x->held[from]); /* the older one goes first */
			x->nb_late++;
		}
		x->held[from] = m;
		x->nb_held++;
		return;
	case X_DUP: {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, h_pool(), 0, UINT32_MAX);

		batch_add(b, m);
		if (c != NULL) {
			batch_add(b, c);
			x->nb_dup++;
		}
		break;
	}
	default:
		batch_add(b, m);
		break;
	}
	if (x->held[from] != NULL) {
		/* The held segment follows the one that overtook it. */
		batch_add(b, x->held[from]);
		x->held[from] = NULL;
		x->nb_reordered++;
	}
}

struct rte_mbuf *
x_grab(struct xnet *x, int from)
{
	struct rte_mbuf *m;

	if (tws_stack_tx_burst(x_node(x, from)->st, &m, 1) != 1)
		return NULL;
	return m;
}

void
x_put(struct xnet *x, int from, struct rte_mbuf *m)
{
	struct batch b = { .n = 0 };

	offer(x, from, m, &b);
	batch_deliver(x, !from, &b);
}

int
x_step(struct xnet *x, int from, struct h_seg *s)
{
	struct rte_mbuf *m = x_grab(x, from);

	if (m == NULL)
		return 0;

	unsigned int before = x->h.nb_log;

	x_put(x, from, m);
	if (s != NULL && x->h.nb_log > before)
		*s = x->h.log[before];
	return 1;
}

unsigned int
x_run(struct xnet *x)
{
	unsigned int moved = 0;

	for (int round = 0; round < 1000000; round++) {
		unsigned int got = 0;

		for (int from = 0; from < 2; from++) {
			struct rte_mbuf *m[64];
			struct batch b = { .n = 0 };
			uint16_t n = tws_stack_tx_burst(x_node(x, from)->st, m, 64);

			for (uint16_t i = 0; i < n; i++)
				offer(x, from, m[i], &b);
			batch_deliver(x, !from, &b);
			got += n;
		}
		moved += got;
		if (got > 0)
			continue;
		/* Quiet: a held segment nothing overtook arrives late. */
		bool any = false;

		for (int from = 0; from < 2; from++) {
			if (x->held[from] != NULL) {
				struct batch b = { .n = 0 };

				batch_add(&b, x->held[from]);
				x->held[from] = NULL;
				x->nb_late++;
				batch_deliver(x, !from, &b);
				any = true;
			}
		}
		if (!any)
			break;
	}
	return moved;
}

void
x_at(struct xnet *x, uint64_t t_us)
{
	if (t_us > x->h.now_us)
		x->h.now_us = t_us;
	tws_stack_poll(x->h.a.st, x_time(x, 0));
	tws_stack_poll(x->h.b.st, x_time(x, 1));
	x_run(x);
}

bool
x_drive(struct xnet *x, bool (*done)(struct xnet *x, void *arg), void *arg, uint64_t step_us,
	uint64_t max_us)
{
	uint64_t end = x->h.now_us + max_us;

	x_run(x);
	while (!done(x, arg)) {
		if (x->h.now_us >= end)
			return false;
		x_at(x, x->h.now_us + step_us);
	}
	return true;
}

bool
x_all_ended(struct xnet *x, void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < x->nb_xc; i++)
		if (!x->xc[i]->ended)
			return false;
	return true;
}
