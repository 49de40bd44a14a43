import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on an output folder (`.genrekit.lock`, `flock`): two runs never write the same shards and
/// cache. Released by `release()`, or by the system when the process ends, however it ends.
final class OutputLock {
    private var file: FileDescriptor?

    init(directory: String) throws(PipelineError) {
        let path = directory + "/.genrekit.lock"
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(
                FilePath(path), .readWrite, options: [.create], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw PipelineError(path: path, reason: "cannot create the lock file: \(error)")
        }
        // swift-system does not wrap flock(2): the one raw call here.
        guard flock(file.rawValue, LOCK_EX | LOCK_NB) == 0 else {
            let code = Errno(rawValue: errno)
            try? file.close()
            if code == .wouldBlock {
                throw PipelineError(path: directory, reason: "another genre preprocess is writing to this folder")
            }
            throw PipelineError(path: path, reason: "cannot lock: \(code)")
        }
        self.file = file
    }

    func release() {
        try? file?.close()
        file = nil
    }

    deinit { release() }
}
