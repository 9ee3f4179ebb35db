/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_linux.h"
#include "app_util.h"

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes, waiting no later than `until` (CLOCK_MONOTONIC ns). */
static int
read_until(int fd, void *buf, size_t len, uint64_t until)
{
	char *p = buf;

	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = app_now_ns();
		ssize_t n;
		int prc;

		if (now >= until)
			return -ETIMEDOUT;
		prc = poll(&pfd, 1, (int)((until - now) / 1000000 + 1));
		if (prc < 0 && errno == EINTR)
			continue;
		if (prc < 0)
			return -errno;
		if (prc == 0)
			return -ETIMEDOUT;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;	/* the child died before reporting */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
app_child_run(int (*fn)(void *arg, void *report), void *arg, void *report, size_t len,
	      double timeout_s)
{
	uint64_t until = app_now_ns() + (uint64_t)(timeout_s * 1e9);
	pid_t pid, parent = getpid();
	int pfd[2], rc, status, child_rc = 0;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);	/* what stdio holds must not be written twice */
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return rc;
	}
	if (pid == 0) {
		close(pfd[0]);
		/* Bounded even if the caller dies: the child goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		child_rc = fn(arg, report);
		fflush(NULL);
		_exit(write_all(pfd[1], &child_rc, sizeof(child_rc)) == 0 &&
		      write_all(pfd[1], report, len) == 0 ? 0 : 1);
	}
	close(pfd[1]);
	rc = read_until(pfd[0], &child_rc, sizeof(child_rc), until);
	if (rc == 0)
		rc = read_until(pfd[0], report, len, until);
	close(pfd[0]);
	if (rc == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return rc < 0 ? rc : child_rc;
}

uint64_t
app_netns_id(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

int
app_lo_up(void)
{
	struct ifreq ifr;
	int fd, rc = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name) - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

int
app_netns_sysctl_set(const char *name, const char *value, uint64_t host_netns)
{
	char path[256];
	uint64_t ns = app_netns_id();
	size_t len = strlen(value);
	int fd, rc = 0;

	/* /proc/sys/net/ follows the opener's namespace: write only in one of our own. */
	if (ns == 0 || host_netns == 0 || ns == host_netns)
		return -EPERM;
	snprintf(path, sizeof(path), "/proc/sys/net/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		rc = errno != 0 ? -errno : -EIO;
	close(fd);
	return rc;
}

/* Up to len - 1 bytes of a small file, NUL-terminated; bytes read or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

uint64_t
app_sockstat_tw(void)
{
	char buf[512];
	const char *p;

	if (read_small("/proc/net/sockstat", buf, sizeof(buf)) <= 0)
		return 0;
	p = strstr(buf, "TCP:");
	if (p == NULL)
		return 0;
	p = strstr(p, " tw ");
	return p == NULL ? 0 : strtoull(p + 4, NULL, 10);
}

uint64_t
app_read_u64_file(const char *path)
{
	char buf[64];

	return read_small(path, buf, sizeof(buf)) <= 0 ? 0 : strtoull(buf, NULL, 10);
}

uint64_t
app_meminfo_bytes(const char *field)
{
	char line[256];
	size_t flen = strlen(field);
	uint64_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			kb = strtoull(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb * 1024;
}
