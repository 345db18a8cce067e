//! How much one input may claim: buffer and line sizes, the largest document and message,
//! the decompression ratio taken for a bomb.

/// Size of the buffers a log is read in.
pub const CHUNK: usize = 256 * 1024;
/// A line longer than this is scanned in pieces (with a warning) so memory stays bounded.
pub const MAX_LINE: usize = 1 << 20;
/// Unstructured text up to this size is one document; the rest is scanned as lines.
pub const MAX_DOCUMENT: usize = 16 << 20;

/// A message larger than this is cut (with a warning) so memory stays bounded: its first
/// `MAX_MESSAGE` bytes are decoded as a message, the rest is scanned line by line.
pub const MAX_MESSAGE: usize = 32 << 20;

/// A gzip input that inflates to more than this many times its compressed size (once past
/// `GZIP_RATIO_FLOOR`) is taken for a decompression bomb: reading stops there with a
/// warning. Real logs compress 5 to 30 times; a bomb of zeros, about 1000 times.
pub const MAX_GZIP_RATIO: u64 = 250;
/// Inflated bytes always allowed before `MAX_GZIP_RATIO` applies.
pub const GZIP_RATIO_FLOOR: u64 = 64 << 20;
