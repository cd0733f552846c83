// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool info: everything about one device that matters for
 * passthrough: BARs, capabilities, interrupts, reset methods, IOMMU group
 * and its members, NUMA node, and every reason it cannot be passed through
 * right now.
 */
#include <stdlib.h>
#include <string.h>

#include "pcipass-tool.h"

struct findings {
	struct passability p;		/* reasons: why not now */
	int nwarn;
	char warn[4][REASON_LEN];
};

static void add_reason(struct findings *f, const char *text)
{
	if (f->p.nreasons < MAX_REASONS)
		str_copy(f->p.reasons[f->p.nreasons++], text, REASON_LEN);
}

/* The context @addr is attached to, from the stat file, if any. */
static bool attached_to(const char *addr, char *buf, size_t len)
{
	struct stats st;
	char path[512];
	bool found = false;
	int i, j;
	FILE *f;

	f = fopen(stat_path(path, sizeof(path)), "re");
	if (!f)
		return false;
	if (stat_parse(f, &st) == 0) {
		for (i = 0; i < st.nctx && !found; i++) {
			for (j = 0; j < st.ctx[i].ndevs && !found; j++) {
				if (strcmp(st.ctx[i].devs[j].addr, addr))
					continue;
				snprintf(buf, len, "attached to context %lld (pid %lld, %s)",
					 st.ctx[i].id, st.ctx[i].pid,
					 st.ctx[i].comm[0] ? st.ctx[i].comm :
					 "?");
				found = true;
			}
		}
	}
	stat_free(&st);
	fclose(f);
	return found;
}

static void judge(struct pci_list *list, struct pci_dev *dev,
		  const struct dev_config *cfg, const char *resets,
		  struct findings *f)
{
	char text[REASON_LEN + 64];

	memset(f, 0, sizeof(*f));
	pci_judge(list, dev, &f->p);
	if (!module_loaded())
		add_reason(f, "pcipass is not loaded: modprobe pcipass");
	if (strcmp(dev->driver, PCIPASS_DRIVER) && !pci_is_bridge(dev)) {
		if (dev->driver[0])
			snprintf(text, sizeof(text), "bound to %s, not pcipass: %s bind %s",
				 dev->driver, PROG, dev->addr);
		else
			snprintf(text, sizeof(text), "bound to no driver, not pcipass: %s bind %s",
				 PROG, dev->addr);
		add_reason(f, text);
	}
	if (attached_to(dev->addr, text, sizeof(text)))
		add_reason(f, text);
	if (strcmp(dev->driver, PCIPASS_DRIVER) &&
	    host_needs(dev, text, sizeof(text)) && f->p.nreasons < MAX_REASONS)
		snprintf(f->p.reasons[f->p.nreasons++], REASON_LEN,
			 "the host needs it: %.120s (bind --force)", text);
	if (!resets[0])
		snprintf(f->warn[f->nwarn++], REASON_LEN,
			 "no reset method: the device's state can leak from one guest to the next");
	if (cfg->len <= 64)
		snprintf(f->warn[f->nwarn++], REASON_LEN,
			 "only %d bytes of config space are readable (run as root to see capabilities)",
			 cfg->len);
}

static const char *pin_name(int pin)
{
	static const char * const pins[] = { "none", "A", "B", "C", "D" };

	return pin >= 0 && pin <= 4 ? pins[pin] : "?";
}

static void print_info(struct pci_list *list, struct pci_dev *dev,
		       const struct dev_config *cfg, const char *resets,
		       const struct findings *f)
{
	char desc[1024], size[32], rule[512], owner[96];
	const struct irq_info *q = &cfg->irq;
	struct group_member *m;
	int i, n;

	pci_describe(dev, desc, sizeof(desc));
	printf("%s %s\n", dev->addr, desc);
	printf("\tSubsystem: [%04x:%04x]\n", dev->subvendor, dev->subdevice);
	printf("\tDriver: %s", dev->driver[0] ? dev->driver : "none");
	if (dev->override[0])
		printf(" (driver_override %s)", dev->override);
	if (pci_persisted(dev, rule, sizeof(rule)))
		printf("\n\tAt boot: pcipass (bind --persist: %s)", rule);
	else
		printf("\n\tAt boot: not persisted");
	pci_owner(dev, owner, sizeof(owner));
	if (owner[0])
		printf("\n\tOwner: %s", owner);
	printf("\n\tNUMA node: ");
	if (dev->numa_node >= 0)
		printf("%d\n", dev->numa_node);
	else
		printf("none\n");
	if (dev->group >= 0) {
		printf("\tIOMMU group %d:", dev->group);
		n = pci_group_members(list, dev->group, &m);
		for (i = 0; i < n; i++)
			printf("%s %s (%s)", i ? "," : "", m[i].addr,
			       m[i].driver[0] ? m[i].driver : "no driver");
		printf("\n");
		free(m);
	} else {
		printf("\tIOMMU group: none\n");
	}
	printf("\tBARs:%s\n", cfg->nbars ? "" : " none");
	for (i = 0; i < cfg->nbars; i++) {
		const struct bar *b = &cfg->bars[i];

		human_size(b->size, size, sizeof(size));
		if (b->index == 6)
			printf("\t\tROM: %s (0x%llx) at 0x%llx\n", size, b->size,
			       b->start);
		else
			printf("\t\tBAR %d: %s%s, %s (0x%llx) at 0x%llx\n",
			       b->index, b->type,
			       b->prefetch ? " prefetchable" : "", size,
			       b->size, b->start);
	}
	printf("\tInterrupts: INTx pin %s", pin_name(q->intx_pin));
	if (q->intx_pin && q->irq >= 0)
		printf(" (irq %d)", q->irq);
	if (q->msi)
		printf("; MSI: %d vector%s", q->msi_vectors,
		       q->msi_vectors == 1 ? "" : "s");
	if (q->msix)
		printf("; MSI-X: %d vector%s", q->msix_vectors,
		       q->msix_vectors == 1 ? "" : "s");
	if (cfg->len <= 64)
		printf("; MSI and MSI-X: unknown (needs root)");
	printf("\n\tCapabilities:%s\n", cfg->ncaps ? "" :
	       cfg->len <= 64 ? " unknown (needs root)" : " none");
	for (i = 0; i < cfg->ncaps; i++) {
		const struct cap *c = &cfg->caps[i];

		printf("\t\t[%03x] %s%s%s\n", c->offset,
		       cap_name(c->id, c->extended),
		       c->detail[0] ? ": " : "", c->detail);
	}
	printf("\tReset methods: %s\n", resets[0] ? resets : "none");
	printf("\tPassthrough: %s\n", f->p.verdict == VERDICT_READY ? "ready" :
	       f->p.verdict == VERDICT_NEEDS_BIND ? "needs bind" :
	       "not viable");
	if (f->p.nreasons)
		printf("\tWhy it cannot be passed through now:\n");
	for (i = 0; i < f->p.nreasons; i++)
		printf("\t\t- %s\n", f->p.reasons[i]);
	for (i = 0; i < f->nwarn; i++)
		printf("\tWarning: %s\n", f->warn[i]);
}

static void json_info(struct pci_list *list, struct pci_dev *dev,
		      const struct dev_config *cfg, const char *resets,
		      const struct findings *f)
{
	const struct irq_info *q = &cfg->irq;
	struct group_member *m;
	char copy[256], *tok, *save;
	int i, n;

	json_obj(NULL);
	json_pci_fields(dev);
	json_arr("iommu_group_members");
	n = dev->group >= 0 ? pci_group_members(list, dev->group, &m) : 0;
	for (i = 0; i < n; i++) {
		json_obj(NULL);
		json_str("address", m[i].addr);
		json_str("driver", m[i].driver[0] ? m[i].driver : NULL);
		json_end();
	}
	if (dev->group >= 0)
		free(m);
	json_end();
	json_arr("bars");
	for (i = 0; i < cfg->nbars; i++) {
		json_obj(NULL);
		json_int("index", cfg->bars[i].index);
		json_str("type", cfg->bars[i].type);
		json_bool("prefetchable", cfg->bars[i].prefetch);
		json_int("start", (long long)cfg->bars[i].start);
		json_int("size", (long long)cfg->bars[i].size);
		json_end();
	}
	json_end();
	json_int("config_size", cfg->len);
	json_arr("capabilities");
	for (i = 0; i < cfg->ncaps; i++) {
		json_obj(NULL);
		json_int("offset", cfg->caps[i].offset);
		json_hex("id", cfg->caps[i].id, cfg->caps[i].extended ? 4 : 2);
		json_bool("extended", cfg->caps[i].extended);
		json_str("name", cap_name(cfg->caps[i].id,
					  cfg->caps[i].extended));
		json_str("detail", cfg->caps[i].detail);
		json_end();
	}
	json_end();
	json_obj("interrupts");
	if (q->intx_pin)
		json_str("intx_pin", pin_name(q->intx_pin));
	else
		json_null("intx_pin");
	if (q->irq >= 0)
		json_int("irq", q->irq);
	else
		json_null("irq");
	json_int("msi_vectors", q->msi ? q->msi_vectors : 0);
	json_bool("msi_64bit", q->msi_64bit);
	json_bool("msi_maskable", q->msi_maskable);
	json_int("msix_vectors", q->msix ? q->msix_vectors : 0);
	json_end();
	json_arr("reset_methods");
	snprintf(copy, sizeof(copy), "%s", resets);
	for (tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		json_str(NULL, tok);
	json_end();
	json_str("verdict", verdict_name(f->p.verdict));
	json_arr("reasons");
	for (i = 0; i < f->p.nreasons; i++)
		json_str(NULL, f->p.reasons[i]);
	json_end();
	json_arr("warnings");
	for (i = 0; i < f->nwarn; i++)
		json_str(NULL, f->warn[i]);
	json_end();
	json_end();
}

int cmd_info(struct opts *o)
{
	struct pci_dev **devs;
	struct dev_config *cfg;
	struct pci_list list;
	struct findings f;
	char path[512], resets[256];
	int ndevs, i, ret;

	ret = pci_scan(&list);
	if (ret)
		return ret;
	ret = pci_select(&list, o->nargs, o->args, &devs, &ndevs);
	if (ret)
		goto out;
	cfg = xcalloc(1, sizeof(*cfg));
	if (json_mode())
		json_arr("devices");
	for (i = 0; i < ndevs; i++) {
		ret = config_read(devs[i], cfg);
		if (ret) {
			ret = fail(errno_status(ret), "%s: reading config space: %s",
				   devs[i]->addr, strerror(-ret));
			break;
		}
		fmt_path(path, sizeof(path), "%s/bus/pci/devices/%s/reset_method",
			 sysfs_root(), devs[i]->addr);
		if (read_text(path, resets, sizeof(resets)))
			resets[0] = '\0';
		judge(&list, devs[i], cfg, resets, &f);
		if (json_mode()) {
			json_info(&list, devs[i], cfg, resets, &f);
		} else {
			if (i)
				printf("\n");
			print_info(&list, devs[i], cfg, resets, &f);
		}
	}
	if (json_mode())
		json_end();
	free(cfg);
	free(devs);
out:
	pci_list_free(&list);
	return ret;
}
