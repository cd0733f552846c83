// SPDX-License-Identifier: GPL-2.0
/*
 * Device attach and DMA mapping, driven the way a VMM drives them: attach
 * edu and nvme to a context, map user memory, program the devices through
 * their BARs, and check the bytes the devices wrote, the DMA the IOMMU
 * blocked, every documented errno, and that pins and charges come back.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096UL
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_UNMAPPED	0x300000ULL
#define MSI_WINDOW	0xfee00000ULL

static void *pp_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Bind @addr to pcipass (driver_override) and wait for it. */
static void pp_give_back_nvme(void)
{
	pp_dev_rebind(pp_nvme_addr(), "");
	pp_wait_driver(pp_nvme_addr(), "nvme", 5000);
}

/* Pins and charges of this process and the system, to compare later. */
struct pp_pin_state {
	long vm_pin;
	long vm_lck;
	long foll_pins;
};

static void pp_pin_state(struct pp_pin_state *st)
{
	st->vm_pin = pp_status_kb("VmPin");
	st->vm_lck = pp_status_kb("VmLck");
	st->foll_pins = pp_foll_pins();
}

static void expect_pins_back(struct __test_metadata *_metadata,
			     const struct pp_pin_state *start)
{
	struct pp_pin_state now;

	pp_pin_state(&now);
	EXPECT_EQ(start->vm_pin, now.vm_pin);
	EXPECT_EQ(start->vm_lck, now.vm_lck);
	EXPECT_EQ(start->foll_pins, now.foll_pins);
}

FIXTURE(edu) {
	int ctx;
	int dev;
	void *bar;
	size_t bar_len;
	__u8 *src;
	__u8 *dst;
	struct pp_pin_state start;
};

FIXTURE_SETUP(edu)
{
	self->ctx = -1;
	self->dev = -1;
	self->bar = NULL;
	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	pp_pin_state(&self->start);

	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, pp_edu_addr(), &self->dev));
	/* Bus mastering is the VMM's to turn on (config access comes later). */
	ASSERT_EQ(0, pp_cfg_set_bus_master(self->dev, true));
	self->bar = pp_map_bar(self->dev, 0, &self->bar_len);
	ASSERT_NE(NULL, self->bar);
	ASSERT_EQ(0x010000ed, pp_edu_read(self->bar, 0x00));

	self->src = pp_alloc(PAGE_SZ);
	self->dst = pp_alloc(PAGE_SZ);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
}

FIXTURE_TEARDOWN(edu)
{
	if (self->bar)
		munmap(self->bar, self->bar_len);
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	/* Everything the context held is given back when it is closed. */
	if (self->ctx >= 0)
		expect_pins_back(_metadata, &self->start);
}

TEST_F(edu, dma_round_trip_through_the_iommu)
{
	struct pp_pin_state mapped;
	unsigned int i;

	for (i = 0; i < EDU_DMA_MAX; i++)
		self->src[i] = i * 7 + 3;
	memset(self->dst, 0x5a, PAGE_SZ);

	ASSERT_EQ(0, pp_map(self->ctx, self->src, IOVA_SRC, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	ASSERT_EQ(0, pp_map(self->ctx, self->dst, IOVA_DST, PAGE_SZ,
			    PCIPASS_DMA_MAP_WRITE));
	pp_pin_state(&mapped);
	/* Counted in the pinned memory of the process whose pages they are. */
	EXPECT_EQ(self->start.vm_pin + 8, mapped.vm_pin);
	EXPECT_EQ(self->start.vm_lck, mapped.vm_lck);
	EXPECT_EQ(self->start.foll_pins + 2, mapped.foll_pins);

	/* RAM -> device buffer -> RAM, both legs through the IOMMU. */
	ASSERT_TRUE(pp_edu_dma(self->bar, IOVA_SRC, EDU_BUF, EDU_DMA_MAX,
			       false));
	ASSERT_TRUE(pp_edu_dma(self->bar, EDU_BUF, IOVA_DST, EDU_DMA_MAX,
			       true));
	EXPECT_EQ(0, memcmp(self->src, self->dst, EDU_DMA_MAX));
	/* The byte past the DMA is untouched. */
	EXPECT_EQ(0x5a, self->dst[EDU_DMA_MAX]);

	EXPECT_EQ(0, pp_unmap(self->ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
	expect_pins_back(_metadata, &self->start);
}

TEST_F(edu, dma_to_an_unmapped_iova_is_blocked)
{
	int kmsg = pp_kmsg_open();

	memset(self->dst, 0x11, PAGE_SZ);
	ASSERT_EQ(0, pp_map(self->ctx, self->dst, IOVA_DST, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE));
	/* Fill the device buffer with something recognizable. */
	memset(self->src, 0xee, PAGE_SZ);
	ASSERT_EQ(0, pp_map(self->ctx, self->src, IOVA_SRC, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	ASSERT_TRUE(pp_edu_dma(self->bar, IOVA_SRC, EDU_BUF, EDU_DMA_MAX,
			       false));

	/* Never mapped: the IOMMU faults, no memory changes. */
	ASSERT_TRUE(pp_edu_dma(self->bar, EDU_BUF, IOVA_UNMAPPED, 64, true));
	EXPECT_EQ(0x11, self->dst[0]);
	EXPECT_TRUE(pp_kmsg_wait(kmsg, "DMAR: [DMA Write", 3000));

	/* Mapped, then unmapped: the same. */
	ASSERT_EQ(0, pp_unmap(self->ctx, IOVA_DST, PAGE_SZ, 0));
	ASSERT_TRUE(pp_edu_dma(self->bar, EDU_BUF, IOVA_DST, 64, true));
	EXPECT_EQ(0x11, self->dst[0]);
	EXPECT_EQ(0x11, self->dst[63]);
	close(kmsg);
}

TEST_F(edu, dma_write_to_a_read_only_mapping_is_blocked)
{
	int kmsg = pp_kmsg_open();

	memset(self->src, 0xee, PAGE_SZ);
	memset(self->dst, 0x22, PAGE_SZ);
	ASSERT_EQ(0, pp_map(self->ctx, self->src, IOVA_SRC, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	ASSERT_EQ(0, pp_map(self->ctx, self->dst, IOVA_DST, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	ASSERT_TRUE(pp_edu_dma(self->bar, IOVA_SRC, EDU_BUF, EDU_DMA_MAX,
			       false));
	ASSERT_TRUE(pp_edu_dma(self->bar, EDU_BUF, IOVA_DST, 128, true));
	EXPECT_EQ(0x22, self->dst[0]);
	EXPECT_EQ(0x22, self->dst[127]);
	EXPECT_TRUE(pp_kmsg_wait(kmsg, "DMAR: [DMA Write", 3000));
	close(kmsg);
}

TEST_F(edu, map_and_unmap_refuse_bad_input)
{
	void *ro;

	/* Neither read nor write, unknown flags. */
	EXPECT_EQ(EINVAL, pp_map(self->ctx, self->src, IOVA_SRC, PAGE_SZ, 0));
	EXPECT_EQ(EOPNOTSUPP, pp_map(self->ctx, self->src, IOVA_SRC, PAGE_SZ,
				     PCIPASS_DMA_MAP_READ | 0x100));
	/* Zero and unaligned lengths and addresses. */
	EXPECT_EQ(EINVAL, pp_map(self->ctx, self->src, IOVA_SRC, 0,
				 PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EINVAL, pp_map(self->ctx, self->src, IOVA_SRC, 100,
				 PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EINVAL, pp_map(self->ctx, self->src, IOVA_SRC + 8, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EINVAL, pp_map(self->ctx, self->src + 8, IOVA_SRC, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	/* Wrap-around of the IOVA and of the user address. */
	EXPECT_EQ(EINVAL, pp_map(self->ctx, self->src, -PAGE_SZ, 2 * PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EINVAL, pp_map(self->ctx, (void *)-PAGE_SZ, IOVA_SRC,
				 2 * PAGE_SZ, PCIPASS_DMA_MAP_READ));
	/* Outside the usable ranges: the MSI window, above the aperture. */
	EXPECT_EQ(ERANGE, pp_map(self->ctx, self->src, MSI_WINDOW, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(ERANGE, pp_map(self->ctx, self->src, 0xfedff000ULL,
				 2 * PAGE_SZ, PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(ERANGE, pp_map(self->ctx, self->src, 1ULL << 48, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	/* Memory the caller does not have, or cannot write. */
	EXPECT_EQ(EFAULT, pp_map(self->ctx, (void *)PAGE_SZ, IOVA_SRC, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	ro = mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(EFAULT, pp_map(self->ctx, ro, IOVA_SRC, PAGE_SZ,
				 PCIPASS_DMA_MAP_WRITE));
	munmap(ro, PAGE_SZ);
	/* None of that left anything behind. */
	expect_pins_back(_metadata, &self->start);

	/* Overlap with an existing mapping. */
	ASSERT_EQ(0, pp_map(self->ctx, self->src, IOVA_SRC, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EEXIST, pp_map(self->ctx, self->dst, IOVA_SRC, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EEXIST, pp_map(self->ctx, self->dst, IOVA_SRC - PAGE_SZ,
				 2 * PAGE_SZ, PCIPASS_DMA_MAP_READ));

	/* Unmap: nothing there, a cut mapping, malformed requests. */
	EXPECT_EQ(ENOENT, pp_unmap(self->ctx, IOVA_DST, PAGE_SZ, 0));
	EXPECT_EQ(EINVAL, pp_unmap(self->ctx, IOVA_SRC, 0, 0));
	EXPECT_EQ(EINVAL, pp_unmap(self->ctx, IOVA_SRC + 8, PAGE_SZ, 0));
	EXPECT_EQ(EINVAL, pp_unmap(self->ctx, IOVA_SRC, PAGE_SZ,
				   PCIPASS_DMA_UNMAP_ALL));
	EXPECT_EQ(EOPNOTSUPP, pp_unmap(self->ctx, IOVA_SRC, PAGE_SZ, 0x8));
	ASSERT_EQ(0, pp_unmap(self->ctx, IOVA_SRC, PAGE_SZ, 0));
	expect_pins_back(_metadata, &self->start);
}

TEST_F(edu, a_pin_failing_halfway_unpins_what_it_pinned)
{
	__u8 *mem = pp_alloc(4 * PAGE_SZ);

	ASSERT_NE(NULL, mem);
	/* The last of four pages is gone: pinning fails on it. */
	ASSERT_EQ(0, munmap(mem + 3 * PAGE_SZ, PAGE_SZ));
	EXPECT_EQ(EFAULT, pp_map(self->ctx, mem, IOVA_SRC, 4 * PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	expect_pins_back(_metadata, &self->start);
	/* Nothing is mapped there either. */
	EXPECT_EQ(ENOENT, pp_unmap(self->ctx, IOVA_SRC, 4 * PAGE_SZ, 0));
	EXPECT_EQ(0, pp_map(self->ctx, mem, IOVA_SRC, 3 * PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(0, pp_unmap(self->ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
	munmap(mem, 3 * PAGE_SZ);
}

/* IOMMU page-table pages of the whole system. */
static long pp_iommu_pages(void)
{
	pp_write_file("/proc/sys/vm/stat_refresh", "1");
	return pp_vmstat("nr_iommu_pages");
}

/* 4 MiB of anonymous memory, 2 MiB aligned, huge or not. */
static __u8 *pp_alloc_4m(bool huge, void **base)
{
	size_t len = 6UL << 20;
	__u8 *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u8 *aligned;

	if (p == MAP_FAILED)
		return NULL;
	*base = p;
	aligned = (__u8 *)(((unsigned long)p + (2UL << 20) - 1) &
			   ~((2UL << 20) - 1));
	madvise(aligned, 4UL << 20, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(aligned, 1, 4UL << 20);
	return aligned;
}

TEST_F(edu, contiguous_memory_is_mapped_with_large_iommu_pages)
{
	long before, small, large;
	void *base1, *base2;
	__u8 *p4k, *p2m;

	p4k = pp_alloc_4m(false, &base1);
	p2m = pp_alloc_4m(true, &base2);
	ASSERT_TRUE(p4k && p2m);
	if (pp_status_kb("AnonHugePages") < 4096 &&
	    pp_file_kb("/proc/meminfo", "AnonHugePages") < 4096)
		SKIP(return, "no transparent huge pages in this VM");

	/* 4 KiB pages: the IOMMU needs page tables for 2 x 512 entries. */
	before = pp_iommu_pages();
	ASSERT_EQ(0, pp_map(self->ctx, p4k, 0x4000000, 4UL << 20,
			    PCIPASS_DMA_MAP_READ));
	small = pp_iommu_pages() - before;
	/* 2 MiB pages at a 2 MiB aligned IOVA: no last-level tables. */
	before = pp_iommu_pages();
	ASSERT_EQ(0, pp_map(self->ctx, p2m, 0x8000000, 4UL << 20,
			    PCIPASS_DMA_MAP_READ));
	large = pp_iommu_pages() - before;
	TH_LOG("IOMMU page-table pages: %ld for 4 KiB pages, %ld for THP",
	       small, large);
	EXPECT_LE(2, small);
	EXPECT_LT(large, small);
	EXPECT_EQ(0, pp_unmap(self->ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
	munmap(base1, 6UL << 20);
	munmap(base2, 6UL << 20);
}

TEST_F(edu, unmap_refuses_to_cut_a_mapping_and_reports_bytes)
{
	struct pcipass_dma_unmap unmap = { .size = sizeof(unmap) };
	__u8 *big = pp_alloc(4 * PAGE_SZ);

	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, pp_map(self->ctx, big, IOVA_SRC, 4 * PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	ASSERT_EQ(0, pp_map(self->ctx, self->dst, IOVA_DST, PAGE_SZ,
			    PCIPASS_DMA_MAP_WRITE));
	/* The middle, or a range that ends inside the mapping. */
	EXPECT_EQ(EINVAL, pp_unmap(self->ctx, IOVA_SRC + PAGE_SZ, PAGE_SZ, 0));
	EXPECT_EQ(EINVAL, pp_unmap(self->ctx, 0, IOVA_SRC + PAGE_SZ, 0));

	/* A range covering both mappings (and the gap) unmaps both. */
	unmap.iova = IOVA_SRC;
	unmap.length = IOVA_DST + PAGE_SZ - IOVA_SRC;
	ASSERT_EQ(0, pp_ioctl(self->ctx, PCIPASS_DMA_UNMAP, &unmap));
	EXPECT_EQ(5 * PAGE_SZ, unmap.length);
	expect_pins_back(_metadata, &self->start);
	munmap(big, 4 * PAGE_SZ);
}

TEST_F(edu, iova_ranges_exclude_the_msi_window)
{
	struct pcipass_iova_range ranges[8];
	struct pcipass_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ranges = (__u64)(unsigned long)ranges,
	};

	/* Too small an array: EMSGSIZE and the number needed. */
	EXPECT_EQ(EMSGSIZE, pp_ioctl(self->ctx, PCIPASS_IOVA_RANGES, &cmd));
	ASSERT_EQ(2, cmd.num_ranges);

	cmd.num_ranges = 8;
	ASSERT_EQ(0, pp_ioctl(self->ctx, PCIPASS_IOVA_RANGES, &cmd));
	ASSERT_EQ(2, cmd.num_ranges);
	EXPECT_EQ(0, ranges[0].start);
	EXPECT_EQ(MSI_WINDOW - 1, ranges[0].last);
	EXPECT_EQ(0xfef00000ULL, ranges[1].start);
	/* VT-d in QEMU: 39-bit address width. */
	EXPECT_EQ((1ULL << 39) - 1, ranges[1].last);

	cmd.__reserved = 1;
	EXPECT_EQ(EINVAL, pp_ioctl(self->ctx, PCIPASS_IOVA_RANGES, &cmd));
	cmd.__reserved = 0;
	cmd.ranges = 8;
	EXPECT_EQ(EFAULT, pp_ioctl(self->ctx, PCIPASS_IOVA_RANGES, &cmd));
}

static int pp_capset_drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1u << CAP_IPC_LOCK);
	data[0].permitted &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data);
}

TEST_F(edu, memlock_limit_is_enforced_and_nothing_stays_pinned)
{
	pid_t pid;
	int status;

	/*
	 * A child without CAP_IPC_LOCK and with a 64 KiB limit maps into the
	 * context it inherited: the charge goes to its user (root's
	 * user_struct), the limit is the child's, the pages count in the
	 * child's VmPin and in nobody's VmLck.
	 */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { 16 * PAGE_SZ, 16 * PAGE_SZ };
		pid_t owner = getppid();
		long lck0, pins0;
		__u8 *mem = pp_alloc(32 * PAGE_SZ);

		if (!mem || pp_capset_drop_ipc_lock() ||
		    setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		lck0 = pp_status_kb_of(owner, "VmLck");
		pins0 = pp_foll_pins();
		/* Twice the limit: ENOSPC, nothing pinned or charged. */
		if (pp_map(self->ctx, mem, IOVA_SRC, 32 * PAGE_SZ,
			   PCIPASS_DMA_MAP_READ) != ENOSPC)
			_exit(11);
		if (pp_status_kb("VmPin") != 0 || pp_foll_pins() != pins0)
			_exit(12);
		/* Within the limit. */
		if (pp_map(self->ctx, mem, IOVA_SRC, 8 * PAGE_SZ,
			   PCIPASS_DMA_MAP_READ))
			_exit(13);
		if (pp_status_kb("VmPin") != 32 ||
		    pp_status_kb_of(owner, "VmLck") != lck0)
			_exit(14);
		/* The rest of the limit is too little for 12 more pages. */
		if (pp_map(self->ctx, mem + 8 * PAGE_SZ, IOVA_DST,
			   12 * PAGE_SZ, PCIPASS_DMA_MAP_READ) != ENOSPC)
			_exit(15);
		/* 8 more fit exactly. */
		if (pp_map(self->ctx, mem + 8 * PAGE_SZ, IOVA_DST,
			   8 * PAGE_SZ, PCIPASS_DMA_MAP_READ))
			_exit(16);
		if (pp_unmap(self->ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL))
			_exit(17);
		if (pp_status_kb("VmPin") != 0 || pp_foll_pins() != pins0)
			_exit(18);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * In a child that keeps root's UID but loses CAP_IPC_LOCK, with a limit of
 * @limit pages: the errno of mapping one more page into @ctx.
 */
static int pp_probe_charge(int ctx, unsigned long limit)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit rl = { limit * PAGE_SZ, limit * PAGE_SZ };
		__u8 *mem = pp_alloc(PAGE_SZ);
		int ret;

		if (!mem || pp_capset_drop_ipc_lock() ||
		    setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(100);
		ret = pp_map(ctx, mem, IOVA_UNMAPPED, PAGE_SZ,
			     PCIPASS_DMA_MAP_READ);
		if (!ret)
			pp_unmap(ctx, IOVA_UNMAPPED, PAGE_SZ, 0);
		_exit(ret);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(edu, mappings_belong_to_the_context_not_the_process)
{
	struct pp_pin_state before;
	int pipefd[2];
	pid_t pid;
	char c;

	pp_pin_state(&before);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u8 *mem = pp_alloc(64 * PAGE_SZ);

		/* The child maps into the context it inherited. */
		if (!mem || pp_map(self->ctx, mem, IOVA_SRC, 64 * PAGE_SZ,
				   PCIPASS_DMA_MAP_READ))
			_exit(1);
		if (write(pipefd[1], "m", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	EXPECT_EQ(before.foll_pins + 64, pp_foll_pins());
	/* Counted in the child's VmPin, never in this process's. */
	EXPECT_EQ(64 * 4, pp_status_kb_of(pid, "VmPin"));
	EXPECT_EQ(before.vm_pin, pp_status_kb("VmPin"));
	/* The 64 pages are charged to the user: 64 is full, 65 is not. */
	EXPECT_EQ(ENOSPC, pp_probe_charge(self->ctx, 64));
	EXPECT_EQ(0, pp_probe_charge(self->ctx, 65));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* The context, still open here, keeps the child's mapping... */
	EXPECT_EQ(before.foll_pins + 64, pp_foll_pins());
	/* ...and its charge: a dying child cannot take it away. */
	EXPECT_EQ(ENOSPC, pp_probe_charge(self->ctx, 64));
	EXPECT_EQ(0, pp_unmap(self->ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
	EXPECT_EQ(before.foll_pins, pp_foll_pins());
	/* Unmapped: the charge went with the pins. */
	EXPECT_EQ(0, pp_probe_charge(self->ctx, 1));
}

TEST_F(edu, attach_errors)
{
	struct pcipass_device_attach cmd = { .size = sizeof(cmd) };
	int ctx2, fd;
	int kmsg;

	/* Twice in one context, and from another context. */
	EXPECT_EQ(EEXIST, pp_attach(self->ctx, pp_edu_addr(), &fd));
	ctx2 = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx2);
	EXPECT_EQ(EBUSY, pp_attach(ctx2, pp_edu_addr(), &fd));

	/* Malformed and absent addresses, devices not bound to pcipass. */
	cmd.addr.device = 32;
	EXPECT_EQ(EINVAL, pp_ioctl(ctx2, PCIPASS_DEVICE_ATTACH, &cmd));
	cmd.addr.device = 0;
	cmd.addr.function = 8;
	EXPECT_EQ(EINVAL, pp_ioctl(ctx2, PCIPASS_DEVICE_ATTACH, &cmd));
	cmd.addr.function = 0;
	cmd.addr.__reserved = 1;
	EXPECT_EQ(EINVAL, pp_ioctl(ctx2, PCIPASS_DEVICE_ATTACH, &cmd));
	cmd.addr.__reserved = 0;
	cmd.__reserved = 1;
	EXPECT_EQ(EINVAL, pp_ioctl(ctx2, PCIPASS_DEVICE_ATTACH, &cmd));
	EXPECT_EQ(ENODEV, pp_attach(ctx2, "0000:00:1c.0", &fd));
	EXPECT_EQ(ENODEV, pp_attach(ctx2, "0000:00:00.0", &fd));
	EXPECT_EQ(ENODEV, pp_attach(ctx2, "0001:00:03.0", &fd));

	/* DMA before any attach: no domain yet. */
	EXPECT_EQ(ENXIO, pp_map(ctx2, self->src, IOVA_SRC, PAGE_SZ,
				PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(ENXIO, pp_unmap(ctx2, 0, 0, PCIPASS_DMA_UNMAP_ALL));

	/*
	 * A group shared with a device on a host driver: pci-stub manages
	 * no DMA (driver_managed_dma), so the group stays viable, as in vfio;
	 * ahci does DMA through the default domain, so it is not.
	 */
	kmsg = pp_kmsg_open();
	if (pp_run("modprobe pci-stub") == 0 &&
	    pp_path_exists(PP_SYSFS_PCI "/0000:00:1f.2") &&
	    pp_path_exists(PP_SYSFS_PCI "/0000:00:1f.3")) {
		char orig2[64], orig3[64];

		pp_dev_driver("0000:00:1f.2", orig2, sizeof(orig2));
		pp_dev_driver("0000:00:1f.3", orig3, sizeof(orig3));
		ASSERT_EQ(0, pp_dev_rebind("0000:00:1f.2", "pci-stub"));
		ASSERT_TRUE(pp_wait_driver("0000:00:1f.2", "pci-stub", 5000));
		ASSERT_TRUE(pp_claim("0000:00:1f.3"));
		fd = -1;
		EXPECT_EQ(0, pp_attach(ctx2, "0000:00:1f.3", &fd));
		EXPECT_FALSE(pp_kmsg_find(kmsg, "is not viable"));
		if (fd >= 0)
			close(fd);
		fd = -1;
		if (pp_run("modprobe ahci") == 0) {
			ASSERT_EQ(0, pp_dev_rebind("0000:00:1f.2", "ahci"));
			ASSERT_TRUE(pp_wait_driver("0000:00:1f.2", "ahci",
						   5000));
			EXPECT_EQ(EPERM, pp_attach(ctx2, "0000:00:1f.3", &fd));
			EXPECT_TRUE(pp_kmsg_find(kmsg,
						 "0000:00:1f.2 is bound to ahci"));
		} else {
			/* The debug kernel has no ATA. */
			TH_LOG("no ahci: the DMA-driver case is not run");
		}
		/* Or a rebind would give 0000:00:1f.2 to ahci again. */
		pp_run("rmmod ahci 2>/dev/null");
		pp_dev_rebind("0000:00:1f.3", "");
		pp_dev_rebind("0000:00:1f.2", "");
		pp_wait_driver("0000:00:1f.2", orig2, 5000);
		pp_wait_driver("0000:00:1f.3", orig3, 5000);
	} else {
		TH_LOG("no pci-stub or no ICH9 group: viability case not run");
		EXPECT_TRUE(false);
	}
	close(kmsg);
	close(ctx2);
}

TEST_F(edu, detach_and_close_undo_the_attach)
{
	struct pcipass_device_info dinfo = { .size = sizeof(dinfo) };
	struct pcipass_info info;
	int ctx2, dev2;

	ASSERT_EQ(0, pp_ctx_info(self->ctx, &info));
	EXPECT_EQ(PCIPASS_CTX_MODE_IOMMU, info.ctx_mode);
	EXPECT_EQ(1, info.num_devices);
	ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO, &dinfo));
	EXPECT_EQ(0x1234, dinfo.vendor);
	EXPECT_EQ(0x11e8, dinfo.device);
	EXPECT_EQ(3, dinfo.addr.device);
	EXPECT_EQ(0, dinfo.caps & PCIPASS_DEVICE_BUS_MASTER_FORBIDDEN);

	/* DETACH: the device file goes dead, the device is free again. */
	ASSERT_EQ(0, pp_detach(self->ctx, pp_edu_addr()));
	EXPECT_EQ(ENODEV, pp_detach(self->ctx, pp_edu_addr()));
	EXPECT_EQ(ENODEV, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO, &dinfo));
	ASSERT_EQ(0, pp_ctx_info(self->ctx, &info));
	EXPECT_EQ(0, info.num_devices);
	/* Bus mastering and decoding went off with the detach. */
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & 0x7);

	/* Closing the device file detaches too. */
	ctx2 = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx2);
	ASSERT_EQ(0, pp_attach(ctx2, pp_edu_addr(), &dev2));
	EXPECT_EQ(EBUSY, pp_attach(self->ctx, pp_edu_addr(), &self->dev));
	close(dev2);
	ASSERT_EQ(0, pp_ctx_info(ctx2, &info));
	EXPECT_EQ(0, info.num_devices);

	/* Closing the context kills its device files. */
	ASSERT_EQ(0, pp_attach(ctx2, pp_edu_addr(), &dev2));
	close(ctx2);
	EXPECT_EQ(ENODEV, pp_ioctl(dev2, PCIPASS_DEVICE_GET_INFO, &dinfo));
	close(dev2);
	close(self->dev);
	ASSERT_EQ(0, pp_attach(self->ctx, pp_edu_addr(), &self->dev));
}

TEST_F(edu, unbinding_a_device_revokes_its_attachment)
{
	struct pcipass_device_info dinfo = { .size = sizeof(dinfo) };
	struct pcipass_info info;

	ASSERT_EQ(0, pp_map(self->ctx, self->src, IOVA_SRC, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	munmap(self->bar, self->bar_len);
	self->bar = NULL;
	/* Revoked at once: release requests are release_test's. */
	ASSERT_EQ(0, pp_release_timeout(0));
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "none"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "", 5000));
	EXPECT_EQ(0, pp_release_timeout(10000));
	EXPECT_EQ(ENODEV, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO, &dinfo));
	ASSERT_EQ(0, pp_ctx_info(self->ctx, &info));
	EXPECT_EQ(0, info.num_devices);
	/* The mappings stay with the context until it unmaps or closes. */
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_SRC, PAGE_SZ, 0));
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
}

/* A minimal NVMe admin queue driven from user space. */
#define NVME_CAP	0x00
#define NVME_CC		0x14
#define NVME_CSTS	0x1c
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_SQ0TDBL	0x1000
#define NVME_CQ0HDBL	0x1004

#define IOVA_NVME_SQ	0x400000ULL
#define IOVA_NVME_CQ	0x401000ULL
#define IOVA_NVME_DATA	0x402000ULL

static __u32 rd32(void *bar, unsigned int off)
{
	return pp_mmio_read32(bar, off);
}

static void wr32(void *bar, unsigned int off, __u32 v)
{
	pp_mmio_write32(bar, off, v);
}

static void wr64(void *bar, unsigned int off, __u64 v)
{
	wr32(bar, off, (__u32)v);
	wr32(bar, off + 4, (__u32)(v >> 32));
}

static bool nvme_wait_ready(void *bar, bool ready)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if ((rd32(bar, NVME_CSTS) & 1) == ready)
			return true;
		usleep(1000);
	}
	return false;
}

/* Identify Controller; 0 or -1, the completion status in *status. */
static int nvme_identify(void *bar, __u32 *sq, __u32 *cq, __u16 *status)
{
	int i;

	wr32(bar, NVME_CC, 0);
	if (!nvme_wait_ready(bar, false))
		return -1;
	wr32(bar, NVME_AQA, (1u << 16) | 1);	/* 2-entry queues */
	wr64(bar, NVME_ASQ, IOVA_NVME_SQ);
	wr64(bar, NVME_ACQ, IOVA_NVME_CQ);
	wr32(bar, NVME_CC, (4u << 20) | (6u << 16) | 1);
	if (!nvme_wait_ready(bar, true))
		return -1;

	memset(sq, 0, 64);
	sq[0] = 0x06 | (0x1234u << 16);		/* Identify, CID 0x1234 */
	sq[6] = (__u32)IOVA_NVME_DATA;		/* PRP1 */
	sq[7] = (__u32)(IOVA_NVME_DATA >> 32);
	sq[10] = 1;				/* CNS 1: controller */
	__sync_synchronize();
	wr32(bar, NVME_SQ0TDBL, 1);

	for (i = 0; i < 5000; i++) {
		/* The device writes the entry: read it fresh every time. */
		__u32 dw3 = __atomic_load_n(&cq[3], __ATOMIC_ACQUIRE);

		if (dw3 & (1u << 16)) {		/* phase tag */
			*status = (dw3 >> 17) & 0x7fff;
			wr32(bar, NVME_CQ0HDBL, 1);
			wr32(bar, NVME_CC, 0);
			nvme_wait_ready(bar, false);
			return (dw3 & 0xffff) == 0x1234 ? 0 : -1;
		}
		usleep(1000);
	}
	return -1;
}

FIXTURE(nvme) {
	bool claimed;
};

FIXTURE_SETUP(nvme)
{
	self->claimed = false;
	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	self->claimed = true;
}

FIXTURE_TEARDOWN(nvme)
{
	/* Whatever happened, nvme goes back to its driver. */
	if (self->claimed)
		pp_give_back_nvme();
}

TEST_F(nvme, identify_through_mapped_queues_with_a_second_device)
{
	struct pp_pin_state start;
	__u8 *sq, *cq, *data, *src, *dst;
	void *nvme_bar, *edu_bar;
	size_t nvme_len, edu_len;
	int ctx, edu, nvme;
	__u16 status = 0xffff;

	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	ASSERT_TRUE(pp_claim(pp_nvme_addr()));
	pp_pin_state(&start);

	sq = pp_alloc(PAGE_SZ);
	cq = pp_alloc(PAGE_SZ);
	data = pp_alloc(PAGE_SZ);
	src = pp_alloc(PAGE_SZ);
	dst = pp_alloc(PAGE_SZ);
	ASSERT_TRUE(sq && cq && data && src && dst);

	ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx);
	/* Two devices, two IOMMU groups, one domain. */
	ASSERT_EQ(0, pp_attach(ctx, pp_nvme_addr(), &nvme));
	ASSERT_EQ(0, pp_attach(ctx, pp_edu_addr(), &edu));
	ASSERT_EQ(0, pp_cfg_set_bus_master(nvme, true));
	ASSERT_EQ(0, pp_cfg_set_bus_master(edu, true));
	ASSERT_EQ(0, pp_map(ctx, sq, IOVA_NVME_SQ, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	ASSERT_EQ(0, pp_map(ctx, cq, IOVA_NVME_CQ, PAGE_SZ,
			    PCIPASS_DMA_MAP_WRITE | PCIPASS_DMA_MAP_READ));
	ASSERT_EQ(0, pp_map(ctx, data, IOVA_NVME_DATA, PAGE_SZ,
			    PCIPASS_DMA_MAP_WRITE));
	ASSERT_EQ(0, pp_map(ctx, src, IOVA_SRC, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	ASSERT_EQ(0, pp_map(ctx, dst, IOVA_DST, PAGE_SZ,
			    PCIPASS_DMA_MAP_WRITE));

	/* Registers and doorbells; the MSI-X table (at 8 KiB) is not ours. */
	nvme_len = 8192;
	nvme_bar = pp_map_bar_head(nvme, 0, nvme_len);
	ASSERT_NE(NULL, nvme_bar);
	ASSERT_EQ(0, nvme_identify(nvme_bar, (__u32 *)sq, (__u32 *)cq,
				   &status));
	EXPECT_EQ(0, status);
	/* Model number (bytes 24-63) and serial (4-23) as QEMU has them. */
	EXPECT_EQ(0, memcmp(data + 24, "QEMU NVMe Ctrl", 14))
		TH_LOG("model \"%.40s\"", data + 24);
	EXPECT_EQ(0, memcmp(data + 4, "pcipass0", 8));
	munmap(nvme_bar, nvme_len);

	/* Detaching nvme keeps edu's DMA working through the shared domain. */
	close(nvme);
	EXPECT_EQ(ENODEV, pp_detach(ctx, pp_nvme_addr()));
	edu_bar = pp_map_bar(edu, 0, &edu_len);
	ASSERT_NE(NULL, edu_bar);
	memset(src, 0x3c, PAGE_SZ);
	memset(dst, 0, PAGE_SZ);
	ASSERT_TRUE(pp_edu_dma(edu_bar, IOVA_SRC, EDU_BUF, 256, false));
	ASSERT_TRUE(pp_edu_dma(edu_bar, EDU_BUF, IOVA_DST, 256, true));
	EXPECT_EQ(0x3c, dst[0]);
	EXPECT_EQ(0x3c, dst[255]);
	munmap(edu_bar, edu_len);

	close(edu);
	close(ctx);
	expect_pins_back(_metadata, &start);
}

TEST(a_killed_process_gives_its_pins_back)
{
	long before, after = -1;
	int pipefd[2], i;
	pid_t pid;
	char c;

	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	before = pp_foll_pins();
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		size_t len = 1024 * PAGE_SZ;
		__u8 *mem = pp_alloc(len);
		int ctx = open(PP_DEV_NODE, O_RDWR);
		int dev;

		if (!mem || ctx < 0 || pp_attach(ctx, pp_edu_addr(), &dev) ||
		    pp_map(ctx, mem, IOVA_SRC, len, PCIPASS_DMA_MAP_READ))
			_exit(1);
		if (write(pipefd[1], "m", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	EXPECT_EQ(before + 1024, pp_foll_pins());
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* The dead process's files are closed: its pins come back. */
	for (i = 0; i < 100; i++) {
		after = pp_foll_pins();
		if (after == before)
			break;
		usleep(20000);
	}
	EXPECT_EQ(before, after);
}

TEST(noiommu_attach_needs_the_opt_in_and_refuses_dma)
{
	struct pcipass_device_info dinfo = { .size = sizeof(dinfo) };
	struct pcipass_iova_ranges ranges = { .size = sizeof(ranges) };
	const char *param = "/sys/module/pcipass/parameters/allow_noiommu";
	struct pcipass_info info;
	void *mem;
	int ctx, dev, kmsg;

	if (pp_vm_has_iommu() != 0)
		SKIP(return, "needs the no-IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	mem = pp_alloc(PAGE_SZ);
	ASSERT_NE(NULL, mem);

	ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, pp_write_file(param, "0"));
	kmsg = pp_kmsg_open();
	EXPECT_EQ(EPERM, pp_attach(ctx, pp_edu_addr(), &dev));
	EXPECT_TRUE(pp_kmsg_find(kmsg, "allow_noiommu=1"));
	close(kmsg);

	ASSERT_EQ(0, pp_write_file(param, "1"));
	ASSERT_EQ(0, pp_attach(ctx, pp_edu_addr(), &dev));
	ASSERT_EQ(0, pp_ctx_info(ctx, &info));
	EXPECT_EQ(PCIPASS_CTX_MODE_NOIOMMU, info.ctx_mode);
	EXPECT_EQ(0, info.host_caps & PCIPASS_HOST_IOMMU);
	ASSERT_EQ(0, pp_ioctl(dev, PCIPASS_DEVICE_GET_INFO, &dinfo));
	EXPECT_NE(0, dinfo.caps & PCIPASS_DEVICE_BUS_MASTER_FORBIDDEN);

	EXPECT_EQ(EPERM, pp_map(ctx, mem, IOVA_SRC, PAGE_SZ,
				PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EPERM, pp_unmap(ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
	EXPECT_EQ(EPERM, pp_ioctl(ctx, PCIPASS_IOVA_RANGES, &ranges));
	/* Attached but not bus mastering. */
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & 0x4);

	close(dev);
	close(ctx);
	ASSERT_EQ(0, pp_write_file(param, "0"));
}

TEST_HARNESS_MAIN
