/// Told how long each write transaction of a store took and whether it committed (for the
/// operator's metrics). Called on the writer's path after the transaction ends: it must be quick
/// and must not call back into the store.
public protocol CommitObserver: Sendable {
  /// A write ended (group commit may have shared its transaction with others).
  /// - Parameters:
  ///   - duration: From asking for the writer to the end of the commit that carried it (its
  ///     fsync included).
  ///   - committed: Whether it committed (a refused request or a failure rolled it back).
  func transactionEnded(duration: Duration, committed: Bool)
}
