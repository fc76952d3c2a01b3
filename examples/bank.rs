//! A bank whose transfers can deadlock, watched by lockscope.
//!
//! Each transfer locks the account money leaves, then the account it goes to.
//! Tellers moving money in opposite directions between the same two accounts
//! can each hold one lock and wait for the other's: a deadlock, sooner or later.
//!
//! ```sh
//! cargo run --example bank            # the viewer opens (in a terminal); press q to quit
//! cargo run --example bank -- --fixed # lock accounts in one global order: never deadlocks
//! LOCKSCOPE=headless cargo run --example bank   # report and exit 3 on the deadlock
//! ```

use std::sync::Arc;
use std::time::Duration;

use lockscope::Mutex;

const ACCOUNTS: usize = 4;
const TELLERS: usize = 4;
const ROUNDS: usize = 300;

fn main() -> anyhow::Result<()> {
    let session = lockscope::init()?;
    let fixed = std::env::args().any(|a| a == "--fixed");
    let accounts: Arc<Vec<Mutex<i64>>> = Arc::new(
        (0..ACCOUNTS)
            .map(|i| Mutex::named(format!("account {i}"), 1_000))
            .collect(),
    );
    let tellers: Vec<_> = (0..TELLERS)
        .map(|t| {
            let accounts = Arc::clone(&accounts);
            lockscope::thread::Builder::new()
                .name(format!("teller {t}"))
                .spawn(move || {
                    for round in 0..ROUNDS {
                        let from = (t + round) % ACCOUNTS;
                        let to = (from + 1 + (t + round / 7) % (ACCOUNTS - 1)) % ACCOUNTS;
                        transfer(&accounts, from, to, 10, fixed);
                        if round % 50 == 0 {
                            println!("teller {t}: {round} transfers done");
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
        })
        .collect::<Result<_, _>>()?;
    for teller in tellers {
        let _ = teller.join();
    }
    let total: i64 = accounts.iter().map(|a| *a.lock()).sum();
    println!(
        "all transfers done; total money: {total} (expected {})",
        1_000 * ACCOUNTS as i64
    );
    session.wait();
    Ok(())
}

/// Moves `amount` from one account to another. The bug: locks are taken in
/// the order of the transfer, not in a global order (unless `fixed`).
fn transfer(accounts: &[Mutex<i64>], from: usize, to: usize, amount: i64, fixed: bool) {
    let (first, second) = if fixed && to < from {
        (to, from)
    } else {
        (from, to)
    };
    let mut a = accounts[first].lock();
    // Checking the balance takes a moment: the window in which the other
    // teller takes its first lock.
    std::thread::sleep(Duration::from_micros(300));
    let mut b = accounts[second].lock();
    let (src, dst) = if first == from {
        (&mut *a, &mut *b)
    } else {
        (&mut *b, &mut *a)
    };
    *src -= amount;
    *dst += amount;
}
