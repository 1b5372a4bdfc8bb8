"""Print BuildKit's parse of Dockerfiles as JSON Lines, in the shape of
shared/corpus/oracle-all.jsonl (one line per file, in the order given).

Runs BuildKit's own Go parser through the `dockerfile` Python package
(pip install dockerfile==3.4.0). Used by scripts/conformance-parser and
scripts/bench; `kasane parse --format buildkit` prints the same lines.

usage: python buildkit_oracle.py [--names-only] FILE...   (or --files-from LIST)
"""

import json
import sys

import dockerfile


def record(path, name):
    try:
        cmds = dockerfile.parse_file(path)
    except Exception as e:  # GoParseError, GoIOError, UnicodeDecodeError
        return {"file": name, "ok": False, "error": str(e)}
    return {
        "file": name,
        "ok": True,
        "instructions": [
            {
                "cmd": c.cmd,
                "sub_cmd": c.sub_cmd,
                "json": c.json,
                "original": c.original,
                "start_line": c.start_line,
                "end_line": c.end_line,
                "flags": list(c.flags),
                "value": list(c.value),
                "heredocs": [
                    {"name": h.name, "fd": h.file_descriptor, "content": h.content}
                    for h in c.heredocs
                ],
            }
            for c in cmds
        ],
    }


def main(argv):
    files = []
    i = 0
    while i < len(argv):
        if argv[i] == "--files-from":
            with open(argv[i + 1]) as f:
                files.extend(line.rstrip("\n") for line in f if line.strip())
            i += 2
        else:
            files.append(argv[i])
            i += 1
    out = sys.stdout
    for path in files:
        out.write(json.dumps(record(path, path), ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
