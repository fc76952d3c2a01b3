//! Source locations as small numbers, so that an event fits in a few machine
//! words of a thread's ring.
//!
//! Each distinct site gets an id once per process; threads keep a small cache
//! in front of the shared table so the hot path is a couple of compares.

use std::collections::HashMap;
use std::sync::OnceLock;

use parking_lot::{Mutex, RwLock, RwLockReadGuard};

use crate::event::Site;

static TABLE: RwLock<Vec<Site>> = RwLock::new(Vec::new());

fn index() -> &'static Mutex<HashMap<Site, u32>> {
    static INDEX: OnceLock<Mutex<HashMap<Site, u32>>> = OnceLock::new();
    INDEX.get_or_init(Default::default)
}

/// The id of `site`, giving it one if it has none.
fn intern(site: Site) -> u32 {
    let mut index = index().lock();
    if let Some(&id) = index.get(&site) {
        return id;
    }
    let mut table = TABLE.write();
    let id = u32::try_from(table.len()).unwrap_or(u32::MAX);
    table.push(site);
    index.insert(site, id);
    id
}

/// The sites by id, for decoding a batch with one lock taken.
pub(crate) fn table() -> RwLockReadGuard<'static, Vec<Site>> {
    TABLE.read()
}

const CACHE: usize = 64;

/// A thread's direct-mapped cache of site ids, keyed by the file's address,
/// line and column (the same `&'static str` for every event of a call site).
pub(crate) struct SiteCache {
    entries: [(usize, u32, u32, u32); CACHE],
}

impl SiteCache {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        SiteCache {
            entries: [(0, 0, 0, 0); CACHE],
        }
    }

    /// The id of `site`.
    #[inline]
    pub(crate) fn id(&mut self, site: Site) -> u32 {
        let addr = site.file.as_ptr() as usize;
        let slot = ((addr >> 3) ^ (site.line as usize * 31) ^ site.column as usize) % CACHE;
        let entry = &mut self.entries[slot];
        if entry.0 == addr && entry.1 == site.line && entry.2 == site.column {
            return entry.3;
        }
        let id = intern(site);
        *entry = (addr, site.line, site.column, id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_the_table() {
        let mut cache = SiteCache::new();
        let a = Site::intern("sites-test.rs", 10, 2);
        let b = Site::intern("sites-test.rs", 11, 2);
        let (ia, ib) = (cache.id(a), cache.id(b));
        assert_ne!(ia, ib);
        assert_eq!(cache.id(a), ia, "cached");
        assert_eq!(SiteCache::new().id(a), ia, "shared between threads");
        let table = table();
        assert_eq!(table[ia as usize], a);
        assert_eq!(table[ib as usize], b);
    }
}
