import json, os, random, subprocess, sys
seed = int(sys.argv[1]); n = int(sys.argv[2])
rnd = random.Random(seed)
pt = ["*", "?", "a", "b", "\\*", "\\?", "\\\\", "\\}", "\\/", "/", "\n", "é", ".", "$", "$0", "x"]
vt = ["a", "b", "*", "?", "\\", "}", "/", "\n", "é", ".", "$", "x", "ab"]
out = []
for i in range(n):
    pat = "".join(rnd.choice(pt) for _ in range(rnd.randint(0, 6)))
    val = "".join(rnd.choice(vt) for _ in range(rnd.randint(0, 10)))
    rep = "".join(rnd.choice(["$0", "$$", "${0}", "\\$0", "z", "$", "$1", "${x", "\\\\"]) for _ in range(rnd.randint(0, 3)))
    op = rnd.choice(["#", "##", "%", "%%", "/", "//"])
    s = "${V" + op + pat + ("/" + rep if "/" in op else "") + "}"
    out.append({"input": s, "env": {"V": val}})
inp = "\n".join(json.dumps(r) for r in out) + "\n"
res = subprocess.run([os.environ.get("BUILDKIT_LEX_ORACLE", "./oracle")], input=inp.encode(), capture_output=True, check=True).stdout.decode().splitlines()
for r, o in zip(out, res):
    o = json.loads(o)
    if o["err"] is not None: r["err"] = o["err"]
    else: r["result"] = o["result"]; r["matched"] = o["matched"] or []; r["unmatched"] = o["unmatched"] or []
    print(json.dumps(r, ensure_ascii=False))
