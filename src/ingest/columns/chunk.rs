//! One column chunk's bytes, read with one positioned read and served to
//! the `parquet` crate's page readers (`ChunkBytes`), and the guards run
//! before the crate sees a file: chunk byte ranges, declared row counts,
//! and panics inside the crate turned into errors.

use super::*;
/// Runs `f`, turning a panic into an error message. While it runs, the
/// panic hook stays silent on this thread (any other panic is reported as
/// usual), so a damaged file gives one clean line, not a backtrace.
pub(super) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(|g| g.get()) {
                previous(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic in the Parquet decoder".to_string())
    })
}

/// The most rows one row group may declare: 2^27, over twenty times
/// Denmark's population (writers use 0.1 to 1 million).
pub(super) const MAX_GROUP_ROWS: i64 = 1 << 27;

/// Checks that every column chunk the footer describes lies inside the
/// file, so a damaged footer is an error here rather than a panic deeper
/// in the `parquet` crate (found by fuzzing: `population_file`, crash
/// d952e7a7, a negative chunk offset).
pub(super) fn check_chunks(metadata: &ParquetMetaData, path: &Path) -> Result<(), InputError> {
    let length = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    for (g, group) in metadata.row_groups().iter().enumerate() {
        if group.num_rows() < 0 {
            return Err(InputError::NotParquet {
                path: path.to_path_buf(),
                detail: format!("row group {g} declares {} rows", group.num_rows()),
            });
        }
        if group.num_rows() > MAX_GROUP_ROWS {
            // Buffers are sized by the declared count: a damaged footer
            // must not make the engine ask for terabytes (an allocation
            // failure aborts rather than panics).
            return Err(InputError::NotParquet {
                path: path.to_path_buf(),
                detail: format!(
                    "row group {g} declares {} rows; row groups of at most {MAX_GROUP_ROWS} rows are read (write the file with smaller row groups)",
                    group.num_rows()
                ),
            });
        }
        for (c, column) in group.columns().iter().enumerate() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let size = column.compressed_size();
            let inside = start >= 0
                && size >= 0
                && (start as u64)
                    .checked_add(size as u64)
                    .is_some_and(|end| end <= length);
            if !inside {
                return Err(InputError::NotParquet {
                    path: path.to_path_buf(),
                    detail: format!(
                        "row group {g}, column {c}: the footer places the column chunk at {start} ({size} bytes), outside the file of {length} bytes"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// One column chunk's bytes in memory, addressed by file offset: what the
/// parquet page reader reads from instead of the file (whose reader clones
/// and seeks the file handle for every page).
pub(super) struct ChunkBytes {
    pub(super) start: u64,
    pub(super) bytes: bytes::Bytes,
}

impl ChunkBytes {
    pub(super) fn read(path: &Path, start: u64, length: u64) -> std::io::Result<Self> {
        use std::os::unix::fs::FileExt;
        let length = usize::try_from(length)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "chunk too long"))?;
        let file = std::fs::File::open(path)?;
        let mut buffer = vec![0u8; length];
        file.read_exact_at(&mut buffer, start)?;
        Ok(ChunkBytes {
            start,
            bytes: bytes::Bytes::from(buffer),
        })
    }

    /// The bytes from file offset `start` on, `length` of them if given.
    pub(super) fn slice(
        &self,
        start: u64,
        length: Option<usize>,
    ) -> parquet::errors::Result<bytes::Bytes> {
        let outside = || {
            parquet::errors::ParquetError::EOF(format!(
                "offset {start} lies outside the column chunk at {} of {} bytes",
                self.start,
                self.bytes.len()
            ))
        };
        let from = start
            .checked_sub(self.start)
            .and_then(|o| usize::try_from(o).ok())
            .filter(|&o| o <= self.bytes.len())
            .ok_or_else(outside)?;
        let to = match length {
            None => self.bytes.len(),
            Some(n) => from
                .checked_add(n)
                .filter(|&t| t <= self.bytes.len())
                .ok_or_else(outside)?,
        };
        Ok(self.bytes.slice(from..to))
    }
}

impl parquet::file::reader::Length for ChunkBytes {
    fn len(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

impl parquet::file::reader::ChunkReader for ChunkBytes {
    type T = StrictReader;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(StrictReader(self.slice(start, None)?))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.slice(start, Some(length))
    }
}

/// A reader of a chunk's bytes that fails when asked to read past their
/// end, where a plain reader would return 0 bytes. The `parquet` crate
/// skips unknown fields of a page header by copying "n bytes" from its
/// reader without checking how many came, so a damaged header declaring a
/// list of two billion doubles would be skipped element by element past
/// the end for seconds (found by fuzzing: `population_file`, slow unit
/// 31b45b37, 9 s for a 123 KB file); with this reader the first read past
/// the end is an error.
pub(super) struct StrictReader(bytes::Bytes);

impl std::io::Read for StrictReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use bytes::Buf;
        if buf.is_empty() {
            return Ok(0);
        }
        if self.0.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a page header reads past the end of its column chunk",
            ));
        }
        let n = buf.len().min(self.0.len());
        self.0.copy_to_slice(&mut buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The crate's way of skipping `n` bytes (`io::copy` of `take(n)` into
    /// a sink) fails at the end of a chunk instead of copying nothing, while
    /// reads within the chunk, up to its last byte, work as before.
    #[test]
    fn reading_past_the_end_is_an_error() {
        let mut reader = StrictReader(bytes::Bytes::from_static(b"abcdef"));
        let mut four = [0u8; 4];
        reader.read_exact(&mut four).unwrap();
        assert_eq!(&four, b"abcd");
        let copied = std::io::copy(&mut (&mut reader).take(2), &mut std::io::sink()).unwrap();
        assert_eq!(copied, 2);
        let past = std::io::copy(&mut (&mut reader).take(8), &mut std::io::sink());
        assert_eq!(past.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
        // A plain reader copies nothing and reports success.
        let plain: &[u8] = b"";
        assert_eq!(
            std::io::copy(&mut plain.take(8), &mut std::io::sink()).unwrap(),
            0
        );
    }
}
