// SPDX-License-Identifier: GPL-2.0
/*
 * nested-qmp: a minimal QMP client for the nested tests (busybox has no
 * socat, and its nc cannot open a unix socket).
 *
 *   nested-qmp [-t SECONDS] [-e EVENT] SOCKET [COMMAND-JSON...]
 *
 * Connects to QEMU's "-qmp unix:SOCKET,server=on,wait=off", leaves
 * capabilities negotiation mode, sends each COMMAND-JSON (one QMP command
 * object, e.g. '{"execute":"device_del","arguments":{"id":"net0"}}') and
 * waits for its reply; then, with -e, waits for an event named EVENT.
 * Every line QEMU sends is copied to stdout.
 * Exit status: 0 every command returned and the event (if any) came; 1 a
 * command got an "error" reply; 2 timeout (-t, default 60 s), connection
 * lost or usage error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];
static size_t used;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Next line from QEMU into @line (without '\n'); 0, or -1 on timeout/EOF. */
static int read_line(int fd, char *line, size_t len, long deadline)
{
	for (;;) {
		char *nl = memchr(buf, '\n', used);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (nl) {
			size_t l = nl - buf;

			if (l >= len)
				l = len - 1;
			memcpy(line, buf, l);
			line[l] = '\0';
			used -= nl + 1 - buf;
			memmove(buf, nl + 1, used);
			printf("%s\n", line);
			fflush(stdout);
			return 0;
		}
		if (used == sizeof(buf) || left <= 0)
			return -1;
		if (poll(&pfd, 1, left) <= 0)
			return -1;
		n = read(fd, buf + used, sizeof(buf) - used);
		if (n <= 0)
			return -1;
		used += n;
	}
}

static int send_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	return write(fd, "\n", 1) == 1 ? 0 : -1;
}

/* Send @cmd, wait for its reply: 0 "return", 1 "error", 2 no reply. */
static int command(int fd, const char *cmd, long deadline)
{
	char line[sizeof(buf)];

	if (send_all(fd, cmd))
		return 2;
	while (!read_line(fd, line, sizeof(line), deadline)) {
		if (strstr(line, "\"return\""))
			return 0;
		if (strstr(line, "\"error\""))
			return 1;
	}
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *event = NULL;
	char line[sizeof(buf)], want[256];
	long deadline, timeout = 60;
	int fd, opt, i, ret = 0;

	while ((opt = getopt(argc, argv, "t:e:")) != -1) {
		if (opt == 't')
			timeout = atol(optarg);
		else if (opt == 'e')
			event = optarg;
		else
			return 2;
	}
	if (optind >= argc || timeout <= 0 ||
	    strlen(argv[optind]) >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"usage: nested-qmp [-t SECONDS] [-e EVENT] SOCKET [COMMAND-JSON...]\n");
		return 2;
	}
	deadline = now_ms() + timeout * 1000;
	memcpy(sa.sun_path, argv[optind], strlen(argv[optind]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "nested-qmp: %s: %s\n", argv[optind],
			strerror(errno));
		return 2;
	}
	/* The greeting, then out of capabilities negotiation mode. */
	if (read_line(fd, line, sizeof(line), deadline) ||
	    command(fd, "{\"execute\":\"qmp_capabilities\"}", deadline)) {
		fprintf(stderr, "nested-qmp: no QMP greeting or handshake\n");
		return 2;
	}
	for (i = optind + 1; i < argc && ret != 2; i++) {
		int r = command(fd, argv[i], deadline);

		if (r > ret)
			ret = r;
	}
	if (event && ret != 2) {
		snprintf(want, sizeof(want), "\"event\": \"%s\"", event);
		for (;;) {
			if (read_line(fd, line, sizeof(line), deadline)) {
				fprintf(stderr, "nested-qmp: no %s event\n",
					event);
				ret = 2;
				break;
			}
			if (strstr(line, want))
				break;
		}
	}
	close(fd);
	return ret;
}
