/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport
