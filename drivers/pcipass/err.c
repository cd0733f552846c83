// SPDX-License-Identifier: GPL-2.0
/*
 * Error reports: the pcipass driver's part in the PCI core's AER recovery
 * (struct pci_error_handlers), the %PCIPASS_IRQ_ERR eventfd those callbacks
 * signal, the record of what each report and recovery did, and
 * PCIPASS_DEVICE_ERR_INFO, which gives that record to the VMM. The VFIO
 * layer's error index (VFIO_PCI_ERR_IRQ_INDEX) is the same eventfd.
 *
 * Locking: the PCI core calls the recovery callbacks with the device's
 * device_lock() held (drivers/pci/pcie/err.c); the correctable error
 * callback (aer.c) takes it itself, only trying it. That lock keeps
 * &pcipass_pci.attached, and so the attachment,
 * stable: attach and detach change it under device_lock. The callbacks
 * take only &pcipass_device.err_lock, a spinlock, besides: never the
 * context lock, which a hot reset holds while the PCI core locks every
 * device of the bus (pci_reset_bus()), and never anything that waits for
 * user space. A removal that waits for the VMM holds the device lock
 * (release.c): the recovery of that device waits for the end of that
 * bounded wait.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/spinlock.h>

#include "pcipass.h"

/* With device_lock held: the attachment of a device in recovery, or NULL. */
static struct pcipass_device *pcipass_err_attached(struct pci_dev *pdev)
{
	struct pcipass_pci *ppci = pci_get_drvdata(pdev);

	device_lock_assert(&pdev->dev);
	return ppci ? ppci->attached : NULL;
}

/* With err_lock held: tell the VMM to read PCIPASS_DEVICE_ERR_INFO. */
static void pcipass_err_signal_locked(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->err_lock);
	if (pdevice->err_trigger)
		eventfd_signal(pdevice->err_trigger);
}

static pci_ers_result_t pcipass_err_detected(struct pci_dev *pdev,
					     pci_channel_state_t state)
{
	struct pcipass_device *pdevice = pcipass_err_attached(pdev);
	pci_ers_result_t vote;
	u32 channel;

	switch (state) {
	case pci_channel_io_normal:
		channel = PCIPASS_ERR_CHANNEL_NORMAL;
		vote = PCI_ERS_RESULT_CAN_RECOVER;
		break;
	case pci_channel_io_frozen:
		channel = PCIPASS_ERR_CHANNEL_FROZEN;
		vote = PCI_ERS_RESULT_NEED_RESET;
		break;
	default:
		channel = PCIPASS_ERR_CHANNEL_PERM_FAILURE;
		vote = PCI_ERS_RESULT_DISCONNECT;
		break;
	}
	if (!pdevice)
		return vote;

	spin_lock(&pdevice->err_lock);
	if (channel == PCIPASS_ERR_CHANNEL_NORMAL)
		pdevice->err.nonfatal++;
	else if (channel == PCIPASS_ERR_CHANNEL_FROZEN)
		pdevice->err.fatal++;
	pdevice->err.channel = channel;
	pdevice->err.result = channel == PCIPASS_ERR_CHANNEL_PERM_FAILURE ?
			      PCIPASS_ERR_RESULT_DISCONNECTED :
			      PCIPASS_ERR_RESULT_RECOVERING;
	pcipass_err_signal_locked(pdevice);
	spin_unlock(&pdevice->err_lock);
	dev_warn_ratelimited(&pdev->dev, "%s error reported to %s[%d]\n",
			     channel == PCIPASS_ERR_CHANNEL_NORMAL ?
			     "uncorrectable non-fatal" :
			     channel == PCIPASS_ERR_CHANNEL_FROZEN ?
			     "uncorrectable fatal" : "unrecoverable",
			     pdevice->ctx->owner_comm, pdevice->ctx->owner_pid);
	return vote;
}

/* Called only when every driver voted CAN_RECOVER: nothing to redo. */
static pci_ers_result_t pcipass_err_mmio_enabled(struct pci_dev *pdev)
{
	return PCI_ERS_RESULT_RECOVERED;
}

static pci_ers_result_t pcipass_err_slot_reset(struct pci_dev *pdev)
{
	struct pcipass_device *pdevice = pcipass_err_attached(pdev);
	bool frozen;

	if (!pdevice)
		return PCI_ERS_RESULT_RECOVERED;

	/*
	 * Another driver's NEED_RESET vote after a non-fatal error brings
	 * us here without a reset; after a fatal one the PCI core reset the
	 * link, and a hotplug slot reset restores nothing: give the device
	 * back the BARs and command register it had at attach. The state
	 * is read only: it changes under device_lock, which we hold.
	 */
	spin_lock(&pdevice->err_lock);
	frozen = pdevice->err.channel == PCIPASS_ERR_CHANNEL_FROZEN &&
		 pdevice->err.result == PCIPASS_ERR_RESULT_RECOVERING;
	if (frozen)
		pdevice->err.resets++;
	spin_unlock(&pdevice->err_lock);
	if (frozen && pdevice->saved_state &&
	    !pci_load_saved_state(pdev, pdevice->saved_state))
		pci_restore_state(pdev);
	return PCI_ERS_RESULT_RECOVERED;
}

static void pcipass_err_resume(struct pci_dev *pdev)
{
	struct pcipass_device *pdevice = pcipass_err_attached(pdev);

	if (!pdevice)
		return;
	spin_lock(&pdevice->err_lock);
	if (pdevice->err.result == PCIPASS_ERR_RESULT_RECOVERING) {
		pdevice->err.recoveries++;
		pdevice->err.result =
			pdevice->err.channel == PCIPASS_ERR_CHANNEL_FROZEN ?
			PCIPASS_ERR_RESULT_RESET : PCIPASS_ERR_RESULT_RECOVERED;
		pcipass_err_signal_locked(pdevice);
	}
	spin_unlock(&pdevice->err_lock);
}

/*
 * A corrected error: counted, not signalled (vfio-pci ignores them). The
 * AER interrupt thread calls this without the device lock (aer.c reads
 * dev->driver unlocked): the lock is only tried, so that the driver and
 * the attachment stay while the error is counted and the thread never
 * waits for a removal; an error corrected while someone else holds the
 * lock is not counted.
 */
static void pcipass_err_cor_detected(struct pci_dev *pdev)
{
	struct pcipass_device *pdevice;

	if (!device_trylock(&pdev->dev))
		return;
	pdevice = pcipass_driver_owns(pdev) ? pcipass_err_attached(pdev) : NULL;
	if (pdevice) {
		spin_lock(&pdevice->err_lock);
		pdevice->err.correctable++;
		spin_unlock(&pdevice->err_lock);
	}
	device_unlock(&pdev->dev);
}

/*
 * Also for devices no context holds: without error_detected the PCI core
 * would fail the recovery of every device below the same port.
 */
const struct pci_error_handlers pcipass_err_handlers = {
	.error_detected = pcipass_err_detected,
	.mmio_enabled = pcipass_err_mmio_enabled,
	.slot_reset = pcipass_err_slot_reset,
	.resume = pcipass_err_resume,
	.cor_error_detected = pcipass_err_cor_detected,
};

/**
 * pcipass_err_init() - set up the error state of a new attachment
 * @pdevice: the attachment, not yet visible
 */
void pcipass_err_init(struct pcipass_device *pdevice)
{
	spin_lock_init(&pdevice->err_lock);
}

/**
 * pcipass_err_trigger_swap() - replace the %PCIPASS_IRQ_ERR eventfd
 * @pdevice: the attachment, with the context lock held
 * @trigger: the new eventfd, whose reference is taken over, or NULL
 *
 * Return: the eventfd replaced, for the caller to put, or NULL.
 */
struct eventfd_ctx *pcipass_err_trigger_swap(struct pcipass_device *pdevice,
					     struct eventfd_ctx *trigger)
{
	struct eventfd_ctx *old;

	lockdep_assert_held(&pdevice->ctx->lock);
	spin_lock(&pdevice->err_lock);
	old = pdevice->err_trigger;
	pdevice->err_trigger = trigger;
	spin_unlock(&pdevice->err_lock);
	return old;
}

/**
 * pcipass_err_trigger_set() - has the VMM set a %PCIPASS_IRQ_ERR eventfd?
 * @pdevice: the attachment, with the context lock held
 *
 * Return: true when it has.
 */
bool pcipass_err_trigger_set(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->ctx->lock);
	return pdevice->err_trigger;
}

/**
 * pcipass_err_signal() - signal the %PCIPASS_IRQ_ERR eventfd (a loopback)
 * @pdevice: the attachment, with the context lock held
 */
void pcipass_err_signal(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->ctx->lock);
	spin_lock(&pdevice->err_lock);
	pcipass_err_signal_locked(pdevice);
	spin_unlock(&pdevice->err_lock);
}

/**
 * pcipass_device_err_info() - PCIPASS_DEVICE_ERR_INFO on a device file
 * @ucmd: the ioctl call, a &struct pcipass_device_err_info
 *
 * Return: 0 or an errno documented with &struct pcipass_device_err_info.
 */
int pcipass_device_err_info(struct pcipass_ucmd *ucmd)
{
	struct pcipass_device_err_info *cmd = ucmd->cmd;
	struct pcipass_device *pdevice = ucmd->dev;
	struct pcipass_ctx *ctx = ucmd->ctx;
	struct pcipass_err_state err;

	if (cmd->__reserved)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	if (!pdevice->ppci) {
		mutex_unlock(&ctx->lock);
		return -ENODEV;
	}
	spin_lock(&pdevice->err_lock);
	err = pdevice->err;
	spin_unlock(&pdevice->err_lock);
	mutex_unlock(&ctx->lock);

	/* The PCI core gave up on the device, or it is gone. */
	if (pci_dev_is_disconnected(pdevice->pdev)) {
		err.channel = PCIPASS_ERR_CHANNEL_PERM_FAILURE;
		err.result = PCIPASS_ERR_RESULT_DISCONNECTED;
	}
	cmd->correctable = err.correctable;
	cmd->nonfatal = err.nonfatal;
	cmd->fatal = err.fatal;
	cmd->resets = err.resets;
	cmd->recoveries = err.recoveries;
	cmd->channel = err.channel;
	cmd->result = err.result;
	return pcipass_ucmd_respond(ucmd);
}
