/* SPDX-License-Identifier: BSD-3-Clause */
/* tws-memcost output: the table, the projection, JSON, the plot, the progress bar. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_plot.h"
#include "app_util.h"
#include "memcost.h"

/* A single stack's max_tw (TWS_TCP_KNOBS): past it, entries spread over lcores. */
#define MC_MAX_TW_STACK (UINT64_C(1) << 30)

/* What a rate and a TIME_WAIT length mean for both. */
struct mc_projection {
	uint64_t entries;		/* rate x seconds: entries alive in steady state */
	double tws_bytes;
	bool linux_known;		/* the kernel side was measured */
	double linux_bytes_needed;	/* if the kernel kept them all */
	uint64_t cap;			/* the host's tcp_max_tw_buckets (0: unknown) */
	uint64_t linux_kept;		/* what the kernel keeps: min(entries, cap) */
	double linux_bytes_kept;
	double cap_rate;		/* connections/s at which the cap is reached */
	double no_tw_rate;		/* connections/s that close without TIME_WAIT */
};

static void
project(const struct mc_options *o, const struct mc_result *r, struct mc_projection *p)
{
	memset(p, 0, sizeof(*p));
	p->entries = o->rate * o->tw_seconds;
	p->tws_bytes = (double)p->entries * r->tws_per_tw;
	p->cap = r->host_max_tw_buckets;
	p->linux_kept = p->cap != 0 && p->cap < p->entries ? p->cap : p->entries;
	p->cap_rate = p->cap != 0 ? (double)p->cap / (double)o->tw_seconds : 0;
	p->no_tw_rate = p->cap != 0 && (double)o->rate > p->cap_rate ?
			(double)o->rate - p->cap_rate : 0;
	p->linux_known = r->linux_per_tw >= 0;
	if (p->linux_known) {
		p->linux_bytes_needed = (double)p->entries * r->linux_per_tw;
		p->linux_bytes_kept = (double)p->linux_kept * r->linux_per_tw;
	}
}

/* "47.1 MB" (powers of 1000, as the plot's axis). */
static const char *
human(double bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	unsigned int u = 0;

	while (fabs(bytes) >= 1000 && u < 5) {
		bytes /= 1000;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", bytes, unit[u]);
	return buf;
}

/* 1234567 -> "1,234,567". */
static const char *
grouped(uint64_t v, char *buf, size_t len)
{
	char raw[32];
	size_t n, o = 0;

	snprintf(raw, sizeof(raw), "%" PRIu64, v);
	n = strlen(raw);
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
	return buf;
}

/* 1000000 -> "1M", 25000 -> "25k", 1234 -> "1234". */
static const char *
count_short(uint64_t v, char *buf, size_t len)
{
	if (v >= 1000000 && v % 1000000 == 0)
		snprintf(buf, len, "%" PRIu64 "M", v / 1000000);
	else if (v >= 1000 && v % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "k", v / 1000);
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static const char *
layout_name(enum mc_layout l)
{
	return l == MC_LAYOUT_SERVERS ? "servers" : "clients";
}

void
mc_report_text(FILE *f, const struct mc_options *o, const struct mc_result *r)
{
	const struct mc_tws *t = &r->tws;
	const struct mc_linux *lx = &r->lx;
	struct mc_projection p;
	char a[32], b[32], c[32];

	project(o, r, &p);
	fprintf(f, MC_PROG ": what a TIME_WAIT entry costs, %s layout (%s)\n",
		layout_name(o->layout), o->layout == MC_LAYOUT_SERVERS ?
		"one client address, many servers" : "many client addresses, one server");
	fprintf(f, "\n%-30s %12s %10s %12s\n", "", "entries", "bytes/entry", "memory");
	fprintf(f, "%-30s %12s %10.1f %12s\n", "twstack, process RSS", grouped(t->entries, a, 32),
		t->rss_per_tw, human((double)t->rss_bytes, b, 32));
	fprintf(f, "%-30s %12s %10.1f %12s\n", "twstack, DPDK heap", grouped(t->entries, a, 32),
		t->heap_per_tw, human((double)t->heap_bytes, b, 32));
	fprintf(f, "%-30s %12s %10.1f   (log %.1f + index %.1f)\n",
		"  of which the table", "", t->table_per_tw, t->log_per_tw, t->index_per_tw);
	if (lx->measured) {
		fprintf(f, "%-30s %12s %10.1f %12s\n", "Linux, TIME_WAIT slab caches",
			grouped(lx->entries, a, 32), r->linux_per_tw,
			human((double)(lx->tw_sock_bytes + lx->bind_bytes), b, 32));
		fprintf(f, "%-30s %12s %10.1f   (%" PRIu64 "-byte objects)\n", "  tw_sock_TCP", "",
			(double)lx->tw_sock_bytes / (double)lx->entries, lx->tw_sock_objsize);
		fprintf(f, "%-30s %12s %10.1f\n", "  bind buckets", "",
			(double)lx->bind_bytes / (double)lx->entries);
		fprintf(f, "%-30s %12s %10.1f %12s\n", "Linux, SUnreclaim",
			grouped(lx->entries, a, 32), r->linux_sunreclaim_per_tw,
			human((double)lx->sunreclaim_bytes, b, 32));
		fprintf(f, "\nratio: %.1fx (the kernel's slab caches against twstack's larger "
			"figure)\n", r->ratio);
		fprintf(f, "caches counted: %s\n", lx->caches);
		if (lx->note[0] != '\0')
			fprintf(f, "note: %s\n", lx->note);
	} else {
		fprintf(f, "%-30s %12s %10s\n", "Linux", "-", "-");
		fprintf(f, "\nLinux kernel side %s: %s\n", lx->skipped ? "skipped" : "failed",
			lx->note);
	}

	fprintf(f, "\nProjection: %s connections/s x %" PRIu64 " s TIME_WAIT = %s entries\n",
		grouped(o->rate, a, 32), o->tw_seconds, grouped(p.entries, b, 32));
	fprintf(f, "  twstack: %s%s\n", human(p.tws_bytes, a, 32),
		p.entries > MC_MAX_TW_STACK ? " (over 2^30 entries: spread over several lcores' "
		"stacks)" : "");
	if (p.linux_known)
		fprintf(f, "  Linux:   %s if it kept them all\n",
			human(p.linux_bytes_needed, a, 32));
	if (p.cap != 0) {
		fprintf(f, "  Linux keeps at most tcp_max_tw_buckets = %s entries "
			"(this host)%s%s;\n", grouped(p.cap, a, 32), p.linux_known ? ", " : "",
			p.linux_known ? human(p.linux_bytes_kept, b, 32) : "");
		fprintf(f, "    the cap is reached at %s connections/s with %" PRIu64 " s of "
			"TIME_WAIT;\n", grouped((uint64_t)llround(p.cap_rate), a, 32),
			o->tw_seconds);
		if (p.no_tw_rate > 0)
			fprintf(f, "    at this rate %s connections/s (%.1f%%) close without "
				"TIME_WAIT protection\n",
				grouped((uint64_t)llround(p.no_tw_rate), c, 32),
				100.0 * p.no_tw_rate / (double)o->rate);
		else
			fprintf(f, "    at this rate every connection gets its TIME_WAIT\n");
	}
	const char *side = o->layout == MC_LAYOUT_SERVERS ? "server" : "client";

	fprintf(f, "\nfill: twstack %s connections in %.1f s (%" PRIu32 " %s address%s); ",
		grouped(t->fill_connections, a, 32), t->fill_s, t->addresses, side,
		t->addresses == 1 ? "" : "es");
	if (lx->measured)
		fprintf(f, "Linux %s in %.1f s (%" PRIu32 " %s address%s)\n",
			grouped(lx->entries, a, 32), lx->fill_s, lx->addresses, side,
			lx->addresses == 1 ? "" : "es");
	else
		fprintf(f, "Linux not run\n");
}

/* A JSON string (quotes and backslashes escaped, control characters dropped). */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

/* A number, or null when @p known is false. */
static void
json_num(FILE *f, const char *key, bool known, double v, const char *sep)
{
	if (known)
		fprintf(f, "  \"%s\": %.2f%s\n", key, v, sep);
	else
		fprintf(f, "  \"%s\": null%s\n", key, sep);
}

void
mc_report_json(FILE *f, const struct mc_options *o, const struct mc_result *r)
{
	const struct mc_tws *t = &r->tws;
	const struct mc_linux *lx = &r->lx;
	bool lk = lx->measured != 0;
	struct mc_projection p;
	struct utsname u;

	project(o, r, &p);
	if (uname(&u) != 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	fprintf(f, "{\n  \"entries\": %" PRIu64 ",\n", o->entries);
	fprintf(f, "  \"layout\": \"%s\",\n", layout_name(o->layout));
	json_num(f, "tws_bytes_per_tw", true, r->tws_per_tw, ",");
	json_num(f, "tws_heap_bytes_per_tw", true, t->heap_per_tw, ",");
	json_num(f, "tws_rss_bytes_per_tw", true, t->rss_per_tw, ",");
	json_num(f, "tws_table_bytes_per_tw", true, t->table_per_tw, ",");
	json_num(f, "tws_log_bytes_per_tw", true, t->log_per_tw, ",");
	json_num(f, "tws_index_bytes_per_tw", true, t->index_per_tw, ",");
	fprintf(f, "  \"tws_entries\": %" PRIu64 ",\n  \"tws_addresses\": %" PRIu32 ",\n",
		t->entries, t->addresses);
	fprintf(f, "  \"tws_fill_connections\": %" PRIu64 ",\n  \"tws_fill_seconds\": %.2f,\n",
		t->fill_connections, t->fill_s);
	fprintf(f, "  \"tws_rss_bytes\": {\"before\": %" PRIu64 ", \"created\": %" PRIu64
		", \"filled\": %" PRIu64 "},\n", t->rss_before, t->rss_created, t->rss_filled);
	fprintf(f, "  \"tws_reference_bytes\": {\"heap\": %" PRId64 ", \"rss\": %" PRId64 "},\n",
		t->ref_heap, t->ref_rss);
	fprintf(f, "  \"tws_errors\": %" PRIu64 ",\n  \"tws_tw_overflow\": %" PRIu64 ",\n",
		t->errors, t->tw_overflow);

	json_num(f, "linux_bytes_per_tw", lk, r->linux_per_tw, ",");
	if (lk)
		fprintf(f, "  \"linux_entries\": %" PRIu64 ",\n", lx->entries);
	else
		fprintf(f, "  \"linux_entries\": null,\n");
	json_num(f, "linux_tw_sock_bytes_per_tw", lk,
		 lk ? (double)lx->tw_sock_bytes / (double)lx->entries : 0, ",");
	json_num(f, "linux_bind_bytes_per_tw", lk,
		 lk ? (double)lx->bind_bytes / (double)lx->entries : 0, ",");
	json_num(f, "linux_sunreclaim_bytes_per_tw", lk, r->linux_sunreclaim_per_tw, ",");
	if (lk) {
		fprintf(f, "  \"linux_tw_count\": %" PRIu64 ",\n  \"linux_tw_sock_objsize\": %"
			PRIu64 ",\n  \"linux_addresses\": %" PRIu32 ",\n  \"linux_fill_seconds\": "
			"%.2f,\n  \"linux_caches\": ", lx->tw_count, lx->tw_sock_objsize,
			lx->addresses, lx->fill_s);
		json_str(f, lx->caches);
		fprintf(f, ",\n  \"linux_samples\": [");
		for (unsigned int i = 0; i < lx->nb_samples; i++)
			fprintf(f, "%s[%" PRIu64 ", %" PRIu64 "]", i ? ", " : "",
				lx->sample_entries[i], lx->sample_bytes[i]);
		fprintf(f, "],\n");
	}
	fprintf(f, "  \"linux_skipped\": %s,\n", lx->skipped ? "true" : "false");
	fprintf(f, "  \"linux_note\": ");
	if (lx->note[0] != '\0')
		json_str(f, lx->note);
	else
		fprintf(f, "null");
	fprintf(f, ",\n");
	json_num(f, "ratio", lk && r->ratio > 0, r->ratio, ",");
	json_num(f, "ratio_sunreclaim", lk && r->tws_per_tw > 0,
		 r->tws_per_tw > 0 ? r->linux_sunreclaim_per_tw / r->tws_per_tw : 0, ",");
	fprintf(f, "  \"host_tcp_max_tw_buckets\": %" PRIu64 ",\n", r->host_max_tw_buckets);

	fprintf(f, "  \"projection\": {\"rate\": %" PRIu64 ", \"tw_seconds\": %" PRIu64
		", \"entries\": %" PRIu64 ", \"tws_bytes\": %.0f, ", o->rate, o->tw_seconds,
		p.entries, p.tws_bytes);
	if (p.linux_known)
		fprintf(f, "\"linux_bytes_needed\": %.0f, \"linux_bytes_kept\": %.0f, ",
			p.linux_bytes_needed, p.linux_bytes_kept);
	else
		fprintf(f, "\"linux_bytes_needed\": null, \"linux_bytes_kept\": null, ");
	fprintf(f, "\"linux_cap\": %" PRIu64 ", \"linux_entries_kept\": %" PRIu64
		", \"linux_cap_rate\": %.0f, \"linux_no_tw_rate\": %.0f},\n", p.cap, p.linux_kept,
		p.cap_rate, p.no_tw_rate);
	fprintf(f, "  \"cpu\": ");
	json_str(f, app_cpu_model());
	fprintf(f, ",\n  \"kernel\": ");
	json_str(f, u.release);
	fprintf(f, "\n}\n");
}

int
mc_plot(const struct mc_options *o, const struct mc_result *r)
{
	const struct mc_linux *lx = &r->lx;
	struct mc_projection p;
	double xmax, xmin = 1000;
	char rate[32];
	FILE *g;

	g = app_plot_open(MC_PROG, "--plot", o->plot_path, 960, 600);
	if (g == NULL)
		return -1;
	project(o, r, &p);
	xmax = (double)(p.entries > o->entries ? p.entries : o->entries) * 2;
	fprintf(g, "set title 'Memory held by TIME\\_WAIT entries: twstack against the Linux "
		"kernel (%s layout)'\n", layout_name(o->layout));
	fprintf(g, "set logscale xy\nset grid\nset key top left opaque box\n"
		"set xlabel 'TIME\\_WAIT entries'\nset ylabel 'memory'\n"
		"set format x '%%.0s%%c'\nset format y '%%.0s %%cB'\n"
		"set xrange [%g:%g]\n", xmin, xmax);
	/* twstack: the measured point and the line through it (cost is per entry of max_tw). */
	fprintf(g, "$tws << EOD\n%g %g\n%g %g\nEOD\n", xmin, xmin * r->tws_per_tw, xmax,
		xmax * r->tws_per_tw);
	fprintf(g, "$twsm << EOD\n%" PRIu64 " %g\nEOD\n", r->tws.entries,
		(double)r->tws.entries * r->tws_per_tw);
	const char *plots = "plot $tws with lines lw 2 lc rgb '#1a7f37' title sprintf('twstack: "
			    "%.1f bytes per entry', tws), $twsm with points pt 7 ps 1.5 "
			    "lc rgb '#1a7f37' title 'twstack, measured'";
	fprintf(g, "tws = %g\n", r->tws_per_tw);
	fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 3 lc rgb '#57606a'\n"
		"set label '%s connections/s x %" PRIu64 " s' at %g, graph 0.5 right offset -1,0 "
		"tc rgb '#57606a'\n", (double)p.entries, (double)p.entries,
		count_short(o->rate, rate, sizeof(rate)), o->tw_seconds, (double)p.entries);
	if (lx->measured) {
		double cap = p.cap != 0 ? (double)p.cap : xmax;

		fprintf(g, "lx = %g\n", r->linux_per_tw);
		fprintf(g, "$lxm << EOD\n");
		for (unsigned int i = 1; i < lx->nb_samples; i++)
			fprintf(g, "%" PRIu64 " %" PRIu64 "\n", lx->sample_entries[i],
				lx->sample_bytes[i]);
		fprintf(g, "EOD\n$lx << EOD\n%g %g\n%g %g\n%g %g\nEOD\n", xmin,
			xmin * r->linux_per_tw, cap, cap * r->linux_per_tw, xmax,
			cap * r->linux_per_tw);
		fprintf(g, "$lxneed << EOD\n%g %g\n%g %g\nEOD\n", cap, cap * r->linux_per_tw, xmax,
			xmax * r->linux_per_tw);
		if (p.cap != 0)
			fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 2 lc rgb "
				"'#cf222e'\nset label 'tcp\\_max\\_tw\\_buckets = %" PRIu64 ": the "
				"kernel keeps no more' at %g, graph 0.06 offset 1,0 "
				"tc rgb '#cf222e'\n",
				cap, cap, p.cap, cap);
		fprintf(g, "%s, $lx with lines lw 2 lc rgb '#cf222e' title sprintf('Linux: %%.0f "
			"bytes per entry (slab), up to the cap', lx), $lxneed with lines dt 3 lc "
			"rgb '#cf222e' title 'Linux, if it kept them', $lxm with points pt 5 ps 1 "
			"lc rgb '#cf222e' title 'Linux, measured (slab caches; cap lifted in its "
			"namespace)'\n", plots);
	} else {
		fprintf(g, "%s\n", plots);
	}
	return app_plot_close(MC_PROG, "--plot", g);
}

void
mc_progress_start(struct mc_progress *p, const char *label, uint64_t total)
{
	p->label = label;
	p->total = total;
	p->next_ns = 0;
	p->on = isatty(STDOUT_FILENO) == 1;
	mc_progress_update(p, 0);
}

void
mc_progress_update(struct mc_progress *p, uint64_t done)
{
	char bar[41];
	uint64_t now;
	unsigned int fill;

	if (!p->on)
		return;
	now = app_now_ns();
	if (now < p->next_ns && done < p->total)
		return;
	p->next_ns = now + 100000000;	/* ten updates a second */
	fill = p->total ? (unsigned int)(done * 40 / p->total) : 40;
	memset(bar, '#', fill);
	memset(bar + fill, '.', 40 - fill);
	bar[40] = '\0';
	printf("\r  %-14s [%s] %3u%% %" PRIu64 "/%" PRIu64 " ", p->label, bar,
	       p->total ? (unsigned int)(done * 100 / p->total) : 100, done, p->total);
	fflush(stdout);
}

void
mc_progress_end(struct mc_progress *p, uint64_t done)
{
	if (!p->on)
		return;
	p->next_ns = 0;
	mc_progress_update(p, done);
	printf("\n");
	fflush(stdout);
}
