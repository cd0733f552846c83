/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcipass-tool: declarations shared by the files of the tool: exit codes,
 * options, messages, the paths it reads (each overridable for tests), the
 * PCI device model, the JSON writer and the subcommands.
 */
#ifndef PCIPASS_TOOL_H
#define PCIPASS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define PCIPASS_TOOL_VERSION	"1.0"
#define PROG			"pcipass-tool"
#define PCIPASS_DRIVER		"pcipass"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* Exit statuses: documented in pcipass-tool.8 and in --help. */
enum {
	EX_OK = 0,		/* success; check: the host is ready */
	EX_NOTREADY = 1,	/* check: at least one FAIL */
	EX_USAGE = 2,		/* bad command line, malformed address */
	EX_NODEV = 3,		/* no such PCI device */
	EX_PERM = 4,		/* permission denied */
	EX_FAIL = 5,		/* any other failure */
	EX_REFUSED = 6,		/* bind/unbind refused: unsafe IOMMU group */
	EX_NOSTAT = 7,		/* stat: the statistics file is missing */
};

/* The command line, as parsed by main.c. */
struct opts {
	bool json;
	bool group;		/* list, bind, unbind: --group */
	bool persist;		/* bind, unbind: --persist */
	bool force;		/* bind: --force, past the safety refusals */
	bool yes;		/* bind --group: --yes, do not ask */
	const char *owner;	/* bind: --owner USER */
	double watch;		/* stat: -w SECONDS, 0 = once */
	unsigned int seen;	/* main.c: the options given, OPT_* */
	const char *nodes;	/* run: --nodes DIR, NULL = the default */
	const char *cmd;
	int nargs;
	char **args;
};

/* util.c: messages and files */
[[gnu::format(printf, 2, 3)]]
int fail(int status, const char *fmt, ...);
[[gnu::format(printf, 1, 2)]]
void warn(const char *fmt, ...);
[[gnu::format(printf, 1, 2)]]
void note(const char *fmt, ...);
const char *fail_message(void);
bool json_mode(void);
void set_json_mode(bool on);

const char *sysfs_root(void);
const char *procfs_root(void);
const char *dev_node(void);
const char *run_dir(void);
const char *sysconf_dir(void);
const char *vfio_nodes_dir(void);
const char *vfio_dir(void);
const char *modules_dir(void);
const char *kvm_node(void);

[[gnu::format(printf, 3, 4)]]
int fmt_path(char *buf, size_t len, const char *fmt, ...);
int read_text(const char *path, char *buf, size_t len);
int read_ulong(const char *path, unsigned long *val);
int read_link_name(const char *path, char *buf, size_t len);
int write_text(const char *path, const char *text);
ssize_t read_bytes(const char *path, unsigned char *buf, size_t len);
bool path_exists(const char *path);
bool dir_has_entries(const char *path);
int errno_status(int err);
void human_size(unsigned long long bytes, char *buf, size_t len);
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void str_copy(char *dst, const char *src, size_t size);
void id_name(const char *file, unsigned int id, char *buf, size_t len);
void uid_name(unsigned int uid, char *buf, size_t len);

/* pci.c: the devices and their IOMMU groups */
#define ADDR_LEN	24
#define NAME_LEN	64

struct pci_dev {
	char addr[ADDR_LEN];		/* "0000:00:03.0" */
	unsigned int vendor, device;
	unsigned int subvendor, subdevice;
	unsigned int class;		/* 24 bits: class, subclass, prog-if */
	int revision;			/* -1: unknown */
	int header_type;		/* bits 6:0 of config 0x0e, -1: unknown */
	int group;			/* IOMMU group, -1: none */
	int numa_node;
	char driver[NAME_LEN];		/* "": no driver */
	char override[NAME_LEN];	/* driver_override, "": none */
};

struct pci_list {
	struct pci_dev *dev;
	int n;
};

enum verdict {
	VERDICT_READY,
	VERDICT_NEEDS_BIND,
	VERDICT_NOT_VIABLE,
};

#define MAX_REASONS	16
#define REASON_LEN	160

struct passability {
	enum verdict verdict;
	int nreasons;
	char reasons[MAX_REASONS][REASON_LEN];
};

/* A device of an IOMMU group; @dev is NULL when it is not a PCI device. */
struct group_member {
	char addr[ADDR_LEN];
	char driver[NAME_LEN];
	struct pci_dev *dev;
};

int pci_scan(struct pci_list *list);
int pci_group_members(struct pci_list *list, int group,
		      struct group_member **out);
void pci_list_free(struct pci_list *list);
struct pci_dev *pci_find(struct pci_list *list, const char *addr);
int pci_select(struct pci_list *list, int nargs, char **args,
	       struct pci_dev ***out, int *nout);
int pci_parse_addr(const char *s, char *addr, size_t len);
bool pci_is_bridge(const struct pci_dev *dev);
bool driver_is_harmless(const char *driver);
bool module_param_set(const char *name);
void pci_judge(struct pci_list *list, struct pci_dev *dev,
	       struct passability *p);
const char *verdict_name(enum verdict v);
void verdict_text(const struct passability *p, char *buf, size_t len);
void pci_describe(const struct pci_dev *dev, char *buf, size_t len);
void json_pci_fields(struct pci_dev *dev);
void json_pci_dev(const char *key, struct pci_list *list,
		  struct pci_dev *dev);

void persist_rule_path(const struct pci_dev *dev, char *buf, size_t len);
bool pci_persisted(const struct pci_dev *dev, char *rule, size_t len);
void pci_owner(const struct pci_dev *dev, char *buf, size_t len);

/* safety.c: what the host needs for itself */
bool host_needs(const struct pci_dev *dev, char *why, size_t len);

/* pciids.c: names from pci.ids, and built-in class names */
void pciids_names(const struct pci_dev *dev, char *vendor, char *device,
		  char *cls, size_t len);

/* json.c: a small JSON writer that buffers one document */
void json_begin(void);
void json_discard(void);
void json_flush(FILE *out, bool pretty);
void json_obj(const char *key);
void json_arr(const char *key);
void json_end(void);
void json_str(const char *key, const char *val);
void json_int(const char *key, long long val);
void json_bool(const char *key, bool val);
void json_null(const char *key);
void json_hex(const char *key, unsigned int val, int digits);

/* config.c: config space, BARs and capabilities */
struct bar {
	int index;			/* 0-5, 6 = expansion ROM */
	unsigned long long start, size;
	const char *type;		/* "mem32", "mem64", "io" */
	bool prefetch;
};

struct cap {
	unsigned int offset;
	unsigned int id;
	bool extended;
	unsigned int version;		/* extended capabilities */
	char detail[96];
};

#define MAX_BARS	7
#define MAX_CAPS	64

struct irq_info {
	int intx_pin;			/* 0: none, 1-4: INTA-INTD */
	int irq;			/* -1: unknown */
	bool msi;
	int msi_vectors;
	bool msi_64bit, msi_maskable;
	bool msix;
	int msix_vectors;
};

struct dev_config {
	unsigned char raw[4096];
	int len;			/* bytes read; 64 for non-root */
	struct bar bars[MAX_BARS];
	int nbars;
	struct cap caps[MAX_CAPS];
	int ncaps;
	struct irq_info irq;
};

int config_read(const struct pci_dev *dev, struct dev_config *cfg);
const char *cap_name(unsigned int id, bool extended);

/* cmd_*.c: the subcommands; each returns an exit status */
int cmd_list(struct opts *o);
int cmd_check(struct opts *o);
int cmd_bind(struct opts *o);
int cmd_unbind(struct opts *o);
int cmd_info(struct opts *o);
int cmd_stat(struct opts *o);
int cmd_run(struct opts *o);

/* cmd_check.c: host facts also used by info */
bool module_loaded(void);

/* cmd_stat.c: the parsed statistics, also used by info */
struct stat_irq {
	char type[16];
	int vector;
	unsigned long long count;
};

struct stat_dev {
	char addr[ADDR_LEN];
	char irq_type[16];
	struct stat_irq *irqs;
	int nirqs;
};

struct stat_ctx {
	long long id;
	long long pid;
	char comm[NAME_LEN];
	char mode[16];
	long long devices;
	long long pinned_bytes;
	long long mappings;
	struct stat_dev *devs;
	int ndevs;
};

struct stats {
	struct stat_ctx *ctx;
	int nctx;
};

const char *stat_path(char *buf, size_t len);
int stat_parse(FILE *f, struct stats *st);
int stat_read(struct stats *st);
void stat_free(struct stats *st);

#endif /* PCIPASS_TOOL_H */
