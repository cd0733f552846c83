// SPDX-License-Identifier: GPL-2.0
/*
 * Release requests: what becomes of an attached device that leaves the
 * pcipass driver (unbind, remove, hot-unplug). remove() signals the VMM's
 * %PCIPASS_IRQ_REQ eventfd, waits at most release_timeout_ms for the VMM
 * to release the device (close the device file or the context, or
 * DETACH), then revokes the attachment, logging a revoke the VMM did not
 * ask for. Also the locking that lets config writes go on while remove()
 * waits, and the reboot notifier that ends every wait at shutdown.
 *
 * The wait holds no lock of pcipass, only what the driver core holds
 * around remove(): the device's own lock (and, for a removal of the
 * device, the PCI core's rescan/remove lock). The VMM's ways out announce
 * themselves under the context lock before they take the device lock
 * (pcipass_release_announce()), so a removal either sees the announcement
 * and revokes at once, or is woken by it; they then wait for the device
 * lock only while the removal revokes.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include "pcipass.h"

/* Below the hung task detector's 120 s: a wait is never reported. */
#define PCIPASS_RELEASE_TIMEOUT_MAX_MS	60000

/* How often a config write looks again for a device lock held elsewhere. */
#define PCIPASS_CFG_LOCK_RETRY		msecs_to_jiffies(10)

static unsigned int release_timeout_ms = 10000;

static int pcipass_release_timeout_set(const char *val,
				       const struct kernel_param *kp)
{
	unsigned int ms;
	int ret;

	ret = kstrtouint(val, 0, &ms);
	if (ret)
		return ret;
	if (ms > PCIPASS_RELEASE_TIMEOUT_MAX_MS)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, ms);
	return 0;
}

static const struct kernel_param_ops pcipass_release_timeout_ops = {
	.set = pcipass_release_timeout_set,
	.get = param_get_uint,
};

module_param_cb(release_timeout_ms, &pcipass_release_timeout_ops,
		&release_timeout_ms, 0644);
MODULE_PARM_DESC(release_timeout_ms, "How long the removal of an attached device (unbind, hot-unplug) waits for its VMM to release it after the release request, in ms, at most 60000; 0: revoke at once. Default: 10000");

/* Removals waiting for their VMM, and config writes waiting for them. */
static DECLARE_WAIT_QUEUE_HEAD(pcipass_release_wq);

/* The host is going down: no removal waits any more. */
static bool pcipass_shutting_down;

/**
 * pcipass_release_announce() - the VMM is releasing a device
 * @pdevice: the attachment, with the context lock held
 *
 * Called by each way a VMM detaches (closing the device file or the
 * context, DETACH) before it takes the device lock: a removal that waits
 * for the VMM with the device lock held revokes at once instead.
 */
void pcipass_release_announce(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->ctx->lock);
	WRITE_ONCE(pdevice->releasing, true);
	if (pdevice->release_requested)
		wake_up_all(&pcipass_release_wq);
}

/* Why the VMM lost the device without releasing it: one line, limited. */
static void pcipass_release_log(struct pci_dev *pdev, struct pcipass_ctx *ctx,
				unsigned int ms, bool asked, long left, bool gone)
{
	if (gone)
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d] at once: the device is gone\n",
				     ctx->owner_comm, ctx->owner_pid);
	else if (!ms)
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d] at once (release_timeout_ms is 0)\n",
				     ctx->owner_comm, ctx->owner_pid);
	else if (READ_ONCE(pcipass_shutting_down))
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d]: the host is shutting down\n",
				     ctx->owner_comm, ctx->owner_pid);
	else if (left < 0)
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d]: the removal was killed before the device was released\n",
				     ctx->owner_comm, ctx->owner_pid);
	else
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d]: not released within %u ms of the release request%s\n",
				     ctx->owner_comm, ctx->owner_pid, ms,
				     asked ? "" : " (no release request eventfd set)");
}

/**
 * pcipass_pci_revoke() - take a device that is leaving the driver from its
 *	context
 * @ppci: the device, with device_lock() held (from remove())
 *
 * When the device is attached and the VMM is not releasing it already, the
 * VMM is asked to (its %PCIPASS_IRQ_REQ eventfd is signalled) and given
 * release_timeout_ms to do it; the wait ends early when the VMM releases
 * the device, the removing task gets a fatal signal or the host shuts
 * down. A device that is no longer there (a surprise removal) is asked
 * for but not waited for: nothing the VMM does can help it. Then the
 * attachment is undone. The context and the device file stay; the file's
 * ioctls then fail with ENODEV.
 */
void pcipass_pci_revoke(struct pcipass_pci *ppci)
{
	struct pcipass_device *pdevice = ppci->attached;
	unsigned int ms = READ_ONCE(release_timeout_ms);
	struct pci_dev *pdev = ppci->pdev;
	struct pcipass_ctx *ctx;
	bool asked = false;
	long left = 0;
	bool gone;

	device_lock_assert(&pdev->dev);
	if (!pdevice)
		return;
	ctx = pdevice->ctx;
	gone = !pci_device_is_present(pdev);

	mutex_lock(&ctx->lock);
	if (gone && !pdevice->releasing)
		pcipass_irq_req_signal(pdevice);
	if (ms && !gone && !pdevice->releasing &&
	    !READ_ONCE(pcipass_shutting_down)) {
		asked = pcipass_irq_req_signal(pdevice);
		pdevice->release_requested = true;
		mutex_unlock(&ctx->lock);
		/* Config writes waiting for the device lock go on without it. */
		wake_up_all(&pcipass_release_wq);
		/*
		 * @pdevice stays: its file's release and the context's close
		 * need the device lock, which is ours until we return.
		 */
		left = wait_event_killable_timeout(pcipass_release_wq,
						   READ_ONCE(pdevice->releasing) ||
						   READ_ONCE(pcipass_shutting_down),
						   msecs_to_jiffies(ms));
		mutex_lock(&ctx->lock);
	}
	if (!pdevice->releasing)
		pcipass_release_log(pdev, ctx, ms, asked, left, gone);
	pdevice->release_requested = false;
	pcipass_device_detach_locked(pdevice, true);
	mutex_unlock(&ctx->lock);
}

/**
 * pcipass_cfg_write_lock() - lock a device for a VMM's config write or
 *	reset
 * @pdevice: the attachment, unlocked
 * @bridge: set to the upstream bridge locked for the write, or NULL
 *
 * A config write may reset the device, so it holds the upstream bridge's
 * lock and the device lock, as PCIPASS_DEVICE_RESET does (which fails
 * with -ENODEV without them). But while a removal holds the device lock
 * and waits for the VMM to release the device, the write must not wait:
 * the guest may need that very write to let the device go. It then takes
 * neither lock and runs under the context lock alone, which is safe: the
 * waiting removal keeps every other user of the device lock out, and takes
 * the context lock before it revokes. The caller checks, under the context
 * lock, that the device is still attached; such a write cannot reset.
 *
 * The device lock cannot be waited for and given up when a removal starts
 * waiting: it is tried, and tried again when the removal says it waits or
 * every few milliseconds while someone else holds it.
 *
 * Return: true with both locks taken, false when the removal's lock is
 * borrowed.
 */
bool pcipass_cfg_write_lock(struct pcipass_device *pdevice,
			    struct pci_dev **bridge)
{
	struct device *dev = &pdevice->pdev->dev;
	bool locked = false;

	*bridge = pcipass_reset_lock_bridge(pdevice->pdev);
	while (!wait_event_timeout(pcipass_release_wq,
				   (locked = device_trylock(dev)) ||
				   READ_ONCE(pdevice->release_requested),
				   PCIPASS_CFG_LOCK_RETRY))
		;
	if (!locked) {
		pcipass_reset_unlock_bridge(*bridge);
		*bridge = NULL;
	}
	return locked;
}

/**
 * pcipass_cfg_write_unlock() - undo pcipass_cfg_write_lock()
 * @pdevice: the attachment
 * @locked: what pcipass_cfg_write_lock() returned
 * @bridge: the bridge it gave
 */
void pcipass_cfg_write_unlock(struct pcipass_device *pdevice, bool locked,
			      struct pci_dev *bridge)
{
	if (locked)
		device_unlock(&pdevice->pdev->dev);
	pcipass_reset_unlock_bridge(bridge);
}

static int pcipass_release_reboot(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	/* device_shutdown() comes next and needs every device lock. */
	WRITE_ONCE(pcipass_shutting_down, true);
	wake_up_all(&pcipass_release_wq);
	return NOTIFY_DONE;
}

static struct notifier_block pcipass_release_reboot_nb = {
	.notifier_call = pcipass_release_reboot,
};

/**
 * pcipass_release_init() - end removal waits at shutdown from now on
 *
 * Return: 0, or the errno of register_reboot_notifier().
 */
int pcipass_release_init(void)
{
	return register_reboot_notifier(&pcipass_release_reboot_nb);
}

/**
 * pcipass_release_exit() - undo pcipass_release_init()
 */
void pcipass_release_exit(void)
{
	unregister_reboot_notifier(&pcipass_release_reboot_nb);
}
