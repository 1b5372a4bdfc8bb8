"""BuildKit's parse of Dockerfiles as JSON Lines, and comparisons with it.

  parse [--files-from LIST] FILE...   print one line per file, in the shape of
                                      shared/corpus/oracle-all.jsonl, made by
                                      BuildKit's own Go parser through the
                                      `dockerfile` Python package (3.4.0)
  compare EXPECTED ACTUAL [--min-identical FRACTION] [--label NAME]
                                      compare two such files line by line;
                                      exit 1 below the threshold or on any
                                      accept/reject difference

`kasane parse --format buildkit` prints the same lines as `parse`. Used by
scripts/conformance-parser and scripts/bench.
"""

import json
import sys


def record(path, name):
    import dockerfile  # only `parse` needs BuildKit's parser

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


def parse(argv):
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


def compare(argv):
    expected_path, actual_path = argv[0], argv[1]
    min_identical = 1.0
    label = actual_path
    rest = argv[2:]
    while rest:
        if rest[0] == "--min-identical":
            min_identical = float(rest[1])
        elif rest[0] == "--label":
            label = rest[1]
        rest = rest[2:]
    total = identical = 0
    accept_reject = []
    different = []
    with open(expected_path, encoding="utf-8") as e, open(actual_path, encoding="utf-8") as a:
        for exp_line, act_line in zip(e, a):
            total += 1
            if exp_line == act_line:
                identical += 1
                continue
            exp, act = json.loads(exp_line), json.loads(act_line)
            if exp["file"] != act["file"]:
                print(f"{label}: files out of order: {exp['file']} vs {act['file']}")
                return 1
            if exp["ok"] != act["ok"]:
                accept_reject.append((exp["file"], exp.get("error"), act.get("error")))
            else:
                different.append(exp["file"])
        if e.readline() or a.readline():
            print(f"{label}: the two files have different numbers of lines")
            return 1
    share = identical / total if total else 1.0
    print(f"{label}: {identical}/{total} files identical ({100 * share:.4f}%), "
          f"{len(accept_reject)} accept/reject differences, {len(different)} other differences")
    for f, exp_err, act_err in accept_reject[:20]:
        print(f"  accept/reject differs: {f}: BuildKit {exp_err or 'ok'!r}, kasane {act_err or 'ok'!r}")
    for f in different[:20]:
        print(f"  output differs: {f}")
    return 0 if share >= min_identical and not accept_reject else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "compare":
        sys.exit(compare(args[1:]))
    if args and args[0] == "parse":
        args = args[1:]
    parse(args)
