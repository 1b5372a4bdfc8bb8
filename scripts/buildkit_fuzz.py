"""Writes random Dockerfiles built from the tokens that make BuildKit's parser
interesting (escapes, quotes, heredocs, JSON, directives, odd whitespace, flags)
into a directory, for a differential run against BuildKit's parser.

usage: python buildkit_fuzz.py DIR COUNT SEED
"""

import os
import random
import sys

KEYWORDS = ["FROM", "RUN", "CMD", "ENV", "LABEL", "ARG", "COPY", "ADD", "ONBUILD", "HEALTHCHECK",
            "SHELL", "VOLUME", "EXPOSE", "USER", "WORKDIR", "MAINTAINER", "STOPSIGNAL", "ENTRYPOINT",
            "run", "Copy", "FOO", "&&", "#", "onbuild run"]
TOKENS = [" ", "  ", "\t", "\\", "`", "\\\\", "'", '"', "<<", "<<-", "EOF", "<<EOF", "<<'EOF'", '<<"E"',
          "2<<EOF", "<<-EOF", "$", "${", "}", "${X:-a b}", "$X", "=", "a=b", "--", "--flag", "--from=x",
          "--mount=type=cache,target=/c", "[", "]", '["a"]', '["a", 1]', "[]", '"x"', ",", "{", "null",
          "1e999", "\\u00e9", "é", "\u00a0", "\x0b", "\x0c", "\r", "#", "# c", "x", "y", "echo", "CMD",
          "NONE", "AS", "as", "a", "/", "*", "\\ ", "-", "<", ";", "\\n"]
LINES = ["", "   ", "# comment", "#", "# escape=`", "# escape=\\", "# syntax=x", "# check=skip=all",
         "EOF", "\tEOF", "E", "\\", "`", "  # indented", "\r"]


def line(r):
    if r.random() < 0.25:
        return r.choice(LINES)
    parts = [r.choice(KEYWORDS)]
    for _ in range(r.randint(0, 8)):
        parts.append(r.choice(TOKENS))
    sep = "" if r.random() < 0.3 else " "
    return parts[0] + " " + sep.join(parts[1:])


def main(out_dir, count, seed):
    r = random.Random(seed)
    os.makedirs(out_dir, exist_ok=True)
    for i in range(count):
        n = r.randint(1, 12)
        nl = "\r\n" if r.random() < 0.1 else "\n"
        text = nl.join(line(r) for _ in range(n))
        if r.random() < 0.7:
            text += nl
        if r.random() < 0.05:
            text = "\ufeff" + text
        with open(os.path.join(out_dir, f"fuzz-{seed}-{i:06d}"), "wb") as f:
            f.write(text.encode("utf-8"))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
