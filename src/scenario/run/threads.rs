//! What scenario threads share besides locks: the channel ends each one
//! owns, and the join handles of the threads a step joins.

use super::{Register, Scenario, Step};
use crate::scenario::{Op, each_op};

/// The channel ends a scenario thread owns: a sender of each channel its
/// steps send on, a receiver of each it receives from. It claims them when
/// it starts and drops them when it ends, so a channel is disconnected once
/// every thread that could send (or receive) on it has finished.
#[derive(Default)]
pub(super) struct Ends {
    senders: Vec<(usize, crate::channel::Sender<Register>)>,
    receivers: Vec<(usize, crate::channel::Receiver<Register>)>,
}

impl Ends {
    /// Clones of the ends `steps` use, from `channels` (by lock index).
    pub(super) fn for_steps(
        steps: &[Step],
        channels: &[Option<(
            crate::channel::Sender<Register>,
            crate::channel::Receiver<Register>,
        )>],
    ) -> Ends {
        let mut uses = Vec::new();
        each_op(steps, &mut |op| match *op {
            Op::Send(c) => uses.push((c, true)),
            Op::Recv(c) => uses.push((c, false)),
            _ => {}
        });
        uses.sort_unstable();
        uses.dedup();
        let mut ends = Ends::default();
        for (c, send) in uses {
            let Some(Some((tx, rx))) = channels.get(c) else {
                continue;
            };
            if send {
                ends.senders.push((c, tx.clone()));
            } else {
                ends.receivers.push((c, rx.clone()));
            }
        }
        ends
    }

    pub(super) fn claim(&self) {
        self.senders.iter().for_each(|(_, tx)| tx.claim());
        self.receivers.iter().for_each(|(_, rx)| rx.claim());
    }

    pub(super) fn sender(&self, c: usize) -> Option<&crate::channel::Sender<Register>> {
        self.senders.iter().find(|(i, _)| *i == c).map(|(_, tx)| tx)
    }

    pub(super) fn receiver(&self, c: usize) -> Option<&crate::channel::Receiver<Register>> {
        self.receivers
            .iter()
            .find(|(i, _)| *i == c)
            .map(|(_, rx)| rx)
    }
}

/// The join handles of the threads some step joins, taken by that step.
pub(super) type JoinSlots = Vec<std::sync::Mutex<Option<crate::thread::JoinHandle<()>>>>;

/// Which threads some `join` step joins.
pub(super) fn joined_threads(scenario: &Scenario) -> Vec<bool> {
    let mut joined = vec![false; scenario.threads.len()];
    for thread in &scenario.threads {
        each_op(&thread.steps, &mut |op| {
            if let Op::Join(t) = *op
                && let Some(j) = joined.get_mut(t)
            {
                *j = true;
            }
        });
    }
    joined
}
