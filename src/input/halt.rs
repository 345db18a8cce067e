//! Why a stream of units stopped early: the input failed (an I/O error), or the taker of
//! the units did (a closed output), which is passed back as it is.

use std::io;

/// The two ways a stream of units stops early.
#[derive(Debug)]
pub(super) enum Halt<E> {
    /// Reading the input failed.
    Io(io::Error),
    /// The taker of the units returned an error.
    Taker(E),
}

impl<E> From<io::Error> for Halt<E> {
    fn from(e: io::Error) -> Halt<E> {
        Halt::Io(e)
    }
}
