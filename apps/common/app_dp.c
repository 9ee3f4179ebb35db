/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_byteorder.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "app_dp.h"
#include "app_json.h"
#include "app_util.h"

const struct app_opt app_dp_opts[APP_DP_NB_OPTS] = {
	{ .name = "port", .type = APP_OPT_STR, .off = offsetof(struct app_dp_conf, port),
	  .metavar = "NAME", .def = NULL,
	  .help = "DPDK port: its name (net_memif0, 0000:01:00.0) or number" },
	{ .name = "addr", .type = APP_OPT_ADDR, .off = offsetof(struct app_dp_conf, addr),
	  .metavar = "A[/P]", .def = NULL,
	  .help = "our first IPv4 address; /P: the prefix length of its subnet, 24 if absent" },
	{ .name = "addrs", .type = APP_OPT_U32, .off = offsetof(struct app_dp_conf, addrs),
	  .min = 1, .max = 1u << 20, .metavar = "N", .def = "1",
	  .help = "our addresses: A and the next N-1, all answering ARP" },
	{ .name = "fault", .type = APP_OPT_STR, .off = offsetof(struct app_dp_conf, fault),
	  .metavar = "SPEC", .def = "none",
	  .help = "a faulty link on what we send, for tests: loss=P,dup=P,reorder=P,delay=P:T,"
		  "seed=N (P percent of frames, T with us/ms/s; e.g. loss=5,reorder=5)" },
	{ .name = "csum", .type = APP_OPT_CHOICE, .off = offsetof(struct app_dp_conf, csum),
	  .choices = "port,emulate", .metavar = "MODE", .def = "port",
	  .help = "port: checksum offload where the port has it, software otherwise; emulate: "
		  "none computed or checked, as if offloaded (only between twstack tools on "
		  "memif or ring: a kernel peer drops such frames)" },
};

/* A percentage "5", "0.5", "5%" as parts per million. */
static int
parse_pct(const char *v, uint32_t *ppm)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || errno != 0 || d < 0 || d > 100)
		return -1;
	if (*end == '%')
		end++;
	if (*end != '\0' && *end != ':')
		return -1;
	*ppm = (uint32_t)(d * (TWS_FAULT_PPM / 100) + 0.5);
	return 0;
}

/* A time "500us", "2ms", "1s" as microseconds (at least 1). */
static int
parse_time_us(const char *v, uint32_t *us)
{
	char *end;
	double d, mul;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || errno != 0 || d <= 0)
		return -1;
	if (strcmp(end, "us") == 0)
		mul = 1;
	else if (strcmp(end, "ms") == 0)
		mul = 1e3;
	else if (strcmp(end, "s") == 0)
		mul = 1e6;
	else
		return -1;
	d *= mul;
	if (d < 1 || d > 10e6)
		return -1;
	*us = (uint32_t)d;
	return 0;
}

int
app_fault_parse(const char *spec, struct tws_fault_params *p, char *err, size_t len)
{
	char buf[256];
	char *save = NULL;

	memset(p, 0, sizeof(*p));
	p->seed = 1;
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, len, "too long");
		return -1;
	}
	strcpy(buf, spec);
	for (char *item = strtok_r(buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *v = strchr(item, '=');
		int rc = -1;

		if (v == NULL) {
			snprintf(err, len, "'%s': want name=value (loss, dup, reorder, delay, seed)",
				 item);
			return -1;
		}
		*v++ = '\0';
		if (strcmp(item, "loss") == 0) {
			rc = parse_pct(v, &p->loss_ppm);
		} else if (strcmp(item, "dup") == 0) {
			rc = parse_pct(v, &p->dup_ppm);
		} else if (strcmp(item, "reorder") == 0) {
			rc = parse_pct(v, &p->reorder_ppm);
		} else if (strcmp(item, "delay") == 0) {
			char *t = strchr(v, ':');

			rc = t != NULL && parse_pct(v, &p->delay_ppm) == 0 ?
			     parse_time_us(t + 1, &p->delay_us) : -1;
		} else if (strcmp(item, "seed") == 0) {
			char *end;

			errno = 0;
			p->seed = strtoull(v, &end, 10);
			rc = end != v && *end == '\0' && errno == 0 && v[0] != '-' ? 0 : -1;
		} else {
			snprintf(err, len, "unknown fault '%s' (loss, dup, reorder, delay, seed)", item);
			return -1;
		}
		if (rc != 0) {
			snprintf(err, len, "%s: bad value '%s' (%s)", item, v,
				 strcmp(item, "delay") == 0 ? "P:T, P a percentage 0..100, T 1us..10s "
				 "with unit us, ms or s" : strcmp(item, "seed") == 0 ?
				 "a whole number" : "a percentage 0..100");
			return -1;
		}
	}
	if ((uint64_t)p->reorder_ppm + p->delay_ppm > TWS_FAULT_PPM) {
		snprintf(err, len, "reorder + delay above 100%%");
		return -1;
	}
	return 0;
}

static uint32_t
prefix_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : ~UINT32_C(0) << (32 - prefix);
}

int
app_dp_conf_check(const char *prog, struct app_dp_conf *c)
{
	uint32_t mask = prefix_mask(c->addr.prefix);
	uint64_t last = (uint64_t)c->addr.ip + c->addrs - 1;
	/* /31 and /32 have no network or broadcast address (RFC 3021). */
	bool edge = c->addr.prefix < 31 &&
		    ((c->addr.ip & ~mask) == 0 || (~(uint32_t)last & ~mask) == 0);

	if (last > UINT32_MAX || (last & mask) != (c->addr.ip & mask) || edge) {
		char a[16], net[16];

		app_ip_str(c->addr.ip & mask, net);
		fprintf(stderr, "%s: --addr %s/%u --addrs %u: the addresses must lie inside "
			"%s/%u, without its network and broadcast addresses\n", prog,
			app_ip_str(c->addr.ip, a), c->addr.prefix, c->addrs, net, c->addr.prefix);
		return -1;
	}
	c->has_fault = c->fault != NULL && strcmp(c->fault, "none") != 0;
	if (c->has_fault) {
		char err[256];

		if (app_fault_parse(c->fault, &c->fault_p, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: --fault '%s': %s\n", prog, c->fault, err);
			return -1;
		}
	}
	return 0;
}

bool
app_dp_is_neighbour(const struct app_dp_conf *c, uint32_t ip)
{
	uint32_t mask = prefix_mask(c->addr.prefix);

	return (ip & mask) == (c->addr.ip & mask) && (ip - c->addr.ip) >= c->addrs &&
	       (c->addr.prefix >= 31 || ((ip & ~mask) != 0 && (ip & ~mask) != ~mask));
}

void
app_dp_knob_defaults(const char *prog, struct app_opts_result *res)
{
	const struct tws_tcp_knobs *k = &res->knobs;

	/* The engine takes its options out of the MSS (RFC 6691): 1460 fills a 1500-byte MTU. */
	if (k->mss > APP_DP_MSS_MAX)
		fprintf(stderr, "%s: warning: mss %u makes %u-byte IP packets, over the 1500-byte "
			"MTU: full segments will be dropped (use mss <= %u)\n",
			prog, k->mss, k->mss + 40, APP_DP_MSS_MAX);
}

/* Data room of the mbufs: headroom, Ethernet, IPv4 and TCP headers with options, a full MSS. */
static uint16_t
data_room(uint32_t mss)
{
	uint32_t need = RTE_PKTMBUF_HEADROOM + 14 + 60 + mss;

	return (uint16_t)RTE_MAX(need, (uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE);
}

/*
 * The mbuf pool. Without hugepages DPDK keeps each object inside one 4 KiB
 * page (IOVA contiguity for a NIC's DMA), so a 2.3 KiB mbuf took a page of
 * its own: 40 % of the memory lost, and app_dp_memory_mb() short. A
 * virtual port (on the vdev bus: memif, ring, null, af_packet, tap) does no
 * DMA, so there the objects may cross pages.
 */
static struct rte_mempool *
pool_create(const char *name, uint32_t n, uint16_t room, int sock, uint16_t port_id)
{
	struct rte_eth_dev_info di;
	bool virt = rte_eth_dev_info_get(port_id, &di) == 0 && di.device != NULL &&
		    strcmp(rte_bus_name(rte_dev_bus(di.device)), "vdev") == 0;

	if (rte_eal_has_hugepages() || !virt)
		return rte_pktmbuf_pool_create(name, n, 256, 0, room, sock);

	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = room };
	struct rte_mempool *mp = rte_mempool_create_empty(name, n,
		(unsigned int)(sizeof(struct rte_mbuf) + room), 256, sizeof(priv), sock,
		RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	int rc;

	if (mp == NULL)
		return NULL;
	rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (rc == 0) {
		rte_pktmbuf_pool_init(mp, &priv);
		rc = rte_mempool_populate_default(mp);
	}
	if (rc < 0) {
		rte_mempool_free(mp);
		rte_errno = -rc;
		return NULL;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}

long
app_dp_memory_mb(uint32_t max_conns, uint32_t max_tw, uint32_t nb_mbufs, uint32_t mss)
{
	/* The engine's control block is 224 bytes; the table rounds it with its trailer to 256. */
	size_t table = tws_table_memory_size(&(struct tws_table_params){ .max_conns = max_conns,
		.conn_size = 224, .max_tw = max_tw, .tw_timeout = 60000 });
	uint64_t mbufs = (uint64_t)nb_mbufs * (data_room(mss) + 256);
	/* Timer wheel (~16 bytes a connection), transmit queues, ARP cache, the EAL's own. */
	uint64_t bytes = table + mbufs + (uint64_t)max_conns * 64 + (UINT64_C(192) << 20);

	return (long)(bytes >> 20) + 1;
}

static void
dp_clock_start(struct app_dp *d)
{
	d->us_per_tsc = 1e6 / (double)rte_get_tsc_hz();
	d->start_us = app_now_ns() / 1000;
	d->tsc0 = rte_rdtsc();
}

/* Lane q of nb: its share of the connections, the TIME_WAIT capacity and the local ports. */
static void
lane_share(const struct app_dp_params *p, uint16_t q, uint16_t nb, bool rss,
	   struct tws_tcp_knobs *k, uint32_t *max_conns)
{
	uint32_t span = p->knobs.port_max - p->knobs.port_min + 1;

	*k = p->knobs;
	k->max_tw = RTE_MAX(1u, (p->knobs.max_tw + nb - 1) / nb);
	*max_conns = RTE_MAX(1u, (p->max_conns + nb - 1) / nb);
	if (rss)
		return; /* RSS parts the ports: each lane takes those whose replies it gets */
	k->port_min = p->knobs.port_min + (uint32_t)((uint64_t)span * q / nb);
	k->port_max = p->knobs.port_min + (uint32_t)((uint64_t)span * (q + 1) / nb) - 1;
}

/* The lane's net layer, stack, fault link and node on queue d->queue; d's port and pool are set. */
static int
lane_make(struct app_dp *d, const struct app_dp_params *p, uint16_t nb)
{
	const struct app_dp_conf *c = p->conf;
	int sock = (int)rte_socket_id();
	bool emulate = d->csum_emulated;
	struct tws_tcp_knobs k;
	uint32_t max_conns;
	char name[32];

	lane_share(p, d->queue, nb, d->rss != NULL, &k, &max_conns);
	d->rss_lane = (struct tws_rss_lane){ .rss = d->rss, .queue = d->queue };
	snprintf(name, sizeof(name), "tws_net_p%u_q%u", d->port_id, d->queue);
	d->net = tws_net_create(&(struct tws_net_params){ .name = name,
		.socket_id = sock, .mac = d->info.mac, .addr_first = rte_cpu_to_be_32(c->addr.ip),
		.nb_addrs = c->addrs, .prefix_len = c->addr.prefix,
		.rx_csum_offload = emulate || (d->info.rx_ip_csum && d->info.rx_tcp_csum),
		.tx_csum_offload = emulate || (d->info.tx_ip_csum && d->info.tx_tcp_csum),
		.mp = d->mp });
	if (d->net == NULL) {
		fprintf(stderr, "%s: cannot create the net layer of lane %u: %s\n", p->prog,
			d->queue, rte_strerror(rte_errno));
		return -rte_errno;
	}
	snprintf(name, sizeof(name), "tws_st_p%u_q%u", d->port_id, d->queue);
	d->st = tws_stack_create(&(struct tws_stack_params){ .name = name,
		.socket_id = sock, .max_conns = max_conns, .max_listeners = p->max_listeners,
		.mp = d->mp, .start_us = d->start_us, .knobs = k,
		.tx_queue_size = 1u << 16, .max_dests = p->max_dests,
		.tx_csum_offload = emulate || (d->info.tx_ip_csum && d->info.tx_tcp_csum),
		.event_cb = p->event_cb, .event_arg = p->event_arg,
		.port_accept = d->rss != NULL ? tws_rss_reply_here : NULL,
		.port_accept_arg = &d->rss_lane });
	if (d->st == NULL) {
		fprintf(stderr, "%s: cannot create the TCP stack of lane %u (%u connections, %u "
			"TIME_WAIT entries): %s\n", p->prog, d->queue, max_conns, k.max_tw,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	if (c->has_fault) {
		struct tws_fault_params fp = c->fault_p;

		fp.mp = d->mp;
		fp.socket_id = sock;
		fp.seed += d->queue; /* lanes draw different faults from one --fault seed */
		d->fault = tws_fault_create(&fp);
		if (d->fault == NULL) {
			fprintf(stderr, "%s: --fault: cannot create the fault link: %s\n", p->prog,
				rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	d->node = tws_node_create(&(struct tws_node_params){ .port_id = d->port_id,
		.queue = d->queue, .net = d->net, .stack = d->st, .fault = d->fault,
		.socket_id = sock, .rx_csum_trust = emulate, .mp = d->mp });
	if (d->node == NULL) {
		fprintf(stderr, "%s: cannot create the poll node of lane %u: %s\n", p->prog,
			d->queue, rte_strerror(rte_errno));
		return -rte_errno;
	}

	struct tws_table_stats ts;

	tws_table_stats_get(tws_stack_table(d->st), &ts);
	d->max_tw = k.max_tw;
	d->max_conns = max_conns;
	d->tw_bytes_per_entry = ((double)ts.tw_log_bytes + (double)ts.index_bytes * d->max_tw /
				 ((double)d->max_tw + max_conns)) / d->max_tw;
	return 0;
}

int
app_dp_create(struct app_dp *d, const struct app_dp_params *p)
{
	const struct app_dp_conf *c = p->conf;
	uint16_t nb = p->nb_lanes == 0 ? 1 : p->nb_lanes;
	int sock = (int)rte_socket_id();
	char err[768];
	int rc;

	memset(d, 0, sizeof(*d));
	if (nb > APP_DP_MAX_LANES) {
		fprintf(stderr, "%s: %u lcores: at most %u lanes are run\n", p->prog, nb,
			APP_DP_MAX_LANES);
		return -EINVAL;
	}
	d->par = *p;
	d->nb_lanes = nb;
	rc = tws_port_find(c->port, &d->port_id, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s: --port: %s\n", p->prog, err);
		return rc;
	}
	char pool[32];

	/* Named by port: two tools in one process (tws-pair) have one each. */
	snprintf(pool, sizeof(pool), "tws_pool_p%u", d->port_id);
	d->mp = pool_create(pool, p->nb_mbufs, data_room(p->knobs.mss), sock, d->port_id);
	if (d->mp == NULL) {
		fprintf(stderr, "%s: cannot create %u mbufs: %s\n", p->prog, p->nb_mbufs,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = tws_port_setup(&(struct tws_port_params){ .port_id = d->port_id, .mp = d->mp,
			    .nb_queues = nb, .socket_id = SOCKET_ID_ANY }, &d->info);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot start port %s with %u queue pair%s: %s (the line "
			"above says which step failed; a memif client needs its server running)\n",
			p->prog, c->port, nb, nb > 1 ? "s" : "", strerror(-rc));
		app_dp_free(d);
		return rc;
	}
	d->port_started = true;
	/*
	 * memif pairs queue q with the peer's queue q; elsewhere RSS decides,
	 * and a client's lanes pick source ports whose replies it brings back
	 * to them (a server's flows hash to one queue both ways as they are).
	 */
	if (nb > 1 && strcmp(d->info.driver, "net_memif") != 0) {
		if (!d->info.rss) {
			fprintf(stderr, "%s: warning: %s (%s) has no RSS: with %u lanes, what "
				"arrives lands on one queue, whatever lane owns the connection\n",
				p->prog, c->port, d->info.driver, nb);
		} else if (p->client) {
			d->rss = tws_rss_from_port(d->port_id, sock);
			if (d->rss == NULL)
				fprintf(stderr, "%s: warning: %u lanes on %s (%s): its RSS key and "
					"table cannot be read, so source ports are not chosen for it: "
					"a reply may reach another lane's queue; use one lcore\n",
					p->prog, nb, c->port, d->info.driver);
		}
	}

	bool emulate = c->csum == APP_CSUM_EMULATE;

	d->csum_emulated = emulate;

	if (emulate && strcmp(d->info.driver, "net_memif") != 0 &&
	    strcmp(d->info.driver, "net_ring") != 0)
		fprintf(stderr, "%s: warning: --csum emulate on %s (%s): frames go out without "
			"checksums and come in unchecked; only a twstack tool with --csum emulate "
			"on the other end of a virtual link takes them\n", p->prog, c->port,
			d->info.driver);
	dp_clock_start(d);
	rc = lane_make(d, p, nb);
	if (rc != 0) {
		app_dp_free(d);
		return rc;
	}
	d->lanes[0] = d;
	return 0;
}

int
app_dp_lane_create(struct app_dp *l, struct app_dp *d0, uint16_t queue, tws_event_cb cb,
		   void *arg)
{
	struct app_dp_params p = d0->par;
	int rc;

	memset(l, 0, sizeof(*l));
	if (queue == 0 || queue >= d0->nb_lanes)
		return -EINVAL;
	l->is_lane = true;
	l->queue = queue;
	l->port_id = d0->port_id;
	l->info = d0->info;
	l->mp = d0->mp;
	l->tsc0 = d0->tsc0;
	l->us_per_tsc = d0->us_per_tsc;
	l->start_us = d0->start_us;
	l->csum_emulated = d0->csum_emulated;
	l->rss = d0->rss;
	p.event_cb = cb;
	p.event_arg = arg;
	rc = lane_make(l, &p, d0->nb_lanes);
	if (rc != 0) {
		app_dp_free(l);
		return rc;
	}
	__atomic_store_n(&d0->lanes[queue], l, __ATOMIC_RELEASE);
	return 0;
}

void
app_dp_free(struct app_dp *d)
{
	tws_node_free(d->node);
	tws_fault_free(d->fault);
	tws_stack_free(d->st);
	tws_net_free(d->net);
	if (!d->is_lane) {
		if (d->port_started)
			tws_port_close(d->port_id);
		rte_mempool_free(d->mp);
		tws_rss_free(d->rss);
	}
	memset(d, 0, sizeof(*d));
}

void
app_dp_bye(struct app_dp *d)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(d->port_id, &link) != 0 ||
	    link.link_status == RTE_ETH_LINK_DOWN)
		return; /* nobody to tell */

	uint64_t now = app_dp_now_us(d), end = now + APP_DP_BYE_WAIT_US, again = now;

	while (!tws_node_parked(d->node) && now < end) {
		if (now >= again) {
			if (tws_node_bye(d->node) == -ENOTSUP)
				return;
			again = now + APP_DP_BYE_WAIT_US / 5;
		}
		tws_node_poll(d->node, now);
		now = app_dp_now_us(d);
	}
}

void
app_dp_port_stop(struct app_dp *d0)
{
	if (d0->port_started)
		tws_port_stop(d0->port_id);
}

/* Lane q of lane 0 @p d0 (q < d0->nb_lanes, which is at least 1) if it is up, else NULL. */
static const struct app_dp *
lane_at(const struct app_dp *d0, unsigned int q)
{
	return q == 0 ? d0 : __atomic_load_n(&d0->lanes[q], __ATOMIC_ACQUIRE);
}

/* Sum the uint64_t counters of @p x into @p s (n of them). */
static void
add_u64(void *s, const void *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint64_t *)s)[i] += ((const uint64_t *)x)[i];
}

void
app_dp_stack_stats(const struct app_dp *d0, struct tws_stack_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int q = 0; q < d0->nb_lanes; q++) {
		const struct app_dp *l = lane_at(d0, q);
		struct tws_stack_stats x;

		if (l == NULL || l->st == NULL)
			continue;
		tws_stack_stats_get(l->st, &x);
		add_u64(s, &x, sizeof(x) / sizeof(uint64_t));
	}
}

uint64_t
app_dp_tw_capacity(const struct app_dp *d0)
{
	/* Every lane has the same share (lane_share()). */
	return (uint64_t)d0->max_tw * d0->nb_lanes;
}

bool
app_dp_link_wait(struct app_dp *d, double seconds)
{
	uint64_t now = app_now_ns(), end = now + (uint64_t)(seconds * 1e9);
	uint64_t restart = now + APP_DP_MEMIF_RESTART_NS;
	bool memif = strcmp(d->info.driver, "net_memif") == 0;
	struct rte_eth_link link;
	bool up = false;

	for (;;) {
		memset(&link, 0, sizeof(link));
		up = rte_eth_link_get_nowait(d->port_id, &link) == 0 &&
		     link.link_status == RTE_ETH_LINK_UP;
		now = app_now_ns();
		if (up || app_stop_requests > 0 || now >= end)
			break;
		/*
		 * A memif client connects only when its port starts, and a server
		 * that took the connection before its own port was started drops
		 * the handshake for good: start again, which connects again.
		 */
		if (memif && now >= restart) {
			restart = now + APP_DP_MEMIF_RESTART_NS;
			if (rte_eth_dev_stop(d->port_id) == 0 && rte_eth_dev_start(d->port_id) == 0)
				d->memif_restarts++;
		}
		rte_delay_us_sleep(10000);
	}
	if (up)
		tws_net_gratuitous_arp(d->net);
	return up;
}

static unsigned int
describe_lane(FILE *f, const char *prog, const struct app_dp *d, unsigned int n,
	      unsigned int max)
{
	const struct tws_table *t = tws_stack_table(d->st);
	struct tws_table_stats ts;
	unsigned int here = 0;

	tws_table_stats_get(t, &ts);
	for (uint32_t i = 0; here < ts.conns && i < d->max_conns; i++) {
		const struct tws_conn *c = tws_table_conn_at(t, i);
		struct tws_conn_info ci;
		char a[16];

		if (c == NULL)
			continue;
		here++;
		if (n++ >= max)
			continue;
		tws_conn_info_get(c, &ci);
		fprintf(f, "%s: open at the end: %s:%u %s; snd una %u nxt %u max %u unsent %u "
			"unacked %u, rcv nxt %u wnd %u, peer wnd %u, rto %u ms, retransmits %u\n",
			prog, app_ip_str(rte_be_to_cpu_32(tws_conn_tuple(c)->raddr), a),
			rte_be_to_cpu_16(tws_conn_tuple(c)->rport), tws_tcp_state_name(ci.state),
			ci.snd_una - ci.iss, ci.snd_nxt - ci.iss, ci.snd_max - ci.iss, ci.unsent,
			ci.unacked, ci.rcv_nxt - ci.irs, ci.rcv_wnd, ci.snd_wnd, ci.rto_ms,
			ci.retransmits);
	}
	return n;
}

unsigned int
app_dp_describe_open(FILE *f, const char *prog, const struct app_dp *d, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int q = 0; q < d->nb_lanes; q++) {
		const struct app_dp *l = lane_at(d, q);

		if (l != NULL && l->st != NULL)
			n = describe_lane(f, prog, l, n, max);
	}
	if (n > max)
		fprintf(f, "%s: open at the end: %u more\n", prog, n - max);
	return n;
}

void
app_dp_json(struct app_json *j, const struct app_dp *d)
{
	struct tws_node_stats ns = { 0 };
	struct tws_net_stats nt = { 0 };
	struct tws_fault_stats fs = { 0 };
	bool fault = false;

	for (unsigned int q = 0; q < d->nb_lanes; q++) {
		const struct app_dp *l = lane_at(d, q);
		struct tws_node_stats xn;
		struct tws_net_stats xt;
		struct tws_fault_stats xf;

		if (l == NULL || l->node == NULL)
			continue;
		tws_node_stats_get(l->node, &xn);
		tws_net_stats_get(l->net, &xt);
		add_u64(&ns, &xn, sizeof(xn) / sizeof(uint64_t));
		add_u64(&nt, &xt, sizeof(xt) / sizeof(uint64_t));
		if (l->fault != NULL) {
			tws_fault_stats_get(l->fault, &xf);
			add_u64(&fs, &xf, sizeof(xf) / sizeof(uint64_t));
			fault = true;
		}
	}
	app_json_obj(j, "port");
	app_json_str(j, "name", d->info.name);
	app_json_str(j, "driver", d->info.driver);
	/* Who checks and fills checksums: emulated (--csum emulate), the port, software, or both. */
	bool rx_hw = d->info.rx_ip_csum && d->info.rx_tcp_csum;
	bool tx_hw = d->info.tx_ip_csum && d->info.tx_tcp_csum;

	app_json_str(j, "csum", d->csum_emulated ? "emulated" : rx_hw && tx_hw ? "offload" :
		     !rx_hw && !tx_hw ? "software" : rx_hw ? "rx offload, tx software" :
		     "rx software, tx offload");
	app_json_u64(j, "rx_frames", ns.rx_frames);
	app_json_u64(j, "tx_frames", ns.tx_frames);
	app_json_u64(j, "tx_dropped", ns.tx_dropped);
	app_json_u64(j, "tx_parked", ns.tx_parked);
	app_json_u64(j, "handoffs", ns.handoffs);
	app_json_u64(j, "rx_dropped", nt.rx_dropped);
	app_json_u64(j, "tx_bad", nt.tx_bad);
	app_json_u64(j, "tx_no_route", nt.tx_no_route);
	app_json_u64(j, "arp_unresolved", nt.arp_unresolved);
	app_json_u64(j, "arp_queue_drops", nt.arp_queue_drops);
	app_json_u64(j, "arp_failed", nt.arp_failed);
	app_json_u64(j, "mbufs", d->mp->size);
	app_json_u64(j, "mbufs_in_use", rte_mempool_in_use_count(d->mp));
	app_json_u64(j, "lanes", d->nb_lanes);
	app_json_end(j);
	if (fault) {
		const char *name, *desc;

		app_json_obj(j, "fault");
		for (unsigned int i = 0; tws_fault_stat_name(i, &name, &desc) == 0; i++)
			app_json_u64(j, name, ((const uint64_t *)&fs)[i]);
		app_json_end(j);
	}
}

void
app_progress_print(FILE *f, const char *prog, const struct app_progress *p)
{
	double mib = (double)p->tw * p->tw_bytes_per_entry / (1 << 20);

	fprintf(f, "%s: %7.1f s %9.0f conn/s  open %7" PRIu64 "  TIME_WAIT %9" PRIu64
		" (%.1f MiB)  errors %" PRIu64 "%s  retransmits %" PRIu64 "\n", prog, p->t_s,
		p->cps, p->open, p->tw, mib, p->errors, p->error_detail, p->retransmits);
	fflush(f);
}

const char *
app_error_detail(char *buf, size_t len, const char *const *names, const uint64_t *counts,
		 unsigned int n)
{
	size_t o = 0;
	bool any = false;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && o + 1 < len; i++) {
		if (counts[i] == 0)
			continue;

		int w = snprintf(buf + o, len - o, "%s%s %" PRIu64, any ? ", " : " (", names[i],
				 counts[i]);

		o += w > 0 ? (size_t)w : 0;
		any = true;
	}
	if (any && o + 2 < len)
		snprintf(buf + o, len - o, ")");
	return buf;
}

int
app_check_writable(const char *prog, const char *opt, const char *path)
{
	FILE *f = fopen(path, "a");

	if (f == NULL) {
		fprintf(stderr, "%s: %s '%s': cannot write: %s\n", prog, opt, path,
			strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}
