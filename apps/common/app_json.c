/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <math.h>

#include "app_json.h"

static void
key(struct app_json *j, const char *k)
{
	fprintf(j->f, "%s\n%*s\"%s\": ", j->first[j->depth] ? "" : ",", 2 * j->depth, "", k);
	j->first[j->depth] = false;
}

void
app_json_begin(struct app_json *j, FILE *f)
{
	j->f = f;
	j->depth = 1;
	j->first[1] = true;
	fputc('{', f);
}

void
app_json_obj(struct app_json *j, const char *k)
{
	key(j, k);
	fputc('{', j->f);
	if (j->depth + 1 < APP_JSON_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

void
app_json_end(struct app_json *j)
{
	j->depth--;
	fprintf(j->f, "\n%*s}%s", 2 * j->depth, "", j->depth == 0 ? "\n" : "");
}

void
app_json_u64(struct app_json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void
app_json_num(struct app_json *j, const char *k, double v, int decimals)
{
	key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.*f", decimals, v);
	else
		fputs("null", j->f);
}

void
app_json_str(struct app_json *j, const char *k, const char *v)
{
	key(j, k);
	fputc('"', j->f);
	for (const char *p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			fprintf(j->f, "\\%c", c);
		else if (c < 0x20)
			fprintf(j->f, "\\u%04x", c);
		else
			fputc(c, j->f);
	}
	fputc('"', j->f);
}

void
app_json_bool(struct app_json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}
