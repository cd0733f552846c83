// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping under attack, the way a hostile VMM process would try it:
 *
 *  - escaping RLIMIT_MEMLOCK by handing a context to another process and
 *    exiting (the charge must follow the pins, not the opener's memory);
 *  - huge lengths that make the kernel allocate before it refuses;
 *  - user memory that never arrives (userfaultfd) given to DMA_MAP and
 *    IOVA_RANGES, to stall the context, the other threads and the removal
 *    of the device;
 *  - an attach that fails late, which must not leave an IOMMU domain;
 *  - cache coherency: what GET_INFO reports, and the PCIe No Snoop enable
 *    of a device on a domain that does not force snooping.
 *
 * Runs as root in the IOMMU VM; the unprivileged parts drop to TEST_UID
 * (no CAP_IPC_LOCK) after opening /dev/pcipass.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096UL
#define TEST_UID	4242
#define LIMIT_PAGES	16UL
#define IOVA_A		0x1000000ULL
#define IOVA_B		0x2000000ULL
#define STALL_MS	pp_bound_ms(10000)
#define PCI_EXP_DEVCTL_NOSNOOP	0x0800	/* Enable No Snoop */

static void *pp_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Become an unprivileged user with a memlock limit of @pages. */
static int pp_drop_to_test_user(unsigned long pages)
{
	struct rlimit rl = { pages * PAGE_SZ, pages * PAGE_SZ };

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return -1;
	if (setresgid(TEST_UID, TEST_UID, TEST_UID) ||
	    setresuid(TEST_UID, TEST_UID, TEST_UID))
		return -1;
	/* Leaving uid 0 dropped every capability, CAP_IPC_LOCK included. */
	return 0;
}

/* A fresh context with @addr attached; the context fd, or -1. */
static int pp_ctx_with(const char *addr, int *dev)
{
	int ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);

	if (ctx < 0)
		return -1;
	if (pp_attach(ctx, addr, dev)) {
		close(ctx);
		return -1;
	}
	return ctx;
}

/*
 * In a child: open a context on @addr, drop to the test user with the
 * limit, map @pages pages. Returns the errno of the map (as exit status),
 * 100+ for a setup failure.
 */
static int pp_child_map(const char *addr, unsigned long pages)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return 200;
	if (pid == 0) {
		void *mem = pp_alloc(pages * PAGE_SZ);
		int dev, ctx = pp_ctx_with(addr, &dev);

		if (!mem || ctx < 0)
			_exit(101);
		if (pp_drop_to_test_user(LIMIT_PAGES))
			_exit(102);
		_exit(pp_map(ctx, mem, IOVA_A, pages * PAGE_SZ,
			     PCIPASS_DMA_MAP_READ));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 201;
	return WEXITSTATUS(status);
}

TEST(memlock_charge_stays_with_the_pins_when_the_owner_exits)
{
	long pins0, pins;
	int ready[2];
	pid_t a, b = -1;
	int status;

	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	ASSERT_TRUE(pp_claim(pp_nvme_addr()));
	/* Orphans of the owner come back to us, to be killed and reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	pins0 = pp_foll_pins();
	ASSERT_EQ(0, pipe(ready));

	/*
	 * The owner maps up to its limit, forks a keeper of the context,
	 * and exits.
	 */
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		void *mem = pp_alloc(2 * LIMIT_PAGES * PAGE_SZ);
		int dev, ctx = pp_ctx_with(pp_edu_addr(), &dev);
		pid_t keeper;

		if (!mem || ctx < 0)
			_exit(10);
		if (pp_drop_to_test_user(LIMIT_PAGES))
			_exit(11);
		if (pp_map(ctx, mem, IOVA_A, LIMIT_PAGES * PAGE_SZ,
			   PCIPASS_DMA_MAP_READ))
			_exit(12);
		if (pp_map(ctx, (char *)mem + LIMIT_PAGES * PAGE_SZ, IOVA_B,
			   PAGE_SZ, PCIPASS_DMA_MAP_READ) != ENOSPC)
			_exit(13);
		keeper = fork();
		if (keeper < 0)
			_exit(14);
		if (keeper == 0) {
			pid_t self = getpid();

			if (write(ready[1], &self, sizeof(self)) !=
			    sizeof(self))
				_exit(1);
			for (;;)
				pause();
		}
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(a, waitpid(a, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(b), read(ready[0], &b, sizeof(b)));
	close(ready[0]);

	/* The owner is gone, its pages stay pinned by the keeper. */
	pins = pp_foll_pins();
	EXPECT_EQ(pins0 + (long)LIMIT_PAGES, pins);

	/* So the same user cannot pin a single page more elsewhere. */
	EXPECT_EQ(ENOSPC, pp_child_map(pp_nvme_addr(), 1));
	EXPECT_EQ(pins, pp_foll_pins());

	/* Once the context is closed, the charge is gone with the pins. */
	kill(b, SIGKILL);
	ASSERT_EQ(b, waitpid(b, &status, 0));
	EXPECT_EQ(pins0, pp_foll_pins());
	EXPECT_EQ(0, pp_child_map(pp_nvme_addr(), LIMIT_PAGES));
	EXPECT_EQ(pins0, pp_foll_pins());

	pp_dev_rebind(pp_nvme_addr(), "");
	pp_wait_driver(pp_nvme_addr(), "nvme", 5000);
}

/* Highest VmallocUsed seen while a sampler thread runs. */
struct pp_vmalloc_sampler {
	pthread_t thread;
	bool stop;
	long max_kb;
};

static void *pp_vmalloc_sample(void *arg)
{
	struct pp_vmalloc_sampler *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		long kb = pp_file_kb("/proc/meminfo", "VmallocUsed");

		if (kb > s->max_kb)
			s->max_kb = kb;
	}
	return NULL;
}

/* Map @len at @iova from an address nothing is mapped at. */
static int pp_map_huge(int ctx, __u64 len, __u64 iova, long *vmalloc_kb)
{
	struct pp_vmalloc_sampler s = { .max_kb = -1 };
	long base = pp_file_kb("/proc/meminfo", "VmallocUsed");
	int ret;

	pthread_create(&s.thread, NULL, pp_vmalloc_sample, &s);
	usleep(20000);
	ret = pp_map(ctx, (void *)(1UL << 44), iova, len,
		     PCIPASS_DMA_MAP_READ);
	__atomic_store_n(&s.stop, true, __ATOMIC_RELEASE);
	pthread_join(s.thread, NULL);
	*vmalloc_kb = s.max_kb - base;
	return ret;
}

TEST(huge_lengths_are_refused_before_anything_is_allocated)
{
	long pins0, iommu0, vm_kb;
	int ctx, dev, kmsg, status;
	pid_t pid;

	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	pins0 = pp_foll_pins();
	pp_write_file("/proc/sys/vm/stat_refresh", "1");
	iommu0 = pp_vmstat("nr_iommu_pages");
	kmsg = pp_kmsg_open();
	ctx = pp_ctx_with(pp_edu_addr(), &dev);
	ASSERT_LE(0, ctx);

	/* Privileged (no limit): more than the RAM can never be pinned. */
	EXPECT_EQ(ENOMEM, pp_map_huge(ctx, 64ULL << 30, 8ULL << 30, &vm_kb));
	EXPECT_GT(16 * 1024, vm_kb) TH_LOG("vmalloc grew by %ld kB", vm_kb);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (pp_drop_to_test_user(LIMIT_PAGES))
			_exit(100);
		/* 1 TiB does not fit the 39-bit aperture: either errno. */
		status = pp_map_huge(ctx, 1ULL << 40, 8ULL << 30, &vm_kb);
		if (status != ENOSPC && status != ERANGE)
			_exit(101);
		if (vm_kb > 16 * 1024)
			_exit(102);
		/* 64 GiB: over the limit, refused before any allocation. */
		if (pp_map_huge(ctx, 64ULL << 30, 8ULL << 30, &vm_kb) != ENOSPC)
			_exit(103);
		if (vm_kb > 16 * 1024)
			_exit(104);
		/* 17 pages against a limit of 16. */
		if (pp_map_huge(ctx, (LIMIT_PAGES + 1) * PAGE_SZ, IOVA_A,
				&vm_kb) != ENOSPC)
			_exit(105);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* Nothing left behind: no pin, no mapping, no page table. */
	EXPECT_EQ(pins0, pp_foll_pins());
	EXPECT_EQ(ENOENT, pp_unmap(ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
	close(dev);
	close(ctx);
	pp_write_file("/proc/sys/vm/stat_refresh", "1");
	EXPECT_EQ(iommu0, pp_vmstat("nr_iommu_pages"));
	EXPECT_FALSE(pp_kmsg_find(kmsg, "WARNING"));
	close(kmsg);
}

/* A call run in a thread, waited for with a bound. */
struct pp_job {
	pthread_t thread;
	int (*fn)(struct pp_job *job);
	int ctx;
	void *mem;
	void *out;
	bool done;
	int ret;
};

static void *pp_job_run(void *arg)
{
	struct pp_job *job = arg;

	job->ret = job->fn(job);
	__atomic_store_n(&job->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void pp_job_start(struct pp_job *job, int (*fn)(struct pp_job *),
			 int ctx, void *mem)
{
	job->fn = fn;
	job->ctx = ctx;
	job->mem = mem;
	job->done = false;
	job->ret = -1;
	pthread_create(&job->thread, NULL, pp_job_run, job);
}

/* True when the job finished within @ms. */
static bool pp_job_wait(struct pp_job *job, int ms)
{
	long end = pp_now_ms() + ms;

	while (!__atomic_load_n(&job->done, __ATOMIC_ACQUIRE)) {
		if (pp_now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

static int pp_job_map_stalled(struct pp_job *job)
{
	return pp_map(job->ctx, job->mem, IOVA_A, LIMIT_PAGES * PAGE_SZ,
		      PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE);
}

static int pp_job_ranges_stalled(struct pp_job *job)
{
	struct pcipass_iova_ranges *cmd = job->out;

	cmd->size = sizeof(*cmd);
	cmd->num_ranges = 8;
	cmd->ranges = (__u64)(unsigned long)job->mem;
	return pp_ioctl(job->ctx, PCIPASS_IOVA_RANGES, cmd);
}

static int pp_job_info(struct pp_job *job)
{
	struct pcipass_info info;

	return pp_ctx_info(job->ctx, &info);
}

static int pp_job_map_other(struct pp_job *job)
{
	int ret = pp_map(job->ctx, job->mem, IOVA_B, 4 * PAGE_SZ,
			 PCIPASS_DMA_MAP_READ);

	return ret ?: pp_unmap(job->ctx, IOVA_B, 4 * PAGE_SZ, 0);
}

static int pp_job_unbind(struct pp_job *job)
{
	return pp_dev_rebind(pp_edu_addr(), "none");
}

FIXTURE(stall) {
	struct pp_uffd uffd;
	int ctx;
	int dev;
	long pins0;
	void *other;
};

FIXTURE_SETUP(stall)
{
	self->ctx = -1;
	self->dev = -1;
	self->uffd.fd = -1;
	self->uffd.addr = MAP_FAILED;
	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	/* The sysctl exists exactly when the kernel has userfaultfd. */
	if (!pp_path_exists("/proc/sys/vm/unprivileged_userfaultfd"))
		SKIP(return, "no userfaultfd in this kernel (CONFIG_USERFAULTFD)");
	ASSERT_EQ(0, pp_uffd_create(&self->uffd, LIMIT_PAGES * PAGE_SZ));
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	self->pins0 = pp_foll_pins();
	self->other = pp_alloc(4 * PAGE_SZ);
	ASSERT_NE(NULL, self->other);
	self->ctx = pp_ctx_with(pp_edu_addr(), &self->dev);
	ASSERT_LE(0, self->ctx);
}

FIXTURE_TEARDOWN(stall)
{
	pp_uffd_destroy(&self->uffd);
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0) {
		close(self->ctx);
		EXPECT_EQ(self->pins0, pp_foll_pins());
	}
	/* Whatever happened to edu, it goes back to pcipass. */
	if (pp_vm_has_iommu() == 1)
		pp_claim(pp_edu_addr());
}

/*
 * With @stalled blocked on user memory that does not arrive: the same
 * context answers GET_INFO and maps other memory, and edu can be unbound,
 * each within STALL_MS.
 */
static void pp_check_not_blocked(struct __test_metadata *_metadata,
				 struct pp_uffd *uffd, int ctx, void *mem,
				 struct pp_job *stalled)
{
	struct pp_job info, other, unbind;

	ASSERT_TRUE(pp_uffd_waiters(uffd, 5000));
	EXPECT_FALSE(__atomic_load_n(&stalled->done, __ATOMIC_ACQUIRE));

	pp_job_start(&info, pp_job_info, ctx, NULL);
	EXPECT_TRUE(pp_job_wait(&info, STALL_MS))
		TH_LOG("GET_INFO waits for the stalled call");
	pp_job_start(&other, pp_job_map_other, ctx, mem);
	EXPECT_TRUE(pp_job_wait(&other, STALL_MS))
		TH_LOG("DMA_MAP of other memory waits for the stalled call");
	/* The holder is stalled: it answers no release request. */
	EXPECT_EQ(0, pp_release_timeout(0));
	pp_job_start(&unbind, pp_job_unbind, ctx, NULL);
	EXPECT_TRUE(pp_job_wait(&unbind, STALL_MS))
		TH_LOG("unbinding the device waits for the stalled call");

	/* Let the stalled call go on, then everything finishes. */
	pp_uffd_release(uffd, false);
	pthread_join(stalled->thread, NULL);
	pthread_join(info.thread, NULL);
	pthread_join(other.thread, NULL);
	pthread_join(unbind.thread, NULL);
	EXPECT_EQ(0, info.ret);
	EXPECT_EQ(0, other.ret);
	EXPECT_EQ(0, unbind.ret);
	EXPECT_TRUE(pp_wait_driver(pp_edu_addr(), "", 5000));
	EXPECT_EQ(0, pp_release_timeout(10000));
}

TEST_F(stall, a_map_of_stalled_memory_blocks_nobody_else)
{
	struct pp_job map;

	pp_job_start(&map, pp_job_map_stalled, self->ctx, self->uffd.addr);
	pp_check_not_blocked(_metadata, &self->uffd, self->ctx, self->other,
			     &map);
	/* The stalled map went on and completed once the memory came. */
	EXPECT_EQ(0, map.ret);
	EXPECT_EQ(self->pins0 + (long)LIMIT_PAGES, pp_foll_pins());
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_A, LIMIT_PAGES * PAGE_SZ, 0));
	EXPECT_EQ(self->pins0, pp_foll_pins());
}

TEST_F(stall, a_map_of_memory_that_faults_leaves_nothing)
{
	struct pp_job map, other;

	pp_job_start(&map, pp_job_map_stalled, self->ctx, self->uffd.addr);
	ASSERT_TRUE(pp_uffd_waiters(&self->uffd, pp_bound_ms(5000)));
	pp_job_start(&other, pp_job_map_other, self->ctx, self->other);
	EXPECT_TRUE(pp_job_wait(&other, STALL_MS));
	/*
	 * The memory goes away under the stalled fault (which waits without
	 * mmap_lock), then the userfaultfd closes: the retried fault finds
	 * nothing there, the map fails with EFAULT, nothing pinned.
	 */
	ASSERT_EQ(0, munmap(self->uffd.addr, self->uffd.len));
	self->uffd.addr = MAP_FAILED;
	pp_uffd_release(&self->uffd, true);
	pthread_join(map.thread, NULL);
	pthread_join(other.thread, NULL);
	EXPECT_EQ(EFAULT, map.ret);
	EXPECT_EQ(0, other.ret);
	EXPECT_EQ(self->pins0, pp_foll_pins());
	EXPECT_EQ(ENOENT, pp_unmap(self->ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
	/* The IOVA range is free again. */
	EXPECT_EQ(0, pp_map(self->ctx, self->other, IOVA_A, 4 * PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(0, pp_unmap(self->ctx, 0, 0, PCIPASS_DMA_UNMAP_ALL));
}

TEST_F(stall, iova_ranges_into_stalled_memory_blocks_nobody_else)
{
	struct pcipass_iova_ranges cmd = {};
	struct pcipass_iova_range *ranges = self->uffd.addr;
	struct pp_job job;

	job.out = &cmd;
	pp_job_start(&job, pp_job_ranges_stalled, self->ctx, self->uffd.addr);
	pp_check_not_blocked(_metadata, &self->uffd, self->ctx, self->other,
			     &job);
	EXPECT_EQ(0, job.ret);
	EXPECT_EQ(2, cmd.num_ranges);
	EXPECT_EQ(0, ranges[0].start);
	EXPECT_EQ(0xfee00000ULL - 1, ranges[0].last);
}

/* Drop one capability from this process (effective and permitted). */
static int pp_drop_cap(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[cap / 32].effective &= ~(1u << (cap % 32));
	data[cap / 32].permitted &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &hdr, data);
}

static long pp_iommu_pages(void)
{
	pp_write_file("/proc/sys/vm/stat_refresh", "1");
	return pp_vmstat("nr_iommu_pages");
}

/*
 * The child of a_failed_attach_leaves_no_domain: attach while no file can
 * be made, so that the attach fails at its last step (the device file),
 * after the domain was allocated and the group attached.
 */
static int pp_attach_without_files(int go, int back)
{
	struct pcipass_iova_ranges ranges = { .size = sizeof(ranges) };
	struct pcipass_info info;
	long iommu0, iommu1 = -1;
	int ctx, dev, ret, i;
	char c = 'x';

	iommu0 = pp_iommu_pages();
	/* Opened with CAP_SYS_ADMIN: it may attach any bound device. */
	ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	if (ctx < 0 || pp_drop_cap(CAP_SYS_ADMIN))
		return 10;
	/* The parent lowers fs.file-max: only CAP_SYS_ADMIN passes it. */
	if (write(back, &c, 1) != 1 || read(go, &c, 1) != 1)
		return 11;
	ret = pp_attach(ctx, pp_edu_addr(), &dev);
	if (write(back, &c, 1) != 1 || read(go, &c, 1) != 1)
		return 12;
	if (ret != ENFILE)
		return 50 + ret;	/* the errno, in the exit status */

	/* No domain (its page directory is an IOMMU page), no mode. */
	for (i = 0; i < 20; i++) {
		iommu1 = pp_iommu_pages();
		if (iommu1 == iommu0)
			break;
		usleep(50000);
	}
	if (iommu1 != iommu0)
		return 14;
	if (pp_ctx_info(ctx, &info) || info.ctx_mode != PCIPASS_CTX_MODE_UNSET ||
	    info.num_devices)
		return 15;
	if (pp_ioctl(ctx, PCIPASS_IOVA_RANGES, &ranges) != ENXIO)
		return 16;

	/* The context is as good as new: a real attach works. */
	if (pp_attach(ctx, pp_edu_addr(), &dev))
		return 17;
	if (pp_ioctl(ctx, PCIPASS_IOVA_RANGES, &ranges) != EMSGSIZE ||
	    ranges.num_ranges != 2)
		return 18;
	close(dev);
	close(ctx);
	return 0;
}

TEST(a_failed_attach_leaves_no_domain)
{
	char file_max[64];
	int go[2], back[2];
	int status;
	pid_t pid;
	char c;

	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	ASSERT_EQ(0, pp_read_file("/proc/sys/fs/file-max", file_max,
				  sizeof(file_max)));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(back));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(pp_attach_without_files(go[0], back[1]));

	/* Ready: no new file for a process without CAP_SYS_ADMIN. */
	ASSERT_EQ(1, read(back[0], &c, 1));
	/* 0: the kernel's approximate file count is always at least that. */
	EXPECT_EQ(0, pp_write_file("/proc/sys/fs/file-max", "0"));
	ASSERT_EQ(1, write(go[1], &c, 1));
	/* Attached (or not): files again. */
	EXPECT_EQ(1, read(back[0], &c, 1));
	EXPECT_EQ(0, pp_write_file("/proc/sys/fs/file-max", file_max));
	EXPECT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Offset of the PCI Express capability of @addr (sysfs config), or 0. */
static unsigned int pp_pcie_cap(const char *addr)
{
	__u8 pos = 0, id = 0;
	int ttl = 48;

	if (pp_dev_config_read(addr, 0x34, &pos, 1))
		return 0;
	while (pos >= 0x40 && ttl--) {
		if (pp_dev_config_read(addr, pos, &id, 1))
			return 0;
		if (id == 0x10)
			return pos;
		if (pp_dev_config_read(addr, pos + 1, &pos, 1))
			return 0;
		pos &= ~3;
	}
	return 0;
}

static __u16 pp_devctl_hw(const char *addr, unsigned int cap)
{
	__u16 val = 0xffff;

	pp_dev_config_read(addr, cap + 8, &val, sizeof(val));
	return val;
}

TEST(no_snoop_is_off_unless_the_iommu_forces_snooping)
{
	const char *nvme = pp_nvme_addr();
	unsigned int cap, devctl;
	struct pcipass_info info;
	__u16 host, hw, val;
	int ctx, dev;

	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs an IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	cap = pp_pcie_cap(nvme);
	ASSERT_NE(0, cap);
	devctl = cap + 8;
	ASSERT_TRUE(pp_claim(nvme));
	host = pp_devctl_hw(nvme, cap);

	ctx = pp_ctx_with(nvme, &dev);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, pp_ctx_info(ctx, &info));
	if (pp_vm_is("iommu")) {
		/* QEMU's VT-d with snoop-control=on: snooping is forced. */
		EXPECT_EQ(PCIPASS_INFO_DMA_COHERENT, info.dma_flags);
	} else {
		/* Without snoop control the device may not ask for No Snoop. */
		EXPECT_EQ(PCIPASS_INFO_DMA_NO_SNOOP_OFF, info.dma_flags);
		EXPECT_EQ(0, pp_devctl_hw(nvme, cap) & PCI_EXP_DEVCTL_NOSNOOP);
	}
	EXPECT_EQ(0, info.__reserved);

	/* The bit is the VMM's to read back, never to set in the device. */
	hw = pp_devctl_hw(nvme, cap);
	val = 0;
	ASSERT_EQ(0, pp_cfg_read(dev, devctl, &val, sizeof(val)));
	val ^= PCI_EXP_DEVCTL_NOSNOOP;
	ASSERT_EQ(0, pp_cfg_write(dev, devctl, &val, sizeof(val)));
	val = 0;
	ASSERT_EQ(0, pp_cfg_read(dev, devctl, &val, sizeof(val)));
	EXPECT_EQ(hw & PCI_EXP_DEVCTL_NOSNOOP ? 0 : PCI_EXP_DEVCTL_NOSNOOP,
		  val & PCI_EXP_DEVCTL_NOSNOOP);
	EXPECT_EQ(hw, pp_devctl_hw(nvme, cap));
	val |= PCI_EXP_DEVCTL_NOSNOOP;
	ASSERT_EQ(0, pp_cfg_write(dev, devctl, &val, sizeof(val)));
	EXPECT_EQ(hw, pp_devctl_hw(nvme, cap));

	/* A reset keeps it off. */
	if (!pp_vm_is("iommu")) {
		struct pcipass_device_reset reset = { .size = sizeof(reset) };

		EXPECT_EQ(0, pp_ioctl(dev, PCIPASS_DEVICE_RESET, &reset));
		EXPECT_EQ(0, pp_devctl_hw(nvme, cap) & PCI_EXP_DEVCTL_NOSNOOP);
	}

	/* Detached: the host's value is back. */
	close(dev);
	close(ctx);
	EXPECT_EQ(host, pp_devctl_hw(nvme, cap));
	pp_dev_rebind(nvme, "");
	pp_wait_driver(nvme, "nvme", 5000);
}

TEST_HARNESS_MAIN
