/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which RX queue a NIC's RSS puts a packet on: the Toeplitz hash of its
 * IPv4 addresses and TCP ports under the port's key, then the port's
 * redirection table (RETA). A client lane picks only local ports whose
 * replies land on its own queue (tws_rss_reply_here() as the port
 * allocator's accept callback), so no lane ever sees another's packets.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_thash.h>

#include "tws_log.h"
#include "tws_runtime.h"
#include "tws_table.h"

extern int tws_runtime_logtype; /* tws_port.c */

struct tws_rss {
	uint8_t key[TWS_RSS_KEY_MAX]; /* rte_softrss() reads its first 16 bytes */
	uint32_t reta_size;
	bool l4;                      /* the hash covers the TCP ports, not only the addresses */
	uint16_t reta[TWS_RSS_RETA_MAX];
};

struct tws_rss *
tws_rss_create(const struct tws_rss_params *p)
{
	/* The 96-bit input (two addresses, two ports) needs 96 + 32 bits of key. */
	if (p == NULL || p->key == NULL || p->key_len < 16 || p->key_len > TWS_RSS_KEY_MAX ||
	    p->key_len % 4 != 0 || p->reta == NULL || p->reta_size == 0 ||
	    p->reta_size > TWS_RSS_RETA_MAX) {
		TWS_LOG(tws_runtime_logtype, ERR, "rss: need a key of 16..%u bytes (a multiple of "
			"4) and a RETA of 1..%u entries", TWS_RSS_KEY_MAX, TWS_RSS_RETA_MAX);
		rte_errno = EINVAL;
		return NULL;
	}

	struct tws_rss *r = rte_zmalloc_socket("tws_rss", sizeof(*r), RTE_CACHE_LINE_SIZE,
					       p->socket_id);

	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memcpy(r->key, p->key, p->key_len);
	r->reta_size = p->reta_size;
	r->l4 = !p->l3_only;
	memcpy(r->reta, p->reta, p->reta_size * sizeof(r->reta[0]));
	return r;
}

struct tws_rss *
tws_rss_from_port(uint16_t port_id, int socket_id)
{
	struct rte_eth_dev_info di;
	struct rte_eth_rss_conf conf;
	uint8_t key[TWS_RSS_KEY_MAX];
	int rc;

	rc = rte_eth_dev_info_get(port_id, &di);
	if (rc != 0 || di.reta_size == 0 || di.reta_size > TWS_RSS_RETA_MAX ||
	    di.hash_key_size > TWS_RSS_KEY_MAX) {
		TWS_LOG(tws_runtime_logtype, ERR, "rss: port %u: no RSS redirection table we can "
			"read (reta_size %u, key %u bytes)", port_id, rc == 0 ? di.reta_size : 0,
			rc == 0 ? di.hash_key_size : 0);
		rte_errno = ENOTSUP;
		return NULL;
	}
	memset(&conf, 0, sizeof(conf));
	conf.rss_key = key;
	conf.rss_key_len = di.hash_key_size != 0 ? di.hash_key_size : 40;
	rc = rte_eth_dev_rss_hash_conf_get(port_id, &conf);
	if (rc != 0) {
		TWS_LOG(tws_runtime_logtype, ERR, "rss: port %u: rte_eth_dev_rss_hash_conf_get: %s",
			port_id, rte_strerror(-rc));
		rte_errno = ENOTSUP;
		return NULL;
	}

	struct rte_eth_rss_reta_entry64 rc64[TWS_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t reta[TWS_RSS_RETA_MAX];

	memset(rc64, 0, sizeof(rc64));
	for (unsigned int i = 0; i < di.reta_size / RTE_ETH_RETA_GROUP_SIZE; i++)
		rc64[i].mask = UINT64_MAX;
	rc = rte_eth_dev_rss_reta_query(port_id, rc64, di.reta_size);
	if (rc != 0) {
		TWS_LOG(tws_runtime_logtype, ERR, "rss: port %u: rte_eth_dev_rss_reta_query: %s",
			port_id, rte_strerror(-rc));
		rte_errno = ENOTSUP;
		return NULL;
	}
	for (unsigned int i = 0; i < di.reta_size; i++)
		reta[i] = rc64[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	return tws_rss_create(&(struct tws_rss_params){ .key = key,
		.key_len = conf.rss_key_len, .reta = reta, .reta_size = di.reta_size,
		.l3_only = !(conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP), .socket_id = socket_id });
}

void
tws_rss_free(struct tws_rss *r)
{
	rte_free(r);
}

uint32_t
tws_rss_hash(const struct tws_rss *r, rte_be32_t saddr, rte_be32_t daddr, rte_be16_t sport,
	     rte_be16_t dport)
{
	/* rte_softrss() takes the tuple in host order: addresses, then sport << 16 | dport. */
	uint32_t in[3] = { rte_be_to_cpu_32(saddr), rte_be_to_cpu_32(daddr),
			   (uint32_t)rte_be_to_cpu_16(sport) << 16 | rte_be_to_cpu_16(dport) };

	return rte_softrss(in, r->l4 ? 3 : 2, r->key);
}

uint16_t
tws_rss_queue(const struct tws_rss *r, rte_be32_t saddr, rte_be32_t daddr, rte_be16_t sport,
	      rte_be16_t dport)
{
	return r->reta[tws_rss_hash(r, saddr, daddr, sport, dport) % r->reta_size];
}

bool
tws_rss_reply_here(void *lane, const struct tws_tuple *key)
{
	const struct tws_rss_lane *l = lane;

	/* The reply comes from the remote end to us. */
	return tws_rss_queue(l->rss, key->raddr, key->laddr, key->rport, key->lport) == l->queue;
}
