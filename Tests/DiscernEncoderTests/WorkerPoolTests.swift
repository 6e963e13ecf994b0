import CDiscernKernels
import Foundation
import Synchronization
import Testing

@testable import DiscernEncoder

/// The threads one message's steps are split between: every part of every step runs exactly once
/// and is done when `run` returns, also when the workers have fallen asleep between steps and when
/// two callers share the pool (the second runs its step without it).
@Suite struct WorkerPoolTests {
  final class Tally: Sendable {
    let counts: Mutex<[Int]>
    init(_ size: Int) { counts = Mutex([Int](repeating: 0, count: size)) }
    func add(_ index: Int) { counts.withLock { $0[index] += 1 } }
    func value(_ index: Int) -> Int { counts.withLock { $0[index] } }
  }

  /// Waits until `condition` holds, 15 s at most. Generous: in a full `swift test` on two cores a
  /// thread can wait seconds for a turn (CI once saw a woken worker not run within a second); a
  /// passing run returns within milliseconds.
  func eventually(_ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(15)
    while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    return condition()
  }

  @Test func everyPartOfEveryStepRunsOnceBeforeTheStepReturns() {
    let pool = WorkerPool(workers: 2)
    defer { pool.stop() }
    for step in 0..<3_000 {
      let parts = 2 + step % 5
      let tally = Tally(parts)
      pool.run(parts) { tally.add($0) }
      let counts = (0..<parts).map(tally.value)
      #expect(counts == [Int](repeating: 1, count: parts), "step \(step)")
      if counts != [Int](repeating: 1, count: parts) { return }
    }
  }

  /// A lost wake-up would go unseen in the counts (the caller runs any part nobody claims), so
  /// each part here takes a millisecond and some must have run on the worker.
  @Test func aWorkerThatFellAsleepWakesForTheNextStep() async throws {
    let pool = WorkerPool(workers: 1)
    defer { pool.stop() }
    var helped = 0
    for round in 0..<6 {
      // Asleep after spinning too long, or sent to sleep at once as after a forward pass.
      if round % 2 == 0 { try await Task.sleep(nanoseconds: 3 * WorkerPool.spinTime) } else { pool.rest() }
      let tally = Tally(4), elsewhere = Tally(1)
      let caller = pthread_self()
      pool.run(4) { part in
        tally.add(part)
        if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(0) }
        usleep(1_000)
      }
      #expect((0..<4).map(tally.value) == [1, 1, 1, 1])
      helped += elsewhere.value(0) > 0 ? 1 : 0
    }
    #expect(helped > 0, "the sleeping worker never took a part")
  }

  @Test func twoCallersAtOnceEachGetTheirPartsOnce() {
    let pool = WorkerPool(workers: 1)
    defer { pool.stop() }
    let failures = Tally(1)
    DispatchQueue.concurrentPerform(iterations: 2) { _ in
      for step in 0..<2_000 {
        let parts = 2 + step % 3
        let tally = Tally(parts)
        pool.run(parts) { tally.add($0) }
        if (0..<parts).contains(where: { tally.value($0) != 1 }) { failures.add(0) }
      }
    }
    #expect(failures.value(0) == 0)
  }

  /// However passes and pauses fall, an idle pool ends asleep: a worker that kept waking for nothing
  /// would spin a core away (a service at 50 requests/s once used a whole core so).
  @Test func anIdlePoolEndsAsleep() async throws {
    let pool = WorkerPool(workers: 1)
    defer { pool.stop() }
    for pass in 0..<400 {
      let tally = Tally(2)
      for _ in 0..<3 { pool.run(2) { tally.add($0) } }
      if pass % 2 == 0 { pool.rest() }
      if pass % 3 == 0 { try await Task.sleep(nanoseconds: UInt64(pass % 7) * WorkerPool.spinTime / 4) }
    }
    try await Task.sleep(nanoseconds: 4 * WorkerPool.spinTime)
    #expect(try await eventually { pool.workersAwake == 0 })
  }

  /// `wake` (a request has arrived) gets a sleeping worker up before the pass's first step, and
  /// one that no step follows sleeps again rather than spin.
  @Test func wakeGetsASleepingWorkerUpAndItSleepsAgainWithoutAStep() async throws {
    let pool = WorkerPool(workers: 1)
    defer { pool.stop() }
    func settles(awake: Int) async throws -> Bool { try await eventually { pool.workersAwake == awake } }
    // The worker thread running first (a fresh one counts as asleep until it starts).
    let caller = pthread_self(), elsewhere = Tally(1)
    for _ in 0..<1_000 where elsewhere.value(0) == 0 {
      pool.run(2) { _ in
        if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(0) }
        usleep(500)
      }
    }
    for round in 0..<5 {
      pool.rest()
      #expect(try await settles(awake: 0), "round \(round): the worker did not fall asleep")
      let before = pool.wakeUps
      pool.wake()
      #expect(try await eventually { pool.wakeUps > before }, "round \(round): wake left the worker asleep")
      #expect(try await settles(awake: 0), "round \(round): a woken worker with no step kept spinning")
      let tally = Tally(3)
      pool.wake()
      pool.run(3) { tally.add($0) }
      #expect((0..<3).map(tally.value) == [1, 1, 1])
    }
  }

  /// The workers are kept off the CPU of the thread that hands them a step (Linux woke them on that
  /// CPU, where the two took turns while another core idled), and stay free to run anywhere else.
  @Test(.enabled(if: dk_allowed_cpus() >= 2, "needs two CPUs"))
  func workersAreSentOffTheCallersCPU() {
    let pool = WorkerPool(workers: 1)
    defer { pool.stop() }
    for _ in 0..<1_000 where pool.workerThreads.isEmpty { usleep(1_000) }
    let worker = pool.workerThreads[0]
    for _ in 0..<20 {
      pool.run(2) { _ in }
      // The caller may have moved since; the workers follow on its next step, so read the CPU the
      // step was handed from by stepping again right after reading it.
      let cpu = dk_current_cpu()
      pool.run(2) { _ in }
      guard dk_current_cpu() == cpu else { continue }
      #expect(dk_thread_may_run_on(worker, cpu) == 0, "the worker may still run on the caller's CPU \(cpu)")
      let elsewhere = (0..<Int32(256)).filter { $0 != cpu && dk_thread_may_run_on(worker, $0) == 1 }
      #expect(!elsewhere.isEmpty, "the worker may run nowhere")
      return
    }
    Issue.record("the caller changed CPU at every step; nothing was checked")
  }
}
