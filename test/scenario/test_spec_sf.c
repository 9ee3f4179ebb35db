/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Spec section 7, scenarios S1..S3 and F1..F4 (the seed's Shell 1-3 and
 * Figures 1-4), end to end through the engine with injected time only.
 *
 * S1, S2, S3, F2, F3: the two stacks talk over the harness's wire (A the
 * client 198.18.0.1 with one local port, B the server 198.18.0.2:80);
 * a lost segment is a wire filter. F1 and F4: scripted clients at
 * 198.18.0.3 drive stack B (their ISNs and timestamp clocks chosen by the
 * test) and B's replies are taken with h_take().
 *
 * Expected values come from the wire (sequence numbers, timestamps of the
 * segments seen), never from the engine's own view alone.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

#define MS 1000ull          /* µs per ms */
#define LPORT 50000         /* A's only local port (port_min = port_max) */
#define NEXT_ISN_GAP 65537u /* spec 3/4/5: ISN after TIME_WAIT = snd_nxt + 65535 + 2 */

static struct h_net net;

/* CHECK for helpers returning bool. */

/* Free what a failed earlier case left behind (CHECK returns early). */
static void
cleanup(void)
{
	h_net_free(&net);
}

static int
net_start(const struct tws_tcp_knobs *ka, const struct tws_tcp_knobs *kb)
{
	cleanup();
	return h_net_init(&net, ka, kb);
}

static struct tws_tuple
tuple(rte_be32_t laddr, uint16_t lport, rte_be32_t raddr, uint16_t rport)
{
	return (struct tws_tuple){ .laddr = laddr, .raddr = raddr,
				   .lport = rte_cpu_to_be_16(lport),
				   .rport = rte_cpu_to_be_16(rport) };
}

/* A's view of its connection to B:80 from LPORT, and B's view of it. */
static struct tws_tuple
tuple_a(void)
{
	return tuple(H_ADDR_A, LPORT, H_ADDR_B, 80);
}

static struct tws_tuple
tuple_b(void)
{
	return tuple(H_ADDR_B, 80, H_ADDR_A, LPORT);
}

static enum tws_tcp_state
lookup(struct h_node *n, struct tws_tuple t, struct tws_conn **c, struct tws_tw_view *v)
{
	struct tws_tw_view dummy;

	return tws_stack_lookup(n->st, &t, c, v != NULL ? v : &dummy);
}

/* A connects to B:80 (local port from the allocator). */
static int
a_connect(struct tws_conn **c)
{
	*c = NULL;
	return tws_connect(net.a.st, &(struct tws_connect_params){
		.laddr = H_ADDR_A, .raddr = H_ADDR_B, .rport = H_PORT }, c);
}

/* Client A sends 100 bytes, B answers 100 bytes, A closes first (curl against a server). */
static void
rr_client_closes(void)
{
	net.a.request_len = 100;
	net.a.close_after = 100;
	net.b.auto_reply = true;
	net.b.reply_len = 100;
	net.b.auto_close_on_peer_fin = true;
}

/* Segment i of the wire log came from `from` with exactly these flags (PSH ignored). */
static bool
seg_is(unsigned int i, int from, uint8_t flags)
{
	HC(i < net.nb_log, "segment %u of %u", i, net.nb_log);
	HC(net.log_from[i] == from && (net.log[i].flags & ~TWS_TCP_PSH) == flags,
	   "segment %u from %c: %s, want from %c flags 0x%x", i, "AB"[net.log_from[i]],
	   h_fmt(&net.log[i]), "AB"[from], flags);
	return true;
}

/*
 * The exchange of rr_client_closes() from log index i0: exactly seven
 * segments, A from LPORT, every seq/ack/tsecr following from the one before:
 *   A [S]  B [S.]  A [P.] 100  B [P.] 100  A [F.]  B [F.]  A [.]
 */
static bool
check_rr_client_closes(unsigned int i0)
{
	static const struct { int from; uint8_t flags; uint32_t len; } want[7] = {
		{ 0, TWS_TCP_SYN, 0 }, { 1, TWS_TCP_SYN | TWS_TCP_ACK, 0 },
		{ 0, TWS_TCP_ACK, 100 }, { 1, TWS_TCP_ACK, 100 },
		{ 0, TWS_TCP_FIN | TWS_TCP_ACK, 0 }, { 1, TWS_TCP_FIN | TWS_TCP_ACK, 0 },
		{ 0, TWS_TCP_ACK, 0 },
	};
	const struct h_seg *l = &net.log[i0];

	HC(net.nb_log - i0 == 7, "%u segments, want 7", net.nb_log - i0);
	for (unsigned int k = 0; k < 7; k++) {
		HC(seg_is(i0 + k, want[k].from, want[k].flags), "segment %u", k);
		HC(l[k].len == want[k].len && l[k].has_ts, "%s", h_fmt(&l[k]));
		HC(want[k].from == 0 ? l[k].sport == LPORT && l[k].dport == 80
				     : l[k].sport == 80 && l[k].dport == LPORT, "%s", h_fmt(&l[k]));
		if (k > 0)
			HC(l[k].tsecr == l[k - 1].tsval, "%s after %s", h_fmt(&l[k]),
			   h_fmt(&l[k - 1]));
	}
	HC(l[0].tsecr == 0, "%s", h_fmt(&l[0]));
	HC(l[1].ack == l[0].seq + 1, "%s", h_fmt(&l[1]));
	HC(l[2].seq == l[0].seq + 1 && l[2].ack == l[1].seq + 1, "%s", h_fmt(&l[2]));
	HC(l[3].seq == l[1].seq + 1 && l[3].ack == l[2].seq + 100, "%s", h_fmt(&l[3]));
	HC(l[4].seq == l[2].seq + 100 && l[4].ack == l[3].seq + 100, "%s", h_fmt(&l[4]));
	HC(l[5].seq == l[3].seq + 100 && l[5].ack == l[4].seq + 1, "%s", h_fmt(&l[5]));
	HC(l[6].seq == l[4].seq + 1 && l[6].ack == l[5].seq + 1, "%s", h_fmt(&l[6]));
	return true;
}

/* A's TIME_WAIT entry for LPORT holds what its last ACK (log[i_ack]) said. */
static bool
check_a_tw(unsigned int i_ack, uint32_t ts_recent)
{
	struct tws_tw_view v;
	enum tws_tcp_state s = lookup(&net.a, tuple_a(), NULL, &v);
	const struct h_seg *ack = &net.log[i_ack];

	HC(s == TWS_TIME_WAIT, "A: %s", tws_tcp_state_name(s));
	HC(v.snd_nxt == ack->seq && v.rcv_nxt == ack->ack, "view %u/%u, wire %s", v.snd_nxt,
	   v.rcv_nxt, h_fmt(ack));
	HC(v.has_ts && v.ts_recent == ts_recent, "view ts %d/%u, want %u", v.has_ts, v.ts_recent,
	   ts_recent);
	return true;
}

/* ---- S1: client port exhaustion (seed Shell 1) ---- */

/*
 * One local port, tw_reuse=0: the first request completes and leaves A in
 * TIME_WAIT; every connect until tw_timeout_ms has passed fails with
 * -EADDRNOTAVAIL (counted, nothing sent, nothing hangs); then the same port
 * works again for a full request.
 */
static void
S1_client_port_exhaustion(void)
{
	struct tws_tcp_knobs ka, kb;
	struct tws_conn *c, *c2;

	h_knobs(&ka);
	h_knobs(&kb);
	ka.port_min = ka.port_max = LPORT;
	ka.tw_reuse = 0;
	CHECK(net_start(&ka, &kb) == 0);
	rr_client_closes();

	uint64_t t0 = net.now_us;

	CHECK(a_connect(&c) == 0);
	h_net_run(&net);
	CHECK(check_rr_client_closes(0));
	CHECK(net.a.rx_bytes == 100 && net.b.rx_bytes == 100);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 1);
	CHECK(h_count_events(&net.a, TWS_EV_CLOSED) == 1);
	CHECK(h_count_events(&net.b, TWS_EV_CLOSED) == 1);
	CHECK(check_a_tw(6, net.log[5].tsval));
	CHECK(h_stat(&net.a, "tw_entered") == 1 && h_stat(&net.a, "tw_entries") == 1);
	CHECK(h_stat(&net.b, "tw_entries") == 0 && h_stat(&net.b, "conns") == 0);

	/* Second curl: at once, then all through the 60 s of TIME_WAIT. */
	static const uint64_t at_ms[] = { 0, 1000, 30000, 59000, 59998 };

	for (unsigned int i = 0; i < RTE_DIM(at_ms); i++) {
		unsigned int n0;
		int rc;

		h_net_at(&net, t0 + at_ms[i] * MS);
		n0 = net.nb_log;
		rc = a_connect(&c2);
		CHECKF(rc == -EADDRNOTAVAIL, "at +%llu ms: rc %d", (unsigned long long)at_ms[i], rc);
		CHECK(c2 == NULL);
		CHECKF(h_stat(&net.a, "addr_not_avail") == i + 1, "at +%llu ms",
		       (unsigned long long)at_ms[i]);
		CHECK(tws_stack_tx_pending(net.a.st) == 0);
		h_net_run(&net);
		CHECK(net.nb_log == n0);
		CHECK(lookup(&net.a, tuple_a(), NULL, NULL) == TWS_TIME_WAIT);
	}
	CHECK(h_stat(&net.a, "active_opens") == 1 && h_stat(&net.a, "tw_reused") == 0);
	CHECK(h_stat(&net.a, "conns") == 0);

	/* 60 s passed (one tick of slack, spec T7): the entry is gone, the port is usable. */
	h_net_at(&net, t0 + 60001 * MS);
	CHECK(lookup(&net.a, tuple_a(), NULL, NULL) == TWS_CLOSED);
	CHECK(h_stat(&net.a, "tw_expired") == 1 && h_stat(&net.a, "tw_entries") == 0);

	unsigned int n0 = net.nb_log;

	CHECK(a_connect(&c2) == 0);
	CHECK(rte_be_to_cpu_16(tws_conn_tuple(c2)->lport) == LPORT);
	h_net_run(&net);
	CHECK(check_rr_client_closes(n0));
	CHECK(net.a.rx_bytes == 200 && net.b.rx_bytes == 200);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 2);
	CHECK(h_stat(&net.a, "addr_not_avail") == RTE_DIM(at_ms));
	CHECK(h_stat(&net.a, "tw_reused") == 0 && h_stat(&net.a, "active_opens") == 2);
	h_net_free(&net);
}

/* ---- S2: the server's TIME_WAIT replaced by the client's next SYN ---- */

/*
 * The server closes first and holds TIME_WAIT; the client reconnects from
 * the same port a second later. Its SYN is newer (timestamp, and ISN by the
 * RFC 6528 clock): B drops the entry and answers at once with
 * ISN = entry snd_nxt + 65537; the handshake completes.
 */
static void
S2_server_tw_replaced_by_next_syn(void)
{
	struct tws_tcp_knobs ka, kb;
	struct tws_conn *c, *c2;

	h_knobs(&ka);
	h_knobs(&kb);
	ka.port_min = ka.port_max = LPORT;
	CHECK(net_start(&ka, &kb) == 0);
	net.a.request_len = 100;
	net.a.auto_close_on_peer_fin = true;
	net.b.auto_reply = true;
	net.b.reply_len = 100;
	net.b.close_after = 100;

	uint64_t t0 = net.now_us;

	CHECK(a_connect(&c) == 0);
	h_net_run(&net);
	CHECK(net.a.rx_bytes == 100 && net.b.rx_bytes == 100);

	/* The close: ... B [F.] ... A [F.], B [.]: B, the active closer, holds TIME_WAIT. */
	unsigned int n = net.nb_log;

	CHECK(n >= 8);

	const struct h_seg *a_fin = &net.log[n - 2], *b_ack = &net.log[n - 1];

	CHECK(seg_is(n - 2, 0, TWS_TCP_FIN | TWS_TCP_ACK) && seg_is(n - 1, 1, TWS_TCP_ACK));
	CHECK(b_ack->ack == a_fin->seq + 1 && b_ack->tsecr == a_fin->tsval);

	struct tws_tw_view v;

	CHECK(lookup(&net.b, tuple_b(), NULL, &v) == TWS_TIME_WAIT);
	CHECKF(v.snd_nxt == b_ack->seq && v.rcv_nxt == b_ack->ack, "view %u/%u, wire %s",
	       v.snd_nxt, v.rcv_nxt, h_fmt(b_ack));
	CHECK(v.has_ts && v.ts_recent == a_fin->tsval);
	CHECK(h_stat(&net.b, "tw_entries") == 1 && h_stat(&net.a, "tw_entries") == 0);
	CHECK(h_count_events(&net.a, TWS_EV_CLOSED) == 1);
	CHECK(h_count_events(&net.b, TWS_EV_CLOSED) == 1);

	/* One second later the client's next request, from the same port. */
	net.a.request_len = 0;
	net.b.close_after = 0;
	h_net_at(&net, t0 + 1000 * MS);

	unsigned int n0 = net.nb_log;

	CHECK(a_connect(&c2) == 0);
	CHECK(rte_be_to_cpu_16(tws_conn_tuple(c2)->lport) == LPORT);
	h_net_run(&net);
	CHECKF(net.nb_log - n0 == 3, "%u segments", net.nb_log - n0);
	CHECK(seg_is(n0, 0, TWS_TCP_SYN) && seg_is(n0 + 1, 1, TWS_TCP_SYN | TWS_TCP_ACK) &&
	      seg_is(n0 + 2, 0, TWS_TCP_ACK));

	const struct h_seg *syn = &net.log[n0], *sa = &net.log[n0 + 1], *ack = &net.log[n0 + 2];

	/* The SYN is new by timestamp and by sequence number (RFC 6528 clock moved on). */
	CHECKF(syn->has_ts && tws_seq_after(syn->tsval, v.ts_recent), "%s, ts_recent %u",
	       h_fmt(syn), v.ts_recent);
	CHECKF(tws_seq_after(syn->seq, v.rcv_nxt), "%s, rcv_nxt %u", h_fmt(syn), v.rcv_nxt);
	CHECKF(sa->seq == v.snd_nxt + NEXT_ISN_GAP && sa->ack == syn->seq + 1, "%s, want seq %u",
	       h_fmt(sa), v.snd_nxt + NEXT_ISN_GAP);
	CHECK(sa->has_ts && sa->tsecr == syn->tsval);
	CHECK(ack->seq == syn->seq + 1 && ack->ack == sa->seq + 1 && ack->tsecr == sa->tsval);

	CHECK(h_stat(&net.b, "tw_syn_accepted") == 1 && h_stat(&net.b, "tw_syn_rejected") == 0);
	CHECK(h_stat(&net.b, "tw_acked") == 0 && h_stat(&net.b, "tw_paws_rejected") == 0);
	CHECK(h_stat(&net.b, "tw_entries") == 0 && h_stat(&net.b, "passive_opens") == 2);
	CHECK(lookup(&net.b, tuple_b(), NULL, NULL) == TWS_ESTABLISHED);
	CHECK(tws_conn_state(c2) == TWS_ESTABLISHED);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 2);
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 2);
	CHECK(h_stat(&net.a, "tw_reused") == 0);
	h_net_free(&net);
}

/* ---- S3: tw_reuse (seed Shell 3) ---- */

/*
 * One local port, tw_reuse=1, tw_reuse_delay_ms=1000: the second connect
 * fails while A's entry's last timestamp is younger than the delay and
 * succeeds at the delay; the SYN takes the TIME_WAIT port with
 * seq = old snd_nxt + 65537 and a tsval newer than the old connection's,
 * the new connection inherits ts_recent, the entry is gone, the second
 * request completes.
 */
static void
S3_tw_reuse_after_delay(void)
{
	struct tws_tcp_knobs ka, kb;
	struct tws_conn *c, *c2;

	h_knobs(&ka);
	h_knobs(&kb);
	ka.port_min = ka.port_max = LPORT;
	ka.tw_reuse = 1;
	ka.tw_reuse_delay_ms = 1000;
	CHECK(net_start(&ka, &kb) == 0);
	rr_client_closes();

	uint64_t t0 = net.now_us;

	CHECK(a_connect(&c) == 0);
	h_net_run(&net);
	CHECK(check_rr_client_closes(0));

	const struct h_seg b_fin = net.log[5], old_ack = net.log[6];

	CHECK(check_a_tw(6, b_fin.tsval));

	/* Within the delay: the entry may not be taken. */
	static const uint64_t at_ms[] = { 0, 500, 999 };

	for (unsigned int i = 0; i < RTE_DIM(at_ms); i++) {
		unsigned int n0;
		int rc;

		h_net_at(&net, t0 + at_ms[i] * MS);
		n0 = net.nb_log;
		rc = a_connect(&c2);
		CHECKF(rc == -EADDRNOTAVAIL, "at +%llu ms: rc %d", (unsigned long long)at_ms[i], rc);
		CHECK(h_stat(&net.a, "addr_not_avail") == i + 1);
		h_net_run(&net);
		CHECK(net.nb_log == n0);
		CHECK(lookup(&net.a, tuple_a(), NULL, NULL) == TWS_TIME_WAIT);
	}
	CHECK(h_stat(&net.a, "tw_reused") == 0);

	/* At the delay: reused. */
	h_net_at(&net, t0 + 1000 * MS);

	unsigned int n0 = net.nb_log;
	struct tws_conn_info ci;

	CHECK(a_connect(&c2) == 0);
	CHECK(rte_be_to_cpu_16(tws_conn_tuple(c2)->lport) == LPORT);
	CHECK(h_stat(&net.a, "tw_reused") == 1 && h_stat(&net.a, "addr_not_avail") == 3);
	CHECK(h_stat(&net.a, "tw_entries") == 0);
	CHECK(lookup(&net.a, tuple_a(), NULL, NULL) == TWS_SYN_SENT);
	tws_conn_info_get(c2, &ci);
	CHECKF(ci.iss == old_ack.seq + NEXT_ISN_GAP, "iss %u, old snd_nxt %u", ci.iss, old_ack.seq);
	CHECKF(ci.ts_recent == b_fin.tsval, "ts_recent %u, want %u (inherited)", ci.ts_recent,
	       b_fin.tsval);

	h_net_run(&net);
	CHECK(check_rr_client_closes(n0));

	const struct h_seg *syn = &net.log[n0];

	CHECKF(syn->seq == old_ack.seq + NEXT_ISN_GAP, "%s, old snd_nxt %u", h_fmt(syn),
	       old_ack.seq);
	CHECKF(tws_seq_after(syn->tsval, old_ack.tsval) && syn->tsval == old_ack.tsval + 1000,
	       "%s, old tsval %u", h_fmt(syn), old_ack.tsval);
	CHECK(tws_seq_after(syn->tsval, b_fin.tsecr));
	CHECK(net.a.rx_bytes == 200 && net.b.rx_bytes == 200);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 2);
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 2);
	CHECK(h_stat(&net.a, "active_opens") == 2 && h_stat(&net.a, "tw_reused") == 1);
	/* The second close left A in TIME_WAIT again. */
	CHECK(check_a_tw(n0 + 6, net.log[n0 + 5].tsval));
	h_net_free(&net);
}

/* ---- scripted clients driving B ---- */

/* A client behind 198.18.0.3 with its own ISN and timestamp clock. */
struct peer {
	rte_be32_t addr;
	uint16_t port;
	uint32_t ts_off;   /* its tsval is now_ms + ts_off */
	uint32_t iss;
	uint32_t snd_nxt;  /* next sequence number it sends */
	uint32_t rcv_nxt;  /* next it expects from B */
	uint32_t tsecr;    /* B's last tsval */
};

static uint32_t
p_ts(const struct peer *p, uint64_t at_us)
{
	return (uint32_t)(at_us / MS) + p->ts_off;
}

/* The peer sends one segment to B:80 at at_us (B's timers run up to then first). */
static bool
p_send(const struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t tsval,
       const void *data, uint32_t len, uint64_t at_us)
{
	struct h_inject in = {
		.saddr = p->addr, .daddr = H_ADDR_B, .sport = p->port, .dport = 80,
		.flags = flags, .seq = seq, .ack = (flags & TWS_TCP_ACK) ? ack : 0,
		.window = 1024, .has_ts = true, .tsval = tsval,
		.tsecr = (flags & TWS_TCP_ACK) ? p->tsecr : 0, .payload = data, .len = len,
	};

	if (flags & TWS_TCP_SYN)
		in.syn = (struct tws_tcp_opts){ .has_mss = true, .mss = 1460, .has_wscale = true,
						.wscale = 7, .sack_ok = true };
	if (at_us > net.now_us)
		net.now_us = at_us;
	tws_stack_poll(net.b.st, at_us);
	HC(h_inject(&net.b, &in, at_us) == 1, "%s", "segment not consumed");
	return true;
}

/* B sent nothing. */
static bool
b_silent(void)
{
	struct h_seg s[8];
	unsigned int k = h_take(&net.b, s, 8);

	HC(k == 0, "B sent %u segments, first %s", k, h_fmt(&s[0]));
	return true;
}

/* B sent exactly one segment, with these flags, to p. */
static bool
b_one(const struct peer *p, struct h_seg *out, uint8_t flags)
{
	struct h_seg s[8];
	unsigned int k = h_take(&net.b, s, 8);

	HC(k == 1, "B sent %u segments, first %s", k, h_fmt(&s[0]));
	HC(s[0].daddr == p->addr && s[0].dport == p->port && s[0].sport == 80, "%s",
	   h_fmt(&s[0]));
	HC((s[0].flags & ~TWS_TCP_PSH) == flags && s[0].has_ts, "%s, want flags 0x%x",
	   h_fmt(&s[0]), flags);
	*out = s[0];
	return true;
}

/* Three-way handshake of p with B from p->iss at at_us: B answers SYN-ACK, then ACCEPTED. */
static bool
p_connect(struct peer *p, uint64_t at_us)
{
	struct h_seg sa;
	unsigned int acc = h_count_events(&net.b, TWS_EV_ACCEPTED);

	HC(p_send(p, TWS_TCP_SYN, p->iss, 0, p_ts(p, at_us), NULL, 0, at_us), "%s", "SYN");
	HC(b_one(p, &sa, TWS_TCP_SYN | TWS_TCP_ACK), "%s", "SYN-ACK");
	HC(sa.ack == p->iss + 1 && sa.tsecr == p_ts(p, at_us), "%s", h_fmt(&sa));
	p->snd_nxt = p->iss + 1;
	p->rcv_nxt = sa.seq + 1;
	p->tsecr = sa.tsval;
	HC(p_send(p, TWS_TCP_ACK, p->snd_nxt, p->rcv_nxt, p_ts(p, at_us), NULL, 0, at_us), "%s",
	   "ACK");
	HC(b_silent(), "%s", "after the handshake");
	HC(h_count_events(&net.b, TWS_EV_ACCEPTED) == acc + 1, "%s", "no ACCEPTED");
	return true;
}

/* ---- F1: delayed old segment in the new incarnation (seed Figure 1) ---- */

/*
 * A client that starts both incarnations of its connection at the same ISN:
 * the server closes first and holds TIME_WAIT; the new SYN (seq before
 * rcv_nxt) is accepted on its newer timestamp. A data segment of the old
 * incarnation, delayed in the network, then arrives with exactly the
 * sequence number the new incarnation expects: PAWS drops it (one ACK, no
 * data delivered). The same sequence number with a current timestamp is
 * delivered: only the timestamp told the two apart.
 */
static void
F1_delayed_old_segment_dropped_by_paws(void)
{
	struct tws_tcp_knobs k;
	struct peer p = { .addr = H_ADDR_C, .port = 40001, .ts_off = 77000, .iss = 123456789 };
	uint8_t old_data[100], new_data[100];
	struct h_seg s, s2[8];

	memset(old_data, 'O', sizeof(old_data));
	memset(new_data, 'N', sizeof(new_data));
	h_knobs(&k);
	CHECK(net_start(&k, &k) == 0);
	net.b.close_after = 100; /* the server closes once it has the request */

	uint64_t t0 = net.now_us;

	/* First incarnation. */
	CHECK(p_connect(&p, t0));

	const uint32_t y1 = p.rcv_nxt - 1; /* B's first ISN */
	const uint64_t t_old = t0 + 5 * MS;
	const uint32_t ts_old = p_ts(&p, t_old);

	CHECK(p_send(&p, TWS_TCP_ACK | TWS_TCP_PSH, p.snd_nxt, p.rcv_nxt, ts_old, old_data, 100,
		     t_old));
	p.snd_nxt += 100;
	CHECK(net.b.rx_bytes == 100 && memcmp(net.b.rx_data, old_data, 100) == 0);

	/* B's FIN, carrying the ACK of the request (or after a bare ACK of it). */
	unsigned int ns = h_take(&net.b, s2, 8);

	CHECK(ns >= 1 && ns <= 2);
	for (unsigned int i = 0; i + 1 < ns; i++)
		CHECKF(s2[i].flags == TWS_TCP_ACK && s2[i].ack == p.snd_nxt, "%s", h_fmt(&s2[i]));
	CHECKF(s2[ns - 1].flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s2[ns - 1].seq == y1 + 1 &&
	       s2[ns - 1].ack == p.snd_nxt, "%s", h_fmt(&s2[ns - 1]));
	p.tsecr = s2[ns - 1].tsval;
	p.rcv_nxt = y1 + 2;

	/* The client's FIN: B enters TIME_WAIT and ACKs. */
	const uint64_t t_fin = t0 + 10 * MS;

	CHECK(p_send(&p, TWS_TCP_FIN | TWS_TCP_ACK, p.snd_nxt, p.rcv_nxt, p_ts(&p, t_fin), NULL, 0,
		     t_fin));
	p.snd_nxt++;
	CHECK(b_one(&p, &s, TWS_TCP_ACK));
	CHECKF(s.seq == y1 + 2 && s.ack == p.snd_nxt && s.tsecr == p_ts(&p, t_fin), "%s",
	       h_fmt(&s));

	struct tws_tw_view v;
	const struct tws_tuple tb = tuple(H_ADDR_B, 80, p.addr, p.port);

	CHECK(lookup(&net.b, tb, NULL, &v) == TWS_TIME_WAIT);
	CHECK(v.snd_nxt == y1 + 2 && v.rcv_nxt == p.iss + 102);
	CHECK(v.has_ts && v.ts_recent == p_ts(&p, t_fin));

	/* Second incarnation, 2 s later, same ISN: seq is not after rcv_nxt, the timestamp is newer. */
	net.b.close_after = 0;

	const uint64_t t1 = t0 + 2000 * MS;

	CHECK(tws_seq_before(p.iss, v.rcv_nxt));
	CHECK(p_send(&p, TWS_TCP_SYN, p.iss, 0, p_ts(&p, t1), NULL, 0, t1));
	CHECK(b_one(&p, &s, TWS_TCP_SYN | TWS_TCP_ACK));
	CHECKF(s.seq == v.snd_nxt + NEXT_ISN_GAP && s.ack == p.iss + 1 && s.tsecr == p_ts(&p, t1),
	       "%s, want seq %u", h_fmt(&s), v.snd_nxt + NEXT_ISN_GAP);
	CHECK(h_stat(&net.b, "tw_syn_accepted") == 1 && h_stat(&net.b, "tw_entries") == 0);
	p.snd_nxt = p.iss + 1;
	p.rcv_nxt = s.seq + 1;
	p.tsecr = s.tsval;
	CHECK(p_send(&p, TWS_TCP_ACK, p.snd_nxt, p.rcv_nxt, p_ts(&p, t1), NULL, 0, t1));
	CHECK(b_silent());
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 2);
	CHECK(lookup(&net.b, tb, NULL, NULL) == TWS_ESTABLISHED);

	/* The delayed copy of the old request: seq = rcv_nxt exactly, old timestamp. */
	const uint64_t t2 = t1 + 100 * MS;
	unsigned int data_ev = h_count_events(&net.b, TWS_EV_DATA);

	CHECK(p_send(&p, TWS_TCP_ACK | TWS_TCP_PSH, p.iss + 1, y1 + 1, ts_old, old_data, 100, t2));
	CHECK(b_one(&p, &s, TWS_TCP_ACK));
	CHECKF(s.seq == p.rcv_nxt && s.ack == p.iss + 1 && s.len == 0 && s.tsecr == p_ts(&p, t1),
	       "%s", h_fmt(&s));
	CHECK(h_stat(&net.b, "paws_rejected") == 1);
	CHECK(h_count_events(&net.b, TWS_EV_DATA) == data_ev);
	CHECK(net.b.rx_bytes == 100);
	CHECK(lookup(&net.b, tb, NULL, NULL) == TWS_ESTABLISHED);

	/* The new incarnation's own request at the same seq, current timestamp: delivered. */
	const uint64_t t3 = t1 + 200 * MS;

	CHECK(p_send(&p, TWS_TCP_ACK | TWS_TCP_PSH, p.iss + 1, p.rcv_nxt, p_ts(&p, t3), new_data,
		     100, t3));
	CHECK(b_one(&p, &s, TWS_TCP_ACK));
	CHECKF(s.ack == p.iss + 101 && s.tsecr == p_ts(&p, t3), "%s", h_fmt(&s));
	CHECK(h_count_events(&net.b, TWS_EV_DATA) == data_ev + 1);
	CHECK(net.b.rx_bytes == 200 && memcmp(net.b.rx_data + 100, new_data, 100) == 0);
	CHECK(h_stat(&net.b, "paws_rejected") == 1);
	h_net_free(&net);
}

/* ---- F2, F3: the last ACK is lost (seed Figures 2 and 3) ---- */

/* Drops A's ACK of B's FIN (the original and every re-ACK from TIME_WAIT). */
struct lost_ack {
	bool have_fin;
	uint32_t fin_end;   /* B's FIN sequence number + 1 */
	unsigned int dropped;
};

static struct lost_ack lost;

static bool
drop_last_ack(int from, const struct h_seg *s, unsigned int n, void *arg)
{
	struct lost_ack *f = arg;

	(void)n;
	if (from == 1 && (s->flags & TWS_TCP_FIN)) {
		f->have_fin = true;
		f->fin_end = s->seq + s->len + 1;
		return true;
	}
	if (from == 0 && f->have_fin && s->flags == TWS_TCP_ACK && s->len == 0 &&
	    s->ack == f->fin_end) {
		f->dropped++;
		return false;
	}
	return true;
}

/* What the lost-ACK set-up leaves: A in TIME_WAIT, B in LAST_ACK. */
struct lastack {
	uint64_t t0;
	struct h_seg a_fin, b_fin, a_ack; /* a_ack: the lost one */
};

/*
 * A requests, B answers, A closes, A's last ACK is lost. For a second B
 * retransmits its FIN and A's TIME_WAIT re-ACKs it; those ACKs are lost
 * too. At t0 + 1 s (the reuse delay) A reconnects from the same port: the
 * caller does that.
 */
static bool
lastack_setup(uint32_t policy, struct lastack *la)
{
	struct tws_tcp_knobs ka, kb;
	struct tws_conn *c;
	struct tws_conn_info ci;

	h_knobs(&ka);
	h_knobs(&kb);
	ka.port_min = ka.port_max = LPORT;
	kb.lastack_syn = policy;
	HC(net_start(&ka, &kb) == 0, "%s", "h_net_init");
	rr_client_closes();
	memset(&lost, 0, sizeof(lost));
	net.filter = drop_last_ack;
	net.filter_arg = &lost;
	la->t0 = net.now_us;

	HC(a_connect(&c) == 0, "%s", "connect");
	h_net_run(&net);
	HC(check_rr_client_closes(0), "%s", "first exchange");
	for (unsigned int i = 0; i < 6; i++)
		HC(!net.log_dropped[i], "segment %u dropped", i);
	HC(net.log_dropped[6] && lost.dropped == 1, "%s", "the last ACK was not lost");
	la->a_fin = net.log[4];
	la->b_fin = net.log[5];
	la->a_ack = net.log[6];
	HC(check_a_tw(6, la->b_fin.tsval), "%s", "A's entry");

	struct tws_conn *bc = NULL;

	HC(lookup(&net.b, tuple_b(), &bc, NULL) == TWS_LAST_ACK, "%s", "B not in LAST_ACK");
	tws_conn_info_get(bc, &ci);
	HC(ci.snd_una == la->b_fin.seq && ci.snd_max == la->b_fin.seq + 1,
	   "B snd_una %u snd_max %u, FIN %s", ci.snd_una, ci.snd_max, h_fmt(&la->b_fin));

	for (uint64_t ms = 100; ms <= 1000; ms += 100)
		h_net_at(&net, la->t0 + ms * MS);
	HC(h_stat(&net.b, "retransmits") >= 1, "%s", "B did not retransmit its FIN");
	HC(h_stat(&net.a, "tw_acked") >= 1 && lost.dropped >= 2, "tw_acked %llu, dropped %u",
	   (unsigned long long)h_stat(&net.a, "tw_acked"), lost.dropped);
	HC(lookup(&net.b, tuple_b(), NULL, NULL) == TWS_LAST_ACK, "%s", "B left LAST_ACK");
	HC(lookup(&net.a, tuple_a(), NULL, NULL) == TWS_TIME_WAIT, "%s", "A left TIME_WAIT");
	HC(h_count_events(&net.b, TWS_EV_CLOSED) == 0, "%s", "B closed");
	/* Every segment since the close was B's FIN again or A's (lost) re-ACK of it. */
	for (unsigned int i = 7; i < net.nb_log; i++) {
		const struct h_seg *s = &net.log[i];

		if (net.log_from[i] == 1)
			HC(s->flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s->seq == la->b_fin.seq,
			   "%s", h_fmt(s));
		else
			HC(net.log_dropped[i] && s->seq == la->a_ack.seq, "%s", h_fmt(s));
	}
	return true;
}

/* The reconnect at t0 + 1 s: reuses A's entry, SYN seq = old snd_nxt + 65537. */
static bool
lastack_reconnect(const struct lastack *la, struct tws_conn **c2, unsigned int *n0)
{
	struct tws_conn_info ci;

	*n0 = net.nb_log;
	HC(a_connect(c2) == 0, "%s", "connect");
	HC(h_stat(&net.a, "tw_reused") == 1, "%s", "TIME_WAIT not reused");
	tws_conn_info_get(*c2, &ci);
	HC(ci.iss == la->a_ack.seq + NEXT_ISN_GAP, "iss %u, old snd_nxt %u", ci.iss,
	   la->a_ack.seq);
	h_net_run(&net);
	HC(seg_is(*n0, 0, TWS_TCP_SYN), "%s", "SYN");

	const struct h_seg *syn = &net.log[*n0];

	HC(syn->sport == LPORT && syn->seq == ci.iss, "%s", h_fmt(syn));
	/* Newer than anything B saw from A: passes B's PAWS. */
	HC(syn->has_ts && tws_seq_after(syn->tsval, la->a_fin.tsval), "%s, A's FIN %s",
	   h_fmt(syn), h_fmt(&la->a_fin));
	return true;
}

/* lastack_syn=rst: B resets the SYN and its LAST_ACK connection; the connect fails. */
static void
F2_lost_last_ack_rst_fails_connect(void)
{
	struct lastack la;
	struct tws_conn *c2;
	unsigned int n0;

	CHECK(lastack_setup(TWS_LASTACK_RST, &la));
	CHECK(lastack_reconnect(&la, &c2, &n0));
	CHECKF(net.nb_log - n0 == 2, "%u segments", net.nb_log - n0);
	CHECK(seg_is(n0 + 1, 1, TWS_TCP_RST | TWS_TCP_ACK));

	const struct h_seg *syn = &net.log[n0], *rst = &net.log[n0 + 1];

	CHECKF(rst->seq == la.b_fin.seq + 1 && rst->ack == syn->seq + 1, "%s", h_fmt(rst));

	const struct h_event *err = h_last_event(&net.a, TWS_EV_ERROR);

	CHECK(err != NULL && err->conn == c2 && err->error == ECONNREFUSED);
	CHECK(h_stat(&net.a, "refused") == 1);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 1);
	CHECK(lookup(&net.a, tuple_a(), NULL, NULL) == TWS_CLOSED);
	CHECK(h_stat(&net.a, "conns") == 0 && h_stat(&net.a, "tw_entries") == 0);
	CHECK(h_stat(&net.b, "lastack_syn_rst") == 1);
	CHECK(h_stat(&net.b, "lastack_syn_accepted") == 0);
	CHECK(h_stat(&net.b, "lastack_syn_challenged") == 0);
	CHECK(lookup(&net.b, tuple_b(), NULL, NULL) == TWS_CLOSED);
	CHECK(h_stat(&net.b, "conns") == 0 && h_stat(&net.b, "passive_opens") == 1);
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 1);

	/* Failed for good: no SYN retransmission follows. */
	h_net_at(&net, la.t0 + 5000 * MS);
	CHECK(net.nb_log == n0 + 2);
	h_net_free(&net);
}

/*
 * lastack_syn=challenge (RFC 5961 4): SYN -> challenge ACK -> A's RST
 * <SEQ=SEG.ACK> closes LAST_ACK -> A's SYN retransmission 1 s later connects.
 */
static void
F3_lost_last_ack_challenge_connects_after_rto(void)
{
	struct lastack la;
	struct tws_conn *c2;
	unsigned int n0;

	CHECK(lastack_setup(TWS_LASTACK_CHALLENGE, &la));
	net.a.request_len = 0;   /* the reconnect is a bare handshake */
	net.b.auto_reply = false;
	CHECK(lastack_reconnect(&la, &c2, &n0));
	CHECKF(net.nb_log - n0 == 3, "%u segments", net.nb_log - n0);
	CHECK(seg_is(n0 + 1, 1, TWS_TCP_ACK) && seg_is(n0 + 2, 0, TWS_TCP_RST));

	const struct h_seg syn = net.log[n0], *ch = &net.log[n0 + 1], *rst = &net.log[n0 + 2];

	/* Challenge ACK <SEQ=snd_nxt><ACK=rcv_nxt>, TSecr = ts_recent (A's FIN). */
	CHECKF(ch->seq == la.b_fin.seq + 1 && ch->ack == la.a_fin.seq + 1 && ch->len == 0, "%s",
	       h_fmt(ch));
	CHECKF(ch->has_ts && ch->tsecr == la.a_fin.tsval, "%s", h_fmt(ch));
	/* The SYN_SENT client: an unacceptable ACK draws RST <SEQ=SEG.ACK> (RFC 9293 3.10.7.3). */
	CHECKF(rst->seq == ch->ack && rst->sport == LPORT, "%s", h_fmt(rst));
	CHECK(h_stat(&net.b, "lastack_syn_challenged") == 1 && h_stat(&net.b, "challenge_acks") == 1);
	CHECK(h_stat(&net.b, "lastack_syn_accepted") == 0 && h_stat(&net.b, "lastack_syn_rst") == 0);
	CHECK(h_stat(&net.b, "rst_rcvd") == 1 && h_stat(&net.b, "conns") == 0);
	CHECK(lookup(&net.b, tuple_b(), NULL, NULL) == TWS_CLOSED);
	CHECK(h_stat(&net.a, "rst_sent") == 1);
	CHECK(tws_conn_state(c2) == TWS_SYN_SENT);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 1);
	CHECK(h_count_events(&net.a, TWS_EV_ERROR) == 0);

	/* Nothing until the SYN's retransmission timeout (rto_init_ms = 1 s). */
	h_net_at(&net, la.t0 + 1999 * MS);
	CHECK(net.nb_log == n0 + 3 && tws_conn_state(c2) == TWS_SYN_SENT);
	h_net_at(&net, la.t0 + 2000 * MS);
	CHECKF(net.nb_log - n0 == 6, "%u segments", net.nb_log - n0);
	CHECK(seg_is(n0 + 3, 0, TWS_TCP_SYN) && seg_is(n0 + 4, 1, TWS_TCP_SYN | TWS_TCP_ACK) &&
	      seg_is(n0 + 5, 0, TWS_TCP_ACK));

	const struct h_seg *rsyn = &net.log[n0 + 3], *sa = &net.log[n0 + 4], *ack = &net.log[n0 + 5];

	CHECKF(rsyn->seq == syn.seq && rsyn->tsval == syn.tsval + 1000, "%s after %s", h_fmt(rsyn),
	       h_fmt(&syn));
	CHECK(sa->ack == syn.seq + 1 && sa->tsecr == rsyn->tsval);
	CHECK(ack->seq == syn.seq + 1 && ack->ack == sa->seq + 1 && ack->tsecr == sa->tsval);
	CHECK(tws_conn_state(c2) == TWS_ESTABLISHED);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 2);
	CHECK(h_last_event(&net.a, TWS_EV_CONNECTED)->conn == c2);
	CHECK(h_stat(&net.a, "rto_fired") == 1);
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 2);
	CHECK(lookup(&net.b, tuple_b(), NULL, NULL) == TWS_ESTABLISHED);
	h_net_free(&net);
}

/*
 * lastack_syn=accept (spec 4): every byte but B's FIN is acked, the SYN is
 * newer: B closes LAST_ACK as if the ACK had come (CLOSED, no TIME_WAIT) and
 * answers at once with ISN = its snd_nxt + 65537. No RST, no stall.
 */
static void
F3_lost_last_ack_accept_connects_at_once(void)
{
	struct lastack la;
	struct tws_conn *c2;
	unsigned int n0;

	CHECK(lastack_setup(TWS_LASTACK_ACCEPT, &la));
	net.a.request_len = 0;
	net.b.auto_reply = false;

	unsigned int b_ev0 = net.b.nb_ev;

	CHECK(lastack_reconnect(&la, &c2, &n0));
	CHECKF(net.nb_log - n0 == 3, "%u segments", net.nb_log - n0);
	CHECK(seg_is(n0 + 1, 1, TWS_TCP_SYN | TWS_TCP_ACK) && seg_is(n0 + 2, 0, TWS_TCP_ACK));

	const struct h_seg *syn = &net.log[n0], *sa = &net.log[n0 + 1], *ack = &net.log[n0 + 2];

	CHECKF(sa->seq == la.b_fin.seq + 1 + NEXT_ISN_GAP && sa->ack == syn->seq + 1, "%s, want seq %u",
	       h_fmt(sa), la.b_fin.seq + 1 + NEXT_ISN_GAP);
	CHECK(sa->has_ts && sa->tsecr == syn->tsval);
	CHECK(ack->seq == syn->seq + 1 && ack->ack == sa->seq + 1 && ack->tsecr == sa->tsval);
	CHECK(tws_conn_state(c2) == TWS_ESTABLISHED);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 2);
	CHECK(h_stat(&net.a, "rst_sent") == 0 && h_stat(&net.a, "rto_fired") == 0);

	CHECK(h_stat(&net.b, "lastack_syn_accepted") == 1);
	CHECK(h_stat(&net.b, "lastack_syn_challenged") == 0 && h_stat(&net.b, "challenge_acks") == 0);
	CHECK(h_stat(&net.b, "lastack_syn_rst") == 0 && h_stat(&net.b, "rst_sent") == 0);
	CHECK(h_stat(&net.b, "tw_entries") == 0 && h_stat(&net.b, "tw_entered") == 0);
	CHECK(h_stat(&net.b, "conns") == 1);
	CHECK(lookup(&net.b, tuple_b(), NULL, NULL) == TWS_ESTABLISHED);
	/* B's events since: the old connection CLOSED (not RESET), then the new one ACCEPTED. */
	CHECKF(net.b.nb_ev == b_ev0 + 2, "%u events", net.b.nb_ev - b_ev0);
	CHECK(net.b.ev[b_ev0].type == TWS_EV_CLOSED && net.b.ev[b_ev0 + 1].type == TWS_EV_ACCEPTED);
	CHECK(h_count_events(&net.b, TWS_EV_RESET) == 0);

	/* Nothing more: no retransmission of the old FIN, no second SYN. */
	h_net_at(&net, la.t0 + 5000 * MS);
	CHECK(net.nb_log == n0 + 3);
	h_net_free(&net);
}

/* ---- F4: recycle and two clients behind one NAT address (seed Figure 4) ---- */

/*
 * Client X (high timestamp clock) behind 198.18.0.3 makes a request; B
 * answers and closes first, X closes: B's TIME_WAIT remembers X's last
 * tsval for 198.18.0.3 when recycle is on. Returns the time of the close.
 */
static bool
f4_first_client(struct peer *x, uint64_t *t_close)
{
	static const char req[10] = "GET / \r\n\r\n";
	struct h_seg s[8], fin;
	uint64_t t0 = net.now_us;

	HC(p_connect(x, t0), "%s", "X connect");

	uint64_t t1 = t0 + 1 * MS;

	HC(p_send(x, TWS_TCP_ACK | TWS_TCP_PSH, x->snd_nxt, x->rcv_nxt, p_ts(x, t1), req, 10, t1),
	   "%s", "request");
	x->snd_nxt += 10;

	unsigned int k = h_take(&net.b, s, 8);

	/* B: the 10-byte answer, then its FIN. */
	HC(k == 2, "B sent %u segments", k);
	HC((s[0].flags & ~TWS_TCP_PSH) == TWS_TCP_ACK && s[0].len == 10 && s[0].seq == x->rcv_nxt &&
	   s[0].ack == x->snd_nxt, "%s", h_fmt(&s[0]));
	HC(s[1].flags == (TWS_TCP_FIN | TWS_TCP_ACK) && s[1].seq == x->rcv_nxt + 10, "%s",
	   h_fmt(&s[1]));
	fin = s[1];
	x->rcv_nxt = fin.seq + 1;
	x->tsecr = fin.tsval;

	uint64_t t2 = t0 + 2 * MS;

	HC(p_send(x, TWS_TCP_FIN | TWS_TCP_ACK, x->snd_nxt, x->rcv_nxt, p_ts(x, t2), NULL, 0, t2),
	   "%s", "X FIN");
	x->snd_nxt++;
	HC(b_one(x, &s[0], TWS_TCP_ACK), "%s", "B's last ACK");
	HC(s[0].seq == fin.seq + 1 && s[0].ack == x->snd_nxt && s[0].tsecr == p_ts(x, t2), "%s",
	   h_fmt(&s[0]));
	HC(h_stat(&net.b, "tw_entered") == 1 && h_stat(&net.b, "tw_entries") == 1, "%s",
	   "B holds no TIME_WAIT");
	HC(lookup(&net.b, tuple(H_ADDR_B, 80, x->addr, x->port), NULL, NULL) == TWS_TIME_WAIT,
	   "%s", "X's tuple");
	*t_close = t2;
	return true;
}

/* Client X, then client Y from the same NAT address, another port, a clock 3000 s behind. */
static struct peer f4_x = { .addr = H_ADDR_C, .port = 40001, .ts_off = 3000000, .iss = 1000 };
static struct peer f4_y = { .addr = H_ADDR_C, .port = 40002, .ts_off = 100, .iss = 500000 };

static bool
f4_start(bool recycle, struct peer *x, struct peer *y, uint64_t *t_close)
{
	struct tws_tcp_knobs ka, kb;

	h_knobs(&ka);
	h_knobs(&kb);
	kb.tw_recycle = recycle;
	HC(net_start(&ka, &kb) == 0, "%s", "h_net_init");
	net.b.auto_reply = true;
	net.b.reply_len = 10;
	net.b.close_after = 10; /* the server closes after answering */
	*x = f4_x;
	*y = f4_y;
	return f4_first_client(x, t_close);
}

/*
 * Recycle on: B's TIME_WAIT lasts 700 ms (3.5 x 200 ms), and every SYN of
 * the lower-clock client Y is dropped silently (paws_passive_rejected) for
 * 60 s after X's close: at Linux's SYN retransmission times 0, 1, 3, 7, 15,
 * 31 s. X (higher clock) still connects; Y's SYN at 63 s, past the 60 s of
 * the cache entry, is answered.
 */
static void
F4_recycle_on_nat_lower_clock_syn_dropped(void)
{
	struct peer x, y;
	uint64_t tc;

	CHECK(f4_start(true, &x, &y, &tc));

	const uint32_t x_last = p_ts(&x, tc); /* X's FIN: what B remembered */
	const struct tws_tuple ty = tuple(H_ADDR_B, 80, y.addr, y.port);
	static const uint64_t syn_ms[] = { 10, 1010, 3010, 7010, 15010, 31010 };

	for (unsigned int i = 0; i < RTE_DIM(syn_ms); i++) {
		uint64_t at = tc + syn_ms[i] * MS;

		if (i == 1) {
			/* Recycle's short TIME_WAIT: X's entry lasts 700 ms (one tick of slack). */
			tws_stack_poll(net.b.st, tc + 698 * MS);
			CHECK(h_stat(&net.b, "tw_entries") == 1);
			tws_stack_poll(net.b.st, tc + 701 * MS);
			CHECK(h_stat(&net.b, "tw_entries") == 0 && h_stat(&net.b, "tw_expired") == 1);
			CHECK(b_silent());
		}
		CHECK(tws_seq_before(p_ts(&y, at) + 1, x_last));
		CHECK(p_send(&y, TWS_TCP_SYN, y.iss, 0, p_ts(&y, at), NULL, 0, at));
		CHECKF(b_silent(), "Y's SYN at +%llu ms", (unsigned long long)syn_ms[i]);
		CHECKF(h_stat(&net.b, "paws_passive_rejected") == i + 1, "Y's SYN at +%llu ms",
		       (unsigned long long)syn_ms[i]);
		CHECK(lookup(&net.b, ty, NULL, NULL) == TWS_CLOSED);
		CHECK(h_stat(&net.b, "passive_opens") == 1 && h_stat(&net.b, "conns") == 0);
	}

	/* X, whose clock is ahead, connects again meanwhile (new NAT port). */
	struct peer x2 = x;

	x2.port = 40003;
	x2.iss = 77777;
	CHECK(p_connect(&x2, tc + 32000 * MS));
	CHECK(h_stat(&net.b, "paws_passive_rejected") == RTE_DIM(syn_ms));

	/* 63 s: the remembered timestamp is older than 60 s, Y gets through. */
	uint64_t at = tc + 63010 * MS;

	CHECK(p_connect(&y, at));
	CHECK(h_stat(&net.b, "paws_passive_rejected") == RTE_DIM(syn_ms));
	CHECK(lookup(&net.b, ty, NULL, NULL) == TWS_ESTABLISHED);
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 3);
	h_net_free(&net);
}

/* Recycle off: the same two clients both connect; X's TIME_WAIT keeps its 60 s. */
static void
F4_recycle_off_nat_both_connect(void)
{
	struct peer x, y;
	uint64_t tc;

	CHECK(f4_start(false, &x, &y, &tc));
	CHECK(tws_seq_before(p_ts(&y, tc + 10 * MS) + 1, p_ts(&x, tc)));
	CHECK(p_connect(&y, tc + 10 * MS));
	CHECK(lookup(&net.b, tuple(H_ADDR_B, 80, y.addr, y.port), NULL, NULL) == TWS_ESTABLISHED);
	CHECK(h_stat(&net.b, "paws_passive_rejected") == 0);
	CHECK(h_stat(&net.b, "passive_opens") == 2);
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 2);
	tws_stack_poll(net.b.st, tc + 701 * MS);
	CHECK(lookup(&net.b, tuple(H_ADDR_B, 80, x.addr, x.port), NULL, NULL) == TWS_TIME_WAIT);
	CHECK(h_stat(&net.b, "tw_entries") == 1 && h_stat(&net.b, "tw_expired") == 0);
	CHECK(b_silent());
	h_net_free(&net);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(S1_client_port_exhaustion),
		TWS_TEST(S2_server_tw_replaced_by_next_syn),
		TWS_TEST(S3_tw_reuse_after_delay),
		TWS_TEST(F1_delayed_old_segment_dropped_by_paws),
		TWS_TEST(F2_lost_last_ack_rst_fails_connect),
		TWS_TEST(F3_lost_last_ack_challenge_connects_after_rto),
		TWS_TEST(F3_lost_last_ack_accept_connects_at_once),
		TWS_TEST(F4_recycle_on_nat_lower_clock_syn_dropped),
		TWS_TEST(F4_recycle_off_nat_both_connect),
	};
	int rc;

	(void)argc;
	h_init(argv[0]);
	rc = tws_test_run(cases, TWS_NCASES(cases));
	cleanup();
	return rc;
}
