//! Imports resolve to the project file they name, per language and style;
//! external modules stay bare.

mod common;

use baton_code::{scan_full, CodeIndex};
use common::Project;

/// (source, resolved) of every import in `file`, after a full scan.
fn imports_of(p: &Project, file: &str) -> Vec<(String, Option<String>)> {
    let index = CodeIndex::open(&p.root).expect("index opens");
    index
        .imports(file)
        .expect("file is indexed")
        .into_iter()
        .map(|i| (i.source, i.resolved))
        .collect()
}

fn resolved(p: &Project, file: &str, source: &str) -> Option<String> {
    imports_of(p, file)
        .into_iter()
        .find(|(s, _)| s == source)
        .unwrap_or_else(|| panic!("{file} has no import of {source}"))
        .1
}

#[test]
fn typescript_relative_imports_probe_extensions_and_index_files() {
    let p = Project::new();
    p.write(
        "src/app.ts",
        "import { a } from './lib/a';\nimport b from './lib';\nimport { c } from '../shared/c.js';\nimport React from 'react';\nexport * from './types';\nimport legacy = require('./legacy');\n",
    )
    .write("src/lib/a.ts", "export const a = 1;\n")
    .write("src/lib/index.tsx", "export default 1;\n")
    .write("shared/c.ts", "export const c = 1;\n")
    .write("src/types.d.ts", "export type T = 1;\n")
    .write("src/legacy.js", "module.exports = {};\n");
    scan_full(&p.root).unwrap();
    assert_eq!(
        resolved(&p, "src/app.ts", "./lib/a").as_deref(),
        Some("src/lib/a.ts")
    );
    assert_eq!(
        resolved(&p, "src/app.ts", "./lib").as_deref(),
        Some("src/lib/index.tsx")
    );
    assert_eq!(
        resolved(&p, "src/app.ts", "../shared/c.js").as_deref(),
        Some("shared/c.ts")
    );
    assert_eq!(
        resolved(&p, "src/app.ts", "./types").as_deref(),
        Some("src/types.d.ts")
    );
    assert_eq!(resolved(&p, "src/app.ts", "react"), None);
    assert_eq!(
        resolved(&p, "src/app.ts", "./legacy").as_deref(),
        Some("src/legacy.js")
    );
}

#[test]
fn typescript_paths_and_base_url_from_tsconfig_resolve() {
    let p = Project::new();
    p.write(
        "tsconfig.json",
        r#"{
  // comments are allowed in tsconfig
  "compilerOptions": {
    "baseUrl": ".",
    "paths": { "@/*": ["src/*"], "@config": ["config/index.ts"], },
  },
}"#,
    )
    .write(
        "src/ui/button.tsx",
        "import { x } from '@/util/x';\nimport cfg from '@config';\nimport { y } from 'src/util/y';\nimport lodash from 'lodash';\n",
    )
    .write("src/util/x.ts", "export const x = 1;\n")
    .write("src/util/y.js", "export const y = 1;\n")
    .write("config/index.ts", "export default {};\n");
    scan_full(&p.root).unwrap();
    let f = "src/ui/button.tsx";
    assert_eq!(
        resolved(&p, f, "@/util/x").as_deref(),
        Some("src/util/x.ts")
    );
    assert_eq!(
        resolved(&p, f, "@config").as_deref(),
        Some("config/index.ts")
    );
    assert_eq!(
        resolved(&p, f, "src/util/y").as_deref(),
        Some("src/util/y.js")
    );
    assert_eq!(resolved(&p, f, "lodash"), None);
}

#[test]
fn javascript_require_and_esm_imports_resolve() {
    let p = Project::new();
    p.write(
        "index.js",
        "const util = require('./util');\nconst { h } = require('./helpers/index.cjs');\nimport m from './mod.mjs';\nconst fs = require('fs');\n",
    )
    .write("util.js", "module.exports = {};\n")
    .write("helpers/index.cjs", "module.exports = {};\n")
    .write("mod.mjs", "export default 1;\n");
    scan_full(&p.root).unwrap();
    assert_eq!(
        resolved(&p, "index.js", "./util").as_deref(),
        Some("util.js")
    );
    assert_eq!(
        resolved(&p, "index.js", "./helpers/index.cjs").as_deref(),
        Some("helpers/index.cjs")
    );
    assert_eq!(
        resolved(&p, "index.js", "./mod.mjs").as_deref(),
        Some("mod.mjs")
    );
    assert_eq!(resolved(&p, "index.js", "fs"), None);
}

#[test]
fn python_absolute_relative_and_package_imports_resolve() {
    let p = Project::new();
    p.write("json/__init__.py", "def loads(s): pass\n")
        .write("app/__init__.py", "")
        .write("app/models/__init__.py", "")
        .write("app/models/user.py", "class User: pass\n")
        .write("app/util.py", "def f(): pass\n")
        .write(
            "app/views.py",
            "import json\nimport app.util\nfrom app.models import user\nfrom .models.user import User\nfrom . import util\nfrom .. import outside\nimport requests\n",
        )
        .write("app/models/admin.py", "from ..util import f\nfrom .user import User\n");
    scan_full(&p.root).unwrap();
    let v = "app/views.py";
    assert_eq!(resolved(&p, v, "json").as_deref(), Some("json/__init__.py"));
    assert_eq!(resolved(&p, v, "app.util").as_deref(), Some("app/util.py"));
    assert_eq!(
        resolved(&p, v, "app.models").as_deref(),
        Some("app/models/user.py")
    );
    assert_eq!(
        resolved(&p, v, ".models.user").as_deref(),
        Some("app/models/user.py")
    );
    assert_eq!(resolved(&p, v, ".").as_deref(), Some("app/util.py"));
    assert_eq!(resolved(&p, v, ".."), None);
    assert_eq!(resolved(&p, v, "requests"), None);
    let a = "app/models/admin.py";
    assert_eq!(resolved(&p, a, "..util").as_deref(), Some("app/util.py"));
    assert_eq!(
        resolved(&p, a, ".user").as_deref(),
        Some("app/models/user.py")
    );
}

#[test]
fn python_src_layout_packages_resolve() {
    let p = Project::new();
    p.write("src/pkg/__init__.py", "")
        .write("src/pkg/core.py", "X = 1\n")
        .write("tests/test_core.py", "from pkg.core import X\nimport pkg\n");
    scan_full(&p.root).unwrap();
    let t = "tests/test_core.py";
    assert_eq!(
        resolved(&p, t, "pkg.core").as_deref(),
        Some("src/pkg/core.py")
    );
    assert_eq!(
        resolved(&p, t, "pkg").as_deref(),
        Some("src/pkg/__init__.py")
    );
}

#[test]
fn go_imports_resolve_through_the_module_path_to_package_folders() {
    let p = Project::new();
    p.write("go.mod", "module example.com/app\n\ngo 1.22\n")
        .write(
            "cmd/server/main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\t\"example.com/app/internal/store\"\n\tapp \"example.com/app\"\n\t\"example.com/other/pkg\"\n)\n",
        )
        .write("internal/store/store.go", "package store\n\ntype Store struct{}\n")
        .write("app.go", "package app\n");
    scan_full(&p.root).unwrap();
    let m = "cmd/server/main.go";
    assert_eq!(resolved(&p, m, "fmt"), None);
    assert_eq!(
        resolved(&p, m, "example.com/app/internal/store").as_deref(),
        Some("internal/store")
    );
    assert_eq!(resolved(&p, m, "example.com/app").as_deref(), Some(""));
    assert_eq!(resolved(&p, m, "example.com/other/pkg"), None);
    let index = CodeIndex::open(&p.root).unwrap();
    let deps = index.dependents("internal/store/store.go", 0).unwrap();
    assert_eq!(deps[0].file, m);
}

#[test]
fn rust_mod_declarations_and_crate_paths_resolve() {
    let p = Project::new();
    p.write("Cargo.toml", "[package]\nname = \"x\"\n")
        .write(
            "src/lib.rs",
            "mod store;\npub mod net;\nuse crate::store::Store;\nuse serde::Serialize;\n",
        )
        .write("src/store.rs", "pub struct Store;\nmod cache;\n")
        .write(
            "src/store/cache.rs",
            "use super::Store;\nuse crate::net::http::{get, post};\n",
        )
        .write("src/net/mod.rs", "pub mod http;\nuse self::http::get;\n")
        .write("src/net/http.rs", "pub fn get() {}\npub fn post() {}\n");
    scan_full(&p.root).unwrap();
    assert_eq!(
        resolved(&p, "src/lib.rs", "store").as_deref(),
        Some("src/store.rs")
    );
    assert_eq!(
        resolved(&p, "src/lib.rs", "net").as_deref(),
        Some("src/net/mod.rs")
    );
    assert_eq!(
        resolved(&p, "src/lib.rs", "crate::store").as_deref(),
        Some("src/store.rs")
    );
    assert_eq!(resolved(&p, "src/lib.rs", "serde"), None);
    assert_eq!(
        resolved(&p, "src/store.rs", "cache").as_deref(),
        Some("src/store/cache.rs")
    );
    let c = "src/store/cache.rs";
    assert_eq!(resolved(&p, c, "super").as_deref(), Some("src/store.rs"));
    assert_eq!(
        resolved(&p, c, "crate::net::http").as_deref(),
        Some("src/net/http.rs")
    );
    assert_eq!(
        resolved(&p, "src/net/mod.rs", "self::http").as_deref(),
        Some("src/net/http.rs")
    );
}

#[test]
fn java_imports_resolve_from_the_source_root() {
    let p = Project::new();
    p.write(
        "src/main/java/com/acme/App.java",
        "package com.acme;\nimport com.acme.model.User;\nimport com.acme.util.*;\nimport static com.acme.util.Strings.trim;\nimport java.util.List;\npublic class App {}\n",
    )
    .write("src/main/java/com/acme/model/User.java", "package com.acme.model;\npublic class User {}\n")
    .write("src/main/java/com/acme/util/Strings.java", "package com.acme.util;\npublic class Strings {}\n");
    scan_full(&p.root).unwrap();
    let a = "src/main/java/com/acme/App.java";
    assert_eq!(
        resolved(&p, a, "com.acme.model.User").as_deref(),
        Some("src/main/java/com/acme/model/User.java")
    );
    assert_eq!(
        resolved(&p, a, "com.acme.util.*").as_deref(),
        Some("src/main/java/com/acme/util")
    );
    assert_eq!(
        resolved(&p, a, "com.acme.util.Strings.trim").as_deref(),
        Some("src/main/java/com/acme/util/Strings.java")
    );
    assert_eq!(resolved(&p, a, "java.util.List"), None);
}

#[test]
fn c_and_cpp_includes_resolve_locally_and_from_include_folder() {
    let p = Project::new();
    p.write(
        "src/main.c",
        "#include <stdio.h>\n#include \"util.h\"\n#include \"proj/api.h\"\n#include <proj/api.h>\n",
    )
    .write("src/util.h", "int util(void);\n")
    .write("include/proj/api.h", "void api(void);\n")
    .write(
        "lib/shape.cpp",
        "#include \"../src/util.h\"\n#include <vector>\n",
    );
    scan_full(&p.root).unwrap();
    assert_eq!(resolved(&p, "src/main.c", "stdio.h"), None);
    assert_eq!(
        resolved(&p, "src/main.c", "util.h").as_deref(),
        Some("src/util.h")
    );
    let imports = imports_of(&p, "src/main.c");
    assert!(imports
        .iter()
        .filter(|(s, _)| s == "proj/api.h")
        .all(|(_, r)| r.as_deref() == Some("include/proj/api.h")));
    assert_eq!(
        resolved(&p, "lib/shape.cpp", "../src/util.h").as_deref(),
        Some("src/util.h")
    );
    assert_eq!(resolved(&p, "lib/shape.cpp", "vector"), None);
}

#[test]
fn ruby_requires_resolve_relative_and_from_lib() {
    let p = Project::new();
    p.write(
        "app/main.rb",
        "require_relative 'helpers/fmt'\nrequire 'billing/invoice'\nrequire 'json'\n",
    )
    .write("app/helpers/fmt.rb", "def fmt; end\n")
    .write("lib/billing/invoice.rb", "class Invoice; end\n");
    scan_full(&p.root).unwrap();
    let m = "app/main.rb";
    assert_eq!(
        resolved(&p, m, "helpers/fmt").as_deref(),
        Some("app/helpers/fmt.rb")
    );
    assert_eq!(
        resolved(&p, m, "billing/invoice").as_deref(),
        Some("lib/billing/invoice.rb")
    );
    assert_eq!(resolved(&p, m, "json"), None);
}

#[test]
fn csharp_usings_are_recorded_with_their_namespace() {
    let p = Project::new();
    p.write(
        "Program.cs",
        "using System;\nusing Acme.Models;\nclass Program {}\n",
    );
    scan_full(&p.root).unwrap();
    let imports = imports_of(&p, "Program.cs");
    assert_eq!(
        imports,
        vec![
            ("System".to_string(), None),
            ("Acme.Models".to_string(), None)
        ]
    );
}

/// A yarn/npm/pnpm workspace: packages import each other by name, and each name leads to
/// the member's source, through `exports` (subpath patterns, conditions), `types`,
/// `main` or a subpath, with built output mapped back to the source it comes from.
#[test]
fn workspace_packages_resolve_by_name_to_their_sources() {
    let p = Project::new();
    p.write(
        "package.json",
        r#"{"private": true, "workspaces": ["packages/*", "apps/*"]}"#,
    )
    .write("pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n")
    // main points at the build; the source is under src/.
    .write(
        "packages/core/package.json",
        r#"{"name": "@acme/core", "main": "dist/index.js", "types": "dist/index.d.ts"}"#,
    )
    .write("packages/core/src/index.ts", "export * from './common';\n")
    .write("packages/core/src/common.ts", "export const common = 1;\n")
    // exports with conditions and a subpath pattern; outDir/rootDir in its tsconfig.
    .write(
        "packages/ui/package.json",
        r#"{"name": "@acme/ui", "exports": {
            ".": {"types": "./build/types/main.d.ts", "import": "./build/esm/main.js"},
            "./widgets/*": {"import": "./build/esm/widgets/*.js"},
            "./package.json": "./package.json"}}"#,
    )
    .write(
        "packages/ui/tsconfig.json",
        r#"{"compilerOptions": {"outDir": "./build/esm", "rootDir": "./lib"}}"#,
    )
    .write("packages/ui/lib/main.tsx", "export const Ui = 1;\n")
    .write(
        "packages/ui/lib/widgets/button.tsx",
        "export const Button = 1;\n",
    )
    // An unscoped JavaScript package whose main is its source.
    .write(
        "packages/util/package.json",
        r#"{"name": "acme-util", "main": "./index.js"}"#,
    )
    .write("packages/util/index.js", "module.exports = {};\n")
    .write("packages/util/lib/strings.js", "module.exports = {};\n")
    .write(
        "apps/web/src/app.ts",
        "import { common } from '@acme/core';\n\
         import { common as c2 } from '@acme/core/lib/common';\n\
         import { Ui } from '@acme/ui';\n\
         import { Button } from '@acme/ui/widgets/button';\n\
         import util from 'acme-util';\n\
         import strings from 'acme-util/lib/strings';\n\
         import react from 'react';\n\
         import missing from '@acme/nothing';\n",
    );
    scan_full(&p.root).unwrap();
    let app = "apps/web/src/app.ts";
    for (source, expected) in [
        ("@acme/core", Some("packages/core/src/index.ts")),
        ("@acme/core/lib/common", Some("packages/core/src/common.ts")),
        ("@acme/ui", Some("packages/ui/lib/main.tsx")),
        (
            "@acme/ui/widgets/button",
            Some("packages/ui/lib/widgets/button.tsx"),
        ),
        ("acme-util", Some("packages/util/index.js")),
        (
            "acme-util/lib/strings",
            Some("packages/util/lib/strings.js"),
        ),
        ("react", None),
        ("@acme/nothing", None),
    ] {
        assert_eq!(resolved(&p, app, source).as_deref(), expected, "{source}");
    }
    // Cross-package links count for dependents.
    let index = CodeIndex::open(&p.root).unwrap();
    let deps = index.dependents("packages/core/src/common.ts", 0).unwrap();
    let files: Vec<&str> = deps.iter().map(|d| d.file.as_str()).collect();
    assert!(files.contains(&app), "{files:?}");
    assert!(files.contains(&"packages/core/src/index.ts"), "{files:?}");
}

/// Go modules nested in the repository (their own go.mod, as a go.work lists them)
/// import each other and the root module.
#[test]
fn go_imports_resolve_across_nested_modules() {
    let p = Project::new();
    p.write("go.work", "go 1.22\n\nuse (\n\t.\n\t./tools\n\t./api\n)\n")
        .write("go.mod", "module example.com/repo\n\ngo 1.22\n")
        .write("internal/core/core.go", "package core\n")
        .write("tools/go.mod", "module example.com/repo/tools\n")
        .write(
            "tools/gen/main.go",
            "package main\n\nimport (\n\t\"example.com/repo/internal/core\"\n\t\"example.com/api/v2/types\"\n)\n",
        )
        .write("api/go.mod", "module example.com/api/v2\n")
        .write("api/types/types.go", "package types\n")
        .write(
            "cmd/run/main.go",
            "package main\n\nimport \"example.com/repo/tools/gen\"\n",
        );
    scan_full(&p.root).unwrap();
    let gen = "tools/gen/main.go";
    assert_eq!(
        resolved(&p, gen, "example.com/repo/internal/core").as_deref(),
        Some("internal/core")
    );
    assert_eq!(
        resolved(&p, gen, "example.com/api/v2/types").as_deref(),
        Some("api/types")
    );
    assert_eq!(
        resolved(&p, "cmd/run/main.go", "example.com/repo/tools/gen").as_deref(),
        Some("tools/gen")
    );

    // Go's own source tree: module `std` holds `fmt` and `net/http` at their import paths,
    // and the nested module `cmd` imports them too.
    let go = Project::new();
    go.write("src/go.mod", "module std\n")
        .write("src/fmt/print.go", "package fmt\n")
        .write("src/net/http/server.go", "package http\n\nimport \"fmt\"\n")
        .write("src/cmd/go.mod", "module cmd\n")
        .write("src/cmd/internal/sys/arch.go", "package sys\n")
        .write(
            "src/cmd/asm/main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\t\"cmd/internal/sys\"\n\t\"golang.org/x/arch\"\n)\n",
        );
    scan_full(&go.root).unwrap();
    let asm = "src/cmd/asm/main.go";
    assert_eq!(resolved(&go, asm, "fmt").as_deref(), Some("src/fmt"));
    assert_eq!(
        resolved(&go, asm, "cmd/internal/sys").as_deref(),
        Some("src/cmd/internal/sys")
    );
    assert_eq!(resolved(&go, asm, "golang.org/x/arch"), None);
    assert_eq!(
        resolved(&go, "src/net/http/server.go", "fmt").as_deref(),
        Some("src/fmt")
    );
}

/// A Python monorepo: each distribution has its own `src/` layout, and one imports another
/// by its package name; a namespace package (no `__init__.py`) resolves too.
#[test]
fn python_packages_of_a_monorepo_resolve_from_their_own_src_folders() {
    let p = Project::new();
    p.write(
        "libs/models/pyproject.toml",
        "[project]\nname = \"models\"\n",
    )
    .write("libs/models/src/models/__init__.py", "")
    .write("libs/models/src/models/user.py", "class User:\n    pass\n")
    .write("services/api/setup.py", "from setuptools import setup\n")
    .write(
        "services/api/api/views.py",
        "from models.user import User\nimport acme.plugins.auth\nimport requests\n",
    )
    .write("services/api/api/__init__.py", "")
    .write(
        "libs/plugins/pyproject.toml",
        "[project]\nname = \"acme-plugins\"\n",
    )
    .write(
        "libs/plugins/src/acme/plugins/auth.py",
        "def login():\n    pass\n",
    );
    scan_full(&p.root).unwrap();
    let views = "services/api/api/views.py";
    assert_eq!(
        resolved(&p, views, "models.user").as_deref(),
        Some("libs/models/src/models/user.py")
    );
    assert_eq!(
        resolved(&p, views, "acme.plugins.auth").as_deref(),
        Some("libs/plugins/src/acme/plugins/auth.py")
    );
    assert_eq!(resolved(&p, views, "requests"), None);
}

/// An Nx-style monorepo: `paths` live in a base config that each project's tsconfig
/// extends; targets stay relative to the file that sets them (with or without baseUrl).
#[test]
fn typescript_paths_inherited_through_extends_resolve() {
    let p = Project::new();
    p.write(
        "tsconfig.base.json",
        r#"{"compilerOptions": {"paths": {"@org/lib": ["libs/lib/src/index.ts"], "@org/util/*": ["libs/util/src/*"]}}}"#,
    )
    .write(
        "apps/web/tsconfig.json",
        r#"{"extends": "../../tsconfig.base.json", "compilerOptions": {"strict": true}}"#,
    )
    .write(
        "apps/web/tsconfig.app.json",
        r#"{"extends": "./tsconfig", "compilerOptions": {"outDir": "../../dist/web"}}"#,
    )
    .write(
        "apps/web/src/main.ts",
        "import { lib } from '@org/lib';\nimport { upper } from '@org/util/strings';\nimport x from '@org/none';\n",
    )
    .write("libs/lib/src/index.ts", "export const lib = 1;\n")
    .write("libs/util/src/strings.ts", "export const upper = 1;\n")
    // A config that extends itself is read once, not forever.
    .write("loop/tsconfig.json", r#"{"extends": "./tsconfig.json"}"#)
    .write("loop/a.ts", "import b from './b';\n")
    .write("loop/b.ts", "export default 1;\n");
    scan_full(&p.root).unwrap();
    let main = "apps/web/src/main.ts";
    assert_eq!(
        resolved(&p, main, "@org/lib").as_deref(),
        Some("libs/lib/src/index.ts")
    );
    assert_eq!(
        resolved(&p, main, "@org/util/strings").as_deref(),
        Some("libs/util/src/strings.ts")
    );
    assert_eq!(resolved(&p, main, "@org/none"), None);
    assert_eq!(
        resolved(&p, "loop/a.ts", "./b").as_deref(),
        Some("loop/b.ts")
    );
}

/// Real packages as workspace members: four npm packages that ship their TypeScript
/// sources (`.ci/run` fetches them into target/test-packs) import each other by name and
/// subpath; every such import resolves to the member's source, not its build.
#[test]
fn real_npm_packages_in_a_workspace_resolve_each_other_by_name() {
    let packs = std::env::var_os("BATON_TEST_PACKS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-packs")
        });
    let tarballs: Vec<std::path::PathBuf> = std::fs::read_dir(&packs)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "tgz"))
                .collect()
        })
        .unwrap_or_default();
    if tarballs.len() < 4 {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "the npm packages are missing from {}; .ci/run fetches them",
            packs.display()
        );
        eprintln!(
            "skipping: no npm packages in {} (.ci/run fetches them)",
            packs.display()
        );
        return;
    }
    let p = Project::new();
    p.write(
        "package.json",
        r#"{"private": true, "workspaces": ["packages/*"]}"#,
    );
    for tgz in &tarballs {
        let name = tgz.file_stem().unwrap().to_str().unwrap();
        let dest = p.path(&format!("packages/{name}"));
        std::fs::create_dir_all(&dest).unwrap();
        let ok = std::process::Command::new("tar")
            .args(["--no-same-owner", "-xzf"])
            .arg(tgz)
            .arg("-C")
            .arg(&dest)
            .arg("--strip-components=1")
            .status()
            .unwrap()
            .success();
        assert!(ok, "tar could not unpack {}", tgz.display());
        // As a checkout has them: sources, no build output.
        let _ = std::fs::remove_dir_all(dest.join("dist"));
        let _ = std::fs::remove_dir_all(dest.join("build"));
    }
    scan_full(&p.root).unwrap();
    let index = CodeIndex::open(&p.root).unwrap();
    let mut cross = Vec::new();
    let files = index
        .symbols(&baton_code::SymbolQuery {
            limit: 0,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| s.file)
        .collect::<std::collections::BTreeSet<_>>();
    for file in files {
        for import in index.imports(&file).unwrap() {
            if import.source.starts_with("@tanstack/") || import.source.starts_with("@trpc/") {
                cross.push((file.clone(), import.source, import.resolved));
            }
        }
    }
    assert!(cross.len() >= 80, "{} cross-package imports", cross.len());
    let unresolved: Vec<_> = cross.iter().filter(|(_, _, r)| r.is_none()).collect();
    assert!(unresolved.is_empty(), "{unresolved:?}");
    let target = |source: &str| {
        cross
            .iter()
            .find(|(_, s, _)| s == source)
            .and_then(|(_, _, r)| r.clone())
            .unwrap_or_else(|| panic!("no import of {source}"))
    };
    assert!(target("@tanstack/query-core").ends_with("query-core-5.59.0/src/index.ts"));
    assert!(target("@trpc/server/observable").ends_with("server-10.45.2/src/observable/index.ts"));
    let core = target("@tanstack/query-core");
    let dependents = index.dependents(&core, 0).unwrap();
    assert!(
        dependents.iter().any(|d| d.file.contains("react-query")),
        "{dependents:?}"
    );
}

/// Declared workspaces decide which packages are the project's: a test fixture named like
/// a real package does not capture imports of it. Two Go modules with one path (testdata)
/// resolve to the importer's own. tsconfig `extends` lists merge.
#[test]
fn workspace_members_module_twins_and_extends_lists() {
    let p = Project::new();
    p.write("package.json", r#"{"private": true, "workspaces": ["packages/*", "!packages/legacy"]}"#)
        .write("packages/ui/package.json", r#"{"name": "@acme/ui", "main": "index.ts"}"#)
        .write("packages/ui/index.ts", "export const ui = 1;\n")
        .write("packages/legacy/package.json", r#"{"name": "legacy", "main": "index.ts"}"#)
        .write("packages/legacy/index.ts", "export const old = 1;\n")
        .write("tests/fixtures/react/package.json", r#"{"name": "react", "main": "index.js"}"#)
        .write("tests/fixtures/react/index.js", "module.exports = {};\n")
        .write(
            "apps/web/app.ts",
            "import { ui } from '@acme/ui';\nimport React from 'react';\nimport { old } from 'legacy';\nimport { a } from '@cfg/a';\nimport { b } from 'b';\n",
        )
        .write("tsconfig.paths.json", r#"{"compilerOptions": {"paths": {"@cfg/*": ["config/*"]}}}"#)
        .write("tsconfig.base.json", r#"{"compilerOptions": {"baseUrl": "."}}"#)
        .write(
            "apps/web/tsconfig.json",
            r#"{"extends": ["../../tsconfig.paths.json", "../../tsconfig.base.json", "./tsconfig.json"]}"#,
        )
        .write("config/a.ts", "export const a = 1;\n")
        .write("b.ts", "export const b = 1;\n")
        .write("svc/go.mod", "module example.com/m\n")
        .write("svc/util/u.go", "package util\n")
        .write("svc/main.go", "package main\n\nimport \"example.com/m/util\"\n")
        .write("testdata/go.mod", "module example.com/m\n")
        .write("testdata/util/u.go", "package util\n")
        .write("testdata/main.go", "package main\n\nimport \"example.com/m/util\"\n")
        .write("gen.go", "package gen\n\nfunc _() {}\n\ntype _ int\n");
    scan_full(&p.root).unwrap();
    let app = "apps/web/app.ts";
    assert_eq!(
        resolved(&p, app, "@acme/ui").as_deref(),
        Some("packages/ui/index.ts")
    );
    assert_eq!(resolved(&p, app, "react"), None);
    assert_eq!(resolved(&p, app, "legacy"), None);
    assert_eq!(resolved(&p, app, "@cfg/a").as_deref(), Some("config/a.ts"));
    assert_eq!(resolved(&p, app, "b").as_deref(), Some("b.ts"));
    assert_eq!(
        resolved(&p, "svc/main.go", "example.com/m/util").as_deref(),
        Some("svc/util")
    );
    assert_eq!(
        resolved(&p, "testdata/main.go", "example.com/m/util").as_deref(),
        Some("testdata/util")
    );
    let index = CodeIndex::open(&p.root).unwrap();
    assert!(
        index.outline("gen.go").unwrap().is_empty(),
        "blank names are not symbols"
    );
}
