/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "harness.h"

static struct rte_mempool *pool;

static const uint8_t secret[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

void
h_init(const char *prog)
{
	tws_test_eal_init(prog, 1, 256);
	pool = rte_pktmbuf_pool_create("h_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "h_init: mbuf pool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
}

struct rte_mempool *
h_pool(void)
{
	return pool;
}

void
h_knobs(struct tws_tcp_knobs *k)
{
	tws_tcp_knobs_default(k);
}

/* Byte i of the test payload pattern (so the receiver can check every byte). */
static inline uint8_t
pattern(uint32_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) + 3);
}

static void
on_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct h_node *n = arg;
	uint8_t buf[4096];

	(void)st;
	if (n->nb_ev < H_MAX_EVENTS)
		n->ev[n->nb_ev++] = (struct h_event){ ev->type, ev->conn, ev->udata, ev->error };
	switch (ev->type) {
	case TWS_EV_CONNECTED:
		if (n->request_len > 0) {
			uint8_t req[4096];

			for (uint32_t i = 0; i < n->request_len && i < sizeof(req); i++)
				req[i] = pattern(i);
			tws_send(ev->conn, req, RTE_MIN(n->request_len, (uint32_t)sizeof(req)));
		}
		break;
	case TWS_EV_DATA:
	case TWS_EV_PEER_CLOSED: {
		int r;

		while ((r = tws_recv(ev->conn, buf, sizeof(buf))) > 0) {
			for (int i = 0; i < r; i++)
				if (n->rx_bytes + (uint32_t)i < sizeof(n->rx_data))
					n->rx_data[n->rx_bytes + (uint32_t)i] = buf[i];
			n->rx_bytes += (uint32_t)r;
			if (n->auto_reply && n->reply_len > 0) {
				uint8_t rep[4096];

				for (uint32_t i = 0; i < n->reply_len && i < sizeof(rep); i++)
					rep[i] = pattern(i);
				tws_send(ev->conn, rep, RTE_MIN(n->reply_len, (uint32_t)sizeof(rep)));
			}
		}
		if (n->close_after > 0 && n->rx_bytes >= n->close_after &&
		    tws_conn_state(ev->conn) == TWS_ESTABLISHED)
			tws_close(ev->conn);
		if (ev->type == TWS_EV_PEER_CLOSED && n->auto_close_on_peer_fin)
			tws_close(ev->conn);
		break;
	}
	default:
		break;
	}
}

int
h_node_init(struct h_node *n, rte_be32_t addr, const struct tws_tcp_knobs *k, uint64_t now_us)
{
	static unsigned int seq;
	char name[32];

	snprintf(name, sizeof(name), "h%u", seq++);
	memset(n, 0, sizeof(*n));
	n->addr = addr;
	n->st = tws_stack_create(&(struct tws_stack_params){
		.name = name, .socket_id = SOCKET_ID_ANY, .max_conns = 1024, .mp = pool,
		.start_us = now_us, .knobs = *k, .secret = secret, .event_cb = on_event,
		.event_arg = n });
	return n->st == NULL ? -rte_errno : 0;
}

void
h_node_free(struct h_node *n)
{
	tws_stack_free(n->st);
	n->st = NULL;
}

int
h_net_init(struct h_net *net, const struct tws_tcp_knobs *ka, const struct tws_tcp_knobs *kb)
{
	int rc;

	memset(net, 0, sizeof(*net));
	net->now_us = 1000000; /* 1 s: clocks start away from 0 */
	rc = h_node_init(&net->a, H_ADDR_A, ka, net->now_us);
	if (rc != 0)
		return rc;
	rc = h_node_init(&net->b, H_ADDR_B, kb, net->now_us);
	if (rc != 0)
		return rc;
	return tws_listen(net->b.st, 0, H_PORT, NULL);
}

void
h_net_free(struct h_net *net)
{
	h_node_free(&net->a);
	h_node_free(&net->b);
}

int
h_decode(const struct rte_mbuf *m, struct h_seg *s)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	struct tws_seg_info si;

	memset(s, 0, sizeof(*s));
	if (m->data_len < 20 || tot > m->data_len || tot < ihl)
		return -1;
	/* Checksums are computed in software by the stacks here: verify them. */
	if (rte_raw_cksum(ip, ihl) != 0xffff)
		return -1;
	if (tws_tcp_parse((const uint8_t *)ip + ihl, tot - ihl, ip->src_addr, ip->dst_addr, true,
			  &si, &s->opts) != TWS_SEG_OK)
		return -1;
	s->saddr = ip->src_addr;
	s->daddr = ip->dst_addr;
	s->sport = rte_be_to_cpu_16(si.sport);
	s->dport = rte_be_to_cpu_16(si.dport);
	s->flags = si.flags;
	s->seq = si.seq;
	s->ack = si.ack;
	s->len = si.len;
	s->window = si.window;
	s->has_ts = si.has_ts;
	s->tsval = si.tsval;
	s->tsecr = si.tsecr;
	memcpy(s->payload, (const uint8_t *)ip + ihl + si.hdr_len,
	       RTE_MIN(si.len, (uint32_t)sizeof(s->payload)));
	return 0;
}

unsigned int
h_take(struct h_node *n, struct h_seg *out, unsigned int max)
{
	struct rte_mbuf *m[64];
	unsigned int k = 0;
	uint16_t got;

	while ((got = tws_stack_tx_burst(n->st, m, 64)) > 0) {
		for (uint16_t i = 0; i < got; i++) {
			if (k < max && h_decode(m[i], &out[k]) == 0)
				k++;
			rte_pktmbuf_free(m[i]);
		}
	}
	return k;
}

static void
deliver(struct h_net *net, int from, struct rte_mbuf **pkts, uint16_t n)
{
	struct h_node *dst = from == 0 ? &net->b : &net->a;
	struct rte_mbuf *pass[64], *rej[64];
	int32_t reason[64];
	uint16_t np = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct h_seg s;
		bool ok = h_decode(pkts[i], &s) == 0;
		bool keep = ok && (net->filter == NULL ||
				   net->filter(from, &s, net->sent[from], net->filter_arg));

		if (ok && net->nb_log < H_MAX_SEGS) {
			net->log[net->nb_log] = s;
			net->log_from[net->nb_log] = from;
			net->log_dropped[net->nb_log] = !keep;
			net->nb_log++;
		}
		net->sent[from]++;
		if (keep)
			pass[np++] = pkts[i];
		else
			rte_pktmbuf_free(pkts[i]);
	}
	if (np == 0)
		return;

	uint16_t acc = tws_stack_rx_burst(dst->st, pass, rej, reason, np, net->now_us);

	for (uint16_t i = 0; i < np - acc; i++)
		rte_pktmbuf_free(rej[i]);
}

unsigned int
h_net_run(struct h_net *net)
{
	unsigned int moved = 0;

	for (int round = 0; round < 10000; round++) {
		struct rte_mbuf *m[64];
		uint16_t na = tws_stack_tx_burst(net->a.st, m, 64);

		deliver(net, 0, m, na);

		uint16_t nb = tws_stack_tx_burst(net->b.st, m, 64);

		deliver(net, 1, m, nb);
		moved += na + nb;
		if (na == 0 && nb == 0)
			break;
	}
	return moved;
}

void
h_net_at(struct h_net *net, uint64_t t_us)
{
	if (t_us > net->now_us)
		net->now_us = t_us;
	tws_stack_poll(net->a.st, net->now_us);
	tws_stack_poll(net->b.st, net->now_us);
	h_net_run(net);
}

struct rte_mbuf *
h_build(const struct h_inject *in)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL)
		return NULL;

	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint8_t *tcp = (uint8_t *)(ip + 1);
	struct tws_seg_out o = {
		.sport = rte_cpu_to_be_16(in->sport), .dport = rte_cpu_to_be_16(in->dport),
		.seq = in->seq, .ack = in->ack, .flags = in->flags, .window = in->window,
		.has_ts = in->has_ts, .tsval = in->tsval, .tsecr = in->tsecr, .syn = in->syn,
	};
	int hl = tws_tcp_write_header(tcp, TWS_TCP_HDR_MAX, &o);
	uint16_t tot = (uint16_t)(20 + hl + (int)in->len);

	if (in->len > 0)
		memcpy(tcp + hl, in->payload, in->len);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(tot);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = in->saddr;
	ip->dst_addr = in->daddr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tws_tcp_set_checksum(tcp, (uint32_t)hl + in->len, in->saddr, in->daddr);
	m->data_len = m->pkt_len = tot;
	return m;
}

uint16_t
h_inject(struct h_node *n, const struct h_inject *in, uint64_t now_us)
{
	struct rte_mbuf *m = h_build(in), *rej[1];
	int32_t reason[1];

	if (m == NULL)
		return 0;

	uint16_t acc = tws_stack_rx_burst(n->st, &m, rej, reason, 1, now_us);

	if (acc == 0)
		rte_pktmbuf_free(rej[0]);
	return acc;
}

const struct h_event *
h_last_event(const struct h_node *n, enum tws_event_type t)
{
	for (unsigned int i = n->nb_ev; i > 0; i--)
		if (n->ev[i - 1].type == t)
			return &n->ev[i - 1];
	return NULL;
}

unsigned int
h_count_events(const struct h_node *n, enum tws_event_type t)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < n->nb_ev; i++)
		c += n->ev[i].type == t;
	return c;
}

uint64_t
h_stat(const struct h_node *n, const char *name)
{
	struct tws_stack_stats s;
	const char *nm, *d;

	tws_stack_stats_get(n->st, &s);
	for (unsigned int i = 0; tws_stack_stat_name(i, &nm, &d) == 0; i++)
		if (strcmp(nm, name) == 0)
			return ((const uint64_t *)&s)[i];
	if (strcmp(name, "conns") == 0)
		return s.conns;
	if (strcmp(name, "tw_entries") == 0)
		return s.tw_entries;
	if (strcmp(name, "syn_rcvd") == 0)
		return s.syn_rcvd;
	fprintf(stderr, "h_stat: no counter '%s'\n", name);
	abort();
}

const char *
h_fmt(const struct h_seg *s)
{
	static char buf[4][160];
	static unsigned int k;
	char *b = buf[k++ & 3];
	char fl[8];
	int i = 0;

	if (s->flags & TWS_TCP_SYN) fl[i++] = 'S';
	if (s->flags & TWS_TCP_FIN) fl[i++] = 'F';
	if (s->flags & TWS_TCP_RST) fl[i++] = 'R';
	if (s->flags & TWS_TCP_PSH) fl[i++] = 'P';
	if (s->flags & TWS_TCP_ACK) fl[i++] = '.';
	fl[i] = 0;
	snprintf(b, 160, "%u>%u [%s] seq=%u ack=%u len=%u win=%u ts=%s%u/%u", s->sport, s->dport,
		 fl, s->seq, s->ack, s->len, s->window, s->has_ts ? "" : "none:", s->tsval,
		 s->tsecr);
	return b;
}

const struct h_seg *
h_last_from(const struct h_net *net, int from)
{
	for (unsigned int i = net->nb_log; i > 0; i--)
		if (net->log_from[i - 1] == from)
			return &net->log[i - 1];
	return NULL;
}
