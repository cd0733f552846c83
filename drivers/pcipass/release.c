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
 *
 * A hot-unplug by attention button is asked for before remove(): pciehp
 * blinks the slot's power indicator for 5 s before it removes the device,
 * and then calls remove() under the rescan/remove lock, which every other
 * slot's removal needs too. So the unplug watch looks at the indicator of
 * an attached device's slot, sends the release request when it blinks,
 * and revokes itself after release_timeout_ms; remove() of a slot that is
 * being unplugged this way never waits: the VMM's time ends at the latest
 * when pciehp removes the device.
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

/*
 * How often the unplug watch looks at the slot's power indicator, and in
 * how many looks in a row it must blink: a hot-add blinks it too, while
 * pciehp configures the new device, which may be bound to pcipass then.
 */
#define PCIPASS_UNPLUG_POLL		msecs_to_jiffies(200)
#define PCIPASS_UNPLUG_BLINKS		2

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
MODULE_PARM_DESC(release_timeout_ms, "How long the removal of an attached device (unbind, hot-unplug) waits for its VMM to release it after the release request, in ms, at most 60000; 0: revoke at once. A hot-unplug by attention button asks when the button is pressed and revokes at the latest when the slot removes the device (5 s later). Default: 10000");

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

/* Why a VMM lost its device without releasing it. */
enum pcipass_revoke_why {
	PCIPASS_REVOKE_TIMEOUT,		/* not released in release_timeout_ms */
	PCIPASS_REVOKE_GONE,		/* a surprise removal */
	PCIPASS_REVOKE_AT_ONCE,		/* release_timeout_ms is 0 */
	PCIPASS_REVOKE_SHUTDOWN,	/* the host is going down */
	PCIPASS_REVOKE_KILLED,		/* the removing task got a fatal signal */
	PCIPASS_REVOKE_UNPLUGGED,	/* the slot removed it during the wait */
};

/* One line, limited, naming the context's process. */
static void pcipass_release_log(struct pci_dev *pdev, struct pcipass_ctx *ctx,
				enum pcipass_revoke_why why, unsigned int ms,
				bool asked, unsigned long req_at)
{
	const char *comm = ctx->owner_comm;
	pid_t pid = ctx->owner_pid;

	switch (why) {
	case PCIPASS_REVOKE_GONE:
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d] at once: the device is gone\n",
				     comm, pid);
		break;
	case PCIPASS_REVOKE_AT_ONCE:
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d] at once (release_timeout_ms is 0)\n",
				     comm, pid);
		break;
	case PCIPASS_REVOKE_SHUTDOWN:
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d]: the host is shutting down\n",
				     comm, pid);
		break;
	case PCIPASS_REVOKE_KILLED:
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d]: the removal was killed before the device was released\n",
				     comm, pid);
		break;
	case PCIPASS_REVOKE_UNPLUGGED:
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d]: its slot was hot-unplugged %u ms after the release request%s\n",
				     comm, pid,
				     jiffies_to_msecs(jiffies - req_at),
				     asked ? "" : " (no release request eventfd set)");
		break;
	case PCIPASS_REVOKE_TIMEOUT:
		dev_warn_ratelimited(&pdev->dev, "revoked from %s[%d]: not released within %u ms of the release request%s\n",
				     comm, pid, ms,
				     asked ? "" : " (no release request eventfd set)");
		break;
	}
}

/*
 * Is the device in a hotplug slot whose hot-unplug pciehp announces: one
 * with an attention button and a power indicator, that the OS controls
 * (native PCIe hotplug, so that firmware does not drive the indicator)?
 * Under "pcie_ports=native" without the firmware's grant the slot is not
 * watched, and its remove() waits as an unbind's does.
 */
static bool pcipass_slot_announces_unplug(struct pci_dev *pdev)
{
	const u32 both = PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PIP;
	struct pci_dev *port = pdev->bus->self;
	u32 cap;

	if (!pdev->slot || !pdev->slot->hotplug || !port ||
	    !port->is_hotplug_bridge ||
	    !pci_find_host_bridge(port->bus)->native_pcie_hotplug ||
	    pcie_capability_read_dword(port, PCI_EXP_SLTCAP, &cap))
		return false;
	return (cap & both) == both;
}

/*
 * Does pciehp count down to remove the device, after a press of its slot's
 * attention button? It blinks the power indicator from the press until
 * the slot is off (pciehp_handle_button_press()); a second press cancels.
 */
static bool pcipass_slot_unplug_pending(struct pci_dev *pdev)
{
	u16 ctl;

	if (!pcipass_slot_announces_unplug(pdev) ||
	    pcie_capability_read_word(pdev->bus->self, PCI_EXP_SLTCTL, &ctl))
		return false;
	return (ctl & PCI_EXP_SLTCTL_PIC) == PCI_EXP_SLTCTL_PWR_IND_BLINK;
}

/*
 * One look of the unplug watch, with the device lock and the context lock
 * held. Return: true when it revoked the attachment.
 */
static bool pcipass_unplug_look(struct pcipass_pci *ppci,
				struct pcipass_device *pdevice)
{
	unsigned int ms = READ_ONCE(release_timeout_ms);
	struct pcipass_ctx *ctx = pdevice->ctx;

	device_lock_assert(&ppci->pdev->dev);
	lockdep_assert_held(&ctx->lock);

	if (!pcipass_slot_unplug_pending(ppci->pdev)) {
		/* None, or the press was cancelled: a new one asks again. */
		ppci->unplug_blinks = 0;
		ppci->unplug_requested = false;
		return false;
	}
	if (ppci->unplug_blinks < PCIPASS_UNPLUG_BLINKS)
		ppci->unplug_blinks++;
	if (ppci->unplug_blinks < PCIPASS_UNPLUG_BLINKS || pdevice->releasing)
		return false;
	if (!ppci->unplug_requested) {
		ppci->unplug_asked = pcipass_irq_req_signal(pdevice);
		ppci->unplug_requested = true;
		ppci->unplug_req_at = jiffies;
		dev_info_ratelimited(&ppci->pdev->dev, "hot-unplug by attention button: asked %s[%d] to release the device\n",
				     ctx->owner_comm, ctx->owner_pid);
	}
	if (ms && time_before(jiffies, ppci->unplug_req_at +
					msecs_to_jiffies(ms)))
		return false;
	pcipass_release_log(ppci->pdev, ctx, ms ? PCIPASS_REVOKE_TIMEOUT :
						  PCIPASS_REVOKE_AT_ONCE,
			    ms, ppci->unplug_asked, ppci->unplug_req_at);
	pcipass_device_detach_locked(pdevice, true);
	return true;
}

static void pcipass_unplug_watch_fn(struct work_struct *work)
{
	struct pcipass_pci *ppci = container_of(to_delayed_work(work),
						struct pcipass_pci,
						unplug_watch);
	struct device *dev = &ppci->pdev->dev;
	struct pcipass_device *pdevice;
	bool revoked;

	/* remove() cancels this work with the device lock held. */
	if (!device_trylock(dev))
		goto again;
	pdevice = ppci->attached;
	if (!pdevice) {
		ppci->unplug_blinks = 0;
		ppci->unplug_requested = false;
		device_unlock(dev);
		return;
	}
	mutex_lock(&pdevice->ctx->lock);
	revoked = pcipass_unplug_look(ppci, pdevice);
	mutex_unlock(&pdevice->ctx->lock);
	device_unlock(dev);
	if (revoked)
		return;
again:
	schedule_delayed_work(&ppci->unplug_watch, PCIPASS_UNPLUG_POLL);
}

/**
 * pcipass_unplug_watch_init() - set up the unplug watch of a bound device
 * @ppci: the device, in probe()
 */
void pcipass_unplug_watch_init(struct pcipass_pci *ppci)
{
	INIT_DELAYED_WORK(&ppci->unplug_watch, pcipass_unplug_watch_fn);
}

/**
 * pcipass_unplug_watch_start() - watch an attached device's slot
 * @ppci: the device, just attached (device lock held)
 *
 * Only a slot whose hot-unplug pciehp announces (an attention button and
 * a power indicator) is watched; the watch ends by itself when the device
 * is detached.
 */
void pcipass_unplug_watch_start(struct pcipass_pci *ppci)
{
	device_lock_assert(&ppci->pdev->dev);
	ppci->unplug_blinks = 0;
	ppci->unplug_requested = false;
	if (pcipass_slot_announces_unplug(ppci->pdev))
		schedule_delayed_work(&ppci->unplug_watch, PCIPASS_UNPLUG_POLL);
}

/**
 * pcipass_unplug_watch_stop() - end the unplug watch for good
 * @ppci: the device, in remove() (device lock held: the watch only tries
 *	it)
 */
void pcipass_unplug_watch_stop(struct pcipass_pci *ppci)
{
	cancel_delayed_work_sync(&ppci->unplug_watch);
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
 * for but not waited for: nothing the VMM does can help it. Nor is one
 * whose slot pciehp is powering off after an attention button press: the
 * unplug watch asked when the button was pressed, and pciehp holds the
 * PCI core's rescan/remove lock now. Then the attachment is undone. The
 * context and the device file stay; the file's ioctls then fail with
 * ENODEV.
 */
void pcipass_pci_revoke(struct pcipass_pci *ppci)
{
	struct pcipass_device *pdevice = ppci->attached;
	unsigned int ms = READ_ONCE(release_timeout_ms);
	enum pcipass_revoke_why why = PCIPASS_REVOKE_TIMEOUT;
	unsigned long req_at = jiffies;
	struct pci_dev *pdev = ppci->pdev;
	struct pcipass_ctx *ctx;
	bool asked = false;
	long left;

	device_lock_assert(&pdev->dev);
	if (!pdevice)
		return;
	ctx = pdevice->ctx;

	mutex_lock(&ctx->lock);
	if (pdevice->releasing)
		goto revoke;
	if (!pci_device_is_present(pdev))
		why = PCIPASS_REVOKE_GONE;
	else if (pcipass_slot_unplug_pending(pdev))
		why = PCIPASS_REVOKE_UNPLUGGED;
	else if (!ms)
		why = PCIPASS_REVOKE_AT_ONCE;
	else if (READ_ONCE(pcipass_shutting_down))
		why = PCIPASS_REVOKE_SHUTDOWN;

	if (why == PCIPASS_REVOKE_UNPLUGGED && ppci->unplug_requested) {
		asked = ppci->unplug_asked;
		req_at = ppci->unplug_req_at;
	} else if (why != PCIPASS_REVOKE_AT_ONCE &&
		   why != PCIPASS_REVOKE_SHUTDOWN) {
		asked = pcipass_irq_req_signal(pdevice);
	}
	if (why == PCIPASS_REVOKE_TIMEOUT) {
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
		pdevice->release_requested = false;
		if (left < 0)
			why = PCIPASS_REVOKE_KILLED;
		else if (READ_ONCE(pcipass_shutting_down))
			why = PCIPASS_REVOKE_SHUTDOWN;
	}
	if (!pdevice->releasing)
		pcipass_release_log(pdev, ctx, why, ms, asked, req_at);
revoke:
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
