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

/* A character of a header name: narrow the candidates, or pick the header at ':'. */
static void
resp_name_char(struct app_http_resp *r, uint8_t c)
{
	if (c == ':') {
		r->hdr = HDR_NONE;
		for (unsigned int i = 0; i < RTE_DIM(hdr_names); i++)
			if ((r->names >> i & 1) && hdr_lens[i] == r->col)
				r->hdr = (uint8_t)(i + 1);
		r->names = 0;
		r->vpos = 0;
		if (r->hdr == HDR_NONE)
			r->hdr = HDR_SKIP;
		return;
	}
	c = ascii_lower(c);
	for (unsigned int i = 0; i < RTE_DIM(hdr_names); i++)
		if (r->col >= hdr_lens[i] || c != (uint8_t)hdr_names[i][r->col])
			r->names &= (uint8_t)~(1u << i);
}

static void
resp_value_char(struct app_http_resp *r, uint8_t c)
{
	static const char close[] = "close";
	bool space = c == ' ' || c == '\t';

	if (r->hdr == HDR_CONTENT_LENGTH) {
		if (ascii_digit(c)) {
			r->content_length = r->content_length * 10 + (uint64_t)(c - '0');
			r->has_cl = true;
			if (r->content_length > (UINT64_C(1) << 40))
				r->bad = true;
		} else if (!space) {
			r->bad = true;
		}
	} else if (r->hdr == HDR_CONNECTION && !(space && (r->vpos == 0 || r->vpos == 5))) {
		r->vpos = r->vpos < 5 && ascii_lower(c) == (uint8_t)close[r->vpos] ? r->vpos + 1 :
									      UINT8_MAX;
	}
}

/*
 * Nothing more of the current line can change the outcome: the status line
 * past its code, a header we do not read, a name that is none of ours.
 * (col is then at least 1, so its end is not taken for the empty line.)
 */
static inline bool
rest_of_line_skipped(const struct app_http_resp *r)
{
	if (r->line == 0)
		return r->col >= 12;
	return r->hdr == HDR_SKIP || (r->hdr == HDR_NONE && r->names == 0 && r->col > 0);
}

uint32_t
app_http_resp_feed(struct app_http_resp *r, const uint8_t *buf, uint32_t len)
{
	static const char proto[] = "HTTP/1.";

	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = buf[i];

		if (rest_of_line_skipped(r) && c != '\n') {
			const uint8_t *nl = memchr(buf + i, '\n', len - i);

			if (nl == NULL)
				return len;
			i = (uint32_t)(nl - buf);
			c = '\n';
		}
		if (c == '\r')
			continue;
		if (c == '\n') {
			if (r->col == 0 && r->line > 0) {
				r->done = true;
				return i + 1;
			}
			if (r->line == 0 && r->col < 12)
				r->bad = true; /* no status code */
			if (r->hdr == HDR_CONNECTION && r->vpos == 5)
				r->close = true;
			r->line++;
			r->col = 0;
			r->names = HDR_ALL;
			r->hdr = HDR_NONE;
			continue;
		}
		if (r->line == 0) {
			/* "HTTP/1.x 200 ..." */
			if (r->col < sizeof(proto) - 1 && c != (uint8_t)proto[r->col])
				r->bad = true;
			else if (r->col >= 9 && r->col <= 11) {
				if (!ascii_digit(c))
					r->bad = true;
				else
					r->status = (uint16_t)(r->status * 10 + (c - '0'));
			}
		} else if (r->hdr == HDR_NONE) {
			resp_name_char(r, c);
		} else {
			resp_value_char(r, c);
		}
		if (r->col < UINT16_MAX)
			r->col++;
	}
	return len;
}
