import AudioIO

/// A file for the extraction stage: its path relative to the corpus root and its header as the scan read it.
struct ExtractionInput: Sendable {
    var path: String
    var header: AudioInfo
}

extension ManifestEntry {
    /// What the extraction stage needs of this entry.
    var extractionInput: ExtractionInput { ExtractionInput(path: path, header: info) }
}

extension ScannedFile {
    /// What the extraction stage needs of this file.
    var extractionInput: ExtractionInput { ExtractionInput(path: path, header: info) }
}

/// What the extraction stage made of one file.
enum ExtractionResult: Sendable {
    /// Its features, in `cache` under `key`; `cached` when they were found there rather than computed.
    case extracted(outcome: ClipOutcome, key: String, cached: Bool)
    case skipped(SkippedFile)
    /// Not reached: the run was cancelled or stopped by an I/O error first.
    case pending

    var isPending: Bool { if case .pending = self { true } else { false } }
}

/// A clip that made it through extraction, as the second half of a run reads it: its manifest entry, what
/// extraction found (content hash, flags, duration, per-band statistics), and where its dB spectrogram waits:
/// entry `key` of `cache` (the run's own, or a part's after a merge).
struct ExtractedClip: Sendable {
    var entry: ManifestEntry
    var outcome: ClipOutcome
    var key: String
    var cache: FeatureCache
}
