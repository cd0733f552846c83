// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics for the admin: the list of live contexts and the debugfs
 * file /sys/kernel/debug/pcipass/stat that pcipass-tool stat reads. One
 * record a line, "TYPE CTX-ID [positional fields] KEY VALUE...":
 *
 *   ctx 1 pid 123 comm qemu mode iommu devices 1 pinned_bytes 8192 mappings 2
 *   dev 1 0000:00:03.0 irq_type msi
 *   irq 1 0000:00:03.0 msi 0 count 12
 *
 * Readers must ignore record types and keys they do not know.
 *
 * Locks: pcipass_ctx_list_lock only guards the list and is never held
 * while a context's lock is awaited; pcipass_ctx.lock -> irq_lock.
 */

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pcipass.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "pcipass.h"

static DEFINE_MUTEX(pcipass_ctx_list_lock);
static LIST_HEAD(pcipass_ctx_list);	/* pcipass_ctx_list_lock */
static u64 pcipass_ctx_next_id = 1;	/* pcipass_ctx_list_lock */
static struct dentry *pcipass_debugfs_dir;

/**
 * pcipass_stat_ctx_add() - list a new context for the statistics
 * @ctx: the context, not yet visible to user space
 *
 * Records the opener's process ID and name and gives the context an ID.
 */
void pcipass_stat_ctx_add(struct pcipass_ctx *ctx)
{
	char *c;

	ctx->owner_pid = task_tgid_nr(current);
	get_task_comm(ctx->owner_comm, current);
	/* One token on a line: no white space. */
	for (c = ctx->owner_comm; *c; c++)
		if (!isgraph(*c))
			*c = '_';

	mutex_lock(&pcipass_ctx_list_lock);
	ctx->id = pcipass_ctx_next_id++;
	list_add_tail(&ctx->stat_node, &pcipass_ctx_list);
	mutex_unlock(&pcipass_ctx_list_lock);
}

/**
 * pcipass_stat_ctx_del() - take a context being closed off the list
 * @ctx: the context
 */
void pcipass_stat_ctx_del(struct pcipass_ctx *ctx)
{
	mutex_lock(&pcipass_ctx_list_lock);
	list_del(&ctx->stat_node);
	mutex_unlock(&pcipass_ctx_list_lock);
}

static const char *pcipass_mode_name(u32 mode)
{
	switch (mode) {
	case PCIPASS_CTX_MODE_IOMMU:
		return "iommu";
	case PCIPASS_CTX_MODE_NOIOMMU:
		return "noiommu";
	default:
		return "unset";
	}
}

static const char *pcipass_irq_type_name(u32 type)
{
	switch (type) {
	case PCIPASS_IRQ_INTX:
		return "intx";
	case PCIPASS_IRQ_MSI:
		return "msi";
	case PCIPASS_IRQ_MSIX:
		return "msix";
	default:
		return "none";
	}
}

static void pcipass_stat_show_device(struct seq_file *m, u64 id,
				     struct pcipass_device *pdevice)
{
	const char *addr = pci_name(pdevice->pdev);
	const char *type = pcipass_irq_type_name(pdevice->irq_type);
	unsigned long flags;
	u32 i;

	seq_printf(m, "dev %llu %s irq_type %s\n", id, addr, type);
	for (i = 0; i < pdevice->irq_count; i++) {
		u64 count;

		spin_lock_irqsave(&pdevice->irq_lock, flags);
		count = pdevice->irqs[i].delivered;
		spin_unlock_irqrestore(&pdevice->irq_lock, flags);
		seq_printf(m, "irq %llu %s %s %u count %llu\n", id, addr, type,
			   i, count);
	}
}

/*
 * The live context with the lowest ID above @after, with a reference, or
 * NULL. The list lock is held only for the look-up: a context busy with a
 * long ioctl then delays this reader alone, never an open or a close.
 */
static struct pcipass_ctx *pcipass_stat_next_ctx(u64 after)
{
	struct pcipass_ctx *ctx, *found = NULL;

	mutex_lock(&pcipass_ctx_list_lock);
	/* IDs grow along the list. */
	list_for_each_entry(ctx, &pcipass_ctx_list, stat_node) {
		if (ctx->id > after) {
			found = ctx;
			pcipass_ctx_get(found);
			break;
		}
	}
	mutex_unlock(&pcipass_ctx_list_lock);
	return found;
}

static int pcipass_stat_show(struct seq_file *m, void *unused)
{
	struct pcipass_device *pdevice;
	struct pcipass_ctx *ctx;
	u64 id = 0;
	int ret = 0;

	while ((ctx = pcipass_stat_next_ctx(id))) {
		id = ctx->id;
		ret = mutex_lock_killable(&ctx->lock);
		if (ret) {
			pcipass_ctx_put(ctx);
			break;
		}
		seq_printf(m, "ctx %llu pid %d comm %s mode %s devices %u pinned_bytes %llu mappings %u\n",
			   ctx->id, ctx->owner_pid, ctx->owner_comm,
			   pcipass_mode_name(ctx->mode), ctx->num_devices,
			   (u64)ctx->pinned_pages << PAGE_SHIFT,
			   ctx->num_mappings);
		list_for_each_entry(pdevice, &ctx->devices, node)
			pcipass_stat_show_device(m, ctx->id, pdevice);
		mutex_unlock(&ctx->lock);
		pcipass_ctx_put(ctx);
	}
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(pcipass_stat);

/**
 * pcipass_stat_init() - create /sys/kernel/debug/pcipass/stat
 *
 * Without debugfs the statistics are simply absent.
 */
void pcipass_stat_init(void)
{
	pcipass_debugfs_dir = debugfs_create_dir("pcipass", NULL);
	debugfs_create_file("stat", 0400, pcipass_debugfs_dir, NULL,
			    &pcipass_stat_fops);
}

/**
 * pcipass_stat_exit() - remove the debugfs files
 */
void pcipass_stat_exit(void)
{
	debugfs_remove_recursive(pcipass_debugfs_dir);
}
