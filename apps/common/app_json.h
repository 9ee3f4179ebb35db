/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small JSON writer for the tools' summaries: objects nest, commas and
 * indentation are placed by the writer, keys are trusted literals, string
 * values are escaped.
 */
#ifndef APP_JSON_H
#define APP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define APP_JSON_DEPTH 8

struct app_json {
	FILE *f;
	int depth;
	bool first[APP_JSON_DEPTH];
};

/* Start the top-level object on @p f. */
void app_json_begin(struct app_json *j, FILE *f);
/* Open a nested object under @p key; close it with app_json_end(). */
void app_json_obj(struct app_json *j, const char *key);
/* Close the innermost object (the top-level one ends with a newline). */
void app_json_end(struct app_json *j);
void app_json_u64(struct app_json *j, const char *key, uint64_t v);
/* A number with @p decimals digits after the point; NaN and infinities become null. */
void app_json_num(struct app_json *j, const char *key, double v, int decimals);
void app_json_str(struct app_json *j, const char *key, const char *v);
void app_json_bool(struct app_json *j, const char *key, bool v);

#endif /* APP_JSON_H */
