#!/usr/bin/env python3
# Drives a command in a pseudo-terminal, as a person at a terminal would, for the tests of
# `portcullis console connect`: picks the first offer when PICK is set ("Pick one"), waits for
# the shell's prompt, runs `whoami` (its output must show EXPECT_USER), then sends SEND_LAST
# (`exit 6\n`, or Ctrl-] as `\x1d`); prints what the terminal showed and exits with the
# command's status (90: a timeout, 91: the terminal closed early).
#
# Usage: EXPECT_USER=U SEND_LAST='exit\n' [PICK=1] drive_terminal.py PROGRAM [ARG...]
import os, pty, select, sys, time
user = os.environ["EXPECT_USER"].encode()
last = os.environ["SEND_LAST"].encode().decode("unicode_escape").encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf = b""
def until(needle):
    global buf
    end = time.time() + 30
    while needle not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            sys.stderr.write("timeout waiting for %r; saw %r\n" % (needle, buf)); sys.exit(90)
        try:
            buf += os.read(fd, 4096)
        except OSError:
            sys.stderr.write("eof waiting for %r; saw %r\n" % (needle, buf)); sys.exit(91)
if os.environ.get("PICK"):
    until(b"Pick one")
    os.write(fd, b"1\n")
until(b"$ ")
os.write(fd, b"whoami\n")
until(user + b"\r\n")
os.write(fd, last)
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buf += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
