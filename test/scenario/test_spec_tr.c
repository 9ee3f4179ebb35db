/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Spec section 7, scenarios T1..T8 and R1, end to end through the engine:
 * a TIME_WAIT entry is made by a real close (A closes first: A holds it; B
 * closes first: the server B holds it), or by a scripted peer driving one
 * stack (T8: sequence numbers and timestamps placed near 2^32). Segments
 * are then injected into the holder at chosen times and its replies, its
 * counters and its table are checked exactly. Time is injected only.
 *
 * Expected values come from the wire (the holder's last ACK gives snd_nxt,
 * rcv_nxt, ts_recent and its timestamp clock), never from the engine's own
 * view alone; the view is checked against them.
 */
#include <string.h>

#include "harness.h"

#define MS 1000ull                 /* µs per ms */
#define TW_MS 60000ull             /* default tw_timeout_ms */
#define OOW_MS 500ull              /* default oow_ack_interval_ms */
#define PEER_PORT 40000            /* scripted peer's port (T8) */

static struct h_net net;
static struct h_node solo;         /* T8: one stack, scripted peer */

/* The harness's fixed secret (harness.c): ISNs and timestamp offsets of the stacks. */
static const uint8_t h_secret[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

/* CHECK for helpers returning bool. */

/* Free what a failed earlier case left behind (CHECK returns early). */
static void
cleanup(void)
{
	h_net_free(&net);
	if (solo.st != NULL)
		h_node_free(&solo);
}

static int
net_start(const struct tws_tcp_knobs *ka, const struct tws_tcp_knobs *kb)
{
	cleanup();
	return h_net_init(&net, ka, kb);
}

/* A TIME_WAIT entry under test and how to talk to it. */
struct tw {
	struct h_node *n;          /* the holder */
	rte_be32_t haddr, paddr;   /* holder, peer */
	uint16_t hport, pport;     /* host order */
	struct tws_tuple key;      /* holder's view */
	uint32_t snd_nxt, rcv_nxt, ts_recent;
	uint32_t ts_base;          /* holder's tsval in its last ACK ... */
	uint64_t base_ms;          /* ... sent at this ms, when the entry was made */
	uint16_t win;              /* window of that ACK */
};

static void
tw_set_addrs(struct tw *t, struct h_node *n, rte_be32_t haddr, uint16_t hport, rte_be32_t paddr,
	     uint16_t pport)
{
	t->n = n;
	t->haddr = haddr;
	t->paddr = paddr;
	t->hport = hport;
	t->pport = pport;
	t->key = (struct tws_tuple){ .laddr = haddr, .raddr = paddr,
				     .lport = rte_cpu_to_be_16(hport),
				     .rport = rte_cpu_to_be_16(pport) };
}

static enum tws_tcp_state
tw_lookup(const struct tw *t, struct tws_tw_view *v)
{
	struct tws_tw_view dummy;

	return tws_stack_lookup(t->n->st, &t->key, NULL, v != NULL ? v : &dummy);
}

/* The entry exists and holds what the wire said. */
static bool
tw_check_entry(const struct tw *t)
{
	struct tws_tw_view v;
	enum tws_tcp_state s = tw_lookup(t, &v);

	HC(s == TWS_TIME_WAIT, "state %s", tws_tcp_state_name(s));
	HC(v.snd_nxt == t->snd_nxt && v.rcv_nxt == t->rcv_nxt,
	   "view snd_nxt %u rcv_nxt %u, wire %u %u", v.snd_nxt, v.rcv_nxt, t->snd_nxt, t->rcv_nxt);
	HC(v.has_ts && v.ts_recent == t->ts_recent, "view ts %d/%u, wire %u", v.has_ts,
	   v.ts_recent, t->ts_recent);
	return true;
}

/* The holder's timestamp clock at at_us (RFC 7323: 1 ms ticks here). */
static uint32_t
tw_tsval_at(const struct tw *t, uint64_t at_us)
{
	return t->ts_base + (uint32_t)(at_us / MS - t->base_ms);
}

/* A segment from the peer to the holder at at_us. Returns rx_burst's count. */
static uint16_t
inj(const struct tw *t, uint8_t flags, uint32_t seq, uint32_t ack, bool has_ts, uint32_t tsval,
    uint64_t at_us)
{
	struct h_inject in = {
		.saddr = t->paddr, .daddr = t->haddr, .sport = t->pport, .dport = t->hport,
		.flags = flags, .seq = seq, .ack = (flags & TWS_TCP_ACK) ? ack : 0,
		.window = 1024, .has_ts = has_ts, .tsval = tsval,
		.tsecr = has_ts && (flags & TWS_TCP_ACK) ? t->ts_base : 0,
	};

	if (flags & TWS_TCP_SYN)
		in.syn = (struct tws_tcp_opts){ .has_mss = true, .mss = 1460, .has_wscale = true,
						.wscale = 7, .sack_ok = true };
	if (at_us > net.now_us)
		net.now_us = at_us;
	return h_inject(t->n, &in, at_us);
}

/* Nothing was sent by node n. */
static bool
expect_none(struct h_node *n)
{
	struct h_seg s[8];
	unsigned int k = h_take(n, s, 8);

	HC(k == 0, "%u segments, first %s", k, h_fmt(&s[0]));
	return true;
}

/* Exactly one segment was sent by the holder: ACK <SEQ=snd_nxt><ACK=rcv_nxt>, TSval/TSecr. */
static bool
expect_tw_ack(const struct tw *t, uint64_t at_us, uint32_t tsecr)
{
	struct h_seg s[8];
	unsigned int k = h_take(t->n, s, 8);

	HC(k == 1, "%u segments, first %s", k, h_fmt(&s[0]));
	HC(s[0].flags == TWS_TCP_ACK, "%s", h_fmt(&s[0]));
	HC(s[0].saddr == t->haddr && s[0].daddr == t->paddr && s[0].sport == t->hport &&
	   s[0].dport == t->pport, "%s", h_fmt(&s[0]));
	HC(s[0].seq == t->snd_nxt && s[0].ack == t->rcv_nxt, "%s, want seq=%u ack=%u",
	   h_fmt(&s[0]), t->snd_nxt, t->rcv_nxt);
	HC(s[0].len == 0, "%s", h_fmt(&s[0]));
	HC(s[0].has_ts && s[0].tsecr == tsecr, "%s, want tsecr=%u", h_fmt(&s[0]), tsecr);
	HC(s[0].tsval == tw_tsval_at(t, at_us), "%s, want tsval=%u", h_fmt(&s[0]),
	   tw_tsval_at(t, at_us));
	HC(s[0].window == t->win, "%s, want win=%u", h_fmt(&s[0]), t->win);
	return true;
}

/* Exactly one RST from the holder's tuple (no entry, no listener there). */
static bool
expect_rst(const struct tw *t, uint32_t seq)
{
	struct h_seg s[8];
	unsigned int k = h_take(t->n, s, 8);

	HC(k == 1, "%u segments", k);
	HC((s[0].flags & TWS_TCP_RST) && s[0].seq == seq, "%s, want RST seq=%u", h_fmt(&s[0]),
	   seq);
	return true;
}

/* ---- TIME_WAIT from a real close between the two stacks ---- */

/* A connects to B:80 at the current time. */
static struct tws_conn *
open_conn(void)
{
	struct tws_conn *c = NULL;

	if (tws_connect(net.a.st, &(struct tws_connect_params){
		.laddr = H_ADDR_A, .raddr = H_ADDR_B, .rport = H_PORT }, &c) != 0)
		return NULL;
	h_net_run(&net);
	return tws_conn_state(c) == TWS_ESTABLISHED ? c : NULL;
}

/*
 * After a close, fill t from the wire: the holder's last segment is its
 * final ACK of the peer's FIN (the peer's last segment).
 */
static bool
tw_from_wire(struct tw *t, int holder)
{
	const struct h_seg *ack = h_last_from(&net, holder), *fin = h_last_from(&net, 1 - holder);
	struct h_node *peer = holder == 0 ? &net.b : &net.a;

	HC(ack != NULL && fin != NULL, "%s", "no segments");
	HC(ack->flags == TWS_TCP_ACK, "final %s", h_fmt(ack));
	HC(fin->flags == (TWS_TCP_FIN | TWS_TCP_ACK), "peer's last %s", h_fmt(fin));
	HC(ack->ack == fin->seq + 1 && fin->ack == ack->seq, "%s / %s", h_fmt(ack), h_fmt(fin));
	HC(ack->has_ts && ack->tsecr == fin->tsval, "%s / %s", h_fmt(ack), h_fmt(fin));
	t->snd_nxt = ack->seq;
	t->rcv_nxt = ack->ack;
	t->ts_recent = ack->tsecr;
	t->ts_base = ack->tsval;
	t->base_ms = net.now_us / MS;
	t->win = ack->window;
	HC(h_count_events(t->n, TWS_EV_CLOSED) == 1, "%s", "holder: no CLOSED event");
	HC(h_count_events(peer, TWS_EV_CLOSED) == 1, "%s", "peer: no CLOSED event");
	HC(h_stat(t->n, "conns") == 0 && h_stat(peer, "conns") == 0, "%s", "connections left");
	HC(h_stat(t->n, "tw_entries") == 1 && h_stat(peer, "tw_entries") == 0, "%s",
	   "entries: holder 1, peer 0");
	return tw_check_entry(t);
}

/*
 * Open A -> B at 2 s, close at 5 s (so the timestamps of the handshake are
 * older than those of the close). The closer holds TIME_WAIT.
 */
static bool
make_tw(struct tw *t, const struct tws_tcp_knobs *ka, const struct tws_tcp_knobs *kb,
	bool server_closes)
{
	HC(net_start(ka, kb) == 0, "%s", "h_net_init");
	h_net_at(&net, 2000 * MS);

	struct tws_conn *c = open_conn();

	HC(c != NULL, "%s", "connect failed");

	uint16_t aport = rte_be_to_cpu_16(tws_conn_tuple(c)->lport);
	const struct h_event *acc = h_last_event(&net.b, TWS_EV_ACCEPTED);

	HC(acc != NULL, "%s", "no ACCEPTED");
	h_net_at(&net, 5000 * MS);
	if (server_closes) {
		net.a.auto_close_on_peer_fin = true;
		HC(tws_close(acc->conn) == 0, "%s", "close B");
		h_net_run(&net);
		tw_set_addrs(t, &net.b, H_ADDR_B, 80, H_ADDR_A, aport);
		return tw_from_wire(t, 1);
	}
	net.b.auto_close_on_peer_fin = true;
	HC(tws_close(c) == 0, "%s", "close A");
	h_net_run(&net);
	tw_set_addrs(t, &net.a, H_ADDR_A, aport, H_ADDR_B, 80);
	return tw_from_wire(t, 0);
}

/* The peer's timestamp clock: ts_recent was its tsval at base_ms. */
static uint32_t
peer_ts(const struct tw *t, uint64_t at_us)
{
	return t->ts_recent + (uint32_t)(at_us / MS - t->base_ms) + 1;
}

/* Poll the holder at at_us; the entry should (not) be there. */
static bool
poll_expect(const struct tw *t, uint64_t at_us, bool present)
{
	tws_stack_poll(t->n->st, at_us);

	enum tws_tcp_state s = tw_lookup(t, NULL);

	HC(s == (present ? TWS_TIME_WAIT : TWS_CLOSED), "at %llu ms (entry made at %llu): %s",
	   (unsigned long long)(at_us / MS), (unsigned long long)t->base_ms,
	   tws_tcp_state_name(s));
	return true;
}

/* ---- T1: old duplicate SYN ---- */

/* tw_syn_reject=ack: older timestamp, seq <= rcv_nxt -> PAWS, ACK rate limited, entry kept. */
static void
T1_old_duplicate_syn_acked_rate_limited_entry_kept(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, true));

	const struct h_seg old = net.log[0]; /* A's first SYN, 3 s older than the close */
	uint64_t base = t.base_ms * MS;

	CHECKF(old.flags == TWS_TCP_SYN && old.has_ts, "%s", h_fmt(&old));
	CHECK(tws_seq_before(old.tsval, t.ts_recent) && tws_seq_leq(old.seq, t.rcv_nxt));

	uint64_t t1 = base + 1000 * MS;

	CHECK(inj(&t, TWS_TCP_SYN, old.seq, 0, true, old.tsval, t1) == 1);
	CHECK(expect_tw_ack(&t, t1, t.ts_recent));
	CHECK(h_stat(t.n, "tw_paws_rejected") == 1 && h_stat(t.n, "tw_syn_rejected") == 1);
	CHECK(h_stat(t.n, "tw_acked") == 1 && h_stat(t.n, "tw_ack_limited") == 0);
	CHECK(h_stat(t.n, "tw_restarted") == 1); /* PAWS reject restarts the timer */
	CHECK(h_stat(t.n, "tw_syn_accepted") == 0 && h_stat(t.n, "passive_opens") == 1);
	CHECK(tw_check_entry(&t));

	/* The same duplicate again within oow_ack_interval_ms: no reply. */
	uint64_t t2 = t1 + (OOW_MS - 1) * MS;

	CHECK(inj(&t, TWS_TCP_SYN, old.seq, 0, true, old.tsval, t2) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_ack_limited") == 1 && h_stat(t.n, "tw_acked") == 1);
	CHECK(h_stat(t.n, "tw_syn_rejected") == 2 && h_stat(t.n, "tw_paws_rejected") == 2);
	CHECK(tw_check_entry(&t));

	/* A full interval after the last one: answered again. */
	uint64_t t3 = t2 + OOW_MS * MS;

	CHECK(inj(&t, TWS_TCP_SYN, old.seq, 0, true, old.tsval, t3) == 1);
	CHECK(expect_tw_ack(&t, t3, t.ts_recent));
	CHECK(h_stat(t.n, "tw_acked") == 2 && h_stat(t.n, "tw_syn_rejected") == 3);
	CHECK(h_stat(t.n, "tw_syn_accepted") == 0 && h_stat(t.n, "passive_opens") == 1);

	/* Restarted: alive at the original expiry, gone tw_timeout after the last restart. */
	CHECK(poll_expect(&t, base + TW_MS * MS, true));
	CHECK(poll_expect(&t, t3 + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, t3 + TW_MS * MS, false));
	CHECK(h_stat(t.n, "tw_expired") == 1);
	h_net_free(&net);
}

/* tw_syn_reject=drop (RFC 6191): the rejected SYN gets nothing; other segments still ACKed. */
static void
T1_old_duplicate_syn_dropped_with_tw_syn_reject_drop(void)
{
	struct tws_tcp_knobs k, kb;
	struct tw t;

	h_knobs(&k);
	kb = k;
	CHECK(tws_tcp_knob_set(&kb, "tw_syn_reject", "drop", NULL, 0) == 0);
	CHECK(make_tw(&t, &k, &kb, true));

	const struct h_seg old = net.log[0];
	uint64_t base = t.base_ms * MS, t1 = base + 1000 * MS;

	CHECK(old.flags == TWS_TCP_SYN && tws_seq_before(old.tsval, t.ts_recent));
	CHECK(inj(&t, TWS_TCP_SYN, old.seq, 0, true, old.tsval, t1) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_syn_rejected") == 1 && h_stat(t.n, "tw_paws_rejected") == 1);
	CHECK(h_stat(t.n, "tw_acked") == 0 && h_stat(t.n, "tw_ack_limited") == 0);
	CHECK(h_stat(t.n, "tw_syn_accepted") == 0 && h_stat(t.n, "passive_opens") == 1);
	CHECK(tw_check_entry(&t));

	/* Long after any rate limit: still nothing for the SYN. */
	uint64_t t2 = t1 + 5 * OOW_MS * MS;

	CHECK(inj(&t, TWS_TCP_SYN, old.seq, 0, true, old.tsval, t2) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_syn_rejected") == 2 && h_stat(t.n, "tw_acked") == 0);

	/* The knob covers SYNs only: a retransmitted FIN is re-ACKed. */
	uint64_t t3 = t2 + 10 * MS;

	CHECK(inj(&t, TWS_TCP_FIN | TWS_TCP_ACK, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t3),
		  t3) == 1);
	CHECK(expect_tw_ack(&t, t3, t.ts_recent));
	CHECK(h_stat(t.n, "tw_acked") == 1);
	/* The PAWS-rejected SYNs restarted the timer all the same. */
	CHECK(poll_expect(&t, base + TW_MS * MS, true));
	h_net_free(&net);
}

/* SYN not after rcv_nxt, same timestamp (no PAWS, not newer): ACKed, timer NOT restarted. */
static void
T1_syn_not_newer_rejected_without_restart(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, true));

	uint64_t base = t.base_ms * MS, t1 = base + 1000 * MS;

	CHECK(inj(&t, TWS_TCP_SYN, t.rcv_nxt - 1, 0, true, t.ts_recent, t1) == 1);
	CHECK(expect_tw_ack(&t, t1, t.ts_recent));
	CHECK(h_stat(t.n, "tw_syn_rejected") == 1 && h_stat(t.n, "tw_paws_rejected") == 0);
	CHECK(h_stat(t.n, "tw_restarted") == 0 && h_stat(t.n, "tw_acked") == 1);
	CHECK(h_stat(t.n, "tw_syn_accepted") == 0);
	/* No ACK flag, no PAWS reject: the entry ends at its original time. */
	CHECK(poll_expect(&t, base + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, base + TW_MS * MS, false));
	h_net_free(&net);
}

/* ---- T2: retransmitted FIN ---- */

static void
T2_retransmitted_fin_reacked_timer_restarted(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t base = t.base_ms * MS, t1 = base + 10000 * MS;

	CHECK(inj(&t, TWS_TCP_FIN | TWS_TCP_ACK, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t1),
		  t1) == 1);
	CHECK(expect_tw_ack(&t, t1, t.ts_recent));
	CHECK(h_stat(t.n, "tw_acked") == 1 && h_stat(t.n, "tw_restarted") == 1);
	CHECK(h_stat(t.n, "tw_killed") == 0 && h_stat(t.n, "tw_paws_rejected") == 0);
	CHECK(tw_check_entry(&t)); /* rule 3 does not take the FIN's timestamp */

	/* The entry outlives its original expiry by the restart. */
	CHECK(poll_expect(&t, base + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, base + TW_MS * MS, true));
	CHECK(h_stat(t.n, "tw_expired") == 0);
	CHECK(poll_expect(&t, t1 + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, t1 + TW_MS * MS, false));
	CHECK(h_stat(t.n, "tw_expired") == 1 && h_stat(t.n, "tw_entries") == 0);
	h_net_free(&net);
}

/* FIN retransmissions faster than oow_ack_interval_ms: one ACK per interval, each restarts. */
static void
T2_retransmitted_fin_rate_limited_still_restarts(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t base = t.base_ms * MS, t1 = base + 10000 * MS;
	uint8_t fa = TWS_TCP_FIN | TWS_TCP_ACK;

	CHECK(inj(&t, fa, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t1), t1) == 1);
	CHECK(expect_tw_ack(&t, t1, t.ts_recent));

	uint64_t t2 = t1 + (OOW_MS - 1) * MS;

	CHECK(inj(&t, fa, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t2), t2) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_ack_limited") == 1 && h_stat(t.n, "tw_acked") == 1);
	CHECK(h_stat(t.n, "tw_restarted") == 2);

	/* Exactly one interval after the suppressed one: answered. */
	uint64_t t3 = t2 + OOW_MS * MS;

	CHECK(inj(&t, fa, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t3), t3) == 1);
	CHECK(expect_tw_ack(&t, t3, t.ts_recent));
	CHECK(h_stat(t.n, "tw_acked") == 2 && h_stat(t.n, "tw_restarted") == 3);
	CHECK(poll_expect(&t, t3 + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, t3 + TW_MS * MS, false));
	h_net_free(&net);
}

/* Rule 1 (same timer): an in-window bare ACK restarts silently and its timestamp is kept. */
static void
T2_bare_ack_in_window_restarts_silently(void)
{
	struct tws_tcp_knobs k;
	struct tw t;
	struct tws_tw_view v;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t base = t.base_ms * MS, t1 = base + 20000 * MS;
	uint32_t ts1 = peer_ts(&t, t1);

	CHECK(inj(&t, TWS_TCP_ACK, t.rcv_nxt, t.snd_nxt, true, ts1, t1) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_restarted") == 1 && h_stat(t.n, "tw_acked") == 0);
	CHECK(tw_lookup(&t, &v) == TWS_TIME_WAIT);
	CHECKF(v.ts_recent == ts1, "ts_recent %u, want %u", v.ts_recent, ts1);
	CHECKF(v.ts_recent_stamp == t1 / MS, "stamp %llu", (unsigned long long)v.ts_recent_stamp);

	/* The next reply echoes the new timestamp. */
	uint64_t t2 = t1 + 1000 * MS;

	CHECK(inj(&t, TWS_TCP_FIN | TWS_TCP_ACK, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t2),
		  t2) == 1);
	CHECK(expect_tw_ack(&t, t2, ts1));
	CHECK(poll_expect(&t, base + TW_MS * MS, true));
	CHECK(poll_expect(&t, t2 + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, t2 + TW_MS * MS, false));
	h_net_free(&net);
}

/* ---- T3: RST in TIME_WAIT ---- */

static void
T3_exact_rst_kills_entry(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t t1 = t.base_ms * MS + 1000 * MS;

	CHECK(inj(&t, TWS_TCP_RST, t.rcv_nxt, 0, true, peer_ts(&t, t1), t1) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_killed") == 1 && h_stat(t.n, "tw_rst_ignored") == 0);
	CHECK(tw_lookup(&t, NULL) == TWS_CLOSED && h_stat(t.n, "tw_entries") == 0);

	/* Gone for good: the retransmitted FIN now finds nothing and draws an RST. */
	uint64_t t2 = t1 + 10 * MS;

	CHECK(inj(&t, TWS_TCP_FIN | TWS_TCP_ACK, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t2),
		  t2) == 1);
	CHECK(expect_rst(&t, t.snd_nxt));
	CHECK(h_stat(t.n, "tw_acked") == 0);
	h_net_free(&net);
}

static void
T3_exact_rst_without_timestamp_kills_entry(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, true)); /* server side this time */

	uint64_t t1 = t.base_ms * MS + 1000 * MS;

	CHECK(inj(&t, TWS_TCP_RST | TWS_TCP_ACK, t.rcv_nxt, t.snd_nxt, false, 0, t1) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_killed") == 1);
	CHECK(tw_lookup(&t, NULL) == TWS_CLOSED);
	h_net_free(&net);
}

static void
T3_exact_rst_ignored_with_rfc1337(void)
{
	struct tws_tcp_knobs k, ka;
	struct tw t;

	h_knobs(&k);
	ka = k;
	ka.rfc1337 = 1;
	CHECK(make_tw(&t, &ka, &k, false));

	uint64_t base = t.base_ms * MS, t1 = base + 1000 * MS;

	CHECK(inj(&t, TWS_TCP_RST, t.rcv_nxt, 0, true, peer_ts(&t, t1), t1) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_killed") == 0 && h_stat(t.n, "tw_rst_ignored") == 1);
	CHECK(tw_lookup(&t, NULL) == TWS_TIME_WAIT);
	CHECK(h_stat(t.n, "tw_restarted") == 0);

	/* The entry still works: a retransmitted FIN is re-ACKed. */
	uint64_t t2 = t1 + 10 * MS;

	CHECK(inj(&t, TWS_TCP_FIN | TWS_TCP_ACK, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t2),
		  t2) == 1);
	CHECK(h_take(t.n, (struct h_seg[4]){ 0 }, 4) == 1);
	CHECK(h_stat(t.n, "tw_acked") == 1);
	h_net_free(&net);
}

static void
T3_out_of_window_rst_dropped(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t base = t.base_ms * MS, t1 = base + 1000 * MS;

	CHECK(inj(&t, TWS_TCP_RST, t.rcv_nxt + 1, 0, true, peer_ts(&t, t1), t1) == 1);
	CHECK(inj(&t, TWS_TCP_RST, t.rcv_nxt - 1, 0, true, peer_ts(&t, t1), t1) == 1);
	CHECK(inj(&t, TWS_TCP_RST | TWS_TCP_ACK, t.rcv_nxt + 100000, t.snd_nxt, false, 0, t1) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_rst_ignored") == 3 && h_stat(t.n, "tw_killed") == 0);
	CHECK(h_stat(t.n, "tw_restarted") == 0 && h_stat(t.n, "tw_acked") == 0);
	CHECK(tw_check_entry(&t));
	/* Not restarted by them: expires at the original time. */
	CHECK(poll_expect(&t, base + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, base + TW_MS * MS, false));
	h_net_free(&net);
}

/* An exact RST with an old timestamp fails PAWS (dropped) until ts_recent is 60 s old. */
static void
T3_exact_rst_old_timestamp_paws_dropped_then_exempt(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t base = t.base_ms * MS, t1 = base + 1000 * MS;
	uint32_t old_ts = t.ts_recent - 1000;

	CHECK(inj(&t, TWS_TCP_RST, t.rcv_nxt, 0, true, old_ts, t1) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_paws_rejected") == 1 && h_stat(t.n, "tw_rst_ignored") == 1);
	CHECK(h_stat(t.n, "tw_killed") == 0 && tw_lookup(&t, NULL) == TWS_TIME_WAIT);

	/* Keep the entry past 60 s without a new timestamp: rule 3 restarts, keeps ts_recent. */
	uint64_t t2 = base + 30000 * MS;

	CHECK(inj(&t, TWS_TCP_FIN | TWS_TCP_ACK, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, t2),
		  t2) == 1);
	CHECK(expect_tw_ack(&t, t2, t.ts_recent));

	uint64_t t3 = base + (TW_MS - 1) * MS;

	CHECK(inj(&t, TWS_TCP_RST, t.rcv_nxt, 0, true, old_ts, t3) == 1);
	CHECK(h_stat(t.n, "tw_killed") == 0 && h_stat(t.n, "tw_rst_ignored") == 2);
	CHECK(tw_lookup(&t, NULL) == TWS_TIME_WAIT);

	/* ts_recent is now older than 60 s: the RST is exempt from PAWS and kills. */
	uint64_t t4 = base + (TW_MS + 1) * MS;

	CHECK(inj(&t, TWS_TCP_RST, t.rcv_nxt, 0, true, old_ts, t4) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_killed") == 1 && tw_lookup(&t, NULL) == TWS_CLOSED);
	h_net_free(&net);
}

/* ---- T4: SYN without timestamps ---- */

static void
T4_syn_without_ts_seq_after_rcv_nxt_accepted(void)
{
	struct tws_tcp_knobs k;
	struct tw t;
	struct h_seg s[8];

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, true));

	uint64_t t1 = t.base_ms * MS + 1000 * MS;
	uint32_t seq = t.rcv_nxt + 12345;
	uint32_t isn = t.snd_nxt + 65535 + 2;

	CHECK(inj(&t, TWS_TCP_SYN, seq, 0, false, 0, t1) == 1);
	CHECK(h_take(t.n, s, 8) == 1);
	CHECKF(s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK), "%s", h_fmt(&s[0]));
	CHECKF(s[0].seq == isn && s[0].ack == seq + 1, "%s, want seq=%u", h_fmt(&s[0]), isn);
	CHECKF(!s[0].has_ts, "%s: the SYN offered no timestamps", h_fmt(&s[0]));
	CHECK(h_stat(t.n, "tw_syn_accepted") == 1 && h_stat(t.n, "tw_syn_rejected") == 0);
	CHECK(h_stat(t.n, "tw_entries") == 0 && h_stat(t.n, "passive_opens") == 2);
	CHECK(tw_lookup(&t, NULL) == TWS_SYN_RCVD);

	/* The new connection completes. */
	CHECK(inj(&t, TWS_TCP_ACK, seq + 1, isn + 1, false, 0, t1 + MS) == 1);
	CHECK(h_count_events(t.n, TWS_EV_ACCEPTED) == 2);
	CHECK(tw_lookup(&t, NULL) == TWS_ESTABLISHED);
	h_net_free(&net);
}

static void
T4_syn_without_ts_seq_not_after_rejected(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, true));

	uint64_t t1 = t.base_ms * MS + 1000 * MS;

	/* seq == rcv_nxt is not after it. */
	CHECK(inj(&t, TWS_TCP_SYN, t.rcv_nxt, 0, false, 0, t1) == 1);
	CHECK(expect_tw_ack(&t, t1, t.ts_recent));
	CHECK(h_stat(t.n, "tw_syn_rejected") == 1 && h_stat(t.n, "tw_syn_accepted") == 0);
	CHECK(h_stat(t.n, "tw_restarted") == 0 && h_stat(t.n, "tw_paws_rejected") == 0);

	/* Before it, within the interval (soon after, and at its last ms): rate limited. */
	uint64_t t1b = t1 + 10 * MS;

	CHECK(inj(&t, TWS_TCP_SYN, t.rcv_nxt - 1, 0, false, 0, t1b) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_ack_limited") == 1 && h_stat(t.n, "tw_syn_rejected") == 2);

	uint64_t t2 = t1 + (OOW_MS - 1) * MS;

	CHECK(inj(&t, TWS_TCP_SYN, t.rcv_nxt - 1, 0, false, 0, t2) == 1);
	CHECK(expect_none(t.n));
	CHECK(h_stat(t.n, "tw_ack_limited") == 2 && h_stat(t.n, "tw_syn_rejected") == 3);

	/*
	 * Well before it, after the interval (plus the entry's recording
	 * granularity TWS_TW_OOW_UNIT, which may only lengthen the limit).
	 */
	uint64_t t3 = t1 + (OOW_MS + TWS_TW_OOW_UNIT) * MS;

	CHECK(inj(&t, TWS_TCP_SYN, t.rcv_nxt - 100000, 0, false, 0, t3) == 1);
	CHECK(expect_tw_ack(&t, t3, t.ts_recent));
	CHECK(h_stat(t.n, "tw_syn_rejected") == 4 && h_stat(t.n, "tw_acked") == 2);
	CHECK(tw_check_entry(&t));
	CHECK(h_stat(t.n, "passive_opens") == 1);
	h_net_free(&net);
}

/* The client holds TIME_WAIT and has no listener: the accepted SYN gets the usual RST. */
static void
T4_syn_accepted_without_listener_gets_rst(void)
{
	struct tws_tcp_knobs k;
	struct tw t;
	struct h_seg s[8];

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t t1 = t.base_ms * MS + 1000 * MS;
	uint32_t seq = t.rcv_nxt + 1000;

	CHECK(inj(&t, TWS_TCP_SYN, seq, 0, false, 0, t1) == 1);
	CHECK(h_take(t.n, s, 8) == 1);
	CHECKF(s[0].flags == (TWS_TCP_RST | TWS_TCP_ACK) && s[0].seq == 0 && s[0].ack == seq + 1,
	       "%s", h_fmt(&s[0]));
	CHECK(h_stat(t.n, "tw_syn_accepted") == 1 && h_stat(t.n, "no_listener") == 1);
	CHECK(tw_lookup(&t, NULL) == TWS_CLOSED);
	h_net_free(&net);
}

/* ---- T5: max_tw ---- */

static void
T5_max_tw_reached_no_entry_overflow_counted_clean_close(void)
{
	struct tws_tcp_knobs k, ka;

	h_knobs(&k);
	ka = k;
	ka.max_tw = 1;
	ka.tw_reuse = 0; /* each connect takes a fresh port, never the entry's tuple */
	CHECK(net_start(&ka, &k) == 0);
	net.b.auto_close_on_peer_fin = true;
	h_net_at(&net, 2000 * MS);

	struct tws_conn *c1 = open_conn();

	CHECK(c1 != NULL);

	struct tws_tuple k1 = *tws_conn_tuple(c1);

	CHECK(tws_close(c1) == 0);
	h_net_run(&net);
	CHECK(h_stat(&net.a, "tw_entered") == 1 && h_stat(&net.a, "tw_entries") == 1);
	CHECK(h_stat(&net.a, "tw_overflow") == 0);

	h_net_at(&net, 3000 * MS);

	struct tws_conn *c2 = open_conn();

	CHECK(c2 != NULL);

	struct tws_tuple k2 = *tws_conn_tuple(c2);

	CHECK(k2.lport != k1.lport);
	CHECK(tws_close(c2) == 0);

	unsigned int before = net.nb_log;

	h_net_run(&net);
	/* The close itself is the usual three segments, the last A's ACK of B's FIN. */
	CHECKF(net.nb_log - before == 3, "%u segments", net.nb_log - before);
	CHECK(net.log_from[net.nb_log - 1] == 0 && net.log[net.nb_log - 1].flags == TWS_TCP_ACK);
	CHECK(net.log[net.nb_log - 1].ack == net.log[net.nb_log - 2].seq + 1);
	CHECK(h_stat(&net.a, "tw_overflow") == 1 && h_stat(&net.a, "tw_entered") == 1);
	CHECK(h_stat(&net.a, "tw_entries") == 1);
	CHECK(tws_stack_lookup(net.a.st, &k1, NULL, NULL) == TWS_TIME_WAIT);
	CHECK(tws_stack_lookup(net.a.st, &k2, NULL, NULL) == TWS_CLOSED);
	/* Both closes were clean on both sides. */
	CHECK(h_count_events(&net.a, TWS_EV_CLOSED) == 2 && h_count_events(&net.b, TWS_EV_CLOSED) == 2);
	CHECK(h_count_events(&net.a, TWS_EV_RESET) == 0 && h_count_events(&net.b, TWS_EV_RESET) == 0);
	CHECK(h_stat(&net.a, "conns") == 0 && h_stat(&net.b, "conns") == 0);
	CHECK(h_stat(&net.a, "rst_sent") == 0 && h_stat(&net.b, "rst_sent") == 0);
	CHECK(h_stat(&net.b, "retransmits") == 0);

	/* Nothing else failed: a third connection opens and closes. */
	h_net_at(&net, 4000 * MS);

	struct tws_conn *c3 = open_conn();

	CHECK(c3 != NULL);
	CHECK(tws_close(c3) == 0);
	h_net_run(&net);
	CHECK(h_stat(&net.a, "tw_overflow") == 2 && h_count_events(&net.a, TWS_EV_CLOSED) == 3);
	h_net_free(&net);
}

/* ---- T6: linger 0 ---- */

static bool
check_abort(struct tws_conn *c, int from, struct h_node *self, struct h_node *peer)
{
	struct tws_conn_info ci;

	tws_conn_info_get(c, &ci);

	unsigned int before = net.nb_log;

	HC(tws_abort(c) == 0, "%s", "abort");
	h_net_run(&net);
	HC(net.nb_log - before == 1, "%u segments", net.nb_log - before);

	const struct h_seg *r = &net.log[before];

	HC(net.log_from[before] == from, "%s", "from the wrong side");
	HC(r->flags == (TWS_TCP_RST | TWS_TCP_ACK), "%s", h_fmt(r));
	HC(r->seq == ci.snd_nxt && r->ack == ci.rcv_nxt, "%s, want seq=%u ack=%u", h_fmt(r),
	   ci.snd_nxt, ci.rcv_nxt);
	HC(h_stat(self, "aborts") == 1, "%s", "aborts");
	HC(h_count_events(self, TWS_EV_CLOSED) == 0 && h_count_events(self, TWS_EV_RESET) == 0,
	   "%s", "abort: no event follows");
	HC(h_count_events(peer, TWS_EV_RESET) == 1 && h_stat(peer, "rst_rcvd") == 1, "%s",
	   "peer not reset");
	HC(h_stat(&net.a, "tw_entries") == 0 && h_stat(&net.b, "tw_entries") == 0, "%s",
	   "TIME_WAIT entry left");
	HC(h_stat(&net.a, "tw_entered") == 0 && h_stat(&net.b, "tw_entered") == 0, "%s",
	   "entered TIME_WAIT");
	HC(h_stat(&net.a, "conns") == 0 && h_stat(&net.b, "conns") == 0, "%s", "connections left");
	return true;
}

/* The client reconnects from the same port: B accepts a fresh SYN, no TIME_WAIT involved. */
static bool
reconnect_same_tuple(const struct tws_tuple *ka)
{
	struct tws_conn *c = NULL;
	unsigned int before = net.nb_log;

	HC(tws_connect(net.a.st, &(struct tws_connect_params){ .laddr = H_ADDR_A,
		.raddr = H_ADDR_B, .rport = H_PORT, .lport = ka->lport }, &c) == 0, "%s",
	   "connect from the same port");
	h_net_run(&net);
	HC(net.log[before].flags == TWS_TCP_SYN && net.log[before].sport ==
	   rte_be_to_cpu_16(ka->lport), "%s", h_fmt(&net.log[before]));
	HC(net.log[before + 1].flags == (TWS_TCP_SYN | TWS_TCP_ACK), "%s",
	   h_fmt(&net.log[before + 1]));
	HC(tws_conn_state(c) == TWS_ESTABLISHED, "%s", "not established");
	HC(h_count_events(&net.a, TWS_EV_CONNECTED) == 2, "%s", "CONNECTED");
	HC(h_count_events(&net.b, TWS_EV_ACCEPTED) == 2 && h_stat(&net.b, "passive_opens") == 2,
	   "%s", "ACCEPTED");
	HC(h_stat(&net.b, "tw_syn_accepted") == 0 && h_stat(&net.b, "challenge_acks") == 0, "%s",
	   "the SYN met state");
	return true;
}

static void
T6_client_abort_rst_ack_no_entry_same_tuple_syn_accepted(void)
{
	struct tws_tcp_knobs k;

	h_knobs(&k);
	CHECK(net_start(&k, &k) == 0);
	h_net_at(&net, 2000 * MS);

	struct tws_conn *c = open_conn();

	CHECK(c != NULL);

	struct tws_tuple ka = *tws_conn_tuple(c);

	CHECK(tws_send(c, "hello", 5) == 5);
	h_net_run(&net);
	h_net_at(&net, 3000 * MS);
	CHECK(check_abort(c, 0, &net.a, &net.b));
	h_net_at(&net, 3001 * MS);
	CHECK(reconnect_same_tuple(&ka));
	h_net_free(&net);
}

static void
T6_server_abort_rst_ack_no_entry_client_syn_accepted(void)
{
	struct tws_tcp_knobs k;

	h_knobs(&k);
	CHECK(net_start(&k, &k) == 0);
	h_net_at(&net, 2000 * MS);

	struct tws_conn *c = open_conn();

	CHECK(c != NULL);

	struct tws_tuple ka = *tws_conn_tuple(c);
	const struct h_event *acc = h_last_event(&net.b, TWS_EV_ACCEPTED);

	CHECK(acc != NULL);
	h_net_at(&net, 3000 * MS);
	CHECK(check_abort(acc->conn, 1, &net.b, &net.a));
	h_net_at(&net, 3001 * MS);
	CHECK(reconnect_same_tuple(&ka));
	h_net_free(&net);
}

/* ---- T7: expiry ---- */

static void
T7_entry_expires_at_tw_timeout_not_before(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t base = t.base_ms * MS;

	CHECK(poll_expect(&t, base + 30000 * MS, true));
	CHECK(poll_expect(&t, base + TW_MS * MS - MS, true));
	CHECK(poll_expect(&t, base + TW_MS * MS - 1, true)); /* same ms tick */
	CHECK(h_stat(t.n, "tw_expired") == 0 && h_stat(t.n, "tw_entries") == 1);
	CHECK(poll_expect(&t, base + TW_MS * MS, false));
	CHECK(h_stat(t.n, "tw_expired") == 1 && h_stat(t.n, "tw_entries") == 0);
	h_net_free(&net);
}

static void
T7_expiry_follows_tw_timeout_knob(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(tws_tcp_knob_set(&k, "tw_timeout_ms", "5000", NULL, 0) == 0);
	CHECK(make_tw(&t, &k, &k, true));

	uint64_t base = t.base_ms * MS;

	CHECK(poll_expect(&t, base + 4999 * MS, true));
	CHECK(poll_expect(&t, base + 5000 * MS, false));
	CHECK(h_stat(t.n, "tw_expired") == 1);
	h_net_free(&net);
}

/* A segment arriving exactly at the expiry finds no entry (expiry runs before the lookup). */
static void
T7_segment_at_expiry_finds_no_entry(void)
{
	struct tws_tcp_knobs k;
	struct tw t;

	h_knobs(&k);
	CHECK(make_tw(&t, &k, &k, false));

	uint64_t at = t.base_ms * MS + TW_MS * MS;

	CHECK(inj(&t, TWS_TCP_FIN | TWS_TCP_ACK, t.rcv_nxt - 1, t.snd_nxt, true, peer_ts(&t, at),
		  at) == 1);
	CHECK(expect_rst(&t, t.snd_nxt));
	CHECK(h_stat(t.n, "tw_expired") == 1 && h_stat(t.n, "tw_acked") == 0);
	CHECK(h_stat(t.n, "no_listener") == 1);
	h_net_free(&net);
}

/* ---- T8: wraparound, with one stack and a scripted peer ---- */

struct sp {
	struct tw t;           /* filled once TIME_WAIT is reached */
	struct tws_conn *c;
	uint32_t s_isn, s_nxt; /* stack */
	uint32_t s_ts;         /* stack's last tsval */
	uint32_t p_isn, p_nxt; /* peer */
	uint32_t p_ts;         /* peer's last tsval */
	uint8_t s_wscale;      /* window scale the stack announced */
	uint64_t now;          /* µs */
};

/* A tuple as the stack (B, port 80) sees the scripted peer. */
static struct tws_tuple
sp_key(uint16_t pport)
{
	return (struct tws_tuple){ .laddr = H_ADDR_B, .raddr = H_ADDR_C, .lport = H_PORT,
				   .rport = rte_cpu_to_be_16(pport) };
}

/* The time (µs) at which the stack picks ISN `isn` for a SYN from the peer's port. */
static uint64_t
us_for_isn(uint32_t isn, uint16_t pport)
{
	struct tws_tcp_secret s;
	struct tws_tuple k = sp_key(pport);
	const uint64_t base = 4000000000ull; /* a multiple of 4 µs */

	tws_tcp_secret_set(&s, h_secret);
	return base + 4ull * (uint32_t)(isn - tws_tcp_isn(&s, &k, base));
}

/* A time (µs, whole ms) at which the stack's tsval to the peer is `tsval`. */
static uint64_t
us_for_tsval(uint32_t tsval)
{
	struct tws_tcp_secret s;

	tws_tcp_secret_set(&s, h_secret);

	uint64_t ms = (uint32_t)(tsval - tws_tcp_ts_offset(&s, H_ADDR_B, H_ADDR_C));

	if (ms < 1000000)
		ms += 1ull << 32;
	return ms * MS;
}

static uint16_t
sp_inj(struct sp *p, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t tsval,
       const void *data, uint32_t len)
{
	struct h_inject in = {
		.saddr = H_ADDR_C, .daddr = H_ADDR_B, .sport = PEER_PORT,
		.dport = rte_be_to_cpu_16(H_PORT), .flags = flags, .seq = seq, .ack = ack,
		.window = (flags & TWS_TCP_SYN) ? 65535 : 1024, .has_ts = true, .tsval = tsval,
		.tsecr = (flags & TWS_TCP_ACK) ? p->s_ts : 0, .payload = data, .len = len,
	};

	if (flags & TWS_TCP_SYN)
		in.syn = (struct tws_tcp_opts){ .has_mss = true, .mss = 1460, .has_wscale = true,
						.wscale = 7, .sack_ok = true };
	p->p_ts = tsval;
	return h_inject(&solo, &in, p->now);
}

/*
 * Handshake: the stack B listens on 80, the peer C:PEER_PORT sends SYN with
 * ISN p_isn and tsval ts0, then ACK (tsval ts0 + 4). The stack is created at
 * start_us, which decides its ISN and timestamps.
 */
static bool
sp_open(struct sp *p, const struct tws_tcp_knobs *k, uint64_t start_us, uint32_t p_isn,
	uint32_t ts0)
{
	struct h_seg s[8];

	cleanup();
	memset(p, 0, sizeof(*p));
	p->now = start_us;
	HC(h_node_init(&solo, H_ADDR_B, k, start_us) == 0, "%s", "node");
	HC(tws_listen(solo.st, 0, H_PORT, NULL) == 0, "%s", "listen");
	p->p_isn = p_isn;
	HC(sp_inj(p, TWS_TCP_SYN, p_isn, 0, ts0, NULL, 0) == 1, "%s", "SYN");
	HC(h_take(&solo, s, 8) == 1, "%s", "no SYN-ACK");
	HC(s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK) && s[0].ack == p_isn + 1, "%s",
	   h_fmt(&s[0]));
	HC(s[0].has_ts && s[0].tsecr == ts0, "%s", h_fmt(&s[0]));
	HC(s[0].opts.has_wscale, "%s", "no window scale on the SYN-ACK");
	p->s_wscale = s[0].opts.wscale;
	p->s_isn = s[0].seq;
	p->s_nxt = s[0].seq + 1;
	p->s_ts = s[0].tsval;
	p->p_nxt = p_isn + 1;
	HC(sp_inj(p, TWS_TCP_ACK, p->p_nxt, p->s_nxt, ts0 + 4, NULL, 0) == 1, "%s", "ACK");

	const struct h_event *acc = h_last_event(&solo, TWS_EV_ACCEPTED);

	HC(acc != NULL, "%s", "not accepted");
	p->c = acc->conn;
	HC(tws_conn_state(p->c) == TWS_ESTABLISHED, "%s", "not established");
	HC(h_take(&solo, s, 8) == 0, "%s", "unexpected segment");
	return true;
}

/* The peer sends len bytes (tsval ts); the stack ACKs them. */
static bool
sp_data(struct sp *p, uint32_t len, uint32_t ts)
{
	static const uint8_t data[64];
	struct h_seg s[8];

	HC(sp_inj(p, TWS_TCP_ACK | TWS_TCP_PSH, p->p_nxt, p->s_nxt, ts, data, len) == 1, "%s",
	   "data");
	p->p_nxt += len;

	unsigned int k = h_take(&solo, s, 8);

	HC(k >= 1 && s[k - 1].ack == p->p_nxt && s[k - 1].tsecr == ts, "%u, last %s", k,
	   h_fmt(&s[k - 1]));
	p->s_ts = s[k - 1].tsval;
	HC(solo.rx_bytes == len, "read %u", solo.rx_bytes);
	return true;
}

/*
 * The stack closes first: FIN, the peer ACKs it (tsval ts_ack), then sends
 * its FIN (tsval ts_fin); the stack enters TIME_WAIT and p->t describes it.
 */
static bool
sp_close_tw(struct sp *p, uint32_t ts_ack, uint32_t ts_fin)
{
	struct h_seg s[8];

	HC(tws_close(p->c) == 0, "%s", "close");
	HC(h_take(&solo, s, 8) == 1, "%s", "no FIN");
	HC(s[0].flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s[0].seq == p->s_nxt &&
	   s[0].ack == p->p_nxt, "%s", h_fmt(&s[0]));
	p->s_ts = s[0].tsval;
	p->s_nxt++;
	HC(sp_inj(p, TWS_TCP_ACK, p->p_nxt, p->s_nxt, ts_ack, NULL, 0) == 1, "%s", "ACK of FIN");
	HC(h_take(&solo, s, 8) == 0, "%s", "reply to a pure ACK");
	HC(sp_inj(p, TWS_TCP_FIN | TWS_TCP_ACK, p->p_nxt, p->s_nxt, ts_fin, NULL, 0) == 1, "%s",
	   "FIN");
	HC(h_take(&solo, s, 8) == 1, "%s", "no final ACK");
	HC(s[0].flags == TWS_TCP_ACK && s[0].seq == p->s_nxt && s[0].ack == p->p_nxt + 1 &&
	   s[0].tsecr == ts_fin, "%s", h_fmt(&s[0]));
	p->p_nxt++;
	HC(h_count_events(&solo, TWS_EV_CLOSED) == 1, "%s", "no CLOSED");
	tw_set_addrs(&p->t, &solo, H_ADDR_B, 80, H_ADDR_C, PEER_PORT);
	p->t.snd_nxt = p->s_nxt;
	p->t.rcv_nxt = p->p_nxt;
	p->t.ts_recent = ts_fin;
	p->t.ts_base = s[0].tsval;
	p->t.base_ms = p->now / MS;
	p->t.win = s[0].window;
	return tw_check_entry(&p->t);
}

/*
 * Two placements of the peer's side of the entry:
 *  - PRE: rcv_nxt 0xffffff22 and ts_recent 0xfffffff0, just before 2^32,
 *    so "after"/"newer" values lie past the wrap;
 *  - POST: the connection's data and timestamps cross 2^32: rcv_nxt 0x12,
 *    ts_recent 8, so "before"/"older" values lie before the wrap.
 */
enum placement { PRE, POST };

static bool
sp_tw(struct sp *p, const struct tws_tcp_knobs *k, uint64_t start_us, enum placement pl)
{
	if (pl == PRE) {
		HC(sp_open(p, k, start_us, 0xffffff00u, 0xffffff00u), "%s", "open");
		HC(sp_data(p, 32, 0xffffff08u), "%s", "data");
		HC(sp_close_tw(p, 0xffffff10u, 0xfffffff0u), "%s", "close");
		HC(p->t.rcv_nxt == 0xffffff22u && p->t.ts_recent == 0xfffffff0u, "%s", "placement");
	} else {
		HC(sp_open(p, k, start_us, 0xfffffff0u, 0xfffffff4u), "%s", "open");
		HC(sp_data(p, 32, 0xfffffffcu), "%s", "data");
		HC(sp_close_tw(p, 0x0u, 0x8u), "%s", "close");
		HC(p->t.rcv_nxt == 0x12u && p->t.ts_recent == 0x8u, "%s", "placement");
	}
	return true;
}

/* Rule 1: exact RST whose tsval is newer only modulo 2^32 kills; rule 4 first drops one past the wrap. */
static void
T8_rule1_exact_rst_newer_ts_across_wrap_kills(void)
{
	struct tws_tcp_knobs k;
	struct sp p;

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, us_for_isn(0xfffffff0u, PEER_PORT), PRE));
	CHECKF(p.s_isn == 0xfffffff0u && p.t.snd_nxt == 0xfffffff2u, "stack ISN %#x", p.s_isn);

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	/* rcv_nxt + 0x100 wraps to 0x22: after rcv_nxt, not exact -> rule 4. */
	CHECK(inj(t, TWS_TCP_RST, t->rcv_nxt + 0x100, 0, true, 0x10, t1) == 1);
	CHECK(expect_none(t->n));
	CHECK(h_stat(t->n, "tw_rst_ignored") == 1 && tw_lookup(t, NULL) == TWS_TIME_WAIT);
	CHECK(inj(t, TWS_TCP_RST, t->rcv_nxt, 0, true, 0x10, t1) == 1);
	CHECK(expect_none(t->n));
	CHECK(h_stat(t->n, "tw_paws_rejected") == 0 && h_stat(t->n, "tw_killed") == 1);
	CHECK(tw_lookup(t, NULL) == TWS_CLOSED);
	h_node_free(&solo);
}

/* Rule 1 + PAWS: exact RST whose tsval is older only modulo 2^32 is dropped. */
static void
T8_rule1_exact_rst_older_ts_across_wrap_paws_dropped(void)
{
	struct tws_tcp_knobs k;
	struct sp p;

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, 5000000, POST));

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	CHECK(inj(t, TWS_TCP_RST, t->rcv_nxt, 0, true, 0xfffffff0u, t1) == 1);
	CHECK(expect_none(t->n));
	CHECK(h_stat(t->n, "tw_paws_rejected") == 1 && h_stat(t->n, "tw_rst_ignored") == 1);
	CHECK(h_stat(t->n, "tw_killed") == 0 && tw_check_entry(t));
	h_node_free(&solo);
}

/* Rule 1: a bare ACK newer across the wrap restarts silently and ts_recent takes it. */
static void
T8_rule1_bare_ack_newer_ts_across_wrap_restarts(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	struct tws_tw_view v;

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, 5000000, PRE));

	struct tw *t = &p.t;
	uint64_t base = p.now, t1 = base + 20000 * MS;

	CHECK(inj(t, TWS_TCP_ACK, t->rcv_nxt, t->snd_nxt, true, 0x5, t1) == 1);
	CHECK(expect_none(t->n));
	CHECK(h_stat(t->n, "tw_restarted") == 1 && h_stat(t->n, "tw_paws_rejected") == 0);
	CHECK(tw_lookup(t, &v) == TWS_TIME_WAIT && v.ts_recent == 0x5);
	CHECK(poll_expect(t, base + TW_MS * MS, true));
	CHECK(poll_expect(t, t1 + TW_MS * MS - MS, true));
	CHECK(poll_expect(t, t1 + TW_MS * MS, false));
	h_node_free(&solo);
}

/*
 * Rule 2 / T4: a SYN without timestamps whose seq is after rcv_nxt only
 * modulo 2^32 is accepted; the new ISN snd_nxt + 65537 wraps. Before it,
 * one not after rcv_nxt is rejected with the entry's ACK.
 */
static void
T8_rule2_syn_seq_after_across_wrap_accepted_isn_wraps(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	struct h_seg s[8];

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, us_for_isn(0xfffffff0u, PEER_PORT), PRE));
	CHECK(p.t.snd_nxt == 0xfffffff2u);

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	CHECK(inj(t, TWS_TCP_SYN, 0xffffff00u, 0, false, 0, t1) == 1);
	CHECK(expect_tw_ack(t, t1, t->ts_recent));
	CHECK(h_stat(t->n, "tw_syn_rejected") == 1);

	uint64_t t2 = t1 + MS;

	CHECK(inj(t, TWS_TCP_SYN, 0x100, 0, false, 0, t2) == 1);
	CHECK(h_take(t->n, s, 8) == 1);
	CHECKF(s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK) && s[0].seq == 0x0000fff3u &&
	       s[0].ack == 0x101, "%s", h_fmt(&s[0]));
	CHECK(h_stat(t->n, "tw_syn_accepted") == 1 && tw_lookup(t, NULL) == TWS_SYN_RCVD);
	h_node_free(&solo);
}

/* Rule 2: seq not after, but tsval newer only modulo 2^32: accepted. */
static void
T8_rule2_syn_newer_ts_across_wrap_accepted(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	struct h_seg s[8];

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, 5000000, PRE));

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	CHECK(inj(t, TWS_TCP_SYN, t->rcv_nxt - 0x100, 0, true, 0x20, t1) == 1);
	CHECK(h_take(t->n, s, 8) == 1);
	CHECKF(s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK), "%s", h_fmt(&s[0]));
	CHECKF(s[0].seq == t->snd_nxt + 65537 && s[0].ack == t->rcv_nxt - 0xff &&
	       s[0].has_ts && s[0].tsecr == 0x20, "%s", h_fmt(&s[0]));
	CHECK(h_stat(t->n, "tw_syn_accepted") == 1 && h_stat(t->n, "tw_paws_rejected") == 0);
	h_node_free(&solo);
}

/* Rule 2: snd_nxt 0xfffeffff: snd_nxt + 65537 is 0, and an ISN is never 0. */
static void
T8_rule2_accepted_isn_wrapping_to_zero_is_one(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	struct h_seg s[8];

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, us_for_isn(0xfffefffdu, PEER_PORT), PRE));
	CHECKF(p.t.snd_nxt == 0xfffeffffu, "snd_nxt %#x", p.t.snd_nxt);

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	CHECK(inj(t, TWS_TCP_SYN, t->rcv_nxt + 1000, 0, false, 0, t1) == 1);
	CHECK(h_take(t->n, s, 8) == 1);
	CHECKF(s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK) && s[0].seq == 1, "%s", h_fmt(&s[0]));
	h_node_free(&solo);
}

/*
 * Rule 3 / T1: an old duplicate SYN (the connection's own, from before the
 * wrap: seq and tsval look larger) is PAWS-rejected and ACKed, not accepted.
 */
static void
T8_rule3_old_syn_before_wrap_rejected(void)
{
	struct tws_tcp_knobs k;
	struct sp p;

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, us_for_isn(0xfffffff0u, PEER_PORT), POST));

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	CHECK(inj(t, TWS_TCP_SYN, p.p_isn, 0, true, 0xfffffff4u, t1) == 1);
	CHECK(expect_tw_ack(t, t1, 0x8));
	CHECK(h_stat(t->n, "tw_paws_rejected") == 1 && h_stat(t->n, "tw_syn_rejected") == 1);
	CHECK(h_stat(t->n, "tw_syn_accepted") == 0 && tw_check_entry(t));

	/* Without timestamps: seq 0xfffffff0 is before 0x12, rejected (rate limited now). */
	uint64_t t2 = t1 + MS;

	CHECK(inj(t, TWS_TCP_SYN, p.p_isn, 0, false, 0, t2) == 1);
	CHECK(expect_none(t->n));
	CHECK(h_stat(t->n, "tw_syn_rejected") == 2 && h_stat(t->n, "tw_ack_limited") == 1);
	CHECK(h_stat(t->n, "tw_syn_accepted") == 0 && tw_check_entry(t));
	h_node_free(&solo);
}

/* Rule 3 / T2: FIN at 0xffffffff, rcv_nxt 0 and snd_nxt 0: re-ACKed, restarted. */
static void
T8_rule3_retransmitted_fin_at_wrap_reacked(void)
{
	struct tws_tcp_knobs k;
	struct sp p;

	h_knobs(&k);
	CHECK(sp_open(&p, &k, us_for_isn(0xfffffffeu, PEER_PORT), 0xffffffdeu, 0xfffffff0u));
	CHECK(sp_data(&p, 32, 0xfffffff8u));
	CHECK(sp_close_tw(&p, 0xfffffffcu, 0x4u));
	CHECK(p.t.rcv_nxt == 0 && p.t.snd_nxt == 0);

	struct tw *t = &p.t;
	uint64_t base = p.now, t1 = base + 10000 * MS;

	CHECK(inj(t, TWS_TCP_FIN | TWS_TCP_ACK, 0xffffffffu, 0, true, 0x10, t1) == 1);
	CHECK(expect_tw_ack(t, t1, 0x4));
	CHECK(h_stat(t->n, "tw_acked") == 1 && h_stat(t->n, "tw_restarted") == 1);

	/* A bare ACK at rcv_nxt whose tsval is older across the wrap: PAWS, rule 3. */
	uint64_t t2 = t1 + OOW_MS * MS;

	CHECK(inj(t, TWS_TCP_ACK, 0, 0, true, 0xfffffff8u, t2) == 1);
	CHECK(expect_tw_ack(t, t2, 0x4));
	CHECK(h_stat(t->n, "tw_paws_rejected") == 1 && h_stat(t->n, "tw_restarted") == 2);
	CHECK(poll_expect(t, t1 + TW_MS * MS, true));
	CHECK(poll_expect(t, t2 + TW_MS * MS, false));
	h_node_free(&solo);
}

/* Rule 4: RSTs just before (across the wrap) and just after rcv_nxt are dropped. */
static void
T8_rule4_rst_around_wrapped_rcv_nxt_dropped(void)
{
	struct tws_tcp_knobs k;
	struct sp p;

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, 5000000, POST));

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	CHECK(inj(t, TWS_TCP_RST, 0xfffffff0u, 0, true, 0x10, t1) == 1);
	CHECK(inj(t, TWS_TCP_RST, t->rcv_nxt + 1, 0, true, 0x10, t1) == 1);
	CHECK(expect_none(t->n));
	CHECK(h_stat(t->n, "tw_rst_ignored") == 2 && h_stat(t->n, "tw_killed") == 0);
	CHECK(tw_check_entry(t));
	CHECK(inj(t, TWS_TCP_RST, t->rcv_nxt, 0, true, 0x10, t1) == 1);
	CHECK(h_stat(t->n, "tw_killed") == 1);
	h_node_free(&solo);
}

/* The holder's own TSval wraps while it is in TIME_WAIT: replies carry the wrapped clock. */
static void
T8_own_tsval_wraps_in_tw_replies(void)
{
	struct tws_tcp_knobs k;
	struct sp p;

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, us_for_tsval(0xffffffffu - 499), PRE));
	CHECKF(p.t.ts_base == 0xffffffffu - 499, "stack tsval %#x", p.t.ts_base);

	struct tw *t = &p.t;
	uint64_t t1 = p.now + 1000 * MS;

	CHECK(inj(t, TWS_TCP_FIN | TWS_TCP_ACK, t->rcv_nxt - 1, t->snd_nxt, true, 0xfffffff8u,
		  t1) == 1);
	CHECK(expect_tw_ack(t, t1, t->ts_recent));
	CHECK(tw_tsval_at(t, t1) == 500); /* expect_tw_ack checked this exact value */
	h_node_free(&solo);
}

/*
 * T7 and the rate limit with the stack's ms clock crossing 2^32 (the table
 * keeps expiries in 32 bits): restart, limit, expiry exact across it.
 */
static void
T8_expiry_restart_rate_limit_across_32bit_ms_clock(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	const uint64_t wrap = (1ull << 32) * MS; /* µs at which now_ms crosses 2^32 */

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, wrap - 30000 * MS, PRE));

	struct tw *t = &p.t;
	uint64_t base = p.now;

	/* ACKed just before the clock wraps ... */
	uint64_t t1 = wrap - 200 * MS;

	CHECK(inj(t, TWS_TCP_FIN | TWS_TCP_ACK, t->rcv_nxt - 1, t->snd_nxt, true, 0xfffffff1u,
		  t1) == 1);
	CHECK(expect_tw_ack(t, t1, t->ts_recent));
	CHECK(poll_expect(t, wrap - MS, true));
	CHECK(poll_expect(t, wrap, true));

	/* ... so 300 ms later, after it, the next one is rate limited (and restarts). */
	uint64_t t2 = wrap + 100 * MS;

	CHECK(inj(t, TWS_TCP_FIN | TWS_TCP_ACK, t->rcv_nxt - 1, t->snd_nxt, true, 0xfffffff2u,
		  t2) == 1);
	CHECK(expect_none(t->n));
	CHECK(h_stat(t->n, "tw_ack_limited") == 1 && h_stat(t->n, "tw_acked") == 1);

	uint64_t t3 = t2 + OOW_MS * MS;

	CHECK(inj(t, TWS_TCP_FIN | TWS_TCP_ACK, t->rcv_nxt - 1, t->snd_nxt, true, 0xfffffff3u,
		  t3) == 1);
	CHECK(expect_tw_ack(t, t3, t->ts_recent));
	CHECK(h_stat(t->n, "tw_restarted") == 3);
	/* Original expiry base + 60 s (after the wrap): restarted, still there. */
	CHECK(poll_expect(t, base + TW_MS * MS, true));
	CHECK(poll_expect(t, t3 + TW_MS * MS - MS, true));
	CHECK(poll_expect(t, t3 + TW_MS * MS, false));
	CHECK(h_stat(t->n, "tw_expired") == 1);
	h_node_free(&solo);
}

/* A second entry made before the clock wraps expires exactly after it. */
static void
T8_expiry_exact_across_32bit_ms_clock(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	const uint64_t wrap = (1ull << 32) * MS;

	h_knobs(&k);
	CHECK(sp_tw(&p, &k, wrap - 30000 * MS, POST));

	struct tw *t = &p.t;
	uint64_t base = p.now;

	CHECK(poll_expect(t, base + TW_MS * MS - MS, true));
	CHECK(poll_expect(t, base + TW_MS * MS, false));
	CHECK(h_stat(t->n, "tw_expired") == 1);
	h_node_free(&solo);
}

/* T6 with the stack's snd_nxt past the wrap: RST|ACK exact, and the next SYN accepted. */
static void
T8_abort_rst_ack_across_wrap_then_syn_accepted(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	struct h_seg s[8];
	static const uint8_t data[32];

	h_knobs(&k);
	CHECK(sp_open(&p, &k, us_for_isn(0xfffffff0u, PEER_PORT), 0xfffffff0u, 0xfffffff8u));
	CHECK(sp_data(&p, 20, 0xfffffffcu)); /* rcv_nxt 0x5 */
	CHECK(tws_send(p.c, data, 32) == 32); /* snd_nxt 0xfffffff1 + 32 = 0x11 */
	CHECK(h_take(&solo, s, 8) == 1 && s[0].len == 32 && s[0].seq == 0xfffffff1u);
	p.s_ts = s[0].tsval;
	CHECK(sp_inj(&p, TWS_TCP_ACK, p.p_nxt, 0x11, 0x2, NULL, 0) == 1);
	CHECK(h_take(&solo, s, 8) == 0);
	CHECK(tws_abort(p.c) == 0);
	CHECK(h_take(&solo, s, 8) == 1);
	CHECKF(s[0].flags == (TWS_TCP_RST | TWS_TCP_ACK) && s[0].seq == 0x11 && s[0].ack == 0x5,
	       "%s", h_fmt(&s[0]));
	CHECK(h_stat(&solo, "tw_entries") == 0 && h_stat(&solo, "conns") == 0);

	struct tws_tuple key = sp_key(PEER_PORT);

	CHECK(tws_stack_lookup(solo.st, &key, NULL, NULL) == TWS_CLOSED);
	p.now += 10 * MS;
	CHECK(sp_inj(&p, TWS_TCP_SYN, 0x1000, 0, 0x10, NULL, 0) == 1);
	CHECK(h_take(&solo, s, 8) == 1);
	CHECKF(s[0].flags == (TWS_TCP_SYN | TWS_TCP_ACK) && s[0].ack == 0x1001, "%s", h_fmt(&s[0]));
	CHECK(h_stat(&solo, "passive_opens") == 2 && h_stat(&solo, "tw_syn_accepted") == 0);
	h_node_free(&solo);
}

/* R1 across the wrap: the receive window [rcv_nxt, rcv_nxt + wnd) spans 2^32. */
static void
T8_R1_rst_window_and_syn_across_seq_wrap(void)
{
	struct tws_tcp_knobs k;
	struct sp p;
	struct h_seg s[8];
	struct tws_conn_info ci;

	h_knobs(&k);
	CHECK(sp_open(&p, &k, 5000000, 0xffffff00u, 0xfffffff0u));
	tws_conn_info_get(p.c, &ci);

	uint32_t rn = ci.rcv_nxt, wnd = ci.rcv_wnd;

	CHECK(rn == 0xffffff01u && wnd > 0x200 && tws_seq_after(rn + wnd, 0)); /* spans the wrap */

	/* In the window, past the wrap: challenge ACK. */
	p.now += 100 * MS;
	CHECK(sp_inj(&p, TWS_TCP_RST, 0x100, 0, 0xfffffff9u, NULL, 0) == 1);
	CHECK(h_take(&solo, s, 8) == 1);
	CHECKF(s[0].flags == TWS_TCP_ACK && s[0].seq == p.s_nxt && s[0].ack == rn, "%s",
	       h_fmt(&s[0]));
	CHECK(h_stat(&solo, "challenge_acks") == 1 && h_stat(&solo, "rst_in_window") == 1);
	/* That ACK announced a (scaled) window: its right edge is the new boundary. */
	wnd = (uint32_t)s[0].window << p.s_wscale;
	tws_conn_info_get(p.c, &ci);
	CHECKF(ci.rcv_wnd == wnd, "rcv_wnd %u, announced %u", ci.rcv_wnd, wnd);
	CHECK(tws_seq_after(rn + wnd, 0));
	/* Just before rcv_nxt, and at the window's right edge (past the wrap): ignored. */
	CHECK(sp_inj(&p, TWS_TCP_RST, rn - 1, 0, 0xfffffffau, NULL, 0) == 1);
	CHECK(sp_inj(&p, TWS_TCP_RST, rn + wnd, 0, 0xfffffffbu, NULL, 0) == 1);
	CHECK(h_take(&solo, s, 8) == 0);
	CHECK(h_stat(&solo, "challenge_acks") == 1 && tws_conn_state(p.c) == TWS_ESTABLISHED);
	/* A SYN with a tsval newer across the wrap: challenge ACK, not PAWS. */
	CHECK(sp_inj(&p, TWS_TCP_SYN, rn + 10, 0, 0x3, NULL, 0) == 1);
	CHECK(h_take(&solo, s, 8) == 1 && s[0].flags == TWS_TCP_ACK && s[0].ack == rn);
	CHECK(h_stat(&solo, "challenge_acks") == 2 && h_stat(&solo, "paws_rejected") == 0);
	/* Exact: reset. */
	CHECK(sp_inj(&p, TWS_TCP_RST, rn, 0, 0x4, NULL, 0) == 1);
	CHECK(h_count_events(&solo, TWS_EV_RESET) == 1 && h_stat(&solo, "conns") == 0);
	h_node_free(&solo);
}

/* ---- R1: RFC 5961 in ESTABLISHED ---- */

/* An established A -> B; B's connection and what it looks like. */
struct est {
	struct tws_conn *bc;
	struct tw t;               /* addressing A -> B and B's ts clock (no entry) */
	struct tws_conn_info ci;   /* B's view, checked against the wire */
	uint32_t wnd;              /* window B announced on its SYN-ACK */
};

static bool
make_est(struct est *e, const struct tws_tcp_knobs *kb)
{
	struct tws_tcp_knobs k;

	h_knobs(&k);
	HC(net_start(&k, kb) == 0, "%s", "init");
	h_net_at(&net, 2000 * MS);

	struct tws_conn *c = open_conn();

	HC(c != NULL, "%s", "connect");

	const struct h_event *acc = h_last_event(&net.b, TWS_EV_ACCEPTED);
	const struct h_seg *sa = h_last_from(&net, 1), *ack = h_last_from(&net, 0);

	HC(acc != NULL && sa != NULL && ack != NULL, "%s", "handshake");
	HC(sa->flags == (TWS_TCP_SYN | TWS_TCP_ACK), "%s", h_fmt(sa));
	e->bc = acc->conn;
	tw_set_addrs(&e->t, &net.b, H_ADDR_B, 80, H_ADDR_A,
		     rte_be_to_cpu_16(tws_conn_tuple(c)->lport));
	e->t.snd_nxt = sa->seq + 1;
	e->t.rcv_nxt = ack->seq;
	e->t.ts_recent = ack->tsval;
	e->t.ts_base = sa->tsval;
	e->t.base_ms = net.now_us / MS;
	e->wnd = sa->window;
	tws_conn_info_get(e->bc, &e->ci);
	HC(e->ci.state == TWS_ESTABLISHED, "%s", "B not established");
	HC(e->ci.snd_nxt == e->t.snd_nxt && e->ci.rcv_nxt == e->t.rcv_nxt, "%s", "B's view");
	HC(e->ci.rcv_wnd == e->wnd, "rcv_wnd %u, announced %u", e->ci.rcv_wnd, e->wnd);
	HC(e->ci.ts_recent == e->t.ts_recent, "%s", "ts_recent");
	return true;
}

/* One challenge ACK from B: <SEQ=snd_nxt><ACK=rcv_nxt>, TSecr ts_recent. */
static bool
expect_challenge(const struct est *e, uint64_t at_us)
{
	struct h_seg s[8];
	unsigned int k = h_take(&net.b, s, 8);

	HC(k == 1, "%u segments", k);
	HC(s[0].flags == TWS_TCP_ACK && s[0].seq == e->t.snd_nxt && s[0].ack == e->t.rcv_nxt,
	   "%s, want seq=%u ack=%u", h_fmt(&s[0]), e->t.snd_nxt, e->t.rcv_nxt);
	HC(s[0].has_ts && s[0].tsecr == e->t.ts_recent && s[0].tsval == tw_tsval_at(&e->t, at_us),
	   "%s", h_fmt(&s[0]));
	return true;
}

static bool
still_established(const struct est *e)
{
	HC(tws_conn_state(e->bc) == TWS_ESTABLISHED, "%s", "state");
	HC(h_count_events(&net.b, TWS_EV_RESET) == 0, "%s", "RESET");
	HC(h_stat(&net.b, "rst_rcvd") == 0, "%s", "rst_rcvd");
	return true;
}

static void
R1_syn_in_established_challenge_ack(void)
{
	struct tws_tcp_knobs k;
	struct est e;

	h_knobs(&k);
	CHECK(make_est(&e, &k));

	uint64_t t1 = 3000 * MS;

	CHECK(inj(&e.t, TWS_TCP_SYN, e.t.rcv_nxt + 100, 0, true, e.t.ts_recent + 1000, t1) == 1);
	CHECK(expect_challenge(&e, t1));
	CHECK(h_stat(&net.b, "challenge_acks") == 1 && h_stat(&net.b, "syn_in_established") == 1);
	CHECK(still_established(&e));
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 1 && h_stat(&net.b, "passive_opens") == 1);
	h_net_free(&net);
}

/* RFC 5961 4.2: "irrespective of the sequence number": an out-of-window SYN too. */
static void
R1_syn_out_of_window_challenge_ack(void)
{
	struct tws_tcp_knobs k;
	struct est e;

	h_knobs(&k);
	CHECK(make_est(&e, &k));

	uint64_t t1 = 3000 * MS;

	CHECK(inj(&e.t, TWS_TCP_SYN, e.t.rcv_nxt - 100000, 0, true, e.t.ts_recent + 1000, t1) == 1);
	CHECK(expect_challenge(&e, t1));
	CHECK(h_stat(&net.b, "challenge_acks") == 1 && h_stat(&net.b, "syn_in_established") == 1);
	CHECK(still_established(&e));
	h_net_free(&net);
}

static void
R1_in_window_rst_challenge_ack_connection_stays(void)
{
	struct tws_tcp_knobs k;
	struct est e;

	h_knobs(&k);
	CHECK(make_est(&e, &k));

	uint64_t t1 = 3000 * MS;

	CHECK(inj(&e.t, TWS_TCP_RST, e.t.rcv_nxt + 1, 0, true, e.t.ts_recent + 1000, t1) == 1);
	CHECK(expect_challenge(&e, t1));
	CHECK(inj(&e.t, TWS_TCP_RST | TWS_TCP_ACK, e.t.rcv_nxt + e.wnd - 1, e.t.snd_nxt, false, 0,
		  t1) == 1);
	CHECK(expect_challenge(&e, t1));
	CHECK(h_stat(&net.b, "rst_in_window") == 2 && h_stat(&net.b, "challenge_acks") == 2);
	CHECK(still_established(&e));

	/* The connection still carries data. */
	CHECK(tws_send(e.bc, "x", 1) == 1);
	h_net_run(&net);
	CHECK(net.a.rx_bytes == 1);
	h_net_free(&net);
}

static void
R1_exact_rst_resets(void)
{
	struct tws_tcp_knobs k;
	struct est e;

	h_knobs(&k);
	CHECK(make_est(&e, &k));

	uint64_t t1 = 3000 * MS;

	CHECK(inj(&e.t, TWS_TCP_RST, e.t.rcv_nxt, 0, true, e.t.ts_recent + 1000, t1) == 1);
	CHECK(expect_none(&net.b));
	CHECK(h_count_events(&net.b, TWS_EV_RESET) == 1 && h_stat(&net.b, "rst_rcvd") == 1);
	CHECK(h_stat(&net.b, "challenge_acks") == 0 && h_stat(&net.b, "conns") == 0);
	CHECK(h_stat(&net.b, "tw_entries") == 0);
	h_net_free(&net);
}

static void
R1_out_of_window_rst_ignored(void)
{
	struct tws_tcp_knobs k;
	struct est e;

	h_knobs(&k);
	CHECK(make_est(&e, &k));

	uint64_t t1 = 3000 * MS;

	CHECK(inj(&e.t, TWS_TCP_RST, e.t.rcv_nxt + e.wnd, 0, true, e.t.ts_recent + 1000, t1) == 1);
	CHECK(inj(&e.t, TWS_TCP_RST, e.t.rcv_nxt - 1, 0, true, e.t.ts_recent + 1000, t1) == 1);
	CHECK(inj(&e.t, TWS_TCP_RST | TWS_TCP_ACK, e.t.rcv_nxt + 0x40000000u, e.t.snd_nxt, false,
		  0, t1) == 1);
	CHECK(expect_none(&net.b));
	CHECK(h_stat(&net.b, "challenge_acks") == 0 && h_stat(&net.b, "rst_in_window") == 0);
	CHECK(h_stat(&net.b, "oow_dropped") == 3);
	CHECK(still_established(&e));
	h_net_free(&net);
}

/* challenge_ack_limit per second, per stack (two connections share it). */
static void
R1_challenge_acks_rate_limited_per_second(void)
{
	struct tws_tcp_knobs k;
	struct est e;

	h_knobs(&k);
	k.challenge_ack_limit = 2;
	CHECK(make_est(&e, &k));

	/* A second connection to B. */
	struct tws_conn *c2 = open_conn();

	CHECK(c2 != NULL);

	const struct h_event *acc2 = h_last_event(&net.b, TWS_EV_ACCEPTED);
	const struct h_seg *a2 = h_last_from(&net, 0); /* A's handshake ACK of c2 */
	struct tws_conn_info ci2;
	struct tw t2 = e.t;

	CHECK(acc2 != NULL && acc2->conn != e.bc);
	tws_conn_info_get(acc2->conn, &ci2);
	CHECK(a2->flags == TWS_TCP_ACK && ci2.rcv_nxt == a2->seq && ci2.ts_recent == a2->tsval);
	tw_set_addrs(&t2, &net.b, H_ADDR_B, 80, H_ADDR_A,
		     rte_be_to_cpu_16(tws_conn_tuple(c2)->lport));

	struct h_seg s[8];
	uint64_t t1 = 5000 * MS; /* a whole second, and long after the last challenge window */

	CHECK(inj(&e.t, TWS_TCP_SYN, e.t.rcv_nxt + 10, 0, true, e.t.ts_recent + 3000, t1) == 1);
	CHECK(inj(&t2, TWS_TCP_RST, ci2.rcv_nxt + 10, 0, true, ci2.ts_recent + 3000, t1) == 1);
	CHECK(h_take(&net.b, s, 8) == 2);
	CHECK(s[0].ack == e.t.rcv_nxt && s[1].ack == ci2.rcv_nxt);
	CHECK(h_stat(&net.b, "challenge_acks") == 2 && h_stat(&net.b, "challenge_acks_limited") == 0);

	/* Over the limit within the same second, on either connection: nothing. */
	uint64_t t2b = t1 + 999 * MS;

	CHECK(inj(&e.t, TWS_TCP_RST, e.t.rcv_nxt + 10, 0, true, e.t.ts_recent + 3000, t1 + MS) == 1);
	CHECK(inj(&t2, TWS_TCP_SYN, ci2.rcv_nxt + 10, 0, true, ci2.ts_recent + 3999, t2b) == 1);
	CHECK(expect_none(&net.b));
	CHECK(h_stat(&net.b, "challenge_acks") == 2 && h_stat(&net.b, "challenge_acks_limited") == 2);
	CHECK(h_stat(&net.b, "rst_in_window") == 2 && h_stat(&net.b, "syn_in_established") == 2);

	/* The next second: allowed again. */
	uint64_t t3 = t1 + 1000 * MS;

	CHECK(inj(&e.t, TWS_TCP_SYN, e.t.rcv_nxt + 10, 0, true, e.t.ts_recent + 4000, t3) == 1);
	CHECK(expect_challenge(&e, t3));
	CHECK(h_stat(&net.b, "challenge_acks") == 3 && h_stat(&net.b, "challenge_acks_limited") == 2);
	CHECK(still_established(&e));
	CHECK(tws_conn_state(acc2->conn) == TWS_ESTABLISHED);
	h_net_free(&net);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(T1_old_duplicate_syn_acked_rate_limited_entry_kept),
		TWS_TEST(T1_old_duplicate_syn_dropped_with_tw_syn_reject_drop),
		TWS_TEST(T1_syn_not_newer_rejected_without_restart),
		TWS_TEST(T2_retransmitted_fin_reacked_timer_restarted),
		TWS_TEST(T2_retransmitted_fin_rate_limited_still_restarts),
		TWS_TEST(T2_bare_ack_in_window_restarts_silently),
		TWS_TEST(T3_exact_rst_kills_entry),
		TWS_TEST(T3_exact_rst_without_timestamp_kills_entry),
		TWS_TEST(T3_exact_rst_ignored_with_rfc1337),
		TWS_TEST(T3_out_of_window_rst_dropped),
		TWS_TEST(T3_exact_rst_old_timestamp_paws_dropped_then_exempt),
		TWS_TEST(T4_syn_without_ts_seq_after_rcv_nxt_accepted),
		TWS_TEST(T4_syn_without_ts_seq_not_after_rejected),
		TWS_TEST(T4_syn_accepted_without_listener_gets_rst),
		TWS_TEST(T5_max_tw_reached_no_entry_overflow_counted_clean_close),
		TWS_TEST(T6_client_abort_rst_ack_no_entry_same_tuple_syn_accepted),
		TWS_TEST(T6_server_abort_rst_ack_no_entry_client_syn_accepted),
		TWS_TEST(T7_entry_expires_at_tw_timeout_not_before),
		TWS_TEST(T7_expiry_follows_tw_timeout_knob),
		TWS_TEST(T7_segment_at_expiry_finds_no_entry),
		TWS_TEST(T8_rule1_exact_rst_newer_ts_across_wrap_kills),
		TWS_TEST(T8_rule1_exact_rst_older_ts_across_wrap_paws_dropped),
		TWS_TEST(T8_rule1_bare_ack_newer_ts_across_wrap_restarts),
		TWS_TEST(T8_rule2_syn_seq_after_across_wrap_accepted_isn_wraps),
		TWS_TEST(T8_rule2_syn_newer_ts_across_wrap_accepted),
		TWS_TEST(T8_rule2_accepted_isn_wrapping_to_zero_is_one),
		TWS_TEST(T8_rule3_old_syn_before_wrap_rejected),
		TWS_TEST(T8_rule3_retransmitted_fin_at_wrap_reacked),
		TWS_TEST(T8_rule4_rst_around_wrapped_rcv_nxt_dropped),
		TWS_TEST(T8_own_tsval_wraps_in_tw_replies),
		TWS_TEST(T8_expiry_restart_rate_limit_across_32bit_ms_clock),
		TWS_TEST(T8_expiry_exact_across_32bit_ms_clock),
		TWS_TEST(T8_abort_rst_ack_across_wrap_then_syn_accepted),
		TWS_TEST(T8_R1_rst_window_and_syn_across_seq_wrap),
		TWS_TEST(R1_syn_in_established_challenge_ack),
		TWS_TEST(R1_syn_out_of_window_challenge_ack),
		TWS_TEST(R1_in_window_rst_challenge_ack_connection_stays),
		TWS_TEST(R1_exact_rst_resets),
		TWS_TEST(R1_out_of_window_rst_ignored),
		TWS_TEST(R1_challenge_acks_rate_limited_per_second),
	};

	(void)argc;
	h_init(argv[0]);
	return tws_test_run(cases, TWS_NCASES(cases));
}
