// A JSON-lines front end to BuildKit's shell lexer (frontend/dockerfile/shell), for producing the
// expectations in tests/data/expand-cases.jsonl. See README.md here for how to build it.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"

	"kasane-lex-oracle/shell"
)

type req struct {
	Input             string            `json:"input"`
	Env               map[string]string `json:"env"`
	Escape            string            `json:"escape"`
	Words             bool              `json:"words"`
	RawQuotes         bool              `json:"raw_quotes"`
	RawEscapes        bool              `json:"raw_escapes"`
	SkipUnsetEnv      bool              `json:"skip_unset"`
	SkipProcessQuotes bool              `json:"skip_process_quotes"`
}
type resp struct {
	Result    string   `json:"result"`
	Words     []string `json:"words"`
	Matched   []string `json:"matched"`
	Unmatched []string `json:"unmatched"`
	Err       *string  `json:"err"`
}

func keys(m map[string]struct{}) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<20), 64<<20)
	enc := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		var r req
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			panic(err)
		}
		esc := '\\'
		if r.Escape == "`" {
			esc = '`'
		}
		lex := shell.NewLex(esc)
		lex.RawQuotes = r.RawQuotes
		lex.RawEscapes = r.RawEscapes
		lex.SkipUnsetEnv = r.SkipUnsetEnv
		lex.SkipProcessQuotes = r.SkipProcessQuotes
		kv := []string{}
		for k, v := range r.Env {
			kv = append(kv, k+"="+v)
		}
		env := shell.EnvsFromSlice(kv)
		var out resp
		if r.Words {
			w, err := lex.ProcessWords(r.Input, env)
			if err != nil {
				s := err.Error()
				out.Err = &s
			}
			out.Words = w
		} else {
			res, err := lex.ProcessWordWithMatches(r.Input, env)
			if err != nil {
				s := err.Error()
				out.Err = &s
			}
			out.Result = res.Result
			out.Matched = keys(res.Matched)
			out.Unmatched = keys(res.Unmatched)
		}
		enc.Encode(out)
	}
}
