// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the pcipass selftests: sysfs access, PCI driver
 * binding, module loading and reading the kernel log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcipass_util.h"

const char *pp_env(const char *name, const char *fallback)
{
	const char *val = getenv(name);

	return val && *val ? val : fallback;
}

int pp_vm_has_iommu(void)
{
	const char *vm = getenv("PCIPASS_VM");

	if (!vm)
		return -1;
	return strcmp(vm, "iommu") == 0;
}

int pp_read_file(const char *path, char *buf, size_t len)
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
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

int pp_write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

bool pp_path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int pp_dev_driver(const char *addr, char *drv, size_t len)
{
	char path[256], target[256];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s", addr);
	if (!pp_path_exists(path))
		return -ENODEV;
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/driver", addr);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		drv[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(drv, len, "%s", base ? base + 1 : target);
	return 0;
}

int pp_dev_config_read(const char *addr, unsigned int off, void *buf,
		       size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/config", addr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

__u16 pp_dev_command(const char *addr)
{
	__u16 cmd = 0xffff;

	pp_dev_config_read(addr, 0x04, &cmd, sizeof(cmd));
	return cmd;
}

int pp_dev_rebind(const char *addr, const char *override)
{
	char path[256], drv[64];
	int ret;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/driver_override", addr);
	ret = pp_write_file(path, *override ? override : "\n");
	if (ret)
		return ret;
	ret = pp_dev_driver(addr, drv, sizeof(drv));
	if (ret)
		return ret;
	if (*drv) {
		snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/driver/unbind",
			 addr);
		ret = pp_write_file(path, addr);
		if (ret)
			return ret;
	}
	/* A device no driver wants makes drivers_probe fail: not an error. */
	pp_write_file("/sys/bus/pci/drivers_probe", addr);
	return 0;
}

static long pp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool pp_wait_driver(const char *addr, const char *drv, int timeout_ms)
{
	long end = pp_now_ms() + timeout_ms;
	char cur[64];

	do {
		if (!pp_dev_driver(addr, cur, sizeof(cur)) &&
		    !strcmp(cur, drv))
			return true;
		usleep(20000);
	} while (pp_now_ms() < end);
	return false;
}

bool pp_wait_path(const char *path, bool present, int timeout_ms)
{
	long end = pp_now_ms() + timeout_ms;

	do {
		if (pp_path_exists(path) == present)
			return true;
		usleep(20000);
	} while (pp_now_ms() < end);
	return false;
}

int pp_run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	if (status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

bool pp_module_loaded(void)
{
	return pp_path_exists("/sys/module/pcipass");
}

int pp_module_reload(const char *params)
{
	if (pp_module_loaded() && pp_run("rmmod pcipass"))
		return -1;
	return pp_run("modprobe pcipass %s", params);
}

int pp_module_ensure(void)
{
	if (pp_module_loaded())
		return 0;
	return pp_run("modprobe pcipass ids=1234:11e8");
}

int pp_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

bool pp_kmsg_find(int fd, const char *needle)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE)
				continue;	/* overwritten records: go on */
			return false;		/* EAGAIN: nothing more */
		}
		rec[n] = '\0';
		if (strstr(rec, needle))
			return true;
	}
}
