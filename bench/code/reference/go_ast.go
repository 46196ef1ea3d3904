// Reference definitions of Go files, from Go's own parser (go/parser).
//
// Reads project-relative paths on stdin, run from the corpus root, and prints one JSON
// object per definition: file, name, line (of the name), kind. Every depth is included:
// functions, methods, types (struct, interface, other) declared anywhere, including
// inside function bodies, and the methods of interface types. Blank names are left out.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
)

type def struct {
	File string `json:"file"`
	Name string `json:"name"`
	Line int    `json:"line"`
	Kind string `json:"kind"`
}

func main() {
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	unparsed := 0
	for in.Scan() {
		path := in.Text()
		if !strings.HasSuffix(path, ".go") {
			continue
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			unparsed++
			continue
		}
		emit := func(name *ast.Ident, kind string) {
			if name == nil || name.Name == "_" {
				return
			}
			out.Encode(def{path, name.Name, fset.Position(name.Pos()).Line, kind})
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Recv != nil {
					emit(n.Name, "method")
				} else {
					emit(n.Name, "function")
				}
			case *ast.TypeSpec:
				kind := "type"
				switch t := n.Type.(type) {
				case *ast.StructType:
					kind = "struct"
				case *ast.InterfaceType:
					kind = "interface"
					for _, m := range t.Methods.List {
						if _, ok := m.Type.(*ast.FuncType); ok {
							for _, name := range m.Names {
								emit(name, "method")
							}
						}
					}
				}
				emit(n.Name, kind)
			}
			return true
		})
	}
	fmt.Fprintf(os.Stderr, "{\"unparsed\": %d}\n", unparsed)
}
