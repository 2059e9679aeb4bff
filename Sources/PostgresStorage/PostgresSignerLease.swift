import Logging
import PostgresNIO
public import Tracking

/// Elects the one replica that signs checkpoints: whoever holds a session-level advisory lock
/// on a connection of its own. The lock lives exactly as long as that session: a replica that
/// exits or is killed closes its socket and the server releases the lock at once; a replica
/// that vanishes from the network is dropped by the server's TCP keepalives (set on the
/// session: about ``takeoverBound``). A replica asks ``holds()`` before each signature; the
/// store's `save` still refuses a checkpoint not above the largest stored one, so even a
/// signer that lost its lease mid-signature cannot store a smaller or a second one.
public actor PostgresSignerLease: SignerElection {
  /// The session lock that makes a replica the signer.
  static let signerLockKey: Int64 = 7_400_180_002
  /// The transaction lock `save` takes, ordering two signers' writes.
  static let checkpointLockKey: Int64 = 7_400_180_003
  /// How long a vanished holder keeps the lease at most: keepalive idle + interval × count.
  public static let takeoverBound: Duration = .seconds(5 + 2 * 3)

  private let pool: PostgresPool
  private var session: PostgresConnection?

  /// A lease on a migrated database; nothing is held until ``holds()`` is asked.
  public init(pool: PostgresPool) {
    self.pool = pool
  }

  deinit {
    // Dropped without `release()` (a gateway that failed while starting): the session still
    // closes, which frees the lease.
    if let session = self.session {
      Task { try? await session.close() }
    }
  }

  /// Whether this replica is the signer now, taking the lease if it is free.
  public func holds() async -> Bool {
    if let session = self.session {
      // A session that no longer answers has lost its lock with it.
      if !session.isClosed,
        (try? await session.query("SELECT 1", logger: self.pool.logger)) != nil
      {
        return true
      }
      self.session = nil
      try? await session.close()
    }
    do {
      let session = try await self.pool.dedicatedConnection()
      let logger = self.pool.logger
      do {
        try await session.query("SET tcp_keepalives_idle = 5", logger: logger)
        try await session.query("SET tcp_keepalives_interval = 2", logger: logger)
        try await session.query("SET tcp_keepalives_count = 3", logger: logger)
        let rows = try await session.query(
          "SELECT pg_try_advisory_lock(\(Self.signerLockKey))",
          logger: logger
        )
        var taken = false
        for try await granted in rows.decode(Bool.self) { taken = granted }
        guard taken else {
          try? await session.close()
          return false
        }
        self.session = session
        return true
      } catch {
        try? await session.close()
        return false
      }
    } catch {
      return false
    }
  }

  /// Gives the lease up (at shutdown), so another replica takes it at once.
  public func release() async {
    guard let session = self.session else { return }
    self.session = nil
    try? await session.close()
  }
}
