/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resource exhaustion: the mbuf pool empty, the connection table full
 * (connect side and listen side), the TIME_WAIT table full, the local ports
 * of a destination used up. Each pressure is applied while stacks A and B
 * carry request/response transfers whose every byte is checked; the failure
 * must be counted and clean (a -errno or a counted drop, nothing half made,
 * nothing sent); once the pressure goes, interrupted and new transfers
 * complete byte-exact; and after injected time has run every timer and
 * TIME_WAIT entry out, both stacks hold nothing and the mbuf pool is back at
 * its baseline. test_api.c checks the bare limits on stacks of its own;
 * here they meet live traffic through the scenario wire.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_mbuf.h>

#include "xfer.h"

static struct xnet X;

#define MS UINT64_C(1000)
#define SEC (1000 * MS)
#define T0 SEC
#define TABLE 1024 /* max_conns of the harness's stacks */
#define TW_MS 5000 /* tw_timeout_ms where the case does not study TIME_WAIT itself */

#define STAT(side, name) x_stat(&X, side, name)
#define ST(side) (x_node(&X, side)->st)

/* Request/response: the client sends up bytes, the server answers down, the client closes first. */
static void
xfer_pair(struct xc *c, struct xc *s, uint64_t up, uint64_t down)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	c->tx_len = s->rx_expect = up;
	s->tx_len = c->rx_expect = down;
	s->tx_when = X_TX_AFTER_RX;
	c->close_when_done = true;
	s->close_on_peer_fin = true;
}

/* A connect from A to raddr:80 with no context: connects expected to fail, and fillers. */
static int
raw_connect(rte_be32_t raddr, struct tws_conn **c)
{
	return tws_connect(ST(0), &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = raddr, .rport = H_PORT }, c);
}

/* A SYN from the scripted peer C:sport to B:80 (the SYN-ACKs go nowhere). */
static struct rte_mbuf *
c_syn(uint16_t sport)
{
	struct h_inject in = {
		.saddr = H_ADDR_C, .daddr = H_ADDR_B, .sport = sport, .dport = 80,
		.flags = TWS_TCP_SYN, .seq = 1000u * sport, .window = 65535, .has_ts = true,
		.tsval = 5000,
		.syn = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
			 .sack_ok = true },
	};

	return h_build(&in);
}

/* What A holds for the tuple of client context c. */
static enum tws_tcp_state
a_lookup(const struct xc *c, struct tws_tw_view *tw)
{
	struct tws_tuple t = { .laddr = H_ADDR_A, .raddr = H_ADDR_B,
			       .lport = rte_cpu_to_be_16(c->cport), .rport = H_PORT };

	return tws_stack_lookup(ST(0), &t, NULL, tw);
}

/* Let us microseconds of injected time pass in 100 ms steps (timers, TIME_WAIT expiry). */
static void
pass(uint64_t us)
{
	uint64_t end = X.h.now_us + us;

	while (X.h.now_us < end)
		x_at(&X, RTE_MIN(X.h.now_us + 100 * MS, end));
}

/* Nothing left on either stack and every mbuf of the pool back. */
static bool
clean(unsigned int base)
{
	for (int side = 0; side < 2; side++) {
		HC(STAT(side, "conns") == 0 && STAT(side, "tw_entries") == 0 &&
		   tws_stack_tx_pending(ST(side)) == 0, "%c: conns %" PRIu64 " tw %" PRIu64
		   " txq %u", side ? 'B' : 'A', STAT(side, "conns"), STAT(side, "tw_entries"),
		   tws_stack_tx_pending(ST(side)));
	}
	HC(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
	return true;
}

/* For a failure: where each side of pairs [0, n) stands (sequence numbers relative). */
static void
dump_pairs(struct xc (*p)[2], unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		printf("# pair %u: %s | %s\n", i, x_xc_fmt(&p[i][0]), x_xc_fmt(&p[i][1]));
		for (int j = 0; j < 2; j++) {
			struct tws_conn_info ci;

			if (p[i][j].conn == NULL)
				continue;
			tws_conn_info_get(p[i][j].conn, &ci);
			printf("#   %c %s una %u nxt %u max %u rcv_nxt %u unsent %u unacked %u "
			       "rto %u retx %u\n", j ? 'B' : 'A', tws_tcp_state_name(ci.state),
			       ci.snd_una - ci.iss, ci.snd_nxt - ci.iss, ci.snd_max - ci.iss,
			       ci.rcv_nxt - ci.irs, ci.unsent, ci.unacked, ci.rto_ms,
			       ci.retransmits);
		}
	}
}

/* ---- 1. mbuf pool empty ------------------------------------------------- */

/* Mbufs taken out of the shared pool by the test (the pool has 16383). */
static struct rte_mbuf *hog[16384];
static unsigned int nb_hog;

/* Take every free mbuf of the pool. Returns how many were taken now. */
static unsigned int
hog_all(void)
{
	unsigned int n = 0;
	struct rte_mbuf *m;

	while (nb_hog < RTE_DIM(hog) && (m = rte_pktmbuf_alloc(h_pool())) != NULL) {
		hog[nb_hog++] = m;
		n++;
	}
	return n;
}

static void
hog_release(void)
{
	rte_pktmbuf_free_bulk(hog, nb_hog);
	nb_hog = 0;
}

#define NB_P1 8
#define LATE NB_P1 /* connects while the pool is empty */
static struct xc p1[NB_P1 + 1][2];

static uint64_t
rx_total(struct xc (*p)[2], unsigned int n)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < n; i++)
		t += p[i][0].rx_got + p[i][1].rx_got;
	return t;
}

/* The wire empties the pool at segment `at` and keeps it empty while `on`. */
struct squeeze {
	unsigned int at;
	bool on;
	uint64_t rx_at;        /* bytes delivered when the pool emptied */
	unsigned int retaken;  /* mbufs the stacks freed and the squeeze took back */
	unsigned int segs;     /* segments on the wire while it held */
};

static enum x_verdict
squeeze_wire(struct xnet *x, int from, const struct h_seg *s, unsigned int idx, void *arg)
{
	struct squeeze *q = arg;

	(void)x;
	(void)from;
	(void)s;
	if (idx == q->at) {
		q->on = true;
		q->rx_at = rx_total(p1, NB_P1);
		hog_all();
	} else if (q->on) {
		q->retaken += hog_all();
		q->segs++;
	}
	return X_PASS;
}

static bool
squeezed(struct xnet *x, void *arg)
{
	(void)x;
	return ((const struct squeeze *)arg)->on;
}

/*
 * Eight transfers (300 KB up, 200-207 KB down) lose the whole pool at the
 * 600th segment: the wire takes every free mbuf, and every one the stacks
 * free afterwards, then for 3 s of injected time the test keeps the pool
 * empty. Segments, ACKs and send buffers that find no mbuf are counted in
 * tx_no_mbuf on both sides; nothing moves, nothing ends, nothing is reset.
 * Meanwhile a connect is taken (its SYN waits for the timer). The pool
 * comes back: the timers resend what was lost (among it segments whose ACK
 * found no mbuf: the receiver must ACK the duplicate), all nine transfers
 * complete byte-exact, and tx_no_mbuf stops growing.
 */
static void
test_mempool_empty(void)
{
	hog_release();
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct squeeze q = { .at = 600 };

	h_knobs(&k);
	k.tw_timeout_ms = TW_MS;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	X.wire = squeeze_wire;
	X.wire_arg = &q;
	for (unsigned int i = 0; i < NB_P1; i++) {
		xfer_pair(&p1[i][0], &p1[i][1], 300000, 200000 + 1000 * i);
		CHECK(x_connect(&X, &p1[i][0], &p1[i][1], 0) == 0);
	}
	CHECK(x_drive(&X, squeezed, &q, MS, 10 * SEC));
	hog_all();
	CHECK(x_pool_avail() == 0);

	uint64_t rx_on = rx_total(p1, NB_P1);
	uint64_t t_on = X.h.now_us;
	unsigned int segs_on = X.idx;

	/* A connect under pressure: taken, its SYN waits for a free mbuf. */
	xfer_pair(&p1[LATE][0], &p1[LATE][1], 50000, 50000);

	uint64_t nomb = STAT(0, "tx_no_mbuf");
	int rc = x_connect(&X, &p1[LATE][0], &p1[LATE][1], 0);

	CHECKF(rc == 0, "connect under pressure: %d", rc);
	CHECK(STAT(0, "tx_no_mbuf") == nomb + 1 && tws_stack_tx_pending(ST(0)) == 0);
	while (X.h.now_us < t_on + 3 * SEC) {
		hog_all();
		x_at(&X, X.h.now_us + 10 * MS);
	}
	hog_all();
	CHECK(x_pool_avail() == 0);
	for (unsigned int i = 0; i < RTE_DIM(p1); i++)
		CHECKF(!p1[i][0].ended && !p1[i][1].ended, "pair %u ended under pressure: %s | %s",
		       i, x_xc_fmt(&p1[i][0]), x_xc_fmt(&p1[i][1]));
	CHECK(!p1[LATE][0].opened);

	uint64_t nomb_a = STAT(0, "tx_no_mbuf"), nomb_b = STAT(1, "tx_no_mbuf");
	uint64_t rto_a = STAT(0, "rto_fired"), rto_b = STAT(1, "rto_fired");
	uint64_t rx_off = rx_total(p1, NB_P1);

	printf("# pool emptied at segment %u with %" PRIu64 " of %" PRIu64 " bytes delivered; "
	       "%u segments, %" PRIu64 " bytes more on mbufs freed meanwhile (%u retaken); "
	       "3 s held: tx_no_mbuf A %" PRIu64 " B %" PRIu64 ", rto_fired A %" PRIu64
	       " B %" PRIu64 "\n", q.at, q.rx_at, (uint64_t)NB_P1 * 500000 + 28000, q.segs,
	       rx_on - q.rx_at, q.retaken, nomb_a, nomb_b, rto_a, rto_b);
	CHECKF(nomb_a > 1 && nomb_b > 0, "tx_no_mbuf A %" PRIu64 " B %" PRIu64, nomb_a, nomb_b);
	CHECK(rto_a + rto_b > 0);
	/* With every mbuf taken nothing moves: no segment, no byte. */
	CHECKF(X.idx == segs_on && rx_off == rx_on, "%u segments, %" PRIu64 " bytes while held",
	       X.idx - segs_on, rx_off - rx_on);
	CHECK(rx_on < (uint64_t)NB_P1 * 500000 + 28000);

	/* The pressure goes. */
	q.on = false;
	hog_release();
	if (!x_drive(&X, x_all_ended, NULL, 10 * MS, 300 * SEC)) {
		dump_pairs(p1, RTE_DIM(p1));
		CHECKF(false, "transfers stalled after the pool came back");
	}
	for (unsigned int i = 0; i < RTE_DIM(p1); i++)
		CHECKF(x_xc_ok(&p1[i][0]) && x_xc_ok(&p1[i][1]), "pair %u: %s | %s", i,
		       x_xc_fmt(&p1[i][0]), x_xc_fmt(&p1[i][1]));
	printf("# recovered in %" PRIu64 " ms; retransmits A %" PRIu64 " B %" PRIu64 "\n",
	       (X.h.now_us - t_on) / MS - 3000, STAT(0, "retransmits"), STAT(1, "retransmits"));
	CHECKF(STAT(0, "tx_no_mbuf") == nomb_a && STAT(1, "tx_no_mbuf") == nomb_b,
	       "tx_no_mbuf grew after the pool came back: A %" PRIu64 " B %" PRIu64,
	       STAT(0, "tx_no_mbuf"), STAT(1, "tx_no_mbuf"));
	CHECK(STAT(0, "rst_sent") == 0 && STAT(1, "rst_sent") == 0);
	CHECK(STAT(0, "timeouts") == 0 && STAT(1, "timeouts") == 0);
	CHECK(STAT(0, "tw_entered") == RTE_DIM(p1));
	pass(TW_MS * MS + SEC);
	if (!clean(base))
		return;
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

static struct xc idle[2];

/*
 * An established, idle connection whose application starts sending while
 * the pool is empty: tws_send() takes nothing (tx_no_mbuf) and, as its
 * contract says, a SENT event must follow once mbufs are free again, though
 * no ACK is due to bring it. Then the 40 KB / 30 KB exchange completes.
 */
static void
test_mempool_empty_idle_sender(void)
{
	hog_release();
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;

	h_knobs(&k);
	k.tw_timeout_ms = TW_MS;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	xfer_pair(&idle[0], &idle[1], 40000, 30000);
	idle[0].tx_when = X_TX_MANUAL;
	CHECK(x_connect(&X, &idle[0], &idle[1], 0) == 0);
	x_run(&X);
	CHECK(idle[0].opened && idle[1].opened);
	hog_all();
	CHECK(x_pool_avail() == 0);

	uint64_t nomb = STAT(0, "tx_no_mbuf");

	x_xc_start(&idle[0]);
	CHECK(idle[0].tx_done == 0 && STAT(0, "tx_no_mbuf") == nomb + 1);

	unsigned int segs = X.idx;
	uint64_t t_on = X.h.now_us;

	while (X.h.now_us < t_on + SEC) {
		hog_all();
		x_at(&X, X.h.now_us + 10 * MS);
	}
	CHECK(X.idx == segs && idle[0].tx_done == 0 && !idle[0].ended);
	hog_release();
	if (!x_drive(&X, x_all_ended, NULL, 10 * MS, 60 * SEC)) {
		dump_pairs(&idle, 1);
		CHECKF(false, "no SENT event after the pool came back: %u SENT events",
		       idle[0].nb_sent);
	}
	CHECKF(x_xc_ok(&idle[0]) && x_xc_ok(&idle[1]), "%s | %s", x_xc_fmt(&idle[0]),
	       x_xc_fmt(&idle[1]));
	CHECK(idle[0].nb_sent >= 1);
	pass(TW_MS * MS + SEC);
	if (!clean(base))
		return;
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ---- 2. connection table full ------------------------------------------- */

#define NB_P2 4
#define NB_P2B 8
static struct xc p2[NB_P2][2], p2b[NB_P2B][2];
static struct tws_conn *filler[TABLE];

/*
 * Connect side: four live connections, then connects to C (whose SYNs go
 * nowhere) until the table refuses: 1020 fillers, then -ENOSPC. Single and
 * burst connects are refused with -ENOSPC, counted in conn_table_full,
 * nothing sent, no port kept. The four connections already made transfer
 * 100 KB each way with the table full; the fillers are aborted and eight
 * new transfers complete.
 */
static void
test_conn_table_full_connect(void)
{
	hog_release();
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	unsigned int nb_fill = 0;
	int rc = 0;

	h_knobs(&k);
	k.tw_timeout_ms = TW_MS;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	for (unsigned int i = 0; i < NB_P2; i++) {
		xfer_pair(&p2[i][0], &p2[i][1], 100000, 100000);
		p2[i][0].tx_when = X_TX_MANUAL;
		CHECK(x_connect(&X, &p2[i][0], &p2[i][1], 0) == 0);
	}
	x_run(&X);
	for (unsigned int i = 0; i < NB_P2; i++)
		CHECK(p2[i][0].opened && p2[i][1].opened);
	while (nb_fill < RTE_DIM(filler) && (rc = raw_connect(H_ADDR_C, &filler[nb_fill])) == 0)
		nb_fill++;
	x_run(&X);
	CHECKF(rc == -ENOSPC && nb_fill == TABLE - NB_P2, "%u fillers, then %d", nb_fill, rc);
	CHECK(STAT(0, "conn_table_full") == 1 && STAT(0, "conns") == TABLE);
	CHECK(STAT(0, "addr_not_avail") == 0 && STAT(0, "active_opens") == TABLE);

	/* More connects, one and a burst of four: refused, counted, nothing sent or kept. */
	uint64_t tx0 = STAT(0, "tx_segs");
	struct tws_conn *c = NULL;
	struct tws_connect_params bp[4];
	struct tws_conn *bc[4];
	int brc[4];

	CHECK(raw_connect(H_ADDR_B, &c) == -ENOSPC && c == NULL);
	for (unsigned int i = 0; i < 4; i++)
		bp[i] = (struct tws_connect_params){ .laddr = H_ADDR_A, .raddr = H_ADDR_B,
						     .rport = H_PORT };
	CHECK(tws_connect_burst(ST(0), bp, bc, brc, 4) == 0);
	for (unsigned int i = 0; i < 4; i++)
		CHECKF(brc[i] == -ENOSPC && bc[i] == NULL, "burst %u: %d", i, brc[i]);
	CHECK(STAT(0, "conn_table_full") == 6 && STAT(0, "conns") == TABLE);
	CHECK(STAT(0, "active_opens") == TABLE && STAT(0, "tx_segs") == tx0);
	CHECK(tws_stack_tx_pending(ST(0)) == 0 && STAT(1, "passive_opens") == NB_P2);

	/* The connections already made are not disturbed by the full table. */
	for (unsigned int i = 0; i < NB_P2; i++)
		x_xc_start(&p2[i][0]);
	CHECK(x_drive(&X, x_all_ended, NULL, MS, 30 * SEC));
	for (unsigned int i = 0; i < NB_P2; i++)
		CHECKF(x_xc_ok(&p2[i][0]) && x_xc_ok(&p2[i][1]), "pair %u: %s | %s", i,
		       x_xc_fmt(&p2[i][0]), x_xc_fmt(&p2[i][1]));
	CHECK(STAT(0, "conns") == nb_fill && STAT(0, "tw_entries") == NB_P2);

	/* The pressure goes: the fillers are aborted (SYN_SENT: no RST, no event). */
	for (unsigned int i = 0; i < nb_fill; i++)
		CHECK(tws_abort(filler[i]) == 0);
	x_run(&X);
	CHECK(STAT(0, "conns") == 0 && STAT(0, "aborts") == nb_fill && X.nb_foreign == 0);
	for (unsigned int i = 0; i < NB_P2B; i++) {
		xfer_pair(&p2b[i][0], &p2b[i][1], 50000 + 999 * i, 80000);
		CHECK(x_connect(&X, &p2b[i][0], &p2b[i][1], 0) == 0);
	}
	CHECK(x_drive(&X, x_all_ended, NULL, MS, 30 * SEC));
	for (unsigned int i = 0; i < NB_P2B; i++)
		CHECKF(x_xc_ok(&p2b[i][0]) && x_xc_ok(&p2b[i][1]), "pair %u: %s | %s", i,
		       x_xc_fmt(&p2b[i][0]), x_xc_fmt(&p2b[i][1]));
	CHECK(STAT(0, "conn_table_full") == 6 && STAT(0, "addr_not_avail") == 0);
	pass(TW_MS * MS + SEC);
	if (!clean(base))
		return;
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

static struct xc lg[2];

/*
 * Listen side: 1024 SYNs from C fill B's table with SYN_RCVD connections
 * (syn_backlog 4096: no cookies). The next SYN from C is dropped without a
 * reply and counted; a client on A connecting meanwhile has each SYN
 * dropped and counted until the embryos time out (syn_retries=2 on B: 7 s),
 * then its retransmitted SYN gets in and the transfer completes.
 */
static void
test_conn_table_full_listen(void)
{
	hog_release();
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs ka, kb;

	h_knobs(&ka);
	ka.tw_timeout_ms = TW_MS;
	kb = ka;
	kb.syn_retries = 2;
	CHECK(kb.syn_backlog >= TABLE);
	CHECK(x_init(&X, &ka, &kb, T0, 0) == 0);
	for (unsigned int i = 0; i < TABLE; i++) {
		CHECK(x_feed(&X, 1, c_syn((uint16_t)(1000 + i))) == -1);
		if (i % 64 == 63)
			x_run(&X);
	}
	x_run(&X);
	CHECK(STAT(1, "conns") == TABLE && STAT(1, "syn_rcvd") == TABLE);
	CHECK(STAT(1, "passive_opens") == TABLE && STAT(1, "conn_table_full") == 0);
	CHECK(STAT(1, "syncookies_sent") == 0);

	/* One SYN more: no reply, nothing kept, counted. */
	uint64_t tx0 = STAT(1, "tx_segs");

	CHECK(x_feed(&X, 1, c_syn(3000)) == -1);
	CHECK(tws_stack_tx_pending(ST(1)) == 0 && STAT(1, "tx_segs") == tx0);
	CHECK(STAT(1, "conn_table_full") == 1 && STAT(1, "conns") == TABLE);
	CHECK(STAT(1, "passive_opens") == TABLE && STAT(1, "rst_sent") == 0);

	/* A real client meanwhile. */
	uint64_t t_syn = X.h.now_us;

	xfer_pair(&lg[0], &lg[1], 60000, 90000);
	CHECK(x_connect(&X, &lg[0], &lg[1], 0) == 0);
	x_run(&X);
	CHECK(!lg[0].opened && lg[1].conn == NULL && STAT(1, "conn_table_full") == 2);
	CHECK(x_drive(&X, x_all_ended, NULL, 10 * MS, 60 * SEC));
	CHECKF(x_xc_ok(&lg[0]) && x_xc_ok(&lg[1]), "%s | %s", x_xc_fmt(&lg[0]),
	       x_xc_fmt(&lg[1]));

	/* Every SYN of A's but the one accepted met the full table. */
	unsigned int syns = 0;

	for (unsigned int i = 0; i < X.h.nb_log; i++)
		syns += X.h.log_from[i] == 0 && (X.h.log[i].flags & TWS_TCP_SYN);
	printf("# listen table full: %u SYNs from A, %" PRIu64 " dropped; connected after %"
	       PRIu64 " ms\n", syns, STAT(1, "conn_table_full") - 1,
	       (lg[0].end_us - t_syn) / MS);
	CHECKF(syns >= 2 && STAT(1, "conn_table_full") == 1 + (syns - 1),
	       "%u SYNs, conn_table_full %" PRIu64, syns, STAT(1, "conn_table_full"));
	CHECK(STAT(1, "timeouts") == TABLE && STAT(1, "syn_rcvd") == 0);
	CHECK(STAT(1, "passive_opens") == TABLE + 1);
	pass(TW_MS * MS + SEC);
	if (!clean(base))
		return;
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ---- 3. TIME_WAIT table full -------------------------------------------- */

#define MAX_TW 8
#define TW3_MS 10000
static struct xc p3[25][2];

/* Pairs [from, from + n) whose client tuple is in TIME_WAIT on A. */
static unsigned int
a_tw_count(unsigned int from, unsigned int n)
{
	unsigned int cnt = 0;

	for (unsigned int i = from; i < from + n; i++)
		cnt += a_lookup(&p3[i][0], NULL) == TWS_TIME_WAIT;
	return cnt;
}

/* Run pairs [from, from + n): 20 KB up, 30 KB down, client closes first. */
static bool
run_p3(unsigned int from, unsigned int n)
{
	for (unsigned int i = from; i < from + n; i++) {
		xfer_pair(&p3[i][0], &p3[i][1], 20000, 30000);
		HC(x_connect(&X, &p3[i][0], &p3[i][1], 0) == 0, "connect %u", i);
	}
	HC(x_drive(&X, x_all_ended, NULL, MS, 30 * SEC), "pairs %u.. not ended", from);
	for (unsigned int i = from; i < from + n; i++)
		HC(x_xc_ok(&p3[i][0]) && x_xc_ok(&p3[i][1]), "pair %u: %s | %s", i,
		   x_xc_fmt(&p3[i][0]), x_xc_fmt(&p3[i][1]));
	return true;
}

/*
 * max_tw=8 on A, the active closer. Twelve closes: eight entries, four
 * closes counted in tw_overflow, every one clean (CLOSED, all bytes). Four
 * more: all overflow. The entries stay the full tw_timeout_ms (10 s), then
 * expire; nine closes after that make eight entries again and overflow one.
 */
static void
test_tw_table_full(void)
{
	hog_release();
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs ka, kb;

	h_knobs(&ka);
	ka.max_tw = MAX_TW;
	ka.tw_timeout_ms = TW3_MS;
	kb = ka;
	kb.max_tw = 0;
	CHECK(x_init(&X, &ka, &kb, T0, 0) == 0);

	uint64_t t_start = X.h.now_us;

	if (!run_p3(0, 12))
		return;

	uint64_t t1 = X.h.now_us;

	CHECKF(STAT(0, "tw_entered") == MAX_TW && STAT(0, "tw_overflow") == 4,
	       "entered %" PRIu64 " overflow %" PRIu64, STAT(0, "tw_entered"),
	       STAT(0, "tw_overflow"));
	CHECK(STAT(0, "tw_entries") == MAX_TW && a_tw_count(0, 12) == MAX_TW);
	CHECK(STAT(0, "conns") == 0 && STAT(1, "conns") == 0 && STAT(1, "tw_entries") == 0);
	CHECK(STAT(0, "conn_closed") == 12 && STAT(0, "rst_sent") == 0);
	/* The cap holds: four more closes, all overflow. */
	if (!run_p3(12, 4))
		return;
	CHECK(STAT(0, "tw_entered") == MAX_TW && STAT(0, "tw_overflow") == 8);
	CHECK(STAT(0, "tw_entries") == MAX_TW && a_tw_count(12, 4) == 0);
	/* Not before tw_timeout_ms: every entry was made after t_start. */
	CHECKF(X.h.now_us < t_start + 9 * SEC, "closes took %" PRIu64 " ms",
	       (X.h.now_us - t_start) / MS);
	x_at(&X, t_start + TW3_MS * MS - MS);
	CHECK(STAT(0, "tw_entries") == MAX_TW && STAT(0, "tw_expired") == 0);
	/* The pressure goes when they expire. */
	x_at(&X, t1 + TW3_MS * MS + 10 * MS);
	CHECK(STAT(0, "tw_entries") == 0 && STAT(0, "tw_expired") == MAX_TW);
	CHECK(a_tw_count(0, 12) == 0);
	printf("# max_tw %u: 16 closes, %" PRIu64 " entered, %" PRIu64 " overflowed; expired at "
	       "+%u ms\n", MAX_TW, STAT(0, "tw_entered"), STAT(0, "tw_overflow"), TW3_MS);
	if (!run_p3(16, MAX_TW + 1))
		return;
	CHECK(STAT(0, "tw_entered") == 2 * MAX_TW && STAT(0, "tw_overflow") == 9);
	CHECK(STAT(0, "tw_entries") == MAX_TW && a_tw_count(16, MAX_TW + 1) == MAX_TW);
	pass(TW3_MS * MS + SEC);
	CHECK(STAT(0, "tw_expired") == 2 * MAX_TW);
	if (!clean(base))
		return;
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ---- 4. local ports used up ---------------------------------------------- */

#define PORT0 40000
#define NB_PORTS 4
static struct xc p4[3][NB_PORTS][2];

/* Connect and run set s (10 KB up, 20 KB down); the ports used as a bit mask in *mask. */
static bool
run_p4(unsigned int s, uint32_t *mask, bool manual)
{
	*mask = 0;
	for (unsigned int i = 0; i < NB_PORTS; i++) {
		xfer_pair(&p4[s][i][0], &p4[s][i][1], 10000, 20000);
		p4[s][i][0].tx_when = manual ? X_TX_MANUAL : X_TX_ON_OPEN;

		int rc = x_connect(&X, &p4[s][i][0], &p4[s][i][1], 0);

		HC(rc == 0, "set %u connect %u: %d", s, i, rc);
		HC(p4[s][i][0].cport >= PORT0 && p4[s][i][0].cport < PORT0 + NB_PORTS,
		   "port %u", p4[s][i][0].cport);
		*mask |= 1u << (p4[s][i][0].cport - PORT0);
	}
	if (manual)
		return true;
	HC(x_drive(&X, x_all_ended, NULL, MS, 30 * SEC), "set %u not ended", s);
	for (unsigned int i = 0; i < NB_PORTS; i++)
		HC(x_xc_ok(&p4[s][i][0]) && x_xc_ok(&p4[s][i][1]), "set %u pair %u: %s | %s", s,
		   i, x_xc_fmt(&p4[s][i][0]), x_xc_fmt(&p4[s][i][1]));
	return true;
}

/* A connect that must find no tuple: -EADDRNOTAVAIL, counted, nothing made or sent. */
static bool
no_tuple(uint64_t want_count)
{
	struct tws_conn *c = NULL;
	uint64_t conns = STAT(0, "conns"), opens = STAT(0, "active_opens");
	int rc = raw_connect(H_ADDR_B, &c);

	HC(rc == -EADDRNOTAVAIL && c == NULL, "connect: %d", rc);
	HC(STAT(0, "addr_not_avail") == want_count, "addr_not_avail %" PRIu64 ", want %" PRIu64,
	   STAT(0, "addr_not_avail"), want_count);
	HC(STAT(0, "conns") == conns && STAT(0, "active_opens") == opens &&
	   tws_stack_tx_pending(ST(0)) == 0, "connect left something behind");
	return true;
}

/*
 * port_min..port_max = 40000..40003 and tw_reuse=0 (seed S1 with four
 * ports): four live connections hold the four tuples to B:80 and a fifth
 * connect fails; after four client-first closes TIME_WAIT holds them and
 * connects fail until tw_timeout_ms (10 s) passes, then four succeed.
 * With tw_reuse=1 an entry younger than tw_reuse_delay_ms (1 s) is still
 * not taken; older, each connect takes one (tw_reused) with ISN =
 * snd_nxt + 65537 and the transfers complete.
 */
static void
test_tuples_exhausted(void)
{
	hog_release();
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs ka, kb, k;
	uint32_t mask;
	char err[128] = "";

	h_knobs(&ka);
	kb = ka;
	ka.port_min = PORT0;
	ka.port_max = PORT0 + NB_PORTS - 1;
	ka.tw_reuse = 0;
	ka.tw_timeout_ms = TW3_MS;
	CHECK(x_init(&X, &ka, &kb, T0, 0) == 0);

	/* Live connections hold every tuple. */
	if (!run_p4(0, &mask, true))
		return;
	CHECKF(mask == (1u << NB_PORTS) - 1, "ports 0x%x", mask);
	x_run(&X);
	if (!no_tuple(1))
		return;
	for (unsigned int i = 0; i < NB_PORTS; i++)
		x_xc_start(&p4[0][i][0]);
	CHECK(x_drive(&X, x_all_ended, NULL, MS, 30 * SEC));
	for (unsigned int i = 0; i < NB_PORTS; i++)
		CHECKF(x_xc_ok(&p4[0][i][0]) && x_xc_ok(&p4[0][i][1]), "pair %u: %s | %s", i,
		       x_xc_fmt(&p4[0][i][0]), x_xc_fmt(&p4[0][i][1]));

	/* TIME_WAIT holds them: with tw_reuse=0 nothing until it expires. */
	uint64_t t_closed = X.h.now_us;

	CHECK(STAT(0, "tw_entries") == NB_PORTS && STAT(0, "conns") == 0);
	if (!no_tuple(2))
		return;
	x_at(&X, t_closed + 5 * SEC);
	if (!no_tuple(3))
		return;
	x_at(&X, t_closed + TW3_MS * MS - 100 * MS);
	CHECK(STAT(0, "tw_entries") == NB_PORTS);
	if (!no_tuple(4))
		return;
	x_at(&X, t_closed + TW3_MS * MS + 10 * MS);
	CHECK(STAT(0, "tw_entries") == 0 && STAT(0, "tw_expired") == NB_PORTS);
	uint64_t t_set1 = X.h.now_us;

	if (!run_p4(1, &mask, false))
		return;
	CHECK(mask == (1u << NB_PORTS) - 1 && STAT(0, "tw_entries") == NB_PORTS);

	/* tw_reuse=1, set at run time: entries younger than tw_reuse_delay_ms stay. */
	tws_stack_knobs_get(ST(0), &k);
	k.tw_reuse = 1;
	CHECKF(tws_stack_knobs_set(ST(0), &k, err, sizeof(err)) == 0, "%s", err);
	CHECK(k.tw_reuse_delay_ms == 1000);
	CHECKF(X.h.now_us - t_set1 < 900 * MS, "set 1 took %" PRIu64 " ms",
	       (X.h.now_us - t_set1) / MS);
	if (!no_tuple(5))
		return;
	CHECK(STAT(0, "tw_reused") == 0);

	uint32_t old_nxt[NB_PORTS];

	for (unsigned int i = 0; i < NB_PORTS; i++) {
		struct tws_tw_view tw;

		CHECK(a_lookup(&p4[1][i][0], &tw) == TWS_TIME_WAIT && tw.has_ts);
		old_nxt[p4[1][i][0].cport - PORT0] = tw.snd_nxt;
	}
	x_at(&X, X.h.now_us + 1500 * MS);
	CHECK(STAT(0, "tw_entries") == NB_PORTS);
	if (!run_p4(2, &mask, true))
		return;
	CHECK(mask == (1u << NB_PORTS) - 1);
	CHECK(STAT(0, "tw_reused") == NB_PORTS && STAT(0, "tw_entries") == 0);
	for (unsigned int i = 0; i < NB_PORTS; i++) {
		struct tws_conn_info ci;

		tws_conn_info_get(p4[2][i][0].conn, &ci);
		CHECKF(ci.iss == tws_tw_next_isn(old_nxt[p4[2][i][0].cport - PORT0]),
		       "port %u: iss %u, old snd_nxt %u", p4[2][i][0].cport, ci.iss,
		       old_nxt[p4[2][i][0].cport - PORT0]);
		x_xc_start(&p4[2][i][0]);
	}
	CHECK(x_drive(&X, x_all_ended, NULL, MS, 30 * SEC));
	for (unsigned int i = 0; i < NB_PORTS; i++)
		CHECKF(x_xc_ok(&p4[2][i][0]) && x_xc_ok(&p4[2][i][1]), "pair %u: %s | %s", i,
		       x_xc_fmt(&p4[2][i][0]), x_xc_fmt(&p4[2][i][1]));
	printf("# ports %u..%u: addr_not_avail %" PRIu64 ", tw_expired %" PRIu64
	       ", tw_reused %" PRIu64 "\n", PORT0, PORT0 + NB_PORTS - 1,
	       STAT(0, "addr_not_avail"), STAT(0, "tw_expired"), STAT(0, "tw_reused"));
	CHECK(STAT(0, "addr_not_avail") == 5 && STAT(0, "tw_entries") == NB_PORTS);
	pass(TW3_MS * MS + SEC);
	if (!clean(base))
		return;
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_mempool_empty),
		TWS_TEST(test_mempool_empty_idle_sender),
		TWS_TEST(test_conn_table_full_connect),
		TWS_TEST(test_conn_table_full_listen),
		TWS_TEST(test_tw_table_full),
		TWS_TEST(test_tuples_exhausted),
	};
	int rc;

	(void)argc;
	h_init(argv[0]);
	rc = tws_test_run(cases, TWS_NCASES(cases));
	hog_release();
	x_reset(&X);
	return rc;
}
