//! Names cut so that a column still tells them apart.
//!
//! A narrow column cuts a name in the middle (`phil…er 3`), keeping its start
//! and its end. When that leaves two names of the column looking alike
//! (`pool-1-thread-1` and `pool-2-thread-1` both `poo…ad-1`), the cut moves
//! to keep what differs (`pool-1…1`, `pool-2…1`), or shows a window of the
//! middle (`…3 of th…`). A name is never cut to a prefix it shares with
//! another.

use std::borrow::Cow;

use super::{middle, width};

/// `name` in at most `max` columns, cut so that what is kept could not be
/// read as any other name of `column`: the middle ellipsis when that does
/// (start and end kept, the end the larger half), else the cut that keeps
/// the most of the end, else a window of the middle (`…w…`); the middle
/// ellipsis when no cut tells it apart.
pub(crate) fn unique<'a>(name: &'a str, column: &[&str], max: usize) -> Cow<'a, str> {
    if width(name) <= max || max < 3 {
        return middle(name, max);
    }
    let chars: Vec<char> = name.chars().collect();
    // Compared as they are: a frame cuts many names against many others.
    let others = || column.iter().filter(|&&other| other != name);
    let tails = std::iter::once(max / 2).chain((1..max).rev().filter(|&t| t != max / 2));
    for tail_room in tails {
        let (head, tail) = ends(&chars, max, tail_room);
        let (head, tail): (String, String) = (head.iter().collect(), tail.iter().collect());
        let alike = |o: &str| {
            o.len() >= head.len() + tail.len() && o.starts_with(&head) && o.ends_with(&tail)
        };
        if !others().any(|o| alike(o)) {
            return Cow::Owned(format!("{head}…{tail}"));
        }
    }
    // Windows of the middle, the one nearest the end first.
    for end in (1..chars.len()).rev() {
        let window = widest_ending_at(&chars, end, max - 2);
        if window.is_empty() || window.len() == end {
            continue;
        }
        let window: String = window.iter().collect();
        if !others().any(|o| o.contains(&window)) {
            return Cow::Owned(format!("…{window}…"));
        }
    }
    middle(name, max)
}

/// A list of names (`a, b, c`) in at most `max` columns: whole if it fits;
/// else each name cut to its share of the room with [`unique`]; else, when
/// the shares are too small to tell names apart, the list cut in the middle.
pub(crate) fn unique_list(names: &[String], column: &[&str], max: usize) -> String {
    let whole = names.join(", ");
    if width(&whole) <= max || names.len() < 2 {
        return match names {
            [one] => unique(one, column, max).into_owned(),
            _ => middle(&whole, max).into_owned(),
        };
    }
    let seps = 2 * (names.len() - 1);
    let share = max.saturating_sub(seps) / names.len();
    if share < 3 {
        return middle(&whole, max).into_owned();
    }
    let cut: Vec<String> = names
        .iter()
        .map(|n| unique(n, column, share).into_owned())
        .collect();
    cut.join(", ")
}

/// The first and last characters of `chars` that fit `max` columns with an
/// ellipsis between, the end given at most `tail_room` columns.
fn ends(chars: &[char], max: usize, tail_room: usize) -> (&[char], &[char]) {
    let cw = |c: &char| width(c.encode_utf8(&mut [0u8; 4]));
    let mut used = 0;
    let tail_n = chars
        .iter()
        .rev()
        .take_while(|c| {
            used += cw(c);
            used <= tail_room
        })
        .count();
    let head_room = max - 1 - used.min(tail_room);
    let mut used = 0;
    let head_n = chars[..chars.len() - tail_n]
        .iter()
        .take_while(|c| {
            used += cw(c);
            used <= head_room
        })
        .count();
    (&chars[..head_n], &chars[chars.len() - tail_n..])
}

/// The longest run of `chars` ending before index `end` that fits `room`
/// columns.
fn widest_ending_at(chars: &[char], end: usize, room: usize) -> &[char] {
    let cw = |c: &char| width(c.encode_utf8(&mut [0u8; 4]));
    let mut used = 0;
    let n = chars[..end]
        .iter()
        .rev()
        .take_while(|c| {
            used += cw(c);
            used <= room
        })
        .count();
    &chars[end - n..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHILOSOPHERS: [&str; 5] = [
        "philosopher 0",
        "philosopher 1",
        "philosopher 2",
        "philosopher 3",
        "philosopher 4",
    ];

    #[test]
    fn names_that_differ_at_their_end_are_cut_in_the_middle() {
        let cut: Vec<_> = PHILOSOPHERS
            .iter()
            .map(|n| unique(n, &PHILOSOPHERS, 7))
            .collect();
        assert_eq!(cut, ["phi…r 0", "phi…r 1", "phi…r 2", "phi…r 3", "phi…r 4"]);
        assert_eq!(unique("philosopher 3", &PHILOSOPHERS, 13), "philosopher 3");
    }

    #[test]
    fn names_alike_at_both_ends_keep_what_differs() {
        let pool = ["pool-1-thread-1", "pool-2-thread-1", "pool-1-thread-2"];
        // The middle cut would fit the first two alike.
        assert_eq!(middle(pool[0], 8), "poo…ad-1");
        assert_eq!(middle(pool[1], 8), "poo…ad-1");
        let cut: Vec<_> = pool.iter().map(|n| unique(n, &pool, 8)).collect();
        assert_eq!(cut, ["pool-1…1", "pool-2…1", "poo…ad-2"]);
        // What differs is only in the middle: a window of it.
        let io = ["worker 3 of the io pool", "worker 4 of the io pool"];
        let cut: Vec<_> = io.iter().map(|n| unique(n, &io, 9)).collect();
        assert_eq!(cut, ["…3 of th…", "…4 of th…"]);
    }

    #[test]
    fn no_cut_tells_identical_ends_apart_then_the_middle_is_used() {
        let twins = ["same name", "same name"];
        assert_eq!(unique(twins[0], &twins, 5), "sa…me");
        assert_eq!(unique("ab", &twins, 2), "ab");
    }

    #[test]
    fn a_list_gives_each_name_its_share() {
        let names: Vec<String> = PHILOSOPHERS[1..4].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            unique_list(&names, &PHILOSOPHERS, 45),
            "philosopher 1, philosopher 2, philosopher 3"
        );
        assert_eq!(
            unique_list(&names, &PHILOSOPHERS, 25),
            "phi…r 1, phi…r 2, phi…r 3"
        );
        assert_eq!(unique_list(&names, &PHILOSOPHERS, 15), "p…1, p…2, p…3");
        // Shares under three columns: the list is cut in the middle.
        assert_eq!(unique_list(&names, &PHILOSOPHERS, 12), "philo…pher 3");
        assert_eq!(unique_list(&names[..1], &PHILOSOPHERS, 7), "phi…r 1");
    }
}
