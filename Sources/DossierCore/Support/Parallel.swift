import Dispatch

/// Work spread over all cores, for the batches that have no order of their own (sealing,
/// verifying, parsing independent items).
enum Parallel {
    /// `body` applied to every element on all cores, results in order.
    static func map<T, R>(_ items: [T], _ body: (T) -> R) -> [R] {
        guard items.count > 1 else { return items.map(body) }
        return withoutActuallyEscaping(body) { body in
            let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
            results.initialize(repeating: nil)
            defer { results.deinitialize(); results.deallocate() }
            // Each iteration writes only its own element.
            nonisolated(unsafe) let out = results
            nonisolated(unsafe) let work = body
            items.withUnsafeBufferPointer { buffer in
                nonisolated(unsafe) let input = buffer
                DispatchQueue.concurrentPerform(iterations: input.count) { i in out[i] = work(input[i]) }
            }
            return results.map { $0! }
        }
    }
}
