/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine end to end: two stacks over the in-memory wire, handshake,
 * data both ways, each close order, RST, with the exact segments checked.
 */
#include <string.h>

#include "harness.h"

static struct h_net net;

/* Client A connects to B:80; returns the connection (NULL on failure). */
static struct tws_conn *
open_conn(struct h_net *n)
{
	struct tws_conn *c = NULL;
	int rc = tws_connect(n->a.st, &(struct tws_connect_params){
		.laddr = H_ADDR_A, .raddr = H_ADDR_B, .rport = H_PORT }, &c);

	if (rc != 0)
		return NULL;
	h_net_run(n);
	return c;
}

static void
test_handshake_exact_segments(void)
{
	struct tws_tcp_knobs k;

	h_knobs(&k);
	CHECK(h_net_init(&net, &k, &k) == 0);

	struct tws_conn *c = open_conn(&net);

	CHECK(c != NULL);
	CHECKF(net.nb_log == 3, "segments: %u", net.nb_log);

	const struct h_seg *syn = &net.log[0], *sa = &net.log[1], *ack = &net.log[2];

	CHECKF(syn->flags == TWS_TCP_SYN, "%s", h_fmt(syn));
	CHECK(syn->opts.has_mss && syn->opts.mss == 1460);
	CHECK(syn->opts.has_wscale && syn->opts.wscale == 7);
	CHECK(syn->opts.sack_ok && syn->has_ts && syn->tsecr == 0);
	CHECKF(sa->flags == (TWS_TCP_SYN | TWS_TCP_ACK), "%s", h_fmt(sa));
	CHECK(sa->ack == syn->seq + 1);
	CHECK(sa->has_ts && sa->tsecr == syn->tsval);
	CHECK(ack->flags == TWS_TCP_ACK && ack->seq == syn->seq + 1 && ack->ack == sa->seq + 1);
	CHECK(ack->tsecr == sa->tsval);
	CHECK(tws_conn_state(c) == TWS_ESTABLISHED);
	CHECK(h_count_events(&net.a, TWS_EV_CONNECTED) == 1);
	CHECK(h_count_events(&net.b, TWS_EV_ACCEPTED) == 1);
	CHECK(h_stat(&net.b, "established") == 1 && h_stat(&net.a, "established") == 1);
	h_net_free(&net);
}

/* The benchmark's pattern: request, response, client closes first -> 7 segments. */
static void
test_request_response_client_closes(void)
{
	struct tws_tcp_knobs k;

	h_knobs(&k);
	CHECK(h_net_init(&net, &k, &k) == 0);
	net.a.request_len = 100;
	net.a.close_after = 100;
	net.b.auto_reply = true;
	net.b.reply_len = 100;
	net.b.auto_close_on_peer_fin = true;

	struct tws_conn *c = open_conn(&net);

	CHECK(c != NULL);
	CHECKF(net.nb_log == 7, "segments: %u", net.nb_log);
	CHECK(net.log[2].len == 100 && (net.log[2].flags & TWS_TCP_ACK));
	CHECK(net.log[3].len == 100 && net.log_from[3] == 1);
	CHECK(net.log[4].flags == (TWS_TCP_FIN | TWS_TCP_ACK) && net.log_from[4] == 0);
	CHECK(net.log[5].flags == (TWS_TCP_FIN | TWS_TCP_ACK) && net.log_from[5] == 1);
	CHECK(net.log[6].flags == TWS_TCP_ACK && net.log_from[6] == 0);
	CHECK(net.a.rx_bytes == 100 && net.b.rx_bytes == 100);
	CHECK(h_count_events(&net.a, TWS_EV_CLOSED) == 1);
	CHECK(h_count_events(&net.b, TWS_EV_CLOSED) == 1);
	CHECK(h_stat(&net.a, "tw_entries") == 1 && h_stat(&net.b, "tw_entries") == 0);
	CHECK(h_stat(&net.a, "conns") == 0 && h_stat(&net.b, "conns") == 0);
	h_net_free(&net);
}

/* RFC 6691: options come out of the MSS, so a full segment fits a 1500-byte MTU. */
static void
test_full_segments_fit_the_mtu(void)
{
	for (int ts = 0; ts <= 1; ts++) {
		struct tws_tcp_knobs k;
		static uint8_t buf[5000];
		uint32_t max_len = 0;

		h_knobs(&k);
		k.timestamps = (uint32_t)ts;
		CHECK(h_net_init(&net, &k, &k) == 0);

		struct tws_conn *c = open_conn(&net);

		CHECK(c != NULL && tws_conn_state(c) == TWS_ESTABLISHED);
		CHECK(tws_send(c, buf, sizeof(buf)) == (int)sizeof(buf));
		h_net_run(&net);
		for (unsigned int i = 0; i < net.nb_log; i++) {
			const struct h_seg *sg = &net.log[i];
			uint32_t hdr = 20 + 20 + (sg->has_ts ? 12 : 0);

			CHECKF(sg->len + hdr <= 1500, "%s", h_fmt(sg));
			if (sg->len > max_len)
				max_len = sg->len;
		}
		CHECKF(max_len == (ts ? 1448u : 1460u), "timestamps %d: largest payload %u", ts,
		       max_len);
		CHECK(net.b.rx_bytes == sizeof(buf));
		h_net_free(&net);
	}
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_handshake_exact_segments),
		TWS_TEST(test_request_response_client_closes),
		TWS_TEST(test_full_segments_fit_the_mtu),
	};

	(void)argc;
	h_init(argv[0]);
	return tws_test_run(cases, TWS_NCASES(cases));
}
