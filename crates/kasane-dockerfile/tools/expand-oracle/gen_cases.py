import json, os, subprocess, sys
# (input, env, opts, note)
C = []
def c(inp, env=None, note=None, **opts):
    C.append(dict(input=inp, env=env or {}, note=note, **opts))

S = {"V": "value", "E": "", "P": "/usr/local/bin/app.tar.gz", "W": "a b  c", "N": "line1\nline2"}
# plain references
c("$V", S, "plain")
c("${V}", S)
c("$V_x", S, "underscore continues the name")
c("${V}_x", S)
c("$V-x", S, "- ends the name")
c("$V.x", S)
c("$U", S, "unset is empty")
c("${U}x", S)
c("$E|$V", S, "set but empty")
c("$", S, "lone dollar")
c("$$", S, "$$ is the special parameter $")
c("a$", S)
c("$.x", S)
c("$/", S)
c("$ x", S)
c("$1x", S, "positional names are digit runs")
c("$12x", S)
c("$0x", S)
c("$V$V", S)
c("${V}${V}", S)
c("$é", {"é": "accent"}, "unicode letters are name characters")
c("$名前x", {"名前x": "jp"})
c("$x\u0301", {"x": "X"}, "a combining mark is not a letter (Go unicode.IsLetter)")
c("$\u216b", {"\u216b": "roman"}, "a letter number is not a letter")
c("$\u0663x", {"\u0663x": "d"}, "Arabic-Indic digits are digits: a digit run")
c("$\u0663\u0664x", {"\u0663\u0664": "d"})
c("${\u0663\u0664}", {"\u0663\u0664": "d"})
c("$a\u0663", {"a\u0663": "ok"})
c("$\u00b2", {"\u00b2": "sup"}, "superscript two is not a decimal digit")
# :- and -
for op in [":-", "-"]:
    for name in ["V", "E", "U"]:
        c("${%s%sdefault}" % (name, op), S, "default operator " + op)
    c("${U%s}" % op, S)
    c("${U%s$V}" % op, S, "nested word")
    c("${U%s${E%s${V}}}" % (op, op), S)
    c("${U%s'a}b'}" % op, S, "quotes protect } in a word")
    c('${U%s"a }"}' % op, S)
    c("${U%sa\\}b}" % op, S, "escaped }")
    c("${U%s a b }" % op, S, "spaces kept")
    c("${U%s$W}" % op, S)
    c("${U%s${}}" % op, S, "error inside a nested word")
# :+ and +
for op in [":+", "+"]:
    for name in ["V", "E", "U"]:
        c("${%s%salt}" % (name, op), S, "alternative operator " + op)
    c("${V%s${V}-$V}" % op, S)
    c("${V%s}" % op, S)
# :? and ?
for op in [":?", "?"]:
    for name in ["V", "E", "U"]:
        c("${%s%s}" % (name, op), S, "required operator " + op)
        c("${%s%smust be set}" % (name, op), S)
    c("${U%sneed $V}" % op, S, "message is expanded")
    c("x${V%s}y" % op, S)
# trims
T = {"F": "file.tar.gz", "D": "/a/b/c/d", "X": "xxyy", "S": "a*b?c\\d}e", "M": "héllo wörld", "N": "ab\nab\nab", "E": ""}
for op in ["#", "##", "%", "%%"]:
    for pat in ["*.", "*/", "x", "x*", "*", "", "?", "??", "*y", "a", "*b", "f*", "file.tar.gz", "nomatch"]:
        var = "D" if "/" in pat else ("X" if "x" in pat or "y" in pat else "F")
        c("${%s%s%s}" % (var, op, pat), T, "trim " + op)
    c("${S%s*\\*}" % op, T, "escaped star")
    c("${S%s*\\?}" % op, T)
    c("${S%s*\\\\}" % op, T, "escaped backslash")
    c("${S%s*\\}}" % op, T, "escaped brace")
    c("${S%s\\}*}" % op, T)
    c("${S%s*\\x}" % op, T, "invalid escape")
    c("${S%s\\x*}" % op, T, "invalid escape (reported reversed for %)")
    c("${S%s*\\}" % op, T, "escape at end")
    c("${M%s*l}" % op, T, "multibyte value")
    c("${M%s?}" % op, T)
    c("${N%s*b}" % op, T, "* does not cross a newline")
    c("${N%s?}" % op, T)
    c("${E%s*}" % op, T, "empty value")
    c("${U%s*}" % op, T, "unset value")
    c("${F%s$PAT}" % op, dict(T, PAT="*."), "pattern from a variable")
    c("${F%s\"*.\"}" % op, T, "quotes in a pattern are removed, * still a wildcard")
    c("${F%s'*'}" % op, T)
    c("${D%s[/]}" % op, dict(T, D="[/]x"), "brackets are literal")
    c("${D%s(.)}" % op, dict(T, D="(.)x"), "regex characters are literal")
    c("${D%s^$+|{}}" % op, dict(T, D="^$+|{x"))
for op in [":#", ":##", ":%", ":%%"]:
    c("${F%s*}" % op, T, "unsupported with a colon")
c("${F#*.}${F%.*}", T)
# replacement
R = {"P": "/usr/local/usr/bin", "X": "xxyy", "U8": "ñaña", "N": "a\nb", "E": "", "DOLLAR": "$0"}
for op in ["/", "//"]:
    for pat, rep in [("usr", "opt"), ("/", "-"), ("*", "z"), ("?", "z"), ("u*r", "Z"), ("x", ""), ("", "ww"), ("nomatch", "q"), ("\\/", "\\/"), ("*l", "L"), ("\\*", "s")]:
        var = "X" if "x" in pat or pat == "" else "P"
        c("${%s%s%s/%s}" % (var, op, pat, rep), R, "replace " + op)
    c("${U8%sñ/n}" % op, R, "multibyte")
    c("${N%s?/_}" % op, R, "? does not match a newline")
    c("${N%s*/_}" % op, R)
    c("${E%sa/b}" % op, R)
    c("${U%sa/b}" % op, R, "unset")
    c("${X%sx/\\$0}" % op, R, "an escaped $0 in the replacement")
    c("${X%sx/$$}" % op, R, "$$ in the replacement")
    c("${X%sx/$DOLLAR}" % op, R, "a replacement value containing $0")
    c("${X%sx/\\${0\\}}" % op, R)
    c("${X%sx/\\$\\$}" % op, R)
    c("${X%sx/a$}" % op, R)
    c("${X%sx}" % op, R, "missing slash")
    c("${X%sx" % op, R)
    c("${X%sx/y" % op, R, "missing brace")
    c("${X%s\\x/y}" % op, R, "invalid escape")
    c("${X%sx/y/z}" % op, R, "a second slash belongs to the replacement")
    c("${X%s$PAT/-}" % op, dict(R, PAT="x*"))
    c("${X%s\"x\"/'-'}" % op, R, "quotes in pattern and replacement")
c("${X///}", R)
c("${X//}", R)
c("${X/}", R)
c("${P//\\//\\\\}", R)
# unsupported and syntax errors
for s in ["${V:=w}", "${V=w}", "${V:x}", "${V^^}", "${V,,}", "${V:0:2}", "${V:}", "${V:}b}", "${#V}", "${!V}", "${V[0]}", "${V@Q}", "${V.x}", "${V", "${V:-", "${V:-x", "${V:", "${V#", "${V%%", "${V-${U", "${}", "${:}", "${:-x}", "${{V}}", "${.}", "${ V}", "${V }", "${-}", "${#}", "${#:-d}", "${@:+a}", "${*}", "${?}", "${!}", "${$}", "${0}", "${+x}", "${-x}", "${/a/b}", "${V:/a/b}", "${V:?}", "${V:?msg}x"]:
    c(s, S, "modifiers and syntax errors")
# quoting and escapes
for s in ["'a $V b'", "\"a $V b\"", "'", "\"", "a'b", "a\"b", "\"a'b\"", "'a\"b'", "\\'", "\\\"", "\"\\\"\"", "\"\\$V\"", "\"\\\\$V\"", "\"\\a\"", "\"a\\", "a\\", "a\\\\", "\\$V", "\\${V}", "'\\'", "\"$V\"'$V'$V", "\"${V:-\"x\"}\"", "\"${U:-'x'}\"", "'${V}'", "a\\ b", "\"\"", "''", "x\"\"y", "<<EOF", "<< EOF", "a<b", "a<<b", "<<\t\tX"]:
    c(s, S, "quotes and escapes")
for s in ["a`$V", "`$V", "a\\b", "\"a`\"b\"", "\"a`$V\"", "\"a``b\"", "\"a`x\"", "a`", "a``", "\"a\\\"", "${U:-a`}b}", "${V#`*}"]:
    c(s, S, "backtick escape", escape="`")
# options
for s in ["'a $V'", "\"a $V\"", "a\\ b", "\"a\\\"b\"", "${U:-'x y'}", "a\\", "\"x\\", "\\$V"]:
    c(s, S, "raw quotes", raw_quotes=True)
    c(s, S, "raw escapes", raw_escapes=True)
    c(s, S, "raw quotes and escapes", raw_quotes=True, raw_escapes=True)
    c(s, S, "skip process quotes", skip_process_quotes=True)
for s in ["$U", "${U}", "$V$U", "${U:-d}", "${U-d}", "${U:+a}", "${U+a}", "${U:?m}", "${U?m}", "${U#p}", "${U##p}", "${U%p}", "${U%%p}", "${U/a/b}", "${U//a/b}", "${U:=w}", "${U:-$V}", "${V:-$U}", "${U:-${U2}}", "\"$U\"", "${U:#x}", "$1", "${@}"]:
    c(s, S, "skip unset", skip_unset=True)
# words
for s in ["a b", "  a   b  ", "a\tb\nc", "a\u00a0b", "a\u3000b", "\"a b\" c", "'a  b'c d", "$W", "\"$W\"", "x$W", "x${W}y", "${U:-a b}", "x${U:-a}y", "a ${U:-b} c", "x\"${U:-a}\"y", "\"\"", "''", "a '' b", "x'' y", "a\\ b", "a\\\tb", "<<EOF", "<< EOF", "cat << EOF > x", "<<-'EOF'", "a <<  \tX y", "${V:-x} y", "$V ${V#v}", "a\"b", "\"a", "${U", "", " "]:
    c(s, S, "split into words", words=True)
    if s in ["\"a b\" c", "$W", "<<EOF", "<< EOF", "a <<  \tX y"]:
        c(s, S, "split, raw quotes and skip unset (heredoc detection)", words=True, raw_quotes=True, skip_unset=True)
        c(s, S, "split, raw quotes, raw escapes and skip unset", words=True, raw_quotes=True, raw_escapes=True, skip_unset=True)
# misc
c("\ufeff$V", S, "a leading byte order mark is dropped")
c("a\ufeff$V", S)
c("${U:-\ufeffx}", S)
c("a\u0000b$V", S, "NUL is an ordinary character")
c("${U:-a\nb}\t\"q\"", S, "error messages quote the input like Go")
c("${U:?a\tb\"c\\}", S)
c("${U:?}\u0001\u007f\u0085", S)
c("$V ${V} ${U} ${U2:-$V} ${U3:+x} ${@}", S, "matched and unmatched names")
c("${U:-${U:-${U:-${V}}}}", S)
c("${U#${V}}", S)
c("${@}$*$#$?$-$!$0$1", S)

reqs = []
for x in C:
    r = {k: v for k, v in x.items() if k != "note"}
    reqs.append(r)
inp = "\n".join(json.dumps(r) for r in reqs) + "\n"
out = subprocess.run([os.environ.get("BUILDKIT_LEX_ORACLE", "./oracle")], input=inp.encode(), capture_output=True, check=True).stdout.decode()
lines = out.splitlines()
assert len(lines) == len(C)
res = []
for x, o in zip(C, lines):
    o = json.loads(o)
    d = {"input": x["input"]}
    if x["env"]:
        d["env"] = x["env"]
    for k in ["escape", "words", "raw_quotes", "raw_escapes", "skip_unset", "skip_process_quotes"]:
        if k in x and x[k]:
            d[k] = x[k]
    if o["err"] is not None:
        d["err"] = o["err"]
    elif x.get("words"):
        d["expect_words"] = o["words"] or []
    else:
        d["result"] = o["result"]
        d["matched"] = o["matched"] or []
        d["unmatched"] = o["unmatched"] or []
    if x["note"]:
        d["note"] = x["note"]
    res.append(d)
hdr = """# Expansion cases for kasane's BuildKit shell lexer (tests/expand_vectors.rs runs every line).
# One JSON object per line: input, env, options (escape, words, raw_quotes, raw_escapes,
# skip_unset, skip_process_quotes) and the expectation: result + matched + unmatched for one
# word, expect_words for a split, or err (BuildKit's full error text).
# Expectations were produced by running each input through BuildKit's frontend/dockerfile/shell
# package (moby/buildkit 73ed6825c, 2026-08-21) and reviewed by hand; lines starting with # are
# comments.
"""
sys.stdout.write(hdr + "\n".join(json.dumps(d, ensure_ascii=False) for d in res) + "\n")
