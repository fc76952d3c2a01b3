//! Hostile input: errors, never panics, never unbounded work or memory.

use super::*;

fn repeat_str(s: &str, n: usize) -> String {
    s.repeat(n)
}

#[test]
fn deep_repeat_nesting_is_refused() {
    let steps = format!(
        "{}\"work 1ns\", {}",
        repeat_str("\"repeat 1000000\", ", 10_000),
        repeat_str("\"end\", ", 10_000)
    );
    assert_error(
        &with_steps(&steps),
        "t.toml:10:586: repeat blocks are nested too deeply (at most 32)",
    );
}

#[test]
fn maximal_repeats_are_kept_as_a_tree() {
    // 32 levels of a million repetitions: nothing is unrolled.
    let steps = format!(
        "\"lock A\", {}\"unlock A\", \"lock A\", {}\"unlock A\"",
        repeat_str("\"repeat 1000000\", ", 32),
        repeat_str("\"end\", ", 32)
    );
    let s = parse(&with_steps(&steps));
    assert_eq!(s.threads[0].steps.len(), 3);
}

#[test]
fn a_nul_in_a_thread_name_is_an_error_not_a_panic() {
    // The OS thread name is a C string: std panics on an interior NUL.
    assert_error(
        "[[thread]]\nname = \"a\\u0000b\"\nsteps = []\n",
        "t.toml:2:8: thread name \"a\\0b\" must not contain a NUL character (\\0)",
    );
    assert_error(
        "[[thread]]\nname = \"w\\u0000\"\ncount = 2\nsteps = []\n",
        "t.toml:2:8: thread name \"w\\0\" must not contain a NUL character",
    );
}

#[test]
fn huge_numbers_are_errors() {
    assert_error(
        &with_steps("\"repeat 4294967296\", \"end\""),
        "t.toml:10:10: bad repeat count \"4294967296\" (expected a whole number from 1 to 1000000)",
    );
    assert_error(
        &with_steps("\"add 99999999999999999999\""),
        "t.toml:10:10: bad number \"99999999999999999999\"",
    );
    assert_error(
        &with_steps("\"sleep 99999999999999999999999999999999999999999999s\""),
        "t.toml:10:10: duration \"99999999999999999999999999999999999999999999s\" is too long",
    );
    assert_error("[vars]\nn = 99999999999999999999\n", "t.toml:2:5: ");
    assert_error(
        "[[thread]]\nname = \"w\"\ncount = 4294967296\n",
        "t.toml:3:9: invalid value: integer `4294967296`, expected u32",
    );
    assert_error(
        "[[thread]]\nname = \"w\"\ncount = 1001\n",
        "t.toml:3:9: too many threads (at most 1000)",
    );
    let many = format!(
        "[[thread]]\nname = \"w\"\ncount = 1000\nsteps = [{}]\n",
        repeat_str("\"work 1ns\", ", 101)
    );
    assert_error(
        &many,
        "t.toml:2:8: scenario is too big (at most 1000 threads and 100000 steps",
    );
}

#[test]
fn oversized_text_and_steps_are_refused() {
    let big = format!("# {}\n", "x".repeat(parse::MAX_TEXT));
    assert_error(
        &big,
        "t.toml:1:1: scenario file is too large (at most 1024 KiB)",
    );
    let long = format!("\"lock {}\"", "A ".repeat(3000));
    assert_error(
        &with_steps(&long),
        "t.toml:10:10: step is too long (at most 4096 bytes)",
    );
    let nested = format!("x = {}", "[".repeat(100_000));
    let err = error(&nested);
    assert!(err.starts_with("t.toml:1:"), "{err}");
}

#[test]
fn control_characters_in_names_are_kept_but_escaped_in_messages() {
    // TOML strings spell control characters as escapes.
    let text = r#"[locks]
"\u001b[31mred" = "mutex"
[[thread]]
name = "\u0007bell"
steps = ["lock \u001b[31mred", "unlock \u001b[31mred", "unlock \u001b[31mred"]
"#;
    let err = error(text);
    assert!(
        err.ends_with("thread \"\\u{7}bell\" does not hold \\u{1b}[31mred here"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err}");
    let s = parse(&text.replace(", \"unlock \\u001b[31mred\"]", "]"));
    assert_eq!(s.locks[0].name, "\u{1b}[31mred");
    assert_eq!(s.threads[0].name, "\u{7}bell");
}

#[test]
fn a_long_single_line_of_steps_is_positioned_in_linear_time() {
    let n = 20_000;
    let steps = format!("{}\"unlock A\"", repeat_str("\"work 1ns\", ", n));
    // `steps = [` then n strings of 12 characters each.
    let want = format!("t.toml:10:{}: step \"unlock A\"", 10 + 12 * n);
    assert_error(&with_steps(&steps), &want);
}

/// Nested blocks that each change what is held on every entry, so a naive check
/// would simulate each level twice per pass of the level above: 2^levels passes.
fn exponential(levels: usize) -> String {
    let mut text = String::from("[locks]\n");
    for k in 0..levels {
        text.push_str(&format!("M{k} = \"mutex\"\nL{k} = \"mutex\"\n"));
    }
    text.push_str("[[thread]]\nname = \"t\"\nsteps = [\n");
    for k in 0..levels {
        text.push_str(&format!("\"repeat 2\", \"lock M{k}\", \"lock L{k}\",\n"));
    }
    for k in (0..levels).rev() {
        if k + 1 < levels {
            text.push_str(&format!("\"unlock L{}\", ", k + 1));
        }
        text.push_str("\"end\",\n");
    }
    text.push_str("]\n");
    text
}

#[test]
fn validation_work_is_bounded() {
    parse(&exponential(8));
    let start = std::time::Instant::now();
    assert_error(
        &exponential(30),
        "t.toml:92:1: scenario is too complex to check (over 1000000 simulated steps)",
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

/// A tiny deterministic generator, so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn truncated_and_mutated_builtins_never_panic() {
    for builtin in builtins() {
        let text = builtin.source;
        let step = if builtin.name == "abba" { 1 } else { 13 };
        for (i, _) in text.char_indices().step_by(step) {
            let _ = Scenario::parse("t.toml", &text[..i]);
        }
    }
    let pieces = [
        "\"",
        "[",
        "]",
        "\n",
        "repeat 3",
        "end",
        "lock ",
        "unlock ",
        "wait ",
        "µ",
        "\u{0}",
        "1e9",
        "-",
        "=",
        "[[thread]]",
        "count = 3",
        "\u{1b}",
        ".",
        "99999999999999999999",
    ];
    let mut rng = Lcg(7);
    for _ in 0..3000 {
        let builtin = &builtins()[rng.next() % builtins().len()];
        let mut text = builtin.source.to_owned();
        for _ in 0..1 + rng.next() % 4 {
            let mut at = rng.next() % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let piece = pieces[rng.next() % pieces.len()];
            if rng.next().is_multiple_of(2) {
                text.insert_str(at, piece);
            } else {
                let mut end = (at + piece.len()).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, piece);
            }
        }
        let _ = Scenario::parse("t.toml", &text);
    }
}
