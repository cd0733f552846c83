// SPDX-License-Identifier: GPL-2.0
/*
 * PCIPASS_DMA_MAP_FILE: mapping a memfd (shmem or hugetlbfs) by file
 * descriptor and offset. The edu device reads and writes the file's pages
 * through the IOMMU and the bytes are checked through the file; every bad
 * input gets its errno and leaves no pin, no charge and no mapping; the
 * mapping outlives the process that made it, the file descriptor and a
 * truncation of the file, and gives every pin back when unmapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096UL
#define SZ_2M		(2UL << 20)
/* Below edu's 28-bit DMA mask. */
#define IOVA_FILE	0x4000000ULL
#define IOVA_DST	0x200000ULL
#define RW		(PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE)
#define HUGEPAGES	"/proc/sys/vm/nr_hugepages"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

/* PCIPASS_DMA_MAP_FILE of @len bytes of @fd at @offset; 0 or errno. */
static int pp_map_file(int ctx, int fd, __u64 offset, __u64 iova, __u64 len,
		       __u32 flags)
{
	struct pcipass_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = flags | PCIPASS_DMA_MAP_FILE,
		.iova = iova,
		.length = len,
		.fd = fd,
		.offset = offset,
	};

	return pp_ioctl(ctx, PCIPASS_DMA_MAP, &cmd);
}

/* A memfd of @len bytes, @flags of memfd_create(); -1 on failure. */
static int pp_memfd(size_t len, unsigned int flags)
{
	int fd = memfd_create("pcipass-guest-ram", flags | MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* shmem gives memfds 4 KiB folios only (no shmem THP): a pin a page. */
static bool pp_shmem_small_folios(void)
{
	char buf[256];

	if (pp_read_file("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
			 buf, sizeof(buf)))
		return true;
	return strstr(buf, "[never]") || strstr(buf, "[deny]");
}

FIXTURE(edu) {
	int ctx;
	int dev;
	void *bar;
	size_t bar_len;
	__u8 *dst;
	long foll_pins;
	long vm_pin;
};

FIXTURE_SETUP(edu)
{
	self->ctx = -1;
	self->dev = -1;
	self->bar = NULL;
	self->dst = NULL;
	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	self->foll_pins = pp_foll_pins();
	self->vm_pin = pp_status_kb("VmPin");
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, pp_edu_addr(), &self->dev));
	ASSERT_EQ(0, pp_cfg_set_bus_master(self->dev, true));
	self->bar = pp_map_bar(self->dev, 0, &self->bar_len);
	ASSERT_NE(NULL, self->bar);
	/* A page of ordinary memory that edu writes its buffer back to. */
	self->dst = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->dst);
	ASSERT_EQ(0, pp_map(self->ctx, self->dst, IOVA_DST, PAGE_SZ,
			    PCIPASS_DMA_MAP_WRITE));
}

FIXTURE_TEARDOWN(edu)
{
	if (self->bar)
		munmap(self->bar, self->bar_len);
	if (self->dst && self->dst != MAP_FAILED)
		munmap(self->dst, PAGE_SZ);
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0) {
		close(self->ctx);
		/* Whatever the test did, every pin comes back. */
		EXPECT_EQ(self->foll_pins, pp_foll_pins());
		EXPECT_EQ(self->vm_pin, pp_status_kb("VmPin"));
	}
}

/* edu copies @count bytes at @iova into its buffer: then into dst. */
static bool pp_edu_fetch(void *bar, __u64 iova, __u32 count)
{
	return pp_edu_dma(bar, iova, EDU_BUF, count, false) &&
	       pp_edu_dma(bar, EDU_BUF, IOVA_DST, count, true);
}

/* edu writes @count bytes of dst (through its buffer) to @iova. */
static bool pp_edu_store(void *bar, __u64 iova, __u32 count)
{
	return pp_edu_dma(bar, IOVA_DST, EDU_BUF, count, false) &&
	       pp_edu_dma(bar, EDU_BUF, iova, count, true);
}

static void pp_fill(__u8 *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (__u8)(i * 7 + seed);
}

/* dst is the device's only way back to us: edu writes into it. */
static __u8 pp_dst_byte(const __u8 *dst, size_t i)
{
	return __atomic_load_n(&dst[i], __ATOMIC_ACQUIRE);
}

TEST_F(edu, edu_reads_and_writes_a_memfd_through_the_iommu)
{
	size_t len = 4UL << 20, maplen = 8 * PAGE_SZ;
	__u64 off = 1UL << 20;
	long pins, vm_pin, now;
	__u8 *ram, pattern[EDU_DMA_MAX], got[16];
	unsigned int i;
	int fd;

	fd = pp_memfd(len, 0);
	ASSERT_LE(0, fd);
	ram = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ram);
	pp_fill(ram + off, EDU_DMA_MAX, 3);

	pins = pp_foll_pins();
	vm_pin = pp_status_kb("VmPin");
	ASSERT_EQ(0, pp_map_file(self->ctx, fd, off, IOVA_FILE, maplen, RW));
	/* Charged like an address map; 4 KiB shmem folios: a pin each. */
	EXPECT_EQ(vm_pin + (long)(maplen >> 10), pp_status_kb("VmPin"));
	now = pp_foll_pins();
	EXPECT_EQ(pp_shmem_small_folios() ? pins + 8 : now, now);
	EXPECT_LT(pins, now);
	EXPECT_EQ((long long)maplen + PAGE_SZ, pp_stat_ctx_sum(" pinned_bytes "));

	/* Device reads the file's page: the bytes the CPU wrote. */
	memset(self->dst, 0, PAGE_SZ);
	ASSERT_TRUE(pp_edu_fetch(self->bar, IOVA_FILE, EDU_DMA_MAX));
	for (i = 0; i < EDU_DMA_MAX; i++)
		ASSERT_EQ(ram[off + i], pp_dst_byte(self->dst, i));

	/* Device writes a later page of the mapping: seen through the file. */
	pp_fill(pattern, sizeof(pattern), 11);
	memcpy(self->dst, pattern, sizeof(pattern));
	ASSERT_TRUE(pp_edu_store(self->bar, IOVA_FILE + 5 * PAGE_SZ,
				 EDU_DMA_MAX));
	EXPECT_EQ(0, memcmp(ram + off + 5 * PAGE_SZ, pattern,
			    sizeof(pattern)));
	ASSERT_EQ(16, pread(fd, got, 16, off + 5 * PAGE_SZ));
	EXPECT_EQ(0, memcmp(got, pattern, 16));
	/* Outside the mapping the device reaches nothing. */
	EXPECT_EQ(0, ram[off - 1]);

	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, maplen, 0));
	EXPECT_EQ(pins, pp_foll_pins());
	EXPECT_EQ(vm_pin, pp_status_kb("VmPin"));
	munmap(ram, len);
	close(fd);
}

/* A file with holes: the pages are allocated by the map, and stay. */
TEST_F(edu, a_sparse_memfd_is_filled_by_the_map)
{
	size_t len = 2UL << 20;
	__u8 *ram;
	int fd;

	fd = pp_memfd(len, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pp_map_file(self->ctx, fd, 0, IOVA_FILE, len, RW));
	memset(self->dst, 0x77, 64);
	ASSERT_TRUE(pp_edu_store(self->bar, IOVA_FILE + len - PAGE_SZ, 64));
	ram = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ram);
	EXPECT_EQ(0x77, ram[len - PAGE_SZ + 63]);
	EXPECT_EQ(0, ram[len - PAGE_SZ + 64]);
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, len, 0));
	munmap(ram, len);
	close(fd);
}

/*
 * hugetlbfs: 2 MiB folios, pinned once each, at a 2 MiB aligned offset and
 * at one 4 KiB page into a huge page; every huge page comes back.
 */
TEST_F(edu, a_hugetlb_memfd_is_pinned_once_per_huge_page)
{
	char old[32], want[32];
	size_t len = 4 * SZ_2M;
	long pins, nr;
	__u8 *ram;
	int fd;

	if (pp_read_file(HUGEPAGES, old, sizeof(old)))
		SKIP(return, "no %s", HUGEPAGES);
	snprintf(want, sizeof(want), "%ld", strtol(old, NULL, 10) + 4);
	if (pp_write_file(HUGEPAGES, want))
		SKIP(return, "cannot reserve huge pages");
	fd = memfd_create("pcipass-huge", MFD_HUGETLB | MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, len)) {
		pp_write_file(HUGEPAGES, old);
		SKIP(return, "no 2 MiB huge pages for a memfd");
	}
	nr = pp_file_kb("/proc/meminfo", "HugePages_Free");
	ram = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ram);
	memset(ram, 0, len);
	ram[3 * SZ_2M + 17] = 0x42;

	pins = pp_foll_pins();
	ASSERT_EQ(0, pp_map_file(self->ctx, fd, 0, IOVA_FILE, len, RW));
	EXPECT_EQ(pins + 4, pp_foll_pins());
	ASSERT_TRUE(pp_edu_fetch(self->bar, IOVA_FILE + 3 * SZ_2M, 32));
	EXPECT_EQ(0x42, pp_dst_byte(self->dst, 17));
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, len, 0));
	EXPECT_EQ(pins, pp_foll_pins());

	/* Three huge pages from 4 KiB into the first: four folios pinned. */
	ASSERT_EQ(0, pp_map_file(self->ctx, fd, PAGE_SZ, IOVA_FILE,
				 3 * SZ_2M, PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(pins + 4, pp_foll_pins());
	ASSERT_TRUE(pp_edu_fetch(self->bar,
				 IOVA_FILE + 3 * SZ_2M - PAGE_SZ, 32));
	EXPECT_EQ(0x42, pp_dst_byte(self->dst, 17));
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, 3 * SZ_2M, 0));
	EXPECT_EQ(pins, pp_foll_pins());

	/* Unpinned and unmapped: the huge pages go back with the file. */
	munmap(ram, len);
	close(fd);
	EXPECT_EQ(nr, pp_file_kb("/proc/meminfo", "HugePages_Free"));
	pp_write_file(HUGEPAGES, old);
}

/* Every bad input: its errno, and nothing pinned, charged or mapped. */
TEST_F(edu, bad_inputs_are_refused_and_leave_nothing)
{
	struct pcipass_dma_map cmd;
	long pins = pp_foll_pins(), vm_pin = pp_status_kb("VmPin");
	size_t len = 2UL << 20;
	int fd, ro, efd, pipefd[2], sealed, closed;
	char path[64];

	fd = pp_memfd(len, MFD_ALLOW_SEALING);
	ASSERT_LE(0, fd);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(pipefd));

	/* Not a shmem or hugetlbfs file. */
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, efd, 0, IOVA_FILE, PAGE_SZ,
				      RW));
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, pipefd[0], 0, IOVA_FILE,
				      PAGE_SZ, PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, self->ctx, 0, IOVA_FILE,
				      PAGE_SZ, PCIPASS_DMA_MAP_READ));
	/* Not a file descriptor. */
	closed = dup(fd);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(EBADF, pp_map_file(self->ctx, closed, 0, IOVA_FILE,
				     PAGE_SZ, RW));
	EXPECT_EQ(EBADF, pp_map_file(self->ctx, -1, 0, IOVA_FILE, PAGE_SZ,
				     RW));
	/* Offsets: past the end, running past it, unaligned, wrapping. */
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, fd, len, IOVA_FILE, PAGE_SZ,
				      RW));
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, fd, len - PAGE_SZ, IOVA_FILE,
				      2 * PAGE_SZ, RW));
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, fd, 512, IOVA_FILE, PAGE_SZ,
				      RW));
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, fd, -PAGE_SZ, IOVA_FILE,
				      2 * PAGE_SZ, RW));
	/* No direction, an unaligned IOVA or length. */
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, fd, 0, IOVA_FILE, PAGE_SZ,
				      0));
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, fd, 0, IOVA_FILE + 8,
				      PAGE_SZ, RW));
	EXPECT_EQ(EINVAL, pp_map_file(self->ctx, fd, 0, IOVA_FILE, 100, RW));

	/* The structure's rules: user_va 0, reserved 0, fields need flag. */
	memset(&cmd, 0, sizeof(cmd));
	cmd = (struct pcipass_dma_map) {
		.size = sizeof(cmd), .flags = RW | PCIPASS_DMA_MAP_FILE,
		.iova = IOVA_FILE, .length = PAGE_SZ, .fd = fd,
		.user_va = (unsigned long)self->dst,
	};
	EXPECT_EQ(EINVAL, pp_ioctl(self->ctx, PCIPASS_DMA_MAP, &cmd));
	cmd.user_va = 0;
	cmd.__reserved = 1;
	EXPECT_EQ(EINVAL, pp_ioctl(self->ctx, PCIPASS_DMA_MAP, &cmd));
	cmd.__reserved = 0;
	/* The first version of the structure has no fd: not with the flag. */
	cmd.size = 32;
	EXPECT_EQ(EINVAL, pp_ioctl(self->ctx, PCIPASS_DMA_MAP, &cmd));
	cmd.size = sizeof(cmd);
	/* Without the flag, fd and offset must be 0. */
	cmd.flags = RW;
	cmd.user_va = (unsigned long)self->dst;
	EXPECT_EQ(EINVAL, pp_ioctl(self->ctx, PCIPASS_DMA_MAP, &cmd));
	cmd.fd = 0;
	cmd.offset = PAGE_SZ;
	EXPECT_EQ(EINVAL, pp_ioctl(self->ctx, PCIPASS_DMA_MAP, &cmd));

	/* A read-only descriptor: the device may read, not write. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(EACCES, pp_map_file(self->ctx, ro, 0, IOVA_FILE, PAGE_SZ,
				      RW));
	EXPECT_EQ(0, pp_map_file(self->ctx, ro, 0, IOVA_FILE, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	/* The range is taken: by an address map, by another file map. */
	EXPECT_EQ(EEXIST, pp_map_file(self->ctx, fd, 0, IOVA_FILE, PAGE_SZ,
				      RW));
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, PAGE_SZ, 0));
	close(ro);

	/* A writable map holds off F_SEAL_WRITE, as a shared mmap does. */
	ASSERT_EQ(0, pp_map_file(self->ctx, fd, 0, IOVA_FILE, PAGE_SZ, RW));
	EXPECT_EQ(-1, fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, PAGE_SZ, 0));
	EXPECT_EQ(0, fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	/* Sealed against writes: read maps only. */
	EXPECT_EQ(EPERM, pp_map_file(self->ctx, fd, 0, IOVA_FILE, PAGE_SZ,
				     RW));
	EXPECT_EQ(0, pp_map_file(self->ctx, fd, 0, IOVA_FILE, PAGE_SZ,
				 PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, PAGE_SZ, 0));
	sealed = pp_memfd(len, MFD_ALLOW_SEALING);
	ASSERT_LE(0, sealed);
	ASSERT_EQ(0, fcntl(sealed, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	EXPECT_EQ(EPERM, pp_map_file(self->ctx, sealed, 0, IOVA_FILE,
				     PAGE_SZ, PCIPASS_DMA_MAP_WRITE));

	EXPECT_EQ(pins, pp_foll_pins());
	EXPECT_EQ(vm_pin, pp_status_kb("VmPin"));
	/* Only the fixture's page is mapped. */
	EXPECT_EQ(1, pp_stat_ctx_sum(" mappings "));
	close(sealed);
	close(pipefd[0]);
	close(pipefd[1]);
	close(efd);
	close(fd);
}

/*
 * Truncation while mapped: the pinned pages stay mapped (the device
 * writes to pages the file no longer has) until the unmap frees them; the
 * file's new pages are not the device's. Closing the memfd changes
 * nothing either: the mapping holds the file.
 */
TEST_F(edu, truncation_and_close_while_mapped_leave_nothing)
{
	size_t len = 2UL << 20;
	long pins, mapped;
	__u8 buf[64];
	int fd;

	fd = pp_memfd(len, 0);
	ASSERT_LE(0, fd);
	pins = pp_foll_pins();
	ASSERT_EQ(0, pp_map_file(self->ctx, fd, 0, IOVA_FILE, len, RW));
	mapped = pp_foll_pins();
	EXPECT_EQ(pp_shmem_small_folios() ? pins + 512 : mapped, mapped);
	EXPECT_LT(pins, mapped);

	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, ftruncate(fd, len));
	memset(self->dst, 0x99, 64);
	ASSERT_TRUE(pp_edu_store(self->bar, IOVA_FILE + PAGE_SZ, 64));
	ASSERT_EQ(64, pread(fd, buf, 64, PAGE_SZ));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(0, buf[63]);

	close(fd);
	ASSERT_TRUE(pp_edu_fetch(self->bar, IOVA_FILE + PAGE_SZ, 64));
	EXPECT_EQ(0x99, pp_dst_byte(self->dst, 63));
	EXPECT_EQ(mapped, pp_foll_pins());
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, len, 0));
	EXPECT_EQ(pins, pp_foll_pins());
}

/*
 * The mapping does not depend on the address space of the process that
 * made it (a VMM that re-execs keeps it): a child maps the memfd into
 * the shared context and exits; the device then writes through the
 * mapping and the parent reads the bytes in the file.
 */
TEST_F(edu, a_file_mapping_outlives_the_process_that_made_it)
{
	size_t len = 1UL << 20;
	int fd, status;
	__u8 *ram;
	pid_t pid;

	fd = pp_memfd(len, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(pp_map_file(self->ctx, fd, 0, IOVA_FILE, len, RW));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	memset(self->dst, 0x3c, 64);
	ASSERT_TRUE(pp_edu_store(self->bar, IOVA_FILE + len - 64, 64));
	ram = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ram);
	EXPECT_EQ(0x3c, ram[len - 1]);
	EXPECT_EQ(0, ram[len - 65]);
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_FILE, len, 0));
	munmap(ram, len);
	close(fd);
}

TEST_HARNESS_MAIN
