//! Builds the console's front end (web/) and embeds it in the binary.
//!
//! 1. Copies the sources of `web/` (package.json, package-lock.json, index.html, Vite and
//!    TypeScript configuration, `src/`) into `$OUT_DIR/web`: the build writes nothing
//!    outside `OUT_DIR`, so parallel builds of other profiles never share a `node_modules`.
//! 2. `npm ci` there when package-lock.json differs from the one last installed (the pinned
//!    versions only; npm's cache makes a reinstall quick).
//! 3. `tsc --noEmit` (the types) and `vite build` into `$OUT_DIR/dist`.
//! 4. memory-serve lists `dist/` and generates the embedded asset table
//!    (`$OUT_DIR/console_assets.rs`, included by src/lib.rs). Assets are always embedded:
//!    the function reads no file at run time, in debug builds too.
//!
//! Needs Node.js (20.19 or later, Vite 8's floor) and npm on PATH, or `NPM` / `NODE` naming
//! them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of web/ the build reads (besides src/).
const WEB_FILES: [&str; 5] = [
    "package.json",
    "package-lock.json",
    "index.html",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env("OUT_DIR"));
    let web = manifest.join("web");
    for file in WEB_FILES {
        println!("cargo::rerun-if-changed={}", web.join(file).display());
    }
    println!("cargo::rerun-if-changed={}", web.join("src").display());
    println!("cargo::rerun-if-env-changed=NPM");
    println!("cargo::rerun-if-env-changed=NODE");

    let stage = out.join("web");
    stage_sources(&web, &stage);
    install(&stage);
    let dist = out.join("dist");
    build(&stage, &dist);

    let label = dist.to_string_lossy().into_owned();
    let code = memory_serve::assets_to_code(&label, &dist, &out, true, quiet);
    write(&out.join("console_assets.rs"), code.as_bytes());
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (run by cargo)"))
}

/// memory-serve's build log (one line per file) stays out of cargo's warnings.
fn quiet(_: &str) {}

fn stage_sources(web: &Path, stage: &Path) {
    let src = stage.join("src");
    if src.exists() {
        fs::remove_dir_all(&src).unwrap_or_else(|e| panic!("removing {}: {e}", src.display()));
    }
    fs::create_dir_all(stage).unwrap_or_else(|e| panic!("creating {}: {e}", stage.display()));
    for file in WEB_FILES {
        copy(&web.join(file), &stage.join(file));
    }
    copy_tree(&web.join("src"), &src);
}

fn copy(from: &Path, to: &Path) {
    // Only when the content differs: an unchanged file keeps its mtime (Vite's cache).
    let bytes = fs::read(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    if fs::read(to).ok().as_deref() != Some(bytes.as_slice()) {
        write(to, &bytes);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("listing {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("listing {}: {e}", from.display()));
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            copy(&path, &target);
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `npm ci` unless node_modules already holds exactly this package-lock.json.
fn install(stage: &Path) {
    let lock = stage.join("package-lock.json");
    let stamp = stage
        .join("node_modules")
        .join(".console-installed-lock.json");
    let wanted = fs::read(&lock).unwrap_or_else(|e| panic!("reading {}: {e}", lock.display()));
    if fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return;
    }
    let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".to_owned());
    run(
        Command::new(npm)
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                "--loglevel=error",
            ])
            .current_dir(stage),
        "npm ci (the console's front end; needs Node.js >= 20.19 and npm)",
    );
    write(&stamp, &wanted);
}

fn build(stage: &Path, dist: &Path) {
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".to_owned());
    let bin = stage.join("node_modules");
    run(
        Command::new(&node)
            .arg(bin.join("typescript").join("bin").join("tsc"))
            .args(["--noEmit", "-p", "tsconfig.json"])
            .current_dir(stage),
        "tsc --noEmit (the console's TypeScript)",
    );
    run(
        Command::new(&node)
            .arg(bin.join("vite").join("bin").join("vite.js"))
            .args(["build", "--emptyOutDir", "--logLevel", "warn", "--outDir"])
            .arg(dist)
            .current_dir(stage),
        "vite build (the console's front end)",
    );
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not start {:?}: {e}", command.get_program()));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
