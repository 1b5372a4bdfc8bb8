import json, os, random, subprocess, sys
seed = int(sys.argv[1]); n = int(sys.argv[2])
rnd = random.Random(seed)
toks = ["$", "${", "}", ":", "-", "+", "?", "#", "%", "/", "//", "'", '"', "\\", "`", " ", "\t", "a", "V", "E", "U", "X", "*", "<", "<<", "=", "0", "1", "@", "é", "\n", "x", "${V", "${U", "${E", "${X", ":-", ":+", ":?", "##", "%%", "$V", "$U", "\\}", "\\/", "\\*", "\ufeff", "\u00a0", "\u0663"]
env = {"V": "v a*l", "E": "", "X": "xx$0/x", "A": "a\\b"}
out = []
for i in range(n):
    k = rnd.randint(1, 14)
    s = "".join(rnd.choice(toks) for _ in range(k))
    r = {"input": s, "env": env}
    if rnd.random() < 0.3: r["escape"] = "`"
    if rnd.random() < 0.3: r["words"] = True
    for o in ["raw_quotes", "raw_escapes", "skip_unset", "skip_process_quotes"]:
        if rnd.random() < 0.15: r[o] = True
    out.append(r)
inp = "\n".join(json.dumps(r) for r in out) + "\n"
res = subprocess.run([os.environ.get("BUILDKIT_LEX_ORACLE", "./oracle")], input=inp.encode(), capture_output=True, check=True).stdout.decode().splitlines()
for r, o in zip(out, res):
    o = json.loads(o)
    if o["err"] is not None:
        r["err"] = o["err"]
    elif r.get("words"):
        r["expect_words"] = o["words"] or []
    else:
        r["result"] = o["result"]; r["matched"] = o["matched"] or []; r["unmatched"] = o["unmatched"] or []
    print(json.dumps(r, ensure_ascii=False))
