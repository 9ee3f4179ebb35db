/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up for the runtime: one place where twstack meets rte_ethdev's
 * configuration calls, so that the apps and tests bring up a NIC or a
 * virtual port the same way and learn what the hardware does for them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "tws_log.h"
#include "tws_runtime.h"

RTE_LOG_REGISTER_SUFFIX(tws_runtime_logtype, runtime, INFO);

#define DEFAULT_DESC 1024

/* Ports tws_port_stop() stopped (control path: one thread). */
static bool port_stopped[RTE_MAX_ETHPORTS];

unsigned int
tws_port_list(char *buf, size_t len)
{
	unsigned int n = 0;
	size_t used = 0;
	uint16_t pid;

	if (len > 0)
		buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid) {
		char name[RTE_ETH_NAME_MAX_LEN] = "";
		struct rte_eth_dev_info di;
		const char *drv = "?";

		rte_eth_dev_get_name_by_port(pid, name);
		if (rte_eth_dev_info_get(pid, &di) == 0 && di.driver_name != NULL)
			drv = di.driver_name;
		if (used < len) {
			int w = snprintf(buf + used, len - used, "%s%u %s (%s)", n ? ", " : "",
					 pid, name, drv);

			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}

int
tws_port_find(const char *name, uint16_t *port_id, char *err, size_t err_len)
{
	char *end;
	unsigned long num;

	if (name != NULL && name[0] != '\0') {
		if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
			return 0;
		num = strtoul(name, &end, 10);
		if (*end == '\0' && end != name && num < RTE_MAX_ETHPORTS &&
		    rte_eth_dev_is_valid_port((uint16_t)num)) {
			*port_id = (uint16_t)num;
			return 0;
		}
	}
	if (err != NULL && err_len > 0) {
		char list[512];
		unsigned int n = tws_port_list(list, sizeof(list));

		snprintf(err, err_len, "no port '%s'; %s%s", name != NULL ? name : "",
			 n ? "available: " : "no ports at all (add one with --vdev, e.g. "
			 "--vdev net_ring0, or bind a NIC to a DPDK driver)", n ? list : "");
	}
	return -ENODEV;
}

int
tws_port_setup(const struct tws_port_params *p, struct tws_port_info *info)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	uint16_t nq, rxd, txd;
	int rc;

	if (p == NULL || info == NULL || p->mp == NULL || !rte_eth_dev_is_valid_port(p->port_id)) {
		TWS_LOG(tws_runtime_logtype, ERR, "port setup: a valid port and a mempool are required");
		return -EINVAL;
	}
	rc = rte_eth_dev_info_get(p->port_id, &di);
	if (rc != 0) {
		TWS_LOG(tws_runtime_logtype, ERR, "port %u: rte_eth_dev_info_get: %s", p->port_id,
			strerror(-rc));
		return rc;
	}
	nq = p->nb_queues != 0 ? p->nb_queues : 1;
	if (nq > TWS_PORT_MAX_QUEUES || nq > di.max_rx_queues || nq > di.max_tx_queues) {
		TWS_LOG(tws_runtime_logtype, ERR,
			"port %u (%s): %u queue pairs asked, the port has %u RX / %u TX", p->port_id,
			di.driver_name, nq, di.max_rx_queues, di.max_tx_queues);
		return -EINVAL;
	}

	memset(info, 0, sizeof(*info));
	memset(&conf, 0, sizeof(conf));
	info->port_id = p->port_id;
	info->nb_queues = nq;
	rte_eth_dev_get_name_by_port(p->port_id, info->name);
	snprintf(info->driver, sizeof(info->driver), "%s", di.driver_name);
	info->socket_id = rte_eth_dev_socket_id(p->port_id);

	/* Offloads the port offers; software does the rest (the TCP and net layers ask). */
	if (!p->no_offload) {
		if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
			info->rx_ip_csum = true;
		}
		if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
			info->rx_tcp_csum = true;
		}
		if (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
			info->tx_ip_csum = true;
		}
		if (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
			info->tx_tcp_csum = true;
		}
	}
	/* RSS over the 4-tuple, so each lcore's connections come back to its queue. */
	uint64_t rss = di.flow_type_rss_offloads & (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_IPV4);

	if (nq > 1 && rss != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss;
		info->rss = true;
	}

	rc = rte_eth_dev_configure(p->port_id, nq, nq, &conf);
	if (rc != 0) {
		TWS_LOG(tws_runtime_logtype, ERR, "port %u (%s): rte_eth_dev_configure: %s",
			p->port_id, di.driver_name, strerror(-rc));
		return rc;
	}
	rxd = p->rx_desc != 0 ? p->rx_desc : DEFAULT_DESC;
	txd = p->tx_desc != 0 ? p->tx_desc : DEFAULT_DESC;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (rc != 0) {
		TWS_LOG(tws_runtime_logtype, ERR, "port %u: rte_eth_dev_adjust_nb_rx_tx_desc: %s",
			p->port_id, strerror(-rc));
		return rc;
	}

	int sock = p->socket_id != SOCKET_ID_ANY ? p->socket_id : info->socket_id;
	struct rte_eth_rxconf rxc = di.default_rxconf;
	struct rte_eth_txconf txc = di.default_txconf;

	rxc.offloads = conf.rxmode.offloads;
	txc.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd, (unsigned int)sock, &rxc, p->mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->port_id, q, txd, (unsigned int)sock, &txc);
		if (rc != 0) {
			TWS_LOG(tws_runtime_logtype, ERR, "port %u: queue %u set-up: %s", p->port_id, q,
				strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		TWS_LOG(tws_runtime_logtype, ERR, "port %u (%s): rte_eth_dev_start: %s", p->port_id,
			di.driver_name, strerror(-rc));
		return rc;
	}
	port_stopped[p->port_id] = false;
	rc = rte_eth_macaddr_get(p->port_id, &info->mac);
	if (rc != 0) {
		TWS_LOG(tws_runtime_logtype, ERR, "port %u: rte_eth_macaddr_get: %s", p->port_id,
			strerror(-rc));
		rte_eth_dev_stop(p->port_id);
		return rc;
	}
	if (rte_is_zero_ether_addr(&info->mac)) {
		/* Some virtual ports (net_ring from rings) have none: a random local one. */
		rte_eth_random_addr(info->mac.addr_bytes);
		rc = rte_eth_dev_default_mac_addr_set(p->port_id, &info->mac);
		if (rc != 0 && rc != -ENOTSUP) {
			TWS_LOG(tws_runtime_logtype, ERR, "port %u: no MAC address and none can be set: %s",
				p->port_id, strerror(-rc));
			rte_eth_dev_stop(p->port_id);
			return rc;
		}
		TWS_LOG(tws_runtime_logtype, INFO, "port %u had no MAC address: using "
			RTE_ETHER_ADDR_PRT_FMT, p->port_id, RTE_ETHER_ADDR_BYTES(&info->mac));
	}
	TWS_LOG(tws_runtime_logtype, INFO,
		"port %u %s (%s): %u queue pair(s), csum offload rx %s/%s tx %s/%s, rss %s",
		p->port_id, info->name, info->driver, nq, info->rx_ip_csum ? "ip" : "-",
		info->rx_tcp_csum ? "tcp" : "-", info->tx_ip_csum ? "ip" : "-",
		info->tx_tcp_csum ? "tcp" : "-", info->rss ? "on" : "off");
	return 0;
}

void
tws_port_stop(uint16_t port_id)
{
	if (!rte_eth_dev_is_valid_port(port_id) || port_stopped[port_id])
		return;
	rte_eth_dev_stop(port_id);
	port_stopped[port_id] = true;
}

void
tws_port_close(uint16_t port_id)
{
	if (!rte_eth_dev_is_valid_port(port_id))
		return;
	tws_port_stop(port_id);
	rte_eth_dev_close(port_id);
	port_stopped[port_id] = false;
}
