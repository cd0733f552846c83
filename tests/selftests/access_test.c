// SPDX-License-Identifier: GPL-2.0
/*
 * Who may do what with /dev/pcipass: a read-only open may look but change
 * nothing, a context opened without CAP_SYS_ADMIN attaches only the
 * devices whose pcipass_owner is its opener, an IOMMU group that does not
 * isolate MSI is attached only with the admin's opt-in, and no reply to
 * user space is written while a lock that others need is held.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
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

#define TEST_UID	4242
#define PAGE_SZ		4096
#define UNSAFE_PARAM	"/sys/module/pcipass/parameters/allow_unsafe_interrupts"

static int owner_path(const char *addr, char *path, size_t len)
{
	return snprintf(path, len, PP_SYSFS_PCI "/%s/pcipass_owner", addr);
}

static int set_owner(const char *addr, const char *owner)
{
	char path[128];

	owner_path(addr, path, sizeof(path));
	return pp_write_file(path, owner);
}

/* Unbind without probing again (ids= would claim edu back at once). */
static int unbind_only(const char *addr)
{
	char path[128];

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/driver/unbind", addr);
	return pp_write_file(path, addr);
}

/* Become TEST_UID with no capabilities at all. */
static int drop_to_test_user(void)
{
	if (setgroups(0, NULL) || setresgid(TEST_UID, TEST_UID, TEST_UID) ||
	    setresuid(TEST_UID, TEST_UID, TEST_UID))
		return -1;
	return 0;
}

/*
 * In a child: optionally open as root first, drop to TEST_UID, open if
 * not yet, attach @addr. The child exits with the attach's errno (0 on
 * success, 200 + errno when the open or the drop failed).
 */
static int attach_as_test_user(const char *addr, bool open_first)
{
	int status, ctx = -1, dev;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (open_first)
			ctx = open(PP_DEV_NODE, O_RDWR);
		if (drop_to_test_user())
			_exit(200);
		if (ctx < 0)
			ctx = open(PP_DEV_NODE, O_RDWR);
		if (ctx < 0)
			_exit(200 + (errno & 0x3f));
		_exit(pp_attach(ctx, addr, &dev));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

FIXTURE(access) {
	bool ready;
};

FIXTURE_SETUP(access)
{
	self->ready = false;
	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs a VM with an IOMMU");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_EQ(0, pp_dev_rebind(pp_nvme_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
	ASSERT_TRUE(pp_wait_driver(pp_nvme_addr(), "pcipass", 5000));
	ASSERT_EQ(0, chmod(PP_DEV_NODE, 0666));
	self->ready = true;
}

FIXTURE_TEARDOWN(access)
{
	if (!self->ready)
		return;
	set_owner(pp_edu_addr(), "none");
	set_owner(pp_nvme_addr(), "none");
	chmod(PP_DEV_NODE, 0600);
	pp_dev_rebind(pp_nvme_addr(), "");
	pp_wait_driver(pp_nvme_addr(), "nvme", 10000);
}

TEST_F(access, read_only_open_may_look_but_not_change)
{
	struct pcipass_api_version v = { .size = sizeof(v) };
	struct pcipass_info info = { .size = sizeof(info) };
	struct pcipass_dma_unmap unmap = {
		.size = sizeof(unmap),
		.flags = PCIPASS_DMA_UNMAP_ALL,
	};
	void *buf;
	int ro, rw, dev;

	ro = open(PP_DEV_NODE, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(0, pp_ioctl(ro, PCIPASS_GET_API_VERSION, &v));
	EXPECT_EQ(0, pp_ctx_info(ro, &info));
	EXPECT_EQ(EBADF, pp_attach(ro, pp_edu_addr(), &dev));
	EXPECT_EQ(EBADF, pp_detach(ro, pp_edu_addr()));
	buf = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	EXPECT_EQ(EBADF, pp_map(ro, buf, 0x100000, PAGE_SZ,
				PCIPASS_DMA_MAP_READ));
	EXPECT_EQ(EBADF, pp_ioctl(ro, PCIPASS_DMA_UNMAP, &unmap));
	/* Nothing happened: the device is free for a writable open. */
	rw = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, rw);
	ASSERT_EQ(0, pp_attach(rw, pp_edu_addr(), &dev));
	close(dev);
	close(rw);
	close(ro);
	munmap(buf, PAGE_SZ);
}

TEST_F(access, unprivileged_user_attaches_only_what_it_owns)
{
	char path[128], val[32];

	owner_path(pp_edu_addr(), path, sizeof(path));
	ASSERT_EQ(0, pp_read_file(path, val, sizeof(val)));
	EXPECT_STREQ("none", val);
	EXPECT_EQ(-EINVAL, set_owner(pp_edu_addr(), "alice"));
	EXPECT_EQ(-EINVAL, set_owner(pp_edu_addr(), "-5"));

	/* Nobody owns it: an unprivileged opener gets nothing. */
	EXPECT_EQ(EACCES, attach_as_test_user(pp_edu_addr(), false));

	ASSERT_EQ(0, set_owner(pp_edu_addr(), "4242"));
	ASSERT_EQ(0, pp_read_file(path, val, sizeof(val)));
	EXPECT_STREQ("4242", val);
	EXPECT_EQ(0, attach_as_test_user(pp_edu_addr(), false));
	/* Owning one device is not owning another. */
	EXPECT_EQ(EACCES, attach_as_test_user(pp_nvme_addr(), false));
	/* Someone else's. */
	ASSERT_EQ(0, set_owner(pp_edu_addr(), "4243"));
	EXPECT_EQ(EACCES, attach_as_test_user(pp_edu_addr(), false));
	/* The opener's rights travel with the file, not the holder's. */
	EXPECT_EQ(0, attach_as_test_user(pp_nvme_addr(), true));
	/* Ownership belongs to the binding: it ends with it. */
	ASSERT_EQ(0, set_owner(pp_edu_addr(), "4242"));
	ASSERT_EQ(0, unbind_only(pp_edu_addr()));
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
	ASSERT_EQ(0, pp_read_file(path, val, sizeof(val)));
	EXPECT_STREQ("none", val);
}

struct stalled_attach {
	int ctx;
	struct pcipass_device_attach *arg;
	int ret;
};

static void *stalled_attach_thread(void *data)
{
	struct stalled_attach *sa = data;

	sa->ret = pp_ioctl(sa->ctx, PCIPASS_DEVICE_ATTACH, sa->arg);
	return NULL;
}

/*
 * The reply of an attach goes to memory whose writes stall: the context
 * and the device must stay usable by others meanwhile.
 */
TEST_F(access, attach_reply_to_stalled_memory_blocks_nobody)
{
	struct pcipass_device_attach init = { .size = sizeof(init) };
	struct pcipass_info info = { .size = sizeof(info) };
	struct stalled_attach sa = {};
	struct pp_uffd u;
	pthread_t thread;
	long t0;
	int ret;

	ASSERT_EQ(0, pp_parse_addr(pp_edu_addr(), &init.addr));
	ret = pp_uffd_create_wp(&u, PAGE_SZ, &init, sizeof(init));
	if (ret == -EINVAL || ret == -EPERM)
		SKIP(return, "no userfaultfd write-protect (%d)", ret);
	ASSERT_EQ(0, ret);
	sa.ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, sa.ctx);
	sa.arg = u.addr;
	ASSERT_EQ(0, pthread_create(&thread, NULL, stalled_attach_thread, &sa));
	ASSERT_EQ(1, pp_uffd_waiters(&u, pp_bound_ms(10000)));

	/* The same context answers, and the device can leave the driver. */
	t0 = pp_now_ms();
	EXPECT_EQ(0, pp_ctx_info(sa.ctx, &info));
	EXPECT_EQ(0, unbind_only(pp_edu_addr()));
	EXPECT_TRUE(pp_wait_driver(pp_edu_addr(), "", pp_bound_ms(10000)));
	EXPECT_GT(pp_bound_ms(10000), pp_now_ms() - t0);

	pp_uffd_release(&u, false);
	pthread_join(thread, NULL);
	/* The device was gone by the time the attach could look for it. */
	EXPECT_EQ(ENODEV, sa.ret);
	EXPECT_EQ(0, pp_ctx_info(sa.ctx, &info));
	EXPECT_EQ(0, info.num_devices);
	close(sa.ctx);
	pp_uffd_destroy(&u);
}

struct stalled_map {
	int ctx;
	void *va;
	int ret;
};

static void *stalled_map_thread(void *data)
{
	struct stalled_map *sm = data;

	sm->ret = pp_map(sm->ctx, sm->va, 0x100000, PAGE_SZ,
			 PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE);
	return NULL;
}

static void *stat_reader_thread(void *data)
{
	char buf[4096];

	*(int *)data = pp_read_file("/sys/kernel/debug/pcipass/stat", buf,
				    sizeof(buf));
	return NULL;
}

/*
 * A context stuck in a long call (here: pinning memory that stalls) must
 * not stop the statistics reader, nor through it every open and close.
 */
TEST_F(access, busy_context_stalls_neither_stat_nor_open)
{
	struct stalled_map sm = {};
	pthread_t map_thread, stat_thread;
	int dev, other, stat_ret = 1;
	struct pp_uffd u;
	long t0;

	ASSERT_EQ(0, pp_uffd_create(&u, PAGE_SZ));
	sm.ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, sm.ctx);
	ASSERT_EQ(0, pp_attach(sm.ctx, pp_edu_addr(), &dev));
	sm.va = u.addr;
	ASSERT_EQ(0, pthread_create(&map_thread, NULL, stalled_map_thread,
				    &sm));
	ASSERT_EQ(1, pp_uffd_waiters(&u, pp_bound_ms(10000)));

	t0 = pp_now_ms();
	ASSERT_EQ(0, pthread_create(&stat_thread, NULL, stat_reader_thread,
				    &stat_ret));
	usleep(200000);
	other = open(PP_DEV_NODE, O_RDWR);
	EXPECT_LE(0, other);
	if (other >= 0)
		close(other);
	EXPECT_GT(pp_bound_ms(5000), pp_now_ms() - t0);
	/* The reader itself does not wait for the stuck call either. */
	while (stat_ret == 1 && pp_now_ms() - t0 < pp_bound_ms(5000))
		usleep(20000);
	EXPECT_EQ(0, stat_ret);

	pp_uffd_release(&u, false);
	pthread_join(map_thread, NULL);
	pthread_join(stat_thread, NULL);
	EXPECT_EQ(0, sm.ret);
	close(dev);
	close(sm.ctx);
	pp_uffd_destroy(&u);
}

/*
 * Without interrupt remapping a device's DMA can hit the MSI window: the
 * attach itself needs allow_unsafe_interrupts, and taints.
 */
TEST(attach_without_msi_isolation_needs_the_admins_opt_in)
{
	char tainted[32];
	int ctx, dev, kmsg;

	if (!pp_vm_is("nointremap"))
		SKIP(return, "needs the VM with interrupt remapping off");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
	ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx);

	ASSERT_EQ(0, pp_write_file(UNSAFE_PARAM, "0"));
	kmsg = pp_kmsg_open();
	EXPECT_EQ(EPERM, pp_attach(ctx, pp_edu_addr(), &dev));
	EXPECT_TRUE(pp_kmsg_find(kmsg, "does not isolate MSI"));
	close(kmsg);

	ASSERT_EQ(0, pp_write_file(UNSAFE_PARAM, "1"));
	kmsg = pp_kmsg_open();
	ASSERT_EQ(0, pp_attach(ctx, pp_edu_addr(), &dev));
	EXPECT_TRUE(pp_kmsg_find(kmsg, "UNSAFE: attached without MSI isolation"));
	close(kmsg);
	ASSERT_EQ(0, pp_read_file("/proc/sys/kernel/tainted", tainted,
				  sizeof(tainted)));
	/* TAINT_USER is bit 6. */
	EXPECT_NE(0, strtoul(tainted, NULL, 10) & (1ul << 6));
	close(dev);
	close(ctx);
}

TEST_HARNESS_MAIN
