//! CSV text, written and read through the `csv` crate: the one CSV implementation of the run
//! library and the binaries (`predictions.csv`, `per-corpus.csv`, `comparison.csv`,
//! `robustness.csv`, `ser-predict --csv`; `history.csv` is written by `ser-trainer` the same
//! way).
//!
//! Records end in `\n`; a field is quoted only when it holds a comma, a double quote, `\r` or
//! `\n` (RFC 4180, quotes doubled), so ordinary fields are written as they are. Tables are
//! built in memory and written atomically by the caller ([`crate::write_atomic`]).

/// A CSV table being built in memory, record after record.
pub struct CsvText {
    writer: csv::Writer<Vec<u8>>,
}

impl std::fmt::Debug for CsvText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvText").finish_non_exhaustive()
    }
}

impl Default for CsvText {
    fn default() -> Self {
        CsvText::new()
    }
}

impl CsvText {
    /// An empty table.
    pub fn new() -> CsvText {
        CsvText {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new()),
        }
    }

    /// Appends one record.
    pub fn record<I, T>(&mut self, fields: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        // Writing into memory cannot fail.
        let _ = self.writer.write_record(fields);
    }

    /// The text of the table.
    pub fn into_bytes(self) -> Vec<u8> {
        // Flushing into memory cannot fail either.
        self.writer.into_inner().unwrap_or_default()
    }

    /// The text of the table as a string (every field given was UTF-8).
    pub fn into_string(self) -> String {
        String::from_utf8(self.into_bytes()).unwrap_or_default()
    }
}

/// One CSV record, `\n`-terminated (for output written line by line, as `ser-predict --csv`).
pub fn record<I, T>(fields: I) -> String
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut text = CsvText::new();
    text.record(fields);
    text.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_fields_are_written_as_they_are() {
        assert_eq!(
            record(["a/b.wav", "neutral", "0.5", ""]),
            "a/b.wav,neutral,0.5,\n"
        );
        let mut table = CsvText::new();
        table.record(["x", "y"]);
        table.record(["1", "2"]);
        assert_eq!(table.into_string(), "x,y\n1,2\n");
        assert_eq!(CsvText::new().into_string(), "");
    }

    #[test]
    fn special_fields_are_quoted_and_read_back() {
        let fields = [
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "carriage\rreturn",
            "plain",
        ];
        let text = record(fields);
        assert_eq!(
            text,
            "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",\"carriage\rreturn\",plain\n"
        );
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let back: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].iter().collect::<Vec<_>>(), fields);
    }
}
