/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry endpoints of the tools that run on ports: /tws/stats,
 * /tws/tw, /tws/config, readable with dpdk-telemetry.py while they run
 * (start them with --telemetry before '--').
 */
#ifndef APP_TELEMETRY_H
#define APP_TELEMETRY_H

#include "app_dp.h"

/* Register the endpoints for the data path @p dp. @return 0 or -errno. */
int app_telemetry_register(const struct app_dp *dp);

#endif /* APP_TELEMETRY_H */
