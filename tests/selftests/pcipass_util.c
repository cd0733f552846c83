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
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/userfaultfd.h>

#include "pcipass_util.h"

/*
 * The VM reads the tests' output through a pipe (tests/vm/guest-run.sh
 * stamps each result with the time): line-buffered, TAP lines stay in
 * order with the TH_LOG lines of stderr, and none is lost when a timeout
 * kills the test.
 */
static void __attribute__((constructor)) pp_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

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
	return strcmp(vm, "iommu") == 0 || strcmp(vm, "nointremap") == 0;
}

bool pp_vm_is(const char *name)
{
	const char *vm = getenv("PCIPASS_VM");

	return vm && !strcmp(vm, name);
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

bool pp_claim(const char *addr)
{
	return !pp_dev_rebind(addr, "pcipass") &&
	       pp_wait_driver(addr, "pcipass", 5000);
}

long long pp_stat_ctx_sum(const char *key)
{
	static char buf[1 << 16];
	long long sum = -1;
	char pid[32];
	char *line;

	if (pp_read_file("/sys/kernel/debug/pcipass/stat", buf, sizeof(buf)))
		return -1;
	snprintf(pid, sizeof(pid), " pid %d ", getpid());
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *p;

		if (strncmp(line, "ctx ", 4) || !strstr(line, pid))
			continue;
		p = strstr(line, key);
		if (p)
			sum = (sum < 0 ? 0 : sum) +
			      strtoll(p + strlen(key), NULL, 10);
	}
	return sum;
}

int pp_bound_ms(int ms)
{
	static int scale;
	struct utsname u;

	if (!scale)
		scale = !uname(&u) && strstr(u.release, "debug") ? 8 : 1;
	return ms * scale;
}

long pp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool pp_wait_driver(const char *addr, const char *drv, int timeout_ms)
{
	long end = pp_now_ms() + timeout_ms;
	char cur[64], path[128];

	/* A driver that is not registered binds nothing: no need to wait. */
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", drv);
	if (!pp_path_exists(path))
		return false;
	do {
		if (!pp_dev_driver(addr, cur, sizeof(cur)) &&
		    !strcmp(cur, drv))
			return true;
		usleep(20000);
	} while (pp_now_ms() < end);
	return false;
}

__u64 pp_efd_wait(int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	__u64 cnt = 0;

	if (poll(&pfd, 1, ms) == 1 && read(efd, &cnt, sizeof(cnt)) != 8)
		cnt = 0;
	return cnt;
}

bool pp_access_faults(void *p)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		(void)pp_mmio_read32(p, 0);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}

const char *pp_event_irq_contract(int dev, __u32 type, int efd)
{
	struct pcipass_irq_info info = { .size = sizeof(info), .type = type };
	__s32 fd = efd;

	if (pp_ioctl(dev, PCIPASS_DEVICE_GET_IRQ_INFO, &info))
		return "PCIPASS_DEVICE_GET_IRQ_INFO failed";
	if (info.count != 1 || info.enabled_count != 1)
		return "count or enabled_count is not 1";
	if (info.info_flags !=
	    (PCIPASS_IRQ_INFO_EVENTFD | PCIPASS_IRQ_INFO_ENABLED))
		return "info_flags are not EVENTFD | ENABLED";
	if (pp_irq_set(dev, PCIPASS_IRQ_SET_ENABLE, type, 0, 1, NULL) != EINVAL)
		return "ENABLE is not EINVAL";
	if (pp_irq_set(dev, PCIPASS_IRQ_SET_MASK, type, 0, 1, NULL) != EINVAL)
		return "MASK is not EINVAL";
	if (pp_irq_set(dev, PCIPASS_IRQ_SET_EVENTFD, type, 1, 1, &fd) != EINVAL)
		return "EVENTFD of vector 1 is not EINVAL";
	if (pp_irq_set(dev, PCIPASS_IRQ_SET_TRIGGER, type, 0, 2, NULL) != EINVAL)
		return "TRIGGER of 2 vectors is not EINVAL";
	fd = -2;
	if (pp_irq_set(dev, PCIPASS_IRQ_SET_EVENTFD, type, 0, 1, &fd) != EBADF)
		return "EVENTFD -2 is not EBADF";
	if (pp_irq_set(dev, PCIPASS_IRQ_SET_TRIGGER, type, 0, 1, NULL) ||
	    pp_efd_wait(efd, 1000) != 1)
		return "TRIGGER did not reach the eventfd";
	return NULL;
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

/*
 * In the VM without interrupt remapping every attach needs the admin's
 * opt-in; the tests of the refusal itself turn it off again (after their
 * pp_module_ensure(), which gives it back to the tests that follow).
 */
static int pp_module_loaded_as_vm_needs(int ret)
{
	if (ret || !pp_vm_is("nointremap"))
		return ret;
	return pp_write_file("/sys/module/pcipass/parameters/allow_unsafe_interrupts",
			     "1");
}

int pp_module_reload(const char *params)
{
	if (pp_module_loaded() && pp_run("rmmod pcipass"))
		return -1;
	return pp_module_loaded_as_vm_needs(pp_run("modprobe pcipass %s",
						   params));
}

int pp_module_ensure(void)
{
	if (pp_module_loaded())
		return pp_module_loaded_as_vm_needs(0);
	return pp_module_loaded_as_vm_needs(pp_run("modprobe pcipass ids=1234:11e8"));
}

int pp_host_request(const char *verb, const char *id)
{
	if (strcmp(pp_env("PCIPASS_HOST_AGENT", "0"), "1"))
		return -1;
	printf("# pcipass-host: %s %s\n", verb, id);
	fflush(stdout);
	return 0;
}

int pp_release_timeout(unsigned int ms)
{
	char val[16];

	snprintf(val, sizeof(val), "%u", ms);
	return pp_write_file("/sys/module/pcipass/parameters/release_timeout_ms",
			     val);
}

int pp_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

bool pp_kmsg_wait(int fd, const char *needle, int timeout_ms)
{
	long end = pp_now_ms() + timeout_ms;

	do {
		if (pp_kmsg_find(fd, needle))
			return true;
		usleep(20000);
	} while (pp_now_ms() < end);
	return false;
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

int pp_ioctl(int fd, unsigned long num, void *arg)
{
	return ioctl(fd, num, arg) ? errno : 0;
}

int pp_parse_addr(const char *str, struct pcipass_pci_addr *addr)
{
	unsigned int seg, bus, dev, fn;
	char end;

	if (sscanf(str, "%x:%x:%x.%x%c", &seg, &bus, &dev, &fn, &end) != 4)
		return -EINVAL;
	*addr = (struct pcipass_pci_addr) {
		.segment = seg, .bus = bus, .device = dev, .function = fn,
	};
	return 0;
}

int pp_attach(int ctx_fd, const char *addr, int *dev_fd)
{
	struct pcipass_device_attach cmd = { .size = sizeof(cmd) };
	int ret;

	*dev_fd = -1;
	/* An address that does not parse is sent as one the kernel refuses. */
	if (pp_parse_addr(addr, &cmd.addr))
		cmd.addr.device = 0xff;
	ret = pp_ioctl(ctx_fd, PCIPASS_DEVICE_ATTACH, &cmd);
	if (!ret)
		*dev_fd = cmd.out_device_fd;
	return ret;
}

int pp_detach(int ctx_fd, const char *addr)
{
	struct pcipass_device_detach cmd = { .size = sizeof(cmd) };

	if (pp_parse_addr(addr, &cmd.addr))
		cmd.addr.device = 0xff;
	return pp_ioctl(ctx_fd, PCIPASS_DEVICE_DETACH, &cmd);
}

int pp_map(int ctx_fd, void *va, __u64 iova, __u64 len, __u32 flags)
{
	struct pcipass_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.user_va = (__u64)(unsigned long)va,
		.iova = iova,
		.length = len,
	};

	return pp_ioctl(ctx_fd, PCIPASS_DMA_MAP, &cmd);
}

int pp_unmap(int ctx_fd, __u64 iova, __u64 len, __u32 flags)
{
	struct pcipass_dma_unmap cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.iova = iova,
		.length = len,
	};

	return pp_ioctl(ctx_fd, PCIPASS_DMA_UNMAP, &cmd);
}

int pp_ctx_info(int ctx_fd, struct pcipass_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return pp_ioctl(ctx_fd, PCIPASS_GET_INFO, info);
}

void *pp_map_bar_sysfs(const char *addr, int bar, size_t *len)
{
	char path[256];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/resource%d", addr, bar);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*len = st.st_size;
	return p;
}

int pp_dev_config_write16(const char *addr, unsigned int off, __u16 val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/config", addr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, &val, sizeof(val), off);
	close(fd);
	return n == sizeof(val) ? 0 : -EIO;
}

int pp_set_bus_master(const char *addr, bool on)
{
	__u16 cmd = pp_dev_command(addr);

	if (cmd == 0xffff)
		return -EIO;
	cmd = on ? cmd | 0x4 : cmd & ~0x4;
	return pp_dev_config_write16(addr, 0x04, cmd);
}

static long pp_file_value(const char *path, const char *key, bool colon)
{
	char line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen))
			continue;
		if (colon ? line[klen] != ':' : line[klen] != ' ')
			continue;
		val = strtol(line + klen + 1, NULL, 10);
		break;
	}
	fclose(f);
	return val;
}

long pp_vmstat(const char *key)
{
	return pp_file_value("/proc/vmstat", key, false);
}

long pp_file_kb(const char *path, const char *key)
{
	return pp_file_value(path, key, true);
}

long pp_status_kb(const char *key)
{
	return pp_file_value("/proc/self/status", key, true);
}

long pp_status_kb_of(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return pp_file_value(path, key, true);
}

long pp_foll_pins(void)
{
	/* Fold the per-CPU counter deltas so that the sums are exact. */
	pp_write_file("/proc/sys/vm/stat_refresh", "1");
	return pp_file_value("/proc/vmstat", "nr_foll_pin_acquired", false) -
	       pp_file_value("/proc/vmstat", "nr_foll_pin_released", false);
}

long pp_kmem_kb(void)
{
	long slab, vmalloc;

	pp_write_file("/proc/sys/vm/stat_refresh", "1");
	slab = pp_file_kb("/proc/meminfo", "Slab");
	vmalloc = pp_file_kb("/proc/meminfo", "VmallocUsed");
	if (slab < 0 || vmalloc < 0)
		return -1;
	return slab + vmalloc;
}

__u32 pp_mmio_read32(void *bar, unsigned int off)
{
	return __atomic_load_n((__u32 *)((char *)bar + off), __ATOMIC_ACQUIRE);
}

void pp_mmio_write32(void *bar, unsigned int off, __u32 val)
{
	__atomic_store_n((__u32 *)((char *)bar + off), val, __ATOMIC_RELEASE);
}

void pp_mmio_write64(void *bar, unsigned int off, __u64 val)
{
	__atomic_store_n((__u64 *)((char *)bar + off), val, __ATOMIC_RELEASE);
}

__u32 pp_edu_read(void *bar, unsigned int off)
{
	return pp_mmio_read32(bar, off);
}

void pp_edu_write(void *bar, unsigned int off, __u32 val)
{
	pp_mmio_write32(bar, off, val);
}

bool pp_edu_dma(void *bar, __u64 src, __u64 dst, __u32 count, bool to_ram)
{
	long end = pp_now_ms() + 5000;

	pp_mmio_write64(bar, 0x80, src);
	pp_mmio_write64(bar, 0x88, dst);
	pp_mmio_write64(bar, 0x90, count);
	pp_mmio_write64(bar, 0x98, 0x1 | (to_ram ? 0x2 : 0));
	while (pp_edu_read(bar, 0x98) & 0x1) {
		if (pp_now_ms() > end)
			return false;
		usleep(5000);
	}
	return true;
}

int pp_region_info(int dev_fd, __u32 index, struct pcipass_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->size = sizeof(*ri);
	ri->index = index;
	return pp_ioctl(dev_fd, PCIPASS_DEVICE_GET_REGION_INFO, ri);
}

void *pp_map_bar(int dev_fd, int bar, size_t *len)
{
	struct pcipass_region_info ri;
	void *p;

	if (pp_region_info(dev_fd, PCIPASS_REGION_BAR0 + bar, &ri) ||
	    !(ri.region_flags & PCIPASS_REGION_MMAP))
		return NULL;
	p = mmap(NULL, ri.region_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 dev_fd, ri.offset);
	if (p == MAP_FAILED)
		return NULL;
	*len = ri.region_size;
	return p;
}

void *pp_map_bar_head(int dev_fd, int bar, size_t len)
{
	struct pcipass_region_info ri;
	void *p;

	if (pp_region_info(dev_fd, PCIPASS_REGION_BAR0 + bar, &ri))
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd,
		 ri.offset);
	return p == MAP_FAILED ? NULL : p;
}

int pp_cfg_read(int dev_fd, unsigned int off, void *buf, size_t len)
{
	ssize_t n = pread(dev_fd, buf, len,
			  PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG) + off);

	if (n < 0)
		return errno;
	return n == (ssize_t)len ? 0 : EIO;
}

int pp_cfg_write(int dev_fd, unsigned int off, const void *buf, size_t len)
{
	ssize_t n = pwrite(dev_fd, buf, len,
			   PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG) + off);

	if (n < 0)
		return errno;
	return n == (ssize_t)len ? 0 : EIO;
}

int pp_cfg_set_bus_master(int dev_fd, bool on)
{
	__u16 cmd;
	int ret;

	ret = pp_cfg_read(dev_fd, 0x04, &cmd, sizeof(cmd));
	if (ret)
		return ret;
	cmd = on ? cmd | 0x4 : cmd & ~0x4;
	return pp_cfg_write(dev_fd, 0x04, &cmd, sizeof(cmd));
}

int pp_irq_set(int dev_fd, __u32 action, __u32 type, __u32 start, __u32 count,
	       void *data)
{
	struct pcipass_irq_set cmd = {
		.size = sizeof(cmd),
		.flags = action,
		.type = type,
		.start = start,
		.count = count,
		.data = (__u64)(unsigned long)data,
	};

	return pp_ioctl(dev_fd, PCIPASS_DEVICE_SET_IRQS, &cmd);
}

int pp_irq_lines(const char *addr)
{
	char line[1024];
	int n = 0;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "pcipass-") && (!addr || strstr(line, addr)))
			n++;
	fclose(f);
	return n;
}

/*
 * A userfaultfd and an anonymous mapping of @len registered with it:
 * missing-page faults wait, or with @wp, the mapping is populated, starts
 * with @init and write faults wait.
 */
static int pp_uffd_setup(struct pp_uffd *u, void *at, size_t len, bool wp,
			 const void *init, size_t init_len)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = wp ? UFFD_FEATURE_PAGEFAULT_FLAG_WP : 0,
	};
	struct uffdio_register reg = {};
	struct uffdio_writeprotect prot = {};
	int ret;

	u->len = len;
	u->wp = wp;
	u->addr = MAP_FAILED;
	u->fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0)
		return -errno;
	if (ioctl(u->fd, UFFDIO_API, &api))
		goto err;
	u->addr = mmap(at, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (wp ? MAP_POPULATE : 0) |
		       (at ? MAP_FIXED : 0), -1, 0);
	if (u->addr == MAP_FAILED)
		goto err;
	if (wp)
		memcpy(u->addr, init, init_len);
	reg.range.start = (unsigned long)u->addr;
	reg.range.len = len;
	reg.mode = wp ? UFFDIO_REGISTER_MODE_WP : UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg))
		goto err;
	if (wp) {
		prot.range = reg.range;
		prot.mode = UFFDIO_WRITEPROTECT_MODE_WP;
		if (ioctl(u->fd, UFFDIO_WRITEPROTECT, &prot))
			goto err;
	}
	return 0;
err:
	ret = -errno;
	pp_uffd_destroy(u);
	return ret;
}

int pp_uffd_create(struct pp_uffd *u, size_t len)
{
	return pp_uffd_setup(u, NULL, len, false, NULL, 0);
}

int pp_uffd_create_at(struct pp_uffd *u, void *at, size_t len)
{
	return pp_uffd_setup(u, at, len, false, NULL, 0);
}

int pp_uffd_create_wp(struct pp_uffd *u, size_t len, const void *init,
		      size_t init_len)
{
	return pp_uffd_setup(u, NULL, len, true, init, init_len);
}

int pp_uffd_waiters(struct pp_uffd *u, int timeout_ms)
{
	struct pollfd pfd = { .fd = u->fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) > 0 && (pfd.revents & POLLIN);
}

void pp_uffd_release(struct pp_uffd *u, bool fail)
{
	struct uffdio_zeropage zp = {};

	if (u->fd < 0)
		return;
	if (fail) {
		/* Waiters wake; the pages fault in as ordinary memory. */
		close(u->fd);
		u->fd = -1;
		return;
	}
	if (u->wp) {
		struct uffdio_writeprotect wp = {
			.range.start = (unsigned long)u->addr,
			.range.len = u->len,
		};

		ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
		return;
	}
	zp.range.start = (unsigned long)u->addr;
	zp.range.len = u->len;
	ioctl(u->fd, UFFDIO_ZEROPAGE, &zp);
}

void pp_uffd_destroy(struct pp_uffd *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (u->addr != MAP_FAILED)
		munmap(u->addr, u->len);
	u->addr = MAP_FAILED;
}

/* ---- an NVMe controller from user space ---- */

#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1c
#define NVME_REG_AQA	0x24
#define NVME_REG_ASQ	0x28
#define NVME_REG_ACQ	0x30
#define NVME_DOORBELLS	0x1000

static int pp_nvme_wait_ready(void *bar, bool ready)
{
	int i;

	for (i = 0; i < 4000; i++) {
		if ((pp_mmio_read32(bar, NVME_REG_CSTS) & 1) == ready)
			return 0;
		usleep(1000);
	}
	return -1;
}

int pp_nvme_disable(struct pp_nvme *n)
{
	pp_mmio_write32(n->bar, NVME_REG_CC, 0);
	return pp_nvme_wait_ready(n->bar, false);
}

int pp_nvme_enable(struct pp_nvme *n)
{
	unsigned int i;

	if (pp_nvme_disable(n))
		return -1;
	for (i = 0; i < 2; i++) {
		n->q[i].tail = 0;
		n->q[i].head = 0;
		n->q[i].phase = 1;
		if (n->q[i].cq)
			memset(n->q[i].cq, 0, PP_NVME_QDEPTH * 16);
	}
	pp_mmio_write32(n->bar, NVME_REG_AQA,
			((PP_NVME_QDEPTH - 1) << 16) | (PP_NVME_QDEPTH - 1));
	pp_mmio_write64(n->bar, NVME_REG_ASQ, n->q[0].sq_iova);
	pp_mmio_write64(n->bar, NVME_REG_ACQ, n->q[0].cq_iova);
	/* 64-byte SQ entries, 16-byte CQ entries, 4 KiB pages, enable. */
	pp_mmio_write32(n->bar, NVME_REG_CC, (4u << 20) | (6u << 16) | 1);
	return pp_nvme_wait_ready(n->bar, true);
}

int pp_nvme_cmd(struct pp_nvme *n, unsigned int qid, __u32 *sqe,
		__u32 *result)
{
	static __u16 cid = 0x100;
	struct pp_nvme_queue *q = &n->q[qid];
	int i;

	cid++;
	sqe[0] = (sqe[0] & 0xffff) | ((__u32)cid << 16);
	memcpy(q->sq + q->tail * 16, sqe, 64);
	q->tail = (q->tail + 1) % PP_NVME_QDEPTH;
	__sync_synchronize();
	pp_mmio_write32(n->bar, NVME_DOORBELLS + 8 * qid, q->tail);

	for (i = 0; i < 5000; i++) {
		__u32 *cqe = q->cq + q->head * 4;
		/* The device writes the entry: read it fresh every time. */
		__u32 dw3 = __atomic_load_n(&cqe[3], __ATOMIC_ACQUIRE);

		if (((dw3 >> 16) & 1) == q->phase) {
			q->head = (q->head + 1) % PP_NVME_QDEPTH;
			if (!q->head)
				q->phase ^= 1;
			pp_mmio_write32(n->bar, NVME_DOORBELLS + 8 * qid + 4,
					q->head);
			if ((dw3 & 0xffff) != cid)
				return -1;
			if (result)
				*result = cqe[0];
			return (dw3 >> 17) & 0x7fff;
		}
		usleep(1000);
	}
	return -1;
}

int pp_nvme_create_io_queues(struct pp_nvme *n, __u16 iv)
{
	__u32 sqe[16] = { 0 };
	int ret;

	n->q[1].tail = 0;
	n->q[1].head = 0;
	n->q[1].phase = 1;
	memset(n->q[1].cq, 0, PP_NVME_QDEPTH * 16);
	/* Create I/O Completion Queue 1: contiguous, interrupts on @iv. */
	sqe[0] = 0x05;
	sqe[6] = (__u32)n->q[1].cq_iova;
	sqe[7] = (__u32)(n->q[1].cq_iova >> 32);
	sqe[10] = ((PP_NVME_QDEPTH - 1) << 16) | 1;
	sqe[11] = ((__u32)iv << 16) | 0x3;
	ret = pp_nvme_cmd(n, 0, sqe, NULL);
	if (ret)
		return ret;
	/* Create I/O Submission Queue 1 on completion queue 1. */
	memset(sqe, 0, sizeof(sqe));
	sqe[0] = 0x01;
	sqe[6] = (__u32)n->q[1].sq_iova;
	sqe[7] = (__u32)(n->q[1].sq_iova >> 32);
	sqe[10] = ((PP_NVME_QDEPTH - 1) << 16) | 1;
	sqe[11] = (1u << 16) | 0x1;
	return pp_nvme_cmd(n, 0, sqe, NULL);
}
