// SPDX-License-Identifier: GPL-2.0
/*
 * The pcipass PCI driver: claims devices for passthrough in place of
 * pci-stub. It owns the "ids=" list, probe and remove, and the state a
 * device has while it is bound to pcipass, including the pcipass_owner
 * sysfs attribute by which the admin gives one device to one user. It has no static ID table: a
 * device is claimed through "ids=", new_id or driver_override only.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uidgid.h>
#include <kunit/visibility.h>

#include "pcipass.h"

#define PCIPASS_ID_MAX_FIELDS	6
#define PCIPASS_ID16_MAX	0xffff
#define PCIPASS_CLASS_MAX	0xffffff

static int pcipass_parse_id_field(const char *field, u32 max, bool any_ok,
				  u32 *val)
{
	unsigned int v;

	if (kstrtouint(field, 16, &v))
		return -EINVAL;
	if (v > max && !(any_ok && v == PCI_ANY_ID))
		return -EINVAL;
	*val = v;
	return 0;
}

/**
 * pcipass_parse_id() - parse one entry of the "ids=" module parameter
 * @str: "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]", every
 *	field hexadecimal, as pci-stub and the new_id sysfs file take it
 * @id: filled on success; omitted subvendor and subdevice match any value,
 *	omitted class and class_mask match any class
 *
 * Vendor and device are at most 0xffff, subvendor and subdevice at most
 * 0xffff or exactly ffffffff (any), class and class_mask at most 0xffffff.
 *
 * Return: 0, or -EINVAL when @str is not such an entry.
 */
int pcipass_parse_id(const char *str, struct pci_device_id *id)
{
	static const u32 field_max[PCIPASS_ID_MAX_FIELDS] = {
		PCIPASS_ID16_MAX, PCIPASS_ID16_MAX, PCIPASS_ID16_MAX,
		PCIPASS_ID16_MAX, PCIPASS_CLASS_MAX, PCIPASS_CLASS_MAX,
	};
	u32 val[PCIPASS_ID_MAX_FIELDS] = {
		0, 0, PCI_ANY_ID, PCI_ANY_ID, 0, 0,
	};
	char *copy, *cursor, *field;
	int nfields = 0;
	int ret = 0;

	copy = kstrdup(str, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;

	cursor = copy;
	while ((field = strsep(&cursor, ":"))) {
		bool any_ok = nfields == 2 || nfields == 3;

		if (nfields == PCIPASS_ID_MAX_FIELDS) {
			ret = -EINVAL;
			break;
		}
		ret = pcipass_parse_id_field(field, field_max[nfields], any_ok,
					     &val[nfields]);
		if (ret)
			break;
		nfields++;
	}
	kfree(copy);
	if (ret)
		return ret;
	if (nfields < 2)
		return -EINVAL;

	*id = (struct pci_device_id) {
		.vendor = val[0],
		.device = val[1],
		.subvendor = val[2],
		.subdevice = val[3],
		.class = val[4],
		.class_mask = val[5],
	};
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_parse_id);

static int pcipass_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pcipass_pci *ppci;
	u16 cmd;

	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) {
		pci_warn(pdev, "not claimed: header type %#x is not a type-0 endpoint header (bridges cannot be passed through)\n",
			 pdev->hdr_type);
		return -ENODEV;
	}

	ppci = kzalloc(sizeof(*ppci), GFP_KERNEL);
	if (!ppci)
		return -ENOMEM;
	ppci->pdev = pdev;
	ppci->owner = INVALID_UID;
	pcipass_unplug_watch_init(ppci);

	/*
	 * The device stays disabled until a context attaches it. Firmware or
	 * a previous driver may have left decoding or bus mastering on: turn
	 * them off so the device can neither be reached nor reach memory.
	 */
	pci_clear_master(pdev);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	ppci->saved_decode = cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	cmd &= ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	pci_write_config_word(pdev, PCI_COMMAND, cmd);

	pci_set_drvdata(pdev, ppci);
	pcipass_vfio_pci_add(pdev);
	pci_info(pdev, "claimed for passthrough\n");
	return 0;
}

static void pcipass_remove(struct pci_dev *pdev)
{
	struct pcipass_pci *ppci = pci_get_drvdata(pdev);
	u16 cmd;

	/* A context still using the device loses it now. */
	pcipass_unplug_watch_stop(ppci);
	pcipass_pci_revoke(ppci);
	pcipass_sriov_remove(ppci);
	pcipass_vfio_pci_del(pdev);

	/* Give the next driver the decoding firmware had set up. */
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	cmd |= ppci->saved_decode;
	pci_write_config_word(pdev, PCI_COMMAND, cmd);

	pci_set_drvdata(pdev, NULL);
	kfree(ppci);
	pci_info(pdev, "released by pcipass\n");
}

/*
 * pcipass_owner: the user the admin gave this device to. A context opened
 * by that user may attach the device without CAP_SYS_ADMIN; "none" (the
 * default) leaves it to privileged contexts. Read and written under
 * device_lock(), which an attach holds too.
 */
static ssize_t pcipass_owner_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct pcipass_pci *ppci = dev_get_drvdata(dev);
	kuid_t owner;

	device_lock(dev);
	owner = ppci->owner;
	device_unlock(dev);
	if (!uid_valid(owner))
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%u\n", from_kuid_munged(current_user_ns(), owner));
}

static ssize_t pcipass_owner_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct pcipass_pci *ppci = dev_get_drvdata(dev);
	kuid_t owner = INVALID_UID;
	u32 uid;

	if (!sysfs_streq(buf, "none")) {
		if (kstrtou32(buf, 10, &uid))
			return -EINVAL;
		owner = make_kuid(current_user_ns(), uid);
		if (!uid_valid(owner))
			return -EINVAL;
	}
	device_lock(dev);
	ppci->owner = owner;
	device_unlock(dev);
	return count;
}
static DEVICE_ATTR_RW(pcipass_owner);

static struct attribute *pcipass_dev_attrs[] = {
	&dev_attr_pcipass_owner.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pcipass_dev);

static struct pci_driver pcipass_pci_driver = {
	.name = "pcipass",
	.id_table = NULL,
	.probe = pcipass_probe,
	.remove = pcipass_remove,
	.sriov_configure = pcipass_sriov_configure,
	.driver_managed_dma = true,
	.err_handler = &pcipass_err_handlers,
	.dev_groups = pcipass_dev_groups,
};

/**
 * pcipass_driver_owns() - is a device bound to pcipass?
 * @pdev: the device; the caller holds device_lock() or accepts a stale
 *	answer
 *
 * Return: true when @pdev is bound to the pcipass driver.
 */
bool pcipass_driver_owns(struct pci_dev *pdev)
{
	return READ_ONCE(pdev->dev.driver) == &pcipass_pci_driver.driver;
}

static void pcipass_add_ids(const char *ids)
{
	char *copy, *cursor, *entry;

	copy = kstrdup(ids, GFP_KERNEL);
	if (!copy)
		return;

	cursor = copy;
	while ((entry = strsep(&cursor, ","))) {
		struct pci_device_id id;
		int ret;

		if (!*entry)
			continue;
		ret = pcipass_parse_id(entry, &id);
		if (ret) {
			pr_warn("ids=: skipping invalid entry \"%s\" (expected vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex)\n",
				entry);
			continue;
		}
		ret = pci_add_dynid(&pcipass_pci_driver, id.vendor, id.device,
				    id.subvendor, id.subdevice, id.class,
				    id.class_mask, 0);
		if (ret) {
			pr_warn("ids=: cannot add \"%s\": %d\n", entry, ret);
			continue;
		}
		pr_info("ids=: claiming %04x:%04x sub %04x:%04x class %06x/%06x\n",
			id.vendor, id.device, id.subvendor, id.subdevice,
			id.class, id.class_mask);
	}
	kfree(copy);
}

/**
 * pcipass_driver_register() - register the PCI driver and claim devices
 * @ids: the "ids=" module parameter, or NULL
 *
 * Invalid entries of @ids are logged and skipped; they do not fail the
 * registration.
 *
 * Return: 0, or the errno of pci_register_driver().
 */
int pcipass_driver_register(const char *ids)
{
	int ret;

	ret = pci_register_driver(&pcipass_pci_driver);
	if (ret)
		return ret;
	if (ids)
		pcipass_add_ids(ids);
	return 0;
}

/**
 * pcipass_driver_unregister() - release every device and unregister
 */
void pcipass_driver_unregister(void)
{
	pci_unregister_driver(&pcipass_pci_driver);
}
