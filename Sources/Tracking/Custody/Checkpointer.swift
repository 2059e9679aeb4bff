/// Who may sign checkpoints when several replicas share one log: one at a time.
public protocol SignerElection: Sendable {
  /// Whether this process is the signer now, taking the role if it is free.
  func holds() async -> Bool
  /// Gives the role up (at shutdown), so another process takes it at once.
  func release() async
}

/// Signs checkpoints of the custody log, at most once per interval and only when the log grew,
/// and never one inconsistent with a checkpoint it signed before (C2SP tlog-checkpoint: "a log
/// MUST not sign any checkpoint which is inconsistent with any checkpoint it previously signed").
///
/// With an election (replicas sharing one log), only the elected replica signs; it reads the
/// latest checkpoint from the store before each signature, so a replica taking over continues
/// from what the previous signer stored. The others wait for the signer's checkpoints.
public actor Checkpointer {
  private let log: CustodyLog
  private let store: any CustodyLogStore
  private let signer: NoteSigner
  private let interval: Duration
  private var latest: SignedCheckpoint?
  private var loaded = false
  /// The signature being made. The actor is reentrant at every `await`, so without this two
  /// callers (the background signer and a receipt) could sign the same size twice.
  private var inFlight: Task<SignedCheckpoint, any Error>?
  /// Who signs among replicas; `nil` when this process is the log's only writer.
  private let election: (any SignerElection)?

  /// Creates the signer.
  /// - Parameters:
  ///   - log: The log.
  ///   - store: Where checkpoints are kept.
  ///   - signer: The log's key (its name is the origin).
  ///   - interval: The shortest time between two checkpoints.
  ///   - election: Who signs among replicas sharing the log (`nil`: this process alone).
  public init(
    log: CustodyLog,
    store: any CustodyLogStore,
    signer: NoteSigner,
    interval: Duration = .seconds(1),
    election: (any SignerElection)? = nil
  ) {
    self.log = log
    self.store = store
    self.signer = signer
    self.interval = interval
    self.election = election
  }

  /// Whether this process signs now (always, without an election).
  public func isSigner() async -> Bool {
    guard let election = self.election else { return true }
    return await election.holds()
  }

  /// Gives the signer's role up, if elected (at shutdown).
  public func resign() async {
    await self.election?.release()
  }

  /// Checks every stored checkpoint against the stored tree: its signature by this key, its
  /// origin, increasing sizes, and its root recomputed from the stored nodes (which also proves
  /// each one consistent with the next). Run at start-up; the service refuses to start otherwise.
  /// - Throws: ``TrackingError`` `.storageFailure` describing the first problem.
  public func verifyHistory() async throws {
    let verifier = try NoteVerifier(self.signer.verifierKey)
    let size = try await self.log.treeSize()
    var previous: Int64 = 0
    while true {
      let page = try await self.store.checkpoints(after: previous, limit: 500)
      if page.isEmpty { break }
      for stored in page {
        let text = try? verifier.open(stored.note)
        guard let text, let parsed = try? Checkpoint(text: text), parsed == stored.checkpoint else {
          throw Self.failure(
            "checkpoint of size \(stored.checkpoint.size) is not signed by the log's key"
          )
        }
        guard parsed.origin == self.log.origin else {
          throw Self.failure("checkpoint of size \(parsed.size) has origin \(parsed.origin)")
        }
        guard parsed.size > previous, parsed.size <= size else {
          throw Self.failure(
            "checkpoint of size \(parsed.size) does not fit a log of \(size) leaves"
          )
        }
        guard try await self.log.root(size: parsed.size) == parsed.root else {
          throw Self.failure("the stored tree does not match the checkpoint of size \(parsed.size)")
        }
        previous = parsed.size
      }
    }
    self.latest = try await self.store.latestCheckpoint()
    self.loaded = true
  }

  /// Signs a checkpoint for the current size if the log grew and the interval has passed.
  /// - Parameters:
  ///   - now: The current time.
  ///   - force: Sign even within the interval (at shutdown).
  /// - Returns: The new checkpoint, or `nil` when none was due.
  @discardableResult
  public func signIfDue(now: Timestamp, force: Bool = false) async throws -> SignedCheckpoint? {
    if self.election != nil {
      guard await self.isSigner() else { return nil }
      try await self.reload()
    }
    try await self.load()
    let size = try await self.log.treeSize()
    guard size > (self.latest?.checkpoint.size ?? 0) else { return nil }
    if !force, let latest = self.latest, now < latest.signedAt.advanced(by: self.interval) {
      return nil
    }
    return try await self.sign(size: size, now: now)
  }

  /// A checkpoint that covers at least `size` leaves, signing one (after waiting out the
  /// interval on `clock`) if the latest does not.
  public func checkpoint(
    covering size: Int64,
    clock: any WallClock
  ) async throws -> SignedCheckpoint {
    try await self.load()
    var waited = 0
    while true {
      if let latest = self.latest, latest.checkpoint.size >= size { return latest }
      let current = clock.now()
      if self.election != nil {
        try await self.reload()
        if let latest = self.latest, latest.checkpoint.size >= size { return latest }
        if !(await self.isSigner()) {
          // Another replica signs: its next checkpoint covers the size within an interval
          // or two, unless no replica is the signer (then say so rather than wait forever).
          waited += 1
          guard waited <= 30 else {
            throw TrackingError(
              code: .storageFailure,
              message: "no replica is signing custody checkpoints; try again shortly"
            )
          }
          try await clock.sleep(until: current.advanced(by: self.interval))
          continue
        }
      }
      if let latest = self.latest, current < latest.signedAt.advanced(by: self.interval) {
        try await clock.sleep(until: latest.signedAt.advanced(by: self.interval))
        continue
      }
      return try await self.sign(size: try await self.log.treeSize(), now: current)
    }
  }

  /// When the next checkpoint may be signed: at once before the first one, otherwise one
  /// interval after the latest.
  public func nextSigningTime() async throws -> Timestamp? {
    try await self.load()
    return self.latest.map { $0.signedAt.advanced(by: self.interval) }
  }

  /// The checkpoint signed last.
  public func latestCheckpoint() async throws -> SignedCheckpoint? {
    // Replicas sign in turn: the store has the latest, whoever signed it.
    if self.election != nil { try await self.reload() }
    try await self.load()
    return self.latest
  }

  /// Reads the latest checkpoint from the store again (another replica may have signed).
  private func reload() async throws {
    let stored = try await self.store.latestCheckpoint()
    if let stored, stored.checkpoint.size > (self.latest?.checkpoint.size ?? 0) {
      self.latest = stored
    }
    self.loaded = true
  }

  private func load() async throws {
    guard !self.loaded else { return }
    let stored = try await self.store.latestCheckpoint()
    // Another caller may have loaded, and signed a newer checkpoint, while this one waited.
    guard !self.loaded else { return }
    self.latest = stored
    self.loaded = true
  }

  /// Signs `size` unless a checkpoint that covers it was signed meanwhile; one at a time.
  private func sign(size: Int64, now: Timestamp) async throws -> SignedCheckpoint {
    while let running = self.inFlight { _ = try? await running.value }
    if let latest = self.latest, latest.checkpoint.size >= size { return latest }
    let task = Task {
      defer { self.inFlight = nil }
      return try await self.signNow(size: size, now: now)
    }
    self.inFlight = task
    return try await task.value
  }

  private func signNow(size: Int64, now: Timestamp) async throws -> SignedCheckpoint {
    let root = try await self.log.root(size: size)
    if let latest = self.latest {
      let proof = try await self.log.consistencyProof(first: latest.checkpoint.size, second: size)
      do {
        try MerkleVerifier.verifyConsistency(
          size1: latest.checkpoint.size,
          size2: size,
          proof: proof,
          root1: latest.checkpoint.root,
          root2: root
        )
      } catch {
        throw Self.failure(
          "refusing to sign size \(size): inconsistent with the checkpoint of size \(latest.checkpoint.size)"
        )
      }
    }
    let checkpoint = Checkpoint(origin: self.log.origin, size: size, root: root)
    let signed = SignedCheckpoint(
      checkpoint: checkpoint,
      note: try self.signer.sign(checkpoint.text),
      signedAt: now
    )
    try await self.store.save(signed)
    self.latest = signed
    return signed
  }

  private static func failure(_ message: String) -> TrackingError {
    TrackingError(
      code: .storageFailure,
      message: "the custody log failed a consistency check",
      underlying: message
    )
  }
}
