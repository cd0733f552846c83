// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass_bench: the same operations through pcipass and through the
 * kernel's vfio-pci (legacy VFIO type1 container API), on one device, in
 * one boot, reported side by side as ratios.
 *
 * The device (QEMU's edu, 1234:11e8) is bound to pcipass and to vfio-pci in
 * turn through driver_override and drivers_probe. Each round measures every
 * operation through both drivers; the order of the drivers alternates from
 * round to round (ABBA) so that a slow drift of the host cancels out. Each
 * block of an operation starts with untimed warm-up iterations.
 *
 * Operations: DMA map and unmap of 4 KiB, 2 MiB (THP, 2 MiB aligned) and
 * 64 MiB (4 KiB pages, and THP); a software-triggered MSI from the ioctl
 * to the return of read() on its eventfd; a real MSI raised by edu (write
 * 0x60 in BAR0 through the device's mmap, read() the eventfd, then ack at
 * 0x64 outside the timed part); pread() of the command register through
 * the config region; pread() of a BAR0 register through the device file.
 *
 * Run as root, with pcipass and vfio-pci loaded and the device bound to
 * neither: pcipass_bench [-d SSSS:BB:DD.F] [-r ROUNDS] [-s SCALE] [-q] [-v]
 * (-q: no progress messages, -v: the medians of every round on stderr).
 * Prints the table on stdout; exits non-zero when an operation failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/pcipass.h>
#include <linux/vfio.h>

#define SYSFS_PCI	"/sys/bus/pci/devices"
#define IOVA_BASE	0x40000000ULL
#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_64M		0x4000000ULL
#define EDU_ID		0x00
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define PCI_CMD		0x04
#define PCI_CMD_MASTER	0x4
/* Seconds a block of interrupts may take before it counts as lost. */
#define IRQ_WATCHDOG	60

enum drv_id { DRV_PCIPASS, DRV_VFIO, NR_DRV };

enum op_id {
	OP_MAPUNMAP_4K, OP_MAPUNMAP_2M, OP_MAPUNMAP_64M, OP_MAPUNMAP_64M_THP,
	OP_MAP_4K, OP_UNMAP_4K, OP_MAP_2M, OP_UNMAP_2M,
	OP_MAP_64M, OP_UNMAP_64M, OP_MAP_64M_THP, OP_UNMAP_64M_THP,
	OP_IRQ_SOFT, OP_IRQ_EDU, OP_CFG_READ, OP_BAR_READ,
	NR_OP
};

struct op_desc {
	const char *name;
	unsigned int iters;	/* timed iterations per round, at scale 1 */
};

static const struct op_desc ops[NR_OP] = {
	[OP_MAPUNMAP_4K] = { "DMA map+unmap 4 KiB", 3000 },
	[OP_MAPUNMAP_2M] = { "DMA map+unmap 2 MiB THP", 1000 },
	[OP_MAPUNMAP_64M] = { "DMA map+unmap 64 MiB 4K pages", 30 },
	[OP_MAPUNMAP_64M_THP] = { "DMA map+unmap 64 MiB THP", 60 },
	[OP_MAP_4K] = { "  map 4 KiB", 0 },
	[OP_UNMAP_4K] = { "  unmap 4 KiB", 0 },
	[OP_MAP_2M] = { "  map 2 MiB THP", 0 },
	[OP_UNMAP_2M] = { "  unmap 2 MiB THP", 0 },
	[OP_MAP_64M] = { "  map 64 MiB 4K pages", 0 },
	[OP_UNMAP_64M] = { "  unmap 64 MiB 4K pages", 0 },
	[OP_MAP_64M_THP] = { "  map 64 MiB THP", 0 },
	[OP_UNMAP_64M_THP] = { "  unmap 64 MiB THP", 0 },
	[OP_IRQ_SOFT] = { "MSI soft trigger -> eventfd", 10000 },
	[OP_IRQ_EDU] = { "MSI raised by edu -> eventfd", 5000 },
	[OP_CFG_READ] = { "config read (command, 2 B)", 10000 },
	[OP_BAR_READ] = { "BAR0 pread (4 B)", 10000 },
};

/* A sample set: every timed iteration, and where each round starts. */
struct samples {
	double *ns;
	unsigned int n, cap;
	unsigned int *round_start;
	bool failed;
};

struct dev;

struct drv_ops {
	const char *name;	/* the PCI driver's name in sysfs */
	int (*open)(struct dev *d);
	void (*close)(struct dev *d);
	int (*map)(struct dev *d, void *va, __u64 iova, __u64 len);
	int (*unmap)(struct dev *d, __u64 iova, __u64 len);
	int (*irq_trigger)(struct dev *d);
};

struct dev {
	const struct drv_ops *ops;
	const char *addr;
	int ctx;		/* pcipass context, or vfio container */
	int group;		/* vfio group */
	int fd;			/* device file */
	int efd;		/* MSI eventfd */
	int irq;		/* the Linux IRQ of the MSI, or -1 */
	__u64 extra_irqs;	/* eventfd signals beyond one per wait */
	void *bar;
	size_t bar_size;
	__u64 bar_off, cfg_off;
	struct samples s[NR_OP];
};

static const char *addr = "0000:00:03.0";
static unsigned int rounds = 10;
static double scale = 1.0;
static bool quiet;
static bool verbose;
static int bench_cpu;

static void note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "pcipass-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int fail(const char *what)
{
	int err = errno;

	fprintf(stderr, "pcipass-bench: %s: %s\n", what, strerror(err));
	return err ? -err : -EIO;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The watchdog of interrupt waits: only makes a blocked read() fail. */
static void on_alarm(int sig)
{
}

/* ---- sysfs --------------------------------------------------------------- */

static int write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

/* The name of a link's target, "" when there is no such link. */
static void link_name(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;
	size_t blen;

	buf[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	blen = strlen(base);
	if (blen >= len)
		return;
	memcpy(buf, base, blen + 1);
}

/* Bind the device to @drv ("" for no driver) through driver_override. */
static int bind_to(const char *drv)
{
	char path[PATH_MAX], cur[64];
	int ret, i;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver_override", addr);
	ret = write_file(path, *drv ? drv : "\n");
	if (ret)
		return ret;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", addr);
	link_name(path, cur, sizeof(cur));
	if (*cur && !strcmp(cur, drv))
		return 0;
	if (*cur) {
		snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver/unbind",
			 addr);
		ret = write_file(path, addr);
		if (ret)
			return ret;
	}
	if (!*drv)
		return 0;
	write_file("/sys/bus/pci/drivers_probe", addr);
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", addr);
	for (i = 0; i < 100; i++) {
		link_name(path, cur, sizeof(cur));
		if (!strcmp(cur, drv))
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "pcipass-bench: %s did not bind to %s (driver: %s)\n",
		addr, drv, *cur ? cur : "none");
	return -ENODEV;
}

/* The IRQ whose /proc/interrupts line names @pattern, or -1. */
static int find_irq(const char *pattern)
{
	char line[1024];
	int irq = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, pattern) && strstr(line, addr)) {
			irq = atoi(line);
			break;
		}
	}
	fclose(f);
	return irq;
}

/*
 * Deliver the device's MSI on the CPU the benchmark runs on, whichever
 * driver allocated it: a wake-up on another vCPU costs much more under
 * TCG, and the two drivers may be given different CPUs.
 */
static void pin_irq(struct dev *d, const char *pattern)
{
	char path[64], cpu[16];

	d->irq = find_irq(pattern);
	if (d->irq < 0) {
		note("%s: MSI not found in /proc/interrupts\n", d->ops->name);
		return;
	}
	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", d->irq);
	snprintf(cpu, sizeof(cpu), "%d", bench_cpu);
	if (write_file(path, cpu))
		note("%s: cannot move IRQ %d to CPU %d\n", d->ops->name,
		     d->irq, bench_cpu);
}

/* ---- memory -------------------------------------------------------------- */

struct buf {
	void *va;
	__u64 len;
	bool thp;
	unsigned long thp_kb;
};

/* AnonHugePages of the mapping that holds @va, in KiB. */
static unsigned long thp_kb(void *va)
{
	unsigned long start, end, kb, found = 0;
	unsigned long want = (unsigned long)va;
	bool in = false;
	char line[512];
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start <= want && want < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			found = kb;
	}
	fclose(f);
	return found;
}

static int buf_alloc(struct buf *b, __u64 len, bool thp)
{
	size_t span = len + (thp ? SZ_2M : 0);
	char *p;

	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	if (thp) {
		char *aligned = (char *)(((unsigned long)p + SZ_2M - 1) &
					 ~(SZ_2M - 1));

		if (aligned > p)
			munmap(p, aligned - p);
		munmap(aligned + len, p + span - (aligned + len));
		p = aligned;
	}
	if (madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		return fail("madvise");
	memset(p, 0x5a, len);
	b->va = p;
	b->len = len;
	b->thp = thp;
	b->thp_kb = thp_kb(p);
	return 0;
}

/* ---- pcipass ------------------------------------------------------------- */

static int pp_open(struct dev *d)
{
	struct pcipass_device_attach att = { .size = sizeof(att) };
	struct pcipass_region_info bar0 = { .size = sizeof(bar0) };
	struct pcipass_irq_set irq = { .size = sizeof(irq) };
	unsigned int seg, bus, slot, fn;
	__s32 efd;
	__u16 cmd;

	if (sscanf(d->addr, "%x:%x:%x.%x", &seg, &bus, &slot, &fn) != 4)
		return -EINVAL;
	d->ctx = open("/dev/pcipass", O_RDWR | O_CLOEXEC);
	if (d->ctx < 0)
		return fail("/dev/pcipass");
	att.addr = (struct pcipass_pci_addr) {
		.segment = seg, .bus = bus, .device = slot, .function = fn,
	};
	if (ioctl(d->ctx, PCIPASS_DEVICE_ATTACH, &att))
		return fail("PCIPASS_DEVICE_ATTACH");
	d->fd = att.out_device_fd;

	bar0.index = PCIPASS_REGION_BAR0;
	if (ioctl(d->fd, PCIPASS_DEVICE_GET_REGION_INFO, &bar0))
		return fail("PCIPASS_DEVICE_GET_REGION_INFO");
	d->bar_off = bar0.offset;
	d->bar_size = bar0.region_size;
	d->cfg_off = PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG);

	if (pread(d->fd, &cmd, 2, d->cfg_off + PCI_CMD) != 2)
		return fail("pcipass config read");
	cmd |= PCI_CMD_MASTER;
	if (pwrite(d->fd, &cmd, 2, d->cfg_off + PCI_CMD) != 2)
		return fail("pcipass bus master enable");

	efd = d->efd;
	irq.type = PCIPASS_IRQ_MSI;
	irq.count = 1;
	irq.flags = PCIPASS_IRQ_SET_ENABLE;
	if (ioctl(d->fd, PCIPASS_DEVICE_SET_IRQS, &irq))
		return fail("PCIPASS_IRQ_SET_ENABLE");
	irq.flags = PCIPASS_IRQ_SET_EVENTFD;
	irq.data = (__u64)(unsigned long)&efd;
	if (ioctl(d->fd, PCIPASS_DEVICE_SET_IRQS, &irq))
		return fail("PCIPASS_IRQ_SET_EVENTFD");
	pin_irq(d, "pcipass-msi");
	return 0;
}

static void pp_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->ctx >= 0)
		close(d->ctx);
}

static int pp_map(struct dev *d, void *va, __u64 iova, __u64 len)
{
	struct pcipass_dma_map map = {
		.size = sizeof(map),
		.flags = PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE,
		.user_va = (__u64)(unsigned long)va,
		.iova = iova,
		.length = len,
	};

	return ioctl(d->ctx, PCIPASS_DMA_MAP, &map);
}

static int pp_unmap(struct dev *d, __u64 iova, __u64 len)
{
	struct pcipass_dma_unmap unmap = {
		.size = sizeof(unmap),
		.iova = iova,
		.length = len,
	};

	return ioctl(d->ctx, PCIPASS_DMA_UNMAP, &unmap);
}

static int pp_irq_trigger(struct dev *d)
{
	struct pcipass_irq_set irq = {
		.size = sizeof(irq),
		.flags = PCIPASS_IRQ_SET_TRIGGER,
		.type = PCIPASS_IRQ_MSI,
		.count = 1,
	};

	return ioctl(d->fd, PCIPASS_DEVICE_SET_IRQS, &irq);
}

static const struct drv_ops pcipass_ops = {
	.name = "pcipass",
	.open = pp_open,
	.close = pp_close,
	.map = pp_map,
	.unmap = pp_unmap,
	.irq_trigger = pp_irq_trigger,
};

/* ---- vfio-pci (type1 container) ------------------------------------------ */

/* Enough room for struct vfio_irq_set and one eventfd. */
union vfio_irq_buf {
	struct vfio_irq_set set;
	char bytes[sizeof(struct vfio_irq_set) + sizeof(__s32)];
};

static int vfio_irq(struct dev *d, __u32 flags, int efd)
{
	union vfio_irq_buf buf = {};
	__s32 fd = efd;

	buf.set.argsz = sizeof(buf.set);
	buf.set.flags = flags;
	buf.set.index = VFIO_PCI_MSI_IRQ_INDEX;
	buf.set.start = 0;
	buf.set.count = 1;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		buf.set.argsz += sizeof(fd);
		memcpy(buf.set.data, &fd, sizeof(fd));
	}
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &buf.set);
}

static int vfio_open(struct dev *d)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	char path[PATH_MAX], group[32];
	__u16 cmd;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", d->addr);
	link_name(path, group, sizeof(group));
	if (!*group) {
		fprintf(stderr, "pcipass-bench: %s has no IOMMU group\n",
			d->addr);
		return -ENODEV;
	}
	d->ctx = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->ctx < 0)
		return fail("/dev/vfio/vfio");
	if (ioctl(d->ctx, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(d->ctx, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		fprintf(stderr, "pcipass-bench: no VFIO type1v2 IOMMU (vfio_iommu_type1?)\n");
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		return fail(path);
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &status))
		return fail("VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "pcipass-bench: VFIO group %s not viable\n",
			group);
		return -EPERM;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->ctx))
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(d->ctx, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("VFIO_SET_IOMMU");
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->addr);
	if (d->fd < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");

	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return fail("VFIO_DEVICE_GET_REGION_INFO BAR0");
	d->bar_off = reg.offset;
	d->bar_size = reg.size;
	reg.argsz = sizeof(reg);
	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return fail("VFIO_DEVICE_GET_REGION_INFO config");
	d->cfg_off = reg.offset;

	if (pread(d->fd, &cmd, 2, d->cfg_off + PCI_CMD) != 2)
		return fail("vfio config read");
	cmd |= PCI_CMD_MASTER;
	if (pwrite(d->fd, &cmd, 2, d->cfg_off + PCI_CMD) != 2)
		return fail("vfio bus master enable");

	if (vfio_irq(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		     d->efd))
		return fail("VFIO_DEVICE_SET_IRQS MSI eventfd");
	pin_irq(d, "vfio-msi");
	return 0;
}

static void vfio_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->ctx >= 0)
		close(d->ctx);
}

static int vfio_map(struct dev *d, void *va, __u64 iova, __u64 len)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (__u64)(unsigned long)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(d->ctx, VFIO_IOMMU_MAP_DMA, &map);
}

static int vfio_unmap(struct dev *d, __u64 iova, __u64 len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};

	return ioctl(d->ctx, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

static int vfio_irq_trigger(struct dev *d)
{
	return vfio_irq(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			-1);
}

static const struct drv_ops vfio_ops = {
	.name = "vfio-pci",
	.open = vfio_open,
	.close = vfio_close,
	.map = vfio_map,
	.unmap = vfio_unmap,
	.irq_trigger = vfio_irq_trigger,
};

/* ---- measurements -------------------------------------------------------- */

static unsigned int iters_of(enum op_id op)
{
	double n = ops[op].iters * scale;

	return n < 3 ? 3 : (unsigned int)n;
}

static unsigned int warmup_of(enum op_id op)
{
	unsigned int n = iters_of(op) / 10;

	return n < 2 ? 2 : n;
}

static void sample(struct samples *s, double ns)
{
	if (s->n < s->cap)
		s->ns[s->n++] = ns;
}

static __u32 rd32(struct dev *d, unsigned int off)
{
	return __atomic_load_n((__u32 *)((char *)d->bar + off),
			       __ATOMIC_ACQUIRE);
}

static void wr32(struct dev *d, unsigned int off, __u32 v)
{
	__atomic_store_n((__u32 *)((char *)d->bar + off), v, __ATOMIC_RELEASE);
}

/* The separate map and unmap rows of a map+unmap row. */
static enum op_id map_op(enum op_id both)
{
	return OP_MAP_4K + 2 * (both - OP_MAPUNMAP_4K);
}

static enum op_id unmap_op(enum op_id both)
{
	return map_op(both) + 1;
}

/*
 * Pages pinned with FOLL_PIN in the whole system, from /proc/vmstat once
 * the per-CPU deltas are folded in; -1 when unknown.
 */
static long long foll_pins(void)
{
	long long acquired = -1, released = -1, v;
	char line[128];
	FILE *f;

	if (write_file("/proc/sys/vm/stat_refresh", "1"))
		return -1;
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nr_foll_pin_acquired %lld", &v) == 1)
			acquired = v;
		else if (sscanf(line, "nr_foll_pin_released %lld", &v) == 1)
			released = v;
	}
	fclose(f);
	return acquired < 0 || released < 0 ? -1 : acquired - released;
}

/*
 * One untimed map and unmap of @b that checks that the driver pins every
 * page of it, and unpins them all: the two drivers do the same work.
 */
static int check_pins(struct dev *d, struct buf *b)
{
	long long before, mapped, after;

	before = foll_pins();
	if (d->ops->map(d, b->va, IOVA_BASE, b->len))
		return fail("DMA map");
	mapped = foll_pins();
	if (d->ops->unmap(d, IOVA_BASE, b->len))
		return fail("DMA unmap");
	after = foll_pins();
	if (before < 0 || (mapped - before == (long long)(b->len / SZ_4K) &&
			   after == before))
		return 0;
	fprintf(stderr, "pcipass-bench: %s: %llu KiB: map pinned %lld pages, unmap left %lld\n",
		d->ops->name, (unsigned long long)b->len / 1024, mapped - before,
		after - before);
	return -EIO;
}

/* Map and unmap @b: warm-up, then the timed iterations. */
static int bench_dma(struct dev *d, struct buf *b, enum op_id both)
{
	unsigned int i, warm = warmup_of(both), n = iters_of(both);
	enum op_id map = map_op(both), unmap = unmap_op(both);
	double t0, t1, t2;

	if (check_pins(d, b))
		return -EIO;

	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		if (d->ops->map(d, b->va, IOVA_BASE, b->len))
			return fail("DMA map");
		t1 = now_ns();
		if (d->ops->unmap(d, IOVA_BASE, b->len))
			return fail("DMA unmap");
		t2 = now_ns();
		if (i < warm)
			continue;
		sample(&d->s[both], t2 - t0);
		sample(&d->s[map], t1 - t0);
		sample(&d->s[unmap], t2 - t1);
	}
	return 0;
}

/* Wait for one interrupt; more than one at once is an anomaly. */
static int wait_eventfd(struct dev *d)
{
	__u64 cnt;

	if (read(d->efd, &cnt, sizeof(cnt)) == sizeof(cnt)) {
		if (cnt != 1)
			d->extra_irqs += cnt - 1;
		return 0;
	}
	if (errno == EINTR)
		fprintf(stderr, "pcipass-bench: %s: interrupt lost (no eventfd signal in %d s)\n",
			d->ops->name, IRQ_WATCHDOG);
	else
		fail("eventfd read");
	return -EIO;
}

static int bench_irq_soft(struct dev *d)
{
	unsigned int i, warm = warmup_of(OP_IRQ_SOFT), n = iters_of(OP_IRQ_SOFT);
	double t0;
	int ret = 0;

	alarm(IRQ_WATCHDOG);
	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		if (d->ops->irq_trigger(d)) {
			ret = fail("MSI trigger");
			break;
		}
		ret = wait_eventfd(d);
		if (ret)
			break;
		if (i >= warm)
			sample(&d->s[OP_IRQ_SOFT], now_ns() - t0);
	}
	alarm(0);
	return ret;
}

static int bench_irq_edu(struct dev *d)
{
	unsigned int i, warm = warmup_of(OP_IRQ_EDU), n = iters_of(OP_IRQ_EDU);
	double t0;
	int ret = 0;

	alarm(IRQ_WATCHDOG);
	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		wr32(d, EDU_IRQ_RAISE, 0x1);
		ret = wait_eventfd(d);
		if (ret)
			break;
		if (i >= warm)
			sample(&d->s[OP_IRQ_EDU], now_ns() - t0);
		wr32(d, EDU_IRQ_ACK, 0x1);
	}
	alarm(0);
	return ret;
}

static int bench_pread(struct dev *d, enum op_id op, __u64 off, size_t len)
{
	unsigned int i, warm = warmup_of(op), n = iters_of(op);
	__u32 val;
	double t0;

	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		if (pread(d->fd, &val, len, off) != (ssize_t)len)
			return fail("pread");
		if (i >= warm)
			sample(&d->s[op], now_ns() - t0);
	}
	return 0;
}

static void mark_failed(struct dev *d, enum op_id first, enum op_id last)
{
	enum op_id op;

	for (op = first; op <= last; op++)
		d->s[op].failed = true;
}

static struct buf buf_4k, buf_2m, buf_64m, buf_64m_thp;
/* The buffer of each map+unmap row, in &enum op_id order. */
static struct buf * const dma_bufs[] = {
	&buf_4k, &buf_2m, &buf_64m, &buf_64m_thp,
};

/* One round of every operation through one driver. */
static int bench_round(struct dev *d, unsigned int round)
{
	int errors = 0;
	int op, ret;

	for (op = 0; op < NR_OP; op++)
		d->s[op].round_start[round] = d->s[op].n;

	d->efd = eventfd(0, EFD_CLOEXEC);
	d->ctx = -1;
	d->group = -1;
	d->fd = -1;
	d->irq = -1;
	d->bar = MAP_FAILED;
	if (d->efd < 0)
		return fail("eventfd");
	ret = bind_to(d->ops->name);
	if (!ret)
		ret = d->ops->open(d);
	if (!ret) {
		d->bar = mmap(NULL, d->bar_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, d->fd, d->bar_off);
		if (d->bar == MAP_FAILED)
			ret = fail("mmap BAR0");
		else if (rd32(d, EDU_ID) != 0x010000ed)
			note("%s: edu ID register reads 0x%08x\n",
			     d->ops->name, rd32(d, EDU_ID));
	}
	if (ret) {
		fprintf(stderr, "pcipass-bench: %s: setup failed, round %u skipped\n",
			d->ops->name, round);
		mark_failed(d, 0, NR_OP - 1);
		errors++;
		goto out;
	}
	note("round %u: %s (MSI IRQ %d)\n", round, d->ops->name, d->irq);

	for (op = OP_MAPUNMAP_4K; op <= OP_MAPUNMAP_64M_THP; op++) {
		struct buf *b = dma_bufs[op - OP_MAPUNMAP_4K];

		if (bench_dma(d, b, op)) {
			d->s[op].failed = true;
			d->s[map_op(op)].failed = true;
			d->s[unmap_op(op)].failed = true;
			errors++;
			/* Whatever the failed iteration left mapped. */
			d->ops->unmap(d, IOVA_BASE, b->len);
		}
	}

	if (bench_irq_soft(d)) {
		mark_failed(d, OP_IRQ_SOFT, OP_IRQ_SOFT);
		errors++;
	}
	if (bench_irq_edu(d)) {
		mark_failed(d, OP_IRQ_EDU, OP_IRQ_EDU);
		errors++;
	}
	if (bench_pread(d, OP_CFG_READ, d->cfg_off + PCI_CMD, 2)) {
		mark_failed(d, OP_CFG_READ, OP_CFG_READ);
		errors++;
	}
	if (bench_pread(d, OP_BAR_READ, d->bar_off + EDU_ID, 4)) {
		mark_failed(d, OP_BAR_READ, OP_BAR_READ);
		errors++;
	}
	if (d->extra_irqs) {
		fprintf(stderr, "pcipass-bench: %s: %llu eventfd signals too many\n",
			d->ops->name, (unsigned long long)d->extra_irqs);
		errors++;
	}
out:
	if (d->bar != MAP_FAILED)
		munmap(d->bar, d->bar_size);
	d->ops->close(d);
	close(d->efd);
	return errors;
}

/* ---- statistics and the table -------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile (0..1) of @n sorted values, interpolated. */
static double quantile(const double *v, unsigned int n, double q)
{
	double pos = q * (n - 1);
	unsigned int i = (unsigned int)pos;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

struct stats {
	double med, p25, p75;
	unsigned int n;
};

static bool stats_of(const double *v, unsigned int n, struct stats *st)
{
	double *sorted;

	st->n = n;
	if (!n)
		return false;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return false;
	memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	st->med = quantile(sorted, n, 0.5);
	st->p25 = quantile(sorted, n, 0.25);
	st->p75 = quantile(sorted, n, 0.75);
	free(sorted);
	return true;
}

/* The median of round @r of @s. */
static bool round_median(const struct samples *s, unsigned int r, double *med)
{
	unsigned int from = s->round_start[r];
	unsigned int to = r + 1 < rounds ? s->round_start[r + 1] : s->n;
	struct stats st;

	if (!stats_of(s->ns + from, to - from, &st))
		return false;
	*med = st.med;
	return true;
}

/* A time in ns, printed in us (or ms) with 3 significant digits or so. */
static void fmt_time(char *out, size_t len, double ns)
{
	double us = ns / 1000;

	if (us >= 10000)
		snprintf(out, len, "%.1f ms", us / 1000);
	else if (us >= 1000)
		snprintf(out, len, "%.2f ms", us / 1000);
	else if (us >= 100)
		snprintf(out, len, "%.0f us", us);
	else if (us >= 10)
		snprintf(out, len, "%.1f us", us);
	else
		snprintf(out, len, "%.2f us", us);
}

/* "median (IQR +-x%)" of one driver, or "error". */
static void fmt_cell(char *out, size_t len, const struct samples *s,
		     struct stats *st)
{
	char med[32];

	if (s->failed || !stats_of(s->ns, s->n, st)) {
		snprintf(out, len, "error");
		st->n = 0;
		return;
	}
	fmt_time(med, sizeof(med), st->med);
	snprintf(out, len, "%s (IQR %.0f%%)", med,
		 st->med > 0 ? 100 * (st->p75 - st->p25) / st->med : 0);
}

/*
 * The ratio of an operation: in every round, the pcipass median over the
 * vfio-pci median of that round; their median goes in @st (p25 and p75
 * are the lowest and the highest). Pairing by round keeps a disturbance
 * of the host that spans a few rounds out of the ratio. False when no
 * round has both medians.
 */
static bool round_ratios(struct dev *pp, struct dev *vf, enum op_id op,
			 struct stats *st)
{
	double ratio[100], ma, mb;
	unsigned int r, n = 0;

	for (r = 0; r < rounds && r < 100; r++) {
		if (!round_median(&pp->s[op], r, &ma) ||
		    !round_median(&vf->s[op], r, &mb) || mb <= 0)
			continue;
		ratio[n++] = ma / mb;
	}
	if (!stats_of(ratio, n, st))
		return false;
	qsort(ratio, n, sizeof(*ratio), cmp_double);
	st->p25 = ratio[0];
	st->p75 = ratio[n - 1];
	return true;
}

static void print_table(struct dev *pp, struct dev *vf)
{
	struct stats sa, sb, sr;
	char a[64], b[64];
	int op;

	printf("%-31s %-22s %-22s %6s  %s\n", "operation", "pcipass median",
	       "vfio-pci median", "ratio", "range over rounds");
	for (op = 0; op < NR_OP; op++) {
		if (op == OP_MAP_4K)
			printf("DMA map and unmap, separately:\n");
		if (op == OP_IRQ_SOFT)
			printf("\n");
		fmt_cell(a, sizeof(a), &pp->s[op], &sa);
		fmt_cell(b, sizeof(b), &vf->s[op], &sb);
		if (sa.n && sb.n && round_ratios(pp, vf, op, &sr))
			printf("%-31s %-22s %-22s %6.2f  %.2f-%.2f\n",
			       ops[op].name, a, b, sr.med, sr.p25, sr.p75);
		else
			printf("%-31s %-22s %-22s %6s\n", ops[op].name, a, b,
			       "-");
	}
}

/* With -v: pcipass, vfio-pci and the ratio of every round, on stderr. */
static void print_rounds(struct dev *pp, struct dev *vf)
{
	char a[32], b[32];
	double ma, mb;
	unsigned int r;
	int op;

	for (op = 0; op < NR_OP; op++) {
		for (r = 0; r < rounds; r++) {
			if (pp->s[op].failed || vf->s[op].failed ||
			    !round_median(&pp->s[op], r, &ma) ||
			    !round_median(&vf->s[op], r, &mb) || mb <= 0)
				continue;
			fmt_time(a, sizeof(a), ma);
			fmt_time(b, sizeof(b), mb);
			fprintf(stderr, "pcipass-bench: round %u: %-31s %-9s %-9s %.2f\n",
				r, ops[op].name, a, b, ma / mb);
		}
	}
}

static int samples_init(struct dev *d)
{
	int op;

	for (op = 0; op < NR_OP; op++) {
		struct samples *s = &d->s[op];
		enum op_id base = op;

		/* A separate map or unmap row: as many as map+unmap. */
		if (op >= OP_MAP_4K && op <= OP_UNMAP_64M_THP)
			base = OP_MAPUNMAP_4K + (op - OP_MAP_4K) / 2;
		s->cap = iters_of(base) * rounds;
		s->ns = calloc(s->cap, sizeof(*s->ns));
		s->round_start = calloc(rounds, sizeof(*s->round_start));
		if (!s->ns || !s->round_start)
			return -ENOMEM;
	}
	return 0;
}

static void bad_usage(void)
{
	fprintf(stderr, "usage: pcipass_bench [-d BDF] [-r ROUNDS] [-s SCALE] [-q] [-v]\n");
	exit(2);
}

static void print_header(void)
{
	char clocksource[64] = "?", thp[128] = "?";
	struct utsname u;

	uname(&u);
	read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  clocksource, sizeof(clocksource));
	read_file("/sys/kernel/mm/transparent_hugepage/enabled", thp,
		  sizeof(thp));
	printf("pcipass vs vfio-pci on %s, kernel %s, %ld CPUs, clocksource %s\n",
	       addr, u.release, sysconf(_SC_NPROCESSORS_ONLN), clocksource);
	printf("%u rounds (driver order alternating), scale %.2f, ",
	       rounds, scale);
	printf("CPU %d runs the benchmark and takes the MSI\n", bench_cpu);
	printf("THP %s; huge KiB in the buffers: 2 MiB THP %lu, ", thp,
	       buf_2m.thp_kb);
	printf("64 MiB THP %lu, 64 MiB 4K %lu\n", buf_64m_thp.thp_kb,
	       buf_64m.thp_kb);
	printf("timed iterations per round and driver: map+unmap %u/%u/%u/%u, ",
	       iters_of(OP_MAPUNMAP_4K), iters_of(OP_MAPUNMAP_2M),
	       iters_of(OP_MAPUNMAP_64M), iters_of(OP_MAPUNMAP_64M_THP));
	printf("MSI %u/%u, reads %u/%u\n", iters_of(OP_IRQ_SOFT),
	       iters_of(OP_IRQ_EDU), iters_of(OP_CFG_READ),
	       iters_of(OP_BAR_READ));
	printf("median and IQR ((p75 - p25) / median) over all rounds; ratio: median over ");
	printf("the rounds of pcipass / vfio-pci in the round (< 1: pcipass faster)\n\n");
}

int main(int argc, char **argv)
{
	static struct dev pp = { .ops = &pcipass_ops };
	static struct dev vf = { .ops = &vfio_ops };
	struct sigaction sa = { .sa_handler = on_alarm };
	const char *env = getenv("PCIPASS_EDU");
	int errors = 0;
	cpu_set_t cpus;
	unsigned int r;
	int opt;

	if (env && *env)
		addr = env;
	while ((opt = getopt(argc, argv, "d:r:s:qv")) != -1) {
		switch (opt) {
		case 'd':
			addr = optarg;
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			break;
		case 's':
			scale = strtod(optarg, NULL);
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc || !rounds || rounds > 100 || scale <= 0)
		bad_usage();
	pp.addr = addr;
	vf.addr = addr;

	/* No SA_RESTART: the watchdog interrupts a blocked read(). */
	sigaction(SIGALRM, &sa, NULL);
	bench_cpu = sched_getcpu();
	if (bench_cpu < 0)
		bench_cpu = 0;
	CPU_ZERO(&cpus);
	CPU_SET(bench_cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		note("cannot pin to CPU %d\n", bench_cpu);

	if (samples_init(&pp) || samples_init(&vf))
		return fail("calloc");
	if (buf_alloc(&buf_4k, SZ_4K, false) ||
	    buf_alloc(&buf_2m, SZ_2M, true) ||
	    buf_alloc(&buf_64m, SZ_64M, false) ||
	    buf_alloc(&buf_64m_thp, SZ_64M, true))
		return 1;

	for (r = 0; r < rounds; r++) {
		/* P V, V P, P V...: each driver goes first in half the rounds. */
		bool pp_first = !(r % 2);

		errors += bench_round(pp_first ? &pp : &vf, r);
		errors += bench_round(pp_first ? &vf : &pp, r);
	}
	bind_to("");

	if (verbose)
		print_rounds(&pp, &vf);
	print_header();
	print_table(&pp, &vf);
	if (errors)
		printf("\n%d failure(s): see the messages of pcipass-bench\n",
		       errors);
	return errors ? 1 : 0;
}
