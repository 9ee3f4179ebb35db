/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP/1.1 that tws-gen and tws-server speak: a GET padded to a size,
 * a 200 response with Content-Length, and incremental parsers for both that
 * keep a few bytes of state per connection (a request or a response head may
 * arrive split over any number of segments), so nothing is buffered.
 */
#ifndef APP_HTTP_H
#define APP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Smallest request app_http_request() makes: the GET with Host and the padding header. */
#define APP_HTTP_REQUEST_MIN 64

/*
 * Payloads are patterns the receiver checks byte by byte, so data lost,
 * duplicated or reordered anywhere between the two applications is seen
 * (end-to-end verification under --fault). Byte i of a response body:
 * a letter, a newline every 64. Byte j of the X-Pad value: 'a' + j % 26.
 */
static inline uint8_t
app_http_body_byte(uint64_t i)
{
	return i % 64 == 63 ? '\n' : (uint8_t)('a' + i % 26);
}

/* The body pattern repeats every lcm(64, 26) bytes. */
#define APP_HTTP_BODY_PERIOD 832u

/*
 * Are the @p len bytes at @p buf body bytes @p at .. at + len - 1? Compares
 * against the pattern laid out in memory (memcmp), not byte by byte.
 */
bool app_http_body_check(const uint8_t *buf, uint64_t at, uint32_t len);

/*
 * Checks the X-Pad values of a request stream given piece by piece: each
 * starts with 'a' and goes on through the alphabet, 'a' after 'z'. The
 * state is one byte (0 at the start of the stream). @return Bytes of pad
 * checked, or -1 at the first wrong one.
 */
int64_t app_http_pad_check(uint8_t *state, const uint8_t *buf, uint32_t len);

/*
 * Write a GET for / to host @p host (host order IPv4) of exactly @p size
 * bytes (at least APP_HTTP_REQUEST_MIN), padded with an X-Pad header.
 * @return Bytes written, or 0 if @p cap is too small.
 */
uint32_t app_http_request(char *buf, uint32_t cap, uint32_t host, uint32_t size);

/*
 * Write a 200 response with a body of @p body bytes; with @p close it says
 * "Connection: close". @return Bytes written, or 0 if @p cap is too small.
 */
uint32_t app_http_response(char *buf, uint32_t cap, uint32_t body, bool close);

/* Bytes of the head of app_http_response() (everything before the body). */
uint32_t app_http_response_head_len(uint32_t body, bool close);

/*
 * Find the end of a request head ("\r\n\r\n") in a stream given piece by
 * piece. @p state (0 at the start of a request) carries the matched part
 * across calls. @return Bytes up to and including the end, or -1 if not in
 * this piece (state updated).
 */
int64_t app_http_head_end(uint8_t *state, const uint8_t *buf, uint32_t len);

/* Incremental parser of a response head: status, Content-Length, Connection: close. */
struct app_http_resp {
	uint64_t content_length;
	uint16_t status;
	uint16_t line;          /* lines seen */
	uint16_t col;           /* characters of the current line, CR not counted */
	uint8_t names;          /* header names the current line can still be (bits) */
	uint8_t hdr;            /* the header whose value is being read (0: none) */
	uint8_t vpos;           /* Connection: characters of "close" matched; 0xff: other */
	bool has_cl;            /* a Content-Length value was seen */
	bool close;             /* "Connection: close": the server closes after this response */
	bool done;              /* the head ended: the body follows */
	bool bad;               /* not HTTP/1.x, or a Content-Length that is not a number */
};

/*
 * Feed response bytes to the parser (zeroed at the start of a response).
 * @return Bytes that belong to the head (all of @p len until done is set);
 *   what follows in @p buf is body.
 */
uint32_t app_http_resp_feed(struct app_http_resp *r, const uint8_t *buf, uint32_t len);

/*
 * The last response head parsed whole from a fresh state, and what it
 * parsed to: a server answers the same head again and again, and bytes
 * equal to it parse to the same result, so one memcmp replaces the parse.
 */
#define APP_HTTP_MEMO_MAX 256
struct app_http_resp_memo {
	uint32_t len;                  /* 0: empty */
	struct app_http_resp parsed;
	uint8_t head[APP_HTTP_MEMO_MAX];
};

/*
 * app_http_resp_feed() with @p m: when @p r is fresh (zeroed) and @p buf
 * starts with the remembered head, that head's result is taken as is;
 * otherwise the parser runs, and a head it parses whole from a fresh state
 * in this one call is remembered. Same results as app_http_resp_feed().
 */
uint32_t app_http_resp_feed_memo(struct app_http_resp *r, struct app_http_resp_memo *m,
				 const uint8_t *buf, uint32_t len);

#endif /* APP_HTTP_H */
