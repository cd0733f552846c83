// SPDX-License-Identifier: GPL-2.0
/*
 * Device reset: the state saved when a device is attached, the function
 * reset on attach and on detach (after which the saved state is restored,
 * so the host finds the device as it was), and PCIPASS_DEVICE_RESET for
 * the VMM. Every reset runs with the device lock and the context lock
 * held, and with BAR mappings blocked.
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

/* Both locks held: reset with the config space saved and restored. */
static int pcipass_reset_function(struct pci_dev *pdev)
{
	int ret;

	if (!pcipass_reset_available(pdev))
		return -EOPNOTSUPP;
	/* Keep user space's sysfs config accesses out during the reset. */
	pci_cfg_access_lock(pdev);
	ret = pci_reset_function_locked(pdev);
	pci_cfg_access_unlock(pdev);
	return ret;
}

/**
 * pcipass_reset_locked() - reset an attached device for its VMM
 * @pdevice: the attachment, with the device lock and context lock held
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
	ret = pcipass_reset_function(pdevice->pdev);
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
	int ret;

	device_lock(&pdevice->pdev->dev);
	mutex_lock(&ctx->lock);
	if (pdevice->ppci)
		ret = pcipass_reset_locked(pdevice);
	else
		ret = -ENODEV;
	mutex_unlock(&ctx->lock);
	device_unlock(&pdevice->pdev->dev);
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
	ret = pcipass_reset_function(pdev);
	if (ret && ret != -EOPNOTSUPP)
		pci_warn(pdev, "reset on attach failed (%d); using the device as it is\n",
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

	ret = pcipass_reset_function(pdev);
	if (ret && ret != -EOPNOTSUPP)
		pci_warn(pdev, "reset on detach failed (%d)\n", ret);
	if (pdevice->saved_state) {
		pci_load_and_free_saved_state(pdev, &pdevice->saved_state);
		pci_restore_state(pdev);
	}
}
