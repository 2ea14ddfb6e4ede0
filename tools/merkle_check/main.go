// Command merkle_check verifies Merkle tree roots and proofs with github.com/transparency-dev/merkle,
// an RFC 6962/9162 implementation this project did not write, so the Python module
// backend/transparency/merkle.py is checked against someone else's reading of the RFC.
//
// Input on stdin: a JSON array of checks, every hash hex-encoded:
//
//	{"kind": "inclusion", "leaf_hash": "..", "index": 3, "size": 8, "proof": [".."], "root": ".."}
//	{"kind": "consistency", "first": 3, "second": 8, "first_root": "..", "second_root": "..", "proof": [".."]}
//	{"kind": "root", "leaves_hex": [".."], "root": ".."}    (leaves_hex are entries, not leaf hashes)
//
// Output on stdout: a JSON array with one result per check, in order: {"ok": true} or
// {"ok": false, "error": "..."}. Root checks also report the root the library computed, so
// callers can take reference values from it. Exit status 2 means the input itself was unreadable.
package main

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

type check struct {
	Kind       string   `json:"kind"`
	LeafHash   string   `json:"leaf_hash"`
	Index      uint64   `json:"index"`
	Size       uint64   `json:"size"`
	First      uint64   `json:"first"`
	Second     uint64   `json:"second"`
	FirstRoot  string   `json:"first_root"`
	SecondRoot string   `json:"second_root"`
	Proof      []string `json:"proof"`
	Root       string   `json:"root"`
	LeavesHex  []string `json:"leaves_hex"`
}

type result struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Root  string `json:"root,omitempty"`
}

var hasher = rfc6962.New(crypto.SHA256)

func decodeAll(values []string) ([][]byte, error) {
	out := make([][]byte, len(values))
	for i, v := range values {
		b, err := hex.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out[i] = b
	}
	return out, nil
}

func decode(values ...string) ([][]byte, error) {
	return decodeAll(values)
}

// rootOf builds the tree with the library's compact range (its own append and root code), not
// with anything mirrored from the Python side.
func rootOf(leavesHex []string) ([]byte, error) {
	entries, err := decodeAll(leavesHex)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return hasher.EmptyRoot(), nil
	}
	factory := compact.RangeFactory{Hash: hasher.HashChildren}
	tree := factory.NewEmptyRange(0)
	for _, entry := range entries {
		if err := tree.Append(hasher.HashLeaf(entry), nil); err != nil {
			return nil, err
		}
	}
	return tree.GetRootHash(nil)
}

func run(c check) result {
	switch c.Kind {
	case "inclusion":
		hashes, err := decode(c.LeafHash, c.Root)
		if err != nil {
			return result{Error: "bad hex: " + err.Error()}
		}
		path, err := decodeAll(c.Proof)
		if err != nil {
			return result{Error: "bad proof hex: " + err.Error()}
		}
		if err := proof.VerifyInclusion(hasher, c.Index, c.Size, hashes[0], path, hashes[1]); err != nil {
			return result{Error: err.Error()}
		}
		return result{OK: true}
	case "consistency":
		roots, err := decode(c.FirstRoot, c.SecondRoot)
		if err != nil {
			return result{Error: "bad hex: " + err.Error()}
		}
		path, err := decodeAll(c.Proof)
		if err != nil {
			return result{Error: "bad proof hex: " + err.Error()}
		}
		if err := proof.VerifyConsistency(hasher, c.First, c.Second, path, roots[0], roots[1]); err != nil {
			return result{Error: err.Error()}
		}
		return result{OK: true}
	case "root":
		got, err := rootOf(c.LeavesHex)
		if err != nil {
			return result{Error: err.Error()}
		}
		computed := hex.EncodeToString(got)
		want, err := hex.DecodeString(c.Root)
		if err != nil {
			return result{Error: "bad root hex: " + err.Error(), Root: computed}
		}
		if !bytes.Equal(got, want) {
			return result{Error: "root mismatch: computed " + computed, Root: computed}
		}
		return result{OK: true, Root: computed}
	default:
		return result{Error: fmt.Sprintf("unknown kind %q", c.Kind)}
	}
}

func main() {
	var checks []check
	if err := json.NewDecoder(os.Stdin).Decode(&checks); err != nil {
		fmt.Fprintln(os.Stderr, "merkle_check: reading checks:", err)
		os.Exit(2)
	}
	results := make([]result, len(checks))
	for i, c := range checks {
		results[i] = run(c)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "merkle_check: writing results:", err)
		os.Exit(2)
	}
}
