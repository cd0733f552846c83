// SPDX-License-Identifier: GPL-2.0
/*
 * A VMM's buffer that stalls the kernel (userfaultfd memory, as a FUSE- or
 * userfaultfd-backed guest RAM would be) must stall only the call that
 * uses it: a pwrite() of config space or of a BAR from such memory waits
 * in its user copy with no lock held, so that another device's attach and
 * detach, an ioctl on the same context and the removal of the device
 * (sysfs unbind) all go on. Each case waits a bounded time for them, then
 * releases the memory and checks what the stalled call returned and that
 * nothing was left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

/* How long a blocked operation may take. */
#define STALL_MS	pp_bound_ms(5000)

struct stalled_call {
	int dev;
	off_t off;
	void *buf;
	ssize_t ret;
	int err;
	int done;
};

static void *stalled_pwrite(void *arg)
{
	struct stalled_call *c = arg;

	c->ret = pwrite(c->dev, c->buf, 4, c->off);
	c->err = errno;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* An operation run in a thread of its own, so that a hang can be seen. */
struct other_op {
	int (*fn)(void *arg);
	void *arg;
	int ret;
	int done;
};

static void *other_op_thread(void *arg)
{
	struct other_op *op = arg;

	op->ret = op->fn(op->arg);
	__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static bool wait_done(int *done, int ms)
{
	long end = pp_now_ms() + ms;

	while (!__atomic_load_n(done, __ATOMIC_ACQUIRE) && pp_now_ms() < end)
		usleep(10000);
	return __atomic_load_n(done, __ATOMIC_ACQUIRE);
}

FIXTURE(stall) {
	int ctx;
	int dev;
	struct pp_uffd uffd;
	struct stalled_call call;
	pthread_t thread;
	bool started;
};

FIXTURE_VARIANT(stall) {
	const char *what;
	off_t off;
};

FIXTURE_VARIANT_ADD(stall, config) {
	.what = "config space (interrupt line)",
	.off = PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG) + 0x3c,
};

FIXTURE_VARIANT_ADD(stall, bar) {
	.what = "BAR0 (edu's liveness register)",
	.off = PCIPASS_REGION_OFFSET(PCIPASS_REGION_BAR0) + 0x04,
};

FIXTURE_SETUP(stall)
{
	self->ctx = -1;
	self->dev = -1;
	self->started = false;
	self->uffd.fd = -1;
	self->uffd.addr = MAP_FAILED;
	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	/* The sysctl exists exactly when the kernel has userfaultfd. */
	if (!pp_path_exists("/proc/sys/vm/unprivileged_userfaultfd"))
		SKIP(return, "no userfaultfd in this kernel (CONFIG_USERFAULTFD)");
	ASSERT_EQ(0, pp_uffd_create(&self->uffd, 4096));
	ASSERT_EQ(0, pp_module_ensure());
	if (!pp_vm_has_iommu())
		ASSERT_EQ(0, pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
					   "1"));
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, pp_edu_addr(), &self->dev));

	/* The pwrite whose buffer stalls; it must be stuck in its copy. */
	self->call.dev = self->dev;
	self->call.off = variant->off;
	self->call.buf = self->uffd.addr;
	self->call.done = 0;
	ASSERT_EQ(0, pthread_create(&self->thread, NULL, stalled_pwrite,
				    &self->call));
	self->started = true;
	ASSERT_EQ(1, pp_uffd_waiters(&self->uffd, pp_bound_ms(5000)));
	usleep(50000);
	ASSERT_FALSE(__atomic_load_n(&self->call.done, __ATOMIC_ACQUIRE));
}

FIXTURE_TEARDOWN(stall)
{
	if (self->started) {
		pp_uffd_release(&self->uffd, false);
		pthread_join(self->thread, NULL);
	}
	pp_uffd_destroy(&self->uffd);
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	pp_write_file("/sys/module/pcipass/parameters/allow_noiommu", "0");
	/* Nothing is left: edu goes back to pcipass and attaches afresh. */
	if (self->started) {
		int ctx, dev = -1;

		pp_dev_rebind(pp_nvme_addr(), "");
		pp_dev_rebind(pp_edu_addr(), "pcipass");
		EXPECT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
		if (!pp_vm_has_iommu())
			pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
				      "1");
		ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
		EXPECT_EQ(0, pp_attach(ctx, pp_edu_addr(), &dev));
		if (dev >= 0) {
			__u32 id = 0;

			EXPECT_EQ(4, pread(dev, &id, 4,
					   PCIPASS_REGION_OFFSET(PCIPASS_REGION_BAR0)));
			EXPECT_EQ(0x010000ed, id);
			close(dev);
		}
		close(ctx);
		pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
			      "0");
		EXPECT_EQ(0, pp_irq_lines(NULL));
	}
}

/* Run @fn in a thread; true when it finished within STALL_MS. */
static bool run_bounded(struct other_op *op, int (*fn)(void *), void *arg)
{
	pthread_t t;
	bool done;

	op->fn = fn;
	op->arg = arg;
	op->done = 0;
	if (pthread_create(&t, NULL, other_op_thread, op))
		return false;
	done = wait_done(&op->done, STALL_MS);
	/* Not done: the stalled call holds what it needs; free it. */
	pthread_detach(t);
	return done;
}

static int attach_detach_nvme(void *arg)
{
	int ctx = *(int *)arg, dev, ret;

	ret = pp_dev_rebind(pp_nvme_addr(), "pcipass");
	if (ret)
		return ret;
	if (!pp_wait_driver(pp_nvme_addr(), "pcipass", 5000))
		return -ETIMEDOUT;
	ret = pp_attach(ctx, pp_nvme_addr(), &dev);
	if (ret)
		return ret;
	ret = pp_detach(ctx, pp_nvme_addr());
	close(dev);
	return ret;
}

static int get_infos(void *arg)
{
	int *fds = arg;
	struct pcipass_info info;
	struct pcipass_device_info dinfo = { .size = sizeof(dinfo) };
	int ret;

	ret = pp_ctx_info(fds[0], &info);
	if (ret)
		return ret;
	if (info.num_devices != 1)
		return -EINVAL;
	return pp_ioctl(fds[1], PCIPASS_DEVICE_GET_INFO, &dinfo);
}

static int unbind_edu(void *arg)
{
	return pp_write_file("/sys/bus/pci/drivers/pcipass/unbind",
			     pp_edu_addr());
}

/*
 * Each of these attaches, detaches or unbinds devices beside the stalled
 * call: the harness's default 30 s is too short for the debug kernel on a
 * loaded machine.
 */
TEST_F_TIMEOUT(stall, another_device_attaches_and_detaches, 180)
{
	struct other_op op;

	TH_LOG("stalled: a pwrite of %s", variant->what);
	EXPECT_TRUE(run_bounded(&op, attach_detach_nvme, &self->ctx));
	EXPECT_EQ(0, op.ret);
	pp_uffd_release(&self->uffd, false);
	EXPECT_TRUE(wait_done(&self->call.done, STALL_MS));
	EXPECT_TRUE(wait_done(&op.done, STALL_MS));
	EXPECT_EQ(4, self->call.ret);
}

TEST_F_TIMEOUT(stall, the_same_context_answers_ioctls, 180)
{
	struct other_op op;
	int fds[2] = { self->ctx, self->dev };

	TH_LOG("stalled: a pwrite of %s", variant->what);
	EXPECT_TRUE(run_bounded(&op, get_infos, fds));
	EXPECT_EQ(0, op.ret);
	pp_uffd_release(&self->uffd, false);
	EXPECT_TRUE(wait_done(&self->call.done, STALL_MS));
	EXPECT_TRUE(wait_done(&op.done, STALL_MS));
	EXPECT_EQ(4, self->call.ret);
}

TEST_F_TIMEOUT(stall, the_device_can_be_unbound, 180)
{
	struct other_op op;

	TH_LOG("stalled: a pwrite of %s", variant->what);
	/* The holder is stalled: no release request is answered. */
	ASSERT_EQ(0, pp_release_timeout(0));
	EXPECT_TRUE(run_bounded(&op, unbind_edu, NULL));
	EXPECT_EQ(0, op.ret);
	EXPECT_EQ(0, pp_release_timeout(10000));
	pp_uffd_release(&self->uffd, false);
	EXPECT_TRUE(wait_done(&self->call.done, STALL_MS));
	EXPECT_TRUE(wait_done(&op.done, STALL_MS));
	/* The device left while the call waited: it reaches nothing. */
	EXPECT_EQ(-1, self->call.ret);
	EXPECT_EQ(ENODEV, self->call.err);
}

TEST_HARNESS_MAIN
