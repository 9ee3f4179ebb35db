/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TIME_WAIT and LAST_ACK decisions (spec sections 3 and 4): pure functions
 * of (state, segment, now, policy). The order of the rules and the PAWS test
 * follow Linux's tcp_timewait_state_process() and tcp_paws_reject().
 */
#include "tws_tcp.h"

/*
 * PAWS (RFC 7323 §5): reject a segment whose timestamp is older than the
 * last one seen. Linux exempts an RST once ts_recent is older than 60 s
 * (TCP_PAWS_MSL): the peer may have rebooted.
 */
static bool
paws_reject(bool has_ts, uint32_t ts_recent, uint64_t stamp, const struct tws_seg_info *seg,
	    uint64_t now, uint64_t paws_msl)
{
	if (!has_ts || !seg->has_ts)
		return false;
	if ((int32_t)(ts_recent - seg->tsval) <= 0)
		return false;
	if ((seg->flags & TWS_TCP_RST) && now >= stamp && now - stamp > paws_msl)
		return false;
	return true;
}

/* Sequence space the segment occupies: payload plus one for SYN and one for FIN. */
static inline uint32_t
seg_space(const struct tws_seg_info *seg)
{
	return seg->len + !!(seg->flags & TWS_TCP_SYN) + !!(seg->flags & TWS_TCP_FIN);
}

/* Newer by timestamp than what the entry saw (both sides use timestamps). */
static inline bool
ts_newer(bool has_ts, uint32_t ts_recent, const struct tws_seg_info *seg)
{
	return has_ts && seg->has_ts && (int32_t)(ts_recent - seg->tsval) < 0;
}

void
tws_tw_decide(const struct tws_tw_view *e, const struct tws_seg_info *seg, uint64_t now,
	      const struct tws_tw_policy *pol, struct tws_tw_decision *d)
{
	const uint8_t f = seg->flags;
	bool paws = paws_reject(e->has_ts, e->ts_recent, e->ts_recent_stamp, seg, now,
				pol->paws_msl);

	d->restart_timer = false;
	d->update_ts = false;
	d->paws_rejected = paws;
	d->syn = (f & TWS_TCP_SYN) != 0;
	d->isn = 0;

	/* Rule 1: in window, occupying no sequence space (a bare ACK), or an RST. */
	if (!paws && seg->seq == e->rcv_nxt && (seg_space(seg) == 0 || (f & TWS_TCP_RST))) {
		d->update_ts = seg->has_ts;
		if (f & TWS_TCP_RST) {
			/* TIME_WAIT assassination (RFC 1337 hazard), unless rfc1337 says no. */
			d->verdict = pol->rfc1337 ? TWS_TW_DROP : TWS_TW_KILL;
			d->update_ts = d->update_ts && pol->rfc1337;
			return;
		}
		d->verdict = TWS_TW_RESTART;
		d->restart_timer = true;
		return;
	}

	/*
	 * Rule 2: a new SYN. It must not be a duplicate of the old incarnation:
	 * its sequence number is past what we received, or its timestamp is
	 * newer (RFC 6191).
	 */
	if ((f & (TWS_TCP_SYN | TWS_TCP_RST | TWS_TCP_ACK)) == TWS_TCP_SYN && !paws &&
	    (tws_seq_after(seg->seq, e->rcv_nxt) || ts_newer(e->has_ts, e->ts_recent, seg))) {
		d->verdict = TWS_TW_ACCEPT_SYN;
		d->isn = tws_tw_next_isn(e->snd_nxt);
		return;
	}

	/* Rule 4: any other RST is dropped. */
	if (f & TWS_TCP_RST) {
		d->verdict = TWS_TW_DROP;
		return;
	}

	/* Rule 3: old duplicate, retransmitted FIN, stray data. */
	d->restart_timer = paws || (f & TWS_TCP_ACK);
	if ((f & TWS_TCP_SYN) && pol->syn_reject_drop) {
		d->verdict = TWS_TW_DROP;
		return;
	}
	/*
	 * A last ACK time after now (the record rounds it up, never early) means
	 * an ACK went out at most an interval ago: limited too.
	 */
	if (e->oow_acked && (now < e->last_oow_ack ||
			     now - e->last_oow_ack < pol->oow_ack_interval))
		d->verdict = TWS_TW_ACK_LIMITED;
	else
		d->verdict = TWS_TW_ACK;
}

const char *
tws_tw_verdict_name(enum tws_tw_verdict v)
{
	static const char *const names[] = {
#define TWS_X_NAME(name, desc) #name,
		TWS_TW_VERDICTS(TWS_X_NAME)
#undef TWS_X_NAME
	};

	return (unsigned int)v < TWS_TW_VERDICT_COUNT ? names[v] : "?";
}

enum tws_lastack_verdict
tws_lastack_syn_decide(const struct tws_lastack_view *c, const struct tws_seg_info *seg,
		       uint64_t now, enum tws_lastack_policy policy, uint64_t paws_msl)
{
	if (policy == TWS_LASTACK_RST)
		return TWS_LASTACK_V_RST;
	if (policy == TWS_LASTACK_ACCEPT &&
	    c->snd_una == c->snd_nxt - 1 && /* everything but our FIN is acknowledged */
	    (seg->flags & (TWS_TCP_SYN | TWS_TCP_RST | TWS_TCP_ACK)) == TWS_TCP_SYN &&
	    !paws_reject(c->has_ts, c->ts_recent, c->ts_recent_stamp, seg, now, paws_msl) &&
	    (tws_seq_after(seg->seq, c->rcv_nxt) || ts_newer(c->has_ts, c->ts_recent, seg)))
		return TWS_LASTACK_V_ACCEPT;
	return TWS_LASTACK_V_CHALLENGE;
}

enum tws_rfc5961_verdict
tws_rfc5961_decide(uint32_t rcv_nxt, uint32_t rcv_wnd, const struct tws_seg_info *seg)
{
	if (seg->flags & TWS_TCP_RST) {
		if (seg->seq == rcv_nxt)
			return TWS_5961_ACCEPT;
		/* In the window [rcv_nxt, rcv_nxt + rcv_wnd): blind-attack candidate. */
		if (tws_seq_after(seg->seq, rcv_nxt) && tws_seq_before(seg->seq, rcv_nxt + rcv_wnd))
			return TWS_5961_CHALLENGE;
		return TWS_5961_DROP;
	}
	if (seg->flags & TWS_TCP_SYN)
		return TWS_5961_CHALLENGE; /* §4.2, whatever its sequence number */
	return TWS_5961_ACCEPT;
}
