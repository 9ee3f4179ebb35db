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
