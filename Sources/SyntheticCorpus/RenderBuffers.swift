/// Reusable storage for rendering clips one after another on one thread: the bus buffers (grown as needed and
/// reused, so a worker does not fault in fresh pages for every clip). Single owner; freed in `deinit`.
struct RenderBuffers: ~Copyable {
    private var storage: [UnsafeMutablePointer<Float>] = []
    private var capacity = 0

    init() {}

    deinit { for buffer in storage { buffer.deallocate() } }

    /// One buffer per ``Bus`` of at least `samples` samples (contents undefined), valid until the next call.
    mutating func buses(samples: Int) -> [UnsafeMutablePointer<Float>] {
        if samples > capacity || storage.isEmpty {
            for buffer in storage { buffer.deallocate() }
            capacity = max(samples, 1)
            storage = Bus.allCases.map { _ in
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
                return buffer
            }
        }
        return storage
    }
}
