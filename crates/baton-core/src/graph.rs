//! The dependency graph must stay a DAG. Adding edges `task -> dep` closes a cycle exactly
//! when some new `dep` already reaches `task` through `depends_on` edges. The same holds
//! for phases, so the search takes any id.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use crate::id::TaskId;

/// Returns the cycle that edges `task -> new_deps` would close, as a path that starts and
/// ends with `task` (`[T-1, T-3, T-1]`), or `None` when the graph stays acyclic.
///
/// `deps_of` gives the current dependencies of a task; it is asked lazily so callers can
/// answer from a store without loading the whole graph.
pub fn find_cycle<N: Copy + Eq + Hash, E>(
    task: N,
    new_deps: &[N],
    mut deps_of: impl FnMut(N) -> Result<Vec<N>, E>,
) -> Result<Option<Vec<N>>, E> {
    // Depth-first search from each new dependency, looking for `task`, remembering parents
    // so the cycle can be named.
    let mut parent: HashMap<N, N> = HashMap::new();
    let mut visited: HashSet<N> = HashSet::new();
    for &start in new_deps {
        if start == task {
            return Ok(Some(vec![task, task]));
        }
        if !visited.insert(start) {
            continue;
        }
        parent.insert(start, task);
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            for next in deps_of(node)? {
                if next == task {
                    let mut path = vec![task, node];
                    let mut cur = node;
                    while let Some(&p) = parent.get(&cur) {
                        if p == task {
                            break;
                        }
                        path.push(p);
                        cur = p;
                    }
                    // path is task, node, ..., start (walking back); reverse the tail.
                    path[1..].reverse();
                    path.push(task);
                    return Ok(Some(path));
                }
                if visited.insert(next) {
                    parent.insert(next, node);
                    stack.push(next);
                }
            }
        }
    }
    Ok(None)
}

/// Checks a whole set of edges at once (a batch): returns a cycle if the graph has one.
pub fn find_any_cycle(edges: &HashMap<TaskId, Vec<TaskId>>) -> Option<Vec<TaskId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Finished,
    }
    let mut marks: HashMap<TaskId, Mark> = HashMap::new();
    let mut nodes: Vec<TaskId> = edges.keys().copied().collect();
    nodes.sort();
    for root in nodes {
        if marks.contains_key(&root) {
            continue;
        }
        // Iterative DFS keeping the active path.
        let mut path: Vec<(TaskId, usize)> = vec![(root, 0)];
        marks.insert(root, Mark::Active);
        while let Some((node, idx)) = path.last().copied() {
            let next = edges.get(&node).and_then(|v| v.get(idx)).copied();
            match next {
                None => {
                    marks.insert(node, Mark::Finished);
                    path.pop();
                }
                Some(n) => {
                    path.last_mut().expect("non-empty").1 += 1;
                    match marks.get(&n) {
                        Some(Mark::Active) => {
                            let from = path.iter().position(|(p, _)| *p == n).expect("on path");
                            let mut cycle: Vec<TaskId> =
                                path[from..].iter().map(|(p, _)| *p).collect();
                            cycle.push(n);
                            return Some(cycle);
                        }
                        Some(Mark::Finished) => {}
                        None => {
                            marks.insert(n, Mark::Active);
                            path.push((n, 0));
                        }
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn graph(edges: &[(u64, u64)]) -> HashMap<TaskId, Vec<TaskId>> {
        let mut g: HashMap<TaskId, Vec<TaskId>> = HashMap::new();
        for &(a, b) in edges {
            g.entry(TaskId(a)).or_default().push(TaskId(b));
        }
        g
    }

    fn deps(g: &HashMap<TaskId, Vec<TaskId>>, n: TaskId) -> Result<Vec<TaskId>, ()> {
        Ok(g.get(&n).cloned().unwrap_or_default())
    }

    /// Brute force: transitive closure by repeated relaxation over all node pairs.
    fn reaches(edges: &[(u64, u64)], n: u64, from: u64, to: u64) -> bool {
        let mut r = vec![vec![false; n as usize + 1]; n as usize + 1];
        for &(a, b) in edges {
            r[a as usize][b as usize] = true;
        }
        for k in 1..=n as usize {
            for i in 1..=n as usize {
                for j in 1..=n as usize {
                    if r[i][k] && r[k][j] {
                        r[i][j] = true;
                    }
                }
            }
        }
        from == to || r[from as usize][to as usize]
    }

    fn is_real_cycle(g: &HashMap<TaskId, Vec<TaskId>>, cycle: &[TaskId]) -> bool {
        cycle.len() >= 2
            && cycle.first() == cycle.last()
            && cycle
                .windows(2)
                .all(|w| g.get(&w[0]).is_some_and(|d| d.contains(&w[1])))
    }

    #[test]
    fn names_a_simple_cycle() {
        let g = graph(&[(3, 2), (2, 1)]);
        let cycle = find_cycle(TaskId(1), &[TaskId(3)], |n| deps(&g, n)).unwrap();
        assert_eq!(
            cycle,
            Some(vec![TaskId(1), TaskId(3), TaskId(2), TaskId(1)])
        );
    }

    #[test]
    fn self_dependency_is_a_cycle() {
        let g = graph(&[]);
        let cycle = find_cycle(TaskId(5), &[TaskId(5)], |n| deps(&g, n)).unwrap();
        assert_eq!(cycle, Some(vec![TaskId(5), TaskId(5)]));
    }

    #[test]
    fn diamond_is_not_a_cycle() {
        let g = graph(&[(2, 1), (3, 1)]);
        assert_eq!(
            find_cycle(TaskId(4), &[TaskId(2), TaskId(3)], |n| deps(&g, n)).unwrap(),
            None
        );
        assert_eq!(
            find_any_cycle(&graph(&[(4, 2), (4, 3), (2, 1), (3, 1)])),
            None
        );
    }

    fn arb_graph() -> impl Strategy<Value = (u64, Vec<(u64, u64)>)> {
        (2u64..9).prop_flat_map(|n| {
            let edge = (1..=n, 1..=n).prop_filter("no self loops", |(a, b)| a != b);
            (Just(n), proptest::collection::vec(edge, 0..14))
        })
    }

    proptest! {
        /// Adding `task -> dep` to an acyclic graph makes a cycle iff `dep` reaches `task`.
        #[test]
        fn incremental_check_agrees_with_brute_force((n, edges) in arb_graph(), task in 1u64..9, dep in 1u64..9) {
            prop_assume!(task <= n && dep <= n);
            // Keep only edges that leave the graph acyclic, in order.
            let mut acyclic: Vec<(u64, u64)> = Vec::new();
            for &(a, b) in &edges {
                if !reaches(&acyclic, n, b, a) {
                    acyclic.push((a, b));
                }
            }
            let g = graph(&acyclic);
            let found = find_cycle(TaskId(task), &[TaskId(dep)], |x| deps(&g, x)).unwrap();
            let expected = reaches(&acyclic, n, dep, task);
            prop_assert_eq!(found.is_some(), expected);
            if let Some(cycle) = found {
                let mut with_edge = g.clone();
                with_edge.entry(TaskId(task)).or_default().push(TaskId(dep));
                prop_assert!(is_real_cycle(&with_edge, &cycle), "{:?} is not a cycle", cycle);
                prop_assert_eq!(cycle[0], TaskId(task));
            }
        }

        /// The whole-graph check finds a cycle iff some edge a -> b has b reaching a.
        #[test]
        fn whole_graph_check_agrees_with_brute_force((n, edges) in arb_graph()) {
            let g = graph(&edges);
            let expected = edges.iter().any(|&(a, b)| reaches(&edges, n, b, a));
            let found = find_any_cycle(&g);
            prop_assert_eq!(found.is_some(), expected);
            if let Some(cycle) = found {
                prop_assert!(is_real_cycle(&g, &cycle), "{:?} is not a cycle", cycle);
            }
        }
    }
}
