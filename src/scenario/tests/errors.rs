//! Every validation error, with its exact position.

use super::*;

#[test]
fn unknown_lock_points_at_the_step_string() {
    let text = ABBA.replace("\"lock B\", \"unlock B\"", "\"lock C\", \"unlock B\"");
    assert_error(
        &text,
        "t.toml:8:33: unknown lock \"C\" in step \"lock C\" (declared locks: A, B)",
    );
}

/// Declared names quoted back in a message keep no bidi override or
/// escape sequence raw.
#[test]
fn hostile_declared_names_are_escaped_in_messages() {
    let text = ABBA.replace("A = \"mutex\"", "\"\\u001b[31mA\\u202e\" = \"mutex\"");
    assert_error(
        &text,
        "t.toml:8:10: unknown lock \"A\" in step \"lock A\" (declared locks: \\u{1b}[31mA\\u{202e}, B)",
    );
}

#[test]
fn bad_duration_says_what_is_expected() {
    assert_error(
        &ABBA.replace("work 10ms\", \"lock B", "work 10 parsecs\", \"lock B"),
        "t.toml:8:20: bad duration \"10 parsecs\" (expected a number with ns, us, ms or s",
    );
    assert_error(
        &with_steps("\"sleep 2h\""),
        "t.toml:10:10: bad duration \"2h\"",
    );
}

#[test]
fn unlocking_a_lock_not_held_is_an_error() {
    let text = ABBA.replace("\"lock B\", \"unlock B\"", "\"unlock B\", \"unlock B\"");
    assert_error(
        &text,
        "t.toml:8:33: step \"unlock B\": thread \"left\" does not hold B here",
    );
    assert_error(
        &with_steps("\"lock A\", \"unlock A\", \"unlock A\""),
        "t.toml:10:32: step \"unlock A\": thread \"t\" does not hold A here",
    );
}

#[test]
fn lock_kinds_are_checked_per_step() {
    let cases = [
        ("\"read A\"", "\"read\" needs an rwlock but A is a mutex"),
        ("\"write B\"", "\"write\" needs an rwlock but B is a mutex"),
        (
            "\"lock CV\"",
            "\"lock\" needs a mutex or rwlock but CV is a condvar",
        ),
        (
            "\"unlock CV\"",
            "\"unlock\" needs a mutex or rwlock but CV is a condvar",
        ),
        (
            "\"notify A\"",
            "\"notify\" needs a condvar but A is a mutex",
        ),
        (
            "\"notify_all L\"",
            "\"notify_all\" needs a condvar but L is an rwlock",
        ),
        ("\"lock\"", "\"lock\" needs a lock name"),
    ];
    for (steps, want) in cases {
        assert_error(&with_steps(steps), &format!("t.toml:10:10: {want}"));
    }
}

#[test]
fn wait_needs_a_condvar_then_a_held_mutex() {
    let cases = [
        ("\"wait CV\"", "\"wait\" needs a condvar then a held mutex"),
        (
            "\"wait A CV\"",
            "\"wait\" needs a condvar then a held mutex, but A is a mutex and CV is a condvar",
        ),
        (
            "\"wait CV L\"",
            "\"wait\" needs a condvar then a held mutex, but CV",
        ),
        ("\"wait CV Z\"", "unknown lock \"Z\" in step \"wait CV Z\""),
        ("\"wait Z A\"", "unknown lock \"Z\" in step \"wait Z A\""),
        (
            "\"wait CV A\"",
            "step \"wait CV A\": thread \"t\" does not hold A here",
        ),
    ];
    for (steps, want) in cases {
        assert_error(&with_steps(steps), &format!("t.toml:10:10: {want}"));
    }
    let s = parse(&with_steps("\"lock A\", \"wait CV A\", \"unlock A\""));
    let op = &s.threads[0].steps[1].op;
    assert_eq!(
        *op,
        Op::Wait {
            condvar: 3,
            mutex: 0
        }
    );
}

#[test]
fn repeat_and_end_must_match() {
    assert_error(
        &with_steps("\"lock A\", \"end\""),
        "t.toml:10:20: \"end\" without \"repeat\"",
    );
    assert_error(
        &with_steps("\"repeat 2\", \"repeat 3\", \"end\""),
        "t.toml:10:10: \"repeat\" without \"end\"",
    );
    assert_error(
        &with_steps("\"repeat 2\", \"repeat 3\""),
        "t.toml:10:22: \"repeat\" without \"end\"",
    );
    assert_error(
        &with_steps("\"repeat 0\", \"end\""),
        "t.toml:10:10: bad repeat count \"0\"",
    );
    assert_error(
        &with_steps("\"end now\""),
        "t.toml:10:10: \"end\" takes nothing",
    );
}

#[test]
fn names_that_differ_only_in_spacing_clash() {
    let text = "[locks]\n\"a b\" = \"mutex\"\n\"a  b\" = \"mutex\"\n[[thread]]\nname = \"t\"\n";
    assert_error(
        text,
        "t.toml:3:1: lock \"a  b\" has the same name as \"a b\"",
    );
    assert_error(
        "[locks]\n\" \" = \"mutex\"\n",
        "t.toml:2:1: lock name must not be empty",
    );
}

#[test]
fn thread_table_errors() {
    assert_error(
        &format!("{ABBA}[[thread]]\nname = \"left\"\nsteps = []\n"),
        "t.toml:13:8: duplicate thread name \"left\" (first at line 7)",
    );
    assert_error(
        "[[thread]]\nname = \"w 1\"\n[[thread]]\nname = \"w\"\ncount = 2\n",
        "t.toml:4:8: duplicate thread name \"w 1\" (first at line 2)",
    );
    assert_error(
        "[[thread]]\nname = \"w\"\ncount = 0\n",
        "t.toml:3:9: count must be at least 1",
    );
    assert_error(
        "[[thread]]\nname = \"\"\n",
        "t.toml:2:8: thread name must not be empty",
    );
    assert_error(
        "name = \"x\"\n[locks]\nA = \"mutex\"\n",
        "t.toml:1:1: no threads",
    );
    assert_error(
        "[[thread]]\nsteps = []\n",
        "t.toml:1:1: missing field `name`",
    );
}

#[test]
fn lock_kind_and_toml_errors_have_positions() {
    assert_error(
        "[locks]\nA = \"mutx\"\n",
        "t.toml:2:5: unknown lock kind \"mutx\" for A (expected mutex, rwlock, condvar, channel \
         (unbounded) or channel N (bounded, 0 for a rendezvous))",
    );
    parse("[locks]\nA = \"RwLock\"\n[[thread]]\nname = \"t\"\n");
    assert_error(
        "[locks]\nA = \"mutex\"\n[[thread]]\nname = 't\nsteps = []\n",
        "t.toml:4:10: invalid literal string",
    );
    assert_error(
        "[locks]\nA = 'mutex'\nA = 'mutex'\n",
        "t.toml:3:1: duplicate key",
    );
    assert_error(
        "[[threads]]\nname = \"t\"\n",
        "t.toml:1:3: unknown field `threads`, expected one of",
    );
    assert_error(
        "[[thread]]\nname = \"t\"\nsteps = [\"lock A\", 5]\n",
        "t.toml:3:20: invalid type: integer `5`, expected a string",
    );
    assert_error(
        "[[thread]]\nname = \"t\"\nsteps = [\"\"]\n",
        "t.toml:3:10: empty step",
    );
    assert_error(
        "[[thread]]\nname = \"t\"\nsteps = [\"jump A\"]\n",
        "t.toml:3:10: unknown step \"jump A\" (expected lock, read, write, unlock, wait",
    );
}
