//! A thread that panics while holding a lock, watched by lockscope.
//!
//! lockscope's locks have parking_lot's semantics: the panic unwinds through
//! the guard, which releases the lock, and nothing is poisoned: the thread
//! waiting for it simply takes it. The viewer shows the panicked thread as a
//! `✗` lane; the panic message is captured with the rest of the program's
//! output and printed once the viewer closes.
//!
//! ```sh
//! cargo run --example panic                     # the viewer opens (in a terminal); q quits
//! LOCKSCOPE=headless cargo run --example panic  # the panic message goes to stderr as usual
//! ```

use std::sync::{Arc, Barrier};
use std::time::Duration;

use lockscope::Mutex;

fn main() -> anyhow::Result<()> {
    let session = lockscope::init()?;
    let ledger = Arc::new(Mutex::named("ledger", 100_i64));
    // The auditor asks for the ledger only once the clerk holds it.
    let holding = Arc::new(Barrier::new(2));
    let clerk = {
        let (ledger, holding) = (Arc::clone(&ledger), Arc::clone(&holding));
        lockscope::thread::Builder::new()
            .name("clerk".into())
            .spawn(move || {
                let mut balance = ledger.lock();
                *balance -= 30;
                holding.wait();
                // Time for the auditor to queue behind us; it works either way.
                std::thread::sleep(Duration::from_millis(50));
                panic!("the clerk gave up with the ledger locked");
            })?
    };
    let auditor = {
        let ledger = Arc::clone(&ledger);
        lockscope::thread::Builder::new()
            .name("auditor".into())
            .spawn(move || {
                holding.wait();
                let balance = *ledger.lock();
                println!("auditor: took the ledger after the clerk's panic; balance {balance}");
            })?
    };
    let clerk_panicked = clerk.join().is_err();
    let auditor_done = auditor.join().is_ok();
    println!("clerk panicked: {clerk_panicked}; auditor done: {auditor_done}");
    session.wait();
    Ok(())
}
