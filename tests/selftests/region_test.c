// SPDX-License-Identifier: GPL-2.0
/*
 * Device regions as a VMM uses them: BAR mmap, pread and pwrite through
 * the device file, the virtualized config space (BAR sizing, read-only and
 * virtual fields that never reach the hardware, the capability chain), the
 * bus master rule without an IOMMU, and device reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define CFG(off)	(PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG) + (off))
#define BAR(n, off)	(PCIPASS_REGION_OFFSET(PCIPASS_REGION_BAR0 + (n)) + (off))

static __u32 cfg32(int dev, unsigned int off)
{
	__u32 v = 0xdeadbeef;

	pp_cfg_read(dev, off, &v, 4);
	return v;
}

static __u32 hw32(const char *addr, unsigned int off)
{
	__u32 v = 0xdeadbeef;

	pp_dev_config_read(addr, off, &v, 4);
	return v;
}

static int open_and_attach(const char *addr, int *ctx, int *dev)
{
	*ctx = -1;
	if (pp_dev_rebind(addr, "pcipass") ||
	    !pp_wait_driver(addr, "pcipass", 5000))
		return pp_attach(*ctx, addr, dev);	/* EBADF: no context */
	*ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	return pp_attach(*ctx, addr, dev);
}

FIXTURE(edu) {
	int ctx;
	int dev;
	void *bar;
	size_t bar_len;
};

FIXTURE_SETUP(edu)
{
	self->ctx = -1;
	self->dev = -1;
	self->bar = NULL;
	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	ASSERT_EQ(0, pp_module_ensure());
	if (!pp_vm_has_iommu())
		ASSERT_EQ(0, pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
					   "1"));
	ASSERT_EQ(0, open_and_attach(pp_edu_addr(), &self->ctx, &self->dev));
	self->bar = pp_map_bar(self->dev, 0, &self->bar_len);
	ASSERT_NE(NULL, self->bar);
}

FIXTURE_TEARDOWN(edu)
{
	if (self->bar)
		munmap(self->bar, self->bar_len);
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	pp_write_file("/sys/module/pcipass/parameters/allow_noiommu", "0");
}

TEST_F(edu, bar0_mmap_reaches_the_device)
{
	unsigned int i;

	EXPECT_EQ(1024 * 1024, self->bar_len);
	EXPECT_EQ(0x010000ed, pp_mmio_read32(self->bar, 0x00));
	/* Liveness: the inverse of what was written. */
	pp_mmio_write32(self->bar, 0x04, 0x12345678);
	EXPECT_EQ(~0x12345678u, pp_mmio_read32(self->bar, 0x04));
	/* Factorial: computed once the status busy bit clears. */
	pp_mmio_write32(self->bar, 0x08, 5);
	for (i = 0; i < 200 && (pp_mmio_read32(self->bar, 0x20) & 1); i++)
		usleep(5000);
	EXPECT_EQ(120, pp_mmio_read32(self->bar, 0x08));
}

TEST_F(edu, bar_pread_and_pwrite)
{
	__u32 v = 0x0badcafe, r = 0;
	__u64 q;

	EXPECT_EQ(4, pread(self->dev, &r, 4, BAR(0, 0x00)));
	EXPECT_EQ(0x010000ed, r);
	EXPECT_EQ(4, pwrite(self->dev, &v, 4, BAR(0, 0x04)));
	EXPECT_EQ(4, pread(self->dev, &r, 4, BAR(0, 0x04)));
	EXPECT_EQ(~0x0badcafeu, r);
	/* What pwrite wrote, the mapping sees. */
	EXPECT_EQ(~0x0badcafeu, pp_mmio_read32(self->bar, 0x04));
	/* 8-byte accesses: the DMA source register is 64 bits. */
	q = 0x1122334455667788ULL;
	EXPECT_EQ(8, pwrite(self->dev, &q, 8, BAR(0, 0x80)));
	q = 0;
	EXPECT_EQ(8, pread(self->dev, &q, 8, BAR(0, 0x80)));
	EXPECT_EQ(0x1122334455667788ULL, q);
	/* Past the end of the BAR, and BARs the device does not have. */
	EXPECT_EQ(-1, pread(self->dev, &r, 4, BAR(0, 1024 * 1024)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->dev, &r, 4, BAR(1, 0)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->dev, &r, 4,
			    PCIPASS_REGION_OFFSET(PCIPASS_NUM_REGIONS)));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(edu, region_info)
{
	struct pcipass_region_info ri;
	int i;

	ASSERT_EQ(0, pp_region_info(self->dev, PCIPASS_REGION_BAR0, &ri));
	EXPECT_EQ(1024 * 1024, ri.region_size);
	EXPECT_EQ(PCIPASS_REGION_READ | PCIPASS_REGION_WRITE |
		  PCIPASS_REGION_MMAP, ri.region_flags);
	EXPECT_EQ(PCIPASS_REGION_OFFSET(0), ri.offset);
	for (i = 1; i < 6; i++) {
		ASSERT_EQ(0, pp_region_info(self->dev, i, &ri));
		EXPECT_EQ(0, ri.region_size);
		EXPECT_EQ(0, ri.region_flags);
	}
	ASSERT_EQ(0, pp_region_info(self->dev, PCIPASS_REGION_CONFIG, &ri));
	EXPECT_EQ(256, ri.region_size);
	EXPECT_EQ(EINVAL, pp_region_info(self->dev, PCIPASS_NUM_REGIONS, &ri));
}

TEST_F(edu, bar_sizing_is_virtual)
{
	__u32 hw_before = hw32(pp_edu_addr(), 0x10);
	__u32 ones = 0xffffffff, orig;

	orig = cfg32(self->dev, 0x10);
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x10, &ones, 4));
	/* 1 MiB, 32-bit, not prefetchable. */
	EXPECT_EQ(0xfff00000, cfg32(self->dev, 0x10));
	/* The hardware BAR never changed. */
	EXPECT_EQ(hw_before, hw32(pp_edu_addr(), 0x10));
	/* An unimplemented BAR sizes to zero. */
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x14, &ones, 4));
	EXPECT_EQ(0, cfg32(self->dev, 0x14));
	/* No ROM: zero too. */
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x30, &ones, 4));
	EXPECT_EQ(0, cfg32(self->dev, 0x30));
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x10, &orig, 4));
	EXPECT_EQ(orig, cfg32(self->dev, 0x10));
	/* The device still answers at its real address. */
	EXPECT_EQ(0x010000ed, pp_mmio_read32(self->bar, 0));
}

TEST_F(edu, read_only_and_virtual_fields_never_reach_the_device)
{
	__u32 id = 0xffffffff, v;
	__u8 line = 0x5a, b;
	__u16 status = 0xffff;

	/* IDs read through; writes to them change nothing. */
	EXPECT_EQ(0x11e81234, cfg32(self->dev, 0x00));
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x00, &id, 4));
	EXPECT_EQ(0x11e81234, cfg32(self->dev, 0x00));
	EXPECT_EQ(0x11e81234, hw32(pp_edu_addr(), 0x00));

	/* The interrupt line is the guest's, kept virtual. */
	ASSERT_EQ(0, pp_dev_config_read(pp_edu_addr(), 0x3c, &b, 1));
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x3c, &line, 1));
	EXPECT_EQ(0, pp_cfg_read(self->dev, 0x3c, &v, 1));
	EXPECT_EQ(0x5a, v & 0xff);
	EXPECT_EQ(0, pp_dev_config_read(pp_edu_addr(), 0x3c, &line, 1));
	EXPECT_EQ(b, line);

	/* The status register is read only. */
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x06, &status, 2));
	EXPECT_EQ(hw32(pp_edu_addr(), 0x04) >> 16, cfg32(self->dev, 0x04) >> 16);

	/* MSI address and data are virtual: the hardware keeps its own. */
	v = 0xfee01234;
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x44, &v, 4));
	EXPECT_EQ(0xfee01234, cfg32(self->dev, 0x44));
	EXPECT_NE(0xfee01234, hw32(pp_edu_addr(), 0x44));
}

TEST_F(edu, bad_config_accesses)
{
	void *bad;
	__u32 v;

	/* Past the end, or running over it. */
	EXPECT_EQ(-1, pread(self->dev, &v, 4, CFG(256)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->dev, &v, 2, CFG(255)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(self->dev, &v, 4, CFG(254)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(self->dev, &v, 1,
			     PCIPASS_REGION_OFFSET(PCIPASS_REGION_ROM)));
	EXPECT_EQ(EPERM, errno);
	/* A bad buffer: EFAULT, and nothing reaches the device. */
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	EXPECT_EQ(-1, pread(self->dev, bad, 4, CFG(0)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->dev, bad, 2, CFG(4)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_NE(0, pp_dev_command(pp_edu_addr()) & 0x2);
	munmap(bad, 4096);
}

/* Config space read one byte at a time, each its own pread(). */
static void cfg_bytewise(int dev, unsigned int size, __u8 *out)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		if (pread(dev, &out[i], 1, CFG(i)) != 1)
			out[i] = 0xa5 ^ i;	/* cannot match by chance */
}

/*
 * What QEMU's vfio-pci does: the whole config space in one pread(). Every
 * length and alignment works and returns what byte-wise reads return.
 */
static void check_cfg_any_length(struct __test_metadata *_metadata, int dev,
				 unsigned int size)
{
	static const unsigned int ranges[][2] = {
		{ 0, 3 }, { 1, 1 }, { 1, 2 }, { 1, 3 }, { 1, 4 }, { 2, 4 },
		{ 3, 5 }, { 3, 8 }, { 5, 7 }, { 0x0e, 3 }, { 0x11, 17 },
		{ 0x2f, 9 }, { 0x33, 13 }, { 0x3b, 3 }, { 0x40, 61 },
		{ 0x41, 190 },
	};
	__u8 bytes[4096], all[4096], part[256];
	unsigned int i;

	ASSERT_GE(sizeof(bytes), size);
	cfg_bytewise(dev, size, bytes);
	memset(all, 0x5a, sizeof(all));
	ASSERT_EQ(size, pread(dev, all, size, CFG(0)));
	EXPECT_EQ(0, memcmp(bytes, all, size));
	/* The same once more: nothing changed in between. */
	cfg_bytewise(dev, size, all);
	EXPECT_EQ(0, memcmp(bytes, all, size));

	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		unsigned int off = ranges[i][0], len = ranges[i][1];

		memset(part, 0x5a, sizeof(part));
		ASSERT_EQ(len, pread(dev, part, len, CFG(off)));
		EXPECT_EQ(0, memcmp(bytes + off, part, len))
			TH_LOG("pread of %u bytes at %#x differs", len, off);
	}
	/* The tail of config space, unaligned. */
	ASSERT_EQ(7, pread(dev, part, 7, CFG(size - 7)));
	EXPECT_EQ(0, memcmp(bytes + size - 7, part, 7));
}

TEST_F(edu, config_reads_of_any_length_and_alignment)
{
	check_cfg_any_length(_metadata, self->dev, 256);
}

/* A write of many bytes applies each piece through the permissions. */
TEST_F(edu, config_write_of_any_length_applies_each_piece)
{
	__u8 before[8], after[8], hw_before[8], hw_after[8];
	/* 0x3a-0x3f: reserved (read only), line (virtual), pin, min/max. */
	const __u8 val[6] = { 0x11, 0x22, 0x5c, 0x44, 0x55, 0x66 };

	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x38, before, 8));
	ASSERT_EQ(0, pp_dev_config_read(pp_edu_addr(), 0x38, hw_before, 8));
	ASSERT_EQ(6, pwrite(self->dev, val, 6, CFG(0x3a)));
	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x38, after, 8));
	ASSERT_EQ(0, pp_dev_config_read(pp_edu_addr(), 0x38, hw_after, 8));
	/* Only the interrupt line took the value, and only in the shadow. */
	EXPECT_EQ(0x5c, after[4]);
	after[4] = before[4];
	EXPECT_EQ(0, memcmp(before, after, 8));
	EXPECT_EQ(0, memcmp(hw_before, hw_after, 8));

	/* An odd write over the command register: byte by byte is the same. */
	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x03, before, 3));
	ASSERT_EQ(3, pwrite(self->dev, before, 3, CFG(0x03)));
	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x03, after, 3));
	EXPECT_EQ(0, memcmp(before, after, 3));
	EXPECT_EQ(0x010000ed, pp_mmio_read32(self->bar, 0));
}

static int hammer_stop;
static __thread sigjmp_buf hammer_jmp;

static void hammer_sigbus(int sig)
{
	siglongjmp(hammer_jmp, 1);
}

/* Counters in memory: a siglongjmp() loses what is only in registers. */
struct hammer {
	void *bar;
	unsigned long reads;
	unsigned long sigbus;
	unsigned long bad;
	__u32 bad_value;
};

/* Read the ID register as fast as possible; SIGBUS is fine, garbage not. */
static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	int k;

	if (sigsetjmp(hammer_jmp, 1))
		__atomic_fetch_add(&h->sigbus, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&hammer_stop, __ATOMIC_ACQUIRE)) {
		__u32 v = pp_mmio_read32(h->bar, 0x00);

		__atomic_fetch_add(&h->reads, 1, __ATOMIC_RELAXED);
		if (v != 0x010000ed) {
			__atomic_fetch_add(&h->bad, 1, __ATOMIC_RELAXED);
			h->bad_value = v;
		}
		/*
		 * Under TCG an MMIO read takes QEMU's big lock: a read loop
		 * with no gap starves QEMU's timers and stalls the VM. Read
		 * in bursts, and let the vCPU go idle between them.
		 */
		for (k = 0; k < 200; k++)
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (!(__atomic_load_n(&h->reads, __ATOMIC_RELAXED) % 32))
			usleep(100);
	}
	return NULL;
}

/*
 * Memory decoding off: the BAR mappings are blocked and zapped before the
 * device stops decoding, so another thread (a vCPU) sees SIGBUS, never
 * what a BAR that no longer decodes returns. Both threads pause now and
 * then: under TCG a loop of MMIO and config accesses with no pause can
 * starve QEMU's main loop, and the guest's timers with it.
 */
TEST_F(edu, decode_off_zaps_mappings_before_the_bar_stops_decoding)
{
	struct sigaction sa = { .sa_handler = hammer_sigbus };
	struct hammer h = { .bar = self->bar };
	__u16 cmd, off;
	long end;
	pthread_t t;
	int i;

	/*
	 * A thread spinning on a BAR starves the guest's timers under TCG
	 * on the debug kernel (RCU stall reports, then timeouts): the race
	 * is the stock lane's to test.
	 */
	if (pp_bound_ms(1) > 1)
		SKIP(return, "a BAR-hammering race starves the debug kernel under TCG");
	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x04, &cmd, 2));
	ASSERT_NE(0, cmd & 0x2);
	off = cmd & ~0x2;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	__atomic_store_n(&hammer_stop, 0, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_create(&t, NULL, hammer_thread, &h));
	usleep(100000);
	end = pp_now_ms() + 6000;
	for (i = 0; i < 1000 && pp_now_ms() < end &&
	     !__atomic_load_n(&h.bad, __ATOMIC_RELAXED); i++) {
		ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &off, 2));
		ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &cmd, 2));
		usleep(500);
	}
	__atomic_store_n(&hammer_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	signal(SIGBUS, SIG_DFL);
	TH_LOG("%d toggles, %lu reads, %lu SIGBUS, %lu bad (last %#x)", i,
	       h.reads, h.sigbus, h.bad, h.bad_value);
	EXPECT_EQ(0, h.bad);
	EXPECT_LT(0, h.reads);
	EXPECT_EQ(0x010000ed, pp_mmio_read32(self->bar, 0));
}

/* Kernel log records naming @addr, read from @fd until it has no more. */
static int kmsg_count(int fd, const char *addr)
{
	char rec[2048];
	int n = 0;
	ssize_t r;

	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0) {
			if (errno == EPIPE)
				continue;
			return n;
		}
		rec[r] = '\0';
		if (strstr(rec, addr))
			n++;
	}
}

/* No ROM: every read fails with EIO alone, the kernel log stays quiet. */
TEST_F(edu, rom_reads_without_a_rom_fail_quietly)
{
	int kmsg = pp_kmsg_open(), i, eio = 0, lines;
	__u8 buf[64];

	ASSERT_LE(0, kmsg);
	for (i = 0; i < 2000; i++)
		if (pread(self->dev, buf, sizeof(buf),
			  PCIPASS_REGION_OFFSET(PCIPASS_REGION_ROM)) == -1 &&
		    errno == EIO)
			eio++;
	EXPECT_EQ(2000, eio);
	lines = kmsg_count(kmsg, pp_edu_addr());
	TH_LOG("%d kernel log lines for 2000 ROM reads", lines);
	EXPECT_GE(2, lines);
	close(kmsg);
}

TEST_F(edu, bus_master_follows_the_iommu_rule)
{
	struct pcipass_device_info info = { .size = sizeof(info) };
	int kmsg = pp_kmsg_open();

	if (pp_vm_has_iommu()) {
		/* With an IOMMU, the bit passes through. */
		EXPECT_EQ(0, pp_cfg_set_bus_master(self->dev, true));
		EXPECT_NE(0, pp_dev_command(pp_edu_addr()) & 0x4);
		ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO,
				      &info));
		EXPECT_EQ(0, info.caps & PCIPASS_DEVICE_BUS_MASTER_FORBIDDEN);
		EXPECT_EQ(0, info.bus_master_refusals);
	} else {
		EXPECT_EQ(EPERM, pp_cfg_set_bus_master(self->dev, true));
		EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & 0x4);
		EXPECT_TRUE(pp_kmsg_find(kmsg, "bus master enable refused"));
		ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO,
				      &info));
		EXPECT_NE(0, info.caps & PCIPASS_DEVICE_BUS_MASTER_FORBIDDEN);
		EXPECT_EQ(1, info.bus_master_refusals);
		/* Memory decoding is still the VMM's. */
		EXPECT_NE(0, pp_dev_command(pp_edu_addr()) & 0x2);
	}
	close(kmsg);
}

TEST_F(edu, decode_off_blocks_the_mapping_until_it_is_on_again)
{
	__u16 cmd;

	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x04, &cmd, 2));
	ASSERT_NE(0, cmd & 0x2);
	EXPECT_FALSE(pp_access_faults(self->bar));
	cmd &= ~0x2;
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &cmd, 2));
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & 0x2);
	EXPECT_TRUE(pp_access_faults(self->bar));
	/* pread and pwrite do not reach it either. */
	EXPECT_EQ(-1, pread(self->dev, &(__u32){0}, 4, BAR(0, 0)));
	EXPECT_EQ(EIO, errno);
	cmd |= 0x2;
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &cmd, 2));
	EXPECT_FALSE(pp_access_faults(self->bar));
	EXPECT_EQ(0x010000ed, pp_mmio_read32(self->bar, 0));
}

TEST_F(edu, detach_revokes_the_mapping)
{
	ASSERT_EQ(0, pp_detach(self->ctx, pp_edu_addr()));
	EXPECT_TRUE(pp_access_faults(self->bar));
	EXPECT_EQ(-1, pread(self->dev, &(__u32){0}, 4, BAR(0, 0)));
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(edu, reset_matches_the_reset_capability)
{
	struct pcipass_device_info info = { .size = sizeof(info) };
	struct pcipass_device_reset reset = { .size = sizeof(reset) };

	ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO, &info));
	if (info.caps & PCIPASS_DEVICE_RESET_AVAILABLE) {
		EXPECT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_RESET, &reset));
	} else {
		EXPECT_EQ(EOPNOTSUPP, pp_ioctl(self->dev, PCIPASS_DEVICE_RESET,
					       &reset));
	}
	/* Either way the device keeps working. */
	EXPECT_EQ(0x010000ed, pp_mmio_read32(self->bar, 0));
}

/* nvme: PCI Express, FLR, MSI-X table in BAR0, 64-bit BAR. */
FIXTURE(nvme) {
	int ctx;
	int dev;
	void *bar;
	size_t bar_len;
};

FIXTURE_SETUP(nvme)
{
	self->ctx = -1;
	self->dev = -1;
	self->bar = NULL;
	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	ASSERT_EQ(0, pp_module_ensure());
	if (!pp_vm_has_iommu())
		ASSERT_EQ(0, pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
					   "1"));
	ASSERT_EQ(0, open_and_attach(pp_nvme_addr(), &self->ctx, &self->dev));
}

FIXTURE_TEARDOWN(nvme)
{
	if (self->bar)
		munmap(self->bar, self->bar_len);
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	pp_write_file("/sys/module/pcipass/parameters/allow_noiommu", "0");
	pp_dev_rebind(pp_nvme_addr(), "");
	pp_wait_driver(pp_nvme_addr(), "nvme", 5000);
}

TEST_F(nvme, region_info_and_64bit_bar_sizing)
{
	struct pcipass_region_info ri;
	__u32 ones = 0xffffffff, lo, hi;

	ASSERT_EQ(0, pp_region_info(self->dev, 0, &ri));
	EXPECT_EQ(16384, ri.region_size);
	EXPECT_NE(0, ri.region_flags & PCIPASS_REGION_MEM64);
	ASSERT_EQ(0, pp_region_info(self->dev, 1, &ri));
	EXPECT_EQ(0, ri.region_size);
	ASSERT_EQ(0, pp_region_info(self->dev, PCIPASS_REGION_CONFIG, &ri));
	EXPECT_EQ(4096, ri.region_size);

	lo = cfg32(self->dev, 0x10);
	hi = cfg32(self->dev, 0x14);
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x10, &ones, 4));
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x14, &ones, 4));
	EXPECT_EQ(0xffffc004, cfg32(self->dev, 0x10));
	EXPECT_EQ(0xffffffff, cfg32(self->dev, 0x14));
	EXPECT_NE(0xffffc004, hw32(pp_nvme_addr(), 0x10));
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x10, &lo, 4));
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x14, &hi, 4));
}

TEST_F(nvme, config_reads_of_any_length_and_alignment)
{
	check_cfg_any_length(_metadata, self->dev, 4096);
}

TEST_F(nvme, capability_chain_matches_the_device_minus_hidden_ones)
{
	static const __u16 hidden[] = { 0x01, 0x0d, 0x0f, 0x10, 0x13, 0x15,
					0x1b };
	unsigned int pos, n = 0, hw_n = 0, i;
	__u8 p8;
	__u32 hdr;

	/* Standard capabilities: the same chain as the hardware's. */
	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x34, &p8, 1));
	for (pos = p8; pos && n < 48; n++) {
		__u8 id, next, hw_id;

		ASSERT_EQ(0, pp_cfg_read(self->dev, pos, &id, 1));
		ASSERT_EQ(0, pp_dev_config_read(pp_nvme_addr(), pos, &hw_id, 1));
		EXPECT_EQ(hw_id, id);
		ASSERT_EQ(0, pp_cfg_read(self->dev, pos + 1, &next, 1));
		pos = next;
	}
	EXPECT_LE(2, n);	/* PCI Express and MSI-X at least */

	/* Extended: every visible one is in the hardware, none is hidden. */
	for (pos = 0x100, n = 0; pos && n < 64; n++) {
		ASSERT_EQ(0, pp_cfg_read(self->dev, pos, &hdr, 4));
		if (!hdr)
			break;
		for (i = 0; i < ARRAY_SIZE(hidden); i++)
			EXPECT_NE(hidden[i], hdr & 0xffff);
		pos = hdr >> 20;
	}
	for (pos = 0x100; pos && hw_n < 64; hw_n++) {
		hdr = hw32(pp_nvme_addr(), pos);
		if (!hdr || hdr == 0xffffffff)
			break;
		pos = hdr >> 20;
	}
	TH_LOG("extended capabilities: %u visible, %u in hardware", n, hw_n);
	EXPECT_GE(hw_n, n);
}

TEST_F(nvme, reset_restores_power_on_registers)
{
	struct pcipass_device_info info = { .size = sizeof(info) };
	struct pcipass_device_reset reset = { .size = sizeof(reset) };
	__u16 devctl;
	__u8 cap;
	int pcie = 0;

	ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO, &info));
	ASSERT_NE(0, info.caps & PCIPASS_DEVICE_RESET_AVAILABLE);
	/* The registers' page: the MSI-X table may not be mappable. */
	self->bar_len = 4096;
	self->bar = pp_map_bar_head(self->dev, 0, self->bar_len);
	ASSERT_NE(NULL, self->bar);

	/* CC (controller configuration) powers on as zero. */
	pp_mmio_write32(self->bar, 0x14, 0x00460000);
	EXPECT_EQ(0x00460000, pp_mmio_read32(self->bar, 0x14));
	ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_RESET, &reset));
	/* The same mapping refaults after the reset. */
	EXPECT_EQ(0, pp_mmio_read32(self->bar, 0x14));

	/* FLR through the PCI Express capability: a real reset too. */
	pp_mmio_write32(self->bar, 0x14, 0x00460000);
	EXPECT_EQ(0x00460000, pp_mmio_read32(self->bar, 0x14));
	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x34, &cap, 1));
	while (cap && !pcie) {
		__u8 id;

		ASSERT_EQ(0, pp_cfg_read(self->dev, cap, &id, 1));
		if (id == 0x10)
			pcie = cap;
		else
			ASSERT_EQ(0, pp_cfg_read(self->dev, cap + 1, &cap, 1));
	}
	ASSERT_NE(0, pcie);
	ASSERT_EQ(0, pp_cfg_read(self->dev, pcie + 8, &devctl, 2));
	devctl |= 0x8000;
	ASSERT_EQ(0, pp_cfg_write(self->dev, pcie + 8, &devctl, 2));
	EXPECT_EQ(0, pp_mmio_read32(self->bar, 0x14));
	/* The request bit reads back as zero. */
	ASSERT_EQ(0, pp_cfg_read(self->dev, pcie + 8, &devctl, 2));
	EXPECT_EQ(0, devctl & 0x8000);
}

struct bar_reader {
	pthread_t thread;
	void *bar;
	int stop;
	long reads;
	long wrong;	/* reads that were not the version register */
	__u32 vs;
};

/* Read NVMe's version register through the mapping until told to stop. */
static void *bar_reader_run(void *arg)
{
	struct bar_reader *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (pp_mmio_read32(r->bar, 0x08) != r->vs)
			r->wrong++;
		r->reads++;
	}
	return NULL;
}

/*
 * A vCPU may touch the BAR while another resets the device: the access
 * waits for the reset to end (a SIGBUS would kill the VMM: the default
 * action kills this test).
 */
TEST_F(nvme, bar_accesses_during_resets_wait_instead_of_faulting)
{
	struct pcipass_device_reset reset = { .size = sizeof(reset) };
	struct bar_reader r = { 0 };
	int i, failed = 0;

	self->bar_len = 4096;
	self->bar = pp_map_bar_head(self->dev, 0, self->bar_len);
	ASSERT_NE(NULL, self->bar);
	r.bar = self->bar;
	r.vs = pp_mmio_read32(self->bar, 0x08);
	ASSERT_NE(0, r.vs);
	ASSERT_NE(0xffffffff, r.vs);
	ASSERT_EQ(0, pthread_create(&r.thread, NULL, bar_reader_run, &r));
	for (i = 0; i < 20; i++)
		if (pp_ioctl(self->dev, PCIPASS_DEVICE_RESET, &reset))
			failed++;
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(r.thread, NULL);
	TH_LOG("%ld reads through the mapping during 20 resets", r.reads);
	EXPECT_EQ(0, failed);
	EXPECT_LT(0, r.reads);
	EXPECT_EQ(0, r.wrong);
}

TEST_F(nvme, msix_table_mmap_needs_isolated_msi)
{
	struct pcipass_device_info info = { .size = sizeof(info) };
	struct pcipass_region_info ri;
	void *p;

	ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO, &info));
	ASSERT_EQ(0, pp_region_info(self->dev, 0, &ri));
	p = mmap(NULL, ri.region_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->dev, ri.offset);
	if (pp_vm_is("iommu")) {
		EXPECT_NE(0, info.caps & PCIPASS_DEVICE_MSIX_MMAP);
		EXPECT_NE(MAP_FAILED, p);
	} else {
		EXPECT_EQ(0, info.caps & PCIPASS_DEVICE_MSIX_MMAP);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EPERM, errno);
		/* The register page alone is fine. */
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->dev, ri.offset);
		EXPECT_NE(MAP_FAILED, p);
	}
	if (p != MAP_FAILED)
		munmap(p, p == MAP_FAILED ? 0 : 4096);
}

TEST_F(nvme, after_detach_the_nvme_driver_works_again)
{
	char lba0[8] = "";
	void *bar;
	int fd;

	/* The VMM leaves the controller in a state of its own. */
	bar = pp_map_bar_head(self->dev, 0, 4096);
	ASSERT_NE(NULL, bar);
	pp_mmio_write32(bar, 0x24, 0x000f000f);
	pp_mmio_write32(bar, 0x14, 0x00460000);
	munmap(bar, 4096);
	close(self->dev);
	self->dev = -1;
	close(self->ctx);
	self->ctx = -1;

	/*
	 * Reset and restored on detach: the host driver takes it back (load
	 * it: no test before this one need have).
	 */
	ASSERT_EQ(0, pp_run("modprobe nvme"));
	ASSERT_EQ(0, pp_dev_rebind(pp_nvme_addr(), ""));
	ASSERT_TRUE(pp_wait_driver(pp_nvme_addr(), "nvme", 5000));
	ASSERT_TRUE(pp_wait_path("/dev/nvme0n1", true, 10000));
	fd = open("/dev/nvme0n1", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(8, read(fd, lba0, 8));
	EXPECT_EQ(0, memcmp(lba0, pp_env("PCIPASS_NVME_LBA0", "PCIPASS0"), 8));
	close(fd);
}

TEST(serial_io_bar_without_an_iommu)
{
	const char *serial = pp_serial_addr();
	struct pcipass_region_info ri;
	int ctx = -1, dev = -1;
	__u8 v;

	if (pp_vm_has_iommu() != 0)
		SKIP(return, "needs the no-IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
				   "1"));
	ASSERT_EQ(0, open_and_attach(serial, &ctx, &dev));
	ASSERT_EQ(0, pp_region_info(dev, 0, &ri));
	EXPECT_EQ(8, ri.region_size);
	EXPECT_NE(0, ri.region_flags & PCIPASS_REGION_IO);
	EXPECT_EQ(0, ri.region_flags & PCIPASS_REGION_MMAP);
	/* The scratch register keeps what is written. */
	v = 0xa5;
	ASSERT_EQ(1, pwrite(dev, &v, 1, BAR(0, 7)));
	v = 0;
	ASSERT_EQ(1, pread(dev, &v, 1, BAR(0, 7)));
	EXPECT_EQ(0xa5, v);
	v = 0x3c;
	ASSERT_EQ(1, pwrite(dev, &v, 1, BAR(0, 7)));
	ASSERT_EQ(1, pread(dev, &v, 1, BAR(0, 7)));
	EXPECT_EQ(0x3c, v);
	close(dev);
	close(ctx);
	pp_write_file("/sys/module/pcipass/parameters/allow_noiommu", "0");
	pp_dev_rebind(serial, "");
}

/*
 * A device alone behind a bridge, with no reset of its own (QEMU's
 * pci-testdev behind the root port, in the noiommu VM): its reset is a
 * secondary bus reset through the bridge, which must be locked for it as
 * pci_reset_function() locks it ("unlocked secondary bus reset" else).
 * Attach, PCIPASS_DEVICE_RESET and detach each reset it.
 */
TEST(reset_behind_a_bridge_locks_the_bridge)
{
	const char *addr = pp_testdev_addr();
	struct pcipass_device_reset reset = { .size = sizeof(reset) };
	struct pcipass_device_info info = { .size = sizeof(info) };
	char path[256], methods[128];
	int ctx, dev = -1, kmsg;
	__u32 zero = 0, name;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/reset_method", addr);
	if (!pp_path_exists(path))
		SKIP(return, "no device behind the bridge in this VM");
	ASSERT_EQ(0, pp_read_file(path, methods, sizeof(methods)));
	ASSERT_STREQ("bus", methods);
	ASSERT_EQ(0, pp_module_ensure());
	if (!pp_vm_has_iommu())
		ASSERT_EQ(0, pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
					   "1"));
	kmsg = pp_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, open_and_attach(addr, &ctx, &dev));
	/* Alone on its bus: the bus reset works, and the flag says so. */
	ASSERT_EQ(0, pp_ioctl(dev, PCIPASS_DEVICE_GET_INFO, &info));
	EXPECT_EQ(PCIPASS_DEVICE_RESET_AVAILABLE,
		  info.caps & PCIPASS_DEVICE_RESET_AVAILABLE);
	EXPECT_EQ(PCIPASS_DEVICE_HOT_RESET_AVAILABLE,
		  info.caps & PCIPASS_DEVICE_HOT_RESET_AVAILABLE);
	/* Selected test 0 (its name readable); a reset deselects it. */
	ASSERT_EQ(4, pwrite(dev, &zero, 4, BAR(0, 0)));
	name = 0;
	ASSERT_EQ(4, pread(dev, &name, 4, BAR(0, 16)));
	EXPECT_NE(0, name);
	EXPECT_EQ(0, pp_ioctl(dev, PCIPASS_DEVICE_RESET, &reset));
	ASSERT_EQ(4, pread(dev, &name, 4, BAR(0, 16)));
	EXPECT_EQ(0, name);
	close(dev);
	close(ctx);
	EXPECT_FALSE(pp_kmsg_find(kmsg, "unlocked secondary bus reset"));
	close(kmsg);
	pp_write_file("/sys/module/pcipass/parameters/allow_noiommu", "0");
	pp_dev_rebind(addr, "");
}

TEST_HARNESS_MAIN
