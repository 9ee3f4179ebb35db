/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP engine: one stack instance per lcore. RFC 9293 state machine,
 * RFC 7323 timestamps and PAWS, RFC 6298 RTO, RFC 5681/6582 NewReno,
 * RFC 5961 protections, and the TIME_WAIT contract of spec/time-wait.md on
 * top of lib/table (connections, TIME_WAIT log, port allocator) and
 * lib/timer (one wheel timer per connection).
 *
 * Flow of a received segment: parse (tws_tcp_parse) -> table lookup ->
 * miss: listener or RST; TIME_WAIT: tws_tw_decide() and act; connection:
 * conn_input(). Events are queued while a segment is processed and
 * delivered when the engine holds no reference the callback could break;
 * then the connection's output runs, so data the application sends from a
 * callback carries the pending ACK (one segment instead of two).
 *
 * Timers: every connection has one wheel timer (id = its table index) set
 * to the earliest of its deadlines (retransmission/persist, delayed ACK,
 * FIN_WAIT_2). Deadlines that move later do not touch the wheel: the timer
 * fires, finds nothing due, and re-arms for what is left (lazy, as Linux's
 * sk_reset_timer users do). A freed connection leaves its timer pending;
 * the expiry finds the block free (or reused, with its own deadlines) and
 * does nothing wrong.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "tws_log.h"
#include "tws_util.h"
#include "tws_tcp.h"
#include "tws_timer.h"

RTE_LOG_REGISTER_SUFFIX(tws_stack_logtype, stack, INFO);

#define US_PER_MS 1000
#define EVQ_SIZE 256
#define TIMER_BATCH 64
#define TIMER_BATCHES_PER_POLL 64
#define TW_EXPIRE_PER_CALL 8192
#define PAWS_MSL_MS 60000u                       /* RST exempt from PAWS after this (spec 3) */
#define PAWS_24DAYS_MS (24u * 24 * 3600 * 1000)  /* RFC 7323 5.5: ts_recent too old to trust */
#define DEFAULT_MSS 536                         /* RFC 9293 3.7.1: no MSS option */
#define INIT_CWND_SEGS 10                       /* RFC 6928 */
#define TSO_CACHE 4096                          /* timestamp offset cache entries (48 KiB) */
#define TS_OPT_LEN 12                           /* NOP NOP + timestamps, on every segment */
#define SYNCOOKIE_VALID_MS 120000u              /* ACKs checked for cookies this long after one */

/* Connection flags. */
#define CF_TS          0x0001 /* timestamps in use (offered, in SYN_SENT) */
#define CF_WS          0x0002 /* window scaling in use (offered, in SYN_SENT) */
#define CF_SACK        0x0004 /* SACK-permitted exchanged */
#define CF_FIN_QUEUED  0x0008 /* the application closed: FIN after the queued data */
#define CF_ACK_NOW     0x0010 /* an ACK is owed now */
#define CF_RECOVERY    0x0020 /* NewReno fast recovery */
#define CF_PASSIVE     0x0040 /* made by a listener */
#define CF_WANT_SENT   0x0080 /* tws_send() accepted less than asked: SENT event owed */
#define CF_RTT_TIMING  0x0100 /* rtt_seq / rtt_start time one segment (no timestamps) */
#define CF_PEER_FIN    0x0200 /* the peer's FIN was received */
#define CF_SYNQ        0x0400 /* passive, in SYN_RCVD: counted in st->syn_rcvd */
#define CF_COOKIE      0x0800 /* made from a SYN cookie: no SYN-ACK timing to sample */

struct tws_conn {
	struct tws_stack *st;
	void *udata;
	uint8_t state;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t retries;       /* consecutive timeouts of the current segment */
	uint16_t flags;        /* CF_* */
	uint16_t mss;          /* segment size we send */
	uint32_t idx;          /* table index = timer id */
	uint32_t gen;          /* stack-wide allocation number: stale-event check */
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t rcv_nxt, rcv_adv;
	uint32_t ts_recent, ts_offset;
	uint32_t cwnd, ssthresh, recover;
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t rtt_seq;
	uint16_t dupacks;
	uint16_t segs_unacked;
	uint32_t nb_retrans;
	uint64_t rtt_start_us;
	uint64_t ts_recent_stamp;  /* ms */
	uint64_t last_oow_ack;     /* ms; 0: never */
	uint64_t rto_at, dack_at, fw2_at, timer_at; /* ms deadlines; 0: none */
	/* Send queue: bytes from sq_seq on, in single-segment mbufs linked by next. */
	struct rte_mbuf *sq_head, *sq_tail;
	uint32_t sq_seq, sq_len;
	/* Receive queue: in-order payload not read yet. */
	struct rte_mbuf *rq_head, *rq_tail;
	uint32_t rq_len;
	uint32_t max_snd_wnd;  /* largest window the peer offered: RFC 5961 5.2 MAX.SND.WND */
	/* Out-of-order payload beyond rcv_nxt, by sequence (OOO_SEQ), at most OOO_MAX_SEGS. */
	struct rte_mbuf *ooo_head;
};

/* With the table's 16-byte trailer a control block is 256 bytes: four cache lines. */
static_assert(sizeof(struct tws_conn) <= 240, "struct tws_conn outgrew 240 bytes");

struct listener {
	rte_be32_t laddr;
	rte_be16_t lport;
	void *udata;
};

struct ev {
	struct tws_event e;
	uint32_t gen;
	bool terminal;
};

struct tws_stack {
	struct tws_tcp_knobs k;
	struct tws_table *tbl;
	size_t key_off;            /* tws_table_conn_key_offset(tbl) */
	struct tws_timer *wheel;
	struct tws_ports *ports;
	struct tws_peer_cache *peers;
	struct rte_mempool *mp;
	uint64_t now_us, now_ms;
	struct tws_tcp_secret secret;
	struct tws_ratelimit challenge_rl;
	tws_event_cb cb;
	void *cb_arg;
	int tx_offload;
	uint32_t gen;
	uint16_t ip_id;
	uint16_t rcvbuf_wnd;       /* unscaled window of SYNs */
	struct rte_mbuf **txq;
	uint32_t txq_mask, tx_head, tx_tail;
	struct listener *ls;
	uint32_t nb_ls, max_ls;
	uint32_t max_conns;
	uint32_t syn_rcvd;         /* passive connections in SYN_RCVD (CF_SYNQ): the SYN queue */
	bool cookie_sent;          /* a cookie was sent, last at cookie_ms */
	uint64_t cookie_ms;
	uint32_t sq_mbufs;         /* mbufs held by send queues */
	uint32_t sq_limit;         /* at most half the pool: segments need the rest */
	uint32_t ev_n;
	bool in_flush;
	struct tws_stack_stats s;
	char name[32];
	struct ev evq[EVQ_SIZE];
	/* Timestamp offsets of recent address pairs (a SipHash each otherwise). */
	struct { rte_be32_t laddr, raddr; uint32_t off; } tso[TSO_CACHE];
};

/* ---- names ---- */

const char *
tws_tcp_state_name(enum tws_tcp_state s)
{
	static const char *const names[] = {
#define TWS_X_NAME(n) #n,
		TWS_TCP_STATES(TWS_X_NAME)
#undef TWS_X_NAME
	};

	return (unsigned int)s < TWS_TCP_STATE_COUNT ? names[s] : "?";
}

const char *
tws_event_name(enum tws_event_type e)
{
	static const char *const names[] = {
#define TWS_X_NAME(n, d) #n,
		TWS_EVENTS(TWS_X_NAME)
#undef TWS_X_NAME
	};

	return (unsigned int)e < TWS_EV_COUNT ? names[e] : "?";
}

const char *
tws_rx_reject_name(enum tws_rx_reject r)
{
	static const char *const names[] = {
#define TWS_X_NAME(n, d) #n,
		TWS_RX_REJECTS(TWS_X_NAME)
#undef TWS_X_NAME
	};

	return (unsigned int)r < TWS_RX_REJECT_COUNT ? names[r] : "?";
}

int
tws_stack_stat_name(unsigned int i, const char **name, const char **desc)
{
	static const char *const names[] = {
#define TWS_X_NAME(n, d) #n,
		TWS_STACK_STATS(TWS_X_NAME)
#undef TWS_X_NAME
	};
	static const char *const descs[] = {
#define TWS_X_DESC(n, d) d,
		TWS_STACK_STATS(TWS_X_DESC)
#undef TWS_X_DESC
	};

	if (i >= TWS_STACK_STATS_COUNT)
		return -EINVAL;
	*name = names[i];
	*desc = descs[i];
	return 0;
}

/* ---- small helpers ---- */

/* The connection's key, in the table's trailer of its block (no call: built on every segment). */
static inline const struct tws_tuple *
conn_key(const struct tws_conn *c)
{
	return (const struct tws_tuple *)((const uint8_t *)c + c->st->key_off);
}

static inline uint32_t
ts_now(const struct tws_stack *st)
{
	return (uint32_t)st->now_ms;
}

static inline uint32_t
u32_min(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t
u32_max(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* Bytes from a to b in sequence space, 0 when b is not after a. */
static inline uint32_t
seq_span(uint32_t a, uint32_t b)
{
	return tws_seq_after(b, a) ? b - a : 0;
}

static void
set_time(struct tws_stack *st, uint64_t now_us)
{
	/* The clock never goes back: a stepped clock must not re-order timers. */
	if (now_us > st->now_us) {
		st->now_us = now_us;
		st->now_ms = now_us / US_PER_MS;
	}
}

/*
 * RFC 7323 5.4 offset of an address pair, through a small direct-mapped
 * cache: a generator talks to few servers from many addresses, a server to
 * many clients, and either way the same pairs come back.
 */
static uint32_t
ts_offset(struct tws_stack *st, rte_be32_t laddr, rte_be32_t raddr)
{
	uint32_t h = (uint32_t)tws_mix64(((uint64_t)laddr << 32) | raddr) & (TSO_CACHE - 1);

	if (st->tso[h].laddr != laddr || st->tso[h].raddr != raddr || laddr == 0) {
		st->tso[h].laddr = laddr;
		st->tso[h].raddr = raddr;
		st->tso[h].off = tws_tcp_ts_offset(&st->secret, laddr, raddr);
	}
	return st->tso[h].off;
}

/* ---- events ---- */

static void
ev_push(struct tws_stack *st, struct tws_conn *c, enum tws_event_type type, int err,
	bool terminal)
{
	if (st->ev_n == EVQ_SIZE) {
		/* Cannot happen: the queue is flushed after each segment and timer. */
		TWS_LOG(tws_stack_logtype, ERR, "%s: event queue full, %s lost", st->name,
			tws_event_name(type));
		return;
	}

	struct ev *e = &st->evq[st->ev_n++];

	e->e.type = type;
	e->e.conn = c;
	e->e.udata = c->udata;
	e->e.error = err;
	e->gen = c->gen;
	e->terminal = terminal;
}

static void
ev_flush(struct tws_stack *st)
{
	if (st->in_flush)
		return;
	st->in_flush = true;
	/* Callbacks may queue more (tws_close() of a SYN_SENT connection): loop to the end. */
	for (uint32_t i = 0; i < st->ev_n; i++) {
		struct ev *e = &st->evq[i];
		struct tws_conn *c = e->e.conn;

		if (!e->terminal && (c->gen != e->gen || c->state == TWS_CLOSED))
			continue; /* aborted or closed by an earlier callback */
		if (!e->terminal)
			e->e.udata = c->udata; /* the application may have set it meanwhile */
		st->cb(st, &e->e, st->cb_arg);
	}
	st->ev_n = 0;
	st->in_flush = false;
}

/* ---- timers ---- */

static void
timer_update(struct tws_stack *st, struct tws_conn *c)
{
	uint64_t next = 0;

	if (c->rto_at != 0)
		next = c->rto_at;
	if (c->dack_at != 0 && (next == 0 || c->dack_at < next))
		next = c->dack_at;
	if (c->fw2_at != 0 && (next == 0 || c->fw2_at < next))
		next = c->fw2_at;
	if (next == 0 || (c->timer_at != 0 && c->timer_at <= next))
		return;
	if (tws_timer_arm(st->wheel, c->idx, next) == 0)
		c->timer_at = next;
}

/* ---- transmit ---- */

static inline uint32_t
txq_count(const struct tws_stack *st)
{
	return st->tx_tail - st->tx_head;
}

/* Copy len bytes of the send queue starting at sequence number seq. */
static void
sq_copy(const struct tws_conn *c, uint32_t seq, uint8_t *dst, uint32_t len)
{
	uint32_t off = seq - c->sq_seq;
	const struct rte_mbuf *m = c->sq_head;

	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (len > 0 && m != NULL) {
		uint32_t n = u32_min(len, m->data_len - off);

		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		dst += n;
		len -= n;
		off = 0;
		m = m->next;
	}
}

/*
 * Build one IPv4/TCP packet and queue it for tws_stack_tx_burst(). The
 * payload (len bytes at sequence data_seq) comes from c's send queue.
 */
static int
emit(struct tws_stack *st, const struct tws_tuple *k, const struct tws_seg_out *o,
     const struct tws_conn *c, uint32_t data_seq, uint32_t len)
{
	if (txq_count(st) > st->txq_mask) {
		st->s.tx_queue_full++;
		return -ENOBUFS;
	}

	struct rte_mbuf *m = rte_pktmbuf_alloc(st->mp);

	if (m == NULL) {
		st->s.tx_no_mbuf++;
		return -ENOBUFS;
	}

	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint8_t *tcp = (uint8_t *)(ip + 1);
	int hl = tws_tcp_write_header(tcp, TWS_TCP_HDR_MAX, o);
	uint16_t tot = (uint16_t)(sizeof(*ip) + (uint32_t)hl + len);

	if (len > 0)
		sq_copy(c, data_seq, tcp + hl, len);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(tot);
	ip->packet_id = rte_cpu_to_be_16(st->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = k->laddr;
	ip->dst_addr = k->raddr;
	m->data_len = tot;
	m->pkt_len = tot;
	m->l3_len = sizeof(*ip);
	m->l4_len = (uint64_t)hl;
	m->packet_type = RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;

	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)tcp;

	if (st->tx_offload) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tws_tcp_set_checksum(tcp, (uint32_t)hl + len, k->laddr, k->raddr);
	}
	st->txq[st->tx_tail++ & st->txq_mask] = m;
	st->s.tx_segs++;
	if (o->flags & TWS_TCP_RST)
		st->s.rst_sent++;
	return 0;
}

/* The window field for a segment of c; records the right edge advertised. */
static uint16_t
rcv_window(struct tws_conn *c, bool syn)
{
	const struct tws_stack *st = c->st;
	uint32_t room = st->k.rcvbuf > c->rq_len ? st->k.rcvbuf - c->rq_len : 0;
	uint32_t w;

	if (syn)
		return st->rcvbuf_wnd; /* RFC 7323 2.2: never scaled on a SYN */
	/*
	 * RFC 9293 3.8.6.2.2: the right edge never moves left. rcv_adv is the
	 * furthest edge ever announced and stays the limit of what is accepted:
	 * a scaled field rounds down, and an edge pulled back by that rounding
	 * would drop bytes the peer was allowed to send.
	 */
	uint8_t ws = (c->flags & CF_WS) ? c->rcv_wscale : 0;
	uint32_t edge;

	room = u32_max(room, seq_span(c->rcv_nxt, c->rcv_adv));
	w = u32_min(room >> ws, 65535);
	edge = c->rcv_nxt + (w << ws);
	if (tws_seq_after(edge, c->rcv_adv))
		c->rcv_adv = edge;
	return (uint16_t)w;
}

/* Send one segment of c: flags, sequence seq, len bytes of the send queue. */
static int
conn_xmit(struct tws_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct tws_stack *st = c->st;
	bool syn = flags & TWS_TCP_SYN;
	struct tws_seg_out o;

	o.sport = conn_key(c)->lport;
	o.dport = conn_key(c)->rport;
	o.seq = seq;
	o.flags = flags;
	o.ack = (flags & TWS_TCP_ACK) ? c->rcv_nxt : 0;
	o.window = rcv_window(c, syn);
	o.has_ts = (c->flags & CF_TS) != 0;
	o.tsval = ts_now(st) + c->ts_offset;
	o.tsecr = (flags & TWS_TCP_ACK) ? c->ts_recent : 0;
	if (syn) {
		o.syn.has_mss = true;
		o.syn.mss = (uint16_t)st->k.mss;
		o.syn.has_wscale = (c->flags & CF_WS) != 0;
		o.syn.wscale = c->rcv_wscale;
		o.syn.sack_ok = (c->flags & CF_SACK) != 0;
	}
	if (flags & TWS_TCP_ACK) {
		c->flags &= ~CF_ACK_NOW;
		c->dack_at = 0;
		c->segs_unacked = 0;
	}
	return emit(st, conn_key(c), &o, c, seq, len);
}

/*
 * An ACK <SEQ=SND.NXT><ACK=rcv_nxt>: pure ACK, challenge ACK, duplicate ACK.
 * RFC 9293's SND.NXT is snd_max here (snd_nxt goes back to snd_una on a
 * timeout): an ACK from snd_nxt would be older than what the peer already
 * has and dropped unread, and two sides that both went back would never
 * hear each other's ACKs (BSD sends pure ACKs from snd_max). Capped at the
 * peer's window end as Linux's tcp_acceptable_seq().
 */
static uint32_t
acceptable_seq(const struct tws_conn *c)
{
	uint32_t wnd_end = c->snd_una + c->snd_wnd;

	return tws_seq_leq(c->snd_max, wnd_end) ? c->snd_max : wnd_end;
}

static void
send_ack(struct tws_conn *c)
{
	conn_xmit(c, acceptable_seq(c), 0, TWS_TCP_ACK);
}

/*
 * RFC 9293 3.10.7.1: the reply to a segment for no connection. Never an
 * RST for an RST.
 */
static void
send_rst_reply(struct tws_stack *st, const struct tws_tuple *k, const struct tws_seg_info *si)
{
	struct tws_seg_out o = { .sport = k->lport, .dport = k->rport };

	if (si->flags & TWS_TCP_RST)
		return;
	if (si->flags & TWS_TCP_ACK) {
		o.seq = si->ack;
		o.flags = TWS_TCP_RST;
	} else {
		o.seq = 0;
		o.ack = si->seq + si->len + !!(si->flags & TWS_TCP_SYN) + !!(si->flags & TWS_TCP_FIN);
		o.flags = TWS_TCP_RST | TWS_TCP_ACK;
	}
	emit(st, k, &o, NULL, 0, 0);
}

/*
 * Rate limit of ACKs for out-of-window segments of a connection, as Linux's
 * tcp_oow_rate_limited(): segments with data (not SYN) are always answered,
 * they are not part of an ACK loop and their sender needs the ACK.
 */
static bool
oow_allow(struct tws_stack *st, struct tws_conn *c, const struct tws_seg_info *si)
{
	if (si->len > 0 && !(si->flags & TWS_TCP_SYN))
		return true;
	if (c->last_oow_ack != 0 && st->now_ms - c->last_oow_ack < st->k.oow_ack_interval_ms) {
		st->s.oow_acks_limited++;
		return false;
	}
	c->last_oow_ack = st->now_ms == 0 ? 1 : st->now_ms;
	return true;
}

/* RFC 5961 7: challenge ACKs share one per-stack budget per second. */
static void
challenge_ack(struct tws_stack *st, struct tws_conn *c)
{
	if (!tws_ratelimit_allow(&st->challenge_rl, st->now_ms)) {
		st->s.challenge_acks_limited++;
		return;
	}
	st->s.challenge_acks++;
	send_ack(c);
}

/* Bytes queued beyond sq_seq, as sequence numbers: the end of the data. */
static inline uint32_t
data_end(const struct tws_conn *c)
{
	return c->sq_seq + c->sq_len;
}

static inline bool
fin_acked(const struct tws_conn *c)
{
	return (c->flags & CF_FIN_QUEUED) && tws_seq_after(c->snd_una, data_end(c));
}

static inline bool
can_send_data(uint8_t state)
{
	return state == TWS_ESTABLISHED || state == TWS_CLOSE_WAIT || state == TWS_FIN_WAIT_1 ||
	       state == TWS_CLOSING || state == TWS_LAST_ACK;
}

/* Send the segment at seq again (fast retransmit, partial ACK); snd_nxt stays. */
static void
retransmit_head(struct tws_conn *c)
{
	uint32_t end = data_end(c);
	uint32_t len = u32_min(seq_span(c->snd_una, end), c->mss);
	uint8_t flags = TWS_TCP_ACK;

	if ((c->flags & CF_FIN_QUEUED) && c->snd_una + len == end)
		flags |= TWS_TCP_FIN;
	if (len == 0 && !(flags & TWS_TCP_FIN))
		return;
	if (conn_xmit(c, c->snd_una, len, flags | (len ? TWS_TCP_PSH : 0)) == 0) {
		c->st->s.retransmits++;
		c->nb_retrans++;
	}
	c->flags &= ~CF_RTT_TIMING; /* Karn */
}

/*
 * Send what the windows allow, then the ACK owed if no segment carried it.
 * No Nagle (a load balancer forwards what it has); sender-side silly window
 * avoidance: no runt segment while data waits for window and some is in flight.
 */
static void
conn_output(struct tws_conn *c)
{
	struct tws_stack *st = c->st;

	if (can_send_data(c->state)) {
		uint32_t end = data_end(c);
		uint32_t wnd = u32_min(c->snd_wnd, c->cwnd);

		for (;;) {
			uint32_t avail = seq_span(c->snd_nxt, end);
			uint32_t flight = c->snd_nxt - c->snd_una;
			uint32_t room = wnd > flight ? wnd - flight : 0;
			uint32_t len = u32_min(u32_min(avail, room), c->mss);
			bool fin = (c->flags & CF_FIN_QUEUED) && c->snd_nxt + len == end &&
				   len == avail && !tws_seq_after(c->snd_nxt, end);
			uint8_t flags = TWS_TCP_ACK;

			if (len == 0 && !fin)
				break;
			if (len < c->mss && len < avail && flight > 0)
				break;
			if (len > 0 && len == avail)
				flags |= TWS_TCP_PSH;
			if (fin)
				flags |= TWS_TCP_FIN;
			if (conn_xmit(c, c->snd_nxt, len, flags) != 0) {
				/*
				 * No mbuf or a full transmit queue (counted): with nothing
				 * in flight no ACK will call us again, so the timer must.
				 */
				if (c->rto_at == 0)
					c->rto_at = st->now_ms + c->rto_ms;
				break;
			}
			if (tws_seq_before(c->snd_nxt, c->snd_max)) {
				st->s.retransmits++;
				c->nb_retrans++;
			} else if (!(c->flags & (CF_TS | CF_RTT_TIMING)) && len > 0) {
				c->flags |= CF_RTT_TIMING;
				c->rtt_seq = c->snd_nxt + len;
				c->rtt_start_us = st->now_us;
			}
			c->snd_nxt += len + fin;
			if (tws_seq_after(c->snd_nxt, c->snd_max))
				c->snd_max = c->snd_nxt;
			if (c->rto_at == 0)
				c->rto_at = st->now_ms + c->rto_ms;
			if (fin)
				break;
		}
		/* Zero window with data waiting and nothing in flight: persist timer. */
		if (c->snd_wnd == 0 && seq_span(c->snd_nxt, end) > 0 && c->snd_una == c->snd_max &&
		    c->rto_at == 0)
			c->rto_at = st->now_ms + c->rto_ms;
	}
	if (c->flags & CF_ACK_NOW)
		send_ack(c);
	timer_update(st, c);
}

/* ---- connection life ---- */

/* Free a queue of mbufs linked by next. @return how many. */
static uint32_t
queue_free(struct rte_mbuf *m)
{
	uint32_t n = 0;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
		n++;
	}
	return n;
}

static void
conn_release_buffers(struct tws_conn *c)
{
	c->st->sq_mbufs -= queue_free(c->sq_head);
	queue_free(c->rq_head);
	queue_free(c->ooo_head);
	c->sq_head = c->sq_tail = c->rq_head = c->rq_tail = c->ooo_head = NULL;
	c->sq_len = c->rq_len = 0;
}

/* c leaves the SYN queue (established or finished). */
static inline void
synq_leave(struct tws_conn *c)
{
	if (c->flags & CF_SYNQ) {
		c->flags &= ~CF_SYNQ;
		c->st->syn_rcvd--;
	}
}

/*
 * Finish a connection: buffers and table slot freed, the terminal event
 * queued (none when ev < 0). The block stays readable until reused; its
 * state CLOSED marks queued events and the pending timer stale.
 */
static void
conn_finish(struct tws_conn *c, int ev, int err)
{
	struct tws_stack *st = c->st;
	struct tws_tuple key = *conn_key(c);

	synq_leave(c);
	conn_release_buffers(c);
	if (ev >= 0)
		ev_push(st, c, (enum tws_event_type)ev, err, true);
	c->state = TWS_CLOSED;
	tws_table_conn_delete(st->tbl, c);
	if (!(c->flags & CF_PASSIVE))
		tws_ports_release(st->ports, &key);
	st->s.conn_closed++;
}

/* Spec section 2: the active closer's connection becomes a compact entry. */
static void
conn_enter_tw(struct tws_conn *c)
{
	struct tws_stack *st = c->st;
	struct tws_tw_state tw = {
		.snd_nxt = c->snd_max,
		.rcv_nxt = c->rcv_nxt,
		.ts_recent = c->ts_recent,
		.ts_recent_stamp = c->ts_recent_stamp,
		.rcv_wscale = (c->flags & CF_WS) ? c->rcv_wscale : 0,
		.flags = (c->flags & CF_TS) && c->ts_recent_stamp != 0 ? TWS_TW_F_TS : 0,
	};

	if (c->flags & CF_ACK_NOW)
		send_ack(c);
	conn_release_buffers(c);
	if (st->peers != NULL && (tw.flags & TWS_TW_F_TS))
		tws_peer_cache_remember(st->peers, conn_key(c)->raddr, c->ts_recent, st->now_ms);
	ev_push(st, c, TWS_EV_CLOSED, 0, true);
	c->state = TWS_CLOSED;
	if (tws_table_conn_to_tw(st->tbl, c, &tw, st->now_ms) == 0)
		st->s.tw_entered++;
	else
		st->s.tw_overflow++; /* spec 2: no entry at max_tw, the close is clean all the same */
	st->s.conn_closed++;
}

static void
rtt_sample(struct tws_conn *c, uint32_t r_us)
{
	struct tws_stack *st = c->st;

	/* RFC 6298 2.2 and 2.3 */
	if (c->srtt_us == 0) {
		c->srtt_us = r_us == 0 ? 1 : r_us;
		c->rttvar_us = r_us / 2;
	} else {
		uint32_t d = c->srtt_us > r_us ? c->srtt_us - r_us : r_us - c->srtt_us;

		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r_us) / 8;
		if (c->srtt_us == 0)
			c->srtt_us = 1;
	}

	uint32_t rto = (c->srtt_us + u32_max(US_PER_MS, 4 * c->rttvar_us)) / US_PER_MS;

	c->rto_ms = RTE_MIN(RTE_MAX(rto, st->k.rto_min_ms), st->k.rto_max_ms);
}

/* Options of the peer's SYN (or SYN-ACK) decide what this connection uses. */
static void
conn_take_syn_options(struct tws_conn *c, const struct tws_seg_info *si,
		      const struct tws_tcp_opts *op)
{
	struct tws_stack *st = c->st;
	uint32_t mss = op->has_mss && op->mss > 0 ? op->mss : DEFAULT_MSS;

	c->mss = (uint16_t)u32_min(mss, st->k.mss);
	if ((c->flags & CF_WS) && op->has_wscale) {
		c->snd_wscale = op->wscale;
		c->rcv_wscale = (uint8_t)st->k.wscale;
	} else {
		c->flags &= ~CF_WS;
		c->snd_wscale = c->rcv_wscale = 0;
	}
	if (!(c->flags & CF_SACK) || !op->sack_ok)
		c->flags &= ~CF_SACK;
	if ((c->flags & CF_TS) && si->has_ts) {
		c->ts_recent = si->tsval;
		c->ts_recent_stamp = st->now_ms;
		/*
		 * RFC 6691 / Linux's mss_cache: the MSS counts payload after a bare
		 * 20-byte header; the 12 bytes of the timestamp option on every
		 * segment come out of it, or a full segment overflows the MTU.
		 */
		c->mss = (uint16_t)(c->mss - TS_OPT_LEN);
	} else {
		c->flags &= ~CF_TS;
	}
	c->irs = si->seq;
	c->rcv_nxt = si->seq + 1;
	c->rcv_adv = c->rcv_nxt + st->rcvbuf_wnd; /* what our SYN (or SYN-ACK) announces */
	c->snd_wnd = si->window; /* RFC 7323 2.2: a SYN's window is not scaled */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = si->seq;
	c->cwnd = INIT_CWND_SEGS * c->mss;
}

/* A new control block with our side's defaults; iss given. */
static struct tws_conn *
conn_new(struct tws_stack *st, const struct tws_tuple *k, uint32_t iss, int *rc)
{
	void *blk;

	*rc = tws_table_conn_insert(st->tbl, k, &blk);
	if (*rc != 0) {
		if (*rc == -ENOSPC)
			st->s.conn_table_full++;
		return NULL;
	}

	struct tws_conn *c = blk;

	c->st = st;
	c->idx = (uint32_t)tws_table_conn_index(st->tbl, c);
	c->gen = ++st->gen;
	c->iss = iss;
	c->snd_una = iss;
	c->snd_nxt = iss;
	c->snd_max = iss;
	c->sq_seq = iss + 1;
	c->recover = iss;
	c->rto_ms = st->k.rto_init_ms;
	c->ssthresh = UINT32_MAX;
	c->mss = DEFAULT_MSS;
	c->flags = (st->k.timestamps ? CF_TS : 0) | CF_WS | (st->k.sack ? CF_SACK : 0);
	c->rcv_wscale = (uint8_t)st->k.wscale;
	if (c->flags & CF_TS)
		c->ts_offset = ts_offset(st, k->laddr, k->raddr);
	return c;
}

static void
send_syn(struct tws_conn *c)
{
	uint8_t flags = TWS_TCP_SYN | (c->state == TWS_SYN_RCVD ? TWS_TCP_ACK : 0);

	conn_xmit(c, c->iss, 0, flags);
	c->rtt_start_us = c->st->now_us;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	if (c->rto_at == 0)
		c->rto_at = c->st->now_ms + c->rto_ms;
	timer_update(c->st, c);
}

static struct listener *
listener_find(struct tws_stack *st, rte_be32_t laddr, rte_be16_t lport)
{
	for (uint32_t i = 0; i < st->nb_ls; i++)
		if (st->ls[i].lport == lport && (st->ls[i].laddr == 0 || st->ls[i].laddr == laddr))
			return &st->ls[i];
	return NULL;
}

/*
 * SYN-ACK with a cookie for ISN, nothing kept (Linux's tcp_conn_request()
 * with want_cookie). Without timestamps window scale and SACK are not
 * offered: nothing could bring them back (Linux clears the options).
 */
static void
syncookie_reply(struct tws_stack *st, const struct tws_tuple *k, const struct tws_seg_info *si,
		const struct tws_tcp_opts *op)
{
	uint32_t idx = tws_syncookie_mss_index(op->has_mss && op->mss > 0 ? op->mss : DEFAULT_MSS);
	bool ts = st->k.timestamps && si->has_ts;
	struct tws_seg_out o = {
		.sport = k->lport, .dport = k->rport,
		.seq = tws_syncookie_make(&st->secret, k, si->seq, tws_syncookie_count(st->now_ms),
					  idx),
		.ack = si->seq + 1, .flags = TWS_TCP_SYN | TWS_TCP_ACK, .window = st->rcvbuf_wnd,
		.has_ts = ts,
		.syn = { .has_mss = true, .mss = (uint16_t)st->k.mss },
	};

	if (ts) {
		o.syn.has_wscale = op->has_wscale;
		o.syn.wscale = (uint8_t)st->k.wscale;
		o.syn.sack_ok = st->k.sack && op->sack_ok;
		o.tsval = tws_syncookie_tsval(ts_now(st), op->has_wscale ? op->wscale :
					      TWS_SYNCOOKIE_WS_NONE, o.syn.sack_ok) +
			  ts_offset(st, k->laddr, k->raddr);
		o.tsecr = si->tsval;
	}
	if (emit(st, k, &o, NULL, 0, 0) == 0) {
		st->s.syncookies_sent++;
		st->cookie_sent = true;
		st->cookie_ms = st->now_ms;
	}
}

/*
 * A bare ACK for no connection: does it return a cookie (Linux's
 * cookie_v4_check())? Checked only within SYNCOOKIE_VALID_MS of the last
 * cookie sent (Linux's tcp_synq_no_recent_overflow()), always with
 * syncookies=always. *made: a connection (SYN_RCVD, to take the ACK) or NULL
 * with *made false: not a cookie (the caller resets), or NULL with *made
 * true: valid but no room (dropped, counted in conn_table_full).
 */
static struct tws_conn *
syncookie_conn(struct tws_stack *st, const struct tws_tuple *k, const struct tws_seg_info *si,
	       bool *made)
{
	struct listener *l;

	*made = false;
	if (st->k.syncookies == TWS_SYNCOOKIES_OFF ||
	    (st->k.syncookies != TWS_SYNCOOKIES_ALWAYS &&
	     (!st->cookie_sent || st->now_ms - st->cookie_ms > SYNCOOKIE_VALID_MS)))
		return NULL;
	l = listener_find(st, k->laddr, k->lport);
	if (l == NULL)
		return NULL;

	uint32_t iss = si->ack - 1;
	int idx = tws_syncookie_check(&st->secret, k, si->seq - 1, iss,
				      tws_syncookie_count(st->now_ms));
	struct tws_tcp_opts op = { .has_mss = true };
	struct tws_seg_info syn = *si;

	syn.seq = si->seq - 1;
	syn.has_ts = st->k.timestamps && si->has_ts;
	if (idx >= 0 && syn.has_ts)
		tws_syncookie_ts_decode(si->tsecr - ts_offset(st, k->laddr, k->raddr),
					&op.has_wscale, &op.wscale, &op.sack_ok);
	if (idx < 0) {
		st->s.syncookies_failed++;
		return NULL;
	}
	op.mss = tws_syncookie_mss((uint32_t)idx);
	*made = true;

	int rc;
	struct tws_conn *c = conn_new(st, k, iss, &rc);

	if (c == NULL)
		return NULL;
	c->flags |= CF_PASSIVE | CF_COOKIE;
	c->udata = l->udata;
	c->state = TWS_SYN_RCVD;
	conn_take_syn_options(c, &syn, &op);
	c->snd_nxt = c->snd_max = iss + 1;
	st->s.syncookies_recv++;
	st->s.passive_opens++;
	return c;
}

/*
 * A SYN for no connection: a listener answers it with SYN-ACK. With
 * has_isn, the ISN is given (a SYN that replaced TIME_WAIT or LAST_ACK).
 */
static void
syn_to_listener(struct tws_stack *st, const struct tws_tuple *k, const struct tws_seg_info *si,
		const struct tws_tcp_opts *op, bool has_isn, uint32_t isn)
{
	struct listener *l = listener_find(st, k->laddr, k->lport);
	int rc;

	if (l == NULL) {
		st->s.no_listener++;
		send_rst_reply(st, k, si);
		return;
	}
	/* Spec 6 (recycle): Linux's tcp_peer_is_proven() check, NAT breakage included. */
	if (st->peers != NULL && si->has_ts &&
	    tws_peer_cache_syn_reject(st->peers, k->raddr, si->tsval, st->now_ms, PAWS_MSL_MS)) {
		st->s.paws_passive_rejected++;
		return;
	}

	/*
	 * RFC 4987 3.6: past syn_backlog SYN_RCVD connections (per stack: a
	 * stack is an lcore, the flood lands on it whatever the listener),
	 * answer without state; the TIME_WAIT ISN rule gives way to the cookie,
	 * as in Linux's tcp_conn_request().
	 */
	bool cookie = st->k.syncookies == TWS_SYNCOOKIES_ALWAYS;

	if (st->syn_rcvd >= st->k.syn_backlog) {
		st->s.syn_queue_full++;
		if (st->k.syncookies == TWS_SYNCOOKIES_OFF) {
			st->s.syn_queue_dropped++;
			return;
		}
		cookie = true;
	}
	if (cookie) {
		syncookie_reply(st, k, si, op);
		return;
	}

	struct tws_conn *c = conn_new(st, k, has_isn ? isn : tws_tcp_isn(&st->secret, k, st->now_us),
				      &rc);

	if (c == NULL)
		return;
	c->flags |= CF_PASSIVE | CF_SYNQ;
	st->syn_rcvd++;
	c->udata = l->udata;
	c->state = TWS_SYN_RCVD;
	conn_take_syn_options(c, si, op);
	st->s.passive_opens++;
	send_syn(c);
}

static void
conn_established(struct tws_conn *c, enum tws_event_type ev)
{
	synq_leave(c);
	c->state = TWS_ESTABLISHED;
	c->retries = 0;
	c->rto_at = 0;
	c->st->s.established++;
	ev_push(c->st, c, ev, 0, false);
}

/* SYN_SENT (RFC 9293 3.10.7.3). */
static void
conn_input_syn_sent(struct tws_conn *c, const struct tws_seg_info *si,
		    const struct tws_tcp_opts *op)
{
	struct tws_stack *st = c->st;
	bool ack = si->flags & TWS_TCP_ACK;

	if (ack && !(tws_seq_after(si->ack, c->iss) && tws_seq_leq(si->ack, c->snd_max))) {
		if (!(si->flags & TWS_TCP_RST))
			send_rst_reply(st, conn_key(c), si);
		return;
	}
	if (si->flags & TWS_TCP_RST) {
		if (ack) {
			st->s.refused++;
			conn_finish(c, TWS_EV_ERROR, ECONNREFUSED);
		}
		return;
	}
	if (!(si->flags & TWS_TCP_SYN))
		return;
	conn_take_syn_options(c, si, op);
	if (!ack) {
		/* Simultaneous open: answer with SYN-ACK from the same ISN. */
		c->state = TWS_SYN_RCVD;
		conn_xmit(c, c->iss, 0, TWS_TCP_SYN | TWS_TCP_ACK);
		return;
	}
	c->snd_una = si->ack;
	c->snd_wl2 = si->ack;
	if (c->snd_nxt != si->ack)
		c->snd_nxt = si->ack;
	if ((c->flags & CF_TS) && si->tsecr != 0)
		rtt_sample(c, (ts_now(st) + c->ts_offset - si->tsecr) * US_PER_MS);
	else if (c->retries == 0)
		rtt_sample(c, (uint32_t)(st->now_us - c->rtt_start_us));
	c->flags |= CF_ACK_NOW;
	conn_established(c, TWS_EV_CONNECTED);
}

/* Take acked bytes off the send queue. */
static void
sq_ack(struct tws_conn *c, uint32_t ack)
{
	uint32_t n = u32_min(seq_span(c->sq_seq, ack), c->sq_len);

	c->sq_seq += n;
	c->sq_len -= n;
	while (n > 0) {
		struct rte_mbuf *m = c->sq_head;

		if (n >= m->data_len) {
			n -= m->data_len;
			c->sq_head = m->next;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			c->st->sq_mbufs--;
		} else {
			rte_pktmbuf_adj(m, (uint16_t)n);
			n = 0;
		}
	}
	if (c->sq_head == NULL)
		c->sq_tail = NULL;
}

/* NewReno (RFC 5681 3.1-3.2, RFC 6582 3.2) on an ACK of new data. */
static void
cc_new_ack(struct tws_conn *c, uint32_t acked)
{
	if (c->flags & CF_RECOVERY) {
		if (tws_seq_geq(c->snd_una, c->recover)) {
			/* Full acknowledgment: deflate the window. */
			uint32_t flight = c->snd_max - c->snd_una;

			c->cwnd = u32_min(c->ssthresh, u32_max(flight, c->mss) + c->mss);
			c->flags &= ~CF_RECOVERY;
			c->dupacks = 0;
		} else {
			/* Partial acknowledgment: retransmit the next hole at once. */
			retransmit_head(c);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= c->mss)
				c->cwnd += c->mss;
			c->cwnd = u32_max(c->cwnd, c->mss);
			c->rto_at = c->st->now_ms + c->rto_ms;
		}
		return;
	}
	c->dupacks = 0;
	if (c->cwnd < c->ssthresh)
		c->cwnd += u32_min(acked, c->mss);
	else
		c->cwnd += u32_max(1, c->mss * c->mss / c->cwnd);
}

static void
cc_dup_ack(struct tws_conn *c)
{
	struct tws_stack *st = c->st;

	st->s.dup_acks++;
	c->dupacks++;
	if (c->flags & CF_RECOVERY) {
		c->cwnd += c->mss; /* RFC 6582 3.2 step 4: inflate */
		return;
	}
	if (c->dupacks != 3 || !tws_seq_after(c->snd_una, c->recover))
		return;
	c->ssthresh = u32_max((c->snd_max - c->snd_una) / 2, 2u * c->mss);
	c->recover = c->snd_max;
	c->flags |= CF_RECOVERY;
	st->s.fast_retransmits++;
	retransmit_head(c);
	c->cwnd = c->ssthresh + 3u * c->mss;
}

/* RFC 5961 5.2: an acceptable ACK lies in [SND.UNA - MAX.SND.WND, SND.NXT]. */
static inline bool
ack_acceptable(const struct tws_conn *c, uint32_t ack)
{
	return !tws_seq_after(ack, c->snd_max) &&
	       !tws_seq_before(ack, c->snd_una - c->max_snd_wnd);
}

/* RFC 9293 3.10.7.4 fifth check, with RFC 5961 5.2 and RFC 7323 RTT. */
static bool
conn_ack(struct tws_conn *c, const struct tws_seg_info *si)
{
	struct tws_stack *st = c->st;
	uint32_t ack = si->ack;

	if (!ack_acceptable(c, ack)) {
		/* Acks data never sent, or older than any window: ACK back and drop. */
		st->s.ack_invalid++;
		if (oow_allow(st, c, si))
			send_ack(c);
		return false;
	}
	if (tws_seq_after(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;

		sq_ack(c, ack);
		c->snd_una = ack;
		if (tws_seq_before(c->snd_nxt, ack))
			c->snd_nxt = ack;
		if ((c->flags & CF_TS) && si->has_ts && si->tsecr != 0)
			rtt_sample(c, (ts_now(st) + c->ts_offset - si->tsecr) * US_PER_MS);
		else if ((c->flags & CF_RTT_TIMING) && tws_seq_geq(ack, c->rtt_seq)) {
			c->flags &= ~CF_RTT_TIMING;
			rtt_sample(c, (uint32_t)(st->now_us - c->rtt_start_us));
		}
		c->retries = 0;
		cc_new_ack(c, acked);
		c->rto_at = c->snd_una == c->snd_max ? 0 : st->now_ms + c->rto_ms;
		if ((c->flags & CF_WANT_SENT) && c->sq_len < st->k.sndbuf) {
			c->flags &= ~CF_WANT_SENT;
			ev_push(st, c, TWS_EV_SENT, 0, false);
		}
	} else if (ack == c->snd_una && si->len == 0 &&
		   !(si->flags & (TWS_TCP_SYN | TWS_TCP_FIN)) && c->snd_una != c->snd_max &&
		   ((uint32_t)si->window << c->snd_wscale) == c->snd_wnd) {
		cc_dup_ack(c);
	}
	/*
	 * Window update (RFC 9293 3.10.7.4: only when SND.UNA =< SEG.ACK; SND.WL1/WL2
	 * keep old segments out). An ACK older than SND.UNA must not set the window:
	 * a blind one with a far SEG.SEQ would pin it (WL1) at zero.
	 */
	if (tws_seq_geq(ack, c->snd_una) &&
	    (tws_seq_before(c->snd_wl1, si->seq) ||
	     (c->snd_wl1 == si->seq && tws_seq_leq(c->snd_wl2, ack)))) {
		uint32_t old = c->snd_wnd;

		c->snd_wnd = (uint32_t)si->window << c->snd_wscale;
		c->max_snd_wnd = u32_max(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = si->seq;
		c->snd_wl2 = ack;
		if (old == 0 && c->snd_wnd > 0 && c->snd_una == c->snd_max)
			c->rto_at = 0; /* persist timer no longer needed */
	}
	return true;
}

/* In-order payload joins the receive queue; the mbuf is kept (returns true). */
static bool
conn_data(struct tws_conn *c, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	struct tws_stack *st = c->st;

	rte_pktmbuf_adj(m, (uint16_t)off);
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len));
	m->next = NULL;
	if (c->rq_tail != NULL)
		c->rq_tail->next = m;
	else
		c->rq_head = m;
	c->rq_tail = m;
	c->rq_len += len;
	c->rcv_nxt += len;
	if (c->rq_len == len)
		ev_push(st, c, TWS_EV_DATA, 0, false);
	/* RFC 9293 3.8.6.3 / RFC 1122: ACK at least every second full segment. */
	if (++c->segs_unacked >= 2 || len < c->mss)
		c->flags |= CF_ACK_NOW;
	else if (c->dack_at == 0)
		c->dack_at = st->now_ms + st->k.delack_ms;
	return true;
}

/*
 * Out-of-order segments (RFC 9293 3.10.7.4 seventh, "segment text": a
 * segment inside the window but beyond rcv_nxt is kept for later). An mbuf
 * of the queue holds payload only; the mbuf's hash field (free once the
 * packet is parsed) holds the sequence number of its first byte and
 * whether a FIN follows it.
 */
#define OOO_MAX_SEGS 64
#define OOO_SEQ(m) ((m)->hash.fdir.lo)
#define OOO_FIN(m) ((m)->hash.fdir.hi)

/* Keep len bytes at seq (at offset off of m), in sequence order. Returns true if kept. */
static bool
ooo_insert(struct tws_conn *c, struct rte_mbuf *m, uint32_t off, uint32_t seq, uint32_t len,
	   bool fin)
{
	struct rte_mbuf **pp = &c->ooo_head, *q;
	unsigned int n = 0;

	for (q = c->ooo_head; q != NULL; q = q->next) {
		if (tws_seq_leq(OOO_SEQ(q), seq) &&
		    tws_seq_geq(OOO_SEQ(q) + q->data_len, seq + len) && (OOO_FIN(q) || !fin))
			return false; /* nothing new */
		n++;
	}
	if (n >= OOO_MAX_SEGS)
		return false;
	while (*pp != NULL && tws_seq_before(OOO_SEQ(*pp), seq))
		pp = &(*pp)->next;
	rte_pktmbuf_adj(m, (uint16_t)off);
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - len));
	OOO_SEQ(m) = seq;
	OOO_FIN(m) = fin;
	m->next = *pp;
	*pp = m;
	return true;
}

/*
 * The segments rcv_nxt has reached join the receive queue (overlaps cut),
 * ACKed at once (RFC 5681 4.2: a segment that fills a gap). Returns true
 * when the FIN that followed them is now in order.
 */
static bool
ooo_drain(struct tws_conn *c)
{
	struct rte_mbuf *m;

	while ((m = c->ooo_head) != NULL && tws_seq_leq(OOO_SEQ(m), c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - OOO_SEQ(m);
		bool fin = OOO_FIN(m);

		c->ooo_head = m->next;
		m->next = NULL;
		c->flags |= CF_ACK_NOW;
		if (skip >= m->data_len) {
			bool fin_new = skip == m->data_len && fin;

			rte_pktmbuf_free(m);
			if (fin_new)
				return true;
			continue; /* all of it came already */
		}
		rte_pktmbuf_adj(m, (uint16_t)skip);
		if (c->rq_tail != NULL)
			c->rq_tail->next = m;
		else
			c->rq_head = m;
		c->rq_tail = m;
		c->rq_len += m->data_len;
		c->rcv_nxt += m->data_len;
		if (fin)
			return true;
	}
	return false;
}

/* Spec section 4: a SYN (no RST) meeting LAST_ACK; the SYN is consumed here. */
static void
conn_lastack_syn(struct tws_conn *c, const struct tws_seg_info *si,
		 const struct tws_tcp_opts *op)
{
	struct tws_stack *st = c->st;
	struct tws_lastack_view v = {
		.snd_una = c->snd_una, .snd_nxt = c->snd_max, .rcv_nxt = c->rcv_nxt,
		.ts_recent = c->ts_recent, .has_ts = (c->flags & CF_TS) != 0,
		.ts_recent_stamp = c->ts_recent_stamp,
	};
	enum tws_lastack_verdict vd = tws_lastack_syn_decide(&v, si, st->now_ms,
		(enum tws_lastack_policy)st->k.lastack_syn, PAWS_MSL_MS);
	struct tws_tuple key = *conn_key(c);
	uint32_t isn = tws_tw_next_isn(c->snd_max);

	switch (vd) {
	case TWS_LASTACK_V_ACCEPT:
		st->s.lastack_syn_accepted++;
		conn_finish(c, TWS_EV_CLOSED, 0); /* as if the last ACK had come */
		syn_to_listener(st, &key, si, op, true, isn);
		break;
	case TWS_LASTACK_V_CHALLENGE:
		st->s.lastack_syn_challenged++;
		challenge_ack(st, c);
		break;
	case TWS_LASTACK_V_RST: {
		/* Seed Figure 2 (RFC 793 behaviour): reset the SYN and the connection. */
		struct tws_seg_out o = {
			.sport = key.lport, .dport = key.rport, .seq = c->snd_max,
			.ack = si->seq + 1, .flags = TWS_TCP_RST | TWS_TCP_ACK,
		};

		st->s.lastack_syn_rst++;
		emit(st, &key, &o, NULL, 0, 0);
		conn_finish(c, TWS_EV_RESET, ECONNRESET);
		break;
	}
	}
}

/*
 * A segment for a connection in a synchronized state or SYN_RCVD (RFC 9293
 * 3.10.7.4 order, Linux's tcp_validate_incoming() for PAWS and RFC 5961).
 * Returns true if the mbuf was kept (its payload queued).
 */
static bool
conn_input(struct tws_conn *c, struct rte_mbuf *m, const struct tws_seg_info *si,
	   const struct tws_tcp_opts *op)
{
	struct tws_stack *st = c->st;
	uint8_t fl = si->flags;
	bool kept = false;

	if (c->state == TWS_SYN_SENT) {
		conn_input_syn_sent(c, si, op);
		return false;
	}
	if (c->state == TWS_LAST_ACK && (fl & TWS_TCP_SYN) && !(fl & TWS_TCP_RST)) {
		conn_lastack_syn(c, si, op);
		return false;
	}

	/* First: PAWS (RFC 7323 5.3), RSTs exempt as in Linux. */
	if ((c->flags & CF_TS) && si->has_ts && !(fl & TWS_TCP_RST) &&
	    tws_seq_before(si->tsval, c->ts_recent) &&
	    st->now_ms - c->ts_recent_stamp < PAWS_24DAYS_MS) {
		st->s.paws_rejected++;
		if (oow_allow(st, c, si))
			send_ack(c);
		return false;
	}

	uint32_t wnd = seq_span(c->rcv_nxt, c->rcv_adv);

	/* RST: RFC 5961 3.2. */
	if (fl & TWS_TCP_RST) {
		switch (tws_rfc5961_decide(c->rcv_nxt, wnd, si)) {
		case TWS_5961_ACCEPT:
			st->s.rst_rcvd++;
			if (c->state == TWS_SYN_RCVD && (c->flags & CF_PASSIVE))
				conn_finish(c, -1, 0); /* the application never saw it */
			else
				conn_finish(c, TWS_EV_RESET, ECONNRESET);
			return false;
		case TWS_5961_CHALLENGE:
			st->s.rst_in_window++;
			challenge_ack(st, c);
			return false;
		default:
			st->s.oow_dropped++;
			return false;
		}
	}

	/* Sequence acceptability as Linux's tcp_sequence(). */
	uint32_t end_seq = si->seq + si->len + !!(fl & TWS_TCP_SYN) + !!(fl & TWS_TCP_FIN);

	/* A SYN goes on to its challenge ACK whatever its seq (RFC 5961 4.2, Linux's syn_challenge). */
	if (!(fl & TWS_TCP_SYN) &&
	    (tws_seq_before(end_seq, c->rcv_nxt) || tws_seq_after(si->seq, c->rcv_nxt + wnd))) {
		st->s.oow_dropped++;
		if (oow_allow(st, c, si))
			send_ack(c);
		return false;
	}

	if (fl & TWS_TCP_SYN) {
		if (c->state == TWS_SYN_RCVD && si->seq == c->irs) {
			/* The peer lost our SYN-ACK and sends its SYN again. */
			conn_xmit(c, c->iss, 0, TWS_TCP_SYN | TWS_TCP_ACK);
			return false;
		}
		/* RFC 5961 4.2: a SYN in a synchronized state draws a challenge ACK. */
		st->s.syn_in_established++;
		challenge_ack(st, c);
		return false;
	}
	if (!(fl & TWS_TCP_ACK))
		return false;

	if (c->state == TWS_SYN_RCVD) {
		if (!(tws_seq_after(si->ack, c->snd_una) && tws_seq_leq(si->ack, c->snd_max))) {
			send_rst_reply(st, conn_key(c), si);
			return false;
		}
		if (c->flags & CF_COOKIE)
			; /* the cookie SYN-ACK's TSval was rounded down, its time unknown */
		else if ((c->flags & CF_TS) && si->has_ts && si->tsecr != 0)
			rtt_sample(c, (ts_now(st) + c->ts_offset - si->tsecr) * US_PER_MS);
		else if (c->retries == 0) /* Karn: no sample from a retransmitted SYN-ACK */
			rtt_sample(c, (uint32_t)(st->now_us - c->rtt_start_us));
		c->snd_wnd = (uint32_t)si->window << c->snd_wscale;
		c->max_snd_wnd = u32_max(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = si->seq;
		c->snd_wl2 = si->ack;
		conn_established(c, (c->flags & CF_PASSIVE) ? TWS_EV_ACCEPTED : TWS_EV_CONNECTED);
	}

	/*
	 * RFC 7323 4.3: ts_recent from segments that start at or before rcv_nxt;
	 * not from one the ACK check below drops (RFC 9293 3.10.7.4 fifth, RFC
	 * 5961 5.2): a blind in-window segment with an unacceptable ACK and a far
	 * TSval would make every genuine segment fail PAWS (Linux: tcp_ack()'s
	 * checks before tcp_replace_ts_recent()).
	 */
	if ((c->flags & CF_TS) && si->has_ts && tws_seq_leq(si->seq, c->rcv_nxt) &&
	    tws_seq_geq(si->tsval, c->ts_recent) && ack_acceptable(c, si->ack)) {
		c->ts_recent = si->tsval;
		c->ts_recent_stamp = st->now_ms;
	}

	if (!conn_ack(c, si))
		return false;

	/* Our FIN acknowledged. */
	if (fin_acked(c)) {
		switch (c->state) {
		case TWS_FIN_WAIT_1:
			c->state = TWS_FIN_WAIT_2;
			c->fw2_at = st->now_ms + st->k.fin_wait2_timeout_ms;
			break;
		case TWS_CLOSING:
			conn_enter_tw(c);
			return false;
		case TWS_LAST_ACK:
			conn_finish(c, TWS_EV_CLOSED, 0);
			return false;
		default:
			break;
		}
	}

	/* Payload. */
	uint32_t seq = si->seq, len = si->len, off = si->hdr_len;
	bool fin = fl & TWS_TCP_FIN;

	if (len > 0 || fin) {
		if (tws_seq_before(seq, c->rcv_nxt)) {
			uint32_t skip = c->rcv_nxt - seq;

			if (skip > len) {
				/* An old FIN again (our ACK lost?): ACK it, it is not new. */
				off += len;
				len = 0;
				fin = false;
				c->flags |= CF_ACK_NOW;
			} else { /* the new part (skip == len: only the FIN) */
				off += skip;
				len -= skip;
				/*
				 * A retransmission of what we have (our ACK was lost):
				 * ACK at once, as Linux's tcp_data_queue() does, or the
				 * sender retransmits it forever.
				 */
				if (len == 0)
					c->flags |= CF_ACK_NOW;
			}
			seq = c->rcv_nxt;
		}
		if (len > seq_span(seq, c->rcv_adv)) {
			len = seq_span(seq, c->rcv_adv); /* beyond the window: cut, FIN too */
			fin = false;
		}
		bool data_ok = c->state == TWS_ESTABLISHED || c->state == TWS_FIN_WAIT_1 ||
			       c->state == TWS_FIN_WAIT_2;

		if (seq != c->rcv_nxt) {
			/* Out of order: kept for later; the duplicate ACK drives recovery. */
			if (len > 0 && data_ok && ooo_insert(c, m, off, seq, len, fin)) {
				st->s.ooo_queued++;
				kept = true;
			} else {
				st->s.ooo_dropped++;
			}
			c->flags |= CF_ACK_NOW;
			len = 0;
			fin = false;
		} else if (len > 0) {
			if (data_ok) {
				kept = conn_data(c, m, off, len);
				if (c->ooo_head != NULL && ooo_drain(c))
					fin = true;
			} else {
				c->flags |= CF_ACK_NOW; /* data after the peer's FIN: ignored */
			}
		}
	}

	if (fin && !(c->flags & CF_PEER_FIN)) {
		c->flags |= CF_PEER_FIN | CF_ACK_NOW;
		c->rcv_nxt++;
		switch (c->state) {
		case TWS_SYN_RCVD:
		case TWS_ESTABLISHED:
			c->state = TWS_CLOSE_WAIT;
			ev_push(st, c, TWS_EV_PEER_CLOSED, 0, false);
			break;
		case TWS_FIN_WAIT_1:
			c->state = TWS_CLOSING; /* simultaneous close */
			break;
		case TWS_FIN_WAIT_2:
			if (c->rq_len > 0) {
				/*
				 * Bytes before the FIN are the application's (RFC 9293
				 * 3.10.7.4, eighth): TIME_WAIT once its DATA event has
				 * been delivered (rx_segment()).
				 */
				c->state = TWS_TIME_WAIT;
				return kept;
			}
			conn_enter_tw(c);
			return kept;
		default:
			break;
		}
	} else if (fin) {
		c->flags |= CF_ACK_NOW; /* FIN again: our ACK was lost */
	}
	return kept;
}

/* ---- TIME_WAIT ---- */

static void
tw_send_ack(struct tws_stack *st, const struct tws_tw_entry *e)
{
	const struct tws_tuple *k = &e->key;
	struct tws_seg_out o = {
		.sport = k->lport, .dport = k->rport, .seq = e->snd_nxt, .ack = e->rcv_nxt,
		.flags = TWS_TCP_ACK,
		.window = (uint16_t)u32_min(st->k.rcvbuf >> e->rcv_wscale, 65535),
	};

	if (e->flags & TWS_TW_F_TS) {
		o.has_ts = true;
		o.tsval = ts_now(st) + ts_offset(st, k->laddr, k->raddr);
		o.tsecr = e->ts_recent;
	}
	emit(st, k, &o, NULL, 0, 0);
}

/* Spec section 3: act on the pure verdict for a segment meeting an entry. */
static void
tw_input(struct tws_stack *st, struct tws_tw_entry *e, const struct tws_seg_info *si,
	 const struct tws_tcp_opts *op)
{
	struct tws_table *t = st->tbl;
	struct tws_tw_view v = {
		.snd_nxt = e->snd_nxt, .rcv_nxt = e->rcv_nxt, .ts_recent = e->ts_recent,
		.has_ts = (e->flags & TWS_TW_F_TS) != 0,
		.ts_recent_stamp = tws_table_tw_ts_stamp(t, e),
	};
	struct tws_tw_policy pol = {
		.rfc1337 = st->k.rfc1337 != 0,
		.syn_reject_drop = st->k.tw_syn_reject == TWS_TW_SYN_REJECT_DROP,
		.oow_ack_interval = st->k.oow_ack_interval_ms,
		.paws_msl = PAWS_MSL_MS,
	};
	struct tws_tw_decision d;
	struct tws_tuple key = e->key;

	v.oow_acked = tws_table_tw_oow_last(t, e, &v.last_oow_ack) != 0;
	tws_tw_decide(&v, si, st->now_ms, &pol, &d);
	if (d.paws_rejected)
		st->s.tw_paws_rejected++;
	if (d.syn && d.verdict != TWS_TW_ACCEPT_SYN)
		st->s.tw_syn_rejected++;

	switch (d.verdict) {
	case TWS_TW_KILL:
		st->s.tw_killed++;
		tws_table_tw_remove(t, e);
		return;
	case TWS_TW_ACCEPT_SYN:
		st->s.tw_syn_accepted++;
		tws_table_tw_remove(t, e);
		syn_to_listener(st, &key, si, op, true, d.isn);
		return;
	case TWS_TW_ACK:
		st->s.tw_acked++;
		tw_send_ack(st, e);
		tws_table_tw_oow_mark(t, e, st->now_ms);
		break;
	case TWS_TW_ACK_LIMITED:
		st->s.tw_ack_limited++;
		break;
	case TWS_TW_DROP:
		if (si->flags & TWS_TCP_RST)
			st->s.tw_rst_ignored++;
		break;
	case TWS_TW_RESTART:
	default:
		break;
	}
	bool restarted = false;

	if (d.restart_timer) {
		struct tws_tw_entry *ne = tws_table_tw_restart(t, e, st->now_ms);

		if (ne != NULL) {
			st->s.tw_restarted++;
			e = ne;
			restarted = true;
			/*
			 * The new record has no ACK time: carry the rate limit over
			 * (spec 3). It holds no time before its creation, so a
			 * limit still running restarts now: never more ACKs.
			 */
			if (d.verdict == TWS_TW_ACK ||
			    (v.oow_acked && st->now_ms - v.last_oow_ack < pol.oow_ack_interval))
				tws_table_tw_oow_mark(t, e, st->now_ms);
		}
	}
	if (d.update_ts && si->has_ts) {
		/* Rule 1 "remember the segment's timestamp": the restarted record is created now. */
		e->ts_recent = si->tsval;
		if (restarted) {
			e->ts_age = 0;
			e->flags |= TWS_TW_F_TS;
		}
	}
}

/* ---- receive ---- */

static int
ip_check(struct rte_mbuf *m, struct rte_ipv4_hdr **ipp, uint32_t *l4_len)
{
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0)
		return TWS_RX_BAD_IP;
	if (m->data_len < sizeof(struct rte_ipv4_hdr))
		return TWS_RX_NOT_IPV4;

	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);

	if ((ip->version_ihl >> 4) != 4)
		return TWS_RX_NOT_IPV4;
	if (ihl < sizeof(*ip) || tot < ihl || tot > m->data_len)
		return TWS_RX_BAD_IP;
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return TWS_RX_BAD_IP;
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    rte_raw_cksum(ip, ihl) != 0xffff)
		return TWS_RX_BAD_IP;
	if (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return TWS_RX_FRAGMENT;
	if (ip->next_proto_id != IPPROTO_TCP)
		return TWS_RX_NOT_TCP;
	*ipp = ip;
	*l4_len = tot - ihl;
	return -1;
}

/*
 * One well-formed segment; @p hit is what the burst lookup found for its key
 * before earlier segments of the burst ran. Returns true if the mbuf was kept.
 */
static bool
rx_segment(struct tws_stack *st, struct rte_mbuf *m, const struct tws_tuple *key,
	   const struct tws_seg_info *si, const struct tws_tcp_opts *op,
	   const struct tws_table_hit *burst_hit)
{
	struct tws_table_hit hit;
	bool kept = false;

	struct tws_conn *c = NULL;
	bool made = false;
	enum tws_table_kind kind;

	/*
	 * A connection hit still current is the answer a new lookup would
	 * give; anything else (a miss an earlier segment may have filled, a
	 * TIME_WAIT entry that may be gone) is looked up again, from cache.
	 */
	if (burst_hit->kind == TWS_TABLE_CONN &&
	    tws_table_conn_current(st->tbl, burst_hit->conn, key)) {
		hit = *burst_hit;
		kind = TWS_TABLE_CONN;
	} else {
		kind = tws_table_lookup(st->tbl, key, &hit);
	}
	switch (kind) {
	case TWS_TABLE_CONN:
		c = hit.conn;
		break;
	case TWS_TABLE_TW:
		tw_input(st, hit.tw, si, op);
		break;
	default:
		if ((si->flags & (TWS_TCP_SYN | TWS_TCP_ACK | TWS_TCP_RST)) == TWS_TCP_SYN) {
			syn_to_listener(st, key, si, op, false, 0);
		} else if ((si->flags & (TWS_TCP_SYN | TWS_TCP_ACK | TWS_TCP_RST)) == TWS_TCP_ACK &&
			   ((c = syncookie_conn(st, key, si, &made)) != NULL || made)) {
			break; /* a cookie: the connection takes the ACK (and its data) */
		} else {
			st->s.no_listener++;
			send_rst_reply(st, key, si);
		}
		break;
	}
	if (c != NULL) {
		uint32_t gen = c->gen;

		kept = conn_input(c, m, si, op);
		ev_flush(st);
		if (c->gen == gen && c->state == TWS_TIME_WAIT) {
			conn_enter_tw(c); /* deferred until the data was read */
			ev_flush(st);
		} else if (c->gen == gen && c->state != TWS_CLOSED) {
			conn_output(c);
		}
		return kept;
	}
	ev_flush(st);
	return kept;
}

/* A received packet between the two phases of tws_stack_rx_burst(). */
struct rx_item {
	struct rte_mbuf *m;
	struct tws_tuple key;
	struct tws_seg_info si;
	struct tws_tcp_opts op;
};

/* Phase 1 for one packet: checks and parse. -1 when well formed, else the reject reason. */
static int
rx_classify(struct rte_mbuf *m, struct rx_item *it)
{
	struct rte_ipv4_hdr *ip = NULL;
	uint32_t l4_len = 0;
	int r = ip_check(m, &ip, &l4_len);

	if (r >= 0)
		return r;

	uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
	uint64_t l4f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	enum tws_tcp_seg_status ss = tws_tcp_parse((uint8_t *)ip + ihl, l4_len, ip->src_addr,
						   ip->dst_addr,
						   l4f != RTE_MBUF_F_RX_L4_CKSUM_GOOD,
						   &it->si, &it->op);

	if (ss == TWS_SEG_OK && l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		ss = TWS_SEG_BAD_CSUM;
	if (ss != TWS_SEG_OK) /* segment statuses follow the IP reasons in the same order */
		return TWS_RX_TRUNCATED + (int)ss - TWS_SEG_TRUNCATED;
	it->m = m;
	it->key.laddr = ip->dst_addr;
	it->key.raddr = ip->src_addr;
	it->key.lport = it->si.dport;
	it->key.rport = it->si.sport;
	it->si.hdr_len = (uint16_t)(it->si.hdr_len + ihl); /* payload offset in the mbuf */
	return -1;
}

uint16_t
tws_stack_rx_burst(struct tws_stack *st, struct rte_mbuf **pkts, struct rte_mbuf **rej,
		   int32_t *reason, uint16_t n, uint64_t now_us)
{
	struct rx_item items[TWS_TABLE_BURST_MAX];
	const void *keys[TWS_TABLE_BURST_MAX];
	struct tws_table_hit hits[TWS_TABLE_BURST_MAX];
	uint16_t nb_rej = 0;

	set_time(st, now_us);
	/* Entries due now are gone before any lookup (spec T7: not a tick late). */
	st->s.tw_expired += tws_table_expire(st->tbl, st->now_ms, TW_EXPIRE_PER_CALL);

	for (uint16_t base = 0; base < n; base += TWS_TABLE_BURST_MAX) {
		uint16_t cnt = (uint16_t)RTE_MIN(n - base, TWS_TABLE_BURST_MAX);
		unsigned int k = 0;

		/* Phase 1: check and parse everything, then look the keys up in one burst. */
		for (uint16_t i = 0; i < cnt; i++) {
			struct rte_mbuf *m = pkts[base + i];
			int r = rx_classify(m, &items[k]);

			if (r >= 0) {
				st->s.rx_rejected[r]++;
				rej[nb_rej] = m;
				reason[nb_rej++] = r;
				continue;
			}
			keys[k] = &items[k].key;
			k++;
		}
		/*
		 * The burst lookup overlaps the cache misses of all keys. Its
		 * answers may be stale once an earlier segment changed the table:
		 * phase 2 checks a connection hit is still current, and looks the
		 * rest up again, now from cache.
		 */
		tws_table_lookup_burst(st->tbl, keys, k, hits);

		/* Phase 2: one segment after the other, in arrival order. */
		for (unsigned int i = 0; i < k; i++) {
			struct rx_item *it = &items[i];

			st->s.rx_segs++;
			if (!rx_segment(st, it->m, &it->key, &it->si, &it->op, &hits[i]))
				rte_pktmbuf_free(it->m);
		}
	}
	return (uint16_t)(n - nb_rej);
}

/* ---- timers ---- */

static void
conn_timeout(struct tws_conn *c)
{
	struct tws_stack *st = c->st;
	uint64_t now = st->now_ms;

	c->timer_at = 0;
	if (c->dack_at != 0 && c->dack_at <= now) {
		c->dack_at = 0;
		if (c->flags & CF_ACK_NOW || c->segs_unacked > 0) {
			st->s.delayed_acks++;
			send_ack(c);
		}
	}
	if (c->fw2_at != 0 && c->fw2_at <= now && c->state == TWS_FIN_WAIT_2) {
		st->s.fin_wait2_timeouts++;
		conn_finish(c, TWS_EV_CLOSED, 0);
		return;
	}
	if (c->rto_at != 0 && c->rto_at <= now) {
		c->rto_at = 0;
		if (c->state == TWS_SYN_SENT || c->state == TWS_SYN_RCVD) {
			if (c->retries >= st->k.syn_retries) {
				st->s.timeouts++;
				if (c->state == TWS_SYN_RCVD && (c->flags & CF_PASSIVE))
					conn_finish(c, -1, 0);
				else
					conn_finish(c, TWS_EV_ERROR, ETIMEDOUT);
				return;
			}
			c->retries++;
			c->rto_ms = u32_min(c->rto_ms * 2, st->k.rto_max_ms);
			st->s.rto_fired++;
			st->s.retransmits++;
			c->nb_retrans++;
			send_syn(c);
			return;
		}
		if (c->snd_una != c->snd_max) {
			/* RFC 6298 5.4-5.7 and RFC 5681 3.1 (7); RFC 6582 4 for recover. */
			if (c->retries >= st->k.retries) {
				st->s.timeouts++;
				conn_finish(c, TWS_EV_ERROR, ETIMEDOUT);
				return;
			}
			st->s.rto_fired++;
			c->retries++;
			c->ssthresh = u32_max((c->snd_max - c->snd_una) / 2, 2u * c->mss);
			c->cwnd = c->mss;
			c->flags &= ~(CF_RECOVERY | CF_RTT_TIMING);
			c->recover = c->snd_max;
			c->dupacks = 0;
			c->snd_nxt = c->snd_una;
			c->rto_ms = u32_min(c->rto_ms * 2, st->k.rto_max_ms);
			c->rto_at = now + c->rto_ms;
			conn_output(c);
			return;
		}
		if (c->snd_wnd == 0 && seq_span(c->snd_nxt, data_end(c)) > 0) {
			/* Zero-window probe as Linux's tcp_xmit_probe_skb(): an old sequence number. */
			st->s.zero_window_probes++;
			conn_xmit(c, c->snd_una - 1, 0, TWS_TCP_ACK);
			c->rto_ms = u32_min(c->rto_ms * 2, st->k.rto_max_ms);
			c->rto_at = now + c->rto_ms;
		} else if (seq_span(c->snd_nxt, data_end(c)) > 0 ||
			   ((c->flags & CF_FIN_QUEUED) && c->snd_max == data_end(c))) {
			/* Nothing in flight, something to send: an earlier send found no mbuf. */
			conn_output(c);
			return;
		} else if (c->flags & CF_WANT_SENT) {
			/* tws_send() found no mbuf with nothing queued: let the application retry. */
			c->flags &= ~CF_WANT_SENT;
			ev_push(st, c, TWS_EV_SENT, 0, false);
		}
	}
	timer_update(st, c);
}

void
tws_stack_poll(struct tws_stack *st, uint64_t now_us)
{
	uint32_t ids[TIMER_BATCH];

	set_time(st, now_us);
	st->s.tw_expired += tws_table_expire(st->tbl, st->now_ms, TW_EXPIRE_PER_CALL);
	for (unsigned int b = 0; b < TIMER_BATCHES_PER_POLL; b++) {
		unsigned int n = tws_timer_expire(st->wheel, st->now_ms, ids, TIMER_BATCH);

		for (unsigned int i = 0; i < n; i++) {
			struct tws_conn *c = tws_table_conn_at(st->tbl, ids[i]);

			if (c == NULL || c->state == TWS_CLOSED)
				continue; /* freed since: the timer was left to lapse */
			conn_timeout(c);
			ev_flush(st);
		}
		if (n < TIMER_BATCH)
			break;
	}
}

uint16_t
tws_stack_tx_burst(struct tws_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = (uint16_t)RTE_MIN((uint32_t)n, txq_count(st));

	for (uint16_t i = 0; i < k; i++)
		pkts[i] = st->txq[st->tx_head++ & st->txq_mask];
	return k;
}

uint32_t
tws_stack_tx_pending(const struct tws_stack *st)
{
	return txq_count(st);
}

/* ---- application calls ---- */

int
tws_listen(struct tws_stack *st, rte_be32_t laddr, rte_be16_t lport, void *udata)
{
	for (uint32_t i = 0; i < st->nb_ls; i++)
		if (st->ls[i].lport == lport && st->ls[i].laddr == laddr)
			return -EADDRINUSE;
	if (st->nb_ls == st->max_ls) {
		TWS_LOG(tws_stack_logtype, ERR, "%s: listen: %u listeners already (max_listeners)",
			st->name, st->max_ls);
		return -ENOSPC;
	}
	st->ls[st->nb_ls++] = (struct listener){ .laddr = laddr, .lport = lport, .udata = udata };
	return 0;
}

int
tws_unlisten(struct tws_stack *st, rte_be32_t laddr, rte_be16_t lport)
{
	for (uint32_t i = 0; i < st->nb_ls; i++) {
		if (st->ls[i].lport == lport && st->ls[i].laddr == laddr) {
			st->ls[i] = st->ls[--st->nb_ls];
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The local port of a connect (spec section 5); *reused: a TIME_WAIT entry
 * to take over. With tentative, a port never handed out is taken without a
 * table lookup (*tentative set): the insert that follows checks it.
 */
static int
connect_pick(struct tws_stack *st, const struct tws_connect_params *p, struct tws_tuple *key,
	     struct tws_tw_entry **reused, bool *tentative)
{
	int rc;

	*key = (struct tws_tuple){ .laddr = p->laddr, .raddr = p->raddr, .rport = p->rport,
				   .lport = p->lport };
	*reused = NULL;
	if (p->laddr == 0 || p->raddr == 0 || p->rport == 0)
		return -EINVAL;
	if (tentative != NULL) {
		*tentative = false;
		if (p->lport == 0 && tws_ports_pick(st->ports, key) == 0) {
			*tentative = true;
			return 0;
		}
	}
	if (p->lport == 0) {
		struct tws_ports_reuse ru = { .enabled = (int)st->k.tw_reuse,
					      .delay = st->k.tw_reuse_delay_ms };

		rc = tws_ports_connect(st->ports, st->tbl, key, &ru, st->now_ms, reused);
	} else {
		rc = tws_ports_connect_bound(st->ports, st->tbl, key, reused);
	}
	if (rc == -EADDRNOTAVAIL || rc == -ENOSPC) {
		st->s.addr_not_avail++;
		return -EADDRNOTAVAIL;
	}
	return rc;
}

/* Insert the connection for a picked tuple and send its SYN. */
static int
connect_open(struct tws_stack *st, const struct tws_connect_params *p,
	     const struct tws_tuple *key, struct tws_tw_entry *reused, struct tws_conn **conn)
{
	uint32_t iss;
	uint32_t ts_recent = 0;
	uint64_t ts_stamp = 0;
	int rc;

	if (reused != NULL) {
		/* Spec 5: write_seq = snd_nxt + 65535 + 2, ts_recent inherited, entry gone. */
		iss = tws_tw_next_isn(reused->snd_nxt);
		if (reused->flags & TWS_TW_F_TS) {
			ts_recent = reused->ts_recent;
			ts_stamp = tws_table_tw_ts_stamp(st->tbl, reused);
		}
		tws_table_tw_remove(st->tbl, reused);
		st->s.tw_reused++;
	} else {
		iss = tws_tcp_isn(&st->secret, key, st->now_us);
	}

	struct tws_conn *c = conn_new(st, key, iss, &rc);

	if (c == NULL) {
		tws_ports_release(st->ports, key);
		return rc;
	}
	c->udata = p->udata;
	c->state = TWS_SYN_SENT;
	c->ts_recent = ts_recent;
	c->ts_recent_stamp = ts_stamp;
	st->s.active_opens++;
	send_syn(c);
	*conn = c;
	return 0;
}

int
tws_connect(struct tws_stack *st, const struct tws_connect_params *p, struct tws_conn **conn)
{
	struct tws_tuple key;
	struct tws_tw_entry *reused;
	int rc;

	if (conn == NULL)
		return -EINVAL;
	rc = connect_pick(st, p, &key, &reused, NULL);
	if (rc != 0)
		return rc;
	return connect_open(st, p, &key, reused, conn);
}

unsigned int
tws_connect_burst(struct tws_stack *st, const struct tws_connect_params *p,
		  struct tws_conn **conns, int *rc, unsigned int n)
{
	struct tws_tuple keys[TWS_TABLE_BURST_MAX];
	struct tws_tw_entry *reused[TWS_TABLE_BURST_MAX];
	bool tentative[TWS_TABLE_BURST_MAX];
	unsigned int ok = 0;

	for (unsigned int base = 0; base < n; base += TWS_TABLE_BURST_MAX) {
		unsigned int cnt = RTE_MIN(n - base, (unsigned int)TWS_TABLE_BURST_MAX);

		/*
		 * Pick every port first and prefetch where each insert lands: in
		 * a table holding millions of TIME_WAIT entries each insert is a
		 * DRAM miss, and a burst pays them in parallel.
		 */
		for (unsigned int i = 0; i < cnt; i++) {
			rc[base + i] = connect_pick(st, &p[base + i], &keys[i], &reused[i],
						    &tentative[i]);
			if (rc[base + i] == 0)
				tws_table_prefetch(st->tbl, &keys[i]);
		}
		for (unsigned int i = 0; i < cnt; i++) {
			conns[base + i] = NULL;
			if (rc[base + i] != 0)
				continue;
			rc[base + i] = connect_open(st, &p[base + i], &keys[i], reused[i],
						    &conns[base + i]);
			if (rc[base + i] == -EEXIST && tentative[i]) {
				/* The port was held by a tuple we did not hand out: full search. */
				rc[base + i] = connect_pick(st, &p[base + i], &keys[i], &reused[i],
							    NULL);
				if (rc[base + i] == 0)
					rc[base + i] = connect_open(st, &p[base + i], &keys[i],
								    reused[i], &conns[base + i]);
			}
			ok += rc[base + i] == 0;
		}
	}
	ev_flush(st);
	return ok;
}

int
tws_send(struct tws_conn *c, const void *buf, uint32_t len)
{
	struct tws_stack *st = c->st;
	const uint8_t *p = buf;
	uint32_t done = 0;

	if (c->state == TWS_CLOSED)
		return -ENOTCONN;
	if (c->flags & CF_FIN_QUEUED)
		return -EPIPE;
	if (c->state != TWS_ESTABLISHED && c->state != TWS_CLOSE_WAIT)
		return -ENOTCONN;

	uint32_t room = st->k.sndbuf > c->sq_len ? st->k.sndbuf - c->sq_len : 0;
	uint32_t want = u32_min(len, room);

	while (done < want) {
		struct rte_mbuf *m = c->sq_tail;
		uint32_t tail = m != NULL ? rte_pktmbuf_tailroom(m) : 0;

		if (tail == 0) {
			/* Send buffers never take the mbufs segments are built from. */
			if (st->sq_mbufs >= st->sq_limit) {
				st->s.send_pool_limited++;
				break;
			}
			m = rte_pktmbuf_alloc(st->mp);
			if (m == NULL) {
				st->s.tx_no_mbuf++;
				break;
			}
			st->sq_mbufs++;
			m->data_off = 0; /* send-queue mbufs hold data only */
			if (c->sq_tail != NULL)
				c->sq_tail->next = m;
			else
				c->sq_head = m;
			c->sq_tail = m;
			tail = rte_pktmbuf_tailroom(m);
		}

		uint32_t n = u32_min(want - done, tail);

		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), p + done, n);
		m->data_len = (uint16_t)(m->data_len + n);
		m->pkt_len = m->data_len;
		done += n;
	}
	c->sq_len += done;
	if (done < len) {
		c->flags |= CF_WANT_SENT;
		if (c->sq_len == 0 && c->rto_at == 0) {
			/* No mbuf and nothing queued: no ACK will bring the SENT, the timer must. */
			c->rto_at = st->now_ms + c->rto_ms;
			timer_update(st, c);
		}
	}
	if (done > 0)
		conn_output(c);
	return (int)done;
}

int
tws_recv(struct tws_conn *c, void *buf, uint32_t cap)
{
	uint8_t *p = buf;
	uint32_t done = 0;
	uint32_t before = seq_span(c->rcv_nxt, c->rcv_adv);

	while (done < cap && c->rq_head != NULL) {
		struct rte_mbuf *m = c->rq_head;
		uint32_t n = u32_min(cap - done, m->data_len);

		memcpy(p + done, rte_pktmbuf_mtod(m, const uint8_t *), n);
		done += n;
		if (n == m->data_len) {
			c->rq_head = m->next;
			m->next = NULL;
			rte_pktmbuf_free(m);
		} else {
			rte_pktmbuf_adj(m, (uint16_t)n);
		}
	}
	if (c->rq_head == NULL)
		c->rq_tail = NULL;
	c->rq_len -= done;

	/*
	 * Announce a window that this read opened a lot (receiver SWS avoidance,
	 * RFC 9293 3.8.6.2.2), as Linux's tcp_cleanup_rbuf(): the window was at
	 * most half the buffer and is now at least twice what was announced.
	 * From a callback the ACK waits for the engine's output after it, so
	 * a reply sent from the same callback carries it.
	 */
	uint32_t room = c->st->k.rcvbuf - c->rq_len;

	if (done > 0 && c->state != TWS_CLOSED && 2 * (uint64_t)before <= c->st->k.rcvbuf &&
	    room >= 2 * (uint64_t)before) {
		c->flags |= CF_ACK_NOW;
		if (!c->st->in_flush)
			conn_output(c);
	}
	return (int)done;
}

uint32_t
tws_conn_readable(const struct tws_conn *c)
{
	return c->rq_len;
}

int
tws_close(struct tws_conn *c)
{
	struct tws_stack *st = c->st;

	if (c->state == TWS_CLOSED || (c->flags & CF_FIN_QUEUED))
		return -ENOTCONN;
	queue_free(c->rq_head);
	c->rq_head = c->rq_tail = NULL;
	c->rq_len = 0;
	switch (c->state) {
	case TWS_SYN_SENT:
	case TWS_SYN_RCVD:
		conn_finish(c, TWS_EV_CLOSED, 0);
		ev_flush(st);
		return 0;
	case TWS_ESTABLISHED:
		c->state = TWS_FIN_WAIT_1;
		break;
	case TWS_CLOSE_WAIT:
		c->state = TWS_LAST_ACK;
		break;
	default:
		return -ENOTCONN;
	}
	c->flags |= CF_FIN_QUEUED;
	conn_output(c);
	return 0;
}

int
tws_abort(struct tws_conn *c)
{
	struct tws_stack *st = c->st;

	if (c->state == TWS_CLOSED)
		return -ENOTCONN;
	if (c->state != TWS_SYN_SENT) {
		/* Linger 0 (spec 2): RST|ACK <SEQ=snd_nxt><ACK=rcv_nxt>, no TIME_WAIT. */
		conn_xmit(c, acceptable_seq(c), 0, TWS_TCP_RST | TWS_TCP_ACK);
	}
	st->s.aborts++;
	conn_finish(c, -1, 0);
	return 0;
}

void *
tws_conn_udata(const struct tws_conn *c)
{
	return c->udata;
}

void
tws_conn_set_udata(struct tws_conn *c, void *udata)
{
	c->udata = udata;
}

enum tws_tcp_state
tws_conn_state(const struct tws_conn *c)
{
	return (enum tws_tcp_state)c->state;
}

const struct tws_tuple *
tws_conn_tuple(const struct tws_conn *c)
{
	return conn_key(c);
}

void
tws_conn_info_get(const struct tws_conn *c, struct tws_conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->state = (enum tws_tcp_state)c->state;
	ci->iss = c->iss;
	ci->irs = c->irs;
	ci->snd_una = c->snd_una;
	ci->snd_nxt = c->snd_nxt;
	ci->snd_max = c->snd_max;
	ci->rcv_nxt = c->rcv_nxt;
	ci->snd_wnd = c->snd_wnd;
	ci->rcv_wnd = seq_span(c->rcv_nxt, c->rcv_adv);
	ci->cwnd = c->cwnd;
	ci->ssthresh = c->ssthresh;
	ci->rto_ms = c->rto_ms;
	ci->srtt_us = c->srtt_us;
	ci->mss = c->mss;
	ci->snd_wscale = c->snd_wscale;
	ci->rcv_wscale = c->rcv_wscale;
	ci->ts_ok = (c->flags & CF_TS) != 0;
	ci->sack_ok = (c->flags & CF_SACK) != 0;
	ci->ts_recent = c->ts_recent;
	ci->unsent = seq_span(c->snd_nxt, data_end(c));
	ci->unacked = seq_span(c->snd_una, c->snd_nxt);
	ci->retransmits = c->nb_retrans;
}

enum tws_tcp_state
tws_stack_lookup(struct tws_stack *st, const struct tws_tuple *t, struct tws_conn **conn,
		 struct tws_tw_view *tw)
{
	struct tws_table_hit hit;

	switch (tws_table_lookup(st->tbl, t, &hit)) {
	case TWS_TABLE_CONN:
		if (conn != NULL)
			*conn = hit.conn;
		return (enum tws_tcp_state)((struct tws_conn *)hit.conn)->state;
	case TWS_TABLE_TW:
		if (tw != NULL) {
			tw->snd_nxt = hit.tw->snd_nxt;
			tw->rcv_nxt = hit.tw->rcv_nxt;
			tw->ts_recent = hit.tw->ts_recent;
			tw->has_ts = (hit.tw->flags & TWS_TW_F_TS) != 0;
			tw->ts_recent_stamp = tws_table_tw_ts_stamp(st->tbl, hit.tw);
			tw->oow_acked = tws_table_tw_oow_last(st->tbl, hit.tw,
							      &tw->last_oow_ack) != 0;
		}
		return TWS_TIME_WAIT;
	default:
		return TWS_CLOSED;
	}
}

/* ---- create, knobs, stats ---- */

void
tws_stack_knobs_get(const struct tws_stack *st, struct tws_tcp_knobs *k)
{
	*k = st->k;
}

int
tws_stack_knobs_set(struct tws_stack *st, const struct tws_tcp_knobs *k, char *err,
		    size_t err_len)
{
	int rc = tws_tcp_knobs_check(k, err, err_len);

	if (rc != 0)
		return rc;
#define FIXED(f) \
	if (k->f != st->k.f) { \
		if (err != NULL) \
			snprintf(err, err_len, #f ": fixed when the stack is created (%u)", st->k.f); \
		return -EINVAL; \
	}
	FIXED(max_tw)
	FIXED(tw_timeout_ms)
	FIXED(tw_recycle)
#undef FIXED
	st->k = *k;
	st->challenge_rl.limit = k->challenge_ack_limit;
	st->rcvbuf_wnd = (uint16_t)u32_min(k->rcvbuf, 65535);
	return 0;
}

void
tws_stack_stats_get(const struct tws_stack *st, struct tws_stack_stats *s)
{
	struct tws_table_stats ts;
	struct tws_timer_stats ws;

	tws_table_stats_get(st->tbl, &ts);
	tws_timer_stats_get(st->wheel, &ws);
	*s = st->s;
	s->conns = ts.conns;
	s->syn_rcvd = st->syn_rcvd;
	s->tw_entries = ts.tw_entries;
	s->memory_bytes = ts.memory_bytes + ws.memory_bytes;
}

const struct tws_table *
tws_stack_table(const struct tws_stack *st)
{
	return st->tbl;
}

void
tws_stack_free(struct tws_stack *st)
{
	if (st == NULL)
		return;
	while (st->tx_head != st->tx_tail)
		rte_pktmbuf_free(st->txq[st->tx_head++ & st->txq_mask]);
	/* Buffers of the connections still open go back to the pool. */
	for (uint32_t i = 0; st->tbl != NULL && i < st->max_conns; i++) {
		struct tws_conn *c = tws_table_conn_at(st->tbl, i);

		if (c != NULL)
			conn_release_buffers(c);
	}
	tws_peer_cache_free(st->peers);
	tws_ports_free(st->ports);
	tws_timer_free(st->wheel);
	tws_table_free(st->tbl);
	rte_free(st->txq);
	rte_free(st->ls);
	rte_free(st);
}

/* The port offset secret: from the given secret (reproducible runs) or random (0). */
static uint64_t
ports_seed(const uint8_t *secret)
{
	uint64_t v = 0;

	if (secret != NULL) {
		memcpy(&v, secret + 16, sizeof(v));
		v |= 1;
	}
	return v;
}

struct tws_stack *
tws_stack_create(const struct tws_stack_params *p)
{
	char err[160];
	const char *name = p != NULL && p->name != NULL ? p->name : "tws_stack";

	if (p == NULL || p->mp == NULL || p->event_cb == NULL) {
		TWS_LOG(tws_stack_logtype, ERR, "%s: params, mp and event_cb are required", name);
		rte_errno = EINVAL;
		return NULL;
	}
	if (p->max_conns == 0 || p->max_conns > (UINT32_C(1) << 24)) {
		TWS_LOG(tws_stack_logtype, ERR, "%s: max_conns %u: expected 1..%u", name,
			p->max_conns, UINT32_C(1) << 24);
		rte_errno = EINVAL;
		return NULL;
	}
	if (tws_tcp_knobs_check(&p->knobs, err, sizeof(err)) != 0) {
		TWS_LOG(tws_stack_logtype, ERR, "%s: %s", name, err);
		rte_errno = EINVAL;
		return NULL;
	}

	uint32_t room = rte_pktmbuf_data_room_size(p->mp);

	if (room < RTE_PKTMBUF_HEADROOM + sizeof(struct rte_ipv4_hdr) + TWS_TCP_HDR_MAX +
		   p->knobs.mss) {
		TWS_LOG(tws_stack_logtype, ERR,
			"%s: mbuf data room %u too small for mss %u (needs %u)", name, room,
			p->knobs.mss, (unsigned int)(RTE_PKTMBUF_HEADROOM +
			sizeof(struct rte_ipv4_hdr) + TWS_TCP_HDR_MAX + p->knobs.mss));
		rte_errno = EINVAL;
		return NULL;
	}

	struct tws_stack *st = rte_zmalloc_socket(name, sizeof(*st), RTE_CACHE_LINE_SIZE,
						  p->socket_id);

	if (st == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->k = p->knobs;
	st->mp = p->mp;
	st->max_conns = p->max_conns;
	st->sq_limit = RTE_MAX(p->mp->size / 2, 1u);
	st->cb = p->event_cb;
	st->cb_arg = p->event_arg;
	st->tx_offload = p->tx_csum_offload;
	st->now_us = p->start_us;
	st->now_ms = p->start_us / US_PER_MS;
	st->rcvbuf_wnd = (uint16_t)u32_min(st->k.rcvbuf, 65535);
	st->challenge_rl = (struct tws_ratelimit){ .period = 1000,
		.limit = st->k.challenge_ack_limit, .start = st->now_ms };
	if (p->secret != NULL)
		tws_tcp_secret_set(&st->secret, p->secret);
	else if (tws_tcp_secret_init(&st->secret) != 0)
		goto fail_inval;

	uint32_t txq = p->tx_queue_size != 0 ? p->tx_queue_size : 4096;

	txq = rte_align32pow2(txq);
	st->txq_mask = txq - 1;
	st->txq = rte_zmalloc_socket(name, sizeof(*st->txq) * txq, RTE_CACHE_LINE_SIZE,
				     p->socket_id);
	st->max_ls = p->max_listeners != 0 ? p->max_listeners : 16;
	st->ls = rte_zmalloc_socket(name, sizeof(*st->ls) * st->max_ls, 0, p->socket_id);
	if (st->txq == NULL || st->ls == NULL)
		goto fail_nomem;

	char sub[48];
	uint32_t tw_len = st->k.tw_recycle ? tws_recycle_tw_ms(st->k.rto_min_ms)
					   : st->k.tw_timeout_ms;

	snprintf(sub, sizeof(sub), "%s_tbl", name);
	st->tbl = tws_table_create(&(struct tws_table_params){
		.name = sub, .socket_id = p->socket_id, .max_conns = p->max_conns,
		.conn_size = sizeof(struct tws_conn),
		.max_tw = st->k.max_tw != 0 ? st->k.max_tw
			  : (uint32_t)RTE_MIN((uint64_t)p->max_conns * 4, UINT64_C(1) << 30),
		.tw_timeout = tw_len, .start_tick = st->now_ms });
	if (st->tbl == NULL)
		goto fail;
	st->key_off = tws_table_conn_key_offset(st->tbl);
	snprintf(sub, sizeof(sub), "%s_tmr", name);
	st->wheel = tws_timer_create(&(struct tws_timer_params){
		.name = sub, .socket_id = p->socket_id, .capacity = p->max_conns,
		.start_tick = st->now_ms });
	if (st->wheel == NULL)
		goto fail;
	snprintf(sub, sizeof(sub), "%s_ports", name);
	st->ports = tws_ports_create(&(struct tws_ports_params){
		.name = sub, .socket_id = p->socket_id, .port_min = (uint16_t)st->k.port_min,
		.port_max = (uint16_t)st->k.port_max, .max_dests = p->max_dests,
		.seed = ports_seed(p->secret), .accept = p->port_accept,
		.accept_arg = p->port_accept_arg });
	if (st->ports == NULL)
		goto fail;
	if (st->k.tw_recycle) {
		st->peers = tws_peer_cache_create(RTE_MAX(p->max_conns, 1024u), p->socket_id);
		if (st->peers == NULL)
			goto fail;
	}
	return st;

fail_inval:
	rte_errno = EINVAL;
	goto fail;
fail_nomem:
	rte_errno = ENOMEM;
fail:
	{
		int e = rte_errno;

		tws_stack_free(st);
		rte_errno = e;
	}
	return NULL;
}
