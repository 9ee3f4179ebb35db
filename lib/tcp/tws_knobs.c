/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The knob table: everything (field, default, range, value names, help)
 * comes from TWS_TCP_KNOBS, so adding a knob is one line in tws_tcp.h.
 * Control path only: lookups are a linear scan by name.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tws_tcp.h"

struct knob {
	const char *name;
	const char *values; /* "a,b,c": value i is the i-th name; NULL for a number */
	const char *desc;
	uint32_t def;
	uint32_t min;
	uint32_t max;
	size_t off; /* of the uint32_t field in struct tws_tcp_knobs */
};

static const struct knob knobs[] = {
#define TWS_X_KNOB(n, d, lo, hi, vals, help) \
	{ .name = #n, .values = vals, .desc = help, .def = d, .min = lo, .max = hi, \
	  .off = offsetof(struct tws_tcp_knobs, n) },
	TWS_TCP_KNOBS(TWS_X_KNOB)
#undef TWS_X_KNOB
};

#define NB_KNOBS (sizeof(knobs) / sizeof(knobs[0]))

/* Every field is a uint32_t listed once: the table covers the whole struct. */
static_assert(sizeof(struct tws_tcp_knobs) == NB_KNOBS * sizeof(uint32_t),
	      "struct tws_tcp_knobs has fields outside TWS_TCP_KNOBS");

/* Pairs that must hold lo <= hi, checked by tws_tcp_knobs_check() in this order. */
struct knob_order {
	const char *lo_name;
	const char *hi_name;
	size_t lo_off;
	size_t hi_off;
};

#define KNOB_ORDER(lo, hi) { #lo, #hi, offsetof(struct tws_tcp_knobs, lo), \
			     offsetof(struct tws_tcp_knobs, hi) }
static const struct knob_order orders[] = {
	KNOB_ORDER(rto_min_ms, rto_init_ms),  /* RFC 6298 2.1: the initial RTO is clamped too */
	KNOB_ORDER(rto_init_ms, rto_max_ms),
	KNOB_ORDER(port_min, port_max),       /* an empty range could never connect */
};
#undef KNOB_ORDER

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static uint32_t *
field(struct tws_tcp_knobs *k, size_t off)
{
	return (uint32_t *)((char *)k + off);
}

static uint32_t
field_get(const struct tws_tcp_knobs *k, size_t off)
{
	return *(const uint32_t *)((const char *)k + off);
}

static const struct knob *
knob_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (unsigned int i = 0; i < NB_KNOBS; i++)
		if (strcmp(knobs[i].name, name) == 0)
			return &knobs[i];
	return NULL;
}

/* Plain decimal digits only: no sign, space, base prefix or suffix. */
static int
parse_u32(const char *s, uint32_t *v)
{
	uint64_t n = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return -ERANGE;
	}
	*v = (uint32_t)n;
	return 0;
}

/* Index of @p s in the comma list @p names, or -1. */
static int
name_index(const char *names, const char *s)
{
	size_t len = strlen(s);
	int i = 0;

	for (const char *p = names;; i++) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, s, n) == 0)
			return i;
		if (p[n] == '\0')
			return -1;
		p += n + 1;
	}
}

/* Name of value @p v in the comma list @p names: sets *name, *n; false if none. */
static bool
name_of(const char *names, uint32_t v, const char **name, size_t *n)
{
	const char *p = names;

	for (uint32_t i = 0; i < v; i++) {
		p = strchr(p, ',');
		if (p == NULL)
			return false;
		p++;
	}
	*name = p;
	*n = strcspn(p, ",");
	return true;
}

/* "a,b,c" as "a, b, c" for messages. */
static const char *
names_list(const char *names, char *buf, size_t len)
{
	size_t o = 0;

	for (const char *p = names; *p != '\0' && o + 1 < len; p++) {
		buf[o++] = *p;
		if (*p == ',' && o + 1 < len)
			buf[o++] = ' ';
	}
	buf[o] = '\0';
	return buf;
}

void
tws_tcp_knobs_default(struct tws_tcp_knobs *k)
{
	for (unsigned int i = 0; i < NB_KNOBS; i++)
		*field(k, knobs[i].off) = knobs[i].def;
}

int
tws_tcp_knob_set(struct tws_tcp_knobs *k, const char *name, const char *value,
		 char *err, size_t err_len)
{
	const struct knob *kn = knob_find(name);
	char list[128];
	uint32_t v;
	int rc;

	if (kn == NULL) {
		set_err(err, err_len, "no knob '%s'", name != NULL ? name : "");
		return -ENOENT;
	}
	if (value == NULL)
		value = "";
	rc = parse_u32(value, &v);
	if (kn->values != NULL) {
		int idx = name_index(kn->values, value);

		if (idx >= 0) {
			v = (uint32_t)idx;
			rc = 0;
		}
		if (rc != 0 || v < kn->min || v > kn->max) {
			set_err(err, err_len, "%s: '%s' is not one of %s", kn->name, value,
				names_list(kn->values, list, sizeof(list)));
			return -EINVAL;
		}
	} else if (rc == -EINVAL) {
		set_err(err, err_len, "%s: '%s' is not a decimal number in %u..%u", kn->name,
			value, kn->min, kn->max);
		return -EINVAL;
	} else if (rc != 0 || v < kn->min || v > kn->max) {
		set_err(err, err_len, "%s: '%s' is out of range %u..%u", kn->name, value, kn->min,
			kn->max);
		return -EINVAL;
	}
	*field(k, kn->off) = v;
	return 0;
}

int
tws_tcp_knobs_check(const struct tws_tcp_knobs *k, char *err, size_t err_len)
{
	char list[128];

	for (unsigned int i = 0; i < NB_KNOBS; i++) {
		const struct knob *kn = &knobs[i];
		uint32_t v = field_get(k, kn->off);

		if (v >= kn->min && v <= kn->max)
			continue;
		if (kn->values != NULL)
			set_err(err, err_len, "%s: %u is not one of %s", kn->name, v,
				names_list(kn->values, list, sizeof(list)));
		else
			set_err(err, err_len, "%s: %u is out of range %u..%u", kn->name, v,
				kn->min, kn->max);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		const struct knob_order *o = &orders[i];
		uint32_t lo = field_get(k, o->lo_off);
		uint32_t hi = field_get(k, o->hi_off);

		if (lo <= hi)
			continue;
		set_err(err, err_len, "%s: %u is above %s %u; need %s <= %s", o->lo_name, lo,
			o->hi_name, hi, o->lo_name, o->hi_name);
		return -EINVAL;
	}
	return 0;
}

unsigned int
tws_tcp_knob_count(void)
{
	return NB_KNOBS;
}

int
tws_tcp_knob_info(unsigned int i, const char **name, uint32_t *def, uint32_t *min,
		  uint32_t *max, const char **values, const char **desc)
{
	if (i >= NB_KNOBS)
		return -EINVAL;
	if (name != NULL)
		*name = knobs[i].name;
	if (def != NULL)
		*def = knobs[i].def;
	if (min != NULL)
		*min = knobs[i].min;
	if (max != NULL)
		*max = knobs[i].max;
	if (values != NULL)
		*values = knobs[i].values;
	if (desc != NULL)
		*desc = knobs[i].desc;
	return 0;
}

int
tws_tcp_knob_get(const struct tws_tcp_knobs *k, const char *name, char *buf, size_t len)
{
	const struct knob *kn = knob_find(name);
	uint32_t v;
	const char *vn;
	size_t n;

	if (kn == NULL)
		return -ENOENT;
	if (buf == NULL || len == 0)
		return 0;
	v = field_get(k, kn->off);
	/* An out-of-range value of a named knob prints as its number. */
	if (kn->values != NULL && name_of(kn->values, v, &vn, &n))
		snprintf(buf, len, "%.*s", (int)n, vn);
	else
		snprintf(buf, len, "%u", v);
	return 0;
}
