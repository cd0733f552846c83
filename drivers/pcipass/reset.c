// SPDX-License-Identifier: GPL-2.0
/*
 * Device reset: the state saved when a device is attached, the function
 * reset on attach and on detach (after which the saved state is restored,
 * so the host finds the device as it was), and PCIPASS_DEVICE_RESET for
 * the VMM. Every reset runs with the device lock held, BAR mappings
 * blocked and the context lock *not* held.
 *
 * A reset may be a hotplug slot reset, which takes pciehp's reset_lock
 * for writing; pciehp holds that lock while it takes the PCI core's
 * rescan/remove lock, under which a removal (remove() from pciehp or a
 * sysfs remove) takes the context lock of the device it revokes. A reset
 * under the context lock would close that circle: the VMM resetting one
 * device, pciehp unplugging its slot, the removal of another device of the
 * same context. So the resets on attach and detach drop the context lock
 * (pcipass_reset_unlocked()), and a VMM's reset marks its devices
 * &pcipass_device.resetting and drops it too: the device's other calls
 * wait for the mark to go (pcipass_device_ctx_lock()). remove() itself
 * runs under the rescan/remove lock and never resets a slot
 * (pcipass_reset_on_removal()).
 *
 * Like pci_reset_function(), a reset also holds the upstream bridge (its
 * device lock and config access lock), whose secondary bus reset may be
 * the reset method and whose config must stay as it is meanwhile. The
 * bridge is the parent, locked before the device: a VMM's reset (ioctl or
 * function level reset request in a config write) takes it first with
 * pcipass_reset_lock_bridge(). The resets on attach and detach run with
 * the device lock already held (detach even from remove(), under the
 * driver core's lock), so there the bridge can only be tried: when it is
 * busy the device is reset without it, as pci_try_reset_function() does.
 *
 * A device that cannot be reset alone (its only method a bus reset, its
 * bus shared with other functions: a GPU and its HDMI audio) says so in
 * its device info, and can be reset with the whole slot or bus by a *hot
 * reset* (PCIPASS_DEVICE_HOT_RESET_INFO, PCIPASS_DEVICE_HOT_RESET, and
 * vfio-pci's pair through the VFIO layer): only when every device it
 * affects is attached to the same context, or in an IOMMU group that
 * context owns. pci_reset_bus() trylocks those
 * devices itself; the hot reset holds no pcipass lock meanwhile.
 *
 * Such a device would carry what one VMM left in it to the next. As
 * vfio-pci does when the last device of a reset set closes, its slot or
 * bus is reset at *hand-over* (pcipass_reset_handover()): after a detach,
 * and before an attach, once no context uses any device that reset
 * affects.
 */

#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pcipass.h"

/**
 * pcipass_reset_available() - does PCIPASS_DEVICE_RESET reset the device?
 * @pdevice: an attachment
 *
 * The truth is what the reset made at attach found (as vfio-pci decides
 * at open): the PCI core's list of reset methods says which ones the
 * device has, not whether they will work now (a bus reset is refused
 * while the bus holds other devices).
 *
 * Return: true when the attach's function reset succeeded.
 */
bool pcipass_reset_available(struct pcipass_device *pdevice)
{
	return pdevice->reset_works;
}

/**
 * pcipass_hot_reset_available() - can the device's slot or bus be reset?
 * @pdev: the device
 *
 * Return: true when pci_reset_bus() has a slot or a bus reset for it.
 */
bool pcipass_hot_reset_available(struct pci_dev *pdev)
{
	return !pci_probe_reset_slot(pdev->slot) ||
	       !pci_probe_reset_bus(pdev->bus);
}

/**
 * pcipass_reset_lock_bridge() - lock the upstream bridge of a device
 * @pdev: the device, whose lock the caller does not hold yet
 *
 * Return: the bridge, locked (pci_dev_lock()), or NULL when the device has
 * none (it is on a root bus). Give it to pcipass_reset_unlock_bridge().
 */
struct pci_dev *pcipass_reset_lock_bridge(struct pci_dev *pdev)
{
	struct pci_dev *bridge = pci_upstream_bridge(pdev);

	if (bridge)
		pci_dev_lock(bridge);
	return bridge;
}

/**
 * pcipass_reset_unlock_bridge() - undo pcipass_reset_lock_bridge()
 * @bridge: what it returned, or NULL
 */
void pcipass_reset_unlock_bridge(struct pci_dev *bridge)
{
	if (bridge)
		pci_dev_unlock(bridge);
}

/*
 * The device lock held: reset with the config space saved and restored.
 * @bridge_locked: the caller holds the upstream bridge; otherwise it is
 * tried here.
 */
static int pcipass_reset_function(struct pci_dev *pdev, bool bridge_locked)
{
	struct pci_dev *bridge = pci_upstream_bridge(pdev);
	bool trylocked = false;
	int ret;

	device_lock_assert(&pdev->dev);
	if (!pdev->reset_methods[0])
		return -EOPNOTSUPP;
	if (bridge && bridge_locked)
		device_lock_assert(&bridge->dev);
	else if (bridge)
		trylocked = pci_dev_trylock(bridge);
	/* Keep user space's sysfs config accesses out during the reset. */
	pci_cfg_access_lock(pdev);
	ret = pci_reset_function_locked(pdev);
	pci_cfg_access_unlock(pdev);
	if (trylocked)
		pci_dev_unlock(bridge);
	return ret;
}

/* Woken when a VMM's reset of a device ends (&pcipass_device.resetting). */
static DECLARE_WAIT_QUEUE_HEAD(pcipass_reset_wq);

/**
 * pcipass_reset_wait_idle() - wait until no VMM reset of a device runs
 * @pdevice: the attachment; no pcipass lock held
 *
 * For calls on the device (pcipass_device_ctx_lock()), a BAR fault, and
 * a device file's release: a hot reset started
 * from another device file of the context may still have @pdevice marked
 * (pcipass_hot_reset_locked()); it unmarks it under the context lock, and
 * touches it no more after that.
 */
void pcipass_reset_wait_idle(struct pcipass_device *pdevice)
{
	wait_event(pcipass_reset_wq, !READ_ONCE(pdevice->resetting));
}

/**
 * pcipass_device_ctx_lock() - take the context lock for a call on a device
 * @pdevice: the attachment; the context lock not held
 *
 * Returns with the context lock held once no VMM reset of the device runs
 * (&pcipass_device.resetting): calls that read or change the device's
 * state (config space, BARs, interrupts) wait for it, as they would for
 * the context lock if the reset held it.
 */
void pcipass_device_ctx_lock(struct pcipass_device *pdevice)
{
	struct pcipass_ctx *ctx = pdevice->ctx;

	mutex_lock(&ctx->lock);
	while (pdevice->resetting) {
		mutex_unlock(&ctx->lock);
		pcipass_reset_wait_idle(pdevice);
		mutex_lock(&ctx->lock);
	}
}

/* The context lock held: the device's calls wait from here. */
static void pcipass_reset_begin(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->ctx->lock);
	/* Marked first: a BAR fault after the zap waits, not SIGBUS. */
	WRITE_ONCE(pdevice->resetting, true);
	pcipass_bars_block(pdevice);
}

/* The context lock held again: let the device's calls in. */
static void pcipass_reset_end(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->ctx->lock);
	pcipass_bars_unblock(pdevice);
	WRITE_ONCE(pdevice->resetting, false);
	wake_up_all(&pcipass_reset_wq);
}

/**
 * pcipass_reset_locked() - reset an attached device for its VMM
 * @pdevice: the attachment, with the upstream bridge locked
 *	(pcipass_reset_lock_bridge()), then the device lock and the context
 *	lock held
 *
 * The context lock is dropped during the reset (see the top of this file)
 * and taken again before this returns. The device lock keeps the
 * attachment as it is meanwhile: no detach, removal or config write can
 * start; the device's other calls wait (pcipass_device_ctx_lock()).
 *
 * Return: 0, -EOPNOTSUPP when the device cannot be reset alone
 * (pcipass_reset_available()), or the reset's errno.
 */
int pcipass_reset_locked(struct pcipass_device *pdevice)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	int ret;

	device_lock_assert(&pdevice->pdev->dev);
	lockdep_assert_held(&ctx->lock);

	if (!pcipass_reset_available(pdevice))
		return -EOPNOTSUPP;
	pcipass_reset_begin(pdevice);
	mutex_unlock(&ctx->lock);
	ret = pcipass_reset_function(pdevice->pdev, true);
	mutex_lock(&ctx->lock);
	pcipass_reset_end(pdevice);
	return ret;
}

/**
 * pcipass_device_reset_cmd() - reset the device of a device file
 * @pdevice: the device file's attachment, unlocked
 *
 * The core of PCIPASS_DEVICE_RESET, shared with the VFIO compatibility
 * layer.
 *
 * Return: 0 or an errno documented with &struct pcipass_device_reset.
 */
int pcipass_device_reset_cmd(struct pcipass_device *pdevice)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	struct pci_dev *bridge;
	bool locked;
	int ret;

	/*
	 * Parent before child, as pci_reset_function() locks them; not while
	 * a removal holds them and waits for the VMM to let the device go:
	 * a device that is leaving is not reset for its VMM (it is on
	 * detach), and the VMM's release must not wait for the removal.
	 */
	locked = pcipass_cfg_write_lock(pdevice, &bridge);
	pcipass_device_ctx_lock(pdevice);
	if (pdevice->ppci && locked)
		ret = pcipass_reset_locked(pdevice);
	else
		ret = -ENODEV;
	mutex_unlock(&ctx->lock);
	pcipass_cfg_write_unlock(pdevice, locked, bridge);
	return ret;
}

/**
 * pcipass_device_reset() - PCIPASS_DEVICE_RESET on a device file
 * @ucmd: the ioctl call, a &struct pcipass_device_reset
 *
 * Return: 0 or an errno documented with &struct pcipass_device_reset.
 */
int pcipass_device_reset(struct pcipass_ucmd *ucmd)
{
	return pcipass_device_reset_cmd(ucmd->dev);
}

/**
 * pcipass_reset_on_attach() - save the host's state, then reset
 * @pdevice: the attachment being made, with its device lock held (the
 *	context lock not: pcipass_reset_unlocked())
 *
 * Decides &pcipass_device.reset_works. A device that cannot be reset
 * alone (no reset method, or -ENOTTY: a bus reset of a bus with other
 * devices) is used as it is, and its device info says so.
 *
 * Return: 0, or -ENOMEM.
 */
int pcipass_reset_on_attach(struct pcipass_device *pdevice)
{
	struct pci_dev *pdev = pdevice->pdev;
	int ret;

	pci_save_state(pdev);
	pdevice->saved_state = pci_store_saved_state(pdev);
	if (!pdevice->saved_state)
		return -ENOMEM;
	ret = pcipass_reset_function(pdev, false);
	pdevice->reset_works = !ret;
	if (ret && ret != -EOPNOTSUPP && ret != -ENOTTY)
		dev_warn_ratelimited(&pdev->dev, "reset on attach failed (%d); using the device as it is\n",
				     ret);
	return 0;
}

/**
 * pcipass_reset_unlocked() - reset on attach or detach without the context
 *	lock
 * @pdevice: the attachment, not reachable by its VMM (being made, or
 *	undone), with its device lock and the context lock held
 * @reset: pcipass_reset_on_attach(), pcipass_reset_on_detach() or
 *	pcipass_reset_on_removal()
 *
 * The context lock is dropped meanwhile (see the top of this file); the
 * device lock, held throughout, keeps the attachment itself stable, and
 * the context cannot reach the device: not yet attached, or already
 * revoked. The device still counts in its IOMMU group
 * (&pcipass_group.users), so the group stays in the domain.
 *
 * Return: what @reset returned.
 */
int pcipass_reset_unlocked(struct pcipass_device *pdevice,
			   int (*reset)(struct pcipass_device *pdevice))
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	int ret;

	device_lock_assert(&pdevice->pdev->dev);
	lockdep_assert_held(&ctx->lock);
	mutex_unlock(&ctx->lock);
	ret = reset(pdevice);
	mutex_lock(&ctx->lock);
	return ret;
}

/*
 * The device lock held, and perhaps the PCI core's rescan/remove lock: a
 * function level reset, which takes no hotplug lock. As
 * pci_reset_function_locked() does, the device stops decoding and bus
 * mastering first; the caller restores the state saved at attach.
 */
static int pcipass_reset_flr_only(struct pci_dev *pdev)
{
	int ret;

	device_lock_assert(&pdev->dev);
	if (pcie_reset_flr(pdev, PCI_RESET_PROBE))
		return -ENOTTY;
	pci_cfg_access_lock(pdev);
	pci_write_config_word(pdev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
	ret = pcie_reset_flr(pdev, PCI_RESET_DO_RESET);
	pci_cfg_access_unlock(pdev);
	return ret;
}

/* Reset as attach found it can, then give the host back its state. */
static void pcipass_reset_detach(struct pcipass_device *pdevice, bool removal)
{
	struct pci_dev *pdev = pdevice->pdev;
	int ret;

	if (!pdevice->reset_works)
		goto restore;
	/* Is the reset that worked at attach perhaps the hotplug slot's? */
	if (removal && pdev->slot && pdev->slot->hotplug) {
		ret = pcipass_reset_flr_only(pdev);
		if (ret == -ENOTTY) {
			dev_info_ratelimited(&pdev->dev, "not reset on removal: its reset is its hotplug slot's, which removal cannot take; decoding and bus mastering are off\n");
			goto restore;
		}
	} else {
		ret = pcipass_reset_function(pdev, false);
	}
	if (ret)
		dev_warn_ratelimited(&pdev->dev, "reset on %s failed (%d)\n",
				     removal ? "removal" : "detach", ret);
restore:
	if (pdevice->saved_state) {
		pci_load_and_free_saved_state(pdev, &pdevice->saved_state);
		pci_restore_state(pdev);
	}
}

/**
 * pcipass_reset_on_detach() - reset, then restore the host's state
 * @pdevice: the attachment being undone, with its device lock held (the
 *	context lock not: pcipass_reset_unlocked())
 *
 * Only a device the attach could reset is reset again.
 *
 * Return: 0.
 */
int pcipass_reset_on_detach(struct pcipass_device *pdevice)
{
	pcipass_reset_detach(pdevice, false);
	return 0;
}

/**
 * pcipass_reset_on_removal() - pcipass_reset_on_detach() from remove()
 * @pdevice: the attachment being revoked, with its device lock held (the
 *	context lock not: pcipass_reset_unlocked())
 *
 * The PCI core may call remove() with its rescan/remove lock held (a
 * hot-unplug by pciehp, a sysfs remove), which pciehp takes with its
 * slot's reset_lock held: a slot reset here, which takes that reset_lock,
 * could wait for a pciehp thread that waits for this removal. A device in
 * a hotplug slot is therefore reset by a function level reset only; one
 * without leaves as pcipass_device_quiesce() leaves it (no decoding, no
 * bus mastering), and is reset by the next attach. A device that is being
 * unplugged loses its power next anyway.
 *
 * Return: 0.
 */
int pcipass_reset_on_removal(struct pcipass_device *pdevice)
{
	pcipass_reset_detach(pdevice, true);
	return 0;
}

/* ---- hot reset: a slot or bus reset of devices of one context ---- */

/* Tries of a hot reset whose devices another path holds a moment. */
#define PCIPASS_HOT_RESET_TRIES	5

struct pcipass_hot_reset_walk {
	struct pci_dev *pdev;
	bool slot;
	struct pcipass_hot_reset_set *set;	/* NULL: count only */
	u32 count;
	bool overflow;
};

/* Is @pdev in @slot, or below a bridge that is? */
static bool pcipass_dev_below_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	for (; pdev; pdev = pdev->bus->self)
		if (pdev->bus == slot->bus)
			return pdev->slot == slot;
	return false;
}

static int pcipass_hot_reset_walk_one(struct pci_dev *pdev, void *data)
{
	struct pcipass_hot_reset_walk *walk = data;

	if (walk->slot && !pcipass_dev_below_slot(pdev, walk->pdev->slot))
		return 0;
	if (walk->set) {
		/* A device was added since the count. */
		if (walk->count >= walk->set->count) {
			walk->overflow = true;
			return 1;
		}
		walk->set->members[walk->count].pdev = pci_dev_get(pdev);
	}
	walk->count++;
	return 0;
}

/**
 * pcipass_hot_reset_set_put() - drop what pcipass_hot_reset_set_get() got
 * @set: the set, or an ERR_PTR() or NULL
 */
void pcipass_hot_reset_set_put(struct pcipass_hot_reset_set *set)
{
	u32 i;

	if (IS_ERR_OR_NULL(set))
		return;
	for (i = 0; i < set->count; i++)
		pci_dev_put(set->members[i].pdev);
	kfree(set);
}

/**
 * pcipass_hot_reset_set_get() - the devices a hot reset of a device affects
 * @pdev: the device, no lock held
 *
 * As pci_reset_bus() chooses: the devices of the device's hotplug slot
 * when it has a slot reset, else every device on its bus and below.
 *
 * Return: the set, each device with a reference (&pcipass_hot_reset_set
 * .flags has %PCIPASS_HOT_RESET_SLOT, the members' @pdevice are not set
 * yet); ERR_PTR(-EOPNOTSUPP) without a slot or bus reset, -EAGAIN when the
 * bus changed while it was read, or -ENOMEM.
 */
struct pcipass_hot_reset_set *pcipass_hot_reset_set_get(struct pci_dev *pdev)
{
	struct pcipass_hot_reset_walk walk = { .pdev = pdev };
	struct pcipass_hot_reset_set *set;

	if (!pci_probe_reset_slot(pdev->slot))
		walk.slot = true;
	else if (pci_probe_reset_bus(pdev->bus))
		return ERR_PTR(-EOPNOTSUPP);

	pci_walk_bus(pdev->bus, pcipass_hot_reset_walk_one, &walk);
	if (WARN_ON_ONCE(!walk.count))
		return ERR_PTR(-EAGAIN);
	set = kzalloc(struct_size(set, members, walk.count), GFP_KERNEL);
	if (!set)
		return ERR_PTR(-ENOMEM);
	set->count = walk.count;
	set->flags = walk.slot ? PCIPASS_HOT_RESET_SLOT : 0;
	walk.set = set;
	walk.count = 0;
	pci_walk_bus(pdev->bus, pcipass_hot_reset_walk_one, &walk);
	/* Only the members filled are put; a bus that shrank is fine. */
	set->count = walk.count;
	if (walk.overflow || !walk.count) {
		pcipass_hot_reset_set_put(set);
		return ERR_PTR(-EAGAIN);
	}
	return set;
}

/* The context's attachment of @pdev, or NULL. */
static struct pcipass_device *pcipass_ctx_find(struct pcipass_ctx *ctx,
					       struct pci_dev *pdev)
{
	struct pcipass_device *pdevice;

	lockdep_assert_held(&ctx->lock);
	list_for_each_entry(pdevice, &ctx->devices, node)
		if (pdevice->pdev == pdev && pdevice->ppci)
			return pdevice;
	return NULL;
}

/**
 * pcipass_hot_reset_set_attached() - which members are in the context
 * @ctx: the context, locked
 * @set: a set of pcipass_hot_reset_set_get()
 *
 * Sets each member's @pdevice and @group_owned (valid while the context
 * lock is held), %PCIPASS_HOT_RESET_ALL_ATTACHED in @set's flags when every
 * member is attached, and %PCIPASS_HOT_RESET_ALLOWED when every member is
 * attached or, bound to pcipass, in a group the context owns. Such a
 * member can be attached to no other context (the group is this one's), as
 * in vfio-pci, where a hot reset may reset a function bound to vfio-pci in
 * a group the user holds that the VMM has not opened (the HDMI audio of a
 * GPU given to the guest alone).
 *
 * Return: the first member that is neither, or NULL.
 */
struct pci_dev *pcipass_hot_reset_set_attached(struct pcipass_ctx *ctx,
					       struct pcipass_hot_reset_set *set)
{
	struct pci_dev *missing = NULL;
	bool all_attached = true;
	u32 i;

	lockdep_assert_held(&ctx->lock);
	for (i = 0; i < set->count; i++) {
		struct pci_dev *pdev = set->members[i].pdev;
		struct iommu_group *group;

		set->members[i].pdevice = pcipass_ctx_find(ctx, pdev);
		set->members[i].group_owned = false;
		if (set->members[i].pdevice)
			continue;
		all_attached = false;
		/* As vfio-pci wants it bound to vfio-pci: one of ours. */
		group = iommu_group_get(&pdev->dev);
		set->members[i].group_owned = group &&
					      pcipass_driver_owns(pdev) &&
					      pcipass_ctx_has_group(ctx, group);
		iommu_group_put(group);
		if (!set->members[i].group_owned && !missing)
			missing = pdev;
	}
	set->flags &= ~(PCIPASS_HOT_RESET_ALL_ATTACHED |
			PCIPASS_HOT_RESET_ALLOWED);
	if (all_attached)
		set->flags |= PCIPASS_HOT_RESET_ALL_ATTACHED;
	if (!missing)
		set->flags |= PCIPASS_HOT_RESET_ALLOWED;
	return missing;
}

/*
 * The context lock held: check ownership, then reset the slot or bus
 * without the context lock (it is taken again before returning).
 */
static int pcipass_hot_reset_locked(struct pcipass_device *pdevice,
				    struct pcipass_hot_reset_set *set,
				    pcipass_hot_reset_filter_t filter,
				    void *data)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	struct pci_dev *missing;
	int ret;
	u32 i;

	lockdep_assert_held(&ctx->lock);
	if (!pdevice->ppci)
		return -ENODEV;
	missing = pcipass_hot_reset_set_attached(ctx, set);
	for (i = 0; !missing && filter && i < set->count; i++)
		if (!filter(set->members[i].pdev, data))
			missing = set->members[i].pdev;
	if (missing) {
		dev_warn_ratelimited(&pdevice->pdev->dev, "hot reset refused: %s, which it would reset too, is not attached to this context nor in an IOMMU group it owns\n",
				     pci_name(missing));
		return -EBUSY;
	}
	/* Another thread resets one of them: try again once it is done. */
	for (i = 0; i < set->count; i++)
		if (set->members[i].pdevice &&
		    set->members[i].pdevice->resetting)
			return -EAGAIN;

	for (i = 0; i < set->count; i++)
		if (set->members[i].pdevice)
			pcipass_reset_begin(set->members[i].pdevice);
	mutex_unlock(&ctx->lock);
	/*
	 * The PCI core trylocks every device of the slot or bus and the
	 * bridge, saves, resets and restores them. A pcipass path holding
	 * one of those device locks (a detach meanwhile, a reset of one
	 * function) makes it fail with -EAGAIN, and the caller tries again.
	 * A member detached meanwhile stays allocated until its mark goes
	 * (pcipass_reset_wait_idle()).
	 */
	ret = pci_reset_bus(pdevice->pdev);
	mutex_lock(&ctx->lock);
	for (i = 0; i < set->count; i++)
		if (set->members[i].pdevice)
			pcipass_reset_end(set->members[i].pdevice);
	return ret;
}

/**
 * pcipass_hot_reset_cmd() - reset the slot or bus of a device file's device
 * @pdevice: the device file's attachment, unlocked
 * @filter: for the VFIO compatibility layer, a further test every device
 *	the reset affects must pass (in one of the VFIO groups given); or NULL
 * @data: @filter's argument
 *
 * The core of PCIPASS_DEVICE_HOT_RESET and VFIO_DEVICE_PCI_HOT_RESET: every
 * device the reset affects must be attached to the device file's context,
 * or in an IOMMU group it owns.
 *
 * Return: 0 or an errno documented with &struct pcipass_device_hot_reset.
 */
int pcipass_hot_reset_cmd(struct pcipass_device *pdevice,
			  pcipass_hot_reset_filter_t filter, void *data)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	struct pcipass_hot_reset_set *set;
	int tries = 0, ret;

	for (;;) {
		set = pcipass_hot_reset_set_get(pdevice->pdev);
		if (IS_ERR(set)) {
			ret = PTR_ERR(set);
		} else {
			pcipass_device_ctx_lock(pdevice);
			ret = pcipass_hot_reset_locked(pdevice, set, filter,
						       data);
			mutex_unlock(&ctx->lock);
			pcipass_hot_reset_set_put(set);
		}
		if (ret != -EAGAIN || ++tries == PCIPASS_HOT_RESET_TRIES)
			return ret;
		msleep(20);
	}
}

/**
 * pcipass_device_hot_reset() - PCIPASS_DEVICE_HOT_RESET on a device file
 * @ucmd: the ioctl call, a &struct pcipass_device_hot_reset
 *
 * Return: 0 or an errno documented with &struct pcipass_device_hot_reset.
 */
int pcipass_device_hot_reset(struct pcipass_ucmd *ucmd)
{
	return pcipass_hot_reset_cmd(ucmd->dev, NULL, NULL);
}

/**
 * pcipass_device_hot_reset_info() - PCIPASS_DEVICE_HOT_RESET_INFO
 * @ucmd: the ioctl call, a &struct pcipass_device_hot_reset_info
 *
 * Return: 0 or an errno documented with &struct
 * pcipass_device_hot_reset_info.
 */
int pcipass_device_hot_reset_info(struct pcipass_ucmd *ucmd)
{
	struct pcipass_device_hot_reset_info *cmd = ucmd->cmd;
	struct pcipass_device *pdevice = ucmd->dev;
	struct pcipass_ctx *ctx = ucmd->ctx;
	struct pcipass_hot_reset_dev __user *out;
	struct pcipass_hot_reset_dev *devs;
	struct pcipass_hot_reset_set *set;
	int ret = 0;
	u32 i;

	set = pcipass_hot_reset_set_get(pdevice->pdev);
	if (IS_ERR(set))
		return PTR_ERR(set);
	devs = kcalloc(set->count, sizeof(*devs), GFP_KERNEL);
	if (!devs) {
		ret = -ENOMEM;
		goto out_put;
	}

	mutex_lock(&ctx->lock);
	if (pdevice->ppci)
		pcipass_hot_reset_set_attached(ctx, set);
	else
		ret = -ENODEV;
	for (i = 0; !ret && i < set->count; i++) {
		struct pci_dev *pdev = set->members[i].pdev;

		devs[i] = (struct pcipass_hot_reset_dev) {
			.addr = {
				.segment = pci_domain_nr(pdev->bus),
				.bus = pdev->bus->number,
				.device = PCI_SLOT(pdev->devfn),
				.function = PCI_FUNC(pdev->devfn),
			},
			.vendor = pdev->vendor,
			.device = pdev->device,
			.dev_flags = (set->members[i].pdevice ?
				      PCIPASS_HOT_RESET_DEV_ATTACHED : 0) |
				     (set->members[i].group_owned ?
				      PCIPASS_HOT_RESET_DEV_GROUP_OWNED : 0),
		};
	}
	mutex_unlock(&ctx->lock);
	if (ret)
		goto out_free;

	/* No lock held from here: the user copies may fault. */
	cmd->info_flags = set->flags;
	if (set->count > cmd->num_devices) {
		cmd->num_devices = set->count;
		ret = pcipass_ucmd_respond(ucmd);
		if (!ret)
			ret = -EMSGSIZE;
		goto out_free;
	}
	out = u64_to_user_ptr(cmd->devices);
	if (copy_to_user(out, devs, set->count * sizeof(*devs))) {
		ret = -EFAULT;
		goto out_free;
	}
	cmd->num_devices = set->count;
	ret = pcipass_ucmd_respond(ucmd);
out_free:
	kfree(devs);
out_put:
	pcipass_hot_reset_set_put(set);
	return ret;
}

/* ---- hand-over: the reset of a device that cannot be reset alone ---- */

/* Serializes hand-over resets: one looks at a set at a time. */
static DEFINE_MUTEX(pcipass_handover_lock);

/*
 * Is @pdev bound to pcipass and attached to no context? Its lock is only
 * tried: a device whose lock is busy (an attach, a removal waiting for its
 * VMM) counts as in use, so that no hand-over waits for one. A device
 * that needs the hand-over reset sets *@dirty.
 */
static bool pcipass_handover_idle(struct pci_dev *pdev, bool *dirty)
{
	struct pcipass_pci *ppci;
	bool idle = false;

	if (!device_trylock(&pdev->dev))
		return false;
	if (pcipass_driver_owns(pdev)) {
		ppci = pci_get_drvdata(pdev);
		idle = !ppci->attached;
		*dirty |= ppci->needs_reset;
	}
	device_unlock(&pdev->dev);
	return idle;
}

/* After the reset: nothing a context left is in @pdev any more. */
static void pcipass_handover_done(struct pci_dev *pdev)
{
	struct pcipass_pci *ppci;

	/* A device busy again keeps its mark: one reset too many at worst. */
	if (!device_trylock(&pdev->dev))
		return;
	if (pcipass_driver_owns(pdev)) {
		ppci = pci_get_drvdata(pdev);
		if (!ppci->attached)
			ppci->needs_reset = false;
	}
	device_unlock(&pdev->dev);
}

/**
 * pcipass_reset_handover() - reset a used device's slot or bus while idle
 * @pdev: a device just detached, or about to be attached; no lock held
 *
 * When @pdev needs it (&pcipass_pci.needs_reset: a context used it and it
 * cannot be reset alone) and every device the slot or bus reset would
 * affect is bound to pcipass and attached to no context, that reset is
 * made, so the next context finds the devices as the host left them.
 * Best effort, as vfio-pci's: a set with a device in use, or of another
 * driver, is left as it is, and the next attach tries again.
 */
void pcipass_reset_handover(struct pci_dev *pdev)
{
	struct pcipass_hot_reset_set *set;
	bool dirty = false;
	int ret;
	u32 i;

	mutex_lock(&pcipass_handover_lock);
	if (!pcipass_handover_idle(pdev, &dirty) || !dirty)
		goto out_unlock;
	set = pcipass_hot_reset_set_get(pdev);
	if (IS_ERR(set))
		goto out_unlock;
	for (i = 0; i < set->count; i++)
		if (!pcipass_handover_idle(set->members[i].pdev, &dirty))
			goto out_put;
	/* It trylocks every device: an attach that started in between wins. */
	ret = pci_reset_bus(pdev);
	if (ret) {
		dev_dbg(&pdev->dev, "hand-over reset not done (%d)\n", ret);
		goto out_put;
	}
	for (i = 0; i < set->count; i++)
		pcipass_handover_done(set->members[i].pdev);
	dev_info_ratelimited(&pdev->dev, "%s reset at hand-over: %u device(s), none in use\n",
			     set->flags & PCIPASS_HOT_RESET_SLOT ? "slot" : "bus",
			     set->count);
out_put:
	pcipass_hot_reset_set_put(set);
out_unlock:
	mutex_unlock(&pcipass_handover_lock);
}
