/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "app_churn.h"

#define BURST 64

/* Start the connects owed, in bursts, while the limit allows. */
static void
start_connects(struct app_churn *c)
{
	struct tws_connect_params p[BURST];
	struct tws_conn *conns[BURST];
	uint32_t pairs = c->p.clients * c->p.servers;
	int rc[BURST];

	while (c->want > 0 && c->opened < c->limit) {
		unsigned int n = (unsigned int)RTE_MIN((uint64_t)RTE_MIN(c->want, (uint32_t)BURST),
						       c->limit - c->opened);

		for (unsigned int i = 0; i < n; i++) {
			uint32_t pair = (uint32_t)(c->next++ % pairs);
			uint32_t cli = APP_CHURN_CLIENT_BASE + pair % c->p.clients;
			uint32_t srv = APP_CHURN_SERVER_BASE + pair / c->p.clients;

			p[i] = (struct tws_connect_params){ .laddr = rte_cpu_to_be_32(cli),
				.raddr = rte_cpu_to_be_32(srv),
				.rport = rte_cpu_to_be_16(APP_CHURN_SERVER_PORT) };
		}

		unsigned int ok = tws_connect_burst(c->cli, p, conns, rc, n);

		c->want -= ok;
		c->opened += ok;
		for (unsigned int i = 0; i < n; i++) {
			if (rc[i] == -EADDRNOTAVAIL)
				c->cli_err.addr++;
			else if (rc[i] != 0)
				c->cli_err.other++;
		}
		if (ok < n)
			return; /* try again next pass */
	}
}

static void
client_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct app_churn *c = arg;
	uint8_t buf[APP_CHURN_RESP_LEN * 2];
	uintptr_t got = (uintptr_t)ev->udata;

	(void)st;
	switch (ev->type) {
	case TWS_EV_CONNECTED:
		if (tws_send(ev->conn, c->payload, APP_CHURN_REQ_LEN) != APP_CHURN_REQ_LEN)
			c->cli_err.other++;
		return;
	case TWS_EV_DATA: {
		int r = tws_recv(ev->conn, buf, sizeof(buf));

		if (r > 0)
			got += (uintptr_t)r;
		tws_conn_set_udata(ev->conn, (void *)got);
		if (got >= APP_CHURN_RESP_LEN) {
			if (got != APP_CHURN_RESP_LEN || memcmp(buf, c->payload, (size_t)r) != 0)
				c->cli_err.data++;
			tws_close(ev->conn); /* the client closes first: TIME_WAIT is ours */
		}
		return;
	}
	case TWS_EV_CLOSED:
		if (got == APP_CHURN_RESP_LEN)
			c->completed++;
		else
			c->cli_err.other++;
		break;
	case TWS_EV_RESET:
		c->cli_err.reset++;
		break;
	case TWS_EV_ERROR:
		if (ev->error == ECONNREFUSED)
			c->cli_err.refused++;
		else
			c->cli_err.timeout++;
		break;
	default:
		return;
	}
	/* The connection is over: one more connect is owed. */
	c->finished++;
	c->want++;
}

static void
server_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct app_churn *c = arg;
	uint8_t buf[APP_CHURN_REQ_LEN * 2];

	(void)st;
	switch (ev->type) {
	case TWS_EV_DATA: {
		int r = tws_recv(ev->conn, buf, sizeof(buf));

		if (r == APP_CHURN_REQ_LEN)
			tws_send(ev->conn, c->payload, APP_CHURN_RESP_LEN);
		else
			c->srv_err.data++;
		break;
	}
	case TWS_EV_PEER_CLOSED:
		tws_close(ev->conn);
		break;
	case TWS_EV_CLOSED:
		c->srv_completed++;
		break;
	case TWS_EV_RESET:
		c->srv_err.reset++;
		break;
	case TWS_EV_ERROR:
		c->srv_err.timeout++;
		break;
	default:
		break;
	}
}

static struct tws_stack *
make_stack(struct app_churn *c, const char *name, tws_event_cb cb, uint32_t max_tw,
	   uint32_t dests)
{
	struct tws_stack_params p = {
		.name = name, .socket_id = (int)rte_socket_id(),
		.max_conns = c->p.concurrency * 2 + 1024, .mp = c->p.mp,
		.start_us = c->p.start_us, .event_cb = cb, .event_arg = c,
		.tx_csum_offload = !c->p.sw_csum, .tx_queue_size = 1u << 16, .max_dests = dests,
	};

	if (c->p.knobs != NULL)
		p.knobs = *c->p.knobs;
	else
		tws_tcp_knobs_default(&p.knobs);
	p.knobs.max_tw = max_tw;

	struct tws_stack *st = tws_stack_create(&p);

	if (st == NULL)
		fprintf(stderr, "%s: cannot create stack %s: %s\n", c->p.prog, name,
			rte_strerror(rte_errno));
	return st;
}

struct tws_stack *
app_churn_client_create(struct app_churn *c, const char *name, uint32_t max_tw, uint32_t dests)
{
	return make_stack(c, name, client_event, max_tw, dests);
}

int
app_churn_init(struct app_churn *c, const struct app_churn_params *p)
{
	memset(c, 0, sizeof(*c));
	c->p = *p;
	if (c->p.servers == 0)
		c->p.servers = 1;
	c->limit = UINT64_MAX;
	c->want = c->p.concurrency;
	for (unsigned int i = 0; i < sizeof(c->payload); i++)
		c->payload[i] = (uint8_t)('a' + i % 26);

	/* The server makes no TIME_WAIT entries (it closes second); 64K is room to spare. */
	c->srv = make_stack(c, "churn_srv", server_event, 65536, 16);
	c->cli = make_stack(c, "churn_cli", client_event, c->p.max_tw,
			    c->p.clients * c->p.servers + 16);
	if (c->srv == NULL || c->cli == NULL)
		goto fail;

	/* One server: its address only; several: any address (they all route here). */
	rte_be32_t laddr = c->p.servers == 1 ? rte_cpu_to_be_32(APP_CHURN_SERVER_BASE) : 0;
	int rc = tws_listen(c->srv, laddr, rte_cpu_to_be_16(APP_CHURN_SERVER_PORT), NULL);

	if (rc != 0) {
		fprintf(stderr, "%s: listen: %s\n", c->p.prog, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	app_churn_free(c);
	return -1;
}

/* Hand packets from one stack to the other, as a NIC with checksum offload would. */
static uint64_t
wire(struct tws_stack *from, struct tws_stack *to, bool sw_csum, uint64_t now_us)
{
	struct rte_mbuf *pkts[BURST], *rej[BURST];
	int32_t reason[BURST];
	uint64_t moved = 0;
	uint16_t n;

	while ((n = tws_stack_tx_burst(from, pkts, BURST)) > 0) {
		if (!sw_csum)
			for (uint16_t i = 0; i < n; i++)
				pkts[i]->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD |
						    RTE_MBUF_F_RX_L4_CKSUM_GOOD;

		uint16_t acc = tws_stack_rx_burst(to, pkts, rej, reason, n, now_us);

		if (acc < n)
			rte_pktmbuf_free_bulk(rej, (unsigned int)(n - acc));
		moved += n;
	}
	return moved;
}

void
app_churn_step(struct app_churn *c, uint64_t now_us)
{
	start_connects(c);
	c->segs += wire(c->cli, c->srv, c->p.sw_csum, now_us);
	c->segs += wire(c->srv, c->cli, c->p.sw_csum, now_us);
}

int
app_churn_drain(struct app_churn *c, uint64_t now_us)
{
	for (int pass = 0; pass < 64; pass++) {
		uint64_t moved = wire(c->cli, c->srv, c->p.sw_csum, now_us) +
				 wire(c->srv, c->cli, c->p.sw_csum, now_us);

		c->segs += moved;
		if (moved == 0)
			return 0;
	}
	return -1;
}

void
app_churn_poll(struct app_churn *c, uint64_t now_us)
{
	tws_stack_poll(c->cli, now_us);
	tws_stack_poll(c->srv, now_us);
}

uint64_t
app_churn_errors(const struct app_churn *c)
{
	const struct app_churn_errors *e = &c->cli_err, *s = &c->srv_err;

	return e->reset + e->refused + e->timeout + e->addr + e->other + e->data +
	       s->data + s->reset;
}

void
app_churn_free(struct app_churn *c)
{
	tws_stack_free(c->cli);
	tws_stack_free(c->srv);
	c->cli = c->srv = NULL;
}

void
app_syn_write(struct rte_mbuf *m, rte_be32_t saddr, rte_be32_t daddr, rte_be16_t sport,
	      rte_be16_t dport, uint32_t isn, uint32_t tsval)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	const struct tws_seg_out o = {
		.sport = sport, .dport = dport, .seq = isn, .flags = TWS_TCP_SYN, .window = 64240,
		.has_ts = true, .tsval = tsval,
		.syn = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
			 .sack_ok = true },
	};
	int hl = tws_tcp_write_header(ip + 1, TWS_TCP_HDR_MAX, &o);
	uint16_t tot = (uint16_t)(sizeof(*ip) + (unsigned int)hl);

	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF, .total_length = rte_cpu_to_be_16(tot),
		.packet_id = (rte_be16_t)isn, .fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG),
		.time_to_live = 64, .next_proto_id = IPPROTO_TCP, .src_addr = saddr,
		.dst_addr = daddr,
	};
	m->data_len = tot;
	m->pkt_len = tot;
	m->l2_len = 0;
	m->l3_len = sizeof(*ip);
	m->l4_len = (uint64_t)hl;
	m->packet_type = RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
}
