import Synchronization

/// A version number that waiters can wait on: ``bump()`` wakes every task waiting on an older
/// version. Holders of replaceable values (the revocation list, the routing table) use it so that
/// what depends on the value reacts to a reload without polling.
public final class ChangeSignal: Sendable {
  private struct State {
    var version = 0
    var nextWaiter = 0
    var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
  }
  private let state = Mutex(State())

  /// Creates a signal at version 0.
  public init() {}

  /// The current version.
  public var version: Int { self.state.withLock { $0.version } }

  /// Moves to the next version and wakes every waiter.
  public func bump() {
    let woken = self.state.withLock { state in
      state.version += 1
      defer { state.waiters = [:] }
      return Array(state.waiters.values)
    }
    for waiter in woken { waiter.resume() }
  }

  /// Returns once the version is no longer `version`, or when the task is cancelled.
  public func wait(from version: Int) async {
    let id = self.state.withLock { state -> Int? in
      guard state.version == version else { return nil }
      state.nextWaiter += 1
      return state.nextWaiter
    }
    guard let id else { return }
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let resumeNow = self.state.withLock { state -> Bool in
          if Task.isCancelled || state.version != version { return true }
          state.waiters[id] = continuation
          return false
        }
        if resumeNow { continuation.resume() }
      }
    } onCancel: {
      self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
  }
}
