/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RSS as a NIC computes it (tws_rss_*) and the port allocator taking only
 * the ports whose replies reach a lane's queue (tws_ports_params.accept):
 * the Toeplitz hash against Microsoft's published verification vectors,
 * the redirection table, and every port a lane hands out checked.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>

#include "tws_runtime.h"
#include "tws_table.h"
#include "tws_test.h"

/* The key of Microsoft's "Verifying the RSS Hash Calculation" (the common default). */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Source, destination, ports, and the hashes: IPv4 only, IPv4 with TCP. */
static const struct {
	uint8_t src[4], dst[4];
	uint16_t sport, dport;
	uint32_t l3, l4;
} ms_vec[] = {
	{ { 66, 9, 149, 187 }, { 161, 142, 100, 80 }, 2794, 1766, 0x323e8fc2, 0x51ccc178 },
	{ { 199, 92, 111, 2 }, { 65, 69, 140, 83 }, 14230, 4739, 0xd718262a, 0xc626b0ea },
	{ { 24, 19, 198, 95 }, { 12, 22, 207, 184 }, 12898, 38024, 0xd2d0a5de, 0x5c2b394a },
	{ { 38, 27, 205, 30 }, { 209, 142, 163, 6 }, 48228, 2217, 0x82989176, 0xafc7327f },
	{ { 153, 39, 163, 191 }, { 202, 188, 127, 2 }, 44251, 1303, 0x5d1809c5, 0x10e828a2 },
};

#define NB_QUEUES 4
#define RETA 128

static uint16_t reta[RETA];

/* Not RTE_IPV4(): it shifts an int, and 161 << 24 overflows one (UBSan says so). */
#define IP4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static rte_be32_t
ip4(const uint8_t a[4])
{
	return rte_cpu_to_be_32(IP4(a[0], a[1], a[2], a[3]));
}

static struct tws_rss *
mk_rss(bool l3_only)
{
	for (unsigned int i = 0; i < RETA; i++)
		reta[i] = (uint16_t)(i % NB_QUEUES);
	return tws_rss_create(&(struct tws_rss_params){ .key = ms_key, .key_len = sizeof(ms_key),
		.reta = reta, .reta_size = RETA, .l3_only = l3_only, .socket_id = SOCKET_ID_ANY });
}

static void
test_toeplitz_matches_the_published_vectors(void)
{
	struct tws_rss *l4 = mk_rss(false), *l3 = mk_rss(true);

	CHECK(l4 != NULL && l3 != NULL);
	for (unsigned int i = 0; i < RTE_DIM(ms_vec); i++) {
		rte_be32_t s = ip4(ms_vec[i].src), d = ip4(ms_vec[i].dst);
		rte_be16_t sp = rte_cpu_to_be_16(ms_vec[i].sport);
		rte_be16_t dp = rte_cpu_to_be_16(ms_vec[i].dport);
		uint32_t h4 = tws_rss_hash(l4, s, d, sp, dp), h3 = tws_rss_hash(l3, s, d, sp, dp);

		CHECKF(h4 == ms_vec[i].l4, "vector %u: tcp hash %08x, want %08x", i, h4,
		       ms_vec[i].l4);
		CHECKF(h3 == ms_vec[i].l3, "vector %u: ip hash %08x, want %08x", i, h3,
		       ms_vec[i].l3);
		/* The low bits pick the RETA entry, which names the queue. */
		CHECK(tws_rss_queue(l4, s, d, sp, dp) == reta[ms_vec[i].l4 % RETA]);
		CHECK(tws_rss_queue(l3, s, d, sp, dp) == reta[ms_vec[i].l3 % RETA]);
	}
	tws_rss_free(l4);
	tws_rss_free(l3);
}

static void
test_reply_here_is_the_reply_direction(void)
{
	struct tws_rss *r = mk_rss(false);
	/* Vector 0 is the reply to our connection 161.142.100.80:1766 -> 66.9.149.187:2794. */
	struct tws_tuple k = { .laddr = ip4(ms_vec[0].dst), .raddr = ip4(ms_vec[0].src),
			       .lport = rte_cpu_to_be_16(ms_vec[0].dport),
			       .rport = rte_cpu_to_be_16(ms_vec[0].sport) };
	uint16_t want = reta[ms_vec[0].l4 % RETA];
	unsigned int yes = 0;

	CHECK(r != NULL);
	for (uint16_t q = 0; q < NB_QUEUES; q++) {
		struct tws_rss_lane lane = { .rss = r, .queue = q };
		bool here = tws_rss_reply_here(&lane, &k);

		CHECKF(here == (q == want), "queue %u: %d (the reply goes to %u)", q, here, want);
		yes += here;
	}
	CHECK(yes == 1); /* exactly one lane owns it */
	tws_rss_free(r);
}

static void
test_bad_parameters_refused(void)
{
	uint16_t one = 0;

	CHECK(tws_rss_create(NULL) == NULL && rte_errno == EINVAL);
	CHECK(tws_rss_create(&(struct tws_rss_params){ .key = ms_key, .key_len = 12, .reta = &one,
		.reta_size = 1 }) == NULL && rte_errno == EINVAL);
	CHECK(tws_rss_create(&(struct tws_rss_params){ .key = ms_key, .key_len = 40, .reta = &one,
		.reta_size = 0 }) == NULL && rte_errno == EINVAL);
	CHECK(tws_rss_create(&(struct tws_rss_params){ .key = ms_key, .key_len = 40, .reta = &one,
		.reta_size = TWS_RSS_RETA_MAX + 1 }) == NULL && rte_errno == EINVAL);
	tws_rss_free(NULL);
}

/* Every port lane 1 of 4 hands out is one whose reply RSS brings to queue 1. */
/* tws_rss_reply_here(), counted: the allocator must ask once per port of a destination. */
static unsigned long asked;

static bool
counted_reply_here(void *lane, const struct tws_tuple *key)
{
	asked++;
	return tws_rss_reply_here(lane, key);
}

static void
test_ports_take_only_what_rss_brings_back(void)
{
	struct tws_rss *r = mk_rss(false);
	struct tws_rss_lane lane = { .rss = r, .queue = 1 };
	struct tws_ports *pa = tws_ports_create(&(struct tws_ports_params){ .name = "rss",
		.socket_id = SOCKET_ID_ANY, .port_min = 40000, .port_max = 41023, .seed = 7,
		.accept = counted_reply_here, .accept_arg = &lane });
	struct tws_tuple base = { .laddr = rte_cpu_to_be_32(IP4(198, 18, 1, 1)),
				  .raddr = rte_cpu_to_be_32(IP4(198, 18, 0, 1)),
				  .rport = rte_cpu_to_be_16(80) };
	unsigned int accepted = 0, got = 0, refused_port = 0;
	uint8_t seen[1024] = { 0 };

	CHECK(r != NULL && pa != NULL);
	for (unsigned int p = 40000; p <= 41023; p++) {
		struct tws_tuple k = base;

		k.lport = rte_cpu_to_be_16((uint16_t)p);
		if (tws_rss_queue(r, k.raddr, k.laddr, k.rport, k.lport) == 1)
			accepted++;
		else if (refused_port == 0)
			refused_port = p;
	}
	/* A quarter of the range, give or take: the hash spreads the ports. */
	CHECKF(accepted > 150 && accepted < 370, "%u of 1024 ports reach queue 1", accepted);
	for (;;) {
		struct tws_tuple k = base;
		int rc = tws_ports_pick(pa, &k);

		if (rc == -ENOENT)
			break;
		CHECK(rc == 0);
		uint16_t p = rte_be_to_cpu_16(k.lport);

		CHECKF(p >= 40000 && p <= 41023 && !seen[p - 40000], "port %u", p);
		seen[p - 40000] = 1;
		CHECKF(tws_rss_queue(r, k.raddr, k.laddr, k.rport, k.lport) == 1,
		       "port %u: its replies go to queue %u", p,
		       tws_rss_queue(r, k.raddr, k.laddr, k.rport, k.lport));
		got++;
	}
	CHECKF(got == accepted, "handed out %u of the %u ports that reach queue 1", got, accepted);

	/* A released port comes back; a refused one bound by hand and released does not. */
	struct tws_tuple k = base;
	struct tws_tw_entry *reused;
	struct tws_table *t = tws_table_create(&(struct tws_table_params){ .name = "rss",
		.socket_id = SOCKET_ID_ANY, .max_conns = 64, .conn_size = 64, .max_tw = 64,
		.tw_timeout = 1000 });

	CHECK(t != NULL);
	k.lport = rte_cpu_to_be_16((uint16_t)refused_port);
	CHECK(tws_ports_connect_bound(pa, t, &k, &reused) == 0);
	tws_ports_release(pa, &k);
	k = base;
	CHECK(tws_ports_pick(pa, &k) == -ENOENT);
	for (unsigned int i = 0; i < 1024; i++) {
		if (seen[i]) {
			k.lport = rte_cpu_to_be_16((uint16_t)(40000 + i));
			tws_ports_release(pa, &k);
			k = base;
			CHECK(tws_ports_pick(pa, &k) == 0 &&
			      rte_be_to_cpu_16(k.lport) == 40000 + i);
			break;
		}
	}
	/*
	 * Every port handed out and the table empty: connect looks past the
	 * bitmap at the oldest ports, and still takes only one of ours.
	 */
	for (unsigned int n = 0; n < 8; n++) {
		k = base;
		CHECK(tws_ports_connect(pa, t, &k, NULL, 0, &reused) == 0);
		CHECKF(tws_rss_queue(r, k.raddr, k.laddr, k.rport, k.lport) == 1, "port %u",
		       rte_be_to_cpu_16(k.lport));
	}
	/*
	 * The callback (a Toeplitz hash) was asked once per port, when the
	 * destination was first seen: picks, releases, the bound connect and the
	 * scans past the bitmap read the refused map instead.
	 */
	CHECKF(asked == 1024, "accept asked %lu times for 1024 ports", asked);
	tws_table_free(t);
	tws_ports_free(pa);
	tws_rss_free(r);
}

/* Four lanes on one destination share the range without overlap and cover it. */
static void
test_four_lanes_partition_the_ports(void)
{
	struct tws_rss *r = mk_rss(false);
	struct tws_rss_lane lanes[NB_QUEUES];
	struct tws_ports *pa[NB_QUEUES];
	uint8_t owner[1024];
	unsigned int total = 0;

	CHECK(r != NULL);
	memset(owner, 0xff, sizeof(owner));
	for (uint16_t q = 0; q < NB_QUEUES; q++) {
		lanes[q] = (struct tws_rss_lane){ .rss = r, .queue = q };
		pa[q] = tws_ports_create(&(struct tws_ports_params){ .socket_id = SOCKET_ID_ANY,
			.port_min = 50000, .port_max = 51023, .accept = tws_rss_reply_here,
			.accept_arg = &lanes[q] });
		CHECK(pa[q] != NULL);
		for (;;) {
			struct tws_tuple k = { .laddr = rte_cpu_to_be_32(IP4(198, 18, 1, 9)),
					       .raddr = rte_cpu_to_be_32(IP4(198, 18, 0, 3)),
					       .rport = rte_cpu_to_be_16(443) };

			if (tws_ports_pick(pa[q], &k) != 0)
				break;
			uint16_t i = (uint16_t)(rte_be_to_cpu_16(k.lport) - 50000);

			CHECKF(owner[i] == 0xff, "port %u handed out by lanes %u and %u", 50000 + i,
			       owner[i], q);
			owner[i] = (uint8_t)q;
			total++;
		}
	}
	CHECK(total == 1024); /* every port belongs to exactly one lane */
	for (uint16_t q = 0; q < NB_QUEUES; q++)
		tws_ports_free(pa[q]);
	tws_rss_free(r);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_toeplitz_matches_the_published_vectors),
		TWS_TEST(test_reply_here_is_the_reply_direction),
		TWS_TEST(test_bad_parameters_refused),
		TWS_TEST(test_ports_take_only_what_rss_brings_back),
		TWS_TEST(test_four_lanes_partition_the_ports),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 64);
	return tws_test_run(cases, TWS_NCASES(cases));
}
