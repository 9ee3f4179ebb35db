/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_plot.h"

/* Is @p prog an executable in $PATH? */
static bool
in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (path == NULL)
		path = "/usr/bin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (n > 0 && access(buf, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

void
app_plot_quoted(FILE *g, const char *s)
{
	fputc('\'', g);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputc('\'', g);
		fputc(*s, g);
	}
	fputc('\'', g);
}

FILE *
app_plot_open(const char *prog, const char *opt, const char *png, unsigned int width,
	      unsigned int height)
{
	FILE *g;

	if (!in_path("gnuplot")) {
		fprintf(stderr, "%s: %s: gnuplot is not installed, no plot made "
			"(Debian: apt-get install gnuplot-nox)\n", prog, opt);
		return NULL;
	}
	g = popen("gnuplot", "w");
	if (g == NULL) {
		fprintf(stderr, "%s: %s: cannot run gnuplot: %s\n", prog, opt, strerror(errno));
		return NULL;
	}
	fprintf(g, "set terminal pngcairo size %u,%u font ',10'\nset output ", width, height);
	app_plot_quoted(g, png);
	fputc('\n', g);
	return g;
}

int
app_plot_close(const char *prog, const char *opt, FILE *g)
{
	int st = pclose(g);

	if (st != 0) {
		fprintf(stderr, "%s: %s: gnuplot failed (status %d), no plot made\n", prog, opt,
			WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	return 0;
}
