/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "app_http.h"

#define PAD_HDR "X-Pad: "

uint32_t
app_http_request(char *buf, uint32_t cap, uint32_t host, uint32_t size)
{
	int n = snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: %u.%u.%u.%u\r\n" PAD_HDR, host >> 24,
			 (host >> 16) & 0xff, (host >> 8) & 0xff, host & 0xff);
	uint32_t tail = 4; /* the padding header's CRLF and the empty line */

	if (size < APP_HTTP_REQUEST_MIN || n < 0 || (uint32_t)n + tail > size || size > cap)
		return 0;
	for (uint32_t j = 0; j < size - (uint32_t)n - tail; j++)
		buf[n + j] = (char)('a' + j % 26);
	memcpy(buf + size - tail, "\r\n\r\n", tail);
	return size;
}

/* Two periods of the body pattern: any window of up to one period is contiguous. */
static uint8_t body_pattern[2 * APP_HTTP_BODY_PERIOD];

RTE_INIT(body_pattern_init)
{
	for (uint32_t i = 0; i < RTE_DIM(body_pattern); i++)
		body_pattern[i] = app_http_body_byte(i);
}

bool
app_http_body_check(const uint8_t *buf, uint64_t at, uint32_t len)
{
	uint32_t off = (uint32_t)(at % APP_HTTP_BODY_PERIOD);

	while (len > 0) {
		uint32_t n = RTE_MIN(len, APP_HTTP_BODY_PERIOD);

		if (memcmp(buf, body_pattern + off, n) != 0)
			return false;
		buf += n;
		len -= n;
		/* off + n < 2 periods; the next window starts where this one ended. */
		off = (off + n) % APP_HTTP_BODY_PERIOD;
	}
	return true;
}

static int
response_head(char *buf, size_t cap, uint32_t body, bool close)
{
	return snprintf(buf, cap, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			"Content-Length: %u\r\n%s\r\n", body, close ? "Connection: close\r\n" : "");
}

uint32_t
app_http_response_head_len(uint32_t body, bool close)
{
	char tmp[160];

	return (uint32_t)response_head(tmp, sizeof(tmp), body, close);
}

uint32_t
app_http_response(char *buf, uint32_t cap, uint32_t body, bool close)
{
	uint32_t head = app_http_response_head_len(body, close);

	if ((uint64_t)head + body > cap)
		return 0;
	response_head(buf, cap, body, close);
	for (uint32_t i = 0; i < body; i++)
		buf[head + i] = (char)app_http_body_byte(i);
	return head + body;
}

/*
 * The state byte: bits 0-2, characters of "X-Pad: " matched (7: in the
 * value); bits 3-7, in the value, the next letter expected (0..25).
 */
#define PAD_IN 7u

int64_t
app_http_pad_check(uint8_t *state, const uint8_t *buf, uint32_t len)
{
	static const char hdr[] = PAD_HDR;
	uint8_t m = *state & 7u, next = *state >> 3;
	int64_t checked = 0;

	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = buf[i];

		if (m == PAD_IN) {
			if (c == '\r') {
				m = 0;
				continue;
			}
			if (c != 'a' + next)
				return -1;
			next = (uint8_t)(next == 25 ? 0 : next + 1);
			checked++;
			continue;
		}
		if (c == (uint8_t)hdr[m]) {
			if (++m == sizeof(hdr) - 1) {
				m = PAD_IN;
				next = 0;
			}
		} else {
			m = c == (uint8_t)hdr[0] ? 1 : 0;
		}
	}
	*state = (uint8_t)(m | next << 3);
	return checked;
}

int64_t
app_http_head_end(uint8_t *state, const uint8_t *buf, uint32_t len)
{
	static const char end[4] = { '\r', '\n', '\r', '\n' };
	uint8_t s = *state;

	for (uint32_t i = 0; i < len; i++) {
		if (buf[i] == end[s])
			s++;
		else
			s = buf[i] == '\r' ? 1 : 0;
		if (s == 4) {
			*state = 0;
			return (int64_t)i + 1;
		}
	}
	*state = s;
	return -1;
}

/* The headers the parser reads; bit i of app_http_resp.names is names[i]. */
enum { HDR_NONE, HDR_CONTENT_LENGTH, HDR_CONNECTION };
static const char *const hdr_names[] = { "content-length", "connection" };
static const uint8_t hdr_lens[] = { sizeof("content-length") - 1, sizeof("connection") - 1 };
#define HDR_ALL ((uint8_t)((1u << RTE_DIM(hdr_names)) - 1))
#define HDR_SKIP UINT8_MAX /* a header whose value is not read */

/* ASCII only: the C library's tolower() reads the locale on every call. */
static inline uint8_t
ascii_lower(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

static inline bool
ascii_digit(uint8_t c)
{
	return (uint8_t)(c - '0') < 10;
}

uint32_t
app_http_resp_feed(struct app_http_resp *r, const uint8_t *buf, uint32_t len)
{
	static const char proto[] = "HTTP/1.";
	static const char close_tok[] = "close";
	/*
	 * The state in local scalars, written back at the end: kept in a struct
	 * (the caller's or a copy), byte fields tested together were read back
	 * as one word right after byte stores, which missed store-to-load
	 * forwarding on every character.
	 */
	uint64_t clen = r->content_length;
	uint32_t status = r->status, line = r->line, col = r->col;
	uint32_t names = r->names, hdr = r->hdr, vpos = r->vpos;
	bool has_cl = r->has_cl, close = r->close, bad = r->bad, done = r->done;
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];
		/*
		 * Nothing more of this line can change the outcome: the status
		 * line past its code, a header we do not read, a name that is
		 * none of ours (col is then at least 1: its end is no empty line).
		 */
		bool skip = line == 0 ? col >= 12 :
				        hdr == HDR_SKIP || (hdr == HDR_NONE && names == 0 && col > 0);

		if (skip && c != '\n') {
			const uint8_t *nl = memchr(buf + i, '\n', len - i);

			if (nl == NULL) {
				i = len;
				break;
			}
			i = (uint32_t)(nl - buf);
			c = '\n';
		}
		if (c == '\r')
			continue;
		if (c == '\n') {
			if (col == 0 && line > 0) {
				done = true;
				i++;
				break;
			}
			if (line == 0 && col < 12)
				bad = true; /* no status code */
			if (hdr == HDR_CONNECTION && vpos == 5)
				close = true;
			line = (uint16_t)(line + 1);
			col = 0;
			names = HDR_ALL;
			hdr = HDR_NONE;
			continue;
		}
		bool space = c == ' ' || c == '\t';

		if (line == 0) {
			/* "HTTP/1.x 200 ..." */
			if (col < sizeof(proto) - 1 && c != (uint8_t)proto[col])
				bad = true;
			else if (col >= 9 && col <= 11) {
				if (!ascii_digit(c))
					bad = true;
				else
					status = status * 10 + (uint32_t)(c - '0');
			}
		} else if (hdr == HDR_NONE && c == ':') {
			/* The end of a name: one of ours if it matched all along, and its length. */
			for (unsigned int k = 0; k < RTE_DIM(hdr_names); k++)
				if ((names >> k & 1) && hdr_lens[k] == col)
					hdr = k + 1;
			names = 0;
			vpos = 0;
			if (hdr == HDR_NONE)
				hdr = HDR_SKIP;
		} else if (hdr == HDR_NONE) {
			uint8_t lc = ascii_lower(c);

			for (unsigned int k = 0; k < RTE_DIM(hdr_names); k++)
				if (col >= hdr_lens[k] || lc != (uint8_t)hdr_names[k][col])
					names &= ~(1u << k);
		} else if (hdr == HDR_CONTENT_LENGTH) {
			if (ascii_digit(c)) {
				clen = clen * 10 + (uint64_t)(c - '0');
				has_cl = true;
				if (clen > (UINT64_C(1) << 40))
					bad = true;
			} else if (!space) {
				bad = true;
			}
		} else if (hdr == HDR_CONNECTION && !(space && (vpos == 0 || vpos == 5))) {
			vpos = vpos < 5 && ascii_lower(c) == (uint8_t)close_tok[vpos] ? vpos + 1 :
										UINT8_MAX;
		}
		if (col < UINT16_MAX)
			col++;
	}
	r->content_length = clen;
	r->status = (uint16_t)status;
	r->line = (uint16_t)line;
	r->col = (uint16_t)col;
	r->names = (uint8_t)names;
	r->hdr = (uint8_t)hdr;
	r->vpos = (uint8_t)vpos;
	r->has_cl = has_cl;
	r->close = close;
	r->bad = bad;
	r->done = done;
	return i;
}

uint32_t
app_http_resp_feed_memo(struct app_http_resp *r, struct app_http_resp_memo *m,
			const uint8_t *buf, uint32_t len)
{
	/* Nothing but CRs fed yet: every other field is still zero (see the parser). */
	bool fresh = r->line == 0 && r->col == 0;

	if (fresh && m->len != 0 && len >= m->len && memcmp(buf, m->head, m->len) == 0) {
		*r = m->parsed;
		return m->len;
	}

	uint32_t used = app_http_resp_feed(r, buf, len);

	if (fresh && r->done && used <= APP_HTTP_MEMO_MAX) {
		memcpy(m->head, buf, used);
		m->len = used;
		m->parsed = *r;
	}
	return used;
}
