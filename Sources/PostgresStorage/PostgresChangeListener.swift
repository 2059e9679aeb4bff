import Logging
public import PostgresNIO
import Synchronization
public import Tracking

/// Carries commits between replicas: a write's transaction queues a `NOTIFY` naming the topics
/// it changed (``notify(_:on:logger:)``), which PostgreSQL delivers only when that transaction
/// commits, in commit order, to every session listening; each replica's listener publishes
/// them on its own ``ChangeFeed``. A pull stream or alert watch on replica B so wakes for what
/// replica A committed, without polling, and never for a write that rolled back.
///
/// The listener's session is its own connection. When it is lost the listener reconnects and
/// publishes every topic once (a notification may have been missed meanwhile; waiters re-read
/// the store and find nothing new if nothing happened).
public final class PostgresChangeListener: Sendable {
  /// The channel commits are announced on.
  static let channel = "postal_gateway_changes"

  private let pool: PostgresPool
  private let feed: ChangeFeed
  private let listening = Mutex<[CheckedContinuation<Void, Never>]?>([])

  /// A listener publishing on `feed`; it listens once ``run()`` runs.
  public init(pool: PostgresPool, feed: ChangeFeed) {
    self.pool = pool
    self.feed = feed
  }

  /// Queues the announcement of `topics` in the caller's transaction: delivered at its commit,
  /// dropped by its rollback.
  public static func notify(
    _ topics: Set<StoreTopic>,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws {
    guard !topics.isEmpty else { return }
    let payload = topics.map { "\($0.rawValue)" }.sorted().joined(separator: ",")
    try await connection.query(
      "SELECT pg_notify(\(Self.channel), \(payload))",
      logger: logger
    )
  }

  /// The topics a notification's payload names (unknown ones ignored).
  static func topics(_ payload: String) -> Set<StoreTopic> {
    Set(payload.split(separator: ",").compactMap { Int($0).flatMap(StoreTopic.init(rawValue:)) })
  }

  /// Listens until cancelled, reconnecting after a lost session (1 s, doubling to 30 s).
  public func run() async {
    var delay: Duration = .seconds(1)
    var first = true
    while !Task.isCancelled {
      do {
        let session = try await self.pool.dedicatedConnection()
        do {
          try await session.listen(on: Self.channel) { notifications in
            if !first { self.feed.publish(Set(StoreTopic.allCases)) }
            first = false
            delay = .seconds(1)
            self.markListening()
            for try await notification in notifications {
              self.feed.publish(Self.topics(notification.payload))
            }
          }
          try? await session.close()
        } catch {
          try? await session.close()
          throw error
        }
      } catch {
        if Task.isCancelled { return }
        self.pool.logger.warning(
          "commit notifications lost; reconnecting",
          metadata: ["error": "\(String(describing: error))"]
        )
      }
      try? await Task.sleep(for: delay)
      delay = min(delay * 2, .seconds(30))
    }
  }

  /// Returns once the listener's first `LISTEN` is in place (commits from then on are seen).
  public func waitUntilListening() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let ready = self.listening.withLock { waiting -> Bool in
        guard waiting != nil else { return true }
        waiting!.append(continuation)
        return false
      }
      if ready { continuation.resume() }
    }
  }

  private func markListening() {
    let waiting = self.listening.withLock { waiting in
      defer { waiting = nil }
      return waiting ?? []
    }
    for continuation in waiting { continuation.resume() }
  }
}
