#!/usr/bin/env python3
"""Runs every `gw` command the README lists, as written there, against a running server.

It starts `postal-gateway serve` in a fresh working directory (so `./postal-data` and its
development PKI are created as a new user's would be) on ports the kernel picks, read back from
the server's "listening" log lines, and points the CLI at them with POSTAL_GATEWAY_PARTNER and
POSTAL_GATEWAY_PUBLIC. Then:

1. the "From the shell" block runs top to bottom; each command must succeed, and the upper-case
   words of the sample output under it (COLLECTED, INCOMPLETE_GUIDED, DELIVERED, …) must appear
   in what it printed;
2. the commands the README shows as comments or in later blocks (exceptions, corrections,
   access, the return of a refused dossier, the agency and operator commands, the SLA commands)
   run on shipments brought to the state each one needs, with the README's own text;
3. every `gw WORD WORD` the README mentions anywhere must have been run.

Usage: python3 Tests/cli/readme_walkthrough.py PATH/TO/postal-gateway
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
SIGNATURE = "ab" * 32
RAN = []
TEXT = open(README, encoding="utf-8").read()


def say(text):
    print(text, flush=True)


def sh_blocks(text):
    """The README's ```sh blocks, each as a list of logical lines (continuations joined)."""
    blocks = []
    for body in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines, pending = [], ""
        for raw in body.splitlines():
            if raw.endswith("\\"):
                pending += raw[:-1].rstrip() + " "
                continue
            lines.append((pending + raw.lstrip() if pending else raw).rstrip())
            pending = ""
        blocks.append(lines)
    return blocks


def refused_with(output, code):
    """Whether the CLI's error names this gRPC status (it prints e.g. `notFound: …`)."""
    squashed = output.replace("_", "").lower()
    return f"error: {code.replace('_', '').lower()}" in squashed


def strip_comment(line):
    """A command without its trailing comment (two spaces, then #)."""
    return re.split(r"\s{2,}#", line, maxsplit=1)[0].strip()


def blocks_with(text, prefix):
    """The README's sh blocks with a line starting with `prefix`."""
    return [b for b in sh_blocks(text) if any(l.startswith(prefix) for l in b)]


def sample_output(lines, index):
    """The comment lines right under the command at `index`: its sample output."""
    sample = []
    for line in lines[index + 1:]:
        if not line.startswith("#") or line.startswith("#   gw"):
            break
        sample.append(line[1:].strip())
    return sample


def expected_lines(lines, index):
    return [line for line in sample_output(lines, index) if line]


def expected_tokens(lines, index):
    """Upper-case words of the sample output printed right under the command at `index`."""
    tokens = []
    for line in lines[index + 1:]:
        if not line.startswith("#") or " gw " in f" {line} " or line.startswith("#   gw"):
            break
        tokens += re.findall(r"\b[A-Z][A-Z_]{3,}\b", line)
    return tokens


class Walkthrough:
    def __init__(self, binary, workdir, env):
        self.binary, self.workdir, self.env = binary, workdir, env
        self.variables = {}

    def bash(self, command, expect=(), allow_failure=None):
        """Runs one command line with `gw` bound to the binary; returns its output."""
        RAN.append(command)
        exports = "".join(f"{k}={shlex.quote(v)}; " for k, v in self.variables.items())
        script = f"{exports}{command}"
        say(f"$ {command}")
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", script], cwd=self.workdir, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        output = result.stdout
        say(output.rstrip())
        if result.returncode != 0:
            if allow_failure and allow_failure(result.returncode, output):
                say("  (ended as expected)")
                return output
            raise SystemExit(f"FAILED (exit {result.returncode}): {command}")
        missing = [token for token in expect if token not in output]
        if missing:
            raise SystemExit(f"FAILED: {command} did not print {missing}")
        return output

    def run_block(self, lines, substitute, after=lambda command, output: None, exact=False):
        """Runs every command of a README block in order, checking its sample output: its
        upper-case words, or with `exact` every sample line as printed."""
        for index, line in enumerate(lines):
            if not line or line.startswith("#") or line.startswith("gw()"):
                continue
            command = substitute(strip_comment(line))
            if command is None:
                continue
            assignment = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(\S+)", command)
            if assignment:
                self.variables[assignment.group(1)] = assignment.group(2)
                continue
            expect = expected_lines(lines, index) if exact else expected_tokens(lines, index)
            after(command, self.bash(command, expect=expect))

    def check_roles_table(self, text):
        """The README's role table is what `gw roles` prints (the policy in force)."""
        printed = self.bash("gw roles").strip()
        shown = re.search(r"^\| RPC \|.*?(?=\n\n)", text, re.S | re.M).group(0).strip()
        if printed != shown:
            raise SystemExit("the README's role table differs from `gw roles`: update it")


def readme_command(blocks, prefix):
    """The README's command that starts with `prefix`, shown as a command or as a comment."""
    for lines in blocks:
        for line in lines:
            text = line.lstrip("#").strip()
            if text.startswith(prefix):
                return strip_comment(text)
    raise SystemExit(f"the README has no command starting with {prefix!r}")


def start_server(binary, workdir):
    # The sample agency takes its dossiers from the pull stream, as the README's agency block
    # assumes (an agency that is not routed gets paper only).
    with open(os.path.join(workdir, "routes.json"), "w") as f:
        f.write('{ "agencies": [ { "agency": "000.00.00.H55", "mode": "pull" } ] }')
    with open(os.path.join(workdir, "gateway.json"), "w") as f:
        f.write('{ "handoffs": { "routes": "routes.json" } }')
    log = open(os.path.join(workdir, "server.log"), "w+")
    server = subprocess.Popen(
        [binary, "serve", "--config", "gateway.json", "--partner-address", "127.0.0.1:0",
         "--public-address", "127.0.0.1:0", "--web-address", "127.0.0.1:0", "--log-level", "info"],
        cwd=workdir, stdout=log, stderr=log)
    ports, deadline = {}, time.time() + 60
    while len(ports) < 2:
        if server.poll() is not None or time.time() > deadline:
            log.seek(0)
            raise SystemExit("the server did not start:\n" + log.read())
        time.sleep(0.2)
        log.seek(0)
        for match in re.finditer(r"listener=(\w+) listener\.address=\S*:(\d+)", log.read()):
            ports[match.group(1)] = match.group(2)
    return server, ports


def main():
    binary = os.path.abspath(sys.argv[1])
    text = TEXT
    blocks = blocks_with(text, "gw ")
    workdir = tempfile.mkdtemp(prefix="readme-walkthrough-")
    with open(os.path.join(workdir, "to-khai.pdf"), "wb") as f:
        f.write(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    with open(os.path.join(workdir, "cccd.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    server, ports = start_server(binary, workdir)
    say(f"server on partner :{ports.get('partner')} public :{ports.get('public')} in {workdir}")
    env = dict(os.environ,
               POSTAL_GATEWAY_PARTNER=f"127.0.0.1:{ports['partner']}",
               POSTAL_GATEWAY_PUBLIC=f"127.0.0.1:{ports['public']}")
    # `gw` as the README defines it, but as a file on PATH so that `timeout` can run it too.
    bindir = os.path.join(workdir, "bin")
    os.mkdir(bindir)
    with open(os.path.join(bindir, "gw"), "w") as f:
        f.write(f'#!/bin/sh\nexec {shlex.quote(binary)} "$@"\n')
    os.chmod(os.path.join(bindir, "gw"), 0o755)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    walk = Walkthrough(binary, workdir, env)
    try:
        scenes(walk, blocks)
        walk.check_roles_table(text)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    check_coverage(text)
    say("readme walkthrough: every README command ran")


def scenes(walk, blocks):
    shell = blocks[0]
    register = next(l for l in shell if l.startswith("gw pickup register"))

    code_of = {}

    def registered(output):
        number = re.search(r"tracking number:\s+(\S+)", output).group(1)
        code_of[number] = re.search(r"verification code:\s+(\S+)", output).group(1)
        return number, code_of[number]

    # 1. The first block, top to bottom, as a new user would type it: the tracking number and
    #    the code are the ones the register command printed, not the README's sample.
    def first(command):
        if command.startswith("N=EA"):
            return None
        return (command.replace("<sha256 of the signature image>", SIGNATURE)
                .replace("TC8Z4-RZ7BQ", "$CODE").replace("; …;", ";")
                .replace("python3 Tests/", f"python3 {ROOT}/Tests/"))

    def after(command, output):
        if command.startswith("gw pickup register"):
            walk.variables["N"], walk.variables["CODE"] = registered(output)

    walk.run_block(shell, first, after)

    # 1b. The grpcurl block (server reflection), on the same shipment and the real ports.
    first_number, first_code = walk.variables["N"], walk.variables["CODE"]
    partner, public = (walk.env["POSTAL_GATEWAY_PARTNER"], walk.env["POSTAL_GATEWAY_PUBLIC"])
    for lines in blocks_with(TEXT, "grpcurl "):
        walk.run_block(lines, lambda c: c.replace("127.0.0.1:7443", partner)
                       .replace("127.0.0.1:8443", public).replace("EA000000005VN", first_number)
                       .replace("TC8Z4-RZ7BQ", first_code), exact=True)

    def fresh():
        return registered(walk.bash(strip_comment(register)))
    collect = readme_command(blocks, "gw collection record $N --item TO_KHAI:original:2 --item")
    uploads = [l for l in shell if l.startswith("gw scan upload")]
    dispatched = readme_command(blocks, "gw event record $N --type dispatched")
    handed = readme_command(blocks, "gw event record $N --type handed-to-agency")

    def shipment_in(*steps):
        number, code = fresh()
        walk.variables["N"] = number
        code_of[number] = code
        for step in steps:
            walk.bash(step)
        return number

    def on(number):
        walk.variables["N"] = number

    # 2a. Exceptions and corrections, on a shipment still in postal hands.
    shipment_in(collect)
    walk.bash(readme_command(blocks, "gw damage record"))
    walk.bash(dispatched)
    sequence = walk.bash("gw shipment show $N --json | python3 -c 'import json,sys; "
                         "print(json.load(sys.stdin)[\"events\"][-1][\"sequence\"])'").strip()
    walk.bash(readme_command(blocks, "gw event correct").replace("--sequence 7",
                                                                 f"--sequence {sequence}"))
    walk.bash(readme_command(blocks, "gw event record $N --type lost"))

    # 2a'. The same citizen's later dossier reuses the first dossier's identity paper by code.
    later = shipment_in(collect)
    walk.variables["LATER"] = later
    on(first_number)
    walk.bash(readme_command(blocks, "gw scan reuse"), expect=["reuses", "COLLECTED"])

    # 2b. A citizen who lost the code: a new one, and the old one stops working.
    number = shipment_in()
    old = code_of[number]
    new = re.search(r"[0-9A-Z]{5}-[0-9A-Z]{5}",
                    walk.bash(readme_command(blocks, "gw access reissue-code"))).group(0)
    walk.bash(f"gw track $N --code {old}",
              allow_failure=lambda rc, out: refused_with(out, "NOT_FOUND"))
    walk.bash(f"gw track $N --code {new}", expect=[number])
    walk.bash(readme_command(blocks, "gw access unlock"))

    # 2c. The agency's commands on dossiers handed over to it, and the operator's.
    first_dossier = shipment_in(collect, *uploads, dispatched)
    second_dossier = shipment_in(collect, *uploads, dispatched, handed)
    agency_block = next(b for b in blocks if any(l.startswith("gw agency watch") for l in b))
    on(first_dossier)
    walk.bash(readme_command(blocks, "gw agency watch"))
    walk.bash(readme_command(blocks, "gw agency acknowledge"))
    walk.bash(readme_command(blocks, "gw agency supplement"))
    walk.bash(readme_command(blocks, "gw event record $N --type supplement-delivered"))
    on(second_dossier)
    walk.bash(readme_command(blocks, "gw agency extend"))
    walk.bash(readme_command(blocks, "gw agency result-ready"))
    for line in agency_block:
        if line.startswith("gw handoffs"):
            walk.bash(strip_comment(line),
                      allow_failure=lambda rc, out: line.startswith("gw handoffs retry")
                      and refused_with(out, "FAILED_PRECONDITION"))

    # 2c'. The operator's retry of a notification: nothing was dead-lettered here.
    for line in shell:
        if line.startswith("#   gw notifications retry"):
            walk.bash(strip_comment(line[4:]),
                      allow_failure=lambda rc, out: refused_with(out, "NOT_FOUND"))

    # 2d. A refused dossier goes home.
    refused = shipment_in(collect, *uploads, dispatched, handed)
    walk.bash(readme_command(blocks, "gw agency refuse"))
    give_back = readme_command(blocks, "gw result collect $N --document \"Phiếu từ chối\"")
    walk.bash(give_back + " --counterparty $A --giver-key agency.key --receiver-key clerk.key")
    walk.bash(readme_command(blocks, "gw event record $N --type out-for-delivery"))
    walk.bash(readme_command(blocks, "gw delivery attempt $N --delivered").replace(
        "<sha256 of the signature image>", SIGNATURE).replace(" --recalled \"Giấy hẹn\"", ""))
    walk.bash(f"gw track $N --code {code_of[refused]}", expect=["RETURNED_TO_APPLICANT", "Lý do"])

    # 2e. Deadlines and service levels.
    for lines in blocks:
        if any(l.startswith("gw sla due") for l in lines):
            walk.run_block(lines, lambda c: c)
    on(first_dossier)
    sla_block = next(b for b in blocks if any(l.startswith("gw sla explain") for l in b))
    for line in sla_block:
        if line.startswith("gw sla alerts"):
            # A stream that runs until interrupted: it must be up and quiet, not fail.
            walk.bash(f"timeout 3 {strip_comment(line)}",
                      allow_failure=lambda rc, out: rc == 124)
        elif line.startswith("gw person erase"):
            # The README's $N can still move: the erasure is refused, and says why.
            walk.bash(strip_comment(line),
                      allow_failure=lambda rc, out: refused_with(out, "FAILED_PRECONDITION"))
        elif line.startswith("gw "):
            walk.bash(strip_comment(line))


def check_coverage(text):
    mentioned = set(re.findall(r"\bgw ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", text))
    ran = set()
    for command in RAN:
        ran |= set(re.findall(r"\bgw ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", command))
    missing = sorted(mentioned - ran)
    if missing:
        raise SystemExit(f"README commands never run: {missing}")


if __name__ == "__main__":
    main()
