//! The timeline's legend: a symbol and its name per item, fitted to the border.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::width;
use crate::tui::theme::{
    SYM_BLOCKED, SYM_CONDWAIT, SYM_DEADLOCKED, SYM_HOLDING, SYM_PANICKED, SYM_PARKED, SYM_RUNNING,
    SYM_WAITING, Theme,
};

/// The symbol legend for the bottom border (parked threads only in step mode,
/// waits for other threads only once there was one). Where it does not fit
/// in `cols`, the least telling items give way whole, the rest keep their order.
pub(super) fn legend(t: Theme, stepping: bool, blocking: bool, cols: usize) -> Line<'static> {
    // (rank: lower gives way later, symbol, style, label); parked and
    // join/channel are only listed when they are on screen, so they rank high.
    let mut items = vec![(4, SYM_RUNNING, t.running(), " running  ")];
    if stepping {
        items.push((2, SYM_PARKED, t.parked(), " parked  "));
    }
    items.push((3, SYM_HOLDING, t.holding(), " holding  "));
    items.push((6, SYM_CONDWAIT, t.cond_wait(), " condvar  "));
    items.push((1, SYM_WAITING, t.waiting(), " waiting  "));
    if blocking {
        items.push((2, SYM_BLOCKED, t.waiting(), " join/channel  "));
    }
    items.push((0, SYM_DEADLOCKED, t.deadlocked(), " deadlocked  "));
    items.push((7, SYM_PANICKED, t.panicked(), " panicked "));
    let size = |items: &[(u8, &str, Style, &str)]| {
        1 + items.iter().map(|i| width(i.1) + width(i.3)).sum::<usize>()
    };
    while size(&items) > cols && !items.is_empty() {
        let last = (0..items.len()).max_by_key(|&i| items[i].0).unwrap_or(0);
        items.remove(last);
    }
    let mut spans = vec![Span::raw(" ")];
    for (_, sym, style, label) in items {
        spans.push(Span::styled(sym, style));
        spans.push(Span::styled(label, t.dim()));
    }
    Line::from(spans)
}
