/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The endpoints run in DPDK's telemetry thread while the lcore works: they
 * only read counters and knobs (a value read mid-update is at worst one
 * increment stale, as with any statistics poll).
 */
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "app_telemetry.h"
#include "tws_tcp.h"

static const struct app_dp *tel_dp;

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tws_stack_stats s;
	const char *name, *desc;
	const uint64_t *v = (const uint64_t *)&s;

	(void)cmd;
	(void)params;
	app_dp_stack_stats(tel_dp, &s);
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; tws_stack_stat_name(i, &name, &desc) == 0; i++)
		rte_tel_data_add_dict_u64(d, name, v[i]);
	rte_tel_data_add_dict_u64(d, "conns", s.conns);
	rte_tel_data_add_dict_u64(d, "tw_entries", s.tw_entries);
	rte_tel_data_add_dict_u64(d, "memory_bytes", s.memory_bytes);
	return 0;
}

static int
tel_tw(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tws_stack_stats s;
	const char *name, *desc;
	const uint64_t *v = (const uint64_t *)&s;
	char bytes[32];

	(void)cmd;
	(void)params;
	app_dp_stack_stats(tel_dp, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "entries", s.tw_entries);
	rte_tel_data_add_dict_u64(d, "capacity", app_dp_tw_capacity(tel_dp));
	snprintf(bytes, sizeof(bytes), "%.1f", tel_dp->tw_bytes_per_entry);
	rte_tel_data_add_dict_string(d, "bytes_per_entry", bytes);
	rte_tel_data_add_dict_u64(d, "memory_bytes",
				  (uint64_t)(tel_dp->tw_bytes_per_entry * (double)s.tw_entries));
	/* The TIME_WAIT counters: every stack counter named tw_*. */
	for (unsigned int i = 0; tws_stack_stat_name(i, &name, &desc) == 0; i++)
		if (strncmp(name, "tw_", 3) == 0)
			rte_tel_data_add_dict_u64(d, name, v[i]);
	return 0;
}

static int
tel_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tws_tcp_knobs k;
	const char *name;
	char val[32];

	(void)cmd;
	(void)params;
	tws_stack_knobs_get(tel_dp->st, &k);
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
		if (tws_tcp_knob_info(i, &name, NULL, NULL, NULL, NULL, NULL) != 0 ||
		    tws_tcp_knob_get(&k, name, val, sizeof(val)) != 0)
			continue;
		rte_tel_data_add_dict_string(d, name, val);
	}
	rte_tel_data_add_dict_string(d, "port", tel_dp->info.name);
	return 0;
}

int
app_telemetry_register(const struct app_dp *dp)
{
	int rc;

	tel_dp = dp;
	rc = rte_telemetry_register_cmd("/tws/stats", tel_stats,
		"twstack counters of the stack (TWS_STACK_STATS). No parameters");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/tws/tw", tel_tw,
			"TIME_WAIT entries, capacity, bytes per entry, tw_* counters. No parameters");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/tws/config", tel_config,
			"the TCP knobs in force and the port. No parameters");
	return rc;
}
