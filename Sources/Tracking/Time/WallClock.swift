/// Wall time and sleeping until a wall-clock instant: the one clock everything that depends on
/// time is given.
///
/// Deadlines, retry times and checkpoint intervals are instants of wall time (``Timestamp``), so
/// background work sleeps *until* an instant rather than *for* a duration. Production uses
/// ``SystemWallClock``; tests use ``ManualClock`` and advance it, so that nothing in a test
/// waits for real time to pass.
public protocol WallClock: Sendable {
  /// The current instant.
  func now() -> Timestamp

  /// Suspends until `deadline` has been reached by this clock.
  /// - Throws: `CancellationError` when the task is cancelled first.
  func sleep(until deadline: Timestamp) async throws
}

extension WallClock {
  /// Suspends for `duration` of this clock's time.
  /// - Throws: `CancellationError` when the task is cancelled first.
  public func sleep(for duration: Duration) async throws {
    try await self.sleep(until: self.now().advanced(by: duration))
  }
}
