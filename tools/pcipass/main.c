// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: the command line. Owns option parsing, the help text,
 * dispatch to the subcommands, and the JSON document's envelope
 * ("command", "exit_status" and, on failure, "error").
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pcipass.h>

#include "pcipass-tool.h"

/* The options a command takes (struct opts), one bit each. */
enum {
	OPT_GROUP	= 1 << 0,
	OPT_PERSIST	= 1 << 1,
	OPT_WATCH	= 1 << 2,
	OPT_FORCE	= 1 << 3,
	OPT_YES		= 1 << 4,
	OPT_OWNER	= 1 << 5,
	OPT_NODES	= 1 << 6,
};

/* A subcommand: one entry of commands[] is all a new one needs here. */
struct command {
	const char *name;
	int (*run)(struct opts *o);
	int min_args, max_args;	/* max -1: any number */
	unsigned int opts;	/* OPT_* it accepts */
	const char *usage;
};

static const struct command commands[] = {
	{ "list", cmd_list, 0, 0, OPT_GROUP,
	  "list [--group]\n"
	  "    Every PCI device with its IOMMU group, its driver, whether it\n"
	  "    can be passed through and its persisted binding. --group: by\n"
	  "    IOMMU group.\n" },
	{ "check", cmd_check, 0, 0, 0,
	  "check\n"
	  "    Is this host ready for pcipass: one PASS/WARN/FAIL/INFO line\n"
	  "    per check, with a fix. Exit status 1 when any check FAILs.\n" },
	{ "bind", cmd_bind, 1, -1,
	  OPT_GROUP | OPT_PERSIST | OPT_FORCE | OPT_YES | OPT_OWNER,
	  "bind [--group [--yes]] [--persist] [--owner USER] [--force] DEVICE...\n"
	  "    Move devices to pcipass. --group: every device of their IOMMU\n"
	  "    groups (listed, then asked unless --yes). --persist: also after\n"
	  "    a reboot (udev rule). --owner: who may attach it without root.\n"
	  "    --force: bind a device the host needs (see pcipass-tool(8)).\n" },
	{ "unbind", cmd_unbind, 1, -1, OPT_GROUP | OPT_PERSIST,
	  "unbind [--group] [--persist] DEVICE...\n"
	  "    Give devices back to the driver they had before bind.\n"
	  "    --persist: also remove the rule written by bind --persist.\n" },
	{ "info", cmd_info, 1, -1, 0,
	  "info DEVICE...\n"
	  "    BARs, capabilities, interrupts, reset methods, IOMMU group,\n"
	  "    NUMA node, owner, persisted binding, and why the device cannot\n"
	  "    be passed through now.\n" },
	{ "stat", cmd_stat, 0, 0, OPT_WATCH,
	  "stat [-w [SECONDS]]\n"
	  "    Live contexts, attached devices, pinned memory, mappings and\n"
	  "    interrupts per vector. -w: refresh every SECONDS (2).\n" },
	{ "run", cmd_run, 1, -1, OPT_NODES,
	  "run [--nodes DIR] -- COMMAND [ARG...]\n"
	  "    Run COMMAND in a private mount namespace where pcipass's VFIO\n"
	  "    nodes (DIR, default /dev/pcipass-vfio) are at /dev/vfio.\n" },
};

#define NCOMMANDS ARRAY_SIZE(commands)

/* getopt_long's table; the help text below lists the same options. */
/* Long options without a short one. */
#define OPT_CHAR_NODES	256

static const struct option long_opts[] = {
	{ "json",	no_argument,		NULL, 'j' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "group",	no_argument,		NULL, 'g' },
	{ "persist",	no_argument,		NULL, 'p' },
	{ "watch",	optional_argument,	NULL, 'w' },
	{ "force",	no_argument,		NULL, 'f' },
	{ "yes",	no_argument,		NULL, 'y' },
	{ "owner",	required_argument,	NULL, 'o' },
	{ "nodes",	required_argument,	NULL, OPT_CHAR_NODES },
	{ NULL, 0, NULL, 0 }
};

static const char short_opts[] = ":jhVgpw::fyo:";
/* run: options end at COMMAND, whose own options they are. */
static const char short_opts_run[] = "+:jhVgpw::fyo:";

/*
 * The index of the first word that is not an option or an option's
 * value, or -1 (stops at "--").
 */
static int first_word(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			return -1;
		if (a[0] != '-' || !a[1])
			return i;
		/* The options whose value may be the next word. */
		if (!strcmp(a, "--nodes") || !strcmp(a, "--owner") ||
		    !strcmp(a, "-o"))
			i++;
	}
	return -1;
}

/* OPT_* of an option character, and the name used in messages. */
static const struct {
	int c;
	unsigned int bit;
	const char *name;
} opt_bits[] = {
	{ 'g', OPT_GROUP, "--group" },
	{ 'p', OPT_PERSIST, "--persist" },
	{ 'w', OPT_WATCH, "-w/--watch" },
	{ 'f', OPT_FORCE, "--force" },
	{ 'y', OPT_YES, "--yes" },
	{ 'o', OPT_OWNER, "--owner" },
	{ OPT_CHAR_NODES, OPT_NODES, "--nodes" },
};

static void print_usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: %s [--json] COMMAND [OPTIONS] [DEVICE...]\n"
		"Prepare PCI devices of this host for passthrough with pcipass.\n\n"
		"Commands:\n", PROG);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s", commands[i].usage);
	fprintf(out,
		"  help [COMMAND]\n"
		"    This text, or the help of one command.\n\n"
		"DEVICE is a PCI address, [DOMAIN:]BUS:DEV.FN (00:04.0,\n"
		"0000:00:04.0), or VENDOR:DEVICE in hex (1b36:0010): every match.\n\n"
		"Options (before or after the command; short ones combine: -jg):\n"
		"  -j, --json              print one JSON document on stdout\n"
		"  -g, --group             list: by IOMMU group; bind, unbind: whole groups\n"
		"  -p, --persist           bind, unbind: also the udev rule for boot\n"
		"  -o, --owner=USER        bind: the user (or uid) who may attach it\n"
		"  -y, --yes               bind --group: do not ask\n"
		"  -f, --force             bind: even a device the host needs\n"
		"  -w, --watch[=SECONDS]   stat: refresh every SECONDS (0.1-86400, 2)\n"
		"      --nodes=DIR         run: pcipass's VFIO nodes (/dev/pcipass-vfio)\n"
		"  -h, --help              print help and exit\n"
		"  -V, --version           print the version and exit\n\n"
		"Exit status:\n"
		"  0  success (check: the host is ready)\n"
		"  1  check: the host is not ready (a check FAILed)\n"
		"  2  usage error: bad command line or malformed address\n"
		"  3  no such PCI device\n"
		"  4  permission denied (most commands that change things need root)\n"
		"  5  other failure\n"
		"  6  bind/unbind refused: it would split an IOMMU group, the\n"
		"     device cannot be passed through (a bridge), or the host\n"
		"     needs it (without --force), or the answer was no\n"
		"  7  stat: pcipass provides no statistics (or debugfs is not mounted)\n"
		"  126, 127  run: COMMAND could not be started (127: not found);\n"
		"     otherwise run exits with COMMAND's status\n\n"
		"See pcipass-tool(8).\n");
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* SECONDS of -w: a decimal number, 0.1 to 86400. */
static int parse_watch(const char *val, struct opts *o)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (!isdigit((unsigned char)val[0]) || *end || errno ||
	    !(v >= 0.1 && v <= 86400))
		return fail(EX_USAGE, "-w: %s: not a number of seconds (0.1-86400)",
			    val);
	o->watch = v;
	return 0;
}

static bool looks_like_number(const char *s)
{
	return s && isdigit((unsigned char)s[0]) && !strchr(s, ':');
}

/*
 * getopt_long, permuting: options may stand before or after the command,
 * "--" ends them. The first other word is the command, the rest its
 * arguments. -w takes an optional argument: "-w0.5", "--watch=0.5", or a
 * number as the next word ("-w 5"). For run, the options end at COMMAND:
 * "run --nodes DIR qemu-system-x86_64 -m 2G" leaves -m to QEMU.
 */
static int parse(int argc, char **argv, struct opts *o, bool *help,
		 bool *version)
{
	const char *opts = short_opts;
	int c, i, ret, w;

	memset(o, 0, sizeof(*o));
	o->args = xcalloc(argc, sizeof(*o->args));
	w = first_word(argc, argv);
	if (w > 0 && !strcmp(argv[w], "run")) {
		/* Take "run" out; getopt then stops at COMMAND. */
		o->cmd = argv[w];
		memmove(&argv[w], &argv[w + 1], (argc - w) * sizeof(*argv));
		argc--;
		opts = short_opts_run;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, opts, long_opts, NULL)) != -1) {
		for (i = 0; i < (int)ARRAY_SIZE(opt_bits); i++)
			if (opt_bits[i].c == c)
				o->seen |= opt_bits[i].bit;
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'h':
			*help = true;
			break;
		case 'V':
			*version = true;
			break;
		case 'g':
			o->group = true;
			break;
		case 'p':
			o->persist = true;
			break;
		case 'f':
			o->force = true;
			break;
		case 'y':
			o->yes = true;
			break;
		case 'o':
			o->owner = optarg;
			break;
		case OPT_CHAR_NODES:
			o->nodes = optarg;
			break;
		case 'w':
			o->watch = 2;
			if (!optarg && optind < argc &&
			    looks_like_number(argv[optind]))
				optarg = argv[optind++];
			if (optarg) {
				ret = parse_watch(optarg, o);
				if (ret)
					return ret;
			}
			break;
		case ':':
			return fail(EX_USAGE, "%s: needs a value (try %s --help)",
				    argv[optind - 1], PROG);
		default:
			if (optopt)
				return fail(EX_USAGE, "-%c: unknown option (try %s --help)",
					    optopt, PROG);
			return fail(EX_USAGE, "%s: unknown option (try %s --help)",
				    argv[optind - 1], PROG);
		}
	}
	for (i = optind; i < argc; i++) {
		if (!o->cmd)
			o->cmd = argv[i];
		else
			o->args[o->nargs++] = argv[i];
	}
	return 0;
}

/* Options that the command does not take are usage errors. */
static int validate(const struct command *c, struct opts *o)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opt_bits); i++)
		if ((o->seen & opt_bits[i].bit) && !(c->opts & opt_bits[i].bit))
			return fail(EX_USAGE, "%s: %s is not an option of this command",
				    c->name, opt_bits[i].name);
	if (o->yes && !o->group)
		return fail(EX_USAGE, "%s: --yes goes with --group", c->name);
	/* COMMAND replaces the tool: there is no JSON document to finish. */
	if (o->json && (c->opts & OPT_NODES))
		return fail(EX_USAGE, "%s: --json is not an option of this command",
			    c->name);
	if (o->nargs < c->min_args)
		return fail(EX_USAGE, "%s: which %s? usage: %s %.*s",
			    c->name, c->opts & OPT_NODES ? "command" : "device",
			    PROG,
			    (int)strcspn(c->usage, "\n"), c->usage);
	if (c->max_args >= 0 && o->nargs > c->max_args)
		return fail(EX_USAGE, "%s: unexpected argument '%s'", c->name,
			    o->args[c->max_args]);
	return 0;
}

static int print_help(struct opts *o)
{
	const struct command *c;
	const char *name = o->nargs ? o->args[0] :
			   (o->cmd && strcmp(o->cmd, "help") ? o->cmd : NULL);

	if (!name) {
		print_usage(stdout);
		return EX_OK;
	}
	c = find_command(name);
	if (!c)
		return fail(EX_USAGE, "%s: unknown command (try %s --help)",
			    name, PROG);
	printf("Usage: %s [--json] %s\nSee %s --help for exit statuses.\n",
	       PROG, c->usage, PROG);
	return EX_OK;
}

/* The JSON envelope: the command's document, or an error document. */
static void finish_json(const char *cmd, int status)
{
	const char *msg = fail_message();

	if (status && msg) {
		json_begin();
		json_str("command", cmd);
	}
	json_int("exit_status", status);
	if (status && msg)
		json_str("error", msg);
	json_end();
	json_flush(stdout, true);
}

int main(int argc, char **argv)
{
	bool want_help = false, want_version = false;
	const struct command *c = NULL;
	struct opts o;
	int status;

	status = parse(argc, argv, &o, &want_help, &want_version);
	set_json_mode(o.json);
	if (o.json) {
		json_begin();
		json_str("command", o.cmd);
	}
	if (status)
		goto out;
	if (want_version) {
		printf("%s %s (pcipass API %d)\n", PROG, PCIPASS_TOOL_VERSION,
		       PCIPASS_API_VERSION);
		return EX_OK;
	}
	if (want_help || (o.cmd && !strcmp(o.cmd, "help"))) {
		set_json_mode(false);
		return print_help(&o);
	}
	if (!o.cmd) {
		print_usage(stderr);
		status = fail(EX_USAGE, "no command given");
		goto out;
	}
	c = find_command(o.cmd);
	if (!c) {
		status = fail(EX_USAGE, "%s: unknown command (try %s --help)",
			      o.cmd, PROG);
		goto out;
	}
	status = validate(c, &o);
	if (!status)
		status = c->run(&o);
out:
	if (o.json && !(c && (c->opts & OPT_WATCH) && o.watch))
		finish_json(o.cmd, status);
	free(o.args);
	return status;
}
