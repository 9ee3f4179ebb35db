/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * twstack TCP engine. This first part holds what the rest is built on:
 * sequence and timestamp arithmetic modulo 2^32, and the pure decision
 * functions for segments that meet a TIME_WAIT entry (spec section 3) or
 * a SYN that meets a connection in LAST_ACK (spec section 4). They read
 * their inputs and return a decision; the caller (the engine) acts on it:
 * removes or restarts the entry, sends the ACK, counts. No packet, no
 * clock, no allocation: every rule is unit-testable with literal numbers.
 */
#ifndef TWS_TCP_H
#define TWS_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tws_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Sequence numbers and timestamps compare modulo 2^32 (RFC 9293 §3.4,
 * RFC 7323): a is before b when (int32_t)(a - b) < 0. Never compare them
 * with plain < or >.
 */

/** a comes before b (modulo 2^32). */
static inline bool
tws_seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/** a comes after b (modulo 2^32); Linux's after(a, b). */
static inline bool
tws_seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) < 0;
}

/** a is b or before it. */
static inline bool
tws_seq_leq(uint32_t a, uint32_t b)
{
	return !tws_seq_after(a, b);
}

/** a is b or after it. */
static inline bool
tws_seq_geq(uint32_t a, uint32_t b)
{
	return !tws_seq_before(a, b);
}

/** TCP header flags. */
#define TWS_TCP_FIN 0x01
#define TWS_TCP_SYN 0x02
#define TWS_TCP_RST 0x04
#define TWS_TCP_PSH 0x08
#define TWS_TCP_ACK 0x10
#define TWS_TCP_URG 0x20

/** What the decision functions read of a received segment (host byte order). */
struct tws_seg_info {
	uint32_t seq;
	uint32_t ack;
	uint32_t len;       /**< payload bytes (SYN and FIN not counted) */
	uint8_t flags;      /**< TWS_TCP_* */
	bool has_ts;        /**< a timestamp option was present */
	uint32_t tsval;
	uint32_t tsecr;
	uint16_t window;    /**< raw window field (not scaled) */
	rte_be16_t sport;   /**< source port, network order (the peer's) */
	rte_be16_t dport;   /**< destination port, network order (ours) */
	uint16_t hdr_len;   /**< header bytes: the payload starts here */
};

/** TCP options of a segment (RFC 9293, RFC 7323, RFC 2018). */
struct tws_tcp_opts {
	bool has_mss;       /**< MSS option (SYN only) */
	uint16_t mss;
	bool has_wscale;    /**< window scale (SYN only), clamped to 14 as Linux does */
	uint8_t wscale;
	bool sack_ok;       /**< SACK-permitted (SYN only) */
};

/** Why a segment is refused before any state is looked at; one list for counters. */
#define TWS_TCP_SEG_STATUS(X) \
	X(OK,         "well formed") \
	X(TRUNCATED,  "shorter than a TCP header (20 bytes)") \
	X(BAD_DOFF,   "data offset under 5 words or past the end of the segment") \
	X(BAD_OPTION, "option length under 2 or past the end of the header") \
	X(BAD_FLAGS,  "no SYN, ACK, RST or FIN; or SYN with FIN or RST") \
	X(BAD_CSUM,   "checksum wrong (checked in software)")

/** See TWS_TCP_SEG_STATUS. */
enum tws_tcp_seg_status {
#define TWS_X_ENUM(name, desc) TWS_SEG_ ## name,
	TWS_TCP_SEG_STATUS(TWS_X_ENUM)
#undef TWS_X_ENUM
	TWS_SEG_STATUS_COUNT
};

/**
 * Check and parse a TCP segment (header, options, payload) of @p len bytes
 * carried between IPv4 addresses @p saddr and @p daddr. Options are parsed
 * as Linux's tcp_parse_options() does: EOL ends them, unknown kinds are
 * skipped, a known option with the wrong length is ignored, MSS, window
 * scale and SACK-permitted count only on a SYN. Reads nothing past @p len.
 *
 * @param verify_csum  check the checksum in software (the NIC did not)
 * @return TWS_SEG_OK with @p si and @p opts filled, or the reason to drop.
 */
enum tws_tcp_seg_status tws_tcp_parse(const void *seg, uint32_t len, rte_be32_t saddr,
				      rte_be32_t daddr, bool verify_csum,
				      struct tws_seg_info *si, struct tws_tcp_opts *opts);

/** A segment to send: header fields and options (host byte order but the ports). */
struct tws_seg_out {
	rte_be16_t sport;
	rte_be16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;          /**< TWS_TCP_* */
	uint16_t window;        /**< raw (already scaled down) */
	bool has_ts;
	uint32_t tsval;
	uint32_t tsecr;
	struct tws_tcp_opts syn; /**< MSS, window scale, SACK-permitted: written on SYNs only */
};

/** Longest header tws_tcp_write_header() writes (20 + 20 bytes of options on a SYN). */
#define TWS_TCP_HDR_MAX 40

/**
 * Write a TCP header with its options into @p buf (at most @p cap bytes),
 * in Linux's layout: on a SYN MSS, SACK-permitted + timestamps, NOP + window
 * scale; otherwise NOP NOP + timestamps. The checksum field is left 0 for
 * offload; see tws_tcp_set_checksum().
 *
 * @return Header length in bytes (multiple of 4), or -ENOSPC if @p cap is too small.
 */
int tws_tcp_write_header(void *buf, uint32_t cap, const struct tws_seg_out *o);

/** Fill the checksum of a complete segment (header + payload) in software. */
void tws_tcp_set_checksum(void *seg, uint32_t len, rte_be32_t saddr, rte_be32_t daddr);

/** Name of a segment status, for logs and counters. */
const char *tws_tcp_seg_status_name(enum tws_tcp_seg_status st);

/** A TIME_WAIT entry as the decision needs it (the engine fills it from its record). */
struct tws_tw_view {
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	bool has_ts;                /**< timestamps were seen: ts_recent is valid */
	uint64_t ts_recent_stamp;   /**< tick ts_recent was seen */
	uint64_t last_oow_ack;      /**< tick of the last ACK sent for an out-of-window segment */
	bool oow_acked;             /**< last_oow_ack is valid */
};

/** The TIME_WAIT knobs the decision uses (spec section 1), times in ticks. */
struct tws_tw_policy {
	bool rfc1337;               /**< an RST never kills the entry */
	bool syn_reject_drop;       /**< tw_syn_reject=drop: a rejected SYN gets nothing */
	uint64_t oow_ack_interval;  /**< oow_ack_interval_ms */
	uint64_t paws_msl;          /**< 60 s: an RST passes PAWS once ts_recent is this old */
};

/** Outcomes of a segment meeting a TIME_WAIT entry; one list for names and counters. */
#define TWS_TW_VERDICTS(X) \
	X(KILL,       "exact RST removed the entry (rfc1337=0)") \
	X(RESTART,    "in-window bare ACK: timer restarted, no reply") \
	X(ACCEPT_SYN, "new SYN accepted: entry removed, new connection") \
	X(ACK,        "out-of-window segment: ACK <SEQ=snd_nxt><ACK=rcv_nxt> sent") \
	X(ACK_LIMITED, "out-of-window segment: ACK suppressed by the rate limit") \
	X(DROP,       "dropped without reply: RST out of window or kept by rfc1337, tw_syn_reject=drop")

/** See TWS_TW_VERDICTS. */
enum tws_tw_verdict {
#define TWS_X_ENUM(name, desc) TWS_TW_ ## name,
	TWS_TW_VERDICTS(TWS_X_ENUM)
#undef TWS_X_ENUM
	TWS_TW_VERDICT_COUNT
};

/** The decision for one segment and what the engine must do besides. */
struct tws_tw_decision {
	enum tws_tw_verdict verdict;
	bool restart_timer;   /**< restart TIME_WAIT at full length */
	bool update_ts;       /**< ts_recent = seg tsval, ts_recent_stamp = now */
	bool paws_rejected;   /**< the segment failed PAWS (counted as such) */
	bool syn;             /**< the segment was a SYN (accepted or rejected: counters) */
	uint32_t isn;         /**< TWS_TW_ACCEPT_SYN: ISN of the new connection */
};

/**
 * Spec section 3: the pure verdict for a segment that matches a TIME_WAIT
 * entry, following Linux's tcp_timewait_state_process() in the TIME_WAIT
 * substate.
 *
 * @param now  current tick (for the PAWS RST exemption and the ACK rate limit)
 */
void tws_tw_decide(const struct tws_tw_view *e, const struct tws_seg_info *seg, uint64_t now,
		   const struct tws_tw_policy *pol, struct tws_tw_decision *d);

/** Name of a TIME_WAIT verdict, for logs and counters. */
const char *tws_tw_verdict_name(enum tws_tw_verdict v);

/** ISN of a connection that replaces TIME_WAIT state: snd_nxt + 65535 + 2, never 0. */
static inline uint32_t
tws_tw_next_isn(uint32_t snd_nxt)
{
	uint32_t isn = snd_nxt + 65535 + 2;

	return isn == 0 ? 1 : isn;
}

/** What to do with a SYN arriving in LAST_ACK (spec knob lastack_syn). */
enum tws_lastack_policy {
	TWS_LASTACK_ACCEPT = 0,   /**< default: close LAST_ACK and accept when safe */
	TWS_LASTACK_CHALLENGE,    /**< RFC 5961 §4 challenge ACK (Linux) */
	TWS_LASTACK_RST,          /**< old behaviour (seed Figure 2): RST */
};

/** Decisions for a SYN in LAST_ACK. */
enum tws_lastack_verdict {
	TWS_LASTACK_V_ACCEPT,     /**< close LAST_ACK as if ACKed, handle the SYN as new */
	TWS_LASTACK_V_CHALLENGE,  /**< send a challenge ACK, drop the SYN */
	TWS_LASTACK_V_RST,        /**< send RST, drop the SYN */
};

/** A connection in LAST_ACK as the decision needs it. */
struct tws_lastack_view {
	uint32_t snd_una;
	uint32_t snd_nxt;         /**< includes our FIN */
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	bool has_ts;
	uint64_t ts_recent_stamp;
};

/**
 * Spec section 4: the verdict for a SYN (seg->flags has SYN) that hits a
 * connection in LAST_ACK. With TWS_LASTACK_ACCEPT it accepts when every byte
 * but our FIN is acknowledged, the SYN has no ACK or RST, passes PAWS and is
 * newer by sequence or timestamp; otherwise it falls back to a challenge.
 */
enum tws_lastack_verdict tws_lastack_syn_decide(const struct tws_lastack_view *c,
						const struct tws_seg_info *seg, uint64_t now,
						enum tws_lastack_policy policy,
						uint64_t paws_msl);

/** RFC 5961 outcomes for an RST or a SYN in a synchronized state. */
enum tws_rfc5961_verdict {
	TWS_5961_ACCEPT,     /**< RST exactly at rcv_nxt: reset the connection */
	TWS_5961_CHALLENGE,  /**< send a challenge ACK (rate limited), drop the segment */
	TWS_5961_DROP,       /**< drop silently */
};

/**
 * RFC 5961 §3.2: an RST is accepted only when its sequence number is exactly
 * rcv_nxt; anywhere else in the receive window it draws a challenge ACK;
 * outside it is dropped. §4.2: a SYN in a synchronized state always draws a
 * challenge ACK. Any other segment: TWS_5961_ACCEPT (not this rule's business).
 */
enum tws_rfc5961_verdict tws_rfc5961_decide(uint32_t rcv_nxt, uint32_t rcv_wnd,
					    const struct tws_seg_info *seg);

/**
 * A rate limit of events per period (challenge ACKs per second per lcore,
 * as Linux's tcp_challenge_ack_limit; out-of-window ACKs). Time in ticks.
 */
struct tws_ratelimit {
	uint64_t period;     /**< length of a period in ticks */
	uint32_t limit;      /**< events allowed per period */
	uint32_t used;       /**< events in the current period */
	uint64_t start;      /**< tick the current period began */
};

/** @return true (and count the event) if one more event is allowed at @p now. */
static inline bool
tws_ratelimit_allow(struct tws_ratelimit *rl, uint64_t now)
{
	if (now - rl->start >= rl->period || now < rl->start) {
		rl->start = now;
		rl->used = 0;
	}
	if (rl->used >= rl->limit)
		return false;
	rl->used++;
	return true;
}

/*
 * Recycle (spec section 6, off by default): when on, a connection entering
 * TIME_WAIT whose peer sent timestamps remembers (peer address → last tsval,
 * time) here, its TIME_WAIT lasts tws_recycle_tw_ms(), and a SYN from a peer
 * whose remembered tsval is more than 1 ahead of the SYN's, seen less than
 * 60 s ago, is dropped (Linux's tcp_peer_is_proven(), removed in 4.12).
 * Clients behind one NAT address with different timestamp clocks therefore
 * lose SYNs: this is why recycle stays off.
 */

/** Per-lcore cache of peers' last timestamps (4-way set-associative, oldest replaced). */
struct tws_peer_cache;

/** Create a cache of at least @p entries peers. @return NULL with rte_errno on error. */
struct tws_peer_cache *tws_peer_cache_create(uint32_t entries, int socket_id);

/** Free a cache. NULL is a no-op. */
void tws_peer_cache_free(struct tws_peer_cache *pc);

/** Remember @p tsval from @p peer at tick @p now (a connection enters TIME_WAIT). */
void tws_peer_cache_remember(struct tws_peer_cache *pc, rte_be32_t peer, uint32_t tsval,
			     uint64_t now);

/**
 * Should a SYN from @p peer carrying timestamp @p tsval be dropped?
 * @param max_age  how long a remembered timestamp counts (60 s in ticks)
 * @return true to drop it silently (counted as paws_passive_rejected).
 */
bool tws_peer_cache_syn_reject(const struct tws_peer_cache *pc, rte_be32_t peer, uint32_t tsval,
			       uint64_t now, uint64_t max_age);

/** TIME_WAIT length under recycle: 3.5 × RTO, at least 700 ms. */
static inline uint32_t
tws_recycle_tw_ms(uint32_t rto_ms)
{
	uint32_t ms = rto_ms * 7 / 2;

	return ms < 700 ? 700 : ms;
}

/**
 * Secrets of the initial sequence numbers (RFC 6528) and timestamp offsets
 * (RFC 7323 §5.4): keys of libsodium's SipHash-2-4. One per stack instance.
 */
struct tws_tcp_secret {
	uint8_t isn_key[16];
	uint8_t ts_key[16];
};

/**
 * Draw fresh random secrets (libsodium's randombytes).
 * @return 0, or -EIO if libsodium cannot be initialised.
 */
int tws_tcp_secret_init(struct tws_tcp_secret *s);

/** Set the secrets from 32 given bytes (tests, reproducible runs). */
void tws_tcp_secret_set(struct tws_tcp_secret *s, const uint8_t bytes[32]);

/**
 * RFC 6528 initial sequence number: ISN = M + F(4-tuple, secret), where M
 * counts 4 µs steps of @p now_us and F is SipHash-2-4 of the tuple. ISNs of
 * one tuple advance with time; those of different tuples are unrelated and
 * unpredictable without the secret.
 */
uint32_t tws_tcp_isn(const struct tws_tcp_secret *s, const struct tws_tuple *t, uint64_t now_us);

/**
 * RFC 7323 §5.4 timestamp offset for an address pair (ports do not count):
 * the same for every connection between the two hosts, so PAWS keeps working
 * across connections, and unrelated between pairs.
 */
uint32_t tws_tcp_ts_offset(const struct tws_tcp_secret *s, rte_be32_t laddr, rte_be32_t raddr);

/*
 * SYN cookies (RFC 4987 section 3.6), in Linux's layout (net/ipv4/syncookies.c):
 * when the SYN queue is full the SYN-ACK's ISN carries what the connection
 * needs and no state is kept; the ACK that returns it makes the connection.
 *
 *   cookie = H1(tuple) + peer ISN + (count << 24)
 *            + ((H2(tuple, count) + mss index) & 0xffffff)
 *
 * H1, H2: SipHash-2-4 under the ISN key with inputs of their own (domain
 * separated from the ISN); count: minutes (tws_syncookie_count()). A cookie
 * is valid during the minute it was made and the next (up to 2 minutes, as
 * MAX_SYNCOOKIE_AGE); only 8 bits of count travel, so count wraps freely.
 * With timestamps the SYN-ACK's TSval (before the pair's offset) has its low
 * 6 bits replaced by the window scale (4 bits, 0xf: none) and SACK-permitted
 * (bit 4), as Linux's cookie_init_timestamp(); the ACK's TSecr brings them back.
 * Without timestamps a cookie connection has neither window scale nor SACK.
 */

/** MSS values a cookie can carry (Linux's msstab for IPv4). */
#define TWS_SYNCOOKIE_MSS_TABLE { 536, 1300, 1440, 1460 }
#define TWS_SYNCOOKIE_NB_MSS 4u
/** A cookie is accepted for count, count - 1 (the minute it was made and the next). */
#define TWS_SYNCOOKIE_MAX_AGE 2u
/** Low TSval bits that carry the options; window scale value meaning "none". */
#define TWS_SYNCOOKIE_TS_BITS 6u
#define TWS_SYNCOOKIE_WS_NONE 0xfu
#define TWS_SYNCOOKIE_TS_SACK 0x10u

/** Values of the syncookies knob (Linux's net.ipv4.tcp_syncookies). */
enum { TWS_SYNCOOKIES_OFF = 0, TWS_SYNCOOKIES_ON_FULL = 1, TWS_SYNCOOKIES_ALWAYS = 2 };

/** The cookie time counter at @p now_ms: minutes. */
static inline uint32_t
tws_syncookie_count(uint64_t now_ms)
{
	return (uint32_t)(now_ms / 60000);
}

/** Index of the largest table MSS not above @p mss (0 for anything below 536). */
uint32_t tws_syncookie_mss_index(uint32_t mss);

/** MSS of table index @p idx (idx < TWS_SYNCOOKIE_NB_MSS). */
uint16_t tws_syncookie_mss(uint32_t idx);

/**
 * The ISN of a SYN-ACK answering a SYN with sequence @p peer_isn on tuple
 * @p t (our side local) at cookie time @p count, carrying @p mss_idx.
 */
uint32_t tws_syncookie_make(const struct tws_tcp_secret *s, const struct tws_tuple *t,
			    uint32_t peer_isn, uint32_t count, uint32_t mss_idx);

/**
 * Check the cookie an ACK returns: @p cookie is its ACK number - 1, @p peer_isn
 * its sequence number - 1, @p count the time now.
 * @return The MSS index (0..TWS_SYNCOOKIE_NB_MSS-1), or -1: forged, other
 *   tuple, or older than TWS_SYNCOOKIE_MAX_AGE counts.
 */
int tws_syncookie_check(const struct tws_tcp_secret *s, const struct tws_tuple *t,
			uint32_t peer_isn, uint32_t cookie, uint32_t count);

/**
 * The SYN-ACK's timestamp (before the offset) carrying window scale @p wscale
 * (TWS_SYNCOOKIE_WS_NONE: not offered) and @p sack; never after @p ts_now.
 */
static inline uint32_t
tws_syncookie_tsval(uint32_t ts_now, uint8_t wscale, bool sack)
{
	uint32_t opts = (wscale & 0xfu) | (sack ? TWS_SYNCOOKIE_TS_SACK : 0);
	uint32_t ts = ((ts_now >> TWS_SYNCOOKIE_TS_BITS) << TWS_SYNCOOKIE_TS_BITS) | opts;

	if (tws_seq_after(ts, ts_now))
		ts -= 1u << TWS_SYNCOOKIE_TS_BITS;
	return ts;
}

/**
 * The options a returning TSecr (offset removed) carries. A scale above 14
 * (not one a SYN could carry: tws_tcp_parse() clamps) is taken as 14.
 */
static inline void
tws_syncookie_ts_decode(uint32_t tsecr, bool *wscale_ok, uint8_t *wscale, bool *sack)
{
	uint32_t ws = tsecr & 0xfu;

	*sack = (tsecr & TWS_SYNCOOKIE_TS_SACK) != 0;
	*wscale_ok = ws != TWS_SYNCOOKIE_WS_NONE;
	*wscale = *wscale_ok ? (uint8_t)(ws > 14 ? 14 : ws) : 0;
}

/*
 * ---------------------------------------------------------------------------
 * The engine: a TCP stack instance per lcore.
 *
 * Segments in (tws_stack_rx_burst), segments out (tws_stack_tx_burst), time
 * in (every call that can change state takes `now` in microseconds, or uses
 * the last one given), events out through a callback. No port, no thread,
 * no clock of its own: the caller's poll loop drives it, tests drive it
 * segment by segment.
 *
 * Packets are IPv4 datagrams: an mbuf's data starts at the IPv4 header
 * (the caller strips Ethernet on receive and prepends it on transmit; the
 * stack leaves RTE_PKTMBUF_HEADROOM for that).
 * ---------------------------------------------------------------------------
 */

#include <rte_mbuf.h>

/** TCP states (RFC 9293 §3.3.2); CLOSED is 0. One list for enum and names. */
#define TWS_TCP_STATES(X) \
	X(CLOSED) X(LISTEN) X(SYN_SENT) X(SYN_RCVD) X(ESTABLISHED) X(FIN_WAIT_1) \
	X(FIN_WAIT_2) X(CLOSE_WAIT) X(CLOSING) X(LAST_ACK) X(TIME_WAIT)

/** See TWS_TCP_STATES. */
enum tws_tcp_state {
#define TWS_X_ENUM(name) TWS_ ## name,
	TWS_TCP_STATES(TWS_X_ENUM)
#undef TWS_X_ENUM
	TWS_TCP_STATE_COUNT
};

/** Name of a state ("ESTABLISHED"). */
const char *tws_tcp_state_name(enum tws_tcp_state s);

/** Values of the tw_syn_reject knob. */
enum { TWS_TW_SYN_REJECT_ACK = 0, TWS_TW_SYN_REJECT_DROP = 1 };

/**
 * The knobs of a stack (spec section 1 and the engine's own), one list for
 * the struct, defaults, ranges, names and help: the .ini loader and the
 * apps' command lines parse them with tws_tcp_knob_set(). Columns: name,
 * default, min, max, value names (NULL for a number), description.
 */
#define TWS_TCP_KNOBS(X) \
	X(tw_timeout_ms, 60000, 1, 1073741823, NULL, \
	  "length of TIME_WAIT (2MSL), ms") \
	X(max_tw, 0, 0, 1073741824, NULL, \
	  "TIME_WAIT entries at once; 0: 4 x max_conns; at the cap tw_overflow counts") \
	X(timestamps, 1, 0, 1, NULL, "RFC 7323 timestamps on SYN (per address pair offset)") \
	X(tw_reuse, 1, 0, 1, NULL, "connect may take a tuple held only by a TIME_WAIT entry") \
	X(tw_reuse_delay_ms, 1000, 0, 60000, NULL, \
	  "minimum age of that entry's last timestamp, ms") \
	X(tw_recycle, 0, 0, 1, NULL, \
	  "short TIME_WAIT + per-peer timestamp cache (breaks clients behind NAT)") \
	X(rfc1337, 0, 0, 1, NULL, "1: an RST never kills a TIME_WAIT entry") \
	X(tw_syn_reject, 0, 0, 1, "ack,drop", \
	  "what a rejected SYN in TIME_WAIT gets: ack (rate limited) or drop (RFC 6191)") \
	X(lastack_syn, 0, 0, 2, "accept,challenge,rst", \
	  "SYN arriving in LAST_ACK: accept, challenge (RFC 5961) or rst (old)") \
	X(oow_ack_interval_ms, 500, 0, 60000, NULL, \
	  "rate limit of ACKs for out-of-window segments, per connection or entry, ms") \
	X(rto_min_ms, 200, 1, 60000, NULL, "minimum retransmission timeout, ms") \
	X(rto_init_ms, 1000, 1, 60000, NULL, "initial retransmission timeout (RFC 6298), ms") \
	X(rto_max_ms, 120000, 1, 600000, NULL, "maximum retransmission timeout, ms") \
	X(fin_wait2_timeout_ms, 60000, 1, 3600000, NULL, \
	  "how long a closed connection waits in FIN_WAIT_2 for the peer's FIN, ms") \
	X(delack_ms, 40, 1, 500, NULL, "delayed ACK timeout, ms") \
	X(syn_retries, 6, 1, 20, NULL, "SYN / SYN-ACK retransmissions before giving up") \
	X(retries, 15, 1, 30, NULL, "data / FIN retransmissions before giving up") \
	X(mss, 1460, 88, 9160, NULL, "largest payload we send and announce, bytes") \
	X(wscale, 7, 0, 14, NULL, "receive window scale we announce") \
	X(sack, 1, 0, 1, NULL, "announce SACK-permitted on SYN (SACK blocks are not sent yet)") \
	X(sndbuf, 262144, 1024, 1073741824, NULL, "send buffer per connection, bytes") \
	X(rcvbuf, 262144, 1024, 1073741824, NULL, "receive buffer per connection, bytes") \
	X(challenge_ack_limit, 1000, 1, 1000000000, NULL, \
	  "challenge ACKs per second per stack (RFC 5961 §7)") \
	X(syn_backlog, 4096, 1, 16777216, NULL, \
	  "passive connections in SYN_RCVD at once per stack; past it: syncookies") \
	X(syncookies, 1, 0, 2, "off,full,always", \
	  "SYN cookies (RFC 4987): off (drop at syn_backlog), full (when at it), always") \
	X(port_min, 32768, 1, 65535, NULL, "first local port for connect") \
	X(port_max, 60999, 1, 65535, NULL, "last local port for connect")

/** Knob values, see TWS_TCP_KNOBS. */
struct tws_tcp_knobs {
#define TWS_X_FIELD(name, def, min, max, vals, desc) uint32_t name;
	TWS_TCP_KNOBS(TWS_X_FIELD)
#undef TWS_X_FIELD
};

/** Fill @p k with every knob's default. */
void tws_tcp_knobs_default(struct tws_tcp_knobs *k);

/**
 * Set knob @p name from text @p value (a number, or one of the value
 * names). On error @p err (if not NULL, @p err_len bytes) gets a message
 * naming the knob and the accepted range or values.
 * @return 0, -ENOENT (no such knob) or -EINVAL (bad value).
 */
int tws_tcp_knob_set(struct tws_tcp_knobs *k, const char *name, const char *value,
		     char *err, size_t err_len);

/**
 * Check every knob against its range and the knobs against each other
 * (rto_min <= rto_init <= rto_max, port_min <= port_max).
 * @return 0 or -EINVAL with a message in @p err as tws_tcp_knob_set().
 */
int tws_tcp_knobs_check(const struct tws_tcp_knobs *k, char *err, size_t err_len);

/** Number of knobs, and the name, default, range, value names and help of knob @p i. */
unsigned int tws_tcp_knob_count(void);
int tws_tcp_knob_info(unsigned int i, const char **name, uint32_t *def, uint32_t *min,
		      uint32_t *max, const char **values, const char **desc);

/** Read knob @p name of @p k as text (a number or its value name). @return 0 or -ENOENT. */
int tws_tcp_knob_get(const struct tws_tcp_knobs *k, const char *name, char *buf, size_t len);

/** Events to the application; one list for enum and names. */
#define TWS_EVENTS(X) \
	X(CONNECTED,   "connect completed: the connection is ESTABLISHED") \
	X(ACCEPTED,    "a listener's connection is ESTABLISHED (udata: the listener's)") \
	X(DATA,        "bytes are ready: tws_recv() them") \
	X(SENT,        "send buffer space freed after tws_send() accepted less than asked") \
	X(PEER_CLOSED, "the peer sent FIN: no more data will come; tws_close() when done") \
	X(CLOSED,      "the connection is finished (handle invalid after the callback)") \
	X(RESET,       "the peer reset the connection (handle invalid after the callback)") \
	X(ERROR,       "connect refused or retransmissions timed out (handle invalid after)")

/** See TWS_EVENTS. */
enum tws_event_type {
#define TWS_X_ENUM(name, desc) TWS_EV_ ## name,
	TWS_EVENTS(TWS_X_ENUM)
#undef TWS_X_ENUM
	TWS_EV_COUNT
};

/** Name of an event type. */
const char *tws_event_name(enum tws_event_type e);

struct tws_stack;
/** A connection handle: valid from connect/ACCEPTED until CLOSED, RESET or ERROR. */
struct tws_conn;

/** An event. For CLOSED, RESET and ERROR, conn identifies but must not be used. */
struct tws_event {
	enum tws_event_type type;
	struct tws_conn *conn;
	void *udata;      /**< the connection's (ACCEPTED: the listener's until set) */
	int error;        /**< ERROR: ECONNREFUSED or ETIMEDOUT */
};

/**
 * Event callback. It may call tws_send(), tws_recv(), tws_close(),
 * tws_abort() and tws_connect(); the stack calls it when it holds no
 * reference that those could invalidate.
 */
typedef void (*tws_event_cb)(struct tws_stack *st, const struct tws_event *ev, void *arg);

/** Parameters of tws_stack_create(). */
struct tws_stack_params {
	const char *name;          /**< For logs and memory names; NULL: "tws_stack". */
	int socket_id;             /**< NUMA socket of all memory (the owning lcore's). */
	uint32_t max_conns;        /**< Live connections at once (1..2^24). */
	uint32_t max_listeners;    /**< 0: 16. */
	struct rte_mempool *mp;    /**< Pktmbuf pool for segments and buffered data. Required. */
	uint64_t start_us;         /**< The caller's clock (microseconds) now. */
	struct tws_tcp_knobs knobs; /**< Zeroed: call tws_tcp_knobs_default() first. */
	/**
	 * Fixed secrets (32 bytes: ISN key, timestamp key) for reproducible
	 * runs and tests; NULL draws random ones.
	 */
	const uint8_t *secret;
	uint32_t tx_queue_size;    /**< Segments waiting for tws_stack_tx_burst(); 0: 4096. */
	/**
	 * Destinations (local address, remote address, remote port) the port
	 * allocator tracks at once for connect; 0: 1024.
	 */
	uint32_t max_dests;
	/**
	 * Transmit checksums: 0 computes IPv4 and TCP checksums in software;
	 * 1 leaves them to the NIC (RTE_MBUF_F_TX_IP_CKSUM | TX_TCP_CKSUM with
	 * the pseudo-header sum in place).
	 */
	int tx_csum_offload;
	/**
	 * Receive checksums: the stack checks them in software unless the mbuf
	 * says RTE_MBUF_F_RX_{IP,L4}_CKSUM_GOOD; a BAD flag drops the segment.
	 */
	tws_event_cb event_cb;     /**< Required. */
	void *event_arg;
	/**
	 * Optional: which local ports connect may use (tws_ports_params.accept),
	 * e.g. tws_rss_reply_here() with a struct tws_rss_lane, so the replies
	 * of this stack's connections reach its lcore's queue. NULL: all.
	 */
	bool (*port_accept)(void *arg, const struct tws_tuple *key);
	void *port_accept_arg;
};

/**
 * Create a stack instance: connection table, TIME_WAIT log, timer wheel,
 * port allocator, all from DPDK memory on params->socket_id.
 * @return The stack, or NULL with rte_errno EINVAL (one log line names the
 *   knob or field and its range) or ENOMEM.
 */
struct tws_stack *tws_stack_create(const struct tws_stack_params *params);

/** Free a stack, its connections and buffered mbufs. NULL is a no-op. */
void tws_stack_free(struct tws_stack *st);

/** The knobs in force. */
void tws_stack_knobs_get(const struct tws_stack *st, struct tws_tcp_knobs *k);

/**
 * Change knobs at run time. Those that size memory (max_tw) and the
 * TIME_WAIT length (tw_timeout_ms, tw_recycle) are fixed at creation: a
 * different value there is refused with -EINVAL (and a message in @p err).
 * @return 0 or -EINVAL.
 */
int tws_stack_knobs_set(struct tws_stack *st, const struct tws_tcp_knobs *k, char *err,
			size_t err_len);

/**
 * Listen on @p laddr (0: any local address) and @p lport (network order).
 * @return 0; -EADDRINUSE; -ENOSPC when max_listeners listen already.
 */
int tws_listen(struct tws_stack *st, rte_be32_t laddr, rte_be16_t lport, void *udata);

/** Stop listening. Connections already made stay. @return 0 or -ENOENT. */
int tws_unlisten(struct tws_stack *st, rte_be32_t laddr, rte_be16_t lport);

/** What tws_connect() connects. */
struct tws_connect_params {
	rte_be32_t laddr;          /**< our address (required) */
	rte_be32_t raddr;          /**< peer address */
	rte_be16_t rport;          /**< peer port */
	rte_be16_t lport;          /**< 0: picked by the port allocator (spec section 5) */
	void *udata;
};

/**
 * Open a connection: pick a local port (or take params->lport), send SYN.
 * The CONNECTED event follows when the handshake completes.
 *
 * No mbuf (or transmit queue room) for the SYN is not an error: it is
 * counted (tx_no_mbuf, tx_queue_full) and the SYN goes out when the
 * retransmission timer fires, as a lost SYN would.
 *
 * @return 0 with *conn set; -EADDRNOTAVAIL: no usable local port (counted
 *   in addr_not_avail); -EADDRINUSE: the explicit lport is taken; -ENOSPC:
 *   connection table full (conn_table_full); -EINVAL.
 */
int tws_connect(struct tws_stack *st, const struct tws_connect_params *p,
		struct tws_conn **conn);

/**
 * Open @p n connections, as n tws_connect() calls, but with the table's
 * cache misses overlapped: every local port is picked first and the place
 * of each insert prefetched. What a traffic generator should call.
 *
 * @param rc  per connection: 0 or the error tws_connect() would return
 * @return Number of connections opened (conns[i] is NULL where rc[i] != 0).
 */
unsigned int tws_connect_burst(struct tws_stack *st, const struct tws_connect_params *p,
			       struct tws_conn **conns, int *rc, unsigned int n);

/**
 * Queue @p len bytes for sending (copied into mbufs of the stack's pool).
 * @return Bytes accepted (less than @p len when the send buffer or the pool
 *   is full: a SENT event follows when room frees up); -ENOTCONN before the
 *   handshake completes; -EPIPE after tws_close().
 */
int tws_send(struct tws_conn *c, const void *buf, uint32_t len);

/**
 * Copy up to @p cap received bytes into @p buf and open the receive window.
 * @return Bytes copied (0 when none are ready).
 */
int tws_recv(struct tws_conn *c, void *buf, uint32_t cap);

/** Bytes received and not yet read. */
uint32_t tws_conn_readable(const struct tws_conn *c);

/**
 * Close: FIN after the queued data. Unread received data is discarded. The
 * handle stays valid until the CLOSED (or RESET/ERROR) event.
 * @return 0, or -ENOTCONN if it was closed already.
 */
int tws_close(struct tws_conn *c);

/**
 * Abortive close (linger 0): RST|ACK now, no TIME_WAIT entry, buffers freed.
 * The handle is invalid on return; no event follows.
 * @return 0.
 */
int tws_abort(struct tws_conn *c);

/** The connection's application data. */
void *tws_conn_udata(const struct tws_conn *c);
void tws_conn_set_udata(struct tws_conn *c, void *udata);

/** State and 4-tuple of a connection. */
enum tws_tcp_state tws_conn_state(const struct tws_conn *c);
const struct tws_tuple *tws_conn_tuple(const struct tws_conn *c);

/** Sequence-space view of a connection, for tests and diagnostics. */
struct tws_conn_info {
	enum tws_tcp_state state;
	uint32_t iss, irs, snd_una, snd_nxt, snd_max, rcv_nxt;
	uint32_t snd_wnd, cwnd, ssthresh;
	uint32_t rcv_wnd;          /**< RCV.WND in force: furthest edge announced - rcv_nxt */
	uint32_t rto_ms, srtt_us;
	uint16_t mss;              /**< segment size we send */
	uint8_t snd_wscale, rcv_wscale;
	bool ts_ok, sack_ok;
	uint32_t ts_recent;
	uint32_t unsent, unacked;  /**< bytes queued not yet sent, sent not yet acked */
	uint32_t retransmits;
};
void tws_conn_info_get(const struct tws_conn *c, struct tws_conn_info *ci);

/**
 * What the stack holds for a 4-tuple (for tests and tools): TWS_CLOSED
 * (nothing), a live connection's state (*conn set if @p conn is not NULL),
 * or TWS_TIME_WAIT (*tw filled if @p tw is not NULL).
 */
enum tws_tcp_state tws_stack_lookup(struct tws_stack *st, const struct tws_tuple *t,
				    struct tws_conn **conn, struct tws_tw_view *tw);

/** Why tws_stack_rx_burst() hands a packet back (one list for codes and counters). */
#define TWS_RX_REJECTS(X) \
	X(NOT_IPV4,   "not an IPv4 packet, or its header is shorter than 20 bytes") \
	X(BAD_IP,     "IPv4 header length or total length wrong, or bad IP checksum") \
	X(FRAGMENT,   "IPv4 fragment (not reassembled)") \
	X(NOT_TCP,    "not TCP") \
	X(TRUNCATED,  "TCP: shorter than a TCP header (20 bytes)") \
	X(BAD_DOFF,   "TCP: data offset under 5 words or past the end of the segment") \
	X(BAD_OPTION, "TCP: option length under 2 or past the end of the header") \
	X(BAD_FLAGS,  "TCP: no SYN, ACK, RST or FIN; or SYN with FIN or RST") \
	X(BAD_CSUM,   "TCP: checksum wrong")

/** See TWS_RX_REJECTS. */
enum tws_rx_reject {
#define TWS_X_ENUM(name, desc) TWS_RX_ ## name,
	TWS_RX_REJECTS(TWS_X_ENUM)
#undef TWS_X_ENUM
	TWS_RX_REJECT_COUNT
};

/** Name of a reject reason. */
const char *tws_rx_reject_name(enum tws_rx_reject r);

/**
 * Feed @p n received IPv4 packets at time @p now_us. Well-formed TCP
 * segments are consumed (their mbufs freed or kept as received data);
 * malformed ones and non-TCP packets are handed back in @p rej with their
 * reason in @p reason (enum tws_rx_reject), in order, for the caller to
 * free or pass on (TLDK's rx_bulk does the same). Events are delivered
 * from inside this call.
 *
 * @return Number of packets consumed; n - return packets are in @p rej.
 */
uint16_t tws_stack_rx_burst(struct tws_stack *st, struct rte_mbuf **pkts,
			    struct rte_mbuf **rej, int32_t *reason, uint16_t n, uint64_t now_us);

/**
 * Take up to @p n segments the stack wants sent (IPv4 packets, headroom
 * left for Ethernet), oldest first. The caller owns them.
 * @return Number taken.
 */
uint16_t tws_stack_tx_burst(struct tws_stack *st, struct rte_mbuf **pkts, uint16_t n);

/** Segments waiting in the transmit queue. */
uint32_t tws_stack_tx_pending(const struct tws_stack *st);

/**
 * Run timers (retransmission, delayed ACK, zero-window probe, FIN_WAIT_2)
 * and TIME_WAIT expiry up to @p now_us. Call it every poll iteration; it
 * does a bounded amount of work and resumes where it stopped.
 */
void tws_stack_poll(struct tws_stack *st, uint64_t now_us);

/** Counters of a stack; one list for struct, names and descriptions. */
#define TWS_STACK_STATS(X) \
	X(rx_segs,           "TCP segments received (well formed)") \
	X(tx_segs,           "segments queued for transmission") \
	X(tx_no_mbuf,        "segments not sent: mbuf pool empty") \
	X(tx_queue_full,     "segments not sent: transmit queue full") \
	X(send_pool_limited, "tws_send() calls cut short: send buffers hold half the mbuf pool") \
	X(active_opens,      "connects started") \
	X(passive_opens,     "SYNs accepted by a listener") \
	X(established,       "connections that reached ESTABLISHED") \
	X(conn_closed,       "connections finished (CLOSED, RESET or ERROR events)") \
	X(conn_table_full,   "SYNs or connects refused: connection table full") \
	X(addr_not_avail,    "connects refused: no usable local port (-EADDRNOTAVAIL)") \
	X(no_listener,       "segments for no connection or listener (RST sent unless RST)") \
	X(rst_sent,          "RSTs sent") \
	X(rst_rcvd,          "connections reset by the peer") \
	X(refused,           "connects refused by RST") \
	X(timeouts,          "connections given up after retransmissions") \
	X(retransmits,       "segments retransmitted (timeout or fast)") \
	X(rto_fired,         "retransmission timeouts") \
	X(fast_retransmits,  "fast retransmissions (3 duplicate ACKs, NewReno)") \
	X(dup_acks,          "duplicate ACKs received") \
	X(delayed_acks,      "ACKs sent by the delayed-ACK timer") \
	X(zero_window_probes, "zero-window probes sent") \
	X(ooo_queued,        "out-of-order segments kept until the gap before them filled") \
	X(ooo_dropped,       "out-of-order segments not kept (queue full, duplicate, no data state)") \
	X(oow_dropped,       "segments outside the receive window dropped") \
	X(oow_acks_limited,  "ACKs for out-of-window segments suppressed by the rate limit") \
	X(paws_rejected,     "segments of live connections rejected by PAWS") \
	X(paws_passive_rejected, "SYNs dropped by the recycle peer cache (spec 6)") \
	X(challenge_acks,    "RFC 5961 challenge ACKs sent") \
	X(challenge_acks_limited, "RFC 5961 challenge ACKs suppressed by the rate limit") \
	X(syn_in_established, "SYNs in a synchronized state (RFC 5961 4.2)") \
	X(rst_in_window,     "in-window, not exact RSTs (RFC 5961 3.2)") \
	X(ack_invalid,       "ACKs outside [SND.UNA - MAX.SND.WND, SND.NXT] (RFC 5961 5.2): dropped, ACKed") \
	X(aborts,            "abortive closes (linger 0): RST|ACK sent") \
	X(fin_wait2_timeouts, "FIN_WAIT_2 connections closed by fin_wait2_timeout_ms") \
	X(tw_entered,        "connections that entered TIME_WAIT") \
	X(tw_overflow,       "TIME_WAIT entries not made: max_tw reached") \
	X(tw_expired,        "TIME_WAIT entries expired") \
	X(tw_syn_accepted,   "SYNs accepted from TIME_WAIT (entry replaced)") \
	X(tw_syn_rejected,   "SYNs rejected in TIME_WAIT") \
	X(tw_paws_rejected,  "segments rejected by PAWS in TIME_WAIT") \
	X(tw_killed,         "TIME_WAIT entries killed by RST (rfc1337=0)") \
	X(tw_rst_ignored,    "RSTs dropped in TIME_WAIT (out of window, or rfc1337=1)") \
	X(tw_acked,          "ACKs sent from TIME_WAIT (retransmitted FIN, old SYN, stray data)") \
	X(tw_ack_limited,    "TIME_WAIT ACKs suppressed by oow_ack_interval_ms") \
	X(tw_restarted,      "TIME_WAIT timers restarted") \
	X(tw_reused,         "TIME_WAIT tuples reused by connect") \
	X(lastack_syn_accepted, "SYNs in LAST_ACK accepted (lastack_syn=accept)") \
	X(lastack_syn_challenged, "SYNs in LAST_ACK answered by a challenge ACK") \
	X(lastack_syn_rst,   "SYNs in LAST_ACK answered by RST (lastack_syn=rst)") \
	X(syn_queue_full,    "SYNs that found syn_backlog connections in SYN_RCVD") \
	X(syn_queue_dropped, "SYNs dropped: SYN queue full and syncookies=off") \
	X(syncookies_sent,   "SYN-ACKs sent with a cookie (no state kept)") \
	X(syncookies_recv,   "ACKs with a valid cookie: connection made") \
	X(syncookies_failed, "ACKs for a listener with an invalid or expired cookie (RST sent)")

/** Counter snapshot, see TWS_STACK_STATS and TWS_RX_REJECTS. */
struct tws_stack_stats {
#define TWS_X_FIELD(name, desc) uint64_t name;
	TWS_STACK_STATS(TWS_X_FIELD)
#undef TWS_X_FIELD
	uint64_t rx_rejected[TWS_RX_REJECT_COUNT]; /**< packets handed back, by reason */
	uint64_t conns;            /**< live connections now */
	uint64_t syn_rcvd;         /**< of them, made by a listener and still in SYN_RCVD */
	uint64_t tw_entries;       /**< TIME_WAIT entries now */
	uint64_t memory_bytes;     /**< DPDK memory the stack holds (table, log, wheel) */
};

/** Number of counters in TWS_STACK_STATS. */
#define TWS_STACK_STATS_COUNT ((unsigned int)(offsetof(struct tws_stack_stats, rx_rejected) / \
				sizeof(uint64_t)))

/** Read the counters. */
void tws_stack_stats_get(const struct tws_stack *st, struct tws_stack_stats *s);

/** Name and description of counter @p i. @return 0 or -EINVAL. */
int tws_stack_stat_name(unsigned int i, const char **name, const char **desc);

/** The stack's connection table (read-only use: statistics, memory). */
const struct tws_table *tws_stack_table(const struct tws_stack *st);

#ifdef __cplusplus
}
#endif

#endif /* TWS_TCP_H */
