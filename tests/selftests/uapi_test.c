// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/pcipass UAPI conventions: every ioctl's size and flags rules,
 * reserved fields, bad user pointers and unknown ioctls, and the answers of
 * PCIPASS_GET_API_VERSION and PCIPASS_GET_INFO.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pcipass.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ	4096

FIXTURE(ctx) {
	int fd;
};

FIXTURE_SETUP(ctx)
{
	self->fd = -1;
	if (pp_vm_has_iommu() < 0 && !pp_path_exists(PP_DEV_NODE))
		SKIP(return, "not in a pcipass test VM and no " PP_DEV_NODE);
	ASSERT_EQ(0, pp_module_ensure());
	self->fd = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ctx)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(ctx, api_version)
{
	struct pcipass_api_version v = { .size = sizeof(v) };

	ASSERT_EQ(0, pp_ioctl(self->fd, PCIPASS_GET_API_VERSION, &v));
	EXPECT_EQ(PCIPASS_API_VERSION, v.version);
	EXPECT_EQ(sizeof(v), v.size);
}

TEST_F(ctx, info_reports_the_vm)
{
	struct pcipass_info info = { .size = sizeof(info) };
	int iommu = pp_vm_has_iommu();

	memset(&info.host_caps, 0xaa, sizeof(info) - 8);
	ASSERT_EQ(0, pp_ioctl(self->fd, PCIPASS_GET_INFO, &info));
	EXPECT_EQ(PCIPASS_CTX_MODE_UNSET, info.ctx_mode);
	EXPECT_EQ(0, info.num_devices);
	/* Only bits this header knows are reported. */
	EXPECT_EQ(PCIPASS_FEATURE_DEVICE_ATTACH | PCIPASS_FEATURE_DMA_MAP |
		  PCIPASS_FEATURE_IRQS | PCIPASS_FEATURE_REGIONS |
		  PCIPASS_FEATURE_RESET | PCIPASS_FEATURE_HOT_RESET |
		  PCIPASS_FEATURE_RELEASE_REQ | PCIPASS_FEATURE_DMA_MAP_FILE |
		  PCIPASS_FEATURE_ERR_REPORT,
		  info.features);
	if (iommu < 0)
		return;
	/* VT-d with or without interrupt remapping, or no IOMMU at all. */
	EXPECT_EQ(iommu ? PCIPASS_HOST_IOMMU : 0,
		  info.host_caps & PCIPASS_HOST_IOMMU);
	EXPECT_EQ(pp_vm_is("iommu") ? PCIPASS_HOST_ISOLATED_MSI : 0,
		  info.host_caps & PCIPASS_HOST_ISOLATED_MSI);
}

TEST_F(ctx, unknown_ioctls_get_enotty)
{
	struct pcipass_info info = { .size = sizeof(info) };

	EXPECT_EQ(ENOTTY, pp_ioctl(self->fd, _IO(PCIPASS_TYPE, 0x7f), &info));
	EXPECT_EQ(ENOTTY, pp_ioctl(self->fd, _IO(PCIPASS_TYPE, 0xff), &info));
	EXPECT_EQ(ENOTTY, pp_ioctl(self->fd, _IO('x', PCIPASS_CMD_GET_INFO),
				   &info));
	/* The right number with a size or direction encoded is not ours. */
	EXPECT_EQ(ENOTTY, pp_ioctl(self->fd,
				   _IOWR(PCIPASS_TYPE, PCIPASS_CMD_GET_INFO,
					 struct pcipass_info), &info));
	EXPECT_EQ(ENOTTY, pp_ioctl(self->fd, FIONREAD, &info));
}

/* Every context ioctl, with the size of its first version. */
struct pp_ioctl_desc {
	const char *name;
	unsigned long num;
	size_t min_size;
	size_t size;
};

/* A structure whose first version is its current one. */
#define PP_IOCTL(_num, _struct) PP_IOCTL_V(_num, _struct, sizeof(_struct))

/* A structure that has grown since its first version of @_first bytes. */
#define PP_IOCTL_V(_num, _struct, _first) {				\
	.name = #_num, .num = _num,					\
	.min_size = _first,						\
	.size = sizeof(_struct),					\
}

static const struct pp_ioctl_desc pp_info_ioctls[] = {
	PP_IOCTL(PCIPASS_GET_API_VERSION, struct pcipass_api_version),
	/* dma_flags came after the first version (32 bytes). */
	PP_IOCTL_V(PCIPASS_GET_INFO, struct pcipass_info, 32),
	PP_IOCTL(PCIPASS_DEVICE_ATTACH, struct pcipass_device_attach),
	PP_IOCTL(PCIPASS_DEVICE_DETACH, struct pcipass_device_detach),
	/* fd, __reserved and offset came after the first version (32 bytes). */
	PP_IOCTL_V(PCIPASS_DMA_MAP, struct pcipass_dma_map, 32),
	PP_IOCTL(PCIPASS_DMA_UNMAP, struct pcipass_dma_unmap),
	PP_IOCTL(PCIPASS_IOVA_RANGES, struct pcipass_iova_ranges),
};

TEST_F(ctx, every_ioctl_follows_the_size_rules)
{
	__u8 buf[PAGE_SZ * 2];
	unsigned int i;
	int exact;

	for (i = 0; i < ARRAY_SIZE(pp_info_ioctls); i++) {
		const struct pp_ioctl_desc *d = &pp_info_ioctls[i];
		__u32 *hdr = (__u32 *)buf;

		TH_LOG("%s", d->name);
		memset(buf, 0, sizeof(buf));

		/* Below the first version: EINVAL. */
		hdr[0] = 0;
		EXPECT_EQ(EINVAL, pp_ioctl(self->fd, d->num, buf));
		hdr[0] = 4;
		EXPECT_EQ(EINVAL, pp_ioctl(self->fd, d->num, buf));
		hdr[0] = d->min_size - 1;
		EXPECT_EQ(EINVAL, pp_ioctl(self->fd, d->num, buf));

		/*
		 * Exactly the kernel's size, and larger with a zero tail, get
		 * the same answer (an all-zero structure is not valid for every
		 * ioctl, so the answer itself is not always 0).
		 */
		hdr[0] = d->size;
		exact = pp_ioctl(self->fd, d->num, buf);
		EXPECT_NE(E2BIG, exact);
		memset(buf, 0, sizeof(buf));
		hdr[0] = d->size + 64;
		EXPECT_EQ(exact, pp_ioctl(self->fd, d->num, buf));
		/* The kernel wrote nothing past its own structure. */
		EXPECT_EQ(0, buf[d->size]);

		/* A non-zero byte the kernel does not know: E2BIG. */
		memset(buf, 0, sizeof(buf));
		hdr[0] = d->size + 64;
		buf[d->size + 63] = 1;
		EXPECT_EQ(E2BIG, pp_ioctl(self->fd, d->num, buf));

		/* More than a page: E2BIG. */
		memset(buf, 0, sizeof(buf));
		hdr[0] = PAGE_SZ + 8;
		EXPECT_EQ(E2BIG, pp_ioctl(self->fd, d->num, buf));

		/* Unknown flags: EOPNOTSUPP, before any other check. */
		memset(buf, 0, sizeof(buf));
		hdr[0] = d->size;
		hdr[1] = 1u << 31;
		EXPECT_EQ(EOPNOTSUPP, pp_ioctl(self->fd, d->num, buf));
		hdr[1] = 1u << 16;
		EXPECT_EQ(EOPNOTSUPP, pp_ioctl(self->fd, d->num, buf));
	}
}

TEST_F(ctx, nonzero_reserved_field_is_einval)
{
	struct pcipass_api_version v = { .size = sizeof(v), .__reserved = 1 };

	EXPECT_EQ(EINVAL, pp_ioctl(self->fd, PCIPASS_GET_API_VERSION, &v));
	EXPECT_EQ(0, v.version);
}

TEST_F(ctx, output_fields_are_ignored_on_input)
{
	struct pcipass_api_version v = {
		.size = sizeof(v), .version = 0xdeadbeef,
	};

	ASSERT_EQ(0, pp_ioctl(self->fd, PCIPASS_GET_API_VERSION, &v));
	EXPECT_EQ(PCIPASS_API_VERSION, v.version);
}

TEST_F(ctx, bad_user_pointers_get_efault)
{
	struct pcipass_info *info;
	void *page;

	EXPECT_EQ(EFAULT, pp_ioctl(self->fd, PCIPASS_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, pp_ioctl(self->fd, PCIPASS_GET_API_VERSION,
				   (void *)16));

	page = mmap(NULL, PAGE_SZ * 2, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);

	/* Unmapped memory. */
	ASSERT_EQ(0, munmap(page + PAGE_SZ, PAGE_SZ));
	EXPECT_EQ(EFAULT, pp_ioctl(self->fd, PCIPASS_GET_INFO,
				   page + PAGE_SZ));

	/* A structure that straddles into the unmapped page. */
	info = page + PAGE_SZ - 8;
	info->size = sizeof(*info);
	info->flags = 0;
	EXPECT_EQ(EFAULT, pp_ioctl(self->fd, PCIPASS_GET_INFO, info));

	/* Readable but not writable: the answer cannot be written back. */
	info = page;
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	ASSERT_EQ(0, mprotect(page, PAGE_SZ, PROT_READ));
	EXPECT_EQ(EFAULT, pp_ioctl(self->fd, PCIPASS_GET_INFO, info));

	munmap(page, PAGE_SZ);
}

TEST_F(ctx, contexts_are_independent)
{
	struct pcipass_info info = { .size = sizeof(info) };
	int fd2;

	fd2 = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, pp_ioctl(fd2, PCIPASS_GET_INFO, &info));
	close(fd2);
	/* Closing one context leaves the other working. */
	EXPECT_EQ(0, pp_ioctl(self->fd, PCIPASS_GET_INFO, &info));
}

TEST_F(ctx, unprivileged_open_is_refused)
{
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(open(PP_DEV_NODE, O_RDWR) < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
