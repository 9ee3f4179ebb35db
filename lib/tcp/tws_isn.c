/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Initial sequence numbers (RFC 6528) and timestamp offsets (RFC 7323 §5.4)
 * from keyed SipHash-2-4. The hash comes from libsodium, a well-kept
 * library, rather than from code of our own.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "tws_tcp.h"

static_assert(sizeof(((struct tws_tcp_secret *)0)->isn_key) == crypto_shorthash_siphash24_KEYBYTES,
	      "ISN key is a SipHash key");

int
tws_tcp_secret_init(struct tws_tcp_secret *s)
{
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(s->isn_key, sizeof(s->isn_key));
	randombytes_buf(s->ts_key, sizeof(s->ts_key));
	return 0;
}

void
tws_tcp_secret_set(struct tws_tcp_secret *s, const uint8_t bytes[32])
{
	memcpy(s->isn_key, bytes, sizeof(s->isn_key));
	memcpy(s->ts_key, bytes + sizeof(s->isn_key), sizeof(s->ts_key));
}

static uint32_t
siphash32(const uint8_t key[16], const void *in, size_t len)
{
	uint8_t out[crypto_shorthash_siphash24_BYTES];
	uint32_t v;

	crypto_shorthash_siphash24(out, in, len, key);
	memcpy(&v, out, sizeof(v));
	return v;
}

uint32_t
tws_tcp_isn(const struct tws_tcp_secret *s, const struct tws_tuple *t, uint64_t now_us)
{
	/* M: a clock ticking every 4 µs (RFC 9293 §3.4.1, RFC 6528 §3). */
	return (uint32_t)(now_us / 4) + siphash32(s->isn_key, t, sizeof(*t));
}

uint32_t
tws_tcp_ts_offset(const struct tws_tcp_secret *s, rte_be32_t laddr, rte_be32_t raddr)
{
	rte_be32_t pair[2] = { laddr, raddr };

	return siphash32(s->ts_key, pair, sizeof(pair));
}

/*
 * SYN cookies (RFC 4987), Linux's __cookie_v4_init_sequence() and
 * __cookie_v4_check() with SipHash for its two hashes. The inputs carry a
 * tag and a length of their own, so neither hash is the ISN's F() of the
 * same tuple under the same key.
 */
#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)

struct cookie_in {
	struct tws_tuple t;
	uint32_t count;
	uint32_t tag;
};

static uint32_t
cookie_hash(const struct tws_tcp_secret *s, const struct tws_tuple *t, uint32_t count,
	    uint32_t tag)
{
	struct cookie_in in;

	memset(&in, 0, sizeof(in));
	in.t = *t;
	in.count = count;
	in.tag = tag;
	return siphash32(s->isn_key, &in, sizeof(in));
}

static const uint16_t cookie_mss_tab[TWS_SYNCOOKIE_NB_MSS] = TWS_SYNCOOKIE_MSS_TABLE;

uint32_t
tws_syncookie_mss_index(uint32_t mss)
{
	uint32_t i;

	for (i = TWS_SYNCOOKIE_NB_MSS - 1; i > 0; i--)
		if (mss >= cookie_mss_tab[i])
			break;
	return i;
}

uint16_t
tws_syncookie_mss(uint32_t idx)
{
	return cookie_mss_tab[idx < TWS_SYNCOOKIE_NB_MSS ? idx : 0];
}

uint32_t
tws_syncookie_make(const struct tws_tcp_secret *s, const struct tws_tuple *t, uint32_t peer_isn,
		   uint32_t count, uint32_t mss_idx)
{
	return cookie_hash(s, t, 0, 1) + peer_isn + (count << COOKIE_BITS) +
	       ((cookie_hash(s, t, count, 2) + mss_idx) & COOKIE_MASK);
}

int
tws_syncookie_check(const struct tws_tcp_secret *s, const struct tws_tuple *t, uint32_t peer_isn,
		    uint32_t cookie, uint32_t count)
{
	uint32_t v = cookie - cookie_hash(s, t, 0, 1) - peer_isn;
	/* The top 8 bits are count when made: its age, modulo 2^8. */
	uint32_t age = (count - (v >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);

	if (age >= TWS_SYNCOOKIE_MAX_AGE)
		return -1;

	uint32_t idx = (v - cookie_hash(s, t, count - age, 2)) & COOKIE_MASK;

	return idx < TWS_SYNCOOKIE_NB_MSS ? (int)idx : -1;
}
