/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime port set-up over a virtual port (net_ring): finding ports by name
 * with a useful error, configuring queues and offloads, refusing what the
 * port cannot do, and a frame through the configured queues.
 */
#include <errno.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "tws_runtime.h"
#include "tws_test.h"

static struct rte_mempool *mp;
static uint16_t ring_port;

static void
test_find_by_name_and_number(void)
{
	char err[256];
	uint16_t pid = UINT16_MAX;
	char num[8];

	CHECK(tws_port_find("net_ring0", &pid, err, sizeof(err)) == 0);
	ring_port = pid;
	snprintf(num, sizeof(num), "%u", pid);
	pid = UINT16_MAX;
	CHECK(tws_port_find(num, &pid, err, sizeof(err)) == 0 && pid == ring_port);
}

static void
test_unknown_port_lists_the_available_ones(void)
{
	char err[256] = "";
	uint16_t pid;

	CHECK(tws_port_find("net_nope9", &pid, err, sizeof(err)) == -ENODEV);
	CHECKF(strstr(err, "net_nope9") != NULL && strstr(err, "net_ring0") != NULL, "%s", err);
	CHECK(tws_port_find("77", &pid, err, sizeof(err)) == -ENODEV);
	CHECK(tws_port_find(NULL, &pid, NULL, 0) == -ENODEV);
}

static void
test_too_many_queues_refused(void)
{
	struct tws_port_info info;
	struct rte_eth_dev_info di;

	CHECK(rte_eth_dev_info_get(ring_port, &di) == 0);
	CHECK(tws_port_setup(&(struct tws_port_params){ .port_id = ring_port,
		.nb_queues = (uint16_t)(di.max_rx_queues + 1), .mp = mp,
		.socket_id = SOCKET_ID_ANY }, &info) == -EINVAL);
	CHECK(tws_port_setup(&(struct tws_port_params){ .port_id = ring_port, .mp = NULL,
		.socket_id = SOCKET_ID_ANY }, &info) == -EINVAL);
	CHECK(tws_port_setup(&(struct tws_port_params){ .port_id = 999, .mp = mp,
		.socket_id = SOCKET_ID_ANY }, &info) == -EINVAL);
}

/* net_ring0 made by the vdev bus loops TX back to RX: a frame goes round. */
static void
test_setup_and_a_frame_through(void)
{
	struct tws_port_info info;
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *got[4];
	uint16_t n = 0;

	CHECK(m != NULL);
	CHECK(tws_port_setup(&(struct tws_port_params){ .port_id = ring_port, .nb_queues = 1,
		.mp = mp, .socket_id = SOCKET_ID_ANY }, &info) == 0);
	CHECK(info.nb_queues == 1 && strcmp(info.name, "net_ring0") == 0);
	CHECK(strlen(info.driver) > 0);
	CHECK(!info.rss); /* one queue: nothing to spread */
	memset(rte_pktmbuf_append(m, 64), 0xab, 64);
	CHECK(rte_eth_tx_burst(ring_port, 0, &m, 1) == 1);
	for (int i = 0; i < 100 && n == 0; i++)
		n = rte_eth_rx_burst(ring_port, 0, got, 4);
	CHECK(n == 1 && got[0]->data_len == 64);
	CHECK(rte_pktmbuf_mtod(got[0], uint8_t *)[63] == 0xab);
	rte_pktmbuf_free(got[0]);
	tws_port_close(ring_port);
	CHECK(!rte_eth_dev_is_valid_port(ring_port));
	tws_port_close(ring_port); /* harmless twice */
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_find_by_name_and_number),
		TWS_TEST(test_unknown_port_lists_the_available_ones),
		TWS_TEST(test_too_many_queues_refused),
		TWS_TEST(test_setup_and_a_frame_through),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 128);
	mp = rte_pktmbuf_pool_create("port_mp", 4095, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     SOCKET_ID_ANY);
	if (mp == NULL || rte_eal_hotplug_add("vdev", "net_ring0", "") != 0) {
		printf("1..0 # SKIP no mbuf pool or no net_ring driver\n");
		return 77;
	}
	return tws_test_run(cases, TWS_NCASES(cases));
}
