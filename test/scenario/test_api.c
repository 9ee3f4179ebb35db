/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's API contract: parameter and knob checks, -errno returns,
 * limits (listeners, connections, transmit queue, mbufs) counted and
 * recovered from.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "harness.h"

static struct h_net net;

static void
noop_cb(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	(void)st;
	(void)ev;
	(void)arg;
}

static struct tws_stack_params
good_params(void)
{
	struct tws_stack_params p = { .name = "api", .socket_id = SOCKET_ID_ANY,
				      .max_conns = 16, .mp = h_pool(), .event_cb = noop_cb };

	tws_tcp_knobs_default(&p.knobs);
	return p;
}

static void
test_create_refuses_bad_params(void)
{
	struct tws_stack_params p = good_params();
	struct tws_stack *st;

	p.mp = NULL;
	CHECK(tws_stack_create(&p) == NULL && rte_errno == EINVAL);
	p = good_params();
	p.event_cb = NULL;
	CHECK(tws_stack_create(&p) == NULL && rte_errno == EINVAL);
	p = good_params();
	p.max_conns = 0;
	CHECK(tws_stack_create(&p) == NULL && rte_errno == EINVAL);
	p = good_params();
	p.knobs.rto_min_ms = 0;
	CHECK(tws_stack_create(&p) == NULL && rte_errno == EINVAL);
	p = good_params();
	p.knobs.rto_init_ms = 100; /* below rto_min 200 */
	CHECK(tws_stack_create(&p) == NULL && rte_errno == EINVAL);
	p = good_params();
	memset(&p.knobs, 0, sizeof(p.knobs)); /* forgot tws_tcp_knobs_default() */
	CHECK(tws_stack_create(&p) == NULL && rte_errno == EINVAL);
	p = good_params();
	st = tws_stack_create(&p);
	CHECK(st != NULL);
	tws_stack_free(st);
	tws_stack_free(NULL);
}

static void
test_knobs_set_at_run_time(void)
{
	struct tws_stack_params p = good_params();
	struct tws_stack *st = tws_stack_create(&p);
	struct tws_tcp_knobs k;
	char err[128] = "";

	CHECK(st != NULL);
	tws_stack_knobs_get(st, &k);
	CHECK(k.lastack_syn == 0 && k.tw_timeout_ms == 60000);
	CHECK(tws_tcp_knob_set(&k, "lastack_syn", "challenge", err, sizeof(err)) == 0);
	CHECK(tws_stack_knobs_set(st, &k, err, sizeof(err)) == 0);
	tws_stack_knobs_get(st, &k);
	CHECK(k.lastack_syn == 1);
	k.tw_timeout_ms = 1000;
	CHECK(tws_stack_knobs_set(st, &k, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "tw_timeout_ms") != NULL, "%s", err);
	tws_stack_knobs_get(st, &k);
	CHECK(k.tw_timeout_ms == 60000);
	k.rto_min_ms = 0;
	CHECK(tws_stack_knobs_set(st, &k, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "rto_min_ms") != NULL, "%s", err);
	tws_stack_free(st);
}

static void
test_listen_and_connect_errors(void)
{
	struct tws_tcp_knobs k;
	struct tws_conn *c = NULL;

	h_knobs(&k);
	CHECK(h_net_init(&net, &k, &k) == 0);
	CHECK(tws_listen(net.b.st, 0, H_PORT, NULL) == -EADDRINUSE);
	for (int i = 1; i < 16; i++)
		CHECK(tws_listen(net.b.st, 0, rte_cpu_to_be_16((uint16_t)(1000 + i)), NULL) == 0);
	CHECK(tws_listen(net.b.st, 0, RTE_BE16(2000), NULL) == -ENOSPC);
	CHECK(tws_unlisten(net.b.st, 0, RTE_BE16(1001)) == 0);
	CHECK(tws_unlisten(net.b.st, 0, RTE_BE16(1001)) == -ENOENT);
	CHECK(tws_connect(net.a.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = 0, .rport = H_PORT }, &c) == -EINVAL);
	CHECK(tws_connect(net.a.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT }, NULL) == -EINVAL);
	CHECK(tws_connect(net.a.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT, .lport = RTE_BE16(5555) }, &c) == 0);
	/* Before the handshake: no sending. */
	CHECK(tws_send(c, "x", 1) == -ENOTCONN);
	/* Same explicit port again: taken. */
	struct tws_conn *c2 = NULL;

	CHECK(tws_connect(net.a.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT, .lport = RTE_BE16(5555) }, &c2) ==
	      -EADDRINUSE);
	h_net_run(&net);
	CHECK(tws_conn_state(c) == TWS_ESTABLISHED);
	CHECK(tws_send(c, "hello", 5) == 5);
	CHECK(tws_close(c) == 0);
	CHECK(tws_close(c) == -ENOTCONN);
	CHECK(tws_send(c, "x", 1) == -EPIPE);
	h_net_run(&net);
	/* A connect to a port nobody listens on is refused by RST. */
	CHECK(tws_connect(net.a.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = RTE_BE16(9) }, &c) == 0);
	h_net_run(&net);
	const struct h_event *e = h_last_event(&net.a, TWS_EV_ERROR);

	CHECK(e != NULL && e->error == ECONNREFUSED && e->conn == c);
	CHECK(h_stat(&net.a, "refused") == 1 && h_stat(&net.b, "no_listener") == 1);
	h_net_free(&net);
}

static void
test_connection_table_full(void)
{
	struct tws_stack_params p = good_params();
	struct tws_stack *st;
	struct tws_conn *c;
	struct tws_stack_stats s;
	int rc = 0;
	unsigned int ok = 0;

	p.max_conns = 4;
	st = tws_stack_create(&p);
	CHECK(st != NULL);
	for (int i = 0; i < 6; i++) {
		rc = tws_connect(st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
			.raddr = H_ADDR_B, .rport = H_PORT }, &c);
		ok += rc == 0;
	}
	CHECK(ok == 4 && rc == -ENOSPC);
	tws_stack_stats_get(st, &s);
	CHECK(s.conn_table_full == 2 && s.conns == 4);
	tws_stack_free(st);
}

/* A stack of its own with a tiny pool and transmit queue, and its peer. */
struct tiny {
	struct tws_stack *st;
	struct tws_conn *conn;
	unsigned int sent_events, accepted;
	uint32_t rx;
	bool data_ok;
	struct tws_conn *srv_conn;
};

static uint8_t big[300000];

static void
tiny_cb(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	struct tiny *t = arg;
	uint8_t buf[2048];
	int r;

	(void)st;
	switch (ev->type) {
	case TWS_EV_SENT:
		t->sent_events++;
		break;
	case TWS_EV_ACCEPTED:
		t->accepted++;
		t->srv_conn = ev->conn;
		break;
	case TWS_EV_DATA:
		while ((r = tws_recv(ev->conn, buf, sizeof(buf))) > 0) {
			if (memcmp(buf, big + t->rx, (size_t)r) != 0)
				t->data_ok = false;
			t->rx += (uint32_t)r;
		}
		break;
	default:
		break;
	}
}

static void
tiny_move(struct tws_stack *from, struct tws_stack *to, uint64_t now)
{
	struct rte_mbuf *m[32], *rej[32];
	int32_t reason[32];
	uint16_t n;

	while ((n = tws_stack_tx_burst(from, m, 32)) > 0) {
		uint16_t acc = tws_stack_rx_burst(to, m, rej, reason, n, now);

		rte_pktmbuf_free_bulk(rej, (unsigned int)(n - acc));
	}
}

/*
 * Pool and transmit queue exhaustion: tws_send() takes what fits, the
 * segments that find no mbuf or no queue room are counted, and everything
 * arrives once the pressure goes (SENT events drive the application).
 */
static void
test_pool_and_tx_queue_exhaustion_counted_and_recovered(void)
{
	static struct tiny ta, tb;
	struct rte_mempool *small = rte_pktmbuf_pool_create("tiny", 40, 0, 0,
							    RTE_MBUF_DEFAULT_BUF_SIZE,
							    SOCKET_ID_ANY);
	struct tws_stack_params pa = good_params(), pb = good_params();
	uint64_t now = 1000000;
	uint32_t off = 0;
	struct tws_stack_stats s;

	CHECK(small != NULL);
	memset(&ta, 0, sizeof(ta));
	memset(&tb, 0, sizeof(tb));
	tb.data_ok = true;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8) + 3);
	pa.name = "tinya";
	pa.mp = small;
	pa.tx_queue_size = 4;
	pa.event_cb = tiny_cb;
	pa.event_arg = &ta;
	pb.name = "tinyb";
	pb.event_cb = tiny_cb;
	pb.event_arg = &tb;
	ta.st = tws_stack_create(&pa);
	tb.st = tws_stack_create(&pb);
	CHECK(ta.st != NULL && tb.st != NULL);
	CHECK(tws_listen(tb.st, 0, H_PORT, NULL) == 0);
	CHECK(tws_connect(ta.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT }, &ta.conn) == 0);
	for (int i = 0; i < 3; i++) {
		tiny_move(ta.st, tb.st, now);
		tiny_move(tb.st, ta.st, now);
	}
	CHECK(tws_conn_state(ta.conn) == TWS_ESTABLISHED && tb.accepted == 1);

	int r = tws_send(ta.conn, big, sizeof(big));

	CHECKF(r > 0 && r < (int)sizeof(big), "tws_send took %d of %zu with a 40-mbuf pool", r,
	       sizeof(big));
	off = (uint32_t)r;
	for (int round = 0; round < 20000 && tb.rx < sizeof(big); round++) {
		if (off < sizeof(big)) {
			r = tws_send(ta.conn, big + off, (uint32_t)(sizeof(big) - off));
			CHECK(r >= 0);
			off += (uint32_t)r;
		}
		tiny_move(ta.st, tb.st, now);
		tiny_move(tb.st, ta.st, now);
		now += 1000;
		tws_stack_poll(ta.st, now);
		tws_stack_poll(tb.st, now);
	}
	CHECKF(tb.rx == sizeof(big), "received %u of %zu", tb.rx, sizeof(big));
	CHECK(tb.data_ok);
	tws_stack_stats_get(ta.st, &s);
	CHECKF(s.tx_queue_full > 0, "tx_queue_full %" PRIu64, s.tx_queue_full);
	CHECKF(s.send_pool_limited > 0, "send_pool_limited %" PRIu64, s.send_pool_limited);
	CHECK(ta.sent_events > 0);
	tws_stack_free(ta.st);
	tws_stack_free(tb.st);
	/* Every mbuf of the small pool is back. */
	CHECKF(rte_mempool_avail_count(small) == 40, "avail %u",
	       rte_mempool_avail_count(small));
	rte_mempool_free(small);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_create_refuses_bad_params),
		TWS_TEST(test_knobs_set_at_run_time),
		TWS_TEST(test_listen_and_connect_errors),
		TWS_TEST(test_connection_table_full),
		TWS_TEST(test_pool_and_tx_queue_exhaustion_counted_and_recovered),
	};

	(void)argc;
	h_init(argv[0]);
	return tws_test_run(cases, TWS_NCASES(cases));
}
