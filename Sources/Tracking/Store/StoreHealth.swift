import Synchronization

/// Whether the store can write, as its last write (or probe) found: health checks answer
/// NOT_SERVING while it cannot.
///
/// Stores report every write's outcome; only a change of state notifies the observers, so a
/// healthy store costs one lock per write.
public final class StoreHealth: Sendable {
  private struct State {
    var writable = true
    var lastFailure: String?
    var observers: [Int: AsyncStream<Bool>.Continuation] = [:]
    var nextID = 0
  }

  private let state = Mutex(State())

  /// Starts out writable.
  public init() {}

  /// Whether the last write succeeded.
  public var isWritable: Bool { self.state.withLock { $0.writable } }

  /// The cause of the last failed write while the store is not writable (for logs).
  public var lastFailure: String? { self.state.withLock { $0.lastFailure } }

  /// A write failed for a reason of the store's own (not a refused request).
  public func recordFailure(_ cause: String) { self.update(writable: false, cause: cause) }

  /// A write succeeded.
  public func recordSuccess() { self.update(writable: true, cause: nil) }

  /// The current state and every change.
  public func updates() -> AsyncStream<Bool> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: Bool.self,
      bufferingPolicy: .bufferingNewest(1)
    )
    let id = self.state.withLock { state -> Int in
      continuation.yield(state.writable)
      defer { state.nextID += 1 }
      state.observers[state.nextID] = continuation
      return state.nextID
    }
    continuation.onTermination = { [weak self] _ in
      self?.state.withLock { _ = $0.observers.removeValue(forKey: id) }
    }
    return stream
  }

  private func update(writable: Bool, cause: String?) {
    let observers = self.state.withLock { state -> [AsyncStream<Bool>.Continuation] in
      guard state.writable != writable else { return [] }
      state.writable = writable
      state.lastFailure = cause
      return Array(state.observers.values)
    }
    for observer in observers { observer.yield(writable) }
  }
}
