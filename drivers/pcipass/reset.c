// SPDX-License-Identifier: GPL-2.0
/*
 * Device reset: the state saved when a device is attached, the function
 * reset on attach and on detach (after which the saved state is restored,
 * so the host finds the device as it was), and PCIPASS_DEVICE_RESET for
 * the VMM. Every reset runs with the device lock and the context lock
 * held, and with BAR mappings blocked.
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
 */

#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/slab.h>

#include "pcipass.h"

/**
 * pcipass_reset_available() - does the device have a reset method?
 * @pdev: the device
 *
 * Return: true when pci_reset_function_locked() can reset it.
 */
bool pcipass_reset_available(struct pci_dev *pdev)
{
	return pdev->reset_methods[0] != 0;
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
	if (!pcipass_reset_available(pdev))
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

/**
 * pcipass_reset_locked() - reset an attached device for its VMM
 * @pdevice: the attachment, with the upstream bridge locked
 *	(pcipass_reset_lock_bridge()), then the device lock and the context
 *	lock held
 *
 * Return: 0, -EOPNOTSUPP without a reset method, or the reset's errno.
 */
int pcipass_reset_locked(struct pcipass_device *pdevice)
{
	int ret;

	device_lock_assert(&pdevice->pdev->dev);
	lockdep_assert_held(&pdevice->ctx->lock);

	if (!pcipass_reset_available(pdevice->pdev))
		return -EOPNOTSUPP;
	pcipass_bars_block(pdevice);
	ret = pcipass_reset_function(pdevice->pdev, true);
	pcipass_bars_unblock(pdevice);
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
	int ret;

	/* Parent before child, as pci_reset_function() locks them. */
	bridge = pcipass_reset_lock_bridge(pdevice->pdev);
	device_lock(&pdevice->pdev->dev);
	mutex_lock(&ctx->lock);
	if (pdevice->ppci)
		ret = pcipass_reset_locked(pdevice);
	else
		ret = -ENODEV;
	mutex_unlock(&ctx->lock);
	device_unlock(&pdevice->pdev->dev);
	pcipass_reset_unlock_bridge(bridge);
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
 * @pdevice: the attachment being made, both locks held
 *
 * A device without a reset method is used as it is (the device info says
 * so).
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
	if (ret && ret != -EOPNOTSUPP)
		dev_warn_ratelimited(&pdev->dev, "reset on attach failed (%d); using the device as it is\n",
				     ret);
	return 0;
}

/**
 * pcipass_reset_on_detach() - reset, then restore the host's state
 * @pdevice: the attachment being undone, both locks held
 */
void pcipass_reset_on_detach(struct pcipass_device *pdevice)
{
	struct pci_dev *pdev = pdevice->pdev;
	int ret;

	ret = pcipass_reset_function(pdev, false);
	if (ret && ret != -EOPNOTSUPP)
		dev_warn_ratelimited(&pdev->dev, "reset on detach failed (%d)\n",
				     ret);
	if (pdevice->saved_state) {
		pci_load_and_free_saved_state(pdev, &pdevice->saved_state);
		pci_restore_state(pdev);
	}
}
