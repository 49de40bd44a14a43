/// The GenreKit shard format, version `genrekit-shard/2`: the one place that names its files, datasets and
/// attributes.
///
/// A shard is an HDF5 file `<split>-<NNNNN>.h5` (`NNNNN` = index, 5 digits from `00000`) holding, for `clips`
/// clips of `n_mels` mel bands by `frames` STFT frames:
///
/// | dataset | type | shape | meaning |
/// | --- | --- | --- | --- |
/// | `/mel` | float32 | `[clips, n_mels, frames]` | normalised log-mel features, one clip per chunk `(1, n_mels, frames)` |
/// | `/label` | int32 | `[clips]` | class index into the `classes` attribute |
/// | `/path` | UTF-8 string | `[clips]` | source file, relative to the corpus root |
/// | `/padded` | uint8 | `[clips]` | 1 = the clip was shorter than the fixed length and zero-padded |
/// | `/seconds` | float32 | `[clips]` | original duration in seconds |
/// | `/norm/mean`, `/norm/std` | float32 | `[n_mels]` | the per-band statistics applied: `mel * std + mean` = dB |
///
/// Root attributes: `schema` (= `version`), `classes` (strings, index order), `split`, `n_mels`, `frames`,
/// `clips` (integers), `configuration` (the whole pipeline configuration as text), and every pipeline parameter
/// (`sample_rate`, `n_fft`, `hop_length`, ...). Strings are variable-length UTF-8 (h5py reads `str`).
///
/// Shards written since checksums were added also carry `checksum` (16 lower-case hex digits) and
/// `checksum_algorithm` (`"xxh64"`): XXH64, seed 0, of the clip data as written — the bytes of
/// `/mel` clip by clip, then `/label`, `/path` (each path's UTF-8 bytes and a `0x00`), `/padded` and `/seconds`,
/// little-endian as stored. `ShardChecksum` defines it exactly. Readers do not check it when opening (too slow
/// for training); `ShardReader.verifyChecksum()` and `genre verify` recompute it. Shards without it stay valid.
public enum ShardSchema {
    /// The value of the `schema` attribute written and accepted by this version of the code.
    public static let version = "genrekit-shard/2"

    /// The file name extension (without the dot).
    public static let fileExtension = "h5"
    /// Digits of the zero-padded shard index in a file name.
    public static let indexDigits = 5

    // Datasets.
    public static let melDataset = "mel"
    public static let labelDataset = "label"
    public static let pathDataset = "path"
    public static let paddedDataset = "padded"
    public static let secondsDataset = "seconds"
    public static let normGroup = "norm"
    public static let normMeanDataset = "norm/mean"
    public static let normStdDataset = "norm/std"

    // Root attributes.
    public static let schemaAttribute = "schema"
    public static let classesAttribute = "classes"
    public static let splitAttribute = "split"
    public static let nMelsAttribute = "n_mels"
    public static let framesAttribute = "frames"
    public static let clipsAttribute = "clips"
    public static let configurationAttribute = "configuration"
    /// The clip-data checksum (hex), optional: see `ShardChecksum`.
    public static let checksumAttribute = "checksum"
    /// The algorithm of `checksum` (`ShardChecksum.algorithm`), present whenever `checksum` is.
    public static let checksumAlgorithmAttribute = "checksum_algorithm"

    /// Root attributes owned by the format; every other root attribute is a pipeline parameter.
    public static let reservedAttributes: Set<String> = [
        schemaAttribute, classesAttribute, splitAttribute, nMelsAttribute, framesAttribute, clipsAttribute,
        configurationAttribute, checksumAttribute, checksumAlgorithmAttribute,
    ]

    /// `"<split>-<NNNNN>.h5"`, e.g. `fileName(split: "train", index: 3)` = `"train-00003.h5"`. Indices of 100000
    /// and more get more digits. `index` must not be negative.
    public static func fileName(split: String, index: Int) -> String {
        precondition(index >= 0, "a shard index cannot be negative (\(index))")
        let digits = String(index)
        return split + "-" + String(repeating: "0", count: max(0, indexDigits - digits.count)) + digits + "."
            + fileExtension
    }

    /// The split and index of a committed shard's file name (no directory), or nil when `name` is not one:
    /// temporary files (starting with `.`), other extensions, fewer than 5 index digits, invalid split names.
    public static func parseFileName(_ name: String) -> (split: String, index: Int)? {
        let suffix = "." + fileExtension
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        let split = String(stem[..<dash])
        let digits = stem[stem.index(after: dash)...]
        guard isValidSplitName(split), digits.count >= indexDigits, digits.count <= 18,
              digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let index = Int(digits)
        else { return nil }
        return (split, index)
    }

    /// A split name usable in a file name: not empty, no `/` or NUL, not starting with `.` (hidden/temporary).
    public static func isValidSplitName(_ split: String) -> Bool {
        !split.isEmpty && !split.hasPrefix(".") && !split.contains("/") && !split.utf8.contains(0)
    }
}

extension ShardSchema {
    /// One dataset of the format: its name, element type and expected shape (`nil` for an extent not known).
    public struct DatasetSpecification: Sendable {
        public var name: String
        public var elementType: ShardElementType
        public var shape: [Int?]
    }

    /// Every dataset of a shard of `clips` clips of `[nMels, frames]`, `/mel` first (the table above).
    public static func datasets(clips: Int?, nMels: Int?, frames: Int?) -> [DatasetSpecification] {
        [
            DatasetSpecification(name: melDataset, elementType: .float32, shape: [clips, nMels, frames]),
            DatasetSpecification(name: labelDataset, elementType: .int32, shape: [clips]),
            DatasetSpecification(name: pathDataset, elementType: .string, shape: [clips]),
            DatasetSpecification(name: paddedDataset, elementType: .uint8, shape: [clips]),
            DatasetSpecification(name: secondsDataset, elementType: .float32, shape: [clips]),
            DatasetSpecification(name: normMeanDataset, elementType: .float32, shape: [nMels]),
            DatasetSpecification(name: normStdDataset, elementType: .float32, shape: [nMels]),
        ]
    }
}
