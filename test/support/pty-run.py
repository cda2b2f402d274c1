"""Runs a command on a real pseudo-terminal (Python's pty module): waits for a prompt, types an
answer, and prints everything the terminal showed; exits with the command's exit code.
usage: pty-run.py JSON_ARGV PROMPT ANSWER TIMEOUT_S   (PROMPT "" = never answer)"""
import json, os, pty, select, sys, time

argv, prompt, answer, timeout = json.loads(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], float(sys.argv[4])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out, sent, deadline = b"", False, time.time() + timeout
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if fd not in ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:  # the child closed the terminal
        break
    if not data:
        break
    out += data
    if prompt and not sent and prompt in out:
        os.write(fd, (answer + "\n").encode())
        sent = True
else:
    os.kill(pid, 9)
    out += b"\n[pty-run: timed out]\n"
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
