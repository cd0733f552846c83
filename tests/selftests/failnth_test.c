// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection, the method of the iommufd selftests: each sequence of
 * calls a VMM makes (open, attach, map, set IRQs, unmap, detach, close) is
 * run with /proc/self/task/<tid>/fail-nth set to 1, then 2, 3... so that
 * the nth allocation or user copy of the sequence fails, until a run
 * reaches no nth site. After each run, whatever step failed:
 *
 *  - the failure came back as an errno from the step that hit it;
 *  - nothing leaked: no page stays pinned (/proc/vmstat nr_foll_pin_*),
 *    VmPin is back where it was, no pcipass IRQ is left in
 *    /proc/interrupts;
 *  - the device is back to its state before the attach: still bound to
 *    pcipass, decoding and bus mastering off, attachable by a new context;
 *  - the kernel logged no warning, BUG, KASAN or lockdep report.
 *
 * Only the fault sites of pcipass and of the kernel functions it calls
 * directly count: the stack trace filter of fault injection requires a
 * pcipass frame among the innermost PCIPASS_FAILNTH_DEPTH frames (default
 * 9, enough for pcipass's own allocations and user copies, for the IOMMU
 * domain, page tables and reserved regions, the device file, request_irq()
 * and most of MSI and MSI-X setup). Deeper sites are the business of the
 * subsystems that own them, and some are known not to survive injection:
 * ACPI's _PRT evaluation under pci_enable_device() corrupts its namespace
 * (a KASAN use-after-free follows), and the IOMMU core WARNs when giving
 * a group back its default domain fails (a "must succeed" path, one frame
 * deeper than 9). The filter also rejects the /proc/irq
 * entries request_irq() makes: it ignores their failure, and free_irq()
 * then WARNs about the entry it cannot find (kernel/irq/proc.c).
 * Sequences other than the first arm fail-nth only from the step they are
 * about, so that attach's sites are not swept again and again.
 *
 * kmemleak is scanned by the VM after every test (tests/vm/guest-run.sh).
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC,
 * FAULT_INJECTION_USERCOPY, FAULT_INJECTION_DEBUG_FS and
 * FAULT_INJECTION_STACKTRACE_FILTER (the debug-lane kernel); skips
 * elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096UL
#define MAP_LEN		(16 * PAGE_SZ)
#define MAP_IOVA	0x100000ULL
#define MAX_NTH		1000
#define FI_DIR		"/sys/kernel/debug"
#define CMD_DECODE	0x0007	/* I/O, memory, bus master */
#define STAT_FILE	"/sys/kernel/debug/pcipass/stat"

/* The steps sequences are made of. */
enum step {
	OPEN,		/* open /dev/pcipass */
	ATTACH,		/* PCIPASS_DEVICE_ATTACH */
	MAP,		/* PCIPASS_DMA_MAP of MAP_LEN at MAP_IOVA */
	MSI,		/* enable MSI, one vector, with an eventfd */
	MSIX,		/* enable MSI-X, four vectors, with eventfds */
	INTX,		/* enable INTx with an eventfd and an unmask eventfd */
	TRIGGER,	/* loopback-trigger vector 0 */
	IRQ_OFF,	/* disable the enabled type */
	UNMAP,		/* PCIPASS_DMA_UNMAP of the mapping */
	DETACH,		/* PCIPASS_DEVICE_DETACH */
	CLOSE_DEV,	/* close the device file */
	CLOSE,		/* close the context */
	V_OPEN,		/* VFIO: open the container node */
	V_GROUP,	/* VFIO: open the group node, SET_CONTAINER */
	V_IOMMU,	/* VFIO: SET_IOMMU type1v2, IOMMU_GET_INFO */
	V_MAP,		/* VFIO: MAP_DMA of MAP_LEN at MAP_IOVA */
	V_DEVICE,	/* VFIO: GET_DEVICE_FD, region info, config read */
	V_MSI,		/* VFIO: SET_IRQS MSI trigger with an eventfd */
	V_UNMAP,	/* VFIO: UNMAP_DMA with FLAG_ALL */
	V_CLOSE_GROUP,	/* VFIO: close the group */
	NUM_STEPS
};

static const char * const step_names[NUM_STEPS] = {
	"open", "attach", "map", "msi", "msix", "intx", "trigger", "irq-off",
	"unmap", "detach", "close-dev", "close", "v-open", "v-group",
	"v-iommu", "v-map", "v-device", "v-msi", "v-unmap", "v-close-grp",
};

/* One run of a sequence. */
struct run {
	const char *addr;
	int ctx;
	int dev;
	int group;
	int efd[4];
	__u32 irq_type;
	void *mem;
};

/* The fault injection debugfs knobs, set for the test and put back. */
static const char * const fi_attrs[] = {
	"failslab", "fail_page_alloc", "fail_usercopy",
};

static const struct {
	const char *attr;	/* NULL: every one of fi_attrs */
	const char *file;
	const char *val;	/* NULL: computed */
} fi_knobs[] = {
	/* GFP_KERNEL allocations may fail too, not only atomic ones. */
	{ "failslab", "ignore-gfp-wait", "N" },
	{ "fail_page_alloc", "ignore-gfp-wait", "N" },
	/* Order 0 pages too (page tables, IOMMU page tables). */
	{ "fail_page_alloc", "min-order", "0" },
	/* No stack dump per injected failure: it is not a report. */
	{ NULL, "verbose", "0" },
	/* Only sites with a pcipass frame close to them... */
	{ NULL, "require-start", NULL },
	{ NULL, "require-end", NULL },
	{ NULL, "stacktrace-depth", NULL },
	/* ... and not in register_handler_proc() or register_irq_proc(). */
	{ NULL, "reject-start", NULL },
	{ NULL, "reject-end", NULL },
};

#define MAX_KNOBS	(ARRAY_SIZE(fi_knobs) * ARRAY_SIZE(fi_attrs))

static struct {
	char path[128];
	char saved[32];
	char val[32];
} knobs[MAX_KNOBS];
static unsigned int nknobs;

/*
 * From /proc/kallsyms: the bounds of pcipass's code, and the range from
 * register_handler_proc() to unregister_irq_proc(), which follows
 * register_irq_proc(). 0 or -1.
 */
static int code_ranges(unsigned long long *start, unsigned long long *end,
		       unsigned long long *rej_start,
		       unsigned long long *rej_end)
{
	unsigned long long addr;
	char line[512], type, name[256];
	FILE *f;

	*start = ~0ULL;
	*end = 0;
	*rej_start = 0;
	*rej_end = 0;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    (type != 't' && type != 'T') || !addr)
			continue;
		if (!strcmp(name, "register_handler_proc"))
			*rej_start = addr;
		else if (!strcmp(name, "unregister_irq_proc"))
			*rej_end = addr;
		if (!strstr(line, "\t[pcipass]"))
			continue;
		if (addr < *start)
			*start = addr;
		if (addr > *end)
			*end = addr;
	}
	fclose(f);
	if (*start > *end || *rej_start >= *rej_end ||
	    *rej_end - *rej_start > 0x10000)
		return -1;
	/* Past the start of the last function: its body. */
	*end += 0x10000;
	return 0;
}

/* Fill knobs[]; false (and @why) when this kernel cannot do the test. */
static bool knobs_prepare(char *why, size_t len)
{
	unsigned long long start, end, rej_start, rej_end;
	const char *depth = getenv("PCIPASS_FAILNTH_DEPTH");
	unsigned int i, a;

	if (code_ranges(&start, &end, &rej_start, &rej_end)) {
		snprintf(why, len, "no pcipass or irq proc code in /proc/kallsyms");
		return false;
	}
	nknobs = 0;
	for (i = 0; i < ARRAY_SIZE(fi_knobs); i++) {
		for (a = 0; a < ARRAY_SIZE(fi_attrs); a++) {
			const char *val = fi_knobs[i].val;

			if (fi_knobs[i].attr &&
			    strcmp(fi_knobs[i].attr, fi_attrs[a]))
				continue;
			snprintf(knobs[nknobs].path, sizeof(knobs[nknobs].path),
				 FI_DIR "/%s/%s", fi_attrs[a], fi_knobs[i].file);
			if (pp_read_file(knobs[nknobs].path, knobs[nknobs].saved,
					 sizeof(knobs[nknobs].saved))) {
				snprintf(why, len, "no %s (see the top of this file)",
					 knobs[nknobs].path);
				return false;
			}
			if (!strcmp(fi_knobs[i].file, "require-start"))
				snprintf(knobs[nknobs].val, sizeof(knobs[0].val),
					 "%llu", start);
			else if (!strcmp(fi_knobs[i].file, "require-end"))
				snprintf(knobs[nknobs].val, sizeof(knobs[0].val),
					 "%llu", end);
			else if (!strcmp(fi_knobs[i].file, "reject-start"))
				snprintf(knobs[nknobs].val, sizeof(knobs[0].val),
					 "%llu", rej_start);
			else if (!strcmp(fi_knobs[i].file, "reject-end"))
				snprintf(knobs[nknobs].val, sizeof(knobs[0].val),
					 "%llu", rej_end);
			else if (!strcmp(fi_knobs[i].file, "stacktrace-depth"))
				snprintf(knobs[nknobs].val, sizeof(knobs[0].val),
					 "%s", depth && *depth ? depth : "9");
			else
				snprintf(knobs[nknobs].val, sizeof(knobs[0].val),
					 "%s", val);
			nknobs++;
		}
	}
	return true;
}

/* The VFIO steps, on the VFIO compatibility nodes; 0 or the errno. */
static int vfio_step_run(struct run *r, enum step s)
{
	struct {
		struct vfio_iommu_type1_info info;
		char caps[256];
	} ii = { .info.argsz = sizeof(ii) };
	struct vfio_region_info ri = { .argsz = sizeof(ri),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (__u64)(unsigned long)r->mem, .iova = MAP_IOVA,
		.size = MAP_LEN,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .flags = VFIO_DMA_UNMAP_FLAG_ALL,
	};
	struct {
		struct vfio_irq_set hdr;
		__s32 fd;
	} irq = { .hdr = {
		.argsz = sizeof(irq),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX, .count = 1,
	}, .fd = r->efd[0] };
	char path[128], link[128], cfg[256];
	ssize_t n;
	int ret;

	switch (s) {
	case V_OPEN:
		r->ctx = open("/dev/pcipass-vfio/vfio", O_RDWR | O_CLOEXEC);
		return r->ctx < 0 ? errno : 0;
	case V_GROUP:
		snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/iommu_group",
			 r->addr);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			return errno;
		link[n] = 0;
		snprintf(path, sizeof(path), "/dev/pcipass-vfio/%s",
			 strrchr(link, '/') + 1);
		r->group = open(path, O_RDWR | O_CLOEXEC);
		if (r->group < 0)
			return errno;
		return pp_ioctl(r->group, VFIO_GROUP_SET_CONTAINER, &r->ctx);
	case V_IOMMU:
		if (ioctl(r->ctx, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
			return errno;
		return pp_ioctl(r->ctx, VFIO_IOMMU_GET_INFO, &ii);
	case V_MAP:
		return pp_ioctl(r->ctx, VFIO_IOMMU_MAP_DMA, &map);
	case V_DEVICE:
		r->dev = ioctl(r->group, VFIO_GROUP_GET_DEVICE_FD, r->addr);
		if (r->dev < 0)
			return errno;
		ret = pp_ioctl(r->dev, VFIO_DEVICE_GET_REGION_INFO, &ri);
		if (ret)
			return ret;
		return pread(r->dev, cfg, sizeof(cfg), ri.offset) < 0 ? errno : 0;
	case V_MSI:
		r->irq_type = PCIPASS_IRQ_MSI;
		return pp_ioctl(r->dev, VFIO_DEVICE_SET_IRQS, &irq);
	case V_UNMAP:
		ret = pp_ioctl(r->ctx, VFIO_IOMMU_UNMAP_DMA, &unmap);
		if (!ret && unmap.size != MAP_LEN)
			return -1;
		return ret;
	case V_CLOSE_GROUP:
		ret = close(r->group) ? errno : 0;
		r->group = -1;
		return ret;
	default:
		return -1;
	}
}

/* Runs step @s; 0 or the errno it failed with. */
static int step_run(struct run *r, enum step s)
{
	struct pcipass_dma_unmap unmap = {
		.size = sizeof(unmap), .iova = MAP_IOVA, .length = MAP_LEN,
	};
	__s32 fds[4];
	int ret, i;

	switch (s) {
	case OPEN:
		r->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
		return r->ctx < 0 ? errno : 0;
	case ATTACH:
		return pp_attach(r->ctx, r->addr, &r->dev);
	case MAP:
		return pp_map(r->ctx, r->mem, MAP_IOVA, MAP_LEN,
			      PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE);
	case MSI:
	case MSIX:
	case INTX:
		r->irq_type = s == MSI ? PCIPASS_IRQ_MSI :
			      s == MSIX ? PCIPASS_IRQ_MSIX : PCIPASS_IRQ_INTX;
		ret = pp_irq_set(r->dev, PCIPASS_IRQ_SET_ENABLE, r->irq_type, 0,
				 s == MSIX ? 4 : 1, NULL);
		if (ret)
			return ret;
		for (i = 0; i < 4; i++)
			fds[i] = r->efd[i];
		ret = pp_irq_set(r->dev, PCIPASS_IRQ_SET_EVENTFD, r->irq_type, 0,
				 s == MSIX ? 4 : 1, fds);
		if (ret || s != INTX)
			return ret;
		return pp_irq_set(r->dev, PCIPASS_IRQ_SET_UNMASK_EVENTFD,
				  r->irq_type, 0, 1, &fds[3]);
	case TRIGGER:
		return pp_irq_set(r->dev, PCIPASS_IRQ_SET_TRIGGER, r->irq_type, 0,
				  1, NULL);
	case IRQ_OFF:
		return pp_irq_set(r->dev, PCIPASS_IRQ_SET_DISABLE, r->irq_type, 0,
				  0, NULL);
	case UNMAP:
		ret = pp_ioctl(r->ctx, PCIPASS_DMA_UNMAP, &unmap);
		/* Success means all of it: a partial unmap is a bug. */
		if (!ret && unmap.length != MAP_LEN)
			return -1;
		return ret;
	case DETACH:
		return pp_detach(r->ctx, r->addr);
	case CLOSE_DEV:
		ret = close(r->dev) ? errno : 0;
		r->dev = -1;
		return ret;
	case CLOSE:
		ret = close(r->ctx) ? errno : 0;
		r->ctx = -1;
		return ret;
	default:
		return vfio_step_run(r, s);
	}
}

/* Arm fail-nth: the @nth fault site from now on fails. 0 or -errno. */
static int fail_nth_arm(int fd, int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", nth);

	return pwrite(fd, buf, len, 0) == len ? 0 : -errno;
}

static int fail_nth_fd(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return open(path, O_RDWR | O_CLOEXEC);
}

/*
 * Turn fail-nth off; true when the nth site was never reached. Reading and
 * writing fail-nth are user copies themselves, so while it still counts
 * they consume sites too: an EFAULT here means "it was 1", as in the
 * iommufd selftests.
 */
static bool fail_nth_disarm(struct __test_metadata *_metadata, int fd)
{
	char buf[16] = "";
	ssize_t n;
	bool unreached;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0 && errno == EFAULT) {
		unreached = true;
	} else {
		ASSERT_LT(0, n);
		unreached = atoi(buf) != 0;
	}
	n = pwrite(fd, "0", 1, 0);
	if (n < 0 && errno == EFAULT) {
		unreached = true;
		n = pwrite(fd, "0", 1, 0);
	}
	ASSERT_EQ(1, n);
	return unreached;
}

/* Reports in the kernel log since the last call: 1 and logged if any. */
static const char * const bad_kmsg[] = {
	"WARNING:", "BUG:", "KASAN", "UBSAN", "Oops", "Call Trace",
	"general protection", "possible recursive locking",
	"circular locking dependency", "inconsistent lock state",
	"sleeping function called from invalid context", "kmemleak",
	"refcount_t:", "list_add corruption", "list_del corruption",
};

static int kmsg_reports(int fd, int nth, const char *seq)
{
	char rec[2048];
	int bad = 0;
	unsigned int i;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return bad;
		rec[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(bad_kmsg); i++) {
			if (strstr(rec, bad_kmsg[i])) {
				ksft_print_msg("%s, fail-nth %d: kernel: %s",
					       seq, nth, rec);
				bad = 1;
				break;
			}
		}
	}
}

/* Records of the statistics file naming @addr as attached, or -1. */
static int stat_attached(const char *addr)
{
	char line[512], prefix[64];
	int n = 0;
	FILE *f;

	f = fopen(STAT_FILE, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		snprintf(prefix, sizeof(prefix), " %s ", addr);
		if (!strncmp(line, "dev ", 4) && strstr(line, prefix))
			n++;
	}
	fclose(f);
	return n;
}

/* Grow the stack now: a page fault during a run could be injected too. */
static void stack_prefault(void)
{
	char pad[64 * 1024];

	memset(pad, 0, sizeof(pad));
	__asm__ __volatile__("" : : "r"(pad) : "memory");
}

FIXTURE(failnth) {
	const char *addr;
	int nth_fd;
	int kmsg;
	bool knobs_set;
	void *mem;
	/* The state before the first attach. */
	long pins;
	long vmpin;
	__u16 cmd;
};

FIXTURE_VARIANT(failnth) {
	const char *name;
	bool nvme;
	enum step steps[14];
	int nsteps;
	int arm;	/* index of the first step run with fail-nth armed */
	int min_runs;	/* at least this many fault sites: the filter works */
	bool ctx_first;	/* a VMM's exit closes the context first */
};

#define SEQ(...) \
	.steps = { __VA_ARGS__ }, \
	.nsteps = sizeof((enum step[]){ __VA_ARGS__ }) / sizeof(enum step)

/* The whole life of a device in a VMM. */
FIXTURE_VARIANT_ADD(failnth, edu_msi) {
	.name = "edu: open, attach, map, MSI, unmap, detach, close",
	SEQ(OPEN, ATTACH, MAP, MSI, TRIGGER, IRQ_OFF, UNMAP, DETACH,
	    CLOSE_DEV, CLOSE),
	.arm = 0,
	.min_runs = 2,
};

FIXTURE_VARIANT_ADD(failnth, edu_intx) {
	.name = "edu: INTx, with an unmask eventfd",
	SEQ(OPEN, ATTACH, INTX, TRIGGER, IRQ_OFF, DETACH, CLOSE),
	.arm = 2,
	.min_runs = 2,
};

/*
 * Everything left in place: the context's release undoes it all. The sites
 * before the close are edu_msi's; only the close is swept here.
 */
FIXTURE_VARIANT_ADD(failnth, edu_close_holding_everything) {
	.name = "edu: map, MSI, close the context first",
	SEQ(OPEN, ATTACH, MAP, MSI, CLOSE, CLOSE_DEV),
	.arm = 4,
	.min_runs = 1,
	.ctx_first = true,
};

/* MSI-X: a table in a BAR, several vectors. */
FIXTURE_VARIANT_ADD(failnth, nvme_msix) {
	.name = "nvme: MSI-X, four vectors",
	.nvme = true,
	SEQ(OPEN, ATTACH, MAP, MSIX, TRIGGER, IRQ_OFF, UNMAP, DETACH,
	    CLOSE_DEV, CLOSE),
	.arm = 3,
	.min_runs = 2,
};

/*
 * The same life through the VFIO compatibility layer, as QEMU lives it,
 * in two sweeps: the container and group (no device attached: cheap runs),
 * then the device and what follows.
 */
FIXTURE_VARIANT_ADD(failnth, vfio_container) {
	.name = "VFIO: container, group, iommu, map, unmap",
	SEQ(V_OPEN, V_GROUP, V_IOMMU, V_MAP, V_UNMAP, V_CLOSE_GROUP, CLOSE),
	.arm = 0,
	.min_runs = 2,
};

FIXTURE_VARIANT_ADD(failnth, vfio_edu_msi) {
	.name = "edu via VFIO: device, MSI, unmap",
	SEQ(V_OPEN, V_GROUP, V_IOMMU, V_MAP, V_DEVICE, V_MSI, TRIGGER,
	    IRQ_OFF, V_UNMAP, CLOSE_DEV, V_CLOSE_GROUP, CLOSE),
	.arm = 4,
	.min_runs = 2,
};

/* A VMM killed with everything held: the container goes first. */
FIXTURE_VARIANT_ADD(failnth, vfio_close_holding_everything) {
	.name = "edu via VFIO: map, device, MSI, close the container first",
	SEQ(V_OPEN, V_GROUP, V_IOMMU, V_MAP, V_DEVICE, V_MSI, CLOSE,
	    V_CLOSE_GROUP, CLOSE_DEV),
	.arm = 6,
	.min_runs = 1,
	.ctx_first = true,
};

FIXTURE_SETUP(failnth)
{
	char why[256];
	unsigned int i;

	self->addr = variant->nvme ? pp_nvme_addr() : pp_edu_addr();
	self->nth_fd = -1;
	self->kmsg = -1;
	self->knobs_set = false;
	self->mem = MAP_FAILED;
	if (!pp_vm_is("iommu"))
		SKIP(return, "needs the IOMMU VM with interrupt remapping");
	self->nth_fd = fail_nth_fd();
	if (self->nth_fd < 0)
		SKIP(return, "no fail-nth: the kernel has no CONFIG_FAULT_INJECTION");

	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_rebind(self->addr, "pcipass"));
	ASSERT_TRUE(pp_wait_driver(self->addr, "pcipass", 5000));
	if (!knobs_prepare(why, sizeof(why)))
		SKIP(return, "%s", why);
	for (i = 0; i < nknobs; i++)
		ASSERT_EQ(0, pp_write_file(knobs[i].path, knobs[i].val))
			TH_LOG("%s = %s", knobs[i].path, knobs[i].val);
	self->knobs_set = true;

	/* Faulted in now: page faults during a run would be injected too. */
	self->mem = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, 0x5a, MAP_LEN);

	self->kmsg = pp_kmsg_open();
	ASSERT_LE(0, self->kmsg);
	self->pins = pp_foll_pins();
	self->vmpin = pp_status_kb("VmPin");
	self->cmd = pp_dev_command(self->addr);
	ASSERT_EQ(0, self->cmd & CMD_DECODE);
	ASSERT_EQ(0, pp_irq_lines(NULL));
}

FIXTURE_TEARDOWN(failnth)
{
	unsigned int i;

	if (self->nth_fd >= 0)
		close(self->nth_fd);
	if (self->kmsg >= 0)
		close(self->kmsg);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MAP_LEN);
	for (i = 0; self->knobs_set && i < nknobs; i++)
		pp_write_file(knobs[i].path, knobs[i].saved);
	/* nvme goes back to its own driver for the tests that follow. */
	if (variant->nvme) {
		pp_dev_rebind(pp_nvme_addr(), "");
		pp_wait_driver(pp_nvme_addr(), "nvme", 5000);
	}
}

/* After a run: nothing leaked, the device is as it was before it. */
static void expect_clean(struct __test_metadata *_metadata,
			 struct _test_data_failnth *self, const char *seq,
			 int nth)
{
	char drv[64];

	EXPECT_EQ(self->pins, pp_foll_pins())
		TH_LOG("%s, fail-nth %d: pinned pages leaked", seq, nth);
	EXPECT_EQ(self->vmpin, pp_status_kb("VmPin"))
		TH_LOG("%s, fail-nth %d: VmPin not given back", seq, nth);
	EXPECT_EQ(0, pp_irq_lines(NULL))
		TH_LOG("%s, fail-nth %d: IRQs left in /proc/interrupts", seq,
		       nth);
	ASSERT_EQ(0, pp_dev_driver(self->addr, drv, sizeof(drv)));
	ASSERT_STREQ("pcipass", drv)
		TH_LOG("%s, fail-nth %d: the device left pcipass", seq, nth);
	EXPECT_EQ(self->cmd, pp_dev_command(self->addr))
		TH_LOG("%s, fail-nth %d: command register changed", seq, nth);
	/* pcipass's own view, where it has one; the next run checks too. */
	EXPECT_GE(0, stat_attached(self->addr))
		TH_LOG("%s, fail-nth %d: still attached", seq, nth);
	EXPECT_EQ(0, kmsg_reports(self->kmsg, nth, seq));
}

TEST_F_TIMEOUT(failnth, every_failure_is_an_errno_and_leaks_nothing, 900)
{
	int failed_at[NUM_STEPS] = {}, errnos[NUM_STEPS] = {};
	long step_ms[ARRAY_SIZE(variant->steps)] = {}, clean_ms = 0, t;
	int nth, i, ret, fails = 0, absorbed = 0;
	enum step s = OPEN;
	bool done = false;
	struct run r;

	stack_prefault();
	for (nth = 1; !done; nth++) {
		ASSERT_GT(MAX_NTH, nth) TH_LOG("%s: still failing at %d",
					       variant->name, nth);
		r = (struct run){ .addr = self->addr, .ctx = -1, .dev = -1,
				  .group = -1, .mem = self->mem };
		for (i = 0; i < 4; i++) {
			r.efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			ASSERT_LE(0, r.efd[i]);
		}

		/* The run: it stops at the first step that fails, as a VMM. */
		ret = 0;
		for (i = 0; i < variant->nsteps && !ret; i++) {
			s = variant->steps[i];
			if (i == variant->arm)
				ASSERT_EQ(0, fail_nth_arm(self->nth_fd, nth));
			t = pp_now_ms();
			ret = step_run(&r, s);
			step_ms[i] += pp_now_ms() - t;
			/* Before the armed steps, nothing may fail. */
			ASSERT_FALSE(ret && i < variant->arm)
				TH_LOG("%s: unarmed step %s failed: %s",
				       variant->name, step_names[s],
				       strerror(ret));
		}
		done = fail_nth_disarm(_metadata, self->nth_fd);

		if (ret) {
			/* An errno, from the step, never a made-up value. */
			ASSERT_TRUE(ret > 0 && ret < 4096)
				TH_LOG("%s, fail-nth %d: step %s gave %d",
				       variant->name, nth, step_names[s], ret);
			ASSERT_FALSE(done)
				TH_LOG("%s: step %s failed (%s) with no fault injected",
				       variant->name, step_names[s],
				       strerror(ret));
			failed_at[s]++;
			errnos[s] = ret;
			fails++;
		} else if (!done) {
			/* The failure was absorbed: fine, if it left no mess. */
			absorbed++;
		}

		/* Undo what the run left, the way a VMM's exit does. */
		t = pp_now_ms();
		if (variant->ctx_first && r.ctx >= 0)
			close(r.ctx);
		if (r.dev >= 0)
			close(r.dev);
		if (r.group >= 0)
			close(r.group);
		if (!variant->ctx_first && r.ctx >= 0)
			close(r.ctx);
		for (i = 0; i < 4; i++)
			close(r.efd[i]);

		expect_clean(_metadata, self, variant->name, nth);
		clean_ms += pp_now_ms() - t;
		if (_metadata->exit_code == KSFT_FAIL)
			break;
	}

	ksft_print_msg("%s: %d runs, %d failed with an errno, %d absorbed the failure\n",
		       variant->name, nth - 1, fails, absorbed);
	for (i = 0; i < NUM_STEPS; i++)
		if (failed_at[i])
			ksft_print_msg("  %-9s failed %3d times (last: %s)\n",
				       step_names[i], failed_at[i],
				       strerror(errnos[i]));
	/* Where the time went (the debug lane's budget). */
	for (i = 0; i < variant->nsteps; i++)
		ksft_print_msg("  %-11s %6ld ms in all runs\n",
			       step_names[variant->steps[i]], step_ms[i]);
	ksft_print_msg("  %-11s %6ld ms in all runs\n", "undo+check", clean_ms);
	/* The armed steps have fault sites: too few, the filter is wrong. */
	EXPECT_LE(variant->min_runs, nth - 1);

	/* Not attached: a new context can have the device. */
	r.ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, r.ctx);
	EXPECT_EQ(0, pp_attach(r.ctx, self->addr, &r.dev));
	if (r.dev >= 0)
		close(r.dev);
	close(r.ctx);
	expect_clean(_metadata, self, variant->name, nth);
}

TEST_HARNESS_MAIN
