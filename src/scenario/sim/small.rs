//! A vector that keeps its first few elements inline, so that cloning a state
//! (which the explorer does for every step it tries) allocates nothing for the
//! loop counters and held locks of a typical thread.

use std::ops::{Deref, DerefMut};

#[derive(Clone, Debug)]
pub(super) struct Small<T: Copy + Default, const N: usize> {
    len: usize,
    inline: [T; N],
    /// Every element, once there are more than `N`.
    spill: Vec<T>,
}

impl<T: Copy + Default, const N: usize> Small<T, N> {
    pub fn new() -> Self {
        Small {
            len: 0,
            inline: [T::default(); N],
            spill: Vec::new(),
        }
    }

    pub fn push(&mut self, x: T) {
        if self.len < N {
            self.inline[self.len] = x;
        } else {
            if self.len == N {
                self.spill = self.inline.to_vec();
            }
            self.spill.push(x);
        }
        self.len += 1;
    }

    pub fn pop(&mut self) -> Option<T> {
        let last = *self.last()?;
        self.remove(self.len - 1);
        Some(last)
    }

    /// Removes the element at `i` (which must be in range), keeping the order.
    pub fn remove(&mut self, i: usize) {
        if self.len > N {
            self.spill.remove(i);
            if self.len - 1 == N {
                self.inline.copy_from_slice(&self.spill);
                self.spill = Vec::new();
            }
        } else {
            self.inline.copy_within(i + 1..self.len, i);
        }
        self.len -= 1;
    }
}

impl<T: Copy + Default, const N: usize> Deref for Small<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        if self.len <= N {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

impl<T: Copy + Default, const N: usize> DerefMut for Small<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        if self.len <= N {
            &mut self.inline[..self.len]
        } else {
            &mut self.spill
        }
    }
}

impl<'a, T: Copy + Default, const N: usize> IntoIterator for &'a Small<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq for Small<T, N> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Copy + Default + Eq, const N: usize> Eq for Small<T, N> {}

impl<T: Copy + Default, const N: usize> FromIterator<T> for Small<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut small = Small::new();
        for x in iter {
            small.push(x);
        }
        small
    }
}

#[cfg(test)]
mod tests {
    use super::Small;

    #[test]
    fn spills_and_comes_back_inline_in_order() {
        let mut s: Small<u32, 2> = Small::new();
        for i in 0..5 {
            s.push(i);
        }
        assert_eq!(&*s, &[0, 1, 2, 3, 4]);
        s.remove(1);
        s.remove(0);
        assert_eq!(&*s, &[2, 3, 4]);
        assert_eq!(s.pop(), Some(4));
        assert_eq!(&*s, &[2, 3]);
        assert!(s.spill.is_empty());
        s.remove(0);
        assert_eq!(s.pop(), Some(3));
        assert_eq!(s.pop(), None);
        assert_eq!(s, Small::new());
    }
}
