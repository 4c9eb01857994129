import Dispatch
import Foundation

/// The machinery that lets a stream read, transform and write at the same time: reading runs
/// on one thread, writing on another, and the transform of a batch (sealing or opening its
/// chunks on all cores) in between, so that neither the disk nor the cipher waits for the other.
///
/// Ownership rule that makes the unchecked `Sendable` conformances below sound: every buffer
/// belongs to exactly one thread at a time, and is handed over with a semaphore (whose signal
/// and wait order the memory accesses); a source or sink is used by one thread at a time, and
/// the function that borrowed it waits for that thread before it returns.
enum StreamPipeline {
    /// Reads batches of `inputBatch` bytes from `source` ahead of time (up to two batches ahead),
    /// calls `transform` for each batch in order on the calling thread, and writes what it
    /// produced to `sink` on a writer thread. `transform` gets the batch's number, its bytes,
    /// whether it is the last batch, and a buffer of `outputBatch` bytes; it returns how many of
    /// them to write. Every batch but the last is full; the last may be empty only if it is the
    /// first. A short input (one batch) is handled on the calling thread alone.
    ///
    /// `tap`, if given, sees every output batch in order, on a thread of its own, at the same
    /// time as it is written (for hashing what is written without copying it).
    static func run<S: ByteSource, K: ByteSink>(
        from source: inout S, to sink: inout K, inputBatch: Int, outputBatch: Int,
        tap: ((UnsafeRawBufferPointer) -> Void)? = nil,
        transform: (_ batch: Int, _ input: UnsafeRawBufferPointer, _ last: Bool, _ output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int
    ) throws(CryptoError) {
        // The first read happens here: a small input then needs no thread at all.
        let first = Slot(capacity: inputBatch)
        let firstCount = try first.fill(from: &source)
        if firstCount < inputBatch {
            let out = SecretBuffer(count: outputBatch)
            let n = try transform(0, first.bytes, true, out.buffer)
            out.noteUsed(n)
            tap?(UnsafeRawBufferPointer(rebasing: out.buffer[0..<n]))
            try sink.write(UnsafeRawBufferPointer(rebasing: out.buffer[0..<n]))
            return
        }
        // The reading and writing threads reach the source and sink through pointers, valid
        // until `threaded` returns; it waits for both threads first.
        let result: Result<Void, CryptoError> = withUnsafeMutablePointer(to: &source) { sourcePointer in
            withUnsafeMutablePointer(to: &sink) { sinkPointer in
                do throws(CryptoError) {
                    try threaded(source: sourcePointer, sink: sinkPointer, first: first,
                                 inputBatch: inputBatch, outputBatch: outputBatch, tap: tap, transform: transform)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        }
        try result.get()
    }

    private static func threaded<S: ByteSource, K: ByteSink>(
        source: UnsafeMutablePointer<S>, sink: UnsafeMutablePointer<K>, first: Slot, inputBatch: Int, outputBatch: Int,
        tap: ((UnsafeRawBufferPointer) -> Void)?,
        transform: (Int, UnsafeRawBufferPointer, Bool, UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int
    ) throws(CryptoError) {
        let reader = BackgroundReader(source: source, capacity: inputBatch)
        let writer = BackgroundWriter(sink: sink, capacity: outputBatch, tap: tap)
        do throws(CryptoError) {
            var batch = 0
            var current = first
            while true {
                // A full batch is the last one only if nothing follows it.
                let next = try reader.next()
                let last = next.count == 0
                let out = try writer.nextBuffer()
                writer.submit(out, count: try transform(batch, current.bytes, last, out.buffer))
                if last { break }
                if next.count < inputBatch {
                    // A short batch is the last: nothing more to read.
                    let out = try writer.nextBuffer()
                    writer.submit(out, count: try transform(batch + 1, next.bytes, true, out.buffer))
                    break
                }
                reader.release(current)
                current = next
                batch += 1
            }
            reader.stop()
            try writer.finish()
        } catch {
            reader.stop()
            writer.cancel()
            throw error
        }
    }
}

/// A batch buffer with its fill count and the semaphore that hands it from one thread to another.
final class Slot: @unchecked Sendable {
    let storage: SecretBuffer
    var count = 0
    var error: CryptoError?
    let ready = DispatchSemaphore(value: 0)

    init(capacity: Int) { storage = SecretBuffer(count: capacity) }

    /// The filled part.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage.buffer[0..<count]) }

    /// Fills the buffer from `source`; returns the count (short only at the end of the data).
    func fill<S: ByteSource>(from source: inout S) throws(CryptoError) -> Int {
        count = 0
        count = try source.read(into: storage.buffer)
        storage.noteUsed(count)
        return count
    }
}

/// Runs `body` on `queue`. The body need not be `Sendable`: the pipeline's ownership rule (see
/// StreamPipeline) is what keeps the threads apart, which the compiler cannot see.
func runLater(on queue: DispatchQueue, _ body: @escaping () -> Void) {
    final class Job: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    let job = Job(body)
    queue.async { job.body() }
}

/// A flag one thread sets and others read.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    func stop() { lock.lock(); stopped = true; lock.unlock() }
    var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
}

/// Reads batches ahead on its own thread, into a ring of three buffers: the one being
/// transformed, the next (read, so the caller knows whether the current one is the last), and
/// the one after (being read).
final class BackgroundReader<S: ByteSource>: @unchecked Sendable {
    private let source: UnsafeMutablePointer<S>
    private let queue = DispatchQueue(label: "dossier.stream.read")
    private let stopFlag = StopFlag()
    private var free: [Slot]
    private var requested: [Slot] = []

    /// Reading goes on after the batch the caller has already read.
    init(source: UnsafeMutablePointer<S>, capacity: Int) {
        self.source = source
        free = [Slot(capacity: capacity), Slot(capacity: capacity)]
        request()
        request()
    }

    private func request() {
        guard let slot = free.popLast() else { return }
        requested.append(slot)
        runLater(on: queue) { [self] in read(into: slot) }
    }

    /// On the reading thread.
    private func read(into slot: Slot) {
        if stopFlag.isStopped {
            slot.count = 0
        } else {
            do throws(CryptoError) {
                _ = try slot.fill(from: &source.pointee)
            } catch {
                slot.error = error
                stopFlag.stop()
            }
        }
        slot.ready.signal()
    }

    /// The next batch, once read.
    func next() throws(CryptoError) -> Slot {
        let slot = requested.removeFirst()
        slot.ready.wait()
        if let error = slot.error { throw error }
        return slot
    }

    /// Gives back a batch the caller is done with, to be filled again.
    func release(_ slot: Slot) {
        free.append(slot)
        request()
    }

    /// Stops reading and waits until the reading thread no longer uses the source.
    func stop() {
        stopFlag.stop()
        queue.sync {}
        for slot in requested { slot.ready.wait() }
        requested.removeAll()
    }
}

/// Writes batches to a sink on its own thread, in order, while the caller prepares the next;
/// with a tap, also hands each batch to the tap on a second thread, and reuses a buffer only
/// once both are done with it.
final class BackgroundWriter<K: ByteSink>: @unchecked Sendable {
    private let sink: UnsafeMutablePointer<K>
    private let queue = DispatchQueue(label: "dossier.stream.write")
    private let tap: ((UnsafeRawBufferPointer) -> Void)?
    private let tapQueue = DispatchQueue(label: "dossier.stream.tap")
    /// How many signals mean a buffer is free: the write's, and the tap's if there is one.
    private var signals: Int { tap == nil ? 1 : 2 }
    private let capacity: Int
    private let stopFlag = StopFlag()
    private var free: [SecretBuffer] = []
    private var allocated = 0
    /// Buffers handed to the writing thread, oldest first, each with the semaphore it signals.
    private var inFlight: [(buffer: SecretBuffer, done: DispatchSemaphore)] = []
    /// The first write error: set by the writing thread, read by the caller (which may not
    /// have waited for that write yet), hence the lock.
    private let failureLock = NSLock()
    private var firstFailure: CryptoError?
    private var failure: CryptoError? {
        get { failureLock.lock(); defer { failureLock.unlock() }; return firstFailure }
        set { failureLock.lock(); if firstFailure == nil { firstFailure = newValue }; failureLock.unlock() }
    }

    /// Two buffers: one being written while the other is filled (three with a tap, which
    /// is the slowest stage when it hashes: it then always has the next batch waiting).
    private var depth: Int { tap == nil ? 2 : 3 }

    init(sink: UnsafeMutablePointer<K>, capacity: Int, tap: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.sink = sink
        self.capacity = capacity
        self.tap = tap
    }

    /// A buffer to fill; waits for the oldest write when all buffers are in flight, and throws
    /// the error of an earlier write.
    func nextBuffer() throws(CryptoError) -> SecretBuffer {
        if free.isEmpty && allocated < depth {
            allocated += 1
            free.append(SecretBuffer(count: capacity))
        }
        if free.isEmpty {
            let (buffer, done) = inFlight.removeFirst()
            for _ in 0..<signals { done.wait() }
            free.append(buffer)
        }
        if let failure { throw failure }
        return free.removeLast()
    }

    /// Writes the first `count` bytes of `buffer` (from `nextBuffer()`) after those submitted before.
    func submit(_ buffer: SecretBuffer, count: Int) {
        buffer.noteUsed(count)
        let done = DispatchSemaphore(value: 0)
        inFlight.append((buffer, done))
        runLater(on: queue) { [self] in write(buffer, count: count, then: done) }
        if let tap {
            runLater(on: tapQueue) {
                tap(UnsafeRawBufferPointer(rebasing: buffer.buffer[0..<count]))
                done.signal()
            }
        }
    }

    /// On the writing thread.
    private func write(_ buffer: SecretBuffer, count: Int, then done: DispatchSemaphore) {
        if !stopFlag.isStopped {
            do throws(CryptoError) {
                try sink.pointee.write(UnsafeRawBufferPointer(rebasing: buffer.buffer[0..<count]))
            } catch {
                failure = error
                stopFlag.stop()
            }
        }
        done.signal()
    }

    /// Waits for every write; throws the first error.
    func finish() throws(CryptoError) {
        drain()
        if let failure { throw failure }
    }

    /// Drops the writes not yet started and waits until the writing thread no longer uses the sink.
    func cancel() {
        stopFlag.stop()
        drain()
    }

    private func drain() {
        for (buffer, done) in inFlight {
            for _ in 0..<signals { done.wait() }
            free.append(buffer)
        }
        inFlight.removeAll()
    }
}
