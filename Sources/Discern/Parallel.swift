import Foundation
import Synchronization

/// `body(0..<count)` split into contiguous parts, one per thread (each of at least `minimumPerPart`
/// items, so that small batches stay on one thread), results in order.
public func parallelMap<T>(_ count: Int, threads: Int, minimumPerPart: Int = 16, _ body: (Int) -> T) -> [T] {
  parallelParts(count, threads: threads, minimumPerPart: minimumPerPart) { $0.map(body) }
}

/// `0..<count` split into contiguous ranges, `partsPerThread` per thread, each handed whole to
/// `body` (which can set up per-part scratch such as a regex matcher once); the parts' results
/// joined in order. Parts are handed to whichever thread is free, so with several per thread one
/// that drew slow items is not left finishing alone while the others wait.
public func parallelParts<T>(
  _ count: Int, threads: Int, minimumPerPart: Int = 16, partsPerThread: Int = 1, _ body: (Range<Int>) -> [T]
) -> [T] {
  let parts = min(max(1, threads) * max(1, partsPerThread), max(1, count / max(1, minimumPerPart)))
  guard threads > 1, parts > 1 else { return body(0..<count) }
  return withoutActuallyEscaping(body) { body in
    let slots = UnsafeMutableBufferPointer<[T]>.allocate(capacity: parts)
    slots.initialize(repeating: [])
    defer { slots.deinitialize(); slots.deallocate() }
    let box = PartQueue(slots: slots, body: body)
    // At most `threads` at once, whatever the machine's cores: each takes the next part until none is left.
    DispatchQueue.concurrentPerform(iterations: min(threads, parts)) { _ in
      while case let part = box.next.wrappingAdd(1, ordering: .relaxed).oldValue, part < parts {
        box.slots[part] = box.body((count * part / parts)..<(count * (part + 1) / parts))
      }
    }
    return slots.flatMap { $0 }
  }
}

/// Hands the slots, the closure and the next part's number to `concurrentPerform`: each part writes
/// only its own slot.
private final class PartQueue<T>: @unchecked Sendable {
  let slots: UnsafeMutableBufferPointer<[T]>
  let body: (Range<Int>) -> [T]
  let next = Atomic<Int>(0)
  init(slots: UnsafeMutableBufferPointer<[T]>, body: @escaping (Range<Int>) -> [T]) {
    self.slots = slots
    self.body = body
  }
}
