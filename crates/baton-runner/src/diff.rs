//! What a task (`T-12`), phase (`P-3`) or initiative (`I-1`) changed, read from git: its
//! branch against the merge base with where it goes, or, once merged, against the base
//! stored with the merge (so a completed phase's diff stays what was reviewed after its
//! branches moved on). Used by `baton diff` and the dashboard's review screen.

use std::path::Path;

use baton_core::api::MergeFilter;
use baton_core::model::{Diff, DiffFile, DiffHunk, DiffLine, MergeKind, MergeState};
use baton_core::{Api, Error, InitiativeId, PhaseId, Result, TaskId};

use crate::worktree::{run, Repo};

/// The most patch text parsed into lines; files past it are listed with their counts only.
pub const MAX_PATCH_BYTES: usize = 32 << 20;

/// The commits to compare for `id`, and how they were found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub of: String,
    pub from: String,
    pub to: String,
    pub basis: &'static str,
}

fn git_text(root: &Path, args: &[&str]) -> Result<String> {
    let out = run(root, args).map_err(|e| Error::Internal(e.to_string()))?;
    if !out.status.success() {
        return Err(Error::Internal(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Where `branch` is: the remote's copy in a clone (the remote is the truth), else the
/// local branch.
fn rev(repo: &Repo, branch: &str) -> Option<String> {
    repo.resolve(branch).ok().flatten()
}

fn bad_id(id: &str) -> Error {
    Error::invalid_with_hint(
        format!("'{id}' is not a task, phase or initiative"),
        "give a task (T-12), a phase (P-3), an initiative (I-1) or an errand (E-2)",
    )
}

/// Finds the range to show for `id` in the repository at `root`.
pub fn range(api: &dyn Api, repo: &Repo, id: &str) -> Result<Range> {
    let root = repo.root();
    let upper = id.trim().to_ascii_uppercase();
    let (filter, source, target) = if upper.starts_with("T-") {
        let task: TaskId = upper.parse().map_err(|_| bad_id(id))?;
        let plan = api.merges().branch_plan(task)?;
        let filter = MergeFilter {
            task: Some(task),
            kind: Some(MergeKind::Task),
            ..MergeFilter::default()
        };
        (filter, plan.branch, plan.target)
    } else if upper.starts_with("P-") {
        let phase: PhaseId = upper.parse().map_err(|_| bad_id(id))?;
        let p = api.plan().get_phase(phase)?;
        let i = api.plan().get_initiative(p.initiative)?;
        let filter = MergeFilter {
            phase: Some(phase),
            kind: Some(MergeKind::Phase),
            ..MergeFilter::default()
        };
        (
            filter,
            baton_core::board::merges::phase_branch(&i.branch, phase),
            i.branch,
        )
    } else if upper.starts_with("I-") {
        let initiative: InitiativeId = upper.parse().map_err(|_| bad_id(id))?;
        let i = api.plan().get_initiative(initiative)?;
        let default = api
            .settings()?
            .into_iter()
            .find(|s| s.key == baton_core::board::leases::DEFAULT_BRANCH)
            .map(|s| s.value)
            .unwrap_or_else(|| "main".into());
        let filter = MergeFilter {
            initiative: Some(initiative),
            kind: Some(MergeKind::Initiative),
            ..MergeFilter::default()
        };
        (filter, i.branch, default)
    } else if upper.starts_with("E-") {
        let errand: baton_core::ErrandId = upper.parse().map_err(|_| bad_id(id))?;
        let e = api.errands().get_errand(errand)?;
        if let (Some(base), Some(result)) = (&e.base, &e.result) {
            // Merged: what it brought, from the merge base to the branch as merged.
            let to = rev(repo, &e.branch).unwrap_or_else(|| result.clone());
            return Ok(Range {
                of: upper,
                from: base.clone(),
                to,
                basis: "merged",
            });
        }
        (
            MergeFilter {
                limit: Some(0),
                ..MergeFilter::default()
            },
            e.branch,
            e.base_branch,
        )
    } else {
        return Err(bad_id(id));
    };
    let merged = if filter.limit == Some(0) {
        Vec::new()
    } else {
        api.merges().list_merges(&filter)?
    };
    let merged = merged
        .into_iter()
        .find(|m| m.state == MergeState::Merged && m.base.is_some() && m.source_head.is_some());
    if let Some(m) = merged {
        return Ok(Range {
            of: upper,
            from: m.base.unwrap_or_default(),
            to: m.source_head.unwrap_or_default(),
            basis: "merged",
        });
    }
    let Some(head) = rev(repo, &source) else {
        return Err(Error::NotFound {
            what: "branch",
            name: source,
            hint: Some(format!(
                "{upper} has no branch in {} yet: it appears once a runner works on it",
                root.display()
            )),
        });
    };
    let from = match rev(repo, &target) {
        Some(t) => git_text(root, &["merge-base", &t, &head])?
            .trim()
            .to_string(),
        None => head.clone(),
    };
    Ok(Range {
        of: upper,
        from,
        to: head,
        basis: "branch",
    })
}

/// The diff of `range`, file by file; lines past [`MAX_PATCH_BYTES`] are left out.
pub fn diff(root: &Path, range: &Range) -> Result<Diff> {
    let (from, to) = (range.from.as_str(), range.to.as_str());
    let status = git_text(root, &["diff", "--name-status", "-z", "-M", from, to])?;
    let numstat = git_text(root, &["diff", "--numstat", "-z", "-M", from, to])?;
    let mut files = parse_name_status(&status);
    apply_numstat(&mut files, &numstat);
    let patch = git_text(
        root,
        &[
            "diff",
            "--no-color",
            "--no-ext-diff",
            "-M",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            from,
            to,
        ],
    )?;
    let (hunks, truncated) = parse_patch(&patch, MAX_PATCH_BYTES);
    for (file, hunks) in files.iter_mut().zip(hunks) {
        file.truncated = truncated && hunks.is_none();
        file.hunks = hunks.unwrap_or_default();
    }
    Ok(Diff {
        of: range.of.clone(),
        from: range.from.clone(),
        to: range.to.clone(),
        basis: range.basis.to_string(),
        files,
        truncated,
    })
}

fn parse_name_status(text: &str) -> Vec<DiffFile> {
    let mut fields = text.split('\0').filter(|f| !f.is_empty());
    let mut files = Vec::new();
    while let Some(code) = fields.next() {
        let kind = code.chars().next().unwrap_or('M');
        let (old_path, path) = if kind == 'R' || kind == 'C' {
            let old = fields.next().unwrap_or_default().to_string();
            (Some(old), fields.next().unwrap_or_default().to_string())
        } else {
            (None, fields.next().unwrap_or_default().to_string())
        };
        let status = match kind {
            'A' => "added",
            'D' => "deleted",
            'R' => "renamed",
            'C' => "copied",
            _ => "modified",
        };
        files.push(DiffFile {
            path,
            old_path,
            status: status.into(),
            added: 0,
            removed: 0,
            binary: false,
            hunks: Vec::new(),
            truncated: false,
        });
    }
    files
}

/// `--numstat -z`: `added\tremoved\tpath\0`, or for a rename `added\tremoved\t\0old\0new\0`.
fn apply_numstat(files: &mut [DiffFile], text: &str) {
    let mut fields = text.split('\0');
    let mut i = 0;
    while let Some(entry) = fields.next() {
        if entry.is_empty() {
            continue;
        }
        let mut parts = entry.splitn(3, '\t');
        let added = parts.next().unwrap_or_default();
        let removed = parts.next().unwrap_or_default();
        if parts.next().unwrap_or_default().is_empty() {
            // A rename: the two paths follow.
            fields.next();
            fields.next();
        }
        if let Some(f) = files.get_mut(i) {
            f.binary = added == "-";
            f.added = added.parse().unwrap_or(0);
            f.removed = removed.parse().unwrap_or(0);
        }
        i += 1;
    }
}

/// The hunks of each file of a unified diff, in order (`None` for a file past `max`
/// bytes), and whether anything was left out.
pub fn parse_patch(patch: &str, max: usize) -> (Vec<Option<Vec<DiffHunk>>>, bool) {
    let mut out: Vec<Option<Vec<DiffHunk>>> = Vec::new();
    let mut truncated = false;
    let mut read = 0usize;
    let (mut old, mut new) = (0u64, 0u64);
    for line in patch.split_inclusive('\n') {
        read += line.len();
        let text = line.strip_suffix('\n').unwrap_or(line);
        if text.starts_with("diff --git ") {
            if read > max {
                truncated = true;
                out.push(None);
            } else {
                out.push(Some(Vec::new()));
            }
            continue;
        }
        let Some(Some(hunks)) = out.last_mut() else {
            continue;
        };
        if let Some(rest) = text.strip_prefix("@@ ") {
            let (o, n) = hunk_starts(rest);
            old = o;
            new = n;
            hunks.push(DiffHunk {
                header: text.to_string(),
                lines: Vec::new(),
            });
            continue;
        }
        let Some(hunk) = hunks.last_mut() else {
            continue; // the file's header lines (index, ---, +++, mode, rename)
        };
        let (kind, rest) = match text.chars().next() {
            Some('+') => ("+", &text[1..]),
            Some('-') => ("-", &text[1..]),
            Some(' ') => (" ", &text[1..]),
            Some('\\') => continue, // "\ No newline at end of file"
            _ => (" ", text),
        };
        let (o, n) = match kind {
            "+" => {
                new += 1;
                (None, Some(new - 1))
            }
            "-" => {
                old += 1;
                (Some(old - 1), None)
            }
            _ => {
                old += 1;
                new += 1;
                (Some(old - 1), Some(new - 1))
            }
        };
        hunk.lines.push(DiffLine {
            kind: kind.into(),
            old: o,
            new: n,
            text: rest.to_string(),
        });
    }
    (out, truncated)
}

/// The first old and new line numbers of `-a,b +c,d @@`.
fn hunk_starts(rest: &str) -> (u64, u64) {
    let mut parts = rest.split_whitespace();
    let start = |p: Option<&str>, sign: char| {
        p.and_then(|p| p.strip_prefix(sign))
            .and_then(|p| p.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let old = start(parts.next(), '-');
    let new = start(parts.next(), '+');
    (old, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "diff --git a/a.txt b/a.txt\nindex 1..2 100644\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@ fn main\n one\n-two\n+deux\n three\n@@ -10,2 +10,3 @@\n ten\n+ten and a half\n eleven\n\\ No newline at end of file\ndiff --git a/b.bin b/b.bin\nBinary files a/b.bin and b/b.bin differ\n";

    #[test]
    fn hunks_number_their_lines_on_both_sides() {
        let (files, truncated) = parse_patch(PATCH, usize::MAX);
        assert!(!truncated);
        assert_eq!(files.len(), 2);
        let hunks = files[0].as_ref().unwrap();
        assert_eq!(hunks.len(), 2);
        let first: Vec<(&str, Option<u64>, Option<u64>, &str)> = hunks[0]
            .lines
            .iter()
            .map(|l| (l.kind.as_str(), l.old, l.new, l.text.as_str()))
            .collect();
        assert_eq!(
            first,
            [
                (" ", Some(1), Some(1), "one"),
                ("-", Some(2), None, "two"),
                ("+", None, Some(2), "deux"),
                (" ", Some(3), Some(3), "three"),
            ]
        );
        let second = &hunks[1].lines;
        assert_eq!((second[1].kind.as_str(), second[1].new), ("+", Some(11)));
        assert_eq!((second[2].old, second[2].new), (Some(11), Some(12)));
        assert!(
            files[1].as_ref().unwrap().is_empty(),
            "a binary file has no hunks"
        );
    }

    #[test]
    fn files_past_the_limit_keep_their_place_without_lines() {
        let (files, truncated) = parse_patch(PATCH, 60);
        assert!(truncated);
        assert_eq!(files.len(), 2);
        assert!(files[0].is_some() && files[1].is_none());
    }

    #[test]
    fn renames_and_numstat_line_up() {
        let mut files = parse_name_status("R090\0old.rs\0new.rs\0A\0added.rs\0");
        apply_numstat(&mut files, "3\t1\t\0old.rs\0new.rs\0-\t-\tadded.rs\0");
        assert_eq!(files[0].old_path.as_deref(), Some("old.rs"));
        assert_eq!(
            (files[0].path.as_str(), files[0].added, files[0].removed),
            ("new.rs", 3, 1)
        );
        assert_eq!((files[1].status.as_str(), files[1].binary), ("added", true));
    }
}
