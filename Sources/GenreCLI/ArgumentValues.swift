import ArgumentParser
import Pipeline
import SyntheticCorpus

// The library's option enums as command-line values: ArgumentParser parses their raw values, lists them in
// `--help` (`allValueStrings`, from `CaseIterable`) and refuses any other value as a usage error.

/// `genre synth --formats mixed|au22050|wav44100`.
extension SyntheticCorpus.FormatMix: ExpressibleByArgument {}

/// `genre evaluate --split train|valid|test`.
extension DataSplit: ExpressibleByArgument {}
