/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the configuration text parsers. Input byte 0 picks
 *   even: knob lines "name=value" (one per line) through tws_tcp_knob_set(),
 *         each accepted value read back with tws_tcp_knob_get() and set
 *         again to the same text, then tws_tcp_knobs_check();
 *   odd:  an .ini file for the apps' loader (apps/common/app_opts.c over
 *         rte_cfgfile, app_opts_parse(--config FILE)) with an option table
 *         of every value kind but strings (kept until exit by design).
 * Refusals are expected; crashes, hangs and leaks are not. The loader's
 * messages go to /dev/null (sanitizer reports still reach fd 2).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>

#include "app_opts.h"
#include "tws_tcp.h"

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_config: invariant broken: %s (%s:%d)\n", #cond, \
			__FILE__, __LINE__); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static FILE *devnull;

static void
cleanup(void)
{
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/tws-fuzz-config-%d.ini", (int)getpid());
	devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull != NULL);
	atexit(cleanup);
	return 0;
}

struct cfg {
	uint32_t rate, mode;
	double duration;
	struct app_addr addr;
	struct app_port_list ports;
	struct app_endpoint_list eps;
};

static const struct app_opt opts[] = {
	{ "rate", APP_OPT_U32, offsetof(struct cfg, rate), 1, 1000000, NULL, "R", "10", "" },
	{ "mode", APP_OPT_CHOICE, offsetof(struct cfg, mode), 0, 0, "fin,rst,abort", "M",
	  "fin", "" },
	{ "duration", APP_OPT_SECONDS, offsetof(struct cfg, duration), 0, 3600, NULL, "S",
	  "1", "" },
	{ "addr", APP_OPT_ADDR, offsetof(struct cfg, addr), 0, 0, NULL, "A", "198.18.0.1", "" },
	{ "ports", APP_OPT_PORTS, offsetof(struct cfg, ports), 0, 0, NULL, "P", "80", "" },
	{ "servers", APP_OPT_ENDPOINTS, offsetof(struct cfg, eps), 0, 0, NULL, "E",
	  "198.18.0.2:80", "" },
};

static void
knob_lines(const char *text)
{
	struct tws_tcp_knobs k;
	char err[256], line[512];
	const char *p = text;

	tws_tcp_knobs_default(&k);
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		char *eq;

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
			 p);
		p += n + (p[n] == '\n');
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';

		int rc = tws_tcp_knob_set(&k, line, eq + 1, err, sizeof(err));

		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
		FUZZ_CHECK(rc == 0 || err[0] != '\0');
		if (rc != 0)
			continue;

		/* Accepted: what it reads back is accepted again and reads back the same. */
		char v1[64], v2[64];

		FUZZ_CHECK(tws_tcp_knob_get(&k, line, v1, sizeof(v1)) == 0);
		FUZZ_CHECK(tws_tcp_knob_set(&k, line, v1, err, sizeof(err)) == 0);
		FUZZ_CHECK(tws_tcp_knob_get(&k, line, v2, sizeof(v2)) == 0);
		FUZZ_CHECK(strcmp(v1, v2) == 0);
	}
	(void)tws_tcp_knobs_check(&k, err, sizeof(err));
}

static void
ini_file(const uint8_t *data, size_t size)
{
	static const char *args[] = { "--config", path };
	struct cfg c;
	struct app_opt_table t = { opts, RTE_DIM(opts), &c };
	struct app_opts_spec spec = { .prog = "fuzz", .section = "fuzz", .tables = &t,
				      .nb_tables = 1 };
	struct app_opts_result res;
	FILE *f = fopen(path, "w");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
	memset(&c, 0, sizeof(c));

	FILE *err = stderr;

	stderr = devnull;
	(void)app_opts_parse(&spec, 2, (char **)(uintptr_t)args, &res);
	stderr = err;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	if (data[0] & 1) {
		ini_file(data + 1, size - 1);
	} else {
		char *text = malloc(size);

		FUZZ_CHECK(text != NULL);
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		knob_lines(text);
		free(text);
	}
	return 0;
}
