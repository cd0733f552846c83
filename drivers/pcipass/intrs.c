// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts of attached devices: INTx, MSI and MSI-X delivered to
 * eventfds from the hard interrupt handler, per-vector masking with
 * delivery of what fired while masked, INTx automasking and its unmask
 * eventfd, the MSI isolation rule, and the ordered tear-down of all that
 * (PCIPASS_DEVICE_GET_IRQ_INFO, PCIPASS_DEVICE_SET_IRQS); and the eventfd
 * of the release request (%PCIPASS_IRQ_REQ), which release.c signals, and
 * of the error report (%PCIPASS_IRQ_ERR), which err.c signals.
 *
 * Locking: the set of vectors changes under the context's lock. The state a
 * handler reads (mask, pending, trigger) is under &pcipass_device.irq_lock,
 * and eventfds are signalled after dropping it, so that the wake-up path of
 * an eventfd never nests inside irq_lock. An eventfd that is replaced is
 * released only after synchronize_irq() and the INTx work are done with it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/interrupt.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/panic.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pcipass.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts, "Allow MSI and MSI-X for devices whose IOMMU group does not isolate MSI (no interrupt remapping): a device can then forge interrupts. Taints the kernel. Default: off");

static bool nointxmask;
module_param(nointxmask, bool, 0644);
MODULE_PARM_DESC(nointxmask, "Do not mask INTx at the device (PCI 2.3 INTx disable) but disable the interrupt line instead, which then cannot be shared; for devices whose INTx masking is broken. Default: off");

/* An upper bound on vectors, far above what PCI allows (2048 for MSI-X). */
#define PCIPASS_IRQ_MAX_VECTORS	2048

/**
 * pcipass_irq_unsafe_allowed() - the admin's MSI isolation override
 *
 * Return: the value of the allow_unsafe_interrupts module parameter.
 */
bool pcipass_irq_unsafe_allowed(void)
{
	return READ_ONCE(allow_unsafe_interrupts);
}

/* Is INTx masked at the device (and the line shared) rather than disabled? */
static bool pcipass_intx_maskable(struct pci_dev *pdev)
{
	return !READ_ONCE(nointxmask) && pci_intx_mask_supported(pdev);
}

/* Vectors a device has of @type; 0 when none. */
static u32 pcipass_irq_type_count(struct pci_dev *pdev, u32 type)
{
	int n;

	switch (type) {
	case PCIPASS_IRQ_INTX:
		/* A VF has no INTx, whatever its pin register says. */
		return pdev->pin && pdev->irq && !pdev->is_virtfn ? 1 : 0;
	case PCIPASS_IRQ_MSI:
		n = pci_msi_vec_count(pdev);
		return n > 0 ? n : 0;
	case PCIPASS_IRQ_MSIX:
		n = pci_msix_vec_count(pdev);
		return n > 0 ? n : 0;
	case PCIPASS_IRQ_ERR:
		return pci_is_pcie(pdev) ? 1 : 0;
	case PCIPASS_IRQ_REQ:
		return 1;
	default:
		return 0;
	}
}

/* Is MSI allowed for this device in this context? 0 or -EPERM. */
static int pcipass_msi_allowed(struct pcipass_device *pdevice, bool log)
{
	struct pci_dev *pdev = pdevice->pdev;
	struct iommu_group *group;
	bool isolated;

	if (pdevice->ctx->mode != PCIPASS_CTX_MODE_IOMMU) {
		if (log)
			dev_warn_ratelimited(&pdev->dev, "MSI refused: no IOMMU, so no bus mastering: only INTx is available\n");
		return -EPERM;
	}
	group = iommu_group_get(&pdev->dev);
	isolated = group && iommu_group_has_isolated_msi(group);
	iommu_group_put(group);
	if (isolated)
		return 0;
	if (!pcipass_irq_unsafe_allowed()) {
		if (log)
			dev_warn_ratelimited(&pdev->dev, "MSI refused: the IOMMU does not isolate MSI (no interrupt remapping); load pcipass with allow_unsafe_interrupts=1 to allow it anyway\n");
		return -EPERM;
	}
	if (log) {
		dev_warn_ratelimited(&pdev->dev, "UNSAFE: MSI enabled without interrupt isolation (allow_unsafe_interrupts=1): the device can forge interrupts; tainting the kernel\n");
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
	}
	return 0;
}

static void pcipass_irq_signal(struct eventfd_ctx *trigger)
{
	if (trigger)
		eventfd_signal(trigger);
}

/*
 * With irq_lock held: account a vector firing. Returns the eventfd to
 * signal once the lock is dropped, or NULL when the vector is masked (it is
 * then pending) or has no eventfd.
 */
static struct eventfd_ctx *pcipass_irq_fire(struct pcipass_irq_vector *vec)
{
	lockdep_assert_held(&vec->pdevice->irq_lock);

	if (vec->masked) {
		vec->pending = true;
		return NULL;
	}
	vec->delivered++;
	return vec->trigger;
}

static irqreturn_t pcipass_msi_handler(int irq, void *arg)
{
	struct pcipass_irq_vector *vec = arg;
	struct eventfd_ctx *trigger;

	spin_lock(&vec->pdevice->irq_lock);
	trigger = pcipass_irq_fire(vec);
	spin_unlock(&vec->pdevice->irq_lock);
	pcipass_irq_signal(trigger);
	return IRQ_HANDLED;
}

static irqreturn_t pcipass_intx_handler(int irq, void *arg)
{
	struct pcipass_irq_vector *vec = arg;
	struct pcipass_device *pdevice = vec->pdevice;
	struct eventfd_ctx *trigger = NULL;
	unsigned long flags;

	spin_lock_irqsave(&pdevice->irq_lock, flags);
	if (pdevice->intx_shared) {
		/* Not ours, or already masked: leave it to the others. */
		if (!pci_check_and_mask_intx(pdevice->pdev)) {
			spin_unlock_irqrestore(&pdevice->irq_lock, flags);
			return IRQ_NONE;
		}
	} else if (!vec->masked) {
		/*
		 * A MASK or TRIGGER that ran while this handler waited for
		 * irq_lock has disabled the line already: disabling it again
		 * would leave it disabled after the one enable of an unmask.
		 */
		disable_irq_nosync(irq);
	}
	/* Automask: the guest unmasks once it has serviced the device. */
	if (!vec->masked) {
		vec->delivered++;
		trigger = vec->trigger;
	}
	vec->masked = true;
	spin_unlock_irqrestore(&pdevice->irq_lock, flags);
	pcipass_irq_signal(trigger);
	return IRQ_HANDLED;
}

/* With irq_lock held: mask INTx at the device (or the line). */
static void pcipass_intx_mask_locked(struct pcipass_device *pdevice)
{
	struct pcipass_irq_vector *vec = &pdevice->irqs[0];

	if (vec->masked)
		return;
	if (pdevice->intx_shared)
		pci_intx(pdevice->pdev, 0);
	else
		disable_irq_nosync(vec->irq);
	vec->masked = true;
}

/*
 * With irq_lock held: unmask INTx. Returns true when the device still
 * asserts it: it then stays masked and counts as a new interrupt.
 */
static bool pcipass_intx_unmask_locked(struct pcipass_device *pdevice)
{
	struct pcipass_irq_vector *vec = &pdevice->irqs[0];

	if (!vec->masked)
		return false;
	vec->masked = false;
	if (!pdevice->intx_shared) {
		enable_irq(vec->irq);
		return false;
	}
	if (!pci_check_and_unmask_intx(pdevice->pdev)) {
		vec->masked = true;
		vec->delivered++;
		return true;
	}
	return false;
}

/*
 * With irq_lock held: unmask INTx, and say whether an interrupt must be
 * signalled now: the device still asserts it, or a trigger came while it
 * was masked. Either way INTx is then automasked again.
 */
static bool pcipass_intx_deliver_on_unmask(struct pcipass_device *pdevice)
{
	struct pcipass_irq_vector *vec = &pdevice->irqs[0];

	/* Still asserted: that interrupt also answers a held trigger. */
	if (pcipass_intx_unmask_locked(pdevice)) {
		vec->pending = false;
		return true;
	}
	if (!vec->pending)
		return false;
	vec->pending = false;
	pcipass_intx_mask_locked(pdevice);
	vec->delivered++;
	return true;
}

static void pcipass_intx_deliver_work(struct work_struct *work)
{
	struct pcipass_device *pdevice =
		container_of(work, struct pcipass_device, intx_deliver);
	struct eventfd_ctx *trigger;
	unsigned long flags;

	spin_lock_irqsave(&pdevice->irq_lock, flags);
	trigger = pdevice->irqs ? pdevice->irqs[0].trigger : NULL;
	spin_unlock_irqrestore(&pdevice->irq_lock, flags);
	pcipass_irq_signal(trigger);
}

/*
 * Wake-up of the INTx unmask eventfd: runs with the lock of the eventfd's
 * wait queue held (eventfd_ctx_do_read() needs it), from the eventfd's
 * wake-up or from pcipass_intx_unmask_fd_set().
 */
static int pcipass_intx_unmask_wake(wait_queue_entry_t *wait,
				    unsigned int mode, int sync, void *key)
{
	struct pcipass_device *pdevice =
		container_of(wait, struct pcipass_device, intx_unmask_wait);
	__poll_t events = key_to_poll(key);
	unsigned long flags;
	bool again;
	u64 cnt;

	if (!(events & EPOLLIN))
		return 0;
	lockdep_assert_held(&pdevice->intx_unmask_wqh->lock);
	eventfd_ctx_do_read(pdevice->intx_unmask, &cnt);
	spin_lock_irqsave(&pdevice->irq_lock, flags);
	again = pdevice->irqs && pcipass_intx_deliver_on_unmask(pdevice);
	spin_unlock_irqrestore(&pdevice->irq_lock, flags);
	/* Signalling another eventfd from here would nest eventfd locks. */
	if (again)
		schedule_work(&pdevice->intx_deliver);
	return 0;
}

static void pcipass_intx_unmask_queue(struct file *file,
				      wait_queue_head_t *wqh, poll_table *pt)
{
	struct pcipass_device *pdevice =
		container_of(pt, struct pcipass_device, intx_unmask_pt);

	pdevice->intx_unmask_wqh = wqh;
	add_wait_queue(wqh, &pdevice->intx_unmask_wait);
}

/* With the context lock: remove the INTx unmask eventfd, if any. */
static void pcipass_intx_unmask_fd_clear(struct pcipass_device *pdevice)
{
	u64 cnt;

	if (!pdevice->intx_unmask)
		return;
	eventfd_ctx_remove_wait_queue(pdevice->intx_unmask,
				      &pdevice->intx_unmask_wait, &cnt);
	flush_work(&pdevice->intx_deliver);
	eventfd_ctx_put(pdevice->intx_unmask);
	pdevice->intx_unmask = NULL;
	pdevice->intx_unmask_wqh = NULL;
}

static int pcipass_intx_unmask_fd_set(struct pcipass_device *pdevice, int fd)
{
	struct eventfd_ctx *ctx;
	unsigned long flags;
	__poll_t events;
	struct file *file;

	if (fd < 0) {
		pcipass_intx_unmask_fd_clear(pdevice);
		return 0;
	}

	/* A bad file descriptor must leave the current eventfd in place. */
	file = fget(fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return PTR_ERR(ctx);
	}
	pcipass_intx_unmask_fd_clear(pdevice);
	pdevice->intx_unmask = ctx;
	init_waitqueue_func_entry(&pdevice->intx_unmask_wait,
				  pcipass_intx_unmask_wake);
	init_poll_funcptr(&pdevice->intx_unmask_pt, pcipass_intx_unmask_queue);
	events = vfs_poll(file, &pdevice->intx_unmask_pt);
	fput(file);
	/*
	 * Signalled before we listened: act on it now, under the wait
	 * queue's lock as a wake-up would be.
	 */
	if ((events & EPOLLIN) && pdevice->intx_unmask_wqh) {
		spin_lock_irqsave(&pdevice->intx_unmask_wqh->lock, flags);
		pcipass_intx_unmask_wake(&pdevice->intx_unmask_wait, 0, 0,
					 poll_to_key(EPOLLIN));
		spin_unlock_irqrestore(&pdevice->intx_unmask_wqh->lock, flags);
	}
	return 0;
}

static int pcipass_irq_request(struct pcipass_device *pdevice,
			       struct pcipass_irq_vector *vec, u32 type,
			       unsigned int index)
{
	static const char * const type_names[] = {
		[PCIPASS_IRQ_INTX] = "intx",
		[PCIPASS_IRQ_MSI] = "msi",
		[PCIPASS_IRQ_MSIX] = "msix",
	};
	struct pci_dev *pdev = pdevice->pdev;
	unsigned long irqflags = 0;
	irq_handler_t handler = pcipass_msi_handler;
	int ret;

	vec->pdevice = pdevice;
	snprintf(vec->name, sizeof(vec->name), "pcipass-%s[%u](%s)",
		 type_names[type], index, pci_name(pdev));
	if (type == PCIPASS_IRQ_INTX) {
		vec->irq = pdev->irq;
		handler = pcipass_intx_handler;
		if (pdevice->intx_shared)
			irqflags |= IRQF_SHARED;
	} else {
		ret = pci_irq_vector(pdev, index);
		if (ret < 0)
			return ret;
		vec->irq = ret;
	}
	ret = request_irq(vec->irq, handler, irqflags, vec->name, vec);
	if (ret)
		return ret;
	vec->requested = true;
	return 0;
}

/*
 * With the context lock: free every vector, drop every eventfd. Freeing
 * MSI-X vectors writes the MSI-X table: the caller has memory decoding on
 * (pcipass_irq_teardown()).
 */
static void __pcipass_irq_teardown(struct pcipass_device *pdevice)
{
	struct pcipass_irq_vector *vecs = pdevice->irqs;
	unsigned long flags;
	u32 i;

	if (!vecs)
		return;

	if (pdevice->irq_type == PCIPASS_IRQ_INTX) {
		pcipass_intx_unmask_fd_clear(pdevice);
		/*
		 * Leave the device masked. An exclusive line may be left
		 * disabled: the next request_irq() starts it afresh.
		 */
		spin_lock_irqsave(&pdevice->irq_lock, flags);
		pci_intx(pdevice->pdev, 0);
		spin_unlock_irqrestore(&pdevice->irq_lock, flags);
	}
	/* free_irq() waits for a running handler. */
	for (i = 0; i < pdevice->irq_count; i++)
		if (vecs[i].requested)
			free_irq(vecs[i].irq, &vecs[i]);
	flush_work(&pdevice->intx_deliver);
	if (pdevice->irq_type != PCIPASS_IRQ_INTX)
		pci_free_irq_vectors(pdevice->pdev);

	spin_lock_irqsave(&pdevice->irq_lock, flags);
	pdevice->irqs = NULL;
	spin_unlock_irqrestore(&pdevice->irq_lock, flags);
	for (i = 0; i < pdevice->irq_count; i++)
		if (vecs[i].trigger)
			eventfd_ctx_put(vecs[i].trigger);
	kfree(vecs);
	pdevice->irq_count = 0;
	pdevice->irq_type = PCIPASS_IRQ_NONE;
}

/*
 * The kernel's own writes to the MSI-X table (vector allocation, request,
 * free) are lost while the VMM has memory decoding off: decoding is turned
 * on around them, with the BAR mappings kept blocked.
 */
static void pcipass_irq_teardown(struct pcipass_device *pdevice)
{
	u16 cmd;

	if (pdevice->irq_type != PCIPASS_IRQ_MSIX) {
		__pcipass_irq_teardown(pdevice);
		return;
	}
	cmd = pcipass_memory_lock_and_enable(pdevice);
	__pcipass_irq_teardown(pdevice);
	pcipass_memory_unlock_and_restore(pdevice, cmd);
}

static int pcipass_irq_enable(struct pcipass_device *pdevice, u32 type,
			      u32 count)
{
	struct pci_dev *pdev = pdevice->pdev;
	struct pcipass_irq_vector *vecs;
	unsigned int pci_flags;
	u16 cmd = 0;
	u32 i;
	int ret;

	if (type == PCIPASS_IRQ_MSI || type == PCIPASS_IRQ_MSIX) {
		ret = pcipass_msi_allowed(pdevice, true);
		if (ret)
			return ret;
	}

	vecs = kcalloc(count, sizeof(*vecs), GFP_KERNEL_ACCOUNT);
	if (!vecs)
		return -ENOMEM;

	if (type == PCIPASS_IRQ_MSIX)
		cmd = pcipass_memory_lock_and_enable(pdevice);
	if (type == PCIPASS_IRQ_INTX) {
		pdevice->intx_shared = pcipass_intx_maskable(pdev);
		pci_intx(pdev, 1);
	} else {
		pci_flags = type == PCIPASS_IRQ_MSI ? PCI_IRQ_MSI : PCI_IRQ_MSIX;
		ret = pci_alloc_irq_vectors(pdev, count, count, pci_flags);
		if (ret < 0)
			goto err_free_vecs;
	}

	/* Publish before requesting: a shared INTx may fire at once. */
	pdevice->irqs = vecs;
	pdevice->irq_count = count;
	pdevice->irq_type = type;
	for (i = 0; i < count; i++) {
		ret = pcipass_irq_request(pdevice, &vecs[i], type, i);
		if (ret)
			goto err_teardown;
	}
	if (type == PCIPASS_IRQ_MSIX)
		pcipass_memory_unlock_and_restore(pdevice, cmd);
	return 0;

err_teardown:
	__pcipass_irq_teardown(pdevice);
	vecs = NULL;
err_free_vecs:
	if (type == PCIPASS_IRQ_MSIX)
		pcipass_memory_unlock_and_restore(pdevice, cmd);
	kfree(vecs);
	return ret;
}

/*
 * Resolve @count eventfds, copied from user space by the caller before any
 * lock was taken; all or nothing.
 */
static int pcipass_irq_get_eventfds(const s32 *fds, u32 count,
				    struct eventfd_ctx **ctxs)
{
	u32 i;
	int ret;

	for (i = 0; i < count; i++) {
		if (fds[i] == -1) {
			ctxs[i] = NULL;
			continue;
		}
		if (fds[i] < 0) {
			ret = -EBADF;
			goto err_put;
		}
		ctxs[i] = eventfd_ctx_fdget(fds[i]);
		if (IS_ERR(ctxs[i])) {
			ret = PTR_ERR(ctxs[i]);
			goto err_put;
		}
	}
	return 0;

err_put:
	while (i--)
		if (ctxs[i])
			eventfd_ctx_put(ctxs[i]);
	return ret;
}

static int pcipass_irq_set_eventfds(struct pcipass_device *pdevice,
				    u32 start, u32 count, const s32 *fds)
{
	struct eventfd_ctx **ctxs;
	unsigned long flags;
	u32 i;
	int ret;

	ctxs = kcalloc(count, sizeof(*ctxs), GFP_KERNEL);
	if (!ctxs)
		return -ENOMEM;
	ret = pcipass_irq_get_eventfds(fds, count, ctxs);
	if (ret)
		goto out_free;

	/* Swap them in; ctxs[] then holds the old ones. */
	spin_lock_irqsave(&pdevice->irq_lock, flags);
	for (i = 0; i < count; i++)
		swap(pdevice->irqs[start + i].trigger, ctxs[i]);
	spin_unlock_irqrestore(&pdevice->irq_lock, flags);

	/* A handler that read an old eventfd is done with it after this. */
	for (i = 0; i < count; i++)
		synchronize_irq(pdevice->irqs[start + i].irq);
	flush_work(&pdevice->intx_deliver);
	for (i = 0; i < count; i++)
		if (ctxs[i])
			eventfd_ctx_put(ctxs[i]);
out_free:
	kfree(ctxs);
	return ret;
}

static void pcipass_irq_mask_range(struct pcipass_device *pdevice,
				   u32 start, u32 count, bool mask)
{
	struct eventfd_ctx *trigger;
	unsigned long flags;
	u32 i;

	for (i = start; i < start + count; i++) {
		struct pcipass_irq_vector *vec = &pdevice->irqs[i];

		trigger = NULL;
		spin_lock_irqsave(&pdevice->irq_lock, flags);
		if (pdevice->irq_type == PCIPASS_IRQ_INTX && mask) {
			pcipass_intx_mask_locked(pdevice);
		} else if (pdevice->irq_type == PCIPASS_IRQ_INTX) {
			if (pcipass_intx_deliver_on_unmask(pdevice))
				trigger = vec->trigger;
		} else {
			vec->masked = mask;
			if (!mask && vec->pending) {
				vec->pending = false;
				vec->delivered++;
				trigger = vec->trigger;
			}
		}
		spin_unlock_irqrestore(&pdevice->irq_lock, flags);
		/* The context lock keeps the eventfd alive. */
		pcipass_irq_signal(trigger);
	}
}

static void pcipass_irq_trigger_range(struct pcipass_device *pdevice,
				      u32 start, u32 count)
{
	struct eventfd_ctx *trigger;
	unsigned long flags;
	u32 i;

	for (i = start; i < start + count; i++) {
		struct pcipass_irq_vector *vec = &pdevice->irqs[i];

		spin_lock_irqsave(&pdevice->irq_lock, flags);
		/* INTx as if the device raised it: automasked. */
		if (pdevice->irq_type == PCIPASS_IRQ_INTX && !vec->masked) {
			pcipass_intx_mask_locked(pdevice);
			vec->delivered++;
			trigger = vec->trigger;
		} else {
			trigger = pcipass_irq_fire(vec);
		}
		spin_unlock_irqrestore(&pdevice->irq_lock, flags);
		pcipass_irq_signal(trigger);
	}
}

/**
 * pcipass_irq_info_cmd() - describe an interrupt type of a device
 * @pdevice: the device file's attachment
 * @cmd: a kernel copy of the request; the output fields are filled
 *
 * The core of PCIPASS_DEVICE_GET_IRQ_INFO, shared with the VFIO
 * compatibility layer. Nothing is copied to user space.
 *
 * Return: 0 or an errno documented with &struct pcipass_irq_info.
 */
int pcipass_irq_info_cmd(struct pcipass_device *pdevice,
			 struct pcipass_irq_info *cmd)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	struct pci_dev *pdev = pdevice->pdev;
	u32 flags = 0;

	if (cmd->type >= PCIPASS_IRQ_NUM_TYPES)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (!pdevice->ppci) {
		mutex_unlock(&ctx->lock);
		return -ENODEV;
	}
	cmd->count = pcipass_irq_type_count(pdev, cmd->type);
	if (cmd->count)
		flags |= PCIPASS_IRQ_INFO_EVENTFD;
	if (cmd->count && cmd->type != PCIPASS_IRQ_REQ &&
	    cmd->type != PCIPASS_IRQ_ERR)
		flags |= PCIPASS_IRQ_INFO_MASKABLE;
	if (cmd->type == PCIPASS_IRQ_INTX && cmd->count) {
		flags |= PCIPASS_IRQ_INFO_AUTOMASKED;
		if (pcipass_intx_maskable(pdev))
			flags |= PCIPASS_IRQ_INFO_SHARED;
	}
	if ((cmd->type == PCIPASS_IRQ_MSI || cmd->type == PCIPASS_IRQ_MSIX) &&
	    cmd->count && pcipass_msi_allowed(pdevice, false))
		flags |= PCIPASS_IRQ_INFO_NOT_ALLOWED;
	cmd->enabled_count = 0;
	if (pdevice->irq_type == cmd->type) {
		flags |= PCIPASS_IRQ_INFO_ENABLED;
		cmd->enabled_count = pdevice->irq_count;
	} else if ((cmd->type == PCIPASS_IRQ_REQ && pdevice->req_trigger) ||
		   (cmd->type == PCIPASS_IRQ_ERR &&
		    pcipass_err_trigger_set(pdevice))) {
		flags |= PCIPASS_IRQ_INFO_ENABLED;
		cmd->enabled_count = 1;
	}
	cmd->info_flags = flags;
	mutex_unlock(&ctx->lock);
	return 0;
}

/**
 * pcipass_irq_info() - PCIPASS_DEVICE_GET_IRQ_INFO on a device file
 * @ucmd: the ioctl call, a &struct pcipass_irq_info
 *
 * Return: 0 or an errno documented with &struct pcipass_irq_info.
 */
int pcipass_irq_info(struct pcipass_ucmd *ucmd)
{
	int ret = pcipass_irq_info_cmd(ucmd->dev, ucmd->cmd);

	return ret ? ret : pcipass_ucmd_respond(ucmd);
}

/* Validate a vector range against the enabled vectors of @type. */
static int pcipass_irq_check_range(struct pcipass_device *pdevice,
				   const struct pcipass_irq_set *cmd)
{
	if (pdevice->irq_type != cmd->type)
		return -EINVAL;
	if (!cmd->count || cmd->start >= pdevice->irq_count ||
	    cmd->count > pdevice->irq_count - cmd->start)
		return -EINVAL;
	return 0;
}

/*
 * With the context lock: give an event type (%PCIPASS_IRQ_REQ or
 * %PCIPASS_IRQ_ERR) a new eventfd, or none, and drop the old one.
 */
static void pcipass_irq_event_set(struct pcipass_device *pdevice, u32 type,
				  struct eventfd_ctx *trigger)
{
	struct eventfd_ctx *old;

	lockdep_assert_held(&pdevice->ctx->lock);
	if (type == PCIPASS_IRQ_ERR) {
		old = pcipass_err_trigger_swap(pdevice, trigger);
	} else {
		old = pdevice->req_trigger;
		pdevice->req_trigger = trigger;
	}
	if (old)
		eventfd_ctx_put(old);
}

/*
 * With the context lock: SET_IRQS of %PCIPASS_IRQ_REQ or %PCIPASS_IRQ_ERR,
 * whose one vector is always there (ERR: on PCI Express). The context lock
 * guards the release request's eventfd: it is signalled from process
 * context (release.c), never from an interrupt. The error report's is also
 * under &pcipass_device.err_lock, for the PCI core's error callbacks
 * (err.c), which cannot take the context lock.
 */
static int pcipass_irq_set_event(struct pcipass_device *pdevice,
				 const struct pcipass_irq_set *cmd,
				 const s32 *fds)
{
	struct eventfd_ctx *trigger = NULL;

	if (!pcipass_irq_type_count(pdevice->pdev, cmd->type))
		return -ENODEV;
	switch (cmd->flags) {
	case PCIPASS_IRQ_SET_EVENTFD:
		if (cmd->start || cmd->count != 1)
			return -EINVAL;
		if (fds[0] < -1)
			return -EBADF;
		if (fds[0] >= 0) {
			trigger = eventfd_ctx_fdget(fds[0]);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		pcipass_irq_event_set(pdevice, cmd->type, trigger);
		return 0;
	case PCIPASS_IRQ_SET_DISABLE:
		if (cmd->start || cmd->count)
			return -EINVAL;
		pcipass_irq_event_set(pdevice, cmd->type, NULL);
		return 0;
	case PCIPASS_IRQ_SET_TRIGGER:
		if (cmd->start || cmd->count != 1)
			return -EINVAL;
		if (cmd->type == PCIPASS_IRQ_ERR)
			pcipass_err_signal(pdevice);
		else
			pcipass_irq_signal(pdevice->req_trigger);
		return 0;
	}
	return -EINVAL;
}

/**
 * pcipass_irq_req_signal() - ask the VMM to release a device
 * @pdevice: the attachment, with the context lock held
 *
 * Return: true when the VMM had set a %PCIPASS_IRQ_REQ eventfd (it was
 * signalled), false when it had none.
 */
bool pcipass_irq_req_signal(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->ctx->lock);
	pcipass_irq_signal(pdevice->req_trigger);
	return pdevice->req_trigger;
}

/*
 * With the context lock. @fds: for the actions that take eventfds, the
 * cmd->count descriptors copied from user space before the lock was taken.
 */
static int pcipass_irq_set_locked(struct pcipass_device *pdevice,
				  const struct pcipass_irq_set *cmd,
				  const s32 *fds)
{
	u32 action = cmd->flags;
	u32 max;
	int ret;

	lockdep_assert_held(&pdevice->ctx->lock);

	if (cmd->type == PCIPASS_IRQ_REQ || cmd->type == PCIPASS_IRQ_ERR)
		return pcipass_irq_set_event(pdevice, cmd, fds);

	switch (action) {
	case PCIPASS_IRQ_SET_ENABLE:
		max = pcipass_irq_type_count(pdevice->pdev, cmd->type);
		if (!max)
			return -ENODEV;
		if (cmd->start || !cmd->count || cmd->count > max)
			return -EINVAL;
		if (pdevice->irq_type != PCIPASS_IRQ_NONE)
			return -EBUSY;
		return pcipass_irq_enable(pdevice, cmd->type, cmd->count);
	case PCIPASS_IRQ_SET_DISABLE:
		if (cmd->start || cmd->count || pdevice->irq_type != cmd->type)
			return -EINVAL;
		pcipass_irq_teardown(pdevice);
		return 0;
	case PCIPASS_IRQ_SET_UNMASK_EVENTFD:
		if (cmd->type != PCIPASS_IRQ_INTX || cmd->start ||
		    cmd->count != 1 || pdevice->irq_type != PCIPASS_IRQ_INTX)
			return -EINVAL;
		if (fds[0] < -1)
			return -EBADF;
		return pcipass_intx_unmask_fd_set(pdevice, fds[0]);
	}

	ret = pcipass_irq_check_range(pdevice, cmd);
	if (ret)
		return ret;

	switch (action) {
	case PCIPASS_IRQ_SET_EVENTFD:
		return pcipass_irq_set_eventfds(pdevice, cmd->start, cmd->count,
						fds);
	case PCIPASS_IRQ_SET_TRIGGER:
		pcipass_irq_trigger_range(pdevice, cmd->start, cmd->count);
		return 0;
	case PCIPASS_IRQ_SET_MASK:
	case PCIPASS_IRQ_SET_UNMASK:
		pcipass_irq_mask_range(pdevice, cmd->start, cmd->count,
				       action == PCIPASS_IRQ_SET_MASK);
		return 0;
	}
	return -EINVAL;
}

/**
 * pcipass_irq_set_cmd() - one action on the interrupts of a device
 * @pdevice: the device file's attachment
 * @cmd: a kernel copy of the request; @cmd->data is still a user pointer
 *
 * The core of PCIPASS_DEVICE_SET_IRQS, shared with the VFIO compatibility
 * layer.
 *
 * The descriptors @data points to are copied before the context lock is
 * taken: a stalled user page must not hold the lock.
 *
 * Return: 0 or an errno documented with &struct pcipass_irq_set.
 */
int pcipass_irq_set_cmd(struct pcipass_device *pdevice,
			const struct pcipass_irq_set *cmd)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	s32 *fds = NULL;
	bool uses_data;
	int ret;

	if (hweight32(cmd->flags) != 1 || cmd->__reserved ||
	    cmd->type >= PCIPASS_IRQ_NUM_TYPES ||
	    cmd->count > PCIPASS_IRQ_MAX_VECTORS)
		return -EINVAL;
	uses_data = cmd->flags & (PCIPASS_IRQ_SET_EVENTFD |
				  PCIPASS_IRQ_SET_UNMASK_EVENTFD);
	if (uses_data != !!cmd->data)
		return -EINVAL;
	if (uses_data && cmd->count) {
		fds = memdup_array_user(u64_to_user_ptr(cmd->data), cmd->count,
					sizeof(*fds));
		if (IS_ERR(fds))
			return PTR_ERR(fds);
	}

	pcipass_device_ctx_lock(pdevice);
	if (pdevice->ppci)
		ret = pcipass_irq_set_locked(pdevice, cmd, fds);
	else
		ret = -ENODEV;
	mutex_unlock(&ctx->lock);
	kfree(fds);
	return ret;
}

/**
 * pcipass_irq_set() - PCIPASS_DEVICE_SET_IRQS on a device file
 * @ucmd: the ioctl call, a &struct pcipass_irq_set
 *
 * Return: 0 or an errno documented with &struct pcipass_irq_set.
 */
int pcipass_irq_set(struct pcipass_ucmd *ucmd)
{
	return pcipass_irq_set_cmd(ucmd->dev, ucmd->cmd);
}

/**
 * pcipass_irq_init() - set up the interrupt state of a new attachment
 * @pdevice: the attachment
 */
void pcipass_irq_init(struct pcipass_device *pdevice)
{
	spin_lock_init(&pdevice->irq_lock);
	pdevice->irq_type = PCIPASS_IRQ_NONE;
	INIT_WORK(&pdevice->intx_deliver, pcipass_intx_deliver_work);
}

/**
 * pcipass_irq_release() - free every interrupt of a device being detached
 * @pdevice: the attachment, with the context lock held
 */
void pcipass_irq_release(struct pcipass_device *pdevice)
{
	lockdep_assert_held(&pdevice->ctx->lock);
	pcipass_irq_teardown(pdevice);
	pcipass_irq_event_set(pdevice, PCIPASS_IRQ_REQ, NULL);
	pcipass_irq_event_set(pdevice, PCIPASS_IRQ_ERR, NULL);
}
