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

#ifdef __cplusplus
}
#endif

#endif /* TWS_TCP_H */
