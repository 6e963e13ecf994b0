import CDiscernKernels
import Dispatch
import Foundation
import Synchronization

/// Threads that stay awake between the steps of one forward pass, so that splitting a step costs a
/// store and a few loads instead of a wake-up.
///
/// A forward pass of one message splits about fifteen steps between the threads (each linear layer
/// by columns, attention by heads). Through `DispatchQueue.concurrentPerform` each split waited for
/// an idle thread to be woken, and on this project's two-core VMs that took long enough that two
/// threads ran a 32-token message slower than one (1.79 ms against 1.11 in one `make bench-encoder`
/// run). Here the workers spin between steps, as ONNX Runtime's and OpenMP's do, and sleep when the
/// pass says it is over (`rest`) or after `spinTime` without a step: a pass pays one wake-up at
/// most, and a spinning worker does not hold a core while the request is answered (in `discern
/// serve` at 50 requests/s a worker that spun on after each pass made the answering threads wait).
///
/// One caller at a time uses the workers; a second caller that arrives meanwhile (`embed` may be
/// called from several threads) runs its step through `concurrentPerform` instead of waiting.
final class WorkerPool: @unchecked Sendable {
  /// How long an idle worker spins before it sleeps: longer than the gap between two steps of a
  /// pass (tens of microseconds), far shorter than the gap between messages in a quiet service.
  static let spinTime: UInt64 = 300_000

  /// The current step in one word: its generation (bits 32 and up), its part count (bits 16–31) and
  /// its next unclaimed part (bits 0–15). A worker claims a part with one compare-and-exchange,
  /// which fails for a step that is over.
  private let claims = Atomic<Int>(0)
  private let finished = Atomic<Int>(0)
  private let stopping = Atomic<Bool>(false)
  private let busy = Mutex<Bool>(false)
  /// Where a worker sleeps: it checks for a new step and waits under this lock, and the caller takes
  /// it to wake them after each step it publishes, so a wake-up cannot fall between a worker's check
  /// and its wait (and none is left over to wake it for nothing later, as counted wake-ups were).
  private let bed = NSCondition()
  /// Workers not asleep (for tests: an idle pool must not spin).
  private let awake = Atomic<Int>(0)
  /// Times a worker has left its sleep (for tests: `wake` must get one up).
  private let risen = Atomic<Int>(0)
  /// Written by the caller before it publishes a generation; read by a worker only after it has
  /// claimed a part of that generation, which the caller waits for before writing again.
  private var body: (@Sendable (Int) -> Void)? = nil
  /// The caller's count of steps (wrapping), the generation it publishes next.
  private var generation = 0
  /// The workers' threads, for `steer`.
  private let threads = Mutex<[pthread_t]>([])
  /// The CPU the workers were last sent away from (written only by the pool's holder).
  private var steeredFrom: Int32 = -1
  let workers: Int

  /// `workers` threads besides the caller's.
  init(workers: Int) {
    self.workers = max(0, workers)
    for _ in 0..<self.workers {
      let thread = Thread { [self] in work() }
      thread.name = "discern-encoder"
      thread.start()
    }
  }

  /// Ends the workers (each within one spin or at once when asleep).
  func stop() {
    stopping.store(true, ordering: .releasing)
    bed.withLock { bed.broadcast() }
  }

  /// Workers spinning or working now, not asleep.
  var workersAwake: Int { awake.load(ordering: .acquiring) }

  /// The workers' threads (for tests: where they may run).
  var workerThreads: [pthread_t] { threads.withLock { $0 } }

  /// How many times a worker has woken from sleep.
  var wakeUps: Int { risen.load(ordering: .acquiring) }

  /// Runs `body(0..<count)`, the parts on the caller's thread and the workers', and returns when all
  /// are done.
  func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    guard count > 1, workers > 0 else {
      for part in 0..<count { body(part) }
      return
    }
    guard count < 1 << 16, claimPool() else {
      DispatchQueue.concurrentPerform(iterations: count, execute: body)
      return
    }
    defer { releasePool() }
    steer()
    self.body = body
    generation = (generation + 1) & 0x7fff_ffff
    finished.store(0, ordering: .relaxed)
    claims.store(generation << 32 | count << 16, ordering: .releasing)
    // Uncontended, and a broadcast with nobody waiting makes no system call.
    bed.withLock { bed.broadcast() }
    while let part = claim(generation) {
      body(part)
      finished.wrappingAdd(1, ordering: .releasing)
    }
    while finished.load(ordering: .acquiring) < count { dk_cpu_relax() }
    self.body = nil
  }

  /// Keeps the workers off the caller's CPU. Linux wakes a worker on the CPU of the thread that woke
  /// it, and there the two took turns while the other core idled (`perf sched timehist`, `discern
  /// serve` at 50 requests/s), so two threads ran at one thread's speed. A system call only when
  /// the caller has moved to another CPU since the last time.
  private func steer() {
    let cpu = dk_current_cpu()
    guard cpu >= 0, cpu != steeredFrom else { return }
    let threads = self.threads.withLock { $0 }
    guard threads.count == workers else { return }
    steeredFrom = cpu
    for thread in threads { _ = dk_thread_avoid_cpu(thread, cpu) }
  }

  /// Takes the pool for one caller's step, unless another caller has it.
  private func claimPool() -> Bool {
    busy.withLock { taken in
      if taken { return false }
      taken = true
      return true
    }
  }

  private func releasePool() { busy.withLock { $0 = false } }

  /// Tells the workers that no step follows soon (a forward pass is over), so they sleep now rather
  /// than spin for `spinTime` beside the threads that answer the request. Skipped while another
  /// caller holds the pool.
  func rest() {
    guard claimPool() else { return }
    generation = (generation + 1) & 0x7fff_ffff
    // A step of no parts: a worker that sees it has nothing to claim and goes to sleep.
    claims.store(generation << 32, ordering: .releasing)
    releasePool()
  }

  /// Tells the workers that a pass is coming (a request has arrived and is being read), so a sleeping
  /// worker wakes while the caller tokenizes and is spinning by the first step. In `discern serve` at
  /// 50 requests/s every request found the worker asleep, and waking it at the first step took so
  /// long in these VMs that the caller ran three quarters of the products alone. A worker woken this
  /// way sleeps again after `spinTime` if no step comes. Skipped while another caller holds the pool.
  func wake() {
    guard workers > 0, awake.load(ordering: .relaxed) < workers, claimPool() else { return }
    steer()
    generation = (generation + 1) & 0x7fff_ffff
    // A step of no parts, marked as a wake-up so that a worker spins on rather than sleeps.
    claims.store(generation << 32 | Self.wakeMark, ordering: .releasing)
    releasePool()
    bed.withLock { bed.broadcast() }
  }

  /// The "next part" of a step of no parts that `wake` publishes; `rest` publishes 0.
  private static let wakeMark = 1

  /// The next part of step `generation`, or nil when it has none left (or is over).
  private func claim(_ generation: Int) -> Int? {
    var current = claims.load(ordering: .acquiring)
    while current >> 32 == generation, current & 0xffff < (current >> 16) & 0xffff {
      let (exchanged, original) = claims.compareExchange(
        expected: current, desired: current + 1, successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring)
      if exchanged { return current & 0xffff }
      current = original
    }
    return nil
  }

  private func work() {
    threads.withLock { $0.append(pthread_self()) }
    awake.wrappingAdd(1, ordering: .relaxed)
    var seen = 0
    while !stopping.load(ordering: .acquiring) {
      let started = DispatchTime.now().uptimeNanoseconds
      var spins = 0
      var current = claims.load(ordering: .acquiring) >> 32
      while current == seen, !stopping.load(ordering: .relaxed) {
        dk_cpu_relax()
        spins += 1
        // Past a few microseconds, let any other thread waiting for this core have it first.
        if spins > 1024 { sched_yield() }
        if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - started > Self.spinTime {
          sleep(until: seen)
          break
        }
        current = claims.load(ordering: .acquiring) >> 32
      }
      current = claims.load(ordering: .acquiring) >> 32
      if current == seen { continue }
      seen = current
      while let part = claim(current) {
        body?(part)
        finished.wrappingAdd(1, ordering: .releasing)
      }
      let published = claims.load(ordering: .acquiring)
      // A step of no parts is `rest` (sleep now) or `wake` (spin for the pass that follows).
      if published >> 32 == seen, (published >> 16) & 0xffff == 0, published & 0xffff != Self.wakeMark { sleep(until: seen) }
    }
    awake.wrappingAdd(-1, ordering: .relaxed)
  }

  /// Sleeps until a step after `generation` is published (or the pool stops).
  private func sleep(until generation: Int) {
    bed.lock()
    awake.wrappingAdd(-1, ordering: .relaxed)
    while claims.load(ordering: .acquiring) >> 32 == generation, !stopping.load(ordering: .acquiring) { bed.wait() }
    awake.wrappingAdd(1, ordering: .relaxed)
    risen.wrappingAdd(1, ordering: .releasing)
    bed.unlock()
  }

  /// `body(0..<count)` on `pool`, or without one through `concurrentPerform`; one part runs inline.
  static func run(_ count: Int, on pool: WorkerPool?, _ body: @escaping @Sendable (Int) -> Void) {
    if count == 1 {
      body(0)
    } else if let pool {
      pool.run(count, body)
    } else {
      DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
  }
}
