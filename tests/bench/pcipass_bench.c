// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass_bench: the same operations through pcipass, through the kernel's
 * vfio-pci with the legacy VFIO type1 container API, and through vfio-pci
 * over iommufd (the VFIO device cdev), on one device, in one boot,
 * reported side by side as ratios.
 *
 * The device (QEMU's edu, 1234:11e8) is bound to pcipass and to vfio-pci in
 * turn through driver_override and drivers_probe. Each round measures every
 * operation through every stack; the order of the stacks turns from round
 * to round (and reverses every other round) so that a slow drift of the
 * host cancels out. Each block of an operation starts with untimed warm-up
 * iterations.
 *
 * Operations: DMA map and unmap of 4 KiB, 2 MiB (4 KiB pages, and one THP)
 * and 64 MiB (4 KiB pages, and THP); 1 GiB (a VM's RAM) of 4 KiB pages not
 * prefaulted and prefaulted, of THP and of 2 MiB hugetlbfs pages, in one
 * call and in 2 MiB calls; attach (open to ready for DMA) and detach; a
 * software-triggered MSI from the ioctl to the return of read() on its
 * eventfd; a real MSI raised by edu (write 0x60 in BAR0 through the
 * device's mmap, read() the eventfd, then ack at 0x64 outside the timed
 * part); pread() of the command register through the config region;
 * pread() of a BAR0 register through the device file. Beside them: the
 * floor, long-term pinning of the same 1 GiB alone (the kernel's gup_test,
 * PIN_LONGTERM_BENCHMARK), when the kernel has it, in one thread and split
 * among a thread per CPU (how far this machine lets pinning scale); pcipass
 * with one pinning worker, when the module has a worker parameter; a map of
 * a memfd by file descriptor, when pcipass reports
 * PCIPASS_FEATURE_DMA_MAP_FILE; and the kernel memory each stack holds per
 * pinned 4 KiB page while 1 GiB is mapped (slab, vmalloc and IOMMU
 * page-table pages, from /proc/meminfo and /proc/vmstat).
 *
 * Run as root, with pcipass, vfio-pci and vfio_iommu_type1 loaded (and
 * iommufd, for the third stack) and the device bound to none of them:
 * pcipass_bench [-d SSSS:BB:DD.F] [-r ROUNDS] [-s SCALE] [-w PARAM] [-q] [-v]
 * (-w: the module parameter of pcipass's pinning workers, found by name
 * otherwise; -q: no progress messages; -v: the medians of every round on
 * stderr). Prints the tables (markdown) on stdout, and on stderr lines
 * "pcipass-bench: plot: STACK SERIES BYTES NS" for the plot of map time
 * against size; exits non-zero when an operation failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
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
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/pcipass.h>
#include <linux/vfio.h>

/*
 * iommufd and the VFIO device cdev: from the 6.12 UAPI headers (Debian 12's
 * linux-libc-dev is 6.1), which `make bench` builds from linux-source-6.12
 * and names in BENCH_UAPI_6_12; without them the third stack is left out.
 */
#ifdef BENCH_UAPI_6_12
#include <linux/iommufd.h>
#endif
#if defined(IOMMU_IOAS_MAP) && defined(VFIO_DEVICE_BIND_IOMMUFD)
#define HAVE_IOMMUFD 1
#else
#define HAVE_IOMMUFD 0
#endif

/*
 * The kernel's GUP benchmark: mm/gup_test.h of the kernel source, when the
 * Makefile found it (BENCH_GUP_TEST).
 */
#ifdef BENCH_GUP_TEST
#include <mm/gup_test.h>
#define HAVE_GUP_TEST 1
/* include/linux/mm_types.h: FOLL_WRITE = 1 << 0 (not UAPI) */
#define GUP_FOLL_WRITE	0x01
#else
#define HAVE_GUP_TEST 0
#endif
#define GUP_TEST_FILE	"/sys/kernel/debug/gup_test"

#define SYSFS_PCI	"/sys/bus/pci/devices"
#define PCIPASS_PARAMS	"/sys/module/pcipass/parameters"
#define IOVA_BASE	0x40000000ULL
/* The memory probes map at IOVAs nothing else used in the domain. */
#define IOVA_PROBE	0x100000000ULL
#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_64M		0x4000000ULL
#define SZ_1G		0x40000000ULL
#define EDU_ID		0x00
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define PCI_CMD		0x04
#define PCI_CMD_MASTER	0x4
/* Seconds a block of interrupts may take before it counts as lost. */
#define IRQ_WATCHDOG	60
#define MAX_ROUNDS	100
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The stacks. PCIPASS_W1 is pcipass with its pinning worker parameter at 1
 * (run for the DMA rows of 4 KiB pages only), FLOOR the kernel's own
 * long-term pinning alone (gup_test: its "map" is the pin, its "unmap" the
 * unpin, as the kernel timed them; 1 GiB rows in one call only), FLOOR_CPUS
 * the same pinning split among one thread per CPU at once (1 GiB rows of
 * 4 KiB pages in one call only): how far this machine lets pinning scale.
 */
enum drv_id { DRV_PCIPASS, DRV_TYPE1, DRV_IOMMUFD, DRV_PCIPASS_W1, DRV_FLOOR,
	      DRV_FLOOR_CPUS, NR_DRV };

static const char * const drv_names[NR_DRV] = {
	[DRV_PCIPASS] = "pcipass",
	[DRV_TYPE1] = "vfio type1",
	[DRV_IOMMUFD] = "iommufd",
	[DRV_PCIPASS_W1] = "pcipass, 1 worker",
	[DRV_FLOOR] = "pin only (gup_test)",
	[DRV_FLOOR_CPUS] = "pin only, a thread per CPU (gup_test)",
};

/* The backings of the 1 GiB rows, and how they are mapped. */
enum big_backing { BIG_4K_COLD, BIG_4K, BIG_THP, BIG_HUGETLB, NR_BIG_BACKING };
enum big_calls { CALLS_ONE, CALLS_2M, NR_CALLS };
/* map+unmap, map, unmap: the three rows of every DMA size. */
enum dma_part { PART_BOTH, PART_MAP, PART_UNMAP, NR_PART };

static const char * const backing_names[NR_BIG_BACKING] = {
	[BIG_4K_COLD] = "4K pages, not prefaulted",
	[BIG_4K] = "4K pages, prefaulted",
	[BIG_THP] = "THP",
	[BIG_HUGETLB] = "hugetlbfs 2 MiB",
};

/* The memory probes: what is mapped while the counters are read. */
enum mem_probe { MEM_4K, MEM_4K_2M, MEM_THP, MEM_HUGETLB, NR_MEM_PROBE };
/* What each probe reports, in bytes per pinned 4 KiB page. */
enum mem_value { MEMV_KERNEL, MEMV_IOMMU, NR_MEMV };

static const char * const probe_names[NR_MEM_PROBE] = {
	[MEM_4K] = "4K pages, one call",
	[MEM_4K_2M] = "4K pages, 2 MiB calls",
	[MEM_THP] = "THP, one call",
	[MEM_HUGETLB] = "hugetlbfs 2 MiB, one call",
};

static const char * const memv_names[NR_MEMV] = {
	[MEMV_KERNEL] = "slab + vmalloc",
	[MEMV_IOMMU] = "IOMMU page tables",
};

/* The small DMA sizes, in &enum op_id order of their map+unmap rows. */
enum small_dma { SM_4K, SM_2M_4K, SM_2M, SM_64M, SM_64M_THP, NR_SMALL };

#define OP_DMA(sm, part)	((sm) * NR_PART + (part))
#define OP_BIG(b, c, part)	(OP_BIG_FIRST + ((b) * NR_CALLS + (c)) * NR_PART + (part))
#define OP_MEMFD(byfd, part)	(OP_MEMFD_FIRST + (byfd) * NR_PART + (part))
#define OP_MEM(p, v)		(OP_MEM_FIRST + (p) * NR_MEMV + (v))

enum op_id {
	/* OP_DMA(SM_*, PART_*) */
	OP_IRQ_SOFT = NR_SMALL * NR_PART,
	OP_IRQ_EDU, OP_CFG_READ, OP_BAR_READ, OP_ATTACH, OP_DETACH,
	OP_BIG_FIRST,
	/* OP_BIG(BIG_*, CALLS_*, PART_*) */
	OP_MEMFD_FIRST = OP_BIG_FIRST + NR_BIG_BACKING * NR_CALLS * NR_PART,
	/* OP_MEMFD(by fd?, PART_*) */
	OP_MEM_FIRST = OP_MEMFD_FIRST + 2 * NR_PART,
	/* OP_MEM(MEM_*, MEMV_*): bytes per page, not times */
	NR_OP = OP_MEM_FIRST + NR_MEM_PROBE * NR_MEMV,
};

struct small_desc {
	const char *name;
	__u64 len;
	bool thp;
	unsigned int iters;	/* timed map+unmap pairs per round, at scale 1 */
};

static const struct small_desc small_dma[NR_SMALL] = {
	[SM_4K] = { "4 KiB", SZ_4K, false, 3000 },
	[SM_2M_4K] = { "2 MiB 4K pages", SZ_2M, false, 300 },
	[SM_2M] = { "2 MiB THP", SZ_2M, true, 1000 },
	[SM_64M] = { "64 MiB 4K pages", SZ_64M, false, 30 },
	[SM_64M_THP] = { "64 MiB THP", SZ_64M, true, 60 },
};

struct op_desc {
	const char *name;
	unsigned int iters;	/* timed iterations per round, at scale 1 */
};

static const struct op_desc misc_ops[] = {
	[OP_IRQ_SOFT - OP_IRQ_SOFT] = { "MSI soft trigger (SET_IRQS) -> eventfd", 10000 },
	[OP_IRQ_EDU - OP_IRQ_SOFT] = { "MSI raised by edu -> eventfd", 5000 },
	[OP_CFG_READ - OP_IRQ_SOFT] = { "config read (command, 2 B)", 10000 },
	[OP_BAR_READ - OP_IRQ_SOFT] = { "BAR0 pread (4 B)", 10000 },
	[OP_ATTACH - OP_IRQ_SOFT] = { "attach (open to ready for DMA)", 20 },
	[OP_DETACH - OP_IRQ_SOFT] = { "detach (close)", 20 },
};

/* Timed iterations of the 1 GiB rows per round, at scale 1 (warm-up: 1). */
static const unsigned int big_iters[NR_BIG_BACKING] = {
	[BIG_4K_COLD] = 1, [BIG_4K] = 2, [BIG_THP] = 3, [BIG_HUGETLB] = 3,
};

/* A sample set: every timed iteration, and where each round starts. */
struct samples {
	double *v;		/* ns, or bytes per page for OP_MEM */
	unsigned int n, cap;
	unsigned int round_start[MAX_ROUNDS];
	bool failed;
};

static struct samples S[NR_OP][NR_DRV];

struct dev;

struct drv_ops {
	const char *driver;	/* the PCI driver's name in sysfs */
	int (*attach)(struct dev *d);	/* open to ready for DMA */
	int (*setup)(struct dev *d);	/* BAR0, bus master, MSI on d->efd */
	void (*detach)(struct dev *d);
	int (*map)(struct dev *d, void *va, __u64 iova, __u64 len);
	int (*unmap)(struct dev *d, __u64 iova, __u64 len);
	int (*irq_trigger)(struct dev *d);
};

struct dev {
	enum drv_id id;
	const struct drv_ops *ops;
	bool available;
	int ctx;		/* pcipass context, vfio container, or iommufd */
	int group;		/* vfio group */
	int fd;			/* device file */
	__u32 ioas;		/* iommufd IOAS */
	int efd;		/* MSI eventfd */
	int irq;		/* the Linux IRQ of the MSI, or -1 */
	__u64 extra_irqs;	/* eventfd signals beyond one per wait */
	void *bar;
	size_t bar_size;
	__u64 bar_off, cfg_off;
};

static const char *addr = "0000:00:03.0";
static unsigned int rounds = 4;
static double scale = 1.0;
static bool quiet;
static bool verbose;
static int bench_cpu;
/* pcipass's worker parameter (path), its value at start, or "" */
static char workers_param[PATH_MAX];
static char workers_default[32];
static __u64 pp_features;
static bool have_hugetlb;

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

/* The per-CPU counts of @irq in /proc/interrupts, in @out ("?" if none). */
static void irq_counts(int irq, char *out, size_t len)
{
	char line[1024], *p, *end;
	size_t n = 0;
	FILE *f;

	snprintf(out, len, "?");
	f = fopen("/proc/interrupts", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		p = line;
		if (strtol(p, &end, 10) != irq || end == p || *end != ':')
			continue;
		/* The columns of digits after "N:", one per CPU. */
		for (p = end + 1;; p = end) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p || n + 24 > len)
				break;
			n += snprintf(out + n, len - n, "%s%lu", n ? " " : "", v);
		}
		break;
	}
	fclose(f);
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
		note("%s: MSI not found in /proc/interrupts\n", drv_names[d->id]);
		return;
	}
	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", d->irq);
	snprintf(cpu, sizeof(cpu), "%d", bench_cpu);
	if (write_file(path, cpu))
		note("%s: cannot move IRQ %d to CPU %d\n", drv_names[d->id],
		     d->irq, bench_cpu);
}

/*
 * The name of the first entry of directory @dir whose name starts with
 * @word (or, with @anywhere, has it anywhere), in @buf.
 */
static bool dir_entry(const char *dir, const char *word, bool anywhere,
		      char *buf, size_t len)
{
	struct dirent *e;
	bool found = false;
	const char *at;
	DIR *dp;

	dp = opendir(dir);
	if (!dp)
		return false;
	while ((e = readdir(dp))) {
		at = strstr(e->d_name, word);
		if (!at || (!anywhere && at != e->d_name) ||
		    strlen(e->d_name) >= len)
			continue;
		memcpy(buf, e->d_name, strlen(e->d_name) + 1);
		found = true;
		break;
	}
	closedir(dp);
	return found;
}

/*
 * pcipass's module parameter of the pinning workers: @name, or the first
 * one whose name has "worker" in it. Needs to be writable (0644): the
 * benchmark sets it to 1 for DRV_PCIPASS_W1 and back.
 */
static void find_workers_param(const char *name)
{
	char found[NAME_MAX + 1] = "";

	if (name && *name)
		snprintf(found, sizeof(found), "%s", name);
	else
		dir_entry(PCIPASS_PARAMS, "worker", true, found, sizeof(found));
	if (!*found) {
		note("pcipass has no worker parameter: no 1-worker rows\n");
		return;
	}
	snprintf(workers_param, sizeof(workers_param), PCIPASS_PARAMS "/%s",
		 found);
	if (read_file(workers_param, workers_default, sizeof(workers_default)) ||
	    access(workers_param, W_OK)) {
		note("%s cannot be read and written: no 1-worker rows\n",
		     workers_param);
		workers_param[0] = '\0';
	}
}

static int set_workers(const char *val)
{
	int ret = write_file(workers_param, val);

	if (ret) {
		errno = -ret;
		return fail(workers_param);
	}
	return 0;
}

/* ---- memory -------------------------------------------------------------- */

enum buf_kind { BUF_4K, BUF_4K_COLD, BUF_THP, BUF_HUGETLB, BUF_MEMFD };

struct buf {
	void *va;
	__u64 len;
	enum buf_kind kind;
	int memfd;		/* BUF_MEMFD: the file, or -1 */
	unsigned long huge_kb;	/* AnonHugePages + Private_Hugetlb */
};

/* AnonHugePages and hugetlb memory of the mapping that holds @va, in KiB. */
static unsigned long huge_kb(void *va)
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
		if (in && (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1 ||
			   sscanf(line, "Private_Hugetlb: %lu kB", &kb) == 1))
			found += kb;
	}
	fclose(f);
	return found;
}

/*
 * @len bytes of @kind at a 2 MiB aligned address: touched (every page
 * present) unless BUF_4K_COLD. A negative errno when the memory is not
 * there (no hugetlbfs pages reserved, say), with a message.
 */
static int buf_alloc(struct buf *b, __u64 len, enum buf_kind kind)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t span = len + SZ_2M;
	char *p, *aligned;

	b->memfd = -1;
	if (kind == BUF_HUGETLB) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap of hugetlbfs 2 MiB pages (hugepages=?)");
		aligned = p;
	} else if (kind == BUF_MEMFD) {
		b->memfd = memfd_create("pcipass-bench", MFD_CLOEXEC);
		if (b->memfd < 0)
			return fail("memfd_create");
		if (ftruncate(b->memfd, len))
			return fail("ftruncate of the memfd");
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 b->memfd, 0);
		if (p == MAP_FAILED)
			return fail("mmap of the memfd");
		aligned = p;
	} else {
		p = mmap(NULL, span, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap");
		aligned = (char *)(((unsigned long)p + SZ_2M - 1) & ~(SZ_2M - 1));
		if (aligned > p)
			munmap(p, aligned - p);
		munmap(aligned + len, p + span - (aligned + len));
		if (madvise(aligned, len,
			    kind == BUF_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
			return fail("madvise");
	}
	if (kind != BUF_4K_COLD)
		memset(aligned, 0x5a, len);
	b->va = aligned;
	b->len = len;
	b->kind = kind;
	b->huge_kb = kind == BUF_4K_COLD ? 0 : huge_kb(aligned);
	return 0;
}

static void buf_free(struct buf *b)
{
	if (b->va)
		munmap(b->va, b->len);
	if (b->memfd >= 0)
		close(b->memfd);
	b->va = NULL;
	b->memfd = -1;
}

/* ---- pcipass ------------------------------------------------------------- */

static int pp_attach(struct dev *d)
{
	struct pcipass_device_attach att = { .size = sizeof(att) };
	unsigned int seg, bus, slot, fn;

	if (sscanf(addr, "%x:%x:%x.%x", &seg, &bus, &slot, &fn) != 4)
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
	return 0;
}

static int pp_setup(struct dev *d)
{
	struct pcipass_region_info bar0 = { .size = sizeof(bar0) };
	struct pcipass_irq_set irq = { .size = sizeof(irq) };
	__s32 efd = d->efd;
	__u16 cmd;

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

static void close_fds(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->ctx >= 0)
		close(d->ctx);
	d->fd = -1;
	d->group = -1;
	d->ctx = -1;
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

/* Map @len bytes of the memfd @fd from its start, by file, not address. */
static int pp_map_file(struct dev *d, int fd, __u64 iova, __u64 len)
{
	struct pcipass_dma_map map = {
		.size = sizeof(map),
		.flags = PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE |
			 PCIPASS_DMA_MAP_FILE,
		.iova = iova,
		.length = len,
		.fd = fd,
		.offset = 0,
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
	.driver = "pcipass",
	.attach = pp_attach,
	.setup = pp_setup,
	.detach = close_fds,
	.map = pp_map,
	.unmap = pp_unmap,
	.irq_trigger = pp_irq_trigger,
};

/* The features pcipass reports (PCIPASS_GET_INFO), 0 when it cannot say. */
static __u64 pp_get_features(void)
{
	struct pcipass_info info = { .size = sizeof(info) };
	int fd = open("/dev/pcipass", O_RDWR | O_CLOEXEC);
	__u64 features = 0;

	if (fd < 0)
		return 0;
	if (!ioctl(fd, PCIPASS_GET_INFO, &info))
		features = info.features;
	close(fd);
	return features;
}

/* ---- vfio-pci: type1 container, and iommufd ------------------------------ */

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

static int type1_attach(struct dev *d)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], group[32];

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", addr);
	link_name(path, group, sizeof(group));
	if (!*group) {
		fprintf(stderr, "pcipass-bench: %s has no IOMMU group\n", addr);
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
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (d->fd < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");
	return 0;
}

/* The same for both ways of opening a vfio-pci device. */
static int vfio_setup(struct dev *d)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	__u16 cmd;

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

static int type1_map(struct dev *d, void *va, __u64 iova, __u64 len)
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

static int type1_unmap(struct dev *d, __u64 iova, __u64 len)
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

static const struct drv_ops type1_ops = {
	.driver = "vfio-pci",
	.attach = type1_attach,
	.setup = vfio_setup,
	.detach = close_fds,
	.map = type1_map,
	.unmap = type1_unmap,
	.irq_trigger = vfio_irq_trigger,
};

#if HAVE_IOMMUFD
/*
 * The VFIO device cdev (/dev/vfio/devices/vfioN) bound to an iommufd
 * (/dev/iommu, in d->ctx), attached to an IOAS of its own: the way a VMM
 * uses vfio-pci without the type1 container.
 */
static int iommufd_attach(struct dev *d)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt pt = { .argsz = sizeof(pt) };
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	char path[PATH_MAX], cdev[NAME_MAX + 1];

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/vfio-dev", addr);
	if (!dir_entry(path, "vfio", false, cdev, sizeof(cdev))) {
		fprintf(stderr, "pcipass-bench: %s has no VFIO cdev (%s)\n",
			addr, path);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return fail(path);
	d->ctx = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d->ctx < 0)
		return fail("/dev/iommu");
	bind.iommufd = d->ctx;
	if (ioctl(d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return fail("VFIO_DEVICE_BIND_IOMMUFD");
	if (ioctl(d->ctx, IOMMU_IOAS_ALLOC, &ioas))
		return fail("IOMMU_IOAS_ALLOC");
	d->ioas = ioas.out_ioas_id;
	pt.pt_id = d->ioas;
	if (ioctl(d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &pt))
		return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	return 0;
}

static int iommufd_map(struct dev *d, void *va, __u64 iova, __u64 len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = d->ioas,
		.user_va = (__u64)(unsigned long)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(d->ctx, IOMMU_IOAS_MAP, &map);
}

static int iommufd_unmap(struct dev *d, __u64 iova, __u64 len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = d->ioas,
		.iova = iova,
		.length = len,
	};

	return ioctl(d->ctx, IOMMU_IOAS_UNMAP, &unmap);
}

static const struct drv_ops iommufd_ops = {
	.driver = "vfio-pci",
	.attach = iommufd_attach,
	.setup = vfio_setup,
	.detach = close_fds,
	.map = iommufd_map,
	.unmap = iommufd_unmap,
	.irq_trigger = vfio_irq_trigger,
};
#endif

/* ---- measurements -------------------------------------------------------- */

static struct dev devs[NR_DRV];
static struct buf small_bufs[NR_SMALL], buf_thp, buf_hugetlb;

static unsigned int scaled(unsigned int iters, unsigned int min)
{
	double n = iters * scale;

	return n < min ? min : (unsigned int)n;
}

/* Timed iterations of @op per round and stack. */
static unsigned int iters_of(int op)
{
	if (op < OP_IRQ_SOFT)
		return scaled(small_dma[op / NR_PART].iters, 3);
	if (op < OP_BIG_FIRST)
		return scaled(misc_ops[op - OP_IRQ_SOFT].iters, 3);
	if (op < OP_MEMFD_FIRST)
		return scaled(big_iters[(op - OP_BIG_FIRST) / (NR_CALLS * NR_PART)], 1);
	if (op < OP_MEM_FIRST)
		return scaled(2, 1);
	return 1;
}

static unsigned int warmup_of(int op)
{
	unsigned int n = iters_of(op) / 10;

	if (op >= OP_BIG_FIRST)
		return 1;
	return n < 2 ? 2 : n;
}

static void sample(int op, struct dev *d, double v)
{
	struct samples *s = &S[op][d->id];

	if (s->n < s->cap)
		s->v[s->n++] = v;
}

static void mark_failed(struct dev *d, int first, int last)
{
	int op;

	for (op = first; op <= last; op++)
		S[op][d->id].failed = true;
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

/*
 * What the kernel holds, from /proc/vmstat and /proc/meminfo once the
 * per-CPU deltas are folded in (/proc/sys/vm/stat_refresh): the pages
 * pinned with FOLL_PIN in the whole system, the IOMMU page-table pages,
 * and slab plus vmalloc memory. -1 where unknown. (MemFree is no measure:
 * the per-CPU free lists move it by megabytes either way.)
 */
struct mem_stat {
	long long pins, iommu_pages, kernel_kb;
};

static void mem_stat(struct mem_stat *m)
{
	long long acquired = -1, released = -1, v, slab = 0, vmalloc = -1;
	char line[128];
	FILE *f;

	m->pins = -1;
	m->iommu_pages = -1;
	m->kernel_kb = -1;
	if (write_file("/proc/sys/vm/stat_refresh", "1"))
		return;
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nr_foll_pin_acquired %lld", &v) == 1)
			acquired = v;
		else if (sscanf(line, "nr_foll_pin_released %lld", &v) == 1)
			released = v;
		else if (sscanf(line, "nr_iommu_pages %lld", &v) == 1)
			m->iommu_pages = v;
	}
	fclose(f);
	if (acquired >= 0 && released >= 0)
		m->pins = acquired - released;
	f = fopen("/proc/meminfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "SReclaimable: %lld kB", &v) == 1 ||
		    sscanf(line, "SUnreclaim: %lld kB", &v) == 1)
			slab += v;
		else if (sscanf(line, "VmallocUsed: %lld kB", &v) == 1)
			vmalloc = v;
	}
	fclose(f);
	if (vmalloc >= 0)
		m->kernel_kb = slab + vmalloc;
}

/* Map (or unmap) @len bytes at @iova in calls of @chunk bytes each. */
static int map_calls(struct dev *d, char *va, __u64 iova, __u64 len,
		     __u64 chunk)
{
	__u64 off;

	for (off = 0; off < len; off += chunk)
		if (d->ops->map(d, va + off, iova + off, chunk))
			return fail("DMA map");
	return 0;
}

static int unmap_calls(struct dev *d, __u64 iova, __u64 len, __u64 chunk)
{
	__u64 off;
	int ret = 0;

	/* All of it, even after a failure: whatever is mapped goes. */
	for (off = 0; off < len; off += chunk)
		if (d->ops->unmap(d, iova + off, chunk) && !ret)
			ret = fail("DMA unmap");
	return ret;
}

/*
 * One untimed map and unmap of @b (in calls of @chunk) at @iova that
 * checks that the stack pins every page of it and unpins them all (the
 * stacks do the same work); with @probe >= 0, the kernel memory it holds
 * while mapped goes in the rows OP_MEM(@probe, *).
 */
static int check_map(struct dev *d, struct buf *b, __u64 iova, __u64 chunk,
		     int probe)
{
	struct mem_stat before, mapped, after;
	double pages = b->len / SZ_4K;
	int ret;

	mem_stat(&before);
	ret = map_calls(d, b->va, iova, b->len, chunk);
	mem_stat(&mapped);
	if (unmap_calls(d, iova, b->len, chunk) || ret)
		return -EIO;
	mem_stat(&after);
	if (before.pins >= 0 &&
	    (mapped.pins - before.pins != (long long)pages ||
	     after.pins != before.pins)) {
		fprintf(stderr, "pcipass-bench: %s: %llu KiB: %lld pages pinned, %lld left\n",
			drv_names[d->id], (unsigned long long)b->len / 1024,
			mapped.pins - before.pins, after.pins - before.pins);
		return -EIO;
	}
	if (probe < 0)
		return 0;
	if (before.kernel_kb >= 0)
		sample(OP_MEM(probe, MEMV_KERNEL), d,
		       (mapped.kernel_kb - before.kernel_kb) * 1024.0 / pages);
	if (before.iommu_pages >= 0)
		sample(OP_MEM(probe, MEMV_IOMMU), d,
		       (mapped.iommu_pages - before.iommu_pages) * 4096.0 / pages);
	return 0;
}

/* Map and unmap a small buffer: warm-up, then the timed iterations. */
static int bench_dma(struct dev *d, enum small_dma sm)
{
	int both = OP_DMA(sm, PART_BOTH);
	unsigned int i, warm = warmup_of(both), n = iters_of(both);
	struct buf *b = &small_bufs[sm];
	double t0, t1, t2;

	if (check_map(d, b, IOVA_BASE, b->len, -1))
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
		sample(both, d, t2 - t0);
		sample(both + PART_MAP, d, t1 - t0);
		sample(both + PART_UNMAP, d, t2 - t1);
	}
	return 0;
}

/* Threads of the FLOOR_CPUS stack: one per online CPU, at most this. */
#define FLOOR_THREADS_MAX	8

/* The start of a floor measurement's threads: @go 1 to run, -1 not to. */
struct floor_start {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int go;
};

/* One thread's part of a floor measurement. */
struct floor_part {
	void *va;
	__u64 len;
	int cpu;		/* runs there; -1: the caller, where it is */
	struct floor_start *start;
	double pin_ns, unpin_ns;
	int ret;
};

/* Wait for the start (the caller's part: give it); false: do not run. */
static bool floor_go(struct floor_part *part, int go)
{
	struct floor_start *st = part->start;

	pthread_mutex_lock(&st->lock);
	if (go) {
		st->go = go;
		pthread_cond_broadcast(&st->cond);
	}
	while (!st->go)
		pthread_cond_wait(&st->cond, &st->lock);
	go = st->go;
	pthread_mutex_unlock(&st->lock);
	return go > 0;
}

#if HAVE_GUP_TEST
/*
 * gup_test pins @data's part long term (FOLL_WRITE, the pages pcipass asks
 * for) with one pin_user_pages() call, then unpins it; the kernel times
 * both, without the ioctl around them.
 */
static void *floor_part_run(void *data)
{
	struct floor_part *part = data;
	struct gup_test gup = {
		.addr = (unsigned long)part->va,
		.size = part->len,
		.nr_pages_per_call = part->len / SZ_4K,
		.gup_flags = GUP_FOLL_WRITE,
	};
	cpu_set_t cpus;
	int fd;

	if (part->cpu >= 0) {
		CPU_ZERO(&cpus);
		CPU_SET(part->cpu, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
	}
	fd = open(GUP_TEST_FILE, O_RDWR | O_CLOEXEC);
	if (!floor_go(part, part->cpu < 0)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (fd < 0) {
		part->ret = fail(GUP_TEST_FILE);
		return NULL;
	}
	if (ioctl(fd, PIN_LONGTERM_BENCHMARK, &gup))
		part->ret = fail("gup_test PIN_LONGTERM_BENCHMARK");
	else if (gup.size != part->len)
		part->ret = -EIO;
	close(fd);
	part->pin_ns = gup.get_delta_usec * 1e3;
	part->unpin_ns = gup.put_delta_usec * 1e3;
	return NULL;
}
#else
static void *floor_part_run(void *data)
{
	struct floor_part *part = data;

	floor_go(part, part->cpu < 0 ? -1 : 0);
	part->ret = -EOPNOTSUPP;
	return NULL;
}
#endif

/*
 * The floor: @b pinned and unpinned by gup_test, in one thread or (@cpus)
 * in 2 MiB-aligned parts by a thread on each online CPU, started together
 * (the caller's part on its own CPU); the pin takes as long as the slowest
 * part's pin, and so does the unpin.
 */
static int floor_once(struct buf *b, bool cpus, double *pin_ns,
		      double *unpin_ns)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct floor_start start = {
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0
	};
	struct floor_part parts[FLOOR_THREADS_MAX] = {};
	pthread_t threads[FLOOR_THREADS_MAX];
	unsigned int n = 1, i, cpu = 0;
	__u64 off = 0, part_len;
	int ret = 0;

	if (cpus)
		n = online > FLOOR_THREADS_MAX ? FLOOR_THREADS_MAX :
		    online > 1 ? online : 1;
	part_len = (b->len / n + SZ_2M - 1) & ~(SZ_2M - 1);
	for (i = 0; i < n; i++, off += part_len) {
		parts[i].va = (char *)b->va + off;
		parts[i].len = off + part_len > b->len ? b->len - off : part_len;
		parts[i].start = &start;
		parts[i].cpu = -1;
		if (!i)
			continue;
		/* The others on the CPUs the caller does not run on. */
		if (cpu == (unsigned int)bench_cpu)
			cpu++;
		parts[i].cpu = cpu++;
		if (pthread_create(&threads[i], NULL, floor_part_run, &parts[i])) {
			ret = fail("pthread_create");
			break;
		}
	}
	n = i;
	if (ret)
		floor_go(&parts[0], -1);
	else
		floor_part_run(&parts[0]);
	*pin_ns = 0;
	*unpin_ns = 0;
	for (i = 0; i < n; i++) {
		if (i)
			pthread_join(threads[i], NULL);
		if (parts[i].ret && !ret)
			ret = parts[i].ret;
		if (parts[i].pin_ns > *pin_ns)
			*pin_ns = parts[i].pin_ns;
		if (parts[i].unpin_ns > *unpin_ns)
			*unpin_ns = parts[i].unpin_ns;
	}
	return ret;
}

/* One of the two pin-only floors: gup_test, no device. */
static bool is_floor(const struct dev *d)
{
	return d->id == DRV_FLOOR || d->id == DRV_FLOOR_CPUS;
}

/* A stack that runs the 1 GiB rows of 4 KiB pages in one call only. */
static bool only_4k_big_rows(const struct dev *d)
{
	return d->id == DRV_PCIPASS_W1 || d->id == DRV_FLOOR_CPUS;
}

/*
 * One map+unmap of @b as the rows OP_BIG(@bk, @c, *) (timed unless
 * @warm); for the floor, its pin and unpin.
 */
static int big_once(struct dev *d, struct buf *b, enum big_backing bk,
		    enum big_calls c, bool warm)
{
	__u64 chunk = c == CALLS_ONE ? b->len : SZ_2M;
	int both = OP_BIG(bk, c, PART_BOTH);
	double t0, t1, t2;

	if (is_floor(d)) {
		if (floor_once(b, d->id == DRV_FLOOR_CPUS, &t1, &t2))
			return -EIO;
		t0 = 0;
		t2 += t1;
	} else {
		t0 = now_ns();
		if (map_calls(d, b->va, IOVA_BASE, b->len, chunk)) {
			unmap_calls(d, IOVA_BASE, b->len, chunk);
			return -EIO;
		}
		t1 = now_ns();
		if (unmap_calls(d, IOVA_BASE, b->len, chunk))
			return -EIO;
		t2 = now_ns();
	}
	if (!warm) {
		sample(both, d, t2 - t0);
		sample(both + PART_MAP, d, t1 - t0);
		sample(both + PART_UNMAP, d, t2 - t1);
	}
	return 0;
}

/*
 * Which 1 GiB rows a stack runs: the floor those in one call, pcipass with
 * one worker those of 4 KiB pages in one call (a 2 MiB call is too small to
 * split).
 */
static bool big_runs(struct dev *d, enum big_backing bk, enum big_calls c)
{
	if (d->id == DRV_FLOOR)
		return c == CALLS_ONE;
	if (only_4k_big_rows(d))
		return c == CALLS_ONE && (bk == BIG_4K_COLD || bk == BIG_4K);
	return true;
}

/* The rows of @bk on the present memory @b: warm-up, then timed. */
static int big_rows(struct dev *d, struct buf *b, enum big_backing bk)
{
	int both, errors = 0;
	enum big_calls c;
	unsigned int i;

	for (c = 0; c < NR_CALLS; c++) {
		if (!big_runs(d, bk, c))
			continue;
		both = OP_BIG(bk, c, PART_BOTH);
		for (i = 0; i < warmup_of(both) + iters_of(both); i++) {
			if (big_once(d, b, bk, c, i < warmup_of(both))) {
				mark_failed(d, both, both + PART_UNMAP);
				errors++;
				break;
			}
		}
	}
	return errors;
}

/*
 * The 1 GiB rows. Memory of 4 KiB pages is mapped not prefaulted once per
 * iteration, on fresh memory (the map faults every page in); the last of
 * those, its pages now present, serves for the prefaulted rows and the
 * memory probes. THP and hugetlbfs memory is allocated once. The memory
 * probes map at IOVAs of their own, which no map before used in the
 * domain, so that the IOMMU page tables they need are new.
 */
static int bench_big(struct dev *d)
{
	bool main_stack = d->id <= DRV_IOMMUFD;
	enum big_calls c;
	int both, errors = 0;
	unsigned int i, n;
	struct buf b = {};

	for (c = 0; c < NR_CALLS; c++) {
		if (!big_runs(d, BIG_4K_COLD, c))
			continue;
		both = OP_BIG(BIG_4K_COLD, c, PART_BOTH);
		n = iters_of(both);
		for (i = 0; i < n; i++) {
			if (buf_alloc(&b, SZ_1G, BUF_4K_COLD) ||
			    big_once(d, &b, BIG_4K_COLD, c, false)) {
				mark_failed(d, both, both + PART_UNMAP);
				errors++;
				buf_free(&b);
				break;
			}
			if (c != CALLS_ONE || i + 1 < n) {
				buf_free(&b);
				continue;
			}
			errors += big_rows(d, &b, BIG_4K);
			if (main_stack &&
			    (check_map(d, &b, IOVA_PROBE, b.len, MEM_4K) ||
			     check_map(d, &b, IOVA_PROBE + SZ_1G, SZ_2M, MEM_4K_2M))) {
				mark_failed(d, OP_MEM(MEM_4K, 0),
					    OP_MEM(MEM_4K_2M, NR_MEMV - 1));
				errors++;
			}
			buf_free(&b);
		}
	}
	if (only_4k_big_rows(d))
		return errors;
	errors += big_rows(d, &buf_thp, BIG_THP);
	if (main_stack &&
	    check_map(d, &buf_thp, IOVA_PROBE + 2 * SZ_1G, buf_thp.len, MEM_THP)) {
		mark_failed(d, OP_MEM(MEM_THP, 0), OP_MEM(MEM_THP, NR_MEMV - 1));
		errors++;
	}
	if (!have_hugetlb)
		return errors;
	errors += big_rows(d, &buf_hugetlb, BIG_HUGETLB);
	if (main_stack &&
	    check_map(d, &buf_hugetlb, IOVA_PROBE + 3 * SZ_1G, buf_hugetlb.len,
		      MEM_HUGETLB)) {
		mark_failed(d, OP_MEM(MEM_HUGETLB, 0),
			    OP_MEM(MEM_HUGETLB, NR_MEMV - 1));
		errors++;
	}
	return errors;
}

/*
 * A 1 GiB memfd (shmem, present), mapped by its address through every
 * stack and, through pcipass, by file descriptor: OP_MEMFD(0 or 1, *).
 */
static int bench_memfd(struct dev *d)
{
	unsigned int i, byfd, warm = warmup_of(OP_MEMFD(0, 0));
	unsigned int n = iters_of(OP_MEMFD(0, 0));
	int errors = 0, ret = 0;
	double t0, t1, t2;
	struct buf b;

	if (buf_alloc(&b, SZ_1G, BUF_MEMFD)) {
		buf_free(&b);
		mark_failed(d, OP_MEMFD(0, 0), OP_MEMFD(1, NR_PART - 1));
		return 1;
	}
	for (byfd = 0; byfd < 2; byfd++) {
		if (byfd && d->id != DRV_PCIPASS)
			break;
		for (i = 0; i < warm + n; i++) {
			t0 = now_ns();
			if (byfd)
				ret = pp_map_file(d, b.memfd, IOVA_BASE, b.len);
			else
				ret = d->ops->map(d, b.va, IOVA_BASE, b.len);
			if (ret) {
				fail(byfd ? "DMA map of the memfd by fd" :
				     "DMA map of the memfd");
				break;
			}
			t1 = now_ns();
			ret = d->ops->unmap(d, IOVA_BASE, b.len);
			if (ret) {
				fail("DMA unmap");
				break;
			}
			t2 = now_ns();
			if (i < warm)
				continue;
			sample(OP_MEMFD(byfd, PART_BOTH), d, t2 - t0);
			sample(OP_MEMFD(byfd, PART_MAP), d, t1 - t0);
			sample(OP_MEMFD(byfd, PART_UNMAP), d, t2 - t1);
		}
		if (ret) {
			mark_failed(d, OP_MEMFD(byfd, 0), OP_MEMFD(byfd, NR_PART - 1));
			errors++;
			ret = 0;
		}
	}
	buf_free(&b);
	return errors;
}

/* Attach and detach, again and again: OP_ATTACH and OP_DETACH. */
static int bench_attach(struct dev *d)
{
	unsigned int i, warm = warmup_of(OP_ATTACH), n = iters_of(OP_ATTACH);
	double t0, t1;
	int ret;

	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		ret = d->ops->attach(d);
		t1 = now_ns();
		if (ret) {
			d->ops->detach(d);
			return ret;
		}
		d->ops->detach(d);
		if (i < warm)
			continue;
		sample(OP_ATTACH, d, t1 - t0);
		sample(OP_DETACH, d, now_ns() - t1);
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
			drv_names[d->id], IRQ_WATCHDOG);
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
			sample(OP_IRQ_SOFT, d, now_ns() - t0);
	}
	alarm(0);
	return ret;
}

/*
 * Untimed, after the MSI rows: of EDU_AT_ONCE MSIs, how many had signalled
 * the eventfd by the time the write that raised them returned (the
 * interrupt taken at once), against those read() had to wait for.
 */
#define EDU_AT_ONCE	200

static void edu_irq_at_once(struct dev *d)
{
	struct pollfd pfd = { .fd = d->efd, .events = POLLIN };
	unsigned int i, ready = 0;

	alarm(IRQ_WATCHDOG);
	for (i = 0; i < EDU_AT_ONCE; i++) {
		wr32(d, EDU_IRQ_RAISE, 0x1);
		ready += poll(&pfd, 1, 0) == 1;
		if (wait_eventfd(d))
			break;
		wr32(d, EDU_IRQ_ACK, 0x1);
	}
	alarm(0);
	note("%s: %u of %u MSIs signalled by the time their write returned\n",
	     drv_names[d->id], ready, i);
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
			sample(OP_IRQ_EDU, d, now_ns() - t0);
		wr32(d, EDU_IRQ_ACK, 0x1);
	}
	alarm(0);
	if (!ret)
		edu_irq_at_once(d);
	return ret;
}

static int bench_pread(struct dev *d, int op, __u64 off, size_t len)
{
	unsigned int i, warm = warmup_of(op), n = iters_of(op);
	__u32 val;
	double t0;

	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		if (pread(d->fd, &val, len, off) != (ssize_t)len)
			return fail("pread");
		if (i >= warm)
			sample(op, d, now_ns() - t0);
	}
	return 0;
}

/* The small DMA sizes (pcipass with one worker: those of 4 KiB pages). */
static int bench_small_dma(struct dev *d)
{
	int errors = 0;
	int sm;

	for (sm = 0; sm < NR_SMALL; sm++) {
		if (d->id == DRV_PCIPASS_W1 && small_dma[sm].thp)
			continue;
		if (bench_dma(d, sm)) {
			mark_failed(d, OP_DMA(sm, 0), OP_DMA(sm, NR_PART - 1));
			errors++;
			/* Whatever the failed iteration left mapped. */
			d->ops->unmap(d, IOVA_BASE, small_bufs[sm].len);
		}
	}
	return errors;
}

/* The operations on the small buffers and the device. */
static int bench_small(struct dev *d)
{
	int errors = bench_small_dma(d);
	char before[128], after[128];

	if (bench_irq_soft(d)) {
		mark_failed(d, OP_IRQ_SOFT, OP_IRQ_SOFT);
		errors++;
	}
	irq_counts(d->irq, before, sizeof(before));
	if (bench_irq_edu(d)) {
		mark_failed(d, OP_IRQ_EDU, OP_IRQ_EDU);
		errors++;
	}
	/* Where edu's MSIs landed, and the mapping they were raised through. */
	irq_counts(d->irq, after, sizeof(after));
	note("%s: MSI IRQ %d per CPU: %s before the MSI rows, %s after; BAR0 at %p\n",
	     drv_names[d->id], d->irq, before, after, (void *)d->bar);
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
			drv_names[d->id], (unsigned long long)d->extra_irqs);
		d->extra_irqs = 0;
		errors++;
	}
	return errors;
}

/* One round of every operation through one stack. */
static int bench_round(struct dev *d, unsigned int round)
{
	bool main_stack = d->id <= DRV_IOMMUFD;
	int errors = 0, ret, op;

	for (op = 0; op < NR_OP; op++)
		S[op][d->id].round_start[round] = S[op][d->id].n;
	note("round %u: %s\n", round, drv_names[d->id]);
	if (is_floor(d))
		return bench_big(d);

	d->efd = eventfd(0, EFD_CLOEXEC);
	d->ctx = -1;
	d->group = -1;
	d->fd = -1;
	d->irq = -1;
	d->bar = MAP_FAILED;
	if (d->efd < 0)
		return fail("eventfd");
	ret = bind_to(d->ops->driver);
	if (!ret && d->id == DRV_PCIPASS_W1)
		ret = set_workers("1");
	if (!ret && main_stack && bench_attach(d)) {
		mark_failed(d, OP_ATTACH, OP_DETACH);
		errors++;
	}
	if (!ret)
		ret = d->ops->attach(d);
	if (!ret && main_stack)
		ret = d->ops->setup(d);
	if (!ret && main_stack) {
		d->bar = mmap(NULL, d->bar_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, d->fd, d->bar_off);
		if (d->bar == MAP_FAILED)
			ret = fail("mmap BAR0");
		else if (rd32(d, EDU_ID) != 0x010000ed)
			note("%s: edu ID register reads 0x%08x\n",
			     drv_names[d->id], rd32(d, EDU_ID));
	}
	if (ret) {
		fprintf(stderr, "pcipass-bench: %s: setup failed, round %u skipped\n",
			drv_names[d->id], round);
		mark_failed(d, 0, NR_OP - 1);
		errors++;
		goto out;
	}
	if (main_stack) {
		note("round %u: %s: MSI IRQ %d\n", round, drv_names[d->id], d->irq);
		errors += bench_small(d);
	} else {
		errors += bench_small_dma(d);
	}
	errors += bench_big(d);
	if (main_stack && (pp_features & PCIPASS_FEATURE_DMA_MAP_FILE))
		errors += bench_memfd(d);
out:
	if (d->bar != MAP_FAILED)
		munmap(d->bar, d->bar_size);
	d->ops->detach(d);
	close(d->efd);
	if (d->id == DRV_PCIPASS_W1 && set_workers(workers_default))
		errors++;
	return errors;
}

/* ---- statistics and the tables ------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n values (sorted in place). */
static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool has_samples(int op, enum drv_id drv)
{
	return devs[drv].available && !S[op][drv].failed && S[op][drv].n;
}

/* The median of every sample of @op through @drv. */
static bool all_median(int op, enum drv_id drv, double *med)
{
	const struct samples *s = &S[op][drv];
	double *v;

	if (!has_samples(op, drv))
		return false;
	v = malloc(s->n * sizeof(*v));
	if (!v)
		return false;
	memcpy(v, s->v, s->n * sizeof(*v));
	*med = median(v, s->n);
	free(v);
	return true;
}

/* The median of round @r of @op through @drv. */
static bool round_median(int op, enum drv_id drv, unsigned int r, double *med)
{
	const struct samples *s = &S[op][drv];
	unsigned int from = s->round_start[r];
	unsigned int to = r + 1 < rounds ? s->round_start[r + 1] : s->n;
	double *v;

	if (!has_samples(op, drv) || to <= from)
		return false;
	v = malloc((to - from) * sizeof(*v));
	if (!v)
		return false;
	memcpy(v, s->v + from, (to - from) * sizeof(*v));
	*med = median(v, to - from);
	free(v);
	return true;
}

/*
 * The ratio of @op_a through @a to @op_b through @b: in every round, the
 * median of one over the median of the other in that round; the median
 * of these, and their lowest and highest. Pairing by round keeps a
 * disturbance of the host that spans a few rounds out of the ratio.
 */
static bool round_ratio(int op_a, enum drv_id a, int op_b, enum drv_id b,
			double *med, double *lo, double *hi)
{
	double ratio[MAX_ROUNDS], ma, mb;
	unsigned int r, n = 0;

	for (r = 0; r < rounds; r++) {
		if (!round_median(op_a, a, r, &ma) ||
		    !round_median(op_b, b, r, &mb) || mb <= 0)
			continue;
		ratio[n++] = ma / mb;
	}
	if (!n)
		return false;
	*med = median(ratio, n);
	*lo = ratio[0];
	*hi = ratio[n - 1];
	return true;
}

/* A time in ns, printed in us, ms or s with 3 significant digits or so. */
static void fmt_time(char *out, size_t len, double ns)
{
	double us = ns / 1000;

	if (us >= 1e6)
		snprintf(out, len, "%.2f s", us / 1e6);
	else if (us >= 10000)
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

/*
 * The cell of @op through @drv: its median time (and GiB/s for @bytes),
 * "error" when it failed, "-" when the stack does not have it.
 */
static void fmt_cell(char *out, size_t len, int op, enum drv_id drv,
		     __u64 bytes)
{
	char t[32];
	double med;

	if (devs[drv].available && S[op][drv].failed) {
		snprintf(out, len, "error");
	} else if (!all_median(op, drv, &med)) {
		snprintf(out, len, "-");
	} else {
		fmt_time(t, sizeof(t), med);
		if (bytes && med > 0)
			snprintf(out, len, "%s, %.2f GiB/s", t,
				 bytes / (double)SZ_1G / (med / 1e9));
		else
			snprintf(out, len, "%s", t);
	}
}

static void fmt_ratio(char *out, size_t len, int op_a, enum drv_id a,
		      int op_b, enum drv_id b)
{
	double med, lo, hi;

	if (round_ratio(op_a, a, op_b, b, &med, &lo, &hi))
		snprintf(out, len, "%.2f (%.2f-%.2f)", med, lo, hi);
	else
		snprintf(out, len, "-");
}

/* One row of the three stacks: their times and pcipass's two ratios. */
static void stack_row(const char *name, int op, __u64 bytes)
{
	char c[3][48], r1[32], r2[32];
	int i;

	for (i = 0; i < 3; i++)
		fmt_cell(c[i], sizeof(c[i]), op, i, bytes);
	fmt_ratio(r1, sizeof(r1), op, DRV_PCIPASS, op, DRV_TYPE1);
	fmt_ratio(r2, sizeof(r2), op, DRV_PCIPASS, op, DRV_IOMMUFD);
	printf("| %s | %s | %s | %s | %s | %s |\n", name, c[0], c[1], c[2],
	       r1, r2);
}

static const char * const part_names[NR_PART] = {
	[PART_BOTH] = "map+unmap", [PART_MAP] = "map", [PART_UNMAP] = "unmap",
};

static void print_stack_header(const char *what)
{
	printf("| %s | pcipass | vfio type1 | iommufd | pcipass / type1 | pcipass / iommufd |\n",
	       what);
	printf("|---|--:|--:|--:|--:|--:|\n");
}

static void print_small(void)
{
	char name[96];
	int sm, p, op;

	printf("### Small operations\n\n");
	print_stack_header("operation");
	for (sm = 0; sm < NR_SMALL; sm++) {
		for (p = 0; p < NR_PART; p++) {
			snprintf(name, sizeof(name), "DMA %s %s", part_names[p],
				 small_dma[sm].name);
			stack_row(name, OP_DMA(sm, p), 0);
		}
	}
	for (op = OP_IRQ_SOFT; op < OP_BIG_FIRST; op++)
		stack_row(misc_ops[op - OP_IRQ_SOFT].name, op, 0);
	printf("\n");
}

static void big_name(char *out, size_t len, enum big_backing bk,
		     enum big_calls c, enum dma_part p)
{
	snprintf(out, len, "1 GiB %s, %s: %s", backing_names[bk],
		 c == CALLS_ONE ? "one call" : "2 MiB calls", part_names[p]);
}

/* The name of @op, for the per-round lines. */
static void op_name(int op, char *out, size_t len)
{
	int i;

	if (op < OP_IRQ_SOFT) {
		snprintf(out, len, "DMA %s %s", part_names[op % NR_PART],
			 small_dma[op / NR_PART].name);
	} else if (op < OP_BIG_FIRST) {
		snprintf(out, len, "%s", misc_ops[op - OP_IRQ_SOFT].name);
	} else if (op < OP_MEMFD_FIRST) {
		i = (op - OP_BIG_FIRST) / NR_PART;
		big_name(out, len, i / NR_CALLS, i % NR_CALLS,
			 (op - OP_BIG_FIRST) % NR_PART);
	} else if (op < OP_MEM_FIRST) {
		i = op - OP_MEMFD_FIRST;
		snprintf(out, len, "1 GiB memfd by %s: %s",
			 i / NR_PART ? "fd" : "address", part_names[i % NR_PART]);
	} else {
		i = op - OP_MEM_FIRST;
		snprintf(out, len, "memory, %s: %s", probe_names[i / NR_MEMV],
			 memv_names[i % NR_MEMV]);
	}
}

static void print_big(void)
{
	enum big_backing bk;
	enum big_calls c;
	char name[96];
	int p;

	printf("### 1 GiB (a VM's RAM)\n\n");
	print_stack_header("DMA of 1 GiB");
	for (bk = 0; bk < NR_BIG_BACKING; bk++)
		for (c = 0; c < NR_CALLS; c++)
			for (p = 0; p < NR_PART; p++) {
				big_name(name, sizeof(name), bk, c, p);
				stack_row(name, OP_BIG(bk, c, p), SZ_1G);
			}
	printf("\n");
}

/* A row of @op: @base's time, @drv's, and @drv / @base. */
static void pair_row(const char *name, int op, enum drv_id base,
		     enum drv_id drv, __u64 bytes)
{
	char a[48], b[48], r[32];

	fmt_cell(a, sizeof(a), op, base, bytes);
	fmt_cell(b, sizeof(b), op, drv, bytes);
	fmt_ratio(r, sizeof(r), op, drv, op, base);
	printf("| %s | %s | %s | %s |\n", name, a, b, r);
}

/* pcipass against the floor, and with one pinning worker. */
static void print_floor(void)
{
	enum big_backing bk;
	char name[96];
	int p, op;

	if (devs[DRV_FLOOR].available) {
		printf("### The floor: long-term pinning alone (gup_test %s)\n\n",
		       "PIN_LONGTERM_BENCHMARK, one thread");
		printf("| 1 GiB, one call | pin only | pcipass | pcipass / pin only |\n");
		printf("|---|--:|--:|--:|\n");
		for (bk = 0; bk < NR_BIG_BACKING; bk++) {
			for (p = PART_MAP; p <= PART_UNMAP; p++) {
				snprintf(name, sizeof(name), "%s: %s (pin only: %s)",
					 backing_names[bk], part_names[p],
					 p == PART_MAP ? "pin" : "unpin");
				pair_row(name, OP_BIG(bk, CALLS_ONE, p), DRV_FLOOR,
					 DRV_PCIPASS, SZ_1G);
			}
		}
		printf("\n");
	}
	if (devs[DRV_FLOOR_CPUS].available) {
		printf("### How far pinning scales here: gup_test on one thread, %s\n\n",
		       "and split among a thread per CPU");
		printf("| 1 GiB, one call | pin only | pin only, a thread per CPU | %s |\n",
		       "a thread per CPU / one");
		printf("|---|--:|--:|--:|\n");
		for (bk = BIG_4K_COLD; bk <= BIG_4K; bk++) {
			for (p = PART_MAP; p <= PART_UNMAP; p++) {
				snprintf(name, sizeof(name), "%s: %s",
					 backing_names[bk],
					 p == PART_MAP ? "pin" : "unpin");
				pair_row(name, OP_BIG(bk, CALLS_ONE, p), DRV_FLOOR,
					 DRV_FLOOR_CPUS, SZ_1G);
			}
		}
		printf("\n");
	}
	if (devs[DRV_PCIPASS_W1].available) {
		printf("### Parallel pinning (%s: %s by default)\n\n",
		       strrchr(workers_param, '/') + 1, workers_default);
		printf("| DMA | pcipass, 1 worker | pcipass | pcipass / 1 worker |\n");
		printf("|---|--:|--:|--:|\n");
		for (op = OP_DMA(SM_4K, PART_MAP); op < OP_IRQ_SOFT; op++) {
			if (op % NR_PART == PART_BOTH || small_dma[op / NR_PART].thp)
				continue;
			op_name(op, name, sizeof(name));
			pair_row(name, op, DRV_PCIPASS_W1, DRV_PCIPASS, 0);
		}
		for (bk = BIG_4K_COLD; bk <= BIG_4K; bk++) {
			for (p = PART_MAP; p <= PART_UNMAP; p++) {
				op = OP_BIG(bk, CALLS_ONE, p);
				big_name(name, sizeof(name), bk, CALLS_ONE, p);
				pair_row(name, op, DRV_PCIPASS_W1, DRV_PCIPASS,
					 SZ_1G);
			}
		}
		printf("\n");
	}
}

static void print_memfd(void)
{
	char name[96];
	int p;

	if (!(pp_features & PCIPASS_FEATURE_DMA_MAP_FILE)) {
		printf("(No map from a file: pcipass does not report %s.)\n\n",
		       "PCIPASS_FEATURE_DMA_MAP_FILE");
		return;
	}
	printf("### 1 GiB memfd (shmem), one call\n\n");
	print_stack_header("DMA of 1 GiB memfd");
	for (p = 0; p < NR_PART; p++) {
		snprintf(name, sizeof(name), "by address: %s", part_names[p]);
		stack_row(name, OP_MEMFD(0, p), SZ_1G);
	}
	for (p = 0; p < NR_PART; p++) {
		snprintf(name, sizeof(name), "by fd (pcipass): %s", part_names[p]);
		stack_row(name, OP_MEMFD(1, p), SZ_1G);
	}
	printf("\n");
}

static void print_mem(void)
{
	enum mem_probe pr;
	enum mem_value mv;
	char c[3][32];
	double med;
	int i;

	printf("### Kernel memory held while 1 GiB is mapped, bytes per pinned 4 KiB page\n\n");
	printf("| mapped | what | pcipass | vfio type1 | iommufd |\n");
	printf("|---|---|--:|--:|--:|\n");
	for (pr = 0; pr < NR_MEM_PROBE; pr++) {
		for (mv = 0; mv < NR_MEMV; mv++) {
			for (i = 0; i < 3; i++) {
				if (devs[i].available && S[OP_MEM(pr, mv)][i].failed)
					snprintf(c[i], sizeof(c[i]), "error");
				else if (all_median(OP_MEM(pr, mv), i, &med))
					snprintf(c[i], sizeof(c[i]), "%.2f", med);
				else
					snprintf(c[i], sizeof(c[i]), "-");
			}
			printf("| %s | %s | %s | %s | %s |\n", probe_names[pr],
			       memv_names[mv], c[0], c[1], c[2]);
		}
	}
	printf("\n");
}

/* One target: the ratio of @op_a/@a to @op_b/@b at most @limit. */
static void target_row(const char *what, int op_a, enum drv_id a, int op_b,
		       enum drv_id b, double limit)
{
	double med, lo, hi;
	char lim[16] = "-";

	/* A limit below 0: a figure the targets are read against. */
	if (limit >= 0)
		snprintf(lim, sizeof(lim), "<= %.2f", limit);
	if (!round_ratio(op_a, a, op_b, b, &med, &lo, &hi)) {
		printf("| %s | %s | - | not measured here |\n", what, lim);
		return;
	}
	printf("| %s | %s | %.2f (%.2f-%.2f) | %s |\n", what, lim, med, lo, hi,
	       limit < 0 ? "no target" : med <= limit ? "met" : "**missed**");
}

/* The memory target: at most @limit bytes per page beyond the IOMMU's. */
static void target_mem(enum mem_probe pr, double limit)
{
	char what[96];
	double med;

	snprintf(what, sizeof(what), "pcipass slab + vmalloc, %s (bytes per page)",
		 probe_names[pr]);
	if (!all_median(OP_MEM(pr, MEMV_KERNEL), DRV_PCIPASS, &med)) {
		printf("| %s | <= %.2f | - | not measured here |\n", what, limit);
		return;
	}
	printf("| %s | <= %.2f | %.2f | %s |\n", what, limit, med,
	       med <= limit ? "met" : "**missed**");
}

/* The targets of issue 14, each with the figure that shows it. */
static void print_targets(void)
{
	static const struct { const char *name; int op; } fast[] = {
		{ "MSI round trip (edu)", OP_IRQ_EDU },
		{ "config read", OP_CFG_READ },
		{ "SET_IRQS (MSI soft trigger)", OP_IRQ_SOFT },
	};
	enum big_backing bk;
	enum big_calls c;
	char what[128];
	unsigned int i;
	int sm;

	printf("### Targets (issue 14): ratios from this boot\n\n");
	printf("| target | limit | measured (range over rounds) | verdict |\n");
	printf("|---|--:|--:|---|\n");
	for (bk = 0; bk < NR_BIG_BACKING; bk++)
		for (c = 0; c < NR_CALLS; c++) {
			snprintf(what, sizeof(what), "1 GiB %s, %s: map+unmap, pcipass / iommufd",
				 backing_names[bk],
				 c == CALLS_ONE ? "one call" : "2 MiB calls");
			target_row(what, OP_BIG(bk, c, PART_BOTH), DRV_PCIPASS,
				   OP_BIG(bk, c, PART_BOTH), DRV_IOMMUFD, 0.5);
		}
	for (bk = BIG_4K_COLD; bk <= BIG_4K; bk++) {
		snprintf(what, sizeof(what), "1 GiB %s, one call: map, pcipass / pin only",
			 backing_names[bk]);
		target_row(what, OP_BIG(bk, CALLS_ONE, PART_MAP), DRV_PCIPASS,
			   OP_BIG(bk, CALLS_ONE, PART_MAP), DRV_FLOOR, 1.0);
	}
	target_mem(MEM_4K, 1.0);
	target_mem(MEM_4K_2M, 1.0);
	target_row("1 GiB 4K pages, not prefaulted, one call: map, pcipass / 1 worker",
		   OP_BIG(BIG_4K_COLD, CALLS_ONE, PART_MAP), DRV_PCIPASS,
		   OP_BIG(BIG_4K_COLD, CALLS_ONE, PART_MAP), DRV_PCIPASS_W1, 0.6);
	/* Not a target: how far this machine lets the one above go. */
	target_row("1 GiB 4K pages, not prefaulted: pin only, a thread per CPU / one thread",
		   OP_BIG(BIG_4K_COLD, CALLS_ONE, PART_MAP), DRV_FLOOR_CPUS,
		   OP_BIG(BIG_4K_COLD, CALLS_ONE, PART_MAP), DRV_FLOOR, -1);
	for (sm = 0; sm < NR_SMALL; sm++) {
		if (small_dma[sm].thp)
			continue;
		snprintf(what, sizeof(what), "DMA map %s, pcipass / 1 worker",
			 small_dma[sm].name);
		target_row(what, OP_DMA(sm, PART_MAP), DRV_PCIPASS,
			   OP_DMA(sm, PART_MAP), DRV_PCIPASS_W1, 1.0);
	}
	for (i = 0; i < ARRAY_SIZE(fast); i++) {
		snprintf(what, sizeof(what), "%s, pcipass / type1", fast[i].name);
		target_row(what, fast[i].op, DRV_PCIPASS, fast[i].op, DRV_TYPE1, 1.0);
		snprintf(what, sizeof(what), "%s, pcipass / iommufd", fast[i].name);
		target_row(what, fast[i].op, DRV_PCIPASS, fast[i].op, DRV_IOMMUFD, 1.0);
	}
	printf("\n");
}

/* For the plot: the median map time of each size, per stack and series. */
static void print_plot_data(void)
{
	static const char * const keys[3] = { "pcipass", "type1", "iommufd" };
	static const struct { const char *series; __u64 bytes; int op; } pts[] = {
		{ "4K", SZ_4K, OP_DMA(SM_4K, PART_MAP) },
		{ "4K", SZ_2M, OP_DMA(SM_2M_4K, PART_MAP) },
		{ "4K", SZ_64M, OP_DMA(SM_64M, PART_MAP) },
		{ "4K", SZ_1G, OP_BIG(BIG_4K, CALLS_ONE, PART_MAP) },
		{ "THP", SZ_2M, OP_DMA(SM_2M, PART_MAP) },
		{ "THP", SZ_64M, OP_DMA(SM_64M_THP, PART_MAP) },
		{ "THP", SZ_1G, OP_BIG(BIG_THP, CALLS_ONE, PART_MAP) },
	};
	unsigned int i;
	double med;
	int drv;

	for (drv = 0; drv < 3; drv++)
		for (i = 0; i < ARRAY_SIZE(pts); i++)
			if (all_median(pts[i].op, drv, &med))
				fprintf(stderr, "pcipass-bench: plot: %s %s %llu %.0f\n",
					keys[drv], pts[i].series,
					(unsigned long long)pts[i].bytes, med);
}

/* With -v: the median of every round, of every stack, on stderr. */
static void print_rounds(void)
{
	char t[32], name[96];
	unsigned int r;
	double med;
	int op, drv;

	for (op = 0; op < NR_OP; op++)
		for (drv = 0; drv < NR_DRV; drv++)
			for (r = 0; r < rounds; r++) {
				if (!round_median(op, drv, r, &med))
					continue;
				if (op >= OP_MEM_FIRST)
					snprintf(t, sizeof(t), "%.2f B/page", med);
				else
					fmt_time(t, sizeof(t), med);
				op_name(op, name, sizeof(name));
				fprintf(stderr, "pcipass-bench: round %u: %s: %s: %s\n",
					r, name, drv_names[drv], t);
			}
}

static int samples_init(void)
{
	int op, drv;

	for (op = 0; op < NR_OP; op++) {
		for (drv = 0; drv < NR_DRV; drv++) {
			struct samples *s = &S[op][drv];

			s->cap = (warmup_of(op) + iters_of(op)) * rounds;
			s->v = calloc(s->cap, sizeof(*s->v));
			if (!s->v)
				return -ENOMEM;
		}
	}
	return 0;
}

static void bad_usage(void)
{
	fprintf(stderr, "usage: pcipass_bench [-d BDF] [-r ROUNDS] [-s SCALE] %s\n",
		"[-w PARAM] [-q] [-v]");
	exit(2);
}

static void print_header(void)
{
	char clocksource[64] = "?", thp[128] = "?", cpus[64] = "";
	struct utsname u;
	int drv;

	uname(&u);
	read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  clocksource, sizeof(clocksource));
	read_file("/sys/kernel/mm/transparent_hugepage/enabled", thp,
		  sizeof(thp));
	printf("Device %s, kernel %s, %ld CPUs, clocksource %s.\n",
	       addr, u.release, sysconf(_SC_NPROCESSORS_ONLN), clocksource);
	printf("Stacks measured:");
	for (drv = 0; drv < NR_DRV; drv++)
		if (devs[drv].available)
			printf(" %s;", drv_names[drv]);
	printf(" not here:");
	for (drv = 0; drv < NR_DRV; drv++)
		if (!devs[drv].available)
			printf(" %s;", drv_names[drv]);
	printf("\n%u rounds (the order of the stacks turns every round), scale %.2f; ",
	       rounds, scale);
	snprintf(cpus, sizeof(cpus), "%d", bench_cpu);
	printf("CPU %s runs the benchmark and takes the MSI.\n", cpus);
	printf("THP %s; huge KiB: 2 MiB THP %lu, 64 MiB THP %lu, 64 MiB 4K %lu, ",
	       thp, small_bufs[SM_2M].huge_kb, small_bufs[SM_64M_THP].huge_kb,
	       small_bufs[SM_64M].huge_kb);
	printf("1 GiB THP %lu, 1 GiB hugetlbfs %lu.\n", buf_thp.huge_kb,
	       buf_hugetlb.huge_kb);
	printf("Timed iterations per round and stack: map+unmap %u/%u/%u/%u/%u (small), ",
	       iters_of(OP_DMA(SM_4K, 0)), iters_of(OP_DMA(SM_2M_4K, 0)),
	       iters_of(OP_DMA(SM_2M, 0)), iters_of(OP_DMA(SM_64M, 0)),
	       iters_of(OP_DMA(SM_64M_THP, 0)));
	printf("%u/%u/%u/%u (1 GiB), ", iters_of(OP_BIG(BIG_4K_COLD, 0, 0)),
	       iters_of(OP_BIG(BIG_4K, 0, 0)), iters_of(OP_BIG(BIG_THP, 0, 0)),
	       iters_of(OP_BIG(BIG_HUGETLB, 0, 0)));
	printf("MSI %u/%u, reads %u/%u, attach %u.\n", iters_of(OP_IRQ_SOFT),
	       iters_of(OP_IRQ_EDU), iters_of(OP_CFG_READ),
	       iters_of(OP_BAR_READ), iters_of(OP_ATTACH));
	printf("Times: the median over every timed iteration of every round. ");
	printf("Ratios: the median over the rounds of pcipass / the other in the ");
	printf("round (below 1: pcipass faster), and their range.\n\n");
}

/*
 * The stacks this boot has: pcipass and type1 always (a failure to use
 * them is an error), iommufd with /dev/iommu, the floor with gup_test, one
 * worker with a worker parameter.
 */
static void find_stacks(const char *workers)
{
	static const struct drv_ops *const ops[NR_DRV] = {
		[DRV_PCIPASS] = &pcipass_ops,
		[DRV_TYPE1] = &type1_ops,
#if HAVE_IOMMUFD
		[DRV_IOMMUFD] = &iommufd_ops,
#endif
		[DRV_PCIPASS_W1] = &pcipass_ops,
	};
	int drv;

	for (drv = 0; drv < NR_DRV; drv++) {
		devs[drv].id = drv;
		devs[drv].ops = ops[drv];
	}
	devs[DRV_PCIPASS].available = true;
	devs[DRV_TYPE1].available = true;
	devs[DRV_IOMMUFD].available = HAVE_IOMMUFD && !access("/dev/iommu", F_OK);
	if (!devs[DRV_IOMMUFD].available)
		note(HAVE_IOMMUFD ? "no /dev/iommu: no iommufd stack\n" :
		     "built without the iommufd UAPI: no iommufd stack\n");
	find_workers_param(workers);
	devs[DRV_PCIPASS_W1].available = workers_param[0];
	devs[DRV_FLOOR].available = HAVE_GUP_TEST && !access(GUP_TEST_FILE, F_OK);
	if (!devs[DRV_FLOOR].available)
		note("no %s: no pin-only floor\n",
		     HAVE_GUP_TEST ? GUP_TEST_FILE : "gup_test (built without mm/gup_test.h)");
	devs[DRV_FLOOR_CPUS].available = devs[DRV_FLOOR].available &&
					 sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

int main(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct sigaction sa = { .sa_handler = on_alarm };
	const char *env = getenv("PCIPASS_EDU");
	const char *workers = NULL;
	enum drv_id order[NR_DRV];
	unsigned int r, i, n = 0;
	int errors = 0, sm, opt;
	cpu_set_t cpus;

	if (env && *env)
		addr = env;
	while ((opt = getopt(argc, argv, "d:r:s:w:qv")) != -1) {
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
		case 'w':
			workers = optarg;
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
	if (optind != argc || !rounds || rounds > MAX_ROUNDS || scale <= 0)
		bad_usage();

	/* No SA_RESTART: the watchdog interrupts a blocked read(). */
	sigaction(SIGALRM, &sa, NULL);
	bench_cpu = sched_getcpu();
	if (bench_cpu < 0)
		bench_cpu = 0;
	CPU_ZERO(&cpus);
	CPU_SET(bench_cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		note("cannot pin to CPU %d\n", bench_cpu);
	/* iommufd and type1 charge pinned memory to RLIMIT_MEMLOCK. */
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		note("cannot lift RLIMIT_MEMLOCK\n");

	find_stacks(workers);
	pp_features = pp_get_features();
	if (samples_init())
		return fail("calloc");
	for (sm = 0; sm < NR_SMALL; sm++)
		if (buf_alloc(&small_bufs[sm], small_dma[sm].len,
			      small_dma[sm].thp ? BUF_THP : BUF_4K))
			return 1;
	if (buf_alloc(&buf_thp, SZ_1G, BUF_THP))
		return 1;
	have_hugetlb = !buf_alloc(&buf_hugetlb, SZ_1G, BUF_HUGETLB);
	if (!have_hugetlb)
		note("no 1 GiB of hugetlbfs 2 MiB pages: no hugetlbfs rows\n");

	for (i = 0; i < NR_DRV; i++)
		if (devs[i].available)
			order[n++] = i;
	for (r = 0; r < rounds; r++) {
		/*
		 * Every other round the previous order backwards (ABBA...),
		 * then one stack further on: each goes first as often.
		 */
		for (i = 0; i < n; i++) {
			unsigned int k = (i + r / 2) % n;

			errors += bench_round(&devs[order[r % 2 ? n - 1 - k : k]], r);
		}
	}
	bind_to("");

	if (verbose)
		print_rounds();
	print_plot_data();
	print_header();
	print_small();
	print_big();
	print_floor();
	print_memfd();
	print_mem();
	print_targets();
	if (errors)
		printf("%d failure(s): see the messages of pcipass-bench\n",
		       errors);
	return errors ? 1 : 0;
}
