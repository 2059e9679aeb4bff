import Synchronization

/// What a commit changed, as background work and streams care about it.
public enum StoreTopic: Int, Hashable, Sendable, CaseIterable {
  /// The custody log grew.
  case custodyLog
  /// Handoff outbox rows were queued, closed, retried or failed.
  case outbox
  /// SLA hops were written (their at-risk and due times may have moved).
  case hops
  /// SLA alerts were raised.
  case alerts
  /// Notification messages were queued, sent, retried, failed or cancelled.
  case notifications
}

/// The commit notifier: stores publish what each commit changed; workers and streams wait on it
/// instead of polling.
///
/// A waiter first takes a ``Position``, then reads the store, then waits for a change *after*
/// that position, so a commit that lands between the read and the wait is never missed. The
/// SQLite store publishes after each commit in this process; a PostgreSQL store would feed the
/// same notifier from `LISTEN/NOTIFY`, so a commit on one replica wakes waiters on all of them.
public final class ChangeFeed: Sendable {
  /// How far the feed had got: one counter per topic.
  public struct Position: Hashable, Sendable {
    fileprivate var generations: [UInt64]
  }

  private struct Waiter {
    var topics: Set<StoreTopic>
    var position: Position
    var endsAtShutdown: Bool
    var continuation: CheckedContinuation<Void, Never>
  }

  private struct State {
    var generations = [UInt64](repeating: 0, count: StoreTopic.allCases.count)
    var waiters: [Int: Waiter] = [:]
    var nextID = 0
    var shuttingDown = false
  }

  private let state = Mutex(State())

  /// Creates an empty feed.
  public init() {}

  /// The position now.
  public func position() -> Position {
    self.state.withLock { Position(generations: $0.generations) }
  }

  /// Whether one of `topics` changed since `position` (a commit publishes before it returns).
  public func hasChanged(_ topics: Set<StoreTopic>, since position: Position) -> Bool {
    self.state.withLock { state in
      topics.contains { state.generations[$0.rawValue] != position.generations[$0.rawValue] }
    }
  }

  /// Whether the process is stopping: streams that wait on the feed end (background workers
  /// stop through graceful shutdown instead, each in its turn).
  public var isShuttingDown: Bool { self.state.withLock { $0.shuttingDown } }

  /// Records that a commit changed `topics` and wakes everyone waiting for one of them.
  public func publish(_ topics: Set<StoreTopic>) {
    guard !topics.isEmpty else { return }
    let woken = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
      for topic in topics { state.generations[topic.rawValue] &+= 1 }
      let ready = state.waiters.filter { Self.changed($0.value, state.generations) }
      for id in ready.keys { state.waiters[id] = nil }
      return ready.values.map(\.continuation)
    }
    for continuation in woken { continuation.resume() }
  }

  /// Ends every stream's wait now and every later one at once (the listeners are draining).
  public func beginShutdown() {
    let woken = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
      state.shuttingDown = true
      let ending = state.waiters.filter(\.value.endsAtShutdown)
      for id in ending.keys { state.waiters[id] = nil }
      return ending.values.map(\.continuation)
    }
    for continuation in woken { continuation.resume() }
  }

  /// Returns once one of `topics` changed after `position`, or when the task is cancelled
  /// (check `Task.isCancelled`); with `endingAtShutdown`, also at ``beginShutdown()``.
  public func wait(
    for topics: Set<StoreTopic>,
    after position: Position,
    endingAtShutdown: Bool = false
  ) async {
    let id = self.state.withLock { state -> Int in
      defer { state.nextID += 1 }
      return state.nextID
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let waiter = Waiter(
          topics: topics,
          position: position,
          endsAtShutdown: endingAtShutdown,
          continuation: continuation
        )
        let ready = self.state.withLock { state -> Bool in
          if (endingAtShutdown && state.shuttingDown) || Task.isCancelled
            || Self.changed(waiter, state.generations)
          {
            return true
          }
          state.waiters[id] = waiter
          return false
        }
        if ready { continuation.resume() }
      }
    } onCancel: {
      let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
      waiter?.continuation.resume()
    }
  }

  /// Returns once one of `topics` changed after `position`, `deadline` has passed on `clock`,
  /// or when the task is cancelled.
  /// - Parameters:
  ///   - topics: What to wait for.
  ///   - position: The position taken before the caller last read the store.
  ///   - deadline: The earliest time something is due anyway; `nil` for none.
  ///   - clock: The clock the deadline is on.
  public func wait(
    for topics: Set<StoreTopic>,
    after position: Position,
    until deadline: Timestamp?,
    clock: any WallClock
  ) async {
    guard let deadline else {
      await self.wait(for: topics, after: position)
      return
    }
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await self.wait(for: topics, after: position) }
      group.addTask { try? await clock.sleep(until: deadline) }
      await group.next()
      group.cancelAll()
    }
  }

  private static func changed(_ waiter: Waiter, _ generations: [UInt64]) -> Bool {
    waiter.topics.contains { generations[$0.rawValue] != waiter.position.generations[$0.rawValue] }
  }
}
