/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal logging helpers shared by the lib/ layers. Each layer registers
 * its own DPDK log type ("twstack.timer", "twstack.table", ...) so a user can
 * raise one layer's verbosity with --log-level=twstack.timer:debug.
 */
#ifndef TWS_LOG_H
#define TWS_LOG_H

#include <rte_log.h>

#define TWS_LOG(logtype, level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, (logtype), "twstack: " fmt "\n", ##__VA_ARGS__)

#endif /* TWS_LOG_H */
