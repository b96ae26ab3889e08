//! Straight-line readers: `Sink::take` keeps the first error and hands back a default, so a
//! reader of many fields needs no `?` per field (each `?` cost a drop-and-return path of
//! about 200 bytes of wasm) and reports the first error once, at `finish`. Reads happen in
//! the order errors are reported, so the error is the one a `?` chain would have returned.

use crate::error::{Error, Result};
use std::cell::Cell;

#[derive(Default)]
pub struct Sink(Cell<Option<Error>>);

impl Sink {
    /// The value, or the default after keeping the error.
    pub fn take<T: Default>(&self, r: Result<T>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.keep(e);
                T::default()
            }
        }
    }

    #[inline(never)]
    pub fn keep(&self, e: Error) {
        let first = self.0.take();
        self.0.set(Some(first.unwrap_or(e)));
    }

    /// The first error kept, else `e`: a check on a defaulted field must not hide the error
    /// that defaulted it.
    pub fn first_or(&self, e: Error) -> Error {
        self.0.take().unwrap_or(e)
    }

    /// Fails with the first error kept, if any: before reading nested parts, whose own
    /// errors come later.
    pub fn check(&self) -> Result<()> {
        self.finish(())
    }

    pub fn finish<T>(&self, v: T) -> Result<T> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(v),
        }
    }
}
