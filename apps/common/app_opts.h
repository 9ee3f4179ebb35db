/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Options of tws-gen and tws-server from one table per tool: the command
 * line (--name value or --name=value), an .ini file read with DPDK's
 * rte_cfgfile (--config FILE: section [<tool section>] holds the same
 * options by name, section [tcp] the TCP knobs of TWS_TCP_KNOBS) and the
 * TCP knobs (--knob name=value). The command line overrides the file. The
 * same table prints --help. Every refusal is one message naming the option
 * (or file, section and key) and what is accepted.
 */
#ifndef APP_OPTS_H
#define APP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tws_tcp.h"

/* Value kinds of an option; each writes the field at app_opt.off of the base. */
enum app_opt_type {
	APP_OPT_U32,       /* uint32_t in [min, max]; k/M/G suffixes */
	APP_OPT_SECONDS,   /* double: seconds with decimals, in [min, max] */
	APP_OPT_STR,       /* const char * (kept until exit) */
	APP_OPT_CHOICE,    /* uint32_t: index of the value in the comma list `choices` */
	APP_OPT_ADDR,      /* struct app_addr: A[/prefix] */
	APP_OPT_PORTS,     /* struct app_port_list: PORT[,PORT...] */
	APP_OPT_ENDPOINTS, /* struct app_endpoint_list: IP:PORT[,IP:PORT...] */
};

struct app_opt {
	const char *name;      /* "rate": --rate on the command line, rate = in the .ini */
	enum app_opt_type type;
	size_t off;            /* of the field in the table's base struct */
	uint64_t min, max;     /* U32, SECONDS (max 0: no limit) */
	const char *choices;   /* CHOICE: "fin,rst" */
	const char *metavar;   /* "R" in "--rate R" */
	const char *def;       /* default as shown in --help; NULL: required */
	const char *help;
};

/* An IPv4 address (host order) with the prefix length of its subnet. */
struct app_addr {
	uint32_t ip;
	uint8_t prefix;        /* 8..32; 24 when not given */
};

#define APP_PORTS_MAX 16
struct app_port_list {
	uint16_t n;
	uint16_t port[APP_PORTS_MAX];
};

#define APP_ENDPOINTS_MAX 64
struct app_endpoint_list {
	uint16_t n;
	struct {
		uint32_t ip;   /* host order */
		uint16_t port;
	} e[APP_ENDPOINTS_MAX];
};

/* A group of options writing into one struct. */
struct app_opt_table {
	const struct app_opt *opts;
	unsigned int n;
	void *base;
};

/* What a tool parses. */
struct app_opts_spec {
	const char *prog;          /* "tws-gen" */
	const char *section;       /* its .ini section: "gen" */
	const char *synopsis;      /* usage line(s) after "Usage: " */
	const char *about;         /* paragraph after the synopsis */
	const char *epilog;        /* last paragraph of --help: exit status */
	const struct app_opt_table *tables;
	unsigned int nb_tables;
};

/* What the parse gives besides the tables' fields. */
struct app_opts_result {
	struct tws_tcp_knobs knobs;    /* defaults, then [tcp], then --knob */
	uint64_t knobs_given;          /* bit i: knob i (tws_tcp_knob_info order) was set */
	const char *config;            /* --config FILE or NULL */
};

/*
 * Parse the options after '--' (argv[0] is the first option, not the
 * program). --help prints the usage to stdout and exits 0.
 * @return 0, or -1 after one message on stderr (the caller exits 2).
 */
int app_opts_parse(const struct app_opts_spec *spec, int argc, char **argv,
		   struct app_opts_result *res);

/* Print the usage: synopsis, about, every option of the tables, the knobs. */
void app_opts_usage(const struct app_opts_spec *spec, FILE *f);

/* Was knob @p name set by the .ini or --knob? */
bool app_opts_knob_given(const struct app_opts_result *res, const char *name);

/* Format a host-order IPv4 address into buf (16 bytes). */
const char *app_ip_str(uint32_t ip, char buf[16]);

/*
 * Split argv at the first "--": EAL options before it (*eal, *nb_eal; NULL
 * and 0 without a "--"), the tool's after it (or all of them without one).
 */
void app_split_args(int argc, char **argv, char ***eal, int *nb_eal, char ***tool, int *nb_tool);

#endif /* APP_OPTS_H */
