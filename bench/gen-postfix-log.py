#!/usr/bin/env python3
"""Writes a deterministic synthetic Postfix mail log for the benchmark.

usage: gen-postfix-log.py OUT SIZE_MIB [FAIL_PERCENT [MAX_LINES]]

99% of the records are ordinary traffic (deliveries with dsn=2.0.0, queue manager and
cleanup chatter, smtpd connects, daemon start lines with version numbers and kernel /
device-mapper look-alikes); FAIL_PERCENT (default 1) are deferrals and bounces. The log
stops at SIZE_MIB or MAX_LINES lines, whichever comes first. Prints the number of failure
lines written, which ndr-doctor must report exactly.
"""
import random, sys

out, size_mib = sys.argv[1], int(sys.argv[2])
fail_pct = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
max_lines = int(sys.argv[4]) if len(sys.argv) > 4 else None
rnd = random.Random(20260304)
limit = size_mib * 1024 * 1024
MON = ["Mar", "Apr"]
HOSTS = ["mail.example.com[192.0.2.25]", "mx.example.net[198.51.100.7]", "mx1.example.org[203.0.113.9]"]

def ts(i):
    s = i // 40
    return f"{MON[(s // 2592000) % 2]} {1 + (s // 86400) % 28:2d} {(s // 3600) % 24:02d}:{(s // 60) % 60:02d}:{s % 60:02d}"

def qid():
    return "".join(rnd.choice("0123456789ABCDEF") for _ in range(10))

def rcpt():
    return f"user{rnd.randrange(5000)}@example.{rnd.choice(['com', 'net', 'org'])}"

FAILS = [
    lambda q, r: f"postfix/smtp[{rnd.randrange(1, 65535)}]: {q}: to=<{r}>, relay=none, delay=3605, delays=3600/0.02/5/0, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)",
    lambda q, r: f"postfix/smtp[{rnd.randrange(1, 65535)}]: {q}: to=<{r}>, relay=mx.example.net[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.7] said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
    lambda q, r: f"postfix/smtp[{rnd.randrange(1, 65535)}]: {q}: to=<{r}>, relay=mx1.example.org[203.0.113.9]:25, delay=31, delays=0.1/0/30/0, dsn=4.4.2, status=deferred (lost connection with mx1.example.org[203.0.113.9] while receiving the initial server greeting)",
    lambda q, r: f"postfix/smtp[{rnd.randrange(1, 65535)}]: {q}: to=<{r}>, relay=none, delay=0.5, delays=0.1/0/0.4/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again)",
    lambda q, r: f"postfix/smtp[{rnd.randrange(1, 65535)}]: {q}: to=<{r}>, relay=mail.example.com[192.0.2.25]:25, delay=2, delays=0.1/0/1.8/0, dsn=4.7.0, status=deferred (host mail.example.com[192.0.2.25] said: 421 4.7.0 Try again later, closing connection. (in reply to MAIL FROM command))",
    lambda q, r: f"postfix/smtp[{rnd.randrange(1, 65535)}]: {q}: to=<{r}>, relay=mx.example.net[198.51.100.7]:25, delay=4, delays=0.1/0/1/2.9, dsn=5.7.1, status=bounced (host mx.example.net[198.51.100.7] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.example.org (in reply to RCPT TO command))",
]
NORMAL = [
    lambda q, r: f"postfix/smtp[{rnd.randrange(1, 65535)}]: {q}: to=<{r}>, relay={rnd.choice(HOSTS)}:25, delay=0.{rnd.randrange(10, 99)}, delays=0.05/0.01/0.12/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {qid()})",
    lambda q, r: f"postfix/qmgr[1022]: {q}: from=<sender{rnd.randrange(900)}@example.org>, size={rnd.randrange(900, 900000)}, nrcpt=1 (queue active)",
    lambda q, r: f"postfix/cleanup[{rnd.randrange(1, 65535)}]: {q}: message-id=<{rnd.randrange(10**9)}.{rnd.randrange(10**6)}@example.org>",
    lambda q, r: f"postfix/smtpd[{rnd.randrange(1, 65535)}]: connect from app{rnd.randrange(50)}.example.org[198.51.100.{rnd.randrange(1, 254)}]",
    lambda q, r: f"postfix/smtpd[{rnd.randrange(1, 65535)}]: disconnect from app{rnd.randrange(50)}.example.org[198.51.100.{rnd.randrange(1, 254)}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
    lambda q, r: f"postfix/qmgr[1022]: {q}: removed",
    lambda q, r: "postfix/master[1011]: daemon started -- version 3.5.6, configuration /etc/postfix",
    lambda q, r: "kernel: Linux version 5.4.0-42-generic (buildd@example.org) (gcc version 9.3.0 (Ubuntu 9.3.0-10ubuntu2)) #46-Ubuntu SMP",
    lambda q, r: "kernel: device-mapper: ioctl: 4.41.0-ioctl (2019-09-16) initialised: dm-devel@example.org",
    lambda q, r: f"dovecot: imap-login: Login: user=<{r}>, method=PLAIN, rip=198.51.100.{rnd.randrange(1, 254)}, lip=192.0.2.10, mpid={rnd.randrange(99999)}, TLS, session=<{qid()}>",
    lambda q, r: f"opendkim[812]: {q}: DKIM-Signature field added (s=mail, d=example.org) v2.11.0",
    lambda q, r: f"postfix/anvil[1030]: statistics: max connection rate 4/60s for (smtp:198.51.100.{rnd.randrange(1, 254)}) at {ts(0)}",
]

fails = 0
written = 0
i = 0
with open(out, "w", buffering=1 << 20) as f:
    while written < limit and (max_lines is None or i < max_lines):
        q, r = qid(), rcpt()
        if rnd.random() * 100 < fail_pct:
            body = rnd.choice(FAILS)(q, r)
            fails += 1
        else:
            body = rnd.choice(NORMAL)(q, r)
        line = f"{ts(i)} mx1 {body}\n"
        f.write(line)
        written += len(line)
        i += 1
print(fails)
