// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO compatibility nodes driven the way QEMU 7.2's vfio-pci drives
 * them (hw/vfio/common.c and pci.c): API version, extensions, group status,
 * SET_CONTAINER, SET_IOMMU type1v2, IOMMU_GET_INFO and its capabilities,
 * guest memory mapped before any device is open, GET_DEVICE_FD, device,
 * region and irq info, the whole config space in one pread(), a real DMA
 * and MSI round trip with edu through the VFIO paths, INTx with UNMASK as
 * QEMU does under TCG, MSI-X grown by disable and enable on nvme, then
 * unmap-all; every error case with VFIO's errno; and no pin, IRQ or
 * ownership left after closing in several orders or a SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096UL
#define VFIO_DIR	"/dev/pcipass-vfio"
#define VFIO_CONTAINER	VFIO_DIR "/vfio"
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define CFG_OFF		((__u64)VFIO_PCI_CONFIG_REGION_INDEX << 40)
#define BAR0_OFF	((__u64)VFIO_PCI_BAR0_REGION_INDEX << 40)

/* ioctl() returning its value, or -errno. */
static long vio(int fd, unsigned long num, void *arg)
{
	long ret = ioctl(fd, num, arg);

	return ret < 0 ? -errno : ret;
}

static long vio_val(int fd, unsigned long num, unsigned long arg)
{
	long ret = ioctl(fd, num, arg);

	return ret < 0 ? -errno : ret;
}

/* The IOMMU group number of @addr, -1 without one. */
static int group_of(const char *addr)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/iommu_group", addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	return atoi(strrchr(link, '/') + 1);
}

static int open_group(const char *addr)
{
	char path[64];

	snprintf(path, sizeof(path), VFIO_DIR "/%d", group_of(addr));
	return open(path, O_RDWR | O_CLOEXEC);
}

static long group_status(int group, __u32 *flags)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	long ret = vio(group, VFIO_GROUP_GET_STATUS, &st);

	*flags = st.flags;
	return ret;
}

static long map_dma(int c, void *va, __u64 iova, __u64 size, __u32 flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = flags,
		.vaddr = (__u64)(unsigned long)va, .iova = iova, .size = size,
	};

	return vio(c, VFIO_IOMMU_MAP_DMA, &map);
}

static long unmap_dma(int c, __u64 iova, __u64 size, __u32 flags,
		      __u64 *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .flags = flags,
		.iova = iova, .size = size,
	};
	long ret = vio(c, VFIO_IOMMU_UNMAP_DMA, &unmap);

	if (unmapped)
		*unmapped = unmap.size;
	return ret;
}

/* SET_IRQS with up to 4 data elements of @esize bytes. */
static long set_irqs(int dev, __u32 flags, __u32 index, __u32 start,
		     __u32 count, const void *data, size_t esize)
{
	struct {
		struct vfio_irq_set hdr;
		__u8 data[16];
	} s = { .hdr = {
		.argsz = sizeof(struct vfio_irq_set) + count * esize,
		.flags = flags, .index = index, .start = start,
		.count = count,
	} };

	if (data)
		memcpy(s.data, data, count * esize);
	return vio(dev, VFIO_DEVICE_SET_IRQS, &s);
}

static long trigger_eventfd(int dev, __u32 index, __u32 start, __u32 count,
			    const __s32 *fds)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD |
			VFIO_IRQ_SET_ACTION_TRIGGER, index, start, count, fds,
			sizeof(__s32));
}

static long irq_none(int dev, __u32 action, __u32 index, __u32 start,
		     __u32 count)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | action, index, start,
			count, NULL, 0);
}

static long region_info(int dev, __u32 index, struct vfio_region_info *ri,
			size_t argsz)
{
	memset(ri, 0, argsz);
	ri->argsz = argsz;
	ri->index = index;
	return vio(dev, VFIO_DEVICE_GET_REGION_INFO, ri);
}

/* The capability @id in a chain starting at @off of @base, or NULL. */
static struct vfio_info_cap_header *find_cap(void *base, __u32 off, __u16 id)
{
	while (off) {
		struct vfio_info_cap_header *h = (void *)((char *)base + off);

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

/* Container + group of @addr set, type1v2 done; 0 or -errno. */
static long vfio_open(const char *addr, int *container, int *group)
{
	long ret;

	*container = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
	if (*container < 0)
		return -errno;
	*group = open_group(addr);
	if (*group < 0)
		return -errno;
	ret = vio(*group, VFIO_GROUP_SET_CONTAINER, container);
	if (ret)
		return ret;
	return vio_val(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
}

static int cfg_write16(int dev, __u32 off, __u16 val)
{
	return pwrite(dev, &val, 2, CFG_OFF + off) == 2 ? 0 : -errno;
}

static __u16 cfg_read16(int dev, __u32 off)
{
	__u16 val = 0xffff;

	if (pread(dev, &val, 2, CFG_OFF + off) != 2)
		return 0xffff;
	return val;
}

/* The device is back under pcipass, quiesced: no bus master, no decode. */
static bool quiesced(const char *addr)
{
	char drv[64] = "";

	pp_dev_driver(addr, drv, sizeof(drv));
	return !strcmp(drv, "pcipass") &&
	       !(pp_dev_command(addr) & (PCI_COMMAND_MASTER |
					 PCI_COMMAND_MEMORY));
}

/*
 * Tests that reset and attach the device many times get timeouts for the
 * debug kernel (KASAN, lockdep), where they run 5 to 10 times slower.
 */
FIXTURE(vfio) {
	long pins;
	int container;
	int group;
	int dev;
	int efd;
	void *mem;
	void *bar;
};

FIXTURE_SETUP(vfio)
{
	self->container = -1;
	self->group = -1;
	self->dev = -1;
	self->efd = -1;
	self->mem = MAP_FAILED;
	self->bar = MAP_FAILED;
	if (!pp_vm_is("iommu"))
		SKIP(return, "VFIO needs an IOMMU (the iommu VM)");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	ASSERT_TRUE(pp_wait_path(VFIO_CONTAINER, true, 5000));
	self->pins = pp_foll_pins();
	self->mem = mmap(NULL, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(vfio)
{
	if (self->bar != MAP_FAILED)
		munmap(self->bar, 1 << 20);
	if (self->dev >= 0)
		close(self->dev);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->efd >= 0)
		close(self->efd);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, 4 * PAGE_SZ);
	if (pp_vm_is("iommu")) {
		usleep(100000);
		EXPECT_EQ(self->pins, pp_foll_pins());
		EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
		EXPECT_TRUE(quiesced(pp_edu_addr()));
	}
}

TEST_F(vfio, container_api_version_and_extensions)
{
	int c = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, c);
	self->container = c;
	EXPECT_EQ(VFIO_API_VERSION, vio(c, VFIO_GET_API_VERSION, NULL));
	EXPECT_EQ(1, vio_val(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, vio_val(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL));
	/* Only type1v2 semantics: QEMU picks v2 first anyway. */
	EXPECT_EQ(0, vio_val(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(0, vio_val(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ(0, vio_val(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU));
	EXPECT_EQ(0, vio_val(c, VFIO_CHECK_EXTENSION, 12345));
	/* No group yet: SET_IOMMU and the IOMMU ioctls are refused. */
	EXPECT_EQ(-EINVAL, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(-EINVAL, map_dma(c, self->mem, IOVA_SRC, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, unmap_dma(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	EXPECT_EQ(-EINVAL, vio(c, VFIO_IOMMU_GET_INFO, NULL));
	EXPECT_EQ(-EINVAL, vio(c, _IO(VFIO_TYPE, VFIO_BASE + 60), NULL));
	/* Group ioctls on a container, and native ones, are not known. */
	EXPECT_EQ(-EINVAL, vio(c, VFIO_GROUP_GET_STATUS, NULL));
	EXPECT_EQ(-EINVAL, vio(c, PCIPASS_GET_INFO, NULL));
}

TEST_F_TIMEOUT(vfio, qemu_sequence_edu_dma_and_msi, 300)
{
	struct {
		struct vfio_iommu_type1_info info;
		char caps[512];
	} ii;
	struct vfio_iommu_type1_info_cap_iova_range *iova;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq) };
	struct vfio_region_info ri;
	struct vfio_group_status st = { .argsz = 4 };
	struct vfio_pci_hot_reset_info hri = { .argsz = sizeof(hri) };
	struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) };
	__u8 b = 0;
	char *src = self->mem, *dst = src + PAGE_SZ;
	__u8 cfg[4096];
	__u32 flags, i, dword;
	__s32 fd;
	__u64 size;
	int c, g, d;

	c = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, c);
	self->container = c;
	g = open_group(pp_edu_addr());
	ASSERT_LE(0, g);
	self->group = g;
	/* One opener per group, as VFIO. */
	EXPECT_EQ(-1, open_group(pp_edu_addr()));
	EXPECT_EQ(EBUSY, errno);

	EXPECT_EQ(-EINVAL, vio(g, VFIO_GROUP_GET_STATUS, &st));
	ASSERT_EQ(0, group_status(g, &flags));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
	EXPECT_EQ(-EINVAL, vio(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	fd = -1;
	EXPECT_EQ(-EBADF, vio(g, VFIO_GROUP_SET_CONTAINER, &fd));
	fd = eventfd(0, EFD_CLOEXEC);
	EXPECT_EQ(-EBADFD, vio(g, VFIO_GROUP_SET_CONTAINER, &fd));
	close(fd);
	ASSERT_EQ(0, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	EXPECT_EQ(-EINVAL, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	ASSERT_EQ(0, group_status(g, &flags));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		  flags);
	/* No device before SET_IOMMU. */
	EXPECT_EQ(-EINVAL, vio(g, VFIO_GROUP_GET_DEVICE_FD,
			       (void *)pp_edu_addr()));
	EXPECT_EQ(-ENODEV, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	ASSERT_EQ(0, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(-EINVAL, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(-ENOTTY, vio(c, _IO(VFIO_TYPE, VFIO_BASE + 60), NULL));

	/* IOMMU_GET_INFO: too small, then the whole chain. */
	memset(&ii, 0, sizeof(ii));
	ii.info.argsz = 8;
	EXPECT_EQ(-EINVAL, vio(c, VFIO_IOMMU_GET_INFO, &ii));
	ii.info.argsz = sizeof(ii.info);
	ASSERT_EQ(0, vio(c, VFIO_IOMMU_GET_INFO, &ii));
	EXPECT_EQ(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
		  ii.info.flags);
	EXPECT_EQ(0, ii.info.cap_offset);
	EXPECT_LT(sizeof(ii.info), ii.info.argsz);
	ASSERT_GE(sizeof(ii), ii.info.argsz);
	size = ii.info.argsz;
	memset(&ii, 0, sizeof(ii));
	ii.info.argsz = size;
	ASSERT_EQ(0, vio(c, VFIO_IOMMU_GET_INFO, &ii));
	EXPECT_EQ(sizeof(ii.info), ii.info.cap_offset);
	EXPECT_EQ(PAGE_SZ, ii.info.iova_pgsizes & -ii.info.iova_pgsizes);
	iova = (void *)find_cap(&ii, ii.info.cap_offset,
				VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, iova);
	EXPECT_EQ(1, iova->header.version);
	ASSERT_LE(2, iova->nr_iovas);
	EXPECT_EQ(0, iova->iova_ranges[0].start);
	EXPECT_EQ(0xfedfffffULL, iova->iova_ranges[0].end);
	EXPECT_EQ(0xfef00000ULL, iova->iova_ranges[1].start);
	avail = (void *)find_cap(&ii, ii.info.cap_offset,
				 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_LT(65535, avail->avail);

	/* Guest memory is mapped before any device is open, as QEMU does. */
	memset(src, 0x5a, PAGE_SZ);
	for (i = 0; i < 64; i++)
		src[i] = i * 7;
	memset(dst, 0, PAGE_SZ);
	ASSERT_EQ(0, map_dma(c, src, IOVA_SRC, PAGE_SZ,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, map_dma(c, dst, IOVA_DST, 2 * PAGE_SZ,
			     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	EXPECT_EQ(-EEXIST, map_dma(c, src, IOVA_DST + PAGE_SZ, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, map_dma(c, src, 0xfee00000ULL, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, map_dma(c, src, 0x400000, PAGE_SZ, 0));
	EXPECT_EQ(-EINVAL, map_dma(c, src, 0x400000, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ |
				   VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(-EINVAL, map_dma(c, src, 0x400000, PAGE_SZ, 1 << 5));
	EXPECT_EQ(-EINVAL, map_dma(c, src, 0x400001, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EINVAL, map_dma(c, src, 0x400000, 0,
				   VFIO_DMA_MAP_FLAG_READ));
	EXPECT_EQ(-EFAULT, map_dma(c, NULL, 0x400000, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ));

	/* Devices: by name, only of this group. */
	EXPECT_EQ(-ENODEV, vio(g, VFIO_GROUP_GET_DEVICE_FD,
			       (void *)pp_nvme_addr()));
	EXPECT_EQ(-ENODEV, vio(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:03"));
	/* No SR-IOV VF token: a name with one is not a device name. */
	EXPECT_EQ(-ENODEV, vio(g, VFIO_GROUP_GET_DEVICE_FD,
			       "0000:00:03.0 vf_token=2ab74924-c335-45f4-9b16-8569e5b08258"));
	/* No dirty page tracking. */
	EXPECT_EQ(-ENOTTY, vio(c, VFIO_IOMMU_DIRTY_PAGES, &ii));
	EXPECT_EQ(-EFAULT, vio(g, VFIO_GROUP_GET_DEVICE_FD, NULL));
	d = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)pp_edu_addr());
	ASSERT_LE(0, d);
	self->dev = d;

	/* A second open is another descriptor of the same open device. */
	fd = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)pp_edu_addr());
	ASSERT_LE(0, fd);
	close(fd);

	dinfo.argsz = 8;
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_GET_INFO, &dinfo));
	dinfo.argsz = sizeof(dinfo);
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_INFO, &dinfo));
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PCI, dinfo.flags &
		  ~VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, dinfo.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, dinfo.num_irqs);
	/* edu on the root bus has no reset method: no RESET flag. */
	EXPECT_EQ(0, dinfo.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_RESET, NULL));

	/* Regions: config, BAR0 (no MSI-X: no capability), none, VGA. */
	ASSERT_EQ(0, region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &ri,
				 sizeof(ri)));
	EXPECT_EQ(CFG_OFF, ri.offset);
	EXPECT_EQ(256, ri.size);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		  ri.flags);
	ASSERT_EQ(0, region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &ri,
				 sizeof(ri)));
	EXPECT_EQ(0, ri.offset);
	EXPECT_EQ(1 << 20, ri.size);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP, ri.flags);
	ASSERT_EQ(0, region_info(d, VFIO_PCI_BAR0_REGION_INDEX + 1, &ri,
				 sizeof(ri)));
	EXPECT_EQ(0, ri.size);
	EXPECT_EQ(0, ri.flags);
	EXPECT_EQ(-EINVAL, region_info(d, VFIO_PCI_VGA_REGION_INDEX, &ri,
				       sizeof(ri)));
	EXPECT_EQ(-EINVAL, region_info(d, VFIO_PCI_NUM_REGIONS, &ri,
				       sizeof(ri)));
	EXPECT_EQ(-EINVAL, region_info(d, 0, &ri, 8));

	/* The whole config space in one pread(), as QEMU reads it. */
	memset(cfg, 0xee, sizeof(cfg));
	ASSERT_EQ(256, pread(d, cfg, 256, CFG_OFF));
	/* Past the end: EFAULT, as vfio-pci. */
	EXPECT_EQ(-1, pread(d, cfg, sizeof(cfg), CFG_OFF));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pread(d, cfg, 4, CFG_OFF + 256));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0x1234, cfg[0] | cfg[1] << 8);
	EXPECT_EQ(0x11e8, cfg[2] | cfg[3] << 8);
	for (i = 0; i < 64; i += 4) {
		ASSERT_EQ(4, pread(d, &dword, 4, CFG_OFF + i));
		EXPECT_EQ(0, memcmp(&dword, cfg + i, 4));
	}
	/* Odd length and alignment: 3 bytes at 1. */
	ASSERT_EQ(3, pread(d, &dword, 3, CFG_OFF + 1));
	EXPECT_EQ(0, memcmp(&dword, cfg + 1, 3));

	/* IRQ info. */
	irq.index = VFIO_PCI_INTX_IRQ_INDEX;
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(1, irq.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, irq.flags);
	irq.index = VFIO_PCI_MSI_IRQ_INDEX;
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(1, irq.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE |
		  VFIO_IRQ_INFO_MASKABLE, irq.flags);
	irq.index = VFIO_PCI_MSIX_IRQ_INDEX;
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(0, irq.count);
	/* The request index, QEMU's request notifier: as vfio-pci. */
	irq.index = VFIO_PCI_REQ_IRQ_INDEX;
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(1, irq.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, irq.flags);
	/* edu is conventional PCI: no error index (as vfio-pci). */
	irq.index = VFIO_PCI_ERR_IRQ_INDEX;
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	irq.index = VFIO_PCI_NUM_IRQS;
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	irq.index = 0;
	irq.argsz = 8;
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));

	/* The hot reset pair: edu is on the root bus, no bus to reset. */
	EXPECT_EQ(-ENODEV, vio(d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hri));
	hri.argsz = 4;
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hri));
	hr.flags = 1;
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.flags = 0;
	/* No group fd: only an iommufd cdev may pass none (vfio-pci). */
	EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.count = 1;
	EXPECT_EQ(-ENODEV, vio(d, VFIO_DEVICE_PCI_HOT_RESET, &hr));

	/* Memory decoding and bus mastering, as the guest sets them. */
	ASSERT_EQ(0, cfg_write16(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
				 PCI_COMMAND_MASTER));
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		  cfg_read16(d, PCI_COMMAND) &
		  (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	self->bar = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, d,
			 0);
	ASSERT_NE(MAP_FAILED, self->bar);
	EXPECT_EQ(0x010000ed, pp_edu_read(self->bar, 0));
	/* A BAR mapping cannot be DMA-mapped (no peer-to-peer): EFAULT. */
	EXPECT_EQ(-EFAULT, map_dma(c, self->bar, 0x800000, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ |
				   VFIO_DMA_MAP_FLAG_WRITE));

	/* A real DMA both ways through the mappings made before open. */
	ASSERT_TRUE(pp_edu_dma(self->bar, IOVA_SRC, EDU_BUF, 64, false));
	ASSERT_TRUE(pp_edu_dma(self->bar, EDU_BUF, IOVA_DST + 8, 64, true));
	EXPECT_EQ(0, memcmp(src, dst + 8, 64));
	EXPECT_EQ(0, dst[0]);

	/* MSI through VFIO: enable with an eventfd, the device raises it. */
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fd = self->efd;
	EXPECT_EQ(-EINVAL, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_MSI_IRQ_INDEX, 0, 0));
	ASSERT_EQ(0, trigger_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd));
	EXPECT_EQ(1, pp_irq_lines(pp_edu_addr()));
	/* INTx cannot be enabled beside it. */
	EXPECT_EQ(-EINVAL, trigger_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					   &fd));
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 1);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 2000));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 1);
	/* Masked through VFIO: held, then delivered on unmask. */
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_MASK,
			      VFIO_PCI_MSI_IRQ_INDEX, 0, 1));
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 1);
	EXPECT_EQ(0, pp_efd_wait(self->efd, 300));
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_MSI_IRQ_INDEX, 0, 1));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 2000));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 1);
	/* Loopback triggers: NONE, BOOL false, BOOL true. */
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_MSI_IRQ_INDEX, 0, 1));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));
	ASSERT_EQ(0, set_irqs(d, VFIO_IRQ_SET_DATA_BOOL |
			      VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &b, 1));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 100));
	b = 1;
	ASSERT_EQ(0, set_irqs(d, VFIO_IRQ_SET_DATA_BOOL |
			      VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &b, 1));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));
	/* MSI masking with an eventfd makes no sense: ENOTTY. */
	EXPECT_EQ(-ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_MASK,
				    VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd, 4));
	/* count 0 with DATA_NONE + TRIGGER disables; again: EINVAL. */
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_MSI_IRQ_INDEX, 0, 0));
	EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
	EXPECT_EQ(-EINVAL, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_MSI_IRQ_INDEX, 0, 0));

	/* INTx the way QEMU drives it under TCG: unmask after each. */
	ASSERT_EQ(0, trigger_eventfd(d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd));
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 1);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 2000));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 1);
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1));
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 1);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 2000));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 1);
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1));
	EXPECT_EQ(-EINVAL, irq_none(d, VFIO_IRQ_SET_ACTION_MASK,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 0));
	EXPECT_EQ(-ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_MASK,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4));
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 0));

	/* SET_IRQS input rules, vfio_set_irqs_validate_and_prepare's. */
	EXPECT_EQ(-EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_ACTION_TRIGGER | (1 << 10),
				    VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_DATA_BOOL |
				    VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_ACTION_MASK |
				    VFIO_IRQ_SET_ACTION_UNMASK,
				    VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_MSI_IRQ_INDEX, 1, 1));
	EXPECT_EQ(-EINVAL, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_MSIX_IRQ_INDEX, 0, 0));
	EXPECT_EQ(-EINVAL, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_ERR_IRQ_INDEX, 0, 0));
	EXPECT_EQ(-EINVAL, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_NUM_IRQS, 0, 0));
	{
		struct vfio_irq_set s = {
			.argsz = sizeof(s) + 2,	/* room for half an fd */
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSI_IRQ_INDEX, .count = 1,
		};

		EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_SET_IRQS, &s));
		s.argsz = 8;
		EXPECT_EQ(-EINVAL, vio(d, VFIO_DEVICE_SET_IRQS, &s));
	}
	EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));

	/* The group cannot leave while its device is open. */
	EXPECT_EQ(-EBUSY, vio(g, VFIO_GROUP_UNSET_CONTAINER, NULL));

	/* UNMAP: type1v2 rules. */
	EXPECT_EQ(-EINVAL, unmap_dma(c, IOVA_DST, PAGE_SZ, 0, NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(c, IOVA_DST + PAGE_SZ, PAGE_SZ, 0, NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(c, IOVA_DST, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(c, IOVA_DST, 0,
				     VFIO_DMA_UNMAP_FLAG_ALL |
				     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
				     NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(c, 0, 0,
				     VFIO_DMA_UNMAP_FLAG_VADDR, NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(c, 0, 0, 1 << 7, NULL));
	EXPECT_EQ(-EINVAL, unmap_dma(c, IOVA_DST, PAGE_SZ,
				     VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	size = 1;
	EXPECT_EQ(0, unmap_dma(c, 0x800000, PAGE_SZ, 0, &size));
	EXPECT_EQ(0, size);
	EXPECT_EQ(0, unmap_dma(c, IOVA_SRC, PAGE_SZ, 0, &size));
	EXPECT_EQ(PAGE_SZ, size);
	EXPECT_EQ(0, unmap_dma(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size));
	EXPECT_EQ(2 * PAGE_SZ, size);
	EXPECT_EQ(0, unmap_dma(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size));
	EXPECT_EQ(0, size);
	EXPECT_EQ(self->pins, pp_foll_pins());

	/* Closing the device lets the group go; the container is then bare. */
	munmap(self->bar, 1 << 20);
	self->bar = MAP_FAILED;
	close(d);
	self->dev = -1;
	ASSERT_EQ(0, map_dma(c, src, IOVA_SRC, PAGE_SZ,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, vio(g, VFIO_GROUP_UNSET_CONTAINER, NULL));
	ASSERT_EQ(0, group_status(g, &flags));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
	/* The last group took the mappings with it, as type1. */
	EXPECT_EQ(self->pins, pp_foll_pins());
	EXPECT_EQ(-EINVAL, map_dma(c, src, IOVA_SRC, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ));
	/* And the group can join again. */
	ASSERT_EQ(0, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	ASSERT_EQ(0, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, map_dma(c, src, IOVA_SRC, PAGE_SZ,
			     VFIO_DMA_MAP_FLAG_READ));
}

/* The three files closed in every order, with a mapping and MSI on. */
TEST_F_TIMEOUT(vfio, close_in_any_order_leaves_nothing, 300)
{
	static const int orders[][3] = {
		{ 0, 1, 2 }, { 2, 1, 0 }, { 1, 0, 2 }, { 1, 2, 0 },
		{ 0, 2, 1 }, { 2, 0, 1 },
	};
	unsigned int o, i;

	for (o = 0; o < ARRAY_SIZE(orders); o++) {
		int fds[3], efd;
		__s32 fd;

		ASSERT_EQ(0, vfio_open(pp_edu_addr(), &fds[0], &fds[1]));
		ASSERT_EQ(0, map_dma(fds[0], self->mem, IOVA_SRC, 4 * PAGE_SZ,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE));
		fds[2] = vio(fds[1], VFIO_GROUP_GET_DEVICE_FD,
			     (void *)pp_edu_addr());
		ASSERT_LE(0, fds[2]);
		ASSERT_EQ(0, cfg_write16(fds[2], PCI_COMMAND,
					 PCI_COMMAND_MEMORY |
					 PCI_COMMAND_MASTER));
		efd = eventfd(0, EFD_CLOEXEC);
		fd = efd;
		ASSERT_EQ(0, trigger_eventfd(fds[2], VFIO_PCI_MSI_IRQ_INDEX, 0,
					     1, &fd));
		EXPECT_LT(self->pins, pp_foll_pins());
		for (i = 0; i < 3; i++)
			close(fds[orders[o][i]]);
		close(efd);
		usleep(50000);
		EXPECT_EQ(self->pins, pp_foll_pins());
		EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
		EXPECT_TRUE(quiesced(pp_edu_addr()));
		/* The group is free for the next user at once. */
		fds[1] = open_group(pp_edu_addr());
		ASSERT_LE(0, fds[1]);
		close(fds[1]);
	}
}

struct vfio_map_job {
	int container;
	void *va;
	long ret;
	int done;
};

static void *vfio_map_thread(void *data)
{
	struct vfio_map_job *job = data;

	job->ret = map_dma(job->container, job->va, IOVA_SRC, 4 * PAGE_SZ,
			   VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *vfio_close_thread(void *data)
{
	int *fd = data;

	close(fd[0]);
	__atomic_store_n(&fd[1], 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The container's last group leaves (its file is closed) while a
 * MAP_DMA of the container still pins: the close does not wait for the
 * map, which ends without mapping (EINVAL, no IOMMU any more) once its
 * memory comes, and nothing stays pinned. Before, the close freed the
 * mapping and the domain under the map (a use after free).
 */
TEST_F_TIMEOUT(vfio, closing_the_group_during_a_map_is_safe, 120)
{
	struct vfio_map_job job = {};
	pthread_t map_thread, close_thread;
	int closing[2] = { -1, 0 };
	struct pp_uffd u;
	long end;

	ASSERT_EQ(0, pp_uffd_create(&u, 4 * PAGE_SZ));
	ASSERT_EQ(0, vfio_open(pp_edu_addr(), &self->container, &closing[0]));
	job.container = self->container;
	job.va = u.addr;
	ASSERT_EQ(0, pthread_create(&map_thread, NULL, vfio_map_thread, &job));
	ASSERT_EQ(1, pp_uffd_waiters(&u, pp_bound_ms(10000)));
	ASSERT_EQ(0, pthread_create(&close_thread, NULL, vfio_close_thread,
				    closing));
	/*
	 * The close does not wait for the map, whose memory never comes
	 * unless we serve it: no lock every VFIO user needs waits for one
	 * process's memory. The group is free again at once, the container
	 * cannot take an IOMMU again while its old mappings stay.
	 */
	end = pp_now_ms() + pp_bound_ms(5000);
	while (!__atomic_load_n(&closing[1], __ATOMIC_ACQUIRE) &&
	       pp_now_ms() < end)
		usleep(10000);
	EXPECT_TRUE(__atomic_load_n(&closing[1], __ATOMIC_ACQUIRE));
	EXPECT_FALSE(__atomic_load_n(&job.done, __ATOMIC_ACQUIRE));
	if (__atomic_load_n(&closing[1], __ATOMIC_ACQUIRE)) {
		closing[0] = open_group(pp_edu_addr());
		EXPECT_LE(0, closing[0]);
	}
	if (closing[0] >= 0 && __atomic_load_n(&closing[1], __ATOMIC_ACQUIRE)) {
		EXPECT_EQ(0, ioctl(closing[0], VFIO_GROUP_SET_CONTAINER,
				   &self->container));
		EXPECT_EQ(-EBUSY, vio_val(self->container, VFIO_SET_IOMMU,
					  VFIO_TYPE1v2_IOMMU));
		close(closing[0]);
	}
	pp_uffd_release(&u, false);
	pthread_join(close_thread, NULL);
	pthread_join(map_thread, NULL);
	EXPECT_EQ(-EINVAL, job.ret);
	EXPECT_EQ(self->pins, pp_foll_pins());
	pp_uffd_destroy(&u);
}

TEST_F_TIMEOUT(vfio, sigkill_leaves_nothing, 120)
{
	int pipefd[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ct, g, d, efd;
		__s32 fd;

		close(pipefd[0]);
		if (vfio_open(pp_edu_addr(), &ct, &g) ||
		    map_dma(ct, self->mem, IOVA_SRC, 4 * PAGE_SZ,
			    VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
			_exit(1);
		d = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)pp_edu_addr());
		if (d < 0 || cfg_write16(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
					 PCI_COMMAND_MASTER))
			_exit(1);
		efd = eventfd(0, EFD_CLOEXEC);
		fd = efd;
		if (trigger_eventfd(d, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd))
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	EXPECT_LT(self->pins, pp_foll_pins());
	EXPECT_EQ(1, pp_irq_lines(pp_edu_addr()));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	usleep(350000);
	EXPECT_EQ(self->pins, pp_foll_pins());
}

/* One IOMMU group for one user: native pcipass and VFIO exclude each other. */
TEST_F_TIMEOUT(vfio, native_and_vfio_exclude_each_other, 120)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	int ctx, dev, c, g;
	__u32 flags;

	ASSERT_EQ(0, vfio_open(pp_edu_addr(), &c, &g));
	self->container = c;
	self->group = g;
	ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctx);
	EXPECT_EQ(EBUSY, pp_attach(ctx, pp_edu_addr(), &dev));
	ASSERT_EQ(0, vio(g, VFIO_GROUP_UNSET_CONTAINER, NULL));

	ASSERT_EQ(0, pp_attach(ctx, pp_edu_addr(), &dev));
	ASSERT_EQ(0, group_status(g, &flags));
	EXPECT_EQ(0, flags);
	EXPECT_EQ(-EPERM, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	/* VFIO ioctls on a native device file are not known. */
	EXPECT_EQ(-ENOTTY, vio(dev, VFIO_DEVICE_GET_INFO, &di));
	close(dev);
	close(ctx);
	ASSERT_EQ(0, group_status(g, &flags));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
}

/*
 * A group with a member bound to a host driver, and node life time. A
 * member on pci-stub (driver_managed_dma) leaves the group viable, as in
 * vfio; one on ahci, a driver that does DMA, does not.
 */
TEST_F_TIMEOUT(vfio, non_viable_group_and_node_removal, 120)
{
	char orig2[64] = "", orig3[64] = "", path[64];
	int c, g, grp, d;
	__u32 flags;

	if (pp_run("modprobe pci-stub") ||
	    !pp_path_exists(PP_SYSFS_PCI "/0000:00:1f.2") ||
	    !pp_path_exists(PP_SYSFS_PCI "/0000:00:1f.3"))
		SKIP(return, "no pci-stub or no ICH9 group");
	grp = group_of("0000:00:1f.3");
	ASSERT_LE(0, grp);
	snprintf(path, sizeof(path), VFIO_DIR "/%d", grp);
	EXPECT_FALSE(pp_path_exists(path));

	pp_dev_driver("0000:00:1f.2", orig2, sizeof(orig2));
	pp_dev_driver("0000:00:1f.3", orig3, sizeof(orig3));
	ASSERT_EQ(0, pp_dev_rebind("0000:00:1f.2", "pci-stub"));
	ASSERT_TRUE(pp_wait_driver("0000:00:1f.2", "pci-stub", 5000));
	ASSERT_TRUE(pp_claim("0000:00:1f.3"));
	ASSERT_TRUE(pp_wait_path(path, true, 5000));

	c = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, c);
	g = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, group_status(g, &flags));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
	EXPECT_EQ(0, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	EXPECT_EQ(0, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	d = vio(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:1f.3");
	EXPECT_LE(0, d);
	if (d >= 0)
		close(d);
	EXPECT_EQ(0, vio(g, VFIO_GROUP_UNSET_CONTAINER, NULL));

	if (pp_run("modprobe ahci") == 0) {
		ASSERT_EQ(0, pp_dev_rebind("0000:00:1f.2", "ahci"));
		ASSERT_TRUE(pp_wait_driver("0000:00:1f.2", "ahci", 5000));
		ASSERT_EQ(0, group_status(g, &flags));
		EXPECT_EQ(0, flags);
		EXPECT_EQ(-EPERM, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	} else {
		/* The debug kernel has no ATA. */
		TH_LOG("no ahci: the DMA-driver case is not run");
	}
	/* Or a rebind would give 0000:00:1f.2 to ahci again. */
	pp_run("rmmod ahci 2>/dev/null");

	/* The last pcipass member leaves: node gone, the open fd is dead. */
	pp_dev_rebind("0000:00:1f.3", "");
	EXPECT_TRUE(pp_wait_path(path, false, 5000));
	EXPECT_EQ(-ENODEV, group_status(g, &flags));
	EXPECT_EQ(-ENODEV, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	close(g);
	close(c);
	pp_dev_rebind("0000:00:1f.2", "");
	pp_wait_driver("0000:00:1f.2", orig2, 5000);
	pp_wait_driver("0000:00:1f.3", orig3, 5000);
}

/*
 * The device leaves pcipass while QEMU holds everything open: its request
 * eventfd is signalled, and when it does not let go, the device is revoked
 * after release_timeout_ms.
 */
TEST_F_TIMEOUT(vfio, unbind_revokes_the_vfio_user, 120)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq),
				     .index = VFIO_PCI_REQ_IRQ_INDEX };
	int c, g, d, efd;
	__u32 flags;
	long t0, took;

	ASSERT_EQ(0, vfio_open(pp_edu_addr(), &c, &g));
	self->container = c;
	self->group = g;
	ASSERT_EQ(0, map_dma(c, self->mem, IOVA_SRC, 4 * PAGE_SZ,
			     VFIO_DMA_MAP_FLAG_READ));
	d = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)pp_edu_addr());
	ASSERT_LE(0, d);
	self->dev = d;
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	self->efd = efd;

	/* QEMU's vfio_register_req_notifier(), and its errors. */
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	ASSERT_EQ(1, irq.count);
	EXPECT_EQ(-EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_REQ_IRQ_INDEX, 1, 1, &efd, 4));
	EXPECT_EQ(-ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_ACTION_MASK,
				    VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	ASSERT_EQ(0, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd, 4));
	/* A loopback trigger reaches it; count 0 with NONE removes it. */
	ASSERT_EQ(0, set_irqs(d, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1, pp_efd_wait(efd, 1000));
	ASSERT_EQ(0, set_irqs(d, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_REQ_IRQ_INDEX, 0, 0, NULL, 0));
	ASSERT_EQ(0, set_irqs(d, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(0, pp_efd_wait(efd, 100));
	ASSERT_EQ(0, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd, 4));

	/* Unbound, not reprobed: ids= would bind it to pcipass again. */
	ASSERT_EQ(0, pp_release_timeout(300));
	t0 = pp_now_ms();
	ASSERT_EQ(0, pp_write_file(PP_SYSFS_PCI "/0000:00:03.0/driver/unbind",
				   pp_edu_addr()));
	took = pp_now_ms() - t0;
	EXPECT_EQ(0, pp_release_timeout(10000));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "", 5000));
	/* Asked, not answered: revoked after the timeout. */
	EXPECT_EQ(1, pp_efd_wait(efd, 0));
	EXPECT_LE(290, took);
	EXPECT_GT(pp_bound_ms(3000), took);
	EXPECT_EQ(-ENODEV, vio(d, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(-ENODEV, group_status(g, &flags));
	/* The container lost its last group: its mappings went with it. */
	EXPECT_EQ(self->pins, pp_foll_pins());
	EXPECT_EQ(-EINVAL, map_dma(c, self->mem, IOVA_SRC, PAGE_SZ,
				   VFIO_DMA_MAP_FLAG_READ));
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
}

/* Tests with no common setup (TEST_F only to have a timeout). */
FIXTURE(plain) {
	int unused;
};

FIXTURE_SETUP(plain)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(plain)
{
}

/* nvme: MSI-X through VFIO, grown by disable and enable as QEMU 7.2. */
TEST_F_TIMEOUT(plain, nvme_msix_and_regions, 120)
{
	struct {
		struct vfio_region_info info;
		char caps[256];
	} r;
	struct vfio_irq_info irq = { .argsz = sizeof(irq),
				     .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	int c, g, d, efd[2];
	__s32 fds[2];
	__u8 cfg[4096];
	long pins;

	if (!pp_vm_is("iommu"))
		SKIP(return, "VFIO needs an IOMMU (the iommu VM)");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_nvme_addr()));
	pins = pp_foll_pins();
	ASSERT_EQ(0, vfio_open(pp_nvme_addr(), &c, &g));
	d = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)pp_nvme_addr());
	ASSERT_LE(0, d);

	/* nvme has FLR: RESET is offered and works. */
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_TRUE(di.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(0, vio(d, VFIO_DEVICE_RESET, NULL));

	/* PCI Express: 4 KiB of config space in one pread(). */
	ASSERT_EQ(4096, pread(d, cfg, sizeof(cfg), CFG_OFF));
	EXPECT_EQ(0x1b36, cfg[0] | cfg[1] << 8);
	EXPECT_EQ(4096 - 16, pread(d, cfg, sizeof(cfg) - 16, CFG_OFF + 16));
	EXPECT_EQ(-1, pread(d, cfg, sizeof(cfg), CFG_OFF + 16));
	EXPECT_EQ(EFAULT, errno);

	/* BAR0 holds the MSI-X table: mappable with interrupt remapping. */
	memset(&r, 0, sizeof(r));
	r.info.argsz = sizeof(r.info);
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_REGION_INFO, &r));
	EXPECT_TRUE(r.info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_TRUE(r.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	EXPECT_EQ(0, r.info.cap_offset);
	ASSERT_GE(sizeof(r), r.info.argsz);
	r.info.argsz = sizeof(r);
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_REGION_INFO, &r));
	EXPECT_EQ(sizeof(r.info), r.info.cap_offset);
	EXPECT_NE(NULL, find_cap(&r, r.info.cap_offset,
				 VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
	EXPECT_EQ(NULL, find_cap(&r, r.info.cap_offset,
				 VFIO_REGION_INFO_CAP_SPARSE_MMAP));

	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_LE(2, irq.count);
	EXPECT_TRUE(irq.flags & VFIO_IRQ_INFO_NORESIZE);
	/* PCI Express: the error index has its one vector (as vfio-pci). */
	irq.index = VFIO_PCI_ERR_IRQ_INDEX;
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(1, irq.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, irq.flags);

	efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fds[0] = efd[0];
	fds[1] = efd[1];
	ASSERT_EQ(0, cfg_write16(d, PCI_COMMAND, PCI_COMMAND_MEMORY |
				 PCI_COMMAND_MASTER));
	ASSERT_EQ(0, trigger_eventfd(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds));
	EXPECT_EQ(1, pp_irq_lines(pp_nvme_addr()));
	/* NORESIZE: vector 1 needs disable and enable with two. */
	EXPECT_EQ(-EINVAL, trigger_eventfd(d, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
					   &fds[1]));
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_MSIX_IRQ_INDEX, 0, 0));
	ASSERT_EQ(0, trigger_eventfd(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds));
	EXPECT_EQ(2, pp_irq_lines(pp_nvme_addr()));
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_MSIX_IRQ_INDEX, 1, 1));
	EXPECT_EQ(1, pp_efd_wait(efd[1], 1000));
	EXPECT_EQ(0, pp_efd_wait(efd[0], 100));
	/* -1 drops vector 0's eventfd only. */
	fds[0] = -1;
	ASSERT_EQ(0, trigger_eventfd(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds));
	ASSERT_EQ(0, irq_none(d, VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_MSIX_IRQ_INDEX, 0, 2));
	EXPECT_EQ(0, pp_efd_wait(efd[0], 100));
	EXPECT_EQ(1, pp_efd_wait(efd[1], 1000));

	/* A process in the middle of all that just closes the container. */
	close(c);
	close(g);
	close(d);
	close(efd[0]);
	close(efd[1]);
	usleep(50000);
	EXPECT_EQ(0, pp_irq_lines(pp_nvme_addr()));
	EXPECT_EQ(pins, pp_foll_pins());
	pp_dev_rebind(pp_nvme_addr(), "");
	pp_wait_driver(pp_nvme_addr(), "nvme", 5000);
}

/* Root without CAP_IPC_LOCK, so that RLIMIT_MEMLOCK applies. */
static int drop_ipc_lock(void)
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

/* type1's errno for a map beyond RLIMIT_MEMLOCK: ENOMEM, nothing left. */
TEST_F(vfio, memlock_limit_gives_enomem)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { 2 * PAGE_SZ, 2 * PAGE_SZ };
		long pins0;
		int ct, g;

		if (drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl) ||
		    vfio_open(pp_edu_addr(), &ct, &g))
			_exit(10);
		pins0 = pp_foll_pins();
		if (map_dma(ct, self->mem, IOVA_SRC, 4 * PAGE_SZ,
			    VFIO_DMA_MAP_FLAG_READ) != -ENOMEM)
			_exit(11);
		if (pp_foll_pins() != pins0)
			_exit(12);
		if (map_dma(ct, self->mem, IOVA_SRC, 2 * PAGE_SZ,
			    VFIO_DMA_MAP_FLAG_READ))
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* VFIO_DEVICE_PCI_HOT_RESET with group fds, as QEMU resets a GPU. */
static long hot_reset_fds(int dev, const __s32 *fds, __u32 count)
{
	struct {
		struct vfio_pci_hot_reset hr;
		__s32 fds[4];
	} r = { .hr = { .argsz = sizeof(r), .count = count } };

	memcpy(r.fds, fds, count * sizeof(*fds));
	return vio(dev, VFIO_DEVICE_PCI_HOT_RESET, &r);
}

/*
 * The two pci-testdev functions behind the root port: a bus reset of
 * both, through VFIO. The group is the pair's, with the root port on
 * pcieport when the port does not isolate them (then also the GPU
 * layout: viable without unbinding the root port).
 */
TEST(vfio_hot_reset_of_a_bus)
{
	struct {
		struct vfio_pci_hot_reset_info info;
		struct vfio_pci_dependent_device devs[4];
	} hi;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	const char *a0 = pp_pair0_addr(), *a1 = pp_pair1_addr();
	__u32 zero = 0, name = 0, flags;
	int c, g, d0, d1, grp;
	__s32 fds[4];

	if (!pp_vm_is("iommu"))
		SKIP(return, "the device pair is in the iommu VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(a0));
	ASSERT_TRUE(pp_claim(a1));
	grp = group_of(a0);
	ASSERT_EQ(grp, group_of(a1));
	ASSERT_EQ(0, vfio_open(a0, &c, &g));
	ASSERT_EQ(0, group_status(g, &flags));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		  flags);
	d0 = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)a0);
	ASSERT_LE(0, d0);
	/* Function 0 alone cannot be reset: no VFIO_DEVICE_FLAGS_RESET. */
	ASSERT_EQ(0, vio(d0, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(0, di.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(-EINVAL, vio(d0, VFIO_DEVICE_RESET, NULL));

	memset(&hi, 0, sizeof(hi));
	hi.info.argsz = sizeof(hi.info);
	EXPECT_EQ(-ENOSPC, vio(d0, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi));
	EXPECT_EQ(2, hi.info.count);
	hi.info.argsz = sizeof(hi);
	ASSERT_EQ(0, vio(d0, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi));
	ASSERT_EQ(2, hi.info.count);
	EXPECT_EQ(grp, (int)hi.devs[0].group_id);
	EXPECT_EQ(grp, (int)hi.devs[1].group_id);
	EXPECT_EQ(1, hi.devs[0].bus);
	EXPECT_EQ(0, hi.devs[0].devfn);
	EXPECT_EQ(1, hi.devs[1].devfn);

	/* vfio-pci's checks of the fds. */
	fds[0] = -1;
	EXPECT_EQ(-EBADF, hot_reset_fds(d0, fds, 1));
	fds[0] = c;
	EXPECT_EQ(-EINVAL, hot_reset_fds(d0, fds, 1));
	fds[0] = g;
	fds[1] = g;
	fds[2] = g;
	EXPECT_EQ(-EINVAL, hot_reset_fds(d0, fds, 3));

	/* Function 1 need not be open: its group is given, as in vfio. */
	ASSERT_EQ(4, pwrite(d0, &zero, 4, BAR0_OFF));
	ASSERT_EQ(4, pread(d0, &name, 4, BAR0_OFF + 16));
	EXPECT_NE(0, name);
	EXPECT_EQ(0, hot_reset_fds(d0, fds, 1));
	ASSERT_EQ(4, pread(d0, &name, 4, BAR0_OFF + 16));
	EXPECT_EQ(0, name);

	d1 = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)a1);
	ASSERT_LE(0, d1);
	ASSERT_EQ(4, pwrite(d0, &zero, 4, BAR0_OFF));
	ASSERT_EQ(4, pread(d0, &name, 4, BAR0_OFF + 16));
	EXPECT_NE(0, name);
	EXPECT_EQ(0, hot_reset_fds(d0, fds, 1));
	ASSERT_EQ(4, pread(d0, &name, 4, BAR0_OFF + 16));
	EXPECT_EQ(0, name);

	close(d1);
	close(d0);
	close(g);
	close(c);
	pp_dev_rebind(a1, "");
	pp_dev_rebind(a0, "");
}

/* A viable group of several devices, one of them bound to pcipass. */
TEST_F(vfio, device_fd_only_for_pcipass_members)
{
	char drv[64] = "", orig3[64] = "";
	int c, g, d;

	if (!pp_path_exists(PP_SYSFS_PCI "/0000:00:1f.2") ||
	    !pp_path_exists(PP_SYSFS_PCI "/0000:00:1f.3"))
		SKIP(return, "no ICH9 group");
	pp_dev_driver("0000:00:1f.2", drv, sizeof(drv));
	if (drv[0])
		SKIP(return, "0000:00:1f.2 is bound to %s", drv);
	pp_dev_driver("0000:00:1f.3", orig3, sizeof(orig3));
	ASSERT_TRUE(pp_claim("0000:00:1f.3"));
	ASSERT_EQ(0, vfio_open("0000:00:1f.3", &c, &g));
	EXPECT_EQ(-ENODEV, vio(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:1f.2"));
	EXPECT_EQ(-ENODEV, vio(g, VFIO_GROUP_GET_DEVICE_FD,
			       (void *)pp_edu_addr()));
	d = vio(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:1f.3");
	EXPECT_LE(0, d);
	close(d);
	close(g);
	close(c);
	pp_dev_rebind("0000:00:1f.3", "");
	EXPECT_TRUE(pp_wait_driver("0000:00:1f.3", orig3, 5000));
}

/* The MSI-X capability of @cfg: table and PBA (BIR, offset). */
static bool msix_layout(const __u8 *cfg, __u32 *table, __u32 *pba)
{
	__u8 pos = cfg[PCI_CAPABILITY_LIST];

	while (pos) {
		if (cfg[pos] == PCI_CAP_ID_MSIX) {
			memcpy(table, cfg + pos + PCI_MSIX_TABLE, 4);
			memcpy(pba, cfg + pos + PCI_MSIX_PBA, 4);
			return true;
		}
		pos = cfg[pos + 1];
	}
	return false;
}

/*
 * Without interrupt remapping: SET_IOMMU is accepted (type1 would refuse
 * the group), MSI-X is refused, and the MSI-X pages are left out of the
 * sparse mmap areas of BAR0.
 */
#define UNSAFE_PARAM "/sys/module/pcipass/parameters/allow_unsafe_interrupts"

TEST_F_TIMEOUT(plain, nointremap_sparse_mmap_and_msi_refused, 120)
{
	struct {
		struct vfio_region_info info;
		char caps[256];
	} r;
	struct vfio_region_info_cap_sparse_mmap *sparse;
	__u32 table, pba, i;
	__u64 covered = 0;
	__u8 cfg[256];
	int c, g, d, efd;
	__s32 fd;
	void *p;

	if (!pp_vm_is("nointremap"))
		SKIP(return, "needs the IOMMU VM without interrupt remapping");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_nvme_addr()));
	/* As type1: no domain for a group that does not isolate MSI... */
	ASSERT_EQ(0, pp_write_file(UNSAFE_PARAM, "0"));
	EXPECT_EQ(-EPERM, vfio_open(pp_nvme_addr(), &c, &g));
	close(g);
	close(c);
	/* ...unless the admin allows it. */
	ASSERT_EQ(0, pp_write_file(UNSAFE_PARAM, "1"));
	ASSERT_EQ(0, vfio_open(pp_nvme_addr(), &c, &g));
	d = vio(g, VFIO_GROUP_GET_DEVICE_FD, (void *)pp_nvme_addr());
	ASSERT_LE(0, d);
	ASSERT_EQ(256, pread(d, cfg, sizeof(cfg), CFG_OFF));
	ASSERT_TRUE(msix_layout(cfg, &table, &pba));
	ASSERT_EQ(0, table & PCI_MSIX_TABLE_BIR);

	memset(&r, 0, sizeof(r));
	r.info.argsz = sizeof(r);
	ASSERT_EQ(0, vio(d, VFIO_DEVICE_GET_REGION_INFO, &r));
	EXPECT_TRUE(r.info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_TRUE(r.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	EXPECT_EQ(NULL, find_cap(&r, r.info.cap_offset,
				 VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
	sparse = (void *)find_cap(&r, r.info.cap_offset,
				  VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	ASSERT_NE(NULL, sparse);
	for (i = 0; i < sparse->nr_areas; i++) {
		__u64 off = sparse->areas[i].offset;
		__u64 len = sparse->areas[i].size;
		__u64 t = (table & PCI_MSIX_TABLE_OFFSET) & ~(PAGE_SZ - 1);

		EXPECT_EQ(0, off % PAGE_SZ);
		EXPECT_EQ(0, len % PAGE_SZ);
		EXPECT_FALSE(off <= t && t < off + len);
		if (!(pba & PCI_MSIX_PBA_BIR)) {
			t = (pba & PCI_MSIX_PBA_OFFSET) & ~(PAGE_SZ - 1);
			EXPECT_FALSE(off <= t && t < off + len);
		}
		/* Every area can be mapped as QEMU maps it. */
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d, off);
		EXPECT_NE(MAP_FAILED, p);
		if (p != MAP_FAILED)
			munmap(p, len);
		covered += len;
	}
	EXPECT_LT(0, covered);
	EXPECT_GT(r.info.size, covered);
	/* The table's page itself is not. */
	p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, d,
		 (table & PCI_MSIX_TABLE_OFFSET) & ~(PAGE_SZ - 1));
	EXPECT_EQ(MAP_FAILED, p);

	/*
	 * The group got its domain with allow_unsafe_interrupts=1 (the
	 * helpers set it in this VM); without it MSI-X is refused.
	 */
	ASSERT_EQ(0, pp_write_file(UNSAFE_PARAM, "0"));
	efd = eventfd(0, EFD_CLOEXEC);
	fd = efd;
	EXPECT_EQ(-EPERM, trigger_eventfd(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					  &fd));
	EXPECT_EQ(0, pp_irq_lines(pp_nvme_addr()));
	ASSERT_EQ(0, pp_write_file(UNSAFE_PARAM, "1"));
	close(efd);
	close(d);
	close(g);
	close(c);
	pp_dev_rebind(pp_nvme_addr(), "");
	pp_wait_driver(pp_nvme_addr(), "nvme", 5000);
}

/* No IOMMU: no VFIO group (VFIO's no-IOMMU mode is not offered). */
TEST_F(plain, noiommu_container_has_no_groups)
{
	char path[64];
	int c;

	if (!pp_vm_is("noiommu"))
		SKIP(return, "needs the VM without an IOMMU");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	c = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, c);
	EXPECT_EQ(VFIO_API_VERSION, vio(c, VFIO_GET_API_VERSION, NULL));
	EXPECT_EQ(-EINVAL, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(0, vio_val(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(-1, group_of(pp_edu_addr()));
	snprintf(path, sizeof(path), VFIO_DIR "/0");
	EXPECT_FALSE(pp_path_exists(path));
	close(c);
}

/*
 * vfio_nodes=compat: the real /dev/vfio names, and a clean refusal while
 * the vfio module holds them; vfio_nodes=off and bad values.
 */
TEST_F_TIMEOUT(plain, module_parameter_vfio_nodes, 300)
{
	char path[64];
	int kmsg, c, g;

	if (!pp_vm_is("iommu"))
		SKIP(return, "needs the IOMMU VM");
	kmsg = pp_kmsg_open();
	ASSERT_EQ(0, pp_module_reload("ids=1234:11e8 vfio_nodes=compat"));
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_of(pp_edu_addr()));
	EXPECT_TRUE(pp_wait_path("/dev/vfio/vfio", true, 5000));
	EXPECT_TRUE(pp_wait_path(path, true, 5000));
	EXPECT_FALSE(pp_path_exists(VFIO_CONTAINER));
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, c);
	g = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, g);
	EXPECT_EQ(0, vio(g, VFIO_GROUP_SET_CONTAINER, &c));
	EXPECT_EQ(0, vio_val(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	close(g);
	close(c);
	/* vfio cannot load over it. */
	EXPECT_NE(0, pp_run("modprobe vfio 2>/dev/null"));

	ASSERT_EQ(0, pp_module_reload("ids=1234:11e8 vfio_nodes=off"));
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	usleep(200000);
	EXPECT_FALSE(pp_path_exists(VFIO_CONTAINER));
	EXPECT_FALSE(pp_path_exists("/dev/vfio/vfio"));

	EXPECT_NE(0, pp_module_reload("ids=1234:11e8 vfio_nodes=bogus"));
	EXPECT_TRUE(pp_kmsg_find(kmsg, "vfio_nodes=bogus: expected"));

	/* With vfio loaded: compat refuses, the default nodes coexist. */
	if (pp_run("modprobe vfio") == 0) {
		EXPECT_NE(0, pp_module_reload("ids=1234:11e8 vfio_nodes=compat"));
		EXPECT_TRUE(pp_kmsg_find(kmsg,
					 "/dev/vfio/vfio (misc minor 196) is taken"));
		ASSERT_EQ(0, pp_module_reload("ids=1234:11e8"));
		EXPECT_TRUE(pp_wait_path(VFIO_CONTAINER, true, 5000));
		EXPECT_TRUE(pp_path_exists("/dev/vfio/vfio"));
		pp_run("rmmod vfio");
	} else {
		TH_LOG("no vfio module in the VM: the coexistence case is not run");
		EXPECT_TRUE(false);
	}
	ASSERT_EQ(0, pp_module_reload("ids=1234:11e8"));
	close(kmsg);
}

TEST_HARNESS_MAIN
