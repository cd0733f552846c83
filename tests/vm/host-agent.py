#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/vm/host-agent.py RESULTS QMP DEVICES LOG - the host side of the
hotplug tests: what a guest cannot do from inside (QMP device_del and
device_add of its own devices).

Started by run-vm.sh beside QEMU. It follows RESULTS (the guest's results
serial port, a file) and acts on the request lines the guest prints there,
each on a line of its own:

    # pcipass-host: device_del ID     QMP device_del of device ID
    # pcipass-host: device_add ID     QMP device_add of device ID again,
                                      once QEMU has deleted it (the
                                      DEVICE_DELETED event), with the
                                      properties DEVICES (a JSON object
                                      {ID: {property: value}}) gives

The guest sees the outcome in its own sysfs; nothing is sent back. Every
request and QMP reply goes to LOG. The agent ends when QEMU closes the QMP
socket (QEMU exited). Only the Python standard library.
"""
import json
import os
import socket
import sys
import threading
import time

MARKER = "# pcipass-host: "
# How long a device_add waits for the guest to let the device go.
DELETE_WAIT_S = 120


class Qmp:
    """A QMP client: commands one at a time, events collected on the side."""

    def __init__(self, path, log):
        self.log = log
        self.sock = None
        for _ in range(600):
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                self.sock = None
                time.sleep(0.1)
        if self.sock is None:
            raise OSError("no QMP socket at " + path)
        self.file = self.sock.makefile("r", encoding="utf-8")
        self.cond = threading.Condition()
        self.replies = []
        self.deleted = set()
        self.closed = False
        json.loads(self.file.readline())        # the greeting
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()
        self.command("qmp_capabilities")

    def _reader(self):
        for line in self.file:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                if "event" in msg:
                    self.log("event " + line.strip())
                    if msg["event"] == "DEVICE_DELETED":
                        dev = msg.get("data", {}).get("device")
                        if dev:
                            self.deleted.add(dev)
                else:
                    self.replies.append(msg)
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def command(self, name, args=None):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        with self.cond:
            self.sock.sendall((json.dumps(req) + "\n").encode())
            while not self.replies and not self.closed:
                self.cond.wait()
            reply = self.replies.pop(0) if self.replies else {"closed": True}
        self.log("%s -> %s" % (json.dumps(req), json.dumps(reply)))
        return reply

    def forget_deleted(self, dev):
        with self.cond:
            self.deleted.discard(dev)

    def wait_deleted(self, dev, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while dev not in self.deleted and not self.closed:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return dev in self.deleted


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: host-agent.py RESULTS QMP DEVICES LOG")
    results, qmp_path, devices_path, log_path = sys.argv[1:]
    logf = open(log_path, "a", encoding="utf-8", buffering=1)
    t0 = time.monotonic()

    def log(msg):
        logf.write("[%7.2f] %s\n" % (time.monotonic() - t0, msg))

    with open(devices_path, encoding="utf-8") as f:
        devices = json.load(f)
    try:
        qmp = Qmp(qmp_path, log)
    except (OSError, ValueError) as e:
        log("no QMP: %s" % e)
        return
    log("connected; devices: " + " ".join(sorted(devices)))

    while not os.path.exists(results) and not qmp.closed:
        time.sleep(0.1)
    with open(results, "rb") as f:
        pending = b""
        while True:
            chunk = f.readline()
            if not chunk:
                if qmp.closed:
                    break
                time.sleep(0.05)
                continue
            pending += chunk
            if not pending.endswith(b"\n"):
                continue
            line = pending.decode("utf-8", "replace").strip("\r\n")
            pending = b""
            if not line.startswith(MARKER):
                continue
            words = line[len(MARKER):].split()
            log("request: " + " ".join(words))
            if len(words) != 2 or words[1] not in devices:
                log("unknown request")
                continue
            verb, dev = words
            if verb == "device_del":
                qmp.forget_deleted(dev)
                qmp.command("device_del", {"id": dev})
            elif verb == "device_add":
                if not qmp.wait_deleted(dev, DELETE_WAIT_S):
                    log("%s was not deleted within %d s: not added"
                        % (dev, DELETE_WAIT_S))
                    continue
                qmp.forget_deleted(dev)
                args = dict(devices[dev])
                args["id"] = dev
                qmp.command("device_add", args)
            else:
                log("unknown request")
    log("QEMU is gone")


if __name__ == "__main__":
    main()
