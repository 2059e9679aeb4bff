import Synchronization

/// A wall clock that only moves when told to: tests and simulations set or advance it, and
/// every sleeper whose deadline is reached wakes at once.
///
/// Sleepers are counted, so a test can wait until a worker has gone to sleep (and therefore
/// finished what it had to do) before it advances the clock.
public final class ManualClock: WallClock {
  private struct Sleeper {
    var deadline: Timestamp
    var continuation: CheckedContinuation<Void, any Error>
  }

  private struct State {
    var now: Timestamp
    var sleepers: [Int: Sleeper] = [:]
    var nextID = 0
    var sleeperWaiters:
      [(ready: @Sendable ([Timestamp]) -> Bool, continuation: CheckedContinuation<Void, Never>)] =
        []
  }

  private let state: Mutex<State>

  /// Starts the clock at an instant.
  public init(_ start: Timestamp) {
    self.state = Mutex(State(now: start))
  }

  public func now() -> Timestamp { self.state.withLock { $0.now } }

  /// How many tasks sleep on this clock now.
  public var sleeperCount: Int { self.state.withLock { $0.sleepers.count } }

  /// The earliest deadline a sleeper waits for, if any.
  public var nextDeadline: Timestamp? {
    self.state.withLock { $0.sleepers.values.map(\.deadline).min() }
  }

  public func sleep(until deadline: Timestamp) async throws {
    let id = self.state.withLock { state -> Int in
      defer { state.nextID += 1 }
      return state.nextID
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<Void, any Error>) in
        let (resume, waiters) = self.state.withLock {
          state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
          if Task.isCancelled { return (.failure(CancellationError()), []) }
          if deadline <= state.now { return (.success(()), []) }
          state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
          return (nil, Self.takeSatisfiedWaiters(&state))
        }
        for waiter in waiters { waiter.resume() }
        if let resume { continuation.resume(with: resume) }
      }
    } onCancel: {
      let sleeper = self.state.withLock { $0.sleepers.removeValue(forKey: id) }
      sleeper?.continuation.resume(throwing: CancellationError())
    }
  }

  /// Moves the clock forward by `duration` and wakes every sleeper whose deadline is reached.
  public func advance(by duration: Duration) {
    self.set(self.now().advanced(by: duration))
  }

  /// Sets the clock (forward or back) and wakes every sleeper whose deadline is reached.
  public func set(_ instant: Timestamp) {
    let due = self.state.withLock { state -> [Sleeper] in
      state.now = instant
      let due = state.sleepers.filter { $0.value.deadline <= instant }
      for id in due.keys { state.sleepers[id] = nil }
      return due.sorted { $0.value.deadline < $1.value.deadline }.map(\.value)
    }
    for sleeper in due { sleeper.continuation.resume() }
  }

  /// Returns once at least `count` tasks sleep on this clock.
  public func waitForSleepers(_ count: Int) async {
    await self.waitForSleepers { $0.count >= count }
  }

  /// Returns once some task sleeps until exactly `deadline`: the worker that owns that deadline
  /// has done everything it had to do before it.
  public func waitForSleeper(until deadline: Timestamp) async {
    await self.waitForSleepers { $0.contains(deadline) }
  }

  private func waitForSleepers(_ ready: @escaping @Sendable ([Timestamp]) -> Bool) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let now = self.state.withLock { state -> Bool in
        if ready(state.sleepers.values.map(\.deadline)) { return true }
        state.sleeperWaiters.append((ready, continuation))
        return false
      }
      if now { continuation.resume() }
    }
  }

  private static func takeSatisfiedWaiters(
    _ state: inout State
  ) -> [CheckedContinuation<Void, Never>] {
    let deadlines = state.sleepers.values.map(\.deadline)
    var ready: [CheckedContinuation<Void, Never>] = []
    state.sleeperWaiters.removeAll { waiter in
      guard waiter.ready(deadlines) else { return false }
      ready.append(waiter.continuation)
      return true
    }
    return ready
  }
}
