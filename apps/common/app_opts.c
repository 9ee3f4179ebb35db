/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <rte_cfgfile.h>

#include "app_opts.h"
#include "app_util.h"

/* The section of the .ini file that holds the TCP knobs. */
#define KNOB_SECTION "tcp"

const char *
app_ip_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

void
app_split_args(int argc, char **argv, char ***eal, int *nb_eal, char ***tool, int *nb_tool)
{
	*eal = NULL;
	*nb_eal = 0;
	*tool = argv + 1;
	*nb_tool = argc - 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			*eal = argv + 1;
			*nb_eal = i - 1;
			*tool = argv + i + 1;
			*nb_tool = argc - i - 1;
			return;
		}
	}
}

static int
parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

static int
parse_addr(const char *prog, const char *what, const char *s, struct app_addr *out)
{
	char buf[64];
	char *slash;
	uint64_t prefix = 24;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		char *end;

		*slash = '\0';
		errno = 0;
		prefix = strtoull(slash + 1, &end, 10);
		if (errno != 0 || end == slash + 1 || *end != '\0' || prefix < 8 || prefix > 32) {
			fprintf(stderr, "%s: %s '%s': the prefix length must be 8 to 32\n", prog,
				what, s);
			return -EINVAL;
		}
	}
	if (strlen(s) >= sizeof(buf) || parse_ip(buf, &out->ip) != 0 || out->ip == 0) {
		fprintf(stderr, "%s: %s '%s': expected an IPv4 address A.B.C.D[/prefix], "
			"e.g. 198.18.0.1/24\n", prog, what, s);
		return -EINVAL;
	}
	out->prefix = (uint8_t)prefix;
	return 0;
}

/* A TCP port 1..65535. */
static int
parse_port(const char *s, size_t len, uint16_t *port)
{
	uint32_t v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int
parse_ports(const char *prog, const char *what, const char *s, struct app_port_list *out)
{
	const char *p = s;

	out->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (out->n == APP_PORTS_MAX || parse_port(p, len, &out->port[out->n]) != 0) {
			fprintf(stderr, "%s: %s '%s': expected 1 to %d TCP ports (1..65535) "
				"separated by commas, e.g. 80,8080\n", prog, what, s,
				APP_PORTS_MAX);
			return -EINVAL;
		}
		out->n++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

static int
parse_endpoints(const char *prog, const char *what, const char *s, struct app_endpoint_list *out)
{
	const char *p = s;

	out->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *colon = memchr(p, ':', len);
		char ip[20];
		bool ok = out->n < APP_ENDPOINTS_MAX && colon != NULL &&
			  (size_t)(colon - p) < sizeof(ip);

		if (ok) {
			memcpy(ip, p, (size_t)(colon - p));
			ip[colon - p] = '\0';
			ok = parse_ip(ip, &out->e[out->n].ip) == 0 && out->e[out->n].ip != 0 &&
			     parse_port(colon + 1, len - (size_t)(colon - p) - 1,
					&out->e[out->n].port) == 0;
		}
		if (!ok) {
			fprintf(stderr, "%s: %s '%s': expected 1 to %d IP:PORT separated by "
				"commas, e.g. 198.18.0.2:80,198.18.0.3:80\n", prog, what, s,
				APP_ENDPOINTS_MAX);
			return -EINVAL;
		}
		out->n++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

static int
parse_seconds(const char *prog, const char *what, const char *s, const struct app_opt *o,
	      double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= (double)o->min / 1000.0) ||
	    (o->max != 0 && v > (double)o->max)) {
		if (o->max != 0)
			fprintf(stderr, "%s: %s '%s': expected seconds from %g to %llu\n", prog,
				what, s, (double)o->min / 1000.0, (unsigned long long)o->max);
		else
			fprintf(stderr, "%s: %s '%s': expected seconds, at least %g\n", prog, what,
				s, (double)o->min / 1000.0);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* "fin,rst" -> "fin or rst" into buf. */
static const char *
choices_text(const char *choices, char *buf, size_t len)
{
	size_t o = 0;
	const char *last = strrchr(choices, ',');

	for (const char *p = choices; *p != '\0' && o + 5 < len; p++) {
		if (*p != ',') {
			buf[o++] = *p;
		} else {
			const char *sep = p == last ? " or " : ", ";

			memcpy(buf + o, sep, strlen(sep));
			o += strlen(sep);
		}
	}
	buf[o] = '\0';
	return buf;
}

static int
parse_choice(const char *prog, const char *what, const char *s, const char *choices,
	     uint32_t *out)
{
	const char *p = choices;
	size_t len = strlen(s);
	char text[128];

	for (uint32_t i = 0;; i++) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, s, n) == 0) {
			*out = i;
			return 0;
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	fprintf(stderr, "%s: %s '%s': expected %s\n", prog, what, s,
		choices_text(choices, text, sizeof(text)));
	return -EINVAL;
}

/* Set option @p o from text @p val; @p what names it in messages ("--rate", "f.ini [gen] rate"). */
static int
opt_set(const char *prog, const struct app_opt *o, void *base, const char *what, const char *val)
{
	void *dst = (char *)base + o->off;
	uint64_t v;

	switch (o->type) {
	case APP_OPT_U32:
		if (app_parse_u64(prog, what, val, o->min, o->max, &v) != 0)
			return -EINVAL;
		*(uint32_t *)dst = (uint32_t)v;
		return 0;
	case APP_OPT_SECONDS:
		return parse_seconds(prog, what, val, o, dst);
	case APP_OPT_STR:
		if (val[0] == '\0') {
			fprintf(stderr, "%s: %s: the value is empty\n", prog, what);
			return -EINVAL;
		}
		*(const char **)dst = strdup(val);
		return *(const char **)dst != NULL ? 0 : -ENOMEM;
	case APP_OPT_CHOICE:
		return parse_choice(prog, what, val, o->choices, dst);
	case APP_OPT_ADDR:
		return parse_addr(prog, what, val, dst);
	case APP_OPT_PORTS:
		return parse_ports(prog, what, val, dst);
	case APP_OPT_ENDPOINTS:
		return parse_endpoints(prog, what, val, dst);
	}
	return -EINVAL;
}

static const struct app_opt *
opt_find(const struct app_opts_spec *spec, const char *name, size_t len, void **base)
{
	for (unsigned int t = 0; t < spec->nb_tables; t++) {
		const struct app_opt_table *tb = &spec->tables[t];

		for (unsigned int i = 0; i < tb->n; i++) {
			const char *n = tb->opts[i].name;

			if (strlen(n) == len && strncmp(n, name, len) == 0) {
				*base = tb->base;
				return &tb->opts[i];
			}
		}
	}
	return NULL;
}

/* Knob names as "a, b, c" for the message about an unknown one. */
static void
knob_names(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < tws_tcp_knob_count() && o < len; i++) {
		const char *name;
		int w;

		tws_tcp_knob_info(i, &name, NULL, NULL, NULL, NULL, NULL);
		w = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", name);
		o += w > 0 ? (size_t)w : 0;
	}
}

static int
knob_set(const char *prog, struct app_opts_result *res, const char *what, const char *name,
	 const char *val)
{
	char err[256];
	int rc = tws_tcp_knob_set(&res->knobs, name, val, err, sizeof(err));

	if (rc == -ENOENT) {
		char names[1024];

		knob_names(names, sizeof(names));
		fprintf(stderr, "%s: %s: no TCP knob '%s'; the knobs are: %s\n", prog, what, name,
			names);
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, what, err);
		return -1;
	}
	for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
		const char *n;

		tws_tcp_knob_info(i, &n, NULL, NULL, NULL, NULL, NULL);
		if (strcmp(n, name) == 0 && i < 64)
			res->knobs_given |= UINT64_C(1) << i;
	}
	return 0;
}

/* --knob name=value */
static int
knob_arg(const char *prog, struct app_opts_result *res, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[64];

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
		fprintf(stderr, "%s: --knob '%s': expected name=value, e.g. tw_timeout_ms=1000 "
			"(%s --help lists the knobs)\n", prog, arg, prog);
		return -1;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	return knob_set(prog, res, "--knob", name, eq + 1);
}

bool
app_opts_knob_given(const struct app_opts_result *res, const char *name)
{
	for (unsigned int i = 0; i < tws_tcp_knob_count() && i < 64; i++) {
		const char *n;

		tws_tcp_knob_info(i, &n, NULL, NULL, NULL, NULL, NULL);
		if (strcmp(n, name) == 0)
			return (res->knobs_given >> i) & 1;
	}
	return false;
}

/* Index of option @p o over all tables, for the `given` flags. */
static unsigned int
opt_index(const struct app_opts_spec *spec, const struct app_opt *o)
{
	unsigned int k = 0;

	for (unsigned int t = 0; t < spec->nb_tables; t++) {
		const struct app_opt_table *tb = &spec->tables[t];

		if (o >= tb->opts && o < tb->opts + tb->n)
			return k + (unsigned int)(o - tb->opts);
		k += tb->n;
	}
	return k;
}

/* Apply one section of the .ini file: [tcp] through the knobs, the tool's through its table. */
static int
config_section(const struct app_opts_spec *spec, struct rte_cfgfile *cfg, const char *path,
	       const char *sec, struct app_opts_result *res, bool *given)
{
	int n = rte_cfgfile_section_num_entries(cfg, sec);
	struct rte_cfgfile_entry *ent;

	if (n <= 0)
		return 0;
	ent = calloc((size_t)n, sizeof(*ent));
	if (ent == NULL)
		return -1;
	n = rte_cfgfile_section_entries(cfg, sec, ent, n);
	for (int i = 0; i < n; i++) {
		char what[512];
		int rc;

		if (strcmp(sec, KNOB_SECTION) == 0) {
			/* The knob's own message names it. */
			snprintf(what, sizeof(what), "%s [%s]", path, sec);
			rc = knob_set(spec->prog, res, what, ent[i].name, ent[i].value);
		} else {
			void *base;
			const struct app_opt *o = opt_find(spec, ent[i].name, strlen(ent[i].name),
							   &base);

			snprintf(what, sizeof(what), "%s [%s] %s", path, sec, ent[i].name);
			if (o == NULL) {
				fprintf(stderr, "%s: %s: no such option in [%s] (%s --help lists "
					"them, without the leading --)\n", spec->prog, what, sec,
					spec->prog);
				rc = -1;
			} else {
				rc = opt_set(spec->prog, o, base, what, ent[i].value);
				given[opt_index(spec, o)] = true;
			}
		}
		if (rc != 0) {
			free(ent);
			return -1;
		}
	}
	free(ent);
	return 0;
}

/*
 * rte_cfgfile skips some malformed lines silently ("rate 5"): check every
 * line first, so a typo is named with its line number instead of ignored.
 */
static int
config_check_lines(const char *prog, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int no = 0, rc = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: --config '%s': cannot read: %s\n", prog, path,
			strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *end;

		no++;
		line[strcspn(line, ";\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0')
			continue;
		bool ok = *p == '[' ? end[-1] == ']' && end - p >= 3 : *p != '=' && strchr(p, '=');

		if (!ok) {
			fprintf(stderr, "%s: --config '%s' line %d: '%s': expected [section] or "
				"name = value\n", prog, path, no, p);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

static int
config_load(const struct app_opts_spec *spec, const char *path, struct app_opts_result *res,
	    bool *given)
{
	struct rte_cfgfile *cfg;
	int nsec, rc = 0;

	if (config_check_lines(spec->prog, path) != 0)
		return -1;
	cfg = rte_cfgfile_load(path, 0);
	if (cfg == NULL) {
		fprintf(stderr, "%s: --config '%s': not a valid .ini file: [section] lines and "
			"name = value lines, comments after ';'\n", spec->prog, path);
		return -1;
	}
	nsec = rte_cfgfile_num_sections(cfg, NULL, 0);

	char **names = calloc((size_t)(nsec > 0 ? nsec : 1), sizeof(*names));

	for (int i = 0; names != NULL && i < nsec; i++)
		names[i] = calloc(1, CFG_NAME_LEN);
	if (names == NULL)
		rc = -1;
	else
		rte_cfgfile_sections(cfg, names, nsec);
	for (int i = 0; rc == 0 && i < nsec; i++) {
		if (names[i] == NULL) {
			rc = -1;
		} else if (strcmp(names[i], KNOB_SECTION) != 0 &&
			   strcmp(names[i], spec->section) != 0) {
			fprintf(stderr, "%s: --config '%s': unknown section [%s]; %s reads [%s] "
				"(its options) and [%s] (TCP knobs)\n", spec->prog, path, names[i],
				spec->prog, spec->section, KNOB_SECTION);
			rc = -1;
		}
	}
	/* Knobs first, so the tool's section may be checked against them later. */
	if (rc == 0)
		rc = config_section(spec, cfg, path, KNOB_SECTION, res, given);
	if (rc == 0)
		rc = config_section(spec, cfg, path, spec->section, res, given);
	for (int i = 0; names != NULL && i < nsec; i++)
		free(names[i]);
	free(names);
	rte_cfgfile_close(cfg);
	return rc;
}

int
app_opts_parse(const struct app_opts_spec *spec, int argc, char **argv,
	       struct app_opts_result *res)
{
	unsigned int total = 0;
	bool given[256] = { false };

	for (unsigned int t = 0; t < spec->nb_tables; t++)
		total += spec->tables[t].n;
	if (total > RTE_DIM(given))
		return -1;
	memset(res, 0, sizeof(*res));
	tws_tcp_knobs_default(&res->knobs);

	/* --help anywhere wins; --config is read before the other options apply. */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			app_opts_usage(spec, stdout);
			exit(0);
		}
		if (strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0) {
			res->config = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[i + 1]
									   : NULL);
			if (res->config == NULL) {
				fprintf(stderr, "%s: option '--config' needs a value (a .ini "
					"file)\n", spec->prog);
				return -1;
			}
		}
	}
	if (res->config != NULL && config_load(spec, res->config, res, given) != 0)
		return -1;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val;
		const char *eq = strchr(a, '=');
		size_t len = eq != NULL ? (size_t)(eq - a) : strlen(a);
		const struct app_opt *o;
		void *base;
		char what[80];

		if (strncmp(a, "--", 2) != 0 || len == 2) {
			fprintf(stderr, "%s: unexpected argument '%s' (see %s --help)\n",
				spec->prog, a, spec->prog);
			return -1;
		}
		bool is_knob = len == 6 && strncmp(a, "--knob", 6) == 0;
		bool is_config = len == 8 && strncmp(a, "--config", 8) == 0;

		o = is_knob || is_config ? NULL : opt_find(spec, a + 2, len - 2, &base);
		if (o == NULL && !is_knob && !is_config) {
			fprintf(stderr, "%s: unknown option '%.*s' (see %s --help; EAL options go "
				"before '--')\n", spec->prog, (int)len, a, spec->prog);
			return -1;
		}
		if (eq != NULL) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "%s: option '%s' needs a value (see %s --help)\n",
				spec->prog, a, spec->prog);
			return -1;
		}
		if (is_config)
			continue;
		if (is_knob) {
			if (knob_arg(spec->prog, res, val) != 0)
				return -1;
			continue;
		}
		snprintf(what, sizeof(what), "--%s", o->name);
		if (opt_set(spec->prog, o, base, what, val) != 0)
			return -1;
		given[opt_index(spec, o)] = true;
	}

	char err[256];

	if (tws_tcp_knobs_check(&res->knobs, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: TCP knobs: %s\n", spec->prog, err);
		return -1;
	}
	for (unsigned int t = 0, k = 0; t < spec->nb_tables; t++) {
		for (unsigned int i = 0; i < spec->tables[t].n; i++, k++) {
			const struct app_opt *o = &spec->tables[t].opts[i];

			if (o->def == NULL && !given[k]) {
				fprintf(stderr, "%s: --%s is required: %s (on the command line, or "
					"'%s = ...' in [%s] of the --config file)\n", spec->prog,
					o->name, o->help, o->name, spec->section);
				return -1;
			}
		}
	}
	return 0;
}

/* Print @p text from column @p col, wrapped before column 100, continuation lines indented. */
static void
print_wrapped(FILE *f, int col, int indent, const char *text)
{
	const int width = 99;
	const char *p = text;

	while (*p != '\0') {
		int room = width - col, len = (int)strlen(p);

		if (len > room) {
			int cut = room;

			while (cut > 0 && p[cut] != ' ')
				cut--;
			len = cut > 0 ? cut : room;
		}
		fprintf(f, "%.*s\n", len, p);
		p += len;
		while (*p == ' ')
			p++;
		if (*p != '\0')
			fprintf(f, "%*s", indent, "");
		col = indent;
	}
}

void
app_opts_usage(const struct app_opts_spec *spec, FILE *f)
{
	char line[512];

	fprintf(f, "Usage: %s\n\n%s\n\nOptions:\n", spec->synopsis, spec->about);
	for (unsigned int t = 0; t < spec->nb_tables; t++) {
		for (unsigned int i = 0; i < spec->tables[t].n; i++) {
			const struct app_opt *o = &spec->tables[t].opts[i];
			char head[64];

			snprintf(head, sizeof(head), "--%s %s", o->name, o->metavar);
			if (o->def == NULL)
				snprintf(line, sizeof(line), "%s (required)", o->help);
			else if (o->def[0] != '\0')
				snprintf(line, sizeof(line), "%s (default %s)", o->help, o->def);
			else
				snprintf(line, sizeof(line), "%s", o->help);
			fprintf(f, "  %-24s ", head);
			print_wrapped(f, 27, 27, line);
		}
	}
	fprintf(f, "  %-24s %s\n  %-24s %s\n  %-24s %s\n\n",
		"--knob name=value", "a TCP knob (below); repeat for several",
		"--config FILE", "read options from an .ini file; the command line overrides it",
		"--help", "this text");
	fprintf(f, "The .ini file (DPDK rte_cfgfile, comments after ';') has a section [%s]\n"
		"with the options above by name, without '--' (e.g. port = net_memif0), and a\n"
		"section [%s] with the knobs (e.g. tw_timeout_ms = 60000).\n\n"
		"Knobs (name, default, range):\n", spec->section, KNOB_SECTION);
	for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
		const char *name, *values, *desc;
		uint32_t def, min, max;
		char d[32], range[64];

		tws_tcp_knob_info(i, &name, &def, &min, &max, &values, &desc);
		if (values != NULL) {
			struct tws_tcp_knobs k;

			tws_tcp_knobs_default(&k);
			tws_tcp_knob_get(&k, name, d, sizeof(d));
			snprintf(range, sizeof(range), "%s", values);
		} else {
			snprintf(d, sizeof(d), "%u", def);
			snprintf(range, sizeof(range), "%u..%u", min, max);
		}
		fprintf(f, "  %-20s %-7s %-21s ", name, d, range);
		print_wrapped(f, 53, 53, desc);
	}
	fprintf(f, "\nEAL options go before '--'; without them the tool runs with --no-pci\n"
		"--no-huge --no-shconf -m <what it needs> -l <this cpu>. Give a virtual port\n"
		"with --vdev (e.g. --vdev=net_memif0,role=server,socket=/tmp/tws.sock,\n"
		"socket-abstract=no); the defaults stay unless you give options of their kind.\n"
		"\n%s\n", spec->epilog);
}
