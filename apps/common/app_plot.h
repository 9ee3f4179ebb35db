/* SPDX-License-Identifier: BSD-3-Clause */
/* PNG plots through gnuplot (Debian: gnuplot-nox), shared by the tools. */
#ifndef APP_PLOT_H
#define APP_PLOT_H

#include <stdio.h>

/*
 * Start gnuplot writing a width x height PNG to @p png. When gnuplot is
 * missing or cannot run, says so on stderr (naming @p prog and @p opt) and
 * returns NULL: the caller makes no plot and carries on.
 */
FILE *app_plot_open(const char *prog, const char *opt, const char *png, unsigned int width,
		    unsigned int height);

/* Write @p s as a gnuplot single-quoted string (a quote doubled). */
void app_plot_quoted(FILE *g, const char *s);

/* Finish the plot. @return 0, or -1 after saying gnuplot failed. */
int app_plot_close(const char *prog, const char *opt, FILE *g);

#endif /* APP_PLOT_H */
