import Dispatch

/// Work spread over all cores, for the batches that have no order of their own (sealing,
/// verifying, parsing independent items).
enum Parallel {
    /// `body` applied to every element on all cores, results in order. Elements, results and
    /// the body cross threads, so all three are `Sendable`, checked by the compiler.
    static func map<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) -> R) -> [R] {
        guard items.count > 1 else { return items.map(body) }
        let results = Results<R>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { i in results.set(i, body(items[i])) }
        return results.values()
    }

    /// One slot per element, each written by exactly one iteration of `concurrentPerform`,
    /// which returns only after every iteration has finished: no two threads touch a slot.
    private final class Results<R: Sendable>: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<R?>
        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }
        deinit {
            slots.deinitialize()
            slots.deallocate()
        }
        func set(_ i: Int, _ value: R) { slots[i] = value }
        func values() -> [R] { slots.map { $0! } }
    }
}
