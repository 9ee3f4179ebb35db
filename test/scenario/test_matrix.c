/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine across its matrix: every close order and RST, data of every
 * awkward length both ways with every byte checked, a receiver that stops
 * reading, loss of each segment of a connection's life in turn,
 * reordering, duplication, random loss on bulk transfers, RTO backoff
 * timing, and sequence numbers that wrap. Two stacks over the in-memory
 * wire, time injected.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mempool.h>

#include "xfer.h"

static struct xnet X;

#define T0 UINT64_C(1000000) /* the wire's clock starts at 1 s */
#define MS UINT64_C(1000)

/* A connection's events but DATA and SENT, as "CONNECTED,CLOSED". */
static const char *
ev_seq(const struct xc *c)
{
	static char buf[4][256];
	static unsigned int k;
	char *b = buf[k++ & 3];
	size_t o = 0;

	b[0] = 0;
	for (unsigned int i = 0; i < c->nb_ev; i++) {
		if (c->ev[i] == TWS_EV_DATA || c->ev[i] == TWS_EV_SENT)
			continue;
		o += (size_t)snprintf(b + o, 256 - o, "%s%s", o ? "," : "", tws_event_name(c->ev[i]));
		if (o >= 200)
			break;
	}
	return b;
}

/* The wire log (XDBG=1 in the environment prints the reference life). */
static void
dump_log(const struct xnet *x, unsigned int from_i)
{
	for (unsigned int i = from_i; i < x->h.nb_log; i++)
		printf("# %4u t=%lu %c %s%s\n", i, (unsigned long)(x->log_t[i] / 1000),
		       x->h.log_from[i] ? 'B' : 'A', h_fmt(&x->h.log[i]),
		       x->log_v[i] == X_DROP ? " DROPPED" : x->log_v[i] == X_HOLD ? " HELD" :
		       x->log_v[i] == X_DUP ? " DUP" : "");
}

static struct tws_tuple
mirror(const struct tws_tuple *t)
{
	return (struct tws_tuple){ .laddr = t->raddr, .raddr = t->laddr, .lport = t->rport,
				   .rport = t->lport };
}

static bool
pending_none(void)
{
	return tws_stack_tx_pending(X.h.a.st) == 0 && tws_stack_tx_pending(X.h.b.st) == 0;
}

/* ------------------------------------------------------------------------ */
/* (a) the close matrix                                                      */
/* ------------------------------------------------------------------------ */

/* Connect and exchange 1000 bytes each way; the test closes. */
static bool
open_pair(struct xc *cli, struct xc *srv)
{
	struct tws_tcp_knobs k;

	h_knobs(&k);
	memset(cli, 0, sizeof(*cli));
	memset(srv, 0, sizeof(*srv));
	cli->tx_len = srv->tx_len = 1000;
	cli->rx_expect = srv->rx_expect = 1000;
	if (x_init(&X, &k, &k, T0, 0) != 0 || x_connect(&X, cli, srv, 0) != 0)
		return false;
	x_run(&X);
	x_at(&X, X.h.now_us + 500 * MS); /* every delayed ACK out */
	return cli->opened && srv->opened && cli->rx_got == 1000 && srv->rx_got == 1000 &&
	       pending_none();
}

/*
 * Side `f` closes first, the other (`o`) when the FIN arrives: FIN, ACK,
 * FIN, ACK one at a time with the states in between; `f` holds TIME_WAIT.
 */
static void
close_in_order(int f)
{
	int o = !f;
	unsigned int base = x_pool_avail();
	struct xc xc[2];
	struct h_seg s;

	CHECK(open_pair(&xc[0], &xc[1]));

	struct tws_conn *cf = xc[f].conn, *co = xc[o].conn;
	struct tws_conn_info i_f, i_o;
	struct tws_tuple t_f = *tws_conn_tuple(cf), t_o = *tws_conn_tuple(co);
	struct tws_tw_view tw;

	tws_conn_info_get(cf, &i_f);
	tws_conn_info_get(co, &i_o);
	CHECK(i_f.snd_nxt == i_o.rcv_nxt && i_o.snd_nxt == i_f.rcv_nxt);
	struct tws_tuple mt = mirror(&t_f);

	CHECK(memcmp(&t_o, &mt, sizeof(t_o)) == 0);

	unsigned int nlog = X.h.nb_log;

	/* f: ESTABLISHED -> FIN_WAIT_1, FIN out. */
	CHECK(tws_close(cf) == 0);
	CHECK(tws_conn_state(cf) == TWS_FIN_WAIT_1);
	CHECK(tws_close(cf) == -ENOTCONN);
	CHECK(x_step(&X, f, &s) == 1);
	CHECKF(s.flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s.seq == i_f.snd_nxt &&
	       s.ack == i_f.rcv_nxt && s.len == 0, "%s", h_fmt(&s));
	/* o: ESTABLISHED -> CLOSE_WAIT, PEER_CLOSED, ACK of the FIN out. */
	CHECK(tws_conn_state(co) == TWS_CLOSE_WAIT);
	CHECKF(strcmp(ev_seq(&xc[o]), o ? "ACCEPTED,PEER_CLOSED" : "CONNECTED,PEER_CLOSED") == 0,
	       "%s", ev_seq(&xc[o]));
	CHECK(tws_stack_tx_pending(x_node(&X, f)->st) == 0);
	CHECK(x_step(&X, o, &s) == 1);
	CHECKF(s.flags == TWS_TCP_ACK && s.seq == i_o.snd_nxt && s.ack == i_f.snd_nxt + 1,
	       "%s", h_fmt(&s));
	/* f: FIN_WAIT_1 -> FIN_WAIT_2, nothing to send. */
	CHECK(tws_conn_state(cf) == TWS_FIN_WAIT_2);
	CHECK(pending_none());
	CHECK(tws_stack_lookup(x_node(&X, f)->st, &t_f, NULL, NULL) == TWS_FIN_WAIT_2);
	/* o: CLOSE_WAIT -> LAST_ACK, FIN out. */
	CHECK(tws_close(co) == 0);
	CHECK(tws_conn_state(co) == TWS_LAST_ACK);
	CHECK(x_step(&X, o, &s) == 1);
	CHECKF(s.flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s.seq == i_o.snd_nxt &&
	       s.ack == i_f.snd_nxt + 1, "%s", h_fmt(&s));
	/* f: FIN_WAIT_2 -> TIME_WAIT (a compact entry), CLOSED, last ACK out. */
	CHECK(xc[f].ended && xc[f].end_ev == TWS_EV_CLOSED && xc[f].conn == NULL);
	CHECKF(strcmp(ev_seq(&xc[f]), f ? "ACCEPTED,CLOSED" : "CONNECTED,CLOSED") == 0, "%s",
	       ev_seq(&xc[f]));
	CHECK(tws_stack_lookup(x_node(&X, f)->st, &t_f, NULL, &tw) == TWS_TIME_WAIT);
	CHECKF(tw.snd_nxt == i_f.snd_nxt + 1 && tw.rcv_nxt == i_o.snd_nxt + 1 && tw.has_ts,
	       "tw %u/%u", tw.snd_nxt, tw.rcv_nxt);
	CHECK(x_step(&X, f, &s) == 1);
	CHECKF(s.flags == TWS_TCP_ACK && s.seq == i_f.snd_nxt + 1 && s.ack == i_o.snd_nxt + 1,
	       "%s", h_fmt(&s));
	/* o: LAST_ACK -> CLOSED. */
	CHECK(xc[o].ended && xc[o].end_ev == TWS_EV_CLOSED);
	CHECKF(strcmp(ev_seq(&xc[o]), o ? "ACCEPTED,PEER_CLOSED,CLOSED" :
		      "CONNECTED,PEER_CLOSED,CLOSED") == 0, "%s", ev_seq(&xc[o]));
	CHECK(tws_stack_lookup(x_node(&X, o)->st, &t_o, NULL, NULL) == TWS_CLOSED);
	CHECK(x_run(&X) == 0);
	CHECK(X.h.nb_log == nlog + 4); /* FIN, ACK, FIN, ACK and nothing else */

	CHECK(x_stat(&X, f, "tw_entries") == 1 && x_stat(&X, o, "tw_entries") == 0);
	CHECK(x_stat(&X, f, "tw_entered") == 1 && x_stat(&X, o, "tw_entered") == 0);
	CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0);
	CHECK(x_stat(&X, 0, "conn_closed") == 1 && x_stat(&X, 1, "conn_closed") == 1);
	CHECK(x_stat(&X, 0, "retransmits") == 0 && x_stat(&X, 1, "retransmits") == 0);
	CHECK(x_stat(&X, 0, "rst_sent") == 0 && x_stat(&X, 1, "rst_sent") == 0);
	/* Idle stacks hold no mbuf. */
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);

	/* The entry lasts tw_timeout_ms exactly (2MSL), then goes. */
	struct tws_tcp_knobs k;

	tws_stack_knobs_get(x_node(&X, f)->st, &k);
	x_at(&X, X.h.now_us + k.tw_timeout_ms * MS - MS);
	CHECK(tws_stack_lookup(x_node(&X, f)->st, &t_f, NULL, NULL) == TWS_TIME_WAIT);
	x_at(&X, X.h.now_us + 2 * MS);
	CHECK(tws_stack_lookup(x_node(&X, f)->st, &t_f, NULL, NULL) == TWS_CLOSED);
	CHECK(x_stat(&X, f, "tw_entries") == 0 && x_stat(&X, f, "tw_expired") == 1);
	CHECK(x_run(&X) == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

static void
test_close_client_first(void)
{
	x_reset(&X);
	close_in_order(0);
}

static void
test_close_server_first(void)
{
	x_reset(&X);
	close_in_order(1);
}

/* Both close before either FIN arrives: FINs cross, CLOSING, both hold TIME_WAIT. */
static void
test_close_simultaneous(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct xc xc[2];
	struct tws_conn_info ia, ib;
	struct h_seg s;

	CHECK(open_pair(&xc[0], &xc[1]));

	struct tws_conn *ca = xc[0].conn, *cb = xc[1].conn;
	struct tws_tuple ta = *tws_conn_tuple(ca), tb = *tws_conn_tuple(cb);

	tws_conn_info_get(ca, &ia);
	tws_conn_info_get(cb, &ib);
	CHECK(tws_close(ca) == 0 && tws_close(cb) == 0);
	CHECK(tws_conn_state(ca) == TWS_FIN_WAIT_1 && tws_conn_state(cb) == TWS_FIN_WAIT_1);

	/* The FINs cross on the wire. */
	struct rte_mbuf *fa = x_grab(&X, 0), *fb = x_grab(&X, 1);

	CHECK(fa != NULL && fb != NULL && pending_none());
	x_put(&X, 0, fa);
	s = X.h.log[X.h.nb_log - 1];
	CHECKF(s.flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s.seq == ia.snd_nxt && s.ack == ia.rcv_nxt,
	       "%s", h_fmt(&s));
	CHECK(tws_conn_state(cb) == TWS_CLOSING);
	x_put(&X, 1, fb);
	s = X.h.log[X.h.nb_log - 1];
	CHECKF(s.flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s.seq == ib.snd_nxt && s.ack == ib.rcv_nxt,
	       "%s", h_fmt(&s));
	CHECK(tws_conn_state(ca) == TWS_CLOSING);
	/* No PEER_CLOSED: both had closed already. */
	CHECKF(strcmp(ev_seq(&xc[0]), "CONNECTED") == 0, "%s", ev_seq(&xc[0]));
	CHECKF(strcmp(ev_seq(&xc[1]), "ACCEPTED") == 0, "%s", ev_seq(&xc[1]));

	/* Each ACKs the other's FIN: CLOSING -> TIME_WAIT on both. */
	struct rte_mbuf *aa = x_grab(&X, 0), *ab = x_grab(&X, 1);

	CHECK(aa != NULL && ab != NULL && pending_none());
	x_put(&X, 0, aa);
	s = X.h.log[X.h.nb_log - 1];
	CHECKF(s.flags == TWS_TCP_ACK && s.seq == ia.snd_nxt + 1 && s.ack == ib.snd_nxt + 1, "%s",
	       h_fmt(&s));
	CHECK(xc[1].ended && xc[1].end_ev == TWS_EV_CLOSED);
	x_put(&X, 1, ab);
	s = X.h.log[X.h.nb_log - 1];
	CHECKF(s.flags == TWS_TCP_ACK && s.seq == ib.snd_nxt + 1 && s.ack == ia.snd_nxt + 1, "%s",
	       h_fmt(&s));
	CHECK(xc[0].ended && xc[0].end_ev == TWS_EV_CLOSED);
	CHECKF(strcmp(ev_seq(&xc[0]), "CONNECTED,CLOSED") == 0, "%s", ev_seq(&xc[0]));
	CHECKF(strcmp(ev_seq(&xc[1]), "ACCEPTED,CLOSED") == 0, "%s", ev_seq(&xc[1]));
	CHECK(x_run(&X) == 0);

	struct tws_tw_view twa, twb;

	CHECK(tws_stack_lookup(X.h.a.st, &ta, NULL, &twa) == TWS_TIME_WAIT);
	CHECK(tws_stack_lookup(X.h.b.st, &tb, NULL, &twb) == TWS_TIME_WAIT);
	CHECK(twa.snd_nxt == ia.snd_nxt + 1 && twa.rcv_nxt == ib.snd_nxt + 1);
	CHECK(twb.snd_nxt == ib.snd_nxt + 1 && twb.rcv_nxt == ia.snd_nxt + 1);
	CHECK(x_stat(&X, 0, "tw_entries") == 1 && x_stat(&X, 1, "tw_entries") == 1);
	CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0);
	CHECK(x_stat(&X, 0, "retransmits") == 0 && x_stat(&X, 1, "retransmits") == 0);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
	x_at(&X, X.h.now_us + 61000 * MS);
	CHECK(x_stat(&X, 0, "tw_entries") == 0 && x_stat(&X, 1, "tw_entries") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/*
 * Side r aborts (linger 0): RST|ACK <SEQ=snd_nxt><ACK=rcv_nxt>, no event on
 * r, RESET (ECONNRESET) on the other, no TIME_WAIT anywhere. With
 * `loaded`, r holds unsent data and the other side unread data: all freed.
 */
static void
abort_from(int r, bool loaded)
{
	int o = !r;
	unsigned int base = x_pool_avail();
	struct xc xc[2];
	struct h_seg s;

	CHECK(open_pair(&xc[0], &xc[1]));

	struct tws_conn *cr = xc[r].conn, *co = xc[o].conn;
	struct tws_tuple tr = *tws_conn_tuple(cr), to = *tws_conn_tuple(co);
	struct tws_conn_info ir;
	unsigned int nev_r = xc[r].nb_ev;

	if (loaded) {
		/* o stops reading; r fills o's receive buffer and its own send buffer. */
		xc[o].no_read = true;
		xc[r].tx_len = 4u << 20;
		x_xc_start(&xc[r]);
		x_run(&X);
		x_at(&X, X.h.now_us + 100 * MS);
		CHECK(tws_conn_readable(co) > 100000);
		tws_conn_info_get(cr, &ir);
		CHECKF(ir.unsent > 100000, "unsent %u", ir.unsent);
		CHECK(x_pool_avail() < base - 100);
		nev_r = xc[r].nb_ev;
	}
	tws_conn_info_get(cr, &ir);
	CHECK(tws_abort(cr) == 0);
	/* The handle is gone at once, without an event. */
	CHECK(tws_stack_lookup(x_node(&X, r)->st, &tr, NULL, NULL) == TWS_CLOSED);
	CHECK(x_stat(&X, r, "conns") == 0 && x_stat(&X, r, "aborts") == 1);
	CHECK(xc[r].nb_ev == nev_r);
	CHECK(tws_stack_tx_pending(x_node(&X, r)->st) == 1);
	CHECK(x_step(&X, r, &s) == 1);
	CHECKF(s.flags == (TWS_TCP_RST | TWS_TCP_ACK) && s.seq == ir.snd_max &&
	       s.ack == ir.rcv_nxt && s.len == 0, "%s", h_fmt(&s));
	/* o: RESET with ECONNRESET, nothing sent back. */
	CHECK(xc[o].ended && xc[o].end_ev == TWS_EV_RESET && xc[o].end_err == ECONNRESET);
	CHECKF(strcmp(ev_seq(&xc[o]), o ? "ACCEPTED,RESET" : "CONNECTED,RESET") == 0, "%s",
	       ev_seq(&xc[o]));
	CHECK(tws_stack_lookup(x_node(&X, o)->st, &to, NULL, NULL) == TWS_CLOSED);
	CHECK(pending_none());
	CHECK(x_run(&X) == 0);
	CHECK(x_stat(&X, r, "rst_sent") == 1 && x_stat(&X, o, "rst_rcvd") == 1);
	CHECK(x_stat(&X, o, "rst_sent") == 0);
	CHECK(x_stat(&X, 0, "tw_entries") == 0 && x_stat(&X, 1, "tw_entries") == 0);
	CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0);
	CHECK(!xc[r].ended); /* no event followed the abort */
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
	/* A later segment for the tuple meets nothing: RST. */
	x_at(&X, X.h.now_us + 1000 * MS);
	CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

static void
test_rst_from_client(void)
{
	x_reset(&X);
	abort_from(0, false);
}

static void
test_rst_from_server(void)
{
	x_reset(&X);
	abort_from(1, false);
}

static void
test_rst_with_buffers(void)
{
	x_reset(&X);
	abort_from(0, true);
	if (tws_test_failed)
		return;
	x_reset(&X);
	abort_from(1, true);
}

/* ------------------------------------------------------------------------ */
/* (b) data of every awkward length                                          */
/* ------------------------------------------------------------------------ */

/* Sum and count of the payload of segments from `from` (first transmissions and all). */
static void
data_segs(const struct xnet *x, int from, uint64_t *bytes, unsigned int *segs, uint32_t *last_len)
{
	*bytes = 0;
	*segs = 0;
	*last_len = 0;
	for (unsigned int i = 0; i < x->h.nb_log; i++) {
		if (x->h.log_from[i] != from || x->h.log[i].len == 0)
			continue;
		*bytes += x->h.log[i].len;
		(*segs)++;
		*last_len = x->h.log[i].len;
	}
}

/*
 * Mode 0 (half close): A sends len bytes and closes; B reads them all,
 * then on A's FIN sends len bytes back and closes. Mode 1: both send len
 * bytes at once and close once they have sent and received everything.
 */
static void
lengths_run(uint64_t len, int mode)
{
	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct xc cli = { 0 }, srv = { 0 };

	h_knobs(&k);
	cli.tx_len = srv.tx_len = len;
	cli.rx_expect = srv.rx_expect = len;
	if (mode == 0) {
		cli.tx_when = X_TX_ON_OPEN;
		cli.close_after_send = true;
		srv.tx_when = X_TX_AFTER_FIN;
		srv.close_on_peer_fin = true;
	} else {
		cli.tx_when = srv.tx_when = X_TX_ON_OPEN;
		cli.close_when_done = srv.close_when_done = true;
	}
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	CHECK(x_connect(&X, &cli, &srv, 0) == 0);

	bool done = x_drive(&X, x_all_ended, NULL, 1 * MS, 30000 * MS);

	CHECKF(done, "len %lu mode %d: %s | %s", (unsigned long)len, mode, x_xc_fmt(&cli),
	       x_xc_fmt(&srv));
	CHECKF(x_xc_ok(&cli) && x_xc_ok(&srv), "len %lu mode %d: %s | %s", (unsigned long)len,
	       mode, x_xc_fmt(&cli), x_xc_fmt(&srv));
	CHECK(cli.rx_got == len && srv.rx_got == len);
	/* A lossless wire: nothing retransmitted, no timeout fired. */
	for (int sd = 0; sd < 2; sd++) {
		CHECKF(x_stat(&X, sd, "retransmits") == 0 && x_stat(&X, sd, "rto_fired") == 0,
		       "len %lu mode %d side %d: %lu retransmits", (unsigned long)len, mode, sd,
		       (unsigned long)x_stat(&X, sd, "retransmits"));
		CHECK(x_stat(&X, sd, "conns") == 0);
	}
	CHECK(x_stat(&X, 0, "tw_entries") + x_stat(&X, 1, "tw_entries") >= 1);
	if (mode == 0)
		CHECK(x_stat(&X, 0, "tw_entries") == 1 && x_stat(&X, 1, "tw_entries") == 0);
	CHECKF(strcmp(ev_seq(&srv), "ACCEPTED,PEER_CLOSED,CLOSED") == 0 || mode == 1, "%s",
	       ev_seq(&srv));
	if (X.h.nb_log < H_MAX_SEGS) {
		/* Segments of at most one MSS, no byte sent twice. */
		for (int sd = 0; sd < 2; sd++) {
			uint64_t bytes;
			unsigned int segs;
			uint32_t last;

			data_segs(&X, sd, &bytes, &segs, &last);
			CHECKF(bytes == len, "len %lu side %d: %lu bytes in %u segments",
			       (unsigned long)len, sd, (unsigned long)bytes, segs);
			if (len > 16384)
				continue; /* queued by several tws_send(): no Nagle, runts allowed */
			/* One tws_send(): full segments, the remainder last. */
			/* RFC 6691: the 12 bytes of timestamp option come out of the MSS. */
			uint32_t mss = k.mss - (k.timestamps ? 12 : 0);

			CHECKF(segs == (len + mss - 1) / mss, "len %lu side %d: %u segments",
			       (unsigned long)len, sd, segs);
			CHECK(len == 0 || last == (len % mss ? len % mss : mss));
		}
		for (unsigned int i = 0; i < X.h.nb_log; i++)
			CHECKF(X.h.log[i].len <= 1460, "%s", h_fmt(&X.h.log[i]));
	}
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

static void
test_data_lengths(void)
{
	static const uint64_t lens[] = { 0, 1, 1459, 1460, 1461, 100000, 1u << 20 };

	for (unsigned int m = 0; m < 2; m++) {
		for (unsigned int i = 0; i < RTE_DIM(lens); i++) {
			x_reset(&X);
			lengths_run(lens[i], (int)m);
			if (tws_test_failed)
				return;
		}
	}
}

/*
 * A receiver that does not read: the window closes, the sender probes with
 * exponential backoff (one byte below snd_una, as Linux), the receiver
 * answers with window 0, nothing times out; once it reads, the transfer
 * completes with every byte right.
 */
static void
test_zero_window(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct xc cli = { 0 }, srv = { 0 };
	const uint64_t len = 1u << 20;

	h_knobs(&k);
	cli.tx_len = len;
	cli.close_when_done = true;
	srv.rx_expect = len;
	srv.no_read = true;
	srv.close_on_peer_fin = true;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	CHECK(x_connect(&X, &cli, &srv, 0) == 0);
	x_run(&X);
	CHECK(srv.opened);

	struct tws_conn_info ia, ib;
	uint64_t t_full = X.h.now_us;

	/* Wait 10 s, 1 ms at a time. */
	for (int i = 0; i < 10000; i++)
		x_at(&X, X.h.now_us + MS);
	tws_conn_info_get(cli.conn, &ia);
	tws_conn_info_get(srv.conn, &ib);
	/*
	 * The sender sees a zero window; the receiver may still owe less than one
	 * window-scale unit it announced before the field rounded down to 0.
	 */
	CHECKF(ib.rcv_wnd < (1u << ib.rcv_wscale) && ia.snd_wnd == 0, "rcv_wnd %u snd_wnd %u",
	       ib.rcv_wnd, ia.snd_wnd);
	CHECKF(tws_conn_readable(srv.conn) >= k.rcvbuf - 128 &&
	       tws_conn_readable(srv.conn) <= k.rcvbuf, "readable %u",
	       tws_conn_readable(srv.conn));
	CHECKF(ia.snd_una == ia.snd_max && ia.unsent > 0, "snd_una %u snd_max %u snd_nxt %u unsent %u "
	       "rcv_nxt(b) %u", ia.snd_una, ia.snd_max, ia.snd_nxt, ia.unsent, ib.rcv_nxt);
	CHECK(srv.rx_got == 0 && !cli.ended && !srv.ended);
	CHECK(x_stat(&X, 0, "timeouts") == 0);

	/* The probes: ACKs at snd_una - 1, no payload, each answered with window 0. */
	uint64_t probes = x_stat(&X, 0, "zero_window_probes");
	uint64_t pt[64];
	unsigned int np = 0;

	CHECKF(probes >= 3, "probes %lu", (unsigned long)probes);
	for (unsigned int i = 0; i < X.h.nb_log; i++) {
		const struct h_seg *s = &X.h.log[i];

		if (X.h.log_from[i] == 0 && s->len == 0 && s->seq == ia.snd_una - 1) {
			CHECKF(s->flags == TWS_TCP_ACK && s->ack == ia.rcv_nxt, "%s", h_fmt(s));
			if (np < RTE_DIM(pt))
				pt[np++] = X.log_t[i];
		}
		if (X.h.log_from[i] == 1 && X.log_t[i] > t_full + 1000 * MS)
			CHECKF(s->window == 0, "%s", h_fmt(s));
	}
	CHECKF(np == probes, "%u probes on the wire, %lu counted", np, (unsigned long)probes);
	/* Persist backoff: each interval twice the one before (RFC 9293 3.8.6.1, RFC 6298 5.5). */
	for (unsigned int i = 2; i < np; i++)
		CHECKF(pt[i] - pt[i - 1] == 2 * (pt[i - 1] - pt[i - 2]),
		       "probe %u at %lu ms, %lu, %lu", i, (unsigned long)(pt[i] / MS),
		       (unsigned long)(pt[i - 1] / MS), (unsigned long)(pt[i - 2] / MS));
	/* The receiver answered at least one probe (the rest may be rate limited). */
	CHECK(x_stat(&X, 1, "oow_dropped") >= 1);

	/* Read now: the window opens, the rest flows. */
	srv.no_read = false;
	x_xc_read(&srv);
	CHECK(x_drive(&X, x_all_ended, NULL, 1 * MS, 60000 * MS));
	CHECKF(x_xc_ok(&cli) && x_xc_ok(&srv), "%s | %s", x_xc_fmt(&cli), x_xc_fmt(&srv));
	CHECK(x_stat(&X, 0, "timeouts") == 0 && x_stat(&X, 0, "conns") == 0 &&
	      x_stat(&X, 1, "conns") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */
/* (c) loss, reordering, duplication                                         */
/* ------------------------------------------------------------------------ */

enum imp { IMP_NONE, IMP_DROP, IMP_HOLD, IMP_DUP, IMP_RANDOM };

struct impair {
	enum imp mode;
	unsigned int k;        /* the segment (wire index) DROP, HOLD or DUP act on */
	uint64_t rng;
	uint32_t ppm;          /* IMP_RANDOM: loss per million, both directions */
};

static enum x_verdict
impair_wire(struct xnet *x, int from, const struct h_seg *s, unsigned int idx, void *arg)
{
	struct impair *im = arg;

	(void)x;
	(void)from;
	(void)s;
	switch (im->mode) {
	case IMP_DROP:
		return idx == im->k ? X_DROP : X_PASS;
	case IMP_HOLD:
		return idx == im->k ? X_HOLD : X_PASS;
	case IMP_DUP:
		return idx == im->k ? X_DUP : X_PASS;
	case IMP_RANDOM:
		return tws_test_rand(&im->rng) % 1000000 < im->ppm ? X_DROP : X_PASS;
	default:
		return X_PASS;
	}
}

#define REQ_LEN 3000u   /* three segments: 1460, 1460, 80 */
#define RESP_LEN 5000u  /* four: 1460 x 3, 620 */

/*
 * One life: handshake, request (A), response (B), A closes after reading
 * it, B on A's FIN. Returns false (with the context in the message) if it
 * did not end within 120 s of injected time.
 */
static bool
life_run(struct impair *im, struct xc *cli, struct xc *srv)
{
	struct tws_tcp_knobs k;

	h_knobs(&k);
	memset(cli, 0, sizeof(*cli));
	memset(srv, 0, sizeof(*srv));
	cli->tx_len = REQ_LEN;
	cli->rx_expect = RESP_LEN;
	cli->close_when_done = true;
	srv->rx_expect = REQ_LEN;
	srv->tx_len = RESP_LEN;
	srv->tx_when = X_TX_AFTER_RX;
	srv->close_on_peer_fin = true;
	if (x_init(&X, &k, &k, T0, 0) != 0)
		return false;
	X.wire = impair_wire;
	X.wire_arg = im;
	if (x_connect(&X, cli, srv, 0) != 0)
		return false;
	return x_drive(&X, x_all_ended, NULL, 5 * MS, 120000 * MS);
}

/* Segments of a life on a clean wire: the reference the impaired runs index. */
static unsigned int
life_reference(struct h_seg *ref, unsigned int max)
{
	struct impair im = { .mode = IMP_NONE };
	struct xc cli, srv;
	unsigned int n;

	x_reset(&X);
	if (!life_run(&im, &cli, &srv) || !x_xc_ok(&cli) || !x_xc_ok(&srv))
		return 0;
	n = RTE_MIN(X.h.nb_log, max);
	memcpy(ref, X.h.log, n * sizeof(*ref));
	if (getenv("XDBG"))
		dump_log(&X, 0);
	x_free(&X);
	return n;
}

/* The run went as the reference up to segment k: segment k is the one the index names. */
static bool
same_prefix(const struct h_seg *ref, unsigned int k)
{
	if (X.h.nb_log <= k)
		return false;
	for (unsigned int i = 0; i <= k; i++) {
		const struct h_seg *a = &X.h.log[i], *b = &ref[i];

		if (a->flags != b->flags || a->seq != b->seq || a->ack != b->ack || a->len != b->len ||
		    a->sport != b->sport)
			return false;
	}
	return true;
}

/* The common end of an impaired life: all bytes, clean close, nothing leaked. */
#define LIFE_CHECKS(what, k, cli, srv, base) do { \
	CHECKF(x_xc_ok(&(cli)) && x_xc_ok(&(srv)), "%s k=%u: %s | %s", what, k, \
	       x_xc_fmt(&(cli)), x_xc_fmt(&(srv))); \
	CHECKF(strcmp(ev_seq(&(cli)), "CONNECTED,CLOSED") == 0, "%s k=%u: A %s", what, k, \
	       ev_seq(&(cli))); \
	CHECKF(strcmp(ev_seq(&(srv)), "ACCEPTED,PEER_CLOSED,CLOSED") == 0, "%s k=%u: B %s", \
	       what, k, ev_seq(&(srv))); \
	CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0); \
	CHECKF(x_stat(&X, 0, "tw_entries") + x_stat(&X, 0, "tw_killed") == 1 && \
	       x_stat(&X, 1, "tw_entries") == 0, "%s k=%u: tw %lu/%lu", what, k, \
	       (unsigned long)x_stat(&X, 0, "tw_entries"), \
	       (unsigned long)x_stat(&X, 1, "tw_entries")); \
	CHECK(X.nb_bad == 0 && X.nb_stray == 0); \
	x_free(&X); \
	CHECKF(x_pool_avail() == (base), "%s k=%u: pool %u, was %u", what, k, x_pool_avail(), base); \
} while (0)

static bool
seq_space(const struct h_seg *s)
{
	return s->len > 0 || (s->flags & (TWS_TCP_SYN | TWS_TCP_FIN));
}

/*
 * Drop segment k of the life, for every k: the connection completes, and
 * when the lost segment held sequence space (SYN, data, FIN) its sender
 * retransmitted it (by timeout, or fast retransmit when three segments
 * followed the lost one).
 */
static void
test_loss_each_segment(void)
{
	static struct h_seg ref[256];
	unsigned int n = life_reference(ref, RTE_DIM(ref));
	unsigned int retx_runs = 0, rto_runs = 0, fast_runs = 0;

	CHECKF(n >= 10 && n < 64, "reference life: %u segments", n);
	for (unsigned int k = 0; k < n; k++) {
		unsigned int base;
		struct impair im = { .mode = IMP_DROP, .k = k };
		struct xc cli, srv;

		x_reset(&X);
		base = x_pool_avail();
		CHECKF(life_run(&im, &cli, &srv), "k=%u (%s): %s | %s", k, h_fmt(&ref[k]),
		       x_xc_fmt(&cli), x_xc_fmt(&srv));
		CHECK(X.nb_dropped == 1 && same_prefix(ref, k));

		const struct h_seg *d = &X.h.log[k];
		int from = X.h.log_from[k];

		CHECKF(X.log_v[k] == X_DROP, "k=%u", k);
		if (seq_space(d)) {
			bool again = false;

			CHECKF(x_stat(&X, from, "retransmits") > 0,
			       "k=%u (%s): retransmits %lu", k, h_fmt(d),
			       (unsigned long)x_stat(&X, from, "retransmits"));
			/* A later segment from the same side covers the lost one's first byte. */
			for (unsigned int i = k + 1; i < X.h.nb_log && !again; i++) {
				const struct h_seg *r = &X.h.log[i];
				uint32_t end = r->seq + r->len + !!(r->flags & TWS_TCP_SYN) +
					       !!(r->flags & TWS_TCP_FIN);

				again = X.h.log_from[i] == from && X.log_v[i] != X_DROP &&
					tws_seq_leq(r->seq, d->seq) && tws_seq_before(d->seq, end) &&
					(r->flags & TWS_TCP_SYN) == (d->flags & TWS_TCP_SYN);
			}
			CHECKF(again, "k=%u (%s): never sent again", k, h_fmt(d));
			retx_runs++;
			if (x_stat(&X, from, "fast_retransmits") > 0)
				fast_runs++;
			else if (x_stat(&X, from, "rto_fired") > 0)
				rto_runs++;
		}
		if (k == n - 1) {
			/* The last ACK lost: B's FIN again, answered from TIME_WAIT. */
			CHECKF(!seq_space(d) && from == 0 && x_stat(&X, 1, "retransmits") > 0 &&
			       x_stat(&X, 0, "tw_acked") == 1, "k=%u (%s)", k, h_fmt(d));
			retx_runs++;
		}
		LIFE_CHECKS("drop", k, cli, srv, base);
	}
	CHECK(retx_runs >= n - 2);
	CHECK(rto_runs > 0 && fast_runs > 0);
	printf("# %u segments in a life, each dropped once; %u needed a retransmission "
	       "(%u by timeout only, %u fast)\n", n, retx_runs, rto_runs, fast_runs);
}

/*
 * Segment k held back and delivered after the next one of its direction:
 * the connection completes without a single retransmission.
 */
static void
test_reorder_each_segment(void)
{
	static struct h_seg ref[256];
	unsigned int n = life_reference(ref, RTE_DIM(ref));
	unsigned int overtaken = 0;

	CHECK(n >= 10);
	for (unsigned int k = 0; k < n; k++) {
		unsigned int base;
		struct impair im = { .mode = IMP_HOLD, .k = k };
		struct xc cli, srv;

		x_reset(&X);
		base = x_pool_avail();
		CHECKF(life_run(&im, &cli, &srv), "k=%u (%s): %s | %s", k, h_fmt(&ref[k]),
		       x_xc_fmt(&cli), x_xc_fmt(&srv));
		CHECK(X.nb_held == 1 && X.nb_reordered + X.nb_late == 1 && same_prefix(ref, k));
		overtaken += X.nb_reordered;
		/* One segment late is one duplicate ACK: the receiver keeps what overtook it. */
		CHECKF(x_stat(&X, 0, "retransmits") == 0 && x_stat(&X, 1, "retransmits") == 0,
		       "k=%u (%s): retransmits %lu/%lu", k, h_fmt(&ref[k]),
		       (unsigned long)x_stat(&X, 0, "retransmits"),
		       (unsigned long)x_stat(&X, 1, "retransmits"));
		LIFE_CHECKS("reorder", k, cli, srv, base);
	}
	/* Data segments of the request and the response were overtaken. */
	CHECKF(overtaken >= 4, "%u of %u segments overtaken", overtaken, n);
}

/* Segment k delivered twice. */
static void
test_duplicate_each_segment(void)
{
	static struct h_seg ref[256];
	unsigned int n = life_reference(ref, RTE_DIM(ref));

	CHECK(n >= 10);
	for (unsigned int k = 0; k < n; k++) {
		unsigned int base;
		struct impair im = { .mode = IMP_DUP, .k = k };
		struct xc cli, srv;

		x_reset(&X);
		base = x_pool_avail();
		CHECKF(life_run(&im, &cli, &srv), "k=%u (%s): %s | %s", k, h_fmt(&ref[k]),
		       x_xc_fmt(&cli), x_xc_fmt(&srv));
		CHECK(X.nb_dup == 1 && same_prefix(ref, k));
		/* A duplicate needs no retransmission. */
		CHECKF(x_stat(&X, 0, "rto_fired") == 0 && x_stat(&X, 1, "rto_fired") == 0,
		       "k=%u (%s)", k, h_fmt(&ref[k]));
		LIFE_CHECKS("duplicate", k, cli, srv, base);
	}
}

/* 1 MB each way at once with random loss both ways. */
static void
bulk_loss(uint32_t ppm, uint64_t seed)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct impair im = { .mode = IMP_RANDOM, .ppm = ppm, .rng = seed };
	struct xc cli = { 0 }, srv = { 0 };
	const uint64_t len = 1u << 20;

	h_knobs(&k);
	cli.tx_len = srv.tx_len = len;
	cli.rx_expect = srv.rx_expect = len;
	cli.close_when_done = srv.close_when_done = true;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	X.wire = impair_wire;
	X.wire_arg = &im;
	CHECK(x_connect(&X, &cli, &srv, 0) == 0);

	bool done = x_drive(&X, x_all_ended, NULL, 5 * MS, 1800000 * MS);

	printf("# loss %u ppm: %u segments, %u dropped, %.1f s; A: %lu retransmits, %lu fast, "
	       "%lu RTOs; B: %lu, %lu, %lu\n", ppm, X.idx, X.nb_dropped,
	       (double)(X.h.now_us - T0) / 1e6, (unsigned long)x_stat(&X, 0, "retransmits"),
	       (unsigned long)x_stat(&X, 0, "fast_retransmits"),
	       (unsigned long)x_stat(&X, 0, "rto_fired"),
	       (unsigned long)x_stat(&X, 1, "retransmits"),
	       (unsigned long)x_stat(&X, 1, "fast_retransmits"),
	       (unsigned long)x_stat(&X, 1, "rto_fired"));
	CHECKF(done, "%s | %s", x_xc_fmt(&cli), x_xc_fmt(&srv));
	CHECKF(x_xc_ok(&cli) && x_xc_ok(&srv), "%s | %s", x_xc_fmt(&cli), x_xc_fmt(&srv));
	CHECK(X.nb_dropped > 0);
	for (int sd = 0; sd < 2; sd++) {
		CHECK(x_stat(&X, sd, "fast_retransmits") > 0);
		CHECK(x_stat(&X, sd, "retransmits") > 0);
		CHECK(x_stat(&X, sd, "timeouts") == 0 && x_stat(&X, sd, "conns") == 0);
	}
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

static void
test_bulk_loss_1pct(void)
{
	bulk_loss(10000, 1);
}

static void
test_bulk_loss_5pct(void)
{
	bulk_loss(50000, 5);
}

/* ------------------------------------------------------------------------ */
/* (d) RTO backoff                                                           */
/* ------------------------------------------------------------------------ */

static enum x_verdict
black_hole_a(struct xnet *x, int from, const struct h_seg *s, unsigned int idx, void *arg)
{
	(void)x;
	(void)s;
	(void)idx;
	return from == 0 && *(bool *)arg ? X_DROP : X_PASS;
}

/*
 * A SYN into a black hole: sent again after rto_init, then each wait twice
 * the one before (capped at rto_max), syn_retries times; one more wait,
 * then ERROR ETIMEDOUT. Times exact to the millisecond.
 */
static void
syn_backoff(uint32_t rto_init, uint32_t rto_max, uint32_t retries)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct xc cli = { 0 };
	bool hole = true;

	h_knobs(&k);
	k.rto_init_ms = rto_init;
	k.rto_max_ms = rto_max;
	k.syn_retries = retries;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	X.wire = black_hole_a;
	X.wire_arg = &hole;
	CHECK(x_connect(&X, &cli, NULL, 0) == 0);
	x_run(&X);
	for (uint64_t t = 0; t < 4000000 && !cli.ended; t++)
		x_at(&X, X.h.now_us + MS);
	CHECK(cli.ended && cli.end_ev == TWS_EV_ERROR && cli.end_err == ETIMEDOUT);
	CHECKF(X.h.nb_log == retries + 1, "%u SYNs", X.h.nb_log);

	uint64_t t_exp = T0, wait = rto_init;

	for (unsigned int i = 0; i < X.h.nb_log; i++) {
		const struct h_seg *s = &X.h.log[i];

		CHECKF(s->flags == TWS_TCP_SYN && s->seq == X.h.log[0].seq && X.h.log_from[i] == 0,
		       "%s", h_fmt(s));
		CHECKF(X.log_t[i] == t_exp, "SYN %u at %lu ms, expected %lu", i,
		       (unsigned long)((X.log_t[i] - T0) / MS), (unsigned long)((t_exp - T0) / MS));
		t_exp += wait * MS;
		wait = RTE_MIN(wait * 2, rto_max);
	}
	CHECKF(cli.end_us == t_exp, "ETIMEDOUT at %lu ms, expected %lu",
	       (unsigned long)((cli.end_us - T0) / MS), (unsigned long)((t_exp - T0) / MS));
	CHECK(x_stat(&X, 0, "timeouts") == 1 && x_stat(&X, 0, "rto_fired") == retries);
	CHECK(x_stat(&X, 0, "retransmits") == retries && x_stat(&X, 0, "conns") == 0);
	CHECK(x_stat(&X, 1, "rx_segs") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

static void
test_rto_syn_backoff(void)
{
	syn_backoff(1000, 120000, 6);    /* Linux's tcp_syn_retries=6: 1, 3, 7, ... 63, gives up at 127 s */
	if (tws_test_failed)
		return;
	syn_backoff(1000, 4000, 5);      /* the cap: 1, 2, 4, 4, 4, 4 */
	if (tws_test_failed)
		return;
	syn_backoff(200, 120000, 1);
}

/*
 * Data into a black hole on an established connection: RTO from the
 * measured RTT (RFC 6298 2.3: SRTT + max(G, 4 RTTVAR), at least rto_min),
 * doubled on each timeout (5.5), `retries` retransmissions, then ETIMEDOUT.
 */
static void
test_rto_data_backoff(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	struct tws_tcp_knobs k;
	struct xc cli = { 0 }, srv = { 0 };
	bool hole = false;

	h_knobs(&k);
	k.retries = 5;
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	X.wire = black_hole_a;
	X.wire_arg = &hole;
	cli.tx_len = 1000;
	cli.tx_when = X_TX_MANUAL;
	srv.rx_expect = 1000;
	CHECK(x_connect(&X, &cli, &srv, 0) == 0);
	x_run(&X);
	x_at(&X, X.h.now_us + 100 * MS);
	CHECK(cli.opened && srv.opened && pending_none());

	struct tws_conn_info ci;

	tws_conn_info_get(cli.conn, &ci);
	/* The handshake's RTT is 0 here: RTO = max(rto_min, 0 + max(1 ms, 0)). */
	CHECKF(ci.rto_ms == k.rto_min_ms, "rto %u", ci.rto_ms);

	unsigned int first = X.h.nb_log;
	uint64_t t_send = X.h.now_us;

	hole = true;
	x_xc_start(&cli);
	x_run(&X);
	for (uint64_t t = 0; t < 2000000 && !cli.ended; t++)
		x_at(&X, X.h.now_us + MS);
	CHECK(cli.ended && cli.end_ev == TWS_EV_ERROR && cli.end_err == ETIMEDOUT);
	CHECKF(X.h.nb_log - first == k.retries + 1, "%u segments", X.h.nb_log - first);

	uint64_t t_exp = t_send, wait = ci.rto_ms;

	for (unsigned int i = first; i < X.h.nb_log; i++) {
		const struct h_seg *s = &X.h.log[i];

		CHECKF(s->len == 1000 && s->seq == ci.snd_nxt && X.h.log_from[i] == 0, "%s",
		       h_fmt(s));
		CHECKF(X.log_t[i] == t_exp, "segment %u at +%lu ms, expected +%lu", i - first,
		       (unsigned long)((X.log_t[i] - t_send) / MS),
		       (unsigned long)((t_exp - t_send) / MS));
		t_exp += wait * MS;
		wait = RTE_MIN(wait * 2, (uint64_t)k.rto_max_ms);
	}
	CHECKF(cli.end_us == t_exp, "ETIMEDOUT at +%lu ms, expected +%lu",
	       (unsigned long)((cli.end_us - t_send) / MS), (unsigned long)((t_exp - t_send) / MS));
	CHECK(x_stat(&X, 0, "timeouts") == 1 && x_stat(&X, 0, "retransmits") == k.retries);
	CHECK(srv.rx_got == 0 && !srv.ended);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */
/* (e) sequence numbers that wrap                                            */
/* ------------------------------------------------------------------------ */

/* The clock (µs, a multiple of 4) at which tuple t's ISN is `isn` (RFC 6528: M + F). */
static uint64_t
clock_for_isn(const struct tws_tuple *t, uint32_t isn, unsigned int epoch)
{
	struct tws_tcp_secret sec;

	tws_tcp_secret_set(&sec, x_secret);

	uint32_t f = tws_tcp_isn(&sec, t, 0);

	return 4 * ((uint64_t)(uint32_t)(isn - f) + ((uint64_t)epoch << 32));
}

/*
 * Two stacks whose ISNs sit just below 2^32 (each stack's clock chosen so
 * RFC 6528 puts them there): 1 MB each way with 1% loss crosses the wrap
 * in both directions, every byte right.
 */
static void
test_seq_wrap_stacks(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	const uint16_t cport = 40000;
	const uint32_t isn_a = 0xFFFFFFFFu - 5000, isn_b = 0xFFFFFFFFu - 7000;
	struct tws_tuple ta = { .laddr = H_ADDR_A, .raddr = H_ADDR_B,
				.lport = rte_cpu_to_be_16(cport), .rport = H_PORT };
	struct tws_tuple tb = mirror(&ta);
	uint64_t t_a = clock_for_isn(&ta, isn_a, 1), t_b = clock_for_isn(&tb, isn_b, 2);
	struct tws_tcp_knobs k;
	struct impair im = { .mode = IMP_RANDOM, .ppm = 10000, .rng = 42 };
	struct xc cli = { 0 }, srv = { 0 };
	const uint64_t len = 1u << 20;

	CHECK(t_b > t_a);
	h_knobs(&k);
	cli.tx_len = srv.tx_len = len;
	cli.rx_expect = srv.rx_expect = len;
	cli.close_when_done = srv.close_when_done = true;
	CHECK(x_init(&X, &k, &k, t_a, t_b - t_a) == 0);
	X.wire = impair_wire;
	X.wire_arg = &im;
	CHECK(x_connect(&X, &cli, &srv, cport) == 0);
	x_run(&X);
	CHECK(cli.opened && srv.opened);

	struct tws_conn_info ia, ib;

	tws_conn_info_get(cli.conn, &ia);
	tws_conn_info_get(srv.conn, &ib);
	CHECKF(ia.iss == isn_a && ib.iss == isn_b && ia.irs == isn_b && ib.irs == isn_a,
	       "iss %x %x irs %x %x", ia.iss, ib.iss, ia.irs, ib.irs);
	CHECK(x_drive(&X, x_all_ended, NULL, 5 * MS, 600000 * MS));
	CHECKF(x_xc_ok(&cli) && x_xc_ok(&srv), "%s | %s", x_xc_fmt(&cli), x_xc_fmt(&srv));
	CHECK(X.nb_dropped > 0 && x_stat(&X, 0, "retransmits") > 0);

	/* Both directions went past 2^32: the final sequence numbers are small. */
	bool wrapped[2] = { false, false };

	for (unsigned int i = 0; i < X.h.nb_log; i++)
		if (X.h.log[i].len > 0 && X.h.log[i].seq < 0x10000000u)
			wrapped[X.h.log_from[i]] = true;
	CHECK(wrapped[0] && wrapped[1]);

	struct tws_tw_view tw;
	enum tws_tcp_state sa = tws_stack_lookup(X.h.a.st, &ta, NULL, &tw);

	if (sa != TWS_TIME_WAIT)
		CHECK(tws_stack_lookup(X.h.b.st, &tb, NULL, &tw) == TWS_TIME_WAIT);
	CHECKF(tw.snd_nxt < 0x200000u && tw.rcv_nxt < 0x200000u, "tw %x/%x", tw.snd_nxt,
	       tw.rcv_nxt);
	CHECK(x_stat(&X, 0, "conns") == 0 && x_stat(&X, 1, "conns") == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* Build and feed a segment from the scripted peer C to B. Returns the reject reason or -1. */
static int
peer_send(uint16_t cport, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t tsval,
	  uint32_t tsecr, const uint8_t *data, uint32_t len)
{
	struct h_inject in = {
		.saddr = H_ADDR_C, .daddr = H_ADDR_B, .sport = cport, .dport = 80,
		.flags = flags, .seq = seq, .ack = ack, .window = 65535, .has_ts = true,
		.tsval = tsval, .tsecr = tsecr, .payload = data, .len = len,
		.syn = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 0,
			 .sack_ok = true },
	};
	struct rte_mbuf *m = h_build(&in);

	return m == NULL ? -2 : x_feed(&X, 1, m);
}

/* What B sent, payload bytes appended to out (at most cap). Returns the count. */
static unsigned int
peer_take(struct h_seg *segs, unsigned int max, uint8_t *out, uint64_t *out_len, uint64_t cap)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while ((m = x_grab(&X, 1)) != NULL) {
		if (n < max && h_decode(m, &segs[n]) == 0) {
			uint8_t buf[2048];
			uint32_t l = x_payload(m, buf, sizeof(buf));

			if (out != NULL && *out_len + l <= cap)
				memcpy(out + *out_len, buf, l);
			if (out_len != NULL)
				*out_len += l;
			n++;
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

/*
 * A scripted peer whose ISN is 0xFFFFFF00 talks to stack B whose ISN is
 * 0xFFFFFFF0: data, ACKs, an old duplicate, a segment straddling
 * rcv_nxt, and the FINs, all across the wrap, with exact numbers.
 */
static void
test_seq_wrap_scripted(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	const uint16_t cport = 50000;
	const uint32_t irs = 0xFFFFFF00u, iss = 0xFFFFFFF0u;
	struct tws_tuple tb = { .laddr = H_ADDR_B, .raddr = H_ADDR_C, .lport = H_PORT,
				.rport = rte_cpu_to_be_16(cport) };
	uint64_t t_b = clock_for_isn(&tb, iss, 1);
	struct tws_tcp_knobs k;
	struct xc srv = { 0 };
	struct h_seg s[64];
	static uint8_t req[1000], resp[8192];
	uint64_t resp_len = 0;
	uint32_t ts = 1000;

	h_knobs(&k);
	CHECK(x_init(&X, &k, &k, t_b, 0) == 0);
	srv.side = 1;
	srv.cport = cport;
	srv.rx_expect = sizeof(req);
	srv.tx_len = 5000;
	srv.tx_when = X_TX_AFTER_RX;
	srv.close_on_peer_fin = true;
	x_add(&X, &srv);
	for (unsigned int i = 0; i < sizeof(req); i++)
		req[i] = x_pattern(i);

	/* Handshake. */
	CHECK(peer_send(cport, TWS_TCP_SYN, irs, 0, ts, 0, NULL, 0) == -1);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
	CHECKF(s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK) && s[0].seq == iss && s[0].ack == irs + 1,
	       "%s", h_fmt(&s[0]));

	uint32_t b_ts = s[0].tsval;

	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1, iss + 1, ++ts, b_ts, NULL, 0) == -1);
	CHECK(srv.opened && peer_take(s, 64, NULL, NULL, 0) == 0);

	/* Ten 100-byte segments: the third crosses 2^32. Each ACKed (under an MSS). */
	uint32_t seq = irs + 1;

	for (unsigned int i = 0; i < 10; i++) {
		CHECK(peer_send(cport, TWS_TCP_ACK | TWS_TCP_PSH, seq, iss + 1, ++ts, b_ts,
				req + 100 * i, 100) == -1);
		seq += 100;
		if (i == 9)
			break; /* the last one draws the response */
		CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
		CHECKF(s[0].flags == TWS_TCP_ACK && s[0].ack == seq && s[0].seq == iss + 1, "%s",
		       h_fmt(&s[0]));
	}
	CHECK(seq == irs + 1 + 1000 && seq == 0x2E9);
	CHECK(srv.rx_got == 1000 && srv.rx_bad == 0);

	/* The response (from iss + 1 = 0xFFFFFFF1) crosses 2^32 in its first segment. */
	unsigned int n = peer_take(s, 64, resp, &resp_len, sizeof(resp));
	uint32_t bseq = iss + 1;

	CHECKF(n >= 2 && resp_len == 5000 - 0, "%u segments, %lu bytes", n,
	       (unsigned long)resp_len);
	for (unsigned int i = 0; i < n; i++) {
		CHECKF(s[i].seq == bseq && s[i].ack == seq, "%s", h_fmt(&s[i]));
		bseq += s[i].len;
	}
	CHECK(bseq == iss + 1 + 5000 && bseq < iss);
	for (unsigned int i = 0; i < 5000; i++)
		CHECKF(resp[i] == x_pattern(i), "response byte %u", i);

	/* ACK of the first 1460 (ack wraps to 0x5A5): B's snd_una wraps. */
	CHECK(peer_send(cport, TWS_TCP_ACK, seq, iss + 1 + 1460, ++ts, b_ts, NULL, 0) == -1);

	struct tws_conn_info ci;

	tws_conn_info_get(srv.conn, &ci);
	CHECKF(ci.snd_una == iss + 1 + 1460 && ci.snd_una == 0x5A5 && ci.rcv_nxt == seq,
	       "una %x nxt %x", ci.snd_una, ci.rcv_nxt);
	CHECK(ci.snd_max == bseq);
	/* An ACK beyond what was sent (by 1) is refused and answered. */
	CHECK(peer_send(cport, TWS_TCP_ACK, seq, bseq + 1, ++ts, b_ts, NULL, 0) == -1);
	CHECK(x_stat(&X, 1, "ack_invalid") == 1);
	tws_conn_info_get(srv.conn, &ci);
	CHECK(ci.snd_una == iss + 1 + 1460);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1 && s[0].ack == seq && s[0].seq == bseq);
	/* All acknowledged. */
	CHECK(peer_send(cport, TWS_TCP_ACK, seq, bseq, ++ts, b_ts, NULL, 0) == -1);
	tws_conn_info_get(srv.conn, &ci);
	CHECK(ci.snd_una == bseq && ci.unacked == 0);

	/* An old duplicate from before the wrap: ACKed, not delivered again. */
	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1, bseq, ++ts, b_ts, req, 100) == -1);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1 && s[0].ack == seq && s[0].flags == TWS_TCP_ACK);
	CHECK(srv.rx_got == 1000);
	/* Straddling rcv_nxt: 50 old bytes, 50 new. */
	static uint8_t more[100];

	for (unsigned int i = 0; i < 100; i++)
		more[i] = x_pattern(950 + i);
	srv.rx_expect = 1050;
	CHECK(peer_send(cport, TWS_TCP_ACK, seq - 50, bseq, ++ts, b_ts, more, 100) == -1);
	CHECK(srv.rx_got == 1050 && srv.rx_bad == 0);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1 && s[0].ack == seq + 50);
	seq += 50;

	/* FIN from the peer: B closes too (LAST_ACK), its FIN ACKed: CLOSED. */
	CHECK(peer_send(cport, TWS_TCP_FIN | TWS_TCP_ACK, seq, bseq, ++ts, b_ts, NULL, 0) == -1);
	CHECK(srv.peer_closed && tws_conn_state(srv.conn) == TWS_LAST_ACK);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
	CHECKF(s[0].flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s[0].seq == bseq && s[0].ack == seq + 1,
	       "%s", h_fmt(&s[0]));
	CHECK(peer_send(cport, TWS_TCP_ACK, seq + 1, bseq + 1, ++ts, b_ts, NULL, 0) == -1);
	CHECK(srv.ended && srv.end_ev == TWS_EV_CLOSED && x_stat(&X, 1, "conns") == 0);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/* ------------------------------------------------------------------------ */
/* The out-of-order queue                                                    */
/* ------------------------------------------------------------------------ */

/* Bytes [a, b) of the pattern stream from the scripted peer (seq irs + 1 + a). */
static int
peer_bytes(uint16_t cport, uint32_t irs, uint32_t ack, uint32_t tsval, uint32_t tsecr,
	   uint32_t a, uint32_t b, bool fin)
{
	static uint8_t buf[1460];

	if (b - a > sizeof(buf))
		return -3;
	for (uint32_t i = a; i < b; i++)
		buf[i - a] = x_pattern(i);
	return peer_send(cport, (uint8_t)(TWS_TCP_ACK | (fin ? TWS_TCP_FIN : 0)), irs + 1 + a, ack,
			 tsval, tsecr, buf, b - a);
}

/*
 * RFC 9293 3.10.7.4 (segment text): segments beyond a gap are kept and
 * each answered at once with a duplicate ACK (RFC 5681 4.2); the segment
 * that fills the gap releases them all in order, ACKed at once; overlaps
 * are cut, duplicates dropped, a FIN that came early counts when its turn
 * comes; at most 64 are kept per connection, and the mbufs they hold go
 * back to the pool when the connection ends.
 */
static void
test_ooo_queue(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	const uint16_t cport = 6000;
	const uint32_t irs = 123456789;
	struct tws_tcp_knobs k;
	struct xc srv = { 0 };
	struct h_seg s[64];
	uint32_t ts = 100, b_ts, iss;

	h_knobs(&k);
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	srv.side = 1;
	srv.cport = cport;
	srv.rx_expect = 13000;
	x_add(&X, &srv);
	CHECK(peer_send(cport, TWS_TCP_SYN, irs, 0, ts, 0, NULL, 0) == -1);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
	iss = s[0].seq;
	b_ts = s[0].tsval;
	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1, iss + 1, ++ts, b_ts, NULL, 0) == -1);
	CHECK(srv.opened);

	/*
	 * Segments 9 .. 1 of ten 1000-byte ones, in reverse: each kept, each a
	 * duplicate ACK (same ACK, same window: the sender counts it).
	 */
	uint16_t win = 0;

	for (int i = 9; i >= 1; i--) {
		CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 1000u * i, 1000u * (i + 1), false) ==
		      -1);
		CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
		if (i == 9)
			win = s[0].window;
		CHECKF(s[0].flags == TWS_TCP_ACK && s[0].ack == irs + 1 && s[0].window == win &&
		       s[0].len == 0, "%s", h_fmt(&s[0]));
	}
	CHECK(x_stat(&X, 1, "ooo_queued") == 9 && x_stat(&X, 1, "ooo_dropped") == 0);
	CHECK(srv.rx_got == 0 && srv.nb_data == 0);
	/* Nine mbufs held. */
	CHECKF(x_pool_avail() == base - 9, "pool %u, base %u", x_pool_avail(), base);
	/* A duplicate of one kept, and one overlapping two kept: nothing new, dropped. */
	CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 5000, 6000, false) == -1);
	CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 5500, 6000, false) == -1);
	CHECK(x_stat(&X, 1, "ooo_dropped") == 2 && x_stat(&X, 1, "ooo_queued") == 9);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 2 && s[1].ack == irs + 1);
	/* Bytes 0 .. 1400 fill the gap and overlap segment 1: all 10000 delivered, ACKed at once. */
	CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 0, 1400, false) == -1);
	CHECKF(srv.rx_got == 10000 && srv.rx_bad == 0 && srv.nb_data == 1, "%s", x_xc_fmt(&srv));
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
	CHECKF(s[0].flags == TWS_TCP_ACK && s[0].ack == irs + 1 + 10000, "%s", h_fmt(&s[0]));
	CHECKF(x_pool_avail() == base, "pool %u, base %u", x_pool_avail(), base);

	/* The last segment with the FIN first, then the one before it, then the gap. */
	CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 12000, 13000, true) == -1);
	CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 11000, 12000, false) == -1);
	CHECK(!srv.peer_closed && tws_conn_state(srv.conn) == TWS_ESTABLISHED);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 2 && s[0].ack == irs + 10001 &&
	      s[1].ack == irs + 10001);
	CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 10000, 11000, false) == -1);
	CHECKF(srv.rx_got == 13000 && srv.rx_bad == 0 && srv.peer_closed, "%s", x_xc_fmt(&srv));
	CHECK(tws_conn_state(srv.conn) == TWS_CLOSE_WAIT);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
	CHECKF(s[0].flags == TWS_TCP_ACK && s[0].ack == irs + 1 + 13000 + 1, "%s", h_fmt(&s[0]));
	CHECK(x_stat(&X, 1, "ooo_queued") == 11);
	/* The peer did not hear that ACK: its last segment (data + FIN), then the FIN alone, again. */
	CHECK(peer_bytes(cport, irs, iss + 1, ++ts, b_ts, 12000, 13000, true) == -1);
	CHECK(peer_send(cport, TWS_TCP_FIN | TWS_TCP_ACK, irs + 1 + 13000, iss + 1, ++ts, b_ts, NULL,
			0) == -1);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 2);
	for (int i = 0; i < 2; i++)
		CHECKF(s[i].flags == TWS_TCP_ACK && s[i].ack == irs + 1 + 13000 + 1, "%s",
		       h_fmt(&s[i]));
	CHECK(srv.rx_got == 13000 && tws_conn_state(srv.conn) == TWS_CLOSE_WAIT);
	CHECK(h_count_events(&X.h.b, TWS_EV_PEER_CLOSED) == 1);

	/*
	 * The cap: a second connection gets 70 segments of 10 bytes past a gap;
	 * 64 are kept (64 mbufs held), then its peer resets it: all come back.
	 */
	const uint16_t cport2 = 6001;
	struct xc srv2 = { 0 };
	unsigned int before;

	srv2.side = 1;
	srv2.cport = cport2;
	x_add(&X, &srv2);
	CHECK(peer_send(cport2, TWS_TCP_SYN, irs, 0, ts, 0, NULL, 0) == -1);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1);
	iss = s[0].seq;
	CHECK(peer_send(cport2, TWS_TCP_ACK, irs + 1, iss + 1, ++ts, b_ts, NULL, 0) == -1);
	CHECK(srv2.opened);
	before = x_pool_avail();
	for (uint32_t i = 1; i <= 70; i++)
		CHECK(peer_bytes(cport2, irs, iss + 1, ++ts, b_ts, 20 * i, 20 * i + 10, false) == -1);
	peer_take(s, 64, NULL, NULL, 0);
	peer_take(s, 64, NULL, NULL, 0);
	CHECK(x_stat(&X, 1, "ooo_queued") == 11 + 64 && x_stat(&X, 1, "ooo_dropped") == 2 + 6);
	CHECKF(x_pool_avail() == before - 64, "pool %u, before %u", x_pool_avail(), before);
	CHECK(peer_send(cport2, TWS_TCP_RST, irs + 1, 0, ++ts, b_ts, NULL, 0) == -1);
	CHECK(srv2.ended && srv2.end_ev == TWS_EV_RESET);
	CHECKF(x_pool_avail() == before, "pool %u, before %u", x_pool_avail(), before);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

/*
 * A retransmission of data already received and not yet acknowledged (our
 * delayed ACK, or an ACK that was lost) is ACKed at once, as Linux's
 * tcp_data_queue() does: an exact duplicate ending at RCV.NXT, and one
 * ending before it. Without that ACK the sender retransmits the same
 * segment until it gives up (seen under 5 % loss: test_faults).
 */
static void
test_dup_data_acked_at_once(void)
{
	x_reset(&X);

	unsigned int base = x_pool_avail();
	const uint16_t cport = 50001;
	struct tws_tcp_knobs k;
	struct xc srv = { 0 };
	struct h_seg s[64];
	static uint8_t data[2896];
	uint32_t ts = 1000, irs = 5000;

	h_knobs(&k);
	CHECK(x_init(&X, &k, &k, T0, 0) == 0);
	srv.side = 1;
	srv.cport = cport;
	srv.rx_expect = sizeof(data);
	x_add(&X, &srv);
	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = x_pattern(i);
	CHECK(peer_send(cport, TWS_TCP_SYN, irs, 0, ts, 0, NULL, 0) == -1);
	CHECK(peer_take(s, 64, NULL, NULL, 0) == 1 && s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK));

	uint32_t iss = s[0].seq, b_ts = s[0].tsval;

	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1, iss + 1, ++ts, b_ts, NULL, 0) == -1);
	CHECK(srv.opened && peer_take(s, 64, NULL, NULL, 0) == 0);

	/* One full segment; its ACK is lost (taken off the wire). */
	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1, iss + 1, ++ts, b_ts, data, 1448) == -1);
	x_at(&X, T0 + 100 * MS); /* past the delayed ACK */
	peer_take(s, 64, NULL, NULL, 0);
	/* The same segment again (retransmitted): an ACK at once. */
	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1, iss + 1, ++ts, b_ts, data, 1448) == -1);
	CHECKF(peer_take(s, 64, NULL, NULL, 0) == 1 && s[0].flags == TWS_TCP_ACK &&
	       s[0].ack == irs + 1 + 1448 && s[0].len == 0, "%s", h_fmt(&s[0]));
	/* The next segment, then a copy of the first (ending before RCV.NXT): ACKed too. */
	x_at(&X, T0 + 1000 * MS);
	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1 + 1448, iss + 1, ++ts, b_ts, data + 1448,
			1448) == -1);
	peer_take(s, 64, NULL, NULL, 0);
	CHECK(peer_send(cport, TWS_TCP_ACK, irs + 1, iss + 1, ++ts, b_ts, data, 1448) == -1);
	CHECKF(peer_take(s, 64, NULL, NULL, 0) == 1 && s[0].ack == irs + 1 + 2896, "%s",
	       h_fmt(&s[0]));
	CHECK(srv.rx_got == sizeof(data) && srv.rx_bad == 0);
	x_free(&X);
	CHECKF(x_pool_avail() == base, "pool %u, was %u", x_pool_avail(), base);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_close_client_first),
		TWS_TEST(test_close_server_first),
		TWS_TEST(test_close_simultaneous),
		TWS_TEST(test_rst_from_client),
		TWS_TEST(test_rst_from_server),
		TWS_TEST(test_rst_with_buffers),
		TWS_TEST(test_data_lengths),
		TWS_TEST(test_zero_window),
		TWS_TEST(test_loss_each_segment),
		TWS_TEST(test_reorder_each_segment),
		TWS_TEST(test_duplicate_each_segment),
		TWS_TEST(test_bulk_loss_1pct),
		TWS_TEST(test_bulk_loss_5pct),
		TWS_TEST(test_rto_syn_backoff),
		TWS_TEST(test_rto_data_backoff),
		TWS_TEST(test_seq_wrap_stacks),
		TWS_TEST(test_seq_wrap_scripted),
		TWS_TEST(test_dup_data_acked_at_once),
		TWS_TEST(test_ooo_queue),
	};

	(void)argc;
	h_init(argv[0]);

	int rc = tws_test_run(cases, TWS_NCASES(cases));

	x_reset(&X);
	return rc;
}
