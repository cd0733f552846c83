// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: messages on stderr (and the first error, for the JSON
 * document), the roots of every path the tool reads or writes (each
 * overridable from the environment so tests can use a fake tree), and
 * small helpers to read and write sysfs attributes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcipass-tool.h"

static char first_error[512];
static bool json_on;

bool json_mode(void)
{
	return json_on;
}

void set_json_mode(bool on)
{
	json_on = on;
}

/*
 * Print "pcipass-tool: MESSAGE" on stderr, remember the first message for
 * the JSON document, and return @status so callers can "return fail(...)".
 */
int fail(int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", PROG, msg);
	if (!first_error[0])
		snprintf(first_error, sizeof(first_error), "%s", msg);
	return status;
}

const char *fail_message(void)
{
	return first_error[0] ? first_error : NULL;
}

void warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: warning: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Progress of a command that changes things: stdout, or stderr in JSON. */
void note(const char *fmt, ...)
{
	FILE *out = json_on ? stderr : stdout;
	va_list ap;

	if (json_on)
		fprintf(out, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *sysfs_root(void)
{
	return env_or("PCIPASS_TOOL_SYSFS", "/sys");
}

const char *procfs_root(void)
{
	return env_or("PCIPASS_TOOL_PROCFS", "/proc");
}

const char *dev_node(void)
{
	return env_or("PCIPASS_TOOL_DEV", "/dev/pcipass");
}

const char *run_dir(void)
{
	return env_or("PCIPASS_TOOL_RUNDIR", "/run/pcipass");
}

const char *sysconf_dir(void)
{
	return env_or("PCIPASS_TOOL_SYSCONFDIR", "/etc");
}

/* pcipass's VFIO-compatible nodes, and where a VMM looks for VFIO's. */
const char *vfio_nodes_dir(void)
{
	return env_or("PCIPASS_TOOL_VFIO_NODES", "/dev/pcipass-vfio");
}

const char *vfio_dir(void)
{
	return env_or("PCIPASS_TOOL_VFIO_DIR", "/dev/vfio");
}

const char *modules_dir(void)
{
	return env_or("PCIPASS_TOOL_MODULES", "/lib/modules");
}

const char *kvm_node(void)
{
	return env_or("PCIPASS_TOOL_KVM", "/dev/kvm");
}

/* snprintf() into a path buffer; -ENAMETOOLONG when it does not fit. */
int fmt_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Read a text attribute, without its trailing newlines. Returns -errno. */
int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* Read a number attribute: "0x1234", "42" or "-1" (strtol rules). */
int read_ulong(const char *path, unsigned long *val)
{
	char buf[64], *end;
	int ret;

	ret = read_text(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

ssize_t read_bytes(const char *path, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return got ? (ssize_t)got : n;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	return got;
}

/* The last component of a symbolic link's target ("../../nvme" -> nvme). */
int read_link_name(const char *path, char *buf, size_t len)
{
	char target[4096], *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}

/* Write @text to a sysfs attribute in one write(). Returns -errno. */
int write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	if (close(fd) < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool dir_has_entries(const char *path)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return found;
}

/* The exit status that suits an errno. */
int errno_status(int err)
{
	if (err < 0)
		err = -err;
	if (err == EACCES || err == EPERM || err == EROFS)
		return EX_PERM;
	if (err == ENOENT || err == ENODEV)
		return EX_NODEV;
	return EX_FAIL;
}

/* "1 MiB", "64 KiB", "1.5 GiB", "12 B". */
void human_size(unsigned long long bytes, char *buf, size_t len)
{
	static const char * const unit[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	unsigned long long whole = bytes, rem = 0;
	int u = 0;

	while (whole >= 1024 && u < 6) {
		rem = whole % 1024;
		whole /= 1024;
		u++;
	}
	if (rem)
		snprintf(buf, len, "%llu.%llu %s", whole, rem * 10 / 1024,
			 unit[u]);
	else
		snprintf(buf, len, "%llu %s", whole, unit[u]);
}

static void out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", PROG);
	exit(EX_FAIL);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

/* Copy @src into @dst of @size bytes, truncating; always terminated. */
void str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "root", else the number: a static binary cannot use NSS. */
void id_name(const char *file, unsigned int id, char *buf, size_t len)
{
	char *line = NULL, *name, *save;
	size_t cap = 0;
	FILE *f;

	snprintf(buf, len, "%u", id);
	f = fopen(file, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *x, *num;

		name = strtok_r(line, ":", &save);
		x = strtok_r(NULL, ":", &save);
		num = strtok_r(NULL, ":", &save);
		if (name && x && num && strtoul(num, NULL, 10) == id) {
			snprintf(buf, len, "%s", name);
			break;
		}
	}
	free(line);
	fclose(f);
}

/* The name of user @uid, else the number. */
void uid_name(unsigned int uid, char *buf, size_t len)
{
	char path[512];

	fmt_path(path, sizeof(path), "%s/passwd", sysconf_dir());
	id_name(path, uid, buf, len);
}
