// SPDX-License-Identifier: GPL-2.0
/*
 * l2-linkup: bring network interfaces up over rtnetlink, for the nested
 * guest (L2), whose small kernel has no INET (busybox's "ip link set up"
 * needs an AF_INET socket for its ioctl).
 *
 *   l2-linkup IFNAME...
 *
 * Sends RTM_NEWLINK with IFF_UP for each interface (its index from
 * /sys/class/net/IFNAME/ifindex) and waits for the kernel's answer.
 * Exit status 0 when every interface came up, 1 otherwise.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

static int index_of(const char *name)
{
	char path[128];
	FILE *f;
	int idx = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &idx) != 1)
		idx = -1;
	fclose(f);
	return idx;
}

static int link_up(int fd, int idx, unsigned int seq)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_NEWLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			.nlmsg_seq = seq,
		},
		.ifi = {
			.ifi_family = AF_UNSPEC,
			.ifi_index = idx,
			.ifi_flags = IFF_UP,
			.ifi_change = IFF_UP,
		},
	};
	char buf[4096];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	ssize_t n;

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
	    nh->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, i, idx, err, ret = 0;

	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("l2-linkup: netlink");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		idx = index_of(argv[i]);
		err = idx < 0 ? -ENODEV : link_up(fd, idx, i);
		if (err) {
			fprintf(stderr, "l2-linkup: %s: %s\n", argv[i],
				strerror(-err));
			ret = 1;
		}
	}
	close(fd);
	return ret;
}
