import Discern
import Foundation
import ServiceLifecycle

/// The settings of the decision queue, each an option of `discern serve`.
public struct QueueSettings: Sendable, Equatable {
  /// The most messages waiting at once; a request that would pass it is answered 503 at once.
  public var capacity: Int
  /// The most messages one encoder batch takes.
  public var batchMessages: Int
  /// How long the first request of a batch may wait for others to join it. Zero: a batch is whatever
  /// arrived while the previous one ran, so a lone request never waits.
  public var batchWait: Duration
  /// The most messages a request may have to be decided on its own thread when it finds nothing
  /// queued or being decided (0: every request goes through the queue's thread). Handing a lone
  /// request to the queue's thread and its answer back costs two thread wake-ups, which on an idle
  /// two-core VM added about half a millisecond to a single message's latency at 50 requests/s; a
  /// larger request would hold one of the few threads that run HTTP handlers for too long.
  public var inlineLimit: Int

  public static let defaults = QueueSettings(capacity: 2048, batchMessages: 64, batchWait: .zero)

  public init(capacity: Int, batchMessages: Int, batchWait: Duration, inlineLimit: Int = 8) {
    self.capacity = capacity
    self.batchMessages = batchMessages
    self.batchWait = batchWait
    self.inlineLimit = inlineLimit
  }
}

/// A request the queue would not take: it is full.
public struct QueueFull: Error, Sendable, Equatable {
  /// Messages waiting when it was refused.
  public let depth: Int
  /// Whole seconds after which the queue has likely drained (the `Retry-After` header).
  public let retryAfter: Int
}

/// A bounded queue in front of the engine, and the one thread that decides from it. Concurrent
/// requests are batched: the encoder reads a batch of 32 messages in far less than 32 times one
/// message's time, so under load requests join the batch that forms while the previous one runs.
/// Each request carries the engine it was admitted with; a batch never mixes engines, so a reload
/// lets requests already queued finish on the set they started with.
public final class DecisionQueue: Service, @unchecked Sendable {
  /// What a request waits for: its messages' decisions, decided by `service`.
  struct Job {
    let service: ModerationService
    let texts: [String]
    let reply: CheckedContinuation<[Decision], any Error>
    /// When it was admitted (uptime nanoseconds).
    let admitted: UInt64
  }

  public let settings: QueueSettings
  let metrics: ServerMetrics?
  /// Decides one batch; the engine's own `decide` unless a test holds it back.
  let decide: @Sendable (ModerationService, [String]) -> [Decision]

  private let condition = NSCondition()
  private var jobs: [Job] = []
  private var head = 0
  /// Messages admitted and not yet taken into a batch.
  private var depth = 0
  private var stopping = false
  /// A batch is being decided, by the thread or inline by a request.
  private var deciding = false
  /// Recent messages per second, for `Retry-After`; 0 until a batch has been timed.
  private var rate = 0.0
  private let finished = DispatchSemaphore(value: 0)

  public init(
    settings: QueueSettings = .defaults, metrics: ServerMetrics? = nil,
    decide: @escaping @Sendable (ModerationService, [String]) -> [Decision] = { $0.engine.decide($1, variant: $0.variant) }
  ) {
    self.settings = settings
    self.metrics = metrics
    self.decide = decide
    let thread = Thread { [unowned self] in self.work() }
    thread.name = "discern-decide"
    thread.start()
  }

  /// Messages waiting now.
  public var waiting: Int { condition.withLock { depth } }

  /// The decisions for `texts` by `service`, in order; throws `QueueFull` without waiting when
  /// admitting them would pass the capacity.
  public func decide(_ texts: [String], with service: ModerationService) async throws -> [Decision] {
    if texts.count <= settings.inlineLimit, claimIdle() {
      let started = DispatchTime.now().uptimeNanoseconds
      let decisions = decide(service, texts)
      finish(texts.count, since: started)
      return decisions
    }
    return try await withCheckedThrowingContinuation { reply in
      condition.lock()
      // One request larger than the capacity still goes through an empty queue: the batch limit
      // already bounds it, and refusing it forever would be no answer.
      if stopping || (depth > 0 && depth + texts.count > settings.capacity) {
        let refusal = QueueFull(depth: depth, retryAfter: retryAfter())
        condition.unlock()
        metrics?.overloads.increment()
        reply.resume(throwing: refusal)
        return
      }
      jobs.append(Job(service: service, texts: texts, reply: reply, admitted: DispatchTime.now().uptimeNanoseconds))
      depth += texts.count
      metrics?.queueDepth.record(depth)
      condition.signal()
      condition.unlock()
    }
  }

  /// Runs until graceful shutdown, then decides what was admitted before it and stops. In a service
  /// group it is listed before the HTTP server, so it stops after the server has drained.
  public func run() async throws {
    try? await gracefulShutdown()
    stop()
  }

  /// Takes no more requests, finishes those admitted, and returns when the thread has.
  public func stop() {
    condition.withLock {
      guard !stopping else { return }
      stopping = true
      condition.broadcast()
    }
    finished.wait()
    finished.signal()
  }

  /// Whether the caller may decide on its own thread now: nothing is queued or being decided, and no
  /// bounded wait is asked for (a lone request would then wait for company).
  private func claimIdle() -> Bool {
    condition.withLock {
      guard !deciding, head == jobs.count, !stopping, settings.batchWait == .zero else { return false }
      deciding = true
      return true
    }
  }

  /// Records a batch of `count` messages decided since `started` and lets the next one start.
  private func finish(_ count: Int, since started: UInt64) {
    let elapsed = DispatchTime.now().uptimeNanoseconds - started
    metrics?.decideTime.recordNanoseconds(Int64(elapsed))
    metrics?.batchSize.record(count)
    condition.withLock {
      let current = Double(count) / max(Double(elapsed) / 1e9, 1e-6)
      rate = rate == 0 ? current : 0.8 * rate + 0.2 * current
      deciding = false
      if head < jobs.count { condition.signal() }
    }
  }

  private func retryAfter() -> Int {
    rate > 0 ? max(1, Int((Double(depth) / rate).rounded(.up))) : 1
  }

  private func work() {
    while let batch = nextBatch() {
      let started = DispatchTime.now().uptimeNanoseconds
      for job in batch { metrics?.queueWait.recordNanoseconds(Int64(started - job.admitted)) }
      let texts = batch.flatMap(\.texts)
      let decisions = decide(batch[0].service, texts)
      finish(texts.count, since: started)
      var offset = 0
      for job in batch {
        job.reply.resume(returning: Array(decisions[offset..<offset + job.texts.count]))
        offset += job.texts.count
      }
    }
    finished.signal()
  }

  /// The next batch: the oldest request, then those after it on the same engine while they fit,
  /// waiting up to `batchWait` for more when the batch is not full. Nil once stopping and empty.
  private func nextBatch() -> [Job]? {
    condition.lock()
    defer { condition.unlock() }
    while head == jobs.count || deciding {
      if stopping, head == jobs.count { return nil }
      condition.wait()
    }
    if settings.batchWait > .zero, depth < settings.batchMessages, !stopping {
      let deadline = Date().addingTimeInterval(Double(settings.batchWait.components.attoseconds) / 1e18 + Double(settings.batchWait.components.seconds))
      while depth < settings.batchMessages, !stopping, condition.wait(until: deadline) {}
    }
    let engine = ObjectIdentifier(jobs[head].service.engine)
    var batch = [jobs[head]]
    var count = jobs[head].texts.count
    head += 1
    while head < jobs.count, ObjectIdentifier(jobs[head].service.engine) == engine, count + jobs[head].texts.count <= settings.batchMessages {
      count += jobs[head].texts.count
      batch.append(jobs[head])
      head += 1
    }
    depth -= count
    // Drop taken jobs now and then, so the array does not grow without end.
    if head > 1024 {
      jobs.removeFirst(head)
      head = 0
    }
    metrics?.queueDepth.record(depth)
    deciding = true
    return batch
  }
}
