/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-bench table: twstack's connection table holding N TIME_WAIT entries
 * against rte_hash holding the same N keys.
 *
 * Workload (docs/benchmarks.md): N distinct IPv4 4-tuples inserted in order,
 * as TIME_WAIT entries created over 60 s (twstack) and as keys (rte_hash,
 * CRC32 hash, extendable buckets so no insert fails); then every key looked
 * up once in a random order in bursts of 32 (hits), then N keys that are not
 * present (misses); then time runs to the end of TIME_WAIT and every entry
 * expires (twstack). Memory is what the DPDK heap lends each structure (heap
 * statistics before and after creation): for twstack the difference between
 * a table for N TIME_WAIT entries and one for none, so index, record and
 * timer are all counted at the table's real load factor.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "bench.h"
#include "tws_table.h"

#define BURST 32
#define TW_TICKS 60000u

static struct {
	uint64_t entries;
	uint64_t seed;
	bool json;
	bool no_rte;
} opt = { .entries = 1000000, .seed = 1 };

static void
table_usage(FILE *f)
{
	fprintf(f,
		"Usage: tws-bench [EAL options --] table [options]\n"
		"\n"
		"Fills twstack's connection table with N TIME_WAIT entries and rte_hash with the\n"
		"same N keys; reports bytes per entry and TSC cycles per insert, lookup (hit and\n"
		"miss, bursts of 32, random order) and expiry.\n"
		"\n"
		"  --entries N   TIME_WAIT entries (default 1M; k/M/G suffixes; 1000..100M)\n"
		"  --seed S      seed of the lookup order and the hash (default 1)\n"
		"  --no-rte      skip rte_hash (its fields are then null)\n"
		"  --json        print one JSON object only\n"
		"  --help        this text\n"
		"\n"
		"Inserts: half one by one (tws_insert_single_cyc), half in bursts of 32 with the\n"
		"buckets prefetched first (tws_insert_cyc); rte_hash one by one (it has no prefetch).\n"
		"Lookups: each burst of 32 first prefetches the next burst's buckets, hashing\n"
		"its keys once (tws_table_prefetch_burst() then tws_table_lookup_burst_hashed(),\n"
		"as a poll loop does with its RX bursts); the\n"
		"*_isolated_cyc fields are the same lookups with every burst starting cold.\n"
		"rte_hash_lookup_bulk() prefetches within its burst only (it has no other call).\n"
		"\n"
		"JSON fields: entries, tws_bytes_per_tw, tws_insert_cyc, tws_insert_single_cyc,\n"
		"tws_lookup_hit_cyc,\n"
		"tws_lookup_miss_cyc, tws_lookup_{hit,miss}_isolated_cyc, tws_expire_cyc, rte_hash_bytes_per_key, rte_hash_insert_cyc,\n"
		"rte_hash_lookup_hit_cyc, rte_hash_lookup_miss_cyc, the ratios rte_hash / twstack\n"
		"(insert_ratio, lookup_hit_ratio, lookup_miss_ratio), cpu, cores, tsc_hz.\n"
		"mem_bytes, mem_line_cyc, mem_two_line_cyc: what one random line and a line\n"
		"then the line it names cost on this machine, measured first over a buffer as\n"
		"large as the table (at most 2 GiB): the floor of an insert (one random line)\n"
		"and of a lookup hit (bucket, then record); 'tws-bench mem --help' explains.\n");
}

static size_t
table_mem(uint32_t n)
{
	struct tws_table_params p = {
		.socket_id = SOCKET_ID_ANY, .max_conns = 1024, .max_tw = n, .tw_timeout = TW_TICKS,
	};

	return tws_table_memory_size(&p);
}

static long
table_parse(int argc, char **argv)
{
	const struct bench_opt opts[] = {
		{ "entries", BENCH_OPT_U64, &opt.entries, 1000, 100000000 },
		{ "seed", BENCH_OPT_U64, &opt.seed, 0, UINT64_MAX },
		{ "no-rte", BENCH_OPT_FLAG, &opt.no_rte, 0, 0 },
		{ "json", BENCH_OPT_FLAG, &opt.json, 0, 0 },
	};

	if (bench_opts_parse("table", opts, RTE_DIM(opts), argc, argv) != 0)
		return -1;
	/* The table, rte_hash (about 64 bytes per key with its key store), slack. */
	return (long)((table_mem((uint32_t)opt.entries) + opt.entries * 80) >> 20) + 256;
}

static void
make_key(struct tws_tuple *k, uint32_t i, bool miss)
{
	/* 198.18.0.0/15: 65536 client ports per local address, one server. */
	k->laddr = rte_cpu_to_be_32(0xc6120000u + (i >> 16));
	k->raddr = rte_cpu_to_be_32(0xc6130001u);
	k->lport = rte_cpu_to_be_16((uint16_t)i);
	k->rport = rte_cpu_to_be_16(miss ? 8080 : 80);
}

struct tres {
	double bytes, insert, insert_single, hit, miss, expire;
	double hit_isolated, miss_isolated; /* bursts looked up without the next one prefetched */
};

/* One implementation's burst lookup: returns how many of the m keys it found. */
typedef unsigned int (*lookup_fn)(void *ctx, const void **kp, unsigned int m);
/* Start fetching what a later lookup of the m keys will read (NULL: not offered). */
typedef void (*prefetch_fn)(void *ctx, const void **kp, unsigned int m);

/*
 * Look every hit key up, then every miss key, in bursts; fill r->hit and
 * r->miss. With pf, each burst first prefetches the next burst's buckets
 * (inside the timing), the way a poll loop handles a stream of RX bursts, so
 * the memory system never idles between bursts; without, every burst starts
 * cold. Returns -1 if a key was found where it should not be or not found
 * where it should.
 */
static int
lookup_passes(const char *what, lookup_fn fn, prefetch_fn pf, void *ctx, uint32_t n,
	      const struct tws_tuple *hit_keys, const struct tws_tuple *misses, double *hit,
	      double *miss)
{
	const void *kp[BURST], *next[BURST];

	for (int pass = 0; pass < 2; pass++) {
		const struct tws_tuple *ks = pass == 0 ? hit_keys : misses;
		uint64_t cyc = 0, found = 0;

		for (uint32_t i = 0; i < n; i += BURST) {
			unsigned int m = RTE_MIN((uint32_t)BURST, n - i);
			unsigned int mn = i + BURST < n ? RTE_MIN((uint32_t)BURST, n - i - BURST) : 0;
			uint64_t t0;

			for (unsigned int j = 0; j < m; j++)
				kp[j] = &ks[i + j];
			for (unsigned int j = 0; j < mn; j++)
				next[j] = &ks[i + BURST + j];
			t0 = rte_rdtsc();
			if (pf != NULL && mn > 0)
				pf(ctx, next, mn);
			found += fn(ctx, kp, m);
			cyc += rte_rdtsc() - t0;
		}
		if (found != (pass == 0 ? n : 0)) {
			fprintf(stderr, "tws-bench: %s found %" PRIu64 " keys in pass %d\n", what,
				found, pass);
			return -1;
		}
		if (pass == 0)
			*hit = bench_per_op(cyc, n);
		else
			*miss = bench_per_op(cyc, n);
	}
	return 0;
}

/*
 * twstack's side of lookup_passes(): the prefetch of the next burst hashes
 * its keys (tws_table_prefetch_burst()) and that burst's lookup uses them
 * (tws_table_lookup_burst_hashed()), so each key is hashed once; a burst
 * nobody prefetched goes through tws_table_lookup_burst().
 */
struct tws_lookup_ctx {
	struct tws_table *t;
	uint64_t h[2][BURST];
	const void *first[2]; /* the first key of the burst whose hashes h[] holds */
	unsigned int next;    /* the h[] the next prefetch fills */
};

static unsigned int
tws_lookup(void *ctx, const void **kp, unsigned int m)
{
	struct tws_lookup_ctx *c = ctx;
	struct tws_table_hit hits[BURST];

	for (unsigned int b = 0; b < 2; b++) {
		if (c->first[b] == kp[0]) {
			c->first[b] = NULL;
			return tws_table_lookup_burst_hashed(c->t, kp, c->h[b], m, hits);
		}
	}
	return tws_table_lookup_burst(c->t, kp, m, hits);
}

static void
tws_prefetch(void *ctx, const void **kp, unsigned int m)
{
	struct tws_lookup_ctx *c = ctx;

	tws_table_prefetch_burst(c->t, kp, m, c->h[c->next]);
	c->first[c->next] = kp[0];
	c->next ^= 1;
}

static unsigned int
rte_lookup(void *ctx, const void **kp, unsigned int m)
{
	int32_t pos[BURST];
	unsigned int found = 0;

	rte_hash_lookup_bulk(ctx, kp, m, pos);
	for (unsigned int j = 0; j < m; j++)
		found += pos[j] >= 0;
	return found;
}

static int
run_tws(uint32_t n, const struct tws_tuple *keys, const struct tws_tuple *hit_keys,
	const struct tws_tuple *misses, struct tres *r)
{
	struct tws_table_params p = {
		.name = "bench", .socket_id = (int)rte_socket_id(), .max_conns = 1024,
		.max_tw = n, .tw_timeout = TW_TICKS, .hash_seed = opt.seed,
	};
	struct tws_table_params p0 = p;
	const struct tws_tw_state st = { .snd_nxt = 1, .rcv_nxt = 2, .flags = 0 };
	uint64_t m0, m1, t0, expired = 0;
	struct tws_table *t;

	/* Memory for N entries minus memory for none. */
	p0.max_tw = 0;
	m0 = app_dpdk_heap_used();
	t = tws_table_create(&p0);
	m1 = app_dpdk_heap_used();
	tws_table_free(t);
	if (t == NULL)
		return -1;
	uint64_t base = m1 - m0;

	m0 = app_dpdk_heap_used();
	t = tws_table_create(&p);
	m1 = app_dpdk_heap_used();
	if (t == NULL) {
		fprintf(stderr, "tws-bench: cannot create the table: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	r->bytes = (double)(m1 - m0 - base) / n;

	/* Created over the 60 s of one TIME_WAIT, in order. */
	double per_tick = (double)n / TW_TICKS;

	/*
	 * The first half one by one, the second in bursts of 32 whose buckets
	 * are prefetched first (tws_table_prefetch(), or a lookup burst).
	 */
	uint32_t half = n / 2;

	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < half; i++) {
		if (tws_table_tw_insert(t, &keys[i], &st, (uint64_t)(i / per_tick)) != 0)
			goto bad_insert;
	}
	r->insert_single = bench_per_op(rte_rdtsc_precise() - t0, half);
	t0 = rte_rdtsc_precise();
	for (uint32_t i = half; i < half + BURST && i < n; i++)
		tws_table_prefetch(t, &keys[i]);
	for (uint32_t i = half; i < n; i++) {
		if (i + BURST < n)
			tws_table_prefetch(t, &keys[i + BURST]);
		if (tws_table_tw_insert(t, &keys[i], &st, (uint64_t)(i / per_tick)) != 0)
			goto bad_insert;
	}
	r->insert = bench_per_op(rte_rdtsc_precise() - t0, n - half);

	struct tws_lookup_ctx lc = { .t = t };

	if (lookup_passes("the table", tws_lookup, tws_prefetch, &lc, n, hit_keys, misses, &r->hit,
			  &r->miss) != 0 ||
	    lookup_passes("the table", tws_lookup, NULL, &lc, n, hit_keys, misses, &r->hit_isolated,
			  &r->miss_isolated) != 0) {
		tws_table_free(t);
		return -1;
	}

	t0 = rte_rdtsc_precise();
	for (uint64_t now = TW_TICKS; now <= 2 * TW_TICKS; now++)
		expired += tws_table_expire(t, now, 0);
	r->expire = bench_per_op(rte_rdtsc_precise() - t0, expired);
	tws_table_free(t);
	if (expired != n) {
		fprintf(stderr, "tws-bench: %" PRIu64 " entries expired, expected %u\n", expired, n);
		return -1;
	}
	return 0;

bad_insert:
	fprintf(stderr, "tws-bench: a TIME_WAIT insert failed\n");
	tws_table_free(t);
	return -1;
}

static int
run_rte(uint32_t n, const struct tws_tuple *keys, const struct tws_tuple *hit_keys,
	const struct tws_tuple *misses, struct tres *r)
{
	struct rte_hash_parameters hp = {
		.name = "bench_rte_hash", .entries = n, .key_len = sizeof(struct tws_tuple),
		.hash_func = rte_hash_crc, .hash_func_init_val = (uint32_t)opt.seed,
		.socket_id = (int)rte_socket_id(), .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	uint64_t m0, m1, t0;
	struct rte_hash *h;

	m0 = app_dpdk_heap_used();
	h = rte_hash_create(&hp);
	m1 = app_dpdk_heap_used();
	if (h == NULL) {
		fprintf(stderr, "tws-bench: rte_hash_create failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	r->bytes = (double)(m1 - m0) / n;

	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < n; i++) {
		if (rte_hash_add_key(h, &keys[i]) < 0) {
			fprintf(stderr, "tws-bench: rte_hash insert %u failed\n", i);
			rte_hash_free(h);
			return -1;
		}
	}
	r->insert = bench_per_op(rte_rdtsc_precise() - t0, n);

	/* rte_hash has no prefetch call: its bulk lookup prefetches inside each burst. */
	if (lookup_passes("rte_hash", rte_lookup, NULL, h, n, hit_keys, misses, &r->hit,
			  &r->miss) != 0) {
		rte_hash_free(h);
		return -1;
	}
	rte_hash_free(h);
	return 0;
}

static void
jnum(const char *k, double v, bool valid, bool last)
{
	if (valid)
		printf("  \"%s\": %.2f%s\n", k, v, last ? "" : ",");
	else
		printf("  \"%s\": null%s\n", k, last ? "" : ",");
}

static int
table_run(void)
{
	uint32_t n = (uint32_t)opt.entries;
	struct tws_tuple *keys = malloc((size_t)n * sizeof(*keys));
	struct tws_tuple *misses = malloc((size_t)n * sizeof(*misses));
	struct tws_tuple *hit_order = malloc((size_t)n * sizeof(*hit_order));
	uint32_t *perm = malloc((size_t)n * sizeof(*perm));
	struct tres tw = { 0 }, rh = { 0 };
	struct bench_mem mem;
	bool have_rte = !opt.no_rte, have_mem;
	uint64_t s = opt.seed;
	int rc = 1;

	if (keys == NULL || misses == NULL || perm == NULL || hit_order == NULL) {
		fprintf(stderr, "tws-bench: out of memory for %u keys\n", n);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		make_key(&keys[i], i, false);
		make_key(&misses[i], i, true);
	}
	bench_permutation(perm, n, &s);
	/*
	 * Keys to look up are laid out in lookup order, as a packet burst's
	 * headers would be: reading them is not part of what is measured.
	 */
	for (uint32_t i = 0; i < n; i++)
		hit_order[i] = keys[perm[i]];
	/* Miss keys are distinct from every key and hash anywhere: their order is immaterial. */
	if (!opt.json)
		printf("tws-bench table: %u TIME_WAIT entries, %s\n", n, app_cpu_model());
	/* The memory floor, over as many bytes as the table takes (TLB reach matters). */
	have_mem = bench_mem_probe(RTE_MIN((uint64_t)table_mem(n), UINT64_C(2) << 30), &mem) == 0;
	if (run_tws(n, keys, hit_order, misses, &tw) != 0)
		goto out;
	if (have_rte && run_rte(n, keys, hit_order, misses, &rh) != 0)
		goto out;

	if (opt.json) {
		printf("{\n  \"entries\": %u,\n", n);
		jnum("tws_bytes_per_tw", tw.bytes, true, false);
		jnum("tws_insert_cyc", tw.insert, true, false);
		jnum("tws_insert_single_cyc", tw.insert_single, true, false);
		jnum("tws_lookup_hit_cyc", tw.hit, true, false);
		jnum("tws_lookup_miss_cyc", tw.miss, true, false);
		jnum("tws_lookup_hit_isolated_cyc", tw.hit_isolated, true, false);
		jnum("tws_lookup_miss_isolated_cyc", tw.miss_isolated, true, false);
		jnum("tws_expire_cyc", tw.expire, true, false);
		jnum("rte_hash_bytes_per_key", rh.bytes, have_rte, false);
		jnum("rte_hash_insert_cyc", rh.insert, have_rte, false);
		jnum("rte_hash_lookup_hit_cyc", rh.hit, have_rte, false);
		jnum("rte_hash_lookup_miss_cyc", rh.miss, have_rte, false);
		jnum("insert_ratio", rh.insert / tw.insert, have_rte, false);
		jnum("lookup_hit_ratio", rh.hit / tw.hit, have_rte, false);
		jnum("lookup_miss_ratio", rh.miss / tw.miss, have_rte, false);
		if (have_mem)
			printf("  \"mem_bytes\": %" PRIu64 ",\n", mem.bytes);
		else
			printf("  \"mem_bytes\": null,\n");
		jnum("mem_line_cyc", mem.line_cyc, have_mem, false);
		jnum("mem_two_line_cyc", mem.two_line_cyc, have_mem, false);
		printf("  \"cpu\": \"%s\",\n", app_cpu_model());
		printf("  \"cores\": %ld,\n", sysconf(_SC_NPROCESSORS_ONLN));
		printf("  \"tsc_hz\": %" PRIu64 "\n}\n", rte_get_tsc_hz());
	} else {
		printf("%-24s %12s %9s %9s %9s %9s\n", "", "bytes/entry", "insert", "hit", "miss",
		       "expire");
		printf("%-24s %12.1f %9.1f %9.1f %9.1f %9.1f\n", "twstack (TIME_WAIT)", tw.bytes,
		       tw.insert, tw.hit, tw.miss, tw.expire);
		printf("%-24s %12s %9.1f\n", "  insert one by one", "", tw.insert_single);
		printf("%-24s %12s %9s %9.1f %9.1f\n", "  bursts not pipelined", "", "",
		       tw.hit_isolated, tw.miss_isolated);
		if (have_rte) {
			printf("%-24s %12.1f %9.1f %9.1f %9.1f %9s\n", "rte_hash (key only)",
			       rh.bytes, rh.insert, rh.hit, rh.miss, "-");
			printf("%-24s %12s %8.1fx %8.1fx %8.1fx\n", "rte_hash / twstack", "",
			       rh.insert / tw.insert, rh.hit / tw.hit, rh.miss / tw.miss);
		}
		if (have_mem)
			printf("%-24s %12s %9.1f %9.1f %9s   (over %" PRIu64 " MiB)\n",
			       "memory floor", "", mem.line_cyc, mem.two_line_cyc, "", mem.bytes >> 20);
		printf("(TSC cycles per key; lookups in bursts of %d, random order; "
		       "docs/benchmarks.md explains)\n", BURST);
	}
	rc = 0;
out:
	free(keys);
	free(misses);
	free(hit_order);
	free(perm);
	return rc;
}

const struct bench_cmd bench_table_cmd = {
	.name = "table",
	.summary = "connection table with N TIME_WAIT entries vs rte_hash: bytes, insert, lookup, expiry",
	.parse = table_parse,
	.run = table_run,
	.usage = table_usage,
};
