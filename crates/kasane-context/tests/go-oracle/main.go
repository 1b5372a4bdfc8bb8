// go-oracle answers .dockerignore questions with moby/patternmatcher itself, for kasane's
// differential tests. It is built offline against Debian's golang-github-moby-patternmatcher-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-oracle .
//
// Input, one record per line, fields hex-encoded so any bytes survive:
//
//	P <pattern>          add a pattern to the current case
//	Q <mode> <path>      ask about a path (modes below)
//	E                    end of case: print the answers
//	R <regexp> <text>... compile a Go regexp, print "E" or one 0/1 per text
//
// Modes: m = PatternMatcher.MatchesOrParentMatches, l = PatternMatcher.Matches (deprecated),
// f = package-level MatchesOrParentMatches (cleans the path), u = MatchesUsingParentResults
// fed the results of each parent directory in turn, as walkers do.
//
// Output for a case: "N" when New fails, else one line per query of 0, 1, E (error) or
// X (panic). Each query gets a fresh matcher, because a pattern whose regexp failed to
// compile makes later calls on the same matcher panic.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/moby/patternmatcher"
)

type query struct {
	mode string
	path string
}

func mustHex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad hex:", err)
		os.Exit(2)
	}
	return string(b)
}

func verdict(ok bool, err error) string {
	if err != nil {
		return "E"
	}
	if ok {
		return "1"
	}
	return "0"
}

func answer(patterns []string, q query) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = "X"
		}
	}()
	if q.mode == "f" {
		return verdict(patternmatcher.MatchesOrParentMatches(q.path, patterns))
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return "N"
	}
	switch q.mode {
	case "m":
		return verdict(pm.MatchesOrParentMatches(q.path))
	case "l":
		return verdict(pm.Matches(q.path))
	case "u":
		parts := strings.Split(q.path, "/")
		var info patternmatcher.MatchInfo
		var ok bool
		for i := range parts {
			ok, info, err = pm.MatchesUsingParentResults(strings.Join(parts[:i+1], "/"), info)
			if err != nil {
				return "E"
			}
		}
		return verdict(ok, nil)
	}
	fmt.Fprintln(os.Stderr, "unknown mode", q.mode)
	os.Exit(2)
	return ""
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	var patterns []string
	var queries []query
	for in.Scan() {
		fields := strings.Split(in.Text(), " ")
		switch fields[0] {
		case "P":
			patterns = append(patterns, mustHex(fields[1]))
		case "Q":
			queries = append(queries, query{fields[1], mustHex(fields[2])})
		case "E":
			if _, err := patternmatcher.New(patterns); err != nil {
				fmt.Fprintln(out, "N")
			} else {
				for _, q := range queries {
					fmt.Fprintln(out, answer(patterns, q))
				}
			}
			patterns, queries = nil, nil
		case "R":
			re, err := regexp.Compile(mustHex(fields[1]))
			if err != nil {
				fmt.Fprintln(out, "E")
				continue
			}
			var b strings.Builder
			for _, t := range fields[2:] {
				if re.MatchString(mustHex(t)) {
					b.WriteByte('1')
				} else {
					b.WriteByte('0')
				}
			}
			fmt.Fprintln(out, b.String())
		default:
			fmt.Fprintln(os.Stderr, "unknown record", fields[0])
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
