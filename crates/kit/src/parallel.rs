//! CPU-bound work over a large slice shared out between the cores, in order: what a payment
//! cycle's 100,000 lines need (their entitlements computed, their events encoded) on a
//! service's few cores. Runs on scoped threads; a small slice is done on the caller's thread.

/// The cores this process may use, asked once.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` over every item of `items`, keeping the `Some`s, in the items' order. When there are at
/// least `min_items` items and more than one core, each core takes a run of consecutive items
/// (the caller's thread the first); a panic in any run is raised again here.
pub fn filter_map_in_order<T, U, F>(items: &[T], min_items: usize, f: F) -> Vec<U>
where
    T: Sync,
    U: Send,
    F: Fn(&T) -> Option<U> + Sync,
{
    // The length first: every command's events pass through here, and asking the system for
    // its cores reads the cgroup files on Linux.
    if items.len() < min_items.max(2) || cores() < 2 {
        return items.iter().filter_map(&f).collect();
    }
    let threads = cores();
    let of_run = |run: &[T]| run.iter().filter_map(&f).collect::<Vec<U>>();
    std::thread::scope(|scope| {
        let mut runs = items.chunks(items.len().div_ceil(threads));
        let first = runs.next().unwrap_or_default();
        let others: Vec<_> = runs.map(|run| scope.spawn(move || of_run(run))).collect();
        let mut all = of_run(first);
        for other in others {
            match other.join() {
                Ok(run) => all.extend(run),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_of_the_items_whether_shared_out_or_not() {
        let items: Vec<u32> = (0..10_000).collect();
        let evens = |n: &u32| n.is_multiple_of(2).then_some(n * 3);
        let expected: Vec<u32> = items.iter().filter_map(evens).collect();
        assert_eq!(filter_map_in_order(&items, 16, evens), expected);
        assert_eq!(filter_map_in_order(&items, usize::MAX, evens), expected);
        assert!(filter_map_in_order(&[] as &[u32], 0, evens).is_empty());
    }
}
