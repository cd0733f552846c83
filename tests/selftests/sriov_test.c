// SPDX-License-Identifier: GPL-2.0
/*
 * SR-IOV virtual functions: QEMU's SR-IOV NVMe of the iommu VM
 * (PCIPASS_SRIOV_PF, tests/vm/README.md). The PF stays with the host's
 * nvme driver, which this test asks (NVME_IOCTL_ADMIN_CMD, Virtualization
 * Management, QEMU's docs/system/devices/nvme.rst) to give secondary
 * controller 1 its queue and interrupt resources and to set it online; the
 * VF is then attached to a context and driven from user space: the
 * virtual config (IDs, BARs, the memory decoding bit), Identify of the
 * secondary controller, a Read into mapped memory, MSI-X on an eventfd,
 * a VF reset. Then the ownership rules, with the PF bound to pcipass.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096
#define IOVA_BASE	0x400000ULL
#define NPAGES		6	/* ASQ, ACQ, Identify, I/O SQ, I/O CQ, Read */

#define pp_sriov_pf()	pp_env("PCIPASS_SRIOV_PF", "")

/* Virtualization Management (NVMe 1.4 5.22): actions and resource types. */
#define VM_PRM_ALLOC	0x1
#define VM_SEC_OFFLINE	0x7
#define VM_SEC_ASSIGN	0x8
#define VM_SEC_ONLINE	0x9
#define VM_RT_VQ	0
#define VM_RT_VI	1

/* The PF's /dev/nvmeN, from sysfs; 0 or -1. */
static int pf_char_dev(const char *pf, char *path, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -1;

	snprintf(dir, sizeof(dir), PP_SYSFS_PCI "/%s/nvme", pf);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "nvme", 4) &&
		    strlen(de->d_name) + 6 <= len) {
			memcpy(path, "/dev/", 5);
			memcpy(path + 5, de->d_name, strlen(de->d_name) + 1);
			ret = 0;
			break;
		}
	closedir(d);
	return ret;
}

/* An admin command through the host's nvme driver: the NVMe status. */
static int pf_admin(int fd, __u8 opcode, __u32 cdw10, __u32 cdw11,
		    void *data, __u32 len)
{
	struct nvme_admin_cmd cmd = {
		.opcode = opcode,
		.cdw10 = cdw10,
		.cdw11 = cdw11,
		.addr = (__u64)(unsigned long)data,
		.data_len = len,
		.timeout_ms = 5000,
	};
	int i, ret = -1;

	/* Right after a reset the driver may still be bringing it up. */
	for (i = 0; i < 100; i++) {
		ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
		if (ret >= 0)
			return ret;
		usleep(100000);
	}
	return ret;
}

static int virt_mgmt(int fd, __u8 act, __u8 rt, __u16 cntlid, __u16 nr)
{
	return pf_admin(fd, 0x1c, act | (__u32)rt << 8 | (__u32)cntlid << 16,
			nr, NULL, 0);
}

/* The address of VF @n (0-based) of @pf, from its virtfnN link. */
static int vf_addr(const char *pf, int n, char *addr, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t r;
	char *base;

	snprintf(link, sizeof(link), PP_SYSFS_PCI "/%s/virtfn%d", pf, n);
	r = readlink(link, target, sizeof(target) - 1);
	if (r < 0)
		return -1;
	target[r] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -1;
	memcpy(addr, base, strlen(base) + 1);
	return 0;
}

static int set_numvfs(const char *pf, int n)
{
	char path[PATH_MAX], val[16];

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/sriov_numvfs", pf);
	snprintf(val, sizeof(val), "%d", n);
	return pp_write_file(path, val);
}

static int num_vfs(const char *pf)
{
	char path[PATH_MAX], val[16];

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/sriov_numvfs", pf);
	if (pp_read_file(path, val, sizeof(val)) < 0)
		return -1;
	return atoi(val);
}

/* Bind @addr to @drv ("none": to no driver, and none takes it). */
static bool bind_to(const char *addr, const char *drv)
{
	if (pp_dev_rebind(addr, drv))
		return false;
	return pp_wait_driver(addr, strcmp(drv, "none") ? drv : "", 10000);
}

/* The start of resource @bar of @addr, from sysfs. */
static __u64 resource_start(const char *addr, int bar)
{
	char path[PATH_MAX], buf[1024], *p = buf;
	unsigned long long start = 0;
	int i;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/resource", addr);
	if (pp_read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	for (i = 0; i < bar && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p)
		sscanf(p, "%llx", &start);
	return start;
}

FIXTURE(vf) {
	const char *pf;
	char vf[32];
	char pf_dev[64];
	int pf_fd;
	__u16 scid;
	int ctx;	/* closed by the teardown, whatever the test did */
	int dev;
};

/*
 * Open the nvme character device of @pf (the driver may be starting):
 * its path in @dev, the descriptor or -errno returned.
 */
static int open_pf(const char *pf, char *dev, size_t len)
{
	int i, fd;

	for (i = 0; i < 100; i++) {
		if (!pf_char_dev(pf, dev, len))
			break;
		usleep(100000);
	}
	if (pf_char_dev(pf, dev, len) || !pp_wait_path(dev, true, 10000))
		return -ENOENT;
	fd = open(dev, O_RDWR);
	return fd < 0 ? -errno : fd;
}

FIXTURE_SETUP(vf)
{
	char path[PATH_MAX];
	__u8 list[4096];

	self->pf_fd = -1;
	self->ctx = -1;
	self->dev = -1;
	self->vf[0] = 0;
	self->pf = pp_sriov_pf();
	if (!*self->pf || !pp_vm_is("iommu"))
		SKIP(return, "needs the iommu VM's SR-IOV NVMe (PCIPASS_SRIOV_PF)");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_run("modprobe nvme"));
	ASSERT_TRUE(bind_to(self->pf, "nvme"));
	/* Whatever an earlier run left (a PF reset would drop it anyway). */
	ASSERT_EQ(0, set_numvfs(self->pf, 0));
	self->pf_fd = open_pf(self->pf, self->pf_dev, sizeof(self->pf_dev));
	ASSERT_LE(0, self->pf_fd);

	/*
	 * The flexible resources start with the primary controller: give
	 * them up, and reset the PF so that it lets them go (while no VF is
	 * enabled: a PF reset disables them). The function level reset is
	 * made with no driver bound: nvme's reset_prepare() would freeze its
	 * queues in this task and thaw them in a worker, which lockdep
	 * reports as locks held on the way back to user space.
	 */
	memset(list, 0, sizeof(list));
	ASSERT_EQ(0, pf_admin(self->pf_fd, 0x06, 1, 0, list, sizeof(list)));
	ASSERT_EQ(0, virt_mgmt(self->pf_fd, VM_PRM_ALLOC, VM_RT_VQ,
			       list[78] | list[79] << 8, 0));
	ASSERT_EQ(0, virt_mgmt(self->pf_fd, VM_PRM_ALLOC, VM_RT_VI,
			       list[78] | list[79] << 8, 0));
	close(self->pf_fd);
	self->pf_fd = -1;
	ASSERT_TRUE(bind_to(self->pf, "none"));
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/reset", self->pf);
	ASSERT_EQ(0, pp_write_file(path, "1"));
	ASSERT_TRUE(bind_to(self->pf, "nvme"));
	self->pf_fd = open_pf(self->pf, self->pf_dev, sizeof(self->pf_dev));
	ASSERT_LE(0, self->pf_fd);

	/* Secondary controller list (CNS 0x15): VF 1's controller. */
	memset(list, 0, sizeof(list));
	ASSERT_EQ(0, pf_admin(self->pf_fd, 0x06, 0x15, 0, list, sizeof(list)));
	ASSERT_LE(1, list[0]);
	ASSERT_EQ(1, list[32 + 8] | list[32 + 9] << 8);	/* VFN 1 */
	self->scid = list[32] | list[33] << 8;

	/* The VF, with no driver (sriov_drivers_autoprobe is 0). */
	ASSERT_EQ(0, set_numvfs(self->pf, 1));
	ASSERT_EQ(0, vf_addr(self->pf, 0, self->vf, sizeof(self->vf)));
	ASSERT_EQ(0, virt_mgmt(self->pf_fd, VM_SEC_ASSIGN, VM_RT_VI,
			       self->scid, 1));
	ASSERT_EQ(0, virt_mgmt(self->pf_fd, VM_SEC_ASSIGN, VM_RT_VQ,
			       self->scid, 2));
	ASSERT_EQ(0, virt_mgmt(self->pf_fd, VM_SEC_ONLINE, 0, self->scid, 0));
	ASSERT_TRUE(bind_to(self->vf, "pcipass"));
}

FIXTURE_TEARDOWN(vf)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	if (*self->pf)
		pp_release_timeout(10000);
	if (self->vf[0]) {
		bind_to(self->vf, "none");
		if (self->pf_fd >= 0)
			virt_mgmt(self->pf_fd, VM_SEC_OFFLINE, 0, self->scid, 0);
	}
	if (self->pf_fd >= 0)
		close(self->pf_fd);
	if (*self->pf) {
		EXPECT_EQ(0, set_numvfs(self->pf, 0));
		EXPECT_EQ(0, num_vfs(self->pf));
		EXPECT_TRUE(bind_to(self->pf, "none"));
	}
}

TEST_F_TIMEOUT(vf, attach_identify_read_msix_reset, 240)
{
	struct pcipass_device_reset reset = { .size = sizeof(reset) };
	struct pcipass_region_info ri;
	struct pcipass_irq_info ii = { .size = sizeof(ii) };
	struct pp_nvme n = { 0 };
	__u32 sqe[16], val, bar0, bar1, sized;
	__u16 cmd, raw16;
	__u8 *mem, pin;
	long pins;
	int ctx, dev, efd;
	char buf[16];
	__s32 fds[1];
	int i;

	/* The hardware: no IDs, no BAR, no decoding bit of its own. */
	ASSERT_EQ(0, pp_dev_config_read(self->vf, 0, &raw16, 2));
	EXPECT_EQ(0xffff, raw16);
	ASSERT_EQ(0, pp_dev_config_read(self->vf, 0x10, &val, 4));
	EXPECT_EQ(0, val);

	pins = pp_foll_pins();
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ctx = self->ctx;
	ASSERT_EQ(0, pp_attach(ctx, self->vf, &self->dev));
	dev = self->dev;

	/* What the VMM sees: the VF's IDs, BARs and a memory bit. */
	ASSERT_EQ(0, pp_cfg_read(dev, 0, &val, 4));
	EXPECT_EQ(0x00101b36, val);
	ASSERT_EQ(0, pp_cfg_read(dev, 0x04, &cmd, 2));
	EXPECT_NE(0, cmd & 0x2);
	ASSERT_EQ(0, pp_cfg_read(dev, 0x3d, &pin, 1));
	EXPECT_EQ(0, pin);
	ASSERT_EQ(0, pp_cfg_read(dev, 0x10, &bar0, 4));
	ASSERT_EQ(0, pp_cfg_read(dev, 0x14, &bar1, 4));
	EXPECT_EQ(0x4, bar0 & 0xf);	/* memory, 64-bit */
	EXPECT_EQ(resource_start(self->vf, 0),
		  ((__u64)bar1 << 32) | (bar0 & ~0xfULL));
	ASSERT_EQ(0, pp_region_info(dev, 0, &ri));
	ASSERT_LE(8192, ri.region_size);
	/* Sizing works as on any BAR, and the address comes back. */
	val = ~0U;
	ASSERT_EQ(0, pp_cfg_write(dev, 0x10, &val, 4));
	ASSERT_EQ(0, pp_cfg_read(dev, 0x10, &sized, 4));
	EXPECT_EQ((__u32)~(ri.region_size - 1) | 0x4, sized);
	ASSERT_EQ(0, pp_cfg_write(dev, 0x10, &bar0, 4));
	/* INTx: none; MSI-X: the one vector QEMU gives a secondary. */
	ii.type = PCIPASS_IRQ_INTX;
	ASSERT_EQ(0, pp_ioctl(dev, PCIPASS_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(0, ii.count);
	ii.type = PCIPASS_IRQ_MSIX;
	ASSERT_EQ(0, pp_ioctl(dev, PCIPASS_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_LE(1, ii.count);

	mem = mmap(NULL, NPAGES * PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0, NPAGES * PAGE_SZ);
	ASSERT_EQ(0, pp_map(ctx, mem, IOVA_BASE, NPAGES * PAGE_SZ,
			    PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE));
	n.q[0].sq = (__u32 *)mem;
	n.q[0].cq = (__u32 *)(mem + PAGE_SZ);
	n.q[0].sq_iova = IOVA_BASE;
	n.q[0].cq_iova = IOVA_BASE + PAGE_SZ;
	n.q[1].sq = (__u32 *)(mem + 3 * PAGE_SZ);
	n.q[1].cq = (__u32 *)(mem + 4 * PAGE_SZ);
	n.q[1].sq_iova = IOVA_BASE + 3 * PAGE_SZ;
	n.q[1].cq_iova = IOVA_BASE + 4 * PAGE_SZ;
	ASSERT_EQ(0, pp_cfg_set_bus_master(dev, true));
	n.bar = pp_map_bar_head(dev, 0, 8192);
	ASSERT_NE(NULL, n.bar);

	ASSERT_EQ(0, pp_irq_set(dev, PCIPASS_IRQ_SET_ENABLE, PCIPASS_IRQ_MSIX,
				0, 1, NULL));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	fds[0] = efd;
	ASSERT_EQ(0, pp_irq_set(dev, PCIPASS_IRQ_SET_EVENTFD, PCIPASS_IRQ_MSIX,
				0, 1, fds));
	EXPECT_EQ(1, pp_irq_lines(self->vf));

	/* Identify Controller: the secondary controller, on vector 0. */
	ASSERT_EQ(0, pp_nvme_enable(&n));
	memset(sqe, 0, sizeof(sqe));
	sqe[0] = 0x06;
	sqe[6] = (__u32)(IOVA_BASE + 2 * PAGE_SZ);
	sqe[10] = 1;
	ASSERT_EQ(0, pp_nvme_cmd(&n, 0, sqe, NULL));
	EXPECT_EQ(self->scid, mem[2 * PAGE_SZ + 78] |
			      mem[2 * PAGE_SZ + 79] << 8);
	EXPECT_EQ(0, memcmp(mem + 2 * PAGE_SZ + 4, "pcipassvf", 9));
	EXPECT_LE(1, pp_efd_wait(efd, 3000));

	/* A Read of LBA 0 of namespace 1 into mapped memory. */
	ASSERT_EQ(0, pp_nvme_create_io_queues(&n, 0));
	pp_efd_wait(efd, 100);
	memset(sqe, 0, sizeof(sqe));
	sqe[0] = 0x02;
	sqe[1] = 1;
	sqe[6] = (__u32)(IOVA_BASE + 5 * PAGE_SZ);
	ASSERT_EQ(0, pp_nvme_cmd(&n, 1, sqe, NULL));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, memcmp(mem + 5 * PAGE_SZ + 8 * i,
				    pp_env("PCIPASS_SRIOV_LBA0", "PCIPASVF"),
				    8));
	EXPECT_EQ(1, pp_efd_wait(efd, 3000));

	/*
	 * Memory decoding off, virtually: BAR reads fail as on a device
	 * that stopped decoding; the VF's real decoding is not the VMM's.
	 */
	raw16 = cmd & ~0x2;
	ASSERT_EQ(0, pp_cfg_write(dev, 0x04, &raw16, 2));
	ASSERT_EQ(0, pp_cfg_read(dev, 0x04, &raw16, 2));
	EXPECT_EQ(0, raw16 & 0x2);
	/*
	 * The device's own bit is left as pci_enable_device() set it (QEMU
	 * implements one for its VFs; real VFs read it as 0).
	 */
	EXPECT_NE(0, pp_dev_command(self->vf) & 0x2);
	EXPECT_EQ(-1, pread(dev, buf, 4, 0));	/* BAR0 at offset 0 */
	EXPECT_EQ(EIO, errno);
	raw16 = cmd | 0x2 | 0x4;
	ASSERT_EQ(0, pp_cfg_write(dev, 0x04, &raw16, 2));
	EXPECT_EQ(4, pread(dev, buf, 4, 0));
	EXPECT_NE(0, pp_mmio_read32(n.bar, 0));	/* CAP, mapped again */

	/* A VF function level reset: the controller comes back off. */
	ASSERT_EQ(0, pp_ioctl(dev, PCIPASS_DEVICE_RESET, &reset));
	EXPECT_EQ(0, pp_mmio_read32(n.bar, 0x14));	/* CC */
	ASSERT_EQ(0, pp_cfg_set_bus_master(dev, true));
	ASSERT_EQ(0, pp_nvme_enable(&n));
	memset(mem + 2 * PAGE_SZ, 0, PAGE_SZ);
	memset(sqe, 0, sizeof(sqe));
	sqe[0] = 0x06;
	sqe[6] = (__u32)(IOVA_BASE + 2 * PAGE_SZ);
	sqe[10] = 1;
	ASSERT_EQ(0, pp_nvme_cmd(&n, 0, sqe, NULL));
	EXPECT_EQ(self->scid, mem[2 * PAGE_SZ + 78] |
			      mem[2 * PAGE_SZ + 79] << 8);
	pp_nvme_disable(&n);

	/* The same virtual config through the VFIO layer is vfio_compat's. */
	munmap(n.bar, 8192);
	close(dev);
	close(ctx);
	self->dev = -1;
	self->ctx = -1;
	close(efd);
	munmap(mem, NPAGES * PAGE_SZ);
	EXPECT_EQ(0, pp_irq_lines(self->vf));
	EXPECT_EQ(pins, pp_foll_pins());
}

/* The VFIO layer shows the same virtual config (one implementation). */
TEST_F_TIMEOUT(vf, vfio_nodes_see_the_same_virtual_config, 120)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char link[PATH_MAX], target[PATH_MAX];
	__u64 cfg = (__u64)VFIO_PCI_CONFIG_REGION_INDEX << 40;
	int container, group, dev;
	__u32 id, bar0, bar1;
	__u16 cmd;
	ssize_t r;

	snprintf(link, sizeof(link), PP_SYSFS_PCI "/%s/iommu_group", self->vf);
	r = readlink(link, target, sizeof(target) - 1);
	ASSERT_LT(0, r);
	target[r] = 0;
	snprintf(link, sizeof(link), "/dev/pcipass-vfio/%s",
		 strrchr(target, '/') + 1);
	ASSERT_TRUE(pp_wait_path(link, true, 5000));
	container = open("/dev/pcipass-vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, container);
	group = open(link, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, group);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	ASSERT_EQ(0, ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, self->vf);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_NE(0, info.flags & VFIO_DEVICE_FLAGS_RESET);

	ASSERT_EQ(4, pread(dev, &id, 4, cfg));
	EXPECT_EQ(0x00101b36, id);
	ASSERT_EQ(2, pread(dev, &cmd, 2, cfg + 4));
	EXPECT_NE(0, cmd & 0x2);
	ASSERT_EQ(4, pread(dev, &bar0, 4, cfg + 0x10));
	ASSERT_EQ(4, pread(dev, &bar1, 4, cfg + 0x14));
	EXPECT_EQ(0x4, bar0 & 0xf);
	EXPECT_EQ(resource_start(self->vf, 0),
		  ((__u64)bar1 << 32) | (bar0 & ~0xfULL));
	/* A vf_token would be for a PF in user space, which cannot be. */
	snprintf(link, sizeof(link), "%s vf_token=%s", self->vf,
		 "2ab74924-c335-45f4-9b16-8569e5b08258");
	EXPECT_EQ(-1, ioctl(group, VFIO_GROUP_GET_DEVICE_FD, link));
	EXPECT_EQ(ENODEV, errno);
	close(dev);
	close(group);
	close(container);
}

/*
 * The PF bound to pcipass: sriov_numvfs works while no context has it,
 * and a PF with VFs is never attached.
 */
TEST_F_TIMEOUT(vf, pf_with_vfs_is_never_attached, 240)
{
	struct pcipass_device_info dinfo = { .size = sizeof(dinfo) };
	char vf2[32], path[PATH_MAX];
	int ctx, vfdev, pfdev;
	long pins;
	__u32 id;

	pins = pp_foll_pins();
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ctx = self->ctx;
	ASSERT_EQ(0, pp_attach(ctx, self->vf, &vfdev));
	self->dev = vfdev;

	/* The PF leaves nvme (which leaves its VF enabled) for pcipass. */
	close(self->pf_fd);
	self->pf_fd = -1;
	ASSERT_TRUE(bind_to(self->pf, "pcipass"));
	EXPECT_EQ(1, num_vfs(self->pf));
	EXPECT_EQ(EBUSY, pp_attach(ctx, self->pf, &pfdev));

	/* The VF, still attached, is still the VMM's. */
	ASSERT_EQ(0, pp_cfg_read(vfdev, 0, &id, 4));
	EXPECT_EQ(0x00101b36, id);

	/*
	 * The admin disables the VFs while one is attached: a removal like
	 * any other, revoked once release_timeout_ms is over.
	 */
	ASSERT_EQ(0, pp_release_timeout(0));
	EXPECT_EQ(0, set_numvfs(self->pf, 0));
	EXPECT_EQ(0, pp_release_timeout(10000));
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s", self->vf);
	EXPECT_FALSE(pp_path_exists(path));
	EXPECT_EQ(ENODEV, pp_ioctl(vfdev, PCIPASS_DEVICE_GET_INFO, &dinfo));
	EXPECT_EQ(ENODEV, pp_detach(ctx, self->vf));
	self->vf[0] = 0;
	close(vfdev);
	self->dev = -1;

	/* No VF: the PF attaches; while attached no VF can be enabled. */
	ASSERT_EQ(0, pp_attach(ctx, self->pf, &self->dev));
	EXPECT_EQ(-EBUSY, set_numvfs(self->pf, 1));
	EXPECT_EQ(0, num_vfs(self->pf));
	close(self->dev);
	self->dev = -1;

	/* Detached: pcipass enables VFs; the PF is refused again. */
	ASSERT_EQ(0, set_numvfs(self->pf, 1));
	ASSERT_EQ(0, vf_addr(self->pf, 0, vf2, sizeof(vf2)));
	EXPECT_EQ(EBUSY, pp_attach(ctx, self->pf, &pfdev));
	/*
	 * QEMU's ACPI hotplug tells the guest of each VF it creates, and the
	 * guest's acpiphp rescans the bus under the PCI core's rescan/remove
	 * lock. The unbind below removes the VF in pcipass's remove(), which
	 * (as vfio-pci's) runs without that lock: Linux 6.12 takes it around
	 * sriov_numvfs only, so a removal during that rescan corrupts the
	 * bus's device list (seen here: an oops in pci_bus_add_devices()).
	 * Let the rescan end first.
	 */
	usleep(1000000);
	/* Its VFs go when pcipass lets the PF go. */
	ASSERT_TRUE(bind_to(self->pf, "none"));
	EXPECT_EQ(0, num_vfs(self->pf));
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s", vf2);
	EXPECT_TRUE(pp_wait_path(path, false, 5000));
	close(ctx);
	self->ctx = -1;
	EXPECT_EQ(pins, pp_foll_pins());
}

TEST_HARNESS_MAIN
