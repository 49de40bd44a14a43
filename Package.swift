// swift-tools-version:6.0
// GenreKit: a folder of music clips in, a trained and evaluated genre classifier out.
//
// Floors (each module imports only modules on lower floors):
//   7  genre (GenreCLI)                       command line: parses arguments, calls one library function per command
//   6  CrossValidation                        k-fold runs: preprocess, train, evaluate per fold; summary and report
//      Pretrained                             pre-trained networks (musicnn's MSD-VGG) imported into checkpoints
//      OnnxExport                             checkpoints as ONNX models (swift-protobuf, code generated once)
//   5  Training                               data loading, trainer, checkpoints, evaluation, reports, prediction
//   4  Pipeline                               configuration, scan, feature extraction, splits, normalisation, runner
//   3  Shards   SyntheticCorpus               the HDF5 shard schema; the built-in synthetic corpus
//   2  AudioIO  Spectral  HDF5Store  Net  XXHash  Deflate   typed Swift owners of the C libraries; the CNN library
//      TensorBundle                           TensorFlow V2 checkpoints (tensor bundles), read natively in pure Swift
//   1  CSndFile CSampleRate CSoxr CFFTW CHDF5 CBLAS CZlib CXXHash   module maps and prefixed static-inline shims only
//      ConfigurationDecoding                  TOML configuration files into Codable values (TOMLKit)
//   0  GenreCore                              pure Swift used by every floor: the seeded generator, the lock box,
//                                             progress reporting
import PackageDescription

/// Numeric loops are the product: keep them optimised and free of exclusivity checks in release builds.
let numeric: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "GenreKit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "genre", targets: ["GenreCLI"]),
        .library(name: "GenreKit", targets: ["Pipeline", "Training", "CrossValidation", "Pretrained", "OnnxExport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Floor 0: pure Swift shared by every floor.
        .target(name: "GenreCore", swiftSettings: numeric),
        .target(name: "ConfigurationDecoding", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),

        // Floor 1: C libraries from Debian.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),

        // Floor 2: Swift owners of the C handles.
        .target(name: "AudioIO", dependencies: ["GenreCore", "CSndFile", "CSampleRate", "CSoxr"], swiftSettings: numeric),
        .target(name: "Spectral", dependencies: ["GenreCore", "CFFTW"], swiftSettings: numeric),
        .target(name: "HDF5Store", dependencies: ["CHDF5"], swiftSettings: numeric),
        .target(name: "Net", dependencies: ["GenreCore", "CBLAS"], swiftSettings: numeric),
        .target(name: "XXHash", dependencies: ["CXXHash"], swiftSettings: numeric),
        .target(name: "Deflate", dependencies: ["CZlib"]),
        .target(name: "TensorBundle", dependencies: ["GenreCore"]),

        // Floor 3: the shard format; the built-in corpus.
        .target(name: "Shards", dependencies: ["HDF5Store", "XXHash"], swiftSettings: numeric),
        .target(name: "SyntheticCorpus", dependencies: ["GenreCore", "AudioIO"], swiftSettings: numeric),

        // Floor 4: the preprocessing pipeline.
        .target(
            name: "Pipeline",
            dependencies: [
                "GenreCore", "ConfigurationDecoding", "AudioIO", "Spectral", "Shards", "XXHash",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: numeric),

        // Floor 5: training and evaluation.
        .target(
            name: "Training",
            dependencies: ["GenreCore", "ConfigurationDecoding", "AudioIO", "Pipeline", "Shards", "HDF5Store", "Net", "Deflate"],
            swiftSettings: numeric),

        // Floor 5.5: pre-trained networks imported into checkpoints (reads the musicnn wheel, a zip).
        .target(
            name: "Pretrained",
            dependencies: [
                "TensorBundle", "Net", "Pipeline", "Training", "Deflate",
            ]),

        // Floor 6: cross-validation.
        .target(name: "CrossValidation", dependencies: ["GenreCore", "ConfigurationDecoding", "Pipeline", "Training"]),

        // Floor 6: ONNX export. Generated/onnx.pb.swift is committed (scripts/generate_onnx_swift.sh); the build
        // never runs protoc.
        .target(
            name: "OnnxExport",
            dependencies: ["Net", "Pipeline", "Training", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Generated/onnx.proto"]),

        // Floor 7: the command-line tool.
        .executableTarget(
            name: "GenreCLI",
            dependencies: [
                "GenreCore", "ConfigurationDecoding", "Pipeline", "Training", "CrossValidation", "Pretrained", "Net",
                "SyntheticCorpus", "OnnxExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Tests: one support target (temporary directories, float32 error bounds) that every test target uses.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "GenreCoreTests", dependencies: ["GenreCore", "TestSupport"]),
        .testTarget(name: "AudioIOTests", dependencies: ["AudioIO", "TestSupport"]),
        .testTarget(name: "SpectralTests", dependencies: ["Spectral", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "HDF5StoreTests", dependencies: ["HDF5Store", "TestSupport"]),
        .testTarget(name: "ShardsTests", dependencies: ["Shards", "HDF5Store", "TestSupport"]),
        .testTarget(name: "SyntheticCorpusTests", dependencies: ["GenreCore", "SyntheticCorpus", "AudioIO", "Spectral", "TestSupport"]),
        .testTarget(name: "TensorBundleTests", dependencies: ["TensorBundle", "TestSupport"]),
        .testTarget(
            name: "PretrainedTests", dependencies: ["Pretrained", "TensorBundle", "Training", "Pipeline", "Net", "Deflate", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "NetTests", dependencies: ["GenreCore", "Net", "TestSupport"], exclude: ["Golden"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "GenreCore", "Training", "Pipeline", "Shards", "SyntheticCorpus", "HDF5Store", "Net", "Deflate", "TestSupport",
            ]),
        .testTarget(
            name: "CrossValidationTests",
            dependencies: ["GenreCore", "CrossValidation", "Training", "Pipeline", "SyntheticCorpus", "TestSupport"]),
        .testTarget(
            name: "OnnxExportTests",
            dependencies: [
                "OnnxExport", "GenreCore", "Training", "Pipeline", "Net", "TestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "GenreCore", "ConfigurationDecoding", "Pipeline", "SyntheticCorpus", "AudioIO", "Shards", "TestSupport",
            ]),
    ]
)
