/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What tws-gen and tws-server share in apps/common that needs no port:
 * the HTTP pieces (request and response made to size; the incremental
 * parsers give the same answer however the bytes are split) and the
 * latency histogram's quantiles.
 */
#include <string.h>

#include <rte_common.h>

#include "app_hist.h"
#include "app_http.h"
#include "tws_test.h"

#define HOST 0xc6120001u /* 198.18.0.1 */

static void
test_request_has_the_asked_size_and_one_head_end(void)
{
	char buf[4096];

	for (uint32_t size = APP_HTTP_REQUEST_MIN; size <= 3000; size += 97) {
		uint8_t st = 0;

		CHECK(app_http_request(buf, sizeof(buf), HOST, size) == size);
		CHECK(strncmp(buf, "GET / HTTP/1.1\r\nHost: 198.18.0.1\r\n", 34) == 0);
		CHECK(app_http_head_end(&st, (const uint8_t *)buf, size) == (int64_t)size);
	}
	CHECK(app_http_request(buf, sizeof(buf), HOST, APP_HTTP_REQUEST_MIN - 1) == 0);
	CHECK(app_http_request(buf, 100, HOST, 101) == 0);
}

static void
test_head_end_found_across_every_split(void)
{
	const char *two = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n";
	uint32_t len = (uint32_t)strlen(two);

	for (uint32_t cut = 0; cut <= len; cut++) {
		uint8_t st = 0;
		unsigned int found = 0;
		uint32_t pieces[2][2] = { { 0, cut }, { cut, len - cut } };

		for (int p = 0; p < 2; p++) {
			uint32_t pos = pieces[p][0], end = pos + pieces[p][1];
			int64_t r;

			while (pos < end && (r = app_http_head_end(&st, (const uint8_t *)two + pos,
								   end - pos)) >= 0) {
				pos += (uint32_t)r;
				found++;
			}
		}
		CHECKF(found == 2 && st == 0, "cut %u: %u heads, state %u", cut, found, st);
	}
	/* A bare "\n\n" or a "\r\r\n\n" is not the end. */
	uint8_t st = 0;

	CHECK(app_http_head_end(&st, (const uint8_t *)"a\n\nb\r\r\n\n", 8) == -1);
}

/* Feed @p text split at @p cut; @return the head bytes the parser claimed in total. */
static uint32_t
feed_split(struct app_http_resp *r, const char *text, uint32_t cut)
{
	uint32_t len = (uint32_t)strlen(text), used;

	memset(r, 0, sizeof(*r));
	used = app_http_resp_feed(r, (const uint8_t *)text, cut);
	if (!r->done)
		used += app_http_resp_feed(r, (const uint8_t *)text + cut, len - cut);
	return used;
}

static void
test_response_parsed_the_same_across_every_split(void)
{
	char buf[512];
	uint32_t n = app_http_response(buf, sizeof(buf) - 1, 123, true);
	uint32_t head = app_http_response_head_len(123, true);

	CHECK(n == head + 123);
	buf[n] = '\0';
	for (uint32_t cut = 0; cut <= n; cut++) {
		struct app_http_resp r;
		uint32_t used = feed_split(&r, buf, cut);

		CHECKF(r.done && !r.bad && r.status == 200 && r.has_cl && r.content_length == 123 &&
		       r.close && used == head, "cut %u: done %d bad %d status %u cl %lu close %d "
		       "used %u of %u", cut, r.done, r.bad, r.status,
		       (unsigned long)r.content_length, r.close, used, head);
	}
	n = app_http_response(buf, sizeof(buf) - 1, 0, false);
	buf[n] = '\0';

	struct app_http_resp r;

	CHECK(feed_split(&r, buf, 20) == n && r.done && r.has_cl && r.content_length == 0 &&
	      !r.close);
}

static void
test_response_headers_in_any_case_and_bad_ones(void)
{
	struct app_http_resp r;

	feed_split(&r, "HTTP/1.0 404 Not Found\r\nCONTENT-length:  7 \r\n"
		   "connection: Close\r\n\r\n", 5);
	CHECK(r.done && !r.bad && r.status == 404 && r.content_length == 7 && r.close);
	feed_split(&r, "HTTP/1.1 200 OK\r\nX-Content-Length: 5\r\n"
		   "Connection: keep-alive\r\n\r\n", 9);
	CHECK(r.done && !r.has_cl && !r.close);
	feed_split(&r, "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", 3);
	CHECK(r.done && r.bad);
	feed_split(&r, "SMTP/1.1 200 OK\r\n\r\n", 3);
	CHECK(r.bad);
	feed_split(&r, "HTTP/1.1 2\r\n\r\n", 3);
	CHECK(r.bad);
	feed_split(&r, "HTTP/1.1 200 OK\r\nConnection: closed\r\n\r\n", 30);
	CHECK(r.done && !r.close);
}

/* Lines the parser skips to their end (unknown headers, near-miss names) at every split. */
static void
test_response_skipped_lines_across_every_split(void)
{
	const char *text = "HTTP/1.1 200 OK with a long reason\r\nServer: x\r\n"
			   "Content-Lengthy: 9\r\nConnectionless: close\r\nno colon here\r\n"
			   "X-Connection: close\r\ncontent-LENGTH: 42\r\nConnection:close\r\n\r\nBODY";
	uint32_t len = (uint32_t)strlen(text);

	for (uint32_t cut = 0; cut <= len; cut++) {
		struct app_http_resp r;
		uint32_t used = feed_split(&r, text, cut);

		CHECKF(r.done && !r.bad && r.status == 200 && r.has_cl && r.content_length == 42 &&
		       r.close && used == len - 4, "cut %u: done %d bad %d cl %lu close %d used %u",
		       cut, r.done, r.bad, (unsigned long)r.content_length, r.close, used);
	}
}

/* Feed @p text split at @p cut through the memo; @return the head bytes claimed. */
static uint32_t
feed_split_memo(struct app_http_resp *r, struct app_http_resp_memo *m, const char *text,
		uint32_t cut)
{
	uint32_t len = (uint32_t)strlen(text), used;

	memset(r, 0, sizeof(*r));
	used = app_http_resp_feed_memo(r, m, (const uint8_t *)text, cut);
	if (!r->done)
		used += app_http_resp_feed_memo(r, m, (const uint8_t *)text + cut, len - cut);
	return used;
}

/* The memo gives what the parser gives, for the same head, another one, and every split. */
static void
test_response_memo_gives_what_the_parser_gives(void)
{
	static const char *const texts[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 123\r\n\r\nbody",
		"HTTP/1.1 200 OK\r\nContent-Length: 124\r\n\r\nbody",
		"HTTP/1.1 200 OK\r\nContent-Length: 124\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 500 OK\r\nContent-Length: 124\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
	};
	struct app_http_resp_memo m;

	memset(&m, 0, sizeof(m));
	for (unsigned int round = 0; round < 3; round++) {
		for (unsigned int k = 0; k < RTE_DIM(texts); k++) {
			uint32_t len = (uint32_t)strlen(texts[k]);

			for (uint32_t cut = 0; cut <= len; cut++) {
				struct app_http_resp want, got;
				uint32_t uw = feed_split(&want, texts[k], cut);
				uint32_t ug = feed_split_memo(&got, &m, texts[k], cut);

				CHECKF(uw == ug && memcmp(&want, &got, sizeof(want)) == 0,
				       "text %u cut %u: used %u / %u, cl %lu / %lu", k, cut, uw,
				       ug, (unsigned long)want.content_length,
				       (unsigned long)got.content_length);
			}
		}
	}
	/* Whole heads in one piece: remembered, then taken from the memo. */
	CHECK(m.len == strlen(texts[4]) - 0 && m.parsed.bad);
}

/* The body check agrees with app_http_body_byte() and finds any single wrong byte. */
static void
test_body_check_matches_the_pattern_and_finds_a_wrong_byte(void)
{
	static uint8_t body[3 * APP_HTTP_BODY_PERIOD + 100];
	const uint64_t starts[] = { 0, 1, 63, 64, 831, 832, 833, 5000, (UINT64_C(1) << 40) + 7 };

	for (unsigned int k = 0; k < RTE_DIM(starts); k++) {
		uint64_t at = starts[k];

		for (uint32_t i = 0; i < sizeof(body); i++)
			body[i] = app_http_body_byte(at + i);
		CHECKF(app_http_body_check(body, at, sizeof(body)), "start %lu", (unsigned long)at);
		CHECK(app_http_body_check(body, at, 0));
		CHECK(app_http_body_check(body + 10, at + 10, 7));
		CHECK(!app_http_body_check(body + 1, at, 100)); /* shifted by one */
		for (uint32_t i = 0; i < sizeof(body); i += 97) {
			body[i] ^= 1;
			CHECKF(!app_http_body_check(body, at, sizeof(body)), "start %lu byte %u",
			       (unsigned long)at, i);
			body[i] ^= 1;
		}
	}
}

static void
test_histogram_quantiles_within_a_bucket(void)
{
	static struct app_hist h;

	memset(&h, 0, sizeof(h));
	CHECK(app_hist_quantile(&h, 0.5) == 0);
	for (uint64_t v = 1; v <= 100000; v++)
		app_hist_add(&h, v);
	CHECK(h.count == 100000 && h.max == 100000);

	const double q[] = { 0.5, 0.99, 0.999 };

	for (unsigned int i = 0; i < 3; i++) {
		uint64_t want = (uint64_t)(q[i] * 100000), got = app_hist_quantile(&h, q[i]);

		/* The top of the bucket: at or above the true value, at most 1/8 more. */
		CHECKF(got >= want && got <= want + want / 8 + 1, "q %.3f: %lu, want %lu", q[i],
		       (unsigned long)got, (unsigned long)want);
	}
	CHECK(app_hist_quantile(&h, 1.0) == 100000);
	for (uint64_t v = 0; v < 8; v++)
		CHECK(app_hist_bucket(v) == v);
	CHECK(app_hist_bucket(UINT64_MAX) == APP_HIST_BUCKETS - 1);
}

int
main(void)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_request_has_the_asked_size_and_one_head_end),
		TWS_TEST(test_head_end_found_across_every_split),
		TWS_TEST(test_response_parsed_the_same_across_every_split),
		TWS_TEST(test_response_headers_in_any_case_and_bad_ones),
		TWS_TEST(test_response_skipped_lines_across_every_split),
		TWS_TEST(test_response_memo_gives_what_the_parser_gives),
		TWS_TEST(test_body_check_matches_the_pattern_and_finds_a_wrong_byte),
		TWS_TEST(test_histogram_quantiles_within_a_bucket),
	};

	return tws_test_run(cases, TWS_NCASES(cases));
}
